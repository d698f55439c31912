//! Reading the figures back for moderators: per input, the viewers now,
//! and per broadcast and per recording the views, minutes viewed, rebuffer
//! percentage, start-up median and 90th percentile, failures; plus the
//! per-minute series of the latest broadcast for a chart. Sums come from
//! the database (every replica's writes), percentiles from the summed
//! start-up histogram.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use super::agg::bucket_mid_ms;
use super::store::Store;

/// A page counts as a viewer this long after its last report (it reports
/// every 30 s while watching; the rest covers the flush interval).
pub const VIEWER_WINDOW_S: i64 = 75;
/// Videos listed per kind at most.
const MAX_VIDEOS: i64 = 100;

/// One broadcast's or recording's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoQoe {
    /// '' when the players did not know the uid.
    pub video_uid: String,
    pub views: i64,
    pub minutes_viewed: f64,
    /// Rebuffer time / watch time, in percent.
    pub rebuffer_percent: f64,
    /// Rebuffer events per minute viewed.
    pub rebuffer_per_minute: f64,
    pub startup_median_ms: Option<u32>,
    pub startup_p90_ms: Option<u32>,
    pub failures: i64,
    /// Of which before the first frame (attempts that never became views).
    pub startup_failures: i64,
    /// Failures / attempts (views + start-up failures), in percent.
    pub failure_percent: f64,
    pub failures_by_code: BTreeMap<String, i64>,
    pub quality_up: i64,
    pub quality_down: i64,
    pub latency_avg_ms: Option<u32>,
    /// First and last minute with figures (Unix seconds).
    pub from: i64,
    pub to: i64,
}

/// One minute of a broadcast, for the chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MinutePoint {
    /// Unix seconds at the minute's start.
    pub t: i64,
    /// Average concurrent viewers over the minute (watch time / 60 s).
    pub viewers: f64,
    pub rebuffer_percent: f64,
}

/// `GET /api/inputs/<input>/qoe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputQoe {
    pub input_uid: String,
    pub viewers_now: i64,
    /// Broadcasts, latest first; the first is the current or last one.
    pub broadcasts: Vec<VideoQoe>,
    /// Per-minute series of the first broadcast.
    pub series: Vec<MinutePoint>,
    pub recordings: Vec<VideoQoe>,
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        // Rounded to 0.01 so answers are stable and small.
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

/// The value below which `q` of the histogram lies (bucket middles).
pub fn percentile(hist: &BTreeMap<i32, i64>, q: f64) -> Option<u32> {
    let total: i64 = hist.values().sum();
    if total <= 0 {
        return None;
    }
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (&bucket, &n) in hist {
        seen += n;
        if seen >= rank {
            return Some(bucket_mid_ms(bucket));
        }
    }
    None
}

/// Viewers now: pages that reported within [`VIEWER_WINDOW_S`] and did not leave.
pub async fn viewers_now(store: &Store, input: &str, now_s: i64) -> Result<i64, sqlx::Error> {
    let row =
        sqlx::query("SELECT COUNT(*) FROM qoe_viewer WHERE input_uid = $1 AND last_seen >= $2")
            .bind(input)
            .bind(now_s - VIEWER_WINDOW_S)
            .fetch_one(&store.pool)
            .await?;
    row.try_get::<i64, _>(0)
}

