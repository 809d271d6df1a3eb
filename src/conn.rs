//! One connection's life: the transport, the record layer, alerts, and application data.
//!
//! A [`Conn`] is what both handshakes run on ([`crate::handshake`]) and what a
//! [`crate::stream::TlsStream`] reads and writes through afterwards. It holds the rule that a
//! failure sends its alert exactly once ([`Conn::fail`], in `conn/failure.rs`), the connection's
//! [`State`] from open to closed, and the reading of application data, which must come protected
//! and after the handshake.
//!
//! After the handshake, the only handshake messages a peer may send are requests to renegotiate;
//! [`Conn::read_app_data`] refuses them (`conn/renegotiation.rs`).
//!
//! Alerts at level warning other than close_notify do not end the connection, during the
//! handshake or after it, on either side (RFC 5246 7.2.2: for a warning "the receiving party MAY
//! decide at its discretion whether to treat this as a fatal error or not"): [`Conn::read_record`]
//! passes over them, which is what lets a server's warning `unrecognized_name` (RFC 6066 3) or a
//! client's `no_renegotiation` through. A peer could keep us reading warnings for ever, though
//! (the "SSL Death Alert", CVE-2016-8610): after [`MAX_WARNINGS_IN_A_ROW`] in a row with no other
//! record of content between them, the next warning is a fatal `unexpected_message`.

use crate::Side;
use crate::error::{Error, Result};
use crate::handshake::joiner::Joiner;
use crate::record::{ContentType, RecordLayer};
use crate::trace::{Dir, TraceEvent, TraceSink, Tracer};
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::codec::Reader;
use crate::wire::messages::SessionId;
use crate::wire::messages::alert::AlertMessage;
use std::io::{Read, Write};
use std::ops::Range;
use std::sync::Arc;

mod failure;
mod renegotiation;
pub use renegotiation::MAX_REFUSED_RENEGOTIATIONS;

/// How many warning alerts in a row [`Conn::read_record`] passes over (the same as OpenSSL): the
/// next one, unless another record with content came between, is fatal `unexpected_message`.
pub const MAX_WARNINGS_IN_A_ROW: u32 = 4;

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Handshaking or exchanging data.
    Open,
    /// We sent close_notify: we send nothing more, but may still read.
    LocalClosed,
    /// The peer sent close_notify: reads return end of stream.
    PeerClosed,
    /// Both close_notify sent and received.
    Closed,
    /// A fatal error ended the connection (alert sent or received).
    Failed,
}

