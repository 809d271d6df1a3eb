//! The two handshakes (RFC 5246 7.3), the key schedule and the session caches.

pub mod client;
pub mod keys;
pub mod server;
pub mod session;
