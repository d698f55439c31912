//! The backend's answers as the page reads them: the go-live API
//! (`/api/rooms/<room>/live`), the delivery lifecycle and the recordings
//! list. Pure: status + body in, a typed outcome out.

use player_core::cloudflare::Lifecycle;
use player_core::config::{PlayerConfig, RawConfig};
use player_core::json::{self as core_json, JsonObject};
use player_core::recordings::RecordingList;

use crate::json::{count, optional, Json};

/// Longest answer body read; anything longer is not what we asked for.
pub const MAX_BODY: usize = 256 * 1024;
/// Longest reason shown from an error body.
const MAX_REASON: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtmps {
    pub url: String,
    pub stream_key: String,
}

/// `POST`/`GET /api/rooms/<room>/live`. The status fields come with GET only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveInput {
    pub input_uid: String,
    pub rtmps: Rtmps,
    /// The one string for Jitsi's "Start live stream" dialog.
    pub stream_id: String,
    pub watch_url: String,
    pub embed: String,
    /// Cloudflare's live input status (`connected`, `reconnecting`, ...).
    pub status: Option<String>,
    pub live: Option<bool>,
    pub video_uid: Option<String>,
    pub viewers: Option<u64>,
}

/// `POST`/`GET /api/rooms/<room>/live`'s body (camelCase; the status
/// fields absent or null on POST); `None` when a field is missing or of the
/// wrong type.
fn live_input(o: &Json) -> Option<LiveInput> {
    let rtmps = o.object("rtmps")?;
    Some(LiveInput {
        input_uid: o.string("inputUID")?,
        rtmps: Rtmps {
            url: rtmps.string("url")?,
            stream_key: rtmps.string("streamKey")?,
        },
        stream_id: o.string("streamId")?,
        watch_url: o.string("watchUrl")?,
        embed: o.string("embed")?,
        status: optional(o, "status", |k| o.string(k)).ok()?,
        live: optional(o, "live", |k| o.bool(k)).ok()?,
        video_uid: optional(o, "videoUID", |k| o.string(k)).ok()?,
        viewers: optional(o, "viewers", |k| count(o, k)).ok()?,
    })
}

impl LiveInput {
    /// The delivery configuration of the watch URL (its `input`, `base` or
    /// `customer`, `token`): where lifecycle and the preview come from.
    pub fn delivery(&self) -> Option<PlayerConfig> {
        let (origin, query) = split_url(&self.watch_url)?;
        let raw = RawConfig::from_pairs(query_pairs(query));
        PlayerConfig::parse(&raw, origin).ok()
    }

    /// The watch page replaying one recording: the watch URL with
    /// `video=<uid>` in place of `input=`.
    pub fn replay_url(&self, video_uid: &str) -> String {
        with_params(
            &self.watch_url,
            &["input", "video"],
            &[("video", video_uid)],
            true,
        )
    }

    /// The watch page as the preview: muted, without the recordings list,
    /// sending no viewing figures (the moderator is not an audience), on
    /// `engine` (`auto`, `native` or `hlsjs`). A private room's watch URL
    /// gets its tokens from `tokenUrl`, which may serve the room's
    /// participants only: the moderator's own Jitsi token (`jwt`, a token
    /// for this room) goes along as viewers' do, in the fragment, which no
    /// browser sends to a server and the watch page takes out of its
    /// address once read.
    pub fn preview_url(&self, engine: &str, jwt: &str) -> String {
        let mut add = vec![("muted", "1"), ("qoe", "0")];
        if engine != "auto" {
            add.push(("engine", engine));
        }
        let url = with_params(
            &self.watch_url,
            &["recordings", "muted", "engine", "autoplay", "qoe"],
            &add,
            false,
        );
        let private = split_url(&url)
            .is_some_and(|(_, query)| query_pairs(query).iter().any(|(k, _)| k == "tokenUrl"));
        if private && player_core::config::is_jwt(jwt) {
            format!("{url}#jwt={jwt}")
        } else {
            url
        }
    }
}

/// `url` without the query parameters named in `drop`, with `add` first
/// (`front`) or last. The fragment goes; a URL we cannot read stays as it is.
fn with_params(url: &str, drop: &[&str], add: &[(&str, &str)], front: bool) -> String {
    if split_url(url).is_none() {
        return url.to_string();
    }
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let (page, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !drop.contains(&p.split_once('=').map_or(*p, |(k, _)| k)))
        .map(String::from)
        .collect();
    let added = add.iter().map(|(k, v)| format!("{k}={}", encode(v)));
    if front {
        parts.splice(0..0, added);
    } else {
        parts.extend(added);
    }
    format!("{page}?{}", parts.join("&"))
}

