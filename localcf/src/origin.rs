//! The local origin's state: live inputs, their broadcasts (videos), faults,
//! viewer counts and request statistics, behind one lock.
//!
//! Methods take the lock briefly and never across an `.await`; file and
//! process work happens outside it (in the handlers and the supervisor).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use player_core::cloudflare::{Lifecycle, Views};
use stream_api::account::RecordingSettings;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::api::{
    AccountCall, AccountCalls, CreateInput, InputCreated, InputState, InputStatus, RequestCounts,
    Source, StartBroadcast, Stats, StopMode, ViewerStatus,
};
use crate::caps::{self, Caps};
use crate::error::{ApiError, ApiResult};
use crate::faults::{self, Faults};
use crate::ffmpeg::{self, Encode, Rendition, VideoSize};
use crate::hls::{self, Variant};
use crate::ids;
use crate::recording::{self, RecordingMeta, RecordingState};
use crate::supervisor::{self, StopRequest};
use crate::thumbnails::{self, Thumbnails};
use crate::viewers::{self, ViewerCounter};

/// Bytes of FLV queued between the RTMP connection and ffmpeg's stdin.
const FEED_CAPACITY: usize = 256;
/// How long `stop` waits for ffmpeg to exit and the recording to close.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Defaults of a synthetic broadcast.
    pub encode: Encode,
    pub segment_seconds: u32,
    /// Segments in a live media playlist.
    pub live_window: usize,
    /// The ffmpeg program.
    pub ffmpeg: String,
    /// TTF for the burned-in clock.
    pub font: Option<String>,
    /// `rtmp://host:port/live` when RTMP ingest is on.
    pub rtmp_base: Option<String>,
    /// What broadcasts and inputs may cost.
    pub caps: Caps,
    /// Bounds on the clients viewer counting remembers.
    pub viewer_limits: viewers::Limits,
}

/// A broadcast's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// ffmpeg runs; no segment in every rendition yet.
    Starting,
    /// Playable.
    Live,
    /// ffmpeg has exited and the recording is closed.
    Ended,
}

struct Input {
    name: String,
    /// `meta.room` given to the account API's create.
    meta_room: Option<String>,
    stream_key: String,
    created: SystemTime,
    /// As given to the account API's create (defaults otherwise).
    recording: RecordingSettings,
    faults: Faults,
    fixed_viewers: Option<u64>,
    viewers: ViewerCounter,
    stats: RequestCounts,
    /// The broadcast running now (starting or live).
    current: Option<String>,
    /// When the last RTMP publisher left (its broadcast ended): for the
    /// input's `recording.timeoutSeconds` after it, the account API says
    /// `reconnecting`, as Cloudflare waits that long for the publisher.
    publisher_left: Option<Instant>,
    /// Every broadcast since start-up, oldest first.
    history: Vec<String>,
}

struct Video {
    input_uid: String,
    /// The input's name when the broadcast started.
    name: String,
    created: SystemTime,
    /// When the recording was closed.
    ended: Option<SystemTime>,
    /// Seconds of media, once closed.
    duration: Option<f64>,
    /// `ready` or `error`, once closed.
    outcome: Option<RecordingState>,
    dir: PathBuf,
    source: Source,
    renditions: Vec<Rendition>,
    phase: Phase,
    live_since: Option<Instant>,
    /// To the supervisor, while ffmpeg runs.
    stop_tx: Option<mpsc::UnboundedSender<StopRequest>>,
    /// The input's `requireSignedURLs` when the broadcast started.
    require_signed_urls: bool,
}

#[derive(Default)]
struct State {
    inputs: BTreeMap<String, Input>,
    videos: HashMap<String, Video>,
    /// Recordings of earlier runs (from the data dir), by input uid.
    past: HashMap<String, Vec<String>>,
    closing: bool,
    account_calls: AccountCalls,
    /// Broadcasts whose ffmpeg runs (for `--max-broadcasts`).
    running: HashSet<String>,
    /// Viewer-counting clients remembered, all inputs together.
    viewers_tracked: usize,
}

/// A live input as the account API stand-in shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountInput {
    pub uid: String,
    pub name: String,
    /// `meta.room`, as created.
    pub room: Option<String>,
    pub stream_key: String,
    pub created: SystemTime,
    pub recording: RecordingSettings,
    /// A broadcast runs (starting or live).
    pub connected: bool,
    /// No broadcast runs, but its RTMP publisher left less than
    /// `recording.timeoutSeconds` ago (see [`reconnecting`]).
    pub reconnecting: bool,
    /// `rtmp://host:port/live` when RTMP ingest is on.
    pub rtmp_base: Option<String>,
}

/// A broadcast (video) as the account API stand-in shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountVideo {
    pub uid: String,
    pub input_uid: String,
    pub name: String,
    pub created: SystemTime,
    pub ended: Option<SystemTime>,
    pub duration: Option<f64>,
    pub outcome: Option<RecordingState>,
    pub size: Option<VideoSize>,
    pub require_signed_urls: bool,
}

/// Whether Cloudflare still waits for a publisher that left at `left`:
/// within the input's `recording.timeoutSeconds` (unset: 0, no wait) a
/// publisher that comes back continues the broadcast, and the input's
/// status is `reconnecting` meanwhile. (The stand-in then starts a new video
/// all the same: only the status is modelled.)
pub fn reconnecting(left: Option<Instant>, timeout_seconds: Option<u64>, now: Instant) -> bool {
    let wait = Duration::from_secs(timeout_seconds.unwrap_or(0));
    left.is_some_and(|at| now.saturating_duration_since(at) < wait)
}

/// What a delivery id names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Input(String),
    Video { video: String, input: String },
}

impl Target {
    fn input_uid(&self) -> &str {
        match self {
            Target::Input(i) | Target::Video { input: i, .. } => i,
        }
    }
}

/// Delivery endpoints, for the request statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Lifecycle,
    Views,
    Manifest,
    Playlist,
    Segment,
    Thumbnail,
}

impl RequestCounts {
    fn bump(&mut self, e: Endpoint) {
        let n = match e {
            Endpoint::Lifecycle => &mut self.lifecycle,
            Endpoint::Views => &mut self.views,
            Endpoint::Manifest => &mut self.manifest,
            Endpoint::Playlist => &mut self.playlist,
            Endpoint::Segment => &mut self.segment,
            Endpoint::Thumbnail => &mut self.thumbnail,
        };
        *n = n.saturating_add(1);
    }
}

/// What `GET /<id>/manifest/video.m3u8` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterPlan {
    /// 204, empty: the input has nothing live.
    Idle,
    /// The master playlist of these variants.
    Ready(Vec<Variant>),
}

