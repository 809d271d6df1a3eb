//! The one error type of the protocol layers, and the alert each error sends.
//!
//! Every way a connection can fail is a variant of [`Error`], worded so that the person reading it
//! can act on it, and [`Error::alert`] says which alert (RFC 5246 7.2) toytls sends to the peer
//! because of it. A failing connection sends that alert once, at level fatal, then closes
//! (`spec/alerts.md` lists every alert and when it is sent).
//!
//! Some errors send nothing: the peer sent us an alert ([`Error::PeerAlert`]), or the transport is
//! gone ([`Error::Io`], [`Error::Truncated`]). For those [`Error::alert`] returns `None`.

use crate::wire::alert::AlertDescription;
use crate::wire::codec::CodecError;
use std::fmt;

/// Everything that can go wrong on a TLS connection.
#[derive(Debug)]
pub enum Error {
    /// A message or record could not be decoded (bad length, truncated, trailing bytes).
    Decode {
        /// What was being decoded, e.g. `"ClientHello"`.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A message arrived that is not allowed at this point of the protocol.
    UnexpectedMessage {
        /// What the state machine was waiting for.
        expected: &'static str,
        /// What arrived instead.
        got: String,
    },
    /// The peer offered or chose a protocol version other than TLS 1.2.
    ProtocolVersion {
        /// The version on the wire (0x0303 is TLS 1.2).
        offered: u16,
    },
    /// Client and server have no cipher suite in common.
    NoCommonCipherSuite {
        /// The suites the peer offered, as hex code points.
        offered: Vec<u16>,
    },
    /// A field of a message is out of range or inconsistent.
    IllegalParameter(String),
    /// The peers cannot agree on security parameters for a reason other than the suites: which
    /// rule was broken.
    HandshakeFailure(Reason),
    /// The server answered with an extension the client never offered (RFC 5246 7.4.1.4).
    UnsupportedExtension(u16),
    /// The client offered application protocols (ALPN, RFC 7301 3.2) and the server supports
    /// none of them: the protocols the client offered, then the ones the server supports.
    NoApplicationProtocol {
        offered: Vec<String>,
        supported: Vec<String>,
    },
    /// The server's certificate chain was rejected (untrusted, expired, wrong name, malformed).
    Certificate {
        /// Why, in the verifier's words.
        reason: String,
        /// The alert the certificate verifier chose for this reason.
        alert: AlertDescription,
    },
    /// A record failed its integrity check: it was changed, replayed, reordered or forged.
    BadRecordMac,
    /// A record was longer than the RFC allows (2^14 bytes of plaintext, 2^14 + 2048 of ciphertext).
    RecordOverflow {
        /// The length on the wire.
        len: usize,
        /// The limit it broke.
        max: usize,
    },
    /// The peer's Finished record authenticated, but its verify_data did not match: the two sides
    /// hold the same keys but did not see the same handshake (a message was changed on the way;
    /// RFC 5246 7.4.9). A pre-master secret the server could not decrypt gives the two sides
    /// different keys, so it shows one step earlier, as the Finished record's `bad_record_mac`.
    BadFinished,
    /// The client's CertificateVerify is not a signature by its certificate's key over the
    /// handshake so far (RFC 5246 7.4.8): it does not hold that key, or a message was changed.
    BadCertificateVerify,
    /// The peer sent an alert; the connection is over.
    PeerAlert(AlertDescription),
    /// The transport closed without close_notify: the data received may have been cut short by an
    /// attacker (RFC 5246 7.2.1), so toytls refuses to report a clean end of stream.
    Truncated,
    /// The connection was already closed or failed; nothing more can be sent or received.
    Closed,
    /// Our own side could not proceed (a configuration problem or an exhausted sequence number).
    Internal(String),
    /// The transport failed (connection reset, timeout, ...).
    Io(std::io::Error),
}

impl Error {
    /// The alert this error sends to the peer, or `None` when nothing can or should be sent.
    pub fn alert(&self) -> Option<AlertDescription> {
        use AlertDescription as A;
        Some(match self {
            Error::Decode { .. } => A::DecodeError,
            Error::UnexpectedMessage { .. } => A::UnexpectedMessage,
            Error::ProtocolVersion { .. } => A::ProtocolVersion,
            Error::NoCommonCipherSuite { .. } => A::HandshakeFailure,
            Error::IllegalParameter(_) => A::IllegalParameter,
            Error::HandshakeFailure(_) => A::HandshakeFailure,
            Error::UnsupportedExtension(_) => A::UnsupportedExtension,
            Error::NoApplicationProtocol { .. } => A::NoApplicationProtocol,
            Error::Certificate { alert, .. } => *alert,
            Error::BadRecordMac => A::BadRecordMac,
            Error::RecordOverflow { .. } => A::RecordOverflow,
            Error::BadFinished => A::DecryptError,
            Error::BadCertificateVerify => A::DecryptError,
            Error::Internal(_) => A::InternalError,
            Error::PeerAlert(_) | Error::Truncated | Error::Closed | Error::Io(_) => return None,
        })
    }

