#!/usr/bin/env python3
"""Generate tokenizer reference fixtures for SwiftSeek.

For every model this writes Tests/Fixtures/tokenizer/NAME.json with ~45 short
texts and the token ids the *upstream* Hugging Face tokenizer produces for them.

Why we build the reference tokenizer ourselves
----------------------------------------------
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

Usage:
    python scripts/gen_tokenizer_fixtures.py \
        [--model PATH NAME ...] [--out-dir Tests/Fixtures/tokenizer] [--no-hf-check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STORE = os.path.join(os.environ.get("SWIFTSEEK_HOME") or os.path.expanduser("~/.cache/swiftseek"), "models")
DEFAULT_MODELS = [
    (os.path.join(STORE, "smollm2-135m-instruct.gguf"), "smollm2-135m-instruct"),
    (os.path.join(STORE, "qwen2.5-coder-0.5b-instruct.gguf"), "qwen2.5-coder-0.5b-instruct"),
]

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


def load_hf_tokenizer(gguf_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs=2, action="append", metavar=("PATH", "NAME"),
                        help="GGUF path and fixture name (repeatable; default: both project models)")
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "tokenizer"))
    parser.add_argument("--no-hf-check", action="store_true",
                        help="skip the comparison with transformers' GGUF-loaded tokenizer")
    args = parser.parse_args()
    model_list = args.model or DEFAULT_MODELS
    os.makedirs(args.out_dir, exist_ok=True)

    for path, name in model_list:
        t0 = time.time()
        tokenizer, meta, description = build_reference_tokenizer(path)
        cases = []
        for text in CASES:
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            decoded = tokenizer.decode(ids, skip_special_tokens=False)
            cases.append({"text": text, "ids": ids, "decoded": decoded})
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
            "cases": cases,
        }
        out = os.path.join(args.out_dir, f"{name}.json")
        with open(out, "w", encoding="utf-8") as f:
            f.write(dump_fixture(fixture))
        t_ref = time.time() - t0
        print(f"[{name}] wrote {out}: {len(cases)} cases, pre={meta['pre']!r}, "
              f"bos={meta['bos_token_id']} eos={meta['eos_token_id']} add_bos={meta['add_bos_token']} "
              f"({t_ref:.1f}s)")

        # Sanity: decode(encode(x)) must give x back (modulo NFC where the pipeline normalizes).
        import unicodedata
        for case in cases:
            expect = case["text"]
            if description["normalizer"] == "NFC":
                expect = unicodedata.normalize("NFC", expect)
            if case["decoded"] != expect:
                print(f"  round-trip differs: {case['text']!r} -> {case['decoded']!r}")

        if args.no_hf_check:
            continue
        t1 = time.time()
        hf = load_hf_tokenizer(path)
        mismatches = 0
        for case in cases:
            hf_ids = hf.encode(case["text"], add_special_tokens=False)
            if hf_ids != case["ids"]:
                mismatches += 1
                print(f"  MISMATCH vs transformers: {case['text']!r}")
                print(f"    reference    : {case['ids']}")
                print(f"    transformers : {hf_ids}")
                print(f"    ref pieces   : {[tokenizer.id_to_token(i) for i in case['ids']]}")
                print(f"    hf pieces    : {hf.convert_ids_to_tokens(hf_ids)}")
            hf_dec = hf.decode(case["ids"], skip_special_tokens=False)
            if hf_dec != case["decoded"]:
                print(f"  decode differs for {case['text']!r}: ref {case['decoded']!r} hf {hf_dec!r}")
        print(f"[{name}] transformers ({type(hf).__name__}) vs reference: "
              f"{len(cases) - mismatches}/{len(cases)} cases identical ({time.time() - t1:.1f}s)")


if __name__ == "__main__":
    main()
