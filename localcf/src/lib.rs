//! The local Cloudflare Stream stand-in: a development and test tool, never
//! part of a deployment. It answers as Cloudflare does, with real media.
//!
//! - [`origin`]: the state (inputs, broadcasts, faults, viewers, stats) behind one lock.
//! - [`delivery`] and [`control`]: thin HTTP handlers over it; [`app`] wires them.
//! - [`supervisor`]: one task per ffmpeg child; [`rtmp`]: RTMP publishers in.
//! - Pure policies, unit-tested: [`faults`], [`viewers`], [`hls`], [`ffmpeg`], [`ids`].
//! - [`account_api`]: the stand-in of Cloudflare's account API, which the
//!   backend (`../backend`) talks to in local mode as it would to Cloudflare;
//!   [`signed`]: its signing keys and the signed-URL check on delivery.

pub mod account_api;
pub mod api;
pub mod app;
pub mod caps;
pub mod config;
pub mod control;
pub mod delivery;
pub mod demo;
pub use http_common::{error, extract};
pub mod faults;
pub mod ffmpeg;
pub mod guard;
pub mod hls;
pub mod ids;
pub mod origin;
pub mod recording;
pub mod rtmp;
pub mod signed;
pub mod supervisor;
pub mod thumbnails;
pub mod viewers;
