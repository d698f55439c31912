//! ffmpeg command lines, built by pure functions: the synthetic broadcast,
//! the RTMP remux, the thumbnail grab. ffmpeg runs with the broadcast's
//! directory as its working directory, so every output name is relative.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hls::Variant;

/// A frame size `WxH`: both even (yuv420p), 16x16 to 3840x2160.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSize {
    pub width: u32,
    pub height: u32,
}

impl FromStr for VideoSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("bad video size `{s}`: expected WxH, e.g. 1280x720");
        let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let width: u32 = w.parse().map_err(|_| bad())?;
        let height: u32 = h.parse().map_err(|_| bad())?;
        if !(16..=3840).contains(&width) || !(16..=2160).contains(&height) {
            return Err(format!("bad video size `{s}`: between 16x16 and 3840x2160"));
        }
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(format!(
                "bad video size `{s}`: width and height must be even"
            ));
        }
        Ok(Self { width, height })
    }
}

impl fmt::Display for VideoSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl Serialize for VideoSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VideoSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// x264's presets, fastest first.
pub const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Checks an x264 preset name.
pub fn parse_preset(s: &str) -> Result<String, String> {
    if PRESETS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "bad preset `{s}`: expected one of {}",
            PRESETS.join(", ")
        ))
    }
}

/// Frames per second accepted for the synthetic broadcast.
pub const FPS_RANGE: std::ops::RangeInclusive<u32> = 1..=60;

/// How a synthetic broadcast is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encode {
    pub size: VideoSize,
    pub preset: String,
    pub fps: u32,
    /// Two renditions (the size above and a 360p one) instead of one.
    pub abr: bool,
}

/// AAC bit rate of every rendition, kbit/s.
pub const AUDIO_KBPS: u64 = 128;
/// Video peak rate of the top rendition (Jibri streams at most ~3 Mbit/s).
pub const TOP_MAXRATE_KBPS: u64 = 3000;
/// Video peak rate of the low ABR rendition.
pub const LOW_MAXRATE_KBPS: u64 = 800;

/// One rendition of a broadcast: its media playlist is `<name>.m3u8`, its
/// segments `<name>_NNNNN.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendition {
    pub name: String,
    /// Known for synthetic broadcasts, unknown for RTMP remuxes.
    pub size: Option<VideoSize>,
    pub fps: Option<u32>,
    /// Nominal peak video rate, kbit/s (for the master's BANDWIDTH).
    pub video_kbps: u64,
}

impl Rendition {
    pub fn playlist(&self) -> String {
        format!("{}.m3u8", self.name)
    }

    pub fn variant(&self) -> Variant {
        Variant {
            uri: self.playlist(),
            bandwidth: (self.video_kbps + AUDIO_KBPS) * 1000,
            resolution: self.size.map(|s| (s.width, s.height)),
            frame_rate: self.fps,
        }
    }
}

/// The low ABR size: 360 lines at the same aspect ratio, or half the size
/// when the top is already 360 lines or fewer.
pub fn low_size(top: VideoSize) -> VideoSize {
    let even = |v: u64| ((v / 2) * 2).max(16) as u32;
    if top.height > 360 {
        VideoSize {
            width: even(u64::from(top.width) * 360 / u64::from(top.height)),
            height: 360,
        }
    } else {
        VideoSize {
            width: even(u64::from(top.width) / 2),
            height: even(u64::from(top.height) / 2),
        }
    }
}

/// The renditions of a synthetic broadcast, best first.
pub fn synthetic_renditions(enc: &Encode) -> Vec<Rendition> {
    let mut out = vec![Rendition {
        name: "stream_0".into(),
        size: Some(enc.size),
        fps: Some(enc.fps),
        video_kbps: TOP_MAXRATE_KBPS,
    }];
    if enc.abr {
        out.push(Rendition {
            name: "stream_1".into(),
            size: Some(low_size(enc.size)),
            fps: Some(enc.fps),
            video_kbps: LOW_MAXRATE_KBPS,
        });
    }
    out
}

/// The single rendition of an RTMP remux (its size is the publisher's).
pub fn remux_rendition() -> Rendition {
    Rendition {
        name: "stream_0".into(),
        size: None,
        fps: None,
        video_kbps: TOP_MAXRATE_KBPS,
    }
}

