//! RSA PKCS#1 v1.5 against Project Wycheproof and against itself.
//!
//! - `wycheproof/rsa_pkcs1_2048_test.json`: RSAES-PKCS1-v1_5 decryption, every case (valid ones
//!   decrypt to `msg`, invalid ones fail with the one decryption error).
//! - `wycheproof/rsa_signature_2048_sha256_test.json`: RSASSA-PKCS1-v1_5 with SHA-256, every case
//!   (valid verify, invalid fail, "acceptable" may do either). The public key is taken from the
//!   group's hex `publicKey.modulus` / `publicExponent` fields.
//! - Generated keys of 1024, 2048 and 3072 bits (each generated once per test run): size and
//!   structure of the key, round trips, and negative tests.
//! - The RFC 5246 7.4.7.1 helper: the real secret for a good ciphertext, a fresh random one for bad
//!   padding, wrong length and wrong version.
//! - Every backend: the Wycheproof cases, the round trips and property tests against
//!   `num-bigint` run on each backend this CPU has (`RsaBackend`), forcing the portable one even
//!   where a faster one would be picked, so the portable code is tested on every machine.

use std::sync::OnceLock;

use num_bigint::BigUint;
use rand::SeedableRng;
use rand::rngs::StdRng;
use toytls::crypto::rsa::{RsaBackend, RsaError, RsaPrivateKey, RsaPublicKey};
use toytls::handshake::keys::PreMasterSecret;
use toytls::wire::messages::ProtocolVersion;

#[path = "common/vectors.rs"]
mod vectors;

use vectors::{hex, load};

/// The server's RFC 5246 7.4.7.1 decryption of a pre-master secret, as the handshake layer does
/// it on this RSA code: 48 bytes with the version `version`, else a random secret.
fn decrypt_pms(key: &RsaPrivateKey, rng: &mut StdRng, ct: &[u8], version: [u8; 2]) -> [u8; 48] {
    let v = ProtocolVersion(u16::from_be_bytes(version));
    PreMasterSecret::decrypt(key, rng, ct, v).0
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// `key` on every backend that can run it here (at least the portable one).
fn on_every_backend(key: &RsaPrivateKey) -> Vec<RsaPrivateKey> {
    let keys: Vec<_> = RsaBackend::ALL
        .iter()
        .filter_map(|&b| key.with_backend(b))
        .collect();
    assert!(keys.iter().any(|k| k.backend() == RsaBackend::Portable));
    keys
}

/// The same for a public key.
fn on_every_public_backend(key: &RsaPublicKey) -> Vec<RsaPublicKey> {
    let keys: Vec<_> = RsaBackend::ALL
        .iter()
        .filter_map(|&b| key.with_backend(b))
        .collect();
    assert!(keys.iter().any(|k| k.backend() == RsaBackend::Portable));
    keys
}

// ---------------------------------------------------------------------------------------------
// Wycheproof

#[test]
fn wycheproof_pkcs1_decryption_all_cases() {
    let doc = load("wycheproof/rsa_pkcs1_2048_test.json");
    let mut rng = rng(1);
    let (mut valid, mut invalid) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let k = &group["privateKey"];
        let key = RsaPrivateKey::from_be_bytes(
            &hex(&k["modulus"]),
            &hex(&k["publicExponent"]),
            &hex(&k["privateExponent"]),
            &hex(&k["prime1"]),
            &hex(&k["prime2"]),
        )
        .expect("Wycheproof key loads");
        assert_eq!(key.public_key().bits(), 2048);

        // The CRT values we recompute equal the ones in the file.
        let c = key.components();
        let trim = |v: Vec<u8>| BigUint::from_bytes_be(&v).to_bytes_be();
        assert_eq!(c.dp, trim(hex(&k["exponent1"])), "dp");
        assert_eq!(c.dq, trim(hex(&k["exponent2"])), "dq");
        assert_eq!(c.qinv, trim(hex(&k["coefficient"])), "qinv");

        let keys = on_every_backend(&key);
        for t in group["tests"].as_array().unwrap() {
            let id = &t["tcId"];
            let ct = hex(&t["ct"]);
            let result = t["result"].as_str().unwrap();
            match result {
                "valid" => valid += 1,
                "invalid" => invalid += 1,
                other => panic!("tcId {id}: unexpected result {other}"),
            }
            for key in &keys {
                let got = key.decrypt_pkcs1v15(&mut rng, &ct);
                let backend = key.backend();
                if result == "valid" {
                    assert_eq!(
                        got.as_deref(),
                        Ok(&hex(&t["msg"])[..]),
                        "tcId {id}, {backend}"
                    );
                } else {
                    assert_eq!(got, Err(RsaError::Decryption), "tcId {id}, {backend}");
                }
            }
        }
    }
    assert_eq!(valid + invalid, doc["numberOfTests"].as_u64().unwrap());
    assert_eq!((valid, invalid), (42, 25));
}

