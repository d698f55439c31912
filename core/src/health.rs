//! The moderator page's figures: how healthy the stream viewers get is, and
//! what state the room's live input is in.
//!
//! The browser side only reads plain samples (the `<video>`'s numbers, the
//! engine's fragment loads, the backend's go-live answer) and hands them in;
//! everything computed from them lives here. A figure the samples cannot give
//! is [`Figure::Unknown`] with a reason, so the page shows "—" with a tooltip
//! that says why instead of a number that lies.

use std::collections::VecDeque;
use std::fmt;

/// Why a figure has no value. `code()` is stable (tests, `data-unknown`),
/// `reason()` is the tooltip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// The preview plays nothing (waiting, ended, or not started).
    NotPlaying,
    /// The preview is paused: no frames to count.
    Paused,
    /// Playing, but no picture decoded yet.
    NoFrame,
    /// Needs a few seconds of samples first.
    WarmingUp,
    /// The browser's own HLS does not expose this; hls.js does.
    Engine,
    /// The browser has no `getVideoPlaybackQuality`.
    NoQualityApi,
    /// The stream carries no `EXT-X-PROGRAM-DATE-TIME`.
    NoProgramDateTime,
    /// Not live (a recording), or the engine did not say where the edge is.
    NoLiveEdge,
    /// The backend did not say.
    NotReported,
    /// The engine knows it, but the preview cannot read it from the player.
    NotExposed,
}

impl Unknown {
    pub fn code(self) -> &'static str {
        match self {
            Unknown::NotPlaying => "not-playing",
            Unknown::Paused => "paused",
            Unknown::NoFrame => "no-frame",
            Unknown::WarmingUp => "warming-up",
            Unknown::Engine => "engine",
            Unknown::NoQualityApi => "no-quality-api",
            Unknown::NoProgramDateTime => "no-program-date-time",
            Unknown::NoLiveEdge => "no-live-edge",
            Unknown::NotReported => "not-reported",
            Unknown::NotExposed => "not-exposed",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Unknown::NotPlaying => "The preview is not playing a stream.",
            Unknown::Paused => "The preview is paused.",
            Unknown::NoFrame => "No picture has been decoded yet.",
            Unknown::WarmingUp => "Measuring: this needs a few seconds of playback.",
            Unknown::Engine => {
                "The browser's own HLS player does not report this. Switch the preview to hls.js to see it."
            }
            Unknown::NoQualityApi => "This browser does not report decoded and dropped frames.",
            Unknown::NoProgramDateTime => {
                "The stream carries no wall-clock times (EXT-X-PROGRAM-DATE-TIME)."
            }
            Unknown::NoLiveEdge => "The player does not know where the live edge is.",
            Unknown::NotReported => "The backend did not report this.",
            Unknown::NotExposed => "The preview player does not report this yet.",
        }
    }
}

/// A figure: a value, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure<T> {
    Value(T),
    Unknown(Unknown),
}

impl<T> Figure<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Figure::Value(v) => Some(v),
            Figure::Unknown(_) => None,
        }
    }

    pub fn unknown(&self) -> Option<Unknown> {
        match self {
            Figure::Value(_) => None,
            Figure::Unknown(u) => Some(*u),
        }
    }

    fn from_option(v: Option<T>, why: Unknown) -> Self {
        v.map_or(Figure::Unknown(why), Figure::Value)
    }
}

/// Which engine plays the preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The browser's own HLS (`<video src=...m3u8>`).
    Native,
    /// hls.js on Media Source Extensions.
    HlsJs,
}

/// `getVideoPlaybackQuality()`'s counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCounters {
    /// `totalVideoFrames`: frames out of the decoder (shown or dropped).
    pub total: u64,
    /// `droppedVideoFrames`.
    pub dropped: u64,
}

/// One reading of the preview, taken about once a second.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// `performance.now()`, ms: for rates (monotonic).
    pub at_ms: f64,
    /// `Date.now()`, ms: for the wall-clock latency.
    pub wall_ms: f64,
    /// `None` while the preview plays nothing.
    pub engine: Option<Engine>,
    pub paused: bool,
    /// `videoWidth` × `videoHeight` (0 × 0 before the first frame).
    pub width: u32,
    pub height: u32,
    pub current_time: f64,
    /// `video.buffered` as (start, end) pairs.
    pub buffered: Vec<(f64, f64)>,
    /// Media time of the live edge: hls.js's `liveSyncPosition` or the end of
    /// `seekable`; `None` when unknown or not live.
    pub live_edge: Option<f64>,
    /// Wall-clock time (ms since the epoch) of the frame at `current_time`,
    /// from `EXT-X-PROGRAM-DATE-TIME` (hls.js `playingDate`, or the native
    /// `getStartDate() + currentTime`); `None` when the stream has none.
    pub playing_date_ms: Option<f64>,
    /// The playing rendition's `BANDWIDTH` from the master playlist, bit/s.
    pub declared_bitrate: Option<u64>,
    /// `None` when the browser lacks `getVideoPlaybackQuality`.
    pub frames: Option<FrameCounters>,
    /// Whether the sampler can read the engine's own figures (hls.js's
    /// levels, fragment loads, `playingDate`); when not, those are
    /// [`Unknown::NotExposed`] rather than guessed at.
    pub engine_internals: bool,
}

