//! Structured trace events: what a connection did, for the demo, `--trace`, tests, and any
//! renderer of a whole connection.
//!
//! The library never prints. A peer configured with a [`TraceSink`] receives one [`TraceEvent`]
//! for each of these, in the order they happen:
//!
//! - every record sent or received ([`TraceEvent::Record`]): its bytes exactly as on the wire,
//!   where its parts lie ([`RecordLayout`]: header, explicit nonce, ciphertext, tag), the suite
//!   and sequence number that protected it, and the plaintext inside;
//! - every handshake message, with its decoded fields and its exact bytes (the ones the
//!   transcript hashes);
//! - every ChangeCipherSpec and alert;
//! - every secret, named by a [`Secret`], with how it was made ([`Derivation`]): for each PRF
//!   output the secret, label and seed that went in, and for each key which side writes with it,
//!   so that a reader can recompute every key from the ones before it;
//! - each step worth narrating, as a [`Note`].
//!
//! The CLI renders them (`toytls demo`, `--trace`); tests assert on them; `spec/transcript.md`
//! is rendered from them. Without a sink nothing is built: events are made by closures that only
//! run when someone listens, so the record hot path neither copies nor allocates for tracing.

use crate::Side;
use crate::record::ContentType;
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::messages::{CipherSuite, HandshakeType, SessionId, SignatureScheme, hex};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Whether the emitting peer sent or received the thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Sent,
    Received,
}

/// One thing that happened on a connection. `side` is always the peer that emitted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A handshake message, with its decoded fields and its bytes (4-byte header included).
    Handshake {
        side: Side,
        dir: Dir,
        message: HandshakeType,
        fields: Vec<(&'static str, String)>,
        raw: Vec<u8>,
    },
    /// A ChangeCipherSpec: from now on this direction is protected.
    ChangeCipherSpec { side: Side, dir: Dir },
    /// An alert.
    Alert {
        side: Side,
        dir: Dir,
        level: AlertLevel,
        description: AlertDescription,
    },
    /// A secret or key was derived (or chosen, or decrypted).
    Secret {
        side: Side,
        secret: Secret,
        value: Vec<u8>,
        /// How `value` was made from what came before.
        derivation: Derivation,
    },
    /// A record crossed the wire. A received record is reported once it has been opened, or has
    /// failed to open (then `plaintext` is `None` and the alert that follows says why).
    Record {
        side: Side,
        dir: Dir,
        content_type: ContentType,
        /// The suite whose keys protected it; `None` for `TLSPlaintext`, before ChangeCipherSpec.
        suite: Option<CipherSuite>,
        /// The sequence number it was protected with (RFC 5246 6.1); `None` when unprotected.
        seq: Option<u64>,
        /// The record exactly as on the wire, header included.
        wire: Vec<u8>,
        /// Where its parts lie in `wire`.
        layout: RecordLayout,
        /// The plaintext it carries.
        plaintext: Option<Vec<u8>>,
    },
    /// A step of the handshake worth narrating.
    Note { side: Side, note: Note },
}

/// Where the parts of a record lie in its bytes on the wire (RFC 5246 6.2.1, 6.2.3): the 5-byte
/// header, then the fragment, which under a suite is the explicit nonce (GCM's `nonce_explicit`,
/// empty for the toy suite), the ciphertext and the tag. Unprotected, the body is the plaintext
/// and the other parts are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    pub header: Range<usize>,
    pub explicit_nonce: Range<usize>,
    pub body: Range<usize>,
    pub tag: Range<usize>,
}

impl RecordLayout {
    /// The layout of a record whose fragment is `len` bytes, `prefix` of them before the body
    /// and `tag` after it.
    /// A fragment too short for its parts (a forgery) is cut where it ends.
    pub fn new(header: usize, len: usize, prefix: usize, tag: usize) -> RecordLayout {
        let end = header + len;
        let nonce_end = (header + prefix).min(end);
        let tag_start = end.saturating_sub(tag).max(nonce_end);
        RecordLayout {
            header: 0..header,
            explicit_nonce: header..nonce_end,
            body: nonce_end..tag_start,
            tag: tag_start..end,
        }
    }
}

