//! Every message on the wire as a plain struct with `encode` and `decode` (RFC 5246 7.1, 7.2, 7.4).
//!
//! Handshake messages are framed by a 4-byte header, `HandshakeType msg_type; uint24 length;`
//! (RFC 5246 7.4), then the body. [`HandshakeMessage`] is the union of the messages toytls speaks;
//! one file per family of message holds the structs:
//!
//! - [`hello`]: ClientHello and ServerHello, with their extensions ([`extensions`]).
//! - [`certificate`]: the server's certificate chain.
//! - [`key_exchange`]: ServerHelloDone and the RSA ClientKeyExchange.
//! - [`finished`]: the Finished message.
//! - [`alert`]: the Alert and ChangeCipherSpec protocols (their own record types, not handshakes).
//!
//! Decoding never trusts a length: every field goes through [`crate::wire::codec::Reader`], and every
//! message must end exactly where its length says. Encoding a decoded message gives back the same
//! bytes (tested by property tests, and by the fuzz targets of issue 6).

pub mod alert;
pub mod certificate;
pub mod extensions;
pub mod finished;
pub mod hello;
pub mod key_exchange;

pub use alert::{AlertMessage, ChangeCipherSpec};
pub use certificate::CertificateMsg;
pub use extensions::Extension;
pub use finished::Finished;
pub use hello::{ClientHello, ServerHello};
pub use key_exchange::{ClientKeyExchange, ServerHelloDone};

use crate::error::{Error, Result};
use crate::wire::codec::{Reader, Writer};
use std::fmt;

/// `ProtocolVersion` (RFC 5246 6.2.1): `{ uint8 major; uint8 minor; }`, kept as one u16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// TLS 1.2, `{3, 3}`: the only version toytls negotiates.
    pub const TLS12: ProtocolVersion = ProtocolVersion(0x0303);
    /// TLS 1.0, `{3, 1}`: only ever seen as the record version of a first ClientHello.
    pub const TLS10: ProtocolVersion = ProtocolVersion(0x0301);

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

/// `CipherSuite` (RFC 5246 A.5): the two-byte code point of a suite. What each suite means lives
/// in [`crate::record::suite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CipherSuite(pub u16);

/// The handshake message types toytls knows (RFC 5246 7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeType {
    HelloRequest = 0,
    ClientHello = 1,
    ServerHello = 2,
    Certificate = 11,
    ServerKeyExchange = 12,
    CertificateRequest = 13,
    ServerHelloDone = 14,
    CertificateVerify = 15,
    ClientKeyExchange = 16,
    Finished = 20,
}

impl HandshakeType {
    /// The type byte's name as the RFC spells it, for errors and traces.
    pub fn name_of(t: u8) -> String {
        match t {
            0 => "HelloRequest".into(),
            1 => "ClientHello".into(),
            2 => "ServerHello".into(),
            4 => "NewSessionTicket".into(),
            11 => "Certificate".into(),
            12 => "ServerKeyExchange".into(),
            13 => "CertificateRequest".into(),
            14 => "ServerHelloDone".into(),
            15 => "CertificateVerify".into(),
            16 => "ClientKeyExchange".into(),
            20 => "Finished".into(),
            other => format!("handshake message of type {other}"),
        }
    }
}

/// One handshake message toytls sends or accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeMessage {
    /// Sent by a server to ask for renegotiation; toytls refuses it with no_renegotiation
    /// ([`crate::conn`]).
    HelloRequest,
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    Certificate(CertificateMsg),
    ServerHelloDone(ServerHelloDone),
    ClientKeyExchange(ClientKeyExchange),
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
            HandshakeMessage::ServerHelloDone(_) => HandshakeType::ServerHelloDone,
            HandshakeMessage::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            HandshakeMessage::Finished(_) => HandshakeType::Finished,
        }
    }

    /// The message's name, e.g. `"ServerHello"`.
    pub fn name(&self) -> String {
        HandshakeType::name_of(self.typ() as u8)
    }

    /// The whole message as sent: 4-byte header then body (RFC 5246 7.4). These are also the bytes
    /// the Finished hash covers (RFC 5246 7.4.9).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        w.u8(self.typ() as u8);
        w.u24_prefixed(|w| match self {
            HandshakeMessage::HelloRequest => {}
            HandshakeMessage::ClientHello(m) => m.encode(w),
            HandshakeMessage::ServerHello(m) => m.encode(w),
            HandshakeMessage::Certificate(m) => m.encode(w),
            HandshakeMessage::ServerHelloDone(m) => m.encode(w),
            HandshakeMessage::ClientKeyExchange(m) => m.encode(w),
            HandshakeMessage::Finished(m) => m.encode(w),
        });
        w.finish()
            .map_err(|e| Error::Internal(format!("cannot encode {}: {e}", self.name())))
    }

    /// Decodes one body whose header said `typ`. The body must be consumed exactly.
    pub fn decode(typ: u8, body: &[u8]) -> Result<HandshakeMessage> {
        let mut r = Reader::new(body);
        let m = match typ {
            0 => HandshakeMessage::HelloRequest,
            1 => HandshakeMessage::ClientHello(ClientHello::decode(&mut r)?),
            2 => HandshakeMessage::ServerHello(ServerHello::decode(&mut r)?),
            11 => HandshakeMessage::Certificate(CertificateMsg::decode(&mut r)?),
            14 => HandshakeMessage::ServerHelloDone(ServerHelloDone::decode(&mut r)?),
            16 => HandshakeMessage::ClientKeyExchange(ClientKeyExchange::decode(&mut r)?),
            20 => HandshakeMessage::Finished(Finished::decode(&mut r)?),
            other => {
                return Err(Error::UnexpectedMessage {
                    expected: "a handshake message of the RSA key exchange",
                    got: HandshakeType::name_of(other),
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
            HandshakeMessage::ServerHelloDone(_) => vec![],
            HandshakeMessage::ClientKeyExchange(m) => m.fields(),
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
