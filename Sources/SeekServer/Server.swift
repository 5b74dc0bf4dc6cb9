import Foundation
import Hummingbird
import SeekChatStore
import SeekEngine
import SeekTemplates
import SeekTokenizers
import ServiceLifecycle

/// Server settings (the `serve` command's options).
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var apiKey: String?
    public var maxBodyBytes = 4 << 20
    /// The name clients see in /v1/models and responses.
    public var modelName = "swiftseek"
    /// How often a stream that has nothing to send (a long prompt being prefilled, a wait for
    /// a slot) gets a `: keep-alive` comment; nil sends none.
    public var keepAlive: Duration? = .seconds(5)
    /// After SIGTERM/SIGINT, how long running generations may go on before they are cancelled.
    public var shutdownGrace: Duration = .seconds(10)
    /// The web chat's conversations (`/api/conversations`); nil answers them with 503.
    public var conversations: ChatStore?

    public init() {}
}

/// The server's model, once loaded (the server listens while it loads and answers 503), and
/// its metrics.
public final class ServerState: Sendable {
    public let metrics = ServerMetrics()
    private let loaded = Locked<InferenceService?>(nil)

    public init() {}

    public convenience init(service: InferenceService) {
        self.init()
        ready(service)
    }

    /// Installs the loaded model; requests are served from now on.
    public func ready(_ service: InferenceService) { loaded.withLock { $0 = service } }

    public var service: InferenceService? { loaded.withLock { $0 } }

    /// The loaded model, or a 503 while it is still loading.
    func requireService() throws -> InferenceService {
        guard let service else { throw APIError.unavailable("the model is still loading; retry shortly") }
        return service
    }
}

/// Builds the HTTP application around a loaded model. Tests call this with a tiny model.
public func buildApplication(service: InferenceService, options: ServerOptions) -> some ApplicationProtocol {
    buildApplication(state: ServerState(service: service), options: options)
}

/// Builds the HTTP application: routes, error mapping, optional auth, metrics. `services` run
/// beside the HTTP server (`swiftseek serve` passes the model loader) and are shut down after it.
public func buildApplication(state: ServerState, options: ServerOptions, services: [any Service] = []) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: ErrorMiddleware(metrics: state.metrics))
    router.add(middleware: RequestCountMiddleware(metrics: state.metrics))
    addWebChat(to: router, options: options)  // before the key check: the page loads without it
    if let key = options.apiKey, !key.isEmpty { router.add(middleware: AuthMiddleware(key: key)) }
    router.add(middleware: ShutdownMiddleware())
    let api = API(state: state, options: options)
    router.get("health") { _, _ in api.health() }
    router.get("metrics") { _, _ in api.metrics() }
    for prefix in ["v1/", ""] {
        router.get("\(prefix)models") { _, _ in api.models() }
        router.get("\(prefix)models/:id") { _, context in try api.model(context.parameters.require("id")) }
        router.post("\(prefix)chat/completions") { request, context in try await api.chat(request, context) }
        router.post("\(prefix)completions") { request, context in try await api.completions(request, context) }
    }
    router.post("tokenize") { request, _ in try await api.tokenize(request) }
    router.post("detokenize") { request, _ in try await api.detokenize(request) }
    router.post("apply-template") { request, _ in try await api.applyTemplate(request) }
    return Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "swiftseek"),
                       services: services)
}

/// The route handlers. Every generation goes through `start` (limits, queue) and `pumpEvents`
/// (keep-alive, cancellation, shutdown deadline).
struct API: Sendable {
    let state: ServerState
    let options: ServerOptions
    var metricsStore: ServerMetrics { state.metrics }

    func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func health() -> Response {
        struct Status: Encodable { let status: String }
        if Task.isShuttingDownGracefully { return json(Status(status: "shutting_down"), status: .serviceUnavailable) }
        return state.service == nil ? json(Status(status: "loading"), status: .serviceUnavailable) : json(Status(status: "ok"))
    }

