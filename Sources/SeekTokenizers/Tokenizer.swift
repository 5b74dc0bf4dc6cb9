import SeekFormats

/// How a GGUF vocabulary marks tokens (`tokenizer.ggml.token_type`).
public enum TokenKind: Int32, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Text ↔ token ids. Every model family's tokenizer conforms; the engine sees only this.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    var bosToken: Int32? { get }
    /// Tokens that end generation (EOS, EOT and the end-of-turn control tokens).
    var endOfGenerationTokens: Set<Int32> { get }
    /// Whether `encode` should start with BOS (from the model file).
    var addsBOS: Bool { get }
    /// Text to ids. With `parseSpecial`, control/user-defined token strings in the text become
    /// those tokens; otherwise they are encoded as plain text.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]
    /// The raw bytes of one token (control tokens give their text only when `renderSpecial`).
    func bytes(of token: Int32, renderSpecial: Bool) -> [UInt8]
    func tokenText(_ token: Int32) -> String?
}

extension Tokenizer {
    /// Ids to text; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    public func decode(_ tokens: [Int32], renderSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for t in tokens { bytes += self.bytes(of: t, renderSpecial: renderSpecial) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Loads the tokenizer a GGUF file describes.
public func loadTokenizer(from gguf: GGUFFile) throws -> any Tokenizer {
    let model = try gguf.string("tokenizer.ggml.model")
    switch model {
    case "gpt2":
        return try BPETokenizer(gguf: gguf)
    default:
        throw TokenizerError("\(gguf.path): tokenizer model '\(model)' is not supported yet (supported: gpt2)")
    }
}
