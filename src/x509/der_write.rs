//! Writing DER.
//!
//! The one rule that makes hand-written DER go wrong is the length prefix: a SEQUENCE's length is
//! the size of everything inside it, which is not known until the inside is written. So nobody
//! computes a length here by hand. [`Writer::sequence`] (and [`Writer::constructed`]) run a closure
//! that writes the contents, then insert the tag and the minimal length in front of them. The
//! primitive writers produce the one DER encoding of each value that [`super::der::Reader`] accepts.

use super::der::{Oid, Value, tag};

/// An output buffer of DER TLVs.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// An empty writer with room for `capacity` bytes. Writing a private key into one at least
    /// as large as the result means its buffer never moves, so no freed copy of the key is
    /// left behind (the caller wipes the one buffer).
    pub fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Runs `f` on a fresh writer and returns what it wrote (one or more TLVs).
    pub fn build(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        f(&mut w);
        w.into_bytes()
    }

    /// Writes a constructed value with tag `tag` whose contents are written by `f`; the length
    /// prefix is computed afterwards from what `f` actually wrote.
    pub fn constructed(&mut self, tag: u8, f: impl FnOnce(&mut Writer)) {
        let start = self.buf.len();
        f(self);
        let len = self.buf.len() - start;
        let mut header = vec![tag];
        push_length(&mut header, len);
        self.buf.splice(start..start, header);
    }

    /// `SEQUENCE { ... }`.
    pub fn sequence(&mut self, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::SEQUENCE, f)
    }

    /// `SET { ... }` (the caller writes the elements in DER order; toytls only writes one-element
    /// SETs, in names).
    pub fn set(&mut self, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::SET, f)
    }

    /// A primitive TLV with the given tag and value bytes.
    pub fn primitive(&mut self, tag: u8, value: &[u8]) {
        self.buf.push(tag);
        push_length(&mut self.buf, value.len());
        self.buf.extend_from_slice(value);
    }

    /// Bytes that are already one or more whole DER TLVs (a name copied from another certificate).
    pub fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    /// An INTEGER from a big-endian magnitude (non-negative): leading zero bytes are dropped and one
    /// `0x00` is added when the top bit is set, so the value reads back as positive (X.690 8.3).
    pub fn unsigned_integer(&mut self, magnitude: &[u8]) {
        let first_nonzero = magnitude
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(magnitude.len());
        let trimmed = &magnitude[first_nonzero..];
        let mut value = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
            value.push(0);
        }
        value.extend_from_slice(trimmed);
        self.primitive(tag::INTEGER, &value);
    }

    /// A small non-negative INTEGER.
    pub fn small_integer(&mut self, v: u64) {
        self.unsigned_integer(&v.to_be_bytes());
    }

    /// A BOOLEAN (TRUE is `0xff` in DER).
    pub fn boolean(&mut self, v: bool) {
        self.primitive(tag::BOOLEAN, &[if v { 0xff } else { 0x00 }]);
    }

    /// NULL.
    pub fn null(&mut self) {
        self.primitive(tag::NULL, &[]);
    }

    /// An OBJECT IDENTIFIER.
    pub fn oid(&mut self, oid: Oid<'_>) {
        self.primitive(tag::OID, oid.as_bytes());
    }

    /// An OCTET STRING.
    pub fn octet_string(&mut self, v: &[u8]) {
        self.primitive(tag::OCTET_STRING, v);
    }

    /// An OCTET STRING whose contents are DER written by `f` (how extension values are wrapped).
    pub fn octet_string_with(&mut self, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::OCTET_STRING, f)
    }

    /// A BIT STRING of whole bytes (a signature, a public key).
    pub fn bit_string_bytes(&mut self, v: &[u8]) {
        self.bit_string_with(|w| w.buf.extend_from_slice(v))
    }

    /// A BIT STRING of whole bytes whose contents are written by `f`.
    pub fn bit_string_with(&mut self, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::BIT_STRING, |w| {
            w.buf.push(0); // no unused bits
            f(w)
        })
    }

    /// A named-bit BIT STRING (X.680 22.7, used by keyUsage): `bits[i]` set means bit `i` is set,
    /// bit 0 being the most significant bit of the first byte. DER drops trailing zero bits
    /// (X.690 11.2.2), so the encoding stops at the last set bit.
    pub fn named_bits(&mut self, bits: &[bool]) {
        let last = bits.iter().rposition(|&b| b);
        let mut value = vec![0u8];
        if let Some(last) = last {
            let nbytes = last / 8 + 1;
            value.resize(1 + nbytes, 0);
            for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
                value[1 + i / 8] |= 0x80 >> (i % 8);
            }
            value[0] = (7 - (last % 8)) as u8;
        }
        self.primitive(tag::BIT_STRING, &value);
    }

    /// A UTF8String.
    pub fn utf8_string(&mut self, s: &str) {
        self.primitive(tag::UTF8_STRING, s.as_bytes());
    }

    /// A generic value tree (the inverse of [`Value::read`]).
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Primitive(t, bytes) => self.primitive(*t, bytes),
            Value::Constructed(t, children) => self.constructed(*t, |w| {
                for child in children {
                    w.value(child);
                }
            }),
        }
    }

    /// A `[n] EXPLICIT` wrapper around what `f` writes.
    pub fn explicit(&mut self, n: u8, f: impl FnOnce(&mut Writer)) {
        self.constructed(tag::explicit(n), f)
    }
}

