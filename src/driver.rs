//! Routes: inputs (timers, answers, the slot's reports, the viewer's
//! actions) arrive in one mailbox, go to `player_core::player::Player`, and
//! its commands go to the one part that carries each out: timers and
//! requests here, playback to the [`Slot`], events and metrics to the
//! [`Host`]. No rule lives here. Dropping the [`Mailbox`] stops the loop,
//! which drops the driver and with it every browser resource it holds.

use crate::interop::fetch::{self, get_json, InFlight};
use crate::interop::host::Host;
use crate::interop::qoe::Qoe;
use crate::interop::slot::{Note, Slot};
use crate::interop::{now_ms, on_page_visible, page_hidden, random01};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_core::Stream;
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use player_core::config::{PlayerConfig, Source};
use player_core::machine::{Action, Command, Ctx, Event, FetchError};
use player_core::player::{Player, View};
use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::HtmlVideoElement;

/// The player's timers; the first five end in a request of the same kind.
#[derive(Clone, Copy)]
enum Timer {
    Lifecycle,
    Views,
    Recordings,
    Token,
    VideoToken,
    Retry,
    Stall,
}

enum Input {
    Event(Event),
    Due(Timer),
    Fetched(Timer, Result<JsValue, FetchError>),
    Slot(Note),
    Action(Action),
}

/// Sends the viewer's actions to a running player; dropping it stops the player.
pub struct Mailbox {
    tx: UnboundedSender<Input>,
    stopped: Rc<Cell<bool>>,
}

impl Mailbox {
    pub fn act(&self, action: Action) {
        let _ = self.tx.unbounded_send(Input::Action(action));
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        self.stopped.set(true);
        self.tx.close_channel();
    }
}

struct Driver {
    player: Player,
    slot: Slot,
    host: Host,
    /// Viewing figures, when an endpoint is configured.
    qoe: Option<Qoe>,
    view: RwSignal<View>,
    tx: UnboundedSender<Input>,
    timers: [Option<Timeout>; 7],
    requests: [Option<InFlight>; 5],
    /// The private recording whose token [`Timer::VideoToken`] asks for.
    video_token_for: Option<String>,
    _clock: Interval,
    _page: Option<EventListener>,
}

/// Starts the player on `video`; `view` and `now` are what the screen reads.
pub fn start(
    config: PlayerConfig,
    video: HtmlVideoElement,
    view: RwSignal<View>,
    now: RwSignal<u64>,
    hls_src: String,
) -> Mailbox {
    let (tx, rx) = unbounded();
    let send = {
        let tx = tx.clone();
        move |input| {
            let _ = tx.unbounded_send(input);
        }
    };
    let slot = {
        let send = send.clone();
        Slot::new(
            video,
            hls_src,
            config.delivery_prefix(),
            config.autoplay,
            Rc::new(move |note| send(Input::Slot(note))),
        )
    };
    let qoe = config
        .qoe
        .clone()
        // What the page's loader started began at navigation (0).
        .map(|endpoint| Qoe::new(slot.video(), endpoint, slot.adopted().then_some(0)));
    let (player, commands) = Player::new(config, slot.caps(), now_ms());
    let host = Host::new(slot.video().clone());
    let page = {
        let send = send.clone();
        on_page_visible(move || send(Input::Event(Event::Visible)))
    };
    let mut driver = Driver {
        player,
        slot,
        host,
        qoe,
        view,
        tx: tx.clone(),
        timers: Default::default(),
        requests: Default::default(),
        video_token_for: None,
        _clock: Interval::new(1_000, move || {
            now.try_set(now_ms());
        }),
        _page: page,
    };
    driver.run(commands);
    driver.publish();
    let stopped = Rc::new(Cell::new(false));
    wasm_bindgen_futures::spawn_local(route(driver, rx, stopped.clone()));
    Mailbox { tx, stopped }
}

/// The loop: one input at a time, until the mailbox is dropped.
async fn route(mut driver: Driver, mut rx: UnboundedReceiver<Input>, stopped: Rc<Cell<bool>>) {
    while let Some(input) = std::future::poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await {
        if stopped.get() {
            break;
        }
        driver.handle(input);
    }
}

impl Driver {
    fn handle(&mut self, input: Input) {
        let event = match input {
            Input::Event(event) => event,
            Input::Due(Timer::Retry) => Event::RetryDue,
            Input::Due(Timer::Stall) => Event::StallDue,
            Input::Due(timer) => return self.fetch(timer),
            Input::Fetched(timer, result) => {
                self.cancel_request(timer);
                match timer {
                    Timer::Lifecycle => Event::Lifecycle(result.and_then(fetch::lifecycle)),
                    Timer::Views => Event::Views(result.and_then(fetch::views)),
                    Timer::Token => Event::Token(result.and_then(fetch::token_answer)),
                    Timer::VideoToken => Event::VideoToken(result.and_then(fetch::token_answer)),
                    _ => Event::Recordings(result.and_then(fetch::recording_list)),
                }
            }
            Input::Slot(note) => match self.slot.accept(note) {
                Some(event) => event,
                None => return,
            },
            Input::Action(Action::Play | Action::Pause) => Event::TogglePlay {
                latency: self.slot.latency(),
            },
            Input::Action(action) => Event::Action(action),
        };
        let ctx = Ctx {
            now_ms: now_ms(),
            rand01: random01(),
            hidden: page_hidden(),
        };
        let commands = self.player.step(event, ctx);
        self.run(commands);
        self.publish();
    }

