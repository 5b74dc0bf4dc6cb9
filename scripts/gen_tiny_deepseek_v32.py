#!/usr/bin/env python3
"""Generate a tiny random-weight DeepSeek-V3.2 (DSA indexer) model folder + reference outputs.

Writes Tests/Fixtures/deepseek/v32-tiny/ with the same layout and conventions as scripts/gen_tiny_deepseek.py
(whose tokenizer, prompts, greedy, routing and float64 helpers it imports; that script's outputs are untouched):

  config.json, generation_config.json, model.safetensors (F32, save_pretrained), tokenizer.json (byte-level,
  token id == byte value), tokenizer_config.json, reference.json

Model: DeepseekV32ForCausalLM, otherwise exactly v3-tiny: vocab 256, hidden 64, 4 heads, qk_nope 16, qk_rope 8,
v_head 16, q_lora_rank 24, kv_lora_rank 32, intermediate 96, moe_intermediate 32, 3 layers, first_k_dense_replace 1,
8 routed experts top-2, sigmoid + noaux_tc routing (n_group 4, topk_group 2), 1 shared expert, norm_topk_prob,
routed_scaling_factor 2.5, random non-zero e_score_correction_bias, YaRN (factor 4, original_max_position_embeddings
128, beta_fast 32, beta_slow 1, mscale 1, mscale_all_dim 1), rope_theta 10000, MLA RoPE interleaved (the V3.2 class
has no rope_interleave switch: always interleaved).  Plus the lightning indexer in every layer:
index_n_heads 8, index_head_dim 16, index_topk 8.

Why 8 indexer heads and not 4: the indexer score is sum_h w_h * relu(q_h . k), so a key whose dot product is <= 0
in every head scores exactly 0.  With 4 heads that is 1/16 of all keys, and whenever fewer than index_topk keys score
> 0 the top-k boundary falls inside a block of exact ties at 0; torch.topk then picks different tied keys for the
full [T, T] pass and the cached [1, T] decode pass (cached-vs-full logit differences of 1..12 in every seed tried).
With 8 heads (1/256 of keys at exactly 0) the chosen seed has no near-tie anywhere (see sanity.indexer_min_margin).

Indexer (per layer, transformers 5.24 DeepseekV32Indexer; x = input_layernorm output, the same input as MLA):
  q_res = q_a_layernorm(q_a_proj(x))                                   (the MLA's own q_lora residual)
  q     = indexer.wq_b(q_res)  -> [T, n_I, d_I]
  k     = indexer.k_norm(indexer.wk(x))  -> [T, d_I]                   (LayerNorm, eps 1e-6, weight + bias)
  RoPE  on dims [0, qk_rope_head_dim) of q (every head) and k, NeoX half-split (rotate_half), with the same
        cos/sin (YaRN inv_freq, times attention_scaling = 1.0 here) as MLA; dims [8, 16) pass through
  w     = indexer.weights_proj(x) * n_I^-0.5  -> [T, n_I]              (float32)
  score[s, t] = sum_h w[s, h] * relu(q[s, h] . k[t] * d_I^-0.5),  t <= s (future keys: + finfo.min / -inf)
  sel[s] = topk(score[s], min(index_topk, T)); MLA then masks (finfo.min) every key not in sel[s]
  For s + 1 <= index_topk every causal key is kept.  The query's own key is not forced in.

reference.json: the schema of gen_tiny_deepseek.py ("model", "class", "transformers", "torch", "rope", "prompts",
"routing", "attention_probe", "sanity") plus
  "indexer": {"n_heads", "head_dim", "topk", "rope_dims", "softmax_scale" (d_I^-0.5), "weights_scale" (n_I^-0.5),
              "k_norm_eps"},
  per prompt:
    "greedy_method":       "generate(use_cache=True)" when the cached greedy equals the full-recompute greedy and
                           the cached logits are within 1e-4 of recompute, else "full recompute" (then "greedy" is
                           the full-recompute greedy),
    "indexer_topk":        layer 0, [[sorted selected key ids] per query position] of the full prompt forward
                           (only causal keys: positions s < index_topk list 0..s),
    "indexer_topk_by_layer": the same for every layer [[[...] per position] per layer],
    "indexer_topk_decode": layer 0 selections for the 15 positions T .. T+14 (tokens greedy[0..14]) from one full
                           forward over prompt + greedy[:-1] (what a cached decode must select),
    "indexer_min_margin":  smallest gap between the index_topk-th and next score over all layers and all queries
                           with more than index_topk causal keys (prompt forward and prompt+greedy forward),
    "masked_fraction":     masked causal (query, key) pairs / causal pairs, layer 0,
    "sparse_vs_dense_max_abs_diff": max |logits - logits with index_topk >= T| over positions >= index_topk
                           ("..._before_topk": the same over positions < index_topk, float32 noise only),
  "indexer_probe": {"layer": 0, "prompt": 0, "q": [[n_I*d_I] per position] (after RoPE), "k": [[d_I] per position]
                    (after LayerNorm + RoPE), "weights": [[n_I] per position] (incl. n_I^-0.5),
                    "scores": [[T floats, null for t > s] per position]},
  "sanity" additionally: "indexer_masked_fraction" per prompt (all layers), "indexer_recent_fraction" (selected keys
                    that are among the index_topk most recent, queries s >= index_topk) vs the same for a uniformly
                    random choice, "indexer_self_included" (fraction of such queries that keep their own key),
                    "indexer_layer_jaccard" (mean Jaccard of the selections of layer pairs 0-1, 0-2, 1-2),
                    "indexer_head_jaccard" (mean Jaccard between the top-k sets each single head would pick),
                    "indexer_sensitivity": {variant: [queries whose layer-0 selection changes, queries]} for common
                    implementation mistakes (float64, both prompts),
                    "dense_equals_v3_max_abs_diff": DeepseekV3ForCausalLM on the same weights (no indexer) vs this
                    model with index_topk >= T.

Checks: reload bit-identical, legacy config form (top-level rope_theta + rope_scaling {"type": "yarn"}, no head_dim /
qk_head_dim / layer_types / mlp_layer_types) bit-identical, the module's top-k equals a re-derivation from the hooked
inputs, index_topk >= T changes the logits at positions >= index_topk (and those before only by float32 noise,
<= 1e-5), with index_topk >= T the model equals DeepseekV3ForCausalLM on the same weights, and an independent float64 numpy
forward from the saved files (logits, routing, attention probe, indexer probe within 1e-4; every layer's selections
and the float64 full-recompute greedy identical).

Deterministic (fixed seed, torch 1 thread): running it twice gives byte-identical files.  Regenerate with

    /work/refenv/bin/python scripts/gen_tiny_deepseek_v32.py

Options: --out DIR (default Tests/Fixtures/deepseek).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

sys.dont_write_bytecode = True  # importing the sibling script must not leave files behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_tiny_deepseek as base  # noqa: E402  (also sets torch to 1 thread + deterministic algorithms)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    DeepseekV3Config,
    DeepseekV3ForCausalLM,
    DeepseekV32Config,
    DeepseekV32ForCausalLM,
)

NAME = "v32-tiny"
SEED = 3319
MIN_INDEX_MARGIN = 2e-4  # index scores are O(1); float32 noise ~1e-6
CACHED_TOL = 1e-4

INDEX = dict(index_n_heads=8, index_head_dim=16, index_topk=8)
CONFIG = dict(
    q_lora_rank=24,
    n_group=4,
    topk_group=2,
    n_shared_experts=1,
    norm_topk_prob=True,
    routed_scaling_factor=2.5,
    scoring_func="sigmoid",  # not read by the class; present in real checkpoints
    topk_method="noaux_tc",
    num_nextn_predict_layers=0,  # no MTP weights written
    rope_parameters=dict(
        rope_type="yarn",
        rope_theta=10000.0,
        factor=4.0,
        original_max_position_embeddings=128,
        beta_fast=32,
        beta_slow=1,
        mscale=1.0,
        mscale_all_dim=1.0,
    ),
    **INDEX,
)
SPEC = {"cls": "v3"}  # for the shared helpers: V3.2 routing is V3's sigmoid + noaux_tc


def gain_for(name: str) -> float:
    if name.endswith("indexer.wq_b.weight"):
        return 1.6
    if name.endswith("indexer.wk.weight"):
        return 1.0
    if name.endswith("indexer.weights_proj.weight"):
        return 1.0
    return base.gain_for(name)


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """As gen_tiny_deepseek.init_weights, plus the indexer: LayerNorm bias ~ N(0, 0.2^2)."""
    gen = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    with torch.no_grad():
        for name in sorted(sd):
            t = sd[name]
            if name.endswith("e_score_correction_bias"):
                v = torch.randn(t.shape, generator=gen) * 0.1
            elif name.endswith("k_norm.bias"):
                v = torch.randn(t.shape, generator=gen) * 0.2
            elif name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                v = 1.0 + 0.1 * torch.randn(t.shape, generator=gen)
            elif name.endswith("embed_tokens.weight"):
                v = torch.randn(t.shape, generator=gen)
            elif name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
                v = torch.randn(t.shape, generator=gen) * (gain_for(name) / math.sqrt(t.shape[-1]))
            elif t.dim() == 2:
                v = torch.randn(t.shape, generator=gen) * (gain_for(name) / math.sqrt(t.shape[1]))
            else:
                raise RuntimeError(f"no init rule for {name} {tuple(t.shape)}")
            t.copy_(v.to(t.dtype))


def build_config(**over):
    kw = dict(base.COMMON)
    kw.update(json.loads(json.dumps(CONFIG)))
    kw.update(over)
    return DeepseekV32Config(**kw)


def build_model(seed: int = SEED):
    torch.manual_seed(seed)
    model = DeepseekV32ForCausalLM._from_config(build_config(), attn_implementation="eager",
                                                experts_implementation="eager").to(torch.float32)
    init_weights(model, seed)
    model.eval()
    return model


def load_folder(folder: str, config=None, cls=DeepseekV32ForCausalLM):
    kw = dict(dtype=torch.float32, attn_implementation="eager", experts_implementation="eager")
    if config is not None:
        kw["config"] = config
    model = cls.from_pretrained(folder, **kw)
    model.eval()
    return model


def legacy_config(folder: str):
    """config.json the way released V3.2 checkpoints write it: rope_theta + rope_scaling, no derived fields."""
    with open(os.path.join(folder, "config.json")) as f:
        d = json.load(f)
    rp = dict(d.pop("rope_parameters"))
    for k in ("head_dim", "qk_head_dim", "layer_types", "mlp_layer_types"):
        d.pop(k, None)
    d["rope_theta"] = rp.pop("rope_theta")
    d["rope_scaling"] = dict(type=rp.pop("rope_type"), **rp)
    return DeepseekV32Config.from_dict(d)


# ---------------------------------------------------------------------------------------------------
# indexer re-derivation (torch, float32) from the hooked module inputs


def rotate_half_rope(x, cos, sin):
    """NeoX half-split rotation; cos/sin [..., dr] = cat(freqs, freqs) * attention_scaling."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


