//! Cipher suites: what each code point means, and how a record is protected under it.
//!
//! toytls speaks one suite of its own, **TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256** at the private-use
//! code point {0xFF, 0x01} (RFC 5246 12 reserves {0xFF, 0x00..0xFF} for private use). Its complete
//! definition is in `spec/suite.md`; in short:
//!
//! - key exchange: RSA key transport of the pre-master secret, as TLS_RSA_WITH_* suites;
//! - PRF: the TLS 1.2 PRF with SHA-256;
//! - key block: 32-byte MAC key, 16-byte AES-128 key and a 4-byte IV per direction;
//! - record protection: encrypt-then-MAC. AES-128-CTR encrypts the fragment with the counter block
//!   `IV (4) || seq_num (8) || block counter (4, from 0)`, then
//!   `tag = HMAC-SHA256(MAC key, seq_num || type || version || length || ciphertext)` is appended
//!   (32 bytes). The receiver checks the tag in constant time before decrypting anything.
//!
//! For interop it also speaks the standard **TLS_RSA_WITH_AES_128_GCM_SHA256** (0x009C, RFC 5288)
//! with the AEAD record format of RFC 5246 6.2.3.3, built on the same AES core ([`Aes128GcmRecord`]).

use crate::wire::messages::CipherSuite;

/// Our own suite (private-use code point, `spec/suite.md`).
pub const TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256: CipherSuite = CipherSuite(0xFF01);
/// The standard AEAD suite of RFC 5288 3, spoken for interop with real TLS stacks.
pub const TLS_RSA_WITH_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0x009C);

/// What a suite needs from the key block (RFC 5246 6.3) and how its records look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteInfo {
    pub suite: CipherSuite,
    /// The name used in traces and the CLI.
    pub name: &'static str,
    /// The short name `--suites` accepts.
    pub short: &'static str,
    /// `SecurityParameters.mac_key_length`.
    pub mac_key_len: usize,
    /// `SecurityParameters.enc_key_length`.
    pub enc_key_len: usize,
    /// `SecurityParameters.fixed_iv_length`.
    pub fixed_iv_len: usize,
}

/// The suites toytls implements, in its default order of preference: our own suite first (our
/// peers prefer it), then the standard GCM suite that real stacks speak.
pub const SUPPORTED: &[SuiteInfo] = &[
    SuiteInfo {
        suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        name: "TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256",
        short: "toy",
        mac_key_len: 32,
        enc_key_len: 16,
        fixed_iv_len: 4,
    },
    // RFC 5288 3 and RFC 5246 6.2.3.3: an AEAD suite has no MAC keys; the key block holds a
    // 16-byte AES key and a 4-byte implicit nonce part ("salt") per direction.
    SuiteInfo {
        suite: TLS_RSA_WITH_AES_128_GCM_SHA256,
        name: "TLS_RSA_WITH_AES_128_GCM_SHA256",
        short: "gcm",
        mac_key_len: 0,
        enc_key_len: 16,
        fixed_iv_len: 4,
    },
];

/// Parses a comma-separated list of suites, by short name (`toy`, `gcm`) or full name, into
/// code points in the order given (for `--suites toy,gcm`).
pub fn parse_suite_list(list: &str) -> std::result::Result<Vec<CipherSuite>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let info = SUPPORTED
            .iter()
            .find(|s| s.short.eq_ignore_ascii_case(item) || s.name.eq_ignore_ascii_case(item))
            .ok_or_else(|| {
                let known: Vec<&str> = SUPPORTED.iter().map(|s| s.short).collect();
                format!(
                    "unknown cipher suite '{item}' (known: {})",
                    known.join(", ")
                )
            })?;
        if !out.contains(&info.suite) {
            out.push(info.suite);
        }
    }
    if out.is_empty() {
        return Err("no cipher suite given".into());
    }
    Ok(out)
}

/// The description of `suite`, if toytls implements it.
pub fn lookup(suite: CipherSuite) -> Option<&'static SuiteInfo> {
    SUPPORTED.iter().find(|s| s.suite == suite)
}

/// A readable name for any code point (for traces and errors).
pub fn suite_name(suite: CipherSuite) -> String {
    if let Some(s) = lookup(suite) {
        return s.name.to_string();
    }
    match suite.0 {
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256".into(),
        0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA".into(),
        0x003C => "TLS_RSA_WITH_AES_128_CBC_SHA256".into(),
        0x00FF => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV".into(),
        v => format!("0x{v:04x}"),
    }
}

use crate::crypto::ct::ct_eq;
use crate::crypto::ctr::Aes128Ctr;
use crate::crypto::gcm::Aes128Gcm;
use crate::crypto::hmac::HmacSha256;
use crate::error::{Error, Result};

