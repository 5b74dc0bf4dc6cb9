/// Tokens matched in the raw text before anything else (tokenizer.json `added_tokens`, or
/// GGUF control/user-defined tokens), longest first.
struct AddedToken: Sendable {
    let content: [UInt8]
    let id: Int32
    /// Special tokens are skipped when `parseSpecial` is off.
    let special: Bool
    let lstrip: Bool
    let rstrip: Bool
    let singleWord: Bool
}

enum Segment {
    case text(ArraySlice<UInt8>)
    case token(Int32)
}

struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    /// Tokens by first byte, longest first.
    private let byFirstByte: [[AddedToken]]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        var table = [[AddedToken]](repeating: [], count: 256)
        for t in tokens where !t.content.isEmpty { table[Int(t.content[0])].append(t) }
        byFirstByte = table.map { $0.sorted { $0.content.count > $1.content.count } }
    }

    /// Splits UTF-8 text into plain segments and added tokens.
    func split(_ utf8: [UInt8], parseSpecial: Bool) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(utf8[...])] }
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        while i < utf8.count {
            guard let t = match(utf8, at: i, parseSpecial: parseSpecial) else {
                i += 1
                continue
            }
            var textEnd = i
            if t.lstrip { while textEnd > textStart, isSpace(utf8[textEnd - 1]) { textEnd -= 1 } }
            if textEnd > textStart { out.append(.text(utf8[textStart..<textEnd])) }
            out.append(.token(t.id))
            i += t.content.count
            if t.rstrip { while i < utf8.count, isSpace(utf8[i]) { i += 1 } }
            textStart = i
        }
        if textStart < utf8.count { out.append(.text(utf8[textStart..<utf8.count])) }
        return out
    }

    private func match(_ utf8: [UInt8], at i: Int, parseSpecial: Bool) -> AddedToken? {
        for t in byFirstByte[Int(utf8[i])] where (parseSpecial || !t.special) && t.content.count <= utf8.count - i {
            var ok = true
            for k in 1..<t.content.count where utf8[i + k] != t.content[k] {
                ok = false
                break
            }
            guard ok else { continue }
            if t.singleWord {
                let before = i > 0 ? utf8[i - 1] : 0x20
                let after = i + t.content.count < utf8.count ? utf8[i + t.content.count] : 0x20
                if isWordByte(before) || isWordByte(after) { continue }
            }
            return t
        }
        return nil
    }

    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    private func isWordByte(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80 }
}
