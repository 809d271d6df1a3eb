//! Reading DER: the Distinguished Encoding Rules of ASN.1 (ITU-T X.690), the byte format of every
//! certificate and key.
//!
//! DER is a tree of TLV triples: one tag byte, a length, then that many bytes of value. A SEQUENCE's
//! value is itself a run of TLVs. "Distinguished" means every value has exactly one encoding, and
//! this reader insists on it, because a certificate's signature covers its bytes: two encodings of
//! one value would let an attacker change the bytes without changing what we think we read.
//!
//! The rules enforced here (X.690 section 10 and 8):
//! - lengths are definite (no `0x80` "until end-of-contents" form) and minimal (no `0x81 0x05`, no
//!   leading zero length bytes);
//! - INTEGERs are minimal two's complement (no redundant leading `0x00` or `0xff` byte);
//! - BOOLEAN TRUE is `0xff`; NULL is empty; OID arcs have no leading `0x80` bytes;
//! - a reader that is done must be empty ([`Reader::finish`]): no trailing bytes anywhere;
//! - nesting is bounded ([`MAX_DEPTH`]), so hostile input cannot make a recursive walk deep.
//!
//! Like the rest of toytls' codecs, every read is bounds-checked and returns an error instead of
//! panicking, and reading allocates nothing: values are slices borrowed from the input.

use std::fmt;

/// How deep SEQUENCEs and explicit tags may nest. A certificate needs about 7 levels; 32 is slack
/// enough for any real input and small enough that a recursive walk cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// The universal tags toytls reads and writes (X.690 8, X.680 8.4). A tag byte is
/// `class (2 bits) | constructed (1 bit) | number (5 bits)`.
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const TELETEX_STRING: u8 = 0x14;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const UNIVERSAL_STRING: u8 = 0x1c;
    pub const BMP_STRING: u8 = 0x1e;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    /// The "constructed" bit: the value is itself a run of TLVs.
    pub const CONSTRUCTED: u8 = 0x20;
    /// Context-specific class, used for `[n]` tags in ASN.1 modules.
    pub const CONTEXT: u8 = 0x80;

    /// `[n] EXPLICIT`: a constructed context tag wrapping a whole TLV.
    pub const fn explicit(n: u8) -> u8 {
        CONTEXT | CONSTRUCTED | n
    }

    /// `[n] IMPLICIT` on a primitive type: the context tag replaces the type's own tag.
    pub const fn implicit(n: u8) -> u8 {
        CONTEXT | n
    }
}

/// Why some bytes are not valid DER (or not the DER we expected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DerError {
    /// The input ended inside a tag, a length or a value.
    Truncated,
    /// A tag number of 31 or more (the multi-byte "high tag number" form); X.509 never needs one.
    HighTagNumber,
    /// The indefinite length form (`0x80`), which DER forbids.
    IndefiniteLength,
    /// A length written with more bytes than needed, which DER forbids.
    NonMinimalLength,
    /// A length too large for this reader (more than 4 length bytes).
    LengthTooLarge,
    /// A different tag was found from the one the structure requires here.
    UnexpectedTag { expected: u8, found: u8 },
    /// Bytes were left over after the end of a structure.
    TrailingData,
    /// Structures nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An INTEGER that is empty or has a redundant leading byte.
    NonMinimalInteger,
    /// An INTEGER that had to be positive (a serial, an RSA component) was zero or negative, or one
    /// that had to fit in a machine word did not.
    IntegerOutOfRange,
    /// A BOOLEAN that is not exactly `0x00` or `0xff`.
    BadBoolean,
    /// A NULL with a value.
    BadNull,
    /// An OBJECT IDENTIFIER that is empty or has a non-minimal arc.
    BadOid,
    /// A BIT STRING with a bad "unused bits" count or non-zero padding bits.
    BadBitString,
    /// A string whose bytes are not valid for its string type.
    BadString,
    /// A UTCTime or GeneralizedTime that is not of the RFC 5280 form `...Z` or not a real date.
    BadTime,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerError::Truncated => f.write_str("input ends in the middle of a value"),
            DerError::HighTagNumber => f.write_str("multi-byte tag numbers are not supported"),
            DerError::IndefiniteLength => f.write_str("indefinite length (not allowed in DER)"),
            DerError::NonMinimalLength => f.write_str("length not minimally encoded"),
            DerError::LengthTooLarge => f.write_str("length too large"),
            DerError::UnexpectedTag { expected, found } => {
                write!(f, "expected tag 0x{expected:02x}, found 0x{found:02x}")
            }
            DerError::TrailingData => f.write_str("unexpected bytes after the end of a value"),
            DerError::TooDeep => f.write_str("values nested too deeply"),
            DerError::NonMinimalInteger => f.write_str("INTEGER not minimally encoded"),
            DerError::IntegerOutOfRange => f.write_str("INTEGER out of range"),
            DerError::BadBoolean => f.write_str("BOOLEAN is not 0x00 or 0xff"),
            DerError::BadNull => f.write_str("NULL has contents"),
            DerError::BadOid => f.write_str("malformed OBJECT IDENTIFIER"),
            DerError::BadBitString => f.write_str("malformed BIT STRING"),
            DerError::BadString => f.write_str("string contains bytes its type does not allow"),
            DerError::BadTime => f.write_str("malformed time"),
        }
    }
}

