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

    var qDim: Int { heads * headDim }
    var kvDim: Int { kvHeads * headDim }
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

    public init(gguf: GGUFFile, config c: DecoderConfig) throws {
        let w = Weights(gguf)
        config = c
        file = gguf
        embedding = try w.matrix("token_embd.weight", rows: c.vocabularySize, cols: c.hiddenSize)
        layers = try (0..<c.layers).map { i in
            let b = "blk.\(i)."
            return DecoderLayer(
                attnNorm: try w.vector(b + "attn_norm.weight", count: c.hiddenSize),
                wq: try w.matrix(b + "attn_q.weight", rows: c.qDim, cols: c.hiddenSize),
                wk: try w.matrix(b + "attn_k.weight", rows: c.kvDim, cols: c.hiddenSize),
                wv: try w.matrix(b + "attn_v.weight", rows: c.kvDim, cols: c.hiddenSize),
                wo: try w.matrix(b + "attn_output.weight", rows: c.hiddenSize, cols: c.qDim),
                bq: c.attentionBias ? try w.vector(b + "attn_q.bias", count: c.qDim) : try w.optionalVector(b + "attn_q.bias", count: c.qDim),
                bk: c.attentionBias ? try w.vector(b + "attn_k.bias", count: c.kvDim) : try w.optionalVector(b + "attn_k.bias", count: c.kvDim),
                bv: c.attentionBias ? try w.vector(b + "attn_v.bias", count: c.kvDim) : try w.optionalVector(b + "attn_v.bias", count: c.kvDim),
                ffnNorm: try w.vector(b + "ffn_norm.weight", count: c.hiddenSize),
                gate: try w.matrix(b + "ffn_gate.weight", rows: c.feedForwardSize, cols: c.hiddenSize),
                up: try w.matrix(b + "ffn_up.weight", rows: c.feedForwardSize, cols: c.hiddenSize),
                down: try w.matrix(b + "ffn_down.weight", rows: c.hiddenSize, cols: c.feedForwardSize))
        }
        outputNorm = try w.vector("output_norm.weight", count: c.hiddenSize)
        // Tied embeddings: without output.weight the embedding matrix doubles as the LM head.
        output = w.has("output.weight")
            ? try w.matrix("output.weight", rows: c.vocabularySize, cols: c.hiddenSize)
            : embedding
    }

    public var tiedEmbeddings: Bool { output.name == embedding.name }

    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.layers, kvDim: config.kvDim, capacity: capacity)
    }

    public func forward(_ tokens: [Int32], cache: KVCache, allPositions: Bool, pool: ThreadPool) throws -> [Float] {
        let c = config
        let T = tokens.count
        let p0 = cache.count
        try checkForward(tokens, cache: cache, vocabularySize: c.vocabularySize)
        let d = c.hiddenSize, hd = c.headDim
        var ws = cache.workspace
        defer { cache.workspace = ws }
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

        for t in 0..<T {
            embedding.dequantize(row: Int(tokens[t]), into: x + t * d)
            c.rope.table(position: p0 + t, into: ropeTable + t * c.rope.dimensions)
        }
        let scale = 1 / Float(hd).squareRoot()
        let group = c.heads / c.kvHeads

        for (li, layer) in layers.enumerated() {
            for t in 0..<T { rmsNorm(x + t * d, layer.attnNorm, xn + t * d, count: d, eps: c.rmsEps) }
            matmul(layer.wq, xn, tokens: T, q, pool: pool)
            matmul(layer.wk, xn, tokens: T, k, pool: pool)
            matmul(layer.wv, xn, tokens: T, v, pool: pool)
            for t in 0..<T {
                if let b = layer.bq { addInPlace(q + t * c.qDim, b, count: c.qDim) }
                if let b = layer.bk { addInPlace(k + t * c.kvDim, b, count: c.kvDim) }
                if let b = layer.bv { addInPlace(v + t * c.kvDim, b, count: c.kvDim) }
                let cs = ropeTable + t * c.rope.dimensions
                for h in 0..<c.heads { c.rope.apply(q + t * c.qDim + h * hd, table: cs) }
                for h in 0..<c.kvHeads { c.rope.apply(k + t * c.kvDim + h * hd, table: cs) }
            }
            let keys = cache.keys[li], values = cache.values[li]
            (keys + p0 * c.kvDim).update(from: k, count: T * c.kvDim)
            (values + p0 * c.kvDim).update(from: v, count: T * c.kvDim)

            // Causal attention: token t sees positions 0...p0 + t. One (token, head) per item.
            let stride = p0 + T
            pool.parallelFor(T * c.heads) { range in
              withUnsafeTemporaryAllocation(of: Float.self, capacity: stride) { buf in
                let s = buf.baseAddress!  // (positions) scores of one query
                for item in range {
                    let t = item / c.heads, h = item % c.heads
                    let kvh = h / group
                    let qh = q + t * c.qDim + h * hd
                    let n = p0 + t + 1
                    for p in 0..<n { s[p] = dotF32(qh, keys + p * c.kvDim + kvh * hd, hd) * scale }
                    softmax(s, count: n)
                    let o = att + t * c.qDim + h * hd
                    o.initialize(repeating: 0, count: hd)
                    for p in 0..<n { axpy(s[p], values + p * c.kvDim + kvh * hd, o, count: hd) }
                }
              }
            }
            matmul(layer.wo, att, tokens: T, proj, pool: pool)
            addInPlace(x, proj, count: T * d)

            for t in 0..<T { rmsNorm(x + t * d, layer.ffnNorm, xn + t * d, count: d, eps: c.rmsEps) }
            matmul(layer.gate, xn, tokens: T, g, pool: pool)
            matmul(layer.up, xn, tokens: T, u, pool: pool)
            swiglu(g, u, count: T * c.feedForwardSize)
            matmul(layer.down, g, tokens: T, proj, pool: pool)
            addInPlace(x, proj, count: T * d)
        }
        cache.count = p0 + T

        return outputLogits(x, scratch: xn, tokens: T, width: d, allPositions: allPositions,
                            norm: outputNorm, eps: c.rmsEps, head: output, pool: pool)
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
    public func makeCache(capacity: Int) -> KVCache { model.makeCache(capacity: capacity) }
    public func forward(_ tokens: [Int32], cache: KVCache, allPositions: Bool, pool: ThreadPool) throws -> [Float] {
        try model.forward(tokens, cache: cache, allPositions: allPositions, pool: pool)
    }
}

