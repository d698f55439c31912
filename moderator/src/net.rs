//! Requests on the browser's `fetch`: an abort handle that aborts on drop, a
//! timeout, a bounded body, and the token only in the `Authorization` header
//! (never in a URL, never as a referrer).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReferrerPolicy, RequestCache, RequestCredentials, RequestInit,
    Response,
};

use crate::api::MAX_BODY;

/// Every request gives up after this long.
const TIMEOUT_MS: u32 = 10_000;

/// Aborts the request when dropped.
#[must_use]
pub struct InFlight(Option<AbortController>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

/// An answer: its status, body (at most [`MAX_BODY`] bytes) and
/// `Retry-After` seconds.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

/// Why there is no answer, in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    Timeout,
    Network,
    TooLarge,
}

impl NetError {
    pub fn sentence(self) -> &'static str {
        match self {
            NetError::Timeout => "The backend did not answer in time.",
            NetError::Network => "The backend cannot be reached.",
            NetError::TooLarge => "The backend's answer was too large.",
        }
    }
}

/// Sends `method url` (with the token as `Authorization: Bearer`, if any).
/// The outcome is `None` when aborted through the handle.
pub fn send(
    method: &'static str,
    url: String,
    bearer: Option<String>,
) -> (
    InFlight,
    impl Future<Output = Option<Result<Reply, NetError>>>,
) {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    let timer_controller = controller.clone();
    let handle = InFlight(controller);
    let outcome = async move {
        let timed_out = Rc::new(Cell::new(false));
        // Cancelled when this future ends.
        let _timer = {
            let timed_out = timed_out.clone();
            Timeout::new(TIMEOUT_MS, move || {
                timed_out.set(true);
                if let Some(c) = timer_controller {
                    c.abort();
                }
            })
        };
        let failed = || {
            if timed_out.get() {
                Some(Err(NetError::Timeout))
            } else if signal.as_ref().is_some_and(|s| s.aborted()) {
                None
            } else {
                Some(Err(NetError::Network))
            }
        };
        let init = RequestInit::new();
        init.set_method(method);
        init.set_signal(signal.as_ref());
        init.set_cache(RequestCache::NoStore);
        init.set_referrer_policy(ReferrerPolicy::NoReferrer);
        // Cookies are not how the backend knows us: the header is.
        init.set_credentials(RequestCredentials::Omit);
        if let Ok(headers) = Headers::new() {
            let _ = headers.set("Accept", "application/json");
            if let Some(token) = bearer.as_deref() {
                let _ = headers.set("Authorization", &format!("Bearer {token}"));
            }
            init.set_headers(&headers);
        }
        let window = web_sys::window()?;
        let sent = JsFuture::from(window.fetch_with_str_and_init(&url, &init)).await;
        let Some(response) = sent.ok().and_then(|r| r.dyn_into::<Response>().ok()) else {
            return failed();
        };
        let status = response.status();
        let header = |name: &str| response.headers().get(name).ok().flatten();
        let too_large = header("content-length")
            .and_then(|l| l.trim().parse::<usize>().ok())
            .is_some_and(|l| l > MAX_BODY);
        if too_large {
            return Some(Err(NetError::TooLarge));
        }
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        let Ok(text) = response.text() else {
            return failed();
        };
        let Some(body) = JsFuture::from(text).await.ok().and_then(|t| t.as_string()) else {
            return failed();
        };
        if body.len() > MAX_BODY {
            return Some(Err(NetError::TooLarge));
        }
        Some(Ok(Reply {
            status,
            body,
            retry_after,
        }))
    };
    (handle, outcome)
}
