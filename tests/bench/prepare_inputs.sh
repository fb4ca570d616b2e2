#!/usr/bin/env bash
# Makes the benchmark's derived inputs once and caches them under .cache/media/:
#   bbb_1080p.mp4  the 10-minute 720p Big Buck Bunny upscaled to 1920x1080 (x264 veryfast)
#   bbb_2h.mp4     the 10-minute 720p file concatenated 12 times (concat demuxer, -c copy)
# Why cached: the upscale takes minutes on a small machine; the benchmark must time the
# engine, not the preparation. Each file is written to a .part name and renamed when
# complete, so an interrupted run never leaves a half-written input behind.
#
# Keyframes: the original (x264, 24 fps) has a keyframe every 3.2 s on average and at most
# every 5.5 s (scene-cut keyframes in between). The upscale uses -g 132 (5.5 s at 24 fps)
# with x264's default scene-cut detection, so its keyframe spacing is comparable and a
# keyframe-sampling engine sees about as many keyframes as in the original.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
media="$root/.cache/media"
src="$media/bbb_720p.mp4"
[[ -f "$src" ]] || { echo "prepare_inputs: $src is missing (run scripts/setup.sh bench)" >&2; exit 1; }

if [[ ! -f "$media/bbb_1080p.mp4" ]]; then
  echo "prepare_inputs: upscaling to 1080p once (several minutes; cached in .cache/media/)" >&2
  ffmpeg -v error -nostdin -y -i "$src" -map 0:v:0 -map '0:a?' \
    -vf "scale=1920:1080:flags=bicubic" -c:v libx264 -preset veryfast -crf 20 -g 132 \
    -pix_fmt yuv420p -c:a copy -movflags +faststart -f mp4 "$media/bbb_1080p.mp4.part"
  mv "$media/bbb_1080p.mp4.part" "$media/bbb_1080p.mp4"
fi

if [[ ! -f "$media/bbb_2h.mp4" ]]; then
  echo "prepare_inputs: concatenating 12 copies into a 2-hour file (cached)" >&2
  list="$media/bbb_2h.list.txt"
  : > "$list"
  for _ in $(seq 12); do printf "file '%s'\n" "$src" >> "$list"; done
  ffmpeg -v error -nostdin -y -f concat -safe 0 -i "$list" -c copy -f mp4 "$media/bbb_2h.mp4.part"
  mv "$media/bbb_2h.mp4.part" "$media/bbb_2h.mp4"
  rm -f "$list"
fi
