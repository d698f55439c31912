// What spec 31 (the Angular host) needs beyond harness.mjs: the built
// Angular app as the server's dist, pages opened with extra init scripts
// (the leak probe, hidden native HLS), and reads through the player's
// shadow root and the host's event panel.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PlayerPage, HIDE_NATIVE_HLS, REPO } from './harness.mjs';
import { PROBE_SCRIPT, cdpOf, evalInPage } from './embed-probe.mjs';

export const ANGULAR_DIR = path.join(REPO, 'examples/angular');

// The Angular build output (served at `/`, so app and origin share one
// origin). E2E_ANGULAR_DIST points at another build; otherwise
// examples/angular/build.sh runs first: a no-op when the build is current,
// an `ng build` when the app or pkg/jitsi-live-player changed.
export function angularDist() {
  if (process.env.E2E_ANGULAR_DIST) return process.env.E2E_ANGULAR_DIST;
  if (!fs.existsSync(path.join(REPO, 'pkg/jitsi-live-player/index.js'))) {
    throw new Error('pkg/jitsi-live-player is not built (run scripts/package.sh)');
  }
  const t0 = Date.now();
  const out = execFileSync(path.join(ANGULAR_DIR, 'build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim().split('\n').pop();
  if (!process.env.E2E_QUIET) console.error(`[e2e] examples/angular/build.sh: ${out} (${Date.now() - t0} ms)`);
  if (!fs.existsSync(path.join(out, 'index.html'))) throw new Error(`Angular build missing: ${out}/index.html`);
  return out;
}

// Page-side log of the player's events as they reach `window` (they bubble
// and are composed): counts per type, error codes, and the last 100 with
// their times. Independent of the host's own panel, which is what the specs
// check the host against.
export const EVENT_LOG = `(() => {
  const types = ['statechange', 'livestart', 'liveend', 'viewerschange', 'playererror', 'recordingselect', 'metrics'];
  const log = window.__ngEvents = { counts: {}, errors: {}, last: [] };
  for (const type of types) {
    window.addEventListener(type, (e) => {
      log.counts[type] = (log.counts[type] || 0) + 1;
      if (type === 'playererror') log.errors[e.detail && e.detail.code] = (log.errors[e.detail && e.detail.code] || 0) + 1;
      log.last.push({ type, detail: e.detail, t: Date.now() });
      if (log.last.length > 100) log.last.shift();
    }, true);
  }
})();`;

/** Where the Angular host shows the player: the element's shadow root, or the mount() target. */
export const HOST_ROOT = `(document.querySelector('jitsi-live-player')?.shadowRoot ?? document.querySelector('[data-host="mount-target"]'))`;

/**
 * Opens the Angular app at `/?<query>` with the leak probe and the event log
 * installed before any page script (and native HLS hidden with
 * engine: 'hlsjs'). Returns the harness's PlayerPage (requests, console,
 * page errors, panics, `net`: every request with its outcome), reading the
 * player in HOST_ROOT.
 */
export async function openHost(env, { query, name, viewport = { width: 1280, height: 720 }, engine = 'auto' }) {
  const initScripts = [...(engine === 'hlsjs' ? [HIDE_NATIVE_HLS] : []), PROBE_SCRIPT, EVENT_LOG];
  const p = await PlayerPage.open(env.browser, env.server.url, { query, id: null, name: `angular-${name}`, viewport, initScripts, root: HOST_ROOT });
  env.pages.push(p);
  return p;
}

// The player as the host shows it: its shadow root (element variant) or
// the mount target (mount() variant), the host's panel and controls.
export const READ_HOST = `(() => {
  const el = document.querySelector('jitsi-live-player');
  const root = el ? el.shadowRoot : document.querySelector('[data-host="mount-target"]');
  const jlp = root ? root.querySelector('.jlp') : null;
  const v = jlp ? jlp.querySelector('video') : null;
  const css = (sel, prop) => { const x = root && root.querySelector(sel); return x ? getComputedStyle(x)[prop] : null; };
  const text = (sel) => { const x = document.querySelector(sel); return x ? x.textContent.trim() : null; };
  return {
    element: !!el,
    attrs: el ? { input: el.getAttribute('input'), base: el.getAttribute('base'), engine: el.getAttribute('engine'),
      autoplay: el.hasAttribute('autoplay'), muted: el.hasAttribute('muted') } : null,
    state: jlp ? jlp.dataset.playerState : null,
    elementState: el ? el.state : null,
    message: root && root.querySelector('[data-message]') ? root.querySelector('[data-message]').textContent.trim() : null,
    video: v ? { t: v.currentTime, paused: v.paused, src: v.currentSrc || v.getAttribute('src') || '', readyState: v.readyState } : null,
    badge: css('.jlp-badge', 'backgroundColor'),
    radius: css('.jlp-stage', 'borderTopLeftRadius'),
    scheme: jlp ? getComputedStyle(jlp).colorScheme : null,
    hostState: text('[data-host="state"]'),
    hostViewers: text('[data-host="viewers"]'),
    eventCount: Number(text('[data-host="event-count"]')),
    panel: [...document.querySelectorAll('[data-host="events"] li[data-event-type]')].map((li) => ({
      type: li.dataset.eventType,
      detail: li.querySelector('.event-detail') ? li.querySelector('.event-detail').textContent : null,
      html: li.querySelector('.event-detail') ? li.querySelector('.event-detail').innerHTML : null,
    })),
    theme: document.querySelector('app-root').className,
  };
})()`;

export const readHost = (p) => p.peek(READ_HOST);

/** Clicks a host control (by data-host) from inside the page, no user gesture. */
export function hostClick(p, what) {
  return p.peek(`(() => { const b = document.querySelector('[data-host="${what}"]'); if (!b) throw new Error('no [data-host=${what}]'); b.click(); return true; })()`);
}

/** Listener counts on window and document per event type, from CDP (what is really attached). */
export async function cdpListeners(page) {
  const cdp = await cdpOf(page);
  const out = {};
  for (const what of ['window', 'document']) {
    const { result } = await cdp.send('Runtime.evaluate', { expression: what });
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
    for (const l of listeners) out[`${what}:${l.type}`] = (out[`${what}:${l.type}`] || 0) + 1;
    await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
  }
  return out;
}

/**
 * Live objects of a kind in the JS heap (CDP Runtime.queryObjects, which
 * looks at the whole heap, detached objects included), each mapped with
 * `describe` (a function source taking the object).
 */
export async function heapObjects(page, prototypeExpr, describe = '(o) => true') {
  const cdp = await cdpOf(page);
  const proto = await cdp.send('Runtime.evaluate', { expression: prototypeExpr });
  if (!proto.result.objectId) return [];
  const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId });
  const r = await cdp.send('Runtime.callFunctionOn', {
    objectId: objects.objectId,
    functionDeclaration: `function () { const d = ${describe}; return this.map((o) => d(o)); }`,
    returnByValue: true,
  });
  await cdp.send('Runtime.releaseObject', { objectId: objects.objectId });
  await cdp.send('Runtime.releaseObject', { objectId: proto.result.objectId });
  return r.result.value;
}

