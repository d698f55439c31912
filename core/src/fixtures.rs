//! Test fixtures shared by the state machine's and the player's case tables.

use crate::cloudflare::Lifecycle;
use crate::machine::{Ctx, Event};

/// A visible page at `now_ms`, with the middle of every jitter range.
pub fn at(now_ms: u64) -> Ctx {
    Ctx {
        now_ms,
        rand01: 0.5,
        hidden: false,
    }
}

/// Lifecycle: the input is live with video `uid`.
pub fn live(uid: &str) -> Event {
    Event::Lifecycle(Ok(Lifecycle {
        is_input: true,
        video_uid: Some(uid.into()),
        live: true,
    }))
}

/// Lifecycle: the input is idle.
pub fn idle() -> Event {
    Event::Lifecycle(Ok(Lifecycle {
        is_input: true,
        video_uid: None,
        live: false,
    }))
}
