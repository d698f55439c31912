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

// Talc instead of Rust's default dlmalloc: a general allocator (free lists,
// memory reused: the page lives for hours), 0.5 KB gzip smaller here
// (docs/notes/start.md). Realloc-in-place is off for size; the player's
// allocations are small and few.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
