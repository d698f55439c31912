//! HLS playlists: parsing ffmpeg's event playlists and rendering what the
//! origin serves from them (a live sliding window, a finished VOD, a master
//! playlist). Pure text in, text out.

use std::fmt::Write as _;

/// A media playlist as ffmpeg writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaPlaylist {
    pub version: Option<u32>,
    pub target_duration: u64,
    pub media_sequence: u64,
    pub discontinuity_sequence: u64,
    /// Other header tags, kept verbatim (e.g. `#EXT-X-INDEPENDENT-SEGMENTS`).
    pub header_extra: Vec<String>,
    pub segments: Vec<Segment>,
    pub ended: bool,
}

/// One media segment: its URI, its duration and the tags before it
/// (`#EXTINF` included, verbatim).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub tags: Vec<String>,
    pub duration: f64,
    pub uri: String,
}

impl Segment {
    fn has_discontinuity(&self) -> bool {
        self.tags.iter().any(|t| t == "#EXT-X-DISCONTINUITY")
    }

    /// The wall-clock time of the segment's first frame
    /// (`EXT-X-PROGRAM-DATE-TIME`), ms since the Unix epoch.
    pub fn program_date_time_ms(&self) -> Option<i64> {
        self.tags
            .iter()
            .find_map(|t| tag_value(t, "#EXT-X-PROGRAM-DATE-TIME"))
            .and_then(parse_date_time)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Ms since the Unix epoch of an ISO 8601 date-time as HLS writers put it:
/// `YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh[[:]mm])`.
pub fn parse_date_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = |a: usize, b: usize| -> Option<i64> {
        let part = s.get(a..b)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let sep = |i: usize, c: u8| s.as_bytes().get(i) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (y, mo, d) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (h, mi, sec) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..n.min(3)]);
        ms = first3.parse().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let o = rest[1..].replace(':', "");
            if !o.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om) = match o.len() {
                2 => (o.parse::<i64>().ok()?, 0),
                4 => (o[..2].parse::<i64>().ok()?, o[2..].parse::<i64>().ok()?),
                _ => return None,
            };
            sign * (oh * 60 + om)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// `YYYY-MM-DDThh:mm:ss.fffZ`.
pub fn format_date_time(ms: i64) -> String {
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, rem) = (in_day / 3_600_000, in_day % 3_600_000);
    let (mi, rem) = (rem / 60_000, rem % 60_000);
    format!(
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{:02}.{:03}Z",
        rem / 1000,
        rem % 1000
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an HLS playlist (no #EXTM3U)")]
    NotHls,
    #[error("bad tag: {0}")]
    BadTag(String),
}

fn tag_value<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.strip_prefix(tag)?.strip_prefix(':')
}

fn num<T: std::str::FromStr>(line: &str, v: &str) -> Result<T, ParseError> {
    v.trim()
        .parse()
        .map_err(|_| ParseError::BadTag(line.to_string()))
}

/// Parses a media playlist.
pub fn parse(text: &str) -> Result<MediaPlaylist, ParseError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("#EXTM3U") {
        return Err(ParseError::NotHls);
    }
    let mut pl = MediaPlaylist {
        version: None,
        target_duration: 0,
        media_sequence: 0,
        discontinuity_sequence: 0,
        header_extra: Vec::new(),
        segments: Vec::new(),
        ended: false,
    };
    let mut pending: Vec<String> = Vec::new();
    let mut duration: Option<f64> = None;
    for line in lines {
        if let Some(v) = tag_value(line, "#EXT-X-VERSION") {
            pl.version = Some(num(line, v)?);
        } else if let Some(v) = tag_value(line, "#EXT-X-TARGETDURATION") {
            pl.target_duration = num(line, v)?;
        } else if let Some(v) = tag_value(line, "#EXT-X-MEDIA-SEQUENCE") {
            pl.media_sequence = num(line, v)?;
        } else if let Some(v) = tag_value(line, "#EXT-X-DISCONTINUITY-SEQUENCE") {
            pl.discontinuity_sequence = num(line, v)?;
        } else if tag_value(line, "#EXT-X-PLAYLIST-TYPE").is_some() {
            // Recomputed on output.
        } else if line == "#EXT-X-ENDLIST" {
            pl.ended = true;
        } else if let Some(v) = tag_value(line, "#EXTINF") {
            let d = v.split(',').next().unwrap_or_default();
            let d: f64 = num(line, d)?;
            // `inf`, `NaN` and negatives parse as f64 but are no duration
            // (a tampered playlist in the data dir is read at recovery).
            if !d.is_finite() || d < 0.0 {
                return Err(ParseError::BadTag(line.to_string()));
            }
            duration = Some(d);
            pending.push(line.to_string());
        } else if let Some(v) = tag_value(line, "#EXT-X-PROGRAM-DATE-TIME") {
            // ffmpeg writes local time with a `+hhmm` offset; players parse
            // RFC 3339 in UTC best (it is what Cloudflare writes). A date
            // that does not parse is dropped: none is better than a wrong one.
            if let Some(ms) = parse_date_time(v) {
                pending.push(format!("#EXT-X-PROGRAM-DATE-TIME:{}", format_date_time(ms)));
            }
        } else if line.starts_with('#') {
            // Before the first segment, tags that do not belong to a segment
            // are header tags.
            let is_header = pending.is_empty()
                && pl.segments.is_empty()
                && !matches!(
                    line.split(':').next(),
                    Some(
                        "#EXT-X-DISCONTINUITY"
                            | "#EXT-X-PROGRAM-DATE-TIME"
                            | "#EXT-X-KEY"
                            | "#EXT-X-MAP"
                            | "#EXT-X-BYTERANGE"
                            | "#EXT-X-GAP"
                    )
                );
            if is_header {
                pl.header_extra.push(line.to_string());
            } else {
                pending.push(line.to_string());
            }
        } else {
            pl.segments.push(Segment {
                tags: std::mem::take(&mut pending),
                duration: duration.take().unwrap_or(0.0),
                uri: line.to_string(),
            });
        }
    }
    Ok(pl)
}