export { evalInPage };

// A media element holds a source while it has a src attribute or a
// srcObject, or a currentSrc with a network state other than EMPTY.
// Chromium keeps `currentSrc` after the player's teardown
// (removeAttribute('src') + load()), with networkState NETWORK_EMPTY and
// readyState 0: the resource is released, so that alone does not count.
const DESCRIBE_VIDEO = `(v) => ({ connected: v.isConnected, src: v.getAttribute('src'), currentSrc: v.currentSrc,
  srcObject: !!v.srcObject, networkState: v.networkState, readyState: v.readyState })`;
export const holdsSource = (v) => !!(v.src || v.srcObject || (v.currentSrc && v.networkState !== 0));

/** Every <video> in the JS heap after a forced GC (attached or not), and those holding a source. */
export async function videosInHeap(page) {
  const cdp = await cdpOf(page);
  for (let i = 0; i < 2; i++) await cdp.send('HeapProfiler.collectGarbage');
  const all = await heapObjects(page, 'HTMLVideoElement.prototype', DESCRIBE_VIDEO);
  return { all, holding: all.filter(holdsSource) };
}

/** embed-probe's leaksSince, with its media line replaced by holdsSource (see above). */
export function leaksBesidesMedia(leaks) {
  return leaks.filter((l) => !l.startsWith('media elements still holding a source'));
}

// Node types of a V8 heap snapshot that are the page's own JavaScript data
// (not compiled code, not Blink/DevTools natives).
const JS_TYPES = new Set(['object', 'closure', 'array', 'string', 'concatenated string', 'sliced string', 'regexp', 'number', 'bigint', 'symbol']);

/**
 * Takes a heap snapshot (CDP HeapProfiler.takeHeapSnapshot, which collects
 * garbage first) and sums it up: bytes of the page's JS data (`jsBytes`),
 * bytes per node type, the total, and detached DOM nodes by name.
 * Runtime.getHeapUsage also counts code V8 compiles as the cycles warm up
 * and what DevTools keeps for the network panel (the harness enables the
 * Network domain): ~250 KB over 200 cycles here, none of it the page's.
 */
export async function heapSummary(page) {
  const cdp = await cdpOf(page);
  const chunks = [];
  const onChunk = (e) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  const snap = JSON.parse(chunks.join(''));
  const fields = snap.snapshot.meta.node_fields;
  const typeNames = snap.snapshot.meta.node_types[0];
  const [T, NAME, SIZE, W] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size'), fields.length];
  const out = { total: 0, jsBytes: 0, byType: {}, detached: {} };
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += W) {
    const type = typeNames[nodes[i + T]];
    const size = nodes[i + SIZE];
    out.total += size;
    out.byType[type] = (out.byType[type] || 0) + size;
    if (JS_TYPES.has(type)) out.jsBytes += size;
    if (type === 'native') {
      const name = snap.strings[nodes[i + NAME]];
      if (name.startsWith('Detached ')) out.detached[name] = (out.detached[name] || 0) + 1;
    }
  }
  return out;
}
