import Foundation
import Testing
import SeekFormats
import SeekKernels
@testable import SeekModels
import SeekTestSupport

/// Tiny random-weight DeepSeek models saved by transformers (scripts/gen_tiny_deepseek.py)
/// with its logits and greedy continuations.
@Suite struct DeepseekTests {
    struct Reference: Decodable {
        struct Prompt: Decodable {
            let tokens: [Int32]
            let logits: [[Float]]
            let greedy: [Int32]
        }
        let prompts: [Prompt]
    }

    /// Largest |Δ| over all positions, relative to each position's largest logit (at least 1).
    private func maxRelativeError(_ logits: [Float], _ expected: [[Float]]) -> Float {
        var worst: Float = 0
        for (p, row) in expected.enumerated() {
            let scale = max(1, row.map(abs).max() ?? 1)
            for i in 0..<row.count { worst = max(worst, abs(logits[p * row.count + i] - row[i]) / scale) }
        }
        return worst
    }

    static let models = ["v3-tiny", "v2-lite-tiny", "v2-glg-tiny", "v3-tiny-fp8", "v32-tiny"]

    private func load(_ name: String) throws -> any Architecture {
        try loadArchitecture(HuggingFaceFolder(path: Fixtures.url("deepseek/\(name)").path))
    }

    /// All-position logits within 1e-4 relative (to the largest logit) of transformers.
    @Test(arguments: models)
    func logitsMatchTransformers(_ name: String) throws {
        let model = try load(name)
        let reference = try Fixtures.json(Reference.self, "deepseek/\(name)/reference.json")
        let pool = ThreadPool(threads: 2)
        for prompt in reference.prompts {
            let cache = model.makeCache(capacity: 128)
            let logits = try model.forward(prompt.tokens, cache: cache, allPositions: true, pool: pool)
            let worst = maxRelativeError(logits, prompt.logits)
            #expect(worst < 1e-4, "\(name), \(prompt.tokens.count) tokens: max relative |Δ| \(worst)")
        }
    }