/// A connection: transport plus protocol state.
pub struct Conn<T> {
    pub io: T,
    pub rec: RecordLayer,
    pub tracer: Tracer,
    side: Side,
    pub state: State,
    /// True once an alert other than close_notify was sent or received: the session must then
    /// never be resumed (RFC 5246 7.2.2). A transport that merely ends does not set it (RFC 5246
    /// 7.2.1: since TLS 1.1 an unclean close no longer forbids resumption).
    pub fatal_alert: bool,
    /// The session the connection makes or resumes, once the server has named it in its
    /// ServerHello (set by the server's handshake; empty until then): the one a fatal alert
    /// invalidates, also when the handshake itself fails.
    pub session_id: SessionId,
    /// Handshake messages out of records, during the handshake and after it.
    pub joiner: Joiner,
    /// Application data received and not yet handed to the reader.
    app_pending: Range<usize>,
    /// Renegotiation requests refused so far (see [`MAX_REFUSED_RENEGOTIATIONS`]).
    renegotiations_refused: u32,
    /// Warning alerts passed over since the last record with content (see
    /// [`MAX_WARNINGS_IN_A_ROW`]).
    warnings_in_a_row: u32,
    /// Called whenever application bytes move, either way (not for empty records, alerts or
    /// refused renegotiations): how the server's idle timeout learns of progress
    /// ([`crate::net::timed::Activity`]).
    pub on_app_data: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl<T: Read + Write> Conn<T> {
    /// A connection over `io`, on `side`, reporting to `trace` if set.
    pub fn new(io: T, side: Side, trace: Option<Arc<dyn TraceSink>>) -> Self {
        let tracer = Tracer::new(side, trace);
        Conn {
            io,
            rec: RecordLayer::new(tracer.clone()),
            tracer,
            side,
            state: State::Open,
            fatal_alert: false,
            session_id: SessionId::EMPTY,
            joiner: Joiner::default(),
            app_pending: 0..0,
            renegotiations_refused: 0,
            warnings_in_a_row: 0,
            on_app_data: None,
        }
    }

    /// Application bytes moved: tell whoever watches for idleness.
    fn app_data_moved(&self) {
        if let Some(f) = &self.on_app_data {
            f();
        }
    }

    /// Which end of the connection we are.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Reads the next record, for the handshake or for the application. Warning alerts other
    /// than close_notify are traced and passed over here (see the module doc), up to
    /// [`MAX_WARNINGS_IN_A_ROW`] in a row; the one after them is `unexpected_message`. Every
    /// other record, fatal alerts and close_notify included, goes to the caller. A record with
    /// content that is not an alert is progress: the count starts again (an empty
    /// application-data record carries nothing and is not).
    pub(crate) fn read_record(&mut self) -> Result<(ContentType, Range<usize>)> {
        loop {
            let (typ, range) = self.rec.read_record(&mut self.io)?;
            if typ != ContentType::Alert {
                if !range.is_empty() {
                    self.warnings_in_a_row = 0;
                }
                return Ok((typ, range));
            }
            // One that does not decode goes to the caller, whose decoding refuses it.
            match AlertMessage::decode(&mut Reader::new(self.rec.plaintext(range.clone()))) {
                Ok(a)
                    if a.level == AlertLevel::Warning
                        && a.description != AlertDescription::CloseNotify => {}
                _ => return Ok((typ, range)),
            }
            let d = self.receive_alert(range)?;
            if self.warnings_in_a_row == MAX_WARNINGS_IN_A_ROW {
                return Err(Error::UnexpectedMessage {
                    expected: "a record other than a warning alert",
                    got: format!(
                        "a warning {} after {MAX_WARNINGS_IN_A_ROW} warning alerts in a row \
                         (CVE-2016-8610)",
                        d.name()
                    ),
                });
            }
            self.warnings_in_a_row += 1;
        }
    }

    /// The error for a record of the wrong type; an alert from the peer becomes
    /// [`Error::PeerAlert`].
    pub(crate) fn unexpected_record(
        &mut self,
        expected: &'static str,
        typ: ContentType,
        range: Range<usize>,
    ) -> Error {
        if typ == ContentType::Alert {
            return match self.receive_alert(range) {
                Ok(d) | Err(Error::PeerAlert(d)) => {
                    self.state = State::Failed;
                    self.fatal_alert |= d != AlertDescription::CloseNotify;
                    Error::PeerAlert(d)
                }
                Err(e) => e,
            };
        }
        Error::UnexpectedMessage {
            expected,
            got: format!("a {} record", typ.name()),
        }
    }

    /// Decodes and traces an alert record; returns its description.
    fn receive_alert(&mut self, range: Range<usize>) -> Result<AlertDescription> {
        let body = self.rec.plaintext(range);
        let a = AlertMessage::decode(&mut Reader::new(body))?;
        self.tracer.emit(|side| TraceEvent::Alert {
            side,
            dir: Dir::Received,
            level: a.level,
            description: a.description,
        });
        Ok(a.description)
    }

    fn send_alert(&mut self, a: AlertMessage) -> Result<()> {
        self.tracer.emit(|side| TraceEvent::Alert {
            side,
            dir: Dir::Sent,
            level: a.level,
            description: a.description,
        });
        self.rec
            .write_records(&mut self.io, ContentType::Alert, &a.to_bytes())
    }

    /// Sends close_notify (RFC 5246 7.2.1): we will send nothing more.
    pub fn close(&mut self) -> Result<()> {
        match self.state {
            State::Open => self.state = State::LocalClosed,
            State::PeerClosed => self.state = State::Closed,
            State::LocalClosed | State::Closed => return Ok(()),
            State::Failed => return Err(Error::Closed),
        }
        self.send_alert(AlertMessage::close_notify())
    }

    /// Sends application data, split into records of at most 2^14 bytes.
    pub fn write_app_data(&mut self, data: &[u8]) -> Result<()> {
        match self.state {
            State::Open | State::PeerClosed => {}
            _ => return Err(Error::Closed),
        }
        if data.is_empty() {
            return Ok(());
        }
        self.app_data_moved();
        if let Err(e) = self
            .rec
            .write_records(&mut self.io, ContentType::ApplicationData, data)
        {
            return Err(self.fail(e));
        }
        self.app_data_moved();
        Ok(())
    }

    /// True if application data has arrived and not yet been read, so that the next
    /// [`read_app_data`](Self::read_app_data) returns without waiting for the transport (or a
    /// whole record waits, which may also be an alert).
    pub fn has_buffered_data(&self) -> bool {
        !self.app_pending.is_empty() || self.rec.has_buffered_record()
    }

    /// Reads application data into `buf`. `Ok(0)` only after the peer's close_notify; a transport
    /// that ends without it is [`Error::Truncated`].
    pub fn read_app_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            if !self.app_pending.is_empty() {
                let n = buf.len().min(self.app_pending.len());
                let start = self.app_pending.start;
                buf[..n].copy_from_slice(self.rec.plaintext(start..start + n));
                self.app_pending.start += n;
                return Ok(n);
            }
            match self.state {
                State::PeerClosed | State::Closed => return Ok(0),
                State::Failed => return Err(Error::Closed),
                State::Open | State::LocalClosed => {}
            }
            if buf.is_empty() {
                return Ok(0);
            }
            let (typ, range) = match self.read_record() {
                Ok(r) => r,
                Err(e) => return Err(self.fail(e)),
            };
            match typ {
                ContentType::ApplicationData => {
                    if !range.is_empty() {
                        self.app_data_moved();
                    }
                    self.app_pending = range;
                }
                ContentType::Alert => match self.receive_alert(range) {
                    Ok(AlertDescription::CloseNotify) => {
                        self.state = match self.state {
                            State::LocalClosed => State::Closed,
                            _ => State::PeerClosed,
                        };
                    }
                    Ok(d) => {
                        self.state = State::Failed;
                        self.fatal_alert = true;
                        return Err(Error::PeerAlert(d));
                    }
                    Err(e) => return Err(self.fail(e)),
                },
                // A request to renegotiate: refused with a warning, and we read on.
                ContentType::Handshake => {
                    if let Err(e) = self.refuse_renegotiation(range) {
                        return Err(self.fail(e));
                    }
                }
                // A ChangeCipherSpec without a handshake before it is meaningless.
                other => {
                    let e = Error::UnexpectedMessage {
                        expected: "application data or an alert",
                        got: format!("a {} record after the handshake", other.name()),
                    };
                    return Err(self.fail(e));
                }
            }
        }
    }
}
