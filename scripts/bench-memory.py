#!/usr/bin/env python3
"""Peak memory and time to first token of `swiftseek generate` on a 512-token prompt.

For each model: the process's peak RSS (weights are memory-mapped, so their pages count once
touched), checked against the budget  file size + KV cache (at the context the run uses) + 64 MiB,
and the wall time from process start to the first generated token (load + 512-token prefill +
one decode step), median of --reps runs.

    scripts/bench-memory.py [--bin .build/release/swiftseek] [--reps 3] [--threads 2] [--ctx 1024] MODEL...

MODEL is a store name or a GGUF path (SWIFTSEEK_HOME as usual).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

WRAP = r"""
import resource, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.monotonic() - t0
if p.returncode != 0:
    sys.stderr.write(p.stderr.decode(errors="replace"))
    sys.exit(p.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, elapsed)
"""


def info(binary, model):
    out = subprocess.run([binary, "info", "-m", model], check=True, capture_output=True, text=True).stdout
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines() if re.search(r"\s{2,}", line.strip()))
    per_token = float(re.match(r"([\d.]+) KiB per token", rows["kv cache"]).group(1)) * 1024
    vocab = int(re.search(r"(\d+) tokens", rows["tokenizer"]).group(1))
    return rows["file"], per_token, vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--bin", default=".build/release/swiftseek")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    results = []
    print("| model | file MiB | KV cache MiB (ctx %d) | peak RSS MiB | budget MiB | within | TTFT s, 512-token prompt, median (min–max) |" % a.ctx)
    print("|---|---|---|---|---|---|---|")
    for model in a.models:
        path, per_token, vocab = info(a.bin, model)
        tokens = ",".join(str(1000 + (i * 7919) % min(vocab - 1000, 20000)) for i in range(512))
        cmd = [a.bin, "generate", "-m", path, "--tokens", tokens, "--max-tokens", "1", "--temperature", "0",
               "--threads", str(a.threads), "--ctx", str(a.ctx)]
        rss, ttft = [], []
        for _ in range(a.reps):
            out = subprocess.run([sys.executable, "-c", WRAP, *cmd], check=True, capture_output=True, text=True).stdout.split()
            rss.append(int(out[0]))
            ttft.append(float(out[1]))
        size = os.path.getsize(path)
        kv = per_token * a.ctx
        budget = size + kv + 64 * 2**20
        peak = max(rss)
        mib = lambda b: b / 2**20
        print(f"| {model} | {mib(size):.1f} | {mib(kv):.1f} | {mib(peak):.1f} | {mib(budget):.1f} | {'yes' if peak <= budget else 'NO'} | "
              f"{statistics.median(ttft):.2f} ({min(ttft):.2f}–{max(ttft):.2f}) |")
        results.append({"model": model, "file_bytes": size, "kv_bytes": kv, "peak_rss_bytes": peak, "budget_bytes": budget,
                        "ttft_s": ttft})
    if a.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
