// The player as a custom element. React 19 sets the element's props as
// properties (the element reflects them to attributes and applies a change on
// the next microtask), and `on<name>` props become addEventListener(<name>)
// with the case kept: the player's events are lowercase, so are the props.
import type { PlayerOptions } from 'jitsi-live-player';
import type { PlayerEvent } from './events';

interface Props {
  options: PlayerOptions;
  onPlayerEvent: (event: PlayerEvent) => void;
}

export function ElementPlayer({ options, onPlayerEvent }: Props) {
  return (
    <jitsi-live-player
      className="player"
      input={options.input}
      base={options.base}
      recordings={options.recordings}
      engine={options.engine}
      muted={options.muted}
      autoplay={options.autoplay}
      onstatechange={onPlayerEvent}
      onlivestart={onPlayerEvent}
      onliveend={onPlayerEvent}
      onviewerschange={onPlayerEvent}
      onplayererror={onPlayerEvent}
      onrecordingselect={onPlayerEvent}
      onmetrics={onPlayerEvent}
    />
  );
}