    func metrics() -> Response {
        let text = metricsStore.render(engine: state.service?.stats)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    struct ModelEntry: Encodable { let id: String; var object = "model"; let created: Int; var owned_by = "swiftseek" }

    func models() -> Response {
        struct List: Encodable { var object = "list"; let data: [ModelEntry] }
        return json(List(data: [ModelEntry(id: options.modelName, created: Int(Date().timeIntervalSince1970))]))
    }

    func model(_ encoded: String) throws -> Response {
        let id = encoded.removingPercentEncoding ?? encoded
        guard id == options.modelName else {
            throw APIError(.notFound, "The model '\(id)' does not exist; this server serves '\(options.modelName)'", param: "model", code: "model_not_found")
        }
        return json(ModelEntry(id: id, created: Int(Date().timeIntervalSince1970)))
    }

    func body(_ request: Request) async throws -> String {
        do {
            let buffer = try await request.body.collect(upTo: options.maxBodyBytes)
            return String(buffer: buffer)
        } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "the request body is larger than the server's limit of \(options.maxBodyBytes) bytes",
                           code: "request_too_large")
        }
    }

    func tokenize(_ request: Request) async throws -> Response {
        struct Body: Decodable { let content: String; let add_special: Bool? }
        struct Out: Encodable { let tokens: [Int32] }
        let service = try state.requireService()
        guard let b = try? JSONDecoder().decode(Body.self, from: Data(try await body(request).utf8)) else {
            throw APIError.invalid("content", "expected {\"content\": \"text\"}")
        }
        return json(Out(tokens: service.model.tokenizer.encode(b.content, addSpecial: b.add_special ?? false, parseSpecial: true)))
    }

    func detokenize(_ request: Request) async throws -> Response {
        struct Body: Decodable { let tokens: [Int32] }
        struct Out: Encodable { let content: String }
        let service = try state.requireService()
        guard let b = try? JSONDecoder().decode(Body.self, from: Data(try await body(request).utf8)) else {
            throw APIError.invalid("tokens", "expected {\"tokens\": [ids]}")
        }
        let vocab = service.model.tokenizer.vocabularySize
        if let bad = b.tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw APIError.invalid("tokens", "token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        return json(Out(content: service.model.tokenizer.decode(b.tokens, renderSpecial: true)))
    }

    /// The prompt a chat request renders to, and its token ids (as the chat endpoint counts them).
    func applyTemplate(_ request: Request) async throws -> Response {
        struct Out: Encodable { let prompt: String; let tokens: [Int32] }
        let service = try state.requireService()
        let req = try ChatRequest(body: try await body(request))
        let (prompt, ids) = try renderChat(req, service.model)
        return json(Out(prompt: prompt, tokens: ids))
    }

    func renderChat(_ req: ChatRequest, _ model: LoadedModel) throws -> (String, [Int32]) {
        guard let template = model.chatTemplate else {
            throw APIError(.badRequest, "the model has no chat template; use /v1/completions", code: "no_chat_template")
        }
        var prompt: String
        do {
            prompt = try template.render(messages: req.messages, addGenerationPrompt: true)
        } catch {
            throw APIError.invalid("messages", "the chat template rejected the conversation: \(error)")
        }
        if let prefix = req.assistantPrefix { prompt += prefix }
        let startsWithBOS = !template.bosToken.isEmpty && prompt.hasPrefix(template.bosToken)
        return (prompt, model.tokenizer.encode(prompt, addSpecial: !startsWithBOS, parseSpecial: true))
    }

    /// Checks the context limit and submits the generation; maps the engine's refusals to API errors.
    func start(_ service: InferenceService, prompt ids: [Int32], _ p: GenerationParameters, promptParam: String,
               defaultMaxTokens: Int? = nil) throws -> AsyncThrowingStream<GenerationEvent, Error> {
        let limit = service.contextSize
        let asked = p.maxTokens ?? defaultMaxTokens.map { min($0, max(1, limit - ids.count)) }
        let requested = ids.count + (asked ?? 1)
        guard requested <= limit else {
            let what = promptParam == "messages" ? "messages" : "prompt"
            throw APIError(.badRequest, "This model's maximum context length is \(limit) tokens. However, you requested \(requested) tokens (\(ids.count) in the \(what), \(asked ?? 1) in the completion). Please reduce the length of the \(what) or completion.",
                           param: promptParam, code: "context_length_exceeded")
        }
        var g = GenerationRequest(prompt: ids)
        g.maxTokens = max(1, asked ?? (limit - ids.count))
        g.sampling = p.sampling
        g.stopStrings = p.stop
        g.logprobs = p.logprobs ? p.topLogprobs : nil
        do {
            return try service.generate(g)
        } catch EngineError.busy(let n) {
            throw APIError(.tooManyRequests, "the server is busy (\(n) requests queued or running); retry later", type: "rate_limit_error", code: "queue_full")
        } catch EngineError.promptTooLong(let tokens, let limit) {
            throw APIError(.badRequest, "This model's maximum context length is \(limit) tokens. However, your \(promptParam) is \(tokens) tokens.",
                           param: promptParam, code: "context_length_exceeded")
        } catch EngineError.invalidParameter(let m) {
            throw APIError.invalid(promptParam, m)
        }
    }

    // MARK: chat

    func chat(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let service = try state.requireService()
        let req = try ChatRequest(body: try await body(request))
        let (prompt, ids) = try renderChat(req, service.model)
        let events = try start(service, prompt: ids, req.parameters, promptParam: "messages")
        let id = "chatcmpl-" + randomID()
        let created = Int(Date().timeIntervalSince1970)
        let name = req.parameters.model ?? options.modelName
        let metrics = metricsStore
        var turn = ChatTurn(prompt: prompt, logprobs: req.parameters.logprobs ? LogprobFormatter(tokenizer: service.model.tokenizer) : nil)
        if req.parameters.stream {
            let renderer = ChatStream(id: id, created: created, model: name, includeUsage: req.parameters.includeUsage, turn: turn)
            return streamResponse(events, arrived: arrived, renderer: renderer)
        }
        try await collect(events, arrived: arrived, metrics: metrics) { event in _ = turn.take(event) }
        return json(ChatCompletion(id: id, created: created, model: name,
                                   choices: [.init(index: 0, message: .init(content: turn.content, reasoning_content: turn.reasoning.isEmpty ? nil : turn.reasoning),
                                                   logprobs: turn.formatter == nil ? nil : ChatLogprobs(content: turn.logprobs),
                                                   finish_reason: turn.finish ?? "stop")],
                                   usage: turn.usage))
    }

    // MARK: running a generation

    /// Runs a non-streamed generation to its end, passing each event to `take`.
    func collect(_ events: AsyncThrowingStream<GenerationEvent, Error>, arrived: ContinuousClock.Instant,
                 metrics: ServerMetrics, _ take: (GenerationEvent) throws -> Void) async throws {
        metrics.generationStarted()
        defer { metrics.generationEnded() }
        var first = true
        let grace = options.shutdownGrace
        do {
            try await pumpEvents(events, keepAlive: nil, shutdownGrace: grace) { item in
                switch item {
                case .keepAlive: return true
                case .shutdownDeadline: throw APIError.unavailable("the server is shutting down")
                case .event(let e):
                    metrics.observe(e, first: &first, since: arrived)
                    try take(e)
                    return true
                }
            }
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(.internalServerError, "generation failed: \(error)", type: "server_error")
        }
    }

    /// A server-sent-events response: what `renderer` makes of the start and of each event,
    /// keep-alive comments while waiting, an error object if the generation fails or the
    /// server shuts down, and `data: [DONE]`. A write that fails means the client is gone:
    /// the pump then ends, which stops the generation.
    func streamResponse(_ events: AsyncThrowingStream<GenerationEvent, Error>, arrived: ContinuousClock.Instant,
                        renderer: some StreamRenderer) -> Response {
        let metrics = metricsStore
        let options = options
        let body = ResponseBody { writer in
            var renderer = renderer
            metrics.generationStarted()
            defer { metrics.generationEnded() }
            var firstToken = true
            var lastWrite = ContinuousClock.now
            func send(_ buffer: ByteBuffer) async throws {
                do { try await writer.write(buffer) } catch { throw ClientGone() }
                lastWrite = .now
            }
            do {
                for buffer in try renderer.start() { try await send(buffer) }
                try await pumpEvents(events, keepAlive: options.keepAlive.map { $0 / 2 }, shutdownGrace: options.shutdownGrace) { item in
                    switch item {
                    case .keepAlive:
                        // Ticks come twice per interval, so a comment goes out at most one interval after the last write.
                        if let k = options.keepAlive, ContinuousClock.now - lastWrite >= k { try await send(SSE.keepAlive) }
                        return true
                    case .shutdownDeadline:
                        metrics.error(503)
                        try await send(SSE.error(.unavailable("the server is shutting down; the generation was stopped")))
                        return false
                    case .event(let e):
                        metrics.observe(e, first: &firstToken, since: arrived)
                        for buffer in try renderer.render(e) { try await send(buffer) }
                        return true
                    }
                }
                try await send(SSE.done)
            } catch is ClientGone {
                metrics.clientGone()
                try? await writer.finish(nil)
                return
            } catch let e as APIError {
                metrics.error(Int(e.status.code))
                try? await writer.write(SSE.error(e))
                try? await writer.write(SSE.done)
            } catch {
                // The engine failed.
                metrics.error(500)
                try? await writer.write(SSE.error(APIError(.internalServerError, "generation failed: \(error)", type: "server_error")))
                try? await writer.write(SSE.done)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: SSE.headers, body: body)
    }
}

extension ServerMetrics {
    /// Token counts, tokens/s and time to first token from one engine event.
    func observe(_ event: GenerationEvent, first: inout Bool, since arrived: ContinuousClock.Instant) {
        switch event {
        case .token:
            if first {
                first = false
                let d = ContinuousClock.now - arrived
                timeToFirstToken.recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
            }
            token()
        case .finished(_, _, let stats):
            finished(stats)
        }
    }
}

/// A write to the client failed: it closed the connection.
struct ClientGone: Error {}

func randomID() -> String {
    String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24))
}

