import Foundation
import SeekFormats

/// Byte-level BPE (GPT-2 style, as SmolLM2, Qwen2 and Llama 3 use) from GGUF metadata.
///
/// encode: split on special tokens → per segment, optional digit isolation → pre-tokenizer
/// scanner → UTF-8 bytes as byte-level symbols → BPE merges by rank → ids.
public final class BPETokenizer: Tokenizer {
    public let tokens: [String]
    public let kinds: [TokenKind]
    let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id)
    let merges: [UInt64: (rank: Int32, id: Int32)]
    let byteIds: [Int32]
    let pattern: PreTokenizerPattern
    let isolateDigits: Bool
    let normalizeNFC: Bool
    /// Control and user-defined tokens, longest first, matched in text when parsing specials.
    let specials: [(text: [UInt8], id: Int32)]
    public let bosToken: Int32?
    public let addsBOS: Bool
    public let endOfGenerationTokens: Set<Int32>
    public var vocabularySize: Int { tokens.count }

    public init(gguf: GGUFFile) throws {
        let path = gguf.path
        guard let tokenValues = gguf.metadata["tokenizer.ggml.tokens"]?.array else {
            throw TokenizerError("\(path): missing metadata 'tokenizer.ggml.tokens'")
        }
        var tokens: [String] = []
        tokens.reserveCapacity(tokenValues.count)
        for v in tokenValues {
            guard let s = v.string else { throw TokenizerError("\(path): tokenizer.ggml.tokens holds a non-string") }
            tokens.append(s)
        }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw TokenizerError("\(path): vocabulary size \(tokens.count) is invalid")
        }
        self.tokens = tokens
        var kinds = [TokenKind](repeating: .normal, count: tokens.count)
        if let types = gguf.metadata["tokenizer.ggml.token_type"]?.array {
            guard types.count == tokens.count else {
                throw TokenizerError("\(path): tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens")
            }
            for (i, t) in types.enumerated() { kinds[i] = t.int.flatMap { TokenKind(rawValue: Int32($0)) } ?? .normal }
        }
        self.kinds = kinds
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        self.ids = ids

        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[String(Character(ByteLevel.byteToScalar[b]))] { byteIds[b] = id }
        }
        self.byteIds = byteIds

        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        if let mergeValues = gguf.metadata["tokenizer.ggml.merges"]?.array {
            merges.reserveCapacity(mergeValues.count)
            for (rank, v) in mergeValues.enumerated() {
                guard let s = v.string, let space = s.firstIndex(of: " ") else {
                    throw TokenizerError("\(path): merge \(rank) is not two tokens separated by a space")
                }
                let left = String(s[..<space]), right = String(s[s.index(after: space)...])
                guard let l = ids[left], let r = ids[right], let m = ids[left + right] else { continue }
                let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
                if merges[key] == nil { merges[key] = (Int32(rank), m) }
            }
        }
        self.merges = merges

        let pre = (gguf.metadata["tokenizer.ggml.pre"]?.string) ?? "default"
        guard let (pattern, isolateDigits, nfc) = PreTokenizerPattern.forGGUF(pre: pre) else {
            throw TokenizerError("\(path): pre-tokenizer '\(pre)' is not supported yet")
        }
        self.pattern = pattern
        self.isolateDigits = isolateDigits
        self.normalizeNFC = nfc

        var specials: [(text: [UInt8], id: Int32)] = []
        for (i, k) in kinds.enumerated() where k == .control || k == .userDefined {
            let text = Array(tokens[i].utf8)
            if !text.isEmpty { specials.append((text, Int32(i))) }
        }
        specials.sort { $0.text.count > $1.text.count }
        self.specials = specials

        func optionalID(_ key: String) -> Int32? {
            guard let v = gguf.metadata[key]?.int, v >= 0, v < tokens.count else { return nil }
            return Int32(v)
        }
        bosToken = optionalID("tokenizer.ggml.bos_token_id")
        addsBOS = gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false
        var eog = Set<Int32>()
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = optionalID(key) { eog.insert(id) }
        }
        // Fallback as llama.cpp does it: chat models end turns with these control tokens even
        // when the file names only one EOS. Matched by exact text, control tokens only.
        let endOfTurnTexts: Set<String> = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>",
                                           "<end_of_turn>", "<|end|>", "<｜end▁of▁sentence｜>", "<|eom_id|>"]
        for (i, k) in kinds.enumerated() where k == .control && endOfTurnTexts.contains(tokens[i]) {
            eog.insert(Int32(i))
        }
        endOfGenerationTokens = eog
    }

    public func tokenText(_ token: Int32) -> String? {
        token >= 0 && Int(token) < tokens.count ? tokens[Int(token)] : nil
    }

    public func bytes(of token: Int32, renderSpecial: Bool) -> [UInt8] {
        guard token >= 0, Int(token) < tokens.count else { return [] }
        let t = tokens[Int(token)]
        switch kinds[Int(token)] {
        case .control, .unknown, .unused:
            return renderSpecial ? Array(t.utf8) : []
        case .userDefined:
            return Array(t.utf8)
        case .normal, .byte:
            return ByteLevel.bytes(of: t) ?? Array(t.utf8)
        }
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var out: [Int32] = []
        if addsBOS, let bos = bosToken { out.append(bos) }
        let utf8 = Array(text.utf8)
        var segmentStart = 0
        var i = 0
        if parseSpecial && !specials.isEmpty {
            while i < utf8.count {
                if let match = specialMatch(utf8, at: i) {
                    encodeSegment(utf8[segmentStart..<i], into: &out)
                    out.append(match.id)
                    i += match.length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
        }
        encodeSegment(utf8[segmentStart..<utf8.count], into: &out)
        return out
    }

    private func specialMatch(_ utf8: [UInt8], at i: Int) -> (id: Int32, length: Int)? {
        for s in specials where s.text.count <= utf8.count - i && s.text[0] == utf8[i] {
            var ok = true
            for k in 1..<s.text.count where utf8[i + k] != s.text[k] {
                ok = false
                break
            }
            if ok { return (s.id, s.text.count) }
        }
        return nil
    }

    private func encodeSegment(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
        guard !bytes.isEmpty else { return }
        var text = String(decoding: bytes, as: UTF8.self)
        if normalizeNFC { text = text.precomposedStringWithCanonicalMapping }
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(classify)
        var pieces: [Range<Int>] = []
        if isolateDigits {
            var start = 0
            for k in 0..<scalars.count where classes[k] == .number {
                if start < k { splitPiece(scalars, classes, start..<k, &pieces) }
                pieces.append(k..<(k + 1))
                start = k + 1
            }
            if start < scalars.count { splitPiece(scalars, classes, start..<scalars.count, &pieces) }
        } else {
            pattern.split(scalars, classes: classes, into: &pieces)
        }
        var word: [UInt8] = []
        for p in pieces {
            word.removeAll(keepingCapacity: true)
            for s in scalars[p] { word.append(contentsOf: String(s).utf8) }
            bpe(word, into: &out)
        }
    }

    private func splitPiece(_ s: [Unicode.Scalar], _ c: [CharClass], _ r: Range<Int>, _ out: inout [Range<Int>]) {
        var local: [Range<Int>] = []
        pattern.split(Array(s[r]), classes: Array(c[r]), into: &local)
        for l in local { out.append((l.lowerBound + r.lowerBound)..<(l.upperBound + r.lowerBound)) }
    }

    /// Merges the byte symbols of one pre-token: repeatedly the adjacent pair with the lowest
    /// merge rank (leftmost on ties), as the reference BPE does.
    private func bpe(_ word: [UInt8], into out: inout [Int32]) {
        var symbols = word.map { byteIds[Int($0)] }
        if symbols.contains(-1) {
            // A byte with no token (not in this vocabulary): nothing sensible to merge.
            out += symbols.filter { $0 >= 0 }
            return
        }
        while symbols.count > 1 {
            var best: (rank: Int32, at: Int, id: Int32) = (Int32.max, -1, -1)
            for k in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(bitPattern: symbols[k])) << 32 | UInt64(UInt32(bitPattern: symbols[k + 1]))
                if let m = merges[key], m.rank < best.rank { best = (m.rank, k, m.id) }
            }
            if best.at < 0 { break }
            symbols[best.at] = best.id
            symbols.remove(at: best.at + 1)
        }
        out += symbols
    }
}
