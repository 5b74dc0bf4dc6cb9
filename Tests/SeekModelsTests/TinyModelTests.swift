import Foundation
import Testing
import SeekFormats
import SeekKernels
import SeekModels
import SeekTestSupport

private struct LogitsFixture: Decodable {
    let tokens: [Int32]
    let logits: [[Float]]
}

/// Tiny random-weight llama and qwen2 GGUFs (scripts/gen_tiny_models.py) with logits from
/// `transformers` loading the same GGUF (dequantized to F32).
@Suite struct TinyModelTests {
    @Test(arguments: ["tiny-llama", "tiny-qwen2"])
    func logitsMatchTransformers(_ name: String) throws {
        let fixture = try Fixtures.json(LogitsFixture.self, "tiny/\(name).logits.json")
        let model = try loadArchitecture(GGUFFile(path: Fixtures.url("tiny/\(name).gguf").path))
        let cache = model.makeCache(capacity: 64, half: false)  // exact against the f32 reference
        let logits = try model.forward(fixture.tokens, cache: cache, allPositions: true, pool: ThreadPool(threads: 2))
        let v = model.vocabularySize
        #expect(logits.count == fixture.tokens.count * v)
        var maxDiff: Float = 0
        var top1Agree = 0
        for (p, expected) in fixture.logits.enumerated() {
            let row = Array(logits[(p * v)..<((p + 1) * v)])
            for i in 0..<v { maxDiff = max(maxDiff, abs(row[i] - expected[i])) }
            if row.firstIndex(of: row.max()!) == expected.firstIndex(of: expected.max()!) { top1Agree += 1 }
        }
        #expect(maxDiff < 1e-3, "max |Δ| \(maxDiff)")
        #expect(top1Agree == fixture.tokens.count)
    }

    /// Greedy decoding of 64 tokens with the KV cache gives the same tokens and bit-identical
    /// logits as recomputing the whole sequence from scratch at every step.
    @Test(arguments: ["tiny-llama", "tiny-qwen2"])
    func cachedDecodeEqualsFullRecompute(_ name: String) throws {
        let model = try loadArchitecture(GGUFFile(path: Fixtures.url("tiny/\(name).gguf").path))
        let pool = ThreadPool(threads: 2)
        var sequence: [Int32] = [84, 104, 101, 32]
        let cache = model.makeCache(capacity: 128)
        var logits = try model.forward(sequence, cache: cache, allPositions: false, pool: pool)
        for step in 0..<64 {
            let fresh = model.makeCache(capacity: 128)
            let recomputed = try model.forward(sequence, cache: fresh, allPositions: false, pool: pool)
            #expect(recomputed == logits, "step \(step): logits differ")
            let next = Int32(logits.firstIndex(of: logits.max()!)!)
            sequence.append(next)
            logits = try model.forward([next], cache: cache, allPositions: false, pool: pool)
        }
        #expect(cache.count == sequence.count)
    }

    @Test func overfullContextAndBadTokensAreErrors() throws {
        let model = try loadArchitecture(GGUFFile(path: Fixtures.url("tiny/tiny-llama.gguf").path))
        let pool = ThreadPool(threads: 1)
        let cache = model.makeCache(capacity: 4)
        #expect(throws: ModelError.self) { try model.forward([1, 2, 3, 4, 5], cache: cache, allPositions: false, pool: pool) }
        #expect(throws: ModelError.self) { try model.forward([999], cache: cache, allPositions: false, pool: pool) }
        #expect(throws: ModelError.self) { try model.forward([-1], cache: cache, allPositions: false, pool: pool) }
        #expect(cache.count == 0)
    }

    @Test func unknownArchitectureIsNamed() throws {
        // valid.gguf says "llama" but has none of its tensors: a clear missing-key error.
        do {
            _ = try loadArchitecture(GGUFFile(path: Fixtures.url("gguf/valid.gguf").path))
            Issue.record("loaded")
        } catch {
            #expect("\(error)".contains("valid.gguf"))
        }
    }
}

@Suite struct RoPETests {
    @Test func normalAndNeoxRotateTheSamePairsDifferently() {
        let rope = RoPE(style: .normal, dimensions: 4, base: 10000)
        var table = [Float](repeating: 0, count: 4)
        table.withUnsafeMutableBufferPointer { rope.table(position: 3, into: $0.baseAddress!) }
        #expect(abs(table[0] - Float(cos(3.0))) < 1e-6 && abs(table[1] - Float(sin(3.0))) < 1e-6)
        #expect(abs(table[2] - Float(cos(0.03))) < 1e-6)
        var a: [Float] = [1, 0, 1, 0]
        table.withUnsafeBufferPointer { t in a.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, table: t.baseAddress!) } }
        #expect(abs(a[0] - Float(cos(3.0))) < 1e-6 && abs(a[1] - Float(sin(3.0))) < 1e-6)
        let neox = RoPE(style: .neox, dimensions: 4, base: 10000)
        var b: [Float] = [1, 1, 0, 0]
        table.withUnsafeBufferPointer { t in b.withUnsafeMutableBufferPointer { neox.apply($0.baseAddress!, table: t.baseAddress!) } }
        #expect(abs(b[0] - Float(cos(3.0))) < 1e-6 && abs(b[2] - Float(sin(3.0))) < 1e-6)
    }

    @Test func linearScalingDividesPositions() {
        let plain = RoPE(style: .neox, dimensions: 8, base: 10000)
        let linear = RoPE(style: .neox, dimensions: 8, base: 10000, scaling: .linear(factor: 4))
        var a = [Float](repeating: 0, count: 8), b = a
        a.withUnsafeMutableBufferPointer { plain.table(position: 2, into: $0.baseAddress!) }
        b.withUnsafeMutableBufferPointer { linear.table(position: 8, into: $0.baseAddress!) }
        for i in 0..<8 { #expect(abs(a[i] - b[i]) < 1e-6) }
    }
}

/// The tiny llama/qwen2 models as Hugging Face folders written by transformers
/// (scripts/gen_tiny_hf_models.py): same logits as the GGUF path's reference.
@Suite struct TinyHuggingFaceTests {
    private struct LogitsFixture: Decodable {
        let tokens: [Int32]
        let logits: [[Float]]
    }

    @Test(arguments: ["tiny-llama", "tiny-qwen2"])
    func folderLogitsMatchTransformers(_ name: String) throws {
        let fixture = try Fixtures.json(LogitsFixture.self, "tiny/\(name).logits.json")
        let model = try loadArchitecture(HuggingFaceFolder(path: Fixtures.url("tiny/hf-\(name)").path))
        let logits = try model.forward(fixture.tokens, cache: model.makeCache(capacity: 64, half: false), allPositions: true,
                                       pool: ThreadPool(threads: 2))
        var worst: Float = 0
        for (p, expected) in fixture.logits.enumerated() {
            for i in 0..<expected.count { worst = max(worst, abs(logits[p * expected.count + i] - expected[i])) }
        }
        #expect(worst < 1e-3, "\(name) folder: max |Δ| \(worst)")
    }
}
