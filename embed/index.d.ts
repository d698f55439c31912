// Types for the jitsi-live-player package: the <jitsi-live-player> custom
// element, its events, and the mount() API.

/** The states of the player (the `data-player-state` of its root). */
export type PlayerState =
  | 'loading'
  | 'waiting'
  | 'starting'
  | 'live'
  | 'ended'
  | 'replay'
  | 'error';

/** How HLS is played: the browser's own player where it has one, or hls.js. */
export type PlayerEngine = 'auto' | 'native' | 'hlsjs';

/**
 * What a player shows: exactly one of `input` and `video` (both, or neither,
 * is a configuration error: the player shows what to pass and fires
 * `playererror` with code `config`).
 */
export interface PlayerOptions {
  /** Cloudflare Stream live input uid: the player waits for its broadcasts and plays them. */
  input?: string;
  /** One video uid (instead of `input`): played live while it broadcasts, then as its recording. */
  video?: string;
  /** Cloudflare customer code: delivery from `https://customer-<code>.cloudflarestream.com`. */
  customer?: string;
  /** Delivery base URL in place of `customer` (e.g. the local origin). */
  base?: string;
  /** A signed token, used in place of the uid in delivery URLs. */
  token?: string;
  /**
   * A private broadcast: where the player gets signed tokens (`POST`, answer
   * `{token, ttl}`), an http(s) URL or a path on this page's origin, e.g.
   * `/api/rooms/<room>/viewer-token`. The player gets one before it asks
   * anything else and a fresh one before it expires. Not with `token`.
   * Attribute `token-url`.
   */
  tokenUrl?: string;
  /**
   * The viewer's Jitsi token, for deployments that let only a meeting's
   * participants watch: sent only to `tokenUrl`, as `Authorization: Bearer`.
   */
  jwt?: string;
  /** The server's recordings endpoint for this input, to list recordings to replay. */
  recordings?: string;
  /**
   * Viewing figures (views, time viewed, rebuffering, quality changes; no personal data):
   * `false` or '0' sends none; a URL (or a path on this page's origin) is where they are posted.
   * Default: the backend named by `recordings` (`<its base>/api/qoe`); none without it.
   */
  qoe?: string | boolean;
  /** Start muted. Default false. */
  muted?: boolean;
  /** Start playing by itself when the broadcast is live. Default true for mount(), and for the element when the attribute is present. */
  autoplay?: boolean;
  /** Default 'auto'. */
  engine?: PlayerEngine;
  /**
   * The viewer's language, a BCP 47 tag: en, de, fr, es, pt-BR, it, nl, pl, ja, zh-Hans, ar
   * (right to left). Default: the first of `navigator.languages` the player has, else English.
   * A language it lacks falls through to the same default.
   */
  lang?: string;
}

export interface StateChangeDetail {
  state: PlayerState;
  previous: PlayerState;
  /** The plain message shown, if any. */
  message: string | null;
}

export interface LiveDetail {
  /** The video uid of the broadcast (its recording has the same uid). */
  videoUID: string;
}

export interface ViewersDetail {
  /** How many watch now; null when unknown. */
  viewers: number | null;
}

export type PlayerErrorCode =
  | 'config'
  | 'not-found'
  | 'forbidden'
  | 'rate-limited'
  | 'timeout'
  | 'malformed'
  | 'network'
  | 'playback';

export interface PlayerErrorDetail {
  code: PlayerErrorCode;
  /** The plain message the viewer sees. */
  message: string;
  /** When the player tries again by itself (ms from now); null if it waits for a new configuration. */
  retryInMs: number | null;
}

export interface RecordingSelectDetail {
  videoUID: string;
}

export type MetricsDetail =
  /** The first frame of a playback, `ms` after it was asked for. */
  | { type: 'first-frame'; ms: number; engine: 'native' | 'hlsjs'; live: boolean }
  /** A stall (buffering while live) that lasted `ms`. */
  | { type: 'stall'; ms: number }
  /** The picture size changed (a quality switch). */
  | { type: 'quality'; width: number; height: number };

/** Events dispatched on the element (or on the mount target): bubbling and composed. */
export interface JitsiLivePlayerEventMap {
  statechange: CustomEvent<StateChangeDetail>;
  livestart: CustomEvent<LiveDetail>;
  liveend: CustomEvent<LiveDetail>;
  viewerschange: CustomEvent<ViewersDetail>;
  playererror: CustomEvent<PlayerErrorDetail>;
  recordingselect: CustomEvent<RecordingSelectDetail>;
  metrics: CustomEvent<MetricsDetail>;
}

/** The names of JitsiLivePlayerEventMap, for hosts that listen to every event. */
export const PLAYER_EVENTS: readonly (keyof JitsiLivePlayerEventMap)[];

export interface PlayerHandle {
  /** Applies new options; a different stream replaces the old one (released). No-op when nothing changed. */
  update(options: PlayerOptions): void;
  /** Tears the player down. Idempotent. */
  unmount(): void;
  /** The current state. */
  readonly state: PlayerState;
}

/**
 * Mounts a player into `target` (its content is replaced). Returns at once;
 * the wasm loads in the background (once per page). Styles are added to the
 * target's document or shadow root.
 */
export function mount(target: HTMLElement, options: PlayerOptions): PlayerHandle;

/** Where the package's files (.wasm, hls.min.js) are served from, for bundlers that don't copy them. Call before the first mount. */
export function configure(options: { assetBase?: string | URL; hlsSrc?: string | URL; i18nBase?: string | URL }): void;

/** Resolves when the wasm is ready (mount() does not need this). */
export function ready(): Promise<void>;

/**
 * `<jitsi-live-player input="…" base="…" customer="…" token="…" token-url="…" jwt="…" recordings="…" qoe="…" video="…" engine="…" muted autoplay>`
 * Attributes and properties are reactive. Removing it from the DOM tears the player down.
 */
export class JitsiLivePlayerElement extends HTMLElement {
  input: string | null;
  video: string | null;
  customer: string | null;
  base: string | null;
  token: string | null;
  /** The `token-url` attribute. */
  tokenUrl: string | null;
  jwt: string | null;
  recordings: string | null;
  qoe: string | null;
  engine: PlayerEngine | null;
  muted: boolean;
  autoplay: boolean;
  /** The current state (read-only). */
  readonly state: PlayerState;
  static readonly observedAttributes: string[];
  addEventListener<K extends keyof JitsiLivePlayerEventMap>(
    type: K,
    listener: (this: JitsiLivePlayerElement, ev: JitsiLivePlayerEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof JitsiLivePlayerEventMap>(
    type: K,
    listener: (this: JitsiLivePlayerElement, ev: JitsiLivePlayerEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'jitsi-live-player': JitsiLivePlayerElement;
  }
}
