#!/usr/bin/env bash
# Single-thread speed as tokens per CPU-second, SwiftSeek vs llama.cpp's llama-bench, on the
# same GGUF files. CPU time (user + sys of the process) is what a shared, noisy machine leaves
# least disturbed: a process that is descheduled accrues none. Each figure is a difference of
# two runs, so model loading and warm-up cancel out:
#   prefill: (cost of pp512 - cost of pp8) / 504 tokens
#   decode:  (cost of pp8 + tg129 - cost of pp8 + tg1) / 128 tokens      (SwiftSeek)
#            (cost of tg129 - cost of tg1) / 128 tokens                  (llama-bench --no-warmup)
# Medians over --reps repetitions. Wall-clock, multi-thread figures: scripts/bench-vs-llamacpp.sh.
#
#   scripts/bench-cputime-vs-llamacpp.sh [--reps N] MODEL...     (store names or GGUF paths)
#
# Needs llama-bench (scripts/llamacpp-tools.sh builds it once per machine; SWIFTSEEK_LLAMACPP,
# SWIFTSEEK_LLAMACPP_ISA=avx2) and the release binary (.build/release/swiftseek).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=3 MODELS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) REPS="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) MODELS+=("$1"); shift ;;
    esac
done
[ ${#MODELS[@]} -gt 0 ] || MODELS=(smollm2-135m-instruct qwen2.5-coder-0.5b-instruct)
. scripts/llamacpp-tools.sh
BENCH="$(llamacpp_tool llama-bench)"
SS=.build/release/swiftseek
[ -x "$SS" ] || { echo "no $SS: swift build -c release --product swiftseek" >&2; exit 1; }
T="$(mktemp)"; trap 'rm -f "$T"' EXIT
cpu() { /usr/bin/time -o "$T" -f "%U %S" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; awk '{print $1 + $2}' "$T"; }

echo "| model | engine | prefill tok/CPU-s | decode tok/CPU-s |"
echo "|---|---|---|---|"
for m in "${MODELS[@]}"; do
    if [ -f "$m" ]; then file="$m"; else file="$("$SS" info -m "$m" | sed -n 's/^file  *//p' | head -n 1)"; fi
    label="$(basename "$file" .gguf)"
    ss_pp=() ss_tg=() lc_pp=() lc_tg=()
    for _ in $(seq "$REPS"); do
        a=$(cpu "$SS" bench -m "$file" --pp 512 --tg 1 --reps 1 --threads 1)
        b=$(cpu "$SS" bench -m "$file" --pp 8 --tg 1 --reps 1 --threads 1)
        c=$(cpu "$SS" bench -m "$file" --pp 8 --tg 129 --reps 1 --threads 1)
        ss_pp+=("$(python3 -c "print(504 / ($a - $b))")"); ss_tg+=("$(python3 -c "print(128 / ($c - $b))")")
        a=$(cpu "$BENCH" -m "$file" -p 512 -n 0 -t 1 -r 1 --no-warmup)
        b=$(cpu "$BENCH" -m "$file" -p 8 -n 0 -t 1 -r 1 --no-warmup)
        c=$(cpu "$BENCH" -m "$file" -p 0 -n 129 -t 1 -r 1 --no-warmup)
        d=$(cpu "$BENCH" -m "$file" -p 0 -n 1 -t 1 -r 1 --no-warmup)
        lc_pp+=("$(python3 -c "print(504 / ($a - $b))")"); lc_tg+=("$(python3 -c "print(128 / ($c - $d))")")
    done
    python3 - "$label" "${ss_pp[*]}" "${ss_tg[*]}" "${lc_pp[*]}" "${lc_tg[*]}" <<'PY'
import statistics, sys
label, *cols = sys.argv[1:]
ss_pp, ss_tg, lc_pp, lc_tg = ([float(x) for x in c.split()] for c in cols)
cell = lambda xs: f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"
print(f"| {label} | llama.cpp | {cell(lc_pp)} | {cell(lc_tg)} |")
print(f"| {label} | SwiftSeek | {cell(ss_pp)} | {cell(ss_tg)} |")
print(f"| {label} | ratio | {statistics.median(ss_pp) / statistics.median(lc_pp):.2f}x | {statistics.median(ss_tg) / statistics.median(lc_tg):.2f}x |")
PY
done
