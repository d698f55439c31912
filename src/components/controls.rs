//! The buttons over the picture: unmute after a muted autoplay, leave the
//! replay, the big play button, and the control bar. Paired buttons
//! (play/pause, mute/unmute) are all there; CSS shows the one that applies
//! (style/player.css), so each keeps a fixed accessible name.

use super::player::Act;
use leptos::prelude::*;
use player_core::machine::Action;
use player_core::player::View;
use player_core::text;

#[component]
pub fn Controls(v: RwSignal<View>, act: Act) -> impl IntoView {
    view! {
        <span class="jlp-spinner jlp-buffering" aria-hidden="true"></span>
        <button class="jlp-unmute" part="button unmute" data-action="unmute" on:click=act.on(Action::Unmute)>
            <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
            "Tap to unmute"
        </button>
        <button class="jlp-leave" part="button leave-replay" data-action="leave-replay" on:click=act.on(Action::LeaveReplay)>
            {move || if v.with(|v| v.live_now) { text::LIVE_NOW } else { text::BACK_TO_WAITING }}
        </button>
        <button class="jlp-bigplay" part="button big-play" data-action="play" aria-label="Play" on:click=act.on(Action::Play)>
            <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
        </button>
        <div class="jlp-controls" part="controls" role="group" aria-label="Player controls">
            <button part="button control" class="jlp-control jlp-when-paused" data-action="play" aria-label="Play" on:click=act.on(Action::Play)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-playing" data-action="pause" aria-label="Pause" on:click=act.on(Action::Pause)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M7 5h3.5v14H7zM13.5 5H17v14h-3.5z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-muted" data-action="unmute" aria-label="Unmute" on:click=act.on(Action::Unmute)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-unmuted" data-action="mute" aria-label="Mute" on:click=act.on(Action::Mute)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"></path></svg>
            </button>
            <button class="jlp-golive" part="button go-live" data-action="go-live" on:click=act.on(Action::GoLive)>"Go to live"</button>
            <span class="jlp-spacer"></span>
            <button part="button control" class="jlp-control" data-action="fullscreen" aria-label="Full screen" on:click=act.on(Action::Fullscreen)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 4v-4h2v6h-6v-2z"></path></svg>
            </button>
        </div>
    }
}
