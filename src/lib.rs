//! Live-stream player for Jitsi meetings streamed to Cloudflare Stream.
//!
//! `player_core` holds the logic; `interop` the browser; `driver` runs the
//! one with the other; `components` render.

pub mod components;
pub mod driver;
pub mod interop;

/// Mounts the watch page (configured from the URL query) into `<body>`.
pub fn start_watch_page() {
    leptos::mount::mount_to_body(components::WatchPage);
}
