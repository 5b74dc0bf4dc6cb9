import Foundation
import Testing
import SeekFormats
import SeekKernels
import SeekModels
import SeekTestSupport

/// A batched forward pass over several sequences (decode steps and prefill chunks mixed)
/// gives each sequence the logits it would get alone, and leaves each cache as a pass alone
/// would: llama, qwen2 and DeepSeek MLA/MoE (V2-Lite, V3, V3.2 with its indexer).
@Suite struct BatchForwardTests {
    static let models = ["tiny/tiny-llama.gguf", "tiny/tiny-qwen2.gguf", "deepseek/v3-tiny", "deepseek/v2-lite-tiny", "deepseek/v32-tiny"]

    private func load(_ name: String) throws -> any Architecture {
        let path = Fixtures.url(name).path
        return name.hasSuffix(".gguf") ? try loadArchitecture(GGUFFile(path: path)) : try loadArchitecture(HuggingFaceFolder(path: path))
    }

    private func tokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int32] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int32((state >> 33) % UInt64(vocab))
        }
    }

    /// Largest |Δ| relative to the row's largest logit (at least 1).
    private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(1, b.map(abs).max() ?? 1)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    @Test(arguments: models)
    func batchedStepsEqualEachSequenceAlone(_ name: String) throws {
        let model = try load(name)
        let pool = ThreadPool(threads: 2)
        let v = model.vocabularySize
        // Three sequences at different depths: A decodes, B prefills a chunk with all
        // positions, C starts a prompt. Each has a twin cache run alone.
        let prefixes = [tokens(11, vocab: v, seed: 1), tokens(6, vocab: v, seed: 2), []]
        let steps: [[[Int32]]] = [
            [tokens(1, vocab: v, seed: 3), tokens(5, vocab: v, seed: 4), tokens(9, vocab: v, seed: 5)],
            [tokens(1, vocab: v, seed: 6), tokens(1, vocab: v, seed: 7), tokens(1, vocab: v, seed: 8)],
            [tokens(4, vocab: v, seed: 9), tokens(1, vocab: v, seed: 10), tokens(1, vocab: v, seed: 11)],
        ]
        let wants: [BatchSegment.Logits] = [.last, .all, .last]
        let batched = prefixes.map { _ in model.makeCache(capacity: 64) }
        let alone = prefixes.map { _ in model.makeCache(capacity: 64) }
        for (i, p) in prefixes.enumerated() where !p.isEmpty {
            _ = try model.forward(p, cache: batched[i], allPositions: false, pool: pool)
            _ = try model.forward(p, cache: alone[i], allPositions: false, pool: pool)
        }
        let scratch = ForwardScratch()
        for (step, chunks) in steps.enumerated() {
            let batch = chunks.indices.map { BatchSegment(cache: batched[$0], tokens: chunks[$0], logits: wants[$0]) }
            let out = try model.forward(batch, scratch: scratch, pool: pool)
            #expect(out.count == chunks.count)
            for i in chunks.indices {
                let expected = try model.forward(chunks[i], cache: alone[i], allPositions: wants[i] == .all, pool: pool)
                #expect(out[i].count == expected.count)
                let err = relativeError(out[i], expected)
                #expect(err < 1e-5, "\(name) step \(step) sequence \(i): relative |Δ| \(err)")
                #expect(batched[i].count == alone[i].count)
            }
        }
    }

    @Test func segmentsWithoutLogitsReturnNone() throws {
        let model = try load("tiny/tiny-llama.gguf")
        let pool = ThreadPool(threads: 1)
        let a = model.makeCache(capacity: 16), b = model.makeCache(capacity: 16)
        let out = try model.forward([BatchSegment(cache: a, tokens: [1, 2, 3], logits: .none), BatchSegment(cache: b, tokens: [4], logits: .last)],
                                    scratch: ForwardScratch(), pool: pool)
        #expect(out[0].isEmpty)
        #expect(out[1].count == model.vocabularySize)
        #expect(a.count == 3 && b.count == 1)
    }

    /// A bad segment rejects the whole batch before any cache is written.
    @Test func badBatchesAreErrorsAndWriteNothing() throws {
        let model = try load("tiny/tiny-llama.gguf")
        let other = try load("deepseek/v3-tiny")
        let pool = ThreadPool(threads: 1)
        let a = model.makeCache(capacity: 4), b = model.makeCache(capacity: 4)
        let scratch = ForwardScratch()
        #expect(throws: ModelError.self) { try model.forward([], scratch: scratch, pool: pool) }
        #expect(throws: ModelError.self) {
            try model.forward([BatchSegment(cache: a, tokens: [1]), BatchSegment(cache: a, tokens: [2])], scratch: scratch, pool: pool)
        }
        #expect(throws: ModelError.self) {
            try model.forward([BatchSegment(cache: a, tokens: [1]), BatchSegment(cache: b, tokens: [1, 2, 3, 4, 5])], scratch: scratch, pool: pool)
        }
        #expect(throws: ModelError.self) {
            try model.forward([BatchSegment(cache: a, tokens: [1]), BatchSegment(cache: other.makeCache(capacity: 4), tokens: [1])], scratch: scratch, pool: pool)
        }
        #expect(a.count == 0 && b.count == 0)
    }

    /// A copied prefix continues exactly like the original cache.
    @Test(arguments: ["tiny/tiny-qwen2.gguf", "deepseek/v32-tiny"])
    func copiedPrefixContinuesLikeTheOriginal(_ name: String) throws {
        let model = try load(name)
        let pool = ThreadPool(threads: 2)
        let v = model.vocabularySize
        let prompt = tokens(20, vocab: v, seed: 42), tail = tokens(3, vocab: v, seed: 43)
        let original = model.makeCache(capacity: 32)
        _ = try model.forward(prompt, cache: original, allPositions: false, pool: pool)
        let copy = model.makeCache(capacity: 32)
        try copy.copyPrefix(of: original, count: 12)
        #expect(copy.count == 12)
        let fromCopy = try model.forward(Array(prompt[12...]) + tail, cache: copy, allPositions: false, pool: pool)
        let reference = try model.forward(prompt + tail, cache: model.makeCache(capacity: 32), allPositions: false, pool: pool)
        #expect(relativeError(fromCopy, reference) < 1e-5)
        #expect(throws: ModelError.self) { try copy.copyPrefix(of: original, count: 21) }
        #expect(original.residentBytes == 20 * original.bytesPerToken)
    }
}
