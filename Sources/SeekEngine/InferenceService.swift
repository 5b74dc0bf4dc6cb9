import Foundation
import SeekKernels

/// Runs generations for concurrent callers (the server, the web chat) with continuous
/// batching: up to `parallel` sequences run together, one forward pass per step over all of
/// them (see `Scheduler`); up to `maxQueue` more wait for a slot, beyond that `generate`
/// throws `EngineError.busy`. A request re-uses the keys and values of the longest prefix it
/// shares with any cached sequence (a multi-turn chat re-sends its history); finished
/// sequences stay cached within `cacheBytes`, least recently used evicted first.
///
/// Events stream back through an AsyncThrowingStream; when the consumer goes away the
/// sequence stops within one step and its slot is freed.
public final class InferenceService: Sendable {
    public let model: LoadedModel
    public let contextSize: Int
    public let maxQueue: Int
    public let parallel: Int
    private let scheduler: Scheduler

    public static let defaultParallel = 4
    public static let defaultCacheMiB = 1024
    /// Small enough that a long prompt stalls running streams by one modest step at a time;
    /// large enough that the weights are read once for many rows (prefill is compute-bound
    /// well below this).
    public static let defaultPrefillChunk = 128

    /// - Parameters:
    ///   - parallel: sequences run together (slots).
    ///   - maxQueue: requests that may wait for a slot.
    ///   - cacheBytes: memory for the KV of cached sequences (running ones always keep theirs).
    ///   - prefillChunk: prompt tokens prefilled per step, shared by the prompts in progress.
    public init(model: LoadedModel, contextSize: Int, pool: ThreadPoolHandle, maxQueue: Int = 64,
                parallel: Int = InferenceService.defaultParallel, cacheBytes: Int = InferenceService.defaultCacheMiB << 20,
                prefillChunk: Int = InferenceService.defaultPrefillChunk) {
        self.model = model
        self.contextSize = contextSize
        self.maxQueue = max(0, maxQueue)
        self.parallel = max(1, parallel)
        scheduler = Scheduler(model: model, contextSize: contextSize, pool: pool.pool, slots: self.parallel, maxQueue: self.maxQueue,
                              cacheBytes: max(0, cacheBytes), prefillChunk: max(1, prefillChunk))
        scheduler.start()
    }

    /// Tests: `beforeRound` runs on the scheduler's thread before each round of admission
    /// and one step, so a test can hold the engine at a known point.
    /// `afterStep` gets the rows of each sequence in every forward pass.
    init(model: LoadedModel, contextSize: Int, pool: ThreadPoolHandle, maxQueue: Int = 64, parallel: Int = 1,
         prefillChunk: Int = InferenceService.defaultPrefillChunk,
         beforeRound: @escaping @Sendable () -> Void, afterStep: (@Sendable ([Int]) -> Void)? = nil) {
        self.model = model
        self.contextSize = contextSize
        self.maxQueue = maxQueue
        self.parallel = parallel
        scheduler = Scheduler(model: model, contextSize: contextSize, pool: pool.pool, slots: parallel, maxQueue: maxQueue,
                              cacheBytes: InferenceService.defaultCacheMiB << 20, prefillChunk: prefillChunk)
        scheduler.beforeRound = beforeRound
        scheduler.afterStep = afterStep
        scheduler.start()
    }

    deinit { scheduler.stop() }

    /// Starts a generation. Throws `EngineError.busy` when the queue is full, and the
    /// request's own errors (bad parameters, a prompt longer than the context) at once.
    public func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, Error> {
        try scheduler.submit(request)
    }

    /// Ends every running and queued generation (with a CancellationError) and refuses new
    /// ones; for shutdown.
    public func shutdown() { scheduler.stop() }

    /// A snapshot of slots, queue, context cache and totals (updated after every step).
    public var stats: InferenceStats { scheduler.stats }
    /// Requests waiting for a slot.
    public var queueDepth: Int { stats.queueDepth }
    /// Sequences running now.
    public var activeSlots: Int { stats.activeSlots }
}

/// A small locked counter/flag.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    var value: Int { lock.withLock { v } }
    func set(_ x: Int) { lock.withLock { v = x } }
    func decrement() { lock.withLock { v -= 1 } }
    /// Increments unless the value is already `limit`; returns whether it did.
    func increment(limit: Int) -> Bool {
        lock.withLock {
            guard v < limit else { return false }
            v += 1
            return true
        }
    }
}

/// A thread pool to hand to services (keeps SeekKernels out of callers' imports).
public struct ThreadPoolHandle: Sendable {
    let pool: ThreadPool
    public init(threads: Int) { pool = ThreadPool(threads: threads) }
    public static var defaultThreads: Int { ThreadPool.defaultThreadCount }
}
