import Foundation
import Hummingbird
import SeekChatStore

/// `/api/conversations`: the web chat's conversations, kept by a `ChatStore`.
///
///     GET    /api/conversations?q=TEXT&limit=N   newest first; q searches titles and contents
///     POST   /api/conversations                  {"title"?, "messages"?: [message]}            → 201
///     GET    /api/conversations/ID               the conversation and its messages
///     PATCH  /api/conversations/ID               {"title"?, "edit"?: {"message_id", "content"},
///                                                 "truncate_after"?: message id (0 = all), "append"?: message | [message]}
///     DELETE /api/conversations/ID
///
/// A message is `{"role", "content", "reasoning_content"?, "model"?, "finish_reason"?, "prompt_tokens"?,
/// "completion_tokens"?, "tokens_per_second"?, "thinking_ms"?}`. Every PATCH is one transaction and
/// is on disk when the response is sent: the page appends the question, then streams the answer.
struct Conversations: Sendable {
    let store: ChatStore?
    let maxBodyBytes: Int

    private func open() throws -> ChatStore {
        guard let store else {
            throw APIError(.serviceUnavailable, "this server keeps no conversations (it was started without a database)",
                           type: "server_error", code: "no_conversation_store")
        }
        return store
    }

    func list(_ request: Request) async throws -> Response {
        let store = try open()
        let q = request.uri.queryParameters.get("q")
        var limit = 200
        if let raw = request.uri.queryParameters.get("limit") {
            guard let n = Int(raw) else { throw APIError.invalid("limit", "limit must be an integer") }
            limit = n
        }
        let items = try await run { () throws(ChatStoreError) in try await store.list(search: q, limit: limit) }
        return json(ListBody(data: items.map(SummaryBody.init)))
    }

    func create(_ request: Request) async throws -> Response {
        let store = try open()
        let o = try await object(request, allowed: ["title", "messages"])
        let title = try string(o, "title")
        var messages: [NewMessage] = []
        switch o["messages"] {
        case nil, .null?: break
        case .array(let list)?: messages = try list.enumerated().map { try message($1, field: "messages[\($0)]") }
        default: throw APIError.invalid("messages", "'messages' must be an array of messages")
        }
        let detail = try await run { () throws(ChatStoreError) in try await store.create(title: title, messages: messages) }
        return json(DetailBody(detail), status: .created)
    }

    func get(_ id: String) async throws -> Response {
        let store = try open()
        return json(DetailBody(try await run { () throws(ChatStoreError) in try await store.conversation(id) }))
    }

    func patch(_ id: String, _ request: Request) async throws -> Response {
        let store = try open()
        let o = try await object(request, allowed: ["title", "edit", "truncate_after", "append"])
        var change = ConversationChange()
        change.title = try string(o, "title")
        if let raw = o["edit"], raw != .null {
            guard case .object(let e) = raw else { throw APIError.invalid("edit", "'edit' must be {\"message_id\": N, \"content\": \"...\"}") }
            try only(e, ["message_id", "content"], prefix: "edit.")
            guard let mid = try integer(e, "message_id", prefix: "edit."), let content = try string(e, "content", prefix: "edit.") else {
                throw APIError.invalid("edit", "'edit' needs both 'message_id' and 'content'")
            }
            change.edit = .init(messageID: mid, content: content)
        }
        change.truncateAfter = try integer(o, "truncate_after")
        if let raw = o["append"], raw != .null {
            if case .array(let list) = raw {
                change.append = try list.enumerated().map { try message($1, field: "append[\($0)]") }
            } else {
                change.append = [try message(raw, field: "append")]
            }
        }
        guard !change.isEmpty else {
            throw APIError.invalid("body", "nothing to change: send 'title', 'edit', 'truncate_after' or 'append'")
        }
        let detail = try await run { () throws(ChatStoreError) in try await store.update(id, change) }
        return json(DetailBody(detail))
    }

    func delete(_ id: String) async throws -> Response {
        let store = try open()
        try await run { () throws(ChatStoreError) in try await store.delete(id) }
        struct Deleted: Encodable { let id: String; let object = "conversation.deleted"; let deleted = true }
        return json(Deleted(id: id))
    }

    // MARK: request parsing

