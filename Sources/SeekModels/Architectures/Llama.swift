import SeekFormats

/// Llama-family models as llama.cpp's converter writes them (`general.architecture = llama`):
/// Llama 2/3, SmolLM2, Mistral, DeepSeek-LLM, DeepSeek-Coder, DeepSeek-R1-Distill-Llama.
/// The converter permutes Q/K rows so GGUF llama files use adjacent-pair ("normal") RoPE.
public final class Llama: DecoderArchitecture {
    public static let ggufArchitectures = ["llama"]
    public let model: DecoderTransformer

    public init(gguf: GGUFFile) throws {
        let config = try DecoderConfig(gguf: gguf, prefix: "llama", ropeStyle: .normal, attentionBias: false)
        model = try DecoderTransformer(gguf: gguf, config: config)
    }
}