/// Every video of one kind for an input, latest first.
pub async fn videos(store: &Store, input: &str, kind: &str) -> Result<Vec<VideoQoe>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT video_uid, CAST(SUM(views) AS BIGINT), CAST(SUM(watch_ms) AS BIGINT), \
         CAST(SUM(rebuffers) AS BIGINT), CAST(SUM(rebuffer_ms) AS BIGINT), CAST(SUM(up) AS BIGINT), \
         CAST(SUM(down) AS BIGINT), CAST(SUM(failures) AS BIGINT), CAST(SUM(latency_count) AS BIGINT), \
         CAST(SUM(latency_ms_sum) AS BIGINT), MIN(minute), MAX(minute), \
         CAST(SUM(startup_failures) AS BIGINT) \
         FROM qoe_minute WHERE input_uid = $1 AND kind = $2 \
         GROUP BY video_uid ORDER BY MAX(minute) DESC, video_uid LIMIT $3",
    )
    .bind(input)
    .bind(kind)
    .bind(MAX_VIDEOS)
    .fetch_all(&store.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let watch_ms: i64 = r.try_get(2)?;
        let rebuffers: i64 = r.try_get(3)?;
        let views: i64 = r.try_get(1)?;
        let failures: i64 = r.try_get(7)?;
        let latency_n: i64 = r.try_get(8)?;
        let latency_sum: i64 = r.try_get(9)?;
        let startup_failures: i64 = r.try_get(12)?;
        let minutes_viewed = (watch_ms as f64 / 600.0).round() / 100.0;
        out.push(VideoQoe {
            video_uid: r.try_get(0)?,
            views,
            minutes_viewed,
            rebuffer_percent: ratio(r.try_get(4)?, watch_ms),
            rebuffer_per_minute: if watch_ms > 0 {
                (rebuffers as f64 * 60_000.0 / watch_ms as f64 * 100.0).round() / 100.0
            } else {
                0.0
            },
            failures,
            startup_failures,
            failure_percent: ratio(failures, views + startup_failures),
            quality_up: r.try_get(5)?,
            quality_down: r.try_get(6)?,
            latency_avg_ms: (latency_n > 0)
                .then(|| u32::try_from(latency_sum / latency_n).unwrap_or(u32::MAX)),
            from: r.try_get::<i64, _>(10)? * 60,
            to: r.try_get::<i64, _>(11)? * 60,
            ..VideoQoe::default()
        });
    }
    let hist = sqlx::query(
        "SELECT video_uid, bucket, CAST(SUM(n) AS BIGINT) FROM qoe_startup \
         WHERE input_uid = $1 AND kind = $2 GROUP BY video_uid, bucket",
    )
    .bind(input)
    .bind(kind)
    .fetch_all(&store.pool)
    .await?;
    let mut by_video: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
    for r in hist {
        by_video
            .entry(r.try_get(0)?)
            .or_default()
            .insert(r.try_get(1)?, r.try_get(2)?);
    }
    let codes = sqlx::query(
        "SELECT video_uid, code, CAST(SUM(n) AS BIGINT) FROM qoe_failure \
         WHERE input_uid = $1 AND kind = $2 GROUP BY video_uid, code",
    )
    .bind(input)
    .bind(kind)
    .fetch_all(&store.pool)
    .await?;
    let mut codes_by_video: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in codes {
        codes_by_video
            .entry(r.try_get(0)?)
            .or_default()
            .insert(r.try_get(1)?, r.try_get(2)?);
    }
    for v in &mut out {
        if let Some(h) = by_video.get(&v.video_uid) {
            v.startup_median_ms = percentile(h, 0.5);
            v.startup_p90_ms = percentile(h, 0.9);
        }
        if let Some(c) = codes_by_video.remove(&v.video_uid) {
            v.failures_by_code = c;
        }
    }
    Ok(out)
}

/// Per-minute viewers and rebuffering of one broadcast.
pub async fn series(
    store: &Store,
    input: &str,
    video: &str,
) -> Result<Vec<MinutePoint>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT minute, watch_ms, rebuffer_ms FROM qoe_minute \
         WHERE input_uid = $1 AND video_uid = $2 AND kind = 'live' ORDER BY minute LIMIT 1440",
    )
    .bind(input)
    .bind(video)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let watch_ms: i64 = r.try_get(1)?;
            Ok(MinutePoint {
                t: r.try_get::<i64, _>(0)? * 60,
                viewers: (watch_ms as f64 / 600.0).round() / 100.0,
                rebuffer_percent: ratio(r.try_get(2)?, watch_ms),
            })
        })
        .collect()
}

/// Everything a moderator page shows for one input.
pub async fn input_qoe(store: &Store, input: &str, now_s: i64) -> Result<InputQoe, sqlx::Error> {
    // Viewers first: a flush can commit between these reads, and one that
    // removes a page that left also adds its last figures. Read in this
    // order, "0 viewers now" never comes with figures that miss the
    // leavers' last seconds (seen in tests/e2e/60-qoe.test.mjs).
    let viewers_now = viewers_now(store, input, now_s).await?;
    let broadcasts = videos(store, input, "live").await?;
    let series = match broadcasts.first() {
        Some(b) => series(store, input, &b.video_uid).await?,
        None => Vec::new(),
    };
    Ok(InputQoe {
        input_uid: input.to_string(),
        viewers_now,
        broadcasts,
        series,
        recordings: videos(store, input, "recording").await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_from_buckets() {
        let h: BTreeMap<i32, i64> = [(5, 1), (8, 3), (20, 1)].into_iter().collect();
        assert_eq!(percentile(&h, 0.5), Some(850));
        assert_eq!(percentile(&h, 0.9), Some(2_050));
        assert_eq!(percentile(&h, 0.1), Some(550));
        assert_eq!(percentile(&BTreeMap::new(), 0.5), None);
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(1, 3), 33.33);
        assert_eq!(ratio(5, 0), 0.0);
        assert_eq!(ratio(2_000, 60_000), 3.33);
    }
}
