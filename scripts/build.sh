#!/usr/bin/env bash
# Builds the player (trunk → dist/) and the server (target/debug/server).
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from npm's binaryen: Debian's is too old (see TOOLCHAIN.md).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --offline
cargo build -p server --quiet
