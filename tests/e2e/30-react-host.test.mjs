// The React example (examples/react, React 19 + Vite) embedding the player
// package, served by the local origin as its --dist: the stream plays inside
// the host, events reach the host's code, the host's theme reaches the
// player, a prop change switches streams, mount() works, and 200 show/hide
// cycles leave nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useHostEnv, REPO, OUTPUT, sleep } from './host-harness.mjs';
import { readProbe, forceGcAndHeap, leaksSince, mb } from './embed-probe.mjs';

const env = useHostEnv({
  name: 'react-host',
  dist: 'examples/react/dist',
  build: 'examples/react/build.sh',
  distEnv: 'E2E_REACT_DIST',
});

// Two inputs shared by the tests (A waits in test 1, then broadcasts; B
// broadcasts from test 3 on), created lazily so each test can run alone.
const inputs = {};
async function input(key) {
  inputs[key] ??= { uid: (await env.input(key)).uid, videoUID: null };
  return inputs[key];
}
async function live(key) {
  const i = await input(key);
  if (!i.videoUID || (await env.control.lifecycle(i.uid)).live !== true) {
    i.videoUID = (await env.control.startBroadcast(i.uid)).videoUID;
  }
  return i;
}
const query = (extra = {}) => ({ base: env.server.url, input: inputs.A.uid, ...(inputs.B ? { input2: inputs.B.uid } : {}), ...extra });

function assertClean(p) {
  assert.deepEqual(p.panics(), [], `${p.name}: the player panicked or trapped`);
  assert.deepEqual(p.consoleErrors(), [], `${p.name}: console errors`);
}

// Computed styles of themed pieces inside the player (shadow root or light DOM).
const THEMED = `(() => {
  const host = document.querySelector('jitsi-live-player');
  const root = (host && host.shadowRoot && host.shadowRoot.querySelector('.jlp')) || document.querySelector('.jlp');
  const cs = (sel) => { const el = root.querySelector(sel); return el ? getComputedStyle(el) : null; };
  const site = document.querySelector('.site');
  return {
    badge: cs('.jlp-badge').backgroundColor,
    radius: cs('.jlp-stage').borderRadius,
    accent: getComputedStyle(root).getPropertyValue('--jlp-i-accent').trim(),
    focus: getComputedStyle(root).getPropertyValue('--jlp-i-focus').trim(),
    colorScheme: getComputedStyle(site).colorScheme,
    pageBackground: getComputedStyle(site).backgroundColor,
  };
})()`;
// examples/react/src/app.css
const THEMES = {
  light: { badge: 'rgb(225, 29, 72)', radius: '20px', accent: '#7c3aed', focus: '#a78bfa', colorScheme: 'light' },
  dark: { badge: 'rgb(245, 158, 11)', radius: '4px', accent: '#22c55e', focus: '#fde047', colorScheme: 'dark' },
};

test('element: waits, then plays the broadcast inside the host; events reach the host', { timeout: 120_000 }, async () => {
  const a = await input('A');
  await env.control.setViewers(a.uid, 1234);
  const p = await env.openHost({ query: query(), name: 'element' });
  const waiting = await p.waitForState('waiting', 20_000);
  assert.equal(waiting.where, 'shadow', 'the player renders inside <jitsi-live-player>\'s shadow root');
  await p.waitForEvent('statechange', (d) => d.state === 'waiting' && d.previous === 'loading');
  assert.equal(p.requestsOf(a.uid, 'manifest').length, 0, 'no manifest request while idle');

  const tStart = Date.now();
  a.videoUID = (await env.control.start(a.uid, {})).videoUID;
  await p.waitForState('live', 40_000);
  await p.waitForPlaying({ timeout: 30_000, advance: 1.5 });
  const tPlaying = Date.now();
  await p.waitForEvent('livestart', (d) => d.videoUID === a.videoUID);
  await p.waitForEvent('statechange', (d) => d.state === 'live');
  await p.waitForEvent('viewerschange', (d) => d.viewers === 1234);
  const s = await p.waitUntil((x) => x.facts.video === a.videoUID && x.facts.state === 'live' && x.facts.viewers === '1234',
    { what: 'the host\'s own state (from the events) says live, the videoUID and 1234 viewers' });
  // The details are rendered as text by React (no markup in them).
  assert.equal(await p.peek(`document.querySelectorAll('.event-detail *').length`), 0, 'event details are plain text');
  console.log(`element: broadcast start → playing ${((tPlaying - tStart) / 1000).toFixed(1)} s; events: ${JSON.stringify(s.counts)}`);
  assertClean(p);
  await p.close();
});

