//! Pure logic of the live player, shared with the server.
//!
//! Nothing here touches a browser, a framework or the network: each module
//! is data in, data out, and is unit-tested natively.

pub mod cloudflare;
pub mod config;
pub mod engine;
pub mod events;
#[cfg(test)]
mod fixtures;
pub mod format;
pub mod health;
pub mod hls_config;
pub mod i18n;
pub mod json;
pub mod keys;
pub mod machine;
pub mod player;
pub mod policy;
#[cfg(test)]
mod props;
pub mod qoe;
pub mod recordings;
pub mod signed;
pub mod text;
