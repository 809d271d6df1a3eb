//! The client-certificate commands as a user runs them: `toytls cert issue --client` and `toytls
//! cert verify --client` (a client certificate is good for a TLS client and not for a server, a
//! server's is not good for a client), and `toytls demo --client-auth` telling the two extra
//! messages, then resuming with the client's identity kept.

use std::process::Command;

const TOYTLS: &str = env!("CARGO_BIN_EXE_toytls");

#[path = "common/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

fn toytls(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = Command::new(TOYTLS)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn cert_issue_client_and_verify_client() {
    let dir = TempDir::new("toytls-client-cert-cli");
    let ok = |args: &[&str]| {
        let (ok, t) = toytls(&dir, args);
        assert!(ok, "{args:?}: {t}");
        t
    };
    ok(&["ca", "init", "--out", "ca"]);
    let t = ok(&[
        "cert", "issue", "--client", "--ca", "ca", "--name", "alice", "--out", "alice",
    ]);
    assert!(
        t.contains("issued 'CN=alice' for TLS client authentication"),
        "{t}"
    );
    ok(&[
        "cert",
        "issue",
        "--ca",
        "ca",
        "--name",
        "localhost",
        "--out",
        "srv",
    ]);
    let t = ok(&["cert", "show", "alice/cert.pem"]);
    assert!(t.contains("Extended key usage:  clientAuth"), "{t}");
    assert!(t.contains("Key usage:           digitalSignature\n"), "{t}");
    let t = ok(&[
        "cert",
        "verify",
        "--ca",
        "ca/ca.pem",
        "--client",
        "alice/cert.pem",
    ]);
    assert!(t.contains("OK: the chain is good for a TLS client"), "{t}");
    // A server certificate is no client certificate, and the other way round.
    let (good, t) = toytls(
        &dir,
        &[
            "cert",
            "verify",
            "--ca",
            "ca/ca.pem",
            "--client",
            "srv/cert.pem",
        ],
    );
    assert!(!good, "{t}");
    assert!(t.contains("without clientAuth"), "{t}");
    assert!(
        t.contains("a TLS server would send the alert certificate_unknown"),
        "{t}"
    );
    let (good, t) = toytls(
        &dir,
        &[
            "cert",
            "verify",
            "--ca",
            "ca/ca.pem",
            "--name",
            "alice",
            "alice/cert.pem",
        ],
    );
    assert!(!good, "{t}");
    assert!(t.contains("without serverAuth"), "{t}");
    // A client certificate has exactly one name.
    let (good, t) = toytls(
        &dir,
        &[
            "cert", "issue", "--client", "--ca", "ca", "--name", "a", "--name", "b", "--out", "ab",
        ],
    );
    assert!(!good && t.contains("one --name"), "{t}");
}

#[test]
fn demo_client_auth_tells_certificate_request_and_certificate_verify() {
    let dir = TempDir::new("toytls-demo-client-auth");
    let (ok, t) = toytls(&dir, &["demo", "--client-auth"]);
    assert!(ok, "{t}");
    for needle in [
        "server -> client: CertificateRequest",
        "authority: CN=toytls demo CA",
        "client -> server: Certificate (",
        "client -> server: CertificateVerify",
        "over every handshake message so far (RFC 5246 7.4.8)",
        "[server] client CertificateVerify verified (rsa_pkcs1_sha256)",
        "The server read 38 bytes from 'CN=demo client'",
        "No CertificateRequest either: the session remembers the client's certificate",
        "connection 2: resumed (abbreviated)",
    ] {
        assert!(t.contains(needle), "{needle}: {t}");
    }
    // Only the full handshake asks.
    assert_eq!(
        t.matches("server -> client: CertificateRequest").count(),
        1,
        "{t}"
    );
    // Without the flag, no request at all.
    let (ok, t) = toytls(&dir, &["demo"]);
    assert!(ok, "{t}");
    assert!(!t.contains("CertificateRequest"), "{t}");
}
