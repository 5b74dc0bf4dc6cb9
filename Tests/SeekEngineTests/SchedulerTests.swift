import Foundation
import Testing
@testable import SeekEngine
import SeekKernels
import SeekModels
import SeekTestSupport

/// The batching engine (InferenceService → Scheduler → batched forward) on tiny models:
/// concurrent sequences give exactly what each gives alone, cancellation frees the slot,
/// the context cache hits and evicts, a full queue is refused.
@Suite struct SchedulerTests {
    static let llama: LoadedModel = try! LoadedModel(path: Fixtures.url("tiny/hf-tiny-llama").path)
    static let deepseek: LoadedModel = try! LoadedModel(path: Fixtures.url("deepseek/v3-tiny").path)
    /// V3.2: the indexer restricts attention to the top 8 keys, so longer prompts exercise it.
    static let deepseekV32: LoadedModel = try! LoadedModel(path: Fixtures.url("deepseek/v32-tiny").path)

    private static func model(_ which: String) -> LoadedModel {
        switch which {
        case "deepseek": deepseek
        case "deepseek-v3.2": deepseekV32
        default: llama
        }
    }

    private func tokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int32] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % UInt64(vocab - 2)) + 2
        }
    }

    private func greedy(_ prompt: [Int32], max: Int) -> GenerationRequest {
        var r = GenerationRequest(prompt: prompt)
        r.sampling = .greedy
        r.maxTokens = max
        r.stopAtEndOfGeneration = false
        return r
    }

    /// The generation alone, on its own cache (the reference).
    private func alone(_ model: LoadedModel, _ request: GenerationRequest) throws -> [Int32] {
        var g = try Generation(model: model, request: request, contextSize: 256, pool: ThreadPool(threads: 2))
        while try g.next() != nil {}
        return g.generated
    }

    private struct Outcome {
        var tokens: [Int32] = []
        var reason: FinishReason?
        var stats = GenerationStats()
        var logprobs: [TokenLogprobs] = []
    }

    private func collect(_ stream: AsyncThrowingStream<GenerationEvent, Error>) async throws -> Outcome {
        var o = Outcome()
        for try await e in stream {
            switch e {
            case .token(let t, _, let lp):
                o.tokens.append(t)
                if let lp { o.logprobs.append(lp) }
            case .finished(let r, _, let s):
                o.reason = r
                o.stats = s
            }
        }
        return o
    }

    /// Polls until the engine's published stats satisfy `condition` (they are updated after
    /// each step, a moment after the last event of a stream).
    private func settle(_ service: InferenceService, _ condition: (InferenceStats) -> Bool) async -> InferenceStats {
        for _ in 0..<2000 {
            let s = service.stats
            if condition(s) { return s }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return service.stats
    }

    @Test(arguments: ["llama", "deepseek", "deepseek-v3.2"])
    func concurrentGreedyRequestsEqualEachRunAlone(_ which: String) async throws {
        let model = Self.model(which)
        let vocab = model.architecture.vocabularySize
        let requests = [(5, 20), (37, 12), (18, 25), (9, 16)].enumerated().map { i, p in
            greedy(tokens(p.0, vocab: vocab, seed: UInt64(i + 1)), max: p.1)
        }
        let expected = try requests.map { try alone(model, $0) }
        // Small prefill chunks, so prompts are prefilled over several steps beside others' decode.
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 4, prefillChunk: 8)
        let streams = try requests.map { try service.generate($0) }
        let results = try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            for (i, s) in streams.enumerated() { group.addTask { (i, try await self.collect(s)) } }
            var out = [Outcome](repeating: Outcome(), count: streams.count)
            for try await (i, o) in group { out[i] = o }
            return out
        }
        for i in requests.indices {
            #expect(results[i].tokens == expected[i], "\(which) request \(i)")
            #expect(results[i].reason == .length)
            #expect(results[i].stats.promptTokens == requests[i].prompt.count)
        }
        let stats = await settle(service) { $0.completed == 4 && $0.activeSlots == 0 }
        #expect(stats.completed == 4)
        #expect(stats.activeSlots == 0)
        #expect(stats.batchedSteps > 0, "sequences never shared a forward pass")
        #expect(stats.generatedTokens == requests.reduce(0) { $0 + $1.maxTokens })
        // Every step ran at least one row per member, and batching needs fewer steps than rows.
        #expect(stats.steps < stats.batchRows)
    }

    /// Each sequence keeps its own seeded sampler and penalties under batching.
    @Test func concurrentSeededSamplingEqualsEachRunAlone() async throws {
        let model = Self.llama
        let requests = (0..<4).map { i -> GenerationRequest in
            var r = greedy(tokens(6 + 5 * i, vocab: 256, seed: UInt64(70 + i)), max: 20)
            r.sampling = SamplingParams()
            r.sampling.temperature = 1.2
            r.sampling.seed = UInt64(100 + i)
            r.sampling.frequencyPenalty = 0.5
            return r
        }
        let expected = try requests.map { try alone(model, $0) }
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 4)
        let streams = try requests.map { try service.generate($0) }
        var got: [[Int32]] = []
        for s in streams { got.append(try await collect(s).tokens) }
        #expect(got == expected)
        #expect(Set(got.map { $0 }).count == 4)
    }

    /// Holds the engine before its `at`-th round (admission + one step) until `open()`.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var rounds = 0
        private let at: Int
        private let semaphore = DispatchSemaphore(value: 0)
        init(at: Int) { self.at = at }
        func hook() {
            if lock.withLock({ rounds += 1; return rounds }) == at { semaphore.wait() }
        }
        func open() { semaphore.signal() }
    }

    /// Round 1 admits the first request and runs its prompt (its first token); the gate
    /// then holds the engine before round 2, whatever the speed of the machine.
    private func heldService(maxQueue: Int = 64) -> (InferenceService, Gate) {
        let gate = Gate(at: 2)
        let service = InferenceService(model: Self.llama, contextSize: 256, pool: ThreadPoolHandle(threads: 2), maxQueue: maxQueue,
                                       parallel: 1, beforeRound: { gate.hook() })
        return (service, gate)
    }

    @Test func cancellationFreesTheSlot() async throws {
        let (service, gate) = heldService()
        let long = try service.generate(greedy(tokens(10, vocab: 256, seed: 7), max: 240))
        let (firstToken, signal) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            var n = 0
            for try await e in long {
                if case .token = e { n += 1; signal.yield() }
            }
            return n
        }
        for await _ in firstToken { break }
        // While the long one holds the only slot, a second request waits.
        let next = try service.generate(greedy(tokens(6, vocab: 256, seed: 8), max: 5))
        consumer.cancel()
        let received = (try? await consumer.value) ?? -1
        gate.open()
        let after = try await collect(next)
        #expect(after.tokens.count == 5)
        #expect(received == 1)
        let stats = await settle(service) { $0.cancelled == 1 && $0.completed == 1 && $0.activeSlots == 0 }
        #expect(stats.cancelled == 1)
        #expect(stats.activeSlots == 0)
        // The cancelled sequence stopped at the next step: its one token and the next request's five.
        #expect(stats.generatedTokens == 6)
    }

    @Test func queuedRequestCancelledBeforeItRunsNeverRuns() async throws {
        let (service, gate) = heldService()
        let long = try service.generate(greedy(tokens(10, vocab: 256, seed: 9), max: 240))
        let (firstToken, signal) = AsyncStream<Void>.makeStream()
        let consumer = Task { for try await e in long { if case .token = e { signal.yield() } } }
        for await _ in firstToken { break }
        let queued = try service.generate(greedy(tokens(6, vocab: 256, seed: 10), max: 5))
        #expect(await settle(service) { $0.queueDepth == 1 }.queueDepth == 1)
        let waiter = Task { try await collect(queued) }
        waiter.cancel()
        _ = await waiter.result
        consumer.cancel()
        _ = await consumer.result
        gate.open()
        let stats = await settle(service) { $0.cancelled == 2 && $0.activeSlots == 0 && $0.queueDepth == 0 }
        #expect(stats.cancelled == 2)
        #expect(stats.completed == 0)
        #expect(stats.queueDepth == 0)
        #expect(stats.promptTokens == 10, "the queued prompt was never admitted")
        #expect(stats.generatedTokens == 1)
    }

    @Test func fullQueueIsBusy() async throws {
        let (service, gate) = heldService(maxQueue: 1)
        let long = try service.generate(greedy(tokens(10, vocab: 256, seed: 11), max: 240))
        var iterator = long.makeAsyncIterator()
        _ = try await iterator.next()   // the long request holds the slot
        let waiting = try service.generate(greedy(tokens(4, vocab: 256, seed: 12), max: 2))
        do {
            _ = try service.generate(greedy(tokens(4, vocab: 256, seed: 13), max: 2))
            Issue.record("a third request was accepted with one slot and a queue of one")
        } catch EngineError.busy(let limit) {
            #expect(limit == 1)
        }
        service.shutdown()
        gate.open()
        await #expect(throws: CancellationError.self) { _ = try await collect(waiting) }
        await #expect(throws: CancellationError.self) { while try await iterator.next() != nil {} }
        #expect(throws: CancellationError.self) { _ = try service.generate(greedy([5, 6], max: 1)) }
    }

    /// With no queue at all, a request is served when a slot is free and refused (busy) only
    /// when none is.
    @Test func noQueueServesFreeSlotsAndRefusesTheRest() async throws {
        let (service, gate) = heldService(maxQueue: 0)
        let long = try service.generate(greedy(tokens(10, vocab: 256, seed: 21), max: 240))
        var iterator = long.makeAsyncIterator()
        _ = try await iterator.next()   // the long request holds the only slot
        do {
            _ = try service.generate(greedy(tokens(4, vocab: 256, seed: 22), max: 2))
            Issue.record("a second request was accepted with one slot taken and no queue")
        } catch EngineError.busy(let limit) {
            #expect(limit == 0)
        }
        service.shutdown()
        gate.open()
        await #expect(throws: CancellationError.self) { while try await iterator.next() != nil {} }

        let (fresh, freshGate) = heldService(maxQueue: 0)
        freshGate.open()
        let answer = try await collect(try fresh.generate(greedy(tokens(4, vocab: 256, seed: 23), max: 3)))
        #expect(!answer.tokens.isEmpty, "a free slot serves a request even with no queue")
        fresh.shutdown()
    }

    /// A long prompt arriving while another sequence decodes is prefilled in chunks, each in
    /// the same pass as the running sequence's next token: the running stream never waits
    /// for the whole prompt.
    @Test func longPromptIsPrefilledInChunksBesideRunningDecode() async throws {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var steps: [[Int]] = []
        }
        let log = Log()
        let gate = Gate(at: 2)
        let service = InferenceService(model: Self.llama, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 2,
                                       prefillChunk: 8, beforeRound: { gate.hook() },
                                       afterStep: { rows in log.lock.withLock { log.steps.append(rows) } })
        let running = try service.generate(greedy(tokens(4, vocab: 256, seed: 61), max: 30))
        var iterator = running.makeAsyncIterator()
        _ = try await iterator.next()
        let long = try service.generate(greedy(tokens(40, vocab: 256, seed: 62), max: 3))
        gate.open()
        let l = try await collect(long)
        while try await iterator.next() != nil {}
        #expect(l.tokens.count == 3)
        let steps = log.lock.withLock { log.steps }
        // Step 1: the first prompt alone; then five steps of [decode 1, prompt chunk 8].
        #expect(steps.first == [4])
        #expect(Array(steps.dropFirst().prefix(5)) == Array(repeating: [1, 8], count: 5))
        #expect(steps.allSatisfy { $0.filter { $0 > 1 }.reduce(0, +) <= 8 })
    }

    @Test func badRequestsAreErrorsAtOnce() throws {
        let service = InferenceService(model: Self.llama, contextSize: 16, pool: ThreadPoolHandle(threads: 1))
        #expect(throws: EngineError.self) { _ = try service.generate(GenerationRequest(prompt: [])) }
        #expect(throws: EngineError.self) { _ = try service.generate(GenerationRequest(prompt: Array(repeating: 5, count: 16))) }
        #expect(throws: EngineError.self) { _ = try service.generate(GenerationRequest(prompt: [100_000])) }
        var r = GenerationRequest(prompt: [5])
        r.logprobs = 21
        #expect(throws: EngineError.self) { _ = try service.generate(r) }
    }

    /// A second turn re-sends the first turn and its reply: everything the first left in the
    /// cache is re-used, and the reply is the same as without the cache.
    @Test(arguments: ["llama", "deepseek", "deepseek-v3.2"])
    func multiTurnConversationHitsThePrefixCache(_ which: String) async throws {
        let model = Self.model(which)
        let vocab = model.architecture.vocabularySize
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 2)
        let turn1 = tokens(24, vocab: vocab, seed: 21)
        let first = try await collect(try service.generate(greedy(turn1, max: 8)))
        #expect(first.stats.cachedPromptTokens == 0)
        let turn2 = turn1 + first.tokens + tokens(7, vocab: vocab, seed: 22)
        let second = try await collect(try service.generate(greedy(turn2, max: 8)))
        // The last reply token was sampled but never run through the model.
        #expect(second.stats.cachedPromptTokens == turn1.count + first.tokens.count - 1)
        #expect(second.tokens == (try alone(model, greedy(turn2, max: 8))))
        // Same prompt again: all but its last token come from the cache.
        let again = try await collect(try service.generate(greedy(turn2, max: 8)))
        #expect(again.stats.cachedPromptTokens == turn2.count - 1)
        #expect(again.tokens == second.tokens)
        let stats = await settle(service) { $0.completed == 3 }
        #expect(stats.cachedPromptTokens == second.stats.cachedPromptTokens + again.stats.cachedPromptTokens)
    }

    /// A shared prefix held by a running sequence is copied, not taken: both continue
    /// correctly at once.
    @Test func sharedPrefixWhileItsOwnerRuns() async throws {
        let model = Self.llama
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 2)
        let system = tokens(30, vocab: 256, seed: 31)
        let a = greedy(system + tokens(5, vocab: 256, seed: 32), max: 30)
        let b = greedy(system + tokens(4, vocab: 256, seed: 33), max: 10)
        let sa = try service.generate(a)
        var ia = sa.makeAsyncIterator()
        var aTokens: [Int32] = []
        if case .token(let t, _, _) = try await ia.next() { aTokens.append(t) }
        let rb = try await collect(try service.generate(b))
        while let e = try await ia.next() { if case .token(let t, _, _) = e { aTokens.append(t) } }
        #expect(rb.stats.cachedPromptTokens == system.count)
        #expect(rb.tokens == (try alone(model, b)))
        #expect(aTokens == (try alone(model, a)))
    }

    @Test func leastRecentlyUsedSequencesAreEvicted() async throws {
        let model = Self.llama
        let perToken = model.architecture.makeCache(capacity: 1).bytesPerToken
        // Each finished sequence keeps 30 prompt + 3 run reply tokens; room for two of them.
        let entry = 33 * perToken
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2), parallel: 1,
                                       cacheBytes: 2 * entry + entry / 2)
        let prompts = (0..<3).map { tokens(30, vocab: 256, seed: UInt64(40 + $0)) }
        for p in prompts { _ = try await collect(try service.generate(greedy(p, max: 4))) }
        var stats = await settle(service) { $0.completed == 3 }
        #expect(stats.cachedSequences == 2)
        #expect(stats.cachedBytes <= stats.cacheLimitBytes)
        #expect(stats.cachedTokens == 2 * 33)
        // The first conversation was evicted; the last is still there.
        let first = try await collect(try service.generate(greedy(prompts[0] + [7, 8], max: 2)))
        #expect(first.stats.cachedPromptTokens == 0)
        let last = try await collect(try service.generate(greedy(prompts[2] + [7, 8], max: 2)))
        #expect(last.stats.cachedPromptTokens == 30)
        stats = await settle(service) { $0.completed == 5 }
        #expect(stats.cachedBytes <= stats.cacheLimitBytes)
    }

    /// Logprobs are the log-softmax of the model's logits: the chosen token's and the top
    /// alternatives, most likely first.
    @Test func logprobsAreTheLogSoftmaxOfTheLogits() async throws {
        let model = Self.llama
        let prompt = tokens(12, vocab: 256, seed: 51)
        var request = greedy(prompt, max: 3)
        request.logprobs = 5
        let service = InferenceService(model: model, contextSize: 256, pool: ThreadPoolHandle(threads: 2))
        let o = try await collect(try service.generate(request))
        #expect(o.logprobs.count == 3)
        let logits = try model.architecture.forward(prompt, cache: model.architecture.makeCache(capacity: 32), allPositions: false,
                                                    pool: ThreadPool(threads: 1))
        let m = logits.max()!
        let lse = m + Float(log(logits.reduce(0.0) { $0 + Double(expf($1 - m)) }))
        let first = o.logprobs[0]
        #expect(first.chosen.token == o.tokens[0])
        #expect(abs(first.chosen.logprob - (logits[Int(o.tokens[0])] - lse)) < 1e-4)
        #expect(first.top.count == 5)
        #expect(first.top[0] == first.chosen, "greedy picks the most likely token")
        #expect(zip(first.top, first.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
        let order = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5).map { Int32($0) }
        #expect(first.top.map(\.token) == order)
        var plain = request
        plain.logprobs = nil
        #expect(try await collect(try service.generate(plain)).logprobs.isEmpty)
    }
}