#[test]
fn wycheproof_pkcs1_through_the_pre_master_helper() {
    // Wycheproof has no 48-byte messages, so every case must come back as a random secret, never
    // as the message or an error. (Good 48-byte cases are tested with generated keys below.)
    let doc = load("wycheproof/rsa_pkcs1_2048_test.json");
    let mut rng = rng(2);
    let group = &doc["testGroups"][0];
    let k = &group["privateKey"];
    let key = RsaPrivateKey::from_be_bytes(
        &hex(&k["modulus"]),
        &hex(&k["publicExponent"]),
        &hex(&k["privateExponent"]),
        &hex(&k["prime1"]),
        &hex(&k["prime2"]),
    )
    .unwrap();
    for t in group["tests"].as_array().unwrap() {
        let ct = hex(&t["ct"]);
        let msg = hex(&t["msg"]);
        let a = decrypt_pms(&key, &mut rng, &ct, [3, 3]);
        let b = decrypt_pms(&key, &mut rng, &ct, [3, 3]);
        assert_ne!(a, b, "tcId {}: not fresh randomness", t["tcId"]);
        assert!(msg.len() != 48);
    }
}

#[test]
fn wycheproof_signatures_sha256_all_cases() {
    let doc = load("wycheproof/rsa_signature_2048_sha256_test.json");
    let (mut seen, mut valid, mut invalid) = (0, 0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = &group["publicKey"];
        let key = RsaPublicKey::from_be_bytes(&hex(&pk["modulus"]), &hex(&pk["publicExponent"]))
            .expect("Wycheproof public key loads");
        let keys = on_every_public_backend(&key);
        for t in group["tests"].as_array().unwrap() {
            seen += 1;
            let id = &t["tcId"];
            let result = t["result"].as_str().unwrap();
            match result {
                "valid" => valid += 1,
                "invalid" => invalid += 1,
                "acceptable" => {}
                other => panic!("tcId {id}: unexpected result {other}"),
            }
            for key in &keys {
                let got = key.verify_pkcs1v15_sha256(&hex(&t["msg"]), &hex(&t["sig"]));
                let backend = key.backend();
                match result {
                    "valid" => assert_eq!(got, Ok(()), "tcId {id}, {backend}"),
                    // "acceptable" (a DigestInfo without the NULL parameter): either outcome is
                    // allowed. We reject it, because we only accept the one canonical encoding.
                    _ => assert_eq!(got, Err(RsaError::InvalidSignature), "tcId {id}, {backend}"),
                }
            }
        }
    }
    assert_eq!(seen, doc["numberOfTests"].as_u64().unwrap());
    assert!(valid > 0 && invalid > 0);
}

// ---------------------------------------------------------------------------------------------
// Generated keys, each size generated once per run.

fn key(bits: usize) -> &'static RsaPrivateKey {
    static K1024: OnceLock<RsaPrivateKey> = OnceLock::new();
    static K2048: OnceLock<RsaPrivateKey> = OnceLock::new();
    static K3072: OnceLock<RsaPrivateKey> = OnceLock::new();
    let cell = match bits {
        1024 => &K1024,
        2048 => &K2048,
        3072 => &K3072,
        _ => unreachable!(),
    };
    cell.get_or_init(|| RsaPrivateKey::generate(&mut rng(bits as u64), bits).unwrap())
}

