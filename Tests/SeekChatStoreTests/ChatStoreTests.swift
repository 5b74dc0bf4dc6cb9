import Foundation
import Testing
@testable import SeekChatStore

/// The conversation store on a fresh database file per test.
@Suite struct ChatStoreTests {
    private func tempPath(_ name: String = "chats.sqlite") -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seekchat-\(UUID().uuidString)")
        return dir.appendingPathComponent(name).path
    }

    @Test func opensInWALModeWithMigrationsApplied() async throws {
        let store = try ChatStore(path: tempPath())
        #expect(try await store.journalMode() == "wal")
        #expect(try await store.appliedMigrations() == ["v1: conversations and messages"])
        #expect(FileManager.default.fileExists(atPath: store.path))
    }

    @Test func createAppendEditTruncateRenameDelete() async throws {
        let store = try ChatStore(path: tempPath())
        let created = try await store.create(title: "  First  ", messages: [NewMessage(role: "system", content: "Be brief.")])
        #expect(created.conversation.title == "First")
        #expect(created.messages.map(\.role) == ["system"])
        let id = created.conversation.id

        let user = try await store.append(id, NewMessage(role: "user", content: "Hello"))
        let answer = try await store.append(id, NewMessage(role: "assistant", content: "Hi!", reasoning: "greet back", model: "tiny",
                                                             finishReason: "stop", promptTokens: 7, completionTokens: 3,
                                                             tokensPerSecond: 12.5, thinkingMs: 40))
        #expect(answer.messages.map(\.content) == ["Be brief.", "Hello", "Hi!"])
        let stored = try #require(answer.messages.last)
        #expect(stored.reasoning == "greet back" && stored.promptTokens == 7 && stored.completionTokens == 3)
        #expect(stored.tokensPerSecond == 12.5 && stored.thinkingMs == 40 && stored.model == "tiny" && stored.finishReason == "stop")
        let ids = answer.messages.compactMap(\.id)
        #expect(ids.count == 3 && ids == ids.sorted())

        // Regenerate: drop everything after the user message.
        let userID = try #require(user.messages.last?.id)
        let regenerated = try await store.update(id, ConversationChange(truncateAfter: userID))
        #expect(regenerated.messages.map(\.content) == ["Be brief.", "Hello"])

        // Edit and resend: new content for the user message, and a new answer, in one change.
        let edited = try await store.update(id, ConversationChange(edit: .init(messageID: userID, content: "Hello again"), truncateAfter: userID,
                                                                   append: [NewMessage(role: "assistant", content: "Again!")]))
        #expect(edited.messages.map(\.content) == ["Be brief.", "Hello again", "Again!"])
        #expect(edited.messages[1].id == userID)

        let renamed = try await store.rename(id, to: "Greetings")
        #expect(renamed.conversation.title == "Greetings")
        #expect(try await store.conversation(id) == renamed)

        try await store.delete(id)
        await #expect(throws: ChatStoreError.notFound(id)) { try await store.conversation(id) }
        await #expect(throws: ChatStoreError.notFound(id)) { try await store.delete(id) }
        #expect(try await store.list().isEmpty)
    }

    @Test func listIsNewestFirstAndSearchesTitlesAndContent() async throws {
        let store = try ChatStore(path: tempPath())
        let a = try await store.create(title: "Paris trip")
        let b = try await store.create(title: "Swift question", messages: [NewMessage(role: "user", content: "What is an actor?")])
        let c = try await store.create(title: "100% sure_thing")
        #expect(try await store.list().map(\.id) == [c, b, a].map(\.conversation.id))
        // Activity moves a conversation to the top.
        try await store.append(a.conversation.id, NewMessage(role: "user", content: "Louvre opening hours"))
        let listed = try await store.list()
        #expect(listed.first?.id == a.conversation.id)
        #expect(listed.first?.messageCount == 1)
        #expect(try await store.list(limit: 2).count == 2)

        #expect(try await store.list(search: "paris").map(\.id) == [a.conversation.id])
        #expect(try await store.list(search: "LOUVRE").map(\.id) == [a.conversation.id])
        #expect(try await store.list(search: "actor").map(\.id) == [b.conversation.id])
        // LIKE wildcards in the query are literal characters.
        #expect(try await store.list(search: "%").map(\.id) == [c.conversation.id])
        #expect(try await store.list(search: "e_t").map(\.id) == [c.conversation.id])
        #expect(try await store.list(search: "nothing like this").isEmpty)
        await #expect(throws: ChatStoreError.self) { try await store.list(limit: 0) }
    }

    @Test func badInputIsRejectedWithTheFieldNamed() async throws {
        let store = try ChatStore(path: tempPath())
        let id = try await store.create(title: "ok").conversation.id
        func field(_ body: () async throws -> Void) async -> String? {
            do { try await body(); return nil } catch {
                if case .invalid(let f, _)? = error as? ChatStoreError { return f }
                return "other: \(error)"
            }
        }
        #expect(await field { _ = try await store.create(title: String(repeating: "x", count: ChatStore.maxTitleLength + 1)) } == "title")
        #expect(await field { _ = try await store.create(title: String(repeating: "x", count: ChatStore.maxTitleLength)) } == nil)
        #expect(await field { _ = try await store.rename(id, to: "   ") } == "title")
        #expect(await field { _ = try await store.rename(id, to: "two\nlines") } == "title")
        #expect(await field { _ = try await store.append(id, NewMessage(role: "wizard", content: "x")) } == "role")
        #expect(await field { _ = try await store.append(id, NewMessage(role: "user", content: String(repeating: "y", count: ChatStore.maxContentBytes + 1))) } == "content")
        #expect(await field { _ = try await store.append(id, NewMessage(role: "assistant", content: "x", completionTokens: -1)) } == "completion_tokens")
        #expect(await field { _ = try await store.append(id, NewMessage(role: "assistant", content: "x", tokensPerSecond: .nan)) } == "tokens_per_second")
        #expect(await field { _ = try await store.update(id, ConversationChange(truncateAfter: 999)) } == "truncate_after")
        #expect(await field { _ = try await store.update(id, ConversationChange(edit: .init(messageID: 999, content: "x"))) } == "edit.message_id")
        // A failed change leaves nothing behind: the invalid append came with a valid one.
        #expect(await field { _ = try await store.update(id, ConversationChange(truncateAfter: 999, append: [NewMessage(role: "user", content: "kept?")])) } == "truncate_after")
        #expect(try await store.conversation(id).messages.isEmpty)
        await #expect(throws: ChatStoreError.notFound("nope")) { try await store.append("nope", NewMessage(role: "user", content: "x")) }
    }

    @Test func reopeningTheFileFindsEverything() async throws {
        let path = tempPath()
        var id = ""
        do {
            let store = try ChatStore(path: path)
            id = try await store.create(title: "Kept").conversation.id
            try await store.append(id, NewMessage(role: "user", content: "remember me"))
        }
        let reopened = try ChatStore(path: path)
        let detail = try await reopened.conversation(id)
        #expect(detail.conversation.title == "Kept")
        #expect(detail.messages.map(\.content) == ["remember me"])
        #expect(try await reopened.appliedMigrations().count == 1)
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let path = tempPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ChatStore(path: path)
        } throws: { error in
            guard case .cannotOpen(let p, let why)? = error as? ChatStoreError else { return false }
            return p == path && why.contains("not a database")
        }
    }
}
