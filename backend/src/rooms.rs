//! Go-live: a Jitsi room's Cloudflare live input, created once and found
//! again by its `meta.room` (Cloudflare is the source of truth; the backend
//! only caches), and what a moderator needs from it: the one string Jibri
//! takes (`streamId`) and the viewers' URL.
//!
//! The answer's shape is built by pure functions ([`validate_room`],
//! [`create_body`], [`find_room_input`], [`watch_url`], [`embed_snippet`]);
//! [`RoomsService`] does the calls, with one flight per room so two
//! moderators clicking at once create one input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use stream_api::account::{
    CreateLiveInput, Ingest, LiveInput, LiveInputStatus, Meta, RecordingMode, RecordingSettings,
};

use crate::account_client::{encode_segment, AccountClient, AccountError};

/// Longest room name accepted (Jitsi's are short words).
pub const MAX_ROOM_LEN: usize = 128;
/// Rooms whose input is kept in memory; past it the cache starts over.
const MAX_CACHED_ROOMS: usize = 10_000;
/// A room's input status younger than this is answered from memory: a
/// moderator page polling every 5 s must not spend the account API's
/// 1200 calls per 5 minutes.
pub const STATUS_TTL: Duration = Duration::from_secs(5);
/// A delivery answer (lifecycle, views) larger than this is ignored.
const MAX_DELIVERY_BODY: usize = 16 * 1024;

/// A Jitsi room name as the API takes it: letters (compared lowercased, as
/// Jitsi does), digits, `-`, `_`, `.`; 1 to [`MAX_ROOM_LEN`] characters,
/// not starting with a dot. Returns the lowercased name.
pub fn validate_room(raw: &str) -> Result<String, String> {
    let room = raw.to_ascii_lowercase();
    let ok = !room.is_empty()
        && room.len() <= MAX_ROOM_LEN
        && !room.starts_with('.')
        && room.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(room)
    } else {
        Err(format!(
            "a room name is 1 to {MAX_ROOM_LEN} letters, digits, '-', '_' or '.' (as Jitsi names rooms)"
        ))
    }
}

/// What the backend's settings put in every created input.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSettings {
    /// `recording.timeoutSeconds`: how long Jibri may be gone before a
    /// reconnect starts a new video.
    pub timeout_seconds: u64,
    /// Rooms are private by default (`--private-rooms`): inputs get
    /// `recording.requireSignedURLs` unless a request says otherwise.
    pub require_signed_urls: bool,
    pub allowed_origins: Vec<String>,
    /// Where viewers open the watch page: this backend's public URL.
    pub public_url: String,
    /// The delivery base the watch page and the status read (`None`:
    /// Cloudflare's legacy `https://videodelivery.net` for the status, and
    /// the watch page's own default).
    pub delivery_base: Option<String>,
    /// How long a room's input is trusted without asking Cloudflare again.
    pub input_ttl: Duration,
}

/// The create body: the seed's (`meta.name`, `recording.mode: automatic`,
/// `timeoutSeconds`, `requireSignedURLs`, `allowedOrigins`) plus `meta.room`.
pub fn create_body(s: &LiveSettings, room: &str) -> CreateLiveInput {
    create_body_with(s, room, s.require_signed_urls)
}

/// [`create_body`] for a room that is `private` (or not) whatever the default.
pub fn create_body_with(s: &LiveSettings, room: &str, private: bool) -> CreateLiveInput {
    CreateLiveInput {
        meta: Meta {
            name: Some(format!("Jitsi room {room}")),
            room: Some(room.to_string()),
        },
        recording: RecordingSettings {
            mode: Some(RecordingMode::Automatic),
            timeout_seconds: Some(s.timeout_seconds),
            require_signed_urls: Some(private),
            allowed_origins: Some(s.allowed_origins.clone()),
            hide_live_viewer_count: None,
        },
        delete_recording_after_days: None,
    }
}

