//! Quality of experience: what one page's viewing counts, when it is sent,
//! and the shape it travels in.
//!
//! The browser side only reports media facts ([`Ev`]) with a millisecond
//! clock and sends what [`Session`] hands back; the rules (what is a view,
//! what counts as rebuffering, when to flush, how often at most) live here.
//! Definitions follow Mux Data's (see NOTES-qoe.md):
//! - a view starts at the first frame of a source (a live broadcast or a
//!   recording); a fatal failure before it is a failed view attempt;
//! - start-up time runs from page open, or from the moment a waiting page
//!   learnt the broadcast is live, to the first frame;
//! - watch time is time after the first frame spent playing or rebuffering
//!   while the page is visible; rebuffering is a stall after the first frame
//!   (start-up is excluded), so rebuffer % = rebuffer time / watch time.
//!
//! No personal data: a random page id, the input and video uids, the engine
//! and the browser family.
//!
//! Kept small for the wasm: no generics, and the JSON is written by hand
//! ([`Batch::to_json`]) because the player carries no JSON serializer; the
//! serde derives are for the backend, which reads it back.

use serde::{Deserialize, Serialize};

/// Send what accumulated at least this often while watching.
pub const FLUSH_EVERY_MS: u64 = 30_000;
/// At most this many requests per page ...
pub const MAX_SENDS: usize = 3;
/// ... in any window this long.
pub const SEND_WINDOW_MS: u64 = 60_000;
/// Views a batch carries at most (a page rarely switches sources faster).
pub const MAX_VIEWS_PER_BATCH: usize = 4;
/// The beacon format's version.
pub const VERSION: u32 = 1;
/// A wait shorter than this is not rebuffering: media elements report
/// momentary waits (`waiting` then `playing` within a few ms) while data is
/// appended, which no viewer sees; counted, each would be an "event".
pub const MIN_REBUFFER_MS: u64 = 500;

/// Limits of one view report, checked by the backend. The player cannot
/// exceed them (it sends at least every [`FLUSH_EVERY_MS`] while watching)
/// except with a suspended clock, where dropping the report is right.
pub const MAX_WATCH_MS: u32 = 300_000;
pub const MAX_STARTUP_MS: u32 = 600_000;
pub const MAX_EVENTS: u32 = 1_000;
pub const MAX_LATENCY_MS: u32 = 3_600_000;
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// Where `needle` starts in `hay`. A plain scan: `str::find` brings a
/// two-way searcher into the wasm (about 2 KB) for a few short needles.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n.max(1))
        .position(|w| w == needle.as_bytes())
        .filter(|_| n > 0 && n <= hay.len())
}

/// What is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Live,
    Recording,
}

/// How it is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    Native,
    Hlsjs,
}

/// The browser family, from the user agent; nothing finer (no version, no OS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    Chrome,
    Edge,
    Firefox,
    Safari,
    Other,
}

impl Browser {
    /// Order matters: Edge's agent names Chrome and Safari, Chrome's names Safari.
    pub fn from_user_agent(ua: &str) -> Browser {
        let has = |name: &str| find(ua, name).is_some();
        if has("Edg/") {
            Browser::Edge
        } else if has("Firefox/") || has("FxiOS/") {
            Browser::Firefox
        } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
            Browser::Chrome
        } else if has("Safari/") {
            Browser::Safari
        } else {
            Browser::Other
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Edge => "edge",
            Browser::Firefox => "firefox",
            Browser::Safari => "safari",
            Browser::Other => "other",
        }
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Live => "live",
            Kind::Recording => "recording",
        }
    }
}

impl EngineName {
    fn as_str(self) -> &'static str {
        match self {
            EngineName::Native => "native",
            EngineName::Hlsjs => "hlsjs",
        }
    }
}

/// One view's figures since the previous report of that view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewReport {
    pub input: String,
    /// The broadcast's or recording's video uid; a live broadcast whose uid
    /// the player has not learnt yet has none.
    #[serde(default)]
    pub video: Option<String>,
    pub kind: Kind,
    pub engine: EngineName,
    /// This report opens the view (its first frame was shown).
    #[serde(default)]
    pub start: bool,
    /// Set on the report that opens the view.
    #[serde(default)]
    pub startup_ms: Option<u32>,
    #[serde(default)]
    pub watch_ms: u32,
    #[serde(default)]
    pub rebuffers: u32,
    #[serde(default)]
    pub rebuffer_ms: u32,
    #[serde(default)]
    pub up: u32,
    #[serde(default)]
    pub down: u32,
    /// A fatal playback failure's code (the player's error codes).
    #[serde(default)]
    pub failure: Option<String>,
    /// That failure came before the first frame: an attempt that never
    /// became a view (Mux's "video startup failure").
    #[serde(default)]
    pub failed_at_start: bool,
    /// The last measured distance behind the live edge.
    #[serde(default)]
    pub latency_ms: Option<u32>,
}

/// One request's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub v: u32,
    /// Random per page load.
    pub page: String,
    pub browser: Browser,
    /// The page is going away: it no longer counts as a viewer.
    #[serde(default)]
    pub end: bool,
    pub views: Vec<ViewReport>,
}

/// Why a batch is refused; also the `reason` label of the backend's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Version,
    PageId,
    Uid,
    FailureCode,
    Views,
    Range,
}

