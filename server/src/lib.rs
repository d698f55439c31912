//! The local origin: a Cloudflare Stream stand-in with real media.
//!
//! - [`origin`]: the state (inputs, broadcasts, faults, viewers, stats) behind one lock.
//! - [`delivery`] and [`control`]: thin HTTP handlers over it; [`app`] wires them.
//! - [`supervisor`]: one task per ffmpeg child; [`rtmp`]: RTMP publishers in.
//! - Pure policies, unit-tested: [`faults`], [`viewers`], [`hls`], [`ffmpeg`], [`ids`].
//! - Recordings: [`account_client`] (Cloudflare's account API, typed), the
//!   shared [`cache`] in front of it, [`recordings`] (pure list building and
//!   HTTP cache rules), [`recordings_api`] (the viewers' endpoint), and
//!   [`account_api`], the local origin's stand-in of the account API.

pub mod account_api;
pub mod account_client;
pub mod api;
pub mod app;
pub mod cache;
pub mod config;
pub mod control;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod extract;
pub mod faults;
pub mod ffmpeg;
pub mod hls;
pub mod ids;
pub mod origin;
pub mod recording;
pub mod recordings;
pub mod recordings_api;
pub mod rtmp;
pub mod secret;
pub mod supervisor;
pub mod viewers;
