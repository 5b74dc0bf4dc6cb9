import Dispatch

/// Splits work across cores. All parallel kernels go through `parallelFor`, so the
/// scheduling policy (today Dispatch's `concurrentPerform`, later a persistent pool with
/// spin barriers) lives in one place.
public struct ThreadPool: Sendable {
    public let threadCount: Int

    public init(threads: Int) {
        threadCount = max(1, threads)
    }

    /// Runs `body` over `0..<count` split into contiguous chunks, one per thread at most,
    /// each at least `minChunk` long. Returns when all chunks are done.
    public func parallelFor(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(1, minChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // The contract of parallelFor is that chunks touch disjoint outputs, which the
        // compiler cannot see through raw pointers; this is the one place that vouches for it.
        withoutActuallyEscaping(body) { body in
            let task = ChunkBody(body: body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks
                let hi = count * (c + 1) / chunks
                task.body(lo..<hi)
            }
        }
    }

    /// Physical cores would be better; Linux reports logical CPUs, which on the machines
    /// here are the same.
    public static var defaultThreadCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

private struct ChunkBody: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}

#if canImport(Glibc)
import Glibc
#endif
