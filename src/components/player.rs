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
use player_core::config::{ConfigError, PlayerConfig};
use player_core::i18n::{Catalogue, Key};
use player_core::machine::{Action, Phase};
use player_core::player::View;
use player_core::text::{self, headline};
use send_wrapper::SendWrapper;

/// The viewer's words: a `Copy` handle on the catalogue in use (English
/// until the viewer's own arrives), read reactively by every label.
#[derive(Clone, Copy)]
pub struct Tr(pub RwSignal<Catalogue>);

impl Tr {
    pub fn t(self, key: Key) -> String {
        self.0.with(|c| c.get(key).to_string())
    }

    /// `key`'s words as a signal. Every text and label of the view is a
    /// `Signal<String>`: one type, so Leptos's rendering code is in the
    /// wasm once instead of once per closure (that saved ~15 KB gzip).
    pub fn text(self, key: Key) -> Signal<String> {
        self.derive(move || self.t(key))
    }

    /// Any text of the view, as the one signal type (see [`Tr::text`]).
    pub fn derive(self, f: impl Fn() -> String + Send + Sync + 'static) -> Signal<String> {
        Signal::derive(f)
    }

    pub fn fill(self, key: Key, args: &[(&str, &str)]) -> String {
        self.0.with(|c| c.fill(key, args))
    }

    /// The language's tag, for `lang` and `Intl`.
    pub fn tag(self) -> &'static str {
        self.0.with(|c| c.lang().tag())
    }

    pub fn dir(self) -> &'static str {
        if self.0.with(|c| c.lang().rtl()) {
            "rtl"
        } else {
            "ltr"
        }
    }
}

/// Sends the viewer's actions to the driver: a `Copy` handle for buttons.
#[derive(Clone, Copy)]
pub struct Act(StoredValue<Option<SendWrapper<Mailbox>>>);

impl Act {
    /// A click handler that asks for `action`. One closure type for every
    /// button: one copy of the handler code in the wasm.
    pub fn on(self, action: Action) -> impl Fn(web_sys::MouseEvent) + 'static {
        move |_| self.send(action.clone())
    }

    /// An input or change handler: the control's value, read by `parse`,
    /// becomes the action `make` builds (nothing when it doesn't read).
    pub fn on_value<T: 'static>(
        self,
        make: fn(T) -> Action,
        parse: fn(&str) -> Option<T>,
    ) -> impl Fn(web_sys::Event) + 'static {
        move |e| {
            if let Some(value) = parse(&event_target_value(&e)) {
                self.send(make(value))
            }
        }
    }

    fn send(self, action: Action) {
        self.0.try_with_value(|m| {
            if let Some(m) = m {
                m.act(action)
            }
        });
    }
}

#[component]
pub fn Player(
    config: PlayerConfig,
    /// Where hls.js is fetched from when the browser lacks native HLS.
    #[prop(into)]
    hls_src: String,
    tr: Tr,
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
        <div class=class part="player" data-player-state=move || phase().as_str() lang=tr.derive(move || tr.tag().into()) dir=tr.derive(move || tr.dir().into())>
            <div class="jlp-stage" part="stage">
                <video
                    node_ref=video_ref
                    class="jlp-video"
                    part="video"
                    playsinline=true
                    aria-label=tr.text(Key::VideoLabel)
                ></video>
                <Overlay v=v now=now act=act tr=tr/>
                <Controls v=v act=act tr=tr/>
            </div>
            <Recordings v=v act=act tr=tr/>
            <p class="jlp-sr" role="status" aria-live="polite">
                {tr.derive(move || tr.t(match v.with(|v| (v.phase, v.notice)) {
                    (Phase::Error, Some(n)) => text::notice(n),
                    (p, _) => headline(p),
                }))}
            </p>
        </div>
    }
}
/// What a host sees when its configuration is unusable: the reason and what
/// to pass, in the same frame as the player.
#[component]
pub fn ConfigProblem(
    error: ConfigError,
    /// How this host passes options, e.g. `?input=<live input id>`.
    example: &'static str,
    tr: Tr,
) -> impl IntoView {
    let key = text::config_error(&error);
    view! {
        <div class="jlp jlp-config-problem" part="player" data-player-state="error" lang=tr.derive(move || tr.tag().into()) dir=tr.derive(move || tr.dir().into())>
            <div class="jlp-stage" part="stage">
                <div class="jlp-overlay" part="overlay">
                    <div class="jlp-card" part="card">
                        <p class="jlp-title" part="title">{tr.text(Key::ConfigTitle)}</p>
                        <p class="jlp-message" part="message" data-message="">{tr.text(key)}</p>
                        <p class="jlp-meta">
                            {tr.text(Key::ConfigExample)} " " <code>{example}</code>
                        </p>
                    </div>
                </div>
            </div>
            <p class="jlp-sr" role="status" aria-live="polite">{tr.text(key)}</p>
        </div>
    }
}