@torch.no_grad()
def indexer_terms(ix, x, q_res, cos, sin, allowed):
    """q [S, nI, dI], k [T, dI], w [S, nI], per-head weighted scores [S, nI, T], scores [S, T] (-inf where masked)."""
    dr = ix.qk_rope_head_dim
    S = x.shape[1]
    q = ix.wq_b(q_res)[0].view(S, ix.n_heads, ix.head_dim)
    k = ix.k_norm(ix.wk(x))[0]
    c, s_ = cos[0], sin[0]
    q = torch.cat((rotate_half_rope(q[..., :dr], c[:, None], s_[:, None]), q[..., dr:]), -1)
    k = torch.cat((rotate_half_rope(k[..., :dr], c, s_), k[..., dr:]), -1)
    w = ix.weights_proj(x)[0].float() * ix.n_heads ** -0.5
    dots = F.relu(torch.einsum("shd,td->sht", q, k) * ix.softmax_scale)  # [S, nI, T]
    per = dots * w[..., None]
    sc = torch.matmul(w.unsqueeze(-2), dots).squeeze(-2)
    sc = sc.masked_fill(~allowed, -math.inf)
    return q, k, w, per.masked_fill(~allowed[:, None, :], -math.inf), sc


class IndexerTap:
    """Forward hooks on every layer's indexer: re-derive scores, check the module's top-k against them."""

    def __init__(self, model):
        self.model = model
        self.records: list[dict] = []
        self.active = False  # only full (no cache) forwards started by run() are inspected
        self.handles = [l.self_attn.indexer.register_forward_hook(self._hook(i), with_kwargs=True)
                        for i, l in enumerate(model.model.layers)]

    def _hook(self, layer):
        def fn(mod, args, kwargs, out):
            if not self.active:
                return
            x, q_res, (cos, sin), mask = args[:4]
            allowed = mask[0] if mask.dtype == torch.bool else mask[0] == 0
            q, k, w, per, sc = indexer_terms(mod, x, q_res, cos, sin, allowed)
            topk = out[0].long()
            K = mod.index_topk
            sel, margins = [], []
            for s in range(sc.shape[0]):
                causal = int(allowed[s].sum())
                got = sorted(t for t in topk[s].tolist() if allowed[s, t])
                mine = sorted(sc[s].topk(min(K, sc.shape[1])).indices.tolist())
                mine = sorted(t for t in mine if allowed[s, t])
                if got != mine:
                    raise SystemExit(f"layer {layer} query {s}: module top-k {got} != re-derived {mine}")
                if len(got) != min(K, causal):
                    raise SystemExit(f"layer {layer} query {s}: {len(got)} keys selected of {causal}")
                sel.append(got)
                if causal > K:
                    v = sc[s][allowed[s]].sort(descending=True).values
                    margins.append(float(v[K - 1] - v[K]))
            self.records.append(dict(layer=layer, q=q, k=k, w=w, per=per, scores=sc, allowed=allowed, sel=sel,
                                     margin=min(margins) if margins else math.inf))
        return fn

    @torch.no_grad()
    def run(self, tokens):
        self.records, self.active = [], True
        try:
            logits = self.model(input_ids=torch.tensor([tokens]), use_cache=False).logits[0]
        finally:
            self.active = False
        return logits, list(self.records)

    def remove(self):
        for h in self.handles:
            h.remove()


