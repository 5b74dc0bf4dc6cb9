import Foundation

/// JSON ↔ `Value`, keeping object key order (it shows in `tojson` output) and the int/float
/// distinction (Python prints 1 and 1.0 differently).
enum JSON {
    static func parse(_ text: String) throws -> Value {
        var p = JSONParser(Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.b.count else { throw p.error("unexpected trailing characters") }
        return v
    }

    /// Python's `json.dumps(v, ensure_ascii=False, indent=indent, separators=..., sort_keys=...)`:
    /// default separators are (", ", ": "), or ("," , ": ") when indenting.
    static func dump(_ v: Value, indent: Int?, separators: (String, String)? = nil, sortKeys: Bool = false) throws -> String {
        var out = ""
        let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        try write(v, into: &out, indent: indent, level: 0, seps: seps, sortKeys: sortKeys)
        return out
    }

    private static func write(_ v: Value, into out: inout String, indent: Int?, level: Int, seps: (String, String), sortKeys: Bool) throws {
        func newline(_ l: Int) {
            if let indent { out += "\n" + String(repeating: " ", count: indent * l) }
        }
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let f):
            if f.isNaN { out += "NaN" } else if f.isInfinite { out += f > 0 ? "Infinity" : "-Infinity" } else { out += pythonFloat(f) }
        case .string(let s): out += quote(s)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (k, item) in a.enumerated() {
                if k > 0 { out += seps.0 }
                newline(level + 1)
                try write(item, into: &out, indent: indent, level: level + 1, seps: seps, sortKeys: sortKeys)
            }
            newline(level)
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            let pairs = sortKeys ? o.pairs.sorted { $0.key < $1.key } : o.pairs
            for (k, pair) in pairs.enumerated() {
                if k > 0 { out += seps.0 }
                newline(level + 1)
                out += quote(pair.key) + seps.1
                try write(pair.value, into: &out, indent: indent, level: level + 1, seps: seps, sortKeys: sortKeys)
            }
            newline(level)
            out += "}"
        case .namespace(let ns):
            try write(.object(ns.values), into: &out, indent: indent, level: level, seps: seps, sortKeys: sortKeys)
        case .undefined(let n):
            throw TemplateError.runtime("'\(n)' is undefined and cannot be converted to JSON")
        case .callable(let c):
            throw TemplateError.runtime("function '\(c.name)' cannot be converted to JSON")
        case .generator:
            throw TemplateError.runtime("Object of type generator is not JSON serializable")
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Text that is not JSON: where and why (a request body, a messages file; not a template's fault).
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public var description: String { message }
}

struct JSONParser {
    let b: [UInt8]
    var i = 0

    init(_ b: [UInt8]) { self.b = b }

    func error(_ m: String) -> JSONError { JSONError(message: "invalid JSON at byte \(i): \(m)") }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws -> Value {
        guard depth < 512 else { throw error("nested too deeply") }
        guard i < b.count else { throw error("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var o = OrderedDict()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
                o[k] = try value(depth: depth + 1)
                skipSpace()
                guard i < b.count else { throw error("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [Value] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw error("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .none
        default:
            return try number()
        }
    }

    private mutating func literal(_ s: String) throws {
        for c in s.utf8 {
            guard i < b.count, b[i] == c else { throw error("expected '\(s)'") }
            i += 1
        }
    }

    private mutating func number() throws -> Value {
        let start = i
        var isFloat = false
        while i < b.count {
            let c = b[i]
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                i += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isFloat = true
                i += 1
            } else {
                break
            }
        }
        let s = String(decoding: b[start..<i], as: UTF8.self)
        if !isFloat, let v = Int(s) { return .int(v) }
        guard !s.isEmpty, let d = Double(s) else { throw error("unexpected character") }
        return .float(d)
    }

    private mutating func string() throws -> String {
        i += 1
        var bytes: [UInt8] = []
        while i < b.count {
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\"") { return String(decoding: bytes, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                default: bytes.append(e)
                }
            } else {
                bytes.append(c)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw error("bad \\u escape")
        }
        i += 4
        return v
    }
}
