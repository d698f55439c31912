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
            duration = Some(num(line, d)?);
            pending.push(line.to_string());
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
