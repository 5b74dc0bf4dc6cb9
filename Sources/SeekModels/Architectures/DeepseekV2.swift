import Foundation
import SeekFormats
import SeekKernels

// DeepSeek-V2, V2-Lite, V2.5, V3 and R1: Multi-head Latent Attention and DeepSeekMoE.
// Follows transformers' DeepseekV2/V3 modeling code (see ../shared/notes/deepseek-math.md):
//   h = x + MLA(RMSNorm(x));  y = h + FFN(RMSNorm(h))   (FFN dense for the first layers, MoE after)
// MLA keeps only the normalised latent c_kv (kv_lora_rank) and the rotated RoPE key
// (qk_rope_head_dim) per token, and always runs in the absorbed form: the key up-projection is
// folded into the query and the value up-projection applied after attention, so per-head keys
// and values are never materialised.

/// How routed experts are chosen.
public enum DeepseekRouting: Sendable, Equatable {
    /// V2: softmax scores, plain top-k.
    case softmaxGreedy
    /// V2: softmax scores; groups scored by their max, top `topkGroup` groups kept.
    case softmaxGroupLimited
    /// V3: sigmoid scores plus a correction bias for selection; groups scored by the sum of
    /// their top-2 biased scores; weights are the unbiased scores.
    case sigmoidNoAuxTC
}

public struct DeepseekConfig: Sendable {
    public var vocabularySize, hiddenSize, layers, heads: Int
    public var qLoraRank: Int?
    public var kvLoraRank, nopeDim, ropeDim, valueDim: Int
    public var intermediateSize, moeIntermediateSize: Int
    public var routedExperts, expertsPerToken, sharedExperts: Int
    public var firstDenseLayers: Int
    public var groups, topkGroups: Int
    public var routing: DeepseekRouting
    public var normalizeTopK: Bool
    public var routedScaling: Float
    public var rmsEps: Float
    public var contextLength: Int
    public var rope: RoPE
    public var softmaxScale: Float
    /// DeepSeek-V3.2's lightning indexer (DSA): nil for V2/V3.
    public var indexer: IndexerConfig?

    public struct IndexerConfig: Sendable {
        public var heads, headDim, topK: Int
    }

    var qHeadDim: Int { nopeDim + ropeDim }
    func isMoE(_ layer: Int) -> Bool { routedExperts > 0 && layer >= firstDenseLayers }

    /// From a Hugging Face config.json (`model_type` deepseek_v2 or deepseek_v3).
    init(huggingFace c: [String: Any], path: String) throws {
        func fail(_ m: String) -> ModelError { ModelError("\(path)/config.json: \(m)") }
        func int(_ k: String) throws -> Int {
            guard let v = c[k] else { throw fail("missing '\(k)'") }
            guard let i = v as? Int else { throw fail("'\(k)' should be an integer") }
            return i
        }
        func int(_ k: String, _ d: Int) throws -> Int { c[k] == nil || c[k] is NSNull ? d : try int(k) }
        func double(_ k: String, _ d: Double) throws -> Double {
            guard let v = c[k], !(v is NSNull) else { return d }
            guard let x = (v as? Double) ?? (v as? Int).map(Double.init) else { throw fail("'\(k)' should be a number") }
            return x
        }
        let modelType = c["model_type"] as? String ?? ""
        vocabularySize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        layers = try int("num_hidden_layers")
        heads = try int("num_attention_heads")
        qLoraRank = c["q_lora_rank"] is NSNull || c["q_lora_rank"] == nil ? nil : try int("q_lora_rank")
        kvLoraRank = try int("kv_lora_rank")
        nopeDim = try int("qk_nope_head_dim")
        ropeDim = try int("qk_rope_head_dim")
        valueDim = try int("v_head_dim")
        intermediateSize = try int("intermediate_size")
        moeIntermediateSize = try int("moe_intermediate_size", 0)
        routedExperts = try int("n_routed_experts", 0)
        expertsPerToken = try int("num_experts_per_tok", 0)
        sharedExperts = try int("n_shared_experts", 0)
        firstDenseLayers = try int("first_k_dense_replace", 0)
        groups = try int("n_group", 1)
        topkGroups = try int("topk_group", 1)
        normalizeTopK = (c["norm_topk_prob"] as? Bool) ?? false
        routedScaling = Float(try double("routed_scaling_factor", 1))
        rmsEps = Float(try double("rms_norm_eps", 1e-6))
        contextLength = try int("max_position_embeddings", 4096)
        if try int("moe_layer_freq", 1) != 1 {
            throw fail("moe_layer_freq \(try int("moe_layer_freq", 1)) is not supported (every released model uses 1)")
        }
        switch modelType {
        case "deepseek_v3", "deepseek_v32":
            routing = .sigmoidNoAuxTC
            if modelType == "deepseek_v32" {
                indexer = IndexerConfig(heads: try int("index_n_heads"), headDim: try int("index_head_dim"), topK: try int("index_topk"))
            }
        case "deepseek_v2":
            let method = c["topk_method"] as? String ?? "greedy"
            switch method {
            case "greedy": routing = .softmaxGreedy
            case "group_limited_greedy": routing = .softmaxGroupLimited
            default: throw fail("topk_method '\(method)' is not supported for deepseek_v2 (greedy, group_limited_greedy)")
            }
            // transformers' V2 class ignores norm_topk_prob (deepseek-math.md); so do we.
            normalizeTopK = false
        default:
            throw fail("model_type '\(modelType)' is not a DeepSeek MLA model")
        }
        guard hiddenSize > 0, layers > 0, heads > 0, kvLoraRank > 0, ropeDim > 0, ropeDim % 2 == 0, nopeDim >= 0, valueDim > 0 else {
            throw fail("inconsistent attention sizes")
        }
        if let ix = indexer {
            guard ix.heads > 0, ix.headDim >= ropeDim, ix.topK > 0, qLoraRank != nil else {
                throw fail("indexer needs index_n_heads > 0, index_head_dim >= qk_rope_head_dim, index_topk > 0 and a q_lora_rank")
            }
        }
        if routedExperts > 0 {
            guard expertsPerToken > 0, expertsPerToken <= routedExperts, moeIntermediateSize > 0 else {
                throw fail("num_experts_per_tok \(expertsPerToken) / moe_intermediate_size \(moeIntermediateSize) are invalid for \(routedExperts) experts")
            }
            guard groups > 0, routedExperts % groups == 0, topkGroups > 0, topkGroups <= groups else {
                throw fail("n_group \(groups) / topk_group \(topkGroups) do not divide \(routedExperts) experts")
            }
        }

        // RoPE on the qk_rope_head_dim dims; YaRN as transformers computes it.
        let params = (c["rope_scaling"] as? [String: Any]) ?? (c["rope_parameters"] as? [String: Any]) ?? [:]
        func number(_ v: Any?) -> Double? { (v as? Double) ?? (v as? Int).map(Double.init) }
        let theta: Double = number(c["rope_theta"]) ?? number(params["rope_theta"]) ?? 10000
        let type = (params["rope_type"] as? String) ?? (params["type"] as? String) ?? "default"
        func p(_ k: String) -> Double? { (params[k] as? Double) ?? (params[k] as? Int).map(Double.init) }
        func g(_ s: Double, _ m: Double) -> Double { s <= 1 ? 1 : 0.1 * m * Foundation.log(s) + 1 }
        var scale = 1 / Double(nopeDim + ropeDim).squareRoot()
        // V3's `rope_interleave` (default true) rotates adjacent pairs like V2 (it only stores
        // the result de-interleaved, which leaves every score unchanged); false means NeoX
        // half-split pairs, for checkpoints whose weights were permuted for it.
        let style: RoPE.Style = modelType == "deepseek_v3" && (c["rope_interleave"] as? Bool) == false ? .neox : .normal
        switch type {
        case "default":
            rope = RoPE(style: style, dimensions: ropeDim, base: theta)
        case "yarn":
            guard let factor = p("factor"), let orig = p("original_max_position_embeddings") else {
                throw fail("yarn rope scaling needs 'factor' and 'original_max_position_embeddings'")
            }
            let mscale = p("mscale") ?? 1, mscaleAll = p("mscale_all_dim") ?? 0
            let attentionFactor = p("attention_factor") ?? (mscale != 0 && mscaleAll != 0 ? g(factor, mscale) / g(factor, mscaleAll) : g(factor, 1))
            rope = RoPE(style: style, dimensions: ropeDim, base: theta,
                        scaling: .yarn(factor: factor, originalContext: Int(orig), betaFast: p("beta_fast") ?? 32,
                                       betaSlow: p("beta_slow") ?? 1, magnitude: attentionFactor))
            if mscaleAll != 0 && factor > 1 {
                let m = g(factor, mscaleAll)
                scale *= m * m
            }
        default:
            throw fail("rope type '\(type)' is not supported for DeepSeek (default, yarn)")
        }
        softmaxScale = Float(scale)
    }
}

