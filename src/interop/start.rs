//! What the watch page's loader (index.html) started before the wasm
//! arrived, for the player to take over: the first lifecycle request and,
//! on native HLS once it said live, the `<video>` already loading the
//! manifest. The loader makes core's decisions (the URLs, the engine), and
//! the player still checks each against its own before it uses it: a wrong
//! guess costs one request, never a wrong stream. Hosts that embed the
//! player have no loader: then there is nothing to take.

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

/// Ends the loader's part (it starts nothing after this) and takes the
/// `<video>` it set a source on, with that source.
pub fn take_video() -> Option<(HtmlVideoElement, String)> {
    let start = start()?;
    let _ = js_sys::Reflect::set(&start, &"closed".into(), &JsValue::TRUE);
    let video = field(&start, "video").dyn_into::<HtmlVideoElement>().ok()?;
    let _ = js_sys::Reflect::set(&start, &"video".into(), &JsValue::UNDEFINED);
    let src = video.get_attribute("src")?;
    Some((video, src))
}

/// Ends the loader's part when the player refused its configuration (so
/// no playback slot takes the `<video>`): that one must neither play nor
/// stay on the page.
pub fn discard() {
    let Some((video, _)) = take_video() else {
        return;
    };
    video.remove_attribute("src").ok();
    video.load();
    video.remove();
}
