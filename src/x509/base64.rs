//! Base64 (RFC 4648 section 4, the standard alphabet with `=` padding), for PEM.
//!
//! Decoding is strict: only the 64 alphabet characters, padding only at the end and only as much as
//! needed, and unused bits of the last character zero, so each byte string has one text form.
//! PEM's line breaks are removed by the caller before decoding.

use zeroize::Zeroize;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes bytes as base64 text with padding and no line breaks.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        // Three bytes are 24 bits: four 6-bit characters.
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn value_of(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some((c - b'A') as u32),
        b'a'..=b'z' => Some((c - b'a') as u32 + 26),
        b'0'..=b'9' => Some((c - b'0') as u32 + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Why some text is not canonical base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// The length is not a multiple of 4.
    Length,
    /// A character outside the alphabet, or padding in the wrong place.
    Character(usize),
    /// The last character has bits set that do not belong to any byte.
    TrailingBits,
}

impl std::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Base64Error::Length => f.write_str("base64 length is not a multiple of 4"),
            Base64Error::Character(i) => write!(f, "invalid base64 character at offset {i}"),
            Base64Error::TrailingBits => f.write_str("non-canonical base64 padding bits"),
        }
    }
}

/// Decodes base64 text (no whitespace allowed). The output is allocated once, at its final size,
/// and wiped if decoding fails half way: the text may be a private key.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let result = decode_into(text, &mut out);
    if result.is_err() {
        out.zeroize();
    }
    result.map(|()| out)
}

fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), Base64Error> {
    if !text.len().is_multiple_of(4) {
        return Err(Base64Error::Length);
    }
    let quads = text.len() / 4;
    for (q, chunk) in text.chunks(4).enumerate() {
        let last = q + 1 == quads;
        // Padding: at most two '=' and only at the end of the last group.
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return Err(Base64Error::Character(q * 4 + 4 - pad));
        }
        let mut n = 0u32;
        for (i, &c) in chunk[..4 - pad].iter().enumerate() {
            let v = value_of(c).ok_or(Base64Error::Character(q * 4 + i))?;
            n |= v << (18 - 6 * i);
        }
        let mut bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // The bits after the last whole byte must be zero.
        let trailing = bytes[keep..].iter().any(|&b| b != 0);
        if !trailing {
            out.extend_from_slice(&bytes[..keep]);
        }
        bytes.zeroize();
        n.zeroize();
        if trailing {
            return Err(Base64Error::TrailingBits);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        // RFC 4648 section 10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn rejects_non_canonical() {
        assert_eq!(decode(b"Zg="), Err(Base64Error::Length));
        assert_eq!(decode(b"Zh=="), Err(Base64Error::TrailingBits));
        assert_eq!(decode(b"Z==="), Err(Base64Error::Character(1)));
        assert_eq!(decode(b"Zg==Zm9v"), Err(Base64Error::Character(2)));
        assert_eq!(decode(b"Zm9*"), Err(Base64Error::Character(3)));
        assert_eq!(decode(b"Zm=v"), Err(Base64Error::Character(2)));
    }

    #[test]
    fn all_byte_values_round_trip() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                decode(encode(&data[..len]).as_bytes()).unwrap(),
                &data[..len]
            );
        }
    }
}
