// The package on a plain page (no framework): <jitsi-live-player> by script,
// two at once, reactive attributes, removal and re-adding, a bad
// configuration, theming through inherited custom properties, and mount().
// The React and Angular hosts are specs 30 and 31.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useEnv, waitFor, sleep, REPO, ROOT } from './harness.mjs';

const PKG = path.join(REPO, 'pkg/jitsi-live-player');
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-embed-host-'));
fs.copyFileSync(path.join(REPO, 'tests/embed-host/index.html'), path.join(site, 'index.html'));
fs.cpSync(PKG, path.join(site, 'jitsi-live-player'), { recursive: true });

const env = useEnv({ name: 'embed-element', server: { dist: site } });

// What the page's players look like, read through their shadow roots.
const READ = `(() => {
  const one = (host) => {
    const root = host.shadowRoot ? host.shadowRoot : host;
    const jlp = root.querySelector('.jlp');
    const v = root.querySelector('video');
    const css = (sel, prop) => { const el = root.querySelector(sel); return el ? getComputedStyle(el)[prop] : null; };
    return {
      state: jlp ? jlp.dataset.playerState : null,
      message: root.querySelector('[data-message]')?.textContent ?? null,
      src: v ? (v.currentSrc || v.getAttribute('src') || '') : null,
      time: v ? v.currentTime : null,
      radius: css('.jlp-stage', 'borderRadius'),
      badge: css('.jlp-badge', 'backgroundColor'),
    };
  };
  const out = {};
  for (const el of document.querySelectorAll('jitsi-live-player, #slot-m')) out[el.id] = one(el);
  out.videosWithSource = [...document.querySelectorAll('jitsi-live-player, #slot-m')]
    .flatMap((h) => [...(h.shadowRoot || h).querySelectorAll('video')])
    .filter((v) => v.currentSrc || v.getAttribute('src')).length;
  return out;
})()`;

async function openHost() {
  // The harness's page object gives requests, console and panics.
  const p = await env.open({ query: '', name: 'host' });
  await waitFor(() => p.peek('typeof window.__mount === "function"'), { timeout: 15_000, what: 'the host page loaded' });
  return p;
}

const events = (p, type, who) =>
  p.peek(`window.__events.filter((e) => e.type === ${JSON.stringify(type)}${who ? ` && e.who === ${JSON.stringify(who)}` : ''})`);

const requestsTo = (p, uid, since = 0) =>
  p.allRequests.filter((r) => r.url.includes(`/${uid}/`) && /\.(m3u8|ts)(\?|$)/.test(r.url) && r.t >= since);

