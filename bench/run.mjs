#!/usr/bin/env node
// Benchmark (a script, not a test):
//   1. time from navigation start to first video frame, same live stream,
//      same Chromium, cold cache (fresh browser context per run), runs
//      interleaved across players. Each path of the watch page is compared
//      with its own floor, the least a page can do on the same engine:
//        native HLS: (a) the watch page  vs (e) a bare <video src=m3u8>;
//        hls.js:     (a2) the watch page with native HLS hidden (as in
//                    browsers without it) vs (b) bare hls.js with the
//                    player's hls.js config (index.html's `jlp-hls-live` block, bench/hls-config.mjs).
//      Where the browser has no native HLS, (a) is itself the hls.js path
//      and is compared with (b). Optional: (c) Video.js, (d) Mux Player.
//   2. bytes shipped per dist asset (raw / gzip / brotli) and what the
//      alternatives ship;
//   3. requests per viewer per minute while waiting and while live.
// Writes bench/output/latest.json and prints markdown tables. Each path's
// ratio comes with a 95 % interval (bench/stats.mjs), and a target is called
// met or missed only when the whole interval says so; copies of several
// runs' latest.json pool with `node bench/pool.mjs A.json B.json ...`.
//
//   node bench/run.mjs [--runs 9] [--size 1280x720] [--preset veryfast] [--abr]
//                      [--rpm-seconds 60] [--skip-rpm] [--no-qoe] [--warm]
//                      [--players a,e,a2,b[,c,d]] [--trace DIR]
//                      [--page-from backend|stand-in] [--variant-dist DIR]
//
// --variant-dist DIR: one more row, (av), the watch page of another build
// (DIR, a dist/ made otherwise) from a second backend, interleaved with the
// others: an A/B of a change to the page under the same load.
//
// --page-from: who serves the watch page (a, a2). `backend` (the default) is
// a deployment: our backend serves dist/ and the page names the delivery host
// (`base=` the stand-in, the backend's --delivery-base), so the page arrives
// with lifecycle's answer in it (backend/src/watch_page.rs). `stand-in`: the local
// origin serves page and delivery from one address, as in the demo.
//
// --trace DIR: after the runs, one more cold load per player under Chromium's
// tracing (DIR/<key>.json, for chrome://tracing or Perfetto), and a table of
// the renderer main thread's tasks of ≥ 4 ms before the first frame: what
// holds it back where two pages fetch the same media.
//
// About 1.5 minutes with --skip-rpm (9 runs × 4 players, 2 cores), plus
// --rpm-seconds for the requests part.
// Needs localcf/target/debug/localcf (scripts/build.sh builds it) and dist/ (scripts/build.sh).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, startBackend, launchBrowser, sleep, waitFor, classify, REPO, DIST } from '../tests/e2e/harness.mjs';
import { measureDist, sizesOf, fmt } from '../scripts/check-budget.mjs';
import { hlsLiveConfig } from './hls-config.mjs';
import { median, pathsOf, pathTable } from './stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const RUNS = Number(opt('--runs', 9));
const SIZE = opt('--size', '1280x720');
const PRESET = opt('--preset', 'veryfast');
const ABR = args.includes('--abr');
const RPM_SECONDS = Number(opt('--rpm-seconds', 60));
const SKIP_RPM = args.includes('--skip-rpm');
const NO_QOE = args.includes('--no-qoe');
const ONLY = opt('--players', 'a,e,a2,b');
const WARM = args.includes('--warm');
const TRACE = opt('--trace', null);
const PAGE_FROM = opt('--page-from', 'backend');
const VARIANT = opt('--variant-dist', null);
const FRAME_TIMEOUT = 30_000;
const STEP_KEYS = ['responseStart', 'responseEnd', 'domInteractive', 'wasmStart', 'wasmEnd', 'appStarted', 'hlsjsStart', 'hlsjsEnd', 'lifecycleFetchCalled', 'lifecycleStart', 'lifecycleEnd', 'loadstart', 'manifestStart', 'manifestEnd', 'playlistStart', 'segmentStart', 'segmentEnd'];

process.env.E2E_QUIET = process.env.E2E_QUIET ?? '1';
const say = (...a) => console.error('[bench]', ...a);

