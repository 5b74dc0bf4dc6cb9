import SeekModels

/// A sequence's keys and values with the tokens they belong to. Running sequences own one;
/// finished ones stay in the `ContextCache` for later requests that share their prefix.
final class CachedSequence {
    let cache: KVCache
    /// The tokens whose keys and values are in `cache` (`cache.count == tokens.count`).
    var tokens: [Int32] = []
    var lastUsed: UInt64 = 0
    var inUse = false

    init(cache: KVCache) { self.cache = cache }
}

/// The context cache: every sequence's KV cache, running or finished. A new request takes
/// the KV of the longest matching token prefix among them; finished sequences stay cached
/// while their memory fits `limitBytes`, least recently used evicted first.
///
/// Adopt or copy: when the best match is a finished sequence that the prompt extends
/// entirely (a multi-turn chat re-sending its history), the new request adopts that cache,
/// as nothing in it is lost. When the match is partial (a shared system prompt, a
/// regenerated reply) or the owner is still running, the matched prefix is copied into a
/// new cache, so the other sequence stays whole for its own follow-up. Copying is a memcpy
/// of the prefix's KV, far cheaper than prefilling it again.
///
/// Touched only by the scheduler's thread.
struct ContextCache {
    let model: LoadedModel
    let contextSize: Int
    let limitBytes: Int
    /// Finished sequences kept at most (each reserves a context's worth of address space,
    /// even though only written pages are resident).
    let maxIdle: Int
    private(set) var entries: [CachedSequence] = []
    private var clock: UInt64 = 0

    init(model: LoadedModel, contextSize: Int, limitBytes: Int, maxIdle: Int = 64) {
        self.model = model
        self.contextSize = contextSize
        self.limitBytes = limitBytes
        self.maxIdle = maxIdle
    }

    /// A cache for `prompt` holding as much of its prefix as any sequence has (at most all
    /// but the last prompt token, whose logits the new request needs), and how much that is.
    mutating func acquire(for prompt: [Int32]) throws -> (CachedSequence, reused: Int) {
        clock += 1
        var best: CachedSequence?
        var bestLength = 0
        let cap = prompt.count - 1
        for e in entries {
            let n = commonPrefix(e.tokens, prompt, limit: cap)
            // Prefer an idle entry among equals: it can be adopted instead of copied.
            if n > bestLength || (n == bestLength && n > 0 && best?.inUse == true && !e.inUse) {
                best = e
                bestLength = n
            }
        }
        let entry: CachedSequence
        if let b = best, !b.inUse, bestLength == b.tokens.count {
            entry = b
        } else {
            entry = CachedSequence(cache: model.architecture.makeCache(capacity: contextSize))
            if let b = best, bestLength > 0 {
                try entry.cache.copyPrefix(of: b.cache, count: bestLength)
                entry.tokens = Array(b.tokens[..<bestLength])
            }
            entries.append(entry)
        }
        entry.cache.truncate(to: bestLength)
        entry.tokens.removeSubrange(bestLength...)
        entry.inUse = true
        entry.lastUsed = clock
        evict()
        return (entry, bestLength)
    }

    /// A sequence finished (or was cancelled): its cache stays for later prefixes.
    mutating func release(_ entry: CachedSequence) {
        clock += 1
        entry.inUse = false
        entry.lastUsed = clock
        evict()
    }

    /// Drops a sequence whose cache content is unknown (a failed forward pass).
    mutating func discard(_ entry: CachedSequence) {
        entries.removeAll { $0 === entry }
    }

    /// Evicts finished sequences, least recently used first, until the memory fits.
    mutating func evict() {
        var idle = entries.filter { !$0.inUse }.sorted { $0.lastUsed < $1.lastUsed }
        var total = residentBytes
        var drop = Set<ObjectIdentifier>()
        while let oldest = idle.first, total > limitBytes || idle.count > maxIdle {
            total -= oldest.cache.residentBytes
            drop.insert(ObjectIdentifier(oldest))
            idle.removeFirst()
        }
        if !drop.isEmpty { entries.removeAll { drop.contains(ObjectIdentifier($0)) } }
    }

    var residentBytes: Int { entries.reduce(0) { $0 + $1.cache.residentBytes } }
    var cachedTokens: Int { entries.reduce(0) { $0 + $1.tokens.count } }
    var idleCount: Int { entries.count { !$0.inUse } }
}

/// Length of the common prefix of `a` and `b`, at most `limit`.
func commonPrefix(_ a: [Int32], _ b: [Int32], limit: Int) -> Int {
    let n = min(a.count, b.count, max(0, limit))
    var i = 0
    while i < n && a[i] == b[i] { i += 1 }
    return i
}
