#!/usr/bin/env python3
"""Frame-selection quality of `keepsake thumbs` against naive baselines, on the labelled
evaluation set (tests/eval/build_set.py). Prints a markdown report, writes docs/eval.md, and
exits non-zero when Keepsake misses a target (after printing), so a regression is visible.

Why baselines in the same run: the numbers only mean something beside what the common
rules (a frame at 10 % like ffmpegthumbnailer; frames at 25/50/75 %) do on the same videos.

Usage: python3 tests/eval/evaluate.py --keepsake target/release/keepsake
       python3 tests/eval/evaluate.py --baselines-only        (no engine needed)
       python3 tests/eval/evaluate.py --keepsake … --formats-only   (only the formats section,
           tests/eval/formats.py; replaces that section of docs/eval.md) · --no-formats skips it
Python 3 standard library + the ffmpeg/ffprobe CLI only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_set  # noqa: E402
import formats  # noqa: E402

ROOT = build_set.ROOT
RUNS = build_set.CACHE / "runs"
FORMAT_RUNS = build_set.CACHE / "runs-formats"

# A pick counts as bad when its time lies inside a bad stretch widened by MARGIN seconds on
# each side (a cut is a stretch of length zero, so a pick within MARGIN of a cut is bad).
# Why widen, not shrink: a frame next to a boundary is where encoders blend, decoders
# show the previous scene's reference and transitions start; a cover must stay clear of it.
# 0.1 s = 3 frames at 30 fps, small against the 1.5-6 s scenes.
MARGIN = 0.1

TARGETS = {"bad_rate": 0.0, "coverage": 0.95, "face_first": 1.0, "portrait_upright": 1.0}

KEEPSAKE = "keepsake"
NAIVE3 = "naive 25/50/75 %"
NAIVE1 = "naive 10 % (ffmpegthumbnailer's rule)"
METHODS = [KEEPSAKE, NAIVE3, NAIVE1]


# ---- scoring ---------------------------------------------------------------------------

def bad_stretch(labels: dict, t: float) -> dict | None:
    """The bad stretch a pick at time t falls in (with the margin), or None."""
    if t < -MARGIN or t > labels["duration"] + MARGIN:
        return {"kind": "outside", "start": t, "end": t}
    for s in labels["stretches"]:
        if s["start"] - MARGIN <= t <= s["end"] + MARGIN:
            return s
    return None


def scene_at(labels: dict, t: float) -> dict | None:
    for s in labels["scenes"]:
        if s["start"] <= t < s["end"]:
            return s
    return None


def describe(labels: dict, t: float) -> str:
    b = bad_stretch(labels, t)
    if b:
        return f"{t:.2f} **{b['kind']}**"
    s = scene_at(labels, t)
    if s is None:
        return f"{t:.2f} ?"
    return f"{t:.2f} {s['id']}" + (" (face)" if s["faces"] else "")


def upright_image(path: Path, labels: dict) -> tuple[bool, str]:
    """Is a written image portrait-shaped with the planted red band at its top?"""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", str(path)],
                           capture_output=True, text=True)
    try:
        w, h = (int(x) for x in probe.stdout.strip().split(",")[:2])
    except ValueError:
        return False, f"cannot read {path.name}"
    if h <= w:
        return False, f"{path.name} is {w}x{h}, not taller than wide"
    sw = 90
    sh = max(2, int(round(h * sw / w)))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vf",
                          f"scale={sw}:{sh}:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-frames:v", "1", "-"], capture_output=True).stdout
    if len(raw) != sw * sh * 3:
        return False, f"cannot decode {path.name}"
    if not build_set.red_top(raw, sw, labels["marker"]["fraction"]):
        return False, f"{path.name}: the top-edge marker is not at the top (image turned or flipped)"
    return True, ""


def score(labels: dict, picks: list[dict], images: list[Path] | None) -> dict:
    """Per-video metrics for one method's picks (ordered: first = the cover)."""
    bad = [bad_stretch(labels, p["time"]) for p in picks]
    scenes_hit = {scene_at(labels, p["time"])["id"] for p, b in zip(picks, bad)
                  if b is None and scene_at(labels, p["time"])}
    n_scenes = len({s["id"] for s in labels["scenes"]})
    has_faces = any(s["faces"] for s in labels["scenes"])
    first_face = None
    if has_faces:
        first = picks[0] if picks else None
        sc = scene_at(labels, first["time"]) if first else None
        first_face = bool(first and bad[0] is None and sc and sc["faces"])
    upright = None
    why = []
    if labels["portrait"]:
        upright = bool(images)
        for img in images or []:
            ok, reason = upright_image(img, labels)
            if not ok:
                upright = False
                why.append(reason)
    return {
        "picks": len(picks),
        "bad": sum(1 for b in bad if b),
        "bad_kinds": [b["kind"] for b in bad if b],
        "coverage": (len(scenes_hit) / min(3, n_scenes)) if n_scenes else None,
        "first_face": first_face,
        "upright": upright,
        "upright_why": why,
        "described": [describe(labels, p["time"]) for p in picks],
    }


