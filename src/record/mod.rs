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
//! 2^14 bytes of plaintext. Every record is protected in place in one of two buffers: the read
//! buffer takes up to two records per read system call, the write buffer up to [`WRITE_BATCH`]
//! records per write. Both are allocated when bytes come or go and let go when the connection
//! goes quiet, so a busy connection allocates nothing per record and an idle one holds neither.
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
use crate::trace::{Dir, RecordLayout, TraceEvent, Tracer};
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
    /// The header of record number `seq` of type `content_type`, stamped `version`.
    pub fn new(seq: u64, content_type: u8, version: [u8; 2]) -> Self {
        RecordHeader {
            seq,
            content_type,
            version,
        }
    }

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
    /// Bytes read from the transport: records are opened in place at `rstart`, and
    /// `rstart..rend` is what has arrived and not yet been taken. Empty (no allocation) while the
    /// connection waits for its peer with nothing buffered (see [`READ_BUFFER`]).
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    /// The last read from the transport returned less than there was room for: the peer has sent
    /// nothing more for now, so the next wait may be a long one.
    drained: bool,
    /// Records being sealed for one write system call; empty between bursts of writing.
    wbuf: Vec<u8>,
    /// `wbuf[..queued]` holds records sealed by [`queue_records`](Self::queue_records) and not
    /// yet written: they go out in front of the next write, in the same system call.
    queued: usize,
    tracer: Tracer,
}

/// The read buffer: room for two whole records, so that one read system call brings in up to
/// two records (plus the start of a third) instead of a header and then a body. Let go whenever
/// everything received has been taken and the peer has gone quiet, and made again when bytes
/// arrive: this size when more arrives than a first small read takes; otherwise just as large as
/// what came (a handshake flight, a small request), doubling while a record needs more. An idle
/// connection holds no record buffer at all (issue 13 goal 6), and what a length field claims
/// never decides what is allocated.
pub const READ_BUFFER: usize = 2 * (HEADER_LEN + MAX_CIPHERTEXT);

/// Records sealed into one write system call at most (several records per write: one call per
/// 64 KiB of plaintext in bulk instead of one per record).
pub const WRITE_BATCH: usize = 4;

/// What a connection waiting with nothing buffered reads into first, on the stack: enough for a
/// small record whole, and no heap buffer held while the peer is silent.
const FIRST_READ: usize = 512;

