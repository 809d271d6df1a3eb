//! The record layer (RFC 5246 6): framing, limits, sequence numbers, and the connection states
//! that protect records.
//!
//! Every byte of a TLS connection travels in records:
//!
//! ```text
//! struct { ContentType type; ProtocolVersion version; uint16 length; opaque fragment[length]; }
//! ```
//!
//! The record layer knows nothing of handshakes: it reads one record, checks its header against the
//! limits, opens it with the direction's [`RecordProtection`] and the direction's sequence number,
//! and hands back the plaintext. Writing is the reverse, splitting data into records of at most
//! 2^14 bytes of plaintext. Both directions own one buffer each, allocated once per connection,
//! and every record is protected in place: the hot path allocates nothing.
//!
//! RFC 5246 6.1's connection states: each direction has a *current* state, which protects its
//! records now (none, before the first ChangeCipherSpec), and a *pending* one. The handshake makes
//! the pending states when it derives the keys ([`RecordLayer::prepare`]); a ChangeCipherSpec sent
//! or received only makes one direction's pending state current, with its sequence number back to
//! 0 ([`RecordLayer::change_write_state`], [`RecordLayer::change_read_state`]).
//!
//! How each suite protects a fragment lives in one file per suite: [`toy_ctr_hmac`] (our own
//! suite) and [`aes_gcm`]; [`suite`] holds one row per suite.

use crate::error::{Error, Result};
use crate::record::suite::RecordProtection;
use crate::trace::{Dir, TraceEvent, Tracer};
use crate::wire::code_space;
use crate::wire::messages::ProtocolVersion;
use std::io::{ErrorKind, Read, Write};
use std::ops::Range;

pub mod aes_gcm;
pub mod suite;
pub mod toy_ctr_hmac;

/// RFC 5246 6.2.1: `TLSPlaintext.length` MUST NOT exceed 2^14.
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// RFC 5246 6.2.3: `TLSCiphertext.length` MUST NOT exceed 2^14 + 2048.
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 2048;
/// type (1) + version (2) + length (2).
pub const HEADER_LEN: usize = 5;

code_space! {
    /// `ContentType` (RFC 5246 6.2.1): what a record carries.
    pub enum ContentType: u8 {
        ChangeCipherSpec = 20, "change_cipher_spec";
        Alert = 21, "alert";
        Handshake = 22, "handshake";
        ApplicationData = 23, "application_data";
    }
}

/// What a record's protection authenticates besides its fragment: its sequence number and the
/// type and version of its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// RFC 5246 6.1: the record's number in its direction; never on the wire.
    pub seq: u64,
    /// The content type byte of the header.
    pub content_type: u8,
    /// The version bytes of the header.
    pub version: [u8; 2],
}

impl RecordHeader {
    /// `seq_num (8) || type (1) || version (2) || length (2)`: RFC 5246 6.2.3.3's
    /// `additional_data`, where `length` is the plaintext's, and the start of 6.2.3.1's MAC input.
    pub fn additional_data(&self, length: usize) -> [u8; 13] {
        let mut ad = [0u8; 13];
        ad[..8].copy_from_slice(&self.seq.to_be_bytes());
        ad[8] = self.content_type;
        ad[9..11].copy_from_slice(&self.version);
        ad[11..13].copy_from_slice(&(length as u16).to_be_bytes());
        ad
    }
}

/// One direction's connection states (RFC 5246 6.1).
#[derive(Default)]
struct Direction {
    /// What protects this direction's records now; `None` before the first ChangeCipherSpec
    /// (`TLSPlaintext`, RFC 5246 6.2.1).
    current: Option<RecordProtection>,
    /// What the next ChangeCipherSpec switches to, once the handshake has derived the keys.
    pending: Option<RecordProtection>,
    /// RFC 5246 6.1: the next record's sequence number; 0 after each ChangeCipherSpec.
    seq: u64,
}

