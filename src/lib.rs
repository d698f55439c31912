//! Live-stream player for Jitsi meetings streamed to Cloudflare Stream.
//!
//! `player_core` holds the logic; `interop` the browser; `driver` routes between
//! the two; `components` render its one view; `embed` has the entry points
//! (the watch page's, and `mount_player` under the package's `mount()` and
//! custom element).

pub mod components;
pub mod driver;
pub mod embed;
pub mod interop;