/// The playlist type written on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A sliding window of a running broadcast: no type, no end.
    Live,
    /// A sliding window of a broadcast that has ended: no type, `#EXT-X-ENDLIST`.
    LiveEnded,
    /// A whole finished recording: `#EXT-X-PLAYLIST-TYPE:VOD` and `#EXT-X-ENDLIST`.
    Vod,
}

impl MediaPlaylist {
    /// The last `n` segments (at least one when there is one), with the
    /// media and discontinuity sequences moved on accordingly.
    pub fn window(&self, n: usize) -> MediaPlaylist {
        let keep = n.max(1).min(self.segments.len());
        let skip = self.segments.len() - keep;
        let skipped = &self.segments[..skip];
        MediaPlaylist {
            media_sequence: self.media_sequence + skip as u64,
            discontinuity_sequence: self.discontinuity_sequence
                + skipped.iter().filter(|s| s.has_discontinuity()).count() as u64,
            segments: self.segments[skip..].to_vec(),
            ..self.clone()
        }
    }

    /// Total duration in seconds.
    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// Renders the playlist as `kind`.
    pub fn render(&self, kind: Kind) -> String {
        let mut out = String::from("#EXTM3U\n");
        let target = self
            .segments
            .iter()
            .map(|s| s.duration.round() as u64)
            .max()
            .unwrap_or(0)
            .max(self.target_duration);
        if let Some(v) = self.version {
            let _ = writeln!(out, "#EXT-X-VERSION:{v}");
        }
        let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
        let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{}", self.media_sequence);
        if self.discontinuity_sequence > 0 {
            let _ = writeln!(
                out,
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
                self.discontinuity_sequence
            );
        }
        if kind == Kind::Vod {
            out.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n");
        }
        for h in &self.header_extra {
            out.push_str(h);
            out.push('\n');
        }
        for s in &self.segments {
            for t in &s.tags {
                out.push_str(t);
                out.push('\n');
            }
            out.push_str(&s.uri);
            out.push('\n');
        }
        if kind != Kind::Live {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }
}

/// The live view of an event playlist: its last `window` segments.
pub fn live_window(text: &str, window: usize, ended: bool) -> Result<String, ParseError> {
    let kind = if ended { Kind::LiveEnded } else { Kind::Live };
    Ok(parse(text)?.window(window).render(kind))
}

/// The whole recording as VOD.
pub fn vod(text: &str) -> Result<String, ParseError> {
    Ok(parse(text)?.render(Kind::Vod))
}

/// Appends `#EXT-X-ENDLIST` to an event playlist that lacks it (ffmpeg was
/// killed before writing it). `None` when nothing needs to change.
pub fn close_event_playlist(text: &str) -> Option<String> {
    if text.lines().any(|l| l.trim() == "#EXT-X-ENDLIST") {
        return None;
    }
    let mut out = text.trim_end().to_string();
    out.push_str("\n#EXT-X-ENDLIST\n");
    Some(out)
}

/// The segment a thumbnail at `time` seconds comes from, and the offset into
/// it: the last segment when no time is given; times past the end clamp to
/// the last segment's start. Offsets stay 0.25 s clear of a segment's end so
/// that a frame is always found.
pub fn locate(pl: &MediaPlaylist, time: Option<f64>) -> Option<(&Segment, f64)> {
    let last = pl.segments.last()?;
    let Some(t) = time else {
        return Some((last, 0.0));
    };
    let mut start = 0.0;
    for s in &pl.segments {
        if t < start + s.duration {
            let seek = (t - start).min(s.duration - 0.25).max(0.0);
            return Some((s, seek));
        }
        start += s.duration;
    }
    Some((last, 0.0))
}

/// One rendition in a master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Relative URI of the media playlist (`stream_0.m3u8`).
    pub uri: String,
    /// Peak bits per second (video + audio).
    pub bandwidth: u64,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<u32>,
}

