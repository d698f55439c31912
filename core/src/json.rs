//! Reading the delivery answers from any JSON tree.
//!
//! The player gets its JSON from the browser's `JSON.parse` (no JSON parser
//! in the wasm), the tests and the server from serde. Both read the answers
//! through [`JsonObject`] with the same functions, so the player's parsing is
//! tested natively against the real Cloudflare files.

use crate::cloudflare::{Lifecycle, Views};
use crate::config::is_url;
use crate::recordings::{Processing, Recording, RecordingList};

/// A JSON object whose fields can be read.
pub trait JsonObject: Sized {
    fn bool(&self, key: &str) -> Option<bool>;
    fn number(&self, key: &str) -> Option<f64>;
    fn string(&self, key: &str) -> Option<String>;
    /// Whether the field is absent or `null`.
    fn is_null(&self, key: &str) -> bool;
    /// The elements of an array field.
    fn array(&self, key: &str) -> Option<Vec<Self>>;
}

/// The answer was not the JSON we expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

fn optional_string(obj: &impl JsonObject, key: &str) -> Result<Option<String>, Malformed> {
    match obj.string(key) {
        Some(s) => Ok(Some(s)),
        None if obj.is_null(key) => Ok(None),
        None => Err(Malformed),
    }
}

/// `{"isInput": bool, "videoUID": string|null, "live": bool}`.
pub fn lifecycle(obj: &impl JsonObject) -> Result<Lifecycle, Malformed> {
    Ok(Lifecycle {
        is_input: obj.bool("isInput").ok_or(Malformed)?,
        video_uid: optional_string(obj, "videoUID")?,
        live: obj.bool("live").ok_or(Malformed)?,
    })
}

/// `{"liveViewers": N}`.
pub fn views(obj: &impl JsonObject) -> Result<Views, Malformed> {
    let n = obj.number("liveViewers").ok_or(Malformed)?;
    if !(n.is_finite() && n >= 0.0) {
        return Err(Malformed);
    }
    Ok(Views {
        live_viewers: n as u64,
    })
}

