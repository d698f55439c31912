#!/usr/bin/env bash
# Builds the embeddable package: pkg/jitsi-live-player/, an npm-style folder
# that React, Angular or plain pages install by path. Same wasm as the watch
# page (the cargo build is shared with trunk's, so it is usually cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
out=pkg/jitsi-live-player
rm -rf "$out"
mkdir -p "$out"
cargo build --lib --release --target wasm32-unknown-unknown --quiet
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name jitsi_live_player \
  target/wasm32-unknown-unknown/release/jitsi_live_player.wasm
# As trunk does for the watch page (index.html): size first.
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/jitsi_live_player_bg.wasm" -o "$out/jitsi_live_player_bg.wasm"
cp embed/index.js embed/index.d.ts embed/package.json "$out/"
[ -f embed/react.d.ts ] && cp embed/react.d.ts "$out/"
cp node_modules/hls.js/dist/hls.min.js "$out/"
# The language catalogues; the player fetches only its viewer's (English is built in).
cp -r public/i18n "$out/i18n"
# The player's styles as a module, adopted into each shadow root.
node -e '
  const fs = require("fs");
  const css = fs.readFileSync("style/player.css", "utf8");
  fs.writeFileSync(process.argv[1], "// Generated from style/player.css by scripts/package.sh.\nexport default " + JSON.stringify(css) + ";\n");
' "$out/styles.js"
echo "package: $out ($(du -sh "$out" | cut -f1))"
