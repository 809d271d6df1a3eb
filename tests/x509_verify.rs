//! Verifying chains made by the `openssl` command line: one good chain with an intermediate, and
//! one certificate for each rule the verifier enforces, each expected to fail with its own error
//! and alert. Every case is also given to `openssl verify` to check that OpenSSL reaches the same
//! verdict.

mod x509_support;

use std::collections::HashMap;
use std::sync::OnceLock;
use toytls::clock::UnixTime;
use toytls::wire::alert::AlertDescription;
use toytls::x509::pem::{parse_blocks, parse_certificates};
use toytls::x509::verify::{verify_server_chain, verify_server_chain_path};
use toytls::x509::{CertError, Certificate};
use x509_support::*;

/// The certificates of this file, by file name (`leaf.pem`), in memory.
struct Pems(HashMap<String, String>);

impl Pems {
    fn read(&self, name: &str) -> String {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    }
}

/// All certificates of this file, made once (openssl key generation is the slow part) and kept
/// in memory: the scratch directory they were made in is removed as soon as they are read (one
/// kept in the static would never be).
fn pki() -> &'static Pems {
    static PEMS: OnceLock<Pems> = OnceLock::new();
    PEMS.get_or_init(|| {
        let pki = make_pki();
        let mut pems = HashMap::new();
        for entry in std::fs::read_dir(pki.dir.path()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".pem") {
                pems.insert(name.clone(), pki.read(&name));
            }
        }
        Pems(pems)
    })
}

fn make_pki() -> Pki {
    let pki = Pki::new("verify");
    for key in ["root", "int", "leaf", "evil"] {
        pki.rsa_key(key);
    }
    let root = Some(("root", "root"));
    let int = Some(("int", "int"));
    pki.simple("root", "/CN=Test Root", "root", None, ROOT_EXT);
    pki.simple(
        "int",
        "/CN=Test Intermediate",
        "int",
        root,
        INTERMEDIATE_EXT,
    );
    pki.simple(
        "leaf",
        "/O=Toy/CN=localhost",
        "leaf",
        int,
        &leaf_ext("DNS:localhost, IP:127.0.0.1, IP:::1"),
    );
    let lh = leaf_ext("DNS:localhost");
    pki.cert(
        "expired",
        "/CN=old",
        "leaf",
        int,
        &lh,
        "20200101000000Z",
        "20210101000000Z",
        "sha256",
    );
    pki.cert(
        "future",
        "/CN=new",
        "leaf",
        int,
        &lh,
        "20300101000000Z",
        "20310101000000Z",
        "sha256",
    );
    pki.simple(
        "other",
        "/CN=example.com",
        "leaf",
        int,
        &leaf_ext("DNS:example.com, DNS:www.example.com"),
    );
    pki.simple(
        "wild",
        "/CN=wildcard",
        "leaf",
        int,
        &leaf_ext("DNS:*.example.com"),
    );
    // An unrelated CA, and one that copies the real root's name with another key.
    pki.simple("evil-root", "/CN=Evil CA", "evil", None, ROOT_EXT);
    pki.simple(
        "evil-leaf",
        "/CN=localhost",
        "leaf",
        Some(("evil-root", "evil")),
        &lh,
    );
    pki.simple("fake-root", "/CN=Test Root", "evil", None, ROOT_EXT);
    pki.simple(
        "fake-int",
        "/CN=Test Intermediate",
        "int",
        Some(("fake-root", "evil")),
        INTERMEDIATE_EXT,
    );
    // An issuer that is not a CA.
    pki.simple(
        "notca",
        "/CN=Not A CA",
        "evil",
        root,
        &leaf_ext("DNS:notca.example"),
    );
    pki.simple(
        "notca-leaf",
        "/CN=localhost",
        "leaf",
        Some(("notca", "evil")),
        &lh,
    );
    // A CA without keyCertSign.
    pki.simple(
        "nosign",
        "/CN=No Sign CA",
        "evil",
        root,
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, digitalSignature\n",
    );
    pki.simple(
        "nosign-leaf",
        "/CN=localhost",
        "leaf",
        Some(("nosign", "evil")),
        &lh,
    );
    // Test Intermediate has pathlen:0, so a second intermediate below it is one too many.
    pki.simple(
        "int2",
        "/CN=Second Intermediate",
        "evil",
        int,
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign\n",
    );
    pki.simple(
        "deep-leaf",
        "/CN=localhost",
        "leaf",
        Some(("int2", "evil")),
        &lh,
    );
    // Extensions.
    pki.simple(
        "crit",
        "/CN=localhost",
        "leaf",
        int,
        &format!("{lh}1.2.3.4 = critical, ASN1:NULL\n"),
    );
    pki.simple(
        "noncrit",
        "/CN=localhost",
        "leaf",
        int,
        &format!("{lh}1.2.3.4 = ASN1:NULL\n"),
    );
    pki.simple(
        "client-only",
        "/CN=localhost",
        "leaf",
        int,
        "keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\nsubjectAltName = DNS:localhost\n",
    );
    pki.simple(
        "bad-ku",
        "/CN=localhost",
        "leaf",
        int,
        "keyUsage = critical, cRLSign\nsubjectAltName = DNS:localhost\n",
    );
    // Legacy: no subjectAltName at all, the CN is the name.
    pki.simple(
        "cn-only",
        "/CN=localhost",
        "leaf",
        int,
        "basicConstraints = CA:FALSE\n",
    );
    pki.cert(
        "sha384",
        "/CN=localhost",
        "leaf",
        int,
        &lh,
        START,
        END,
        "sha384",
    );
    // A self-signed server certificate, trusted only by being a trust anchor itself.
    pki.simple("self", "/CN=self", "leaf", None, &lh);
    pki
}