/// Fermat test to a few bases: enough to catch a composite that slipped through.
fn looks_prime(x: &BigUint) -> bool {
    [2u32, 3, 5, 7, 11]
        .iter()
        .all(|&a| BigUint::from(a).modpow(&(x - 1u32), x) == BigUint::ONE)
}

fn check_generated_key(bits: usize) {
    let key = key(bits);
    let public = key.public_key();
    assert_eq!(public.bits(), bits);
    assert_eq!(public.modulus_len(), bits / 8);
    assert_eq!(public.e_be_bytes(), vec![0x01, 0x00, 0x01]);

    let c = key.components();
    let big = |v: &[u8]| BigUint::from_bytes_be(v);
    let (n, e, d, p, q) = (big(&c.n), big(&c.e), big(&c.d), big(&c.p), big(&c.q));
    assert_eq!(n.bits() as usize, bits, "n has exactly {bits} bits");
    assert_eq!(&p * &q, n);
    for prime in [&p, &q] {
        assert_eq!(prime.bits() as usize, bits / 2);
        assert!(prime.bit(bits as u64 / 2 - 2), "second-highest bit set");
        assert!(looks_prime(prime));
    }
    let (p1, q1) = (&p - 1u32, &q - 1u32);
    assert_eq!((&e * &d) % &p1, BigUint::ONE);
    assert_eq!((&e * &d) % &q1, BigUint::ONE);
    assert_eq!(big(&c.dp), &d % &p1);
    assert_eq!(big(&c.dq), &d % &q1);
    assert_eq!((big(&c.qinv) * &q) % &p, BigUint::ONE);

    // Reloading the components gives a working, identical key.
    let again = RsaPrivateKey::from_be_bytes(&c.n, &c.e, &c.d, &c.p, &c.q).unwrap();
    assert_eq!(again.public_key(), public);

    for key in on_every_backend(key)
        .iter()
        .chain(&on_every_backend(&again))
    {
        round_trips(key);
    }
}

fn round_trips(key: &RsaPrivateKey) {
    let public = key.public_key();
    assert_eq!(public.backend(), key.public_key().backend());
    let k = public.modulus_len();
    let mut rng = rng(99);
    for len in [0, 1, 48, k - 11] {
        let msg: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
        let ct = public.encrypt_pkcs1v15(&mut rng, &msg).unwrap();
        assert_eq!(ct.len(), k);
        assert_eq!(
            key.decrypt_pkcs1v15(&mut rng, &ct).unwrap(),
            msg,
            "len {len}"
        );
        // Encryption is randomised.
        assert_ne!(public.encrypt_pkcs1v15(&mut rng, &msg).unwrap(), ct);
    }
    let sig = key.sign_pkcs1v15_sha256(&mut rng, b"hello").unwrap();
    assert_eq!(sig.len(), k);
    assert_eq!(public.verify_pkcs1v15_sha256(b"hello", &sig), Ok(()));
    // PKCS#1 v1.5 signatures are deterministic, blinding or not.
    assert_eq!(key.sign_pkcs1v15_sha256(&mut rng, b"hello").unwrap(), sig);
}

#[test]
fn generated_1024_bit_key() {
    check_generated_key(1024);
}

#[test]
fn generated_2048_bit_key() {
    check_generated_key(2048);
}

#[test]
fn generated_3072_bit_key() {
    check_generated_key(3072);
}

#[test]
fn works_with_the_thread_rng() {
    let key = key(1024);
    let ct = key
        .public_key()
        .encrypt_pkcs1v15(&mut rand::rng(), b"thread rng")
        .unwrap();
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rand::rng(), &ct).unwrap(),
        b"thread rng"
    );
}

// ---------------------------------------------------------------------------------------------
// Negative tests

#[test]
fn message_too_long_is_refused() {
    let public = key(1024).public_key();
    let k = public.modulus_len();
    let mut rng = rng(3);
    assert_eq!(
        public.encrypt_pkcs1v15(&mut rng, &vec![1u8; k - 10]),
        Err(RsaError::MessageTooLong)
    );
    assert!(
        public
            .encrypt_pkcs1v15(&mut rng, &vec![1u8; k - 11])
            .is_ok()
    );
}

