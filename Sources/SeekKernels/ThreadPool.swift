import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Splits work across cores. All parallel kernels go through `parallelFor`.
///
/// Behind it is one persistent group of worker threads per thread count, created on first
/// use and kept for the life of the process: a dispatch costs an atomic increment and, when a
/// worker has gone to sleep, a semaphore signal — not a task spawn. Workers spin for the next
/// job for up to a millisecond (a forward pass issues hundreds of small ones per token), then sleep.
public struct ThreadPool: Sendable {
    public let threadCount: Int
    let group: WorkerGroup?

    public init(threads: Int) {
        threadCount = max(1, threads)
        group = threadCount > 1 ? WorkerGroup.shared(threads: threadCount) : nil
    }

    /// Runs `body` over `0..<count` split into contiguous chunks (up to `piecesPerThread` per
    /// thread, each at least `minChunk` long), which the threads take one at a time. Returns
    /// when all chunks are done. Chunks must touch disjoint outputs.
    public func parallelFor(_ count: Int, minChunk: Int = 1, piecesPerThread: Int = 4, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        // More pieces than threads, handed out one at a time: a thread that was preempted or
        // slowed down does not hold up the others.
        let chunks = min(threadCount * max(1, piecesPerThread), max(1, count / max(1, minChunk)))
        guard chunks > 1, let group else {
            body(0..<count)
            return
        }
        // The contract (disjoint outputs) is one the compiler cannot see through raw
        // pointers; this is the one place that vouches for it.
        withoutActuallyEscaping(body) { body in
            group.run(chunks: chunks, count: count, body)
        }
    }

    /// Physical cores would be better; Linux reports logical CPUs, which on the machines
    /// here are the same.
    public static var defaultThreadCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

/// `threads - 1` worker threads; the caller runs chunk 0 itself.
final class WorkerGroup: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var groups: [Int: WorkerGroup] = [:]

    static func shared(threads: Int) -> WorkerGroup {
        lock.lock()
        defer { lock.unlock() }
        if let g = groups[threads] { return g }
        let g = WorkerGroup(workers: threads - 1)
        groups[threads] = g
        return g
    }

    private let workers: Int
    /// Bumped once per job; workers run a job when they see a new value.
    private let generation = Atomic<Int>(0)
    /// Workers still running the current job.
    private let pending = Atomic<Int>(0)
    /// The next piece of the current job to hand out.
    private let nextPiece = Atomic<Int>(0)
    private let sleeping: [Flag]
    private let wake: [DispatchSemaphore]
    /// Serialises callers: one job at a time per group.
    private let dispatchLock = NSLock()
    // The current job, written before `generation` is bumped and read after it is seen.
    nonisolated(unsafe) private var job: ((Range<Int>) -> Void)?
    nonisolated(unsafe) private var jobChunks = 0
    nonisolated(unsafe) private var jobCount = 0

    private init(workers: Int) {
        self.workers = workers
        sleeping = (0..<workers).map { _ in Flag() }
        wake = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
        for i in 0..<workers {
            let t = Thread { [unowned self] in self.loop(i) }
            t.name = "swiftseek-worker-\(i + 1)"
            t.stackSize = 8 << 20
            t.start()
        }
    }

    func run(chunks: Int, count: Int, _ body: @escaping (Range<Int>) -> Void) {
        dispatchLock.lock()
        defer { dispatchLock.unlock() }
        job = body
        jobChunks = chunks
        jobCount = count
        nextPiece.store(0, ordering: .relaxed)
        pending.store(workers, ordering: .releasing)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        for i in 0..<workers where sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) {
            wake[i].signal()
        }
        runPieces(body)
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 2000 { sched_yield() }
        }
        job = nil
    }

    /// How long a worker keeps spinning for the next job before it sleeps. A count of 20,000
    /// spins (a few microseconds here) was shorter than the caller's serial stretches between
    /// jobs (norms, sampling, the engine's bookkeeping): in SmolLM2 decode the worker slept and
    /// was woken several times per token (~4,300 futex calls in `bench --pp 16 --tg 256`, 20 with
    /// this bound), each wake costing the caller a wait at the next job's end. Past the first
    /// 20,000 spins the worker calls sched_yield as it spins, so other threads that want the
    /// core run meanwhile: on a 2-core machine the server's HTTP threads and a local client
    /// (server, 3 alternating pairs of 1- and 4-client load tests: 109-122 vs 96-148 tok/s at
    /// 1 client, 167-169 vs 158-181 at 4; bench tg256 six pairs, median ratio 1.05).
    static let spinNanoseconds: UInt64 = 1_000_000

    private func loop(_ i: Int) {
        var seen = 0
        while true {
            var spins = 0
            var since: UInt64 = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                // The clock is read every 1024 spins, and on every spin once they yield (each a
                // system call, so 1024 of them could be a millisecond); the first read starts the bound.
                var spinning = true
                if spins & 1023 == 0 || spins > 20_000 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if since == 0 { since = now }
                    spinning = now - since < Self.spinNanoseconds
                }
                if spinning {
                    // Past the first few microseconds, let any other thread that wants this core
                    // run (the server's HTTP threads, a client on the same machine).
                    if spins > 20_000 { sched_yield() }
                    current = generation.load(ordering: .acquiring)
                    continue
                }
                // Go to sleep; re-check after announcing it so a job posted meanwhile is not missed.
                // Both sides store one flag and then read the other (a Dekker pattern), so
                // both need sequential consistency: with release/acquire alone the announcement
                // can sit in the store buffer while the stale generation is read, the
                // dispatcher sees no sleeper, and the worker sleeps through the job.
                _ = sleeping[i].value.exchange(true, ordering: .sequentiallyConsistent)
                current = generation.load(ordering: .sequentiallyConsistent)
                if current != seen {
                    if !sleeping[i].value.exchange(false, ordering: .sequentiallyConsistent) { wake[i].wait() }
                    break
                }
                wake[i].wait()
                spins = 0
                since = 0
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            work()
            pending.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// A worker's share of the current job. Out of line so that its reference to the job's
    /// closure is gone before the worker reports done (the caller's `withoutActuallyEscaping`
    /// checks that nothing kept it).
    @inline(never)
    private func work() {
        guard let job else { return }
        runPieces(job)
    }

    /// Takes pieces of the current job until none are left.
    private func runPieces(_ body: (Range<Int>) -> Void) {
        while true {
            let piece = nextPiece.wrappingAdd(1, ordering: .relaxed).oldValue
            guard piece < jobChunks else { return }
            body((jobCount * piece / jobChunks)..<(jobCount * (piece + 1) / jobChunks))
        }
    }
}

/// An atomic flag in a class, so workers can have an array of them.
final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}