/// What a go-live request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveReply {
    Input(Box<LiveInput>),
    /// 404: the room has no live input yet.
    NoInput,
    /// 401/403: the backend's plain reason.
    Refused(String),
    /// 429: try again after this many seconds.
    RateLimited(u64),
    /// Anything else: what went wrong, in a sentence.
    Failed(String),
}

/// The `error` of a JSON error body, bounded and trimmed.
fn reason(body: &str) -> Option<String> {
    let error = Json::parse(body)?.string("error")?;
    let r: String = error.trim().chars().take(MAX_REASON).collect();
    (!r.is_empty()).then_some(r)
}

pub fn live_reply(status: u16, body: &str, retry_after: Option<u64>) -> LiveReply {
    match status {
        200 | 201 => match Json::parse(body).as_ref().and_then(live_input) {
            Some(input) => LiveReply::Input(Box::new(input)),
            None => {
                LiveReply::Failed("The backend's answer was not what this page expects.".into())
            }
        },
        404 => LiveReply::NoInput,
        401 => LiveReply::Refused(
            reason(body).unwrap_or_else(|| "The backend did not accept your token.".into()),
        ),
        403 => LiveReply::Refused(
            reason(body)
                .unwrap_or_else(|| "Your token does not allow live streaming in this room.".into()),
        ),
        429 => LiveReply::RateLimited(retry_after.unwrap_or(10).clamp(1, 300)),
        s => LiveReply::Failed(match reason(body) {
            Some(r) => format!("The backend answered {s}: {r}"),
            None => format!("The backend answered {s}."),
        }),
    }
}

pub fn lifecycle(status: u16, body: &str) -> Option<Lifecycle> {
    let o = Json::parse(body).filter(|_| status == 200)?;
    core_json::lifecycle(&o).ok()
}

pub fn recordings(status: u16, body: &str) -> Option<RecordingList> {
    let o = Json::parse(body).filter(|_| status == 200)?;
    core_json::recording_list(&o).ok()
}

