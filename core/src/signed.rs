//! Private broadcasts: signed delivery URLs. A live input created with
//! `requireSignedURLs` plays only with a signed token in place of its uid
//! (`<base>/<token>/manifest/video.m3u8`), and tokens expire. With a
//! `tokenUrl`, the player asks our backend for one (`POST`, the viewer's
//! Jitsi token as `Authorization: Bearer` when it has one) before its first
//! lifecycle request, and for a fresh one well before it expires.
//!
//! [`Access`] decides, from the answers, which token is current, when to ask
//! again and what the viewer is told when none can be had. Time and
//! randomness come in as arguments: every rule here is tested natively.

use crate::config::Source;
use crate::json::{JsonObject, Malformed};
use crate::machine::{ErrorCode, FetchError, Notice};
use crate::policy::{Backoff, RetryConfig, ORIGIN_RETRY};
use std::fmt;

/// The longest lifetime believed: Cloudflare's own limit for a signed token.
pub const MAX_TTL_S: f64 = 86_400.0;
/// A fresh token is asked for at 80 % of the last one's lifetime ± 5 % of
/// it, so that viewers who opened together (a meeting's start) do not come
/// back together ([`refresh_delay`]), never later than this before it expires (room for a slow answer and
/// a retry)...
pub const REFRESH_MARGIN_MS: u64 = 10_000;
/// ...and never sooner than this after the answer (a backend handing out
/// very short tokens must not be hammered).
pub const REFRESH_FLOOR_MS: u64 = 5_000;
/// A token asked for this recently is not asked for again because a
/// delivery request was refused: the refusal is about something else (a
/// token for another input), and asking again would loop.
pub const REFUSAL_REFETCH_AFTER_MS: u64 = 10_000;

/// Retries of a refresh that failed while the token in use still works:
/// quick, since it will expire: 1 s, 2 s, 4 s, then every 8 s.
pub const REFRESH_RETRY: RetryConfig = RetryConfig {
    delay_ms: 1_000,
    max_delay_ms: 8_000,
    backoff: Backoff::Exponential,
    jitter: 0.2,
};

/// The token service's answer: `{"token", "sub", "ttl", ...}`. `sub` is
/// the uid the token plays: a signed token *is* the uid to Cloudflare, so
/// a token for another room's input would play that room; the player
/// checks `sub` against its own source ([`Access::on_answer`]). `exp` is
/// not read: the client's clock is not trusted against the server's, so
/// the lifetime counts from the answer's arrival.
#[derive(Clone, PartialEq)]
pub struct TokenAnswer {
    pub token: String,
    pub sub: String,
    pub ttl_ms: u64,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenAnswer {{ token: …, sub: {}, ttl_ms: {} }}",
            self.sub, self.ttl_ms
        )
    }
}

/// The body of the token request: `{}` for a live input, `{"video":
/// "<uid>"}` for one video (uids are `[A-Za-z0-9_-]`: nothing to escape).
pub fn request_body(source: &Source) -> String {
    match source {
        Source::Input(_) => "{}".into(),
        Source::Video(uid) => format!("{{\"video\":\"{uid}\"}}"),
    }
}

/// Reads the answer; a token that could not stand in a URL path, or a
/// lifetime that is not a positive number, is malformed. Bounded: a token
/// up to 4096 characters, a lifetime up to [`MAX_TTL_S`].
pub fn token_answer(obj: &impl JsonObject) -> Result<TokenAnswer, Malformed> {
    let token = obj
        .string("token")
        .filter(|t| crate::config::is_token(t))
        .ok_or(Malformed)?;
    let sub = obj
        .string("sub")
        .filter(|s| crate::config::is_uid(s))
        .ok_or(Malformed)?;
    let ttl = obj
        .number("ttl")
        .filter(|t| t.is_finite() && *t >= 1.0)
        .ok_or(Malformed)?;
    Ok(TokenAnswer {
        token,
        sub,
        ttl_ms: (ttl.min(MAX_TTL_S) * 1_000.0) as u64,
    })
}