// ------------------------------------------------------------ static server
// Serves bench/pages and the npm assets the pages need (and dist/, so the
// bare page can load the very hls.js file the player ships). Loopback only.
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.woff': 'font/woff', '.woff2': 'font/woff2', '.svg': 'image/svg+xml', '.wasm': 'application/wasm' };
const ROOTS = [
  ['/pages/', path.join(HERE, 'pages')],
  ['/node_modules/hls.js/dist/', path.join(REPO, 'node_modules/hls.js/dist')],
  ['/node_modules/video.js/dist/', path.join(REPO, 'node_modules/video.js/dist')],
  ['/node_modules/@mux/mux-player/dist/', path.join(REPO, 'node_modules/@mux/mux-player/dist')],
  ['/dist/', DIST],
];
function startStatic() {
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    for (const [prefix, root] of ROOTS) {
      if (!u.pathname.startsWith(prefix)) continue;
      const file = path.join(root, decodeURIComponent(u.pathname.slice(prefix.length)));
      if (!file.startsWith(root)) break;
      fs.readFile(file, (err, buf) => {
        if (err) { res.writeHead(404); res.end(); return; }
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'max-age=3600' });
        res.end(buf);
      });
      return;
    }
    res.writeHead(404); res.end();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// ------------------------------------------------------------ first frame
// Installed before any page script, same for every player: marks the first
// presented video frame (requestVideoFrameCallback), `loadeddata` and
// `playing`, in ms since navigation start. It also sees videos inside shadow
// roots (Mux Player), by listening on every shadow root that gets attached.
// Makes canPlayType('application/vnd.apple.mpegurl') answer "" so a player
// that prefers native HLS takes its hls.js path (as on Chrome < 141, Firefox).
const HIDE_NATIVE_HLS = `(() => {
  const orig = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(String(t)) ? '' : orig.call(this, t); };
})();`;

const FIRST_FRAME = `(() => {
  const ff = window.__ff = {};
  const mark = (k, v) => { if (ff[k] === undefined) ff[k] = v === undefined ? performance.now() : v; };
  const hook = (v) => {
    if (!(v instanceof HTMLVideoElement) || v.__ffHooked) return;
    v.__ffHooked = true;
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback((now, meta) => {
      mark('frame', now);
      mark('presented', meta.presentationTime);
      // Which engine showed it: MSE (a blob: URL, hls.js/VHS) or the browser's own HLS.
      mark('engine', /^blob:/.test(v.currentSrc) ? 'mse' : (v.currentSrc ? 'native' : 'unknown'));
    });
  };
  const onEvent = (e) => {
    hook(e.target);
    if (e.target instanceof HTMLVideoElement && (e.type === 'loadstart' || e.type === 'loadeddata' || e.type === 'playing')) mark(e.type);
  };
  // The watch page: when the wasm is instantiated (trunk's event, before the
  // player mounts) and when the player first calls fetch (its first
  // lifecycle poll), to split the time before the manifest request.
  addEventListener('TrunkApplicationStarted', () => mark('appStarted'));
  const f = window.fetch;
  window.fetch = function (...a) { if (/lifecycle/.test(String(a[0] && (a[0].url || a[0])))) mark('lifecycleFetchCalled'); return f.apply(this, a); };
  const TYPES = ['loadstart', 'loadedmetadata', 'loadeddata', 'playing'];
  const listen = (t) => TYPES.forEach((type) => t.addEventListener(type, onEvent, true));
  listen(window);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...a) { const root = attach.apply(this, a); listen(root); return root; };
})();`;

