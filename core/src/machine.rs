//! The player's state machine: `step(event) -> commands`.
//!
//! It decides *what* should happen (poll again in 6 s, load this manifest,
//! tear playback down, recover the decoder); the interop layer carries the
//! commands out and reports back with events. Time and randomness come in
//! through [`Ctx`], so every transition is a plain, natively tested function.

use crate::cloudflare::{Lifecycle, Views};
use crate::config::{PlayerConfig, Source};
use crate::events::Metric;
use crate::policy::{playback_retry_delay, Poll, PollPolicy};
use crate::recordings::RecordingList;

/// The states of the DOM contract (`data-player-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before the first lifecycle answer.
    Loading,
    /// Nothing is live: "the stream will start soon".
    Waiting,
    /// Live according to lifecycle, not playing yet (or reconnecting).
    Starting,
    /// Frames are playing.
    Live,
    /// A broadcast just ended.
    Ended,
    /// A finished video plays on demand.
    Replay,
    /// Something failed; the player keeps retrying by itself.
    Error,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Loading,
        Phase::Waiting,
        Phase::Starting,
        Phase::Live,
        Phase::Ended,
        Phase::Replay,
        Phase::Error,
    ];

    /// A broadcast is on air for this viewer: playing it, or about to.
    pub fn on_air(self) -> bool {
        matches!(self, Phase::Live | Phase::Starting)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Waiting => "waiting",
            Phase::Starting => "starting",
            Phase::Live => "live",
            Phase::Ended => "ended",
            Phase::Replay => "replay",
            Phase::Error => "error",
        }
    }
}

/// Why a request to the origin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    Timeout,
    Network,
    Status(u16),
    RateLimited { retry_after_ms: Option<u64> },
    Malformed,
}

/// What went wrong, for hosts: the `code` of the player's error event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    Forbidden,
    RateLimited,
    Timeout,
    Malformed,
    Network,
    Playback,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::Timeout,
        ErrorCode::Malformed,
        ErrorCode::Network,
        ErrorCode::Playback,
    ];
    /// The code of a configuration the player can't use (reported by the
    /// entry point, before any machine runs).
    pub const CONFIG: &'static str = "config";

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not-found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Malformed => "malformed",
            ErrorCode::Network => "network",
            ErrorCode::Playback => "playback",
        }
    }
}

/// What the viewer is told beside the phase's headline: a code, worded by
/// `text::notice` (one file per language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    InputNotFound,
    VideoNotFound,
    Forbidden,
    /// Rate limited.
    Busy,
    NotAnswering,
    Unreadable,
    Unreachable,
    LiveUnplayable,
    VideoUnplayable,
    /// A private broadcast refused this viewer (no token, or the token
    /// service said no).
    Private,
    /// The token service of a private broadcast fails (down, busy, garbled).
    AccessUnavailable,
}

/// A playback failure that the media layer could not fix by itself (hls.js
/// has spent its own retries, or the native element gave up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackIssue {
    /// The manifest is missing, empty (204) or unparsable: not playable yet.
    NotPlayable,
    /// Segments or playlists cannot be fetched.
    Network,
    /// The decoder or the media buffer failed.
    Media,
    /// Anything else: rebuild from scratch.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Lifecycle(Result<Lifecycle, FetchError>),
    /// The `<video>` shows frames.
    FirstFrame,
    /// The media reached its end (`EXT-X-ENDLIST` played out).
    MediaEnded,
    Playback(PlaybackIssue),
    /// A [`Command::RetryPlayback`] timer fired.
    RetryDue,
    /// The viewer pressed "Try again".
    RetryNow,
    /// The page became visible again.
    Visible,
    /// The viewer chose a recording to replay.
    PlayRecording {
        uid: String,
        url: String,
    },
    /// The viewer leaves the recording for the live stream or the waiting screen.
    LeaveReplay,

    // The events below are handled by `player::Player` around the machine.
    Views(Result<Views, FetchError>),
    Recordings(Result<RecordingList, FetchError>),
    /// The `<video>` waits for data (`true`) or plays again (`false`).
    Buffering(bool),
    /// How far behind the live edge the live playback is, in whole seconds
    /// (reported when the number changes).
    Latency(u32),
    /// The `<video>`'s volume changed (0–100).
    Volume(u8),
    /// hls.js read the renditions of the stream (empty on native HLS, where
    /// the browser chooses).
    Levels(Vec<crate::player::Level>),
    /// hls.js switched to this rendition.
    LevelPlaying(usize),
    /// The `<video>` entered (`true`) or left picture-in-picture.
    Pip(bool),
    /// A [`Command::WatchStall`] timer fired.
    StallDue,
    /// The `<video>`'s own paused and muted state changed.
    Element {
        paused: bool,
        muted: bool,
    },
    /// The browser refused to start playback (`NotAllowedError`: no sound
    /// without a gesture).
    PlayRefused,
    /// The picture size changed.
    Resized {
        width: u32,
        height: u32,
    },
    /// Play or pause; `latency` is how far behind live the playback is (s).
    TogglePlay {
        latency: Option<f64>,
    },
    /// A viewer action other than play/pause.
    Action(Action),
    /// The token service answered (see `crate::signed`).
    Token(Result<crate::signed::TokenAnswer, FetchError>),
    /// The token service answered for the private recording chosen.
    VideoToken(Result<crate::signed::TokenAnswer, FetchError>),
}

