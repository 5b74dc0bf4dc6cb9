import ArgumentParser
import Foundation
import SeekEngine
import SeekKernels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure prefill and decode speed (load time excluded).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Prompt tokens to prefill.")
    var pp: Int = 512

    @Option(help: "Tokens to decode.")
    var tg: Int = 128

    @Option(help: "Repetitions (the median is reported).")
    var reps: Int = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Aggregate decode speed of N concurrent sequences through the batching engine (repeatable: --parallel 1 --parallel 4).")
    var parallel: [Int] = []

    @Flag(help: "With --parallel: also run each request alone and check the tokens are identical.")
    var verify = false

    func validate() throws {
        guard pp >= 1, tg >= 0, reps >= 1 else { throw ValidationError("--pp must be >= 1, --tg >= 0, --reps >= 1") }
        guard parallel.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--parallel must be between 1 and 256") }
    }

    func run() throws {
        let model = try options.load()
        if !parallel.isEmpty { return try runParallel(model) }
        let pool = options.pool
        guard pp + tg <= model.architecture.trainedContextLength else {
            throw ValidationError("--pp + --tg (\(pp + tg)) exceed the model's \(model.architecture.trainedContextLength)-token context")
        }
        let vocab = Int32(model.tokenizer.vocabularySize)
        // Deterministic pseudo-random prompt of ordinary tokens.
        var rng = SeededGenerator(seed: 42)
        let prompt = (0..<pp).map { _ in Int32(rng.next() % UInt64(vocab)) }
        var ppRates: [Double] = [], tgRates: [Double] = []
        try failing {
            for _ in 0..<reps {
                let cache = model.architecture.makeCache(capacity: pp + tg + 1)
                var t0 = DispatchTime.now().uptimeNanoseconds
                var logits = try model.architecture.forward(prompt, cache: cache, allPositions: false, pool: pool)
                ppRates.append(Double(pp) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
                t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<tg {
                    logits = try model.architecture.forward([argmax(logits)], cache: cache, allPositions: false, pool: pool)
                }
                if tg > 0 { tgRates.append(Double(tg) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)) }
            }
        }
        func median(_ x: [Double]) -> Double {
            let s = x.sorted()
            return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let name = URL(fileURLWithPath: model.path).lastPathComponent
        let type = model.gguf?.metadata["general.file_type"]?.int.map { "ftype \($0)" } ?? "safetensors"
        if json {
            print("{\"model\":\(jsonString(name)),\"type\":\(jsonString(type)),\"threads\":\(pool.threadCount),\"pp\":\(pp),\"tg\":\(tg),\"pp_tps\":\(median(ppRates)),\"tg_tps\":\(median(tgRates))}")
        } else {
            print(String(format: "%@  threads %d  pp%d %.1f tok/s (min %.1f, max %.1f)  tg%d %.1f tok/s (min %.1f, max %.1f)",
                         name, pool.threadCount, pp, median(ppRates), ppRates.min() ?? 0, ppRates.max() ?? 0,
                         tg, median(tgRates), tgRates.min() ?? 0, tgRates.max() ?? 0))
        }
    }
}