test('two elements, events, reactive input, removal and re-adding', { timeout: 150_000 }, async () => {
  const [a, b] = [await env.input('a'), await env.input('b')];
  const base = env.server.url;
  const v1 = await env.control.startBroadcast(a.uid);
  const p = await openHost();
  await p.peek(`(() => {
    const make = (id, input, slot) => {
      const el = document.createElement('jitsi-live-player');
      el.id = id; el.base = ${JSON.stringify(base)}; el.input = input; el.muted = true; el.autoplay = true;
      document.getElementById(slot).append(el);
    };
    make('pa', ${JSON.stringify(a.uid)}, 'slot-a');
    make('pb', ${JSON.stringify(b.uid)}, 'slot-b');
  })()`);

  // A plays its live broadcast; B, on an idle input, waits.
  const live = await waitFor(async () => {
    const r = await p.peek(READ);
    return r.pa.state === 'live' && r.pa.time > 1 && r.pb.state === 'waiting' && r;
  }, { timeout: 45_000, what: 'A live and playing, B waiting', describe: () => p.peek(READ).then(JSON.stringify) });
  assert.equal(live.pa.radius, '14px', 'default radius');
  // Styles stay on their side of the shadow root, both ways.
  const leak = await p.peek(`(() => {
    const root = document.getElementById('pa').shadowRoot;
    const b = getComputedStyle(root.querySelector('button[data-action="retry"]'));
    const decoy = getComputedStyle(document.getElementById('decoy'));
    return { buttonColor: b.color, videoOpacity: getComputedStyle(root.querySelector('video')).opacity,
      decoyRadius: decoy.borderTopLeftRadius, decoyAspect: decoy.aspectRatio };
  })()`);
  assert.notEqual(leak.buttonColor, 'rgb(255, 0, 0)', "the host's button rule does not reach the player's buttons");
  assert.equal(leak.videoOpacity, '1', "the host's video rule does not reach the player's video");
  assert.equal(leak.decoyRadius, '0px', "the player's .jlp-stage rule does not reach the host's element");
  assert.equal(leak.decoyAspect, 'auto', "the player's .jlp-stage rule does not reach the host's element");
  assert.equal(live.pb.radius, '2px', 'B takes --jlp-radius from an ancestor through the shadow root');
  // The page object reads a player in a shadow root as on the watch page.
  const inA = p.at(ROOT.shadow('#pa'));
  await inA.waitForPlaying({ timeout: 15_000 });
  const inB = await p.at(ROOT.shadow('#pb')).snapshot();
  assert.equal(inB.state, 'waiting', "B's page object sees B");
  assert.equal(inB.buttons.retry.present, true, "B's buttons are found in its shadow root");

  const starts = await events(p, 'livestart', 'pa');
  assert.equal(starts.length, 1, 'one livestart for A');
  assert.equal(starts[0].detail.videoUID, v1.videoUID, 'livestart carries the broadcast video uid');
  assert.deepEqual((await events(p, 'livestart', 'pb')), [], 'no livestart for B');
  const statesA = (await events(p, 'statechange', 'pa')).map((e) => e.detail.state);
  assert.deepEqual(statesA.slice(-1), ['live'], `A's state events end in live: ${statesA}`);
  const statesB = (await events(p, 'statechange', 'pb')).map((e) => `${e.detail.previous}→${e.detail.state}`);
  assert.deepEqual(statesB, ['loading→waiting'], 'B: loading → waiting');
  const firstFrame = (await events(p, 'metrics', 'pa')).find((e) => e.detail.type === 'first-frame');
  assert.ok(firstFrame && firstFrame.detail.ms > 0 && firstFrame.detail.live === true, `first-frame metric: ${JSON.stringify(firstFrame)}`);
  const quality = (await events(p, 'metrics', 'pa')).find((e) => e.detail.type === 'quality');
  assert.ok(quality && quality.detail.height > 0, 'quality metric with the picture size');
  console.log(`A: first frame ${firstFrame.detail.ms} ms after load (${firstFrame.detail.engine}), ${quality.detail.width}x${quality.detail.height}`);

  // Viewers: the count reaches the host (views every 30 s ±20 %: at most 36 s).
  await env.control.setViewers(a.uid, 42);
  await waitFor(async () => (await events(p, 'viewerschange', 'pa')).some((e) => e.detail.viewers === 42),
    { timeout: 50_000, what: 'viewerschange 42' });

  // Switch A to B's input, where a broadcast now starts: A plays B's
  // stream and stops loading A's.
  const v2 = await env.control.startBroadcast(b.uid);
  await p.peek(`document.getElementById('pa').input = ${JSON.stringify(b.uid)}`);
  const tSwitch = Date.now();
  await waitFor(async () => {
    const r = await p.peek(READ);
    return r.pa.state === 'live' && r.pa.time > 1 && requestsTo(p, b.uid, tSwitch).length > 0 && r;
  }, { timeout: 45_000, what: "A plays B's stream", describe: () => p.peek(READ).then(JSON.stringify) });
  await sleep(4_000);
  const late = requestsTo(p, a.uid, Date.now() - 3_000);
  assert.deepEqual(late.map((r) => r.url), [], "no request for A's old stream 1 s after the switch");
  const endsA = await events(p, 'liveend', 'pa');
  assert.equal(endsA.length, 0, 'a switch by the host is not a broadcast end');
  const startsA = (await events(p, 'livestart', 'pa')).map((e) => e.detail.videoUID);
  assert.deepEqual(startsA, [v1.videoUID, v2.videoUID], 'the new element session announced the new broadcast');

  // B, waiting on the same input, finds the broadcast at its own next
  // lifecycle poll (up to ~6 s after A did): live before the count below.
  await waitFor(async () => (await p.peek(READ)).pb?.state === 'live', { timeout: 30_000, what: 'B live on its input' });

  // Removing the element releases its video; re-adding mounts again.
  await p.peek(`window.__pa = document.getElementById('pa'); window.__pa.remove()`);
  await sleep(500);
  const removed = await p.peek(READ);
  assert.equal(removed.pa, undefined);
  assert.equal(await p.peek(`window.__pa.shadowRoot.querySelectorAll('video').length`), 0, 'no <video> left in the removed element');
  assert.equal(removed.videosWithSource, 1, "only B's <video> still has a source");
  await p.peek(`document.getElementById('slot-a').append(window.__pa)`);
  await waitFor(async () => (await p.peek(READ)).pa?.state === 'live', { timeout: 45_000, what: 'A live again after re-adding' });

  // Stopping the broadcast: liveend with its uid, back to waiting.
  await env.control.stop(b.uid);
  await waitFor(async () => (await events(p, 'liveend', 'pa')).some((e) => e.detail.videoUID === v2.videoUID),
    { timeout: 60_000, what: 'liveend for the stopped broadcast' });
  assert.deepEqual(p.pageErrors, [], 'no page errors');
  assert.deepEqual(p.consoleErrors().filter((c) => !/Failed to load resource/.test(c.text)), [], 'no console errors');
  assert.deepEqual(p.panics(), []);
});