#[test]
fn wrong_key_does_not_decrypt_or_verify() {
    let (a, b) = (key(1024), key(2048));
    let mut rng = rng(4);
    let ct = a.public_key().encrypt_pkcs1v15(&mut rng, b"for a").unwrap();
    // Wrong length for b's modulus.
    assert_eq!(b.decrypt_pkcs1v15(&mut rng, &ct), Err(RsaError::Decryption));
    // Same length, other key: a second 1024-bit key.
    let other = RsaPrivateKey::generate(&mut rng, 1024).unwrap();
    assert_ne!(
        other.decrypt_pkcs1v15(&mut rng, &ct).as_deref(),
        Ok(&b"for a"[..])
    );

    let sig = a.sign_pkcs1v15_sha256(&mut rng, b"msg").unwrap();
    assert_eq!(
        other.public_key().verify_pkcs1v15_sha256(b"msg", &sig),
        Err(RsaError::InvalidSignature)
    );
}

#[test]
fn tampered_signatures_and_messages_fail() {
    let key = key(2048);
    let public = key.public_key();
    let mut rng = rng(5);
    let sig = key.sign_pkcs1v15_sha256(&mut rng, b"message").unwrap();
    assert_eq!(public.verify_pkcs1v15_sha256(b"message", &sig), Ok(()));
    assert_eq!(
        public.verify_pkcs1v15_sha256(b"messagE", &sig),
        Err(RsaError::InvalidSignature)
    );
    for i in [0, 1, 100, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert_eq!(
            public.verify_pkcs1v15_sha256(b"message", &bad),
            Err(RsaError::InvalidSignature),
            "byte {i}"
        );
    }
    // Wrong lengths: one byte short (leading zero dropped) and one byte long.
    assert_eq!(
        public.verify_pkcs1v15_sha256(b"message", &sig[1..]),
        Err(RsaError::InvalidSignature)
    );
    let mut long = vec![0u8];
    long.extend_from_slice(&sig);
    assert_eq!(
        public.verify_pkcs1v15_sha256(b"message", &long),
        Err(RsaError::InvalidSignature)
    );
    // A "signature" equal to n (not below the modulus).
    assert_eq!(
        public.verify_pkcs1v15_sha256(b"message", &public.n_be_bytes()),
        Err(RsaError::InvalidSignature)
    );
}

#[test]
fn wrong_length_or_unreduced_ciphertexts_fail() {
    let key = key(1024);
    let public = key.public_key();
    let mut rng = rng(6);
    let ct = public.encrypt_pkcs1v15(&mut rng, b"x").unwrap();
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rng, &ct[1..]),
        Err(RsaError::Decryption)
    );
    let mut long = ct.clone();
    long.push(0);
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rng, &long),
        Err(RsaError::Decryption)
    );
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rng, &[]),
        Err(RsaError::Decryption)
    );
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rng, &public.n_be_bytes()),
        Err(RsaError::Decryption)
    );
    let mut tampered = ct.clone();
    tampered[50] ^= 0x80;
    assert_eq!(
        key.decrypt_pkcs1v15(&mut rng, &tampered),
        Err(RsaError::Decryption)
    );
}

#[test]
fn invalid_keys_are_refused() {
    let c = key(1024).components();
    let bad = |n: &[u8], e: &[u8], d: &[u8], p: &[u8], q: &[u8]| {
        matches!(
            RsaPrivateKey::from_be_bytes(n, e, d, p, q),
            Err(RsaError::InvalidKey(_))
        )
    };
    assert!(bad(&c.n, &c.e, &c.d, &c.q, &c.q), "p = q");
    assert!(bad(&c.n, &c.e, &c.d, &c.p, &[1]), "q = 1");
    assert!(bad(&c.n, &[3], &c.d, &c.p, &c.q), "d does not match e");
    let mut d1 = c.d.clone();
    *d1.last_mut().unwrap() ^= 2;
    assert!(bad(&c.n, &c.e, &d1, &c.p, &c.q), "d changed");
    assert!(bad(&c.n, &c.e, &[0], &c.p, &c.q), "d = 0");

    let pubkey = |n: &[u8], e: &[u8]| RsaPublicKey::from_be_bytes(n, e);
    assert!(pubkey(&c.n, &c.e).is_ok());
    assert!(pubkey(&c.n, &[2]).is_err(), "even e");
    assert!(pubkey(&c.n, &[1]).is_err(), "e = 1");
    assert!(pubkey(&c.n, &[1, 0, 0, 0, 1]).is_err(), "e above 2^32");
    let mut even_n = c.n.clone();
    *even_n.last_mut().unwrap() &= 0xfe;
    assert!(pubkey(&even_n, &c.e).is_err(), "even n");
    assert!(pubkey(&c.n[..64], &c.e).is_err(), "512-bit n");
}

