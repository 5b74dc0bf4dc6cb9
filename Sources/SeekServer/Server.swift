import Foundation
import Hummingbird
import SeekChatStore
import SeekEngine
import SeekTemplates
import SeekTokenizers

/// Server settings (the `serve` command's options).
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var apiKey: String?
    public var maxBodyBytes = 4 << 20
    /// The name clients see in /v1/models and responses.
    public var modelName = "swiftseek"
    /// The web chat's conversations (`/api/conversations`); nil answers them with 503.
    public var conversations: ChatStore?

    public init() {}
}

/// Builds the HTTP application: routes, error mapping, optional auth. Tests call this with a
/// tiny model; `swiftseek serve` calls it and runs the result.
public func buildApplication(service: InferenceService, options: ServerOptions) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: ErrorMiddleware())
    addWebChat(to: router, options: options)  // before the key check: the page loads without it
    if let key = options.apiKey, !key.isEmpty { router.add(middleware: AuthMiddleware(key: key)) }
    let api = ChatCompletions(service: service, options: options)
    router.get("health") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    for prefix in ["v1/", ""] {
        router.get("\(prefix)models") { _, _ in api.models() }
        router.post("\(prefix)chat/completions") { request, context in
            try await api.chat(request, context)
        }
    }
    router.post("tokenize") { request, _ in try await api.tokenize(request) }
    router.post("detokenize") { request, _ in try await api.detokenize(request) }
    return Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "swiftseek"))
}

struct ChatCompletions: Sendable {
    let service: InferenceService
    let options: ServerOptions

    private func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func models() -> Response {
        struct Model: Encodable { let id: String; let object = "model"; let created: Int; let owned_by = "swiftseek" }
        struct List: Encodable { let object = "list"; let data: [Model] }
        return json(List(data: [Model(id: options.modelName, created: Int(Date().timeIntervalSince1970))]))
    }

    private func body(_ request: Request) async throws -> String {
        let buffer = try await request.body.collect(upTo: options.maxBodyBytes)
        return String(buffer: buffer)
    }

    func tokenize(_ request: Request) async throws -> Response {
        struct Body: Decodable { let content: String; let add_special: Bool? }
        struct Out: Encodable { let tokens: [Int32] }
        guard let b = try? JSONDecoder().decode(Body.self, from: Data(try await body(request).utf8)) else {
            throw APIError.invalid("content", "expected {\"content\": \"text\"}")
        }
        return json(Out(tokens: service.model.tokenizer.encode(b.content, addSpecial: b.add_special ?? false, parseSpecial: true)))
    }

