import Foundation
import SeekFormats
import SeekKernels

/// Hyper-parameters of a pre-norm decoder-only transformer with grouped-query attention
/// and a SwiGLU feed-forward (Llama, Qwen2, Mistral, DeepSeek-LLM, R1-Distill, ...).
public struct DecoderConfig: Sendable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var feedForwardSize: Int
    public var rmsEps: Float
    public var contextLength: Int
    public var rope: RoPE
    /// q/k/v projections carry biases (Qwen2).
    public var attentionBias: Bool

    /// Reads the `{prefix}.*` keys llama.cpp's converter writes.
    public init(gguf: GGUFFile, prefix p: String, ropeStyle: RoPE.Style, attentionBias: Bool) throws {
        hiddenSize = try gguf.int("\(p).embedding_length")
        layers = try gguf.int("\(p).block_count")
        heads = try gguf.int("\(p).attention.head_count")
        kvHeads = try gguf.int("\(p).attention.head_count_kv", default: heads)
        feedForwardSize = try gguf.int("\(p).feed_forward_length")
        contextLength = try gguf.int("\(p).context_length", default: 2048)
        rmsEps = Float(try gguf.double("\(p).attention.layer_norm_rms_epsilon", default: 1e-5))
        guard hiddenSize > 0, layers > 0, heads > 0, kvHeads > 0, feedForwardSize > 0, heads % kvHeads == 0 else {
            throw gguf.modelError("inconsistent hyper-parameters: hidden \(hiddenSize), layers \(layers), heads \(heads), kv heads \(kvHeads), ffn \(feedForwardSize)")
        }
        headDim = try gguf.int("\(p).attention.key_length", default: hiddenSize / heads)
        guard headDim > 0, try gguf.int("\(p).attention.value_length", default: headDim) == headDim else {
            throw gguf.modelError("key and value head sizes differ, which this architecture does not support")
        }
        guard let embd = gguf.tensorsByName["token_embd.weight"], embd.dims.count == 2 else {
            throw gguf.modelError("missing tensor 'token_embd.weight'")
        }
        vocabularySize = embd.dims[1]
        let freqFactors = try Weights(gguf).optionalVector("rope_freqs.weight", count: (try gguf.int("\(p).rope.dimension_count", default: headDim)) / 2)
        rope = try RoPE(gguf: gguf, prefix: p, style: ropeStyle, headDim: headDim, frequencyFactors: freqFactors)
        self.attentionBias = attentionBias
    }

    /// From a Hugging Face config.json (llama, qwen2, mistral-style). Hugging Face weights
    /// keep the NeoX rotation layout (GGUF llama files are permuted to adjacent pairs instead).
    init(huggingFace c: [String: Any], path: String, attentionBias: Bool) throws {
        func fail(_ m: String) -> ModelError { ModelError("\(path)/config.json: \(m)") }
        func int(_ k: String) throws -> Int {
            guard let v = c[k] as? Int else { throw fail(c[k] == nil ? "missing '\(k)'" : "'\(k)' should be an integer") }
            return v
        }
        func number(_ v: Any?) -> Double? { (v as? Double) ?? (v as? Int).map(Double.init) }
        vocabularySize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        layers = try int("num_hidden_layers")
        heads = try int("num_attention_heads")
        kvHeads = (c["num_key_value_heads"] as? Int) ?? heads
        feedForwardSize = try int("intermediate_size")
        contextLength = (c["max_position_embeddings"] as? Int) ?? 2048
        rmsEps = Float(number(c["rms_norm_eps"]) ?? 1e-6)
        headDim = (c["head_dim"] as? Int) ?? (heads > 0 ? hiddenSize / heads : 0)
        guard hiddenSize > 0, layers > 0, heads > 0, kvHeads > 0, headDim > 0, feedForwardSize > 0, heads % kvHeads == 0 else {
            throw fail("inconsistent sizes: hidden \(hiddenSize), heads \(heads), kv heads \(kvHeads)")
        }
        let params = (c["rope_scaling"] as? [String: Any]) ?? (c["rope_parameters"] as? [String: Any]) ?? [:]
        let theta = number(c["rope_theta"]) ?? number(params["rope_theta"]) ?? 10000
        let type = (params["rope_type"] as? String) ?? (params["type"] as? String) ?? "default"
        func p(_ k: String) -> Double? { number(params[k]) }
        switch type {
        case "default":
            rope = RoPE(style: .neox, dimensions: headDim, base: theta)
        case "linear":
            rope = RoPE(style: .neox, dimensions: headDim, base: theta, scaling: .linear(factor: p("factor") ?? 1))
        case "yarn":
            guard let f = p("factor"), let orig = p("original_max_position_embeddings") else { throw fail("yarn needs factor and original_max_position_embeddings") }
            let magnitude = p("attention_factor") ?? (f > 1 ? 0.1 * Foundation.log(f) + 1 : 1)
            rope = RoPE(style: .neox, dimensions: headDim, base: theta,
                        scaling: .yarn(factor: f, originalContext: Int(orig), betaFast: p("beta_fast") ?? 32, betaSlow: p("beta_slow") ?? 1, magnitude: magnitude))
        case "llama3":
            // Llama 3.1: per-frequency divisors (what llama.cpp bakes into rope_freqs.weight).
            guard let f = p("factor"), let low = p("low_freq_factor"), let high = p("high_freq_factor"),
                  let orig = p("original_max_position_embeddings") else { throw fail("llama3 rope scaling needs factor, low/high_freq_factor, original_max_position_embeddings") }
            let dims = headDim
            let factors: [Float] = (0..<(dims / 2)).map { i in
                let invFreq = Foundation.pow(theta, -2 * Double(i) / Double(dims))
                let wavelength = 2 * Double.pi / invFreq
                if wavelength < orig / high { return 1 }
                if wavelength > orig / low { return Float(f) }
                let smooth = (orig / wavelength - low) / (high - low)
                let scaled = (1 - smooth) * invFreq / f + smooth * invFreq
                return Float(invFreq / scaled)
            }
            rope = RoPE(style: .neox, dimensions: headDim, base: theta, frequencyFactors: factors)
        default:
            throw fail("rope type '\(type)' is not supported (default, linear, yarn, llama3)")
        }
        self.attentionBias = attentionBias
    }

    var qDim: Int { heads * headDim }
    var kvDim: Int { kvHeads * headDim }
}

