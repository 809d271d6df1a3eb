//! Renegotiation, refused.
//!
//! After the handshake, the only handshake messages a peer may send are requests to renegotiate:
//! a ClientHello to a server, a HelloRequest to a client (RFC 5246 7.4.1.1). toytls runs one
//! handshake per connection, so [`Conn::read_app_data`] refuses each with a *warning*
//! `no_renegotiation` alert and the connection goes on (RFC 5746 4.2, 4.4; RFC 5246 7.2.2); the
//! peer decides whether to carry on without renegotiating or to close. A peer that keeps asking
//! after [`MAX_REFUSED_RENEGOTIATIONS`] refusals is not going to take no for an answer: the next
//! request ends the connection with a fatal `unexpected_message`.

use super::{Conn, State};
use crate::Side;
use crate::error::{Error, Result};
use crate::trace::Note;
use crate::wire::messages::HandshakeType;
use crate::wire::messages::alert::AlertMessage;
use std::io::{Read, Write};
use std::ops::Range;

/// How many renegotiation requests one connection refuses politely (warning `no_renegotiation`).
/// An honest peer asks once and accepts the answer; the request after this many is fatal
/// (`unexpected_message`), so a peer cannot keep us answering forever.
pub const MAX_REFUSED_RENEGOTIATIONS: u32 = 3;

impl<T: Read + Write> Conn<T> {
    /// A handshake record after the handshake (it arrives protected, like application data).
    /// Its bytes join any partial message already buffered (a ClientHello may span records,
    /// RFC 5246 6.2.1, and application data may arrive between its fragments); each whole
    /// message is checked and refused in turn.
    ///
    /// - To a server, only a ClientHello may come (RFC 5246 7.4.1.2: "a client can also send a
    ///   ClientHello in response to a HelloRequest or on its own initiative"); it must decode.
    /// - To a client, only a HelloRequest, whose body is empty (RFC 5246 7.4.1.1); a non-empty
    ///   one is `decode_error`, refused from its header.
    ///
    /// Anything else is `unexpected_message`. Each refusal is a warning `no_renegotiation`
    /// (RFC 5746 4.2 for a client, 4.4 for a server); the request after
    /// [`MAX_REFUSED_RENEGOTIATIONS`] refusals is fatal. The messages are not added to the
    /// transcript: the handshake they would start never happens.
    pub(super) fn refuse_renegotiation(&mut self, range: Range<usize>) -> Result<()> {
        self.joiner.push_after_handshake(self.rec.plaintext(range));
        let request = match self.side {
            Side::Server => HandshakeType::ClientHello,
            Side::Client => HandshakeType::HelloRequest,
        };
        let name = request.name();
        // The joiner never holds more than one message under the limit plus one record: every
        // header is checked as soon as it is in, and complete messages are removed at once.
        while let Some(h) = self.joiner.header() {
            if h.typ != request.code() {
                return Err(Error::UnexpectedMessage {
                    expected: "application data or an alert",
                    got: format!("a {} after the handshake", HandshakeType::name_of(h.typ)),
                });
            }
            if request == HandshakeType::HelloRequest {
                h.empty_hello_request()?;
            }
            if !self.joiner.holds(h.within_limit()?) {
                // The rest of the message comes in later records.
                return Ok(());
            }
            self.joiner.take(h, &self.tracer, |_| {})?;
            if self.renegotiations_refused == MAX_REFUSED_RENEGOTIATIONS {
                return Err(Error::UnexpectedMessage {
                    expected: "application data or an alert",
                    got: format!(
                        "another {name} after {MAX_REFUSED_RENEGOTIATIONS} refused renegotiations"
                    ),
                });
            }
            self.renegotiations_refused += 1;
            self.tracer.note(|| Note::RenegotiationRefused { request });
            // After our close_notify we send nothing more, not even this answer.
            if matches!(self.state, State::Open | State::PeerClosed) {
                self.send_alert(AlertMessage::no_renegotiation())?;
            }
        }
        Ok(())
    }
}
