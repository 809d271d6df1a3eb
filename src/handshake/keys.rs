//! The key schedule: from the pre-master secret to every key (RFC 5246 8.1, 6.3, 7.4.9).
//!
//! The whole story on one screen:
//!
//! ```text
//! pre_master_secret = client_version (2) || 46 random bytes        client picks it, RSA-encrypts it
//! master_secret     = PRF(pre_master_secret, "extended master secret",
//!                         session_hash)[0..48]                      RFC 7627 4 (both sent the
//!                                                                   extension; the default)
//!                   = PRF(pre_master_secret, "master secret",
//!                         client_random || server_random)[0..48]    RFC 5246 8.1 (otherwise)
//! session_hash      = SHA-256(handshake messages, ClientHello .. ClientKeyExchange)
//! key_block         = PRF(master_secret, "key expansion",
//!                         server_random || client_random)           RFC 5246 6.3: randoms swapped!
//!                   = client MAC key || server MAC key || client key || server key
//!                     || client IV || server IV
//! verify_data       = PRF(master_secret, "client finished" | "server finished",
//!                         SHA-256(handshake messages))[0..12]       RFC 5246 7.4.9
//! ```
//!
//! Only the pre-master secret ever crosses the wire, and only encrypted under the server's RSA key.
//! Both sides feed it and the two public randoms to the same PRF, so both get the same keys; an
//! eavesdropper who sees the randoms but not the pre-master secret gets nothing. The randoms make
//! every connection's keys fresh, even when resumption reuses a master secret.
//!
//! Why the extended master secret (RFC 7627)? With the RFC 5246 formula the master secret depends
//! only on the pre-master secret and the two randoms, and a man in the middle can make all three
//! equal on two different connections: as a server to an honest client it receives the
//! pre-master secret, then as a client to the real server it re-encrypts that same secret and
//! copies the randoms across. Both connections then share one master secret although they saw
//! different certificates, and resuming or renegotiating the session lets the attacker splice them
//! (the "triple handshake" attack, RFC 7627 1 and 2). Hashing the whole handshake up to
//! ClientKeyExchange into the master secret, server certificate included, binds the secret to
//! *this* handshake: the two connections' transcripts differ, so their master secrets differ.
//!
//! Every secret here is wiped from memory when dropped.

use crate::Side;
use crate::crypto::ct;
use crate::crypto::prf::prf_sha256;
use crate::crypto::rsa::RsaPrivateKey;
use crate::record::suite::{DirectionKeys, SuiteInfo};
use crate::trace::KeyPart;
use crate::wire::messages::ProtocolVersion;
use rand::Rng;
use std::ops::Range;
use zeroize::Zeroize;

/// RFC 5246 8.1.1: 48 bytes, the first two the version the client offered.
pub struct PreMasterSecret(pub [u8; 48]);

/// RFC 5246 8.1: the 48-byte secret a session is made of; resumption reuses it.
#[derive(Clone)]
pub struct MasterSecret(pub [u8; 48]);

impl PreMasterSecret {
    /// RFC 5246 7.4.7.1, the server's side: the pre-master secret in `encrypted`, decrypted with
    /// `key`, if it is 48 bytes of well-formed PKCS#1 v1.5 whose first two are `client_version`
    /// (the version the ClientHello offered, not the negotiated one). Otherwise, whatever was
    /// wrong, `client_version` and 46 random bytes, and the handshake goes on until the
    /// client's Finished fails to authenticate (`bad_record_mac`), exactly as with a wrong but
    /// well-formed secret. Saying which check failed, by an alert or by timing, would hand the
    /// client a decryption oracle (Bleichenbacher 1998; Marvin, 2023).
    ///
    /// The RFC's steps: the random bytes are drawn first, on every call; RSA decrypts to exactly
    /// 48 bytes or gives back those random bytes, without saying which
    /// ([`RsaPrivateKey::decrypt_pkcs1v15_exact_or`]); the version is compared in constant time,
    /// and a mismatch picks the random secret too.
    pub fn decrypt<R: rand::CryptoRng + ?Sized>(
        key: &RsaPrivateKey,
        rng: &mut R,
        encrypted: &[u8],
        client_version: ProtocolVersion,
    ) -> Self {
        let version = client_version.to_bytes();
        let mut fallback = PreMasterSecret([0u8; 48]);
        fallback.0[..2].copy_from_slice(&version);
        rng.fill_bytes(&mut fallback.0[2..]);
        let decrypted = PreMasterSecret(key.decrypt_pkcs1v15_exact_or(rng, encrypted, &fallback.0));
        let version_ok =
            ct::mask_u8_eq(decrypted.0[0], version[0]) & ct::mask_u8_eq(decrypted.0[1], version[1]);
        let mut pms = PreMasterSecret([0u8; 48]);
        ct::select_bytes(version_ok, &decrypted.0, &fallback.0, &mut pms.0);
        pms
    }