impl Direction {
    /// The sequence number for the next record. RFC 5246 6.1: "Sequence numbers ... MUST NOT
    /// wrap"; toytls refuses to use the last value rather than wrap (`spec/limits.md`).
    fn take_seq(&mut self) -> Result<u64> {
        if self.seq == u64::MAX {
            return Err(Error::Internal(
                "sequence number exhausted; the connection must be closed".into(),
            ));
        }
        let s = self.seq;
        self.seq += 1;
        Ok(s)
    }

    /// RFC 5246 7.1: the pending state becomes current and numbering starts again at 0. `None`
    /// if there is no pending state (no keys have been agreed).
    fn change_cipher_spec(&mut self) -> Option<()> {
        self.current = Some(self.pending.take()?);
        self.seq = 0;
        Some(())
    }

    /// Bytes before and after the plaintext in a fragment under the current state.
    fn overhead(&self) -> (usize, usize) {
        match &self.current {
            Some(p) => (p.prefix_len(), p.tag_len()),
            None => (0, 0),
        }
    }
}

/// Reads and writes records on a transport.
pub struct RecordLayer {
    read: Direction,
    write: Direction,
    /// The version written in record headers and required in received ones once known.
    version: ProtocolVersion,
    /// False until the peer's version is known: the first ClientHello may come in a record
    /// stamped {3, 1} or {3, 0} (RFC 5246 Appendix E.1).
    version_fixed: bool,
    rbuf: Box<[u8]>,
    wbuf: Box<[u8]>,
    tracer: Tracer,
}

impl RecordLayer {
    pub fn new(tracer: Tracer) -> Self {
        RecordLayer {
            read: Direction::default(),
            write: Direction::default(),
            version: ProtocolVersion::TLS12,
            version_fixed: false,
            rbuf: vec![0u8; HEADER_LEN + MAX_CIPHERTEXT].into_boxed_slice(),
            wbuf: vec![0u8; HEADER_LEN + MAX_CIPHERTEXT].into_boxed_slice(),
            tracer,
        }
    }

    /// From now on every received record must carry exactly this version.
    pub fn fix_version(&mut self) {
        self.version_fixed = true;
    }

    /// RFC 5246 6.1: the pending states, made when the handshake derives the keys; the next
    /// ChangeCipherSpec of each direction switches it to them.
    pub fn prepare(&mut self, read: RecordProtection, write: RecordProtection) {
        self.read.pending = Some(read);
        self.write.pending = Some(write);
    }

    /// Our ChangeCipherSpec went out: protect what follows with the pending write state,
    /// starting again at sequence 0.
    pub fn change_write_state(&mut self) -> Result<()> {
        self.write.change_cipher_spec().ok_or_else(|| {
            Error::Internal("ChangeCipherSpec sent before the keys were derived".into())
        })
    }

    /// The peer's ChangeCipherSpec arrived: open what follows with the pending read state,
    /// starting again at sequence 0. Without one (no keys agreed yet) the ChangeCipherSpec is out
    /// of place: `unexpected_message`.
    pub fn change_read_state(&mut self) -> Result<()> {
        self.read
            .change_cipher_spec()
            .ok_or_else(|| Error::UnexpectedMessage {
                expected: "a handshake message",
                got: "ChangeCipherSpec before the keys were agreed".into(),
            })
    }

    /// The plaintext of the last record read, at `range`.
    pub fn plaintext(&self, range: Range<usize>) -> &[u8] {
        &self.rbuf[range]
    }

