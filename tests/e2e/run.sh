#!/usr/bin/env bash
# Runs the end-to-end suites (node:test) against the real keepsake-app, inside Xvfb
# (E2E_USE_DISPLAY=1 uses the current display instead). Usage: tests/e2e/run.sh [APP]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export KEEPSAKE_APP="${1:-${KEEPSAKE_APP:-$root/target/debug/keepsake-app}}"
[[ -x "$KEEPSAKE_APP" ]] || { echo "e2e: no app binary at $KEEPSAKE_APP (make build)" >&2; exit 1; }
export KEEPSAKE_BIN_DIR="$(dirname "$KEEPSAKE_APP")"
cd "$root"
[[ -d tests/e2e/node_modules/selenium-webdriver ]] \
  || { echo "e2e: the WebDriver client is not installed (scripts/setup.sh test, or npm ci in tests/e2e)" >&2; exit 1; }
cmd=(node --test --test-concurrency=1 --test-reporter=spec tests/e2e/*.test.mjs)
if [[ "${E2E_USE_DISPLAY:-0}" == 1 && -n "${DISPLAY:-}" ]]; then
  exec "${cmd[@]}"
fi
exec xvfb-run -a -s "-screen 0 1280x800x24" "${cmd[@]}"