#[test]
fn generate_refuses_tiny_and_huge_sizes() {
    let mut rng = rng(7);
    assert_eq!(
        RsaPrivateKey::generate(&mut rng, 512).err(),
        Some(RsaError::UnsupportedKeySize(512))
    );
    assert_eq!(
        RsaPrivateKey::generate(&mut rng, 16384).err(),
        Some(RsaError::UnsupportedKeySize(16384))
    );
}

#[test]
fn debug_output_does_not_print_secrets() {
    let key = key(1024);
    let text = format!("{key:?}");
    let d_hex: String = key
        .components()
        .d
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!text.contains(&d_hex[..16]));
    assert!(text.contains("1024"));
}

// ---------------------------------------------------------------------------------------------
// RFC 5246 7.4.7.1

/// Raw RSA with the public key: `block^e mod n`, so tests can encrypt malformed blocks.
fn raw_encrypt(public: &RsaPublicKey, block: &[u8]) -> Vec<u8> {
    let n = BigUint::from_bytes_be(&public.n_be_bytes());
    let e = BigUint::from_bytes_be(&public.e_be_bytes());
    let c = BigUint::from_bytes_be(block).modpow(&e, &n).to_bytes_be();
    let mut out = vec![0u8; public.modulus_len()];
    out[public.modulus_len() - c.len()..].copy_from_slice(&c);
    out
}

/// A type-2 block holding `msg`, with `pad_byte` as padding.
fn block(k: usize, msg: &[u8], block_type: u8) -> Vec<u8> {
    let mut em = vec![0x5au8; k];
    em[0] = 0;
    em[1] = block_type;
    em[k - msg.len() - 1] = 0;
    em[k - msg.len()..].copy_from_slice(msg);
    em
}

fn pre_master(version: [u8; 2]) -> [u8; 48] {
    let mut pms = [0x77u8; 48];
    pms[..2].copy_from_slice(&version);
    pms
}

/// The helper gives a 48-byte secret that differs from `real` and from call to call.
fn assert_random_each_time(key: &RsaPrivateKey, ct: &[u8], version: [u8; 2], real: &[u8; 48]) {
    let mut rng = rng(8);
    let a = decrypt_pms(key, &mut rng, ct, version);
    let b = decrypt_pms(key, &mut rng, ct, version);
    assert_ne!(&a, real);
    assert_ne!(&b, real);
    assert_ne!(a, b, "the fallback secret must be fresh on each call");
}

#[test]
fn pre_master_helper_returns_the_real_secret_for_a_good_ciphertext() {
    for bits in [1024, 2048] {
        let key = key(bits);
        let mut rng = rng(9);
        let pms = pre_master([3, 3]);
        let ct = key.public_key().encrypt_pkcs1v15(&mut rng, &pms).unwrap();
        assert_eq!(decrypt_pms(key, &mut rng, &ct, [3, 3]), pms);
        assert_eq!(decrypt_pms(key, &mut rng, &ct, [3, 3]), pms);
    }
}

