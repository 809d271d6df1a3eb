//! Every message on the wire as a plain struct with `encode` and `decode` (RFC 5246 7.1, 7.2, 7.4).
//!
//! Handshake messages are framed by a 4-byte header, `HandshakeType msg_type; uint24 length;`
//! (RFC 5246 7.4), then the body. [`HandshakeMessage`] is the union of the messages toytls speaks;
//! one file per family of message holds the structs:
//!
//! - [`hello`]: ClientHello and ServerHello, with their extensions ([`extensions`]).
//! - [`certificate`]: a certificate chain (the server's, and the client's when asked).
//! - [`client_auth`]: CertificateRequest and CertificateVerify, the messages of client
//!   authentication.
//! - [`key_exchange`]: ServerHelloDone and the RSA ClientKeyExchange.
//! - [`new_session_ticket`]: the server's sealed session for stateless resumption (RFC 5077).
//! - [`finished`]: the Finished message.
//! - [`alert`]: the Alert and ChangeCipherSpec protocols (their own record types, not handshakes).
//!
//! Decoding never trusts a length: every field goes through [`crate::wire::codec::Reader`], and every
//! message must end exactly where its length says. Encoding a decoded message gives back the same
//! bytes (tested by property tests, and by the `handshake_message` fuzz target).

pub mod alert;
pub mod certificate;
pub mod client_auth;
pub mod extensions;
pub mod finished;
pub mod hello;
pub mod key_exchange;
pub mod new_session_ticket;

pub use alert::{AlertMessage, ChangeCipherSpec};
pub use certificate::CertificateMsg;
pub use client_auth::{CertificateRequest, CertificateVerify, SignatureScheme};
pub use extensions::Extension;
pub use finished::Finished;
pub use hello::{ClientHello, ServerHello};
pub use key_exchange::{ClientKeyExchange, ServerHelloDone};
pub use new_session_ticket::NewSessionTicket;

use crate::error::{Error, Result};
use crate::wire::code_space;
use crate::wire::codec::{Reader, Writer};
use std::fmt;

/// `ProtocolVersion` (RFC 5246 6.2.1): `{ uint8 major; uint8 minor; }`, kept as one u16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// TLS 1.2, `{3, 3}`: the only version toytls negotiates.
    pub const TLS12: ProtocolVersion = ProtocolVersion(0x0303);

    /// The two bytes on the wire.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0x0300 => f.write_str("SSL 3.0"),
            0x0301 => f.write_str("TLS 1.0"),
            0x0302 => f.write_str("TLS 1.1"),
            0x0303 => f.write_str("TLS 1.2"),
            0x0304 => f.write_str("TLS 1.3"),
            v => write!(f, "0x{v:04x}"),
        }
    }
}

/// `Random` (RFC 5246 7.4.1.2): 32 bytes chosen by each side for each handshake, so that keys are
/// fresh even when the master secret is reused by resumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Random(pub [u8; 32]);

/// `SessionID session_id<0..32>` (RFC 5246 7.4.1.2): names a session the server may resume.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SessionId {
    len: u8,
    bytes: [u8; 32],
}

impl SessionId {
    /// The empty session ID (no resumption offered, or the server will not cache the session).
    pub const EMPTY: SessionId = SessionId {
        len: 0,
        bytes: [0; 32],
    };