test('theme: the host\'s variables restyle the player; screenshots', { timeout: 90_000 }, async () => {
  await live('A');
  const p = await env.openHost({ query: query({ theme: 'light' }), name: 'theme', viewport: { width: 1440, height: 900 } });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  const light = await p.peek(THEMED);
  for (const k of Object.keys(THEMES.light)) assert.equal(light[k], THEMES.light[k], `light theme: ${k}`);
  const shots = {};
  const shoot = async (label) => {
    await p.page.mouse.move(0, 0); // no hover: the player's controls fade out
    await sleep(400);
    shots[label] = await p.screenshot(path.join(OUTPUT, `react-host-${label}.png`));
  };
  await shoot('light-1440');

  await p.page.click('#theme-toggle');
  await p.waitUntil((x) => x.theme === 'dark', { what: 'dark theme' });
  await sleep(400); // the host page's own 0.2 s colour transition
  const dark = await p.peek(THEMED);
  for (const k of Object.keys(THEMES.dark)) assert.equal(dark[k], THEMES.dark[k], `dark theme: ${k}`);
  assert.notEqual(dark.badge, light.badge, 'the live badge changed colour with the host theme');
  assert.notEqual(dark.pageBackground, light.pageBackground, 'the host page changed too');
  assert.equal((await p.snapshot()).state, 'live', 'still live after the theme switch (no remount)');
  await shoot('dark-1440');

  await p.page.setViewportSize({ width: 360, height: 800 });
  await shoot('dark-360');
  await p.page.click('#theme-toggle');
  await p.waitUntil((x) => x.theme === 'light', { what: 'light theme again' });
  await shoot('light-360');
  // The picks for the docs (looked at by hand): dark on wide, light on
  // narrow. Written when missing or with E2E_UPDATE_DOCS=1, so a test run
  // does not rewrite committed images.
  for (const [from, to] of [['dark-1440', 'react-host-1440.png'], ['light-360', 'react-host-360.png']]) {
    const dest = path.join(REPO, 'docs/screenshots', to);
    if (process.env.E2E_UPDATE_DOCS === '1' || !fs.existsSync(dest)) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(shots[from], dest);
    }
  }
  console.log(`theme: light ${JSON.stringify(light)} → dark ${JSON.stringify(dark)}; screenshots: ${Object.values(shots).map((f) => path.relative(REPO, f)).join(', ')}`);
  assertClean(p);
  await p.close();
});

test('element: a prop change switches streams; the first stream\'s requests stop', { timeout: 120_000 }, async () => {
  const a = await live('A');
  const b = await live('B');
  assert.notEqual(a.videoUID, b.videoUID);
  const p = await env.openHost({ query: query(), name: 'switch' });
  await p.waitForState('live', 30_000);
  await p.waitForPlaying({ timeout: 30_000 });
  await p.waitForEvent('livestart', (d) => d.videoUID === a.videoUID);
  await p.peek(`document.querySelector('jitsi-live-player').__e2eSame = true`);

  const tSwitch = Date.now();
  await p.page.click('#stream-2');
  await p.waitForEvent('livestart', (d) => d.videoUID === b.videoUID, { timeout: 40_000 });
  await p.waitForState('live', 30_000);
  const playing = await p.waitForPlaying({ timeout: 30_000 });
  const tPlaying = Date.now();
  assert.equal(await p.peek(`document.querySelector('jitsi-live-player').getAttribute('input')`), b.uid,
    'React set the input property, reflected to the attribute');
  assert.equal(await p.peek(`document.querySelector('jitsi-live-player').__e2eSame === true`), true, 'same element: switched, not remounted');
  assert.ok(p.requestsOf(b.uid, 'manifest', tSwitch).length >= 1, 'the second stream\'s manifest was loaded');
  assert.ok(p.requestsOf(b.uid, 'segment', tSwitch).length >= 1, 'the second stream\'s segments were loaded');
  if (playing.video.engine === 'native') assert.match(playing.video.currentSrc, new RegExp(`/${b.uid}/`));

  // The first stream is let go: its playlists and segments come every ~2 s
  // while anything still plays it.
  await sleep(1500);
  const tQuiet = Date.now();
  await sleep(6000);
  const late = p.requestsOf(a.uid, null, tQuiet);
  assert.deepEqual(late.map((r) => new URL(r.url).pathname), [], 'no request for the first stream after the switch');
  assert.ok(await p.isPlaying(), 'the second stream still plays');
  console.log(`switch: click → second stream playing ${((tPlaying - tSwitch) / 1000).toFixed(1)} s (engine ${playing.video.engine}); requests for the first stream in the 6 s after: ${late.length}`);
  assertClean(p);
  await p.close();
});

