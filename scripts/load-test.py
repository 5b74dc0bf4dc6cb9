#!/usr/bin/env python3
"""Load test for `swiftseek serve` (or any OpenAI-compatible server on this machine).

N concurrent streaming clients share M requests in total; every request streams a chat
completion with usage. Prints the aggregate generated tokens per second, time to first token
(median and p90), errors, and — from the server's /metrics, for swiftseek — the active slots
left at the end (a leak shows as a non-zero count). Exits 1 on any error or leaked slot.

Bounded by design: loopback addresses only, a fixed number of requests, a timeout per request
and an overall deadline; it stops by itself.

    scripts/load-test.py --url http://127.0.0.1:8080 --clients 16 --requests 200 [--max-tokens 64]
                         [--prompt TEXT] [--api-key KEY] [--model NAME] [--deadline 1800] [--json]
"""
import argparse
import http.client
import ipaddress
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse

PROMPTS = [
    "Write a short poem about the sea.",
    "Explain what a hash table is in two sentences.",
    "List three uses of a paperclip.",
    "Describe a sunrise over the mountains.",
    "What is the capital of France, and why is it famous?",
    "Give me a tip for learning to play the guitar.",
    "Tell a very short story about a robot and a cat.",
    "Why is the sky blue?",
]


def loopback_only(url: str) -> urllib.parse.ParseResult:
    u = urllib.parse.urlparse(url)
    if u.scheme != "http" or not u.hostname:
        sys.exit(f"--url must be http://HOST:PORT, got {url}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(u.hostname, u.port or 80)}
    except socket.gaierror as e:
        sys.exit(f"cannot resolve {u.hostname}: {e}")
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        sys.exit(f"refusing to load {u.hostname} ({', '.join(sorted(addresses))}): loopback addresses only")
    return u


class Result:
    def __init__(self):
        self.ok = False
        self.error = None
        self.ttft = None
        self.generated = 0
        self.seconds = 0.0


def one_request(u, args, prompt: str, seed: int) -> Result:
    result = Result()
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": args.max_tokens, "stream": True,
            "stream_options": {"include_usage": True}, "temperature": args.temperature, "seed": seed}
    if args.model:
        body["model"] = args.model
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    start = time.monotonic()
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=args.timeout)
    try:
        conn.request("POST", (u.path.rstrip("/") or "") + "/v1/chat/completions", json.dumps(body), headers)
        response = conn.getresponse()
        if response.status != 200:
            result.error = f"HTTP {response.status}: {response.read(300).decode(errors='replace')}"
            return result
        done = False
        while not done:
            line = response.readline()
            if not line:
                break
            line = line.decode().strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if "error" in chunk:
                result.error = f"stream error: {chunk['error'].get('message')}"
                return result
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if result.ttft is None and (delta.get("content") or delta.get("reasoning_content")):
                    result.ttft = time.monotonic() - start
            if chunk.get("usage"):
                result.generated = chunk["usage"]["completion_tokens"]
        if not done:
            result.error = "the stream ended without [DONE]"
            return result
        result.ok = True
    except (OSError, http.client.HTTPException, ValueError) as e:
        result.error = f"{type(e).__name__}: {e}"
    finally:
        result.seconds = time.monotonic() - start
        conn.close()
    return result


def metrics(u, args) -> dict:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    try:
        conn.request("GET", "/metrics", headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            return {}
        out = {}
        for line in response.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out
    except (OSError, http.client.HTTPException):
        return {}
    finally:
        conn.close()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run(args) -> dict:
    u = loopback_only(args.url)
    lock = threading.Lock()
    next_index = [0]
    results = []
    deadline = time.monotonic() + args.deadline

    def worker(client_id):
        while time.monotonic() < deadline:
            with lock:
                i = next_index[0]
                if i >= args.requests:
                    return
                next_index[0] += 1
            prompt = args.prompt or PROMPTS[i % len(PROMPTS)]
            r = one_request(u, args, prompt, seed=i)
            with lock:
                results.append(r)

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + args.timeout)
    wall = time.monotonic() - start
    with lock:
        done = list(results)
    ok = [r for r in done if r.ok]
    errors = [r.error for r in done if not r.ok]
    missing = args.requests - len(done)
    m = {}
    if args.check_metrics:
        # A slot is freed within one engine step of its stream's end: allow a few seconds.
        settle = time.monotonic() + 10
        m = metrics(u, args)
        while m.get("swiftseek_active_slots", 0) > 0 and time.monotonic() < settle:
            time.sleep(0.2)
            m = metrics(u, args)
    ttfts = [r.ttft for r in ok if r.ttft is not None]
    generated = sum(r.generated for r in ok)
    return {
        "clients": args.clients, "requests": len(done), "ok": len(ok), "errors": len(errors) + missing,
        "error_samples": (errors + ([f"{missing} requests not run before the deadline"] if missing else []))[:5],
        "wall_seconds": round(wall, 3), "generated_tokens": generated,
        "tokens_per_second": round(generated / wall, 2) if wall > 0 else 0.0,
        "ttft_median_s": round(statistics.median(ttfts), 4) if ttfts else None,
        "ttft_p90_s": round(percentile(ttfts, 0.9), 4) if ttfts else None,
        "active_slots_after": m.get("swiftseek_active_slots"),
        "queue_depth_after": m.get("swiftseek_queue_depth"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=200, help="requests in total, shared by the clients")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--prompt", default=None, help="one prompt for every request (default: a small rotating set)")
    p.add_argument("--model", default=None)
    p.add_argument("--api-key", default=None)
    p.add_argument("--timeout", type=float, default=300, help="seconds per request")
    p.add_argument("--deadline", type=float, default=1800, help="seconds for the whole run")
    p.add_argument("--no-metrics", dest="check_metrics", action="store_false", help="do not read /metrics (other servers)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON line")
    args = p.parse_args()
    if not (1 <= args.clients <= 256 and 1 <= args.requests <= 100000 and args.max_tokens >= 1):
        sys.exit("--clients must be 1..256, --requests 1..100000, --max-tokens >= 1")
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['requests']} requests from {report['clients']} clients in {report['wall_seconds']} s: "
              f"{report['ok']} ok, {report['errors']} errors")
        print(f"generated {report['generated_tokens']} tokens: {report['tokens_per_second']} tokens/s aggregate")
        print(f"time to first token: median {report['ttft_median_s']} s, p90 {report['ttft_p90_s']} s")
        if report["active_slots_after"] is not None:
            print(f"after the run: {report['active_slots_after']:.0f} active slots, {report['queue_depth_after']:.0f} queued")
        for e in report["error_samples"]:
            print(f"  error: {e}")
    leaked = (report["active_slots_after"] or 0) > 0
    sys.exit(1 if report["errors"] or leaked else 0)


if __name__ == "__main__":
    main()
