//! One RTMP connection: handshake, then feed socket bytes to `rml_rtmp`'s `ServerSession`,
//! write its responses back in order, and forward a publication as FLV to the handler's channel.

use crate::flv::{ScriptValue, TagTooLarge};
use crate::guard::{GuardError, InputGuard};
use crate::sequencer::{FlvSequencer, Track};
use crate::{Config, PublishHandler};
use bytes::Bytes;
use rml_rtmp::handshake::{Handshake, HandshakeError, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ServerSession, ServerSessionConfig, ServerSessionError, ServerSessionEvent,
    ServerSessionResult, StreamMetadata,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::Sender;
use tokio::time::{timeout, timeout_at, Instant};

/// Why a connection ended abnormally (logged by `serve`; never fatal to the server).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("client completed no message for {0:?}")]
    Idle(Duration),
    #[error("client did not publish within {0:?} of connecting")]
    HandshakeDeadline(Duration),
    #[error("client did not read our responses for {0:?}")]
    WriteStalled(Duration),
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("RTMP protocol error: {0}")]
    Session(#[from] ServerSessionError),
    #[error("refused client input: {0}")]
    Guard(#[from] GuardError),
    #[error("publish of {app}/{} rejected by the handler", redact(.key))]
    PublishRejected { app: String, key: String },
    #[error("second publish ({}) on a connection that is already publishing", redact(.key))]
    SecondPublish { key: String },
    #[error("play of {} refused: this server only ingests", redact(.key))]
    PlayRefused { key: String },
    #[error("consumer of {} closed its channel", redact(.key))]
    ConsumerGone { key: String },
    #[error("consumer of {} accepted nothing for {timeout:?}", redact(.key))]
    ConsumerStalled { key: String, timeout: Duration },
    #[error("FLV muxing: {0}")]
    Flv(#[from] TagTooLarge),
}

/// The publication in progress on this connection.
struct Publication {
    app: String,
    key: String,
    tx: Sender<Bytes>,
    sequencer: FlvSequencer,
}

struct Conn {
    socket: TcpStream,
    session: ServerSession,
    /// Sees every byte before `session` does; see `guard`.
    guard: InputGuard,
    handler: Arc<dyn PublishHandler>,
    idle: Duration,
    /// Until a publish is accepted: when the connection must have got there.
    publish_deadline: Option<Instant>,
    handshake_timeout: Duration,
    /// Handshake progress or the last complete RTMP message: a trickle of bytes that never
    /// completes a message does not keep the connection open.
    last_progress: Instant,
    publication: Option<Publication>,
    /// Outbound RTMP bytes; written in order before the next read so chunk headers stay valid.
    out: Vec<u8>,
}

/// Runs one connection to its end.
pub(crate) async fn run(
    mut socket: TcpStream,
    handler: Arc<dyn PublishHandler>,
    config: &Config,
) -> Result<(), ConnError> {
    let idle = config.idle_timeout;
    let handshake_timeout = config.handshake_timeout;
    let publish_deadline = Instant::now() + handshake_timeout;
    // Control responses are tiny and the publisher waits on them; don't let Nagle delay them.
    if let Err(err) = socket.set_nodelay(true) {
        tracing::debug!(%err, "set_nodelay failed");
    }
    let mut buf = vec![0u8; 64 * 1024];

    let mut handshake = Handshake::new(PeerType::Server);
    let leftover = loop {
        let deadline = publish_deadline.min(Instant::now() + idle);
        let n = match timeout_at(deadline, socket.read(&mut buf)).await {
            Ok(n) => n?,
            Err(_) if deadline == publish_deadline => {
                return Err(ConnError::HandshakeDeadline(handshake_timeout))
            }
            Err(_) => return Err(ConnError::Idle(idle)),
        };
        if n == 0 {
            return Ok(()); // gone before the handshake finished: nothing to clean up
        }
        match handshake.process_bytes(&buf[..n])? {
            HandshakeProcessResult::InProgress { response_bytes } => {
                write_with_timeout(&mut socket, &response_bytes, idle).await?;
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                write_with_timeout(&mut socket, &response_bytes, idle).await?;
                break remaining_bytes;
            }
        }
    };

    let (session, initial) = ServerSession::new(ServerSessionConfig::new())?;
    let mut conn = Conn {
        socket,
        session,
        guard: InputGuard::new(config.chunk_limits()),
        handler,
        idle,
        publish_deadline: Some(publish_deadline),
        handshake_timeout,
        last_progress: Instant::now(),
        publication: None,
        out: Vec::new(),
    };
    let result = conn.serve(initial, &leftover, &mut buf).await;
    // Close the socket first so the publisher learns at once, even if the final flush waits.
    let Conn {
        socket,
        publication,
        ..
    } = conn;
    drop(socket);
    // Then hand over what the sequencer still holds (unless the consumer is the problem) and
    // drop the Sender, which tells the consumer the publisher is gone.
    if let Some(p) = publication {
        let consumer_failed = matches!(
            result,
            Err(ConnError::ConsumerGone { .. } | ConnError::ConsumerStalled { .. })
        );
        if !consumer_failed {
            if let Err(err) = finish_publication(p, idle).await {
                tracing::debug!(%err, "final FLV flush failed");
            }
        }
    }
    result
}

impl Conn {
    async fn serve(
        &mut self,
        initial: Vec<ServerSessionResult>,
        leftover: &[u8],
        buf: &mut [u8],
    ) -> Result<(), ConnError> {
        self.process(initial).await?;
        if !leftover.is_empty() {
            self.input(leftover).await?;
        }
        loop {
            let n = self.read(buf).await?;
            if n == 0 {
                return Ok(());
            }
            self.input(&buf[..n]).await?;
        }
    }

    async fn input(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        let completed = self.guard.check(bytes)?;
        let results = self.session.handle_input(bytes)?;
        self.process(results).await?;
        // Counted after processing: time spent waiting on a slow consumer is not the
        // client's silence.
        if completed > 0 {
            self.last_progress = Instant::now();
        }
        Ok(())
    }

    /// Reads from the client; also ends the connection as soon as the consumer goes away,
    /// even while the publisher is quiet.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ConnError> {
        let Conn {
            socket,
            publication,
            idle,
            publish_deadline,
            handshake_timeout,
            last_progress,
            ..
        } = self;
        let idle_at = *last_progress + *idle;
        let (deadline, expired) = match *publish_deadline {
            Some(d) if d < idle_at => (d, ConnError::HandshakeDeadline(*handshake_timeout)),
            _ => (idle_at, ConnError::Idle(*idle)),
        };
        let consumer_gone = async {
            match publication {
                Some(p) => {
                    p.tx.closed().await;
                    p.key.clone()
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = timeout_at(deadline, socket.read(buf)) => match n {
                Ok(n) => Ok(n?),
                Err(_) => Err(expired),
            },
            key = consumer_gone => Err(ConnError::ConsumerGone { key }),
        }
    }

    async fn process(&mut self, results: Vec<ServerSessionResult>) -> Result<(), ConnError> {
        for result in results {
            match result {
                ServerSessionResult::OutboundResponse(packet) => {
                    self.out.extend_from_slice(&packet.bytes)
                }
                ServerSessionResult::RaisedEvent(event) => self.event(event).await?,
                ServerSessionResult::UnhandleableMessageReceived(payload) => {
                    tracing::trace!(type_id = payload.type_id, "ignored RTMP message");
                }
            }
        }
        self.flush().await
    }

    /// Queues the outbound packets of an accept/reject; those calls raise no events.
    fn queue(&mut self, results: Vec<ServerSessionResult>) {
        for result in results {
            if let ServerSessionResult::OutboundResponse(packet) = result {
                self.out.extend_from_slice(&packet.bytes);
            }
        }
    }

    async fn flush(&mut self) -> Result<(), ConnError> {
        if !self.out.is_empty() {
            write_with_timeout(&mut self.socket, &self.out, self.idle).await?;
            self.out.clear();
        }
        Ok(())
    }

    async fn event(&mut self, event: ServerSessionEvent) -> Result<(), ConnError> {
        match event {
            ServerSessionEvent::ConnectionRequested {
                request_id,
                app_name,
            } => {
                // Any app may connect; the handler judges app + key at publish time.
                tracing::debug!(app = %app_name, "RTMP connect");
                let results = self.session.accept_request(request_id)?;
                self.queue(results);
            }
            ServerSessionEvent::PublishStreamRequested {
                request_id,
                app_name,
                stream_key,
                ..
            } => self.publish(request_id, app_name, stream_key).await?,
            ServerSessionEvent::PlayStreamRequested {
                request_id,
                stream_key,
                ..
            } => {
                let results = self.session.reject_request(
                    request_id,
                    "NetStream.Play.Failed",
                    "this server only accepts publishers",
                )?;
                self.queue(results);
                self.flush().await?;
                return Err(ConnError::PlayRefused { key: stream_key });
            }
            ServerSessionEvent::PublishStreamFinished { .. } => self.end_publication().await?,
            ServerSessionEvent::UnhandleableAmf0Command { command_name, .. } => {
                // FCUnpublish is how OBS/ffmpeg announce the end before deleteStream; rml_rtmp
                // does not interpret it.
                if command_name == "FCUnpublish" {
                    self.end_publication().await?;
                } else {
                    tracing::trace!(%command_name, "ignored AMF0 command");
                }
            }
            ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
                if let Some(p) = &mut self.publication {
                    let mut chunks = Vec::new();
                    p.sequencer
                        .metadata(&metadata_props(&metadata), &mut chunks)?;
                    send(p, chunks, self.idle).await?;
                }
            }
            ServerSessionEvent::AudioDataReceived {
                data, timestamp, ..
            } => self.media(Track::Audio, timestamp.value, data).await?,
            ServerSessionEvent::VideoDataReceived {
                data, timestamp, ..
            } => self.media(Track::Video, timestamp.value, data).await?,
            other => tracing::trace!(?other, "ignored RTMP event"),
        }
        Ok(())
    }

    async fn publish(
        &mut self,
        request_id: u32,
        app: String,
        key: String,
    ) -> Result<(), ConnError> {
        if self.publication.is_some() {
            // Real publishers use one publication per connection; refusing keeps one
            // Sender per connection and the end-of-stream signal unambiguous.
            let results = self.session.reject_request(
                request_id,
                "NetStream.Publish.BadConnection",
                "already publishing on this connection",
            )?;
            self.queue(results);
            self.flush().await?;
            return Err(ConnError::SecondPublish { key });
        }
        match self.handler.on_publish(&app, &key) {
            Some(tx) => {
                tracing::info!(%app, key = %redact(&key), "publish started");
                let results = self.session.accept_request(request_id)?;
                self.queue(results);
                self.publish_deadline = None;
                self.publication = Some(Publication {
                    app,
                    key,
                    tx,
                    sequencer: FlvSequencer::new(),
                });
                Ok(())
            }
            None => {
                let results = self.session.reject_request(
                    request_id,
                    "NetStream.Publish.BadName",
                    "unknown stream key",
                )?;
                self.queue(results);
                self.flush().await?;
                Err(ConnError::PublishRejected { app, key })
            }
        }
    }

    async fn media(&mut self, track: Track, timestamp: u32, data: Bytes) -> Result<(), ConnError> {
        // Media outside an accepted publication (e.g. after FCUnpublish) is dropped.
        if let Some(p) = &mut self.publication {
            let mut chunks = Vec::new();
            p.sequencer.media(track, timestamp, data, &mut chunks)?;
            send(p, chunks, self.idle).await?;
        }
        Ok(())
    }

    async fn end_publication(&mut self) -> Result<(), ConnError> {
        match self.publication.take() {
            Some(p) => finish_publication(p, self.idle).await,
            None => Ok(()),
        }
    }
}

/// Flushes held FLV data and drops the Sender, which the consumer sees as end of stream.
async fn finish_publication(mut p: Publication, idle: Duration) -> Result<(), ConnError> {
    tracing::info!(app = %p.app, key = %redact(&p.key), "publish ended");
    let mut chunks = Vec::new();
    p.sequencer.finish(&mut chunks)?;
    send(&mut p, chunks, idle).await
}

/// Sends FLV chunks in order. Awaiting each send is the backpressure: while the consumer is
/// slow we stop reading the socket, so the publisher's TCP window fills instead of our memory.
async fn send(p: &mut Publication, chunks: Vec<Bytes>, idle: Duration) -> Result<(), ConnError> {
    for chunk in chunks {
        match timeout(idle, p.tx.send(chunk)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(ConnError::ConsumerGone { key: p.key.clone() }),
            Err(_) => {
                return Err(ConnError::ConsumerStalled {
                    key: p.key.clone(),
                    timeout: idle,
                })
            }
        }
    }
    Ok(())
}

async fn write_with_timeout(
    socket: &mut TcpStream,
    bytes: &[u8],
    idle: Duration,
) -> Result<(), ConnError> {
    match timeout(idle, socket.write_all(bytes)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ConnError::WriteStalled(idle)),
    }
}

/// onMetaData properties in a fixed order. rml_rtmp hands us only the fields it parsed, so
/// this is a faithful subset of what the publisher sent (codec ids, size, rates, encoder).
fn metadata_props(m: &StreamMetadata) -> Vec<(String, ScriptValue)> {
    let numbers = [
        ("width", m.video_width.map(f64::from)),
        ("height", m.video_height.map(f64::from)),
        ("videocodecid", m.video_codec_id.map(f64::from)),
        ("videodatarate", m.video_bitrate_kbps.map(f64::from)),
        ("framerate", m.video_frame_rate.map(f64::from)),
        ("audiocodecid", m.audio_codec_id.map(f64::from)),
        ("audiodatarate", m.audio_bitrate_kbps.map(f64::from)),
        ("audiosamplerate", m.audio_sample_rate.map(f64::from)),
        ("audiochannels", m.audio_channels.map(f64::from)),
    ];
    let mut props: Vec<(String, ScriptValue)> = numbers
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), ScriptValue::Number(v))))
        .collect();
    if let Some(stereo) = m.audio_is_stereo {
        props.push(("stereo".to_string(), ScriptValue::Boolean(stereo)));
    }
    if let Some(encoder) = &m.encoder {
        props.push(("encoder".to_string(), ScriptValue::String(encoder.clone())));
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_props_order_and_types() {
        let mut m = StreamMetadata::new();
        m.video_width = Some(320);
        m.video_codec_id = Some(7);
        m.video_frame_rate = Some(30.0);
        m.audio_codec_id = Some(10);
        m.audio_is_stereo = Some(false);
        m.encoder = Some("Lavf59".into());
        let got = metadata_props(&m);
        let want: Vec<(String, ScriptValue)> = vec![
            ("width".into(), ScriptValue::Number(320.0)),
            ("videocodecid".into(), ScriptValue::Number(7.0)),
            ("framerate".into(), ScriptValue::Number(30.0)),
            ("audiocodecid".into(), ScriptValue::Number(10.0)),
            ("stereo".into(), ScriptValue::Boolean(false)),
            ("encoder".into(), ScriptValue::String("Lavf59".into())),
        ];
        assert_eq!(got, want);
        assert!(metadata_props(&StreamMetadata::new()).is_empty());
    }
}

/// A stream key lets anyone publish: logs and errors show only its start.
pub(crate) fn redact(key: &str) -> String {
    let shown: String = key.chars().take(3).collect();
    format!("{shown}…")
}

#[cfg(test)]
mod redact_tests {
    use super::*;

    #[test]
    fn stream_keys_never_appear_whole_in_errors() {
        let e = ConnError::PublishRejected {
            app: "live".into(),
            key: "secret-key-123".into(),
        };
        let text = e.to_string();
        assert!(!text.contains("secret-key-123"), "{text}");
        assert!(text.contains("sec…"), "{text}");
        assert_eq!(redact(""), "…");
    }
}
