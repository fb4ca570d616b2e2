#!/usr/bin/env python3
"""Builds Keepsake's frame-selection evaluation set: short videos composed from the
registry photos and footage in tests/media/, with planted, labelled bad stretches.

Why a builder and not committed videos: the media come from pinned registry packages
(git-ignored), and composing them here keeps every label exact, because each video is
assembled from segments whose lengths are known to the frame.

Python 3 standard library + the ffmpeg/ffprobe CLI only. The built set is cached in
.cache/eval/set/; each video's labels carry a hash of its recipe (its segments, the media
and encoder settings it uses, BUILDER_VERSION), and a video is rebuilt only when that changes.

Usage: python3 tests/eval/build_set.py [--force]   (prints the set's directory)
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "tests" / "media"
CACHE = ROOT / ".cache" / "eval"
FPS = 30
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Every bad kind the engine must never pick (docs/eval.md).
BAD_KINDS = ("black", "fade", "title", "defocus", "motion_blur", "overexposed",
             "underexposed", "cut")

# Photos: file, and the crop (fractions of the photo: x, y, w, h) that frames the subject
# for landscape (16:9) and portrait (9:16) scenes. Faces are true where a human face shows.
PHOTOS = {
    "astronaut": {"file": "astronaut.png", "faces": True,
                  "land": (0.0, 0.0, 1.0, 0.5625), "port": (0.18, 0.0, 0.5625, 1.0)},
    "coffee": {"file": "coffee.png", "faces": False,
               "land": (0.0, 0.06, 1.0, 0.84), "port": (0.27, 0.0, 0.375, 1.0)},
    "chelsea": {"file": "chelsea.png", "faces": False,
                "land": (0.0, 0.0, 1.0, 0.84), "port": (0.25, 0.0, 0.375, 1.0)},
    "motorcycle": {"file": "motorcycle.png", "faces": False,
                   "land": (0.0, 0.1, 1.0, 0.83), "port": (0.33, 0.0, 0.375, 1.0)},
    "rocket": {"file": "rocket.jpg", "faces": False,
               "land": (0.0, 0.0, 1.0, 0.84), "port": (0.3, 0.0, 0.42, 1.0)},
}

# Footage: file and its shots (source start, end, scene id, faces), found with ffmpeg's
# scene score and checked by eye. Shot boundaries inside a used range become "cut" labels.
FOOTAGE = {
    "bikes": {"file": "bikes.mp4", "shots": [
        (0.0, 1.2, "bikes-pole", False), (1.2, 3.04, "bikes-street", False),
        (3.04, 5.48, "bikes-taxi", False), (5.48, 7.48, "bikes-fence", False),
        (7.48, 9.68, "bikes-wall", False), (9.68, 10.0, "bikes-wheel", False)]},
    "bbb": {"file": "bigbuckbunny_5s.mp4", "shots": [(0.0, 5.28, "bbb-bunny", False)]},
    "carphone": {"file": "carphone.mp4", "shots": [(0.0, 4.0, "carphone", True)]},
}

# A segment is a good scene ("photo"/"clip") or a bad stretch ("bad": kind).
# photo: Ken Burns move over a still; clip: a range of real footage.
# Bad stretches made from content ("of": a photo or clip) show that content spoiled.


def photo(name, dur):
    return {"photo": name, "dur": dur}


def clip(name, start, end):
    return {"clip": name, "start": start, "dur": round(end - start, 4)}


def bad(kind, dur, of=None, **kw):
    seg = {"bad": kind, "dur": dur}
    if of is not None:
        seg["of"] = of
    seg.update(kw)
    return seg


def P(name):  # content reference for bad stretches
    return {"photo": name}


def C(name, start):
    return {"clip": name, "start": start}


# Portrait videos ("stored"): the upright 360x640 picture is stored sideways as 640x360,
# turned counter-clockwise ("cclock") or clockwise ("clock"), with a display matrix that
# makes players (and ffmpeg's autorotation) show it upright again, like a phone held upright.
SPEC = [
    {"name": "v01_birthday", "container": "mp4", "codec": "h264", "segments": [
        bad("title", 2.0, text="Happy Birthday!", color="0x1b2a49"),
        bad("fade", 1.0, of=P("astronaut"), fade="in"),
        photo("astronaut", 4.0),
        bad("black", 1.5),
        photo("coffee", 4.0),
        photo("chelsea", 4.0),
        bad("fade", 1.0, of=P("chelsea"), fade="out")]},
    {"name": "v02_street", "container": "mkv", "codec": "h264", "segments": [
        clip("bikes", 0.0, 5.48),
        bad("motion_blur", 2.0, of=C("bikes", 5.48)),
        clip("bikes", 7.48, 9.6),
        bad("underexposed", 2.0, of=P("motorcycle")),
        photo("motorcycle", 4.0)]},
    {"name": "v03_cat_hevc", "container": "mp4", "codec": "hevc", "segments": [
        photo("chelsea", 4.0),
        bad("defocus", 2.0, of=P("chelsea")),
        photo("coffee", 4.0),
        bad("overexposed", 2.0, of=P("rocket")),
        photo("rocket", 4.0),
        bad("black", 1.0)]},
    {"name": "v04_rocket_vp9", "container": "webm", "codec": "vp9", "segments": [
        bad("black", 1.0),
        bad("fade", 1.0, of=P("rocket"), fade="in"),
        photo("rocket", 4.0),
        bad("fade", 1.0, of=P("rocket"), to=P("motorcycle"), fade="dissolve"),
        photo("motorcycle", 4.0),
        bad("underexposed", 2.0, of=P("motorcycle")),
        clip("bbb", 0.0, 4.0),
        bad("fade", 1.0, of=C("bbb", 4.0), fade="out")]},
    {"name": "v05_carphone", "container": "mov", "codec": "h264", "segments": [
        clip("carphone", 0.0, 4.0),
        bad("motion_blur", 1.5, of=P("astronaut")),
        photo("astronaut", 4.0),
        bad("overexposed", 2.0, of=C("carphone", 1.0)),
        photo("coffee", 4.0),
        bad("title", 2.0, text="The End", color="0x202020")]},
    {"name": "v06_portrait", "container": "mp4", "codec": "h264", "stored": "cclock",
     "segments": [
         photo("astronaut", 4.0),
         bad("black", 1.0),
         photo("coffee", 4.0),
         bad("defocus", 1.5, of=P("chelsea")),
         photo("chelsea", 4.0)]},
    {"name": "v07_portrait_hevc", "container": "mov", "codec": "hevc", "stored": "clock",
     "segments": [
         bad("title", 1.5, text="Trip", color="0x3a1f5d"),
         photo("motorcycle", 4.0),
         bad("overexposed", 1.5, of=P("motorcycle")),
         photo("astronaut", 4.0),
         bad("motion_blur", 1.5, of=P("rocket")),
         photo("rocket", 4.0)]},
    {"name": "v08_titles", "container": "mp4", "codec": "h264", "segments": [
        bad("title", 2.0, text="Big Buck Bunny", color="0x0d3b2e"),
        clip("bbb", 0.0, 5.0),
        bad("title", 2.0, text="Chapter 2", color="0x5d1f1f"),
        clip("bikes", 3.04, 7.48),
        bad("fade", 1.0, of=C("bikes", 7.48), fade="out")]},
    {"name": "v09_exposure_vp9", "container": "mkv", "codec": "vp9", "segments": [
        bad("overexposed", 2.0, of=P("coffee")),
        photo("coffee", 4.0),
        bad("underexposed", 2.0, of=P("coffee")),
        photo("astronaut", 4.0),
        bad("overexposed", 1.5, of=P("astronaut")),
        photo("motorcycle", 4.0)]},
    {"name": "v10_quick_cuts", "container": "mp4", "codec": "h264", "segments": [
        photo("rocket", 1.5), photo("coffee", 1.5), photo("chelsea", 1.5),
        bad("motion_blur", 1.0, of=P("motorcycle")),
        photo("motorcycle", 1.5), clip("bbb", 0.5, 2.0), photo("astronaut", 1.5),
        bad("defocus", 1.0, of=C("bbb", 2.0)),
        photo("coffee", 1.5)]},
    {"name": "v11_family_hevc", "container": "mkv", "codec": "hevc", "segments": [
        clip("carphone", 0.0, 3.0),
        bad("fade", 1.0, of=C("carphone", 3.0), to=P("chelsea"), fade="dissolve"),
        photo("chelsea", 4.0),
        bad("black", 2.0),
        photo("astronaut", 4.0),
        bad("defocus", 2.0, of=P("astronaut")),
        bad("fade", 1.0, of=P("astronaut"), fade="out")]},
    {"name": "v12_long_vp9", "container": "webm", "codec": "vp9", "segments": [
        bad("title", 2.0, text="Holiday 2024", color="0x12355b"),
        bad("fade", 1.0, of=C("bikes", 0.0), fade="in"),
        clip("bikes", 1.2, 7.48),
        bad("black", 1.0),
        clip("bbb", 0.0, 5.0),
        bad("motion_blur", 2.0, of=P("coffee")),
        photo("chelsea", 4.0),
        bad("underexposed", 2.0, of=P("rocket")),
        photo("rocket", 4.0),
        bad("fade", 1.0, of=P("rocket"), fade="out")]},
    # Long videos (> 60 s) take the engine's other path: a fixed number of keyframes
    # spread over the whole video instead of a dense pass. Bad stretches here are long
    # enough to hold several candidates, like a lens cap left on or a camera in a pocket.
    # v13 is full HD with a camera-like fixed 1 s GOP, so the engine samples it with the
    # fewer candidates it affords above 720p (18); v14 has the encoder's default GOP
    # (≈ 8 s, scene cuts).
    {"name": "v13_long_camera", "container": "mp4", "codec": "h264", "gop": 30, "size": [1920, 1080],
     "segments": [
        bad("title", 6.0, text="Summer at Grandma's", color="0x2b1d0e"),
        bad("fade", 2.0, of=P("astronaut"), fade="in"),
        photo("astronaut", 30.0),
        bad("black", 8.0),
        photo("coffee", 25.0),
        bad("defocus", 10.0, of=P("chelsea")),
        photo("chelsea", 25.0),
        bad("overexposed", 10.0, of=P("motorcycle")),
        photo("motorcycle", 20.0),
        bad("fade", 3.0, of=P("motorcycle"), fade="out")]},
    {"name": "v14_long_hevc", "container": "mkv", "codec": "hevc", "segments": [
        bad("underexposed", 12.0, of=P("rocket")),
        photo("rocket", 30.0),
        bad("motion_blur", 10.0, of=P("coffee")),
        photo("coffee", 20.0),
        bad("title", 8.0, text="Day 2", color="0x0e2b22"),
        photo("astronaut", 35.0),
        bad("black", 15.0),
        photo("chelsea", 30.0),
        bad("overexposed", 10.0, of=P("chelsea")),
        bad("fade", 5.0, of=P("chelsea"), fade="out")]},
]

# Phone clips: four of the short videos again as phones write them, 720p or 1080p with a
# keyframe every second (30 frames). The engine samples such clips at their keyframes
# instead of decoding every frame (`Sampling::ClipKeyframes`), so these check that path
# against the same labels: a dissolve or a fade between two keyframes is not seen as a
# blend of its neighbours there.
_BY_NAME = {v["name"]: v for v in SPEC}
SPEC += [
    dict(_BY_NAME[base], name=name, container=container, codec=codec, gop=30, size=size)
    for base, name, container, codec, size in [
        ("v01_birthday", "v15_phone_birthday", "mov", "hevc", [1920, 1080]),
        ("v02_street", "v16_phone_street", "mp4", "h264", [1280, 720]),
        ("v05_carphone", "v17_phone_carphone", "mov", "h264", [1920, 1080]),
        ("v11_family_hevc", "v18_phone_family", "mov", "hevc", [1280, 720]),
    ]
]

CODECS = {
    "h264": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "24", "-pix_fmt", "yuv420p",
             "-x265-params", "log-level=error"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0",
            "-crf", "32", "-row-mt", "1", "-pix_fmt", "yuv420p"],
}
TAGS = {("hevc", "mp4"): ["-tag:v", "hvc1"], ("hevc", "mov"): ["-tag:v", "hvc1"]}
BUILDER_VERSION = 1  # bump when the way segments are rendered changes (rebuilds every video)

# Upright marker for portrait videos: a pure red band across the top of every frame.
MARKER_FRACTION = 0.06


def video_size(video: dict) -> tuple[int, int]:
    """Upright picture size: 640x360 (360x640 portrait) unless the spec says."""
    if "size" in video:
        return tuple(video["size"])
    return (360, 640) if "stored" in video else (640, 360)


def frames(dur: float) -> int:
    return int(round(dur * FPS))


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")


def ffmpeg() -> list[str]:
    return ["ffmpeg", "-v", "error", "-nostdin", "-y"]


def source_input(content: dict, size: tuple[int, int], portrait: bool, dur: float) -> tuple[list[str], str]:
    """ffmpeg input args + a filter chain that turns `content` into `dur` seconds of
    size-sized video at FPS (a Ken Burns zoom for photos, a trimmed range for footage)."""
    w, h = size
    n = frames(dur)
    if "photo" in content:
        spec = PHOTOS[content["photo"]]
        cx, cy, cw, ch = spec["port" if portrait else "land"]
        # crop the subject, upscale 3x so the slow zoom moves smoothly, zoom 1.00 -> 1.12
        chain = (f"crop=iw*{cw}:ih*{ch}:iw*{cx}:ih*{cy},scale={w * 2}:{h * 2}:flags=bicubic,"
                 f"zoompan=z='1+0.12*on/{max(n, 1)}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
                 f":d={n}:s={w}x{h}:fps={FPS},setsar=1")
        return ["-i", str(MEDIA / spec["file"])], chain
    spec = FOOTAGE[content["clip"]]
    start = content["start"]
    if portrait:
        fit = f"scale=-2:{h}:flags=bicubic,crop={w}:{h}"
    else:
        fit = f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}"
    chain = f"trim=start={start},setpts=PTS-STARTPTS,fps={FPS},{fit},setsar=1"
    return ["-i", str(MEDIA / spec["file"])], chain


def render_segment(seg: dict, size: tuple[int, int], portrait: bool, out: Path) -> None:
    """Renders one segment to an intermediate file of exactly frames(dur) frames."""
    w, h = size
    n = frames(seg["dur"])
    dur = seg["dur"]
    inputs: list[str] = []
    if "photo" in seg or "clip" in seg:
        inputs, chain = source_input(seg, size, portrait, dur)
        graph = f"[0:v]{chain},format=yuv420p[v]"
    else:
        kind = seg["bad"]
        if kind == "black":
            inputs = ["-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:r={FPS}"]
            graph = "[0:v]format=yuv420p[v]"
        elif kind == "title":
            text = seg["text"].replace(":", r"\:").replace("'", "")
            size_px = max(24, w // 12)
            inputs = ["-f", "lavfi", "-i", f"color=c={seg['color']}:s={w}x{h}:r={FPS}"]
            graph = (f"[0:v]drawtext=fontfile={FONT}:text='{text}':fontcolor=white:"
                     f"fontsize={size_px}:x=(w-tw)/2:y=(h-th)/2,format=yuv420p[v]")
        else:
            inputs, chain = source_input(seg["of"], size, portrait, dur)
            k = max(w, h) / 640  # blur in proportion to the picture, as at 640x360
            spoil = {
                "defocus": f"gblur=sigma={9 * k:g}",
                "motion_blur": f"avgblur=sizeX={round(36 * k)}:sizeY=1",
                "overexposed": "curves=all='0/0.55 0.35/1 1/1'",
                "underexposed": "curves=all='0/0 1/0.13'",
            }
            if kind in spoil:
                graph = f"[0:v]{chain},{spoil[kind]},format=yuv420p[v]"
            elif kind == "fade" and seg.get("fade") in ("in", "out"):
                graph = f"[0:v]{chain},fade=t={seg['fade']}:st=0:d={dur},format=yuv420p[v]"
            elif kind == "fade" and seg.get("fade") == "dissolve":
                inputs2, chain2 = source_input(seg["to"], size, portrait, dur)
                inputs += inputs2
                graph = (f"[0:v]{chain},format=yuv420p[a];[1:v]{chain2},format=yuv420p[b];"
                         f"[a][b]xfade=transition=fade:duration={dur}:offset=0[v]")
            else:
                raise ValueError(f"unknown bad segment {seg}")
    cmd = ffmpeg() + inputs + ["-filter_complex", graph, "-map", "[v]", "-frames:v", str(n),
                               "-r", str(FPS), "-c:v", "libx264", "-preset", "ultrafast",
                               "-qp", "8", "-pix_fmt", "yuv420p", "-an", str(out)]
    run(cmd)


def labels_for(video: dict, size: tuple[int, int]) -> dict:
    """The ground truth: bad stretches (incl. cuts) and scenes, in the built video's time."""
    stretches, scenes = [], []
    t_frames = 0
    prev_scene = None  # scene id of the previous good stretch that ends where the next starts
    for seg in video["segments"]:
        n = frames(seg["dur"])
        start, end = t_frames / FPS, (t_frames + n) / FPS
        if "bad" in seg:
            entry = {"start": round(start, 4), "end": round(end, 4), "kind": seg["bad"]}
            if "of" in seg:  # what the spoiled content is, e.g. a defocused "astronaut"
                entry["source"] = seg["of"].get("photo") or seg["of"]["clip"]
            stretches.append(entry)
            prev_scene = None
        else:
            if "photo" in seg:
                parts = [(start, end, seg["photo"], PHOTOS[seg["photo"]]["faces"])]
            else:
                parts = []
                src0 = seg["start"]
                src1 = src0 + seg["dur"]
                for s0, s1, sid, faces in FOOTAGE[seg["clip"]]["shots"]:
                    a, b = max(s0, src0), min(s1, src1)
                    if b - a > 1e-6:  # shot boundaries snapped to the output's frame grid
                        parts.append((start + round((a - src0) * FPS) / FPS,
                                      min(end, start + round((b - src0) * FPS) / FPS), sid, faces))
                if parts:  # the segment's last frame belongs to its last shot
                    parts[-1] = (parts[-1][0], end, parts[-1][2], parts[-1][3])
            for a, b, sid, faces in parts:
                if prev_scene is not None and prev_scene != sid:
                    stretches.append({"start": round(a, 4), "end": round(a, 4), "kind": "cut"})
                scenes.append({"start": round(a, 4), "end": round(min(b, end), 4), "id": sid,
                               "faces": faces})
                prev_scene = sid
        t_frames += n
    portrait = "stored" in video
    return {
        "video": f"{video['name']}.{video['container']}",
        "duration": round(t_frames / FPS, 4),
        "fps": FPS,
        "codec": video["codec"],
        "container": video["container"],
        "portrait": portrait,
        # the display-matrix rotation ffprobe reports (side_data "rotation")
        "rotation": ROTATION_OF_STORED[video["stored"]] if portrait else 0,
        "upright_size": [size[0], size[1]],
        "marker": ({"color": "red", "edge": "top", "fraction": MARKER_FRACTION}
                   if portrait else None),
        "stretches": stretches,
        "scenes": scenes,
    }


