//! The player: a `<video>` with overlays for every state and a small
//! control bar. All logic lives in the driver and in `player_core`.

use super::icons;
use crate::driver::{Driver, PlayerSignals};
use leptos::html::{Div, Video};
use leptos::prelude::*;
use player_core::config::PlayerConfig;
use player_core::format::{clock, viewers_label};
use player_core::machine::Phase;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;

type Shared = SendWrapper<Rc<RefCell<Driver>>>;

/// The headline for each state (also what screen readers hear).
fn headline(phase: Phase) -> &'static str {
    match phase {
        Phase::Loading => "Loading the stream…",
        Phase::Waiting => "The stream will start soon",
        Phase::Starting => "The broadcast is starting…",
        Phase::Live => "Live now",
        Phase::Ended => "The stream has ended",
        Phase::Replay => "Playing the recording",
        Phase::Error => "The stream can't be shown right now",
    }
}

#[component]
pub fn Player(
    config: PlayerConfig,
    /// Where hls.js is fetched from when the browser lacks native HLS.
    #[prop(into)]
    hls_src: String,
) -> impl IntoView {
    let s = PlayerSignals::new();
    let video_ref = NodeRef::<Video>::new();
    let root_ref = NodeRef::<Div>::new();
    let driver: StoredValue<Option<Shared>> = StoredValue::new(None);
    let (thumb_failed, set_thumb_failed) = signal(None::<String>);

    video_ref.on_load(move |video| {
        let d = Driver::start(config, video, s, hls_src);
        driver.set_value(Some(SendWrapper::new(d)));
    });
    // Unmounting drops the driver: timers, requests, listeners, hls.js.
    on_cleanup(move || {
        driver.try_update_value(|d| d.take());
    });
    let act = move |f: fn(&mut Driver)| {
        driver.with_value(|d| {
            if let Some(Ok(mut d)) = d.as_ref().map(|d| d.try_borrow_mut()) {
                f(&mut d);
            }
        })
    };

    let phase = move || s.phase.get();
    let meta = move || {
        let now = s.now_ms.get();
        match (phase(), s.retry_at_ms.get()) {
            (Phase::Error | Phase::Starting, Some(at)) if at > now => {
                Some(format!("Trying again in {} s", (at - now).div_ceil(1000)))
            }
            (Phase::Waiting, _) => Some(format!(
                "Waiting for {}",
                clock(now.saturating_sub(s.since_ms.get()) / 1000)
            )),
            (Phase::Ended, _) => Some("The next broadcast will start here.".to_string()),
            _ => None,
        }
    };
    let fullscreen = move |_| {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if document.fullscreen_element().is_some() {
            document.exit_fullscreen();
        } else if let Some(root) = root_ref.get_untracked() {
            let _ = root.request_fullscreen();
        }
    };

    // Which pieces show is decided by CSS from the root's data attributes
    // (style/player.css): one reactive attribute each instead of a
    // conditional view per piece keeps the wasm small.
    let flag = |on: bool| on.then_some("");
    view! {
        <div
            class="jlp"
            node_ref=root_ref
            data-player-state=move || phase().as_str()
            data-buffering=move || flag(s.buffering.get())
            data-paused=move || flag(s.paused.get())
            data-muted=move || flag(s.muted.get())
            data-muted-fallback=move || flag(s.muted_fallback.get())
            data-behind-live=move || flag(s.behind_live.get())
        >
            <div class="jlp-stage">
                <video
                    node_ref=video_ref
                    class="jlp-video"
                    playsinline=true
                    prop:controls=move || phase() == Phase::Replay
                    aria-label="Live stream video"
                ></video>
                <div class="jlp-overlay">
                    <img
                        class="jlp-poster"
                        alt=""
                        src=move || s.thumbnail.get()
                        hidden=move || s.thumbnail.get().is_none() || s.thumbnail.get() == thumb_failed.get()
                        on:error=move |_| set_thumb_failed.set(s.thumbnail.get_untracked())
                    />
                    <div class="jlp-card">
                        <span class="jlp-spinner" aria-hidden="true"></span>
                        <p class="jlp-title">{move || headline(phase())}</p>
                        <p class="jlp-message" data-message="">
                            {move || s.message.get().unwrap_or_default()}
                        </p>
                        <p class="jlp-meta">{meta}</p>
                        <button class="jlp-button" data-action="retry" on:click=move |_| act(Driver::retry_now)>
                            "Try again"
                        </button>
                    </div>
                </div>
                <div class="jlp-top">
                    <span class="jlp-badge">"Live"</span>
                    <span class="jlp-viewers" data-viewers="" hidden=move || s.viewers.get().is_none()>
                        {move || s.viewers.get().map(viewers_label)}
                    </span>
                </div>
                <span class="jlp-spinner jlp-buffering" aria-hidden="true"></span>
                <button class="jlp-unmute" data-action="unmute" on:click=move |_| act(|d| d.set_muted(false))>
                    {icons::muted()}
                    "Tap to unmute"
                </button>
                <button class="jlp-bigplay" data-action="play" aria-label="Play" on:click=move |_| act(Driver::toggle_play)>
                    {icons::play()}
                </button>
                <div class="jlp-controls" role="group" aria-label="Player controls">
                    <button
                        class="jlp-control"
                        data-action="toggle-play"
                        aria-label=move || if s.paused.get() { "Play" } else { "Pause" }
                        on:click=move |_| act(Driver::toggle_play)
                    >
                        <span class="jlp-when-paused">{icons::play()}</span>
                        <span class="jlp-when-playing">{icons::pause()}</span>
                    </button>
                    <button
                        class="jlp-control"
                        data-action="toggle-mute"
                        aria-label=move || if s.muted.get() { "Unmute" } else { "Mute" }
                        on:click=move |_| act(Driver::toggle_mute)
                    >
                        <span class="jlp-when-muted">{icons::muted()}</span>
                        <span class="jlp-when-unmuted">{icons::volume()}</span>
                    </button>
                    <button class="jlp-golive" data-action="go-live" on:click=move |_| act(Driver::go_live)>
                        "Go to live"
                    </button>
                    <span class="jlp-spacer"></span>
                    <button class="jlp-control" data-action="fullscreen" aria-label="Full screen" on:click=fullscreen>
                        {icons::fullscreen()}
                    </button>
                </div>
            </div>
            <p class="jlp-sr" role="status" aria-live="polite">
                {move || match (phase(), s.message.get()) {
                    (Phase::Error, Some(m)) => m,
                    (p, _) => headline(p).to_string(),
                }}
            </p>
        </div>
    }
}

/// What a host sees when its configuration is unusable: the reason and what
/// to pass, in the same frame as the player.
#[component]
pub fn ConfigProblem(message: String) -> impl IntoView {
    view! {
        <div class="jlp" data-player-state="error">
            <div class="jlp-stage">
                <div class="jlp-overlay">
                    <div class="jlp-card">
                        <p class="jlp-title">"This player needs a stream to show"</p>
                        <p class="jlp-message" data-message="">{message.clone()}</p>
                        <p class="jlp-meta">
                            "Example: " <code>"?input=<live input id>&customer=<customer code>"</code>
                        </p>
                    </div>
                </div>
            </div>
            <p class="jlp-sr" role="status" aria-live="polite">{message}</p>
        </div>
    }
}
