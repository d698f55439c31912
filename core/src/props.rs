//! Property tests (proptest) of every reader of outside text in core: the
//! page's configuration (URL query, attributes, `mount()` options), the
//! delivery answers' JSON readers, the recordings list, viewing-figure
//! beacons, `Retry-After`, user agents. Each: no panic on any input, and
//! what comes out within its bounds.

use proptest::prelude::*;
use serde_json::Value;

use crate::config::{is_url, PlayerConfig, RawConfig, Source};
use crate::json::{lifecycle, recording_list, views};

/// Text a host or a query could give: anything, or something close to a
/// valid value.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "\\PC{0,24}",
        "[a-z0-9_-]{1,70}",
        Just("https://a.example".to_string()),
        Just("http://127.0.0.1:8080/".to_string()),
        Just("/api/inputs/abc/recordings".to_string()),
        Just("https://b.example/api/inputs/x/recordings?q=1".to_string()),
        Just("//evil.example/x".to_string()),
        Just("javascript:alert(1)".to_string()),
        Just("https://u@h/x".to_string()),
        Just("off".to_string()),
        Just("hlsjs".to_string()),
    ]
}

fn raw() -> impl Strategy<Value = RawConfig> {
    let f = || proptest::option::of(text());
    (
        (f(), f(), f(), f(), f(), f()),
        (f(), f(), f(), f(), f()),
        (f(), f()),
    )
        .prop_map(
            |(
                (input, video, customer, base, token, autoplay),
                (muted, engine, recordings, qoe, lang),
                (token_url, jwt),
            )| {
                RawConfig {
                    input,
                    video,
                    customer,
                    base,
                    token,
                    autoplay,
                    muted,
                    engine,
                    recordings,
                    qoe,
                    lang,
                    token_url,
                    jwt,
                }
            },
        )
}

/// Characters no URL we build may hold.
fn url_safe(u: &str) -> bool {
    !u.chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
}

fn uid_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Any JSON value, a few levels deep, with the keys the readers look for.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("isInput".to_string()),
        Just("videoUID".to_string()),
        Just("live".to_string()),
        Just("liveViewers".to_string()),
        Just("inputUID".to_string()),
        Just("recordings".to_string()),
        Just("processing".to_string()),
        Just("uid".to_string()),
        Just("hls".to_string()),
        Just("thumbnail".to_string()),
        Just("durationSeconds".to_string()),
        Just("views".to_string()),
        Just("signed".to_string()),
        Just("token".to_string()),
        Just("sub".to_string()),
        Just("ttl".to_string()),
        ".{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn page_configuration_is_valid_or_refused(raw in raw(), origin in text()) {
        let Ok(c) = PlayerConfig::parse(&raw, &origin) else {
            return Ok(());
        };
        let uid = match &c.source {
            Source::Input(u) | Source::Video(u) => u.clone(),
        };
        prop_assert!(uid_ok(&uid), "{:?}", uid);
        prop_assert!(c.base.starts_with("https://") || c.base.starts_with("http://"));
        prop_assert!(!c.base.contains(['?', '#', '@']) && url_safe(&c.base), "{:?}", c.base);
        for u in [c.lifecycle_url(), c.views_url(), c.manifest_url()] {
            prop_assert!(url_safe(&u), "{:?}", u);
        }
        if let Some(t) = &c.token {
            prop_assert!(t.len() <= 4096 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        }
        if let Some(r) = &c.recordings {
            prop_assert!(is_url(r), "{:?}", r);
        }
        if let Some(q) = &c.qoe {
            prop_assert!(is_url(q), "{:?}", q);
        }
        if let Some(t) = &c.token_url {
            prop_assert!(is_url(t), "{:?}", t);
        }
        // The viewer's Jitsi token only goes with a token service.
        prop_assert!(c.jwt.is_none() || c.token_url.is_some());
    }

    #[test]
    fn query_pairs_never_panic(pairs in prop::collection::vec((text(), text()), 0..16)) {
        let raw = RawConfig::from_pairs(pairs);
        let _ = PlayerConfig::parse(&raw, "http://127.0.0.1:8080");
    }

    #[test]
    fn delivery_readers_never_panic(v in json()) {
        let _ = lifecycle(&v);
        let _ = views(&v);
        if let Ok(a) = crate::signed::token_answer(&v) {
            prop_assert!(uid_ok(&a.sub), "{:?}", a.sub);
            prop_assert!(a.token.len() <= 4096 && a.token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
            prop_assert!((1_000..=86_400_000).contains(&a.ttl_ms), "{}", a.ttl_ms);
        }
        if let Ok(list) = recording_list(&v) {
            for r in &list.recordings {
                // Empty: a private recording, played with a token of its own.
                prop_assert!(r.hls.is_empty() || is_url(&r.hls), "{:?}", r.hls);
                prop_assert!(r.thumbnail.is_empty() || is_url(&r.thumbnail), "{:?}", r.thumbnail);
            }
        }
        // serde's readers of the same types, as the server uses them.
        let s = v.to_string();
        let _ = serde_json::from_str::<crate::cloudflare::Lifecycle>(&s);
        let _ = serde_json::from_str::<crate::cloudflare::Views>(&s);
        let _ = serde_json::from_str::<crate::cloudflare::ErrorBody>(&s);
        let _ = serde_json::from_str::<crate::recordings::RecordingList>(&s);
    }

    #[test]
    fn any_text_as_json_never_panics(s in ".{0,200}") {
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            let _ = (lifecycle(&v), views(&v), recording_list(&v));
        }
        let _ = serde_json::from_str::<crate::recordings::RecordingList>(&s);
        let _ = serde_json::from_str::<crate::qoe::Batch>(&s);
    }

    #[test]
    fn beacons_that_validate_are_within_bounds(v in json(), views_in in prop::collection::vec(json(), 0..6)) {
        use crate::qoe::*;
        let mut v = v;
        if let Value::Object(o) = &mut v {
            o.insert("views".into(), Value::Array(views_in));
        }
        if let Ok(b) = serde_json::from_value::<Batch>(v) {
            if b.validate().is_ok() {
                prop_assert!(!b.views.is_empty() && b.views.len() <= MAX_VIEWS_PER_BATCH);
                prop_assert!(is_page_id(&b.page));
                for r in &b.views {
                    prop_assert!(is_uid(&r.input));
                    prop_assert!(r.watch_ms <= MAX_WATCH_MS && r.rebuffer_ms <= r.watch_ms);
                }
            }
        }
    }

    #[test]
    fn retry_after_is_bounded(s in prop_oneof![".{0,40}", "[0-9]{1,40}"]) {
        if let Some(ms) = crate::policy::parse_retry_after(&s) {
            prop_assert!(ms <= 3_600_000);
        }
    }

    #[test]
    fn user_agents_never_panic(ua in ".{0,200}", needle in ".{0,8}") {
        let _ = crate::qoe::Browser::from_user_agent(&ua);
        if let Some(at) = crate::qoe::find(&ua, &needle) {
            prop_assert!(ua.get(at..).is_some_and(|rest| rest.starts_with(needle.as_str())));
        }
    }
}
