//! Handshake messages out of records (RFC 5246 6.2.1): "multiple client messages of the same
//! ContentType MAY be coalesced into a single TLSPlaintext record, or a single message MAY be
//! fragmented across several records".
//!
//! The [`Joiner`] collects the plaintext of handshake records and hands out whole messages. It is
//! the one place a message's 4-byte header is parsed ([`Joiner::header`]), the one place its
//! declared length is checked against toytls's limit ([`Header::within_limit`], from the header
//! alone, before the body arrives), and the one place a received message is reported to the trace
//! ([`Joiner::take`]). It only ever buffers bytes that arrived: a header claiming 16 MiB costs
//! nothing until 16 MiB come, and is refused long before (`spec/limits.md`).
//!
//! Both the handshake ([`super::common::Handshake::read`]) and, after it, the refusal of
//! renegotiation ([`crate::conn`]) read through it: a renegotiating ClientHello may span records
//! too.

use crate::error::{Error, Result};
use crate::trace::{Dir, Note, TraceEvent, Tracer};
use crate::wire::messages::{HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType};

/// The largest handshake message toytls accepts (body length), `spec/limits.md`, except a
/// ClientHello ([`MAX_CLIENT_HELLO`]). Certificate chains are the largest messages; 64 KiB holds
/// chains of a dozen 4096-bit certificates.
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 16;

/// The largest ClientHello body the wire format allows (RFC 5246 7.4.1.2), which toytls accepts
/// whole, as OpenSSL does: version 2, random 32, session_id 1 + 32, cipher_suites 2 + 65,534,
/// compression_methods 1 + 255, extensions 2 + 65,535. Clients do send hellos over 64 KiB (padding,
/// thousands of extensions, large key shares); refusing them would refuse those clients.
pub const MAX_CLIENT_HELLO: usize = 2 + 32 + (1 + 32) + (2 + 65_534) + (1 + 255) + (2 + 65_535);

/// The most handshake bytes toytls accepts from a peer over a whole handshake (`spec/limits.md`):
/// the largest message, a ClientHello, with its header, plus 16 KiB for all the others. A
/// server's flight is one certificate chain and a few small messages, a client's one hello and a
/// few small messages, so an honest peer stays far below it; a hostile one cannot make us hash
/// and buffer more.
pub const MAX_HANDSHAKE_TOTAL: usize = HANDSHAKE_HEADER_LEN + MAX_CLIENT_HELLO + (1 << 14);

/// The largest body toytls accepts for a handshake message of type `typ`.
pub fn max_body(typ: u8) -> usize {
    if typ == HandshakeType::ClientHello.code() {
        MAX_CLIENT_HELLO
    } else {
        MAX_HANDSHAKE_MESSAGE
    }
}

/// The header of a handshake message (RFC 5246 7.4): `HandshakeType msg_type; uint24 length;`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The type byte, as received (it may be one toytls does not know).
    pub typ: u8,
    /// The length of the body that follows.
    pub len: usize,
}

impl Header {
    /// The header at the front of `bytes`, once its four bytes are there. The decryptor of
    /// recorded captures ([`crate::capture::decrypt`]) reads messages with it too.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let h = bytes.get(..HANDSHAKE_HEADER_LEN)?;
        Some(Header {
            typ: h[0],
            len: u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize,
        })
    }

    /// Refuses a message longer than its type allows ([`max_body`]: [`MAX_CLIENT_HELLO`] for a
    /// ClientHello, [`MAX_HANDSHAKE_MESSAGE`] for the others), from its header alone:
    /// `decode_error`.
    pub fn within_limit(self) -> Result<Self> {
        let max = max_body(self.typ);
        if self.len > max {
            return Err(Error::decode(
                "handshake message",
                format!(
                    "{} of {} bytes exceeds toytls's limit of {max}",
                    HandshakeType::name_of(self.typ),
                    self.len
                ),
            ));
        }
        Ok(self)
    }

    /// RFC 5246 7.4.1.1: `struct { } HelloRequest;`. One with a body is `decode_error`, refused
    /// from its header.
    pub fn empty_hello_request(self) -> Result<Self> {
        if self.len != 0 {
            return Err(Error::decode(
                "HelloRequest",
                format!(
                    "a body of {} bytes; it must be empty (RFC 5246 7.4.1.1)",
                    self.len
                ),
            ));
        }
        Ok(self)
    }
}

/// Handshake bytes received but not yet taken as whole messages.
#[derive(Default)]
pub struct Joiner {
    buf: Vec<u8>,
    /// Handshake bytes received during the handshake, checked against [`MAX_HANDSHAKE_TOTAL`].
    received: usize,
}

impl Joiner {
    /// Adds a handshake record's plaintext, received during the handshake. Counted before it is
    /// buffered: the total is refused as soon as the record that crosses it arrives, without
    /// keeping its bytes.
    pub fn push(&mut self, data: &[u8]) -> Result<()> {
        self.received += data.len();
        if self.received > MAX_HANDSHAKE_TOTAL {
            return Err(Error::decode(
                "handshake",
                format!(
                    "the peer sent more than toytls's limit of {MAX_HANDSHAKE_TOTAL} handshake bytes"
                ),
            ));
        }
        self.push_after_handshake(data);
        Ok(())
    }

