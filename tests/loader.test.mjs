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
// The page's JSON block with hls.js's live config (core checks it is
// HlsConfig::live()).
const hlsConfig = html.match(/<script type="application\/json" id="jlp-hls-live">([\s\S]*?)<\/script>/)[1];

// The English name of the player's <video> (core's catalogue), which the
// loader's element carries until the player takes it.
const videoLabel = fs.readFileSync(new URL('core/src/i18n.rs', root), 'utf8').match(/VideoLabel "video-label" "([^"]+)"/)[1];

/** A stand-in for hls.js's class: records what the loader does with it. */
function fakeHls({ supported = true } = {}) {
  const made = [];
  class Hls {
    static isSupported() { return supported; }
    static Events = { ERROR: 'hlsError' };
    constructor(config) { this.config = config; this.calls = []; this.on_ = {}; made.push(this); }
    on(event, f) { this.on_[event] = f; }
    attachMedia(v) { this.calls.push(['attachMedia', v]); }
    loadSource(url) { this.calls.push(['loadSource', url]); }
    destroy() { this.calls.push(['destroy']); }
  }
  return { Hls, made };
}

/** Runs the loader in a page at `search` on a browser with `caps`. */
// `carried`: the answer our backend wrote into the page ({ url, text }).
// `bodyLater`: #player not parsed yet when the loader runs.
function load({ search = '', nativeHls = true, mse = true, vendor = 'Google Inc.', answer = { isInput: true, videoUID: 'v', live: true }, status = 200, moveBefore = true, frameCallback = true, carried = null, bodyLater = false } = {}) {
  const fetched = [], appended = [], videos = [];
  const host = {
    children: [],
    appendChild(el) { this.children.push(el); el.parentNode = this; },
    removeChild(el) { this.children = this.children.filter((c) => c !== el); el.parentNode = null; },
    ...(moveBefore ? { moveBefore() {} } : {}),
  };
  const response = { status, clone: () => ({ json: async () => answer }), json: async () => answer };
  const document = {
    createElement: (tag) => {
      const el = {
        tag, canPlayType: (t) => (nativeHls && /mpegurl/.test(t) ? 'maybe' : ''),
        on: {}, addEventListener(type, f) { this.on[type] = f; },
        attrs: {}, setAttribute(k, v) { this.attrs[k] = String(v); },
        ...(frameCallback ? { requestVideoFrameCallback(f) { this.frame = f; } } : {}),
        get isConnected() { return !!this.parentNode; },
      };
      if (tag === 'video') videos.push(el);
      return el;
    },
    head: { appendChild: (el) => appended.push(el) },
    getElementById: (id) => (id === 'jlp-hls-live' ? { textContent: hlsConfig }
      : id === 'player' ? (parsed ? host : null)
      : id === 'jlp-lifecycle' && carried ? { textContent: carried.text, getAttribute: (k) => (k === 'data-url' ? carried.url : null) }
      : null),
  };
  let parsed = !bodyLater;
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
    Response,
    ...(mse ? { MediaSource: function () {} } : {}),
  };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(script, window);
  // The body's own line right after #player (index.html).
  const body = () => { parsed = true; if (window.__jlpShow) window.__jlpShow(); };
  return { window, fetched, appended, videos, host, timers, mounts, body, settle: () => new Promise((r) => setTimeout(r, 0)) };
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
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', moveBefore: false });
  assert.deepEqual(l.fetched, [`${table.origin}/abc/lifecycle`]);
  assert.equal(l.appended.length, 0, 'no hls.js where the player plays natively');
  await l.settle();
  const start = l.window.__jlpStart;
  assert.equal(start.lifecycle, `${table.origin}/abc/lifecycle`);
  assert.equal(start.video.src, `${table.origin}/abc/manifest/video.m3u8`);
  assert.equal(start.video.preload, 'auto');
  assert.deepEqual(start.video.attrs, { playsinline: '', 'aria-label': videoLabel }, "inline on iPhones, named as the player's own");
  assert.equal(l.host.children.length, 0, 'without moveBefore, kept out of the page until the player has it');
  assert.deepEqual([start.video.autoplay, start.video.muted], [true, false]);
  l.window.appStarted();
  start.video.on.loadeddata();
  assert.equal(l.mounts.length, 1, 'detached: the player mounts at its first frame and shows it');
  const m = load({ search: '?input=abc&autoplay=0&muted', vendor: 'Apple Computer, Inc.' });
  await m.settle();
  assert.deepEqual([m.window.__jlpStart.video.autoplay, m.window.__jlpStart.video.muted], [false, true], 'as the page asks');
});

