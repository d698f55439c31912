//! Property tests of what the stand-in parses from outside (issue 15): the
//! control API's JSON bodies, `meta.json` and the playlists read back at
//! recovery, `?viewer=`, the Host / Origin / Content-Type rules, the file
//! names under `/manifest/`. Whatever the input: no panic, and anything
//! accepted is within its bounds.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method};
use localcf::api::{self, CreateInput, StartBroadcast, StopBroadcast};
use localcf::caps::Caps;
use localcf::faults::{self, Faults};
use localcf::ffmpeg::{self, Encode, Rendition, VideoSize};
use localcf::guard::{self, Exposure, Refusal};
use localcf::origin::{Origin, Settings};
use localcf::recording::{self, RecordingMeta};
use localcf::{hls, ids, viewers};
use proptest::prelude::*;
use serde_json::Value;

/// Any JSON value, a few levels deep, with keys the parsers know among
/// random ones so that the interesting branches are reached.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("uid".to_string()),
        Just("name".to_string()),
        Just("streamKey".to_string()),
        Just("size".to_string()),
        Just("preset".to_string()),
        Just("fps".to_string()),
        Just("abr".to_string()),
        Just("mode".to_string()),
        Just("count".to_string()),
        Just("lifecycle".to_string()),
        Just("slowMs".to_string()),
        Just("rateLimit".to_string()),
        Just("retryAfter".to_string()),
        Just("manifest404Seconds".to_string()),
        Just("segments404".to_string()),
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("1920x1080".to_string()),
            Just("3840x2160".to_string()),
            Just("placebo".to_string()),
            Just("abrupt".to_string()),
            Just("error500".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

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
        rtmp_base: None,
        caps: Caps::default(),
        viewer_limits: viewers::Limits::default(),
    }))
}

fn size_in_bounds(s: VideoSize) -> bool {
    (16..=3840).contains(&s.width)
        && (16..=2160).contains(&s.height)
        && s.width.is_multiple_of(2)
        && s.height.is_multiple_of(2)
}