/// How to answer a media playlist request: read `path`, render it as `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistPlan {
    pub path: PathBuf,
    pub kind: hls::Kind,
    /// Segments of a live window.
    pub window: usize,
}

/// Where to take a thumbnail from.
#[derive(Debug, Clone, PartialEq)]
pub struct ThumbnailPlan {
    pub video_uid: String,
    pub dir: PathBuf,
    pub rendition: Rendition,
}

/// A broadcast about to start.
struct Launch {
    source: Source,
    renditions: Vec<Rendition>,
    args: Vec<String>,
    feed: Option<mpsc::Receiver<Bytes>>,
}

pub struct Origin {
    settings: Settings,
    state: Mutex<State>,
    /// Thumbnail cache, single flight and job limits.
    pub thumbnails: Arc<Thumbnails>,
    /// One input list built at a time (see `control::list_inputs`).
    pub list_permits: Semaphore,
}

fn not_ready(id: &str) -> ApiError {
    ApiError::NotFound(format!("`{id}` is not playable yet"))
}

impl Origin {
    pub fn new(settings: Settings) -> Self {
        Self::with_thumbnail_limits(settings, thumbnails::Limits::default())
    }

    pub fn with_thumbnail_limits(settings: Settings, limits: thumbnails::Limits) -> Self {
        Self {
            settings,
            state: Mutex::new(State::default()),
            thumbnails: Thumbnails::new(limits),
            list_permits: Semaphore::new(1),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn rtmp_url(&self, key: &str) -> Option<String> {
        self.settings
            .rtmp_base
            .as_ref()
            .map(|b| format!("{b}/{key}"))
    }

    // ---- delivery ------------------------------------------------------

    /// Resolves `id` and counts the request under its input.
    fn target(st: &mut State, id: &str, endpoint: Endpoint) -> ApiResult<Target> {
        let target = if st.inputs.contains_key(id) {
            Target::Input(id.to_string())
        } else if let Some(v) = st.videos.get(id) {
            Target::Video {
                video: id.to_string(),
                input: v.input_uid.clone(),
            }
        } else {
            return Err(ApiError::unknown_id(id));
        };
        if let Some(input) = st.inputs.get_mut(target.input_uid()) {
            input.stats.bump(endpoint);
        }
        Ok(target)
    }

    fn faults_of(st: &State, t: &Target) -> Faults {
        st.inputs
            .get(t.input_uid())
            .map(|i| i.faults.clone())
            .unwrap_or_default()
    }

    /// The video a request plays: by input uid the running broadcast, or
    /// (for media playlists and segments already being fetched) the last one;
    /// by video uid that video.
    fn playing<'a>(st: &'a State, t: &Target) -> Option<(&'a str, &'a Video)> {
        let uid = match t {
            Target::Input(i) => {
                let input = st.inputs.get(i)?;
                input.current.as_ref().or(input.history.last())?
            }
            Target::Video { video, .. } => video,
        };
        st.videos.get_key_value(uid).map(|(k, v)| (k.as_str(), v))
    }

    /// Whether delivery of `id` (an input, or a video by its own setting)
    /// needs a signed token; `None` for an unknown id.
    pub fn requires_signed_urls(&self, id: &str) -> Option<bool> {
        let st = self.lock();
        if let Some(i) = st.inputs.get(id) {
            return Some(i.recording.require_signed_urls == Some(true));
        }
        st.videos.get(id).map(|v| v.require_signed_urls)
    }

    /// `GET /<id>/lifecycle`: the answer and the faults to apply.
    pub fn lifecycle(&self, id: &str) -> ApiResult<(Lifecycle, Faults)> {
        let mut st = self.lock();
        let t = Self::target(&mut st, id, Endpoint::Lifecycle)?;
        let lifecycle = match &t {
            Target::Input(uid) => {
                let live = st
                    .inputs
                    .get(uid)
                    .and_then(|i| i.current.as_ref())
                    .filter(|v| st.videos.get(*v).is_some_and(|v| v.phase == Phase::Live));
                Lifecycle {
                    is_input: true,
                    video_uid: live.cloned(),
                    live: live.is_some(),
                }
            }
            Target::Video { video, .. } => Lifecycle {
                is_input: false,
                video_uid: Some(video.clone()),
                live: st.videos.get(video).is_some_and(|v| v.phase == Phase::Live),
            },
        };
        Ok((lifecycle, Self::faults_of(&st, &t)))
    }

    /// `GET /<id>/views`: records the poll of `client`, returns the count.
    pub fn views(
        &self,
        id: &str,
        client: viewers::Client,
        now: Instant,
    ) -> ApiResult<(Views, Faults)> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let t = Self::target(st, id, Endpoint::Views)?;
        let faults = Self::faults_of(st, &t);
        let limits = self.settings.viewer_limits;
        let live_viewers = match st.inputs.get_mut(t.input_uid()) {
            Some(input) => {
                input
                    .viewers
                    .touch(client, now, limits, &mut st.viewers_tracked);
                viewers::live_viewers(input.fixed_viewers, input.viewers.count(now))
            }
            None => 0,
        };
        Ok((Views { live_viewers }, faults))
    }

    /// `GET /<id>/manifest/video.m3u8`.
    pub fn master(&self, id: &str, now: Instant) -> ApiResult<MasterPlan> {
        let mut st = self.lock();
        let t = Self::target(&mut st, id, Endpoint::Manifest)?;
        let faults = Self::faults_of(&st, &t);
        let video = match &t {
            Target::Input(uid) => st
                .inputs
                .get(uid)
                .and_then(|i| i.current.as_ref())
                .and_then(|v| st.videos.get(v))
                .filter(|v| v.phase == Phase::Live),
            Target::Video { video, .. } => {
                let v = st
                    .videos
                    .get(video)
                    .ok_or_else(|| ApiError::unknown_id(id))?;
                if v.phase == Phase::Starting {
                    return Err(not_ready(id));
                }
                Some(v)
            }
        };
        let Some(video) = video else {
            return Ok(MasterPlan::Idle);
        };
        if faults::manifest_blocked(&faults, video.live_since, now) {
            return Err(not_ready(id));
        }
        Ok(MasterPlan::Ready(
            video.renditions.iter().map(Rendition::variant).collect(),
        ))
    }

