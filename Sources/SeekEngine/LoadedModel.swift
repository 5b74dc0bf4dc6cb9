import Foundation
import SeekFormats
import SeekKernels
import SeekModels
import SeekTemplates
import SeekTokenizers

/// A model file opened for inference: its weights (memory-mapped), architecture and tokenizer.
/// Immutable once loaded, so the CLI, the server and tests can share it.
public final class LoadedModel: Sendable {
    public let path: String
    /// The GGUF file, when the model is one (nil for Hugging Face folders).
    public let gguf: GGUFFile?
    public let architecture: any Architecture
    public let tokenizer: any Tokenizer
    /// The model's own chat template (GGUF `tokenizer.chat_template`), if it has one.
    public let chatTemplate: ChatTemplate?

    /// A GGUF file or a Hugging Face model folder (config.json, safetensors, tokenizer.json).
    public convenience init(path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            try self.init(folder: HuggingFaceFolder(path: path))
        } else {
            try self.init(gguf: GGUFFile(path: path))
        }
    }

    public init(folder: HuggingFaceFolder) throws {
        path = folder.path
        gguf = nil
        architecture = try loadArchitecture(folder)
        // Hugging Face tokenizers may add tokens past the model's vocabulary (a pad token);
        // such ids are rejected by the forward pass with a clear error if they ever occur.
        tokenizer = try loadTokenizer(huggingFace: folder.path)
        // tokenizer_config.json: "chat_template" is a string, or a list of {name, template}.
        let configURL = URL(fileURLWithPath: folder.path).appendingPathComponent("tokenizer_config.json")
        var template: ChatTemplate?
        if let data = FileManager.default.contents(atPath: configURL.path),
           let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            var source = config["chat_template"] as? String
            if source == nil, let list = config["chat_template"] as? [[String: Any]] {
                source = list.first { $0["name"] as? String == "default" }?["template"] as? String ?? list.first?["template"] as? String
            }
            func special(_ key: String) -> String {
                (config[key] as? String) ?? ((config[key] as? [String: Any])?["content"] as? String) ?? ""
            }
            if let source {
                do {
                    template = try ChatTemplate(source, bosToken: special("bos_token"), eosToken: special("eos_token"))
                } catch {
                    throw ModelError("\(configURL.path): its chat template does not compile: \(error)")
                }
            }
        }
        chatTemplate = template
    }

    public init(gguf: GGUFFile) throws {
        self.path = gguf.path
        self.gguf = gguf
        architecture = try loadArchitecture(gguf)
        tokenizer = try loadTokenizer(from: gguf)
        guard tokenizer.vocabularySize <= architecture.vocabularySize else {
            throw ModelError("\(path): the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(architecture.vocabularySize)")
        }
        chatTemplate = try ggufChatTemplate(gguf, tokenizer)
    }
}

/// What to generate.
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var maxTokens: Int = 256
    public var sampling = SamplingParams()
    public var stopStrings: [String] = []
    /// Stop at the model's end-of-generation tokens (EOS/EOT).
    public var stopAtEndOfGeneration = true
    /// Report each token's log-probability and this many top alternatives (0...20); nil: none.
    public var logprobs: Int? = nil

    public init(prompt: [Int32]) { self.prompt = prompt }
}

public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` reached.
    case length
    /// The context window is full.
    case contextFull = "context_full"
}

public struct GenerationStats: Sendable {
    public init() {}
    public var promptTokens = 0
    /// Prompt tokens whose keys and values were already cached (not prefilled again).
    public var cachedPromptTokens = 0
    public var generatedTokens = 0
    public var prefillSeconds = 0.0
    public var decodeSeconds = 0.0
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens - cachedPromptTokens) / prefillSeconds : 0 }
    /// Decode speed counts the tokens after the first (the first comes from the prefill).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(0, generatedTokens - 1)) / decodeSeconds : 0
    }
}

public enum GenerationEvent: Sendable {
    /// New text (possibly empty while a stop-string prefix or partial character is held)
    /// and the token that produced it, with its log-probabilities when the request asked.
    case token(Int32, text: String, logprobs: TokenLogprobs?)
    /// The end; `text` is whatever was still held back (a stop-string prefix that never
    /// completed, or a cut UTF-8 character as U+FFFD).
    case finished(FinishReason, text: String, GenerationStats)
}

/// The chat template a GGUF file carries (`tokenizer.chat_template`), with its BOS/EOS token
/// texts; nil when it has none.
public func ggufChatTemplate(_ gguf: GGUFFile, _ tokenizer: any Tokenizer) throws -> ChatTemplate? {
    guard let source = gguf.metadata["tokenizer.chat_template"]?.string else { return nil }
    func text(_ key: String) -> String { (gguf.metadata[key]?.int).flatMap { tokenizer.tokenText(Int32($0)) } ?? "" }
    do {
        return try ChatTemplate(source, bosToken: text("tokenizer.ggml.bos_token_id"), eosToken: text("tokenizer.ggml.eos_token_id"))
    } catch {
        throw ModelError("\(gguf.path): its chat template does not compile: \(error)")
    }
}