    /// A decoding error with the name of what was being decoded.
    pub fn decode(what: &'static str, reason: impl fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }
}

/// How many of the peer's suites [`Error::NoCommonCipherSuite`] prints (8 bytes each): the
/// peer's data in an error's text is bounded, whatever it sent.
const MAX_SUITES_SHOWN: usize = 32;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode { what, reason } => write!(f, "malformed {what}: {reason}"),
            Error::UnexpectedMessage { expected, got } => {
                write!(f, "expected {expected} but the peer sent {got}")
            }
            Error::ProtocolVersion { offered } => write!(
                f,
                "the peer speaks protocol version 0x{offered:04x}, toytls speaks only TLS 1.2 (0x0303)"
            ),
            Error::NoCommonCipherSuite { offered } => {
                write!(f, "no cipher suite in common; the client offered [")?;
                // The list is the peer's: a hello may hold 32,767 suites, and this text ends up
                // in a server's log, so only the first few are printed, and how many there were.
                for (i, s) in offered.iter().take(MAX_SUITES_SHOWN).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "0x{s:04x}")?;
                }
                if offered.len() > MAX_SUITES_SHOWN {
                    write!(
                        f,
                        ", ... {} more; {} in all",
                        offered.len() - MAX_SUITES_SHOWN,
                        offered.len()
                    )?;
                }
                f.write_str("]")
            }
            Error::IllegalParameter(why) => write!(f, "illegal parameter: {why}"),
            Error::HandshakeFailure(why) => write!(f, "handshake failure: {why}"),
            Error::UnsupportedExtension(t) => write!(
                f,
                "the server sent extension {t} that the client did not offer"
            ),
            Error::NoApplicationProtocol { offered, supported } => write!(
                f,
                "no application protocol in common (RFC 7301 3.2): the client offered [{}], \
                 the server speaks [{}]",
                offered.join(", "),
                supported.join(", ")
            ),
            Error::Certificate { reason, .. } => write!(f, "certificate rejected: {reason}"),
            Error::BadRecordMac => f.write_str(
                "a record failed its integrity check (modified, replayed, reordered or forged)",
            ),
            Error::RecordOverflow { len, max } => {
                write!(f, "record of {len} bytes exceeds the limit of {max}")
            }
            Error::BadFinished => f.write_str(
                "the peer's Finished message does not match: the two sides derived different keys or saw different handshakes",
            ),
            Error::BadCertificateVerify => f.write_str(
                "the client's CertificateVerify signature does not verify with its certificate's key: it does not hold the key, or the handshake was changed",
            ),
            Error::PeerAlert(d) => write!(f, "the peer sent the alert {d}"),
            Error::Truncated => f.write_str(
                "the connection was closed without close_notify: the data may have been truncated",
            ),
            Error::Closed => f.write_str("the connection is closed"),
            Error::Internal(why) => write!(f, "internal error: {why}"),
            Error::Io(e) => write!(f, "transport error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        Error::decode("message", e)
    }
}

impl From<Error> for std::io::Error {
    /// Lets [`crate::stream::TlsStream`] implement `Read` and `Write`: the TLS error is kept as
    /// the I/O error's source so callers can downcast to it.
    fn from(e: Error) -> Self {
        use std::io::ErrorKind as K;
        match e {
            Error::Io(io) => io,
            Error::Truncated => std::io::Error::new(K::UnexpectedEof, e),
            Error::Closed => std::io::Error::new(K::NotConnected, e),
            other => std::io::Error::new(K::InvalidData, other),
        }
    }
}

