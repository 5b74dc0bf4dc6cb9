/// Errors the engine reports to its callers (CLI, server); each is one readable line.
public enum EngineError: Error, CustomStringConvertible, Sendable {
    case invalidParameter(String)
    case promptTooLong(tokens: Int, limit: Int)
    case modelNotFound(String)
    case pullFailed(String)
    case busy(limit: Int)

    public var description: String {
        switch self {
        case .invalidParameter(let m): m
        case .promptTooLong(let n, let limit): "the prompt is \(n) tokens, but the context holds \(limit); shorten it or raise --ctx"
        case .modelNotFound(let m): m
        case .pullFailed(let m): m
        case .busy(let limit): "the server is busy: \(limit) requests are already queued; retry later"
        }
    }
}