/// Tensor names of the llama-like block in each file format.
struct DecoderTensorNames: Sendable {
    enum Role { case attnNorm, q, k, v, o, qBias, kBias, vBias, ffnNorm, gate, up, down }
    let embedding: String
    let outputNorm: String
    let output: String
    let layer: @Sendable (Int, Role) -> String

    static let gguf = DecoderTensorNames(embedding: "token_embd.weight", outputNorm: "output_norm.weight", output: "output.weight") { i, r in
        let suffix: String
        switch r {
        case .attnNorm: suffix = "attn_norm.weight"
        case .q: suffix = "attn_q.weight"
        case .k: suffix = "attn_k.weight"
        case .v: suffix = "attn_v.weight"
        case .o: suffix = "attn_output.weight"
        case .qBias: suffix = "attn_q.bias"
        case .kBias: suffix = "attn_k.bias"
        case .vBias: suffix = "attn_v.bias"
        case .ffnNorm: suffix = "ffn_norm.weight"
        case .gate: suffix = "ffn_gate.weight"
        case .up: suffix = "ffn_up.weight"
        case .down: suffix = "ffn_down.weight"
        }
        return "blk.\(i).\(suffix)"
    }

    static let huggingFace = DecoderTensorNames(embedding: "model.embed_tokens.weight", outputNorm: "model.norm.weight", output: "lm_head.weight") { i, r in
        let suffix: String
        switch r {
        case .attnNorm: suffix = "input_layernorm.weight"
        case .q: suffix = "self_attn.q_proj.weight"
        case .k: suffix = "self_attn.k_proj.weight"
        case .v: suffix = "self_attn.v_proj.weight"
        case .o: suffix = "self_attn.o_proj.weight"
        case .qBias: suffix = "self_attn.q_proj.bias"
        case .kBias: suffix = "self_attn.k_proj.bias"
        case .vBias: suffix = "self_attn.v_proj.bias"
        case .ffnNorm: suffix = "post_attention_layernorm.weight"
        case .gate: suffix = "mlp.gate_proj.weight"
        case .up: suffix = "mlp.up_proj.weight"
        case .down: suffix = "mlp.down_proj.weight"
        }
        return "model.layers.\(i).\(suffix)"
    }
}

