//! Certificates and keys made by toytls, checked by OpenSSL (`openssl x509 -text`, `openssl verify`,
//! `openssl pkey`), and keys made by OpenSSL (`genrsa -traditional`, `genpkey`, `req -newkey`)
//! read and used by toytls.

mod x509_support;

use std::sync::OnceLock;
use toytls::clock::{Clock, SystemClock, UnixTime};
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::x509::builder::{generate_ca, issue_server_cert, server_cert_with_key};
use toytls::x509::pem::{
    encode_certificate, encode_private_key_pkcs8, parse_certificates, parse_private_key,
};
use toytls::x509::verify::verify_server_chain;
use toytls::x509::{CertError, Certificate};
use x509_support::*;

const DAY: i64 = 86_400;

struct Made {
    ca: Certificate,
    ca_key: RsaPrivateKey,
    leaf: Certificate,
    leaf_key: RsaPrivateKey,
    now: UnixTime,
}

impl Made {
    /// The files `toytls ca init` / `toytls cert issue` would write, in a directory of the
    /// caller's own, removed when it drops (a directory kept in the static would never be).
    fn files(&self) -> TempDir {
        let dir = TempDir::new("build");
        dir.write("ca.pem", encode_certificate(&self.ca));
        dir.write("ca.key", encode_private_key_pkcs8(&self.ca_key));
        dir.write(
            "cert.pem",
            encode_certificate(&self.leaf) + &encode_certificate(&self.ca),
        );
        dir.write("leaf.pem", encode_certificate(&self.leaf));
        dir.write("key.pem", encode_private_key_pkcs8(&self.leaf_key));
        dir
    }
}

/// One CA and one server certificate made by toytls (two 2048-bit key generations), written out
/// as `toytls ca init` / `toytls cert issue` would.
fn made() -> &'static Made {
    static MADE: OnceLock<Made> = OnceLock::new();
    MADE.get_or_init(|| {
        let rng = &mut rand::rng();
        let now = SystemClock.now();
        let (ca, ca_key) = generate_ca(
            rng,
            "toytls test CA",
            UnixTime(now.0 - DAY),
            UnixTime(now.0 + 3650 * DAY),
        )
        .unwrap();
        let (leaf, leaf_key) = issue_server_cert(
            rng,
            &ca,
            &ca_key,
            &["localhost", "127.0.0.1", "::1", "*.toy.test"],
            UnixTime(now.0 - DAY),
            UnixTime(now.0 + 90 * DAY),
        )
        .unwrap();
        Made {
            ca,
            ca_key,
            leaf,
            leaf_key,
            now,
        }
    })
}

#[test]
fn openssl_reads_our_certificates() {
    let m = made();
    let files = m.files();
    let ca_text = openssl(files.path(), &["x509", "-noout", "-text", "-in", "ca.pem"]);
    for want in [
        "Version: 3 (0x2)",
        "Signature Algorithm: sha256WithRSAEncryption",
        "Issuer: CN = toytls test CA",
        "Subject: CN = toytls test CA",
        "Public-Key: (2048 bit)",
        "X509v3 Basic Constraints: critical",
        "CA:TRUE",
        "X509v3 Key Usage: critical",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(ca_text.contains(want), "missing {want:?} in\n{ca_text}");
    }
    let leaf_text = openssl(
        files.path(),
        &["x509", "-noout", "-text", "-in", "leaf.pem"],
    );
    for want in [
        "Subject: CN = localhost",
        "Issuer: CN = toytls test CA",
        "CA:FALSE",
        "Digital Signature, Key Encipherment",
        "TLS Web Server Authentication",
        "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:*.toy.test",
        "X509v3 Authority Key Identifier",
    ] {
        assert!(leaf_text.contains(want), "missing {want:?} in\n{leaf_text}");
    }
    // Serial: 16 bytes, positive, and different for each certificate.
    assert_eq!(m.leaf.serial().len(), 16);
    assert!(m.leaf.serial()[0] & 0x80 == 0 && m.leaf.serial()[0] != 0);
    assert_ne!(m.leaf.serial(), m.ca.serial());
}