# ---- the methods -----------------------------------------------------------------------

def run_keepsake(binary: Path, video: Path, out: Path, timeout: float, extra: list[str] = ()) -> dict:
    """Runs `keepsake thumbs VIDEO --out DIR --json` per the CLI contract (docs/architecture.md)."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([str(binary), "thumbs", str(video), "--out", str(out), "--json", *extra],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "elapsed": timeout}
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        line = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"error": f"exit {proc.returncode}: {line[:200]}", "elapsed": elapsed}
    try:
        doc = json.loads(proc.stdout)
        frames = sorted(doc["frames"], key=lambda f: f.get("rank", 0))
        picks = [{"time": float(f["time"]), "path": Path(f["path"])} for f in frames]
    except (ValueError, KeyError, TypeError) as e:
        return {"error": f"output is not the contract's JSON ({e}): {proc.stdout[:200]!r}",
                "elapsed": elapsed}
    missing = [str(p["path"]) for p in picks if not p["path"].is_file()]
    if missing:
        return {"error": f"images not written: {missing}", "elapsed": elapsed}
    return {"picks": picks, "elapsed": elapsed, "elapsed_ms": doc.get("elapsed_ms")}


def extract(video: Path, t: float, out: Path) -> Path:
    """A baseline's frame as a player shows it (ffmpeg autorotates)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", f"{t:.3f}", "-i", str(video),
                    "-frames:v", "1", "-q:v", "3", str(out)], check=True, capture_output=True)
    return out


def naive(labels: dict, fractions: list[float], video: Path, out: Path) -> dict:
    picks = [{"time": labels["duration"] * f} for f in fractions]
    if labels["portrait"]:
        for i, p in enumerate(picks):
            p["path"] = extract(video, p["time"], out / f"naive{i}.jpg")
    return {"picks": picks}


# ---- report ----------------------------------------------------------------------------

def aggregate(results: dict, method: str) -> dict:
    rows = [r[method] for r in results.values()]
    ok = [r for r in rows if "error" not in r]
    picks = sum(r["score"]["picks"] for r in ok)
    bad = sum(r["score"]["bad"] for r in ok)
    cov = [r["score"]["coverage"] for r in ok if r["score"]["coverage"] is not None]
    face = [r["score"]["first_face"] for r in ok if r["score"]["first_face"] is not None]
    face_videos = sum(1 for v in results.values() if any(s["faces"] for s in v["labels"]["scenes"]))
    up = [r["score"]["upright"] for r in ok if r["score"]["upright"] is not None]
    portrait_videos = sum(1 for v in results.values() if v["labels"]["portrait"])
    elapsed = [r["elapsed"] for r in ok if r.get("elapsed") is not None]
    return {
        "errors": len(rows) - len(ok),
        "picks": picks, "bad": bad,
        "bad_rate": bad / picks if picks else None,
        "coverage": sum(cov) / len(results) if results else None,  # failed videos count 0
        "face_hits": sum(face), "face_videos": face_videos,
        "face_first": sum(face) / face_videos if face_videos else None,
        "upright_hits": sum(up), "portrait_videos": portrait_videos,
        "portrait_upright": sum(up) / portrait_videos if portrait_videos else None,
        "median_s": statistics.median(elapsed) if elapsed else None,
        "total_s": sum(elapsed) if elapsed else None,
    }