# stored turned -> (transpose filter, mov "rotate" tag, ffprobe's display-matrix rotation).
# Found by experiment with FFmpeg 5.1: the tag must be set when remuxing (-c copy); set while
# encoding it is dropped. verify() checks the result by decoding with autorotation.
TRANSPOSE = {"cclock": "transpose=cclock", "clock": "transpose=clock"}
ROTATE_TAG = {"cclock": "270", "clock": "90"}
ROTATION_OF_STORED = {"cclock": -90, "clock": 90}


def build_video(video: dict, outdir: Path) -> dict:
    portrait = "stored" in video
    size = video_size(video)
    name = f"{video['name']}.{video['container']}"
    with tempfile.TemporaryDirectory(prefix=f"keepsake-eval-{video['name']}-") as tmp:
        tmpd = Path(tmp)
        parts = []
        for i, seg in enumerate(video["segments"]):
            part = tmpd / f"seg{i:02d}.mkv"
            render_segment(seg, size, portrait, part)
            parts.append(part)
        listing = tmpd / "list.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in parts))
        vf = []
        if portrait:
            band = max(2, int(round(size[1] * MARKER_FRACTION)))
            vf.append(f"drawbox=x=0:y=0:w=iw:h={band}:color=red:t=fill")
            vf.append(TRANSPOSE[video["stored"]])
        encoded = tmpd / name if portrait else outdir / name
        cmd = ffmpeg() + ["-f", "concat", "-safe", "0", "-i", str(listing)]
        if vf:
            cmd += ["-vf", ",".join(vf)]
        cmd += ["-r", str(FPS)] + CODECS[video["codec"]] + TAGS.get((video["codec"], video["container"]), [])
        if "gop" in video:  # a fixed keyframe interval, as cameras write
            cmd += ["-g", str(video["gop"]), "-keyint_min", str(video["gop"]), "-sc_threshold", "0"]
        cmd += ["-an", str(encoded)]
        run(cmd)
        if portrait:
            run(ffmpeg() + ["-i", str(encoded), "-map", "0", "-c", "copy",
                            "-metadata:s:v:0", f"rotate={ROTATE_TAG[video['stored']]}",
                            str(outdir / name)])
    labels = labels_for(video, size)
    problems = verify(outdir / name, labels)
    if problems:
        raise RuntimeError(f"{name}: the built video does not match its labels:\n  " + "\n  ".join(problems))
    return labels


