#!/usr/bin/env bash
# Launch the Keepsake app; with HEADLESS=1, inside a virtual X display (Xvfb).
set -euo pipefail
app="$1"
if [[ "${HEADLESS:-}" == 1 ]]; then
  echo "keepsake: running under Xvfb (HEADLESS=1); stop with Ctrl-C"
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$app"
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "keepsake: no display found (DISPLAY and WAYLAND_DISPLAY are unset)." >&2
  echo "keepsake: run it on a desktop session, or headless with: make run HEADLESS=1" >&2
  exit 1
fi
exec "$app"
