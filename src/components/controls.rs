//! The buttons over the picture: unmute after a muted autoplay, leave the
//! replay, the big play button, and the control bar (play, mute, volume,
//! how far behind live with "Go to live", quality, picture-in-picture, full
//! screen). Paired buttons (play/pause, mute/unmute) are all there; CSS
//! shows the one that applies (style/player.css), so each keeps a fixed
//! accessible name.

use super::player::{Act, Tr};
use crate::interop::intl;
use leptos::prelude::*;
use player_core::i18n::Key;
use player_core::machine::Action;
use player_core::player::{parse_quality, parse_volume, View, QUALITY_AUTO};

#[component]
pub fn Controls(v: RwSignal<View>, act: Act, tr: Tr) -> impl IntoView {
    let t = move |key| tr.text(key);
    let levels = Memo::new(move |_| v.with(|v| v.levels.clone()));
    // "Auto (720p)" while hls.js chooses and says what it plays.
    let auto = tr.derive(move || {
        let auto = tr.t(Key::QualityAuto);
        v.with(
            |v| match (v.quality, v.level_playing.and_then(|i| v.levels.get(i))) {
                (None, Some(playing)) => format!("{auto} ({playing})"),
                _ => auto,
            },
        )
    });
    view! {
        <span class="jlp-spinner jlp-buffering" aria-hidden="true"></span>
        <button class="jlp-unmute" part="button unmute" data-action="unmute" on:click=act.on(Action::Unmute)>
            <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
            {t(Key::TapToUnmute)}
        </button>
        <button class="jlp-leave" part="button leave-replay" data-action="leave-replay" on:click=act.on(Action::LeaveReplay)>
            {tr.derive(move || tr.t(if v.with(|v| v.live_now) { Key::LiveNow } else { Key::BackToWaiting }))}
        </button>
        <button class="jlp-bigplay" part="button big-play" data-action="play" aria-label=t(Key::Play) on:click=act.on(Action::Play)>
            <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
        </button>
        <div class="jlp-controls" part="controls" role="group" aria-label=t(Key::Controls)>
            <button part="button control" class="jlp-control jlp-when-paused" data-action="play" aria-label=t(Key::Play) on:click=act.on(Action::Play)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-playing" data-action="pause" aria-label=t(Key::Pause) on:click=act.on(Action::Pause)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M7 5h3.5v14H7zM13.5 5H17v14h-3.5z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-muted" data-action="unmute" aria-label=t(Key::Unmute) on:click=act.on(Action::Unmute)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
            </button>
            <button part="button control" class="jlp-control jlp-when-unmuted" data-action="mute" aria-label=t(Key::Mute) on:click=act.on(Action::Mute)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"></path></svg>
            </button>
            <input
                type="range"
                class="jlp-volume"
                part="volume"
                data-action="volume"
                min="0"
                max="100"
                step="5"
                aria-label=t(Key::Volume)
                prop:value=move || v.with(|v| v.volume).to_string()
                on:input=act.on_value(Action::Volume, parse_volume)
            />
            <span class="jlp-behind" part="behind-live" data-behind-live="">
                {tr.derive(move || v.with(|v| v.behind_s).map(|s| {
                    tr.fill(Key::BehindLive, &[("seconds", &intl::number(tr.tag(), u64::from(s)))])
                }).unwrap_or_default())}
            </span>
            <button class="jlp-golive" part="button go-live" data-action="go-live" on:click=act.on(Action::GoLive)>{t(Key::GoLive)}</button>
            <span class="jlp-spacer"></span>
            <select
                class="jlp-quality"
                part="quality"
                data-action="quality"
                aria-label=t(Key::Quality)
                hidden=move || levels.with(Vec::is_empty)
                on:change=act.on_value(Action::Quality, parse_quality)
            >
                <option value=QUALITY_AUTO prop:selected=move || v.with(|v| v.quality.is_none())>{auto}</option>
                {move || levels.get().into_iter().enumerate().map(|(i, label)| view! {
                    <option value=i.to_string() prop:selected=move || v.with(|v| v.quality == Some(i))>{label}</option>
                }).collect_view()}
            </select>
            <button
                part="button control pip"
                class="jlp-control"
                data-action="pip"
                aria-label=t(Key::Pip)
                aria-pressed=move || v.with(|v| if v.pip == Some(true) { "true" } else { "false" })
                hidden=move || v.with(|v| v.pip.is_none())
                on:click=act.on(Action::Pip)
            >
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M19 11h-8v6h8v-6zm4 8V5a2 2 0 0 0-2-2H3a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h18a2 2 0 0 0 2-2zm-2 0H3V5h18v14z"></path></svg>
            </button>
            <button part="button control" class="jlp-control" data-action="fullscreen" aria-label=t(Key::Fullscreen) on:click=act.on(Action::Fullscreen)>
                <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 4v-4h2v6h-6v-2z"></path></svg>
            </button>
        </div>
    }
}
