//! The playback slot: the `<video>` and what plays on it (the browser's HLS
//! or hls.js, fetched when first needed), plus the element's own events. It
//! carries out the player's playback commands and reports back through its
//! outbox; whatever an old playback reports late is dropped here.

use super::hls::{self, HlsInstance};
use super::playback::{Engine, MediaSignal, Playback};
use super::{mse_available, native_hls, vendor};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use player_core::machine::{Event, PlaybackIssue};
use player_core::player::{Caps, Family};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlVideoElement;

/// What the slot reports, to be handed back to [`Slot::accept`].
pub enum Note {
    /// Ready for the player as it is.
    Event(Event),
    /// From the playback of this generation.
    Media(u64, MediaSignal),
    /// hls.js arrived (its class) or failed to.
    Hlsjs(Result<JsValue, JsValue>),
    /// The outcome of `play()` on this generation: the error's name.
    Played(u64, Result<(), String>),
}

pub type Outbox = Rc<dyn Fn(Note)>;

pub struct Slot {
    video: HtmlVideoElement,
    hls_src: String,
    autoplay: bool,
    native: bool,
    hlsjs: Option<JsValue>,
    fetching: bool,
    /// The load waiting for hls.js to arrive.
    pending: Option<(String, bool)>,
    /// Bumped whenever playback is replaced, so that late reports of an
    /// old playback are ignored.
    generation: u64,
    playback: Option<Playback>,
    out: Outbox,
    prefetch: Option<Timeout>,
    /// The manifest the loader started on the `<video>` (with the hls.js
    /// instance, on that path), until the first load takes it over (same
    /// URL, same engine) or replaces it.
    adopted: Option<(String, Option<HlsInstance>)>,
    /// Where delivery URLs start (`<base>/`), and, for a private broadcast,
    /// `{prefix, token}`: hls.js's loader reads the current token from it
    /// on every request (`hls_loader.js`).
    prefix: String,
    signed: Option<js_sys::Object>,
    token: String,
    /// Once a private broadcast's token is in use: the same for the
    /// current playback of anything else under `prefix` (a recording, by
    /// its own token or uid), which the player refreshes on its own
    /// ([`Slot::set_video_token`]).
    other_signed: Option<js_sys::Object>,
    _listeners: Vec<EventListener>,
}

fn set_field(o: &js_sys::Object, key: &str, value: &str) {
    let _ = js_sys::Reflect::set(o, &key.into(), &value.into());
}

/// `{prefix, token}`, which hls.js's loader reads on every request.
fn signed_object(prefix: &str, token: &str) -> js_sys::Object {
    let o = js_sys::Object::new();
    set_field(&o, "prefix", prefix);
    set_field(&o, "token", token);
    o
}

/// Stops a `<video>`'s loading: no connection or decoder stays alive.
fn stop(video: &HtmlVideoElement) {
    video.remove_attribute("src").ok();
    video.load();
}

impl Slot {
    pub fn new(
        video: HtmlVideoElement,
        hls_src: String,
        prefix: String,
        autoplay: bool,
        out: Outbox,
    ) -> Self {
        // The loader's <video>, already loading, takes the view's place (and
        // its attributes) before anything listens to it.
        let (video, adopted) = match super::start::take_video() {
            Some(started) => {
                let loaded = started.video;
                let names = video.get_attribute_names();
                for name in names.iter().filter_map(|n| n.as_string()) {
                    if let Some(value) = video.get_attribute(&name) {
                        let _ = loaded.set_attribute(&name, &value);
                    }
                }
                match super::start::put_in_place(&video, &loaded) {
                    Ok(()) => (loaded, Some((started.src, started.hls))),
                    Err(_) => {
                        drop(started.hls);
                        stop(&loaded);
                        (video, None)
                    }
                }
            }
            None => (video, None),
        };
        let mut listeners = Vec::new();
        {
            let (v, out) = (video.clone(), out.clone());
            listeners.push(EventListener::new(&video, "volumechange", move |_| {
                out(Note::Event(Event::Volume(
                    (v.volume() * 100.0).round() as u8
                )))
            }));
        }
        for (name, on) in [
            ("enterpictureinpicture", true),
            ("leavepictureinpicture", false),
        ] {
            let out = out.clone();
            listeners.push(EventListener::new(&video, name, move |_| {
                out(Note::Event(Event::Pip(on)))
            }));
        }
        for name in ["play", "pause", "volumechange", "emptied"] {
            let (v, out) = (video.clone(), out.clone());
            listeners.push(EventListener::new(&video, name, move |_| {
                out(Note::Event(Event::Element {
                    paused: v.paused(),
                    muted: v.muted(),
                }))
            }));
        }
        {
            let (v, out) = (video.clone(), out.clone());
            listeners.push(EventListener::new(&video, "resize", move |_| {
                out(Note::Event(Event::Resized {
                    width: v.video_width(),
                    height: v.video_height(),
                }))
            }));
        }
        Slot {
            video,
            hls_src,
            autoplay,
            native: true,
            hlsjs: None,
            fetching: false,
            pending: None,
            generation: 0,
            playback: None,
            out,
            prefetch: None,
            adopted,
            prefix,
            signed: None,
            token: String::new(),
            other_signed: None,
            _listeners: listeners,
        }
    }

