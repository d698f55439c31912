//! A bounded RTMP chunk-stream scanner that sees every byte before `rml_rtmp` does.
//!
//! Why our own: `rml_rtmp` 0.8's `ChunkDeserializer` believes the 24-bit message length of
//! any header (16 MB), reserves it up front, and buffers the message until it is complete;
//! a shadow copy of it (the old guard) buffered the same bytes a second time. This scanner
//! follows the same grammar (and `rml_rtmp`'s quirks, so both stay in step) but:
//! - refuses a message longer than `max_message_len` as soon as its header arrives, before a
//!   byte of its body is stored anywhere;
//! - stores only the bodies of protocol-control and AMF messages (which the guard must read),
//!   each at most `max_command_len`; media bodies are counted and dropped;
//! - refuses what `rml_rtmp` cannot assemble correctly (it keeps ONE message in progress for
//!   all chunk streams): a chunk of another message before the current one is complete, or a
//!   continuation whose header changes the message's length or type. Real publishers
//!   (ffmpeg's rtmpproto, librtmp in OBS) write every chunk of a message back to back;
//! - caps the number of chunk streams (each costs a remembered header here and in `rml_rtmp`).
//!
//! So a connection holds at most one unfinished message, once, in `rml_rtmp`.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};

/// The chunk size both ends start with (RTMP spec 5.4.1).
const INITIAL_CHUNK_SIZE: u32 = 128;
/// A timestamp field of this value means a 4-byte extended timestamp follows.
const EXTENDED_TIMESTAMP: u32 = 0xFF_FFFF;
/// The largest chunk size `rml_rtmp` accepts (and the spec allows: 31 bits).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Basic header (≤ 3) + message header (≤ 11) + extended timestamp (4).
const MAX_HEADER_LEN: usize = 18;

/// Message types whose bodies the guard reads: SetChunkSize, AMF3/AMF0 data and commands.
pub fn keeps_body(type_id: u8) -> bool {
    matches!(type_id, 1 | 15 | 17 | 18 | 20)
}

/// Limits of one connection's chunk stream.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest message accepted (media included).
    pub max_message_len: u32,
    /// Longest control or AMF message (those bodies are buffered by the scanner).
    pub max_command_len: u32,
    /// Most distinct chunk stream ids one connection may use.
    pub max_chunk_streams: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("message of {len} bytes (type {type_id}) exceeds the limit of {max}")]
    TooLarge { type_id: u8, len: u32, max: u32 },
    #[error("chunk header type {fmt} on chunk stream {csid} with no previous header")]
    NoPrevious { fmt: u8, csid: u32 },
    #[error("more than {0} chunk streams")]
    TooManyStreams(usize),
    #[error("chunk of another message before message on chunk stream {csid} was complete")]
    Interleaved { csid: u32 },
    #[error("chunk overruns its message")]
    Overrun,
    #[error("invalid chunk size {0}")]
    ChunkSize(u32),
}

/// One complete message. `body` is present when [`keeps_body`] is true for its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub csid: u32,
    pub type_id: u8,
    pub len: u32,
    pub body: Option<Bytes>,
}

/// What a chunk stream remembers from its last header (for header types 1-3).
#[derive(Clone, Copy, Debug)]
struct Previous {
    len: u32,
    type_id: u8,
    timestamp_field: u32,
}

/// The message being assembled.
#[derive(Debug)]
struct InProgress {
    csid: u32,
    type_id: u8,
    len: u32,
    received: u32,
    body: Option<BytesMut>,
}

#[derive(Debug)]
enum Stage {
    Header,
    /// `left` bytes of the current chunk's payload still to come.
    Payload {
        left: u32,
    },
}

pub struct ChunkScanner {
    limits: Limits,
    chunk_size: u32,
    previous: HashMap<u32, Previous>,
    current: Option<InProgress>,
    stage: Stage,
    /// Header bytes received so far (at most [`MAX_HEADER_LEN`]).
    head: Vec<u8>,
}

/// A parsed chunk header.
struct Header {
    csid: u32,
    prev: Previous,
}

