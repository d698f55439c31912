//! Viewing figures: feeds `player_core::qoe::Session` with the `<video>`
//! element's events, the page's visibility and the player's own facts
//! ([`Qoe::on`]), and sends what the session hands back: with `fetch` +
//! `keepalive` on its timer, with `navigator.sendBeacon` when the page is
//! hidden or goes away. Both send a `text/plain` string, so no preflight.
//! What counts and when to send is the session's; nothing is decided here.
//! Dropping it removes its listeners and its timer and sends what remains
//! (the host took the player away: the view is over).

use super::now_ms;
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use player_core::qoe::{Batch, Browser, Ev, Session, Trigger};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, RequestCredentials, RequestInit};

/// The fact a media element event stands for, read off the element.
type Fact = fn(&HtmlVideoElement) -> Option<Ev>;

pub struct Qoe {
    inner: Rc<RefCell<Inner>>,
    _listeners: Vec<EventListener>,
}

struct Inner {
    session: Session,
    endpoint: String,
    video: HtmlVideoElement,
    timer: Option<Timeout>,
    this: Weak<RefCell<Inner>>,
}

/// A random page id: 16 bytes from `crypto.getRandomValues`, in hex.
fn page_id() -> String {
    let mut bytes = [0u8; 16];
    let drawn = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !drawn {
        // No Web Crypto (very old browsers): still random, only weaker.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        s
    })
}

/// How far behind the live edge playback is, in ms: the seekable range's
/// end is the edge for native HLS and for hls.js (liveDurationInfinity).
fn latency_ms(video: &HtmlVideoElement) -> Option<u32> {
    let ranges = video.seekable();
    let n = ranges.length();
    let edge = ranges.end(n.checked_sub(1)?).ok()?;
    let behind = edge - video.current_time();
    (behind.is_finite() && behind >= 0.0).then_some((behind * 1_000.0) as u32)
}

impl Inner {
    fn on(&mut self, ev: Ev) {
        let first_frame = ev == Ev::FirstFrame;
        self.session.on(ev, now_ms());
        // A first frame shown while autoplay was refused is not watching
        // yet (whether the element or the player reported it).
        if first_frame && self.video.paused() {
            self.session.on(Ev::Paused, now_ms());
        }
        self.send(Trigger::Tick);
    }

    /// Sends what the session hands out for `trigger`: a tick with `fetch`
    /// (the page stays), the rest with `sendBeacon` (it may be going).
    /// Then sets the timer for the next tick.
    fn send(&mut self, trigger: Trigger) {
        let now = now_ms();
        if trigger != Trigger::Tick {
            if let Some(ms) = latency_ms(&self.video) {
                self.session.on(Ev::Latency(ms), now);
            }
        }
        if let Some(batch) = self.session.flush(trigger, now) {
            if trigger == Trigger::Tick || !beacon(&self.endpoint, &batch) {
                post(&self.endpoint, &batch);
            }
        }
        let this = self.this.clone();
        let ms = self.session.next_tick_in(now).min(u64::from(u32::MAX)) as u32;
        self.timer = Some(Timeout::new(ms, move || {
            if let Some(inner) = this.upgrade() {
                if let Ok(mut inner) = inner.try_borrow_mut() {
                    if let Some(ms) = latency_ms(&inner.video) {
                        inner.session.on(Ev::Latency(ms), now_ms());
                    }
                    inner.send(Trigger::Tick);
                }
            }
        }));
    }
}

fn post(endpoint: &str, batch: &Batch) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&batch.to_json()));
    // Outlives the page if it goes meanwhile (web-sys has no setter).
    let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    // Nothing that identifies the viewer: no cookies, no referring page.
    init.set_credentials(RequestCredentials::Omit);
    init.set_referrer("");
    let sent = window.fetch_with_str_and_init(endpoint, &init);
    // Awaited only so a refusal is not an unhandled rejection.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(sent).await;
    });
}