fn certs(names: &[&str]) -> Vec<Certificate> {
    names
        .iter()
        .flat_map(|n| parse_certificates(&pki().read(&format!("{n}.pem"))).unwrap())
        .collect()
}

fn verify(chain: &[&str], anchors: &[&str], host: &str) -> Result<(), CertError> {
    verify_server_chain(&certs(chain), &certs(anchors), host, UnixTime(NOW))
}

/// What `openssl verify` says about the same question: true if it accepts.
fn openssl_accepts(chain: &[&str], anchor: &str, host: &str) -> bool {
    let pem = |n: &str| pki().read(&format!("{n}.pem"));
    let untrusted: Vec<String> = chain[1..].iter().map(|n| pem(n)).collect();
    let untrusted: Vec<&str> = untrusted.iter().map(String::as_str).collect();
    openssl_verify(&pem(chain[0]), &untrusted, &[&pem(anchor)], NOW, host, &[]).0
}

/// Checks our verdict, the error text and alert, and that OpenSSL agrees on accept/reject.
fn expect(chain: &[&str], anchor: &str, host: &str, want: Result<(), (&str, AlertDescription)>) {
    let got = verify(chain, &[anchor], host);
    match (&got, &want) {
        (Ok(()), Ok(())) => {}
        (Err(e), Err((text, alert))) => {
            assert_eq!(e.to_string(), *text, "{chain:?} for {host}");
            assert_eq!(e.alert(), *alert, "{chain:?} for {host}: {e}");
        }
        _ => panic!("{chain:?} for {host}: got {got:?}, want {want:?}"),
    }
    assert_eq!(
        openssl_accepts(chain, anchor, host),
        want.is_ok(),
        "openssl disagrees on {chain:?} for {host}"
    );
}

#[test]
fn good_chain_with_an_intermediate() {
    expect(&["leaf", "int"], "root", "localhost", Ok(()));
    expect(&["leaf", "int"], "root", "LocalHost", Ok(()));
    // A fully qualified name with its trailing dot is the same host (OpenSSL's -verify_hostname
    // refuses the dot, so no comparison here).
    assert!(verify(&["leaf", "int"], &["root"], "localhost.").is_ok());
    expect(&["leaf", "int"], "root", "127.0.0.1", Ok(()));
    expect(&["leaf", "int"], "root", "::1", Ok(()));
    // The root may be sent too, and the intermediates in any order.
    let chain = certs(&["leaf", "root", "int"]);
    let roots = certs(&["root"]);
    let path = verify_server_chain_path(&chain, &roots, "localhost", UnixTime(NOW)).unwrap();
    let names: Vec<String> = path.iter().map(|c| c.subject().to_string()).collect();
    assert_eq!(
        names,
        [
            "CN=localhost, O=Toy",
            "CN=Test Intermediate",
            "CN=Test Root"
        ]
    );
    // The intermediate as trust anchor is enough on its own.
    expect(&["leaf"], "int", "localhost", Ok(()));
}