    /// Reads, checks and opens the next record. Returns its type and where its plaintext lies
    /// (see [`plaintext`](Self::plaintext)). A transport that ends, even between records, is
    /// [`Error::Truncated`]: only close_notify ends a connection cleanly, and that is a record the
    /// caller sees.
    pub fn read_record(&mut self, io: &mut impl Read) -> Result<(ContentType, Range<usize>)> {
        read_full(io, &mut self.rbuf[..HEADER_LEN])?;
        let typ_byte = self.rbuf[0];
        let version = [self.rbuf[1], self.rbuf[2]];
        let len = u16::from_be_bytes([self.rbuf[3], self.rbuf[4]]) as usize;
        let typ = ContentType::from_code(typ_byte).ok_or_else(|| Error::UnexpectedMessage {
            expected: "a record of type handshake, alert, change_cipher_spec or application_data",
            got: format!("a record of type {typ_byte}"),
        })?;
        // RFC 5246 E.1: any {03, xx} until the peer's version is known.
        if version[0] != ProtocolVersion::TLS12.to_bytes()[0]
            || (self.version_fixed && version != self.version.to_bytes())
        {
            return Err(Error::ProtocolVersion {
                offered: u16::from_be_bytes(version),
            });
        }
        // Check the length before reading the body, so a hostile length costs nothing.
        let protected = self.read.current.is_some();
        let max = if protected {
            MAX_CIPHERTEXT
        } else {
            MAX_PLAINTEXT
        };
        if len > max {
            return Err(Error::RecordOverflow { len, max });
        }
        read_full(io, &mut self.rbuf[HEADER_LEN..HEADER_LEN + len])?;
        let seq = self.read.take_seq()?;
        if self.tracer.enabled() {
            let wire = self.rbuf[..HEADER_LEN + len].to_vec();
            // The plaintext length is reported after opening; the wire bytes are what arrived.
            let (prefix, tag) = self.read.overhead();
            self.tracer.emit(|side| TraceEvent::Record {
                side,
                dir: Dir::Received,
                content_type: typ_byte,
                seq: protected.then_some(seq),
                plaintext_len: len.saturating_sub(prefix + tag),
                wire,
            });
        }
        let header = RecordHeader {
            seq,
            content_type: typ_byte,
            version,
        };
        let fragment = &mut self.rbuf[HEADER_LEN..HEADER_LEN + len];
        let inner = match &mut self.read.current {
            Some(p) => p.open(&header, fragment)?,
            None => 0..len,
        };
        let pt_len = inner.len();
        if pt_len > MAX_PLAINTEXT {
            return Err(Error::RecordOverflow {
                len: pt_len,
                max: MAX_PLAINTEXT,
            });
        }
        // RFC 5246 6.2.1: zero-length fragments of handshake, alert or ChangeCipherSpec records
        // MUST NOT be sent; empty application data is allowed (and carries nothing).
        if pt_len == 0 && typ != ContentType::ApplicationData {
            return Err(Error::decode(typ.name(), "empty record"));
        }
        Ok((typ, HEADER_LEN + inner.start..HEADER_LEN + inner.end))
    }

    /// Sends `data` as records of type `typ`, each holding at most 2^14 bytes of plaintext (so a
    /// large write becomes full records and one remainder).
    pub fn write_records(
        &mut self,
        io: &mut impl Write,
        typ: ContentType,
        data: &[u8],
    ) -> Result<()> {
        for chunk in data.chunks(MAX_PLAINTEXT) {
            self.write_one(io, typ, chunk)?;
        }
        io.flush()?;
        Ok(())
    }

    fn write_one(&mut self, io: &mut impl Write, typ: ContentType, chunk: &[u8]) -> Result<()> {
        let (prefix, tag) = self.write.overhead();
        let frag_len = prefix + chunk.len() + tag;
        let protected = self.write.current.is_some();
        let seq = self.write.take_seq()?;
        let header = RecordHeader {
            seq,
            content_type: typ.code(),
            version: self.version.to_bytes(),
        };
        let buf = &mut self.wbuf[..HEADER_LEN + frag_len];
        buf[0] = header.content_type;
        buf[1..3].copy_from_slice(&header.version);
        buf[3..5].copy_from_slice(&(frag_len as u16).to_be_bytes());
        buf[HEADER_LEN + prefix..HEADER_LEN + prefix + chunk.len()].copy_from_slice(chunk);
        if let Some(p) = &mut self.write.current {
            p.seal(&header, &mut buf[HEADER_LEN..]);
        }
        self.tracer.emit(|side| TraceEvent::Record {
            side,
            dir: Dir::Sent,
            content_type: header.content_type,
            seq: protected.then_some(seq),
            plaintext_len: chunk.len(),
            wire: buf.to_vec(),
        });
        io.write_all(buf)?;
        Ok(())
    }
}