extension DeepseekConfig {
    /// From llama.cpp's `deepseek2` GGUF metadata. Where llama.cpp departs from the reference
    /// we follow the reference: softmax gating with groups means V2's group-limited greedy
    /// (groups scored by their max, not a top-2 sum), V2's softmax weights are never
    /// renormalised, and "no q_lora" is read from the tensors, not guessed from the layer count.
    init(gguf g: GGUFFile) throws {
        let p = "deepseek2"
        vocabularySize = (g.tensorsByName["token_embd.weight"]?.dims.last) ?? 0
        hiddenSize = try g.int("\(p).embedding_length")
        layers = try g.int("\(p).block_count")
        heads = try g.int("\(p).attention.head_count")
        let qLora = try g.int("\(p).attention.q_lora_rank", default: 0)
        qLoraRank = g.tensorsByName["blk.0.attn_q_a.weight"] != nil && qLora > 0 ? qLora : nil
        kvLoraRank = try g.int("\(p).attention.kv_lora_rank")
        ropeDim = try g.int("\(p).rope.dimension_count")
        let keyLength = try g.int("\(p).attention.key_length_mla", default: try g.int("\(p).attention.key_length"))
        nopeDim = keyLength - ropeDim
        valueDim = try g.int("\(p).attention.value_length_mla", default: try g.int("\(p).attention.value_length"))
        intermediateSize = try g.int("\(p).feed_forward_length")
        moeIntermediateSize = try g.int("\(p).expert_feed_forward_length", default: 0)
        routedExperts = try g.int("\(p).expert_count", default: 0)
        expertsPerToken = try g.int("\(p).expert_used_count", default: 0)
        sharedExperts = try g.int("\(p).expert_shared_count", default: 0)
        firstDenseLayers = try g.int("\(p).leading_dense_block_count", default: 0)
        groups = max(1, try g.int("\(p).expert_group_count", default: 1))
        topkGroups = max(1, try g.int("\(p).expert_group_used_count", default: 1))
        routedScaling = Float(try g.double("\(p).expert_weights_scale", default: 1))
        rmsEps = Float(try g.double("\(p).attention.layer_norm_rms_epsilon", default: 1e-6))
        contextLength = try g.int("\(p).context_length", default: 4096)
        let gating = try g.int("\(p).expert_gating_func", default: 1)
        switch gating {
        case 1:
            routing = groups > 1 ? .softmaxGroupLimited : .softmaxGreedy
            normalizeTopK = false
        case 2:
            routing = .sigmoidNoAuxTC
            normalizeTopK = g.metadata["\(p).expert_weights_norm"]?.bool ?? false
        default:
            throw g.modelError("expert_gating_func \(gating) is not supported (1 softmax, 2 sigmoid)")
        }
        guard vocabularySize > 0, hiddenSize > 0, layers > 0, heads > 0, kvLoraRank > 0, ropeDim > 0, ropeDim % 2 == 0,
              nopeDim >= 0, valueDim > 0 else {
            throw g.modelError("inconsistent MLA sizes (key length \(keyLength), rope \(ropeDim), value \(valueDim))")
        }
        if routedExperts > 0 {
            guard expertsPerToken > 0, expertsPerToken <= routedExperts, moeIntermediateSize > 0,
                  routedExperts % groups == 0, topkGroups <= groups else {
                throw g.modelError("inconsistent expert counts (\(routedExperts) experts, \(expertsPerToken) per token, \(groups) groups)")
            }
        }
        // RoPE: llama.cpp stores YaRN's factor and mscale_all_dim (as yarn_log_multiplier);
        // the cos/sin magnitude is 1 (released models have mscale == mscale_all_dim) and the
        // softmax scale carries m² with m = 1 + log_multiplier · ln(factor).
        let base = try g.double("\(p).rope.freq_base", default: 10000)
        var scale = 1 / Double(nopeDim + ropeDim).squareRoot()
        let type = g.metadata["\(p).rope.scaling.type"]?.string ?? "none"
        switch type {
        case "none", "":
            rope = RoPE(style: .normal, dimensions: ropeDim, base: base)
        case "yarn":
            let factor = try g.double("\(p).rope.scaling.factor")
            rope = RoPE(style: .normal, dimensions: ropeDim, base: base,
                        scaling: .yarn(factor: factor, originalContext: try g.int("\(p).rope.scaling.original_context_length"),
                                       betaFast: try g.double("\(p).rope.scaling.yarn_beta_fast", default: 32),
                                       betaSlow: try g.double("\(p).rope.scaling.yarn_beta_slow", default: 1), magnitude: 1))
            let logMul = try g.double("\(p).rope.scaling.yarn_log_multiplier", default: 0)
            if factor > 1 && logMul > 0 {
                let m = 1 + logMul * Foundation.log(factor)
                scale *= m * m
            }
        default:
            throw g.modelError("rope scaling type '\(type)' is not supported for deepseek2 (none, yarn)")
        }
        softmaxScale = Float(scale)
    }
}

