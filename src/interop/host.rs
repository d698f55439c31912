//! The player's side of the host page: its events and metrics, dispatched on
//! the player's root, and full screen.

use super::events::{dispatch, emit, object};
use player_core::events::{HostEvents, Metric, Observed, METRICS_EVENT};
use player_core::player::View;
use web_sys::{Element, HtmlVideoElement};

pub struct Host {
    video: HtmlVideoElement,
    /// The player's root element (`.jlp`), found once it is in place.
    root: Option<Element>,
    events: HostEvents,
}

impl Host {
    pub fn new(video: HtmlVideoElement) -> Self {
        Host {
            video,
            root: None,
            events: HostEvents::default(),
        }
    }

    fn root(&mut self) -> Option<&Element> {
        if self.root.is_none() {
            self.root = self.video.closest(".jlp").ok().flatten();
        }
        self.root.as_ref()
    }

    /// Tells the host what changed since the last view (see `HostEvents`).
    pub fn announce(&mut self, view: &View, now_ms: u64) {
        let events = self.events.update(Observed::of(view, now_ms));
        if let Some(root) = self.root() {
            for event in &events {
                emit(root, event);
            }
        }
    }

    pub fn metric(&mut self, metric: &Metric) {
        let Some(root) = self.root() else { return };
        let kind = ("type", metric.name().into());
        let detail = match *metric {
            Metric::FirstFrame { ms, hlsjs, live } => object(&[
                kind,
                ("ms", (ms as f64).into()),
                ("engine", if hlsjs { "hlsjs" } else { "native" }.into()),
                ("live", live.into()),
            ]),
            Metric::Stall { ms } => object(&[kind, ("ms", (ms as f64).into())]),
            Metric::Quality { width, height } => {
                object(&[kind, ("width", width.into()), ("height", height.into())])
            }
        };
        dispatch(root, METRICS_EVENT, &detail);
    }

    pub fn toggle_fullscreen(&mut self) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if document.fullscreen_element().is_some() {
            document.exit_fullscreen();
        } else if let Some(root) = self.root() {
            let _ = root.request_fullscreen();
        }
    }
}
