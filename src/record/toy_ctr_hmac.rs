//! TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256's record protection (`spec/suite.md`): our own suite, at
//! the private-use code point {0xFF, 0x01}.
//!
//! Encrypt-then-MAC. AES-128-CTR encrypts the fragment with the counter block
//! `IV (4) || seq_num (8) || block counter (4, from 0)`, then
//! `tag = HMAC-SHA256(MAC key, seq_num || type || version || length || ciphertext)` is appended
//! (32 bytes). The receiver checks the tag in constant time before decrypting anything. Its key
//! block holds a 32-byte MAC key, a 16-byte AES-128 key and a 4-byte IV per direction.

use super::RecordHeader;
use super::suite::{DirectionKeys, InsecureLabOnly, RecordCipher};
use crate::crypto::ct::ct_eq;
use crate::crypto::ctr::Aes128Ctr;
use crate::crypto::hmac::HmacSha256;
use crate::error::{Error, Result};
use std::ops::Range;

/// HMAC-SHA256's key and tag length.
const MAC_KEY_LEN: usize = 32;
const TAG_LEN: usize = 32;

/// The toy suite's record protection for one direction: AES-128-CTR, then HMAC-SHA256 over the
/// ciphertext (encrypt-then-MAC). See `spec/suite.md` for why each choice.
pub struct ToyCtrHmac {
    /// HMAC keyed once per connection direction; cloned per record (no re-keying, no allocation).
    mac: HmacSha256,
    /// The expanded AES key; `set_counter` restarts it for each record.
    ctr: Aes128Ctr,
    /// The 4-byte per-direction IV from the key block: the first bytes of every counter block.
    iv: [u8; 4],
    /// Always false, except in the attack lab's `tamper` scenario, which turns the MAC check off
    /// to show what CTR mode alone lets an attacker do ([`RecordCipher::insecure_skip_mac_check`]).
    lab_skips_mac_check: bool,
}

impl ToyCtrHmac {
    /// HMAC-SHA256 tag length.
    pub const TAG_LEN: usize = TAG_LEN;

    /// The protection of one direction under its keys (32-byte MAC key, 16-byte AES key, 4-byte
    /// IV).
    pub fn new(keys: &DirectionKeys) -> Result<Self> {
        let bad = || Error::Internal("wrong key lengths for the toy suite".into());
        let key: &[u8; 16] = keys.enc_key.try_into().map_err(|_| bad())?;
        let iv: [u8; 4] = keys.iv.try_into().map_err(|_| bad())?;
        if keys.mac_key.len() != MAC_KEY_LEN {
            return Err(bad());
        }
        Ok(ToyCtrHmac {
            mac: HmacSha256::new(keys.mac_key),
            ctr: Aes128Ctr::new(key, &[0; 16]),
            iv,
            lab_skips_mac_check: false,
        })
    }

    /// The first counter block of record `seq`: `IV (4) || seq_num (8) || 0u32`. Within a record
    /// the last 4 bytes count blocks; a record holds at most 2^14 + 2048 bytes, 1152 blocks, so the
    /// count never reaches the sequence number, and distinct records never share a counter block
    /// (`spec/suite.md`, "Why the counter block never repeats").
    pub fn counter_block(&self, seq: u64) -> [u8; 16] {
        let mut cb = [0u8; 16];
        cb[..4].copy_from_slice(&self.iv);
        cb[4..12].copy_from_slice(&seq.to_be_bytes());
        cb
    }

    /// `HMAC(MAC key, seq_num || type || version || length || ciphertext)`: the MAC input of RFC
    /// 5246 6.2.3.1 over the ciphertext (encrypt-then-MAC), where length is the ciphertext's,
    /// which in CTR mode is the plaintext's.
    fn tag(&self, header: &RecordHeader, ciphertext: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(&header.additional_data(ciphertext.len()));
        mac.update(ciphertext);
        mac.finalize()
    }
}

impl RecordCipher for ToyCtrHmac {
    fn seal(&mut self, header: &RecordHeader, fragment: &mut [u8]) {
        let (body, tag) = fragment.split_at_mut(fragment.len() - TAG_LEN);
        let cb = self.counter_block(header.seq);
        self.ctr.set_counter(&cb);
        self.ctr.apply_keystream(body);
        tag.copy_from_slice(&self.tag(header, body));
    }

