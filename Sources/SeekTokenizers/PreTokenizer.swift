/// Native scanners for the pre-tokenizer regexes of byte-level BPE models. Each reproduces
/// the leftmost-first alternation semantics of the regex it names (as the Rust `tokenizers`
/// crate / Oniguruma evaluate it), including the `\s+(?!\S)` backtracking, without a regex engine.
///
/// Character classes follow Unicode: `\p{L}` letters, `\p{N}` numbers, `\s` White_Space.
public enum PreTokenizerPattern: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3 / Qwen2: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` with N = `maxDigits`.
    case llama3(maxDigits: Int)
    /// `\p{N}{1,N}`: groups of up to N numeric characters (only numbers match).
    case digitGroups(max: Int)
    /// `[一-龥぀-ゟ゠-ヿ]+`: runs of CJK ideographs (U+4E00–U+9FA5), hiragana and katakana.
    case cjkRuns
    /// DeepSeek-V3's main split: ``[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
    /// ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+``
    case deepseekV3

    /// tokenizer.json Split regexes that have a native scanner, by their exact source.
    static let known: [String: PreTokenizerPattern] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llama3(maxDigits: 3),
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llama3(maxDigits: 1),
        #"\p{N}{1,3}"#: .digitGroups(max: 3),
        #"\p{N}"#: .digitGroups(max: 1),
        "[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+": .cjkRuns,
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+": .deepseekV3,
    ]

    /// The pre-tokenizer steps for a GGUF `tokenizer.ggml.pre` value, and whether text is
    /// NFC-normalized first (Qwen2's tokenizer.json has an NFC normalizer; the GGUF does not
    /// record it, so it is known per pre-tokenizer name). The regex lists are the models'
    /// own (as their tokenizer.json files and llama.cpp's vocabulary table give them).
    public static func stepsForGGUF(pre: String) throws -> (steps: [PreTokenizerStep], nfc: Bool)? {
        func split(_ p: PreTokenizerPattern) -> PreTokenizerStep { .split(.native(p), .isolated, invert: false) }
        func regexes(_ list: [String]) throws -> [PreTokenizerStep] {
            try list.map { .split(try SplitPattern.from(regex: $0), .isolated, invert: false) }
        }
        switch pre {
        case "gpt-2", "gpt2", "default", "phi-2", "jina-es", "jina-de", "roberta-bpe", "mpt", "olmo":
            return ([split(.gpt2)], false)
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone":
            return ([.digits(individual: true), split(.gpt2)], false)
        case "llama-bpe", "llama3", "falcon3", "dbrx", "smaug-bpe":
            return ([split(.llama3(maxDigits: 3))], false)
        case "qwen2", "deepseek-r1-qwen", "qwen35", "megrez":
            return ([split(.llama3(maxDigits: 1))], true)
        case "deepseek-v3", "hunyuan-dense":
            return ([split(.digitGroups(max: 3)), split(.cjkRuns), split(.deepseekV3)], false)
        case "deepseek-llm":
            return (try regexes(deepseekLLMRegexes), false)
        case "deepseek-coder":
            return (try regexes([#"[\r\n]"#, #"\s?\p{L}+"#, #"\s?\p{P}+"#, "[\u{4E00}-\u{9FA5}\u{0800}-\u{4E00}\u{AC00}-\u{D7FF}]+", #"\p{N}"#]), false)
        default:
            return nil
        }
    }

    /// DeepSeek-LLM's split list (its letters class spelt out, as the model defines it).
    static let deepseekLLMRegexes = [
        #"[\r\n]"#,
        "\\s?[\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}-\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}-\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}-\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",  // cased letters, code points spelt out (text tools normalise some of them)
        "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
        #"\s+$"#,
        "[\u{4E00}-\u{9FA5}\u{0800}-\u{4E00}\u{AC00}-\u{D7FF}]+",
        #"\p{N}+"#,
    ]
}

enum CharClass: UInt8 {
    case letter, number, whitespace, newline, other
}

@inline(__always)
func classify(_ s: Unicode.Scalar) -> CharClass {
    let v = s.value
    if v < 0x80 {
        switch v {
        case 0x61...0x7A, 0x41...0x5A: return .letter
        case 0x30...0x39: return .number
        case 0x0A, 0x0D: return .newline
        case 0x09, 0x0B, 0x0C, 0x20: return .whitespace
        default: return .other
        }
    }
    if v == 0x85 { return .whitespace }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    default: return s.properties.isWhitespace ? .whitespace : .other
    }
}

extension PreTokenizerPattern {
    /// Splits `text` into pre-token ranges (scalar offsets into `scalars`).
    func split(_ scalars: [Unicode.Scalar], classes: [CharClass], into out: inout [Range<Int>]) {
        switch self {
        case .gpt2: splitGPT2(scalars, classes, &out)
        case .llama3(let maxDigits): splitLlama3(scalars, classes, maxDigits, &out)
        case .digitGroups(let max):
            var i = 0
            while i < scalars.count {
                guard classes[i] == .number else { i += 1; continue }
                let start = i
                while i < scalars.count, classes[i] == .number, i - start < max { i += 1 }
                out.append(start..<i)
            }
        case .cjkRuns:
            var i = 0
            while i < scalars.count {
                guard isCJK(scalars[i]) else { i += 1; continue }
                let start = i
                while i < scalars.count, isCJK(scalars[i]) { i += 1 }
                out.append(start..<i)
            }
        case .deepseekV3: splitDeepseekV3(scalars, &out)
        }
    }
}

@inline(__always)
private func isSpace(_ c: CharClass) -> Bool { c == .whitespace || c == .newline }

/// `'s|'t|'re|'ve|'m|'ll|'d` at `i`; returns the match length (0 when none).
@inline(__always)
private func contraction(_ s: [Unicode.Scalar], _ i: Int, caseInsensitive: Bool) -> Int {
    guard s[i] == "'", i + 1 < s.count else { return 0 }
    func lower(_ k: Int) -> UInt32 {
        let v = s[k].value
        return caseInsensitive && (0x41...0x5A).contains(v) ? v + 32 : v
    }
    switch lower(i + 1) {
    case 0x73, 0x74, 0x6D, 0x64: return 2 // s t m d
    case 0x72, 0x76: // re ve
        return i + 2 < s.count && lower(i + 2) == 0x65 ? 3 : 0
    case 0x6C: // ll
        return i + 2 < s.count && lower(i + 2) == 0x6C ? 3 : 0
    default: return 0
    }
}