test('a bad configuration is shown and reported, and fixed by setting the attribute', { timeout: 60_000 }, async () => {
  const a = await env.input('c');
  const p = await openHost();
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'pc'; el.setAttribute('base', ${JSON.stringify(env.server.url)});
    document.getElementById('slot-a').append(el);
  })()`);
  const err = await waitFor(async () => (await events(p, 'playererror', 'pc'))[0], { timeout: 15_000, what: 'playererror' });
  assert.equal(err.detail.code, 'config');
  assert.ok(err.detail.message.length > 10, `a plain message: ${err.detail.message}`);
  assert.equal((await p.peek(READ)).pc.state, 'error', 'the player shows the problem');
  await p.peek(`document.getElementById('pc').setAttribute('input', ${JSON.stringify(a.uid)})`);
  await waitFor(async () => (await p.peek(READ)).pc.state === 'waiting', { timeout: 15_000, what: 'waiting after the fix' });
  assert.deepEqual(p.panics(), []);
});

test('mount(): update switches, same options do nothing, unmount is idempotent', { timeout: 90_000 }, async () => {
  const [a, b] = [await env.input('m1'), await env.input('m2')];
  await env.control.startBroadcast(b.uid);
  const p = await openHost();
  await p.peek(`window.__h = window.__mount(document.getElementById('slot-m'), { base: ${JSON.stringify(env.server.url)}, input: ${JSON.stringify(a.uid)}, muted: true })`);
  await waitFor(async () => (await p.peek(READ))['slot-m'].state === 'waiting', { timeout: 20_000, what: 'mounted and waiting' });
  assert.equal(await p.peek('window.__h.state'), 'waiting', 'handle.state');
  const before = (await p.peek(`window.__events.length`));
  await p.peek(`window.__h.update({ base: ${JSON.stringify(env.server.url)}, input: ${JSON.stringify(a.uid)}, muted: true })`);
  await sleep(300);
  assert.equal(await p.peek(`window.__events.filter((e) => e.type === 'statechange').length`),
    await p.peek(`window.__events.slice(0, ${before}).filter((e) => e.type === 'statechange').length`), 'no remount for the same options');
  await p.peek(`window.__h.update({ base: ${JSON.stringify(env.server.url)}, input: ${JSON.stringify(b.uid)}, muted: true })`);
  await waitFor(async () => (await p.peek(READ))['slot-m'].state === 'live', { timeout: 45_000, what: 'live after update' });
  // The page object reads a mount() target too.
  await p.at(ROOT.mount('#slot-m')).waitForPlaying({ timeout: 30_000 });
  await p.peek(`window.__h.unmount(); window.__h.unmount()`);
  const after = await p.peek(READ);
  assert.equal(after['slot-m'].state, null, 'nothing left in the target');
  assert.equal(after.videosWithSource, 0, 'no <video> with a source');
  assert.equal(await p.peek('window.__h.state'), 'loading');
  assert.deepEqual(p.pageErrors, []);
  assert.deepEqual(p.panics(), []);
});

test('lang: the attribute and the mount() option pick the catalogue (from the package\'s i18n/), and changing it re-renders', { timeout: 60_000 }, async () => {
  const a = await env.input('lang');
  const p = await openHost();
  const title = (id) => p.peek(`(() => {
    const host = document.getElementById(${JSON.stringify(id)});
    const jlp = (host.shadowRoot || host).querySelector('.jlp');
    return jlp ? { lang: jlp.getAttribute('lang'), dir: jlp.getAttribute('dir'), title: jlp.querySelector('.jlp-title').textContent } : null;
  })()`);
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'pl'; el.setAttribute('lang', 'fr'); el.setAttribute('base', ${JSON.stringify(env.server.url)}); el.setAttribute('input', ${JSON.stringify(a.uid)});
    document.getElementById('slot-a').append(el);
    window.__hl = window.__mount(document.getElementById('slot-m'), { base: ${JSON.stringify(env.server.url)}, input: ${JSON.stringify(a.uid)}, lang: 'pt-BR' });
  })()`);
  await waitFor(async () => (await title('pl'))?.title === 'Le direct va bientôt commencer', { timeout: 20_000, what: 'French in the element' });
  await waitFor(async () => (await title('slot-m'))?.title === 'A transmissão começará em breve', { timeout: 20_000, what: 'Brazilian Portuguese from mount()' });
  assert.equal(await p.peek(`document.getElementById('pl').lang`), 'fr', 'lang is the element\'s own property');
  await p.peek(`document.getElementById('pl').lang = 'ar'`);
  await waitFor(async () => { const t = await title('pl'); return t && t.dir === 'rtl' && t.title === 'سيبدأ البث قريبًا'; }, { timeout: 20_000, what: 'Arabic after setting lang' });
  const fetched = p.allRequests.map((r) => r.url).filter((u) => /\/i18n\//.test(u)).map((u) => new URL(u).pathname);
  assert.deepEqual(fetched.sort(), ['/jitsi-live-player/i18n/ar.json', '/jitsi-live-player/i18n/fr.json', '/jitsi-live-player/i18n/pt-BR.json']);
  await p.peek('window.__hl.unmount()');
  assert.deepEqual(p.panics(), []);
});

