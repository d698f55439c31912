//! The moderator page's views and the polls that keep them current. Views
//! read signals; the figures and the status come from `player_core::health`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use player_core::cloudflare::Lifecycle;
use player_core::format;
use player_core::health::{self, HealthTracker, InputStatus, StatusClock, NO_VALUE};
use player_core::recordings::RecordingList;

use crate::api::{self, LiveInput, LiveReply};
use crate::browser::{self, Address};
use crate::net;
use crate::preview;
use crate::qoe::{self, QoeReply, RoomQoe};

/// The go-live API is asked this often while all is well (10 a minute:
/// a third of the backend's default per-token rate limit, so two tabs fit).
const STATUS_POLL_MS: u32 = 6_000;
/// Failures back off from this, doubling, up to the cap.
const BACKOFF_MS: u32 = 2_000;
const BACKOFF_CAP_MS: u32 = 30_000;
/// Recordings are asked this often (and at once after a broadcast ends).
const RECORDINGS_POLL_MS: f64 = 20_000.0;
/// The viewing figures are asked this often: the backend writes them every
/// 10 s, and they share the go-live rate limit per token: with the status
/// poll, 13 requests a minute per tab, so two tabs fit the default 30.
const QOE_POLL_MS: u32 = 20_000;
/// Failing figures requests back off up to this.
const QOE_BACKOFF_CAP_MS: u32 = 120_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// The first answer has not come yet.
    Checking,
    /// No token, no room, or the backend refused: only this sentence shows.
    Refused(String),
    Ready,
}

/// Everything the views read; `Copy` handles into the reactive arena.
#[derive(Clone, Copy)]
struct Ctx {
    room: StoredValue<String>,
    token: StoredValue<String>,
    phase: RwSignal<Phase>,
    /// `None` until known; `Some(None)` when the room has no input yet.
    input: RwSignal<Option<Option<LiveInput>>>,
    lifecycle: RwSignal<Option<Lifecycle>>,
    recordings: RwSignal<Option<RecordingList>>,
    clock: RwSignal<Option<StatusClock>>,
    /// Whether the page has seen the status change (else "seen for N s").
    changed: RwSignal<bool>,
    /// Connection trouble, shown above the sections while data stays.
    problem: RwSignal<Option<String>>,
    /// `Date.now()`, ticking every second for the "N s ago" texts.
    now: RwSignal<f64>,
    tracker: StoredValue<HealthTracker>,
    health: RwSignal<health::Health>,
    /// The preview's engine: `auto` (what viewers get:
    /// `player_core::engine`, hls.js on Chromium), `native` or `hlsjs`.
    engine: RwSignal<&'static str>,
    /// The preview's error last put in the tracker (each counts once).
    seen_error: StoredValue<Option<String>>,
    /// The room's viewing figures, once read.
    qoe: RwSignal<Option<RoomQoe>>,
    /// Why the figures are missing or old, when they are.
    qoe_note: RwSignal<Option<&'static str>>,
}

impl Ctx {
    fn alive(&self) -> bool {
        self.room.try_with_value(|_| ()).is_some()
    }

    fn api_url(&self) -> String {
        format!("/api/rooms/{}/live", api::encode(&self.room.get_value()))
    }

    /// The input without its status fields: what the go-live section and
    /// the recordings' links show, so that a status or viewer change does
    /// not rebuild them (and take the keyboard focus away).
    fn stable_input(&self) -> Memo<Option<LiveInput>> {
        let input = self.input;
        Memo::new(move |_| {
            input.get().flatten().map(|i| LiveInput {
                status: None,
                live: None,
                video_uid: None,
                viewers: None,
                ..i
            })
        })
    }

    fn status(&self) -> InputStatus {
        self.clock.get().map_or(InputStatus::Waiting, |c| c.status)
    }
}

/// Mounts the page into `<body>`.
pub fn start() {
    let address = browser::take_address();
    leptos::mount::mount_to_body(move || view! { <App address /> });
}

