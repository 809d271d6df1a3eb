//! The two small protocols beside the handshake: Alert (RFC 5246 7.2) and ChangeCipherSpec
//! (RFC 5246 7.1). Each has its own record content type.

use crate::error::{Error, Result};
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::codec::{Reader, Writer};

/// `struct { AlertLevel level; AlertDescription description; } Alert;`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertMessage {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl AlertMessage {
    /// The alert toytls sends for a failure: always fatal (RFC 5246 7.2.2).
    pub fn fatal(description: AlertDescription) -> Self {
        AlertMessage {
            level: AlertLevel::Fatal,
            description,
        }
    }

    /// close_notify, sent as a warning (RFC 5246 7.2.1).
    pub fn close_notify() -> Self {
        AlertMessage {
            level: AlertLevel::Warning,
            description: AlertDescription::CloseNotify,
        }
    }

    /// no_renegotiation, sent as a warning: "I will not renegotiate, but this connection goes
    /// on" (RFC 5246 7.2.2, RFC 5746 4.2 and 4.4).
    pub fn no_renegotiation() -> Self {
        AlertMessage {
            level: AlertLevel::Warning,
            description: AlertDescription::NoRenegotiation,
        }
    }

    pub fn to_bytes(self) -> [u8; 2] {
        [self.level.to_u8(), self.description.to_u8()]
    }

    pub fn decode(r: &mut Reader) -> Result<AlertMessage> {
        let level = r.u8()?;
        let description = AlertDescription::from_u8(r.u8()?);
        r.expect_empty()?;
        let level = AlertLevel::from_u8(level)
            .ok_or_else(|| Error::decode("Alert", format!("unknown alert level {level}")))?;
        Ok(AlertMessage { level, description })
    }

    pub fn encode(&self, w: &mut Writer) {
        w.bytes(&self.to_bytes());
    }
}

/// `struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;`: "from my next
/// record on, I protect with the keys we just agreed".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeCipherSpec;

impl ChangeCipherSpec {
    pub const BYTES: [u8; 1] = [1];

    pub fn decode(r: &mut Reader) -> Result<ChangeCipherSpec> {
        let v = r.u8()?;
        r.expect_empty()?;
        if v != 1 {
            return Err(Error::decode(
                "ChangeCipherSpec",
                format!("value {v}, expected 1"),
            ));
        }
        Ok(ChangeCipherSpec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_decode_and_encode() {
        let a = AlertMessage::decode(&mut Reader::new(&[2, 20])).unwrap();
        assert_eq!(a, AlertMessage::fatal(AlertDescription::BadRecordMac));
        assert_eq!(a.to_bytes(), [2, 20]);
        assert_eq!(AlertMessage::close_notify().to_bytes(), [1, 0]);
        assert!(AlertMessage::decode(&mut Reader::new(&[3, 20])).is_err());
        assert!(AlertMessage::decode(&mut Reader::new(&[2])).is_err());
        assert!(AlertMessage::decode(&mut Reader::new(&[2, 20, 0])).is_err());
    }

    #[test]
    fn change_cipher_spec_is_the_single_byte_1() {
        assert!(ChangeCipherSpec::decode(&mut Reader::new(&[1])).is_ok());
        assert!(ChangeCipherSpec::decode(&mut Reader::new(&[2])).is_err());
        assert!(ChangeCipherSpec::decode(&mut Reader::new(&[1, 1])).is_err());
        assert!(ChangeCipherSpec::decode(&mut Reader::new(&[])).is_err());
    }
}