/// The HLS muxer options and outputs; with a stream map, one playlist per
/// variant (`%v`), else a single `stream_0`.
fn hls_output(segment_seconds: u32, var_stream_map: Option<String>, out: &mut Vec<String>) {
    let pattern = if var_stream_map.is_some() { "%v" } else { "0" };
    out.extend(
        [
            "-f",
            "hls",
            "-hls_time",
            &segment_seconds.to_string(),
            "-hls_playlist_type",
            "event",
            "-hls_list_size",
            "0",
            "-hls_flags",
            // program_date_time: each segment's wall-clock start
            // (EXT-X-PROGRAM-DATE-TIME), as Cloudflare writes it, so that
            // players can measure latency behind the wall clock.
            "independent_segments+program_date_time",
        ]
        .map(String::from),
    );
    if let Some(map) = var_stream_map {
        out.extend(["-var_stream_map".into(), map]);
    }
    out.push("-hls_segment_filename".into());
    out.push(format!("stream_{pattern}_%05d.ts"));
    out.push(format!("stream_{pattern}.m3u8"));
}

const GLOBAL: [&str; 6] = [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "warning",
    "-y",
];

/// The synthetic broadcast: a moving test pattern with the wall clock burned
/// in, a tone that beeps every second, encoded like Jibri (x264 zerolatency,
/// GOP = one segment, ≤ 3 Mbit/s, AAC 128k 44.1 kHz) into an event HLS
/// playlist per rendition.
///
/// `clock_offset` is added to each frame's capture time (seconds since the
/// Unix epoch) to get the shown time: see [`clock_offset`]. `font` is a TTF
/// file; without one, fontconfig picks a font.
pub fn synthetic_args(
    enc: &Encode,
    segment_seconds: u32,
    font: Option<&str>,
    clock_offset: f64,
) -> Vec<String> {
    let renditions = synthetic_renditions(enc);
    let gop = (enc.fps * segment_seconds.max(1)).to_string();
    let mut a: Vec<String> = GLOBAL.map(String::from).to_vec();
    a.extend([
        "-re".into(),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("testsrc2=size={}:rate={}", enc.size, enc.fps),
        "-re".into(),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        "sine=frequency=440:beep_factor=2:sample_rate=44100".into(),
    ]);
    // Each frame's pts becomes its wall-clock capture time (RTCTIME, µs) for
    // drawtext, then goes back to frame count / fps.
    let fontfile = font.map(|f| format!("fontfile={f}:")).unwrap_or_default();
    let mut graph = format!(
        "[0:v]settb=1/1000000,setpts=RTCTIME,\
         drawtext={fontfile}text='%{{pts\\:hms\\:{clock_offset:.3}}}':fontsize=h/9:fontcolor=white:\
         box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h/12,\
         settb=1/{fps},setpts=N",
        fps = enc.fps
    );
    if let [_, low] = renditions.as_slice() {
        let s = low.size.unwrap_or(enc.size);
        graph.push_str(&format!(
            ",split=2[v0][s1];[s1]scale={}:{}[v1]",
            s.width, s.height
        ));
    } else {
        graph.push_str("[v0]");
    }
    a.extend(["-filter_complex".into(), graph]);
    for i in 0..renditions.len() {
        a.extend([
            "-map".into(),
            format!("[v{i}]"),
            "-map".into(),
            "1:a".into(),
        ]);
    }
    a.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            &enc.preset,
            "-tune",
            "zerolatency",
            "-crf",
            "25",
            "-g",
            &gop,
            "-keyint_min",
            &gop,
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-maxrate:v",
            "3M",
            "-bufsize:v",
            "6M",
        ]
        .map(String::from),
    );
    if renditions.len() > 1 {
        a.extend(["-maxrate:v:1", "800k", "-bufsize:v:1", "1600k"].map(String::from));
    }
    a.extend(["-c:a", "aac", "-b:a", "128k", "-ar", "44100"].map(String::from));
    let map = (0..renditions.len())
        .map(|i| format!("v:{i},a:{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    hls_output(segment_seconds, Some(map), &mut a);
    a
}

/// The RTMP remux: FLV on stdin, copied (no re-encode) into one event HLS
/// playlist. `-nostdin` keeps ffmpeg from reading stdin as keystrokes.
pub fn remux_args(segment_seconds: u32) -> Vec<String> {
    let mut a: Vec<String> = GLOBAL.map(String::from).to_vec();
    a.extend(
        [
            "-f", "flv", "-i", "pipe:0", "-map", "0:v?", "-map", "0:a?", "-c", "copy",
        ]
        .map(String::from),
    );
    hls_output(segment_seconds, None, &mut a);
    a
}

/// One JPEG frame of `segment` at `seek` seconds into it, `height` lines high
/// (width follows the aspect ratio), on stdout.
pub fn thumbnail_args(segment: &str, seek: f64, height: Option<u32>) -> Vec<String> {
    let mut a: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    // Seek after -i (decode and drop): an input seek into a 2 s MPEG-TS
    // segment with one keyframe finds no frame in ffmpeg 5.1 and writes
    // nothing. Decoding at most one segment is cheap.
    a.extend([
        "-i".into(),
        segment.into(),
        "-ss".into(),
        format!("{:.3}", seek.max(0.0)),
        "-frames:v".into(),
        "1".into(),
    ]);
    if let Some(h) = height {
        a.extend(["-vf".into(), format!("scale=-2:{h}")]);
    }
    a.extend(["-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3", "pipe:1"].map(String::from));
    a
}

/// The offset that turns a Unix time into seconds since local midnight (the
/// day the broadcast starts), for drawtext's `%{pts:hms:OFFSET}`.
pub fn clock_offset(unix_now: f64, utc_offset_secs: i64) -> f64 {
    let local = unix_now + utc_offset_secs as f64;
    let since_midnight = local.rem_euclid(86_400.0);
    -(unix_now - since_midnight).round()
}

/// The local time zone's offset from UTC at `unix_secs` (0 when unknown).
pub fn local_utc_offset(unix_secs: i64) -> i64 {
    let t = unix_secs as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r is the reentrant variant; it only reads `t` and
    // writes `tm`, both valid for the duration of the call.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        0
    } else {
        tm.tm_gmtoff
    }
}

