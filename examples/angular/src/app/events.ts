import type { JitsiLivePlayerEventMap } from 'jitsi-live-player';

export type PlayerEventType = keyof JitsiLivePlayerEventMap;

/** Every event the player dispatches (see the package's index.d.ts). */
export const PLAYER_EVENTS: readonly PlayerEventType[] = [
  'statechange',
  'livestart',
  'liveend',
  'viewerschange',
  'playererror',
  'recordingselect',
  'metrics',
];

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
