//! Alerts: how a TLS peer says "something went wrong" (RFC 5246 7.2).
//!
//! Every error in toytls maps to exactly one [`AlertDescription`]; when a connection fails, that
//! alert is sent once, at level fatal, and the connection is closed. The only warning-level alerts
//! toytls sends are `close_notify` (the orderly end of a connection) and `no_renegotiation`.

/// RFC 5246 7.2: `enum { warning(1), fatal(2), (255) } AlertLevel;`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertLevel {
    Warning,
    Fatal,
}

impl AlertLevel {
    /// The byte on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
        }
    }

    /// Parses the byte on the wire; any other value is not an alert level.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(AlertLevel::Warning),
            2 => Some(AlertLevel::Fatal),
            _ => None,
        }
    }
}

macro_rules! alert_descriptions {
    ($( $(#[$doc:meta])* $name:ident = $code:expr, $text:expr; )*) => {
        /// RFC 5246 7.2 `AlertDescription` (plus RFC 6066, RFC 5746 and RFC 7301 additions toytls may send).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AlertDescription {
            $( $(#[$doc])* $name, )*
            /// A code this crate does not know; kept so that a received alert can be reported.
            Unknown(u8),
        }

        impl AlertDescription {
            /// The byte on the wire.
            pub fn to_u8(self) -> u8 {
                match self {
                    $( AlertDescription::$name => $code, )*
                    AlertDescription::Unknown(v) => v,
                }
            }

            /// Parses the byte on the wire; unknown codes are kept as [`AlertDescription::Unknown`].
            pub fn from_u8(v: u8) -> Self {
                match v {
                    $( $code => AlertDescription::$name, )*
                    other => AlertDescription::Unknown(other),
                }
            }

            /// The RFC's name for the alert, e.g. `bad_record_mac`.
            pub fn name(self) -> &'static str {
                match self {
                    $( AlertDescription::$name => $text, )*
                    AlertDescription::Unknown(_) => "unknown_alert",
                }
            }
        }
    };
}

alert_descriptions! {
    /// The sender will send nothing more on this connection.
    CloseNotify = 0, "close_notify";
    /// A message arrived that is not allowed at this point of the protocol.
    UnexpectedMessage = 10, "unexpected_message";
    /// A record failed its integrity check (or decrypted to something invalid).
    BadRecordMac = 20, "bad_record_mac";
    /// A ciphertext record was longer than 2^14 + 2048 bytes, or a plaintext longer than 2^14.
    RecordOverflow = 22, "record_overflow";
    /// No acceptable set of security parameters (for example, no cipher suite in common).
    HandshakeFailure = 40, "handshake_failure";
    /// A certificate was corrupt or its signature did not verify.
    BadCertificate = 42, "bad_certificate";
    /// A certificate of a type or with a feature this implementation does not support.
    UnsupportedCertificate = 43, "unsupported_certificate";
    /// A certificate was revoked by its signer.
    CertificateRevoked = 44, "certificate_revoked";
    /// A certificate has expired or is not yet valid.
    CertificateExpired = 45, "certificate_expired";
    /// Some other problem with a certificate made it unacceptable (wrong name, wrong usage).
    CertificateUnknown = 46, "certificate_unknown";
    /// A field was out of range or inconsistent with other fields.
    IllegalParameter = 47, "illegal_parameter";
    /// A valid chain was received but no certificate in it chains to a trusted CA.
    UnknownCa = 48, "unknown_ca";
    /// A message could not be decoded: a length was wrong or a field out of its range.
    DecodeError = 50, "decode_error";
    /// A handshake cryptographic operation failed, such as a Finished check.
    DecryptError = 51, "decrypt_error";
    /// The protocol version the peer offered is recognised but not supported.
    ProtocolVersion = 70, "protocol_version";
    /// A failure unrelated to the peer or the protocol (for example, out of memory).
    InternalError = 80, "internal_error";
    /// The sender refuses to renegotiate; the connection goes on (RFC 5246 7.2.2, RFC 5746 4.2
    /// and 4.4; sent as a warning).
    NoRenegotiation = 100, "no_renegotiation";
    /// An extension in a ServerHello that the client did not offer (RFC 5246 7.4.1.4).
    UnsupportedExtension = 110, "unsupported_extension";
    /// The server does not recognise the name in server_name (RFC 6066 3).
    UnrecognizedName = 112, "unrecognized_name";
    /// The client offered application protocols (ALPN) and the server speaks none of them
    /// (RFC 7301 3.2).
    NoApplicationProtocol = 120, "no_application_protocol";
}

impl std::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertDescription::Unknown(v) => write!(f, "unknown_alert({v})"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(AlertDescription::from_u8(v).to_u8(), v);
        }
        assert_eq!(
            AlertDescription::from_u8(20),
            AlertDescription::BadRecordMac
        );
        assert_eq!(AlertDescription::BadRecordMac.name(), "bad_record_mac");
        assert_eq!(AlertDescription::from_u8(3), AlertDescription::Unknown(3));
    }

    #[test]
    fn levels() {
        assert_eq!(AlertLevel::from_u8(1), Some(AlertLevel::Warning));
        assert_eq!(AlertLevel::from_u8(2), Some(AlertLevel::Fatal));
        assert_eq!(AlertLevel::from_u8(0), None);
        assert_eq!(AlertLevel::from_u8(3), None);
        assert_eq!(AlertLevel::Fatal.to_u8(), 2);
    }
}
