//! Viewing figures (quality of experience): the players' beacons in,
//! aggregated in memory per input, video and minute, flushed to the
//! database, read back for moderators, and counted for Prometheus.
//!
//! - [`agg`]: the in-memory sums (pure);
//! - [`store`]: SQLite or PostgreSQL through `sqlx` (migrations, upserts,
//!   retention);
//! - [`query`]: what moderators read;
//! - [`limit`]: the per-client rate limit;
//! - [`api`]: `POST /api/qoe` and the guarded read route.
//!
//! What a beacon is and what counts is `player_core::qoe`.

pub mod agg;
pub mod api;
pub mod limit;
pub mod query;
pub mod store;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use player_core::qoe::Batch;
use stream_api::Secret;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cache::{Answer, RecordingsCache, Upstream};
use crate::metrics::Metrics;
use agg::Pending;
use limit::RateLimiter;
use store::Store;

/// Command line and environment of the viewing figures.
#[derive(Debug, Clone, clap::Args)]
pub struct QoeConfig {
    /// Where the backend keeps its files (the SQLite database of viewing
    /// figures when DATABASE_URL is not set).
    #[arg(long, env = "DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// A PostgreSQL URL (`postgres://user:pass@host/db`) for the viewing
    /// figures, shared by every replica; default: SQLite in --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// Days viewing figures are kept.
    #[arg(long, env = "QOE_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub qoe_retention_days: u32,

    /// Seconds between writes of the aggregated figures to the database.
    #[arg(long, env = "QOE_FLUSH_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub qoe_flush_seconds: u64,

    /// Beacons per minute one client address may send on average. Viewers
    /// behind one NAT share it: a page sends at most 3 per minute.
    #[arg(long, env = "QOE_RATE_PER_MINUTE", default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub qoe_rate_per_minute: u32,

    /// Beacons one client address may send at once.
    #[arg(long, env = "QOE_RATE_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub qoe_rate_burst: u32,

    /// Behind a load balancer: the header holding the client address (its
    /// last entry is taken, the one the balancer added), e.g.
    /// `x-forwarded-for`. Unset: the TCP peer.
    #[arg(long, env = "QOE_CLIENT_IP_HEADER")]
    pub qoe_client_ip_header: Option<String>,

    /// Refuse beacons for inputs the account does not have (asked through
    /// the recordings cache, so mostly answered from memory; when the
    /// account API is down, beacons are taken).
    #[arg(long, env = "QOE_CHECK_INPUTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub qoe_check_inputs: bool,

    /// When set, GET /metrics answers only `Authorization: Bearer <token>`
    /// (default: open, for a scraper on a private network).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
}

impl QoeConfig {
    /// The database URL: DATABASE_URL, or SQLite in the data directory
    /// (created if missing).
    pub fn database_url(&self) -> Result<Secret, String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create --data-dir {}: {e}", self.data_dir.display()))?;
        Ok(Secret::new(store::sqlite_url(&self.data_dir)))
    }

    pub fn settings(&self) -> Result<Settings, String> {
        let client_ip_header = self
            .qoe_client_ip_header
            .as_deref()
            .map(|h| {
                axum::http::HeaderName::try_from(h.trim())
                    .map_err(|_| format!("--qoe-client-ip-header: `{h}` is not a header name"))
            })
            .transpose()?;
        Ok(Settings {
            flush_every: Duration::from_secs(self.qoe_flush_seconds),
            retention_minutes: i64::from(self.qoe_retention_days) * 24 * 60,
            rate_per_minute: self.qoe_rate_per_minute,
            rate_burst: self.qoe_rate_burst,
            client_ip_header,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub flush_every: Duration,
    pub retention_minutes: i64,
    pub rate_per_minute: u32,
    pub rate_burst: u32,
    pub client_ip_header: Option<axum::http::HeaderName>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flush_every: Duration::from_secs(10),
            retention_minutes: 90 * 24 * 60,
            rate_per_minute: 600,
            rate_burst: 200,
            client_ip_header: None,
        }
    }
}

/// Whether an input exists, as far as the backend can tell now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Yes,
    No,
    /// The account API cannot say (down, rate limited): take the beacon.
    Unsure,
}

/// Tells known inputs from made-up ones.
pub trait InputCheck: Send + Sync + 'static {
    fn known<'a>(&'a self, input: &'a str) -> Pin<Box<dyn Future<Output = Known> + Send + 'a>>;
}

/// The recordings cache knows which inputs exist (it caches "no such
/// input" too, and its call budget keeps made-up ids from costing the
/// account API more than a bounded share).
pub struct CacheInputs<U: Upstream>(pub Arc<RecordingsCache<U>>);

impl<U: Upstream> InputCheck for CacheInputs<U> {
    fn known<'a>(&'a self, input: &'a str) -> Pin<Box<dyn Future<Output = Known> + Send + 'a>> {
        Box::pin(async move {
            match self.0.get(input).await {
                Answer::Found { .. } => Known::Yes,
                Answer::Missing => Known::No,
                Answer::Unavailable { .. } => Known::Unsure,
            }
        })
    }
}

