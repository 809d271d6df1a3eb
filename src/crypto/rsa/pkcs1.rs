//! PKCS#1 v1.5 encoding (RFC 8017): the padding around a message before RSA encryption (7.2) and
//! around a hash before an RSA signature (8.2, 9.2).
//!
//! Encryption block (EME-PKCS1-v1_5), `k` bytes, the size of the modulus:
//!
//! ```text
//! 0x00 || 0x02 || PS (at least 8 random nonzero bytes) || 0x00 || M
//! ```
//!
//! Signature block (EMSA-PKCS1-v1_5):
//!
//! ```text
//! 0x00 || 0x01 || PS (0xff bytes, at least 8) || 0x00 || DigestInfo(H) || H(M)
//! ```
//!
//! where H is SHA-256 for certificates, and SHA-256, SHA-384 or SHA-512 for a TLS 1.2
//! CertificateVerify ([`SignatureHash`]).
//!
//! Decoding the encryption block is the dangerous part. A server that tells (by an error, an
//! alert or just by taking longer) whether a decrypted block was well formed hands the attacker a
//! "padding oracle", and Bleichenbacher showed in 1998 that about a million such questions decrypt
//! any ciphertext. [`decode_encryption_block`] therefore scans the whole block without an early
//! exit and folds every check into one mask.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::crypto::ct;

/// The DER encoding of `DigestInfo { algorithm: sha256 (2.16.840.1.101.3.4.2.1), NULL }` and the
/// header of the OCTET STRING holding the 32-byte hash: RFC 8017 section 9.2, note 1.
pub(crate) const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The same for SHA-384 (2.16.840.1.101.3.4.2.2) and its 48-byte hash, and for SHA-512
/// (2.16.840.1.101.3.4.2.3) and its 64-byte hash (RFC 8017 9.2, note 1).
const SHA384_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const SHA512_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// The hash a PKCS#1 v1.5 signature is made over. The DigestInfo in the block names it, so a
/// signature made with one hash never verifies as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureHash {
    Sha256,
    Sha384,
    Sha512,
}

impl SignatureHash {
    /// `DigestInfo`'s DER up to the hash itself.
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            SignatureHash::Sha256 => &SHA256_DIGEST_INFO_PREFIX,
            SignatureHash::Sha384 => &SHA384_DIGEST_INFO_PREFIX,
            SignatureHash::Sha512 => &SHA512_DIGEST_INFO_PREFIX,
        }
    }

    /// The hash of `msg`.
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            SignatureHash::Sha256 => Sha256::digest(msg).to_vec(),
            SignatureHash::Sha384 => Sha384::digest(msg).to_vec(),
            SignatureHash::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }
}

/// Overhead of the encryption block: 0x00, 0x02, 8 bytes of PS at least, and the 0x00 separator.
pub(crate) const ENCRYPTION_OVERHEAD: usize = 11;

/// EME-PKCS1-v1_5 encoding (RFC 8017 7.2.1 step 2) of `msg` into a block of `k` bytes, with PS
/// drawn from `rng` and every zero byte redrawn. The caller has checked `msg.len() <= k - 11`.
pub(crate) fn encode_encryption_block<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    msg: &[u8],
    k: usize,
) -> Vec<u8> {
    debug_assert!(msg.len() + ENCRYPTION_OVERHEAD <= k);
    let ps_len = k - msg.len() - 3;
    let mut em = vec![0u8; k];
    em[1] = 0x02;
    let ps = &mut em[2..2 + ps_len];
    rng.fill_bytes(ps);
    for byte in ps.iter_mut() {
        // PS must not contain 0x00, which would end it early. Redraw such bytes (the padding is
        // not secret, so this loop may branch).
        while *byte == 0 {
            let mut b = [0u8; 1];
            rng.fill_bytes(&mut b);
            *byte = b[0];
        }
    }
    // em[2 + ps_len] stays 0x00: the separator.
    em[3 + ps_len..].copy_from_slice(msg);
    em
}

/// The result of scanning a decrypted block: a mask that is `0xff` exactly when the block is
/// well formed, and the index where the message starts (meaningful only when well formed).
pub(crate) struct DecodedBlock {
    pub(crate) good: u8,
    pub(crate) msg_start: usize,
}

