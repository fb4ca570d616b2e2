#!/usr/bin/env bash
# Makes the short-clip benchmark's inputs once and caches them under .cache/media/clips/:
# phone-like clips cut from the 10-minute Big Buck Bunny (scripts/setup.sh bench fetches
# it), with a keyframe every second (30 frames at 30 fps) and phone bitrates:
#   clip_1080p_{10,30,60}s.mp4   H.264 High, 1920x1080, 16 Mbit/s (a phone's 1080p30)
#   clip_4k_{10,30,60}s.mov      HEVC, 3840x2160, 40 Mbit/s, hvc1 in QuickTime (a phone's 4K30)
#   clip_4k_hlg_30s.mov          the 30-second 4K clip as phones record HDR: HEVC Main10,
#                                BT.2020, HLG, converted with zscale (SDR white at 203 cd/m²)
# The 30- and 10-second clips are the 60-second ones cut at a keyframe (-c copy), so all
# three lengths share their pictures and encoder settings. Encoding 4K HEVC on 2 cores
# takes several minutes, once. Each file is written as .part and renamed when complete.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
media="$root/.cache/media"
out="$media/clips"
src="$media/bbb_720p.mp4"
[[ -f "$src" ]] || { echo "prepare_clips: $src is missing (run scripts/setup.sh bench)" >&2; exit 1; }
mkdir -p "$out"
ff() { ffmpeg -v error -nostdin -y "$@"; }

if [[ ! -f "$out/clip_1080p_60s.mp4" ]]; then
  echo "prepare_clips: 60 s of 1080p H.264 (once)" >&2
  ff -ss 60 -t 60 -i "$src" -an -vf "scale=1920:1080:flags=bicubic,fps=30" -c:v libx264 -preset veryfast \
    -b:v 16M -maxrate 20M -bufsize 32M -g 30 -keyint_min 30 -sc_threshold 0 -pix_fmt yuv420p -f mp4 "$out/clip_1080p_60s.mp4.part"
  mv "$out/clip_1080p_60s.mp4.part" "$out/clip_1080p_60s.mp4"
fi
if [[ ! -f "$out/clip_4k_60s.mov" ]]; then
  echo "prepare_clips: 60 s of 4K HEVC (once; several minutes)" >&2
  ff -ss 60 -t 60 -i "$src" -an -vf "scale=3840:2160:flags=bicubic,fps=30" -c:v libx265 -preset ultrafast \
    -x265-params "log-level=error:keyint=30:min-keyint=30:scenecut=0:bitrate=40000:vbv-maxrate=50000:vbv-bufsize=80000" \
    -tag:v hvc1 -pix_fmt yuv420p -f mov "$out/clip_4k_60s.mov.part"
  mv "$out/clip_4k_60s.mov.part" "$out/clip_4k_60s.mov"
fi
for len in 10 30; do
  [[ -f "$out/clip_1080p_${len}s.mp4" ]] || { ff -i "$out/clip_1080p_60s.mp4" -t "$len" -c copy -f mp4 "$out/clip_1080p_${len}s.mp4.part"; mv "$out/clip_1080p_${len}s.mp4.part" "$out/clip_1080p_${len}s.mp4"; }
  [[ -f "$out/clip_4k_${len}s.mov" ]] || { ff -i "$out/clip_4k_60s.mov" -t "$len" -c copy -f mov "$out/clip_4k_${len}s.mov.part"; mv "$out/clip_4k_${len}s.mov.part" "$out/clip_4k_${len}s.mov"; }
done
if [[ ! -f "$out/clip_4k_hlg_30s.mov" ]]; then
  echo "prepare_clips: 30 s of 4K HLG HEVC Main10 (once; several minutes)" >&2
  ff -ss 60 -t 30 -i "$src" -an \
    -vf "scale=3840:2160:flags=bicubic,fps=30,zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=arib-std-b67:p=bt2020:m=bt2020nc:r=tv:npl=203,format=yuv420p10le" \
    -c:v libx265 -preset ultrafast \
    -x265-params "log-level=error:keyint=30:min-keyint=30:scenecut=0:bitrate=40000:vbv-maxrate=50000:vbv-bufsize=80000:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc" \
    -color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc -tag:v hvc1 -f mov "$out/clip_4k_hlg_30s.mov.part"
  mv "$out/clip_4k_hlg_30s.mov.part" "$out/clip_4k_hlg_30s.mov"
fi
