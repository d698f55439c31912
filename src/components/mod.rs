//! Thin Leptos views: they read the player's one snapshot and send the
//! viewer's actions; nothing here touches the browser beyond the view.

mod controls;
mod overlay;
mod player;
mod recordings;

pub use player::{ConfigProblem, Player, Tr};
