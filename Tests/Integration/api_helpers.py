"""Helpers shared by the API integration tests: model paths, clients, raw SSE reading, metrics."""
import json
import os
import pathlib
import re
import time

import openai
import requests

from conftest import FIXTURES

TINY = str(FIXTURES / "tiny" / "hf-tiny-llama")
HOME = pathlib.Path(os.environ.get("SWIFTSEEK_HOME", pathlib.Path.home() / ".cache" / "swiftseek"))
SMOLLM = "smollm2-135m-instruct"
QWEN_CODER = "qwen2.5-coder-0.5b-instruct"


def have_model(name: str) -> bool:
    return (HOME / "models" / f"{name}.gguf").exists()


def client(server, key="unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120)


def hello(content="Hello", **extra):
    return dict(model="tiny", messages=[{"role": "user", "content": content}], **extra)


def post(server, path, body, headers=None, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    h = {"Content-Type": "application/json", **(headers or {})}
    return requests.post(server.url + path, data=data, headers=h, timeout=kw.pop("timeout", 120), **kw)


def sse_events(response):
    """Yields each server-sent event of a streamed response as ("comment", text) or ("data", text)."""
    buffer = ""
    for piece in response.iter_content(chunk_size=None, decode_unicode=True):
        buffer += piece
        while "\n\n" in buffer:
            event, buffer = buffer.split("\n\n", 1)
            for line in event.split("\n"):
                if line.startswith(":"):
                    yield ("comment", line[1:].strip())
                elif line.startswith("data: "):
                    yield ("data", line[6:])


def metrics(server, key=None) -> dict:
    """The /metrics exposition as {'name{labels}': value}."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    text = requests.get(server.url + "/metrics", headers=headers, timeout=30).text
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def metric(values: dict, name: str, **labels) -> float:
    key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    return values.get(key, 0.0)


def wait_until(predicate, timeout=60.0, what="condition"):
    """Polls `predicate` until it is true; bounded, fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert error["message"], error
    assert "Traceback" not in error["message"] and "at /" not in error["message"]
    return error


def split_words(text: str):
    return re.findall(r"\w+", text)