/// What the viewer can ask for: the `data-action` of the player's buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Retry,
    Play,
    Pause,
    Mute,
    Unmute,
    GoLive,
    Fullscreen,
    /// Replay the recording with this uid.
    PlayRecording(String),
    LeaveReplay,
    RetryRecordings,
    /// Set the volume (0–100).
    Volume(u8),
    /// Enter or leave picture-in-picture.
    Pip,
    /// Play this rendition, or `None`: let hls.js choose (Auto).
    Quality(Option<usize>),
}

impl Action {
    /// The `data-action` names, in one place for the view and the parser.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Play => "play",
            Action::Pause => "pause",
            Action::Mute => "mute",
            Action::Unmute => "unmute",
            Action::GoLive => "go-live",
            Action::Fullscreen => "fullscreen",
            Action::PlayRecording(_) => "play-recording",
            Action::LeaveReplay => "leave-replay",
            Action::RetryRecordings => "recordings-retry",
            Action::Volume(_) => "volume",
            Action::Pip => "pip",
            Action::Quality(_) => "quality",
        }
    }
}

/// What the interop layer must do. Timers replace any pending timer of the
/// same kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PollLifecycle {
        in_ms: u64,
    },
    StopPolling,
    /// Tear down any current playback and play `url`.
    Load {
        url: String,
        live: bool,
    },
    /// Tear down playback and release everything it holds.
    Unload,
    /// `hls.recoverMediaError()` on the current playback.
    RecoverMedia,
    RetryPlayback {
        in_ms: u64,
    },
    CancelRetry,

    // The commands below come from `player::Player` around the machine.
    /// Play with the browser's HLS (`true`) or hls.js from the next load on.
    UseEngine {
        native: bool,
    },
    /// Fetch hls.js ahead of need (it will be needed once a broadcast plays).
    PrefetchHlsjs,
    /// Fetch `/views` in `in_ms`, replacing any pending views poll.
    PollViews {
        in_ms: u64,
    },
    /// Cancel the views poll and its request.
    StopViews,
    /// Fetch the recordings list in `in_ms`, replacing any pending one.
    PollRecordings {
        in_ms: u64,
    },
    /// Report [`Event::StallDue`] in `in_ms`, replacing any pending one.
    WatchStall {
        in_ms: u64,
    },
    CancelStall,
    Play,
    Pause,
    SetMuted(bool),
    /// Jump to the live edge and play.
    GoLive,
    ToggleFullscreen,
    /// Set the `<video>`'s volume (0–100).
    SetVolume(u8),
    /// Enter picture-in-picture, or leave it.
    TogglePip,
    /// hls.js's `currentLevel`: this rendition, or `None` for Auto (-1).
    SetLevel(Option<usize>),
    /// Ask the token service (`tokenUrl`) in `in_ms`, replacing any
    /// pending request.
    FetchToken {
        in_ms: u64,
    },
    /// From now on, every delivery request of the current playback carries
    /// this token (hls.js: its next playlist and segment requests; native
    /// HLS: the source is set again).
    SetToken(String),
    /// Ask the token service for this private recording's token in
    /// `in_ms`, replacing any pending request: at once when it is chosen,
    /// then well before each token expires while it is replayed.
    FetchVideoToken {
        uid: String,
        in_ms: u64,
    },
    /// The replayed private recording's next token (its first is in the
    /// URL it loads): its delivery requests carry it from now on, as
    /// [`Command::SetToken`] does for the broadcast's.
    SetVideoToken(String),
    /// The replay is over: no more tokens for it.
    StopVideoToken,
    /// Tell the host (see `events::Metric`).
    Metric(Metric),
    /// A fact for the viewing figures (`qoe::Session::on`): what the player
    /// alone knows (a new source, waiting for a broadcast, a failure it
    /// gave up on, the end); the media element's own events go there from
    /// the browser side directly.
    Qoe(crate::qoe::Ev),
}

/// The environment of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ctx {
    pub now_ms: u64,
    /// Uniform in [0, 1], for jitter.
    pub rand01: f64,
    pub hidden: bool,
}

/// How long "the stream has ended" stays up before the page waits again.
pub const ENDED_HOLD_MS: u64 = 15_000;
/// Cloudflare may take ~30 s after `live: true` before the manifest plays;
/// past this the viewer is told, while retries go on.
pub const STARTING_GRACE_MS: u64 = 60_000;
/// Buffering this long while live means the stream is stuck (a playlist
/// that stopped moving, a segment that never comes): playback is rebuilt.
pub const STALL_TIMEOUT_MS: u64 = 15_000;
/// `recoverMediaError` at most this often (hls.js's advice); a second fatal
/// media error sooner rebuilds the player instead.
pub const MEDIA_RECOVERY_INTERVAL_MS: u64 = 5_000;

/// The playback the machine has committed to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    url: String,
    live: bool,
    started_ms: u64,
    attempts: u32,
    played: bool,
}