/// Checks a forward call's inputs: at least one token, room in the cache, ids in the vocabulary.
func checkForward(_ tokens: [Int32], cache: KVCache, vocabularySize: Int) throws {
    guard !tokens.isEmpty else { throw ModelError("forward needs at least one token") }
    guard cache.count + tokens.count <= cache.capacity else {
        throw ModelError("context is full: \(cache.count) + \(tokens.count) tokens exceed the context size of \(cache.capacity)")
    }
    for t in tokens where t < 0 || Int(t) >= vocabularySize {
        throw ModelError("token id \(t) is outside the vocabulary (0..<\(vocabularySize))")
    }
}

/// Final norm and LM head over the last position (or all): `(rows, vocab)` logits.
func outputLogits(_ x: UnsafeMutablePointer<Float>, scratch xn: UnsafeMutablePointer<Float>, tokens T: Int, width d: Int,
                  allPositions: Bool, norm: [Float], eps: Float, head: WeightMatrix, pool: ThreadPool) -> [Float] {
    let first = allPositions ? 0 : T - 1
    let rows = T - first
    for t in first..<T { rmsNorm(x + t * d, norm, xn + (t - first) * d, count: d, eps: eps) }
    var logits = [Float](repeating: 0, count: rows * head.rows)
    logits.withUnsafeMutableBufferPointer { matmul(head, xn, tokens: rows, $0.baseAddress!, pool: pool) }
    return logits
}