impl std::error::Error for DerError {}

/// One TLV as found in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The value bytes (without tag and length).
    pub value: &'a [u8],
    /// The whole encoding: tag, length and value. Signatures are computed over these bytes.
    pub encoded: &'a [u8],
}

/// A cursor over DER bytes. Each `read_*` consumes one TLV from the front or fails without
/// consuming; the nested readers returned by [`Reader::sequence`] and friends see only the value of
/// that TLV and must be [`finish`](Reader::finish)ed.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole top-level value (or several).
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, depth: 0 }
    }

    /// True when all input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input
    }

    /// Ends reading: DER allows no bytes after the last field of a structure.
    pub fn finish(self) -> Result<(), DerError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(DerError::TrailingData)
        }
    }

    /// The tag of the next TLV, if there is one, without consuming anything.
    pub fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads the next TLV, whatever its tag. X.690 8.1.2 (tag) and 10.1 (definite, minimal length).
    pub fn read_any(&mut self) -> Result<Tlv<'a>, DerError> {
        let input = self.input;
        let (&tag, rest) = input.split_first().ok_or(DerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::HighTagNumber);
        }
        let (&first, mut rest) = rest.split_first().ok_or(DerError::Truncated)?;
        let len = if first < 0x80 {
            // Short form: the byte is the length.
            first as usize
        } else if first == 0x80 {
            return Err(DerError::IndefiniteLength);
        } else {
            // Long form: the low 7 bits say how many big-endian length bytes follow.
            let count = (first & 0x7f) as usize;
            if count > 4 {
                return Err(DerError::LengthTooLarge);
            }
            if rest.len() < count {
                return Err(DerError::Truncated);
            }
            let (len_bytes, after) = rest.split_at(count);
            rest = after;
            if len_bytes[0] == 0 {
                return Err(DerError::NonMinimalLength);
            }
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | b as usize);
            if len < 0x80 {
                // Would have fitted the short form.
                return Err(DerError::NonMinimalLength);
            }
            len
        };
        if rest.len() < len {
            return Err(DerError::Truncated);
        }
        let header_len = input.len() - rest.len();
        let (value, after) = rest.split_at(len);
        self.input = after;
        Ok(Tlv {
            tag,
            value,
            encoded: &input[..header_len + len],
        })
    }

    /// Reads the next TLV, which must carry `expected` as its tag. Does not consume on failure.
    pub fn read_tlv(&mut self, expected: u8) -> Result<Tlv<'a>, DerError> {
        let mut ahead = self.clone();
        let tlv = ahead.read_any()?;
        if tlv.tag != expected {
            return Err(DerError::UnexpectedTag {
                expected,
                found: tlv.tag,
            });
        }
        *self = ahead;
        Ok(tlv)
    }

    /// Reads the value of the next TLV, which must carry tag `expected`.
    pub fn read(&mut self, expected: u8) -> Result<&'a [u8], DerError> {
        Ok(self.read_tlv(expected)?.value)
    }

    /// Reads the value of the next TLV if it carries tag `tag` (for OPTIONAL and DEFAULT fields).
    pub fn read_optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.read(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A reader over the contents of a constructed value with tag `tag` (one level deeper).
    pub fn nested(&mut self, tag: u8) -> Result<Reader<'a>, DerError> {
        Ok(self.nested_tlv(tag)?.0)
    }

    /// Like [`Reader::nested`], also returning the whole encoding of the value (for structures
    /// whose exact bytes matter: the signed part of a certificate, a name).
    pub fn nested_tlv(&mut self, tag: u8) -> Result<(Reader<'a>, &'a [u8]), DerError> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(DerError::TooDeep);
        }
        let tlv = self.read_tlv(tag)?;
        let inner = Reader {
            input: tlv.value,
            depth: self.depth + 1,
        };
        Ok((inner, tlv.encoded))
    }

    /// A reader over the contents of the next SEQUENCE.
    pub fn sequence(&mut self) -> Result<Reader<'a>, DerError> {
        self.nested(tag::SEQUENCE)
    }

    /// Like [`Reader::nested`], for an OPTIONAL constructed field.
    pub fn nested_optional(&mut self, tag: u8) -> Result<Option<Reader<'a>>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.nested(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads an INTEGER and returns its two's complement bytes, checked to be minimal (X.690 8.3.2).
    pub fn integer_bytes(&mut self) -> Result<&'a [u8], DerError> {
        let v = self.read(tag::INTEGER)?;
        check_minimal_integer(v)?;
        Ok(v)
    }

    /// Reads a non-negative INTEGER and returns its magnitude, big-endian, without the sign byte
    /// (so `0` reads as an empty slice). Negative values are an error.
    pub fn unsigned_integer(&mut self) -> Result<&'a [u8], DerError> {
        let v = self.integer_bytes()?;
        if v[0] & 0x80 != 0 {
            return Err(DerError::IntegerOutOfRange);
        }
        Ok(if v[0] == 0 { &v[1..] } else { v })
    }

    /// Reads a small non-negative INTEGER (a version number, a path length).
    pub fn small_u64(&mut self) -> Result<u64, DerError> {
        let v = self.unsigned_integer()?;
        if v.len() > 8 {
            return Err(DerError::IntegerOutOfRange);
        }
        Ok(v.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    /// Reads a BOOLEAN; DER requires TRUE to be `0xff` (X.690 11.1).
    pub fn boolean(&mut self) -> Result<bool, DerError> {
        match self.read(tag::BOOLEAN)? {
            [0x00] => Ok(false),
            [0xff] => Ok(true),
            _ => Err(DerError::BadBoolean),
        }
    }

    /// Reads a NULL, which must be empty.
    pub fn null(&mut self) -> Result<(), DerError> {
        if self.read(tag::NULL)?.is_empty() {
            Ok(())
        } else {
            Err(DerError::BadNull)
        }
    }

    /// Reads an OBJECT IDENTIFIER, checked to be well formed (X.690 8.19).
    pub fn oid(&mut self) -> Result<Oid<'a>, DerError> {
        let v = self.read(tag::OID)?;
        Oid::from_value(v)
    }

    /// Reads an OCTET STRING.
    pub fn octet_string(&mut self) -> Result<&'a [u8], DerError> {
        self.read(tag::OCTET_STRING)
    }

    /// Reads a BIT STRING as `(bytes, unused_bits)`. The unused bits at the end must be zero
    /// (X.690 11.2.1).
    pub fn bit_string(&mut self) -> Result<(&'a [u8], u8), DerError> {
        let v = self.read(tag::BIT_STRING)?;
        let (&unused, bits) = v.split_first().ok_or(DerError::BadBitString)?;
        if unused > 7 || (bits.is_empty() && unused != 0) {
            return Err(DerError::BadBitString);
        }
        if let Some(&last) = bits.last()
            && last & ((1u8 << unused) - 1) != 0
        {
            return Err(DerError::BadBitString);
        }
        Ok((bits, unused))
    }

    /// Reads a BIT STRING that holds whole bytes (a signature, a public key).
    pub fn bit_string_bytes(&mut self) -> Result<&'a [u8], DerError> {
        match self.bit_string()? {
            (bytes, 0) => Ok(bytes),
            _ => Err(DerError::BadBitString),
        }
    }
}

