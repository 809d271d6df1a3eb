//! Path building: when the first candidate issuer leads nowhere, the verifier tries the others.
//! Chains made by the `openssl` command line: a root re-keyed with a rollover certificate (the
//! old key signs the new one under the same name), two trust anchors of one name with different
//! keys, and an intermediate cross-signed by two roots whose first copy is expired. Every verdict
//! is also asked of `openssl verify`. Then the bound: a chain built (with toytls' own builder) so
//! that every certificate is a candidate issuer of every other stops after
//! `MAX_SIGNATURE_CHECKS` signature checks instead of trying all their orders. Last, issuer and
//! subject names are matched the RFC 5280 7.1 way (case, white space and string type aside).

mod x509_support;

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::OnceLock;
use toytls::clock::UnixTime;
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::wire::alert::AlertDescription;
use toytls::x509::builder::{ca_with_key, server_cert_with_key};
use toytls::x509::pem::parse_certificates;
use toytls::x509::verify::{MAX_SIGNATURE_CHECKS, verify_server_chain, verify_server_chain_path};
use toytls::x509::{CertError, Certificate};
use x509_support::*;

/// The files of the OpenSSL-made PKI, by file name, kept in memory.
fn pems() -> &'static Files {
    static PEMS: OnceLock<Files> = OnceLock::new();
    PEMS.get_or_init(|| {
        let pki = Pki::new("paths");
        for key in ["old", "new", "other", "int", "leaf", "ra", "rb", "cross"] {
            pki.rsa_key(key);
        }
        let lh = leaf_ext("DNS:localhost");
        // A root re-keyed: the old and the new certificate share the name, and the rollover
        // certificate carries the new key under the same name, signed by the old key.
        pki.simple("old-root", "/CN=Rollover Root", "old", None, ROOT_EXT);
        pki.simple("new-root", "/CN=Rollover Root", "new", None, ROOT_EXT);
        pki.simple(
            "rollover",
            "/CN=Rollover Root",
            "new",
            Some(("old-root", "old")),
            "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        );
        // A third certificate of that name, with a key nobody used.
        pki.simple(
            "impostor-root",
            "/CN=Rollover Root",
            "other",
            None,
            ROOT_EXT,
        );
        pki.simple(
            "int",
            "/CN=Rollover Intermediate",
            "int",
            Some(("new-root", "new")),
            INTERMEDIATE_EXT,
        );
        pki.simple("leaf", "/CN=localhost", "leaf", Some(("int", "int")), &lh);

        // One intermediate key certified by two roots; the copy under Root A expired in 2021.
        pki.simple("root-a", "/CN=Root A", "ra", None, ROOT_EXT);
        pki.simple("root-b", "/CN=Root B", "rb", None, ROOT_EXT);
        pki.cert(
            "cross-a",
            "/CN=Cross Intermediate",
            "cross",
            Some(("root-a", "ra")),
            INTERMEDIATE_EXT,
            "20200101000000Z",
            "20210101000000Z",
            "sha256",
        );
        pki.simple(
            "cross-b",
            "/CN=Cross Intermediate",
            "cross",
            Some(("root-b", "rb")),
            INTERMEDIATE_EXT,
        );
        pki.simple(
            "cross-leaf",
            "/CN=localhost",
            "leaf",
            Some(("cross-b", "cross")),
            &lh,
        );
        pki.files()
    })
}

fn certs(names: &[&str]) -> Vec<Certificate> {
    pems().certs(names)
}

/// Our verdict on `chain` (leaf first) against `anchors` for localhost at [`NOW`], checked
/// against OpenSSL's on the same files: both must accept, or both refuse.
fn verdict(chain: &[&str], anchors: &[&str]) -> Result<Vec<String>, CertError> {
    let ours = {
        let (chain, anchors) = (certs(chain), certs(anchors));
        verify_server_chain_path(&chain, &anchors, "localhost", UnixTime(NOW))
            .map(|path| path.iter().map(|c| c.label()).collect::<Vec<_>>())
    };
    if openssl_available() {
        let (accepts, text) = pems().openssl_verify(chain, anchors, NOW, "localhost", &[]);
        assert_eq!(
            accepts,
            ours.is_ok(),
            "openssl disagrees on {chain:?} trusting {anchors:?}: we say {ours:?}, it says\n{text}"
        );
    }
    ours
}

