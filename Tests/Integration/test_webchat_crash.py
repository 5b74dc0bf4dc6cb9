"""kill -9 of the server while the web chat streams an answer loses nothing but that answer:
every earlier message was committed before the answer started."""
import signal
import sqlite3

import pytest
import requests

from webchat_support import TINY, Page, driver, wait_for  # noqa: F401 (driver is a fixture)


def test_kill_9_during_streaming_loses_no_earlier_message(start_server, driver, tmp_path):
    db = tmp_path / "chats.sqlite"
    server = start_server("--model", TINY, "--db", str(db))
    page = Page(driver, server)
    page.open(settings={"temperature": 0, "maxTokens": 30, "model": "", "system": ""})
    page.ask("First question")
    cid = page.current_id()
    first = page.conversation(cid)["messages"]
    assert [m["role"] for m in first] == ["user", "assistant"]

    # The second answer streams slowly; the server dies in the middle of it.
    page.throttle(300)
    try:
        page.type("Second question")
        wait_for(lambda: page.streaming() and page.find_all(".message.assistant.pending"), what="the second answer to start")
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        page.unthrottle()
    # The page says so, with a retry: either the stream broke off, or (when the whole answer was
    # already in the browser's buffers) saving it failed.
    error = wait_for(lambda: page.find_all(".message.failed .error-box"), what="the error under the answer")[0]
    assert "Cannot reach the server" in error.text, error.text
    assert error.find_element("css selector", ".retry").is_displayed()

    # Same database, new process.
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restarted = start_server("--model", TINY, "--db", str(db))
    r = requests.get(f"{restarted.url}/api/conversations/{cid}", timeout=30)
    assert r.status_code == 200, r.text
    messages = r.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[:2] == first
    assert messages[2]["content"] == "Second question"
    listed = requests.get(f"{restarted.url}/api/conversations", timeout=30).json()["data"]
    assert [c["id"] for c in listed] == [cid]
