import Dispatch
import Foundation
import SeekKernels

/// Runs generations for concurrent callers (the server, later the web chat): requests queue
/// up and run one at a time on a dedicated thread that owns the model's session, so the KV
/// cache of the previous request is re-used when the next one shares its prefix (a
/// multi-turn chat re-sends its history). Events stream back through an AsyncThrowingStream;
/// when the consumer goes away the generation stops at the next token.
///
/// Continuous batching (several sequences per forward pass) replaces the one-at-a-time loop
/// in the server issue's next step; the interface stays.
public final class InferenceService: Sendable {
    public let model: LoadedModel
    public let contextSize: Int
    public let maxQueue: Int
    private let queue = DispatchQueue(label: "swiftseek.inference", qos: .userInitiated)
    /// Touched only on `queue`: the one owner of the session and its cache.
    private let owner: SessionOwner
    private let waiting = Counter()

    public init(model: LoadedModel, contextSize: Int, pool: ThreadPoolHandle, maxQueue: Int = 64) {
        self.model = model
        self.contextSize = contextSize
        self.maxQueue = maxQueue
        owner = SessionOwner(Session(model: model, contextSize: contextSize, pool: pool.pool))
    }

    /// Requests waiting or running.
    public var queueDepth: Int { waiting.value }

    public func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, Error> {
        guard waiting.increment(limit: maxQueue) else { throw EngineError.busy(limit: maxQueue) }
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let cancelled = Counter()
        continuation.onTermination = { _ in cancelled.set(1) }
        let owner = owner, waiting = waiting
        queue.async {
            defer { waiting.decrement() }
            do {
                var generation = try owner.session.generate(request)
                while cancelled.value == 0, let event = try generation.next() {
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

/// The session, owned by the inference queue (never touched elsewhere).
private final class SessionOwner: @unchecked Sendable {
    let session: Session
    init(_ session: Session) { self.session = session }
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