# ---------------------------------------------------------------------------------------------------
# greedy


@torch.no_grad()
def greedy_full(model, tokens):
    toks, gen = list(tokens), []
    for _ in range(base.GREEDY_STEPS):
        gen.append(int(base.full_logits(model, toks)[-1].argmax()))
        toks.append(gen[-1])
    return gen


def jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


@torch.no_grad()
def reference(model, folder: str) -> dict:
    cfg = model.config
    K = cfg.index_topk
    ref = base.reference(model, NAME, SPEC)  # logits, cached greedy, routing, attention probe, V3 sanity
    ref["indexer"] = {
        "n_heads": cfg.index_n_heads,
        "head_dim": cfg.index_head_dim,
        "topk": K,
        "rope_dims": cfg.qk_rope_head_dim,
        "softmax_scale": float(model.model.layers[0].self_attn.indexer.softmax_scale),
        "weights_scale": cfg.index_n_heads ** -0.5,
        "k_norm_eps": float(model.model.layers[0].self_attn.indexer.k_norm.eps),
    }
    dense = load_folder(folder, config=build_config(index_topk=512))
    tap = IndexerTap(model)
    s = ref["sanity"]
    s.update(indexer_masked_fraction=[], indexer_recent_fraction=[], indexer_recent_fraction_random=[],
             indexer_self_included=[], indexer_layer_jaccard=[], indexer_head_jaccard=[], indexer_min_margin=math.inf)
    for pi, pr in enumerate(ref["prompts"]):
        tokens = pr["tokens"]
        T = len(tokens)
        logits, recs = tap.run(tokens)
        if not torch.equal(logits, torch.tensor(pr["logits"], dtype=torch.float32)):
            raise SystemExit("prompt forward not reproducible")
        # greedy: cached generate vs full recompute
        full_gen = greedy_full(model, tokens)
        if full_gen == pr["greedy"] and pr["cached_vs_full_max_abs_diff"] <= CACHED_TOL:
            pr["greedy_method"] = "generate(use_cache=True)"
        else:
            print(f"  WARNING prompt {pi}: cached greedy {pr['greedy']} (max |d| {pr['cached_vs_full_max_abs_diff']:.3g})"
                  f" vs full recompute {full_gen}: using full recompute")
            pr["greedy"] = full_gen
            pr["greedy_method"] = "full recompute"
        _, recs_ext = tap.run(tokens + pr["greedy"][:-1])
        for a, b in zip(recs, recs_ext):
            if b["sel"][:T] != a["sel"]:
                print(f"  WARNING prompt {pi} layer {a['layer']}: prompt selections change with the continuation")
        pr["indexer_topk"] = recs[0]["sel"]
        pr["indexer_topk_by_layer"] = [r["sel"] for r in recs]
        pr["indexer_topk_decode"] = recs_ext[0]["sel"][T:]
        pr["indexer_min_margin"] = min(r["margin"] for r in recs + recs_ext)
        causal_pairs = T * (T + 1) // 2
        pr["masked_fraction"] = 1.0 - sum(len(x) for x in recs[0]["sel"]) / causal_pairs
        dl = base.full_logits(dense, tokens)
        # positions < index_topk keep every key either way; they can differ only in the last bits (MoE experts
        # batch different token sets once later rows route differently)
        pr["sparse_vs_dense_max_abs_diff_before_topk"] = float((dl[:K] - logits[:K]).abs().max())
        if pr["sparse_vs_dense_max_abs_diff_before_topk"] > 1e-5:
            raise SystemExit("index_topk >= T changed positions < index_topk")
        pr["sparse_vs_dense_max_abs_diff"] = float((dl[K:] - logits[K:]).abs().max()) if T > K else 0.0
        if T > K and pr["sparse_vs_dense_max_abs_diff"] == 0.0:
            raise SystemExit("the top-k mask has no effect")

        s["indexer_min_margin"] = min(s["indexer_min_margin"], pr["indexer_min_margin"])
        s["indexer_masked_fraction"].append(
            1.0 - sum(len(x) for r in recs for x in r["sel"]) / (causal_pairs * len(recs)))
        late = range(K, T)
        rec_f = [len(set(r["sel"][q]) & set(range(q + 1 - K, q + 1))) / K for r in recs for q in late]
        s["indexer_recent_fraction"].append(float(np.mean(rec_f)))
        s["indexer_recent_fraction_random"].append(float(np.mean([K / (q + 1) for q in late])))
        s["indexer_self_included"].append(float(np.mean([q in r["sel"][q] for r in recs for q in late])))
        s["indexer_layer_jaccard"].append([float(np.mean([jaccard(recs[a]["sel"][q], recs[b]["sel"][q]) for q in late]))
                                           for a, b in ((0, 1), (0, 2), (1, 2))])
        hj = []
        for r in recs:
            for q in late:
                hs = [set(r["per"][q, h].topk(K).indices.tolist()) for h in range(cfg.index_n_heads)]
                hj += [jaccard(hs[a], hs[b]) for a in range(len(hs)) for b in range(a + 1, len(hs))]
        s["indexer_head_jaccard"].append(float(np.mean(hj)))
        if pi == 0:
            r0 = recs[0]
            ref["indexer_probe"] = {
                "layer": 0,
                "prompt": 0,
                "q": base.floats(r0["q"].reshape(T, -1)),
                "k": base.floats(r0["k"]),
                "weights": base.floats(r0["w"]),
                "scores": [[float(np.float32(v)) if t <= q else None for t, v in enumerate(row)]
                           for q, row in enumerate(r0["scores"].tolist())],
            }
    tap.remove()

    # with every key kept the model must be DeepSeek-V3 (same weights, indexer unused)
    v3cfg = dict(base.COMMON)
    v3cfg.update({k: v for k, v in json.loads(json.dumps(CONFIG)).items() if not k.startswith("index_")})
    v3 = DeepseekV3ForCausalLM._from_config(DeepseekV3Config(rope_interleave=True, **v3cfg),
                                            attn_implementation="eager", experts_implementation="eager").float().eval()
    sd = {k: v for k, v in model.state_dict().items() if ".indexer." not in k}
    v3.load_state_dict(sd, strict=True)
    s["dense_equals_v3_max_abs_diff"] = max(
        float((base.full_logits(v3, p["tokens"]) - base.full_logits(dense, p["tokens"])).abs().max())
        for p in ref["prompts"])
    return ref


