#!/usr/bin/env python3
"""Generate dequantization reference fixtures for SwiftSeek.

For every supported GGML tensor type this writes, under Tests/Fixtures/quant/:

  <name>.bin  raw tensor bytes exactly as they are stored in a GGUF tensor
              (4 rows x 512 columns = 2048 elements; rows are contiguous,
              each row is a sequence of quantization blocks)
  <name>.f32  the 2048 little-endian float32 values produced by the
              independent reference implementation
              ``gguf.quants.dequantize(raw, qtype)`` (gguf PyPI package 0.19.0),
              row-major (row 0 first)

plus manifest.json, a JSON array of
  {"name": str, "ggml_type": int (GGMLQuantizationType), "rows": 4, "cols": 512}

The quantized payloads are random bytes, but every fp16 scale / min field is
overwritten with a finite value, so the reference output is always finite.
Some blocks get special treatment to hit edge cases:
  block 0: d = 0                       (zero scale)
  block 1: d < 0 and min/dmin < 0      (negative scales)
  block 2: all non-fp16 bytes 0xFF     (max nibbles / qs, int8 -1)
  block 3: all non-fp16 bytes 0x00     (min nibbles / qs)
  block 4: all non-fp16 bytes 0x80     (int8 -128, high bits only)
  block 5: all non-fp16 bytes 0x7F     (int8 +127)
  block 6: d is an fp16 *subnormal* (2^-20)
  block 7: d is large (+/-4.0)
  other blocks: random payload, random-sign scale in [2^-10, 2^-3]
f32/f16/bf16 use random finite values (f16 and bf16 from random bit patterns,
with +-0, subnormals and the largest finite values placed at the start).

Deterministic (fixed seed).  Run from the repository root:

    python scripts/gen_quant_fixtures.py

Optional: --out DIR to write somewhere else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROWS = 4
COLS = 512
SEED = 0x5EED_0001

# name -> (type, [(byte offset of an fp16 field inside a block, role)])
# role "d" = multiplicative scale, "m" = additive min / dmin.
QUANT_TYPES: list[tuple[str, T, list[tuple[int, str]]]] = [
    ("q8_0", T.Q8_0, [(0, "d")]),
    ("q4_0", T.Q4_0, [(0, "d")]),
    ("q4_1", T.Q4_1, [(0, "d"), (2, "m")]),
    ("q5_0", T.Q5_0, [(0, "d")]),
    ("q5_1", T.Q5_1, [(0, "d"), (2, "m")]),
    # Q2_K: scales[16] qs[64] d dmin
    ("q2_k", T.Q2_K, [(80, "d"), (82, "m")]),
    # Q3_K: hmask[32] qs[64] scales[12] d
    ("q3_k", T.Q3_K, [(108, "d")]),
    # Q4_K: d dmin scales[12] qs[128]
    ("q4_k", T.Q4_K, [(0, "d"), (2, "m")]),
    # Q5_K: d dmin scales[12] qh[32] qs[128]
    ("q5_k", T.Q5_K, [(0, "d"), (2, "m")]),
    # Q6_K: ql[128] qh[64] scales[16] d
    ("q6_k", T.Q6_K, [(208, "d")]),
]

ORDER = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
         "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"]


def _f16_bytes(v: float) -> bytes:
    a = np.array([v], dtype=np.float16)
    assert np.isfinite(a).all(), v
    return a.astype("<f2").tobytes()


def make_quant_raw(rng: np.random.Generator, qtype: T, fields: list[tuple[int, str]]) -> np.ndarray:
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    assert COLS % block_size == 0
    n_blocks = ROWS * COLS // block_size
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)

    fp16_mask = np.zeros(type_size, dtype=bool)
    for off, _ in fields:
        fp16_mask[off:off + 2] = True

    fills = {2: 0xFF, 3: 0x00, 4: 0x80, 5: 0x7F}
    for b in range(n_blocks):
        if b in fills:
            raw[b, ~fp16_mask] = fills[b]
        for off, role in fields:
            mag = float(2.0 ** rng.uniform(-10, -3))
            sign = -1.0 if rng.integers(0, 2) else 1.0
            if b == 0 and role == "d":
                v = 0.0
            elif b == 1:
                v = -mag
            elif b == 6 and role == "d":
                v = 2.0 ** -20  # fp16 subnormal (exactly representable)
            elif b == 7 and role == "d":
                v = 4.0 * sign
            else:
                v = sign * mag
            raw[b, off:off + 2] = np.frombuffer(_f16_bytes(v), dtype=np.uint8)
    return raw.reshape(ROWS, COLS // block_size * type_size)


def make_f16_bits(rng: np.random.Generator, exp_mask: int, specials: list[int]) -> np.ndarray:
    n = ROWS * COLS
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    # replace NaN/Inf patterns (exponent all ones) by clearing the top exponent bit
    bad = (bits & exp_mask) == exp_mask
    bits[bad] = bits[bad] & np.uint16(~(exp_mask & ~(exp_mask >> 1)) & 0xFFFF)
    bits[:len(specials)] = np.array(specials, dtype=np.uint16)
    return bits


def build_all(rng: np.random.Generator) -> dict[str, tuple[T, np.ndarray]]:
    out: dict[str, tuple[T, np.ndarray]] = {}

    # f32: random finite values with a few specials up front
    f = (rng.standard_normal(ROWS * COLS) * 3.0).astype(np.float32)
    specials = np.array([0.0, -0.0, 1.0, -1.0, np.finfo(np.float32).max, -np.finfo(np.float32).max,
                         np.finfo(np.float32).tiny, 1e-40, -1e-45, 65504.0, 3.1415927],
                        dtype=np.float32)
    f[:len(specials)] = specials
    out["f32"] = (T.F32, f.astype("<f4").view(np.uint8).reshape(ROWS, COLS * 4))

    # f16: random bit patterns (exponent 0x7C00), specials first:
    # +0, -0, min subnormal, max subnormal, min normal, max finite, -max finite, 1.0, -2.0
    h = make_f16_bits(rng, 0x7C00, [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00, 0xC000, 0x8001])
    out["f16"] = (T.F16, h.astype("<u2").view(np.uint8).reshape(ROWS, COLS * 2))

    # bf16: random bit patterns (exponent 0x7F80), specials first:
    # +0, -0, min subnormal, max subnormal, min normal, max finite, -max finite, 1.0, -2.0
    b = make_f16_bits(rng, 0x7F80, [0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x3F80, 0xC000, 0x8001])
    out["bf16"] = (T.BF16, b.astype("<u2").view(np.uint8).reshape(ROWS, COLS * 2))

    for name, qtype, fields in QUANT_TYPES:
        out[name] = (qtype, make_quant_raw(rng, qtype, fields))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "Tests", "Fixtures", "quant"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    rng = np.random.default_rng(SEED)
    fixtures = build_all(rng)

    manifest = []
    for name in ORDER:
        qtype, raw = fixtures[name]
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        assert raw.dtype == np.uint8 and raw.shape == (ROWS, COLS // block_size * type_size), (name, raw.shape)
        deq = gguf.quants.dequantize(raw, qtype)
        deq = np.asarray(deq, dtype=np.float32)
        assert deq.shape == (ROWS, COLS), (name, deq.shape)
        if not np.isfinite(deq).all():
            print(f"error: {name}: non-finite values in reference output", file=sys.stderr)
            return 1
        with open(os.path.join(args.out, f"{name}.bin"), "wb") as fh:
            fh.write(raw.tobytes())
        with open(os.path.join(args.out, f"{name}.f32"), "wb") as fh:
            fh.write(deq.astype("<f4").tobytes())
        manifest.append({"name": name, "ggml_type": int(qtype), "rows": ROWS, "cols": COLS})
        print(f"{name:5s} type={int(qtype):2d} bytes={raw.size:5d} "
              f"min={deq.min():+.6g} max={deq.max():+.6g} absmean={np.abs(deq.astype(np.float64)).mean():.6g}")

    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")

    # re-read and verify everything that was written
    for m in manifest:
        vals = np.fromfile(os.path.join(args.out, m["name"] + ".f32"), dtype="<f4")
        assert vals.size == ROWS * COLS and np.isfinite(vals).all(), m["name"]
    print(f"wrote {len(manifest)} fixtures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
