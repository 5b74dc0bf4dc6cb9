/// Keys and values of every layer for one sequence, plus the scratch buffers its forward
/// passes reuse. Stored as f32 `[layer][position × dim]` so results are exact against the
/// reference; the memory is reserved up front but only touched pages become resident.
/// MLA stores its compressed latent and RoPE key as the "key" and keeps no values.
public final class KVCache {
    public let layers: Int
    public let kvDim: Int
    public let valueDim: Int
    public let capacity: Int
    /// Positions filled so far.
    public internal(set) var count = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    var workspace = Workspace()

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

    /// Forgets positions from `position` on (the next forward overwrites them).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
        workspace.release()
    }
}

/// Scratch memory for a forward pass, grown to the largest batch seen and then reused.
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
