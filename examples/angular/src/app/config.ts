import type { PlayerEngine, PlayerOptions } from 'jitsi-live-player';

export type Variant = 'element' | 'mount';
export type Theme = 'light' | 'dark';

/** What the page shows, read once from its address. */
export interface HostConfig {
  /** Delivery base (the local origin in tests); default: the page's origin. */
  base: string | null;
  /** The two streams the page switches between. */
  streams: [StreamChoice, StreamChoice];
  variant: Variant;
  engine: PlayerEngine | null;
  muted: boolean;
  autoplay: boolean;
  theme: Theme;
}

export interface StreamChoice {
  label: string;
  input: string | null;
  recordings: string | null;
}

const ENGINES: readonly PlayerEngine[] = ['auto', 'native', 'hlsjs'];

/**
 * `?base=<origin>&input=<uid>&input2=<uid>&recordings=<url>&recordings2=<url>
 *  &variant=element|mount&engine=auto|native|hlsjs&muted=1&autoplay=0&theme=dark`
 */
export function readConfig(search: string = location.search): HostConfig {
  const q = new URLSearchParams(search);
  const str = (k: string) => {
    const v = q.get(k);
    return v === null || v.trim() === '' ? null : v.trim();
  };
  const engine = str('engine');
  return {
    base: str('base'),
    streams: [
      { label: 'Main hall', input: str('input'), recordings: str('recordings') },
      { label: 'Room B', input: str('input2'), recordings: str('recordings2') },
    ],
    variant: str('variant') === 'mount' ? 'mount' : 'element',
    engine: engine && (ENGINES as readonly string[]).includes(engine) ? (engine as PlayerEngine) : null,
    muted: str('muted') === '1',
    autoplay: str('autoplay') !== '0',
    theme: str('theme') === 'dark' ? 'dark' : 'light',
  };
}

/** The player options for one of the streams. */
export function playerOptions(cfg: HostConfig, stream: StreamChoice): PlayerOptions {
  const o: PlayerOptions = { muted: cfg.muted, autoplay: cfg.autoplay };
  if (stream.input) o.input = stream.input;
  if (stream.recordings) o.recordings = stream.recordings;
  if (cfg.base) o.base = cfg.base;
  if (cfg.engine) o.engine = cfg.engine;
  return o;
}
