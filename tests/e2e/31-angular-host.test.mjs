// The Angular host (examples/angular, built by its build.sh with the Angular
// CLI's esbuild builder) served by the local origin at `/`: the
// <jitsi-live-player> element with property/attribute bindings and (event)
// handlers, the host's theme reaching the player, a stream switch through the
// binding, the mount() variant, and 200 show/hide cycles that leave nothing
// behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useEnv, waitFor, sleep, REPO, OUTPUT } from './harness.mjs';
import {
  angularDist, openHost, readHost, hostClick, cdpListeners, heapObjects, evalInPage, videosInHeap, leaksBesidesMedia, heapSummary,
} from './angular-harness.mjs';
import { readProbe, forceGcAndHeap, leaksSince, mb } from './embed-probe.mjs';

const dist = angularDist();
const env = useEnv({ name: 'angular-host', server: { dist } });

const log = (...a) => { if (!process.env.E2E_QUIET) console.error('[31-angular]', ...a); };
const HLS_FILE = /\/hls(\.[a-z]+)*\.m?js(\?|$)/;
const WASM_FILE = /\.wasm(\?|$)/;

// Shared by the tests of this file, in order.
let A; let B; let vA; let vB; let page;

const query = (extra = {}) => ({ base: env.server.url, input: A.uid, input2: B.uid, ...extra });
const ngEvents = (p) => p.peek('window.__ngEvents');
const requestsTo = (p, uid, since = 0) => p.net.filter((r) => r.url.includes(`/${uid}/`) && r.t >= since);
const describe = (p) => async () => `${JSON.stringify(await readHost(p))}\n${await p.describe()}`;

// The player is live and its video advances (two reads `ms` apart).
async function waitLivePlaying(p, { timeout = 30_000, what = 'live and playing' } = {}) {
  let prev = null;
  return waitFor(async () => {
    const r = await readHost(p);
    const ok = r.state === 'live' && r.video && !r.video.paused && r.video.readyState >= 2;
    if (!ok) { prev = null; return null; }
    if (!prev || r.video.t < prev.video.t) { prev = r; return null; }
    return r.video.t >= prev.video.t + 1 ? r : null;
  }, { timeout, interval: 250, what, describe: describe(p) });
}

function assertClean(p) {
  assert.deepEqual(p.panics(), [], 'no panic');
  assert.deepEqual(p.pageErrors.map((e) => e.text), [], 'no uncaught page errors');
  assert.deepEqual(p.consoleErrors().map((c) => c.text), [], 'no console errors');
}

