import Foundation

/// Python methods templates call on strings, dicts and lists (`x.strip()`, `d.items()`).
/// Mutating list methods are absent: transformers renders in an immutable sandbox.
enum Methods {
    static func string(_ s: String, _ name: String) -> Callable? {
        func method(_ f: @escaping @Sendable ([Value], OrderedDict) throws -> Value) -> Callable {
            Callable(name: name) { args, kwargs, _ in try f(args, kwargs) }
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            return method { args, _ in
                let chars = args.first.flatMap { $0.isNone ? nil : $0.str }
                return .string(pyStrip(s, chars, left: name != "rstrip", right: name != "lstrip"))
            }
        case "upper": return method { _, _ in .string(s.uppercased()) }
        case "lower": return method { _, _ in .string(s.lowercased()) }
        case "capitalize": return method { _, _ in .string(s.prefix(1).uppercased() + s.dropFirst().lowercased()) }
        case "title":
            return method { _, _ in
                var out = ""
                var prevLetter = false
                for c in s {
                    out += prevLetter ? c.lowercased() : c.uppercased()
                    prevLetter = c.isLetter
                }
                return .string(out)
            }
        case "startswith", "endswith":
            return method { args, _ in
                guard let a = args.first else { throw TemplateError.runtime("\(name)() needs an argument") }
                let options: [String] = (try? a.iterate().map(\.str)).flatMap { a.isString ? nil : $0 } ?? [a.str]
                return .bool(options.contains { name == "startswith" ? s.unicodeScalars.starts(with: $0.unicodeScalars) : s.unicodeScalars.reversed().starts(with: $0.unicodeScalars.reversed()) })
            }
        case "split", "rsplit":
            return method { args, kwargs in
                let sep = (args.first ?? kwargs["sep"]).flatMap { $0.isNone ? nil : $0.str }
                let maxsplit = (args.count > 1 ? args[1] : kwargs["maxsplit"])?.intValue ?? -1
                return .array(pySplit(s, sep, maxsplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines": return method { _, _ in .array(s.split(omittingEmptySubsequences: false) { $0 == "\n" }.map { .string(String($0)) }.dropLast(s.hasSuffix("\n") ? 1 : 0)) }
        case "replace":
            return method { args, _ in
                guard args.count >= 2 else { throw TemplateError.runtime("replace() needs two arguments") }
                return .string(pyReplace(s, args[0].str, args[1].str, count: args.count > 2 ? args[2].intValue : nil))
            }
        case "find":
            return method { args, _ in
                guard let sub = args.first?.str else { throw TemplateError.runtime("find() needs an argument") }
                guard let r = s.range(of: sub) else { return .int(-1) }
                return .int(s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: r.lowerBound))
            }
        case "count":
            return method { args, _ in
                guard let sub = args.first?.str, !sub.isEmpty else { return .int(s.unicodeScalars.count + 1) }
                return .int(s.components(separatedBy: sub).count - 1)
            }
        case "join":
            return method { args, _ in
                guard let a = args.first else { throw TemplateError.runtime("join() needs an argument") }
                return .string(try a.iterate().map(\.str).joined(separator: s))
            }
        case "format":
            return method { args, kwargs in .string(try pyFormat(s, args, kwargs)) }
        case "isdigit": return method { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isNumber)) }
        case "isspace": return method { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isWhitespace)) }
        case "isalpha": return method { _, _ in .bool(!s.isEmpty && s.allSatisfy(\.isLetter)) }
        default: return nil
        }
    }

    static func dict(_ o: OrderedDict, _ name: String) -> Callable? {
        switch name {
        case "items": return Callable(name: name) { _, _, _ in .array(o.pairs.map { .array([.string($0.key), $0.value]) }) }
        case "keys": return Callable(name: name) { _, _, _ in .array(o.keys.map { .string($0) }) }
        case "values": return Callable(name: name) { _, _, _ in .array(o.pairs.map(\.value)) }
        case "get":
            return Callable(name: name) { args, _, _ in
                guard let k = args.first else { throw TemplateError.runtime("get() needs a key") }
                return o[k.str] ?? (args.count > 1 ? args[1] : .none)
            }
        default: return nil
        }
    }

    static func list(_ a: [Value], _ name: String) -> Callable? {
        switch name {
        case "index":
            return Callable(name: name) { args, _, _ in
                guard let x = args.first, let i = a.firstIndex(where: { pythonEquals($0, x) }) else {
                    throw TemplateError.runtime("value is not in list")
                }
                return .int(i)
            }
        case "count":
            return Callable(name: name) { args, _, _ in .int(a.filter { pythonEquals($0, args.first ?? .none) }.count) }
        case "append", "pop", "insert", "extend", "remove", "clear", "sort", "reverse":
            return Callable(name: name) { _, _, _ in
                throw TemplateError.runtime("list.\(name)() is not allowed: templates render in an immutable sandbox")
            }
        default: return nil
        }
    }
}

extension Value {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

func pySplit(_ s: String, _ sep: String?, _ maxsplit: Int, fromRight: Bool) -> [String] {
    if let sep {
        guard !sep.isEmpty else { return [s] }
        var parts = s.components(separatedBy: sep)
        if maxsplit >= 0 && parts.count > maxsplit + 1 {
            if fromRight {
                let head = parts[..<(parts.count - maxsplit)].joined(separator: sep)
                parts = [head] + parts[(parts.count - maxsplit)...]
            } else {
                let tail = parts[maxsplit...].joined(separator: sep)
                parts = Array(parts[..<maxsplit]) + [tail]
            }
        }
        return parts
    }
    // Whitespace split: runs of whitespace, no empty strings.
    var words = s.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    if maxsplit >= 0 && words.count > maxsplit + 1 && !fromRight {
        // Keep the remainder (with its original spacing) as the last item.
        var rest = Substring(s)
        var out: [String] = []
        for _ in 0..<maxsplit {
            rest = rest.drop { $0.isWhitespace }
            let word = rest.prefix { !$0.isWhitespace }
            out.append(String(word))
            rest = rest.dropFirst(word.count)
        }
        out.append(String(rest.drop { $0.isWhitespace }))
        words = out
    }
    return words
}

/// Python's str.format for `{}`, `{0}`, `{name}` (no format specs beyond the plain field).
func pyFormat(_ s: String, _ args: [Value], _ kwargs: OrderedDict) throws -> String {
    var out = ""
    var auto = 0
    var it = s.makeIterator()
    while let c = it.next() {
        if c == "{" {
            var field = ""
            var closed = false
            while let d = it.next() {
                if d == "{" && field.isEmpty { out.append("{"); closed = true; field = "\u{0}"; break }
                if d == "}" { closed = true; break }
                field.append(d)
            }
            if field == "\u{0}" { continue }
            guard closed else { throw TemplateError.runtime("format(): unmatched '{'") }
            let name = field.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            if name.isEmpty {
                guard auto < args.count else { throw TemplateError.runtime("format(): not enough arguments") }
                out += args[auto].str
                auto += 1
            } else if let i = Int(name) {
                guard i < args.count else { throw TemplateError.runtime("format(): no argument \(i)") }
                out += args[i].str
            } else {
                guard let v = kwargs[name] else { throw TemplateError.runtime("format(): no argument '\(name)'") }
                out += v.str
            }
        } else if c == "}" {
            _ = it.next()
            out.append("}")
        } else {
            out.append(c)
        }
    }
    return out
}
