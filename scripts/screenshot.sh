#!/usr/bin/env bash
# Start the real app under Xvfb, wait for it to draw, and save a PNG of its window.
# Usage: scripts/screenshot.sh APP OUT.png [SECONDS]
set -euo pipefail
app="$1"; out="$2"; wait_s="${3:-6}"
mkdir -p "$(dirname "$out")"
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" & pid=$!
  sleep "$3"
  import -window root "$2"
  kill $pid; wait $pid 2>/dev/null || true
' _ "$app" "$out" "$wait_s"
echo "screenshot: $out"
