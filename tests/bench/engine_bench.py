#!/usr/bin/env python3
"""Times `keepsake thumbs` against ffmpegthumbnailer (one frame at 10 %) and a keyframe-only
ffmpeg decode, on the 10-minute Big Buck Bunny at 720p and 1080p and on a 2-hour file,
interleaved in one run; prints a markdown table and writes it into docs/bench.md.

Why ratios: this machine is small and shared, so absolute seconds drift; tools timed in the
same run, interleaved, suffer the same load and their ratio is what the goals state
(DESIGN.md "Performance goals"). Python 3 standard library only.

Usage: tests/bench/engine.sh RELEASE_DIR   (prepares the inputs, then runs this)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / ".cache" / "media"
INPUTS = [  # (label, file, duration label)
    ("720p, 10 min", "bbb_720p.mp4"),
    ("1080p, 10 min", "bbb_1080p.mp4"),
    ("720p, 2 h (12 × 10 min)", "bbb_2h.mp4"),
]
TOOLS = ["keepsake", "ffmpegthumbnailer", "ffmpeg -skip_frame nokey"]
CPU_SECONDS: list[float] = []  # CPU seconds of the latest runs, appended by time_once


def command(tool: str, video: Path, out: Path, keepsake: Path) -> list[str]:
    if tool == "keepsake":
        return [str(keepsake), "thumbs", str(video), "--out", str(out), "--json"]
    if tool == "ffmpegthumbnailer":
        return ["ffmpegthumbnailer", "-i", str(video), "-o", str(out / "x.jpg"), "-t", "10%", "-s", "0"]
    return ["ffmpeg", "-v", "error", "-nostdin", "-skip_frame", "nokey", "-i", str(video), "-f", "null", "-"]


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def time_once(tool: str, video: Path, keepsake: Path, timeout: float) -> tuple[float, str | None, int | None]:
    """Wall seconds of one run, an error line or None, and the number of picks (keepsake).
    The run's CPU seconds (user + system) are added to CPU_SECONDS."""
    with tempfile.TemporaryDirectory(prefix="keepsake-bench-") as tmp:
        out = Path(tmp)
        c0 = children_cpu()
        t0 = time.monotonic()
        try:
            proc = subprocess.run(command(tool, video, out, keepsake), capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return timeout, f"timed out after {timeout:.0f} s", None
        dt = time.monotonic() - t0
        CPU_SECONDS.append(children_cpu() - c0)
        if proc.returncode != 0:
            line = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            return dt, f"exit {proc.returncode}: {line[:160]}", None
        picks = None
        if tool == "keepsake":
            try:
                doc = json.loads(proc.stdout)
                picks = len(doc["frames"])
                missing = [f["path"] for f in doc["frames"] if not Path(f["path"]).is_file()]
                if missing:
                    return dt, f"images not written: {missing}", picks
            except (ValueError, KeyError, TypeError) as e:
                return dt, f"output is not the contract's JSON ({e})", None
        elif tool == "ffmpegthumbnailer" and not (out / "x.jpg").is_file():
            return dt, "no image written", None
        return dt, None, picks


def run_measured(cmd: list[str], stdout, stderr, timeout: float, sample=None,
                 every: float = 0.5) -> tuple[float, float, float, int] | None:
    """Runs `cmd` once under os.wait4: (wall s, CPU s, peak resident MiB, exit code), all
    this run's own (RUSAGE_CHILDREN only sums them); None when it ran past `timeout` (it
    is killed). CPU includes the descendants the command waited for; the peak is its
    largest single process (the kernel's ru_maxrss), not a sum. `sample(pid)`, when
    given, is called about every `every` seconds while it runs (the album bench sums the
    process tree's memory with it). Shared by the clip, photo and album benches."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
    next_sample = t0
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if sample is not None and time.monotonic() >= next_sample:
            sample(proc.pid)
            next_sample = time.monotonic() + every
        if time.monotonic() > t0 + timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None
        time.sleep(0.005)
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def kept_blocks(path: Path) -> str:
    """Blocks other benches keep in this report (`<!-- NAME -->` … `<!-- /NAME -->`, e.g.
    album_bench.py's summary), carried over when it is rewritten."""
    old = path.read_text() if path.is_file() else ""
    found = [m.group(0) for m in re.finditer(r"<!-- ([a-z-]+) -->\n.*?<!-- /\1 -->", old, re.S)]
    return "".join("\n" + b + "\n" for b in found)


def git_commit() -> str:
    """The checkout's short commit, for the reports."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def keyframes(video: Path) -> tuple[int, float]:
    """Keyframe count and mean interval (s), to show the inputs are comparable."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                          "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(video)],
                         capture_output=True, text=True).stdout
    times = sorted(float(x.strip(", ")) for x in out.split() if x.strip(", ") not in ("", "N/A"))
    gaps = [b - a for a, b in zip(times, times[1:])]
    return len(times), (sum(gaps) / len(gaps) if gaps else 0.0)


