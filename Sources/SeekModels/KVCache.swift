/// Keys and values of every layer for one sequence. Stored as f32 `[layer][position × dim]`
/// so results are exact against the reference; the memory is reserved up front but only
/// touched pages become resident. MLA stores its compressed latent and RoPE key as the "key"
/// and keeps no values.
public final class KVCache {
    public let layers: Int
    public let kvDim: Int
    public let valueDim: Int
    public let capacity: Int
    /// Positions filled so far.
    public internal(set) var count = 0 {
        didSet { highWater = max(highWater, count) }
    }
    /// The most positions ever filled: truncating keeps those pages resident, so memory
    /// accounting uses this, not `count`.
    public private(set) var highWater = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// Scratch for single-sequence forward passes on this cache (batched passes bring their own).
    public let scratch = ForwardScratch()

    public init(layers: Int, kvDim: Int, valueDim: Int? = nil, capacity: Int) {
        self.layers = layers
        self.kvDim = kvDim
        self.valueDim = valueDim ?? kvDim
        self.capacity = capacity
        let vd = self.valueDim
        keys = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(1, capacity * kvDim)) }
        values = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(1, capacity * vd)) }
    }

    /// Bytes of cache per token (all layers).
    public var bytesPerToken: Int { layers * (kvDim + valueDim) * MemoryLayout<Float>.size }

    /// Bytes of this cache that have been written (and so are resident).
    public var residentBytes: Int { highWater * bytesPerToken }

    /// Forgets positions from `position` on (the next forward overwrites them).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
    }

    /// Replaces this cache's contents with the first `n` positions of `other` (a cached
    /// prefix shared by another sequence). Both must come from the same model.
    public func copyPrefix(of other: KVCache, count n: Int) throws {
        guard other.layers == layers, other.kvDim == kvDim, other.valueDim == valueDim else {
            throw ModelError("cannot copy a KV cache of another shape (\(other.layers)×\(other.kvDim)+\(other.valueDim) vs \(layers)×\(kvDim)+\(valueDim))")
        }
        guard n >= 0, n <= other.count, n <= capacity else {
            throw ModelError("cannot copy \(n) positions (source has \(other.count), capacity \(capacity))")
        }
        guard other !== self else { truncate(to: n); return }
        for l in 0..<layers {
            keys[l].update(from: other.keys[l], count: n * kvDim)
            if valueDim > 0 { values[l].update(from: other.values[l], count: n * valueDim) }
        }
        count = n
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }
}

/// Scratch memory for forward passes: one per thread of work (a cache for single-sequence
/// calls, the scheduler for batched steps), grown to the largest batch seen and then reused.
public final class ForwardScratch {
    var workspace = Workspace()
    public init() {}
    deinit { workspace.release() }
}

/// Named scratch buffers, grown to the largest batch seen and then reused.
struct Workspace {
    private var buffers: [String: (pointer: UnsafeMutablePointer<Float>, count: Int)] = [:]

    /// A buffer of at least `count` floats, named so each use has its own.
    mutating func buffer(_ name: String, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let b = buffers[name], b.count >= count { return b.pointer }
        buffers[name]?.pointer.deallocate()
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        buffers[name] = (p, count)
        return p
    }

    func release() {
        for b in buffers.values { b.pointer.deallocate() }
    }
}
