//! Counter (CTR) mode, NIST SP 800-38A section 6.5: AES as a stream cipher.
//!
//! CTR encrypts a sequence of *counter blocks* T1, T2, T3, ... with the block cipher and uses the
//! results as a keystream: `C = P XOR (E(K, T1) || E(K, T2) || ...)`. Decryption is the same
//! operation. The counter blocks must never repeat under one key (a repeat leaks the XOR of two
//! plaintexts), which is why the record layer gives every record its own starting block.
//!
//! The next counter block comes from the previous one by an *increment* (SP 800-38A B.1). Two
//! are in use, and this module offers both ([`Increment`]):
//!
//! - [`Increment::Be128`]: the whole 16-byte block is one big-endian integer, plus one, wrapping
//!   at 2^128. This is the SP 800-38A F.5 test vectors' rule, the `ctr` crate's `Ctr128BE`, and
//!   what toytls's own AES-128-CTR suite uses. [`Aes128Ctr::new`] uses it.
//! - [`Increment::Be32`]: only the last four bytes are a big-endian counter, wrapping at 2^32
//!   inside the block; the first twelve never change. This is GCM's `inc32` (SP 800-38D 6.2),
//!   available through [`Aes128Ctr::from_cipher`].
//!
//! The keystream is continuous across calls: [`Aes128Ctr::apply_keystream`] may be called with any
//! lengths, and the result is the same as one call over the concatenation. Whole blocks go to the
//! backend's bulk loop (32 blocks at a time with VAES), XORed straight into the caller's buffer;
//! a partial block at the end keeps its unused keystream bytes for the next call.

use super::aes::{self, Aes128, Backend};
use std::fmt;

/// How the counter block advances from one block to the next (SP 800-38A B.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Increment {
    /// The whole block is a 128-bit big-endian integer; +1 mod 2^128 (SP 800-38A F.5).
    Be128,
    /// The last 32 bits are a big-endian integer; +1 mod 2^32, the first 96 bits are fixed
    /// (GCM's inc32, SP 800-38D 6.2).
    Be32,
}

impl Increment {
    /// The counter `n` steps after `counter`, where a counter block is read as a big-endian
    /// 128-bit integer.
    pub fn add(self, counter: u128, n: u128) -> u128 {
        match self {
            Increment::Be128 => counter.wrapping_add(n),
            Increment::Be32 => {
                let low = (counter as u32).wrapping_add(n as u32);
                (counter & !u128::from(u32::MAX)) | u128::from(low)
            }
        }
    }
}

/// AES-128 in counter mode: a keystream generator that XORs into data in place.
///
/// Dropping it wipes the round keys and any unused keystream.
pub struct Aes128Ctr {
    cipher: Aes128,
    increment: Increment,
    /// The counter block (as a big-endian integer) that produces the next *fresh* keystream block.
    next_counter: u128,
    /// Keystream of the block before `next_counter`, of which `keystream[used..]` is not yet used.
    keystream: [u8; 16],
    used: usize,
}

impl Aes128Ctr {
    /// AES-128-CTR with the 128-bit increment of SP 800-38A, on the best backend of this CPU.
    pub fn new(key: &[u8; 16], counter_block: &[u8; 16]) -> Aes128Ctr {
        Aes128Ctr::from_cipher(Aes128::new(key), counter_block, Increment::Be128)
    }

    /// Like [`new`](Self::new) on a chosen backend; `None` if this CPU cannot run it.
    pub fn with_backend(
        key: &[u8; 16],
        counter_block: &[u8; 16],
        backend: Backend,
    ) -> Option<Aes128Ctr> {
        let cipher = Aes128::with_backend(key, backend)?;
        Some(Aes128Ctr::from_cipher(
            cipher,
            counter_block,
            Increment::Be128,
        ))
    }

    /// CTR over an already expanded key with either increment (GCM uses [`Increment::Be32`]).
    pub fn from_cipher(
        cipher: Aes128,
        counter_block: &[u8; 16],
        increment: Increment,
    ) -> Aes128Ctr {
        Aes128Ctr {
            cipher,
            increment,
            next_counter: u128::from_be_bytes(*counter_block),
            keystream: [0; 16],
            used: 16,
        }
    }

    /// Restart the keystream at a new counter block, keeping the expanded key. No allocation.
    pub fn set_counter(&mut self, counter_block: &[u8; 16]) {
        self.next_counter = u128::from_be_bytes(*counter_block);
        aes::wipe(&mut self.keystream);
        self.used = 16;
    }

    /// The block cipher underneath (GCM also needs it for its hash key and tag mask).
    pub fn cipher(&self) -> &Aes128 {
        &self.cipher
    }

    /// The backend doing the work.
    pub fn backend(&self) -> Backend {
        self.cipher.backend()
    }

    /// XOR the next `data.len()` keystream bytes into `data` (encrypts or decrypts in place).
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        // 1. Finish the partial block left over from the previous call.
        let leftover = (16 - self.used).min(data.len());
        let (head, rest) = data.split_at_mut(leftover);
        for (d, k) in head.iter_mut().zip(&self.keystream[self.used..]) {
            *d ^= k;
        }
        self.used += leftover;

