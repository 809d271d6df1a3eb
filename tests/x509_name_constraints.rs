//! Name constraints (RFC 5280 4.2.1.10) on chains made by the `openssl` command line and by
//! toytls' own builder: permitted and excluded DNS and IP subtrees, on a trust anchor and on an
//! intermediate (critical and not), both at once, the common name of a certificate without
//! subjectAltName, wildcards, directory names (the subjects of the leaf and of intermediates), and
//! the name forms toytls does not implement. Each case checks our verdict, its message and alert,
//! and that `openssl verify` reaches the same verdict (the two places where toytls is
//! deliberately stricter say so, and check that OpenSSL indeed decides otherwise).

mod x509_support;

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::OnceLock;
use toytls::clock::UnixTime;
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::wire::alert::AlertDescription;
use toytls::x509::builder::{
    CaProfile, ca_with_profile, intermediate_with_key, server_cert_with_key,
};
use toytls::x509::name_constraints::MAX_NAME_CHECKS;
use toytls::x509::pem::encode_certificate;
use toytls::x509::verify::verify_server_chain;
use toytls::x509::{CertError, Certificate};
use x509_support::*;

const CORP: &str =
    "nameConstraints = critical, permitted;DNS:corp.example, excluded;DNS:secret.corp.example\n";

/// The OpenSSL-made certificates and keys, by file name, in memory.
fn pems() -> &'static Files {
    static PEMS: OnceLock<Files> = OnceLock::new();
    PEMS.get_or_init(|| {
        let pki = Pki::new("nc");
        for key in ["root", "int", "leaf"] {
            pki.rsa_key(key);
        }
        let root_with = |name: &str, cn: &str, nc: &str| {
            pki.simple(
                name,
                &format!("/CN={cn}"),
                "root",
                None,
                &format!("{ROOT_EXT}{nc}"),
            );
        };
        let int_with = |name: &str, cn: &str, issuer: &str, nc: &str| {
            pki.simple(
                name,
                &format!("/CN={cn}"),
                "int",
                Some((issuer, "root")),
                &format!("{INTERMEDIATE_EXT}{nc}"),
            );
        };
        // Leaves: NAME signed by ISSUER (whose key is ISSUER_KEY), subject SUBJ, extensions EXT.
        let leaf = |name: &str, subj: &str, issuer: (&str, &str), ext: &str| {
            pki.simple(name, subj, "leaf", Some(issuer), ext);
        };
        let san = |list: &str| leaf_ext(list);
        let no_san = "basicConstraints = CA:FALSE\n";

        // A root constrained to corp.example, without secret.corp.example; leaves right below.
        root_with("dns-root", "Corp DNS Root", CORP);
        let by = ("dns-root", "root");
        leaf(
            "d-ok",
            "/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example"),
        );
        leaf("d-apex", "/CN=corp.example", by, &san("DNS:corp.example"));
        leaf("d-bank", "/CN=bank.com", by, &san("DNS:bank.com"));
        leaf(
            "d-mixed",
            "/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example, DNS:bank.com"),
        );
        leaf(
            "d-evil",
            "/CN=evilcorp.example",
            by,
            &san("DNS:evilcorp.example"),
        );
        leaf(
            "d-secret",
            "/CN=a.secret.corp.example",
            by,
            &san("DNS:a.secret.corp.example"),
        );
        leaf("d-cn", "/CN=bank.com", by, no_san);
        leaf("d-cn-ok", "/CN=www.corp.example", by, no_san);
        leaf(
            "d-wild",
            "/CN=dev wildcard",
            by,
            &san("DNS:*.dev.corp.example"),
        );
        leaf(
            "d-wild-secret",
            "/CN=corp wildcard",
            by,
            &san("DNS:*.corp.example"),
        );
        leaf(
            "d-ip",
            "/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example, IP:192.0.2.1"),
        );

        // A root constrained to 10/8 and fd00::/8, without 10.9/16.
        root_with(
            "ip-root",
            "Corp IP Root",
            "nameConstraints = critical, permitted;IP:10.0.0.0/255.0.0.0, \
             permitted;IP:fd00::/ff00::, excluded;IP:10.9.0.0/255.255.0.0\n",
        );
        let by = ("ip-root", "root");
        leaf("i-ok", "/CN=ten", by, &san("IP:10.1.2.3"));
        leaf("i-out", "/CN=private", by, &san("IP:192.168.1.1"));
        leaf("i-excl", "/CN=nine", by, &san("IP:10.9.1.1"));
        leaf("i-v6", "/CN=ula", by, &san("IP:fd00::1"));
        leaf("i-v6-out", "/CN=doc", by, &san("IP:2001:db8::1"));
        leaf(
            "i-dns",
            "/CN=anything.example",
            by,
            &san("DNS:anything.example, IP:10.1.2.3"),
        );

        // An unconstrained root, and intermediates that carry the constraints.
        root_with("plain-root", "Plain Root", "");
        int_with(
            "dot-int",
            "Dot Intermediate",
            "plain-root",
            "nameConstraints = critical, permitted;DNS:.corp.example\n",
        );
        leaf(
            "t-www",
            "/CN=www.corp.example",
            ("dot-int", "int"),
            &san("DNS:www.corp.example"),
        );
        leaf(
            "t-apex",
            "/CN=corp.example",
            ("dot-int", "int"),
            &san("DNS:corp.example"),
        );
        int_with(
            "soft-int",
            "Soft Intermediate",
            "plain-root",
            "nameConstraints = permitted;DNS:corp.example\n",
        );
        leaf(
            "s-bank",
            "/CN=bank.com",
            ("soft-int", "int"),
            &san("DNS:bank.com"),
        );

        // Both the anchor and the intermediate constrained.
        int_with(
            "dev-int",
            "Dev Intermediate",
            "dns-root",
            "nameConstraints = critical, permitted;DNS:dev.corp.example\n",
        );
        leaf(
            "b-ok",
            "/CN=www.dev.corp.example",
            ("dev-int", "int"),
            &san("DNS:www.dev.corp.example"),
        );
        leaf(
            "b-prod",
            "/CN=www.prod.corp.example",
            ("dev-int", "int"),
            &san("DNS:www.prod.corp.example"),
        );
        int_with(
            "wide-int",
            "Wide Intermediate",
            "dns-root",
            "nameConstraints = critical, permitted;DNS:bank.com\n",
        );
        leaf(
            "b-bank",
            "/CN=bank.com",
            ("wide-int", "int"),
            &san("DNS:bank.com"),
        );

        // Directory names: permitted O=Corp, excluded O=Corp, OU=Secret.
        let dir = "nameConstraints = critical, permitted;dirName:dir_sect, \
                   excluded;dirName:secret_sect\n\
                   [dir_sect]\nO = Corp\n[secret_sect]\nO = Corp\nOU = Secret\n";
        root_with("dir-root", "Corp Directory Root", dir);
        let by = ("dir-root", "root");
        let www = san("DNS:www.corp.example");
        leaf("n-dir", "/O=Corp/CN=www.corp.example", by, &www);
        leaf(
            "n-dir-case",
            "/O=CORP /OU=Web/CN=www.corp.example",
            by,
            &www,
        );
        leaf("n-dir-out", "/O=Other/CN=www.corp.example", by, &www);
        leaf(
            "n-dir-secret",
            "/O=Corp/OU=Secret/CN=www.corp.example",
            by,
            &www,
        );
        // An intermediate is a certificate below the root too: its subject counts.
        pki.simple(
            "n-dir-int",
            "/O=Corp/CN=Corp Intermediate",
            "int",
            Some(("dir-root", "root")),
            INTERMEDIATE_EXT,
        );
        leaf(
            "n-dir-int-leaf",
            "/O=Corp/CN=www.corp.example",
            ("n-dir-int", "int"),
            &www,
        );
        pki.simple(
            "n-stray-int",
            "/CN=Stray Intermediate",
            "int",
            Some(("dir-root", "root")),
            INTERMEDIATE_EXT,
        );
        leaf(
            "n-stray-leaf",
            "/O=Corp/CN=www.corp.example",
            ("n-stray-int", "int"),
            &www,
        );

        // Forms toytls does not implement.
        root_with(
            "mail-root",
            "Corp Mail Root",
            "nameConstraints = critical, permitted;email:corp.example\n",
        );
        let by = ("mail-root", "root");
        leaf(
            "u-mail-none",
            "/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example"),
        );
        leaf(
            "u-mail",
            "/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example, email:bob@bank.com"),
        );
        root_with(
            "uri-root",
            "Corp URI Root",
            "nameConstraints = critical, permitted;URI:.corp.example\n",
        );
        leaf(
            "u-uri",
            "/CN=www.corp.example",
            ("uri-root", "root"),
            &san("DNS:www.corp.example, URI:https://bank.com/"),
        );
        int_with(
            "softdir-int",
            "Soft Directory Intermediate",
            "plain-root",
            "nameConstraints = permitted;dirName:dir_sect, permitted;DNS:corp.example\n\
             [dir_sect]\nO = Corp\n",
        );
        let by = ("softdir-int", "int");
        leaf(
            "u-softdir",
            "/O=Corp/CN=www.corp.example",
            by,
            &san("DNS:www.corp.example"),
        );
        leaf(
            "u-softdir-bank",
            "/O=Corp/CN=bank.com",
            by,
            &san("DNS:bank.com"),
        );

        pki.files()
    })
}

