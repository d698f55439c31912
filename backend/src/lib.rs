//! The backend a deployment runs next to Jitsi. It is stateless apart from
//! its caches, so it scales out by replicas; the Cloudflare API token never
//! leaves it.
//!
//! - Recordings: [`account_client`] (Cloudflare's account API, typed), the
//!   shared [`cache`] in front of it, [`recordings`] (pure list building and
//!   HTTP cache rules) and [`recordings_api`] (the viewers' endpoint).
//! - Go-live: [`auth`] (the Jitsi token), [`rate_limit`], [`rooms`] (a
//!   room's live input, found or created) and [`rooms_api`] (the endpoint).
//!   The moderator page is its own bundle (`moderator/`), served from `dist/moderator/`.
//! - Private rooms: [`signing_key`] (the Stream signing key, given or
//!   created once) and [`viewer_token`] (tokens for viewers, minted locally).
//! - Viewing figures: [`qoe`] (beacons in, SQLite/PostgreSQL, moderators'
//!   reads) and [`metrics`] (`GET /metrics` for Prometheus).
//! - [`app`] wires the router, [`config`] reads flags and environment.
//!
//! It has no control API, no faults and no ffmpeg: those belong to the local
//! Cloudflare stand-in (`../localcf`), a test tool.

pub mod account_client;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub use http_common::{error, extract};
pub mod ids;
pub mod metrics;
pub mod qoe;
pub mod rate_limit;
pub mod recordings;
pub mod recordings_api;
pub mod rooms;
pub mod rooms_api;
pub mod signing_key;
pub mod viewer_token;
pub mod watch_page;
