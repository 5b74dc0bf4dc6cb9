import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SeekEngine
import SeekServer
import SeekTestSupport

/// The API in-process on the tiny llama folder (its tokenizer_config carries a small chat
/// template), driven through the real router.
@Suite(.serialized) struct ServerTests {
    static let model: LoadedModel = try! LoadedModel(path: Fixtures.url("tiny/hf-tiny-llama").path)

    private func app(apiKey: String? = nil, model: LoadedModel = ServerTests.model, maxBody: Int = 1 << 20) -> some ApplicationProtocol {
        var options = ServerOptions()
        options.apiKey = apiKey
        options.maxBodyBytes = maxBody
        options.modelName = "tiny"
        return buildApplication(service: InferenceService(model: model, contextSize: 200, pool: ThreadPoolHandle(threads: 2)), options: options)
    }

    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    private func post(_ client: some TestClientProtocol, _ json: String, path: String = "/v1/chat/completions",
                      headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, ByteBuffer) {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: json)) { ($0.status, $0.body) }
    }

    @Test func healthAndModels() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { r in
                let o = try object(r.body)
                let data = try #require(o["data"] as? [[String: Any]])
                #expect(data.first?["id"] as? String == "tiny")
            }
            try await client.execute(uri: "/nope", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func chatCompletionHasUsageAndStreamReassemblesToIt() async throws {
        let body = #"{"model":"tiny","messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0}"#
        try await app().test(.router) { client in
            let (status, buffer) = try await post(client, body)
            #expect(status == .ok, "\(String(buffer: buffer))")
            let o = try object(buffer)
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            let text = try #require((choice["message"] as? [String: Any])?["content"] as? String)
            let usage = try #require(o["usage"] as? [String: Any])
            let rendered = "<|user|>Hello\n<|assistant|>"
            let promptTokens = ServerTests.model.tokenizer.encode(rendered, addSpecial: true, parseSpecial: true).count
            #expect(usage["prompt_tokens"] as? Int == promptTokens)
            let completion = try #require(usage["completion_tokens"] as? Int)
            #expect(completion >= 1 && completion <= 12)
            #expect(choice["finish_reason"] as? String == (completion == 12 ? "length" : "stop"))
            #expect(usage["total_tokens"] as? Int == promptTokens + completion)

            let streamBody = body.replacingOccurrences(of: #""temperature":0"#, with: #""temperature":0,"stream":true,"stream_options":{"include_usage":true}"#)
            let (s2, stream) = try await post(client, streamBody)
            #expect(s2 == .ok)
            let events = String(buffer: stream).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            var joined = ""
            var finishes: [String] = []
            var sawRole = false
            var usageChunk: [String: Any]?
            for e in events.dropLast() {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(e.dropFirst(6).utf8)) as? [String: Any])
                #expect(chunk["id"] as? String == (try object(ByteBuffer(string: String(events[0].dropFirst(6)))))["id"] as? String)
                if let u = chunk["usage"] as? [String: Any] { usageChunk = u }
                for c in chunk["choices"] as? [[String: Any]] ?? [] {
                    let delta = c["delta"] as? [String: Any] ?? [:]
                    if delta["role"] as? String == "assistant" { sawRole = true }
                    joined += delta["content"] as? String ?? ""
                    if let f = c["finish_reason"] as? String { finishes.append(f) }
                }
            }
            #expect(sawRole)
            #expect(joined == text)
            #expect(finishes == [choice["finish_reason"] as? String ?? "?"])
            #expect(usageChunk?["completion_tokens"] as? Int == completion)
            // The second request repeats the first prompt: its prefix comes from the cache.
            #expect((usageChunk?["prompt_cache_hit_tokens"] as? Int ?? 0) > 0)
        }
    }

    @Test func seedsReproduceAndStopStringsCut() async throws {
        let body = #"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"temperature":1.0,"seed":7}"#
        try await app().test(.router) { client in
            let a = try object(try await post(client, body).1)
            let b = try object(try await post(client, body).1)
            func text(_ o: [String: Any]) -> String? { (((o["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])?["content"] as? String }
            #expect(text(a) != nil && text(a) == text(b))
            let full = try #require(text(a))
            if let cut = full.dropFirst(2).first.map(String.init), full.count > 3 {
                let stopped = try object(try await post(client, body.replacingOccurrences(of: #""seed":7"#, with: #""seed":7,"stop":"\#(cut.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))""#)).1)
                let t = try #require(text(stopped))
                #expect(!t.contains(cut) && full.hasPrefix(t))
            }
        }
    }

    @Test func badRequestsGetOpenAIErrors() async throws {
        let cases: [(String, HTTPResponse.Status, String?)] = [
            ("{not json", .badRequest, "body"),
            (#"{"messages":[]}"#, .badRequest, "messages"),
            (#"{"messages":[{"role":"user","content":"x"}],"n":2}"#, .badRequest, "n"),
            (#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#, .badRequest, "tools"),
            (#"{"messages":[{"role":"user","content":"x"}],"frobnicate":1}"#, .badRequest, "frobnicate"),
            (#"{"messages":[{"role":"wizard","content":"x"}]}"#, .badRequest, "messages[0].role"),
            (#"{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, .badRequest, "temperature"),
            (#"{"messages":[{"role":"user","content":"x"}],"max_tokens":100000}"#, .badRequest, "messages"),
        ]
        try await app().test(.router) { client in
            for (body, status, param) in cases {
                let (s, buffer) = try await post(client, body)
                #expect(s == status, "\(body)")
                let error = try #require(try object(buffer)["error"] as? [String: Any], "\(body)")
                #expect(error["param"] as? String == param, "\(body): \(error)")
                #expect((error["message"] as? String)?.isEmpty == false)
            }
            let (s, buffer) = try await post(client, #"{"messages":[{"role":"user","content":"x"}],"max_tokens":100000}"#)
            #expect(s == .badRequest)
            #expect((try object(buffer)["error"] as? [String: Any])?["code"] as? String == "context_length_exceeded")
            // The parser's own words, without the template engine's prefix (it shares the parser).
            let (_, junk) = try await post(client, #"{"messages":[]} xyz"#)
            let said = try #require((try object(junk)["error"] as? [String: Any])?["message"] as? String)
            #expect(said.hasPrefix("the request body is not valid JSON: invalid JSON at byte") && !said.contains("template"), "\(said)")
        }
        try await app(maxBody: 64).test(.router) { client in
            let (s, _) = try await post(client, #"{"messages":[{"role":"user","content":"\#(String(repeating: "x", count: 200))"}]}"#)
            #expect(s == .contentTooLarge)
        }
    }

    @Test func apiKeyIsRequiredWhenSet() async throws {
        let body = #"{"messages":[{"role":"user","content":"x"}],"max_tokens":2}"#
        try await app(apiKey: "sekrit").test(.router) { client in
            #expect(try await post(client, body).0 == .unauthorized)
            #expect(try await post(client, body, headers: [.authorization: "Bearer wrong"]).0 == .unauthorized)
            #expect(try await post(client, body, headers: [.authorization: "Bearer sekrit"]).0 == .ok)
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A template that opens <think> in the prompt: everything generated is reasoning until
    /// </think>, reported apart from the content, as DeepSeek's API does.
    @Test func reasoningIsSplitOut() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-r1-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: Fixtures.url("tiny/hf-tiny-llama"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let configURL = dir.appendingPathComponent("tokenizer_config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        config["chat_template"] = "{% for m in messages %}{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<think>\n{% endif %}"
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let model = try LoadedModel(path: dir.path)
        try await app(model: model).test(.router) { client in
            let (s, buffer) = try await post(client, #"{"messages":[{"role":"user","content":"Why?"}],"max_tokens":6,"temperature":0}"#)
            #expect(s == .ok)
            let message = try #require(((try object(buffer)["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])
            #expect(message["content"] as? String == "")
            #expect((message["reasoning_content"] as? String)?.isEmpty == false)
        }
    }
}