fn certs(names: &[&str]) -> Vec<Certificate> {
    pems().certs(names)
}

/// What OpenSSL says: the same, or (where toytls is stricter on purpose) the opposite.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OpenSsl {
    Agrees,
    Differs,
}

/// Checks `chain` (leaf first) against the trust anchor `anchor` for `host`: our verdict, its
/// message and alert, and OpenSSL's verdict.
fn expect(
    chain: &[&str],
    anchor: &str,
    host: &str,
    want: Result<(), (&str, AlertDescription)>,
    openssl: OpenSsl,
) {
    let got = verify_server_chain(&certs(chain), &certs(&[anchor]), host, UnixTime(NOW));
    match (&got, &want) {
        (Ok(()), Ok(())) => {}
        (Err(e), Err((text, alert))) => {
            assert_eq!(e.to_string(), *text, "{chain:?} for {host}");
            assert_eq!(e.alert(), *alert, "{chain:?} for {host}: {e}");
        }
        _ => panic!("{chain:?} for {host}: got {got:?}, want {want:?}"),
    }
    if openssl_available() {
        let (accepts, text) = pems().openssl_verify(chain, &[anchor], NOW, host, &[]);
        // Where toytls differs on purpose, the difference itself is checked: the comment at
        // the case says why.
        assert_eq!(
            accepts,
            want.is_ok() == (openssl == OpenSsl::Agrees),
            "openssl on {chain:?} for {host} (expected to {openssl:?}):\n{text}"
        );
    }
}

