/// Recursive-descent parser with jinja2's grammar and operator precedence (lowest first):
/// conditional `a if c else b` → or → and → not → comparisons and `in` → `+ -` → `~` →
/// `* / // %` → `**` → unary `-`/`+` → primary with postfix `.attr`, `[i]`, `(args)`,
/// followed by filters `|f` and tests `is t`.
struct Parser {
    let tokens: [Token]
    var p = 0

    init(_ tokens: [Token]) { self.tokens = tokens }

    static func parse(_ tokens: [Token]) throws -> [Node] {
        var parser = Parser(tokens)
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw parser.error("unexpected '{% \(end) %}'") }
        return nodes
    }

    // MARK: token helpers

    private var current: Token? { p < tokens.count ? tokens[p] : nil }
    private var pos: Pos { current.map { Pos(line: $0.line, column: $0.column) } ?? lastPos }
    private var lastPos: Pos { tokens.last.map { Pos(line: $0.line, column: $0.column) } ?? Pos(line: 1, column: 1) }

    func error(_ m: String) -> TemplateError {
        let at = current.map { Pos(line: $0.line, column: $0.column) } ?? lastPos
        return .syntax(m, line: at.line, column: at.column)
    }

    private func isOp(_ s: String) -> Bool {
        if case .op(s) = current?.kind { return true }
        return false
    }

    private func isName(_ s: String) -> Bool {
        if case .name(s) = current?.kind { return true }
        return false
    }

    private mutating func expectOp(_ s: String) throws {
        guard isOp(s) else { throw error("expected '\(s)'\(describeCurrent)") }
        p += 1
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current?.kind else { throw error("expected a name\(describeCurrent)") }
        p += 1
        return n
    }

    private mutating func expectKeyword(_ s: String) throws {
        guard isName(s) else { throw error("expected '\(s)'\(describeCurrent)") }
        p += 1
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current?.kind else { throw error("expected end of tag '%}'\(describeCurrent)") }
        p += 1
    }

    private var describeCurrent: String {
        guard let t = current else { return ", found end of template" }
        switch t.kind {
        case .name(let n): return ", found '\(n)'"
        case .op(let o): return ", found '\(o)'"
        case .string(let s): return ", found string \(pythonRepr(s))"
        case .integer(let i): return ", found \(i)"
        case .float(let f): return ", found \(f)"
        case .blockEnd: return ", found '%}'"
        case .variableEnd: return ", found '}}'"
        default: return ""
        }
    }

    // MARK: statements

    /// Parses nodes until a block tag whose keyword is in `until`; returns that keyword
    /// (consumed, with the tag's remaining tokens left for the caller) or nil at the end.
    mutating func parseBody(until: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while let t = current {
            switch t.kind {
            case .text(let s):
                nodes.append(.text(s))
                p += 1
            case .variableBegin:
                p += 1
                let e = try parseExpression()
                guard case .variableEnd = current?.kind else { throw error("expected '}}'\(describeCurrent)") }
                p += 1
                nodes.append(.output(e))
            case .blockBegin:
                p += 1
                let at = pos
                let keyword = try expectName()
                if until.contains(keyword) { return (nodes, keyword) }
                nodes.append(try parseStatement(keyword, at))
            default:
                throw error("unexpected token\(describeCurrent)")
            }
        }
        if !until.isEmpty {
            throw error("unexpected end of template; expected one of: " + until.sorted().map { "{% \($0) %}" }.joined(separator: ", "))
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String, _ at: Pos) throws -> Node {
        switch keyword {
        case "if":
            var branches: [(Expr, [Node])] = []
            var cond = try parseExpression()
            try expectBlockEnd()
            while true {
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                switch end {
                case "elif":
                    cond = try parseExpression()
                    try expectBlockEnd()
                case "else":
                    try expectBlockEnd()
                    let (elseBody, _) = try parseBody(until: ["endif"])
                    try expectBlockEnd()
                    return .ifChain(branches, else_: elseBody)
                default:
                    try expectBlockEnd()
                    return .ifChain(branches, else_: nil)
                }
            }
        case "for":
            var targets = [try expectName()]
            while isOp(",") {
                p += 1
                targets.append(try expectName())
            }
            try expectKeyword("in")
            let iterable = try parseConditionalFree()
            var filter: Expr?
            if isName("if") {
                p += 1
                filter = try parseConditionalFree()
            }
            var recursive = false
            if isName("recursive") {
                p += 1
                recursive = true
            }
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["else", "endfor"])
            var elseBody: [Node]?
            if end == "else" {
                try expectBlockEnd()
                elseBody = try parseBody(until: ["endfor"]).0
            }
            try expectBlockEnd()
            return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, else_: elseBody, recursive: recursive, at)
        case "set":
            let first = try expectName()
            if isOp(".") {
                p += 1
                let attr = try expectName()
                try expectOp("=")
                let value = try parseExpression()
                try expectBlockEnd()
                return .set(targets: [first], attribute: attr, value: value, at)
            }
            var targets = [first]
            while isOp(",") {
                p += 1
                targets.append(try expectName())
            }
            if isOp("=") {
                p += 1
                let value = try parseTupleOrExpression()
                try expectBlockEnd()
                return .set(targets: targets, attribute: nil, value: value, at)
            }
            // Block set: {% set x %}...{% endset %}
            guard targets.count == 1 else { throw error("expected '='") }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endset"])
            try expectBlockEnd()
            return .setBlock(first, body: body)
        case "macro":
            let name = try expectName()
            try expectOp("(")
            var params: [(String, Expr?)] = []
            while !isOp(")") {
                let n = try expectName()
                var d: Expr?
                if isOp("=") {
                    p += 1
                    d = try parseExpression()
                }
                params.append((n, d))
                if isOp(",") { p += 1 } else { break }
            }
            try expectOp(")")
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endmacro"])
            if case .name = current?.kind { p += 1 }  // {% endmacro name %}
            try expectBlockEnd()
            return .macro(name: name, params: params, body: body)
        case "call":
            let callee = try parseExpression()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endcall"])
            try expectBlockEnd()
            return .callBlock(callee, body: body)
        case "filter":
            let name = try expectName()
            var args: [Expr] = []
            if isOp("(") {
                p += 1
                while !isOp(")") {
                    args.append(try parseExpression())
                    if isOp(",") { p += 1 } else { break }
                }
                try expectOp(")")
            }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(name, args, body: body, at)
        case "break":
            try expectBlockEnd()
            return .breakLoop
        case "continue":
            try expectBlockEnd()
            return .continueLoop
        case "generation":
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return .block(body)
        case "include", "import", "from", "extends", "block", "with", "autoescape", "do":
            throw TemplateError.unsupported("'{% \(keyword) %}'", line: at.line, column: at.column)
        default:
            throw TemplateError.syntax("unknown tag '\(keyword)'", line: at.line, column: at.column)
        }
    }

    // MARK: expressions

    /// `a, b` without brackets (the right side of `set a, b = ...`).
    private mutating func parseTupleOrExpression() throws -> Expr {
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            p += 1
            items.append(try parseExpression())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        let value = try parseOr()
        if isName("if") {
            p += 1
            let cond = try parseOr()
            var otherwise: Expr?
            if isName("else") {
                p += 1
                otherwise = try parseExpression()
            }
            return .conditional(cond, value, otherwise)
        }
        return value
    }

    /// An expression without a trailing inline `if` (for-loop iterables and filters).
    private mutating func parseConditionalFree() throws -> Expr { try parseOr() }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            p += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            p += 1
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            p += 1
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        var left = try parseMath1()
        while true {
            let at = pos
            if let op = ["==", "!=", "<", "<=", ">", ">="].first(where: isOp) {
                p += 1
                left = .binary(op, left, try parseMath1(), at)
            } else if isName("in") {
                p += 1
                left = .binary("in", left, try parseMath1(), at)
            } else if isName("not"), p + 1 < tokens.count, case .name("in") = tokens[p + 1].kind {
                p += 2
                left = .binary("not in", left, try parseMath1(), at)
            } else {
                return left
            }
        }
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while let op = ["+", "-"].first(where: isOp) {
            let at = pos
            p += 1
            left = .binary(op, left, try parseConcat(), at)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while isOp("~") {
            p += 1
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while let op = ["*", "/", "//", "%"].first(where: isOp) {
            let at = pos
            p += 1
            left = .binary(op, left, try parsePow(), at)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let at = pos
            p += 1
            left = .binary("**", left, try parseUnary(), at)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        let at = pos
        var node: Expr
        if isOp("-") {
            p += 1
            node = .unary("-", try parseUnary(withFilter: false), at)
        } else if isOp("+") {
            p += 1
            node = .unary("+", try parseUnary(withFilter: false), at)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterAndTests(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let at = pos
        guard let t = current else { throw error("expected an expression, found end of template") }
        switch t.kind {
        case .name(let n):
            p += 1
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, at)
            }
        case .string(var s):
            p += 1
            while case .string(let more) = current?.kind {  // adjacent literals concatenate
                s += more
                p += 1
            }
            return .literal(.string(s))
        case .integer(let i):
            p += 1
            return .literal(.int(i))
        case .float(let f):
            p += 1
            return .literal(.float(f))
        case .op("("):
            p += 1
            if isOp(")") {
                p += 1
                return .tuple([])
            }
            let first = try parseExpression()
            if isOp(",") {
                var items = [first]
                while isOp(",") {
                    p += 1
                    if isOp(")") { break }
                    items.append(try parseExpression())
                }
                try expectOp(")")
                return .tuple(items)
            }
            try expectOp(")")
            return first
        case .op("["):
            p += 1
            var items: [Expr] = []
            while !isOp("]") {
                items.append(try parseExpression())
                if isOp(",") { p += 1 } else { break }
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            p += 1
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                let k = try parseExpression()
                try expectOp(":")
                pairs.append((k, try parseExpression()))
                if isOp(",") { p += 1 } else { break }
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw error("expected an expression\(describeCurrent)")
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var node = base
        while true {
            let at = pos
            if isOp(".") {
                p += 1
                switch current?.kind {
                case .name(let n):
                    p += 1
                    node = .attribute(node, n, at)
                case .integer(let i):
                    p += 1
                    node = .subscript_(node, .literal(.int(i)), at)
                default:
                    throw error("expected an attribute name\(describeCurrent)")
                }
            } else if isOp("[") {
                p += 1
                node = try parseSubscript(node, at)
            } else if isOp("(") {
                let (args, kwargs) = try parseArguments()
                node = .call(node, args, kwargs, at)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: Expr, _ at: Pos) throws -> Expr {
        var parts: [Expr?] = [nil]
        var sawColon = false
        while !isOp("]") {
            if isOp(":") {
                p += 1
                sawColon = true
                parts.append(nil)
            } else {
                guard parts[parts.count - 1] == nil else { throw error("expected ':' or ']'\(describeCurrent)") }
                parts[parts.count - 1] = try parseExpression()
            }
        }
        try expectOp("]")
        if !sawColon {
            guard let index = parts[0] else { throw error("empty subscript") }
            return .subscript_(base, index, at)
        }
        guard parts.count <= 3 else { throw error("too many ':' in slice") }
        return .slice(base, parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil, at)
    }

    private mutating func parseArguments() throws -> ([Expr], [(String, Expr)]) {
        try expectOp("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if case .name(let n) = current?.kind, p + 1 < tokens.count, case .op("=") = tokens[p + 1].kind {
                p += 2
                kwargs.append((n, try parseExpression()))
            } else {
                guard kwargs.isEmpty else { throw error("positional argument after keyword argument") }
                args.append(try parseExpression())
            }
            if isOp(",") { p += 1 } else { break }
        }
        try expectOp(")")
        return (args, kwargs)
    }

    private mutating func parseFilterAndTests(_ base: Expr) throws -> Expr {
        var node = base
        while true {
            let at = pos
            if isOp("|") {
                p += 1
                var name = try expectName()
                while isOp(".") {  // dotted filter names
                    p += 1
                    name += "." + (try expectName())
                }
                var args: [Expr] = [], kwargs: [(String, Expr)] = []
                if isOp("(") { (args, kwargs) = try parseArguments() }
                node = .filter(node, name, args, kwargs, at)
            } else if isName("is") {
                p += 1
                var negated = false
                if isName("not") {
                    p += 1
                    negated = true
                }
                let name = try expectName()
                var args: [Expr] = []
                if isOp("(") {
                    args = try parseArguments().0
                } else if startsTestArgument {
                    args = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name, args, negated: negated, at)
            } else if isOp("(") {
                let (args, kwargs) = try parseArguments()
                node = .call(node, args, kwargs, at)
            } else {
                return node
            }
        }
    }

    /// `x is divisibleby 3`: a test may take one argument without parentheses.
    private var startsTestArgument: Bool {
        switch current?.kind {
        case .string, .integer, .float: return true
        case .name(let n): return !["else", "or", "and", "is", "in", "not", "if", "recursive"].contains(n)
        case .op(let o): return o == "[" || o == "{"
        default: return false
        }
    }
}
