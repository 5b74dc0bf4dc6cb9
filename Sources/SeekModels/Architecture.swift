import SeekFormats
import SeekKernels

/// What the engine needs from any model architecture.
///
/// An architecture reads its hyper-parameters and weights from a model file at `init`
/// (checking every tensor it will use), and afterwards is immutable: all per-sequence state
/// lives in the `KVCache` it makes, so one loaded model can serve many sequences.
public protocol Architecture: AnyObject, Sendable {
    /// `general.architecture` values this type loads.
    static var ggufArchitectures: [String] { get }
    /// config.json `model_type` values this type loads from Hugging Face folders.
    static var huggingFaceModelTypes: [String] { get }
    init(gguf: GGUFFile) throws
    init(huggingFace folder: HuggingFaceFolder) throws
    var vocabularySize: Int { get }
    /// The context length the model was trained for.
    var trainedContextLength: Int { get }
    /// One line per notable hyper-parameter, for `swiftseek info`.
    var summary: [(String, String)] { get }
    /// A KV cache for one sequence of up to `capacity` positions, f16 when `half` (where the
    /// architecture supports it) else f32.
    func makeCache(capacity: Int, half: Bool) -> KVCache
    /// One forward pass over several sequences (see `BatchSegment`): every weight matrix is
    /// applied once to all their rows; each segment's keys/values go to its own cache. Returns
    /// each segment's logits in batch order. `scratch` is reused between calls from one thread.
    func forward(_ batch: [BatchSegment], scratch: ForwardScratch, pool: ThreadPool) throws -> [[Float]]
}

extension Architecture {
    /// A KV cache with the default precision (`KVCache.halfByDefault`).
    public func makeCache(capacity: Int) -> KVCache { makeCache(capacity: capacity, half: KVCache.halfByDefault) }
}

extension Architecture {
    /// Runs `tokens` at positions `cache.count ..< cache.count + tokens.count`, appends
    /// their keys/values to `cache`, and returns logits: `[tokens.count × vocab]` when
    /// `allPositions`, else the last position's `[vocab]`. The one-segment batch, in passes
    /// of at most `oneSegmentChunk` tokens: scratch memory grows with the rows of a pass (a
    /// 512-token prompt through a MoE model needed ~100 MiB of it in one pass), while the
    /// speed of a pass hardly changes past a few hundred rows (each weight block is decoded
    /// once per 32 rows).
    public func forward(_ tokens: [Int32], cache: KVCache, allPositions: Bool, pool: ThreadPool) throws -> [Float] {
        let chunk = oneSegmentChunk
        guard tokens.count > chunk else {
            return try forward([BatchSegment(cache: cache, tokens: tokens, logits: allPositions ? .all : .last)],
                               scratch: cache.scratch, pool: pool)[0]
        }
        var logits: [Float] = []
        for start in stride(from: 0, to: tokens.count, by: chunk) {
            let end = min(start + chunk, tokens.count)
            let part = Array(tokens[start..<end])
            let want: BatchSegment.Logits = allPositions ? .all : (end == tokens.count ? .last : .none)
            let out = try forward([BatchSegment(cache: cache, tokens: part, logits: want)], scratch: cache.scratch, pool: pool)[0]
            if allPositions { logits += out } else if end == tokens.count { logits = out }
        }
        return logits
    }

    /// The most tokens of one sequence in one forward pass (see `forward(_:cache:allPositions:pool:)`).
    public var oneSegmentChunk: Int { 256 }

    public static var huggingFaceModelTypes: [String] { [] }

    public init(huggingFace folder: HuggingFaceFolder) throws {
        throw ModelError("\(folder.path): \(Self.self) cannot be loaded from a Hugging Face folder yet")
    }
}

public struct ModelError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