# ---- verification: the labels must describe what the video really shows ---------------

VW, VH = 160, 90  # analysis size (landscape); portrait videos are analysed at 90x160


def decode_small(path: Path, portrait: bool) -> list[bytes]:
    """All frames, autorotated (as a player shows them), as small RGB24 images."""
    w, h = (VH, VW) if portrait else (VW, VH)
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vf",
                          f"scale={w}:{h}:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-fps_mode", "passthrough", "-"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True).stdout
    n = w * h * 3
    return [out[i:i + n] for i in range(0, len(out) - n + 1, n)]


def luma(img: bytes) -> list[float]:
    return [0.299 * img[i] + 0.587 * img[i + 1] + 0.114 * img[i + 2] for i in range(0, len(img), 3)]


def stats(img: bytes, w: int) -> dict:
    y = luma(img)
    h = len(y) // w
    mean = sum(y) / len(y)
    med = sorted(y)[len(y) // 2]
    flat = sum(1 for v in y if abs(v - med) <= 12) / len(y)
    gx = sum(abs(y[r * w + c + 1] - y[r * w + c]) for r in range(h) for c in range(w - 1)) / (h * (w - 1))
    gy = sum(abs(y[(r + 1) * w + c] - y[r * w + c]) for r in range(h - 1) for c in range(w)) / ((h - 1) * w)
    bright = sum(1 for v in y if v >= 235) / len(y)
    return {"mean": round(mean, 1), "flat": round(flat, 2), "gx": round(gx, 2), "gy": round(gy, 2),
            "bright": round(bright, 2)}


def diff(a: bytes, b: bytes) -> float:
    """Mean absolute difference of the red channel: cheap, and enough to see a cut."""
    return sum(abs(x - z) for x, z in zip(a[::3], b[::3])) / (len(a) // 3)


def red_top(img: bytes, w: int, fraction: float) -> bool:
    """True when the top rows are the red marker and no other edge is."""
    h = len(img) // 3 // w
    rows = max(1, int(h * fraction * 0.6))

    def frac(coords) -> float:
        coords = list(coords)
        hits = 0
        for r, c in coords:
            i = 3 * (r * w + c)
            hits += img[i] > 170 and img[i + 1] < 90 and img[i + 2] < 90
        return hits / len(coords)

    top = frac((r, c) for r in range(rows) for c in range(w))
    bottom = frac((h - 1 - r, c) for r in range(rows) for c in range(w))
    left = frac((r, c) for r in range(h) for c in range(rows))
    right = frac((r, w - 1 - c) for r in range(h) for c in range(rows))
    return top > 0.8 and max(bottom, left, right) < 0.3


def verify(path: Path, labels: dict) -> list[str]:
    """Checks each labelled stretch against the decoded pixels; returns the mismatches."""
    portrait = labels["portrait"]
    w = VH if portrait else VW
    frames_ = decode_small(path, portrait)
    problems = []
    expected = int(round(labels["duration"] * FPS))
    if abs(len(frames_) - expected) > 1:
        return [f"{len(frames_)} frames decoded, labels say {expected}"]

    def at(t):
        return frames_[min(len(frames_) - 1, max(0, int(round(t * FPS))))]

    scene_stats = [stats(at((s["start"] + s["end"]) / 2), w) for s in labels["scenes"]]
    median_sharp = sorted(st["gx"] for st in scene_stats)[len(scene_stats) // 2] if scene_stats else 0

    def sharpness_of(source):
        """Detail of the unspoiled content (its own scene when the video has one)."""
        same = [st["gx"] for s, st in zip(labels["scenes"], scene_stats)
                if source and (s["id"] == source or s["id"].startswith(source + "-"))]
        return max(same) if same else median_sharp

    for s, st in zip(labels["scenes"], scene_stats):
        if not (25 < st["mean"] < 225) or st["flat"] > 0.85:
            problems.append(f"scene {s['id']} at {s['start']}-{s['end']} does not look like a scene: {st}")
    for b in labels["stretches"]:
        kind, t0, t1 = b["kind"], b["start"], b["end"]
        if kind == "cut":
            k = int(round(t0 * FPS))
            if not 2 <= k < len(frames_) - 1:
                continue
            jump = diff(frames_[k - 1], frames_[k])
            calm = max(diff(frames_[k - 2], frames_[k - 1]), diff(frames_[k], frames_[k + 1]))
            if jump < 12 or jump < 1.5 * calm:
                problems.append(f"cut at {t0}: frame difference {jump:.1f} vs neighbours {calm:.1f}")
            continue
        st = stats(at((t0 + t1) / 2), w)
        sharp = sharpness_of(b.get("source"))
        ok = {
            "black": st["mean"] < 20,
            "title": st["flat"] > 0.85,
            "overexposed": st["mean"] > 185 or st["bright"] > 0.5,
            "underexposed": 1 < st["mean"] < 45,
            "defocus": st["gx"] < 0.6 * sharp and st["gy"] < 0.6 * sharp,
            "motion_blur": st["gx"] < 0.5 * sharp,
            "fade": diff(at(t0), at(t1 - 1 / FPS)) > 15,
        }[kind]
        if not ok:
            problems.append(f"{kind} at {t0}-{t1} does not look {kind}: {st} (scene sharpness {sharp:.1f})")
    if portrait:
        for t in [(s["start"] + s["end"]) / 2 for s in labels["scenes"]]:
            if not red_top(at(t), w, labels["marker"]["fraction"]):
                problems.append(f"portrait marker not at the top of the upright picture at {t:.2f}s")
    return problems


def video_hash(video: dict) -> str:
    """Identifies one video's recipe: its segments, the media and settings they use, and
    BUILDER_VERSION (bump it when the rendering code changes)."""
    used = json.dumps(video, sort_keys=True)
    h = hashlib.sha256()
    h.update(json.dumps({"video": video, "fps": FPS, "codec": CODECS[video["codec"]],
                         "marker": MARKER_FRACTION, "v": BUILDER_VERSION,
                         "photos": {k: v for k, v in PHOTOS.items() if f'"{k}"' in used},
                         "footage": {k: v for k, v in FOOTAGE.items() if f'"{k}"' in used}},
                        sort_keys=True).encode())
    for name in sorted({p["file"] for k, p in PHOTOS.items() if f'"{k}"' in used}
                       | {f["file"] for k, f in FOOTAGE.items() if f'"{k}"' in used}):
        h.update(f"{name}:{(MEDIA / name).stat().st_size}".encode())
    return h.hexdigest()[:16]


def cached_labels(outdir: Path, video: dict) -> dict | None:
    """The labels of an already built video, when its recipe is unchanged."""
    path = outdir / f"{video['name']}.labels.json"
    try:
        labels = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if labels.get("recipe") != video_hash(video) or not (outdir / labels["video"]).is_file():
        return None
    return labels


def build_one(video: dict, outdir: Path, force: bool) -> dict:
    labels = None if force else cached_labels(outdir, video)
    if labels is not None:
        # labels are derived from the spec; when their derivation changed, check the new
        # ones against the existing video (seconds) instead of re-encoding it (minutes)
        size = video_size(video)
        fresh = labels_for(video, size)
        fresh["recipe"] = labels["recipe"]
        if fresh != labels:
            if verify(outdir / fresh["video"], fresh):
                labels = None
            else:
                labels = fresh
                (outdir / f"{video['name']}.labels.json").write_text(json.dumps(labels, indent=2) + "\n")
    if labels is None:
        # build beside the set and move in only when verified, so a failure leaves no
        # half-made video that a later run could mistake for a good one
        with tempfile.TemporaryDirectory(prefix=f"build-{video['name']}-", dir=CACHE) as tmp:
            labels = build_video(video, Path(tmp))
            labels["recipe"] = video_hash(video)
            (Path(tmp) / labels["video"]).replace(outdir / labels["video"])
            (outdir / f"{video['name']}.labels.json").write_text(json.dumps(labels, indent=2) + "\n")
    return labels


def build(force: bool = False, jobs: int = 2) -> Path:
    """Returns the directory of the built set (.cache/eval/set/), (re)building the videos
    whose recipe changed; unchanged videos are reused."""
    missing = [n for n in [p["file"] for p in PHOTOS.values()] + [f["file"] for f in FOOTAGE.values()]
               if not (MEDIA / n).is_file()]
    if missing:
        raise RuntimeError(f"missing test media {missing}: run `python3 scripts/fetch_assets.py "
                           f"tests/media/manifest.toml --group test-media`")
    names = [v["name"] for v in SPEC]
    if len(set(names)) != len(names):
        raise RuntimeError("video names in SPEC must be unique")
    outdir = CACHE / "set"
    outdir.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        labels = list(pool.map(lambda v: build_one(v, outdir, force), SPEC))
    keep = {"index.json"} | {l["video"] for l in labels} | {f"{n}.labels.json" for n in names}
    for old in outdir.iterdir():  # videos no longer in SPEC
        if old.name not in keep:
            old.unlink()
    (outdir / "index.json").write_text(json.dumps({"videos": [l["video"] for l in labels]}, indent=2) + "\n")
    return outdir


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    try:
        print(build(args.force, args.jobs))
    except RuntimeError as e:
        print(f"build_set: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
