import SeekFormats

/// Qwen2 / Qwen2.5 models (`general.architecture = qwen2`), which DeepSeek-R1-Distill-Qwen
/// also uses: the llama block plus biases on q/k/v and NeoX RoPE. Embeddings are tied when
/// the file has no `output.weight`.
public final class Qwen2: DecoderArchitecture {
    public static let ggufArchitectures = ["qwen2"]
    public static let huggingFaceModelTypes = ["qwen2"]
    public let model: DecoderTransformer

    public init(gguf: GGUFFile) throws {
        let config = try DecoderConfig(gguf: gguf, prefix: "qwen2", ropeStyle: .neox, attentionBias: true)
        model = try DecoderTransformer(gguf: gguf, config: config)
    }

    public init(huggingFace folder: HuggingFaceFolder) throws {
        let config = try DecoderConfig(huggingFace: folder.config, path: folder.path, attentionBias: true)
        model = try DecoderTransformer(store: folder, config: config, names: .huggingFace)
    }
}
