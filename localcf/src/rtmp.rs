//! RTMP ingest: the `rtmp-ingest` crate speaks RTMP and hands us each
//! publication as an FLV byte stream; we remux it with ffmpeg into a
//! broadcast of the input whose stream key was used.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::origin::Origin;

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