test('mount(): plays, update() switches streams, unmount in the effect cleanup releases everything', { timeout: 120_000 }, async () => {
  const a = await live('A');
  const b = await live('B');
  const p = await env.openHost({ query: query({ variant: 'mount' }), name: 'mount' });
  const s = await p.waitForState('live', 30_000);
  assert.equal(s.where, 'light', 'mount() renders into the host\'s <div>');
  assert.equal(s.hostElements, 0, 'no custom element in this variant');
  await p.waitForPlaying({ timeout: 30_000 });
  await p.waitForEvent('livestart', (d) => d.videoUID === a.videoUID);

  const tSwitch = Date.now();
  await p.page.click('#stream-2');
  await p.waitForEvent('livestart', (d) => d.videoUID === b.videoUID, { timeout: 40_000 });
  await p.waitForPlaying({ timeout: 30_000 });
  assert.ok(p.requestsOf(b.uid, 'manifest', tSwitch).length >= 1, 'update() loaded the second stream');

  await p.page.click('#toggle-player');
  await p.waitUntil((x) => x.state === null && x.toggle === 'Show player', { what: 'player removed' });
  await sleep(1000);
  const tGone = Date.now();
  await sleep(4000);
  const probe = await readProbe(p.page);
  assert.deepEqual(probe.media.withSource, [], 'no media element left holding a source');
  assert.equal(probe.timers.pendingPlayer, 0, `no timer of the player pending: ${JSON.stringify(probe.timers.playerList)}`);
  assert.equal(probe.listeners.player, 0, `no window/document listener of the player: ${JSON.stringify(probe.listeners.list)}`);
  assert.deepEqual(probe.fetch.pending, [], 'no fetch pending');
  const late = [...p.requestsOf(a.uid, null, tGone), ...p.requestsOf(b.uid, null, tGone)];
  assert.deepEqual(late.map((r) => new URL(r.url).pathname), [], 'no delivery request after unmount');
  console.log(`mount(): switched and unmounted; probe: timers ${probe.timers.pending} pending, listeners ${probe.listeners.total}, hls.js ${probe.hls.created}/${probe.hls.destroyed}`);
  assertClean(p);
  await p.close();
});

// In the page: `n` show/hide cycles with the app's toggle button, starting
// at cycle `from`. Most cycles hide the player after 0-600 ms (teardown while
// lifecycle is in flight, hls.js attaches, ...; cycle 0 while the wasm is
// still loading); cycles 1, 21, 41, ... wait until it plays, and 11, 31, ...
// until hls.js attached its MediaSource to the video (then hide at once).
const CYCLES = (from, n) => `(async () => {
  const P = window.__probe;
  const btn = document.getElementById('toggle-player');
  const player = () => document.querySelector('jitsi-live-player');
  const video = () => { const h = player(); const r = h && h.shadowRoot; return r && r.querySelector('video'); };
  const delays = [0, 2, 15, 40, 80, 150, 300, 600];
  const out = { played: 0, attached: 0, timeouts: [] };
  for (let i = ${from}; i < ${from + n}; i++) {
    btn.click();
    if (!(await P.until(() => player(), 3000))) throw new Error('cycle ' + i + ': no player after show');
    if (i % 20 === 1) {
      const ok = await P.until(() => { const v = video(); return v && !v.paused && v.currentTime > 0.5; }, 20000, 50);
      if (ok) out.played++; else out.timeouts.push(i);
    } else if (i % 20 === 11) {
      const ok = await P.until(() => { const v = video(); return v && /^blob:/.test(v.currentSrc) && v.networkState !== 0; }, 20000, 5);
      if (ok) out.attached++; else out.timeouts.push(i);
    } else {
      await P.sleep(delays[i % delays.length]);
    }
    btn.click();
    if (!(await P.until(() => !player(), 3000))) throw new Error('cycle ' + i + ': player still there after hide');
  }
  return out;
})()`;