#[test]
fn pre_master_helper_random_on_bad_padding() {
    let key = key(1024);
    let public = key.public_key();
    let k = public.modulus_len();
    let pms = pre_master([3, 3]);
    // Block type 1 instead of 2, otherwise perfect.
    assert_random_each_time(key, &raw_encrypt(&public, &block(k, &pms, 1)), [3, 3], &pms);
    // No zero separator at all: the last 48 bytes are the secret but the padding runs into it.
    let mut em = block(k, &pms, 2);
    em[k - 49] = 0x5a;
    assert_random_each_time(key, &raw_encrypt(&public, &em), [3, 3], &pms);
    // PS of only 7 bytes (separator at index 9) with the secret at the end of the block.
    let mut em = vec![0x5au8; k];
    em[0] = 0;
    em[1] = 2;
    em[9] = 0;
    em[k - 48..].copy_from_slice(&pms);
    assert_random_each_time(key, &raw_encrypt(&public, &em), [3, 3], &pms);
}

#[test]
fn pre_master_helper_random_on_wrong_length() {
    let key = key(1024);
    let public = key.public_key();
    let mut rng = rng(10);
    let pms = pre_master([3, 3]);
    // 47 and 49 bytes of message; for 49 the last 48 bytes are exactly `pms`.
    let ct47 = public.encrypt_pkcs1v15(&mut rng, &pms[..47]).unwrap();
    assert_random_each_time(key, &ct47, [3, 3], &pms);
    let mut msg49 = vec![3u8];
    msg49.extend_from_slice(&pms);
    let ct49 = public.encrypt_pkcs1v15(&mut rng, &msg49).unwrap();
    assert_random_each_time(key, &ct49, [3, 3], &pms);
    // A ciphertext of the wrong length.
    let ct = public.encrypt_pkcs1v15(&mut rng, &pms).unwrap();
    assert_random_each_time(key, &ct[1..], [3, 3], &pms);
}

#[test]
fn pre_master_helper_random_on_wrong_version() {
    let key = key(1024);
    let mut rng = rng(11);
    let pms = pre_master([3, 1]);
    let ct = key.public_key().encrypt_pkcs1v15(&mut rng, &pms).unwrap();
    assert_random_each_time(key, &ct, [3, 3], &pms);
    let pms = pre_master([2, 3]);
    let ct = key.public_key().encrypt_pkcs1v15(&mut rng, &pms).unwrap();
    assert_random_each_time(key, &ct, [3, 3], &pms);
    // RFC 5246 7.4.7.1: whatever failed, the secret it continues with is the offered version
    // and 46 random bytes.
    assert_eq!(decrypt_pms(key, &mut rng, &ct, [3, 3])[..2], [3, 3]);
}

/// The primitive under the pre-master secret: exactly `N` bytes of well-formed PKCS#1 v1.5, or
/// the caller's fallback, with no error either way. It knows nothing of TLS versions.
#[test]
fn decrypt_to_exactly_n_bytes_or_the_fallback() {
    let key = key(1024);
    let public = key.public_key();
    let mut rng = rng(13);
    let msg = pre_master([3, 1]);
    let ct = public.encrypt_pkcs1v15(&mut rng, &msg).unwrap();
    let fallback = [0xeeu8; 48];
    assert_eq!(key.decrypt_pkcs1v15_exact_or(&mut rng, &ct, &fallback), msg);
    // Another length than the message's: the fallback, for shorter and for longer.
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &ct, &[0xee; 47]),
        [0xee; 47]
    );
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &ct, &[0xee; 49]),
        [0xee; 49]
    );
    // Bad padding, a ciphertext of the wrong length, an N the key cannot hold.
    let k = public.modulus_len();
    let bad = raw_encrypt(&public, &block(k, &msg, 1));
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &bad, &fallback),
        fallback
    );
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &ct[1..], &fallback),
        fallback
    );
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &ct, &[7u8; 200]),
        [7u8; 200]
    );
    // The same message as the whole-block decryption gives.
    let short = public
        .encrypt_pkcs1v15(&mut rng, b"sixteen bytes!!!")
        .unwrap();
    assert_eq!(
        key.decrypt_pkcs1v15_exact_or(&mut rng, &short, &[0u8; 16]),
        *b"sixteen bytes!!!"
    );
}

// ---------------------------------------------------------------------------------------------
// Blinding factors are reused by squaring and refreshed every 32 uses (see `rsa::private`).

