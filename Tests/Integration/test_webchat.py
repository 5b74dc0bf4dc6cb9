"""The web chat in a real headless Chromium against a real `swiftseek serve`.

The tiny fixture model answers with random tokens: fine for the interface (streaming, stop,
regenerate, conversations); its greedy answers are deterministic, which the stop test uses.
SmolLM2 (under SWIFTSEEK_HOME) gives the one real answer, a Markdown code block.
"""
import re
import signal

import pytest
import requests

from webchat_support import (SMOLLM, TINY, Page, driver, long_greedy_prompt, make_driver, require_browser,  # noqa: F401 (driver is a fixture)
                             wait_for)


@pytest.fixture
def chat(start_server, driver, tmp_path):
    """A server on the tiny model with its own database, and the page on it."""
    db = tmp_path / "chats.sqlite"
    server = start_server("--model", TINY, "--db", str(db))
    page = Page(driver, server)
    page.db = db
    yield page
    page.unthrottle() if driver.session_id else None


def test_send_message_streams_an_answer_with_stats(chat):
    prompt, full = long_greedy_prompt(chat.server, 60)
    chat.open(settings={"temperature": 0, "maxTokens": 60, "model": "", "system": ""})
    assert chat.find("#welcome").is_displayed()
    chat.throttle(4000)
    before = chat.answers()
    chat.type(prompt)
    # While it streams: the Stop button replaces Send and the answer grows in place.
    wait_for(lambda: chat.find(".message.assistant.pending .content").text.strip(), what="streamed text")
    assert chat.find("#stop").is_displayed() and not chat.find("#send").is_displayed()
    first = chat.find(".message.assistant.pending .content").text

    def grew_while_streaming():
        pending = chat.find_all(".message.pending .content")
        assert pending, "the answer ended before it was seen growing"
        return len(pending[0].text) > len(first)
    wait_for(grew_while_streaming, what="the streamed answer to grow")
    chat.unthrottle()
    chat.wait_answer(before)
    assert not chat.find("#stop").is_displayed()

    # Stored: the question, then the answer with its numbers, which the page shows.
    [summary] = chat.conversations()
    assert summary["title"] == prompt and summary["id"] == chat.current_id()
    conv = chat.conversation(summary["id"])
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant"]
    answer = conv["messages"][1]
    assert answer["content"] == full
    assert answer["finish_reason"] == "length" and answer["completion_tokens"] == 60
    assert answer["prompt_tokens"] > 0 and answer["tokens_per_second"] > 0
    stats = chat.find(".message.assistant .stats").text
    assert re.search(r"[\d.]+ tokens/s · 60 tokens · %d prompt tokens" % answer["prompt_tokens"], stats), stats
    assert chat.find(".message.user .content").text == prompt


def test_enter_sends_and_shift_enter_adds_a_line(chat):
    from selenium.webdriver.common.keys import Keys
    chat.open(settings={"temperature": 0, "maxTokens": 5, "model": "", "system": ""})
    box = chat.find("#input")
    box.send_keys("line one")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys("line two")
    assert box.get_attribute("value") == "line one\nline two"
    assert not chat.find_all("#messages .message"), "Shift+Enter sent the message"
    before = chat.answers()
    box.send_keys(Keys.ENTER)
    chat.wait_answer(before)
    conv = chat.conversation(chat.current_id())
    assert conv["messages"][0]["content"] == "line one\nline two"
    assert chat.find(".message.user .content").text == "line one\nline two"
    assert box.get_attribute("value") == ""


def test_stop_mid_stream_keeps_what_came(chat):
    prompt, full = long_greedy_prompt(chat.server, 150)
    chat.open(settings={"temperature": 0, "maxTokens": 150, "model": "", "system": ""})
    chat.throttle(1500)
    before = chat.answers()
    chat.type(prompt)
    wait_for(lambda: chat.find(".message.assistant.pending .content").text.strip(), what="streamed text")
    chat.find("#stop").click()
    chat.wait_answer(before)
    chat.unthrottle()
    assert chat.find("#send").is_displayed() and not chat.find("#stop").is_displayed()
    conv = chat.conversation(chat.current_id())
    answer = conv["messages"][-1]
    assert answer["finish_reason"] == "stopped"
    assert answer["content"] and full.startswith(answer["content"]) and len(answer["content"]) < len(full)
    assert "Stopped" in chat.find(".message.assistant .stats").text


