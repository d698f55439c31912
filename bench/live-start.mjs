#!/usr/bin/env node
// Benchmark (a script, not a test): how long a viewer who is already waiting
// on the watch page waits for the picture once the broadcast goes live.
//
// Per start: a fresh live input and a fresh browser context open the watch
// page, which settles in "waiting"; after a random pause (so the page's poll
// phase is random against the start) the broadcast starts through the
// origin's control API. This script asks the origin's lifecycle every
// --probe-ms to see it turn live (origin side), and the page records its
// first video frame (requestVideoFrameCallback, wall clock). Each start is
// split where the time goes:
//   poll wait:   live → the page's lifecycle request that sees it
//   to manifest: that request → the page's first manifest request
//   retries:     first → last manifest request (with --manifest-404: the
//                origin's "live but not playable yet", as Cloudflare does)
//   engine:      the last manifest request → first frame (hls.js/native start-up)
// Starts alternate between engines; prints min/median/p90/max per engine.
//
//   node bench/live-start.mjs [--starts 20] [--engines auto,hlsjs] [--probe-ms 25]
//                             [--size 640x360] [--preset ultrafast] [--manifest-404 S]
//
// Needs localcf/target/debug/localcf (scripts/build.sh builds it) and dist/ (scripts/build.sh).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, sleep, waitFor, classify, HIDE_NATIVE_HLS } from '../tests/e2e/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const STARTS = Number(opt('--starts', 20));
const ENGINES = opt('--engines', 'auto,hlsjs').split(',');
const PROBE_MS = Number(opt('--probe-ms', 25));
const SIZE = opt('--size', '640x360');
const PRESET = opt('--preset', 'ultrafast');
// As Cloudflare: the manifest 404s for this long after lifecycle says live.
const MANIFEST_404 = Number(opt('--manifest-404', 0));

process.env.E2E_QUIET = process.env.E2E_QUIET ?? '1';
const say = (...a) => console.error(`[live-start ${new Date().toISOString().slice(11, 19)}]`, ...a);

// Wall-clock time of the first presented frame (comparable with Date.now()
// in this process: same machine) and of the player's state changes.
const INIT = `(() => {
  const ff = window.__ff = { states: [] };
  const wall = (t) => performance.timeOrigin + t;
  const hook = (v) => {
    if (!(v instanceof HTMLVideoElement) || v.__ffHooked) return;
    v.__ffHooked = true;
    const arm = () => v.requestVideoFrameCallback((now, meta) => {
      if (ff.frame === undefined) { ff.frame = wall(now); ff.engine = /^blob:/.test(v.currentSrc) ? 'mse' : 'native'; }
    });
    if (v.requestVideoFrameCallback) arm();
  };
  addEventListener('loadstart', (e) => { hook(e.target); if (ff.loadstart === undefined) ff.loadstart = Date.now(); }, true);
  addEventListener('playing', (e) => { if (ff.playing === undefined) ff.playing = Date.now(); }, true);
  let last;
  new MutationObserver(() => {
    const r = document.querySelector('[data-player-state]');
    const s = r && r.getAttribute('data-player-state');
    if (s !== last) { last = s; ff.states.push({ s, t: Date.now() }); }
    const v = document.querySelector('video'); if (v) hook(v);
  }).observe(document, { subtree: true, childList: true, attributes: true });
})();`;

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
};
const dist = (xs) => (xs.length ? {
  n: xs.length, min: Math.round(Math.min(...xs)), median: Math.round(quantile(xs, 0.5)),
  p90: Math.round(quantile(xs, 0.9)), max: Math.round(Math.max(...xs)),
} : { n: 0 });

