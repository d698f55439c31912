//! Core against the start-up table it shares with the watch page's loader
//! (index.html; tests/loader.test.mjs checks that side): the loader builds
//! the lifecycle and manifest URLs and picks the engine before the wasm
//! arrives, so both must agree on every row.

use player_core::config::{PlayerConfig, RawConfig};
use player_core::engine::{native, Caps, Family};
use serde_json::Value;

fn table() -> Value {
    serde_json::from_str(include_str!("start-cases.json")).unwrap()
}

/// The watch page's query as `start_watch_page` reads it: percent-decoded
/// pairs, the first occurrence of a key winning, never `jwt`.
fn raw(query: &str) -> RawConfig {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    RawConfig::from_pairs(
        query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(p), String::new()),
            })
            .filter(|(k, _)| RawConfig::query_keys().any(|q| q == k)),
    )
}

#[test]
fn urls_agree_with_the_loader() {
    let t = table();
    let origin = t["origin"].as_str().unwrap();
    for case in t["urls"].as_array().unwrap() {
        let query = case["query"].as_str().unwrap();
        let config = PlayerConfig::parse(&raw(query), origin);
        assert_eq!(config.is_ok(), case["valid"].as_bool().unwrap(), "{query}");
        let Ok(config) = config else { continue };
        if let Some(autoplay) = case["autoplay"].as_bool() {
            assert_eq!(config.autoplay, autoplay, "{query}");
            assert_eq!(config.muted, case["muted"].as_bool().unwrap(), "{query}");
        }
        let Some(lifecycle) = case["lifecycle"].as_str() else {
            continue;
        };
        assert_eq!(config.lifecycle_url(), lifecycle, "{query}");
        assert_eq!(
            config.manifest_url(),
            case["manifest"].as_str().unwrap(),
            "{query}"
        );
    }
}

#[test]
fn engines_agree_with_the_loader() {
    let t = table();
    let rows = t["engines"].as_array().unwrap();
    assert!(rows.len() >= 8);
    for case in rows {
        let engine = case["engine"].as_str().unwrap();
        let query = format!("?input=abc&engine={engine}");
        let config = PlayerConfig::parse(&raw(&query), "http://o").unwrap();
        let caps = Caps {
            native_hls: case["nativeHls"].as_bool().unwrap(),
            mse: case["mse"].as_bool().unwrap(),
            family: Family::from_vendor(case["vendor"].as_str().unwrap()),
            pip: false,
        };
        assert_eq!(
            native(config.engine, caps),
            case["native"].as_bool().unwrap(),
            "{case}"
        );
    }
}
