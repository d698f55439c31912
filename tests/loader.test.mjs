// The watch page's loader (the inline script of index.html) against the
// start-up table it shares with core (core/tests/start-cases.json, checked
// on core's side by core/tests/start_cases.rs): the lifecycle and manifest
// URLs and the engine it picks before the wasm arrives must be core's. Then
// what it starts: the lifecycle request, and on native HLS, once lifecycle
// says live, a <video> with its source set, nothing once the player took over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';

const root = new URL('..', import.meta.url);
const html = fs.readFileSync(new URL('index.html', root), 'utf8');
const script = html.match(/<script id="jlp-loader">([\s\S]*?)<\/script>/)[1];
const table = JSON.parse(fs.readFileSync(new URL('core/tests/start-cases.json', root), 'utf8'));

/** Runs the loader in a page at `search` on a browser with `caps`. */
function load({ search = '', nativeHls = true, mse = true, vendor = 'Google Inc.', answer = { isInput: true, videoUID: 'v', live: true }, status = 200 } = {}) {
  const fetched = [], appended = [], videos = [];
  const response = { status, clone: () => ({ json: async () => answer }), json: async () => answer };
  const document = {
    createElement: (tag) => {
      const el = {
        tag, canPlayType: (t) => (nativeHls && /mpegurl/.test(t) ? 'maybe' : ''),
        on: {}, addEventListener(type, f) { this.on[type] = f; },
      };
      if (tag === 'video') videos.push(el);
      return el;
    },
    head: { appendChild: (el) => appended.push(el) },
  };
  const timers = [], mounts = [];
  const window = {
    addEventListener(type, f) { if (type === 'TrunkApplicationStarted') window.appStarted = f; },
    setTimeout: (f, ms) => timers.push({ f, ms }),
    wasmBindings: { start_watch_page: () => mounts.push(true) },
    document,
    location: { search, origin: table.origin },
    navigator: { vendor },
    fetch: (url) => { fetched.push(url); return Promise.resolve(response); },
    URLSearchParams,
    ...(mse ? { MediaSource: function () {} } : {}),
  };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(script, window);
  return { window, fetched, appended, videos, timers, mounts, settle: () => new Promise((r) => setTimeout(r, 0)) };
}

test('URLs: the loader builds what core builds, and leaves the rest to the player', () => {
  const { window } = load();
  const caps = { nativeHls: true, mse: true, vendor: 'Apple Computer, Inc.' };
  assert.ok(table.urls.length >= 10);
  for (const c of table.urls) {
    const plan = window.__jlpLoader.plan(c.query, table.origin, caps);
    assert.equal(plan ? plan.lifecycle : null, c.lifecycle, c.query);
    assert.equal(plan ? plan.manifest : null, c.manifest, c.query);
    if ('autoplay' in c) assert.deepEqual([plan.autoplay, plan.muted], [c.autoplay, c.muted], c.query);
  }
});

test('engine: the loader picks what core/src/engine.rs picks', () => {
  const { window } = load();
  for (const c of table.engines) {
    const plan = window.__jlpLoader.plan(`?input=abc&engine=${encodeURIComponent(c.engine)}`, table.origin, c);
    assert.equal(plan.native, c.native, JSON.stringify(c));
  }
});

test('native HLS (Safari), live: one lifecycle request, then the <video> loads the manifest', async () => {
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  assert.deepEqual(l.fetched, [`${table.origin}/abc/lifecycle`]);
  assert.equal(l.appended.length, 0, 'no hls.js where the player plays natively');
  await l.settle();
  const start = l.window.__jlpStart;
  assert.equal(start.lifecycle, `${table.origin}/abc/lifecycle`);
  assert.equal(start.video.src, `${table.origin}/abc/manifest/video.m3u8`);
  assert.equal(start.video.preload, 'auto');
  assert.deepEqual([start.video.autoplay, start.video.muted], [true, false]);
  const m = load({ search: '?input=abc&autoplay=0&muted', vendor: 'Apple Computer, Inc.' });
  await m.settle();
  assert.deepEqual([m.window.__jlpStart.video.autoplay, m.window.__jlpStart.video.muted], [false, true], 'as the page asks');
});

test('native HLS, not live or failed, or the player already took over: no source set', async () => {
  for (const opts of [{ answer: { isInput: true, videoUID: null, live: false } }, { status: 429 }, { answer: null }]) {
    const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', ...opts });
    await l.settle();
    assert.equal(l.window.__jlpStart.video, undefined, JSON.stringify(opts));
    assert.equal(l.videos[0].src, undefined);
  }
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  l.window.__jlpStart.closed = true; // src/interop/start.rs, take_video
  await l.settle();
  assert.equal(l.videos[0].src, undefined, 'nothing starts after the player took over');
});

test('hls.js (Chromium, Firefox): lifecycle asked, hls.js loaded beside the wasm, no native source', async () => {
  for (const c of [{ vendor: 'Google Inc.' }, { vendor: '', nativeHls: false }]) {
    const l = load({ search: '?input=abc', ...c });
    assert.deepEqual(l.fetched, [`${table.origin}/abc/lifecycle`]);
    assert.deepEqual(l.appended.map((e) => [e.tag, e.src, e.async]), [['script', 'hls.min.js', true]]);
    assert.equal(typeof l.window.__jlpHls.then, 'function', 'the player takes the promise');
    await l.settle();
    assert.equal(l.videos[0].src, undefined);
  }
});

test('a configuration the loader does not take on: nothing asked; hls.js loaded as the engine says', () => {
  let l = load({ search: '?input=abc&base=https%3A%2F%2Fvideodelivery.net' });
  assert.deepEqual(l.fetched, []);
  assert.equal(l.window.__jlpStart, undefined);
  assert.equal(l.appended.length, 1, 'Chromium: hls.js');
  l = load({ search: '?input=abc&base=https%3A%2F%2Fvideodelivery.net&engine=native' });
  assert.equal(l.appended.length, 0, 'engine=native: no hls.js');
});

test('the player mounts once the wasm is ready and the native start has decoded its first frame', async () => {
  // Native, live: not at the wasm's arrival, but at the first frame.
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  l.window.appStarted();
  await l.settle();
  assert.equal(l.mounts.length, 0, 'held while the <video> starts');
  assert.deepEqual(l.timers.map((t) => t.ms), [1500], 'never longer than 1.5 s');
  l.videos[0].on.loadeddata();
  assert.equal(l.mounts.length, 1, 'mounted once the first frame is decoded');
  l.videos[0].on.error();
  assert.equal(l.mounts.length, 1, 'once');
  // Not live, or the hls.js path, or a configuration left to the player: at once.
  for (const opts of [{ answer: { isInput: true, videoUID: null, live: false } }, { vendor: 'Google Inc.' }, { search: '?input=a&video=b' }]) {
    const m = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', ...opts });
    await m.settle();
    m.window.appStarted();
    assert.equal(m.mounts.length, 1, JSON.stringify(opts));
  }
  // No lifecycle answer yet after 1.5 s (the request hangs): the cap mounts the player.
  const h = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  h.window.appStarted();
  h.timers[0].f();
  assert.equal(h.mounts.length, 1);
});
