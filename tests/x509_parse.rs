//! Parsing certificates made by the `openssl` command line: every field toytls reads is checked
//! against what OpenSSL itself prints for the same certificate, and damaged certificates are
//! refused without panicking.

mod x509_support;

use std::net::IpAddr;
use toytls::clock::UnixTime;
use toytls::wire::alert::AlertDescription;
use toytls::x509::cert::{SignatureAlgorithm, hex_colons};
use toytls::x509::extensions::{BasicConstraints, GeneralName, KeyUsage};
use toytls::x509::pem::{parse_blocks, parse_certificates};
use toytls::x509::{CertError, Certificate};
use x509_support::*;

fn one_cert(pem: &str) -> Certificate {
    let mut certs = parse_certificates(pem).expect("parses");
    assert_eq!(certs.len(), 1);
    certs.remove(0)
}

/// `openssl x509 -noout OPTION -in FILE`, the value after the `=`.
fn openssl_field(pki: &Pki, file: &str, option: &str) -> String {
    let out = openssl(pki.dir.path(), &["x509", "-noout", option, "-in", file]);
    out.trim()
        .split_once('=')
        .expect("name=value")
        .1
        .to_string()
}

#[test]
fn fields_match_what_openssl_prints() {
    let pki = Pki::new("parse-fields");
    pki.rsa_key("root");
    pki.rsa_key("leaf");
    pki.simple(
        "root",
        "/C=US/O=Toy Org/CN=Toy Root",
        "root",
        None,
        ROOT_EXT,
    );
    pki.simple(
        "leaf",
        "/C=US/O=Toy Org/CN=localhost",
        "leaf",
        Some(("root", "root")),
        &leaf_ext("DNS:localhost, DNS:*.example.com, IP:127.0.0.1, IP:::1, email:a@b.c"),
    );

    let root = one_cert(&pki.read("root.pem"));
    let leaf = one_cert(&pki.read("leaf.pem"));

    assert_eq!(leaf.version(), 3);
    assert_eq!(leaf.subject().to_string(), "CN=localhost, O=Toy Org, C=US");
    assert_eq!(leaf.issuer().to_string(), "CN=Toy Root, O=Toy Org, C=US");
    assert_eq!(leaf.issuer().der(), root.subject().der());
    assert!(root.is_self_issued());
    assert!(!leaf.is_self_issued());
    assert_eq!(
        leaf.signature_algorithm(),
        &SignatureAlgorithm::Sha256WithRsa
    );
    // 2025-01-01 and 2027-01-01, as given to `openssl ca`.
    assert_eq!(leaf.not_before(), UnixTime(1_735_689_600));
    assert_eq!(leaf.not_after(), UnixTime(1_798_761_600));

    // Serial and modulus, in OpenSSL's hex.
    let serial = openssl_field(&pki, "leaf.pem", "-serial");
    let ours: String = leaf.serial().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(ours, serial);
    let modulus = openssl_field(&pki, "leaf.pem", "-modulus");
    let key = leaf.public_key();
    let ours: String = key
        .n_be_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(ours, modulus);
    assert_eq!(key.bits(), 2048);
    assert_eq!(key.e_be_bytes(), [0x01, 0x00, 0x01]);

    // SHA-256 fingerprint.
    let fp_sha256 = openssl(
        pki.dir.path(),
        &[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            "leaf.pem",
        ],
    );
    assert_eq!(
        fp_sha256.trim().split_once('=').unwrap().1,
        hex_colons(&leaf.fingerprint_sha256()).to_uppercase()
    );

    // Extensions.
    let ext = leaf.extensions();
    assert_eq!(
        ext.basic_constraints,
        Some(BasicConstraints {
            ca: false,
            path_len: None
        })
    );
    let ku = ext.key_usage.unwrap();
    assert!(ku.has(KeyUsage::DIGITAL_SIGNATURE) && ku.has(KeyUsage::KEY_ENCIPHERMENT));
    assert!(!ku.has(KeyUsage::KEY_CERT_SIGN));
    assert_eq!(
        ext.ext_key_usage.as_deref(),
        Some(&["1.3.6.1.5.5.7.3.1".to_string()][..])
    );
    assert!(ext.allows_server_auth());
    assert_eq!(
        ext.subject_alt_names.as_deref().unwrap(),
        &[
            GeneralName::Dns("localhost".into()),
            GeneralName::Dns("*.example.com".into()),
            GeneralName::Ip("127.0.0.1".parse::<IpAddr>().unwrap()),
            GeneralName::Ip("::1".parse::<IpAddr>().unwrap()),
            GeneralName::Other(1),
        ]
    );
    assert!(ext.subject_key_id.is_some());
    assert_eq!(
        ext.authority_key_id,
        root.extensions().subject_key_id,
        "the leaf's authorityKeyIdentifier is the root's subjectKeyIdentifier"
    );
    assert!(ext.unknown_critical.is_empty());

    let root_ext = root.extensions();
    assert_eq!(
        root_ext.basic_constraints,
        Some(BasicConstraints {
            ca: true,
            path_len: None
        })
    );
    assert_eq!(
        root_ext.key_usage.unwrap().names(),
        ["keyCertSign", "cRLSign"]
    );

    // The whole DER is kept byte for byte, and the signed part sits inside it.
    let block = &parse_blocks(&pki.read("leaf.pem")).unwrap()[0];
    assert_eq!(leaf.der(), &block.der[..]);
    let tbs = leaf.tbs_der();
    assert!(leaf.der().windows(tbs.len()).any(|w| w == tbs));
    assert_eq!(tbs[0], 0x30);
}

