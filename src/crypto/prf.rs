//! The TLS 1.2 pseudo-random function (RFC 5246 section 5), with SHA-256.
//!
//! Every secret a TLS 1.2 connection uses is stretched out of the pre-master secret by this one
//! function: the master secret, the key block (MAC keys, cipher keys, IVs) and the Finished
//! `verify_data`. It is defined in two layers.
//!
//! First a data-expansion function, `P_SHA256(secret, seed)`, which chains HMACs:
//!
//! ```text
//! A(0) = seed
//! A(i) = HMAC_SHA256(secret, A(i-1))
//!
//! P_SHA256(secret, seed) = HMAC_SHA256(secret, A(1) + seed) +
//!                          HMAC_SHA256(secret, A(2) + seed) +
//!                          HMAC_SHA256(secret, A(3) + seed) + ...
//! ```
//!
//! (`+` is concatenation). It runs as many rounds as needed and the caller keeps only as many bytes
//! as it asked for: 48 for a master secret, 12 for `verify_data`, 104 for the key block of
//! AES-128 with HMAC-SHA256. The `A(i)` chain never appears in the output; it only makes each block
//! depend on the one before, and mixing the seed into every block keeps the blocks distinct.
//!
//! Then the PRF itself just prefixes an ASCII label to the seed, so that the same secret used for
//! different jobs ("master secret", "key expansion", "client finished") gives unrelated output:
//!
//! ```text
//! PRF(secret, label, seed) = P_SHA256(secret, label + seed)
//! ```

use zeroize::Zeroize;

use super::hmac::{HmacSha256, TAG_LEN};

/// `PRF(secret, label, seed)` of RFC 5246 section 5, filling all of `out`.
///
/// `out` may have any length; the final HMAC block is cut to fit.
pub fn prf_sha256(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // The label is just the first part of the seed; passing it separately avoids copying them
    // into one buffer.
    p_sha256(secret, &[label, seed], out);
}

/// `P_SHA256(secret, seed)` of RFC 5246 section 5, where the seed is the concatenation of
/// `seed_parts`.
fn p_sha256(secret: &[u8], seed_parts: &[&[u8]], out: &mut [u8]) {
    // Key HMAC once; every HMAC below is a clone of this keyed state.
    let keyed = HmacSha256::new(secret);

    // A(1) = HMAC(secret, A(0)) with A(0) = seed.
    let mut a: [u8; TAG_LEN] = {
        let mut mac = keyed.clone();
        for part in seed_parts {
            mac.update(part);
        }
        mac.finalize()
    };

    let mut chunks = out.chunks_mut(TAG_LEN).peekable();
    while let Some(chunk) = chunks.next() {
        // Output block i = HMAC(secret, A(i) + seed).
        let mut block = {
            let mut mac = keyed.clone();
            mac.update(&a);
            for part in seed_parts {
                mac.update(part);
            }
            mac.finalize()
        };
        // The last block is cut to the length the caller wants.
        chunk.copy_from_slice(&block[..chunk.len()]);
        block.zeroize();

        // A(i+1) = HMAC(secret, A(i)), only if another block follows.
        if chunks.peek().is_some() {
            let mut mac = keyed.clone();
            mac.update(&a);
            a = mac.finalize();
        }
    }
    a.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hmac::hmac_sha256;

    /// The definition, computed the slow and obvious way: materialise label + seed, run the
    /// A(i) chain, concatenate whole blocks, then truncate.
    fn p_sha256_reference(secret: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut a = seed.to_vec();
        while out.len() < len {
            a = hmac_sha256(secret, &a).to_vec();
            let mut input = a.clone();
            input.extend_from_slice(seed);
            out.extend_from_slice(&hmac_sha256(secret, &input));
        }
        out.truncate(len);
        out
    }

    #[test]
    fn matches_the_definition_for_every_length_up_to_100() {
        let secret = b"a secret";
        let label = b"test label";
        let seed = b"some seed bytes";
        let mut label_seed = label.to_vec();
        label_seed.extend_from_slice(seed);
        for len in 0..=100 {
            let mut out = vec![0u8; len];
            prf_sha256(secret, label, seed, &mut out);
            assert_eq!(
                out,
                p_sha256_reference(secret, &label_seed, len),
                "length {len}"
            );
        }
    }

    #[test]
    fn shorter_output_is_a_prefix_of_longer_output() {
        let mut long = [0u8; 104];
        prf_sha256(b"s", b"key expansion", b"r", &mut long);
        let mut short = [0u8; 48];
        prf_sha256(b"s", b"key expansion", b"r", &mut short);
        assert_eq!(short[..], long[..48]);
    }

    #[test]
    fn label_changes_output() {
        let mut a = [0u8; 12];
        let mut b = [0u8; 12];
        prf_sha256(b"s", b"client finished", b"h", &mut a);
        prf_sha256(b"s", b"server finished", b"h", &mut b);
        assert_ne!(a, b);
    }
}