def test_regenerate_replaces_the_answer(chat):
    chat.open(settings={"temperature": 1.0, "maxTokens": 12, "model": "", "system": ""})
    chat.ask("Hello")
    before = chat.conversation(chat.current_id())["messages"]
    assert [m["role"] for m in before] == ["user", "assistant"]
    count = chat.answers()
    chat.find(".message.assistant .regenerate").click()
    chat.wait_answer(count)
    after = chat.conversation(chat.current_id())["messages"]
    assert [m["role"] for m in after] == ["user", "assistant"]
    assert after[0] == before[0]
    assert after[1]["id"] != before[1]["id"]
    assert len(chat.find_all("#messages .message.assistant")) == 1


def test_edit_and_resend(chat):
    chat.open(settings={"temperature": 0, "maxTokens": 8, "model": "", "system": ""})
    chat.ask("First question")
    chat.ask("Second question")
    before = chat.conversation(chat.current_id())["messages"]
    assert [m["content"] for m in before if m["role"] == "user"] == ["First question", "Second question"]
    # Edit the first question: everything after it is replaced by one new answer.
    chat.find_all(".message.user .edit")[0].click()
    area = chat.find(".message.user .edit-input")
    area.clear()
    area.send_keys("Edited question")
    count = chat.answers()
    chat.find(".message.user .save-edit").click()
    chat.wait_answer(count)
    after = chat.conversation(chat.current_id())["messages"]
    assert after[0]["id"] == before[0]["id"] and after[0]["content"] == "Edited question"
    assert [role for role, _ in chat.messages()] == ["user", "assistant"]
    assert chat.messages()[0][1] == "Edited question"


def test_conversations_switch_rename_delete_search_and_reload(chat, tmp_path):
    chat.open(settings={"temperature": 0, "maxTokens": 6, "model": "", "system": ""})
    chat.ask("Tell me about apples")
    first = chat.current_id()
    first_answer = chat.messages()[1][1]

    chat.find("#new-chat").click()
    assert chat.find("#welcome").is_displayed() and not chat.find_all("#messages .message")
    chat.ask("Tell me about pears")
    second = chat.current_id()
    assert second != first
    # Newest first in the sidebar.
    wait_for(lambda: [i.get_attribute("data-id") for i in chat.find_all(".conversation-item")] == [second, first],
             what="both conversations in the sidebar")

    # Switch back: the first conversation's messages come back.
    chat.find(f'.conversation-item[data-id="{first}"] .conversation-title').click()
    wait_for(lambda: chat.current_id() == first and chat.messages() and chat.messages()[0][1] == "Tell me about apples",
             what="the first conversation")
    assert chat.messages()[1][1] == first_answer
    assert "active" in chat.find(f'.conversation-item[data-id="{first}"]').get_attribute("class")

    # Rename (Enter saves).
    from selenium.webdriver.common.keys import Keys
    item = chat.find(f'.conversation-item[data-id="{first}"]')
    chat.driver.execute_script("arguments[0].querySelector('.rename').click()", item)
    box = chat.find(".rename-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Fruit: apples")
    box.send_keys(Keys.ENTER)
    wait_for(lambda: chat.find(f'.conversation-item[data-id="{first}"] .conversation-title').text == "Fruit: apples",
             what="the new title in the sidebar")
    assert chat.conversation(first)["title"] == "Fruit: apples"
    assert chat.find("#chat-title").text == "Fruit: apples"

    # Search by title and by content.
    search = chat.find("#search")
    search.send_keys("pears")
    wait_for(lambda: [i.get_attribute("data-id") for i in chat.find_all(".conversation-item")] == [second], what="search results")
    search.clear()
    search.send_keys("nothing-matches-this")
    wait_for(lambda: chat.find_all(".empty-list") and not chat.find_all(".conversation-item"), what="an empty search")
    chat.js("const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input'))")
    wait_for(lambda: len(chat.find_all(".conversation-item")) == 2, what="the full list again")

    # Reload: the conversations and the open one are still there.
    chat.driver.refresh()
    chat.wait_ready()
    wait_for(lambda: chat.messages() and chat.messages()[0][1] == "Tell me about apples", what="the open conversation after reload")
    assert [i.get_attribute("data-id") for i in chat.find_all(".conversation-item")] == [second, first]

    # Delete asks first: Cancel keeps it, Delete removes it.
    def ask_delete(cid):
        chat.driver.execute_script("arguments[0].querySelector('.delete').click()", chat.find(f'.conversation-item[data-id="{cid}"]'))
        wait_for(lambda: chat.find("#confirm-dialog").is_displayed(), what="the confirmation")
        assert "Fruit: apples" in chat.find("#confirm-text").text
    ask_delete(first)
    chat.find("#confirm-cancel").click()
    wait_for(lambda: not chat.find("#confirm-dialog").is_displayed(), what="the dialog to close")
    assert chat.api("GET", f"/api/conversations/{first}").status_code == 200
    ask_delete(first)
    chat.find("#confirm-ok").click()
    wait_for(lambda: [i.get_attribute("data-id") for i in chat.find_all(".conversation-item")] == [second], what="the deletion")
    assert chat.api("GET", f"/api/conversations/{first}").status_code == 404
    # The deleted conversation was open: the page is back to a new chat.
    assert chat.current_id() == "" and chat.find("#welcome").is_displayed()


