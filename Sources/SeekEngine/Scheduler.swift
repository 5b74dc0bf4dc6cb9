import Foundation
import SeekKernels
import SeekModels

/// Continuous batching: one thread owns the model's sequences and runs them in steps. Each
/// step is one forward pass over every running sequence — the next token of each decoding
/// sequence plus a chunk of each prompt being prefilled (up to `prefillChunk` prompt tokens
/// per step in all) — so the weights are read once per step for all of them, and a long
/// prompt does not freeze the streams already running. Requests wait in a bounded queue and
/// join between steps when a slot is free; cancelled ones leave at the next step.
///
/// Like llama.cpp's `update_slots`, but the KV caches come from the `ContextCache`, so a
/// request re-uses any cached sequence's prefix, not only its own slot's.
final class Scheduler: @unchecked Sendable {
    let model: LoadedModel
    let contextSize: Int
    let slots: Int
    let maxQueue: Int
    let prefillChunk: Int
    private let pool: ThreadPool

    // Shared with callers, under `condition`.
    private let condition = NSCondition()
    private var inbox: [Job] = []
    private var stopping = false
    private var published = InferenceStats()

    // Owned by the scheduler thread.
    private var running: [Running] = []
    private var cache: ContextCache
    private let scratch = ForwardScratch()
    private var totals = InferenceStats()

    init(model: LoadedModel, contextSize: Int, pool: ThreadPool, slots: Int, maxQueue: Int, cacheBytes: Int, prefillChunk: Int) {
        self.model = model
        self.contextSize = contextSize
        self.pool = pool
        self.slots = slots
        self.maxQueue = maxQueue
        self.prefillChunk = prefillChunk
        cache = ContextCache(model: model, contextSize: contextSize, limitBytes: cacheBytes)
        published.slots = slots
        published.cacheLimitBytes = cacheBytes
        totals = published
    }

    /// Starts the scheduler's thread (it keeps the scheduler alive until `stop`).
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "swiftseek.scheduler"
        thread.qualityOfService = .userInitiated
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Ends the thread; running and queued requests end with a CancellationError.
    func stop() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    var stats: InferenceStats { condition.withLock { published } }

    /// Queues a request; throws `busy` when every slot is taken and `maxQueue` requests are
    /// already waiting (so `maxQueue` 0 still serves one request per free slot).
    func submit(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, Error> {
        try SequenceState.validate(request, model: model, contextSize: contextSize)
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let job = Job(request: request, continuation: continuation)
        try condition.withLock {
            guard !stopping else { throw CancellationError() }
            let free = max(0, slots - published.activeSlots)
            guard inbox.count < maxQueue + free else { throw EngineError.busy(limit: maxQueue) }
            inbox.append(job)
            published.queueDepth = inbox.count
            condition.signal()
        }
        // Registered after queueing so a consumer that is already gone still finds the job.
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination {
                job.cancelled.set(1)
                self?.condition.withLock { self?.condition.signal() }
            }
        }
        return stream
    }

    // MARK: - The scheduler thread

    /// Tests: runs on the scheduler's thread at the start of every round (may block it).
    var beforeRound: (@Sendable () -> Void)?
    /// Tests: the rows of each segment of every forward pass, in batch order.
    var afterStep: (@Sendable ([Int]) -> Void)?

    private func run() {
        while true {
            beforeRound?()
            // Consumers that went away free their slots before new requests are admitted.
            dropCancelled()
            var admitted: [Job] = []
            condition.lock()
            while !stopping && inbox.isEmpty && running.isEmpty { condition.wait() }
            if stopping {
                let queued = inbox
                inbox = []
                condition.unlock()
                for job in queued { job.continuation.finish(throwing: CancellationError()) }
                for r in running { r.job.continuation.finish(throwing: CancellationError()) }
                running = []
                return
            }
            // Cancelled jobs leave the queue; the rest join while slots are free.
            var kept: [Job] = []
            for job in inbox {
                if job.cancelled.value != 0 {
                    job.continuation.finish()
                    totals.cancelled += 1
                } else if running.count + admitted.count < slots {
                    admitted.append(job)
                } else {
                    kept.append(job)
                }
            }
            inbox = kept
            // Seen by `submit` at once: a slot taken here is not free for the next request.
            published.activeSlots = running.count + admitted.count
            published.queueDepth = inbox.count
            condition.unlock()

            for job in admitted { admit(job) }
            if !running.isEmpty { step() }
            publish()
        }
    }

    /// Sequences whose consumer went away stop here, within one step, freeing their slot.
    private func dropCancelled() {
        let before = running.count
        running.removeAll { r in
            guard r.job.cancelled.value != 0 else { return false }
            r.job.continuation.finish()
            cache.release(r.entry)
            totals.cancelled += 1
            return true
        }
        // The stats say so at once, not at the next request (the loop may now wait).
        if running.count != before { publish() }
    }

