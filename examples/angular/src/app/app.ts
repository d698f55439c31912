import {
  ChangeDetectionStrategy,
  Component,
  CUSTOM_ELEMENTS_SCHEMA,
  computed,
  signal,
} from '@angular/core';
import type { PlayerState } from 'jitsi-live-player';
import { playerOptions, readConfig, type Theme } from './config';
import { received, type ReceivedEvent } from './events';
import { PlayerMount } from './player-mount';

interface LoggedEvent {
  id: number;
  time: string;
  type: ReceivedEvent['type'];
  json: string;
}

/** How many events the panel keeps (newest first). */
const PANEL_SIZE = 40;

@Component({
  selector: 'app-root',
  imports: [PlayerMount],
  // <jitsi-live-player> is a custom element Angular does not compile.
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './app.html',
  host: {
    '[class.theme-dark]': "theme() === 'dark'",
    '[class.theme-light]': "theme() === 'light'",
  },
})
export class App {
  protected readonly cfg = readConfig();
  protected readonly variantLabel = this.cfg.variant === 'mount' ? 'mount()' : '<jitsi-live-player>';
  protected readonly theme = signal<Theme>(this.cfg.theme);
  protected readonly shown = signal(true);
  protected readonly which = signal<0 | 1>(0);
  protected readonly stream = computed(() => this.cfg.streams[this.which()]);
  /** Options for the mount() variant. */
  protected readonly options = computed(() => playerOptions(this.cfg, this.stream()));

  protected readonly events = signal<LoggedEvent[]>([]);
  protected readonly eventCount = signal(0);
  protected readonly state = signal<PlayerState | 'hidden'>('loading');
  protected readonly viewers = signal<number | null>(null);
  protected readonly onAir = signal<string | null>(null);
  private nextId = 1;

  protected toggleTheme(): void {
    this.theme.update((t) => (t === 'dark' ? 'light' : 'dark'));
  }

  protected toggleShown(): void {
    this.shown.update((s) => !s);
    this.state.set(this.shown() ? 'loading' : 'hidden');
    this.viewers.set(null);
    this.onAir.set(null);
  }

  protected choose(i: 0 | 1): void {
    this.which.set(i);
  }

  protected clearEvents(): void {
    this.events.set([]);
  }

  /** `(statechange)="onPlayerEvent($event)"` etc. on the element. */
  protected onPlayerEvent(e: Event): void {
    const ev = received(e);
    if (ev) this.record(ev);
  }

  protected record(ev: ReceivedEvent): void {
    switch (ev.type) {
      case 'statechange':
        this.state.set(ev.detail.state);
        break;
      case 'viewerschange':
        this.viewers.set(ev.detail.viewers);
        break;
      case 'livestart':
        this.onAir.set(ev.detail.videoUID);
        break;
      case 'liveend':
        this.onAir.set(null);
        break;
    }
    const entry: LoggedEvent = {
      id: this.nextId++,
      time: new Date().toLocaleTimeString([], { hour12: false }),
      type: ev.type,
      // One line, spaced for reading (still JSON).
      json: JSON.stringify(ev.detail, null, 1).replace(/\n\s*/g, ' '),
    };
    this.events.update((list) => [entry, ...list].slice(0, PANEL_SIZE));
    this.eventCount.update((n) => n + 1);
  }
}