MARKDOWN = """# Title

Some **bold**, *italic*, ~~gone~~ and `inline code`, a [link](https://example.com/a?b=1) and a [bad one](javascript:alert(1)).

- one
- two
  1. nested
  2. list

| Name | Value |
|:-----|------:|
| a    | 1     |

```python
def add(a, b):
    return a + b  # <b>not bold</b>
```

> quoted <script>window.pwned = 1</script>

<img src=x onerror="window.pwned = 2"> plain <b>tags</b>
"""


def test_markdown_renderer_builds_safe_dom(chat):
    chat.open()
    result = chat.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/assets/markdown.js').then(({ renderMarkdown }) => {
          const box = document.createElement('div');
          box.append(renderMarkdown(arguments[0]));
          done({
            h1: [...box.querySelectorAll('h1')].map(e => e.textContent),
            strong: [...box.querySelectorAll('strong')].map(e => e.textContent),
            em: [...box.querySelectorAll('em')].map(e => e.textContent),
            del: [...box.querySelectorAll('del')].map(e => e.textContent),
            inlineCode: [...box.querySelectorAll('p code')].map(e => e.textContent),
            links: [...box.querySelectorAll('a')].map(e => [e.textContent, e.getAttribute('href'), e.rel]),
            ulItems: box.querySelectorAll('ul > li').length,
            olItems: [...box.querySelectorAll('ul > li ol > li')].map(e => e.textContent),
            th: [...box.querySelectorAll('th')].map(e => [e.textContent, e.className]),
            td: [...box.querySelectorAll('td')].map(e => [e.textContent, e.className]),
            codeBlocks: [...box.querySelectorAll('.code-block')].map(e => [
              e.querySelector('.code-lang').textContent, e.querySelector('pre code').className,
              e.querySelector('pre code').textContent, !!e.querySelector('button.copy-code')]),
            quote: box.querySelector('blockquote')?.textContent,
            dangerous: box.querySelectorAll('script, img, b, iframe, [onerror]').length,
            text: box.textContent,
          });
        });
    """, MARKDOWN)
    assert result["h1"] == ["Title"]
    assert result["strong"] == ["bold"] and result["em"] == ["italic"] and result["del"] == ["gone"]
    assert result["inlineCode"] == ["inline code"]
    assert result["links"] == [["link", "https://example.com/a?b=1", "noopener noreferrer nofollow"]]
    assert "bad one" in result["text"]  # shown, but not as a javascript: link
    assert result["ulItems"] == 2 and result["olItems"] == ["nested", "list"]
    assert result["th"] == [["Name", "align-left"], ["Value", "align-right"]]
    assert result["td"] == [["a", "align-left"], ["1", "align-right"]]
    assert result["codeBlocks"] == [["python", "language-python",
                                     "def add(a, b):\n    return a + b  # <b>not bold</b>", True]]
    assert result["quote"].strip() == "quoted <script>window.pwned = 1</script>"
    assert result["dangerous"] == 0
    assert '<img src=x onerror="window.pwned = 2"> plain <b>tags</b>' in result["text"]


def test_markdown_renderer_on_random_text_makes_only_safe_elements(chat):
    """500 random strings of Markdown and HTML characters: no exception, only the elements the
    renderer is meant to make, and only http(s), mailto or same-site links."""
    import random
    rng = random.Random(7)
    pieces = ["*", "**", "_", "`", "```", "~~", "[", "]", "(", ")", "![", "<", ">", "<script>", "<img src=x onerror=alert(1)>",
              "javascript:", "http://a.b/c", "https://x.y", "mailto:m@n", "#", "- ", "1. ", "|", "|-|", "\n", "\n\n", " ", "a", "é", "\\", '"',
              "](", "[x](javascript:alert(1))", "[y](//evil.example)", "[z](data:text/html,x)", "[ok](/path)", "<javascript:alert(1)>"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 60))) for _ in range(500)]
    chat.open()
    result = chat.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const allowed = new Set(['P','BR','STRONG','EM','DEL','CODE','A','H1','H2','H3','H4','H5','H6','UL','OL','LI',
                                 'BLOCKQUOTE','HR','DIV','TABLE','THEAD','TBODY','TR','TH','TD','PRE','SPAN','BUTTON']);
        import('/assets/markdown.js').then(({ renderMarkdown }) => {
          const problems = [];
          for (const text of arguments[0]) {
            try {
              const box = document.createElement('div');
              box.append(renderMarkdown(text));
              for (const e of box.querySelectorAll('*')) {
                if (!allowed.has(e.tagName)) problems.push([text, 'element ' + e.tagName]);
                for (const attr of e.getAttributeNames()) {
                  if (!['class', 'href', 'target', 'rel', 'type', 'start'].includes(attr)) problems.push([text, 'attribute ' + attr]);
                }
                const href = e.getAttribute('href');
                if (href !== null && !/^(https?:\\/\\/|mailto:|\\/(?!\\/)|#)/i.test(href)) problems.push([text, 'href ' + href]);
              }
            } catch (err) {
              problems.push([text, 'threw ' + err.message]);
            }
          }
          done(problems.slice(0, 5));
        });
    """, texts)
    assert result == []


