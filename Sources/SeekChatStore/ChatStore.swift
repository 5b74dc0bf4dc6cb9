import Foundation
import GRDB

/// The web chat's conversations, kept in one SQLite file through GRDB.
///
/// The database runs in WAL mode (a `DatabasePool`), its schema comes from numbered
/// migrations, and every change is one transaction: a message is on disk when `append`
/// returns, so a crash or `kill -9` loses at most the answer that was still streaming.
public final class ChatStore: Sendable {
    /// Longest title accepted (characters).
    public static let maxTitleLength = 200
    /// Longest message content or reasoning accepted (UTF-8 bytes).
    public static let maxContentBytes = 1 << 20
    /// Most conversations one `list` returns.
    public static let maxListLimit = 1000
    public static let roles: Set<String> = ["system", "user", "assistant"]

    public let path: String
    private let pool: DatabasePool

    /// Opens (creating it and its folder if needed) and migrates the database at `path`.
    public init(path: String) throws(ChatStoreError) {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path, "cannot create the folder \(folder.path): \(error.localizedDescription)")
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw .cannotOpen(path, Self.describe(error))
        }
    }

    /// The schema, one migration per change; GRDB records which ones ran.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: conversations and messages") { db in
            try db.create(table: "conversation") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull().indexed()
            }
            try db.create(table: "message") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("conversation", onDelete: .cascade).notNull()
                t.column("role", .text).notNull()
                t.column("content", .text).notNull()
                t.column("reasoning", .text)
                t.column("createdAt", .integer).notNull()
                t.column("model", .text)
                t.column("finishReason", .text)
                t.column("promptTokens", .integer)
                t.column("completionTokens", .integer)
                t.column("tokensPerSecond", .double)
                t.column("thinkingMs", .integer)
            }
        }
        return m
    }

    /// Journal mode as SQLite reports it ("wal").
    public func journalMode() async throws(ChatStoreError) -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() async throws(ChatStoreError) -> [String] {
        try await read { db in try Array(Self.migrator.appliedIdentifiers(db)).sorted() }
    }

    // MARK: conversations

    /// Conversations, most recently active first; `search` matches the title or any
    /// message's content (case-insensitive for ASCII).
    public func list(search: String? = nil, limit: Int = 200) async throws(ChatStoreError) -> [ConversationSummary] {
        guard (1...Self.maxListLimit).contains(limit) else {
            throw .invalid("limit", "limit must be between 1 and \(Self.maxListLimit)")
        }
        let query = search?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return try await read { db in
            let select = """
                SELECT c.id, c.title, c.createdAt, c.updatedAt,
                       (SELECT COUNT(*) FROM message m WHERE m.conversationId = c.id) AS messageCount
                FROM conversation c
                """
            let order = " ORDER BY c.updatedAt DESC, c.rowid DESC LIMIT ?"
            let rows: [Row]
            if query.isEmpty {
                rows = try Row.fetchAll(db, sql: select + order, arguments: [limit])
            } else {
                let pattern = "%" + Self.escapeLike(query) + "%"
                rows = try Row.fetchAll(db, sql: select + """
                     WHERE c.title LIKE ? ESCAPE '\\'
                        OR EXISTS (SELECT 1 FROM message m WHERE m.conversationId = c.id AND m.content LIKE ? ESCAPE '\\')
                    """ + order, arguments: [pattern, pattern, limit])
            }
            return rows.map { r in
                ConversationSummary(id: r["id"], title: r["title"], createdAt: r["createdAt"], updatedAt: r["updatedAt"], messageCount: r["messageCount"])
            }
        }
    }

    /// Creates a conversation, with its first messages if given (one transaction).
    public func create(title: String?, messages: [NewMessage] = []) async throws(ChatStoreError) -> ConversationDetail {
        let title = try Self.validTitle(title ?? "New chat")
        for m in messages { try m.validate() }
        let now = Self.now()
        return try await write { db in
            let conversation = Conversation(id: UUID().uuidString.lowercased(), title: title, createdAt: now, updatedAt: try Self.nextActivity(now, db))
            try conversation.insert(db)
            let stored = try messages.map { m in try Self.insert(m, into: conversation.id, at: now, db) }
            return ConversationDetail(conversation: conversation, messages: stored)
        }
    }

    /// A conversation with all its messages in order; throws `.notFound` for an unknown id.
    public func conversation(_ id: String) async throws(ChatStoreError) -> ConversationDetail {
        try await read { db in try Self.detail(id, db) }
    }

    /// Applies one change set in one transaction, in this order: edit a message's content,
    /// drop every message after `truncateAfter` (0 drops all), append messages, rename.
    /// Regenerate is `truncateAfter: <the user message>`; edit-and-resend is
    /// `edit` of a user message plus `truncateAfter` of the same id.
    public func update(_ id: String, _ change: ConversationChange) async throws(ChatStoreError) -> ConversationDetail {
        let title = try change.title.map { t throws(ChatStoreError) in try Self.validTitle(t) }
        if let e = change.edit {
            try NewMessage.validateText(e.content, field: "edit.content")
        }
        for m in change.append { try m.validate() }
        if let t = change.truncateAfter, t < 0 { throw .invalid("truncate_after", "truncate_after must be a message id or 0") }
        let now = Self.now()
        return try await write { db in
            guard var conversation = try Conversation.fetchOne(db, key: id) else { throw ChatStoreError.notFound(id) }
            var touched = false
            if let e = change.edit {
                guard var m = try Message.filter(Column("conversationId") == id && Column("id") == e.messageID).fetchOne(db) else {
                    throw ChatStoreError.invalid("edit.message_id", "conversation \(id) has no message \(e.messageID)")
                }
                m.content = e.content
                try m.update(db)
                touched = true
            }
            if let t = change.truncateAfter {
                if t > 0, try Message.filter(Column("conversationId") == id && Column("id") == t).fetchCount(db) == 0 {
                    throw ChatStoreError.invalid("truncate_after", "conversation \(id) has no message \(t)")
                }
                try Message.filter(Column("conversationId") == id && Column("id") > t).deleteAll(db)
                touched = true
            }
            for m in change.append {
                _ = try Self.insert(m, into: id, at: now, db)
                touched = true
            }
            if let title { conversation.title = title }
            if touched { conversation.updatedAt = try Self.nextActivity(now, db) }
            try conversation.update(db)
            return try Self.detail(id, db)
        }
    }

    /// Appends one message and commits it before returning.
    @discardableResult
    public func append(_ id: String, _ message: NewMessage) async throws(ChatStoreError) -> ConversationDetail {
        try await update(id, ConversationChange(append: [message]))
    }

    public func rename(_ id: String, to title: String) async throws(ChatStoreError) -> ConversationDetail {
        try await update(id, ConversationChange(title: title))
    }

    /// Deletes a conversation and its messages; throws `.notFound` for an unknown id.
    public func delete(_ id: String) async throws(ChatStoreError) {
        try await write { db in
            guard try Conversation.deleteOne(db, key: id) else { throw ChatStoreError.notFound(id) }
        }
    }

    // MARK: helpers

    /// `now`, or just after the latest activity: the newest-first order never ties.
    private static func nextActivity(_ now: Int64, _ db: Database) throws -> Int64 {
        max(now, (try Int64.fetchOne(db, sql: "SELECT MAX(updatedAt) FROM conversation") ?? 0) + 1)
    }

    private static func detail(_ id: String, _ db: Database) throws -> ConversationDetail {
        guard let c = try Conversation.fetchOne(db, key: id) else { throw ChatStoreError.notFound(id) }
        let messages = try Message.filter(Column("conversationId") == id).order(Column("id")).fetchAll(db)
        return ConversationDetail(conversation: c, messages: messages)
    }

    private static func insert(_ m: NewMessage, into conversation: String, at now: Int64, _ db: Database) throws -> Message {
        var message = Message(id: nil, conversationId: conversation, role: m.role, content: m.content, reasoning: m.reasoning,
                              createdAt: now, model: m.model, finishReason: m.finishReason, promptTokens: m.promptTokens,
                              completionTokens: m.completionTokens, tokensPerSecond: m.tokensPerSecond, thinkingMs: m.thinkingMs)
        try message.insert(db)
        return message
    }

    static func validTitle(_ raw: String) throws(ChatStoreError) -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw .invalid("title", "the title must not be empty") }
        guard title.count <= maxTitleLength else {
            throw .invalid("title", "the title is \(title.count) characters long; at most \(maxTitleLength) are allowed")
        }
        guard !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid("title", "the title must not contain control characters (newlines, tabs, ...)")
        }
        return title
    }

    static func escapeLike(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(ChatStoreError) -> T {
        do { return try await pool.read(body) } catch { throw Self.wrap(error) }
    }

    private func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(ChatStoreError) -> T {
        do { return try await pool.write(body) } catch { throw Self.wrap(error) }
    }

    private static func wrap(_ error: any Error) -> ChatStoreError {
        if let e = error as? ChatStoreError { return e }
        return .database(describe(error))
    }
}

