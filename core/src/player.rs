//! Everything the player decides around the [`Machine`]: the views and
//! recordings polls, the engine (native HLS or hls.js, and the switch when the
//! browser's player gives up), the `<video>`'s play/pause/mute state with
//! "paused, then back to live", the stall timeout, and the metrics. It takes
//! every [`Event`] and answers with [`Command`]s, like the machine, and
//! produces the one [`View`] the screen and the host events are drawn from.
//!
//! The browser side only carries commands out and reports back: no rule
//! lives there.

use crate::config::PlayerConfig;
use crate::events::Metric;
use crate::machine::{
    Action, Command, Ctx, ErrorCode, Event, FetchError, Machine, Notice, Phase, PlaybackIssue,
    STALL_TIMEOUT_MS,
};
use crate::policy::{recordings_refresh, Poll, PollPolicy};
use crate::qoe::{EngineName, Ev as QoeEv, Kind};
use crate::recordings::{Recording, RecordingList};
use crate::signed::Access;

pub use crate::engine::{Caps, Family};

/// One rendition of the stream, as hls.js lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub height: u32,
    /// Bits per second.
    pub bitrate: u32,
}

/// The volume slider's value ("0"–"100") as a volume. Whole numbers only
/// (the slider steps by 5): a float parser would cost the wasm ~10 KB.
pub fn parse_volume(value: &str) -> Option<u8> {
    let v: u32 = value.trim().parse().ok()?;
    Some(v.min(100) as u8)
}

/// The quality menu's value: `auto` is Auto (`None`), a number a rendition.
pub fn parse_quality(value: &str) -> Option<Option<usize>> {
    match value {
        QUALITY_AUTO => Some(None),
        n => n.parse().ok().map(Some),
    }
}

/// The quality menu's value for Auto.
pub const QUALITY_AUTO: &str = "auto";

/// Seconds behind the live edge past which "Go to live" and the "N s
/// behind live" readout are shown; they go again below
/// `BEHIND_LIVE_S - BEHIND_HYSTERESIS_S`, so that a latency wavering
/// around the line (segments arriving, the catch-up rate) doesn't flicker.
pub const BEHIND_LIVE_S: u32 = 10;
pub const BEHIND_HYSTERESIS_S: u32 = 3;

/// The quality menu's names for the renditions: "720p", with the bitrate
/// where two share a height ("720p · 3.2 Mbit/s"); "2.5 Mbit/s" when the
/// height is unknown (an audio-only or unnamed rendition).
pub fn level_labels(levels: &[Level]) -> Vec<String> {
    let rate = |l: &Level| {
        let tenths = (l.bitrate as u64 + 50_000) / 100_000;
        format!("{}.{} Mbit/s", tenths / 10, tenths % 10)
    };
    levels
        .iter()
        .map(|l| {
            let shared = levels.iter().filter(|o| o.height == l.height).count() > 1;
            match (l.height, shared) {
                (0, _) => rate(l),
                (h, false) => format!("{h}p"),
                (h, true) => format!("{h}p · {}", rate(l)),
            }
        })
        .collect()
}

/// After a pause this long, a live viewer resumes at live, not in the past
/// (hls.js #4681: latency drifts otherwise). Also the latency past which play
/// jumps to live.
pub const BACK_TO_LIVE_MS: u64 = 20_000;
/// A broadcast just ended: its recording appears in about this long.
pub const RECORDING_AFTER_END_MS: u64 = 2_000;

/// The whole player as the screen and hosts see it: one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub phase: Phase,
    /// When the phase began.
    pub since_ms: u64,
    /// What the viewer is told beside the headline (see `text::notice`).
    pub notice: Option<Notice>,
    /// Set in [`Phase::Error`] only.
    pub error: Option<ErrorCode>,
    /// When the player retries by itself.
    pub retry_at_ms: Option<u64>,
    /// The current or last broadcast.
    pub video_uid: Option<String>,
    pub viewers: Option<u64>,
    pub paused: bool,
    pub muted: bool,
    /// Autoplay with sound was refused and the player went on muted.
    pub muted_fallback: bool,
    pub buffering: bool,
    pub behind_live: bool,
    /// How far behind live, in seconds, while `behind_live`.
    pub behind_s: Option<u32>,
    /// The `<video>`'s volume, 0–100 (what the slider shows; 0 when muted).
    pub volume: u8,
    /// Picture-in-picture: `None` where the browser lacks it, else whether
    /// the video is in it.
    pub pip: Option<bool>,
    /// The quality menu's renditions (empty, and the menu hidden, on native
    /// HLS where the browser chooses, or with one rendition).
    pub levels: Vec<String>,
    /// The viewer's choice: a rendition, or `None` for Auto.
    pub quality: Option<usize>,
    /// The rendition playing now (shown beside Auto).
    pub level_playing: Option<usize>,
    /// A still of the last broadcast, behind the waiting and ended screens.
    pub thumbnail: Option<String>,
    /// Recordings ready to replay, newest first.
    pub recordings: Vec<Recording>,
    /// A recording is being prepared ("available shortly").
    pub processing: bool,
    /// The list could not be loaded (and there is none to show).
    pub recordings_failed: bool,
    /// The recording being replayed.
    pub replaying: Option<String>,
    /// A broadcast is live while the viewer replays.
    pub live_now: bool,
}

impl Default for View {
    /// Before the player starts.
    fn default() -> Self {
        View {
            phase: Phase::Loading,
            since_ms: 0,
            notice: None,
            error: None,
            retry_at_ms: None,
            video_uid: None,
            viewers: None,
            paused: true,
            muted: false,
            muted_fallback: false,
            buffering: false,
            behind_live: false,
            behind_s: None,
            volume: 100,
            pip: None,
            levels: Vec::new(),
            quality: None,
            level_playing: None,
            thumbnail: None,
            recordings: Vec::new(),
            processing: false,
            recordings_failed: false,
            replaying: None,
            live_now: false,
        }
    }
}

/// One playback's media state, reset whenever playback is replaced.
#[derive(Debug, Clone, Default)]
struct Media {
    buffering: bool,
    /// Seconds behind the live edge, when known, and whether that is
    /// behind (see [`BEHIND_LIVE_S`]).
    latency_s: Option<u32>,
    behind: bool,
    /// The renditions hls.js reported, the viewer's choice among them, and
    /// the one playing.
    levels: Vec<Level>,
    quality: Option<usize>,
    level_playing: Option<usize>,
    /// This playback has shown a frame.
    shown: bool,
    /// This playback has played (not only shown a frame): a wait before
    /// that is start-up, not a stall.
    played: bool,
    /// When the current stall began.
    stall_since_ms: Option<u64>,
    /// When the stall watch was set, to ignore a stale timer.
    stall_watch_ms: Option<u64>,
}

pub struct Player {
    machine: Machine,
    native: bool,
    mse: bool,
    media: Media,
    /// When the current playback was asked for, for the first-frame metric.
    load_asked_ms: u64,
    paused: bool,
    muted: bool,
    muted_fallback: bool,
    volume: u8,
    pip_available: bool,
    in_pip: bool,
    /// When the viewer paused, to go back to live on a late resume.
    paused_at_ms: Option<u64>,
    picture: (u32, u32),
    views_on: bool,
    views_failures: u32,
    views_retry_after_ms: Option<u64>,
    viewers: Option<u64>,
    recordings: Vec<Recording>,
    /// Uids the recordings endpoint lists as not ready yet.
    processing_uids: Vec<String>,
    recordings_failures: u32,
    recordings_failed: bool,
    /// The broadcast that ended last: its recording is on its way until the
    /// list has it, even while the list does not name it yet (a list cached
    /// just before the end knows nothing of it).
    awaited_recording: Option<String>,
    /// When the recordings list last had reason to change (load, an end).
    recordings_trigger_ms: u64,
    /// The source the viewing figures count a view of: a load of the same
    /// one (a rebuild after a stall or a network failure) continues it.
    qoe_source: Option<(String, bool, Option<String>)>,
    /// Signed tokens, when the broadcast is private (`tokenUrl`).
    access: Option<Access>,
    /// The private recording whose token is on its way.
    pending_replay: Option<String>,
    /// The private recording being replayed and its tokens, refreshed as
    /// the broadcast's are: a replay may outlast one (an hour by default).
    replay_access: Option<(String, Access)>,
}

