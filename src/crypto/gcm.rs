//! AES-128-GCM, the authenticated encryption of NIST SP 800-38D, built from our CTR and GHASH.
//!
//! GCM encrypts with AES in counter mode and authenticates with GHASH (see `ghash.rs`):
//!
//! 1. H = AES_K(0^128), the hash key; J0 = nonce || 0x00000001 for the 96-bit nonces TLS uses
//!    (SP 800-38D 7.1 step 2).
//! 2. The data is encrypted in CTR mode starting at inc32(J0) = nonce || 0x00000002, with the
//!    32-bit increment that wraps inside the block ([`Increment::Be32`]).
//! 3. S = GHASH_H(A || 0-pad || C || 0-pad || len(A) || len(C)), lengths in bits as 64-bit
//!    big-endian integers.
//! 4. The tag is AES_K(J0) XOR S.
//!
//! [`Aes128Gcm::open`] recomputes the tag over the ciphertext and compares it in constant time
//! *before* decrypting anything: on a mismatch the buffer is left as it was (still ciphertext) and
//! no plaintext is ever released. A nonce must never repeat under one key: a repeat reveals the
//! XOR of two plaintexts and lets an attacker recover H and forge tags.

use super::aes::{self, Aes128};
use super::ct::ct_eq;
use super::ctr::{Increment, xor_keystream};
use super::ghash::{self, GhashKey};
use std::fmt;

/// The largest plaintext GCM allows under one nonce: 2^39 - 256 bits (SP 800-38D 5.2.1.1).
pub const MAX_DATA_LEN: u64 = (1 << 36) - 32;

/// `open` found that the tag does not match: the data was changed, or the key, nonce or
/// additional data differ from the sender's. Deliberately says nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticationFailed;

impl fmt::Display for AuthenticationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AES-GCM authentication failed")
    }
}

impl std::error::Error for AuthenticationFailed {}

/// An AES-128-GCM key: the expanded AES key and the GHASH key derived from it.
pub struct Aes128Gcm {
    cipher: Aes128,
    ghash_key: GhashKey,
}

impl Aes128Gcm {
    /// Expand `key` on the best AES and GHASH backends of this CPU.
    pub fn new(key: &[u8; 16]) -> Aes128Gcm {
        Aes128Gcm::with_backends(key, aes::Backend::best(), ghash::Backend::best())
            .expect("the best backends are available")
    }

    /// Expand `key` on chosen backends, or `None` if this CPU cannot run one of them.
    pub fn with_backends(
        key: &[u8; 16],
        aes_backend: aes::Backend,
        ghash_backend: ghash::Backend,
    ) -> Option<Aes128Gcm> {
        let cipher = Aes128::with_backend(key, aes_backend)?;
        let mut h = [0u8; 16];
        cipher.encrypt_block(&mut h);
        let ghash_key = GhashKey::with_backend(&h, ghash_backend);
        aes::wipe(&mut h);
        Some(Aes128Gcm {
            cipher,
            ghash_key: ghash_key?,
        })
    }

    /// The backends in use.
    pub fn backends(&self) -> (aes::Backend, ghash::Backend) {
        (self.cipher.backend(), self.ghash_key.backend())
    }

    /// Encrypt `data` in place and return the 16-byte tag over `aad` and the ciphertext.
    ///
    /// # Panics
    /// If `data` is longer than [`MAX_DATA_LEN`] (64 GiB), which GCM forbids.
    pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
        assert!(
            data.len() as u64 <= MAX_DATA_LEN,
            "AES-GCM: more than 2^36 - 32 bytes under one nonce"
        );
        xor_keystream(
            &self.cipher,
            &counter_block(nonce, 2),
            Increment::Be32,
            data,
        );
        self.tag(nonce, aad, data)
    }

    /// Check `tag` over `aad` and the ciphertext in `data`; only if it is right, decrypt `data` in
    /// place. On failure `data` is untouched.
    pub fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), AuthenticationFailed> {
        if data.len() as u64 > MAX_DATA_LEN {
            return Err(AuthenticationFailed);
        }
        let expected = self.tag(nonce, aad, data);
        if !ct_eq(&expected, tag) {
            return Err(AuthenticationFailed);
        }
        xor_keystream(
            &self.cipher,
            &counter_block(nonce, 2),
            Increment::Be32,
            data,
        );
        Ok(())
    }

    /// The tag AES_K(J0) XOR GHASH_H(A, C) (SP 800-38D 7.1 steps 5-6).
    fn tag(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
        let mut hash = self.ghash_key.start();
        hash.update_padded(aad);
        hash.update_padded(ciphertext);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64 * 8).to_be_bytes());
        hash.update_padded(&lengths);
        let mut tag = counter_block(nonce, 1);
        self.cipher.encrypt_block(&mut tag);
        for (t, s) in tag.iter_mut().zip(hash.finalize()) {
            *t ^= s;
        }
        tag
    }
}

impl fmt::Debug for Aes128Gcm {
    /// Shows the backends, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aes128Gcm")
            .field("backends", &self.backends())
            .finish_non_exhaustive()
    }
}

/// nonce || counter, the counter as a 32-bit big-endian integer (J0 has counter 1).
fn counter_block(nonce: &[u8; 12], counter: u32) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..12].copy_from_slice(nonce);
    block[12..].copy_from_slice(&counter.to_be_bytes());
    block
}