/// Our server's recordings list. A malformed entry is skipped rather than
/// failing the whole list.
pub fn recording_list(obj: &impl JsonObject) -> Result<RecordingList, Malformed> {
    let input_uid = obj.string("inputUID").ok_or(Malformed)?;
    let recordings = obj
        .array("recordings")
        .ok_or(Malformed)?
        .iter()
        .filter_map(|r| {
            Some(Recording {
                uid: r.string("uid")?,
                name: r.string("name").unwrap_or_default(),
                created: r.string("created").unwrap_or_default(),
                duration_seconds: r.number("durationSeconds").unwrap_or(0.0),
                // Only http(s) URLs reach an <img> or the player.
                thumbnail: r
                    .string("thumbnail")
                    .filter(|u| is_url(u))
                    .unwrap_or_default(),
                hls: match r.string("hls").filter(|u| is_url(u)) {
                    Some(url) => url,
                    // A private room's recording: no URL (its uid would be
                    // refused); played with a token of its own.
                    None if r.bool("signed") == Some(true) => String::new(),
                    None => return None,
                },
            })
        })
        .collect();
    let processing = obj
        .array("processing")
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            Some(Processing {
                uid: p.string("uid")?,
                name: p.string("name").unwrap_or_default(),
                created: p.string("created").unwrap_or_default(),
                state: p.string("state").unwrap_or_default(),
            })
        })
        .collect();
    Ok(RecordingList {
        input_uid,
        recordings,
        processing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    impl JsonObject for Value {
        fn bool(&self, key: &str) -> Option<bool> {
            self.get(key)?.as_bool()
        }
        fn number(&self, key: &str) -> Option<f64> {
            self.get(key)?.as_f64()
        }
        fn string(&self, key: &str) -> Option<String> {
            self.get(key)?.as_str().map(str::to_string)
        }
        fn is_null(&self, key: &str) -> bool {
            self.get(key).is_none_or(Value::is_null)
        }
        fn array(&self, key: &str) -> Option<Vec<Self>> {
            self.get(key)?.as_array().cloned()
        }
    }

    /// The real answers beside the project (`../shared/cloudflare`), read as they are.
    fn shared(name: &str) -> String {
        let path = format!(
            "{}/../../shared/cloudflare/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn with_extra_fields(json: &str) -> Value {
        let mut v: Value = serde_json::from_str(json).unwrap();
        let obj = v.as_object_mut().unwrap();
        obj.insert("futureField".into(), serde_json::json!({"nested": [1, 2]}));
        obj.insert("anotherOne".into(), Value::Null);
        v
    }

    #[test]
    fn reads_the_real_lifecycle_and_views_files() {
        for (file, want) in [
            (
                "lifecycle-idle.json",
                Lifecycle {
                    is_input: true,
                    video_uid: None,
                    live: false,
                },
            ),
            (
                "lifecycle-live.json",
                Lifecycle {
                    is_input: true,
                    video_uid: Some("55b9b5ce48c3968c6b514c458959d6a".into()),
                    live: true,
                },
            ),
        ] {
            let text = shared(file);
            // The player's reader and serde agree, with and without unknown fields.
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(lifecycle(&v), Ok(want.clone()), "{file}");
            assert_eq!(
                lifecycle(&with_extra_fields(&text)),
                Ok(want.clone()),
                "{file}"
            );
            assert_eq!(
                serde_json::from_str::<Lifecycle>(&text).unwrap(),
                want,
                "{file}"
            );
        }
        let text = shared("views.json");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(views(&v), Ok(Views { live_viewers: 113 }));
        assert_eq!(
            views(&with_extra_fields(&text)),
            Ok(Views { live_viewers: 113 })
        );
        assert_eq!(
            serde_json::from_str::<Views>(&text).unwrap(),
            Views { live_viewers: 113 }
        );
    }

    #[test]
    fn rejects_malformed_answers() {
        let cases = [
            r#"{}"#,
            r#"{"isInput": true, "live": "yes"}"#,
            r#"{"isInput": true, "videoUID": 5, "live": true}"#,
            r#"{"isInput": 1, "videoUID": null, "live": true}"#,
            r#"[]"#,
            r#"null"#,
        ];
        for text in cases {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(lifecycle(&v), Err(Malformed), "{text}");
        }
        // videoUID may be missing altogether.
        let v: Value = serde_json::from_str(r#"{"isInput": false, "live": false}"#).unwrap();
        assert_eq!(lifecycle(&v).unwrap().video_uid, None);
        for text in [r#"{}"#, r#"{"liveViewers": -1}"#, r#"{"liveViewers": "7"}"#] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(views(&v), Err(Malformed), "{text}");
        }
    }

    #[test]
    fn reads_recording_lists_like_serde_and_skips_broken_entries() {
        let list = RecordingList {
            input_uid: "in1".into(),
            recordings: vec![Recording {
                uid: "v2".into(),
                name: "Weekly <b>sync</b>".into(),
                created: "2021-09-22T22:12:53.587306Z".into(),
                duration_seconds: 7272.0,
                thumbnail: "http://o/v2/thumbnails/thumbnail.jpg".into(),
                hls: "http://o/v2/manifest/video.m3u8".into(),
            }],
            processing: vec![Processing {
                uid: "v3".into(),
                name: "Now".into(),
                created: "2021-09-23T05:44:30Z".into(),
                state: "live-inprogress".into(),
            }],
        };
        let mut v = serde_json::to_value(&list).unwrap();
        assert_eq!(recording_list(&v), Ok(list.clone()));
        v["recordings"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"uid": 7}));
        v["extra"] = serde_json::json!(true);
        assert_eq!(recording_list(&v), Ok(list));
        assert_eq!(
            recording_list(&serde_json::json!({"recordings": []})),
            Err(Malformed)
        );
        // A private recording, as the backend lists it: no URLs, `signed`.
        let private = serde_json::json!({"inputUID": "in1", "signed": true, "recordings": [
            {"uid": "v9", "name": "Lesson", "created": "c", "durationSeconds": 30.0, "signed": true},
            {"uid": "v8", "name": "No URL, not signed"}]});
        let list = recording_list(&private).unwrap();
        assert_eq!(list.recordings.len(), 1);
        assert_eq!(list.recordings[0].uid, "v9");
        assert_eq!(list.recordings[0].hls, "");
        assert_eq!(list.recordings[0].thumbnail, "");
    }
}
