//! Cloudflare Stream's account API as data: the wire types the backend reads
//! (`account`) and the local stand-in writes, and [`Secret`], the token type
//! that never prints itself. Only serde: the stand-in's workspace depends on
//! it by path without inheriting the backend's HTTP and TLS stack.

pub mod account;
pub mod secret;

pub use secret::Secret;
