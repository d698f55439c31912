//! The room's viewing figures (`GET /api/rooms/<room>/qoe`, see
//! docs/notes/qoe2.md) as the page shows them, and the small chart of
//! viewers and rebuffering over the broadcast. Pure: body in, texts and
//! SVG point lists out, tested natively.

use player_core::json::JsonObject;

use crate::json::{count, optional, Json};

/// Recordings shown in the table, newest first; the rest are left out.
pub const MAX_ROWS: usize = 10;
/// Minutes the chart spans at most (the last ones): 12 hours.
pub const MAX_MINUTES: usize = 720;
/// The chart's drawing box, in SVG user units (scaled by CSS).
pub const CHART_W: f64 = 300.0;
pub const CHART_H: f64 = 80.0;
/// The rebuffering line's scale never goes below this many percent, so a
/// stream with 0.1 % does not look like a disaster.
const MIN_REBUFFER_SCALE: f64 = 5.0;

/// One broadcast's or recording's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoQoe {
    pub video_uid: String,
    pub views: u64,
    pub minutes_viewed: f64,
    pub rebuffer_percent: f64,
    pub startup_median_ms: Option<u32>,
    pub startup_p90_ms: Option<u32>,
    pub failures: u64,
}

/// One minute of the broadcast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Unix seconds at the minute's start.
    pub t: i64,
    /// Average concurrent viewers over the minute.
    pub viewers: f64,
    pub rebuffer_percent: f64,
}

/// The answer, as far as the page uses it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoomQoe {
    pub viewers_now: u64,
    /// Latest first: the first is the current or last broadcast.
    pub broadcasts: Vec<VideoQoe>,
    /// The first broadcast, minute by minute (minutes without figures absent).
    pub series: Vec<Point>,
    /// Latest first.
    pub recordings: Vec<VideoQoe>,
}

/// A number field that may be absent (0); `None` when it is something else.
fn number_or_zero(o: &Json, key: &str) -> Option<f64> {
    optional(o, key, |k| o.number(k))
        .ok()
        .map(|n| n.unwrap_or(0.0))
}

fn count_or_zero(o: &Json, key: &str) -> Option<u64> {
    optional(o, key, |k| count(o, k))
        .ok()
        .map(|n| n.unwrap_or(0))
}

fn millis(o: &Json, key: &str) -> Option<Option<u32>> {
    optional(o, key, |k| count(o, k).and_then(|n| u32::try_from(n).ok())).ok()
}

fn video(o: &Json) -> Option<VideoQoe> {
    Some(VideoQoe {
        video_uid: optional(o, "videoUid", |k| o.string(k))
            .ok()?
            .unwrap_or_default(),
        views: count_or_zero(o, "views")?,
        minutes_viewed: number_or_zero(o, "minutesViewed")?,
        rebuffer_percent: number_or_zero(o, "rebufferPercent")?,
        startup_median_ms: millis(o, "startupMedianMs")?,
        startup_p90_ms: millis(o, "startupP90Ms")?,
        failures: count_or_zero(o, "failures")?,
    })
}

fn point(o: &Json) -> Option<Point> {
    let t = o
        .number("t")
        .filter(|t| t.is_finite() && t.fract() == 0.0 && t.abs() < 1e12)?;
    Some(Point {
        t: t as i64,
        viewers: number_or_zero(o, "viewers")?,
        rebuffer_percent: number_or_zero(o, "rebufferPercent")?,
    })
}

/// A list field of objects read by `read` (absent: empty); `None` when any
/// element is not one.
fn list<T>(o: &Json, key: &str, read: impl Fn(&Json) -> Option<T>) -> Option<Vec<T>> {
    if o.is_null(key) {
        return Some(Vec::new());
    }
    o.array(key)?.iter().map(read).collect()
}

/// The answer's body; `None` when it is not the documented shape.
fn room_qoe(o: &Json) -> Option<RoomQoe> {
    Some(RoomQoe {
        viewers_now: count_or_zero(o, "viewersNow")?,
        broadcasts: list(o, "broadcasts", video)?,
        series: list(o, "series", point)?,
        recordings: list(o, "recordings", video)?,
    })
}

/// What a figures request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum QoeReply {
    Figures(Box<RoomQoe>),
    /// 404: no live input yet, so nothing was watched.
    NoInput,
    /// 401/403: the token no longer serves (the status poll says so too).
    Refused,
    /// 429: again after this many seconds.
    RateLimited(u64),
    /// Anything else, or an answer this page cannot read.
    Failed,
}

pub fn reply(status: u16, body: &str, retry_after: Option<u64>) -> QoeReply {
    match status {
        200 => Json::parse(body)
            .as_ref()
            .and_then(room_qoe)
            .map(|mut q| {
                q.recordings.truncate(MAX_ROWS);
                QoeReply::Figures(Box::new(q))
            })
            .unwrap_or(QoeReply::Failed),
        404 => QoeReply::NoInput,
        401 | 403 => QoeReply::Refused,
        429 => QoeReply::RateLimited(retry_after.unwrap_or(30).clamp(1, 300)),
        _ => QoeReply::Failed,
    }
}

