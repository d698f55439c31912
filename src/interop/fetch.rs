//! JSON GETs with a timeout and an abort handle, on the browser's `fetch`.
//!
//! Plain web-sys rather than gloo-net: two GETs need none of its streams,
//! and leaving it out took wasm-streams and futures' sinks out of the
//! bundle (about 8 KB gzip).

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use player_core::cloudflare::{Lifecycle, Views};
use player_core::json::{self, JsonObject};
use player_core::machine::FetchError;
use player_core::policy::parse_retry_after;
use player_core::recordings::RecordingList;
use player_core::signed;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCache, RequestInit, Response};

/// Aborts the request when dropped: a request nobody waits for any more
/// does not keep a connection busy.
#[must_use]
pub struct InFlight(Option<AbortController>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// A `POST` of JSON: the body, and the bearer token it carries, if any.
pub struct Post {
    pub body: String,
    pub bearer: Option<String>,
}

/// Starts a GET of `url` (a `POST` with `post`) and returns the abort
/// handle and the outcome. The outcome is `None` when the request was
/// aborted through the handle. Not generic on purpose: one copy of this
/// future in the wasm.
pub fn get_json(
    url: String,
    timeout_ms: u32,
    post: Option<Post>,
) -> (
    InFlight,
    impl Future<Output = Option<Result<JsValue, FetchError>>>,
) {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    let timer_controller = controller.clone();
    let handle = InFlight(controller);
    let outcome = async move {
        let timed_out = Rc::new(Cell::new(false));
        // Dropped (cancelled) when this future ends.
        let _timer = {
            let timed_out = timed_out.clone();
            Timeout::new(timeout_ms, move || {
                timed_out.set(true);
                if let Some(c) = timer_controller {
                    c.abort();
                }
            })
        };
        let failed = |timed_out: &Cell<bool>| {
            if timed_out.get() {
                Some(Err(FetchError::Timeout))
            } else if signal.as_ref().is_some_and(|s| s.aborted()) {
                None
            } else {
                Some(Err(FetchError::Network))
            }
        };
        let init = RequestInit::new();
        init.set_signal(signal.as_ref());
        // Every GET here is a poll for news: the HTTP cache may answer only
        // after revalidating (a 304 when nothing changed). A recordings list
        // is public for 15 s plus 30 s stale-while-revalidate, so served from
        // the cache it showed a ready recording 40 s late.
        init.set_cache(RequestCache::NoCache);
        let posting = post.is_some();
        if let Some(post) = post {
            init.set_method("POST");
            init.set_body(&JsValue::from_str(&post.body));
            let headers = js_sys::Object::new();
            let set = |k: &str, v: &str| {
                let _ = js_sys::Reflect::set(&headers, &k.into(), &v.into());
            };
            set("content-type", "application/json");
            if let Some(bearer) = post.bearer {
                set("authorization", &format!("Bearer {bearer}"));
            }
            init.set_headers(&headers);
        }
        let Some(window) = web_sys::window() else {
            return Some(Err(FetchError::Network));
        };
        let loader = if posting {
            None
        } else {
            super::start::take_answer(&url)
        };
        let sent = match loader {
            // The loader asked this already (index.html): its answer, raced
            // against our abort signal, which its request does not carry.
            Some(answer) => {
                let mut reject = None;
                let aborted = js_sys::Promise::new(&mut |_, r| reject = Some(r));
                let _on_abort = signal.as_ref().zip(reject).map(|(s, reject)| {
                    EventListener::once(s, "abort", move |_| {
                        let _ = reject.call0(&JsValue::NULL);
                    })
                });
                let race = js_sys::Promise::race(&js_sys::Array::of2(&answer, &aborted));
                JsFuture::from(race).await
            }
            None => JsFuture::from(window.fetch_with_str_and_init(&url, &init)).await,
        };
        let Some(response) = sent.ok().and_then(|r| r.dyn_into::<Response>().ok()) else {
            return failed(&timed_out);
        };
        match response.status() {
            200 => {}
            429 => {
                let retry_after_ms = response
                    .headers()
                    .get("retry-after")
                    .ok()
                    .flatten()
                    .and_then(|v| parse_retry_after(&v));
                return Some(Err(FetchError::RateLimited { retry_after_ms }));
            }
            status => return Some(Err(FetchError::Status(status))),
        }
        let body = match response.text() {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        };
        let Some(text) = body.ok().and_then(|t| t.as_string()) else {
            return failed(&timed_out);
        };
        // The browser's JSON.parse: no JSON parser in the wasm.
        Some(js_sys::JSON::parse(&text).map_err(|_| FetchError::Malformed))
    };
    (handle, outcome)
}

/// A parsed JSON value from `JSON.parse`, read through `player_core::json`
/// (the same readers the native tests check against the real files).
pub struct Json(pub JsValue);

impl Json {
    fn get(&self, key: &str) -> JsValue {
        if !self.0.is_object() {
            return JsValue::UNDEFINED;
        }
        js_sys::Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
}

impl JsonObject for Json {
    fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).as_bool()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).as_f64()
    }
    fn string(&self, key: &str) -> Option<String> {
        self.get(key).as_string()
    }
    fn is_null(&self, key: &str) -> bool {
        self.get(key).is_null() || self.get(key).is_undefined()
    }
    fn array(&self, key: &str) -> Option<Vec<Self>> {
        let v = self.get(key);
        js_sys::Array::is_array(&v).then(|| js_sys::Array::from(&v).iter().map(Json).collect())
    }
}

pub fn lifecycle(value: JsValue) -> Result<Lifecycle, FetchError> {
    json::lifecycle(&Json(value)).map_err(|_| FetchError::Malformed)
}

pub fn recording_list(value: JsValue) -> Result<RecordingList, FetchError> {
    json::recording_list(&Json(value)).map_err(|_| FetchError::Malformed)
}

pub fn token_answer(value: JsValue) -> Result<signed::TokenAnswer, FetchError> {
    signed::token_answer(&Json(value)).map_err(|_| FetchError::Malformed)
}

pub fn views(value: JsValue) -> Result<Views, FetchError> {
    json::views(&Json(value)).map_err(|_| FetchError::Malformed)
}