/// One media fragment the engine downloaded (hls.js `FRAG_LOADED` stats, or a
/// resource-timing entry).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FragmentLoad {
    pub bytes: u64,
    /// Request start and load end, ms on one clock.
    pub start_ms: f64,
    pub end_ms: f64,
}

/// Every figure of the health panel at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    /// Width and height in pixels.
    pub resolution: Figure<(u32, u32)>,
    /// Frames per second.
    pub fps: Figure<f64>,
    /// Declared bitrate of the rendition playing, bit/s.
    pub bitrate: Figure<u64>,
    /// Measured download throughput of the last fragments, bit/s.
    pub throughput: Figure<u64>,
    /// Seconds buffered ahead of the playhead.
    pub buffer: Figure<f64>,
    /// Seconds behind the live edge.
    pub latency: Figure<f64>,
    /// Seconds behind the wall clock (from `EXT-X-PROGRAM-DATE-TIME`).
    pub clock_latency: Figure<f64>,
    pub decoded_frames: Figure<u64>,
    pub dropped_frames: Figure<u64>,
    pub stalls: u32,
    /// Seconds spent stalled (an ongoing stall counts up to now).
    pub stalled_secs: f64,
    /// The last error and when it happened (ms since the epoch).
    pub last_error: Option<(String, f64)>,
}

/// How far back the frame rate looks, and the least span it accepts.
const FPS_WINDOW_MS: f64 = 3_000.0;
const FPS_MIN_SPAN_MS: f64 = 900.0;
/// How many recent fragment loads the throughput averages.
const THROUGHPUT_LOADS: usize = 4;
/// A playhead this close before a buffered range counts as inside it.
const BUFFER_SLACK_S: f64 = 0.1;
/// Samples kept (1 Hz): enough for the fps window.
const KEEP_SAMPLES: usize = 8;

/// Frame rate from decoded-frame counts over time: the newest sample against
/// the oldest one within [`FPS_WINDOW_MS`] (at least [`FPS_MIN_SPAN_MS`]
/// apart). Counters that went backwards mean a new source: only samples after
/// that count.
pub fn fps(samples: &[(f64, FrameCounters)]) -> Figure<f64> {
    let Some(&(now, last)) = samples.last() else {
        return Figure::Unknown(Unknown::WarmingUp);
    };
    let mut base = None;
    for &(at, c) in samples.iter().rev().skip(1) {
        if c.total > last.total || now - at > FPS_WINDOW_MS {
            break;
        }
        base = Some((at, c));
    }
    match base {
        Some((at, c)) if now - at >= FPS_MIN_SPAN_MS => {
            Figure::Value((last.total - c.total) as f64 * 1000.0 / (now - at))
        }
        _ => Figure::Unknown(Unknown::WarmingUp),
    }
}

/// Bits per second over the last [`THROUGHPUT_LOADS`] fragment loads: their
/// bytes over their summed load times (a load under 1 ms counts as 1 ms).
pub fn throughput(loads: &[FragmentLoad]) -> Option<u64> {
    let recent = &loads[loads.len().saturating_sub(THROUGHPUT_LOADS)..];
    let recent: Vec<_> = recent.iter().filter(|l| l.bytes > 0).collect();
    if recent.is_empty() {
        return None;
    }
    let bytes: u64 = recent.iter().map(|l| l.bytes).sum();
    let ms: f64 = recent
        .iter()
        .map(|l| (l.end_ms - l.start_ms).max(1.0))
        .sum();
    Some((bytes as f64 * 8.0 * 1000.0 / ms).round() as u64)
}

/// The player's recent fragment loads as it hands them over (flat
/// `[bytes, start_ms, end_ms, ...]`, oldest first; see
/// `src/interop/hls_loader.js`): the last [`THROUGHPUT_LOADS`] whole,
/// finite, non-negative triples with `end >= start`; anything else is
/// dropped rather than trusted.
pub fn fragment_loads(flat: &[f64]) -> Vec<FragmentLoad> {
    let whole = flat.len() / 3 * 3;
    let mut loads: Vec<FragmentLoad> = flat[..whole]
        .chunks_exact(3)
        .filter(|t| t.iter().all(|v| v.is_finite() && *v >= 0.0) && t[2] >= t[1])
        .filter(|t| t[0] >= 1.0 && t[0] < 1e10)
        .map(|t| FragmentLoad {
            bytes: t[0] as u64,
            start_ms: t[1],
            end_ms: t[2],
        })
        .collect();
    let drop = loads.len().saturating_sub(THROUGHPUT_LOADS);
    loads.drain(..drop);
    loads
}

