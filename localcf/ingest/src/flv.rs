//! FLV muxing, byte for byte (Adobe FLV spec v10.1, annex E).
//!
//! Pure functions only: no I/O, no RTMP types, so every byte can be pinned down by unit tests.
//! An FLV stream is `file_header()` followed by `tag()`s; each tag carries its own trailing
//! PreviousTagSize so a consumer can forward every `Bytes` as it comes.

use bytes::{BufMut, Bytes, BytesMut};

/// FLV header (9 bytes) plus PreviousTagSize0 (4 zero bytes).
pub const FILE_HEADER_LEN: usize = 13;
/// Tag header: type, 24-bit size, 24-bit timestamp, extended timestamp byte, 24-bit stream id.
pub const TAG_HEADER_LEN: usize = 11;
/// The tag's DataSize field is 24 bits wide.
pub const MAX_TAG_DATA_LEN: usize = 0xFF_FFFF;

/// FLV tag types (the low 5 bits of the first tag byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagType {
    Audio = 8,
    Video = 9,
    Script = 18,
}

/// A tag body longer than the 24-bit DataSize field can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("FLV tag data is {0} bytes; the format allows at most 16777215")]
pub struct TagTooLarge(pub usize);

/// The 9-byte FLV header followed by PreviousTagSize0 (always 0).
pub fn file_header(has_audio: bool, has_video: bool) -> Bytes {
    let flags = if has_audio { 0x04 } else { 0 } | if has_video { 0x01 } else { 0 };
    Bytes::copy_from_slice(&[b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0])
}

/// One FLV tag followed by its PreviousTagSize (11 + data length).
///
/// The timestamp is in milliseconds; its low 24 bits go in the Timestamp field and the high
/// 8 bits in TimestampExtended, so the full 32-bit RTMP timestamp survives (~49.7 days).
pub fn tag(tag_type: TagType, timestamp_ms: u32, data: &[u8]) -> Result<Bytes, TagTooLarge> {
    let len = data.len();
    if len > MAX_TAG_DATA_LEN {
        return Err(TagTooLarge(len));
    }
    let mut out = BytesMut::with_capacity(TAG_HEADER_LEN + len + 4);
    out.put_u8(tag_type as u8); // filter bit and reserved bits are 0: no encryption
    out.put_uint(len as u64, 3);
    out.put_uint(u64::from(timestamp_ms & 0xFF_FFFF), 3);
    out.put_u8((timestamp_ms >> 24) as u8);
    out.put_uint(0, 3); // StreamID: always 0
    out.extend_from_slice(data);
    // Cannot overflow: len <= 0xFF_FFFF.
    out.put_u32((TAG_HEADER_LEN + len) as u32);
    Ok(out.freeze())
}

/// A value in an onMetaData ECMA array; only the types encoders actually send.
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptValue {
    Number(f64),
    Boolean(bool),
    String(String),
}

/// AMF0 body of an `onMetaData` script tag: the string "onMetaData" then an ECMA array.
///
/// Properties keep the given order (deterministic output). Names longer than an AMF0 short
/// string (65535 bytes) are skipped rather than truncated into garbage.
pub fn on_metadata_body(props: &[(String, ScriptValue)]) -> Vec<u8> {
    let props: Vec<_> = props
        .iter()
        .filter(|(name, _)| name.len() <= usize::from(u16::MAX))
        .collect();
    let mut out = Vec::with_capacity(32 + props.len() * 24);
    put_amf_string(&mut out, "onMetaData");
    out.push(0x08); // ECMA array marker
    out.put_u32(props.len() as u32); // approximate count, but ffmpeg and players read it as is
    for (name, value) in props {
        // Length checked by the filter above.
        out.put_u16(name.len() as u16);
        out.extend_from_slice(name.as_bytes());
        match value {
            ScriptValue::Number(n) => {
                out.push(0x00);
                out.put_f64(*n);
            }
            ScriptValue::Boolean(b) => {
                out.push(0x01);
                out.push(u8::from(*b));
            }
            ScriptValue::String(s) => put_amf_string(&mut out, s),
        }
    }
    out.extend_from_slice(&[0x00, 0x00, 0x09]); // object end
    out
}

/// AMF0 string value: short string (0x02) when it fits in 16 bits, long string (0x0C) otherwise.
fn put_amf_string(out: &mut Vec<u8>, s: &str) {
    match u16::try_from(s.len()) {
        Ok(len) => {
            out.push(0x02);
            out.put_u16(len);
        }
        Err(_) => {
            out.push(0x0C);
            out.put_u32(s.len() as u32);
        }
    }
    out.extend_from_slice(s.as_bytes());
}