    /// `GET /<id>/manifest/<name>.m3u8`.
    pub fn playlist(&self, id: &str, file: &str, now: Instant) -> ApiResult<PlaylistPlan> {
        let mut st = self.lock();
        let t = Self::target(&mut st, id, Endpoint::Playlist)?;
        let faults = Self::faults_of(&st, &t);
        let (_, video) = Self::playing(&st, &t).ok_or_else(|| not_ready(id))?;
        let kind = match (&t, video.phase) {
            (_, Phase::Starting) => return Err(not_ready(id)),
            (_, Phase::Live) => hls::Kind::Live,
            (Target::Input(_), Phase::Ended) => hls::Kind::LiveEnded,
            (Target::Video { .. }, Phase::Ended) => hls::Kind::Vod,
        };
        if !video.renditions.iter().any(|r| r.playlist() == file) {
            return Err(ApiError::NotFound(format!("no playlist `{file}`")));
        }
        if faults::manifest_blocked(&faults, video.live_since, now) {
            return Err(not_ready(id));
        }
        Ok(PlaylistPlan {
            path: video.dir.join(file),
            kind,
            window: self.settings.live_window,
        })
    }

    /// `GET /<id>/manifest/<segment>.ts`: the file to send.
    pub fn segment(&self, id: &str, file: &str) -> ApiResult<PathBuf> {
        let mut st = self.lock();
        let t = Self::target(&mut st, id, Endpoint::Segment)?;
        if faults::segment_blocked(&Self::faults_of(&st, &t)) {
            return Err(ApiError::NotFound(format!(
                "segment `{file}` not found (fault segments404)"
            )));
        }
        let (_, video) = Self::playing(&st, &t).ok_or_else(|| not_ready(id))?;
        Ok(video.dir.join(file))
    }

    /// `GET /<id>/thumbnails/thumbnail.jpg`: the live broadcast, else the
    /// latest one that went live.
    pub fn thumbnail(&self, id: &str) -> ApiResult<ThumbnailPlan> {
        let mut st = self.lock();
        let t = Self::target(&mut st, id, Endpoint::Thumbnail)?;
        let candidates: Vec<&String> = match &t {
            Target::Input(uid) => st
                .inputs
                .get(uid)
                .map(|i| i.history.iter().rev().collect())
                .unwrap_or_default(),
            Target::Video { video, .. } => vec![video],
        };
        let found = candidates.into_iter().find_map(|uid| {
            let v = st.videos.get(uid)?;
            let rendition = v.renditions.first()?;
            (v.live_since.is_some()).then(|| ThumbnailPlan {
                video_uid: uid.clone(),
                dir: v.dir.clone(),
                rendition: rendition.clone(),
            })
        });
        found.ok_or_else(|| ApiError::NotFound(format!("`{id}` has never been live")))
    }

    // ---- control: inputs -----------------------------------------------

    pub fn create_input(&self, req: CreateInput) -> ApiResult<InputCreated> {
        self.create_input_with(req, RecordingSettings::default())
    }

    /// Creates an input with the account API's recording settings.
    pub fn create_input_with(
        &self,
        req: CreateInput,
        recording: RecordingSettings,
    ) -> ApiResult<InputCreated> {
        self.create_account_input(req, recording, None)
    }