#[test]
fn openssl_verifies_our_chain() {
    let m = made();
    let files = m.files();
    let dir = files.path();
    for (flag, host) in [
        ("-verify_hostname", "localhost"),
        ("-verify_hostname", "www.toy.test"),
        ("-verify_ip", "127.0.0.1"),
        ("-verify_ip", "::1"),
    ] {
        let out = openssl(
            dir,
            &[
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslserver",
                flag,
                host,
                "leaf.pem",
            ],
        );
        assert!(out.contains("leaf.pem: OK"), "{host}: {out}");
    }
    let wrong = openssl_output(
        dir,
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-verify_hostname",
            "example.com",
            "leaf.pem",
        ],
    );
    assert!(!wrong.status.success());
    // And so do we, from the files as written.
    let chain = parse_certificates(&files.read("cert.pem")).unwrap();
    assert_eq!(chain.len(), 2);
    let anchors = parse_certificates(&files.read("ca.pem")).unwrap();
    verify_server_chain(&chain, &anchors, "localhost", m.now).unwrap();
    verify_server_chain(&chain, &anchors, "a.toy.test", m.now).unwrap();
    assert!(matches!(
        verify_server_chain(&chain, &anchors, "toy.test", m.now),
        Err(CertError::NameMismatch { .. })
    ));
}