    /// RFC 5246 7.4.7.1: the client's choice, `client_version` (the version its ClientHello
    /// offered, not the negotiated one, so that a version rollback shows) then 46 random bytes.
    pub fn generate(client_version: ProtocolVersion, rng: &mut impl Rng) -> Self {
        let mut pms = PreMasterSecret([0u8; 48]);
        pms.0[..2].copy_from_slice(&client_version.to_bytes());
        rng.fill_bytes(&mut pms.0[2..]);
        pms
    }
}

impl Drop for PreMasterSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for MasterSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The PRF label of the RFC 5246 master secret (8.1).
pub const MASTER_SECRET_LABEL: &str = "master secret";
/// The PRF label of the RFC 7627 extended master secret (4).
pub const EXTENDED_MASTER_SECRET_LABEL: &str = "extended master secret";
/// The PRF label of the key block (RFC 5246 6.3).
pub const KEY_EXPANSION_LABEL: &str = "key expansion";

/// RFC 5246 8.1: the master secret's seed, `ClientHello.random + ServerHello.random`.
pub fn master_secret_seed(client_random: &[u8; 32], server_random: &[u8; 32]) -> [u8; 64] {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(client_random);
    seed[32..].copy_from_slice(server_random);
    seed
}

/// RFC 5246 6.3: the key block's seed, `server_random + client_random`: the other order.
pub fn key_expansion_seed(client_random: &[u8; 32], server_random: &[u8; 32]) -> [u8; 64] {
    master_secret_seed(server_random, client_random)
}

/// RFC 5246 7.4.9: the label of `who`'s Finished.
pub fn finished_label(who: Side) -> &'static str {
    match who {
        Side::Client => "client finished",
        Side::Server => "server finished",
    }
}