/// Which secret of the key schedule (RFC 5246 8.1, 6.3, 7.4.9; RFC 7627 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Secret {
    /// 48 bytes: the client's offered version, then 46 random bytes (RFC 5246 7.4.7.1).
    PreMaster,
    /// SHA-256 of the handshake messages from ClientHello to ClientKeyExchange (RFC 7627 3).
    SessionHash,
    /// The 48-byte master secret (RFC 5246 8.1, or RFC 7627 4 when extended).
    Master,
    /// The PRF's output cut into the six keys (RFC 5246 6.3).
    KeyBlock,
    /// One of the six: the key of kind `part` that `writer` protects its records with (and its
    /// peer opens them with).
    Key { writer: Side, part: KeyPart },
    /// The verify_data of `side`'s Finished (RFC 5246 7.4.9).
    VerifyData(Side),
}

/// The three keys of each direction (RFC 5246 6.3: `*_write_MAC_key`, `*_write_key`,
/// `*_write_IV`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPart {
    MacKey,
    EncKey,
    Iv,
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::PreMaster => f.write_str("pre-master secret"),
            Secret::SessionHash => f.write_str("session hash"),
            Secret::Master => f.write_str("master secret"),
            Secret::KeyBlock => f.write_str("key block"),
            Secret::Key { writer, part } => {
                let part = match part {
                    KeyPart::MacKey => "MAC key",
                    KeyPart::EncKey => "key",
                    KeyPart::Iv => "IV",
                };
                write!(f, "{} write {part}", writer.name())
            }
            Secret::VerifyData(side) => write!(f, "{} verify_data", side.name()),
        }
    }
}

/// How a secret was made, so that a reader can make it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Derivation {
    /// Chosen at random: the client's pre-master secret.
    Chosen,
    /// Decrypted from the ClientKeyExchange with the server's private key, with RFC 5246
    /// 7.4.7.1's countermeasure (on any failure, a random secret: the trace cannot tell which).
    Decrypted,
    /// SHA-256 over the handshake messages so far, as their `raw` bytes appear in the trace.
    TranscriptHash,
    /// `PRF(secret, label, seed)` with the TLS 1.2 PRF, as many bytes as the value (RFC 5246 5).
    Prf {
        secret: Secret,
        label: &'static str,
        seed: Vec<u8>,
    },
    /// The bytes at `range` of the key block.
    KeyBlockPart(Range<usize>),
}

