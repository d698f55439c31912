//! The shared cache in front of the account API's videos lists: however
//! many viewers ask, at most one upstream call per input per TTL.
//!
//! - Fresh for `ttl`; then served stale while one background refresh runs
//!   (for `stale_while_revalidate` more); older still, requests wait for the
//!   refresh. Concurrent misses share one call (single flight).
//! - An upstream failure keeps the last good answer (stale-if-error) and
//!   holds calls for that input off for `failure_backoff`; a 429 holds off
//!   *every* call until its `Retry-After` (Cloudflare's limit is per token).
//! - A token bucket caps upstream calls overall (below Cloudflare's 1200 per
//!   5 minutes), keeping half of it for inputs already known.
//! - At most `max_inputs` inputs are kept; the least recently used goes.
//! - An input the account does not have (upstream 404) is remembered apart,
//!   for `missing_ttl` (a negative TTL), in a map of its own: made-up ids
//!   neither count as known (they never spend the half of the budget kept
//!   for real inputs) nor push real inputs out of the cache, and their
//!   rechecks take only the top quarter of the bucket ([`Need`]).
//!
//! The decisions are the pure [`decide`] and [`Budget`]; [`RecordingsCache`]
//! only applies them under one short lock.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stream_api::account::Video;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::account_client::{AccountClient, AccountError, MAX_RETRY_AFTER};
use crate::recordings::{self, Page, Rewrite};

/// Where the videos lists come from: the account API client, or a fake in tests.
pub trait Upstream: Send + Sync + 'static {
    fn videos(&self, input: &str) -> impl Future<Output = Result<Vec<Video>, AccountError>> + Send;
}

impl Upstream for AccountClient {
    fn videos(&self, input: &str) -> impl Future<Output = Result<Vec<Video>, AccountError>> + Send {
        self.list_videos(input)
    }
}

/// The overall upstream call budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSettings {
    /// Calls that may be made at once after a quiet time.
    pub burst: f64,
    /// Calls per second in the long run.
    pub per_second: f64,
}

impl Default for BudgetSettings {
    /// 200 + 3/s × 300 s = 1100 calls in any 5 minutes, under Cloudflare's 1200.
    fn default() -> Self {
        Self {
            burst: 200.0,
            per_second: 3.0,
        }
    }
}

/// How long a 404 from upstream is kept by default (at least the TTL).
pub const DEFAULT_MISSING_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub ttl: Duration,
    pub stale_while_revalidate: Duration,
    /// No new call for an input this long after a failed one.
    pub failure_backoff: Duration,
    pub max_inputs: usize,
    /// How long an input upstream answered 404 for is answered 404 without
    /// asking again (at most `max_inputs` of them are remembered); then it
    /// is asked again behind the 404, at the lowest priority.
    pub missing_ttl: Duration,
    pub budget: BudgetSettings,
    pub rewrite: Rewrite,
}

impl CacheSettings {
    /// The usual settings for a TTL: stale-while-revalidate 2 × ttl, failure
    /// backoff min(ttl, 5 s), missing inputs remembered for max(ttl, 60 s)
    /// (a made-up id hardly ever becomes real: Cloudflare's are random).
    pub fn with_ttl(ttl: Duration, max_inputs: usize, rewrite: Rewrite) -> Self {
        Self {
            ttl,
            stale_while_revalidate: ttl * 2,
            failure_backoff: ttl.min(Duration::from_secs(5)),
            max_inputs: max_inputs.max(1),
            missing_ttl: DEFAULT_MISSING_TTL.max(ttl),
            budget: BudgetSettings::default(),
            rewrite,
        }
    }
}

// ---- pure policy -------------------------------------------------------

/// What the cache knows about an input at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Age of the last good answer, if any.
    pub age: Option<Duration>,
    /// How long upstream calls for it are still held off (rate limit or a
    /// recent failure), if they are.
    pub held_for: Option<Duration>,
    /// The copy lists something processing: once past its TTL it is not
    /// served stale while calls are allowed, the request joins the refresh
    /// (still one call per TTL), so a recording ready meanwhile shows now.
    pub settling: bool,
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Serve the copy.
    Fresh,
    /// Serve the copy as stale; start a background refresh if `refresh`.
    Stale { refresh: bool },
    /// Wait for a refresh (joining one that runs); on failure, any copy.
    Wait,
    /// No copy and calls are held off: fail now.
    Fail,
}