/// Appends a DER length: one byte below 128, else `0x80 | count` and the minimal big-endian bytes.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::der::Reader;
    use super::*;

    #[test]
    fn nested_lengths_are_computed() {
        let bytes = Writer::build(|w| {
            w.sequence(|w| {
                w.small_integer(5);
                w.octet_string(&[0xab; 200]);
            })
        });
        // 0x30, long length 0x81 0xcf (3 + 203 = 206 bytes inside).
        assert_eq!(&bytes[..3], &[0x30, 0x81, 206]);
        let mut r = Reader::new(&bytes);
        let mut s = r.sequence().unwrap();
        assert_eq!(s.small_u64().unwrap(), 5);
        assert_eq!(s.octet_string().unwrap(), &[0xab; 200][..]);
        s.finish().unwrap();
        r.finish().unwrap();
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(Writer::build(|w| w.small_integer(0)), [0x02, 0x01, 0x00]);
        assert_eq!(Writer::build(|w| w.small_integer(127)), [0x02, 0x01, 0x7f]);
        assert_eq!(
            Writer::build(|w| w.small_integer(128)),
            [0x02, 0x02, 0x00, 0x80]
        );
        assert_eq!(
            Writer::build(|w| w.unsigned_integer(&[0, 0, 0x01, 0x00])),
            [0x02, 0x02, 0x01, 0x00]
        );
    }

    #[test]
    fn named_bits_drop_trailing_zeros() {
        // digitalSignature (0) and keyEncipherment (2): 0b1010_0000 with 5 unused bits.
        assert_eq!(
            Writer::build(|w| w.named_bits(&[true, false, true, false])),
            [0x03, 0x02, 0x05, 0xa0]
        );
        // keyCertSign (5) and cRLSign (6): 0b0000_0110, 1 unused bit.
        let mut bits = [false; 9];
        bits[5] = true;
        bits[6] = true;
        assert_eq!(
            Writer::build(|w| w.named_bits(&bits)),
            [0x03, 0x02, 0x01, 0x06]
        );
        // Bit 8 needs a second byte.
        let mut bits = [false; 9];
        bits[8] = true;
        assert_eq!(
            Writer::build(|w| w.named_bits(&bits)),
            [0x03, 0x03, 0x07, 0x00, 0x80]
        );
        assert_eq!(Writer::build(|w| w.named_bits(&[])), [0x03, 0x01, 0x00]);
    }

    #[test]
    fn lengths() {
        for (len, want) in [
            (0usize, vec![0x00]),
            (127, vec![0x7f]),
            (128, vec![0x81, 0x80]),
            (255, vec![0x81, 0xff]),
            (256, vec![0x82, 0x01, 0x00]),
            (70000, vec![0x83, 0x01, 0x11, 0x70]),
        ] {
            let mut out = Vec::new();
            push_length(&mut out, len);
            assert_eq!(out, want, "length {len}");
        }
    }
}
