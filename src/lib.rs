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
//! - [`clock`]: injected time, so certificate checks and session lifetimes are reproducible.
//! - [`wire`]: the bytes on the wire: [`wire::codec`] (the bounds-checked reader and
//!   length-prefixing writer), [`wire::alert`] (the alert codes every error maps to, RFC 5246
//!   7.2) and [`wire::messages`] (every TLS message as a plain struct with `encode`/`decode`).
//! - [`record`]: record framing, limits, sequence numbers; [`record::suite`]: what each cipher
//!   suite means and how it protects a record.
//! - [`handshake`]: [`handshake::client`] and [`handshake::server`] (the two handshakes,
//!   straight-line, each step one function naming its RFC section), [`handshake::common`] (what
//!   both do the same way: the transcript, the keys of a side, ChangeCipherSpec and Finished),
//!   [`handshake::joiner`] (handshake messages out of records), [`handshake::keys`] (the key
//!   schedule) and [`handshake::session`] (resumption caches).
//! - [`conn`]: one connection's life (alerts, application data, refused renegotiations);
//!   [`config`]: what a client or server is configured with.
//! - [`stream`]: [`stream::TlsStream`], a connection over any `Read + Write`, itself `Read + Write`.
//! - [`net`]: [`net::timed`], a TCP transport with a handshake deadline and read/write timeouts
//!   (both sides); [`net::serve`], a server that keeps serving under hostile peers.
//! - [`trace`]: structured events for the demo, `--trace` and tests; the library never prints.
//! - [`error`]: the one protocol error type; every variant maps to the alert it sends.
//! - [`x509`]: certificates: DER and PEM, parsing, building, and verifying a server's chain.
//! - [`capture`]: a connection recorded as a pcapng capture Wireshark decrypts.

pub mod capture;
pub mod clock;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod handshake;
pub mod keylog;
pub mod net;
pub mod record;
pub mod stream;
pub mod trace;
pub mod wire;
pub mod x509;

/// Which end of a connection: the client, which connects and speaks first, or the server.
/// It decides which keys a side writes with, which Finished label it uses, and which handshake
/// messages it may receive; every connection knows its own ([`conn::Conn::side`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// `"client"` or `"server"`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}