/// How long after an answer with lifetime `ttl_ms` to ask for the next:
/// 80 % of it ± 5 %, at most `ttl −`
/// [`REFRESH_MARGIN_MS`], at least [`REFRESH_FLOOR_MS`] (the floor wins
/// over the margin for tokens too short for both).
pub fn refresh_delay(ttl_ms: u64, rand01: f64) -> u64 {
    // Whole milliseconds: 80 % − 5 % + up to 10 % of the lifetime.
    let spread = ttl_ms / 10;
    let at = ttl_ms / 4 * 3 + (spread as f64 * rand01.clamp(0.0, 1.0)) as u64;
    let latest = ttl_ms.saturating_sub(REFRESH_MARGIN_MS);
    at.min(latest).max(REFRESH_FLOOR_MS)
}

/// What the viewer is told when no token can be had: refused (the link
/// does not give access; the code hosts see is `forbidden`), not found, or
/// the service failing (retrying).
pub fn refusal(error: &FetchError, video: bool) -> (ErrorCode, Notice) {
    match error {
        FetchError::Status(401 | 403) => (ErrorCode::Forbidden, Notice::Private),
        FetchError::Status(404) if video => (ErrorCode::NotFound, Notice::VideoNotFound),
        FetchError::Status(404) => (ErrorCode::NotFound, Notice::InputNotFound),
        FetchError::RateLimited { .. } => (ErrorCode::RateLimited, Notice::AccessUnavailable),
        FetchError::Timeout => (ErrorCode::Timeout, Notice::AccessUnavailable),
        FetchError::Malformed => (ErrorCode::Malformed, Notice::AccessUnavailable),
        FetchError::Status(_) | FetchError::Network => {
            (ErrorCode::Network, Notice::AccessUnavailable)
        }
    }
}

/// What one answer of the token service means for the player.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// A new token to use from now on in every delivery URL.
    pub token: Option<String>,
    /// This is the first token (or the first after a time without one):
    /// lifecycle may be asked now.
    pub first: bool,
    /// Ask the token service again in this long.
    pub next_in_ms: u64,
    /// No usable token: tell the viewer this.
    pub failure: Option<(ErrorCode, Notice)>,
}

/// The token state of one player.
#[derive(Debug, Clone, Default)]
pub struct Access {
    token: Option<String>,
    /// When the current token arrived, and how long it lives from then.
    received_ms: u64,
    ttl_ms: u64,
    /// When the next request is due (for a tab that slept past it).
    due_ms: u64,
    failures: u32,
    /// When the last answer came.
    answered_ms: Option<u64>,
}

impl Access {
    /// The token to use, while it has not expired.
    pub fn token(&self, now_ms: u64) -> Option<&str> {
        self.token
            .as_deref()
            .filter(|_| now_ms < self.received_ms.saturating_add(self.ttl_ms))
    }

    /// Whether a token was had at all (expired or not): lifecycle and
    /// views are never asked with the bare uid before the first.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether a refused delivery request (401/403) calls for a new token
    /// now: not when the service just answered (see [`REFUSAL_REFETCH_AFTER_MS`]).
    pub fn refetch_on_refusal(&self, now_ms: u64) -> bool {
        self.answered_ms
            .is_none_or(|t| now_ms >= t.saturating_add(REFUSAL_REFETCH_AFTER_MS))
    }

    /// Whether the next request is overdue (timers of a hidden tab are
    /// throttled): ask at once when the page shows again.
    pub fn overdue(&self, now_ms: u64) -> bool {
        self.token.is_some() && now_ms >= self.due_ms
    }

    /// How long until the next request is due (0: overdue).
    pub fn due_in(&self, now_ms: u64) -> u64 {
        self.due_ms.saturating_sub(now_ms)
    }