test('element: waits, then plays the broadcast; events reach the host; wasm from the configured assetBase; hls.js not fetched up front', { timeout: 90_000 }, async () => {
  [A, B] = [await env.input('a'), await env.input('b')];
  await env.control.setViewers(A.uid, 1234);
  page = await openHost(env, { query: query(), name: 'element', viewport: { width: 1440, height: 900 } });
  const p = page;

  // The host is zoneless: its template takes the event at its next change
  // detection, a task after the element's own state, so wait for both.
  const waiting = await waitFor(async () => { const r = await readHost(p); return r.state === 'waiting' && r.hostState === 'waiting' && r; },
    { timeout: 20_000, what: 'waiting inside the shadow root and in the host\'s state line', describe: describe(p) });
  // Property bindings ([input], [muted], [autoplay]) reflect to attributes;
  // [attr.base] is an attribute binding; unset [attr.engine] leaves none.
  assert.deepEqual(waiting.attrs, { input: A.uid, base: env.server.url, engine: null, autoplay: true, muted: false });
  assert.equal(waiting.elementState, 'waiting', 'the element\'s state property');
  assert.equal(waiting.hostState, 'waiting', 'the host saw statechange → waiting');

  // [waiting a few seconds: the player polls lifecycle only]
  await sleep(1500);
  const tStart = Date.now();
  [vA, vB] = await Promise.all([env.control.startBroadcast(A.uid), env.control.startBroadcast(B.uid)]);
  log(`broadcasts live after ${Date.now() - tStart} ms: A=${vA.videoUID} B=${vB.videoUID}`);

  const live = await waitLivePlaying(p, { timeout: 40_000 });
  assert.ok(live.video.src, 'the video has a source');

  // The host's own (event) handlers got the events: its state line, its
  // viewer count, its panel, with the right video uid; the panel shows the
  // detail JSON as text.
  const r = await waitFor(async () => {
    const h = await readHost(p);
    return h.hostState === 'live' && h.hostViewers === '1234 watching' && h.panel.some((e) => e.type === 'livestart') && h;
  }, { timeout: 20_000, what: 'the host panel to show live, 1234 viewers, livestart', describe: describe(p) });
  const details = (type) => r.panel.filter((e) => e.type === type).map((e) => JSON.parse(e.detail));
  assert.deepEqual(details('livestart'), [{ videoUID: vA.videoUID }], 'one livestart, with the broadcast\'s videoUID');
  assert.ok(details('statechange').some((d) => d.state === 'live'), 'statechange → live in the panel');
  assert.ok(details('statechange').some((d) => d.state === 'waiting'), 'statechange → waiting in the panel');
  assert.ok(details('viewerschange').some((d) => d.viewers === 1234), 'viewerschange 1234 in the panel');
  for (const e of r.panel) assert.ok(!/</.test(e.html), `panel detail rendered as text: ${e.html}`);
  // Every event the player dispatched reached the host's handlers.
  const ev = await ngEvents(p);
  const dispatched = Object.values(ev.counts).reduce((a, b) => a + b, 0);
  assert.equal(r.eventCount, dispatched, `host counted ${r.eventCount} events, the page saw ${dispatched}: ${JSON.stringify(ev.counts)}`);
  assert.deepEqual(ev.errors, {}, 'no playererror');

  // Assets: the wasm from /jitsi-live-player/ (configure({ assetBase })),
  // fetched once; hls.js where the player uses it (core/src/engine.rs:
  // hls.js on this Chromium, which keeps all of a native live stream),
  // fetched once from the same base; on native HLS never before the first
  // frame (the player may switch to hls.js after native HLS played a frame
  // and gave up, which the player documents).
  const base = new URL(env.server.url);
  const wasm = p.net.filter((x) => WASM_FILE.test(x.url));
  assert.deepEqual(wasm.map((x) => new URL(x.url).pathname), ['/jitsi-live-player/jitsi_live_player_bg.wasm']);
  assert.equal(wasm[0].done, 'finished');
  assert.equal(new URL(wasm[0].url).origin, base.origin);
  const firstLive = ev.last.find((e) => e.type === 'statechange' && e.detail.state === 'live');
  const hls = p.net.filter((x) => HLS_FILE.test(x.url));
  const firstFrame = ev.last.find((e) => e.type === 'metrics' && e.detail.type === 'first-frame');
  log(`first frame ${JSON.stringify(firstFrame.detail)}; hls.js requests: ${hls.length}`);
  if (firstFrame.detail.engine === 'native') {
    assert.deepEqual(hls.filter((x) => x.t < firstLive.t).map((x) => x.url), [], 'hls.js not fetched before the first frame on native HLS');
  } else {
    assert.equal(hls.length, 1, 'hls.js fetched once');
  }
  if (hls.length) assert.deepEqual(hls.map((x) => new URL(x.url).pathname), ['/jitsi-live-player/hls.min.js']);
  assertClean(p);
});