    /// Adds a handshake record's plaintext received after the handshake. The total does not
    /// apply there: each message is still limited, and [`crate::conn`] refuses only a few.
    pub fn push_after_handshake(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// True if no partial message is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The header of the message at the front, once its four bytes are in.
    pub fn header(&self) -> Option<Header> {
        Header::parse(&self.buf)
    }

    /// True once the whole message `h` (the one at the front) is in.
    pub fn holds(&self, h: Header) -> bool {
        self.buf.len() >= HANDSHAKE_HEADER_LEN + h.len
    }

    /// Removes the whole message `h` at the front and decodes it. Its bytes, header included, go
    /// to `bytes` first (the handshake adds them to its transcript), then the message is reported
    /// to the trace as received.
    pub fn take(
        &mut self,
        h: Header,
        tracer: &Tracer,
        bytes: impl FnOnce(&[u8]),
    ) -> Result<HandshakeMessage> {
        let total = HANDSHAKE_HEADER_LEN + h.len;
        let raw = &self.buf[..total];
        let msg = HandshakeMessage::decode(h.typ, &raw[HANDSHAKE_HEADER_LEN..])?;
        bytes(raw);
        tracer.emit(|side| TraceEvent::Handshake {
            side,
            dir: Dir::Received,
            message: msg.typ(),
            fields: msg.fields(),
            raw: raw.to_vec(),
        });
        self.buf.drain(..total);
        Ok(msg)
    }

    /// RFC 5246 7.4.1.1: a HelloRequest that reaches a client in the middle of a handshake "will
    /// be ignored", and it is never part of the Finished hash (7.4.9). Removes the whole ones at
    /// the front. They count towards [`MAX_HANDSHAKE_TOTAL`], so a server cannot keep a client
    /// skipping them.
    pub fn skip_hello_requests(&mut self, tracer: &Tracer) -> Result<()> {
        while let Some(h) = self.header() {
            if h.typ != HandshakeType::HelloRequest.code() {
                break;
            }
            h.empty_hello_request()?;
            self.buf.drain(..HANDSHAKE_HEADER_LEN);
            tracer.note(|| Note::HelloRequestIgnored);
        }
        Ok(())
    }

    /// Bytes buffered now (for the tests of the limits).
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> &Vec<u8> {
        &self.buf
    }

    /// Bytes received during the handshake so far (for the tests of the limits).
    #[cfg(test)]
    pub(crate) fn received(&self) -> usize {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Side;
    use crate::conn::Conn;
    use crate::handshake::common::Handshake;
    use crate::wire::alert::AlertDescription;
    use crate::wire::messages::{CertificateMsg, ClientHello, ClientKeyExchange};
    use std::io::{Read, Write};

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
        Conn::new(io, Side::Server, None)
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
        let e = Handshake::new(&mut c).read::<CertificateMsg>().unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e}");
        assert_eq!(e.alert(), Some(AlertDescription::DecodeError));
        // The largest 24-bit length too.
        let mut c = conn(records(&header(1, (1 << 24) - 1)));
        assert!(matches!(
            Handshake::new(&mut c).read::<ClientHello>(),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn a_client_hello_may_be_as_large_as_the_wire_format_allows_and_no_larger() {
        // The header of a ClientHello of MAX_CLIENT_HELLO bytes is accepted: the server waits
        // for the body (here the transport ends first). One byte more is refused from the header.
        let mut c = conn(records(&header(1, MAX_CLIENT_HELLO)));
        let e = Handshake::new(&mut c).read::<ClientHello>().unwrap_err();
        assert!(matches!(e, Error::Truncated), "{e}");
        let mut c = conn(records(&header(1, MAX_CLIENT_HELLO + 1)));
        let e = Handshake::new(&mut c).read::<ClientHello>().unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e}");
        assert!(e.to_string().contains("131396"), "{e}");
        // Every other type keeps the 64 KiB limit.
        assert_eq!(max_body(11), MAX_HANDSHAKE_MESSAGE);
        assert_eq!(max_body(16), MAX_HANDSHAKE_MESSAGE);
        assert_eq!(MAX_CLIENT_HELLO, 131_396);
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
        let m = Handshake::new(&mut c).read::<CertificateMsg>().unwrap();
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
            Handshake::new(&mut c).read::<ClientHello>(),
            Err(Error::Truncated)
        ));
        let buf = c.joiner.buffered();
        assert_eq!(buf.len(), 104);
        assert!(
            buf.capacity() < 1024,
            "reserved {} bytes for 104 received",
            buf.capacity()
        );
    }

    #[test]
    fn the_whole_handshake_is_limited_too() {
        // Three ClientKeyExchange messages of the largest size, back to back: the first two are
        // read whole; the third is refused on the record that crosses MAX_HANDSHAKE_TOTAL,
        // before it is complete.
        let mut big = header(16, MAX_HANDSHAKE_MESSAGE);
        big.extend_from_slice(&((MAX_HANDSHAKE_MESSAGE - 2) as u16).to_be_bytes());
        big.resize(4 + MAX_HANDSHAKE_MESSAGE, 7);
        let data = [big.clone(), big.clone(), big].concat();
        let mut c = conn(records(&data));
        let mut hs = Handshake::new(&mut c);
        for _ in 0..2 {
            let m = hs.read::<ClientKeyExchange>().unwrap();
            assert_eq!(m.encrypted_pre_master.len(), MAX_HANDSHAKE_MESSAGE - 2);
        }
        let e = hs.read::<ClientKeyExchange>().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("handshake bytes"), "{text}");
        assert_eq!(e.alert(), Some(AlertDescription::DecodeError));
        // Refused one record past the limit: the crossing record was counted, not kept.
        assert!(c.joiner.received() > MAX_HANDSHAKE_TOTAL);
        assert!(c.joiner.received() <= MAX_HANDSHAKE_TOTAL + crate::record::MAX_PLAINTEXT);
        assert!(c.joiner.buffered().len() < MAX_HANDSHAKE_MESSAGE);
    }
}