async function measureOnce(browser, url, { warm = false, hideNative = false, trace = null } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const external = [];
  context.on('request', (r) => { if (!/^(https?:\/\/127\.0\.0\.1|data:|blob:)/.test(r.url())) external.push(r.url()); });
  try {
    const page = await context.newPage();
    if (hideNative) await page.addInitScript(HIDE_NATIVE_HLS);
    await page.addInitScript(FIRST_FRAME);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e.message || e)));
    // When each kind of request first starts / first ends (wall clock here,
    // turned into ms since navigation start below): where the time goes.
    let reqs = [];
    page.on('request', (r) => reqs.push({ r, kind: requestKind(r.url()), t: Date.now() }));
    page.on('requestfinished', (r) => { const e = reqs.find((x) => x.r === r); if (e) e.tEnd = Date.now(); });
    const one = async () => {
      reqs = [];
      await page.goto(url, { waitUntil: 'commit' });
      const ff = await waitFor(() => page.evaluate(() => (window.__ff && window.__ff.frame !== undefined ? window.__ff : null)),
        { timeout: FRAME_TIMEOUT, interval: 50, what: `first frame of ${url}` });
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource').map((e) => ({ url: e.name, start: e.startTime, end: e.responseEnd }));
        return { timeOrigin: performance.timeOrigin, res, ...(n ? { responseStart: n.responseStart, responseEnd: n.responseEnd, domInteractive: n.domInteractive, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd } : {}) };
      });
      const steps = { responseStart: nav.responseStart, responseEnd: nav.responseEnd, domInteractive: nav.domInteractive, appStarted: ff.appStarted, lifecycleFetchCalled: ff.lifecycleFetchCalled, loadstart: ff.loadstart };
      // The page's own Resource Timing where it has the request (exact);
      // else when Playwright saw it (late by the CDP round trip: the
      // browser's own HLS requests are not in Resource Timing).
      for (const x of nav.res) {
        const kind = requestKind(x.url);
        if (!kind) continue;
        if (steps[`${kind}Start`] === undefined) steps[`${kind}Start`] = x.start;
        if (steps[`${kind}End`] === undefined) steps[`${kind}End`] = x.end;
      }
      delete nav.res;
      for (const x of reqs) {
        if (!x.kind) continue;
        if (steps[`${x.kind}Start`] === undefined) steps[`${x.kind}Start`] = x.t - nav.timeOrigin;
        if (x.tEnd !== undefined && steps[`${x.kind}End`] === undefined) steps[`${x.kind}End`] = x.tEnd - nav.timeOrigin;
      }
      return { ...ff, nav, steps };
    };
    if (trace) await browser.startTracing(page, { path: trace, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'loading'] });
    const cold = await one();
    if (trace) await browser.stopTracing();
    const warmRun = warm ? await one() : null;
    return { cold, warm: warmRun, errors, external };
  } finally {
    await context.close();
  }
}

// The renderer main thread's top-level tasks of ≥ 4 ms from navigation
// start to the first frame, each named by its longest direct child
// (EvaluateScript, ParseHTML, Layout, v8.compile, …): ms since navigation
// start, duration, name.
function mainThreadTasks(file, timeOrigin, frame) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const events = Array.isArray(raw) ? raw : raw.traceEvents;
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  // The renderer whose main thread ran the page: the one with the most
  // ParseHTML time (the browser process has none).
  const main = new Map();
  for (const e of events) {
    if (names.get(`${e.pid}:${e.tid}`) !== 'CrRendererMain' || e.ph !== 'X') continue;
    const k = `${e.pid}:${e.tid}`;
    main.set(k, (main.get(k) || 0) + (e.name === 'ParseHTML' ? e.dur || 0 : 0));
  }
  const thread = [...main.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!thread) return [];
  const xs = events.filter((e) => `${e.pid}:${e.tid}` === thread && e.ph === 'X' && typeof e.dur === 'number').sort((a, b) => a.ts - b.ts);
  // Trace clock (µs) to ms since navigation start: the navigation's own
  // mark, where the trace has it.
  const nav = xs.find((e) => e.name === 'ParseHTML') || xs[0];
  const navStart = events.find((e) => e.name === 'navigationStart' && `${e.pid}:${e.tid}` === thread)?.ts ?? nav.ts;
  const tasks = xs.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask');
  const out = [];
  for (const t of tasks) {
    const at = (t.ts - navStart) / 1000;
    if (t.dur < 4000 || at > frame) continue;
    const kids = xs.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e.name !== t.name);
    const top = kids.sort((a, b) => b.dur - a.dur)[0];
    const url = top && top.args && top.args.data && (top.args.data.url || top.args.data.stackTrace?.[0]?.url);
    out.push({ at: r0(at), ms: r0(t.dur / 1000), what: top ? `${top.name}${url ? ` ${String(url).split('/').pop().slice(0, 40)}` : ''}` : '' });
  }
  void timeOrigin;
  return out;
}

function requestKind(url) {
  const p = (() => { try { return new URL(url).pathname; } catch { return ''; } })();
  if (/\.wasm$/.test(p)) return 'wasm';
  if (/\/hls(\.[\w-]+)*\.m?js$/.test(p)) return 'hlsjs'; // hls.min.js, not the hls_loader.js snippet
  const k = classify(url, null);
  return ['lifecycle', 'manifest', 'playlist', 'segment'].includes(k) ? k : null;
}