#[test]
fn a_rekeyed_root_is_reached_through_its_rollover_certificate() {
    // Trusting the old key only: the old root has the right name but not the key that signed the
    // intermediate; the rollover certificate, signed by the old key, carries the new one.
    let path = verdict(&["leaf", "int", "rollover"], &["old-root"]).unwrap();
    assert_eq!(
        path,
        [
            "CN=localhost",
            "CN=Rollover Intermediate",
            "CN=Rollover Root",
            "CN=Rollover Root"
        ]
    );
    // The exact anchor reached: the old root.
    let (chain, anchors) = (certs(&["leaf", "int", "rollover"]), certs(&["old-root"]));
    let p = verify_server_chain_path(&chain, &anchors, "localhost", UnixTime(NOW)).unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(p[3].der(), anchors[0].der());
    assert_eq!(p[2].der(), chain[2].der());
    // Trusting the new key: the short path, straight to it.
    assert_eq!(
        verdict(&["leaf", "int", "rollover"], &["new-root"])
            .unwrap()
            .len(),
        3
    );
    // Without the rollover certificate the old key alone cannot vouch for the intermediate.
    let err = verdict(&["leaf", "int"], &["old-root"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the signature on certificate 'CN=Rollover Intermediate' does not verify with the key of \
         'CN=Rollover Root'"
    );
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
}

#[test]
fn two_trust_anchors_of_one_name_and_different_keys() {
    // Whichever comes first, the anchor whose key signed the intermediate is found.
    for anchors in [
        &["impostor-root", "new-root"][..],
        &["new-root", "impostor-root"],
        &["impostor-root", "old-root", "new-root"],
    ] {
        let path = verdict(&["leaf", "int"], anchors).unwrap();
        assert_eq!(path.len(), 3, "{anchors:?}");
    }
    // Only the impostor: refused, naming the signature that failed.
    let err = verdict(&["leaf", "int"], &["impostor-root"]).unwrap_err();
    assert!(matches!(err, CertError::BadSignature { .. }), "{err}");
}

#[test]
fn a_cross_signed_intermediate_whose_first_copy_leads_nowhere() {
    // The server sends the copy under Root A first. Trusting only Root B, that copy leads to an
    // untrusted root, so the other copy is tried.
    let path = verdict(&["cross-leaf", "cross-a", "cross-b"], &["root-b"]).unwrap();
    assert_eq!(path, ["CN=localhost", "CN=Cross Intermediate", "CN=Root B"]);
    // Trusting both: the path through Root A is found first but its intermediate expired in
    // 2021, so the path through Root B is used.
    let (chain, anchors) = (
        certs(&["cross-leaf", "cross-a", "cross-b"]),
        certs(&["root-a", "root-b"]),
    );
    let p = verify_server_chain_path(&chain, &anchors, "localhost", UnixTime(NOW)).unwrap();
    assert_eq!(p[1].der(), chain[2].der());
    assert_eq!(p[2].der(), anchors[1].der());
    verdict(&["cross-leaf", "cross-a", "cross-b"], &["root-a", "root-b"]).unwrap();
    // Trusting only Root A: the one path there is has the expired copy, and that is the error.
    let err = verdict(&["cross-leaf", "cross-a", "cross-b"], &["root-a"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 'CN=Cross Intermediate' expired on 2021-01-01 00:00:00 UTC"
    );
    assert_eq!(err.alert(), AlertDescription::CertificateExpired);
    // The order the server sends them in does not matter.
    verdict(&["cross-leaf", "cross-b", "cross-a"], &["root-b"]).unwrap();
}

/// `n` self-signed CA certificates all named `CN=Loop` with one key, and a leaf signed by that
/// key: each of them verifies the signature on the leaf and on every other one.
fn loop_chain(n: usize) -> (Vec<Certificate>, Vec<Certificate>) {
    let mut rng = StdRng::seed_from_u64(7);
    let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
    let (nb, na) = (UnixTime(NOW - 86_400), UnixTime(NOW + 86_400));
    let loops: Vec<Certificate> = (0..n)
        .map(|_| ca_with_key(&mut rng, &key, "Loop", nb, na).unwrap())
        .collect();
    let leaf = server_cert_with_key(
        &mut rng,
        &loops[0],
        &key,
        &key.public_key(),
        &["localhost"],
        nb,
        na,
    )
    .unwrap();
    let other = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
    let anchor = ca_with_key(&mut rng, &other, "Unrelated Root", nb, na).unwrap();
    let mut chain = vec![leaf];
    chain.extend(loops);
    (chain, vec![anchor])
}

#[test]
fn the_search_is_bounded() {
    // Ten interchangeable issuers: without a bound the search would try every order of up to
    // seven of them (about 600,000 signature checks) before saying there is no trusted root.
    let (chain, anchors) = loop_chain(10);
    let err = verify_server_chain(&chain, &anchors, "localhost", UnixTime(NOW)).unwrap_err();
    assert_eq!(
        err,
        CertError::PathSearchLimit {
            max: MAX_SIGNATURE_CHECKS
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "no path to a trusted CA was found within {MAX_SIGNATURE_CHECKS} signature checks; \
             the chain offers too many candidate issuers of the same name"
        )
    );
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
    // Three of them fit in the budget (3 + 3*2 + 3*2*1 = 15 checks): every order is tried and
    // the answer is the ordinary one.
    let (chain, anchors) = loop_chain(3);
    let err = verify_server_chain(&chain, &anchors, "localhost", UnixTime(NOW)).unwrap_err();
    assert_eq!(
        err,
        CertError::UntrustedIssuer {
            top_issuer: "CN=Loop".into()
        }
    );
}

/// Names are linked as RFC 5280 7.1 compares them, not byte for byte: a leaf issued by a CA whose
/// name was a PrintableString `CN=Test Root` is verified with a trust anchor of the same key whose
/// name is the UTF8String `CN=  test   ROOT `, as OpenSSL does. Made with `openssl req -x509`
/// (string_mask chooses the string type), valid from now.
#[test]
fn issuer_names_match_ignoring_case_white_space_and_string_type() {
    use toytls::clock::{Clock, SystemClock};
    let pki = Pki::new("names");
    pki.rsa_key("ca");
    pki.rsa_key("leaf");
    let dir = &pki.dir;
    let p = dir.path();
    for (mask, file) in [("default", "printable.cnf"), ("utf8only", "utf8.cnf")] {
        dir.write(
            file,
            format!(
                "[req]\ndistinguished_name = dn\nstring_mask = {mask}\n[dn]\n[ext]\n{ROOT_EXT}"
            ),
        );
    }
    let root = |cnf: &str, subj: &str, out: &str| {
        openssl(
            p,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-config",
                cnf,
                "-extensions",
                "ext",
                "-subj",
                subj,
                "-days",
                "30",
                "-out",
                out,
            ],
        );
    };
    root("printable.cnf", "/CN=Test Root", "issuer.pem");
    root("utf8.cnf", "/CN=  test   ROOT ", "folded.pem");
    root("utf8.cnf", "/CN=Test Roots", "other.pem");
    dir.write("leaf.ext", leaf_ext("DNS:localhost"));
    openssl(
        p,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=localhost",
            "-out",
            "leaf.csr",
        ],
    );
    openssl(
        p,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "issuer.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "10",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    // The two encodings really differ.
    let printable = openssl(p, &["asn1parse", "-in", "issuer.pem"]);
    let utf8 = openssl(p, &["asn1parse", "-in", "folded.pem"]);
    assert!(
        printable.contains("PRINTABLESTRING   :Test Root"),
        "{printable}"
    );
    assert!(utf8.contains("UTF8STRING        :  test   ROOT "), "{utf8}");

    let now = SystemClock.now();
    let leaf = parse_certificates(&dir.read("leaf.pem")).unwrap();
    for (anchor, good) in [
        ("folded.pem", true),
        ("issuer.pem", true),
        ("other.pem", false),
    ] {
        let anchors = parse_certificates(&dir.read(anchor)).unwrap();
        let ours = verify_server_chain(&leaf, &anchors, "localhost", now);
        assert_eq!(ours.is_ok(), good, "{anchor}: {ours:?}");
        if !good {
            assert_eq!(
                ours.unwrap_err(),
                CertError::UntrustedIssuer {
                    top_issuer: "CN=Test Root".into()
                }
            );
        }
        if openssl_available() {
            let (accepts, text) = openssl_verify(
                &dir.read("leaf.pem"),
                &[],
                &[&dir.read(anchor)],
                now.0,
                "localhost",
                &[],
            );
            assert_eq!(accepts, good, "openssl on {anchor}:\n{text}");
        }
    }
}
