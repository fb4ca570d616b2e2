#!/usr/bin/env python3
"""Mutation corpus: damaged photos and videos through the library (issue #15).

Takes real media -- the registry videos and photos in `tests/media/`, plus a HEVC `.mov`,
an MPEG-TS, a HEIC, an AVIF, a TIFF and a BMP made here with real encoders (FFmpeg,
libheif's `heif-enc`, ImageMagick; cached in `.cache/corpus/`) -- and makes `--count`
damaged copies of them, deterministic from `--seed`: truncated at several fractions,
bytes flipped in the header (first 4 KiB) and in the payload, zeroed ranges, a chunk
duplicated or chunks shuffled, a wrong extension (a JPEG named `.mp4`, an MP4 named
`.heic`, a PNG named `.HEIC`, ...), zero bytes, and a huge declared size (an ISO BMFF
box or sample table, PNG/JPEG/BMP/TIFF dimensions).

The whole corpus then goes, in a fresh data directory (`KEEPSAKE_DATA_DIR`), through
`keepsake add`, `keepsake analyze` (the videos' jobs, in worker processes) and `keepsake
thumbnails` (every photo's grid copy through `Library::image_path`, the path the app's
`keepsake://` protocol takes: in-process decoders, HEIF in a helper worker), each under a
timeout, and the run checks:

* every file ends `ready` or `failed` with a non-empty one-line reason (`keepsake ls
  --json`); a photo counts as ready when it got its thumbnail. A damaged `.ts` that no
  longer looks like a transport stream is not indexed at all (by design) and counts as
  `skipped`;
* no command panics or dies by a signal (exit status 0 or 1, no "panicked" on stderr),
  and no file's reason says a worker crashed (signal, abort, panic) or hung (a worker
  killed at its job's deadline), and no command runs past its own timeout;
* no `keepsake worker` of this run is alive a moment after the last command;
* `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` is empty.

It prints a summary and exits non-zero when any of these fails. `make test` runs a small
corpus (`make test-corpus`: the default 100 files, about 15 s with the debug binary on two
cores) and writes nothing in the work tree but `.cache/`; `make corpus` runs 400 files with
the release binary and writes the report, `docs/corpus.md` (`--write`). `--keep DIR` makes
the corpus and the data directory in DIR and keeps them, to look at a failure.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "tests" / "media"
CACHE = ROOT / ".cache" / "corpus"

# A job's fixed deadline in the corpus run (the analyzer adds 2 s per second of video).
JOB_TIMEOUT_S = 30
# Reasons that mean a decoder crashed or hung rather than refusing the file.
CRASHED = re.compile(r"crashed|aborted|SIGSEGV|SIGABRT|SIGBUS|killed by signal|was killed|panicked|status 101")
HUNG = re.compile(r"hung|no answer within|did not exit")

KINDS = [
    "truncate", "flip-header", "flip-payload", "zero-range", "zero-header",
    "dup-chunk", "shuffle-chunks", "wrong-ext", "zero-byte", "huge-size",
]
TRUNCATE_AT = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
# The extension a file gets when it lies about what it is, by its real format.
WRONG_EXT = {
    "jpg": ".mp4", "mp4": ".heic", "png": ".HEIC", "mov": ".jpg", "ts": ".png",
    "heic": ".mp4", "avif": ".png", "tif": ".jpg", "bmp": ".mov",
}
HEADER = 4096


# ---- sources ---------------------------------------------------------------------------

def run_tool(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


def generated_sources(notes: list[str]) -> list[Path]:
    """The sources made with real encoders, cached by name (delete the cache to remake)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    recipes = {
        "bunny_hevc.mov": ["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "bigbuckbunny_5s.mp4"), "-t", "3",
                           "-vf", "scale=640:-2", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                           "log-level=error", "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "64k"],
        "carphone.ts": ["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "carphone.mp4"), "-c:v", "libx264",
                        "-preset", "ultrafast", "-f", "mpegts"],
        "rocket.heic": ["heif-enc", "-q", "60", str(MEDIA / "rocket.jpg"), "-o"],
        "rocket.avif": ["heif-enc", "-A", "-q", "60", str(MEDIA / "rocket.jpg"), "-o"],
        "chelsea.tif": ["convert", str(MEDIA / "chelsea.png")],
        "coffee.bmp": ["convert", str(MEDIA / "coffee.png")],
    }
    out = []
    for name, cmd in recipes.items():
        dest = CACHE / name
        if not dest.is_file():
            if shutil.which(cmd[0]) is None:
                notes.append(f"{name}: not made ({cmd[0]} is not installed)")
                continue
            part = dest.with_name(f"{dest.stem}.part{dest.suffix}")
            try:
                run_tool(cmd + [str(part)])
                part.rename(dest)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
                err = getattr(e, "stderr", b"") or b""
                notes.append(f"{name}: not made ({e}; {err.decode(errors='replace').strip()[:200]})")
                part.unlink(missing_ok=True)
                continue
        out.append(dest)
    return out


def all_sources(notes: list[str]) -> list[Path]:
    real = sorted(p for p in MEDIA.glob("*") if p.suffix.lower() in (".mp4", ".png", ".jpg"))
    if not real:
        raise SystemExit(f"no media in {MEDIA}: run scripts/setup.sh test first")
    return real + generated_sources(notes)


def fmt(src: Path) -> str:
    return src.suffix.lower().lstrip(".")


# ---- mutations -------------------------------------------------------------------------

def flip(data: bytearray, rng: random.Random, lo: int, hi: int, n: int) -> str:
    hi = min(hi, len(data))
    if hi <= lo:
        return "nothing to flip"
    for _ in range(n):
        data[rng.randrange(lo, hi)] ^= rng.randrange(1, 256)
    return f"{n} bytes in [{lo}, {hi})"


def payload_start(data: bytes) -> int:
    return HEADER if len(data) > 2 * HEADER else len(data) // 2


def bmff_huge(data: bytearray, rng: random.Random) -> str | None:
    """A sample table, image extent, duration or top-level box of an ISO BMFF file declared huge."""
    choices = []
    fields = ((b"stsz", 16), (b"stco", 12), (b"stts", 12), (b"stsc", 12), (b"ispe", 12), (b"ispe", 16),
              (b"mvhd", 24), (b"mdhd", 24))
    for box, field in fields:
        at = data.find(box)
        # mvhd/mdhd: version 0 only (32-bit times; the duration follows the timescale).
        if at >= 4 and at + field + 4 <= len(data) and (box not in (b"mvhd", b"mdhd") or data[at + 4] == 0):
            choices.append((f"{box.decode()}+{field}", at - 4 + field))
    at, tops = 0, []
    while at + 8 <= len(data):
        size = struct.unpack(">I", data[at:at + 4])[0]
        if data[at + 4:at + 8] != b"ftyp":
            tops.append((f"box {data[at + 4:at + 8].decode(errors='replace')} size", at))
        if size < 8:
            break
        at += size
    choices += tops
    if not choices:
        return None
    what, where = rng.choice(choices)
    data[where:where + 4] = struct.pack(">I", rng.choice([0x7FFFFFFF, 0xFFFFFFF0, 0x40000000]))
    return what


def png_huge(data: bytearray, rng: random.Random) -> str | None:
    if data[12:16] != b"IHDR":
        return None
    w, h = rng.choice([(0x7FFFFFFF, 0x7FFFFFFF), (1, 0x7FFFFFFF), (100000, 100000)])
    data[16:24] = struct.pack(">II", w, h)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # a valid CRC: only the size lies
    return f"IHDR {w}x{h}"


def jpeg_huge(data: bytearray, rng: random.Random) -> str | None:
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        at = data.find(marker)
        if at > 0 and at + 9 <= len(data):
            data[at + 5:at + 9] = struct.pack(">HH", 0xFFFF, 0xFFFF)
            return "SOF 65535x65535"
    return None


def bmp_huge(data: bytearray, rng: random.Random) -> str | None:
    if data[:2] != b"BM" or len(data) < 26:
        return None
    data[18:26] = struct.pack("<ii", rng.choice([0x7FFFFFFF, 100000]), rng.choice([0x7FFFFFFF, -100000]))
    return "BITMAPINFOHEADER width/height"


def tiff_huge(data: bytearray, rng: random.Random) -> str | None:
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[:2]))
    if order is None or len(data) < 8:
        return None
    ifd = struct.unpack(order + "I", data[4:8])[0]
    if ifd + 2 > len(data):
        return None
    done = []
    for i in range(struct.unpack(order + "H", data[ifd:ifd + 2])[0]):
        e = ifd + 2 + 12 * i
        if e + 12 > len(data):
            break
        tag, typ = struct.unpack(order + "HH", data[e:e + 4])
        if tag in (256, 257):
            value = struct.pack(order + "H", 0xFFFF) + b"\0\0" if typ == 3 else struct.pack(order + "I", 0x7FFFFFFF)
            data[e + 8:e + 12] = value
            done.append(str(tag))
    return f"IFD tags {','.join(done)}" if done else None