/// Whether a video tag body is a decoder configuration record (AVC sequence header, or an
/// enhanced-RTMP SequenceStart for HEVC/AV1/VP9).
pub fn is_video_sequence_header(data: &[u8]) -> bool {
    match data {
        // Enhanced RTMP: IsExHeader bit, PacketType in the low nibble; 0 = SequenceStart.
        [b0, ..] if b0 & 0x80 != 0 => b0 & 0x0f == 0,
        // Legacy: CodecID 7 (AVC), AVCPacketType 0.
        [b0, 0, ..] => b0 & 0x0f == 7,
        _ => false,
    }
}

/// Whether the video codec of this tag needs a sequence header before frames can be decoded.
pub fn video_needs_sequence_header(data: &[u8]) -> bool {
    match data {
        [b0, ..] => b0 & 0x80 != 0 || b0 & 0x0f == 7,
        [] => false,
    }
}

/// Whether an audio tag body is an AAC AudioSpecificConfig (or enhanced-RTMP SequenceStart).
pub fn is_audio_sequence_header(data: &[u8]) -> bool {
    match data {
        // Enhanced RTMP audio: SoundFormat 9 = ExHeader, PacketType in the low nibble.
        [b0, ..] if b0 >> 4 == 9 => b0 & 0x0f == 0,
        // SoundFormat 10 (AAC), AACPacketType 0.
        [b0, 0, ..] => b0 >> 4 == 10,
        _ => false,
    }
}

