import { PLAYER_EVENTS, type JitsiLivePlayerEventMap } from 'jitsi-live-player';

export type PlayerEventType = keyof JitsiLivePlayerEventMap;
export type PlayerEvent = JitsiLivePlayerEventMap[PlayerEventType];

/** Every event the player dispatches (bubbling, composed CustomEvents), as the package lists them. */
export { PLAYER_EVENTS };

export interface LoggedEvent {
  id: number;
  type: string;
  time: string;
  /** The event's detail as JSON, shown as text. */
  detail: string;
}

export function detailJson(detail: unknown): string {
  try {
    return JSON.stringify(detail) ?? 'undefined';
  } catch {
    return String(detail);
  }
}
