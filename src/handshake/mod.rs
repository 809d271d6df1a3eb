//! The handshake (RFC 5246 7.3, 7.4): how two peers agree on keys and prove it.
//!
//! - [`client`] and [`server`]: the two stories, each a straight line of steps in RFC 5246 7.3
//!   order, with the abbreviated (resumed) handshake as a named path of its own. Neither imports
//!   the other.
//! - [`common`]: what both do the same way, written once: reading the next message, the flight
//!   and the transcript, the randoms, the master secret and each side's keys, ChangeCipherSpec
//!   and Finished, and the signature hashes of a CertificateVerify.
//! - `client_auth.rs`: client certificates (CertificateRequest, Certificate, CertificateVerify),
//!   the steps of both sides, called by the two stories where RFC 5246 7.3 marks them `*`.
//! - [`joiner`]: handshake messages out of records, with toytls's size limits.
//! - [`keys`]: the key schedule, pre-master secret to master secret to key block to Finished.
//! - [`session`]: what resumption keeps, and the caches that keep it.
//! - [`ticket`]: sessions sealed into tickets for stateless resumption (RFC 5077), and the
//!   rotating keys that seal them; `ticket/steps.rs` holds the ticket steps of both stories.

pub mod client;
mod client_auth;
pub mod common;
pub mod joiner;
pub mod keys;
pub mod server;
pub mod session;
pub mod ticket;

use crate::wire::messages::{CipherSuite, SessionId};

/// What a finished handshake agreed on.
#[derive(Clone, Debug)]
pub struct Negotiated {
    pub suite: CipherSuite,
    pub session_id: SessionId,
    /// True if this was an abbreviated handshake resuming an earlier session.
    pub resumed: bool,
    /// The peer's certificate chain (DER, leaf first): the server's on the client side; on the
    /// server side the client's, verified, when it sent one (RFC 5246 7.4.6), else empty. A
    /// resumed session keeps the chain of the handshake that made it.
    pub peer_chain: Vec<Vec<u8>>,
    /// The host name the client asked for (and the server received, if sent).
    pub server_name: Option<String>,
    /// True if the session's master secret is the extended one (RFC 7627), bound to the handshake
    /// that made it.
    pub extended_master_secret: bool,
    /// The application protocol agreed with ALPN (RFC 7301), if any.
    pub alpn_protocol: Option<Vec<u8>>,
    /// True if this handshake resumed a session from a session ticket (RFC 5077). On the client:
    /// it resumed, and its ClientHello presented a ticket.
    pub resumed_with_ticket: bool,
}