/// RFC 5246 8.1: `master_secret = PRF(pre_master_secret, "master secret", ClientHello.random +
/// ServerHello.random)[0..48]`.
pub fn master_secret(
    pre_master: &PreMasterSecret,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> MasterSecret {
    let seed = master_secret_seed(client_random, server_random);
    let mut ms = MasterSecret([0; 48]);
    prf_sha256(
        &pre_master.0,
        MASTER_SECRET_LABEL.as_bytes(),
        &seed,
        &mut ms.0,
    );
    ms
}

/// RFC 7627 4: `master_secret = PRF(pre_master_secret, "extended master secret",
/// session_hash)[0..48]`, where `session_hash` is the SHA-256 transcript hash of every handshake
/// message from ClientHello up to and including ClientKeyExchange (the same hash Finished uses,
/// taken earlier). The randoms are no longer in the seed: ClientHello and ServerHello carry
/// them, so the session hash covers them anyway, along with everything else the two sides said.
pub fn extended_master_secret(
    pre_master: &PreMasterSecret,
    session_hash: &[u8; 32],
) -> MasterSecret {
    let mut ms = MasterSecret([0; 48]);
    prf_sha256(
        &pre_master.0,
        EXTENDED_MASTER_SECRET_LABEL.as_bytes(),
        session_hash,
        &mut ms.0,
    );
    ms
}

/// The key block cut into its six parts (RFC 5246 6.3), for one suite:
/// `client_write_MAC_key || server_write_MAC_key || client_write_key || server_write_key ||
/// client_write_IV || server_write_IV`.
pub struct KeyBlock {
    bytes: Vec<u8>,
    mac: usize,
    key: usize,
    iv: usize,
}

impl KeyBlock {
    /// The keys the client writes with (and the server reads with).
    pub fn client_write(&self) -> DirectionKeys<'_> {
        self.direction(Side::Client)
    }

    /// The keys the server writes with (and the client reads with).
    pub fn server_write(&self) -> DirectionKeys<'_> {
        self.direction(Side::Server)
    }

    /// The keys `side` reads with and writes with, in that order: each side writes with its own
    /// keys and reads with its peer's.
    pub fn for_side(&self, side: Side) -> (DirectionKeys<'_>, DirectionKeys<'_>) {
        match side {
            Side::Client => (self.server_write(), self.client_write()),
            Side::Server => (self.client_write(), self.server_write()),
        }
    }

    /// Where each key lies in the block, in RFC 5246 6.3 order: `client_write_MAC_key,
    /// server_write_MAC_key, client_write_key, server_write_key, client_write_IV,
    /// server_write_IV`. (An AEAD suite's MAC keys are empty.)
    pub fn layout(&self) -> [(Side, KeyPart, Range<usize>); 6] {
        let mut at = 0;
        let mut next = |len: usize| {
            at += len;
            at - len..at
        };
        [
            (Side::Client, KeyPart::MacKey, next(self.mac)),
            (Side::Server, KeyPart::MacKey, next(self.mac)),
            (Side::Client, KeyPart::EncKey, next(self.key)),
            (Side::Server, KeyPart::EncKey, next(self.key)),
            (Side::Client, KeyPart::Iv, next(self.iv)),
            (Side::Server, KeyPart::Iv, next(self.iv)),
        ]
    }

    /// The three keys `writer` protects its records with.
    fn direction(&self, writer: Side) -> DirectionKeys<'_> {
        let layout = self.layout();
        let at = |part: KeyPart| {
            let (_, _, range) = layout
                .iter()
                .find(|(w, p, _)| *w == writer && *p == part)
                .expect("the layout has every part of both directions");
            &self.bytes[range.clone()]
        };
        DirectionKeys {
            mac_key: at(KeyPart::MacKey),
            enc_key: at(KeyPart::EncKey),
            iv: at(KeyPart::Iv),
        }
    }

    /// The whole block as the PRF produced it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for KeyBlock {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// RFC 5246 6.3: `key_block = PRF(master_secret, "key expansion", server_random + client_random)`,
