//! RSA PKCS#1 v1.5 against the `openssl` command line, both directions, on every backend this
//! CPU has: OpenSSL verifies our signatures and decrypts our ciphertexts, we verify OpenSSL's
//! signatures and decrypt OpenSSL's ciphertexts, with RSA-2048 (the dedicated backends) and
//! RSA-3072 (the general portable code). A tampered signature fails on both sides.

mod stacks;

use std::path::Path;
use std::process::Command;

use rand::SeedableRng;
use rand::rngs::StdRng;
use stacks::TempDir;
use toytls::crypto::rsa::{RsaBackend, RsaPrivateKey};
use toytls::x509::pem;

/// Runs openssl with `args`; panics with its stderr if it fails.
fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether `openssl dgst -verify` accepts `sig` for `msg` under the public key file.
fn openssl_verifies(public_pem: &Path, msg: &Path, sig: &[u8], dir: &Path) -> bool {
    let sig_path = dir.join("check.sig");
    std::fs::write(&sig_path, sig).unwrap();
    Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public_pem)
        .arg("-signature")
        .arg(&sig_path)
        .arg(msg)
        .output()
        .expect("openssl runs")
        .status
        .success()
}

fn cross_check(bits: usize, seed: u64) {
    if !stacks::have("openssl", "version") {
        return;
    }
    let dir = TempDir::new("rsa-openssl");
    let mut rng = StdRng::seed_from_u64(seed);
    let key = RsaPrivateKey::generate(&mut rng, bits).unwrap();
    let key_pem = dir.join("key.pem");
    let pub_pem = dir.join("pub.pem");
    std::fs::write(&key_pem, pem::encode_private_key_pkcs8(&key)).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    openssl(&["pkey", "-in", &s(&key_pem), "-pubout", "-out", &s(&pub_pem)]);

    let msg = b"RSA key transport, checked against OpenSSL".to_vec();
    let msg_path = dir.join("msg");
    std::fs::write(&msg_path, &msg).unwrap();

    // What OpenSSL makes once, every backend must accept.
    let their_sig = openssl(&["dgst", "-sha256", "-sign", &s(&key_pem), &s(&msg_path)]);
    let their_ct = openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        &s(&pub_pem),
        "-in",
        &s(&msg_path),
    ]);

    let backends: Vec<_> = RsaBackend::ALL
        .iter()
        .filter_map(|&b| key.with_backend(b))
        .collect();
    assert!(backends.iter().any(|k| k.backend() == RsaBackend::Portable));
    for key in backends {
        let backend = key.backend();
        let public = key.public_key();

        // Ours, checked by OpenSSL.
        let sig = key.sign_pkcs1v15_sha256(&mut rng, &msg).unwrap();
        assert!(
            openssl_verifies(&pub_pem, &msg_path, &sig, &dir),
            "{bits} bits, {backend}: OpenSSL rejects our signature"
        );
        let mut bad = sig.clone();
        bad[bits / 16] ^= 0x40;
        assert!(
            !openssl_verifies(&pub_pem, &msg_path, &bad, &dir),
            "{bits} bits, {backend}: OpenSSL accepts a tampered signature"
        );
        let ct = public.encrypt_pkcs1v15(&mut rng, &msg).unwrap();
        let ct_path = dir.join("ours.ct");
        std::fs::write(&ct_path, &ct).unwrap();
        let decrypted = openssl(&[
            "pkeyutl",
            "-decrypt",
            "-inkey",
            &s(&key_pem),
            "-in",
            &s(&ct_path),
        ]);
        assert_eq!(
            decrypted, msg,
            "{bits} bits, {backend}: OpenSSL decrypts ours"
        );

        // OpenSSL's, checked by us.
        assert_eq!(
            public.verify_pkcs1v15_sha256(&msg, &their_sig),
            Ok(()),
            "{bits} bits, {backend}: OpenSSL's signature"
        );
        assert_eq!(sig, their_sig, "PKCS#1 v1.5 signatures are deterministic");
        let mut bad = their_sig.clone();
        bad[0] ^= 0x01;
        assert!(public.verify_pkcs1v15_sha256(&msg, &bad).is_err());
        assert_eq!(
            key.decrypt_pkcs1v15(&mut rng, &their_ct).unwrap(),
            msg,
            "{bits} bits, {backend}: OpenSSL's ciphertext"
        );
    }
}

#[test]
fn rsa_2048_against_openssl_on_every_backend() {
    cross_check(2048, 1);
}

#[test]
fn rsa_3072_against_openssl() {
    cross_check(3072, 2);
}
