// End-to-end harness: the local Cloudflare stand-in (`localcf`) and its
// control API, the backend (`backend`) where a spec needs it, headless
// Chromium through playwright-core (or Firefox ESR through puppeteer-core
// with E2E_BROWSER=firefox, see launchFirefox), and a page object for the
// watch page.
//
// Every spec file calls `useEnv()` once at top level: it starts one server
// (fresh data dir) and one browser before the tests and always stops both
// after them, also when a test fails or the run is interrupted.
//
// Reads from the page go through a raw CDP `Runtime.evaluate` WITHOUT a user
// gesture. Playwright's own evaluate/locator/waitForFunction run with
// `userGesture: true`, which gives the page sticky user activation and makes
// Chromium allow autoplay with sound: the autoplay spec would pass for the
// wrong reason. So the page object never uses them before a deliberate click.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.E2E_DIST || path.join(REPO, 'dist');
export const OUTPUT = path.join(REPO, 'tests/output');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
export const AUTOPLAY_ARG = '--autoplay-policy=no-user-gesture-required';
// Which browser the specs drive: Debian's Chromium through playwright-core
// (default), or `E2E_BROWSER=firefox`: Debian's Firefox ESR over WebDriver
// BiDi through puppeteer-core (Playwright needs its own patched Firefox),
// where the hls.js path on MSE runs for real (Gecko has no native HLS).
export const BROWSER = process.env.E2E_BROWSER === 'firefox' ? 'firefox' : 'chromium';
export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
export const STATES = ['loading', 'waiting', 'starting', 'live', 'ended', 'replay', 'error'];

// What the viewer reads, in English (the words of core/src/text.rs): the
// specs assert these exact sentences, so a screen that says nothing, or the
// wrong thing, fails.
export const SAYS = {
  headline: {
    waiting: 'The stream will start soon',
    starting: 'The broadcast is starting…',
    live: 'Live now',
    ended: 'The stream has ended',
    replay: 'Playing the recording',
    error: "The stream can't be shown right now",
  },
  notice: {
    inputNotFound: 'This live stream was not found. Check the input id in the address.',
    busy: 'The stream service is busy right now.',
    notAnswering: 'The stream service is not answering.',
    unreadable: 'The stream service sent an answer we could not read.',
    unreachable: "We can't reach the stream service.",
    liveUnplayable: "The stream is live but can't be played right now.",
  },
  nextBroadcast: 'The next broadcast will start here.',
  retryIn: /^Trying again in \d+ s$/,
  waitingFor: /^Waiting for \d+:\d\d$/,
};

// When media stops arriving, what each clear state must tell the viewer,
// word for word (and, for an error, its code). Used by specs 09 and 12.
export const CLEAR_STATE_SAYS = {
  ended: (x) => x.title === SAYS.headline.ended && x.meta === SAYS.nextBroadcast,
  waiting: (x) => x.title === SAYS.headline.waiting && SAYS.waitingFor.test(x.meta || ''),
  // Still live at the origin: retrying, with the countdown, no error yet.
  starting: (x) => x.title === SAYS.headline.starting && SAYS.retryIn.test(x.meta || '') && x.shownMessage === null,
  error: (x) => x.title === SAYS.headline.error && x.shownMessage === SAYS.notice.liveUnplayable && x.errorCode === 'playback',
};

