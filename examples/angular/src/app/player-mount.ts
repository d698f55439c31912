import {
  AfterViewInit,
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  effect,
  inject,
  input,
  output,
  viewChild,
} from '@angular/core';
import { mount, type PlayerHandle, type PlayerOptions } from 'jitsi-live-player';
import { PLAYER_EVENTS, received, type ReceivedEvent } from './events';

/**
 * The player through the package's `mount()` API, for hosts that would
 * rather not use the custom element: mounted once the view exists, updated
 * when `options` change, unmounted (listeners removed) when destroyed.
 */
@Component({
  selector: 'app-player-mount',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<div #target class="mount-target" data-host="mount-target"></div>`,
  styles: `
    :host { display: block; }
  `,
})
export class PlayerMount implements AfterViewInit {
  readonly options = input.required<PlayerOptions>();
  readonly playerEvent = output<ReceivedEvent>();

  private readonly target = viewChild.required<ElementRef<HTMLElement>>('target');
  private handle: PlayerHandle | null = null;

  constructor() {
    // A change of options after mounting: update() replaces the stream
    // (it is a no-op when nothing changed).
    effect(() => {
      const options = this.options();
      this.handle?.update(options);
    });
    inject(DestroyRef).onDestroy(() => {
      const el = this.target().nativeElement;
      for (const type of PLAYER_EVENTS) el.removeEventListener(type, this.forward);
      this.handle?.unmount();
      this.handle = null;
    });
  }

  ngAfterViewInit(): void {
    const el = this.target().nativeElement;
    for (const type of PLAYER_EVENTS) el.addEventListener(type, this.forward);
    this.handle = mount(el, this.options());
  }

  private readonly forward = (e: Event) => {
    const ev = received(e);
    if (ev) this.playerEvent.emit(ev);
  };
}
