#!/usr/bin/env python3
"""Generate reference logits for SwiftSeek with Hugging Face transformers.

Loads a GGUF with transformers (weights dequantized to float32), tokenizes a
fixed English + code paragraph with the tokenizer transformers builds from the
same GGUF (no BOS/EOS added), keeps exactly the first 128 ids, runs a single
forward pass over all 128 positions and writes

    Tests/Fixtures/logits/NAME.json

with the top-1 / top-10 ids and logits per position and the logits of 64 fixed
"probe" vocabulary ids (picked with a seeded RNG). Optionally the full
[128 x vocab] float32 little-endian row-major logits are dumped with
--dump-full for offline comparison (see scripts/compare_logits.py).

Usage:
    python scripts/gen_reference_logits.py \
        --model ~/.cache/swiftseek/models/smollm2-135m-instruct.gguf --name smollm2-135m-instruct \
        [--dump-full /tmp/smollm2-135m-instruct.ref.f32]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_tokenizer_fixtures import sha256_file  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

N_POSITIONS = 128
TOP_K = 10
N_PROBES = 64
PROBE_SEED = 20261129

# Fixed input. Must tokenize to at least 128 ids with every model we test.
PARAGRAPH = (
    "SwiftSeek is a small inference engine for large language models. It reads a GGUF file, "
    "maps the tensors into memory, and runs the transformer one token at a time. The quick brown "
    "fox jumps over the lazy dog, while the tokenizer splits each sentence into pieces that the "
    "model has seen during training.\n\n"
    "Here is a tiny Python function that computes Fibonacci numbers:\n\n"
    "def fib(n):\n"
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n\n"
    "And the same idea in Swift:\n\n"
    "func fib(_ n: Int) -> Int {\n"
    "    var (a, b) = (0, 1)\n"
    "    for _ in 0..<n { (a, b) = (b, a + b) }\n"
    "    return a\n"
    "}\n\n"
    "Calling fib(10) returns 55, and fib(20) returns 6765. Numbers grow quickly, so real code "
    "should watch for overflow when n gets large. Finally, remember that attention costs grow with "
    "the square of the context length, which is why caching keys and values matters so much."
)


def sig6(x: float) -> float:
    """Round to 6 significant digits."""
    if not math.isfinite(x):
        raise ValueError(f"non-finite logit {x}")
    return float(f"{x:.6g}")


def probe_ids(vocab_size: int) -> list[int]:
    import numpy as np

    rng = np.random.default_rng(PROBE_SEED)
    return sorted(int(i) for i in rng.choice(vocab_size, size=N_PROBES, replace=False))


def dump_fixture(obj: dict) -> str:
    """JSON with one row per position for the per-position arrays."""
    per_position = {"topk_ids", "topk_logits", "probe_logits"}
    lines = ["{"]
    items = list(obj.items())
    for n, (key, value) in enumerate(items):
        comma = "," if n + 1 < len(items) else ""
        if key in per_position:
            lines.append(f"  {json.dumps(key)}: [")
            for m, row in enumerate(value):
                c = "," if m + 1 < len(value) else ""
                lines.append("    " + json.dumps(row, separators=(",", ":")) + c)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def cross_check_tokens(gguf_path: str, ids: list[int]) -> None:
    """Warn if our upstream-faithful tokenizer (gen_tokenizer_fixtures.py) would
    tokenize the paragraph differently from transformers' GGUF tokenizer."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_tokenizer_fixtures.py")
    spec = importlib.util.spec_from_file_location("gen_tokenizer_fixtures", here)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ref_tok, _, _ = mod.build_reference_tokenizer(gguf_path)
    ref_ids = ref_tok.encode(PARAGRAPH, add_special_tokens=False).ids[: len(ids)]
    if ref_ids != ids:
        print("WARNING: transformers' GGUF tokenizer and the upstream-faithful reference tokenizer "
              "disagree on the paragraph", file=sys.stderr)
    else:
        print("  paragraph tokens agree with the upstream-faithful reference tokenizer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="path to the .gguf file")
    parser.add_argument("--name", required=True, help="fixture name, e.g. smollm2-135m-instruct")
    parser.add_argument("--out", help="output JSON (default Tests/Fixtures/logits/NAME.json)")
    parser.add_argument("--dump-full", metavar="OUT.f32",
                        help="also write the full [128 x vocab] float32 LE row-major logits here")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()

    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)

    gguf_path = os.path.abspath(args.model)
    dirname, basename = os.path.dirname(gguf_path), os.path.basename(gguf_path)
    out = args.out or os.path.join(REPO_ROOT, "Tests", "Fixtures", "logits", f"{args.name}.json")
    timings = {}

    t = time.time()
    digest = sha256_file(gguf_path)
    timings["sha256"] = time.time() - t

    t = time.time()
    tokenizer = AutoTokenizer.from_pretrained(dirname, gguf_file=basename)
    all_ids = tokenizer.encode(PARAGRAPH, add_special_tokens=False)
    if len(all_ids) < N_POSITIONS:
        raise SystemExit(f"paragraph tokenizes to only {len(all_ids)} ids, need {N_POSITIONS}")
    ids = [int(i) for i in all_ids[:N_POSITIONS]]
    timings["tokenize"] = time.time() - t
    print(f"[{args.name}] paragraph = {len(all_ids)} ids, using first {N_POSITIONS}")
    cross_check_tokens(gguf_path, ids)

    t = time.time()
    load_kwargs = dict(gguf_file=basename, attn_implementation="eager")
    # transformers >= 5 keeps GGUF weights packed unless told to dequantize, and
    # renamed torch_dtype to dtype.
    try:
        from transformers import GgufConfig

        load_kwargs["quantization_config"] = GgufConfig(dequantize=True)
        load_kwargs["dtype"] = torch.float32
    except ImportError:
        load_kwargs["torch_dtype"] = torch.float32
    model = AutoModelForCausalLM.from_pretrained(dirname, **load_kwargs)
    model.eval()
    timings["load"] = time.time() - t
    for name, param in model.named_parameters():
        if param.dtype != torch.float32:
            raise SystemExit(f"parameter {name} is {param.dtype}, expected float32")
    cfg = model.config
    print(f"  loaded {type(model).__name__}: layers={cfg.num_hidden_layers} hidden={cfg.hidden_size} "
          f"heads={cfg.num_attention_heads}/{cfg.num_key_value_heads} vocab={cfg.vocab_size} "
          f"tie_word_embeddings={getattr(cfg, 'tie_word_embeddings', None)} "
          f"rope_theta={getattr(cfg, 'rope_theta', None) or getattr(cfg, 'rope_parameters', None)} "
          f"rms_norm_eps={cfg.rms_norm_eps} ({timings['load']:.1f}s)")

    t = time.time()
    with torch.inference_mode():
        input_ids = torch.tensor([ids], dtype=torch.long)
        logits = model(input_ids=input_ids, use_cache=False).logits[0].to(torch.float32)
    timings["forward"] = time.time() - t
    if logits.shape[0] != N_POSITIONS:
        raise SystemExit(f"unexpected logits shape {tuple(logits.shape)}")
    vocab = int(logits.shape[1])
    if not torch.isfinite(logits).all():
        raise SystemExit("non-finite logits")

    top = torch.topk(logits, TOP_K, dim=-1)  # sorted, descending
    probes = probe_ids(vocab)
    probe_t = torch.tensor(probes, dtype=torch.long)
    fixture = {
        "model": args.name,
        "gguf_sha256": digest,
        "vocab_size": vocab,
        "n_positions": N_POSITIONS,
        "generator": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "dtype": "float32",
            "attn_implementation": "eager",
            "probe_seed": PROBE_SEED,
        },
        "tokens": ids,
        "top1": [int(i) for i in logits.argmax(dim=-1).tolist()],
        "topk_ids": [[int(i) for i in row] for row in top.indices.tolist()],
        "topk_logits": [[sig6(v) for v in row] for row in top.values.tolist()],
        "probe_ids": probes,
        "probe_logits": [[sig6(v) for v in row] for row in logits[:, probe_t].tolist()],
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(dump_fixture(fixture))
    print(f"  wrote {out}")

    if args.dump_full:
        arr = logits.contiguous().numpy().astype("<f4", copy=False)
        with open(args.dump_full, "wb") as f:
            f.write(arr.tobytes(order="C"))
        print(f"  wrote {args.dump_full} ({N_POSITIONS} x {vocab} float32 LE)")

    print("  timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
