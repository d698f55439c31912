//! Numbers and dates as the viewer's language writes them, by the browser's
//! `Intl` (CLDR data the wasm need not carry): "1,2 Mio." in German,
//! "1.2万" in Japanese, "30.11.2026, 10:00" for a recording.

use js_sys::{Array, Intl, Object};
use wasm_bindgen::{JsCast, JsValue};

fn locales(tag: &str) -> Array {
    Array::of1(&JsValue::from_str(tag))
}

fn options(json: &str) -> Object {
    js_sys::JSON::parse(json)
        .ok()
        .and_then(|v| v.dyn_into::<Object>().ok())
        .unwrap_or_default()
}

fn number_with(tag: &str, json: &str, n: u64) -> String {
    let format = Intl::NumberFormat::new(&locales(tag), &options(json)).format();
    format
        .call1(&JsValue::UNDEFINED, &JsValue::from_f64(n as f64))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| n.to_string())
}

/// A count short enough for a badge: "1.2K", "1,2 Mio.", "1.2万".
pub fn compact(tag: &str, n: u64) -> String {
    number_with(
        tag,
        r#"{"notation":"compact","maximumFractionDigits":1}"#,
        n,
    )
}

/// A whole number in the language's digits and grouping.
pub fn number(tag: &str, n: u64) -> String {
    number_with(tag, "{}", n)
}

/// An RFC 3339 time as the viewer reads dates ("23 Sep 2021, 07:44"), in
/// their language and time zone; the text as it came when it is no date.
pub fn date(tag: &str, rfc3339: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    date.to_locale_string(
        tag,
        &options(r#"{"dateStyle":"medium","timeStyle":"short"}"#),
    )
    .into()
}
