//! The watch page: the player configured from the address, in a page frame.

use super::player::{ConfigProblem, Player};
use leptos::either::Either;
use leptos::prelude::*;
use player_core::config::{PlayerConfig, RawConfig};

fn query_config() -> Result<PlayerConfig, String> {
    let location = web_sys::window().map(|w| w.location()).ok_or("No window")?;
    let origin = location.origin().map_err(|_| "No origin")?;
    let search = location.search().unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).map_err(|_| "Bad query")?;
    let raw = RawConfig::from_pairs(
        RawConfig::KEYS
            .iter()
            .filter_map(|k| params.get(k).map(|v| (*k, v))),
    );
    PlayerConfig::parse(&raw, &origin).map_err(|e| e.to_string())
}

#[component]
pub fn WatchPage() -> impl IntoView {
    let (player, ok) = match query_config() {
        // Either, not into_any(): static dispatch keeps the wasm smaller.
        Ok(config) => (
            Either::Left(view! { <Player config=config hls_src="hls.min.js"/> }),
            true,
        ),
        Err(message) => (
            Either::Right(view! { <ConfigProblem message=message/> }),
            false,
        ),
    };
    view! {
        <header class="page-header">
            <span class="page-logo" aria-hidden="true"></span>
            <span class="page-name">"Meeting live stream"</span>
        </header>
        <main class="page-main">
            <h1 class="page-title">"Live stream"</h1>
            {player}
            <p class="page-note" hidden=!ok>
                "The stream starts here by itself when the meeting goes live: no need to reload."
            </p>
        </main>
    }
}
