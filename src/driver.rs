//! Runs the state machine in the browser: carries out its commands (timers,
//! requests, playback) and feeds it events. Owns every browser resource the
//! player holds; dropping the driver releases all of them.

use crate::interop::events::{dispatch, emit, object};
use crate::interop::fetch::{self, get_json, InFlight};
use crate::interop::playback::{MediaSignal, Playback, Sink};
use crate::interop::{hls, mse_available, native_hls, now_ms, page_hidden, random01};
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use player_core::cloudflare::Views;
use player_core::config::{Engine, PlayerConfig};
use player_core::events::{HostEvents, Observed};
use player_core::machine::{
    Command, Ctx, Event, FetchError, Machine, Phase, PlaybackIssue, STALL_TIMEOUT_MS,
};
use player_core::policy::{recordings_refresh, Poll, PollPolicy};
use player_core::recordings::{Recording, RecordingList};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use web_sys::{Element, HtmlVideoElement};

/// What the view shows; written only by the driver.
#[derive(Clone, Copy)]
pub struct PlayerSignals {
    pub phase: RwSignal<Phase>,
    pub message: RwSignal<Option<String>>,
    pub retry_at_ms: RwSignal<Option<u64>>,
    pub since_ms: RwSignal<u64>,
    pub now_ms: RwSignal<u64>,
    pub viewers: RwSignal<Option<u64>>,
    pub muted: RwSignal<bool>,
    /// Autoplay with sound was refused and the player went on muted.
    pub muted_fallback: RwSignal<bool>,
    pub paused: RwSignal<bool>,
    pub buffering: RwSignal<bool>,
    pub behind_live: RwSignal<bool>,
    /// A still of the last broadcast, behind the waiting and ended screens.
    pub thumbnail: RwSignal<Option<String>>,
    /// Recordings ready to replay, newest first.
    pub recordings: RwSignal<Vec<Recording>>,
    /// A recording is being prepared ("available shortly").
    pub processing: RwSignal<bool>,
    /// The list could not be loaded (and there is none to show).
    pub recordings_failed: RwSignal<bool>,
    pub replaying: RwSignal<Option<String>>,
    /// A broadcast is live while the viewer replays.
    pub live_now: RwSignal<bool>,
}

impl PlayerSignals {
    pub fn new() -> Self {
        PlayerSignals {
            phase: RwSignal::new(Phase::Loading),
            message: RwSignal::new(None),
            retry_at_ms: RwSignal::new(None),
            since_ms: RwSignal::new(0),
            now_ms: RwSignal::new(now_ms()),
            viewers: RwSignal::new(None),
            muted: RwSignal::new(false),
            muted_fallback: RwSignal::new(false),
            paused: RwSignal::new(true),
            buffering: RwSignal::new(false),
            behind_live: RwSignal::new(false),
            thumbnail: RwSignal::new(None),
            recordings: RwSignal::new(Vec::new()),
            processing: RwSignal::new(false),
            recordings_failed: RwSignal::new(false),
            replaying: RwSignal::new(None),
            live_now: RwSignal::new(false),
        }
    }
}

impl Default for PlayerSignals {
    fn default() -> Self {
        Self::new()
    }
}

enum Input {
    Machine(Event),
    PollNow,
    ViewsNow,
    Views(Result<Views, FetchError>),
    RecordingsNow,
    PrefetchHls,
    Recordings(Result<RecordingList, FetchError>),
    Media(u64, MediaSignal),
    /// hls.js arrived (or failed to); `pending_load` says whether it is still wanted.
    HlsLoaded(Result<JsValue, JsValue>),
    Autoplay(u64, Result<(), String>),
    /// The picture size changed.
    Resized,
}

