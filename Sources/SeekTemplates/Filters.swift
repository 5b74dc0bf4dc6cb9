import Foundation

/// jinja2's built-in filters and tests that chat templates use, plus transformers' `tojson`.
struct Filters {
    func apply(_ name: String, _ v: Value, _ args: [Value], _ kwargs: OrderedDict, _ interp: Interpreter, _ at: Pos) throws -> Value {
        func arg(_ i: Int, _ key: String) -> Value? { i < args.count ? args[i] : kwargs[key] }
        func needString() throws -> String {
            if case .undefined = v { return "" }
            return v.str
        }
        switch name {
        case "safe", "string":
            return name == "safe" ? v : .string(v.str)
        case "trim":
            let chars = arg(0, "chars")
            return .string(pyStrip(try needString(), chars.map(\.str), left: true, right: true))
        case "upper": return .string(try needString().uppercased())
        case "lower": return .string(try needString().lowercased())
        case "capitalize":
            let s = try needString()
            return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case "title":
            var out = ""
            var atStart = true
            for c in try needString() {
                if "-({[<".contains(c) || c.isWhitespace {
                    out.append(c)
                    atStart = true
                } else {
                    out += atStart ? c.uppercased() : c.lowercased()
                    atStart = false
                }
            }
            return .string(out)
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            case .undefined: return .int(0)
            default: throw TemplateError.runtime("object of type '\(v.typeName)' has no len() (line \(at.line))")
            }
        case "replace":
            guard let old = arg(0, "old"), let new = arg(1, "new") else { throw TemplateError.runtime("replace needs two arguments (line \(at.line))") }
            let count = arg(2, "count")?.intValue
            return .string(pyReplace(try needString(), old.str, new.str, count: count))
        case "join":
            let sep = arg(0, "d")?.str ?? ""
            var items = try v.iterate()
            if let attr = arg(1, "attribute") { items = try items.map { try interp.attribute($0, attr.str, at) } }
            return .string(items.map(\.str).joined(separator: sep))
        case "first":
            return try v.iterate().first ?? .undefined("first")
        case "last":
            return try v.iterate().last ?? .undefined("last")
        case "default", "d":
            let fallback = arg(0, "default_value") ?? .string("")
            let boolean = arg(1, "boolean")?.truthy ?? false
            if v.isUndefined || (boolean && !v.truthy) { return fallback }
            return v
        case "items":
            guard case .object(let o) = v else {
                if v.isUndefined { return .array([]) }
                throw TemplateError.runtime("items needs a mapping, got '\(v.typeName)' (line \(at.line))")
            }
            return .array(o.pairs.map { .array([.string($0.key), $0.value]) })
        case "list":
            return .array(try v.iterate())
        case "reverse":
            if case .string(let s) = v { return .string(String(s.unicodeScalars.reversed().map(Character.init))) }
            return .array(try v.iterate().reversed())
        case "unique":
            var seen: [Value] = []
            for x in try v.iterate() where !seen.contains(where: { pythonEquals($0, x) }) { seen.append(x) }
            return .array(seen)
        case "sum":
            var total: Value = .int(0)
            for x in try v.iterate() { total = try interp.binary("+", total, x, at) }
            return total
        case "min", "max":
            let items = try v.iterate()
            guard var best = items.first else { return .undefined(name) }
            for x in items.dropFirst() where try interp.binary(name == "min" ? "<" : ">", x, best, at).truthy { best = x }
            return best
        case "abs":
            switch v {
            case .int(let i): return .int(abs(i))
            case .float(let f): return .float(abs(f))
            default: throw TemplateError.runtime("abs needs a number (line \(at.line))")
            }
        case "int":
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let f): return .int(Int(f))
            case .string(let s): return .int(Int(s.trimmingCharacters(in: .whitespaces)) ?? Double(s).map { Int($0) } ?? (arg(0, "default")?.intValue ?? 0))
            default: return arg(0, "default") ?? .int(0)
            }
        case "float":
            if let n = v.number { return .float(n) }
            if case .string(let s) = v, let d = Double(s.trimmingCharacters(in: .whitespaces)) { return .float(d) }
            return arg(0, "default") ?? .float(0)
        case "round":
            guard let n = v.number else { throw TemplateError.runtime("round needs a number (line \(at.line))") }
            let precision = arg(0, "precision")?.intValue ?? 0
            let scale = pow(10, Double(precision))
            return .float((n * scale).rounded(.toNearestOrEven) / scale)
        case "tojson":
            let indent = arg(0, "indent")?.intValue
            return .string(try JSON.dump(v, indent: indent, sortKeys: kwargs["sort_keys"]?.truthy ?? false))
        case "indent":
            let width = arg(0, "width")?.intValue ?? 4
            let first = arg(1, "first")?.truthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = try needString().components(separatedBy: "\n")
            return .string(lines.enumerated().map { i, l in (i == 0 && !first) || l.isEmpty ? l : pad + l }.joined(separator: "\n"))
        case "escape", "e":
            return .string(try needString().replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&#34;").replacingOccurrences(of: "'", with: "&#39;"))
        case "selectattr", "rejectattr", "select", "reject":
            let byAttr = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var out: [Value] = []
            let attrName = byAttr ? (args.first?.str ?? "") : ""
            let testIndex = byAttr ? 1 : 0
            for x in try v.iterate() {
                let target = byAttr ? try attrPath(x, attrName, interp, at) : x
                let ok: Bool
                if testIndex < args.count {
                    ok = try test(args[testIndex].str, target, Array(args.dropFirst(testIndex + 1)), interp, at)
                } else {
                    ok = target.truthy
                }
                if ok == keep { out.append(x) }
            }
            return .generator(out)
        case "map":
            let items = try v.iterate()
            if let attr = kwargs["attribute"] {
                let d = kwargs["default"]
                return .generator(try items.map { x in
                    let r = try attrPath(x, attr.str, interp, at)
                    if r.isUndefined, let d { return d }
                    return r
                })
            }
            guard let filterName = args.first?.str else { return .generator(items) }
            return .generator(try items.map { try apply(filterName, $0, Array(args.dropFirst()), OrderedDict(), interp, at) })
        case "batch":
            let size = max(1, arg(0, "linecount")?.intValue ?? 1)
            let items = try v.iterate()
            return .array(stride(from: 0, to: items.count, by: size).map { .array(Array(items[$0..<min($0 + size, items.count)])) })
        case "dictsort":
            guard case .object(let o) = v else { throw TemplateError.runtime("dictsort needs a mapping (line \(at.line))") }
            return .array(o.pairs.sorted { $0.key < $1.key }.map { .array([.string($0.key), $0.value]) })
        case "sort":
            let items = try v.iterate()
            let attr = kwargs["attribute"]?.str
            let reverse = kwargs["reverse"]?.truthy ?? (args.first?.truthy ?? false)
            let keyed = try items.map { ($0, attr == nil ? $0 : try attrPath($0, attr!, interp, at)) }
            var failure: Error?
            let sorted = keyed.sorted { a, b in
                do { return try interp.binary(reverse ? ">" : "<", a.1, b.1, at).truthy } catch { failure = error; return false }
            }
            if let failure { throw failure }
            return .array(sorted.map(\.0))
        case "wordcount":
            return .int(try needString().split { $0.isWhitespace }.count)
        default:
            throw TemplateError.unsupported("the filter '\(name)'", line: at.line, column: at.column)
        }
    }

    /// `a.b.c` lookups as selectattr/map do them.
    private func attrPath(_ v: Value, _ path: String, _ interp: Interpreter, _ at: Pos) throws -> Value {
        var cur = v
        for part in path.split(separator: ".") {
            if cur.isUndefined { return cur }
            if let i = Int(part) { cur = try interp.item(cur, .int(i), at) } else { cur = try interp.attribute(cur, String(part), at) }
        }
        return cur
    }

    func test(_ name: String, _ v: Value, _ args: [Value], _ interp: Interpreter, _ at: Pos) throws -> Bool {
        func other() throws -> Value {
            guard let a = args.first else { throw TemplateError.runtime("test '\(name)' needs an argument (line \(at.line))") }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "string": if case .string = v { return true } else { return false }
        case "mapping": if case .object = v { return true } else { return false }
        case "number": switch v { case .int, .float: return true; default: return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .float = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        // jinja2's Undefined can be iterated (it yields nothing) and has len(), so it passes both.
        case "iterable": switch v { case .array, .object, .string, .generator, .undefined: return true; default: return false }
        case "sequence": switch v { case .array, .object, .string, .undefined: return true; default: return false }
        case "callable": if case .callable = v { return true } else { return false }
        case "eq", "equalto", "==": return pythonEquals(v, try other())
        case "ne", "!=": return !pythonEquals(v, try other())
        case "lt", "lessthan", "<": return try interp.binary("<", v, try other(), at).truthy
        case "le", "<=": return try interp.binary("<=", v, try other(), at).truthy
        case "gt", "greaterthan", ">": return try interp.binary(">", v, try other(), at).truthy
        case "ge", ">=": return try interp.binary(">=", v, try other(), at).truthy
        case "in": return try interp.binary("in", v, try other(), at).truthy
        case "odd": return (v.intValue ?? 0) % 2 != 0
        case "even": return (v.intValue ?? 1) % 2 == 0
        case "divisibleby":
            guard let n = try other().intValue, n != 0, let x = v.intValue else { return false }
            return x % n == 0
        case "lower": if case .string(let s) = v { return s == s.lowercased() } else { return false }
        case "upper": if case .string(let s) = v { return s == s.uppercased() } else { return false }
        case "sameas":
            let o = try other()
            if case .namespace(let a) = v, case .namespace(let b) = o { return a === b }
            return pythonEquals(v, o) && v.typeName == o.typeName
        default:
            throw TemplateError.unsupported("the test '\(name)'", line: at.line, column: at.column)
        }
    }
}

/// Python's str.strip family: whitespace by default, else any of `chars`.
func pyStrip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
    let set: (Unicode.Scalar) -> Bool
    if let chars {
        let cs = Set(chars.unicodeScalars)
        set = { cs.contains($0) }
    } else {
        set = { $0.properties.isWhitespace }
    }
    var u = Array(s.unicodeScalars)[...]
    if left { while let f = u.first, set(f) { u = u.dropFirst() } }
    if right { while let l = u.last, set(l) { u = u.dropLast() } }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: u)
    return String(out)
}

func pyReplace(_ s: String, _ old: String, _ new: String, count: Int?) -> String {
    guard let count, count >= 0 else { return old.isEmpty ? s : s.replacingOccurrences(of: old, with: new) }
    var out = s
    var done = 0
    var searchStart = out.startIndex
    while done < count, let r = out.range(of: old, range: searchStart..<out.endIndex), !old.isEmpty {
        out.replaceSubrange(r, with: new)
        searchStart = out.index(r.lowerBound, offsetBy: new.count)
        done += 1
    }
    return out
}
