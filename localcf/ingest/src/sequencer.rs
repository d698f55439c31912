//! Orders one publication's messages into a valid FLV stream.
//!
//! ffmpeg's FLV demuxer (and anything probing the stream) needs the decoder configuration
//! (AVC sequence header, AAC AudioSpecificConfig) before the first frame of that track, and
//! decides which streams exist from what it sees first. Publishers usually send metadata, then
//! both sequence headers, then frames; but some interleave (a video frame before the audio
//! config). So until every track we expect has its config, media is held back; then the FLV
//! header, onMetaData, the configs and the held media go out in that order, and from then on
//! everything passes straight through. Holding is bounded in time, tag count and bytes, so a
//! publisher that never sends a config cannot grow memory or stall the stream for long.

use crate::flv::{self, ScriptValue, TagTooLarge, TagType};
use bytes::Bytes;

/// Without metadata, how much media (ms of timestamps) to wait for a track we have not seen
/// before deciding it does not exist.
const UNANNOUNCED_TRACK_WAIT_MS: u32 = 1_000;
/// Longest media span (ms) held back waiting for a config that was announced but never came.
const MAX_HOLD_MS: u32 = 5_000;
/// Caps on held media, whatever the timestamps say (they come from the publisher).
const MAX_HOLD_TAGS: usize = 1_024;
const MAX_HOLD_BYTES: usize = 16 * 1024 * 1024;

/// Which elementary stream a media message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    Audio,
    Video,
}

impl Track {
    fn tag_type(self) -> TagType {
        match self {
            Track::Audio => TagType::Audio,
            Track::Video => TagType::Video,
        }
    }
}

#[derive(Default)]
struct TrackState {
    /// Announced by onMetaData (`audiocodecid` / `videocodecid` present): Some(true/false).
    announced: Option<bool>,
    /// Latest sequence header, with its timestamp.
    config: Option<(u32, Bytes)>,
    /// Whether the codec of a frame seen so far needs a config; None = no frame seen yet.
    frame_needs_config: Option<bool>,
}

impl TrackState {
    fn present(&self) -> bool {
        self.announced == Some(true) || self.config.is_some() || self.frame_needs_config.is_some()
    }

    /// Whether this track no longer blocks the start of the stream.
    fn ready(&self, waited_ms: u32) -> bool {
        if self.config.is_some() {
            return true;
        }
        match (self.frame_needs_config, self.announced) {
            (Some(needs), _) => !needs,
            (None, Some(announced)) => !announced,
            // Unknown track: give it a moment to show up.
            (None, None) => waited_ms >= UNANNOUNCED_TRACK_WAIT_MS,
        }
    }
}

/// Turns metadata and media messages of one publication into FLV byte chunks, in order.
#[derive(Default)]
pub struct FlvSequencer {
    started: bool,
    metadata: Option<Vec<u8>>,
    audio: TrackState,
    video: TrackState,
    held: Vec<(TagType, u32, Bytes)>,
    held_bytes: usize,
    last_timestamp: u32,
}

