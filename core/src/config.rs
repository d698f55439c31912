//! Player configuration: what to play and where from, validated once, plus
//! the Cloudflare Stream delivery URLs built from it.
//!
//! Hosts give the configuration as strings (URL query, element attributes,
//! `mount()` options); everything that reaches a URL is checked here so a
//! typo ends in a plain message instead of a broken request.

use std::fmt;

/// Configuration as the host wrote it, every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawConfig {
    pub input: Option<String>,
    pub video: Option<String>,
    pub customer: Option<String>,
    pub base: Option<String>,
    pub token: Option<String>,
    pub autoplay: Option<String>,
    pub muted: Option<String>,
    pub engine: Option<String>,
    pub recordings: Option<String>,
    pub qoe: Option<String>,
    /// The viewer's language as a BCP 47 tag (`de`, `pt-BR`); see
    /// `crate::i18n::Lang::choose`. Never an error: an unknown one falls
    /// back to the browser's languages, then English.
    pub lang: Option<String>,
    /// Where to get signed tokens for a private broadcast (`POST`), absolute
    /// or a path on the page's origin (see `crate::signed`).
    pub token_url: Option<String>,
    /// The viewer's Jitsi token, sent only to `token_url` as
    /// `Authorization: Bearer`. Never read from a URL query (the watch page
    /// takes it from the fragment, `#jwt=`), never logged.
    pub jwt: Option<String>,
}

impl RawConfig {
    /// Every option a host can give.
    pub const KEYS: [&'static str; 13] = [
        "input",
        "video",
        "customer",
        "base",
        "token",
        "autoplay",
        "muted",
        "engine",
        "recordings",
        "qoe",
        "lang",
        "tokenUrl",
        "jwt",
    ];

    /// The options the watch page reads from its query: all but `jwt`,
    /// which would end up in logs, histories and `Referer`s there.
    pub fn query_keys() -> impl Iterator<Item = &'static str> {
        Self::KEYS.into_iter().filter(|k| *k != "jwt")
    }

    /// Reads `key=value` pairs (already percent-decoded) such as a URL query.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut raw = RawConfig::default();
        for (key, value) in pairs {
            let slot = match key.as_ref() {
                "input" => &mut raw.input,
                "video" => &mut raw.video,
                "customer" => &mut raw.customer,
                "base" => &mut raw.base,
                "token" => &mut raw.token,
                "autoplay" => &mut raw.autoplay,
                "muted" => &mut raw.muted,
                "engine" => &mut raw.engine,
                "recordings" => &mut raw.recordings,
                "qoe" => &mut raw.qoe,
                "lang" => &mut raw.lang,
                "tokenUrl" => &mut raw.token_url,
                "jwt" => &mut raw.jwt,
                _ => continue,
            };
            // The first occurrence wins, as URLSearchParams.get does.
            if slot.is_none() {
                *slot = Some(value.into());
            }
        }
        raw
    }
}

/// What the player follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A live input: its broadcasts come and go, each with a new video uid.
    Input(String),
    /// One video: a broadcast (live or finished) or a recording.
    Video(String),
}

impl Source {
    pub fn uid(&self) -> &str {
        match self {
            Source::Input(uid) | Source::Video(uid) => uid,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerConfig {
    pub source: Source,
    /// Delivery base without a trailing slash, e.g. `https://customer-abc.cloudflarestream.com`.
    pub base: String,
    /// A signed token, used in place of the uid in delivery URLs.
    pub token: Option<String>,
    pub autoplay: bool,
    pub muted: bool,
    pub engine: Engine,
    /// Our server's recordings endpoint for this input, absolute.
    pub recordings: Option<String>,
    /// Where viewing figures are sent (`POST`), absolute; `None`: not sent.
    /// See [`qoe_endpoint`].
    pub qoe: Option<String>,
    /// Where signed tokens come from (absolute): the player gets one before
    /// its first lifecycle request and keeps it fresh (`crate::signed`).
    pub token_url: Option<String>,
    /// Sent to `token_url` only.
    pub jwt: Option<Jwt>,
}

/// The viewer's Jitsi token: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Jwt(String);

impl Jwt {
    /// The token, for the `Authorization` header of the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jwt(…)")
    }
}

/// How HLS is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The browser's own HLS where it has it (Safari, iOS, recent Chromium),
    /// else hls.js on Media Source Extensions.
    Auto,
    /// Always the browser's own player.
    Native,
    /// Always hls.js, for its live tuning (bounded back buffer, catch-up
    /// rate) even where the browser plays HLS itself.
    Hlsjs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    MissingSource,
    BothSources,
    InvalidUid {
        field: &'static str,
    },
    InvalidCustomer,
    InvalidBase,
    BaseAndCustomer,
    InvalidToken,
    InvalidEngine,
    InvalidRecordings,
    InvalidQoe,
    InvalidTokenUrl,
    /// A `jwt` that is not a JWT, or one without `tokenUrl` (it goes nowhere else).
    InvalidJwt,
    TokenAndTokenUrl,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::text::config_error(self).english())
    }
}

