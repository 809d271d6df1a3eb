//! One connection's moving parts, shared by both handshakes and the stream: the transport, the
//! record layer, the handshake reassembler, the transcript hash, and the rule that a failure sends
//! its alert exactly once.
//!
//! [`Conn::read_message`] is the one place that reads the next handshake message; it checks the
//! message's type against what the handshake expects and answers anything else with
//! `unexpected_message`, before even decoding it.
//!
//! After the handshake, the only handshake messages a peer may send are requests to renegotiate:
//! a ClientHello to a server, a HelloRequest to a client (RFC 5246 7.4.1.1). toytls runs one
//! handshake per connection, so [`Conn::read_app_data`] refuses each with a *warning*
//! `no_renegotiation` alert and the connection goes on (RFC 5746 4.2, 4.4; RFC 5246 7.2.2); the
//! peer decides whether to carry on without renegotiating or to close. A peer that keeps asking
//! after [`MAX_REFUSED_RENEGOTIATIONS`] refusals is not going to take no for an answer: the next
//! request ends the connection with a fatal `unexpected_message`. During the handshake a client
//! ignores HelloRequests altogether (RFC 5246 7.4.1.1): they are skipped, never hashed.

use crate::error::{Error, Result};
use crate::record::{ContentType, RecordLayer};
use crate::trace::{Dir, Side, TraceEvent, Tracer};
use crate::wire::alert::AlertDescription;
use crate::wire::messages::alert::{AlertMessage, ChangeCipherSpec};
use crate::wire::messages::{
    CertificateMsg, ClientHello, ClientKeyExchange, Finished, HandshakeMessage, HandshakeType,
    ServerHello, ServerHelloDone,
};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::ops::Range;

/// The largest handshake message toytls accepts (body length), `spec/limits.md`. Certificate
/// chains are the largest messages; 64 KiB holds chains of a dozen 4096-bit certificates.
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 16;

/// The most handshake bytes toytls accepts from a peer over a whole handshake (`spec/limits.md`):
/// one message of the largest size plus 16 KiB for all the others. A server's flight is one
/// certificate chain and a few small messages, a client's one hello and a few small messages, so
/// an honest peer stays far below it; a hostile one cannot make us hash and buffer more.
pub const MAX_HANDSHAKE_TOTAL: usize = MAX_HANDSHAKE_MESSAGE + (1 << 14);

/// How many renegotiation requests one connection refuses politely (warning `no_renegotiation`).
/// An honest peer asks once and accepts the answer; the request after this many is fatal
/// (`unexpected_message`), so a peer cannot keep us answering forever.
pub const MAX_REFUSED_RENEGOTIATIONS: u32 = 3;

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

/// A handshake message type the handshakes can ask [`Conn::read_message`] for.
pub trait Expected: Sized {
    const TYPE: HandshakeType;
    fn from_message(m: HandshakeMessage) -> Option<Self>;
}

