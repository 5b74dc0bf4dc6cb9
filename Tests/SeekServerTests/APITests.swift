import Foundation
import Hummingbird
import HummingbirdTesting
import SeekEngine
import ServiceLifecycleTestKit
import Testing
@testable import SeekServer
import SeekTestSupport

/// The API additions in-process on the tiny llama folder: /metrics, /v1/completions, logprobs,
/// /health while loading; and the event pump's keep-alive ticks and shutdown deadline.
@Suite(.serialized) struct APITests {
    static let model: LoadedModel = try! LoadedModel(path: Fixtures.url("tiny/hf-tiny-llama").path)

    private func service() -> InferenceService {
        InferenceService(model: Self.model, contextSize: 200, pool: ThreadPoolHandle(threads: 2))
    }

    private func options() -> ServerOptions {
        var options = ServerOptions()
        options.modelName = "tiny"
        return options
    }

    private func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    private func post(_ client: some TestClientProtocol, _ path: String, _ json: String) async throws -> (HTTPResponse.Status, ByteBuffer) {
        try await client.execute(uri: path, method: .post, body: ByteBuffer(string: json)) { ($0.status, $0.body) }
    }

    /// `name{labels} value` lines of the exposition.
    private func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    @Test func metricsCountWhatWasServed() async throws {
        let state = ServerState(service: service())
        try await buildApplication(state: state, options: options()).test(.router) { client in
            var completion = 0, prompt = 0
            for text in ["Hello", "Hi there"] {
                let (s, b) = try await post(client, "/v1/chat/completions", #"{"messages":[{"role":"user","content":"\#(text)"}],"max_tokens":4,"temperature":0}"#)
                #expect(s == .ok)
                let usage = try #require(try object(b)["usage"] as? [String: Any])
                completion += usage["completion_tokens"] as? Int ?? -1
                prompt += usage["prompt_tokens"] as? Int ?? -1
            }
            #expect(try await post(client, "/v1/chat/completions", "{").0 == .badRequest)
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.headers[.contentType]?.hasPrefix("text/plain") == true)
                let m = samples(String(buffer: r.body))
                #expect(m["swiftseek_generated_tokens_total"] == Double(completion))
                #expect(m["swiftseek_prompt_tokens_total"] == Double(prompt))
                #expect(m[#"swiftseek_requests_total{endpoint="/v1/chat/completions"}"#] == 3)
                #expect(m[#"swiftseek_errors_total{status="400"}"#] == 1)
                #expect(m["swiftseek_time_to_first_token_seconds_count"] == 2)
                #expect(m["swiftseek_requests_in_flight"] == 0)
            }
            // The engine publishes its counts just after it sends a sequence's last event.
            var active = -1.0
            for _ in 0..<500 {
                active = try await client.execute(uri: "/metrics", method: .get) { samples(String(buffer: $0.body))["swiftseek_active_slots"] ?? -1 }
                if active == 0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(active == 0)
        }
    }

