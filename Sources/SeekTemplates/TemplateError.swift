/// A template problem: syntax errors carry the line and column; runtime errors name what failed.
public enum TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    case syntax(String, line: Int, column: Int)
    case runtime(String)
    /// `raise_exception(...)` called by the template itself.
    case raised(String)
    case unsupported(String, line: Int, column: Int)

    public var description: String {
        switch self {
        case .syntax(let m, let l, let c): "template syntax error at line \(l), column \(c): \(m)"
        case .runtime(let m): "template error: \(m)"
        case .raised(let m): m
        case .unsupported(let m, let l, let c): "template uses \(m) at line \(l), column \(c), which is not supported"
        }
    }
}