/// End of the whitespace alternatives `\s+(?!\S)|\s+` starting at `i` (a whitespace scalar).
@inline(__always)
private func trailingWhitespaceEnd(_ c: [CharClass], _ i: Int) -> Int {
    var j = i
    while j < c.count, isSpace(c[j]) { j += 1 }
    if j == c.count { return j }
    // Followed by a non-space: the lookahead version gives back the last space (if that
    // leaves at least one), so the space can prefix the next word; else `\s+` takes one.
    return j - i >= 2 ? j - 1 : j
}

private func splitGPT2(_ s: [Unicode.Scalar], _ c: [CharClass], _ out: inout [Range<Int>]) {
    let n = s.count
    var i = 0
    while i < n {
        let start = i
        let k = contraction(s, i, caseInsensitive: false)
        if k > 0 {
            i += k
        } else {
            var j = i
            if s[j] == " ", j + 1 < n, !isSpace(c[j + 1]) { j += 1 }
            let cls = c[j]
            if !isSpace(cls) {
                // ` ?\p{L}+`, ` ?\p{N}+` or ` ?[^\s\p{L}\p{N}]+`: a run of one class.
                j += 1
                while j < n, c[j] == cls { j += 1 }
                i = j
            } else {
                i = trailingWhitespaceEnd(c, i)
            }
        }
        out.append(start..<i)
    }
}