async function oneStart(browser, server, engine, i) {
  const { uid } = await server.control.createInput({ name: `live-start-${i}` });
  const context = await browser.newContext({ viewport: { width: 640, height: 360 } });
  const reqs = [];
  try {
    const page = await context.newPage();
    if (engine === 'hlsjs') await page.addInitScript(HIDE_NATIVE_HLS);
    await page.addInitScript(INIT);
    page.on('request', (r) => { const k = classify(r.url(), uid); if (k) reqs.push({ k, t: Date.now(), r }); });
    page.on('response', (res) => { const e = reqs.find((x) => x.r === res.request()); if (e) e.tEnd = Date.now(); });
    const cdp = await context.newCDPSession(page);
    const peek = async (expression) => (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
    const q = engine === 'auto' ? '' : `&engine=${engine}`;
    await page.goto(`${server.url}/?input=${encodeURIComponent(uid)}${q}`, { waitUntil: 'commit' });
    await waitFor(async () => (await peek('(window.__ff.states.at(-1) || {}).s')) === 'waiting', { timeout: 20_000, interval: 100, what: 'waiting' });
    await sleep(Math.random() * 6000);

    if (MANIFEST_404) await server.control.setFaults(uid, { manifest404Seconds: MANIFEST_404 });
    const tStart = Date.now();
    await server.control.start(uid, { size: SIZE, preset: PRESET });
    // Origin side: the first lifecycle answer that says live. The probe is
    // this script's, not the page's (classify only counts the page's).
    let tLive = null;
    let before = Date.now();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const lc = await server.control.lifecycle(uid);
      if (lc.live) { tLive = (before + Date.now()) / 2; break; }
      before = Date.now();
      await sleep(PROBE_MS);
    }
    if (!tLive) throw new Error('origin never said live');
    const ff = await waitFor(async () => { const f = await peek('window.__ff'); return f.frame !== undefined ? f : null; },
      { timeout: 60_000, interval: 50, what: 'first frame' });
    // The lifecycle request the page sent before the manifest one: the poll
    // that saw live. Requests are timed at their start (Playwright's event).
    const manifest = reqs.find((x) => x.k === 'manifest');
    const lastManifest = reqs.filter((x) => x.k === 'manifest' && x.t <= ff.frame).at(-1);
    const sawLive = manifest ? reqs.filter((x) => x.k === 'lifecycle' && x.t <= manifest.t).at(-1) : null;
    const livePolls = reqs.filter((x) => x.k === 'lifecycle' && x.t < tLive);
    const r = {
      engine, i, uid,
      startToLive: Math.round(tLive - tStart),
      total: Math.round(ff.frame - tLive),
      pollWait: sawLive ? Math.round((sawLive.tEnd ?? sawLive.t) - tLive) : null,
      toManifest: sawLive && manifest ? Math.round(manifest.t - (sawLive.tEnd ?? sawLive.t)) : null,
      retries: manifest && lastManifest ? Math.round(lastManifest.t - manifest.t) : null,
      engineStart: lastManifest ? Math.round(ff.frame - lastManifest.t) : null,
      manifestRequests: reqs.filter((x) => x.k === 'manifest').length,
      lifecycleWhileWaiting: livePolls.length,
      frameEngine: ff.engine,
    };
    await server.control.stop(uid, 'abrupt').catch(() => {});
    return r;
  } finally {
    await context.close().catch(() => {});
  }
}

async function main() {
  const result = { date: new Date().toISOString(), settings: { starts: STARTS, engines: ENGINES, probeMs: PROBE_MS, size: SIZE, preset: PRESET, manifest404Seconds: MANIFEST_404 }, starts: [] };
  let server, browser;
  try {
    server = await startServer({ name: 'live-start', videoSize: SIZE, preset: PRESET });
    browser = await launchBrowser({ autoplay: true });
    result.chromium = browser.version();
    for (let i = 0; i < STARTS; i++) {
      for (const engine of ENGINES) {
        try {
          const r = await oneStart(browser, server, engine, i);
          result.starts.push(r);
          say(`${engine} #${i + 1}: live → frame ${r.total} ms (poll wait ${r.pollWait}, to manifest ${r.toManifest}, retries ${r.retries}, engine ${r.engineStart}; broadcast start → live ${r.startToLive}; ${r.manifestRequests} manifest req)`);
        } catch (e) {
          result.starts.push({ engine, i, error: e.message.split('\n')[0] });
          say(`${engine} #${i + 1}: FAILED ${e.message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  }
  result.summary = {};
  for (const e of ENGINES) {
    const ok = result.starts.filter((s) => s.engine === e && !s.error);
    const pick = (k) => ok.map((s) => s[k]).filter((x) => typeof x === 'number');
    result.summary[e] = {
      failures: result.starts.filter((s) => s.engine === e && s.error).length,
      total: dist(pick('total')), pollWait: dist(pick('pollWait')), toManifest: dist(pick('toManifest')), retries: dist(pick('retries')),
      engineStart: dist(pick('engineStart')), startToLive: dist(pick('startToLive')),
    };
  }
  fs.mkdirSync(path.join(HERE, 'output'), { recursive: true });
  fs.writeFileSync(path.join(HERE, `output/live-start${MANIFEST_404 ? `-404-${MANIFEST_404}` : ''}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(report(result));
}

function report(r) {
  const L = [`### Lifecycle live → first frame, viewer already waiting (ms; ${r.settings.size} ${r.settings.preset}${r.settings.manifest404Seconds ? `; manifest 404 for ${r.settings.manifest404Seconds} s after live` : ''}; Chromium ${r.chromium})`, '',
    '| engine | part | n | min | median | p90 | max |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  const names = { total: '**live → first frame**', pollWait: 'live → poll that sees it', toManifest: 'that answer → manifest request', retries: 'first → last manifest request', engineStart: 'last manifest request → first frame', startToLive: '(broadcast start → live)' };
  for (const [e, s] of Object.entries(r.summary)) {
    for (const k of Object.keys(names)) {
      const d = s[k];
      L.push(`| ${e} | ${names[k]} | ${d.n} | ${d.min ?? '—'} | ${d.median ?? '—'} | ${d.p90 ?? '—'} | ${d.max ?? '—'} |`);
    }
    if (s.failures) L.push(`| ${e} | failed starts | ${s.failures} | | | | |`);
  }
  return L.join('\n');
}

main().catch((e) => { console.error(`[live-start] failed: ${e.stack || e.message}`); process.exit(1); });
