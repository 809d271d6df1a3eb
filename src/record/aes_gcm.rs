//! TLS_RSA_WITH_AES_128_GCM_SHA256's record protection (RFC 5288, RFC 5246 6.2.3.3,
//! `spec/gcm.md`): the standard AEAD suite, spoken for interop with real stacks, on the same AES
//! core as our own suite. Its key block has no MAC keys: a 16-byte AES key and a 4-byte implicit
//! nonce part (the "salt") per direction.

use super::RecordHeader;
use super::suite::{DirectionKeys, RecordCipher};
use crate::crypto::gcm::Aes128Gcm;
use crate::error::{Error, Result};
use std::ops::Range;

/// TLS_RSA_WITH_AES_128_GCM_SHA256's record protection for one direction (RFC 5288 3,
/// RFC 5246 6.2.3.3):
///
/// ```text
/// GCMNonce          = salt (4, the key block's "IV") || nonce_explicit (8)
/// nonce_explicit    = our sequence number (RFC 5288 3 allows it; it never repeats under a key)
/// additional_data   = seq_num || type || version || plaintext length
/// TLSCiphertext     = nonce_explicit (8) || AES-128-GCM ciphertext || tag (16)
/// ```
///
/// The receiver takes nonce_explicit from the wire (the sender chooses it) but the sequence
/// number in the additional data from its own count, so a replayed or reordered record fails the
/// tag. The tag is checked in constant time by [`Aes128Gcm::open`] before anything is decrypted.
pub struct Aes128GcmRecord {
    /// The expanded AES key and GHASH key, made once per direction.
    gcm: Aes128Gcm,
    /// `client_write_IV` / `server_write_IV`: the implicit first 4 bytes of every nonce.
    salt: [u8; 4],
}

impl Aes128GcmRecord {
    /// `record_iv_length` of RFC 5246 6.2.3.3: the explicit nonce sent before the ciphertext.
    pub const EXPLICIT_NONCE_LEN: usize = 8;
    /// The GCM tag (RFC 5288 3: 16 bytes, never truncated).
    pub const TAG_LEN: usize = 16;

    /// The protection of one direction under its keys (16-byte AES key, 4-byte salt; no MAC
    /// key).
    pub fn new(keys: &DirectionKeys) -> Result<Self> {
        let bad = || Error::Internal("wrong key lengths for AES-128-GCM".into());
        let key: &[u8; 16] = keys.enc_key.try_into().map_err(|_| bad())?;
        let salt: [u8; 4] = keys.iv.try_into().map_err(|_| bad())?;
        if !keys.mac_key.is_empty() {
            return Err(bad());
        }
        Ok(Aes128GcmRecord {
            gcm: Aes128Gcm::new(key),
            salt,
        })
    }

    fn nonce(&self, explicit: &[u8]) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&self.salt);
        n[4..].copy_from_slice(explicit);
        n
    }
}

impl RecordCipher for Aes128GcmRecord {
    fn seal(&mut self, header: &RecordHeader, fragment: &mut [u8]) {
        let pt_len = fragment.len() - Self::EXPLICIT_NONCE_LEN - Self::TAG_LEN;
        let (explicit, rest) = fragment.split_at_mut(Self::EXPLICIT_NONCE_LEN);
        let (body, tag) = rest.split_at_mut(pt_len);
        // RFC 5288 3: the explicit nonce must be distinct for every record under one key; the
        // sequence number is, and it is what OpenSSL sends too.
        explicit.copy_from_slice(&header.seq.to_be_bytes());
        let nonce = self.nonce(explicit);
        let ad = header.additional_data(pt_len);
        tag.copy_from_slice(&self.gcm.seal(&nonce, &ad, body));
    }

