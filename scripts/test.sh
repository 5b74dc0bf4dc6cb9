#!/usr/bin/env bash
# The whole test suite, from a clean clone:
#   1. builds the release binary (the end-to-end tests drive it: real models in a debug
#      build would take minutes),
#   2. pulls the real models the tests use into the store ($SWIFTSEEK_HOME, default
#      ~/.cache/swiftseek; skipped when already there),
#   3. runs `swift test` (debug build) with those models required, so a missing model fails
#      instead of silently skipping,
#   4. runs the Python integration tests against the real server (scripts/integration-tests.sh:
#      the official `openai` client, headless Chromium for the web chat).
set -euo pipefail
cd "$(dirname "$0")/.."

# The web chat's browser tests drive headless Chromium (Debian's chromium and chromium-driver).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq chromium chromium-driver
    else
        echo "scripts/test.sh: the browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)" >&2
        exit 1
    fi
fi

swift build -c release --product swiftseek
for model in smollm2-135m-instruct qwen2.5-coder-0.5b-instruct gemma-3-270m deepseek-v3-tokenizer; do
    .build/release/swiftseek pull "$model"
done
SWIFTSEEK_REQUIRE_MODELS=1 SWIFTSEEK_BIN="$PWD/.build/release/swiftseek" swift test "$@"
scripts/integration-tests.sh