impl RecordLayer {
    pub fn new(tracer: Tracer) -> Self {
        RecordLayer {
            read: Direction::default(),
            write: Direction::default(),
            version: ProtocolVersion::TLS12,
            version_fixed: false,
            // Allocated when bytes arrive, as small as they are (see `fill`).
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            drained: false,
            wbuf: Vec::new(),
            queued: 0,
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

    /// The attack lab's switch (see [`RecordCipher::insecure_skip_mac_check`]): received records
    /// are decrypted without their MAC being checked from now on. False if nothing protects the
    /// read direction yet or its suite cannot.
    ///
    /// [`RecordCipher::insecure_skip_mac_check`]: suite::RecordCipher::insecure_skip_mac_check
    pub(crate) fn insecure_skip_read_mac_check(&mut self, lab: suite::InsecureLabOnly) -> bool {
        self.read
            .current
            .as_mut()
            .is_some_and(|p| p.insecure_skip_mac_check(lab))
    }

    /// The plaintext of the last record read, at `range` (valid until the next
    /// [`read_record`](Self::read_record)).
    pub fn plaintext(&self, range: Range<usize>) -> &[u8] {
        &self.rbuf[range]
    }

    /// True if a whole record has already arrived and waits in the read buffer, so that the next
    /// [`read_record`](Self::read_record) returns without reading the transport.
    pub fn has_buffered_record(&self) -> bool {
        let got = &self.rbuf[self.rstart..self.rend];
        got.len() >= HEADER_LEN
            && got.len() >= HEADER_LEN + u16::from_be_bytes([got[3], got[4]]) as usize
    }

    /// Makes `self.rbuf[self.rstart..self.rend]` hold at least `need` bytes (at most one whole
    /// record), reading the transport as often as it takes, each time for as much as there is
    /// room for. The end of the transport is [`Error::Truncated`].
    fn fill(&mut self, io: &mut impl Read, need: usize) -> Result<()> {
        debug_assert!(need <= HEADER_LEN + MAX_CIPHERTEXT);
        if self.rend - self.rstart >= need {
            return Ok(());
        }
        if self.rbuf.is_empty() {
            // Nothing buffered: wait on a small stack buffer, so that a connection whose peer
            // is silent holds no heap buffer while it waits. If that read took all there was
            // (a handshake flight, a small request: a few hundred bytes), what came is kept in
            // a buffer of its own size; the full-size one, zeroed and freed again for each
            // flight, is for when more is coming than the stack buffer took.
            let mut first = [0u8; FIRST_READ];
            let n = read_some(io, &mut first)?;
            self.drained = n < FIRST_READ;
            if self.drained {
                self.rbuf = first[..n].to_vec();
            } else {
                self.rbuf = vec![0u8; READ_BUFFER];
                self.rbuf[..n].copy_from_slice(&first[..n]);
            }
            (self.rstart, self.rend) = (0, n);
        }
        if self.rstart + need > self.rbuf.len() {
            // The record would run past the end: move its start to the front.
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            (self.rstart, self.rend) = (0, self.rend - self.rstart);
        }
        while self.rend - self.rstart < need {
            if self.rend == self.rbuf.len() {
                // A small buffer is full and the record needs more: it doubles, so what it
                // takes follows the bytes that arrived, never a length field alone.
                let grown = (2 * self.rbuf.len()).clamp(FIRST_READ, READ_BUFFER);
                self.rbuf.resize(grown, 0);
            }
            let room = self.rbuf.len() - self.rend;
            let n = read_some(io, &mut self.rbuf[self.rend..])?;
            self.drained = n < room;
            self.rend += n;
        }
        Ok(())
    }

    /// Called before waiting for the next record: if nothing is buffered and the peer has gone
    /// quiet, both buffers are let go (the previous record's plaintext has been taken: ranges
    /// are only valid until the next read).
    fn release_if_idle(&mut self) {
        if self.rstart == self.rend {
            (self.rstart, self.rend) = (0, 0);
            if self.drained && self.queued == 0 {
                self.rbuf = Vec::new();
                self.wbuf = Vec::new();
            }
        }
    }

    /// Reads, checks and opens the next record. Returns its type and where its plaintext lies
    /// (see [`plaintext`](Self::plaintext)). A transport that ends, even between records, is
    /// [`Error::Truncated`]: only close_notify ends a connection cleanly, and that is a record the
    /// caller sees.
    pub fn read_record(&mut self, io: &mut impl Read) -> Result<(ContentType, Range<usize>)> {
        self.release_if_idle();
        self.fill(io, HEADER_LEN)?;
        let at = self.rstart;
        let typ_byte = self.rbuf[at];
        let version = [self.rbuf[at + 1], self.rbuf[at + 2]];
        let len = u16::from_be_bytes([self.rbuf[at + 3], self.rbuf[at + 4]]) as usize;
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
        self.fill(io, HEADER_LEN + len)?;
        // The record is taken from the buffer whatever happens to it next.
        let at = self.rstart;
        self.rstart += HEADER_LEN + len;
        let seq = self.read.take_seq()?;
        // Opening decrypts in place: keep the bytes as they arrived for the trace.
        let wire = self
            .tracer
            .enabled()
            .then(|| self.rbuf[at..at + HEADER_LEN + len].to_vec());
        let header = RecordHeader::new(seq, typ_byte, version);
        let start = at + HEADER_LEN;
        let fragment = &mut self.rbuf[start..start + len];
        let opened = match &mut self.read.current {
            Some(p) => p.open(&header, fragment),
            None => Ok(0..len),
        };
        if let Some(wire) = wire {
            let plaintext = opened
                .as_ref()
                .ok()
                .map(|r| self.rbuf[start + r.start..start + r.end].to_vec());
            self.trace(Dir::Received, typ, seq, wire, plaintext);
        }
        let inner = opened?;
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
        Ok((typ, start + inner.start..start + inner.end))
    }

    /// Sends `data` as records of type `typ`, each holding at most 2^14 bytes of plaintext (so a
    /// large write becomes full records and one remainder), up to [`WRITE_BATCH`] records per
    /// write to the transport. Queued records ([`queue_records`](Self::queue_records)) go out
    /// first, in the same write; with `data` empty, only they do.
    pub fn write_records(
        &mut self,
        io: &mut impl Write,
        typ: ContentType,
        data: &[u8],
    ) -> Result<()> {
        let mut chunks = data.chunks(MAX_PLAINTEXT).peekable();
        let mut used = std::mem::take(&mut self.queued);
        loop {
            let mut sealed = Ok(());
            for chunk in chunks.by_ref().take(WRITE_BATCH) {
                match self.seal_one(used, typ, chunk) {
                    Ok(end) => used = end,
                    Err(e) => {
                        sealed = Err(e);
                        break;
                    }
                }
            }
            // What was sealed goes out even if a later record of the batch could not be.
            if used > 0 {
                io.write_all(&self.wbuf[..used])?;
            }
            sealed?;
            if chunks.peek().is_none() {
                break;
            }
            used = 0;
        }
        io.flush()?;
        Ok(())
    }

    /// Seals `data` as records of type `typ` (as [`write_records`](Self::write_records) would)
    /// without writing them: they go out in front of the next write. A handshake queues the end
    /// of its flight and its ChangeCipherSpec this way, so that they and the Finished after them
    /// leave in one system call, one TCP segment, instead of waking the peer three times. The
    /// caller must write before it waits for the peer (nothing queued is sent by a read).
    pub fn queue_records(&mut self, typ: ContentType, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(MAX_PLAINTEXT) {
            self.queued = self.seal_one(self.queued, typ, chunk)?;
        }
        Ok(())
    }

    /// True if [`queue_records`](Self::queue_records) left records that are not written yet.
    pub fn has_queued(&self) -> bool {
        self.queued > 0
    }

    /// Sends exactly one record of type `typ` holding `fragment` (at most 2^14 bytes), even an
    /// empty one, which [`write_records`](Self::write_records) never sends: for tests and tools
    /// that need a given record on the wire (an empty application-data record is legal, RFC 5246
    /// 6.2.1, and carries nothing).
    pub fn write_record(
        &mut self,
        io: &mut impl Write,
        typ: ContentType,
        fragment: &[u8],
    ) -> Result<()> {
        if fragment.len() > MAX_PLAINTEXT {
            return Err(Error::Internal(format!(
                "a record of {} bytes is over the 2^14-byte limit",
                fragment.len()
            )));
        }
        let at = std::mem::take(&mut self.queued);
        let end = self.seal_one(at, typ, fragment)?;
        io.write_all(&self.wbuf[..end])?;
        io.flush()?;
        Ok(())
    }

    /// Seals one record holding `chunk` into the write buffer at `at`; returns where it ends.
    fn seal_one(&mut self, at: usize, typ: ContentType, chunk: &[u8]) -> Result<usize> {
        let (prefix, tag) = self.write.overhead();
        let frag_len = prefix + chunk.len() + tag;
        let seq = self.write.take_seq()?;
        let header = RecordHeader::new(seq, typ.code(), self.version.to_bytes());
        let end = at + HEADER_LEN + frag_len;
        if self.wbuf.len() < end {
            // Grown to what the largest burst needs, once; kept until the connection goes idle.
            self.wbuf.reserve_exact(end - self.wbuf.len());
            self.wbuf.resize(end, 0);
        }
        let buf = &mut self.wbuf[at..end];
        buf[0] = header.content_type;
        buf[1..3].copy_from_slice(&header.version);
        buf[3..5].copy_from_slice(&(frag_len as u16).to_be_bytes());
        buf[HEADER_LEN + prefix..HEADER_LEN + prefix + chunk.len()].copy_from_slice(chunk);
        if let Some(p) = &mut self.write.current {
            p.seal(&header, &mut buf[HEADER_LEN..]);
        }
        if self.tracer.enabled() {
            let wire = self.wbuf[at..end].to_vec();
            self.trace(Dir::Sent, typ, seq, wire, Some(chunk.to_vec()));
        }
        Ok(end)
    }

    /// Reports a record to the trace: its bytes, where its parts lie, the suite and sequence
    /// number of the direction that protected it, and its plaintext (`None` if it did not open).
    fn trace(
        &self,
        dir: Dir,
        content_type: ContentType,
        seq: u64,
        wire: Vec<u8>,
        plaintext: Option<Vec<u8>>,
    ) {
        let state = match dir {
            Dir::Sent => &self.write,
            Dir::Received => &self.read,
        };
        let (prefix, tag) = state.overhead();
        let suite = state.current.as_ref().map(|p| p.suite().suite);
        self.tracer.emit(|side| TraceEvent::Record {
            side,
            dir,
            content_type,
            suite,
            seq: suite.map(|_| seq),
            layout: RecordLayout::new(HEADER_LEN, wire.len() - HEADER_LEN, prefix, tag),
            wire,
            plaintext,
        });
    }
}

/// One `read` that reports the end of the transport as truncation (and retries when
/// interrupted); returns how many bytes came, at least one.
fn read_some(io: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match io.read(buf) {
            Ok(0) => return Err(Error::Truncated),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests;
