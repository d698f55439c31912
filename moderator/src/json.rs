//! The backend's JSON, read through `player_core::json::JsonObject`: in the
//! browser from `JSON.parse` (no JSON parser in this wasm: serde_json was a
//! fifth of it), natively (the tests) from serde_json, so the same readers
//! are tested natively on the same texts.

use player_core::json::JsonObject;

/// A parsed JSON object.
#[derive(Debug, Clone)]
pub struct Json(Inner);

#[cfg(target_arch = "wasm32")]
type Inner = wasm_bindgen::JsValue;
#[cfg(not(target_arch = "wasm32"))]
type Inner = serde_json::Value;

#[cfg(target_arch = "wasm32")]
impl Json {
    /// The text as a JSON object; `None` when it is no JSON or no object.
    pub fn parse(text: &str) -> Option<Self> {
        js_sys::JSON::parse(text)
            .ok()
            .filter(|v| v.is_object() && !js_sys::Array::is_array(v))
            .map(Json)
    }

    fn get(&self, key: &str) -> Inner {
        js_sys::Reflect::get(&self.0, &Inner::from_str(key)).unwrap_or(Inner::UNDEFINED)
    }

    /// An object field.
    pub fn object(&self, key: &str) -> Option<Self> {
        let v = self.get(key);
        (v.is_object() && !js_sys::Array::is_array(&v)).then_some(Json(v))
    }
}

#[cfg(target_arch = "wasm32")]
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
        let v = self.get(key);
        v.is_null() || v.is_undefined()
    }
    fn array(&self, key: &str) -> Option<Vec<Self>> {
        let v = self.get(key);
        js_sys::Array::is_array(&v).then(|| js_sys::Array::from(&v).iter().map(Json).collect())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Json {
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str::<Inner>(text)
            .ok()
            .filter(Inner::is_object)
            .map(Json)
    }

    pub fn object(&self, key: &str) -> Option<Self> {
        self.0.get(key).filter(|v| v.is_object()).cloned().map(Json)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl JsonObject for Json {
    fn bool(&self, key: &str) -> Option<bool> {
        self.0.get(key)?.as_bool()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.0.get(key)?.as_f64()
    }
    fn string(&self, key: &str) -> Option<String> {
        self.0.get(key)?.as_str().map(str::to_string)
    }
    fn is_null(&self, key: &str) -> bool {
        self.0.get(key).is_none_or(Inner::is_null)
    }
    fn array(&self, key: &str) -> Option<Vec<Self>> {
        Some(
            self.0
                .get(key)?
                .as_array()?
                .iter()
                .cloned()
                .map(Json)
                .collect(),
        )
    }
}

/// A whole, non-negative number below 2^53 (what JSON carries exactly).
pub fn count(obj: &impl JsonObject, key: &str) -> Option<u64> {
    obj.number(key)
        .filter(|n| n.is_finite() && *n >= 0.0 && *n < 9.0e15 && n.fract() == 0.0)
        .map(|n| n as u64)
}

/// A field that may be absent or null, else must be what `read` reads:
/// `Err` when it is something else.
pub fn optional<T>(
    obj: &impl JsonObject,
    key: &str,
    read: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ()> {
    if obj.is_null(key) {
        return Ok(None);
    }
    read(key).map(Some).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_optionals() {
        let o = Json::parse(
            r#"{"n":3,"neg":-1,"frac":1.5,"big":1e300,"s":"x","nul":null,"obj":{"a":1},"arr":[1]}"#,
        )
        .unwrap();
        let table = [
            ("n", Some(3)),
            ("neg", None),
            ("frac", None),
            ("big", None),
            ("s", None),
            ("nul", None),
            ("absent", None),
        ];
        for (key, want) in table {
            assert_eq!(count(&o, key), want, "{key}");
        }
        assert_eq!(optional(&o, "n", |k| count(&o, k)), Ok(Some(3)));
        assert_eq!(optional(&o, "nul", |k| count(&o, k)), Ok(None));
        assert_eq!(optional(&o, "absent", |k| count(&o, k)), Ok(None));
        assert_eq!(optional(&o, "s", |k| count(&o, k)), Err(()));
        assert_eq!(o.object("obj").and_then(|a| count(&a, "a")), Some(1));
        assert!(o.object("arr").is_none() && o.object("s").is_none());
        for text in ["[1]", "3", "\"x\"", "null", "{", ""] {
            assert!(Json::parse(text).is_none(), "{text}");
        }
    }
}