/// How one direction of a connection protects its records: the seam between the record layer and
/// the suites. The record layer frames, numbers and limits records; a protection only turns one
/// fragment into ciphertext and back.
pub enum RecordProtection {
    /// Before ChangeCipherSpec: `TLSPlaintext` is sent as is (RFC 5246 6.2.1).
    Null,
    /// TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256 (`spec/suite.md`). Boxed: the expanded AES key is
    /// large, and a connection makes this once per direction, never per record.
    ToyCtrHmac(Box<ToyCtrHmac>),
    /// TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288, RFC 5246 6.2.3.3). Boxed for the same reason.
    Aes128Gcm(Box<Aes128GcmRecord>),
}

impl RecordProtection {
    /// The protection `suite` uses with the given key block slice for one direction.
    pub fn new(info: &SuiteInfo, mac_key: &[u8], enc_key: &[u8], iv: &[u8]) -> Result<Self> {
        if info.suite == TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256 {
            Ok(RecordProtection::ToyCtrHmac(Box::new(ToyCtrHmac::new(
                mac_key, enc_key, iv,
            )?)))
        } else if info.suite == TLS_RSA_WITH_AES_128_GCM_SHA256 {
            Ok(RecordProtection::Aes128Gcm(Box::new(Aes128GcmRecord::new(
                enc_key, iv,
            )?)))
        } else {
            Err(Error::Internal(format!(
                "no record protection for {}",
                suite_name(info.suite)
            )))
        }
    }

    /// True before ChangeCipherSpec.
    pub fn is_null(&self) -> bool {
        matches!(self, RecordProtection::Null)
    }

    /// Bytes written before the ciphertext (an explicit nonce; 0 for the toy suite, 8 for GCM).
    pub fn prefix_len(&self) -> usize {
        match self {
            RecordProtection::Aes128Gcm(_) => Aes128GcmRecord::EXPLICIT_NONCE_LEN,
            _ => 0,
        }
    }

    /// Bytes written after the ciphertext (the MAC or AEAD tag).
    pub fn tag_len(&self) -> usize {
        match self {
            RecordProtection::Null => 0,
            RecordProtection::ToyCtrHmac(_) => ToyCtrHmac::TAG_LEN,
            RecordProtection::Aes128Gcm(_) => Aes128GcmRecord::TAG_LEN,
        }
    }

    /// Protects a record in place. `fragment` is `prefix_len() + plaintext + tag_len()` bytes with
    /// the plaintext already in its middle; on return it is the fragment to send.
    pub fn seal(&mut self, seq: u64, content_type: u8, version: [u8; 2], fragment: &mut [u8]) {
        match self {
            RecordProtection::Null => {}
            RecordProtection::ToyCtrHmac(p) => p.seal(seq, content_type, version, fragment),
            RecordProtection::Aes128Gcm(p) => p.seal(seq, content_type, version, fragment),
        }
    }

    /// Checks and decrypts a received fragment in place; returns where the plaintext now is.
    /// Any failure is [`Error::BadRecordMac`], whatever its cause (RFC 5246 6.2.3.2 note).
    pub fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        fragment: &mut [u8],
    ) -> Result<std::ops::Range<usize>> {
        match self {
            RecordProtection::Null => Ok(0..fragment.len()),
            RecordProtection::ToyCtrHmac(p) => p.open(seq, content_type, version, fragment),
            RecordProtection::Aes128Gcm(p) => p.open(seq, content_type, version, fragment),
        }
    }
}

/// The toy suite's record protection for one direction: AES-128-CTR, then HMAC-SHA256 over the
/// ciphertext (encrypt-then-MAC). See `spec/suite.md` for why each choice.
pub struct ToyCtrHmac {
    /// HMAC keyed once per connection direction; cloned per record (no re-keying, no allocation).
    mac: HmacSha256,
    /// The expanded AES key; `set_counter` restarts it for each record.
    ctr: Aes128Ctr,
    /// The 4-byte per-direction IV from the key block: the first bytes of every counter block.
    iv: [u8; 4],
}

impl ToyCtrHmac {
    /// HMAC-SHA256 tag length.
    pub const TAG_LEN: usize = 32;

    pub fn new(mac_key: &[u8], enc_key: &[u8], iv: &[u8]) -> Result<Self> {
        let bad = || Error::Internal("wrong key lengths for the toy suite".into());
        let key: &[u8; 16] = enc_key.try_into().map_err(|_| bad())?;
        let iv: [u8; 4] = iv.try_into().map_err(|_| bad())?;
        if mac_key.len() != 32 {
            return Err(bad());
        }
        Ok(ToyCtrHmac {
            mac: HmacSha256::new(mac_key),
            ctr: Aes128Ctr::new(key, &[0; 16]),
            iv,
        })
    }

