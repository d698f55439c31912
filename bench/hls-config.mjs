// The player's hls.js live config, read from the watch page's JSON block
// (`jlp-hls-live` in index.html, which core's tests hold equal to
// `HlsConfig::live()`): the bare hls.js pages must start hls.js exactly as
// the player does, or the first-frame and memory ratios compare different
// settings. One copy in the page, none here.
import fs from 'node:fs';

const INDEX = new URL('../index.html', import.meta.url);

export function hlsLiveConfig() {
  const html = fs.readFileSync(INDEX, 'utf8');
  const block = html.match(/<script type="application\/json" id="jlp-hls-live">([\s\S]*?)<\/script>/);
  if (!block) throw new Error('index.html has no jlp-hls-live block');
  return JSON.parse(block[1]);
}