#[test]
fn validity_period() {
    expect(
        &["expired", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=old' expired on 2021-01-01 00:00:00 UTC",
            AlertDescription::CertificateExpired,
        )),
    );
    expect(
        &["future", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=new' is not valid until 2030-01-01 00:00:00 UTC",
            AlertDescription::CertificateExpired,
        )),
    );
    // The good chain at the edges of its validity (both inclusive), and one second outside.
    let chain = certs(&["leaf", "int"]);
    let roots = certs(&["root"]);
    let at = |t: i64| verify_server_chain(&chain, &roots, "localhost", UnixTime(t));
    assert!(at(1_735_689_600).is_ok());
    assert!(at(1_798_761_600).is_ok());
    assert!(matches!(
        at(1_735_689_599),
        Err(CertError::NotYetValid { .. })
    ));
    assert!(matches!(at(1_798_761_601), Err(CertError::Expired { .. })));
}

#[test]
fn host_names() {
    expect(
        &["other", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=example.com' covers 'example.com', 'www.example.com', not 'localhost'",
            AlertDescription::CertificateUnknown,
        )),
    );
    expect(&["wild", "int"], "root", "api.example.com", Ok(()));
    expect(&["wild", "int"], "root", "WWW.Example.Com", Ok(()));
    for host in ["example.com", "a.b.example.com", "example.org"] {
        expect(
            &["wild", "int"],
            "root",
            host,
            Err((
                &format!("certificate 'CN=wildcard' covers '*.example.com', not '{host}'"),
                AlertDescription::CertificateUnknown,
            )),
        );
    }
    expect(
        &["leaf", "int"],
        "root",
        "127.0.0.2",
        Err((
            "certificate 'CN=localhost, O=Toy' covers 'localhost', '127.0.0.1', '::1', not '127.0.0.2'",
            AlertDescription::CertificateUnknown,
        )),
    );
    // Legacy CN matching, only because there is no subjectAltName.
    expect(&["cn-only", "int"], "root", "localhost", Ok(()));
    assert!(matches!(
        verify(&["cn-only", "int"], &["root"], "example.com"),
        Err(CertError::NameMismatch { .. })
    ));
}

#[test]
fn untrusted_roots() {
    expect(
        &["evil-leaf", "evil-root"],
        "root",
        "localhost",
        Err((
            "no certificate in the chain is signed by a trusted CA; the top one was issued by \
             'CN=Evil CA'",
            AlertDescription::UnknownCa,
        )),
    );
    // Without the intermediate, the leaf's issuer is unknown.
    expect(
        &["leaf"],
        "root",
        "localhost",
        Err((
            "no certificate in the chain is signed by a trusted CA; the top one was issued by \
             'CN=Test Intermediate'",
            AlertDescription::UnknownCa,
        )),
    );
    // An impostor with the trusted root's name but another key.
    expect(
        &["leaf", "fake-int"],
        "root",
        "localhost",
        Err((
            "the signature on certificate 'CN=Test Intermediate' does not verify with the key of \
             'CN=Test Root'",
            AlertDescription::BadCertificate,
        )),
    );
    // No trust anchors at all.
    assert!(matches!(
        verify(&["leaf", "int"], &[], "localhost"),
        Err(CertError::UntrustedIssuer { .. })
    ));
}

/// The leaf's DER with one byte changed at `index(der)`.
fn tampered_leaf(index: impl Fn(&[u8]) -> usize) -> Vec<Certificate> {
    let mut der = parse_blocks(&pki().read("leaf.pem")).unwrap().remove(0).der;
    let i = index(&der);
    der[i] ^= 0x01;
    let mut chain = vec![Certificate::from_der(&der).unwrap()];
    chain.extend(certs(&["int"]));
    chain
}

