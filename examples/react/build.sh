#!/usr/bin/env bash
# Builds the React example into examples/react/dist with its own toolchain
# from npm (Vite, TypeScript, React: see package.json). Expects the package
# to be built first (scripts/package.sh → pkg/jitsi-live-player), as
# scripts/build.sh does. Idempotent: `npm ci` only when node_modules is older
# than package-lock.json, the build only when a source or the package changed.
set -euo pipefail
cd "$(dirname "$0")"
pkg=../../pkg/jitsi-live-player
if [ ! -f "$pkg/index.js" ]; then
  echo "examples/react: $pkg is missing: run scripts/package.sh first" >&2
  exit 1
fi

install_stamp=node_modules/.install-stamp
if [ ! -f "$install_stamp" ] || [ package-lock.json -nt "$install_stamp" ] || [ package.json -nt "$install_stamp" ]; then
  npm ci --no-audit --no-fund --prefer-offline
  touch "$install_stamp"
fi

build_stamp=dist/.build-stamp
if [ -f "$build_stamp" ] && [ -z "$(find -L src index.html package.json package-lock.json tsconfig.json vite.config.mjs "$pkg" ../../embed/react.d.ts -newer "$build_stamp" -print -quit)" ]; then
  echo "examples/react: dist is up to date"
  exit 0
fi
npm run build --silent
touch "$build_stamp"
echo "examples/react: built dist/ ($(du -sh dist | cut -f1))"
