//! The lab's weak RSA key, for the Bleichenbacher scenario and nothing else.
//!
//! Bleichenbacher's attack costs one TLS handshake per oracle query, and each query one RSA
//! decryption for the server: 1024 bits makes each query a few times cheaper than 2048 would,
//! and the number of queries barely depends on the size (see [`crate::lab::bleichenbacher`]).
//! 1024 bits is also the smallest key toytls's RSA accepts at all
//! ([`crate::crypto::rsa::MIN_MODULUS_BITS`]).
//!
//! toytls refuses such a key in both places that matter, and this module goes around both on
//! purpose, under names that say so:
//! - a server: [`crate::config::ServerConfig::new`] wants 2048 bits
//!   ([`crate::x509::key::check_key_size`]); [`insecure_weak_key_server_config`] skips that.
//! - a client: the default verifier refuses a chain with a key under 2048 bits
//!   ([`crate::x509::verify::Policy::DEFAULT`]); [`InsecureWeakKeyVerifier`] uses the teaching
//!   policy instead ([`Policy::INSECURE_WEAK_KEYS_FOR_TEACHING`]).

use crate::clock::UnixTime;
use crate::config::{ServerCertVerifier, ServerConfig, verified_leaf_key};
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::error::{Error, Result};
use crate::x509::Certificate;
use crate::x509::verify::{Policy, verify_with_policy};

/// The size of the lab's weak key, in bits.
pub const LAB_WEAK_KEY_BITS: usize = 1024;

/// A new [`LAB_WEAK_KEY_BITS`]-bit RSA key. Never use it for anything but the lab.
pub fn insecure_weak_key<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Result<RsaPrivateKey> {
    RsaPrivateKey::generate(rng, LAB_WEAK_KEY_BITS).map_err(|e| Error::Internal(e.to_string()))
}

/// A server configuration like [`ServerConfig::from_certificates`] makes, without the 2048-bit
/// minimum: the lab's Bleichenbacher target.
pub fn insecure_weak_key_server_config(
    chain: &[Certificate],
    private_key: RsaPrivateKey,
) -> Result<ServerConfig> {
    match chain.first() {
        Some(leaf) if leaf.public_key() == &private_key.public_key() => {}
        _ => {
            return Err(Error::Internal(
                "the private key does not belong to the server certificate".into(),
            ));
        }
    }
    Ok(ServerConfig::without_key_size_check(
        chain.iter().map(|c| c.der().to_vec()).collect(),
        private_key,
    ))
}

/// The standard chain check ([`crate::config::X509Verifier`]) under the teaching policy, which
/// accepts RSA keys down to 1024 bits. For the lab's victim client only.
pub struct InsecureWeakKeyVerifier {
    pub trust_anchors: Vec<Certificate>,
}

impl ServerCertVerifier for InsecureWeakKeyVerifier {
    fn verify(&self, chain: &[Vec<u8>], host: &str, now: UnixTime) -> Result<RsaPublicKey> {
        verified_leaf_key(chain, "", |parsed| {
            let policy = &Policy::INSECURE_WEAK_KEYS_FOR_TEACHING;
            verify_with_policy(parsed, &self.trust_anchors, host, now, policy).map(|_| ())
        })
    }
}
