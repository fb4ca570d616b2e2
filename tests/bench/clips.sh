#!/usr/bin/env bash
# Short phone clips: `keepsake thumbs` vs ffmpegthumbnailer on 10/30/60-second 1080p H.264
# and 4K HEVC clips (and 4K HLG), with peak memory; medians of BENCH_RUNS (default 5)
# interleaved runs; writes docs/bench-clips.md.
# Usage: tests/bench/clips.sh RELEASE_DIR   (the directory holding the release `keepsake`)
set -euo pipefail
release="${1:?usage: tests/bench/clips.sh RELEASE_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -x "$release/keepsake" ]] || { echo "clips.sh: $release/keepsake not found (cargo build --release -p keepsake-cli)" >&2; exit 2; }
"$root/tests/bench/prepare_clips.sh"
exec python3 "$root/tests/bench/clips_bench.py" --keepsake "$release/keepsake" --runs "${BENCH_RUNS:-5}"
