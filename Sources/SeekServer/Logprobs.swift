import Foundation
import SeekEngine
import SeekTokenizers

/// OpenAI's chat `logprobs.content[]` entry: the token's text, its log-probability, its UTF-8
/// bytes (a token may be part of a character) and the most likely alternatives.
struct ChatLogprob: Encodable, Sendable {
    struct Alternative: Encodable, Sendable {
        let token: String
        let logprob: Float
        let bytes: [UInt8]
    }
    let token: String
    let logprob: Float
    let bytes: [UInt8]
    let top_logprobs: [Alternative]
}

/// `choices[].logprobs` of a chat completion or chunk.
struct ChatLogprobs: Encodable, Sendable {
    let content: [ChatLogprob]
}

/// Turns the engine's token log-probabilities into the API's shapes.
struct LogprobFormatter: Sendable {
    let tokenizer: any Tokenizer

    /// JSON has no infinity; OpenAI reports impossible tokens as -9999.
    static func finite(_ x: Float) -> Float { x.isFinite ? x : -9999 }

    func bytes(_ token: Int32) -> [UInt8] { tokenizer.bytes(of: token, renderSpecial: true) }
    func text(_ token: Int32) -> String { String(decoding: bytes(token), as: UTF8.self) }

    func chat(_ l: TokenLogprobs) -> ChatLogprob {
        ChatLogprob(token: text(l.chosen.token), logprob: Self.finite(l.chosen.logprob), bytes: bytes(l.chosen.token),
                    top_logprobs: l.top.map { .init(token: text($0.token), logprob: Self.finite($0.logprob), bytes: bytes($0.token)) })
    }
}

/// The legacy completions `logprobs` object: parallel lists per token.
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var token_logprobs: [Float] = []
    var top_logprobs: [[String: Float]] = []
    var text_offset: [Int] = []

    /// Appends one token; `offset` is where its text starts in the choice's text.
    mutating func append(_ l: TokenLogprobs, offset: Int, _ f: LogprobFormatter) {
        tokens.append(f.text(l.chosen.token))
        token_logprobs.append(LogprobFormatter.finite(l.chosen.logprob))
        var top: [String: Float] = [:]
        for a in l.top where top[f.text(a.token)] == nil { top[f.text(a.token)] = LogprobFormatter.finite(a.logprob) }
        top_logprobs.append(top)
        text_offset.append(offset)
    }

    var isEmpty: Bool { tokens.isEmpty }
}
