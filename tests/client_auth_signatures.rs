//! The signature of a client's CertificateVerify (RFC 5246 7.4.8, 4.7): RSASSA-PKCS1-v1_5 with
//! SHA-256, SHA-384 or SHA-512, whichever the server's CertificateRequest allows.
//!
//! Each hash signs and verifies; a signature made with one hash never verifies as another (the
//! DigestInfo inside names the hash: RFC 8017 9.2), nor over other bytes, nor when one bit of it
//! changes. And against the world: OpenSSL verifies our signatures (`openssl dgst -verify`) and
//! we verify OpenSSL's, for each hash, so the DigestInfo bytes are the standard ones.

mod stacks;

use stacks::*;
use std::process::Command;
use toytls::crypto::rsa::{RsaPrivateKey, SignatureHash};

const HASHES: [(SignatureHash, &str); 3] = [
    (SignatureHash::Sha256, "-sha256"),
    (SignatureHash::Sha384, "-sha384"),
    (SignatureHash::Sha512, "-sha512"),
];

fn key(p: &Pki) -> RsaPrivateKey {
    toytls::x509::pem::parse_private_key(&std::fs::read_to_string(p.key()).unwrap()).unwrap()
}

#[test]
fn each_hash_verifies_only_as_itself() {
    let p = Pki::new();
    let key = key(&p);
    let public = key.public_key();
    let msg = b"ClientHello .. ClientKeyExchange";
    for (hash, _) in HASHES {
        let sig = key.sign_pkcs1v15(&mut rand::rng(), hash, msg).unwrap();
        assert_eq!(sig.len(), public.modulus_len());
        public.verify_pkcs1v15(hash, msg, &sig).unwrap();
        for (other, _) in HASHES {
            if other != hash {
                assert!(
                    public.verify_pkcs1v15(other, msg, &sig).is_err(),
                    "a {hash:?} signature verified as {other:?}"
                );
            }
        }
        assert!(public.verify_pkcs1v15(hash, b"other bytes", &sig).is_err());
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert!(public.verify_pkcs1v15(hash, msg, &bad).is_err());
        assert!(public.verify_pkcs1v15(hash, msg, &sig[1..]).is_err());
    }
    // The SHA-256 names keep meaning SHA-256.
    let sig = key.sign_pkcs1v15_sha256(&mut rand::rng(), msg).unwrap();
    public
        .verify_pkcs1v15(SignatureHash::Sha256, msg, &sig)
        .unwrap();
    public.verify_pkcs1v15_sha256(msg, &sig).unwrap();
}

#[test]
fn openssl_agrees_on_every_hash() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let key = key(&p);
    let msg = p.dir.join("msg");
    std::fs::write(&msg, b"the handshake messages so far").unwrap();
    for (hash, flag) in HASHES {
        // Ours, checked by OpenSSL.
        let sig = key
            .sign_pkcs1v15(&mut rand::rng(), hash, b"the handshake messages so far")
            .unwrap();
        let ours = p.dir.join("ours.sig");
        std::fs::write(&ours, &sig).unwrap();
        let mut c = Command::new("openssl");
        c.args(["dgst", flag, "-prverify"])
            .arg(p.key())
            .arg("-signature")
            .arg(&ours)
            .arg(&msg);
        let o = run(c, b"");
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Verified OK"),
            "OpenSSL refused our {hash:?} signature: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // OpenSSL's, checked by us.
        let theirs = p.dir.join("theirs.sig");
        let mut c = Command::new("openssl");
        c.args(["dgst", flag, "-sign"])
            .arg(p.key())
            .arg("-out")
            .arg(&theirs)
            .arg(&msg);
        let o = run(c, b"");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let theirs = std::fs::read(&theirs).unwrap();
        // PKCS#1 v1.5 signatures are deterministic: the same bytes as ours.
        assert_eq!(theirs, sig, "{hash:?}");
        key.public_key()
            .verify_pkcs1v15(hash, b"the handshake messages so far", &theirs)
            .unwrap();
    }
}