/// One expert's (or a dense/shared FFN's) SwiGLU weights.
struct FeedForward {
    let gate, up, down: WeightMatrix
}

/// V3.2's indexer: its own query (from MLA's normed q latent), a LayerNorm'd single key,
/// and per-head weights.
struct IndexerLayer {
    let wqB: WeightMatrix           // (heads * headDim, q_lora_rank)
    let wk: WeightMatrix            // (headDim, hidden)
    let kNormWeight: [Float]
    let kNormBias: [Float]
    let weightsProj: WeightMatrix   // (heads, hidden)
}

struct DeepseekLayer {
    let indexer: IndexerLayer?
    let inputNorm: [Float]
    let qProj: WeightMatrix?            // (H*(dn+dr), hidden) without q_lora
    let qA: WeightMatrix?               // (r_q, hidden)
    let qANorm: [Float]?
    let qB: WeightMatrix?               // (H*(dn+dr), r_q)
    let kvA: WeightMatrix               // (r_kv + dr, hidden)
    let kvANorm: [Float]
    /// kv_b_proj as the file keeps it (mapped, never copied to floats).
    let kvB: KVUpProjection
    let oProj: WeightMatrix             // (hidden, H*dv)
    let postNorm: [Float]
    let dense: FeedForward?
    let router: WeightMatrix?           // (E, hidden)
    let routerBias: [Float]?
    let experts: [FeedForward]
    let shared: FeedForward?
}

/// MLA's up-projection from the latent (kv_b_proj), as the file has it: one matrix with, per
/// head, dn key rows then dv value rows, r_kv wide (Hugging Face, older GGUF converters), or
/// split per head into k_b (r_kv, dn) — the key part already transposed — and v_b (dv, r_kv)
/// (newer converters). The absorbed attention needs W_UKᵀ·q_nope and W_UV·o_latent per head:
/// with the split form both are plain matrix products (integer kernels); with one matrix the
/// value part is a view of its rows and the key part is decoded one head at a time.
enum KVUpProjection {
    /// The one matrix, and each head's W_UV as a view of its rows (made once, at load).
    case combined(WeightMatrix, values: [WeightMatrix])
    case split(keys: [WeightMatrix], values: [WeightMatrix])

    /// The one-matrix form: per head dn key rows then dv value rows.
    static func combined(_ m: WeightMatrix, heads H: Int, nope dn: Int, value dv: Int) -> KVUpProjection {
        .combined(m, values: (0..<H).map { h in
            WeightMatrix(name: "\(m.name)[v \(h)]", type: m.type, rows: dv, cols: m.cols, data: m.row(h * (dn + dv) + dn))
        })
    }

    /// Each head's W_UV (dv rows of r_kv).
    var values: [WeightMatrix] {
        switch self {
        case .combined(_, let values), .split(_, let values): values
        }
    }

    /// As floats in the one-matrix layout (per head dn key rows then dv value rows, r_kv
    /// wide), for tests comparing the two forms.
    func dequantized(heads H: Int, nope dn: Int, value dv: Int, rank rkv: Int) -> [Float] {
        switch self {
        case .combined(let m, _):
            return m.dequantizedAll()
        case .split(let keys, let values):
            var all = [Float](repeating: 0, count: H * (dn + dv) * rkv)
            for h in 0..<H {
                let k = keys[h].dequantizedAll(), v = values[h].dequantizedAll()  // (r_kv, dn), (dv, r_kv)
                let base = h * (dn + dv) * rkv
                for j in 0..<rkv { for i in 0..<dn { all[base + i * rkv + j] = k[j * dn + i] } }
                for x in 0..<(dv * rkv) { all[base + dn * rkv + x] = v[x] }
            }
            return all
        }
    }
}

public final class DeepseekV2: Architecture {
    public static let ggufArchitectures = ["deepseek2"]
    public static let huggingFaceModelTypes = ["deepseek_v2", "deepseek_v3", "deepseek_v32"]