    /// Every delivery request from now on carries `token`: hls.js's next
    /// playlist and segment requests read it from `signed`; a native live
    /// playback is given the new source (the browser's HLS has no other
    /// way in), which costs a short interruption, measured in
    /// docs/notes/private-player.md.
    pub fn set_token(&mut self, token: &str) {
        if token == self.token {
            // The service handed out the same token again: nothing to swap.
            return;
        }
        let signed = self
            .signed
            .get_or_insert_with(|| signed_object(&self.prefix, ""));
        set_field(signed, "token", token);
        let old = std::mem::replace(&mut self.token, token.to_string());
        self.swap_native(&old, token);
    }

    /// The next token of the private recording being replayed, as
    /// [`Slot::set_token`] for the broadcast's.
    pub fn set_video_token(&mut self, token: &str) {
        let Some(signed) = &self.other_signed else {
            return;
        };
        let old = js_sys::Reflect::get(signed, &"token".into())
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        if old == token {
            return;
        }
        set_field(signed, "token", token);
        self.swap_native(&old, token);
    }

    /// A native playback under `old` is given its source again with
    /// `token` (hls.js reads the new one from its object by itself).
    fn swap_native(&mut self, old: &str, token: &str) {
        if let Some(playback) = &mut self.playback {
            if playback.is_native() && playback.plays_under(&self.prefix, old) {
                playback.swap_token(&self.prefix, token);
            }
        }
    }

    /// Whether it took over what the page's loader started (until it
    /// carries on with it).
    pub fn adopted(&self) -> bool {
        self.adopted.is_some()
    }

    /// The `<video>` it plays on (the loader's, when it took that one).
    pub fn video(&self) -> &HtmlVideoElement {
        &self.video
    }

    pub fn caps(&self) -> Caps {
        Caps {
            native_hls: native_hls(&self.video),
            mse: mse_available(),
            family: Family::from_vendor(&vendor()),
            pip: pip_available(&self.video),
        }
    }

    pub fn use_engine(&mut self, native: bool) {
        self.native = native;
    }

    /// Fetches hls.js once the page has painted, ahead of need.
    pub fn prefetch_hlsjs(&mut self) {
        self.fetch_hlsjs(true);
    }

    /// Fetches hls.js (once; the loader keeps it for the page).
    fn fetch_hlsjs(&mut self, after_paint: bool) {
        if self.fetching || self.hlsjs.is_some() {
            return;
        }
        self.fetching = true;
        let (out, src) = (self.out.clone(), self.hls_src.clone());
        let fetch = move || {
            wasm_bindgen_futures::spawn_local(async move {
                out(Note::Hlsjs(hls::load(&src).await));
            })
        };
        if after_paint {
            self.prefetch = Some(Timeout::new(0, fetch));
        } else {
            fetch();
        }
    }

    /// Turns a note into an event for the player, or `None` when it is stale
    /// or handled here.
    pub fn accept(&mut self, note: Note) -> Option<Event> {
        match note {
            Note::Event(event) => Some(event),
            Note::Media(generation, signal) if generation == self.generation => {
                Some(match signal {
                    MediaSignal::FirstFrame => Event::FirstFrame,
                    MediaSignal::Ended => Event::MediaEnded,
                    MediaSignal::Issue(issue) => Event::Playback(issue),
                    MediaSignal::Buffering(b) => Event::Buffering(b),
                    MediaSignal::Latency(s) => Event::Latency(s),
                    MediaSignal::Levels(levels) => Event::Levels(levels),
                    MediaSignal::LevelPlaying(level) => Event::LevelPlaying(level),
                })
            }
            Note::Hlsjs(result) => {
                self.fetching = false;
                match result {
                    Ok(class) => {
                        self.hlsjs = Some(class);
                        let (url, live) = self.pending.take()?;
                        self.load(url, live);
                        None
                    }
                    // The player retries with backoff, which fetches it again.
                    Err(_) => self
                        .pending
                        .take()
                        .map(|_| Event::Playback(PlaybackIssue::Other)),
                }
            }
            Note::Played(generation, Err(name))
                if generation == self.generation && name == "NotAllowedError" =>
            {
                Some(Event::PlayRefused)
            }
            Note::Media(..) | Note::Played(..) => None,
        }
    }