impl std::error::Error for ConfigError {}

pub(crate) fn is_uid(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn is_token(s: &str) -> bool {
    // Signed tokens are JWTs: base64url parts joined by dots.
    (1..=4096).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A JWT as Jitsi issues it: three base64url parts.
pub fn is_jwt(s: &str) -> bool {
    is_token(s) && s.bytes().filter(|b| *b == b'.').count() == 2
}

fn is_customer(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Accepts `http(s)://host[:port][/path]`, returns it without a trailing slash.
fn clean_base(s: &str) -> Option<String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let host = rest.split('/').next().unwrap_or("");
    let bad_char = |c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>' | '\\' | '@')
    };
    if host.is_empty() || s.chars().any(bad_char) {
        return None;
    }
    Some(s.trim_end_matches('/').to_string())
}

/// An absolute http(s) URL that is safe to fetch (a query is allowed).
pub(crate) fn is_url(s: &str) -> bool {
    let rest = match s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        Some(rest) => rest,
        None => return false,
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    !host.is_empty()
        && !host.contains('@')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
}

fn flag(value: &Option<String>, default: bool) -> bool {
    match value.as_deref().map(str::trim) {
        None => default,
        // A bare attribute (`<x muted>`) or `?muted` means on.
        Some("" | "1" | "true" | "yes" | "on") => true,
        Some(_) => false,
    }
}

/// The backend's path for a room's recordings; what precedes it is the
/// backend's base, which also takes the viewing figures.
const BACKEND_RECORDINGS: &str = "/api/inputs/";
/// The backend's path for the viewing figures.
pub const QOE_PATH: &str = "/api/qoe";

/// Where the viewing figures go, from `qoe` and the (absolute) recordings
/// endpoint: `0`/`off`/`false` turn them off; an http(s) URL or a path on
/// the page's origin names the endpoint; unset (or `1`/`on`/`true`), the
/// backend that lists the recordings takes them (`<its base>/api/qoe`),
/// because only our backend serves `/api/inputs/<uid>/recordings` and it
/// is then known to be there. Without either, nothing is sent: no endpoint
/// is guessed. A player of one video (no input) sends nothing: figures are
/// kept per live input.
pub fn qoe_endpoint(
    qoe: Option<&str>,
    recordings: Option<&str>,
    source: &Source,
    page_origin: &str,
) -> Result<Option<String>, ConfigError> {
    let from_recordings = || {
        let url = recordings?;
        let at = crate::qoe::find(url, BACKEND_RECORDINGS)?;
        // Only the path's start: `https://host/api/inputs/...`, not a query.
        let base = url.get(..at)?;
        let path_start = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))?;
        (!path_start.contains(['?', '#'])).then(|| format!("{base}{QOE_PATH}"))
    };
    let endpoint = match qoe {
        Some("0" | "off" | "false" | "no") => return Ok(None),
        None | Some("1" | "on" | "true" | "yes") => from_recordings(),
        Some(path) if path.starts_with('/') && !path.starts_with("//") => {
            let origin = clean_base(page_origin).ok_or(ConfigError::InvalidQoe)?;
            Some(format!("{origin}{path}"))
                .filter(|url| is_url(url))
                .map(Some)
                .ok_or(ConfigError::InvalidQoe)?
        }
        Some(url) if is_url(url) => Some(url.to_string()),
        Some(_) => return Err(ConfigError::InvalidQoe),
    };
    Ok(endpoint.filter(|_| matches!(source, Source::Input(_))))
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An endpoint option (`recordings`, `tokenUrl`): an http(s) URL, or a
/// path on the page's origin made absolute; `error` when it is neither.
fn absolute(
    value: &Option<String>,
    page_origin: &str,
    error: ConfigError,
) -> Result<Option<String>, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Ok(None);
    };
    let url = if value.starts_with('/') && !value.starts_with("//") {
        clean_base(page_origin).map(|origin| format!("{origin}{value}"))
    } else {
        Some(value.to_string())
    };
    url.filter(|url| is_url(url)).map(Some).ok_or(error)
}