#[derive(Debug, Clone)]
pub struct Machine {
    config: PlayerConfig,
    policy: PollPolicy,
    phase: Phase,
    since_ms: u64,
    notice: Option<Notice>,
    /// Why the phase is [`Phase::Error`].
    error_code: ErrorCode,
    retry_at_ms: Option<u64>,
    video_uid: Option<String>,
    /// The broadcast whose end was seen in the media; not reloaded while
    /// lifecycle still lags behind and calls it live.
    ended_uid: Option<String>,
    session: Option<Session>,
    /// The recording being replayed.
    replaying: Option<String>,
    /// A broadcast that went live while the viewer replays a recording: offered, not forced.
    live_now: Option<String>,
    lifecycle_failures: u32,
    retry_after_ms: Option<u64>,
    last_media_recovery_ms: Option<u64>,
}

impl Machine {
    /// A new machine and the commands that start it.
    pub fn new(config: PlayerConfig, policy: PollPolicy, now_ms: u64) -> (Self, Vec<Command>) {
        let machine = Machine {
            config,
            policy,
            phase: Phase::Loading,
            since_ms: now_ms,
            notice: None,
            error_code: ErrorCode::Network,
            retry_at_ms: None,
            video_uid: None,
            ended_uid: None,
            session: None,
            replaying: None,
            live_now: None,
            lifecycle_failures: 0,
            retry_after_ms: None,
            last_media_recovery_ms: None,
        };
        (machine, vec![Command::PollLifecycle { in_ms: 0 }])
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// When the current phase began (e.g. how long the viewer has waited).
    pub fn since_ms(&self) -> u64 {
        self.since_ms
    }
    /// What the viewer is told, when the phase needs more than its name.
    pub fn notice(&self) -> Option<Notice> {
        self.notice
    }
    /// Why the player is in [`Phase::Error`]; `None` in any other phase.
    pub fn error_code(&self) -> Option<ErrorCode> {
        (self.phase == Phase::Error).then_some(self.error_code)
    }
    /// When the next automatic retry happens, for a "trying again in N s".
    pub fn retry_at_ms(&self) -> Option<u64> {
        self.retry_at_ms
    }
    /// The current or last broadcast.
    pub fn video_uid(&self) -> Option<&str> {
        self.video_uid.as_deref()
    }
    /// The recording being replayed, if any.
    pub fn replaying(&self) -> Option<&str> {
        self.replaying.as_deref()
    }
    /// A live broadcast the viewer can switch to from a replay.
    pub fn live_now(&self) -> Option<&str> {
        self.live_now.as_deref()
    }
    pub fn config(&self) -> &PlayerConfig {
        &self.config
    }
    pub fn policy(&self) -> &PollPolicy {
        &self.policy
    }
    /// Whether the committed playback is live; `None` without one.
    pub fn session_live(&self) -> Option<bool> {
        self.session.as_ref().map(|s| s.live)
    }

    /// Delivery URLs carry `token` from now on, the committed playback's
    /// too (its retries reload it), unless that is a recording's replay,
    /// which has its own uid or token.
    pub fn set_token(&mut self, token: String) {
        if self.replaying.is_none() {
            self.swap_session_token(&token);
        }
        self.config.token = Some(token);
    }

    /// The replayed recording's next token, for its retries.
    pub fn set_replay_token(&mut self, token: &str) {
        if self.replaying.is_some() {
            self.swap_session_token(token);
        }
    }

    fn swap_session_token(&mut self, token: &str) {
        let prefix = self.config.delivery_prefix();
        if let Some(session) = &mut self.session {
            if let Some(url) = crate::signed::swap_token(&session.url, &prefix, token) {
                session.url = url;
            }
        }
    }

    /// No token could be had for a private broadcast: with nothing playing,
    /// the viewer is told why and when the player tries again.
    pub fn access_failed(&mut self, code: ErrorCode, notice: Notice, retry_at_ms: u64, ctx: Ctx) {
        if self.session.is_some() {
            // Playback goes on; the media layer reports its own trouble.
            return;
        }
        self.error_code = code;
        self.notice = Some(notice);
        self.retry_at_ms = Some(retry_at_ms);
        self.enter(Phase::Error, ctx);
    }

    fn enter(&mut self, phase: Phase, ctx: Ctx) {
        if self.phase != phase {
            self.phase = phase;
            self.since_ms = ctx.now_ms;
        }
    }

    fn poll(&self, ctx: Ctx) -> Command {
        let kind = match &self.session {
            Some(s) if s.live => Poll::LifecycleLive,
            _ => Poll::LifecycleWaiting,
        };
        let in_ms = self.policy.next_delay(
            kind,
            self.lifecycle_failures,
            self.retry_after_ms,
            ctx.hidden,
            ctx.rand01,
        );
        Command::PollLifecycle { in_ms }
    }

    fn load(&mut self, url: String, live: bool, ctx: Ctx, out: &mut Vec<Command>) {
        out.push(Command::CancelRetry);
        out.push(Command::Load {
            url: url.clone(),
            live,
        });
        self.session = Some(Session {
            url,
            live,
            started_ms: ctx.now_ms,
            attempts: 0,
            played: false,
        });
        self.retry_at_ms = None;
        self.notice = None;
    }

    fn unload(&mut self, out: &mut Vec<Command>) {
        if self.session.take().is_some() {
            out.push(Command::CancelRetry);
            out.push(Command::Unload);
        }
        self.retry_at_ms = None;
    }

    pub fn step(&mut self, event: Event, ctx: Ctx) -> Vec<Command> {
        let mut out = Vec::new();
        match event {
            Event::Lifecycle(Ok(lifecycle)) => self.on_lifecycle(lifecycle, ctx, &mut out),
            Event::Lifecycle(Err(error)) => self.on_lifecycle_error(error, ctx, &mut out),
            Event::FirstFrame => {
                if let Some(session) = &mut self.session {
                    session.played = true;
                    session.attempts = 0;
                    let phase = if session.live {
                        Phase::Live
                    } else {
                        Phase::Replay
                    };
                    self.notice = None;
                    self.retry_at_ms = None;
                    self.enter(phase, ctx);
                }
            }
            Event::MediaEnded => {
                if self.session.as_ref().is_some_and(|s| s.live) {
                    self.unload(&mut out);
                    self.ended_uid = self.video_uid.clone();
                    self.notice = None;
                    self.enter(Phase::Ended, ctx);
                    // Ask lifecycle soon: the next broadcast may already be up.
                    out.push(Command::PollLifecycle { in_ms: 1_000 });
                }
            }
            Event::Playback(issue) => self.on_playback_issue(issue, ctx, &mut out),
            Event::RetryDue => {
                if let Some(session) = &self.session {
                    out.push(Command::Load {
                        url: session.url.clone(),
                        live: session.live,
                    });
                    self.retry_at_ms = None;
                }
            }
            Event::RetryNow => {
                self.lifecycle_failures = 0;
                self.retry_after_ms = None;
                if let Some(session) = &self.session {
                    out.push(Command::CancelRetry);
                    out.push(Command::Load {
                        url: session.url.clone(),
                        live: session.live,
                    });
                    self.retry_at_ms = None;
                }
                out.push(Command::PollLifecycle { in_ms: 0 });
            }
            Event::PlayRecording { uid, url } => {
                if self.session.as_ref().is_some_and(|s| s.live) {
                    // Leaving a live broadcast: it stays on offer.
                    self.live_now = self.video_uid.clone();
                }
                self.unload(&mut out);
                self.load(url, false, ctx, &mut out);
                self.replaying = Some(uid);
                self.enter(Phase::Replay, ctx);
            }
            Event::LeaveReplay => {
                if self.replaying.take().is_some() {
                    self.unload(&mut out);
                    match self.live_now.take() {
                        Some(uid) => {
                            self.video_uid = Some(uid);
                            self.ended_uid = None;
                            let url = self.config.manifest_url();
                            self.load(url, true, ctx, &mut out);
                            self.enter(Phase::Starting, ctx);
                        }
                        None => {
                            self.notice = None;
                            self.enter(Phase::Waiting, ctx);
                        }
                    }
                    out.push(Command::PollLifecycle { in_ms: 0 });
                }
            }
            Event::Visible => {
                // Catch up at once, unless the origin asked us to hold off.
                let polling = !matches!(&self.session, Some(s) if !s.live);
                if polling && self.lifecycle_failures == 0 {
                    out.push(Command::PollLifecycle {
                        in_ms: (ctx.rand01 * 1_000.0) as u64,
                    });
                }
            }
            Event::Views(_)
            | Event::Recordings(_)
            | Event::Buffering(_)
            | Event::Latency(_)
            | Event::Volume(_)
            | Event::Levels(_)
            | Event::LevelPlaying(_)
            | Event::Pip(_)
            | Event::StallDue
            | Event::Element { .. }
            | Event::PlayRefused
            | Event::Resized { .. }
            | Event::TogglePlay { .. }
            | Event::Action(_)
            | Event::Token(_)
            | Event::VideoToken(_) => {}
        }
        out
    }

    fn on_lifecycle(&mut self, lifecycle: Lifecycle, ctx: Ctx, out: &mut Vec<Command>) {
        self.lifecycle_failures = 0;
        self.retry_after_ms = None;
        if lifecycle.live {
            let uid = lifecycle.video_uid;
            let same_broadcast = uid.is_some() && uid == self.video_uid;
            let playing_it = same_broadcast && self.session.as_ref().is_some_and(|s| s.live);
            let already_ended = uid.is_some() && uid == self.ended_uid;
            if playing_it {
                if self.phase == Phase::Error && self.retry_at_ms.is_none() {
                    // A lifecycle outage is over; playback went on meanwhile.
                    self.notice = None;
                    let phase = match &self.session {
                        Some(s) if s.played => Phase::Live,
                        _ => Phase::Starting,
                    };
                    self.enter(phase, ctx);
                }
            } else if self.replaying.is_some() {
                // A viewer replaying a recording is not yanked away.
                self.live_now = uid;
            } else if already_ended {
                self.enter(Phase::Ended, ctx);
            } else {
                self.video_uid = uid;
                let url = self.config.manifest_url();
                self.load(url, true, ctx, out);
                self.enter(Phase::Starting, ctx);
            }
            out.push(self.poll(ctx));
            return;
        }

        // Not live.
        self.live_now = None;
        if self.replaying.is_some() {
            out.push(self.poll(ctx));
            return;
        }
        match self.config.source {
            Source::Video(_) => {
                if self.session.as_ref().is_some_and(|s| !s.live) {
                    return;
                }
                // A finished video: play it on demand; lifecycle is done.
                self.unload(out);
                let url = self.config.manifest_url();
                self.load(url, false, ctx, out);
                self.enter(Phase::Replay, ctx);
                out.push(Command::StopPolling);
            }
            Source::Input(_) => {
                if self.session.as_ref().is_some_and(|s| s.live) {
                    self.unload(out);
                    self.ended_uid = self.video_uid.clone();
                    self.notice = None;
                    self.enter(Phase::Ended, ctx);
                } else if self.phase == Phase::Ended && ctx.now_ms < self.since_ms + ENDED_HOLD_MS {
                    // Let "the stream has ended" be read before waiting again.
                } else if self.phase != Phase::Replay {
                    self.notice = None;
                    self.retry_at_ms = None;
                    self.enter(Phase::Waiting, ctx);
                }
                out.push(self.poll(ctx));
            }
        }
    }

    fn on_lifecycle_error(&mut self, error: FetchError, ctx: Ctx, out: &mut Vec<Command>) {
        self.lifecycle_failures = self.lifecycle_failures.saturating_add(1);
        self.retry_after_ms = match &error {
            FetchError::RateLimited { retry_after_ms } => *retry_after_ms,
            _ => None,
        };
        let poll = self.poll(ctx);
        let Command::PollLifecycle { in_ms } = poll else {
            return;
        };
        out.push(poll);
        if self.session.is_some() {
            // Playback goes on without lifecycle; the media layer reports its
            // own trouble.
            return;
        }
        // One failed poll while waiting is not worth alarming anyone.
        if self.phase == Phase::Loading
            || self.lifecycle_failures >= 2
            || self.phase == Phase::Error
        {
            let (code, notice) = match (&error, &self.config.source) {
                (FetchError::Status(404), Source::Input(_)) => {
                    (ErrorCode::NotFound, Notice::InputNotFound)
                }
                (FetchError::Status(404), Source::Video(_)) => {
                    (ErrorCode::NotFound, Notice::VideoNotFound)
                }
                // Refused with the bare uid: a private broadcast, watched
                // without the link that gives access.
                (FetchError::Status(401 | 403), _) if self.config.token.is_none() => {
                    (ErrorCode::Forbidden, Notice::Private)
                }
                (FetchError::Status(401 | 403), _) => (ErrorCode::Forbidden, Notice::Forbidden),
                (FetchError::RateLimited { .. }, _) => (ErrorCode::RateLimited, Notice::Busy),
                (FetchError::Timeout, _) => (ErrorCode::Timeout, Notice::NotAnswering),
                (FetchError::Malformed, _) => (ErrorCode::Malformed, Notice::Unreadable),
                _ => (ErrorCode::Network, Notice::Unreachable),
            };
            self.error_code = code;
            self.notice = Some(notice);
            self.retry_at_ms = Some(ctx.now_ms + in_ms);
            self.enter(Phase::Error, ctx);
        }
    }

    fn on_playback_issue(&mut self, issue: PlaybackIssue, ctx: Ctx, out: &mut Vec<Command>) {
        let Some(session) = &mut self.session else {
            return; // A late report from playback already torn down.
        };
        if issue == PlaybackIssue::Media {
            let recent = self
                .last_media_recovery_ms
                .is_some_and(|t| ctx.now_ms < t + MEDIA_RECOVERY_INTERVAL_MS);
            if !recent {
                self.last_media_recovery_ms = Some(ctx.now_ms);
                out.push(Command::RecoverMedia);
                return;
            }
        }
        let live = session.live;
        if session.played {
            // It was playing: a fresh grace period to get it back.
            session.played = false;
            session.started_ms = ctx.now_ms;
        }
        let in_grace = ctx.now_ms < session.started_ms + STARTING_GRACE_MS;
        let in_ms = playback_retry_delay(session.attempts, live && in_grace, ctx.rand01);
        session.attempts = session.attempts.saturating_add(1);
        out.push(Command::Unload);
        out.push(Command::RetryPlayback { in_ms });
        self.retry_at_ms = Some(ctx.now_ms + in_ms);
        if live && in_grace {
            self.notice = None;
            self.enter(Phase::Starting, ctx);
        } else {
            self.error_code = ErrorCode::Playback;
            self.notice = Some(if live {
                Notice::LiveUnplayable
            } else {
                Notice::VideoUnplayable
            });
            self.enter(Phase::Error, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;
    use crate::fixtures::{at, idle, live};

    const ORIGIN: &str = "http://o";

    fn input() -> PlayerConfig {
        let raw = RawConfig {
            input: Some("in1".into()),
            ..Default::default()
        };
        PlayerConfig::parse(&raw, ORIGIN).unwrap()
    }
    fn video() -> PlayerConfig {
        let raw = RawConfig {
            video: Some("vid1".into()),
            ..Default::default()
        };
        PlayerConfig::parse(&raw, ORIGIN).unwrap()
    }
    fn failed(e: FetchError) -> Event {
        Event::Lifecycle(Err(e))
    }
    const MANIFEST: &str = "http://o/in1/manifest/video.m3u8";
    fn load_live() -> Command {
        Command::Load {
            url: MANIFEST.into(),
            live: true,
        }
    }

    /// Runs events from a fresh machine, returning it and the last commands.
    fn run(config: PlayerConfig, events: &[(u64, Event)]) -> (Machine, Vec<Command>) {
        let (mut m, mut cmds) = Machine::new(config, PollPolicy::default(), 0);
        for (t, e) in events {
            cmds = m.step(e.clone(), at(*t));
        }
        (m, cmds)
    }

    #[test]
    fn starts_by_polling_at_once() {
        let (m, cmds) = Machine::new(input(), PollPolicy::default(), 0);
        assert_eq!(m.phase(), Phase::Loading);
        assert_eq!(cmds, vec![Command::PollLifecycle { in_ms: 0 }]);
    }

    #[test]
    fn transitions_case_table() {
        use Phase::*;
        // (events, phase after the last one, commands of the last one)
        type Case = (&'static str, Vec<(u64, Event)>, Phase, Vec<Command>);
        let cases: Vec<Case> = vec![
            (
                "idle input waits, no manifest",
                vec![(0, idle())],
                Waiting,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "live input loads the manifest",
                vec![(0, live("a"))],
                Starting,
                vec![
                    Command::CancelRetry,
                    load_live(),
                    Command::PollLifecycle { in_ms: 20_000 },
                ],
            ),
            (
                "waiting then live",
                vec![(0, idle()), (6_000, live("a"))],
                Starting,
                vec![
                    Command::CancelRetry,
                    load_live(),
                    Command::PollLifecycle { in_ms: 20_000 },
                ],
            ),
            (
                "first frame is live",
                vec![(0, live("a")), (500, Event::FirstFrame)],
                Live,
                vec![],
            ),
            (
                "same broadcast keeps playing",
                vec![(0, live("a")), (1, Event::FirstFrame), (20_000, live("a"))],
                Live,
                vec![Command::PollLifecycle { in_ms: 20_000 }],
            ),
            (
                "end of broadcast unloads",
                vec![(0, live("a")), (1, Event::FirstFrame), (20_000, idle())],
                Ended,
                vec![
                    Command::CancelRetry,
                    Command::Unload,
                    Command::PollLifecycle { in_ms: 6_000 },
                ],
            ),
            (
                "ended is held for a while",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (20_000, idle()),
                    (26_000, idle()),
                ],
                Ended,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "then waits again",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (20_000, idle()),
                    (36_000, idle()),
                ],
                Waiting,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "a new broadcast plays without reload",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (20_000, idle()),
                    (26_000, live("b")),
                ],
                Starting,
                vec![
                    Command::CancelRetry,
                    load_live(),
                    Command::PollLifecycle { in_ms: 20_000 },
                ],
            ),
            (
                "a restart with a new uid rebuilds",
                vec![(0, live("a")), (1, Event::FirstFrame), (20_000, live("b"))],
                Starting,
                vec![
                    Command::CancelRetry,
                    load_live(),
                    Command::PollLifecycle { in_ms: 20_000 },
                ],
            ),
            (
                "media end while live",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (9_000, Event::MediaEnded),
                ],
                Ended,
                vec![
                    Command::CancelRetry,
                    Command::Unload,
                    Command::PollLifecycle { in_ms: 1_000 },
                ],
            ),
            (
                "lagging lifecycle does not reload an ended broadcast",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (9_000, Event::MediaEnded),
                    (10_000, live("a")),
                ],
                Ended,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "first lifecycle failure is an error",
                vec![(0, failed(FetchError::Status(500)))],
                Error,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "one failure while waiting is tolerated",
                vec![(0, idle()), (6_000, failed(FetchError::Timeout))],
                Waiting,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "two failures while waiting are an error",
                vec![
                    (0, idle()),
                    (6_000, failed(FetchError::Timeout)),
                    (12_000, failed(FetchError::Malformed)),
                ],
                Error,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "recovers from a lifecycle outage",
                vec![
                    (0, failed(FetchError::Network)),
                    (6_000, failed(FetchError::Network)),
                    (12_000, idle()),
                ],
                Waiting,
                vec![Command::PollLifecycle { in_ms: 6_000 }],
            ),
            (
                "lifecycle failures don't stop playback",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (20_000, failed(FetchError::Status(503))),
                    (40_000, failed(FetchError::Status(503))),
                ],
                Live,
                vec![Command::PollLifecycle { in_ms: 20_000 }],
            ),
            (
                "not playable yet: retry while starting",
                vec![
                    (0, live("a")),
                    (1_000, Event::Playback(PlaybackIssue::NotPlayable)),
                ],
                Starting,
                vec![Command::Unload, Command::RetryPlayback { in_ms: 1_000 }],
            ),
            (
                "retry timer reloads",
                vec![
                    (0, live("a")),
                    (1_000, Event::Playback(PlaybackIssue::NotPlayable)),
                    (2_000, Event::RetryDue),
                ],
                Starting,
                vec![load_live()],
            ),
            (
                "past the grace period it is an error, still retrying",
                vec![
                    (0, live("a")),
                    (61_000, Event::Playback(PlaybackIssue::NotPlayable)),
                ],
                Error,
                vec![Command::Unload, Command::RetryPlayback { in_ms: 1_000 }],
            ),
            (
                "a network failure while live reconnects",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (90_000, Event::Playback(PlaybackIssue::Network)),
                ],
                Starting,
                vec![Command::Unload, Command::RetryPlayback { in_ms: 1_000 }],
            ),
            (
                "media error recovers in place",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (9_000, Event::Playback(PlaybackIssue::Media)),
                ],
                Live,
                vec![Command::RecoverMedia],
            ),
            (
                "a second media error within 5 s rebuilds",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (9_000, Event::Playback(PlaybackIssue::Media)),
                    (10_000, Event::Playback(PlaybackIssue::Media)),
                ],
                Starting,
                vec![Command::Unload, Command::RetryPlayback { in_ms: 1_000 }],
            ),
            (
                "media errors 5 s apart recover each time",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (9_000, Event::Playback(PlaybackIssue::Media)),
                    (14_000, Event::Playback(PlaybackIssue::Media)),
                ],
                Live,
                vec![Command::RecoverMedia],
            ),
            (
                "late playback report after unload is ignored",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (20_000, idle()),
                    (20_001, Event::Playback(PlaybackIssue::Network)),
                ],
                Ended,
                vec![],
            ),
            (
                "retry now reloads and polls",
                vec![
                    (0, live("a")),
                    (61_000, Event::Playback(PlaybackIssue::Other)),
                    (62_000, Event::RetryNow),
                ],
                Error,
                vec![
                    Command::CancelRetry,
                    load_live(),
                    Command::PollLifecycle { in_ms: 0 },
                ],
            ),
        ];
        for (name, events, phase, cmds) in cases {
            let (m, got) = run(input(), &events);
            assert_eq!(m.phase(), phase, "{name}");
            assert_eq!(got, cmds, "{name}");
        }
    }

    #[test]
    fn retries_back_off_while_starting() {
        let mut events = vec![(0, live("a"))];
        let mut delays = Vec::new();
        let (mut m, _) = run(input(), &events);
        for t in 1..=6u64 {
            let cmds = m.step(Event::Playback(PlaybackIssue::NotPlayable), at(t * 1_000));
            for c in cmds {
                if let Command::RetryPlayback { in_ms } = c {
                    delays.push(in_ms);
                }
            }
            events.push((t, Event::RetryDue));
        }
        assert_eq!(delays, vec![1_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
        assert_eq!(m.phase(), Phase::Starting);
        m.step(Event::FirstFrame, at(40_000));
        assert_eq!(m.phase(), Phase::Live);
    }

    #[test]
    fn rate_limit_waits_for_retry_after() {
        let (m, cmds) = run(
            input(),
            &[
                (0, idle()),
                (
                    6_000,
                    failed(FetchError::RateLimited {
                        retry_after_ms: Some(20_000),
                    }),
                ),
            ],
        );
        let Command::PollLifecycle { in_ms } = cmds[0] else {
            panic!("{cmds:?}")
        };
        assert!((20_000..=24_000).contains(&in_ms), "{in_ms}");
        assert_eq!(m.phase(), Phase::Waiting);
    }

    #[test]
    fn error_messages_are_plain_and_say_when_it_retries() {
        let (m, _) = run(input(), &[(1_000, failed(FetchError::Status(404)))]);
        assert_eq!(m.phase(), Phase::Error);
        assert_eq!(m.notice(), Some(Notice::InputNotFound));
        assert_eq!(m.retry_at_ms(), Some(7_000));
        let (m, _) = run(video(), &[(0, failed(FetchError::Status(404)))]);
        assert_eq!(m.notice(), Some(Notice::VideoNotFound));
        let (m, _) = run(
            input(),
            &[(0, failed(FetchError::Status(404))), (6_000, idle())],
        );
        assert_eq!(
            (m.phase(), m.notice(), m.retry_at_ms()),
            (Phase::Waiting, None, None)
        );
        assert_eq!(m.error_code(), None, "no code outside the error phase");
    }

    #[test]
    fn errors_carry_a_code_for_hosts() {
        let code = |e: FetchError| run(input(), &[(0, failed(e))]).0.error_code();
        assert_eq!(code(FetchError::Status(404)), Some(ErrorCode::NotFound));
        assert_eq!(code(FetchError::Status(403)), Some(ErrorCode::Forbidden));
        assert_eq!(
            code(FetchError::RateLimited {
                retry_after_ms: None
            }),
            Some(ErrorCode::RateLimited)
        );
        assert_eq!(code(FetchError::Timeout), Some(ErrorCode::Timeout));
        assert_eq!(code(FetchError::Malformed), Some(ErrorCode::Malformed));
        assert_eq!(code(FetchError::Status(502)), Some(ErrorCode::Network));
        assert_eq!(code(FetchError::Network), Some(ErrorCode::Network));
        assert_eq!(ErrorCode::RateLimited.as_str(), "rate-limited");
    }

    #[test]
    fn a_finished_video_replays_without_polling() {
        let not_live = Event::Lifecycle(Ok(Lifecycle {
            is_input: false,
            video_uid: Some("vid1".into()),
            live: false,
        }));
        let (m, cmds) = run(video(), &[(0, not_live)]);
        assert_eq!(m.phase(), Phase::Replay);
        assert_eq!(
            cmds,
            vec![
                Command::CancelRetry,
                Command::Load {
                    url: "http://o/vid1/manifest/video.m3u8".into(),
                    live: false
                },
                Command::StopPolling
            ]
        );
    }

    #[test]
    fn a_live_video_plays_live_then_replays() {
        let v = |live| {
            Event::Lifecycle(Ok(Lifecycle {
                is_input: false,
                video_uid: Some("vid1".into()),
                live,
            }))
        };
        let (m, _) = run(video(), &[(0, v(true)), (1, Event::FirstFrame)]);
        assert_eq!(m.phase(), Phase::Live);
        let (m, cmds) = run(
            video(),
            &[(0, v(true)), (1, Event::FirstFrame), (20_000, v(false))],
        );
        assert_eq!(m.phase(), Phase::Replay);
        assert!(cmds.contains(&Command::Unload));
        assert!(cmds.contains(&Command::Load {
            url: "http://o/vid1/manifest/video.m3u8".into(),
            live: false
        }));
    }

    fn play(uid: &str) -> Event {
        Event::PlayRecording {
            uid: uid.into(),
            url: format!("http://o/{uid}/manifest/video.m3u8"),
        }
    }

    #[test]
    fn replay_from_waiting_and_back() {
        let (mut m, cmds) = run(input(), &[(0, idle()), (1_000, play("r1"))]);
        assert_eq!(m.phase(), Phase::Replay);
        assert_eq!(m.replaying(), Some("r1"));
        assert_eq!(
            cmds,
            vec![
                Command::CancelRetry,
                Command::Load {
                    url: "http://o/r1/manifest/video.m3u8".into(),
                    live: false
                }
            ]
        );
        // Still polling lifecycle, at the waiting rate.
        assert_eq!(
            m.step(idle(), at(6_000)),
            vec![Command::PollLifecycle { in_ms: 6_000 }]
        );
        m.step(Event::FirstFrame, at(6_500));
        assert_eq!(m.phase(), Phase::Replay);
        let cmds = m.step(Event::LeaveReplay, at(9_000));
        assert_eq!(m.phase(), Phase::Waiting);
        assert_eq!(
            cmds,
            vec![
                Command::CancelRetry,
                Command::Unload,
                Command::PollLifecycle { in_ms: 0 }
            ]
        );
    }

    #[test]
    fn going_live_during_a_replay_is_offered_not_forced() {
        let (mut m, _) = run(
            input(),
            &[(0, idle()), (1_000, play("r1")), (2_000, Event::FirstFrame)],
        );
        let cmds = m.step(live("b"), at(6_000));
        assert_eq!(m.phase(), Phase::Replay);
        assert_eq!(m.live_now(), Some("b"));
        assert_eq!(cmds, vec![Command::PollLifecycle { in_ms: 6_000 }]);
        // The media reaching its end does not leave the replay either.
        assert_eq!(m.step(Event::MediaEnded, at(7_000)), vec![]);
        assert_eq!(m.phase(), Phase::Replay);
        let cmds = m.step(Event::LeaveReplay, at(8_000));
        assert_eq!(m.phase(), Phase::Starting);
        assert_eq!(m.live_now(), None);
        assert_eq!(
            cmds,
            vec![
                Command::CancelRetry,
                Command::Unload,
                Command::CancelRetry,
                load_live(),
                Command::PollLifecycle { in_ms: 0 }
            ]
        );
        m.step(Event::FirstFrame, at(9_000));
        assert_eq!((m.phase(), m.video_uid()), (Phase::Live, Some("b")));
    }

    #[test]
    fn replay_chosen_while_live_keeps_live_on_offer_until_it_ends() {
        let (mut m, _) = run(
            input(),
            &[(0, live("a")), (1, Event::FirstFrame), (5_000, play("r1"))],
        );
        assert_eq!((m.phase(), m.live_now()), (Phase::Replay, Some("a")));
        m.step(idle(), at(20_000));
        assert_eq!((m.phase(), m.live_now()), (Phase::Replay, None));
        m.step(Event::LeaveReplay, at(21_000));
        assert_eq!(m.phase(), Phase::Waiting);
        // Leaving twice is harmless.
        assert_eq!(m.step(Event::LeaveReplay, at(22_000)), vec![]);
    }

    #[test]
    fn hidden_tab_polls_three_times_slower() {
        let (mut m, _) = Machine::new(input(), PollPolicy::default(), 0);
        let cmds = m.step(
            idle(),
            Ctx {
                now_ms: 0,
                rand01: 0.5,
                hidden: true,
            },
        );
        assert_eq!(cmds, vec![Command::PollLifecycle { in_ms: 18_000 }]);
        let cmds = m.step(
            Event::Visible,
            Ctx {
                now_ms: 1,
                rand01: 0.5,
                hidden: false,
            },
        );
        assert_eq!(cmds, vec![Command::PollLifecycle { in_ms: 500 }]);
    }

    #[test]
    fn waiting_since_is_kept_across_polls() {
        let (m, _) = run(
            input(),
            &[(1_000, idle()), (7_000, idle()), (13_000, idle())],
        );
        assert_eq!(m.since_ms(), 1_000);
    }
}
