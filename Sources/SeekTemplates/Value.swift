import Foundation

/// A Jinja value with Python semantics (truthiness, `str()`, equality), as templates written
/// for Python's jinja2 expect.
public indirect enum Value: Sendable {
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case array([Value])
    case object(OrderedDict)
    case namespace(Namespace)
    case callable(Callable)
    /// A generator (what jinja2's map/select/reject filters return): iterable once it is
    /// listed or joined, but not printable, countable or JSON-serializable.
    case generator([Value])

    public static func from(_ s: String) -> Value { .string(s) }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let f): f != 0
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        case .namespace, .callable, .generator: true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        case .namespace: "Namespace"
        case .callable: "function"
        case .generator: "generator"
        }
    }

    /// Python `str()`.
    var str: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .float(let f): pythonFloat(f)
        case .string(let s): s
        case .array, .object, .namespace, .callable, .generator: repr
        }
    }

    /// Python `repr()` (used when lists and dicts are printed).
    var repr: String {
        switch self {
        case .string(let s): pythonRepr(s)
        case .array(let a): "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.pairs.map { pythonRepr($0.key) + ": " + $0.value.repr }.joined(separator: ", ") + "}"
        case .namespace(let n): "<Namespace " + n.values.pairs.map { "\($0.key)=\($0.value.repr)" }.joined(separator: ", ") + ">"
        case .callable(let c): "<function \(c.name)>"
        case .generator: "<generator object>"
        default: str
        }
    }

    /// Items when iterated: list items, dict keys, string characters.
    func iterate() throws -> [Value] {
        switch self {
        case .array(let a), .generator(let a): return a
        case .object(let o): return o.keys.map { .string($0) }
        case .string(let s): return s.map { .string(String($0)) }
        case .undefined, .none: return []
        default: throw TemplateError.runtime("'\(typeName)' object is not iterable")
        }
    }
}

/// Python equality: 1 == 1.0 == True, lists and dicts compare deeply.
func pythonEquals(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(pythonEquals)
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.pairs.allSatisfy { p in y[p.key].map { pythonEquals(p.value, $0) } ?? false }
    case (.namespace(let x), .namespace(let y)): return x === y
    default:
        if let x = a.number, let y = b.number { return x == y }
        return false
    }
}

extension Value {
    /// Numeric view (bools are ints in Python).
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let f): f
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    var intValue: Int? {
        switch self {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
}

func pythonFloat(_ f: Double) -> String {
    if f.isNaN { return "nan" }
    if f.isInfinite { return f > 0 ? "inf" : "-inf" }
    if f == f.rounded(), abs(f) < 1e16 { return String(format: "%.1f", f) }
    return "\(f)"
}

func pythonRepr(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(c) == quote { out += "\\" + String(quote) }
            else if c.value < 0x20 || c.value == 0x7F { out += String(format: "\\x%02x", c.value) }
            else { out.unicodeScalars.append(c) }
        }
    }
    out.append(quote)
    return out
}

/// A dictionary that keeps insertion order, as Python's does (it matters for `tojson` and
/// for iterating tool parameters).
public struct OrderedDict: Sendable {
    public private(set) var pairs: [(key: String, value: Value)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public init(_ pairs: [(String, Value)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }
    public var keys: [String] { pairs.map(\.key) }

    public subscript(key: String) -> Value? {
        get { index[key].map { pairs[$0].value } }
        set {
            if let i = index[key] {
                if let v = newValue {
                    pairs[i].value = v
                } else {
                    pairs.remove(at: i)
                    index = [:]
                    for (j, p) in pairs.enumerated() { index[p.key] = j }
                }
            } else if let v = newValue {
                index[key] = pairs.count
                pairs.append((key, v))
            }
        }
    }
}

/// `namespace()`: the one mutable object templates use to carry state out of loops.
public final class Namespace: @unchecked Sendable {
    var values: OrderedDict
    init(_ values: OrderedDict) { self.values = values }
}

/// A function value: globals, macros and bound methods.
public struct Callable: Sendable {
    let name: String
    let call: @Sendable (_ args: [Value], _ kwargs: OrderedDict, _ context: CallContext) throws -> Value
}

/// What a called function may need from the interpreter (macros render bodies).
struct CallContext {
    let interpreter: Interpreter
}