    public let config: DeepseekConfig
    let store: any TensorStore
    let embedding: WeightMatrix
    let layers: [DeepseekLayer]
    let finalNorm: [Float]
    let lmHead: WeightMatrix
    /// The indexer rotates NeoX-style (half split) with the same frequencies as MLA.
    var indexerRope: RoPE { RoPE(style: .neox, dimensions: config.rope.dimensions, base: config.rope.base, scaling: config.rope.scaling) }

    /// llama.cpp's `deepseek2` GGUF: either one `attn_kv_b` (older converters) or the split
    /// `attn_k_b` (per head, transposed) and `attn_v_b`; experts as 3-D `ffn_*_exps` tensors.
    public init(gguf: GGUFFile) throws {
        let c = try DeepseekConfig(gguf: gguf)
        config = c
        store = gguf
        let w = Weights(gguf)
        let H = c.heads, dn = c.nopeDim, dv = c.valueDim, rkv = c.kvLoraRank
        embedding = try w.matrix("token_embd.weight", rows: c.vocabularySize, cols: c.hiddenSize)
        layers = try (0..<c.layers).map { i in
            let b = "blk.\(i)."
            func ffn(_ suffix: String, _ width: Int) throws -> FeedForward {
                FeedForward(gate: try w.matrix(b + "ffn_gate\(suffix).weight", rows: width, cols: c.hiddenSize),
                            up: try w.matrix(b + "ffn_up\(suffix).weight", rows: width, cols: c.hiddenSize),
                            down: try w.matrix(b + "ffn_down\(suffix).weight", rows: c.hiddenSize, cols: width))
            }
            let kvB: KVUpProjection
            if w.has(b + "attn_kv_b.weight") {
                kvB = .combined(try w.matrix(b + "attn_kv_b.weight", rows: H * (dn + dv), cols: rkv), heads: H, nope: dn, value: dv)
            } else {
                kvB = .split(keys: try w.expertMatrices(b + "attn_k_b.weight", count: H, rows: rkv, cols: dn),    // per head (r_kv, dn)
                             values: try w.expertMatrices(b + "attn_v_b.weight", count: H, rows: dv, cols: rkv))  // per head (dv, r_kv)
            }
            let moe = c.isMoE(i)
            var experts: [FeedForward] = []
            if moe {
                let gates = try w.expertMatrices(b + "ffn_gate_exps.weight", count: c.routedExperts, rows: c.moeIntermediateSize, cols: c.hiddenSize)
                let ups = try w.expertMatrices(b + "ffn_up_exps.weight", count: c.routedExperts, rows: c.moeIntermediateSize, cols: c.hiddenSize)
                let downs = try w.expertMatrices(b + "ffn_down_exps.weight", count: c.routedExperts, rows: c.hiddenSize, cols: c.moeIntermediateSize)
                experts = (0..<c.routedExperts).map { FeedForward(gate: gates[$0], up: ups[$0], down: downs[$0]) }
            }
            return DeepseekLayer(
                indexer: nil,
                inputNorm: try w.vector(b + "attn_norm.weight", count: c.hiddenSize),
                qProj: c.qLoraRank == nil ? try w.matrix(b + "attn_q.weight", rows: H * c.qHeadDim, cols: c.hiddenSize) : nil,
                qA: try c.qLoraRank.map { try w.matrix(b + "attn_q_a.weight", rows: $0, cols: c.hiddenSize) },
                qANorm: try c.qLoraRank.map { try w.vector(b + "attn_q_a_norm.weight", count: $0) },
                qB: try c.qLoraRank.map { try w.matrix(b + "attn_q_b.weight", rows: H * c.qHeadDim, cols: $0) },
                kvA: try w.matrix(b + "attn_kv_a_mqa.weight", rows: rkv + c.ropeDim, cols: c.hiddenSize),
                kvANorm: try w.vector(b + "attn_kv_a_norm.weight", count: rkv),
                kvB: kvB,
                oProj: try w.matrix(b + "attn_output.weight", rows: c.hiddenSize, cols: H * dv),
                postNorm: try w.vector(b + "ffn_norm.weight", count: c.hiddenSize),
                dense: moe ? nil : try ffn("", c.intermediateSize),
                router: moe ? try w.matrix(b + "ffn_gate_inp.weight", rows: c.routedExperts, cols: c.hiddenSize) : nil,
                routerBias: moe && c.routing == .sigmoidNoAuxTC ? try w.vector(b + "exp_probs_b.bias", count: c.routedExperts) : nil,
                experts: experts,
                shared: moe && c.sharedExperts > 0 ? try ffn("_shexp", c.moeIntermediateSize * c.sharedExperts) : nil)
        }
        finalNorm = try w.vector("output_norm.weight", count: c.hiddenSize)
        lmHead = try w.matrix("output.weight", rows: c.vocabularySize, cols: c.hiddenSize)
    }

