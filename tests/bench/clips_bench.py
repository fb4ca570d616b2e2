#!/usr/bin/env python3
"""Short phone clips: times `keepsake thumbs` against ffmpegthumbnailer (one frame at 10 %)
on 10, 30 and 60-second clips at 1080p H.264 and 4K HEVC (and 30 s of 4K HLG), interleaved
in one run, with each process's peak memory; writes docs/bench-clips.md.

Why: a family album is mostly short phone clips, which the engine used to decode in full
(a 30-second 4K HEVC clip took 30x ffmpegthumbnailer and 517 MiB). Goals (issue 14): each
clip within 5x ffmpegthumbnailer (medians), a worker's peak memory within 300 MiB at 4K.
Python 3 standard library only; the inputs come from tests/bench/prepare_clips.sh.

Usage: tests/bench/clips.sh RELEASE_DIR
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_bench import command, cpu_model, git_commit, keyframes, probe, run_measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CLIPS = ROOT / ".cache" / "media" / "clips"
INPUTS = [
    ("1080p H.264, 10 s", "clip_1080p_10s.mp4"),
    ("1080p H.264, 30 s", "clip_1080p_30s.mp4"),
    ("1080p H.264, 60 s", "clip_1080p_60s.mp4"),
    ("4K HEVC, 10 s", "clip_4k_10s.mov"),
    ("4K HEVC, 30 s", "clip_4k_30s.mov"),
    ("4K HEVC, 60 s", "clip_4k_60s.mov"),
    ("4K HEVC HLG, 30 s", "clip_4k_hlg_30s.mov"),
]
TOOLS = ["keepsake", "ffmpegthumbnailer"]
RATIO_GOAL = 5.0
MEMORY_GOAL_MIB = 300


def measure(tool: str, video: Path, keepsake: Path, timeout: float) -> tuple[float, float, float, str | None]:
    """Runs the tool once under os.wait4, so wall time, CPU time and peak memory are this
    run's own."""
    with tempfile.TemporaryDirectory(prefix="keepsake-clips-") as tmp:
        out = Path(tmp)
        with open(out / "stdout", "wb") as so, open(out / "stderr", "wb") as se:
            measured = run_measured(command(tool, video, out, keepsake), so, se, timeout)
        if measured is None:
            return timeout, 0.0, 0.0, f"timed out after {timeout:.0f} s"
        dt, cpu, peak_mib, returncode = measured
        err = None
        if returncode != 0:
            line = ((out / "stderr").read_text(errors="replace").strip().splitlines() or [""])[-1]
            err = f"exit {returncode}: {line[:160]}"
        elif tool == "keepsake":
            try:
                doc = json.loads((out / "stdout").read_text())
                if len(doc["frames"]) != 3 or not all(Path(f["path"]).is_file() for f in doc["frames"]):
                    err = "keepsake did not write three picks"
            except (ValueError, KeyError, TypeError) as e:
                err = f"output is not the contract's JSON ({e})"
        elif not (out / "x.jpg").is_file():
            err = "no image written"
        return dt, cpu, peak_mib, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keepsake", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--write", type=Path, default=ROOT / "docs" / "bench-clips.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    inputs = [(label, CLIPS / f) for label, f in INPUTS]
    missing = [str(p) for _, p in inputs if not p.is_file()]
    if missing:
        print(f"clips: inputs missing {missing} (run tests/bench/prepare_clips.sh)", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    wall: dict[tuple[str, str], list[float]] = {(l, t): [] for l, _ in inputs for t in TOOLS}
    cpu: dict[tuple[str, str], list[float]] = {(l, t): [] for l, _ in inputs for t in TOOLS}
    peak: dict[tuple[str, str], list[float]] = {(l, t): [] for l, _ in inputs for t in TOOLS}
    errors: dict[tuple[str, str], str] = {}
    for r in range(args.runs):
        for label, video in inputs:
            for tool in (TOOLS if r % 2 == 0 else TOOLS[::-1]):
                dt, c, m, err = measure(tool, video, args.keepsake, args.timeout)
                if err:
                    errors[(label, tool)] = err
                    print(f"  run {r + 1}: {label}: {tool}: {err}", file=sys.stderr)
                    continue
                wall[(label, tool)].append(dt)
                cpu[(label, tool)].append(c)
                peak[(label, tool)].append(m)
                print(f"  run {r + 1}: {label}: {tool}: {dt:.2f} s, {c:.2f} s CPU, {m:.0f} MiB", file=sys.stderr)
    load1 = os.getloadavg()

    def med(d, k):
        return statistics.median(d[k]) if d[k] else None

    def f(x, digits=2):
        return "–" if x is None else f"{x:.{digits}f}"

    commit = git_commit()
    L = ["# Short clips (`make bench`)\n"]
    L.append(f"{started.strftime('%Y-%m-%d %H:%M UTC')} · commit `{commit}` · `nproc` = {os.cpu_count()} · {cpu_model()} · "
             f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end · medians of {args.runs} interleaved runs\n")
    L.append(f"Goals (issue 14): `keepsake thumbs` (three picks, faces on) within {RATIO_GOAL:.0f}× ffmpegthumbnailer "
             f"`-t 10% -s 0` (one frame) on every clip; peak memory within {MEMORY_GOAL_MIB} MiB at 4K.\n")
    L.append("| clip | keepsake (s) | ffmpegthumbnailer (s) | ratio | keepsake CPU (s) | ffmpegthumbnailer CPU (s) | keepsake peak MiB | ffmpegthumbnailer peak MiB | |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    missed = []
    for label, _ in inputs:
        k, t = med(wall, (label, "keepsake")), med(wall, (label, "ffmpegthumbnailer"))
        ratio = k / t if k and t else None
        mem = max(peak[(label, "keepsake")], default=None)
        ok = ratio is not None and ratio <= RATIO_GOAL and (mem is None or "4K" not in label or mem <= MEMORY_GOAL_MIB)
        if not ok:
            missed.append(label)
        L.append(f"| {label} | {f(k)} | {f(t)} | **{f(ratio, 1)}×** | {f(med(cpu, (label, 'keepsake')))} | "
                 f"{f(med(cpu, (label, 'ffmpegthumbnailer')))} | {f(mem, 0)} | {f(max(peak[(label, 'ffmpegthumbnailer')], default=None), 0)} | "
                 f"{'met' if ok else 'MISSED'} |")
    L.append("")
    L.append("- Peak memory is the largest resident set of any run (`wait4`'s `ru_maxrss`), the others medians.")
    L.append("- " + ("Every clip meets both goals." if not missed else "Goals missed on: " + ", ".join(missed) + "."))
    if errors:
        L.append("- Failures: " + "; ".join(f"{l} / {t}: {e}" for (l, t), e in errors.items()))
    L.append("\n## Inputs (`tests/bench/prepare_clips.sh`)\n")
    L.append("| clip | file | stream | keyframes | mean keyframe interval | size |")
    L.append("|---|---|---|---|---|---|")
    for label, video in inputs:
        n, gap = keyframes(video)
        L.append(f"| {label} | `{video.name}` | {probe(video)} | {n} | {gap:.2f} s | {video.stat().st_size / 1e6:.0f} MB |")
    L.append("\nCut from the 10-minute Big Buck Bunny (from 1:00), 30 fps, a keyframe every second as phones "
             "write them; 1080p H.264 at 16 Mbit/s, 4K HEVC at 40 Mbit/s (x265), HLG converted in linear "
             "light with zscale. The shorter clips are the 60-second ones cut at a keyframe.")
    L.append("\n## Every run (wall seconds)\n")
    L.append("| clip | tool | runs |")
    L.append("|---|---|---|")
    for (label, tool), v in wall.items():
        L.append(f"| {label} | {tool} | {', '.join(f'{x:.2f}' for x in v) or '–'} |")
    text = "\n".join(L) + "\n"
    if not args.no_write:
        args.write.write_text(text)
        print(f"wrote {args.write}", file=sys.stderr)
    print(text)
    return 1 if any(t == "keepsake" for (_, t) in errors) else 0


if __name__ == "__main__":
    sys.exit(main())