impl PlayerConfig {
    /// Validates `raw`. Without `base` or `customer`, delivery is `page_origin`
    /// (the local origin serves the page and the stream from one address).
    pub fn parse(raw: &RawConfig, page_origin: &str) -> Result<Self, ConfigError> {
        let source = match (non_empty(&raw.input), non_empty(&raw.video)) {
            (None, None) => return Err(ConfigError::MissingSource),
            (Some(_), Some(_)) => return Err(ConfigError::BothSources),
            (Some(input), None) if is_uid(input) => Source::Input(input.to_string()),
            (Some(_), None) => return Err(ConfigError::InvalidUid { field: "input" }),
            (None, Some(video)) if is_uid(video) => Source::Video(video.to_string()),
            (None, Some(_)) => return Err(ConfigError::InvalidUid { field: "video" }),
        };
        let base = match (non_empty(&raw.customer), non_empty(&raw.base)) {
            (Some(_), Some(_)) => return Err(ConfigError::BaseAndCustomer),
            (Some(code), None) if is_customer(code) => {
                format!("https://customer-{code}.cloudflarestream.com")
            }
            (Some(_), None) => return Err(ConfigError::InvalidCustomer),
            (None, Some(base)) => clean_base(base).ok_or(ConfigError::InvalidBase)?,
            (None, None) => clean_base(page_origin).ok_or(ConfigError::InvalidBase)?,
        };
        let token = match non_empty(&raw.token) {
            Some(t) if is_token(t) => Some(t.to_string()),
            Some(_) => return Err(ConfigError::InvalidToken),
            None => None,
        };
        let engine = match non_empty(&raw.engine) {
            None | Some("auto") => Engine::Auto,
            Some("native") => Engine::Native,
            Some("hlsjs") => Engine::Hlsjs,
            Some(_) => return Err(ConfigError::InvalidEngine),
        };
        let recordings = absolute(&raw.recordings, page_origin, ConfigError::InvalidRecordings)?;
        let token_url = absolute(&raw.token_url, page_origin, ConfigError::InvalidTokenUrl)?;
        if token.is_some() && token_url.is_some() {
            return Err(ConfigError::TokenAndTokenUrl);
        }
        let jwt = match non_empty(&raw.jwt) {
            None => None,
            Some(jwt) if is_jwt(jwt) && token_url.is_some() => Some(Jwt(jwt.to_string())),
            Some(_) => return Err(ConfigError::InvalidJwt),
        };
        let qoe = qoe_endpoint(
            non_empty(&raw.qoe),
            recordings.as_deref(),
            &source,
            page_origin,
        )?;
        Ok(PlayerConfig {
            source,
            recordings,
            qoe,
            token_url,
            jwt,
            base,
            token,
            engine,
            autoplay: flag(&raw.autoplay, true),
            muted: flag(&raw.muted, false),
        })
    }

    /// Where delivery URLs of this source start: `<base>/`, followed by
    /// the uid or the signed token, then the path.
    pub fn delivery_prefix(&self) -> String {
        format!("{}/", self.base)
    }

    /// The path segment naming the source: the signed token when there is one.
    fn id(&self) -> &str {
        self.token.as_deref().unwrap_or(self.source.uid())
    }

    pub fn lifecycle_url(&self) -> String {
        format!("{}/{}/lifecycle", self.base, self.id())
    }