# ---------------------------------------------------------------------------------------------------
# independent float64 numpy forward (MLA + MoE as in deepseek-math.md, plus the DSA indexer)


def _np_layernorm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _np_rope_half(x, inv, att):
    """NeoX half-split rotation of x [T, ..., dr] at positions 0..T-1."""
    ang = np.arange(x.shape[0])[:, None] * inv[None, :]
    c, s = np.cos(ang) * att, np.sin(ang) * att
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (inv.shape[0],)
    c, s = c.reshape(shape), s.reshape(shape)
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return np.concatenate([a * c - b * s, b * c + a * s], -1)


def _np_rope_adjacent(x, inv, att):
    ang = np.arange(x.shape[0])[:, None] * inv[None, :]
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (inv.shape[0],)
    c, s = (np.cos(ang) * att).reshape(shape), (np.sin(ang) * att).reshape(shape)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def np_indexer(cfg, W, p, h, q_res, inv, att, variant=None):
    """Returns q [T, nI, dI], k [T, dI], w [T, nI], scores [T, T] (-inf for t > s), selections."""
    nI, dI, K, dr = cfg["index_n_heads"], cfg["index_head_dim"], cfg["index_topk"], cfg["qk_rope_head_dim"]
    T = h.shape[0]
    pre = p + "self_attn.indexer."
    q = (q_res @ W[pre + "wq_b.weight"].T).reshape(T, nI, dI)
    bias = 0.0 if variant == "no_k_norm_bias" else W[pre + "k_norm.bias"]
    k = _np_layernorm(h @ W[pre + "wk.weight"].T, W[pre + "k_norm.weight"], bias, 1e-6)
    if variant == "rope_interleaved":
        rot, sl = _np_rope_adjacent, slice(0, dr)
    elif variant == "rope_on_last_dims":
        rot, sl = _np_rope_half, slice(dI - dr, dI)
    else:
        rot, sl = _np_rope_half, slice(0, dr)
    q, k = q.copy(), k.copy()
    q[..., sl] = rot(q[..., sl], inv, att)
    k[..., sl] = rot(k[..., sl], inv, att)
    w = h @ W[pre + "weights_proj.weight"].T * nI ** -0.5
    if variant == "unweighted_heads":
        w = np.ones_like(w)
    dots = np.einsum("shd,td->sht", q, k) * dI ** -0.5
    if variant != "no_relu":
        dots = np.maximum(dots, 0.0)
    sc = np.einsum("sh,sht->st", w, dots)
    sc = np.where(np.tril(np.ones((T, T), bool)), sc, -np.inf)
    sel = []
    for s in range(T):
        if s + 1 <= K:
            sel.append(list(range(s + 1)))
        else:
            sel.append(sorted(int(t) for t in np.argsort(-sc[s, : s + 1], kind="stable")[:K]))
    return q, k, w, sc, sel


