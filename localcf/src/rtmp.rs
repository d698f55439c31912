//! RTMP ingest: the `rtmp-ingest` crate speaks RTMP and hands us each
//! publication as an FLV byte stream; we remux it with ffmpeg into a
//! broadcast of the input whose stream key was used.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::origin::Origin;

/// The ingest's limits from the command line (see `rtmp_ingest::Config`).
pub fn ingest_config(cfg: &Config) -> rtmp_ingest::Config {
    rtmp_ingest::Config {
        idle_timeout: Duration::from_secs(cfg.rtmp_idle_timeout_seconds),
        handshake_timeout: Duration::from_secs(cfg.rtmp_handshake_timeout_seconds),
        max_message_len: cfg.rtmp_max_message_bytes,
        max_connections: cfg.rtmp_max_connections as usize,
    }
}

/// Accepts `rtmp://host:port/live/<stream key>` for a known, idle input.
pub struct IngestHandler {
    pub origin: Arc<Origin>,
}

impl rtmp_ingest::PublishHandler for IngestHandler {
    fn on_publish(&self, app: &str, stream_key: &str) -> Option<mpsc::Sender<Bytes>> {
        match self.origin.start_rtmp(app, stream_key) {
            Ok((video, tx)) => {
                tracing::info!(app, video = %video, "RTMP publish accepted");
                Some(tx)
            }
            Err(e) => {
                tracing::warn!(app, error = %e, "RTMP publish rejected");
                None
            }
        }
    }
}