    /// A session ID from its bytes; `None` if longer than 32.
    pub fn new(b: &[u8]) -> Option<SessionId> {
        if b.len() > 32 {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes[..b.len()].copy_from_slice(b);
        Some(SessionId {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The bytes of the ID.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// True for the empty ID.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn decode(r: &mut Reader) -> Result<SessionId> {
        let mut v = r.u8_prefixed()?;
        let b = v.rest();
        SessionId::new(b)
            .ok_or_else(|| Error::decode("session_id", "longer than 32 bytes (RFC 5246 7.4.1.2)"))
    }

    fn encode(&self, w: &mut Writer) {
        w.u8_prefixed(|w| w.bytes(self.as_slice()));
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", hex(self.as_slice()))
    }
}

/// `CipherSuite` (RFC 5246 A.5): the two-byte code point of a suite. Which suites toytls
/// implements, and how each protects a record, is in [`crate::record::suite`]; every code point
/// toytls can name is declared below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// The suite's name, or its code point in hex when toytls does not know it.
    pub fn name(self) -> String {
        match suite_name(self) {
            Some(n) => n.to_string(),
            None => format!("0x{:04x}", self.0),
        }
    }
}

code_space! {
    /// The name of a cipher suite code point toytls knows (RFC 5246 A.5, IANA "TLS Cipher
    /// Suites"); the ones it implements are rows of [`crate::record::suite::SUPPORTED`].
    pub const suite_name: CipherSuite = CipherSuite {
        /// RFC 5246 A.5: the oldest suite every TLS 1.2 stack still offers (toytls does not).
        TLS_RSA_WITH_AES_128_CBC_SHA = 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA";
        /// RFC 5246 A.5 (toytls does not implement it).
        TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256";
        /// RFC 5288 3: the standard AEAD suite, spoken for interop with real TLS stacks.
        TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256";
        /// RFC 5746 3.3: not a suite but a signal, "I would have sent an empty
        /// renegotiation_info".
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";
        /// Our own suite, at a private-use code point (RFC 5246 12 reserves {0xFF, 0x00..0xFF});
        /// defined in `spec/suite.md`.
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256 = 0xFF01, "TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256";
    }
}

code_space! {
    /// `HandshakeType` (RFC 5246 7.4): the first byte of every handshake message's header.
    /// toytls speaks the RSA key exchange, with client certificates when asked; the other types
    /// are here so that a message of theirs is named when it is refused.
    pub enum HandshakeType: u8 {
        HelloRequest = 0, "HelloRequest";
        ClientHello = 1, "ClientHello";
        ServerHello = 2, "ServerHello";
        /// RFC 5077 3.3.
        NewSessionTicket = 4, "NewSessionTicket";
        Certificate = 11, "Certificate";
        ServerKeyExchange = 12, "ServerKeyExchange";
        CertificateRequest = 13, "CertificateRequest";
        ServerHelloDone = 14, "ServerHelloDone";
        CertificateVerify = 15, "CertificateVerify";
        ClientKeyExchange = 16, "ClientKeyExchange";
        Finished = 20, "Finished";
    }
}

impl HandshakeType {
    /// The name of the type byte `t`, for errors and traces, known or not.
    pub fn name_of(t: u8) -> String {
        match HandshakeType::from_code(t) {
            Some(known) => known.name().to_string(),
            None => format!("handshake message of type {t}"),
        }
    }
}

/// The 4-byte header before every handshake message (RFC 5246 7.4):
/// `HandshakeType msg_type; uint24 length;`.
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// One handshake message toytls sends or accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeMessage {
    /// Sent by a server to ask for renegotiation; toytls refuses it with no_renegotiation
    /// ([`crate::conn`]).
    HelloRequest,
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    Certificate(CertificateMsg),
    CertificateRequest(CertificateRequest),
    ServerHelloDone(ServerHelloDone),
    CertificateVerify(CertificateVerify),
    ClientKeyExchange(ClientKeyExchange),
    /// RFC 5077 3.3: from the server, just before its ChangeCipherSpec.
    NewSessionTicket(NewSessionTicket),
    Finished(Finished),
}

impl HandshakeMessage {
    /// The type byte of the 4-byte header.
    pub fn typ(&self) -> HandshakeType {
        match self {
            HandshakeMessage::HelloRequest => HandshakeType::HelloRequest,
            HandshakeMessage::ClientHello(_) => HandshakeType::ClientHello,
            HandshakeMessage::ServerHello(_) => HandshakeType::ServerHello,
            HandshakeMessage::Certificate(_) => HandshakeType::Certificate,
            HandshakeMessage::CertificateRequest(_) => HandshakeType::CertificateRequest,
            HandshakeMessage::ServerHelloDone(_) => HandshakeType::ServerHelloDone,
            HandshakeMessage::CertificateVerify(_) => HandshakeType::CertificateVerify,
            HandshakeMessage::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            HandshakeMessage::NewSessionTicket(_) => HandshakeType::NewSessionTicket,
            HandshakeMessage::Finished(_) => HandshakeType::Finished,
        }
    }

    /// The message's name, e.g. `"ServerHello"`.
    pub fn name(&self) -> &'static str {
        self.typ().name()
    }

