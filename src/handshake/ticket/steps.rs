//! The ticket steps of both handshakes (RFC 5077 3.1-3.4), where the two stories
//! ([`crate::handshake::client`], [`crate::handshake::server`]) meet [`super`]'s sealed format.
//!
//! ```text
//! server                                       client
//! open_ticket            <--  ClientHello (session_ticket: the ticket, or empty)
//! client_takes_tickets        (session_ticket present, empty or not)
//! send_new_session_ticket -->  read_new_session_ticket   (just before the server's
//!                                                          ChangeCipherSpec)
//! ```
//!
//! What the client offers (the stored ticket, or an empty extension) is part of its ClientHello,
//! and what the server resumes from an opened ticket part of its `find_session`: both stay in
//! their story, where the rest of the hello and the resumption decision are.

use crate::error::Result;
use crate::handshake::client::Client;
use crate::handshake::server::Server;
use crate::handshake::session::{Session, Ticket};
use crate::trace::Note;
use crate::wire::messages::extensions;
use crate::wire::messages::{ClientHello, HandshakeMessage, NewSessionTicket};
use std::io::{Read, Write};

/// The server's end: open what the client presents, seal what it takes home.
impl<T: Read + Write> Server<'_, T> {
    /// RFC 5077 3.1: the session in the ticket the client presents, and whether the current key
    /// sealed it; `None` if it presents none, tickets are off, or the ticket does not open
    /// (every [`super::Rejection`] means a full handshake, never an alert).
    pub(in crate::handshake) fn open_ticket(&self, ch: &ClientHello) -> Option<(Session, bool)> {
        let keys = self.config.tickets.as_ref()?;
        let ext = extensions::find(&ch.extensions, extensions::SESSION_TICKET)?;
        if ext.data.is_empty() {
            return None;
        }
        match keys.open(&ext.data, self.config.clock.now()) {
            Ok(opened) => {
                self.hs.tracer().note(|| Note::TicketOpened {
                    current_key: opened.current_key,
                });
                Some((opened.session, opened.current_key))
            }
            Err(why) => {
                self.hs.tracer().note(|| Note::TicketRefused {
                    why: why.to_string(),
                });
                None
            }
        }
    }

    /// RFC 5077 3.2: the client takes tickets if its hello carries session_ticket (empty or not);
    /// we issue them unless they are off.
    pub(in crate::handshake) fn client_takes_tickets(&self, ch: &ClientHello) -> bool {
        self.config.tickets.is_some()
            && extensions::find(&ch.extensions, extensions::SESSION_TICKET).is_some()
    }

    /// RFC 5077 3.3: our session sealed under the current ticket key, just before our
    /// ChangeCipherSpec. A session too big for a ticket gets an empty one (3.3 allows it: we
    /// promised a NewSessionTicket in the ServerHello).
    pub(in crate::handshake) fn send_new_session_ticket(
        &mut self,
        session: &Session,
    ) -> Result<()> {
        let now = self.config.clock.now();
        let nst = self
            .config
            .tickets
            .as_ref()
            .and_then(|keys| keys.seal(session, now, &mut self.rng))
            .unwrap_or(NewSessionTicket {
                lifetime_hint: 0,
                ticket: Vec::new(),
            });
        self.hs.tracer().note(|| Note::TicketIssued {
            lifetime_hint: nst.lifetime_hint,
        });
        self.hs.send(HandshakeMessage::NewSessionTicket(nst))
    }
}

/// The client's end: take the ticket home.
impl<T: Read + Write> Client<'_, T> {
    /// RFC 5077 3.3: the server's NewSessionTicket, promised by the session_ticket extension of
    /// its ServerHello, just before its ChangeCipherSpec. An empty ticket means "none after all".
    pub(in crate::handshake) fn read_new_session_ticket(&mut self) -> Result<Option<Ticket>> {
        let nst: NewSessionTicket = self.hs.read()?;
        if nst.ticket.is_empty() {
            self.hs.tracer().note(|| Note::EmptyTicket);
            return Ok(None);
        }
        self.hs.tracer().note(|| Note::TicketReceived {
            len: nst.ticket.len(),
            lifetime_hint: nst.lifetime_hint,
        });
        Ok(Some(Ticket {
            bytes: nst.ticket,
            lifetime_hint: nst.lifetime_hint,
            received: self.config.clock.now(),
        }))
    }
}
