//! Cryptographic primitives: blocks, keys and bytes, and nothing about TLS.
//!
//! Every module here implements one algorithm from one document and is tested against that
//! document's published vectors and against an independent implementation (the RustCrypto crates).
//! The protocol layers above call these functions; nothing in here knows what a record, a handshake
//! or a cipher suite is.

pub mod aes;
mod aes_soft;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
mod aes_x86;
pub mod ct;
pub mod ctr;
pub mod gcm;
pub mod ghash;
#[cfg(all(target_arch = "x86_64", not(feature = "portable-only")))]
mod ghash_x86;
pub mod hmac;
pub mod prf;
pub mod rsa;
