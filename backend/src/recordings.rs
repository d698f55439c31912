//! The recordings endpoint's pure parts: Cloudflare's videos of an input
//! turned into [`RecordingList`] (URLs rewritten to the delivery base), its
//! ETag, conditional requests and cache headers.

use std::cmp::Ordering;
use std::time::Duration;

use bytes::Bytes;
use player_core::recordings::{Processing, Recording, RecordingList};
use stream_api::account::{Video, VideoState};

/// At most this many recordings (and as many processing) are listed, newest
/// first: bounds each cached answer.
pub const MAX_LISTED: usize = 200;

/// One cached answer: the JSON body and its strong ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub body: Bytes,
    /// With its quotes, e.g. `"9f0c2a..."`.
    pub etag: String,
    /// Something is processing (on air, or a recording on its way): the
    /// list is about to change, so it is never served stale.
    pub settling: bool,
}

impl Page {
    pub fn new(body: Bytes) -> Self {
        let etag = etag_of(&body);
        Self {
            body,
            etag,
            settling: false,
        }
    }

    fn settling(self, settling: bool) -> Self {
        Self { settling, ..self }
    }
}

/// 64-bit FNV-1a of the body, quoted: the same bytes give the same tag on
/// every replica (a CDN in front of several servers sees one ETag).
pub fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{:x}\"", body.len())
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison,
/// as RFC 9110 asks for `If-None-Match`; `*` matches anything).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    let want = etag.trim_start_matches("W/");
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || (!candidate.is_empty() && candidate.trim_start_matches("W/") == want)
    })
}

/// `Cache-Control` of a good answer: shared caches keep it `ttl`, may serve
/// it stale for `2 × ttl` while they revalidate (not a `settling` list: a
/// recording ready meanwhile would show up to 45 s late), and for 5 minutes
/// more when the server fails.
pub fn cache_control(ttl: Duration, settling: bool) -> String {
    let ttl = ttl.as_secs().max(1);
    if settling {
        return format!("public, max-age={ttl}, stale-if-error=300");
    }
    format!(
        "public, max-age={ttl}, stale-while-revalidate={}, stale-if-error=300",
        ttl * 2
    )
}

/// Where recordings are delivered from: thumbnails and playlists are
/// rewritten to `<base>/<uid>/...`; `None` keeps Cloudflare's URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub delivery_base: Option<String>,
}

impl Rewrite {
    fn base(&self) -> Option<&str> {
        self.delivery_base
            .as_deref()
            .map(|b| b.trim_end_matches('/'))
    }

    pub fn thumbnail(&self, v: &Video) -> String {
        match self.base() {
            Some(b) => format!("{b}/{}/thumbnails/thumbnail.jpg", v.uid),
            None => v.thumbnail.clone().unwrap_or_default(),
        }
    }

    pub fn hls(&self, v: &Video) -> String {
        match self.base() {
            Some(b) => format!("{b}/{}/manifest/video.m3u8", v.uid),
            None => v.playback.hls.clone().unwrap_or_default(),
        }
    }
}

/// Newest first by `created` (RFC 3339; a time that does not parse sorts
/// last), then by uid so the order is stable.
fn newest_first(a: &Video, b: &Video) -> Ordering {
    let key = |v: &Video| {
        v.created
            .as_deref()
            .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
    };
    key(b).cmp(&key(a)).then_with(|| a.uid.cmp(&b.uid))
}

/// A recording's name is cut to this many characters.
pub const MAX_NAME_CHARS: usize = 256;

/// Builds the endpoint's answer from the input's videos: `ready` ones are
/// recordings, `error` ones are left out, every other state (unknown ones
/// too) is processing; videos without a state or a valid uid are left out.
pub fn build(input_uid: &str, mut videos: Vec<Video>, rewrite: &Rewrite) -> RecordingList {
    videos.sort_by(newest_first);
    let mut recordings = Vec::new();
    let mut processing = Vec::new();
    for v in &videos {
        let Some(state) = v.state() else { continue };
        // The uid goes into rewritten URLs and the player's requests: only
        // a uid's characters (an upstream's `../x?y` is left out).
        if !crate::ids::is_valid_uid(&v.uid) {
            continue;
        }
        let name: String = v
            .meta
            .name
            .as_deref()
            .unwrap_or_default()
            .chars()
            .take(MAX_NAME_CHARS)
            .collect();
        let created = v.created.clone().unwrap_or_default();
        if state.is_ready() {
            if recordings.len() < MAX_LISTED {
                recordings.push(Recording {
                    uid: v.uid.clone(),
                    name,
                    created,
                    duration_seconds: v.duration_seconds().unwrap_or(0.0),
                    thumbnail: rewrite.thumbnail(v),
                    hls: rewrite.hls(v),
                });
            }
        } else if state.is_processing() && processing.len() < MAX_LISTED {
            processing.push(Processing {
                uid: v.uid.clone(),
                name,
                created,
                state: state_text(state),
            });
        }
    }
    RecordingList {
        input_uid: input_uid.to_string(),
        recordings,
        processing,
    }
}