def probe(video: Path) -> str:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,width,height:format=duration", "-of", "json", str(video)],
                         capture_output=True, text=True).stdout
    d = json.loads(out)
    s = d["streams"][0]
    return f"{s['codec_name']} {s['width']}x{s['height']}, {float(d['format']['duration']):.0f} s"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keepsake", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--write", type=Path, default=ROOT / "docs" / "bench.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not os.access(args.keepsake, os.X_OK):
        print(f"bench: keepsake binary not found: {args.keepsake}", file=sys.stderr)
        return 2
    if shutil.which("ffmpegthumbnailer") is None:
        print("bench: ffmpegthumbnailer is missing (scripts/setup.sh bench installs it)", file=sys.stderr)
        return 2
    inputs = [(label, MEDIA / f) for label, f in INPUTS]
    missing = [str(p) for _, p in inputs if not p.is_file()]
    if missing:
        print(f"bench: inputs missing {missing} (run tests/bench/prepare_inputs.sh)", file=sys.stderr)
        return 2

    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    times: dict[tuple[str, str], list[float]] = {(l, t): [] for l, _ in inputs for t in TOOLS}
    cpu: dict[tuple[str, str], list[float]] = {(l, t): [] for l, _ in inputs for t in TOOLS}
    errors: dict[tuple[str, str], str] = {}
    picks: dict[str, set] = {l: set() for l, _ in inputs}
    # interleaved: every run times every tool on every input, in rotating order
    for r in range(args.runs):
        for label, video in inputs:
            order = TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]
            for tool in order:
                dt, err, n = time_once(tool, video, args.keepsake, args.timeout)
                if err:
                    errors[(label, tool)] = err
                    print(f"  run {r + 1}: {label}: {tool}: {err}", file=sys.stderr)
                    continue
                times[(label, tool)].append(dt)
                cpu[(label, tool)].append(CPU_SECONDS[-1])
                if n is not None:
                    picks[label].add(n)
                print(f"  run {r + 1}: {label}: {tool}: {dt:.2f} s", file=sys.stderr)
    load1 = os.getloadavg()

    def med(label, tool):
        v = times[(label, tool)]
        return statistics.median(v) if v else None

    def cmed(label, tool):
        v = cpu[(label, tool)]
        return statistics.median(v) if v else None

    def f(x, d=2):
        return "–" if x is None else f"{x:.{d}f}"

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    commit = git_commit()
    L = ["# Engine speed (`make bench`)\n"]
    L.append(f"{started.strftime('%Y-%m-%d %H:%M UTC')} · commit `{commit}` · `nproc` = {os.cpu_count()} · {cpu_model()} · "
             f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end (the machine is shared) · "
             f"medians of {args.runs} interleaved runs, wall seconds\n")
    L.append("| input | keepsake thumbs (3 picks) | ffmpegthumbnailer -t 10% | ffmpeg -skip_frame nokey | "
             "keepsake / ffmpegthumbnailer | keepsake / keyframe decode |")
    L.append("|---|---|---|---|---|---|")
    for label, _ in inputs:
        k, t, n = med(label, "keepsake"), med(label, "ffmpegthumbnailer"), med(label, "ffmpeg -skip_frame nokey")
        kr = ratio(k, t)
        L.append(f"| {label} | {f(k)} | {f(t)} | {f(n)} | **{f(kr, 1)}×** | {f(ratio(k, n), 2)}× |")
    k10, k2h = med(INPUTS[0][0], "keepsake"), med(INPUTS[2][0], "keepsake")
    n10, n2h = med(INPUTS[0][0], "ffmpeg -skip_frame nokey"), med(INPUTS[2][0], "ffmpeg -skip_frame nokey")
    r1080 = ratio(med(INPUTS[1][0], "keepsake"), med(INPUTS[1][0], "ffmpegthumbnailer"))
    r2h = ratio(k2h, k10)
    L.append("")
    L.append(f"- **keepsake, 2 h ÷ 10 min (720p): {f(r2h)}×** (target ≤ 1.5×); a keyframe-only decode "
             f"grows {f(ratio(n2h, n10), 1)}× over the same files.")
    L.append(f"- **keepsake ÷ ffmpegthumbnailer on 1080p: {f(r1080, 1)}×** (target ≤ 5×).")
    verdicts = []
    if r1080 is not None:
        verdicts.append(f"1080p ratio {'meets' if r1080 <= 5 else 'MISSES'} the ≤ 5× goal")
    if r2h is not None:
        verdicts.append(f"2 h growth {'meets' if r2h <= 1.5 else 'MISSES'} the ≤ 1.5× goal")
    if verdicts:
        L.append("- " + "; ".join(verdicts) + ".")
    if errors:
        L.append("- Failures: " + "; ".join(f"{l} / {t}: {e}" for (l, t), e in errors.items()))
    for label, _ in inputs:
        if picks[label] and picks[label] != {3}:
            L.append(f"- keepsake returned {sorted(picks[label])} picks on {label} (expected 3).")
    L.append("\n### CPU seconds (user + system), medians\n")
    L.append("On a shared, overloaded machine wall time includes waiting for a core; CPU time "
             "does not, so this table is the steadier of the two.\n")
    L.append("| input | keepsake | ffmpegthumbnailer | ffmpeg -skip_frame nokey | keepsake / ffmpegthumbnailer |")
    L.append("|---|---|---|---|---|")
    for label, _ in inputs:
        k, t, n = cmed(label, "keepsake"), cmed(label, "ffmpegthumbnailer"), cmed(label, "ffmpeg -skip_frame nokey")
        L.append(f"| {label} | {f(k)} | {f(t)} | {f(n)} | {f(ratio(k, t), 1)}× |")
    L.append("\n## Inputs\n")
    L.append("| input | file | stream | keyframes | mean keyframe interval |")
    L.append("|---|---|---|---|---|")
    for label, video in inputs[:2]:
        n, gap = keyframes(video)
        L.append(f"| {label} | `.cache/media/{video.name}` | {probe(video)} | {n} | {gap:.2f} s |")
    L.append(f"| {inputs[2][0]} | `.cache/media/{inputs[2][1].name}` | {probe(inputs[2][1])} | "
             f"12 × the 720p file's | same as 720p |")
    L.append("\nThe 720p file is moviepy 2.2.1's `bbb.mp4` (x264, 24 fps, keyframes every 3.2 s on "
             "average, at most 5.5 s apart). The 1080p file is made once from it by "
             "`tests/bench/prepare_inputs.sh`: `scale=1920:1080`, x264 `-preset veryfast -crf 20 -g 132` "
             "(132 frames = 5.5 s, the original's longest keyframe interval, with x264's scene-cut "
             "keyframes in between, so the keyframe spacing is comparable). The 2-hour file is the "
             "720p file concatenated 12 times with the concat demuxer and `-c copy`.")
    L.append("\n## Every run (seconds)\n")
    L.append("| input | tool | runs |")
    L.append("|---|---|---|")
    for (label, tool), v in times.items():
        L.append(f"| {label} | {tool} | {', '.join(f'{x:.2f}' for x in v) or '–'} |")
    text = "\n".join(L) + "\n"
    if not args.no_write:  # written first, so a closed stdout (| head) cannot lose it
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text + kept_blocks(args.write))
        print(f"wrote {args.write}", file=sys.stderr)
    try:
        print(text)
    except BrokenPipeError:
        pass
    return 1 if any(t == "keepsake" for (_, t) in errors) else 0


if __name__ == "__main__":
    sys.exit(main())
