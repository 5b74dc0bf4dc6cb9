import ArgumentParser
import Foundation
import SeekEngine
import SeekFormats
import SeekTokenizers

struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure encoding speed over a folder of text files (one thread, median of repetitions).")

    @OptionGroup var options: ModelOptions

    @Option(help: "A Hugging Face tokenizer (store name, tokenizer.json or folder) instead of a model's.")
    var tokenizer: String?

    @Option(help: "Folder of UTF-8 text files to encode.")
    var corpus: String

    @Option(help: "Repetitions (the median is reported).")
    var reps: Int = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let tok = try loadTokenizerOption(tokenizer, options)
        let files = try failing {
            try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".txt") }.sorted()
        }
        let texts = files.compactMap { f in
            FileManager.default.contents(atPath: (corpus as NSString).appendingPathComponent(f)).map { String(decoding: $0, as: UTF8.self) }
        }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        guard bytes > 0 else { throw ValidationError("\(corpus) has no .txt files") }
        var rates: [Double] = []
        var tokens = 0
        for _ in 0..<max(1, reps) {
            // A fresh tokenizer each time would measure loading; the word cache is part of
            // the design, so repetitions after the first show it warm, as a server sees it.
            let start = DispatchTime.now().uptimeNanoseconds
            tokens = 0
            for t in texts { tokens += tok.encode(t, addSpecial: false, parseSpecial: true).count }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(bytes) / seconds / 1e6)
        }
        let median = rates.sorted()[rates.count / 2]
        if json {
            print("{\"tokenizer\":\(jsonString(tokenizer ?? options.model ?? Catalog.defaultModel)),\"bytes\":\(bytes),\"tokens\":\(tokens),\"mb_per_s\":\(median),\"first_mb_per_s\":\(rates[0])}")
        } else {
            print(String(format: "%d bytes, %d tokens: %.2f MB/s median (first run %.2f MB/s)", bytes, tokens, median, rates[0]))
        }
    }
}
