"""Every error status the API sends, in OpenAI's shape ({"error": {message, type, param, code}}),
and auth on and off. Tiny fixture model, except the 429 case, which needs a request slow enough
to hold the only slot (SmolLM2)."""
import json
import os
import threading

import openai
import pytest
import requests

from api_helpers import SMOLLM, TINY, client, error_of, have_model, hello, post, sse_events


@pytest.mark.parametrize("body, param, code", [
    ("{not json", "body", None),
    ("[1, 2]", "body", None),
    (json.dumps({"messages": []}), "messages", None),
    (json.dumps(hello(n=2)), "n", None),
    (json.dumps(hello(temperature=5)), "temperature", None),
    (json.dumps(hello(temperature="hot")), "temperature", None),
    (json.dumps(hello(top_p=0)), "top_p", None),
    (json.dumps(hello(max_tokens=0)), "max_tokens", None),
    (json.dumps(hello(stop=[1, 2])), "stop", None),
    (json.dumps(hello(top_logprobs=50, logprobs=True)), "top_logprobs", None),
    (json.dumps(hello(tools=[{"type": "function", "function": {"name": "f"}}])), "tools", None),
    (json.dumps(hello(response_format={"type": "json_object"})), "response_format", None),
    (json.dumps(hello(tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="auto")), "tools", None),
    (json.dumps(hello(frobnicate=1)), "frobnicate", None),
    (json.dumps({"messages": [{"role": "wizard", "content": "x"}]}), "messages[0].role", None),
    (json.dumps(hello(max_tokens=100000)), "messages", "context_length_exceeded"),
])
def test_bad_requests_get_400_naming_the_parameter(start_server, body, param, code):
    server = start_server("--model", TINY)
    r = post(server, "/v1/chat/completions", body)
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    if code:
        assert error["code"] == code


def test_parameters_that_ask_for_nothing_unsupported_are_accepted(start_server):
    server = start_server("--model", TINY)
    for extra in ({"tools": []}, {"tool_choice": "none"}, {"response_format": {"type": "text"}}, {"user": "u1"},
                  {"logprobs": False}, {"n": 1}, {"stop": None}, {"seed": None}):
        r = post(server, "/v1/chat/completions", hello(max_tokens=2, **extra))
        assert r.status_code == 200, (extra, r.text)


def test_context_length_error_names_the_limit_and_the_count(start_server):
    server = start_server("--model", TINY, "--ctx", "128")
    long_prompt = "word " * 400
    r = post(server, "/v1/chat/completions", hello(long_prompt))
    error = error_of(r)
    assert r.status_code == 400 and error["code"] == "context_length_exceeded"
    count = len(post(server, "/apply-template", hello(long_prompt)).json()["tokens"])
    assert "128" in error["message"] and str(count + 1) in error["message"], error["message"]
    # The openai client raises BadRequestError with the same body.
    with pytest.raises(openai.BadRequestError) as e:
        client(server).chat.completions.create(**hello(long_prompt))
    assert e.value.body["code"] == "context_length_exceeded"


def test_404_for_unknown_routes_and_models(start_server):
    server = start_server("--model", TINY)
    r = requests.get(server.url + "/v1/nothing-here")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = requests.get(server.url + "/v1/models/no-such-model")
    assert r.status_code == 404 and error_of(r)["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client(server).models.retrieve("no-such-model")


def test_413_for_a_body_over_the_limit(start_server):
    server = start_server("--model", TINY, "--max-body", "2048")
    r = post(server, "/v1/chat/completions", hello("x" * 5000))
    assert r.status_code == 413
    assert "2048" in error_of(r)["message"]
    assert post(server, "/v1/chat/completions", hello("small", max_tokens=2)).status_code == 200


def test_api_key_required_when_set(start_server):
    server = start_server("--model", TINY, "--api-key", "sekrit")
    assert requests.get(server.url + "/health").status_code == 200  # health stays open for probes
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "sekrit"}):
        r = post(server, "/v1/chat/completions", hello(max_tokens=2), headers=headers)
        assert r.status_code == 401
        assert error_of(r)["type"] == "authentication_error"
    assert requests.get(server.url + "/metrics").status_code == 401
    with pytest.raises(openai.AuthenticationError):
        client(server, key="wrong").chat.completions.create(**hello(max_tokens=2))
    ok = client(server, key="sekrit").chat.completions.create(**hello(max_tokens=2))
    assert ok.usage.completion_tokens >= 1
    assert len(client(server, key="sekrit").models.list().data) == 1