macro_rules! expected {
    ($t:ty, $variant:ident) => {
        impl Expected for $t {
            const TYPE: HandshakeType = HandshakeType::$variant;
            fn from_message(m: HandshakeMessage) -> Option<Self> {
                match m {
                    HandshakeMessage::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}
expected!(ClientHello, ClientHello);
expected!(ServerHello, ServerHello);
expected!(ServerHelloDone, ServerHelloDone);
expected!(ClientKeyExchange, ClientKeyExchange);
expected!(Finished, Finished);
expected!(CertificateMsg, Certificate);

/// A connection: transport plus protocol state.
pub struct Conn<T> {
    pub io: T,
    pub rec: RecordLayer,
    pub tracer: Tracer,
    pub state: State,
    /// True once an alert other than close_notify was sent or received: the session must then
    /// never be resumed (RFC 5246 7.2.2). A transport that merely ends does not set it (RFC 5246
    /// 7.2.1: since TLS 1.1 an unclean close no longer forbids resumption).
    pub fatal_alert: bool,
    /// Handshake bytes received but not yet consumed as whole messages (RFC 5246 6.2.1: messages
    /// may span records, and several may share one).
    hs_buf: Vec<u8>,
    /// Handshake bytes received so far, checked against [`MAX_HANDSHAKE_TOTAL`].
    hs_received: usize,
    /// Our handshake messages not yet sent: one flight goes out together, coalesced into as few
    /// records as possible.
    flight: Vec<u8>,
    /// SHA-256 over every handshake message sent and received, for Finished (RFC 5246 7.4.9).
    transcript: Sha256,
    /// Application data received and not yet handed to the reader.
    app_pending: Range<usize>,
    /// Renegotiation requests refused so far (see [`MAX_REFUSED_RENEGOTIATIONS`]).
    renegotiations_refused: u32,
}

impl<T: Read + Write> Conn<T> {
    pub fn new(io: T, tracer: Tracer) -> Self {
        Conn {
            io,
            rec: RecordLayer::new(tracer.clone()),
            tracer,
            state: State::Open,
            fatal_alert: false,
            hs_buf: Vec::new(),
            hs_received: 0,
            flight: Vec::new(),
            transcript: Sha256::new(),
            app_pending: 0..0,
            renegotiations_refused: 0,
        }
    }

    /// How many renegotiation requests this connection has refused.
    pub fn renegotiations_refused(&self) -> u32 {
        self.renegotiations_refused
    }

    /// SHA-256 of the handshake messages so far (the transcript goes on).
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.transcript.clone().finalize().into()
    }

    /// Queues a handshake message of our current flight and adds it to the transcript.
    pub fn send(&mut self, msg: HandshakeMessage) -> Result<()> {
        let bytes = msg.to_bytes()?;
        self.transcript.update(&bytes);
        self.tracer.emit(|side| TraceEvent::Handshake {
            side,
            dir: Dir::Sent,
            name: msg.name().to_string(),
            fields: msg.fields(),
            raw: bytes.clone(),
        });
        self.flight.extend_from_slice(&bytes);
        Ok(())
    }

    /// Sends the queued flight.
    pub fn flush(&mut self) -> Result<()> {
        if !self.flight.is_empty() {
            let flight = std::mem::take(&mut self.flight);
            self.rec
                .write_records(&mut self.io, ContentType::Handshake, &flight)?;
        }
        Ok(())
    }

    /// Sends ChangeCipherSpec and switches our direction to its pending state (RFC 5246 7.1).
    pub fn send_change_cipher_spec(&mut self) -> Result<()> {
        self.flush()?;
        self.rec.write_records(
            &mut self.io,
            ContentType::ChangeCipherSpec,
            &ChangeCipherSpec::BYTES,
        )?;
        self.tracer.emit(|side| TraceEvent::ChangeCipherSpec {
            side,
            dir: Dir::Sent,
        });
        self.rec.change_write_state()
    }

    /// Waits for the peer's ChangeCipherSpec and switches its direction to its pending state.
    pub fn read_change_cipher_spec(&mut self) -> Result<()> {
        loop {
            // A handshake message may not straddle the key change (RFC 5246 7.1).
            if !self.hs_buf.is_empty() {
                return Err(Error::UnexpectedMessage {
                    expected: "ChangeCipherSpec",
                    got: "a handshake message before it".into(),
                });
            }
            let (typ, range) = self.rec.read_record(&mut self.io)?;
            match typ {
                ContentType::ChangeCipherSpec => {
                    let body = self.rec.plaintext(range);
                    ChangeCipherSpec::decode(&mut crate::wire::codec::Reader::new(body))?;
                    self.tracer.emit(|side| TraceEvent::ChangeCipherSpec {
                        side,
                        dir: Dir::Received,
                    });
                    return self.rec.change_read_state();
                }
                // A client ignores HelloRequests here too (see `skip_hello_requests`); anything
                // else, or a HelloRequest cut across records, is left in `hs_buf` and refused.
                ContentType::Handshake if self.tracer.side() == Side::Client => {
                    self.buffer_handshake_record(range)?;
                    self.skip_hello_requests()?;
                }
                other => return Err(self.unexpected_record("ChangeCipherSpec", other, range)),
            }
        }
    }

    /// Reads the next handshake message, which must be of type `M` (else `unexpected_message`),
    /// and adds it to the transcript.
    pub fn read_message<M: Expected>(&mut self) -> Result<M> {
        let expected = M::TYPE.name();
        let (typ, body_len) = self.next_handshake_bytes(expected)?;
        if typ != M::TYPE.code() {
            return Err(Error::UnexpectedMessage {
                expected,
                got: HandshakeType::name_of(typ),
            });
        }
        let total = 4 + body_len;
        let msg = HandshakeMessage::decode(typ, &self.hs_buf[4..total])?;
        self.transcript.update(&self.hs_buf[..total]);
        self.tracer.emit(|side| TraceEvent::Handshake {
            side,
            dir: Dir::Received,
            name: msg.name().to_string(),
            fields: msg.fields(),
            raw: self.hs_buf[..total].to_vec(),
        });
        self.hs_buf.drain(..total);
        M::from_message(msg).ok_or_else(|| Error::Internal("message type mismatch".into()))
    }

    /// Reads records until `hs_buf` holds one whole handshake message; returns its type and body
    /// length. The declared length is checked against the limit as soon as the header is in, and
    /// only bytes that arrived are ever buffered.
    fn next_handshake_bytes(&mut self, expected: &'static str) -> Result<(u8, usize)> {
        loop {
            if self.tracer.side() == Side::Client {
                self.skip_hello_requests()?;
            }
            if self.hs_buf.len() >= 4 {
                let typ = self.hs_buf[0];
                let len = u32::from_be_bytes([0, self.hs_buf[1], self.hs_buf[2], self.hs_buf[3]])
                    as usize;
                if len > MAX_HANDSHAKE_MESSAGE {
                    return Err(Error::decode(
                        "handshake message",
                        format!(
                            "{} of {len} bytes exceeds toytls's limit of {MAX_HANDSHAKE_MESSAGE}",
                            HandshakeType::name_of(typ)
                        ),
                    ));
                }
                if self.hs_buf.len() >= 4 + len {
                    return Ok((typ, len));
                }
            }
            let (typ, range) = self.rec.read_record(&mut self.io)?;
            match typ {
                ContentType::Handshake => self.buffer_handshake_record(range)?,
                other => return Err(self.unexpected_record(expected, other, range)),
            }
        }
    }

    /// Adds a handshake record's bytes to `hs_buf`. Counted before buffering: the total is
    /// refused as soon as the record that crosses it arrives, without keeping its bytes.
    fn buffer_handshake_record(&mut self, range: Range<usize>) -> Result<()> {
        self.hs_received += range.len();
        if self.hs_received > MAX_HANDSHAKE_TOTAL {
            return Err(Error::decode(
                "handshake",
                format!(
                    "the peer sent more than toytls's limit of {MAX_HANDSHAKE_TOTAL} handshake bytes"
                ),
            ));
        }
        let data = self.rec.plaintext(range);
        self.hs_buf.extend_from_slice(data);
        Ok(())
    }

    /// RFC 5246 7.4.1.1: a HelloRequest that reaches a client in the middle of a handshake "will
    /// be ignored", and it is never part of the Finished hash (7.4.9). Removes the whole ones at
    /// the front of `hs_buf`; one with a body is `decode_error`, refused from its header. They
    /// count towards [`MAX_HANDSHAKE_TOTAL`], so a server cannot keep a client skipping them.
    fn skip_hello_requests(&mut self) -> Result<()> {
        while self.hs_buf.len() >= 4 && self.hs_buf[0] == HandshakeType::HelloRequest.code() {
            if self.hs_buf[1..4] != [0, 0, 0] {
                return Err(Error::decode(
                    "HelloRequest",
                    "a body; it must be empty (RFC 5246 7.4.1.1)",
                ));
            }
            self.hs_buf.drain(..4);
            self.tracer
                .note(|| "HelloRequest during the handshake: ignored (RFC 5246 7.4.1.1)".into());
        }
        Ok(())
    }

    /// The error for a record of the wrong type; an alert from the peer becomes
    /// [`Error::PeerAlert`].
    fn unexpected_record(
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
        let a = AlertMessage::decode(&mut crate::wire::codec::Reader::new(body))?;
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

    /// Ends the connection because of `e`: sends its alert (once, fatal) unless it sends none or
    /// the connection already failed, and marks the connection failed. Returns `e`.
    pub fn fail(&mut self, e: Error) -> Error {
        if self.state != State::Failed {
            self.state = State::Failed;
            if let Some(d) = e.alert() {
                self.fatal_alert = true;
                // Best effort: the transport may already be gone.
                let _ = self.send_alert(AlertMessage::fatal(d));
            }
        }
        e
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
        if let Err(e) = self
            .rec
            .write_records(&mut self.io, ContentType::ApplicationData, data)
        {
            return Err(self.fail(e));
        }
        Ok(())
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
            let (typ, range) = match self.rec.read_record(&mut self.io) {
                Ok(r) => r,
                Err(e) => return Err(self.fail(e)),
            };
            match typ {
                ContentType::ApplicationData => self.app_pending = range,
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
    fn refuse_renegotiation(&mut self, range: Range<usize>) -> Result<()> {
        let data = self.rec.plaintext(range);
        self.hs_buf.extend_from_slice(data);
        let (request, name) = match self.tracer.side() {
            Side::Server => (HandshakeType::ClientHello, "ClientHello"),
            Side::Client => (HandshakeType::HelloRequest, "HelloRequest"),
        };
        // The buffer never holds more than one message under the limit plus one record: every
        // header is checked as soon as it is in, and complete messages are removed at once.
        while self.hs_buf.len() >= 4 {
            let typ = self.hs_buf[0];
            let len =
                u32::from_be_bytes([0, self.hs_buf[1], self.hs_buf[2], self.hs_buf[3]]) as usize;
            if typ != request.code() {
                return Err(Error::UnexpectedMessage {
                    expected: "application data or an alert",
                    got: format!("a {} after the handshake", HandshakeType::name_of(typ)),
                });
            }
            if request == HandshakeType::HelloRequest && len != 0 {
                return Err(Error::decode(
                    "HelloRequest",
                    format!("a body of {len} bytes; it must be empty (RFC 5246 7.4.1.1)"),
                ));
            }
            if len > MAX_HANDSHAKE_MESSAGE {
                return Err(Error::decode(
                    "handshake message",
                    format!(
                        "{name} of {len} bytes exceeds toytls's limit of {MAX_HANDSHAKE_MESSAGE}"
                    ),
                ));
            }
            if self.hs_buf.len() < 4 + len {
                // The rest of the message comes in later records.
                return Ok(());
            }
            let msg = HandshakeMessage::decode(typ, &self.hs_buf[4..4 + len])?;
            self.tracer.emit(|side| TraceEvent::Handshake {
                side,
                dir: Dir::Received,
                name: msg.name().to_string(),
                fields: msg.fields(),
                raw: self.hs_buf[..4 + len].to_vec(),
            });
            self.hs_buf.drain(..4 + len);
            if self.renegotiations_refused == MAX_REFUSED_RENEGOTIATIONS {
                return Err(Error::UnexpectedMessage {
                    expected: "application data or an alert",
                    got: format!(
                        "another {name} after {MAX_REFUSED_RENEGOTIATIONS} refused renegotiations"
                    ),
                });
            }
            self.renegotiations_refused += 1;
            self.tracer.note(|| {
                format!("{name} after the handshake: renegotiation refused with no_renegotiation")
            });
            // After our close_notify we send nothing more, not even this answer.
            if matches!(self.state, State::Open | State::PeerClosed) {
                self.send_alert(AlertMessage::no_renegotiation())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Side;
    use crate::wire::alert::AlertDescription;

    /// A transport that reads from `input` (then end of stream) and collects what is written.
    struct Scripted {
        input: std::io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn conn(input: Vec<u8>) -> Conn<Scripted> {
        let io = Scripted {
            input: std::io::Cursor::new(input),
            output: vec![],
        };
        Conn::new(io, Tracer::new(Side::Server, None))
    }

    /// Plaintext handshake records carrying `data`, 2^14 bytes at most each.
    fn records(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(crate::record::MAX_PLAINTEXT) {
            out.extend_from_slice(&[22, 3, 3]);
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    fn header(typ: u8, len: usize) -> Vec<u8> {
        let l = (len as u32).to_be_bytes();
        vec![typ, l[1], l[2], l[3]]
    }

    #[test]
    fn a_handshake_message_over_the_limit_is_refused_from_its_header_alone() {
        // Only the 4-byte header of a Certificate claiming MAX + 1 bytes arrives.
        let mut c = conn(records(&header(11, MAX_HANDSHAKE_MESSAGE + 1)));
        let e = c.read_message::<CertificateMsg>().unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e}");
        assert_eq!(e.alert(), Some(AlertDescription::DecodeError));
        // The largest 24-bit length too.
        let mut c = conn(records(&header(1, (1 << 24) - 1)));
        assert!(matches!(
            c.read_message::<ClientHello>(),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_reassembled_from_many_records() {
        // A Certificate of exactly MAX_HANDSHAKE_MESSAGE bytes: one certificate filling it.
        let cert_len = MAX_HANDSHAKE_MESSAGE - 6;
        let mut msg = header(11, MAX_HANDSHAKE_MESSAGE);
        msg.extend_from_slice(&((cert_len + 3) as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&(cert_len as u32).to_be_bytes()[1..]);
        msg.resize(4 + MAX_HANDSHAKE_MESSAGE, 0x30);
        let mut c = conn(records(&msg));
        let m = c.read_message::<CertificateMsg>().unwrap();
        assert_eq!(m.chain.len(), 1);
        assert_eq!(m.chain[0].len(), cert_len);
    }

    #[test]
    fn buffering_follows_the_bytes_that_arrived_not_the_declared_length() {
        // A ClientHello declaring 60000 bytes, of which 100 arrive before the transport ends.
        let mut data = header(1, 60_000);
        data.extend_from_slice(&[0u8; 100]);
        let mut c = conn(records(&data));
        assert!(matches!(
            c.read_message::<ClientHello>(),
            Err(Error::Truncated)
        ));
        assert_eq!(c.hs_buf.len(), 104);
        assert!(
            c.hs_buf.capacity() < 1024,
            "reserved {} bytes for 104 received",
            c.hs_buf.capacity()
        );
    }

    #[test]
    fn the_whole_handshake_is_limited_too() {
        // Two ClientKeyExchange messages of the largest size, back to back: the first is read
        // whole; the second is refused on the record that crosses MAX_HANDSHAKE_TOTAL, before it
        // is complete.
        let mut big = header(16, MAX_HANDSHAKE_MESSAGE);
        big.extend_from_slice(&((MAX_HANDSHAKE_MESSAGE - 2) as u16).to_be_bytes());
        big.resize(4 + MAX_HANDSHAKE_MESSAGE, 7);
        let mut data = big.clone();
        data.extend_from_slice(&big);
        let mut c = conn(records(&data));
        let first = c.read_message::<ClientKeyExchange>().unwrap();
        assert_eq!(first.encrypted_pre_master.len(), MAX_HANDSHAKE_MESSAGE - 2);
        let e = c.read_message::<ClientKeyExchange>().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("handshake bytes"), "{text}");
        assert_eq!(e.alert(), Some(AlertDescription::DecodeError));
        // Refused one record past the limit: the crossing record was counted, not kept.
        assert!(c.hs_received > MAX_HANDSHAKE_TOTAL);
        assert!(c.hs_received <= MAX_HANDSHAKE_TOTAL + crate::record::MAX_PLAINTEXT);
        assert!(c.hs_buf.len() < MAX_HANDSHAKE_MESSAGE);
    }
}
