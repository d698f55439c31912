//! One playback of one URL on the `<video>`: native HLS or an hls.js
//! instance, plus the media-element listeners that report back. Dropping it
//! releases all of it and leaves the element empty.

use super::hls::HlsInstance;
use gloo_events::EventListener;
use player_core::hls_config::{HlsConfig, HlsError};
use player_core::machine::PlaybackIssue;
use player_core::player::Level;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::HtmlVideoElement;

/// What playback tells the player.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaSignal {
    FirstFrame,
    Ended,
    Issue(PlaybackIssue),
    Buffering(bool),
    /// Whole seconds behind the live edge, each time the number changes.
    Latency(u32),
    /// hls.js's renditions (the quality menu).
    Levels(Vec<Level>),
    /// hls.js switched rendition.
    LevelPlaying(usize),
}

pub type Sink = Rc<dyn Fn(MediaSignal)>;

pub struct Playback {
    video: HtmlVideoElement,
    url: String,
    hls: Option<HlsInstance>,
    live: bool,
    /// After a native source swap of a recording: back to where it was.
    resume: Option<EventListener>,
    _listeners: Vec<EventListener>,
}

/// What plays the URL.
pub enum Engine<'a> {
    /// The browser's HLS; `loading`: the element already loads the URL (the
    /// page's loader set it): listen, and report what it has done so far.
    Native { loading: bool },
    /// A new instance of this hls.js class.
    Hlsjs(&'a JsValue),
    /// The instance the page's loader started on the element, as above.
    Adopted(HlsInstance),
}

