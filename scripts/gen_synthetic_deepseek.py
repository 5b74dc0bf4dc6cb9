#!/usr/bin/env python3
"""Write a random-weight, DeepSeek-V3-shaped model as a llama.cpp `deepseek2` GGUF (the benchmark speed fixture).

The file is NOT a fixture of the repository (it is ~1 GB): it goes to

    $SWIFTSEEK_HOME/synthetic/deepseek-v3-synthetic-<type>.gguf     (SWIFTSEEK_HOME default ~/.cache/swiftseek)

unless --out is given.  Types: q8_0 (default), f16 and q4_k.

Layout.  Tensor names, shapes (ggml ne order), tensor order, tensor types and metadata keys (names, value
types and order) mirror what llama.cpp's converter (convert_hf_to_gguf.py of llama-cpp-python 0.3.36, the
version scripts/gen_tiny_deepseek_gguf.py uses) writes for DeepSeek-V3, as in
Tests/Fixtures/deepseek/gguf/v3-tiny-{f32,q8_0}.gguf:

  * MLA split into attn_k_b [dn, r_kv, H] and attn_v_b [r_kv, dv, H]; attn_kv_a_mqa [d, r_kv + dr];
    head_count_kv = 1, key_length = r_kv + dr, value_length = r_kv, key_length_mla = dn + dr,
    value_length_mla = dv;
  * routed experts merged into 3-D ffn_{gate,up,down}_exps, sigmoid gating (expert_gating_func = 2) with
    exp_probs_b.bias, grouped top-k (expert_group_count / expert_group_used_count);
  * tensor types as the converter picks them for --outtype q8_0 / f16: norms, exp_probs_b.bias and
    ffn_gate_inp (router) stay F32, every other 2-D/3-D weight is Q8_0 (resp. F16); a tensor whose row
    (ne0) is not a multiple of the Q8_0 block falls back to F16, as in the converter (none does with the
    default shape);
  * --type q4_k (no converter outtype; a llama-quantize-like mix, general.file_type MOSTLY_Q4_K_M): every
    such weight whose row (ne0) is a multiple of the 256-value K-quant super-block is Q4_K, the others fall
    back to Q8_0 (F16 if not even a multiple of 32) -- with the default shape the Q8_0 ones are attn_q_b
    (ne0 = q_lora_rank 384), attn_k_b (ne0 = qk_nope_head_dim 64), ffn_down_exps and ffn_down_shexp
    (ne0 = moe_intermediate_size 384); token_embd and output are Q4_K;
  * tokenizer: the tiny fixtures' 256-token byte-level gpt2 vocabulary (ids 0/1 = "\\x00"/"\\x01" control
    tokens = bos/eos, ids 2..255 the GPT-2 byte alphabet, no merges, pre "deepseek-v3"), padded up to
    vocab_size with normal placeholder tokens "<|t12345|>".

Shape: V3's structure scaled down -- see CONFIG below (vocab 32000, hidden 1024, 12 layers of which 1 dense,
16 heads, MLA ranks 384/256, head dims 64+32/64, 64 routed experts of width 384, 6 per token in 4 of 8 groups,
1 shared expert, YaRN x4 from 4096).  The script prints total and per-token active parameter counts:
952.6 M total, 200.0 M active per token (21 %; 167 M = 18 % without the token_embd lookup).  The active share
cannot come near 10 % below ~1.2 B total with this vocab/hidden size: embeddings + output (65.5 M), attention
(34.2 M), the dense layer (8.7 M) and the shared experts (13 M) are always active, 122 M together; the routed
experts themselves are 6/64 = 9.4 % active.

Weights: normal, seeded per tensor from (--seed, crc32(tensor name)) and generated in fixed-size row chunks,
so every type (q8_0 / f16) holds the same underlying values and memory stays at one tensor.  Standard
deviations keep activations O(1): 1/sqrt(fan_in) for projections (fan_in = ne0, except attn_k_b whose
HF fan-in is kv_lora_rank), 1 for token_embd, norms = 1, router 1/sqrt(hidden), router bias std 0.05.

Q4_K: gguf-py (0.19 in /work/refenv) implements Q4_K dequantization only (gguf.quants.quantize raises
NotImplementedError), so quantize_q4_k below is our own vectorized encoder: a plain min/max fit per 32-value
sub-block (not llama.cpp's iterative scale search; a valid encoding with somewhat larger error).
--test-q4k checks it against gguf-py's Q4_K dequantizer (exact round trip of hand-made blocks, edge cases,
relative RMS error on random data) and exits.

    /work/refenv/bin/python scripts/gen_synthetic_deepseek.py [--type q8_0|f16|q4_k] [--out PATH] [--seed N]
                                                               [--check] [--check-only] [--test-q4k]

--check reads the written file back: compares metadata keys/value types and per-layer tensor naming with the
tiny reference fixture (when present), then runs an approximate numpy forward pass over a few tokens
(plain RoPE, no YaRN frequency ramp) and prints the residual-stream RMS per layer and the logits' spread.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import zlib

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "Tests", "Fixtures", "deepseek", "gguf", "v3-tiny-f32.gguf")
ARCH = "deepseek2"

CONFIG = dict(
    vocab_size=32000,
    hidden_size=1024,
    num_hidden_layers=12,
    first_k_dense_replace=1,
    intermediate_size=2816,        # dense FFN (leading dense layers)
    num_attention_heads=16,
    q_lora_rank=384,
    kv_lora_rank=256,
    qk_nope_head_dim=64,
    qk_rope_head_dim=32,
    v_head_dim=64,
    n_routed_experts=64,
    moe_intermediate_size=384,     # routed and shared expert width
    num_experts_per_tok=6,
    n_shared_experts=1,
    n_group=8,
    topk_group=4,
    routed_scaling_factor=2.5,
    norm_topk_prob=True,
    rope_theta=10000.0,
    rope_factor=4.0,
    original_max_position_embeddings=4096,
    max_position_embeddings=16384,  # factor * original
    beta_fast=32.0,
    beta_slow=1.0,
    mscale_all_dim=1.0,
    rms_norm_eps=1e-6,
)

NAME = "DeepSeek V3 Synthetic"
FILE_STEM = "deepseek-v3-synthetic"
TYPES = {  # --type -> (weight qtype, general.file_type)
    "q8_0": (QT.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    "f16": (QT.F16, gguf.LlamaFileType.MOSTLY_F16),
    "q4_k": (QT.Q4_K, gguf.LlamaFileType.MOSTLY_Q4_K_M),  # Q4_K + Q8_0 fallbacks: no exact ftype exists
}
CHUNK_ELEMENTS = 1 << 22  # rows per generation chunk = CHUNK_ELEMENTS // ne0 (fixed: part of the seeding)
ROUTER_BIAS_STD = 0.05


# ---------------------------------------------------------------------------------------------------
# plan


class Spec:
    """One tensor: GGUF name, ggml shape ne (ne0 first), init kind and std, whether it may be quantized."""

    def __init__(self, name: str, ne: tuple[int, ...], std: float, kind: str = "normal", quant: bool = True):
        self.name, self.ne, self.std, self.kind, self.quant = name, tuple(ne), std, kind, quant

    @property
    def np_shape(self) -> tuple[int, ...]:
        return tuple(reversed(self.ne))

    @property
    def n(self) -> int:
        return math.prod(self.ne)


def plan(c: dict) -> list[Spec]:
    d, H = c["hidden_size"], c["num_attention_heads"]
    qr, kvr = c["q_lora_rank"], c["kv_lora_rank"]
    dn, dr, dv = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    E, w, ff = c["n_routed_experts"], c["moe_intermediate_size"], c["intermediate_size"]
    ws = w * c["n_shared_experts"]

    def lin(name, n_in, n_out, fan_in=None):
        return Spec(name, (n_in, n_out), 1.0 / math.sqrt(fan_in or n_in))

    def norm(name, n):
        return Spec(name, (n,), 0.0, kind="ones", quant=False)

    # global tensors first (converter order: lm_head, embed_tokens, layers..., norm)
    specs = [
        lin("output.weight", d, c["vocab_size"]),
        Spec("token_embd.weight", (d, c["vocab_size"]), 1.0),
    ]
    for i in range(c["num_hidden_layers"]):
        p = f"blk.{i}."
        specs.append(norm(p + "attn_norm.weight", d))
        if i < c["first_k_dense_replace"]:
            specs += [
                lin(p + "ffn_down.weight", ff, d),
                lin(p + "ffn_gate.weight", d, ff),
                lin(p + "ffn_up.weight", d, ff),
            ]
        else:
            specs += [
                Spec(p + "ffn_down_exps.weight", (w, d, E), 1.0 / math.sqrt(w)),
                Spec(p + "ffn_gate_exps.weight", (d, w, E), 1.0 / math.sqrt(d)),
                Spec(p + "ffn_up_exps.weight", (d, w, E), 1.0 / math.sqrt(d)),
                Spec(p + "exp_probs_b.bias", (E,), ROUTER_BIAS_STD, quant=False),
                Spec(p + "ffn_gate_inp.weight", (d, E), 1.0 / math.sqrt(d), quant=False),  # router: F32
                lin(p + "ffn_down_shexp.weight", ws, d),
                lin(p + "ffn_gate_shexp.weight", d, ws),
                lin(p + "ffn_up_shexp.weight", d, ws),
            ]
        specs += [
            norm(p + "ffn_norm.weight", d),
            norm(p + "attn_kv_a_norm.weight", kvr),
            lin(p + "attn_kv_a_mqa.weight", d, kvr + dr),
            # k_b is kv_b_proj's key part transposed per head: its HF fan-in is kv_lora_rank
            Spec(p + "attn_k_b.weight", (dn, kvr, H), 1.0 / math.sqrt(kvr)),
            Spec(p + "attn_v_b.weight", (kvr, dv, H), 1.0 / math.sqrt(kvr)),
            lin(p + "attn_output.weight", H * dv, d),
            norm(p + "attn_q_a_norm.weight", qr),
            lin(p + "attn_q_a.weight", d, qr),
            lin(p + "attn_q_b.weight", qr, H * (dn + dr)),
        ]
    specs.append(norm("output_norm.weight", d))
    return specs


def tensor_type(spec: Spec, wtype: QT) -> QT:
    if not spec.quant or len(spec.ne) <= 1 or spec.name.endswith("_norm.weight"):
        return QT.F32
    if wtype == QT.Q4_K and spec.ne[0] % gguf.GGML_QUANT_SIZES[QT.Q4_K][0] != 0:
        wtype = QT.Q8_0  # row not a whole number of 256-value super-blocks
    if wtype not in (QT.F32, QT.F16):
        block, _ = gguf.GGML_QUANT_SIZES[wtype]
        if spec.ne[0] % block != 0:
            return QT.F16  # the converter's QuantError fallback
    return wtype


def nbytes(spec: Spec, qtype: QT) -> int:
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    return spec.n // block * size


def param_counts(specs: list[Spec], c: dict) -> dict:
    k, E = c["num_experts_per_tok"], c["n_routed_experts"]
    cats = {"embed": 0, "output": 0, "attention": 0, "dense_ffn": 0, "routed_experts": 0, "shared_experts": 0,
            "router": 0, "norms": 0}
    for s in specs:
        n = s.n
        if s.name == "token_embd.weight":
            cats["embed"] += n
        elif s.name == "output.weight":
            cats["output"] += n
        elif "_exps." in s.name:
            cats["routed_experts"] += n
        elif "_shexp." in s.name:
            cats["shared_experts"] += n
        elif "ffn_gate_inp" in s.name or "exp_probs_b" in s.name:
            cats["router"] += n
        elif s.kind == "ones":
            cats["norms"] += n
        elif ".attn_" in s.name:
            cats["attention"] += n
        else:
            cats["dense_ffn"] += n
    total = sum(cats.values())
    active = total - cats["routed_experts"] + cats["routed_experts"] * k // E
    return dict(cats=cats, total=total, active=active, active_no_embed=active - cats["embed"],
                total_no_embed=total - cats["embed"])


# ---------------------------------------------------------------------------------------------------
# Q4_K encoder
#
# Block of QK_K = 256 values, 144 bytes: d (f16) | dmin (f16) | scales[12] | qs[128].  Sub-block j (32 values,
# j = 0..7) decodes as  d * sc_j * q - dmin * m_j  with 6-bit sc_j, m_j and 4-bit q.  scales[12] packs the
# sixteen 6-bit numbers:  bytes 0..3 = sc_0..3 (low 6 bits) | top 2 bits of sc_4..7 in bits 6..7,
# bytes 4..7 = m_0..3 | top 2 bits of m_4..7 in bits 6..7,  bytes 8..11 = low nibble of sc_4..7 | low nibble
# of m_4..7 << 4.  qs: four 32-byte groups, group g holds sub-block 2g in the low nibbles and 2g+1 in the high.

QK_K = 256


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """Q4_K blocks (uint8, last axis ne0 // 256 * 144) of a float array whose last axis is a multiple of 256.

    Per sub-block: min offset m = -min(0, min x), scale s = (max x + m) / 15; per super-block d = max s / 63,
    dmin = max m / 63 (both f16), sc = round(s / d), m_q = round(m / dmin) (6 bits), then
    q = clamp(round((x + dmin m_q) / (d sc)), 0, 15).  Zero scales give q = 0 / sc = 0 / m_q = 0."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] % QK_K:
        raise ValueError(f"Q4_K needs rows that are a multiple of {QK_K}, got {x.shape[-1]}")
    nb = x.size // QK_K
    xb = x.reshape(nb, 8, 32)

    lo = np.minimum(xb.min(axis=-1), np.float32(0))  # [nb, 8], <= 0
    m = -lo
    s = (xb.max(axis=-1) - lo) / np.float32(15)
    d = (s.max(axis=-1) / np.float32(63)).astype("<f2")  # [nb]
    dmin = (m.max(axis=-1) / np.float32(63)).astype("<f2")
    df = d.astype(np.float32)[:, None]
    dmf = dmin.astype(np.float32)[:, None]

    zero = np.zeros_like(s)
    sc = np.clip(np.rint(np.divide(s, df, out=zero.copy(), where=df > 0)), 0, 63).astype(np.uint8)
    mq = np.clip(np.rint(np.divide(m, dmf, out=zero.copy(), where=dmf > 0)), 0, 63).astype(np.uint8)
    scale = (df * sc)[..., None]  # [nb, 8, 1] effective sub-block scale and offset, as decoded
    offset = (dmf * mq)[..., None]
    q = np.divide(xb + offset, scale, out=np.zeros_like(xb), where=scale > 0)
    q = np.clip(np.rint(q), 0, 15).astype(np.uint8).reshape(nb, 4, 2, 32)

    out = np.empty((nb, 144), dtype=np.uint8)
    out[:, 0:2] = d.view(np.uint8).reshape(nb, 2)
    out[:, 2:4] = dmin.view(np.uint8).reshape(nb, 2)
    lo4, hi4 = slice(0, 4), slice(4, 8)
    out[:, 4:8] = (sc[:, lo4] & 63) | ((sc[:, hi4] >> 4) << 6)
    out[:, 8:12] = (mq[:, lo4] & 63) | ((mq[:, hi4] >> 4) << 6)
    out[:, 12:16] = (sc[:, hi4] & 15) | ((mq[:, hi4] & 15) << 4)
    out[:, 16:144] = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(nb, 128)
    return out.reshape(x.shape[:-1] + (x.shape[-1] // QK_K * 144,))


def _pack_q4_k_block(d: float, dmin: float, sc: list[int], mq: list[int], q: np.ndarray) -> bytes:
    """One Q4_K block written out byte by byte from the layout description (reference for --test-q4k)."""
    scales = [0] * 12
    for j in range(8):
        if j < 4:
            scales[j] = sc[j] & 63
            scales[j + 4] = mq[j] & 63
        else:
            scales[j + 4] = (sc[j] & 0xF) | ((mq[j] & 0xF) << 4)
            scales[j - 4] |= (sc[j] >> 4) << 6
            scales[j] |= (mq[j] >> 4) << 6
    qs = bytearray(128)
    for g in range(4):
        for i in range(32):
            qs[32 * g + i] = int(q[2 * g, i]) | (int(q[2 * g + 1, i]) << 4)
    return np.array([d, dmin], dtype="<f2").tobytes() + bytes(scales) + bytes(qs)


def test_q4_k() -> None:
    """Our encoder against gguf-py's Q4_K dequantizer (the ground truth for the format)."""
    deq = lambda b: gguf.quants.dequantize(b, QT.Q4_K)  # noqa: E731
    rng = np.random.default_rng(1234)

    # 1. hand-made blocks: x = d sc_j q - dmin m_j with every sub-block using q = 0 and 15, max sc and m = 63
    #    and power-of-two d, dmin -- the encoder must recover exactly these parameters and bytes.
    cases = [
        (2.0 ** -6, 2.0 ** -7, [63, 17, 5, 40, 33, 1, 48, 22], [9, 63, 30, 2, 50, 0, 63, 31]),
        (2.0 ** -3, 2.0 ** -5, [1, 63, 16, 32, 63, 48, 31, 15], [63, 0, 1, 47, 16, 32, 61, 15]),
        (2.0 ** -8, 2.0 ** -8, [63] * 8, [63] * 8),
    ]
    for d, dmin, sc, mq in cases:
        q = rng.integers(0, 16, size=(8, 32))
        q[:, 0], q[:, 1] = 0, 15
        x = (np.float32(d) * np.array(sc, np.float32)[:, None] * q
             - np.float32(dmin) * np.array(mq, np.float32)[:, None]).astype(np.float32).reshape(1, QK_K)
        ref = _pack_q4_k_block(d, dmin, sc, mq, q)
        got = quantize_q4_k(x)
        assert got.tobytes() == ref, "Q4_K encoder bytes differ from the hand-packed block"
        assert np.array_equal(deq(np.frombuffer(ref, np.uint8).reshape(1, 144)), x), "gguf-py decodes differently"
        assert np.array_equal(deq(got), x)
    print(f"Q4_K hand-made blocks: {len(cases)} exact round trips (bytes = hand-packed reference, "
          f"gguf-py dequantize = x)")

    # 2. edge cases: zeros, constants, all-positive / all-negative sub-blocks, a zero sub-block
    e = np.zeros((6, QK_K), np.float32)
    e[1] = -0.75
    e[2] = 0.5
    e[3] = np.abs(rng.standard_normal(QK_K))
    e[4] = -np.abs(rng.standard_normal(QK_K))
    e[5] = rng.standard_normal(QK_K)
    e[5, 64:96] = 0
    de = deq(quantize_q4_k(e))
    assert np.all(np.isfinite(de)) and np.array_equal(de[0], e[0])
    err = np.abs(de - e).max(axis=-1)
    print("Q4_K edge cases (zeros, const -0.75, const 0.5, all >= 0, all <= 0, zero sub-block): max |err| "
          + ", ".join(f"{v:.3g}" for v in err))
    assert np.all(err <= 0.2 * np.maximum(np.abs(e).max(axis=-1), 1e-30) + 1e-6)

    # 3. random data: relative RMS error (Q8_0 and unquantized-scale Q4 for scale)
    def rel(a, b):
        return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2) / np.mean(b.astype(np.float64) ** 2)))

    for label, x in [
        ("normal(0, 0.03), 4096 x 1024", (rng.standard_normal((4096, 1024)) * 0.03).astype(np.float32)),
        ("normal, per-row std 1e-3..10", (rng.standard_normal((1024, 1024))
                                          * 10 ** rng.uniform(-3, 1, (1024, 1))).astype(np.float32)),
        ("uniform(-1, 1)", rng.uniform(-1, 1, (1024, 1024)).astype(np.float32)),
        ("normal + 1 (all-positive-ish)", (rng.standard_normal((1024, 1024)) + 1).astype(np.float32)),
    ]:
        t0 = time.perf_counter()
        b = quantize_q4_k(x)
        dt = time.perf_counter() - t0
        y = deq(b.reshape(-1, 144)).reshape(x.shape)
        r = rel(y, x)
        r8 = rel(gguf.quants.dequantize(gguf.quants.quantize(x, QT.Q8_0), QT.Q8_0), x)
        print(f"Q4_K random {label:32s}: rel RMS err {r:.4f} (Q8_0 {r8:.4f}); "
              f"{x.size / dt / 1e6:.0f} M values/s")
        assert r < 0.12, r
    print("Q4_K self-test OK")


