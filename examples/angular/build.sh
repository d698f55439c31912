#!/usr/bin/env bash
# Builds the Angular example against pkg/jitsi-live-player (made by
# scripts/package.sh, which must run first) and prints the output directory,
# the one to serve (`server --dist <it>`). Idempotent: npm ci only when
# node_modules is missing or older than package-lock.json, and no rebuild when
# nothing it depends on changed since the last build. Only the output
# directory goes to stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
export NG_CLI_ANALYTICS=false NG_FORCE_TTY=false CI=${CI:-1}

pkg=$here/../../pkg/jitsi-live-player
if [ ! -f "$pkg/index.js" ]; then
  echo "examples/angular: $pkg/index.js missing: run scripts/package.sh first" >&2
  exit 1
fi

install_stamp=node_modules/.jlp-install-stamp
if [ ! -f "$install_stamp" ] || [ package-lock.json -nt "$install_stamp" ] || [ package.json -nt "$install_stamp" ]; then
  echo "examples/angular: npm ci" >&2
  t0=$(date +%s)
  npm ci --no-audit --no-fund --prefer-offline --loglevel=error >&2
  touch "$install_stamp"
  echo "examples/angular: npm ci took $(( $(date +%s) - t0 )) s" >&2
fi

out=$here/dist/angular-host/browser
build_stamp=$here/dist/.jlp-build-stamp
inputs=(src angular.json tsconfig.json package-lock.json "$install_stamp" "$pkg/")
if [ -f "$build_stamp" ] && [ -f "$out/index.html" ] \
  && [ -z "$(find -L "${inputs[@]}" -newer "$build_stamp" -print -quit)" ]; then
  echo "examples/angular: up to date" >&2
else
  t0=$(date +%s)
  # The stamp is taken before building so that a change made during the
  # build triggers the next one.
  mkdir -p dist
  touch "$build_stamp.new"
  node_modules/.bin/ng build --configuration production >&2
  mv "$build_stamp.new" "$build_stamp"
  echo "examples/angular: ng build took $(( $(date +%s) - t0 )) s" >&2
fi
echo "$out"