    public init(huggingFace folder: HuggingFaceFolder) throws {
        let c = try DeepseekConfig(huggingFace: folder.config, path: folder.path)
        config = c
        store = folder
        let w = Weights(folder)
        let H = c.heads
        embedding = try w.matrix("model.embed_tokens.weight", rows: c.vocabularySize, cols: c.hiddenSize)
        layers = try (0..<c.layers).map { i in
            let p = "model.layers.\(i)."
            let a = p + "self_attn."
            func ffn(_ prefix: String, _ width: Int) throws -> FeedForward {
                FeedForward(gate: try w.matrix(prefix + "gate_proj.weight", rows: width, cols: c.hiddenSize),
                            up: try w.matrix(prefix + "up_proj.weight", rows: width, cols: c.hiddenSize),
                            down: try w.matrix(prefix + "down_proj.weight", rows: c.hiddenSize, cols: width))
            }
            let moe = c.isMoE(i)
            var indexer: IndexerLayer?
            if let ix = c.indexer, let r = c.qLoraRank {
                let n = a + "indexer."
                indexer = IndexerLayer(
                    wqB: try w.matrix(n + "wq_b.weight", rows: ix.heads * ix.headDim, cols: r),
                    wk: try w.matrix(n + "wk.weight", rows: ix.headDim, cols: c.hiddenSize),
                    kNormWeight: try w.vector(n + "k_norm.weight", count: ix.headDim),
                    kNormBias: try w.vector(n + "k_norm.bias", count: ix.headDim),
                    weightsProj: try w.matrix(n + "weights_proj.weight", rows: ix.heads, cols: c.hiddenSize))
            }
            return DeepseekLayer(
                indexer: indexer,
                inputNorm: try w.vector(p + "input_layernorm.weight", count: c.hiddenSize),
                qProj: c.qLoraRank == nil ? try w.matrix(a + "q_proj.weight", rows: H * c.qHeadDim, cols: c.hiddenSize) : nil,
                qA: try c.qLoraRank.map { try w.matrix(a + "q_a_proj.weight", rows: $0, cols: c.hiddenSize) },
                qANorm: try c.qLoraRank.map { try w.vector(a + "q_a_layernorm.weight", count: $0) },
                qB: try c.qLoraRank.map { try w.matrix(a + "q_b_proj.weight", rows: H * c.qHeadDim, cols: $0) },
                kvA: try w.matrix(a + "kv_a_proj_with_mqa.weight", rows: c.kvLoraRank + c.ropeDim, cols: c.hiddenSize),
                kvANorm: try w.vector(a + "kv_a_layernorm.weight", count: c.kvLoraRank),
                kvB: .combined(try w.matrix(a + "kv_b_proj.weight", rows: H * (c.nopeDim + c.valueDim), cols: c.kvLoraRank),
                               heads: H, nope: c.nopeDim, value: c.valueDim),
                oProj: try w.matrix(a + "o_proj.weight", rows: c.hiddenSize, cols: H * c.valueDim),
                postNorm: try w.vector(p + "post_attention_layernorm.weight", count: c.hiddenSize),
                dense: moe ? nil : try ffn(p + "mlp.", c.intermediateSize),
                router: moe ? try w.matrix(p + "mlp.gate.weight", rows: c.routedExperts, cols: c.hiddenSize) : nil,
                routerBias: moe && c.routing == .sigmoidNoAuxTC ? try w.vector(p + "mlp.gate.e_score_correction_bias", count: c.routedExperts) : nil,
                experts: moe ? try (0..<c.routedExperts).map { try ffn(p + "mlp.experts.\($0).", c.moeIntermediateSize) } : [],
                shared: moe && c.sharedExperts > 0 ? try ffn(p + "mlp.shared_experts.", c.moeIntermediateSize * c.sharedExperts) : nil)
        }
        finalNorm = try w.vector("model.norm.weight", count: c.hiddenSize)
        lmHead = try w.matrix("lm_head.weight", rows: c.vocabularySize, cols: c.hiddenSize)
    }

    public var vocabularySize: Int { config.vocabularySize }
    public var trainedContextLength: Int { config.contextLength }

    public var summary: [(String, String)] {
        let c = config
        let cache = KVCache(layers: c.layers, kvDim: c.kvLoraRank + c.ropeDim, valueDim: 0, capacity: 0)
        let fullKV = c.layers * c.heads * (c.qHeadDim + c.valueDim) * 4
        var routing = "none"
        if c.routedExperts > 0 {
            routing = "\(c.routedExperts) routed experts (\(c.expertsPerToken) per token, \(c.moeIntermediateSize) wide), \(c.sharedExperts) shared, "
            switch c.routing {
            case .softmaxGreedy: routing += "softmax greedy"
            case .softmaxGroupLimited: routing += "softmax group-limited (\(c.topkGroups) of \(c.groups) groups)"
            case .sigmoidNoAuxTC: routing += "sigmoid + bias, noaux_tc (\(c.topkGroups) of \(c.groups) groups)"
            }
            routing += ", first \(c.firstDenseLayers) layers dense"
        }
        return [
            ("layers", "\(c.layers)"),
            ("hidden size", "\(c.hiddenSize)"),
            ("attention", "MLA, \(c.heads) heads, q_lora \(c.qLoraRank.map(String.init) ?? "none"), kv_lora \(c.kvLoraRank), nope \(c.nopeDim) + rope \(c.ropeDim), v \(c.valueDim)"),
            ("experts", routing),
            ("kv cache", "\(cache.bytesPerToken) bytes/token (latent + rope key, f32); full K/V would be \(fullKV)"),
            ("vocabulary", "\(c.vocabularySize)"),
        ]
    }

    /// The latent and RoPE key per token; V3.2 also keeps the indexer's key in the value slot.
    /// Always f32 (`half` is not used yet: the absorbed attention reads the latent as f32).
    public func makeCache(capacity: Int, half: Bool) -> KVCache {
        KVCache(layers: config.layers, kvDim: config.kvLoraRank + config.ropeDim, valueDim: config.indexer?.headDim ?? 0, capacity: capacity)
    }