fn not_permitted(ca: &str, name: &str, cert: &str, permitted: &str) -> String {
    format!(
        "CA '{ca}' does not permit the name {name} of certificate '{cert}': its nameConstraints \
         permit only {permitted}"
    )
}

fn excluded(ca: &str, name: &str, cert: &str, subtree: &str) -> String {
    format!(
        "CA '{ca}' excludes the name {name} of certificate '{cert}': its nameConstraints exclude \
         {subtree}"
    )
}

const UNKNOWN: AlertDescription = AlertDescription::CertificateUnknown;
use OpenSsl::{Agrees, Differs};

#[test]
fn dns_subtrees_on_the_trust_anchor() {
    let root = "CN=Corp DNS Root";
    expect(&["d-ok"], "dns-root", "www.corp.example", Ok(()), Agrees);
    expect(&["d-apex"], "dns-root", "corp.example", Ok(()), Agrees);
    for (leaf, host, name, cert) in [
        ("d-bank", "bank.com", "bank.com", "CN=bank.com"),
        // Every name of the certificate counts, not only the one asked for.
        (
            "d-mixed",
            "www.corp.example",
            "bank.com",
            "CN=www.corp.example",
        ),
        // Labels, not characters: evilcorp.example is not below corp.example.
        (
            "d-evil",
            "evilcorp.example",
            "evilcorp.example",
            "CN=evilcorp.example",
        ),
    ] {
        let text = not_permitted(root, &format!("DNS:{name}"), cert, "DNS:corp.example");
        expect(&[leaf], "dns-root", host, Err((&text, UNKNOWN)), Agrees);
    }
    let text = excluded(
        root,
        "DNS:a.secret.corp.example",
        "CN=a.secret.corp.example",
        "DNS:secret.corp.example",
    );
    expect(
        &["d-secret"],
        "dns-root",
        "a.secret.corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    // No IP subtrees: IP addresses are not constrained.
    expect(&["d-ip"], "dns-root", "192.0.2.1", Ok(()), Agrees);
}

#[test]
fn the_common_name_counts_when_it_is_the_name() {
    // Without subjectAltName the common name is what the host is matched against, so it is
    // what the constraints apply to.
    expect(&["d-cn-ok"], "dns-root", "www.corp.example", Ok(()), Agrees);
    let text = not_permitted(
        "CN=Corp DNS Root",
        "DNS:bank.com",
        "CN=bank.com",
        "DNS:corp.example",
    );
    expect(
        &["d-cn"],
        "dns-root",
        "bank.com",
        Err((&text, UNKNOWN)),
        Agrees,
    );
}

#[test]
fn wildcards() {
    expect(
        &["d-wild"],
        "dns-root",
        "api.dev.corp.example",
        Ok(()),
        Agrees,
    );
    // *.corp.example stands for secret.corp.example, which is excluded. OpenSSL compares the
    // pattern as a string and accepts it; toytls refuses a certificate that can be used for an
    // excluded name.
    let text = excluded(
        "CN=Corp DNS Root",
        "DNS:*.corp.example",
        "CN=corp wildcard",
        "DNS:secret.corp.example",
    );
    expect(
        &["d-wild-secret"],
        "dns-root",
        "www.corp.example",
        Err((&text, UNKNOWN)),
        Differs,
    );
}

#[test]
fn ip_subtrees_on_the_trust_anchor() {
    let root = "CN=Corp IP Root";
    let permits = "IP:10.0.0.0/8, IP:fd00::/8";
    expect(&["i-ok"], "ip-root", "10.1.2.3", Ok(()), Agrees);
    expect(&["i-v6"], "ip-root", "fd00::1", Ok(()), Agrees);
    let text = not_permitted(root, "IP:192.168.1.1", "CN=private", permits);
    expect(
        &["i-out"],
        "ip-root",
        "192.168.1.1",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    let text = not_permitted(root, "IP:2001:db8::1", "CN=doc", permits);
    expect(
        &["i-v6-out"],
        "ip-root",
        "2001:db8::1",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    let text = excluded(root, "IP:10.9.1.1", "CN=nine", "IP:10.9.0.0/16");
    expect(
        &["i-excl"],
        "ip-root",
        "10.9.1.1",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    // No DNS subtrees: DNS names are not constrained.
    expect(&["i-dns"], "ip-root", "anything.example", Ok(()), Agrees);
}

#[test]
fn subtrees_on_an_intermediate() {
    // A leading dot: strictly below corp.example.
    expect(
        &["t-www", "dot-int"],
        "plain-root",
        "www.corp.example",
        Ok(()),
        Agrees,
    );
    let text = not_permitted(
        "CN=Dot Intermediate",
        "DNS:corp.example",
        "CN=corp.example",
        "DNS:.corp.example",
    );
    expect(
        &["t-apex", "dot-int"],
        "plain-root",
        "corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    // Not marked critical (RFC 5280 says it must be): enforced all the same.
    let text = not_permitted(
        "CN=Soft Intermediate",
        "DNS:bank.com",
        "CN=bank.com",
        "DNS:corp.example",
    );
    expect(
        &["s-bank", "soft-int"],
        "plain-root",
        "bank.com",
        Err((&text, UNKNOWN)),
        Agrees,
    );
}

#[test]
fn anchor_and_intermediate_both_apply() {
    expect(
        &["b-ok", "dev-int"],
        "dns-root",
        "www.dev.corp.example",
        Ok(()),
        Agrees,
    );
    let text = not_permitted(
        "CN=Dev Intermediate",
        "DNS:www.prod.corp.example",
        "CN=www.prod.corp.example",
        "DNS:dev.corp.example",
    );
    expect(
        &["b-prod", "dev-int"],
        "dns-root",
        "www.prod.corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    // An intermediate cannot widen what its CA allows.
    let text = not_permitted(
        "CN=Corp DNS Root",
        "DNS:bank.com",
        "CN=bank.com",
        "DNS:corp.example",
    );
    expect(
        &["b-bank", "wide-int"],
        "dns-root",
        "bank.com",
        Err((&text, UNKNOWN)),
        Agrees,
    );
}

#[test]
fn directory_name_subtrees() {
    let root = "CN=Corp Directory Root";
    expect(&["n-dir"], "dir-root", "www.corp.example", Ok(()), Agrees);
    // Compared as names are: case and spacing aside.
    expect(
        &["n-dir-case"],
        "dir-root",
        "www.corp.example",
        Ok(()),
        Agrees,
    );
    let text = not_permitted(
        root,
        "DirName:CN=www.corp.example, O=Other",
        "CN=www.corp.example, O=Other",
        "DirName:O=Corp",
    );
    expect(
        &["n-dir-out"],
        "dir-root",
        "www.corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    let text = excluded(
        root,
        "DirName:CN=www.corp.example, OU=Secret, O=Corp",
        "CN=www.corp.example, OU=Secret, O=Corp",
        "DirName:OU=Secret, O=Corp",
    );
    expect(
        &["n-dir-secret"],
        "dir-root",
        "www.corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
    expect(
        &["n-dir-int-leaf", "n-dir-int"],
        "dir-root",
        "www.corp.example",
        Ok(()),
        Agrees,
    );
    let text = not_permitted(
        root,
        "DirName:CN=Stray Intermediate",
        "CN=Stray Intermediate",
        "DirName:O=Corp",
    );
    expect(
        &["n-stray-leaf", "n-stray-int"],
        "dir-root",
        "www.corp.example",
        Err((&text, UNKNOWN)),
        Agrees,
    );
}

#[test]
fn name_forms_toytls_does_not_implement() {
    let unsupported = AlertDescription::UnsupportedCertificate;
    // Critical, on rfc822Name: a certificate without email names is not concerned.
    expect(
        &["u-mail-none"],
        "mail-root",
        "www.corp.example",
        Ok(()),
        Agrees,
    );
    // ... one with an email name is refused (OpenSSL refuses it too: not under corp.example).
    expect(
        &["u-mail"],
        "mail-root",
        "www.corp.example",
        Err((
            "CA 'CN=Corp Mail Root' has critical nameConstraints on rfc822Name names, which \
             toytls does not implement, and certificate 'CN=www.corp.example' has such a name",
            unsupported,
        )),
        Agrees,
    );
    expect(
        &["u-uri"],
        "uri-root",
        "www.corp.example",
        Err((
            "CA 'CN=Corp URI Root' has critical nameConstraints on uniformResourceIdentifier \
             names, which toytls does not implement, and certificate 'CN=www.corp.example' has \
             such a name",
            unsupported,
        )),
        Agrees,
    );
    // Not critical: enforced all the same, the directoryName subtree as the DNS one.
    expect(
        &["u-softdir", "softdir-int"],
        "plain-root",
        "www.corp.example",
        Ok(()),
        Agrees,
    );
    let text = not_permitted(
        "CN=Soft Directory Intermediate",
        "DNS:bank.com",
        "CN=bank.com, O=Corp",
        "DNS:corp.example",
    );
    expect(
        &["u-softdir-bank", "softdir-int"],
        "plain-root",
        "bank.com",
        Err((&text, UNKNOWN)),
        Agrees,
    );
}

/// Keys for the builder-made chains (generated once; key size is not what is tested here).
fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
    static KEYS: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(11);
        (
            RsaPrivateKey::generate(&mut rng, 2048).unwrap(),
            RsaPrivateKey::generate(&mut rng, 2048).unwrap(),
        )
    })
}

#[test]
fn constraints_made_by_our_builder() {
    let (ca_key, leaf_key) = keys();
    let mut rng = StdRng::seed_from_u64(12);
    let (nb, na) = (UnixTime(NOW - 86_400), UnixTime(NOW + 86_400));
    let root = ca_with_profile(
        &mut rng,
        ca_key,
        "Built Root",
        nb,
        na,
        &CaProfile {
            permitted: &["DNS:corp.example", "IP:10.0.0.0/8"],
            excluded: &["DNS:secret.corp.example", "IP:10.9.0.0/16"],
            ..CaProfile::default()
        },
    )
    .unwrap();
    let nc = root.extensions().name_constraints.as_ref().unwrap();
    assert!(nc.critical);
    assert_eq!(nc.permitted.len(), 2);
    let int = intermediate_with_key(
        &mut rng,
        &root,
        ca_key,
        &leaf_key.public_key(),
        "Built Intermediate",
        nb,
        na,
        &CaProfile {
            path_len: Some(0),
            permitted: &["DNS:dev.corp.example"],
            ..CaProfile::default()
        },
    )
    .unwrap();
    // The IP address as a second name; the first is the common name.
    let with_ip = server_cert_with_key(
        &mut rng,
        &root,
        ca_key,
        &leaf_key.public_key(),
        &["www.corp.example", "10.1.2.3"],
        nb,
        na,
    )
    .unwrap();
    let mut leaf = |issuer: &Certificate, key: &RsaPrivateKey, name: &str| {
        server_cert_with_key(
            &mut rng,
            issuer,
            key,
            &leaf_key.public_key(),
            &[name],
            nb,
            na,
        )
        .unwrap()
    };
    let cases: Vec<(Vec<Certificate>, &str, Result<(), String>)> = vec![
        (vec![with_ip], "10.1.2.3", Ok(())),
        (
            vec![leaf(&root, ca_key, "www.corp.example")],
            "www.corp.example",
            Ok(()),
        ),
        (
            vec![leaf(&root, ca_key, "bank.com")],
            "bank.com",
            Err(not_permitted(
                "CN=Built Root",
                "DNS:bank.com",
                "CN=bank.com",
                "DNS:corp.example",
            )),
        ),
        (
            vec![leaf(&root, ca_key, "a.secret.corp.example")],
            "a.secret.corp.example",
            Err(excluded(
                "CN=Built Root",
                "DNS:a.secret.corp.example",
                "CN=a.secret.corp.example",
                "DNS:secret.corp.example",
            )),
        ),
        (
            vec![leaf(&root, ca_key, "10.9.0.1")],
            "10.9.0.1",
            Err(excluded(
                "CN=Built Root",
                "IP:10.9.0.1",
                "CN=10.9.0.1",
                "IP:10.9.0.0/16",
            )),
        ),
        (
            vec![leaf(&root, ca_key, "192.0.2.1")],
            "192.0.2.1",
            Err(not_permitted(
                "CN=Built Root",
                "IP:192.0.2.1",
                "CN=192.0.2.1",
                "IP:10.0.0.0/8",
            )),
        ),
        (
            vec![leaf(&int, leaf_key, "www.dev.corp.example"), int.clone()],
            "www.dev.corp.example",
            Ok(()),
        ),
        (
            vec![leaf(&int, leaf_key, "www.corp.example"), int.clone()],
            "www.corp.example",
            Err(not_permitted(
                "CN=Built Intermediate",
                "DNS:www.corp.example",
                "CN=www.corp.example",
                "DNS:dev.corp.example",
            )),
        ),
    ];
    // OpenSSL also holds the DNS subtrees against the common name of a certificate whose
    // subjectAltName has no DNS name (here CN=10.1.2.3, which it reads as a host name, next to
    // IP:10.1.2.3). toytls matches the host against the common name only when there is no
    // subjectAltName at all, so only then is the common name a name it constrains.
    let cn_ip = vec![leaf(&root, ca_key, "10.1.2.3")];
    verify_server_chain(
        &cn_ip,
        std::slice::from_ref(&root),
        "10.1.2.3",
        UnixTime(NOW),
    )
    .unwrap();
    if openssl_available() {
        let (accepts, text) = openssl_verify(
            &encode_certificate(&cn_ip[0]),
            &[],
            &[&encode_certificate(&root)],
            NOW,
            "10.1.2.3",
            &[],
        );
        assert!(
            !accepts && text.contains("permitted subtree violation"),
            "{text}"
        );
    }
    let anchors = [root.clone()];
    for (chain, host, want) in &cases {
        let got = verify_server_chain(chain, &anchors, host, UnixTime(NOW)).map_err(|e| {
            assert_eq!(e.alert(), UNKNOWN, "{e}");
            e.to_string()
        });
        assert_eq!(&got, want, "{host}");
        if openssl_available() {
            let untrusted: Vec<String> = chain[1..].iter().map(encode_certificate).collect();
            let untrusted: Vec<&str> = untrusted.iter().map(String::as_str).collect();
            let (accepts, text) = openssl_verify(
                &encode_certificate(&chain[0]),
                &untrusted,
                &[&encode_certificate(&root)],
                NOW,
                host,
                &[],
            );
            assert_eq!(accepts, want.is_ok(), "openssl on {host}:\n{text}");
        }
    }
    // OpenSSL reads the extension as we meant it.
    if openssl_available() {
        let dir = TempDir::new("nc-text");
        dir.write("root.pem", encode_certificate(&root));
        let text = openssl(dir.path(), &["x509", "-in", "root.pem", "-noout", "-text"]);
        let at = text.find("X509v3 Name Constraints: critical").expect(&text);
        let shown: Vec<&str> = text[at..].lines().skip(1).take(6).map(str::trim).collect();
        assert_eq!(
            shown,
            [
                "Permitted:",
                "DNS:corp.example",
                "IP:10.0.0.0/255.0.0.0",
                "Excluded:",
                "DNS:secret.corp.example",
                "IP:10.9.0.0/255.255.0.0",
            ],
            "{text}"
        );
    }
}

#[test]
fn the_work_is_bounded() {
    let (ca_key, _) = keys();
    let mut rng = StdRng::seed_from_u64(13);
    let (nb, na) = (UnixTime(NOW - 86_400), UnixTime(NOW + 86_400));
    // n permitted subtrees, the last one holding all n names of the leaf: n * n comparisons.
    let chain_for = |rng: &mut StdRng, n: usize| {
        let mut subtrees: Vec<String> = (1..n).map(|i| format!("DNS:z{i}.example")).collect();
        subtrees.push("DNS:corp.example".into());
        let subtrees: Vec<&str> = subtrees.iter().map(String::as_str).collect();
        let root = ca_with_profile(
            rng,
            ca_key,
            "Many Subtrees",
            nb,
            na,
            &CaProfile {
                permitted: &subtrees,
                ..CaProfile::default()
            },
        )
        .unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("h{i}.corp.example")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let leaf =
            server_cert_with_key(rng, &root, ca_key, &ca_key.public_key(), &names, nb, na).unwrap();
        (vec![leaf], vec![root])
    };
    let (chain, anchors) = chain_for(&mut rng, 200);
    const { assert!(200 * 200 <= MAX_NAME_CHECKS) };
    verify_server_chain(&chain, &anchors, "h7.corp.example", UnixTime(NOW)).unwrap();
    let (chain, anchors) = chain_for(&mut rng, 300);
    const { assert!(300 * 300 > MAX_NAME_CHECKS) };
    let err = verify_server_chain(&chain, &anchors, "h7.corp.example", UnixTime(NOW)).unwrap_err();
    assert_eq!(
        err,
        CertError::TooManyNameChecks {
            max: MAX_NAME_CHECKS
        }
    );
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
}