pub struct Driver {
    machine: Machine,
    s: PlayerSignals,
    video: HtmlVideoElement,
    hls_src: String,
    me: Weak<RefCell<Driver>>,
    native: bool,
    /// The current playback has shown a frame.
    frames_this_load: bool,
    hls_class: Option<JsValue>,
    /// Bumped whenever playback is replaced, so that late callbacks of an
    /// old playback (or of a script that loaded too late) are ignored.
    generation: u64,
    playback: Option<Playback>,
    /// The load waiting for hls.js to arrive.
    pending_load: Option<(String, bool)>,
    poll_timer: Option<Timeout>,
    poll_request: Option<InFlight>,
    retry_timer: Option<Timeout>,
    /// Fires when buffering has lasted too long.
    stall_timer: Option<Timeout>,
    views_timer: Option<Timeout>,
    views_request: Option<InFlight>,
    views_failures: u32,
    views_retry_after_ms: Option<u64>,
    recordings_timer: Option<Timeout>,
    recordings_request: Option<InFlight>,
    recordings_failures: u32,
    /// Uids the recordings endpoint lists as not ready yet.
    processing_uids: Vec<String>,
    /// When the recordings list last had reason to change (load, an end).
    recordings_trigger_ms: u64,
    last_phase: Phase,
    /// When the viewer paused, to go back to live on a late resume.
    paused_at_ms: Option<u64>,
    /// Fetches hls.js once the page has painted.
    hls_prefetch: Option<Timeout>,
    /// Where host events are dispatched: the player's root element.
    host: Option<Element>,
    host_events: HostEvents,
    /// When the current playback was asked for, for the first-frame metric.
    load_asked_ms: u64,
    /// When the current stall began.
    stall_since_ms: Option<u64>,
    /// The current playback has played (not only shown a frame): a wait
    /// before that is start-up, not a stall.
    played_this_load: bool,
    /// The picture size last reported.
    picture: (u32, u32),
    _clock: Interval,
    _listeners: Vec<EventListener>,
}

/// Delivers `input` to the driver on a later microtask, when no borrow of
/// it is active; a driver that was dropped meanwhile ignores it.
fn post(me: &Weak<RefCell<Driver>>, input: Input) {
    let me = me.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(driver) = me.upgrade() {
            match driver.try_borrow_mut() {
                Ok(mut d) => d.handle(input),
                Err(_) => post(&me, input),
            }
        }
    });
}

