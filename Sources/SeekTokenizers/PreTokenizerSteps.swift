import Foundation

/// How a Split keeps its matches (tokenizers' `SplitDelimiterBehavior`).
public enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// What a Split step matches: one of the regexes we scan natively, or a literal/regex fallback.
public enum SplitPattern: Sendable {
    case native(PreTokenizerPattern)
    case text(TextPattern)

    /// Recognises the regexes of the models we run so they take the native scanners.
    public static func from(regex source: String) throws -> SplitPattern {
        if let known = PreTokenizerPattern.known[source] { return .native(known) }
        do {
            return .text(.regex(try NSRegularExpression(pattern: source), source: source))
        } catch {
            throw TokenizerError("unsupported pre-tokenizer regex: \(source)")
        }
    }

    func matches(_ scalars: [Unicode.Scalar], _ text: @autoclosure () -> String) -> [Range<Int>] {
        switch self {
        case .native(let p):
            var out: [Range<Int>] = []
            p.split(scalars, classes: scalars.map(classify), into: &out)
            return out
        case .text(let t):
            return t.matches(in: scalars, text: text())
        }
    }
}

/// One pre-tokenizer step of tokenizer.json (or the equivalent built from GGUF metadata).
/// Steps map each piece to smaller pieces; the model then tokenizes each piece on its own.
public indirect enum PreTokenizerStep: Sendable {
    case split(SplitPattern, SplitBehavior, invert: Bool)
    /// Byte-level: optional prefix space and GPT-2 regex; the model then sees bytes.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)
    case metaspace(replacement: Unicode.Scalar, prependScheme: String, split: Bool)
    case whitespace
    case whitespaceSplit
    case punctuation(SplitBehavior)
    case sequence([PreTokenizerStep])

    typealias Piece = [Unicode.Scalar]

    func apply(_ pieces: [Piece]) -> [Piece] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply($0) }
        case .split(let pattern, let behavior, let invert):
            return pieces.flatMap { p in
                splitPiece(p, pattern.matches(p, String(String.UnicodeScalarView(p))), behavior, invert: invert)
            }
        case .byteLevel(let addPrefixSpace, let useRegex):
            return pieces.flatMap { p -> [Piece] in
                var q = p
                if addPrefixSpace && q.first != " " { q.insert(" ", at: 0) }
                guard useRegex else { return [q] }
                var ranges: [Range<Int>] = []
                PreTokenizerPattern.gpt2.split(q, classes: q.map(classify), into: &ranges)
                return ranges.map { Array(q[$0]) }
            }
        case .digits(let individual):
            return pieces.flatMap { p in
                let m = runs(p) { classify($0) == .number }
                return splitPiece(p, individual ? m.flatMap { r in r.map { $0..<($0 + 1) } } : m, individual ? .isolated : .contiguous, invert: false)
            }
        case .metaspace(let replacement, let scheme, let split):
            return pieces.enumerated().flatMap { index, p -> [Piece] in
                var q = p.map { $0 == " " ? replacement : $0 }
                if (scheme == "always" || (scheme == "first" && index == 0)) && q.first != replacement {
                    q.insert(replacement, at: 0)
                }
                guard split else { return [q] }
                let m = q.indices.filter { q[$0] == replacement }.map { $0..<($0 + 1) }
                return splitPiece(q, m, .mergedWithNext, invert: false)
            }
        case .whitespace:
            // \w+|[^\w\s]+
            return pieces.flatMap { p -> [Piece] in
                var out: [Piece] = []
                var i = 0
                while i < p.count {
                    if p[i].properties.isWhitespace { i += 1; continue }
                    let word = isWordChar(p[i])
                    var j = i + 1
                    while j < p.count, !p[j].properties.isWhitespace, isWordChar(p[j]) == word { j += 1 }
                    out.append(Array(p[i..<j]))
                    i = j
                }
                return out
            }
        case .whitespaceSplit:
            return pieces.flatMap { p in p.split { $0.properties.isWhitespace }.map(Array.init) }
        case .punctuation(let behavior):
            return pieces.flatMap { p in
                splitPiece(p, p.indices.filter { isPunctuation(p[$0]) }.map { $0..<($0 + 1) }, behavior, invert: false)
            }
        }
    }
}

private func isWordChar(_ s: Unicode.Scalar) -> Bool {
    s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil || s.properties.generalCategory == .nonspacingMark
}

private func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII { return (33...47).contains(s.value) || (58...64).contains(s.value) || (91...96).contains(s.value) || (123...126).contains(s.value) }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
    default: return false
    }
}

/// Maximal runs of scalars satisfying `f`.
private func runs(_ p: [Unicode.Scalar], _ f: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < p.count {
        if f(p[i]) {
            var j = i + 1
            while j < p.count, f(p[j]) { j += 1 }
            out.append(i..<j)
            i = j
        } else {
            i += 1
        }
    }
    return out
}

/// Splits one piece at `matches` (sorted, non-overlapping) with tokenizers' behaviours.
func splitPiece(_ p: [Unicode.Scalar], _ matches: [Range<Int>], _ behavior: SplitBehavior, invert: Bool) -> [[Unicode.Scalar]] {
    // Spans in order, each marked as a match (delimiter) or not.
    var spans: [(Range<Int>, Bool)] = []
    var last = 0
    for m in matches {
        if m.lowerBound > last { spans.append((last..<m.lowerBound, false)) }
        spans.append((m, true))
        last = m.upperBound
    }
    if last < p.count { spans.append((last..<p.count, false)) }
    if invert { spans = spans.map { ($0.0, !$0.1) } }

    var out: [Range<Int>] = []
    switch behavior {
    case .removed:
        out = spans.filter { !$0.1 }.map(\.0)
    case .isolated:
        out = spans.map(\.0)
    case .contiguous:
        var lastWasMatch = false
        for (r, isMatch) in spans {
            if isMatch, lastWasMatch, let prev = out.last {
                out[out.count - 1] = prev.lowerBound..<r.upperBound
            } else {
                out.append(r)
            }
            lastWasMatch = isMatch
        }
    case .mergedWithPrevious:
        var previousWasGap = false
        for (r, isMatch) in spans {
            if isMatch, previousWasGap, let prev = out.last {
                out[out.count - 1] = prev.lowerBound..<r.upperBound
                previousWasGap = false
            } else {
                out.append(r)
                previousWasGap = !isMatch
            }
        }
    case .mergedWithNext:
        var pendingStart: Int?
        for (r, isMatch) in spans {
            if isMatch {
                if let s = pendingStart { out.append(s..<r.lowerBound) }
                pendingStart = r.lowerBound
            } else {
                out.append((pendingStart ?? r.lowerBound)..<r.upperBound)
                pendingStart = nil
            }
        }
        if let s = pendingStart { out.append(s..<p.count) }
    }
    return out.filter { !$0.isEmpty }.map { Array(p[$0]) }
}

extension PreTokenizerStep {
    /// The pieces of `text` as strings (for tests and debugging).
    public func debugApply(_ text: String) -> [String] {
        apply([Array(text.unicodeScalars)]).map { String(String.UnicodeScalarView($0)) }
    }
}
