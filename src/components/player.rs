//! The player: a `<video>` with its overlay, controls and recordings list.
//! All logic lives in `player_core`; the driver runs it, and these views
//! read its one snapshot ([`View`]) and send the viewer's [`Action`]s.

use super::controls::Controls;
use super::overlay::Overlay;
use super::recordings::Recordings;
use crate::driver::{self, Mailbox};
use crate::interop::now_ms;
use leptos::html::Video;
use leptos::prelude::*;
use player_core::config::PlayerConfig;
use player_core::machine::{Action, Phase};
use player_core::player::View;
use player_core::text::{self, headline};
use send_wrapper::SendWrapper;

/// Sends the viewer's actions to the driver: a `Copy` handle for buttons.
#[derive(Clone, Copy)]
pub struct Act(StoredValue<Option<SendWrapper<Mailbox>>>);

impl Act {
    /// A click handler that asks for `action`. One closure type for every
    /// button: one copy of the handler code in the wasm.
    pub fn on(self, action: Action) -> impl Fn(web_sys::MouseEvent) + 'static {
        move |_| {
            self.0.try_with_value(|m| {
                if let Some(m) = m {
                    m.act(action.clone())
                }
            });
        }
    }
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
    let mailbox = StoredValue::new(None);
    let act = Act(mailbox);

    video_ref.on_load(move |video| {
        let m = driver::start(config, video, v, now, hls_src);
        mailbox.set_value(Some(SendWrapper::new(m)));
    });
    // Unmounting drops the mailbox, which stops the driver: timers,
    // requests, listeners, hls.js.
    on_cleanup(move || {
        mailbox.try_update_value(|m| m.take());
    });

    let phase = move || v.with(|v| v.phase);
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

    view! {
        <div class=class part="player" data-player-state=move || phase().as_str()>
            <div class="jlp-stage" part="stage">
                <video
                    node_ref=video_ref
                    class="jlp-video"
                    part="video"
                    playsinline=true
                    aria-label="Live stream video"
                ></video>
                <Overlay v=v now=now act=act/>
                <Controls v=v act=act/>
            </div>
            <Recordings v=v act=act/>
            <p class="jlp-sr" role="status" aria-live="polite">
                {move || match v.with(|v| (v.phase, v.notice)) {
                    (Phase::Error, Some(n)) => text::notice(n),
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