/// A step worth narrating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The client verified the server's chain for `host`; the leaf holds a `key_bits` RSA key.
    CertificateVerified { host: String, key_bits: usize },
    /// The client does not offer its stored session: it was made with the extended master
    /// secret and this hello does not offer it, or the other way round (RFC 7627 5.3).
    SessionNotOffered,
    /// The server did not echo extended_master_secret: the RFC 5246 master secret (RFC 7627 5.2).
    LegacyMasterSecret,
    /// The master secret is the extended one, over the session hash (RFC 7627 4).
    ExtendedMasterSecret,
    /// The client: the server resumed our session.
    Resumed,
    /// The server resumes the session the client offered.
    Resuming { session_id: SessionId },
    /// The server does not resume a session made without the extended master secret for a client
    /// that now offers it (RFC 7627 5.3).
    NotResumingWithoutEms,
    /// The peer's Finished checked out.
    FinishedVerified { peer: Side },
    /// A client ignored a HelloRequest during the handshake (RFC 5246 7.4.1.1).
    HelloRequestIgnored,
    /// A renegotiation `request` after the handshake was refused with no_renegotiation.
    RenegotiationRefused { request: HandshakeType },
    /// The client answers a CertificateRequest with an empty Certificate (RFC 5246 7.4.6):
    /// `why`, it has no certificate, or the request does not accept the one it has.
    EmptyClientCertificate { why: String },
    /// The client signed the handshake so far for its CertificateVerify (RFC 5246 7.4.8).
    CertificateVerifySigned { scheme: SignatureScheme },
    /// The server: the client sent no certificate, and one is optional.
    ClientAnonymous,
    /// The server verified the client's chain; its leaf holds a `key_bits` RSA key.
    ClientCertificateVerified { key_bits: usize },
    /// The server verified the client's CertificateVerify signature.
    CertificateVerifyVerified { scheme: SignatureScheme },
    /// The client does not present its stored ticket: tickets are off, or its lifetime hint has
    /// run out (RFC 5077 3.3).
    TicketNotPresented,
    /// The client received a session ticket of `len` bytes to keep `lifetime_hint` seconds.
    TicketReceived { len: usize, lifetime_hint: u32 },
    /// The server promised a ticket and then sent an empty one (RFC 5077 3.3).
    EmptyTicket,
    /// The server opened the client's ticket, sealed under its current key or an older one.
    TicketOpened { current_key: bool },
    /// The server cannot use the client's ticket (why), and runs a full handshake (RFC 5077 3.1).
    TicketRefused { why: String },
    /// The server issued a ticket valid `lifetime_hint` seconds.
    TicketIssued { lifetime_hint: u32 },
    /// The server resumes the session in the client's ticket.
    ResumingFromTicket,
    /// ALPN: the client offered these protocols and the server chose `chosen` (RFC 7301 3.2).
    AlpnChosen {
        offered: Vec<String>,
        chosen: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::CertificateVerified { host, key_bits } => write!(
                f,
                "certificate chain verified for '{host}' ({key_bits}-bit RSA key)"
            ),
            Note::SessionNotOffered => f.write_str(
                "not offering the stored session: its master secret was made differently \
                 (extended or not) from what this hello offers (RFC 7627 5.3)",
            ),
            Note::LegacyMasterSecret => f.write_str(
                "the server did not echo extended_master_secret: using the RFC 5246 master \
                 secret, which is not bound to this handshake (RFC 7627 5.2)",
            ),
            Note::ExtendedMasterSecret => f.write_str(
                "extended master secret (RFC 7627): the master secret is computed over the hash \
                 of every handshake message so far, so it belongs to this handshake alone",
            ),
            Note::Resumed => f.write_str(
                "the server resumed our session: no certificate, no RSA, keys from the cached \
                 master secret",
            ),
            Note::Resuming { session_id } => write!(
                f,
                "resuming session {}: skipping Certificate, ServerHelloDone and ClientKeyExchange",
                hex(session_id.as_slice())
            ),
            Note::NotResumingWithoutEms => f.write_str(
                "not resuming: the session was made without the extended master secret and the \
                 client now offers it; running a full handshake instead (RFC 7627 5.3)",
            ),
            Note::FinishedVerified { peer: Side::Server } => {
                f.write_str("server Finished verified: both sides hold the same keys")
            }
            Note::FinishedVerified { peer: Side::Client } => {
                f.write_str("client Finished verified: the client holds the same keys")
            }
            Note::HelloRequestIgnored => {
                f.write_str("HelloRequest during the handshake: ignored (RFC 5246 7.4.1.1)")
            }
            Note::RenegotiationRefused { request } => write!(
                f,
                "{} after the handshake: renegotiation refused with no_renegotiation",
                request.name()
            ),
            Note::EmptyClientCertificate { why } => write!(
                f,
                "the server asks for a client certificate: {why}, so we send an empty \
                 Certificate (RFC 5246 7.4.6)"
            ),
            Note::CertificateVerifySigned { scheme } => write!(
                f,
                "signed the handshake so far with our client key ({}): the server checks it \
                 against our certificate",
                scheme.name()
            ),
            Note::ClientAnonymous => f.write_str(
                "the client sent no certificate: it stays anonymous (the certificate is optional)",
            ),
            Note::ClientCertificateVerified { key_bits } => write!(
                f,
                "client certificate chain verified ({key_bits}-bit RSA key); its \
                 CertificateVerify must prove the client holds the key"
            ),
            Note::CertificateVerifyVerified { scheme } => write!(
                f,
                "client CertificateVerify verified ({}): the client holds its certificate's key",
                scheme.name()
            ),
            Note::TicketNotPresented => f.write_str(
                "not presenting the stored ticket: tickets are off, or its lifetime hint has run \
                 out (RFC 5077 3.3)",
            ),
            Note::TicketReceived { len, lifetime_hint } => write!(
                f,
                "received a session ticket of {len} bytes, to keep for {lifetime_hint} s (RFC \
                 5077 3.3): the server's sealed copy of this session"
            ),
            Note::EmptyTicket => f.write_str("the server promised a ticket and sent an empty one"),
            Note::TicketOpened { current_key } => write!(
                f,
                "the client's session ticket opened (sealed under the {} key): resuming from it, \
                 stateless (RFC 5077 3.1)",
                if *current_key { "current" } else { "previous" }
            ),
            Note::TicketRefused { why } => write!(
                f,
                "not resuming from the client's session ticket: {why}; running a full handshake \
                 (RFC 5077 3.1)"
            ),
            Note::TicketIssued { lifetime_hint } => write!(
                f,
                "issuing a session ticket: the session sealed with AES-128-GCM under our ticket \
                 key, valid {lifetime_hint} s; the client keeps it, we keep nothing (RFC 5077 3.3)"
            ),
            Note::ResumingFromTicket => f.write_str(
                "resuming the session in the client's ticket: skipping Certificate, \
                 ServerHelloDone and ClientKeyExchange",
            ),
            Note::AlpnChosen { offered, chosen } => write!(
                f,
                "ALPN: the client offers [{}], we choose {chosen} (RFC 7301 3.2)",
                offered.join(", ")
            ),
        }
    }
}