    pub fn load(&mut self, url: String, live: bool) {
        // The loader started this very load: carry on with it.
        let adopt = live
            && matches!(&self.adopted, Some((src, hls)) if *src == url && hls.is_none() == self.native);
        let adopted_hls = if adopt {
            self.adopted.take().and_then(|(_, hls)| hls)
        } else {
            None
        };
        self.unload();
        let class = match (&self.hlsjs, self.native) {
            (_, true) => None,
            _ if adopted_hls.is_some() => None,
            (Some(class), false) => Some(class.clone()),
            (None, false) => {
                self.pending = Some((url, live));
                self.fetch_hlsjs(false);
                return;
            }
        };
        let (out, generation) = (self.out.clone(), self.generation);
        let sink = Rc::new(move |signal| out(Note::Media(generation, signal)));
        // Only a playback of the token's own stream follows its token: a
        // recording replayed meanwhile has its own uid or token in its URL,
        // which must not be rewritten to the live input's token; it gets
        // an object of its own, for its own refreshes.
        let segment = url
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.split_once('/'))
            .map(|(first, _)| first);
        self.other_signed = None;
        let signed = match (&self.signed, segment) {
            (Some(signed), Some(first)) if first == self.token => Some(JsValue::from(signed)),
            (Some(_), Some(first)) => {
                let own = signed_object(&self.prefix, first);
                self.other_signed = Some(own.clone());
                Some(JsValue::from(own))
            }
            _ => None,
        };
        let engine = match (adopted_hls, class.as_ref()) {
            (Some(hls), _) => Engine::Adopted(hls),
            (None, Some(class)) => Engine::Hlsjs(class),
            (None, None) => Engine::Native { loading: adopt },
        };
        match Playback::start(&self.video, engine, &url, live, signed.as_ref(), sink) {
            Ok(playback) => {
                self.playback = Some(playback);
                if adopt {
                    // What it did before we listened; from here the player
                    // decides when it plays.
                    self.video.set_autoplay(false);
                    let (v, out) = (&self.video, &self.out);
                    out(Note::Event(Event::Element {
                        paused: v.paused(),
                        muted: v.muted(),
                    }));
                    if v.video_width() > 0 {
                        out(Note::Event(Event::Resized {
                            width: v.video_width(),
                            height: v.video_height(),
                        }));
                    }
                }
                if self.autoplay {
                    self.play();
                }
            }
            Err(_) => (self.out)(Note::Event(Event::Playback(PlaybackIssue::Other))),
        }
    }

    pub fn unload(&mut self) {
        self.generation += 1;
        self.pending = None;
        self.playback = None;
        if let Some((_, hls)) = self.adopted.take() {
            drop(hls);
            stop(&self.video);
        }
    }

    pub fn recover(&self) {
        if let Some(p) = &self.playback {
            p.recover_media_error();
        }
    }

    /// Seconds behind the live edge.
    pub fn latency(&self) -> Option<f64> {
        self.playback.as_ref().and_then(Playback::latency)
    }

    /// Plays, and reports a refusal.
    pub fn play(&self) {
        let (out, generation) = (self.out.clone(), self.generation);
        let promise = self.video.play();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match promise {
                Ok(p) => wasm_bindgen_futures::JsFuture::from(p).await.map(|_| ()),
                Err(e) => Err(e),
            };
            let result = result.map_err(|e| {
                js_sys::Reflect::get(&e, &JsValue::from_str("name"))
                    .ok()
                    .and_then(|n| n.as_string())
                    .unwrap_or_default()
            });
            out(Note::Played(generation, result));
        });
    }

    pub fn pause(&self) {
        let _ = self.video.pause();
    }

    pub fn set_muted(&self, muted: bool) {
        self.video.set_muted(muted);
    }

    pub fn go_live(&self) {
        if let Some(p) = &self.playback {
            p.go_live();
        }
    }

    /// 0–100.
    pub fn set_volume(&self, volume: u8) {
        self.video.set_volume(f64::from(volume.min(100)) / 100.0);
    }

    pub fn set_level(&self, level: Option<usize>) {
        if let Some(p) = &self.playback {
            p.set_level(level);
        }
    }

    /// Puts the video in picture-in-picture, or takes it out. The outcome
    /// comes back as the element's enter/leave events; a refusal (no
    /// frame yet, no user gesture) changes nothing.
    pub fn toggle_pip(&self) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let in_pip = js_sys::Reflect::get(&document, &"pictureInPictureElement".into())
            .is_ok_and(|e| !e.is_null() && !e.is_undefined());
        let (target, method): (&JsValue, &str) = if in_pip {
            (&document, "exitPictureInPicture")
        } else {
            (&self.video, "requestPictureInPicture")
        };
        let call = js_sys::Reflect::get(target, &method.into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(target).ok())
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
        if let Some(promise) = call {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
    }
}

/// Whether the browser offers picture-in-picture for this video.
fn pip_available(video: &HtmlVideoElement) -> bool {
    let enabled = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| js_sys::Reflect::get(&d, &"pictureInPictureEnabled".into()).ok())
        .is_some_and(|v| v.is_truthy());
    let disabled =
        js_sys::Reflect::get(video, &"disablePictureInPicture".into()).is_ok_and(|v| v.is_truthy());
    enabled && !disabled
}
