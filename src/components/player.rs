//! The player: a `<video>` with overlays for every state and a small
//! control bar. All logic lives in the driver and in `player_core`.

use crate::driver::{Driver, PlayerSignals};
use crate::interop::local_date;
use leptos::html::{Div, Video};
use leptos::prelude::*;
use player_core::config::PlayerConfig;
use player_core::format::{clock, viewers_label};
use player_core::machine::Phase;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;

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
    // One click handler for every control, keyed by `data-action`: fewer
    // handlers, smaller wasm.
    let on_click = move |event: web_sys::MouseEvent| {
        let target = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-action]").ok().flatten());
        let Some(target) = target else { return };
        let Some(action) = target.get_attribute("data-action") else {
            return;
        };
        if action == "fullscreen" {
            toggle_fullscreen(root_ref.get_untracked());
            return;
        }
        driver.with_value(|d| {
            let Some(Ok(mut d)) = d.as_ref().map(|d| d.try_borrow_mut()) else {
                return;
            };
            match action.as_str() {
                "retry" => d.retry_now(),
                "unmute" => d.set_muted(false),
                "mute" => d.set_muted(true),
                "play" | "pause" => d.toggle_play(),
                "go-live" => d.go_live(),
                "play-recording" => {
                    if let Some(uid) = target.get_attribute("data-uid") {
                        d.play_recording(&uid);
                    }
                }
                "leave-replay" => d.leave_replay(),
                "recordings-retry" => d.retry_recordings(),
                _ => {}
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
    // Which pieces show is decided by CSS (style/player.css) from the
    // state attribute and these classes: one reactive attribute instead of a
    // conditional view per piece keeps the wasm small.
    let class = move || {
        let mut c = String::from("jlp");
        for (on, name) in [
            (s.buffering.get(), " jlp-is-buffering"),
            (s.paused.get(), " jlp-is-paused"),
            (s.muted.get(), " jlp-is-muted"),
            (s.muted_fallback.get(), " jlp-is-muted-fallback"),
            (s.behind_live.get(), " jlp-is-behind-live"),
            (s.live_now.get(), " jlp-is-live-now"),
        ] {
            if on {
                c.push_str(name);
            }
        }
        c
    };

    view! {
        <div class=class part="player" node_ref=root_ref data-player-state=move || phase().as_str() on:click=on_click>
            <div class="jlp-stage" part="stage">
                <video
                    node_ref=video_ref
                    class="jlp-video"
                    part="video"
                    playsinline=true
                    prop:controls=move || phase() == Phase::Replay
                    aria-label="Live stream video"
                ></video>
                <div class="jlp-overlay" part="overlay">
                    <img
                        class="jlp-poster"
                        alt=""
                        src=move || s.thumbnail.get()
                        hidden=move || s.thumbnail.get().is_none() || s.thumbnail.get() == thumb_failed.get()
                        on:error=move |_| set_thumb_failed.set(s.thumbnail.get_untracked())
                    />
                    <div class="jlp-card" part="card">
                        <span class="jlp-spinner" aria-hidden="true"></span>
                        <p class="jlp-title" part="title">{move || headline(phase())}</p>
                        <p class="jlp-message" part="message" data-message="">
                            {move || s.message.get().unwrap_or_default()}
                        </p>
                        <p class="jlp-meta">{meta}</p>
                        <button class="jlp-button" part="button retry" data-action="retry">"Try again"</button>
                    </div>
                </div>
                <div class="jlp-top">
                    <span class="jlp-badge" part="live-badge">"Live"</span>
                    <span class="jlp-viewers" part="viewers" data-viewers="" hidden=move || s.viewers.get().is_none()>
                        {move || s.viewers.get().map(viewers_label)}
                    </span>
                </div>
                <span class="jlp-spinner jlp-buffering" aria-hidden="true"></span>
                <button class="jlp-unmute" part="button unmute" data-action="unmute">
                    <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
                    "Tap to unmute"
                </button>
                <button class="jlp-leave" part="button leave-replay" data-action="leave-replay">
                    {move || if s.live_now.get() { "Live now" } else { "Back to waiting" }}
                </button>
                <button class="jlp-bigplay" part="button big-play" data-action="play" aria-label="Play">
                    <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
                </button>
                // Paired buttons (play/pause, mute/unmute): CSS shows the one
                // that applies, so each keeps a fixed accessible name.
                <div class="jlp-controls" part="controls" role="group" aria-label="Player controls">
                    <button part="button control" class="jlp-control jlp-when-paused" data-action="play" aria-label="Play">
                        <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.6-6.86a1 1 0 0 0 0-1.7L9.52 4.3A1 1 0 0 0 8 5.14z"></path></svg>
                    </button>
                    <button part="button control" class="jlp-control jlp-when-playing" data-action="pause" aria-label="Pause">
                        <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M7 5h3.5v14H7zM13.5 5H17v14h-3.5z"></path></svg>
                    </button>
                    <button part="button control" class="jlp-control jlp-when-muted" data-action="unmute" aria-label="Unmute">
                        <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
                    </button>
                    <button part="button control" class="jlp-control jlp-when-unmuted" data-action="mute" aria-label="Mute">
                        <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"></path></svg>
                    </button>
                    <button class="jlp-golive" part="button go-live" data-action="go-live">"Go to live"</button>
                    <span class="jlp-spacer"></span>
                    <button part="button control" class="jlp-control" data-action="fullscreen" aria-label="Full screen">
                        <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 4v-4h2v6h-6v-2z"></path></svg>
                    </button>
                </div>
            </div>
            <section
                class="jlp-recordings"
                part="recordings"
                aria-label="Recordings"
                hidden=move || {
                    s.recordings.with(Vec::is_empty) && !s.processing.get() && !s.recordings_failed.get()
                }
            >
                <h2 class="jlp-recordings-title">"Recordings"</h2>
                <p class="jlp-note" hidden=move || !s.processing.get()>
                    "The recording will be available shortly."
                </p>
                <p class="jlp-note" hidden=move || !s.recordings_failed.get()>
                    "Recordings can't be loaded right now. "
                    <button class="jlp-link" data-action="recordings-retry">"Try again"</button>
                </p>
                <ul class="jlp-recording-list">
                    {move || {
                        let current = s.replaying.get();
                        s.recordings
                            .get()
                            .into_iter()
                            .map(|r| {
                                let selected = current.as_deref() == Some(r.uid.as_str());
                                view! {
                                    <li>
                                        <button
                                            class="jlp-recording"
                                            part="recording"
                                            data-action="play-recording"
                                            data-uid=r.uid
                                            aria-current=selected.then_some("true")
                                        >
                                            <span class="jlp-recording-thumb">
                                                <img src=r.thumbnail alt="" loading="lazy"/>
                                                <span class="jlp-recording-duration">
                                                    {clock(r.duration_seconds.max(0.0) as u64)}
                                                </span>
                                            </span>
                                            <span class="jlp-recording-name">{r.name}</span>
                                            <span class="jlp-recording-date">{local_date(&r.created)}</span>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
            <p class="jlp-sr" role="status" aria-live="polite">
                {move || match (phase(), s.message.get()) {
                    (Phase::Error, Some(m)) => m,
                    (p, _) => headline(p).to_string(),
                }}
            </p>
        </div>
    }
}

fn toggle_fullscreen(root: Option<web_sys::HtmlDivElement>) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    } else if let Some(root) = root {
        let _ = root.request_fullscreen();
    }
}

/// What a host sees when its configuration is unusable: the reason and what
/// to pass, in the same frame as the player.
#[component]
pub fn ConfigProblem(
    message: String,
    /// How this host passes options, e.g. `?input=<live input id>`.
    example: &'static str,
) -> impl IntoView {
    view! {
        <div class="jlp jlp-config-problem" part="player" data-player-state="error">
            <div class="jlp-stage" part="stage">
                <div class="jlp-overlay">
                    <div class="jlp-card">
                        <p class="jlp-title">"This player needs a stream to show"</p>
                        <p class="jlp-message" data-message="">{message.clone()}</p>
                        <p class="jlp-meta">
                            "Example: " <code>{example}</code>
                        </p>
                    </div>
                </div>
            </div>
            <p class="jlp-sr" role="status" aria-live="polite">{message}</p>
        </div>
    }
}
