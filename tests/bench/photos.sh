#!/usr/bin/env bash
# Photo grid copies: `keepsake thumbnail` (the app's photo path) vs vipsthumbnail
# (libvips, shrink-on-load) on a 12-MP and a 48-MP camera-like JPEG, 512-px copies,
# medians of BENCH_RUNS (default 5) interleaved runs; writes docs/bench-photos.md.
# Usage: tests/bench/photos.sh RELEASE_DIR
set -euo pipefail
release="${1:?usage: tests/bench/photos.sh RELEASE_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -x "$release/keepsake" ]] || { echo "photos.sh: $release/keepsake not found" >&2; exit 2; }
command -v vipsthumbnail >/dev/null || { echo "photos.sh: vipsthumbnail missing (scripts/setup.sh bench installs libvips-tools)" >&2; exit 2; }
exec python3 "$root/tests/bench/photos_bench.py" --keepsake "$release/keepsake" --runs "${BENCH_RUNS:-5}"