impl Driver {
    pub fn start(
        config: PlayerConfig,
        video: HtmlVideoElement,
        signals: PlayerSignals,
        hls_src: String,
    ) -> Rc<RefCell<Driver>> {
        let start = now_ms();
        let (muted, engine) = (config.muted, config.engine);
        let (machine, commands) = Machine::new(config, PollPolicy::default(), start);
        video.set_muted(muted);
        signals.muted.set(muted);
        let native = match engine {
            Engine::Auto => native_hls(&video),
            Engine::Native => true,
            Engine::Hlsjs => false,
        };
        let driver = Rc::new_cyclic(|me: &Weak<RefCell<Driver>>| {
            let listeners = ui_listeners(&video, signals, me);
            let clock = Interval::new(1_000, move || signals.now_ms.set(now_ms()));
            RefCell::new(Driver {
                machine,
                s: signals,
                video,
                hls_src,
                me: me.clone(),
                native,
                frames_this_load: false,
                hls_class: None,
                generation: 0,
                playback: None,
                pending_load: None,
                poll_timer: None,
                poll_request: None,
                retry_timer: None,
                stall_timer: None,
                views_timer: None,
                views_request: None,
                views_failures: 0,
                views_retry_after_ms: None,
                recordings_timer: None,
                recordings_request: None,
                recordings_failures: 0,
                processing_uids: Vec::new(),
                recordings_trigger_ms: start,
                last_phase: Phase::Loading,
                paused_at_ms: None,
                hls_prefetch: None,
                host: None,
                host_events: HostEvents::default(),
                load_asked_ms: 0,
                stall_since_ms: None,
                played_this_load: false,
                picture: (0, 0),
                _clock: clock,
                _listeners: listeners,
            })
        });
        {
            let mut d = driver.borrow_mut();
            d.run(commands);
            d.sync();
            d.recordings_now();
            if !native {
                // Where hls.js is needed, fetch it right after the first
                // paint, in parallel with the first lifecycle poll: a viewer
                // on a watch page is there for the broadcast, and loading it
                // only once lifecycle says live added ~100 ms to first frame.
                let me = d.me.clone();
                d.hls_prefetch = Some(Timeout::new(0, move || post(&me, Input::PrefetchHls)));
            }
        }
        driver
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            now_ms: now_ms(),
            rand01: random01(),
            hidden: page_hidden(),
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Machine(event) => self.step(event),
            Input::PollNow => self.poll_now(),
            Input::ViewsNow => self.views_now(),
            Input::Views(result) => self.on_views(result),
            Input::RecordingsNow => self.recordings_now(),
            Input::PrefetchHls => self.fetch_hls(),
            Input::Recordings(result) => self.on_recordings(result),
            Input::Media(generation, signal) if generation == self.generation => match signal {
                MediaSignal::FirstFrame => {
                    self.frames_this_load = true;
                    self.metric(&[
                        ("type", "first-frame".into()),
                        ("ms", ((now_ms() - self.load_asked_ms) as f64).into()),
                        (
                            "engine",
                            if self.native { "native" } else { "hlsjs" }.into(),
                        ),
                        ("live", self.machine.phase().ne(&Phase::Replay).into()),
                    ]);
                    self.step(Event::FirstFrame)
                }
                MediaSignal::Ended => self.step(Event::MediaEnded),
                MediaSignal::Issue(issue) => self.on_issue(issue),
                MediaSignal::Buffering(b) => self.on_buffering(b),
                MediaSignal::Behind(b) => self.s.behind_live.set(b),
            },
            Input::Media(..) => {}
            Input::HlsLoaded(result) => self.on_hls_loaded(result),
            Input::Autoplay(generation, result) if generation == self.generation => {
                self.on_autoplay(result)
            }
            Input::Autoplay(..) => {}
            Input::Resized => self.on_resized(),
        }
    }

    fn step(&mut self, event: Event) {
        let ctx = self.ctx();
        let commands = self.machine.step(event, ctx);
        self.run(commands);
        self.sync();
    }

    /// Copies the machine's view into the signals and starts or stops the
    /// things that depend on the phase.
    fn sync(&mut self) {
        let m = &self.machine;
        let phase = m.phase();
        if self.s.phase.get_untracked() != phase {
            self.s.phase.set(phase);
        }
        self.s.since_ms.set(m.since_ms());
        self.s.message.set(m.message().map(str::to_string));
        self.s.retry_at_ms.set(m.retry_at_ms());
        let replaying = m.replaying().map(str::to_string);
        if self.s.replaying.get_untracked() != replaying {
            self.s.replaying.set(replaying);
        }
        self.s.live_now.set(m.live_now().is_some());
        if phase == Phase::Ended && self.last_phase != Phase::Ended {
            // A broadcast just ended: its recording will appear shortly.
            self.recordings_trigger_ms = now_ms();
            self.recordings_failures = 0;
            if self.recordings_request.is_none() {
                let me = self.me.clone();
                self.recordings_timer =
                    Some(Timeout::new(2_000, move || post(&me, Input::RecordingsNow)));
            }
        }
        self.last_phase = phase;
        self.update_processing();
        let live = matches!(phase, Phase::Live | Phase::Starting);
        match (
            live,
            self.views_timer.is_some() || self.views_request.is_some(),
        ) {
            (true, false) => self.views_now(),
            (false, true) => {
                self.views_timer = None;
                self.views_request = None;
                self.s.viewers.set(None);
            }
            _ => {}
        }
        if !live {
            self.s.buffering.set(false);
            self.s.behind_live.set(false);
        }
        let m = &self.machine;
        // Only behind the waiting and ended screens: no download while live.
        let still = m
            .video_uid()
            .filter(|_| matches!(phase, Phase::Waiting | Phase::Ended))
            .and_then(|uid| m.config().thumbnail_url(uid, 360));
        if self.s.thumbnail.get_untracked() != still {
            self.s.thumbnail.set(still);
        }
        self.announce();
    }

    /// Tells the host what changed since the last call (see `HostEvents`).
    fn announce(&mut self) {
        if self.host.is_none() {
            self.host = self.video.closest(".jlp").ok().flatten();
        }
        let Some(host) = &self.host else { return };
        let m = &self.machine;
        let now = Observed {
            phase: m.phase(),
            message: m.message().map(str::to_string),
            video_uid: m.video_uid().map(str::to_string),
            viewers: self.s.viewers.get_untracked(),
            error: m.error_code(),
            retry_in_ms: m.retry_at_ms().map(|at| at.saturating_sub(now_ms())),
            replaying: m.replaying().map(str::to_string),
        };
        for event in self.host_events.update(now) {
            emit(host, &event);
        }
    }

    fn metric(&self, fields: &[(&str, JsValue)]) {
        if let Some(host) = &self.host {
            dispatch(host, "metrics", &object(fields));
        }
    }

    fn on_resized(&mut self) {
        let size = (self.video.video_width(), self.video.video_height());
        if size.0 > 0 && size != self.picture {
            self.picture = size;
            self.metric(&[
                ("type", "quality".into()),
                ("width", size.0.into()),
                ("height", size.1.into()),
            ]);
        }
    }

    fn run(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::PollLifecycle { in_ms } => {
                    self.poll_request = None;
                    let me = self.me.clone();
                    self.poll_timer =
                        Some(Timeout::new(ms(in_ms), move || post(&me, Input::PollNow)));
                }
                Command::StopPolling => {
                    self.poll_timer = None;
                    self.poll_request = None;
                }
                Command::Load { url, live } => {
                    self.load_asked_ms = now_ms();
                    self.load(url, live)
                }
                Command::Unload => self.unload(),
                Command::RecoverMedia => {
                    if let Some(p) = &self.playback {
                        p.recover_media_error();
                    }
                }
                Command::RetryPlayback { in_ms } => {
                    let me = self.me.clone();
                    self.retry_timer = Some(Timeout::new(ms(in_ms), move || {
                        post(&me, Input::Machine(Event::RetryDue))
                    }));
                }
                Command::CancelRetry => self.retry_timer = None,
            }
        }
    }

    fn poll_now(&mut self) {
        self.poll_timer = None;
        let url = self.machine.config().lifecycle_url();
        self.poll_request = Some(self.fetch(url, |r| {
            Input::Machine(Event::Lifecycle(r.and_then(fetch::lifecycle)))
        }));
    }

    /// GETs `url` and posts the answer as `wrap` makes it; the handle aborts
    /// it. `wrap` is a plain fn so that there is one copy of the future.
    fn fetch(&self, url: String, wrap: fn(Result<JsValue, FetchError>) -> Input) -> InFlight {
        let (request, outcome) = get_json(url, ms(self.machine.policy().timeout_ms));
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(result) = outcome.await {
                post(&me, wrap(result));
            }
        });
        request
    }

    fn views_now(&mut self) {
        self.views_timer = None;
        let url = self.machine.config().views_url();
        self.views_request = Some(self.fetch(url, |r| Input::Views(r.and_then(fetch::views))));
    }

    fn on_views(&mut self, result: Result<Views, FetchError>) {
        self.views_request = None;
        if !matches!(self.machine.phase(), Phase::Live | Phase::Starting) {
            return;
        }
        match result {
            Ok(v) => {
                self.views_failures = 0;
                self.views_retry_after_ms = None;
                self.s.viewers.set(Some(v.live_viewers));
            }
            Err(e) => {
                self.views_failures = self.views_failures.saturating_add(1);
                self.views_retry_after_ms = match e {
                    FetchError::RateLimited { retry_after_ms } => retry_after_ms,
                    _ => None,
                };
                // A count we can't refresh is hidden rather than shown stale.
                self.s.viewers.set(None);
            }
        }
        self.announce();
        let ctx = self.ctx();
        let delay = self.machine.policy().next_delay(
            Poll::Views,
            self.views_failures,
            self.views_retry_after_ms,
            ctx.hidden,
            ctx.rand01,
        );
        let me = self.me.clone();
        self.views_timer = Some(Timeout::new(ms(delay), move || post(&me, Input::ViewsNow)));
    }

    fn recordings_now(&mut self) {
        self.recordings_timer = None;
        let Some(url) = self.machine.config().recordings.clone() else {
            return;
        };
        self.recordings_request = Some(self.fetch(url, |r| {
            Input::Recordings(r.and_then(fetch::recording_list))
        }));
    }

    fn on_recordings(&mut self, result: Result<RecordingList, FetchError>) {
        self.recordings_request = None;
        match result {
            Ok(list) => {
                self.recordings_failures = 0;
                self.processing_uids = list.processing.into_iter().map(|p| p.uid).collect();
                self.s.recordings_failed.set(false);
                if self.s.recordings.get_untracked() != list.recordings {
                    self.s.recordings.set(list.recordings);
                }
            }
            Err(_) => {
                self.recordings_failures = self.recordings_failures.saturating_add(1);
                // A list already shown stays; the note is for an empty one.
                let empty = self.s.recordings.with_untracked(Vec::is_empty);
                self.s.recordings_failed.set(empty);
            }
        }
        let processing = self.update_processing();
        let since = now_ms().saturating_sub(self.recordings_trigger_ms);
        if let Some(delay) =
            recordings_refresh(self.recordings_failures, processing, since, random01())
        {
            let me = self.me.clone();
            self.recordings_timer = Some(Timeout::new(ms(delay), move || {
                post(&me, Input::RecordingsNow)
            }));
        }
    }

    /// Whether a finished broadcast's recording is on its way. The broadcast
    /// on air is listed as processing too, and before the first lifecycle
    /// answer it is not known which one that is.
    fn update_processing(&mut self) -> bool {
        let m = &self.machine;
        let on_air = m.live_now().or_else(|| {
            m.video_uid()
                .filter(|_| matches!(m.phase(), Phase::Live | Phase::Starting))
        });
        let processing = m.phase() != Phase::Loading
            && self
                .processing_uids
                .iter()
                .any(|uid| Some(uid.as_str()) != on_air);
        if self.s.processing.get_untracked() != processing {
            self.s.processing.set(processing);
        }
        processing
    }

    pub fn retry_recordings(&mut self) {
        self.recordings_trigger_ms = now_ms();
        self.recordings_failures = 0;
        self.recordings_now();
    }

    pub fn play_recording(&mut self, uid: &str) {
        let url = self
            .s
            .recordings
            .with_untracked(|list| list.iter().find(|r| r.uid == uid).map(|r| r.hls.clone()));
        if let Some(url) = url {
            self.step(Event::PlayRecording {
                uid: uid.to_string(),
                url,
            });
        }
    }

    pub fn leave_replay(&mut self) {
        self.step(Event::LeaveReplay);
    }

    fn fetch_hls(&mut self) {
        let (me, src) = (self.me.clone(), self.hls_src.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let result = hls::load(&src).await;
            post(&me, Input::HlsLoaded(result));
        });
    }

    fn on_hls_loaded(&mut self, result: Result<JsValue, JsValue>) {
        match result {
            Ok(class) => {
                self.hls_class = Some(class);
                if let Some((url, live)) = self.pending_load.take() {
                    self.load(url, live);
                }
            }
            Err(_) => {
                if self.pending_load.take().is_some() {
                    // The machine retries with backoff, which loads it again.
                    self.step(Event::Playback(PlaybackIssue::Other));
                }
            }
        }
    }

    fn load(&mut self, url: String, live: bool) {
        self.unload();
        let class = match (&self.hls_class, self.native) {
            (_, true) => None,
            (Some(class), false) => Some(class.clone()),
            (None, false) => {
                let first_request = self.pending_load.is_none();
                self.pending_load = Some((url, live));
                if first_request {
                    self.fetch_hls();
                }
                return;
            }
        };
        let generation = self.generation;
        let me = self.me.clone();
        let sink: Sink = Rc::new(move |signal| post(&me, Input::Media(generation, signal)));
        match Playback::start(&self.video, class.as_ref(), &url, live, sink) {
            Ok(playback) => {
                self.playback = Some(playback);
                self.autoplay();
            }
            Err(_) => self.step(Event::Playback(PlaybackIssue::Other)),
        }
    }

    fn on_issue(&mut self, issue: PlaybackIssue) {
        // Chromium's native HLS can play a stream's first frame and then
        // fail to parse it (DEMUXER_ERROR_COULD_NOT_PARSE): the browser's
        // player can't handle this stream, so the rest of this session uses
        // hls.js where Media Source Extensions exist.
        let native_gave_up = matches!(issue, PlaybackIssue::Media | PlaybackIssue::NotPlayable);
        if self.native && self.frames_this_load && native_gave_up && mse_available() {
            self.native = false;
            self.step(Event::Playback(PlaybackIssue::Other));
            return;
        }
        self.step(Event::Playback(issue));
    }

    fn on_buffering(&mut self, buffering: bool) {
        self.s.buffering.set(buffering);
        if buffering && self.played_this_load {
            self.stall_since_ms.get_or_insert(now_ms());
        } else if let Some(since) = self.stall_since_ms.take() {
            let stalled = (now_ms() - since) as f64;
            self.metric(&[("type", "stall".into()), ("ms", stalled.into())]);
        }
        if !buffering {
            self.played_this_load = self.frames_this_load;
            self.stall_timer = None;
        } else if self.stall_timer.is_none() {
            let (me, generation) = (self.me.clone(), self.generation);
            self.stall_timer = Some(Timeout::new(ms(STALL_TIMEOUT_MS), move || {
                let issue = MediaSignal::Issue(PlaybackIssue::Network);
                post(&me, Input::Media(generation, issue))
            }));
        }
    }

    fn unload(&mut self) {
        self.stall_timer = None;
        self.stall_since_ms = None;
        self.played_this_load = false;
        self.frames_this_load = false;
        self.generation += 1;
        self.pending_load = None;
        self.playback = None;
        self.s.buffering.set(false);
        self.s.behind_live.set(false);
    }

    fn autoplay(&mut self) {
        if !self.machine.config().autoplay {
            return;
        }
        let (me, generation) = (self.me.clone(), self.generation);
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
            post(&me, Input::Autoplay(generation, result));
        });
    }

    fn on_autoplay(&mut self, result: Result<(), String>) {
        // Only a refusal of sound mutes: an AbortError from a reload must not
        // leave the viewer muted for good.
        if matches!(&result, Err(name) if name == "NotAllowedError") && !self.video.muted() {
            self.video.set_muted(true);
            self.s.muted_fallback.set(true);
            self.autoplay();
        }
    }

    // Viewer actions.

    pub fn retry_now(&mut self) {
        self.step(Event::RetryNow);
    }

    pub fn toggle_play(&mut self) {
        if self.video.paused() {
            // After a long pause a live viewer goes back to live rather than
            // watching the past (hls.js #4681: latency drifts otherwise).
            let paused_long = self
                .paused_at_ms
                .take()
                .is_some_and(|t| now_ms().saturating_sub(t) > 20_000);
            match &self.playback {
                Some(p)
                    if p.is_live() && (paused_long || p.latency().is_some_and(|l| l > 20.0)) =>
                {
                    p.go_live()
                }
                _ => {
                    let _ = self.video.play();
                }
            }
        } else {
            self.paused_at_ms = Some(now_ms());
            let _ = self.video.pause();
        }
    }

    pub fn set_muted(&mut self, muted: bool) {
        self.video.set_muted(muted);
        if !muted {
            self.s.muted_fallback.set(false);
            if self.video.paused() && self.playback.is_some() {
                let _ = self.video.play();
            }
        }
    }

    pub fn toggle_mute(&mut self) {
        self.set_muted(!self.video.muted());
    }

    pub fn go_live(&mut self) {
        if let Some(p) = &self.playback {
            p.go_live();
        }
    }

    /// The viewer changed tabs: catch up when the page shows again.
    fn on_visibility(&mut self) {
        if !page_hidden() {
            self.step(Event::Visible);
        }
    }
}

fn ms(v: u64) -> u32 {
    v.min(u32::MAX as u64) as u32
}

/// Listeners that live as long as the driver: the element's play/pause and
/// volume for the controls, and page visibility for the poll rate.
fn ui_listeners(
    video: &HtmlVideoElement,
    s: PlayerSignals,
    me: &Weak<RefCell<Driver>>,
) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    for event in ["play", "pause", "volumechange", "emptied"] {
        let v = video.clone();
        listeners.push(EventListener::new(video, event, move |_| {
            s.paused.set(v.paused());
            s.muted.set(v.muted());
            if !v.muted() {
                s.muted_fallback.set(false);
            }
        }));
    }
    {
        let me = me.clone();
        listeners.push(EventListener::new(video, "resize", move |_| {
            post(&me, Input::Resized)
        }));
    }
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        let me = me.clone();
        listeners.push(EventListener::new(
            &document,
            "visibilitychange",
            move |_| {
                if let Some(d) = me.upgrade() {
                    if let Ok(mut d) = d.try_borrow_mut() {
                        d.on_visibility();
                    }
                }
            },
        ));
    }
    listeners
}