/// Why a handshake ends with `handshake_failure` when the suites are not the problem
/// ([`Error::NoCommonCipherSuite`] is): the rule of RFC 5746 (secure renegotiation) or RFC 7627
/// (extended master secret) that the peer's hello broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// RFC 5746 3.4: the server's renegotiation_info in an initial handshake is not empty.
    ServerRenegotiationInfoNotEmpty,
    /// RFC 5746 3.6: the client's renegotiation_info in an initial handshake is not empty.
    ClientRenegotiationInfoNotEmpty,
    /// RFC 7627 5.2: we require the extended master secret and the server did not echo it.
    ServerWithoutExtendedMasterSecret,
    /// RFC 7627 5.2: we require the extended master secret and the client did not offer it.
    ClientWithoutExtendedMasterSecret,
    /// RFC 7627 5.3: the server resumed our session, made with the extended master secret
    /// exactly when `session_ems`, and answered the extension the other way.
    ResumedWithOtherMasterSecret { session_ems: bool },
    /// RFC 7627 5.3: the client offers a session made with the extended master secret, without
    /// offering the extension.
    SessionNeedsExtendedMasterSecret,
    /// RFC 5246 7.4.6: the client sent no certificate, and the server requires one.
    ClientCertificateRequired,
    /// RFC 5246 7.4.8: the client has a certificate to send, and the server's CertificateRequest
    /// lists no signature algorithm it can sign with.
    NoCommonSignatureAlgorithm,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ServerRenegotiationInfoNotEmpty => {
                f.write_str("the server's renegotiation_info is not empty (RFC 5746 3.4)")
            }
            Reason::ClientRenegotiationInfoNotEmpty => f.write_str(
                "the client's renegotiation_info is not empty in an initial handshake \
                 (RFC 5746 3.6)",
            ),
            Reason::ServerWithoutExtendedMasterSecret => f.write_str(
                "the server does not support the extended master secret, which we require \
                 (RFC 7627 5.2)",
            ),
            Reason::ClientWithoutExtendedMasterSecret => f.write_str(
                "the client does not offer the extended master secret, which we require \
                 (RFC 7627 5.2)",
            ),
            Reason::ResumedWithOtherMasterSecret { session_ems } => write!(
                f,
                "the server resumed a session made {} the extended master secret, {} the \
                 extension (RFC 7627 5.3)",
                if *session_ems { "with" } else { "without" },
                if *session_ems {
                    "but without"
                } else {
                    "but echoed"
                },
            ),
            Reason::SessionNeedsExtendedMasterSecret => f.write_str(
                "the client offers a session made with the extended master secret without \
                 offering the extension (RFC 7627 5.3)",
            ),
            Reason::ClientCertificateRequired => f.write_str(
                "the client sent no certificate, and this server requires one (RFC 5246 7.4.6)",
            ),
            Reason::NoCommonSignatureAlgorithm => f.write_str(
                "the server's CertificateRequest lists no signature algorithm we sign with \
                 (rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha512; RFC 5246 7.4.8)",
            ),
        }
    }
}

/// Results of the protocol layers.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::alert::AlertDescription as A;

    #[test]
    fn each_error_maps_to_its_alert() {
        assert_eq!(Error::BadRecordMac.alert(), Some(A::BadRecordMac));
        assert_eq!(Error::BadFinished.alert(), Some(A::DecryptError));
        assert_eq!(
            Error::ProtocolVersion { offered: 0x0301 }.alert(),
            Some(A::ProtocolVersion)
        );
        assert_eq!(
            Error::NoCommonCipherSuite { offered: vec![] }.alert(),
            Some(A::HandshakeFailure)
        );
        assert_eq!(
            Error::RecordOverflow { len: 1, max: 0 }.alert(),
            Some(A::RecordOverflow)
        );
        assert_eq!(
            Error::Certificate {
                reason: "x".into(),
                alert: A::UnknownCa
            }
            .alert(),
            Some(A::UnknownCa)
        );
        assert_eq!(Error::decode("x", "y").alert(), Some(A::DecodeError));
        let e = Error::NoApplicationProtocol {
            offered: vec!["h2".into()],
            supported: vec!["http/1.1".into()],
        };
        assert_eq!(e.alert(), Some(A::NoApplicationProtocol));
        assert_eq!(A::NoApplicationProtocol.to_u8(), 120);
        assert!(e.to_string().contains("[h2]"), "{e}");
        assert_eq!(Error::PeerAlert(A::BadRecordMac).alert(), None);
        assert_eq!(Error::Truncated.alert(), None);
    }

    #[test]
    fn every_handshake_failure_reason_is_handshake_failure_and_cites_its_rule() {
        for (r, rule) in [
            (Reason::ServerRenegotiationInfoNotEmpty, "RFC 5746 3.4"),
            (Reason::ClientRenegotiationInfoNotEmpty, "RFC 5746 3.6"),
            (Reason::ServerWithoutExtendedMasterSecret, "RFC 7627 5.2"),
            (Reason::ClientWithoutExtendedMasterSecret, "RFC 7627 5.2"),
            (
                Reason::ResumedWithOtherMasterSecret { session_ems: true },
                "RFC 7627 5.3",
            ),
            (Reason::SessionNeedsExtendedMasterSecret, "RFC 7627 5.3"),
            (Reason::ClientCertificateRequired, "RFC 5246 7.4.6"),
            (Reason::NoCommonSignatureAlgorithm, "RFC 5246 7.4.8"),
        ] {
            let e = Error::HandshakeFailure(r);
            assert_eq!(e.alert(), Some(A::HandshakeFailure));
            assert!(e.to_string().contains(rule), "{r:?}: {e}");
        }
        let both = |session_ems| {
            Error::HandshakeFailure(Reason::ResumedWithOtherMasterSecret { session_ems })
                .to_string()
        };
        assert!(both(true).contains("made with the extended master secret, but without"));
        assert!(both(false).contains("made without the extended master secret, but echoed"));
    }

    #[test]
    fn messages_name_the_problem() {
        let e = Error::NoCommonCipherSuite {
            offered: vec![0x009c, 0xff01],
        };
        assert_eq!(
            e.to_string(),
            "no cipher suite in common; the client offered [0x009c, 0xff01]"
        );
        let e: std::io::Error = Error::Truncated.into();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
