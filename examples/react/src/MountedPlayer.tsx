// The player through mount(): mounted into a <div> React renders empty, torn
// down in the effect's cleanup; later option changes go through update().
import { useEffect, useRef } from 'react';
import { mount, type PlayerHandle, type PlayerOptions } from 'jitsi-live-player';
import { PLAYER_EVENTS, type PlayerEvent } from './events';

interface Props {
  options: PlayerOptions;
  onPlayerEvent: (event: PlayerEvent) => void;
}

export function MountedPlayer({ options, onPlayerEvent }: Props) {
  const target = useRef<HTMLDivElement>(null);
  const handle = useRef<PlayerHandle | null>(null);
  // The options the player starts with; changes are applied by update().
  const initial = useRef(options);

  // The events bubble from inside the target.
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    const listener = (e: Event) => onPlayerEvent(e as PlayerEvent);
    for (const type of PLAYER_EVENTS) el.addEventListener(type, listener);
    return () => {
      for (const type of PLAYER_EVENTS) el.removeEventListener(type, listener);
    };
  }, [onPlayerEvent]);

  useEffect(() => {
    const el = target.current;
    if (!el) return;
    const player = mount(el, initial.current);
    handle.current = player;
    return () => {
      handle.current = null;
      player.unmount();
    };
  }, []);

  useEffect(() => {
    handle.current?.update(options);
  }, [options]);

  return <div className="player" ref={target} />;
}