impl Invalid {
    pub fn as_str(self) -> &'static str {
        match self {
            Invalid::Version => "version",
            Invalid::PageId => "page_id",
            Invalid::Uid => "uid",
            Invalid::FailureCode => "failure_code",
            Invalid::Views => "views",
            Invalid::Range => "range",
        }
    }
}

/// The failure codes a report may carry: the player's error codes.
pub const FAILURE_CODES: [&str; 7] = [
    "not-found",
    "forbidden",
    "rate-limited",
    "timeout",
    "malformed",
    "network",
    "playback",
];

/// A page id: 16 to 32 lowercase hex characters.
pub fn is_page_id(s: &str) -> bool {
    (16..=32).contains(&s.len()) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An input or video uid: `[A-Za-z0-9_-]{1,64}` (Cloudflare's are 32 hex).
pub fn is_uid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl ViewReport {
    fn validate(&self) -> Result<(), Invalid> {
        if !is_uid(&self.input) || self.video.as_deref().is_some_and(|v| !is_uid(v)) {
            return Err(Invalid::Uid);
        }
        if let Some(code) = &self.failure {
            if !FAILURE_CODES.contains(&code.as_str()) {
                return Err(Invalid::FailureCode);
            }
        }
        let in_range = self.watch_ms <= MAX_WATCH_MS
            && self.rebuffer_ms <= self.watch_ms
            && self.rebuffers <= MAX_EVENTS
            && self.up <= MAX_EVENTS
            && self.down <= MAX_EVENTS
            && self.startup_ms.is_none_or(|s| s <= MAX_STARTUP_MS)
            && self.latency_ms.is_none_or(|l| l <= MAX_LATENCY_MS)
            // Start-up time belongs to the report that opens the view.
            && (self.startup_ms.is_none() || self.start)
            && (!self.failed_at_start || (self.failure.is_some() && !self.start))
            && (self.kind == Kind::Live || self.latency_ms.is_none());
        if in_range {
            Ok(())
        } else {
            Err(Invalid::Range)
        }
    }
}

impl Batch {
    /// The checks beyond the schema (serde has done types and fields).
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.v != VERSION {
            return Err(Invalid::Version);
        }
        if !is_page_id(&self.page) {
            return Err(Invalid::PageId);
        }
        if self.views.is_empty() || self.views.len() > MAX_VIEWS_PER_BATCH {
            return Err(Invalid::Views);
        }
        self.views.iter().try_for_each(ViewReport::validate)
    }

    /// The JSON the player sends (serde's field names, read back by serde).
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(160 + 220 * self.views.len());
        o.push_str("{\"v\":");
        push_u64(&mut o, u64::from(self.v));
        o.push_str(",\"page\":");
        push_str(&mut o, &self.page);
        o.push_str(",\"browser\":\"");
        o.push_str(self.browser.as_str());
        o.push_str("\",\"end\":");
        o.push_str(if self.end { "true" } else { "false" });
        o.push_str(",\"views\":[");
        for (i, r) in self.views.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str("{\"input\":");
            push_str(&mut o, &r.input);
            if let Some(v) = &r.video {
                o.push_str(",\"video\":");
                push_str(&mut o, v);
            }
            o.push_str(",\"kind\":\"");
            o.push_str(r.kind.as_str());
            o.push_str("\",\"engine\":\"");
            o.push_str(r.engine.as_str());
            o.push_str("\",\"start\":");
            o.push_str(if r.start { "true" } else { "false" });
            let fields = [
                ("watch_ms", r.watch_ms),
                ("rebuffers", r.rebuffers),
                ("rebuffer_ms", r.rebuffer_ms),
                ("up", r.up),
                ("down", r.down),
            ];
            for (name, value) in fields {
                o.push_str(",\"");
                o.push_str(name);
                o.push_str("\":");
                push_u64(&mut o, u64::from(value));
            }
            if let Some(s) = r.startup_ms {
                o.push_str(",\"startup_ms\":");
                push_u64(&mut o, u64::from(s));
            }
            if let Some(l) = r.latency_ms {
                o.push_str(",\"latency_ms\":");
                push_u64(&mut o, u64::from(l));
            }
            if let Some(f) = &r.failure {
                o.push_str(",\"failure\":");
                push_str(&mut o, f);
            }
            if r.failed_at_start {
                o.push_str(",\"failed_at_start\":true");
            }
            o.push('}');
        }
        o.push_str("]}");
        o
    }
}

fn push_u64(o: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        o.push(char::from(d));
    }
}

/// A JSON string; ids are plain ASCII, but escape anyway so no input can
/// break the document.
fn push_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                o.push_str("\\u00");
                let b = c as u8;
                o.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                o.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
            }
            c => o.push(c),
        }
    }
    o.push('"');
}

/// What the media side reports, each with the page's millisecond clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// The input has no broadcast yet: start-up will be timed from "live".
    Waiting,
    /// A new source is loaded (a broadcast went live, a recording was
    /// chosen): the previous view, if any, is over.
    Source {
        input: String,
        video: Option<String>,
        kind: Kind,
        engine: EngineName,
    },
    /// The video uid of the live broadcast became known after its source.
    VideoUid(String),
    FirstFrame,
    /// The media element plays (again).
    Playing,
    /// The media element waits for data.
    Stalled,
    Paused,
    /// The viewer seeks (a recording): the wait that follows is neither
    /// watching nor rebuffering, as Mux excludes seek time.
    Seeking,
    /// A rendition of this height (or bitrate) is now shown.
    Quality(u32),
    /// A fatal failure, with the player's error code.
    Failed(&'static str),
    /// Distance behind the live edge.
    Latency(u32),
    Visible(bool),
}

