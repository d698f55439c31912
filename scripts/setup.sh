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
# The viewers' wasm is built with the machine's nightly, std rebuilt for
# size (scripts/wasm-toolchain.sh): its wasm target and std's sources.
if ! rustup toolchain list | grep -q '^nightly-'; then
  say "rustup toolchain install nightly"
  rustup toolchain install nightly --profile minimal
fi
if ! rustup target list --installed --toolchain nightly | grep -q '^wasm32-unknown-unknown$'; then
  say "rustup target add wasm32-unknown-unknown --toolchain nightly"
  rustup target add wasm32-unknown-unknown --toolchain nightly
fi
if ! rustup component list --installed --toolchain nightly | grep -q '^rust-src$'; then
  say "rustup component add rust-src --toolchain nightly"
  rustup component add rust-src --toolchain nightly
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

# npm packages (hls.js, binaryen's wasm-opt, esbuild, playwright-core,
# benchmark players), exactly as the lockfile says; skipped while the
# lockfile is the one the last `npm ci` installed (a comparison of package
# lists would never match: the lockfile names esbuild's binaries for every
# platform, and npm installs only this one's).
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.setup-lock.sha256 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.setup-lock.sha256
fi
say "toolchain ready"
