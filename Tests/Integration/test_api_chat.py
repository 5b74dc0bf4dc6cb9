"""/v1/chat/completions through the official `openai` client against the real server on the tiny
fixture model: streamed and whole answers agree, stops, seeds, limits, usage, logprobs, the
prefix cache, and the DeepSeek reasoning split."""
import json
import shutil

import pytest

from api_helpers import TINY, client, hello, post


def test_stream_reassembles_to_the_whole_answer(start_server):
    api = client(start_server("--model", TINY))
    whole = api.chat.completions.create(**hello(max_tokens=12, temperature=0))
    choice = whole.choices[0]
    assert whole.object == "chat.completion" and whole.id.startswith("chatcmpl-")
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    assert 1 <= whole.usage.completion_tokens <= 12
    assert (choice.finish_reason == "length") == (whole.usage.completion_tokens == 12)

    stream = api.chat.completions.create(**hello(max_tokens=12, temperature=0, stream=True,
                                                 stream_options={"include_usage": True}))
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    with_choices = [c for c in chunks if c.choices]
    finishes = [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason]
    assert finishes == [choice.finish_reason]
    assert with_choices[-1].choices[0].finish_reason == choice.finish_reason
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert text == choice.message.content
    usage = chunks[-1].usage  # the usage chunk comes last, with no choices
    assert chunks[-1].choices == [] and usage is not None
    assert usage.completion_tokens == whole.usage.completion_tokens
    assert usage.prompt_tokens == whole.usage.prompt_tokens


def test_max_tokens_ends_with_length(start_server):
    api = client(start_server("--model", TINY))
    for key in ("max_tokens", "max_completion_tokens"):
        r = api.chat.completions.create(**hello("Tell me everything", temperature=0, **{key: 3}))
        assert r.usage.completion_tokens == 3, r
        assert r.choices[0].finish_reason == "length"


def test_usage_counts_the_rendered_prompt(start_server):
    server = start_server("--model", TINY)
    api = client(server)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count to three"}]
    r = api.chat.completions.create(model="tiny", messages=messages, max_tokens=5, temperature=0, logprobs=True)
    rendered = post(server, "/apply-template", {"messages": messages}).json()
    assert "Count to three" in rendered["prompt"]
    tokens = post(server, "/tokenize", {"content": rendered["prompt"], "add_special": True}).json()["tokens"]
    assert r.usage.prompt_tokens == len(tokens) == len(rendered["tokens"])
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens_details.cached_tokens == r.usage.model_extra["prompt_cache_hit_tokens"]
    assert r.usage.model_extra["prompt_cache_hit_tokens"] + r.usage.model_extra["prompt_cache_miss_tokens"] == r.usage.prompt_tokens
    # One log-probability per generated token: completion_tokens counts what was generated.
    assert len(r.choices[0].logprobs.content) == r.usage.completion_tokens