impl FlvSequencer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the FLV header has been emitted.
    pub fn started(&self) -> bool {
        self.started
    }

    /// onMetaData (from `@setDataFrame`). Tracks are announced by the presence of
    /// `audiocodecid` / `videocodecid`.
    pub fn metadata(
        &mut self,
        props: &[(String, ScriptValue)],
        out: &mut Vec<Bytes>,
    ) -> Result<(), TagTooLarge> {
        let has = |key: &str| props.iter().any(|(k, _)| k == key);
        let body = flv::on_metadata_body(props);
        if self.started {
            // Metadata update mid-stream: pass it through at the current position.
            out.push(flv::tag(TagType::Script, self.last_timestamp, &body)?);
            return Ok(());
        }
        self.audio.announced = Some(has("audiocodecid"));
        self.video.announced = Some(has("videocodecid"));
        self.metadata = Some(body);
        self.try_start(out)
    }

    /// One audio or video message with its RTMP timestamp (ms).
    pub fn media(
        &mut self,
        track: Track,
        timestamp: u32,
        data: Bytes,
        out: &mut Vec<Bytes>,
    ) -> Result<(), TagTooLarge> {
        // Some encoders send empty messages (keep-alives); an empty FLV media tag breaks parsers.
        if data.is_empty() {
            return Ok(());
        }
        let (is_config, needs_config) = match track {
            Track::Audio => (
                flv::is_audio_sequence_header(&data),
                flv::audio_needs_sequence_header(&data),
            ),
            Track::Video => (
                flv::is_video_sequence_header(&data),
                flv::video_needs_sequence_header(&data),
            ),
        };
        if self.started {
            self.last_timestamp = timestamp;
            out.push(flv::tag(track.tag_type(), timestamp, &data)?);
            return Ok(());
        }
        // Reject oversized data now rather than at flush time, where it would lose the rest.
        if data.len() > flv::MAX_TAG_DATA_LEN {
            return Err(TagTooLarge(data.len()));
        }
        let state = match track {
            Track::Audio => &mut self.audio,
            Track::Video => &mut self.video,
        };
        if is_config {
            state.config = Some((timestamp, data));
        } else {
            state.frame_needs_config = Some(needs_config);
            self.held_bytes += data.len();
            self.held.push((track.tag_type(), timestamp, data));
        }
        self.last_timestamp = timestamp;
        self.try_start(out)
    }

    /// The publication ended: emit whatever is still held so a short stream is not lost.
    pub fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<(), TagTooLarge> {
        let anything = self.metadata.is_some()
            || self.audio.config.is_some()
            || self.video.config.is_some()
            || !self.held.is_empty();
        if !self.started && anything {
            self.start(out)?;
        }
        Ok(())
    }

    fn held_span_ms(&self) -> u32 {
        match self.held.first() {
            Some((_, first, _)) => self.last_timestamp.saturating_sub(*first),
            None => 0,
        }
    }

    fn try_start(&mut self, out: &mut Vec<Bytes>) -> Result<(), TagTooLarge> {
        let waited = self.held_span_ms();
        let all_ready = self.audio.ready(waited) && self.video.ready(waited);
        let anything = self.audio.present() || self.video.present();
        let over_limit = waited >= MAX_HOLD_MS
            || self.held.len() >= MAX_HOLD_TAGS
            || self.held_bytes >= MAX_HOLD_BYTES;
        if (all_ready && anything) || over_limit {
            self.start(out)?;
        }
        Ok(())
    }

    fn start(&mut self, out: &mut Vec<Bytes>) -> Result<(), TagTooLarge> {
        self.started = true;
        let (mut has_audio, mut has_video) = (self.audio.present(), self.video.present());
        if !has_audio && !has_video {
            // Only metadata without codec ids: claim both rather than nothing.
            (has_audio, has_video) = (true, true);
        }
        out.push(flv::file_header(has_audio, has_video));
        if let Some(body) = self.metadata.take() {
            out.push(flv::tag(TagType::Script, 0, &body)?);
        }
        // Configs never carry a later timestamp than the first held frame, so the file's
        // timestamps stay non-decreasing.
        let first_frame = self.held.first().map(|(_, ts, _)| *ts);
        for (tag_type, state) in [(TagType::Video, &self.video), (TagType::Audio, &self.audio)] {
            if let Some((ts, data)) = &state.config {
                let ts = first_frame.map_or(*ts, |first| (*ts).min(first));
                out.push(flv::tag(tag_type, ts, data)?);
            }
        }
        for (tag_type, ts, data) in self.held.drain(..) {
            out.push(flv::tag(tag_type, ts, &data)?);
        }
        self.held_bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVC_CONFIG: &[u8] = &[0x17, 0x00, 0, 0, 0, 0x01, 0x64];
    const AVC_KEY: &[u8] = &[0x17, 0x01, 0, 0, 0, 0xAA];
    const AVC_INTER: &[u8] = &[0x27, 0x01, 0, 0, 0, 0xBB];
    const AAC_CONFIG: &[u8] = &[0xAF, 0x00, 0x12, 0x10];
    const AAC_RAW: &[u8] = &[0xAF, 0x01, 0x21];
    const MP3: &[u8] = &[0x2F, 0xFF, 0xFB];

    fn meta(keys: &[&str]) -> Vec<(String, ScriptValue)> {
        keys.iter()
            .map(|k| (k.to_string(), ScriptValue::Number(7.0)))
            .collect()
    }

    /// A compact view of the output: "H5" header with flags, "S@0", "V@40", "A@0" tags.
    fn describe(out: &[Bytes]) -> Vec<String> {
        out.iter()
            .map(|b| {
                if &b[..3] == b"FLV" {
                    return format!("H{}", b[4]);
                }
                let ts = u32::from_be_bytes([b[7], b[4], b[5], b[6]]);
                let kind = match b[0] {
                    8 if flv::is_audio_sequence_header(&b[11..]) => "Ac",
                    8 => "A",
                    9 if flv::is_video_sequence_header(&b[11..]) => "Vc",
                    9 => "V",
                    18 => "S",
                    _ => "?",
                };
                format!("{kind}@{ts}")
            })
            .collect()
    }

    fn push(s: &mut FlvSequencer, track: Track, ts: u32, data: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        s.media(track, ts, Bytes::copy_from_slice(data), &mut out)
            .unwrap();
        describe(&out)
    }

    #[test]
    fn typical_publisher_starts_once_both_configs_are_in() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(out.is_empty());
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert_eq!(
            push(&mut s, Track::Audio, 0, AAC_CONFIG),
            ["H5", "S@0", "Vc@0", "Ac@0"]
        );
        assert!(s.started());
        assert_eq!(push(&mut s, Track::Video, 0, AVC_KEY), ["V@0"]);
        assert_eq!(push(&mut s, Track::Audio, 23, AAC_RAW), ["A@23"]);
    }

    #[test]
    fn interleaved_frames_wait_for_the_late_config() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert!(push(&mut s, Track::Video, 0, AVC_KEY).is_empty());
        assert!(push(&mut s, Track::Video, 33, AVC_INTER).is_empty());
        assert_eq!(
            push(&mut s, Track::Audio, 5, AAC_CONFIG),
            ["H5", "S@0", "Vc@0", "Ac@0", "V@0", "V@33"]
        );
    }

    #[test]
    fn config_timestamp_is_clamped_to_first_held_frame() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(push(&mut s, Track::Video, 100, AVC_CONFIG).is_empty());
        assert!(push(&mut s, Track::Audio, 100, AAC_RAW).is_empty());
        assert!(push(&mut s, Track::Video, 100, AVC_KEY).is_empty());
        assert_eq!(
            push(&mut s, Track::Audio, 150, AAC_CONFIG),
            ["H5", "S@0", "Vc@100", "Ac@100", "A@100", "V@100"]
        );
    }

    #[test]
    fn video_only_by_metadata() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "width"]), &mut out)
            .unwrap();
        assert_eq!(
            push(&mut s, Track::Video, 0, AVC_CONFIG),
            ["H1", "S@0", "Vc@0"]
        );
    }

    #[test]
    fn no_metadata_waits_a_moment_for_an_unseen_track() {
        let mut s = FlvSequencer::new();
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert!(push(&mut s, Track::Video, 0, AVC_KEY).is_empty());
        assert!(push(&mut s, Track::Video, 500, AVC_INTER).is_empty());
        assert_eq!(
            push(&mut s, Track::Video, 1_000, AVC_INTER),
            ["H1", "Vc@0", "V@0", "V@500", "V@1000"]
        );
    }

    #[test]
    fn no_metadata_both_tracks_start_without_waiting() {
        let mut s = FlvSequencer::new();
        assert!(push(&mut s, Track::Audio, 0, AAC_CONFIG).is_empty());
        assert_eq!(
            push(&mut s, Track::Video, 0, AVC_CONFIG),
            ["H5", "Vc@0", "Ac@0"]
        );
    }

    #[test]
    fn codec_without_config_does_not_block() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert_eq!(
            push(&mut s, Track::Audio, 0, MP3),
            ["H5", "S@0", "Vc@0", "A@0"]
        );
    }

    #[test]
    fn missing_config_is_given_up_on_after_the_hold_limit() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert!(push(&mut s, Track::Video, 0, AVC_KEY).is_empty());
        assert!(push(&mut s, Track::Video, 4_999, AVC_INTER).is_empty());
        assert_eq!(
            push(&mut s, Track::Video, 5_000, AVC_INTER),
            ["H5", "S@0", "Vc@0", "V@0", "V@4999", "V@5000"]
        );
    }

    #[test]
    fn hold_is_bounded_by_tag_count_even_with_frozen_timestamps() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        for _ in 0..MAX_HOLD_TAGS - 1 {
            assert!(push(&mut s, Track::Video, 0, AVC_INTER).is_empty());
        }
        let started = push(&mut s, Track::Video, 0, AVC_INTER);
        assert_eq!(started.len(), 2 + MAX_HOLD_TAGS);
    }

    #[test]
    fn finish_flushes_a_short_stream_and_nothing_for_an_empty_one() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.metadata(&meta(&["videocodecid", "audiocodecid"]), &mut out)
            .unwrap();
        assert!(push(&mut s, Track::Video, 0, AVC_CONFIG).is_empty());
        assert!(push(&mut s, Track::Video, 0, AVC_KEY).is_empty());
        s.finish(&mut out).unwrap();
        assert_eq!(describe(&out), ["H5", "S@0", "Vc@0", "V@0"]);

        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.finish(&mut out).unwrap();
        assert!(out.is_empty());
        assert!(!s.started());
    }

    #[test]
    fn after_start_everything_passes_through() {
        let mut s = FlvSequencer::new();
        assert!(push(&mut s, Track::Audio, 0, AAC_CONFIG).is_empty());
        assert_eq!(push(&mut s, Track::Video, 0, AVC_CONFIG).len(), 3);
        assert!(push(&mut s, Track::Video, 10, &[]).is_empty()); // empty messages dropped
        assert_eq!(push(&mut s, Track::Video, 40, AVC_CONFIG), ["Vc@40"]);
        let mut out = Vec::new();
        s.metadata(&meta(&["width"]), &mut out).unwrap();
        assert_eq!(describe(&out), ["S@40"]);
    }

    #[test]
    fn output_bytes_are_the_flv_muxer_bytes() {
        let mut s = FlvSequencer::new();
        let mut out = Vec::new();
        s.media(Track::Audio, 0, Bytes::from_static(MP3), &mut out)
            .unwrap();
        s.finish(&mut out).unwrap();
        // MP3 alone does not start the stream (video unknown); finish does.
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], flv::file_header(true, false));
        assert_eq!(out[1], flv::tag(TagType::Audio, 0, MP3).unwrap());
    }

    /// Splits an FLV byte stream into (type, timestamp, data length) per tag, checking the
    /// header, every DataSize against the bytes present, and every PreviousTagSize.
    fn parse_flv(bytes: &[u8]) -> Result<Vec<(u8, u32, usize)>, String> {
        if bytes.len() < flv::FILE_HEADER_LEN || &bytes[..3] != b"FLV" {
            return Err("no FLV header".into());
        }
        let mut pos = flv::FILE_HEADER_LEN;
        let mut tags = Vec::new();
        while pos < bytes.len() {
            let h = bytes
                .get(pos..pos + flv::TAG_HEADER_LEN)
                .ok_or("short tag header")?;
            let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            let ts = u32::from(h[4]) << 16
                | u32::from(h[5]) << 8
                | u32::from(h[6])
                | u32::from(h[7]) << 24;
            let end = pos + flv::TAG_HEADER_LEN + len;
            let prev = bytes.get(end..end + 4).ok_or("short tag")?;
            let prev = u32::from_be_bytes([prev[0], prev[1], prev[2], prev[3]]) as usize;
            if prev != flv::TAG_HEADER_LEN + len {
                return Err(format!("PreviousTagSize {prev} for a {len}-byte tag"));
            }
            tags.push((h[0], ts, len));
            pos = end + 4;
        }
        Ok(tags)
    }

    use proptest::prelude::*;

    /// Media bodies shaped like what publishers send: a codec byte (AVC, AAC, MP3,
    /// enhanced RTMP, or anything), a packet type, a few bytes.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![
                Just(0x17u8),
                Just(0x27),
                Just(0xAF),
                Just(0x2F),
                Just(0x90),
                Just(0x91),
                any::<u8>()
            ],
            0u8..3,
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(b0, b1, rest)| {
                let mut v = vec![b0, b1];
                v.extend(rest);
                v
            })
    }

    #[derive(Debug, Clone)]
    enum Event {
        Meta(Vec<&'static str>),
        Media(bool, u32, Vec<u8>),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            1 => proptest::sample::subsequence(vec!["audiocodecid", "videocodecid", "width"], 0..=3)
                .prop_map(Event::Meta),
            8 => (any::<bool>(), prop_oneof![0u32..10_000, any::<u32>()], body())
                .prop_map(|(video, ts, data)| Event::Media(video, ts, data)),
            1 => any::<bool>().prop_map(|video| Event::Media(video, 0, Vec::new())),
        ]
    }

    proptest! {
        /// Whatever a publisher sends, in any order: no panic, the output is one valid FLV
        /// stream (header first, every tag's sizes consistent), nothing is held beyond the
        /// caps, and every non-empty media message comes out exactly once by the end.
        #[test]
        fn any_publication_makes_valid_flv(events in proptest::collection::vec(event(), 0..60)) {
            let mut seq = FlvSequencer::new();
            let mut out = Vec::new();
            let mut media_in = 0usize;
            for e in &events {
                match e {
                    Event::Meta(keys) => seq.metadata(&meta(keys), &mut out).unwrap(),
                    Event::Media(video, ts, data) => {
                        let track = if *video { Track::Video } else { Track::Audio };
                        if !data.is_empty() {
                            media_in += 1;
                        }
                        seq.media(track, *ts, Bytes::from(data.clone()), &mut out).unwrap();
                    }
                }
                prop_assert!(seq.held.len() <= MAX_HOLD_TAGS);
                prop_assert!(seq.held_bytes <= MAX_HOLD_BYTES);
            }
            seq.finish(&mut out).unwrap();
            let bytes: Vec<u8> = out.iter().flat_map(|b| b.iter().copied()).collect();
            if bytes.is_empty() {
                prop_assert_eq!(media_in, 0);
                return Ok(());
            }
            let tags = parse_flv(&bytes).map_err(TestCaseError::fail)?;
            let media_out = tags.iter().filter(|(t, _, _)| matches!(t, 8 | 9)).count();
            // A repeated config before the start replaces the earlier one, so fewer may come
            // out, never more.
            prop_assert!(media_out <= media_in, "{media_out} > {media_in}");
            for (t, _, len) in &tags {
                prop_assert!(matches!(t, 8 | 9 | 18));
                prop_assert!(*len <= flv::MAX_TAG_DATA_LEN);
            }
        }

        /// The muxer on its own: any data up to the limit makes a tag that parses back.
        #[test]
        fn tags_parse_back(ty in prop_oneof![Just(TagType::Audio), Just(TagType::Video), Just(TagType::Script)],
                           ts in any::<u32>(),
                           data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = flv::file_header(true, true).to_vec();
            bytes.extend_from_slice(&flv::tag(ty, ts, &data).unwrap());
            let tags = parse_flv(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!(tags, vec![(ty as u8, ts, data.len())]);
        }
    }
}
