//! The only place that touches hls.js, the `<video>` element, `fetch` and the
//! DOM outside the view (the slot, the host side, full screen).
//! Everything here is an owning handle: dropping it removes its listeners,
//! cancels its timers, aborts its requests and destroys its hls.js instance.

pub mod events;
pub mod fetch;
pub mod hls;
pub mod host;
pub mod i18n;
pub mod intl;
pub mod playback;
pub mod qoe;
pub mod slot;
pub mod start;

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

/// Calls `visible` whenever the page shows again (the viewer came back to
/// the tab); dropping the listener stops it.
pub fn on_page_visible(visible: impl Fn() + 'static) -> Option<gloo_events::EventListener> {
    let document = web_sys::window().and_then(|w| w.document())?;
    Some(gloo_events::EventListener::new(
        &document,
        "visibilitychange",
        move |_| {
            if !page_hidden() {
                visible()
            }
        },
    ))
}

/// Whether hls.js can run here (Media Source Extensions, or Safari's
/// ManagedMediaSource).
pub fn mse_available() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    ["MediaSource", "ManagedMediaSource"].iter().any(|name| {
        js_sys::Reflect::has(&window, &wasm_bindgen::JsValue::from_str(name)).unwrap_or(false)
    })
}

/// `navigator.vendor`: which engine family this browser is
/// (`player_core::engine::Family`).
pub fn vendor() -> String {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"vendor".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Whether the browser plays HLS itself (Safari, iOS, Chromium from about
/// version 140, which answers "maybe"): then hls.js is not loaded unless
/// that player gives up on the stream (see `player_core::player`, `on_issue`).
pub fn native_hls(video: &web_sys::HtmlMediaElement) -> bool {
    !video
        .can_play_type("application/vnd.apple.mpegurl")
        .is_empty()
}