/// The room's input in a list: `meta.room` equal (the oldest if several,
/// so every replica picks the same one).
pub fn find_room_input<'a>(list: &'a [LiveInput], room: &str) -> Option<&'a LiveInput> {
    list.iter()
        .filter(|i| i.meta.room.as_deref() == Some(room))
        .min_by(|a, b| a.created.cmp(&b.created).then_with(|| a.uid.cmp(&b.uid)))
}

/// The watch page for an input.
pub fn watch_url(s: &LiveSettings, uid: &str) -> String {
    let uid = encode_segment(uid);
    let mut url = format!(
        "{}/?input={uid}&recordings=/api/inputs/{uid}/recordings",
        s.public_url.trim_end_matches('/')
    );
    if let Some(base) = &s.delivery_base {
        url.push_str("&base=");
        url.push_str(&encode_segment(base));
    }
    url
}

/// The watch page for a room's input: a private room's adds `tokenUrl`,
/// where the player gets its viewer tokens
/// (`/api/rooms/<room>/viewer-token?input=<uid>`, percent-encoded).
pub fn room_watch_url(s: &LiveSettings, room: &str, input: &RoomInput) -> String {
    let mut url = watch_url(s, &input.uid);
    if input.private {
        // `?input=` is the link's proof (room names are guessable); encoded,
        // as it sits inside the watch URL's own query.
        url.push_str("&tokenUrl=/api/rooms/");
        url.push_str(&encode_segment(room));
        url.push_str("/viewer-token%3Finput%3D");
        url.push_str(&encode_segment(&input.uid));
    }
    url
}

/// What a go-live request asks, besides the room: `{"private": bool}`
/// (optional; absent or an empty body: the deployment's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GoLiveRequest {
    #[serde(default)]
    pub private: Option<bool>,
}

/// The privacy an existing input must be brought to: what the request
/// asks; without a word, the deployment default only ever makes a room
/// private (never public again behind the moderator's back).
pub fn wanted_privacy(asked: Option<bool>, default_private: bool, now: bool) -> Option<bool> {
    match asked {
        Some(p) if p != now => Some(p),
        Some(_) => None,
        None if default_private && !now => Some(true),
        None => None,
    }
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An iframe of the watch page, for a host page.
pub fn embed_snippet(watch_url: &str) -> String {
    format!(
        "<iframe src=\"{}\" title=\"Live stream\" allow=\"autoplay; fullscreen; picture-in-picture\" allowfullscreen style=\"border:0;width:100%;aspect-ratio:16/9\"></iframe>",
        html_attr(watch_url)
    )
}

/// A room's input as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveAnswer {
    pub room: String,
    #[serde(rename = "inputUID")]
    pub input_uid: String,
    pub rtmps: Ingest,
    /// What the moderator pastes into Jitsi's "Start live stream" dialog.
    pub stream_id: String,
    pub watch_url: String,
    pub embed: String,
    /// True when this call created the input.
    pub created: bool,
    /// Viewers need a token (`recording.requireSignedURLs`); the watch URL
    /// then names the token endpoint (`tokenUrl`).
    #[serde(default)]
    pub private: bool,
}

/// `GET`'s answer: the input plus how it is doing now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStatusAnswer {
    #[serde(flatten)]
    pub input: LiveAnswer,
    /// Cloudflare's input status (`connected`, `reconnecting`, ...) or null.
    pub status: Option<String>,
    pub live: bool,
    #[serde(rename = "videoUID")]
    pub video_uid: Option<String>,
    pub viewers: Option<u64>,
}

pub fn answer(s: &LiveSettings, room: &str, input: &RoomInput, created: bool) -> LiveAnswer {
    let watch = room_watch_url(s, room, input);
    LiveAnswer {
        room: room.to_string(),
        input_uid: input.uid.clone(),
        stream_id: input.rtmps.publish_url(),
        rtmps: input.rtmps.clone(),
        embed: embed_snippet(&watch),
        watch_url: watch,
        created,
        private: input.private,
    }
}