pub fn decide(v: View, ttl: Duration, stale_while_revalidate: Duration) -> Decision {
    match (v.age, v.held_for) {
        (Some(age), _) if age < ttl => Decision::Fresh,
        (Some(_), Some(_)) => Decision::Stale { refresh: false },
        (Some(age), None) if age <= ttl + stale_while_revalidate && !v.settling => {
            Decision::Stale { refresh: true }
        }
        (Some(_), None) | (None, None) => Decision::Wait,
        (None, Some(_)) => Decision::Fail,
    }
}

/// Who asks for an upstream call, and so how deep into the bucket it may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// An input with a list: the whole bucket.
    Known,
    /// An input never asked about: down to half.
    New,
    /// Asking again about an input upstream said it does not have (a
    /// made-up id, most likely): the top quarter only, so rechecks never
    /// starve a new real input.
    Recheck,
}

/// A token bucket over upstream calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    settings: BudgetSettings,
    tokens: f64,
    at: Instant,
}

impl Budget {
    pub fn new(settings: BudgetSettings, now: Instant) -> Self {
        Self {
            settings,
            tokens: settings.burst,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.settings.per_second).min(self.settings.burst);
        self.at = now;
    }

    /// Takes one call. A call for an input not yet known (`known == false`)
    /// may not dig into the half of the bucket kept for known inputs. On
    /// refusal, how long until it would be allowed.
    pub fn take(&mut self, now: Instant, known: bool) -> Result<(), Duration> {
        self.take_for(now, if known { Need::Known } else { Need::New })
    }

    /// Takes one call for `need`, down to its floor (see [`Need`]).
    pub fn take_for(&mut self, now: Instant, need: Need) -> Result<(), Duration> {
        self.refill(now);
        let floor = match need {
            Need::Known => 0.0,
            Need::New => self.settings.burst / 2.0,
            Need::Recheck => self.settings.burst * 3.0 / 4.0,
        };
        if self.tokens >= floor + 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let missing = floor + 1.0 - self.tokens;
            let rate = self.settings.per_second.max(1e-6);
            Err(Duration::from_secs_f64((missing / rate).min(3600.0)))
        }
    }
}

// ---- the cache -----------------------------------------------------------

/// An answer for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The list (`stale` when served past its TTL).
    Found { page: Arc<Page>, stale: bool },
    /// The account has no such input.
    Missing,
    /// No list to give: 503 + `Retry-After` when `retry_after`, else 502.
    Unavailable {
        retry_after: Option<Duration>,
        reason: String,
    },
}

#[derive(Debug, Clone)]
enum Copy {
    Found(Arc<Page>),
    Missing,
}

impl Copy {
    fn answer(&self, stale: bool) -> Answer {
        match self {
            Copy::Found(page) => Answer::Found {
                page: Arc::clone(page),
                stale,
            },
            Copy::Missing => Answer::Missing,
        }
    }
}

struct Flight {
    id: u64,
    rx: watch::Receiver<Option<Answer>>,
}

struct Entry {
    copy: Option<(Copy, Instant)>,
    /// The last failure since the copy, and until when calls are held off.
    failure: Option<(String, Instant)>,
    flight: Option<Flight>,
    used: u64,
}

struct Inner {
    entries: HashMap<String, Entry>,
    /// Inputs upstream answered 404 for, and when.
    missing: HashMap<String, Instant>,
    budget: Budget,
    /// After a 429: no call at all before this.
    limited_until: Option<Instant>,
    tick: u64,
    next_flight: u64,
}

/// Counters for `/control/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// Requests answered by the cache.
    pub requests: u64,
    /// Of which served past their TTL.
    pub stale: u64,
    /// Of which answered 502/503.
    pub unavailable: u64,
    /// Upstream calls the cache made.
    pub upstream_calls: u64,
    /// Of which failed.
    pub upstream_failures: u64,
    /// Inputs held now.
    pub inputs: u64,
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    stale: AtomicU64,
    unavailable: AtomicU64,
    upstream_calls: AtomicU64,
    upstream_failures: AtomicU64,
}

pub struct RecordingsCache<U: Upstream> {
    upstream: Arc<U>,
    settings: CacheSettings,
    inner: Mutex<Inner>,
    counts: Counts,
}

/// Clears a flight whose task ended without settling it (panic or abort),
/// so the next request starts a new one rather than waiting on a dead one.
struct FlightGuard<U: Upstream> {
    cache: Arc<RecordingsCache<U>>,
    input: String,
    id: u64,
}

impl<U: Upstream> Drop for FlightGuard<U> {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        if let Some(e) = inner.entries.get_mut(&self.input) {
            if e.flight.as_ref().is_some_and(|f| f.id == self.id) {
                e.flight = None;
            }
        }
    }
}

enum Step {
    Done(Answer),
    Wait(watch::Receiver<Option<Answer>>),
}