def test_api_key_from_the_environment(start_server):
    server = start_server("--model", TINY, env={"SWIFTSEEK_API_KEY": "from-env"})
    assert post(server, "/v1/chat/completions", hello(max_tokens=2)).status_code == 401
    assert client(server, key="from-env").chat.completions.create(**hello(max_tokens=2)).choices


def test_no_key_means_any_key_works(start_server):
    server = start_server("--model", TINY, env={"SWIFTSEEK_API_KEY": ""})
    for key in ("anything", "else"):
        assert client(server, key=key).chat.completions.create(**hello(max_tokens=2)).choices
    assert post(server, "/v1/chat/completions", hello(max_tokens=2)).status_code == 200


@pytest.mark.skipif(not have_model(SMOLLM), reason="SmolLM2 is not in the model store (scripts/test.sh pulls it)")
def test_429_when_the_queue_is_full(start_server):
    # One slot and a queue of one: while a long request holds the slot and another waits, the
    # next request is refused. The held request has a long prompt, so it holds its slot for
    # seconds (prefill) however soon the model would stop.
    from api_helpers import metric, metrics, wait_until
    server = start_server("--model", SMOLLM, "--parallel", "1", "--max-queue", "1", "--keep-alive", "0.2")
    long_prompt = " ".join(f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(100))
    story = {"messages": [{"role": "user", "content": long_prompt + "\nNow write a very long story."}],
             "max_tokens": 600, "temperature": 1.0, "seed": 1, "stream": True}
    with requests.post(server.url + "/v1/chat/completions", stream=True, timeout=120, json=story) as running:
        assert running.status_code == 200
        wait_until(lambda: metric(metrics(server), "swiftseek_active_slots") == 1, what="the first request to take the slot")
        with requests.post(server.url + "/v1/chat/completions", stream=True, timeout=120, json=story) as queued:
            assert queued.status_code == 200  # the role chunk is sent at once; it waits for the slot
            assert metric(metrics(server), "swiftseek_queue_depth") == 1
            r = post(server, "/v1/chat/completions", hello(max_tokens=2))
            assert r.status_code == 429, r.text
            error = error_of(r)
            assert error["type"] == "rate_limit_error" and error["code"] == "queue_full"
            assert r.headers.get("Retry-After")
            with pytest.raises(openai.RateLimitError):
                client(server).chat.completions.create(**hello(max_tokens=2))
    # Both streams are closed. The server notices at its next write to each (a token or a
    # keep-alive comment), stops them, and serves again.
    wait_until(lambda: post(server, "/v1/chat/completions", hello(max_tokens=2)).status_code == 200,
               what="the closed streams to give their places back")


def test_503_while_the_model_loads_then_a_load_error_stops_the_server(start_server, tmp_path):
    """The server listens before the model is loaded. A FIFO as the model file blocks the load
    (open() waits for a writer), so /health answers 503 "loading" and the API 503; writing a
    truncated file into the FIFO then fails the load, and the server exits non-zero with the error."""
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    import subprocess, time
    from conftest import BIN, free_port
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    process = subprocess.Popen([BIN, "serve", "--port", str(port), "--model", str(fifo)], stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            try:
                health = requests.get(url + "/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        assert health is not None and health.status_code == 503 and health.json() == {"status": "loading"}
        r = requests.post(url + "/v1/chat/completions", json=hello(), timeout=10)
        assert r.status_code == 503 and error_of(r)["code"] == "service_unavailable"
        # Unblock the loader with a file that is not a GGUF model.
        try:
            with open(fifo, "wb") as f:
                f.write(b"GGUF\x03\x00\x00\x00")
        except BrokenPipeError:
            pass  # the loader read the (empty) size and gave up before the write

        assert process.wait(timeout=60) != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    out = (tmp_path / "serve.log").read_text(errors="replace")
    assert "model.gguf" in out and "Fatal error" not in out, out
