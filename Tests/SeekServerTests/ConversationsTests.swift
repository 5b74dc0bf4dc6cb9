import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SeekChatStore
import SeekEngine
@testable import SeekServer
import SeekTestSupport

/// `/api/conversations` and the web chat's page, in-process through the real router, with the
/// conversations in a fresh SQLite file per test.
@Suite struct ConversationsTests {
    static let model: LoadedModel = try! LoadedModel(path: Fixtures.url("tiny/hf-tiny-llama").path)

    private static func tempDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("seekchat-\(UUID().uuidString)/chats.sqlite").path
    }

    private func app(store: ChatStore?, apiKey: String? = nil) -> some ApplicationProtocol {
        var options = ServerOptions()
        options.apiKey = apiKey
        options.modelName = "tiny"
        options.conversations = store
        return buildApplication(service: InferenceService(model: Self.model, contextSize: 200, pool: ThreadPoolHandle(threads: 1)), options: options)
    }

    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any], "\(String(buffer: buffer))")
    }

    private func call(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
                      headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            (r.status, try object(r.body))
        }
    }

    private func messages(_ o: [String: Any]) -> [[String: Any]] { o["messages"] as? [[String: Any]] ?? [] }

    @Test func createListAppendEditRenameDelete() async throws {
        let store = try ChatStore(path: Self.tempDatabase())
        try await app(store: store).test(.router) { client in
            let (s1, created) = try await call(client, .post, "/api/conversations", #"{"title":"Trip to Paris"}"#)
            #expect(s1 == .created)
            let id = try #require(created["id"] as? String)
            #expect(created["title"] as? String == "Trip to Paris")
            #expect(messages(created).isEmpty)

            let (_, withUser) = try await call(client, .patch, "/api/conversations/\(id)", #"{"append":{"role":"user","content":"Where is the Louvre?"}}"#)
            let userID = try #require(messages(withUser).last?["id"] as? Int)
            let answer = #"{"append":{"role":"assistant","content":"In **Paris**.","reasoning_content":"easy","model":"tiny","finish_reason":"stop","prompt_tokens":9,"completion_tokens":4,"tokens_per_second":21.5,"thinking_ms":120}}"#
            let (s2, withAnswer) = try await call(client, .patch, "/api/conversations/\(id)", answer)
            #expect(s2 == .ok)
            let stored = try #require(messages(withAnswer).last)
            #expect(stored["content"] as? String == "In **Paris**.")
            #expect(stored["reasoning_content"] as? String == "easy")
            #expect(stored["prompt_tokens"] as? Int == 9 && stored["completion_tokens"] as? Int == 4)
            #expect(stored["tokens_per_second"] as? Double == 21.5 && stored["thinking_ms"] as? Int == 120)

            // A second conversation is listed first; search finds by title and by content.
            let (_, other) = try await call(client, .post, "/api/conversations", #"{"title":"Swift","messages":[{"role":"user","content":"actors?"}]}"#)
            let otherID = try #require(other["id"] as? String)
            let (s3, list) = try await call(client, .get, "/api/conversations")
            #expect(s3 == .ok)
            let ids = (list["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == [otherID, id])
            let counts = (list["data"] as? [[String: Any]] ?? []).compactMap { $0["message_count"] as? Int }
            #expect(counts == [1, 2])
            let (_, found) = try await call(client, .get, "/api/conversations?q=louvre")
            #expect((found["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let (_, none) = try await call(client, .get, "/api/conversations?q=%25%25nothing")
            #expect((none["data"] as? [[String: Any]])?.isEmpty == true)

            // Edit and resend: new text for the question, the old answer dropped.
            let (_, edited) = try await call(client, .patch, "/api/conversations/\(id)",
                                              #"{"edit":{"message_id":\#(userID),"content":"Where is the Orsay?"},"truncate_after":\#(userID)}"#)
            #expect(messages(edited).map { $0["content"] as? String } == ["Where is the Orsay?"])
            #expect(messages(edited).first?["id"] as? Int == userID)

            let (_, renamed) = try await call(client, .patch, "/api/conversations/\(id)", #"{"title":"Museums"}"#)
            #expect(renamed["title"] as? String == "Museums")
            let (_, fetched) = try await call(client, .get, "/api/conversations/\(id)")
            #expect(fetched["title"] as? String == "Museums")
            #expect(messages(fetched).count == 1)

            let (s4, deleted) = try await call(client, .delete, "/api/conversations/\(id)")
            #expect(s4 == .ok && deleted["deleted"] as? Bool == true)
            let (s5, _) = try await call(client, .get, "/api/conversations/\(id)")
            #expect(s5 == .notFound)
            let (_, after) = try await call(client, .get, "/api/conversations")
            #expect((after["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [otherID])
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        let store = try ChatStore(path: Self.tempDatabase())
        try await app(store: store).test(.router) { client in
            let (_, created) = try await call(client, .post, "/api/conversations", #"{"title":"ok"}"#)
            let id = try #require(created["id"] as? String)
            let path = "/api/conversations/\(id)"
            let longTitle = String(repeating: "t", count: ChatStore.maxTitleLength + 1)
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String?)] = [
                (.get, "/api/conversations/no-such-id", nil, .notFound, nil),
                (.patch, "/api/conversations/no-such-id", #"{"title":"x"}"#, .notFound, nil),
                (.delete, "/api/conversations/no-such-id", nil, .notFound, nil),
                (.post, "/api/conversations", "{not json", .badRequest, "body"),
                (.patch, path, "{not json", .badRequest, "body"),
                (.post, "/api/conversations", "[1,2]", .badRequest, "body"),
                (.post, "/api/conversations", #"{"title":"\#(longTitle)"}"#, .badRequest, "title"),
                (.patch, path, #"{"title":"\#(longTitle)"}"#, .badRequest, "title"),
                (.patch, path, #"{"title":""}"#, .badRequest, "title"),
                (.post, "/api/conversations", #"{"title":7}"#, .badRequest, "title"),
                (.post, "/api/conversations", #"{"colour":"red"}"#, .badRequest, "colour"),
                (.post, "/api/conversations", #"{"messages":{"role":"user"}}"#, .badRequest, "messages"),
                (.patch, path, "{}", .badRequest, "body"),
                (.patch, path, #"{"append":{"role":"wizard","content":"x"}}"#, .badRequest, "role"),
                (.patch, path, #"{"append":{"role":"user"}}"#, .badRequest, "append.content"),
                (.patch, path, #"{"append":[{"role":"user","content":"x","extra":1}]}"#, .badRequest, "append[0].extra"),
                (.patch, path, #"{"append":{"role":"assistant","content":"x","prompt_tokens":true}}"#, .badRequest, "append.prompt_tokens"),
                (.patch, path, #"{"append":{"role":"assistant","content":"x","completion_tokens":1.5}}"#, .badRequest, "append.completion_tokens"),
                (.patch, path, #"{"truncate_after":"3"}"#, .badRequest, "truncate_after"),
                (.patch, path, #"{"truncate_after":12345}"#, .badRequest, "truncate_after"),
                (.patch, path, #"{"edit":{"message_id":1}}"#, .badRequest, "edit"),
                (.get, "/api/conversations?limit=lots", nil, .badRequest, "limit"),
                (.get, "/api/conversations?limit=0", nil, .badRequest, "limit"),
            ]
            for (method, uri, body, status, param) in cases {
                let (s, o) = try await call(client, method, uri, body)
                #expect(s == status, "\(method) \(uri) \(body ?? "")")
                let error = try #require(o["error"] as? [String: Any], "\(method) \(uri) \(body ?? "")")
                #expect((error["message"] as? String)?.isEmpty == false)
                if let param { #expect(error["param"] as? String == param, "\(method) \(uri) \(body ?? "")") }
                if status == .notFound { #expect(error["code"] as? String == "conversation_not_found") }
            }
            // None of the rejected changes touched the conversation.
            let (_, fetched) = try await call(client, .get, path)
            #expect(fetched["title"] as? String == "ok" && messages(fetched).isEmpty)
            let (_, list) = try await call(client, .get, "/api/conversations")
            #expect((list["data"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func conversationsSurviveARestart() async throws {
        let path = Self.tempDatabase()
        let id = try await app(store: try ChatStore(path: path)).test(.router) { client in
            let (_, created) = try await call(client, .post, "/api/conversations", #"{"title":"Kept"}"#)
            let id = try #require(created["id"] as? String)
            _ = try await call(client, .patch, "/api/conversations/\(id)", #"{"append":{"role":"user","content":"first"}}"#)
            _ = try await call(client, .patch, "/api/conversations/\(id)", #"{"append":{"role":"assistant","content":"second"}}"#)
            return id
        }
        // A new server process is a new store on the same file.
        try await app(store: try ChatStore(path: path)).test(.router) { client in
            let (s, fetched) = try await call(client, .get, "/api/conversations/\(id)")
            #expect(s == .ok)
            #expect(fetched["title"] as? String == "Kept")
            #expect(messages(fetched).map { $0["content"] as? String } == ["first", "second"])
        }
    }

    @Test func pageLoadsWithoutTheKeyButConversationsNeedIt() async throws {
        let store = try ChatStore(path: Self.tempDatabase())
        try await app(store: store, apiKey: "sekrit").test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(r.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(String(buffer: r.body).contains("/assets/app.js"))
            }
            try await client.execute(uri: "/api/conversations", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/conversations", method: .post, body: ByteBuffer(string: "{}")) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .unauthorized) }
            let (s, list) = try await call(client, .get, "/api/conversations", headers: [.authorization: "Bearer sekrit"])
            #expect(s == .ok && (list["data"] as? [Any])?.isEmpty == true)
            try await client.execute(uri: "/api/conversations", method: .get, headers: [.authorization: "Bearer wrong"]) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    /// Every file the page refers to is served, with its type; unknown files are 404; an
    /// unchanged file answers 304 to its ETag.
    @Test func everyAssetThePageNamesIsServed() async throws {
        try await app(store: nil).test(.router) { client in
            let html = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            let appJS = try await client.execute(uri: "/assets/app.js", method: .get) { String(buffer: $0.body) }
            var names = Set(matches(#"/assets/([A-Za-z0-9_.-]+)"#, in: html + appJS))
            names.formUnion(matches(#"from '\./([A-Za-z0-9_.-]+)'"#, in: appJS))
            #expect(names.isSuperset(of: ["app.js", "style.css", "markdown.js", "i18n.js", "icon.svg"]), "\(names)")
            for name in names {
                try await client.execute(uri: "/assets/\(name)", method: .get) { r in
                    #expect(r.status == .ok, "\(name)")
                    #expect(r.body.readableBytes > 0, "\(name)")
                    let type = r.headers[.contentType] ?? ""
                    if name.hasSuffix(".js") { #expect(type.hasPrefix("text/javascript"), "\(name)") }
                    if name.hasSuffix(".css") { #expect(type.hasPrefix("text/css"), "\(name)") }
                    let etag = try #require(r.headers[.eTag])
                    try await client.execute(uri: "/assets/\(name)", method: .get, headers: [.ifNoneMatch: etag]) {
                        #expect($0.status == .notModified)
                    }
                }
            }
            try await client.execute(uri: "/", method: .head) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentLength] == String(html.utf8.count))
                #expect(r.body.readableBytes == 0)
            }
            try await client.execute(uri: "/assets/nope.js", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/assets/..%2FServer.swift", method: .get) { #expect($0.status == .notFound) }
            // Without a database the conversations API says so instead of failing oddly.
            let (s, o) = try await call(client, .get, "/api/conversations")
            #expect(s == .serviceUnavailable)
            #expect((o["error"] as? [String: Any])?["code"] as? String == "no_conversation_store")
        }
    }

    /// A binary without its resource folder answers with a message that says what is missing.
    @Test func missingPageFilesAreAClearErrorNotACrash() throws {
        let none = WebAssets(files: [:], problem: "the web chat's files were not found")
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/"),
                              body: RequestBody(buffer: ByteBuffer()))
        let r = none.response(for: "index.html", request: request)
        #expect(r.status == .internalServerError)
        // The real folder is found from the test binary too (SwiftPM puts it beside it).
        #expect(WebAssets.shared.problem == nil)
        #expect(WebAssets.shared.files["index.html"] != nil)
        #expect(WebAssets.shared.response(for: "../Package.swift", request: request).status == .notFound)
    }

    private func matches(_ pattern: String, in text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