/// Whether the audio codec of this tag needs a sequence header (AAC, enhanced RTMP).
pub fn audio_needs_sequence_header(data: &[u8]) -> bool {
    match data {
        [b0, ..] => matches!(b0 >> 4, 9 | 10),
        [] => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_header_bytes() {
        let cases: &[(bool, bool, [u8; 13])] = &[
            (
                true,
                true,
                [0x46, 0x4C, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0],
            ),
            (
                true,
                false,
                [0x46, 0x4C, 0x56, 1, 0x04, 0, 0, 0, 9, 0, 0, 0, 0],
            ),
            (
                false,
                true,
                [0x46, 0x4C, 0x56, 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0],
            ),
            (
                false,
                false,
                [0x46, 0x4C, 0x56, 1, 0x00, 0, 0, 0, 9, 0, 0, 0, 0],
            ),
        ];
        for (audio, video, want) in cases {
            let got = file_header(*audio, *video);
            assert_eq!(got.len(), FILE_HEADER_LEN);
            assert_eq!(&got[..], &want[..], "audio={audio} video={video}");
        }
    }

    #[test]
    fn tag_layout_and_timestamp_extension() {
        // (type, timestamp, data, expected bytes)
        let cases: Vec<(TagType, u32, Vec<u8>, Vec<u8>)> = vec![
            (
                TagType::Video,
                0,
                vec![0x17, 0x00],
                vec![
                    0x09, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                    0x00, // header
                    0x17, 0x00, // data
                    0x00, 0x00, 0x00, 0x0D, // 11 + 2
                ],
            ),
            (
                TagType::Audio,
                0x0001_0203,
                vec![0xAF, 0x01, 0xAA],
                vec![
                    0x08, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, //
                    0xAF, 0x01, 0xAA, //
                    0x00, 0x00, 0x00, 0x0E,
                ],
            ),
            (
                // Largest timestamp without extension.
                TagType::Audio,
                0x00FF_FFFF,
                vec![0xAF],
                vec![
                    0x08, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, //
                    0xAF, //
                    0x00, 0x00, 0x00, 0x0C,
                ],
            ),
            (
                // Just past 24 bits: the high byte goes to TimestampExtended.
                TagType::Video,
                0x0100_0000,
                vec![0x27],
                vec![
                    0x09, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //
                    0x27, //
                    0x00, 0x00, 0x00, 0x0C,
                ],
            ),
            (
                TagType::Video,
                0xFEDC_BA98,
                vec![],
                vec![
                    0x09, 0x00, 0x00, 0x00, 0xDC, 0xBA, 0x98, 0xFE, 0x00, 0x00, 0x00, //
                    0x00, 0x00, 0x00, 0x0B,
                ],
            ),
            (
                TagType::Script,
                5,
                vec![0x02, 0x00, 0x00],
                vec![
                    0x12, 0x00, 0x00, 0x03, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, //
                    0x02, 0x00, 0x00, //
                    0x00, 0x00, 0x00, 0x0E,
                ],
            ),
        ];
        for (ty, ts, data, want) in cases {
            let got = tag(ty, ts, &data).unwrap();
            assert_eq!(&got[..], &want[..], "{ty:?} ts={ts:#x}");
        }
    }

    #[test]
    fn previous_tag_size_for_large_body() {
        let data = vec![0x55; 70_000];
        let got = tag(TagType::Video, 40, &data).unwrap();
        assert_eq!(got.len(), TAG_HEADER_LEN + 70_000 + 4);
        assert_eq!(&got[1..4], &[0x01, 0x11, 0x70]); // 70000 = 0x011170
        assert_eq!(&got[got.len() - 4..], &(70_011u32).to_be_bytes());
    }

    #[test]
    fn tag_too_large_is_an_error() {
        let data = vec![0; MAX_TAG_DATA_LEN + 1];
        assert_eq!(
            tag(TagType::Video, 0, &data),
            Err(TagTooLarge(MAX_TAG_DATA_LEN + 1))
        );
        let data = vec![0; MAX_TAG_DATA_LEN];
        let got = tag(TagType::Video, 0, &data).unwrap();
        assert_eq!(&got[1..4], &[0xFF, 0xFF, 0xFF]);
        assert_eq!(&got[got.len() - 4..], &[0x01, 0x00, 0x00, 0x0A]);
    }

    #[test]
    fn on_metadata_body_bytes() {
        type Props = Vec<(String, ScriptValue)>;
        let cases: Vec<(Props, Vec<u8>)> = vec![
            (
                vec![],
                vec![
                    0x02, 0x00, 0x0A, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a',
                    0x08, 0x00, 0x00, 0x00, 0x00, //
                    0x00, 0x00, 0x09,
                ],
            ),
            (
                vec![
                    ("w".into(), ScriptValue::Number(320.0)),
                    ("s".into(), ScriptValue::Boolean(true)),
                    ("e".into(), ScriptValue::String("ab".into())),
                ],
                vec![
                    0x02, 0x00, 0x0A, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a',
                    0x08, 0x00, 0x00, 0x00, 0x03, //
                    0x00, 0x01, b'w', 0x00, 0x40, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
                    0x00, 0x01, b's', 0x01, 0x01, //
                    0x00, 0x01, b'e', 0x02, 0x00, 0x02, b'a', b'b', //
                    0x00, 0x00, 0x09,
                ],
            ),
        ];
        for (props, want) in cases {
            assert_eq!(on_metadata_body(&props), want, "{props:?}");
        }
    }

    #[test]
    fn on_metadata_long_values() {
        let long = "x".repeat(70_000);
        let body = on_metadata_body(&[
            (long.clone(), ScriptValue::Number(1.0)), // name too long: skipped
            ("k".into(), ScriptValue::String(long)),  // value: AMF0 long string
        ]);
        assert_eq!(&body[13..18], &[0x08, 0, 0, 0, 1]);
        assert_eq!(&body[18..24], &[0x00, 0x01, b'k', 0x0C, 0x00, 0x01]);
        assert_eq!(&body[24..26], &[0x11, 0x70]);
        assert_eq!(body.len(), 26 + 70_000 + 3);
    }

    #[test]
    fn sequence_header_detection() {
        // (data, is video seq header, video needs one)
        let video: &[(&[u8], bool, bool)] = &[
            (&[0x17, 0x00, 0, 0, 0], true, true), // AVC keyframe, seq header
            (&[0x17, 0x01, 0, 0, 0], false, true), // AVC keyframe NALU
            (&[0x27, 0x01, 0, 0, 0], false, true), // AVC inter frame
            (&[0x17, 0x02], false, true),         // AVC end of sequence
            (&[0x12, 0x00], false, false),        // Sorenson H.263
            (&[0x90, b'h', b'v', b'c', b'1'], true, true), // enhanced: SequenceStart
            (&[0x91, b'h', b'v', b'c', b'1'], false, true), // enhanced: CodedFrames
            (&[0x17], false, true),
            (&[], false, false),
        ];
        for (data, is_sh, needs) in video {
            assert_eq!(is_video_sequence_header(data), *is_sh, "{data:02x?}");
            assert_eq!(video_needs_sequence_header(data), *needs, "{data:02x?}");
        }
        let audio: &[(&[u8], bool, bool)] = &[
            (&[0xAF, 0x00, 0x12, 0x10], true, true),       // AAC config
            (&[0xAF, 0x01, 0x21], false, true),            // AAC raw
            (&[0x2F, 0x00], false, false),                 // MP3
            (&[0x90, b'O', b'p', b'u', b's'], true, true), // enhanced: SequenceStart
            (&[0x91, b'O', b'p', b'u', b's'], false, true),
            (&[0xAF], false, true),
            (&[], false, false),
        ];
        for (data, is_sh, needs) in audio {
            assert_eq!(is_audio_sequence_header(data), *is_sh, "{data:02x?}");
            assert_eq!(audio_needs_sequence_header(data), *needs, "{data:02x?}");
        }
    }
}