#[test]
fn openssl_reads_our_private_keys() {
    let m = made();
    let files = m.files();
    let dir = files.path();
    // `openssl pkey` parses the PKCS #8 file and `-check` verifies the key's consistency.
    let text = openssl(dir, &["pkey", "-in", "key.pem", "-noout", "-text"]);
    assert!(text.contains("Private-Key: (2048 bit, 2 primes)"), "{text}");
    let check = openssl(dir, &["pkey", "-in", "key.pem", "-check", "-noout"]);
    assert!(check.contains("Key is valid"), "{check}");
    // The key's public half is the certificate's.
    let from_key = openssl(dir, &["pkey", "-in", "key.pem", "-pubout"]);
    let from_cert = openssl(dir, &["x509", "-in", "leaf.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
    // Our own reader gives back the same key.
    let again = parse_private_key(&files.read("key.pem")).unwrap();
    assert_eq!(again.public_key(), m.leaf_key.public_key());
    assert_eq!(&again.public_key(), m.leaf.public_key());
    let ca_again = parse_private_key(&files.read("ca.key")).unwrap();
    assert_eq!(ca_again.public_key(), m.ca_key.public_key());
}

/// Signs with `key` and has `openssl dgst -verify` check the signature against `pub.pem`.
fn openssl_checks_signature(dir: &TempDir, key: &RsaPrivateKey, public_pem: &str) {
    let msg = b"toytls signs this";
    let sig = key.sign_pkcs1v15_sha256(&mut rand::rng(), msg).unwrap();
    dir.write("msg.bin", msg);
    dir.write("sig.bin", &sig);
    let out = openssl(
        dir.path(),
        &[
            "dgst",
            "-sha256",
            "-verify",
            public_pem,
            "-signature",
            "sig.bin",
            "msg.bin",
        ],
    );
    assert!(out.contains("Verified OK"), "{out}");
}

#[test]
fn keys_from_openssl_parse_and_sign() {
    let dir = TempDir::new("openssl-keys");
    let p = dir.path();
    // PKCS #1, "traditional" (OpenSSL 3's genrsa writes PKCS #8 unless told otherwise).
    openssl(p, &["genrsa", "-traditional", "-out", "pkcs1.pem", "2048"]);
    assert!(
        dir.read("pkcs1.pem")
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    // PKCS #8 from genpkey and from req -newkey.
    openssl(
        p,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "pkcs8.pem",
        ],
    );
    openssl(
        p,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "req.key", "-subj",
            "/CN=req", "-days", "1", "-out", "req.pem",
        ],
    );
    assert!(
        dir.read("req.key")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    for file in ["pkcs1.pem", "pkcs8.pem", "req.key"] {
        let key = parse_private_key(&dir.read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        openssl(p, &["pkey", "-in", file, "-pubout", "-out", "pub.pem"]);
        openssl_checks_signature(&dir, &key, "pub.pem");
        // Written back as PKCS #8, OpenSSL reads the same key.
        dir.write("rewritten.pem", encode_private_key_pkcs8(&key));
        let a = openssl(p, &["pkey", "-in", "rewritten.pem", "-pubout"]);
        assert_eq!(a, dir.read("pub.pem"), "{file}");
    }

    // A server certificate signed by toytls with the CA key from `openssl req`.
    let ca = parse_certificates(&dir.read("req.pem")).unwrap().remove(0);
    let ca_key = parse_private_key(&dir.read("req.key")).unwrap();
    let leaf_key = parse_private_key(&dir.read("pkcs8.pem")).unwrap();
    let now = SystemClock.now();
    let leaf = server_cert_with_key(
        &mut rand::rng(),
        &ca,
        &ca_key,
        &leaf_key.public_key(),
        &["localhost"],
        UnixTime(now.0 - DAY),
        UnixTime(now.0 + DAY),
    )
    .unwrap();
    dir.write("leaf.pem", encode_certificate(&leaf));
    let out = openssl(
        p,
        &[
            "verify",
            "-CAfile",
            "req.pem",
            "-verify_hostname",
            "localhost",
            "leaf.pem",
        ],
    );
    assert!(out.contains("OK"), "{out}");
}

#[test]
fn refused_inputs() {
    let m = made();
    let files = m.files();
    let rng = &mut rand::rng();
    let (a, b) = (UnixTime(m.now.0), UnixTime(m.now.0 + DAY));
    let key = m.leaf_key.public_key();
    for bad in ["bad name!", "", "a..b", "-x.example"] {
        let err = server_cert_with_key(rng, &m.ca, &m.ca_key, &key, &[bad], a, b).unwrap_err();
        assert!(matches!(err, CertError::Build(_)), "{bad}: {err}");
    }
    assert!(matches!(
        server_cert_with_key(rng, &m.ca, &m.ca_key, &key, &[], a, b),
        Err(CertError::Build(_))
    ));
    // The leaf key is not the CA's key.
    assert!(matches!(
        server_cert_with_key(rng, &m.ca, &m.leaf_key, &key, &["localhost"], a, b),
        Err(CertError::Build(_))
    ));
    // notBefore after notAfter.
    assert!(matches!(
        server_cert_with_key(rng, &m.ca, &m.ca_key, &key, &["localhost"], b, a),
        Err(CertError::Build(_))
    ));
    // An EC key is not an RSA key.
    let dir = TempDir::new("ec-key");
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ],
    );
    let err = parse_private_key(&dir.read("ec.pem")).unwrap_err();
    assert!(err.to_string().contains("id-ecPublicKey, not RSA"), "{err}");
    // Key files that are not keys.
    assert!(matches!(
        parse_private_key(&files.read("ca.pem")),
        Err(CertError::Key(_))
    ));
}

mod build_then_parse {
    //! Property: what the builder is asked to write is what the parser reads back, and the
    //! signature verifies with the CA's key.
    use super::*;
    use proptest::prelude::*;
    use std::net::IpAddr;
    use toytls::x509::extensions::GeneralName;
    use toytls::x509::verify::check_signature;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z][a-z0-9]{0,8}){0,3}",
            "\\*\\.[a-z]{1,8}\\.[a-z]{2,5}",
            any::<[u8; 4]>().prop_map(|b| IpAddr::from(b).to_string()),
            any::<[u8; 16]>().prop_map(|b| IpAddr::from(b).to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn builder_output_reads_back(
            names in proptest::collection::vec(name(), 1..5),
            start in -631_152_000i64..4_102_444_800,
            length in 0i64..200 * 365 * DAY,
        ) {
            let m = made();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let (nb, na) = (UnixTime(start), UnixTime(start + length));
            let cert = server_cert_with_key(
                &mut rand::rng(), &m.ca, &m.ca_key, &m.leaf_key.public_key(), &refs, nb, na,
            ).unwrap();
            let again = Certificate::from_der(cert.der()).unwrap();
            prop_assert_eq!(&again, &cert);
            prop_assert_eq!(cert.not_before(), nb);
            prop_assert_eq!(cert.not_after(), na);
            prop_assert_eq!(cert.issuer(), m.ca.subject());
            prop_assert_eq!(cert.subject().common_name_value(), Some(names[0].as_str()));
            let want: Vec<GeneralName> = names
                .iter()
                .map(|n| match n.parse::<IpAddr>() {
                    Ok(ip) => GeneralName::Ip(ip),
                    Err(_) => GeneralName::Dns(n.clone()),
                })
                .collect();
            prop_assert_eq!(cert.extensions().subject_alt_names.as_ref(), Some(&want));
            prop_assert!(check_signature(&cert, &m.ca).is_ok());
            prop_assert!(check_signature(&cert, &cert).is_err());
        }
    }
}