test('hls.js in the element: a stall reaches the host as a metric, then playback goes on', { timeout: 90_000 }, async () => {
  const a = await env.input('s');
  await env.control.startBroadcast(a.uid);
  const p = await openHost();
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'ps'; el.base = ${JSON.stringify(env.server.url)}; el.input = ${JSON.stringify(a.uid)};
    el.engine = 'hlsjs'; el.muted = true; el.autoplay = true;
    document.getElementById('slot-a').append(el);
  })()`);
  await waitFor(async () => { const r = (await p.peek(READ)).ps; return r.state === 'live' && r.time > 1; },
    { timeout: 45_000, what: 'live on hls.js' });
  const ff = (await events(p, 'metrics', 'ps')).find((e) => e.detail.type === 'first-frame');
  assert.equal(ff?.detail.engine, 'hlsjs', 'first-frame metric names the engine');
  assert.equal(p.hlsjsRequests().length, 1, 'hls.js fetched once, from the package');
  // Segments fail long enough to drain the buffer, then come back.
  const tFault = Date.now();
  await env.control.setFaults(a.uid, { segments404: true });
  await waitFor(async () => (await p.peek(`document.getElementById('ps').shadowRoot.querySelector('.jlp').classList.contains('jlp-is-buffering')`)),
    { timeout: 30_000, what: 'buffering while segments fail' });
  await sleep(1_500);
  await env.control.clearFaults(a.uid);
  // The stall the fault caused (short natural ones may come before it).
  const stall = await waitFor(async () => (await events(p, 'metrics', 'ps')).find((e) => e.detail.type === 'stall' && e.t >= tFault && e.detail.ms >= 1_000),
    { timeout: 40_000, what: 'a stall metric of at least 1 s', describe: () => p.peek(READ).then(JSON.stringify) });
  assert.ok(stall.detail.ms >= 1_000, `the stall lasted ${stall.detail.ms} ms`);
  await waitFor(async () => { const r = (await p.peek(READ)).ps; return r.state === 'live' && r; },
    { timeout: 40_000, what: 'live again' });
  console.log(`stall metric: ${stall.detail.ms} ms`);
  assert.deepEqual(p.panics(), []);
});

test('the wasm fails to load: a plain message, then the player comes by itself', { timeout: 60_000 }, async () => {
  const a = await env.input('w');
  const p = await openHost();
  let refused = 0;
  await p.page.route('**/jitsi_live_player_bg.wasm', (route) => (refused++ < 1 ? route.abort('connectionrefused') : route.continue()));
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'pw'; el.base = ${JSON.stringify(env.server.url)}; el.input = ${JSON.stringify(a.uid)};
    document.getElementById('slot-a').append(el);
  })()`);
  const err = await waitFor(async () => (await events(p, 'playererror', 'pw'))[0], { timeout: 15_000, what: 'playererror' });
  assert.equal(err.detail.code, 'network');
  assert.equal(err.detail.retryInMs, 2_000);
  const shown = (await p.peek(READ)).pw;
  assert.equal(shown.state, 'error', 'the error card, not a blank element');
  assert.match(shown.message, /could not be loaded/);
  await waitFor(async () => (await p.peek(READ)).pw.state === 'waiting', { timeout: 15_000, what: 'waiting once the wasm loads' });
  assert.equal(refused, 2, 'loaded on the second try');
  assert.deepEqual(p.panics(), []);
});

