import SeekKernels

/// One sequence's part of a batched forward pass: its `tokens` run at positions
/// `cache.count ..< cache.count + tokens.count`, their keys/values are appended to `cache`,
/// and the logits it asks for are returned. A batch is a list of segments with distinct
/// caches (decode steps of running sequences, chunks of prompts being prefilled); every
/// weight matrix is applied once to all rows of all segments, attention runs per segment
/// against its own cache.
public struct BatchSegment {
    public enum Logits: Sendable {
        /// A prefill chunk that is not the prompt's last: no logits.
        case none
        /// The segment's last position: `[vocab]`.
        case last
        /// Every position: `[tokens × vocab]`.
        case all
    }

    public var cache: KVCache
    public var tokens: [Int32]
    public var logits: Logits

    public init(cache: KVCache, tokens: [Int32], logits: Logits = .last) {
        self.cache = cache
        self.tokens = tokens
        self.logits = logits
    }
}

/// Where each row of a batch comes from, checked once before the pass.
struct BatchLayout {
    /// Total rows (tokens of all segments).
    let rows: Int
    /// Segment of each row.
    let segment: [Int]
    /// Absolute position of each row in its sequence.
    let position: [Int]
    /// First row of each segment.
    let start: [Int]
    /// Rows whose logits are returned, in batch order.
    let outputRows: [Int]
    /// The longest sequence after this pass (attention scratch size).
    let longest: Int

    init(_ batch: [BatchSegment], vocabularySize: Int, layers: Int, kvDim: Int, valueDim: Int) throws {
        guard !batch.isEmpty else { throw ModelError("forward needs at least one sequence") }
        var seen = Set<ObjectIdentifier>()
        var segment: [Int] = [], position: [Int] = [], start: [Int] = [], outputRows: [Int] = []
        var longest = 0
        for (s, seg) in batch.enumerated() {
            let cache = seg.cache
            guard cache.layers == layers, cache.kvDim == kvDim, cache.valueDim == valueDim else {
                throw ModelError("the KV cache was made for another model (\(cache.layers) layers × \(cache.kvDim)+\(cache.valueDim), expected \(layers) × \(kvDim)+\(valueDim))")
            }
            guard seen.insert(ObjectIdentifier(cache)).inserted else {
                throw ModelError("a batch may hold each KV cache only once")
            }
            try checkForward(seg.tokens, cache: cache, vocabularySize: vocabularySize)
            start.append(segment.count)
            let T = seg.tokens.count, p0 = cache.count
            switch seg.logits {
            case .none: break
            case .last: outputRows.append(segment.count + T - 1)
            case .all: outputRows += (segment.count)..<(segment.count + T)
            }
            for i in 0..<T {
                segment.append(s)
                position.append(p0 + i)
            }
            longest = max(longest, p0 + T)
        }
        rows = segment.count
        self.segment = segment
        self.position = position
        self.start = start
        self.outputRows = outputRows
        self.longest = longest
    }
}

/// Checks a forward call's inputs: at least one token, room in the cache, ids in the vocabulary.
func checkForward(_ tokens: [Int32], cache: KVCache, vocabularySize: Int) throws {
    guard !tokens.isEmpty else { throw ModelError("forward needs at least one token") }
    guard cache.count + tokens.count <= cache.capacity else {
        throw ModelError("context is full: \(cache.count) + \(tokens.count) tokens exceed the context size of \(cache.capacity)")
    }
    for t in tokens where t < 0 || Int(t) >= vocabularySize {
        throw ModelError("token id \(t) is outside the vocabulary (0..<\(vocabularySize))")
    }
}

/// Final norm and LM head over the rows that want logits, in one matmul; the result split
/// per segment (`[]` for segments that asked for none).
func batchLogits(_ x: UnsafeMutablePointer<Float>, scratch xn: UnsafeMutablePointer<Float>, layout: BatchLayout,
                 batch: [BatchSegment], width d: Int, norm: [Float], eps: Float, head: WeightMatrix, pool: ThreadPool) -> [[Float]] {
    let rows = layout.outputRows
    guard !rows.isEmpty else { return batch.map { _ in [] } }
    for (i, t) in rows.enumerated() { rmsNorm(x + t * d, norm, xn + i * d, count: d, eps: eps) }
    let vocab = head.rows
    var logits = [Float](repeating: 0, count: rows.count * vocab)
    logits.withUnsafeMutableBufferPointer { matmul(head, xn, tokens: rows.count, $0.baseAddress!, pool: pool) }
    if batch.count == 1 { return [logits] }
    var out: [[Float]] = []
    var next = 0
    for seg in batch {
        let n = seg.logits == .none ? 0 : seg.logits == .last ? 1 : seg.tokens.count
        out.append(Array(logits[(next * vocab)..<((next + n) * vocab)]))
        next += n
    }
    return out
}
