//! Screens client input for messages that crash `rml_rtmp` 0.8 instead of returning an error.
//!
//! Found by fuzzing `ServerSession::handle_input`:
//! - an AMF0/AMF3 command (type 20/17) with fewer than 3 AMF values panics
//!   (`arguments.drain(..3)` in `amf0_command::deserialize`);
//! - AMF values nested ~10k deep (a 40 KB message) overflow the stack in `rml_amf0`'s
//!   recursive parser, which aborts the whole process, not just the connection's task.
//!
//! So a shadow `ChunkDeserializer` sees the same bytes before the session does (mirroring its
//! chunk-size changes, the only state the session feeds back into deserialization), and every
//! AMF message is checked by an iterative scanner that follows `rml_amf0`'s grammar.

use crate::chunk::{ChunkError, ChunkScanner, Limits};

/// Real encoders nest at most 2-3 levels (command object, metadata arrays).
const MAX_AMF_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub(crate) enum GuardError {
    #[error("RTMP chunk error: {0}")]
    Chunk(#[from] ChunkError),
    #[error("invalid chunk size message")]
    ChunkSize,
    #[error("AMF message (type {type_id}): {reason}")]
    Amf { type_id: u8, reason: AmfShapeError },
    #[error("command message (type {type_id}) with {count} AMF values; at least 3 required")]
    ShortCommand { type_id: u8, count: usize },
}

pub(crate) struct InputGuard {
    scanner: ChunkScanner,
}

impl InputGuard {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            scanner: ChunkScanner::new(limits),
        }
    }

    /// Checks every complete message in `bytes` (plus what earlier calls left unfinished)
    /// and returns how many messages `bytes` completed. Must see exactly the bytes given to
    /// `ServerSession::handle_input`, in the same order.
    pub(crate) fn check(&mut self, bytes: &[u8]) -> Result<usize, GuardError> {
        let mut input = bytes;
        let mut completed = 0;
        while let Some(message) = self.scanner.next(&mut input)? {
            completed += 1;
            let Some(body) = message.body else { continue };
            match message.type_id {
                1 => match body[..] {
                    // rml_rtmp reads the first 4 bytes; the session applies the same size.
                    [a, b, c, d, ..] => self
                        .scanner
                        .set_chunk_size(u32::from_be_bytes([a, b, c, d]))?,
                    _ => return Err(GuardError::ChunkSize),
                },
                type_id => {
                    let data = &body[..];
                    // rml_rtmp drops the leading 0 of "AMF3" commands and parses AMF0.
                    let data = match (type_id, data) {
                        (17, [0, rest @ ..]) => rest,
                        _ => data,
                    };
                    let count = amf0_shape(data, MAX_AMF_DEPTH)
                        .map_err(|reason| GuardError::Amf { type_id, reason })?;
                    if matches!(type_id, 17 | 20) && count < 3 {
                        return Err(GuardError::ShortCommand { type_id, count });
                    }
                }
            }
        }
        Ok(completed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AmfShapeError {
    #[error("nested deeper than {0}")]
    TooDeep(usize),
    #[error("malformed AMF0")]
    Malformed,
}

enum Frame {
    Object,
    StrictArray { remaining: u32 },
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn exact(&mut self, n: usize) -> Result<&[u8], AmfShapeError> {
        let end = self.pos.checked_add(n).ok_or(AmfShapeError::Malformed)?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or(AmfShapeError::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<usize, AmfShapeError> {
        let b = self.exact(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u32(&mut self) -> Result<u32, AmfShapeError> {
        let b = self.exact(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// rml_amf0 reads string bodies with a single `read`, so a short body is accepted.
    fn lenient(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }
}

/// Walks AMF0 values the way `rml_amf0::deserialize` does, without recursion. Returns the
/// number of top-level values.
pub(crate) fn amf0_shape(data: &[u8], max_depth: usize) -> Result<usize, AmfShapeError> {
    let mut r = Reader { data, pos: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    let mut count = 0;
    loop {
        let marker = match stack.last_mut() {
            // Top level: values until end of data or an object-end marker.
            None => match r.byte() {
                None | Some(0x09) => return Ok(count),
                Some(m) => {
                    count += 1;
                    m
                }
            },
            Some(Frame::Object) => {
                let label_len = r.u16()?;
                if label_len == 0 {
                    if r.exact(1)? != [0x09] {
                        return Err(AmfShapeError::Malformed);
                    }
                    stack.pop();
                    continue;
                }
                r.lenient(label_len);
                match r.byte() {
                    // A property without a value.
                    None | Some(0x09) => return Err(AmfShapeError::Malformed),
                    Some(m) => m,
                }
            }
            Some(Frame::StrictArray { remaining }) => {
                if *remaining == 0 {
                    stack.pop();
                    continue;
                }
                *remaining -= 1;
                match r.byte() {
                    // rml_amf0 ends the array early here.
                    None | Some(0x09) => {
                        stack.pop();
                        continue;
                    }
                    Some(m) => m,
                }
            }
        };
        match marker {
            0x00 => {
                r.exact(8)?;
            }
            0x01 => {
                r.exact(1)?;
            }
            0x02 => {
                let len = r.u16()?;
                r.lenient(len);
            }
            0x03 => stack.push(Frame::Object),
            0x05 | 0x06 => {}
            0x08 => {
                r.u32()?; // ECMA array count: ignored, parsed as an object
                stack.push(Frame::Object);
            }
            0x0A => {
                let remaining = r.u32()?;
                stack.push(Frame::StrictArray { remaining });
            }
            _ => return Err(AmfShapeError::Malformed),
        }
        if stack.len() > max_depth {
            return Err(AmfShapeError::TooDeep(max_depth));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rml_rtmp::chunk_io::ChunkSerializer;
    use rml_rtmp::messages::MessagePayload;
    use rml_rtmp::sessions::{ServerSession, ServerSessionConfig};
    use rml_rtmp::time::RtmpTimestamp;

    #[test]
    fn amf0_shape_cases() {
        let connect = [
            &[0x02, 0x00, 0x07][..],
            b"connect",
            &[0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0], // 1.0
            &[0x03, 0x00, 0x03],
            b"app",
            &[0x02, 0x00, 0x04],
            b"live",
            &[0x00, 0x00, 0x09],
        ]
        .concat();
        let nested = |levels: usize| {
            let mut v = Vec::new();
            for _ in 0..levels {
                v.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
            }
            v.push(0x05);
            for _ in 0..levels {
                v.extend_from_slice(&[0x00, 0x00, 0x09]);
            }
            v
        };
        let cases: Vec<(&str, Vec<u8>, Result<usize, AmfShapeError>)> = vec![
            ("empty", vec![], Ok(0)),
            ("end marker at top", vec![0x09, 0x05], Ok(0)),
            ("null undefined", vec![0x05, 0x06], Ok(2)),
            ("connect", connect.clone(), Ok(3)),
            (
                "number short",
                vec![0x00, 1, 2],
                Err(AmfShapeError::Malformed),
            ),
            ("bool", vec![0x01, 0x01], Ok(1)),
            ("bool short", vec![0x01], Err(AmfShapeError::Malformed)),
            ("string short body ok", vec![0x02, 0x00, 0x05, b'a'], Ok(1)),
            (
                "string short len",
                vec![0x02, 0x00],
                Err(AmfShapeError::Malformed),
            ),
            ("unknown marker", vec![0x11], Err(AmfShapeError::Malformed)),
            (
                "ecma array",
                vec![0x08, 0, 0, 0, 1, 0x00, 0x01, b'w', 0x05, 0x00, 0x00, 0x09],
                Ok(1),
            ),
            (
                "strict array of 2 then null",
                vec![0x0A, 0, 0, 0, 2, 0x05, 0x06, 0x05],
                Ok(2),
            ),
            (
                "strict array cut short by end marker",
                vec![0x0A, 0, 0, 0, 9, 0x05, 0x09, 0x05],
                Ok(2),
            ),
            (
                "object property without value",
                vec![0x03, 0x00, 0x01, b'a', 0x09],
                Err(AmfShapeError::Malformed),
            ),
            (
                "object empty label not end",
                vec![0x03, 0x00, 0x00, 0x05],
                Err(AmfShapeError::Malformed),
            ),
            ("nesting at the limit", nested(MAX_AMF_DEPTH), Ok(1)),
            (
                "nesting past the limit",
                nested(MAX_AMF_DEPTH + 1),
                Err(AmfShapeError::TooDeep(MAX_AMF_DEPTH)),
            ),
            (
                "deep strict arrays",
                [0x0A, 0, 0, 0, 1].repeat(100_000),
                Err(AmfShapeError::TooDeep(MAX_AMF_DEPTH)),
            ),
        ];
        for (name, data, want) in cases {
            assert_eq!(amf0_shape(&data, MAX_AMF_DEPTH), want, "{name}");
        }
    }

    #[test]
    fn shape_agrees_with_rml_amf0() {
        use rml_rtmp::rml_amf0::{self, Amf0Value};
        use std::collections::HashMap;
        let mut props = HashMap::new();
        props.insert("app".to_string(), Amf0Value::Utf8String("live".into()));
        props.insert("nested".to_string(), Amf0Value::Object(HashMap::new()));
        let values = vec![
            Amf0Value::Utf8String("publish".into()),
            Amf0Value::Number(5.0),
            Amf0Value::Null,
            Amf0Value::Object(props),
            Amf0Value::StrictArray(vec![Amf0Value::Boolean(true), Amf0Value::Undefined]),
        ];
        let bytes = rml_amf0::serialize(&values).unwrap();
        assert_eq!(amf0_shape(&bytes, MAX_AMF_DEPTH), Ok(5));

        // Random near-AMF bytes: wherever rml_amf0 parses, we agree on the value count, and
        // we never accept what it rejects.
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (rnd() % 24) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| match rnd() % 4 {
                    0 | 1 => (rnd() % 11) as u8,
                    _ => rnd() as u8,
                })
                .collect();
            let theirs = rml_amf0::deserialize(&mut std::io::Cursor::new(&data[..]));
            let ours = amf0_shape(&data, MAX_AMF_DEPTH);
            if let Ok(count) = ours {
                match &theirs {
                    Ok(values) => assert_eq!(values.len(), count, "{data:02x?}"),
                    // rml_amf0 also checks UTF-8, which we do not need to.
                    Err(err) => assert!(
                        err.to_string().to_lowercase().contains("utf"),
                        "{data:02x?}: {err}"
                    ),
                }
            }
            if let Ok(values) = theirs {
                assert_eq!(ours, Ok(values.len()), "{data:02x?}");
            }
        }
    }

    fn chunked(type_id: u8, data: Vec<u8>) -> Vec<u8> {
        let payload = MessagePayload {
            timestamp: RtmpTimestamp::new(0),
            type_id,
            message_stream_id: 0,
            data: Bytes::from(data),
        };
        let mut serializer = ChunkSerializer::new();
        serializer.serialize(&payload, true, false).unwrap().bytes
    }

    #[test]
    fn guard_rejects_inputs_that_crash_rml_rtmp() {
        // Two AMF values in a command: rml_rtmp 0.8 panics on this.
        let short = chunked(20, vec![0x02, 0x00, 0x01, b'x', 0x05]);
        let mut guard = InputGuard::new(crate::Config::default().chunk_limits());
        assert!(matches!(
            guard.check(&short),
            Err(GuardError::ShortCommand { count: 2, .. })
        ));

        // Deep nesting in metadata: would overflow the stack.
        let mut deep = vec![0x02, 0x00, 0x01, b'x'];
        for _ in 0..10_000 {
            deep.extend_from_slice(&[0x03, 0x00, 0x01, b'a']);
        }
        let mut guard = InputGuard::new(crate::Config::default().chunk_limits());
        assert!(matches!(
            guard.check(&chunked(18, deep)),
            Err(GuardError::Amf {
                reason: AmfShapeError::TooDeep(_),
                ..
            })
        ));
    }

    #[test]
    fn guard_passes_a_normal_command_split_across_reads() {
        let bytes = chunked(
            20,
            [
                &[0x02, 0x00, 0x0C][..],
                b"createStream",
                &[0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x05],
            ]
            .concat(),
        );
        let mut guard = InputGuard::new(crate::Config::default().chunk_limits());
        let (a, b) = bytes.split_at(5);
        guard.check(a).unwrap();
        guard.check(b).unwrap();
        // The same bytes are fine for the session too.
        let (mut session, _) = ServerSession::new(ServerSessionConfig::new()).unwrap();
        session.handle_input(&bytes).unwrap();
    }

    /// Deterministic fuzz: whatever passes the guard must not panic the session.
    #[test]
    fn guarded_session_never_panics_on_random_messages() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3_000 {
            let mut bytes = Vec::new();
            for _ in 0..1 + rnd() % 3 {
                let type_id = (rnd() % 24) as u8;
                let len = (rnd() % 40) as usize;
                let data: Vec<u8> = (0..len)
                    .map(|_| match rnd() % 3 {
                        0 => (rnd() % 11) as u8, // AMF markers
                        _ => rnd() as u8,
                    })
                    .collect();
                bytes.extend(chunked(type_id, data));
            }
            if rnd() % 2 == 0 {
                bytes.extend((0..rnd() % 64).map(|_| rnd() as u8));
            }
            let mut guard = InputGuard::new(crate::Config::default().chunk_limits());
            if guard.check(&bytes).is_err() {
                continue;
            }
            let (mut session, _) = ServerSession::new(ServerSessionConfig::new()).unwrap();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = session.handle_input(&bytes);
            }));
            assert!(outcome.is_ok(), "session panicked on {bytes:02x?}");
        }
    }

    use proptest::prelude::*;

    /// AMF-ish bytes: markers and small lengths are likely, so the grammar is exercised.
    fn amfish(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![0u8..12, Just(0x09), any::<u8>()], 0..max)
    }

    proptest! {
        /// Arbitrary bytes: no panic; a count never exceeds the bytes; where rml_amf0 parses,
        /// we agree on the count, and we never accept what it rejects (except its UTF-8 check).
        #[test]
        fn amf0_shape_is_total_and_agrees(data in amfish(64)) {
            use rml_rtmp::rml_amf0;
            let ours = amf0_shape(&data, MAX_AMF_DEPTH);
            if let Ok(count) = ours {
                prop_assert!(count <= data.len());
            }
            let theirs = rml_amf0::deserialize(&mut std::io::Cursor::new(&data[..]));
            match (&ours, &theirs) {
                (Ok(n), Ok(values)) => prop_assert_eq!(*n, values.len()),
                (Ok(_), Err(e)) => prop_assert!(e.to_string().to_lowercase().contains("utf"), "{}", e),
                (Err(_), Ok(_)) => prop_assert!(false, "we reject what rml_amf0 parses"),
                (Err(_), Err(_)) => {}
            }
        }

        /// Deep or long input: bounded work, never past the depth limit, no stack use.
        #[test]
        fn amf0_shape_bounds_depth(unit in prop_oneof![
                Just(vec![0x03u8, 0x00, 0x01, b'a']),
                Just(vec![0x0A, 0, 0, 0, 1]),
                Just(vec![0x08, 0, 0, 0, 1, 0x00, 0x01, b'a'])],
            levels in 0usize..5_000) {
            let data = unit.repeat(levels);
            match amf0_shape(&data, MAX_AMF_DEPTH) {
                Err(AmfShapeError::TooDeep(d)) => prop_assert!(levels > d),
                Ok(_) | Err(AmfShapeError::Malformed) => prop_assert!(levels <= MAX_AMF_DEPTH),
            }
        }

        /// Messages of any type and body, chunked: what the guard passes never panics the
        /// session, and the guard never holds more than the limits.
        #[test]
        fn guarded_session_never_panics(
            messages in proptest::collection::vec((0u8..24, amfish(48)), 1..4),
            tail in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let mut bytes = Vec::new();
            for (type_id, data) in messages {
                bytes.extend(chunked(type_id, data));
            }
            bytes.extend(tail);
            let mut guard = InputGuard::new(crate::Config::default().chunk_limits());
            if guard.check(&bytes).is_err() {
                return Ok(());
            }
            let (mut session, _) = ServerSession::new(ServerSessionConfig::new()).unwrap();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = session.handle_input(&bytes);
            }));
            prop_assert!(outcome.is_ok(), "session panicked on {:02x?}", bytes);
        }
    }
}