impl ChunkScanner {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            chunk_size: INITIAL_CHUNK_SIZE,
            previous: HashMap::new(),
            current: None,
            stage: Stage::Header,
            head: Vec::with_capacity(MAX_HEADER_LEN),
        }
    }

    /// Applies a SetChunkSize from the peer (as the session does with the same message).
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(ChunkError::ChunkSize(size));
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Bytes this scanner holds: header bytes plus the kept body in progress.
    pub fn buffered(&self) -> usize {
        self.head.len()
            + self
                .current
                .as_ref()
                .and_then(|c| c.body.as_ref())
                .map_or(0, BytesMut::len)
    }

    /// Consumes bytes from `input` up to the end of the next complete message and returns it;
    /// `Ok(None)` when `input` is used up first. Call again with the rest of `input` (the
    /// caller must apply a SetChunkSize before the next call, as `rml_rtmp` requires).
    pub fn next(&mut self, input: &mut &[u8]) -> Result<Option<Message>, ChunkError> {
        loop {
            match self.stage {
                Stage::Header => {
                    let old = self.head.len();
                    let take = (MAX_HEADER_LEN - old).min(input.len());
                    self.head.extend_from_slice(&input[..take]);
                    match self.parse_header()? {
                        None => {
                            *input = &input[take..];
                            return Ok(None);
                        }
                        Some((header, used)) => {
                            // `used > old` always: parse_header needs at least 1 new byte.
                            *input = &input[used - old..];
                            self.head.clear();
                            self.start_chunk(header)?;
                        }
                    }
                }
                Stage::Payload { left } => {
                    let n = (left as usize).min(input.len());
                    let Some(cur) = self.current.as_mut() else {
                        return Err(ChunkError::Overrun); // unreachable by construction
                    };
                    if let Some(body) = cur.body.as_mut() {
                        body.extend_from_slice(&input[..n]);
                    }
                    *input = &input[n..];
                    // n <= left <= u32::MAX
                    let left = left - n as u32;
                    cur.received += n as u32;
                    self.stage = Stage::Payload { left };
                    if left > 0 {
                        return Ok(None);
                    }
                    self.stage = Stage::Header;
                    if cur.received == cur.len {
                        let done = self.current.take().map(|c| Message {
                            csid: c.csid,
                            type_id: c.type_id,
                            len: c.len,
                            body: c.body.map(BytesMut::freeze),
                        });
                        return Ok(done);
                    }
                }
            }
        }
    }

    /// Parses `self.head`; None when more bytes are needed.
    fn parse_header(&self) -> Result<Option<(Header, usize)>, ChunkError> {
        let h = &self.head[..];
        let Some(&b0) = h.first() else {
            return Ok(None);
        };
        let fmt = b0 >> 6;
        let (csid, mut pos) = match b0 & 0x3F {
            0 => match h.get(1) {
                Some(&b) => (u32::from(b) + 64, 2),
                None => return Ok(None),
            },
            1 => match (h.get(1), h.get(2)) {
                (Some(&lo), Some(&hi)) => (u32::from(hi) * 256 + u32::from(lo) + 64, 3),
                _ => return Ok(None),
            },
            x => (u32::from(x), 1),
        };
        let mut prev = match (fmt, self.previous.get(&csid)) {
            (0, _) => Previous {
                len: 0,
                type_id: 0,
                timestamp_field: 0,
            },
            (_, Some(p)) => *p,
            (_, None) => return Err(ChunkError::NoPrevious { fmt, csid }),
        };
        let u24 = |at: usize| -> Option<u32> {
            let b = h.get(at..at + 3)?;
            Some(u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]))
        };
        if fmt <= 2 {
            let Some(ts) = u24(pos) else { return Ok(None) };
            prev.timestamp_field = ts;
            pos += 3;
        }
        if fmt <= 1 {
            let (Some(len), Some(&type_id)) = (u24(pos), h.get(pos + 3)) else {
                return Ok(None);
            };
            prev.len = len;
            prev.type_id = type_id;
            pos += 4;
        }
        if fmt == 0 {
            pos += 4; // message stream id
        }
        // rml_rtmp reads an extended timestamp whenever the remembered field is 0xFFFFFF.
        if prev.timestamp_field >= EXTENDED_TIMESTAMP {
            pos += 4;
        }
        if h.len() < pos {
            return Ok(None);
        }
        Ok(Some((Header { csid, prev }, pos)))
    }

    fn start_chunk(&mut self, header: Header) -> Result<(), ChunkError> {
        let Header { csid, prev } = header;
        if !self.previous.contains_key(&csid)
            && self.previous.len() >= self.limits.max_chunk_streams
        {
            return Err(ChunkError::TooManyStreams(self.limits.max_chunk_streams));
        }
        self.previous.insert(csid, prev);
        let cur = match self.current.take() {
            Some(cur) => {
                // Only a continuation of the same message may follow: type 3 (ffmpeg, OBS)
                // or a header repeating its length and type (rml_rtmp's own serializer).
                if cur.csid != csid || prev.len != cur.len || prev.type_id != cur.type_id {
                    return Err(ChunkError::Interleaved { csid: cur.csid });
                }
                cur
            }
            None => {
                let max = if keeps_body(prev.type_id) {
                    self.limits.max_command_len.min(self.limits.max_message_len)
                } else {
                    self.limits.max_message_len
                };
                if prev.len > max {
                    return Err(ChunkError::TooLarge {
                        type_id: prev.type_id,
                        len: prev.len,
                        max,
                    });
                }
                InProgress {
                    csid,
                    type_id: prev.type_id,
                    len: prev.len,
                    received: 0,
                    // Bounded by max_command_len, checked above.
                    body: keeps_body(prev.type_id)
                        .then(|| BytesMut::with_capacity(prev.len as usize)),
                }
            }
        };
        // rml_rtmp: a message no longer than the chunk size is read whole, else one chunk of
        // at most the chunk size.
        let remaining = cur.len - cur.received;
        let chunk = if cur.len > self.chunk_size {
            remaining.min(self.chunk_size)
        } else {
            cur.len
        };
        if chunk > remaining {
            return Err(ChunkError::Overrun);
        }
        self.current = Some(cur);
        self.stage = Stage::Payload { left: chunk };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rml_rtmp::chunk_io::{ChunkDeserializer, ChunkSerializer};
    use rml_rtmp::messages::MessagePayload;
    use rml_rtmp::time::RtmpTimestamp;

    const LIMITS: Limits = Limits {
        max_message_len: 4096,
        max_command_len: 512,
        max_chunk_streams: 4,
    };

    fn payload(type_id: u8, ts: u32, len: usize) -> MessagePayload {
        MessagePayload {
            timestamp: RtmpTimestamp::new(ts),
            type_id,
            message_stream_id: 1,
            data: Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>()),
        }
    }

    /// Feeds `bytes` in pieces of `step`, collecting messages (or the first error).
    fn scan(
        scanner: &mut ChunkScanner,
        bytes: &[u8],
        step: usize,
    ) -> Result<Vec<Message>, ChunkError> {
        let mut out = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            let mut input = piece;
            while let Some(m) = scanner.next(&mut input)? {
                out.push(m);
            }
            assert!(input.is_empty());
        }
        Ok(out)
    }

    #[test]
    fn agrees_with_rml_rtmp_on_what_its_serializer_writes() {
        // (type, timestamp, length): commands, media, an extended timestamp, an empty message.
        let messages = [
            (20u8, 0u32, 300usize),
            (9, 40, 4000),
            (8, 60, 10),
            (9, 0x0100_0000, 1000),
            (9, 0x0100_0040, 129),
            (18, 70, 0),
            (8, 80, 128),
        ];
        for chunk_size in [128u32, 200, 4096] {
            let mut serializer = ChunkSerializer::new();
            let mut bytes = Vec::new();
            if chunk_size != 128 {
                let p = serializer
                    .set_max_chunk_size(chunk_size, RtmpTimestamp::new(0))
                    .unwrap();
                bytes.extend(p.bytes);
            }
            for (ty, ts, len) in messages {
                bytes.extend(
                    serializer
                        .serialize(&payload(ty, ts, len), false, false)
                        .unwrap()
                        .bytes,
                );
            }
            for step in [1, 7, 1000, bytes.len()] {
                let mut scanner = ChunkScanner::new(LIMITS);
                let mut theirs = ChunkDeserializer::new();
                let mut ours = Vec::new();
                let mut input = &bytes[..];
                // Apply SetChunkSize the way the guard does.
                let mut pieces = bytes.chunks(step);
                let mut piece = pieces.next().unwrap_or(&[]);
                loop {
                    match scanner.next(&mut piece).unwrap() {
                        Some(m) => {
                            if m.type_id == 1 {
                                let b = m.body.clone().unwrap();
                                scanner
                                    .set_chunk_size(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                                    .unwrap();
                            }
                            ours.push(m);
                        }
                        None => match pieces.next() {
                            Some(p) => piece = p,
                            None => break,
                        },
                    }
                }
                let mut want = Vec::new();
                while let Some(m) = theirs.get_next_message(input).unwrap() {
                    input = &[];
                    if m.type_id == 1 {
                        theirs
                            .set_max_chunk_size(u32::from_be_bytes([
                                m.data[0], m.data[1], m.data[2], m.data[3],
                            ]) as usize)
                            .unwrap();
                    }
                    want.push(m);
                }
                assert_eq!(ours.len(), want.len(), "chunk {chunk_size} step {step}");
                for (o, w) in ours.iter().zip(&want) {
                    assert_eq!((o.type_id, o.len as usize), (w.type_id, w.data.len()));
                    match &o.body {
                        Some(b) => assert_eq!(b, &w.data),
                        None => assert!(!keeps_body(o.type_id)),
                    }
                }
                assert_eq!(scanner.buffered(), 0);
            }
        }
    }

    #[test]
    fn refusals() {
        let mut big = ChunkSerializer::new();
        let too_big = big
            .serialize(&payload(9, 0, 4097), false, false)
            .unwrap()
            .bytes;
        let big_command = big
            .serialize(&payload(20, 0, 513), false, false)
            .unwrap()
            .bytes;
        // Only the 12-byte header of a 16 MB message: refused before any body byte.
        let header_only = [0x06, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0];
        // Message on csid 4 starts, then a new message on csid 6 begins.
        let mut interleaved = vec![0x04, 0, 0, 0, 0, 0x01, 0x00, 9, 1, 0, 0, 0];
        interleaved.extend([0; 128]);
        interleaved.extend([0x06, 0, 0, 0, 0, 0, 10, 8, 1, 0, 0, 0]);
        // A type 1 header changing the length mid-message (rml_rtmp would underflow).
        let mut not_type3 = vec![0x04, 0, 0, 0, 0, 0x01, 0x00, 9, 1, 0, 0, 0];
        not_type3.extend([0; 128]);
        not_type3.extend([0x44, 0, 0, 0, 0, 0, 10, 9]);
        let streams: Vec<u8> = (2u8..8)
            .flat_map(|csid| [csid, 0, 0, 0, 0, 0, 0, 8, 1, 0, 0, 0])
            .collect();
        let cases: Vec<(&str, Vec<u8>, ChunkError)> = vec![
            (
                "media over the limit",
                too_big,
                ChunkError::TooLarge {
                    type_id: 9,
                    len: 4097,
                    max: 4096,
                },
            ),
            (
                "command over the limit",
                big_command,
                ChunkError::TooLarge {
                    type_id: 20,
                    len: 513,
                    max: 512,
                },
            ),
            (
                "header of 16 MB",
                header_only.to_vec(),
                ChunkError::TooLarge {
                    type_id: 9,
                    len: 0xFF_FFFF,
                    max: 4096,
                },
            ),
            (
                "interleaved",
                interleaved,
                ChunkError::Interleaved { csid: 4 },
            ),
            (
                "continuation changes the length",
                not_type3,
                ChunkError::Interleaved { csid: 4 },
            ),
            (
                "type 3 first",
                vec![0xC3],
                ChunkError::NoPrevious { fmt: 3, csid: 3 },
            ),
            (
                "too many chunk streams",
                streams,
                ChunkError::TooManyStreams(4),
            ),
        ];
        for (name, bytes, want) in cases {
            for step in [1, bytes.len()] {
                let mut scanner = ChunkScanner::new(LIMITS);
                assert_eq!(
                    scan(&mut scanner, &bytes, step).err(),
                    Some(want.clone()),
                    "{name}"
                );
            }
        }
        let mut scanner = ChunkScanner::new(LIMITS);
        assert_eq!(scanner.set_chunk_size(0), Err(ChunkError::ChunkSize(0)));
        assert_eq!(
            scanner.set_chunk_size(0x8000_0000),
            Err(ChunkError::ChunkSize(0x8000_0000))
        );
        assert_eq!(scanner.set_chunk_size(MAX_CHUNK_SIZE), Ok(()));
    }

    #[test]
    fn media_bodies_are_not_buffered() {
        let mut s = ChunkSerializer::new();
        let bytes = s
            .serialize(&payload(9, 0, 4000), false, false)
            .unwrap()
            .bytes;
        let mut scanner = ChunkScanner::new(LIMITS);
        // All but the last byte: an unfinished media message costs the scanner nothing.
        let got = scan(&mut scanner, &bytes[..bytes.len() - 1], 100).unwrap();
        assert!(got.is_empty());
        assert_eq!(scanner.buffered(), 0);
        let mut last = &bytes[bytes.len() - 1..];
        let m = scanner.next(&mut last).unwrap().unwrap();
        assert_eq!((m.type_id, m.len, m.body), (9, 4000, None));
    }

    proptest! {
        /// Arbitrary bytes, in arbitrary pieces: no panic, nothing over the limits.
        #[test]
        fn arbitrary_bytes_stay_within_limits(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            step in 1usize..64,
        ) {
            let mut scanner = ChunkScanner::new(LIMITS);
            for piece in bytes.chunks(step) {
                let mut input = piece;
                loop {
                    match scanner.next(&mut input) {
                        Ok(Some(m)) => {
                            prop_assert!(m.len <= LIMITS.max_message_len);
                            match &m.body {
                                Some(b) => {
                                    prop_assert!(keeps_body(m.type_id));
                                    prop_assert_eq!(b.len(), m.len as usize);
                                    prop_assert!(m.len <= LIMITS.max_command_len);
                                }
                                None => prop_assert!(!keeps_body(m.type_id)),
                            }
                        }
                        Ok(None) => break,
                        Err(_) => return Ok(()),
                    }
                    prop_assert!(scanner.buffered() <= MAX_HEADER_LEN + LIMITS.max_command_len as usize);
                    prop_assert!(scanner.previous.len() <= LIMITS.max_chunk_streams);
                }
                prop_assert!(input.is_empty());
            }
        }

        /// Valid chunk streams with random sizes, timestamps and chunk sizes come out whole.
        #[test]
        fn serialized_messages_round_trip(
            // rml_rtmp's serializer writes nothing for an empty message.
            messages in proptest::collection::vec((any::<bool>(), any::<u32>(), 1usize..1500), 1..8),
            chunk_size in 1u32..2000,
            step in 1usize..300,
        ) {
            let mut serializer = ChunkSerializer::new();
            let mut bytes = serializer.set_max_chunk_size(chunk_size, RtmpTimestamp::new(0)).unwrap().bytes;
            for (video, ts, len) in &messages {
                let ty = if *video { 9 } else { 8 };
                bytes.extend(serializer.serialize(&payload(ty, *ts, *len), false, false).unwrap().bytes);
            }
            let mut scanner = ChunkScanner::new(LIMITS);
            let mut got = Vec::new();
            for piece in bytes.chunks(step) {
                let mut input = piece;
                while let Some(m) = scanner.next(&mut input).unwrap() {
                    if m.type_id == 1 {
                        let b = m.body.clone().unwrap();
                        scanner.set_chunk_size(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).unwrap();
                    } else {
                        got.push((m.type_id, m.len as usize));
                    }
                }
            }
            let want: Vec<_> = messages.iter().map(|(v, _, len)| (if *v { 9 } else { 8 }, *len)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
