#!/usr/bin/env bash
# Builds the embeddable package: pkg/jitsi-live-player/, an npm-style folder
# that React, Angular or plain pages install by path. Same wasm as the watch
# page (the cargo build is shared with trunk's, so it is usually cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
out=pkg/jitsi-live-player
# Built aside, then only changed files replace the package's: the host
# examples rebuild when the package is newer than their last build, so an
# unchanged package must keep its files' times (the demo then skips them).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
. scripts/wasm-toolchain.sh
wasm cargo build --lib --release --target wasm32-unknown-unknown --quiet
wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name jitsi_live_player \
  target/wasm32-unknown-unknown/release/jitsi_live_player.wasm
# As trunk does for the watch page (index.html, where the flags are explained).
wasm-opt -Os --converge --low-memory-unused --strip-producers --strip-target-features \
  --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$tmp/jitsi_live_player_bg.wasm" -o "$tmp/jitsi_live_player_bg.wasm"
node scripts/minify-wasm.mjs "$tmp/jitsi_live_player.js" "$tmp/jitsi_live_player_bg.wasm"
cp embed/index.js embed/index.d.ts embed/package.json "$tmp/"
[ -f embed/react.d.ts ] && cp embed/react.d.ts "$tmp/"
cp node_modules/hls.js/dist/hls.min.js "$tmp/"
# The language catalogues; the player fetches only its viewer's (English is built in).
cp -r public/i18n "$tmp/i18n"
# The player's styles as a module, adopted into each shadow root.
node -e '
  const fs = require("fs");
  const css = fs.readFileSync("style/player.css", "utf8");
  fs.writeFileSync(process.argv[1], "// Generated from style/player.css by scripts/package.sh.\nexport default " + JSON.stringify(css) + ";\n");
' "$tmp/styles.js"
mkdir -p "$out"
changed=0
(cd "$out" && find . -type f) | while read -r f; do [ -e "$tmp/$f" ] || rm -f "$out/$f"; done
while read -r f; do
  if ! cmp -s "$tmp/$f" "$out/$f"; then
    mkdir -p "$(dirname "$out/$f")"; cp "$tmp/$f" "$out/$f"; changed=$((changed + 1))
  fi
done < <(cd "$tmp" && find . -type f)
echo "package: $changed file(s) changed"
echo "package: $out ($(du -sh "$out" | cut -f1))"