impl<U: Upstream> RecordingsCache<U> {
    pub fn new(upstream: Arc<U>, settings: CacheSettings) -> Arc<Self> {
        Arc::new(Self {
            upstream,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                missing: HashMap::new(),
                budget: Budget::new(settings.budget, Instant::now()),
                limited_until: None,
                tick: 0,
                next_flight: 0,
            }),
            settings,
            counts: Counts::default(),
        })
    }

    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn stats(&self) -> CacheStats {
        let c = &self.counts;
        CacheStats {
            requests: c.requests.load(Ordering::Relaxed),
            stale: c.stale.load(Ordering::Relaxed),
            unavailable: c.unavailable.load(Ordering::Relaxed),
            upstream_calls: c.upstream_calls.load(Ordering::Relaxed),
            upstream_failures: c.upstream_failures.load(Ordering::Relaxed),
            inputs: self.lock().entries.len() as u64,
        }
    }

    pub fn reset_stats(&self) {
        let c = &self.counts;
        for n in [
            &c.requests,
            &c.stale,
            &c.unavailable,
            &c.upstream_calls,
            &c.upstream_failures,
        ] {
            n.store(0, Ordering::Relaxed);
        }
    }

    /// The list of `input`'s recordings, from the cache or one upstream call.
    pub async fn get(self: &Arc<Self>, input: &str) -> Answer {
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        let (step, launch) = self.plan(input, Instant::now());
        if let Some((id, tx)) = launch {
            tokio::spawn(Arc::clone(self).fly(input.to_string(), id, tx));
        }
        let answer = match step {
            Step::Done(a) => a,
            Step::Wait(mut rx) => match rx.wait_for(Option::is_some).await {
                Ok(a) => a.clone().unwrap_or_else(lost),
                Err(_) => lost(),
            },
        };
        match &answer {
            Answer::Found { stale: true, .. } => {
                self.counts.stale.fetch_add(1, Ordering::Relaxed);
            }
            Answer::Unavailable { .. } => {
                self.counts.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        answer
    }

    /// Decides under the lock; a flight to launch comes back with its sender.
    #[allow(clippy::type_complexity)]
    fn plan(
        &self,
        input: &str,
        now: Instant,
    ) -> (Step, Option<(u64, watch::Sender<Option<Answer>>)>) {
        let s = &self.settings;
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.tick += 1;
        let tick = inner.tick;
        let limited = inner.limited_until.filter(|t| *t > now);
        // A 404 noted: answered as is; past its TTL one recheck runs behind
        // it, at the lowest priority, and the note stands until it settles.
        if let Some(at) = inner.missing.get(input).copied() {
            let expired = now.saturating_duration_since(at) >= s.missing_ttl;
            let running = inner.entries.get(input).is_some_and(|e| e.flight.is_some());
            let launch = (expired
                && !running
                && limited.is_none()
                && inner.budget.take_for(now, Need::Recheck).is_ok())
            .then(|| self.start_flight(inner, input, tick));
            return (
                Step::Done(Answer::Missing),
                launch.map(|(id, tx, _)| (id, tx)),
            );
        }
        let (view, known) = match inner.entries.get_mut(input) {
            Some(e) => {
                e.used = tick;
                let held = [limited, e.failure.as_ref().map(|(_, t)| *t)]
                    .into_iter()
                    .flatten()
                    .filter(|t| *t > now)
                    .max();
                let view = View {
                    age: e
                        .copy
                        .as_ref()
                        .map(|(_, at)| now.saturating_duration_since(*at)),
                    held_for: held.map(|t| t - now),
                    settling: matches!(&e.copy, Some((Copy::Found(p), _)) if p.settling),
                };
                // Only a list makes an input known: a 404 is not one.
                let known = matches!(e.copy, Some((Copy::Found(_), _)));
                (view, known)
            }
            None => (
                View {
                    age: None,
                    held_for: limited.map(|t| t - now),
                    settling: false,
                },
                false,
            ),
        };
        let copy_answer = |inner: &Inner, stale: bool| {
            inner
                .entries
                .get(input)
                .and_then(|e| e.copy.as_ref())
                .map(|(c, _)| c.answer(stale))
        };
        match decide(view, s.ttl, s.stale_while_revalidate) {
            Decision::Fresh => (
                Step::Done(copy_answer(inner, false).unwrap_or_else(lost)),
                None,
            ),
            Decision::Stale { refresh } => {
                let running = inner.entries.get(input).is_some_and(|e| e.flight.is_some());
                let launch = if refresh && !running && inner.budget.take(now, known).is_ok() {
                    Some(self.start_flight(inner, input, tick))
                } else {
                    None
                };
                let answer = copy_answer(inner, true).unwrap_or_else(lost);
                (Step::Done(answer), launch.map(|(id, tx, _)| (id, tx)))
            }
            Decision::Wait => {
                if let Some(f) = inner.entries.get(input).and_then(|e| e.flight.as_ref()) {
                    return (Step::Wait(f.rx.clone()), None);
                }
                match inner.budget.take(now, known) {
                    Ok(()) => {
                        let (id, tx, rx) = self.start_flight(inner, input, tick);
                        (Step::Wait(rx), Some((id, tx)))
                    }
                    Err(wait) => {
                        let answer = copy_answer(inner, true).unwrap_or(Answer::Unavailable {
                            retry_after: Some(wait.max(Duration::from_secs(1))),
                            reason: "too many recordings lookups right now".into(),
                        });
                        (Step::Done(answer), None)
                    }
                }
            }
            Decision::Fail => {
                let held = view
                    .held_for
                    .unwrap_or_default()
                    .max(Duration::from_secs(1));
                let reason = inner
                    .entries
                    .get(input)
                    .and_then(|e| e.failure.as_ref())
                    .map(|(r, _)| r.clone());
                let answer = match (limited, reason) {
                    (None, Some(reason)) => Answer::Unavailable {
                        retry_after: None,
                        reason,
                    },
                    _ => Answer::Unavailable {
                        retry_after: Some(held),
                        reason: "the Cloudflare API is rate limiting us".into(),
                    },
                };
                (Step::Done(answer), None)
            }
        }
    }

    /// Registers a flight for `input` (inserting the entry, evicting the
    /// least recently used one when full).
    fn start_flight(
        &self,
        inner: &mut Inner,
        input: &str,
        tick: u64,
    ) -> (
        u64,
        watch::Sender<Option<Answer>>,
        watch::Receiver<Option<Answer>>,
    ) {
        inner.next_flight += 1;
        let id = inner.next_flight;
        let (tx, rx) = watch::channel(None);
        if !inner.entries.contains_key(input) {
            if inner.entries.len() >= self.settings.max_inputs {
                let victim = inner
                    .entries
                    .iter()
                    .filter(|(_, e)| e.flight.is_none())
                    .min_by_key(|(_, e)| e.used)
                    .map(|(k, _)| k.clone());
                if let Some(v) = victim {
                    inner.entries.remove(&v);
                }
            }
            inner.entries.insert(
                input.to_string(),
                Entry {
                    copy: None,
                    failure: None,
                    flight: None,
                    used: tick,
                },
            );
        }
        if let Some(e) = inner.entries.get_mut(input) {
            e.flight = Some(Flight { id, rx: rx.clone() });
        }
        (id, tx, rx)
    }

    /// One upstream call; its answer is stored and handed to every waiter.
    async fn fly(self: Arc<Self>, input: String, id: u64, tx: watch::Sender<Option<Answer>>) {
        let _guard = FlightGuard {
            cache: Arc::clone(&self),
            input: input.clone(),
            id,
        };
        self.counts.upstream_calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(input = %input, "recordings: asking the account API");
        let result = self.upstream.videos(&input).await;
        let answer = self.settle(&input, id, result, Instant::now());
        let _ = tx.send(Some(answer));
    }

    fn settle(
        &self,
        input: &str,
        id: u64,
        result: Result<Vec<Video>, AccountError>,
        now: Instant,
    ) -> Answer {
        let fresh = match result {
            Ok(videos) => Ok(Copy::Found(Arc::new(recordings::page_of(
                input,
                videos,
                &self.settings.rewrite,
            )))),
            Err(AccountError::NotFound { .. }) => Ok(Copy::Missing),
            Err(e) => Err(e),
        };
        let mut guard = self.lock();
        let inner = &mut *guard;
        let entry = inner
            .entries
            .get_mut(input)
            .filter(|e| e.flight.as_ref().is_some_and(|f| f.id == id));
        match (fresh, entry) {
            (Ok(Copy::Missing), entry) => {
                if entry.is_some() {
                    inner.entries.remove(input);
                }
                remember_missing(inner, input, now, self.settings.max_inputs);
                Answer::Missing
            }
            (Ok(copy), Some(e)) => {
                // An input that was missing exists now (the stand-in
                // restarted and it was created again).
                inner.missing.remove(input);
                e.flight = None;
                e.failure = None;
                let answer = copy.answer(false);
                e.copy = Some((copy, now));
                answer
            }
            // Evicted meanwhile: answer without keeping it.
            (Ok(copy), None) => copy.answer(false),
            (Err(err), entry) => {
                self.counts
                    .upstream_failures
                    .fetch_add(1, Ordering::Relaxed);
                let reason = format!("cannot list recordings: {err}");
                let retry_after = match err {
                    AccountError::RateLimited { retry_after } => {
                        // Clamped again here: any `Upstream` may say anything,
                        // and an `Instant` overflow would panic under the lock.
                        let retry_after = retry_after.min(MAX_RETRY_AFTER);
                        let until = now.checked_add(retry_after).unwrap_or(now);
                        inner.limited_until =
                            Some(inner.limited_until.map_or(until, |t| t.max(until)));
                        tracing::warn!(input = %input, retry_after_s = retry_after.as_secs(), "recordings: rate limited by the account API");
                        Some(retry_after.max(Duration::from_secs(1)))
                    }
                    _ => {
                        tracing::warn!(input = %input, error = %err, "recordings: account API call failed");
                        None
                    }
                };
                match entry {
                    Some(e) => {
                        e.flight = None;
                        e.failure = Some((reason.clone(), now + self.settings.failure_backoff));
                        match &e.copy {
                            Some((c, _)) => c.answer(true),
                            None => Answer::Unavailable {
                                retry_after,
                                reason,
                            },
                        }
                    }
                    None => Answer::Unavailable {
                        retry_after,
                        reason,
                    },
                }
            }
        }
    }
}

/// Notes `input` as missing, dropping the oldest note when `cap` are held.
fn remember_missing(inner: &mut Inner, input: &str, now: Instant, cap: usize) {
    if inner.missing.len() >= cap && !inner.missing.contains_key(input) {
        // Oldest first: a flood of made-up ids replaces itself.
        let oldest = inner
            .missing
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            inner.missing.remove(&k);
        }
    }
    inner.missing.insert(input.to_string(), now);
}

