//! What can go wrong with RSA, in one type.

use core::fmt;

use super::{MAX_MODULUS_BITS, MIN_MODULUS_BITS};

/// Everything that can go wrong with RSA.
///
/// Decryption has a single variant, [`RsaError::Decryption`], for every failure: wrong length,
/// value too large, bad padding. Saying *which* check failed is the padding oracle that
/// Bleichenbacher's attack needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaError {
    /// The key's numbers are not a valid RSA key; the text says which rule they break.
    InvalidKey(&'static str),
    /// Key generation was asked for a size outside 1024..=8192 bits.
    UnsupportedKeySize(usize),
    /// The message is longer than the modulus allows (k - 11 bytes for PKCS#1 v1.5 encryption).
    MessageTooLong,
    /// Decryption failed. Deliberately says nothing more.
    Decryption,
    /// The signature does not verify under this key.
    InvalidSignature,
    /// The private-key operation failed its self-check (a hardware fault or a bug); no output was
    /// released.
    Fault,
}

impl fmt::Display for RsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RsaError::InvalidKey(why) => write!(f, "invalid RSA key: {why}"),
            RsaError::UnsupportedKeySize(bits) => write!(
                f,
                "unsupported RSA key size {bits} bits (supported: {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS})"
            ),
            RsaError::MessageTooLong => write!(f, "message too long for this RSA key"),
            RsaError::Decryption => write!(f, "RSA decryption failed"),
            RsaError::InvalidSignature => write!(f, "RSA signature is not valid"),
            RsaError::Fault => write!(f, "RSA private-key operation failed its self-check"),
        }
    }
}

impl std::error::Error for RsaError {}
