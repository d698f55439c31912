import { PLAYER_EVENTS, type JitsiLivePlayerEventMap } from 'jitsi-live-player';

export type PlayerEventType = keyof JitsiLivePlayerEventMap;

/** Every event the player dispatches, as the package lists them. */
export { PLAYER_EVENTS };

/** One player event as the host received it. */
export type ReceivedEvent = {
  [K in PlayerEventType]: { type: K; detail: JitsiLivePlayerEventMap[K]['detail'] };
}[PlayerEventType];

export function isPlayerEventType(t: string): t is PlayerEventType {
  return (PLAYER_EVENTS as readonly string[]).includes(t);
}

/** Reads a DOM event the player dispatched into its typed form. */
export function received(e: Event): ReceivedEvent | null {
  if (!(e instanceof CustomEvent) || !isPlayerEventType(e.type)) return null;
  return { type: e.type, detail: e.detail } as ReceivedEvent;
}
