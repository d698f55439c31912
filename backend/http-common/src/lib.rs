//! Shared by the backend (`backend/`) and the local Cloudflare stand-in
//! (`localcf/`, its own workspace): the JSON error type every handler
//! answers with, extractors whose rejections are that error, and the two
//! small pieces of serving both binaries do the same way.

pub mod error;
pub mod extract;
pub mod headers;
pub mod limits;
pub mod serve;