/// Weights of one transformer block, in place in the model file.
struct DecoderLayer {
    let attnNorm: [Float]
    let wq, wk, wv, wo: WeightMatrix
    let bq, bk, bv: [Float]?
    let ffnNorm: [Float]
    let gate, up, down: WeightMatrix
}

/// The shared forward pass of llama-like models. Architectures differ only in how they read
/// their config (and load-time quirks), so their files are wiring around this type.
public final class DecoderTransformer: Sendable {
    public let config: DecoderConfig
    /// Owns the memory map the weight matrices point into; it lives as long as the model.
    let file: any TensorStore
    let embedding: WeightMatrix
    let layers: [DecoderLayer]
    let outputNorm: [Float]
    let output: WeightMatrix

    public convenience init(gguf: GGUFFile, config c: DecoderConfig) throws {
        try self.init(store: gguf, config: c, names: .gguf)
    }

    init(store: any TensorStore, config c: DecoderConfig, names n: DecoderTensorNames) throws {
        let w = Weights(store)
        config = c
        file = store
        embedding = try w.matrix(n.embedding, rows: c.vocabularySize, cols: c.hiddenSize)
        layers = try (0..<c.layers).map { i in
            func name(_ r: DecoderTensorNames.Role) -> String { n.layer(i, r) }
            func bias(_ r: DecoderTensorNames.Role, _ count: Int) throws -> [Float]? {
                c.attentionBias ? try w.vector(name(r), count: count) : try w.optionalVector(name(r), count: count)
            }
            return DecoderLayer(
                attnNorm: try w.vector(name(.attnNorm), count: c.hiddenSize),
                wq: try w.matrix(name(.q), rows: c.qDim, cols: c.hiddenSize),
                wk: try w.matrix(name(.k), rows: c.kvDim, cols: c.hiddenSize),
                wv: try w.matrix(name(.v), rows: c.kvDim, cols: c.hiddenSize),
                wo: try w.matrix(name(.o), rows: c.hiddenSize, cols: c.qDim),
                bq: try bias(.qBias, c.qDim),
                bk: try bias(.kBias, c.kvDim),
                bv: try bias(.vBias, c.kvDim),
                ffnNorm: try w.vector(name(.ffnNorm), count: c.hiddenSize),
                gate: try w.matrix(name(.gate), rows: c.feedForwardSize, cols: c.hiddenSize),
                up: try w.matrix(name(.up), rows: c.feedForwardSize, cols: c.hiddenSize),
                down: try w.matrix(name(.down), rows: c.hiddenSize, cols: c.feedForwardSize))
        }
        outputNorm = try w.vector(n.outputNorm, count: c.hiddenSize)
        // Tied embeddings: without an output matrix the embedding matrix doubles as the LM head.
        output = w.has(n.output) ? try w.matrix(n.output, rows: c.vocabularySize, cols: c.hiddenSize) : embedding
    }

    public var tiedEmbeddings: Bool { output.name == embedding.name }

    public func makeCache(capacity: Int, half: Bool = KVCache.halfByDefault) -> KVCache {
        KVCache(layers: config.layers, kvDim: config.kvDim, capacity: capacity, half: half)
    }

