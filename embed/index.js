// jitsi-live-player: the player as a custom element and a mount() function.
//
// The wasm (the same player as the watch page) loads once per page, on the
// first mount; hls.js loads later still, only where the browser lacks native
// HLS. Styles go into the element's shadow root (or, for mount(), into the
// target's document or shadow root) as one shared constructable sheet.
import init, { mount_player } from './jitsi_live_player.js';
import css from './styles.js';

/** The events a player dispatches (see JitsiLivePlayerEventMap), for hosts that listen to all of them. */
export const PLAYER_EVENTS = Object.freeze(['statechange', 'livestart', 'liveend', 'viewerschange', 'playererror', 'recordingselect', 'metrics']);

/** Retries of a wasm that failed to load: ORIGIN_RETRY in core/src/policy.rs (core/tests/contract.rs checks they agree). */
const RETRY = Object.freeze({ delayMs: 2_000, maxDelayMs: 60_000 });

let assetBase = null;
let hlsSrc = null;
let i18nBase = null;
let booting = null;
let sheet = null;

/** Where the .wasm, hls.min.js and the i18n/ catalogues are served from, for bundlers that don't copy them. */
export function configure(options = {}) {
  if (options.assetBase != null) assetBase = new URL(String(options.assetBase), document.baseURI);
  if (options.hlsSrc != null) hlsSrc = new URL(String(options.hlsSrc), document.baseURI).href;
  if (options.i18nBase != null) i18nBase = new URL(String(options.i18nBase), document.baseURI).href.replace(/\/?$/, '/');
}

// Written out literally so that bundlers (Vite, webpack, Rollup) find and
// copy the files.
function wasmUrl() {
  return assetBase
    ? new URL('jitsi_live_player_bg.wasm', assetBase)
    : new URL('./jitsi_live_player_bg.wasm', import.meta.url);
}
function hlsUrl() {
  if (hlsSrc) return hlsSrc;
  return (assetBase ? new URL('hls.min.js', assetBase) : new URL('./hls.min.js', import.meta.url)).href;
}
// The folder of the language catalogues (i18n/<tag>.json): the player
// fetches the one its viewer reads, if not English (built in).
function i18nUrl() {
  if (i18nBase) return i18nBase;
  return (assetBase ? new URL('i18n/', assetBase) : new URL('./i18n/', import.meta.url)).href;
}

/** Resolves when the wasm is ready. A failed load is tried again on the next call. */
export function ready() {
  booting ??= init({ module_or_path: wasmUrl() }).then(
    () => undefined,
    (e) => {
      booting = null;
      throw e;
    },
  );
  return booting;
}

function adoptStyles(root) {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  }
}