test("the wasm fails to load: the card reads in the viewer's language", { timeout: 60_000 }, async () => {
  const a = await env.input('wl');
  const p = await openHost();
  let refused = 0;
  await p.page.route('**/jitsi_live_player_bg.wasm', (route) => (refused++ < 1 ? route.abort('connectionrefused') : route.continue()));
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'pwl'; el.lang = 'de'; el.base = ${JSON.stringify(env.server.url)}; el.input = ${JSON.stringify(a.uid)};
    document.getElementById('slot-a').append(el);
  })()`);
  const german = await waitFor(async () => {
    const r = (await p.peek(READ)).pwl;
    return r.state === 'error' && /konnte nicht geladen werden/.test(r.message || '') && r;
  }, { timeout: 15_000, what: 'the German fallback card', describe: () => p.peek(READ).then((r) => JSON.stringify(r.pwl)) });
  assert.equal(german.state, 'error');
  assert.equal(await p.peek(`document.getElementById('pwl').shadowRoot.querySelector('.jlp').lang`), 'de');
  await waitFor(async () => (await p.peek(READ)).pwl.state === 'waiting', { timeout: 15_000, what: 'waiting once the wasm loads' });
  assert.deepEqual(p.panics(), []);
});

// README: "moving it within the page keeps it": a move (removed and added
// in one task) neither tears the player down nor starts it again.
test('moving the element within the page keeps its player', { timeout: 90_000 }, async () => {
  const a = await env.input('mv');
  await env.control.startBroadcast(a.uid);
  const p = await openHost();
  await p.peek(`(() => {
    const el = document.createElement('jitsi-live-player');
    el.id = 'pmv'; el.base = ${JSON.stringify(env.server.url)}; el.input = ${JSON.stringify(a.uid)}; el.muted = true; el.autoplay = true;
    document.getElementById('slot-a').append(el);
  })()`);
  const inMv = p.at(ROOT.shadow('#pmv'));
  await inMv.waitForState('live', 45_000);
  const before = await inMv.waitForPlaying({ timeout: 30_000 });
  // Mark the <video> the player plays on, then move the element.
  await p.peek(`document.getElementById('pmv').shadowRoot.querySelector('video').__e2eMark = 'same'`);
  const tMove = Date.now();
  const moved = await p.peek(`(() => { const el = document.getElementById('pmv'); document.getElementById('slot-m').append(el);
    return el.parentElement.id; })()`);
  assert.equal(moved, 'slot-m');
  await sleep(3_000);
  const after = await inMv.waitForPlaying({ timeout: 15_000, advance: 0.5 });
  assert.equal(await p.peek(`document.getElementById('pmv').shadowRoot.querySelector('video').__e2eMark`), 'same', 'the same <video>: not mounted again');
  assert.ok(after.video.currentTime > before.video.currentTime, `playback went on (${before.video.currentTime.toFixed(1)} → ${after.video.currentTime.toFixed(1)} s)`);
  const states = (await events(p, 'statechange', 'pmv')).filter((e) => e.t >= tMove);
  assert.deepEqual(states.map((e) => e.detail.state), [], 'no state change: the player was neither torn down nor restarted');
  assert.equal((await events(p, 'livestart', 'pmv')).length, 1, 'one livestart, from before the move');
  const manifests = p.allRequests.filter((r) => r.url.includes(`/${a.uid}/manifest/video.m3u8`) && r.t >= tMove);
  assert.deepEqual(manifests.map((r) => r.url), [], 'the stream was not loaded again');
  assert.deepEqual(p.panics(), []);
});