    /// Greedy continuations with the (latent) KV cache equal transformers' and a full recompute.
    @Test(arguments: models)
    func greedyContinuationMatchesAndCacheEqualsRecompute(_ name: String) throws {
        let model = try load(name)
        let reference = try Fixtures.json(Reference.self, "deepseek/\(name)/reference.json")
        let pool = ThreadPool(threads: 2)
        for prompt in reference.prompts {
            let cache = model.makeCache(capacity: 128)
            var logits = try model.forward(prompt.tokens, cache: cache, allPositions: false, pool: pool)
            var sequence = prompt.tokens
            var generated: [Int32] = []
            for _ in 0..<prompt.greedy.count {
                let next = Int32(logits.firstIndex(of: logits.max()!)!)
                generated.append(next)
                sequence.append(next)
                logits = try model.forward([next], cache: cache, allPositions: false, pool: pool)
            }
            #expect(generated == prompt.greedy, "\(name)")
            let fresh = model.makeCache(capacity: 128)
            let full = try model.forward(sequence, cache: fresh, allPositions: false, pool: pool)
            let worst = zip(full, logits).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "\(name): cached vs recomputed |Δ| \(worst)")
        }
    }

    /// The cache holds only the latent and the RoPE key per token and layer.
    @Test func latentCacheSize() throws {
        let model = try load("v3-tiny")
        let cache = model.makeCache(capacity: 4)
        let config = try #require((model as? DeepseekV2)?.config)
        #expect(cache.bytesPerToken == (config.kvLoraRank + config.ropeDim) * config.layers * 4)
    }

    /// The same tiny models converted by llama.cpp's convert_hf_to_gguf.py
    /// (scripts/gen_tiny_deepseek_gguf.py): F32 matches transformers as tightly as the folders.
    @Test(arguments: ["v3-tiny", "v2-lite-tiny", "v2-glg-tiny"])
    func ggufF32MatchesTransformers(_ name: String) throws {
        let model = try loadArchitecture(GGUFFile(path: Fixtures.url("deepseek/gguf/\(name)-f32.gguf").path))
        let reference = try Fixtures.json(Reference.self, "deepseek/\(name)/reference.json")
        let pool = ThreadPool(threads: 2)
        for prompt in reference.prompts {
            let logits = try model.forward(prompt.tokens, cache: model.makeCache(capacity: 128), allPositions: true, pool: pool)
            let worst = maxRelativeError(logits, prompt.logits)
            #expect(worst < 1e-4, "\(name) GGUF F32: max relative |Δ| \(worst)")
        }
    }

    /// Older converters keep one `attn_kv_b`; newer ones split it into a transposed per-head
    /// `attn_k_b` and `attn_v_b`. Both give the reference kv_b layout. (The older file also
    /// lacks the expert-group metadata, so its routing, not its attention, differs from V3's.)
    @Test func splitAndSingleKVBLayoutsAgree() throws {
        let split = try #require(try loadArchitecture(GGUFFile(path: Fixtures.url("deepseek/gguf/v3-tiny-f32.gguf").path)) as? DeepseekV2)
        let single = try #require(try loadArchitecture(GGUFFile(path: Fixtures.url("deepseek/gguf/v3-tiny-f32-kvb.gguf").path)) as? DeepseekV2)
        let folder = try #require(try load("v3-tiny") as? DeepseekV2)
        let c = split.config
        func floats(_ m: DeepseekV2, _ i: Int) -> [Float] {
            m.layers[i].kvB.dequantized(heads: c.heads, nope: c.nopeDim, value: c.valueDim, rank: c.kvLoraRank)
        }
        for i in 0..<split.layers.count {
            #expect(floats(split, i) == floats(single, i))
            #expect(floats(split, i) == floats(folder, i))
        }
        #expect(single.config.groups == 1 && split.config.groups == 4)
    }

    /// Q8_0 weights (bit-exact dequantization is tested elsewhere) stay close: the top token
    /// agrees at >= 90% of positions (a quantized router input can flip a near-tied expert).
    @Test(arguments: ["v3-tiny", "v2-lite-tiny"])
    func ggufQ8_0StaysClose(_ name: String) throws {
        let model = try loadArchitecture(GGUFFile(path: Fixtures.url("deepseek/gguf/\(name)-q8_0.gguf").path))
        let reference = try Fixtures.json(Reference.self, "deepseek/\(name)/reference.json")
        var agree = 0, total = 0
        for prompt in reference.prompts {
            let logits = try model.forward(prompt.tokens, cache: model.makeCache(capacity: 128), allPositions: true, pool: ThreadPool(threads: 2))
            for (p, expected) in prompt.logits.enumerated() {
                let row = Array(logits[(p * expected.count)..<((p + 1) * expected.count)])
                if row.firstIndex(of: row.max()!) == expected.firstIndex(of: expected.max()!) { agree += 1 }
                total += 1
            }
        }
        #expect(Double(agree) >= 0.9 * Double(total), "\(name) Q8_0: top-1 \(agree)/\(total)")
    }

    /// float8 e4m3 decoding of all 256 bytes equals torch.float8_e4m3fn.
    @Test func fp8E4M3MatchesTorch() throws {
        let expected = try Fixtures.floats("quant/fp8_e4m3.f32")
        #expect(expected.count == 256)
        for b in 0..<256 {
            let ours = fp8E4M3ToFloat(UInt8(b))
            if expected[b].isNaN { #expect(ours.isNaN) } else { #expect(ours == expected[b], "byte \(b)") }
        }
    }

    @Test func shardedFolderLoadsTheSameModel() throws {
        let sharded = try loadArchitecture(HuggingFaceFolder(path: Fixtures.url("deepseek/v3-tiny-sharded").path))
        let single = try load("v3-tiny")
        let pool = ThreadPool(threads: 1)
        let a = try sharded.forward([5, 6, 7], cache: sharded.makeCache(capacity: 8), allPositions: true, pool: pool)
        let b = try single.forward([5, 6, 7], cache: single.makeCache(capacity: 8), allPositions: true, pool: pool)
        #expect(a == b)
    }
}