/// Why the browser is asked to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A timer tick while the page lives (sent with `fetch` + `keepalive`).
    Tick,
    /// The page became hidden (`sendBeacon`).
    Hidden,
    /// The page goes away (`sendBeacon`); the page stops counting as a viewer.
    PageHide,
}

/// The view in progress.
#[derive(Debug, Clone)]
struct View {
    report: ViewReport,
    /// Start-up is timed from here.
    since: u64,
    started: bool,
    /// The report opening the view has been handed out.
    start_sent: bool,
    playing: bool,
    seeking: bool,
    /// A wait in progress, counted up to when (its start until it has
    /// lasted [`MIN_REBUFFER_MS`]).
    stall_since: Option<u64>,
    /// That wait has lasted long enough to be a rebuffering event.
    stall_counted: bool,
    /// Watch time runs since (playing or rebuffering, visible, started).
    watch_since: Option<u64>,
    quality: Option<u32>,
    failed: bool,
    /// Anything worth sending since the last report.
    dirty: bool,
}

/// One page load's viewing: feed it [`Ev`]s, call [`Session::flush`] with
/// [`Trigger::Tick`] after each event and on a timer of
/// [`Session::next_tick_in`], with `Hidden` on `visibilitychange` to hidden
/// and with `PageHide` on `pagehide`, and send what it returns. After a
/// failure the view is over: a retry that loads the source again is a new
/// [`Ev::Source`].
#[derive(Debug, Clone)]
pub struct Session {
    page: String,
    browser: Browser,
    opened: u64,
    waited: bool,
    had_source: bool,
    visible: bool,
    view: Option<View>,
    /// Reports of views that are over, waiting for the next send.
    done: Vec<ViewReport>,
    last_flush: u64,
    /// Times of the last sends, oldest first.
    sends: Vec<u64>,
    /// The last view reported, emptied: what an `end` with nothing new carries.
    last_reported: Option<ViewReport>,
    /// `end` was sent.
    ended: bool,
}

fn saturating_ms(from: u64, to: u64) -> u32 {
    u32::try_from(to.saturating_sub(from)).unwrap_or(u32::MAX)
}

impl View {
    fn new(
        input: String,
        video: Option<String>,
        kind: Kind,
        engine: EngineName,
        since: u64,
    ) -> Self {
        View {
            report: ViewReport {
                input,
                video,
                kind,
                engine,
                start: false,
                startup_ms: None,
                watch_ms: 0,
                rebuffers: 0,
                rebuffer_ms: 0,
                up: 0,
                down: 0,
                failure: None,
                failed_at_start: false,
                latency_ms: None,
            },
            since,
            started: false,
            start_sent: false,
            playing: false,
            seeking: false,
            stall_since: None,
            stall_counted: false,
            watch_since: None,
            quality: None,
            failed: false,
            dirty: false,
        }
    }

    /// Adds the running intervals up to `now` and restarts them there.
    fn settle(&mut self, now: u64) {
        if let Some(s) = self.watch_since.take() {
            let ms = saturating_ms(s, now);
            self.report.watch_ms = self.report.watch_ms.saturating_add(ms);
            self.dirty |= ms > 0;
            self.watch_since = Some(now);
        }
        if let Some(s) = self.stall_since {
            if self.stall_counted || now.saturating_sub(s) >= MIN_REBUFFER_MS {
                if !self.stall_counted {
                    self.stall_counted = true;
                    self.report.rebuffers = self.report.rebuffers.saturating_add(1);
                    self.dirty = true;
                }
                self.report.rebuffer_ms = self
                    .report
                    .rebuffer_ms
                    .saturating_add(saturating_ms(s, now));
                self.stall_since = Some(now);
            }
        }
    }

    /// Whether watch time runs given the page's visibility.
    fn set_watching(&mut self, now: u64, visible: bool) {
        self.settle(now);
        let runs =
            visible && self.started && !self.failed && (self.playing || self.stall_since.is_some());
        match (runs, self.watch_since.is_some()) {
            (true, false) => self.watch_since = Some(now),
            (false, true) => self.watch_since = None,
            _ => {}
        }
    }

    fn end_stall(&mut self, now: u64) {
        self.settle(now);
        self.stall_since = None;
        self.stall_counted = false;
    }

    /// Takes what accumulated, leaving the counters at zero.
    fn take(&mut self, now: u64) -> Option<ViewReport> {
        self.settle(now);
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let fresh = ViewReport {
            start: false,
            startup_ms: None,
            watch_ms: 0,
            rebuffers: 0,
            rebuffer_ms: 0,
            up: 0,
            down: 0,
            failure: None,
            failed_at_start: false,
            latency_ms: None,
            ..self.report.clone()
        };
        let mut out = std::mem::replace(&mut self.report, fresh);
        // A report must not claim more rebuffering than watching (a stall
        // that began while hidden); the rest is lost, not invented.
        out.rebuffer_ms = out.rebuffer_ms.min(out.watch_ms);
        out.watch_ms = out.watch_ms.min(MAX_WATCH_MS);
        out.rebuffer_ms = out.rebuffer_ms.min(out.watch_ms);
        self.start_sent |= out.start;
        Some(out)
    }
}