    pub fn views_url(&self) -> String {
        format!("{}/{}/views", self.base, self.id())
    }

    /// The HLS manifest of the source: by input uid, the current broadcast.
    pub fn manifest_url(&self) -> String {
        format!("{}/{}/manifest/video.m3u8", self.base, self.id())
    }

    /// The HLS manifest of one video (a recording or a given broadcast).
    pub fn video_manifest_url(&self, video_uid: &str) -> String {
        format!("{}/{}/manifest/video.m3u8", self.base, video_uid)
    }

    /// A still of one video. Not with a signed token: the token stands for
    /// one uid only, and the still is decoration.
    pub fn thumbnail_url(&self, video_uid: &str, height: u32) -> Option<String> {
        self.token.is_none().then(|| {
            format!(
                "{}/{video_uid}/thumbnails/thumbnail.jpg?time=1s&height={height}",
                self.base
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawConfig {
        RawConfig::from_pairs(pairs.iter().map(|(k, v)| (*k, v.to_string())))
    }

    const ORIGIN: &str = "http://127.0.0.1:8080";

    #[test]
    fn builds_delivery_urls() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("input", "demo")],
                "http://127.0.0.1:8080/demo/lifecycle",
                "http://127.0.0.1:8080/demo/manifest/video.m3u8",
            ),
            (
                &[("input", "abc123"), ("customer", "f33zs165nr7gyfy4")],
                "https://customer-f33zs165nr7gyfy4.cloudflarestream.com/abc123/lifecycle",
                "https://customer-f33zs165nr7gyfy4.cloudflarestream.com/abc123/manifest/video.m3u8",
            ),
            (
                &[
                    ("video", "55b9b5ce"),
                    ("base", "https://videodelivery.net/"),
                ],
                "https://videodelivery.net/55b9b5ce/lifecycle",
                "https://videodelivery.net/55b9b5ce/manifest/video.m3u8",
            ),
            (
                &[
                    ("input", "abc"),
                    ("base", "https://videodelivery.net"),
                    ("token", "eyJh.eyJz.sig-_"),
                ],
                "https://videodelivery.net/eyJh.eyJz.sig-_/lifecycle",
                "https://videodelivery.net/eyJh.eyJz.sig-_/manifest/video.m3u8",
            ),
        ];
        for (pairs, lifecycle, manifest) in cases {
            let config = PlayerConfig::parse(&raw(pairs), ORIGIN).expect("valid config");
            assert_eq!(config.lifecycle_url(), *lifecycle, "{pairs:?}");
            assert_eq!(config.manifest_url(), *manifest, "{pairs:?}");
        }
    }

    #[test]
    fn views_thumbnail_and_video_urls() {
        let config = PlayerConfig::parse(&raw(&[("input", "demo")]), "http://h:1/").unwrap();
        assert_eq!(config.views_url(), "http://h:1/demo/views");
        assert_eq!(
            config.thumbnail_url("v1", 270).as_deref(),
            Some("http://h:1/v1/thumbnails/thumbnail.jpg?time=1s&height=270")
        );
        let signed = RawConfig {
            input: Some("a".into()),
            token: Some("t.t.t".into()),
            ..Default::default()
        };
        assert_eq!(
            PlayerConfig::parse(&signed, "http://h:1")
                .unwrap()
                .thumbnail_url("v1", 270),
            None
        );
        assert_eq!(
            config.video_manifest_url("v1"),
            "http://h:1/v1/manifest/video.m3u8"
        );
    }

