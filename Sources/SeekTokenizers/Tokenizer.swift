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
    /// Whether `encode(addSpecial: true)` starts with BOS.
    var addsBOS: Bool { get }
    /// Text to ids. `addSpecial` adds what the model adds around a text (BOS/EOS);
    /// with `parseSpecial`, special-token strings in the text become those tokens, otherwise
    /// they are encoded as plain text.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
    /// Ids to text; invalid UTF-8 becomes U+FFFD. Special tokens appear when `renderSpecial`.
    func decode(_ tokens: [Int32], renderSpecial: Bool) -> String
    /// The bytes one token contributes in a stream (control tokens only when `renderSpecial`).
    func bytes(of token: Int32, renderSpecial: Bool) -> [UInt8]
    func tokenText(_ token: Int32) -> String?
}

/// Loads the tokenizer a GGUF file describes.
public func loadTokenizer(from gguf: GGUFFile) throws -> any Tokenizer {
    try GGUFTokenizerBuilder(gguf: gguf).build()
}