#[test]
fn many_operations_span_several_blinding_refreshes_and_threads() {
    let key = key(1024);
    let public = key.public_key();
    let mut rng = rng(12);
    let ct = public
        .encrypt_pkcs1v15(&mut rng, b"again and again")
        .unwrap();
    // 70 uses: the first pair, two refreshes, and squared pairs in between.
    for i in 0..70 {
        assert_eq!(
            key.decrypt_pkcs1v15(&mut rng, &ct).unwrap(),
            b"again and again",
            "use {i}"
        );
    }
    // A clone starts with its own blinding state and works the same.
    let clone = key.clone();
    assert_eq!(
        clone.decrypt_pkcs1v15(&mut rng, &ct).unwrap(),
        b"again and again"
    );
    // Concurrent use of one key from several threads.
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let ct = &ct;
            s.spawn(move || {
                let mut rng = StdRng::seed_from_u64(100 + t);
                for _ in 0..20 {
                    assert_eq!(
                        key.decrypt_pkcs1v15(&mut rng, ct).unwrap(),
                        b"again and again"
                    );
                }
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Backends: selection, and every backend against num-bigint.

#[test]
fn keys_pick_the_best_backend_and_can_be_forced_onto_the_portable_one() {
    let k2048 = key(2048);
    let best = RsaBackend::best();
    assert!(best.is_available());
    assert_eq!(
        k2048.backend(),
        best,
        "an RSA-2048 key runs on the best backend"
    );
    let portable = k2048.with_backend(RsaBackend::Portable).unwrap();
    assert_eq!(portable.backend(), RsaBackend::Portable);
    assert_eq!(portable.public_key().backend(), RsaBackend::Portable);
    // The dedicated backend only runs RSA-2048; other sizes stay portable.
    assert_eq!(key(1024).backend(), RsaBackend::Portable);
    assert_eq!(key(3072).backend(), RsaBackend::Portable);
    assert!(key(3072).with_backend(RsaBackend::Ifma).is_none());
    assert_eq!(
        k2048.with_backend(RsaBackend::Ifma).is_some(),
        RsaBackend::Ifma.is_available()
    );
}

/// Raw RSA with num-bigint: `x^y mod n`, as exactly `k` bytes.
fn raw(x: &[u8], y: &[u8], n: &[u8], k: usize) -> Vec<u8> {
    let big = BigUint::from_bytes_be;
    let r = big(x).modpow(&big(y), &big(n)).to_bytes_be();
    let mut out = vec![0u8; k];
    out[k - r.len()..].copy_from_slice(&r);
    out
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(24))]

    /// On every backend and key size: a signature is exactly `EM^d mod n` computed with
    /// num-bigint (PKCS#1 v1.5 signatures are deterministic), and a ciphertext decrypts with
    /// num-bigint's `c^d mod n` to a type-2 block that ends in the message.
    #[test]
    fn every_backend_agrees_with_biguint(
        bits in proptest::sample::select(vec![1024usize, 2048, 3072]),
        msg in proptest::collection::vec(proptest::num::u8::ANY, 0..=100),
    ) {
        let key = key(bits);
        let c = key.components();
        let k = bits / 8;
        let mut rng = rng(msg.len() as u64);
        for key in on_every_backend(key) {
            let sig = key.sign_pkcs1v15_sha256(&mut rng, &msg).unwrap();
            // EM = sig^e: the block num-bigint gets back must re-sign to the same signature.
            let em = raw(&sig, &c.e, &c.n, k);
            proptest::prop_assert_eq!(&raw(&em, &c.d, &c.n, k), &sig, "{}", key.backend());
            proptest::prop_assert_eq!(key.public_key().verify_pkcs1v15_sha256(&msg, &sig), Ok(()));

            let ct = key.public_key().encrypt_pkcs1v15(&mut rng, &msg).unwrap();
            let block = raw(&ct, &c.d, &c.n, k);
            proptest::prop_assert_eq!(&block[..2], &[0u8, 2][..]);
            proptest::prop_assert_eq!(&block[k - msg.len()..], &msg[..]);
            proptest::prop_assert_eq!(block[k - msg.len() - 1], 0);
            proptest::prop_assert_eq!(key.decrypt_pkcs1v15(&mut rng, &ct).unwrap(), msg.clone());
        }
    }
}