    fn open(&mut self, header: &RecordHeader, fragment: &mut [u8]) -> Result<Range<usize>> {
        if fragment.len() < TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let n = fragment.len() - TAG_LEN;
        let (body, tag) = fragment.split_at_mut(n);
        // Encrypt-then-MAC: authenticate the ciphertext first; nothing is decrypted unless the
        // tag matches, compared in constant time so timing does not reveal how much matched.
        let expected = self.tag(header, body);
        if !ct_eq(&expected, tag) && !self.lab_skips_mac_check {
            return Err(Error::BadRecordMac);
        }
        let cb = self.counter_block(header.seq);
        self.ctr.set_counter(&cb);
        self.ctr.apply_keystream(body);
        Ok(0..n)
    }

    fn insecure_skip_mac_check(&mut self, _lab: InsecureLabOnly) -> bool {
        self.lab_skips_mac_check = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (ToyCtrHmac, ToyCtrHmac) {
        let keys = DirectionKeys {
            mac_key: &[1; 32],
            enc_key: &[2; 16],
            iv: &[3; 4],
        };
        (
            ToyCtrHmac::new(&keys).unwrap(),
            ToyCtrHmac::new(&keys).unwrap(),
        )
    }

    fn h(seq: u64, content_type: u8, version: [u8; 2]) -> RecordHeader {
        RecordHeader::new(seq, content_type, version)
    }

    fn seal(p: &mut ToyCtrHmac, seq: u64, msg: &[u8]) -> Vec<u8> {
        let mut frag = msg.to_vec();
        frag.resize(msg.len() + TAG_LEN, 0);
        p.seal(&h(seq, 23, [3, 3]), &mut frag);
        frag
    }

    #[test]
    fn toy_suite_round_trips_and_hides_the_plaintext() {
        let (mut w, mut r) = pair();
        let msg = b"attack at dawn, attack at dawn!!";
        let mut frag = seal(&mut w, 7, msg);
        assert_eq!(frag.len(), msg.len() + 32);
        assert_ne!(&frag[..msg.len()], msg);
        let range = r.open(&h(7, 23, [3, 3]), &mut frag).unwrap();
        assert_eq!(&frag[range], msg);
    }

    #[test]
    fn ciphertext_is_aes_ctr_with_the_documented_counter_block() {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let (mut w, _) = pair();
        let msg = [0x55u8; 100];
        let frag = seal(&mut w, 0x0102030405060708, &msg);
        // Reference: the RustCrypto ctr crate, counter block 03030303 || seq || 00000000.
        let mut expect = msg;
        let iv = [3, 3, 3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0];
        ctr::Ctr128BE::<aes::Aes128>::new(&[2u8; 16].into(), &iv.into())
            .apply_keystream(&mut expect);
        assert_eq!(&frag[..100], &expect[..]);
        // And the tag is HMAC over seq || type || version || length || ciphertext.
        let mut mac_input = vec![1, 2, 3, 4, 5, 6, 7, 8, 23, 3, 3, 0, 100];
        mac_input.extend_from_slice(&expect);
        assert_eq!(
            &frag[100..],
            &crate::crypto::hmac::hmac_sha256(&[1; 32], &mac_input)
        );
    }

    #[test]
    fn any_change_is_bad_record_mac() {
        let (mut w, mut r) = pair();
        let frag = seal(&mut w, 3, b"hello world");
        for i in 0..frag.len() * 8 {
            let mut f = frag.clone();
            f[i / 8] ^= 1 << (i % 8);
            assert!(matches!(
                r.open(&h(3, 23, [3, 3]), &mut f),
                Err(Error::BadRecordMac)
            ));
        }
        // Wrong sequence number (replay/reorder), wrong type, wrong version, truncated tag.
        assert!(r.open(&h(4, 23, [3, 3]), &mut frag.clone()).is_err());
        assert!(r.open(&h(3, 22, [3, 3]), &mut frag.clone()).is_err());
        assert!(r.open(&h(3, 23, [3, 1]), &mut frag.clone()).is_err());
        assert!(r.open(&h(3, 23, [3, 3]), &mut frag[1..].to_vec()).is_err());
        assert!(r.open(&h(3, 23, [3, 3]), &mut frag[..31].to_vec()).is_err());
        let ok = r.open(&h(3, 23, [3, 3]), &mut frag.clone());
        assert!(ok.is_ok());
    }

    #[test]
    fn counter_blocks_differ_per_record() {
        let (mut w, _) = pair();
        let a = seal(&mut w, 0, &[0; 64]);
        let b = seal(&mut w, 1, &[0; 64]);
        assert_ne!(&a[..64], &b[..64]);
    }
}
