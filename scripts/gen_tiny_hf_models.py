#!/usr/bin/env python3
"""Hugging Face folders of the tiny llama/qwen2 fixtures, saved by transformers itself.

transformers loads Tests/Fixtures/tiny/tiny-{llama,qwen2}.gguf (dequantized to F32, llama's
Q/K rows un-permuted back to the Hugging Face layout) and `save_pretrained`s them to
Tests/Fixtures/tiny/hf-tiny-{llama,qwen2}/ with their tokenizer; the expected logits are the
existing tiny-*.logits.json (same weights, same transformers forward).
    python scripts/gen_tiny_hf_models.py
"""
import os
import shutil

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "Tests", "Fixtures", "tiny")

for name in ("tiny-llama", "tiny-qwen2"):
    out = os.path.join(TINY, "hf-" + name)
    if os.path.exists(out):
        shutil.rmtree(out)
    model = AutoModelForCausalLM.from_pretrained(TINY, gguf_file=name + ".gguf", dtype=torch.float32,
                                                 quantization_config=GgufConfig(dequantize=True))
    model.config.quantization_config = None
    if hasattr(model, "hf_quantizer"):
        model.hf_quantizer = None
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(TINY, gguf_file=name + ".gguf").save_pretrained(out)
    for f in os.listdir(out):
        os.chmod(os.path.join(out, f), 0o644)
    print(name, sorted(os.listdir(out)))
