//! The demo schedule: input `demo` (stream key `demo`) loops idle → live →
//! ended, so the demo page shows every state with no one touching it.

use std::sync::Arc;
use std::time::Duration;

use crate::api::{CreateInput, StartBroadcast, StopMode};
use crate::error::ApiError;
use crate::origin::Origin;

pub const DEMO_INPUT: &str = "demo";

/// Creates the demo input.
pub fn create_input(origin: &Origin) -> Result<(), ApiError> {
    origin
        .create_input(CreateInput {
            uid: Some(DEMO_INPUT.into()),
            name: Some("Demo".into()),
            stream_key: Some(DEMO_INPUT.into()),
        })
        .map(|_| ())
}

/// Runs the schedule until the demo input is deleted or the task is aborted.
pub async fn run(origin: Arc<Origin>, idle: Duration, live: Duration) {
    loop {
        tokio::time::sleep(idle).await;
        let video = match origin.start_synthetic(DEMO_INPUT, StartBroadcast::default()) {
            Ok(v) => v,
            Err(ApiError::NotFound(_)) => {
                tracing::info!("demo input deleted: demo schedule ends");
                return;
            }
            Err(ApiError::ShuttingDown) => return,
            Err(e) => {
                // Someone else is broadcasting on it: try again next cycle.
                tracing::info!(error = %e, "demo: not starting a broadcast");
                continue;
            }
        };
        let until = tokio::time::Instant::now() + live;
        while tokio::time::Instant::now() < until && origin.is_running(DEMO_INPUT, &video) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if origin.is_running(DEMO_INPUT, &video) {
            if let Err(e) = origin.stop(DEMO_INPUT, StopMode::Clean).await {
                tracing::info!(error = %e, "demo: stop");
            }
        }
    }
}