    public func forward(_ batch: [BatchSegment], scratch: ForwardScratch, pool: ThreadPool) throws -> [[Float]] {
        let c = config
        let d = c.hiddenSize, H = c.heads, dn = c.nopeDim, dr = c.ropeDim, dv = c.valueDim, rkv = c.kvLoraRank
        let qDim = H * c.qHeadDim, latent = rkv + dr
        let L = try BatchLayout(batch, vocabularySize: c.vocabularySize, layers: c.layers, kvDim: latent, valueDim: c.indexer?.headDim ?? 0)
        let T = L.rows
        var ws = scratch.workspace
        defer { scratch.workspace = ws }
        let x = ws.buffer("x", T * d)                  // (T, d) residual stream
        let xn = ws.buffer("xn", T * d)
        let qa = ws.buffer("qa", T * (c.qLoraRank ?? 1))
        let q = ws.buffer("q", T * qDim)               // (T, H, dn + dr)
        let kv = ws.buffer("kv", T * latent)           // (T, r_kv + dr)
        let att = ws.buffer("att", T * H * dv)         // (T, H * dv)
        let proj = ws.buffer("proj", T * d)
        let ropeTable = ws.buffer("rope", T * dr)

        for (s, seg) in batch.enumerated() {
            for (i, token) in seg.tokens.enumerated() {
                let t = L.start[s] + i
                embedding.dequantize(row: Int(token), into: x + t * d)
                c.rope.table(position: L.position[t], into: ropeTable + t * dr)
            }
        }
        let segmentOf = L.segment, positionOf = L.position

        for (li, layer) in layers.enumerated() {
            for t in 0..<T { rmsNorm(x + t * d, layer.inputNorm, xn + t * d, count: d, eps: c.rmsEps) }
            // Queries (through the q LoRA when there is one), and the compressed latent and RoPE
            // key, in one dispatch: both read the normalised input.
            var firstProducts = [MatmulJob(layer.kvA, xn, tokens: T, kv)]
            if let qA = layer.qA, layer.qB != nil {
                firstProducts.append(MatmulJob(qA, xn, tokens: T, qa))
            } else if let qProj = layer.qProj {
                firstProducts.append(MatmulJob(qProj, xn, tokens: T, q))
            }
            matmul(firstProducts, pool: pool)
            if let qB = layer.qB, let qANorm = layer.qANorm, let r = c.qLoraRank {
                for t in 0..<T { rmsNorm(qa + t * r, qANorm, qa + t * r, count: r, eps: 1e-6) }
                matmul(qB, qa, tokens: T, q, pool: pool)
            }
            // The latent and RoPE key are appended to each sequence's cache.
            let latentRows = batch.map { $0.cache.keys(li) }
            for t in 0..<T {
                let row = kv + t * latent
                let cs = ropeTable + t * dr
                let dst = latentRows[segmentOf[t]] + positionOf[t] * latent
                rmsNorm(row, layer.kvANorm, dst, count: rkv, eps: 1e-6)
                (dst + rkv).update(from: row + rkv, count: dr)
                c.rope.apply(dst + rkv, table: cs)
                for h in 0..<H { c.rope.apply(q + t * qDim + h * c.qHeadDim + dn, table: cs) }
            }
            // V3.2: the indexer picks, per query, the keys MLA may attend to.
            var selections: [[Int]]?
            if let ix = layer.indexer, let cfg = c.indexer {
                selections = indexerSelect(ix, cfg, qa: qa, xn: xn, layout: L, caches: batch.map { $0.cache.values(li) },
                                           ropeTable: ropeTable, ws: &ws, pool: pool)
            }
            // Absorbed attention. 1: every (row, head)'s query in latent space, [W_UKᵀ·q_nope, q_rope].
            let qLat = ws.buffer("mla.qlat", T * H * latent)    // (T, H, r_kv + dr)
            absorbQueries(layer.kvB, q, tokens: T, into: qLat, ws: &ws, pool: pool)
            // 2: each row's heads against the row's own sequence (the heads share the latent
            // rows, so one pass over them serves several): four heads per item in decode, so the
            // threads share a row's heads; all of them in prefill, where rows are plenty and
            // the value pass takes six heads at a time. The output in latent space, head-major
            // for step 3.
            let oLat = ws.buffer("mla.olat", H * T * rkv)       // (H, T, r_kv)
            let scale = c.softmaxScale
            let perItem = T >= 16 ? H : min(4, H)
            let blocks = (H + perItem - 1) / perItem
            pool.parallelFor(T * blocks, piecesPerThread: 16) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: perItem * L.longest) { buf in
                    let scores = buf.baseAddress!
                    for i in range {
                        // The last rows first (a causal row's cost grows with its position): the
                        // pieces the threads take one at a time go from dearest to cheapest.
                        let item = T * blocks - 1 - i
                        let t = item / blocks, h0 = perItem * (item % blocks), heads = min(perItem, H - h0)
                        let cacheRows = latentRows[segmentOf[t]]
                        if let keys = selections?[t] {  // the V3.2 indexer's chosen keys
                            let n = keys.count
                            for h in h0..<(h0 + heads) {
                                let ql = qLat + (t * H + h) * latent, ol = oLat + (h * T + t) * rkv
                                for k in 0..<n {
                                    let row = cacheRows + keys[k] * latent
                                    scores[k] = (dotF32(ql, row, rkv) + dotF32(ql + rkv, row + rkv, dr)) * scale
                                }
                                softmax(scores, count: n)
                                ol.initialize(repeating: 0, count: rkv)
                                for k in 0..<n { axpy(scores[k], cacheRows + keys[k] * latent, ol, count: rkv) }
                            }
                        } else {  // every causal key: cached rows are [latent, rope key], values the latent
                            attendShared(qLat + (t * H + h0) * latent, queryStride: latent, queries: heads, keys: cacheRows,
                                         values: cacheRows, stride: latent, count: positionOf[t] + 1, headSize: rkv + dr,
                                         valueSize: rkv, scale: scale, scores: scores, out: oLat + (h0 * T + t) * rkv,
                                         outStride: T * rkv)
                        }
                    }
                }
            }
            // 3: each head's output, W_UV·o_latent, for all rows in one dispatch.
            let oHead = ws.buffer("mla.ohead", H * T * dv)      // (H, T, dv)
            let values = layer.kvB.values
            matmul((0..<H).map { h in MatmulJob(values[h], oLat + h * T * rkv, tokens: T, oHead + h * T * dv) },
                   pool: pool)
            for t in 0..<T {
                for h in 0..<H { (att + t * H * dv + h * dv).update(from: oHead + (h * T + t) * dv, count: dv) }
            }
            matmul(layer.oProj, att, tokens: T, proj, pool: pool)
            addInPlace(x, proj, count: T * d)