def test_model_output_with_html_reasoning_and_code_is_shown_as_text(chat):
    """A stored answer with HTML, a fenced block and reasoning, opened in the page."""
    r = chat.api("POST", "/api/conversations", {"title": "Stored", "messages": [
        {"role": "user", "content": "<i>hi</i>"},
        {"role": "assistant", "content": "Here:\n\n```js\nalert('<b>x</b>')\n```\n\n<img src=x onerror=\"window.pwned=1\"><b>bold?</b>",
         "reasoning_content": "Let me think <script>window.pwned=2</script>", "thinking_ms": 2500,
         "completion_tokens": 40, "prompt_tokens": 12, "tokens_per_second": 33.3, "finish_reason": "stop"}]})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    chat.open(f"/#{cid}")
    wait_for(lambda: len(chat.messages()) == 2, what="the stored conversation")
    content = chat.find(".message.assistant .content")
    assert chat.find(".message.assistant .code-block pre code").text == "alert('<b>x</b>')"
    assert '<img src=x onerror="window.pwned=1"><b>bold?</b>' in content.text
    assert chat.js("return document.querySelectorAll('#messages img:not(.avatar), #messages b, #messages script').length") == 0
    assert chat.js("return window.pwned === undefined")
    assert chat.find(".message.user .content").text == "<i>hi</i>"
    thinking = chat.find(".message.assistant details.thinking")
    assert thinking.get_attribute("open") is None  # stored reasoning starts collapsed
    assert chat.find(".thinking-summary").text == "Thought for 2.5 s"
    chat.find(".thinking-summary").click()
    wait_for(lambda: chat.find(".thinking-body").is_displayed(), what="the thinking to open")
    assert chat.find(".thinking-body").text == "Let me think <script>window.pwned=2</script>"
    assert "33.3 tokens/s · 40 tokens · 12 prompt tokens" in chat.find(".stats").text
    # The code block's copy button copies the code exactly (the clipboard is stubbed here).
    chat.js("window.__copied = null; navigator.clipboard.writeText = async (text) => { window.__copied = text; };")
    button = chat.find(".message.assistant .code-block .copy-code")
    button.click()
    wait_for(lambda: chat.js("return window.__copied") == "alert('<b>x</b>')", what="the copied code")
    wait_for(lambda: button.text == "Copied", what="the button to say Copied")


