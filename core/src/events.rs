//! The events an embedding host receives, derived from what the player shows.
//!
//! The driver hands over the player's view after every change; [`HostEvents`]
//! compares it with the last one and says which events to dispatch, so the
//! rules (when a broadcast counts as started or over, when an error is new)
//! are tested here rather than in the browser. Metrics are not state: the
//! player emits them as they happen ([`Metric`]).

use crate::machine::{ErrorCode, Notice, Phase};
use crate::player::View;

/// A measurement for hosts (the `metrics` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The first frame of a playback, `ms` after it was asked for.
    FirstFrame { ms: u64, hlsjs: bool, live: bool },
    /// A stall (buffering after playback had played) that lasted `ms`.
    Stall { ms: u64 },
    /// The picture size changed (a quality switch).
    Quality { width: u32, height: u32 },
}

/// The DOM event that carries [`Metric`]s.
pub const METRICS_EVENT: &str = "metrics";
/// The DOM event of [`HostEvent::Error`], also sent for a bad configuration.
pub const ERROR_EVENT: &str = "playererror";

impl Metric {
    pub const NAMES: [&'static str; 3] = ["first-frame", "stall", "quality"];

    /// The `type` of the metrics event's detail.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::FirstFrame { .. } => Self::NAMES[0],
            Metric::Stall { .. } => Self::NAMES[1],
            Metric::Quality { .. } => Self::NAMES[2],
        }
    }
}

/// What the player shows now, as far as hosts are concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub phase: Phase,
    pub notice: Option<Notice>,
    /// The current or last broadcast.
    pub video_uid: Option<String>,
    pub viewers: Option<u64>,
    /// Set in [`Phase::Error`] only.
    pub error: Option<ErrorCode>,
    /// When the player retries by itself, ms from now.
    pub retry_in_ms: Option<u64>,
    /// The recording being replayed.
    pub replaying: Option<String>,
}

impl Observed {
    /// What hosts see of `view` at `now_ms`.
    pub fn of(view: &View, now_ms: u64) -> Self {
        Observed {
            phase: view.phase,
            notice: view.notice,
            video_uid: view.video_uid.clone(),
            viewers: view.viewers,
            error: view.error,
            retry_in_ms: view.retry_at_ms.map(|at| at.saturating_sub(now_ms)),
            replaying: view.replaying.clone(),
        }
    }

    fn initial() -> Self {
        Observed {
            phase: Phase::Loading,
            notice: None,
            video_uid: None,
            viewers: None,
            error: None,
            retry_in_ms: None,
            replaying: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    State {
        state: Phase,
        previous: Phase,
        notice: Option<Notice>,
    },
    /// A broadcast shows its first frames.
    LiveStart {
        video_uid: String,
    },
    /// That broadcast is over (ended, or the input went back to waiting).
    LiveEnd {
        video_uid: String,
    },
    Viewers(Option<u64>),
    Error {
        code: ErrorCode,
        notice: Notice,
        retry_in_ms: Option<u64>,
    },
    RecordingSelect {
        video_uid: String,
    },
}

impl HostEvent {
    /// Every DOM event name, in the order of embed/index.js's PLAYER_EVENTS
    /// (checked by core/tests/contract.rs); the last is [`METRICS_EVENT`].
    pub const NAMES: [&'static str; 7] = [
        "statechange",
        "livestart",
        "liveend",
        "viewerschange",
        ERROR_EVENT,
        "recordingselect",
        METRICS_EVENT,
    ];

    /// The DOM event name (see embed/index.d.ts).
    pub fn name(&self) -> &'static str {
        Self::NAMES[match self {
            HostEvent::State { .. } => 0,
            HostEvent::LiveStart { .. } => 1,
            HostEvent::LiveEnd { .. } => 2,
            HostEvent::Viewers(_) => 3,
            HostEvent::Error { .. } => 4,
            HostEvent::RecordingSelect { .. } => 5,
        }]
    }
}

/// Turns successive snapshots into host events.
#[derive(Debug)]
pub struct HostEvents {
    last: Observed,
    /// The broadcast announced by `LiveStart` and not yet by `LiveEnd`.
    on_air: Option<String>,
}

impl Default for HostEvents {
    fn default() -> Self {
        HostEvents {
            last: Observed::initial(),
            on_air: None,
        }
    }
}

impl HostEvents {
    pub fn update(&mut self, now: Observed) -> Vec<HostEvent> {
        let mut out = Vec::new();
        let last = &self.last;
        if now == *last {
            return out;
        }
        if now.phase != last.phase {
            out.push(HostEvent::State {
                state: now.phase,
                previous: last.phase,
                notice: now.notice,
            });
        }
        // A broadcast is over when the player says so, or when another one
        // plays; errors and reconnects in between are not an end.
        if let Some(uid) = &self.on_air {
            let over = matches!(now.phase, Phase::Ended | Phase::Waiting)
                || (now.phase == Phase::Live && now.video_uid.as_ref() != Some(uid));
            if over {
                out.push(HostEvent::LiveEnd {
                    video_uid: uid.clone(),
                });
                self.on_air = None;
            }
        }
        if now.phase == Phase::Live && self.on_air.is_none() {
            if let Some(uid) = &now.video_uid {
                out.push(HostEvent::LiveStart {
                    video_uid: uid.clone(),
                });
                self.on_air = Some(uid.clone());
            }
        }
        if now.viewers != last.viewers {
            out.push(HostEvent::Viewers(now.viewers));
        }
        // A new error, or the same phase with a different cause; not the
        // countdown to the next retry.
        if let (Some(code), Some(notice)) = (now.error, now.notice) {
            if now.error != last.error || now.notice != last.notice {
                out.push(HostEvent::Error {
                    code,
                    notice,
                    retry_in_ms: now.retry_in_ms,
                });
            }
        }
        if let Some(uid) = &now.replaying {
            if last.replaying.as_ref() != Some(uid) {
                out.push(HostEvent::RecordingSelect {
                    video_uid: uid.clone(),
                });
            }
        }
        self.last = now;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(phase: Phase, uid: Option<&str>) -> Observed {
        Observed {
            phase,
            video_uid: uid.map(str::to_string),
            ..Observed::initial()
        }
    }

    fn names(events: &[HostEvent]) -> Vec<&'static str> {
        events.iter().map(HostEvent::name).collect()
    }