/// Checks X.690 8.3.2: an INTEGER has at least one byte, and its first nine bits are not all equal
/// (else the first byte would be redundant).
pub fn check_minimal_integer(v: &[u8]) -> Result<(), DerError> {
    match v {
        [] => Err(DerError::NonMinimalInteger),
        [0x00, next, ..] if next & 0x80 == 0 => Err(DerError::NonMinimalInteger),
        [0xff, next, ..] if next & 0x80 != 0 => Err(DerError::NonMinimalInteger),
        _ => Ok(()),
    }
}

/// An OBJECT IDENTIFIER, kept as its encoded value bytes (what is compared), borrowed from the
/// input. Known OIDs are constants in [`super::oid`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oid<'a>(&'a [u8]);

impl<'a> Oid<'a> {
    /// Wraps encoded value bytes after checking them: non-empty, each arc minimal (no leading
    /// `0x80`), and the last byte ends an arc.
    pub fn from_value(v: &'a [u8]) -> Result<Self, DerError> {
        if v.is_empty() || v[v.len() - 1] & 0x80 != 0 {
            return Err(DerError::BadOid);
        }
        let mut arc_start = true;
        for &b in v {
            if arc_start && b == 0x80 {
                return Err(DerError::BadOid);
            }
            arc_start = b & 0x80 == 0;
        }
        Ok(Oid(v))
    }

