#!/usr/bin/env node
// Probe (a script, not a test): does the watch page's native HLS start hold
// on the first page of a fresh browser? Chromium's HLS has failed a young
// stream there (DEMUXER_ERROR_COULD_NOT_PARSE) where a later page of the
// same browser plays: the player then falls back to hls.js, which recovers
// but costs the viewer seconds. Per load: a fresh live input, ~8 s of
// broadcast, a fresh browser whose first page is the watch page with
// engine=native; after 4 s the <video>'s source tells which engine plays
// (a blob: URL is hls.js). Prints each load and the count that fell back.
//
//   node bench/native-fresh.mjs [--loads 5] [--dist DIR] [--no-move]
//                               [--bare early|after|loadeddata]
//
// --dist: the page from another build (a dist/ made otherwise), to try a
// change to the loader. --no-move: `moveBefore` made a no-op in the page,
// so the loader's <video> stays where the loader put it (the player's view
// is then wrong, the playback is what counts): whether a failure comes
// from the player moving the element into its stage. --bare: a bare
// <video muted autoplay> page instead of ours, its frame callback asked
// before the source is set, right after, or at `loadeddata`: Chromium's
// bug alone, no player (2026-12-02, Chromium 156: early 4 of 4 failed,
// after 4 of 4, loadeddata 0 of 4).
//
// Needs localcf/target/debug/localcf and dist/ (scripts/build.sh builds both).

import http from 'node:http';
import { startServer, launchBrowser, sleep } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : d; };
const LOADS = Number(opt('--loads', 5));
const DIST = opt('--dist', undefined);
const NO_MOVE = args.includes('--no-move');
const BARE = opt('--bare', null);
if (BARE && !['early', 'after', 'loadeddata'].includes(BARE)) throw new Error('--bare early|after|loadeddata');

// The bare page: the source from the query, the frame callback where asked.
const ask = "v.requestVideoFrameCallback(function () {})";
const bare = BARE && http.createServer((req, res) => {
  const src = JSON.stringify(new URL(req.url, 'http://x').searchParams.get('src'));
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(`<!doctype html><video muted autoplay playsinline></video><script>
    var v = document.querySelector('video');
    ${BARE === 'early' ? ask : ''}; v.src = ${src}; ${BARE === 'after' ? ask : ''};
    ${BARE === 'loadeddata' ? `v.addEventListener('loadeddata', function () { ${ask}; });` : ''}
    v.addEventListener('error', function () { console.log('video error ' + v.error.message); });
  </script>`);
});
if (bare) await new Promise((ok) => bare.listen(0, '127.0.0.1', ok));

const server = await startServer({ name: 'native-fresh', ...(DIST ? { dist: DIST } : {}) });
let fellBack = 0;
try {
  for (let i = 0; i < LOADS; i++) {
    const { uid } = await server.control.createInput({ name: `fresh-${i}` });
    await server.control.startBroadcast(uid);
    await sleep(8000);
    const browser = await launchBrowser({ autoplay: true });
    try {
      const page = await (await browser.newContext()).newPage();
      if (NO_MOVE) await page.addInitScript(() => { Element.prototype.moveBefore = function () {}; });
      const errors = [];
      page.on('console', (m) => { if (/DEMUXER|PIPELINE|error/i.test(m.text())) errors.push(m.text().slice(0, 120)); });
      const manifest = `${server.url}/${uid}/manifest/video.m3u8`;
      await page.goto(bare ? `http://127.0.0.1:${bare.address().port}/?src=${encodeURIComponent(manifest)}` : `${server.url}/?input=${uid}&engine=native`);
      await sleep(4000);
      const [src, failed] = await page.evaluate(() => { const v = document.querySelector('video'); return [v?.currentSrc || '', !!v?.error]; });
      // The bare page has no fallback: its <video> fails instead.
      const gone = src.startsWith('blob:') || failed;
      const engine = failed ? 'failed' : src.startsWith('blob:') ? 'hls.js (fell back)' : src ? 'native' : 'none';
      if (gone) fellBack++;
      console.log(`load ${i + 1}/${LOADS}: ${engine}${errors.length ? `; console: ${errors[0]}` : ''}`);
    } finally {
      await browser.close();
      await server.control.stop(uid, 'clean').catch(() => {});
    }
  }
} finally {
  if (bare) bare.close();
  await server.stop();
}
const what = bare ? `the bare page (frame callback: ${BARE}) failed` : 'fell back to hls.js';
console.log(`${what} on ${fellBack} of ${LOADS} fresh browsers' first page${NO_MOVE ? ' (moveBefore a no-op)' : ''}${DIST ? ` (page from ${DIST})` : ''}`);
