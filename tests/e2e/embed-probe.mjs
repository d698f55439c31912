// A leak probe for pages that embed the player (any host framework).
//
// PROBE_SCRIPT is installed before any page script (page.addInitScript or
// CDP Page.addScriptToEvaluateOnNewDocument). It wraps, in the page:
//   - setTimeout / setInterval / clearTimeout / clearInterval and
//     requestAnimationFrame / cancelAnimationFrame: what is pending now;
//   - EventTarget.prototype.addEventListener / removeEventListener for window
//     and document (also `once` and `signal` removals): what is attached now;
//   - fetch (with its AbortSignal) and XMLHttpRequest: what is in flight now;
//   - hls.js: when a script assigns window.Hls, the class is replaced by a
//     subclass that counts instances and destroy() calls (keeps any getter /
//     setter already installed on window.Hls, e.g. the harness's HLS_SPY);
//   - HTMLMediaElement src / srcObject / setAttribute('src'): every media
//     element that was given a source, held weakly, to find one still holding
//     a media resource (in the document, any open shadow root, or detached);
//   - URL.createObjectURL / revokeObjectURL, Worker / terminate;
//   - WebAssembly.instantiate(Streaming): the exported memories, so their size
//     can be read.
// Everything created with one of the player's frames on the stack (the
// wasm, or hls.js's script) is tagged `player`, the rest `other` (the host
// framework, the test itself): counts are kept for both, and the stacks of
// the player's pending timers and listeners are kept for the failure report.
//
// The page itself can read window.__probe.summary(); from Node use
// readProbe(page), forceGcAndHeap(page), mediaWithSource(page).
// window.__probe.raw holds the unwrapped timer functions, so a test driver
// running inside the page can wait without being counted.

