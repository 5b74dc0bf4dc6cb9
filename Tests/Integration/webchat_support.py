"""Helpers for the web chat tests: headless Chromium through selenium, and a Page object that
drives the chat page the way a person does (typing, clicking) and reads back what it shows.

Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`, installed by
.ci/run). Without them the browser tests are skipped, except under CI=true, where they fail.
"""
import json
import os
import pathlib
import shutil
import time

import pytest
import requests

from conftest import FIXTURES, ROOT

TINY = str(FIXTURES / "tiny" / "hf-tiny-llama")
HOME = pathlib.Path(os.environ.get("SWIFTSEEK_HOME", pathlib.Path.home() / ".cache" / "swiftseek"))
SMOLLM = HOME / "models" / "smollm2-135m-instruct.gguf"
SCREENSHOTS = ROOT / "out" / "webchat"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def require_browser():
    if CHROMIUM and CHROMEDRIVER:
        return
    message = "headless Chromium is missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def make_driver(width=1280, height=900, accept_language="en-US"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", f"--lang={accept_language}"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def wait_for(condition, timeout=60.0, what="condition"):
    """Polls `condition` until it returns something truthy; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # the page may be mid-render: try again
            last_error = e
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Page:
    def __init__(self, driver, server, key=None):
        self.driver = driver
        self.server = server
        self.key = key

    # ---- the server's API, for checking what the page stored ----
    def api(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        r = requests.request(method, self.server.url + path, headers=headers,
                             data=None if body is None else json.dumps(body), timeout=60)
        return r

    def conversations(self):
        r = self.api("GET", "/api/conversations")
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def conversation(self, cid):
        r = self.api("GET", f"/api/conversations/{cid}")
        assert r.status_code == 200, r.text
        return r.json()

    # ---- the page ----
    def open(self, path="/", settings=None):
        """Loads the page (settings go to localStorage first) and waits until it is ready."""
        self.driver.get(self.server.url + "/assets/icon.svg")  # same origin, to set storage
        self.driver.execute_script("localStorage.clear()")
        if settings is not None:
            self.driver.execute_script("localStorage.setItem('swiftseek.settings', arguments[0])", json.dumps(settings))
        if self.key:
            self.driver.execute_script("localStorage.setItem('swiftseek.apiKey', arguments[0])", self.key)
        self.driver.get(self.server.url + path)
        self.wait_ready()

    def wait_ready(self):
        wait_for(lambda: self.js("return document.body.dataset.ready === 'true'"), what="the page to load")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, text, enter=True):
        from selenium.webdriver.common.keys import Keys
        box = self.find("#input")
        box.send_keys(text)
        if enter:
            box.send_keys(Keys.ENTER)

    def answers(self):
        """How many answers the page has finished (saved, stopped or failed) since it loaded."""
        return int(self.js("return document.body.dataset.answers || '0'"))

    def wait_answer(self, before, timeout=120):
        """Waits until an answer started after `answers() == before` has ended."""
        wait_for(lambda: self.answers() > before, timeout, "the answer to end")
        wait_for(lambda: not self.streaming() and not self.find_all(".message.pending"), timeout, "the page to settle")

    def ask(self, text, timeout=120):
        """Types `text`, presses Enter and waits for the whole answer."""
        before = self.answers()
        self.type(text)
        self.wait_answer(before, timeout)

    def streaming(self):
        return self.js("return document.body.dataset.streaming === 'true'")

    def wait_idle(self, timeout=120):
        wait_for(lambda: not self.streaming() and not self.find_all(".message.pending"), timeout, "the answer to finish")

    def messages(self):
        """(role, text) of each message shown, in order."""
        return [(("user" if "user" in m.get_attribute("class") else "assistant"), m.find_element("css selector", ".content").text)
                for m in self.find_all("#messages .message")]

    def current_id(self):
        return self.js("return location.hash.slice(1)")

    def throttle(self, bytes_per_second):
        """Slows the page's downloads (server-sent events included) so a stream takes a while."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": bytes_per_second, "uploadThroughput": -1})

    def unthrottle(self):
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    def screenshot(self, tmp_path, name):
        """Saves a PNG under the test's tmp dir and under out/webchat/ (gitignored)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = [tmp_path / f"{name}.png", SCREENSHOTS / f"{name}.png"]
        for p in paths:
            assert self.driver.save_screenshot(str(p)), p
            assert p.stat().st_size > 1000
        return paths

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]


def long_greedy_prompt(server, max_tokens, candidates=("Hello", "Tell me a story", "a", "Why?", "Count", "x y z", "Write", "Go on")):
    """A prompt whose greedy (temperature 0) answer from the tiny model runs to `max_tokens`, so
    a streamed answer is long enough to stop midway. Returns (prompt, full answer text)."""
    for prompt in candidates:
        r = requests.post(server.url + "/v1/chat/completions", json={
            "messages": [{"role": "user", "content": prompt}], "temperature": 0, "max_tokens": max_tokens}, timeout=120)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["choices"][0]["finish_reason"] == "length":
            return prompt, body["choices"][0]["message"]["content"]
    pytest.fail("no candidate prompt gives the tiny model a long greedy answer")


@pytest.fixture(scope="module")
def driver():
    """One headless Chromium per test module (imported by the test files that use it)."""
    require_browser()
    d = make_driver()
    yield d
    d.quit()