    /// The first counter block of record `seq`: `IV (4) || seq_num (8) || 0u32`. Within a record
    /// the last 4 bytes count blocks; a record holds at most 2^14 + 2048 bytes, 1152 blocks, so the
    /// count never reaches the sequence number, and distinct records never share a counter block
    /// (`spec/suite.md`, "Why the counter never repeats").
    pub fn counter_block(&self, seq: u64) -> [u8; 16] {
        let mut cb = [0u8; 16];
        cb[..4].copy_from_slice(&self.iv);
        cb[4..12].copy_from_slice(&seq.to_be_bytes());
        cb
    }

    /// `HMAC(MAC key, seq_num || type || version || length || ciphertext)`.
    fn tag(&self, seq: u64, content_type: u8, version: [u8; 2], ciphertext: &[u8]) -> [u8; 32] {
        let mut header = [0u8; 13];
        header[..8].copy_from_slice(&seq.to_be_bytes());
        header[8] = content_type;
        header[9..11].copy_from_slice(&version);
        header[11..13].copy_from_slice(&(ciphertext.len() as u16).to_be_bytes());
        let mut mac = self.mac.clone();
        mac.update(&header);
        mac.update(ciphertext);
        mac.finalize()
    }

    fn seal(&mut self, seq: u64, content_type: u8, version: [u8; 2], fragment: &mut [u8]) {
        let (body, tag) = fragment.split_at_mut(fragment.len() - Self::TAG_LEN);
        let cb = self.counter_block(seq);
        self.ctr.set_counter(&cb);
        self.ctr.apply_keystream(body);
        tag.copy_from_slice(&self.tag(seq, content_type, version, body));
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        fragment: &mut [u8],
    ) -> Result<std::ops::Range<usize>> {
        if fragment.len() < Self::TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let n = fragment.len() - Self::TAG_LEN;
        let (body, tag) = fragment.split_at_mut(n);
        // Encrypt-then-MAC: authenticate the ciphertext first; nothing is decrypted unless the
        // tag matches, compared in constant time so timing does not reveal how much matched.
        let expected = self.tag(seq, content_type, version, body);
        if !ct_eq(&expected, tag) {
            return Err(Error::BadRecordMac);
        }
        let cb = self.counter_block(seq);
        self.ctr.set_counter(&cb);
        self.ctr.apply_keystream(body);
        Ok(0..n)
    }
}

/// The additional data both record protections authenticate (RFC 5246 6.2.3.3):
/// `seq_num (8) || type (1) || version (2) || length (2)`, where length is the plaintext's.
fn additional_data(seq: u64, content_type: u8, version: [u8; 2], len: usize) -> [u8; 13] {
    let mut ad = [0u8; 13];
    ad[..8].copy_from_slice(&seq.to_be_bytes());
    ad[8] = content_type;
    ad[9..11].copy_from_slice(&version);
    ad[11..13].copy_from_slice(&(len as u16).to_be_bytes());
    ad
}

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

    pub fn new(enc_key: &[u8], salt: &[u8]) -> Result<Self> {
        let bad = || Error::Internal("wrong key lengths for AES-128-GCM".into());
        let key: &[u8; 16] = enc_key.try_into().map_err(|_| bad())?;
        let salt: [u8; 4] = salt.try_into().map_err(|_| bad())?;
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

    fn seal(&mut self, seq: u64, content_type: u8, version: [u8; 2], fragment: &mut [u8]) {
        let pt_len = fragment.len() - Self::EXPLICIT_NONCE_LEN - Self::TAG_LEN;
        let (explicit, rest) = fragment.split_at_mut(Self::EXPLICIT_NONCE_LEN);
        let (body, tag) = rest.split_at_mut(pt_len);
        // RFC 5288 3: the explicit nonce must be distinct for every record under one key; the
        // sequence number is, and it is what OpenSSL sends too.
        explicit.copy_from_slice(&seq.to_be_bytes());
        let nonce = self.nonce(explicit);
        let ad = additional_data(seq, content_type, version, pt_len);
        tag.copy_from_slice(&self.gcm.seal(&nonce, &ad, body));
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: [u8; 2],
        fragment: &mut [u8],
    ) -> Result<std::ops::Range<usize>> {
        let overhead = Self::EXPLICIT_NONCE_LEN + Self::TAG_LEN;
        if fragment.len() < overhead {
            return Err(Error::BadRecordMac);
        }
        let pt_len = fragment.len() - overhead;
        let (explicit, rest) = fragment.split_at_mut(Self::EXPLICIT_NONCE_LEN);
        let (body, tag) = rest.split_at_mut(pt_len);
        let nonce = self.nonce(explicit);
        let ad = additional_data(seq, content_type, version, pt_len);
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

    fn pair() -> (RecordProtection, RecordProtection) {
        let info = lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
        let mk = || RecordProtection::new(info, &[1; 32], &[2; 16], &[3; 4]).unwrap();
        (mk(), mk())
    }

    fn seal(p: &mut RecordProtection, seq: u64, msg: &[u8]) -> Vec<u8> {
        let mut frag = msg.to_vec();
        frag.resize(msg.len() + p.tag_len(), 0);
        p.seal(seq, 23, [3, 3], &mut frag);
        frag
    }

    #[test]
    fn toy_suite_round_trips_and_hides_the_plaintext() {
        let (mut w, mut r) = pair();
        let msg = b"attack at dawn, attack at dawn!!";
        let mut frag = seal(&mut w, 7, msg);
        assert_eq!(frag.len(), msg.len() + 32);
        assert_ne!(&frag[..msg.len()], msg);
        let range = r.open(7, 23, [3, 3], &mut frag).unwrap();
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
                r.open(3, 23, [3, 3], &mut f),
                Err(Error::BadRecordMac)
            ));
        }
        // Wrong sequence number (replay/reorder), wrong type, wrong version, truncated tag.
        assert!(r.open(4, 23, [3, 3], &mut frag.clone()).is_err());
        assert!(r.open(3, 22, [3, 3], &mut frag.clone()).is_err());
        assert!(r.open(3, 23, [3, 1], &mut frag.clone()).is_err());
        assert!(r.open(3, 23, [3, 3], &mut frag[1..].to_vec()).is_err());
        assert!(r.open(3, 23, [3, 3], &mut frag[..31].to_vec()).is_err());
        let ok = r.open(3, 23, [3, 3], &mut frag.clone());
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

