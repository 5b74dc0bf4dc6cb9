import Foundation
import SeekEngine
import SeekTemplates

/// A validated `POST /v1/chat/completions` body. Parsed from our order-keeping JSON value so
/// messages reach the chat template exactly as sent; every rejected parameter is named.
struct ChatRequest {
    var messages: Value
    var stream = false
    var includeUsage = false
    var maxTokens: Int?
    var sampling = SamplingParams()
    var stop: [String] = []
    var model: String?

    /// Parameters accepted and ignored (they do not change the output).
    static let ignored: Set<String> = ["user", "logit_bias", "service_tier", "store", "metadata", "parallel_tool_calls"]
    /// Parameters that are valid OpenAI/DeepSeek parameters but not supported yet.
    static let unsupported: Set<String> = ["tools", "tool_choice", "functions", "function_call", "response_format",
                                          "logprobs", "top_logprobs", "prediction", "audio", "modalities", "reasoning_effort"]
    static let known: Set<String> = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                                     "temperature", "top_p", "top_k", "min_p", "frequency_penalty", "presence_penalty",
                                     "repetition_penalty", "stop", "seed", "n"]

    init(body: String) throws {
        let root: Value
        do { root = try Value.json(body) } catch {
            throw APIError.invalid("body", "the request body is not valid JSON: \(error)")
        }
        guard case .object(let o) = root else { throw APIError.invalid("body", "the request body must be a JSON object") }
        for key in o.keys where !Self.known.contains(key) && !Self.ignored.contains(key) {
            if Self.unsupported.contains(key) {
                if key == "logprobs", case .bool(false)? = o[key] { continue }
                if key == "tools", case .array(let a)? = o[key], a.isEmpty { continue }
                throw APIError.invalid(key, "'\(key)' is not supported yet")
            }
            throw APIError.invalid(key, "unknown parameter '\(key)'")
        }
        func number(_ key: String) throws -> Double? {
            guard let v = o[key], !v.isNone else { return nil }
            switch v {
            case .int(let i): return Double(i)
            case .float(let f): return f
            default: throw APIError.invalid(key, "'\(key)' must be a number")
            }
        }
        func integer(_ key: String) throws -> Int? {
            guard let v = o[key], !v.isNone else { return nil }
            guard case .int(let i) = v else { throw APIError.invalid(key, "'\(key)' must be an integer") }
            return i
        }
        if case .string(let m)? = o["model"] { model = m }
        guard case .array(let list)? = o["messages"], !list.isEmpty else {
            throw APIError.invalid("messages", "'messages' must be a non-empty array")
        }
        var normalised: [Value] = []
        for (i, m) in list.enumerated() {
            guard case .object(var msg) = m, case .string(let role)? = msg["role"] else {
                throw APIError.invalid("messages[\(i)]", "each message needs a 'role'")
            }
            guard ["system", "user", "assistant", "tool", "developer"].contains(role) else {
                throw APIError.invalid("messages[\(i)].role", "unknown role '\(role)'")
            }
            // Content may be an array of parts; the text parts are joined.
            if case .array(let parts)? = msg["content"] {
                var text = ""
                for p in parts {
                    guard case .object(let part) = p, case .string("text")? = part["type"], case .string(let t)? = part["text"] else {
                        throw APIError.invalid("messages[\(i)].content", "only text content parts are supported")
                    }
                    text += t
                }
                msg["content"] = .string(text)
            }
            if role == "developer" { msg["role"] = .string("system") }
            normalised.append(.object(msg))
        }
        messages = .array(normalised)
        if case .bool(let s)? = o["stream"] { stream = s }
        if case .object(let so)? = o["stream_options"], case .bool(let u)? = so["include_usage"] { includeUsage = u }
        maxTokens = try integer("max_completion_tokens") ?? integer("max_tokens")
        if let m = maxTokens, m < 1 { throw APIError.invalid("max_tokens", "'max_tokens' must be at least 1") }
        if let n = try integer("n"), n != 1 { throw APIError.invalid("n", "only n = 1 is supported") }
        // OpenAI's defaults: temperature 1, top_p 1, no top-k/min-p.
        sampling.temperature = Float(try number("temperature") ?? 1)
        sampling.topP = Float(try number("top_p") ?? 1)
        sampling.topK = try integer("top_k") ?? 0
        sampling.minP = Float(try number("min_p") ?? 0)
        sampling.frequencyPenalty = Float(try number("frequency_penalty") ?? 0)
        sampling.presencePenalty = Float(try number("presence_penalty") ?? 0)
        sampling.repetitionPenalty = Float(try number("repetition_penalty") ?? 1)
        if let seed = try integer("seed") { sampling.seed = UInt64(bitPattern: Int64(seed)) }
        if sampling.temperature > 2 { throw APIError.invalid("temperature", "'temperature' must be between 0 and 2") }
        do { try sampling.validate() } catch {
            throw APIError.invalid("sampling", "\(error)")
        }
        switch o["stop"] {
        case .string(let s)?: stop = [s]
        case .array(let a)?:
            guard a.count <= 16 else { throw APIError.invalid("stop", "at most 16 stop strings") }
            stop = try a.map { v in
                guard case .string(let s) = v else { throw APIError.invalid("stop", "'stop' must be a string or a list of strings") }
                return s
            }
        case nil, .none?: break
        default: throw APIError.invalid("stop", "'stop' must be a string or a list of strings")
        }
    }
}