test('theme: the host\'s --jlp-* variables and color-scheme change the player inside its shadow root (screenshots)', { timeout: 60_000 }, async () => {
  const p = page;
  const light = await readHost(p);
  assert.match(light.theme, /theme-light/);
  assert.equal(light.badge, 'rgb(225, 29, 72)', 'LIVE badge takes --jlp-live (light)');
  assert.equal(light.radius, '18px', 'stage takes --jlp-radius (light)');
  assert.equal(light.scheme, 'light');
  fs.mkdirSync(OUTPUT, { recursive: true });
  const shots = {};
  const shoot = async (label, width, height) => {
    await p.page.setViewportSize({ width, height });
    await sleep(600);
    const file = path.join(OUTPUT, `angular-host-${label}-${width}.png`);
    await p.page.screenshot({ path: file });
    shots[`${label}-${width}`] = file;
  };
  await shoot('light', 1440, 900);
  await shoot('light', 360, 780);

  // A real click on the host's theme switch.
  await p.page.click('[data-host="theme"]');
  const dark = await waitFor(async () => { const r = await readHost(p); return r.scheme === 'dark' && r; },
    { timeout: 5000, what: 'dark theme', describe: describe(p) });
  assert.match(dark.theme, /theme-dark/);
  assert.equal(dark.badge, 'rgb(22, 163, 74)', 'LIVE badge follows --jlp-live (dark)');
  assert.equal(dark.radius, '4px', 'stage follows --jlp-radius (dark)');
  assert.notEqual(dark.badge, light.badge);
  assert.equal(dark.state, 'live', 'the theme change did not disturb playback');
  await shoot('dark', 360, 780);
  await shoot('dark', 1440, 900);
  // The README's pictures: refreshed with E2E_UPDATE_DOCS=1 (or when
  // missing), so that ordinary runs leave the work tree clean.
  for (const [shot, doc] of [['dark-1440', 'angular-host-1440.png'], ['light-360', 'angular-host-360.png']]) {
    const dest = path.join(REPO, 'docs/screenshots', doc);
    if (process.env.E2E_UPDATE_DOCS === '1' || !fs.existsSync(dest)) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(shots[shot], dest);
    }
  }
  log(`screenshots: ${Object.values(shots).map((f) => path.relative(REPO, f)).join(' ')}`);
  assertClean(p);
});

test('stream switch through the [input] binding: plays input2, the first stream\'s requests stop', { timeout: 60_000 }, async () => {
  const p = page;
  const tClick = Date.now();
  await hostClick(p, 'stream-2');
  const sw = await waitFor(async () => {
    const r = await readHost(p);
    const ev = await ngEvents(p);
    return r.attrs && r.attrs.input === B.uid && ev.last.some((e) => e.type === 'livestart' && e.detail.videoUID === vB.videoUID) && r;
  }, { timeout: 20_000, what: 'the element on input2 and livestart for its broadcast', describe: describe(p) });
  assert.equal(sw.attrs.base, env.server.url);
  await waitLivePlaying(p, { what: 'input2 live and playing' });
  const tLive = Date.now();
  log(`switched to input2 in ${tLive - tClick} ms`);
  assert.ok(requestsTo(p, B.uid, tClick).some((x) => /\.m3u8/.test(x.url)), 'input2\'s playlist requested');

  // Give aborted requests a moment, then watch for 5 s: nothing for A, while
  // B keeps loading.
  await sleep(1000);
  const tWatch = Date.now();
  await sleep(5000);
  const late = requestsTo(p, A.uid, tWatch).map((x) => x.url);
  assert.deepEqual(late, [], 'no request for the first stream after the switch');
  const pendingA = requestsTo(p, A.uid).filter((x) => !x.done).map((x) => x.url);
  assert.deepEqual(pendingA, [], 'no request for the first stream left pending');
  assert.ok(requestsTo(p, B.uid, tWatch).length > 0, 'input2 still loading');
  const videos = await videosInHeap(p.page);
  assert.equal(videos.holding.length, 1, `one <video> holding a source: ${JSON.stringify(videos.all)}`);
  assert.ok(videos.holding[0].connected, 'the one in the shadow root');
  assert.ok(!videos.holding[0].currentSrc.includes(A.uid), `the video is not on the first stream: ${videos.holding[0].currentSrc}`);
  const h = await readHost(p);
  assert.equal(h.state, 'live');
  assertClean(p);
});

test('element re-shown (wasm already loaded): takes its bindings at once, no configuration error, plays', { timeout: 60_000 }, async () => {
  const p = page;
  const ev0 = await ngEvents(p);
  const panel0 = (await readHost(p)).eventCount;
  await hostClick(p, 'toggle');
  await waitFor(async () => !(await readHost(p)).element, { timeout: 5000, what: 'hidden' });
  const gone = await videosInHeap(p.page);
  assert.deepEqual(gone.holding, [], 'hidden: no <video> holding a source');
  await hostClick(p, 'toggle');
  // Angular inserts the element, then sets its bindings in the same task.
  const r = await waitLivePlaying(p, { what: 're-shown element playing input2' });
  assert.equal(r.attrs.input, B.uid, 'the stream binding survived the toggle');
  const ev1 = await ngEvents(p);
  const fresh = ev1.last.filter((e) => e.t > Math.max(0, ...ev0.last.map((x) => x.t)));
  assert.deepEqual(fresh.filter((e) => e.type === 'playererror').map((e) => e.detail), [],
    'no playererror while Angular applies the bindings of a new element');
  assert.ok(fresh.some((e) => e.type === 'livestart' && e.detail.videoUID === vB.videoUID), 'livestart for input2 again');
  assert.ok((await readHost(p)).eventCount > panel0, 'the host received the new element\'s events');
  assertClean(p);
});