#[cfg(test)]
mod gcm_tests {
    use super::*;

    fn gcm() -> RecordProtection {
        let info = lookup(TLS_RSA_WITH_AES_128_GCM_SHA256).unwrap();
        RecordProtection::new(info, &[], &[0x42; 16], &[1, 2, 3, 4]).unwrap()
    }

    fn seal(p: &mut RecordProtection, seq: u64, msg: &[u8]) -> Vec<u8> {
        let mut frag = vec![0u8; p.prefix_len()];
        frag.extend_from_slice(msg);
        frag.resize(frag.len() + p.tag_len(), 0);
        p.seal(seq, 23, [3, 3], &mut frag);
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
        let range = r.open(5, 23, [3, 3], &mut frag).unwrap();
        assert_eq!(&frag[range], msg);
        // A sender may choose any unique explicit nonce (RFC 5288 3): seal under nonce 99 while
        // the record is the receiver's number 5.
        let mut body = msg.to_vec();
        let nonce = [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 99];
        let ad = [0, 0, 0, 0, 0, 0, 0, 5, 23, 3, 3, 0, msg.len() as u8];
        let tag = Aes128Gcm::new(&[0x42; 16]).seal(&nonce, &ad, &mut body);
        let mut frag = [&nonce[4..], &body[..], &tag[..]].concat();
        let range = r.open(5, 23, [3, 3], &mut frag).unwrap();
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
                r.open(3, 23, [3, 3], &mut f),
                Err(Error::BadRecordMac)
            ));
            // Still ciphertext: no plaintext was written into the buffer.
            assert_eq!(f, before);
        }
        assert!(r.open(4, 23, [3, 3], &mut frag.clone()).is_err());
        assert!(r.open(3, 22, [3, 3], &mut frag.clone()).is_err());
        assert!(r.open(3, 23, [3, 1], &mut frag.clone()).is_err());
        for cut in 0..24 {
            assert!(matches!(
                r.open(3, 23, [3, 3], &mut frag[..cut].to_vec()),
                Err(Error::BadRecordMac)
            ));
        }
        assert!(r.open(3, 23, [3, 3], &mut frag.clone()).is_ok());
    }

    #[test]
    fn suite_lists_parse_by_short_or_full_name() {
        assert_eq!(
            parse_suite_list("gcm,toy").unwrap(),
            vec![
                TLS_RSA_WITH_AES_128_GCM_SHA256,
                TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256
            ]
        );
        assert_eq!(
            parse_suite_list("TLS_RSA_WITH_AES_128_GCM_SHA256").unwrap(),
            vec![TLS_RSA_WITH_AES_128_GCM_SHA256]
        );
        assert!(parse_suite_list("rc4").is_err());
        assert!(parse_suite_list("").is_err());
    }
}