    #[test]
    fn rejects_bad_config_with_what_to_pass() {
        let cases: &[(&[(&str, &str)], ConfigError)] = &[
            (&[], ConfigError::MissingSource),
            (&[("input", "  ")], ConfigError::MissingSource),
            (&[("input", "a"), ("video", "b")], ConfigError::BothSources),
            (
                &[("input", "bad$$")],
                ConfigError::InvalidUid { field: "input" },
            ),
            (
                &[("input", "../x")],
                ConfigError::InvalidUid { field: "input" },
            ),
            (
                &[("video", "a b")],
                ConfigError::InvalidUid { field: "video" },
            ),
            (
                &[("input", "a"), ("customer", "Evil.com/")],
                ConfigError::InvalidCustomer,
            ),
            (
                &[("input", "a"), ("base", "javascript:alert(1)")],
                ConfigError::InvalidBase,
            ),
            (
                &[("input", "a"), ("base", "https://x?y")],
                ConfigError::InvalidBase,
            ),
            (
                &[("input", "a"), ("base", "https://")],
                ConfigError::InvalidBase,
            ),
            (
                &[("input", "a"), ("base", "https://u@evil")],
                ConfigError::InvalidBase,
            ),
            (
                &[("input", "a"), ("base", "https://x"), ("customer", "c")],
                ConfigError::BaseAndCustomer,
            ),
            (
                &[("input", "a"), ("token", "a/b")],
                ConfigError::InvalidToken,
            ),
            (
                &[("input", "a"), ("tokenUrl", "javascript:alert(1)")],
                ConfigError::InvalidTokenUrl,
            ),
            (
                &[("input", "a"), ("tokenUrl", "//evil.example/t")],
                ConfigError::InvalidTokenUrl,
            ),
            (
                &[("input", "a"), ("tokenUrl", "https://u@evil/t")],
                ConfigError::InvalidTokenUrl,
            ),
            (
                &[("input", "a"), ("token", "t.t.t"), ("tokenUrl", "/t")],
                ConfigError::TokenAndTokenUrl,
            ),
            // A jwt goes to tokenUrl only: without one it has nowhere to go.
            (&[("input", "a"), ("jwt", "h.p.s")], ConfigError::InvalidJwt),
            (
                &[("input", "a"), ("tokenUrl", "/t"), ("jwt", "not a jwt")],
                ConfigError::InvalidJwt,
            ),
            (
                &[("input", "a"), ("tokenUrl", "/t"), ("jwt", "h.p")],
                ConfigError::InvalidJwt,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                PlayerConfig::parse(&raw(pairs), ORIGIN),
                Err(want.clone()),
                "{pairs:?}"
            );
            assert!(want.to_string().len() > 20);
        }
        let missing = ConfigError::MissingSource.to_string();
        assert!(
            missing.contains("(input)") && missing.contains("(video)"),
            "{missing}"
        );
    }

    #[test]
    fn recordings_endpoint_is_made_absolute() {
        let c = |v: &str| {
            PlayerConfig::parse(&raw(&[("input", "a"), ("recordings", v)]), ORIGIN)
                .unwrap()
                .recordings
        };
        assert_eq!(
            c("/api/inputs/a/recordings").as_deref(),
            Some("http://127.0.0.1:8080/api/inputs/a/recordings")
        );
        assert_eq!(
            c("https://api.example/r?x=1").as_deref(),
            Some("https://api.example/r?x=1")
        );
        let none = PlayerConfig::parse(&raw(&[("input", "a")]), ORIGIN).unwrap();
        assert_eq!(none.recordings, None);
    }

    #[test]
    fn qoe_endpoint_table() {
        let c = |pairs: &[(&str, &str)]| PlayerConfig::parse(&raw(pairs), ORIGIN).map(|c| c.qoe);
        let rec = ("recordings", "/api/inputs/a/recordings");
        let ok = |s: &str| Ok(Some(s.to_string()));
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Result<Option<String>, ConfigError>,
        );
        let cases: &[Case] = &[
            // No endpoint known: off.
            (&[("input", "a")], Ok(None)),
            // The watch page the backend hands out: its recordings path.
            (&[("input", "a"), rec], ok("http://127.0.0.1:8080/api/qoe")),
            (
                &[("input", "a"), rec, ("qoe", "1")],
                ok("http://127.0.0.1:8080/api/qoe"),
            ),
            (
                &[
                    ("input", "a"),
                    (
                        "recordings",
                        "https://b.example/live/api/inputs/a/recordings",
                    ),
                ],
                ok("https://b.example/live/api/qoe"),
            ),
            // A recordings endpoint that is not our backend's: nothing guessed.
            (
                &[("input", "a"), ("recordings", "https://b.example/recs?i=a")],
                Ok(None),
            ),
            (
                &[
                    ("input", "a"),
                    (
                        "recordings",
                        "https://b.example/r?u=/api/inputs/a/recordings",
                    ),
                ],
                Ok(None),
            ),
            (&[("input", "a"), rec, ("qoe", "0")], Ok(None)),
            (&[("input", "a"), rec, ("qoe", "off")], Ok(None)),
            (
                &[("input", "a"), ("qoe", "/beacons")],
                ok("http://127.0.0.1:8080/beacons"),
            ),
            (
                &[("input", "a"), ("qoe", "https://q.example/api/qoe")],
                ok("https://q.example/api/qoe"),
            ),
            // One video, no input: figures are per input.
            (
                &[("video", "v"), ("qoe", "https://q.example/api/qoe")],
                Ok(None),
            ),
            (
                &[("input", "a"), ("qoe", "//evil.example/x")],
                Err(ConfigError::InvalidQoe),
            ),
            (
                &[("input", "a"), ("qoe", "javascript:alert(1)")],
                Err(ConfigError::InvalidQoe),
            ),
            (
                &[("input", "a"), ("qoe", "https://u@evil/x")],
                Err(ConfigError::InvalidQoe),
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(&c(pairs), want, "{pairs:?}");
        }
        assert!(ConfigError::InvalidQoe.to_string().len() > 20);
    }