test('native HLS where the player can move it without a reload (moveBefore): in the page at once, the player mounted after its first frame is on screen', async () => {
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  l.window.appStarted();
  await l.settle();
  const start = l.window.__jlpStart;
  assert.equal(start.video.src, `${table.origin}/abc/manifest/video.m3u8`);
  assert.deepEqual(l.host.children, [start.video]);
  assert.equal(start.video.className, 'jlp-early');
  assert.equal(l.mounts.length, 0, 'held until the first frame');
  start.video.on.loadeddata();
  assert.equal(l.mounts.length, 0, 'decoded is not yet on screen');
  start.video.frame();
  assert.equal(l.mounts.length, 0, 'not in the task that presents the frame');
  l.timers.at(-1).f();
  assert.equal(l.mounts.length, 1);
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

test('hls.js (Chromium, Firefox), live: hls.js loaded beside the wasm, then started with core\'s config on the <video>', async () => {
  for (const c of [{ vendor: 'Google Inc.' }, { vendor: '', nativeHls: false }]) {
    const l = load({ search: '?input=abc&muted', ...c });
    assert.deepEqual(l.fetched, [`${table.origin}/abc/lifecycle`]);
    assert.deepEqual(l.appended.map((e) => [e.tag, e.src, e.async]), [['script', 'hls.min.js', true]]);
    assert.equal(typeof l.window.__jlpHls.then, 'function', 'the player takes the promise');
    await l.settle();
    assert.equal(l.window.__jlpStart.hls, undefined, 'not before hls.js has run');
    assert.deepEqual(l.appended.slice(1).map((e) => [e.tag, e.rel, e.as, e.crossOrigin, e.href]),
      [['link', 'preload', 'fetch', 'anonymous', `${table.origin}/abc/manifest/video.m3u8`]], 'live: the manifest asked meanwhile, for hls.js to take');
    const { Hls, made } = fakeHls();
    l.window.Hls = Hls;
    l.appended[0].onload();
    await l.settle();
    const start = l.window.__jlpStart;
    assert.equal(made.length, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(made[0].config)), JSON.parse(hlsConfig));
    assert.equal(made[0].config.liveSyncDuration, 6);
    assert.deepEqual(made[0].calls, [['attachMedia', l.videos[0]], ['loadSource', `${table.origin}/abc/manifest/video.m3u8`]]);
    assert.equal(start.hls, made[0]);
    assert.equal(start.video, l.videos[0]);
    assert.equal(start.src, `${table.origin}/abc/manifest/video.m3u8`);
    assert.equal(l.videos[0].src, undefined, 'hls.js sets the source (MSE), not the loader');
    assert.deepEqual([start.video.autoplay, start.video.muted], [true, true], 'as the page asks');
    assert.deepEqual(l.host.children, [l.videos[0]], 'in the page at once, where the player will be');
    assert.equal(l.videos[0].className, 'jlp-early');
    assert.equal(l.videos[0].attrs['aria-label'], videoLabel);
  }
});

test('hls.js: not live, unsupported, or the player took over first: no instance; a fatal error before the player: destroyed', async () => {
  for (const [opts, supported, closed] of [[{ answer: { isInput: true, videoUID: null, live: false } }, true, false], [{}, false, false], [{}, true, true]]) {
    const l = load({ search: '?input=abc', ...opts });
    if (closed) l.window.__jlpStart.closed = true;
    const { Hls, made } = fakeHls({ supported });
    l.window.Hls = Hls;
    l.appended[0].onload();
    await l.settle();
    assert.equal(made.length, 0, JSON.stringify([opts, supported, closed]));
    assert.equal(l.window.__jlpStart.video, undefined);
    if (opts.answer) assert.equal(l.appended.length, 1, 'not live: no manifest preload');
  }
  const l = load({ search: '?input=abc' });
  const { Hls, made } = fakeHls();
  l.window.Hls = Hls;
  l.appended[0].onload();
  l.window.appStarted();
  await l.settle();
  assert.equal(l.mounts.length, 0, 'held while hls.js starts');
  made[0].on_.hlsError('hlsError', { fatal: false });
  assert.equal(l.mounts.length, 0, 'a recoverable error is hls.js\'s own business');
  made[0].on_.hlsError('hlsError', { fatal: true });
  assert.deepEqual(made[0].calls.at(-1), ['destroy']);
  assert.equal(l.window.__jlpStart.hls, undefined, 'nothing for the player to adopt');
  assert.equal(l.window.__jlpStart.video, undefined);
  assert.equal(l.host.children.length, 0, 'its <video> gone from the page');
  assert.equal(l.mounts.length, 1, 'the player starts on its own');
});

test('hls.js: hls.js failing to load mounts the player, which tries again', async () => {
  const l = load({ search: '?input=abc' });
  l.window.appStarted();
  l.appended[0].onerror(new Error('offline'));
  await l.settle();
  await l.settle();
  assert.equal(l.mounts.length, 1);
  assert.equal(l.window.__jlpStart.video, undefined);
});

test('a configuration the loader does not take on: nothing asked; hls.js loaded as the engine says', () => {
  let l = load({ search: '?input=abc&tokenUrl=%2Fapi%2Frooms%2Fr%2Fviewer-token' });
  assert.deepEqual(l.fetched, []);
  assert.equal(l.window.__jlpStart, undefined);
  assert.equal(l.appended.length, 1, 'Chromium: hls.js');
  l = load({ search: '?input=abc&tokenUrl=%2Ft&engine=native' });
  assert.equal(l.appended.length, 0, 'engine=native: no hls.js');
});

test('a delivery base (the demo\'s local stand-in, a CDN in front of Cloudflare): the loader starts from there', async () => {
  const l = load({ search: '?input=abc&base=http%3A%2F%2F127.0.0.1%3A9401', vendor: 'Apple Computer, Inc.' });
  assert.deepEqual(l.fetched, ['http://127.0.0.1:9401/abc/lifecycle']);
  await l.settle();
  assert.equal(l.window.__jlpStart.video.src, 'http://127.0.0.1:9401/abc/manifest/video.m3u8');
});

test('the wasm starts (trunk\'s script awaits __jlpGo) when the player may mount: at once without a start, else once it got somewhere', async () => {
  const started = (l) => { let yes = false; l.window.__jlpGo.then(() => { yes = true; }); return async () => { await l.settle(); return yes; }; };
  const none = load({ search: '?input=abc&tokenUrl=%2Ft' });
  assert.equal(await started(none)(), true, 'nothing started: at once');
  const idle = load({ search: '?input=abc', answer: { isInput: true, videoUID: null, live: false } });
  const idleGo = started(idle);
  await idle.settle();
  assert.equal(await idleGo(), true, 'not live: once lifecycle said so');
  const live = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  const liveGo = started(live);
  await live.settle();
  assert.equal(await liveGo(), false, 'live: not while the <video> starts');
  live.videos[0].on.loadeddata();
  live.videos[0].frame();
  live.timers.at(-1).f();
  assert.equal(await liveGo(), true, 'once its first frame is on screen');
  const hung = load({ search: '?input=abc' });
  const hungGo = started(hung);
  assert.equal(hung.timers[0].ms, 1600, 'whatever the loader does after it, the wasm starts');
  hung.timers[0].f();
  assert.equal(await hungGo(), true);
});

test('the player mounts once the wasm is ready and the native start has decoded its first frame', async () => {
  // Native, live: not at the wasm's arrival, but at the first frame.
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', moveBefore: false });
  l.window.appStarted();
  await l.settle();
  assert.equal(l.mounts.length, 0, 'held while the <video> starts');
  assert.deepEqual(l.timers.map((t) => t.ms), [1600, 1500], 'never longer than 1.5 s');
  l.videos[0].on.loadeddata();
  assert.equal(l.mounts.length, 1, 'mounted once the first frame is decoded');
  l.videos[0].on.error();
  assert.equal(l.mounts.length, 1, 'once');
  // hls.js, live: the same, once hls.js has decoded the first frame.
  const j = load({ search: '?input=abc' });
  j.window.Hls = fakeHls().Hls;
  j.appended[0].onload();
  j.window.appStarted();
  await j.settle();
  assert.equal(j.mounts.length, 0, 'held while hls.js starts');
  j.videos[0].on.loadeddata();
  assert.equal(j.mounts.length, 0, 'decoded is not yet on screen');
  j.videos[0].frame();
  assert.equal(j.mounts.length, 0, 'not in the task that presents the frame');
  assert.equal(j.timers.at(-1).ms, 0);
  j.timers.at(-1).f();
  assert.equal(j.mounts.length, 1, 'in a task of its own after it');
  // No frame callback, or no frame presented (autoplay refused): 200 ms
  // after the first frame is decoded.
  for (const opts of [{ frameCallback: false }, {}]) {
    const k = load({ search: '?input=abc', ...opts });
    k.window.Hls = fakeHls().Hls;
    k.appended[0].onload();
    k.window.appStarted();
    await k.settle();
    k.videos[0].on.loadeddata();
    assert.equal(k.mounts.length, 0);
    assert.equal(k.timers.at(-1).ms, 200, JSON.stringify(opts));
    k.timers.at(-1).f();
    assert.equal(k.mounts.length, 1);
  }
  // Not live, or a configuration left to the player: at once.
  for (const opts of [{ answer: { isInput: true, videoUID: null, live: false } }, { vendor: 'Google Inc.', answer: { isInput: true, videoUID: null, live: false } }, { search: '?input=a&video=b' }]) {
    const m = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', ...opts });
    await m.settle();
    m.window.appStarted();
    assert.equal(m.mounts.length, 1, JSON.stringify(opts));
  }
  // No lifecycle answer yet after 1.5 s (the request hangs): the cap mounts the player.
  const h = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.' });
  h.window.appStarted();
  h.timers.find((t) => t.ms === 1500).f();
  assert.equal(h.mounts.length, 1);
});

test('an answer the page carries (our backend): nothing asked, and on native HLS the source set before the page is parsed', async () => {
  const url = `${table.origin}/abc/lifecycle`;
  const text = JSON.stringify({ isInput: true, videoUID: 'v', live: true });
  const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', carried: { url, text }, bodyLater: true });
  assert.deepEqual(l.fetched, [], 'no lifecycle request');
  await Promise.resolve();
  const start = l.window.__jlpStart;
  assert.equal(start.video.src, `${table.origin}/abc/manifest/video.m3u8`, 'in the microtasks after the loader, before the body');
  assert.equal(l.host.children.length, 0, '#player is not there yet');
  l.body();
  assert.deepEqual(l.host.children, [start.video], 'in the page as soon as #player is');
  l.body();
  assert.equal(l.host.children.length, 1, 'once');
  // The player reads the same answer as a Response.
  const r = await start.answer;
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), JSON.parse(text));
  l.window.appStarted();
  assert.equal(start.video.frame, undefined, 'no frame callback asked before `loadeddata` (one asked that early made Chromium\'s HLS fail the stream once moved)');
  start.video.on.loadeddata();
  assert.equal(l.mounts.length, 0, 'shown: held until the frame is on screen');
  start.video.frame();
  assert.equal(l.timers.at(-1).ms, 0, 'a frame after it does, in a task of its own');
  // Idle: no source, the player mounts.
  const idle = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', carried: { url, text: JSON.stringify({ isInput: true, videoUID: null, live: false }) } });
  assert.deepEqual(idle.fetched, []);
  await idle.settle();
  assert.equal(idle.window.__jlpStart.video, undefined);
  idle.window.appStarted();
  assert.equal(idle.mounts.length, 1);
  // hls.js: started from the carried answer once hls.js has run.
  const j = load({ search: '?input=abc', carried: { url, text } });
  assert.deepEqual(j.fetched, []);
  const { Hls, made } = fakeHls();
  j.window.Hls = Hls;
  j.appended[0].onload();
  await j.settle();
  assert.equal(made.length, 1);
  assert.deepEqual(made[0].calls.at(-1), ['loadSource', `${table.origin}/abc/manifest/video.m3u8`]);
});

