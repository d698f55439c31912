//! Helpers shared by the backend's integration tests (each test binary
//! uses a part of them).
#![allow(dead_code)]

pub mod fake_cloudflare;
pub mod jitsi;
pub mod procs;