/// A master playlist listing `variants` in the given order.
pub fn master(variants: &[Variant]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in variants {
        let _ = write!(out, "#EXT-X-STREAM-INF:BANDWIDTH={}", v.bandwidth);
        if let Some((w, h)) = v.resolution {
            let _ = write!(out, ",RESOLUTION={w}x{h}");
        }
        if let Some(r) = v.frame_rate {
            let _ = write!(out, ",FRAME-RATE={r}.000");
        }
        let _ = writeln!(out, "\n{}", v.uri);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As ffmpeg 5.1 writes it with `-hls_playlist_type event -hls_list_size 0`.
    const EVENT: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n\
        #EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000000,\nstream_0_00000.ts\n#EXTINF:2.000000,\n\
        stream_0_00001.ts\n#EXTINF:2.000000,\nstream_0_00002.ts\n#EXTINF:1.500000,\nstream_0_00003.ts\n";

    #[test]
    fn parses_ffmpeg_event_playlist() {
        let pl = parse(EVENT).unwrap();
        assert_eq!(pl.version, Some(3));
        assert_eq!(pl.target_duration, 2);
        assert_eq!(pl.segments.len(), 4);
        assert_eq!(pl.segments[3].uri, "stream_0_00003.ts");
        assert!((pl.duration() - 7.5).abs() < 1e-9);
        assert!(!pl.ended);
        assert!(pl.header_extra.is_empty());
        assert_eq!(parse("hello"), Err(ParseError::NotHls));
        assert!(matches!(
            parse("#EXTM3U\n#EXTINF:x,\na.ts"),
            Err(ParseError::BadTag(_))
        ));
    }

    #[test]
    fn live_window_slides() {
        let out = live_window(EVENT, 2, false).unwrap();
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:2\n\
             #EXTINF:2.000000,\nstream_0_00002.ts\n#EXTINF:1.500000,\nstream_0_00003.ts\n"
        );
        // A window larger than the playlist keeps everything, sequence 0.
        let all = live_window(EVENT, 10, false).unwrap();
        assert!(all.contains("#EXT-X-MEDIA-SEQUENCE:0\n"));
        assert_eq!(all.matches("#EXTINF").count(), 4);
        assert!(!all.contains("PLAYLIST-TYPE"));
        assert!(!all.contains("ENDLIST"));
        // Ended: same window, with the end tag.
        assert!(live_window(EVENT, 2, true)
            .unwrap()
            .ends_with("#EXT-X-ENDLIST\n"));
        // Window 0 is treated as 1.
        assert_eq!(
            live_window(EVENT, 0, false)
                .unwrap()
                .matches("#EXTINF")
                .count(),
            1
        );
    }

    #[test]
    fn window_counts_skipped_discontinuities() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n\
                    #EXTINF:2,\nc.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nd.ts\n";
        let w = parse(text).unwrap().window(2);
        assert_eq!(w.media_sequence, 2);
        assert_eq!(w.discontinuity_sequence, 1);
        let out = w.render(Kind::Live);
        assert!(out.contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"));
        assert!(out.contains("#EXT-X-DISCONTINUITY\n#EXTINF:2,\nd.ts\n"));
    }

    #[test]
    fn vod_has_type_and_end_once() {
        let out = vod(EVENT).unwrap();
        assert!(out.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"));
        assert!(!out.contains("EVENT"));
        assert_eq!(out.matches("#EXTINF").count(), 4);
        assert!(out.ends_with("#EXT-X-ENDLIST\n"));
        let closed = close_event_playlist(EVENT).unwrap();
        assert!(closed.ends_with("stream_0_00003.ts\n#EXT-X-ENDLIST\n"));
        assert_eq!(close_event_playlist(&closed), None);
        assert_eq!(vod(&closed).unwrap().matches("#EXT-X-ENDLIST").count(), 1);
    }

    #[test]
    fn keeps_unknown_header_tags_and_raises_target_duration() {
        let text =
            "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:2\n#EXTINF:3.4,\na.ts\n";
        let out = parse(text).unwrap().render(Kind::Live);
        assert!(out.contains("#EXT-X-INDEPENDENT-SEGMENTS\n"));
        assert!(out.contains("#EXT-X-TARGETDURATION:3\n"));
        // Empty playlist renders with no segments and no panic.
        let empty = parse("#EXTM3U\n#EXT-X-TARGETDURATION:2\n").unwrap();
        assert_eq!(empty.window(6).segments.len(), 0);
    }

    #[test]
    fn program_date_times_parse_and_render_in_utc() {
        let table = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1970-01-01T00:00:00.5Z", Some(500)),
            // As ffmpeg 5.1 writes it (local time, `+hhmm`).
            ("2026-11-30T20:49:04.390+0000", Some(1_796_071_744_390)),
            ("2000-02-29T12:00:00.500+01:00", Some(951_822_000_500)),
            ("2000-02-29T12:00:00.500+01", Some(951_822_000_500)),
            ("1999-12-31T23:00:00.123456-0130", Some(946_686_600_123)),
            ("2024-01-01T00:00:00.000z", Some(1_704_067_200_000)),
            ("2024-01-01T00:00:00", None),
            ("2024-13-01T00:00:00Z", None),
            ("2024-01-01 00:00:00Z", None),
            ("2024-01-01T00:00:00.Z", None),
            ("2024-01-01T00:00:00+1", None),
            ("2024-01-01T0a:00:00Z", None),
            ("+024-01-01T00:00:00Z", None),
            ("", None),
        ];
        for (s, want) in table {
            assert_eq!(parse_date_time(s), want, "{s}");
        }
        for ms in [
            0,
            951_822_000_500,
            1_796_071_744_390,
            -86_400_001,
            4_102_444_800_000,
        ] {
            assert_eq!(parse_date_time(&format_date_time(ms)), Some(ms), "{ms}");
        }
        assert_eq!(
            format_date_time(1_796_071_744_390),
            "2026-11-30T20:49:04.390Z"
        );

        // ffmpeg's tag (after EXTINF) stays with its segment, in UTC; a bad
        // one is dropped; the window keeps them.
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000000,\n\
                    #EXT-X-PROGRAM-DATE-TIME:2026-11-30T21:49:04.390+0100\na.ts\n\
                    #EXTINF:2.000000,\n#EXT-X-PROGRAM-DATE-TIME:yesterday\nb.ts\n\
                    #EXTINF:2.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-30T20:49:08.390+0000\nc.ts\n";
        let pl = parse(text).unwrap();
        let dates: Vec<_> = pl
            .segments
            .iter()
            .map(Segment::program_date_time_ms)
            .collect();
        assert_eq!(
            dates,
            [Some(1_796_071_744_390), None, Some(1_796_071_748_390)]
        );
        let out = pl.window(2).render(Kind::Live);
        assert!(
            out.ends_with(
                "#EXTINF:2.000000,\nb.ts\n#EXTINF:2.000000,\n\
                 #EXT-X-PROGRAM-DATE-TIME:2026-11-30T20:49:08.390Z\nc.ts\n"
            ),
            "{out}"
        );
        assert!(pl.header_extra.is_empty());
    }

    #[test]
    fn locate_thumbnail_segment() {
        let pl = parse(EVENT).unwrap();
        let at = |t| locate(&pl, t).map(|(s, off)| (s.uri.clone(), off));
        assert_eq!(at(None), Some(("stream_0_00003.ts".into(), 0.0)));
        assert_eq!(at(Some(0.0)), Some(("stream_0_00000.ts".into(), 0.0)));
        assert_eq!(at(Some(2.5)), Some(("stream_0_00001.ts".into(), 0.5)));
        assert_eq!(at(Some(3.9)), Some(("stream_0_00001.ts".into(), 1.75)));
        assert_eq!(at(Some(100.0)), Some(("stream_0_00003.ts".into(), 0.0)));
        let empty = parse("#EXTM3U\n").unwrap();
        assert_eq!(locate(&empty, None), None);
    }

    #[test]
    fn master_lists_variants() {
        let out = master(&[
            Variant {
                uri: "stream_0.m3u8".into(),
                bandwidth: 3_128_000,
                resolution: Some((1280, 720)),
                frame_rate: Some(30),
            },
            Variant {
                uri: "stream_1.m3u8".into(),
                bandwidth: 928_000,
                resolution: None,
                frame_rate: None,
            },
        ]);
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-STREAM-INF:BANDWIDTH=3128000,RESOLUTION=1280x720,FRAME-RATE=30.000\nstream_0.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=928000\nstream_1.m3u8\n"
        );
    }
}
