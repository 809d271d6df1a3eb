//! Cipher suites: one row per suite toytls implements, and the seam between the record layer and
//! each suite's record protection.
//!
//! A suite decides what the key block holds (RFC 5246 6.3: MAC key, encryption key and IV
//! lengths per direction) and how a record is protected (RFC 5246 6.2.3). Everything else (the
//! RSA key exchange, the PRF, Finished) is the same for every suite toytls speaks. So a suite is
//! one row of [`SUPPORTED`] plus one file implementing [`RecordCipher`]:
//!
//! - TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256 (`spec/suite.md`): our own, encrypt-then-MAC with
//!   AES-128-CTR and HMAC-SHA256, in [`super::toy_ctr_hmac`];
//! - TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288, `spec/gcm.md`): the standard AEAD suite real stacks
//!   speak, in [`super::aes_gcm`], on the same AES core.
//!
//! Adding a suite: write its [`RecordCipher`] in a file of its own under `src/record/`, add its
//! row here, and, if its code point has no name yet, name it in the cipher suite code space
//! ([`crate::wire::messages::suite_name`]).

use super::RecordHeader;
use super::aes_gcm::Aes128GcmRecord;
use super::toy_ctr_hmac::ToyCtrHmac;
use crate::error::{Error, Result};
use crate::wire::messages::{
    CipherSuite, TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, suite_name,
};
use std::ops::Range;

/// How one direction of a connection protects its records under one suite: the one thing each
/// suite's file implements. The record layer frames, numbers and limits the records; a cipher only
/// turns one fragment into ciphertext and back, in place.
pub trait RecordCipher: Send {
    /// Protects a record in place. `fragment` is `record_iv_len` bytes to fill (an explicit
    /// nonce), the plaintext, then `tag_len` bytes to fill; on return it is the fragment to send.
    fn seal(&mut self, header: &RecordHeader, fragment: &mut [u8]);

    /// Checks and decrypts a received fragment in place; returns where the plaintext now is.
    /// Any failure is [`Error::BadRecordMac`], whatever its cause (RFC 5246 6.2.3.2 note), and
    /// nothing is decrypted unless the record is authentic.
    fn open(&mut self, header: &RecordHeader, fragment: &mut [u8]) -> Result<Range<usize>>;

    /// The attack lab's one record-layer switch (`toytls attack tamper`, [`crate::lab`]): from
    /// now on [`open`](Self::open) decrypts without checking the MAC, to show what the MAC is
    /// for. Returns false for a suite that cannot do that (GCM: its tag check and its decryption
    /// are one operation here). Only the crate can make the [`InsecureLabOnly`] token, and only
    /// `crate::lab` does; no configuration reaches it.
    fn insecure_skip_mac_check(&mut self, _lab: InsecureLabOnly) -> bool {
        false
    }
}

/// Proof that the caller is the attack lab ([`crate::lab`]): its field is private to the
/// crate, so no code outside toytls can make one, and inside toytls only `crate::lab` does (a
/// test checks that).
pub struct InsecureLabOnly(pub(crate) ());

/// The keys of one direction, cut from the key block (RFC 5246 6.3): the `client_write_*` keys
/// protect what the client sends, the `server_write_*` keys what the server sends.
#[derive(Clone, Copy, Debug)]
pub struct DirectionKeys<'a> {
    pub mac_key: &'a [u8],
    pub enc_key: &'a [u8],
    pub iv: &'a [u8],
}

/// One suite toytls implements: what it needs from the key block, how its records look, and how
/// to key its protection.
#[derive(Clone, Copy, Debug)]
pub struct SuiteInfo {
    pub suite: CipherSuite,
    /// The short name `--suites` accepts.
    pub short: &'static str,
    /// `SecurityParameters.mac_key_length` (0 for an AEAD suite).
    pub mac_key_len: usize,
    /// `SecurityParameters.enc_key_length`.
    pub enc_key_len: usize,
    /// `SecurityParameters.fixed_iv_length`.
    pub fixed_iv_len: usize,
    /// `SecurityParameters.record_iv_length` (RFC 5246 6.2.3.3): bytes sent before the
    /// ciphertext of each record (GCM's explicit nonce), 0 for none.
    pub record_iv_len: usize,
    /// Bytes after the ciphertext: the MAC or the AEAD tag.
    pub tag_len: usize,
    /// How the fragment is encrypted, in words (for the demo): e.g. `"AES-128-CTR"`.
    pub encryption: &'static str,
    /// What the tag is, in words: e.g. `"HMAC-SHA256 tag"`.
    pub tag: &'static str,
    /// Keys one direction's protection; the lengths are checked by [`RecordProtection::new`].
    pub new_cipher: fn(&DirectionKeys) -> Result<Box<dyn RecordCipher>>,
}

impl SuiteInfo {
    /// The suite's name (from the cipher suite code space).
    pub fn name(&self) -> &'static str {
        suite_name(self.suite).unwrap_or("an unnamed suite")
    }

    /// The length of the key block (RFC 5246 6.3): each of the three keys, for both directions.
    pub fn key_block_len(&self) -> usize {
        2 * (self.mac_key_len + self.enc_key_len + self.fixed_iv_len)
    }
}

impl PartialEq for SuiteInfo {
    fn eq(&self, other: &Self) -> bool {
        self.suite == other.suite
    }
}

impl Eq for SuiteInfo {}

