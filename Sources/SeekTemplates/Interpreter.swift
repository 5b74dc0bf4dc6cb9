import Foundation

/// Renders a parsed template. Scoping follows jinja2: the body of a `for` loop and of a
/// macro get their own scope (a `set` inside does not leak out; `namespace` objects are the
/// way to carry state out), `if` does not.
final class Interpreter {
    var scopes: [[String: Value]]
    var output = ""
    let filters: Filters

    init(globals: [String: Value]) {
        scopes = [globals, [:]]
        filters = Filters()
    }

    enum Flow { case normal, breakLoop, continueLoop }

    func lookup(_ name: String) -> Value {
        for scope in scopes.reversed() {
            if let v = scope[name] { return v }
        }
        return .undefined(name)
    }

    func assign(_ name: String, _ value: Value) {
        scopes[scopes.count - 1][name] = value
    }

    // MARK: statements

    func render(_ nodes: [Node]) throws -> String {
        let saved = output
        output = ""
        defer { output = saved }
        _ = try exec(nodes)
        return output
    }

    @discardableResult
    func exec(_ nodes: [Node]) throws -> Flow {
        for node in nodes {
            let flow = try exec(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    func exec(_ node: Node) throws -> Flow {
        switch node {
        case .text(let s):
            output += s
        case .output(let e):
            output += try eval(e).str
        case .ifChain(let branches, let otherwise):
            for (cond, body) in branches where try eval(cond).truthy {
                return try exec(body)
            }
            if let otherwise { return try exec(otherwise) }
        case .forLoop(let targets, let iterable, let filter, let body, let otherwise, _, let at):
            return try execFor(targets, try eval(iterable), filter, body, otherwise, at)
        case .set(let targets, let attribute, let valueExpr, let at):
            let value = try eval(valueExpr)
            if let attribute {
                guard case .namespace(let ns) = lookup(targets[0]) else {
                    throw TemplateError.runtime("cannot assign attribute '\(attribute)' on '\(targets[0])' (line \(at.line)): only namespace() objects can be changed")
                }
                ns.values[attribute] = value
            } else if targets.count == 1 {
                assign(targets[0], value)
            } else {
                let items = try value.iterate()
                guard items.count == targets.count else {
                    throw TemplateError.runtime("cannot unpack \(items.count) values into \(targets.count) names (line \(at.line))")
                }
                for (t, v) in zip(targets, items) { assign(t, v) }
            }
        case .setBlock(let name, let body):
            assign(name, .string(try render(body)))
        case .macro(let name, let params, let body):
            assign(name, .callable(makeMacro(name, params, body)))
        case .callBlock(let callee, let body):
            // {% call m() %}body{% endcall %}: the macro sees the body as caller().
            guard case .call(let fn, let args, let kwargs, let at) = callee else {
                throw TemplateError.runtime("{% call %} needs a macro call")
            }
            let bodyNodes = body
            let caller = Callable(name: "caller") { _, _, ctx in .string(try ctx.interpreter.render(bodyNodes)) }
            var kw = kwargs
            kw.append(("caller", .literal(.callable(caller))))
            output += try eval(.call(fn, args, kw, at)).str
        case .filterBlock(let name, let args, let body, let at):
            let text = try render(body)
            output += try filters.apply(name, .string(text), try args.map(eval), OrderedDict(), self, at).str
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .block(let body):
            return try exec(body)
        }
        return .normal
    }

    private func execFor(_ targets: [String], _ iterable: Value, _ filter: Expr?, _ body: [Node], _ otherwise: [Node]?, _ at: Pos) throws -> Flow {
        var items: [Value]
        if case .object(let o) = iterable, targets.count > 1 {
            // Iterating a dict yields keys; two targets over a dict would be an unpacking error in Python.
            items = o.keys.map { .string($0) }
        } else {
            do { items = try iterable.iterate() } catch {
                throw TemplateError.runtime("cannot loop over \(iterable.typeName) (line \(at.line))")
            }
        }
        scopes.append([:])
        defer { scopes.removeLast() }
        if let filter {
            items = try items.filter { item in
                try bind(targets, item, at)
                return try eval(filter).truthy
            }
        }
        if items.isEmpty {
            if let otherwise { return try exec(otherwise) }
            return .normal
        }
        let n = items.count
        for (i, item) in items.enumerated() {
            scopes[scopes.count - 1] = [:]
            try bind(targets, item, at)
            var loop = OrderedDict()
            loop["index"] = .int(i + 1)
            loop["index0"] = .int(i)
            loop["revindex"] = .int(n - i)
            loop["revindex0"] = .int(n - i - 1)
            loop["first"] = .bool(i == 0)
            loop["last"] = .bool(i == n - 1)
            loop["length"] = .int(n)
            loop["depth"] = .int(1)
            loop["depth0"] = .int(0)
            loop["previtem"] = i > 0 ? items[i - 1] : .undefined("previtem")
            loop["nextitem"] = i < n - 1 ? items[i + 1] : .undefined("nextitem")
            let index = i
            loop["cycle"] = .callable(Callable(name: "cycle") { args, _, _ in
                args.isEmpty ? .undefined("cycle") : args[index % args.count]
            })
            assign("loop", .object(loop))
            if try exec(body) == .breakLoop { break }
        }
        return .normal
    }

    private func bind(_ targets: [String], _ item: Value, _ at: Pos) throws {
        if targets.count == 1 {
            assign(targets[0], item)
            return
        }
        let parts = try item.iterate()
        guard parts.count == targets.count else {
            throw TemplateError.runtime("cannot unpack \(parts.count) values into \(targets.count) loop variables (line \(at.line))")
        }
        for (t, v) in zip(targets, parts) { assign(t, v) }
    }

    private func makeMacro(_ name: String, _ params: [(String, Expr?)], _ body: [Node]) -> Callable {
        Callable(name: name) { args, kwargs, ctx in
            let interp = ctx.interpreter
            var scope: [String: Value] = [:]
            var varargs: [Value] = []
            for (i, a) in args.enumerated() {
                if i < params.count { scope[params[i].0] = a } else { varargs.append(a) }
            }
            var extra = OrderedDict()
            for (k, v) in kwargs.pairs {
                if params.contains(where: { $0.0 == k }) || k == "caller" { scope[k] = v } else { extra[k] = v }
            }
            for (p, d) in params where scope[p] == nil {
                scope[p] = try d.map { try interp.eval($0) } ?? .undefined(p)
            }
            scope["varargs"] = .array(varargs)
            scope["kwargs"] = .object(extra)
            let saved = interp.scopes
            interp.scopes = [interp.scopes[0], interp.scopes[1], scope]
            defer { interp.scopes = saved }
            return .string(try interp.render(body))
        }
    }

    // MARK: expressions

    func eval(_ e: Expr) throws -> Value {
        switch e {
        case .literal(let v):
            return v
        case .name(let n, _):
            return lookup(n)
        case .list(let items):
            return .array(try items.map(eval))
        case .tuple(let items):
            return .array(try items.map(eval))
        case .dict(let pairs):
            var d = OrderedDict()
            for (k, v) in pairs { d[try eval(k).str] = try eval(v) }
            return .object(d)
        case .attribute(let base, let name, let at):
            return try attribute(try eval(base), name, at)
        case .subscript_(let base, let index, let at):
            return try item(try eval(base), try eval(index), at)
        case .slice(let base, let a, let b, let c, let at):
            return try slice(try eval(base), try a.map(eval), try b.map(eval), try c.map(eval), at)
        case .call(let fn, let args, let kwargs, let at):
            let f = try eval(fn)
            guard case .callable(let c) = f else {
                if case .undefined(let n) = f { throw TemplateError.runtime("'\(n)' is undefined (line \(at.line), column \(at.column))") }
                throw TemplateError.runtime("'\(f.typeName)' object is not callable (line \(at.line))")
            }
            var kw = OrderedDict()
            for (k, v) in kwargs { kw[k] = try eval(v) }
            return try c.call(try args.map(eval), kw, CallContext(interpreter: self))
        case .filter(let base, let name, let args, let kwargs, let at):
            var kw = OrderedDict()
            for (k, v) in kwargs { kw[k] = try eval(v) }
            return try filters.apply(name, try eval(base), try args.map(eval), kw, self, at)
        case .test(let base, let name, let args, let negated, let at):
            let result = try filters.test(name, try eval(base), try args.map(eval), self, at)
            return .bool(negated ? !result : result)
        case .unary(let op, let x, let at):
            let v = try eval(x)
            switch (op, v) {
            case ("-", .int(let i)): return .int(-i)
            case ("-", .float(let f)): return .float(-f)
            case ("+", .int), ("+", .float): return v
            default: throw TemplateError.runtime("bad operand for unary \(op): '\(v.typeName)' (line \(at.line))")
            }
        case .binary(let op, let l, let r, let at):
            return try binary(op, try eval(l), try eval(r), at)
        case .and(let l, let r):
            let lv = try eval(l)
            return lv.truthy ? try eval(r) : lv
        case .or(let l, let r):
            let lv = try eval(l)
            return lv.truthy ? lv : try eval(r)
        case .not(let x):
            return .bool(!(try eval(x).truthy))
        case .conditional(let cond, let value, let otherwise):
            if try eval(cond).truthy { return try eval(value) }
            return try otherwise.map(eval) ?? .undefined("else")
        case .concat(let items):
            return .string(try items.map { try eval($0).str }.joined())
        }
    }

    func attribute(_ base: Value, _ name: String, _ at: Pos) throws -> Value {
        switch base {
        case .undefined(let n):
            throw TemplateError.runtime("'\(n)' is undefined, so it has no attribute '\(name)' (line \(at.line), column \(at.column))")
        case .object(let o):
            if let m = Methods.dict(o, name) { return .callable(m) }
            return o[name] ?? .undefined(name)
        case .namespace(let ns):
            return ns.values[name] ?? .undefined(name)
        case .string(let s):
            if let m = Methods.string(s, name) { return .callable(m) }
            return .undefined(name)
        case .array(let a):
            if let m = Methods.list(a, name) { return .callable(m) }
            return .undefined(name)
        default:
            return .undefined(name)
        }
    }

    func item(_ base: Value, _ index: Value, _ at: Pos) throws -> Value {
        switch (base, index) {
        case (.undefined(let n), _):
            throw TemplateError.runtime("'\(n)' is undefined, so it cannot be subscripted (line \(at.line), column \(at.column))")
        case (.array(let a), _):
            guard let i = index.intValue else { return .undefined("item") }
            let k = i < 0 ? a.count + i : i
            return k >= 0 && k < a.count ? a[k] : .undefined("item")
        case (.string(let s), _):
            guard let i = index.intValue else { return .undefined("item") }
            let u = Array(s.unicodeScalars)
            let k = i < 0 ? u.count + i : i
            return k >= 0 && k < u.count ? .string(String(u[k])) : .undefined("item")
        case (.object(let o), .string(let key)):
            return o[key] ?? .undefined(key)
        case (.object(let o), _):
            return o[index.str] ?? .undefined(index.str)
        case (.namespace(let ns), .string(let key)):
            return ns.values[key] ?? .undefined(key)
        default:
            return .undefined("item")
        }
    }

    private func slice(_ base: Value, _ a: Value?, _ b: Value?, _ c: Value?, _ at: Pos) throws -> Value {
        func int(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = v.intValue else { throw TemplateError.runtime("slice indices must be integers (line \(at.line))") }
            return i
        }
        let step = try int(c) ?? 1
        guard step != 0 else { throw TemplateError.runtime("slice step cannot be zero (line \(at.line))") }
        func indices(_ n: Int) throws -> [Int] {
            func clamp(_ x: Int?, _ dflt: Int, lower: Int, upper: Int) -> Int {
                guard var v = x else { return dflt }
                if v < 0 { v += n }
                return min(max(v, lower), upper)
            }
            if step > 0 {
                let s = clamp(try int(a), 0, lower: 0, upper: n), e = clamp(try int(b), n, lower: 0, upper: n)
                return s < e ? Array(stride(from: s, to: e, by: step)) : []
            }
            let s = clamp(try int(a), n - 1, lower: -1, upper: n - 1), e = clamp(try int(b), -1, lower: -1, upper: n - 1)
            return s > e ? Array(stride(from: s, to: e, by: step)) : []
        }
        switch base {
        case .array(let arr):
            return .array(try indices(arr.count).map { arr[$0] })
        case .string(let s):
            let u = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(u.count) { out.append(u[i]) }
            return .string(String(out))
        case .undefined(let n):
            throw TemplateError.runtime("'\(n)' is undefined, so it cannot be sliced (line \(at.line))")
        default:
            throw TemplateError.runtime("'\(base.typeName)' object cannot be sliced (line \(at.line))")
        }
    }

    func binary(_ op: String, _ l: Value, _ r: Value, _ at: Pos) throws -> Value {
        func fail() -> TemplateError {
            .runtime("unsupported operand types for \(op): '\(l.typeName)' and '\(r.typeName)' (line \(at.line), column \(at.column))")
        }
        switch op {
        case "==": return .bool(pythonEquals(l, r))
        case "!=": return .bool(!pythonEquals(l, r))
        case "in", "not in":
            let found: Bool
            switch r {
            case .string(let s):
                guard case .string(let sub) = l else { throw fail() }
                found = sub.isEmpty || s.contains(sub)
            case .array(let a): found = a.contains { pythonEquals($0, l) }
            case .object(let o):
                if case .string(let key) = l { found = o[key] != nil } else { found = false }
            case .undefined, .none: throw fail()
            default: throw fail()
            }
            return .bool(op == "in" ? found : !found)
        case "<", "<=", ">", ">=":
            let c: Int
            if let x = l.number, let y = r.number {
                c = x < y ? -1 : x > y ? 1 : 0
            } else if case .string(let x) = l, case .string(let y) = r {
                let xs = Array(x.unicodeScalars.map(\.value)), ys = Array(y.unicodeScalars.map(\.value))
                c = xs.lexicographicallyPrecedes(ys) ? -1 : xs == ys ? 0 : 1
            } else {
                throw fail()
            }
            switch op {
            case "<": return .bool(c < 0)
            case "<=": return .bool(c <= 0)
            case ">": return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case "+":
            switch (l, r) {
            case (.string(let a), .string(let b)): return .string(a + b)
            case (.array(let a), .array(let b)): return .array(a + b)
            default: return try arithmetic(op, l, r, fail)
            }
        case "*":
            switch (l, r) {
            case (.string(let s), .int(let n)), (.int(let n), .string(let s)): return .string(String(repeating: s, count: max(0, n)))
            case (.array(let a), .int(let n)), (.int(let n), .array(let a)): return .array(Array((0..<max(0, n)).map { _ in a }.joined()))
            default: return try arithmetic(op, l, r, fail)
            }
        default:
            return try arithmetic(op, l, r, fail)
        }
    }

    private func arithmetic(_ op: String, _ l: Value, _ r: Value, _ fail: () -> TemplateError) throws -> Value {
        if let a = l.intValue, let b = r.intValue, !(l.isFloat || r.isFloat) {
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "/":
                guard b != 0 else { throw TemplateError.runtime("division by zero") }
                return .float(Double(a) / Double(b))
            case "//":
                guard b != 0 else { throw TemplateError.runtime("integer division by zero") }
                let q = a / b
                return .int(a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q)
            case "%":
                guard b != 0 else { throw TemplateError.runtime("modulo by zero") }
                let m = a % b
                return .int(m != 0 && (m < 0) != (b < 0) ? m + b : m)
            case "**": return b >= 0 ? .int(Int(pow(Double(a), Double(b)))) : .float(pow(Double(a), Double(b)))
            default: throw fail()
            }
        }
        guard let a = l.number, let b = r.number else { throw fail() }
        switch op {
        case "+": return .float(a + b)
        case "-": return .float(a - b)
        case "*": return .float(a * b)
        case "/":
            guard b != 0 else { throw TemplateError.runtime("division by zero") }
            return .float(a / b)
        case "//":
            guard b != 0 else { throw TemplateError.runtime("division by zero") }
            return .float((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw TemplateError.runtime("modulo by zero") }
            let m = a.truncatingRemainder(dividingBy: b)
            return .float(m != 0 && (m < 0) != (b < 0) ? m + b : m)
        case "**": return .float(pow(a, b))
        default: throw fail()
        }
    }
}

extension Value {
    var isFloat: Bool {
        if case .float = self { return true }
        return false
    }
}