/// `(origin, query)` of an absolute http(s) URL; the query without `?` and
/// without a fragment.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &url[..url.len() - rest.len() + host_end];
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    Some((origin, query))
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decoding (`+` is a space, as in forms); bad escapes stay as they are.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding for a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = r#"{"inputUID":"abc123","rtmps":{"url":"rtmp://127.0.0.1:1935/live/","streamKey":"k3y"},
        "streamId":"rtmp://127.0.0.1:1935/live/k3y",
        "watchUrl":"http://127.0.0.1:8080/?input=abc123&base=http%3A%2F%2F127.0.0.1%3A8081",
        "embed":"<jitsi-live-player input=\"abc123\"></jitsi-live-player>",
        "status":"connected","live":true,"videoUID":"v1","viewers":3,"extra":1}"#;

    #[test]
    fn go_live_replies() {
        let LiveReply::Input(i) = live_reply(200, LIVE, None) else {
            panic!("not parsed")
        };
        assert_eq!(i.input_uid, "abc123");
        assert_eq!(i.rtmps.stream_key, "k3y");
        assert_eq!(i.status.as_deref(), Some("connected"));
        assert_eq!((i.live, i.viewers), (Some(true), Some(3)));
        // POST's answer has no status fields.
        let post = r#"{"inputUID":"a","rtmps":{"url":"u","streamKey":"k"},"streamId":"s","watchUrl":"w","embed":"e"}"#;
        let LiveReply::Input(p) = live_reply(200, post, None) else {
            panic!("not parsed")
        };
        assert_eq!((p.status, p.live, p.viewers), (None, None, None));

        let table = [
            (
                404,
                r#"{"error":"no live input"}"#,
                None,
                LiveReply::NoInput,
            ),
            (
                401,
                r#"{"error":"the token has expired"}"#,
                None,
                LiveReply::Refused("the token has expired".into()),
            ),
            (
                401,
                "<html>",
                None,
                LiveReply::Refused("The backend did not accept your token.".into()),
            ),
            (
                403,
                r#"{"error":"  livestreaming is not allowed  "}"#,
                None,
                LiveReply::Refused("livestreaming is not allowed".into()),
            ),
            (429, "", Some(30), LiveReply::RateLimited(30)),
            (429, "", None, LiveReply::RateLimited(10)),
            (429, "", Some(100_000), LiveReply::RateLimited(300)),
            (
                500,
                r#"{"error":"Cloudflare is down"}"#,
                None,
                LiveReply::Failed("The backend answered 500: Cloudflare is down".into()),
            ),
            (
                502,
                "",
                None,
                LiveReply::Failed("The backend answered 502.".into()),
            ),
            (
                200,
                "{}",
                None,
                LiveReply::Failed("The backend's answer was not what this page expects.".into()),
            ),
        ];
        for (status, body, ra, want) in table {
            assert_eq!(live_reply(status, body, ra), want, "{status} {body}");
        }
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(5000));
        let LiveReply::Refused(r) = live_reply(403, &long, None) else {
            panic!()
        };
        assert_eq!(r.len(), 300);
    }

    #[test]
    fn delivery_and_replay_from_the_watch_url() {
        let LiveReply::Input(i) = live_reply(200, LIVE, None) else {
            panic!()
        };
        let d = i.delivery().unwrap();
        assert_eq!(d.lifecycle_url(), "http://127.0.0.1:8081/abc123/lifecycle");
        assert_eq!(
            i.replay_url("vid9"),
            "http://127.0.0.1:8080/?video=vid9&base=http%3A%2F%2F127.0.0.1%3A8081"
        );
        let mut j = (*i).clone();
        j.watch_url = "https://watch.example.org/live?input=abc123&customer=xyz9#top".into();
        assert_eq!(
            j.delivery().unwrap().lifecycle_url(),
            "https://customer-xyz9.cloudflarestream.com/abc123/lifecycle"
        );
        j.watch_url = "https://watch.example.org/?input=abc123".into();
        assert_eq!(
            j.delivery().unwrap().lifecycle_url(),
            "https://watch.example.org/abc123/lifecycle"
        );
        assert_eq!(
            j.replay_url("v a"),
            "https://watch.example.org/?video=v%20a"
        );
        j.watch_url =
            "https://w.example/?input=a&recordings=%2Fapi&muted=0&qoe=%2Fq&base=b#x".into();
        const JWT: &str = "eyJh.eyJz.c2ln";
        assert_eq!(
            j.preview_url("auto", JWT),
            "https://w.example/?input=a&base=b&muted=1&qoe=0"
        );
        assert_eq!(
            j.preview_url("hlsjs", JWT),
            "https://w.example/?input=a&base=b&muted=1&qoe=0&engine=hlsjs"
        );
        // A private room: the moderator's token in the fragment, for the
        // token service (never for a public room, never a malformed one).
        j.watch_url =
            "https://w.example/?input=a&tokenUrl=%2Fapi%2Frooms%2Fr%2Fviewer-token%3Finput%3Da"
                .into();
        assert_eq!(
            j.preview_url("auto", JWT),
            "https://w.example/?input=a&tokenUrl=%2Fapi%2Frooms%2Fr%2Fviewer-token%3Finput%3Da&muted=1&qoe=0#jwt=eyJh.eyJz.c2ln"
        );
        assert!(!j.preview_url("auto", "a b#c").contains('#'));
        j.watch_url = "not a url".into();
        assert_eq!(j.delivery(), None);
        assert_eq!(j.replay_url("v"), "not a url");
    }

    #[test]
    fn percent_coding() {
        for (s, want) in [
            ("a%2Fb", "a/b"),
            ("a+b", "a b"),
            ("%zz", "%zz"),
            ("%4", "%4"),
            ("%", "%"),
            ("%E2%80%94", "—"),
        ] {
            assert_eq!(decode(s), want, "{s}");
        }
        assert_eq!(encode("a b/—"), "a%20b%2F%E2%80%94");
    }

    #[test]
    fn lifecycle_and_recordings() {
        assert_eq!(
            lifecycle(200, r#"{"isInput":true,"videoUID":null,"live":false}"#).map(|l| l.live),
            Some(false)
        );
        assert_eq!(lifecycle(500, "{}"), None);
        assert_eq!(lifecycle(200, "{"), None);
        let list = r#"{"inputUID":"a","recordings":[{"uid":"v","name":"n","created":"2026-11-30T20:00:00Z",
            "durationSeconds":62.5,"thumbnail":"t","hls":"https://d.example/v/manifest/video.m3u8"}],"processing":[]}"#;
        assert_eq!(
            recordings(200, list).unwrap().recordings[0].duration_seconds,
            62.5
        );
        assert_eq!(recordings(404, list), None);
    }
}
