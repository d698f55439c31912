//! RTMP ingest: accepts publishers (Jibri, OBS, ffmpeg) on one TCP port and hands each
//! publication to a [`PublishHandler`] as an FLV byte stream.
//!
//! Why this design:
//! - `ffmpeg -listen 1 -i rtmp://...` accepts one publisher per listening port and exits when
//!   it leaves, so it cannot route many stream keys on one port or survive reconnects.
//! - `rml_rtmp` 0.8 gives the RTMP handshake and the server-side message state machine
//!   (connect/createStream/publish, chunking, acks) as a sans-I/O library. We own the socket
//!   loop, so we decide per stream key (the handler), enforce timeouts, and apply backpressure
//!   from the consumer all the way to the publisher's TCP window.
//! - We mux FLV ourselves ([`flv`]) because it is tiny and lets the consumer run a plain
//!   `ffmpeg -f flv -i pipe:0 -c copy ...` remux with no re-encode.
//! - `rml_rtmp` 0.8 panics or overflows its stack on some malformed messages; an input guard
//!   screens every byte before it reaches the session (see `guard.rs`), so a hostile client
//!   cannot take the process down even under `panic = "abort"`.
//! - Everything before an accepted publish comes from anyone who reaches the port, so each
//!   connection is bounded before a stream key is checked ([`Config`]): a connection cap, a
//!   deadline to publish, an idle timeout that only complete messages reset, and a maximum
//!   message size enforced at the chunk header by our own scanner ([`chunk`]), which also
//!   keeps `rml_rtmp` the only place an unfinished message is buffered.
//!
//! ```no_run
//! use std::sync::Arc;
//! use rtmp_ingest::PublishHandler;
//!
//! struct Keys;
//! impl PublishHandler for Keys {
//!     fn on_publish(&self, _app: &str, key: &str) -> Option<tokio::sync::mpsc::Sender<bytes::Bytes>> {
//!         if key != "secret" {
//!             return None;
//!         }
//!         let (tx, _rx) = tokio::sync::mpsc::channel(64); // give _rx to an ffmpeg remuxer
//!         Some(tx)
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:1935").await?;
//! rtmp_ingest::serve(listener, Arc::new(Keys)).await
//! # }
//! ```

pub mod chunk;
mod connection;
pub mod flv;
mod guard;
mod sequencer;

use std::sync::Arc;
use std::time::Duration;

pub use sequencer::{FlvSequencer, Track};

/// Decides which publications are accepted and where their FLV bytes go.
///
/// `on_publish` runs on the connection's task: keep it quick (spawn slow work). It is called
/// once per publish request, also when the key is already live elsewhere: return None to
/// refuse a duplicate. The channel's capacity is the consumer's choice; the ingest awaits
/// each send, so a full channel pauses reading from the publisher (TCP backpressure). A
/// consumer that accepts nothing for the idle timeout, or drops its receiver, gets the
/// publisher disconnected.
pub trait PublishHandler: Send + Sync + 'static {
    /// A client asked to publish `stream_key` under RTMP app `app`. Return a channel that receives the FLV byte
    /// stream (FLV file header first, then tags, in order); dropping/closing it on the ingest side means the
    /// publisher is gone. Return None to reject the publish.
    fn on_publish(
        &self,
        app: &str,
        stream_key: &str,
    ) -> Option<tokio::sync::mpsc::Sender<bytes::Bytes>>;
}

/// Tunables for [`serve_with_config`]; [`serve`] uses the defaults.
///
/// Everything before a publish is accepted comes from anyone who can reach the port, so
/// each connection's memory and lifetime are bounded before a stream key is checked.
#[derive(Clone, Debug)]
pub struct Config {
    /// A connection is closed when, for this long, the client completes no RTMP message
    /// (a byte trickle does not count), or the socket cannot be written, or the consumer's
    /// channel accepts nothing.
    pub idle_timeout: Duration,
    /// From accept to an accepted publish (handshake, connect, createStream, publish with a
    /// valid key). Real publishers need well under a second.
    pub handshake_timeout: Duration,
    /// Longest RTMP message accepted. The unfinished message is the only large thing a
    /// connection buffers, so this bounds a connection's memory.
    pub max_message_len: u32,
    /// Connections open at once; further ones are closed at accept.
    pub max_connections: usize,
}

/// Default [`Config::max_message_len`]: 4 MiB. One message is one video frame; a 1080p
/// H.264 keyframe from ffmpeg/OBS/Jibri at 2-6 Mb/s is 50-500 KB, and even a 4K keyframe at
/// 50 Mb/s stays near 2 MB. 16 MB (the 24-bit header maximum) would let every client pin
/// 16 MB.
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 4 * 1024 * 1024;
/// Longest control or AMF message (connect, publish, onMetaData are < 1 KB from real
/// encoders); these bodies are buffered by the input guard too.
pub const MAX_COMMAND_LEN: u32 = 64 * 1024;
/// Chunk streams per connection: ffmpeg and OBS use 2-7.
pub const MAX_CHUNK_STREAMS: usize = 64;

impl Default for Config {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            max_connections: 64,
        }
    }
}

impl Config {
    pub(crate) fn chunk_limits(&self) -> chunk::Limits {
        chunk::Limits {
            max_message_len: self.max_message_len,
            max_command_len: MAX_COMMAND_LEN,
            max_chunk_streams: MAX_CHUNK_STREAMS,
        }
    }
}

/// Accepts RTMP connections forever, one tokio task per connection, with default [`Config`].
///
/// A misbehaving client only ends its own connection. Accept errors (e.g. out of file
/// descriptors) are logged and retried after a short pause rather than ending the server.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handler: Arc<dyn PublishHandler>,
) -> std::io::Result<()> {
    serve_with_config(listener, handler, Config::default()).await
}

/// [`serve`] with explicit [`Config`].
pub async fn serve_with_config(
    listener: tokio::net::TcpListener,
    handler: Arc<dyn PublishHandler>,
    config: Config,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, max_connections = config.max_connections, "RTMP ingest listening");
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let mut last_refusal_logged: Option<tokio::time::Instant> = None;
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    // Closed at once: a flood costs a file descriptor only for an instant.
                    drop(socket);
                    // At most one line per second, so a flood cannot fill the log.
                    if last_refusal_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(%peer, max = config.max_connections, "RTMP connection refused: too many connections");
                        last_refusal_logged = Some(tokio::time::Instant::now());
                    }
                    continue;
                };
                let handler = Arc::clone(&handler);
                let config = config.clone();
                tokio::spawn(async move {
                    match connection::run(socket, handler, &config).await {
                        Ok(()) => tracing::debug!(%peer, "RTMP connection closed"),
                        Err(err) => tracing::info!(%peer, %err, "RTMP connection closed"),
                    }
                    drop(slot);
                });
            }
            Err(err) => {
                // Usually EMFILE or a connection reset before accept; back off so a persistent
                // error does not spin a core.
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