export const PROBE_SCRIPT = String.raw`(() => {
  if (window.__probe) return;
  const W = window;
  const raw = {
    setTimeout: W.setTimeout.bind(W), setInterval: W.setInterval.bind(W),
    clearTimeout: W.clearTimeout.bind(W), clearInterval: W.clearInterval.bind(W),
    requestAnimationFrame: W.requestAnimationFrame.bind(W), cancelAnimationFrame: W.cancelAnimationFrame.bind(W),
    fetch: W.fetch, add: EventTarget.prototype.addEventListener, remove: EventTarget.prototype.removeEventListener,
    xhrOpen: XMLHttpRequest.prototype.open, xhrSend: XMLHttpRequest.prototype.send,
    createObjectURL: URL.createObjectURL, revokeObjectURL: URL.revokeObjectURL,
    setAttribute: Element.prototype.setAttribute,
  };
  const now = () => Math.round(performance.now());
  // Frames of the player: its wasm, or hls.js's script (hls.min-<hash>.js
  // once a bundler copied it). Hosts can widen it: __probe.playerFrames = /.../.
  const probe = {
    raw,
    playerFrames: /wasm-function\[|\.wasm[:)]|\/hls[^/\s]*\.js|jitsi_live_player/,
    stacks: true,
  };
  const stack = () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 16;
    const s = new Error().stack || '';
    Error.stackTraceLimit = limit;
    return s.split('\n').slice(3, 17).map((l) => l.trim()).join('\n');
  };
  const origin = () => {
    const s = stack();
    return probe.playerFrames.test(s) ? { player: true, stack: s } : { player: false, stack: null };
  };
  const count = (o, k) => { o[k] = (o[k] || 0) + 1; };

  // ---- timers
  const timers = new Map(); // id -> { kind, delay, t, player, stack }
  const timerStats = { created: { player: 0, other: 0 }, fired: 0, cleared: 0 };
  const track = (kind, id, delay, o) => {
    timers.set(id, { kind, delay: delay | 0, t: now(), player: o.player, stack: o.stack });
    count(timerStats.created, o.player ? 'player' : 'other');
  };
  const wrapCb = (fn, args) => (typeof fn === 'function' ? () => fn.apply(W, args) : () => (0, eval)(String(fn)));
  W.setTimeout = function setTimeout(fn, delay, ...args) {
    const o = origin();
    const cb = wrapCb(fn, args);
    let id;
    id = raw.setTimeout(() => { if (timers.delete(id)) timerStats.fired++; cb(); }, delay);
    track('timeout', id, delay, o);
    return id;
  };
  W.setInterval = function setInterval(fn, delay, ...args) {
    const o = origin();
    const id = raw.setInterval(wrapCb(fn, args), delay);
    track('interval', id, delay, o);
    return id;
  };
  const clear = (id) => { if (timers.delete(id)) timerStats.cleared++; };
  W.clearTimeout = function clearTimeout(id) { clear(id); raw.clearTimeout(id); };
  W.clearInterval = function clearInterval(id) { clear(id); raw.clearInterval(id); };
  const frames = new Map();
  W.requestAnimationFrame = function requestAnimationFrame(fn) {
    const o = origin();
    let id;
    id = raw.requestAnimationFrame((t) => { frames.delete(id); fn(t); });
    frames.set(id, { t: now(), player: o.player, stack: o.stack });
    return id;
  };
  W.cancelAnimationFrame = function cancelAnimationFrame(id) { frames.delete(id); raw.cancelAnimationFrame(id); };

  // ---- listeners on window and document
  const listeners = []; // { target, type, fn, capture, player, stack, t }
  const listenerStats = { added: { player: 0, other: 0 }, removed: 0 };
  const targetName = (t) => (t === W ? 'window' : t === document ? 'document' : null);
  const captureOf = (o) => (typeof o === 'boolean' ? o : !!(o && o.capture));
  const find = (target, type, fn, capture) =>
    listeners.findIndex((l) => l.target === target && l.type === type && l.fn === fn && l.capture === capture);
  const drop = (target, type, fn, capture) => {
    const i = find(target, type, fn, capture);
    if (i < 0) return;
    const [l] = listeners.splice(i, 1);
    listenerStats.removed++;
    if (l.onceHelper) raw.remove.call(target, type, l.onceHelper, { capture });
  };
  EventTarget.prototype.addEventListener = function addEventListener(type, fn, options) {
    const name = targetName(this);
    if (name && fn) {
      const capture = captureOf(options);
      const signal = options && typeof options === 'object' ? options.signal : undefined;
      if (find(this, type, fn, capture) < 0 && !(signal && signal.aborted)) {
        const o = origin();
        const entry = { target: this, name, type, fn, capture, player: o.player, stack: o.stack, t: now(), onceHelper: null };
        listeners.push(entry);
        count(listenerStats.added, o.player ? 'player' : 'other');
        const target = this;
        if (options && typeof options === 'object' && options.once) {
          // Runs right after the listener itself (added after it, same phase).
          entry.onceHelper = () => { entry.onceHelper = null; drop(target, type, fn, capture); };
          raw.add.call(target, type, entry.onceHelper, { capture, once: true });
        }
        if (signal) raw.add.call(signal, 'abort', () => drop(target, type, fn, capture), { once: true });
      }
    }
    return raw.add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function removeEventListener(type, fn, options) {
    if (targetName(this) && fn) drop(this, type, fn, captureOf(options));
    return raw.remove.call(this, type, fn, options);
  };

  // ---- fetch and XHR
  let reqSeq = 0;
  const fetches = new Map(); // id -> { url, t, player, signal }
  const fetchStats = { started: 0, ok: 0, failed: 0, aborted: 0 };
  W.fetch = function fetch(input, init) {
    const id = ++reqSeq;
    const url = typeof input === 'string' ? input : input && input.url ? input.url : String(input);
    const signal = (init && init.signal) || (input && input.signal) || null;
    const o = origin();
    fetches.set(id, { url, t: now(), player: o.player, withSignal: !!signal });
    fetchStats.started++;
    let p;
    try { p = raw.fetch.call(W, input, init); } catch (e) { fetches.delete(id); fetchStats.failed++; throw e; }
    return p.then(
      (res) => { fetches.delete(id); fetchStats.ok++; return res; },
      (err) => { fetches.delete(id); if (err && err.name === 'AbortError') fetchStats.aborted++; else fetchStats.failed++; throw err; },
    );
  };
  const xhrs = new Map();
  const xhrInfo = new WeakMap();
  const xhrStats = { started: 0, done: 0 };
  XMLHttpRequest.prototype.open = function open(method, url) {
    xhrInfo.set(this, { method, url: String(url) });
    return raw.xhrOpen.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function send() {
    const id = ++reqSeq;
    const info = xhrInfo.get(this) || {};
    const o = origin();
    xhrs.set(id, { url: info.url, t: now(), player: o.player });
    xhrStats.started++;
    raw.add.call(this, 'loadend', () => { if (xhrs.delete(id)) xhrStats.done++; }, { once: true });
    return raw.xhrSend.apply(this, arguments);
  };

  // ---- hls.js
  const hls = { classes: 0, created: 0, destroyed: 0, refs: [] };
  const destroyed = new WeakSet();
  const wrapHls = (v) => {
    if (typeof v !== 'function' || v.__probeWrapped) return v;
    hls.classes++;
    const Wrapped = class extends v {
      constructor(...args) {
        super(...args);
        hls.created++;
        hls.refs.push(new WeakRef(this));
      }
      destroy() {
        if (!destroyed.has(this)) { destroyed.add(this); hls.destroyed++; }
        return super.destroy();
      }
    };
    Object.defineProperty(Wrapped, '__probeWrapped', { value: true });
    Object.defineProperty(Wrapped, 'name', { value: v.name || 'Hls' });
    return Wrapped;
  };
  {
    const prev = Object.getOwnPropertyDescriptor(W, 'Hls');
    let H = prev && 'value' in prev ? wrapHls(prev.value) : undefined;
    Object.defineProperty(W, 'Hls', {
      configurable: true, enumerable: true,
      get() { return prev && prev.get ? prev.get.call(W) : H; },
      set(v) { const w = wrapHls(v); if (prev && prev.set) prev.set.call(W, w); else H = w; },
    });
  }

  // ---- media elements given a source
  const media = []; // WeakRef<HTMLMediaElement>
  const seenMedia = new WeakSet();
  const noteMedia = (el) => { if (!seenMedia.has(el)) { seenMedia.add(el); media.push(new WeakRef(el)); } };
  for (const prop of ['src', 'srcObject']) {
    const d = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, prop);
    if (d && d.set) {
      Object.defineProperty(HTMLMediaElement.prototype, prop, {
        ...d, set(v) { noteMedia(this); return d.set.call(this, v); },
      });
    }
  }
  Element.prototype.setAttribute = function setAttribute(name, value) {
    if (this instanceof HTMLMediaElement && String(name).toLowerCase() === 'src') noteMedia(this);
    return raw.setAttribute.call(this, name, value);
  };

  // ---- blob URLs, workers
  const blobs = new Set();
  const blobStats = { created: 0, revoked: 0 };
  URL.createObjectURL = function createObjectURL(obj) {
    const u = raw.createObjectURL.call(URL, obj);
    blobs.add(u); blobStats.created++;
    return u;
  };
  URL.revokeObjectURL = function revokeObjectURL(u) {
    if (blobs.delete(u)) blobStats.revoked++;
    return raw.revokeObjectURL.call(URL, u);
  };
  const workerStats = { created: 0, terminated: 0 };
  if (typeof W.Worker === 'function') {
    const RawWorker = W.Worker;
    const terminated = new WeakSet();
    W.Worker = class Worker extends RawWorker {
      constructor(...a) { super(...a); workerStats.created++; }
      terminate() { if (!terminated.has(this)) { terminated.add(this); workerStats.terminated++; } return super.terminate(); }
    };
  }

  // ---- wasm memories
  const memories = [];
  const noteExports = (result) => {
    try {
      const inst = result && (result.instance || result);
      const ex = inst && inst.exports;
      if (ex) for (const k of Object.keys(ex)) if (ex[k] instanceof WebAssembly.Memory && !memories.includes(ex[k])) memories.push(ex[k]);
    } catch {}
    return result;
  };
  for (const fn of ['instantiate', 'instantiateStreaming']) {
    const orig = WebAssembly[fn];
    if (typeof orig === 'function') WebAssembly[fn] = function (...a) { return orig.apply(WebAssembly, a).then(noteExports); };
  }

  // ---- reading
  // Every element in the document and in open shadow roots, depth first.
  const deepAll = (selector) => {
    const out = [];
    const walk = (root) => {
      out.push(...root.querySelectorAll(selector));
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return out;
  };
  // Holding a media resource: a src attribute or srcObject, or a network or
  // ready state that says something is loaded or loading. Not currentSrc:
  // Chromium keeps it after removeAttribute('src') + load(), which releases
  // the resource (networkState back to NETWORK_EMPTY, readyState HAVE_NOTHING).
  const hasSource = (el) => !!(el.getAttribute('src') || el.srcObject ||
    el.networkState === HTMLMediaElement.NETWORK_IDLE || el.networkState === HTMLMediaElement.NETWORK_LOADING || el.readyState > 0);
  const describeMedia = (el) => ({
    tag: el.tagName.toLowerCase(), connected: el.isConnected, src: el.getAttribute('src'), currentSrc: el.currentSrc,
    srcObject: !!el.srcObject, paused: el.paused, networkState: el.networkState, readyState: el.readyState,
  });
  const age = (t) => now() - t;
  probe.deepAll = deepAll;
  probe.mediaWithSource = () => {
    const found = new Set(deepAll('video, audio').filter(hasSource));
    for (const r of media) { const el = r.deref(); if (el && hasSource(el)) found.add(el); }
    return [...found].map(describeMedia);
  };
  probe.summary = ({ details = true } = {}) => {
    const pendingTimers = [...timers.values()];
    const pendingFrames = [...frames.values()];
    const pick = (l) => ({ kind: l.kind, delay: l.delay, ageMs: age(l.t), stack: l.stack });
    return {
      t: Date.now(),
      timers: {
        pending: pendingTimers.length,
        pendingPlayer: pendingTimers.filter((x) => x.player).length,
        pendingIntervals: pendingTimers.filter((x) => x.kind === 'interval').length,
        created: { ...timerStats.created }, fired: timerStats.fired, cleared: timerStats.cleared,
        playerList: details ? pendingTimers.filter((x) => x.player).slice(0, 10).map(pick) : undefined,
        otherList: details ? pendingTimers.filter((x) => !x.player).slice(0, 10).map((x) => ({ kind: x.kind, delay: x.delay, ageMs: age(x.t) })) : undefined,
      },
      frames: { pending: pendingFrames.length, pendingPlayer: pendingFrames.filter((x) => x.player).length },
      listeners: {
        total: listeners.length,
        player: listeners.filter((l) => l.player).length,
        added: { ...listenerStats.added }, removed: listenerStats.removed,
        list: details ? listeners.map((l) => ({ on: l.name, type: l.type, capture: l.capture, player: l.player, stack: l.player ? l.stack : undefined })) : undefined,
      },
      fetch: { ...fetchStats, pending: [...fetches.values()].map((f) => ({ url: f.url, ageMs: age(f.t), player: f.player, withSignal: f.withSignal })) },
      xhr: { ...xhrStats, pending: [...xhrs.values()].map((x) => ({ url: x.url, ageMs: age(x.t), player: x.player })) },
      hls: {
        classes: hls.classes, created: hls.created, destroyed: hls.destroyed,
        notDestroyed: hls.created - hls.destroyed,
        // Not destroyed and still reachable (not garbage collected).
        alive: hls.refs.filter((r) => { const h = r.deref(); return h && !destroyed.has(h); }).length,
      },
      media: { tracked: media.length, alive: media.filter((r) => r.deref()).length, withSource: probe.mediaWithSource() },
      videosInPage: deepAll('video').length,
      blobUrls: { ...blobStats, live: blobs.size },
      workers: { ...workerStats, live: workerStats.created - workerStats.terminated },
      wasm: { memories: memories.map((m) => m.buffer.byteLength) },
    };
  };
  // Waits in the page without being counted as a timer.
  probe.sleep = (ms) => new Promise((r) => raw.setTimeout(r, ms));
  probe.until = async (fn, timeout = 10000, every = 20) => {
    const end = performance.now() + timeout;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (performance.now() > end) return null;
      await probe.sleep(every);
    }
  };
  Object.defineProperty(W, '__probe', { value: probe, enumerable: false });
})();`;