def np_forward(cfg, W, tokens, trace=None, variant=None):
    H, dn, dr, dv = (cfg[k] for k in ("num_attention_heads", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"))
    rkv, eps = cfg["kv_lora_rank"], cfg["rms_norm_eps"]
    inv, att, scale = base.np_rope_params(cfg)
    route_cfg = dict(cfg, model_type="deepseek_v3")  # V3.2 routing == V3 routing
    T = len(tokens)
    sels = []

    def mlp(pre, z):
        return (base._np_silu(z @ W[pre + "gate_proj.weight"].T) * (z @ W[pre + "up_proj.weight"].T)) @ \
            W[pre + "down_proj.weight"].T

    x = W["model.embed_tokens.weight"][tokens]
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        h = base._np_rms(x, W[p + "input_layernorm.weight"], eps)
        qa = base._np_rms(h @ W[p + "self_attn.q_a_proj.weight"].T, W[p + "self_attn.q_a_layernorm.weight"], 1e-6)
        q = (qa @ W[p + "self_attn.q_b_proj.weight"].T).reshape(T, H, dn + dr).transpose(1, 0, 2)
        c = h @ W[p + "self_attn.kv_a_proj_with_mqa.weight"].T
        ckv = base._np_rms(c[:, :rkv], W[p + "self_attn.kv_a_layernorm.weight"], 1e-6)
        k_pe = base._np_rope(c[:, rkv:], inv, att)
        kv = (ckv @ W[p + "self_attn.kv_b_proj.weight"].T).reshape(T, H, dn + dv).transpose(1, 0, 2)
        q_pe = base._np_rope(q[..., dn:], inv, att)
        sc = (np.einsum("htd,hsd->hts", q[..., :dn], kv[..., :dn]) + np.einsum("htd,sd->hts", q_pe, k_pe)) * scale
        iq, ik, iw, isc, sel = np_indexer(cfg, W, p, h, qa, inv, att, variant)
        allowed = np.zeros((T, T), bool)
        for s, ks in enumerate(sel):
            allowed[s, ks] = True
        sels.append(sel)
        if trace is not None and L == 0:
            trace["indexer0"] = (iq, ik, iw, isc)
        sc = np.where(allowed[None], sc, -np.inf)
        P = np.exp(sc - sc.max(-1, keepdims=True))
        P /= P.sum(-1, keepdims=True)
        o = np.einsum("hts,hsd->thd", P, kv[..., dn:]).reshape(T, H * dv) @ W[p + "self_attn.o_proj.weight"].T
        if trace is not None and L == 0:
            trace["attn0"] = o
        x = x + o
        h = base._np_rms(x, W[p + "post_attention_layernorm.weight"], eps)
        if L < cfg["first_k_dense_replace"]:
            y = mlp(p + "mlp.", h)
        else:
            logits = h @ W[p + "mlp.gate.weight"].T
            y = mlp(p + "mlp.shared_experts.", h)
            routes = []
            for t in range(T):
                idx, w = base._np_route(route_cfg, W, p, logits[t])
                routes.append((idx, w))
                for e, we in zip(idx, w):
                    y[t] += we * mlp(p + f"mlp.experts.{e}.", h[t: t + 1])[0]
            if trace is not None and "routing" not in trace:
                trace["routing"] = (routes, logits)
        x = x + y
    if trace is not None:
        trace["sel"] = sels
    return base._np_rms(x, W["model.norm.weight"], eps) @ W["lm_head.weight"].T


SENSITIVITY = ("no_k_norm_bias", "rope_interleaved", "rope_on_last_dims", "no_relu", "unweighted_heads")


def numpy_check(folder: str, ref: dict) -> str:
    from safetensors.numpy import load_file

    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
    inv, att, scale = base.np_rope_params(cfg)
    r = ref["rope"]
    assert np.allclose(inv, r["inv_freq"], rtol=1e-6, atol=0) and abs(att - r["attention_factor"]) < 1e-12
    assert abs(scale - r["softmax_scale"]) < 1e-9 * scale
    K = cfg["index_topk"]
    worst = 0.0
    sens = {v: [0, 0] for v in SENSITIVITY}
    for pi, pr in enumerate(ref["prompts"]):
        trace = {}
        logits = np_forward(cfg, W, pr["tokens"], trace)
        worst = max(worst, float(np.abs(logits - np.array(pr["logits"])).max()))
        if trace["sel"] != pr["indexer_topk_by_layer"]:
            raise SystemExit(f"{folder}: prompt {pi}: float64 indexer selections differ from the reference")
        toks, gen = list(pr["tokens"]), []
        for _ in range(base.GREEDY_STEPS):
            gen.append(int(np_forward(cfg, W, toks)[-1].argmax()))
            toks.append(gen[-1])
        if gen != pr["greedy"]:
            raise SystemExit(f"{folder}: prompt {pi}: float64 greedy {gen} != reference {pr['greedy']}")
        t2 = {}
        np_forward(cfg, W, pr["tokens"] + pr["greedy"][:-1], t2)
        if t2["sel"][0][len(pr["tokens"]):] != pr["indexer_topk_decode"]:
            raise SystemExit(f"{folder}: prompt {pi}: float64 decode selections differ from the reference")
        for v in SENSITIVITY:
            tv = {}
            np_forward(cfg, W, pr["tokens"], tv, variant=v)
            late = range(K, len(pr["tokens"]))
            sens[v][0] += sum(tv["sel"][0][q] != pr["indexer_topk"][q] for q in late)
            sens[v][1] += len(late)
        if pi == 0:
            routes, rl = trace["routing"]
            R = ref["routing"]
            if [[int(e) for e in idx] for idx, _ in routes] != R["experts"]:
                raise SystemExit(f"{folder}: float64 routing differs from the reference")
            iq, ik, iw, isc = trace["indexer0"]
            probe = ref["indexer_probe"]
            T = len(pr["tokens"])
            ps = np.array([[v if v is not None else -np.inf for v in row] for row in probe["scores"]])
            fin = np.isfinite(isc)
            assert (fin == np.isfinite(ps)).all()
            worst = max(worst, float(np.abs(np.array([w for _, w in routes]) - np.array(R["weights"])).max()),
                        float(np.abs(rl - np.array(R["router_logits"])).max()),
                        float(np.abs(trace["attn0"] - np.array(ref["attention_probe"]["output"])).max()),
                        float(np.abs(iq.reshape(T, -1) - np.array(probe["q"])).max()),
                        float(np.abs(ik - np.array(probe["k"])).max()),
                        float(np.abs(iw - np.array(probe["weights"])).max()),
                        float(np.abs(isc[fin] - ps[fin]).max()))
    if worst > 1e-4:
        raise SystemExit(f"{folder}: float64 numpy forward differs from the reference by {worst:.3g}")
    ref["sanity"]["indexer_sensitivity"] = sens
    return (f"float64 numpy cross-check: max |d| {worst:.2g} (logits, routing, attention + indexer probes), "
            f"selections (all layers, prompt + decode) and greedy equal")


# ---------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=base.DEFAULT_OUT)
    args = ap.parse_args()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    folder = os.path.join(args.out, NAME)
    model = build_model()
    base.save_model(model, folder)
    base.check_tokenizer(folder)

    loaded = load_folder(folder)
    base.assert_same_logits(model, loaded, f"{NAME}: reload")
    legacy = load_folder(folder, config=legacy_config(folder))
    assert torch.equal(legacy.model.rotary_emb.inv_freq, loaded.model.rotary_emb.inv_freq)
    assert legacy.model.layers[0].self_attn.scaling == loaded.model.layers[0].self_attn.scaling
    assert legacy.config.mlp_layer_types == loaded.config.mlp_layer_types
    base.assert_same_logits(loaded, legacy, f"{NAME}: legacy rope_theta/rope_scaling config")

    ref = reference(loaded, folder)
    check_msg = numpy_check(folder, ref)
    base.write_json(os.path.join(folder, "reference.json"), ref)
    size = base.folder_size(folder)
    if size > base.MAX_FOLDER_BYTES:
        raise SystemExit(f"{folder}: {size} bytes > {base.MAX_FOLDER_BYTES}")

    s = ref["sanity"]
    if min(p["greedy_min_margin"] for p in ref["prompts"]) < base.MIN_LOGIT_MARGIN:
        print(f"  WARNING {NAME}: greedy near-tie")
    for key in ("min_group_margin", "min_expert_margin"):
        if s[key] < base.MIN_ROUTING_MARGIN:
            print(f"  WARNING {NAME}: routing near-tie ({key} = {s[key]:.3g})")
    if s["indexer_min_margin"] < MIN_INDEX_MARGIN:
        print(f"  WARNING {NAME}: indexer top-k near-tie ({s['indexer_min_margin']:.3g})")
    print(f"{NAME}: {size} bytes; softmax_scale {ref['rope']['softmax_scale']:.6f}, "
          f"attention_factor {ref['rope']['attention_factor']}")
    for p in ref["prompts"]:
        print(f"  prompt len {len(p['tokens'])}: greedy {p['greedy']} ({p['greedy_method']}) "
              f"min margin {p['greedy_min_margin']:.4f} cached-vs-full {p['cached_vs_full_max_abs_diff']:.3g}; "
              f"indexer min margin {p['indexer_min_margin']:.3g}, layer-0 masked {p['masked_fraction']:.3f}, "
              f"sparse vs dense {p['sparse_vs_dense_max_abs_diff']:.3g}")
    print(f"  experts used {s['experts_used']}; min group margin {s['min_group_margin']:.4g}, "
          f"min expert margin {s['min_expert_margin']:.4g}; tokens changed by bias {s['tokens_changed_by_bias']}")
    print(f"  indexer: masked (all layers) {['%.3f' % v for v in s['indexer_masked_fraction']]}, recent "
          f"{['%.3f' % v for v in s['indexer_recent_fraction']]} (random "
          f"{['%.3f' % v for v in s['indexer_recent_fraction_random']]}), self kept "
          f"{['%.2f' % v for v in s['indexer_self_included']]}, layer jaccard "
          f"{[['%.2f' % v for v in x] for x in s['indexer_layer_jaccard']]}, head jaccard "
          f"{['%.2f' % v for v in s['indexer_head_jaccard']]}")
    print(f"  sensitivity (layer-0 selections changed / queries): {s['indexer_sensitivity']}; "
          f"dense == V3: max |d| {s['dense_equals_v3_max_abs_diff']:.3g}")
    print(f"  attention mean max prob {['%.3f' % v for v in s['attention_mean_max_prob']]} "
          f"(uniform {['%.3f' % v for v in s['attention_uniform_mean_max_prob']]})")
    print(f"  {check_msg}")


if __name__ == "__main__":
    main()
