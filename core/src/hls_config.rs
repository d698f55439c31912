//! The hls.js configuration for hour-long live meetings, as data.
//!
//! hls.js defaults suit short VOD: an unbounded back buffer (memory grows for
//! hours), no pull back to live, no catch-up. Each value below says why it
//! differs. The interop layer serialises this struct into the JS object.

use crate::machine::PlaybackIssue;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    pub max_num_retry: u32,
    pub retry_delay_ms: u32,
    pub max_retry_delay_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoaderConfig {
    pub max_time_to_first_byte_ms: u32,
    pub max_load_time_ms: u32,
    pub timeout_retry: RetryConfig,
    pub error_retry: RetryConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPolicy {
    pub default: LoaderConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HlsConfig {
    pub debug: bool,
    pub enable_worker: bool,
    /// hls.js 1.7 only applies `maxLiveSyncPlaybackRate` (catching up by
    /// playing faster) in low-latency mode; for plain HLS, as Cloudflare
    /// serves, the mode changes nothing else.
    pub low_latency_mode: bool,
    /// Seconds behind the live edge to start and to aim for: three 2 s
    /// segments, the same as hls.js's default count, but in seconds so the
    /// max latency below can be in seconds too (mixing throws).
    pub live_sync_duration: f64,
    /// Past this the viewer is pulled back towards live (default: never).
    pub live_max_latency_duration: f64,
    /// Catch up by playing up to 1.5× instead of jumping (default: off).
    pub max_live_sync_playback_rate: f64,
    /// A live seek range that behaves, for the go-live control.
    pub live_duration_infinity: bool,
    /// Seconds of played media kept: bounded so memory stays flat for hours.
    pub back_buffer_length: f64,
    pub max_buffer_length: f64,
    /// A live playlist that stops changing for this many reloads raises an
    /// error (default: reload forever while the picture freezes).
    pub live_max_unchanged_playlist_refresh: u32,
    /// The manifest is retried by our own policy (it may be 204/404 for up to
    /// ~30 s after going live), so hls.js gives up on it fast.
    pub manifest_load_policy: LoadPolicy,
    pub playlist_load_policy: LoadPolicy,
    pub frag_load_policy: LoadPolicy,
}

impl HlsConfig {
    /// Settings for a live broadcast.
    pub fn live() -> Self {
        let retry = |n, delay, max| RetryConfig {
            max_num_retry: n,
            retry_delay_ms: delay,
            max_retry_delay_ms: max,
        };
        let policy = |ttfb, load, timeouts, errors, delay, max| LoadPolicy {
            default: LoaderConfig {
                max_time_to_first_byte_ms: ttfb,
                max_load_time_ms: load,
                timeout_retry: retry(timeouts, 0, 0),
                error_retry: retry(errors, delay, max),
            },
        };
        HlsConfig {
            debug: false,
            enable_worker: true,
            low_latency_mode: true,
            live_sync_duration: 6.0,
            live_max_latency_duration: 14.0,
            max_live_sync_playback_rate: 1.5,
            live_duration_infinity: true,
            back_buffer_length: 30.0,
            max_buffer_length: 20.0,
            live_max_unchanged_playlist_refresh: 12,
            manifest_load_policy: policy(8_000, 10_000, 1, 1, 1_000, 2_000),
            playlist_load_policy: policy(8_000, 10_000, 2, 3, 1_000, 4_000),
            frag_load_policy: policy(10_000, 20_000, 3, 4, 1_000, 8_000),
        }
    }

    /// Settings for a recording: same policies, no live options in the way.
    pub fn vod() -> Self {
        HlsConfig {
            live_duration_infinity: false,
            back_buffer_length: 60.0,
            max_buffer_length: 30.0,
            ..Self::live()
        }
    }
}

/// What an hls.js `ERROR` event means for the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HlsError {
    /// hls.js has given up: the state machine decides what next.
    Fatal(PlaybackIssue),
    /// The buffer ran dry; hls.js is nudging playback on by itself.
    Stalled,
    /// Retried by hls.js; nothing to do.
    Transient,
}

/// Classifies an `ERROR` event from its `type`, `details` and `fatal` fields.
pub fn classify(kind: &str, details: &str, fatal: bool) -> HlsError {
    if !fatal {
        return if details == "bufferStalledError" {
            HlsError::Stalled
        } else {
            HlsError::Transient
        };
    }
    // manifestLoadError / manifestLoadTimeOut / manifestParsingError: a 204,
    // a 404 or garbage where a playlist should be. Cloudflare answers so for
    // up to ~30 s after going live.
    if details.starts_with("manifest") || details == "levelEmptyError" {
        return HlsError::Fatal(PlaybackIssue::NotPlayable);
    }
    HlsError::Fatal(match kind {
        "networkError" => PlaybackIssue::Network,
        "mediaError" => PlaybackIssue::Media,
        _ => PlaybackIssue::Other,
    })
}

/// A number as JSON without float formatting code in the wasm: the values
/// here are whole or have at most three decimals.
fn num(v: f64) -> String {
    let milli = (v * 1000.0).round() as i64;
    let (int, frac) = (milli / 1000, (milli % 1000).abs());
    let sign = if milli < 0 && int == 0 { "-" } else { "" };
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let digits = format!("{frac:03}");
        format!("{sign}{int}.{}", digits.trim_end_matches('0'))
    }
}