        // 2. All whole blocks in one bulk call to the backend.
        let whole = rest.len() - rest.len() % 16;
        let (bulk, tail) = rest.split_at_mut(whole);
        if !bulk.is_empty() {
            self.cipher
                .ctr_xor_blocks(self.next_counter, self.increment, bulk);
            let blocks = (bulk.len() / 16) as u128;
            self.next_counter = self.increment.add(self.next_counter, blocks);
        }

        // 3. A partial block at the end: make one keystream block and keep what is not used.
        if !tail.is_empty() {
            self.keystream = self.next_counter.to_be_bytes();
            self.cipher.encrypt_block(&mut self.keystream);
            self.next_counter = self.increment.add(self.next_counter, 1);
            for (d, k) in tail.iter_mut().zip(&self.keystream) {
                *d ^= k;
            }
            self.used = tail.len();
        }
    }
}

/// One-shot CTR with a borrowed cipher: XOR into `data` the keystream that starts at
/// `counter_block` and advances by `increment`. The same as a fresh [`Aes128Ctr`] over one call,
/// without owning the key (GCM uses it with [`Increment::Be32`], sharing the key with its tag).
pub fn xor_keystream(
    cipher: &Aes128,
    counter_block: &[u8; 16],
    increment: Increment,
    data: &mut [u8],
) {
    let counter = u128::from_be_bytes(*counter_block);
    let whole = data.len() - data.len() % 16;
    let (bulk, tail) = data.split_at_mut(whole);
    if !bulk.is_empty() {
        cipher.ctr_xor_blocks(counter, increment, bulk);
    }
    if !tail.is_empty() {
        let mut keystream = increment
            .add(counter, (bulk.len() / 16) as u128)
            .to_be_bytes();
        cipher.encrypt_block(&mut keystream);
        for (d, k) in tail.iter_mut().zip(&keystream) {
            *d ^= k;
        }
        aes::wipe(&mut keystream);
    }
}

impl Drop for Aes128Ctr {
    fn drop(&mut self) {
        // The round keys are wiped by `Aes128`'s own Drop.
        aes::wipe(&mut self.keystream);
    }
}

impl fmt::Debug for Aes128Ctr {
    /// Shows the backend and increment, never key or keystream.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aes128Ctr")
            .field("backend", &self.backend())
            .field("increment", &self.increment)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_wrap_where_their_standards_say() {
        assert_eq!(Increment::Be128.add(u128::MAX, 1), 0);
        assert_eq!(Increment::Be128.add(u64::MAX as u128, 1), 1 << 64);
        // inc32 wraps inside the low 32 bits and leaves the rest alone.
        let c = (0xabcd_u128 << 32) | 0xffff_ffff;
        assert_eq!(Increment::Be32.add(c, 1), 0xabcd_u128 << 32);
        assert_eq!(Increment::Be32.add(c, 3), (0xabcd_u128 << 32) | 2);
        assert_eq!(Increment::Be32.add(5, 1 << 32), 5);
    }

    /// Every backend, every increment, at counters that carry or wrap inside one bulk chunk:
    /// must equal encrypting the counter blocks one at a time with the portable cipher.
    #[test]
    fn bulk_paths_agree_with_block_by_block_near_wraps() {
        let key = [0x42; 16];
        let reference = Aes128::with_backend(&key, Backend::Reference).unwrap();
        let starts = [
            0u128,
            u128::MAX - 5,
            (u64::MAX - 3) as u128,
            (7u128 << 64) | (u64::MAX - 40) as u128,
            (0x1234u128 << 32) | 0xffff_fff0,
        ];
        for inc in [Increment::Be128, Increment::Be32] {
            for start in starts {
                // 70 blocks: two VAES chunks, one 8-block AES-NI chunk and a 6-block tail.
                let mut expected = vec![0u8; 16 * 70];
                for (i, block) in expected.chunks_exact_mut(16).enumerate() {
                    let mut ks = inc.add(start, i as u128).to_be_bytes();
                    reference.encrypt_block(&mut ks);
                    block.copy_from_slice(&ks);
                }
                for backend in Backend::available() {
                    let aes = Aes128::with_backend(&key, backend).unwrap();
                    let mut data = vec![0u8; 16 * 70];
                    aes.ctr_xor_blocks(start, inc, &mut data);
                    assert!(data == expected, "{backend:?} {inc:?} start {start:#x}");
                }
            }
        }
    }

    #[test]
    fn set_counter_restarts_the_keystream() {
        let mut ctr = Aes128Ctr::new(&[1; 16], &[2; 16]);
        let mut first = [0u8; 40];
        ctr.apply_keystream(&mut first);
        ctr.set_counter(&[2; 16]);
        let mut again = [0u8; 40];
        ctr.apply_keystream(&mut again);
        assert_eq!(first, again);
        ctr.set_counter(&[3; 16]);
        let mut other = [0u8; 40];
        ctr.apply_keystream(&mut other);
        assert_ne!(first, other);
    }
}
