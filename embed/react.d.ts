// JSX typing of <jitsi-live-player> for React 19 hosts:
//
//   /// <reference types="jitsi-live-player/react" />   (once, in a .d.ts)
//   <jitsi-live-player input={uid} base={origin} muted onlivestart={(e) => e.detail.videoUID} />
//
// React 19 sets a custom element's props as properties (this element
// reflects them to its attributes) and turns an `on<name>` prop into
// addEventListener('<name>'), keeping the case: the player's events are
// lowercase, so their props are too (`onstatechange`, not `onStateChange`).
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { JitsiLivePlayerElement, JitsiLivePlayerEventMap, PlayerOptions } from './index.js';

/** `on<event>` props, one per player event, with the event's detail typed. */
export type JitsiLivePlayerEventProps = {
  [K in keyof JitsiLivePlayerEventMap as `on${K}`]?: (event: JitsiLivePlayerEventMap[K]) => void;
};

/** Props of `<jitsi-live-player>` in JSX: the player options, its events, and the usual HTML props. */
export type JitsiLivePlayerProps = DetailedHTMLProps<HTMLAttributes<JitsiLivePlayerElement>, JitsiLivePlayerElement> &
  PlayerOptions &
  JitsiLivePlayerEventProps;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'jitsi-live-player': JitsiLivePlayerProps;
    }
  }
}
