import SeekFormats
import SeekKernels

/// Qwen2 / Qwen2.5 models (`general.architecture = qwen2`), which DeepSeek-R1-Distill-Qwen
/// also uses: the llama block plus biases on q/k/v, NeoX RoPE, usually tied embeddings.
public final class Qwen2: Architecture {
    public static let ggufArchitectures = ["qwen2"]
    let model: DecoderTransformer

    public init(gguf: GGUFFile) throws {
        let config = try DecoderConfig(gguf: gguf, prefix: "qwen2", ropeStyle: .neox, attentionBias: true)
        model = try DecoderTransformer(gguf: gguf, config: config)
    }

    public var vocabularySize: Int { model.config.vocabularySize }
    public var trainedContextLength: Int { model.config.contextLength }
    public var summary: [(String, String)] { model.summary }
    public func makeCache(capacity: Int) -> KVCache { model.makeCache(capacity: capacity) }
    public func forward(_ tokens: [Int32], cache: KVCache, allPositions: Bool, pool: ThreadPool) throws -> [Float] {
        try model.forward(tokens, cache: cache, allPositions: allPositions, pool: pool)
    }
}
