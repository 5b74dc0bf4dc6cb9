#!/usr/bin/env bash
# How far each activation width takes a model from float activations: for each model, the same
# prompt decoded greedily (end-of-generation ignored) with --exact (float activations),
# --activations 16 (the default) and --activations 8 (llama.cpp's width); for each width the
# number of leading tokens identical to the float run, and over the prompt plus the float run's
# tokens (one forward pass, every position) the logits' mean and max |difference| from the
# float logits and how often their top token agrees.
#
#   scripts/activation-drift.sh [--tokens N] [--prompt TEXT] [MODEL...]
#
#   MODEL     a store name or GGUF path (default: smollm2-135m-instruct qwen2.5-coder-0.5b-instruct)
#   --tokens  tokens to decode (default 128)
#   --prompt  the prompt (default: "The history of the Roman Empire")
# Uses .build/release/swiftseek (build it first: swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."

TOKENS=128 PROMPT="The history of the Roman Empire" MODELS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --tokens) TOKENS="$2"; shift 2 ;;
        --prompt) PROMPT="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) MODELS+=("$1"); shift ;;
    esac
done
[ ${#MODELS[@]} -gt 0 ] || MODELS=(smollm2-135m-instruct qwen2.5-coder-0.5b-instruct)
[[ "$TOKENS" =~ ^[1-9][0-9]*$ ]] || { echo "--tokens takes a positive integer" >&2; exit 2; }
SS=.build/release/swiftseek
[ -x "$SS" ] || { echo "no $SS: run swift build -c release first" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for m in "${MODELS[@]}"; do
    for mode in exact 16 8; do
        if [ "$mode" = exact ]; then flags=(--exact); else flags=(--activations "$mode"); fi
        env -u SWIFTSEEK_ACTIVATIONS -u SWIFTSEEK_EXACT "$SS" generate -m "$m" --prompt "$PROMPT" --max-tokens "$TOKENS" \
            --temperature 0 --ignore-eos --json "${flags[@]}" </dev/null >"$WORK/$mode.json" 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; echo "swiftseek generate failed on $m" >&2; exit 1; }
    done
    prompt="$("$SS" tokenize -m "$m" --text "$PROMPT" 2>"$WORK/err" | tr -d '[] ')" || { cat "$WORK/err" >&2; exit 1; }
    ids="$prompt,$(python3 -c 'import json, sys; print(",".join(map(str, json.load(open(sys.argv[1]))["tokens"])))' "$WORK/exact.json")"
    for mode in exact 16 8; do
        if [ "$mode" = exact ]; then flags=(--exact); else flags=(--activations "$mode"); fi
        env -u SWIFTSEEK_ACTIVATIONS -u SWIFTSEEK_EXACT "$SS" logits -m "$m" --tokens "$ids" --all-positions \
            --output "$WORK/$mode.f32" "${flags[@]}" </dev/null >/dev/null 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; echo "swiftseek logits failed on $m" >&2; exit 1; }
    done
    python3 - "$m" "$WORK" "$ids" <<'PY'
import json, sys
import numpy as np
model, work, ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
runs = {k: json.load(open(f"{work}/{k}.json"))["tokens"] for k in ("exact", "16", "8")}
def same(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
ref = runs["exact"]
print(f"{model}: of {len(ref)} greedy tokens, the same as float activations: "
      f"16-bit {same(ref, runs['16'])}, 8-bit {same(ref, runs['8'])}")
logits = {k: np.fromfile(f"{work}/{k}.f32", dtype="<f4").astype(np.float64).reshape(len(ids), -1) for k in ("exact", "16", "8")}
for k in ("16", "8"):
    delta = np.abs(logits[k] - logits["exact"])
    top = np.mean(logits[k].argmax(axis=1) == logits["exact"].argmax(axis=1))
    print(f"  {k:>2}-bit logits over {len(ids)} positions: mean |d| {delta.mean():.2e}, max |d| {delta.max():.2e}, top-1 agreement {top:.1%}")
PY
done