test('mount() variant: plays, takes new options, toggles off and on without leftovers', { timeout: 90_000 }, async () => {
  const p = await openHost(env, { query: query({ variant: 'mount' }), name: 'mount' });
  await waitLivePlaying(p, { what: 'mount(): live and playing' });
  let h = await waitFor(async () => { const r = await readHost(p); return r.panel.some((e) => e.type === 'livestart') && r; },
    { timeout: 10_000, what: 'livestart in the panel', describe: describe(p) });
  assert.equal(h.element, false, 'no custom element in this variant');
  assert.deepEqual(h.panel.filter((e) => e.type === 'livestart').map((e) => JSON.parse(e.detail).videoUID), [vA.videoUID]);
  // Styles went into the document (the target is in light DOM), scoped by .jlp.
  assert.equal(h.radius, '18px', 'themed by the host');

  // New options through the component's input → handle.update().
  await hostClick(p, 'stream-2');
  await waitFor(async () => (await ngEvents(p)).last.some((e) => e.type === 'livestart' && e.detail.videoUID === vB.videoUID),
    { timeout: 20_000, what: 'livestart for input2 after update()', describe: describe(p) });
  h = await waitLivePlaying(p, { what: 'mount(): input2 playing' });

  // Off: DestroyRef unmounts. On again: a fresh mount plays.
  const toggle = async (want) => {
    await hostClick(p, 'toggle');
    await waitFor(async () => (await p.peek('!!document.querySelector("[data-host=mount-target]")')) === want,
      { timeout: 5000, what: `mount target ${want ? 'present' : 'gone'}` });
  };
  await toggle(false);
  await sleep(1000);
  const base = await readProbe(p.page);
  for (let i = 0; i < 10; i++) {
    await toggle(true);
    if (i === 9) await waitLivePlaying(p, { what: 'mount(): playing after re-showing' });
    else await sleep(100 + i * 40);
    await toggle(false);
  }
  await sleep(1500);
  const now = await readProbe(p.page);
  assert.deepEqual(leaksBesidesMedia(leaksSince(base, now)), [], 'nothing left after 10 mount/unmount cycles');
  assert.equal(now.videosInPage, 0);
  const videos = await videosInHeap(p.page);
  assert.deepEqual(videos.holding, [], 'no <video> holding a source, attached or detached');
  const ev = await ngEvents(p);
  assert.deepEqual(ev.errors, {}, 'no playererror');
  assertClean(p);
  await p.close();
});

// Runs show/hide cycles [from, to) inside the page (no CDP round trip per
// click), waiting with the probe's uncounted timers: every 10th cycle until
// the player is live (a new hls.js instance), the others a varying
// 0-190 ms (hidden while starting up, polling lifecycle, fetching the
// manifest, or playing).
const CYCLES_IN_PAGE = (from, to) => `(async () => {
  const P = window.__probe;
  const btn = () => document.querySelector('[data-host="toggle"]');
  const el = () => document.querySelector('jitsi-live-player');
  const state = () => { const e = el(); const j = e && e.shadowRoot.querySelector('.jlp'); return j ? j.dataset.playerState : 'none'; };
  const out = { lives: 0, hiddenIn: {} };
  for (let i = ${from}; i < ${to}; i++) {
    btn().click();
    if (!(await P.until(el, 5000))) throw new Error('cycle ' + i + ': the element did not appear');
    if (i % 10 === 0) {
      if (!(await P.until(() => state() === 'live', 20000))) throw new Error('cycle ' + i + ': not live but ' + state());
      out.lives++;
    } else {
      await P.sleep(((i + 1000) * 37) % 190);
    }
    out.hiddenIn[state()] = (out.hiddenIn[state()] || 0) + 1;
    btn().click();
    if (!(await P.until(() => !el(), 5000))) throw new Error('cycle ' + i + ': the element stayed');
    await P.sleep(((i + 1000) * 13) % 30);
  }
  return out;
})()`;