impl Session {
    /// `page` is a random id drawn by the caller (16-32 hex characters).
    pub fn new(page: String, browser: Browser, now: u64) -> Self {
        Session {
            page,
            browser,
            opened: now,
            waited: false,
            had_source: false,
            visible: true,
            view: None,
            done: Vec::new(),
            last_flush: now,
            sends: Vec::with_capacity(MAX_SENDS),
            last_reported: None,
            ended: false,
        }
    }

    /// The page opened before the session: the watch page's loader started
    /// playback before the player (and this session) existed, so a first
    /// view's start-up counts from the page's opening, not from here.
    pub fn opened_at(&mut self, ms: u64) {
        self.opened = self.opened.min(ms);
    }

    pub fn on(&mut self, ev: Ev, now: u64) {
        let visible = self.visible;
        match ev {
            Ev::Waiting => self.waited = true,
            Ev::Source {
                input,
                video,
                kind,
                engine,
            } => {
                self.close_view(now);
                // The first source of a page that never waited is timed
                // from page open; any other from the moment it appeared.
                let since = if self.waited || self.had_source {
                    now
                } else {
                    self.opened
                };
                self.had_source = true;
                self.view = Some(View::new(input, video, kind, engine, since));
            }
            Ev::VideoUid(uid) => {
                if let Some(v) = &mut self.view {
                    if v.report.video.is_none() {
                        v.report.video = Some(uid);
                    }
                }
            }
            Ev::Visible(vis) => {
                self.visible = vis;
                if let Some(v) = &mut self.view {
                    v.set_watching(now, vis);
                }
            }
            ev => {
                let Some(v) = &mut self.view else { return };
                if v.failed {
                    return;
                }
                match ev {
                    Ev::FirstFrame if !v.started => {
                        v.started = true;
                        v.playing = true;
                        v.report.start = true;
                        v.report.startup_ms = Some(saturating_ms(v.since, now).min(MAX_STARTUP_MS));
                        v.dirty = true;
                        v.set_watching(now, visible);
                    }
                    Ev::Playing => {
                        v.end_stall(now);
                        v.playing = true;
                        v.seeking = false;
                        v.set_watching(now, visible);
                    }
                    // Start-up and seek waits are not rebuffering.
                    Ev::Stalled if v.started && !v.seeking && v.stall_since.is_none() => {
                        v.settle(now);
                        // Counted once it lasts (see `settle`).
                        v.stall_since = Some(now);
                        v.playing = false;
                        v.set_watching(now, visible);
                    }
                    Ev::Paused => {
                        v.end_stall(now);
                        v.playing = false;
                        v.set_watching(now, visible);
                    }
                    Ev::Seeking => {
                        v.end_stall(now);
                        v.playing = false;
                        v.seeking = true;
                        v.set_watching(now, visible);
                    }
                    Ev::Quality(q) => {
                        match v.quality {
                            Some(old) if q > old => v.report.up = v.report.up.saturating_add(1),
                            Some(old) if q < old => v.report.down = v.report.down.saturating_add(1),
                            _ => {}
                        }
                        v.dirty |= v.quality.is_some_and(|old| old != q);
                        v.quality = Some(q);
                    }
                    Ev::Failed(code) => {
                        v.end_stall(now);
                        v.set_watching(now, false);
                        v.failed = true;
                        v.report.failure = Some(code.to_string());
                        v.report.failed_at_start = !v.started;
                        v.dirty = true;
                    }
                    Ev::Latency(ms) if v.report.kind == Kind::Live => {
                        v.report.latency_ms = Some(ms.min(MAX_LATENCY_MS));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Ends the view in progress; its last report waits for the next send.
    fn close_view(&mut self, now: u64) {
        if let Some(mut v) = self.view.take() {
            v.set_watching(now, false);
            if let Some(r) = v.take(now) {
                if self.done.len() == MAX_VIEWS_PER_BATCH - 1 {
                    // Switching faster than we send: the oldest is dropped
                    // rather than growing without bound.
                    self.done.remove(0);
                }
                self.done.push(r);
            }
        }
    }

    /// Whether the per-minute budget allows a send now. The last request
    /// of the window is kept for `PageHide`: it is the page's last chance
    /// to send (and to say it left), and browsers fire `visibilitychange`
    /// just before `pagehide` when a page is closed.
    fn may_send(&self, trigger: Trigger, now: u64) -> bool {
        let recent = self
            .sends
            .iter()
            .filter(|&&t| t + SEND_WINDOW_MS > now)
            .count();
        let budget = if trigger == Trigger::PageHide {
            MAX_SENDS
        } else {
            MAX_SENDS - 1
        };
        recent < budget
    }

    /// Whether a tick should send now: after the first frame at once (so
    /// the view and its start-up time count early), then every
    /// [`FLUSH_EVERY_MS`] while watching, and any finished views.
    fn due(&self, now: u64) -> bool {
        if !self.done.is_empty() {
            return true;
        }
        let Some(v) = &self.view else { return false };
        (v.report.start && !v.start_sent)
            || v.report.failure.is_some()
            || ((v.dirty || v.watch_since.is_some())
                && now.saturating_sub(self.last_flush) >= FLUSH_EVERY_MS)
    }

    /// The batch to send now, if any. `Tick` sends only when due; `Hidden`
    /// and `PageHide` send whatever accumulated. Every send respects the
    /// budget of [`MAX_SENDS`] per [`SEND_WINDOW_MS`]; what cannot go now
    /// stays for the next send.
    pub fn flush(&mut self, trigger: Trigger, now: u64) -> Option<Batch> {
        if trigger == Trigger::PageHide {
            self.close_view(now);
        }
        if trigger == Trigger::Tick && !self.due(now) {
            return None;
        }
        if !self.may_send(trigger, now) {
            return None;
        }
        let mut views = std::mem::take(&mut self.done);
        if let Some(r) = self.view.as_mut().and_then(|v| v.take(now)) {
            views.push(r);
        }
        if trigger == Trigger::PageHide && views.is_empty() && !self.ended {
            // Nothing new, but the page must still say it left (or it
            // counts as a viewer for another minute): an empty report of
            // its last view carries `end`.
            views.extend(self.last_reported.take());
        }
        if views.is_empty() {
            return None;
        }
        self.ended |= trigger == Trigger::PageHide;
        if let Some(last) = views.last() {
            self.last_reported = Some(ViewReport {
                start: false,
                startup_ms: None,
                watch_ms: 0,
                rebuffers: 0,
                rebuffer_ms: 0,
                up: 0,
                down: 0,
                failure: None,
                failed_at_start: false,
                latency_ms: None,
                ..last.clone()
            });
        }
        if self.sends.len() == MAX_SENDS {
            self.sends.remove(0);
        }
        self.sends.push(now);
        self.last_flush = now;
        Some(Batch {
            v: VERSION,
            page: self.page.clone(),
            browser: self.browser,
            end: trigger == Trigger::PageHide,
            views,
        })
    }

    /// Milliseconds until the next tick may have something to send, for
    /// the browser's timer.
    pub fn next_tick_in(&self, now: u64) -> u64 {
        (self.last_flush + FLUSH_EVERY_MS)
            .saturating_sub(now)
            .max(1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "0123456789abcdef";

    #[test]
    fn find_matches_str_find() {
        for (hay, needle) in [
            ("abc", "b"),
            ("abc", "abc"),
            ("abc", "abcd"),
            ("abc", ""),
            ("", "a"),
            ("x/api/inputs/a/api/inputs/", "/api/inputs/"),
            ("Mozilla/5.0 Edg/120", "Edg/"),
        ] {
            let want = if needle.is_empty() {
                None
            } else {
                hay.find(needle)
            };
            assert_eq!(find(hay, needle), want, "{hay} {needle}");
        }
    }

    fn live() -> Ev {
        Ev::Source {
            input: "in1".into(),
            video: Some("vid1".into()),
            kind: Kind::Live,
            engine: EngineName::Hlsjs,
        }
    }

    fn recording(uid: &str) -> Ev {
        Ev::Source {
            input: "in1".into(),
            video: Some(uid.into()),
            kind: Kind::Recording,
            engine: EngineName::Native,
        }
    }

    fn session() -> Session {
        Session::new(PAGE.into(), Browser::Chrome, 0)
    }

    /// Feeds (time, event) pairs.
    fn run(s: &mut Session, script: &[(u64, Ev)]) {
        for (t, ev) in script {
            s.on(ev.clone(), *t);
        }
    }

    fn sum(batches: &[Batch], f: fn(&ViewReport) -> u32) -> u32 {
        batches.iter().flat_map(|b| &b.views).map(f).sum()
    }

    #[test]
    fn user_agents() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", Browser::Chrome),
            ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0", Browser::Edge),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0", Browser::Firefox),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", Browser::Safari),
            ("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 CriOS/120 Mobile Safari/604.1", Browser::Chrome),
            ("curl/8.0", Browser::Other),
            ("", Browser::Other),
        ];
        for (ua, want) in cases {
            assert_eq!(Browser::from_user_agent(ua), want, "{ua}");
        }
    }

    #[test]
    fn startup_time_from_page_open_or_from_live() {
        // (script, expected startup_ms of the first view)
        let cases: [(&[(u64, Ev)], u32); 3] = [
            (&[(300, live()), (900, Ev::FirstFrame)], 900),
            (
                &[(100, Ev::Waiting), (5_000, live()), (5_700, Ev::FirstFrame)],
                700,
            ),
            (&[(200, recording("r1")), (1_200, Ev::FirstFrame)], 1_200),
        ];
        for (script, want) in cases {
            let mut s = session();
            run(&mut s, script);
            let b = s
                .flush(Trigger::Tick, script.last().unwrap().0)
                .expect("first frame flushes");
            assert!(b.views[0].start);
            assert_eq!(b.views[0].startup_ms, Some(want), "{script:?}");
        }
    }

    #[test]
    fn startup_from_the_page_opening_when_playback_began_before_the_session() {
        // The loader's frame came before the player mounted at 700 ms; the
        // player reports its first frame at 760 ms after navigation (0).
        let mut s = Session::new(PAGE.into(), Browser::Chrome, 700);
        s.opened_at(0);
        s.opened_at(500); // never later than it was
        run(&mut s, &[(740, live()), (760, Ev::FirstFrame)]);
        let b = s.flush(Trigger::Tick, 760).expect("first frame flushes");
        assert_eq!(b.views[0].startup_ms, Some(760));
    }

    #[test]
    fn watch_time_counts_playing_and_rebuffering_while_visible() {
        // Each case: script, then the totals (watch, rebuffers, rebuffer ms)
        // over all flushes up to PageHide at the last time.
        type Case = (&'static str, Vec<(u64, Ev)>, u64, (u32, u32, u32));
        let cases: Vec<Case> = vec![
            (
                "plays 10 s",
                vec![(0, live()), (1_000, Ev::FirstFrame)],
                11_000,
                (10_000, 0, 0),
            ),
            (
                "start-up stall is not rebuffering",
                vec![(0, live()), (100, Ev::Stalled), (1_000, Ev::FirstFrame)],
                2_000,
                (1_000, 0, 0),
            ),
            (
                "one 2 s rebuffer",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (5_000, Ev::Stalled),
                    (7_000, Ev::Playing),
                ],
                11_000,
                (10_000, 1, 2_000),
            ),
            (
                "momentary waits (the element appending data) are not rebuffering",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (5_000, Ev::Stalled),
                    (5_010, Ev::Playing),
                    (6_000, Ev::Stalled),
                    (6_499, Ev::Playing),
                ],
                11_000,
                (10_000, 0, 0),
            ),
            (
                "a wait is rebuffering from its start once it lasts",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (5_000, Ev::Stalled),
                    (5_500, Ev::Playing),
                ],
                11_000,
                (10_000, 1, 500),
            ),
            (
                "a second Stalled during one stall counts once",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (5_000, Ev::Stalled),
                    (6_000, Ev::Stalled),
                    (7_000, Ev::Playing),
                ],
                11_000,
                (10_000, 1, 2_000),
            ),
            (
                "a seek's wait is neither watched nor rebuffering",
                vec![
                    (0, recording("r1")),
                    (1_000, Ev::FirstFrame),
                    (3_000, Ev::Seeking),
                    (3_100, Ev::Stalled),
                    (4_000, Ev::Playing),
                    (6_000, Ev::Stalled),
                    (7_000, Ev::Playing),
                ],
                11_000,
                (9_000, 1, 1_000),
            ),
            (
                "paused time is not watched",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (3_000, Ev::Paused),
                    (8_000, Ev::Playing),
                ],
                11_000,
                (5_000, 0, 0),
            ),
            (
                "hidden time is not watched",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (3_000, Ev::Visible(false)),
                    (9_000, Ev::Visible(true)),
                ],
                11_000,
                (4_000, 0, 0),
            ),
            (
                "a failure ends watching",
                vec![
                    (0, live()),
                    (1_000, Ev::FirstFrame),
                    (4_000, Ev::Failed("network")),
                    (6_000, Ev::Playing),
                ],
                11_000,
                (3_000, 0, 0),
            ),
            (
                "no first frame, no watching",
                vec![(0, live()), (4_000, Ev::Playing)],
                11_000,
                (0, 0, 0),
            ),
        ];
        for (name, script, end, want) in cases {
            let mut s = session();
            let mut sent = Vec::new();
            for (t, ev) in script {
                s.on(ev, t);
                sent.extend(s.flush(Trigger::Tick, t));
            }
            sent.extend(s.flush(Trigger::PageHide, end));
            let got = (
                sum(&sent, |r| r.watch_ms),
                sum(&sent, |r| r.rebuffers),
                sum(&sent, |r| r.rebuffer_ms),
            );
            assert_eq!(got, want, "{name}");
            for b in &sent {
                assert_eq!(b.validate(), Ok(()), "{name}: {b:?}");
            }
        }
    }

    #[test]
    fn quality_changes_up_and_down() {
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (10, Ev::Quality(360)),
                (500, Ev::FirstFrame),
                (600, Ev::Quality(720)),
                (700, Ev::Quality(720)),
                (800, Ev::Quality(360)),
                (900, Ev::Quality(1080)),
            ],
        );
        let b = s.flush(Trigger::PageHide, 1_000).unwrap();
        assert_eq!((b.views[0].up, b.views[0].down), (2, 1));
    }

    #[test]
    fn failures_carry_their_code_once() {
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (3_000, Ev::Failed("playback")),
                (3_100, Ev::Failed("network")),
            ],
        );
        let b = s
            .flush(Trigger::Tick, 3_100)
            .expect("a failure is sent at once");
        assert_eq!(b.views[0].failure.as_deref(), Some("playback"));
        assert!(!b.views[0].start, "failed before the first frame: no view");
        assert!(b.views[0].failed_at_start);
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (500, Ev::FirstFrame),
                (3_000, Ev::Failed("network")),
            ],
        );
        let b = s.flush(Trigger::Tick, 3_000).unwrap();
        assert_eq!(b.views[0].failure.as_deref(), Some("network"));
        assert!(!b.views[0].failed_at_start, "a view that had started");
        let end = s
            .flush(Trigger::PageHide, 5_000)
            .expect("the page says it left");
        assert!(end.end);
        assert_eq!(
            (end.views[0].watch_ms, &end.views[0].failure),
            (0, &None),
            "nothing more"
        );
        assert_eq!(s.flush(Trigger::PageHide, 6_000), None, "once");
    }

    #[test]
    fn latency_only_for_live() {
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (500, Ev::FirstFrame),
                (2_000, Ev::Latency(4_000)),
                (3_000, Ev::Latency(3_500)),
            ],
        );
        assert_eq!(
            s.flush(Trigger::PageHide, 4_000).unwrap().views[0].latency_ms,
            Some(3_500)
        );
        let mut s = session();
        run(
            &mut s,
            &[
                (0, recording("r1")),
                (500, Ev::FirstFrame),
                (2_000, Ev::Latency(4_000)),
            ],
        );
        assert_eq!(
            s.flush(Trigger::PageHide, 4_000).unwrap().views[0].latency_ms,
            None
        );
    }

    #[test]
    fn flush_schedule_and_budget() {
        let mut s = session();
        run(&mut s, &[(0, live())]);
        assert_eq!(
            s.flush(Trigger::Tick, 500),
            None,
            "nothing to say before the first frame"
        );
        s.on(Ev::FirstFrame, 800);
        let first = s.flush(Trigger::Tick, 800).expect("first frame: at once");
        assert!(first.views[0].start && !first.end);
        assert_eq!(s.flush(Trigger::Tick, 20_000), None, "not yet 30 s");
        let second = s.flush(Trigger::Tick, 30_800).expect("30 s later");
        assert_eq!(second.views[0].watch_ms, 30_000);
        assert!(!second.views[0].start && second.views[0].startup_ms.is_none());
        // Hidden, visible, hidden again within the minute: the last request
        // of the minute is kept for pagehide, and what waited goes then.
        s.on(Ev::Visible(false), 31_000);
        assert_eq!(
            s.flush(Trigger::Hidden, 31_000),
            None,
            "the minute's last request is pagehide's"
        );
        s.on(Ev::Visible(true), 32_000);
        s.on(Ev::Visible(false), 40_000);
        assert_eq!(s.flush(Trigger::Hidden, 40_000), None);
        let last = s
            .flush(Trigger::PageHide, 40_500)
            .expect("pagehide takes the last request");
        assert!(last.end);
        assert_eq!(last.views[0].watch_ms, 8_200, "what waited is not lost");
        assert_eq!(s.flush(Trigger::PageHide, 41_000), None, "one end");
        // Over any 60 s window at most 3 sends.
        let times = [800u64, 30_800, 40_500];
        assert!(times[2] - times[0] < SEND_WINDOW_MS);
    }

    #[test]
    fn the_end_goes_even_when_hidden_sent_just_before() {
        // Browsers fire visibilitychange (hidden) just before pagehide when
        // a page is closed: the hidden send takes what accumulated, and
        // pagehide still says the page left (else it stays a viewer for
        // another minute on the moderator's page).
        let mut s = session();
        run(&mut s, &[(0, live()), (500, Ev::FirstFrame)]);
        assert!(s.flush(Trigger::Tick, 500).is_some());
        s.on(Ev::Visible(false), 10_000);
        let hidden = s.flush(Trigger::Hidden, 10_000).expect("hidden sends");
        assert_eq!(hidden.views[0].watch_ms, 9_500);
        assert!(!hidden.end);
        let end = s.flush(Trigger::PageHide, 10_001).expect("the end");
        assert!(end.end && end.validate().is_ok(), "{end:?}");
        assert_eq!(
            (end.views[0].input.as_str(), end.views[0].watch_ms),
            ("in1", 0)
        );
        // The same after a full minute's budget: ticks at 0.5 s and 30.5 s.
        let mut s = session();
        run(&mut s, &[(0, live()), (500, Ev::FirstFrame)]);
        assert!(s.flush(Trigger::Tick, 500).is_some());
        assert!(s.flush(Trigger::Tick, 30_500).is_some());
        s.on(Ev::Visible(false), 42_000);
        assert_eq!(s.flush(Trigger::Hidden, 42_000), None);
        let end = s
            .flush(Trigger::PageHide, 42_001)
            .expect("the end, with the rest");
        assert!(end.end);
        assert_eq!(end.views[0].watch_ms, 11_500);
    }

    #[test]
    fn a_steady_viewer_sends_at_most_three_per_minute() {
        let mut s = session();
        run(&mut s, &[(0, live()), (1_000, Ev::FirstFrame)]);
        let mut sends = Vec::new();
        // A tick every second for ten minutes, with visibility flapping.
        for t in (1_000..600_000).step_by(1_000) {
            if t % 7_000 == 0 {
                s.on(Ev::Visible(t % 14_000 != 0), t);
                if s.flush(Trigger::Hidden, t).is_some() {
                    sends.push(t);
                }
            }
            if s.flush(Trigger::Tick, t).is_some() {
                sends.push(t);
            }
        }
        for w in sends.windows(MAX_SENDS + 1) {
            assert!(w[MAX_SENDS] - w[0] >= SEND_WINDOW_MS, "{w:?}");
        }
        assert!(sends.len() >= 20, "still reports: {}", sends.len());
    }

    #[test]
    fn switching_sources_reports_both_views() {
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (1_000, Ev::FirstFrame),
                (11_000, recording("r1")),
                (11_400, Ev::FirstFrame),
            ],
        );
        let b = s.flush(Trigger::Tick, 11_400).unwrap();
        assert_eq!(b.views.len(), 2);
        assert_eq!(
            (b.views[0].kind, b.views[0].watch_ms, b.views[0].start),
            (Kind::Live, 10_000, true)
        );
        assert_eq!(
            (b.views[1].kind, b.views[1].startup_ms),
            (Kind::Recording, Some(400))
        );
    }

    #[test]
    fn video_uid_learnt_later() {
        let mut s = session();
        s.on(
            Ev::Source {
                input: "in1".into(),
                video: None,
                kind: Kind::Live,
                engine: EngineName::Native,
            },
            0,
        );
        s.on(Ev::VideoUid("vid9".into()), 100);
        s.on(Ev::FirstFrame, 200);
        assert_eq!(
            s.flush(Trigger::Tick, 200).unwrap().views[0]
                .video
                .as_deref(),
            Some("vid9")
        );
    }

    #[test]
    fn json_is_what_serde_reads() {
        let mut s = session();
        run(
            &mut s,
            &[
                (0, live()),
                (500, Ev::FirstFrame),
                (600, Ev::Quality(360)),
                (700, Ev::Quality(720)),
                (2_000, Ev::Stalled),
                (2_500, Ev::Playing),
                (3_000, Ev::Latency(4_200)),
                (4_000, Ev::Failed("network")),
            ],
        );
        let b = s.flush(Trigger::PageHide, 4_000).unwrap();
        let json = b.to_json();
        let back: Batch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b, "{json}");
        assert_eq!(
            serde_json::to_value(&b).unwrap()["views"][0]["kind"],
            "live"
        );
        let odd = Batch {
            page: "a\"b\\c\u{1}".into(),
            ..b
        };
        let back: Batch = serde_json::from_str(&odd.to_json()).unwrap();
        assert_eq!(back.page, odd.page);
        for n in [0u64, 7, 10, 4_294_967_295, u64::MAX] {
            let mut o = String::new();
            push_u64(&mut o, n);
            assert_eq!(o, n.to_string());
        }
    }

    fn valid() -> Batch {
        Batch {
            v: 1,
            page: PAGE.into(),
            browser: Browser::Firefox,
            end: false,
            views: vec![ViewReport {
                input: "in1".into(),
                video: Some("v1".into()),
                kind: Kind::Live,
                engine: EngineName::Hlsjs,
                start: true,
                startup_ms: Some(800),
                watch_ms: 30_000,
                rebuffers: 1,
                rebuffer_ms: 2_000,
                up: 1,
                down: 0,
                failure: None,
                failed_at_start: false,
                latency_ms: Some(5_000),
            }],
        }
    }

    #[test]
    fn validation() {
        type Edit = fn(&mut Batch);
        let cases: [(&str, Edit, Result<(), Invalid>); 16] = [
            ("valid", |_| {}, Ok(())),
            ("version", |b| b.v = 2, Err(Invalid::Version)),
            (
                "short page id",
                |b| b.page = "abc".into(),
                Err(Invalid::PageId),
            ),
            (
                "uppercase page id",
                |b| b.page = "0123456789ABCDEF".into(),
                Err(Invalid::PageId),
            ),
            ("no views", |b| b.views.clear(), Err(Invalid::Views)),
            (
                "too many views",
                |b| b.views = vec![b.views[0].clone(); 5],
                Err(Invalid::Views),
            ),
            (
                "bad input",
                |b| b.views[0].input = "../x".into(),
                Err(Invalid::Uid),
            ),
            (
                "bad video",
                |b| b.views[0].video = Some(String::new()),
                Err(Invalid::Uid),
            ),
            (
                "unknown failure",
                |b| b.views[0].failure = Some("boom".into()),
                Err(Invalid::FailureCode),
            ),
            (
                "watch too long",
                |b| b.views[0].watch_ms = MAX_WATCH_MS + 1,
                Err(Invalid::Range),
            ),
            (
                "rebuffer > watch",
                |b| b.views[0].rebuffer_ms = 40_000,
                Err(Invalid::Range),
            ),
            (
                "absurd startup",
                |b| b.views[0].startup_ms = Some(MAX_STARTUP_MS + 1),
                Err(Invalid::Range),
            ),
            (
                "startup without start",
                |b| b.views[0].start = false,
                Err(Invalid::Range),
            ),
            (
                "latency on a recording",
                |b| b.views[0].kind = Kind::Recording,
                Err(Invalid::Range),
            ),
            (
                "absurd count",
                |b| b.views[0].up = MAX_EVENTS + 1,
                Err(Invalid::Range),
            ),
            (
                "failed at start without a failure",
                |b| b.views[0].failed_at_start = true,
                Err(Invalid::Range),
            ),
        ];
        for (name, edit, want) in cases {
            let mut b = valid();
            edit(&mut b);
            assert_eq!(b.validate(), want, "{name}");
        }
    }

    #[test]
    fn schema_is_strict() {
        let ok = valid().to_json();
        assert!(serde_json::from_str::<Batch>(&ok).is_ok());
        let bad = [
            ok.replace("\"v\":1", "\"v\":1,\"email\":\"a@b\""),
            ok.replace("\"watch_ms\":30000", "\"watch_ms\":-1"),
            ok.replace("\"watch_ms\":30000", "\"watch_ms\":\"30000\""),
            ok.replace("\"watch_ms\":30000", "\"watch_ms\":1e99"),
            ok.replace("\"kind\":\"live\"", "\"kind\":\"vod\""),
            ok.replace("\"browser\":\"firefox\"", "\"browser\":\"netscape\""),
            ok.replace(",\"page\":\"0123456789abcdef\"", ""),
        ];
        for json in bad {
            assert!(serde_json::from_str::<Batch>(&json).is_err(), "{json}");
        }
    }
}
