#!/usr/bin/env bash
# Engine speed: `keepsake thumbs` vs ffmpegthumbnailer (-t 10%) and a keyframe-only ffmpeg
# decode, on the 10-minute Big Buck Bunny at 720p and 1080p and on a 2-hour file; medians of
# BENCH_RUNS (default 5) interleaved runs; writes docs/bench.md.
# Usage: tests/bench/engine.sh RELEASE_DIR   (the directory holding the release `keepsake`)
set -euo pipefail
release="${1:?usage: tests/bench/engine.sh RELEASE_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -x "$release/keepsake" ]] || { echo "engine.sh: $release/keepsake not found (cargo build --release -p keepsake-cli)" >&2; exit 2; }
"$root/tests/bench/prepare_inputs.sh"
exec python3 "$root/tests/bench/engine_bench.py" --keepsake "$release/keepsake" --runs "${BENCH_RUNS:-5}"