FAKE_STREAM = """
    // Replaces fetch for /v1/chat/completions with a scripted stream: reasoning, then content.
    const real = window.fetch;
    window.__realFetch = real;
    window.fetch = (url, init) => {
      if (!String(url).includes('/v1/chat/completions')) return real(url, init);
      const chunks = arguments[0];
      const encoder = new TextEncoder();
      let i = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (i >= chunks.length) { controller.close(); return; }
          return new Promise((resolve) => setTimeout(() => {
            controller.enqueue(encoder.encode('data: ' + chunks[i++] + '\\n\\n'));
            resolve();
          }, 60));
        },
      });
      return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }));
    };
"""


def test_thinking_block_fills_live_from_reasoning_content(chat):
    import json
    chunks = [json.dumps(c) for c in [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        *[{"choices": [{"index": 0, "delta": {"reasoning_content": w}, "finish_reason": None}]} for w in ["The user ", "greets ", "me."] * 3],
        *[{"choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in ["**Hello** ", "there", "!"]],
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 12, "total_tokens": 19}},
    ]] + ["[DONE]"]
    chat.open()
    chat.js(FAKE_STREAM, chunks)
    before = chat.answers()
    chat.type("Hi")
    wait_for(lambda: chat.find_all(".message.pending details.thinking"), what="the thinking block")
    assert chat.find(".message.pending .thinking-summary").text == "Thinking…"
    wait_for(lambda: "greets" in chat.find(".message.pending .thinking-body").text, what="reasoning text")
    chat.wait_answer(before)
    answer = chat.conversation(chat.current_id())["messages"][-1]
    assert answer["reasoning_content"] == "The user greets me." * 3
    assert answer["content"] == "**Hello** there!"
    assert answer["completion_tokens"] == 12 and answer["prompt_tokens"] == 7
    assert answer["thinking_ms"] > 0
    assert re.fullmatch(r"Thought for \d+\.\d s", chat.find(".message.assistant .thinking-summary").text)
    assert chat.find(".message.assistant .content strong").text == "Hello"


def test_an_error_inside_the_stream_is_shown_with_retry(chat):
    import json
    chunks = [json.dumps({"choices": [{"index": 0, "delta": {"content": "Half an ans"}, "finish_reason": None}]}),
              json.dumps({"error": {"message": "the model ran out of memory", "type": "server_error"}}), "[DONE]"]
    chat.open(settings={"temperature": 0, "maxTokens": 8, "model": "", "system": ""})
    chat.js(FAKE_STREAM, chunks)
    before = chat.answers()
    chat.type("Hi")
    chat.wait_answer(before)
    box = chat.find(".message.failed .error-box.error-stream")
    assert "the model ran out of memory" in box.text
    assert "Half an ans" in chat.find(".message.failed .content").text
    # Nothing half-done was stored; Retry (with the real server) replaces the failed answer.
    assert [m["role"] for m in chat.conversation(chat.current_id())["messages"]] == ["user"]
    chat.js("window.fetch = window.__realFetch")
    count = chat.answers()
    box.find_element("css selector", ".retry").click()
    chat.wait_answer(count)
    assert not chat.find_all(".message.failed")
    assert [m["role"] for m in chat.conversation(chat.current_id())["messages"]] == ["user", "assistant"]