impl Player {
    /// A new player and the commands that start it.
    pub fn new(config: PlayerConfig, caps: Caps, now_ms: u64) -> (Self, Vec<Command>) {
        let native = crate::engine::native(config.engine, caps);
        let muted = config.muted;
        let recordings = config.recordings.is_some();
        let signed = config.token_url.is_some();
        let (machine, mut machine_start) = Machine::new(config, PollPolicy::default(), now_ms);
        if signed {
            // A token first: lifecycle starts with it (`on_token`).
            machine_start.retain(|c| !matches!(c, Command::PollLifecycle { .. }));
            machine_start.push(Command::FetchToken { in_ms: 0 });
        }
        let mut out = vec![Command::UseEngine { native }, Command::SetMuted(muted)];
        if !native {
            // A viewer on a watch page is there for the broadcast: fetching
            // hls.js only once lifecycle says live added ~100 ms to first frame.
            out.push(Command::PrefetchHlsjs);
        }
        out.extend(machine_start);
        if recordings {
            out.push(Command::PollRecordings { in_ms: 0 });
        }
        let player = Player {
            machine,
            native,
            mse: caps.mse,
            media: Media::default(),
            load_asked_ms: now_ms,
            paused: true,
            muted,
            muted_fallback: false,
            volume: 100,
            pip_available: caps.pip,
            in_pip: false,
            paused_at_ms: None,
            picture: (0, 0),
            views_on: false,
            views_failures: 0,
            views_retry_after_ms: None,
            viewers: None,
            recordings: Vec::new(),
            processing_uids: Vec::new(),
            recordings_failures: 0,
            recordings_failed: false,
            awaited_recording: None,
            recordings_trigger_ms: now_ms,
            qoe_source: None,
            access: signed.then(Access::default),
            pending_replay: None,
            replay_access: None,
        };
        (player, out)
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// A token may have expired unseen (a tab asleep past its refresh):
    /// back in view, each token past its refresh time (the broadcast's,
    /// a private replay's) is asked again at once, and so is the
    /// broadcast's when delivery refuses it, unless one was just had.
    fn tokens_to_refetch(&self, event: &Event, now: u64, out: &mut Vec<Command>) {
        let back_in_view = matches!(event, Event::Visible);
        let refused = matches!(event, Event::Lifecycle(Err(FetchError::Status(401 | 403))));
        if let Some(access) = &self.access {
            if (back_in_view && access.overdue(now)) || (refused && access.refetch_on_refusal(now))
            {
                out.push(Command::FetchToken { in_ms: 0 });
            }
        }
        if let Some((uid, access)) = self.replay_access.as_ref().filter(|_| back_in_view) {
            if access.overdue(now) {
                out.push(Command::FetchVideoToken {
                    uid: uid.clone(),
                    in_ms: 0,
                });
            }
        }
    }

    pub fn step(&mut self, event: Event, ctx: Ctx) -> Vec<Command> {
        let before = self.machine.phase();
        let mut out = Vec::new();
        self.tokens_to_refetch(&event, ctx.now_ms, &mut out);
        match event {
            Event::FirstFrame => {
                self.media.shown = true;
                // Also for the viewing figures: the element's `loadeddata`
                // came before they listened when the player took over what
                // the page's loader started (a second one is ignored).
                out.push(Command::Qoe(QoeEv::FirstFrame));
                out.push(Command::Metric(Metric::FirstFrame {
                    ms: ctx.now_ms.saturating_sub(self.load_asked_ms),
                    hlsjs: !self.native,
                    live: before != Phase::Replay,
                }));
                out.extend(self.machine.step(Event::FirstFrame, ctx));
            }
            Event::Playback(issue) => self.on_issue(issue, ctx, &mut out),
            Event::Views(result) => self.on_views(result, ctx, &mut out),
            Event::Recordings(result) => self.on_recordings(result, ctx, &mut out),
            Event::Buffering(buffering) => self.on_buffering(buffering, ctx, &mut out),
            Event::Latency(s) => {
                let media = &mut self.media;
                media.latency_s = Some(s);
                media.behind = if media.behind {
                    s + BEHIND_HYSTERESIS_S >= BEHIND_LIVE_S
                } else {
                    s > BEHIND_LIVE_S
                };
            }
            Event::Volume(v) => self.volume = v.min(100),
            Event::Levels(levels) => {
                let media = &mut self.media;
                if media.quality.is_some_and(|q| q >= levels.len()) {
                    media.quality = None;
                }
                media.levels = levels;
            }
            Event::LevelPlaying(i) => self.media.level_playing = Some(i),
            Event::Pip(on) => self.in_pip = on,
            Event::StallDue => {
                let due = self
                    .media
                    .stall_watch_ms
                    .is_some_and(|t| ctx.now_ms + 5 >= t + STALL_TIMEOUT_MS);
                if due && self.media.buffering {
                    // Stuck: a playlist that stopped moving, a segment that
                    // never comes. Rebuild as after a network failure.
                    self.media.stall_watch_ms = None;
                    self.on_issue(PlaybackIssue::Network, ctx, &mut out);
                }
            }
            Event::Element { paused, muted } => {
                self.paused = paused;
                self.muted = muted;
                if !muted {
                    self.muted_fallback = false;
                }
            }
            Event::PlayRefused => {
                // Only a refusal of sound mutes: an AbortError from a reload
                // must not leave the viewer muted for good.
                if !self.muted {
                    self.muted = true;
                    self.muted_fallback = true;
                    out.push(Command::SetMuted(true));
                    out.push(Command::Play);
                }
            }
            Event::Resized { width, height } => {
                if width > 0 && (width, height) != self.picture {
                    self.picture = (width, height);
                    out.push(Command::Metric(Metric::Quality { width, height }));
                }
            }
            Event::TogglePlay { latency } => self.toggle_play(latency, ctx, &mut out),
            Event::Action(action) => self.on_action(action, ctx, &mut out),
            Event::Token(answer) => self.on_token(answer, ctx, &mut out),
            Event::VideoToken(answer) => self.on_video_token(answer, ctx, &mut out),
            event => out.extend(self.machine.step(event, ctx)),
        }
        self.follow(before, ctx, &mut out);
        if self.access.as_ref().is_some_and(|a| !a.has_token()) {
            // A private broadcast is never asked with the bare uid: it
            // would be refused, and the uid is not what viewers are given.
            out.retain(|c| !matches!(c, Command::PollLifecycle { .. } | Command::PollViews { .. }));
        }
        out
    }

    /// A private recording's token: the first replays it (a failure leaves
    /// the viewer where they were, to choose again); later ones, asked as
    /// the broadcast's are, well before the last expires, go into its
    /// delivery requests, so that a replay longer than a token's lifetime
    /// plays on.
    fn on_video_token(
        &mut self,
        answer: Result<crate::signed::TokenAnswer, FetchError>,
        ctx: Ctx,
        out: &mut Vec<Command>,
    ) {
        let (uid, mut access, first) = match (self.pending_replay.take(), self.replay_access.take())
        {
            (Some(uid), replaying) => {
                // Asking for it replaced the refresh of the replay on screen.
                self.replay_access = replaying;
                (uid, Access::default(), true)
            }
            (None, Some((uid, access))) if self.machine.replaying() == Some(uid.as_str()) => {
                (uid, access, false)
            }
            // The viewer left that replay meanwhile.
            (None, _) => return,
        };
        let source = crate::config::Source::Video(uid.clone());
        let step = access.on_answer(answer, &source, ctx.now_ms, ctx.rand01);
        if first && step.token.is_none() {
            if let Some((uid, access)) = &self.replay_access {
                out.push(Command::FetchVideoToken {
                    uid: uid.clone(),
                    in_ms: access.due_in(ctx.now_ms),
                });
            }
            return;
        }
        match step.token {
            Some(token) if first => {
                let url = self.machine.config().video_manifest_url(&token);
                let event = Event::PlayRecording {
                    uid: uid.clone(),
                    url,
                };
                out.extend(self.machine.step(event, ctx));
            }
            Some(token) => {
                self.machine.set_replay_token(&token);
                out.push(Command::SetVideoToken(token));
            }
            None => {}
        }
        out.push(Command::FetchVideoToken {
            uid: uid.clone(),
            in_ms: step.next_in_ms,
        });
        self.replay_access = Some((uid, access));
    }

    /// The token service answered: use the new token everywhere, start or
    /// resume lifecycle with it, or tell the viewer why there is none.
    fn on_token(
        &mut self,
        answer: Result<crate::signed::TokenAnswer, FetchError>,
        ctx: Ctx,
        out: &mut Vec<Command>,
    ) {
        let Some(access) = &mut self.access else {
            return;
        };
        let source = &self.machine.config().source;
        let step = access.on_answer(answer, source, ctx.now_ms, ctx.rand01);
        out.push(Command::FetchToken {
            in_ms: step.next_in_ms,
        });
        if let Some(token) = step.token {
            self.machine.set_token(token.clone());
            out.push(Command::SetToken(token));
            if step.first || self.machine.phase() == Phase::Error {
                out.push(Command::PollLifecycle { in_ms: 0 });
            }
        }
        if let Some((code, notice)) = step.failure {
            let retry_at = ctx.now_ms + step.next_in_ms;
            self.machine.access_failed(code, notice, retry_at, ctx);
        }
    }

    /// What the phase change and the machine's commands imply.
    fn follow(&mut self, before: Phase, ctx: Ctx, out: &mut Vec<Command>) {
        let (mut load, mut unload) = (false, false);
        for command in out.iter() {
            match command {
                Command::Load { .. } => load = true,
                Command::Unload => unload = true,
                _ => {}
            }
        }
        if load || unload {
            // Playback was replaced: its media state goes with it.
            self.media = Media::default();
        }
        if load {
            self.load_asked_ms = ctx.now_ms;
        }
        self.follow_qoe(before, out);
        if let Some((uid, _)) = &self.replay_access {
            if self.machine.replaying() != Some(uid.as_str()) {
                self.replay_access = None;
                out.push(Command::StopVideoToken);
            }
        }
        let phase = self.machine.phase();
        if phase == Phase::Ended && before != Phase::Ended && self.has_recordings() {
            // A broadcast just ended: its recording will appear shortly.
            self.recordings_trigger_ms = ctx.now_ms;
            self.recordings_failures = 0;
            self.awaited_recording = self.machine.video_uid().map(String::from);
            out.push(Command::PollRecordings {
                in_ms: RECORDING_AFTER_END_MS,
            });
        }
        let live = phase.on_air();
        if live && !self.views_on {
            self.views_on = true;
            out.push(Command::PollViews { in_ms: 0 });
        } else if !live && self.views_on {
            self.views_on = false;
            self.viewers = None;
            out.push(Command::StopViews);
        }
    }

    /// The viewing figures' facts: a view per source (a reload of the same
    /// source after a stall continues the view, as the viewer sees it; after
    /// a failure it is a new attempt), the wait for a broadcast (start-up is
    /// timed from "live"), a failure with its code, the end of a broadcast.
    fn follow_qoe(&mut self, before: Phase, out: &mut Vec<Command>) {
        let m = &self.machine;
        let phase = m.phase();
        let mut facts = Vec::new();
        if phase != before {
            match phase {
                Phase::Waiting => facts.push(QoeEv::Waiting),
                Phase::Ended => facts.push(QoeEv::Paused),
                // Only a failure of playback (a session to retry): lifecycle
                // failures with nothing playing are no view's.
                Phase::Error if m.session_live().is_some() => {
                    if let Some(code) = m.error_code() {
                        facts.push(QoeEv::Failed(code.as_str()));
                        self.qoe_source = None;
                    }
                }
                _ => {}
            }
        }
        let crate::config::Source::Input(input) = &m.config().source else {
            // Figures are kept per live input; one video has none.
            out.extend(facts.into_iter().map(Command::Qoe));
            return;
        };
        for command in out.iter() {
            let Command::Load { url, live } = command else {
                continue;
            };
            let video = if *live { m.video_uid() } else { m.replaying() };
            let key = (url.clone(), *live, video.map(str::to_string));
            if self.qoe_source.as_ref() == Some(&key) {
                continue;
            }
            facts.push(QoeEv::Source {
                input: input.clone(),
                video: key.2.clone(),
                kind: if *live { Kind::Live } else { Kind::Recording },
                engine: if self.native {
                    EngineName::Native
                } else {
                    EngineName::Hlsjs
                },
            });
            self.qoe_source = Some(key);
        }
        out.extend(facts.into_iter().map(Command::Qoe));
    }

    fn has_recordings(&self) -> bool {
        self.machine.config().recordings.is_some()
    }

    fn on_issue(&mut self, issue: PlaybackIssue, ctx: Ctx, out: &mut Vec<Command>) {
        // Chromium's native HLS can play a stream's first frame and then
        // fail to parse it (DEMUXER_ERROR_COULD_NOT_PARSE): the browser's
        // player can't handle this stream, so the rest of this session uses
        // hls.js where Media Source Extensions exist.
        let gave_up = matches!(issue, PlaybackIssue::Media | PlaybackIssue::NotPlayable);
        let issue = if self.native && self.media.shown && gave_up && self.mse {
            self.native = false;
            out.push(Command::UseEngine { native: false });
            PlaybackIssue::Other
        } else {
            issue
        };
        out.extend(self.machine.step(Event::Playback(issue), ctx));
    }

    fn on_buffering(&mut self, buffering: bool, ctx: Ctx, out: &mut Vec<Command>) {
        let media = &mut self.media;
        media.buffering = buffering;
        if buffering && media.played {
            media.stall_since_ms.get_or_insert(ctx.now_ms);
        } else if let Some(since) = media.stall_since_ms.take() {
            out.push(Command::Metric(Metric::Stall {
                ms: ctx.now_ms.saturating_sub(since),
            }));
        }
        if !buffering {
            media.played = media.shown;
            if media.stall_watch_ms.take().is_some() {
                out.push(Command::CancelStall);
            }
        } else if media.stall_watch_ms.is_none() {
            media.stall_watch_ms = Some(ctx.now_ms);
            out.push(Command::WatchStall {
                in_ms: STALL_TIMEOUT_MS,
            });
        }
    }

    fn toggle_play(&mut self, latency: Option<f64>, ctx: Ctx, out: &mut Vec<Command>) {
        if self.paused {
            let paused_long = self
                .paused_at_ms
                .take()
                .is_some_and(|t| ctx.now_ms.saturating_sub(t) > BACK_TO_LIVE_MS);
            let far_behind = latency.is_some_and(|l| l * 1_000.0 > BACK_TO_LIVE_MS as f64);
            let live = self.machine.session_live() == Some(true);
            out.push(if live && (paused_long || far_behind) {
                Command::GoLive
            } else {
                Command::Play
            });
        } else {
            self.paused_at_ms = Some(ctx.now_ms);
            out.push(Command::Pause);
        }
    }

    fn set_muted(&mut self, muted: bool, out: &mut Vec<Command>) {
        self.muted = muted;
        out.push(Command::SetMuted(muted));
        if !muted {
            self.muted_fallback = false;
            if self.paused && self.machine.session_live().is_some() {
                out.push(Command::Play);
            }
        }
    }

    fn on_action(&mut self, action: Action, ctx: Ctx, out: &mut Vec<Command>) {
        match action {
            // Without a token, "Try again" asks the token service.
            Action::Retry if self.access.as_ref().is_some_and(|a| !a.has_token()) => {
                out.push(Command::FetchToken { in_ms: 0 })
            }
            Action::Retry => out.extend(self.machine.step(Event::RetryNow, ctx)),
            // Without the latency at hand: the browser side asks with it.
            Action::Play | Action::Pause => self.toggle_play(None, ctx, out),
            Action::Mute => self.set_muted(true, out),
            Action::Unmute => self.set_muted(false, out),
            Action::GoLive => out.push(Command::GoLive),
            Action::Fullscreen => out.push(Command::ToggleFullscreen),
            Action::Volume(v) => {
                let v = v.min(100);
                self.volume = v;
                out.push(Command::SetVolume(v));
                // As on every video site: the slider at 0 is mute, and
                // moving it up unmutes.
                if (v == 0) != self.muted {
                    self.set_muted(v == 0, out);
                }
            }
            Action::Pip => {
                if self.pip_available {
                    out.push(Command::TogglePip);
                }
            }
            Action::Quality(q) => {
                let media = &mut self.media;
                if q.is_none_or(|i| i < media.levels.len()) {
                    media.quality = q;
                    out.push(Command::SetLevel(q));
                }
            }
            Action::PlayRecording(uid) => {
                let url = self
                    .recordings
                    .iter()
                    .find(|r| r.uid == uid)
                    .map(|r| r.hls.clone());
                match url {
                    // A private recording: its token first (none without
                    // a token service).
                    Some(url) if url.is_empty() && self.access.is_some() => {
                        self.pending_replay = Some(uid.clone());
                        out.push(Command::FetchVideoToken { uid, in_ms: 0 });
                    }
                    Some(url) if url.is_empty() => {}
                    Some(url) => {
                        out.extend(self.machine.step(Event::PlayRecording { uid, url }, ctx))
                    }
                    None => {}
                }
            }
            Action::LeaveReplay => out.extend(self.machine.step(Event::LeaveReplay, ctx)),
            Action::RetryRecordings => {
                self.recordings_trigger_ms = ctx.now_ms;
                self.recordings_failures = 0;
                if self.has_recordings() {
                    out.push(Command::PollRecordings { in_ms: 0 });
                }
            }
        }
    }

    fn on_views(
        &mut self,
        result: Result<crate::cloudflare::Views, FetchError>,
        ctx: Ctx,
        out: &mut Vec<Command>,
    ) {
        if !self.views_on {
            return; // A late answer after the broadcast.
        }
        match result {
            Ok(v) => {
                self.views_failures = 0;
                self.views_retry_after_ms = None;
                self.viewers = Some(v.live_viewers);
            }
            Err(e) => {
                self.views_failures = self.views_failures.saturating_add(1);
                self.views_retry_after_ms = match e {
                    FetchError::RateLimited { retry_after_ms } => retry_after_ms,
                    _ => None,
                };
                // A count we can't refresh is hidden rather than shown stale.
                self.viewers = None;
            }
        }
        let in_ms = self.machine.policy().next_delay(
            Poll::Views,
            self.views_failures,
            self.views_retry_after_ms,
            ctx.hidden,
            ctx.rand01,
        );
        out.push(Command::PollViews { in_ms });
    }

    fn on_recordings(
        &mut self,
        result: Result<RecordingList, FetchError>,
        ctx: Ctx,
        out: &mut Vec<Command>,
    ) {
        match result {
            Ok(list) => {
                self.recordings_failures = 0;
                self.processing_uids = list.processing.into_iter().map(|p| p.uid).collect();
                self.recordings_failed = false;
                self.recordings = list.recordings;
            }
            Err(_) => {
                self.recordings_failures = self.recordings_failures.saturating_add(1);
                // A list already shown stays; the note is for an empty one.
                self.recordings_failed = self.recordings.is_empty();
            }
        }
        let since = ctx.now_ms.saturating_sub(self.recordings_trigger_ms);
        if since >= crate::policy::RECORDINGS_WINDOW_MS {
            // Not listed in five minutes: it will not be (a failed recording).
            self.awaited_recording = None;
        }
        // Before the first lifecycle answer (a private broadcast's player
        // waits for its token first) it is not known which listed
        // broadcast is on air: ask again rather than stop for good.
        let unknown = self.machine.phase() == Phase::Loading && !self.processing_uids.is_empty();
        let processing = self.processing() || unknown;
        let live = self.machine.phase().on_air();
        if let Some(in_ms) = recordings_refresh(
            self.recordings_failures,
            processing,
            live,
            since,
            ctx.rand01,
        ) {
            out.push(Command::PollRecordings { in_ms });
        }
    }

    /// Whether a finished broadcast's recording is on its way. The broadcast
    /// on air is listed as processing too, and before the first lifecycle
    /// answer it is not known which one that is.
    fn processing(&self) -> bool {
        let m = &self.machine;
        let on_air = m
            .live_now()
            .or_else(|| m.video_uid().filter(|_| m.phase().on_air()));
        let awaited = self
            .awaited_recording
            .as_deref()
            .is_some_and(|a| Some(a) != on_air && !self.recordings.iter().any(|r| r.uid == a));
        m.phase() != Phase::Loading
            && (awaited
                || self
                    .processing_uids
                    .iter()
                    .any(|uid| Some(uid.as_str()) != on_air))
    }

    /// The one snapshot of the player.
    pub fn view(&self) -> View {
        let m = &self.machine;
        let phase = m.phase();
        // Only behind the waiting and ended screens: no download while live.
        let thumbnail = m
            .video_uid()
            .filter(|_| matches!(phase, Phase::Waiting | Phase::Ended))
            .and_then(|uid| m.config().thumbnail_url(uid, 360));
        let behind_live = self.media.behind && phase.on_air();
        View {
            phase,
            since_ms: m.since_ms(),
            notice: m.notice(),
            error: m.error_code(),
            retry_at_ms: m.retry_at_ms(),
            video_uid: m.video_uid().map(str::to_string),
            viewers: self.viewers,
            paused: self.paused,
            muted: self.muted,
            muted_fallback: self.muted_fallback,
            buffering: self.media.buffering,
            behind_live,
            behind_s: self.media.latency_s.filter(|_| behind_live),
            volume: if self.muted { 0 } else { self.volume },
            pip: self.pip_available.then_some(self.in_pip),
            levels: if self.media.levels.len() > 1 {
                level_labels(&self.media.levels)
            } else {
                Vec::new()
            },
            quality: self.media.quality,
            level_playing: self.media.level_playing,
            thumbnail,
            recordings: self.recordings.clone(),
            processing: self.processing(),
            recordings_failed: self.recordings_failed,
            replaying: m.replaying().map(str::to_string),
            live_now: m.live_now().is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::{Lifecycle, Views};
    use crate::config::RawConfig;
    use crate::fixtures::{at, idle, live};
    use crate::recordings::Processing;

    const MANIFEST: &str = "http://o/in1/manifest/video.m3u8";

    fn config(engine: &str, recordings: bool) -> PlayerConfig {
        let raw = RawConfig {
            input: Some("in1".into()),
            engine: Some(engine.into()),
            recordings: recordings.then(|| "/api/inputs/in1/recordings".into()),
            ..Default::default()
        };
        PlayerConfig::parse(&raw, "http://o").unwrap()
    }
    /// Safari: `auto` plays natively.
    const NATIVE: Caps = Caps {
        native_hls: true,
        mse: true,
        family: Family::Apple,
        pip: true,
    };
    fn views(n: u64) -> Event {
        Event::Views(Ok(Views { live_viewers: n }))
    }
    fn recording(uid: &str) -> Recording {
        Recording {
            uid: uid.into(),
            name: uid.into(),
            created: "2026-11-30T10:00:00Z".into(),
            duration_seconds: 60.0,
            thumbnail: format!("http://o/{uid}/thumb.jpg"),
            hls: format!("http://o/{uid}/manifest/video.m3u8"),
        }
    }
    fn list(ready: &[&str], processing: &[&str]) -> Event {
        Event::Recordings(Ok(RecordingList {
            input_uid: "in1".into(),
            recordings: ready.iter().map(|u| recording(u)).collect(),
            processing: processing
                .iter()
                .map(|u| Processing {
                    uid: u.to_string(),
                    name: String::new(),
                    created: String::new(),
                    state: "inprogress".into(),
                })
                .collect(),
        }))
    }
    fn playing() -> Event {
        Event::Element {
            paused: false,
            muted: false,
        }
    }

    /// Runs events from a fresh player, returning it and the last commands.
    /// The last step's commands, without the viewing figures' facts
    /// (`qoe_facts` has those).
    fn run(config: PlayerConfig, caps: Caps, events: &[(u64, Event)]) -> (Player, Vec<Command>) {
        let (mut p, mut cmds) = Player::new(config, caps, 0);
        for (t, e) in events {
            cmds = p.step(e.clone(), at(*t));
            cmds.retain(|c| !matches!(c, Command::Qoe(_)));
        }
        (p, cmds)
    }

    /// Every viewing-figures fact of all the steps, in order.
    fn run_qoe(config: PlayerConfig, caps: Caps, events: &[(u64, Event)]) -> Vec<QoeEv> {
        let (mut p, _) = Player::new(config, caps, 0);
        let mut facts = Vec::new();
        for (t, e) in events {
            for c in p.step(e.clone(), at(*t)) {
                if let Command::Qoe(ev) = c {
                    facts.push(ev);
                }
            }
        }
        facts
    }

    #[test]
    fn qoe_facts() {
        let source = |video: &str, kind, engine| QoeEv::Source {
            input: "in1".into(),
            video: Some(video.into()),
            kind,
            engine,
        };
        let live_a = source("a", Kind::Live, EngineName::Native);
        let stall = Event::Playback(PlaybackIssue::Network);
        type Case = (&'static str, &'static str, Vec<(u64, Event)>, Vec<QoeEv>);
        let cases: Vec<Case> = vec![
            (
                "a broadcast that is live at once: one source, its first frame",
                "auto",
                vec![(0, live("a")), (10, Event::FirstFrame)],
                vec![live_a.clone(), QoeEv::FirstFrame],
            ),
            (
                "waiting first: start-up is timed from live",
                "auto",
                vec![(0, idle()), (5_000, live("a"))],
                vec![QoeEv::Waiting, live_a.clone()],
            ),
            (
                "hls.js named as the engine",
                "hlsjs",
                vec![(0, live("a"))],
                vec![source("a", Kind::Live, EngineName::Hlsjs)],
            ),
            (
                "a rebuild after a network failure continues the view",
                "auto",
                vec![
                    (0, live("a")),
                    (10, Event::FirstFrame),
                    (5_000, stall.clone()),
                    (6_000, Event::RetryDue),
                    (7_000, Event::FirstFrame),
                ],
                vec![live_a.clone(), QoeEv::FirstFrame, QoeEv::FirstFrame],
            ),
            (
                "a failure the player gives up on, then its retry: a new attempt",
                "auto",
                vec![
                    (0, live("a")),
                    (100, stall.clone()),
                    (70_000, stall.clone()),
                    (80_000, Event::RetryDue),
                ],
                vec![live_a.clone(), QoeEv::Failed("playback"), live_a.clone()],
            ),
            (
                "the next broadcast on the same input is another view",
                "auto",
                vec![
                    (0, live("a")),
                    (10, Event::FirstFrame),
                    (60_000, Event::MediaEnded),
                    (70_000, live("b")),
                ],
                vec![
                    live_a.clone(),
                    QoeEv::FirstFrame,
                    QoeEv::Paused,
                    source("b", Kind::Live, EngineName::Native),
                ],
            ),
            (
                "lifecycle failures with nothing playing are no view's",
                "auto",
                vec![
                    (0, Event::Lifecycle(Err(FetchError::Network))),
                    (1_000, Event::Lifecycle(Err(FetchError::Network))),
                ],
                vec![],
            ),
        ];
        for (name, engine, events, want) in cases {
            assert_eq!(
                run_qoe(config(engine, false), NATIVE, &events),
                want,
                "{name}"
            );
        }
        // A recording picked from the list is a recording view.
        let events = vec![
            (0, idle()),
            (1, list(&["r1"], &[])),
            (2, Event::Action(Action::PlayRecording("r1".into()))),
        ];
        assert_eq!(
            run_qoe(config("auto", true), NATIVE, &events),
            vec![
                QoeEv::Waiting,
                source("r1", Kind::Recording, EngineName::Native)
            ]
        );
        // One video (no input): no figures.
        let raw = RawConfig {
            video: Some("v1".into()),
            ..Default::default()
        };
        let one = PlayerConfig::parse(&raw, "http://o").unwrap();
        let facts = run_qoe(one, NATIVE, &[(0, live("v1")), (10, Event::FirstFrame)]);
        assert!(
            facts.iter().all(|f| !matches!(f, QoeEv::Source { .. })),
            "{facts:?}"
        );
    }

    #[test]
    fn starts_with_the_engine_the_browser_and_config_allow() {
        use Command::*;
        let (_, cmds) = Player::new(config("auto", false), NATIVE, 0);
        assert_eq!(
            cmds,
            vec![
                UseEngine { native: true },
                SetMuted(false),
                PollLifecycle { in_ms: 0 }
            ]
        );
        let no_native = Caps {
            native_hls: false,
            mse: true,
            family: Family::Gecko,
            pip: false,
        };
        let (_, cmds) = Player::new(config("auto", true), no_native, 0);
        assert_eq!(
            cmds,
            vec![
                UseEngine { native: false },
                SetMuted(false),
                PrefetchHlsjs,
                PollLifecycle { in_ms: 0 },
                PollRecordings { in_ms: 0 }
            ]
        );
        // Chromium plays HLS itself but keeps all of it: hls.js (engine.rs).
        let chromium = Caps {
            family: Family::Chromium,
            ..NATIVE
        };
        let (_, cmds) = Player::new(config("auto", false), chromium, 0);
        assert_eq!(
            cmds[..3],
            [UseEngine { native: false }, SetMuted(false), PrefetchHlsjs]
        );
        let (_, cmds) = Player::new(config("hlsjs", false), NATIVE, 0);
        assert_eq!(cmds[0], UseEngine { native: false });
        let (_, cmds) = Player::new(config("native", false), no_native, 0);
        assert_eq!(cmds[0], UseEngine { native: true });
    }

    #[test]
    fn rules_case_table() {
        use Command::*;
        let rate_limited = |ms| {
            Event::Views(Err(FetchError::RateLimited {
                retry_after_ms: Some(ms),
            }))
        };
        // (name, engine, events, commands of the last one)
        type Case = (&'static str, &'static str, Vec<(u64, Event)>, Vec<Command>);
        let cases: Vec<Case> = vec![
            (
                "views are polled from the start of a broadcast",
                "auto",
                vec![(0, live("a"))],
                vec![
                    CancelRetry,
                    Load {
                        url: MANIFEST.into(),
                        live: true,
                    },
                    PollLifecycle { in_ms: 20_000 },
                    PollViews { in_ms: 0 },
                ],
            ),
            (
                "then every 30 s",
                "auto",
                vec![(0, live("a")), (100, views(3))],
                vec![PollViews { in_ms: 30_000 }],
            ),
            (
                "a 429's Retry-After is a floor",
                "auto",
                vec![(0, live("a")), (100, rate_limited(30_000))],
                vec![PollViews { in_ms: 33_000 }],
            ),
            (
                "failures back off as every retry",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::Views(Err(FetchError::Network))),
                    (2, Event::Views(Err(FetchError::Network))),
                    (3, Event::Views(Err(FetchError::Network))),
                    (4, Event::Views(Err(FetchError::Network))),
                    (5, Event::Views(Err(FetchError::Network))),
                ],
                vec![PollViews { in_ms: 32_000 }],
            ),
            (
                "views stop with the broadcast",
                "auto",
                vec![(0, live("a")), (1, Event::FirstFrame), (20_000, idle())],
                vec![
                    CancelRetry,
                    Unload,
                    PollLifecycle { in_ms: 6_000 },
                    StopViews,
                ],
            ),
            (
                "a late views answer is ignored",
                "auto",
                vec![(0, live("a")), (20_000, idle()), (20_001, views(3))],
                vec![],
            ),
            (
                "native gives up after a frame: hls.js from now on",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Playback(PlaybackIssue::Media)),
                ],
                vec![
                    UseEngine { native: false },
                    Unload,
                    RetryPlayback { in_ms: 1_000 },
                ],
            ),
            (
                "native fails before any frame: recover as usual",
                "auto",
                vec![(0, live("a")), (2, Event::Playback(PlaybackIssue::Media))],
                vec![RecoverMedia],
            ),
            (
                "hls.js media errors are recovered, not switched",
                "hlsjs",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Playback(PlaybackIssue::Media)),
                ],
                vec![RecoverMedia],
            ),
            (
                "pause remembers when",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, playing()),
                    (3, Event::TogglePlay { latency: None }),
                ],
                vec![Pause],
            ),
            (
                "a short pause resumes where it was",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, playing()),
                    (3, Event::TogglePlay { latency: None }),
                    (
                        4,
                        Event::Element {
                            paused: true,
                            muted: false,
                        },
                    ),
                    (
                        10_000,
                        Event::TogglePlay {
                            latency: Some(10.0),
                        },
                    ),
                ],
                vec![Play],
            ),
            (
                "a long pause goes back to live",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, playing()),
                    (3, Event::TogglePlay { latency: None }),
                    (
                        4,
                        Event::Element {
                            paused: true,
                            muted: false,
                        },
                    ),
                    (21_000, Event::TogglePlay { latency: None }),
                ],
                vec![GoLive],
            ),
            (
                "far behind live goes back to live",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (
                        5,
                        Event::TogglePlay {
                            latency: Some(25.0),
                        },
                    ),
                ],
                vec![GoLive],
            ),
            (
                "a wait before playing is start-up, not a stall",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Buffering(true)),
                ],
                vec![WatchStall {
                    in_ms: STALL_TIMEOUT_MS,
                }],
            ),
            (
                "buffering too long rebuilds playback",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Buffering(true)),
                    (15_002, Event::StallDue),
                ],
                vec![Unload, RetryPlayback { in_ms: 1_000 }],
            ),
            (
                "a stale stall timer is ignored",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Buffering(true)),
                    (3, Event::Buffering(false)),
                    (10_000, Event::Buffering(true)),
                    (15_002, Event::StallDue),
                ],
                vec![],
            ),
            (
                "a stall after playing is measured",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (2, Event::Buffering(false)),
                    (1_000, Event::Buffering(true)),
                    (1_700, Event::Buffering(false)),
                ],
                vec![
                    Metric(crate::events::Metric::Stall { ms: 700 }),
                    CancelStall,
                ],
            ),
            (
                "first frame is measured from the load",
                "hlsjs",
                vec![(1_000, live("a")), (1_450, Event::FirstFrame)],
                vec![Metric(crate::events::Metric::FirstFrame {
                    ms: 450,
                    hlsjs: true,
                    live: true,
                })],
            ),
            (
                "autoplay with sound refused: go on muted",
                "auto",
                vec![(0, live("a")), (1, Event::PlayRefused)],
                vec![SetMuted(true), Play],
            ),
            (
                "unmuting a paused playback plays it",
                "auto",
                vec![
                    (0, live("a")),
                    (1, Event::PlayRefused),
                    (
                        2,
                        Event::Element {
                            paused: true,
                            muted: true,
                        },
                    ),
                    (3, Event::Action(Action::Unmute)),
                ],
                vec![SetMuted(false), Play],
            ),
            (
                "the same picture size is reported once",
                "auto",
                vec![
                    (
                        0,
                        Event::Resized {
                            width: 640,
                            height: 360,
                        },
                    ),
                    (
                        1,
                        Event::Resized {
                            width: 640,
                            height: 360,
                        },
                    ),
                ],
                vec![],
            ),
        ];
        for (name, engine, events, want) in cases {
            let (_, got) = run(config(engine, false), NATIVE, &events);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn refused_again_while_muted_does_nothing() {
        let (p, cmds) = run(
            config("auto", false),
            NATIVE,
            &[
                (0, live("a")),
                (1, Event::PlayRefused),
                (2, Event::PlayRefused),
            ],
        );
        assert_eq!(cmds, vec![]);
        assert!(p.view().muted_fallback && p.view().muted);
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[(0, live("a")), (1, Event::PlayRefused), (2, playing())],
        );
        assert!(!p.view().muted_fallback, "unmuted by the viewer");
    }

    #[test]
    fn viewers_show_while_live_and_hide_when_unknown() {
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[(0, live("a")), (1, views(1234))],
        );
        assert_eq!(p.view().viewers, Some(1234));
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[
                (0, live("a")),
                (1, views(1234)),
                (2, Event::Views(Err(FetchError::Timeout))),
            ],
        );
        assert_eq!(p.view().viewers, None);
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[(0, live("a")), (1, views(12)), (20_000, idle())],
        );
        assert_eq!(p.view().viewers, None);
    }

    #[test]
    fn recordings_case_table() {
        use Command::*;
        // (name, events, commands of the last one, processing, failed, listed)
        type Case = (
            &'static str,
            Vec<(u64, Event)>,
            Vec<Command>,
            bool,
            bool,
            usize,
        );
        let failed = || Event::Recordings(Err(FetchError::Status(500)));
        let cases: Vec<Case> = vec![
            (
                "all ready: no more polls",
                vec![(0, idle()), (1, list(&["r1"], &[]))],
                vec![],
                false,
                false,
                1,
            ),
            (
                "one on its way: every 30 s",
                vec![(0, idle()), (1, list(&["r1"], &["r2"]))],
                vec![PollRecordings { in_ms: 30_000 }],
                true,
                false,
                1,
            ),
            (
                "the previous broadcast's, while the next is live: every 60 s",
                vec![(0, live("b")), (1, list(&["r1"], &["a"]))],
                vec![PollRecordings { in_ms: 60_000 }],
                true,
                false,
                1,
            ),
            (
                "the broadcast on air is not 'on its way'",
                vec![(0, live("a")), (1, list(&[], &["a"]))],
                vec![],
                false,
                false,
                0,
            ),
            (
                // Regression: this stopped the poll for good, and a private
                // player (lifecycle after its token) said "available
                // shortly" forever.
                "before lifecycle answers nothing is 'on its way', but the list is asked again",
                vec![(1, list(&[], &["a"]))],
                vec![PollRecordings { in_ms: 30_000 }],
                false,
                false,
                0,
            ),
            (
                "a failure backs off, the note is for an empty list",
                vec![(0, idle()), (1, failed())],
                vec![PollRecordings { in_ms: 2_000 }],
                false,
                true,
                0,
            ),
            (
                "a list shown stays on failure",
                vec![
                    (0, idle()),
                    (1, list(&["r1"], &[])),
                    (2, failed()),
                    (3, failed()),
                ],
                vec![PollRecordings { in_ms: 4_000 }],
                false,
                false,
                1,
            ),
            (
                "after five minutes the list stops polling",
                vec![(0, idle()), (300_000, list(&["r1"], &["r2"]))],
                vec![],
                true,
                false,
                1,
            ),
            (
                "the end of a broadcast asks again soon, the window restarts",
                vec![(0, live("a")), (1, Event::FirstFrame), (400_000, idle())],
                vec![
                    CancelRetry,
                    Unload,
                    PollLifecycle { in_ms: 6_000 },
                    PollRecordings { in_ms: 2_000 },
                    StopViews,
                ],
                true,
                false,
                0,
            ),
            (
                "then polls while its recording is processed",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (400_000, idle()),
                    (402_000, list(&[], &["a"])),
                ],
                vec![PollRecordings { in_ms: 30_000 }],
                true,
                false,
                0,
            ),
            (
                "an ended broadcast the list does not name yet is still awaited",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (400_000, idle()),
                    (402_000, list(&["r1"], &[])),
                ],
                vec![PollRecordings { in_ms: 30_000 }],
                true,
                false,
                1,
            ),
            (
                "until the list has it",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (400_000, idle()),
                    (402_000, list(&["r1"], &[])),
                    (417_000, list(&["a", "r1"], &[])),
                ],
                vec![],
                false,
                false,
                2,
            ),
            (
                "or five minutes have passed",
                vec![
                    (0, live("a")),
                    (1, Event::FirstFrame),
                    (400_000, idle()),
                    (700_000, list(&["r1"], &[])),
                ],
                vec![],
                false,
                false,
                1,
            ),
            (
                "the viewer asks again",
                vec![
                    (0, idle()),
                    (1, failed()),
                    (2, Event::Action(Action::RetryRecordings)),
                ],
                vec![PollRecordings { in_ms: 0 }],
                false,
                true,
                0,
            ),
        ];
        for (name, events, want, processing, failed, listed) in cases {
            let (p, got) = run(config("auto", true), NATIVE, &events);
            assert_eq!(got, want, "{name}");
            let v = p.view();
            assert_eq!(
                (v.processing, v.recordings_failed, v.recordings.len()),
                (processing, failed, listed),
                "{name}"
            );
        }
    }

    #[test]
    fn a_recording_is_played_by_its_uid() {
        let (mut p, _) = run(
            config("auto", true),
            NATIVE,
            &[(0, idle()), (1, list(&["r1"], &[]))],
        );
        assert_eq!(
            p.step(Event::Action(Action::PlayRecording("nope".into())), at(2)),
            vec![]
        );
        let cmds = p.step(Event::Action(Action::PlayRecording("r1".into())), at(3));
        assert!(cmds.contains(&Command::Load {
            url: "http://o/r1/manifest/video.m3u8".into(),
            live: false
        }));
        let v = p.view();
        assert_eq!(
            (v.phase, v.replaying.as_deref()),
            (Phase::Replay, Some("r1"))
        );
        // Replays play with sound and are not "behind live".
        let cmds = p.step(
            Event::TogglePlay {
                latency: Some(99.0),
            },
            at(4),
        );
        assert_eq!(cmds, vec![Command::Play]);
    }

    #[test]
    fn the_view_shows_a_still_only_while_waiting_or_ended() {
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[(0, live("a")), (1, Event::FirstFrame)],
        );
        assert_eq!(p.view().thumbnail, None);
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[(0, live("a")), (1, Event::FirstFrame), (20_000, idle())],
        );
        assert!(p.view().thumbnail.is_some_and(|t| t.contains("/a/")));
    }

    #[test]
    fn playback_media_state_goes_with_the_playback() {
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[
                (0, live("a")),
                (1, Event::FirstFrame),
                (2, Event::Buffering(true)),
                (3, Event::Latency(25)),
            ],
        );
        let v = p.view();
        assert!(v.buffering && v.behind_live);
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[
                (0, live("a")),
                (1, Event::FirstFrame),
                (2, Event::Buffering(true)),
                (3, Event::Latency(25)),
                (20_000, idle()),
            ],
        );
        let v = p.view();
        assert!(!v.buffering && !v.behind_live);
    }

    #[test]
    fn behind_live_readout_shows_past_ten_seconds_while_live() {
        // (latencies reported in turn, phase live?, behind_live, behind_s)
        let table: &[(&[u32], bool, bool, Option<u32>)] = &[
            (&[], true, false, None),
            (&[4], true, false, None),
            (&[10], true, false, None),
            (&[11], true, true, Some(11)),
            (&[37], true, true, Some(37)),
            (&[37], false, false, None),
            // Once behind, it stays down to 7 s: no flicker around 10.
            (&[12, 9], true, true, Some(9)),
            (&[12, 7], true, true, Some(7)),
            (&[12, 6], true, false, None),
            (&[12, 6, 9], true, false, None),
            (&[12, 6, 11], true, true, Some(11)),
        ];
        for (latencies, live_now, behind, secs) in table.iter().copied() {
            let latency = latencies;
            let mut events = vec![(0, live("a")), (1, Event::FirstFrame)];
            for (i, s) in latencies.iter().enumerate() {
                events.push((2 + i as u64, Event::Latency(*s)));
            }
            if !live_now {
                events.push((3, Event::Action(Action::Pause)));
                events.push((20_000, idle()));
            }
            let (p, _) = run(config("auto", false), NATIVE, &events);
            let v = p.view();
            assert_eq!(
                (v.behind_live, v.behind_s),
                (behind, secs),
                "{latency:?} {live_now}"
            );
        }
    }

    #[test]
    fn volume_slider_sets_volume_and_mutes_at_zero() {
        use Command::*;
        // (muted before, slider value) → commands, view volume
        let table: &[(bool, u8, &[Command], u8)] = &[
            (false, 40, &[SetVolume(40)], 40),
            (false, 0, &[SetVolume(0), SetMuted(true)], 0),
            (true, 30, &[SetVolume(30), SetMuted(false)], 30),
            (true, 0, &[SetVolume(0)], 0),
            (false, 250, &[SetVolume(100)], 100),
        ];
        for (muted, value, want, shown) in table {
            let mut events = vec![
                (0, live("a")),
                (1, Event::FirstFrame),
                (
                    2,
                    Event::Element {
                        paused: false,
                        muted: *muted,
                    },
                ),
            ];
            events.push((3, Event::Action(Action::Volume(*value))));
            let (p, cmds) = run(config("auto", false), NATIVE, &events);
            assert_eq!(cmds, *want, "muted {muted}, {value}");
            assert_eq!(p.view().volume, *shown, "muted {muted}, {value}");
        }
        // The element's own volume is what shows; muted shows 0.
        let (p, _) = run(config("auto", false), NATIVE, &[(0, Event::Volume(55))]);
        assert_eq!(p.view().volume, 55);
        let (p, _) = run(
            config("auto", false),
            NATIVE,
            &[
                (0, Event::Volume(55)),
                (
                    1,
                    Event::Element {
                        paused: true,
                        muted: true,
                    },
                ),
            ],
        );
        assert_eq!(p.view().volume, 0);
    }

    #[test]
    fn picture_in_picture_only_where_the_browser_has_it() {
        let (p, cmds) = run(
            config("auto", false),
            NATIVE,
            &[(0, Event::Action(Action::Pip))],
        );
        assert_eq!(cmds, vec![Command::TogglePip]);
        assert_eq!(p.view().pip, Some(false));
        let (p, _) = run(config("auto", false), NATIVE, &[(0, Event::Pip(true))]);
        assert_eq!(p.view().pip, Some(true));
        let none = Caps {
            pip: false,
            ..NATIVE
        };
        let (p, cmds) = run(
            config("auto", false),
            none,
            &[(0, Event::Action(Action::Pip))],
        );
        assert!(cmds.is_empty());
        assert_eq!(p.view().pip, None);
    }

    #[test]
    fn quality_menu_lists_renditions_and_switches() {
        let ladder = vec![
            Level {
                height: 720,
                bitrate: 2_500_000,
            },
            Level {
                height: 360,
                bitrate: 800_000,
            },
        ];
        let start = vec![
            (0, live("a")),
            (1, Event::Levels(ladder.clone())),
            (2, Event::LevelPlaying(1)),
        ];
        let (p, _) = run(config("hlsjs", false), NATIVE, &start);
        let v = p.view();
        assert_eq!(v.levels, ["720p", "360p"]);
        assert_eq!((v.quality, v.level_playing), (None, Some(1)));
        // (choice) → command, view's choice
        let table = [
            (Some(0), Some(Command::SetLevel(Some(0))), Some(0)),
            (None, Some(Command::SetLevel(None)), None),
            (Some(2), None, None),
        ];
        for (choice, command, want) in table {
            let mut events = start.clone();
            events.push((3, Event::Action(Action::Quality(choice))));
            let (p, cmds) = run(config("hlsjs", false), NATIVE, &events);
            assert_eq!(cmds, command.into_iter().collect::<Vec<_>>(), "{choice:?}");
            assert_eq!(p.view().quality, want, "{choice:?}");
        }
        // One rendition, or native HLS (no levels): no menu.
        let (p, _) = run(
            config("hlsjs", false),
            NATIVE,
            &[(0, live("a")), (1, Event::Levels(ladder[..1].to_vec()))],
        );
        assert!(p.view().levels.is_empty());
        // A new playback forgets the old ladder and the choice.
        let mut events = start.clone();
        events.push((3, Event::Action(Action::Quality(Some(0)))));
        events.push((
            4,
            Event::Lifecycle(Ok(Lifecycle {
                is_input: true,
                video_uid: None,
                live: false,
            })),
        ));
        let (p, _) = run(config("hlsjs", false), NATIVE, &events);
        let v = p.view();
        assert!(v.levels.is_empty() && v.quality.is_none());
    }

    #[test]
    fn rendition_labels() {
        let l = |height, bitrate| Level { height, bitrate };
        let table: &[(&[Level], &[&str])] = &[
            (
                &[l(1080, 5_000_000), l(720, 2_500_000), l(360, 800_000)],
                &["1080p", "720p", "360p"],
            ),
            (
                &[l(720, 3_200_000), l(720, 1_500_000)],
                &["720p · 3.2 Mbit/s", "720p · 1.5 Mbit/s"],
            ),
            (&[l(0, 128_000), l(360, 800_000)], &["0.1 Mbit/s", "360p"]),
        ];
        for (levels, want) in table {
            assert_eq!(level_labels(levels), *want);
        }
    }

    #[test]
    fn control_values() {
        for (text, want) in [
            ("0", Some(0)),
            ("40", Some(40)),
            ("42.5", None),
            ("250", Some(100)),
            ("-3", None),
            (" 35 ", Some(35)),
            ("", None),
            ("NaN", None),
            ("x", None),
        ] {
            assert_eq!(parse_volume(text), want, "{text:?}");
        }
        for (text, want) in [
            ("auto", Some(None)),
            ("0", Some(Some(0))),
            ("3", Some(Some(3))),
            ("-1", None),
            ("", None),
        ] {
            assert_eq!(parse_quality(text), want, "{text:?}");
        }
    }

    fn private() -> PlayerConfig {
        let raw = RawConfig {
            input: Some("in1".into()),
            engine: Some("hlsjs".into()),
            token_url: Some("/api/rooms/r/viewer-token".into()),
            ..Default::default()
        };
        PlayerConfig::parse(&raw, "http://o").unwrap()
    }
    fn token(t: &str) -> Event {
        Event::Token(Ok(crate::signed::TokenAnswer {
            token: t.into(),
            sub: "in1".into(),
            ttl_ms: 60_000,
        }))
    }

    #[test]
    fn private_broadcast_case_table() {
        use Command as C;
        let refused = || Event::Token(Err(FetchError::Status(401)));
        let asks = |c: &[Command]| c.iter().any(|c| matches!(c, C::PollLifecycle { .. }));
        // (what, events, phase after, notice, commands of the last step that
        // must be there, lifecycle asked in the last step)
        type Case = (
            &'static str,
            Vec<(u64, Event)>,
            Phase,
            Option<Notice>,
            Vec<Command>,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "a token first, then lifecycle with it",
                vec![(0, token("t1"))],
                Phase::Loading,
                None,
                vec![
                    C::FetchToken { in_ms: 48_000 },
                    C::SetToken("t1".into()),
                    C::PollLifecycle { in_ms: 0 },
                ],
                true,
            ),
            (
                "refused: the private words, no spinner, no lifecycle with the uid",
                vec![(0, refused())],
                Phase::Error,
                Some(Notice::Private),
                vec![C::FetchToken { in_ms: 2_000 }],
                false,
            ),
            (
                "Try again without a token asks the token service, not lifecycle",
                vec![(0, refused()), (500, Event::Action(Action::Retry))],
                Phase::Error,
                Some(Notice::Private),
                vec![C::FetchToken { in_ms: 0 }],
                false,
            ),
            (
                "a token after a refusal starts lifecycle",
                vec![(0, refused()), (2_000, token("t1"))],
                Phase::Error,
                Some(Notice::Private),
                vec![C::SetToken("t1".into()), C::PollLifecycle { in_ms: 0 }],
                true,
            ),
            (
                "live with a token: the manifest URL carries it",
                vec![(0, token("t1")), (100, live("a"))],
                Phase::Starting,
                None,
                vec![C::Load {
                    url: "http://o/t1/manifest/video.m3u8".into(),
                    live: true,
                }],
                true,
            ),
            (
                "a refresh while live: the new token, playback kept",
                vec![
                    (0, token("t1")),
                    (100, live("a")),
                    (200, Event::FirstFrame),
                    (48_000, token("t2")),
                ],
                Phase::Live,
                None,
                vec![C::SetToken("t2".into()), C::FetchToken { in_ms: 48_000 }],
                false,
            ),
            (
                "lifecycle refused with a token long held: a new token at once",
                vec![
                    (0, token("t1")),
                    (30_000, Event::Lifecycle(Err(FetchError::Status(403)))),
                ],
                Phase::Error,
                Some(Notice::Forbidden),
                vec![C::FetchToken { in_ms: 0 }],
                true,
            ),
            (
                "a refused lifecycle just after a token (another room's): no loop",
                vec![
                    (0, token("t1")),
                    (100, Event::Lifecycle(Err(FetchError::Status(403)))),
                ],
                Phase::Error,
                Some(Notice::Forbidden),
                vec![],
                true,
            ),
        ];
        for (what, events, phase, notice, want, lifecycle) in cases {
            let (p, cmds) = run(private(), NATIVE, &events);
            assert_eq!(p.view().phase, phase, "{what}");
            assert_eq!(p.view().notice, notice, "{what}");
            for c in &want {
                assert!(cmds.contains(c), "{what}: {c:?} in {cmds:?}");
            }
            assert_eq!(asks(&cmds), lifecycle, "{what}: {cmds:?}");
            if want.is_empty() {
                assert!(
                    !cmds.iter().any(|c| matches!(c, C::FetchToken { in_ms: 0 })),
                    "{what}: {cmds:?}"
                );
            }
        }
        // Back in view: a token past its refresh (a tab asleep through it)
        // is asked at once; one still fresh is not.
        let fresh_asked = |at: u64| {
            let (_, cmds) = run(private(), NATIVE, &[(0, token("t1")), (at, Event::Visible)]);
            cmds.contains(&C::FetchToken { in_ms: 0 })
        };
        assert!(fresh_asked(200_000), "asleep past the refresh");
        assert!(!fresh_asked(20_000), "before the refresh");
        // The first commands: no lifecycle before the token.
        let (_, start) = Player::new(private(), NATIVE, 0);
        assert!(start.contains(&C::FetchToken { in_ms: 0 }));
        assert!(!asks(&start), "{start:?}");
        // A retry of the live playback after a refresh reloads the new URL.
        let (_, cmds) = run(
            private(),
            NATIVE,
            &[
                (0, token("t1")),
                (100, live("a")),
                (48_000, token("t2")),
                (49_000, Event::Playback(PlaybackIssue::Network)),
                (50_000, Event::RetryDue),
            ],
        );
        assert!(
            cmds.contains(&C::Load {
                url: "http://o/t2/manifest/video.m3u8".into(),
                live: true
            }),
            "{cmds:?}"
        );
    }

    #[test]
    fn private_recordings_replay_with_their_own_token() {
        let mut signed = recording("v9");
        signed.hls = String::new();
        signed.thumbnail = String::new();
        let listed = Event::Recordings(Ok(RecordingList {
            input_uid: "in1".into(),
            recordings: vec![signed],
            processing: vec![],
        }));
        let choose = Event::Action(Action::PlayRecording("v9".into()));
        let video_token = |sub: &str| {
            Event::VideoToken(Ok(crate::signed::TokenAnswer {
                token: "tv".into(),
                sub: sub.into(),
                ttl_ms: 3_600_000,
            }))
        };
        let base = vec![(0, token("t1")), (10, idle()), (20, listed), (30, choose)];
        let (p, cmds) = run(private(), NATIVE, &base);
        assert_eq!(
            cmds,
            vec![Command::FetchVideoToken {
                uid: "v9".into(),
                in_ms: 0
            }]
        );
        assert_eq!(
            p.view().phase,
            Phase::Waiting,
            "nothing changes until it comes"
        );
        let mut events = base.clone();
        events.push((40, video_token("v9")));
        let (p, cmds) = run(private(), NATIVE, &events);
        assert!(
            cmds.contains(&Command::Load {
                url: "http://o/tv/manifest/video.m3u8".into(),
                live: false
            }),
            "{cmds:?}"
        );
        assert_eq!(p.view().phase, Phase::Replay);
        assert_eq!(p.view().replaying.as_deref(), Some("v9"));
        // The next token asked at 80 % of its lifetime (± 5 %).
        assert!(cmds.contains(&Command::FetchVideoToken {
            uid: "v9".into(),
            in_ms: 2_880_000
        }));
        // A token for another video, or a failure: the viewer stays.
        for answer in [
            video_token("v1"),
            Event::VideoToken(Err(FetchError::Status(404))),
        ] {
            let mut events = base.clone();
            events.push((40, answer));
            let (p, cmds) = run(private(), NATIVE, &events);
            assert!(
                !cmds.iter().any(|c| matches!(c, Command::Load { .. })),
                "{cmds:?}"
            );
            assert_eq!(p.view().phase, Phase::Waiting);
        }
        // Without a token service, a private recording cannot be asked for.
        let (_, cmds) = run(
            config("auto", true),
            NATIVE,
            &[
                (0, idle()),
                (
                    20,
                    Event::Recordings(Ok(RecordingList {
                        input_uid: "in1".into(),
                        recordings: vec![Recording {
                            hls: String::new(),
                            ..recording("v9")
                        }],
                        processing: vec![],
                    })),
                ),
                (30, Event::Action(Action::PlayRecording("v9".into()))),
            ],
        );
        assert_eq!(cmds, vec![]);
    }

    /// A replay that outlasts its token (an hour by default) plays on: the
    /// next one is asked before it expires and goes into the playback;
    /// failures are retried quietly; leaving the replay stops it.
    #[test]
    fn a_private_replay_refreshes_its_token() {
        let mut a = recording("v9");
        a.hls = String::new();
        let mut b = recording("v8");
        b.hls = String::new();
        let listed = Event::Recordings(Ok(RecordingList {
            input_uid: "in1".into(),
            recordings: vec![a, b],
            processing: vec![],
        }));
        let answer = |token: &str, sub: &str| {
            Event::VideoToken(Ok(crate::signed::TokenAnswer {
                token: token.into(),
                sub: sub.into(),
                ttl_ms: 60_000,
            }))
        };
        let fetch = |uid: &str, in_ms| Command::FetchVideoToken {
            uid: uid.into(),
            in_ms,
        };
        let choose = |uid: &str| Event::Action(Action::PlayRecording(uid.into()));
        let replaying = vec![
            (0, token("t1")),
            (10, idle()),
            (20, listed),
            (30, choose("v9")),
            (40, answer("tv1", "v9")),
        ];
        let (_, cmds) = run(private(), NATIVE, &replaying);
        assert!(cmds.contains(&fetch("v9", 48_000)), "{cmds:?}");
        let then = |more: Vec<(u64, Event)>| {
            let mut events = replaying.clone();
            events.extend(more);
            run(private(), NATIVE, &events)
        };
        // The next token: into the playback, no new load; the one after
        // asked as the first was.
        let (p, cmds) = then(vec![(48_040, answer("tv2", "v9"))]);
        assert_eq!(
            cmds,
            vec![Command::SetVideoToken("tv2".into()), fetch("v9", 48_000)]
        );
        assert_eq!(p.view().phase, Phase::Replay);
        // A retry of the replay loads it with the newest token; the
        // broadcast's own refresh meanwhile leaves it alone.
        let replay_url = |token: &str| Command::Load {
            url: format!("http://o/{token}/manifest/video.m3u8"),
            live: false,
        };
        let (_, cmds) = then(vec![
            (48_040, answer("tv2", "v9")),
            (50_000, Event::RetryDue),
        ]);
        assert!(cmds.contains(&replay_url("tv2")), "{cmds:?}");
        let (_, cmds) = then(vec![(30_000, token("t2")), (50_000, Event::RetryDue)]);
        assert!(cmds.contains(&replay_url("tv1")), "{cmds:?}");
        // A refresh that fails, or names another video: the token in use
        // still works; asked again quickly (1 s ± 20 %), nothing else.
        for failed in [
            Event::VideoToken(Err(FetchError::Status(500))),
            answer("tx", "v1"),
        ] {
            let (p, cmds) = then(vec![(48_040, failed)]);
            assert_eq!(cmds, vec![fetch("v9", 1_000)]);
            assert_eq!(p.view().replaying.as_deref(), Some("v9"));
        }
        // A tab asleep past the refresh asks as soon as it shows again.
        let (_, cmds) = then(vec![(200_000, Event::Visible)]);
        assert!(cmds.contains(&fetch("v9", 0)), "{cmds:?}");
        let (_, cmds) = then(vec![(20_000, Event::Visible)]);
        assert!(!cmds
            .iter()
            .any(|c| matches!(c, Command::FetchVideoToken { .. })));
        // Another private recording chosen, whose token fails: the replay
        // on screen stays, and so does its refresh (due at 48.04 s).
        let (p, cmds) = then(vec![(1_000, choose("v8"))]);
        assert_eq!(cmds, vec![fetch("v8", 0)]);
        assert_eq!(p.view().replaying.as_deref(), Some("v9"));
        let (p, cmds) = then(vec![
            (1_000, choose("v8")),
            (1_040, Event::VideoToken(Err(FetchError::Status(404)))),
        ]);
        assert_eq!(cmds, vec![fetch("v9", 47_000)]);
        assert_eq!(p.view().replaying.as_deref(), Some("v9"));
        // ... and when it comes, that one plays and refreshes instead.
        let (p, cmds) = then(vec![(1_000, choose("v8")), (1_040, answer("tw", "v8"))]);
        assert!(cmds.contains(&fetch("v8", 48_000)), "{cmds:?}");
        assert!(!cmds.contains(&Command::StopVideoToken), "{cmds:?}");
        assert_eq!(p.view().replaying.as_deref(), Some("v8"));
        // Leaving the replay stops its tokens; a late answer is dropped.
        let (_, cmds) = then(vec![(5_000, Event::Action(Action::LeaveReplay))]);
        assert!(cmds.contains(&Command::StopVideoToken), "{cmds:?}");
        let (_, cmds) = then(vec![
            (5_000, Event::Action(Action::LeaveReplay)),
            (6_000, answer("tv2", "v9")),
        ]);
        assert_eq!(cmds, vec![]);
    }
}