/// Checks an EME-PKCS1-v1_5 block (RFC 8017 7.2.2 step 3) in constant time: the first byte is
/// 0x00, the second 0x02, a 0x00 separator follows, and at least 8 padding bytes precede it.
///
/// Every byte is read exactly once whatever the contents, and the outcome is a mask, not a
/// branch. Only the caller decides what to reveal.
pub(crate) fn decode_encryption_block(em: &[u8]) -> DecodedBlock {
    let mut good = ct::mask_u8_eq(em[0], 0x00) & ct::mask_u8_eq(em[1], 0x02);

    // Find the first 0x00 after the two header bytes: `looking` stays all ones until we see it.
    let mut looking: u64 = u64::MAX;
    let mut separator: u64 = 0;
    for (i, &b) in em.iter().enumerate().skip(2) {
        let is_zero = ct::mask_u8_to_u64(ct::mask_u8_is_zero(b));
        separator = ct::select_u64(looking & is_zero, i as u64, separator);
        looking &= !is_zero;
    }
    // A separator must exist ...
    good &= !(looking as u8);
    // ... after at least 8 bytes of PS: index 2 + 8 = 10 or later.
    good &= !(ct::mask_u64_lt(separator, 10) as u8);

    DecodedBlock {
        good,
        msg_start: (separator as usize) + 1,
    }
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017 9.2) of `hash`(msg) into `k` bytes, or `None` if `k` is
/// too small to hold it (fewer than 11 bytes more than the DigestInfo and the hash).
pub(crate) fn encode_signature_block(hash: SignatureHash, msg: &[u8], k: usize) -> Option<Vec<u8>> {
    let prefix = hash.digest_info_prefix();
    let digest = hash.digest(msg);
    let t_len = prefix.len() + digest.len();
    if k < t_len + 11 {
        return None;
    }
    let mut em = vec![0xffu8; k];
    em[0] = 0x00;
    em[1] = 0x01;
    em[k - t_len - 1] = 0x00;
    em[k - t_len..k - digest.len()].copy_from_slice(prefix);
    em[k - digest.len()..].copy_from_slice(&digest);
    Some(em)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn encryption_block_round_trips_and_has_nonzero_padding() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for len in [0usize, 1, 48, 245] {
            let msg = vec![0xabu8; len];
            let em = encode_encryption_block(&mut rng, &msg, 256);
            assert_eq!(em.len(), 256);
            assert_eq!(&em[..2], &[0, 2]);
            assert!(em[2..256 - len - 1].iter().all(|&b| b != 0));
            let d = decode_encryption_block(&em);
            assert_eq!(d.good, 0xff);
            assert_eq!(&em[d.msg_start..], &msg[..]);
        }
    }

    fn well_formed() -> Vec<u8> {
        let mut em = vec![0x11u8; 64];
        em[0] = 0;
        em[1] = 2;
        em[40] = 0;
        em
    }

    #[test]
    fn decoding_rejects_every_malformation() {
        assert_eq!(decode_encryption_block(&well_formed()).good, 0xff);
        assert_eq!(decode_encryption_block(&well_formed()).msg_start, 41);

        let mut em = well_formed();
        em[0] = 1;
        assert_eq!(decode_encryption_block(&em).good, 0, "first byte not zero");

        let mut em = well_formed();
        em[1] = 1;
        assert_eq!(decode_encryption_block(&em).good, 0, "block type 1");

        let mut em = well_formed();
        em[40] = 0x11;
        assert_eq!(decode_encryption_block(&em).good, 0, "no separator");

        // Separator at index 9: only 7 bytes of PS.
        let mut em = well_formed();
        em[9] = 0;
        assert_eq!(decode_encryption_block(&em).good, 0, "PS of 7 bytes");
        // Separator at index 10: exactly 8 bytes of PS is fine.
        let mut em = well_formed();
        em[10] = 0;
        let d = decode_encryption_block(&em);
        assert_eq!((d.good, d.msg_start), (0xff, 11));

        // Separator as the very last byte: an empty message is well formed.
        let mut em = well_formed();
        em[40] = 0x11;
        em[63] = 0;
        let d = decode_encryption_block(&em);
        assert_eq!((d.good, d.msg_start), (0xff, 64));
    }

    #[test]
    fn signature_block_layout() {
        let em = encode_signature_block(SignatureHash::Sha256, b"abc", 256).unwrap();
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..256 - 52].iter().all(|&b| b == 0xff));
        assert_eq!(em[256 - 52], 0);
        assert_eq!(&em[256 - 51..256 - 32], &SHA256_DIGEST_INFO_PREFIX);
        assert_eq!(&em[256 - 32..], Sha256::digest(b"abc").as_slice());
        assert!(encode_signature_block(SignatureHash::Sha256, b"abc", 61).is_none());
        assert!(encode_signature_block(SignatureHash::Sha256, b"abc", 62).is_some());
    }

    #[test]
    fn signature_blocks_name_their_hash() {
        // RFC 8017 9.2 note 1: the DigestInfo's OID ends in 1, 2, 3 for SHA-256, -384, -512, and
        // its OCTET STRING holds 32, 48, 64 bytes; the block ends with the hash itself.
        for (hash, oid_last, len, digest) in [
            (
                SignatureHash::Sha256,
                1,
                32,
                Sha256::digest(b"abc").to_vec(),
            ),
            (
                SignatureHash::Sha384,
                2,
                48,
                Sha384::digest(b"abc").to_vec(),
            ),
            (
                SignatureHash::Sha512,
                3,
                64,
                Sha512::digest(b"abc").to_vec(),
            ),
        ] {
            let em = encode_signature_block(hash, b"abc", 256).unwrap();
            let t = &em[256 - 19 - len..];
            assert_eq!(em[256 - 19 - len - 1], 0, "{hash:?}: separator");
            assert_eq!(t[14], oid_last, "{hash:?}: OID");
            assert_eq!(t[18] as usize, len, "{hash:?}: OCTET STRING length");
            assert_eq!(t[1] as usize, 17 + len, "{hash:?}: SEQUENCE length");
            assert_eq!(&t[19..], &digest[..], "{hash:?}: hash");
            assert!(em[2..256 - 19 - len - 1].iter().all(|&b| b == 0xff));
            // The smallest block that holds it: 11 bytes of framing around the DigestInfo.
            assert!(encode_signature_block(hash, b"abc", 19 + len + 10).is_none());
            assert!(encode_signature_block(hash, b"abc", 19 + len + 11).is_some());
        }
    }
}
