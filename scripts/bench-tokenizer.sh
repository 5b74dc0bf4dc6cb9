#!/usr/bin/env bash
# Tokenizer speed, SwiftSeek vs Hugging Face `tokenizers`, in the same run: both encode every
# file of the parity corpus (Tests/Fixtures/tokenizer/corpus) on one thread; the medians
# and their ratio are printed.
#   scripts/bench-tokenizer.sh [PYTHON]   (PYTHON: an interpreter with `tokenizers`, default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
CORPUS=Tests/Fixtures/tokenizer/corpus
swift build -c release --product swiftseek >/dev/null
BIN=.build/release/swiftseek
TOK_DIR="$($BIN pull deepseek-v3-tokenizer 2>&1 | sed -n 's/.*(\(.*\)).*/\1/p; s/.*done, //p' | tail -1)"
ours=$($BIN bench-tokenizer --tokenizer deepseek-v3-tokenizer --corpus "$CORPUS" --reps 7 --json)
ref=$("$PY" scripts/bench_tokenizer_reference.py "$TOK_DIR/tokenizer.json" --repeats 7)
"$PY" - "$ours" "$ref" <<'PY'
import json, sys
ours, ref = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert ours["tokens"] == ref["tokens"], f"token counts differ: {ours['tokens']} vs {ref['tokens']}"
print(f"DeepSeek-V3 tokenizer, {ours['bytes']} bytes, {ours['tokens']} tokens, one thread")
print(f"  SwiftSeek   {ours['mb_per_s']:.2f} MB/s (first pass {ours['first_mb_per_s']:.2f})")
print(f"  tokenizers  {ref['mb_per_s']:.2f} MB/s ({ref.get('implementation', '')})")
print(f"  ratio       {ours['mb_per_s'] / ref['mb_per_s']:.2f}x")
PY
