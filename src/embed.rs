//! The player's entry points. Host pages: `mount_player(target, options,
//! hlsSrc, i18nBase)` renders it into `target` and returns a handle whose
//! `free()` tears it all down (embed/index.js wraps it as `mount()` and
//! `<jitsi-live-player>`). The watch page: `start_watch_page()`, the same
//! mount configured from the address.

use crate::components::{ConfigProblem, Player, Tr};
use crate::interop::events::{dispatch, object};
use crate::interop::i18n;
use leptos::either::Either;
use leptos::prelude::*;
use player_core::config::{PlayerConfig, RawConfig};
use player_core::events::ERROR_EVENT;
use player_core::i18n::{Catalogue, Lang};
use player_core::machine::ErrorCode;
use send_wrapper::SendWrapper;
use std::any::Any;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// A mounted player. Dropping it (`free()` from JS) unmounts the view,
/// which drops the driver: timers, requests, listeners, hls.js.
#[wasm_bindgen]
pub struct MountedPlayer {
    _view: Box<dyn Any>,
}

/// Reads the options object: the keys of the watch page's query, as strings.
fn raw_config(options: &JsValue) -> RawConfig {
    RawConfig::from_pairs(RawConfig::KEYS.iter().filter_map(|key| {
        js_sys::Reflect::get(options, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .map(|v| (*key, v))
    }))
}

/// `i18n_base`: where the catalogues are (`<base><tag>.json`).
#[wasm_bindgen]
pub fn mount_player(
    target: HtmlElement,
    options: JsValue,
    hls_src: String,
    i18n_base: String,
) -> MountedPlayer {
    let example = r#"input="<live input id>""#;
    let words = Words {
        base: i18n_base,
        page: false,
    };
    mount(target, raw_config(&options), hls_src, words, example)
}

/// Where the catalogues are, and whether the page around the player is
/// ours to translate (the watch page).
struct Words {
    base: String,
    page: bool,
}

/// The watch page: the player configured from the address, in the page
/// frame of index.html.
#[wasm_bindgen]
pub fn start_watch_page() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(target) = document
        .get_element_by_id("player")
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    else {
        return;
    };
    let location = document.location();
    let search = location.as_ref().and_then(|l| l.search().ok());
    let params = web_sys::UrlSearchParams::new_with_str(&search.unwrap_or_default());
    let mut raw = RawConfig::from_pairs(params.iter().flat_map(|params| {
        RawConfig::query_keys().filter_map(move |k| params.get(k).map(|v| (k, v)))
    }));
    // The viewer's Jitsi token only from the fragment (`#jwt=<token>`),
    // which browsers never send to a server nor put in a `Referer`.
    let hash = location
        .as_ref()
        .and_then(|l| l.hash().ok())
        .unwrap_or_default();
    raw.jwt = hash.strip_prefix("#jwt=").map(str::to_string);
    if let (Some(_), Some(location)) = (&raw.jwt, &location) {
        // Out of the address once read: a viewer who copies it to share
        // the stream must not share their token with it.
        let path = location.pathname().unwrap_or_default() + &location.search().unwrap_or_default();
        if let Some(Ok(history)) = web_sys::window().map(|w| w.history()) {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
        }
    }
    // The page's player lives as long as the page, as with mount_to_body.
    let example = "?input=<live input id>";
    let words = Words {
        base: "public/i18n/".into(),
        page: true,
    };
    std::mem::forget(mount(target, raw, "hls.min.js".into(), words, example));
}

fn mount(
    target: HtmlElement,
    raw: RawConfig,
    hls_src: String,
    words: Words,
    example: &'static str,
) -> MountedPlayer {
    let langs = i18n::browser_languages();
    let lang = Lang::choose(raw.lang.as_deref(), langs.iter().map(String::as_str));
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let config = PlayerConfig::parse(&raw, &origin);
    // A bad configuration is shown in the player's frame and told to the
    // host (in English: it is for the host's code); the host fixes it with
    // update().
    let problem = config.as_ref().err().map(|error| {
        object(&[
            ("code", ErrorCode::CONFIG.into()),
            ("message", error.to_string().into()),
            ("retryInMs", JsValue::NULL),
        ])
    });
    let view = leptos::mount::mount_to(target.clone(), move || {
        let tr = Tr(RwSignal::new(Catalogue::english()));
        // English is built in and shows at once; the viewer's own catalogue
        // replaces it when it arrives (or never, and English stays).
        if lang != Lang::En {
            let (request, catalogue) = i18n::load(&words.base, lang);
            let request = StoredValue::new(Some(SendWrapper::new(request)));
            on_cleanup(move || {
                request.try_update_value(|r| r.take());
            });
            let page = words.page;
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(catalogue) = catalogue.await {
                    if page {
                        i18n::translate_page(&catalogue);
                    }
                    tr.0.try_set(catalogue);
                }
            });
        }
        match config {
            // Either, not into_any(): static dispatch keeps the wasm smaller.
            Ok(config) => Either::Left(view! { <Player config=config hls_src=hls_src tr=tr/> }),
            Err(error) => {
                Either::Right(view! { <ConfigProblem error=error example=example tr=tr/> })
            }
        }
    });
    if let Some(detail) = problem {
        // No playback slot will take the watch page loader's <video>.
        crate::interop::start::discard();
        dispatch(&target, ERROR_EVENT, &detail);
    }
    MountedPlayer {
        _view: Box::new(view),
    }
}