    /// Creates an input as the account API does: recording settings and
    /// `meta.room` (how the backend finds a Jitsi room's input again).
    pub fn create_account_input(
        &self,
        req: CreateInput,
        recording: RecordingSettings,
        meta_room: Option<String>,
    ) -> ApiResult<InputCreated> {
        let uid = match req.uid {
            Some(u) if ids::is_valid_uid(&u) => u,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "uid must match [A-Za-z0-9_-]{1,64}".into(),
                ))
            }
            None => ids::random_uid(),
        };
        let stream_key = match req.stream_key {
            Some(k) if ids::is_valid_stream_key(&k) => k,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "streamKey must match [A-Za-z0-9_-]{1,128}".into(),
                ))
            }
            None => ids::random_uid(),
        };
        let name = req.name.unwrap_or_else(|| uid.clone());
        if name.chars().count() > 256 {
            return Err(ApiError::BadRequest(
                "name is longer than 256 characters".into(),
            ));
        }
        let mut st = self.lock();
        if st.inputs.contains_key(&uid) || st.videos.contains_key(&uid) {
            return Err(ApiError::Conflict(format!("uid `{uid}` already exists")));
        }
        if st.inputs.values().any(|i| i.stream_key == stream_key) {
            return Err(ApiError::Conflict("streamKey is already in use".into()));
        }
        self.settings
            .caps
            .check_inputs(st.inputs.len())
            .map_err(ApiError::Conflict)?;
        st.inputs.insert(
            uid.clone(),
            Input {
                name: name.clone(),
                meta_room,
                stream_key: stream_key.clone(),
                created: SystemTime::now(),
                recording,
                faults: Faults::default(),
                fixed_viewers: None,
                viewers: ViewerCounter::default(),
                stats: RequestCounts::default(),
                current: None,
                publisher_left: None,
                history: Vec::new(),
            },
        );
        tracing::info!(input = %uid, "live input created");
        Ok(InputCreated {
            uid,
            name,
            rtmp_url: self.rtmp_url(&stream_key),
            stream_key,
        })
    }

    fn status_of(&self, st: &State, uid: &str, input: &Input, now: Instant) -> InputStatus {
        let current = input
            .current
            .as_ref()
            .and_then(|v| st.videos.get(v).map(|video| (v, video)));
        let state = match current.map(|(_, v)| v.phase) {
            Some(Phase::Live) => InputState::Live,
            Some(Phase::Starting) => InputState::Starting,
            _ => InputState::Idle,
        };
        InputStatus {
            uid: uid.to_string(),
            name: input.name.clone(),
            stream_key: input.stream_key.clone(),
            rtmp_url: self.rtmp_url(&input.stream_key),
            live: state == InputState::Live,
            state,
            video_uid: current.map(|(v, _)| v.clone()),
            source: current.map(|(_, v)| v.source),
            video_uids: input.history.clone(),
            faults: input.faults.clone(),
            viewers: ViewerStatus {
                fixed: input.fixed_viewers,
                counted: input.viewers.count(now),
            },
        }
    }

    /// Every input's status, in uid order. Built in chunks, the lock taken
    /// per chunk, so that delivery requests are not held up behind a long
    /// list (each chunk is consistent; the list as a whole may not be).
    pub fn list_inputs(&self, now: Instant) -> Vec<InputStatus> {
        const CHUNK: usize = 128;
        let mut out: Vec<InputStatus> = Vec::new();
        loop {
            let st = self.lock();
            let rest = match out.last() {
                Some(last) => st
                    .inputs
                    .range::<str, _>((Bound::Excluded(last.uid.as_str()), Bound::Unbounded)),
                None => st.inputs.range::<str, _>(..),
            };
            let before = out.len();
            out.extend(
                rest.take(CHUNK)
                    .map(|(uid, i)| self.status_of(&st, uid, i, now)),
            );
            if out.len() - before < CHUNK {
                return out;
            }
        }
    }

    pub fn input_status(&self, uid: &str, now: Instant) -> ApiResult<InputStatus> {
        let st = self.lock();
        let input = st
            .inputs
            .get(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        Ok(self.status_of(&st, uid, input, now))
    }

    /// Stops the input's broadcast (cleanly) and forgets the input. Its
    /// recordings stay playable by video uid.
    pub async fn delete_input(&self, uid: &str) -> ApiResult<()> {
        match self.stop(uid, StopMode::Clean).await {
            Ok(_) | Err(ApiError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        let mut st = self.lock();
        let gone = st
            .inputs
            .remove(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        st.viewers_tracked = st.viewers_tracked.saturating_sub(gone.viewers.tracked());
        tracing::info!(input = %uid, "live input deleted");
        Ok(())
    }

    /// Forgets the viewers that left, of every input (run on a timer, so
    /// that inputs nobody polls any more free their memory too).
    pub fn prune_viewers(&self, now: Instant) {
        let mut guard = self.lock();
        let st = &mut *guard;
        for input in st.inputs.values_mut() {
            let n = input.viewers.prune(now);
            st.viewers_tracked = st.viewers_tracked.saturating_sub(n);
        }
    }

    pub fn set_viewers(
        &self,
        uid: &str,
        fixed: Option<u64>,
        now: Instant,
    ) -> ApiResult<ViewerStatus> {
        let mut st = self.lock();
        let input = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        input.fixed_viewers = fixed;
        Ok(ViewerStatus {
            fixed,
            counted: input.viewers.count(now),
        })
    }

    pub fn faults(&self, uid: &str) -> ApiResult<Faults> {
        let st = self.lock();
        st.inputs
            .get(uid)
            .map(|i| i.faults.clone())
            .ok_or_else(|| ApiError::unknown_input(uid))
    }

    pub fn merge_faults(&self, uid: &str, patch: &serde_json::Value) -> ApiResult<Faults> {
        let mut st = self.lock();
        let input = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        input.faults = faults::merge(&input.faults, patch).map_err(ApiError::BadRequest)?;
        tracing::info!(input = %uid, faults = ?input.faults, "faults set");
        Ok(input.faults.clone())
    }

    pub fn clear_faults(&self, uid: &str) -> ApiResult<Faults> {
        let mut st = self.lock();
        let input = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        input.faults = Faults::default();
        tracing::info!(input = %uid, "faults cleared");
        Ok(input.faults.clone())
    }

    pub fn stats(&self) -> Stats {
        let st = self.lock();
        Stats {
            inputs: st
                .inputs
                .iter()
                .map(|(uid, i)| (uid.clone(), i.stats))
                .collect(),
            account: st.account_calls,
        }
    }

    /// Counts one answered account API call.
    pub fn count_account_call(&self, call: AccountCall) {
        self.lock().account_calls.bump(call);
    }

    pub fn reset_stats(&self) -> Stats {
        let mut st = self.lock();
        for i in st.inputs.values_mut() {
            i.stats = RequestCounts::default();
        }
        st.account_calls = AccountCalls::default();
        drop(st);
        self.stats()
    }

    // ---- account API stand-in -----------------------------------------

    /// `GET .../live_inputs/<uid>` of the stand-in.
    pub fn account_input(&self, uid: &str) -> ApiResult<AccountInput> {
        let st = self.lock();
        let input = st
            .inputs
            .get(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        Ok(self.account_input_of(uid, input))
    }

    fn account_input_of(&self, uid: &str, input: &Input) -> AccountInput {
        AccountInput {
            uid: uid.to_string(),
            name: input.name.clone(),
            room: input.meta_room.clone(),
            stream_key: input.stream_key.clone(),
            created: input.created,
            recording: input.recording.clone(),
            connected: input.current.is_some(),
            reconnecting: input.current.is_none()
                && reconnecting(
                    input.publisher_left,
                    input.recording.timeout_seconds,
                    Instant::now(),
                ),
            rtmp_base: self.settings.rtmp_base.clone(),
        }
    }

    /// `PUT .../live_inputs/<uid>` of the stand-in: the settings given
    /// replace the input's; the ones left out stay.
    pub fn update_account_input(&self, uid: &str, r: RecordingSettings) -> ApiResult<()> {
        let mut st = self.lock();
        let input = st
            .inputs
            .get_mut(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        let old = &mut input.recording;
        old.mode = r.mode.or(old.mode.take());
        old.timeout_seconds = r.timeout_seconds.or(old.timeout_seconds);
        old.require_signed_urls = r.require_signed_urls.or(old.require_signed_urls);
        old.allowed_origins = r.allowed_origins.or(old.allowed_origins.take());
        old.hide_live_viewer_count = r.hide_live_viewer_count.or(old.hide_live_viewer_count);
        tracing::info!(input = %uid, settings = ?input.recording, "live input updated");
        Ok(())
    }

    /// `GET .../live_inputs` of the stand-in: every input, by uid.
    pub fn account_inputs(&self) -> Vec<AccountInput> {
        let st = self.lock();
        st.inputs
            .iter()
            .map(|(uid, i)| self.account_input_of(uid, i))
            .collect()
    }

    /// `GET .../live_inputs/<uid>/videos` of the stand-in: every broadcast
    /// of the input, earlier runs' recordings included, in no given order.
    pub fn account_videos(&self, uid: &str) -> ApiResult<Vec<AccountVideo>> {
        let st = self.lock();
        let input = st
            .inputs
            .get(uid)
            .ok_or_else(|| ApiError::unknown_input(uid))?;
        let past = st.past.get(uid).map(Vec::as_slice).unwrap_or_default();
        Ok(past
            .iter()
            .chain(&input.history)
            .filter_map(|v| {
                let video = st.videos.get(v)?;
                Some(AccountVideo {
                    uid: v.clone(),
                    input_uid: video.input_uid.clone(),
                    name: video.name.clone(),
                    created: video.created,
                    ended: video.ended,
                    duration: video.duration,
                    outcome: video.outcome,
                    size: video.renditions.first().and_then(|r| r.size),
                    require_signed_urls: video.require_signed_urls,
                })
            })
            .collect())
    }

    /// At start-up: makes the closed recordings of earlier runs (their
    /// `meta.json` in the data dir) playable by video uid again, and listed
    /// under their input uid by the stand-in. Returns how many.
    pub fn load_recordings(&self, found: Vec<(PathBuf, RecordingMeta)>) -> usize {
        let mut st = self.lock();
        let now = Instant::now();
        let mut n = 0;
        for (dir, meta) in found {
            if meta.state == RecordingState::LiveInprogress
                || !ids::is_valid_uid(&meta.video_uid)
                || st.videos.contains_key(&meta.video_uid)
            {
                continue;
            }
            let parse = |t: &str| humantime::parse_rfc3339_weak(t).ok();
            let created = parse(&meta.created).unwrap_or(SystemTime::UNIX_EPOCH);
            let ended = meta.ended.as_deref().and_then(parse).unwrap_or(created);
            let playable = meta.state == RecordingState::Ready;
            st.videos.insert(
                meta.video_uid.clone(),
                Video {
                    input_uid: meta.input_uid.clone(),
                    name: meta.name.clone(),
                    created,
                    ended: Some(ended),
                    duration: Some(meta.duration_seconds.unwrap_or(0.0)),
                    outcome: Some(meta.state),
                    dir,
                    source: meta.source,
                    renditions: meta.renditions.clone(),
                    phase: Phase::Ended,
                    live_since: playable.then_some(now),
                    stop_tx: None,
                    require_signed_urls: meta.require_signed_urls,
                },
            );
            st.past
                .entry(meta.input_uid.clone())
                .or_default()
                .push(meta.video_uid.clone());
            n += 1;
        }
        n
    }

    // ---- broadcasts ----------------------------------------------------

    /// Whether `video_uid` is still the running broadcast of `input_uid`.
    pub fn is_running(&self, input_uid: &str, video_uid: &str) -> bool {
        let st = self.lock();
        st.inputs
            .get(input_uid)
            .is_some_and(|i| i.current.as_deref() == Some(video_uid))
    }

    /// Starts a synthetic broadcast on `uid`; returns its video uid.
    pub fn start_synthetic(self: &Arc<Self>, uid: &str, req: StartBroadcast) -> ApiResult<String> {
        let d = &self.settings.encode;
        let preset = match req.preset {
            Some(p) => ffmpeg::parse_preset(&p).map_err(ApiError::BadRequest)?,
            None => d.preset.clone(),
        };
        let encode = Encode {
            size: req.size.unwrap_or(d.size),
            preset,
            fps: req.fps.unwrap_or(d.fps),
            abr: req.abr.unwrap_or(d.abr),
        };
        self.settings
            .caps
            .check_encode(&encode)
            .map_err(ApiError::BadRequest)?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let offset = ffmpeg::clock_offset(now, ffmpeg::local_utc_offset(now as i64));
        let launch = Launch {
            source: Source::Synthetic,
            renditions: ffmpeg::synthetic_renditions(&encode),
            args: ffmpeg::synthetic_args(
                &encode,
                self.settings.segment_seconds,
                self.settings.font.as_deref(),
                offset,
            ),
            feed: None,
        };
        self.launch(uid, launch)
    }

    /// An RTMP publisher asks to publish `key` under `app`: starts a remux
    /// broadcast on the input with that stream key and returns the sender its
    /// FLV bytes go to.
    pub fn start_rtmp(
        self: &Arc<Self>,
        app: &str,
        key: &str,
    ) -> ApiResult<(String, mpsc::Sender<Bytes>)> {
        if app != "live" {
            return Err(ApiError::NotFound(format!(
                "no RTMP app `{app}` (use `live`)"
            )));
        }
        let uid = {
            let st = self.lock();
            st.inputs
                .iter()
                .find(|(_, i)| i.stream_key == key)
                .map(|(uid, _)| uid.clone())
                .ok_or_else(|| ApiError::NotFound("unknown stream key".into()))?
        };
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        let launch = Launch {
            source: Source::Rtmp,
            renditions: vec![ffmpeg::remux_rendition()],
            args: ffmpeg::remux_args(self.settings.segment_seconds),
            feed: Some(rx),
        };
        let video = self.launch(&uid, launch)?;
        Ok((video, tx))
    }

    /// Claims the input, spawns ffmpeg, hands it to a supervisor.
    fn launch(self: &Arc<Self>, uid: &str, launch: Launch) -> ApiResult<String> {
        let video_uid = ids::random_uid();
        let dir = recording::videos_dir(&self.settings.data_dir).join(&video_uid);
        let (stop_tx, stop_rx) = mpsc::unbounded_channel();
        let deadline_tx = stop_tx.clone();
        let created = SystemTime::now();
        let caps = &self.settings.caps;
        if caps.min_free_disk_bytes > 0 {
            // A data dir that cannot be measured (not created yet) is let
            // through: creating the recording's directory reports it.
            if let Ok(free) = caps::free_disk_bytes(&self.settings.data_dir) {
                caps.check_free_disk(free).map_err(ApiError::Conflict)?;
            }
        }
        let (name, require_signed_urls) = {
            let mut st = self.lock();
            if st.closing {
                return Err(ApiError::ShuttingDown);
            }
            let running = st.running.len();
            let input = st
                .inputs
                .get_mut(uid)
                .ok_or_else(|| ApiError::unknown_input(uid))?;
            if let Some(cur) = &input.current {
                return Err(ApiError::Conflict(format!(
                    "input `{uid}` is already live (video {cur})"
                )));
            }
            caps.check_running(running).map_err(ApiError::Conflict)?;
            input.current = Some(video_uid.clone());
            input.publisher_left = None;
            input.history.push(video_uid.clone());
            let name = input.name.clone();
            let require_signed_urls = input.recording.require_signed_urls == Some(true);
            st.videos.insert(
                video_uid.clone(),
                Video {
                    input_uid: uid.to_string(),
                    name: name.clone(),
                    created,
                    ended: None,
                    duration: None,
                    outcome: None,
                    dir: dir.clone(),
                    source: launch.source,
                    renditions: launch.renditions.clone(),
                    phase: Phase::Starting,
                    live_since: None,
                    stop_tx: Some(stop_tx),
                    require_signed_urls,
                },
            );
            st.running.insert(video_uid.clone());
            (name, require_signed_urls)
        };
        let meta = RecordingMeta {
            video_uid: video_uid.clone(),
            input_uid: uid.to_string(),
            name,
            source: launch.source,
            created: recording::rfc3339(created),
            ended: None,
            duration_seconds: None,
            state: RecordingState::LiveInprogress,
            exit: None,
            renditions: launch.renditions.clone(),
            require_signed_urls,
        };
        let spawned = std::fs::create_dir_all(&dir)
            .and_then(|()| recording::write_meta(&dir, &meta))
            .and_then(|()| self.spawn_ffmpeg(&launch, &dir));
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let mut st = self.lock();
                st.videos.remove(&video_uid);
                st.running.remove(&video_uid);
                if let Some(input) = st.inputs.get_mut(uid) {
                    input.current = None;
                    input.history.retain(|v| v != &video_uid);
                }
                drop(st);
                let _ = std::fs::remove_dir_all(&dir);
                tracing::error!(input = %uid, error = %e, "cannot start ffmpeg");
                return Err(ApiError::Internal(format!("cannot start ffmpeg: {e}")));
            }
        };
        tracing::info!(
            input = %uid, video = %video_uid, source = ?launch.source,
            pid = child.id().unwrap_or_default(), "broadcast starting"
        );
        // Nobody's broadcast runs for ever: a clean stop at the cap.
        let max = caps.max_duration;
        let (uid_log, video_log) = (uid.to_string(), video_uid.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(max) => {}
                // The broadcast ended first (its supervisor is gone).
                () = deadline_tx.closed() => return,
            }
            let (done, _) = oneshot::channel();
            let stop = StopRequest {
                mode: StopMode::Clean,
                done,
            };
            if deadline_tx.send(stop).is_ok() {
                tracing::info!(
                    input = %uid_log, video = %video_log, seconds = max.as_secs(),
                    "broadcast reached --max-broadcast-seconds: stopping it"
                );
            }
        });
        tokio::spawn(supervisor::supervise(
            Arc::clone(self) as Arc<dyn supervisor::BroadcastEvents>,
            supervisor::Broadcast {
                video_uid: video_uid.clone(),
                dir,
                renditions: launch.renditions,
                meta,
                feed: launch.feed,
            },
            child,
            stop_rx,
        ));
        Ok(video_uid)
    }

    fn spawn_ffmpeg(
        &self,
        launch: &Launch,
        dir: &std::path::Path,
    ) -> std::io::Result<tokio::process::Child> {
        let mut cmd = Command::new(&self.settings.ffmpeg);
        cmd.args(&launch.args)
            .current_dir(dir)
            .stdin(if launch.feed.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        supervisor::detach_and_tie_to_parent(&mut cmd);
        cmd.spawn()
    }

    /// Stops the running broadcast of `uid` and waits until its recording is
    /// closed (at most [`STOP_WAIT`]).
    pub async fn stop(&self, uid: &str, mode: StopMode) -> ApiResult<String> {
        let (video_uid, tx) = {
            let st = self.lock();
            let input = st
                .inputs
                .get(uid)
                .ok_or_else(|| ApiError::unknown_input(uid))?;
            let cur = input
                .current
                .clone()
                .ok_or_else(|| ApiError::Conflict(format!("input `{uid}` is not live")))?;
            let tx = st.videos.get(&cur).and_then(|v| v.stop_tx.clone());
            (cur, tx)
        };
        let (done_tx, done_rx) = oneshot::channel();
        let sent = tx.is_some_and(|tx| {
            tx.send(StopRequest {
                mode,
                done: done_tx,
            })
            .is_ok()
        });
        if sent && tokio::time::timeout(STOP_WAIT, done_rx).await.is_err() {
            tracing::warn!(input = %uid, video = %video_uid, "stop: broadcast did not end in time");
        }
        Ok(video_uid)
    }

    /// Refuses new broadcasts, stops every running one cleanly and waits for
    /// their recordings to close.
    pub async fn shutdown(&self) {
        let running: Vec<(String, mpsc::UnboundedSender<StopRequest>)> = {
            let mut st = self.lock();
            st.closing = true;
            st.videos
                .iter()
                .filter_map(|(uid, v)| v.stop_tx.clone().map(|tx| (uid.clone(), tx)))
                .collect()
        };
        let mut waits = Vec::new();
        for (uid, tx) in running {
            let (done_tx, done_rx) = oneshot::channel();
            if tx
                .send(StopRequest {
                    mode: StopMode::Clean,
                    done: done_tx,
                })
                .is_ok()
            {
                waits.push((uid, done_rx));
            }
        }
        for (uid, rx) in waits {
            if tokio::time::timeout(STOP_WAIT, rx).await.is_err() {
                tracing::warn!(video = %uid, "shutdown: broadcast did not end in time");
            }
        }
    }

    // ---- supervisor callbacks ------------------------------------------

    /// The broadcast's first segments are out.
    pub(crate) fn mark_live(&self, video_uid: &str) {
        let mut st = self.lock();
        if let Some(v) = st.videos.get_mut(video_uid) {
            if v.phase == Phase::Starting {
                v.phase = Phase::Live;
                v.live_since = Some(Instant::now());
                tracing::info!(input = %v.input_uid, video = %video_uid, "broadcast live");
            }
        }
    }

    /// ffmpeg has exited and the recording is closed (`outcome`: its
    /// duration and state, unless closing it failed).
    pub(crate) fn mark_ended(
        &self,
        video_uid: &str,
        how: &str,
        outcome: Option<(f64, RecordingState)>,
    ) {
        let mut st = self.lock();
        st.running.remove(video_uid);
        let Some(v) = st.videos.get_mut(video_uid) else {
            return;
        };
        v.phase = Phase::Ended;
        v.stop_tx = None;
        v.ended = Some(SystemTime::now());
        let (duration, state) = outcome.unwrap_or((0.0, RecordingState::Error));
        v.duration = Some(duration);
        v.outcome = Some(state);
        let input_uid = v.input_uid.clone();
        let from_rtmp = v.source == Source::Rtmp;
        if let Some(input) = st.inputs.get_mut(&input_uid) {
            if input.current.as_deref() == Some(video_uid) {
                input.current = None;
                if from_rtmp {
                    input.publisher_left = Some(Instant::now());
                }
            }
        }
        tracing::info!(input = %input_uid, video = %video_uid, ffmpeg = %how, "broadcast ended");
    }
}

impl supervisor::BroadcastEvents for Origin {
    fn broadcast_live(&self, video_uid: &str) {
        self.mark_live(video_uid);
    }

    fn broadcast_ended(&self, video_uid: &str, how: &str, outcome: Option<(f64, RecordingState)>) {
        self.mark_ended(video_uid, how, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Arc<Origin> {
        Arc::new(Origin::new(Settings {
            data_dir: PathBuf::from("/nonexistent"),
            encode: Encode {
                size: "320x180".parse().unwrap(),
                preset: "ultrafast".into(),
                fps: 15,
                abr: false,
            },
            segment_seconds: 1,
            live_window: 3,
            ffmpeg: "ffmpeg".into(),
            font: None,
            rtmp_base: Some("rtmp://127.0.0.1:1935/live".into()),
            caps: Caps::default(),
            viewer_limits: viewers::Limits::default(),
        }))
    }

    fn cl(id: &str) -> viewers::Client {
        viewers::client_key(Some(id), "127.0.0.1:9".parse().unwrap())
    }

    fn create(o: &Origin, uid: &str) {
        o.create_input(CreateInput {
            uid: Some(uid.into()),
            ..Default::default()
        })
        .unwrap();
    }

    /// Puts a fake broadcast in place without ffmpeg.
    fn fake_video(o: &Origin, input: &str, video: &str, phase: Phase) {
        let mut st = o.lock();
        st.videos.insert(
            video.into(),
            Video {
                input_uid: input.into(),
                name: input.into(),
                created: SystemTime::now(),
                ended: None,
                duration: None,
                outcome: None,
                dir: PathBuf::from("/v").join(video),
                source: Source::Synthetic,
                renditions: ffmpeg::synthetic_renditions(&o.settings.encode),
                phase,
                live_since: (phase != Phase::Starting).then(Instant::now),
                stop_tx: None,
                require_signed_urls: false,
            },
        );
        let i = st.inputs.get_mut(input).unwrap();
        i.history.push(video.into());
        if phase != Phase::Ended {
            i.current = Some(video.into());
        }
    }

    #[test]
    fn reconnect_window() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // (publisher left, timeoutSeconds, now) -> reconnecting
        let table = [
            (None, Some(10), t0, false),
            (Some(t0), Some(10), t0, true),
            (Some(t0), Some(10), t0 + s(9), true),
            (Some(t0), Some(10), t0 + s(10), false),
            (Some(t0), Some(0), t0, false),
            (Some(t0), None, t0, false),
            // A clock read before the moment it left: still waiting.
            (Some(t0 + s(1)), Some(10), t0, true),
        ];
        for (left, timeout, now, want) in table {
            assert_eq!(
                reconnecting(left, timeout, now),
                want,
                "{left:?} {timeout:?}"
            );
        }
    }

    // Regression: the stand-in never said `reconnecting`, so a moderator's
    // page went from live straight to ended when Jibri dropped.
    #[test]
    fn rtmp_publisher_leaving_reports_reconnecting() {
        let o = origin();
        o.create_input_with(
            CreateInput {
                uid: Some("in".into()),
                ..Default::default()
            },
            RecordingSettings {
                timeout_seconds: Some(10),
                ..Default::default()
            },
        )
        .unwrap();
        create(&o, "synthetic");
        for (input, source) in [("in", Source::Rtmp), ("synthetic", Source::Synthetic)] {
            fake_video(&o, input, &format!("v-{input}"), Phase::Live);
            o.lock()
                .videos
                .get_mut(&format!("v-{input}"))
                .unwrap()
                .source = source;
            let a = o.account_input(input).unwrap();
            assert!(a.connected && !a.reconnecting, "{input}");
            o.mark_ended(&format!("v-{input}"), "exit status: 0", None);
        }
        let a = o.account_input("in").unwrap();
        assert!(
            !a.connected && a.reconnecting,
            "RTMP: waits for the publisher"
        );
        let a = o.account_input("synthetic").unwrap();
        assert!(!a.connected && !a.reconnecting, "no publisher to wait for");
    }

    #[test]
    fn create_input_validates_and_defaults() {
        let o = origin();
        let c = o.create_input(CreateInput::default()).unwrap();
        assert_eq!(c.uid.len(), 32);
        assert_eq!(c.name, c.uid);
        assert_eq!(c.stream_key.len(), 32);
        assert_eq!(
            c.rtmp_url.unwrap(),
            format!("rtmp://127.0.0.1:1935/live/{}", c.stream_key)
        );
        let d = o
            .create_input(CreateInput {
                uid: Some("a".into()),
                name: Some("A".into()),
                stream_key: Some("k".into()),
            })
            .unwrap();
        assert_eq!(
            (d.uid.as_str(), d.name.as_str(), d.stream_key.as_str()),
            ("a", "A", "k")
        );
        let err = |r: CreateInput| o.create_input(r).unwrap_err().status().as_u16();
        assert_eq!(
            err(CreateInput {
                uid: Some("a".into()),
                ..Default::default()
            }),
            409
        );
        assert_eq!(
            err(CreateInput {
                stream_key: Some("k".into()),
                ..Default::default()
            }),
            409
        );
        assert_eq!(
            err(CreateInput {
                uid: Some("a/b".into()),
                ..Default::default()
            }),
            400
        );
        assert_eq!(
            err(CreateInput {
                stream_key: Some("".into()),
                ..Default::default()
            }),
            400
        );
        assert_eq!(
            err(CreateInput {
                name: Some("n".repeat(257)),
                ..Default::default()
            }),
            400
        );
    }

    #[test]
    fn idle_input_delivery() {
        let o = origin();
        create(&o, "in");
        let now = Instant::now();
        let (lc, _) = o.lifecycle("in").unwrap();
        assert_eq!(
            lc,
            Lifecycle {
                is_input: true,
                video_uid: None,
                live: false
            }
        );
        assert_eq!(o.master("in", now).unwrap(), MasterPlan::Idle);
        assert_eq!(
            o.playlist("in", "stream_0.m3u8", now).unwrap_err().status(),
            404
        );
        assert_eq!(o.thumbnail("in").unwrap_err().status(), 404);
        assert_eq!(o.lifecycle("nope").unwrap_err().status(), 404);
        let s = o.stats();
        assert_eq!(s.inputs["in"].lifecycle, 1);
        assert_eq!(s.inputs["in"].manifest, 1);
        assert_eq!(s.inputs["in"].playlist, 1);
        assert_eq!(s.inputs["in"].thumbnail, 1);
        assert_eq!(o.reset_stats().inputs["in"], RequestCounts::default());
    }

    #[test]
    fn starting_broadcast_is_not_live_yet() {
        let o = origin();
        create(&o, "in");
        fake_video(&o, "in", "v1", Phase::Starting);
        let now = Instant::now();
        assert!(!o.lifecycle("in").unwrap().0.live);
        assert_eq!(o.lifecycle("in").unwrap().0.video_uid, None);
        assert_eq!(o.master("in", now).unwrap(), MasterPlan::Idle);
        assert_eq!(o.master("v1", now).unwrap_err().status(), 404);
        assert_eq!(
            o.input_status("in", now).unwrap().state,
            InputState::Starting
        );
        assert_eq!(
            o.input_status("in", now).unwrap().video_uid.as_deref(),
            Some("v1")
        );
        o.mark_live("v1");
        let (lc, _) = o.lifecycle("in").unwrap();
        assert_eq!(
            lc,
            Lifecycle {
                is_input: true,
                video_uid: Some("v1".into()),
                live: true
            }
        );
        assert!(o.input_status("in", now).unwrap().live);
    }

    #[test]
    fn live_then_ended_by_input_and_video() {
        let o = origin();
        create(&o, "in");
        fake_video(&o, "in", "v1", Phase::Live);
        let now = Instant::now();
        let MasterPlan::Ready(vars) = o.master("in", now).unwrap() else {
            panic!("not ready")
        };
        assert_eq!(vars[0].uri, "stream_0.m3u8");
        let p = o.playlist("in", "stream_0.m3u8", now).unwrap();
        assert_eq!(p.kind, hls::Kind::Live);
        assert_eq!(p.window, 3);
        assert_eq!(p.path, PathBuf::from("/v/v1/stream_0.m3u8"));
        assert_eq!(
            o.playlist("v1", "stream_0.m3u8", now).unwrap().kind,
            hls::Kind::Live
        );
        assert_eq!(
            o.playlist("in", "stream_9.m3u8", now).unwrap_err().status(),
            404
        );
        let (lc, _) = o.lifecycle("v1").unwrap();
        assert_eq!(
            lc,
            Lifecycle {
                is_input: false,
                video_uid: Some("v1".into()),
                live: true
            }
        );

        o.mark_ended("v1", "exit status: 0", Some((3.0, RecordingState::Ready)));
        assert_eq!(
            o.lifecycle("in").unwrap().0,
            Lifecycle {
                is_input: true,
                video_uid: None,
                live: false
            }
        );
        assert!(!o.lifecycle("v1").unwrap().0.live);
        assert_eq!(o.master("in", now).unwrap(), MasterPlan::Idle);
        assert!(matches!(o.master("v1", now).unwrap(), MasterPlan::Ready(_)));
        assert_eq!(
            o.playlist("v1", "stream_0.m3u8", now).unwrap().kind,
            hls::Kind::Vod
        );
        assert_eq!(
            o.playlist("in", "stream_0.m3u8", now).unwrap().kind,
            hls::Kind::LiveEnded
        );
        assert_eq!(
            o.segment("in", "stream_0_00000.ts").unwrap(),
            PathBuf::from("/v/v1/stream_0_00000.ts")
        );
        assert_eq!(o.thumbnail("in").unwrap().video_uid, "v1");
        // Requests by video uid count toward the input.
        let s = o.stats();
        assert_eq!(s.inputs["in"].lifecycle, 3);
        assert_eq!(s.inputs["in"].segment, 1);
        assert!(!s.inputs.contains_key("v1"));
    }

    #[test]
    fn faults_apply_by_video_uid_too() {
        let o = origin();
        create(&o, "in");
        fake_video(&o, "in", "v1", Phase::Live);
        let f = o
            .merge_faults(
                "in",
                &json!({"segments404": true, "manifest404Seconds": 60}),
            )
            .unwrap();
        assert!(f.segments_404);
        let now = Instant::now();
        for id in ["in", "v1"] {
            assert_eq!(o.lifecycle(id).unwrap().1, f);
            assert_eq!(
                o.segment(id, "stream_0_00000.ts").unwrap_err().status(),
                404
            );
            assert_eq!(o.master(id, now).unwrap_err().status(), 404);
            assert_eq!(
                o.playlist(id, "stream_0.m3u8", now).unwrap_err().status(),
                404
            );
            // After the window the manifest plays.
            let later = now + Duration::from_secs(61);
            assert!(matches!(o.master(id, later).unwrap(), MasterPlan::Ready(_)));
        }
        assert_eq!(
            o.merge_faults("in", &json!({"x": 1})).unwrap_err().status(),
            400
        );
        assert_eq!(o.merge_faults("zz", &json!({})).unwrap_err().status(), 404);
        assert_eq!(o.clear_faults("in").unwrap(), Faults::default());
    }

    #[test]
    fn views_count_and_fix() {
        let o = origin();
        create(&o, "in");
        fake_video(&o, "in", "v1", Phase::Live);
        let now = Instant::now();
        assert_eq!(o.views("in", cl("a"), now).unwrap().0.live_viewers, 1);
        assert_eq!(o.views("v1", cl("b"), now).unwrap().0.live_viewers, 2);
        assert_eq!(o.views("in", cl("a"), now).unwrap().0.live_viewers, 2);
        assert_eq!(o.set_viewers("in", Some(500), now).unwrap().counted, 2);
        assert_eq!(o.views("in", cl("a"), now).unwrap().0.live_viewers, 500);
        o.set_viewers("in", None, now).unwrap();
        assert_eq!(o.views("in", cl("a"), now).unwrap().0.live_viewers, 2);
        assert_eq!(o.stats().inputs["in"].views, 5);
    }

    #[test]
    fn viewers_are_pruned_and_their_total_kept() {
        let o = origin();
        create(&o, "a");
        create(&o, "b");
        let t0 = Instant::now();
        o.views("a", cl("x"), t0).unwrap();
        o.views("b", cl("x"), t0).unwrap();
        o.views("b", cl("y"), t0 + Duration::from_secs(20)).unwrap();
        assert_eq!(o.lock().viewers_tracked, 3);
        // The timer forgets those gone, in inputs nobody polls too.
        o.prune_viewers(t0 + Duration::from_secs(31));
        assert_eq!(o.lock().viewers_tracked, 1);
        assert_eq!(o.lock().inputs["a"].viewers.tracked(), 0);
        let _ = block_on(o.delete_input("b"));
        assert_eq!(o.lock().viewers_tracked, 0);
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn listing_many_inputs_in_chunks_keeps_them_all() {
        let o = origin();
        for i in 0..300 {
            create(&o, &format!("in-{i:03}"));
        }
        let list = o.list_inputs(Instant::now());
        assert_eq!(list.len(), 300);
        assert!(list.windows(2).all(|w| w[0].uid < w[1].uid));
    }

    #[tokio::test]
    async fn stop_and_delete_rules() {
        let o = origin();
        create(&o, "in");
        assert_eq!(
            o.stop("in", StopMode::Clean).await.unwrap_err().status(),
            409
        );
        assert_eq!(
            o.stop("zz", StopMode::Clean).await.unwrap_err().status(),
            404
        );
        fake_video(&o, "in", "v1", Phase::Live);
        assert_eq!(
            o.start_synthetic("in", StartBroadcast::default())
                .unwrap_err()
                .status(),
            409
        );
        assert_eq!(
            o.start_synthetic(
                "in",
                StartBroadcast {
                    fps: Some(0),
                    ..Default::default()
                }
            )
            .unwrap_err()
            .status(),
            400
        );
        assert_eq!(
            o.start_synthetic(
                "in",
                StartBroadcast {
                    preset: Some("x".into()),
                    ..Default::default()
                }
            )
            .unwrap_err()
            .status(),
            400
        );
        assert_eq!(o.start_rtmp("live", "nokey").unwrap_err().status(), 404);
        assert_eq!(o.start_rtmp("other", "in").unwrap_err().status(), 404);
        o.mark_ended("v1", "test", None);
        o.delete_input("in").await.unwrap();
        assert_eq!(o.lifecycle("in").unwrap_err().status(), 404);
        // The recording outlives its input.
        assert_eq!(
            o.lifecycle("v1").unwrap().0.video_uid.as_deref(),
            Some("v1")
        );
        assert_eq!(o.delete_input("in").await.unwrap_err().status(), 404);
    }
}