def test_stop_strings_cut_the_answer(start_server):
    api = client(start_server("--model", TINY))
    full = api.chat.completions.create(**hello(max_tokens=40, temperature=0)).choices[0].message.content
    assert len(full) >= 6, f"the fixture answer is too short to cut: {full!r}"
    # A stop string taken from the middle of the greedy answer: the answer ends just before it.
    for start in range(2, len(full) - 2):
        stop = full[start:start + 2]
        if stop.strip() and full.index(stop) == start:
            break
    else:
        pytest.skip(f"no unique two-character stop string in {full!r}")
    for stop_param in (stop, [stop, "\x00never"]):
        r = api.chat.completions.create(**hello(max_tokens=40, temperature=0, stop=stop_param))
        assert r.choices[0].message.content == full[:start]
        assert r.choices[0].finish_reason == "stop"
        streamed = api.chat.completions.create(**hello(max_tokens=40, temperature=0, stop=stop_param, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == full[:start]


def test_seed_reproduces_a_sampled_answer(start_server):
    api = client(start_server("--model", TINY))
    def sample(seed):
        return api.chat.completions.create(**hello(max_tokens=24, temperature=1.0, seed=seed)).choices[0].message.content
    first = sample(1234)
    assert sample(1234) == first
    # Different seeds draw different answers (24 draws at temperature 1 from a near-flat 256-way distribution).
    assert len({first, sample(1), sample(2)}) > 1


def test_logprobs_in_openai_shape(start_server):
    api = client(start_server("--model", TINY))
    r = api.chat.completions.create(**hello(max_tokens=6, temperature=0, logprobs=True, top_logprobs=3))
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        tops = [t.logprob for t in entry.top_logprobs]
        assert tops == sorted(tops, reverse=True)
        # Greedy decoding picks the most likely token.
        assert entry.token == entry.top_logprobs[0].token and entry.logprob == pytest.approx(tops[0])
        assert bytes(entry.bytes).decode("utf-8", "replace") == entry.token
    assert "".join(e.token for e in content).startswith(r.choices[0].message.content)
    # Streamed: the chunks carry the same entries.
    stream = api.chat.completions.create(**hello(max_tokens=6, temperature=0, logprobs=True, top_logprobs=3, stream=True))
    streamed = [e for c in stream if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert [(e.token, round(e.logprob, 4)) for e in streamed] == [(e.token, round(e.logprob, 4)) for e in content]
    # Without the flag there are none.
    assert api.chat.completions.create(**hello(max_tokens=2)).choices[0].logprobs is None


def test_second_turn_hits_the_prefix_cache(start_server):
    api = client(start_server("--model", TINY))
    messages = [{"role": "user", "content": "My name is Ada. Remember it."}]
    one = api.chat.completions.create(model="tiny", messages=messages, max_tokens=8, temperature=0)
    messages += [{"role": "assistant", "content": one.choices[0].message.content},
                 {"role": "user", "content": "What is my name?"}]
    two = api.chat.completions.create(model="tiny", messages=messages, max_tokens=8, temperature=0)
    hit = two.usage.model_extra["prompt_cache_hit_tokens"]
    assert hit > 0
    assert hit == two.usage.prompt_tokens_details.cached_tokens
    assert hit + two.usage.model_extra["prompt_cache_miss_tokens"] == two.usage.prompt_tokens
    # Turn one's prompt is a prefix of turn two's, so at least all of it (but the last token) is reused.
    assert hit >= one.usage.prompt_tokens - 1


R1_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'user' %}<｜User｜>{{ m['content'] }}"
               "{% elif m['role'] == 'assistant' %}<｜Assistant｜>{{ m['content'] }}{% endif %}{% endfor %}"
               "{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}")


@pytest.fixture
def r1_tiny(tmp_path):
    """The tiny model with an R1-style template that opens <think> in the prompt."""
    folder = tmp_path / "tiny-r1"
    shutil.copytree(TINY, folder)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["chat_template"] = R1_TEMPLATE
    config_path.write_text(json.dumps(config))
    return str(folder)


def test_reasoning_is_split_out(start_server, r1_tiny):
    api = client(start_server("--model", r1_tiny))
    r = api.chat.completions.create(**hello("Why?", max_tokens=10, temperature=0))
    message = r.choices[0].message
    reasoning = message.model_extra["reasoning_content"]
    # The tiny model never closes </think>: all it says is reasoning, and every token counts as such.
    assert reasoning and "<think>" not in reasoning
    assert message.content == ""
    assert r.usage.completion_tokens_details.reasoning_tokens == r.usage.completion_tokens
    stream = list(api.chat.completions.create(**hello("Why?", max_tokens=10, temperature=0, stream=True,
                                                      stream_options={"include_usage": True})))
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == reasoning
    assert "".join(d.content or "" for d in deltas) == ""
    assert stream[-1].usage.completion_tokens_details.reasoning_tokens == r.usage.completion_tokens


def test_reasoning_then_answer_with_prefix(start_server, r1_tiny):
    """DeepSeek's prefix completion: a last assistant message with prefix=true is continued. With
    the reasoning closed in the prefix, what the model adds is the answer, not reasoning."""
    api = client(start_server("--model", r1_tiny))
    r = api.chat.completions.create(model="tiny", max_tokens=6, temperature=0, messages=[
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "I thought.\n</think>\n\n", "prefix": True}])
    assert r.choices[0].message.model_extra.get("reasoning_content") in (None, "")
    assert r.usage.completion_tokens_details.reasoning_tokens == 0
