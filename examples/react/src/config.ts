// The page's configuration comes from its address, so that tests (and
// anyone trying the example) can point it at any origin:
//   ?base=<origin url>&input=<uid>&input2=<uid>&recordings=<url>
//    &variant=element|mount&engine=auto|native|hlsjs&muted=1&autoplay=0&theme=light|dark
//    &hidden=1 (start with the player hidden)
import type { PlayerEngine } from 'jitsi-live-player';

export type Variant = 'element' | 'mount';
export type Theme = 'light' | 'dark';

export interface AppConfig {
  base: string | undefined;
  inputs: string[];
  recordings: string | undefined;
  variant: Variant;
  engine: PlayerEngine | undefined;
  muted: boolean;
  autoplay: boolean;
  theme: Theme;
  /** Whether the player is shown at first. */
  shown: boolean;
}

const ENGINES: readonly PlayerEngine[] = ['auto', 'native', 'hlsjs'];

export function readConfig(search: string = window.location.search): AppConfig {
  const q = new URLSearchParams(search);
  const get = (k: string) => {
    const v = q.get(k);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const engine = get('engine');
  const theme = get('theme');
  const prefersDark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  return {
    base: get('base'),
    inputs: [get('input'), get('input2')].filter((v): v is string => v !== undefined),
    recordings: get('recordings'),
    variant: get('variant') === 'mount' ? 'mount' : 'element',
    engine: ENGINES.find((e) => e === engine),
    muted: get('muted') === '1',
    autoplay: get('autoplay') !== '0',
    theme: theme === 'dark' || theme === 'light' ? theme : prefersDark ? 'dark' : 'light',
    shown: get('hidden') !== '1',
  };
}