/// A declared bitrate (the level's `BANDWIDTH`) as the engine gave it:
/// whole bit/s, `None` unless positive and below 100 Gbit/s.
pub fn declared_bitrate(bps: Option<f64>) -> Option<u64> {
    bps.filter(|b| b.is_finite() && *b >= 1.0 && *b < 1e11)
        .map(|b| b.round() as u64)
}

/// Seconds buffered ahead of `t`: the end of the range holding it, minus `t`;
/// 0 when no range holds it.
pub fn buffer_ahead(t: f64, ranges: &[(f64, f64)]) -> f64 {
    ranges
        .iter()
        .filter(|(start, end)| *start - BUFFER_SLACK_S <= t && t <= *end)
        .map(|(_, end)| end - t)
        .fold(0.0, f64::max)
}

/// Seconds behind the live edge (never negative: a playhead past a stale
/// edge is at the edge).
pub fn latency(t: f64, edge: Option<f64>) -> Option<f64> {
    edge.map(|e| (e - t).max(0.0))
}

/// Seconds between the wall clock and the time the frame shown was captured.
pub fn clock_latency(wall_ms: f64, playing_date_ms: Option<f64>) -> Option<f64> {
    playing_date_ms
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| (wall_ms - d) / 1000.0)
}

/// Stalls of the preview: each counted once, with the time spent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stalls {
    pub count: u32,
    total_ms: f64,
    since_ms: Option<f64>,
}

impl Stalls {
    /// The playhead stopped for want of data (`waiting`).
    pub fn start(&mut self, at_ms: f64) {
        if self.since_ms.is_none() {
            self.count += 1;
            self.since_ms = Some(at_ms);
        }
    }

    /// It moves again (`playing`), or the source went away.
    pub fn end(&mut self, at_ms: f64) {
        if let Some(since) = self.since_ms.take() {
            self.total_ms += (at_ms - since).max(0.0);
        }
    }

    /// Seconds stalled, the ongoing stall included.
    pub fn total_secs(&self, now_ms: f64) -> f64 {
        let ongoing = self.since_ms.map_or(0.0, |s| (now_ms - s).max(0.0));
        (self.total_ms + ongoing) / 1000.0
    }
}

/// What the preview has seen so far; fed samples and events, read as
/// [`Health`]. Bounded: it keeps only what the figures need.
#[derive(Debug, Clone, Default)]
pub struct HealthTracker {
    samples: VecDeque<Sample>,
    loads: VecDeque<FragmentLoad>,
    pub stalls: Stalls,
    last_error: Option<(String, f64)>,
}

impl HealthTracker {
    pub fn sample(&mut self, s: Sample) {
        if s.engine.is_none() {
            // Nothing plays: a new source starts its rates afresh.
            self.samples.clear();
            self.loads.clear();
        }
        if self.samples.len() == KEEP_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }

    /// A fragment load; one the tracker already holds is ignored (the
    /// player hands over its last few loads on every reading).
    pub fn fragment_loaded(&mut self, load: FragmentLoad) {
        if self.loads.contains(&load) {
            return;
        }
        if self.loads.len() == THROUGHPUT_LOADS {
            self.loads.pop_front();
        }
        self.loads.push_back(load);
    }

    /// An error the preview met (its plain message) at `wall_ms`.
    pub fn error(&mut self, message: &str, wall_ms: f64) {
        let msg: String = message.chars().take(200).collect();
        self.last_error = Some((msg, wall_ms));
    }

    pub fn health(&self) -> Health {
        let last = self.samples.back();
        let stalled_secs = self.stalls.total_secs(last.map_or(0.0, |s| s.at_ms));
        let base = Health {
            resolution: Figure::Unknown(Unknown::NotPlaying),
            fps: Figure::Unknown(Unknown::NotPlaying),
            bitrate: Figure::Unknown(Unknown::NotPlaying),
            throughput: Figure::Unknown(Unknown::NotPlaying),
            buffer: Figure::Unknown(Unknown::NotPlaying),
            latency: Figure::Unknown(Unknown::NotPlaying),
            clock_latency: Figure::Unknown(Unknown::NotPlaying),
            decoded_frames: Figure::Unknown(Unknown::NotPlaying),
            dropped_frames: Figure::Unknown(Unknown::NotPlaying),
            stalls: self.stalls.count,
            stalled_secs,
            last_error: self.last_error.clone(),
        };
        let Some(s) = last else { return base };
        let Some(engine) = s.engine else { return base };
        let engine_hides = |hlsjs_why: Unknown| match engine {
            Engine::Native => Unknown::Engine,
            Engine::HlsJs if !s.engine_internals => Unknown::NotExposed,
            Engine::HlsJs => hlsjs_why,
        };
        let counters: Vec<(f64, FrameCounters)> = self
            .samples
            .iter()
            .filter_map(|x| x.frames.map(|f| (x.at_ms, f)))
            .collect();
        let frames = |pick: fn(FrameCounters) -> u64| {
            Figure::from_option(s.frames.map(pick), Unknown::NoQualityApi)
        };
        Health {
            resolution: if s.width > 0 && s.height > 0 {
                Figure::Value((s.width, s.height))
            } else {
                Figure::Unknown(Unknown::NoFrame)
            },
            fps: match (s.frames, s.paused) {
                (None, _) => Figure::Unknown(Unknown::NoQualityApi),
                (Some(_), true) => Figure::Unknown(Unknown::Paused),
                (Some(_), false) => fps(&counters),
            },
            bitrate: Figure::from_option(s.declared_bitrate, engine_hides(Unknown::WarmingUp)),
            throughput: Figure::from_option(
                throughput(&self.loads.iter().copied().collect::<Vec<_>>()),
                engine_hides(Unknown::WarmingUp),
            ),
            buffer: Figure::Value(buffer_ahead(s.current_time, &s.buffered)),
            latency: Figure::from_option(
                latency(s.current_time, s.live_edge),
                engine_hides(Unknown::NoLiveEdge),
            ),
            clock_latency: Figure::from_option(
                clock_latency(s.wall_ms, s.playing_date_ms),
                if s.engine_internals {
                    Unknown::NoProgramDateTime
                } else {
                    Unknown::NotExposed
                },
            ),
            decoded_frames: frames(|f| f.total),
            dropped_frames: frames(|f| f.dropped),
            ..base
        }
    }
}