    public func forward(_ batch: [BatchSegment], scratch: ForwardScratch, pool: ThreadPool) throws -> [[Float]] {
        let c = config
        let L = try BatchLayout(batch, vocabularySize: c.vocabularySize, layers: c.layers, kvDim: c.kvDim, valueDim: c.kvDim)
        let T = L.rows
        let d = c.hiddenSize, hd = c.headDim
        var ws = scratch.workspace
        defer { scratch.workspace = ws }
        let x = ws.buffer("x", T * d)          // (T, d) residual stream
        let xn = ws.buffer("xn", T * d)        // (T, d) normed input to a sub-layer
        let q = ws.buffer("q", T * c.qDim)     // (T, heads * hd)
        let k = ws.buffer("k", T * c.kvDim)    // (T, kvHeads * hd)
        let v = ws.buffer("v", T * c.kvDim)
        let att = ws.buffer("att", T * c.qDim) // (T, heads * hd) attention output
        let proj = ws.buffer("proj", T * d)    // (T, d)
        let g = ws.buffer("g", T * c.feedForwardSize)
        let u = ws.buffer("u", T * c.feedForwardSize)
        let ropeTable = ws.buffer("rope", T * c.rope.dimensions) // (T, rope dims) cos/sin pairs

        for (s, seg) in batch.enumerated() {
            for (i, token) in seg.tokens.enumerated() {
                let t = L.start[s] + i
                embedding.dequantize(row: Int(token), into: x + t * d)
                c.rope.table(position: L.position[t], into: ropeTable + t * c.rope.dimensions)
            }
        }
        let scale = 1 / Float(hd).squareRoot()
        let group = c.heads / c.kvHeads
        let segmentOf = L.segment, positionOf = L.position

        for (li, layer) in layers.enumerated() {
            for t in 0..<T { rmsNorm(x + t * d, layer.attnNorm, xn + t * d, count: d, eps: c.rmsEps) }
            matmul([layer.wq, layer.wk, layer.wv], xn, tokens: T, [q, k, v], pool: pool)
            for t in 0..<T {
                if let b = layer.bq { addInPlace(q + t * c.qDim, b, count: c.qDim) }
                if let b = layer.bk { addInPlace(k + t * c.kvDim, b, count: c.kvDim) }
                if let b = layer.bv { addInPlace(v + t * c.kvDim, b, count: c.kvDim) }
                let cs = ropeTable + t * c.rope.dimensions
                for h in 0..<c.heads { c.rope.apply(q + t * c.qDim + h * hd, table: cs) }
                for h in 0..<c.kvHeads { c.rope.apply(k + t * c.kvDim + h * hd, table: cs) }
            }
            // Each sequence's new keys and values join its cache (as f16 or f32, as it keeps them).
            let halves = batch.map { $0.cache.half }
            let keyRows = batch.map { $0.cache.half ? UnsafeRawPointer($0.cache.halfKeys(li)) : UnsafeRawPointer($0.cache.keys(li)) }
            let valueRows = batch.map { $0.cache.half ? UnsafeRawPointer($0.cache.halfValues(li)) : UnsafeRawPointer($0.cache.values(li)) }
            for (s, seg) in batch.enumerated() {
                let cache = seg.cache, p0 = cache.count, r0 = L.start[s], n = seg.tokens.count
                if cache.half {
                    floatToHalf(k + r0 * c.kvDim, cache.halfKeys(li) + p0 * c.kvDim, count: n * c.kvDim)
                    floatToHalf(v + r0 * c.kvDim, cache.halfValues(li) + p0 * c.kvDim, count: n * c.kvDim)
                } else {
                    (cache.keys(li) + p0 * c.kvDim).update(from: k + r0 * c.kvDim, count: n * c.kvDim)
                    (cache.values(li) + p0 * c.kvDim).update(from: v + r0 * c.kvDim, count: n * c.kvDim)
                }
            }

            // Causal attention: a row at position p sees positions 0...p of its own sequence.
            // One item per (row, key/value head, up to four of its query heads): the query heads
            // that share a key/value head meet each cached row together (read once per four
            // heads, not once per head), and a group of seven still splits across threads.
            let quads = (group + 3) / 4
            let items = T * c.kvHeads * quads
            pool.parallelFor(items, piecesPerThread: 16) { range in
              withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * L.longest) { buf in
                let s = buf.baseAddress!  // (queries, positions) scores
                for i in range {
                    // The last rows first: a causal row's cost grows with its position, so the
                    // pieces (sixteen per thread) the threads take one at a time go from dearest
                    // to cheapest.
                    let item = items - 1 - i
                    let t = item / (c.kvHeads * quads), kvh = (item / quads) % c.kvHeads, part = item % quads
                    let h0 = kvh * group + 4 * part, nq = min(4, group - 4 * part)
                    let seg = segmentOf[t], keys = keyRows[seg], values = valueRows[seg]
                    let qh = q + t * c.qDim + h0 * hd, oh = att + t * c.qDim + h0 * hd
                    let n = positionOf[t] + 1
                    if halves[seg] {
                        attendSharedHalf(qh, queryStride: hd, queries: nq, keys: keys.assumingMemoryBound(to: UInt16.self) + kvh * hd,
                                         values: values.assumingMemoryBound(to: UInt16.self) + kvh * hd, stride: c.kvDim, count: n,
                                         headSize: hd, valueSize: hd, scale: scale, scores: s, out: oh, outStride: hd)
                    } else {
                        for i in 0..<nq {
                            attendHead(qh + i * hd, keys: keys.assumingMemoryBound(to: Float.self) + kvh * hd,
                                       values: values.assumingMemoryBound(to: Float.self) + kvh * hd, stride: c.kvDim, count: n,
                                       headSize: hd, scale: scale, scores: s, out: oh + i * hd)
                        }
                    }
                }
              }
            }
            matmul(layer.wo, att, tokens: T, proj, pool: pool)
            addInPlace(x, proj, count: T * d)

            for t in 0..<T { rmsNorm(x + t * d, layer.ffnNorm, xn + t * d, count: d, eps: c.rmsEps) }
            matmul([layer.gate, layer.up], xn, tokens: T, [g, u], pool: pool)
            swiglu(g, u, count: T * c.feedForwardSize)
            matmul(layer.down, g, tokens: T, proj, pool: pool)
            addInPlace(x, proj, count: T * d)
        }
        for seg in batch { seg.cache.count += seg.tokens.count }