def fmt(x, pct=False, digits=2):
    if x is None:
        return "–"
    return f"{100 * x:.0f} %" if pct else f"{x:.{digits}f}"


def misses(agg: dict) -> list[str]:
    out = []
    if agg["errors"]:
        out.append(f"{agg['errors']} video(s) failed")
    if agg["bad_rate"] is None or agg["bad_rate"] > TARGETS["bad_rate"]:
        out.append(f"bad-pick rate {fmt(agg['bad_rate'], True)} (target 0)")
    if agg["coverage"] is None or agg["coverage"] < TARGETS["coverage"]:
        out.append(f"scene coverage {fmt(agg['coverage'])} (target ≥ 0.95)")
    if agg["face_first"] is None or agg["face_first"] < TARGETS["face_first"]:
        out.append(f"first pick shows a face on {agg['face_hits']}/{agg['face_videos']} face videos")
    if agg["portrait_upright"] is None or agg["portrait_upright"] < TARGETS["portrait_upright"]:
        out.append(f"portrait upright {agg['upright_hits']}/{agg['portrait_videos']}")
    return out


def report(results: dict, methods: list[str], meta: dict) -> str:
    L = []
    L.append("# Frame-selection quality (`make eval`)\n")
    L.append(f"{meta['date']} · {meta['machine']} · commit `{meta['commit']}` · "
             f"{len(results)} videos, {sum(len(v['labels']['scenes']) for v in results.values())} "
             f"labelled scenes, {sum(len(v['labels']['stretches']) for v in results.values())} "
             f"labelled bad stretches · margin ±{MARGIN} s\n")
    kinds: dict[str, int] = {}
    for v in results.values():
        for st in v["labels"]["stretches"]:
            kinds[st["kind"]] = kinds.get(st["kind"], 0) + 1
    L.append("Bad stretches by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
             + f"; {sum(1 for v in results.values() if v['labels']['portrait'])} portrait videos stored "
             f"sideways; codecs {', '.join(sorted({v['labels']['codec'] for v in results.values()}))}; "
             f"containers {', '.join(sorted({v['labels']['container'] for v in results.values()}))}.\n")
    L.append("| method | bad-pick rate | scene coverage | first pick shows a face | portrait upright | median s / video | failed |")
    L.append("|---|---|---|---|---|---|---|")
    for m in methods:
        a = meta["agg"][m]
        L.append(f"| {m} | {fmt(a['bad_rate'], True)} ({a['bad']}/{a['picks']}) | {fmt(a['coverage'])} | "
                 f"{a['face_hits']}/{a['face_videos']} | {a['upright_hits']}/{a['portrait_videos']} | "
                 f"{fmt(a['median_s'])} | {a['errors']} |")
    L.append("")
    L.append(f"Targets for Keepsake: bad-pick rate 0, scene coverage ≥ 0.95, the first pick shows a face "
             f"on every video with face scenes, every portrait image upright.")
    if KEEPSAKE in methods:
        miss = misses(meta["agg"][KEEPSAKE])
        L.append(f"**Keepsake: {'all targets met' if not miss else 'MISSES: ' + '; '.join(miss)}.**")
    L.append("\nThe naive 10 % rule makes one pick, so its scene coverage is at most 1/3 by construction; "
             "baseline times are not measured (their picks are computed from the duration).\n")
    L.append("## Per video\n")
    L.append("Pick times in seconds with what the labels say is there (**bold** = a bad stretch).\n")
    hdr = "| video | codec / container | scenes | " + " | ".join(methods) + " | keepsake s |"
    L.append(hdr)
    L.append("|" + "---|" * (4 + len(methods)))
    for name, v in results.items():
        lab = v["labels"]
        cells = []
        for m in methods:
            r = v[m]
            if "error" in r:
                cells.append(f"error: {r['error']}")
            else:
                c = ", ".join(r["score"]["described"]) or "no picks"
                if r["score"]["upright"] is False:
                    c += " · NOT UPRIGHT: " + "; ".join(r["score"]["upright_why"])
                cells.append(c)
        scenes = len({s["id"] for s in lab["scenes"]})
        faces = sum(1 for s in lab["scenes"] if s["faces"])
        extra = f", portrait (rotation {lab['rotation']})" if lab["portrait"] else ""
        ks = v.get(KEEPSAKE, {}).get("elapsed")
        L.append(f"| {name} | {lab['codec']} / {lab['container']}{extra} | {scenes} ({faces} with faces) | "
                 + " | ".join(cells) + f" | {fmt(ks)} |")
    L.append("")
    L.append("## How it is measured\n")
    L.append("- The set is built by `tests/eval/build_set.py` from registry photos and footage "
             "(see `tests/eval/README.md`); every label is checked against the decoded pixels when "
             "the set is built.")
    L.append(f"- **bad-pick rate**: picks whose `time` lies in a labelled bad stretch (black, fade, "
             f"title, defocus, motion blur, over/under-exposed) widened by ±{MARGIN} s, or within "
             f"±{MARGIN} s of a labelled cut, over all picks.")
    L.append("- **scene coverage**: per video, distinct labelled scenes among the picks (picks in bad "
             "stretches count for none) ÷ min(3, scenes); averaged over videos (a failed video counts 0).")
    L.append("- **first pick shows a face**: on videos with a face scene, the first (rank 1) pick lies in "
             "a face scene and not in a bad stretch.")
    L.append("- **portrait upright**: on portrait videos (stored sideways with a display matrix), every "
             "written image is taller than wide and the red band planted at the top of the upright "
             "picture is at the image's top edge (and at no other edge).")
    L.append("- Keepsake runs `keepsake thumbs VIDEO --out DIR --json` (wall time per video, one run).")
    return "\n".join(L) + "\n"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keepsake", type=Path, help="the keepsake binary (release build)")
    ap.add_argument("--baselines-only", action="store_true", help="score the baselines only")
    ap.add_argument("--write", type=Path, default=ROOT / "docs" / "eval.md",
                    help="where to write the report (default docs/eval.md)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per keepsake run")
    ap.add_argument("--only", help="evaluate only videos whose name contains this")
    ap.add_argument("--keepsake-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `keepsake thumbs` (repeatable), e.g. --keepsake-arg=--candidates=24")
    ap.add_argument("--formats-only", action="store_true",
                    help="run only the formats section (tests/eval/formats.py); it replaces that "
                         "section of the report file and leaves the rest as it is")
    ap.add_argument("--no-formats", action="store_true", help="skip the formats section")
    args = ap.parse_args()
    if args.formats_only and args.no_formats:
        print("evaluate: --formats-only and --no-formats exclude each other", file=sys.stderr)
        return 2
    if not args.baselines_only:
        if args.keepsake is None or not os.access(args.keepsake, os.X_OK):
            print(f"evaluate: keepsake binary not found or not executable: {args.keepsake} "
                  f"(build it with `cargo build --release -p keepsake-cli`, or pass --baselines-only)",
                  file=sys.stderr)
            return 2
    if args.formats_only:
        return formats_main(args)
    try:
        t0 = time.monotonic()
        set_dir = build_set.build()
        print(f"evaluation set: {set_dir} (ready in {time.monotonic() - t0:.1f} s)", file=sys.stderr)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"evaluate: cannot build the evaluation set: {e}", file=sys.stderr)
        return 2
    methods = [NAIVE3, NAIVE1] if args.baselines_only else METHODS
    index = json.loads((set_dir / "index.json").read_text())
    if RUNS.exists():
        shutil.rmtree(RUNS)
    results = {}
    for name in index["videos"]:
        if args.only and args.only not in name:
            continue
        video = set_dir / name
        stem = name.rsplit(".", 1)[0]
        labels = json.loads((set_dir / f"{stem}.labels.json").read_text())
        entry = {"labels": labels}
        out = RUNS / stem
        if KEEPSAKE in methods:
            r = run_keepsake(args.keepsake.resolve(), video, out / "keepsake", args.timeout, args.keepsake_arg)
            if "picks" in r:
                r["score"] = score(labels, r["picks"], [p["path"] for p in r["picks"]])
            entry[KEEPSAKE] = r
            status = r.get("error") or ", ".join(r["score"]["described"])
            print(f"  {name}: keepsake {r['elapsed']:.2f} s: {status}", file=sys.stderr)
        for m, fr in ((NAIVE3, [0.25, 0.5, 0.75]), (NAIVE1, [0.10])):
            r = naive(labels, fr, video, out / ("naive3" if m == NAIVE3 else "naive1"))
            r["score"] = score(labels, r["picks"], [p["path"] for p in r["picks"] if "path" in p])
            entry[m] = r
        results[name] = entry
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "commit": git_commit(),
            "agg": {m: aggregate(results, m) for m in methods}}
    text = report(results, methods, meta)
    formats_miss = []
    if not args.no_formats:
        section, formats_miss, err = run_formats(args)
        if err:
            return err
        if section:
            text += "\n" + section
    if not args.no_write:  # written first, so a closed stdout (| head) cannot lose it
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        print(f"wrote {args.write}", file=sys.stderr)
    try:
        print(text)
    except BrokenPipeError:
        pass
    status = 0
    if KEEPSAKE in methods:
        miss = misses(meta["agg"][KEEPSAKE])
        if miss:
            print("evaluate: Keepsake misses its targets: " + "; ".join(miss), file=sys.stderr)
            status = 1
    if formats_miss:
        print("evaluate: Keepsake fails formats checks: " + "; ".join(formats_miss), file=sys.stderr)
        status = 1
    return status