/// Parses a Cloudflare thumbnail `time` (`"1.5s"`, `"2m"`, `"1h"`, `"3"`) to
/// seconds; `None` when it is not one.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last()? {
        (i, 's') => (&s[..i], 1.0),
        (i, 'm') => (&s[..i], 60.0),
        (i, 'h') => (&s[..i], 3600.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(size: &str, abr: bool) -> Encode {
        Encode {
            size: size.parse().unwrap(),
            preset: "ultrafast".into(),
            fps: 30,
            abr,
        }
    }

    fn pos(a: &[String], s: &str) -> usize {
        a.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} missing in {a:?}"))
    }

    fn after<'a>(a: &'a [String], s: &str) -> &'a str {
        &a[pos(a, s) + 1]
    }

    #[test]
    fn video_size_parsing() {
        assert_eq!(
            "1280x720".parse::<VideoSize>(),
            Ok(VideoSize {
                width: 1280,
                height: 720
            })
        );
        for bad in [
            "", "1280", "x720", "1280x", "12x720", "1281x720", "4000x720", "axb", "-2x4",
        ] {
            assert!(bad.parse::<VideoSize>().is_err(), "{bad}");
        }
        let v: VideoSize = serde_json::from_str("\"640x360\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"640x360\"");
        assert!(serde_json::from_str::<VideoSize>("\"640\"").is_err());
    }

    #[test]
    fn presets() {
        assert_eq!(parse_preset("veryfast").unwrap(), "veryfast");
        assert!(parse_preset("turbo").is_err());
    }

    #[test]
    fn synthetic_single_rendition() {
        let a = synthetic_args(&enc("1280x720", false), 2, Some("/f.ttf"), -100.0);
        // Inputs first, each with -re; no -t anywhere.
        assert_eq!(after(&a, "-i"), "testsrc2=size=1280x720:rate=30");
        assert_eq!(a.iter().filter(|x| *x == "-re").count(), 2);
        assert!(a.iter().any(|x| x.starts_with("sine=")));
        assert!(!a.contains(&"-t".to_string()));
        let graph = after(&a, "-filter_complex");
        assert!(graph.contains("setpts=RTCTIME"), "{graph}");
        assert!(graph.contains("fontfile=/f.ttf:"), "{graph}");
        assert!(graph.contains("text='%{pts\\:hms\\:-100.000}'"), "{graph}");
        assert!(graph.ends_with("setpts=N[v0]"), "{graph}");
        // Jibri-like encode.
        for (k, v) in [
            ("-c:v", "libx264"),
            ("-preset", "ultrafast"),
            ("-tune", "zerolatency"),
            ("-g", "60"),
            ("-keyint_min", "60"),
            ("-sc_threshold", "0"),
            ("-maxrate:v", "3M"),
            ("-bufsize:v", "6M"),
            ("-pix_fmt", "yuv420p"),
            ("-c:a", "aac"),
            ("-b:a", "128k"),
            ("-ar", "44100"),
            ("-hls_time", "2"),
            ("-hls_playlist_type", "event"),
            ("-hls_list_size", "0"),
            ("-hls_flags", "independent_segments+program_date_time"),
            ("-var_stream_map", "v:0,a:0"),
            ("-hls_segment_filename", "stream_%v_%05d.ts"),
        ] {
            assert_eq!(after(&a, k), v, "{k}");
        }
        assert_eq!(a.last().unwrap(), "stream_%v.m3u8");
        // Output options come after the last input.
        let last_input = a.iter().rposition(|x| x == "-i").unwrap();
        assert!(pos(&a, "-c:v") > last_input);
        assert!(pos(&a, "-var_stream_map") < pos(&a, "-hls_segment_filename"));
    }

    #[test]
    fn synthetic_abr_and_gop_follow_settings() {
        let mut e = enc("1280x720", true);
        e.fps = 15;
        let a = synthetic_args(&e, 1, None, 0.0);
        assert_eq!(after(&a, "-g"), "15");
        let graph = after(&a, "-filter_complex");
        assert!(
            graph.contains("split=2[v0][s1];[s1]scale=640:360[v1]"),
            "{graph}"
        );
        assert!(!graph.contains("fontfile"));
        assert_eq!(after(&a, "-var_stream_map"), "v:0,a:0 v:1,a:1");
        assert_eq!(a.iter().filter(|x| *x == "-map").count(), 4);
        assert_eq!(after(&a, "-maxrate:v:1"), "800k");
        let r = synthetic_renditions(&e);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].playlist(), "stream_1.m3u8");
        assert_eq!(r[0].variant().bandwidth, 3_128_000);
        assert_eq!(r[1].variant().resolution, Some((640, 360)));
    }

    #[test]
    fn low_sizes() {
        let s = |x: &str| x.parse::<VideoSize>().unwrap();
        assert_eq!(low_size(s("1280x720")), s("640x360"));
        assert_eq!(low_size(s("1920x1080")), s("640x360"));
        assert_eq!(low_size(s("1024x768")), s("480x360"));
        assert_eq!(low_size(s("640x360")), s("320x180"));
        assert_eq!(low_size(s("320x180")), s("160x90"));
        assert_eq!(low_size(s("16x16")), s("16x16"));
    }

    #[test]
    fn remux_copies_stdin_to_hls() {
        let a = remux_args(2);
        assert_eq!(after(&a, "-f"), "flv");
        assert_eq!(after(&a, "-i"), "pipe:0");
        assert_eq!(after(&a, "-c"), "copy");
        assert!(a.contains(&"-nostdin".to_string()));
        assert!(!a.contains(&"-var_stream_map".to_string()));
        assert_eq!(after(&a, "-hls_segment_filename"), "stream_0_%05d.ts");
        assert_eq!(
            after(&a, "-hls_flags"),
            "independent_segments+program_date_time"
        );
        assert_eq!(a.last().unwrap(), "stream_0.m3u8");
        assert_eq!(remux_rendition().playlist(), "stream_0.m3u8");
    }

    #[test]
    fn thumbnail() {
        let a = thumbnail_args("/x/stream_0_00001.ts", 0.5, Some(270));
        assert_eq!(after(&a, "-ss"), "0.500");
        // Regression: `-ss` before `-i` gave no frame for seeks past 0 (500s
        // for every `?time=1s` thumbnail).
        assert!(pos(&a, "-ss") > pos(&a, "-i"));
        assert_eq!(after(&a, "-vf"), "scale=-2:270");
        assert_eq!(a.last().unwrap(), "pipe:1");
        assert!(!thumbnail_args("a.ts", -1.0, None).contains(&"-vf".to_string()));
        assert_eq!(after(&thumbnail_args("a.ts", -1.0, None), "-ss"), "0.000");
    }

    #[test]
    fn clock_offsets() {
        let day = 86_400.0 * 20_000.0;
        // 01:00:00.5 UTC.
        assert_eq!(clock_offset(day + 3600.5, 0), -day);
        // Same instant at UTC+2: 03:00:00.5 local, so local midnight is 22:00 UTC the day before.
        let off = clock_offset(day + 3600.5, 7200);
        assert_eq!(day + 3600.5 + off, 3.0 * 3600.0 + 0.5);
        // UTC-5 at 01:00 UTC: 20:00 local the day before.
        let off = clock_offset(day + 3600.5, -5 * 3600);
        assert_eq!(day + 3600.5 + off, 20.0 * 3600.0 + 0.5);
    }

    #[test]
    fn thumbnail_times() {
        let cases = [
            ("1s", Some(1.0)),
            ("1.5s", Some(1.5)),
            ("2m", Some(120.0)),
            ("1h", Some(3600.0)),
            ("3", Some(3.0)),
            ("0", Some(0.0)),
            ("", None),
            ("s", None),
            ("-1s", None),
            ("abc", None),
            ("NaN", None),
            ("inf", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time(s), want, "{s}");
        }
    }
}