    private func admit(_ job: Job) {
        do {
            let (entry, reused) = try cache.acquire(for: job.request.prompt)
            let state: SequenceState
            do {
                state = try SequenceState(request: job.request, model: model, contextSize: contextSize, reused: reused)
            } catch {
                cache.release(entry)
                throw error
            }
            totals.promptTokens += job.request.prompt.count
            totals.cachedPromptTokens += reused
            let r = Running(job: job, entry: entry, state: state, pending: Array(job.request.prompt[reused...]))
            if let reason = r.state.finishReason {   // max tokens 0
                finish(r, reason)
            } else {
                running.append(r)
            }
        } catch {
            job.continuation.finish(throwing: error)
        }
    }

    /// One forward pass over all running sequences, then one token for each that has
    /// finished its prompt.
    private func step() {
        // Sequences that cannot take another token end before the pass.
        running.removeAll { r in
            guard r.entry.cache.count + min(r.pending.count, 1) > r.entry.cache.capacity else { return false }
            finish(r, .contextFull)
            return true
        }
        guard !running.isEmpty else { return }

        // The batch: every decoding sequence's token, then prompt chunks in arrival order
        // within the prefill budget (the oldest prompt always gets some).
        var members: [(Running, Int)] = []
        var budget = prefillChunk
        for r in running where r.decoding { members.append((r, 1)) }
        for r in running where !r.decoding {
            let n = min(r.pending.count, budget)
            guard n > 0 else { break }
            members.append((r, n))
            budget -= n
        }
        let batch = members.map { r, n in
            BatchSegment(cache: r.entry.cache, tokens: Array(r.pending[..<n]), logits: n == r.pending.count ? .last : .none)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let logits: [[Float]]
        do {
            logits = try model.architecture.forward(batch, scratch: scratch, pool: pool)
        } catch {
            // Caches are checked before anything is written, but drop them to be safe.
            for (r, _) in members {
                r.job.continuation.finish(throwing: error)
                cache.discard(r.entry)
            }
            running.removeAll { r in members.contains { $0.0 === r } }
            return
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        totals.steps += 1
        if members.count > 1 { totals.batchedSteps += 1 }
        totals.batchRows += batch.reduce(0) { $0 + $1.tokens.count }
        afterStep?(batch.map(\.tokens.count))

        var done: [Running] = []
        for ((r, n), out) in zip(members, logits) {
            r.entry.tokens += r.pending[..<n]
            if r.decoding { r.state.stats.decodeSeconds += seconds } else { r.state.stats.prefillSeconds += seconds }
            r.pending.removeFirst(n)
            guard !out.isEmpty else { continue }
            let event = r.state.consume(out)
            totals.generatedTokens += 1
            if case .token(let token, _, _) = event { r.pending = [token] }
            r.decoding = true
            r.job.continuation.yield(event)
            if let reason = r.state.finishReason {
                finish(r, reason)
                done.append(r)
            }
        }
        if !done.isEmpty { running.removeAll { r in done.contains { $0 === r } } }
    }

    /// Sends the last event and returns the cache to the context cache.
    private func finish(_ r: Running, _ reason: FinishReason) {
        r.job.continuation.yield(r.state.finish(reason))
        r.job.continuation.finish()
        cache.release(r.entry)
        totals.completed += 1
    }

    private func publish() {
        var s = totals
        s.activeSlots = running.count
        s.cachedSequences = cache.entries.count
        s.cachedTokens = cache.cachedTokens
        s.cachedBytes = cache.residentBytes
        condition.withLock {
            s.queueDepth = inbox.count
            published = s
        }
    }
}

/// A request and the stream it answers on.
final class Job: Sendable {
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation
    let cancelled = Counter()

    init(request: GenerationRequest, continuation: AsyncThrowingStream<GenerationEvent, Error>.Continuation) {
        self.request = request
        self.continuation = continuation
    }
}

/// A sequence holding a slot.
final class Running {
    let job: Job
    let entry: CachedSequence
    var state: SequenceState
    /// Tokens to run next: the rest of the prompt, then the last sampled token.
    var pending: [Int32]
    /// The prompt is done; each step adds one token.
    var decoding = false

    init(job: Job, entry: CachedSequence, state: SequenceState, pending: [Int32]) {
        self.job = job
        self.entry = entry
        self.state = state
        self.pending = pending
    }
}

/// What the engine has done and is doing, for /metrics.
public struct InferenceStats: Sendable, Equatable {
    public init() {}
    /// `--parallel`: sequences that can run at once.
    public var slots = 0
    /// Sequences running now.
    public var activeSlots = 0
    /// Requests waiting for a slot.
    public var queueDepth = 0
    /// Sequences in the context cache (running and finished) and their tokens.
    public var cachedSequences = 0
    public var cachedTokens = 0
    /// Resident KV memory of the context cache, and its limit (`--cache-mem`).
    public var cachedBytes = 0
    public var cacheLimitBytes = 0
    /// Totals since start.
    public var promptTokens = 0
    /// Prompt tokens served from the context cache.
    public var cachedPromptTokens = 0
    public var generatedTokens = 0
    public var completed = 0
    public var cancelled = 0
    /// Forward passes, those with more than one sequence, and rows (tokens) run.
    public var steps = 0
    public var batchedSteps = 0
    public var batchRows = 0
}