// ------------------------------------------------------------ input status

/// Where the room's broadcast stands, as the moderator page shows it
/// (`data-input-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputStatus {
    /// No input yet, or nothing connected: waiting for Jibri.
    Waiting,
    /// Jibri is connected; viewers cannot play it yet.
    Connected,
    /// Viewers can watch.
    Live,
    /// Cloudflare lost the publisher and waits for it to come back.
    Reconnecting,
    /// The broadcast stopped.
    Ended,
}

impl InputStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InputStatus::Waiting => "waiting",
            InputStatus::Connected => "connected",
            InputStatus::Live => "live",
            InputStatus::Reconnecting => "reconnecting",
            InputStatus::Ended => "ended",
        }
    }

    /// What the page says.
    pub fn label(self) -> &'static str {
        match self {
            InputStatus::Waiting => "Waiting for Jibri",
            InputStatus::Connected => "Connected, not yet live",
            InputStatus::Live => "Live",
            InputStatus::Reconnecting => "Reconnecting",
            InputStatus::Ended => "Ended",
        }
    }

    fn on_air(self) -> bool {
        !matches!(self, InputStatus::Waiting)
    }
}

impl fmt::Display for InputStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status from the backend's `GET /api/rooms/<room>/live` (`has_input`
/// false on its 404; `cf_status` its Cloudflare `status`; `live` its `live`
/// or the delivery lifecycle's) and the status shown before, which tells a
/// broadcast that ended from one that never started when Cloudflare says
/// nothing.
pub fn derive_status(
    previous: Option<InputStatus>,
    has_input: bool,
    cf_status: Option<&str>,
    live: bool,
) -> InputStatus {
    if !has_input {
        return InputStatus::Waiting;
    }
    match cf_status {
        Some("reconnecting") => InputStatus::Reconnecting,
        _ if live => InputStatus::Live,
        Some("connected" | "reconnected" | "new_configuration_accepted") => InputStatus::Connected,
        Some("client_disconnect" | "ttl_exceeded" | "failed_to_reconnect") => InputStatus::Ended,
        // Never connected, or unknown news: ended if we saw it on air.
        _ if previous.is_some_and(InputStatus::on_air) => InputStatus::Ended,
        _ => InputStatus::Waiting,
    }
}

/// A status and since when it holds: "changed N s ago", "live for N min".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusClock {
    pub status: InputStatus,
    pub since_ms: f64,
}

impl StatusClock {
    pub fn new(status: InputStatus, now_ms: f64) -> Self {
        StatusClock {
            status,
            since_ms: now_ms,
        }
    }

    /// Takes in the status seen now; true when it changed.
    pub fn observe(&mut self, status: InputStatus, now_ms: f64) -> bool {
        if status == self.status {
            return false;
        }
        *self = StatusClock::new(status, now_ms);
        true
    }

    /// Whole seconds since the last change.
    pub fn secs(&self, now_ms: f64) -> u64 {
        ((now_ms - self.since_ms).max(0.0) / 1000.0) as u64
    }
}

// ------------------------------------------------------------ texts

