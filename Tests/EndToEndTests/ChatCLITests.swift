import Foundation
import Testing
import SeekTestSupport

@Suite(.serialized) struct ChatCLITests {
    @Test(.enabled(if: CLI.available))
    func oneShotChatUsesTheModelsTemplate() throws {
        let model = try CLI.model("smollm2-135m-instruct")
        let r = try CLI.run(["chat", "-m", model, "--prompt", "What is the capital of France?", "--temperature", "0", "--max-tokens", "24"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Paris"), "\(r.stdout)")
        #expect(r.stdout.contains("tok/s"))
        // The prompt can come from stdin.
        let s = try CLI.run(["chat", "-m", model, "--prompt", "-", "--temperature", "0", "--max-tokens", "24"], stdin: "What is the capital of France?\n")
        #expect(s.stdout.contains("Paris"), "\(s.stdout)")
    }

    @Test(.enabled(if: CLI.available))
    func interactiveCommandsAndMultiTurnCacheReuse() throws {
        let model = try CLI.model("smollm2-135m-instruct")
        let r = try CLI.run(["chat", "-m", model, "--temperature", "0", "--max-tokens", "12"],
                            stdin: "/help\nHello!\nAnd again?\n/system Be brief.\n/bogus\n/exit\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("/clear"))
        #expect(r.stdout.contains("unknown command /bogus"))
        #expect(r.stdout.contains("system prompt set"))
        // The second turn re-uses the first turn's cached prompt.
        let cached = r.stdout.components(separatedBy: "cached)").count - 1
        #expect(cached == 2)
        #expect(r.stdout.range(of: #"\(([1-9][0-9]*) cached\)"#, options: .regularExpression) != nil, "\(r.stdout)")
    }

    @Test(.enabled(if: CLI.available))
    func modelsWithoutATemplateAreRefused() throws {
        let r = try CLI.run(["chat", "-m", Fixtures.url("tiny/tiny-llama.gguf").path, "--prompt", "hi"])
        #expect(r.status != 0 && r.stderr.contains("no chat template"), "\(r.stderr)")
    }

    @Test(.enabled(if: CLI.available))
    func templateCommandPrintsExactlyTheRender() throws {
        struct Expected: Decodable {
            struct Case: Decodable { let template: String; let conversation: String; let add_generation_prompt: Bool; let output: String? }
            let cases: [Case]
        }
        let expected = try Fixtures.json(Expected.self, "templates/expected.json")
        let want = try #require(expected.cases.first { $0.template == "qwen2.5" && $0.conversation == "system_multi_turn" && $0.add_generation_prompt }?.output)
        let all = try JSONSerialization.jsonObject(with: try Fixtures.data("templates/conversations.json")) as? [[String: Any]]
        let messages = try #require(all?.first { $0["name"] as? String == "system_multi_turn" }?["messages"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-msgs-\(getpid()).json")
        try JSONSerialization.data(withJSONObject: messages).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLI.run(["template", "--template", Fixtures.url("templates/qwen2.5.jinja").path, "--messages", file.path, "--add-generation-prompt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == want)
        let bad = try CLI.run(["template", "--template", Fixtures.url("templates/qwen2.5.jinja").path, "--messages", "/nonexistent.json"])
        #expect(bad.status != 0)
    }

    @Test(.enabled(if: CLI.available && RealModels.tokenizerAvailable("deepseek-v3-tokenizer")))
    func tokenizeWithAHuggingFaceTokenizer() throws {
        let r = try CLI.run(["tokenize", "--tokenizer", "deepseek-v3-tokenizer", "--text", "<｜User｜>hi<｜Assistant｜>"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try JSONDecoder().decode([Int32].self, from: r.stdoutData) == [128803, 6366, 128804])
    }
}