            for t in 0..<T { rmsNorm(x + t * d, layer.postNorm, xn + t * d, count: d, eps: c.rmsEps) }
            if let dense = layer.dense {
                runFeedForward(dense, xn, tokens: T, into: proj, ws: &ws, pool: pool)
            } else {
                try runMoE(layer, xn, tokens: T, into: proj, ws: &ws, pool: pool)
            }
            addInPlace(x, proj, count: T * d)
        }
        for seg in batch { seg.cache.count += seg.tokens.count }

        return batchLogits(x, scratch: xn, layout: L, batch: batch, width: d, norm: finalNorm, eps: c.rmsEps, head: lmHead, pool: pool)
    }

    /// Every (row, head)'s query in latent space: out[(t·H + h)·(r_kv + dr)...] = [W_UK[h]ᵀ·q_nope, q_rope].
    /// Split kv_b: k_b[h] is W_UK[h]ᵀ, so one matrix product per head (all heads in one
    /// dispatch, their queries gathered first). One kv_b: head h's dn key rows are decoded into
    /// per-thread scratch once and combined for every row (no float copy of the weights kept).
    private func absorbQueries(_ kvB: KVUpProjection, _ q: UnsafeMutablePointer<Float>, tokens T: Int,
                               into out: UnsafeMutablePointer<Float>, ws: inout Workspace, pool: ThreadPool) {
        let c = config
        let H = c.heads, dn = c.nopeDim, dr = c.ropeDim, rkv = c.kvLoraRank, qh = c.qHeadDim, latent = rkv + dr
        switch kvB {
        case .split(let keys, _):
            let nope = ws.buffer("mla.qnope", H * T * dn)   // (H, T, dn)
            let lat = ws.buffer("mla.qlat.h", H * T * rkv)  // (H, T, r_kv)
            for t in 0..<T {
                for h in 0..<H { (nope + (h * T + t) * dn).update(from: q + t * H * qh + h * qh, count: dn) }
            }
            matmul((0..<H).map { h in MatmulJob(keys[h], nope + h * T * dn, tokens: T, lat + h * T * rkv) }, pool: pool)
            for t in 0..<T {
                for h in 0..<H { (out + (t * H + h) * latent).update(from: lat + (h * T + t) * rkv, count: rkv) }
            }
        case .combined(let m, _):
            pool.parallelFor(H) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: dn * rkv) { buf in
                    let wK = buf.baseAddress!  // (dn, r_kv): head h's key rows
                    for h in range {
                        for i in 0..<dn { m.dequantize(row: h * (dn + c.valueDim) + i, into: wK + i * rkv) }
                        for t in 0..<T {
                            let dst = out + (t * H + h) * latent, qn = q + t * H * qh + h * qh
                            dst.initialize(repeating: 0, count: rkv)
                            for i in 0..<dn { axpy(qn[i], wK + i * rkv, dst, count: rkv) }
                        }
                    }
                }
            }
        }
        for t in 0..<T {
            for h in 0..<H { (out + (t * H + h) * latent + rkv).update(from: q + t * H * qh + h * qh + dn, count: dr) }
        }
    }

    /// DSA indexer: `score[t,s] = sum_h w[t,h]·n^-1/2 · relu(qI[t,h]·kI[s] · d^-1/2)` over the
    /// causal keys of the row's own sequence; each query keeps its top `index_topk` keys (all
    /// of them while it has fewer). qI and kI get NeoX RoPE on their first qk_rope_head_dim
    /// dims; kI is LayerNorm'd (eps 1e-6, with bias) and cached (in each sequence's value slot).
    private func indexerSelect(_ ix: IndexerLayer, _ cfg: DeepseekConfig.IndexerConfig, qa: UnsafeMutablePointer<Float>,
                               xn: UnsafeMutablePointer<Float>, layout L: BatchLayout, caches: [UnsafeMutablePointer<Float>],
                               ropeTable: UnsafeMutablePointer<Float>, ws: inout Workspace, pool: ThreadPool) -> [[Int]] {
        let T = L.rows
        let nI = cfg.heads, dI = cfg.headDim, dr = config.ropeDim
        let q = ws.buffer("ix.q", T * nI * dI)
        let k = ws.buffer("ix.k", T * dI)
        let w = ws.buffer("ix.w", T * nI)
        matmul(ix.wqB, qa, tokens: T, q, pool: pool)
        matmul(ix.wk, xn, tokens: T, k, pool: pool)
        matmul(ix.weightsProj, xn, tokens: T, w, pool: pool)
        let headScale = 1 / Float(nI).squareRoot(), dotScale = 1 / Float(dI).squareRoot()
        let rope = indexerRope
        let segmentOf = L.segment, positionOf = L.position
        for t in 0..<T {
            let cs = ropeTable + t * dr
            layerNorm(k + t * dI, ix.kNormWeight, ix.kNormBias, count: dI, eps: 1e-6)
            rope.apply(k + t * dI, table: cs)
            for h in 0..<nI { rope.apply(q + (t * nI + h) * dI, table: cs) }
            for h in 0..<nI { w[t * nI + h] *= headScale }
            (caches[segmentOf[t]] + positionOf[t] * dI).update(from: k + t * dI, count: dI)
        }
        var result = [[Int]](repeating: [], count: T)
        result.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            pool.parallelFor(T) { range in
                for t in range {
                    let n = positionOf[t] + 1
                    if n <= cfg.topK {
                        (outBase + t).initialize(to: Array(0..<n))
                        continue
                    }
                    let cache = caches[segmentOf[t]]
                    var scores = [Float](repeating: 0, count: n)
                    for s in 0..<n {
                        var total: Float = 0
                        for h in 0..<nI {
                            let dot = dotF32(q + (t * nI + h) * dI, cache + s * dI, dI) * dotScale
                            total += w[t * nI + h] * max(0, dot)
                        }
                        scores[s] = total
                    }
                    let top = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(cfg.topK)
                    (outBase + t).initialize(to: top.sorted())
                }
            }
        }
        return result
    }

    /// `out = down(silu(gate x) * up x)` for `tokens` rows of x.
    private func runFeedForward(_ f: FeedForward, _ x: UnsafePointer<Float>, tokens: Int, into out: UnsafeMutablePointer<Float>,
                                ws: inout Workspace, pool: ThreadPool) {
        let width = f.gate.rows
        let g = ws.buffer("ffn.g", tokens * width)
        let u = ws.buffer("ffn.u", tokens * width)
        matmul([f.gate, f.up], x, tokens: tokens, [g, u], pool: pool)
        swiglu(g, u, count: tokens * width)
        matmul(f.down, g, tokens: tokens, out, pool: pool)
    }

    /// Routes each token to its experts, then runs every selected expert once over all the
    /// tokens that chose it (its weights are read once per step), plus the shared experts.
    private func runMoE(_ layer: DeepseekLayer, _ x: UnsafeMutablePointer<Float>, tokens T: Int, into out: UnsafeMutablePointer<Float>,
                        ws: inout Workspace, pool: ThreadPool) throws {
        let c = config, d = c.hiddenSize, E = c.routedExperts
        guard let router = layer.router else { return }
        let logits = ws.buffer("moe.logits", T * E)
        matmul(router, x, tokens: T, logits, pool: pool)
        var assignments = [[(token: Int, weight: Float)]](repeating: [], count: E)
        for t in 0..<T {
            for (e, w) in route(Array(UnsafeBufferPointer(start: logits + t * E, count: E)), bias: layer.routerBias) {
                assignments[e].append((t, w))
            }
        }
        // Every selected expert (and the shared ones) in two dispatches: all gate and up
        // products, then all down products. Expert e's rows sit at offset[e] in the gathered
        // buffers; the shared experts read x and write `out` directly.
        var offset = [Int](repeating: 0, count: E + 1)
        for e in 0..<E { offset[e + 1] = offset[e] + assignments[e].count }
        let rows = offset[E]
        let width = layer.experts.first?.gate.rows ?? 0
        let xs = ws.buffer("moe.x", max(1, rows * d))
        let ys = ws.buffer("moe.y", max(1, rows * d))
        let g = ws.buffer("moe.g", max(1, rows * width))
        let u = ws.buffer("moe.u", max(1, rows * width))
        var upJobs: [MatmulJob] = [], downJobs: [MatmulJob] = []
        for (e, list) in assignments.enumerated() where !list.isEmpty {
            let xe = xs + offset[e] * d, ge = g + offset[e] * width, ue = u + offset[e] * width
            for (k, a) in list.enumerated() { (xe + k * d).update(from: x + a.token * d, count: d) }
            upJobs += [MatmulJob(layer.experts[e].gate, xe, tokens: list.count, ge), MatmulJob(layer.experts[e].up, xe, tokens: list.count, ue)]
            downJobs.append(MatmulJob(layer.experts[e].down, ge, tokens: list.count, ys + offset[e] * d))
        }
        var sharedBuffers: (g: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>, width: Int)?
        if let shared = layer.shared {
            let sw = shared.gate.rows
            let sg = ws.buffer("moe.shared.g", T * sw), su = ws.buffer("moe.shared.u", T * sw)
            upJobs += [MatmulJob(shared.gate, x, tokens: T, sg), MatmulJob(shared.up, x, tokens: T, su)]
            downJobs.append(MatmulJob(shared.down, sg, tokens: T, out))
            sharedBuffers = (sg, su, sw)
        } else {
            out.initialize(repeating: 0, count: T * d)
        }
        matmul(upJobs, pool: pool)
        if rows > 0 { swiglu(g, u, count: rows * width) }
        if let sb = sharedBuffers { swiglu(sb.g, sb.u, count: T * sb.width) }
        matmul(downJobs, pool: pool)
        for (e, list) in assignments.enumerated() where !list.isEmpty {
            for (k, a) in list.enumerated() { axpy(a.weight, ys + (offset[e] + k) * d, out + a.token * d, count: d) }
        }
    }

    /// The experts and weights for one token's router logits (deepseek-math.md, "MoE").
    func route(_ logits: [Float], bias: [Float]?) -> [(Int, Float)] {
        let c = config, E = c.routedExperts, k = c.expertsPerToken
        let groupSize = E / c.groups
        func topIndices(_ v: [Float], _ n: Int) -> [Int] {
            Array(v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(n))
        }
        switch c.routing {
        case .softmaxGreedy, .softmaxGroupLimited:
            let m = logits.max() ?? 0
            let e = logits.map { expf($0 - m) }
            let sum = e.reduce(0, +)
            var s = e.map { $0 / sum }
            if c.routing == .softmaxGroupLimited && c.groups > 1 {
                let groupScores = (0..<c.groups).map { g in s[(g * groupSize)..<((g + 1) * groupSize)].max() ?? 0 }
                let keep = Set(topIndices(groupScores, c.topkGroups))
                for i in 0..<E where !keep.contains(i / groupSize) { s[i] = 0 }
            }
            return topIndices(s, k).map { ($0, s[$0] * c.routedScaling) }
        case .sigmoidNoAuxTC:
            let s = logits.map { 1 / (1 + expf(-$0)) }
            var choice = zip(s, bias ?? [Float](repeating: 0, count: E)).map { $0 + $1 }
            if c.groups > 1 {
                let groupScores = (0..<c.groups).map { g -> Float in
                    let top = choice[(g * groupSize)..<((g + 1) * groupSize)].sorted(by: >)
                    return top.prefix(2).reduce(0, +)
                }
                let keep = Set(topIndices(groupScores, c.topkGroups))
                for i in 0..<E where !keep.contains(i / groupSize) { choice[i] = -.infinity }
            }
            let idx = topIndices(choice, k)
            var w = idx.map { s[$0] }
            if c.normalizeTopK {
                let sum = w.reduce(0, +) + 1e-20
                w = w.map { $0 / sum }
            }
            return zip(idx, w.map { $0 * c.routedScaling }).map { ($0, $1) }
        }
    }
}