def run_formats(args) -> tuple[str, list[str], int]:
    """The formats section (tests/eval/formats.py): (markdown, Keepsake's failed checks,
    exit status when the corpus cannot be built, else 0)."""
    log = lambda s: print(s, file=sys.stderr)  # noqa: E731
    try:
        t0 = time.monotonic()
        corpus = formats.build(log=log)
        log(f"formats corpus: {corpus} (ready in {time.monotonic() - t0:.1f} s)")
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"evaluate: cannot build the formats corpus: {e}", file=sys.stderr)
        return "", [], 2
    runner = None
    if not args.baselines_only:
        binary = args.keepsake.resolve()
        runner = lambda video, out: run_keepsake(binary, video, out, args.timeout, args.keepsake_arg)  # noqa: E731
    if FORMAT_RUNS.exists():
        shutil.rmtree(FORMAT_RUNS)
    t0 = time.monotonic()
    results = formats.evaluate(corpus, FORMAT_RUNS, runner, log=log, only=args.only)
    log(f"formats: checked in {time.monotonic() - t0:.1f} s")
    if not results["files"]:
        return "", [], 0
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "crates"],
                           capture_output=True, text=True).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    who = (f"Keepsake `{args.keepsake}`" if runner else "baselines only") + \
        f" · commit `{git_commit()}`" + (" + uncommitted engine changes" if dirty and runner else "")
    return formats.report(results, corpus, f"{when} · {machine()} · {who}"), formats.misses(results), 0


def formats_main(args) -> int:
    """--formats-only: prints the formats section and puts it in place of the report file's
    formats section (appended when it has none), leaving the rest of the report as it is."""
    section, miss, err = run_formats(args)
    if err:
        return err
    if not args.no_write and section:
        old = args.write.read_text() if args.write.is_file() else ""
        head = old.split("\n" + formats.SECTION_TITLE, 1)[0].rstrip("\n")
        text = (head + "\n\n" if head else "") + section
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        print(f"wrote {args.write} (formats section)", file=sys.stderr)
    try:
        print(section)
    except BrokenPipeError:
        pass
    if miss:
        print("evaluate: Keepsake fails formats checks: " + "; ".join(miss), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
