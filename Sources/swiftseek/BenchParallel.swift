import ArgumentParser
import Foundation
import SeekEngine

/// `swiftseek bench --parallel N ...`: aggregate decode speed of N concurrent sequences
/// through the batching engine (the server's path, without HTTP).
extension Bench {
    /// Per N: N requests with distinct pseudo-random prompts of `pp` tokens and `tg` tokens
    /// each (end-of-generation ignored), submitted together. The decode rate counts the
    /// tokens produced while all N were decoding at once (from the last first token to the
    /// first last token), so prefill and the stragglers' tail do not dilute it.
    func runParallel(_ model: LoadedModel) throws {
        let ctx = try options.contextSize(for: model)
        guard pp + tg < ctx else { throw ValidationError("--pp + --tg (\(pp + tg)) must be below the context (\(ctx)); raise --ctx") }
        guard tg >= 2 else { throw ValidationError("--parallel needs --tg >= 2") }
        let vocab = UInt64(model.tokenizer.vocabularySize)
        let threads = options.threads ?? ThreadPoolHandle.defaultThreads
        let name = URL(fileURLWithPath: model.path).lastPathComponent
        for n in parallel {
            var rates: [Double] = [], ttfts: [Double] = []
            for rep in 0..<reps {
                let service = InferenceService(model: model, contextSize: ctx, pool: ThreadPoolHandle(threads: threads),
                                               maxQueue: n, parallel: n, cacheBytes: 0)
                let requests = (0..<n).map { i -> GenerationRequest in
                    var rng = SeededGenerator(seed: UInt64(1000 * rep + i + 1))
                    var r = GenerationRequest(prompt: (0..<pp).map { _ in Int32(rng.next() % vocab) })
                    r.maxTokens = tg
                    r.sampling = .greedy
                    r.stopAtEndOfGeneration = false
                    return r
                }
                let (rate, ttft, outputs) = try measure(service, requests)
                rates.append(rate)
                ttfts.append(ttft)
                service.shutdown()
                if verify {
                    let pool = options.pool
                    for (i, r) in requests.enumerated() {
                        var g = try Generation(model: model, request: r, contextSize: ctx, pool: pool)
                        while try g.next() != nil {}
                        if g.generated != outputs[i] {
                            throw ValidationError("parallel \(n): sequence \(i) differs from the same request run alone")
                        }
                    }
                    note("parallel \(n): all \(n) sequences token-identical to each run alone")
                }
            }
            let rate = rates.sorted()[rates.count / 2], ttft = ttfts.sorted()[ttfts.count / 2]
            if json {
                print("{\"model\":\(jsonString(name)),\"threads\":\(threads),\"parallel\":\(n),\"pp\":\(pp),\"tg\":\(tg),\"aggregate_tg_tps\":\(rate),\"per_stream_tg_tps\":\(rate / Double(n)),\"median_ttft_s\":\(ttft)}")
            } else {
                print(String(format: "%@  threads %d  parallel %d  pp%d tg%d  aggregate decode %.1f tok/s (%.1f per stream; min %.1f, max %.1f)  median TTFT %.3f s",
                             name, threads, n, pp, tg, rate, rate / Double(n), rates.min() ?? 0, rates.max() ?? 0, ttft))
            }
        }
    }

    /// Runs the requests together; returns the all-decoding aggregate rate and the median time to first token.
    private func measure(_ service: InferenceService, _ requests: [GenerationRequest]) throws -> (Double, Double, [[Int32]]) {
        let result = Box<Result<(Double, Double, [[Int32]]), Error>>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let streams = try requests.map { try service.generate($0) }
                let runs = try await withThrowingTaskGroup(of: (Int, [UInt64], [Int32]).self) { group in
                    for (i, s) in streams.enumerated() {
                        group.addTask {
                            var times: [UInt64] = [], tokens: [Int32] = []
                            for try await e in s {
                                if case .token(let t, _, _) = e {
                                    times.append(DispatchTime.now().uptimeNanoseconds)
                                    tokens.append(t)
                                }
                            }
                            return (i, times, tokens)
                        }
                    }
                    var all = [(Int, [UInt64], [Int32])]()
                    for try await r in group { all.append(r) }
                    return all.sorted { $0.0 < $1.0 }
                }
                let stamps = runs.map(\.1)
                let start = stamps.map { $0.first ?? t0 }.max() ?? t0
                let end = stamps.map { $0.last ?? t0 }.min() ?? t0
                let tokens = stamps.reduce(0) { $0 + $1.filter { $0 > start && $0 <= end }.count }
                let rate = end > start ? Double(tokens) / (Double(end - start) / 1e9) : 0
                let ttfts = stamps.map { Double(($0.first ?? t0) - t0) / 1e9 }.sorted()
                result.value = .success((rate, ttfts[ttfts.count / 2], runs.map(\.2)))
            } catch {
                result.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try result.value!.get()
    }
}

private final class Box<T>: @unchecked Sendable {
    var value: T?
}
