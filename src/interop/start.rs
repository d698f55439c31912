//! What the watch page's loader (index.html) started before the wasm
//! arrived, for the player to take over: the first lifecycle request and,
//! once it said live, the `<video>` already loading the manifest (natively,
//! or through the hls.js instance it started). The loader makes core's
//! decisions (the URLs, the engine, hls.js's config), and the player still
//! checks each against its own before it uses it: a wrong guess costs one
//! request, never a wrong stream. Hosts that embed the
//! player have no loader: then there is nothing to take.

use super::hls::HlsInstance;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlVideoElement;

/// `window.__jlpStart`, as the loader left it.
fn start() -> Option<JsValue> {
    let window = web_sys::window()?;
    js_sys::Reflect::get(&window, &"__jlpStart".into())
        .ok()
        .filter(|s| s.is_object())
}

fn field(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The loader's answer (a `fetch` promise) when it asked `url`, once.
pub fn take_answer(url: &str) -> Option<js_sys::Promise> {
    let start = start()?;
    let answer = field(&start, "answer").dyn_into::<js_sys::Promise>().ok()?;
    let _ = js_sys::Reflect::set(&start, &"answer".into(), &JsValue::UNDEFINED);
    (field(&start, "lifecycle").as_string()? == url).then_some(answer)
}

/// What the loader started: its `<video>`, the manifest it loads, and on
/// the hls.js path the instance loading it (dropped: destroyed).
pub struct Started {
    pub video: HtmlVideoElement,
    pub src: String,
    pub hls: Option<HlsInstance>,
}

/// Ends the loader's part (it starts nothing after this) and takes what it
/// started, if anything.
pub fn take_video() -> Option<Started> {
    let start = start()?;
    let _ = js_sys::Reflect::set(&start, &"closed".into(), &JsValue::TRUE);
    let take = |key: &str| {
        let value = field(&start, key);
        let _ = js_sys::Reflect::set(&start, &key.into(), &JsValue::UNDEFINED);
        value
    };
    let (video, src, hls) = (take("video"), take("src"), take("hls"));
    let hls = hls.is_object().then(|| HlsInstance::adopt(hls));
    let video = video.dyn_into::<HtmlVideoElement>().ok()?;
    Some(Started {
        video,
        src: src.as_string()?,
        hls,
    })
}

/// Puts the loader's `loaded` element where the view's `placeholder` is.
/// One the loader showed already stays in the page: the view is built
/// before it is mounted, so it moves a microtask later (same task, nothing
/// painted between), once the view is in the page, with `moveBefore`,
/// which keeps its playback: Chromium's HLS fails a stream whose element
/// left the document even for one task. MSE does not mind a plain move
/// (browsers without `moveBefore`), and the loader keeps a native
/// `<video>` out of the page where `moveBefore` is missing.
pub fn put_in_place(
    placeholder: &HtmlVideoElement,
    loaded: &HtmlVideoElement,
) -> Result<(), JsValue> {
    if !loaded.is_connected() {
        return placeholder.replace_with_with_node_1(loaded);
    }
    let (placeholder, loaded) = (placeholder.clone(), loaded.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let moved = placeholder
            .parent_node()
            .filter(|_| placeholder.is_connected())
            .and_then(|parent| {
                let move_before = field(&parent, "moveBefore")
                    .dyn_into::<js_sys::Function>()
                    .ok()?;
                move_before.call2(&parent, &loaded, &placeholder).ok()
            });
        match moved {
            Some(_) => placeholder.remove(),
            None => {
                let _ = placeholder.replace_with_with_node_1(&loaded);
            }
        }
    });
    Ok(())
}

/// Ends the loader's part when the player refused its configuration (so
/// no playback slot takes the `<video>`): that one must neither play nor
/// stay on the page.
pub fn discard() {
    let Some(Started { video, hls, .. }) = take_video() else {
        return;
    };
    drop(hls);
    video.remove_attribute("src").ok();
    video.load();
    video.remove();
}
