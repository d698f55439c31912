//! Thin Leptos views: they read the driver's signals and render.

mod player;

pub use player::{ConfigProblem, Player};