/// Receives trace events. Must be cheap and must not fail: it runs inside the handshake.
pub trait TraceSink: Send + Sync {
    fn event(&self, e: &TraceEvent);
}

/// A sink that keeps every event in memory (tests, the demo).
#[derive(Default)]
pub struct TraceLog {
    events: Mutex<Vec<TraceEvent>>,
}

impl TraceLog {
    pub fn new() -> Arc<TraceLog> {
        Arc::new(TraceLog::default())
    }

    /// Removes and returns everything logged so far.
    pub fn take(&self) -> Vec<TraceEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl TraceSink for TraceLog {
    fn event(&self, e: &TraceEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e.clone());
    }
}

/// A connection's handle on its optional sink; it stamps each event with the connection's side.
#[derive(Clone)]
pub struct Tracer {
    side: Side,
    sink: Option<Arc<dyn TraceSink>>,
}

impl Tracer {
    pub fn new(side: Side, sink: Option<Arc<dyn TraceSink>>) -> Self {
        Tracer { side, sink }
    }

    /// True when someone listens (so callers may skip expensive preparation).
    pub fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Builds and delivers an event, only if someone listens.
    pub fn emit(&self, build: impl FnOnce(Side) -> TraceEvent) {
        if let Some(sink) = &self.sink {
            sink.event(&build(self.side));
        }
    }

    /// A secret was made; `derivation` says how (built only if someone listens).
    pub fn secret(&self, secret: Secret, value: &[u8], derivation: impl FnOnce() -> Derivation) {
        self.emit(|side| TraceEvent::Secret {
            side,
            secret,
            value: value.to_vec(),
            derivation: derivation(),
        });
    }

    /// A narrated step.
    pub fn note(&self, note: impl FnOnce() -> Note) {
        self.emit(|side| TraceEvent::Note { side, note: note() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_named_as_the_rfc_names_them() {
        let key = |writer, part| Secret::Key { writer, part }.to_string();
        assert_eq!(key(Side::Client, KeyPart::MacKey), "client write MAC key");
        assert_eq!(key(Side::Server, KeyPart::EncKey), "server write key");
        assert_eq!(key(Side::Server, KeyPart::Iv), "server write IV");
        assert_eq!(
            Secret::VerifyData(Side::Client).to_string(),
            "client verify_data"
        );
        assert_eq!(Secret::Master.to_string(), "master secret");
    }

    #[test]
    fn record_layouts_cover_the_record_without_overlap() {
        // A GCM record of 5 plaintext bytes: 5 + 8 + 5 + 16.
        let l = RecordLayout::new(5, 29, 8, 16);
        assert_eq!(
            (l.header, l.explicit_nonce, l.body, l.tag),
            (0..5, 5..13, 13..18, 18..34)
        );
        // Unprotected: all body.
        let l = RecordLayout::new(5, 3, 0, 0);
        assert_eq!((l.explicit_nonce, l.body, l.tag), (5..5, 5..8, 8..8));
        // A fragment too short for its tag (a forgery): nothing is out of range.
        let l = RecordLayout::new(5, 4, 0, 32);
        assert_eq!((l.body, l.tag), (5..5, 5..9));
        let l = RecordLayout::new(5, 4, 8, 16);
        assert_eq!((l.explicit_nonce, l.body, l.tag), (5..9, 9..9, 9..9));
    }
}
