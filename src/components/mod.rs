//! Thin Leptos views: they read the driver's signals and render.

mod player;
mod watch_page;

pub use player::Player;
pub use watch_page::WatchPage;