// Options as the player reads them: strings, with flags as "1"/"0".
const KEYS = ['input', 'video', 'customer', 'base', 'token', 'tokenUrl', 'jwt', 'recordings', 'qoe', 'engine', 'lang', 'muted', 'autoplay'];
function normalise(options) {
  const out = {};
  for (const key of KEYS) {
    const v = options?.[key];
    if (v === undefined || v === null) continue;
    out[key] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  return out;
}
const same = (a, b) => KEYS.every((k) => a[k] === b[k]);

// The fallback card's language, chosen as core's Lang::choose does (the
// player isn't there to choose): the option, else the browser's languages,
// else English. core/tests/contract.rs checks LANGS against core's.
const LANGS = ['en', 'de', 'fr', 'es', 'pt-BR', 'it', 'nl', 'pl', 'ja', 'zh-Hans', 'ar'];
function langOf(tag) {
  const [primary, ...rest] = String(tag || '').trim().toLowerCase().split(/[-_]/);
  if (primary === 'pt') return 'pt-BR';
  if (primary === 'zh') {
    const traditional = rest.some((p) => ['hant', 'tw', 'hk', 'mo'].includes(p));
    return traditional && !rest.includes('hans') ? null : 'zh-Hans';
  }
  return LANGS.includes(primary) ? primary : null;
}
function chooseLang(option) {
  return langOf(option) || (navigator.languages || []).map(langOf).find(Boolean) || 'en';
}

// What shows while the wasm can't be loaded (offline, a failing CDN): the
// player's own error card, built here since the player isn't there yet.
// English at once; the viewer's catalogue replaces it if it can be fetched.
function fallback(target, retryInMs, lang) {
  const message = 'The player could not be loaded. It will try again by itself.';
  const root = document.createElement('div');
  root.className = 'jlp';
  root.dataset.playerState = 'error';
  root.setAttribute('part', 'player');
  root.innerHTML =
    '<div class="jlp-stage" part="stage"><div class="jlp-overlay" part="overlay"><div class="jlp-card" part="card">' +
    '<p class="jlp-title" part="title"></p><p class="jlp-message" part="message" data-message></p></div></div></div>' +
    '<p class="jlp-sr" role="status" aria-live="polite"></p>';
  const words = (title, text) => {
    root.querySelector('.jlp-title').textContent = title;
    root.querySelector('.jlp-message').textContent = text;
    root.querySelector('.jlp-sr').textContent = text;
  };
  words("The stream can't be shown right now", message);
  target.replaceChildren(root);
  if (lang !== 'en') {
    fetch(`${i18nUrl()}${lang}.json`, { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : null))
      .then((c) => {
        const [title, text] = [c?.['state-error'], c?.['player-unavailable']];
        if (!root.isConnected || typeof title !== 'string' || typeof text !== 'string') return;
        root.lang = lang;
        root.dir = lang === 'ar' ? 'rtl' : 'ltr';
        words(title, text);
      })
      .catch(() => {});
  }
  target.dispatchEvent(
    new CustomEvent('playererror', {
      bubbles: true,
      composed: true,
      detail: { code: 'network', message, retryInMs },
    }),
  );
}

/**
 * Mounts a player into `target` and returns its handle at once; the wasm
 * loads in the background. `update()` and `unmount()` work before it has.
 */
export function mount(target, options) {
  if (!(target instanceof HTMLElement)) throw new TypeError('mount(target, options): target must be an HTMLElement');
  let current = normalise(options);
  let player = null;
  let gone = false;
  let failures = 0;
  let retry = null;
  const root = target.getRootNode();
  adoptStyles(root instanceof ShadowRoot ? root : document);
  // free() drops the wasm side, which unmounts the view and releases
  // everything the player holds.
  const start = () => {
    player?.free();
    player = null;
    target.replaceChildren();
    player = mount_player(target, current, hlsUrl(), i18nUrl());
  };
  const boot = () => {
    retry = null;
    ready().then(
      () => {
        if (!gone) start();
      },
      (e) => {
        if (gone) return;
        // Backoff as for the stream (hls.js's getRetryDelay over RETRY).
        const delay = Math.min(RETRY.maxDelayMs, RETRY.delayMs * 2 ** failures++);
        if (failures === 1) console.warn('jitsi-live-player: the player could not be loaded', e);
        fallback(target, delay, chooseLang(current.lang));
        retry = setTimeout(boot, delay);
      },
    );
  };
  boot();
  return {
    update(next) {
      const n = normalise(next);
      if (gone || same(n, current)) return;
      current = n;
      if (player) start();
    },
    unmount() {
      if (gone) return;
      gone = true;
      clearTimeout(retry);
      player?.free();
      player = null;
      target.replaceChildren();
    },
    get state() {
      return (player && target.querySelector('.jlp')?.dataset.playerState) || (retry ? 'error' : 'loading');
    },
  };
}

const STRING_ATTRS = ['input', 'video', 'customer', 'base', 'token', 'token-url', 'jwt', 'recordings', 'qoe', 'engine', 'lang'];
const FLAG_ATTRS = ['muted', 'autoplay'];
// An attribute's option and property name: `token-url` → `tokenUrl`.
const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/** `<jitsi-live-player>`: attributes and properties are reactive; removal tears the player down. */
export class JitsiLivePlayerElement extends HTMLElement {
  static observedAttributes = [...STRING_ATTRS, ...FLAG_ATTRS];
  #handle = null;
  #container = null;
  #queued = false;

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: 'open' });
    adoptStyles(shadow);
    this.#container = document.createElement('div');
    this.#container.setAttribute('part', 'container');
    shadow.append(this.#container);
  }

  // Properties a framework set before the element was defined shadow
  // the accessors: move them onto the attributes.
  #upgrade(name) {
    if (Object.prototype.hasOwnProperty.call(this, name)) {
      const value = this[name];
      delete this[name];
      this[name] = value;
    }
  }

  connectedCallback() {
    for (const name of KEYS) this.#upgrade(name);
    // Frameworks (Angular, Vue, Lit) insert the element first and set its
    // bindings later in the same task: mount once they are in.
    queueMicrotask(() => {
      if (this.isConnected && !this.#handle) this.#handle = mount(this.#container, this.#options());
    });
  }

  disconnectedCallback() {
    // A move within the page (disconnect then connect in one task) keeps
    // the player; a removal tears it down.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#handle?.unmount();
      this.#handle = null;
    });
  }

  attributeChangedCallback() {
    // Several attributes often change together (a framework re-render):
    // apply them once, on the next microtask.
    if (this.#queued || !this.#handle) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#handle?.update(this.#options());
    });
  }

  #options() {
    const o = {};
    for (const name of STRING_ATTRS) {
      const v = this.getAttribute(name);
      if (v !== null) o[camel(name)] = v;
    }
    for (const name of FLAG_ATTRS) o[name] = this.hasAttribute(name);
    return o;
  }

  get state() {
    return this.#handle?.state ?? 'loading';
  }
}

// `lang` is HTMLElement's own property, already reflecting the attribute.
for (const name of STRING_ATTRS.filter((n) => n !== 'lang')) {
  Object.defineProperty(JitsiLivePlayerElement.prototype, camel(name), {
    get() {
      return this.getAttribute(name);
    },
    set(v) {
      if (v === null || v === undefined) this.removeAttribute(name);
      else this.setAttribute(name, String(v));
    },
    configurable: true,
    enumerable: true,
  });
}
for (const name of FLAG_ATTRS) {
  Object.defineProperty(JitsiLivePlayerElement.prototype, name, {
    get() {
      return this.hasAttribute(name);
    },
    set(v) {
      this.toggleAttribute(name, Boolean(v) && v !== 'false');
    },
    configurable: true,
    enumerable: true,
  });
}

if (!customElements.get('jitsi-live-player')) {
  customElements.define('jitsi-live-player', JitsiLivePlayerElement);
}
