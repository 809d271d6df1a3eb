//! The one codec: a bounds-checked [`Reader`] and a length-prefixing [`Writer`].
//!
//! Every TLS structure is built from a few shapes (RFC 5246 4): unsigned integers of 1, 2, 3 or 4
//! bytes in network order, fixed-size byte arrays, and variable-length vectors preceded by a length
//! of 1, 2 or 3 bytes. Every parser in toytls reads through [`Reader`], which checks each read
//! against the bytes actually present and returns a [`CodecError`] instead of panicking. It never
//! allocates: it hands out sub-slices of its input, so nothing a length field claims can make it
//! reserve memory the input does not hold.
//!
//! Encoding goes through [`Writer`]. A length-prefixed vector is written with a closure
//! ([`Writer::u16_prefixed`] and friends): the writer reserves the prefix, runs the closure, then
//! fills the prefix in from what the closure wrote. No length in toytls is computed by hand, so no
//! length can disagree with its contents.

use std::fmt;

/// Why a sequence of bytes could not be read as the structure it was supposed to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The input ended before the structure did.
    Truncated {
        /// Bytes the next field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The structure ended but bytes were left over inside its length.
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },
    /// A vector was too long for its length prefix while encoding (a programming or configuration
    /// error: for example a certificate chain longer than 2^24 - 1 bytes).
    TooLong {
        /// The length that did not fit.
        len: usize,
        /// The largest length the prefix can express.
        max: usize,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Truncated { needed, available } => write!(
                f,
                "message truncated: needed {needed} more bytes but only {available} were left"
            ),
            CodecError::TrailingBytes { extra } => {
                write!(f, "{extra} unexpected bytes after the end of a field")
            }
            CodecError::TooLong { len, max } => {
                write!(
                    f,
                    "a vector of {len} bytes does not fit a prefix of at most {max}"
                )
            }
        }
    }
}

impl std::error::Error for CodecError {}

/// A cursor over received bytes. Every read is bounds-checked, and a read that fails consumes
/// nothing.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf` from its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The structure is complete: fails with [`CodecError::TrailingBytes`] if anything is left.
    /// Called at the end of every message and every length-prefixed vector, so bytes hidden after a
    /// valid structure are rejected rather than ignored.
    pub fn expect_empty(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::TrailingBytes {
                extra: self.buf.len(),
            })
        }
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.buf.len() {
            return Err(CodecError::Truncated {
                needed: n,
                available: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Everything not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        let all = self.buf;
        self.buf = &[];
        all
    }

    /// A fixed-size array, such as a 32-byte `Random`.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// `uint8`.
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    /// `uint16`, big-endian.
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// `uint24`, big-endian (handshake message and certificate lengths).
    pub fn u24(&mut self) -> Result<u32, CodecError> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// `uint32`, big-endian.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A vector with a 1-byte length prefix (`<0..2^8-1>`), as its own reader.
    pub fn u8_prefixed(&mut self) -> Result<Reader<'a>, CodecError> {
        let mut tmp = self.clone();
        let n = tmp.u8()? as usize;
        let body = tmp.bytes(n)?;
        *self = tmp;
        Ok(Reader::new(body))
    }

    /// A vector with a 2-byte length prefix (`<0..2^16-1>`), as its own reader.
    pub fn u16_prefixed(&mut self) -> Result<Reader<'a>, CodecError> {
        let mut tmp = self.clone();
        let n = tmp.u16()? as usize;
        let body = tmp.bytes(n)?;
        *self = tmp;
        Ok(Reader::new(body))
    }

    /// A vector with a 3-byte length prefix (`<0..2^24-1>`), as its own reader.
    pub fn u24_prefixed(&mut self) -> Result<Reader<'a>, CodecError> {
        let mut tmp = self.clone();
        let n = tmp.u24()? as usize;
        let body = tmp.bytes(n)?;
        *self = tmp;
        Ok(Reader::new(body))
    }
}