HUGE = {"mp4": bmff_huge, "mov": bmff_huge, "heic": bmff_huge, "avif": bmff_huge, "png": png_huge,
        "jpg": jpeg_huge, "bmp": bmp_huge, "tif": tiff_huge}


def applicable(kind: str, src: Path) -> bool:
    if kind == "huge-size":
        return fmt(src) in HUGE
    if kind == "wrong-ext":
        return fmt(src) in WRONG_EXT
    return True


def mutate(kind: str, src: Path, data: bytes, rng: random.Random) -> tuple[bytes, str, str]:
    """The damaged bytes, the extension to give them and what was done, in words."""
    d = bytearray(data)
    ext = src.suffix
    p = payload_start(d)
    if kind == "truncate":
        frac = rng.choice(TRUNCATE_AT)
        d = d[:max(1, int(len(d) * frac))]
        what = f"first {frac:.0%} ({len(d)} bytes)"
    elif kind == "flip-header":
        what = flip(d, rng, 0, HEADER, rng.randint(1, 16))
    elif kind == "flip-payload":
        what = flip(d, rng, p, len(d), rng.randint(1, 64))
    elif kind == "zero-range":
        n = rng.randint(1, max(1, (len(d) - p) // 8))
        at = rng.randrange(p, max(p + 1, len(d) - n))
        d[at:at + n] = bytes(len(d[at:at + n]))
        what = f"{n} bytes at {at}"
    elif kind == "zero-header":
        n = rng.randint(8, 512)
        at = rng.randrange(0, max(1, min(HEADER, len(d)) - n))
        d[at:at + n] = bytes(len(d[at:at + n]))
        what = f"{n} bytes at {at}"
    elif kind == "dup-chunk":
        n = rng.randint(16, max(16, len(d) // 10))
        at = rng.randrange(0, max(1, len(d) - n))
        to = rng.randrange(0, len(d))
        d[to:to] = d[at:at + n]
        what = f"{n} bytes from {at} copied to {to}"
    elif kind == "shuffle-chunks":
        parts = rng.randint(3, 8)
        body = d[p:]
        step = max(1, len(body) // parts)
        chunks = [body[i:i + step] for i in range(0, len(body), step)]
        rng.shuffle(chunks)
        d = d[:p] + b"".join(chunks)
        what = f"payload in {len(chunks)} chunks, shuffled"
    elif kind == "wrong-ext":
        ext = WRONG_EXT[fmt(src)]
        what = f"{src.suffix} named {ext}"
    elif kind == "zero-byte":
        d = bytearray()
        what = "empty"
    elif kind == "huge-size":
        what = HUGE[fmt(src)](d, rng) or "no size field found (unchanged)"
    else:
        raise ValueError(kind)
    return bytes(d), ext, what


def make_corpus(sources: list[Path], count: int, seed: int, album: Path) -> list[dict]:
    """`count` damaged files in `album`: the i-th is mutation KINDS[i % 10]; each mutation
    takes the sources it applies to in turn, from its own starting point, so a small
    corpus still covers every mutation and every source, and a large one every pair."""
    album.mkdir(parents=True, exist_ok=True)
    cache: dict[Path, bytes] = {}
    files = []
    for i in range(count):
        j = i % len(KINDS)
        kind = KINDS[j]
        fit = [s for s in sources if applicable(kind, s)]
        src = fit[(i // len(KINDS) + 5 * j) % len(fit)]
        if src not in cache:
            cache[src] = src.read_bytes()
        rng = random.Random(f"{seed}:{i}")
        data, ext, what = mutate(kind, src, cache[src], rng)
        name = f"{i:04d}_{src.stem}_{fmt(src)}_{kind}{ext}"
        (album / name).write_bytes(data)
        files.append({"name": name, "source": src.name, "kind": kind, "what": what, "size": len(data)})
    return files


# ---- running keepsake ------------------------------------------------------------------

class Runner:
    def __init__(self, keepsake: Path, data: Path):
        self.keepsake = keepsake
        self.env = dict(os.environ)
        self.env.update({
            "KEEPSAKE_DATA_DIR": str(data),
            "KEEPSAKE_JOB_TIMEOUT_S": str(JOB_TIMEOUT_S),
            "KEEPSAKE_JOB_ATTEMPTS": "2",
            "KEEPSAKE_RETRY_BACKOFF_MS": "50",
            "RUST_BACKTRACE": "1",
        })
        self.env.pop("KEEPSAKE_WORKER", None)
        self.commands: list[dict] = []

    def __call__(self, *args: str, timeout: float) -> dict:
        start = time.monotonic()
        proc = subprocess.Popen([str(self.keepsake), *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        rec = {"args": list(args), "rc": proc.returncode, "timed_out": timed_out, "timeout": timeout,
               "seconds": time.monotonic() - start, "stdout": out.decode(errors="replace"),
               "stderr": err.decode(errors="replace")}
        self.commands.append(rec)
        return rec


def workers_alive(keepsake: Path, data: Path) -> list[str]:
    """`keepsake worker` processes of this run (same binary, same data directory)."""
    exe = os.path.realpath(keepsake)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            link = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if link == exe and argv[1:2] == [b"worker"] and f"KEEPSAKE_DATA_DIR={data}".encode() in environ:
            found.append(f"pid {pid}: {b' '.join(argv).decode(errors='replace')}")
    return found


def db_checks(db: Path) -> list[str]:
    problems = []
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if rows != ["ok"]:
                problems.append(f"integrity_check: {'; '.join(map(str, rows))[:500]}")
            fks = conn.execute("PRAGMA foreign_key_check").fetchall()
            if fks:
                problems.append(f"foreign_key_check: {len(fks)} rows, e.g. {fks[:3]}")
        finally:
            conn.close()
    except sqlite3.Error as e:
        problems.append(f"cannot check {db}: {e}")
    return problems


def reason_key(reason: str, album: Path) -> str:
    """A reason with the run's paths, file names and numbers taken out, to count alike ones."""
    r = reason.replace(str(album) + "/", "").replace(str(album), "<album>")
    r = re.sub(r"\d{4}_[\w.-]+", "<file>", r)
    r = re.sub(r"\d+", "N", r)
    return r.replace("\n", "⏎")[:140]  # a line break shown, not taken


def classify(files: list[dict], ls: list[dict], thumbs: list[dict], album: Path, problems: list[str]) -> None:
    by_name = {Path(m["path"]).name: m for m in ls}
    thumb_by_name = {Path(t["path"]).name: t for t in thumbs}
    for f in files:
        m = by_name.get(f["name"])
        f["reason"] = None
        if m is None:
            if f["name"].lower().endswith(".ts"):
                f["outcome"] = "skipped"  # no longer a transport stream: not media, by design
            else:
                f["outcome"] = "lost"
                problems.append(f"{f['name']}: not indexed")
            continue
        f["kind_indexed"] = m["kind"]
        state, error = m["state"], m.get("error")
        t = thumb_by_name.get(f["name"])
        if state == "failed":
            f["outcome"], f["reason"] = "failed", error
            if not error or not error.strip() or "\n" in error:
                problems.append(f"{f['name']}: failed without a one-line reason: {error!r}")
        elif m["kind"] == "photo" and state in ("ready", "pending"):
            if t is not None and t.get("thumbnail"):
                f["outcome"] = "ready"
            else:
                f["outcome"] = "lost"
                problems.append(f"{f['name']}: photo {state} but no thumbnail ({t})")
        elif m["kind"] == "video" and state == "ready":
            f["outcome"] = "ready"
        else:
            f["outcome"] = "lost"
            problems.append(f"{f['name']}: {m['kind']} left {state} ({error})")
        if f["reason"] and CRASHED.search(f["reason"]):
            f["outcome"] = "crashed"
            problems.append(f"{f['name']}: crashed: {f['reason']}")
        elif f["reason"] and HUNG.search(f["reason"]):
            f["outcome"] = "hung"
            problems.append(f"{f['name']}: hung: {f['reason']}")
        if f["reason"]:
            f["reason_key"] = reason_key(f["reason"], album)


def check_command(rec: dict, problems: list[str], allowed=(0, 1)) -> None:
    cmd = "keepsake " + " ".join(rec["args"])
    if rec["timed_out"]:
        problems.append(f"`{cmd}` ran past its {rec['timeout']:.0f} s timeout (hung) and was killed")
    elif rec["rc"] < 0:
        problems.append(f"`{cmd}` died by signal {-rec['rc']} ({signal.Signals(-rec['rc']).name})")
    elif rec["rc"] not in allowed:
        problems.append(f"`{cmd}` exited {rec['rc']}: {rec['stderr'].strip()[-600:]}")
    if "panicked" in rec["stderr"]:
        at = rec["stderr"].index("panicked")
        problems.append(f"`{cmd}` panicked: {rec['stderr'][max(0, at - 200):at + 1500]}")


# ---- report ----------------------------------------------------------------------------

OUTCOMES = ["ready", "failed", "skipped", "crashed", "hung", "lost"]


def table(files: list[dict], key: str) -> list[str]:
    groups: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for f in files:
        groups[f[key]][f["outcome"]] += 1
    head = f"| {key} | files | " + " | ".join(OUTCOMES) + " |"
    lines = [head, "|" + "---|" * (len(OUTCOMES) + 2)]
    for g in sorted(groups):
        c = groups[g]
        lines.append(f"| {g} | {sum(c.values())} | " + " | ".join(str(c[o]) for o in OUTCOMES) + " |")
    total = collections.Counter(f["outcome"] for f in files)
    lines.append(f"| **all** | **{len(files)}** | " + " | ".join(f"**{total[o]}**" for o in OUTCOMES) + " |")
    return lines


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(args, files, runner, problems, notes, sources, seconds, left, db) -> str:
    reasons = collections.Counter(f["reason_key"] for f in files if f.get("reason_key"))
    kinds_text = {
        "truncate": "cut at " + ", ".join(f"{x:.0%}" for x in TRUNCATE_AT) + " of the file (one at random)",
        "flip-header": "1-16 bytes XORed in the first 4 KiB",
        "flip-payload": "1-64 bytes XORed after the first 4 KiB",
        "zero-range": "a range of up to 1/8 of the payload zeroed",
        "zero-header": "8-512 bytes zeroed in the first 4 KiB",
        "dup-chunk": "a chunk (16 bytes to 1/10 of the file) copied into a random place",
        "shuffle-chunks": "the payload cut in 3-8 chunks, shuffled",
        "wrong-ext": "intact, named as another format: " + ", ".join(f"{k}→{v}" for k, v in WRONG_EXT.items()),
        "zero-byte": "an empty file with the source's extension",
        "huge-size": "ISO BMFF box size, stsz/stco/stts/stsc counts, ispe extent, mvhd/mdhd duration; "
                     "PNG IHDR (valid CRC), JPEG SOF, BMP and TIFF dimensions",
    }
    out = [
        "# Mutation corpus",
        "",
        "Damaged photos and videos through `keepsake add`, `keepsake analyze` and `keepsake thumbnails`",
        "(the app's photo thumbnail path, `Library::image_path`), made and checked by",
        "`tests/corpus/corpus.py` (`make corpus`; `make test` runs a smaller corpus and writes no report).",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Commit: {git_commit()}",
        f"- Binary: `{os.path.relpath(args.keepsake, ROOT)}`; seed {args.seed}; {len(files)} files from "
        f"{len(sources)} sources; job deadline {JOB_TIMEOUT_S} s + 2 s per second of video; {seconds:.0f} s in all",
        f"- Result: **{'all invariants hold' if not problems else f'{len(problems)} invariant failure(s)'}**",
        "",
        "Outcomes: *ready* (a video analysed, a photo with its thumbnail), *failed* (with a one-line reason),",
        "*skipped* (a damaged `.ts` that is no longer a transport stream is not media, by design),",
        "*crashed* (a worker or the CLI died by a signal or panicked), *hung* (killed at a deadline),",
        "*lost* (indexed but left neither ready nor failed, or not indexed at all).",
        "",
        "## By mutation",
        "",
        *table(files, "kind"),
        "",
        "| mutation | what it does |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in kinds_text.items()),
        "",
        "## By source",
        "",
        *table(files, "source"),
        "",
        "## Most common reasons",
        "",
        "Paths, corpus file names and numbers are masked (`<file>`, `N`).",
        "",
        "| files | reason |",
        "|---|---|",
        *(f"| {n} | {r.replace('|', '/')} |" for r, n in reasons.most_common(15)),
        "",
        "## Checks",
        "",
    ]
    work = str(runner.env["KEEPSAKE_DATA_DIR"]).removesuffix("/data")
    for rec in runner.commands:
        state = "killed at timeout" if rec["timed_out"] else f"exit {rec['rc']}"
        panics = " (panicked)" if "panicked" in rec["stderr"] else ""
        shown = " ".join(rec["args"]).replace(work, "<tmp>")
        out.append(f"- `keepsake {shown}`: {state}{panics}, {rec['seconds']:.1f} s")
    total = collections.Counter(f["outcome"] for f in files)
    one_line = sum(1 for f in files if f["reason"] and (not f["reason"].strip() or "\n" in f["reason"]))
    out += [
        f"- Files crashed: {total['crashed']}; hung: {total['hung']}; left neither ready nor failed: {total['lost']}",
        f"- Failed without a one-line reason: {one_line}",
        f"- `keepsake worker` processes left behind: {len(left)}",
        f"- Database: {'; '.join(db) if db else '`PRAGMA integrity_check` ok, `foreign_key_check` empty'}",
    ]
    if notes:
        out += ["", "Notes:", "", *(f"- {n}" for n in notes)]
    if problems:
        out += ["", "## Invariant failures", ""]
        out += [f"- {p.replace(work, '<tmp>')}" for p in problems[:50]]
        if len(problems) > 50:
            out.append(f"- ... and {len(problems) - 50} more")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keepsake", type=Path, default=ROOT / "target" / "debug" / "keepsake")
    ap.add_argument("--count", type=int, default=100, help="damaged files to make (default 100)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--write", type=Path, help="write the Markdown report here (e.g. docs/corpus.md)")
    ap.add_argument("--keep", type=Path, help="make the corpus and data directory here and keep them")
    args = ap.parse_args()
    if not os.access(args.keepsake, os.X_OK):
        raise SystemExit(f"{args.keepsake} is not there: cargo build -p keepsake-cli")
    started = time.monotonic()
    notes: list[str] = []
    sources = all_sources(notes)
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        args.keep.mkdir(parents=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="keepsake-corpus-"))
    album, data = work / "album", work / "data"
    try:
        files = make_corpus(sources, args.count, args.seed, album)
        runner = Runner(args.keepsake, data)
        problems: list[str] = []
        n = len(files)
        check_command(runner("add", str(album), timeout=120), problems)
        check_command(runner("analyze", timeout=120 + 2 * n), problems)
        thumbs_rec = runner("thumbnails", "--json", timeout=60 + n)
        check_command(thumbs_rec, problems, allowed=(0,))
        ls_rec = runner("ls", "--json", timeout=60)
        check_command(ls_rec, problems, allowed=(0,))
        try:
            ls = json.loads(ls_rec["stdout"])
            thumbs = json.loads(thumbs_rec["stdout"]) if thumbs_rec["rc"] == 0 else []
        except json.JSONDecodeError as e:
            problems.append(f"unreadable JSON from keepsake: {e}")
            ls, thumbs = [], []
        classify(files, ls, thumbs, album, problems)
        left = workers_alive(args.keepsake, data)
        for _ in range(20):
            if not left:
                break
            time.sleep(0.1)
            left = workers_alive(args.keepsake, data)
        problems += [f"worker left behind: {w}" for w in left]
        db = db_checks(data / "library.sqlite3")
        problems += db
        seconds = time.monotonic() - started
        text = report(args, files, runner, problems, notes, sources, seconds, left, db)
        if args.write:
            args.write.parent.mkdir(parents=True, exist_ok=True)
            args.write.write_text(text)
        total = collections.Counter(f["outcome"] for f in files)
        print(f"corpus: {n} damaged files from {len(sources)} sources in {seconds:.0f} s: "
              + ", ".join(f"{total[o]} {o}" for o in OUTCOMES))
        for note in notes:
            print(f"note: {note}")
        for p in problems:
            print(f"FAIL: {p}")
        if args.write:
            print(f"report: {args.write}")
        return 1 if problems else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
