//! HMAC-SHA256 (RFC 2104, with SHA-256 from FIPS 180-4), the MAC of our record layer and the
//! building block of the TLS 1.2 PRF.
//!
//! HMAC turns a hash function into a keyed MAC:
//!
//! ```text
//! HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m))
//! ```
//!
//! where `K'` is the key padded with zeros to the hash's 64-byte block (or first hashed, if it is
//! longer than a block), `ipad` is the byte `0x36` repeated and `opad` is `0x5c` repeated. The inner
//! hash binds the message to the key; the outer hash stops the length-extension trick that plain
//! `H(K || m)` would allow.
//!
//! The arithmetic itself comes from the RustCrypto `hmac` and `sha2` crates: a hash function is
//! not what toytls sets out to teach, and theirs is tested and fast (SHA-NI on this machine). What
//! lives here is the shape the rest of the crate wants: a streaming [`HmacSha256`] that can be
//! cloned after keying (so the record layer keys once per connection and clones per record), a
//! one-shot [`hmac_sha256`], and tag checks that compare in constant time ([`super::ct`]).

use hmac::{KeyInit, Mac};

use super::ct::ct_eq;

/// Length of an HMAC-SHA256 tag in bytes.
pub const TAG_LEN: usize = 32;

/// The shortest truncated tag we accept: RFC 2104 section 5 asks for at least half the hash
/// output (and at least 80 bits), i.e. 16 bytes for SHA-256.
pub const MIN_TRUNCATED_TAG_LEN: usize = TAG_LEN / 2;

/// A streaming HMAC-SHA256 computation: key it once, feed data in any pieces, finish.
///
/// `Clone` copies the keyed state, which is how to MAC many messages under one key without
/// re-hashing the padded key every time.
#[derive(Clone)]
pub struct HmacSha256 {
    inner: hmac::Hmac<sha2::Sha256>,
}

impl HmacSha256 {
    /// Starts an HMAC under `key`. Any key length is allowed (RFC 2104 section 3): keys longer
    /// than 64 bytes are hashed first, shorter ones padded with zeros.
    pub fn new(key: &[u8]) -> Self {
        let inner = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
            .expect("HMAC accepts keys of every length");
        HmacSha256 { inner }
    }

    /// Feeds more message bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Finishes and returns the 32-byte tag.
    pub fn finalize(self) -> [u8; TAG_LEN] {
        self.inner.finalize().into_bytes().into()
    }

    /// Finishes and checks the result against `tag` in constant time.
    ///
    /// `tag` may be the full 32 bytes or a truncation of at least [`MIN_TRUNCATED_TAG_LEN`]
    /// bytes, compared on its own length (RFC 2104 section 5: the leftmost bytes are kept).
    /// Shorter or longer tags never match.
    pub fn verify(self, tag: &[u8]) -> bool {
        if tag.len() < MIN_TRUNCATED_TAG_LEN || tag.len() > TAG_LEN {
            return false;
        }
        let full = self.finalize();
        ct_eq(&full[..tag.len()], tag)
    }
}

/// One-shot HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = HmacSha256::new(key);
    mac.update(data);
    mac.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_in_pieces_equals_one_shot() {
        let key = b"key";
        let data = b"The quick brown fox jumps over the lazy dog";
        let mut mac = HmacSha256::new(key);
        for piece in data.chunks(5) {
            mac.update(piece);
        }
        assert_eq!(mac.finalize(), hmac_sha256(key, data));
    }

    #[test]
    fn cloned_keyed_state_gives_independent_macs() {
        let keyed = HmacSha256::new(b"k");
        let mut a = keyed.clone();
        a.update(b"one");
        let mut b = keyed;
        b.update(b"two");
        assert_eq!(a.finalize(), hmac_sha256(b"k", b"one"));
        assert_eq!(b.finalize(), hmac_sha256(b"k", b"two"));
    }

    #[test]
    fn verify_rejects_too_short_and_too_long_tags() {
        let tag = hmac_sha256(b"k", b"m");
        let check = |t: &[u8]| {
            let mut mac = HmacSha256::new(b"k");
            mac.update(b"m");
            mac.verify(t)
        };
        assert!(check(&tag));
        assert!(check(&tag[..16]));
        assert!(
            !check(&tag[..15]),
            "a 15-byte truncation is below RFC 2104's minimum"
        );
        assert!(!check(&[]));
        let mut long = tag.to_vec();
        long.push(0);
        assert!(!check(&long));
    }
}