// ------------------------------------------------------------------ Node side

const sessions = new WeakMap();

// A CDP session for a Playwright page (one per page, reused).
export async function cdpOf(page) {
  let s = sessions.get(page);
  if (!s) {
    s = await page.context().newCDPSession(page);
    sessions.set(page, s);
  }
  return s;
}

// Evaluates `expression` in the page through CDP, without a user gesture
// (Playwright's evaluate would give the page user activation); awaits a
// returned promise; returns the value (JSON).
export async function evalInPage(page, expression) {
  const cdp = await cdpOf(page);
  const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) {
    const ex = r.exceptionDetails.exception;
    throw new Error(`page evaluate failed: ${r.exceptionDetails.text} ${ex ? ex.description || ex.value : ''}`);
  }
  return r.result.value;
}

/** The probe's summary (see PROBE_SCRIPT); `details: false` leaves the lists out. */
export function readProbe(page, { details = true } = {}) {
  return evalInPage(page, `window.__probe ? window.__probe.summary(${JSON.stringify({ details })}) : null`);
}

/** Media elements (document, open shadow roots, detached) that still have a source. */
export function mediaWithSource(page) {
  return evalInPage(page, 'window.__probe.mediaWithSource()');
}

/**
 * Collects garbage (CDP HeapProfiler.collectGarbage, `rounds` times with a
 * short pause so finalizers and weak refs settle) and returns the JS heap in
 * use (Runtime.getHeapUsage) and the sizes of the wasm memories.
 */