    /// The answer to the last request for `source`. A token for another
    /// uid (another room's `tokenUrl`) is refused as the service would
    /// refuse this viewer: it would play the wrong broadcast.
    pub fn on_answer(
        &mut self,
        answer: Result<TokenAnswer, FetchError>,
        source: &Source,
        now_ms: u64,
        rand01: f64,
    ) -> Step {
        let video = matches!(source, Source::Video(_));
        let answer = answer.and_then(|a| {
            if a.sub == source.uid() {
                Ok(a)
            } else {
                Err(FetchError::Status(403))
            }
        });
        self.answered_ms = Some(now_ms);
        let step = match answer {
            Ok(answer) => {
                let first = self.token(now_ms).is_none();
                self.failures = 0;
                self.received_ms = now_ms;
                self.ttl_ms = answer.ttl_ms;
                self.token = Some(answer.token.clone());
                Step {
                    token: Some(answer.token),
                    first,
                    next_in_ms: refresh_delay(answer.ttl_ms, rand01),
                    failure: None,
                }
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                let retry = self.failures - 1;
                let retry_after = match error {
                    FetchError::RateLimited { retry_after_ms } => retry_after_ms.unwrap_or(0),
                    _ => 0,
                };
                // The token in use still works: quietly, and quickly,
                // before it expires. Nothing to play with: say so, and ask
                // as a failing origin is asked (2 s … 60 s; a refusal will
                // not change by asking fast).
                let (retries, failure) = match self.token(now_ms) {
                    Some(_) => (REFRESH_RETRY, None),
                    None => (ORIGIN_RETRY, Some(refusal(&error, video))),
                };
                Step {
                    token: None,
                    first: false,
                    next_in_ms: retries.jittered(retry, rand01).max(retry_after),
                    failure,
                }
            }
        };
        self.due_ms = now_ms.saturating_add(step.next_in_ms);
        step
    }
}

