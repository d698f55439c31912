import type { LoggedEvent } from './events';

interface Props {
  events: LoggedEvent[];
  counts: Record<string, number>;
  onClear: () => void;
}

/** What the host heard from the player: type and detail, as plain text. */
export function EventPanel({ events, counts, onClear }: Props) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <aside className="events" id="events" aria-labelledby="events-title">
      <div className="events-head">
        <h2 id="events-title">Player events</h2>
        <span className="events-total" data-total={total}>
          {total}
        </span>
        <button type="button" className="link" onClick={onClear} disabled={total === 0}>
          Clear
        </button>
      </div>
      <ul className="events-counts" aria-label="Events by type">
        {Object.entries(counts).map(([type, n]) => (
          <li key={type} data-type={type} data-count={n}>
            {type} <b>{n}</b>
          </li>
        ))}
      </ul>
      {events.length === 0 ? (
        <p className="events-empty">No events yet.</p>
      ) : (
        <ol className="event-log" aria-live="off">
          {events.map((e) => (
            <li key={e.id} data-type={e.type}>
              <span className="event-type">{e.type}</span>
              <time className="event-time">{e.time}</time>
              <code className="event-detail">{e.detail}</code>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
