#!/usr/bin/env python3
"""Generate tiny random-weight GGUF models and reference logits for SwiftSeek.

Writes, under Tests/Fixtures/tiny/:

  tiny-llama.gguf          architecture "llama"  (separate output.weight)
  tiny-qwen2.gguf          architecture "qwen2"  (q/k/v biases, tied output:
                           no output.weight, token_embd is reused)
  tiny-llama.logits.json   {"tokens": [24 ids], "logits": [[256 floats] x 24]}
  tiny-qwen2.logits.json

Model shape: vocab 256, hidden 64, 2 layers, 4 heads, 2 KV heads (head_dim 16),
FFN 128, context 256.  Tensor names / metadata keys follow what llama.cpp's
converter writes.  Tensor types:
  token_embd.weight            Q8_0
  blk.N.attn_{q,k,v,output}    F16
  blk.0.ffn_{gate,up,down}     Q4_0
  blk.1.ffn_{gate,up,down}     Q8_0
  blk.N.attn_{q,k,v}.bias      F32 (qwen2 only)
  *_norm.weight                F32
  output.weight                F32 (llama only)
Quantization uses gguf.quants.quantize (gguf PyPI package 0.19.0).

The tokenizer metadata is a minimal byte-level GPT-2 BPE vocabulary: the 256
GPT-2 byte-to-unicode characters in byte order (token id == byte value),
token_type 1 (normal) for all, an EMPTY merges array, bos=0, eos=1.

Reference logits are produced by Hugging Face transformers loading the GGUF
(AutoModelForCausalLM.from_pretrained(dir, gguf_file=...), float32), which
dequantizes with gguf-py and un-permutes llama Q/K.  They are cross-checked
against an independent float64 numpy forward pass that works directly on the
GGUF tensors the way llama.cpp does (llama: adjacent-pair "normal" RoPE on the
stored, permuted Q/K; qwen2: NeoX half-split RoPE).  If transformers is not
importable the numpy logits are written instead (and the script says so).

Deterministic (fixed seeds).  Run from the repository root:

    python scripts/gen_tiny_models.py

Options: --out DIR, --numpy-only (skip transformers).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

VOCAB = 256
HIDDEN = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2
HEAD_DIM = HIDDEN // HEADS
FFN = 128
CTX = 256

# 24 fixed token ids: the bytes of this string (token id == byte value)
PROMPT = b"The quick brown fox jump"
TOKENS = list(PROMPT)
assert len(TOKENS) == 24

ARCHS = {
    # arch: (seed, rope base, rms eps, has qkv bias, tied output, token_embd std)
    # (qwen2 ties output to token_embd; a small embedding std keeps the logits
    # from being dominated by "predict the input token")
    "llama": (1234, 10000.0, 1e-5, False, False, 1.0),
    "qwen2": (5678, 1000000.0, 1e-6, True, True, 0.2),
}

FFN_TYPES = {0: QT.Q4_0, 1: QT.Q8_0}


# --------------------------------------------------------------------------
# tokenizer: GPT-2 byte <-> unicode table (our own implementation)
# --------------------------------------------------------------------------

def gpt2_byte_chars() -> list[str]:
    """Return, for each byte value 0..255, the printable unicode character GPT-2
    byte-level BPE uses for it.  Printable Latin-1 bytes map to themselves;
    the remaining bytes map, in increasing byte order, to U+0100, U+0101, ..."""
    printable = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    chars = []
    extra = 0
    for b in range(256):
        if b in printable:
            chars.append(chr(b))
        else:
            chars.append(chr(0x100 + extra))
            extra += 1
    assert len(set(chars)) == 256
    return chars


class _Writer(gguf.GGUFWriter):
    """GGUFWriter that can also write an empty typed array (gguf-py refuses
    empty arrays; llama.cpp requires tokenizer.ggml.merges to exist)."""

    def _pack_val(self, val, vtype, add_vtype, sub_type=None):  # type: ignore[override]
        if vtype == VT.ARRAY and sub_type is not None and len(val) == 0:
            out = b""
            if add_vtype:
                out += struct.pack("<I", int(vtype))
            return out + struct.pack("<IQ", int(sub_type), 0)
        return super()._pack_val(val, vtype, add_vtype, sub_type)


# --------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------

def make_weights(arch: str) -> dict[str, np.ndarray]:
    """Float32 master weights, numpy shapes (rows=ne1, cols=ne0) as gguf-py uses."""
    seed, _, _, bias, tied, embd_std = ARCHS[arch]
    rng = np.random.default_rng(seed)
    f = np.float32

    def n(shape, std):
        return (rng.standard_normal(shape) * std).astype(f)

    w: dict[str, np.ndarray] = {}
    w["token_embd.weight"] = n((VOCAB, HIDDEN), embd_std)
    for i in range(LAYERS):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = (1.0 + n((HIDDEN,), 0.1)).astype(f)
        w[p + "attn_q.weight"] = n((HEADS * HEAD_DIM, HIDDEN), 0.125)
        w[p + "attn_k.weight"] = n((KV_HEADS * HEAD_DIM, HIDDEN), 0.125)
        w[p + "attn_v.weight"] = n((KV_HEADS * HEAD_DIM, HIDDEN), 0.125)
        if bias:
            w[p + "attn_q.bias"] = n((HEADS * HEAD_DIM,), 0.5)
            w[p + "attn_k.bias"] = n((KV_HEADS * HEAD_DIM,), 0.5)
            w[p + "attn_v.bias"] = n((KV_HEADS * HEAD_DIM,), 0.5)
        w[p + "attn_output.weight"] = n((HIDDEN, HEADS * HEAD_DIM), 0.125)
        w[p + "ffn_norm.weight"] = (1.0 + n((HIDDEN,), 0.1)).astype(f)
        w[p + "ffn_gate.weight"] = n((FFN, HIDDEN), 0.125)
        w[p + "ffn_up.weight"] = n((FFN, HIDDEN), 0.125)
        w[p + "ffn_down.weight"] = n((HIDDEN, FFN), 0.09)
    w["output_norm.weight"] = (1.0 + n((HIDDEN,), 0.1)).astype(f)
    if not tied:
        w["output.weight"] = n((VOCAB, HIDDEN), 0.125)
    return w


def tensor_type(name: str) -> QT:
    if name == "token_embd.weight":
        return QT.Q8_0
    if ".attn_" in name and name.endswith(".weight") and "norm" not in name:
        return QT.F16
    if ".ffn_" in name and "norm" not in name:
        return FFN_TYPES[int(name.split(".")[1])]
    return QT.F32      # norms, biases, output.weight


def write_gguf(arch: str, path: str) -> None:
    _, rope_base, eps, _, _, _ = ARCHS[arch]
    w = make_weights(arch)
    wr = _Writer(path, arch)
    wr.add_name(f"tiny-{arch}")
    wr.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    wr.add_quantization_version(gguf.GGML_QUANT_VERSION)
    wr.add_vocab_size(VOCAB)
    wr.add_context_length(CTX)
    wr.add_embedding_length(HIDDEN)
    wr.add_block_count(LAYERS)
    wr.add_feed_forward_length(FFN)
    wr.add_head_count(HEADS)
    wr.add_head_count_kv(KV_HEADS)
    wr.add_layer_norm_rms_eps(eps)
    wr.add_rope_freq_base(rope_base)
    wr.add_rope_dimension_count(HEAD_DIM)

    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("gpt-2")
    wr.add_token_list(gpt2_byte_chars())
    wr.add_token_types([int(gguf.TokenType.NORMAL)] * VOCAB)
    wr.add_key_value(gguf.Keys.Tokenizer.MERGES, [], VT.ARRAY, sub_type=VT.STRING)
    wr.add_bos_token_id(0)
    wr.add_eos_token_id(1)

    for name, arr in w.items():
        qt = tensor_type(name)
        if qt == QT.F32:
            wr.add_tensor(name, arr.astype(np.float32))
        elif qt == QT.F16:
            wr.add_tensor(name, arr.astype(np.float16))
        else:
            wr.add_tensor(name, gguf.quants.quantize(arr, qt), raw_dtype=qt)

    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


# --------------------------------------------------------------------------
# independent numpy reference (llama.cpp semantics, directly on GGUF tensors)
# --------------------------------------------------------------------------

def load_gguf_f64(path: str) -> tuple[dict[str, np.ndarray], gguf.GGUFReader]:
    r = gguf.GGUFReader(path)
    t = {}
    for ti in r.tensors:
        v = np.asarray(gguf.quants.dequantize(ti.data, ti.tensor_type), dtype=np.float64)
        # numpy shape = reversed GGUF dims (ne0 is the last / fastest axis)
        t[ti.name] = v.reshape([int(d) for d in reversed(ti.shape)])
    return t, r


def rope(x: np.ndarray, base: float, neox: bool) -> np.ndarray:
    """x: (T, H, D).  normal: rotate pairs (2i, 2i+1); neox: pairs (i, i + D/2)."""
    T, _, D = x.shape
    inv = base ** (-np.arange(0, D, 2, dtype=np.float64) / D)            # (D/2,)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]          # (T, D/2)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    out = np.empty_like(x)
    if neox:
        a, b = x[..., :D // 2], x[..., D // 2:]
        out[..., :D // 2] = a * cos - b * sin
        out[..., D // 2:] = a * sin + b * cos
    else:
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
    return out


def numpy_forward(arch: str, path: str, tokens: list[int]) -> np.ndarray:
    t, r = load_gguf_f64(path)

    def kv(key):
        f = r.fields[f"{arch}.{key}"]
        return f.contents()

    n_head, n_kv = int(kv("attention.head_count")), int(kv("attention.head_count_kv"))
    eps, base = float(kv("attention.layer_norm_rms_epsilon")), float(kv("rope.freq_base"))
    n_layer = int(kv("block_count"))
    neox = arch == "qwen2"

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    T = len(tokens)
    x = t["token_embd.weight"][tokens]                                    # (T, E)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(n_layer):
        p = f"blk.{i}."
        h = rms(x, t[p + "attn_norm.weight"])
        q = h @ t[p + "attn_q.weight"].T
        k = h @ t[p + "attn_k.weight"].T
        v = h @ t[p + "attn_v.weight"].T
        if p + "attn_q.bias" in t:
            q = q + t[p + "attn_q.bias"]
            k = k + t[p + "attn_k.bias"]
            v = v + t[p + "attn_v.bias"]
        hd = q.shape[1] // n_head
        q = rope(q.reshape(T, n_head, hd), base, neox)
        k = rope(k.reshape(T, n_kv, hd), base, neox)
        v = v.reshape(T, n_kv, hd)
        att = np.empty((T, n_head, hd))
        for hh in range(n_head):
            g = hh // (n_head // n_kv)
            s = q[:, hh, :] @ k[:, g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            att[:, hh, :] = s @ v[:, g, :]
        x = x + att.reshape(T, -1) @ t[p + "attn_output.weight"].T
        h = rms(x, t[p + "ffn_norm.weight"])
        gate = h @ t[p + "ffn_gate.weight"].T
        up = h @ t[p + "ffn_up.weight"].T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ t[p + "ffn_down.weight"].T
    x = rms(x, t["output_norm.weight"])
    out_w = t.get("output.weight", t["token_embd.weight"])
    return x @ out_w.T                                                    # (T, V)


# --------------------------------------------------------------------------
# transformers reference
# --------------------------------------------------------------------------

def transformers_logits(directory: str, fname: str, tokens: list[int]) -> np.ndarray:
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        directory, gguf_file=fname, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config
    print(f"    transformers {transformers.__version__}: {type(model).__name__} "
          f"hidden={cfg.hidden_size} layers={cfg.num_hidden_layers} heads={cfg.num_attention_heads}/"
          f"{cfg.num_key_value_heads} vocab={cfg.vocab_size} eps={cfg.rms_norm_eps} "
          f"rope={getattr(cfg, 'rope_parameters', None) or getattr(cfg, 'rope_theta', None)} "
          f"tied={cfg.tie_word_embeddings}")
    with torch.no_grad():
        out = model(torch.tensor([tokens], dtype=torch.long), use_cache=False)
    return out.logits[0].to(torch.float32).numpy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "Tests", "Fixtures", "tiny"))
    ap.add_argument("--numpy-only", action="store_true", help="do not use transformers")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    use_tf = not args.numpy_only
    if use_tf:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except Exception as e:  # noqa: BLE001
            print(f"transformers/torch unavailable ({e}); using the numpy reference", file=sys.stderr)
            use_tf = False

    for arch in ARCHS:
        fname = f"tiny-{arch}.gguf"
        path = os.path.join(args.out, fname)
        write_gguf(arch, path)
        print(f"{fname}: {os.path.getsize(path)} bytes")

        ref_np = numpy_forward(arch, path, TOKENS)
        source = "numpy"
        logits = ref_np
        if use_tf:
            # load from a private directory holding only the GGUF
            with tempfile.TemporaryDirectory() as tmp:
                os.symlink(os.path.abspath(path), os.path.join(tmp, fname))
                ref_tf = transformers_logits(tmp, fname, TOKENS)
            diff = np.abs(ref_tf.astype(np.float64) - ref_np).max()
            print(f"    max |transformers - numpy| = {diff:.3e}  (logit absmax {np.abs(ref_np).max():.3f})")
            if diff > 1e-3:
                print(f"error: transformers and numpy references disagree for {arch}", file=sys.stderr)
                return 1
            logits, source = ref_tf, "transformers"
        assert logits.shape == (len(TOKENS), VOCAB) and np.isfinite(logits).all()
        argmax = logits.argmax(axis=-1).tolist()
        print(f"    reference={source} argmax per position={argmax}")

        doc = {"tokens": TOKENS,
               "logits": [[float(f"{v:.9g}") for v in row] for row in logits.astype(np.float32)]}
        with open(os.path.join(args.out, f"tiny-{arch}.logits.json"), "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