/// `url` with the path segment after `prefix` (the uid or an older token)
/// replaced by `token`; `None` when `url` is not a delivery URL under
/// `prefix`. hls.js's loader does the same in `hls_loader.js` for every
/// playlist and segment it requests.
pub fn swap_token(url: &str, prefix: &str, token: &str) -> Option<String> {
    // split_once, not slicing: a slice could panic, and its message would
    // bring the formatting of chars into the wasm (~4 KB).
    let (_, path) = url.strip_prefix(prefix)?.split_once('/')?;
    Some(format!("{prefix}{token}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_answer_bounded() {
        let ok = |token: &str, ttl_ms| {
            Ok(TokenAnswer {
                token: token.into(),
                sub: "in".into(),
                ttl_ms,
            })
        };
        let long = "a".repeat(4097);
        let cases = [
            (
                json!({"token": "h.p.s", "input": "in", "sub": "in", "exp": 1, "ttl": 60, "private": true}),
                ok("h.p.s", 60_000),
            ),
            (
                json!({"token": "h.p.s", "sub": "in", "ttl": 1.5}),
                ok("h.p.s", 1_500),
            ),
            // A day at most, whatever the answer says.
            (
                json!({"token": "t", "sub": "in", "ttl": 1e12}),
                ok("t", 86_400_000),
            ),
            (json!({"token": "t", "sub": "in", "ttl": 0}), Err(Malformed)),
            (
                json!({"token": "t", "sub": "in", "ttl": -5}),
                Err(Malformed),
            ),
            (
                json!({"token": "t", "sub": "in", "ttl": "60"}),
                Err(Malformed),
            ),
            (json!({"token": "t", "sub": "in"}), Err(Malformed)),
            (json!({"sub": "in", "ttl": 60}), Err(Malformed)),
            // What it plays must be said, as a uid.
            (json!({"token": "t", "ttl": 60}), Err(Malformed)),
            (
                json!({"token": "t", "sub": "../in", "ttl": 60}),
                Err(Malformed),
            ),
            // Must stand in a URL path as it is.
            (
                json!({"token": "../x", "sub": "in", "ttl": 60}),
                Err(Malformed),
            ),
            (
                json!({"token": "a b", "sub": "in", "ttl": 60}),
                Err(Malformed),
            ),
            (json!({"token": "", "sub": "in", "ttl": 60}), Err(Malformed)),
            (
                json!({"token": long, "sub": "in", "ttl": 60}),
                Err(Malformed),
            ),
            (json!([]), Err(Malformed)),
        ];
        for (value, want) in cases {
            assert_eq!(token_answer(&value), want, "{value}");
        }
        // The token never shows in a log line.
        let a = token_answer(&json!({"token": "secret.part.sig", "sub": "in", "ttl": 60})).unwrap();
        assert!(!format!("{a:?}").contains("secret"));
    }

    #[test]
    fn refreshes_at_eighty_percent_with_jitter_within_bounds() {
        // (ttl, rand01, delay)
        let table = [
            (3_600_000, 0.5, 2_880_000),
            (3_600_000, 0.0, 2_700_000),
            (3_600_000, 1.0, 3_060_000),
            // 60 s: 48 s ± 3 s, but never later than 50 s.
            (60_000, 0.5, 48_000),
            (60_000, 0.0, 45_000),
            (60_000, 1.0, 50_000),
            // 20 s: 16 s would leave 4 s: at most 10 s.
            (20_000, 0.5, 10_000),
            // Too short for the margin: the floor.
            (8_000, 0.5, REFRESH_FLOOR_MS),
            (1_000, 0.5, REFRESH_FLOOR_MS),
        ];
        for (ttl, r, want) in table {
            assert_eq!(refresh_delay(ttl, r), want, "ttl {ttl} r {r}");
        }
        for ttl in [1_000, 15_000, 60_000, 600_000, 86_400_000] {
            for i in 0..=20 {
                let d = refresh_delay(ttl, i as f64 / 20.0);
                assert!(d >= REFRESH_FLOOR_MS, "{ttl}");
                assert!(
                    d <= ttl.saturating_sub(REFRESH_MARGIN_MS).max(REFRESH_FLOOR_MS),
                    "{ttl}"
                );
            }
        }
    }

    #[test]
    fn refusals_have_codes_and_words() {
        use ErrorCode as C;
        use Notice as N;
        let table = [
            (FetchError::Status(401), false, C::Forbidden, N::Private),
            (FetchError::Status(403), true, C::Forbidden, N::Private),
            (
                FetchError::Status(404),
                false,
                C::NotFound,
                N::InputNotFound,
            ),
            (FetchError::Status(404), true, C::NotFound, N::VideoNotFound),
            (
                FetchError::RateLimited {
                    retry_after_ms: Some(5_000),
                },
                false,
                C::RateLimited,
                N::AccessUnavailable,
            ),
            (FetchError::Timeout, false, C::Timeout, N::AccessUnavailable),
            (
                FetchError::Malformed,
                false,
                C::Malformed,
                N::AccessUnavailable,
            ),
            (
                FetchError::Status(503),
                false,
                C::Network,
                N::AccessUnavailable,
            ),
            (FetchError::Network, false, C::Network, N::AccessUnavailable),
        ];
        for (error, video, code, notice) in table {
            assert_eq!(refusal(&error, video), (code, notice), "{error:?}");
        }
        let private = crate::text::notice(Notice::Private).english();
        assert!(private.contains("private") && private.contains("invitation"));
    }

    fn answer(token: &str, ttl_ms: u64) -> Result<TokenAnswer, FetchError> {
        Ok(TokenAnswer {
            token: token.into(),
            sub: "in".into(),
            ttl_ms,
        })
    }
    fn input() -> Source {
        Source::Input("in".into())
    }

    #[test]
    fn access_case_table() {
        type Case = (
            &'static str,
            Vec<(u64, Result<TokenAnswer, FetchError>)>,
            Step,
        );
        let refused = || Err(FetchError::Status(401));
        let down = || Err(FetchError::Status(503));
        let cases: Vec<Case> = vec![
            (
                "first token: use it, lifecycle may start, refresh at 80 %",
                vec![(0, answer("t1", 60_000))],
                Step {
                    token: Some("t1".into()),
                    first: true,
                    next_in_ms: 48_000,
                    failure: None,
                },
            ),
            (
                "a refresh: the new token, not first",
                vec![(0, answer("t1", 60_000)), (48_000, answer("t2", 60_000))],
                Step {
                    token: Some("t2".into()),
                    first: false,
                    next_in_ms: 48_000,
                    failure: None,
                },
            ),
            (
                "refused before any token: the private words, slow retries",
                vec![(0, refused())],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 2_000,
                    failure: Some((ErrorCode::Forbidden, Notice::Private)),
                },
            ),
            (
                "refused again: backs off",
                vec![(0, refused()), (2_000, refused()), (6_000, refused())],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 8_000,
                    failure: Some((ErrorCode::Forbidden, Notice::Private)),
                },
            ),
            (
                "a refresh fails while the token works: quiet, quick retries",
                vec![
                    (0, answer("t1", 60_000)),
                    (48_000, down()),
                    (49_000, down()),
                ],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 2_000,
                    failure: None,
                },
            ),
            (
                "the token expired meanwhile: now the viewer is told",
                vec![
                    (0, answer("t1", 60_000)),
                    (48_000, down()),
                    (60_000, down()),
                ],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 4_000,
                    failure: Some((ErrorCode::Network, Notice::AccessUnavailable)),
                },
            ),
            (
                "a token after an expired one starts lifecycle again",
                vec![
                    (0, answer("t1", 60_000)),
                    (61_000, down()),
                    (63_000, answer("t2", 60_000)),
                ],
                Step {
                    token: Some("t2".into()),
                    first: true,
                    next_in_ms: 48_000,
                    failure: None,
                },
            ),
            (
                "a token for another uid (room A's tokenUrl on room B's page): refused",
                vec![(
                    0,
                    Ok(TokenAnswer {
                        token: "tA".into(),
                        sub: "roomA".into(),
                        ttl_ms: 60_000,
                    }),
                )],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 2_000,
                    failure: Some((ErrorCode::Forbidden, Notice::Private)),
                },
            ),
            (
                "a 429's Retry-After is a floor",
                vec![(
                    0,
                    Err(FetchError::RateLimited {
                        retry_after_ms: Some(30_000),
                    }),
                )],
                Step {
                    token: None,
                    first: false,
                    next_in_ms: 30_000,
                    failure: Some((ErrorCode::RateLimited, Notice::AccessUnavailable)),
                },
            ),
        ];
        for (what, answers, want) in cases {
            let mut access = Access::default();
            let mut last = None;
            for (t, a) in answers {
                last = Some(access.on_answer(a, &input(), t, 0.5));
            }
            assert_eq!(last.unwrap(), want, "{what}");
        }
    }

    #[test]
    fn token_lifetime_refetch_and_overdue() {
        let mut a = Access::default();
        assert!(!a.has_token() && a.token(0).is_none());
        assert!(a.refetch_on_refusal(0));
        a.on_answer(answer("t1", 60_000), &input(), 1_000, 0.5);
        assert_eq!(a.token(60_999), Some("t1"));
        assert_eq!(a.token(61_000), None, "expired");
        assert!(a.has_token());
        assert!(!a.refetch_on_refusal(10_999), "just asked: no loop");
        assert!(a.refetch_on_refusal(11_000));
        assert!(!a.overdue(48_999));
        assert!(a.overdue(49_000), "due at 1 s + 48 s");
    }

    #[test]
    fn asks_for_the_source() {
        assert_eq!(request_body(&input()), "{}");
        let body = request_body(&Source::Video("v-1_2".into()));
        assert_eq!(body, r#"{"video":"v-1_2"}"#);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["video"], "v-1_2");
        // A video's token must name that video.
        let mut a = Access::default();
        let step = a.on_answer(answer("t", 60_000), &Source::Video("v".into()), 0, 0.5);
        assert_eq!(step.failure, Some((ErrorCode::Forbidden, Notice::Private)));
    }

    #[test]
    fn swaps_the_id_segment_only() {
        let p = "https://c.example/";
        let table = [
            (
                "https://c.example/uid/manifest/video.m3u8",
                Some("https://c.example/NEW/manifest/video.m3u8"),
            ),
            (
                "https://c.example/old.tok.en/manifest/stream_1.m3u8?x=1",
                Some("https://c.example/NEW/manifest/stream_1.m3u8?x=1"),
            ),
            (
                "https://c.example/old/lifecycle",
                Some("https://c.example/NEW/lifecycle"),
            ),
            // Not under the delivery base, or no path after the id: untouched.
            ("https://other.example/uid/manifest/video.m3u8", None),
            ("https://c.example/uid", None),
        ];
        for (url, want) in table {
            assert_eq!(swap_token(url, p, "NEW").as_deref(), want, "{url}");
        }
    }
}