/// A room's input, as cached.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomInput {
    pub uid: String,
    pub rtmps: Ingest,
    pub status: Option<LiveInputStatus>,
    /// `recording.requireSignedURLs`, as Cloudflare reports it.
    pub private: bool,
}

impl RoomInput {
    fn from_input(i: LiveInput) -> Result<Self, LiveError> {
        let rtmps = i
            .rtmps
            .filter(|r| !r.url.is_empty() && !r.stream_key.is_empty());
        let Some(rtmps) = rtmps else {
            return Err(LiveError::Upstream(
                "Cloudflare's live input has no RTMPS ingest".into(),
            ));
        };
        Ok(Self {
            private: i.recording.require_signed_urls == Some(true),
            uid: i.uid,
            rtmps,
            status: i.status,
        })
    }
}

/// Why go-live failed (beyond authentication).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("this room has no live input yet; POST to create it")]
    NoInput,
    /// Cloudflare is rate limiting us: try again after this.
    #[error("Cloudflare is busy; try again in {} s", .0.as_secs())]
    Busy(Duration),
    /// Cloudflare failed or refused (details in the log, not the answer).
    #[error("{0}")]
    Upstream(String),
}

impl From<AccountError> for LiveError {
    fn from(e: AccountError) -> Self {
        tracing::warn!(error = %e, "go-live: account API call failed");
        match e {
            AccountError::RateLimited { retry_after } => Self::Busy(retry_after),
            AccountError::Unauthorized { .. } => Self::Upstream(
                "Cloudflare refused the backend's API token (needs Stream:Edit)".into(),
            ),
            AccountError::Timeout | AccountError::Unreachable(_) => {
                Self::Upstream("Cloudflare's API cannot be reached".into())
            }
            _ => Self::Upstream("Cloudflare's API failed".into()),
        }
    }
}

/// The lifecycle and views of an input, from the delivery base.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub live: bool,
    pub video_uid: Option<String>,
    pub viewers: Option<u64>,
}

#[derive(Deserialize)]
struct Lifecycle {
    #[serde(default)]
    live: bool,
    #[serde(default, rename = "videoUID")]
    video_uid: Option<String>,
}

#[derive(Deserialize)]
struct Views {
    #[serde(rename = "liveViewers")]
    live_viewers: Option<u64>,
}

type Flight = Arc<tokio::sync::Mutex<()>>;

/// A future of a delivery id (a boxed one: the signer is a trait object).
pub type IdFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send + 'a>>;

/// Gives the id a private input is read by on the delivery side (a signed
/// token in place of its uid): the viewer tokens, once configured.
pub trait DeliverySigner: Send + Sync {
    fn token_for<'a>(&'a self, uid: &'a str) -> IdFuture<'a>;
}

/// Finds or creates rooms' inputs.
pub struct RoomsService {
    client: Arc<AccountClient>,
    settings: LiveSettings,
    inputs: Mutex<HashMap<String, (Instant, RoomInput)>>,
    flights: Mutex<HashMap<String, Flight>>,
    http: reqwest::Client,
    /// Set once viewer tokens are configured; private inputs' status needs it.
    signer: std::sync::OnceLock<Arc<dyn DeliverySigner>>,
}