test('a carried answer for another URL, or not JSON: not used, the loader asks as before', async () => {
  const text = JSON.stringify({ isInput: true, videoUID: 'v', live: true });
  for (const carried of [{ url: 'http://elsewhere/abc/lifecycle', text }, { url: `${table.origin}/abc/lifecycle`, text: '{"live": tru' }, { url: `${table.origin}/abc/lifecycle`, text: 'null' }]) {
    const l = load({ search: '?input=abc', vendor: 'Apple Computer, Inc.', carried });
    assert.deepEqual(l.fetched, [`${table.origin}/abc/lifecycle`], JSON.stringify(carried));
    await l.settle();
    assert.equal(l.window.__jlpStart.video.src, `${table.origin}/abc/manifest/video.m3u8`, 'from the fetched answer');
  }
});

test('the player\'s files: a failed download is tried again, later each time, with a note in the player\'s place until they come', async () => {
  const l = load({ search: '?input=abc&tokenUrl=%2Ft' }); // starts nothing
  const asked = [];
  let glueFails = 2, inits = 0;
  const bindings = {
    default: async (o) => {
      assert.equal(o.module_or_path, '/p_bg.wasm');
      inits += 1;
      if (inits === 1) throw new Error('the wasm did not come');
      return 'instance';
    },
  };
  const glue = (n) => { asked.push(n); return glueFails-- > 0 ? Promise.reject(new Error('offline')) : Promise.resolve(bindings); };
  let done = null;
  l.window.__jlpFetchPlayer(glue, '/p_bg.wasm').then((x) => { done = x; });
  const before = l.timers.length;
  const waits = [];
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 5; k++) await l.settle();
    assert.equal(done, null, `not yet after ${i + 1} failures`);
    assert.equal(l.host.children.length, 1, 'one note, however many failures');
    assert.equal(l.host.children[0].className, 'page-retry');
    assert.equal(l.host.children[0].attrs.role, 'status');
    assert.match(l.host.children[0].textContent, /could not be loaded.*try again by itself/);
    const t = l.timers[before + i];
    waits.push(t.ms);
    t.f();
  }
  for (let k = 0; k < 5; k++) await l.settle();
  assert.ok(done && done.bindings === bindings && done.wasm === 'instance', 'the glue\'s module and the instance');
  assert.deepEqual(asked, [0, 1, 2], 'the glue under another query each try, not again once it came');
  assert.equal(inits, 2, 'the wasm tried again on its own');
  assert.equal(l.host.children.length, 0, 'the note goes when the player comes');
  for (const [i, ms] of waits.entries()) {
    const base = 2000 * 2 ** i; // core's ORIGIN_RETRY (core/tests/contract.rs checks the loader's numbers)
    assert.ok(ms >= base * 0.8 && ms <= base * 1.2, `wait ${i}: ${ms} ms within ±20 % of ${base}`);
  }
});