    fn open(&mut self, header: &RecordHeader, fragment: &mut [u8]) -> Result<Range<usize>> {
        let overhead = Self::EXPLICIT_NONCE_LEN + Self::TAG_LEN;
        if fragment.len() < overhead {
            return Err(Error::BadRecordMac);
        }
        let pt_len = fragment.len() - overhead;
        let (explicit, rest) = fragment.split_at_mut(Self::EXPLICIT_NONCE_LEN);
        let (body, tag) = rest.split_at_mut(pt_len);
        let nonce = self.nonce(explicit);
        let ad = header.additional_data(pt_len);
        let tag: &[u8; 16] = (&*tag).try_into().map_err(|_| Error::BadRecordMac)?;
        // Aes128Gcm::open compares the tag in constant time and decrypts only if it matches.
        self.gcm
            .open(&nonce, &ad, body, tag)
            .map_err(|_| Error::BadRecordMac)?;
        Ok(Self::EXPLICIT_NONCE_LEN..Self::EXPLICIT_NONCE_LEN + pt_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcm() -> Aes128GcmRecord {
        Aes128GcmRecord::new(&DirectionKeys {
            mac_key: &[],
            enc_key: &[0x42; 16],
            iv: &[1, 2, 3, 4],
        })
        .unwrap()
    }

    fn h(seq: u64, content_type: u8, version: [u8; 2]) -> RecordHeader {
        RecordHeader::new(seq, content_type, version)
    }

    fn seal(p: &mut Aes128GcmRecord, seq: u64, msg: &[u8]) -> Vec<u8> {
        let mut frag = vec![0u8; Aes128GcmRecord::EXPLICIT_NONCE_LEN];
        frag.extend_from_slice(msg);
        frag.resize(frag.len() + Aes128GcmRecord::TAG_LEN, 0);
        p.seal(&h(seq, 23, [3, 3]), &mut frag);
        frag
    }

    #[test]
    fn gcm_record_layout_is_rfc_5246_6_2_3_3() {
        let mut w = gcm();
        let msg = b"GET / HTTP/1.1\r\n\r\n";
        let frag = seal(&mut w, 0x0102030405060708, msg);
        assert_eq!(frag.len(), 8 + msg.len() + 16);
        // nonce_explicit is the sequence number.
        assert_eq!(&frag[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        // The rest is AES-128-GCM under nonce salt || seq with the 13-byte additional data.
        let mut expect = msg.to_vec();
        let nonce = [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8];
        let ad = [1, 2, 3, 4, 5, 6, 7, 8, 23, 3, 3, 0, msg.len() as u8];
        let tag = Aes128Gcm::new(&[0x42; 16]).seal(&nonce, &ad, &mut expect);
        assert_eq!(&frag[8..8 + msg.len()], &expect[..]);
        assert_eq!(&frag[8 + msg.len()..], &tag);
    }

    #[test]
    fn gcm_round_trips_and_uses_the_explicit_nonce_from_the_wire() {
        let (mut w, mut r) = (gcm(), gcm());
        let msg = b"hello, real world";
        let mut frag = seal(&mut w, 5, msg);
        let range = r.open(&h(5, 23, [3, 3]), &mut frag).unwrap();
        assert_eq!(&frag[range], msg);
        // A sender may choose any unique explicit nonce (RFC 5288 3): seal under nonce 99 while
        // the record is the receiver's number 5.
        let mut body = msg.to_vec();
        let nonce = [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 99];
        let ad = [0, 0, 0, 0, 0, 0, 0, 5, 23, 3, 3, 0, msg.len() as u8];
        let tag = Aes128Gcm::new(&[0x42; 16]).seal(&nonce, &ad, &mut body);
        let mut frag = [&nonce[4..], &body[..], &tag[..]].concat();
        let range = r.open(&h(5, 23, [3, 3]), &mut frag).unwrap();
        assert_eq!(&frag[range], msg);
    }

    #[test]
    fn any_change_to_a_gcm_record_is_bad_record_mac_and_releases_nothing() {
        let (mut w, mut r) = (gcm(), gcm());
        let frag = seal(&mut w, 3, b"attack at dawn");
        for i in 0..frag.len() * 8 {
            let mut f = frag.clone();
            f[i / 8] ^= 1 << (i % 8);
            let before = f.clone();
            assert!(matches!(
                r.open(&h(3, 23, [3, 3]), &mut f),
                Err(Error::BadRecordMac)
            ));
            // Still ciphertext: no plaintext was written into the buffer.
            assert_eq!(f, before);
        }
        assert!(r.open(&h(4, 23, [3, 3]), &mut frag.clone()).is_err());
        assert!(r.open(&h(3, 22, [3, 3]), &mut frag.clone()).is_err());
        assert!(r.open(&h(3, 23, [3, 1]), &mut frag.clone()).is_err());
        for cut in 0..24 {
            assert!(matches!(
                r.open(&h(3, 23, [3, 3]), &mut frag[..cut].to_vec()),
                Err(Error::BadRecordMac)
            ));
        }
        assert!(r.open(&h(3, 23, [3, 3]), &mut frag.clone()).is_ok());
    }
}
