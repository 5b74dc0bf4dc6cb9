/// Jinja lexer with jinja2's whitespace rules: `{%- -%}`/`{{- -}}`/`{#- -#}` strip all
/// whitespace on that side; `trim_blocks` drops the first newline after a block or comment
/// tag; `lstrip_blocks` drops spaces and tabs before a block or comment tag that starts a
/// line (`{%+` opts out). These are the settings transformers renders chat templates with.
struct Token: Equatable {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
    }
    let kind: Kind
    let line: Int
    let column: Int
}

struct LexerOptions {
    var trimBlocks = true
    var lstripBlocks = true
}

struct Lexer {
    let source: [Character]
    let options: LexerOptions
    var i = 0
    var line = 1
    var column = 1
    var tokens: [Token] = []

    init(_ text: String, options: LexerOptions) {
        // jinja2 normalises newlines to "\n" and, without keep_trailing_newline, drops one
        // trailing newline of the source.
        var t = text.replacingOccurrences(of: "\r\n", with: "\n")
        if t.hasSuffix("\n") { t.removeLast() }
        source = Array(t)
        self.options = options
    }

    static func tokenize(_ text: String, options: LexerOptions = LexerOptions()) throws -> [Token] {
        var l = Lexer(text, options: options)
        try l.run()
        return l.tokens
    }

    private func peek(_ k: Int = 0) -> Character? { i + k < source.count ? source[i + k] : nil }

    private func starts(_ s: String, at p: Int) -> Bool {
        var q = p
        for c in s {
            guard q < source.count, source[q] == c else { return false }
            q += 1
        }
        return true
    }

    private mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where i < source.count {
            if source[i] == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
    }

    private func error(_ m: String) -> TemplateError { .syntax(m, line: line, column: column) }