    @Test func healthIs503UntilTheModelIsReady() async throws {
        let state = ServerState()
        try await buildApplication(state: state, options: options()).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(String(buffer: r.body) == #"{"status":"loading"}"#)
            }
            let (s, b) = try await post(client, "/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}]}"#)
            #expect(s == .serviceUnavailable)
            #expect((try object(b)["error"] as? [String: Any])?["code"] as? String == "service_unavailable")
            state.ready(service())
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// Once SIGTERM/SIGINT starts a graceful shutdown, new work gets 503 and /health says so.
    @Test func newWorkIs503WhileShuttingDown() async throws {
        try await buildApplication(state: ServerState(service: service()), options: options()).test(.router) { client in
            try await testGracefulShutdown { trigger in
                #expect(try await post(client, "/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1}"#).0 == .ok)
                trigger.triggerGracefulShutdown()
                let (s, b) = try await post(client, "/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1}"#)
                #expect(s == .serviceUnavailable)
                #expect((try object(b)["error"] as? [String: Any])?["message"] as? String == "the server is shutting down")
                try await client.execute(uri: "/health", method: .get) { r in
                    #expect(r.status == .serviceUnavailable)
                    #expect(String(buffer: r.body) == #"{"status":"shutting_down"}"#)
                }
            }
        }
    }

    @Test func completionsEchoStreamAndFIM() async throws {
        try await buildApplication(state: ServerState(service: service()), options: options()).test(.router) { client in
            let (s, b) = try await post(client, "/v1/completions", #"{"prompt":"Once","max_tokens":5,"temperature":0}"#)
            #expect(s == .ok)
            let choice = try #require((try object(b)["choices"] as? [[String: Any]])?.first)
            let text = try #require(choice["text"] as? String)
            let (_, e) = try await post(client, "/v1/completions", #"{"prompt":"Once","max_tokens":5,"temperature":0,"echo":true}"#)
            #expect(((try object(e)["choices"] as? [[String: Any]])?.first?["text"] as? String) == "Once" + text)
            let (_, stream) = try await post(client, "/v1/completions", #"{"prompt":"Once","max_tokens":5,"temperature":0,"stream":true}"#)
            let events = String(buffer: stream).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            var joined = ""
            for e in events.dropLast() {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(e.dropFirst(6).utf8)) as? [String: Any])
                #expect(chunk["object"] as? String == "text_completion")
                joined += ((chunk["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            }
            #expect(joined == text)
            let (fs, fb) = try await post(client, "/v1/completions", #"{"prompt":"def f(","suffix":"return 1"}"#)
            #expect(fs == .badRequest)
            #expect((try object(fb)["error"] as? [String: Any])?["param"] as? String == "suffix")
            #expect(FIMTokens(APITests.model) == nil)
        }
    }

    @Test func chatLogprobsOnePerTokenMostLikelyFirst() async throws {
        try await buildApplication(state: ServerState(service: service()), options: options()).test(.router) { client in
            let (s, b) = try await post(client, "/v1/chat/completions",
                                        #"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0,"logprobs":true,"top_logprobs":2}"#)
            #expect(s == .ok)
            let o = try object(b)
            let choice = try #require((o["choices"] as? [[String: Any]])?.first)
            let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            #expect(content.count == (o["usage"] as? [String: Any])?["completion_tokens"] as? Int)
            for entry in content {
                let top = try #require(entry["top_logprobs"] as? [[String: Any]])
                #expect(top.count == 2)
                let lp = try #require(entry["logprob"] as? Double)
                #expect(lp <= 0)
                #expect(top.first?["token"] as? String == entry["token"] as? String)  // greedy
            }
        }
    }

    /// A stream with no events yet gets keep-alive ticks; a graceful shutdown ends it after the
    /// grace period, and the engine's stream is terminated (the engine stops the generation).
    @Test func pumpTicksThenStopsAtTheShutdownDeadline() async throws {
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let terminated = Locked(false)
        continuation.onTermination = { _ in terminated.withLock { $0 = true } }
        var ticks = 0
        var deadline = false
        try await testGracefulShutdown { trigger in
            try await pumpEvents(events, keepAlive: .milliseconds(5), shutdownGrace: .milliseconds(20)) { item in
                switch item {
                case .keepAlive:
                    ticks += 1
                    if ticks == 3 { trigger.triggerGracefulShutdown() }
                    return true
                case .shutdownDeadline:
                    deadline = true
                    return false
                case .event:
                    Issue.record("no event was sent")
                    return false
                }
            }
        }
        #expect(ticks >= 3)
        #expect(deadline)
        #expect(terminated.withLock { $0 })
    }

    @Test func pumpDeliversEventsAndStopsWhenTheHandlerSaysSo() async throws {
        let (events, continuation) = AsyncThrowingStream<GenerationEvent, Error>.makeStream()
        let terminated = Locked(false)
        continuation.onTermination = { _ in terminated.withLock { $0 = true } }
        for i in 0..<5 { continuation.yield(.token(Int32(i), text: "t\(i)", logprobs: nil)) }
        var seen: [Int32] = []
        try await pumpEvents(events, keepAlive: nil, shutdownGrace: .seconds(1)) { item in
            if case .event(.token(let t, _, _)) = item { seen.append(t) }
            return seen.count < 3  // a handler whose client went away stops early
        }
        #expect(seen == [0, 1, 2])
        #expect(terminated.withLock { $0 })
    }

    @Test func sseFraming() throws {
        struct X: Encodable { let a: Int }
        #expect(String(buffer: try SSE.data(X(a: 1))) == "data: {\"a\":1}\n\n")
        #expect(String(buffer: SSE.keepAlive) == ": keep-alive\n\n")
        let e = String(buffer: SSE.error(APIError.unavailable("bye")))
        #expect(e.hasPrefix("data: {\"error\":{") && e.hasSuffix("}}\n\n") && e.contains("\"code\":\"service_unavailable\""))
    }
}
