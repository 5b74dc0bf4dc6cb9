import Foundation

/// Text normalizers of tokenizer.json (`normalizer`), applied before pre-tokenization.
public indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)
    case prepend(String)
    case replace(TextPattern, String)
    case sequence([Normalizer])

    public func apply(_ s: String) -> String {
        switch self {
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        case .lowercase: return s.lowercased()
        case .strip(let l, let r): return pyStripWhitespace(s, left: l, right: r)
        case .prepend(let p): return s.isEmpty ? s : p + s
        case .replace(let pattern, let content): return pattern.replaceAll(in: s, with: content)
        case .sequence(let steps): return steps.reduce(s) { $1.apply($0) }
        }
    }
}

func pyStripWhitespace(_ s: String, left: Bool, right: Bool) -> String {
    var u = Substring(s).unicodeScalars[...]
    if left { while let f = u.first, f.properties.isWhitespace { u = u.dropFirst() } }
    if right { while let l = u.last, l.properties.isWhitespace { u = u.dropLast() } }
    return String(String.UnicodeScalarView(u))
}

/// A `pattern` of tokenizer.json: `{"String": ...}` (literal) or `{"Regex": ...}`.
public enum TextPattern: @unchecked Sendable {
    case literal(String)
    case regex(NSRegularExpression, source: String)

    /// Non-overlapping match ranges, as scalar offsets.
    func matches(in scalars: [Unicode.Scalar], text: String) -> [Range<Int>] {
        switch self {
        case .literal(let lit):
            let l = Array(lit.unicodeScalars)
            guard !l.isEmpty, l.count <= scalars.count else { return [] }
            var out: [Range<Int>] = []
            var i = 0
            while i + l.count <= scalars.count {
                if scalars[i] == l[0] && Array(scalars[i..<(i + l.count)]) == l {
                    out.append(i..<(i + l.count))
                    i += l.count
                } else {
                    i += 1
                }
            }
            return out
        case .regex(let re, _):
            // NSRegularExpression reports UTF-16 offsets; map them to scalar offsets.
            let ns = text as NSString
            var utf16ToScalar: [Int: Int] = [:]
            var u16 = 0
            for (k, s) in scalars.enumerated() {
                utf16ToScalar[u16] = k
                u16 += s.utf16.count
            }
            utf16ToScalar[u16] = scalars.count
            return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { m in
                guard m.range.length > 0, let a = utf16ToScalar[m.range.location], let b = utf16ToScalar[m.range.location + m.range.length] else { return nil }
                return a..<b
            }
        }
    }

    func replaceAll(in s: String, with content: String) -> String {
        switch self {
        case .literal(let lit):
            // On Unicode scalars: String's own matching works on grapheme clusters (a space
            // followed by a combining mark would not match " ") and may normalise.
            let text = Array(s.unicodeScalars), l = Array(lit.unicodeScalars), c = Array(content.unicodeScalars)
            guard !l.isEmpty else { return s }
            var out = String.UnicodeScalarView()
            var i = 0
            while i < text.count {
                if text[i] == l[0], i + l.count <= text.count, text[i..<(i + l.count)].elementsEqual(l) {
                    out.append(contentsOf: c)
                    i += l.count
                } else {
                    out.append(text[i])
                    i += 1
                }
            }
            return String(out)
        case .regex(let re, _):
            return re.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: (s as NSString).length),
                                               withTemplate: NSRegularExpression.escapedTemplate(for: content))
        }
    }
}
