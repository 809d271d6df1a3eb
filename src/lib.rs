//! # toytls: TLS 1.2, written to be read
//!
//! TLS in one sentence: client and server agree on a version and cipher suite, the server proves who
//! it is with a certificate, the client sends a random pre-master secret encrypted under the
//! server's RSA public key, both derive the same symmetric keys from it with the TLS 1.2 PRF, prove
//! it to each other with Finished messages, and from then on every record is encrypted and
//! authenticated.
//!
//! The crate is layered; each layer uses only the ones below it (see `DESIGN.md` in the shared
//! folder and `spec/` in this repository):
//!
//! - [`crypto`]: AES, CTR, HMAC, the TLS PRF and RSA. Knows blocks, keys and bytes, nothing of TLS.
//! - [`alert`]: the alert codes every error maps to (RFC 5246 7.2).
//! - [`clock`]: injected time, so certificate checks and session lifetimes are reproducible.
//! - [`codec`]: the bounds-checked reader and length-prefixing writer every message goes through.
//! - [`messages`]: every TLS message as a plain struct with `encode`/`decode`.
//! - [`record`]: record framing, limits, sequence numbers; [`suites`]: what each cipher suite
//!   means and how it protects a record (our AES-128-CTR + HMAC-SHA256 suite).
//! - [`keys`]: the key schedule, pre-master secret to master secret to keys to Finished.
//! - [`client`] and [`server`]: the two handshakes, straight-line, each step one function naming
//!   its RFC section; [`conn`]: the connection state they share (reassembly, transcript, alerts).
//! - [`session`]: resumption caches; [`config`]: what a client or server is configured with.
//! - [`stream`]: [`stream::TlsStream`], a connection over any `Read + Write`, itself `Read + Write`.
//! - [`timed`]: a TCP transport with a handshake deadline and read/write timeouts (both sides);
//!   [`serve`]: a server that keeps serving under hostile peers.
//! - [`trace`]: structured events for the demo, `--trace` and tests; the library never prints.
//! - [`error`]: the one protocol error type; every variant maps to the alert it sends.
//! - [`x509`]: certificates: DER and PEM, parsing, building, and verifying a server's chain.

pub mod alert;
pub mod client;
pub mod clock;
pub mod codec;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod keylog;
pub mod keys;
pub mod messages;
pub mod record;
pub mod serve;
pub mod server;
pub mod session;
pub mod stream;
pub mod suites;
pub mod timed;
pub mod trace;
pub mod x509;