#[component]
fn App(address: Address) -> impl IntoView {
    let refused = match (&address.room, &address.token) {
        (None, _) => Some("No room given: open this page with ?room=<room> in the address."),
        (_, None) => Some(
            "This page needs your meeting token: open it from Jitsi, or add &jwt=<token> to the address.",
        ),
        _ => None,
    };
    let ctx = Ctx {
        room: StoredValue::new(address.room.unwrap_or_default()),
        token: StoredValue::new(address.token.as_deref().unwrap_or_default().to_string()),
        phase: RwSignal::new(refused.map_or(Phase::Checking, |r| Phase::Refused(r.into()))),
        input: RwSignal::new(None),
        lifecycle: RwSignal::new(None),
        recordings: RwSignal::new(None),
        clock: RwSignal::new(None),
        changed: RwSignal::new(false),
        problem: RwSignal::new(None),
        now: RwSignal::new(browser::wall_ms()),
        tracker: StoredValue::new(HealthTracker::default()),
        health: RwSignal::new(HealthTracker::default().health()),
        engine: RwSignal::new("auto"),
        seen_error: StoredValue::new(None),
        qoe: RwSignal::new(None),
        qoe_note: RwSignal::new(None),
    };
    if refused.is_none() {
        spawn_local(poll_status(ctx));
        spawn_local(poll_qoe(ctx));
        let tick = set_interval_with_handle(
            move || {
                let wall = browser::wall_ms();
                ctx.now.set(wall);
                sample_preview(ctx, wall);
                ctx.health
                    .set(ctx.tracker.with_value(HealthTracker::health));
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            if let Some(t) = tick {
                t.clear();
            }
        });
    }
    let status = move || ctx.status().as_str();
    view! {
        <main class="mod" data-input-status=status data-phase=move || match ctx.phase.get() {
            Phase::Checking => "checking",
            Phase::Refused(_) => "refused",
            Phase::Ready => "ready",
        }>
            {move || match ctx.phase.get() {
                Phase::Checking => view! {
                    <p class="mod-checking" role="status">"Checking your token…"</p>
                }.into_any(),
                Phase::Refused(reason) => view! {
                    <p class="mod-refused" data-refused role="alert">{reason}</p>
                }.into_any(),
                Phase::Ready => view! { <Ready ctx /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Ready(ctx: Ctx) -> impl IntoView {
    view! {
        <header class="mod-header">
            <p class="mod-kicker">"Moderator"</p>
            <h1 class="mod-title">{ctx.room.get_value()}</h1>
            <p class="mod-badge" aria-hidden="true">{move || ctx.status().label()}</p>
        </header>
        <p class="mod-problem" role="alert" hidden=move || ctx.problem.get().is_none()>
            {move || ctx.problem.get().unwrap_or_default()}
        </p>
        <div class="mod-grid">
            <div class="mod-col">
                <Preview ctx />
            </div>
            <div class="mod-col">
                <Status ctx />
                <GoLive ctx />
            </div>
        </div>
        <Viewing ctx />
        <Recordings ctx />
    }
}

#[component]
fn Viewing(ctx: Ctx) -> impl IntoView {
    let now = move || ctx.qoe.with(|q| q.as_ref().map(|q| q.viewers_now));
    // The recordings' names, by uid, for the rows (the figures carry uids).
    let name_of = move |uid: &str| {
        ctx.recordings.with(|l| {
            l.as_ref()
                .and_then(|l| l.recordings.iter().find(|r| r.uid == uid))
                .map(|r| local_date(&r.created))
        })
    };
    let rows = move || {
        ctx.qoe.with(|q| {
            let q = q.as_ref()?;
            let mut rows = Vec::new();
            if let Some(b) = q.broadcasts.first() {
                let label = if ctx.status() == InputStatus::Live {
                    "Broadcast on air"
                } else {
                    "Last broadcast"
                };
                rows.push(("broadcast", label.to_string(), qoe::row(b)));
            }
            for r in &q.recordings {
                let label = name_of(&r.video_uid).unwrap_or_else(|| {
                    let short: String = r.video_uid.chars().take(8).collect();
                    format!("Recording {short}")
                });
                rows.push(("recording", label, qoe::row(r)));
            }
            Some(rows)
        })
    };
    let chart = move || {
        ctx.qoe
            .with(|q| q.as_ref().and_then(|q| qoe::chart(&q.series)))
    };
    view! {
        <section class="mod-card mod-viewing" aria-labelledby="mod-viewing-h">
            <h2 id="mod-viewing-h">"Viewing figures"</h2>
            <p class="mod-help" hidden=move || ctx.qoe_note.get().is_none()>
                {move || ctx.qoe_note.get().unwrap_or_default()}
            </p>
            <div class="mod-viewing-top">
                <dl class="mod-now">
                    <div class="mod-figure">
                        <dt>"Watching now"</dt>
                        <dd data-qoe="viewers-now"
                            data-value=move || now().map(|n| n.to_string()).unwrap_or_default()>
                            {move || now().map_or_else(|| NO_VALUE.into(), format::compact_count)}
                        </dd>
                    </div>
                </dl>
                {move || match chart() {
                    None => view! {
                        <p class="mod-help mod-chart-empty">"The chart starts once viewers report."</p>
                    }.into_any(),
                    Some(c) => {
                        let label = format!(
                            "Viewers and rebuffering per minute over the broadcast, {} minutes: at most {:.1} viewers; the rebuffering line's top is {:.0} %.",
                            c.minutes, c.peak_viewers, c.rebuffer_scale
                        );
                        view! {
                            <figure class="mod-chart">
                                <svg data-qoe-chart viewBox=format!("0 0 {} {}", qoe::CHART_W, qoe::CHART_H)
                                    preserveAspectRatio="none" role="img" aria-label=label>
                                    <polyline class="mod-line-viewers" data-series="viewers" points=c.viewers
                                        vector-effect="non-scaling-stroke"></polyline>
                                    <polyline class="mod-line-rebuffer" data-series="rebuffer" points=c.rebuffer
                                        vector-effect="non-scaling-stroke"></polyline>
                                </svg>
                                <figcaption class="mod-legend">
                                    <span class="mod-key mod-key-viewers">{format!("Viewers (peak {:.1})", c.peak_viewers)}</span>
                                    <span class="mod-key mod-key-rebuffer">{format!("Rebuffering (top {:.0} %)", c.rebuffer_scale)}</span>
                                    <span>{format!("{} min", c.minutes)}</span>
                                </figcaption>
                            </figure>
                        }.into_any()
                    }
                }}
            </div>
            {move || rows().filter(|r| !r.is_empty()).map(|rows| view! {
                <div class="mod-table-wrap">
                    <table class="mod-table">
                        <thead>
                            <tr>
                                <th scope="col">"Video"</th>
                                {qoe::COLUMNS.into_iter().map(|(_, h)| view! { <th scope="col">{h}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|(kind, label, row)| view! {
                                <tr data-qoe-row=kind data-video-uid=row.video_uid.clone()>
                                    <th scope="row">{label}</th>
                                    {row.cells.into_iter().zip(qoe::COLUMNS).map(|((name, text, value), (_, header))| view! {
                                        <td data-qoe=name data-value=value data-label=header>{text}</td>
                                    }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

#[component]
fn GoLive(ctx: Ctx) -> impl IntoView {
    let shown = RwSignal::new(false);
    let announce = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let create_problem = RwSignal::new(None::<String>);
    let copy = move |what: &'static str, text: String| {
        spawn_local(async move {
            let ok = browser::copy(text).await;
            announce.set(if ok {
                format!("{what} copied.")
            } else {
                format!(
                    "The browser did not allow copying: select the {} and copy it by hand.",
                    what.to_lowercase()
                )
            });
        });
    };
    let create = move |_| {
        if creating.get_untracked() {
            return;
        }
        creating.set(true);
        create_problem.set(None);
        spawn_local(async move {
            let (_inflight, reply) = net::send("POST", ctx.api_url(), Some(ctx.token.get_value()));
            let outcome = reply.await;
            creating.set(false);
            match outcome {
                None => {}
                Some(Err(e)) => create_problem.set(Some(e.sentence().into())),
                Some(Ok(r)) => {
                    match api::live_reply(r.status, &r.body, r.retry_after) {
                        LiveReply::Input(i) => ctx.input.set(Some(Some(*i))),
                        LiveReply::NoInput => create_problem
                            .set(Some("The backend found no room by that name.".into())),
                        LiveReply::Refused(reason) | LiveReply::Failed(reason) => {
                            create_problem.set(Some(reason))
                        }
                        LiveReply::RateLimited(s) => create_problem
                            .set(Some(format!("Too many requests: try again in {s} s."))),
                    }
                }
            }
        });
    };
    let input = ctx.stable_input();
    view! {
        <section class="mod-card mod-golive" aria-labelledby="mod-golive-h">
            <h2 id="mod-golive-h">"Go live"</h2>
            {move || match input.get() {
                None => view! {
                    <p class="mod-help">
                        "This room has no live input yet. Get one to receive the string Jitsi needs to stream."
                    </p>
                    <button type="button" class="mod-button mod-primary" data-action="create-input"
                        on:click=create disabled=move || creating.get()>
                        {move || if creating.get() { "Getting the stream key…" } else { "Get the stream key" }}
                    </button>
                    <p class="mod-error" role="alert" hidden=move || create_problem.get().is_none()>
                        {move || create_problem.get().unwrap_or_default()}
                    </p>
                }.into_any(),
                Some(i) => {
                    let stream_id = i.stream_id.clone();
                    let masked = health::mask_stream_id(&stream_id);
                    let sid = stream_id.clone();
                    let watch = i.watch_url.clone();
                    let watch_copy = watch.clone();
                    let embed = i.embed.clone();
                    let embed_copy = embed.clone();
                    view! {
                        <div class="mod-field">
                            <p class="mod-label" id="mod-sid-l">
                                "Paste into Jitsi's “Start live stream” dialog"
                            </p>
                            <code class="mod-value mod-secret" data-stream-id
                                data-masked=move || if shown.get() { "false" } else { "true" }
                                aria-labelledby="mod-sid-l">
                                {move || if shown.get() { stream_id.clone() } else { masked.clone() }}
                            </code>
                            <div class="mod-actions">
                                <button type="button" class="mod-button" data-action="toggle-stream-id"
                                    aria-pressed=move || shown.get().to_string()
                                    on:click=move |_| shown.update(|s| *s = !*s)>
                                    {move || if shown.get() { "Hide" } else { "Show" }}
                                </button>
                                <button type="button" class="mod-button" data-action="copy-stream-id"
                                    on:click=move |_| copy("Stream key", sid.clone())>"Copy"</button>
                            </div>
                            <p class="mod-hint">"Anyone with this string can stream to your viewers: share it with no one."</p>
                        </div>
                        <div class="mod-field">
                            <p class="mod-label">"Viewers watch at"</p>
                            <a class="mod-value mod-link" data-watch-url href=watch.clone() target="_blank"
                                rel="noopener noreferrer">{watch.clone()}</a>
                            <div class="mod-actions">
                                <button type="button" class="mod-button" data-action="copy-watch-url"
                                    on:click=move |_| copy("Watch URL", watch_copy.clone())>"Copy"</button>
                            </div>
                        </div>
                        <div class="mod-field">
                            <p class="mod-label">"Embed on a web page"</p>
                            <pre class="mod-value mod-code"><code data-embed>{embed}</code></pre>
                            <div class="mod-actions">
                                <button type="button" class="mod-button" data-action="copy-embed"
                                    on:click=move |_| copy("Embed snippet", embed_copy.clone())>"Copy"</button>
                            </div>
                        </div>
                    }.into_any()
                }
            }}
            <p class="mod-announce" role="status" aria-live="polite">{move || announce.get()}</p>
        </section>
    }
}

#[component]
fn Status(ctx: Ctx) -> impl IntoView {
    let secs = move || {
        let now = ctx.now.get();
        ctx.clock.get().map_or(0, |c| c.secs(now))
    };
    let since = move || {
        if ctx.changed.get() {
            format!("changed {}", health::ago(secs()))
        } else {
            format!("as of {}", health::ago(secs()))
        }
    };
    let cf_status = move || {
        ctx.input
            .get()
            .flatten()
            .and_then(|i| i.status)
            .unwrap_or_else(|| NO_VALUE.into())
    };
    let live_for = move || {
        let live = ctx.status() == InputStatus::Live;
        if live && ctx.changed.get() {
            format::clock(secs())
        } else if live {
            format!("at least {}", format::clock(secs()))
        } else {
            NO_VALUE.into()
        }
    };
    view! {
        <section class="mod-card mod-status" aria-labelledby="mod-status-h">
            <h2 id="mod-status-h">"Status"</h2>
            <p class="mod-status-line">
                <span class="mod-dot" aria-hidden="true"></span>
                <span class="mod-status-label" role="status" aria-live="polite" data-status-label>
                    {move || ctx.status().label()}
                </span>
                <span class="mod-since" data-status-since>{since}</span>
            </p>
            <dl class="mod-facts">
                <div><dt>"Cloudflare input status"</dt><dd data-cf-status>{cf_status}</dd></div>
                <div><dt>"Live for"</dt><dd data-live-for>{live_for}</dd></div>
            </dl>
        </section>
    }
}

/// Label of each figure, in panel order.
const FIGURES: [(&str, &str); 10] = [
    ("resolution", "Resolution"),
    ("fps", "Frame rate"),
    ("bitrate", "Declared bitrate"),
    ("throughput", "Download throughput"),
    ("buffer", "Buffer ahead"),
    ("latency", "Behind live edge"),
    ("clock-latency", "Behind wall clock"),
    ("decoded-frames", "Decoded frames"),
    ("dropped-frames", "Dropped frames"),
    ("stalls", "Stalls"),
];

#[component]
fn Figure(name: &'static str, label: &'static str, ctx: Ctx) -> impl IntoView {
    let shown = move || {
        ctx.health.with(|h| {
            h.shown()
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s)
        })
    };
    view! {
        <div class="mod-figure">
            <dt>{label}</dt>
            <dd data-health=name
                data-value=move || shown().map(|s| s.value).unwrap_or_default()
                title=move || shown().and_then(|s| s.why)>
                {move || shown().map(|s| s.text).unwrap_or_else(|| NO_VALUE.into())}
                <span class="mod-sr">{move || shown().and_then(|s| s.why).map(|w| format!(" ({w})"))}</span>
            </dd>
        </div>
    }
}

#[component]
fn Preview(ctx: Ctx) -> impl IntoView {
    let viewers = move || ctx.input.get().flatten().and_then(|i| i.viewers);
    let watch = move || ctx.input.get().flatten().map(|i| i.watch_url);
    // The frame reloads only when its address changes, not on every poll.
    let preview_src = Memo::new(move |_| {
        ctx.input
            .get()
            .flatten()
            .map(|i| i.preview_url(ctx.engine.get(), &ctx.token.get_value()))
    });
    let last_error = move || {
        ctx.health.with(|h| {
            h.last_error.clone().map(|(m, at)| {
                let ago = health::ago(((ctx.now.get() - at).max(0.0) / 1000.0) as u64);
                format!("{m} ({ago})")
            })
        })
    };
    view! {
        <section class="mod-card mod-preview" aria-labelledby="mod-preview-h">
            <h2 id="mod-preview-h">"Preview and health"</h2>
            <div class="mod-stage" data-preview>
                {move || match preview_src.get() {
                    Some(src) => {
                        view! {
                            <iframe id=preview::FRAME_ID class="mod-frame" src=src
                                title="Preview: the watch page as viewers see it, muted"
                                allow="autoplay; fullscreen"></iframe>
                        }.into_any()
                    }
                    None => view! {
                        <p class="mod-stage-text">"The preview starts once the room has a live input."</p>
                    }.into_any(),
                }}
            </div>
            <div class="mod-engine" role="group" aria-label="Preview engine">
                <span class="mod-engine-label">"Preview with"</span>
                {[("auto", "as viewers get it"), ("native", "the browser's HLS"), ("hlsjs", "hls.js")].into_iter().map(|(engine, label)| view! {
                    <button type="button" class="mod-button mod-small" data-action="preview-engine"
                        data-engine=engine aria-pressed=move || (ctx.engine.get() == engine).to_string()
                        on:click=move |_| ctx.engine.set(engine)>{label}</button>
                }).collect_view()}
                {move || watch().map(|w| view! {
                    <a class="mod-engine-open" href=w target="_blank" rel="noopener noreferrer">
                        "Open the watch page"
                    </a>
                })}
            </div>
            <dl class="mod-health" aria-label="Stream health">
                {FIGURES.into_iter().map(|(name, label)| view! { <Figure name label ctx /> }).collect_view()}
                <div class="mod-figure">
                    <dt>"Viewers now"</dt>
                    <dd data-health="viewers"
                        data-value=move || viewers().map(|v| v.to_string()).unwrap_or_default()
                        title=move || viewers().is_none().then_some(health::Unknown::NotReported.reason())>
                        {move || viewers().map_or_else(|| NO_VALUE.into(), format::compact_count)}
                    </dd>
                </div>
            </dl>
            <p class="mod-last-error" data-last-error>
                "Last error: "
                {move || last_error().unwrap_or_else(|| "none".into())}
            </p>
        </section>
    }
}

#[component]
fn Recordings(ctx: Ctx) -> impl IntoView {
    let input = ctx.stable_input();
    let list = move || {
        let input = input.get()?;
        let mut recs = ctx.recordings.get()?.recordings;
        // Newest first, whatever order came (RFC 3339 sorts as text).
        recs.sort_by(|a, b| b.created.cmp(&a.created));
        Some(
            recs.into_iter()
                .map(|r| (input.replay_url(&r.uid), r))
                .collect::<Vec<_>>(),
        )
    };
    // The broadcast on air is "in progress" too: not a recording to wait for.
    let processing = move || {
        let on_air = ctx.input.get().flatten().and_then(|i| i.video_uid);
        ctx.recordings.get().map_or(0, |l| {
            l.processing
                .iter()
                .filter(|p| Some(&p.uid) != on_air.as_ref())
                .count()
        })
    };
    view! {
        <section class="mod-card mod-recordings" aria-labelledby="mod-rec-h">
            <h2 id="mod-rec-h">"Recordings"</h2>
            <p class="mod-help" hidden=move || processing() == 0>
                {move || match processing() {
                    1 => "One recording will be available shortly.".to_string(),
                    n => format!("{n} recordings will be available shortly."),
                }}
            </p>
            {move || match list() {
                None => view! { <p class="mod-help">"No recordings yet."</p> }.into_any(),
                Some(items) if items.is_empty() => {
                    view! { <p class="mod-help">"No recordings yet."</p> }.into_any()
                }
                Some(items) => view! {
                    <ol class="mod-rec-list">
                        {items.into_iter().map(|(href, r)| {
                            let date = local_date(&r.created);
                            let duration = format::clock(r.duration_seconds.max(0.0).round() as u64);
                            view! {
                                <li class="mod-rec" data-recording=r.uid.clone()>
                                    <span class="mod-rec-text">
                                        <span class="mod-rec-name">{r.name.clone()}</span>
                                        <span class="mod-rec-meta">
                                            <time datetime=r.created.clone()>{date}</time>
                                            " · "
                                            <span data-duration=r.duration_seconds.to_string()>{duration}</span>
                                        </span>
                                    </span>
                                    <a class="mod-button" href=href target="_blank" rel="noopener noreferrer"
                                        aria-label=format!("Replay {}", r.name)>"Replay"</a>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any(),
            }}
        </section>
    }
}

/// The date in the moderator's locale (the text as it came if unparsable).
fn local_date(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_else(|| rfc3339.to_string())
}

/// Reads the preview once into the tracker: the sample, a stall's start or
/// end, a new error.
fn sample_preview(ctx: Ctx, wall: f64) {
    let at = browser::perf_ms();
    let r = preview::read(at, wall);
    let new_error = r
        .error
        .filter(|e| ctx.seen_error.with_value(|seen| seen.as_ref() != Some(e)));
    if let Some(e) = &new_error {
        ctx.seen_error.set_value(Some(e.clone()));
    }
    ctx.tracker.update_value(|t| {
        if r.stalled {
            t.stalls.start(at);
        } else {
            t.stalls.end(at);
        }
        if let Some(e) = &new_error {
            t.error(e, wall);
        }
        t.sample(r.sample);
        for load in r.loads {
            t.fragment_loaded(load);
        }
    });
}

/// Asks the go-live API (and the delivery lifecycle, and now and then the
/// recordings) until the page goes away.
async fn poll_status(ctx: Ctx) {
    let mut failures = 0u32;
    let mut recordings_at = f64::NEG_INFINITY;
    while ctx.alive() {
        let delay = match poll_once(ctx).await {
            Polled::Stop => return,
            Polled::Ok => {
                failures = 0;
                STATUS_POLL_MS
            }
            Polled::RetryAfter(s) => (s.saturating_mul(1000)).min(300_000) as u32,
            Polled::Failed => {
                failures += 1;
                BACKOFF_MS
                    .saturating_mul(1 << failures.min(5).saturating_sub(1))
                    .min(BACKOFF_CAP_MS)
            }
        };
        let now = browser::wall_ms();
        let ended = ctx.status() == InputStatus::Ended;
        if now - recordings_at >= RECORDINGS_POLL_MS || (ended && now - recordings_at >= 5_000.0) {
            recordings_at = now;
            poll_recordings(ctx).await;
        }
        gloo_timers::future::TimeoutFuture::new(delay).await;
    }
}

enum Polled {
    Ok,
    Stop,
    RetryAfter(u64),
    Failed,
}

async fn poll_once(ctx: Ctx) -> Polled {
    let (_inflight, reply) = net::send("GET", ctx.api_url(), Some(ctx.token.get_value()));
    let Some(reply) = reply.await else {
        return Polled::Stop;
    };
    if !ctx.alive() {
        return Polled::Stop;
    }
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            ctx.problem.set(Some(problem_text(e.sentence())));
            return Polled::Failed;
        }
    };
    let (has_input, input) = match api::live_reply(reply.status, &reply.body, reply.retry_after) {
        LiveReply::Input(i) => (true, Some(*i)),
        LiveReply::NoInput => (false, None),
        LiveReply::Refused(reason) => {
            // The token expired or was withdrawn: nothing else of the page.
            ctx.phase.set(Phase::Refused(reason));
            return Polled::Stop;
        }
        LiveReply::RateLimited(s) => {
            ctx.problem.set(Some(problem_text(&format!(
                "The backend asks to slow down ({s} s)."
            ))));
            return Polled::RetryAfter(s);
        }
        LiveReply::Failed(why) => {
            ctx.problem.set(Some(problem_text(&why)));
            return Polled::Failed;
        }
    };
    if ctx.problem.with_untracked(Option::is_some) {
        ctx.problem.set(None);
    }
    // The delivery lifecycle says whether viewers can play it now.
    let lifecycle = match input.as_ref().and_then(LiveInput::delivery) {
        Some(d) => {
            let (_inflight, reply) = net::send("GET", d.lifecycle_url(), None);
            match reply.await {
                Some(Ok(r)) => api::lifecycle(r.status, &r.body),
                _ => None,
            }
        }
        None => None,
    };
    let live = input.as_ref().and_then(|i| i.live).unwrap_or(false)
        || lifecycle.as_ref().is_some_and(|l| l.live);
    let cf_status = input.as_ref().and_then(|i| i.status.clone());
    let now = browser::wall_ms();
    let previous = ctx.clock.get_untracked().map(|c| c.status);
    let status = health::derive_status(previous, has_input, cf_status.as_deref(), live);
    match ctx.clock.get_untracked() {
        None => ctx.clock.set(Some(StatusClock::new(status, now))),
        Some(mut c) => {
            if c.observe(status, now) {
                ctx.clock.set(Some(c));
                ctx.changed.set(true);
            }
        }
    }
    ctx.lifecycle.set(lifecycle);
    if ctx.input.with_untracked(|i| i.as_ref() != Some(&input)) {
        ctx.input.set(Some(input));
    }
    // A signal set notifies even when the value is the same: setting Ready
    // on every poll rebuilt the whole page (the frame reloaded, the focus
    // went).
    if ctx.phase.with_untracked(|p| *p != Phase::Ready) {
        ctx.phase.set(Phase::Ready);
    }
    Polled::Ok
}

/// Asks the viewing figures until the page goes away: every
/// [`QOE_POLL_MS`], backing off (doubling, up to [`QOE_BACKOFF_CAP_MS`]) on
/// failures, as long as `Retry-After` says on 429; stops when the token is
/// refused (the status poll shows the reason).
async fn poll_qoe(ctx: Ctx) {
    let mut failures = 0u32;
    // The first read waits for the status poll to accept the token.
    gloo_timers::future::TimeoutFuture::new(1_500).await;
    while ctx.alive() {
        let url = format!("/api/rooms/{}/qoe", api::encode(&ctx.room.get_value()));
        let (_inflight, reply) = net::send("GET", url, Some(ctx.token.get_value()));
        let Some(reply) = reply.await else { return };
        if !ctx.alive() {
            return;
        }
        let outcome = match reply {
            Ok(r) => qoe::reply(r.status, &r.body, r.retry_after),
            Err(_) => QoeReply::Failed,
        };
        let delay = match outcome {
            QoeReply::Figures(q) => {
                failures = 0;
                ctx.qoe_note.set(None);
                ctx.qoe.set(Some(*q));
                QOE_POLL_MS
            }
            QoeReply::NoInput => {
                failures = 0;
                ctx.qoe_note
                    .set(Some("No figures yet: the room has no live input."));
                QOE_POLL_MS
            }
            QoeReply::Refused => return,
            QoeReply::RateLimited(s) => {
                ctx.qoe_note.set(Some(
                    "The backend asks to slow down: the figures may be out of date.",
                ));
                (s.saturating_mul(1000)).min(300_000) as u32
            }
            QoeReply::Failed => {
                failures += 1;
                ctx.qoe_note.set(Some(
                    "The figures could not be read; the page keeps trying, what it shows may be out of date.",
                ));
                QOE_POLL_MS
                    .saturating_mul(1 << failures.min(4))
                    .min(QOE_BACKOFF_CAP_MS)
            }
        };
        gloo_timers::future::TimeoutFuture::new(delay).await;
    }
}

fn problem_text(why: &str) -> String {
    format!("{why} The page keeps trying; what it shows may be out of date.")
}

async fn poll_recordings(ctx: Ctx) {
    let Some(input) = ctx.input.get_untracked().flatten() else {
        return;
    };
    let url = format!("/api/inputs/{}/recordings", api::encode(&input.input_uid));
    let (_inflight, reply) = net::send("GET", url, None);
    if let Some(Ok(r)) = reply.await {
        if let Some(list) = api::recordings(r.status, &r.body) {
            ctx.recordings.set(Some(list));
        }
    }
}
