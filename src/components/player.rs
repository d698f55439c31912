//! The player: a `<video>` with overlays for every state and a small
//! control bar. All logic lives in `player_core`; the driver runs it.

use crate::driver::{self, Mailbox};
use crate::interop::{local_date, now_ms};
use leptos::html::Video;
use leptos::prelude::*;
use player_core::config::PlayerConfig;
use player_core::format::clock;
use player_core::machine::{Action, Phase};
use player_core::player::View;
use player_core::text::{self, headline};
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

/// The action a `data-action` button asks for.
fn action(name: &str, uid: Option<String>) -> Option<Action> {
    Some(match name {
        "retry" => Action::Retry,
        "unmute" => Action::Unmute,
        "mute" => Action::Mute,
        "play" => Action::Play,
        "pause" => Action::Pause,
        "go-live" => Action::GoLive,
        "fullscreen" => Action::Fullscreen,
        "play-recording" => Action::PlayRecording(uid?),
        "leave-replay" => Action::LeaveReplay,
        "recordings-retry" => Action::RetryRecordings,
        _ => return None,
    })
}

#[component]
pub fn Player(
    config: PlayerConfig,
    /// Where hls.js is fetched from when the browser lacks native HLS.
    #[prop(into)]
    hls_src: String,
) -> impl IntoView {
    let v = RwSignal::new(View::default());
    let now = RwSignal::new(now_ms());
    let video_ref = NodeRef::<Video>::new();
    let mailbox: StoredValue<Option<SendWrapper<Mailbox>>> = StoredValue::new(None);
    let (thumb_failed, set_thumb_failed) = signal(None::<String>);

    video_ref.on_load(move |video| {
        let m = driver::start(config, video, v, now, hls_src);
        mailbox.set_value(Some(SendWrapper::new(m)));
    });
    // Unmounting drops the mailbox, which stops the driver: timers,
    // requests, listeners, hls.js.
    on_cleanup(move || {
        mailbox.try_update_value(|m| m.take());
    });
    // One click handler for every control, keyed by `data-action`: fewer
    // handlers, smaller wasm.
    let on_click = move |event: web_sys::MouseEvent| {
        let target = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-action]").ok().flatten());
        let Some(target) = target else { return };
        let name = target.get_attribute("data-action").unwrap_or_default();
        if let Some(a) = action(&name, target.get_attribute("data-uid")) {
            mailbox.with_value(|m| {
                if let Some(m) = m {
                    m.act(a)
                }
            });
        }
    };

    // One snapshot. Text and attributes are compared before the DOM is
    // touched, so plain closures do; the list, which would be rebuilt, is a
    // memo.
    let phase = move || v.with(|v| v.phase);
    let message = move || v.with(|v| v.notice).map(text::notice);
    let viewers = move || v.with(|v| v.viewers);
    let thumbnail = move || v.with(|v| v.thumbnail.clone());
    let list = Memo::new(move |_| v.with(|v| (v.recordings.clone(), v.replaying.clone())));
    let meta = move || {
        let now = now.get();
        let (retry_at, since) = v.with(|v| (v.retry_at_ms, v.since_ms));
        match (phase(), retry_at) {
            (Phase::Error | Phase::Starting, Some(at)) if at > now => {
                Some(text::retry_in((at - now).div_ceil(1000)))
            }
            (Phase::Waiting, _) => Some(text::waiting_for(now.saturating_sub(since) / 1000)),
            (Phase::Ended, _) => Some(text::NEXT_BROADCAST.to_string()),
            _ => None,
        }
    };
    // Which pieces show is decided by CSS (style/player.css) from the
    // state attribute and these classes: one reactive attribute instead of a
    // conditional view per piece keeps the wasm small.
    let class = move || {
        let mut c = String::from("jlp");
        v.with(|v| {
            for (on, name) in [
                (v.buffering, " jlp-is-buffering"),
                (v.paused, " jlp-is-paused"),
                (v.muted, " jlp-is-muted"),
                (v.muted_fallback, " jlp-is-muted-fallback"),
                (v.behind_live, " jlp-is-behind-live"),
                (v.live_now, " jlp-is-live-now"),
            ] {
                if on {
                    c.push_str(name);
                }
            }
        });
        c
    };
    let processing = move || v.with(|v| v.processing);
    let recordings_failed = move || v.with(|v| v.recordings_failed);
    let live_now = move || v.with(|v| v.live_now);

    view! {
        <div class=class part="player" data-player-state=move || phase().as_str() on:click=on_click>
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
                        src=thumbnail
                        hidden=move || {
                            let t = thumbnail();
                            t.is_none() || t == thumb_failed.get()
                        }
                        on:error=move |_| set_thumb_failed.set(v.with_untracked(|v| v.thumbnail.clone()))
                    />
                    <div class="jlp-card" part="card">
                        <span class="jlp-spinner" aria-hidden="true"></span>
                        <p class="jlp-title" part="title">{move || headline(phase())}</p>
                        <p class="jlp-message" part="message" data-message="">
                            {move || message().unwrap_or_default()}
                        </p>
                        <p class="jlp-meta">{meta}</p>
                        <button class="jlp-button" part="button retry" data-action="retry">"Try again"</button>
                    </div>
                </div>
                <div class="jlp-top">
                    <span class="jlp-badge" part="live-badge">"Live"</span>
                    <span class="jlp-viewers" part="viewers" data-viewers="" hidden=move || viewers().is_none()>
                        {move || viewers().map(text::viewers)}
                    </span>
                </div>
                <span class="jlp-spinner jlp-buffering" aria-hidden="true"></span>
                <button class="jlp-unmute" part="button unmute" data-action="unmute">
                    <svg class="jlp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 9v6h4l5 4V5L8 9H4zm15.6 3 2.2-2.2-1.4-1.4-2.2 2.2-2.2-2.2-1.4 1.4 2.2 2.2-2.2 2.2 1.4 1.4 2.2-2.2 2.2 2.2 1.4-1.4z"></path></svg>
                    "Tap to unmute"
                </button>
                <button class="jlp-leave" part="button leave-replay" data-action="leave-replay">
                    {move || if live_now() { text::LIVE_NOW } else { text::BACK_TO_WAITING }}
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
                    v.with(|v| v.recordings.is_empty() && !v.processing && !v.recordings_failed)
                }
            >
                <h2 class="jlp-recordings-title">"Recordings"</h2>
                <p class="jlp-note" hidden=move || !processing()>
                    "The recording will be available shortly."
                </p>
                <p class="jlp-note" hidden=move || !recordings_failed()>
                    "Recordings can't be loaded right now. "
                    <button class="jlp-link" data-action="recordings-retry">"Try again"</button>
                </p>
                <ul class="jlp-recording-list">
                    {move || {
                        let (recordings, current) = list.get();
                        recordings
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
                {move || match (phase(), message()) {
                    (Phase::Error, Some(m)) => m,
                    (p, _) => headline(p),
                }}
            </p>
        </div>
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