# ---------------------------------------------------------------------------------------------------
# tokenizer


def byte_level_chars() -> list[str]:
    """GPT-2 byte-level alphabet: the character standing for byte b, b = 0..255."""
    direct = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in direct:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def vocabulary(vocab_size: int) -> tuple[list[str], list[int]]:
    tokens = byte_level_chars()
    types = [int(gguf.TokenType.NORMAL)] * 256
    # ids 0 and 1 are the bos / eos special tokens; the converter stores them decoded, as control tokens
    tokens[0], tokens[1] = "\x00", "\x01"
    types[0] = types[1] = int(gguf.TokenType.CONTROL)
    for i in range(256, vocab_size):
        tokens.append(f"<|t{i}|>")
        types.append(int(gguf.TokenType.NORMAL))
    return tokens, types


# ---------------------------------------------------------------------------------------------------
# writing


def add_metadata(wr: gguf.GGUFWriter, c: dict, file_type: int, size_label: str) -> None:
    """Same keys, value types and order as llama.cpp's converter writes for DeepSeek-V3."""
    a = ARCH
    wr.add_type("model")
    wr.add_name(NAME)
    wr.add_size_label(size_label)
    wr.add_uint32(f"{a}.block_count", c["num_hidden_layers"])
    wr.add_uint32(f"{a}.context_length", c["max_position_embeddings"])
    wr.add_uint32(f"{a}.embedding_length", c["hidden_size"])
    wr.add_uint32(f"{a}.feed_forward_length", c["intermediate_size"])
    wr.add_uint32(f"{a}.attention.head_count", c["num_attention_heads"])
    wr.add_uint32(f"{a}.attention.head_count_kv", 1)  # MLA stored as MQA
    wr.add_string(f"{a}.rope.scaling.type", "yarn")
    wr.add_float32(f"{a}.rope.scaling.factor", c["rope_factor"])
    wr.add_uint32(f"{a}.rope.scaling.original_context_length", c["original_max_position_embeddings"])
    wr.add_float32(f"{a}.rope.scaling.yarn_beta_fast", c["beta_fast"])
    wr.add_float32(f"{a}.rope.scaling.yarn_beta_slow", c["beta_slow"])
    wr.add_float32(f"{a}.rope.freq_base", c["rope_theta"])
    wr.add_float32(f"{a}.attention.layer_norm_rms_epsilon", c["rms_norm_eps"])
    wr.add_uint32(f"{a}.expert_count", c["n_routed_experts"])
    wr.add_uint32(f"{a}.expert_used_count", c["num_experts_per_tok"])
    wr.add_uint32(f"{a}.expert_group_count", c["n_group"])
    wr.add_uint32(f"{a}.expert_group_used_count", c["topk_group"])
    wr.add_uint32(f"{a}.expert_gating_func", 2)  # sigmoid
    wr.add_uint32(f"{a}.attention.key_length", c["kv_lora_rank"] + c["qk_rope_head_dim"])
    wr.add_uint32(f"{a}.attention.value_length", c["kv_lora_rank"])
    wr.add_uint32("general.file_type", file_type)
    wr.add_uint32(f"{a}.leading_dense_block_count", c["first_k_dense_replace"])
    wr.add_uint32(f"{a}.vocab_size", c["vocab_size"])
    wr.add_uint32(f"{a}.attention.q_lora_rank", c["q_lora_rank"])
    wr.add_uint32(f"{a}.attention.kv_lora_rank", c["kv_lora_rank"])
    wr.add_uint32(f"{a}.attention.key_length_mla", c["qk_nope_head_dim"] + c["qk_rope_head_dim"])
    wr.add_uint32(f"{a}.attention.value_length_mla", c["v_head_dim"])
    wr.add_uint32(f"{a}.expert_feed_forward_length", c["moe_intermediate_size"])
    wr.add_uint32(f"{a}.expert_shared_count", c["n_shared_experts"])
    wr.add_float32(f"{a}.expert_weights_scale", c["routed_scaling_factor"])
    if c["norm_topk_prob"]:
        wr.add_bool(f"{a}.expert_weights_norm", True)
    wr.add_uint32(f"{a}.rope.dimension_count", c["qk_rope_head_dim"])
    wr.add_float32(f"{a}.rope.scaling.yarn_log_multiplier", 0.1 * c["mscale_all_dim"])
    wr.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, types = vocabulary(c["vocab_size"])
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("deepseek-v3")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    # llama.cpp refuses a gpt2 vocabulary without merges; one merge of two byte symbols
    # (whose result is not a token, so it never applies) makes the file load there too.
    wr.add_token_merges(["\u0120 \u0120"])
    wr.add_bos_token_id(0)
    wr.add_eos_token_id(1)
    wr.add_add_bos_token(False)
    wr.add_add_eos_token(False)