/// One chat reply as it is generated: the reasoning split (DeepSeek's `reasoning_content`),
/// the finish reason and the usage.
struct ChatTurn {
    private var parser: ReasoningParser
    var content = ""
    var reasoning = ""
    var reasoningTokens = 0
    var finish: String?
    var usage: Usage?
    /// Set when the request asked for log-probabilities.
    let formatter: LogprobFormatter?
    /// Every token's log-probabilities, and those not yet sent in a stream.
    var logprobs: [ChatLogprob] = []
    var unsentLogprobs: [ChatLogprob] = []

    /// The template opened `<think>` (R1): the reply starts as reasoning.
    private let startsInReasoning: Bool

    init(prompt: String, logprobs: LogprobFormatter? = nil) {
        parser = ReasoningParser(prompt: prompt)
        var trimmed = Substring(prompt)
        while let last = trimmed.last, last.isWhitespace { trimmed = trimmed.dropLast() }
        startsInReasoning = trimmed.hasSuffix("<think>")
        formatter = logprobs
    }

    /// The parts this event completes (content and reasoning also accumulate).
    mutating func take(_ event: GenerationEvent) -> [ReasoningParser.Part] {
        var parts: [ReasoningParser.Part]
        switch event {
        case .token(_, let text, let l):
            if let formatter, let l {
                let entry = formatter.chat(l)
                logprobs.append(entry)
                unsentLogprobs.append(entry)
            }
            parts = parser.push(text)
            // Every token until the answer starts is reasoning (the tags included), also one
            // whose text is still held back (a partial character or tag).
            let addsReasoning = parts.contains { if case .reasoning = $0 { true } else { false } }
            if content.isEmpty && (startsInReasoning || addsReasoning || !reasoning.isEmpty) { reasoningTokens += 1 }
        case .finished(let reason, let rest, let stats):
            parts = parser.push(rest) + parser.flush()
            finish = reason == .stop ? "stop" : "length"
            usage = Usage(stats, reasoningTokens: reasoningTokens)
        }
        for p in parts {
            switch p {
            case .reasoning(let t): reasoning += t
            case .content(let t): content += t
            }
        }
        return parts
    }
}

