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

use crate::messages::CipherSuite;

/// Our own suite (private-use code point, `spec/suite.md`).
pub const TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256: CipherSuite = CipherSuite(0xFF01);
/// The standard AEAD suite of RFC 5288 (implemented by issue 5; named here for traces).
pub const TLS_RSA_WITH_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0x009C);

/// What a suite needs from the key block (RFC 5246 6.3) and how its records look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteInfo {
    pub suite: CipherSuite,
    /// The name used in traces and the CLI.
    pub name: &'static str,
    /// `SecurityParameters.mac_key_length`.
    pub mac_key_len: usize,
    /// `SecurityParameters.enc_key_length`.
    pub enc_key_len: usize,
    /// `SecurityParameters.fixed_iv_length`.
    pub fixed_iv_len: usize,
}

/// The suites toytls implements, in its default order of preference.
pub const SUPPORTED: &[SuiteInfo] = &[SuiteInfo {
    suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
    name: "TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256",
    mac_key_len: 32,
    enc_key_len: 16,
    fixed_iv_len: 4,
}];

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
