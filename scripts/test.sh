#!/usr/bin/env bash
# Every test: installs what is missing, checks format and lints, runs the
# native unit and server tests, builds the player, its package and the React
# and Angular host examples, checks the size budgets, and runs the end-to-end specs in headless Chromium against the local origin, the viewer-state ones again in Firefox ESR.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Each step says when it began and how far in the run is (minutes).
step() { printf '\n\033[1m== %s\033[0m (%s, +%d min)\n' "$*" "$(date +%T)" $((SECONDS / 60)); }

step "setup"
scripts/setup.sh

step "format and lints"
cargo fmt --all --check
cargo fmt --manifest-path localcf/Cargo.toml --all --check
cargo clippy --quiet -p player-core -p stream-api -p http-common -p backend -p send_wrapper --all-targets -- -D warnings
cargo clippy --quiet --manifest-path localcf/Cargo.toml --workspace --all-targets -- -D warnings
cargo clippy --quiet -p player -p moderator -p send_wrapper --target wasm32-unknown-unknown -- -D warnings

step "native tests (core, local stand-in, RTMP ingest, backend)"
# The backend's tests run the stand-in's binary (localcf/target/debug/localcf):
# build it first, and test the stand-in before what stands on it.
cargo build --quiet --manifest-path localcf/Cargo.toml --bin localcf
cargo test --quiet --manifest-path localcf/Cargo.toml --workspace
cargo test --quiet -p player-core -p stream-api -p http-common -p backend -p moderator -p send_wrapper
# The watch page's loader against the start-up table it shares with core;
# the benchmark's ratios and their intervals (bench/stats.mjs).
node --test tests/loader.test.mjs tests/bench-stats.test.mjs

step "viewing figures on PostgreSQL (a throwaway server from Debian's package)"
scripts/pg-test.sh cargo test --quiet -p backend --test qoe --test room_qoe

step "build"
scripts/build.sh

step "size budget (watch page, the embeddable package, the moderator page)"
node scripts/check-budget.mjs
node scripts/check-budget.mjs --budget budget-package.json
node scripts/check-budget.mjs --budget budget-moderator.json

step "end to end (headless Chromium, local origin)"
# Two specs at a time (most wait on the stream's clock, not the CPU); 14
# measures start-up and runs alone after them (tests/e2e/lanes.mjs).
node tests/e2e/lanes.mjs --lanes 2 --alone 14-loader-start

step "viewing figures end to end on PostgreSQL (spec 60 again, the backend on a throwaway server)"
scripts/pg-test.sh node --test tests/e2e/60-qoe.test.mjs

step "end to end, second engine (headless Firefox ESR over WebDriver BiDi): the viewer's states"
# Waiting, live, ended, the next broadcast, faults, recordings: the same
# specs through the page object's Firefox adapter (tests/e2e/harness.mjs).
E2E_BROWSER=firefox node tests/e2e/lanes.mjs --lanes 2 \
  tests/e2e/01-idle-waiting.test.mjs tests/e2e/02-live-plays.test.mjs \
  tests/e2e/04-stop-ended-waiting.test.mjs tests/e2e/05-restart-new-video.test.mjs \
  tests/e2e/07-lifecycle-faults.test.mjs tests/e2e/09-no-dead-widget.test.mjs \
  tests/e2e/20-recordings-replay.test.mjs

step "done"