/// Turns a generation's events into server-sent events.
protocol StreamRenderer: Sendable {
    /// What goes out before the first token.
    mutating func start() throws -> [ByteBuffer]
    mutating func render(_ event: GenerationEvent) throws -> [ByteBuffer]
}

/// Chat completion chunks: the role first, then content/reasoning deltas, a last chunk with
/// the finish reason and, when asked for, a usage chunk with no choices.
struct ChatStream: StreamRenderer {
    let id: String
    let created: Int
    let model: String
    let includeUsage: Bool
    var turn: ChatTurn

    /// A chunk; the log-probabilities of the tokens not yet reported ride on it.
    private mutating func chunk(_ delta: ChatChunk.Delta, finish: String? = nil) -> ChatChunk {
        var logprobs: ChatLogprobs?
        if turn.formatter != nil, !turn.unsentLogprobs.isEmpty {
            logprobs = ChatLogprobs(content: turn.unsentLogprobs)
            turn.unsentLogprobs = []
        }
        return ChatChunk(id: id, created: created, model: model, choices: [.init(index: 0, delta: delta, logprobs: logprobs, finish_reason: finish)], usage: nil)
    }

    mutating func start() throws -> [ByteBuffer] {
        [try SSE.data(chunk(.init(role: "assistant", content: "")))]
    }

    mutating func render(_ event: GenerationEvent) throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        for part in turn.take(event) {
            switch part {
            case .reasoning(let t): out.append(try SSE.data(chunk(.init(reasoning_content: t))))
            case .content(let t): out.append(try SSE.data(chunk(.init(content: t))))
            }
        }
        if let finish = turn.finish {
            out.append(try SSE.data(chunk(.init(), finish: finish)))
            if includeUsage {
                out.append(try SSE.data(ChatChunk(id: id, created: created, model: model, choices: [], usage: turn.usage)))
            }
        }
        return out
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
        completion_tokens_details = .init(reasoning_tokens: min(reasoningTokens, s.generatedTokens))
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
        let logprobs: ChatLogprobs?
        let finish_reason: String

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(message, forKey: .message)
            try c.encode(logprobs, forKey: .logprobs)  // null unless asked for, as OpenAI sends it
            try c.encode(finish_reason, forKey: .finish_reason)
        }
        enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason }
    }
    let id: String
    var object = "chat.completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
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
        var logprobs: ChatLogprobs? = nil
        let finish_reason: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finish_reason, forKey: .finish_reason)  // null until the last chunk, as OpenAI sends it
        }
        enum CodingKeys: String, CodingKey { case index, delta, logprobs, finish_reason }
    }
    let id: String
    var object = "chat.completion.chunk"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
}

