#!/usr/bin/env python3
"""Photo grid copies: times `keepsake thumbnail PHOTO --max-side 512` (the app's photo
path: `keepsake-imaging` for JPEG, libheif for HEIC) against `vipsthumbnail PHOTO -s 512`
on camera-like 12-MP and 48-MP JPEGs and a 12-MP HEIC, interleaved, medians, with each
run's CPU and peak memory; writes docs/bench-photos.md. Goals: JPEG within 1.5x
vipsthumbnail (issue 14), HEIC within 2x (issue 13; libvips reads HEIC through the same
libheif).

The photos are made once into .cache/media/photos/ from the registry photos with the
ffmpeg CLI: upscaled and given film-grain noise so they compress like real photos
(5-7 bits a pixel at q 3), not like smooth upscales; the HEIC is that 12-MP JPEG through
heif-enc (x265) at a phone's size (4032x3024).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_bench import cpu_model, git_commit, run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / ".cache" / "media" / "photos"
# (label, file, registry source, size, goal as a multiple of vipsthumbnail)
INPUTS = [("12 MP JPEG (4000×3000)", "photo_12mp.jpg", "coffee.png", "4000:3000", 1.5),
          ("48 MP JPEG (8000×6000)", "photo_48mp.jpg", "chelsea.png", "8000:6000", 1.5),
          ("12 MP HEIC (4032×3024)", "photo_12mp.heic", "coffee.png", "4032:3024", 2.0)]


def make_photo(source: str, size: str, out: Path, seed: int | None = None) -> None:
    """A camera-like JPEG at `out` (written as .part, renamed when complete): the registry
    photo `tests/media/SOURCE` scaled to SIZE ("W:H") with film-grain noise, q 3. `seed`
    varies the noise (ffmpeg's `all_seed`), so photos made from one source differ in
    every block; shared with album_bench.py."""
    part = out.with_name(out.name + ".part.jpg")
    noise = "noise=alls=14:allf=t" + (f":all_seed={seed}" if seed is not None else "")
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(ROOT / "tests" / "media" / source),
                    "-vf", f"scale={size},{noise}", "-q:v", "3", str(part)], check=True)
    part.rename(out)


def prepare() -> None:
    PHOTOS.mkdir(parents=True, exist_ok=True)
    for _, name, source, size, _ in INPUTS:
        out = PHOTOS / name
        if out.is_file():
            continue
        jpeg = out.with_suffix(".part.jpg")
        make_photo(source, size, jpeg)
        if out.suffix == ".heic":
            part = out.with_suffix(".part.heic")
            subprocess.run(["heif-enc", "-q", "60", str(jpeg), "-o", str(part)], check=True, stdout=subprocess.DEVNULL)
            jpeg.unlink()
            part.rename(out)
        else:
            jpeg.rename(out)


def run(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MiB) of one run; a failure or a hang ends the bench."""
    with tempfile.TemporaryFile() as err:
        measured = run_measured(cmd, subprocess.DEVNULL, err, 300.0)
        if measured is None or measured[3] != 0:
            err.seek(0)
            raise SystemExit(f"photos: {' '.join(cmd)} failed or hung: {err.read().decode(errors='replace')[-300:]}")
    return measured[:3]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keepsake", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", type=Path, default=ROOT / "docs" / "bench-photos.md")
    args = ap.parse_args()
    prepare()
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    res: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="keepsake-photos-") as tmp:
        for r in range(args.runs):
            for label, name, _, _, _ in INPUTS:
                photo = PHOTOS / name
                tools = {"keepsake": [str(args.keepsake), "thumbnail", str(photo), "--out", f"{tmp}/k.jpg", "--max-side", "512"],
                         "vipsthumbnail": ["vipsthumbnail", str(photo), "-s", "512", "-o", f"{tmp}/v.jpg"]}
                for tool in (list(tools) if r % 2 == 0 else list(tools)[::-1]):
                    res.setdefault((label, tool), []).append(run(tools[tool]))
    load1 = os.getloadavg()
    med = lambda label, tool, i: statistics.median(x[i] for x in res[(label, tool)])  # noqa: E731
    commit = git_commit()
    L = ["# Photo grid copies (`make bench`)\n",
         f"{started.strftime('%Y-%m-%d %H:%M UTC')} · commit `{commit}` · `nproc` = {os.cpu_count()} · {cpu_model()} · "
         f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end · medians of {args.runs} interleaved runs\n",
         "A 512-px copy, as the grid asks for. Goals: JPEG within 1.5× vipsthumbnail (libvips's shrink-on-load; "
         "issue 14), HEIC within 2× (issue 13).\n",
         "| photo | keepsake thumbnail (s) | vipsthumbnail (s) | ratio | keepsake CPU (s) | vips CPU (s) | keepsake peak MiB | vips peak MiB | |",
         "|---|---|---|---|---|---|---|---|---|"]
    for label, name, _, _, goal in INPUTS:
        k, v = med(label, "keepsake", 0), med(label, "vipsthumbnail", 0)
        ratio = k / v
        L.append(f"| {label} | {k:.3f} | {v:.3f} | **{ratio:.2f}×** | {med(label, 'keepsake', 1):.3f} | {med(label, 'vipsthumbnail', 1):.3f} | "
                 f"{max(x[2] for x in res[(label, 'keepsake')]):.0f} | {max(x[2] for x in res[(label, 'vipsthumbnail')]):.0f} | "
                 f"{'met' if ratio <= goal else 'MISSED'} |")
    L.append("\nJPEGs are decoded at the smallest DCT scale whose picture still covers the copy "
             "(1/4 for 512 px from 12 MP, 1/8 from 48 MP), as libvips does; other formats decode in full. "
             "HEIC has no such shortcut: both tools decode every pixel through libheif and libde265, then shrink. "
             f"Inputs: `.cache/media/photos/` ({', '.join(f'{n} {(PHOTOS / n).stat().st_size / 1e6:.1f} MB' for _, n, _, _, _ in INPUTS)}).")
    text = "\n".join(L) + "\n"
    args.write.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
