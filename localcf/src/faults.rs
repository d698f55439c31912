//! Fault injection: the per-input switches of `PUT /control/inputs/<uid>/faults`
//! and the pure decisions the delivery handlers take from them.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How `/lifecycle` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleFault {
    /// HTTP 500 with a JSON error body.
    #[serde(rename = "error500")]
    Error500,
    /// HTTP 200 with a truncated JSON body.
    Malformed,
    /// The normal answer, after `slowMs` milliseconds.
    Slow,
}

/// How `/views` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewsFault {
    /// HTTP 500 with a JSON error body.
    #[serde(rename = "error500")]
    Error500,
}

/// `lifecycle` and `views` answer 429 with this `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    pub retry_after: u64,
}

/// Default delay of the `slow` lifecycle fault: longer than any sane client
/// timeout.
pub const DEFAULT_SLOW_MS: u64 = 15_000;
const MAX_SLOW_MS: u64 = 600_000;
const MAX_RETRY_AFTER: u64 = 86_400;
const MAX_MANIFEST_404_SECONDS: u64 = 3_600;

/// The fault switches of one input. Serialized in full (nulls included) by the
/// control API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub lifecycle: Option<LifecycleFault>,
    #[serde(default = "default_slow_ms", rename = "slowMs")]
    pub slow_ms: u64,
    #[serde(default)]
    pub views: Option<ViewsFault>,
    #[serde(default, rename = "segments404")]
    pub segments_404: bool,
    #[serde(default, rename = "rateLimit")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, rename = "manifest404Seconds")]
    pub manifest_404_seconds: Option<u64>,
}

fn default_slow_ms() -> u64 {
    DEFAULT_SLOW_MS
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            lifecycle: None,
            slow_ms: DEFAULT_SLOW_MS,
            views: None,
            segments_404: false,
            rate_limit: None,
            manifest_404_seconds: None,
        }
    }
}

const KEYS: [&str; 6] = [
    "lifecycle",
    "slowMs",
    "views",
    "segments404",
    "rateLimit",
    "manifest404Seconds",
];