    /// An OID from encoded bytes known to be valid (for the constants in [`super::oid`]).
    pub const fn from_static(v: &'static [u8]) -> Oid<'static> {
        Oid(v)
    }

    /// The encoded value bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Display for Oid<'_> {
    /// The dotted form, e.g. `1.2.840.113549.1.1.11`. Arcs too big for a u64 are shown as `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut acc: Option<u64> = Some(0);
        for &b in self.0 {
            acc = acc
                .and_then(|a| a.checked_mul(128))
                .map(|a| a | (b & 0x7f) as u64);
            if b & 0x80 != 0 {
                continue;
            }
            if first {
                // X.690 8.19.4: the first encoded arc is 40 * first + second.
                match acc {
                    Some(a) if a < 80 => write!(f, "{}.{}", a / 40, a % 40)?,
                    Some(a) => write!(f, "2.{}", a - 80)?,
                    None => f.write_str("2.?")?,
                }
                first = false;
            } else {
                match acc {
                    Some(a) => write!(f, ".{a}")?,
                    None => f.write_str(".?")?,
                }
            }
            acc = Some(0);
        }
        Ok(())
    }
}

impl fmt::Debug for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// A generic DER value tree, for code that walks unknown structures (the property tests and
/// anything that prints a value it does not understand). Parsing is depth-bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A constructed value (SEQUENCE, SET, explicit tag) and its children.
    Constructed(u8, Vec<Value>),
    /// A primitive value and its raw value bytes.
    Primitive(u8, Vec<u8>),
}

impl Value {
    /// Parses exactly one value filling all of `input`.
    pub fn from_der(input: &[u8]) -> Result<Value, DerError> {
        let mut r = Reader::new(input);
        let v = Value::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    /// Reads one value (and everything inside it) from `r`.
    pub fn read(r: &mut Reader<'_>) -> Result<Value, DerError> {
        let t = r.peek_tag().ok_or(DerError::Truncated)?;
        if t & tag::CONSTRUCTED != 0 {
            let mut inner = r.nested(t)?;
            let mut children = Vec::new();
            while !inner.is_empty() {
                children.push(Value::read(&mut inner)?);
            }
            Ok(Value::Constructed(t, children))
        } else {
            Ok(Value::Primitive(t, r.read_any()?.value.to_vec()))
        }
    }
}

#[cfg(test)]
mod tests;
