//! The only place that touches hls.js, the `<video>` element and `fetch`.
//! Everything here is an owning handle: dropping it removes its listeners,
//! cancels its timers, aborts its requests and destroys its hls.js instance.

pub mod fetch;
pub mod hls;
pub mod playback;

/// Milliseconds since page load: a clock for the state machine.
pub fn now_ms() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now() as u64)
        .unwrap_or(0)
}

pub fn random01() -> f64 {
    js_sys::Math::random()
}

pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.hidden())
        .unwrap_or(false)
}

/// Whether the browser plays HLS itself (Safari, iOS): then hls.js is never
/// loaded. Chromium answers "" here even where it has partial support, which
/// is what we want: hls.js plays there with the tuned live settings.
pub fn native_hls(video: &web_sys::HtmlMediaElement) -> bool {
    !video
        .can_play_type("application/vnd.apple.mpegurl")
        .is_empty()
}
