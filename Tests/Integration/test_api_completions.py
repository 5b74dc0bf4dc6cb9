"""/v1/completions: text and token-list prompts, echo, logprobs, streaming, and fill-in-the-middle
with the model's FIM tokens (Qwen2.5-Coder has them; the tiny fixture has none: 400)."""
import pytest

from api_helpers import QWEN_CODER, TINY, client, error_of, have_model, post


def test_text_and_token_prompts_agree(start_server):
    server = start_server("--model", TINY)
    api = client(server)
    text = api.completions.create(model="tiny", prompt="Once upon a time", max_tokens=8, temperature=0)
    assert text.object == "text_completion" and text.id.startswith("cmpl-")
    choice = text.choices[0]
    assert choice.finish_reason in ("stop", "length") and choice.logprobs is None
    ids = post(server, "/tokenize", {"content": "Once upon a time", "add_special": True}).json()["tokens"]
    assert text.usage.prompt_tokens == len(ids)
    tokens = api.completions.create(model="tiny", prompt=ids, max_tokens=8, temperature=0)
    assert tokens.choices[0].text == choice.text
    assert tokens.usage.prompt_tokens == len(ids)


def test_default_max_tokens_is_16(start_server):
    api = client(start_server("--model", TINY))
    r = api.completions.create(model="tiny", prompt="Once upon a time", temperature=0)
    assert r.usage.completion_tokens <= 16
    assert (r.choices[0].finish_reason == "length") == (r.usage.completion_tokens == 16)


def test_echo_and_stream(start_server):
    api = client(start_server("--model", TINY))
    plain = api.completions.create(model="tiny", prompt="Hello there", max_tokens=6, temperature=0).choices[0]
    echoed = api.completions.create(model="tiny", prompt="Hello there", max_tokens=6, temperature=0, echo=True).choices[0]
    assert echoed.text == "Hello there" + plain.text
    chunks = list(api.completions.create(model="tiny", prompt="Hello there", max_tokens=6, temperature=0, stream=True,
                                         stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == plain.text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [plain.finish_reason]
    assert chunks[-1].usage.completion_tokens >= 1
    streamed_echo = list(api.completions.create(model="tiny", prompt="Hello there", max_tokens=6, temperature=0,
                                                stream=True, echo=True))
    assert "".join(c.choices[0].text for c in streamed_echo if c.choices) == echoed.text


def test_logprobs_legacy_shape(start_server):
    api = client(start_server("--model", TINY))
    r = api.completions.create(model="tiny", prompt="Hello", max_tokens=5, temperature=0, logprobs=2)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == r.usage.completion_tokens
    assert all(x <= 0 for x in lp.token_logprobs)
    assert all(1 <= len(t) <= 2 for t in lp.top_logprobs)
    assert lp.text_offset == sorted(lp.text_offset) and lp.text_offset[0] == 0
    # Greedy: each chosen token is the most likely one.
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert max(top.values()) == pytest.approx(logprob)


def test_bad_completion_requests(start_server):
    server = start_server("--model", TINY)
    for body, param in [({"prompt": 5}, "prompt"), ({"prompt": ["a", "b"]}, "prompt"), ({"prompt": [1, "x"]}, "prompt"),
                        ({"prompt": [999999]}, "prompt"), ({"prompt": "x", "logprobs": 9}, "logprobs"),
                        ({"prompt": "x", "echo": "yes"}, "echo"), ({"prompt": [5, 6], "suffix": "x"}, "suffix")]:
        r = post(server, "/v1/completions", body)
        assert r.status_code == 400, (body, r.text)
        assert error_of(r)["param"] == param, body


def test_suffix_without_fim_tokens_is_400(start_server):
    server = start_server("--model", TINY)
    r = post(server, "/v1/completions", {"prompt": "def f(", "suffix": "return x"})
    assert r.status_code == 400
    error = error_of(r)
    assert error["param"] == "suffix" and "fill-in-the-middle" in error["message"]


@pytest.mark.skipif(not have_model(QWEN_CODER), reason="Qwen2.5-Coder is not in the model store (scripts/test.sh pulls it)")
def test_fill_in_the_middle_on_qwen_coder(start_server):
    server = start_server("--model", QWEN_CODER, "--ctx", "512")
    api = client(server)
    prefix = "def add(a, b):\n    return "
    suffix = "\n\n\nprint(add(2, 3))\n"
    r = api.completions.create(model="coder", prompt=prefix, suffix=suffix, max_tokens=12, temperature=0)
    middle = r.choices[0].text
    assert "a + b" in middle or "a+b" in middle, repr(middle)
    # The prompt is prefix/suffix/middle tokens around the two texts.
    pieces = [post(server, "/tokenize", {"content": t}).json()["tokens"] for t in ("<|fim_prefix|>", prefix, "<|fim_suffix|>", suffix, "<|fim_middle|>")]
    assert [len(p) for p in pieces][0::2] == [1, 1, 1]
    assert r.usage.prompt_tokens == sum(len(p) for p in pieces)