/// One row of the figures table: texts, and the machine values
/// (`data-value`, base units, empty when unknown) by column name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub video_uid: String,
    pub cells: Vec<(&'static str, String, String)>,
}

/// The columns, in order, with their headers.
pub const COLUMNS: [(&str, &str); 6] = [
    ("views", "Views"),
    ("minutes", "Minutes viewed"),
    ("rebuffer", "Rebuffering"),
    ("startup-median", "Start-up, median"),
    ("startup-p90", "Start-up, 90th pct."),
    ("failures", "Failures"),
];

fn ms_text(ms: Option<u32>) -> (String, String) {
    match ms {
        Some(ms) => (format!("{:.2} s", f64::from(ms) / 1000.0), ms.to_string()),
        None => (health_none(), String::new()),
    }
}

fn health_none() -> String {
    player_core::health::NO_VALUE.to_string()
}

/// A finite, non-negative number, else 0 (the backend's figures are
/// trusted to be sane, not to be well-formed).
fn sane(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

pub fn row(v: &VideoQoe) -> Row {
    let (median, median_ms) = ms_text(v.startup_median_ms);
    let (p90, p90_ms) = ms_text(v.startup_p90_ms);
    let minutes = sane(v.minutes_viewed);
    let rebuffer = sane(v.rebuffer_percent);
    Row {
        video_uid: v.video_uid.clone(),
        cells: vec![
            ("views", v.views.to_string(), v.views.to_string()),
            ("minutes", format!("{minutes:.1}"), format!("{minutes:.2}")),
            (
                "rebuffer",
                format!("{rebuffer:.2} %"),
                format!("{rebuffer:.2}"),
            ),
            ("startup-median", median, median_ms),
            ("startup-p90", p90, p90_ms),
            ("failures", v.failures.to_string(), v.failures.to_string()),
        ],
    }
}

/// The chart: two polylines' `points` in a [`CHART_W`] × [`CHART_H`] box
/// (y grows down), one point per minute, the minutes without figures as 0,
/// and the peaks they are scaled to.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub viewers: String,
    pub rebuffer: String,
    pub peak_viewers: f64,
    /// The rebuffering line's full height, percent.
    pub rebuffer_scale: f64,
    pub minutes: usize,
}

