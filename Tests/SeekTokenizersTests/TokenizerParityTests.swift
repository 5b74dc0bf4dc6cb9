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
    let tokenizer_pre: String
    let cases: [Case]
}

/// Expected ids come from scripts/gen_tokenizer_fixtures.py: the `tokenizers` library with the
/// model's upstream pre-tokenizer, vocabulary and merges read from the same GGUF.
@Suite struct TokenizerParityTests {
    @Test(.enabled(if: RealModels.available("smollm2-135m-instruct")))
    func smolLM2IdsMatchTokenizersLibrary() throws { try checkParity("smollm2-135m-instruct") }

    @Test(.enabled(if: RealModels.available("qwen2.5-coder-0.5b-instruct")))
    func qwen25IdsMatchTokenizersLibrary() throws { try checkParity("qwen2.5-coder-0.5b-instruct") }

    private func checkParity(_ name: String) throws {
        let fixture = try Fixtures.json(TokenizerFixture.self, "tokenizer/\(name).json")
        let path = try #require(RealModels.path(name), "model \(name) is not in the store; run scripts/test.sh or `swiftseek pull \(name)`")
        let tokenizer = try loadTokenizer(from: GGUFFile(path: path))
        #expect(fixture.cases.count >= 40)
        for c in fixture.cases {
            let ids = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            #expect(ids == c.ids, "encode \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids, renderSpecial: true) == c.decoded, "decode \(c.text.debugDescription)")
        }
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