// Waits for one of `states`, then for it to say what CLEAR_STATE_SAYS
// expects (a few seconds: the words follow the state in the same render).
export async function waitForClearState(p, states, timeout) {
  const s = await p.waitUntil((x) => states.includes(x.state), { timeout, what: `a clear state (${states.join('/')})` });
  return p.waitUntil((x) => x.state === s.state && CLEAR_STATE_SAYS[s.state](x),
    { timeout: 3_000, what: `"${s.state}" saying its words (title, message, countdown, code)` });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function log(...a) {
  if (process.env.E2E_QUIET) return;
  console.error(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...a);
}

// Poll `fn` until it returns a truthy value; returns that value. On timeout
// throws with `describe()` (if given) appended, so failures explain themselves.
export async function waitFor(fn, { timeout = 10_000, interval = 200, what = 'condition', describe } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(interval);
  }
  let detail = '';
  if (describe) {
    try { detail = '\n' + (await describe()); } catch (e) { detail = `\n(describe failed: ${e.message})`; }
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}${detail}`);
}

// ---------------------------------------------------------------- server

const live = new Set(); // child processes still running, killed on exit
process.on('exit', () => {
  for (const p of live) {
    try { process.kill(-p.pid, 'SIGKILL'); } catch {}
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const p of live) {
      try { process.kill(-p.pid, 'SIGTERM'); } catch {}
    }
    process.exit(130);
  });
}

export function serverBinary() {
  return process.env.SERVER_BIN || path.join(REPO, 'localcf/target/debug/localcf');
}

export function backendBinary() {
  return process.env.BACKEND_BIN || path.join(REPO, 'target/debug/backend');
}

// The account API token the stand-in accepts and the backend sends: a test
// value, shared through the environment (never a flag: flags show in `ps`).
export const TEST_CF_TOKEN = 'e2e-account-token-5c1f9a7e3b2d4860';

// Starts the local Cloudflare stand-in on free ports with a fresh data dir.
// Resolves once it printed its READY line.
export async function startServer({ name = 'server', args = [], videoSize = '640x360', preset = 'ultrafast', dist = DIST } = {}) {
  const bin = serverBinary();
  if (!fs.existsSync(bin)) throw new Error(`stand-in binary missing: ${bin} (build it with: cargo build --manifest-path localcf/Cargo.toml)`);
  if (!fs.existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`player not built: ${path.join(dist, 'index.html')} missing (build it with: trunk build --release --offline)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-${name}-`));
  const argv = ['--port', '0', '--rtmp-port', '0', '--data-dir', dataDir, '--dist', dist,
    '--video-size', videoSize, '--preset', preset, ...args];
  // Specs that run their tests concurrently (16) may have more broadcasts
  // at once than the stand-in's default cap of 3, and test broadcasts are
  // small, so a nearly full /tmp may still take them (envs, not flags, so
  // that an older binary ignores them).
  const server = await spawnReady({ bin, argv, name, logName: `${name}.server.log`, dataDir,
    env: { CF_API_TOKEN: TEST_CF_TOKEN, MAX_BROADCASTS: '8', MIN_FREE_DISK_MB: '64' } });
  server.control = new Control(server.url);
  return server;
}

// Starts the backend on a free port against the stand-in's account API (as
// a deployment runs it against Cloudflare's), serving the player.
export async function startBackend({ name = 'backend', standIn, args = [], env = {}, dist = DIST } = {}) {
  const bin = backendBinary();
  if (!fs.existsSync(bin)) throw new Error(`backend binary missing: ${bin} (build it with: cargo build -p backend)`);
  // Its own data dir (the viewing figures' SQLite file), removed after it.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `e2e-${name}-backend-`));
  const argv = ['--port', '0', '--dist', dist, '--data-dir', dataDir, '--cf-account', 'local',
    '--cf-api-base', `${standIn.url}/client/v4`, '--delivery-base', standIn.url, ...args];
  return spawnReady({ bin, argv, name, logName: `${name}.backend.log`, dataDir,
    env: { CF_API_TOKEN: TEST_CF_TOKEN, ...env } });
}

// Spawns `bin` in its own process group, logs its output under
// tests/output/, and resolves once it printed `READY http=... [rtmp=...]`.
async function spawnReady({ bin, argv, name, logName, dataDir = null, env = {} }) {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const logPath = path.join(OUTPUT, logName);
  const logFile = fs.createWriteStream(logPath);
  // Own process group: if SIGTERM is not enough we can take the ffmpeg
  // children down with the group id of the process we started.
  const proc = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
  live.add(proc);
  let exited = null;
  const exitPromise = new Promise((resolve) => proc.once('exit', (code, signal) => {
    exited = { code, signal };
    live.delete(proc);
    resolve(exited);
  }));
  const stderrTail = [];
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    logFile.write(d);
    for (const line of d.split('\n')) if (line) { stderrTail.push(line); if (stderrTail.length > 60) stderrTail.shift(); }
  });
  let stdoutBuf = '';
  const ready = new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      logFile.write(`[stdout] ${d}`);
      stdoutBuf += d;
      const m = stdoutBuf.match(/READY http=(\S+)(?: rtmp=(\S+))?/);
      if (m) resolve({ http: m[1], rtmp: m[2] || null });
    });
    proc.once('error', (e) => { live.delete(proc); exited = exited || { error: e.message }; reject(new Error(`cannot start ${bin}: ${e.message}`)); });
    exitPromise.then((e) => reject(new Error(`server exited before READY (${JSON.stringify(e)}):\n${stderrTail.join('\n')}`)));
    setTimeout(() => reject(new Error(`server printed no READY line within 30 s:\n${stderrTail.join('\n')}`)), 30_000).unref();
  });
  let urls;
  try {
    urls = await ready;
  } catch (e) {
    try { process.kill(-proc.pid, 'SIGKILL'); } catch {}
    throw e;
  }
  log(`server ${name} ready at ${urls.http} (log: ${path.relative(REPO, logPath)})`);
  const server = {
    name, proc, dataDir, logPath, ...urls,
    url: urls.http.replace(/\/$/, ''),
    control: null,
    stderrTail: () => stderrTail.join('\n'),
    leftovers: [],
    async stop() {
      if (!exited) {
        try { proc.kill('SIGTERM'); } catch {}
        const t = setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch {} }, 10_000);
        await exitPromise;
        clearTimeout(t);
      }
      // Did the server stop its ffmpeg children? The group should be empty
      // (give killed children a moment to be reaped).
      const groupAlive = () => { try { process.kill(-proc.pid, 0); return true; } catch { return false; } };
      for (let i = 0; i < 20 && groupAlive(); i++) await sleep(100);
      try {
        process.kill(-proc.pid, 0);
        server.leftovers.push(`processes left in the server's group after it exited (${JSON.stringify(exited)})`);
        log(`WARNING: server ${name} left processes behind after SIGTERM; killing its group`);
        try { process.kill(-proc.pid, 'SIGKILL'); } catch {}
      } catch { /* ESRCH: nothing left, as it should be */ }
      logFile.end();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