private func splitLlama3(_ s: [Unicode.Scalar], _ c: [CharClass], _ maxDigits: Int, _ out: inout [Range<Int>]) {
    let n = s.count
    var i = 0
    while i < n {
        let start = i
        defer { out.append(start..<i) }
        let k = contraction(s, i, caseInsensitive: true)
        if k > 0 {
            i += k
            continue
        }
        let cls = c[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if cls == .letter || (cls != .newline && cls != .number && i + 1 < n && c[i + 1] == .letter) {
            i += 1
            while i < n, c[i] == .letter { i += 1 }
            continue
        }
        // `\p{N}{1,maxDigits}`
        if cls == .number {
            var d = 0
            while i < n, c[i] == .number, d < maxDigits {
                i += 1
                d += 1
            }
            continue
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var j = i
        if s[j] == " ", j + 1 < n, c[j + 1] == .other { j += 1 }
        if c[j] == .other {
            while j < n, c[j] == .other { j += 1 }
            while j < n, c[j] == .newline { j += 1 }
            i = j
            continue
        }
        // `\s*[\r\n]+`: up to and including the last newline of this whitespace run.
        var end = i
        var lastNewline = -1
        while end < n, isSpace(c[end]) {
            if c[end] == .newline { lastNewline = end }
            end += 1
        }
        if lastNewline >= 0 {
            i = lastNewline + 1
            continue
        }
        i = trailingWhitespaceEnd(c, i)
    }
}

extension PreTokenizerPattern {
    /// The pre-tokens of `text` as strings (for tests and debugging).
    public func debugSplit(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var ranges: [Range<Int>] = []
        split(scalars, classes: scalars.map(classify), into: &ranges)
        return ranges.map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }
}

@inline(__always)
private func isCJK(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    return (0x4E00...0x9FA5).contains(v) || (0x3040...0x309F).contains(v) || (0x30A0...0x30FF).contains(v)
}

/// Finer Unicode classes for patterns that tell punctuation, symbols and marks apart.
enum FineClass: UInt8 {
    case letter, mark, number, punctuation, symbol, space, newline, other
}

private let asciiFine: [FineClass] = (0..<128).map { v -> FineClass in
    let s = Unicode.Scalar(UInt8(v))
    switch v {
    case 0x0A, 0x0D: return .newline
    case 0x09, 0x0B, 0x0C, 0x20: return .space
    case 0x30...0x39: return .number
    case 0x41...0x5A, 0x61...0x7A: return .letter
    default: return fineClassifySlow(s)
    }
}

@inline(__always)
func fineClassify(_ s: Unicode.Scalar) -> FineClass {
    s.value < 128 ? asciiFine[Int(s.value)] : fineClassifySlow(s)
}

private func fineClassifySlow(_ s: Unicode.Scalar) -> FineClass {
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
    case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
    case .decimalNumber, .letterNumber, .otherNumber: return .number
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return .punctuation
    case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return .symbol
    default:
        if s.value == 0x0A || s.value == 0x0D { return .newline }
        return s.properties.isWhitespace ? .space : .other
    }
}

private func splitDeepseekV3(_ s: [Unicode.Scalar], _ out: inout [Range<Int>]) {
    let n = s.count
    let c = s.map(fineClassify)
    func isSpaceLike(_ k: Int) -> Bool { c[k] == .space || c[k] == .newline }
    func isAsciiLetter(_ k: Int) -> Bool { s[k].value < 128 && c[k] == .letter }
    var i = 0
    while i < n {
        let start = i
        // [ASCII punctuation][A-Za-z]+
        if s[i].value < 128, c[i] == .punctuation || c[i] == .symbol, i + 1 < n, isAsciiLetter(i + 1) {
            i += 2
            while i < n, isAsciiLetter(i) { i += 1 }
            out.append(start..<i)
            continue
        }
        // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
        let prefixOK = c[i] != .newline && c[i] != .letter && c[i] != .punctuation && c[i] != .symbol
        if c[i] == .letter || c[i] == .mark || (prefixOK && i + 1 < n && (c[i + 1] == .letter || c[i + 1] == .mark)) {
            i += 1
            while i < n, c[i] == .letter || c[i] == .mark { i += 1 }
            out.append(start..<i)
            continue
        }
        // ` ?[\p{P}\p{S}]+[\r\n]*`
        var j = i
        if s[j] == " ", j + 1 < n, c[j + 1] == .punctuation || c[j + 1] == .symbol { j += 1 }
        if c[j] == .punctuation || c[j] == .symbol {
            while j < n, c[j] == .punctuation || c[j] == .symbol { j += 1 }
            while j < n, c[j] == .newline { j += 1 }
            i = j
            out.append(start..<i)
            continue
        }
        guard isSpaceLike(i) else {
            i += 1  // matches nothing: left to the caller as part of a gap
            continue
        }
        // `\s*[\r\n]+`, then `\s+(?!\S)|\s+`
        var end = i
        var lastNewline = -1
        while end < n, isSpaceLike(end) {
            if c[end] == .newline { lastNewline = end }
            end += 1
        }
        if lastNewline >= 0 {
            i = lastNewline + 1
        } else if end == n {
            i = end
        } else {
            i = end - i >= 2 ? end - 1 : end
        }
        out.append(start..<i)
    }
}