test('leak: 200 show/hide cycles of the element on hls.js leave no player, timer, listener, request or heap behind', { timeout: 170_000 }, async () => {
  const p = await openHost(env, { query: query({ engine: 'hlsjs' }), name: 'leak', engine: 'hlsjs' });
  // Warm up: wasm, hls.js (fetched once) and Angular loaded, one hls.js
  // playback, then 50 cycles so that V8 has compiled the paths the cycles
  // take (bytecode and feedback live in the JS heap: without this the first
  // 50 cycles add ~1.3 MB, then the heap is flat); hidden: that is the
  // baseline.
  await waitLivePlaying(p, { what: 'hls.js playback before the cycles' });
  const first = await readProbe(p.page, { details: false });
  assert.ok(first.hls.created >= 1, 'hls.js is really used');
  assert.equal(first.media.withSource[0].currentSrc.slice(0, 5), 'blob:', 'MSE playback');
  await hostClick(p, 'toggle');
  await waitFor(async () => !(await readHost(p)).element, { timeout: 5000, what: 'hidden' });
  await evalInPage(p.page, CYCLES_IN_PAGE(-50, 0));
  await sleep(1500);
  const base = await readProbe(p.page);
  const baseListeners = await cdpListeners(p.page);
  const ev0 = await ngEvents(p);
  const heaps = [await forceGcAndHeap(p.page)];
  const snap0 = await heapSummary(p.page);
  log(`baseline: heap ${mb(heaps[0].usedSize)}, wasm memory ${heaps[0].wasmMemories.map(mb).join(', ')}, timers pending ${base.timers.pending}, listeners ${base.listeners.total}`);

  const CYCLES = 200;
  const t0 = Date.now();
  const stats = { lives: 0, hiddenIn: {} };
  for (let from = 0; from < CYCLES; from += 50) {
    const s = await evalInPage(p.page, CYCLES_IN_PAGE(from, from + 50));
    stats.lives += s.lives;
    for (const [k, n] of Object.entries(s.hiddenIn)) stats.hiddenIn[k] = (stats.hiddenIn[k] || 0) + n;
    if (from + 50 < CYCLES) heaps.push(await forceGcAndHeap(p.page, { rounds: 2 }));
  }
  const cyclesMs = Date.now() - t0;
  await sleep(2000);

  const now = await readProbe(p.page);
  const listeners = await cdpListeners(p.page);
  heaps.push(await forceGcAndHeap(p.page));
  const snap1 = await heapSummary(p.page);
  const [heap0, heap1] = [heaps[0], heaps[heaps.length - 1]];
  const hlsObjects = await heapObjects(p.page, 'window.Hls.prototype');
  const videos = await videosInHeap(p.page);
  const mediaSources = await heapObjects(p.page, 'MediaSource.prototype', '(m) => m.readyState');
  const ev1 = await ngEvents(p);
  const hlsReqs = p.net.filter((x) => HLS_FILE.test(x.url));
  const pending = p.net.filter((x) => !x.done && !/^(data|blob):/.test(x.url)).map((x) => x.url);
  const growth = heap1.usedSize - heap0.usedSize;
  const figures = {
    cycles: CYCLES, cyclesMs, livePlaybacks: stats.lives, hiddenIn: stats.hiddenIn,
    hls: now.hls, hlsHeapObjects: hlsObjects.length,
    heapEvery50: heaps.map((h) => mb(h.usedSize)).join(' → '), heapGrowth: `${(growth / 1024).toFixed(0)} KB`,
    snapshot: { total: `${mb(snap0.total)} → ${mb(snap1.total)}`, jsData: `${mb(snap0.jsBytes)} → ${mb(snap1.jsBytes)}`, code: `${mb(snap0.byType.code || 0)} → ${mb(snap1.byType.code || 0)}`, detached: `${JSON.stringify(snap0.detached)} → ${JSON.stringify(snap1.detached)}` },
    wasmMemory: `${heap0.wasmMemories.map(mb).join(',')} → ${heap1.wasmMemories.map(mb).join(',')}`,
    timers: { pending: now.timers.pending, created: now.timers.created, fired: now.timers.fired, cleared: now.timers.cleared },
    listeners: { probe: `${base.listeners.total} → ${now.listeners.total}`, cdp: `${Object.values(baseListeners).reduce((a, b) => a + b, 0)} → ${Object.values(listeners).reduce((a, b) => a + b, 0)}` },
    fetch: { started: now.fetch.started, aborted: now.fetch.aborted, pending: now.fetch.pending.length },
    xhr: { started: now.xhr.started, pending: now.xhr.pending.length },
    videosInHeap: videos.all.length, mediaSourcesInHeap: mediaSources.length,
    blobUrls: now.blobUrls, events: ev1.counts, playererrors: ev1.errors,
  };
  log(`leak figures: ${JSON.stringify(figures)}`);

  assert.equal(stats.lives, CYCLES / 10, 'every 10th cycle reached live');
  assert.ok(now.hls.created >= first.hls.created + CYCLES / 10, `hls.js instances created: ${now.hls.created}`);
  assert.deepEqual(leaksBesidesMedia(leaksSince(base, now)), [], 'probe: nothing left behind');
  assert.equal(now.hls.notDestroyed, 0, 'every hls.js instance destroyed');
  assert.equal(hlsObjects.length, 0, 'no hls.js instance left in the heap');
  assert.deepEqual(videos.holding, [], 'no <video> holding a source, attached or detached');
  assert.equal(videos.all.length, 0, 'no <video> left in the heap at all');
  assert.equal(now.videosInPage, 0, 'no <video> in the document or a shadow root');
  assert.deepEqual(mediaSources, [], 'no MediaSource left');
  assert.equal(now.timers.pending, base.timers.pending, 'no pending timer or interval');
  assert.equal(now.timers.pendingIntervals, 0, 'no interval');
  assert.deepEqual(listeners, baseListeners, 'window/document listeners as before (CDP)');
  assert.deepEqual(now.fetch.pending, [], 'no pending fetch');
  assert.deepEqual(now.xhr.pending, [], 'no pending XHR');
  assert.deepEqual(pending, [], 'no request pending on the network');
  assert.equal(now.blobUrls.live, base.blobUrls.live, 'blob URLs revoked');
  assert.deepEqual(hlsReqs.map((x) => new URL(x.url).pathname), ['/jitsi-live-player/hls.min.js'], 'hls.js fetched once, from the assetBase');
  // The wasm's linear memory never shrinks; it must not have kept growing.
  assert.ok(heap1.wasmMemories.every((m, i) => m <= (heap0.wasmMemories[i] || 0) + 2 * 1048576), `wasm memory ${figures.wasmMemory}`);
  // Runtime.getHeapUsage includes code compiled during the cycles and
  // DevTools' network buffers (see heapSummary): a loose margin; the page's
  // own JS data (heap snapshot) gets a tight one.
  assert.ok(growth < 512 * 1024, `JS heap after GC grew by ${figures.heapGrowth} (${figures.heapEvery50})`);
  const jsGrowth = snap1.jsBytes - snap0.jsBytes;
  assert.ok(jsGrowth < 64 * 1024, `the page's JS data grew by ${(jsGrowth / 1024).toFixed(0)} KB (${figures.snapshot.jsData})`);
  for (const [name, n] of Object.entries(snap1.detached)) {
    assert.ok(n <= (snap0.detached[name] || 0), `detached DOM: ${name} ${snap0.detached[name] || 0} → ${n}`);
  }

  // Nothing is polled any more.
  const tQuiet = Date.now();
  await sleep(3000);
  assert.deepEqual(p.net.filter((x) => x.t >= tQuiet).map((x) => x.url), [], 'no request at all while hidden');
  assertClean(p);
  // Each re-shown element must not report a configuration error for the
  // moment between its insertion and Angular's bindings (same task).
  assert.deepEqual(ev1.errors, ev0.errors, `no playererror during the cycles: ${JSON.stringify(ev1.errors)}`);
});