    #[test]
    fn token_url_and_jwt() {
        let c = |pairs: &[(&str, &str)]| PlayerConfig::parse(&raw(pairs), ORIGIN).unwrap();
        let path = c(&[("input", "a"), ("tokenUrl", "/api/rooms/r/viewer-token")]);
        assert_eq!(
            path.token_url.as_deref(),
            Some("http://127.0.0.1:8080/api/rooms/r/viewer-token")
        );
        assert_eq!(path.jwt, None);
        let abs = c(&[
            ("input", "a"),
            ("tokenUrl", "https://b.example/t?room=r"),
            ("jwt", "eyJh.eyJw.c2ln"),
        ]);
        assert_eq!(abs.token_url.as_deref(), Some("https://b.example/t?room=r"));
        assert_eq!(abs.jwt.as_ref().map(Jwt::expose), Some("eyJh.eyJw.c2ln"));
        // Never in a log line.
        assert!(!format!("{abs:?}").contains("eyJw"));
        // The watch page's query never carries the jwt.
        assert!(RawConfig::query_keys().all(|k| k != "jwt"));
        assert_eq!(RawConfig::query_keys().count(), RawConfig::KEYS.len() - 1);
        assert_eq!(path.delivery_prefix(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn every_key_is_read() {
        let pairs = RawConfig::KEYS.iter().map(|k| (*k, k.to_string()));
        let raw = RawConfig::from_pairs(pairs);
        let all = [
            &raw.input,
            &raw.video,
            &raw.customer,
            &raw.base,
            &raw.token,
            &raw.autoplay,
            &raw.muted,
            &raw.engine,
            &raw.recordings,
            &raw.qoe,
            &raw.lang,
            &raw.token_url,
            &raw.jwt,
        ];
        assert_eq!(all.len(), RawConfig::KEYS.len());
        assert!(all.iter().all(|v| v.is_some()), "{raw:?}");
    }

    #[test]
    fn flags_and_first_value_wins() {
        let c = PlayerConfig::parse(&raw(&[("input", "a"), ("input", "b")]), ORIGIN).unwrap();
        assert_eq!(c.source, Source::Input("a".into()));
        assert!(c.autoplay && !c.muted);
        let c = PlayerConfig::parse(
            &raw(&[("input", "a"), ("autoplay", "0"), ("muted", "")]),
            ORIGIN,
        )
        .unwrap();
        assert!(!c.autoplay && c.muted);
        let c = PlayerConfig::parse(&raw(&[("input", "a"), ("muted", "false")]), ORIGIN).unwrap();
        assert!(!c.muted);
        for (value, engine) in [
            ("", Engine::Auto),
            ("auto", Engine::Auto),
            ("native", Engine::Native),
            ("hlsjs", Engine::Hlsjs),
        ] {
            let c =
                PlayerConfig::parse(&raw(&[("input", "a"), ("engine", value)]), ORIGIN).unwrap();
            assert_eq!(c.engine, engine);
        }
    }
}