    #[test]
    fn a_broadcast_starts_on_its_first_frames_and_ends_once() {
        let mut h = HostEvents::default();
        assert_eq!(
            h.update(at(Phase::Waiting, None)),
            vec![HostEvent::State {
                state: Phase::Waiting,
                previous: Phase::Loading,
                notice: None
            }]
        );
        // Lifecycle says live: starting is not a start yet.
        assert_eq!(
            names(&h.update(at(Phase::Starting, Some("v1")))),
            ["statechange"]
        );
        let e = h.update(at(Phase::Live, Some("v1")));
        assert_eq!(
            e[1],
            HostEvent::LiveStart {
                video_uid: "v1".into()
            }
        );
        // A reconnect is not an end, nor a second start.
        assert_eq!(
            names(&h.update(at(Phase::Starting, Some("v1")))),
            ["statechange"]
        );
        assert_eq!(
            names(&h.update(at(Phase::Live, Some("v1")))),
            ["statechange"]
        );
        let e = h.update(at(Phase::Ended, Some("v1")));
        assert_eq!(
            e[1],
            HostEvent::LiveEnd {
                video_uid: "v1".into()
            }
        );
        assert_eq!(
            names(&h.update(at(Phase::Waiting, Some("v1")))),
            ["statechange"]
        );
        // The next broadcast.
        let e = h.update(at(Phase::Live, Some("v2")));
        assert_eq!(
            e[1],
            HostEvent::LiveStart {
                video_uid: "v2".into()
            }
        );
    }

    #[test]
    fn a_broadcast_that_goes_back_to_waiting_or_is_replaced_ends() {
        let mut h = HostEvents::default();
        h.update(at(Phase::Live, Some("v1")));
        let e = h.update(at(Phase::Waiting, None));
        assert!(e.contains(&HostEvent::LiveEnd {
            video_uid: "v1".into()
        }));
        h.update(at(Phase::Live, Some("v2")));
        let e = h.update(at(Phase::Live, Some("v3")));
        assert_eq!(
            e,
            vec![
                HostEvent::LiveEnd {
                    video_uid: "v2".into()
                },
                HostEvent::LiveStart {
                    video_uid: "v3".into()
                }
            ]
        );
    }

    #[test]
    fn errors_are_reported_when_new_not_on_each_countdown() {
        let mut h = HostEvents::default();
        let error = |notice, code, retry| Observed {
            phase: Phase::Error,
            notice: Some(notice),
            error: Some(code),
            retry_in_ms: Some(retry),
            ..Observed::initial()
        };
        let e = h.update(error(Notice::Busy, ErrorCode::RateLimited, 6_000));
        assert_eq!(
            e[1],
            HostEvent::Error {
                code: ErrorCode::RateLimited,
                notice: Notice::Busy,
                retry_in_ms: Some(6_000)
            }
        );
        assert!(h
            .update(error(Notice::Busy, ErrorCode::RateLimited, 5_000))
            .is_empty());
        let e = h.update(error(Notice::Unreachable, ErrorCode::Network, 6_000));
        assert_eq!(names(&e), ["playererror"]);
    }

    #[test]
    fn viewers_and_recordings_are_reported_on_change() {
        let mut h = HostEvents::default();
        let mut o = at(Phase::Live, Some("v1"));
        h.update(o.clone());
        o.viewers = Some(3);
        assert_eq!(h.update(o.clone()), vec![HostEvent::Viewers(Some(3))]);
        assert!(h.update(o.clone()).is_empty());
        o.viewers = None;
        o.phase = Phase::Replay;
        o.replaying = Some("rec1".into());
        let e = h.update(o.clone());
        assert_eq!(
            names(&e),
            ["statechange", "viewerschange", "recordingselect"]
        );
        // Replaying a recording is not the end of the live broadcast.
        assert!(!names(&e).contains(&"liveend"));
    }
}