def test_errors_show_with_retry(chat):
    import json
    chat.open(settings={"temperature": 0, "maxTokens": 8, "model": "", "system": ""})
    # Context too long: the tiny model has 256 positions.
    chat.type("word " * 400)
    box = wait_for(lambda: chat.find_all(".error-box.error-context"), what="the context error")[0]
    assert "too long" in box.text and box.find_element("css selector", ".retry")
    # 429 from a busy server, then Retry once it has room.
    chat.find("#new-chat").click()
    chat.js("""
        window.__realFetch = window.fetch;
        window.fetch = (url, init) => String(url).includes('/v1/chat/completions')
          ? Promise.resolve(new Response(arguments[0], { status: 429, headers: { 'Content-Type': 'application/json' } }))
          : window.__realFetch(url, init);
    """, json.dumps({"error": {"message": "the server is busy", "type": "rate_limit_error", "code": "queue_full"}}))
    chat.type("Hello")
    busy = wait_for(lambda: chat.find_all(".error-box.error-busy"), what="the busy error")[0]
    assert "busy" in busy.text
    chat.js("window.fetch = window.__realFetch")
    count = chat.answers()
    busy.find_element("css selector", ".retry").click()
    chat.wait_answer(count)
    wait_for(lambda: not chat.find_all(".error-box"), what="the error to go")
    assert [m["role"] for m in chat.conversation(chat.current_id())["messages"]] == ["user", "assistant"]

    # The server stops: sending shows that it cannot be reached.
    chat.server.stop(signal.SIGKILL)
    chat.type("Are you there?")
    wait_for(lambda: chat.find("#banner").is_displayed(), what="the error banner")
    assert "Cannot reach the server" in chat.find("#banner-text").text
    assert chat.find("#banner-retry").is_displayed()
    # What was typed is kept for the retry.
    assert chat.find("#input").get_attribute("value") == "Are you there?"


def test_api_key_is_asked_once_and_remembered(start_server, driver, tmp_path):
    server = start_server("--model", TINY, "--db", str(tmp_path / "chats.sqlite"), "--api-key", "s3cret")
    page = Page(driver, server)  # no key in storage
    page.driver.get(server.url + "/assets/icon.svg")
    page.js("localStorage.clear()")
    page.driver.get(server.url + "/")
    wait_for(lambda: page.find("#key-dialog").is_displayed(), what="the key prompt")
    page.find("#key-input").send_keys("wrong")
    page.find("#key-save").click()
    wait_for(lambda: page.find("#key-dialog").is_displayed() and page.find("#key-error").is_displayed(), what="the wrong-key message")
    page.find("#key-input").send_keys("s3cret")
    page.find("#key-save").click()
    page.wait_ready()
    assert not page.find("#key-dialog").is_displayed()
    assert page.js("return localStorage.getItem('swiftseek.apiKey')") == "s3cret"
    page.ask("Hello")
    page.key = "s3cret"
    assert len(page.conversations()) == 1
    assert requests.get(server.url + "/api/conversations").status_code == 401
    page.driver.refresh()
    page.wait_ready()
    assert not page.find("#key-dialog").is_displayed()
    assert len(page.find_all(".conversation-item")) == 1


def test_settings_are_used_and_remembered(chat):
    chat.open()
    chat.find("#open-settings").click()
    wait_for(lambda: chat.find("#settings-dialog").is_displayed(), what="the settings")
    options = [o.get_attribute("value") for o in chat.find_all("#set-model option")]
    assert options == ["", "hf-tiny-llama"]
    temperature = chat.find("#set-temperature")
    temperature.clear()
    temperature.send_keys("5")
    chat.find("#settings-save").click()
    assert "between 0 and 2" in chat.find("#settings-error").text  # refused, dialog stays
    temperature.clear()
    temperature.send_keys("0")
    chat.find("#set-max-tokens").send_keys("7")
    chat.find("#set-system").send_keys("Be brief.")
    from selenium.webdriver.support.ui import Select
    Select(chat.find("#set-model")).select_by_value("hf-tiny-llama")
    chat.find("#settings-save").click()
    wait_for(lambda: not chat.find("#settings-dialog").is_displayed(), what="the settings to close")
    chat.driver.refresh()
    chat.wait_ready()
    assert chat.js("return JSON.parse(localStorage.getItem('swiftseek.settings'))") == {
        "model": "hf-tiny-llama", "system": "Be brief.", "temperature": 0, "maxTokens": 7}
    chat.ask("Hello")
    answer = chat.conversation(chat.current_id())["messages"][-1]
    assert answer["completion_tokens"] <= 7 and answer["model"] == "hf-tiny-llama"