impl RoomsService {
    pub fn new(client: Arc<AccountClient>, settings: LiveSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| format!("cannot set up the delivery client: {e}"))?;
        Ok(Self {
            client,
            settings,
            inputs: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            http,
            signer: std::sync::OnceLock::new(),
        })
    }

    pub fn settings(&self) -> &LiveSettings {
        &self.settings
    }

    fn cached(&self, room: &str) -> Option<RoomInput> {
        self.cached_within(room, self.settings.input_ttl)
    }

    fn cached_within(&self, room: &str, ttl: Duration) -> Option<RoomInput> {
        let inputs = self.inputs.lock().unwrap_or_else(PoisonError::into_inner);
        inputs
            .get(room)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, i)| i.clone())
    }

    fn remember(&self, room: &str, input: &RoomInput) {
        let mut inputs = self.inputs.lock().unwrap_or_else(PoisonError::into_inner);
        if inputs.len() >= MAX_CACHED_ROOMS && !inputs.contains_key(room) {
            inputs.clear();
        }
        inputs.insert(room.to_string(), (Instant::now(), input.clone()));
    }

    /// The room's flight: one account API sequence at a time per room.
    fn flight(&self, room: &str) -> Flight {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // Drop finished flights (only the map holds them) so it stays small.
        flights.retain(|_, f| Arc::strong_count(f) > 1);
        Arc::clone(flights.entry(room.to_string()).or_default())
    }

    /// Looks the room's input up on Cloudflare (list, then the input itself
    /// for its ingest URL).
    async fn lookup(&self, room: &str) -> Result<Option<RoomInput>, LiveError> {
        let list = self.client.list_live_inputs().await?;
        let Some(found) = find_room_input(&list, room) else {
            return Ok(None);
        };
        let input = self.client.get_live_input(&found.uid).await?;
        Ok(Some(RoomInput::from_input(input)?))
    }

    /// The room's input, created if it has none. `(input, created now)`.
    pub async fn ensure(&self, room: &str) -> Result<(RoomInput, bool), LiveError> {
        self.ensure_with(room, None).await
    }

    /// [`RoomsService::ensure`] with a privacy asked (`None`: the
    /// deployment's default). An existing input whose privacy differs from
    /// [`wanted_privacy`] is updated (`PUT .../live_inputs/<uid>`), so a room
    /// made private stops playing by its bare uid at once.
    pub async fn ensure_with(
        &self,
        room: &str,
        private: Option<bool>,
    ) -> Result<(RoomInput, bool), LiveError> {
        let settled = |i: &RoomInput| {
            wanted_privacy(private, self.settings.require_signed_urls, i.private).is_none()
        };
        if let Some(i) = self.cached(room).filter(settled) {
            return Ok((i, false));
        }
        let flight = self.flight(room);
        let _guard = flight.lock().await;
        // Another call may have done the work while this one waited.
        if let Some(i) = self.cached(room).filter(settled) {
            return Ok((i, false));
        }
        let found = match self.cached(room) {
            Some(i) => Some(i),
            None => self.lookup(room).await?,
        };
        let (input, created) = match found {
            Some(i) => {
                match wanted_privacy(private, self.settings.require_signed_urls, i.private) {
                    None => (i, false),
                    Some(p) => {
                        let body = create_body_with(&self.settings, room, p);
                        let updated = RoomInput::from_input(
                            self.client.update_live_input(&i.uid, body).await?,
                        )?;
                        tracing::info!(room, input = %updated.uid, private = p, "go-live: input privacy changed");
                        (updated, false)
                    }
                }
            }
            None => {
                let p = private.unwrap_or(self.settings.require_signed_urls);
                let body = create_body_with(&self.settings, room, p);
                let input = RoomInput::from_input(self.client.create_live_input_with(body).await?)?;
                tracing::info!(room, input = %input.uid, private = p, "go-live: live input created");
                (input, true)
            }
        };
        self.remember(room, &input);
        Ok((input, created))
    }

    /// The room's input from the cache (up to the input TTL old) or looked
    /// up; never created ([`LiveError::NoInput`] if none).
    pub async fn room_input(&self, room: &str) -> Result<RoomInput, LiveError> {
        if let Some(i) = self.cached(room) {
            return Ok(i);
        }
        let flight = self.flight(room);
        let _guard = flight.lock().await;
        if let Some(i) = self.cached(room) {
            return Ok(i);
        }
        let found = self.lookup(room).await?.ok_or(LiveError::NoInput)?;
        self.remember(room, &found);
        Ok(found)
    }

    /// The room's input uid, from the cache (up to the input TTL old) or
    /// looked up; never created ([`LiveError::NoInput`] if none). The
    /// figures need only the uid, so this spends no status call.
    pub async fn input_uid(&self, room: &str) -> Result<String, LiveError> {
        if let Some(i) = self.cached(room) {
            return Ok(i.uid);
        }
        let flight = self.flight(room);
        let _guard = flight.lock().await;
        if let Some(i) = self.cached(room) {
            return Ok(i.uid);
        }
        let found = self.lookup(room).await?.ok_or(LiveError::NoInput)?;
        self.remember(room, &found);
        Ok(found.uid)
    }

    /// The room's input with its status (at most [`STATUS_TTL`] old);
    /// [`LiveError::NoInput`] if none.
    pub async fn status(&self, room: &str) -> Result<RoomInput, LiveError> {
        if let Some(fresh) = self.cached_within(room, STATUS_TTL.min(self.settings.input_ttl)) {
            return Ok(fresh);
        }
        let uid = match self.cached(room) {
            Some(i) => i.uid,
            None => {
                let flight = self.flight(room);
                let _guard = flight.lock().await;
                match self.cached(room) {
                    Some(i) => i.uid,
                    None => {
                        let found = self.lookup(room).await?.ok_or(LiveError::NoInput)?;
                        self.remember(room, &found);
                        return Ok(found);
                    }
                }
            }
        };
        match self.client.get_live_input(&uid).await {
            Ok(i) => {
                let input = RoomInput::from_input(i)?;
                self.remember(room, &input);
                Ok(input)
            }
            Err(AccountError::NotFound { .. }) => {
                // Deleted on Cloudflare: forget it; the next POST makes a new one.
                self.inputs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(room);
                Err(LiveError::NoInput)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How private inputs are read on the delivery side (set once).
    pub fn set_signer(&self, signer: Arc<dyn DeliverySigner>) {
        let _ = self.signer.set(signer);
    }

    /// [`RoomsService::delivery`] of a room's input: a private one is read
    /// with a signed token (unknowns when none can be had).
    pub async fn delivery_of(&self, input: &RoomInput) -> Delivery {
        if !input.private {
            return self.delivery(&input.uid).await;
        }
        let Some(signer) = self.signer.get() else {
            return Delivery::default();
        };
        match signer.token_for(&input.uid).await {
            Some(token) => self.delivery(&token).await,
            None => Delivery::default(),
        }
    }

    /// Lifecycle and viewers from the delivery base; unknowns on failure
    /// (the status is informative, not worth failing the call).
    pub async fn delivery(&self, uid: &str) -> Delivery {
        let base = self
            .settings
            .delivery_base
            .as_deref()
            .unwrap_or("https://videodelivery.net")
            .trim_end_matches('/');
        let uid = encode_segment(uid);
        let (lifecycle, views) = tokio::join!(
            self.fetch_json::<Lifecycle>(format!("{base}/{uid}/lifecycle")),
            self.fetch_json::<Views>(format!("{base}/{uid}/views")),
        );
        Delivery {
            live: lifecycle.as_ref().is_some_and(|l| l.live),
            video_uid: lifecycle.and_then(|l| l.video_uid),
            viewers: views.and_then(|v| v.live_viewers),
        }
    }

    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: String) -> Option<T> {
        let resp = self.http.get(&url).send().await.ok()?;
        if !resp.status().is_success()
            || resp
                .content_length()
                .is_some_and(|n| n > MAX_DELIVERY_BODY as u64)
        {
            return None;
        }
        let bytes = resp.bytes().await.ok()?;
        if bytes.len() > MAX_DELIVERY_BODY {
            return None;
        }
        serde_json::from_slice(&bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LiveSettings {
        LiveSettings {
            timeout_seconds: 10,
            require_signed_urls: false,
            allowed_origins: vec!["live.example.com".into()],
            public_url: "https://live.example.com/".into(),
            delivery_base: None,
            input_ttl: Duration::from_secs(600),
        }
    }

    #[test]
    fn room_names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("standup", Some("standup")),
            ("Team-Sync_2.0", Some("team-sync_2.0")),
            ("a", Some("a")),
            ("", None),
            (".hidden", None),
            ("a/b", None),
            ("a b", None),
            ("räume", None),
            ("x%2Fy", None),
            ("<script>", None),
        ];
        for (raw, want) in cases {
            assert_eq!(validate_room(raw).ok().as_deref(), *want, "{raw}");
        }
        assert!(validate_room(&"a".repeat(MAX_ROOM_LEN)).is_ok());
        assert!(validate_room(&"a".repeat(MAX_ROOM_LEN + 1)).is_err());
    }

    #[test]
    fn create_body_is_the_seeds() {
        let v = serde_json::to_value(create_body(&settings(), "standup")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"meta": {"name": "Jitsi room standup", "room": "standup"},
                "recording": {"mode": "automatic", "timeoutSeconds": 10,
                    "requireSignedURLs": false, "allowedOrigins": ["live.example.com"]}})
        );
    }

    #[test]
    fn the_rooms_input_is_found_by_meta() {
        let input = |uid: &str, room: Option<&str>, created: &str| LiveInput {
            uid: uid.into(),
            created: Some(created.into()),
            meta: Meta {
                name: Some("x".into()),
                room: room.map(str::to_string),
            },
            ..LiveInput::default()
        };
        let list = vec![
            input("a", None, "2024-01-01T00:00:00Z"),
            input("b", Some("other"), "2024-01-01T00:00:00Z"),
            input("c", Some("standup"), "2024-03-01T00:00:00Z"),
            input("d", Some("standup"), "2024-02-01T00:00:00Z"),
        ];
        assert_eq!(find_room_input(&list, "standup").unwrap().uid, "d");
        assert!(find_room_input(&list, "nobody").is_none());
        assert!(find_room_input(&[], "standup").is_none());
    }

    #[test]
    fn urls_and_embed() {
        let mut s = settings();
        assert_eq!(
            watch_url(&s, "f256e6ea"),
            "https://live.example.com/?input=f256e6ea&recordings=/api/inputs/f256e6ea/recordings"
        );
        s.delivery_base = Some("http://127.0.0.1:8081".into());
        let w = watch_url(&s, "abc");
        assert_eq!(
            w,
            "https://live.example.com/?input=abc&recordings=/api/inputs/abc/recordings&base=http%3A%2F%2F127.0.0.1%3A8081"
        );
        let e = embed_snippet(&w);
        assert!(
            e.starts_with("<iframe src=\"https://live.example.com/?input=abc&amp;recordings="),
            "{e}"
        );
        assert!(!e.contains("&base"), "{e}");
        let a = answer(
            &s,
            "standup",
            &RoomInput {
                uid: "abc".into(),
                rtmps: Ingest {
                    url: "rtmps://live.cloudflare.com:443/live/".into(),
                    stream_key: "k3y".into(),
                },
                status: None,
                private: false,
            },
            true,
        );
        assert_eq!(a.stream_id, "rtmps://live.cloudflare.com:443/live/k3y");
        let v = serde_json::to_value(&a).unwrap();
        for key in [
            "room", "inputUID", "rtmps", "streamId", "watchUrl", "embed", "created",
        ] {
            assert!(v.get(key).is_some(), "{key}: {v}");
        }
        assert_eq!(v["rtmps"]["streamKey"], "k3y");
    }

    #[test]
    fn account_errors_become_plain_answers() {
        let e: LiveError = AccountError::Unauthorized {
            status: 401,
            message: "Authentication error".into(),
        }
        .into();
        assert!(e.to_string().contains("Stream:Edit"));
        let e: LiveError = AccountError::RateLimited {
            retry_after: Duration::from_secs(7),
        }
        .into();
        assert_eq!(e, LiveError::Busy(Duration::from_secs(7)));
    }
}