    mutating func run() throws {
        var lineStarting = true
        var stripNextText = false
        while i < source.count {
            // Text up to the next tag opener.
            let textStart = i, textLine = line, textColumn = column
            var j = i
            while j < source.count {
                if source[j] == "{", j + 1 < source.count, "{%#".contains(source[j + 1]) { break }
                j += 1
            }
            var text = String(source[textStart..<j])
            advance(j - i)
            if stripNextText { text = String(text.drop { $0.isWhitespace }); stripNextText = false }

            guard i < source.count else {
                if !text.isEmpty { tokens.append(Token(kind: .text(text), line: textLine, column: textColumn)) }
                break
            }
            let opener = source[i + 1]
            let sign: Character? = i + 2 < source.count && (source[i + 2] == "-" || source[i + 2] == "+") ? source[i + 2] : nil
            if sign == "-" {
                while let last = text.last, last.isWhitespace { text.removeLast() }
            } else if sign != "+" && options.lstripBlocks && opener != "{" {
                if let nl = text.lastIndex(of: "\n") {
                    let tail = text[text.index(after: nl)...]
                    if !tail.isEmpty && tail.allSatisfy({ $0 == " " || $0 == "\t" }) { text = String(text[...nl]) }
                } else if lineStarting, !text.isEmpty, text.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    text = ""
                }
            }
            if !text.isEmpty { tokens.append(Token(kind: .text(text), line: textLine, column: textColumn)) }

            let tagLine = line, tagColumn = column
            advance(sign == nil ? 2 : 3)
            switch opener {
            case "#":
                // Comment: skip to "#}" (or "-#}").
                var k = i
                while k + 1 < source.count, !(source[k] == "#" && source[k + 1] == "}") { k += 1 }
                guard k + 1 < source.count else { throw TemplateError.syntax("unclosed comment", line: tagLine, column: tagColumn) }
                let stripAfter = k > i && source[k - 1] == "-"
                advance(k + 2 - i)
                lineStarting = afterTagEnd(stripAfter: stripAfter, block: true, &stripNextText)
            case "{":
                tokens.append(Token(kind: .variableBegin, line: tagLine, column: tagColumn))
                let (stripAfter, endLine, endColumn) = try lexExpression(until: "}}")
                tokens.append(Token(kind: .variableEnd, line: endLine, column: endColumn))
                lineStarting = afterTagEnd(stripAfter: stripAfter, block: false, &stripNextText)
            default:
                tokens.append(Token(kind: .blockBegin, line: tagLine, column: tagColumn))
                let first = tokens.count
                let (stripAfter, endLine, endColumn) = try lexExpression(until: "%}")
                tokens.append(Token(kind: .blockEnd, line: endLine, column: endColumn))
                if tokens.count == first + 2, case .name("raw") = tokens[first].kind {
                    tokens.removeLast(3)
                    try lexRaw(stripBefore: stripAfter, line: tagLine, column: tagColumn)
                }
                lineStarting = afterTagEnd(stripAfter: stripAfter, block: true, &stripNextText)
            }
        }
    }

    /// After a tag: `-` strips following whitespace; trim_blocks eats one newline after block
    /// and comment tags. Returns whether the next text starts a line.
    private mutating func afterTagEnd(stripAfter: Bool, block: Bool, _ stripNextText: inout Bool) -> Bool {
        if stripAfter {
            stripNextText = true
            return i > 0 && source[i - 1] == "\n"
        }
        if block && options.trimBlocks && peek() == "\n" {
            advance()
            return true
        }
        return false
    }

    /// `{% raw %}…{% endraw %}`: the text in between is output as is.
    private mutating func lexRaw(stripBefore: Bool, line l: Int, column c: Int) throws {
        var k = i
        while k < source.count {
            if source[k] == "{" && k + 1 < source.count && source[k + 1] == "%" {
                var m = k + 2
                if m < source.count && (source[m] == "-" || source[m] == "+") { m += 1 }
                while m < source.count && source[m] == " " { m += 1 }
                if starts("endraw", at: m) {
                    var text = String(source[i..<k])
                    if stripBefore { text = String(text.drop { $0.isWhitespace }) }
                    if source[k + 2] == "-" { while let last = text.last, last.isWhitespace { text.removeLast() } }
                    if !text.isEmpty { tokens.append(Token(kind: .text(text), line: l, column: c)) }
                    var e = m + 6
                    while e + 1 < source.count && !(source[e] == "%" && source[e + 1] == "}") { e += 1 }
                    advance(e + 2 - i)
                    return
                }
            }
            k += 1
        }
        throw TemplateError.syntax("unclosed {% raw %}", line: l, column: c)
    }

    /// Tokens of an expression up to `end` ("}}" or "%}"); returns whether it ended with "-"
    /// and where the closing tag starts.
    private mutating func lexExpression(until end: String) throws -> (Bool, Int, Int) {
        while true {
            while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
            guard let c = peek() else { throw error("unexpected end of template, expected '\(end)'") }
            if c == "-", starts(end, at: i + 1) {
                let at = (line, column)
                advance(1 + end.count)
                return (true, at.0, at.1)
            }
            if starts(end, at: i) {
                let at = (line, column)
                advance(end.count)
                return (false, at.0, at.1)
            }
            let tl = line, tc = column
            if c.isLetter || c == "_" {
                var s = ""
                while let d = peek(), d.isLetter || d.isNumber || d == "_" { s.append(d); advance() }
                tokens.append(Token(kind: .name(s), line: tl, column: tc))
            } else if c.isNumber {
                var s = ""
                var isFloat = false
                while let d = peek(), d.isNumber || d == "_" || (d == "." && !isFloat && (peek(1)?.isNumber ?? false)) || ((d == "e" || d == "E") && !s.isEmpty) {
                    if d == "." || d == "e" || d == "E" { isFloat = true }
                    if d != "_" { s.append(d) }
                    advance()
                    if (d == "e" || d == "E"), let sgn = peek(), sgn == "+" || sgn == "-" { s.append(sgn); advance() }
                }
                if isFloat {
                    guard let v = Double(s) else { throw error("bad number '\(s)'") }
                    tokens.append(Token(kind: .float(v), line: tl, column: tc))
                } else {
                    guard let v = Int(s) else { throw error("bad number '\(s)'") }
                    tokens.append(Token(kind: .integer(v), line: tl, column: tc))
                }
            } else if c == "'" || c == "\"" {
                tokens.append(Token(kind: .string(try lexString(quote: c)), line: tl, column: tc))
            } else {
                let ops = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"]
                guard let op = ops.first(where: { starts($0, at: i) }) else { throw error("unexpected character '\(c)'") }
                advance(op.count)
                tokens.append(Token(kind: .op(op), line: tl, column: tc))
            }
        }
    }

    /// A Python string literal with backslash escapes.
    private mutating func lexString(quote: Character) throws -> String {
        let sl = line, sc = column
        advance()
        var s = ""
        while let c = peek() {
            advance()
            if c == quote { return s }
            if c == "\\" {
                guard let e = peek() else { break }
                advance()
                switch e {
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "r": s.append("\r")
                case "\\": s.append("\\")
                case "'": s.append("'")
                case "\"": s.append("\"")
                case "0": s.append("\0")
                case "u", "x":
                    let n = e == "u" ? 4 : 2
                    var hex = ""
                    for _ in 0..<n { if let h = peek() { hex.append(h); advance() } }
                    guard let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else { throw error("bad escape \\\(e)\(hex)") }
                    s.unicodeScalars.append(u)
                case "\n": break
                default: s.append("\\"); s.append(e)
                }
            } else {
                s.append(c)
            }
        }
        throw TemplateError.syntax("unterminated string", line: sl, column: sc)
    }
}