/// `None` without any minute.
pub fn chart(series: &[Point]) -> Option<Chart> {
    let first = series.iter().map(|p| p.t).min()?;
    let last = series.iter().map(|p| p.t).max()?;
    let span = ((last - first) / 60) as usize + 1;
    let minutes = span.min(MAX_MINUTES);
    let start = last - (minutes as i64 - 1) * 60;
    let mut viewers = vec![0.0; minutes];
    let mut rebuffer = vec![0.0; minutes];
    for p in series.iter().filter(|p| p.t >= start) {
        let i = ((p.t - start) / 60) as usize;
        if i < minutes {
            viewers[i] = sane(p.viewers);
            rebuffer[i] = sane(p.rebuffer_percent).min(100.0);
        }
    }
    let peak_viewers = viewers.iter().copied().fold(0.0, f64::max);
    let rebuffer_scale = rebuffer.iter().copied().fold(MIN_REBUFFER_SCALE, f64::max);
    let line = |values: &[f64], top: f64| -> String {
        // One minute: a flat line across, so there is something to see.
        let values: Vec<f64> = if values.len() == 1 {
            vec![values[0]; 2]
        } else {
            values.to_vec()
        };
        let step = CHART_W / (values.len() - 1) as f64;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let y = if top > 0.0 {
                    CHART_H - v / top * CHART_H
                } else {
                    CHART_H
                };
                format!("{:.1},{:.1}", i as f64 * step, y)
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(Chart {
        viewers: line(&viewers, peak_viewers),
        rebuffer: line(&rebuffer, rebuffer_scale),
        peak_viewers,
        rebuffer_scale,
        minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"inputUid":"f256e6ea9341d51eea64c9454659e576","viewersNow":412,
      "broadcasts":[{"videoUid":"55b9b5ce48c3968c6b514c458959d6a","views":530,
       "minutesViewed":6120.5,"rebufferPercent":0.42,"rebufferPerMinute":0.03,
       "startupMedianMs":850,"startupP90Ms":1850,"failures":3,"startupFailures":1,
       "failurePercent":0.56,"failuresByCode":{"network":3},"qualityUp":120,
       "qualityDown":41,"latencyAvgMs":5200,"from":1796070000,"to":1796073600}],
      "series":[{"t":1796070000,"viewers":180.5,"rebufferPercent":0.3}],
      "recordings":[{"videoUid":"r1","views":12,"minutesViewed":30,"rebufferPercent":0,
       "startupMedianMs":null,"startupP90Ms":null,"failures":0,"latencyAvgMs":null}]}"#;

    #[test]
    fn replies() {
        let QoeReply::Figures(q) = reply(200, ANSWER, None) else {
            panic!("the documented answer reads");
        };
        assert_eq!(q.viewers_now, 412);
        assert_eq!(q.broadcasts[0].views, 530);
        assert_eq!(q.broadcasts[0].startup_p90_ms, Some(1850));
        assert_eq!(q.series.len(), 1);
        assert_eq!(q.recordings[0].startup_median_ms, None);
        let table = [
            (200, "{}", None, QoeReply::Figures(Box::default())),
            (200, "not json", None, QoeReply::Failed),
            (200, r#"{"viewersNow":-1}"#, None, QoeReply::Failed),
            (404, "", None, QoeReply::NoInput),
            (401, "", None, QoeReply::Refused),
            (403, "", None, QoeReply::Refused),
            (429, "", Some(12), QoeReply::RateLimited(12)),
            (429, "", None, QoeReply::RateLimited(30)),
            (429, "", Some(99_999), QoeReply::RateLimited(300)),
            (
                500,
                r#"{"error":"figures unavailable"}"#,
                None,
                QoeReply::Failed,
            ),
        ];
        for (status, body, retry, want) in table {
            assert_eq!(reply(status, body, retry), want, "{status} {body}");
        }
        let many = format!(
            r#"{{"recordings":[{}]}}"#,
            vec![r#"{"views":1}"#; 50].join(",")
        );
        let QoeReply::Figures(q) = reply(200, &many, None) else {
            panic!()
        };
        assert_eq!(q.recordings.len(), MAX_ROWS);
    }

    #[test]
    fn rows() {
        let v = VideoQoe {
            video_uid: "v".into(),
            views: 530,
            minutes_viewed: 6120.5,
            rebuffer_percent: 0.42,
            startup_median_ms: Some(850),
            startup_p90_ms: None,
            failures: 3,
        };
        let r = row(&v);
        let cells: Vec<_> = r
            .cells
            .iter()
            .map(|(k, t, v)| (*k, t.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                ("views", "530", "530"),
                ("minutes", "6120.5", "6120.50"),
                ("rebuffer", "0.42 %", "0.42"),
                ("startup-median", "0.85 s", "850"),
                ("startup-p90", "—", ""),
                ("failures", "3", "3"),
            ]
        );
        let names: Vec<_> = r.cells.iter().map(|c| c.0).collect();
        assert_eq!(names, COLUMNS.map(|c| c.0));
        let odd = row(&VideoQoe {
            minutes_viewed: f64::NAN,
            rebuffer_percent: -3.0,
            ..v
        });
        assert_eq!(odd.cells[1].1, "0.0");
        assert_eq!(odd.cells[2].1, "0.00 %");
    }

    #[test]
    fn charts() {
        let p = |t, viewers, rebuffer_percent| Point {
            t,
            viewers,
            rebuffer_percent,
        };
        assert_eq!(chart(&[]), None);
        // One minute: a flat line across the box at the peak.
        let c = chart(&[p(600, 4.0, 0.0)]).unwrap();
        assert_eq!(c.viewers, "0.0,0.0 300.0,0.0");
        assert_eq!(c.rebuffer, "0.0,80.0 300.0,80.0");
        assert_eq!((c.minutes, c.peak_viewers, c.rebuffer_scale), (1, 4.0, 5.0));
        // A missing minute is 0 viewers; order does not matter; the
        // rebuffering scale grows past 5 % when needed.
        let c = chart(&[p(720, 1.0, 10.0), p(600, 2.0, 0.0)]).unwrap();
        assert_eq!(c.minutes, 3);
        assert_eq!(c.viewers, "0.0,0.0 150.0,80.0 300.0,40.0");
        assert_eq!(c.rebuffer, "0.0,80.0 150.0,80.0 300.0,0.0");
        // Nothing but zeros: lines along the bottom, no division by zero.
        let c = chart(&[p(0, 0.0, 0.0), p(60, f64::NAN, -1.0)]).unwrap();
        assert_eq!(c.viewers, "0.0,80.0 300.0,80.0");
        assert_eq!(c.rebuffer, "0.0,80.0 300.0,80.0");
        // Bounded: only the last MAX_MINUTES minutes, whatever the span.
        let c = chart(&[p(0, 1.0, 0.0), p(60 * 100_000, 1.0, 0.0)]).unwrap();
        assert_eq!(c.minutes, MAX_MINUTES);
        assert_eq!(c.viewers.split(' ').count(), MAX_MINUTES);
        // Absurd rebuffering is capped at 100 %.
        assert_eq!(chart(&[p(0, 1.0, 1e9)]).unwrap().rebuffer_scale, 100.0);
    }
}