export async function forceGcAndHeap(page, { rounds = 3 } = {}) {
  const cdp = await cdpOf(page);
  for (let i = 0; i < rounds; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await new Promise((r) => setTimeout(r, 150));
  }
  const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
  const wasm = await evalInPage(page, 'window.__probe ? window.__probe.summary({ details: false }).wasm.memories : []');
  return { usedSize, totalSize, wasmMemories: wasm };
}

export const mb = (bytes) => `${(bytes / 1048576).toFixed(2)} MB`;

/**
 * What the player left behind, compared with a baseline summary read while
 * the page was idle before the first mount: a list of plain sentences, empty
 * when nothing leaked. `hls` and `media` are checked absolutely (a host
 * creates neither by itself).
 */
export function leaksSince(base, now) {
  const out = [];
  if (now.timers.pendingPlayer > 0) out.push(`${now.timers.pendingPlayer} timer(s) created by the player still pending: ${JSON.stringify(now.timers.playerList)}`);
  if (now.timers.pending > base.timers.pending) out.push(`pending timers ${base.timers.pending} → ${now.timers.pending}: ${JSON.stringify(now.timers.otherList)}`);
  if (now.frames.pendingPlayer > 0) out.push(`${now.frames.pendingPlayer} animation frame(s) requested by the player still pending`);
  if (now.listeners.player > 0) out.push(`${now.listeners.player} window/document listener(s) added by the player still attached: ${JSON.stringify(now.listeners.list.filter((l) => l.player))}`);
  if (now.listeners.total > base.listeners.total) out.push(`window/document listeners ${base.listeners.total} → ${now.listeners.total}: ${JSON.stringify(now.listeners.list)}`);
  if (now.fetch.pending.length) out.push(`fetches still pending: ${JSON.stringify(now.fetch.pending)}`);
  if (now.xhr.pending.length) out.push(`XHRs still pending: ${JSON.stringify(now.xhr.pending)}`);
  if (now.hls.notDestroyed > 0) out.push(`hls.js instances created ${now.hls.created}, destroyed ${now.hls.destroyed} (${now.hls.alive} of the others still reachable)`);
  if (now.media.withSource.length) out.push(`media elements still holding a source: ${JSON.stringify(now.media.withSource)}`);
  if (now.workers.live > base.workers.live) out.push(`workers created ${now.workers.created}, terminated ${now.workers.terminated}`);
  return out;
}