// ---------------------------------------------------------------- Jitsi side

// An HS256 JWT, as Jitsi's token tooling signs them (node's crypto only).
export function jwtHS256(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64(header)}.${b64(claims)}`;
  const sig = header.alg === 'none' ? '' : crypto.createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${sig}`;
}

// Publishes to `url` as Jibri does (its ffmpeg flags, `-f flv`), from a
// test pattern with a tone instead of the meeting's screen; smaller than
// Jibri's 1920x1080 where CPU is short. Returns the child (stop: SIGINT).
// `gop` (frames at 30 fps) is Jibri's 60 unless a test needs the slowest
// start Cloudflare accepts (a 10 s GOP: 300).
export function publishLikeJibri(url, { size = '640x360', seconds = 120, gop = 60 } = {}) {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds),
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '25', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-g', String(gop), '-maxrate', '2976k', '-bufsize', '5952k',
    '-c:a', 'aac', '-ar', '44100', '-b:a', '128k',
    '-f', 'flv', url];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  live.add(proc);
  proc.stderrText = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { proc.stderrText = (proc.stderrText + d).slice(-4000); });
  proc.exited = new Promise((resolve) => proc.once('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  return proc;
}

// ---------------------------------------------------------------- control API

export class Control {
  constructor(base) { this.base = base; }

  async req(method, p, body, { expect } = {}) {
    const res = await fetch(this.base + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok || (expect && res.status !== expect)) {
      throw new Error(`${method} ${p} -> ${res.status} ${text.slice(0, 300)}`);
    }
    if (!text) return null;
    try { return JSON.parse(text); } catch { return text; }
  }

  createInput(opts = {}) { return this.req('POST', '/control/inputs', opts); }
  start(uid, opts = {}) { return this.req('POST', `/control/inputs/${encodeURIComponent(uid)}/start`, opts); }
  stop(uid, mode = 'clean') { return this.req('POST', `/control/inputs/${encodeURIComponent(uid)}/stop`, { mode }); }
  setViewers(uid, count) { return this.req('PUT', `/control/inputs/${encodeURIComponent(uid)}/viewers`, { count }); }
  setFaults(uid, faults) { return this.req('PUT', `/control/inputs/${encodeURIComponent(uid)}/faults`, faults); }
  clearFaults(uid) { return this.req('DELETE', `/control/inputs/${encodeURIComponent(uid)}/faults`); }
  stats() { return this.req('GET', '/control/stats'); }
  resetStats() { return this.req('POST', '/control/stats/reset', {}); }
  async inputStats(uid) {
    const s = await this.stats();
    return (s && s.inputs && s.inputs[uid]) || { lifecycle: 0, views: 0, manifest: 0, playlist: 0, segment: 0, thumbnail: 0 };
  }

  // Delivery side, as a viewer sees it.
  async lifecycle(id) {
    const res = await fetch(`${this.base}/${encodeURIComponent(id)}/lifecycle`, { signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    try { return { status: res.status, ...JSON.parse(text) }; } catch { return { status: res.status, text }; }
  }

  async manifestStatus(id) {
    const res = await fetch(`${this.base}/${encodeURIComponent(id)}/manifest/video.m3u8`, { signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    return res.status;
  }

  // Starts a broadcast and waits until the origin both says live and serves
  // a playable manifest (unless a fault is set that prevents it).
  async startBroadcast(uid, opts = {}, { waitPlayable = true, timeout = 45_000 } = {}) {
    const r = await this.start(uid, opts);
    if (waitPlayable) {
      await waitFor(async () => {
        const lc = await this.lifecycle(uid);
        return lc.live === true && (await this.manifestStatus(uid)) === 200;
      }, { timeout, interval: 500, what: `broadcast on ${uid} to become live and playable` });
    }
    return r;
  }
}

// ---------------------------------------------------------------- browser

export async function launchBrowser({ autoplay = true, extraArgs = [], browser = BROWSER } = {}) {
  if (browser === 'firefox') return launchFirefox({ autoplay });
  const args = [...CHROMIUM_ARGS, ...(autoplay ? [AUTOPLAY_ARG] : []), ...extraArgs];
  // launch() gives every browser a fresh temporary user-data-dir.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

// ---------------------------------------------------------------- Firefox

// The thin driver adapter: the part of Playwright's Browser, BrowserContext
// and Page API that the page object and the specs use, over puppeteer-core
// and WebDriver BiDi, so the same specs run on both engines.
async function launchFirefox({ autoplay }) {
  const { default: puppeteer } = await import('puppeteer-core');
  const prefs = autoplay ? { 'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0 } : {};
  // A fresh temporary profile per launch.
  const b = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, extraPrefsFirefox: prefs });
  return {
    kind: 'firefox',
    async newContext({ viewport } = {}) {
      const ctx = await b.createBrowserContext();
      return {
        async newPage() {
          // A window each: tabs of one window hide each other
          // (visibilityState "hidden"), and a hidden player polls 3× slower.
          const page = await ctx.newPage({ type: 'window' });
          if (viewport) await page.setViewport(viewport);
          return firefoxPage(page);
        },
        close: () => ctx.close(),
      };
    },
    close: () => b.close(),
  };
}

function firefoxPage(page) {
  // BiDi requests have no resourceType (puppeteer throws): one wrapper per
  // request, so identities hold across request/response/finished events.
  const wrapped = new WeakMap();
  const req = (r) => {
    let w = wrapped.get(r);
    if (!w) {
      w = { url: () => r.url(), resourceType: () => 'other', failure: () => r.failure(), postData: () => null };
      wrapped.set(r, w);
    }
    return w;
  };
  const adapt = {
    request: req, requestfinished: req, requestfailed: req,
    response: (res) => ({ status: () => res.status(), request: () => req(res.request()) }),
  };
  return {
    kind: 'firefox',
    raw: page,
    keyboard: page.keyboard,
    addInitScript: (src) => page.evaluateOnNewDocument(src),
    on(event, fn) { page.on(event, adapt[event] ? (x) => fn(adapt[event](x)) : fn); },
    // Playwright's 'commit' has no BiDi counterpart; the page object polls anyway.
    goto: (url) => page.goto(url, { waitUntil: 'domcontentloaded' }),
    evaluate: (fn, ...args) => page.evaluate(fn, ...args),
    click: (selector) => page.click(selector),
    focus: (selector) => page.focus(selector),
    hover: (selector) => page.hover(selector),
    screenshot: ({ path: file }) => page.screenshot({ path: file }),
    setViewportSize: (v) => page.setViewport(v),
    isClosed: () => page.isClosed(),
  };
}

// Installed before any page script: a log of every data-player-state value
// and every aria-live announcement, with wall-clock times comparable with the
// Node side.
const INIT_SCRIPT = `(() => {
  // liveWrites: every change to the live region's text, even to the same
  // words (a screen reader may speak each), to check one announcement per
  // state change.
  const e2e = window.__e2e = { states: [], announcements: [], errors: [], liveWrites: [] };
  let lastState, lastAnn;
  // The player's own error events (they bubble and cross shadow roots): the
  // code and sentence a spec expects, whatever the screen shows around them.
  document.addEventListener('playererror', (ev) => {
    const d = ev.detail || {};
    e2e.errors.push({ code: d.code, message: d.message, t: Date.now() });
  });
  const rec = () => {
    const root = document.querySelector('[data-player-state]');
    const s = root ? root.getAttribute('data-player-state') : null;
    if (s !== lastState) { lastState = s; e2e.states.push({ s, t: Date.now() }); }
    const live = document.querySelector('[aria-live]');
    const a = live ? live.textContent.trim() : null;
    if (a !== lastAnn) { lastAnn = a; if (a) e2e.announcements.push({ a, t: Date.now() }); }
    return live;
  };
  new MutationObserver((records) => {
    const live = rec();
    if (live && records.some((r) => r.type !== 'attributes' && live.contains(r.target))) {
      e2e.liveWrites.push({ a: live.textContent.trim(), t: Date.now() });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();`;

// Makes canPlayType('application/vnd.apple.mpegurl') answer "" so the player
// takes its hls.js path, as in browsers without native HLS (Firefox, older
// Chromium). Debian's Chromium 156 answers "maybe" and plays natively.
export const HIDE_NATIVE_HLS = `(() => {
  const orig = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(String(t)) ? '' : orig.call(this, t); };
})();`;

// Records the config the player passes to `new Hls(...)`, the instance and
// how many were made (window.__e2eHls = { config, hls, made, byPlayer }:
// made by the wasm's glue or the page's loader), by wrapping the class when
// the hls.js script assigns window.Hls. Installed with engine: 'hlsjs'.
export const HLS_SPY = `(() => {
  let H;
  Object.defineProperty(window, 'Hls', { configurable: true, enumerable: true,
    get() { return H; },
    set(v) {
      if (typeof v !== 'function') { H = v; return; }
      H = class extends v {
        constructor(cfg) {
          super(cfg);
          const made = (window.__e2eHls ? window.__e2eHls.made : 0) + 1;
          const byPlayer = /hls_loader\.js/.test(String(new Error().stack));
          window.__e2eHls = { arg: JSON.parse(JSON.stringify(cfg || {})), hls: this, made, byPlayer };
        }
      };
    } });
})();`;

// Where the page object finds the player: a JS expression for the node to
// query in. The watch page's light DOM, a <jitsi-live-player>'s shadow root,
// or a mount() target.
export const ROOT = {
  light: 'document',
  shadow: (selector = 'jitsi-live-player') => `(document.querySelector(${JSON.stringify(selector)})?.shadowRoot ?? null)`,
  mount: (selector) => `document.querySelector(${JSON.stringify(selector)})`,
};

// One CDP round trip: everything a test asserts about the player found in
// `root` (an expression of ROOT).
export const snapshotIn = (root = ROOT.light) => `(() => {
  const scope = ${root} || document.createDocumentFragment();
  const vis = (el) => {
    if (!el || el.hidden || el.closest('[hidden]')) return false;
    if (el.checkVisibility) return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
    return el.getClientRects().length > 0;
  };
  const root = scope.querySelector('[data-player-state]');
  const video = (root && root.querySelector('video')) || scope.querySelector('video');
  const btn = (a) => {
    const b = scope.querySelector('button[data-action="' + a + '"]');
    return b ? { present: true, visible: vis(b), text: b.textContent.trim(), label: b.getAttribute('aria-label') } : { present: false, visible: false };
  };
  const viewers = scope.querySelector('[data-viewers]');
  const msg = scope.querySelector('[data-message]');
  const liveRegion = scope.querySelector('[aria-live]');
  const title = scope.querySelector('.jlp-title');
  const meta = scope.querySelector('.jlp-meta');
  return {
    t: Date.now(),
    rootPresent: !!root,
    state: root ? root.getAttribute('data-player-state') : null,
    bodyText: (document.body ? document.body.innerText : '').slice(0, 400),
    // The [data-message] sentence, and only when the viewer can see it (no
    // fallback to the headline: a spec that wants a message must find one).
    message: msg ? msg.textContent.trim() : null,
    messageVisible: vis(msg) && !!(msg && msg.textContent.trim()),
    shownMessage: (vis(msg) && msg.textContent.trim()) || null,
    // The card's headline and the line under it ("Trying again in 5 s"),
    // when visible.
    title: (vis(title) && title.textContent.trim()) || null,
    meta: (vis(meta) && meta.textContent.trim()) || null,
    // The last playererror event's code ("network", "playback", ...).
    errorCode: (window.__e2e && window.__e2e.errors.length) ? window.__e2e.errors[window.__e2e.errors.length - 1].code : null,
    viewersPresent: !!viewers,
    viewersText: viewers ? viewers.textContent.trim() : null,
    viewersHidden: !viewers || !vis(viewers),
    ariaLive: liveRegion ? liveRegion.textContent.trim() : null,
    ariaLivePresent: !!liveRegion,
    videoInRoot: !!(root && video && root.contains(video)),
    video: video ? {
      currentTime: video.currentTime, paused: video.paused, muted: video.muted, volume: video.volume,
      readyState: video.readyState, ended: video.ended, error: video.error ? video.error.code + ' ' + video.error.message : null,
      src: video.currentSrc || video.src || null, width: video.videoWidth,
      engine: /^blob:/.test(video.currentSrc) ? 'mse' : (video.currentSrc ? 'native' : null),
    } : null,
    hlsjsLoaded: typeof window.Hls === 'function',
    hls: window.__e2eHls ? { latency: window.__e2eHls.hls.latency, targetLatency: window.__e2eHls.hls.targetLatency } : null,
    buttons: { unmute: btn('unmute'), goLive: btn('go-live'), retry: btn('retry') },
    marker: window.__e2eMarker || null,
    log: window.__e2e || null,
  };
})()`;

export function classify(url, id) {
  let u;
  try { u = new URL(url); } catch { return null; }
  const p = u.pathname;
  const prefix = `/${encodeURIComponent(id)}/`;
  if (id && !p.startsWith(prefix) && !p.startsWith(`/${id}/`)) return null;
  if (/\/lifecycle$/.test(p)) return 'lifecycle';
  if (/\/views$/.test(p)) return 'views';
  if (/\/manifest\/video\.m3u8$/.test(p)) return 'manifest';
  if (/\.m3u8$/.test(p)) return 'playlist';
  if (/\/thumbnails\//.test(p)) return 'thumbnail';
  if (/\.(ts|m4s|mp4|aac|m4a|m4v)$/.test(p)) return 'segment';
  return 'other';
}

export class PlayerPage {
  constructor(page, cdp, { id, name, root = ROOT.light }) {
    this.page = page;
    this.cdp = cdp;
    this.id = id;
    this.name = name;
    this.snapshotExpr = snapshotIn(root);
    this.requests = []; // { kind, url, t, status, tEnd, failed }
    this.console = []; // { type, text, t }
    this.pageErrors = [];
    this.loads = 0;
    this.closed = false;
  }

  // Opens the watch page (or a host page): `query` is the query string
  // (without '?') or an object; `id` is the uid whose delivery requests are
  // recorded; `root` where the player is (ROOT.light, ROOT.shadow(selector),
  // ROOT.mount(selector)); `initScripts` run before any page script.
  // `engine: 'hlsjs'` hides native HLS from the page (see HIDE_NATIVE_HLS).
  // `stateLog: false` leaves out the page-side log of states (a
  // MutationObserver on the whole document), for host pages whose own
  // objects a test counts; `waitUntil` is Playwright's goto option.
  // Subclasses (host-harness.mjs's HostPage) open through this too.
  static async open(browser, baseUrl, { query = '', id = null, name = 'player', viewport = { width: 1280, height: 720 }, context: ctxOpts = {}, engine = 'auto', root = ROOT.light, initScripts = [], stateLog = true, waitUntil = 'commit', routes = [] } = {}) {
    const context = await browser.newContext({ viewport, ...ctxOpts });
    // `routes`: [pattern, handler] pairs for Playwright's context.route (a
    // request the test fails or answers itself), set before the page loads.
    for (const [pattern, handler] of routes) await context.route(pattern, handler);
    const page = await context.newPage();
    // Chromium: reads through raw CDP (see the top of this file). Firefox
    // (autoplay allowed by its prefs): through the adapter's evaluate.
    const cdp = page.kind === 'firefox' ? null : await context.newCDPSession(page);
    const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
    const p = new this(page, cdp, { id, name, root });
    p.context = context;
    p.url = `${baseUrl.replace(/\/$/, '')}/?${qs}`;
    if (engine === 'hlsjs') {
      await page.addInitScript(HIDE_NATIVE_HLS);
      await page.addInitScript(HLS_SPY);
    }
    for (const script of initScripts) await page.addInitScript(script);
    if (stateLog) await page.addInitScript(INIT_SCRIPT);
    p.allRequests = [];
    // Every request with its outcome (`done`: 'finished', an error text, or
    // null while pending), to find requests a player left behind.
    p.net = [];
    const netOf = new Map();
    page.on('request', (r) => {
      p.allRequests.push({ url: r.url(), type: r.resourceType(), t: Date.now(), body: r.postData() });
      const e = { url: r.url(), t: Date.now(), done: null };
      p.net.push(e);
      netOf.set(r, e);
    });
    page.on('requestfinished', (r) => { const e = netOf.get(r); if (e) e.done = 'finished'; });
    page.on('requestfailed', (r) => { const e = netOf.get(r); if (e) e.done = (r.failure() && r.failure().errorText) || 'failed'; });
    page.on('request', (r) => {
      const kind = classify(r.url(), id);
      if (!kind) return;
      const entry = { kind, url: r.url(), type: r.resourceType(), t: Date.now(), status: null, tEnd: null, failed: null };
      p.requests.push(entry);
      p._byReq = p._byReq || new WeakMap();
      p._byReq.set(r, entry);
    });
    page.on('response', (res) => {
      const e = p._byReq && p._byReq.get(res.request());
      if (e) { e.status = res.status(); e.tEnd = Date.now(); }
    });
    page.on('requestfailed', (r) => {
      const e = p._byReq && p._byReq.get(r);
      if (e) { e.failed = (r.failure() && r.failure().errorText) || 'failed'; e.tEnd = Date.now(); }
    });
    page.on('console', (m) => p.console.push({ type: m.type(), text: m.text(), t: Date.now() }));
    page.on('pageerror', (err) => p.pageErrors.push({ text: String(err && (err.stack || err.message) || err), t: Date.now() }));
    page.on('load', () => { p.loads += 1; });
    await page.goto(p.url, { waitUntil });
    return p;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    try { await this.context.close(); } catch {}
  }

  // Runtime.evaluate without userGesture: reading never grants activation.
  async peek(expression) {
    if (!this.cdp) return this.page.evaluate(expression);
    const r = await this.cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page evaluate failed: ${r.exceptionDetails.text} ${r.exceptionDetails.exception ? r.exceptionDetails.exception.description : ''}`);
    return r.result.value;
  }

  snapshot() { return this.peek(this.snapshotExpr); }

  // The same page object reading the player found in another root (e.g. one
  // of several elements on a host page): shares the page, its logs and waits.
  at(root) {
    const view = Object.create(this);
    view.snapshotExpr = snapshotIn(root);
    return view;
  }
  async state() { return (await this.snapshot()).state; }
  async message() { return (await this.snapshot()).message; }
  async viewersText() { const s = await this.snapshot(); return s.viewersHidden ? null : s.viewersText; }
  async videoCurrentTime() { const s = await this.snapshot(); return s.video ? s.video.currentTime : null; }
  async stateLog() { return (await this.peek('window.__e2e ? window.__e2e.states : []')) || []; }
  async stateSequence() { return (await this.stateLog()).map((x) => x.s); }

  async setMarker() {
    this.marker = `m${Math.random().toString(36).slice(2)}`;
    await this.peek(`window.__e2eMarker = ${JSON.stringify(this.marker)}`);
    this.loadsAtMarker = this.loads;
    return this.marker;
  }
  // True when the document that got the marker is still the one shown.
  async markerSurvived() {
    return (await this.peek('window.__e2eMarker || null')) === this.marker && this.loads === this.loadsAtMarker;
  }

  requestsOf(kind, since = 0) { return this.requests.filter((r) => r.kind === kind && r.t >= since); }

  // The config the player gave hls.js: the object it passed, and the merged
  // config of the instance (engine: 'hlsjs' only).
  hlsConfig() {
    return this.peek(`window.__e2eHls ? JSON.stringify({ arg: window.__e2eHls.arg, merged: window.__e2eHls.hls.config }, (k, v) => (typeof v === 'function' ? undefined : v === Infinity ? 'Infinity' : v)) : null`)
      .then((j) => (j ? JSON.parse(j) : null));
  }

  // Requests for an hls.js build (hls.min.js, hls.light.min.js, ...).
  hlsjsRequests() { return this.allRequests.filter((r) => /\/hls(\.[a-z]+)*\.m?js(\?|$)/.test(r.url)); }

  consoleErrors() { return this.console.filter((c) => c.type === 'error'); }

  // Console output that means the wasm panicked or trapped.
  panics() {
    const bad = /panicked|RuntimeError: unreachable|unreachable executed|wasm-bindgen: imported JS function that was not marked as `catch` threw/i;
    return [
      ...this.console.filter((c) => bad.test(c.text)).map((c) => `console.${c.type}: ${c.text}`),
      ...this.pageErrors.filter((e) => bad.test(e.text)).map((e) => `pageerror: ${e.text}`),
    ];
  }

  async describe() {
    let snap = null;
    try { snap = await this.snapshot(); } catch (e) { snap = { error: e.message }; }
    const log = snap && snap.log;
    const t0 = log && log.states && log.states[0] ? log.states[0].t : Date.now();
    const rel = (t) => `+${((t - t0) / 1000).toFixed(1)}s`;
    const lines = [];
    lines.push(`page ${this.name}: ${this.url}`);
    if (snap) {
      const { log: _l, ...rest } = snap;
      lines.push(`snapshot: ${JSON.stringify(rest)}`);
    }
    if (log) {
      lines.push(`states: ${log.states.map((x) => `${x.s}@${rel(x.t)}`).join(' → ')}`);
      lines.push(`aria-live: ${log.announcements.map((x) => `"${x.a}"@${rel(x.t)}`).join(' | ').slice(0, 800)}`);
    }
    const reqs = this.requests.slice(-25).map((r) => `${r.kind}@${rel(r.t)}=${r.status ?? r.failed ?? '…'}`);
    lines.push(`requests (last 25 of ${this.requests.length}): ${reqs.join(' ')}`);
    const errs = [...this.pageErrors.map((e) => `pageerror: ${e.text}`), ...this.consoleErrors().map((c) => c.text)].slice(-10);
    if (errs.length) lines.push(`console errors (last 10): ${errs.join(' | ').slice(0, 1500)}`);
    try {
      fs.mkdirSync(OUTPUT, { recursive: true });
      const shot = path.join(OUTPUT, `${this.name}-${Date.now()}.png`);
      await this.page.screenshot({ path: shot, timeout: 5000 });
      lines.push(`screenshot: ${path.relative(REPO, shot)}`);
    } catch {}
    return lines.join('\n');
  }

  // Resolves with the snapshot once `pred(snapshot)` holds.
  waitUntil(pred, { timeout = 15_000, interval = 200, what = 'player condition' } = {}) {
    return waitFor(async () => { const s = await this.snapshot(); return (await pred(s)) ? s : null; },
      { timeout, interval, what: `${what} on ${this.name}`, describe: () => this.describe() });
  }

  waitForState(states, timeout = 15_000) {
    const want = [].concat(states);
    return this.waitUntil((s) => want.includes(s.state), { timeout, what: `data-player-state in [${want.join(', ')}]` });
  }

  // Waits until the state log contains `seq` as a subsequence (in order).
  waitForSequence(seq, timeout = 30_000, since = 0) {
    return this.waitUntil((s) => {
      const states = ((s.log && s.log.states) || []).filter((x) => x.t >= since).map((x) => x.s);
      let i = 0;
      for (const st of states) if (st === seq[i]) i += 1;
      return i >= seq.length;
    }, { timeout, what: `state sequence ${seq.join(' → ')}` });
  }

  waitForPlaying(opts) { return waitForPlaying(this, opts); }

  isPlaying(ms, min) { return isPlaying(this, ms, min); }

  // axe-core's WCAG 2.0/2.1/2.2 A and AA rules and its best practices on the
  // whole page (shadow roots included), injected from node_modules; resolves
  // with the violations, each as { id, impact, help, nodes: [target: why] }.
  async axe() {
    await this.page.evaluate(axeSource());
    return this.page.evaluate(async () => {
      const r = await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
        resultTypes: ['violations'],
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`) }));
    });
  }

  async clickUnmute() {
    await this.page.click('button[data-action="unmute"]', { timeout: 5000 });
  }
}

