"""Running the server: /health, /metrics, cancellation by a client that goes away, graceful
shutdown on SIGTERM during a stream, keep-alive comments while a long prompt is prefilled, and a
small bounded run of scripts/load-test.py."""
import json
import signal
import subprocess
import sys

import pytest
import requests

from api_helpers import (SMOLLM, TINY, client, have_model, hello, metric, metrics, post, sse_events,
                         wait_until)
from conftest import ROOT

needs_smollm = pytest.mark.skipif(not have_model(SMOLLM), reason="SmolLM2 is not in the model store (scripts/test.sh pulls it)")

LONG_STORY = {"messages": [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}],
              "max_tokens": 2000, "temperature": 1.0, "seed": 3, "stream": True}


def test_metrics_count_requests_tokens_errors_and_ttft(start_server):
    server = start_server("--model", TINY)
    api = client(server)
    before = metrics(server)
    assert metric(before, "swiftseek_active_slots") == 0
    assert metric(before, "swiftseek_generated_tokens_total") == 0
    runs = [api.chat.completions.create(**hello(f"Hello {i}", max_tokens=5, temperature=0)) for i in range(3)]
    streamed = list(api.chat.completions.create(**hello("Stream", max_tokens=4, temperature=0, stream=True,
                                                        stream_options={"include_usage": True})))
    completion = api.completions.create(model="tiny", prompt="Once", max_tokens=3, temperature=0)
    assert post(server, "/v1/chat/completions", "{bad").status_code == 400
    assert requests.get(server.url + "/nope").status_code == 404

    m = metrics(server)
    usages = [r.usage for r in runs] + [streamed[-1].usage, completion.usage]
    assert metric(m, "swiftseek_generated_tokens_total") == sum(u.completion_tokens for u in usages)
    assert metric(m, "swiftseek_prompt_tokens_total") == sum(u.prompt_tokens for u in usages)
    assert metric(m, "swiftseek_prompt_cache_hit_tokens_total") == sum(u.model_extra["prompt_cache_hit_tokens"] for u in usages)
    assert metric(m, "swiftseek_requests_total", endpoint="/v1/chat/completions") == 5
    assert metric(m, "swiftseek_requests_total", endpoint="/v1/completions") == 1
    assert metric(m, "swiftseek_errors_total", status="400") == 1
    assert metric(m, "swiftseek_errors_total", status="404") == 1
    # One time-to-first-token observation per generation.
    assert metric(m, "swiftseek_time_to_first_token_seconds_count") == 5
    assert metric(m, "swiftseek_time_to_first_token_seconds_bucket", le="+Inf") == 5
    assert metric(m, "swiftseek_active_slots") == 0 and metric(m, "swiftseek_queue_depth") == 0
    assert metric(m, "swiftseek_slots") >= 1
    assert metric(m, "swiftseek_generated_tokens_per_second") > 0
    assert requests.get(server.url + "/metrics").headers["Content-Type"].startswith("text/plain")


def test_health_and_models(start_server):
    server = start_server("--model", TINY)
    assert requests.get(server.url + "/health").json() == {"status": "ok"}
    models = client(server).models.list().data
    assert len(models) == 1 and models[0].object == "model"
    assert client(server).models.retrieve(models[0].id).id == models[0].id


@needs_smollm
def test_a_client_that_disconnects_frees_its_slot(start_server):
    server = start_server("--model", SMOLLM, "--parallel", "2")
    with requests.post(server.url + "/v1/chat/completions", json=LONG_STORY, stream=True, timeout=120) as r:
        received = 0
        for kind, data in sse_events(r):
            if kind == "data" and json.loads(data)["choices"][0]["delta"].get("content"):
                received += 1
                if received == 5:
                    break
        assert metric(metrics(server), "swiftseek_active_slots") == 1
    # The connection is closed: the generation stops at its next step and its slot is freed,
    # long before its 2000 tokens. (The engine publishes its counts after each step, so the
    # probes are small requests.)
    def cancelled():
        assert post(server, "/v1/completions", {"prompt": "Hi", "max_tokens": 1}).status_code == 200
        m = metrics(server)
        return metric(m, "swiftseek_engine_cancelled") == 1 and metric(m, "swiftseek_active_slots") == 0
    wait_until(cancelled, what="the cancelled generation to free its slot")
    assert metric(metrics(server), "swiftseek_engine_generated_tokens") < 2000
    assert metric(metrics(server), "swiftseek_client_disconnects_total") == 1
    r = client(server).chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}], max_tokens=5)
    assert r.choices[0].message.content is not None
    m = metrics(server)
    assert metric(m, "swiftseek_active_slots") == 0 and metric(m, "swiftseek_requests_in_flight") == 0


@needs_smollm
def test_sigterm_during_a_stream_exits_0(start_server):
    server = start_server("--model", SMOLLM, "--shutdown-timeout", "0.3")
    events = []
    with requests.post(server.url + "/v1/chat/completions", json=LONG_STORY, stream=True, timeout=120) as r:
        for kind, data in sse_events(r):
            events.append((kind, data))
            if kind == "data" and len(events) == 4:
                server.process.send_signal(signal.SIGTERM)
    # The stream ended early (the grace period is 0.3 s) with an error object, then [DONE].
    data = [d for k, d in events if k == "data"]
    assert data[-1] == "[DONE]"
    last = json.loads(data[-2])
    assert "error" in last and "shutting down" in last["error"]["message"], last
    assert len(data) < 2000
    assert server.process.wait(timeout=60) == 0
    assert "stopped" in server.log()


@needs_smollm
def test_sigint_when_idle_exits_0(start_server):
    server = start_server("--model", SMOLLM)
    assert client(server).chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=60) == 0


@needs_smollm
def test_keep_alive_comments_while_a_long_prompt_is_prefilled(start_server):
    server = start_server("--model", SMOLLM, "--keep-alive", "0.05")
    prompt = "Summarise this text. " + " ".join(f"Sentence {i} says the sky is blue and the sea is green." for i in range(120))
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 2, "stream": True}
    with requests.post(server.url + "/v1/chat/completions", json=body, stream=True, timeout=300) as r:
        events = list(sse_events(r))
    kinds = [k for k, _ in events]
    first_data = kinds.index("data")
    second_data = kinds.index("data", first_data + 1)
    # The role chunk goes out at once; comments follow while the prompt is prefilled, then tokens.
    between = events[first_data + 1:second_data]
    assert between and all(e == ("comment", "keep-alive") for e in between), events[:10]
    assert events[-1] == ("data", "[DONE]")


def test_load_script_bounded_run(start_server):
    """scripts/load-test.py with a few clients on the tiny model: zero errors, no leaked slots."""
    server = start_server("--model", TINY, "--parallel", "4")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "load-test.py"), "--url", server.url,
                          "--clients", "4", "--requests", "24", "--max-tokens", "8", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["requests"] == 24 and report["errors"] == 0
    assert report["active_slots_after"] == 0
    assert report["generated_tokens"] == metric(metrics(server), "swiftseek_generated_tokens_total")