#[test]
fn tampered_signatures() {
    let roots = certs(&["root"]);
    // A bit flipped in the signature.
    let chain = tampered_leaf(|der| der.len() - 1);
    let err = verify_server_chain(&chain, &roots, "localhost", UnixTime(NOW)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the signature on certificate 'CN=localhost, O=Toy' does not verify with the key of \
         'CN=Test Intermediate'"
    );
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
    // A bit flipped in the signed part: "localhost" in the subject becomes "localhosu".
    let chain = tampered_leaf(|der| der.windows(9).position(|w| w == b"localhost").unwrap() + 8);
    assert_eq!(chain[0].subject().to_string(), "CN=localhosu, O=Toy");
    let err = verify_server_chain(&chain, &roots, "localhost", UnixTime(NOW)).unwrap_err();
    assert!(matches!(err, CertError::BadSignature { .. }), "{err}");
}

#[test]
fn issuers_must_be_cas() {
    expect(
        &["notca-leaf", "notca"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=Not A CA' signed another certificate but is not a CA (no \
             basicConstraints CA:TRUE)",
            AlertDescription::BadCertificate,
        )),
    );
    expect(
        &["nosign-leaf", "nosign"],
        "root",
        "localhost",
        Err((
            "CA 'CN=No Sign CA' signed a certificate but its keyUsage does not include keyCertSign",
            AlertDescription::BadCertificate,
        )),
    );
    expect(
        &["deep-leaf", "int2", "int"],
        "root",
        "localhost",
        Err((
            "CA 'CN=Test Intermediate' allows 0 intermediate CA(s) below it (pathlen), but the \
             chain has 1",
            AlertDescription::BadCertificate,
        )),
    );
}

#[test]
fn extensions_and_usage() {
    expect(
        &["crit", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=localhost' has a critical extension toytls does not understand \
             (1.2.3.4)",
            AlertDescription::UnsupportedCertificate,
        )),
    );
    expect(&["noncrit", "int"], "root", "localhost", Ok(()));
    expect(
        &["client-only", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=localhost' has an extendedKeyUsage without serverAuth",
            AlertDescription::CertificateUnknown,
        )),
    );
    expect(
        &["bad-ku", "int"],
        "root",
        "localhost",
        Err((
            "certificate 'CN=localhost' has a keyUsage with neither digitalSignature nor \
             keyEncipherment, so it cannot be used by a TLS server",
            AlertDescription::CertificateUnknown,
        )),
    );
}

#[test]
fn unsupported_algorithms() {
    // OpenSSL accepts SHA-384; toytls refuses it by name (so no openssl comparison here).
    let err = verify(&["sha384", "int"], &["root"], "localhost").unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 'CN=localhost' is signed with sha384WithRSAEncryption; toytls supports only \
         sha256WithRSAEncryption"
    );
    assert_eq!(err.alert(), AlertDescription::UnsupportedCertificate);

    // A server certificate with an EC key fails as soon as the chain is read.
    let pki = Pki::new("verify-ec");
    pki.rsa_key("root");
    pki.ec_key("ec");
    pki.simple("root", "/CN=Test Root", "root", None, ROOT_EXT);
    pki.simple(
        "ec",
        "/CN=localhost",
        "ec",
        Some(("root", "root")),
        &leaf_ext("DNS:localhost"),
    );
    let err = parse_certificates(&pki.read("ec.pem")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 'CN=localhost' has a key of type id-ecPublicKey (prime256v1); toytls supports only \
         RSA keys"
    );
    assert_eq!(err.alert(), AlertDescription::UnsupportedCertificate);
}

#[test]
fn empty_chain() {
    let err = verify_server_chain(&[], &certs(&["root"]), "localhost", UnixTime(NOW)).unwrap_err();
    assert_eq!(err, CertError::NoCertificate);
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
}

#[test]
fn a_trust_anchor_may_be_the_server_certificate_itself() {
    expect(&["self"], "self", "localhost", Ok(()));
    expect(
        &["self"],
        "root",
        "localhost",
        Err((
            "no certificate in the chain is signed by a trusted CA; the top one was issued by \
             'CN=self'",
            AlertDescription::UnknownCa,
        )),
    );
}