test('leak: 200 show/hide cycles (hls.js) leave no media, hls.js, timer, listener, request or heap behind', { timeout: 180_000 }, async () => {
  const a = await live('A');
  const p = await env.openHost({ query: query({ engine: 'hlsjs', hidden: '1' }), engine: 'hlsjs', name: 'leak' });
  await p.waitUntil((x) => x.toggle === 'Show player', { what: 'the app, player hidden' });
  await sleep(500);
  const idle = await readProbe(p.page);

  const t0 = Date.now();
  const warm = await p.peek(CYCLES(0, 10));
  await sleep(2000);
  const heap0 = await forceGcAndHeap(p.page);
  const probe0 = await readProbe(p.page);
  const rest = await p.peek(CYCLES(10, 190));
  const tCycles = Date.now() - t0;
  const tLast = Date.now();
  await sleep(2500);
  const heap1 = await forceGcAndHeap(p.page);
  const probe1 = await readProbe(p.page);
  const tQuiet = Date.now();
  await sleep(4000);
  const late = p.requestsOf(a.uid, null, tQuiet);
  // Network requests only: Chromium reports the hls.js worker's blob: script
  // as a request that never gets a response when the worker is terminated
  // while it starts (the probe counts workers: all terminated).
  const inFlight = p.inFlight().filter((r) => /^https?:/.test(r.url));

  const growth = heap1.usedSize - heap0.usedSize;
  const margin = Math.max(2 * 1048576, heap0.usedSize * 0.1);
  const wasmGrowth = (heap1.wasmMemories[0] || 0) - (heap0.wasmMemories[0] || 0);
  console.log(`leak: 200 cycles in ${(tCycles / 1000).toFixed(1)} s; played ${warm.played + rest.played}, hidden right at hls.js's attach ${warm.attached + rest.attached}, waits timed out: ${JSON.stringify([...warm.timeouts, ...rest.timeouts])}`);
  console.log(`leak: hls.js created ${probe1.hls.created}, destroyed ${probe1.hls.destroyed}; workers ${probe1.workers.created}/${probe1.workers.terminated}; blob URLs live ${idle.blobUrls.live} → ${probe1.blobUrls.live} (created ${probe1.blobUrls.created}); media elements given a source ${probe1.media.tracked}, still in memory ${probe1.media.alive}`);
  console.log(`leak: timers pending idle ${idle.timers.pending} → after 10 ${probe0.timers.pending} → after 200 ${probe1.timers.pending} (player's: ${probe1.timers.pendingPlayer}; created by the player ${probe1.timers.created.player}, by others ${probe1.timers.created.other}); window/document listeners ${idle.listeners.total} → ${probe0.listeners.total} → ${probe1.listeners.total} (added by the player ${probe1.listeners.added.player || 0})`);
  console.log(`leak: fetches ${probe1.fetch.started} (aborted ${probe1.fetch.aborted}), XHRs ${probe1.xhr.started}; pending now ${probe1.fetch.pending.length} + ${probe1.xhr.pending.length}`);
  console.log(`leak: JS heap after 10 cycles ${mb(heap0.usedSize)}, after 200 ${mb(heap1.usedSize)} (${growth >= 0 ? '+' : ''}${(growth / 1024).toFixed(0)} KB, margin ${mb(margin)}); wasm memory ${mb(heap0.wasmMemories[0] || 0)} → ${mb(heap1.wasmMemories[0] || 0)}`);

  assert.ok(warm.played + rest.played >= 8, `the stream played in most of the long cycles (${warm.played + rest.played} of 10)`);
  assert.ok(probe1.hls.created >= 15, `hls.js was really created in many cycles (${probe1.hls.created})`);
  assert.deepEqual(leaksSince(idle, probe1), [], 'nothing left behind after 200 cycles');
  assert.equal(probe1.videosInPage, 0, 'no <video> in the document or any shadow root');
  assert.ok(probe1.blobUrls.live <= idle.blobUrls.live, `blob URLs revoked (${idle.blobUrls.live} → ${probe1.blobUrls.live})`);
  assert.deepEqual(late.map((r) => new URL(r.url).pathname), [], `no delivery request in the 4 s after the last hide (at +${((tQuiet - tLast) / 1000).toFixed(1)} s)`);
  assert.deepEqual(inFlight.map((r) => r.url), [], 'no request in flight');
  assert.ok(growth <= margin, `JS heap after 200 cycles within ${mb(margin)} of after 10: ${mb(heap0.usedSize)} → ${mb(heap1.usedSize)}`);
  assert.ok(heap1.wasmMemories.length === 1, `the wasm memory was found (${heap1.wasmMemories.length})`);
  assert.ok(wasmGrowth <= 512 * 1024, `wasm memory grew by at most 512 KB: ${mb(heap0.wasmMemories[0])} → ${mb(heap1.wasmMemories[0])}`);
  assertClean(p);
  await p.close();
});
