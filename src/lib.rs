//! # toytls: TLS 1.2, written to be read
//!
//! TLS in one sentence: client and server agree on a version and cipher suite, the server proves who
//! it is with a certificate, the client sends a random pre-master secret encrypted under the
//! server's RSA public key, both derive the same symmetric keys from it with the TLS 1.2 PRF, prove
//! it to each other with Finished messages, and from then on every record is encrypted and
//! authenticated.
//!
//! ## The shape of the crate
//!
//! The folders are the layers; each uses only the ones below it. `spec/` states the protocol as
//! this crate speaks it, and the code cites it (or the RFC) at the line that obeys a rule.
//!
//! - [`stream`]: [`stream::TlsStream`], a connection over any `Read + Write`, itself
//!   `Read + Write`; [`net`]: TCP with deadlines ([`net::timed`]) and a serving loop
//!   ([`net::serve`]) on top of it.
//! - [`conn`]: one connection's life: alerts (each failure sends its alert once), application
//!   data, close_notify, refused renegotiation.
//! - [`handshake`]: the two stories, [`handshake::client`] and [`handshake::server`], each a
//!   straight line of steps with a named abbreviated path; neither imports the other. What both do
//!   the same way is written once in [`handshake::common`]: reading the next message and checking
//!   its type, the transcript, the keys of a side, ChangeCipherSpec and Finished.
//!   [`handshake::joiner`] takes handshake messages out of records; [`handshake::keys`] is the
//!   key schedule; [`handshake::session`] keeps sessions for resumption and
//!   [`handshake::ticket`] seals them into tickets (RFC 5077). The client-certificate steps of
//!   both sides are in `handshake/client_auth.rs`, the ticket steps in `handshake/ticket/steps.rs`.
//! - [`record`]: framing, limits, sequence numbers, and RFC 5246 6.1's connection states: the
//!   handshake prepares the pending state when it derives the keys, and a ChangeCipherSpec only
//!   makes it current. One row per suite ([`record::suite`]), one file per record protection.
//! - [`wire`]: every structure on the wire, through one bounds-checked codec; each code space
//!   (content types, handshake types, extension types, suites, alerts) declared once with its
//!   names.
//! - [`crypto`]: AES, CTR, GHASH/GCM, HMAC, the TLS PRF and RSA. Knows blocks, keys and bytes,
//!   nothing of TLS (the RFC 5246 7.4.7.1 countermeasure is built in [`handshake::keys`] on a
//!   generic constant-time RSA primitive).
//! - [`x509`]: certificates: DER and PEM, parsing, building, and verifying a server's chain.
//! - Beside the layers: [`config`] (what a client or server is configured with), [`error`] (one
//!   error type, every variant mapped to the alert it sends), [`trace`] (typed events: every
//!   record with its layout, every secret with how it was made; the library never prints),
//!   [`keylog`], [`clock`] (injected time), [`capture`] (a connection as a pcapng capture).
//!
//! Where the first map (`DESIGN.md`) and the reshaping proposal were changed by what the code
//! showed: the [`handshake::joiner::Joiner`] lives in the [`conn::Conn`], not in the handshake,
//! because after the handshake a renegotiation request may span records too and must be whole to
//! be refused; the transcript and the flight live in [`handshake::common::Handshake`], which
//! borrows the connection for the length of one handshake and is gone after it. The side of a
//! connection ([`Side`]) is the crate's, not the tracer's. The cipher suites' names belong to
//! the wire's code space, so that messages never call up into the record layer to name a suite.
//!
//! ## Reading order
//!
//! One full and one resumed handshake, as a learner follows them: [`stream::TlsStream::connect`],
//! [`handshake::client`] (its `handshake` function, then `Client::abbreviated`),
//! [`handshake::common`], [`handshake::keys`], [`handshake::server`], [`record`] with
//! [`record::toy_ctr_hmac`], [`handshake::joiner`], [`conn`]. The README says the same with file
//! names, and `spec/transcript.md` shows a seeded connection byte by byte.

pub mod capture;
pub mod clock;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod handshake;
pub mod html;
pub mod keylog;
pub mod lab;
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
