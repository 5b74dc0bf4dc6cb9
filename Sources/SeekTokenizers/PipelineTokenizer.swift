import Foundation

/// A tokenizer as tokenizer.json describes one: added tokens → normalizer → pre-tokenizer →
/// model → post-processor, and decoders back. GGUF vocabularies build the same pipeline.
public final class PipelineTokenizer: Tokenizer {
    let vocabulary: Vocabulary
    let kinds: [TokenKind]
    let added: AddedVocabulary
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizerStep?
    let model: any SubwordModel
    /// Ids put around an encoding when special tokens are added (TemplateProcessing / add_bos).
    let prefix: [Int32]
    let suffix: [Int32]
    let decoder: DecoderStep?
    let streamDecoder: DecoderStep?
    let byteFallback: Bool
    public let bosToken: Int32?
    public let endOfGenerationTokens: Set<Int32>
    public var addsBOS: Bool { bosToken.map { prefix.contains($0) } ?? false }
    public var vocabularySize: Int { vocabulary.tokens.count }

    init(vocabulary: Vocabulary, kinds: [TokenKind], added: AddedVocabulary, normalizer: Normalizer?,
         preTokenizer: PreTokenizerStep?, model: any SubwordModel, prefix: [Int32], suffix: [Int32],
         decoder: DecoderStep?, bosToken: Int32?, endOfGenerationTokens: Set<Int32>) {
        self.vocabulary = vocabulary
        self.kinds = kinds
        self.added = added
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.prefix = prefix
        self.suffix = suffix
        self.decoder = decoder
        streamDecoder = decoder?.forStreaming
        byteFallback = decoder?.hasByteFallback ?? false
        self.bosToken = bosToken
        self.endOfGenerationTokens = endOfGenerationTokens
    }

    public func tokenText(_ token: Int32) -> String? {
        token >= 0 && Int(token) < vocabulary.tokens.count ? vocabulary.tokens[Int(token)] : nil
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var out: [Int32] = addSpecial ? prefix : []
        for segment in added.split(Array(text.utf8), parseSpecial: parseSpecial) {
            switch segment {
            case .token(let id):
                out.append(id)
            case .text(let bytes):
                var s = String(decoding: bytes, as: UTF8.self)
                if let normalizer { s = normalizer.apply(s) }
                let scalars = Array(s.unicodeScalars)
                let pieces = preTokenizer?.apply([scalars]) ?? [scalars]
                for p in pieces where !p.isEmpty { model.tokenize(p, into: &out) }
            }
        }
        if addSpecial { out += suffix }
        return out
    }

    public func bytes(of token: Int32, renderSpecial: Bool) -> [UInt8] {
        guard token >= 0, Int(token) < vocabulary.tokens.count else { return [] }
        let t = vocabulary.tokens[Int(token)]
        switch kinds[Int(token)] {
        case .control, .unknown, .unused:
            return renderSpecial ? Array(t.utf8) : []
        case .userDefined:
            return Array(t.utf8)
        case .normal, .byte:
            // A byte token is its byte, even when it is only part of a character: the text
            // stream reassembles UTF-8 across tokens.
            let u = Array(t.utf8)
            if byteFallback || kinds[Int(token)] == .byte, u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
               let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                return [b]
            }
            // One token through the decoders, without first-token rules (streaming).
            guard let streamDecoder else { return u }
            return streamDecoder.apply([[], u]).flatMap { $0 }
        }
    }

    public func decode(_ tokens: [Int32], renderSpecial: Bool) -> String {
        var pieces: [[UInt8]] = []
        for id in tokens where id >= 0 && Int(id) < vocabulary.tokens.count {
            switch kinds[Int(id)] {
            case .control, .unknown, .unused:
                if renderSpecial { pieces.append(Array(vocabulary.tokens[Int(id)].utf8)) }
            default:
                pieces.append(Array(vocabulary.tokens[Int(id)].utf8))
            }
        }
        // Added tokens pass through the decoders unchanged in the reference; byte-level
        // mapping leaves ASCII-only special strings intact, so running them through is safe.
        let decoded = decoder?.apply(pieces) ?? pieces
        return String(decoding: decoded.flatMap { $0 }, as: UTF8.self)
    }
}