const r0 = (x) => (x == null ? null : Math.round(x));

// ------------------------------------------------------------ main
async function main() {
  const t0 = Date.now();
  const result = { date: new Date().toISOString(), machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, settings: { runs: RUNS, size: SIZE, preset: PRESET, abr: ABR } };
  let server, backend, variant, browser, statics;
  try {
    say(`starting origin (broadcast ${SIZE} ${PRESET}${ABR ? ' abr' : ''})`);
    server = await startServer({ name: 'bench', videoSize: SIZE, preset: PRESET });
    statics = await startStatic();
    if (PAGE_FROM === 'backend') backend = await startBackend({ name: 'bench-backend', standIn: server });
    result.settings.pageFrom = PAGE_FROM;
    if (VARIANT) variant = await startBackend({ name: 'bench-variant', standIn: server, dist: path.resolve(VARIANT) });
    const S = `http://127.0.0.1:${statics.address().port}`;
    browser = await launchBrowser({ autoplay: true });
    result.chromium = browser.version();

    const { uid } = await server.control.createInput({ name: 'bench-live' });
    const startOpts = { size: SIZE, preset: PRESET, ...(ABR ? { abr: true } : {}) };
    const { videoUID } = await server.control.startBroadcast(uid, startOpts);
    say(`live input ${uid} (video ${videoUID}); letting the playlist fill`);
    await sleep(8000); // a few segments, so every player can start 3 segments behind the edge

    const manifest = `${server.url}/${uid}/manifest/video.m3u8`;
    const hlsFile = fs.readdirSync(DIST).find((f) => /^hls.*\.js$/.test(f));
    const hlsUrl = hlsFile ? `${S}/dist/${hlsFile}` : `${S}/node_modules/hls.js/dist/hls.light.min.js`;
    const hlsConfig = hlsLiveConfig();
    const enc = encodeURIComponent;
    const watch = (q) => (backend ? `${backend.url}/?${q}&base=${enc(server.url)}` : `${server.url}/?${q}`);
    const nativeHls = await (async () => {
      const ctx = await browser.newContext();
      const pg = await ctx.newPage();
      const r = await pg.evaluate(() => document.createElement('video').canPlayType('application/vnd.apple.mpegurl'));
      await ctx.close();
      return r;
    })();
    result.canPlayTypeMpegurl = nativeHls;
    // a/b/c/d are the brief's four. Where this Chromium claims native HLS the
    // watch page takes the native path, so two more rows make the comparison
    // fair: a2 = the watch page forced onto hls.js (canPlayType hidden),
    // e = a bare <video src=m3u8>.
    let players = [
      // engine=native where the browser has it: `auto` is hls.js on
      // Chromium (core/src/engine.rs), which a2 measures.
      { key: 'a', name: nativeHls ? '(a) watch page, engine=native' : '(a) watch page', url: watch(`input=${enc(uid)}${nativeHls ? '&engine=native' : ''}`) },
      // The same page from the stand-in (one origin, no preload): what the
      // backend's layout changes, under the same load.
      ...(backend ? [{ key: 'as', name: '(as) watch page from the stand-in', url: `${server.url}/?input=${enc(uid)}${nativeHls ? '&engine=native' : ''}` }] : []),
      ...(variant ? [{ key: 'av', name: `(av) watch page of ${VARIANT}`, url: `${variant.url}/?input=${enc(uid)}&base=${enc(server.url)}${nativeHls ? '&engine=native' : ''}` }] : []),
      ...(variant && nativeHls ? [{ key: 'av2', name: `(av2) watch page of ${VARIANT}, native HLS hidden → hls.js`, url: `${variant.url}/?input=${enc(uid)}&base=${enc(server.url)}`, hideNative: true }] : []),
      { key: 'b', name: '(b) bare hls.js', url: `${S}/pages/bare-hlsjs.html?src=${enc(manifest)}&hls=${enc(hlsUrl)}&config=${enc(JSON.stringify(hlsConfig))}` },
      { key: 'c', name: '(c) Video.js 8', url: `${S}/pages/videojs.html?src=${enc(manifest)}` },
      { key: 'd', name: '(d) Mux Player 3', url: `${S}/pages/mux-player.html?src=${enc(manifest)}` },
      ...(nativeHls ? [
        { key: 'a2', name: '(a2) watch page, native HLS hidden → hls.js', url: watch(`input=${enc(uid)}`), hideNative: true },
        { key: 'e', name: '(e) bare native <video src=m3u8>', url: `${S}/pages/bare-native.html?src=${enc(manifest)}` },
      ] : []),
    ];
    if (ONLY) players = players.filter((p) => ONLY.split(',').includes(p.key));
    result.hlsjsUsedByBarePage = hlsFile ? `dist/${hlsFile}` : 'node_modules/hls.js/dist/hls.light.min.js';

    // One discarded warm-up per player (OS file cache, Chromium's first start).
    for (const p of players) {
      try { await measureOnce(browser, p.url, { hideNative: p.hideNative }); } catch (e) { say(`warm-up ${p.key} failed: ${e.message.split('\n')[0]}`); }
    }
    const samples = Object.fromEntries(players.map((p) => [p.key, []]));
    for (let i = 0; i < RUNS; i++) {
      const order = players.map((_, j) => players[(i + j) % players.length]); // rotate: interleaved
      for (const p of order) {
        try {
          const m = await measureOnce(browser, p.url, { warm: WARM, hideNative: p.hideNative });
          samples[p.key].push(m);
          say(`run ${i + 1}/${RUNS} ${p.name}: first frame ${r0(m.cold.frame)} ms cold${m.warm ? `, ${r0(m.warm.frame)} ms warm` : ''}`);
        } catch (e) {
          samples[p.key].push({ error: e.message.split('\n')[0] });
          say(`run ${i + 1}/${RUNS} ${p.name}: FAILED ${e.message.split('\n')[0]}`);
        }
        await sleep(300);
      }
    }
    if (TRACE) {
      fs.mkdirSync(TRACE, { recursive: true });
      result.traces = {};
      for (const p of players) {
        const file = path.join(TRACE, `${p.key}.json`);
        try {
          const m = await measureOnce(browser, p.url, { hideNative: p.hideNative, trace: file });
          result.traces[p.key] = { file, frame: r0(m.cold.frame), tasks: mainThreadTasks(file, m.cold.nav.timeOrigin, m.cold.frame) };
        } catch (e) {
          say(`trace ${p.key} failed: ${e.message.split('\n')[0]}`);
        }
      }
    }
    result.firstFrame = players.map((p) => {
      const ok = samples[p.key].filter((s) => !s.error);
      const pick = (k, which = 'cold') => ok.map((s) => s[which] && s[which][k]).filter((x) => typeof x === 'number');
      const stat = (xs) => (xs.length ? { min: r0(Math.min(...xs)), median: r0(median(xs)) } : { min: null, median: null });
      return {
        key: p.key, name: p.name, runs: ok.length, failures: samples[p.key].filter((s) => s.error).map((s) => s.error),
        frame: stat(pick('frame')), loadeddata: stat(pick('loadeddata')), playing: stat(pick('playing')),
        warmFrame: stat(pick('frame', 'warm')),
        steps: Object.fromEntries(STEP_KEYS.map((k) => { const xs = ok.map((s) => s.cold.steps && s.cold.steps[k]).filter((x) => typeof x === 'number'); return [k, xs.length ? r0(median(xs)) : null]; })),
        samples: ok.map((s) => r0(s.cold.frame)),
        engine: [...new Set(ok.map((s) => s.cold.engine))].join('/'),
        externalRequests: [...new Set(ok.flatMap((s) => s.external))].slice(0, 10),
        pageErrors: [...new Set(ok.flatMap((s) => s.errors))].slice(0, 5),
      };
    });
    // Each path of the watch page against its own floor (same engine).
    result.paths = pathsOf(result.firstFrame, nativeHls);

    // ---- bytes shipped
    result.dist = measureDist({ dist: DIST });
    const asset = (label, files) => {
      const s = files.map((f) => sizesOf(fs.readFileSync(path.join(REPO, f)))).reduce((x, y) => ({ raw: x.raw + y.raw, gzip: x.gzip + y.gzip, brotli: x.brotli + y.brotli }), { raw: 0, gzip: 0, brotli: 0 });
      return { label, files, ...s };
    };
    result.alternatives = [
      asset('(b) hls.js (full build)', ['node_modules/hls.js/dist/hls.min.js']),
      asset('(b) hls.js (light build)', ['node_modules/hls.js/dist/hls.light.min.js']),
      asset('(c) Video.js 8 (JS + CSS)', ['node_modules/video.js/dist/video.min.js', 'node_modules/video.js/dist/video-js.min.css']),
      asset('(d) Mux Player 3 (one bundle, hls.js inside)', ['node_modules/@mux/mux-player/dist/mux-player.js']),
    ];

    // ---- requests per viewer per minute
    if (!SKIP_RPM) {
      say(`requests per viewer: one page waiting, one page live, ${RPM_SECONDS} s`);
      const idle = await server.control.createInput({ name: 'bench-idle' });
      const ctxW = await browser.newContext();
      const ctxL = await browser.newContext();
      const counts = { waiting: {}, live: {} };
      // Beacons go to /api/qoe (not under the uid): counted here, by the page.
      const kindOf = (url, id) => (new URL(url).pathname === '/api/qoe' ? 'qoe' : classify(url, id));
      const track = (ctx, key, id) => ctx.on('request', (r) => { const k = kindOf(r.url(), id); if (k && counts[key].on) counts[key][k] = (counts[key][k] || 0) + 1; });
      track(ctxW, 'waiting', idle.uid);
      track(ctxL, 'live', uid);
      const pw = await ctxW.newPage();
      const pl = await ctxL.newPage();
      // With the viewing figures on, as a deployment's watch page has them
      // (the stand-in answers 404 to the beacons; the player sends the same).
      const qoe = NO_QOE ? '' : '&qoe=/api/qoe';
      await pw.goto(`${server.url}/?input=${enc(idle.uid)}${qoe}`);
      await pl.goto(`${server.url}/?input=${enc(uid)}${qoe}`);
      await waitFor(async () => (await pw.evaluate(() => document.querySelector('[data-player-state]')?.getAttribute('data-player-state'))) === 'waiting', { timeout: 20_000, what: 'waiting page' });
      await waitFor(async () => (await pl.evaluate(() => { const v = document.querySelector('video'); return v && !v.paused && v.currentTime > 1; })), { timeout: 30_000, what: 'live page playing' });
      await sleep(2000);
      await server.control.resetStats();
      counts.waiting.on = counts.live.on = true;
      const tStart = Date.now();
      await sleep(RPM_SECONDS * 1000);
      const stats = await server.control.stats();
      const secs = (Date.now() - tStart) / 1000;
      counts.waiting.on = counts.live.on = false;
      const perMin = (o) => Object.fromEntries(Object.entries(o || {}).filter(([k]) => k !== 'on').map(([k, v]) => [k, +(v * 60 / secs).toFixed(1)]));
      const total = (o) => +Object.entries(o || {}).filter(([k]) => k !== 'on').reduce((s, [, v]) => s + v, 0).toFixed(1);
      result.requestsPerViewerPerMinute = {
        seconds: +secs.toFixed(1),
        waiting: { origin: perMin(stats.inputs?.[idle.uid]), page: perMin(counts.waiting) },
        live: { origin: perMin(stats.inputs?.[uid]), page: perMin(counts.live) },
      };
      for (const k of ['waiting', 'live']) {
        const r = result.requestsPerViewerPerMinute[k];
        r.originTotal = total(r.origin);
        r.pageTotal = total(r.page);
      }
      await ctxW.close();
      await ctxL.close();
    }
    result.elapsedSeconds = Math.round((Date.now() - t0) / 1000);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (statics) statics.close();
    if (variant) await variant.stop();
    if (backend) await backend.stop();
    if (server) await server.stop();
  }

  fs.mkdirSync(path.join(HERE, 'output'), { recursive: true });
  fs.writeFileSync(path.join(HERE, 'output/latest.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(report(result));
  console.error(`[bench] wrote bench/output/latest.json (${result.elapsedSeconds} s)`);
}

function report(r) {
  const L = [];
  L.push(`### First frame after navigation (ms; cold cache, ${r.settings.runs} interleaved runs; stream ${r.settings.size} ${r.settings.preset}${r.settings.abr ? ' ABR' : ''}; ${r.chromium ? 'Chromium ' + r.chromium : ''}, ${r.machine.cpus} cores)`, '');
  L.push(`Watch page served by ${r.settings.pageFrom === 'stand-in' ? 'the stand-in (page and delivery on one origin)' : 'the backend, delivery on the stand-in (the deployment\'s layout: the page carries lifecycle\'s answer, backend/src/watch_page.rs)'}.`, '');
  L.push('| player | engine | min | median | warm median | `loadeddata` median | runs |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const p of r.firstFrame) {
    L.push(`| ${p.name} | ${p.engine || '—'} | ${p.frame.min ?? '—'} | ${p.frame.median ?? '—'} | ${p.warmFrame.median ?? '—'} | ${p.loadeddata.median ?? '—'} | ${p.runs}${p.failures.length ? ` (+${p.failures.length} failed)` : ''} |`);
  }
  L.push('', 'Where the time goes (median ms since navigation start at which each first request starts / ends; `—` = none):', '',
    `| player | ${STEP_KEYS.join(' | ')} | frame |`, `| --- |${STEP_KEYS.map(() => ' ---: |').join('')} ---: |`);
  for (const p of r.firstFrame) {
    L.push(`| (${p.key}) | ${STEP_KEYS.map((k) => (p.steps && Number.isFinite(p.steps[k]) ? p.steps[k] : '—')).join(' | ')} | ${p.frame.median ?? '—'} |`);
  }
  L.push('', ...pathTable(r.paths));
  if (r.traces) {
    L.push('', 'Renderer main thread before the first frame (`--trace`; one traced load each; tasks ≥ 4 ms: start ms, duration ms, longest part):', '');
    for (const [key, t] of Object.entries(r.traces)) {
      L.push(`- (${key}) first frame ${t.frame} ms: ${t.tasks.length ? t.tasks.map((x) => `${x.at} +${x.ms} ${x.what}`).join('; ') : 'no task ≥ 4 ms'}`);
    }
  }
  if (r.canPlayTypeMpegurl) L.push('', `This Chromium answers canPlayType('application/vnd.apple.mpegurl') = "${r.canPlayTypeMpegurl}", so the watch page plays natively here; the hls.js rows are what browsers without native HLS (Firefox, older Chromium) get.`);
  L.push('', '### Bytes shipped (player dist/)', '', '| file | raw | gzip | brotli |', '| --- | ---: | ---: | ---: |');
  for (const f of r.dist.files) L.push(`| ${f.file} | ${fmt(f.raw)} | ${fmt(f.gzip)} | ${fmt(f.brotli)} |`);
  L.push('', '| budget group | gzip | budget | |', '| --- | ---: | ---: | --- |');
  for (const g of r.dist.groups) L.push(`| ${g.name} | ${fmt(g.gzip)} | ${g.maxGzip == null ? '—' : fmt(g.maxGzip)} | ${g.ok ? 'ok' : 'OVER'} |`);
  L.push('', '| what the alternatives ship | raw | gzip | brotli |', '| --- | ---: | ---: | ---: |');
  for (const a of r.alternatives) L.push(`| ${a.label} | ${fmt(a.raw)} | ${fmt(a.gzip)} | ${fmt(a.brotli)} |`);
  const q = r.requestsPerViewerPerMinute;
  if (q) {
    L.push('', `### Requests per viewer per minute (one page each, ${q.seconds} s, counted by the origin; beacons by the page)`, '', '| state | total | lifecycle | views | manifest | playlist | segment | thumbnail | qoe beacons | API calls (lifecycle + views + beacons) |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    // Every request but the media: what the product's budgets count
    // (core/src/policy.rs, REQUESTS_PER_MINUTE_*: 12 waiting, 8 live).
    const api = {};
    for (const k of ['waiting', 'live']) {
      const o = q[k].origin || {};
      const beacons = q[k].page?.qoe ?? 0;
      api[k] = +((o.lifecycle ?? 0) + (o.views ?? 0) + beacons).toFixed(1);
      L.push(`| ${k} | ${+(q[k].originTotal + beacons).toFixed(1)} | ${o.lifecycle ?? 0} | ${o.views ?? 0} | ${o.manifest ?? 0} | ${o.playlist ?? 0} | ${o.segment ?? 0} | ${o.thumbnail ?? 0} | ${beacons} | ${api[k]} |`);
    }
    // A window shorter than a few polls can catch one more or one less
    // than the average.
    const verdict = (k, max) => `${k} ${api[k]} (budget ${max}: ${api[k] <= max ? 'ok' : 'over'})`;
    L.push('', `Budgets, media aside: ${verdict('waiting', 12)}; ${verdict('live', 8)}.`);
  }
  return L.join('\n');
}

main().catch((e) => { console.error(`[bench] failed: ${e.stack || e.message}`); process.exit(1); });
