#!/usr/bin/env bash
# Grid benchmark: a generated 100k-item library, then, against the real app under Xvfb:
# time from process start to the first painted grid, frames per second during a scripted
# scroll (requestAnimationFrame timing inside the web view), and the resident memory of
# the app plus its WebKit processes. Writes docs/bench-grid.md.
# Usage: tests/bench/grid.sh RELEASE_DIR   (holds keepsake-app)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:?usage: tests/bench/grid.sh RELEASE_DIR}"
export KEEPSAKE_APP="$bin/keepsake-app"
[[ -x "$KEEPSAKE_APP" ]] || { echo "bench/grid: no app at $KEEPSAKE_APP" >&2; exit 1; }
cd "$root"
exec xvfb-run -a -s "-screen 0 1280x800x24" node tests/bench/grid.mjs "${GRID_ITEMS:-100000}"