/// Whether the browser took the beacon.
fn beacon(endpoint: &str, batch: &Batch) -> bool {
    web_sys::window()
        .and_then(|w| {
            w.navigator()
                .send_beacon_with_opt_str(endpoint, Some(&batch.to_json()))
                .ok()
        })
        .unwrap_or(false)
}

impl Qoe {
    /// Starts counting this page's viewing on `video`, sending to `endpoint`.
    /// `opened`: when the page opened, where playback began before the
    /// player (the watch page's loader), in `now_ms` time.
    pub fn new(video: &HtmlVideoElement, endpoint: String, opened: Option<u64>) -> Qoe {
        let window = web_sys::window();
        let browser = window
            .as_ref()
            .and_then(|w| w.navigator().user_agent().ok())
            .map_or(Browser::Other, |ua| Browser::from_user_agent(&ua));
        let now = now_ms();
        let mut session = Session::new(page_id(), browser, now);
        if let Some(ms) = opened {
            session.opened_at(ms);
        }
        let document = window.as_ref().and_then(|w| w.document());
        if document.as_ref().is_some_and(|d| d.hidden()) {
            session.on(Ev::Visible(false), now);
        }
        let inner = Rc::new_cyclic(|this| {
            RefCell::new(Inner {
                session,
                endpoint,
                video: video.clone(),
                timer: None,
                this: this.clone(),
            })
        });
        let mut listeners = Vec::new();
        let media: [(&'static str, Fact); 6] = [
            ("playing", |_| Some(Ev::Playing)),
            ("waiting", |_| Some(Ev::Stalled)),
            ("pause", |_| Some(Ev::Paused)),
            ("seeking", |_| Some(Ev::Seeking)),
            // The rendition shown, by its height: Cloudflare's renditions
            // differ in size, and the element's size is what is on screen
            // (hls.js's LEVEL_SWITCHED fires when a level is buffered).
            ("resize", |v| {
                Some(v.video_height()).filter(|h| *h > 0).map(Ev::Quality)
            }),
            ("loadeddata", |_| Some(Ev::FirstFrame)),
        ];
        for (name, fact) in media {
            let (weak, v) = (Rc::downgrade(&inner), video.clone());
            listeners.push(EventListener::new(video, name, move |_| {
                let (Some(inner), Some(ev)) = (weak.upgrade(), fact(&v)) else {
                    return;
                };
                let Ok(mut inner) = inner.try_borrow_mut() else {
                    return;
                };
                inner.on(ev);
            }));
        }
        if let Some(document) = document {
            let weak = Rc::downgrade(&inner);
            let d = document.clone();
            listeners.push(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    let Some(inner) = weak.upgrade() else { return };
                    let Ok(mut inner) = inner.try_borrow_mut() else {
                        return;
                    };
                    let visible = !d.hidden();
                    inner.session.on(Ev::Visible(visible), now_ms());
                    inner.send(if visible {
                        Trigger::Tick
                    } else {
                        Trigger::Hidden
                    });
                },
            ));
        }
        if let Some(window) = window {
            let weak = Rc::downgrade(&inner);
            listeners.push(EventListener::new(&window, "pagehide", move |_| {
                if let Some(Ok(mut inner)) = weak.upgrade().as_ref().map(|i| i.try_borrow_mut()) {
                    inner.send(Trigger::PageHide);
                }
            }));
        }
        Qoe {
            inner,
            _listeners: listeners,
        }
    }

    /// A fact only the player knows (a source, a failure, ...).
    pub fn on(&self, ev: Ev) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            let source = matches!(ev, Ev::Source { .. });
            inner.on(ev);
            // The rendition shown before we listened, when the player took
            // over what the page's loader started (a new source's element
            // has no size yet).
            let height = inner.video.video_height();
            if source && height > 0 {
                inner.on(Ev::Quality(height));
            }
        }
    }
}

impl Drop for Qoe {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.send(Trigger::PageHide);
            inner.timer = None;
        }
    }
}
