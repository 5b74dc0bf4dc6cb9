import SeekKernels

/// Keys and values of every layer for one sequence, `[layer][position × dim]`: f16 (half the
/// memory and half the bytes attention reads per token; what llama.cpp keeps by default) or
/// f32 (exact against a float reference: `--exact`, and MLA's latent cache). The memory is
/// reserved up front but only touched pages become resident. MLA stores its compressed
/// latent and RoPE key as the "key" and keeps no values.
public final class KVCache {
    public let layers: Int
    public let kvDim: Int
    public let valueDim: Int
    public let capacity: Int
    /// Whether positions are stored as f16 (else f32).
    public let half: Bool
    /// Positions filled so far.
    public internal(set) var count = 0 {
        didSet { highWater = max(highWater, count) }
    }
    /// The most positions ever filled: truncating keeps those pages resident, so memory
    /// accounting uses this, not `count`.
    public private(set) var highWater = 0
    private let keyRows: [UnsafeMutableRawPointer]
    private let valueRows: [UnsafeMutableRawPointer]
    /// Scratch for single-sequence forward passes on this cache (batched passes bring their own).
    public let scratch = ForwardScratch()

    /// What the standard decoder's caches use: f16 where the CPU converts it (F16C) unless
    /// float activations were asked for (`--exact`, SWIFTSEEK_EXACT=1), which keep f32.
    public static var halfByDefault: Bool { KernelSettings.hasAVX2 && !KernelSettings.exactActivations }

    public init(layers: Int, kvDim: Int, valueDim: Int? = nil, capacity: Int, half: Bool = false) {
        self.layers = layers
        self.kvDim = kvDim
        self.valueDim = valueDim ?? kvDim
        self.capacity = capacity
        self.half = half
        let vd = self.valueDim, size = half ? 2 : 4
        keyRows = (0..<layers).map { _ in .allocate(byteCount: max(1, capacity * kvDim) * size, alignment: 64) }
        valueRows = (0..<layers).map { _ in .allocate(byteCount: max(1, capacity * vd) * size, alignment: 64) }
    }

    /// Layer `l`'s keys as f32 (an f32 cache only).
    func keys(_ l: Int) -> UnsafeMutablePointer<Float> {
        precondition(!half, "an f16 KV cache read as f32")
        return keyRows[l].assumingMemoryBound(to: Float.self)
    }

    /// Layer `l`'s values as f32 (an f32 cache only).
    func values(_ l: Int) -> UnsafeMutablePointer<Float> {
        precondition(!half, "an f16 KV cache read as f32")
        return valueRows[l].assumingMemoryBound(to: Float.self)
    }

    /// Layer `l`'s keys as f16 bits (an f16 cache only).
    func halfKeys(_ l: Int) -> UnsafeMutablePointer<UInt16> {
        precondition(half, "an f32 KV cache read as f16")
        return keyRows[l].assumingMemoryBound(to: UInt16.self)
    }

    /// Layer `l`'s values as f16 bits (an f16 cache only).
    func halfValues(_ l: Int) -> UnsafeMutablePointer<UInt16> {
        precondition(half, "an f32 KV cache read as f16")
        return valueRows[l].assumingMemoryBound(to: UInt16.self)
    }

    /// Bytes per stored number.
    var elementBytes: Int { half ? 2 : 4 }

    /// Bytes of cache per token (all layers).
    public var bytesPerToken: Int { layers * (kvDim + valueDim) * elementBytes }

    /// Bytes of this cache that have been written (and so are resident).
    public var residentBytes: Int { highWater * bytesPerToken }

    /// Forgets positions from `position` on (the next forward overwrites them).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
    }

    /// Replaces this cache's contents with the first `n` positions of `other` (a cached
    /// prefix shared by another sequence). Both must come from the same model.
    public func copyPrefix(of other: KVCache, count n: Int) throws {
        guard other.layers == layers, other.kvDim == kvDim, other.valueDim == valueDim, other.half == half else {
            throw ModelError("cannot copy a KV cache of another shape (\(other.layers)×\(other.kvDim)+\(other.valueDim) vs \(layers)×\(kvDim)+\(valueDim))")
        }
        guard n >= 0, n <= other.count, n <= capacity else {
            throw ModelError("cannot copy \(n) positions (source has \(other.count), capacity \(capacity))")
        }
        guard other !== self else { truncate(to: n); return }
        for l in 0..<layers {
            keyRows[l].copyMemory(from: other.keyRows[l], byteCount: n * kvDim * elementBytes)
            if valueDim > 0 { valueRows[l].copyMemory(from: other.valueRows[l], byteCount: n * valueDim * elementBytes) }
        }
        count = n
    }

    deinit {
        keyRows.forEach { $0.deallocate() }
        valueRows.forEach { $0.deallocate() }
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