    /// The whole message as sent: 4-byte header then body (RFC 5246 7.4). These are also the bytes
    /// the Finished hash covers (RFC 5246 7.4.9).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        w.u8(self.typ().code());
        w.u24_prefixed(|w| match self {
            HandshakeMessage::HelloRequest => {}
            HandshakeMessage::ClientHello(m) => m.encode(w),
            HandshakeMessage::ServerHello(m) => m.encode(w),
            HandshakeMessage::Certificate(m) => m.encode(w),
            HandshakeMessage::CertificateRequest(m) => m.encode(w),
            HandshakeMessage::ServerHelloDone(m) => m.encode(w),
            HandshakeMessage::CertificateVerify(m) => m.encode(w),
            HandshakeMessage::ClientKeyExchange(m) => m.encode(w),
            HandshakeMessage::NewSessionTicket(m) => m.encode(w),
            HandshakeMessage::Finished(m) => m.encode(w),
        });
        w.finish()
            .map_err(|e| Error::Internal(format!("cannot encode {}: {e}", self.name())))
    }

    /// Decodes one body whose header said `typ`. The body must be consumed exactly.
    pub fn decode(typ: u8, body: &[u8]) -> Result<HandshakeMessage> {
        let mut r = Reader::new(body);
        let m = match HandshakeType::from_code(typ) {
            Some(HandshakeType::HelloRequest) => HandshakeMessage::HelloRequest,
            Some(HandshakeType::ClientHello) => {
                HandshakeMessage::ClientHello(ClientHello::decode(&mut r)?)
            }
            Some(HandshakeType::ServerHello) => {
                HandshakeMessage::ServerHello(ServerHello::decode(&mut r)?)
            }
            Some(HandshakeType::Certificate) => {
                HandshakeMessage::Certificate(CertificateMsg::decode(&mut r)?)
            }
            Some(HandshakeType::CertificateRequest) => {
                HandshakeMessage::CertificateRequest(CertificateRequest::decode(&mut r)?)
            }
            Some(HandshakeType::ServerHelloDone) => {
                HandshakeMessage::ServerHelloDone(ServerHelloDone::decode(&mut r)?)
            }
            Some(HandshakeType::CertificateVerify) => {
                HandshakeMessage::CertificateVerify(CertificateVerify::decode(&mut r)?)
            }
            Some(HandshakeType::ClientKeyExchange) => {
                HandshakeMessage::ClientKeyExchange(ClientKeyExchange::decode(&mut r)?)
            }
            Some(HandshakeType::NewSessionTicket) => {
                HandshakeMessage::NewSessionTicket(NewSessionTicket::decode(&mut r)?)
            }
            Some(HandshakeType::Finished) => HandshakeMessage::Finished(Finished::decode(&mut r)?),
            _ => {
                return Err(Error::UnexpectedMessage {
                    expected: "a handshake message of the RSA key exchange",
                    got: HandshakeType::name_of(typ),
                });
            }
        };
        r.expect_empty()
            .map_err(|e| Error::decode("handshake message", e))?;
        Ok(m)
    }

    /// The important fields, for traces and the demo's narration.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            HandshakeMessage::HelloRequest => vec![],
            HandshakeMessage::ClientHello(m) => m.fields(),
            HandshakeMessage::ServerHello(m) => m.fields(),
            HandshakeMessage::Certificate(m) => m.fields(),
            HandshakeMessage::CertificateRequest(m) => m.fields(),
            HandshakeMessage::ServerHelloDone(_) => vec![],
            HandshakeMessage::CertificateVerify(m) => m.fields(),
            HandshakeMessage::ClientKeyExchange(m) => m.fields(),
            HandshakeMessage::NewSessionTicket(m) => m.fields(),
            HandshakeMessage::Finished(m) => m.fields(),
        }
    }
}

/// Lower-case hex of `b`, for traces and error messages.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest generators for every message, shared by the round-trip tests.
    use super::*;
    use proptest::prelude::*;

    pub fn session_id() -> impl Strategy<Value = SessionId> {
        proptest::collection::vec(any::<u8>(), 0..=32).prop_map(|v| SessionId::new(&v).unwrap())
    }

    pub fn extensions() -> impl Strategy<Value = Option<Vec<Extension>>> {
        proptest::option::of(
            proptest::collection::btree_map(
                any::<u16>(),
                proptest::collection::vec(any::<u8>(), 0..20),
                0..5,
            )
            .prop_map(|m| {
                m.into_iter()
                    .map(|(typ, data)| Extension { typ, data })
                    .collect()
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_handshake_types_are_unexpected_messages() {
        let e = HandshakeMessage::decode(12, &[]).unwrap_err();
        assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
        assert!(e.to_string().contains("ServerKeyExchange"));
        let e = HandshakeMessage::decode(99, &[]).unwrap_err();
        assert!(matches!(e, Error::UnexpectedMessage { .. }));
    }

    #[test]
    fn trailing_bytes_after_a_message_are_a_decode_error() {
        // ServerHelloDone has an empty body (RFC 5246 7.4.5).
        assert_eq!(
            HandshakeMessage::decode(14, &[]).unwrap(),
            HandshakeMessage::ServerHelloDone(ServerHelloDone)
        );
        let e = HandshakeMessage::decode(14, &[0]).unwrap_err();
        assert_eq!(
            e.alert(),
            Some(crate::wire::alert::AlertDescription::DecodeError)
        );
        let e = HandshakeMessage::decode(0, &[0]).unwrap_err();
        assert_eq!(
            e.alert(),
            Some(crate::wire::alert::AlertDescription::DecodeError)
        );
    }

    #[test]
    fn header_carries_type_and_u24_length() {
        let m = HandshakeMessage::Finished(Finished {
            verify_data: [7; 12],
        });
        let b = m.to_bytes().unwrap();
        assert_eq!(&b[..4], &[20, 0, 0, 12]);
        assert_eq!(HandshakeMessage::decode(b[0], &b[4..]).unwrap(), m);
    }

    #[test]
    fn session_ids_longer_than_32_are_rejected() {
        assert!(SessionId::new(&[0; 33]).is_none());
        let mut b = vec![33u8];
        b.extend_from_slice(&[0; 33]);
        assert!(SessionId::decode(&mut Reader::new(&b)).is_err());
    }
}
