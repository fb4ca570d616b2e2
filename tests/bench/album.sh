#!/usr/bin/env bash
# Whole album: a generated album of ALBUM_CLIPS phone clips (default 200: 5-60 s, 70 %
# 1080p H.264, 30 % 4K HEVC, 1 s keyframes) and ALBUM_PHOTOS 12-MP JPEGs (default 2000,
# ALBUM_DISTINCT_PHOTOS distinct pictures hard-linked), made once under
# .cache/media/album/; times `keepsake add` + `keepsake analyze` + `keepsake thumbnails`
# against ffmpegthumbnailer + vipsthumbnail with the same parallelism (ALBUM_RUNS runs of
# each, default 1, interleaved); writes docs/bench-album.md and a block of docs/bench.md.
# The full size takes about 25 minutes on 2 cores (plus making the album once); for a
# quick look: ALBUM_CLIPS=20 ALBUM_PHOTOS=200 tests/bench/album.sh RELEASE_DIR
# Usage: tests/bench/album.sh RELEASE_DIR
set -euo pipefail
release="${1:?usage: tests/bench/album.sh RELEASE_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -x "$release/keepsake" ]] || { echo "album.sh: $release/keepsake not found (cargo build --release -p keepsake-cli)" >&2; exit 2; }
for tool in ffmpegthumbnailer vipsthumbnail; do
  command -v "$tool" >/dev/null || { echo "album.sh: $tool missing (scripts/setup.sh bench)" >&2; exit 2; }
done
"$root/tests/bench/prepare_clips.sh"
exec python3 "$root/tests/bench/album_bench.py" --keepsake "$release/keepsake"
