import SeekKernels
import SeekModels

/// One conversation's inference state: a KV cache that outlives single generations, so a
/// follow-up turn re-uses the keys and values of the longest prefix it shares with what is
/// already cached and only prefills the rest.
public final class Session {
    public let model: LoadedModel
    public let contextSize: Int
    let pool: ThreadPool
    let cache: KVCache
    /// The tokens whose keys and values are in `cache`, in order.
    public internal(set) var cachedTokens: [Int32] = []

    public init(model: LoadedModel, contextSize: Int, pool: ThreadPool) {
        self.model = model
        self.contextSize = contextSize
        self.pool = pool
        cache = model.architecture.makeCache(capacity: contextSize)
    }

    /// Starts a generation for `request`, re-using the cached prefix.
    public func generate(_ request: GenerationRequest) throws -> Generation {
        var common = 0
        while common < min(cachedTokens.count, request.prompt.count - 1), cachedTokens[common] == request.prompt[common] { common += 1 }
        cache.truncate(to: common)
        cachedTokens.removeSubrange(common...)
        return try Generation(session: self, request: request, reused: common)
    }

    public func reset() {
        cache.truncate(to: 0)
        cachedTokens = []
    }
}