    /// Hands the player's view to the screen and the host.
    fn publish(&mut self) {
        let view = self.player.view();
        self.host.announce(&view, now_ms());
        self.view.try_set(view);
    }

    fn run(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::PollLifecycle { in_ms } => self.set(Timer::Lifecycle, in_ms),
                Command::StopPolling => self.cancel(Timer::Lifecycle),
                Command::Load { url, live } => self.slot.load(url, live),
                Command::Unload => self.slot.unload(),
                Command::RecoverMedia => self.slot.recover(),
                Command::RetryPlayback { in_ms } => self.set(Timer::Retry, in_ms),
                Command::CancelRetry => self.cancel(Timer::Retry),
                Command::UseEngine { native } => self.slot.use_engine(native),
                Command::PrefetchHlsjs => self.slot.prefetch_hlsjs(),
                Command::PollViews { in_ms } => self.set(Timer::Views, in_ms),
                Command::StopViews => self.cancel(Timer::Views),
                Command::PollRecordings { in_ms } => self.set(Timer::Recordings, in_ms),
                Command::WatchStall { in_ms } => self.set(Timer::Stall, in_ms),
                Command::CancelStall => self.cancel(Timer::Stall),
                Command::Play => self.slot.play(),
                Command::Pause => self.slot.pause(),
                Command::SetMuted(muted) => self.slot.set_muted(muted),
                Command::GoLive => self.slot.go_live(),
                Command::ToggleFullscreen => self.host.toggle_fullscreen(),
                Command::SetVolume(volume) => self.slot.set_volume(volume),
                Command::TogglePip => self.slot.toggle_pip(),
                Command::SetLevel(level) => self.slot.set_level(level),
                Command::FetchToken { in_ms } => self.set(Timer::Token, in_ms),
                Command::SetToken(token) => self.slot.set_token(&token),
                Command::FetchVideoToken { uid, in_ms } => {
                    self.video_token_for = Some(uid);
                    match in_ms {
                        0 => self.fetch(Timer::VideoToken),
                        _ => self.set(Timer::VideoToken, in_ms),
                    }
                }
                Command::SetVideoToken(token) => self.slot.set_video_token(&token),
                Command::StopVideoToken => {
                    self.cancel(Timer::VideoToken);
                    self.video_token_for = None;
                }
                Command::Metric(metric) => self.host.metric(&metric),
                Command::Qoe(fact) => {
                    if let Some(qoe) = &self.qoe {
                        qoe.on(fact);
                    }
                }
            }
        }
    }

    /// Starts `timer`, replacing any pending one (and its request).
    fn set(&mut self, timer: Timer, in_ms: u64) {
        self.cancel(timer);
        let tx = self.tx.clone();
        let ms = in_ms.min(u32::MAX as u64) as u32;
        self.timers[timer as usize] = Some(Timeout::new(ms, move || {
            let _ = tx.unbounded_send(Input::Due(timer));
        }));
    }

    fn cancel(&mut self, timer: Timer) {
        self.timers[timer as usize] = None;
        self.cancel_request(timer);
    }

    /// Aborts the request of `timer`, if it polls and one is in flight.
    fn cancel_request(&mut self, timer: Timer) -> Option<&mut Option<InFlight>> {
        let slot = self.requests.get_mut(timer as usize)?;
        *slot = None;
        Some(slot)
    }

    /// GETs what `timer` polls; the answer comes back as `Input::Fetched`.
    fn fetch(&mut self, timer: Timer) {
        self.timers[timer as usize] = None;
        let config = self.player.machine().config();
        let mut post = None;
        let url = match timer {
            Timer::Lifecycle => config.lifecycle_url(),
            Timer::Views => config.views_url(),
            Timer::Token | Timer::VideoToken => match &config.token_url {
                Some(url) => {
                    let source = match (timer, &self.video_token_for) {
                        (Timer::VideoToken, Some(uid)) => Source::Video(uid.clone()),
                        (Timer::VideoToken, None) => return,
                        _ => config.source.clone(),
                    };
                    // The viewer's Jitsi token goes here and nowhere else.
                    post = Some(fetch::Post {
                        body: player_core::signed::request_body(&source),
                        bearer: config.jwt.as_ref().map(|j| j.expose().to_string()),
                    });
                    url.clone()
                }
                None => return,
            },
            _ => match &config.recordings {
                Some(url) => url.clone(),
                None => return,
            },
        };
        let timeout = self.player.machine().policy().timeout_ms;
        let (request, outcome) = get_json(url, timeout.min(u32::MAX as u64) as u32, post);
        let tx = self.tx.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(result) = outcome.await {
                let _ = tx.unbounded_send(Input::Fetched(timer, result));
            }
        });
        if let Some(slot) = self.cancel_request(timer) {
            *slot = Some(request);
        }
    }
}
