//! The viewing figures' database through `sqlx`'s `Any` driver: SQLite in
//! the data directory by default (nothing to install), PostgreSQL when
//! `DATABASE_URL` names one (several replicas then write the same tables,
//! and every replica reads the same figures). One schema and one set of
//! statements serve both: portable types, `$N` parameters (SQLite takes
//! them too), `ON CONFLICT ... DO UPDATE` upserts that add.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

use super::agg::{Pending, RowKey};

/// The migrations, compiled in (a deployment ships one binary).
const MIGRATIONS: [(i64, &str, &str); 1] =
    [(1, "qoe", include_str!("../../migrations/0001_qoe.sql"))];

/// Rows per multi-row statement (well under both databases' parameter limits).
const CHUNK: usize = 400;

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures_core_boxed::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, name, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(name),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// `sqlx`'s `BoxFuture` without naming the `futures` crates.
mod futures_core_boxed {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    engine: Engine,
}

/// The SQLite URL for a data directory.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("qoe.sqlite").display())
}

impl Store {
    /// Connects and runs the migrations. `url` is `sqlite://...` or
    /// `postgres://...`; errors never include it (it may hold a password).
    pub async fn open(url: &str) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err("the database URL must start with sqlite: or postgres:".into());
        };
        let mut opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .max_connections(if engine == Engine::Sqlite { 4 } else { 8 });
        if engine == Engine::Sqlite {
            // WAL: readers do not wait for the flush; NORMAL: no fsync per
            // commit (a crash loses at most the last flush, as a replica's
            // memory would).
            opts = opts.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = opts.connect(url).await.map_err(|e| {
            format!(
                "cannot open the QoE database: {}",
                redact(&e.to_string(), url)
            )
        })?;
        let migrator = Migrator::new(Embedded)
            .await
            .map_err(|e| format!("QoE migrations: {e}"))?;
        migrator
            .run(&pool)
            .await
            .map_err(|e| format!("QoE migrations: {e}"))?;
        Ok(Store { pool, engine })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes one flush in one transaction: every replica's upserts add up.
    /// Rows go in key order, so replicas flushing at once lock them in the
    /// same order and cannot deadlock each other.
    pub async fn write(&self, p: &Pending) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut rows: Vec<_> = p.rows.iter().collect();
        rows.sort_unstable_by(|a, b| order(a.0).cmp(&order(b.0)));
        for chunk in rows.chunks(CHUNK) {
            let sql = multi_row(
                "INSERT INTO qoe_minute (input_uid, video_uid, kind, minute, views, watch_ms, rebuffers, rebuffer_ms, up, down, failures, startup_failures, startup_count, startup_ms_sum, latency_count, latency_ms_sum) VALUES ",
                16,
                chunk.len(),
                " ON CONFLICT (input_uid, video_uid, kind, minute) DO UPDATE SET \
                 views = qoe_minute.views + excluded.views, \
                 watch_ms = qoe_minute.watch_ms + excluded.watch_ms, \
                 rebuffers = qoe_minute.rebuffers + excluded.rebuffers, \
                 rebuffer_ms = qoe_minute.rebuffer_ms + excluded.rebuffer_ms, \
                 up = qoe_minute.up + excluded.up, \
                 down = qoe_minute.down + excluded.down, \
                 failures = qoe_minute.failures + excluded.failures, \
                 startup_failures = qoe_minute.startup_failures + excluded.startup_failures, \
                 startup_count = qoe_minute.startup_count + excluded.startup_count, \
                 startup_ms_sum = qoe_minute.startup_ms_sum + excluded.startup_ms_sum, \
                 latency_count = qoe_minute.latency_count + excluded.latency_count, \
                 latency_ms_sum = qoe_minute.latency_ms_sum + excluded.latency_ms_sum",
            );
            let mut q = sqlx::query(&sql);
            for (k, s) in chunk {
                q = bind_key(q, k)
                    .bind(s.views)
                    .bind(s.watch_ms)
                    .bind(s.rebuffers)
                    .bind(s.rebuffer_ms)
                    .bind(s.up)
                    .bind(s.down)
                    .bind(s.failures)
                    .bind(s.startup_failures)
                    .bind(s.startup_count)
                    .bind(s.startup_ms_sum)
                    .bind(s.latency_count)
                    .bind(s.latency_ms_sum);
            }
            tx.execute(q).await?;
        }
        let mut startup: Vec<_> = p.startup.iter().collect();
        startup.sort_unstable_by(|a, b| (order(&a.0 .0), a.0 .1).cmp(&(order(&b.0 .0), b.0 .1)));
        for chunk in startup.chunks(CHUNK) {
            let sql = multi_row(
                "INSERT INTO qoe_startup (input_uid, video_uid, kind, minute, bucket, n) VALUES ",
                6,
                chunk.len(),
                " ON CONFLICT (input_uid, video_uid, kind, minute, bucket) DO UPDATE SET n = qoe_startup.n + excluded.n",
            );
            let mut q = sqlx::query(&sql);
            for ((k, bucket), n) in chunk {
                q = bind_key(q, k).bind(*bucket).bind(**n);
            }
            tx.execute(q).await?;
        }
        let mut failures: Vec<_> = p.failures.iter().collect();
        failures.sort_unstable_by(|a, b| (order(&a.0 .0), &a.0 .1).cmp(&(order(&b.0 .0), &b.0 .1)));
        for chunk in failures.chunks(CHUNK) {
            let sql = multi_row(
                "INSERT INTO qoe_failure (input_uid, video_uid, kind, minute, code, n) VALUES ",
                6,
                chunk.len(),
                " ON CONFLICT (input_uid, video_uid, kind, minute, code) DO UPDATE SET n = qoe_failure.n + excluded.n",
            );
            let mut q = sqlx::query(&sql);
            for ((k, code), n) in chunk {
                q = bind_key(q, k).bind(code.as_str()).bind(**n);
            }
            tx.execute(q).await?;
        }
        let (mut ended, mut seen): (Vec<_>, Vec<_>) = p.pages.iter().partition(|(_, s)| s.ended);
        seen.sort_unstable_by(|a, b| a.0.cmp(b.0));
        ended.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for chunk in seen.chunks(CHUNK) {
            let sql = multi_row(
                "INSERT INTO qoe_viewer (page, input_uid, video_uid, kind, last_seen) VALUES ",
                5,
                chunk.len(),
                // Replicas may write out of order: the latest sighting wins.
                " ON CONFLICT (page, input_uid) DO UPDATE SET \
                 video_uid = CASE WHEN excluded.last_seen >= qoe_viewer.last_seen THEN excluded.video_uid ELSE qoe_viewer.video_uid END, \
                 kind = CASE WHEN excluded.last_seen >= qoe_viewer.last_seen THEN excluded.kind ELSE qoe_viewer.kind END, \
                 last_seen = CASE WHEN excluded.last_seen >= qoe_viewer.last_seen THEN excluded.last_seen ELSE qoe_viewer.last_seen END",
            );
            let mut q = sqlx::query(&sql);
            for ((page, input), s) in chunk {
                q = q
                    .bind(page.as_str())
                    .bind(input.as_str())
                    .bind(s.video.as_str())
                    .bind(s.kind.as_str())
                    .bind(s.last_seen);
            }
            tx.execute(q).await?;
        }
        for ((page, input), _) in ended {
            tx.execute(
                sqlx::query("DELETE FROM qoe_viewer WHERE page = $1 AND input_uid = $2")
                    .bind(page.as_str())
                    .bind(input.as_str()),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Deletes figures older than `keep_minutes` before `now_s`, and pages
    /// not heard from for an hour. Returns the rows deleted.
    pub async fn prune(&self, now_s: i64, keep_minutes: i64) -> Result<u64, sqlx::Error> {
        let cutoff = now_s.div_euclid(60) - keep_minutes;
        let mut deleted = 0;
        for table in ["qoe_minute", "qoe_startup", "qoe_failure"] {
            let sql = format!("DELETE FROM {table} WHERE minute < $1");
            deleted += sqlx::query(&sql)
                .bind(cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        deleted += sqlx::query("DELETE FROM qoe_viewer WHERE last_seen < $1")
            .bind(now_s - 3_600)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted)
    }

    /// Rows in a table, for tests and the benchmark.
    pub async fn count(&self, table: &str) -> Result<i64, sqlx::Error> {
        let allowed = ["qoe_minute", "qoe_startup", "qoe_failure", "qoe_viewer"];
        if !allowed.contains(&table) {
            return Err(sqlx::Error::Protocol(format!("no table {table}")));
        }
        let row: AnyRow = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await?;
        row.try_get::<i64, _>(0)
    }
}

/// A row key's order (the primary key's columns).
fn order(k: &RowKey) -> (&str, &str, &str, i64) {
    (&k.input, &k.video, k.kind.as_str(), k.minute)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_key<'q>(q: AnyQuery<'q>, k: &'q RowKey) -> AnyQuery<'q> {
    q.bind(k.input.as_str())
        .bind(k.video.as_str())
        .bind(k.kind.as_str())
        .bind(k.minute)
}

/// `head ($1, ..., $n), (...), ... tail` for `rows` rows of `cols` values.
fn multi_row(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * cols * 6);
    sql.push_str(head);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

/// An error text without the URL's password, should the driver echo it.
fn redact(text: &str, url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        Some((userinfo, _)) if !userinfo.is_empty() => text.replace(userinfo, "***"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_placeholders() {
        assert_eq!(multi_row("I ", 2, 2, " T"), "I ($1,$2),($3,$4) T");
        assert_eq!(multi_row("I ", 3, 1, ""), "I ($1,$2,$3)");
    }

    #[test]
    fn redacts_credentials() {
        let url = "postgres://jlp:s3cret@db:5432/jlp";
        assert_eq!(redact("failed for jlp:s3cret", url), "failed for ***");
        assert_eq!(redact("plain", "sqlite:///x"), "plain");
    }
}
