//! NewSessionTicket (RFC 5077 3.3): the server hands the client its session, sealed.
//!
//! ```text
//! struct {
//!     uint32 ticket_lifetime_hint;
//!     opaque ticket<0..2^16-1>;
//! } NewSessionTicket;
//! ```
//!
//! The ticket is opaque to the client: it stores it and sends it back in the session_ticket
//! extension of a later ClientHello. Only the server that sealed it can read it (toytls's format
//! is in `spec/tickets.md` and [`crate::handshake::ticket`]). The lifetime hint says how many
//! seconds the client may keep it, 0 meaning "no recommendation". A zero-length ticket is allowed:
//! the server promised a ticket in its ServerHello and then decided not to issue one.

use super::hex;
use crate::error::Result;
use crate::wire::codec::{Reader, Writer};

/// RFC 5077 3.3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSessionTicket {
    /// Seconds the client may keep the ticket, counted from when it arrives; 0: unspecified.
    pub lifetime_hint: u32,
    /// The sealed session state, or empty (no ticket after all).
    pub ticket: Vec<u8>,
}

impl NewSessionTicket {
    pub fn encode(&self, w: &mut Writer) {
        w.u32(self.lifetime_hint);
        w.u16_prefixed(|w| w.bytes(&self.ticket));
    }

    pub fn decode(r: &mut Reader) -> Result<NewSessionTicket> {
        let lifetime_hint = r.u32()?;
        let ticket = r.u16_prefixed()?.rest().to_vec();
        r.expect_empty()?;
        Ok(NewSessionTicket {
            lifetime_hint,
            ticket,
        })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ticket_lifetime_hint", format!("{} s", self.lifetime_hint)),
            ("ticket", hex(&self.ticket)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bytes_are_as_rfc_5077_lays_them_out() {
        let m = NewSessionTicket {
            lifetime_hint: 7200,
            ticket: vec![0xaa, 0xbb, 0xcc],
        };
        let mut w = Writer::new();
        m.encode(&mut w);
        let b = w.finish().unwrap();
        assert_eq!(b, [0, 0, 0x1c, 0x20, 0, 3, 0xaa, 0xbb, 0xcc]);
        assert_eq!(NewSessionTicket::decode(&mut Reader::new(&b)).unwrap(), m);
    }

    #[test]
    fn an_empty_ticket_is_a_valid_message() {
        let m = NewSessionTicket::decode(&mut Reader::new(&[0, 0, 0, 0, 0, 0])).unwrap();
        assert!(m.ticket.is_empty());
        assert_eq!(m.lifetime_hint, 0);
    }

    #[test]
    fn lengths_must_match_exactly() {
        // Ticket length says 3, two bytes follow.
        assert!(NewSessionTicket::decode(&mut Reader::new(&[0, 0, 0, 1, 0, 3, 1, 2])).is_err());
        // A byte after the ticket.
        assert!(NewSessionTicket::decode(&mut Reader::new(&[0, 0, 0, 1, 0, 1, 1, 2])).is_err());
        // No room for the length.
        assert!(NewSessionTicket::decode(&mut Reader::new(&[0, 0, 0, 1, 0])).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(hint in any::<u32>(), ticket in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = NewSessionTicket { lifetime_hint: hint, ticket };
            let mut w = Writer::new();
            m.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(NewSessionTicket::decode(&mut Reader::new(&b)).unwrap(), m);
        }

        #[test]
        fn decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = NewSessionTicket::decode(&mut Reader::new(&b));
        }
    }
}
