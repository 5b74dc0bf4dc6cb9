#!/usr/bin/env python3
"""Generate GGUF parser fixtures (one valid file + many malformed variants).

Writes, under Tests/Fixtures/gguf/:

  valid.gguf      hand-serialised (struct.pack) GGUF v3 file with metadata of
                  every value type and 3 small tensors (F32, F16, Q8_0)
  valid_v2.gguf   byte-identical except version = 2 (v2 has the same 64-bit
                  counts/lengths as v3)
  valid.json      what a parser must report for valid.gguf (and valid_v2.gguf)
  malformed/*.gguf       one defect each, derived from the valid file
  malformed/expected.json  {"<file name>": "<error kind>", ...}

Every byte is written by this script (no gguf.GGUFWriter) so that the defects
are exactly controlled.  valid.gguf is cross-checked against the independent
reader ``gguf.GGUFReader`` (gguf PyPI package 0.19.0); tensor values in
valid.json come from ``gguf.quants.dequantize``.

Deterministic.  Run from the repository root:

    python scripts/gen_malformed_gguf.py

Optional: --out DIR to write somewhere else.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import gguf

GGUF_MAGIC = b"GGUF"

# GGUF metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
TYPE_NAMES = {U8: "uint8", I8: "int8", U16: "uint16", I16: "int16", U32: "uint32", I32: "int32",
              F32: "float32", BOOL: "bool", STR: "string", ARR: "array", U64: "uint64",
              I64: "int64", F64: "float64"}
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
              BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}

# GGML tensor types used here
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
TYPE_BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q8_0: (32, 34)}

ALIGNMENT = 32


# --------------------------------------------------------------------------
# model of a GGUF file
# --------------------------------------------------------------------------

@dataclass
class Value:
    """A typed GGUF metadata value.  For arrays, `elem` is the element type and
    `v` a list of Values (so nested arrays are just Values of type ARR)."""
    t: int
    v: Any
    elem: int | None = None
    # overrides used to inject defects
    count_override: int | None = None
    type_override: int | None = None


@dataclass
class KV:
    key: str
    val: Value
    key_len_override: int | None = None


@dataclass
class TensorInfo:
    name: str
    dims: list[int]          # ne0 first, exactly as stored
    ggml_type: int
    offset: int              # relative to start of data section
    n_dims_override: int | None = None


@dataclass
class GGUFModel:
    version: int = 3
    magic: bytes = GGUF_MAGIC
    kvs: list[KV] = field(default_factory=list)
    tensors: list[TensorInfo] = field(default_factory=list)
    data: bytes = b""        # the data section (already padded)
    tensor_count_override: int | None = None
    kv_count_override: int | None = None


@dataclass
class Layout:
    """Byte offsets recorded while serialising (used to place truncations)."""
    kv_start: list[int] = field(default_factory=list)
    kv_value_start: list[int] = field(default_factory=list)
    tensor_info_start: list[int] = field(default_factory=list)
    tensor_infos_end: int = 0
    data_start: int = 0
    total: int = 0


def p_str(s: str | bytes, len_override: int | None = None) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else s
    n = len(b) if len_override is None else len_override
    return struct.pack("<Q", n) + b


def p_value_payload(val: Value) -> bytes:
    """Serialise the value payload (without the leading uint32 type)."""
    if val.t == STR:
        return p_str(val.v)
    if val.t == ARR:
        assert val.elem is not None
        out = [struct.pack("<I", val.elem),
               struct.pack("<Q", len(val.v) if val.count_override is None else val.count_override)]
        for e in val.v:
            assert e.t == val.elem
            out.append(p_value_payload(e))
        return b"".join(out)
    return struct.pack(SCALAR_FMT[val.t], val.v)


def serialise(m: GGUFModel) -> tuple[bytes, Layout]:
    lay = Layout()
    out = bytearray()
    out += m.magic
    out += struct.pack("<I", m.version)
    out += struct.pack("<Q", len(m.tensors) if m.tensor_count_override is None else m.tensor_count_override)
    out += struct.pack("<Q", len(m.kvs) if m.kv_count_override is None else m.kv_count_override)
    for kv in m.kvs:
        lay.kv_start.append(len(out))
        out += p_str(kv.key, kv.key_len_override)
        out += struct.pack("<I", kv.val.t if kv.val.type_override is None else kv.val.type_override)
        lay.kv_value_start.append(len(out))
        out += p_value_payload(kv.val)
    for ti in m.tensors:
        lay.tensor_info_start.append(len(out))
        out += p_str(ti.name)
        out += struct.pack("<I", len(ti.dims) if ti.n_dims_override is None else ti.n_dims_override)
        for d in ti.dims:
            out += struct.pack("<Q", d)
        out += struct.pack("<I", ti.ggml_type)
        out += struct.pack("<Q", ti.offset)
    lay.tensor_infos_end = len(out)
    pad = (-len(out)) % ALIGNMENT
    out += b"\x00" * pad
    lay.data_start = len(out)
    out += m.data
    lay.total = len(out)
    return bytes(out), lay


# --------------------------------------------------------------------------
# the valid file
# --------------------------------------------------------------------------

def sv(t: int, v: Any) -> Value:
    return Value(t, v)


def arr(elem: int, items: list[Any]) -> Value:
    if elem == ARR:
        return Value(ARR, items, elem=ARR)          # items are already Values
    return Value(ARR, [Value(elem, x) for x in items], elem=elem)


def build_valid() -> tuple[GGUFModel, dict[str, np.ndarray]]:
    kvs = [
        KV("general.architecture", sv(STR, "llama")),
        KV("general.alignment", sv(U32, ALIGNMENT)),
        KV("general.name", sv(STR, "swiftseek-fixture")),
        KV("test.uint8", sv(U8, 200)),
        KV("test.int8", sv(I8, -100)),
        KV("test.uint16", sv(U16, 60000)),
        KV("test.int16", sv(I16, -30000)),
        KV("test.uint32", sv(U32, 4000000000)),
        KV("test.int32", sv(I32, -2000000000)),
        KV("test.float32", sv(F32, 3.25)),
        KV("test.bool_true", sv(BOOL, True)),
        KV("test.bool_false", sv(BOOL, False)),
        KV("test.string", sv(STR, "h\u00e9llo w\u00f6rld \u2713")),
        KV("test.string_empty", sv(STR, "")),
        KV("test.array_uint32", arr(U32, [1, 2, 3, 4294967295])),
        KV("test.array_string", arr(STR, ["alpha", "", "\u00fcn\u00efc\u00f6d\u00e9"])),
        KV("test.array_empty_int32", arr(I32, [])),
        KV("test.array_nested", arr(ARR, [arr(I32, [1, -2, 3]), arr(I32, []), arr(I32, [2147483647, -2147483648])])),
        KV("test.uint64", sv(U64, 0xFEDCBA9876543210)),
        KV("test.int64", sv(I64, -0x123456789ABCDEF0)),
        KV("test.float64", sv(F64, -1234.5678901234)),
    ]

    rng = np.random.default_rng(0x6600F)
    # t0: F32, dims [3, 2] (ne0 = 3 columns, ne1 = 2 rows)
    t0 = np.array([[0.5, -1.25, 2.0], [3.5, -4.75, 1e-3]], dtype="<f4")
    # t1: F16, dims [32]
    t1 = (np.arange(32, dtype=np.float32) * 0.25 - 4.0).astype("<f2")
    # t2: Q8_0, dims [64, 2] (2 rows x 2 blocks of 32)
    t2_src = rng.standard_normal((2, 64)).astype(np.float32)
    t2 = gguf.quants.quantize(t2_src, gguf.GGMLQuantizationType.Q8_0)
    assert t2.shape == (2, 68) and t2.dtype == np.uint8

    blobs = [("t0.f32", [3, 2], GGML_F32, t0.tobytes()),
             ("t1.f16", [32], GGML_F16, t1.tobytes()),
             ("t2.q8_0", [64, 2], GGML_Q8_0, t2.tobytes())]
    data = bytearray()
    tensors = []
    raw = {}
    for name, dims, gt, b in blobs:
        assert len(data) % ALIGNMENT == 0
        tensors.append(TensorInfo(name, dims, gt, len(data)))
        data += b
        data += b"\x00" * ((-len(data)) % ALIGNMENT)
        raw[name] = np.frombuffer(b, dtype=np.uint8)
    return GGUFModel(kvs=kvs, tensors=tensors, data=bytes(data)), raw


def value_to_json(val: Value) -> dict[str, Any]:
    if val.t == ARR:
        if val.elem == ARR:
            items = [value_to_json(e) for e in val.v]
        else:
            items = [e.v for e in val.v]
        return {"type": "array", "element_type": TYPE_NAMES[val.elem], "value": items}
    return {"type": TYPE_NAMES[val.t], "value": val.v}


def tensor_nbytes(ti: TensorInfo) -> int:
    bs, ts = TYPE_BLOCK[ti.ggml_type]
    n = 1
    for d in ti.dims:
        n *= d
    return n // bs * ts


def describe_valid(m: GGUFModel, lay: Layout, raw: dict[str, np.ndarray]) -> dict[str, Any]:
    tensors = []
    for ti in m.tensors:
        vals = gguf.quants.dequantize(raw[ti.name], gguf.GGMLQuantizationType(ti.ggml_type))
        tensors.append({
            "name": ti.name,
            "dims": ti.dims,
            "ggml_type": ti.ggml_type,
            "offset": ti.offset,
            "n_bytes": tensor_nbytes(ti),
            "values": [float(x) for x in np.asarray(vals, dtype=np.float32).ravel()],
        })
    return {
        "version": m.version,
        "alignment": ALIGNMENT,
        "tensor_count": len(m.tensors),
        "kv_count": len(m.kvs),
        "data_offset": lay.data_start,
        "file_size": lay.total,
        "metadata": [{"key": kv.key, **value_to_json(kv.val)} for kv in m.kvs],
        "tensors": tensors,
    }


# --------------------------------------------------------------------------
# cross-check with gguf.GGUFReader
# --------------------------------------------------------------------------

def reader_value(field) -> Any:
    from gguf import GGUFValueType as VT
    t = field.types
    if t[0] == VT.ARRAY:
        # gguf-py flattens nested arrays; only check non-nested ones here
        if len(t) > 1 and t[1] == VT.ARRAY:
            return None
        return [field.contents(i) for i in range(len(field.data))]
    return field.contents()


def crosscheck(path: str, desc: dict[str, Any]) -> None:
    r = gguf.GGUFReader(path)
    assert r.alignment == ALIGNMENT
    assert r.data_offset == desc["data_offset"], (r.data_offset, desc["data_offset"])
    for md in desc["metadata"]:
        f = r.fields[md["key"]]
        got = reader_value(f)
        if got is None:
            continue
        want = md["value"]
        if md["type"] in ("float32",):
            assert abs(got - want) < 1e-6, (md, got)
        else:
            assert got == want, (md["key"], got, want)
    assert len(r.tensors) == len(desc["tensors"])
    for rt, dt in zip(r.tensors, desc["tensors"]):
        assert rt.name == dt["name"]
        assert list(map(int, rt.shape)) == dt["dims"], (rt.shape, dt["dims"])
        assert int(rt.tensor_type) == dt["ggml_type"]
        assert int(rt.data_offset) == desc["data_offset"] + dt["offset"]
        v = gguf.quants.dequantize(rt.data, rt.tensor_type).ravel()
        assert np.array_equal(np.asarray(v, dtype=np.float32), np.array(dt["values"], dtype=np.float32))


# --------------------------------------------------------------------------
# malformed variants
# --------------------------------------------------------------------------

def kv_index(m: GGUFModel, key: str) -> int:
    return next(i for i, kv in enumerate(m.kvs) if kv.key == key)


def make_malformed(valid: GGUFModel) -> dict[str, tuple[bytes, str]]:
    out: dict[str, tuple[bytes, str]] = {}
    vbytes, vlay = serialise(valid)

    def variant(fn) -> bytes:
        m = copy.deepcopy(valid)
        fn(m)
        b, _ = serialise(m)
        return b

    out["empty.gguf"] = (b"", "empty")

    # --- truncations (cut the valid file) ---
    out["truncated_header.gguf"] = (vbytes[:12], "truncated")          # inside tensor_count
    si = kv_index(valid, "test.string")
    # value payload = uint64 len + bytes; cut 5 bytes into the string bytes
    cut = vlay.kv_value_start[si] + 8 + 5
    out["truncated_kv.gguf"] = (vbytes[:cut], "truncated")
    # inside the dims of the second tensor info
    ti1 = vlay.tensor_info_start[1]
    cut = ti1 + 8 + len(valid.tensors[1].name.encode()) + 4 + 3
    out["truncated_tensorinfo.gguf"] = (vbytes[:cut], "truncated")
    # inside the data of the last (Q8_0) tensor -> tensor extends past EOF
    last = valid.tensors[-1]
    cut = vlay.data_start + last.offset + 50
    out["truncated_data.gguf"] = (vbytes[:cut], "dataOutOfBounds")

    # --- header ---
    out["bad_magic.gguf"] = (b"GGUX" + vbytes[4:], "badMagic")

    def set_version(v):
        def f(m): m.version = v
        return f
    out["unsupported_version_1.gguf"] = (variant(set_version(1)), "unsupportedVersion")
    out["unsupported_version_99.gguf"] = (variant(set_version(99)), "unsupportedVersion")

    def tc(m): m.tensor_count_override = 1 << 62
    def kc(m): m.kv_count_override = 1 << 62
    out["tensor_count_too_large.gguf"] = (variant(tc), "countTooLarge")
    out["kv_count_too_large.gguf"] = (variant(kc), "countTooLarge")

    # --- metadata ---
    def long_key(m): m.kvs[0].key_len_override = 1 << 40
    out["string_too_long.gguf"] = (variant(long_key), "stringTooLong")

    def bad_vtype(m): m.kvs[kv_index(m, "test.uint32")].val.type_override = 99
    out["unknown_value_type.gguf"] = (variant(bad_vtype), "unknownValueType")

    def big_array(m): m.kvs[kv_index(m, "test.array_uint32")].val.count_override = 1 << 60
    out["array_too_large.gguf"] = (variant(big_array), "arrayTooLarge")

    def align(v):
        def f(m): m.kvs[kv_index(m, "general.alignment")].val.v = v
        return f
    out["bad_alignment_0.gguf"] = (variant(align(0)), "badAlignment")
    out["bad_alignment_24.gguf"] = (variant(align(24)), "badAlignment")

    # --- tensor infos ---
    def nine_dims(m): m.tensors[0].dims = [1] * 9
    out["too_many_dimensions.gguf"] = (variant(nine_dims), "tooManyDimensions")

    def overflow(m): m.tensors[0].dims = [1 << 40, 1 << 40]
    out["dimension_overflow.gguf"] = (variant(overflow), "dimensionOverflow")

    def bad_ttype(m): m.tensors[1].ggml_type = 99
    out["unknown_tensor_type.gguf"] = (variant(bad_ttype), "unknownTensorType")

    def misaligned(m): m.tensors[0].offset = 1
    out["misaligned_offset.gguf"] = (variant(misaligned), "misalignedOffset")

    def far(m): m.tensors[1].offset = 1 << 32           # aligned, far past EOF
    out["data_out_of_bounds.gguf"] = (variant(far), "dataOutOfBounds")

    def wrap(m): m.tensors[2].offset = (1 << 64) - ALIGNMENT   # aligned; offset+size wraps uint64
    out["data_offset_overflow.gguf"] = (variant(wrap), "dataOutOfBounds")

    def dup(m): m.tensors[1].name = m.tensors[0].name
    out["duplicate_tensor_name.gguf"] = (variant(dup), "duplicateTensorName")

    def row33(m): m.tensors[2].dims = [33, 2]
    out["row_not_block_aligned.gguf"] = (variant(row33), "rowNotBlockAligned")

    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "Tests", "Fixtures", "gguf"))
    args = ap.parse_args()
    mdir = os.path.join(args.out, "malformed")
    os.makedirs(mdir, exist_ok=True)

    valid, raw = build_valid()
    vbytes, vlay = serialise(valid)
    desc = describe_valid(valid, vlay, raw)

    vpath = os.path.join(args.out, "valid.gguf")
    with open(vpath, "wb") as fh:
        fh.write(vbytes)
    v2 = copy.deepcopy(valid)
    v2.version = 2
    v2bytes, _ = serialise(v2)
    assert v2bytes[:4] + v2bytes[8:] == vbytes[:4] + vbytes[8:]
    with open(os.path.join(args.out, "valid_v2.gguf"), "wb") as fh:
        fh.write(v2bytes)
    with open(os.path.join(args.out, "valid.json"), "w") as fh:
        json.dump(desc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")

    crosscheck(vpath, desc)
    crosscheck(os.path.join(args.out, "valid_v2.gguf"), desc)
    print(f"valid.gguf: {len(vbytes)} bytes, data_offset={vlay.data_start}; GGUFReader cross-check OK")

    expected = {}
    for name, (b, kind) in sorted(make_malformed(valid).items()):
        with open(os.path.join(mdir, name), "wb") as fh:
            fh.write(b)
        expected[name] = kind
        # informational: what the gguf-py reader thinks of it
        try:
            gguf.GGUFReader(os.path.join(mdir, name))
            verdict = "gguf-py: accepted"
        except Exception as e:  # noqa: BLE001
            verdict = f"gguf-py: {type(e).__name__}: {str(e)[:70]}"
        print(f"  {name:32s} {len(b):5d} B  {kind:20s} {verdict}")
    with open(os.path.join(mdir, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=2, sort_keys=True)
        fh.write("\n")
    print(f"wrote {len(expected)} malformed files to {mdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
