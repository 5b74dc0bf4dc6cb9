import SeekFormats

/// Llama-family models as llama.cpp's converter writes them (`general.architecture = llama`):
/// Llama 2/3, SmolLM2, Mistral, DeepSeek-LLM, DeepSeek-Coder, DeepSeek-R1-Distill-Llama.
/// The converter permutes Q/K rows so GGUF llama files use adjacent-pair ("normal") RoPE.
public final class Llama: DecoderArchitecture {
    public static let ggufArchitectures = ["llama"]
    public static let huggingFaceModelTypes = ["llama", "mistral"]
    public let model: DecoderTransformer

    public init(gguf: GGUFFile) throws {
        let config = try DecoderConfig(gguf: gguf, prefix: "llama", ropeStyle: .normal, attentionBias: false)
        model = try DecoderTransformer(gguf: gguf, config: config)
    }

    public init(huggingFace folder: HuggingFaceFolder) throws {
        let config = try DecoderConfig(huggingFace: folder.config, path: folder.path, attentionBias: false)
        model = try DecoderTransformer(store: folder, config: config, names: .huggingFace)
    }
}