def generate(spec: Spec, qtype: QT, seed: int) -> np.ndarray:
    """The tensor's data in its GGUF encoding: float32 / float16 array or uint8 blocks (numpy shape)."""
    if spec.kind == "ones":
        return np.ones(spec.np_shape, dtype=np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode())])
    ne0 = spec.ne[0]
    rows = spec.n // ne0
    step = max(1, CHUNK_ELEMENTS // ne0)
    if qtype in (QT.F32, QT.F16):
        out = np.empty((rows, ne0), dtype=np.float32 if qtype == QT.F32 else np.float16)
    else:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        out = np.empty((rows, ne0 // block * size), dtype=np.uint8)
    std = np.float32(spec.std)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        x = rng.standard_normal((r1 - r0, ne0), dtype=np.float32)
        x *= std
        out[r0:r1] = quantize_q4_k(x) if qtype == QT.Q4_K else gguf.quants.quantize(x, qtype)
    return out.reshape(spec.np_shape[:-1] + (out.shape[-1],))


def default_out(type_name: str) -> str:
    home = os.environ.get("SWIFTSEEK_HOME") or os.path.expanduser("~/.cache/swiftseek")
    return os.path.join(home, "synthetic", f"{FILE_STEM}-{type_name}.gguf")


def fmt(n: int) -> str:
    return f"{n:,} ({n / 1e6:.1f} M)"


def write(path: str, type_name: str, seed: int, c: dict) -> None:
    wtype, ftype = TYPES[type_name]
    specs = plan(c)
    counts = param_counts(specs, c)

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".partial"
    wr = gguf.GGUFWriter(tmp, ARCH)  # adds general.architecture
    types = []
    for s in specs:
        qt = tensor_type(s, wtype)
        types.append(qt)
        wr.add_tensor_info(s.name, s.np_shape, np.dtype(np.float32), nbytes(s, qt), raw_dtype=qt)
    total, shared, expert, n_exp = wr.get_total_parameter_count()
    assert total == counts["total"], (total, counts["total"])
    label = gguf.size_label(total, shared, expert, n_exp)
    add_metadata(wr, c, int(ftype), label)

    print(f"writing {path}  ({type_name}, seed {seed}, {len(specs)} tensors, size label {label})")
    t0 = time.perf_counter()
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_ti_data_to_file()
    done = 0
    for i, (s, qt) in enumerate(zip(specs, types)):
        data = generate(s, qt, seed)
        wr.write_tensor_data(data)
        done += s.n
        if s.name.endswith("attn_q_b.weight") or s.name.endswith("output_norm.weight"):
            el = time.perf_counter() - t0
            print(f"  {s.name.split('.')[0] + '.' + s.name.split('.')[1] if s.name.startswith('blk') else 'done'}"
                  f"  {done / counts['total'] * 100:5.1f}%  {el:6.1f} s", flush=True)
    wr.close()
    os.replace(tmp, path)
    el = time.perf_counter() - t0

    cats = counts["cats"]
    print(f"\nfile          {path}")
    print(f"size          {os.path.getsize(path):,} bytes ({os.path.getsize(path) / 2**30:.3f} GiB)")
    print(f"time          {el:.1f} s")
    print(f"total params  {fmt(counts['total'])}")
    print(f"active/token  {fmt(counts['active'])}  = {counts['active'] / counts['total'] * 100:.1f}% "
          f"(routed experts {c['num_experts_per_tok']}/{c['n_routed_experts']})")
    print(f"  without token_embd (a lookup): {fmt(counts['active_no_embed'])} of {fmt(counts['total_no_embed'])}"
          f" = {counts['active_no_embed'] / counts['total_no_embed'] * 100:.1f}%")
    print("  breakdown: " + ", ".join(f"{k} {v / 1e6:.1f}M" for k, v in cats.items()))


# ---------------------------------------------------------------------------------------------------
# check


def check(path: str, c: dict, n_tokens: int = 12) -> None:
    t0 = time.perf_counter()
    r = gguf.GGUFReader(path)
    T = {t.name: t for t in r.tensors}
    keys = {k: f.types for k, f in r.fields.items() if not k.startswith("GGUF.")}

    ok = True
    if os.path.exists(REFERENCE):
        ref = gguf.GGUFReader(REFERENCE)
        rkeys = {k: f.types for k, f in ref.fields.items() if not k.startswith("GGUF.")}
        if list(rkeys) != list(keys):
            ok = False
            print("metadata keys differ from the reference:",
                  "missing", sorted(set(rkeys) - set(keys)), "extra", sorted(set(keys) - set(rkeys)),
                  "(or order)" if set(rkeys) == set(keys) else "")
        bad = [k for k in rkeys if k in keys and rkeys[k] != keys[k]]
        if bad:
            ok = False
            print("metadata value types differ:", bad)
        rtok = ref.fields["tokenizer.ggml.tokens"].contents()
        if r.fields["tokenizer.ggml.tokens"].contents()[:len(rtok)] != rtok or \
                r.fields["tokenizer.ggml.token_type"].contents()[:len(rtok)] != \
                ref.fields["tokenizer.ggml.token_type"].contents():
            ok = False
            print("first 256 tokens / types differ from the reference")

        def layer_pattern(reader, bid):
            return [(t.name.split(".", 2)[2], len(t.shape)) for t in reader.tensors if t.name.startswith(f"blk.{bid}.")]

        rglob = [t.name for t in ref.tensors if not t.name.startswith("blk.")]
        glob = [t.name for t in r.tensors if not t.name.startswith("blk.")]
        ref_dense = ref.fields["deepseek2.leading_dense_block_count"].contents()
        if rglob != glob or layer_pattern(ref, 0) != layer_pattern(r, 0) or \
                layer_pattern(ref, ref_dense) != layer_pattern(r, c["first_k_dense_replace"]):
            ok = False
            print("tensor naming / order / rank differs from the reference")
        print(f"reference comparison ({os.path.relpath(REFERENCE, ROOT)}): {'OK' if ok else 'MISMATCH'}")
    else:
        print(f"(reference {REFERENCE} absent: structure comparison skipped)")
    print("tensor types:", sorted({t.tensor_type.name for t in r.tensors}),
          "| F32:", sorted({t.name.split(".", 2)[-1] if t.name.startswith("blk.") else t.name
                            for t in r.tensors if t.tensor_type == QT.F32}))

    def W(name, index=None):
        t = T[name]
        data = t.data if index is None else t.data[index]
        return gguf.quants.dequantize(np.asarray(data), t.tensor_type).astype(np.float32)

    d, H, eps = c["hidden_size"], c["num_attention_heads"], c["rms_norm_eps"]
    kvr, dn, dr, dv = c["kv_lora_rank"], c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    E, k, G, TG = c["n_routed_experts"], c["num_experts_per_tok"], c["n_group"], c["topk_group"]

    def rms(x):
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))

    def rmsnorm(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    def rope(x, pos):  # x [..., T, dr], adjacent pairs
        inv = c["rope_theta"] ** (-np.arange(0, dr, 2, dtype=np.float64) / dr)
        ang = pos[:, None] * inv[None, :]
        cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def silu(x):
        return x / (1.0 + np.exp(-x))

    rng = np.random.default_rng(1)
    ids = rng.integers(2, c["vocab_size"], size=n_tokens)
    pos = np.arange(n_tokens, dtype=np.float64)
    mscale = 0.1 * c["mscale_all_dim"] * math.log(c["rope_factor"]) + 1.0
    scale = mscale * mscale / math.sqrt(dn + dr)
    mask = np.triu(np.full((n_tokens, n_tokens), -np.inf, dtype=np.float32), 1)

    x = W("token_embd.weight", ids)  # [T, d]
    line = [f"emb {rms(x):.2f}"]
    used = set()
    for i in range(c["num_hidden_layers"]):
        p = f"blk.{i}."
        h = rmsnorm(x, W(p + "attn_norm.weight"))
        q = rmsnorm(h @ W(p + "attn_q_a.weight").T, W(p + "attn_q_a_norm.weight")) @ W(p + "attn_q_b.weight").T
        q = q.reshape(n_tokens, H, dn + dr).transpose(1, 0, 2)  # [H, T, dn+dr]
        kv = h @ W(p + "attn_kv_a_mqa.weight").T
        ckv = rmsnorm(kv[:, :kvr], W(p + "attn_kv_a_norm.weight"))  # [T, r]
        k_pe = rope(kv[:, kvr:], pos)  # [T, dr]
        q_pe = rope(q[..., dn:], pos)
        k_nope = np.einsum("tr,hrd->htd", ckv, W(p + "attn_k_b.weight"))  # k_b [H, r, dn]
        v = np.einsum("tr,hdr->htd", ckv, W(p + "attn_v_b.weight"))  # v_b [H, dv, r]
        s = (np.einsum("hqd,hkd->hqk", q[..., :dn], k_nope) + np.einsum("hqd,kd->hqk", q_pe, k_pe)) * scale + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hqk,hkd->qhd", s, v).reshape(n_tokens, H * dv)
        x = x + o @ W(p + "attn_output.weight").T
        h = rmsnorm(x, W(p + "ffn_norm.weight"))
        if i < c["first_k_dense_replace"]:
            f = (silu(h @ W(p + "ffn_gate.weight").T) * (h @ W(p + "ffn_up.weight").T)) @ W(p + "ffn_down.weight").T
        else:
            score = 1.0 / (1.0 + np.exp(-(h @ W(p + "ffn_gate_inp.weight").T)))  # [T, E]
            sel = score + W(p + "exp_probs_b.bias")
            grp = np.sort(sel.reshape(n_tokens, G, E // G), axis=-1)[..., -2:].sum(-1)  # [T, G]
            keep = np.argsort(-grp, axis=-1)[:, :TG]
            gmask = np.full((n_tokens, G), -np.inf, dtype=np.float32)
            np.put_along_axis(gmask, keep, 0.0, axis=-1)
            sel = sel + np.repeat(gmask, E // G, axis=-1)
            top = np.argsort(-sel, axis=-1)[:, :k]  # [T, k]
            wts = np.take_along_axis(score, top, axis=-1)
            if c["norm_topk_prob"]:
                wts = wts / wts.sum(-1, keepdims=True)
            wts = wts * c["routed_scaling_factor"]
            f = np.zeros_like(x)
            for e in np.unique(top):  # dequantize each selected expert once
                used.add((i, int(e)))
                rows, slot = np.nonzero(top == e)
                he = h[rows]
                y = silu(he @ W(p + "ffn_gate_exps.weight", e).T) * (he @ W(p + "ffn_up_exps.weight", e).T)
                f[rows] += wts[rows, slot][:, None] * (y @ W(p + "ffn_down_exps.weight", e).T)
            f += (silu(h @ W(p + "ffn_gate_shexp.weight").T) * (h @ W(p + "ffn_up_shexp.weight").T)) \
                @ W(p + "ffn_down_shexp.weight").T
        x = x + f
        line.append(f"L{i} {rms(x):.2f}")
    logits = rmsnorm(x, W("output_norm.weight")) @ W("output.weight").T
    print("residual RMS: " + ", ".join(line))
    n_moe = c["num_hidden_layers"] - c["first_k_dense_replace"]
    prob = np.exp(logits - logits.max(-1, keepdims=True))
    prob /= prob.sum(-1, keepdims=True)
    print(f"logits: std {logits.std():.2f}, max |logit| {np.abs(logits).max():.2f}, "
          f"mean top-1 probability {prob.max(-1).mean():.4f}; "
          f"distinct (layer, expert) pairs hit: {len(used)} for {n_tokens * k * n_moe} routings")
    assert np.all(np.isfinite(logits))
    print(f"check done in {time.perf_counter() - t0:.1f} s")
    if not ok:
        raise SystemExit("structure check failed")


# ---------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--type", choices=sorted(TYPES), default="q8_0", help="weight encoding (default q8_0)")
    ap.add_argument("--out", help="output path (default $SWIFTSEEK_HOME/synthetic/" + FILE_STEM + "-<type>.gguf)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="read the file back and run a small numpy forward pass")
    ap.add_argument("--check-only", action="store_true", help="only check an existing file")
    ap.add_argument("--test-q4k", action="store_true", help="self-test the Q4_K encoder against gguf-py, exit")
    args = ap.parse_args()
    if args.test_q4k:
        test_q4_k()
        return
    out = args.out or default_out(args.type)
    if not args.check_only:
        write(out, args.type, args.seed, CONFIG)
    if args.check or args.check_only:
        print()
        check(out, CONFIG)


if __name__ == "__main__":
    sys.exit(main())