/// What the store throws; each case names what was wrong.
public enum ChatStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(String, String)
    case notFound(String)
    case invalid(String, String)
    case database(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let why): "cannot open the conversation database \(path): \(why)"
        case .notFound(let id): "no conversation with id '\(id)'"
        case .invalid(_, let message): message
        case .database(let message): "database error: \(message)"
        }
    }
}

public struct Conversation: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var id: String
    public var title: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var updatedAt: Int64
}

public struct ConversationSummary: Sendable, Equatable {
    public var id: String
    public var title: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var messageCount: Int
}

public struct ConversationDetail: Sendable, Equatable {
    public var conversation: Conversation
    public var messages: [Message]
}

/// A stored message. Assistant messages may carry the reasoning and the numbers the page shows.
public struct Message: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var conversationId: String
    public var role: String
    public var content: String
    public var reasoning: String?
    public var createdAt: Int64
    public var model: String?
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var tokensPerSecond: Double?
    public var thinkingMs: Int?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A message to append.
public struct NewMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public var reasoning: String?
    public var model: String?
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var tokensPerSecond: Double?
    public var thinkingMs: Int?

    public init(role: String, content: String, reasoning: String? = nil, model: String? = nil, finishReason: String? = nil,
                promptTokens: Int? = nil, completionTokens: Int? = nil, tokensPerSecond: Double? = nil, thinkingMs: Int? = nil) {
        self.role = role
        self.content = content
        self.reasoning = reasoning
        self.model = model
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensPerSecond = tokensPerSecond
        self.thinkingMs = thinkingMs
    }

    func validate() throws(ChatStoreError) {
        guard ChatStore.roles.contains(role) else {
            throw .invalid("role", "role must be one of system, user, assistant (got '\(role)')")
        }
        try Self.validateText(content, field: "content")
        if let reasoning { try Self.validateText(reasoning, field: "reasoning_content") }
        for (name, value) in [("prompt_tokens", promptTokens), ("completion_tokens", completionTokens), ("thinking_ms", thinkingMs)] {
            if let value, value < 0 { throw .invalid(name, "\(name) must not be negative") }
        }
        if let t = tokensPerSecond, !(t.isFinite && t >= 0) { throw .invalid("tokens_per_second", "tokens_per_second must be a finite number ≥ 0") }
        if let m = model, m.utf8.count > 200 { throw .invalid("model", "the model name is longer than 200 bytes") }
        if let f = finishReason, f.utf8.count > 40 { throw .invalid("finish_reason", "finish_reason is longer than 40 bytes") }
    }

    static func validateText(_ text: String, field: String) throws(ChatStoreError) {
        guard text.utf8.count <= ChatStore.maxContentBytes else {
            throw .invalid(field, "\(field) is \(text.utf8.count) bytes; at most \(ChatStore.maxContentBytes) are allowed")
        }
    }
}

/// One PATCH: any of these, applied in one transaction (see `ChatStore.update`).
public struct ConversationChange: Sendable, Equatable {
    public struct Edit: Sendable, Equatable {
        public var messageID: Int64
        public var content: String
        public init(messageID: Int64, content: String) {
            self.messageID = messageID
            self.content = content
        }
    }
    public var title: String?
    public var edit: Edit?
    public var truncateAfter: Int64?
    public var append: [NewMessage]

    public init(title: String? = nil, edit: Edit? = nil, truncateAfter: Int64? = nil, append: [NewMessage] = []) {
        self.title = title
        self.edit = edit
        self.truncateAfter = truncateAfter
        self.append = append
    }

    public var isEmpty: Bool { title == nil && edit == nil && truncateAfter == nil && append.isEmpty }
}