        return batchLogits(x, scratch: xn, layout: L, batch: batch, width: d, norm: outputNorm, eps: c.rmsEps, head: output, pool: pool)
    }
}

extension DecoderTransformer {
    var summary: [(String, String)] {
        let c = config
        var rope = "\(c.rope.style), base \(c.rope.base), \(c.rope.dimensions) dims"
        switch c.rope.scaling {
        case .none: break
        case .linear(let f): rope += ", linear x\(f)"
        case .yarn(let f, let orig, _, _, _): rope += ", YaRN x\(f) from \(orig)"
        }
        if c.rope.frequencyFactors != nil { rope += ", frequency factors" }
        return [
            ("layers", "\(c.layers)"),
            ("hidden size", "\(c.hiddenSize)"),
            ("heads", "\(c.heads) (kv \(c.kvHeads), head size \(c.headDim))"),
            ("feed-forward", "\(c.feedForwardSize)"),
            ("vocabulary", "\(c.vocabularySize)"),
            ("rope", rope),
            ("rms eps", "\(c.rmsEps)"),
            ("embeddings", tiedEmbeddings ? "tied" : "separate output"),
        ]
    }
}

/// An architecture that is the shared llama-like decoder with its own config reading: it
/// only has to build `model`; everything else comes from here.
public protocol DecoderArchitecture: Architecture {
    var model: DecoderTransformer { get }
}

extension DecoderArchitecture {
    public var vocabularySize: Int { model.config.vocabularySize }
    public var trainedContextLength: Int { model.config.contextLength }
    public var summary: [(String, String)] { model.summary }
    public func makeCache(capacity: Int, half: Bool) -> KVCache { model.makeCache(capacity: capacity, half: half) }
    public func forward(_ batch: [BatchSegment], scratch: ForwardScratch, pool: ThreadPool) throws -> [[Float]] {
        try model.forward(batch, scratch: scratch, pool: pool)
    }
}