/// Builds bytes to send. Length prefixes are filled in by the writer, never by hand.
///
/// Encoding cannot fail half-way through a message: a vector too long for its prefix is recorded
/// and reported by [`Writer::finish`], so message `encode` functions stay simple.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    error: Option<CodecError>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// The bytes written so far, or the first encoding error.
    pub fn finish(self) -> Result<Vec<u8>, CodecError> {
        match self.error {
            None => Ok(self.buf),
            Some(e) => Err(e),
        }
    }

    /// The bytes written so far (even if an error was recorded).
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// `uint8`.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// `uint16`, big-endian.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `uint24`, big-endian; values above 2^24 - 1 are an encoding error.
    pub fn u24(&mut self, v: u32) {
        if v > 0xFF_FFFF {
            self.fail(CodecError::TooLong {
                len: v as usize,
                max: 0xFF_FFFF,
            });
        }
        self.buf.extend_from_slice(&v.to_be_bytes()[1..]);
    }

    /// `uint32`, big-endian.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Raw bytes (a fixed-size field, or the contents of a vector inside a prefix).
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A vector with a 1-byte length prefix whose contents `body` writes.
    pub fn u8_prefixed(&mut self, body: impl FnOnce(&mut Writer)) {
        self.prefixed(1, body)
    }

    /// A vector with a 2-byte length prefix whose contents `body` writes.
    pub fn u16_prefixed(&mut self, body: impl FnOnce(&mut Writer)) {
        self.prefixed(2, body)
    }

    /// A vector with a 3-byte length prefix whose contents `body` writes.
    pub fn u24_prefixed(&mut self, body: impl FnOnce(&mut Writer)) {
        self.prefixed(3, body)
    }

    fn prefixed(&mut self, prefix_len: usize, body: impl FnOnce(&mut Writer)) {
        let at = self.buf.len();
        self.buf.resize(at + prefix_len, 0);
        body(self);
        let len = self.buf.len() - at - prefix_len;
        let max = (1usize << (8 * prefix_len)) - 1;
        if len > max {
            self.fail(CodecError::TooLong { len, max });
        }
        let be = (len as u32).to_be_bytes();
        self.buf[at..at + prefix_len].copy_from_slice(&be[4 - prefix_len..]);
    }

    fn fail(&mut self, e: CodecError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_integers_in_network_order() {
        let data = [1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a];
        let mut r = Reader::new(&data);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u24().unwrap(), 0x040506);
        assert_eq!(r.u32().unwrap(), 0x0708090a);
        assert!(r.is_empty());
        r.expect_empty().unwrap();
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        let mut r = Reader::new(&[0x01]);
        assert_eq!(
            r.u16(),
            Err(CodecError::Truncated {
                needed: 2,
                available: 1
            })
        );
        // A failed read consumes nothing.
        assert_eq!(r.remaining(), 1);
        assert!(r.u24().is_err());
        assert!(r.u32().is_err());
        assert!(r.array::<2>().is_err());
        assert_eq!(r.u8().unwrap(), 1);
        assert!(r.u8().is_err());
    }

    #[test]
    fn a_length_prefix_larger_than_the_input_is_rejected() {
        // Claims 0xFFFF bytes, holds 2: must fail without allocating or reading past the end.
        let mut r = Reader::new(&[0xFF, 0xFF, 1, 2]);
        assert!(matches!(
            r.u16_prefixed(),
            Err(CodecError::Truncated {
                needed: 0xFFFF,
                available: 2
            })
        ));
        let mut r = Reader::new(&[0xFF, 0xFF, 0xFF]);
        assert!(r.u24_prefixed().is_err());
        let mut r = Reader::new(&[3, 1, 2]);
        assert!(r.u8_prefixed().is_err());
    }

    #[test]
    fn sub_readers_see_only_their_vector() {
        let mut r = Reader::new(&[0, 2, 0xAA, 0xBB, 0xCC]);
        let mut sub = r.u16_prefixed().unwrap();
        assert_eq!(sub.u8().unwrap(), 0xAA);
        assert!(sub.expect_empty().is_err());
        assert_eq!(sub.u8().unwrap(), 0xBB);
        assert!(sub.u8().is_err());
        sub.expect_empty().unwrap();
        assert_eq!(r.u8().unwrap(), 0xCC);
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let r = Reader::new(&[1, 2, 3]);
        assert_eq!(
            r.expect_empty(),
            Err(CodecError::TrailingBytes { extra: 3 })
        );
    }

    #[test]
    fn nested_prefixes_are_filled_in() {
        let mut w = Writer::new();
        w.u16_prefixed(|w| {
            w.u8(7);
            w.u8_prefixed(|w| w.bytes(&[1, 2, 3]));
            w.u24_prefixed(|w| w.u16(0xBEEF));
        });
        assert_eq!(
            w.finish().unwrap(),
            vec![0, 10, 7, 3, 1, 2, 3, 0, 0, 2, 0xBE, 0xEF]
        );
    }

    #[test]
    fn too_long_for_prefix_is_an_error() {
        let mut w = Writer::new();
        w.u8_prefixed(|w| w.bytes(&[0u8; 256]));
        assert_eq!(w.finish(), Err(CodecError::TooLong { len: 256, max: 255 }));
        let mut w = Writer::new();
        w.u8_prefixed(|w| w.bytes(&[0u8; 255]));
        assert_eq!(w.finish().unwrap().len(), 256);
        let mut w = Writer::new();
        w.u24(0x100_0000);
        assert!(w.finish().is_err());
    }

    proptest! {
        #[test]
        fn reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(0u8..9, 0..32)) {
            let mut r = Reader::new(&data);
            for op in ops {
                let before = r.remaining();
                let ok = match op {
                    0 => r.u8().is_ok(),
                    1 => r.u16().is_ok(),
                    2 => r.u24().is_ok(),
                    3 => r.u32().is_ok(),
                    4 => r.u8_prefixed().is_ok(),
                    5 => r.u16_prefixed().is_ok(),
                    6 => r.u24_prefixed().is_ok(),
                    7 => r.array::<5>().is_ok(),
                    _ => r.bytes(3).is_ok(),
                };
                if !ok {
                    prop_assert_eq!(r.remaining(), before);
                }
            }
        }

        #[test]
        fn prefixed_vectors_round_trip(a in proptest::collection::vec(any::<u8>(), 0..300), b in proptest::collection::vec(any::<u8>(), 0..255), c in any::<u32>()) {
            let c = c & 0xFF_FFFF;
            let mut w = Writer::new();
            w.u24(c);
            w.u16_prefixed(|w| w.bytes(&a));
            w.u8_prefixed(|w| w.bytes(&b));
            w.u24_prefixed(|w| { w.u16_prefixed(|w| w.bytes(&a)); });
            let bytes = w.finish().unwrap();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.u24().unwrap(), c);
            prop_assert_eq!(r.u16_prefixed().unwrap().rest(), &a[..]);
            prop_assert_eq!(r.u8_prefixed().unwrap().rest(), &b[..]);
            let mut outer = r.u24_prefixed().unwrap();
            prop_assert_eq!(outer.u16_prefixed().unwrap().rest(), &a[..]);
            outer.expect_empty().unwrap();
            r.expect_empty().unwrap();
        }
    }
}
