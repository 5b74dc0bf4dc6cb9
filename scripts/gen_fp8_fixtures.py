#!/usr/bin/env python3
"""FP8 (e4m3) fixtures, with torch as the reference.

Writes
  Tests/Fixtures/quant/fp8_e4m3.f32       the float value of every e4m3 byte 0..255 (torch.float8_e4m3fn)
  Tests/Fixtures/deepseek/v3-tiny-fp8/    v3-tiny with every linear weight stored as DeepSeek ships FP8:
                                          float8_e4m3fn + float32 `weight_scale_inv` per 128x128 block
                                          (partial edge blocks: these matrices are smaller than a block),
                                          config.json with quantization_config, and reference.json with
                                          transformers' logits/greedy tokens on the block-dequantized weights.
Run from the repository root after scripts/gen_tiny_deepseek.py:
    python scripts/gen_fp8_fixtures.py
"""
import json
import os
import shutil

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "Tests", "Fixtures", "deepseek", "v3-tiny")
DST = os.path.join(ROOT, "Tests", "Fixtures", "deepseek", "v3-tiny-fp8")
BLOCK = 128
# DeepSeek's FP8 checkpoints keep embeddings, the LM head, norms and the router in high precision.
QUANTIZED = ("q_a_proj", "q_b_proj", "q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def e4m3_table():
    values = torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn).to(torch.float32).numpy()
    path = os.path.join(ROOT, "Tests", "Fixtures", "quant", "fp8_e4m3.f32")
    values.astype("<f4").tofile(path)


def quantize(w):
    rows, cols = w.shape
    br, bc = -(-rows // BLOCK), -(-cols // BLOCK)
    scale = torch.zeros(br, bc, dtype=torch.float32)
    q = torch.zeros(rows, cols, dtype=torch.float8_e4m3fn)
    deq = torch.zeros(rows, cols, dtype=torch.float32)
    for i in range(br):
        for j in range(bc):
            blk = w[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK]
            s = blk.abs().max().item() / 448.0 or 1.0
            qb = (blk / s).to(torch.float8_e4m3fn)
            q[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = qb
            deq[i * BLOCK:(i + 1) * BLOCK, j * BLOCK:(j + 1) * BLOCK] = qb.to(torch.float32) * s
            scale[i, j] = s
    return q, scale, deq


def main():
    e4m3_table()
    if os.path.exists(DST):
        shutil.rmtree(DST)
    os.makedirs(DST)
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(SRC, f), DST)
    tensors = load_file(os.path.join(SRC, "model.safetensors"))
    stored, dequantized = {}, {}
    for name, w in sorted(tensors.items()):
        if w.dim() == 2 and any(k in name for k in QUANTIZED):
            q, scale, deq = quantize(w)
            stored[name] = q
            stored[name + "_scale_inv"] = scale
            dequantized[name] = deq
        else:
            stored[name] = w
            dequantized[name] = w
    save_file(stored, os.path.join(DST, "model.safetensors"), metadata={"format": "pt"})
    config = json.load(open(os.path.join(DST, "config.json")))
    config["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [BLOCK, BLOCK]}
    json.dump(config, open(os.path.join(DST, "config.json"), "w"), indent=2, sort_keys=True)

    # Reference: the float model with the block-dequantized weights.
    # transformers fuses experts in memory, so the per-expert tensors go through its own loader.
    tmp = os.path.join(DST, "_deq")
    os.makedirs(tmp, exist_ok=True)
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(SRC, f), tmp)
    save_file(dequantized, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    model = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32, attn_implementation="eager").eval()
    shutil.rmtree(tmp)
    ref = json.load(open(os.path.join(SRC, "reference.json")))
    prompts = []
    for p in ref["prompts"]:
        ids = torch.tensor([p["tokens"]])
        with torch.no_grad():
            logits = model(ids).logits[0].to(torch.float32).numpy()
            out = model.generate(ids, max_new_tokens=len(p["greedy"]), do_sample=False, eos_token_id=None, pad_token_id=0)
        prompts.append({"tokens": p["tokens"], "logits": [[float(np.float32(x)) for x in row] for row in logits],
                        "greedy": out[0, ids.shape[1]:].tolist()})
    json.dump({"model": "v3-tiny-fp8", "prompts": prompts}, open(os.path.join(DST, "reference.json"), "w"))


if __name__ == "__main__":
    main()
