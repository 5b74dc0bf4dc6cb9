#!/usr/bin/env python3
"""Generate tiny random-weight DeepSeek V2/V3 Hugging Face model folders + reference outputs.

Writes, under Tests/Fixtures/deepseek/<name>/:

  config.json               as transformers 5 writes it (rope_parameters, head_dim = qk_rope_head_dim, ...)
  generation_config.json    written by save_pretrained (bos 0, eos 1)
  model.safetensors         F32, written by save_pretrained: real checkpoint tensor names, per-expert
                            mlp.experts.{e}.{gate,up,down}_proj.weight, mlp.gate.e_score_correction_bias (V3)
  tokenizer.json            minimal byte-level BPE: the 256 GPT-2 byte-level characters in byte order
                            (token id == byte value), no merges, ByteLevel pre-tokenizer
                            (add_prefix_space false, use_regex false) and ByteLevel decoder
  tokenizer_config.json     PreTrainedTokenizerFast, bos = id 0, eos = id 1
  reference.json            reference outputs computed by transformers from the saved folder

Models (all: vocab 256, hidden 64, 4 heads, qk_nope 16, qk_rope 8, v_head 16, kv_lora_rank 32,
intermediate 96, moe_intermediate 32, 8 routed experts, top-2, 3 layers, first_k_dense_replace 1,
max_position_embeddings 512, rms_norm_eps 1e-6, untied, no attention bias):

  v3-tiny       DeepseekV3ForCausalLM, q_lora_rank 24, sigmoid + noaux_tc routing, n_group 4, topk_group 2,
                1 shared expert, norm_topk_prob, routed_scaling_factor 2.5, random non-zero
                e_score_correction_bias, YaRN (factor 4, original_max_position_embeddings 128,
                beta_fast 32, beta_slow 1, mscale 1, mscale_all_dim 1), rope_theta 10000, rope_interleave true
  v2-lite-tiny  DeepseekV2ForCausalLM, q_lora_rank null (q_proj), softmax + greedy routing, 2 shared experts,
                routed_scaling_factor 1.0, norm_topk_prob false, no rope scaling
  v2-glg-tiny   DeepseekV2ForCausalLM, q_lora_rank 24, softmax + group_limited_greedy (n_group 4,
                topk_group 2), 1 shared expert, routed_scaling_factor 1.5, YaRN with mscale = mscale_all_dim
                = 0.707 (softmax scale multiplied by (0.1*0.707*ln 4 + 1)^2, cos/sin factor 1.0)

With --sharded, additionally writes Tests/Fixtures/deepseek/v3-tiny-sharded/: the same v3-tiny weights
saved in 3 shards (model-0000k-of-00003.safetensors + model.safetensors.index.json), same config and
tokenizer, no reference.json (it equals v3-tiny's).

reference.json:
  {"model", "class", "transformers", "torch",
   "rope": {"inv_freq": [dr/2], "attention_factor": cos/sin multiplier, "softmax_scale": q.k multiplier},
   "prompts": [{"tokens": [ids],
                "logits": [[256 floats] per position]   full forward over the prompt (no cache),
                "greedy": [16 ids]                     model.generate(do_sample=False, use_cache=True,
                                                       max_new_tokens=16), EOS stopping disabled,
                "greedy_min_margin":                   min over the 16 steps of top1 - top2 logit
                                                       (full recompute); small = fragile,
                "cached_vs_full_max_abs_diff":         max |logits(cached incremental decode) -
                                                       logits(one full forward over prompt+greedy[:-1])|
                                                       over the 16 greedy steps}, ...],   (12 and 40 tokens)
   "routing": {"layer": first MoE layer (1), "prompt": 0, "order": ..., "experts": [[k ids] per token],
               "weights": [[k floats] per token] (final weights incl. normalisation and routed_scaling_factor),
               "router_logits": [[8 floats] per token] (x @ gate.weight^T, before sigmoid/softmax)}
               from a forward hook on model.layers[1].mlp.gate, prompt 1, experts in selection order,
   "attention_probe": {"layer": 0, "prompt": 0, "output": [[64 floats] per position]}
               model.layers[0].self_attn output (after o_proj, before the residual add), prompt 1,
   "sanity": {"experts_used": {layer: [ids picked over both prompts]}, "min_group_margin",
              "min_expert_margin" (smallest gap between the last kept and first dropped group / expert
              selection score, both prompts, all MoE layers), "attention_mean_max_prob" per prompt (mean
              over layers, heads and rows t >= 1 of the largest attention probability) vs
              "attention_uniform_mean_max_prob" (same for uniform attention), v3 only:
              "tokens_changed_by_bias" (token-layer pairs whose expert set differs without the bias)}}
routing and attention_probe are written for every model (the V2 ones are handy for debugging too).
Floats are float32 values written as Python float repr (exact: parse as Double, cast to Float).

Weights: every tensor is overwritten from a torch.Generator seeded per model, in sorted name order:
linear weights ~ N(0, gain^2/fan_in) (gain per tensor kind, chosen so activations stay O(1), attention
is far from uniform and routing differs per token), norm weights ~ 1 + N(0, 0.1^2), embeddings ~ N(0, 1),
router weights gain 2, e_score_correction_bias ~ N(0, 0.1^2).

The reference is computed by reloading the saved folder with from_pretrained (eager attention, eager
experts, float32, 1 thread) and is checked against the in-memory model (bit-identical), against the
legacy config form (top-level rope_theta + rope_scaling {"type": ...}, no head_dim/qk_head_dim: must give
bit-identical logits), against an independent float64 numpy forward written from
/work/shared/notes/deepseek-math.md that reads the saved safetensors/config.json (logits, routing,
attention probe within 1e-4; greedy by float64 full recompute identical), and (v3-tiny-sharded) against
the unsharded folder.  Seeds were chosen so that no greedy step or routing decision is a near-tie
(warnings are printed otherwise).

Deterministic (fixed seeds, torch 1 thread): running it twice gives byte-identical files.
Regenerate from the repository root with:

    /work/refenv/bin/python scripts/gen_tiny_deepseek.py --sharded

Options: --out DIR (default Tests/Fixtures/deepseek), --sharded, --only NAME (repeatable).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

import transformers  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    DeepseekV2Config,
    DeepseekV2ForCausalLM,
    DeepseekV3Config,
    DeepseekV3ForCausalLM,
)

transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "Tests", "Fixtures", "deepseek")

PROMPT_SEED = 20240531
PROMPT_LENGTHS = (12, 40)
GREEDY_STEPS = 16
MIN_LOGIT_MARGIN = 1e-3  # seeds were picked so greedy top1-top2 gaps stay above this...
MIN_ROUTING_MARGIN = 5e-4  # ...and expert/group selection gaps above this (no near-ties)
SHARD_SIZE = "300KB"  # v3-tiny is ~0.82 MB of F32 -> 3 shards
MAX_FOLDER_BYTES = 1_500_000

COMMON = dict(
    vocab_size=256,
    hidden_size=64,
    num_attention_heads=4,
    num_key_value_heads=4,
    qk_nope_head_dim=16,
    qk_rope_head_dim=8,
    v_head_dim=16,
    kv_lora_rank=32,
    intermediate_size=96,
    moe_intermediate_size=32,
    max_position_embeddings=512,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
    attention_bias=False,
    num_hidden_layers=3,
    first_k_dense_replace=1,
    n_routed_experts=8,
    num_experts_per_tok=2,
    hidden_act="silu",
    bos_token_id=0,
    eos_token_id=1,
    pad_token_id=None,
)

MODELS = {
    "v3-tiny": dict(
        cls="v3",
        seed=3005,
        config=dict(
            q_lora_rank=24,
            n_group=4,
            topk_group=2,
            n_shared_experts=1,
            norm_topk_prob=True,
            routed_scaling_factor=2.5,
            # not read by the V3 class (always sigmoid + noaux_tc) but present in real V3 checkpoints
            scoring_func="sigmoid",
            topk_method="noaux_tc",
            rope_interleave=True,
            # no MTP weights are written, so do not advertise an MTP module (transformers default is 1)
            num_nextn_predict_layers=0,
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
        ),
    ),
    "v2-lite-tiny": dict(
        cls="v2",
        seed=2002,
        config=dict(
            q_lora_rank=None,
            topk_method="greedy",
            scoring_func="softmax",  # not read by the V2 class (always softmax); present in real V2 configs
            n_group=1,  # as in DeepSeek-V2-Lite's config.json (unused by greedy)
            topk_group=1,
            n_shared_experts=2,
            routed_scaling_factor=1.0,
            norm_topk_prob=False,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        ),
    ),
    "v2-glg-tiny": dict(
        cls="v2",
        seed=2116,
        config=dict(
            q_lora_rank=24,
            topk_method="group_limited_greedy",
            scoring_func="softmax",
            n_group=4,
            topk_group=2,
            n_shared_experts=1,
            routed_scaling_factor=1.5,
            norm_topk_prob=False,
            rope_parameters=dict(
                rope_type="yarn",
                rope_theta=10000.0,
                factor=4.0,
                original_max_position_embeddings=128,
                beta_fast=32,
                beta_slow=1,
                mscale=0.707,
                mscale_all_dim=0.707,
            ),
        ),
    ),
}

CLASSES = {
    "v3": (DeepseekV3Config, DeepseekV3ForCausalLM),
    "v2": (DeepseekV2Config, DeepseekV2ForCausalLM),
}

# ---------------------------------------------------------------------------------------------------
# weights


def gain_for(name: str) -> float:
    """Standard deviation multiplier (times 1/sqrt(fan_in)) for a linear weight, by tensor kind."""
    if name == "lm_head.weight":
        return 3.0  # logits spread of a few units -> non-flat next-token distribution
    if name.endswith("mlp.gate.weight"):
        return 2.0  # router logits std ~2 -> tokens disagree about experts
    if "q_b_proj" in name or name.endswith("self_attn.q_proj.weight"):
        return 1.6
    if "kv_b_proj" in name:
        return 1.6
    if "o_proj" in name or "down_proj" in name:
        return 0.8
    return 1.0


def init_weights(model: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    with torch.no_grad():
        for name in sorted(sd):
            t = sd[name]
            if name.endswith("e_score_correction_bias"):
                v = torch.randn(t.shape, generator=gen) * 0.1
            elif name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                v = 1.0 + 0.1 * torch.randn(t.shape, generator=gen)
            elif name.endswith("embed_tokens.weight"):
                v = torch.randn(t.shape, generator=gen)
            elif name.endswith("experts.gate_up_proj"):  # fused in memory: [E, 2I, H]
                v = torch.randn(t.shape, generator=gen) * (gain_for(name) / math.sqrt(t.shape[-1]))
            elif name.endswith("experts.down_proj"):  # fused in memory: [E, H, I]
                v = torch.randn(t.shape, generator=gen) * (gain_for(name) / math.sqrt(t.shape[-1]))
            elif t.dim() == 2:  # nn.Linear [out, in]
                v = torch.randn(t.shape, generator=gen) * (gain_for(name) / math.sqrt(t.shape[1]))
            else:
                raise RuntimeError(f"no init rule for {name} {tuple(t.shape)}")
            t.copy_(v.to(t.dtype))


def build_config(spec: dict):
    cfg_cls, _ = CLASSES[spec["cls"]]
    kw = dict(COMMON)
    kw.update(json.loads(json.dumps(spec["config"])))  # deep copy
    return cfg_cls(**kw)


def build_model(spec: dict):
    _, model_cls = CLASSES[spec["cls"]]
    config = build_config(spec)
    torch.manual_seed(spec["seed"])  # the default init is overwritten anyway
    model = model_cls._from_config(config, attn_implementation="eager", experts_implementation="eager")
    model = model.to(torch.float32)
    init_weights(model, spec["seed"])
    model.eval()
    return model


def load_folder(folder: str, spec: dict, config=None):
    _, model_cls = CLASSES[spec["cls"]]
    kw = dict(dtype=torch.float32, attn_implementation="eager", experts_implementation="eager")
    if config is not None:
        kw["config"] = config
    model = model_cls.from_pretrained(folder, **kw)
    model.eval()
    return model


def legacy_config(folder: str, spec: dict):
    """The same config written the way released checkpoints do: top-level rope_theta + rope_scaling."""
    cfg_cls, _ = CLASSES[spec["cls"]]
    with open(os.path.join(folder, "config.json")) as f:
        d = json.load(f)
    rp = dict(d.pop("rope_parameters"))
    d.pop("head_dim", None)
    d.pop("qk_head_dim", None)
    d["rope_theta"] = rp.pop("rope_theta")
    rope_type = rp.pop("rope_type")
    if rope_type == "default":
        d["rope_scaling"] = None
    else:
        d["rope_scaling"] = dict(type=rope_type, **rp)
    return cfg_cls.from_dict(d), d


# ---------------------------------------------------------------------------------------------------
# tokenizer


def byte_level_chars() -> list[str]:
    """GPT-2 byte-level alphabet: char for byte b, b = 0..255."""
    direct = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in direct:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_tokenizer(folder: str) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    chars = byte_level_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.save(os.path.join(folder, "tokenizer.json"), pretty=True)
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": chars[0],
        "eos_token": chars[1],
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 512,
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")


def check_tokenizer(folder: str) -> None:
    tok = AutoTokenizer.from_pretrained(folder)
    text = "Hi, DeepSeek! ä\n"
    ids = tok.encode(text, add_special_tokens=False)
    assert ids == list(text.encode("utf-8")), ids
    assert tok.decode(ids) == text
    assert tok.bos_token_id == 0 and tok.eos_token_id == 1, (tok.bos_token_id, tok.eos_token_id)


# ---------------------------------------------------------------------------------------------------
# reference


def prompts() -> list[list[int]]:
    rng = np.random.default_rng(PROMPT_SEED)
    return [[int(x) for x in rng.integers(2, 256, size=n)] for n in PROMPT_LENGTHS]


def floats(t: torch.Tensor):
    """float32 tensor -> nested lists of Python floats (exact float32 values)."""
    return t.detach().to(torch.float32).numpy().astype(np.float64).tolist()


@torch.no_grad()
def full_logits(model, tokens: list[int]) -> torch.Tensor:
    out = model(input_ids=torch.tensor([tokens]), use_cache=False)
    return out.logits[0]


def moe_layers(model) -> list[int]:
    return [i for i, l in enumerate(model.model.layers) if hasattr(l.mlp, "experts")]


@torch.no_grad()
def greedy(model, tokens: list[int]):
    model.generation_config.eos_token_id = None  # never stop early on token 1
    model.generation_config.pad_token_id = 0
    ids = torch.tensor([tokens])
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        do_sample=False,
        use_cache=True,
        max_new_tokens=GREEDY_STEPS,
        min_new_tokens=0,
        output_logits=True,
        return_dict_in_generate=True,
    )
    gen = out.sequences[0, len(tokens):].tolist()
    assert len(gen) == GREEDY_STEPS, gen
    cached = torch.stack([l[0] for l in out.logits])  # [16, V]
    full = full_logits(model, tokens + gen[:-1])[len(tokens) - 1:]  # [16, V]
    delta = float((cached - full).abs().max())
    argmax_full = full.argmax(-1).tolist()
    top2 = full.topk(2, dim=-1).values
    margin = float((top2[:, 0] - top2[:, 1]).min())
    return gen, delta, argmax_full, margin


@torch.no_grad()
def router_choice(model, spec, layer: int, x: torch.Tensor):
    """Re-derive the selection score margins for a router input x [T, H] (for the fragility check)."""
    gate = model.model.layers[layer].mlp.gate
    cfg = model.config
    logits = x.float() @ gate.weight.float().T
    E, k = cfg.n_routed_experts, cfg.num_experts_per_tok
    if spec["cls"] == "v3":
        s = logits.sigmoid()
        c = s + gate.e_score_correction_bias
        g = c.view(-1, cfg.n_group, E // cfg.n_group).topk(2, dim=-1).values.sum(-1)
        method = "noaux_tc"
    else:
        s = logits.softmax(-1)
        c = s
        method = cfg.topk_method
        g = c.view(-1, cfg.n_group, E // cfg.n_group).max(-1).values if method == "group_limited_greedy" else None
    gm = math.inf
    if g is not None:
        gs = g.sort(-1, descending=True).values
        gm = float((gs[:, cfg.topk_group - 1] - gs[:, cfg.topk_group]).min())
        keep = torch.zeros_like(g, dtype=torch.bool)
        keep.scatter_(1, g.topk(cfg.topk_group, dim=-1).indices, True)
        keep = keep.repeat_interleave(E // cfg.n_group, dim=1)
        c = c.masked_fill(~keep, float("-inf") if spec["cls"] == "v3" else 0.0)
    cs = c.sort(-1, descending=True).values
    em = float((cs[:, k - 1] - cs[:, k]).min())
    order = c.topk(k, dim=-1).indices
    no_bias = None
    if spec["cls"] == "v3":
        # how many tokens would pick a different expert set without the correction bias
        g0 = s.view(-1, cfg.n_group, E // cfg.n_group).topk(2, dim=-1).values.sum(-1)
        keep0 = torch.zeros_like(g0, dtype=torch.bool)
        keep0.scatter_(1, g0.topk(cfg.topk_group, dim=-1).indices, True)
        s0 = s.masked_fill(~keep0.repeat_interleave(E // cfg.n_group, dim=1), float("-inf"))
        sel0 = s0.topk(k, dim=-1).indices.sort(-1).values
        no_bias = int((sel0 != order.sort(-1).values).any(-1).sum())
    return logits, order, gm, em, no_bias


@torch.no_grad()
def reference(model, name: str, spec: dict) -> dict:
    cfg = model.config
    toks = prompts()
    moe = moe_layers(model)
    rot = model.model.rotary_emb
    attn0 = model.model.layers[0].self_attn
    ref = {
        "model": name,
        "class": type(model).__name__,
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
        "rope": {
            "inv_freq": floats(rot.inv_freq),
            "attention_factor": float(rot.attention_scaling),
            "softmax_scale": float(attn0.scaling),
        },
        "prompts": [],
    }

    # hooks: router inputs/outputs of every MoE layer, attention output of layer 0
    captured: dict = {}

    def gate_hook(layer):
        def fn(mod, args, out):
            captured.setdefault(("gate", layer), []).append((args[0].detach().clone(), [o.detach().clone() for o in out]))
        return fn

    def attn_hook(mod, args, out):
        captured.setdefault("attn0", []).append(out[0].detach().clone())

    handles = [model.model.layers[l].mlp.gate.register_forward_hook(gate_hook(l)) for l in moe]
    handles.append(model.model.layers[0].self_attn.register_forward_hook(attn_hook))

    sanity = {"experts_used": {}, "min_group_margin": math.inf, "min_expert_margin": math.inf,
              "attention_mean_max_prob": [], "attention_uniform_mean_max_prob": []}
    if spec["cls"] == "v3":
        sanity["tokens_changed_by_bias"] = 0
    first = {}
    for pi, tokens in enumerate(toks):
        captured.clear()
        out = model(input_ids=torch.tensor([tokens]), use_cache=False, output_attentions=True)
        logits = out.logits[0]
        if pi == 0:
            first["gate"] = captured[("gate", moe[0])][0]
            first["attn0"] = captured["attn0"][0][0]
        for l in moe:
            x, (rl, w, idx) = captured[("gate", l)][0]
            used = sanity["experts_used"].setdefault(str(l), set())
            used.update(idx.flatten().tolist())
            _, _, gm, em, nb = router_choice(model, spec, l, x.view(-1, cfg.hidden_size))
            sanity["min_group_margin"] = min(sanity["min_group_margin"], gm)
            sanity["min_expert_margin"] = min(sanity["min_expert_margin"], em)
            if nb is not None:
                sanity["tokens_changed_by_bias"] += nb
        # attention: mean over layers/heads/rows t>=1 of the max probability vs uniform 1/(t+1)
        T = len(tokens)
        att = torch.stack([a[0] for a in out.attentions])  # [L, H, T, T]
        mx = att.max(-1).values[:, :, 1:]
        sanity["attention_mean_max_prob"].append(float(mx.mean()))
        sanity["attention_uniform_mean_max_prob"].append(float(np.mean([1.0 / (t + 1) for t in range(1, T)])))

        gen, delta, argmax_full, margin = greedy(model, tokens)
        if argmax_full != gen:
            print(f"  WARNING {name} prompt {pi}: cached greedy {gen} != full-recompute argmax {argmax_full}")
        ref["prompts"].append({
            "tokens": tokens,
            "logits": floats(logits),
            "greedy": gen,
            "greedy_min_margin": margin,
            "cached_vs_full_max_abs_diff": delta,
        })
    for h in handles:
        h.remove()

    # routing: first MoE layer, prompt 1, from the router's own output
    x, (rl, w, idx) = first["gate"]
    gate = model.model.layers[moe[0]].mlp.gate
    if spec["cls"] == "v3":
        choice = rl.sigmoid() + gate.e_score_correction_bias
        order_desc = "descending sigmoid(router_logit) + e_score_correction_bias"
    else:
        choice = rl.softmax(-1)
        order_desc = "descending softmax(router_logits)"
    experts, weights = [], []
    for t in range(idx.shape[0]):
        pairs = sorted(zip(idx[t].tolist(), w[t].tolist()), key=lambda p: -float(choice[t, p[0]]))
        experts.append([p[0] for p in pairs])
        weights.append([float(np.float32(p[1])) for p in pairs])
    ref["routing"] = {
        "layer": moe[0],
        "prompt": 0,
        "order": order_desc,
        "experts": experts,
        "weights": weights,
        "router_logits": floats(rl),
    }
    ref["attention_probe"] = {
        "layer": 0,
        "prompt": 0,
        "what": "model.layers[0].self_attn output (after o_proj, before the residual add)",
        "output": floats(first["attn0"]),
    }
    sanity["experts_used"] = {k: sorted(v) for k, v in sanity["experts_used"].items()}
    if sanity["min_group_margin"] == math.inf:  # no group stage (greedy)
        sanity["min_group_margin"] = None
    ref["sanity"] = sanity
    return ref


# ---------------------------------------------------------------------------------------------------
# independent float64 numpy forward (written from the math in /work/shared/notes/deepseek-math.md), used to cross-check the
# transformers reference straight from the saved files


def _np_rms(x, w, eps):
    return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))


def _np_silu(x):
    return x / (1.0 + np.exp(-x))


def _yarn_g(s, m):
    return 1.0 if s <= 1 else 0.1 * m * math.log(s) + 1.0


def np_rope_params(cfg: dict):
    rp = cfg["rope_parameters"]
    dr, theta = cfg["qk_rope_head_dim"], rp["rope_theta"]
    inv = theta ** (-np.arange(0, dr, 2) / dr)
    att, scale = 1.0, (cfg["qk_nope_head_dim"] + dr) ** -0.5
    if rp["rope_type"] == "yarn":
        f, l0 = rp["factor"], rp["original_max_position_embeddings"]

        def corr(b):
            return dr * math.log(l0 / (2 * math.pi * b)) / (2 * math.log(theta))

        lo = max(math.floor(corr(rp.get("beta_fast") or 32)), 0)
        hi = min(math.ceil(corr(rp.get("beta_slow") or 1)), dr - 1)
        if hi == lo:
            hi += 0.001
        ramp = np.clip((np.arange(dr // 2) - lo) / (hi - lo), 0.0, 1.0)
        inv = ramp * inv / f + (1 - ramp) * inv
        ms, msa = rp.get("mscale"), rp.get("mscale_all_dim")
        att = _yarn_g(f, ms) / _yarn_g(f, msa) if (ms and msa) else _yarn_g(f, 1)
        if msa:
            scale *= _yarn_g(f, msa) ** 2
    return inv, att, scale


def _np_rope(x, inv, att):
    """Adjacent-pair rotation of x [..., T, dr] at positions 0..T-1 (scores equal V3's de-interleaved form)."""
    ang = np.arange(x.shape[-2])[:, None] * inv[None, :]
    c, s = np.cos(ang) * att, np.sin(ang) * att
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def _np_route(cfg: dict, W: dict, p: str, logits):
    """Per-token (expert ids in selection order, weights) for router logits [E]."""
    E, k, v3 = cfg["n_routed_experts"], cfg["num_experts_per_tok"], cfg["model_type"] == "deepseek_v3"
    if v3:
        s = 1.0 / (1.0 + np.exp(-logits))
        c = s + W[p + "mlp.gate.e_score_correction_bias"]
        group_score = np.sort(c.reshape(cfg["n_group"], -1), -1)[:, -2:].sum(-1)
        fill = -np.inf
    else:
        s = np.exp(logits - logits.max())
        s /= s.sum()
        c = s.copy()
        group_score = c.reshape(cfg["n_group"], -1).max(-1) if cfg["topk_method"] == "group_limited_greedy" else None
        fill = 0.0
    if group_score is not None:
        keep = np.zeros(cfg["n_group"], bool)
        keep[np.argsort(-group_score, kind="stable")[: cfg["topk_group"]]] = True
        c = np.where(np.repeat(keep, E // cfg["n_group"]), c, fill)
    idx = np.argsort(-c, kind="stable")[:k]
    w = s[idx]
    if v3 and cfg["norm_topk_prob"]:
        w = w / (w.sum() + 1e-20)
    return idx, w * cfg["routed_scaling_factor"]


def np_forward(cfg: dict, W: dict, tokens: list[int], trace: dict | None = None):
    H, dn, dr, dv = (cfg[k] for k in ("num_attention_heads", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"))
    rkv, eps = cfg["kv_lora_rank"], cfg["rms_norm_eps"]
    inv, att, scale = np_rope_params(cfg)
    T = len(tokens)
    causal = np.tril(np.ones((T, T), bool))[None]

    def mlp(pre, z):
        return (_np_silu(z @ W[pre + "gate_proj.weight"].T) * (z @ W[pre + "up_proj.weight"].T)) @ W[pre + "down_proj.weight"].T

    x = W["model.embed_tokens.weight"][tokens]
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        h = _np_rms(x, W[p + "input_layernorm.weight"], eps)
        if cfg["q_lora_rank"] is None:
            q = h @ W[p + "self_attn.q_proj.weight"].T
        else:
            qa = _np_rms(h @ W[p + "self_attn.q_a_proj.weight"].T, W[p + "self_attn.q_a_layernorm.weight"], 1e-6)
            q = qa @ W[p + "self_attn.q_b_proj.weight"].T
        q = q.reshape(T, H, dn + dr).transpose(1, 0, 2)
        c = h @ W[p + "self_attn.kv_a_proj_with_mqa.weight"].T
        ckv = _np_rms(c[:, :rkv], W[p + "self_attn.kv_a_layernorm.weight"], 1e-6)
        k_pe = _np_rope(c[:, rkv:], inv, att)
        kv = (ckv @ W[p + "self_attn.kv_b_proj.weight"].T).reshape(T, H, dn + dv).transpose(1, 0, 2)
        q_pe = _np_rope(q[..., dn:], inv, att)
        sc = (np.einsum("htd,hsd->hts", q[..., :dn], kv[..., :dn]) + np.einsum("htd,sd->hts", q_pe, k_pe)) * scale
        sc = np.where(causal, sc, -np.inf)
        P = np.exp(sc - sc.max(-1, keepdims=True))
        P /= P.sum(-1, keepdims=True)
        o = np.einsum("hts,hsd->thd", P, kv[..., dn:]).reshape(T, H * dv) @ W[p + "self_attn.o_proj.weight"].T
        if trace is not None and L == 0:
            trace["attn0"] = o
        x = x + o
        h = _np_rms(x, W[p + "post_attention_layernorm.weight"], eps)
        if L < cfg["first_k_dense_replace"]:
            y = mlp(p + "mlp.", h)
        else:
            logits = h @ W[p + "mlp.gate.weight"].T
            y = mlp(p + "mlp.shared_experts.", h)
            routes = []
            for t in range(T):
                idx, w = _np_route(cfg, W, p, logits[t])
                routes.append((idx, w))
                for e, we in zip(idx, w):
                    y[t] += we * mlp(p + f"mlp.experts.{e}.", h[t : t + 1])[0]
            if trace is not None and "routing" not in trace:
                trace["routing"] = (routes, logits)
        x = x + y
    return _np_rms(x, W["model.norm.weight"], eps) @ W["lm_head.weight"].T


def numpy_check(folder: str, ref: dict) -> str:
    from safetensors.numpy import load_file

    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    W = {}
    for fn in sorted(os.listdir(folder)):
        if fn.endswith(".safetensors"):
            W.update({k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, fn)).items()})
    inv, att, scale = np_rope_params(cfg)
    r = ref["rope"]
    assert np.allclose(inv, r["inv_freq"], rtol=1e-6, atol=0) and abs(att - r["attention_factor"]) < 1e-12, (inv, att)
    assert abs(scale - r["softmax_scale"]) < 1e-9 * scale, (scale, r["softmax_scale"])
    worst = 0.0
    for pi, pr in enumerate(ref["prompts"]):
        trace = {}
        logits = np_forward(cfg, W, pr["tokens"], trace)
        worst = max(worst, float(np.abs(logits - np.array(pr["logits"])).max()))
        toks, gen = list(pr["tokens"]), []
        for _ in range(GREEDY_STEPS):
            gen.append(int(np_forward(cfg, W, toks)[-1].argmax()))
            toks.append(gen[-1])
        if gen != pr["greedy"]:
            raise SystemExit(f"{folder}: prompt {pi}: float64 greedy {gen} != reference {pr['greedy']}")
        if pi == 0:
            routes, rl = trace["routing"]
            R = ref["routing"]
            if [[int(e) for e in idx] for idx, _ in routes] != R["experts"]:
                raise SystemExit(f"{folder}: float64 routing differs from the reference")
            worst = max(worst, float(np.abs(np.array([w for _, w in routes]) - np.array(R["weights"])).max()),
                        float(np.abs(rl - np.array(R["router_logits"])).max()),
                        float(np.abs(trace["attn0"] - np.array(ref["attention_probe"]["output"])).max()))
    if worst > 1e-4:
        raise SystemExit(f"{folder}: float64 numpy forward differs from the reference by {worst:.3g}")
    return f"float64 numpy cross-check: max |d| {worst:.2g} (logits, routing, attention probe), greedy equal"


# ---------------------------------------------------------------------------------------------------
# driver


def folder_size(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


def save_model(model, folder: str, **kw) -> None:
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    model.save_pretrained(folder, safe_serialization=True, **kw)
    write_tokenizer(folder)


@torch.no_grad()
def assert_same_logits(a, b, what: str) -> None:
    for tokens in prompts():
        la, lb = full_logits(a, tokens), full_logits(b, tokens)
        if not torch.equal(la, lb):
            raise SystemExit(f"{what}: logits differ (max |d| {float((la - lb).abs().max())})")


def generate_one(name: str, out_dir: str) -> None:
    spec = MODELS[name]
    folder = os.path.join(out_dir, name)
    model = build_model(spec)
    save_model(model, folder)
    check_tokenizer(folder)

    loaded = load_folder(folder, spec)
    assert_same_logits(model, loaded, f"{name}: reload")
    legacy_cfg, _ = legacy_config(folder, spec)
    legacy = load_folder(folder, spec, config=legacy_cfg)
    assert legacy.config.rope_parameters["rope_type"] == loaded.config.rope_parameters["rope_type"]
    assert torch.equal(legacy.model.rotary_emb.inv_freq, loaded.model.rotary_emb.inv_freq)
    assert legacy.model.rotary_emb.attention_scaling == loaded.model.rotary_emb.attention_scaling
    assert legacy.model.layers[0].self_attn.scaling == loaded.model.layers[0].self_attn.scaling
    assert_same_logits(loaded, legacy, f"{name}: legacy rope_theta/rope_scaling config")

    ref = reference(loaded, name, spec)
    write_json(os.path.join(folder, "reference.json"), ref)
    check_msg = numpy_check(folder, ref)
    size = folder_size(folder)
    if size > MAX_FOLDER_BYTES:
        raise SystemExit(f"{folder}: {size} bytes > {MAX_FOLDER_BYTES}")

    s = ref["sanity"]
    worst = min(p["greedy_min_margin"] for p in ref["prompts"])
    if worst < MIN_LOGIT_MARGIN:
        print(f"  WARNING {name}: greedy near-tie (top1 - top2 = {worst:.3g})")
    for key in ("min_group_margin", "min_expert_margin"):
        if s[key] is not None and s[key] < MIN_ROUTING_MARGIN:
            print(f"  WARNING {name}: routing near-tie ({key} = {s[key]:.3g})")
    print(f"{name}: {size} bytes; softmax_scale {ref['rope']['softmax_scale']:.6f}, "
          f"attention_factor {ref['rope']['attention_factor']}")
    for p in ref["prompts"]:
        print(f"  prompt len {len(p['tokens'])}: greedy {p['greedy']} min margin {p['greedy_min_margin']:.4f} "
              f"cached-vs-full {p['cached_vs_full_max_abs_diff']:.3g}")
    print(f"  experts used per MoE layer: {s['experts_used']}; min group margin {s['min_group_margin']}, "
          f"min expert margin {s['min_expert_margin']:.4g}"
          + (f"; tokens whose expert set changes without bias: {s['tokens_changed_by_bias']}"
             if "tokens_changed_by_bias" in s else ""))
    print(f"  attention mean max prob {['%.3f' % v for v in s['attention_mean_max_prob']]} "
          f"(uniform {['%.3f' % v for v in s['attention_uniform_mean_max_prob']]})")
    print(f"  {check_msg}")


def generate_sharded(out_dir: str) -> None:
    spec = MODELS["v3-tiny"]
    folder = os.path.join(out_dir, "v3-tiny-sharded")
    model = build_model(spec)
    save_model(model, folder, max_shard_size=SHARD_SIZE)
    shards = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    if not (2 <= len(shards) <= 3) or not os.path.exists(os.path.join(folder, "model.safetensors.index.json")):
        raise SystemExit(f"{folder}: expected 2-3 shards + index, got {shards}")
    check_tokenizer(folder)
    loaded = load_folder(folder, spec)
    assert_same_logits(model, loaded, "v3-tiny-sharded: reload")
    unsharded = os.path.join(out_dir, "v3-tiny")
    if os.path.exists(os.path.join(unsharded, "model.safetensors")):
        assert_same_logits(loaded, load_folder(unsharded, spec), "v3-tiny-sharded vs v3-tiny")
    print(f"v3-tiny-sharded: {folder_size(folder)} bytes; shards {shards}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--sharded", action="store_true", help="also write v3-tiny-sharded/")
    ap.add_argument("--only", action="append", choices=sorted(MODELS), help="only these models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    for name in args.only or list(MODELS):
        generate_one(name, args.out)
    if args.sharded:
        generate_sharded(args.out)


if __name__ == "__main__":
    main()