impl RetryConfig {
    fn to_json(&self) -> String {
        format!(
            r#"{{"maxNumRetry":{},"retryDelayMs":{},"maxRetryDelayMs":{}}}"#,
            self.max_num_retry, self.retry_delay_ms, self.max_retry_delay_ms
        )
    }
}

impl LoadPolicy {
    fn to_json(&self) -> String {
        let d = &self.default;
        format!(
            r#"{{"default":{{"maxTimeToFirstByteMs":{},"maxLoadTimeMs":{},"timeoutRetry":{},"errorRetry":{}}}}}"#,
            d.max_time_to_first_byte_ms,
            d.max_load_time_ms,
            d.timeout_retry.to_json(),
            d.error_retry.to_json()
        )
    }
}

impl HlsConfig {
    /// The hls.js config object as JSON, written by hand so that the player
    /// needs neither a JSON serialiser nor serde-wasm-bindgen (size budget).
    /// The tests check it against serde's output for the same struct.
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                r#"{{"debug":{},"enableWorker":{},"lowLatencyMode":{},"liveSyncDuration":{},"#,
                r#""liveMaxLatencyDuration":{},"maxLiveSyncPlaybackRate":{},"liveDurationInfinity":{},"#,
                r#""backBufferLength":{},"maxBufferLength":{},"liveMaxUnchangedPlaylistRefresh":{},"#,
                r#""manifestLoadPolicy":{},"playlistLoadPolicy":{},"fragLoadPolicy":{}}}"#
            ),
            self.debug,
            self.enable_worker,
            self.low_latency_mode,
            num(self.live_sync_duration),
            num(self.live_max_latency_duration),
            num(self.max_live_sync_playback_rate),
            self.live_duration_infinity,
            num(self.back_buffer_length),
            num(self.max_buffer_length),
            self.live_max_unchanged_playlist_refresh,
            self.manifest_load_policy.to_json(),
            self.playlist_load_policy.to_json(),
            self.frag_load_policy.to_json(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_hls_errors() {
        use PlaybackIssue::*;
        let cases = [
            (
                "networkError",
                "manifestLoadError",
                true,
                HlsError::Fatal(NotPlayable),
            ),
            (
                "networkError",
                "manifestParsingError",
                true,
                HlsError::Fatal(NotPlayable),
            ),
            (
                "networkError",
                "manifestLoadTimeOut",
                true,
                HlsError::Fatal(NotPlayable),
            ),
            (
                "networkError",
                "levelEmptyError",
                true,
                HlsError::Fatal(NotPlayable),
            ),
            (
                "networkError",
                "fragLoadError",
                true,
                HlsError::Fatal(Network),
            ),
            (
                "networkError",
                "levelLoadError",
                true,
                HlsError::Fatal(Network),
            ),
            (
                "mediaError",
                "bufferAppendError",
                true,
                HlsError::Fatal(Media),
            ),
            (
                "mediaError",
                "bufferStalledError",
                true,
                HlsError::Fatal(Media),
            ),
            (
                "otherError",
                "internalException",
                true,
                HlsError::Fatal(Other),
            ),
            ("mediaError", "bufferStalledError", false, HlsError::Stalled),
            ("networkError", "fragLoadError", false, HlsError::Transient),
        ];
        for (kind, details, fatal, want) in cases {
            assert_eq!(
                classify(kind, details, fatal),
                want,
                "{kind} {details} {fatal}"
            );
        }
    }

    #[test]
    fn serialises_to_hlsjs_option_names() {
        let json = serde_json::to_value(HlsConfig::live()).unwrap();
        let obj = json.as_object().unwrap();
        for key in [
            "liveSyncDuration",
            "liveMaxLatencyDuration",
            "maxLiveSyncPlaybackRate",
            "liveDurationInfinity",
            "backBufferLength",
            "liveMaxUnchangedPlaylistRefresh",
            "manifestLoadPolicy",
        ] {
            assert!(obj.contains_key(key), "{key}");
        }
        // hls.js throws when *Count options are mixed with the seconds ones.
        assert!(obj.keys().all(|k| !k.ends_with("Count")), "{obj:?}");
        let p = &json["manifestLoadPolicy"]["default"];
        assert_eq!(p["maxTimeToFirstByteMs"], 8_000);
        assert_eq!(p["errorRetry"]["maxNumRetry"], 1);
    }

    #[test]
    fn hand_written_json_equals_serde() {
        for config in [HlsConfig::live(), HlsConfig::vod()] {
            // Numbers compared as f64: 30 and 30.0 are the same to JS.
            fn norm(v: serde_json::Value) -> serde_json::Value {
                use serde_json::Value;
                match v {
                    Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
                    Value::Object(m) => {
                        Value::Object(m.into_iter().map(|(k, v)| (k, norm(v))).collect())
                    }
                    other => other,
                }
            }
            let ours: serde_json::Value = serde_json::from_str(&config.to_json()).unwrap();
            assert_eq!(norm(ours), norm(serde_json::to_value(&config).unwrap()));
        }
        for (v, want) in [
            (6.0, "6"),
            (1.5, "1.5"),
            (0.25, "0.25"),
            (-2.0, "-2"),
            (-0.5, "-0.5"),
            (12.125, "12.125"),
        ] {
            assert_eq!(num(v), want);
        }
    }

    #[test]
    fn the_watch_page_loader_starts_hlsjs_with_the_players_config() {
        // index.html's loader starts hls.js before the wasm runs, with the
        // JSON block `jlp-hls-live`; the player adopts that instance. The
        // benchmarks' bare hls.js pages read the same block
        // (bench/hls-config.mjs).
        let html = include_str!("../../index.html");
        let (_, rest) = html.split_once(r#"id="jlp-hls-live">"#).unwrap();
        let (block, _) = rest.split_once("</script>").unwrap();
        let page: serde_json::Value = serde_json::from_str(block).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&HlsConfig::live().to_json()).unwrap();
        assert_eq!(page, ours);
    }

    #[test]
    fn live_settings_are_bounded_and_consistent() {
        let c = HlsConfig::live();
        assert!(c.back_buffer_length.is_finite() && c.back_buffer_length <= 60.0);
        assert!(c.live_max_latency_duration > c.live_sync_duration);
        assert!((1.0..=2.0).contains(&c.max_live_sync_playback_rate));
        assert!(!HlsConfig::vod().live_duration_infinity);
    }
}
