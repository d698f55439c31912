import { useCallback, useMemo, useRef, useState } from 'react';
import type { JitsiLivePlayerEventMap as Events, PlayerOptions, PlayerState } from 'jitsi-live-player';
import type { AppConfig, Theme } from './config';
import { ElementPlayer } from './ElementPlayer';
import { MountedPlayer } from './MountedPlayer';
import { EventPanel } from './EventPanel';
import { detailJson, type LoggedEvent, type PlayerEvent } from './events';

/** The panel keeps the latest events only, so a long session stays small. */
const MAX_EVENTS = 60;
const STREAM_NAMES = ['Main stage', 'Breakout room'];

const clock = (d: Date) => d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');

export function App({ config }: { config: AppConfig }) {
  const [theme, setTheme] = useState<Theme>(config.theme);
  const [shown, setShown] = useState(config.shown);
  const [stream, setStream] = useState(0);
  const [events, setEvents] = useState<LoggedEvent[]>([]);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [state, setState] = useState<PlayerState | null>(null);
  const [videoUID, setVideoUID] = useState<string | null>(null);
  const [viewers, setViewers] = useState<number | null>(null);
  const seq = useRef(0);

  const input = config.inputs[stream];
  const options = useMemo<PlayerOptions>(
    () => ({
      input,
      base: config.base,
      recordings: config.recordings,
      engine: config.engine,
      muted: config.muted,
      autoplay: config.autoplay,
    }),
    [input, config],
  );

  const onPlayerEvent = useCallback((event: PlayerEvent) => {
    const entry: LoggedEvent = { id: ++seq.current, type: event.type, time: clock(new Date()), detail: detailJson(event.detail) };
    setEvents((prev) => [entry, ...prev].slice(0, MAX_EVENTS));
    setCounts((prev) => ({ ...prev, [event.type]: (prev[event.type] ?? 0) + 1 }));
    // event.type tells which of the package's detail types it carries.
    switch (event.type) {
      case 'statechange': {
        const { state } = (event as Events['statechange']).detail;
        setState(state);
        if (state === 'waiting' || state === 'ended' || state === 'error') setViewers(null);
        break;
      }
      case 'livestart':
        setVideoUID((event as Events['livestart']).detail.videoUID);
        break;
      case 'viewerschange':
        setViewers((event as Events['viewerschange']).detail.viewers);
        break;
    }
  }, []);

  const clear = useCallback(() => {
    setEvents([]);
    setCounts({});
  }, []);

  const togglePlayer = () => {
    setShown((s) => !s);
    setState(null);
    setViewers(null);
  };
  const switchStream = (i: number) => {
    if (i === stream) return;
    setStream(i);
    setVideoUID(null);
    setViewers(null);
  };

  const Player = config.variant === 'mount' ? MountedPlayer : ElementPlayer;

  return (
    <div className="site" data-theme={theme}>
      <header className="site-header">
        <a className="brand" href="#top" aria-label="Northwind home">
          <span className="brand-mark" aria-hidden="true" />
          Northwind
        </a>
        <nav className="site-nav" aria-label="Sections">
          <a href="#top" aria-current="page">Town hall</a>
          <a href="#events">Events</a>
        </nav>
        <button
          type="button"
          id="theme-toggle"
          className="theme-switch"
          role="switch"
          aria-checked={theme === 'dark'}
          onClick={() => setTheme((t) => (t === 'dark' ? 'light' : 'dark'))}
        >
          <span className="theme-switch-track" aria-hidden="true">
            <span className="theme-switch-thumb" />
          </span>
          Dark theme
        </button>
      </header>

      <main className="layout" id="top">
        <section className="watch" aria-labelledby="title">
          <p className="eyebrow">Live · All hands</p>
          <h1 id="title">Quarterly town hall</h1>
          <p className="lede">
            Streamed from the Jitsi meeting. The player waits for the broadcast and starts by itself when it goes live.
          </p>

          <div className="toolbar">
            <button type="button" id="toggle-player" className="btn" aria-pressed={shown} onClick={togglePlayer}>
              {shown ? 'Hide player' : 'Show player'}
            </button>
            <div className="segmented" role="group" aria-label="Stream">
              {STREAM_NAMES.map((name, i) => (
                <button
                  key={name}
                  type="button"
                  id={`stream-${i + 1}`}
                  aria-pressed={stream === i}
                  disabled={!config.inputs[i]}
                  onClick={() => switchStream(i)}
                >
                  {name}
                </button>
              ))}
            </div>
            <span className="variant" title="How the player is embedded">
              {config.variant === 'mount' ? 'mount()' : '<jitsi-live-player>'}
            </span>
          </div>

          <div className="player-frame">
            {shown ? (
              <Player options={options} onPlayerEvent={onPlayerEvent} />
            ) : (
              <div className="player-off" id="player-off">
                The player is hidden. <button type="button" className="link" onClick={togglePlayer}>Show it again</button>
              </div>
            )}
          </div>

          <dl className="facts" id="facts">
            <div>
              <dt>State</dt>
              <dd data-fact="state">{state ?? '—'}</dd>
            </div>
            <div>
              <dt>Broadcast</dt>
              <dd data-fact="video">{videoUID ?? '—'}</dd>
            </div>
            <div>
              <dt>Watching</dt>
              <dd data-fact="viewers">{viewers ?? '—'}</dd>
            </div>
            <div>
              <dt>Stream</dt>
              <dd data-fact="input">{input ?? 'none: pass ?input='}</dd>
            </div>
          </dl>
        </section>

        <EventPanel events={events} counts={counts} onClear={clear} />
      </main>

      <footer className="site-footer">Northwind · internal broadcast · player: jitsi-live-player</footer>
    </div>
  );
}
