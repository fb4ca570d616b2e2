#!/usr/bin/env python3
"""The formats section of `make eval` (issue 12): does Keepsake show each kind of file the
way it should be seen? HDR (HLG, PQ) tone-mapped to SDR, interlaced video deinterlaced,
anamorphic video (DV, DVD, 576i, H.263 CIF) at its display aspect, MPEG-TS times relative
to the stream's start, legacy codecs and containers decoded, a rotated file upright.

The corpus is made with the ffmpeg CLI from one SDR source clip (10 s, 1280x720, 50p, five
panned scenes from the registry media in tests/media/). The source is the truth: every
pick is compared with the source frame at the pick's time. Python 3 standard library +
ffmpeg/ffprobe only. The corpus is cached in .cache/eval/formats-<hash>/, the hash covering
SCENES, FILES, the builder's functions and the input media sizes.

Usage: python3 tests/eval/formats.py [--force]     (builds the corpus; prints its directory)
       python3 tests/eval/evaluate.py --formats-only --keepsake target/release/keepsake
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import inspect
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_set  # noqa: E402

ROOT = build_set.ROOT
MEDIA = build_set.MEDIA
CACHE = build_set.CACHE

# ---- the source clip -------------------------------------------------------------------

SRC_W, SRC_H, SRC_FPS = 1280, 720, 50
SCENE_DUR = 2.0  # cuts at 2, 4, 6, 8 s: 25/50/75 % (2.5, 5, 7.5 s) are ≥ 0.5 s from a cut
PAN = 160  # px/s at 1280 wide: every 50p frame differs (fields comb), 0.5 s apart = 80 px
# (media, kind, start) — each scene pans across its picture, alternating direction.
SCENES = [("bigbuckbunny_5s.mp4", "clip", 0.5), ("motorcycle.png", "photo", 0.0),
          ("coffee.png", "photo", 0.0), ("astronaut.png", "photo", 0.0),
          ("chelsea.png", "photo", 0.0)]
SRC_DUR = SCENE_DUR * len(SCENES)

# Crops of the (upright) source that a file shows: the whole 16:9 picture, a 4:3 centre
# (H.263 CIF) or a 9:16 centre (a phone held upright).
CROPS = {"full": None, "4:3": "crop=960:720:160:0", "9:16": "crop=405:720:437:0"}

# BT.2408: SDR reference white at 203 cd/m2 in PQ, at 75 % HLG signal; zscale's npl sets
# the luminance of linear 1.0. Expected 10-bit narrow-range luma of SDR white (Y 235):
HDR_WHITE = {"pq": 573, "hlg": 721}  # 64 + 876 * 0.581 / 0.75
HDR_TRC = {"pq": "smpte2084", "hlg": "arib-std-b67"}


def hdr_chain(kind: str) -> str:
    return ("setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,"
            "zscale=t=linear:npl=203,format=gbrpf32le,"
            f"zscale=p=2020:t={HDR_TRC[kind]}:m=2020_ncl:r=tv:npl=203,format=yuv420p10le")


def tags(space: str) -> list[str]:
    """Colour tags written into the stream (where the container/codec can carry them)."""
    return {"709": ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"],
            "601": ["-color_primaries", "smpte170m", "-color_trc", "smpte170m", "-colorspace", "smpte170m"],
            "2020": ["-color_primaries", "bt2020", "-colorspace", "bt2020nc"]}[space]


def sd(w: int, h: int, crop: str | None = None, full_range: bool = False, sar: str = "1") -> str:
    """Scale the 709 source to an SD size with the BT.601 matrix (what SD decoders assume)."""
    pre = f"{CROPS[crop]}," if crop and CROPS[crop] else ""
    rng = ":out_range=pc" if full_range else ":out_range=tv"
    return (f"{pre}scale={w}:{h}:flags=bicubic:in_color_matrix=bt709:out_color_matrix=bt601{rng},setsar={sar}")


X265 = ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "22"]
X265_LOG = "log-level=error"
MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"

# Each file: name, what it tests, the ffmpeg output options (vf applied to the 50p source),
# and its truth: display aspect (w/h as shown), interlaced (field order), the source crop it
# shows, hdr kind, and `offset`, the source time minus the file's time counted from the
# stream's start (0 for all: the files start with the source's first frame).
FILES = [
    {"name": "f01_hlg.mov", "what": "HDR HLG (phone-style HEVC Main10 .mov)",
     "vf": "fps=25," + hdr_chain("hlg"),
     "opts": X265 + ["-tag:v", "hvc1", "-x265-params",
                     f"{X265_LOG}:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"]
     + tags("2020") + ["-color_trc", "arib-std-b67"],
     "aspect": 16 / 9, "hdr": "hlg",
     "expect": {"codec_name": "hevc", "pix_fmt": "yuv420p10le", "color_transfer": "arib-std-b67",
                "color_primaries": "bt2020", "color_space": "bt2020nc"}},
    {"name": "f02_pq_hdr10.mkv", "what": "HDR10 PQ (HEVC Main10, mastering display + MaxCLL)",
     "vf": "fps=25," + hdr_chain("pq"),
     "opts": X265 + ["-x265-params",
                     f"{X265_LOG}:hdr10=1:repeat-headers=1:colorprim=bt2020:transfer=smpte2084:"
                     f"colormatrix=bt2020nc:master-display={MASTER}:max-cll=1000,400"]
     + tags("2020") + ["-color_trc", "smpte2084"],
     "aspect": 16 / 9, "hdr": "pq",
     "expect": {"codec_name": "hevc", "pix_fmt": "yuv420p10le", "color_transfer": "smpte2084",
                "color_primaries": "bt2020", "color_space": "bt2020nc"}},
    {"name": "f03_avchd_1080i.mts", "what": "1080i50 AVCHD-like H.264, top field first, MPEG-TS",
     "vf": "scale=1920:1080:flags=bicubic,tinterlace=mode=interleave_top,setfield=tff",
     "opts": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
              "-flags", "+ilme+ildct", "-x264-params", "tff=1", "-field_order", "tt", "-f", "mpegts"]
     + tags("709"),
     "aspect": 16 / 9, "interlaced": "tff",
     "expect": {"codec_name": "h264", "width": 1920, "height": 1080, "field_order": "tt"}},
    {"name": "f04_576i_anamorphic.mp4", "what": "576i50 H.264 MP4, 720x576 stored, 16:9 shown",
     "vf": sd(720, 576, sar="64/45") + ",tinterlace=mode=interleave_top,setfield=tff",
     "opts": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
              "-flags", "+ilme+ildct", "-x264-params", "tff=1", "-aspect", "16:9"] + tags("601"),
     "aspect": 16 / 9, "interlaced": "tff",
     "expect": {"codec_name": "h264", "width": 720, "height": 576, "display_aspect_ratio": "16:9"}},
    {"name": "f05_dv_pal_wide.dv", "what": "DV PAL 16:9 (dvvideo, 720x576, bottom field first)",
     "vf": sd(720, 576, sar="64/45") + ",tinterlace=mode=interleave_bottom,setfield=bff",
     "opts": ["-c:v", "dvvideo", "-pix_fmt", "yuv420p", "-flags", "+ildct", "-aspect", "16:9",
              "-f", "dv"],
     "aspect": 16 / 9, "interlaced": "bff",
     "expect": {"codec_name": "dvvideo", "width": 720, "height": 576, "display_aspect_ratio": "16:9"}},
    {"name": "f06_dvd_ntsc_wide.vob", "what": "DVD NTSC 16:9 (MPEG-2, 720x480, 29.97i) in .vob",
     "vf": "fps=60000/1001," + sd(720, 480, sar="32/27") + ",tinterlace=mode=interleave_top,setfield=tff",
     "opts": ["-target", "ntsc-dvd", "-aspect", "16:9", "-flags", "+ilme+ildct", "-top", "1"],
     "aspect": 16 / 9, "interlaced": "tff",
     "expect": {"codec_name": "mpeg2video", "width": 720, "height": 480, "display_aspect_ratio": "16:9"}},
    {"name": "f07_ts_offset.ts", "what": "MPEG-TS whose timestamps start at 10 s (progressive H.264)",
     "vf": "fps=25",
     "opts": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
              "-output_ts_offset", "10", "-f", "mpegts"] + tags("709"),
     "aspect": 16 / 9, "min_start": 9.9,
     "expect": {"codec_name": "h264"}},
    {"name": "f08_mjpeg.avi", "what": "Motion JPEG AVI (old digital camera)",
     "vf": "fps=25," + sd(640, 360, full_range=True) + ",format=yuvj420p",
     "opts": ["-c:v", "mjpeg", "-q:v", "3"],
     "aspect": 16 / 9, "expect": {"codec_name": "mjpeg"}},
    {"name": "f09_h263_cif.3gp", "what": "H.263 CIF 352x288 3GP (old phone), 12:11 pixels",
     "vf": "fps=25," + sd(352, 288, crop="4:3", sar="12/11"),
     "opts": ["-c:v", "h263", "-q:v", "4"],
     "aspect": 4 / 3, "crop": "4:3",
     "expect": {"codec_name": "h263", "width": 352, "height": 288, "display_aspect_ratio": "4:3"}},
    {"name": "f10_wmv2.wmv", "what": "Windows Media Video 8 (WMV2) in ASF",
     "vf": "fps=25," + sd(640, 360),
     "opts": ["-c:v", "wmv2", "-b:v", "2500k"],
     "aspect": 16 / 9, "expect": {"codec_name": "wmv2"}},
    {"name": "f11_xvid.avi", "what": "Xvid (MPEG-4 Part 2, B-frames) AVI",
     "vf": "fps=25," + sd(640, 360),
     "opts": ["-c:v", "mpeg4", "-vtag", "XVID", "-q:v", "3", "-bf", "2"],
     "aspect": 16 / 9, "expect": {"codec_name": "mpeg4", "codec_tag_string": "XVID"}},
    {"name": "f12_av1.mp4", "what": "AV1 (SVT-AV1) MP4",
     "vf": "fps=25," + sd(640, 360), "encoder": "libsvtav1",
     "opts": ["-c:v", "libsvtav1", "-preset", "10", "-crf", "35", "-g", "50",
              "-svtav1-params", "verbosity=0"] + tags("601"),
     "aspect": 16 / 9, "expect": {"codec_name": "av1"}},
    {"name": "f13_hevc_10bit_sdr.mp4", "what": "10-bit SDR HEVC (Main10, BT.709)",
     "vf": "fps=25,format=yuv420p10le",
     "opts": X265 + ["-tag:v", "hvc1", "-x265-params",
                     f"{X265_LOG}:colorprim=bt709:transfer=bt709:colormatrix=bt709"] + tags("709"),
     "aspect": 16 / 9,
     "expect": {"codec_name": "hevc", "pix_fmt": "yuv420p10le", "color_transfer": "bt709"}},
    {"name": "f14_rotated_hevc.mov", "what": "HEVC .mov stored sideways, display matrix (rotation -90)",
     "vf": "fps=25," + sd(360, 640, crop="9:16") + ",transpose=cclock",
     "opts": ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "24", "-pix_fmt", "yuv420p",
              "-tag:v", "hvc1", "-x265-params", X265_LOG] + tags("601"),
     "rotate": "cclock", "aspect": 9 / 16, "crop": "9:16",
     "expect": {"codec_name": "hevc", "width": 640, "height": 360, "rotation": -90}},
]
BUILDER_VERSION = 1


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return proc.stdout


def ffmpeg() -> list[str]:
    return ["ffmpeg", "-v", "error", "-nostdin", "-y"]


def has_encoder(name: str) -> bool:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == [name] for line in out.splitlines() if line.strip())


def build_source(out: Path) -> None:
    """The SDR reference: 5 scenes x 2 s, 1280x720, 50p, each panning at PAN px/s."""
    n = int(round(SCENE_DUR * SRC_FPS))
    travel = int(math.ceil(PAN * SCENE_DUR))
    bw, bh = SRC_W + travel, int(math.ceil((SRC_W + travel) * 9 / 16 / 2)) * 2
    inputs, chains = [], []
    for i, (media, kind, start) in enumerate(SCENES):
        if kind == "clip":
            inputs += ["-i", str(MEDIA / media)]
            head = f"trim=start={start}:duration={SCENE_DUR},setpts=PTS-STARTPTS,fps={SRC_FPS}"
        else:
            inputs += ["-loop", "1", "-framerate", str(SRC_FPS), "-t", str(SCENE_DUR), "-i", str(MEDIA / media)]
            head = f"fps={SRC_FPS}"
        x = f"n*{PAN / SRC_FPS}" if i % 2 == 0 else f"{travel}-n*{PAN / SRC_FPS}"
        chains.append(f"[{i}:v]{head},scale={bw}:{bh}:force_original_aspect_ratio=increase:flags=bicubic:"
                      f"out_color_matrix=bt709:out_range=tv,format=yuv420p,crop={bw}:{bh},"
                      f"crop={SRC_W}:{SRC_H}:x='{x}':y=(in_h-{SRC_H})/2,setsar=1,trim=end_frame={n}[s{i}]")
    graph = ";".join(chains) + ";" + "".join(f"[s{i}]" for i in range(len(SCENES))) + \
        f"concat=n={len(SCENES)}:v=1:a=0[v]"
    run(ffmpeg() + inputs + ["-filter_complex", graph, "-map", "[v]", "-r", str(SRC_FPS),
                             "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-g", "25",
                             "-pix_fmt", "yuv420p"] + tags("709") + ["-color_range", "tv", "-an", str(out)])


def probe(path: Path) -> dict:
    """The facts the truth is checked against (first video stream + format)."""
    doc = json.loads(run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,codec_tag_string,profile,width,height,pix_fmt,"
                          "sample_aspect_ratio,display_aspect_ratio,field_order,color_transfer,"
                          "color_primaries,color_space,r_frame_rate,start_time:stream_side_data:"
                          "format=format_name,duration,start_time", "-of", "json", str(path)]))
    st = doc["streams"][0]
    fmt = doc["format"]
    facts = {k: st.get(k) for k in ("codec_name", "codec_tag_string", "profile", "width", "height",
                                    "pix_fmt", "sample_aspect_ratio", "display_aspect_ratio",
                                    "field_order", "color_transfer", "color_primaries",
                                    "color_space", "r_frame_rate")}
    facts["format"] = fmt.get("format_name")
    facts["duration"] = float(fmt.get("duration") or 0)
    facts["start_time"] = float(st.get("start_time") or fmt.get("start_time") or 0)
    facts["rotation"] = 0
    for sd_ in st.get("side_data_list", []) or []:
        if "rotation" in sd_:
            facts["rotation"] = int(sd_["rotation"])
        if sd_.get("side_data_type") == "Mastering display metadata":
            facts["mastering_display"] = True
        if sd_.get("side_data_type") == "Content light level metadata":
            facts["max_cll"] = sd_.get("max_content")
    return facts


def hdr_facts(path: Path) -> dict:
    """PQ/HDR10 metadata lives in SEI messages: ffprobe shows them as frame side data."""
    doc = json.loads(run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                          "-show_frames", "-show_entries", "frame=side_data_list", "-of", "json", str(path)]))
    out = {}
    for fr in doc.get("frames", [])[:1]:
        for sd_ in fr.get("side_data_list", []) or []:
            if sd_.get("side_data_type") == "Mastering display metadata":
                out["mastering_display"] = True
            if sd_.get("side_data_type") == "Content light level metadata":
                out["max_cll"] = sd_.get("max_content")
    return out


def white_code(kind: str, tmp: Path) -> float:
    """SDR white (Y 235) through the file's HDR chain and encoder, decoded again: its
    10-bit luma code (expected HDR_WHITE[kind])."""
    f = tmp / f"white_{kind}.mkv"
    run(ffmpeg() + ["-f", "lavfi", "-i", "color=white:s=64x64:r=25,format=yuv420p", "-frames:v", "3",
                    "-vf", hdr_chain(kind)] + X265 + ["-x265-params", X265_LOG, str(f)])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(f), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "yuv420p10le", "-"], capture_output=True, check=True).stdout
    ys = [raw[i] | raw[i + 1] << 8 for i in range(0, 64 * 64 * 2, 2)]
    return sum(ys) / len(ys)


def build_file(spec: dict, source: Path, outdir: Path, tmp: Path) -> dict:
    out = outdir / spec["name"]
    if spec.get("encoder") and not has_encoder(spec["encoder"]):
        return {"name": spec["name"], "skipped": f"ffmpeg has no {spec['encoder']} encoder"}
    target = tmp / spec["name"] if spec.get("rotate") else out
    run(ffmpeg() + ["-i", str(source), "-map", "0:v", "-vf", spec["vf"]] + spec["opts"] + ["-an", str(target)])
    if spec.get("rotate"):  # FFmpeg 5.1 drops the rotate tag while encoding: set it in a remux
        run(ffmpeg() + ["-i", str(target), "-map", "0", "-c", "copy", "-metadata:s:v:0",
                        f"rotate={build_set.ROTATE_TAG[spec['rotate']]}", str(out)])
    facts = probe(out)
    if spec.get("hdr"):
        facts.update(hdr_facts(out))
        facts["white_code"] = round(white_code(spec["hdr"], tmp), 1)
    problems = []
    for k, v in spec.get("expect", {}).items():
        if facts.get(k) != v:
            problems.append(f"{k} is {facts.get(k)!r}, expected {v!r}")
    if spec.get("hdr") == "pq" and not (facts.get("mastering_display") and facts.get("max_cll")):
        problems.append("no mastering display / content light level metadata")
    if spec.get("hdr") and abs(facts["white_code"] - HDR_WHITE[spec["hdr"]]) > 8:
        problems.append(f"SDR white decodes to {facts['white_code']}, expected ≈ {HDR_WHITE[spec['hdr']]}")
    if spec.get("interlaced") and facts.get("field_order") in (None, "progressive", "unknown") \
            and spec["expect"].get("codec_name") != "dvvideo":
        problems.append(f"field_order {facts.get('field_order')!r}: not flagged interlaced")
    if "min_start" in spec and facts["start_time"] < spec["min_start"]:
        problems.append(f"start_time {facts['start_time']} < {spec['min_start']}")
    sar = facts.get("sample_aspect_ratio") or "1:1"
    try:
        sn, sd2 = (int(x) for x in sar.split(":"))
        dar = facts["width"] * sn / (facts["height"] * sd2) if sn and sd2 else facts["width"] / facts["height"]
    except ValueError:
        dar = facts["width"] / facts["height"]
    if abs(facts["rotation"]) == 90:
        dar = 1 / dar
    if abs(dar / spec["aspect"] - 1) > 0.01:
        problems.append(f"display aspect {dar:.3f} (SAR {sar}, rotation {facts['rotation']}), "
                        f"expected {spec['aspect']:.3f}")
    if abs(facts["duration"] - SRC_DUR) > 0.3:
        problems.append(f"duration {facts['duration']:.2f} s, expected ≈ {SRC_DUR}")
    if problems:
        raise RuntimeError(f"{spec['name']}: " + "; ".join(problems))
    return {"name": spec["name"], "what": spec["what"], "aspect": spec["aspect"],
            "interlaced": spec.get("interlaced"), "crop": spec.get("crop", "full"),
            "hdr": spec.get("hdr"), "offset": 0.0, "facts": facts}


def corpus_hash() -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"scenes": SCENES, "files": FILES, "v": BUILDER_VERSION, "pan": PAN,
                         "size": [SRC_W, SRC_H, SRC_FPS, SCENE_DUR]}, sort_keys=True).encode())
    for fn in (hdr_chain, tags, sd, build_source, build_file, probe, white_code):  # the builder's code
        h.update(inspect.getsource(fn).encode())
    for media, _, _ in SCENES:
        h.update(f"{media}:{(MEDIA / media).stat().st_size}".encode())
    return h.hexdigest()[:16]


def build(force: bool = False, jobs: int = 2, log=None) -> Path:
    """Returns the corpus directory (source.mkv, the files, index.json), building it when
    its hash changed; older corpora are deleted."""
    missing = [m for m, _, _ in SCENES if not (MEDIA / m).is_file()]
    if missing:
        raise RuntimeError(f"missing test media {missing}: run `scripts/setup.sh test`")
    outdir = CACHE / f"formats-{corpus_hash()}"
    if (outdir / "index.json").is_file() and not force:
        return outdir
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("formats-*"):
        shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="build-formats-", dir=CACHE) as t:
        tmp = Path(t)
        work = tmp / "corpus"
        work.mkdir()
        t0 = time.monotonic()
        build_source(work / "source.mkv")
        src_facts = probe(work / "source.mkv")
        if log:
            log(f"formats: source.mkv {src_facts['width']}x{src_facts['height']} "
                f"{src_facts['r_frame_rate']} {src_facts['duration']:.2f} s ({time.monotonic() - t0:.1f} s)")

        def one(spec):
            t1 = time.monotonic()
            sub = tmp / spec["name"].replace(".", "_")
            sub.mkdir()
            entry = build_file(spec, work / "source.mkv", work, sub)
            if log:
                log(f"formats: {spec['name']}: {entry.get('skipped') or describe_facts(entry['facts'])} "
                    f"({time.monotonic() - t1:.1f} s)")
            return entry

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            entries = list(pool.map(one, FILES))
        (work / "index.json").write_text(json.dumps(
            {"source": "source.mkv", "source_facts": src_facts, "duration": SRC_DUR, "fps": SRC_FPS,
             "files": entries}, indent=2) + "\n")
        work.replace(outdir)
    return outdir


def describe_facts(f: dict, container: bool = True) -> str:
    bits = [f["codec_name"] + (f" ({f['codec_tag_string']})" if f.get("codec_tag_string") not in
                               (None, "[0][0][0][0]") and f["codec_name"] == "mpeg4" else ""),
            f"{f['width']}x{f['height']}", f"SAR {f.get('sample_aspect_ratio') or '–'}",
            f"DAR {f.get('display_aspect_ratio') or '–'}", f.get("pix_fmt") or "",
            f"{f.get('r_frame_rate')}"]
    if f.get("field_order") not in (None, "progressive", "unknown"):
        bits.append(f"field_order {f['field_order']}")
    if f.get("color_transfer") in ("arib-std-b67", "smpte2084"):
        bits.append(f"{f['color_primaries']}/{f['color_transfer']}/{f['color_space']}")
    if f.get("mastering_display"):
        bits.append(f"mastering display, MaxCLL {f.get('max_cll')}")
    if "white_code" in f:
        bits.append(f"SDR white → Y {f['white_code']:.0f}/1023")
    if f.get("rotation"):
        bits.append(f"rotation {f['rotation']}")
    if f.get("start_time", 0) > 0.05:
        bits.append(f"start {f['start_time']:.2f} s")
    if container:
        bits.append(f"{f['format']}")
    return ", ".join(b for b in bits if b)


# ---- checks on pictures ----------------------------------------------------------------
# Pictures are RGB24 bytes (or luma lists) decoded with `ffmpeg -f rawvideo`; small sizes
# keep pure Python fast.

TOL_COLOUR = 0.25     # colourfulness within ±25 % of the SDR source frame
TOL_BRIGHT = 0.25     # mean brightness within ±25 %
TOL_ASPECT = 0.02     # written image's w/h within ±2 % of the display aspect
TOL_COMB = 0.15       # comb ratio at most the bwdif reference's + 0.15
NEAR = 0.5            # the time check compares with source frames ±0.5 s away
NCC_MIN = 0.6         # ... and wants at least this correlation with the frame at `time`
MIN_GAP = 0.5         # three distinct picks: ≥ 0.5 s apart ...
MIN_DIFF = 8.0        # ... and pictures differing by ≥ 8 (mean |Δluma|, 0-255) pairwise
AW = 160              # analysis width (landscape); height from the display aspect
CROP_W, CROP_H = 480, 270  # comb window (centre of the written image, native rows)


def luma(img: bytes) -> list[float]:
    return [0.2126 * img[i] + 0.7152 * img[i + 1] + 0.0722 * img[i + 2] for i in range(0, len(img), 3)]


def brightness(img: bytes) -> float:
    y = luma(img)
    return sum(y) / len(y)


def colourfulness(img: bytes) -> float:
    """Hasler & Süsstrunk (2003): sqrt(σrg² + σyb²) + 0.3·sqrt(μrg² + μyb²),
    rg = R − G, yb = (R + G)/2 − B."""
    n = len(img) // 3
    rg = [img[i] - img[i + 1] for i in range(0, 3 * n, 3)]
    yb = [0.5 * (img[i] + img[i + 1]) - img[i + 2] for i in range(0, 3 * n, 3)]
    mrg, myb = sum(rg) / n, sum(yb) / n
    vrg = sum((v - mrg) ** 2 for v in rg) / n
    vyb = sum((v - myb) ** 2 for v in yb) / n
    return math.sqrt(vrg + vyb) + 0.3 * math.sqrt(mrg * mrg + myb * myb)


def comb_ratio(gray: bytes, w: int) -> float:
    """Combing: mean |2·y[r] − y[r−1] − y[r+1]| (neighbouring rows, i.e. the other field)
    over mean |2·y[r] − y[r−2] − y[r+2]| (rows of the same field). A woven frame with
    motion zig-zags between fields, so the first is large and the second small (ratio > 1);
    a progressive picture is smoother at distance 1 than at 2 (ratio < 1). Invariant to
    contrast, so an untone-mapped HDR frame measures like its SDR source."""
    h = len(gray) // w
    rows = [gray[r * w:(r + 1) * w] for r in range(h)]
    d1 = d2 = 0
    for r in range(2, h - 2):
        a, u, d, u2, d2_ = rows[r], rows[r - 1], rows[r + 1], rows[r - 2], rows[r + 2]
        d1 += sum(abs(2 * x - y - z) for x, y, z in zip(a, u, d))
        d2 += sum(abs(2 * x - y - z) for x, y, z in zip(a, u2, d2_))
    return d1 / (d2 + 1e-9 + (h - 4) * w * 0.5)  # + 0.5 per pixel: flat pictures read 0


def ncc(a: list[float], b: list[float]) -> float:
    """Normalised cross-correlation of two luma pictures of the same size (−1..1)."""
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else 0.0


def mean_abs_diff(a: list[float], b: list[float]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def within(value: float, ref: float, tol: float) -> bool:
    """value within ±tol (a fraction) of ref."""
    return ref > 0 and abs(value / ref - 1) <= tol


def comb_ok(pick: float, ref: float) -> bool:
    return pick <= ref + TOL_COMB


def match_time(pick: list[float], frames: list[list[float]], k: int, step: int) -> dict:
    """The time check: the picture correlates at least NCC_MIN with frames[k] (the frame at
    the reported time) and better than with frames[k ± step] (±NEAR s)."""
    if not 0 <= k < len(frames):
        return {"ncc": None, "near": None, "ok": False, "why": "outside the video"}
    at = ncc(pick, frames[k])
    near = [ncc(pick, frames[j]) for j in (k - step, k + step) if 0 <= j < len(frames)]
    return {"ncc": at, "near": max(near) if near else None,
            "ok": at >= NCC_MIN and all(at > x for x in near)}


def analysis_size(aspect: float) -> tuple[int, int]:
    if aspect >= 1:
        return AW, max(2, int(round(AW / aspect / 2)) * 2)
    return max(2, int(round(AW * aspect / 2)) * 2), AW


def decode(path: Path, w: int, h: int, pix: str = "rgb24", vf: str = "", ss: float | None = None,
           frames: int | None = 1) -> bytes:
    cmd = ["ffmpeg", "-v", "error", "-nostdin"]
    if ss is not None:
        cmd += ["-ss", f"{ss:.3f}"]
    chain = (vf + "," if vf else "") + f"scale={w}:{h}:flags=area"
    cmd += ["-i", str(path), "-vf", chain]
    if frames:
        cmd += ["-frames:v", str(frames)]
    cmd += ["-f", "rawvideo", "-pix_fmt", pix, "-"]
    return subprocess.run(cmd, capture_output=True).stdout


def image_size(path: Path) -> tuple[int, int] | None:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True).stdout
    try:
        w, h = (int(x) for x in out.strip().split(",")[:2])
        return w, h
    except ValueError:
        return None


class Source:
    """The SDR source decoded once per (crop, size): every frame, as a player would show
    the corpus file made from it."""

    def __init__(self, path: Path):
        self.path = path
        self.cache: dict = {}

    def frames(self, crop: str, w: int, h: int) -> list[bytes]:
        key = (crop, w, h)
        if key not in self.cache:
            raw = decode(self.path, w, h, vf=CROPS[crop] or "", frames=None)
            n = w * h * 3
            self.cache[key] = [raw[i:i + n] for i in range(0, len(raw) - n + 1, n)]
        return self.cache[key]

    def lumas(self, crop: str, w: int, h: int) -> list[list[float]]:
        key = ("luma", crop, w, h)
        if key not in self.cache:
            self.cache[key] = [luma(f) for f in self.frames(crop, w, h)]
        return self.cache[key]


def best_match(src: Source, crop: str, aw: int, ah: int, pick_luma_small: list[float],
               pick_luma: list[float]) -> tuple[float, float]:
    """(source time, ncc) of the source frame most like the pick: a search over every
    frame at a tiny size, refined at the analysis size around the best."""
    tw, th = max(2, aw // 5), max(2, ah // 5)
    tiny = src.lumas(crop, tw, th)
    scores = [ncc(pick_luma_small, f) for f in tiny]
    k = max(range(len(scores)), key=scores.__getitem__)
    full = src.lumas(crop, aw, ah)
    ks = range(max(0, k - 3), min(len(full), k + 4))
    best = max(ks, key=lambda i: ncc(pick_luma, full[i]))
    return best / SRC_FPS, ncc(pick_luma, full[best])


def check_pick(entry: dict, corpus: Path, src: Source, t: float, image: Path) -> dict:
    """Every per-pick check for one written image reported at time t (seconds from the
    stream's start)."""
    res: dict = {"time": t}
    size = image_size(image)
    if size is None:
        return {"time": t, "error": f"cannot read {image.name}"}
    W, H = size
    res["size"] = [W, H]
    aspect = W / H
    res["aspect"] = {"value": aspect, "ok": within(aspect, entry["aspect"], TOL_ASPECT)}
    aw, ah = analysis_size(entry["aspect"])
    crop = entry["crop"]
    img = decode(image, aw, ah)
    if len(img) != aw * ah * 3:
        return {"time": t, "error": f"cannot decode {image.name}"}
    pl = luma(img)
    small = decode(image, max(2, aw // 5), max(2, ah // 5))
    frames = src.frames(crop, aw, ah)
    lumas = src.lumas(crop, aw, ah)
    n = len(frames)
    st = t + entry["offset"]  # source time
    best_t, best_ncc = best_match(src, crop, aw, ah, luma(small), pl)
    k = int(round(st * SRC_FPS))
    res["match"] = match_time(pl, lumas, k, int(NEAR * SRC_FPS))
    res["match"]["best_dt"] = t - best_t
    # colour and brightness against the source at the pick's moment (when the time check
    # failed: against the source frame the picture really is, so that the two are separate)
    ref = frames[k] if res["match"]["ok"] else frames[int(round(best_t * SRC_FPS))]
    res["ref_at"] = st if res["match"]["ok"] else best_t  # source time of the references
    c_pick, c_ref = colourfulness(img), colourfulness(ref)
    b_pick, b_ref = brightness(img), brightness(ref)
    res["colour"] = {"value": c_pick / c_ref, "pick": c_pick, "ref": c_ref, "ok": within(c_pick, c_ref, TOL_COLOUR)}
    res["bright"] = {"value": b_pick / b_ref, "pick": b_pick, "ref": b_ref, "ok": within(b_pick, b_ref, TOL_BRIGHT)}
    # comb: the written image's centre rows against the same moment decoded by FFmpeg
    # (deinterlaced with bwdif when the file is interlaced), scaled to the image's size
    cw, ch = min(W, CROP_W) // 2 * 2, min(H, CROP_H) // 2 * 2
    window = f"crop={cw}:{ch}:{(W - cw) // 2}:{(H - ch) // 2}"
    pick_gray = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(image), "-vf", window,
                                "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                               capture_output=True).stdout
    deint = ""
    if entry["interlaced"]:
        deint = f"bwdif=mode=send_frame:parity={entry['interlaced']}:deint=all,"
    # decoded from the start and trimmed: -ss lands 0.2-0.4 s late in MPEG-PS (.vob); at
    # the moment the picture really shows when the time check failed (counted there)
    ref_t = max(0.0, res["ref_at"] - entry["offset"])
    ref_gray = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(corpus / entry["name"]), "-vf",
                               f"trim=start={ref_t:.3f},{deint}scale={W}:{H}:flags=bicubic,{window}",
                               "-frames:v", "1",
                               "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True).stdout
    if len(pick_gray) == cw * ch and len(ref_gray) == cw * ch:
        cp, cr = comb_ratio(pick_gray, cw), comb_ratio(ref_gray, cw)
        res["comb"] = {"value": cp, "ref": cr, "ok": comb_ok(cp, cr)}
    else:
        res["comb"] = {"value": None, "ref": None, "ok": False, "why": "cannot decode"}
    res["luma"] = pl
    return res


def check_distinct(picks: list[dict]) -> dict:
    good = [p for p in picks if "luma" in p]
    if len(picks) < 3 or len(good) < 3:
        return {"gap": None, "diff": None, "ok": False, "why": f"{len(good)} picks"}
    gap = min(abs(a["time"] - b["time"]) for i, a in enumerate(good) for b in good[i + 1:])
    diff = min(mean_abs_diff(a["luma"], b["luma"]) for i, a in enumerate(good) for b in good[i + 1:])
    return {"gap": gap, "diff": diff, "ok": gap >= MIN_GAP and diff >= MIN_DIFF}


CHECKS = ("colour", "bright", "comb", "aspect", "match")


# ---- running the methods and the report -------------------------------------------------

KEEPSAKE = "keepsake"
NAIVE = "naive 25/50/75 %"
SECTION_TITLE = "## Formats (issue 12)"
NAIVE_FRACTIONS = (0.25, 0.5, 0.75)


def naive_picks(video: Path, duration: float, out: Path) -> dict:
    """What a naive thumbnailer does: `ffmpeg -ss T -i FILE -frames:v 1` at 25/50/75 % of
    the duration, no tone mapping, deinterlacing or aspect correction (ffmpeg autorotates)."""
    out.mkdir(parents=True, exist_ok=True)
    picks = []
    for i, f in enumerate(NAIVE_FRACTIONS):
        t = duration * f
        img = out / f"naive{i}.jpg"
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", f"{t:.3f}", "-i", str(video),
                        "-frames:v", "1", "-q:v", "3", str(img)], capture_output=True)
        if not img.is_file():
            return {"error": f"ffmpeg wrote no frame at {t:.2f} s"}
        picks.append({"time": t, "path": img})
    return {"picks": picks}


def evaluate(corpus: Path, runs: Path, keepsake_run=None, log=None, only: str | None = None) -> dict:
    """Runs each method on each corpus file and checks its picks. keepsake_run(video, out)
    returns {"picks": [{"time", "path"}], "elapsed"} or {"error"} (evaluate.run_keepsake);
    None leaves Keepsake out."""
    index = json.loads((corpus / "index.json").read_text())
    src = Source(corpus / index["source"])
    methods = ([KEEPSAKE] if keepsake_run else []) + [NAIVE]
    results = {"files": [], "methods": methods}
    for entry in index["files"]:
        if only and only not in entry["name"]:
            continue
        row = {"entry": entry}
        if entry.get("skipped"):
            row["skipped"] = entry["skipped"]
            results["files"].append(row)
            continue
        video = corpus / entry["name"]
        stem = entry["name"].rsplit(".", 1)[0]
        for m in methods:
            t0 = time.monotonic()
            if m == KEEPSAKE:
                r = keepsake_run(video, runs / stem / "keepsake")
            else:
                r = naive_picks(video, entry["facts"]["duration"], runs / stem / "naive")
            if "picks" in r:
                r["checks"] = [check_pick(entry, corpus, src, p["time"], Path(p["path"])) for p in r["picks"]]
                r["distinct"] = check_distinct(r["checks"])
                for c in r["checks"]:
                    c.pop("luma", None)
            r["fails"] = failures(r)
            row[m] = r
            if log:
                log(f"  {entry['name']}: {m}: " + (r.get("error") or
                    (", ".join(f"{c['time']:.2f}" for c in r["checks"]) + " · " +
                     ("all checks pass" if not r["fails"] else "FAILS " + ", ".join(r["fails"]))))
                    + f" ({time.monotonic() - t0:.1f} s)")
        results["files"].append(row)
    return results


CHECK_NAMES = {"colour": "colourfulness", "bright": "brightness", "comb": "combing",
               "aspect": "aspect", "match": "time", "distinct": "three distinct"}


def failures(r: dict) -> list[str]:
    """The checks a method's result fails (all of them when it made no picks)."""
    if "error" in r:
        return list(CHECK_NAMES.values())
    out = []
    for c in CHECKS:
        if any("error" in p or not p[c]["ok"] for p in r["checks"]):
            out.append(CHECK_NAMES[c])
    if not r["distinct"]["ok"]:
        out.append(CHECK_NAMES["distinct"])
    return out


def misses(results: dict) -> list[str]:
    """Keepsake's failed formats checks, one string per file."""
    out = []
    for row in results["files"]:
        r = row.get(KEEPSAKE)
        if r is None:
            continue
        if r.get("error"):
            out.append(f"{row['entry']['name']}: {r['error']}")
        elif r["fails"]:
            out.append(f"{row['entry']['name']}: {', '.join(r['fails'])}")
    return out


def _cell(r: dict, check: str) -> str:
    if "error" in r:
        return "–"
    if check == "distinct":
        d = r["distinct"]
        if d["gap"] is None:
            return f"✗ {d.get('why', '')}"
        return f"{'✓' if d['ok'] else '✗'} {d['gap']:.1f} s, Δ{d['diff']:.0f}"
    vals, ok = [], True
    for p in r["checks"]:
        if "error" in p:
            vals.append("err")
            ok = False
            continue
        c = p[check]
        ok &= c["ok"]
        if check in ("colour", "bright"):
            vals.append(f"{c['value']:.2f}")
        elif check == "comb":
            vals.append("–" if c["value"] is None else f"{c['value']:.2f}/{c['ref']:.2f}")
        elif check == "aspect":
            vals.append(f"{p['size'][0]}×{p['size'][1]}")
        elif check == "match":
            if c["ncc"] is None:
                vals.append(f"outside (pic at {p['time'] - c['best_dt']:.1f})")
            elif c["ok"]:
                vals.append(f"{c['ncc']:.2f}")
            else:
                vals.append(f"{c['ncc']:.2f}≤{c['near']:.2f} (pic at {p['time'] - c['best_dt']:.1f})"
                            if c["near"] is not None and c["ncc"] <= c["near"]
                            else f"{c['ncc']:.2f} (pic at {p['time'] - c['best_dt']:.1f})")
    if check == "aspect" and len(set(vals)) == 1:
        vals = vals[:1]
    return f"{'✓' if ok else '✗'} " + " ".join(vals)


def report(results: dict, corpus: Path, meta: str = "") -> str:
    """The markdown formats section (appended to docs/eval.md); meta: a line saying when,
    where and with which binary it was measured."""
    index = json.loads((corpus / "index.json").read_text())
    rows = results["files"]
    L = [SECTION_TITLE + "\n"]
    if meta:
        L.append(meta + "\n")
    sf = index["source_facts"]
    L.append(f"{len(rows)} files made with the ffmpeg CLI by `tests/eval/formats.py` from one SDR source "
             f"clip ({sf['width']}×{sf['height']}, {sf['r_frame_rate'].split('/')[0]}p, {index['duration']:.0f} s, "
             f"{len(SCENES)} panned scenes: Big Buck Bunny, motorcycle, coffee, astronaut, cat). Every pick is checked against the "
             f"source frame at its reported time; corpus `{corpus.name}`.\n")
    for m in results["methods"]:
        passed = sum(1 for row in rows if m in row and not row[m]["fails"])
        tested = sum(1 for row in rows if m in row)
        n_checks = sum(len(CHECK_NAMES) for row in rows if m in row)
        n_fail = sum(len(row[m]["fails"]) for row in rows if m in row)
        L.append(f"- **{m}**: {passed}/{tested} files pass every check; {n_checks - n_fail}/{n_checks} "
                 f"file checks pass.")
    skipped = [row for row in rows if "skipped" in row]
    for row in skipped:
        L.append(f"- {row['entry']['name']} skipped: {row['skipped']}.")
    L.append("")
    L.append("| file | ffprobe | tests |")
    L.append("|---|---|---|")
    for row in rows:
        e = row["entry"]
        if "facts" not in e:
            continue
        L.append(f"| {e['name']} | {describe_facts(e['facts'], container=False)} | {e['what']} |")
    L.append("")
    for m in results["methods"]:
        L.append(f"### {m}\n")
        L.append("| file | picks (s) | colourfulness | brightness | combing (image/ref) | aspect (w×h) | "
                 "time (ncc) | three distinct | fails |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            if m not in row:
                continue
            r = row[m]
            name = row["entry"]["name"]
            if "error" in r:
                L.append(f"| {name} | error: {r['error']} | – | – | – | – | – | – | all |")
                continue
            picks = ", ".join(f"{c['time']:.2f}" for c in r["checks"])
            cells = [_cell(r, c) for c in ("colour", "bright", "comb", "aspect", "match", "distinct")]
            L.append(f"| {name} | {picks} | " + " | ".join(cells) + f" | {len(r['fails'])} |")
        L.append("")
    miss = misses(results)
    if KEEPSAKE in results["methods"]:
        L.append(f"**Keepsake formats: {'all checks pass' if not miss else 'FAILS: ' + '; '.join(miss)}.**\n")
    L.append("How it is measured (thresholds in `tests/eval/formats.py`, see `tests/eval/README.md`):\n")
    L.append(f"- **colourfulness** (Hasler–Süsstrunk) and **brightness** (mean BT.709 luma) of each picture, "
             f"scaled to {AW} px wide at the file's display aspect, ÷ the same of the SDR source frame at the "
             f"pick's time: pass within ±{TOL_COLOUR:.0%} / ±{TOL_BRIGHT:.0%}. When the time check fails, the "
             f"reference is the source frame the picture really shows (so that a wrong time is not "
             f"counted twice).")
    L.append(f"- **combing**: mean |2·y[r] − y[r−1] − y[r+1]| ÷ mean |2·y[r] − y[r−2] − y[r+2]| over a "
             f"centre window (≤ {CROP_W}×{CROP_H}) of the image at its own size, against the same moment "
             f"decoded by FFmpeg (deinterlaced with `bwdif` when the file is interlaced) scaled to the image's "
             f"size: pass when at most the reference + {TOL_COMB} (reference moment as for colour).")
    L.append(f"- **aspect**: the written image's width/height within ±{TOL_ASPECT:.0%} of the file's display "
             f"aspect (SAR and rotation applied).")
    L.append(f"- **time**: the picture's luma correlates (ncc) at least {NCC_MIN} with the source frame at the "
             f"reported time, and better than with the frames ±{NEAR} s away (scenes pan {PAN} px/s). "
             f"\"pic at\" is the source time the picture best matches.")
    L.append(f"- **three distinct**: three picks, pairwise ≥ {MIN_GAP} s apart and differing by ≥ {MIN_DIFF:.0f} "
             f"(mean |Δluma|, 0–255, at {AW} px).")
    return "\n".join(L) + "\n"

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    try:
        print(build(args.force, args.jobs, log=lambda s: print(s, file=sys.stderr)))
    except RuntimeError as e:
        print(f"formats: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