def test_chinese_interface_follows_the_browser_language(start_server, tmp_path):
    require_browser()
    server = start_server("--model", TINY, "--db", str(tmp_path / "chats.sqlite"))
    d = make_driver(accept_language="zh-CN")
    try:
        page = Page(d, server)
        page.open()
        assert page.js("return navigator.language") == "zh-CN"
        assert page.find("#new-chat").text == "开启新对话"
        assert page.find("#input").get_attribute("placeholder") == "给 SwiftSeek 发送消息"
        assert page.js("return document.documentElement.lang") == "zh-CN"
        page.ask("你好")
        assert "tokens/秒" in page.find(".message.assistant .stats").text
        # ?lang= overrides the browser's choice.
        page.open("/?lang=en")
        assert page.find("#new-chat").text == "New chat"
    finally:
        d.quit()


def test_screenshots_desktop_dark_and_narrow(chat, tmp_path):
    r = chat.api("POST", "/api/conversations", {"title": "Markdown sample", "messages": [
        {"role": "user", "content": "Show me a function and a table."},
        {"role": "assistant", "content": MARKDOWN.split("> quoted")[0], "reasoning_content": "A short plan.",
         "thinking_ms": 1800, "completion_tokens": 90, "prompt_tokens": 20, "tokens_per_second": 41.7, "finish_reason": "stop"}]})
    cid = r.json()["id"]
    chat.api("POST", "/api/conversations", {"title": "Another chat"})
    chat.console_errors()  # drop what earlier tests in this browser logged
    chat.open(f"/#{cid}")
    wait_for(lambda: len(chat.messages()) == 2, what="the sample conversation")
    shots = chat.screenshot(tmp_path, "desktop-light")
    chat.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    assert chat.js("return matchMedia('(prefers-color-scheme: dark)').matches")
    bg = chat.js("return getComputedStyle(document.body).backgroundColor")
    assert bg != "rgb(255, 255, 255)", bg
    shots += chat.screenshot(tmp_path, "desktop-dark")
    chat.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    chat.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        chat.driver.refresh()
        chat.wait_ready()
        wait_for(lambda: len(chat.messages()) == 2, what="the conversation on a phone")
        assert not chat.find("#sidebar").is_displayed() or chat.js(
            "return document.getElementById('sidebar').getBoundingClientRect().right <= 0")
        shots += chat.screenshot(tmp_path, "narrow")
        chat.find("#open-sidebar").click()
        wait_for(lambda: chat.js("return document.getElementById('sidebar').getBoundingClientRect().left >= 0"), what="the sidebar")
        shots += chat.screenshot(tmp_path, "narrow-sidebar")
    finally:
        chat.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print("screenshots:", *shots, sep="\n  ")
    assert not chat.console_errors(), chat.console_errors()


@pytest.mark.skipif(not SMOLLM.exists(), reason=f"{SMOLLM} not pulled (swiftseek pull smollm2-135m-instruct)")
def test_real_model_answer_with_a_code_block(start_server, driver, tmp_path):
    server = start_server("--model", str(SMOLLM), "--db", str(tmp_path / "chats.sqlite"))
    page = Page(driver, server)
    page.open(settings={"temperature": 0, "maxTokens": 200, "model": "", "system": ""})
    page.ask("Write a Python function that adds two numbers. Answer with a code block.", timeout=300)
    answer = page.conversation(page.current_id())["messages"][-1]["content"]
    fences = re.findall(r"```[^\n]*\n(.*?)\n```", answer, re.S)
    assert fences, f"SmolLM2 answered without a fenced code block: {answer!r}"
    shown = [c.text for c in page.find_all(".message.assistant .code-block pre code")]
    assert shown[: len(fences)] == fences
    assert "def " in fences[0]
    page.screenshot(tmp_path, "smollm2-code-block")