/// `read_exact` that reports the end of the transport as truncation.
fn read_full(io: &mut impl Read, buf: &mut [u8]) -> Result<()> {
    match io.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(Error::Truncated),
        Err(e) => Err(Error::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Side;
    use crate::record::suite::{DirectionKeys, lookup};
    use crate::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;

    fn layer() -> RecordLayer {
        RecordLayer::new(Tracer::new(Side::Client, None))
    }

    fn toy() -> RecordProtection {
        let info = lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
        let keys = DirectionKeys {
            mac_key: &[9; 32],
            enc_key: &[8; 16],
            iv: &[7; 4],
        };
        RecordProtection::new(info, &keys).unwrap()
    }

    /// Both directions switched to the toy suite under the same keys.
    fn protected() -> RecordLayer {
        let mut l = layer();
        l.prepare(toy(), toy());
        l.change_write_state().unwrap();
        l.change_read_state().unwrap();
        l
    }

    /// RFC 5246 6.1: sequence numbers "MUST NOT wrap". Both directions use the last value
    /// 2^64 - 2 and then refuse to go on (spec/limits.md), rather than reuse 0 with the same keys.
    #[test]
    fn sequence_numbers_never_wrap_rfc_5246_6_1() {
        let mut w = protected();
        w.write.seq = u64::MAX - 1;
        let mut out = Vec::new();
        w.write_records(&mut out, ContentType::ApplicationData, b"last")
            .unwrap();
        let sent = out.len();
        let err = w
            .write_records(&mut out, ContentType::ApplicationData, b"wrapped")
            .unwrap_err();
        assert!(
            err.to_string().contains("sequence number exhausted"),
            "{err}"
        );
        assert_eq!(
            out.len(),
            sent,
            "nothing more is written once the numbers are used up"
        );

        // The reader at the same point opens the record sealed under 2^64 - 2, then refuses the
        // next record before trying to open it.
        let mut r = protected();
        r.read.seq = u64::MAX - 1;
        let mut again = out.clone();
        again.extend_from_slice(&out);
        let mut input = &again[..];
        let (t, range) = r.read_record(&mut input).unwrap();
        assert_eq!(t, ContentType::ApplicationData);
        assert_eq!(r.plaintext(range), b"last");
        let err = r.read_record(&mut input).unwrap_err();
        assert!(
            err.to_string().contains("sequence number exhausted"),
            "{err}"
        );

        // A fresh ChangeCipherSpec (new keys) starts again at 0.
        w.prepare(toy(), toy());
        w.change_write_state().unwrap();
        assert_eq!(w.write.seq, 0);
    }

    #[test]
    fn plaintext_records_are_framed_as_rfc_5246_6_2_1() {
        let mut l = layer();
        let mut out = Vec::new();
        l.write_records(&mut out, ContentType::Handshake, b"abc")
            .unwrap();
        assert_eq!(out, [22, 3, 3, 0, 3, b'a', b'b', b'c']);
        let mut r = layer();
        let (t, range) = r.read_record(&mut &out[..]).unwrap();
        assert_eq!(t, ContentType::Handshake);
        assert_eq!(r.plaintext(range), b"abc");
    }

    #[test]
    fn large_writes_become_full_records() {
        let mut l = protected();
        let data = vec![0xAB; 2 * MAX_PLAINTEXT + 5];
        let mut out = Vec::new();
        l.write_records(&mut out, ContentType::ApplicationData, &data)
            .unwrap();
        let mut r = protected();
        let mut input = &out[..];
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        while !input.is_empty() {
            let (t, range) = r.read_record(&mut input).unwrap();
            assert_eq!(t, ContentType::ApplicationData);
            sizes.push(range.len());
            got.extend_from_slice(r.plaintext(range));
        }
        assert_eq!(sizes, vec![MAX_PLAINTEXT, MAX_PLAINTEXT, 5]);
        assert_eq!(got, data);
    }

    #[test]
    fn plaintext_over_2_14_is_record_overflow() {
        let mut rec = vec![22, 3, 3];
        rec.extend_from_slice(&((MAX_PLAINTEXT + 1) as u16).to_be_bytes());
        rec.resize(HEADER_LEN + MAX_PLAINTEXT + 1, 1);
        assert!(matches!(
            layer().read_record(&mut &rec[..]),
            Err(Error::RecordOverflow { .. })
        ));
        // Exactly 2^14 is fine.
        let mut rec = vec![22, 3, 3];
        rec.extend_from_slice(&(MAX_PLAINTEXT as u16).to_be_bytes());
        rec.resize(HEADER_LEN + MAX_PLAINTEXT, 1);
        assert!(layer().read_record(&mut &rec[..]).is_ok());
    }

    #[test]
    fn ciphertext_over_2_14_plus_2048_is_record_overflow_before_reading_it() {
        let mut r = protected();
        // Only the header is present: the length alone must be refused.
        let hdr = [23, 3, 3, 0x48, 0x01]; // 2^14 + 2048 + 1
        assert!(matches!(
            r.read_record(&mut &hdr[..]),
            Err(Error::RecordOverflow { len: 18433, .. })
        ));
    }

    #[test]
    fn a_protected_record_that_opens_to_more_than_2_14_bytes_is_record_overflow() {
        // RFC 5246 6.2.3 / 7.2.2: record_overflow also when a record decrypts to more than the
        // plaintext limit. Only a peer holding the keys can make one (the MAC is checked first), so
        // seal it by hand, bypassing write_records' splitting.
        let mut p = toy();
        let n = MAX_PLAINTEXT + 1;
        let frag_len = n + p.tag_len();
        assert!(frag_len <= MAX_CIPHERTEXT);
        let mut rec = vec![23, 3, 3];
        rec.extend_from_slice(&(frag_len as u16).to_be_bytes());
        rec.resize(HEADER_LEN + frag_len, 0x5A);
        let header = RecordHeader {
            seq: 0,
            content_type: 23,
            version: [3, 3],
        };
        p.seal(&header, &mut rec[HEADER_LEN..]);
        let mut r = protected();
        let e = r.read_record(&mut &rec[..]).unwrap_err();
        assert!(
            matches!(e, Error::RecordOverflow { len, max: MAX_PLAINTEXT } if len == n),
            "{e}"
        );
        assert_eq!(
            e.alert(),
            Some(crate::wire::alert::AlertDescription::RecordOverflow)
        );
    }

    #[test]
    fn empty_handshake_alert_and_ccs_records_are_rejected() {
        for t in [20u8, 21, 22] {
            let rec = [t, 3, 3, 0, 0];
            let e = layer().read_record(&mut &rec[..]).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{t}: {e}");
        }
        let rec = [23u8, 3, 3, 0, 0];
        let (t, range) = layer().read_record(&mut &rec[..]).unwrap();
        assert_eq!((t, range.len()), (ContentType::ApplicationData, 0));
    }

    #[test]
    fn unknown_types_versions_and_eof_are_errors() {
        let e = layer()
            .read_record(&mut &[24u8, 3, 3, 0, 1, 0][..])
            .unwrap_err();
        assert!(matches!(e, Error::UnexpectedMessage { .. }));
        let e = layer()
            .read_record(&mut &[22u8, 2, 0, 0, 1, 0][..])
            .unwrap_err();
        assert!(matches!(e, Error::ProtocolVersion { offered: 0x0200 }));
        let mut l = layer();
        l.fix_version();
        let e = l.read_record(&mut &[22u8, 3, 1, 0, 1, 0][..]).unwrap_err();
        assert!(matches!(e, Error::ProtocolVersion { offered: 0x0301 }));
        // Before the version is fixed a {3,1} record (an old ClientHello framing) is accepted.
        assert!(layer().read_record(&mut &[22u8, 3, 1, 0, 1, 0][..]).is_ok());
        for cut in 0..6 {
            let e = layer()
                .read_record(&mut &[22u8, 3, 3, 0, 1, 0][..cut])
                .unwrap_err();
            assert!(matches!(e, Error::Truncated));
        }
    }

    /// RFC 5246 6.1: keys derived by the handshake wait in the pending state; only a
    /// ChangeCipherSpec makes them current, one direction at a time. A ChangeCipherSpec with no
    /// pending state (before any keys) is refused.
    #[test]
    fn change_cipher_spec_switches_to_the_pending_state_and_only_then() {
        let mut l = layer();
        assert!(matches!(
            l.change_read_state(),
            Err(Error::UnexpectedMessage { .. })
        ));
        assert!(matches!(l.change_write_state(), Err(Error::Internal(_))));
        l.prepare(toy(), toy());
        // Prepared but not switched: records still go out as plaintext.
        let mut out = Vec::new();
        l.write_records(&mut out, ContentType::Handshake, b"abc")
            .unwrap();
        assert_eq!(out, [22, 3, 3, 0, 3, b'a', b'b', b'c']);
        l.change_write_state().unwrap();
        out.clear();
        l.write_records(&mut out, ContentType::Handshake, b"abc")
            .unwrap();
        assert_eq!(out.len(), HEADER_LEN + 3 + 32, "sealed under the toy suite");
        // The read side switched on its own, and each pending state is used once.
        let mut r = layer();
        r.prepare(toy(), toy());
        r.change_read_state().unwrap();
        let (_, range) = r.read_record(&mut &out[..]).unwrap();
        assert_eq!(r.plaintext(range), b"abc");
        assert!(r.change_read_state().is_err());
        assert!(l.change_write_state().is_err());
    }

    #[test]
    fn replayed_or_reordered_records_fail_the_mac() {
        let mut w = protected();
        let mut a = Vec::new();
        w.write_records(&mut a, ContentType::ApplicationData, b"one")
            .unwrap();
        let mut b = Vec::new();
        w.write_records(&mut b, ContentType::ApplicationData, b"two")
            .unwrap();
        // Reordered: b first.
        let mut r = protected();
        assert!(matches!(
            r.read_record(&mut &b[..]),
            Err(Error::BadRecordMac)
        ));
        // Replayed: a twice.
        let mut r = protected();
        r.read_record(&mut &a[..]).unwrap();
        assert!(matches!(
            r.read_record(&mut &a[..]),
            Err(Error::BadRecordMac)
        ));
    }

    #[test]
    fn protected_records_of_every_size_near_the_limit_round_trip() {
        for n in [
            0,
            1,
            15,
            16,
            17,
            MAX_PLAINTEXT - 1,
            MAX_PLAINTEXT,
            MAX_PLAINTEXT + 1,
        ] {
            let mut w = protected();
            let mut r = protected();
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut out = Vec::new();
            w.write_records(&mut out, ContentType::ApplicationData, &data)
                .unwrap();
            let mut input = &out[..];
            let mut got = Vec::new();
            while !input.is_empty() {
                let (_, range) = r.read_record(&mut input).unwrap();
                got.extend_from_slice(r.plaintext(range));
            }
            assert_eq!(got, data, "size {n}");
        }
    }
}