/// The suites toytls implements, in its default order of preference: our own suite first (our
/// peers prefer it), then the standard GCM suite that real stacks speak.
pub const SUPPORTED: &[SuiteInfo] = &[
    SuiteInfo {
        suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        short: "toy",
        mac_key_len: 32,
        enc_key_len: 16,
        fixed_iv_len: 4,
        record_iv_len: 0,
        tag_len: ToyCtrHmac::TAG_LEN,
        encryption: "AES-128-CTR",
        tag: "HMAC-SHA256 tag",
        new_cipher: |k| Ok(Box::new(ToyCtrHmac::new(k)?)),
    },
    // RFC 5288 3 and RFC 5246 6.2.3.3: an AEAD suite has no MAC keys; the key block holds a
    // 16-byte AES key and a 4-byte implicit nonce part ("salt") per direction.
    SuiteInfo {
        suite: TLS_RSA_WITH_AES_128_GCM_SHA256,
        short: "gcm",
        mac_key_len: 0,
        enc_key_len: 16,
        fixed_iv_len: 4,
        record_iv_len: Aes128GcmRecord::EXPLICIT_NONCE_LEN,
        tag_len: Aes128GcmRecord::TAG_LEN,
        encryption: "AES-128-GCM",
        tag: "GCM tag",
        new_cipher: |k| Ok(Box::new(Aes128GcmRecord::new(k)?)),
    },
];

/// The row of `suite`, if toytls implements it.
pub fn lookup(suite: CipherSuite) -> Option<&'static SuiteInfo> {
    SUPPORTED.iter().find(|s| s.suite == suite)
}

/// The row whose short name (`toy`, `gcm`) or full name is `name`, ignoring case.
pub fn by_name(name: &str) -> Option<&'static SuiteInfo> {
    SUPPORTED
        .iter()
        .find(|s| s.short.eq_ignore_ascii_case(name) || s.name().eq_ignore_ascii_case(name))
}

/// How one direction protects its records: a suite's cipher under that direction's keys. Before
/// the first ChangeCipherSpec a direction has none, and records travel as `TLSPlaintext` (RFC
/// 5246 6.2.1).
pub struct RecordProtection {
    suite: &'static SuiteInfo,
    /// Boxed: an expanded AES key is large, and it is made once per direction, never per record.
    cipher: Box<dyn RecordCipher>,
}

impl RecordProtection {
    /// `suite`'s protection under `keys`, which must have the lengths its row says.
    pub fn new(suite: &'static SuiteInfo, keys: &DirectionKeys) -> Result<Self> {
        if keys.mac_key.len() != suite.mac_key_len
            || keys.enc_key.len() != suite.enc_key_len
            || keys.iv.len() != suite.fixed_iv_len
        {
            return Err(Error::Internal(format!(
                "wrong key lengths for {}",
                suite.name()
            )));
        }
        Ok(RecordProtection {
            suite,
            cipher: (suite.new_cipher)(keys)?,
        })
    }

    /// The suite this protection belongs to.
    pub fn suite(&self) -> &'static SuiteInfo {
        self.suite
    }

    /// Bytes written before the ciphertext (an explicit nonce; 0 for the toy suite, 8 for GCM).
    pub fn prefix_len(&self) -> usize {
        self.suite.record_iv_len
    }

    /// Bytes written after the ciphertext (the MAC or AEAD tag).
    pub fn tag_len(&self) -> usize {
        self.suite.tag_len
    }

    /// See [`RecordCipher::seal`].
    pub fn seal(&mut self, header: &RecordHeader, fragment: &mut [u8]) {
        self.cipher.seal(header, fragment)
    }

    /// See [`RecordCipher::open`].
    pub fn open(&mut self, header: &RecordHeader, fragment: &mut [u8]) -> Result<Range<usize>> {
        self.cipher.open(header, fragment)
    }

    /// See [`RecordCipher::insecure_skip_mac_check`].
    pub(crate) fn insecure_skip_mac_check(&mut self, lab: InsecureLabOnly) -> bool {
        self.cipher.insecure_skip_mac_check(lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_named_and_found_by_its_names() {
        for s in SUPPORTED {
            assert_ne!(s.name(), "an unnamed suite", "{:?}", s.suite);
            assert_eq!(lookup(s.suite), Some(s));
            assert_eq!(by_name(s.short), Some(s));
            assert_eq!(by_name(&s.name().to_lowercase()), Some(s));
        }
        assert_eq!(by_name("rc4"), None);
        assert_eq!(lookup(CipherSuite(0x002F)), None);
    }

    #[test]
    fn keys_of_the_wrong_length_are_refused() {
        let toy = lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
        let gcm = lookup(TLS_RSA_WITH_AES_128_GCM_SHA256).unwrap();
        let keys = |mac: &'static [u8]| DirectionKeys {
            mac_key: mac,
            enc_key: &[2; 16],
            iv: &[3; 4],
        };
        assert!(RecordProtection::new(toy, &keys(&[1; 32])).is_ok());
        assert!(RecordProtection::new(toy, &keys(&[1; 31])).is_err());
        assert!(RecordProtection::new(gcm, &keys(&[])).is_ok());
        assert!(RecordProtection::new(gcm, &keys(&[1; 32])).is_err());
        let short_iv = DirectionKeys {
            mac_key: &[],
            enc_key: &[2; 16],
            iv: &[3; 3],
        };
        assert!(matches!(
            RecordProtection::new(gcm, &short_iv),
            Err(Error::Internal(_))
        ));
    }
}