#[test]
fn unsupported_algorithms_keys_and_extensions() {
    let pki = Pki::new("parse-unsupported");
    pki.rsa_key("root");
    pki.ec_key("ec");
    pki.simple("root", "/CN=Toy Root", "root", None, ROOT_EXT);

    // An EC key: no place for it in a toytls certificate.
    pki.simple(
        "ec",
        "/CN=ec.example",
        "ec",
        Some(("root", "root")),
        &leaf_ext("DNS:ec.example"),
    );
    let err = parse_certificates(&pki.read("ec.pem")).unwrap_err();
    assert_eq!(
        err,
        CertError::UnsupportedKeyType {
            cert: "CN=ec.example".into(),
            algorithm: "id-ecPublicKey (prime256v1)".into()
        }
    );
    assert_eq!(err.alert(), AlertDescription::UnsupportedCertificate);
    assert!(err.to_string().contains("supports only RSA"), "{err}");

    // Signed with SHA-384: parsed, the algorithm reported by name.
    pki.cert(
        "sha384",
        "/CN=sha384.example",
        "root",
        Some(("root", "root")),
        &leaf_ext("DNS:sha384.example"),
        START,
        END,
        "sha384",
    );
    let cert = one_cert(&pki.read("sha384.pem"));
    assert_eq!(
        cert.signature_algorithm(),
        &SignatureAlgorithm::Unsupported("sha384WithRSAEncryption".into())
    );

    // An unknown critical extension is recorded; an unknown non-critical one is not.
    let ext = format!(
        "{}1.2.3.4 = critical, ASN1:UTF8String:must understand\n1.2.3.5 = ASN1:NULL\n",
        leaf_ext("DNS:crit.example")
    );
    pki.simple(
        "crit",
        "/CN=crit.example",
        "root",
        Some(("root", "root")),
        &ext,
    );
    let cert = one_cert(&pki.read("crit.pem"));
    assert_eq!(cert.extensions().unknown_critical, ["1.2.3.4"]);
    assert!(
        cert.extensions()
            .present
            .contains(&("1.2.3.5".to_string(), false))
    );
}

#[test]
fn damaged_certificates_are_refused_without_panicking() {
    let pki = Pki::new("parse-damage");
    pki.rsa_key("root");
    pki.simple("root", "/CN=Toy Root", "root", None, ROOT_EXT);
    let der = parse_blocks(&pki.read("root.pem")).unwrap().remove(0).der;
    assert!(Certificate::from_der(&der).is_ok());

    // Every truncation fails.
    for len in 0..der.len() {
        assert!(
            Certificate::from_der(&der[..len]).is_err(),
            "truncated to {len}"
        );
    }
    // A trailing byte fails.
    let mut longer = der.clone();
    longer.push(0);
    assert!(matches!(
        Certificate::from_der(&longer),
        Err(CertError::Malformed { .. })
    ));
    // Every single-bit flip either fails or parses (flips inside the signature or a key still
    // parse): none panics. Flips in the outer header must fail.
    for i in 0..der.len() * 8 {
        let mut bad = der.clone();
        bad[i / 8] ^= 1 << (i % 8);
        let result = Certificate::from_der(&bad);
        if i < 8 * 4 {
            assert!(result.is_err(), "flip {i} in the outer header");
        }
    }
    // The error names which part was malformed.
    let err = Certificate::from_der(&der[..der.len() - 1]).unwrap_err();
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
    assert!(
        err.to_string().starts_with("malformed certificate"),
        "{err}"
    );
}