/// "just now", "12 s ago", "3 min ago", "2 h ago".
pub fn ago(secs: u64) -> String {
    match secs {
        0..=1 => "just now".into(),
        2..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

/// "800 kbit/s", "3.1 Mbit/s", "1.2 Gbit/s".
pub fn bits_per_second(bps: u64) -> String {
    let b = bps as f64;
    if bps < 1_000_000 {
        format!("{:.0} kbit/s", b / 1e3)
    } else if bps < 1_000_000_000 {
        format!("{:.1} Mbit/s", b / 1e6)
    } else {
        format!("{:.1} Gbit/s", b / 1e9)
    }
}

/// The text shown for each figure; "—" when unknown.
pub const NO_VALUE: &str = "—";

/// Text and machine value (`data-value`: base units, empty when unknown) of
/// one figure, plus the tooltip when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    pub value: String,
    pub why: Option<&'static str>,
}

fn shown<T>(f: &Figure<T>, text: impl Fn(&T) -> String, value: impl Fn(&T) -> String) -> Shown {
    match f {
        Figure::Value(v) => Shown {
            text: text(v),
            value: value(v),
            why: None,
        },
        Figure::Unknown(u) => Shown {
            text: NO_VALUE.into(),
            value: String::new(),
            why: Some(u.reason()),
        },
    }
}

/// Seconds with one decimal (`data-value` keeps two).
fn secs_shown(f: &Figure<f64>) -> Shown {
    shown(f, |s| format!("{s:.1} s"), |s| format!("{s:.2}"))
}

impl Health {
    /// Each figure as the panel shows it, by its `data-health` name.
    pub fn shown(&self) -> Vec<(&'static str, Shown)> {
        let count = |f: &Figure<u64>| shown(f, |n| n.to_string(), |n| n.to_string());
        let stalls = Shown {
            text: if self.stalls == 0 {
                "none".into()
            } else {
                format!("{} ({:.1} s)", self.stalls, self.stalled_secs)
            },
            value: self.stalls.to_string(),
            why: None,
        };
        vec![
            (
                "resolution",
                shown(
                    &self.resolution,
                    |(w, h)| format!("{w}×{h}"),
                    |(w, h)| format!("{w}x{h}"),
                ),
            ),
            (
                "fps",
                shown(&self.fps, |f| format!("{f:.1}"), |f| format!("{f:.2}")),
            ),
            (
                "bitrate",
                shown(&self.bitrate, |b| bits_per_second(*b), |b| b.to_string()),
            ),
            (
                "throughput",
                shown(&self.throughput, |b| bits_per_second(*b), |b| b.to_string()),
            ),
            ("buffer", secs_shown(&self.buffer)),
            ("latency", secs_shown(&self.latency)),
            ("clock-latency", secs_shown(&self.clock_latency)),
            ("decoded-frames", count(&self.decoded_frames)),
            ("dropped-frames", count(&self.dropped_frames)),
            ("stalls", stalls),
        ]
    }
}

/// The stream id with its key hidden: `rtmps://host/live/` + dots. Only the
/// part after the last `/` is the secret; a string without one is all dots.
pub fn mask_stream_id(stream_id: &str) -> String {
    const DOTS: &str = "••••••••••••";
    match stream_id.rfind('/') {
        Some(i) if i + 1 < stream_id.len() => format!("{}{DOTS}", &stream_id[..=i]),
        _ => DOTS.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(total: u64, dropped: u64) -> FrameCounters {
        FrameCounters { total, dropped }
    }

    #[test]
    fn fps_from_frame_deltas() {
        type Case = (&'static str, Vec<(f64, FrameCounters)>, Figure<f64>);
        let table: Vec<Case> = vec![
            ("none", vec![], Figure::Unknown(Unknown::WarmingUp)),
            (
                "one sample",
                vec![(0.0, c(10, 0))],
                Figure::Unknown(Unknown::WarmingUp),
            ),
            (
                "span too short",
                vec![(0.0, c(10, 0)), (500.0, c(25, 0))],
                Figure::Unknown(Unknown::WarmingUp),
            ),
            (
                "30 fps over 1 s",
                vec![(0.0, c(0, 0)), (1000.0, c(30, 0))],
                Figure::Value(30.0),
            ),
            (
                "oldest within 3 s is the base",
                vec![
                    (0.0, c(0, 0)),
                    (1000.0, c(25, 0)),
                    (2000.0, c(50, 0)),
                    (3000.0, c(75, 1)),
                    (4000.0, c(105, 1)),
                ],
                Figure::Value(80.0 / 3.0),
            ),
            (
                "counter reset: only samples after it",
                vec![(0.0, c(900, 0)), (1000.0, c(0, 0)), (2000.0, c(30, 0))],
                Figure::Value(30.0),
            ),
            (
                "reset just now",
                vec![(0.0, c(900, 0)), (1000.0, c(3, 0))],
                Figure::Unknown(Unknown::WarmingUp),
            ),
            (
                "frozen picture",
                vec![(0.0, c(60, 0)), (2000.0, c(60, 0))],
                Figure::Value(0.0),
            ),
        ];
        for (name, samples, want) in table {
            assert_eq!(fps(&samples), want, "{name}");
        }
    }

    #[test]
    fn throughput_of_recent_loads() {
        let l = |bytes, start_ms, end_ms| FragmentLoad {
            bytes,
            start_ms,
            end_ms,
        };
        let table = [
            ("none", vec![], None),
            (
                "1 MB in 1 s",
                vec![l(1_000_000, 0.0, 1000.0)],
                Some(8_000_000),
            ),
            (
                "two loads: summed bytes over summed time",
                vec![l(500_000, 0.0, 500.0), l(250_000, 2000.0, 2500.0)],
                Some(6_000_000),
            ),
            (
                "only the last four",
                vec![
                    l(9_000_000, 0.0, 1.0),
                    l(1000, 0.0, 1000.0),
                    l(1000, 0.0, 1000.0),
                    l(1000, 0.0, 1000.0),
                    l(1000, 0.0, 1000.0),
                ],
                Some(8_000),
            ),
            (
                "instant load counts 1 ms",
                vec![l(1000, 5.0, 5.0)],
                Some(8_000_000),
            ),
            (
                "empty bodies (no timing access)",
                vec![l(0, 0.0, 10.0)],
                None,
            ),
        ];
        for (name, loads, want) in table {
            assert_eq!(throughput(&loads), want, "{name}");
        }
    }

    #[test]
    fn engine_samples_are_checked() {
        let l = |bytes, start_ms, end_ms| FragmentLoad {
            bytes,
            start_ms,
            end_ms,
        };
        let table: [(&str, Vec<f64>, Vec<FragmentLoad>); 7] = [
            ("none", vec![], vec![]),
            ("one", vec![1000.0, 5.0, 105.0], vec![l(1000, 5.0, 105.0)]),
            ("a partial triple is dropped", vec![1000.0, 5.0], vec![]),
            (
                "bad triples dropped",
                vec![
                    f64::NAN,
                    0.0,
                    1.0, // no size
                    100.0,
                    50.0,
                    10.0, // ends before it starts
                    -5.0,
                    0.0,
                    1.0, // negative
                    0.0,
                    0.0,
                    1.0, // empty
                    200.0,
                    0.0,
                    f64::INFINITY,
                    300.0,
                    1.0,
                    2.0,
                ],
                vec![l(300, 1.0, 2.0)],
            ),
            (
                "only the last four",
                (0..6).flat_map(|i| [100.0 + i as f64, 0.0, 1.0]).collect(),
                (2..6).map(|i| l(100 + i, 0.0, 1.0)).collect(),
            ),
            ("absurd size", vec![1e12, 0.0, 1.0], vec![]),
            (
                "fractional bytes floor",
                vec![1500.7, 0.0, 2.0],
                vec![l(1500, 0.0, 2.0)],
            ),
        ];
        for (name, flat, want) in table {
            assert_eq!(fragment_loads(&flat), want, "{name}");
        }
        for (given, want) in [
            (None, None),
            (Some(3_128_000.0), Some(3_128_000)),
            (Some(0.0), None),
            (Some(-1.0), None),
            (Some(f64::NAN), None),
            (Some(1e12), None),
            (Some(799_999.6), Some(800_000)),
        ] {
            assert_eq!(declared_bitrate(given), want, "{given:?}");
        }
        // The same loads handed over again count once.
        let mut t = HealthTracker::default();
        for _ in 0..3 {
            for load in fragment_loads(&[500_000.0, 0.0, 100.0, 500_000.0, 200.0, 300.0]) {
                t.fragment_loaded(load);
            }
        }
        assert_eq!(t.loads.len(), 2);
    }

    #[test]
    fn buffer_latency_clock() {
        let ranges = [(0.0, 4.0), (10.0, 16.5)];
        for (t, want) in [
            (1.0, 3.0),
            (4.0, 0.0),
            (5.0, 0.0),
            (9.95, 6.55),
            (12.0, 4.5),
            (17.0, 0.0),
        ] {
            assert!((buffer_ahead(t, &ranges) - want).abs() < 1e-9, "t={t}");
        }
        assert_eq!(buffer_ahead(1.0, &[]), 0.0);
        assert_eq!(latency(10.0, Some(16.0)), Some(6.0));
        assert_eq!(latency(17.0, Some(16.0)), Some(0.0));
        assert_eq!(latency(10.0, None), None);
        assert_eq!(clock_latency(10_000.0, Some(4_000.0)), Some(6.0));
        assert_eq!(clock_latency(10_000.0, None), None);
        assert_eq!(clock_latency(10_000.0, Some(f64::NAN)), None);
        // hls.js's playingDate is null → 0 through some bindings.
        assert_eq!(clock_latency(10_000.0, Some(0.0)), None);
    }

    #[test]
    fn stalls_count_once_and_sum_time() {
        let mut s = Stalls::default();
        assert_eq!((s.count, s.total_secs(0.0)), (0, 0.0));
        s.start(1000.0);
        s.start(1500.0); // still the same stall
        assert_eq!(s.count, 1);
        assert_eq!(s.total_secs(2000.0), 1.0);
        s.end(3000.0);
        s.end(4000.0); // no stall to end
        assert_eq!(s.total_secs(9000.0), 2.0);
        s.start(10_000.0);
        s.end(10_500.0);
        assert_eq!((s.count, s.total_secs(20_000.0)), (2, 2.5));
    }

    fn playing(at_ms: f64, total: u64, engine: Engine) -> Sample {
        Sample {
            at_ms,
            wall_ms: 1_000_000.0 + at_ms,
            engine: Some(engine),
            paused: false,
            width: 1280,
            height: 720,
            current_time: 20.0,
            buffered: vec![(10.0, 22.5)],
            live_edge: Some(26.0),
            playing_date_ms: Some(1_000_000.0 + at_ms - 7_000.0),
            declared_bitrate: Some(3_128_000),
            frames: Some(c(total, 2)),
            engine_internals: true,
        }
    }

    #[test]
    fn tracker_figures_per_engine() {
        let mut t = HealthTracker::default();
        assert_eq!(t.health().fps, Figure::Unknown(Unknown::NotPlaying));
        t.sample(playing(0.0, 0, Engine::HlsJs));
        t.sample(playing(1000.0, 30, Engine::HlsJs));
        t.fragment_loaded(FragmentLoad {
            bytes: 500_000,
            start_ms: 0.0,
            end_ms: 100.0,
        });
        let h = t.health();
        assert_eq!(h.resolution, Figure::Value((1280, 720)));
        assert_eq!(h.fps, Figure::Value(30.0));
        assert_eq!(h.bitrate, Figure::Value(3_128_000));
        assert_eq!(h.throughput, Figure::Value(40_000_000));
        assert_eq!(h.buffer, Figure::Value(2.5));
        assert_eq!(h.latency, Figure::Value(6.0));
        assert_eq!(h.clock_latency, Figure::Value(7.0));
        assert_eq!(h.decoded_frames, Figure::Value(30));
        assert_eq!(h.dropped_frames, Figure::Value(2));

        // The browser's own HLS: no levels, no loads, no edge.
        let mut t = HealthTracker::default();
        let mut s = playing(0.0, 0, Engine::Native);
        s.declared_bitrate = None;
        s.live_edge = None;
        s.playing_date_ms = None;
        s.frames = None;
        s.width = 0;
        t.sample(s);
        let h = t.health();
        for f in [h.bitrate.unknown(), h.throughput.unknown()] {
            assert_eq!(f, Some(Unknown::Engine));
        }
        assert_eq!(h.latency.unknown(), Some(Unknown::Engine));
        assert_eq!(h.clock_latency.unknown(), Some(Unknown::NoProgramDateTime));
        assert_eq!(h.fps.unknown(), Some(Unknown::NoQualityApi));
        assert_eq!(h.dropped_frames.unknown(), Some(Unknown::NoQualityApi));
        assert_eq!(h.resolution.unknown(), Some(Unknown::NoFrame));

        // hls.js seen from outside the player (only the <video>): the edge
        // comes from `seekable`, the engine's own figures are not guessed.
        let mut t = HealthTracker::default();
        let mut s = playing(0.0, 0, Engine::HlsJs);
        s.engine_internals = false;
        s.declared_bitrate = None;
        s.playing_date_ms = None;
        t.sample(s);
        let h = t.health();
        assert_eq!(h.bitrate.unknown(), Some(Unknown::NotExposed));
        assert_eq!(h.throughput.unknown(), Some(Unknown::NotExposed));
        assert_eq!(h.clock_latency.unknown(), Some(Unknown::NotExposed));
        assert_eq!(h.latency, Figure::Value(6.0));

        // Paused; then nothing plays: rates start afresh, stalls stay.
        let mut t = HealthTracker::default();
        t.stalls.start(0.0);
        t.stalls.end(1500.0);
        t.error("Network error", 5.0);
        let mut p = playing(0.0, 0, Engine::HlsJs);
        p.paused = true;
        t.sample(p);
        assert_eq!(t.health().fps.unknown(), Some(Unknown::Paused));
        t.sample(Sample::default());
        let h = t.health();
        assert_eq!(h.resolution.unknown(), Some(Unknown::NotPlaying));
        assert_eq!((h.stalls, h.stalled_secs), (1, 1.5));
        assert_eq!(h.last_error, Some(("Network error".to_string(), 5.0)));
        t.sample(playing(2000.0, 0, Engine::HlsJs));
        assert_eq!(t.health().fps.unknown(), Some(Unknown::WarmingUp));
    }

    #[test]
    fn tracker_stays_bounded() {
        let mut t = HealthTracker::default();
        for i in 0..1000 {
            t.sample(playing(i as f64 * 1000.0, i * 30, Engine::HlsJs));
            t.fragment_loaded(FragmentLoad {
                bytes: 1,
                start_ms: i as f64,
                end_ms: i as f64 + 1.0,
            });
        }
        assert_eq!(t.samples.len(), KEEP_SAMPLES);
        assert_eq!(t.loads.len(), THROUGHPUT_LOADS);
        assert_eq!(t.health().fps, Figure::Value(30.0));
        t.error(&"x".repeat(10_000), 0.0);
        assert_eq!(t.health().last_error.unwrap().0.len(), 200);
    }

    #[test]
    fn shown_values_and_unknowns() {
        let mut t = HealthTracker::default();
        t.sample(playing(0.0, 0, Engine::HlsJs));
        t.sample(playing(1000.0, 30, Engine::HlsJs));
        let shown: std::collections::HashMap<_, _> = t.health().shown().into_iter().collect();
        let v = |k: &str| (shown[k].text.clone(), shown[k].value.clone());
        assert_eq!(v("resolution"), ("1280×720".into(), "1280x720".into()));
        assert_eq!(v("fps"), ("30.0".into(), "30.00".into()));
        assert_eq!(v("bitrate"), ("3.1 Mbit/s".into(), "3128000".into()));
        assert_eq!(v("buffer"), ("2.5 s".into(), "2.50".into()));
        assert_eq!(v("stalls"), ("none".into(), "0".into()));
        assert_eq!(v("dropped-frames"), ("2".into(), "2".into()));
        let tp = &shown["throughput"];
        assert_eq!((tp.text.as_str(), tp.value.as_str()), (NO_VALUE, ""));
        assert_eq!(tp.why, Some(Unknown::WarmingUp.reason()));
        // Every name of the DOM contract, once.
        let names: Vec<_> = t.health().shown().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "resolution",
                "fps",
                "bitrate",
                "throughput",
                "buffer",
                "latency",
                "clock-latency",
                "decoded-frames",
                "dropped-frames",
                "stalls"
            ]
        );
    }

    #[test]
    fn status_derivation() {
        use InputStatus::*;
        let table = [
            // previous, has input, Cloudflare status, live → shown
            (None, false, None, false, Waiting),
            (Some(Live), false, None, false, Waiting),
            (None, true, None, false, Waiting),
            (None, true, Some("connected"), false, Connected),
            (
                None,
                true,
                Some("new_configuration_accepted"),
                false,
                Connected,
            ),
            (Some(Connected), true, Some("connected"), true, Live),
            (Some(Waiting), true, None, true, Live),
            (Some(Live), true, Some("reconnecting"), true, Reconnecting),
            (Some(Live), true, Some("reconnecting"), false, Reconnecting),
            (Some(Reconnecting), true, Some("reconnected"), true, Live),
            (
                Some(Reconnecting),
                true,
                Some("reconnected"),
                false,
                Connected,
            ),
            (Some(Live), true, Some("client_disconnect"), false, Ended),
            (None, true, Some("ttl_exceeded"), false, Ended),
            (Some(Live), true, Some("failed_to_reconnect"), false, Ended),
            (None, true, Some("failed_to_connect"), false, Waiting),
            (Some(Live), true, None, false, Ended),
            (Some(Connected), true, None, false, Ended),
            (Some(Ended), true, None, false, Ended),
            (Some(Waiting), true, None, false, Waiting),
            (Some(Ended), true, Some("connected"), false, Connected),
            (None, true, Some("something-new"), false, Waiting),
            (Some(Live), true, Some("something-new"), false, Ended),
        ];
        for (prev, has, cf, live, want) in table {
            assert_eq!(
                derive_status(prev, has, cf, live),
                want,
                "{prev:?} {has} {cf:?} {live}"
            );
        }
    }

    #[test]
    fn status_clock() {
        let mut c = StatusClock::new(InputStatus::Waiting, 1000.0);
        assert!(!c.observe(InputStatus::Waiting, 5000.0));
        assert_eq!(c.secs(5000.0), 4);
        assert!(c.observe(InputStatus::Live, 6000.0));
        assert_eq!(c.secs(6500.0), 0);
        assert_eq!(c.secs(66_000.0), 60);
        assert_eq!(c.secs(0.0), 0);
        assert_eq!(c.status.as_str(), "live");
    }

    #[test]
    fn texts() {
        for (s, want) in [
            (0, "just now"),
            (1, "just now"),
            (2, "2 s ago"),
            (59, "59 s ago"),
            (60, "1 min ago"),
            (3599, "59 min ago"),
            (7200, "2 h ago"),
        ] {
            assert_eq!(ago(s), want);
        }
        for (b, want) in [
            (0, "0 kbit/s"),
            (800_000, "800 kbit/s"),
            (3_128_000, "3.1 Mbit/s"),
            (1_500_000_000, "1.5 Gbit/s"),
        ] {
            assert_eq!(bits_per_second(b), want);
        }
        for (id, want) in [
            (
                "rtmps://live.cloudflare.com:443/live/abc123",
                "rtmps://live.cloudflare.com:443/live/••••••••••••",
            ),
            (
                "rtmp://127.0.0.1:1935/live/k",
                "rtmp://127.0.0.1:1935/live/••••••••••••",
            ),
            ("nokey/", "••••••••••••"),
            ("secret", "••••••••••••"),
            ("", "••••••••••••"),
        ] {
            assert_eq!(mask_stream_id(id), want, "{id}");
        }
    }
}
