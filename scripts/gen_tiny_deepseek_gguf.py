#!/usr/bin/env python3
"""Convert the tiny DeepSeek fixtures to GGUF with llama.cpp's own converter (convert_hf_to_gguf.py).

Writes, under Tests/Fixtures/deepseek/gguf/:

  <model>-f32.gguf     --outtype f32   }  model in {v3-tiny, v2-lite-tiny, v2-glg-tiny},
  <model>-q8_0.gguf    --outtype q8_0  }  converter of llama-cpp-python NEW_VERSION (split attn_k_b/attn_v_b)
  v3-tiny-f32-kvb.gguf --outtype f32      converter of llama-cpp-python OLD_VERSION (one attn_kv_b per layer)

The converter is not vendored in this repository.  It is taken from the llama-cpp-python source
distribution on PyPI (vendor/llama.cpp/convert_hf_to_gguf.py, vendor/llama.cpp/conversion/ when present,
vendor/llama.cpp/gguf-py), downloaded with `pip download` into a cache outside the repository
($SWIFTSEEK_CACHE or ~/.cache/swiftseek, one llama-cpp-python-<version>/ folder per version) and checked
against the sha256 below.  It runs in a subprocess with the sdist's own gguf-py first on sys.path.

Nothing in Tests/Fixtures/deepseek/<model>/ is modified.  Each model folder is copied to a temporary
directory (keeping its folder name, which the converter turns into general.name) and converted from there.
Deviations from a plain `python convert_hf_to_gguf.py <folder>` run, all outside the repository:

  * Pre-tokenizer: the converter identifies the pre-tokenizer by hashing the tokenization of a fixed text
    and refuses unknown hashes.  Our 256-token byte-level tokenizer (no merges) is of course unknown, so
    get_vocab_base_pre is wrapped (monkey-patched in the subprocess, the converter files are not edited):
    when the original raises NotImplementedError the wrapper returns the label llama.cpp gives the real
    checkpoints: "deepseek-v3" (DeepSeek-V3) for v3-tiny, "deepseek-llm" (DeepSeek-V2 / V2-Lite) for the
    V2 models.  With no merges every byte is its own token whatever the pre-tokenizer splits, so the label
    does not change any token ids.
  * OLD_VERSION only: its DeepSeek code reads the config the way released checkpoints write it (top-level
    rope_theta, rope_scaling = {"type": "yarn", ...}) and fails on transformers-5's extra head_dim key
    (duplicate attention.key_length).  The temporary copy's config.json is rewritten exactly like
    scripts/gen_tiny_deepseek.py's legacy_config(): rope_parameters -> top-level rope_theta + rope_scaling
    (rope_type -> type, other entries unchanged), head_dim and qk_head_dim removed.  No value changes.
    NEW_VERSION converts the repository config.json as is.

After writing, every tensor is checked against model.safetensors with numpy (f32: bit-exact after the
converter's known re-layouts; q8_0: dequantized, error <= half a quantization step) and the metadata
that matters is checked against config.json.  --dump prints all metadata and layer 0/1 + global tensors.

    /work/refenv/bin/python scripts/gen_tiny_deepseek_gguf.py [--dump] [--out DIR] [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "deepseek")
DEFAULT_OUT = os.path.join(FIXTURES, "gguf")

NEW_VERSION = "0.3.36"  # converter splits kv_b_proj into attn_k_b (transposed) + attn_v_b
OLD_VERSION = "0.3.8"   # converter keeps one attn_kv_b
SDIST_SHA256 = {
    "0.3.36": "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e",
    "0.3.8": "31c91323b555c025a76a30923cead9f5695da103dd68c15cdbb4509b17f0ed77",
}

MODELS = ["v3-tiny", "v2-lite-tiny", "v2-glg-tiny"]
PRE_LABEL = {"v3-tiny": "deepseek-v3", "v2-lite-tiny": "deepseek-llm", "v2-glg-tiny": "deepseek-llm"}

# (model, outtype, converter version, legacy config, output file)
JOBS = [(m, t, NEW_VERSION, False, f"{m}-{t}.gguf") for m in MODELS for t in ("f32", "q8_0")] + [
    ("v3-tiny", "f32", OLD_VERSION, True, "v3-tiny-f32-kvb.gguf")
]

# Runs in the subprocess: argv = [conv_dir, pre_label, converter args...]
WRAPPER = r"""
import importlib, sys
conv_dir, label = sys.argv[1], sys.argv[2]
sys.argv = [conv_dir + "/convert_hf_to_gguf.py"] + sys.argv[3:]
sys.path.insert(0, conv_dir)
conv = importlib.import_module("convert_hf_to_gguf")  # puts conv_dir/gguf-py on sys.path itself
try:
    from conversion import base as _base            # newer layout: model classes in conversion/
    cls = _base.TextModel