    private func object(_ request: Request, allowed: Set<String>) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: maxBodyBytes)
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer)) } catch {
            throw APIError.invalid("body", "the request body is not valid JSON")
        }
        guard case .object(let o) = value else { throw APIError.invalid("body", "the request body must be a JSON object") }
        try only(o, allowed, prefix: "")
        return o
    }

    private func only(_ o: [String: JSONValue], _ allowed: Set<String>, prefix: String) throws {
        if let bad = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalid(prefix + bad, "unknown field '\(prefix)\(bad)'")
        }
    }

    private func string(_ o: [String: JSONValue], _ key: String, prefix: String = "") throws -> String? {
        switch o[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw APIError.invalid(prefix + key, "'\(prefix)\(key)' must be a string")
        }
    }

    private func number(_ o: [String: JSONValue], _ key: String, prefix: String) throws -> Double? {
        switch o[key] {
        case nil, .null?: return nil
        case .number(let d)?: return d
        default: throw APIError.invalid(prefix + key, "'\(prefix)\(key)' must be a number")
        }
    }

    private func integer(_ o: [String: JSONValue], _ key: String, prefix: String = "") throws -> Int64? {
        guard let d = try number(o, key, prefix: prefix) else { return nil }
        guard d.rounded() == d, abs(d) < 9e15 else { throw APIError.invalid(prefix + key, "'\(prefix)\(key)' must be an integer") }
        return Int64(d)
    }

    private func message(_ raw: JSONValue, field: String) throws -> NewMessage {
        guard case .object(let m) = raw else { throw APIError.invalid(field, "'\(field)' must be a message object") }
        let p = field + "."
        try only(m, ["role", "content", "reasoning_content", "model", "finish_reason", "prompt_tokens", "completion_tokens",
                     "tokens_per_second", "thinking_ms"], prefix: p)
        guard let role = try string(m, "role", prefix: p) else { throw APIError.invalid(p + "role", "'\(p)role' is required") }
        guard let content = try string(m, "content", prefix: p) else { throw APIError.invalid(p + "content", "'\(p)content' is required") }
        func int(_ key: String) throws -> Int? {
            guard let v = try integer(m, key, prefix: p) else { return nil }
            guard let i = Int(exactly: v) else { throw APIError.invalid(p + key, "'\(p)\(key)' is out of range") }
            return i
        }
        return NewMessage(role: role, content: content, reasoning: try string(m, "reasoning_content", prefix: p),
                          model: try string(m, "model", prefix: p), finishReason: try string(m, "finish_reason", prefix: p),
                          promptTokens: try int("prompt_tokens"), completionTokens: try int("completion_tokens"),
                          tokensPerSecond: try number(m, "tokens_per_second", prefix: p), thinkingMs: try int("thinking_ms"))
    }

    /// Runs a store call and turns its errors into API errors (404 for an unknown id, 400 naming the field).
    private func run<T>(_ body: () async throws(ChatStoreError) -> T) async throws(APIError) -> T {
        do { return try await body() } catch {
            switch error {
            case .notFound:
                throw APIError(.notFound, error.description, type: "not_found_error", code: "conversation_not_found")
            case .invalid(let field, let message):
                throw APIError.invalid(field, message)
            case .cannotOpen, .database:
                throw APIError(.internalServerError, error.description, type: "server_error")
            }
        }
    }

    private func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

// MARK: response shapes

private struct SummaryBody: Encodable {
    let id: String
    let object = "conversation"
    let title: String
    let created_at: Int64
    let updated_at: Int64
    let message_count: Int

    init(_ s: ConversationSummary) {
        id = s.id
        title = s.title
        created_at = s.createdAt
        updated_at = s.updatedAt
        message_count = s.messageCount
    }
}

private struct ListBody: Encodable {
    let object = "list"
    let data: [SummaryBody]
}

private struct MessageBody: Encodable {
    let id: Int64
    let role: String
    let content: String
    let reasoning_content: String?
    let created_at: Int64
    let model: String?
    let finish_reason: String?
    let prompt_tokens: Int?
    let completion_tokens: Int?
    let tokens_per_second: Double?
    let thinking_ms: Int?

    init(_ m: Message) {
        id = m.id ?? 0
        role = m.role
        content = m.content
        reasoning_content = m.reasoning
        created_at = m.createdAt
        model = m.model
        finish_reason = m.finishReason
        prompt_tokens = m.promptTokens
        completion_tokens = m.completionTokens
        tokens_per_second = m.tokensPerSecond
        thinking_ms = m.thinkingMs
    }
}

private struct DetailBody: Encodable {
    let id: String
    let object = "conversation"
    let title: String
    let created_at: Int64
    let updated_at: Int64
    let messages: [MessageBody]

    init(_ d: ConversationDetail) {
        id = d.conversation.id
        title = d.conversation.title
        created_at = d.conversation.createdAt
        updated_at = d.conversation.updatedAt
        messages = d.messages.map(MessageBody.init)
    }
}

/// Any JSON value; JSONDecoder keeps numbers and booleans apart.
enum JSONValue: Decodable, Equatable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
