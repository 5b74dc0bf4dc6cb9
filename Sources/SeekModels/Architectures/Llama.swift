import SeekFormats
import SeekKernels

/// Llama-family models as llama.cpp's converter writes them (`general.architecture = llama`):
/// Llama 2/3, SmolLM2, Mistral, DeepSeek-LLM, DeepSeek-Coder, DeepSeek-R1-Distill-Llama.
/// The converter permutes Q/K rows so GGUF llama files use adjacent-pair ("normal") RoPE.
public final class Llama: Architecture {
    public static let ggufArchitectures = ["llama"]
    let model: DecoderTransformer

    public init(gguf: GGUFFile) throws {
        let config = try DecoderConfig(gguf: gguf, prefix: "llama", ropeStyle: .normal, attentionBias: false)
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
