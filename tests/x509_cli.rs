//! The certificate commands of the `toytls` binary, run as a user would: `ca init`, `cert issue`,
//! `cert show`, `cert verify`, with their files checked by the openssl command line.

mod x509_support;

use std::process::{Command, Output};
use x509_support::*;

fn toytls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args(args)
        .output()
        .expect("run toytls")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(args: &[&str]) -> String {
    let o = toytls(args);
    assert!(
        o.status.success(),
        "toytls {args:?} failed:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn every_command_has_help() {
    for (args, wants) in [
        (&["ca", "--help"][..], &["init"][..]),
        (
            &["ca", "init", "--help"],
            &["--out", "--name", "--days", "--force"],
        ),
        (&["cert", "--help"], &["issue", "show", "verify"]),
        (
            &["cert", "issue", "--help"],
            &["--ca", "--name", "--days", "--out"],
        ),
        (&["cert", "show", "--help"], &["<FILE>"]),
        (
            &["cert", "verify", "--help"],
            &["--ca", "--name", "--at", "<CHAIN>"],
        ),
    ] {
        let out = ok(args);
        for want in wants {
            assert!(out.contains(want), "{args:?} --help lacks {want}:\n{out}");
        }
    }
}

#[test]
fn ca_init_issue_show_verify() {
    let dir = TempDir::new("cli");
    let ca_dir = dir.join("ca");
    let srv_dir = dir.join("srv");
    let (ca, srv) = (ca_dir.to_str().unwrap(), srv_dir.to_str().unwrap());

    let out = ok(&["ca", "init", "--out", ca, "--name", "CLI Test CA"]);
    assert!(out.contains("created CA 'CN=CLI Test CA'"), "{out}");
    // The CA files are what OpenSSL expects, and the key is private.
    let text = openssl(dir.path(), &["x509", "-in", "ca/ca.pem", "-noout", "-text"]);
    assert!(text.contains("CA:TRUE"), "{text}");
    let key_text = openssl(dir.path(), &["pkey", "-in", "ca/ca.key", "-noout", "-text"]);
    assert!(key_text.contains("2048 bit"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ca_dir.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Not overwritten by accident.
    let again = toytls(&["ca", "init", "--out", ca]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    ok(&[
        "cert",
        "issue",
        "--ca",
        ca,
        "--name",
        "localhost",
        "--name",
        "127.0.0.1",
        "--days",
        "30",
        "--out",
        srv,
    ]);
    let chain = dir.read("srv/cert.pem");
    assert_eq!(chain.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    assert!(
        dir.read("srv/key.pem")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let v = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "ca/ca.pem",
            "-verify_hostname",
            "localhost",
            "srv/cert.pem",
        ],
    );
    assert!(v.contains("OK"), "{v}");
    // The key belongs to the certificate.
    assert_eq!(
        openssl(dir.path(), &["pkey", "-in", "srv/key.pem", "-pubout"]),
        openssl(
            dir.path(),
            &["x509", "-in", "srv/cert.pem", "-noout", "-pubkey"]
        )
    );

    // show: the fields a learner wants, and the fingerprint OpenSSL computes.
    let shown = ok(&["cert", "show", srv_dir.join("cert.pem").to_str().unwrap()]);
    for want in [
        "Certificate 1 of 2",
        "Subject:             CN=localhost",
        "Issuer:              CN=CLI Test CA",
        "RSA 2048 bits, exponent 65537",
        "Signature algorithm: sha256WithRSAEncryption",
        "Names:               DNS:localhost, IP:127.0.0.1",
        "Extended key usage:  serverAuth",
        "Certificate 2 of 2",
    ] {
        assert!(shown.contains(want), "missing {want:?} in\n{shown}");
    }
    let fp = openssl(
        dir.path(),
        &[
            "x509",
            "-in",
            "srv/cert.pem",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    let fp = fp.trim().split_once('=').unwrap().1;
    assert!(
        shown.contains(&format!("SHA-256 fingerprint: {fp}")),
        "{shown}"
    );

    // verify: good, wrong name, expired, untrusted.
    let ca_pem = ca_dir.join("ca.pem");
    let chain_pem = srv_dir.join("cert.pem");
    let (ca_pem, chain_pem) = (ca_pem.to_str().unwrap(), chain_pem.to_str().unwrap());
    let good = ok(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "localhost",
        chain_pem,
    ]);
    assert!(
        good.starts_with("OK: the chain is good for 'localhost'"),
        "{good}"
    );
    assert_eq!(good.lines().count(), 1);
    ok(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "127.0.0.1",
        chain_pem,
    ]);

    let wrong = toytls(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "example.com",
        chain_pem,
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        stdout(&wrong).trim(),
        "REJECTED: certificate 'CN=localhost' covers 'localhost', '127.0.0.1', not 'example.com' \
         (a TLS client would send the alert certificate_unknown)"
    );

    let late = toytls(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "localhost",
        "--at",
        "2100-01-01T00:00:00Z",
        chain_pem,
    ]);
    assert_eq!(late.status.code(), Some(1));
    assert!(stdout(&late).contains("expired on"), "{}", stdout(&late));
    assert!(stdout(&late).contains("certificate_expired"));

    let early = toytls(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "localhost",
        "--at",
        "2001-01-01T00:00:00Z",
        chain_pem,
    ]);
    assert_eq!(early.status.code(), Some(1));
    assert!(
        stdout(&early).contains("is not valid until"),
        "{}",
        stdout(&early)
    );

    let bad_time = toytls(&[
        "cert",
        "verify",
        "--ca",
        ca_pem,
        "--name",
        "localhost",
        "--at",
        "tomorrow",
        chain_pem,
    ]);
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(stderr(&bad_time).contains("RFC 3339"));

    let other_dir = dir.join("other");
    ok(&[
        "ca",
        "init",
        "--out",
        other_dir.to_str().unwrap(),
        "--name",
        "Other CA",
    ]);
    let other_ca = other_dir.join("ca.pem");
    let untrusted = toytls(&[
        "cert",
        "verify",
        "--ca",
        other_ca.to_str().unwrap(),
        "--name",
        "localhost",
        chain_pem,
    ]);
    assert_eq!(untrusted.status.code(), Some(1));
    // The chain file holds the CA too, so the top of the chain is the self-signed CLI Test CA.
    assert!(
        stdout(&untrusted).contains(
            "no certificate in the chain is signed by a trusted CA; the top one was issued by \
             'CN=CLI Test CA'"
        ),
        "{}",
        stdout(&untrusted)
    );
    assert!(stdout(&untrusted).contains("unknown_ca"));
}

#[test]
fn refusals() {
    let dir = TempDir::new("cli-refusals");
    let ca = dir.join("ca");
    let ca = ca.to_str().unwrap();
    ok(&["ca", "init", "--out", ca]);
    let bad = toytls(&[
        "cert",
        "issue",
        "--ca",
        ca,
        "--name",
        "not a name",
        "--out",
        dir.join("srv").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("neither a DNS name nor an IP address"),
        "{}",
        stderr(&bad)
    );
    // --name is required.
    let missing = toytls(&["cert", "issue", "--ca", ca, "--out", ca]);
    assert!(!missing.status.success());
    // A file without certificates.
    let empty = dir.write("empty.pem", "nothing here\n");
    let shown = toytls(&["cert", "show", empty.to_str().unwrap()]);
    assert_eq!(shown.status.code(), Some(1));
    assert!(stderr(&shown).contains("no certificate found"));

    // An openssl-made certificate with an EC key: rejected with the reason and alert.
    let pki = Pki::new("cli-ec");
    pki.rsa_key("root");
    pki.ec_key("ec");
    pki.simple("root", "/CN=EC Root", "root", None, ROOT_EXT);
    pki.simple(
        "ec",
        "/CN=localhost",
        "ec",
        Some(("root", "root")),
        &leaf_ext("DNS:localhost"),
    );
    let out = toytls(&[
        "cert",
        "verify",
        "--ca",
        pki.path("root.pem").to_str().unwrap(),
        "--name",
        "localhost",
        "--at",
        "2026-01-01T00:00:00Z",
        pki.path("ec.pem").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(
            "has a key of type id-ecPublicKey (prime256v1); toytls supports only RSA keys"
        ),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("unsupported_certificate"));
}

#[test]
fn name_constraints_are_shown_and_enforced() {
    let pki = Pki::new("cli-nc");
    pki.rsa_key("root");
    pki.rsa_key("leaf");
    pki.simple(
        "root",
        "/CN=Corp Root",
        "root",
        None,
        &format!(
            "{ROOT_EXT}nameConstraints = critical, permitted;DNS:corp.example, \
             excluded;IP:10.9.0.0/255.255.0.0\n"
        ),
    );
    pki.simple(
        "bank",
        "/CN=bank.com",
        "leaf",
        Some(("root", "root")),
        &leaf_ext("DNS:bank.com"),
    );
    let shown = ok(&["cert", "show", pki.path("root.pem").to_str().unwrap()]);
    assert!(
        shown.contains("Name constraints:    permitted DNS:corp.example; excluded IP:10.9.0.0/16"),
        "{shown}"
    );
    let out = toytls(&[
        "cert",
        "verify",
        "--ca",
        pki.path("root.pem").to_str().unwrap(),
        "--name",
        "bank.com",
        "--at",
        "2026-01-01T00:00:00Z",
        pki.path("bank.pem").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).trim(),
        "REJECTED: CA 'CN=Corp Root' does not permit the name DNS:bank.com of certificate \
         'CN=bank.com': its nameConstraints permit only DNS:corp.example (a TLS client would send \
         the alert certificate_unknown)"
    );
}
