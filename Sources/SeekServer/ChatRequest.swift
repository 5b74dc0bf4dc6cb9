import Foundation
import SeekEngine
import SeekTemplates

/// The parameters `/v1/chat/completions` and `/v1/completions` share: sampling, limits, stops,
/// streaming. Parsed from our order-keeping JSON value; every rejected parameter is named.
struct GenerationParameters {
    var stream = false
    var includeUsage = false
    var maxTokens: Int?
    var sampling = SamplingParams()
    var stop: [String] = []
    var model: String?
    /// Log-probabilities of each generated token, and how many alternatives with each.
    var logprobs = false
    var topLogprobs = 0

    /// Parameters accepted and ignored (they do not change the output).
    static let ignored: Set<String> = ["user", "logit_bias", "service_tier", "store", "metadata", "parallel_tool_calls"]
    static let known: Set<String> = ["model", "stream", "stream_options", "max_tokens", "temperature", "top_p", "top_k",
                                     "min_p", "frequency_penalty", "presence_penalty", "repetition_penalty", "stop", "seed", "n"]

    /// Parses the shared keys of `o`; `known` and `unsupported` are the endpoint's own keys.
    init(_ o: OrderedDict, known: Set<String>, unsupported: Set<String>) throws {
        for key in o.keys where !Self.known.contains(key) && !known.contains(key) && !Self.ignored.contains(key) {
            if unsupported.contains(key) {
                // Values that ask for nothing unsupported: no tools, plain text.
                if key == "tools", case .array(let a)? = o[key], a.isEmpty { continue }
                if key == "tool_choice", case .string(let c)? = o[key], c == "none" || c == "auto", !Self.hasTools(o) { continue }
                if key == "response_format", case .object(let f)? = o[key], case .string("text")? = f["type"] { continue }
                if case .none? = o[key] { continue }
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
        func bool(_ key: String) throws -> Bool? {
            guard let v = o[key], !v.isNone else { return nil }
            guard case .bool(let b) = v else { throw APIError.invalid(key, "'\(key)' must be true or false") }
            return b
        }
        switch o["model"] {
        case .string(let m)?: model = m
        case nil, .none?: break
        default: throw APIError.invalid("model", "'model' must be a string")
        }
        stream = try bool("stream") ?? false
        switch o["stream_options"] {
        case .object(let so)?:
            if case .bool(let u)? = so["include_usage"] { includeUsage = u }
        case nil, .none?: break
        default: throw APIError.invalid("stream_options", "'stream_options' must be an object")
        }
        if let m = try integer("max_completion_tokens") {
            guard m >= 1 else { throw APIError.invalid("max_completion_tokens", "'max_completion_tokens' must be at least 1") }
            maxTokens = m
        } else if let m = try integer("max_tokens") {
            guard m >= 1 else { throw APIError.invalid("max_tokens", "'max_tokens' must be at least 1") }
            maxTokens = m
        }
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
        let s = sampling
        for (name, ok) in [("temperature", s.temperature.isFinite && s.temperature >= 0 && s.temperature <= 2),
                           ("top_p", s.topP.isFinite && s.topP > 0 && s.topP <= 1),
                           ("top_k", s.topK >= 0),
                           ("min_p", s.minP.isFinite && s.minP >= 0 && s.minP <= 1),
                           ("frequency_penalty", s.frequencyPenalty.isFinite && abs(s.frequencyPenalty) <= 2),
                           ("presence_penalty", s.presencePenalty.isFinite && abs(s.presencePenalty) <= 2),
                           ("repetition_penalty", s.repetitionPenalty.isFinite && s.repetitionPenalty > 0)] where !ok {
            let range = ["temperature": "between 0 and 2", "top_p": "in (0, 1]", "top_k": "at least 0", "min_p": "between 0 and 1",
                         "repetition_penalty": "greater than 0"][name] ?? "between -2 and 2"
            throw APIError.invalid(name, "'\(name)' must be \(range)")
        }
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

    static func hasTools(_ o: OrderedDict) -> Bool {
        if case .array(let a)? = o["tools"] { return !a.isEmpty }
        return false
    }

    /// Parses the body as a JSON object.
    static func object(_ body: String) throws -> OrderedDict {
        let root: Value
        do { root = try Value.json(body) } catch {
            throw APIError.invalid("body", "the request body is not valid JSON: \(error)")
        }
        guard case .object(let o) = root else { throw APIError.invalid("body", "the request body must be a JSON object") }
        return o
    }
}

/// A validated `POST /v1/chat/completions` body. Messages reach the chat template exactly as sent.
struct ChatRequest {
    var messages: Value
    var parameters: GenerationParameters
    /// DeepSeek's chat prefix completion: a last assistant message with `"prefix": true` is the
    /// start of the reply, which the model continues.
    var assistantPrefix: String?

    /// Valid OpenAI/DeepSeek parameters that are not supported yet.
    static let unsupported: Set<String> = ["tools", "tool_choice", "functions", "function_call", "response_format",
                                          "prediction", "audio", "modalities", "reasoning_effort"]
    static let known: Set<String> = ["messages", "max_completion_tokens", "logprobs", "top_logprobs"]

    init(body: String) throws {
        let o = try GenerationParameters.object(body)
        parameters = try GenerationParameters(o, known: Self.known, unsupported: Self.unsupported)
        switch o["logprobs"] {
        case .bool(let b)?: parameters.logprobs = b
        case nil, .none?: break
        default: throw APIError.invalid("logprobs", "'logprobs' must be true or false")
        }
        switch o["top_logprobs"] {
        case .int(let n)?:
            guard (0...20).contains(n) else { throw APIError.invalid("top_logprobs", "'top_logprobs' must be between 0 and 20") }
            guard parameters.logprobs else { throw APIError.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true") }
            parameters.topLogprobs = n
        case nil, .none?: break
        default: throw APIError.invalid("top_logprobs", "'top_logprobs' must be an integer")
        }
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
            switch msg["content"] {
            case .array(let parts)?:
                var text = ""
                for p in parts {
                    guard case .object(let part) = p, case .string("text")? = part["type"], case .string(let t)? = part["text"] else {
                        throw APIError.invalid("messages[\(i)].content", "only text content parts are supported")
                    }
                    text += t
                }
                msg["content"] = .string(text)
            case .string?: break
            case nil, .none?:
                // An assistant turn that only calls tools has no content.
                guard role == "assistant" else { throw APIError.invalid("messages[\(i)].content", "a \(role) message needs 'content'") }
            default: throw APIError.invalid("messages[\(i)].content", "'content' must be a string or an array of text parts")
            }
            if role == "developer" { msg["role"] = .string("system") }
            normalised.append(.object(msg))
        }
        if case .object(let last)? = normalised.last, case .string("assistant")? = last["role"], case .bool(true)? = last["prefix"] {
            guard case .string(let text)? = last["content"] else {
                throw APIError.invalid("messages[\(normalised.count - 1)].content", "a prefix message needs 'content'")
            }
            assistantPrefix = text
            normalised.removeLast()
            guard !normalised.isEmpty else { throw APIError.invalid("messages", "a prefix message needs a conversation before it") }
        }
        messages = .array(normalised)
    }
}
