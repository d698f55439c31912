//! Property tests (proptest) of every backend parser that reads outside
//! text: the account API's answers and `Retry-After`, the recordings built
//! from them, the Jitsi token's transport, room names, client addresses,
//! CORS and frame-ancestor settings, `If-None-Match`. Each: no panic on any
//! input, and what comes out within its bounds.

use std::time::{Duration, SystemTime};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Request};
use backend::account_client::{interpret, parse_retry_after, AccountError, MAX_RETRY_AFTER};
use backend::auth::{token_from, MAX_TOKEN_LEN};
use backend::recordings::{build, if_none_match, Rewrite};
use backend::rooms::{validate_room, MAX_ROOM_LEN};
use backend::rooms_api::client_address;
use proptest::prelude::*;
use stream_api::account::Video;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Any JSON value, a few levels deep, with the keys the readers look for.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("uid".to_string()),
        Just("status".to_string()),
        Just("state".to_string()),
        Just("created".to_string()),
        Just("duration".to_string()),
        Just("meta".to_string()),
        Just("name".to_string()),
        Just("playback".to_string()),
        Just("hls".to_string()),
        Just("thumbnail".to_string()),
        Just("result".to_string()),
        Just("success".to_string()),
        Just("errors".to_string()),
        Just("message".to_string()),
        Just("code".to_string()),
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("ready".to_string()),
            Just("live-inprogress".to_string()),
            Just("2024-01-01T00:00:00Z".to_string()),
            Just("../../etc".to_string()),
            ".{0,24}"
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A video as the account API could send it, well-formed or not.
fn video() -> impl Strategy<Value = serde_json::Value> {
    let text = || prop_oneof![".{0,12}", "[a-f0-9]{32}", Just("../../x?y#z".to_string())];
    (
        text(),
        prop_oneof![
            Just("ready"),
            Just("live-inprogress"),
            Just("error"),
            Just("queued"),
            Just("?")
        ],
        proptest::option::of(any::<f64>()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        json(),
    )
        .prop_map(|(uid, state, duration, name, created, extra)| {
            serde_json::json!({
                "uid": uid, "status": {"state": state}, "duration": duration,
                "meta": {"name": name}, "created": created,
                "playback": {"hls": "https://x/m.m3u8"}, "extra": extra,
            })
        })
}

proptest! {
    #[test]
    fn retry_after_never_panics_and_stays_bounded(v in ".{0,80}") {
        if let Some(d) = parse_retry_after(&v, now()) {
            prop_assert!(d <= MAX_RETRY_AFTER);
        }
    }

    #[test]
    fn retry_after_digits_are_clamped(n in any::<u128>()) {
        let d = parse_retry_after(&n.to_string(), now()).unwrap();
        prop_assert_eq!(d, Duration::from_secs(u64::try_from(n).unwrap_or(u64::MAX)).min(MAX_RETRY_AFTER));
    }

    #[test]
    fn account_answers_never_panic(
        status in 0u16..1000,
        retry in proptest::option::of(".{0,40}"),
        body in prop_oneof![
            json().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..256),
        ],
    ) {
        let r: Result<Vec<Video>, AccountError> = interpret(status, retry.as_deref(), &body, now());
        if let Err(AccountError::RateLimited { retry_after }) = r {
            prop_assert!(retry_after <= MAX_RETRY_AFTER.max(backend::account_client::DEFAULT_RETRY_AFTER));
        }
    }

    #[test]
    fn recordings_from_any_videos_are_well_formed(
        videos in prop::collection::vec(prop_oneof![video(), json()], 0..12),
        base in proptest::option::of(Just("https://d.example".to_string())),
    ) {
        let videos: Vec<Video> = videos
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        let rewrite = Rewrite { delivery_base: base.clone() };
        let list = build("in", videos, &rewrite);
        for r in &list.recordings {
            prop_assert!(backend::ids::is_valid_uid(&r.uid), "{:?}", r.uid);
            prop_assert!(r.duration_seconds.is_finite() && r.duration_seconds >= 0.0);
            if let Some(b) = &base {
                prop_assert_eq!(&r.hls, &format!("{b}/{}/manifest/video.m3u8", r.uid));
            }
        }
        for p in &list.processing {
            prop_assert!(backend::ids::is_valid_uid(&p.uid), "{:?}", p.uid);
            prop_assert!(p.name.chars().count() <= backend::recordings::MAX_NAME_CHARS);
        }
        // And it serialises.
        let page = backend::recordings::page(&list);
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&page.body).is_ok());
    }

    #[test]
    fn if_none_match_never_panics(h in ".{0,64}", etag in "\"[a-z0-9]{0,8}\"") {
        let _ = if_none_match(&h, &etag);
        prop_assert!(if_none_match(&etag, &etag));
    }

    #[test]
    fn tokens_are_bounded(
        auth in proptest::option::of(prop_oneof![".{0,40}", "[Bb]earer [A-Za-z0-9._ -]{0,60}"]),
        query in proptest::option::of(prop_oneof![".{0,60}", "(jwt=[a-z.]{0,20}&?){0,3}"]),
        long in 0usize..3,
    ) {
        let mut headers = HeaderMap::new();
        if let Some(a) = &auth {
            if let Ok(v) = HeaderValue::from_str(a) {
                headers.insert(axum::http::header::AUTHORIZATION, v);
            }
        }
        let q = query.map(|q| if long == 2 { format!("{q}&jwt={}", "a".repeat(MAX_TOKEN_LEN + 1)) } else { q });
        if let Ok(t) = token_from(&headers, q.as_deref()) {
            prop_assert!(!t.is_empty() && t.len() <= MAX_TOKEN_LEN);
        }
    }

    #[test]
    fn room_names_are_bounded(raw in prop_oneof![".{0,140}", "[A-Za-z0-9._-]{0,140}"]) {
        if let Ok(room) = validate_room(&raw) {
            prop_assert!(!room.is_empty() && room.len() <= MAX_ROOM_LEN);
            prop_assert!(room.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)));
            prop_assert!(!room.starts_with('.'));
        }
    }

    #[test]
    fn client_addresses_never_panic(xff in ".{0,80}", trust in any::<bool>()) {
        let mut req = Request::builder();
        if let Ok(v) = HeaderValue::from_str(&xff) {
            req = req.header("x-forwarded-for", v);
        }
        let mut req = req.body(()).unwrap();
        req.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
        let (parts, ()) = req.into_parts();
        let a = client_address(&parts, trust);
        prop_assert!(a.is_some());
        if !trust {
            prop_assert_eq!(a, Some("127.0.0.1".parse().unwrap()));
        }
    }

    #[test]
    fn origin_settings_are_header_safe(s in prop_oneof![".{0,60}", "(https?://[a-z.*:0-9]{0,12}[, ]{0,2}){0,3}"]) {
        if let Ok(backend::recordings_api::CorsOrigins::List(l)) = backend::recordings_api::parse_cors_origins(&s) {
            for o in l {
                prop_assert!(HeaderValue::from_str(&o).is_ok());
            }
        }
        if let Ok(p) = http_common::headers::FramePolicy::parse(&s) {
            let csp = p.pages.to_str().unwrap().to_string();
            prop_assert!(csp.starts_with("frame-ancestors "));
            prop_assert_eq!(csp.matches(';').count(), 3, "{}", csp);
        }
    }
}
