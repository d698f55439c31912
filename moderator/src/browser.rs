//! The few browser calls the page makes besides `fetch`: reading (and
//! scrubbing) the address, the clipboard, the clocks.

use wasm_bindgen_futures::JsFuture;
use web_sys::{Url, UrlSearchParams};

/// What the address carried.
pub struct Address {
    pub room: Option<String>,
    /// The Jitsi token, kept in memory only.
    pub token: Option<String>,
}

/// Reads `room` and `jwt` from the address and at once replaces the address
/// with one without `jwt` (no history entry keeps it, nothing copied from the
/// address bar carries it).
pub fn take_address() -> Address {
    let empty = Address {
        room: None,
        token: None,
    };
    let Some(window) = web_sys::window() else {
        return empty;
    };
    let Ok(href) = window.location().href() else {
        return empty;
    };
    let Ok(url) = Url::new(&href) else {
        return empty;
    };
    let params: UrlSearchParams = url.search_params();
    let token = params.get("jwt").filter(|t| !t.is_empty());
    let room = params
        .get("room")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if params.has("jwt") {
        params.delete("jwt");
        let search = params.to_string().as_string().unwrap_or_default();
        url.set_search(&search);
        if let Ok(history) = window.history() {
            let _ =
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
        }
    }
    Address { room, token }
}

/// Copies `text`; true when the browser took it.
pub async fn copy(text: String) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    JsFuture::from(promise).await.is_ok()
}

/// `Date.now()`, ms.
pub fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// `performance.now()`, ms (0 without a window).
pub fn perf_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}