impl Playback {
    /// Starts playing `url` on `engine`.
    pub fn start(
        video: &HtmlVideoElement,
        engine: Engine,
        url: &str,
        live: bool,
        signed: Option<&JsValue>,
        sink: Sink,
    ) -> Result<Self, JsValue> {
        let loading = matches!(
            engine,
            Engine::Native { loading: true } | Engine::Adopted(_)
        );
        let first_frame = Rc::new(Cell::new(false));
        let latency = Rc::new(Cell::new(None::<u32>));
        let mut listeners = Vec::new();
        let mut on = |event: &'static str, f: Box<dyn Fn(&web_sys::Event)>| {
            listeners.push(EventListener::new(video, event, move |e| f(e)));
        };
        {
            let (sink, first_frame) = (sink.clone(), first_frame.clone());
            // The first decoded frame, shown even when autoplay is refused.
            on(
                "loadeddata",
                Box::new(move |_| {
                    if !first_frame.replace(true) {
                        sink(MediaSignal::FirstFrame);
                    }
                }),
            );
        }
        {
            let sink = sink.clone();
            on(
                "waiting",
                Box::new(move |_| sink(MediaSignal::Buffering(true))),
            );
        }
        {
            let (sink, first_frame) = (sink.clone(), first_frame.clone());
            // Playing with no first frame reported: an adopted element that
            // had its `loadeddata` before we listened and was rebuffering
            // (HAVE_METADATA) when we looked.
            on(
                "playing",
                Box::new(move |_| {
                    if !first_frame.replace(true) {
                        sink(MediaSignal::FirstFrame);
                    }
                    sink(MediaSignal::Buffering(false))
                }),
            );
        }
        {
            let sink = sink.clone();
            on("ended", Box::new(move |_| sink(MediaSignal::Ended)));
        }
        let on_error = sink.clone();
        let on_error = move |error| match error {
            HlsError::Fatal(issue) => on_error(MediaSignal::Issue(issue)),
            HlsError::Stalled => on_error(MediaSignal::Buffering(true)),
            HlsError::Transient => {}
        };
        let hls = match engine {
            Engine::Native { loading } => {
                // Native playback reports failures on the element.
                {
                    let (sink, video) = (sink.clone(), video.clone());
                    on("error", Box::new(move |_| sink(media_issue(&video))));
                }
                if !loading {
                    video.set_src(url);
                }
                None
            }
            Engine::Hlsjs(class) => {
                let config = if live {
                    HlsConfig::live()
                } else {
                    HlsConfig::vod()
                };
                Some(HlsInstance::new(
                    class, &config, video, url, signed, on_error,
                )?)
            }
            Engine::Adopted(mut hls) => {
                hls.on_error(on_error);
                Some(hls)
            }
        };
        let hls = hls.map(|mut hls| {
            let (on_levels, on_switch) = (sink.clone(), sink.clone());
            hls.watch_levels(
                move |levels| on_levels(MediaSignal::Levels(levels)),
                move |level| on_switch(MediaSignal::LevelPlaying(level)),
            );
            hls
        });
        if loading {
            if hls.is_none() && video.error().is_some() {
                sink(media_issue(video));
            } else if video.ready_state() >= 2 && !first_frame.replace(true) {
                // HAVE_CURRENT_DATA: `loadeddata` came before we listened.
                sink(MediaSignal::FirstFrame);
            }
        }
        // A recording gets the browser's controls (its seek bar); live, the player's.
        video.set_controls(!live);
        let mut playback = Playback {
            video: video.clone(),
            url: url.to_string(),
            hls,
            live,
            resume: None,
            _listeners: Vec::new(),
        };
        if live {
            let (sink, latency, video) = (sink, latency, video.clone());
            // hls.js (liveDurationInfinity) and native HLS both keep the
            // seekable range's end at the live edge. Reported once a second
            // at most (when the whole number changes); the player decides
            // what counts as behind.
            listeners.push(EventListener::new(
                &video.clone(),
                "timeupdate",
                move |_| {
                    let secs = seekable_end(&video)
                        .map(|edge| edge - video.current_time())
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(|s| s.round().min(u32::MAX as f64) as u32);
                    if let Some(s) = secs {
                        if latency.replace(Some(s)) != Some(s) {
                            sink(MediaSignal::Latency(s));
                        }
                    }
                },
            ));
        }
        playback._listeners = listeners;
        Ok(playback)
    }

    pub fn recover_media_error(&self) {
        if let Some(hls) = &self.hls {
            hls.recover_media_error();
        } else {
            self.video.load();
        }
    }

    /// Seconds behind the live edge.
    pub fn latency(&self) -> Option<f64> {
        match &self.hls {
            Some(hls) => hls.latency(),
            None => seekable_end(&self.video).map(|edge| edge - self.video.current_time()),
        }
    }

    /// hls.js's rendition: this one, or `None` for Auto.
    pub fn set_level(&self, level: Option<usize>) {
        if let Some(hls) = &self.hls {
            hls.set_level(level);
        }
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn is_native(&self) -> bool {
        self.hls.is_none()
    }

    /// Whether it plays a delivery URL whose path starts with `segment`
    /// (a uid or a token) after `prefix`.
    pub fn plays_under(&self, prefix: &str, segment: &str) -> bool {
        self.url
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(first, _)| first == segment)
    }

    /// Natively: the same stream with a new token, a live one from the
    /// live edge, a recording from where it was. The element's load
    /// algorithm pauses it, so it is played again if it played.
    pub fn swap_token(&mut self, prefix: &str, token: &str) {
        let Some(url) = player_core::signed::swap_token(&self.url, prefix, token) else {
            return;
        };
        let playing = !self.video.paused();
        self.url = url;
        // A recording goes on where it was (a live stream starts at live).
        self.resume = (!self.live).then(|| {
            let (video, at) = (self.video.clone(), self.video.current_time());
            EventListener::once(&self.video, "loadedmetadata", move |_| {
                video.set_current_time(at)
            })
        });
        self.video.set_src(&self.url);
        if playing {
            // As in go_live: a refusal shows as the element's own state.
            let _ = self.video.play();
        }
    }

    /// Jumps to the live edge: hls.js's sync point; natively, where the
    /// seekable range may be empty (Chromium), by loading the source again,
    /// which starts at live.
    pub fn go_live(&self) {
        match &self.hls {
            Some(hls) => {
                if let Some(t) = hls.live_sync_position() {
                    self.video.set_current_time(t);
                }
            }
            None => match seekable_end(&self.video) {
                Some(edge) => self.video.set_current_time((edge - 6.0).max(0.0)),
                None => self.video.set_src(&self.url),
            },
        }
        let _ = self.video.play();
    }
}

/// The element's error as the player's issue.
fn media_issue(video: &HtmlVideoElement) -> MediaSignal {
    MediaSignal::Issue(match video.error().map(|e| e.code()).unwrap_or(0) {
        2 => PlaybackIssue::Network,
        3 => PlaybackIssue::Media,
        4 => PlaybackIssue::NotPlayable,
        _ => PlaybackIssue::Other,
    })
}

fn seekable_end(video: &HtmlVideoElement) -> Option<f64> {
    let ranges = video.seekable();
    let n = ranges.length();
    if n == 0 {
        return None;
    }
    ranges.end(n - 1).ok().filter(|e| e.is_finite())
}

impl Drop for Playback {
    fn drop(&mut self) {
        // hls.js detaches first (it empties the element itself); then make
        // sure no source keeps a connection or a decoder alive.
        self.hls = None;
        self.video.set_controls(false);
        self.video.remove_attribute("src").ok();
        self.video.load();
    }
}