/// Merges a partial JSON object into `current` (JSON merge patch: a key set to
/// `null` goes back to its default) and validates the result. The error is a
/// plain message for a 400 answer.
pub fn merge(current: &Faults, patch: &Value) -> Result<Faults, String> {
    let Value::Object(patch) = patch else {
        return Err("faults must be a JSON object".into());
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (key, value) in patch {
        if !KEYS.contains(&key.as_str()) {
            return Err(format!(
                "unknown fault `{key}`; expected one of {}",
                KEYS.join(", ")
            ));
        }
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    let faults: Faults =
        serde_json::from_value(Value::Object(merged)).map_err(|e| format!("bad faults: {e}"))?;
    faults.validate()?;
    Ok(faults)
}

impl Faults {
    fn validate(&self) -> Result<(), String> {
        if self.slow_ms > MAX_SLOW_MS {
            return Err(format!("slowMs must be at most {MAX_SLOW_MS}"));
        }
        if let Some(r) = self.rate_limit {
            if r.retry_after > MAX_RETRY_AFTER {
                return Err(format!(
                    "rateLimit.retryAfter must be at most {MAX_RETRY_AFTER}"
                ));
            }
        }
        if self
            .manifest_404_seconds
            .is_some_and(|s| s > MAX_MANIFEST_404_SECONDS)
        {
            return Err(format!(
                "manifest404Seconds must be at most {MAX_MANIFEST_404_SECONDS}"
            ));
        }
        Ok(())
    }
}

/// What a `/lifecycle` or `/views` request does before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Answer normally.
    Pass,
    /// 429 with `Retry-After: retry_after`.
    RateLimited { retry_after: u64 },
    /// 500 with a JSON error.
    Error500,
    /// 200 with a truncated JSON body.
    Malformed,
    /// Answer normally after this delay.
    Slow(Duration),
}

/// The rate limit wins over the lifecycle fault.
pub fn lifecycle_gate(f: &Faults) -> Gate {
    if let Some(r) = f.rate_limit {
        return Gate::RateLimited {
            retry_after: r.retry_after,
        };
    }
    match f.lifecycle {
        None => Gate::Pass,
        Some(LifecycleFault::Error500) => Gate::Error500,
        Some(LifecycleFault::Malformed) => Gate::Malformed,
        Some(LifecycleFault::Slow) => Gate::Slow(Duration::from_millis(f.slow_ms)),
    }
}

/// The rate limit wins over the views fault.
pub fn views_gate(f: &Faults) -> Gate {
    if let Some(r) = f.rate_limit {
        return Gate::RateLimited {
            retry_after: r.retry_after,
        };
    }
    match f.views {
        None => Gate::Pass,
        Some(ViewsFault::Error500) => Gate::Error500,
    }
}

/// Whether master and media playlists still answer 404 because the broadcast
/// went live less than `manifest404Seconds` ago.
pub fn manifest_blocked(f: &Faults, live_since: Option<Instant>, now: Instant) -> bool {
    match (f.manifest_404_seconds, live_since) {
        (Some(secs), Some(since)) => {
            now.saturating_duration_since(since) < Duration::from_secs(secs)
        }
        _ => false,
    }
}

/// Whether segments answer 404.
pub fn segment_blocked(f: &Faults) -> bool {
    f.segments_404
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_serializes_in_full() {
        assert_eq!(
            serde_json::to_value(Faults::default()).unwrap(),
            json!({"lifecycle": null, "slowMs": 15000, "views": null, "segments404": false,
                   "rateLimit": null, "manifest404Seconds": null})
        );
    }

    #[test]
    fn merge_cases() {
        let d = Faults::default();
        let set = merge(
            &d,
            &json!({"lifecycle": "slow", "slowMs": 100, "views": "error500", "segments404": true,
                    "rateLimit": {"retryAfter": 7}, "manifest404Seconds": 3}),
        )
        .unwrap();
        assert_eq!(set.lifecycle, Some(LifecycleFault::Slow));
        assert_eq!(set.slow_ms, 100);
        assert_eq!(set.views, Some(ViewsFault::Error500));
        assert!(set.segments_404);
        assert_eq!(set.rate_limit, Some(RateLimit { retry_after: 7 }));
        assert_eq!(set.manifest_404_seconds, Some(3));

        // Partial: only the named key changes.
        let partial = merge(&set, &json!({"views": null})).unwrap();
        assert_eq!(partial.views, None);
        assert_eq!(partial.lifecycle, Some(LifecycleFault::Slow));
        // null restores a default, not just None.
        assert_eq!(
            merge(&set, &json!({"slowMs": null})).unwrap().slow_ms,
            DEFAULT_SLOW_MS
        );
        assert_eq!(merge(&set, &json!({})).unwrap(), set);

        for (bad, why) in [
            (json!([]), "object"),
            (json!({"nope": 1}), "unknown fault"),
            (json!({"nope": null}), "unknown fault"),
            (json!({"lifecycle": "error404"}), "bad faults"),
            (json!({"slowMs": -1}), "bad faults"),
            (json!({"slowMs": 600_001}), "at most"),
            (json!({"segments404": "yes"}), "bad faults"),
            (
                json!({"rateLimit": {"retryAfter": 1, "x": 2}}),
                "bad faults",
            ),
            (json!({"rateLimit": {}}), "bad faults"),
            (json!({"rateLimit": {"retryAfter": 86_401}}), "at most"),
            (json!({"manifest404Seconds": 3601}), "at most"),
        ] {
            let err = merge(&d, &bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn gates() {
        let f = |v| merge(&Faults::default(), &v).unwrap();
        assert_eq!(lifecycle_gate(&Faults::default()), Gate::Pass);
        assert_eq!(
            lifecycle_gate(&f(json!({"lifecycle": "error500"}))),
            Gate::Error500
        );
        assert_eq!(
            lifecycle_gate(&f(json!({"lifecycle": "malformed"}))),
            Gate::Malformed
        );
        assert_eq!(
            lifecycle_gate(&f(json!({"lifecycle": "slow", "slowMs": 20}))),
            Gate::Slow(Duration::from_millis(20))
        );
        assert_eq!(
            lifecycle_gate(&f(
                json!({"lifecycle": "error500", "rateLimit": {"retryAfter": 5}})
            )),
            Gate::RateLimited { retry_after: 5 }
        );
        assert_eq!(views_gate(&f(json!({"lifecycle": "error500"}))), Gate::Pass);
        assert_eq!(views_gate(&f(json!({"views": "error500"}))), Gate::Error500);
        assert_eq!(
            views_gate(&f(json!({"rateLimit": {"retryAfter": 0}}))),
            Gate::RateLimited { retry_after: 0 }
        );
        assert!(segment_blocked(&f(json!({"segments404": true}))));
        assert!(!segment_blocked(&Faults::default()));
    }

    #[test]
    fn manifest_404_window() {
        let t0 = Instant::now();
        let f = merge(&Faults::default(), &json!({"manifest404Seconds": 5})).unwrap();
        let cases = [
            (Some(t0), t0, true),
            (Some(t0), t0 + Duration::from_millis(4999), true),
            (Some(t0), t0 + Duration::from_secs(5), false),
            (None, t0, false),
        ];
        for (since, now, want) in cases {
            assert_eq!(manifest_blocked(&f, since, now), want);
        }
        assert!(!manifest_blocked(&Faults::default(), Some(t0), t0));
    }
}