/// `<name>.m3u8` joined to a directory stays a single plain file in it.
fn stays_inside(name: &str) -> bool {
    let file = format!("{name}.m3u8");
    let joined = Path::new("/data/videos/v").join(&file);
    joined.parent() == Some(Path::new("/data/videos/v"))
        && Path::new(&file)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn control_bodies_from_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = serde_json::from_slice::<CreateInput>(&bytes);
        let _ = serde_json::from_slice::<StopBroadcast>(&bytes);
        if let Ok(b) = serde_json::from_slice::<StartBroadcast>(&bytes) {
            prop_assert!(b.size.is_none_or(size_in_bounds));
        }
    }

    #[test]
    fn control_bodies_from_any_json(v in json()) {
        if let Ok(b) = serde_json::from_value::<StartBroadcast>(v.clone()) {
            prop_assert!(b.size.is_none_or(size_in_bounds));
            // The caps decide without panicking on anything that parsed.
            let enc = Encode {
                size: b.size.unwrap_or(VideoSize { width: 640, height: 360 }),
                preset: b.preset.unwrap_or_else(|| "veryfast".into()),
                fps: b.fps.unwrap_or(30),
                abr: b.abr.unwrap_or(false),
            };
            if Caps::default().check_encode(&enc).is_ok() {
                prop_assert!(enc.size.width <= 1920 && enc.size.height <= 1080);
                prop_assert!((1..=60).contains(&enc.fps));
                prop_assert!(ffmpeg::PRESETS[..6].contains(&enc.preset.as_str()));
            }
        }
        if let Ok(Some(n)) = api::parse_viewer_count(&v) {
            prop_assert_eq!(v["count"].as_u64(), Some(n));
        }
        if let Ok(f) = faults::merge(&Faults::default(), &v) {
            prop_assert!(f.slow_ms <= 600_000);
            prop_assert!(f.manifest_404_seconds.is_none_or(|s| s <= 3_600));
            // What was accepted is accepted again as is.
            let again = faults::merge(&f, &serde_json::json!({})).unwrap();
            prop_assert_eq!(again, f);
        }
    }

    #[test]
    fn created_inputs_have_valid_names(
        uid in prop::option::of(".{0,70}"),
        name in prop::option::of(".{0,300}"),
        key in prop::option::of("[A-Za-z0-9_./-]{0,130}"),
    ) {
        let o = origin();
        let req = CreateInput { uid, name, stream_key: key };
        if let Ok(c) = o.create_input(req) {
            prop_assert!(ids::is_valid_uid(&c.uid));
            prop_assert!(ids::is_valid_stream_key(&c.stream_key));
            prop_assert!(c.name.chars().count() <= 256);
        }
    }

    #[test]
    fn meta_json_from_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = recording::parse_meta(&bytes) {
            prop_assert!(m.validate().is_ok());
        }
    }

    // A tampered meta.json: whatever the names, one that is accepted
    // cannot lead outside the recording's directory.
    #[test]
    fn meta_json_names_stay_inside(
        video in ".{0,70}",
        input in ".{0,70}",
        names in prop::collection::vec(
            prop_oneof![
                Just("stream_0".to_string()),
                Just("../x".to_string()),
                Just("/etc/passwd".to_string()),
                Just("..".to_string()),
                Just("a/b".to_string()),
                ".{0,70}",
            ],
            0..10,
        ),
        duration in prop::option::of(any::<f64>()),
        fps in prop::option::of(any::<u32>()),
    ) {
        let meta = RecordingMeta {
            video_uid: video,
            input_uid: input,
            name: "n".into(),
            source: api::Source::Rtmp,
            created: "2026-01-01T00:00:00Z".into(),
            ended: None,
            duration_seconds: duration,
            state: recording::RecordingState::LiveInprogress,
            exit: None,
            renditions: names
                .into_iter()
                .map(|name| Rendition { name, size: None, fps, video_kbps: 1 })
                .collect(),
            require_signed_urls: false,
        };
        let bytes = serde_json::to_vec(&meta).unwrap();
        if let Ok(m) = recording::parse_meta(&bytes) {
            prop_assert!(ids::is_valid_uid(&m.video_uid));
            prop_assert!((1..=8).contains(&m.renditions.len()));
            for r in &m.renditions {
                prop_assert!(stays_inside(&r.name), "{:?}", r.name);
            }
            prop_assert!(m.duration_seconds.is_none_or(|d| d.is_finite() && d >= 0.0));
        }
    }

    #[test]
    fn playlists_read_back_have_sane_durations(
        lines in prop::collection::vec(
            prop_oneof![
                Just("#EXTINF:2.0,".to_string()),
                Just("#EXTINF:inf,".to_string()),
                Just("#EXTINF:NaN,".to_string()),
                Just("#EXTINF:-3,".to_string()),
                Just("#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000+0100".to_string()),
                Just("#EXT-X-TARGETDURATION:18446744073709551615".to_string()),
                Just("#EXT-X-MEDIA-SEQUENCE:99999999999999999999".to_string()),
                Just("stream_0_00001.ts".to_string()),
                Just("../../x.ts".to_string()),
                ".{0,30}",
            ],
            0..30,
        ),
    ) {
        let text = format!("#EXTM3U\n{}\n", lines.join("\n"));
        if let Ok(pl) = hls::parse(&text) {
            prop_assert!(pl.segments.iter().all(|s| s.duration.is_finite() && s.duration >= 0.0));
            prop_assert!(pl.duration().is_finite());
            let _ = pl.window(3).render(hls::Kind::Live);
        }
    }

    #[test]
    fn video_sizes(s in ".{0,20}", w in any::<u64>(), h in any::<u64>()) {
        for text in [s, format!("{w}x{h}")] {
            if let Ok(v) = text.parse::<VideoSize>() {
                prop_assert!(size_in_bounds(v), "{text}");
            }
        }
    }

    #[test]
    fn manifest_file_names_stay_inside(name in ".{0,40}") {
        if ids::classify_manifest_file(&name).is_some() {
            prop_assert!(!name.contains('/') && !name.contains("..") && !name.contains('\\'));
        }
    }

    #[test]
    fn request_heads(
        host in "[ -~]{0,40}",
        origin in prop::option::of("[ -~]{0,40}"),
        ctype in prop::option::of("[ -~]{0,40}"),
        len in prop::option::of("[0-9]{1,4}"),
        auth in prop::option::of("[ -~]{0,40}"),
        path in prop_oneof![Just("/control/inputs"), Just("/client/v4/x"), Just("/a/lifecycle"), Just("/")],
        post in any::<bool>(),
    ) {
        let mut h = HeaderMap::new();
        let mut put = |k: &'static str, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        };
        put("host", &host);
        if let Some(o) = &origin { put("origin", o); }
        if let Some(c) = &ctype { put("content-type", c); }
        if let Some(l) = &len { put("content-length", l); }
        if let Some(a) = &auth { put("authorization", a); }
        let method = if post { Method::POST } else { Method::GET };
        let lo = guard::check(&Exposure::Loopback, &method, path, &h);
        if h.contains_key("host") && !guard::is_loopback_host(h["host"].to_str().unwrap_or("")) {
            prop_assert_eq!(lo, Err(Refusal::ForeignHost));
        }
        if lo.is_ok() && guard::area(path) == guard::Area::Control && post
            && len.as_deref().is_some_and(|l| !l.trim_start_matches('0').is_empty())
        {
            prop_assert!(guard::is_json_content_type(ctype.as_deref()));
        }
        let net = Exposure::Network { control_token: "t0ken".parse().unwrap() };
        if guard::check(&net, &method, path, &h).is_ok() && guard::area(path) == guard::Area::Control {
            prop_assert_eq!(auth.as_deref().map(str::trim), Some("Bearer t0ken"));
        }
    }

    #[test]
    fn loopback_hosts_are_only_loopback(host in "[ -~]{0,40}") {
        if guard::is_loopback_host(&host) {
            let h = host.trim().to_ascii_lowercase();
            let name = if h.starts_with('[') { h.split(']').next().unwrap_or("").to_string() + "]" }
                       else { h.rsplit_once(':').map_or(h.clone(), |(n, _)| n.to_string()) };
            prop_assert!(
                name == "localhost" || name == "[::1]" || name.starts_with("127."),
                "{host}"
            );
        }
    }

    #[test]
    fn viewer_ids(v in prop::option::of(".{0,80}")) {
        let c = viewers::client_key(v.as_deref(), "10.1.2.3:4567".parse().unwrap());
        prop_assert!(c.key.len() <= 3 + 64 || c.key == "addr:10.1.2.3:4567");
    }
}

#[test]
fn the_origin_is_usable_from_outside_the_crate() {
    let o = origin();
    o.create_input(CreateInput::default()).unwrap();
    assert_eq!(o.list_inputs(Instant::now()).len(), 1);
}