fn state_text(s: &VideoState) -> String {
    s.as_str().to_string()
}

/// The page of an input's videos. Videos with `requireSignedURLs` (a
/// private room's) are listed without `hls` and `thumbnail` (their bare-uid
/// URLs would be refused) and the page says `"signed": true`: the player
/// gets a token per recording from the viewer-token endpoint.
pub fn page_of(input_uid: &str, videos: Vec<Video>, rewrite: &Rewrite) -> Page {
    let signed: std::collections::HashSet<String> = videos
        .iter()
        .filter(|v| v.require_signed_urls == Some(true))
        .map(|v| v.uid.clone())
        .collect();
    let list = build(input_uid, videos, rewrite);
    let settling = !list.processing.is_empty();
    if signed.is_empty() {
        return page(&list);
    }
    let mut v = serde_json::to_value(&list).unwrap_or_default();
    if let Some(items) = v.get_mut("recordings").and_then(|r| r.as_array_mut()) {
        for item in items {
            let private = item
                .get("uid")
                .and_then(|u| u.as_str())
                .is_some_and(|u| signed.contains(u));
            if let (true, Some(obj)) = (private, item.as_object_mut()) {
                obj.remove("hls");
                obj.remove("thumbnail");
                obj.insert("signed".into(), true.into());
            }
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert("signed".into(), true.into());
    }
    let body = serde_json::to_vec(&v).unwrap_or_else(|_| b"{}".to_vec());
    Page::new(Bytes::from(body)).settling(settling)
}

/// The JSON page of a list.
pub fn page(list: &RecordingList) -> Page {
    // Serialising plain strings and numbers cannot fail; an empty object
    // would still be valid JSON for the player.
    let body = serde_json::to_vec(list).unwrap_or_else(|_| b"{}".to_vec());
    Page::new(Bytes::from(body)).settling(!list.processing.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stream_api::account::Envelope;

    fn shared_videos() -> Vec<Video> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/cloudflare/live-input-videos.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let env: Envelope<Vec<Video>> = serde_json::from_str(&text).unwrap();
        env.result.unwrap()
    }

    fn video(uid: &str, state: &str, created: &str) -> Video {
        serde_json::from_value(json!({
            "uid": uid, "status": {"state": state}, "meta": {"name": format!("n-{uid}")},
            "created": created, "duration": 12.5,
            "thumbnail": format!("https://videodelivery.net/{uid}/thumbnails/thumbnail.jpg"),
            "playback": {"hls": format!("https://videodelivery.net/{uid}/manifest/video.m3u8")}
        }))
        .unwrap()
    }

    #[test]
    fn the_real_list_splits_into_ready_and_processing() {
        let rw = Rewrite {
            delivery_base: Some("http://127.0.0.1:8080/".into()),
        };
        let list = build("34036a0695ab5237ce757ac53fd158a2", shared_videos(), &rw);
        assert_eq!(list.input_uid, "34036a0695ab5237ce757ac53fd158a2");
        assert_eq!(
            list.recordings,
            vec![Recording {
                uid: "2ba59740c897a197df70814fd5ad991".into(),
                name: "CFTV Staging 22 Sep 21 22:12 UTC".into(),
                created: "2021-09-22T22:12:53.587306Z".into(),
                duration_seconds: 7272.0,
                thumbnail:
                    "http://127.0.0.1:8080/2ba59740c897a197df70814fd5ad991/thumbnails/thumbnail.jpg"
                        .into(),
                hls: "http://127.0.0.1:8080/2ba59740c897a197df70814fd5ad991/manifest/video.m3u8"
                    .into(),
            }]
        );
        assert_eq!(
            list.processing,
            vec![Processing {
                uid: "55b9b5ce48c3968c6b514c458959d6a".into(),
                name: "Stream Live Test 23 Sep 21 05:44 UTC".into(),
                created: "2021-09-23T05:44:30.453838Z".into(),
                state: "live-inprogress".into(),
            }]
        );
        // Without a delivery base Cloudflare's URLs stay.
        let kept = build(
            "i",
            shared_videos(),
            &Rewrite {
                delivery_base: None,
            },
        );
        assert_eq!(
            kept.recordings[0].hls,
            "https://videodelivery.net/2ba59740c897a197df70814fd5ad991/manifest/video.m3u8"
        );
    }

    #[test]
    fn states_sort_and_filter() {
        let videos = vec![
            video("old", "ready", "2024-01-01T00:00:00Z"),
            video("new", "ready", "2024-03-01T00:00:00Z"),
            video("mid", "ready", "2024-02-01T00:00:00.5Z"),
            video("bad", "error", "2024-04-01T00:00:00Z"),
            video("q", "queued", "2024-01-05T00:00:00Z"),
            video("live", "live-inprogress", "2024-05-01T00:00:00Z"),
            video("future", "some-new-state", "2024-04-02T00:00:00Z"),
            video("dl", "downloading", "2024-01-06T00:00:00Z"),
            video("pu", "pendingupload", "2024-01-07T00:00:00Z"),
            video("ip", "inprogress", "2024-01-08T00:00:00Z"),
        ];
        let mut stateless = video("x", "ready", "2024-06-01T00:00:00Z");
        stateless.status.state = None;
        let mut all = videos;
        all.push(stateless);
        let list = build(
            "in",
            all,
            &Rewrite {
                delivery_base: None,
            },
        );
        let uids = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            list.recordings
                .iter()
                .map(|r| r.uid.clone())
                .collect::<Vec<_>>(),
            uids(vec!["new", "mid", "old"])
        );
        assert_eq!(
            list.processing
                .iter()
                .map(|p| p.uid.clone())
                .collect::<Vec<_>>(),
            uids(vec!["live", "future", "ip", "pu", "dl", "q"])
        );
        assert_eq!(list.processing[1].state, "some-new-state");
        assert_eq!(list.recordings[0].duration_seconds, 12.5);
        assert_eq!(list.recordings[0].name, "n-new");
    }

    #[test]
    fn lists_are_bounded() {
        let many: Vec<Video> = (0..MAX_LISTED + 50)
            .map(|i| {
                video(
                    &format!("v{i:04}"),
                    "ready",
                    &format!("2024-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
                )
            })
            .collect();
        let list = build(
            "in",
            many,
            &Rewrite {
                delivery_base: None,
            },
        );
        assert_eq!(list.recordings.len(), MAX_LISTED);
        assert_eq!(list.recordings[0].uid, format!("v{:04}", MAX_LISTED + 49));
    }

    #[test]
    fn etags_and_conditionals() {
        let a = Page::new(Bytes::from_static(b"{\"a\":1}"));
        let b = Page::new(Bytes::from_static(b"{\"a\":2}"));
        assert_ne!(a.etag, b.etag);
        assert_eq!(a.etag, Page::new(Bytes::from_static(b"{\"a\":1}")).etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
        let t = a.etag.as_str();
        for (h, want) in [
            (t.to_string(), true),
            (format!("W/{t}"), true),
            (format!("\"x\", {t}"), true),
            ("*".to_string(), true),
            ("\"x\"".to_string(), false),
            (String::new(), false),
            (t.trim_matches('"').to_string(), false),
        ] {
            assert_eq!(if_none_match(&h, t), want, "{h}");
        }
    }

    #[test]
    fn cache_control_header() {
        assert_eq!(
            cache_control(Duration::from_secs(15), false),
            "public, max-age=15, stale-while-revalidate=30, stale-if-error=300"
        );
        assert_eq!(
            cache_control(Duration::from_secs(15), true),
            "public, max-age=15, stale-if-error=300"
        );
        assert!(cache_control(Duration::ZERO, false).contains("max-age=1,"));
    }

    #[test]
    fn page_is_the_player_json() {
        let list = build(
            "in",
            vec![video("a", "ready", "2024-01-01T00:00:00Z")],
            &Rewrite {
                delivery_base: Some("https://cdn.example".into()),
            },
        );
        let p = page(&list);
        let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(v["inputUID"], "in");
        assert_eq!(v["recordings"][0]["durationSeconds"], 12.5);
        assert_eq!(
            v["recordings"][0]["hls"],
            "https://cdn.example/a/manifest/video.m3u8"
        );
        assert_eq!(v["processing"], json!([]));
        let back: RecordingList = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn private_recordings_lose_their_urls_and_say_signed() {
        let rw = Rewrite {
            delivery_base: Some("http://127.0.0.1:8080".into()),
        };
        // A public input's page is exactly what it was.
        let public = page_of("in", shared_videos(), &rw);
        assert_eq!(public, page(&build("in", shared_videos(), &rw)));
        assert!(!String::from_utf8_lossy(&public.body).contains("signed"));
        // The same videos recorded from a private input.
        let private: Vec<Video> = shared_videos()
            .into_iter()
            .map(|mut v| {
                v.require_signed_urls = Some(true);
                v
            })
            .collect();
        let p = page_of("in", private, &rw);
        let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(v["signed"], true);
        let rec = &v["recordings"][0];
        assert_eq!(rec["uid"], "2ba59740c897a197df70814fd5ad991");
        assert_eq!(rec["signed"], true);
        assert!(
            rec.get("hls").is_none() && rec.get("thumbnail").is_none(),
            "{rec}"
        );
        assert_eq!(rec["durationSeconds"], 7272.0);
        assert!(!String::from_utf8_lossy(&p.body).contains("manifest"));
        assert_ne!(p.etag, public.etag);
    }
}