// For any page object with `waitUntil(pred, opts)` and `snapshot()` whose
// snapshot has `video: { paused, readyState, currentTime }`.

// The video is playing: not paused, and currentTime advanced by `advance`
// seconds between samples taken by this wait (so a frozen frame fails).
export function waitForPlaying(page, { timeout = 30_000, advance = 1.0 } = {}) {
  let base = null;
  return page.waitUntil((s) => {
    const v = s.video;
    if (!v || v.paused || v.readyState < 2) { base = null; return false; }
    if (base === null || v.currentTime < base - 0.05) { base = v.currentTime; return false; }
    return v.currentTime >= base + advance;
  }, { timeout, what: `video playing (currentTime advancing by ${advance} s)` });
}

// Samples currentTime over `ms`: true when it advanced by at least `min` s.
export async function isPlaying(page, ms = 1500, min = 0.5) {
  const a = await page.snapshot();
  await sleep(ms);
  const b = await page.snapshot();
  return !!(a.video && b.video && !b.video.paused && b.video.currentTime - a.video.currentTime >= min);
}

// ---------------------------------------------------------------- per-file env

// Registers before/after hooks for a spec file: one server, one browser.
// Returns an object whose fields are filled in by the time tests run.
// `backend: true` (or options) also starts the backend against the stand-in.
export function useEnv({ name, autoplay = true, server: serverOpts = {}, backend = null } = {}) {
  // Logs and pages of a Firefox run are named apart from Chromium's.
  if (BROWSER === 'firefox') name = `${name}-firefox`;
  const env = {
    server: null, backend: null, browser: null, control: null, pages: [],
    async open(opts) {
      const p = await PlayerPage.open(env.browser, opts.base || env.server.url, { name: `${name}-${opts.name || opts.id || 'page'}`, ...opts });
      env.pages.push(p);
      return p;
    },
    async input(label) {
      return env.control.createInput({ name: `${name}-${label || 'input'}` });
    },
    // Opens a whole watch-page URL (e.g. a go-live answer's watchUrl).
    async openUrl(url, opts = {}) {
      const u = new URL(url);
      return env.open({ ...opts, base: u.origin, query: u.search.replace(/^\?/, '') });
    },
  };
  before(async () => {
    env.server = await startServer({ name, ...serverOpts });
    env.control = env.server.control;
    if (backend) env.backend = await startBackend({ name, standIn: env.server, ...(backend === true ? {} : backend) });
    env.browser = await launchBrowser({ autoplay });
  }, { timeout: 60_000 });
  after(async () => {
    for (const p of env.pages) await p.close();
    if (env.browser) { try { await env.browser.close(); } catch {} }
    if (env.backend) await env.backend.stop();
    if (env.server) await env.server.stop();
  }, { timeout: 30_000 });
  return env;
}

let axeSrc = null;
function axeSource() {
  if (!axeSrc) axeSrc = fs.readFileSync(path.join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');
  return axeSrc;
}

// Asserts the page never panicked; call at the end of every test.
export function assertNoPanic(assert, ...pages) {
  for (const p of pages) {
    const bad = p.panics();
    assert.deepEqual(bad, [], `${p.name}: the player panicked or trapped`);
  }
}
