#!/usr/bin/env bash
# Integration tests in Python against the real `swiftseek serve` binary: the official `openai`
# client for the API, and headless Chromium (selenium) for the web chat. Called by scripts/test.sh
# after `swift test`; needs the release binary (SWIFTSEEK_BIN, default .build/release/swiftseek).
#   scripts/integration-tests.sh [pytest args...]     e.g. -k stream -x
# The test tools live in a venv of their own under the model store (created once).
set -euo pipefail
cd "$(dirname "$0")/.."

home="${SWIFTSEEK_HOME:-$HOME/.cache/swiftseek}"
venv="$home/testenv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { python3 -m pip install --quiet virtualenv && python3 -m virtualenv "$venv"; }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r Tests/Integration/requirements.txt

export SWIFTSEEK_BIN="${SWIFTSEEK_BIN:-$PWD/.build/release/swiftseek}"
exec "$venv/bin/python" -m pytest -q Tests/Integration "$@"