/// as long as the suite needs. Note the randoms in the opposite order from the master secret.
pub fn key_block(
    ms: &MasterSecret,
    suite: &SuiteInfo,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> KeyBlock {
    let seed = key_expansion_seed(client_random, server_random);
    let mut bytes = vec![0u8; suite.key_block_len()];
    prf_sha256(&ms.0, KEY_EXPANSION_LABEL.as_bytes(), &seed, &mut bytes);
    KeyBlock {
        bytes,
        mac: suite.mac_key_len,
        key: suite.enc_key_len,
        iv: suite.fixed_iv_len,
    }
}

/// RFC 5246 7.4.9: `verify_data = PRF(master_secret, finished_label,
/// Hash(handshake_messages))[0..12]`, where the hash is SHA-256 of every handshake message so far
/// (headers included; records, ChangeCipherSpec and alerts excluded).
///
/// `who` is whose Finished it is: the labels differ so that one side's Finished cannot be
/// reflected back as the other's.
pub fn verify_data(ms: &MasterSecret, who: Side, handshake_hash: &[u8; 32]) -> [u8; 12] {
    let mut out = [0u8; 12];
    prf_sha256(
        &ms.0,
        finished_label(who).as_bytes(),
        handshake_hash,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    //! Expected values computed independently with OpenSSL 3.0:
    //! `openssl kdf -keylen N -kdfopt digest:SHA256 -kdfopt hexsecret:S -kdfopt hexseed:LABEL||SEED TLS1-PRF`.
    use super::*;
    use crate::record::suite::lookup;
    use crate::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn inputs() -> (PreMasterSecret, [u8; 32], [u8; 32]) {
        let mut pms = [0u8; 48];
        pms[0] = 3;
        pms[1] = 3;
        for (i, b) in pms[2..].iter_mut().enumerate() {
            *b = i as u8 + 1;
        }
        let cr: [u8; 32] = std::array::from_fn(|i| i as u8);
        let sr: [u8; 32] = std::array::from_fn(|i| 0x70 + i as u8);
        (PreMasterSecret(pms), cr, sr)
    }

    #[test]
    fn master_secret_matches_openssl() {
        let (pms, cr, sr) = inputs();
        let ms = master_secret(&pms, &cr, &sr);
        assert_eq!(
            ms.0.to_vec(),
            unhex(
                "059badeb07d283b46bbe15ceec03e8d8ea339326ae70a81f3e188260150b1d258ed98da28ee24615bd7c3cb3e38fcab5"
            )
        );
        // Swapping the randoms (the classic mistake) gives something else.
        assert_ne!(master_secret(&pms, &sr, &cr).0, ms.0);
    }

    /// `openssl kdf ... -kdfopt hexseed:"extended master secret"||SHA-256("abc") TLS1-PRF` over
    /// the pre-master secret of [`inputs`].
    const EMS_ABC: &str = "e61b68b5e9129235ac0af790c17f6463ff1c005f8d2d0752f4fe8afbd000ba3540127d0c50a94417b9da18de0dfbc327";

    #[test]
    fn extended_master_secret_matches_openssl_and_differs_from_the_rfc_5246_one() {
        let (pms, cr, sr) = inputs();
        // SHA-256("abc") stands in for the session hash.
        let h: [u8; 32] = unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            .try_into()
            .unwrap();
        let ems = extended_master_secret(&pms, &h);
        assert_eq!(ems.0.to_vec(), unhex(EMS_ABC));
        assert_ne!(ems.0, master_secret(&pms, &cr, &sr).0);
        // Another transcript, another master secret: this is the binding.
        let mut other = h;
        other[31] ^= 1;
        assert_ne!(extended_master_secret(&pms, &other).0, ems.0);
    }

    #[test]
    fn key_block_uses_server_random_first_and_splits_in_rfc_order() {
        let (pms, cr, sr) = inputs();
        let ms = master_secret(&pms, &cr, &sr);
        let kb = key_block(
            &ms,
            lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap(),
            &cr,
            &sr,
        );
        let expect = unhex(
            "b9af108b0e47f21a269a8b2cc23f563547152ad63d84e00edad3a270056a528117a9b0abd557c001aa4d1b6da42646454a8a78b82e8f1ccd3ab0b854103b9fa6d3dd673a87d88c6968690a7e35db2a92fb1b3e3b871cbd6d45749c6c04165b7479f300e49e30bbdf",
        );
        assert_eq!(kb.as_bytes(), &expect[..]);
        let (c, s) = (kb.client_write(), kb.server_write());
        assert_eq!(c.mac_key, &expect[0..32]);
        assert_eq!(s.mac_key, &expect[32..64]);
        assert_eq!(c.enc_key, &expect[64..80]);
        assert_eq!(s.enc_key, &expect[80..96]);
        assert_eq!(c.iv, &expect[96..100]);
        assert_eq!(s.iv, &expect[100..104]);
        // Each side writes with its own keys and reads with the other's.
        let (read, write) = kb.for_side(Side::Client);
        assert_eq!((read.enc_key, write.enc_key), (s.enc_key, c.enc_key));
        let (read, write) = kb.for_side(Side::Server);
        assert_eq!((read.iv, write.iv), (c.iv, s.iv));
    }

    #[test]
    fn verify_data_matches_openssl_and_labels_differ() {
        let (pms, cr, sr) = inputs();
        let ms = master_secret(&pms, &cr, &sr);
        // SHA-256("abc") stands in for a transcript hash.
        let h: [u8; 32] = unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            .try_into()
            .unwrap();
        let c = verify_data(&ms, Side::Client, &h);
        assert_eq!(c.to_vec(), unhex("f5cb0609307552e515baba75"));
        assert_ne!(verify_data(&ms, Side::Server, &h), c);
    }
}