    func detokenize(_ request: Request) async throws -> Response {
        struct Body: Decodable { let tokens: [Int32] }
        struct Out: Encodable { let content: String }
        guard let b = try? JSONDecoder().decode(Body.self, from: Data(try await body(request).utf8)) else {
            throw APIError.invalid("tokens", "expected {\"tokens\": [ids]}")
        }
        let vocab = service.model.tokenizer.vocabularySize
        if let bad = b.tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw APIError.invalid("tokens", "token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        return json(Out(content: service.model.tokenizer.decode(b.tokens, renderSpecial: true)))
    }

    func chat(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let req = try ChatRequest(body: try await body(request))
        let model = service.model
        guard let template = model.chatTemplate else {
            throw APIError(.badRequest, "the model has no chat template; use /v1/completions", code: "no_chat_template")
        }
        let prompt: String
        do {
            prompt = try template.render(messages: req.messages, addGenerationPrompt: true)
        } catch {
            throw APIError.invalid("messages", "the chat template rejected the conversation: \(error)")
        }
        let startsWithBOS = !template.bosToken.isEmpty && prompt.hasPrefix(template.bosToken)
        let ids = model.tokenizer.encode(prompt, addSpecial: !startsWithBOS, parseSpecial: true)
        let limit = service.contextSize
        let requested = ids.count + (req.maxTokens ?? 1)
        guard requested <= limit else {
            throw APIError(.badRequest, "This model's maximum context length is \(limit) tokens. However, you requested \(requested) tokens (\(ids.count) in the messages, \(req.maxTokens ?? 1) in the completion). Please reduce the length of the messages or completion.",
                           param: "messages", code: "context_length_exceeded")
        }
        let maxTokens = req.maxTokens ?? (limit - ids.count)
        var g = GenerationRequest(prompt: ids)
        g.maxTokens = max(1, maxTokens)
        g.sampling = req.sampling
        g.stopStrings = req.stop
        let events: AsyncThrowingStream<GenerationEvent, Error>
        do { events = try service.generate(g) } catch EngineError.busy(let n) {
            throw APIError(.tooManyRequests, "the server is busy (\(n) requests queued); retry later", type: "rate_limit_error", code: "queue_full")
        }
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let created = Int(Date().timeIntervalSince1970)
        let name = req.model ?? options.modelName
        if req.stream {
            return streamResponse(events, id: String(id), created: created, model: name, prompt: prompt, includeUsage: req.includeUsage)
        }
        var parser = ReasoningParser(prompt: prompt)
        var content = "", reasoning = ""
        var finish = "stop"
        var stats = GenerationStats()
        var reasoningTokens = 0
        func take(_ parts: [ReasoningParser.Part]) {
            for p in parts {
                switch p {
                case .reasoning(let t): reasoning += t
                case .content(let t): content += t
                }
            }
        }
        for try await e in events {
            switch e {
            case .token(_, let text, _):
                let parts = parser.push(text)
                if parts.contains(where: { if case .reasoning = $0 { true } else { false } }) { reasoningTokens += 1 }
                take(parts)
            case .finished(let reason, let rest, let s):
                take(parser.push(rest))
                finish = reason == .stop ? "stop" : "length"
                stats = s
            }
        }
        take(parser.flush())
        return json(ChatCompletion(id: String(id), created: created, model: name,
                                   choices: [.init(index: 0, message: .init(content: content, reasoning_content: reasoning.isEmpty ? nil : reasoning), finish_reason: finish)],
                                   usage: Usage(stats, reasoningTokens: reasoningTokens)))
    }

    private func streamResponse(_ events: AsyncThrowingStream<GenerationEvent, Error>, id: String, created: Int, model: String,
                                prompt: String, includeUsage: Bool) -> Response {
        let body = ResponseBody { writer in
            func send(_ chunk: ChatChunk) async throws {
                let data = try JSONEncoder().encode(chunk)
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
            func chunk(_ delta: ChatChunk.Delta, finish: String? = nil) -> ChatChunk {
                ChatChunk(id: id, created: created, model: model, choices: [.init(index: 0, delta: delta, finish_reason: finish)], usage: nil)
            }
            var parser = ReasoningParser(prompt: prompt)
            var reasoningTokens = 0
            do {
                try await send(chunk(.init(role: "assistant", content: "")))
                func deliver(_ parts: [ReasoningParser.Part]) async throws {
                    for p in parts {
                        switch p {
                        case .reasoning(let t): try await send(chunk(.init(reasoning_content: t)))
                        case .content(let t): try await send(chunk(.init(content: t)))
                        }
                    }
                }
                for try await e in events {
                    switch e {
                    case .token(_, let text, _):
                        let parts = parser.push(text)
                        if parts.contains(where: { if case .reasoning = $0 { true } else { false } }) { reasoningTokens += 1 }
                        try await deliver(parts)
                    case .finished(let reason, let rest, let stats):
                        try await deliver(parser.push(rest) + parser.flush())
                        try await send(chunk(.init(), finish: reason == .stop ? "stop" : "length"))
                        if includeUsage {
                            try await send(ChatChunk(id: id, created: created, model: model, choices: [], usage: Usage(stats, reasoningTokens: reasoningTokens)))
                        }
                    }
                }
            } catch {
                let message = "\(error)".replacingOccurrences(of: "\"", with: "'")
                try await writer.write(ByteBuffer(string: "data: {\"error\":{\"message\":\"\(message)\",\"type\":\"server_error\"}}\n\n"))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

// MARK: response shapes (OpenAI / DeepSeek)

struct Usage: Encodable {
    struct PromptDetails: Encodable { let cached_tokens: Int }
    struct CompletionDetails: Encodable { let reasoning_tokens: Int }
    let prompt_tokens: Int
    let completion_tokens: Int
    let total_tokens: Int
    let prompt_cache_hit_tokens: Int
    let prompt_cache_miss_tokens: Int
    let prompt_tokens_details: PromptDetails
    let completion_tokens_details: CompletionDetails

    init(_ s: GenerationStats, reasoningTokens: Int) {
        prompt_tokens = s.promptTokens
        completion_tokens = s.generatedTokens
        total_tokens = s.promptTokens + s.generatedTokens
        prompt_cache_hit_tokens = s.cachedPromptTokens
        prompt_cache_miss_tokens = s.promptTokens - s.cachedPromptTokens
        prompt_tokens_details = .init(cached_tokens: s.cachedPromptTokens)
        completion_tokens_details = .init(reasoning_tokens: reasoningTokens)
    }
}

struct ChatCompletion: Encodable {
    struct Choice: Encodable {
        struct Message: Encodable {
            var role = "assistant"
            let content: String
            let reasoning_content: String?
        }
        let index: Int
        let message: Message
        let finish_reason: String
    }
    let id: String
    var object = "chat.completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage
}

struct ChatChunk: Encodable {
    struct Delta: Encodable {
        var role: String? = nil
        var content: String? = nil
        var reasoning_content: String? = nil
    }
    struct Choice: Encodable {
        let index: Int
        let delta: Delta
        let finish_reason: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            try c.encode(finish_reason, forKey: .finish_reason)  // null until the last chunk, as OpenAI sends it
        }
        enum CodingKeys: String, CodingKey { case index, delta, finish_reason }
    }
    let id: String
    var object = "chat.completion.chunk"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
}
