#!/usr/bin/env bash
# Builds the player (trunk → dist/), the embeddable package
# (pkg/jitsi-live-player/), the React and Angular host examples that use it,
# the backend (target/debug/backend) and the local Cloudflare stand-in
# (localcf/target/debug/localcf: its own workspace).
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from npm's binaryen: Debian's is too old (see TOOLCHAIN.md).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
. scripts/wasm-toolchain.sh
wasm trunk build --release --offline
# Short import/export names between the wasm and its glue (−4 KB gzip; see the script).
node scripts/minify-wasm.mjs dist/player-*.js dist/player-*_bg.wasm dist/index.html
# The wasm's compile waits for the page's loader (see the script).
node scripts/hold-init.mjs dist/index.html
rm -rf target/wasm-bindgen/release/snippets && wasm trunk build moderator.html --release --offline --dist dist/moderator --public-url /moderator/ # after the player (its build empties dist/), without the player's wasm-bindgen snippets (trunk copies whatever that folder holds)
node scripts/minify-wasm.mjs dist/moderator/moderator-*.js dist/moderator/moderator-*_bg.wasm dist/moderator/index.html
# Brotli and gzip copies the backend serves (see the script).
node scripts/precompress.mjs dist
scripts/package.sh
# Each installs its own toolchain from npm (once) and skips an unchanged build.
examples/react/build.sh
examples/angular/build.sh
cargo build -p backend --quiet
cargo build --manifest-path localcf/Cargo.toml --quiet
