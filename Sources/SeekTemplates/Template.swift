import Foundation

/// A compiled Jinja template. Compile once (syntax errors name line and column), render many
/// times with different variables.
public struct Template: Sendable {
    let nodes: [Node]

    public init(_ source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) throws {
        let tokens = try Lexer.tokenize(source, options: LexerOptions(trimBlocks: trimBlocks, lstripBlocks: lstripBlocks))
        nodes = try Parser.parse(tokens)
    }

    /// Renders with `variables` on top of the standard globals (`range`, `namespace`, `dict`,
    /// `raise_exception`, `strftime_now`). `now` fixes the date `strftime_now` sees.
    public func render(_ variables: [String: Value], now: Date = Date()) throws -> String {
        var globals = Globals.standard(now: now)
        for (k, v) in variables { globals[k] = v }
        let interp = Interpreter(globals: globals)
        return try interp.render(nodes)
    }
}

enum Globals {
    static func standard(now: Date) -> [String: Value] {
        var g: [String: Value] = [:]
        g["range"] = .callable(Callable(name: "range") { args, _, _ in
            let ints = args.compactMap(\.intValue)
            guard ints.count == args.count, (1...3).contains(ints.count) else { throw TemplateError.runtime("range() takes 1 to 3 integers") }
            let (start, end, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count == 3 ? ints[2] : 1)
            guard step != 0 else { throw TemplateError.runtime("range() step must not be zero") }
            guard abs((end - start) / step) < 1_000_000 else { throw TemplateError.runtime("range() is too large") }
            return .array(Array(stride(from: start, to: end, by: step)).map { .int($0) })
        })
        g["namespace"] = .callable(Callable(name: "namespace") { args, kwargs, _ in
            var values = OrderedDict()
            if case .object(let o)? = args.first { values = o }
            for (k, v) in kwargs.pairs { values[k] = v }
            return .namespace(Namespace(values))
        })
        g["dict"] = .callable(Callable(name: "dict") { _, kwargs, _ in .object(kwargs) })
        g["raise_exception"] = .callable(Callable(name: "raise_exception") { args, _, _ in
            throw TemplateError.raised(args.first?.str ?? "raise_exception called")
        })
        let date = now
        g["strftime_now"] = .callable(Callable(name: "strftime_now") { args, _, _ in
            .string(strftime(args.first?.str ?? "%Y-%m-%d", date))
        })
        return g
    }

    /// C strftime in UTC.
    static func strftime(_ format: String, _ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [Int8](repeating: 0, count: 256)
        let n = Foundation.strftime(&buf, buf.count, format, &tmv)
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Value {
    /// Parses JSON into a template value (object key order and int/float kept).
    public static func json(_ text: String) throws -> Value { try JSON.parse(text) }
}
