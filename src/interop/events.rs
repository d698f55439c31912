//! Events for embedding hosts: `CustomEvent`s that bubble and cross shadow
//! roots, with a plain-object `detail` (see embed/index.d.ts).

use player_core::events::HostEvent;
use player_core::text;
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// A plain JS object from key/value pairs.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn opt_num(n: Option<u64>) -> JsValue {
    n.map(|n| JsValue::from_f64(n as f64))
        .unwrap_or(JsValue::NULL)
}

pub fn dispatch(target: &Element, name: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = target.dispatch_event(&event);
    }
}

pub fn emit(target: &Element, event: &HostEvent) {
    let detail = match event {
        HostEvent::State {
            state,
            previous,
            notice,
        } => object(&[
            ("state", state.as_str().into()),
            ("previous", previous.as_str().into()),
            (
                "message",
                notice
                    .map(|n| JsValue::from_str(text::notice(n).english()))
                    .unwrap_or(JsValue::NULL),
            ),
        ]),
        HostEvent::LiveStart { video_uid }
        | HostEvent::LiveEnd { video_uid }
        | HostEvent::RecordingSelect { video_uid } => {
            object(&[("videoUID", video_uid.as_str().into())])
        }
        HostEvent::Viewers(n) => object(&[("viewers", opt_num(*n))]),
        HostEvent::Error {
            code,
            notice,
            retry_in_ms,
        } => object(&[
            ("code", code.as_str().into()),
            ("message", text::notice(*notice).english().into()),
            ("retryInMs", opt_num(*retry_in_ms)),
        ]),
    };
    dispatch(target, event.name(), &detail);
}
