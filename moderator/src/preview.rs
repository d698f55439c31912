//! The preview: the watch page itself, muted, in a same-origin frame (what
//! viewers get, at no cost to their bundle), read once a second for the
//! health panel. Only the `<video>` and the player's DOM contract
//! (`data-player-state`, `data-message`) are read, plus, on hls.js, the
//! sample function the player puts on its `<video>` (declared bitrate,
//! fragment loads, `playingDate`; see `src/interop/hls_loader.js`), so the
//! player's insides stay its own.

use player_core::health::{self, Engine, FragmentLoad, FrameCounters, Sample};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, HtmlIFrameElement, HtmlVideoElement, TimeRanges};

/// The frame's element id.
pub const FRAME_ID: &str = "mod-preview-frame";

/// Keeps only the player of the watch page in the frame (its header, title
/// and note are for viewers).
const FRAME_STYLE: &str = ".page-header,.page-title,.page-note{display:none!important}\
    .page-main{padding:0!important;max-width:none!important;margin:0!important}\
    body{min-height:0!important;background:transparent!important}";
const FRAME_STYLE_ID: &str = "mod-preview-style";

/// One reading of the preview.
pub struct Reading {
    pub sample: Sample,
    /// Playback has shown frames and now waits for data.
    pub stalled: bool,
    /// The player's error sentence, when it shows one.
    pub error: Option<String>,
    /// The engine's last fragment loads (hls.js), checked.
    pub loads: Vec<FragmentLoad>,
}

/// The key of the player's sample function on its `<video>`
/// (`Symbol.for`, which every frame of the page shares).
const SAMPLE_KEY: &str = "jitsi-live-player.hls-sample";
/// The most load numbers read from one answer (4 loads of 3).
const MAX_LOAD_NUMBERS: u32 = 12;

fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// What the player's hls.js knows, when it offers it: (declared bitrate,
/// playing date, flat loads). The answer comes from the frame's realm, so it
/// is read with `Reflect`, never `instanceof`.
fn engine_sample(video: &HtmlVideoElement) -> Option<(Option<f64>, Option<f64>, Vec<f64>)> {
    let key = js_sys::Symbol::for_(SAMPLE_KEY);
    let f = js_sys::Reflect::get(video, &key).ok()?;
    if !f.is_function() {
        return None;
    }
    let answer = f.unchecked_into::<js_sys::Function>().call0(video).ok()?;
    let loads = get(&answer, "loads");
    let n = get(&loads, "length").as_f64().unwrap_or(0.0) as u32;
    let flat = (0..n.min(MAX_LOAD_NUMBERS))
        .map(|i| {
            js_sys::Reflect::get_u32(&loads, i)
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        })
        .collect();
    Some((
        get(&answer, "bitrate").as_f64(),
        get(&answer, "playingDate").as_f64(),
        flat,
    ))
}

fn ranges(r: &TimeRanges) -> Vec<(f64, f64)> {
    (0..r.length())
        .filter_map(|i| Some((r.start(i).ok()?, r.end(i).ok()?)))
        .collect()
}

fn frame_document() -> Option<Document> {
    web_sys::window()?
        .document()?
        .get_element_by_id(FRAME_ID)?
        .dyn_into::<HtmlIFrameElement>()
        .ok()?
        .content_document()
}

/// Reads the preview now (`at_ms` from `performance.now()`, `wall_ms` from
/// `Date.now()`); a sample with no engine when nothing plays.
pub fn read(at_ms: f64, wall_ms: f64) -> Reading {
    let mut reading = Reading {
        sample: Sample {
            at_ms,
            wall_ms,
            ..Sample::default()
        },
        stalled: false,
        error: None,
        loads: Vec::new(),
    };
    let Some(doc) = frame_document() else {
        return reading;
    };
    if doc.get_element_by_id(FRAME_STYLE_ID).is_none() {
        if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
            style.set_id(FRAME_STYLE_ID);
            style.set_text_content(Some(FRAME_STYLE));
            let _ = head.append_child(&style);
        }
    }
    let Some(root) = doc.query_selector("[data-player-state]").ok().flatten() else {
        return reading;
    };
    if root.get_attribute("data-player-state").as_deref() == Some("error") {
        reading.error = root
            .query_selector("[data-message]")
            .ok()
            .flatten()
            .and_then(|m| m.text_content())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    // The frame's elements come from its own realm, where `instanceof` with
    // this window's constructors is false: check the tag instead.
    let Some(video) = root
        .query_selector("video")
        .ok()
        .flatten()
        .filter(|v| v.tag_name().eq_ignore_ascii_case("video"))
        .map(|v| v.unchecked_into::<HtmlVideoElement>())
    else {
        return reading;
    };
    let src = video.current_src();
    if src.is_empty() {
        return reading;
    }
    let quality = video.get_video_playback_quality();
    let frames = FrameCounters {
        total: u64::from(quality.total_video_frames()),
        dropped: u64::from(quality.dropped_video_frames()),
    };
    let seekable = ranges(&video.seekable());
    let s = &mut reading.sample;
    s.engine = Some(if src.starts_with("blob:") {
        Engine::HlsJs
    } else {
        Engine::Native
    });
    s.paused = video.paused();
    s.width = video.video_width();
    s.height = video.video_height();
    s.current_time = video.current_time();
    s.buffered = ranges(&video.buffered());
    // hls.js sets the live seekable range on its MediaSource; Chromium's
    // own HLS leaves it empty (unknown, and the panel says why).
    s.live_edge = seekable.last().map(|(_, end)| *end);
    s.frames = Some(frames);
    if let Some((bitrate, date, loads)) = engine_sample(&video) {
        s.engine_internals = true;
        s.declared_bitrate = health::declared_bitrate(bitrate);
        s.playing_date_ms = date;
        reading.loads = health::fragment_loads(&loads);
    }
    // HAVE_FUTURE_DATA = 3: below it a playing video waits for data.
    reading.stalled = !video.paused() && video.ready_state() < 3 && frames.total > 0;
    reading
}