except ImportError:
    cls = getattr(conv, "TextModel", None) or conv.Model
_orig = cls.get_vocab_base_pre
def _pre(self, tokenizer):
    try:
        return _orig(self, tokenizer)
    except NotImplementedError:
        print(f"[gen_tiny_deepseek_gguf] unknown pre-tokenizer hash, using {label!r}", file=sys.stderr)
        return label
cls.get_vocab_base_pre = _pre
conv.main()
"""


# ---------------------------------------------------------------------------------------------------
# converter download


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def converter_dir(cache: str, version: str) -> str:
    """cache/llama-cpp-python-<version>/ holding convert_hf_to_gguf.py, conversion/ (if any), gguf-py/."""
    dest = os.path.join(cache, f"llama-cpp-python-{version}")
    if os.path.isfile(os.path.join(dest, "convert_hf_to_gguf.py")):
        return dest
    sdists = os.path.join(cache, "sdists")
    os.makedirs(sdists, exist_ok=True)
    sdist = os.path.join(sdists, f"llama_cpp_python-{version}.tar.gz")
    if not os.path.isfile(sdist):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", f"llama-cpp-python=={version}", "-d", sdists], check=True)
    got = sha256(sdist)
    if got != SDIST_SHA256[version]:
        raise SystemExit(f"{sdist}: sha256 {got} != expected {SDIST_SHA256[version]}")
    prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
    wanted = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(sdist, "r:gz") as tar:
        members = []
        for mem in tar.getmembers():
            if not mem.name.startswith(prefix):
                continue
            rel = mem.name[len(prefix):]
            if (rel.startswith(wanted) or rel == wanted[0]) and (mem.isfile() or mem.isdir()):
                mem.name = rel
                members.append(mem)
        try:
            tar.extractall(tmp, members=members, filter="data")
        except TypeError:  # Python without tarfile extraction filters
            tar.extractall(tmp, members=members)
    os.replace(tmp, dest)
    return dest


# ---------------------------------------------------------------------------------------------------
# conversion


def legacy_config(d: dict) -> dict:
    """Same as gen_tiny_deepseek.legacy_config: the layout released checkpoints use."""
    d = dict(d)
    rp = dict(d.pop("rope_parameters"))
    d.pop("head_dim", None)
    d.pop("qk_head_dim", None)
    d["rope_theta"] = rp.pop("rope_theta")
    rope_type = rp.pop("rope_type")
    d["rope_scaling"] = None if rope_type == "default" else dict(type=rope_type, **rp)
    return d


def convert(cache: str, model: str, outtype: str, version: str, legacy: bool, out_path: str) -> None:
    conv = converter_dir(cache, version)
    with tempfile.TemporaryDirectory(prefix="swiftseek-gguf-") as tmp:
        folder = os.path.join(tmp, model)  # same folder name -> same general.name for every variant
        shutil.copytree(os.path.join(FIXTURES, model), folder)
        if legacy:
            cfg_path = os.path.join(folder, "config.json")
            with open(cfg_path) as f:
                cfg = json.load(f)
            with open(cfg_path, "w") as f:
                json.dump(legacy_config(cfg), f, indent=2)
        env = dict(os.environ)
        env.pop("NO_LOCAL_GGUF", None)
        env["PYTHONPATH"] = os.path.join(conv, "gguf-py")
        cmd = [sys.executable, "-c", WRAPPER, conv, PRE_LABEL[model], folder,
               "--outtype", outtype, "--outfile", out_path]
        r = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout + r.stderr)
            raise SystemExit(f"converter {version} failed for {model} {outtype}")


# ---------------------------------------------------------------------------------------------------
# verification (numpy)


def import_gguf(cache: str):
    sys.path.insert(0, os.path.join(converter_dir(cache, NEW_VERSION), "gguf-py"))
    import gguf  # noqa: E402

    return gguf


def expected_tensors(model: str, split_kvb: bool) -> dict:
    """GGUF tensor name -> float32 array (numpy shape = reversed GGUF ne) built from model.safetensors."""
    import numpy as np
    from safetensors.numpy import load_file

    with open(os.path.join(FIXTURES, model, "config.json")) as f:
        cfg = json.load(f)
    hf = load_file(os.path.join(FIXTURES, model, "model.safetensors"))
    n_head, nope, vdim = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
    exp: dict = {
        "token_embd.weight": hf.pop("model.embed_tokens.weight"),
        "output.weight": hf.pop("lm_head.weight"),
        "output_norm.weight": hf.pop("model.norm.weight"),
    }
    simple = {
        "input_layernorm.weight": "attn_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.q_a_proj.weight": "attn_q_a.weight",
        "self_attn.q_a_layernorm.weight": "attn_q_a_norm.weight",
        "self_attn.q_b_proj.weight": "attn_q_b.weight",
        "self_attn.kv_a_proj_with_mqa.weight": "attn_kv_a_mqa.weight",
        "self_attn.kv_a_layernorm.weight": "attn_kv_a_norm.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
        "mlp.gate.weight": "ffn_gate_inp.weight",
        "mlp.gate.e_score_correction_bias": "exp_probs_b.bias",
        "mlp.shared_experts.gate_proj.weight": "ffn_gate_shexp.weight",
        "mlp.shared_experts.up_proj.weight": "ffn_up_shexp.weight",
        "mlp.shared_experts.down_proj.weight": "ffn_down_shexp.weight",
    }
    for il in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{il}."
        for k, v in simple.items():
            if p + k in hf:
                exp[f"blk.{il}.{v}"] = hf.pop(p + k)
        kvb = hf.pop(p + "self_attn.kv_b_proj.weight")  # [n_head*(nope+v), kv_lora_rank]
        if split_kvb:
            per_head = kvb.reshape(n_head, nope + vdim, kvb.shape[-1])
            exp[f"blk.{il}.attn_k_b.weight"] = np.ascontiguousarray(per_head[:, :nope, :].transpose(0, 2, 1))
            exp[f"blk.{il}.attn_v_b.weight"] = np.ascontiguousarray(per_head[:, nope:, :])
        else:
            exp[f"blk.{il}.attn_kv_b.weight"] = kvb
        if p + "mlp.experts.0.gate_proj.weight" in hf:
            for w in ("gate", "up", "down"):
                exp[f"blk.{il}.ffn_{w}_exps.weight"] = np.stack(
                    [hf.pop(f"{p}mlp.experts.{e}.{w}_proj.weight") for e in range(cfg["n_routed_experts"])])
    if hf:
        raise SystemExit(f"{model}: safetensors tensors without a GGUF counterpart: {sorted(hf)}")
    return exp


def verify(gguf, path: str, model: str, outtype: str, legacy: bool) -> list[str]:
    import numpy as np

    r = gguf.GGUFReader(path)
    exp = expected_tensors(model, split_kvb=not legacy)
    got = {t.name: t for t in r.tensors}
    notes = []
    if set(got) != set(exp):
        raise SystemExit(f"{path}: tensor names differ: only gguf {sorted(set(got) - set(exp))}, "
                         f"only expected {sorted(set(exp) - set(got))}")
    worst = 0.0
    for name, t in got.items():
        want = exp[name].astype(np.float32)
        ne = [int(x) for x in t.shape]
        if ne != list(reversed(want.shape)):
            raise SystemExit(f"{path}: {name} ne {ne} vs expected numpy shape {want.shape}")
        qt = gguf.GGMLQuantizationType(t.tensor_type)
        if qt == gguf.GGMLQuantizationType.F32:
            data = np.asarray(t.data, dtype=np.float32).reshape(want.shape)
            if not np.array_equal(data.view(np.uint32), want.view(np.uint32)):
                raise SystemExit(f"{path}: {name} F32 data differs from safetensors")
        elif qt == gguf.GGMLQuantizationType.Q8_0:
            data = gguf.quants.dequantize(np.asarray(t.data), qt).reshape(want.shape)
            blocks = want.reshape(-1, 32)
            step = np.abs(blocks).max(axis=1, keepdims=True) / 127.0
            # half a step for rounding, plus the f16 rounding of the block scale (<= 2^-11 relative)
            err = np.abs(data.reshape(-1, 32) - blocks)
            bound = step * 0.5 + np.abs(blocks) * 2.0 ** -10 + 1e-12
            if not (err <= bound).all():
                raise SystemExit(f"{path}: {name} Q8_0 data outside the quantization bound")
            worst = max(worst, float((err / np.maximum(step, 1e-30)).max()))
        elif qt in (gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.BF16):
            data = gguf.quants.dequantize(np.asarray(t.data), qt).reshape(want.shape)
            ref = gguf.quants.dequantize(gguf.quants.quantize(want, qt), qt).reshape(want.shape)
            if not np.array_equal(data, ref):
                raise SystemExit(f"{path}: {name} {qt.name} data differs from rounded safetensors")
            notes.append(f"{name} stored as {qt.name}")
        else:
            raise SystemExit(f"{path}: {name} has unexpected type {qt.name}")
    if outtype == "q8_0":
        notes.append(f"q8_0 max error {worst:.3f} steps")

    with open(os.path.join(FIXTURES, model, "config.json")) as f:
        cfg = json.load(f)
    kv = {f.name: f.contents() for f in r.fields.values()}
    a = "deepseek2."
    checks = {
        "general.architecture": "deepseek2",
        a + "block_count": cfg["num_hidden_layers"],
        a + "embedding_length": cfg["hidden_size"],
        a + "attention.head_count": cfg["num_attention_heads"],
        a + "attention.kv_lora_rank": cfg["kv_lora_rank"],
        a + "rope.dimension_count": cfg["qk_rope_head_dim"],
        a + "leading_dense_block_count": cfg["first_k_dense_replace"],
        a + "expert_count": cfg["n_routed_experts"],
        a + "expert_used_count": cfg["num_experts_per_tok"],
        a + "expert_shared_count": cfg["n_shared_experts"],
        a + "expert_feed_forward_length": cfg["moe_intermediate_size"],
        a + "expert_gating_func": {"softmax": 1, "sigmoid": 2}[cfg["scoring_func"]],
        "tokenizer.ggml.pre": PRE_LABEL[model],
    }
    if cfg["q_lora_rank"] is not None:
        checks[a + "attention.q_lora_rank"] = cfg["q_lora_rank"]
    elif a + "attention.q_lora_rank" in kv:
        raise SystemExit(f"{path}: q_lora_rank written for a model without q_lora")
    for k, v in checks.items():
        if kv.get(k) != v:
            raise SystemExit(f"{path}: {k} = {kv.get(k)!r}, expected {v!r}")
    if abs(kv[a + "expert_weights_scale"] - cfg["routed_scaling_factor"]) > 1e-6:
        raise SystemExit(f"{path}: expert_weights_scale {kv[a + 'expert_weights_scale']}")
    return notes


def dump(gguf, path: str) -> None:
    import numpy as np

    r = gguf.GGUFReader(path)
    print(f"== {os.path.basename(path)}  ({os.path.getsize(path)} bytes, GGUF v{r.fields['GGUF.version'].contents()})")
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        vt = gguf.GGUFValueType(f.types[0])
        if vt == gguf.GGUFValueType.ARRAY:
            v = f.contents()
            et = gguf.GGUFValueType(f.types[1]).name
            if f.name in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"):
                extra = ""
                if f.name.endswith("tokens") and v:
                    extra = f"  [0]={v[0]!r} [1]={v[1]!r} [2]={v[2]!r} [32]={v[32]!r} [255]={v[255]!r}"
                if f.name.endswith("token_type") and v:
                    vals, cnt = np.unique(np.asarray(v), return_counts=True)
                    extra = f"  counts {dict(zip(vals.tolist(), cnt.tolist()))}, [0..3]={list(v[:4])}"
                print(f"  {f.name}: [{et}] x {len(v)}{extra}")
            else:
                print(f"  {f.name}: [{et}] {v}")
        else:
            print(f"  {f.name}: {vt.name} {f.contents()!r}")
    for t in r.tensors:
        if t.name.startswith("blk.") and not t.name.startswith(("blk.0.", "blk.1.")):
            continue
        print(f"  {t.name:30s} ne={[int(x) for x in t.shape]} {gguf.GGMLQuantizationType(t.tensor_type).name}")
    n_blk = len({t.name.split('.')[1] for t in r.tensors if t.name.startswith('blk.')})
    print(f"  ({len(r.tensors)} tensors, {n_blk} blocks; blk.2 is laid out like blk.1)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--cache", default=os.environ.get("SWIFTSEEK_CACHE",
                                                      os.path.join(os.path.expanduser("~"), ".cache", "swiftseek")))
    ap.add_argument("--dump", action="store_true", help="print metadata and tensors of every file written")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gguf = import_gguf(args.cache)
    for model, outtype, version, legacy, fname in JOBS:
        path = os.path.join(args.out, fname)
        convert(args.cache, model, outtype, version, legacy, path)
        notes = verify(gguf, path, model, outtype, legacy)
        print(f"{fname}: {os.path.getsize(path)} bytes, llama-cpp-python {version} converter, "
              f"verified against safetensors{'; ' + '; '.join(notes) if notes else ''}")
        if args.dump:
            dump(gguf, path)


if __name__ == "__main__":
    main()