fn lost() -> Answer {
    Answer::Unavailable {
        retry_after: None,
        reason: "the recordings lookup was interrupted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::VecDeque;

    const TTL: Duration = Duration::from_secs(15);

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn decisions() {
        let swr = s(30);
        let cases = [
            // (age, held, settling, want)
            (Some(0), None, false, Decision::Fresh),
            (Some(14), None, false, Decision::Fresh),
            (Some(14), None, true, Decision::Fresh),
            (Some(14), Some(100), false, Decision::Fresh),
            (Some(15), None, false, Decision::Stale { refresh: true }),
            (Some(45), None, false, Decision::Stale { refresh: true }),
            (Some(46), None, false, Decision::Wait),
            // A list about to change joins the refresh instead.
            (Some(15), None, true, Decision::Wait),
            // Unless calls are held off: then the copy is all there is.
            (Some(15), Some(5), true, Decision::Stale { refresh: false }),
            (Some(15), Some(5), false, Decision::Stale { refresh: false }),
            (
                Some(4000),
                Some(5),
                false,
                Decision::Stale { refresh: false },
            ),
            (None, None, false, Decision::Wait),
            (None, Some(5), false, Decision::Fail),
        ];
        for (age, held, settling, want) in cases {
            let v = View {
                age: age.map(s),
                held_for: held.map(s),
                settling,
            };
            assert_eq!(decide(v, TTL, swr), want, "{v:?}");
        }
    }

    #[test]
    fn budget_refills_and_keeps_half_for_known_inputs() {
        let t0 = Instant::now();
        let mut b = Budget::new(
            BudgetSettings {
                burst: 4.0,
                per_second: 1.0,
            },
            t0,
        );
        // Unknown inputs may take down to half.
        assert!(b.take(t0, false).is_ok());
        assert!(b.take(t0, false).is_ok());
        assert_eq!(b.take(t0, false), Err(s(1)));
        // Known ones take the rest.
        assert!(b.take(t0, true).is_ok());
        assert!(b.take(t0, true).is_ok());
        assert_eq!(b.take(t0, true), Err(s(1)));
        assert!(b.take(t0 + s(1), true).is_ok());
        // Refill stops at the burst.
        let later = t0 + s(1000);
        for _ in 0..4 {
            assert!(b.take(later, true).is_ok());
        }
        assert!(b.take(later, true).is_err());
    }

    /// Answers from a script (the last one repeats), after `delay`.
    struct Fake {
        calls: AtomicU64,
        delay: Duration,
        script: Mutex<VecDeque<Result<Vec<Video>, AccountError>>>,
    }

    impl Fake {
        fn new(delay: Duration, script: Vec<Result<Vec<Video>, AccountError>>) -> Arc<Self> {
            Arc::new(Self {
                calls: AtomicU64::new(0),
                delay,
                script: Mutex::new(script.into()),
            })
        }
        fn calls(&self) -> u64 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl Upstream for Fake {
        async fn videos(&self, _input: &str) -> Result<Vec<Video>, AccountError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            let mut q = self.script.lock().unwrap();
            if q.len() > 1 {
                q.pop_front().unwrap()
            } else {
                q.front().cloned().unwrap()
            }
        }
    }

    fn videos(uids: &[&str]) -> Result<Vec<Video>, AccountError> {
        Ok(uids
            .iter()
            .map(|u| {
                serde_json::from_value(json!({
                    "uid": u, "status": {"state": "ready"}, "created": "2024-01-01T00:00:00Z",
                    "duration": 3, "meta": {"name": u}
                }))
                .unwrap()
            })
            .collect())
    }

    fn cache(fake: &Arc<Fake>) -> Arc<RecordingsCache<Fake>> {
        RecordingsCache::new(
            Arc::clone(fake),
            CacheSettings::with_ttl(
                TTL,
                100,
                Rewrite {
                    delivery_base: Some("http://d".into()),
                },
            ),
        )
    }

    fn uids(a: &Answer) -> Vec<String> {
        match a {
            Answer::Found { page, .. } => {
                let v: serde_json::Value = serde_json::from_slice(&page.body).unwrap();
                v["recordings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["uid"].as_str().unwrap().to_string())
                    .collect()
            }
            other => panic!("not found: {other:?}"),
        }
    }

    fn is_stale(a: &Answer) -> bool {
        matches!(a, Answer::Found { stale: true, .. })
    }

    /// Lets spawned flights run (time is paused: sleeping advances it).
    async fn settle_flights() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_concurrent_misses_make_one_call() {
        let fake = Fake::new(Duration::from_millis(100), vec![videos(&["a"])]);
        let c = cache(&fake);
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let c = Arc::clone(&c);
                tokio::spawn(async move { c.get("in").await })
            })
            .collect();
        for t in tasks {
            let a = t.await.unwrap();
            assert_eq!(uids(&a), ["a"]);
            assert!(!is_stale(&a));
        }
        assert_eq!(fake.calls(), 1);
        // And cached for the TTL.
        for _ in 0..100 {
            c.get("in").await;
        }
        assert_eq!(fake.calls(), 1);
        let st = c.stats();
        assert_eq!(st.requests, 1100);
        assert_eq!(st.upstream_calls, 1);
        assert_eq!(st.inputs, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_expiry_makes_exactly_one_more_call() {
        let fake = Fake::new(
            Duration::from_millis(50),
            vec![videos(&["a"]), videos(&["b", "a"])],
        );
        let c = cache(&fake);
        assert_eq!(uids(&c.get("in").await), ["a"]);
        tokio::time::advance(TTL - s(1)).await;
        assert_eq!(uids(&c.get("in").await), ["a"]);
        assert_eq!(fake.calls(), 1);
        tokio::time::advance(s(2)).await;
        // Expired: many requests get the old list at once, one refresh runs.
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let c = Arc::clone(&c);
                tokio::spawn(async move { c.get("in").await })
            })
            .collect();
        for t in tasks {
            let a = t.await.unwrap();
            assert!(is_stale(&a));
            assert_eq!(uids(&a), ["a"]);
        }
        settle_flights().await;
        assert_eq!(fake.calls(), 2);
        let a = c.get("in").await;
        assert!(!is_stale(&a));
        assert_eq!(uids(&a), ["a", "b"], "same created time: by uid");
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn long_idle_waits_for_a_fresh_answer() {
        let fake = Fake::new(
            Duration::from_millis(50),
            vec![videos(&["a"]), videos(&["b"])],
        );
        let c = cache(&fake);
        c.get("in").await;
        tokio::time::advance(TTL * 4).await;
        let a = c.get("in").await;
        assert!(!is_stale(&a), "past stale-while-revalidate: wait");
        assert_eq!(uids(&a), ["b"]);
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn upstream_down_serves_the_stale_copy_and_backs_off() {
        let down = Err(AccountError::Upstream {
            status: 500,
            message: "boom".into(),
        });
        let fake = Fake::new(
            Duration::from_millis(10),
            vec![videos(&["a"]), down.clone(), down.clone(), videos(&["c"])],
        );
        let c = cache(&fake);
        c.get("in").await;
        tokio::time::advance(TTL * 4).await;
        // Waits for the refresh, which fails: the old copy, marked stale.
        let a = c.get("in").await;
        assert!(is_stale(&a));
        assert_eq!(uids(&a), ["a"]);
        assert_eq!(fake.calls(), 2);
        // Within the failure backoff: no call, still the copy.
        for _ in 0..50 {
            assert_eq!(uids(&c.get("in").await), ["a"]);
        }
        assert_eq!(fake.calls(), 2);
        tokio::time::advance(s(6)).await;
        let a = c.get("in").await;
        assert!(is_stale(&a));
        assert_eq!(fake.calls(), 3, "one retry after the backoff");
        tokio::time::advance(s(6)).await;
        assert_eq!(uids(&c.get("in").await), ["c"]);
        assert_eq!(fake.calls(), 4);
        assert_eq!(c.stats().upstream_failures, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_without_a_copy_is_unavailable() {
        let fake = Fake::new(
            Duration::from_millis(10),
            vec![Err(AccountError::Timeout), videos(&["a"])],
        );
        let c = cache(&fake);
        let a = c.get("in").await;
        assert!(
            matches!(&a, Answer::Unavailable { retry_after: None, reason } if reason.contains("in time")),
            "{a:?}"
        );
        // Held off: no call, same answer.
        assert!(matches!(
            c.get("in").await,
            Answer::Unavailable {
                retry_after: None,
                ..
            }
        ));
        assert_eq!(fake.calls(), 1);
        tokio::time::advance(s(6)).await;
        assert_eq!(uids(&c.get("in").await), ["a"]);
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_stops_every_call_until_retry_after() {
        let fake = Fake::new(
            Duration::from_millis(10),
            vec![
                videos(&["a"]),
                Err(AccountError::RateLimited {
                    retry_after: s(120),
                }),
                videos(&["b"]),
            ],
        );
        let c = cache(&fake);
        c.get("in").await;
        tokio::time::advance(TTL * 4).await;
        let a = c.get("in").await;
        assert!(is_stale(&a), "stale copy on 429");
        assert_eq!(fake.calls(), 2);
        // Another input, never seen: 503 with the time left, no call.
        let other = c.get("other").await;
        match other {
            Answer::Unavailable {
                retry_after: Some(r),
                ..
            } => assert!(r <= s(120) && r >= s(119), "{r:?}"),
            o => panic!("{o:?}"),
        }
        for _ in 0..20 {
            tokio::time::advance(s(5)).await;
            c.get("in").await;
            c.get("other").await;
        }
        assert_eq!(fake.calls(), 2, "no call before Retry-After");
        tokio::time::advance(s(21)).await;
        assert_eq!(uids(&c.get("in").await), ["b"]);
        assert_eq!(fake.calls(), 3);
    }

    // Regression: a `Retry-After` of u64::MAX seconds overflowed `Instant +`
    // under the cache's lock (a panic; an abort in a release build).
    #[tokio::test(start_paused = true)]
    async fn an_endless_retry_after_is_clamped_not_a_panic() {
        let fake = Fake::new(
            Duration::from_millis(10),
            vec![
                Err(AccountError::RateLimited {
                    retry_after: Duration::MAX,
                }),
                videos(&["a"]),
            ],
        );
        let c = cache(&fake);
        match c.get("in").await {
            Answer::Unavailable {
                retry_after: Some(r),
                ..
            } => assert!(r <= MAX_RETRY_AFTER, "{r:?}"),
            o => panic!("{o:?}"),
        }
        match c.get("other").await {
            Answer::Unavailable {
                retry_after: Some(r),
                ..
            } => assert!(r <= MAX_RETRY_AFTER, "{r:?}"),
            o => panic!("{o:?}"),
        }
        assert_eq!(fake.calls(), 1);
        // Calls resume after at most the clamp.
        tokio::time::advance(MAX_RETRY_AFTER + s(1)).await;
        assert_eq!(uids(&c.get("in").await), ["a"]);
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_inputs_are_cached_too() {
        let fake = Fake::new(
            Duration::from_millis(10),
            vec![Err(AccountError::NotFound {
                message: "Not found".into(),
            })],
        );
        let c = cache(&fake);
        for _ in 0..10 {
            assert_eq!(c.get("nope").await, Answer::Missing);
        }
        assert_eq!(fake.calls(), 1);
    }

    /// 404 for ids starting with `madeup`, a list for the others.
    struct MadeUp(AtomicU64);
    impl Upstream for MadeUp {
        async fn videos(&self, input: &str) -> Result<Vec<Video>, AccountError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            if input.starts_with("madeup") {
                Err(AccountError::NotFound {
                    message: "Not found".into(),
                })
            } else {
                videos(&["a"])
            }
        }
    }

    // Regression (issue 15, 3): made-up ids answered 404 were cached as
    // known, so their refreshes spent the half of the budget kept for real
    // inputs: after 241 such calls a new real input got 503.
    #[tokio::test(start_paused = true)]
    async fn made_up_ids_do_not_spend_the_budget_of_real_inputs() {
        let up = Arc::new(MadeUp(AtomicU64::new(0)));
        let mut settings = CacheSettings::with_ttl(
            TTL,
            100,
            Rewrite {
                delivery_base: None,
            },
        );
        settings.budget = BudgetSettings {
            burst: 10.0,
            per_second: 0.02,
        };
        let c = RecordingsCache::new(Arc::clone(&up), settings);
        let mut asked = 0;
        for _ in 0..60 {
            for i in 0..4 {
                let a = c.get(&format!("madeup{i}")).await;
                assert!(
                    matches!(a, Answer::Missing | Answer::Unavailable { .. }),
                    "{a:?}"
                );
                asked += 1;
            }
            tokio::time::advance(s(5)).await;
        }
        assert_eq!(asked, 240);
        assert_eq!(uids(&c.get("real").await), ["a"]);
        // 4 ids, rechecked at most once a missing TTL (60 s) each while the top quarter of the bucket allows, and the real one.
        assert!(
            up.0.load(Ordering::SeqCst) <= 21,
            "{}",
            up.0.load(Ordering::SeqCst)
        );
        assert_eq!(c.stats().inputs, 1, "made-up ids take no room among inputs");
    }

    #[tokio::test(start_paused = true)]
    async fn missing_notes_are_bounded() {
        let up = Arc::new(MadeUp(AtomicU64::new(0)));
        let mut settings = CacheSettings::with_ttl(
            TTL,
            3,
            Rewrite {
                delivery_base: None,
            },
        );
        settings.budget = BudgetSettings {
            burst: 1000.0,
            per_second: 100.0,
        };
        let c = RecordingsCache::new(Arc::clone(&up), settings);
        for i in 0..10 {
            assert_eq!(c.get(&format!("madeup{i}")).await, Answer::Missing);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        assert_eq!(c.lock().missing.len(), 3);
        // The newest are kept; the oldest was asked again.
        c.get("madeup9").await;
        assert_eq!(up.0.load(Ordering::SeqCst), 10);
        c.get("madeup0").await;
        assert_eq!(up.0.load(Ordering::SeqCst), 11);
    }

    #[tokio::test(start_paused = true)]
    async fn memory_is_bounded_least_recently_used_goes() {
        let fake = Fake::new(Duration::from_millis(1), vec![videos(&["a"])]);
        let mut settings = CacheSettings::with_ttl(
            TTL,
            3,
            Rewrite {
                delivery_base: None,
            },
        );
        settings.budget = BudgetSettings {
            burst: 1000.0,
            per_second: 100.0,
        };
        let c = RecordingsCache::new(Arc::clone(&fake), settings);
        for i in ["a", "b", "c"] {
            c.get(i).await;
        }
        c.get("a").await; // a is now more recent than b
        c.get("d").await; // evicts b
        assert_eq!(c.stats().inputs, 3);
        assert_eq!(fake.calls(), 4);
        c.get("a").await;
        c.get("c").await;
        assert_eq!(fake.calls(), 4, "a and c kept");
        c.get("b").await;
        assert_eq!(fake.calls(), 5, "b was evicted");
        assert_eq!(c.stats().inputs, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_caps_calls_across_inputs() {
        let fake = Fake::new(Duration::from_millis(1), vec![videos(&["a"])]);
        let mut settings = CacheSettings::with_ttl(
            TTL,
            1000,
            Rewrite {
                delivery_base: None,
            },
        );
        settings.budget = BudgetSettings {
            burst: 10.0,
            per_second: 1.0,
        };
        let c = RecordingsCache::new(Arc::clone(&fake), settings);
        let mut refused = 0;
        for i in 0..20 {
            if let Answer::Unavailable { retry_after, .. } = c.get(&format!("in{i}")).await {
                assert!(retry_after.is_some());
                refused += 1;
            }
        }
        assert_eq!(fake.calls(), 5, "new inputs use half the bucket");
        assert_eq!(refused, 15);
        assert_eq!(c.stats().inputs, 5, "refused inputs take no room");
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_upstream_does_not_wedge_the_input() {
        struct Panics(AtomicU64);
        impl Upstream for Panics {
            async fn videos(&self, _: &str) -> Result<Vec<Video>, AccountError> {
                if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first call panics");
                }
                videos(&["a"])
            }
        }
        let up = Arc::new(Panics(AtomicU64::new(0)));
        let c = RecordingsCache::new(
            Arc::clone(&up),
            CacheSettings::with_ttl(
                TTL,
                10,
                Rewrite {
                    delivery_base: None,
                },
            ),
        );
        assert!(matches!(c.get("in").await, Answer::Unavailable { .. }));
        assert_eq!(uids(&c.get("in").await), ["a"]);
    }
}
