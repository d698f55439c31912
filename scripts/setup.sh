#!/usr/bin/env bash
# Installs everything the demo and the tests need, idempotently: each step
# checks first and is skipped when the right version is already there.
# See ../shared/TOOLCHAIN.md for why each pin is what it is.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Debian packages: the browser for tests, ffmpeg for real media, a font for
# the burned-in clock, wrk for the load benchmark, PostgreSQL for the
# viewing figures' tests (scripts/pg-test.sh starts a throwaway server),
# Firefox ESR as the second engine of the end-to-end specs (Gecko has no
# native HLS: the hls.js path on MSE runs for real there).
need_apt=()
for pkg in chromium chromium-driver ffmpeg fonts-dejavu-core wrk postgresql firefox-esr; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Rust: the wasm target.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# trunk 0.21 (0.22 needs a newer rustc than the machine has).
if ! trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
  say "cargo install trunk $TRUNK_VERSION (about 9 minutes on 2 cores)"
  cargo install --locked trunk --version "=$TRUNK_VERSION"
fi

# wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $WB_VERSION"; then
  say "cargo install wasm-bindgen-cli $WB_VERSION"
  # Not --locked: its lockfile names a webpki-roots release the index lacks.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

# npm packages (hls.js, binaryen's wasm-opt, playwright-core, benchmark
# players), exactly as the lockfile says; skipped when already in place.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s <(node -e 'const l=require("./package-lock.json");console.log(JSON.stringify(Object.keys(l.packages).sort()))') <(node -e 'const l=require("./node_modules/.package-lock.json");console.log(JSON.stringify(Object.keys(l.packages).map(k=>k).sort()))'); then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "toolchain ready"