/// Entries held in memory between flushes at most; past it beacons get
/// 503 (the database is not keeping up), not unbounded memory.
const MAX_PENDING: usize = 500_000;

pub struct QoeService {
    pending: Mutex<Pending>,
    pub limiter: RateLimiter,
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub settings: Settings,
    /// `None`: every well-formed input uid is taken.
    pub inputs: Option<Arc<dyn InputCheck>>,
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The backlog is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlogged;

impl QoeService {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        settings: Settings,
        inputs: Option<Arc<dyn InputCheck>>,
    ) -> Arc<Self> {
        Arc::new(QoeService {
            pending: Mutex::new(Pending::default()),
            limiter: RateLimiter::new(settings.rate_per_minute, settings.rate_burst),
            metrics,
            store,
            settings,
            inputs,
        })
    }

    /// Whether every input of the batch may be taken.
    pub async fn inputs_known(&self, b: &Batch) -> bool {
        let Some(check) = &self.inputs else {
            return true;
        };
        for (i, r) in b.views.iter().enumerate() {
            let seen = b.views[..i].iter().any(|o| o.input == r.input);
            if !seen && check.known(&r.input).await == Known::No {
                return false;
            }
        }
        true
    }

    /// Adds a validated batch received at `now_s`.
    pub fn accept(&self, b: &Batch, now_s: i64) -> Result<(), Backlogged> {
        {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.len() >= MAX_PENDING {
                return Err(Backlogged);
            }
            p.add(b, now_s);
        }
        self.metrics.accepted(&b.views);
        Ok(())
    }

    /// Writes what accumulated. On failure (a database restart) the
    /// figures go back to memory for the next flush, up to the backlog
    /// bound; past it they are dropped. Failures are counted in
    /// `jlp_qoe_store_failures_total`.
    pub async fn flush(&self) -> Result<usize, String> {
        let p = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if p.is_empty() {
            return Ok(0);
        }
        let n = p.len();
        let began = std::time::Instant::now();
        match self.store.write(&p).await {
            Ok(()) => {
                self.metrics.flushed(n, began.elapsed());
                Ok(n)
            }
            Err(e) => {
                self.metrics.store_failed();
                let mut now = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let kept = now.len() + n <= MAX_PENDING;
                if kept {
                    now.merge(p);
                }
                Err(format!(
                    "QoE flush of {n} entries failed ({}): {e}",
                    if kept {
                        "kept for the next flush"
                    } else {
                        "dropped: backlog full"
                    }
                ))
            }
        }
    }

    /// Flushes every `flush_every` and prunes hourly until stopped; a last
    /// flush on stop.
    pub fn spawn_flusher(self: &Arc<Self>) -> Flusher {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let svc = Arc::clone(self);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(svc.settings.flush_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_prune: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stopped => break,
                }
                if let Err(e) = svc.flush().await {
                    tracing::warn!("{e}");
                }
                if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                    last_prune = Some(tokio::time::Instant::now());
                    match svc
                        .store
                        .prune(unix_now(), svc.settings.retention_minutes)
                        .await
                    {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(rows = n, "QoE: old figures deleted"),
                        Err(e) => tracing::warn!(error = %e, "QoE: pruning failed"),
                    }
                }
            }
            if let Err(e) = svc.flush().await {
                tracing::warn!("{e}");
            }
        });
        Flusher {
            stop: Some(stop),
            task,
        }
    }
}

/// The flushing task; dropping it aborts it, [`Flusher::stop`] ends it
/// after a last flush.
#[must_use]
pub struct Flusher {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Flusher {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        qoe: QoeConfig,
    }

    fn parse(args: &[&str]) -> QoeConfig {
        let mut all = vec!["backend"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().qoe
    }

    #[test]
    fn defaults_and_database_choice() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        let c = parse(&["--data-dir", data.to_str().unwrap()]);
        assert_eq!(c.qoe_retention_days, 90);
        let s = c.settings().unwrap();
        assert_eq!(s.flush_every, Duration::from_secs(10));
        assert_eq!(s.retention_minutes, 90 * 24 * 60);
        assert!(s.client_ip_header.is_none());
        let url = c.database_url().unwrap();
        assert!(url.expose().starts_with("sqlite://"), "{}", url.expose());
        assert!(data.is_dir(), "the data directory is created");
        let c = parse(&["--database-url", "postgres://u:pw@db/x"]);
        assert_eq!(c.database_url().unwrap().expose(), "postgres://u:pw@db/x");
        assert!(
            !format!("{c:?}").contains("pw"),
            "the password is not shown"
        );
        assert!(parse(&["--qoe-client-ip-header", "x-forwarded-for"])
            .settings()
            .is_ok());
        assert!(parse(&["--qoe-client-ip-header", "bad header"])
            .settings()
            .is_err());
        assert!(Cli::try_parse_from(["backend", "--qoe-retention-days", "0"]).is_err());
    }
}
