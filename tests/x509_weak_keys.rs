//! RSA keys under 2048 bits are refused by default, on both sides: the client's verifier refuses
//! a server key or a CA key that small (bad_certificate, as OpenSSL at security level 2), a
//! `ServerConfig` refuses a small private key, and so do `toytls server`, `toytls cert verify`
//! and `toytls cert issue`. `Policy::INSECURE_WEAK_KEYS_FOR_TEACHING` accepts them, for showing
//! the difference. Keys and certificates are made by the `openssl` command line; every verdict
//! is compared with `openssl verify -auth_level 2` (112-bit security: RSA 2048) and, for the
//! teaching policy, `-auth_level 1` (80 bits: RSA 1024).

mod stacks;
mod x509_support;

use std::process::Command;
use std::sync::OnceLock;
use toytls::clock::UnixTime;
use toytls::config::ServerConfig;
use toytls::wire::alert::AlertDescription;
use toytls::x509::pem::parse_private_key;
use toytls::x509::verify::{MIN_RSA_BITS, Policy, verify_server_chain, verify_with_policy};
use toytls::x509::{CertError, Certificate};
use x509_support::{
    Files, INTERMEDIATE_EXT, NOW, Pki, ROOT_EXT, leaf_ext, openssl, openssl_available,
};

/// The files of the OpenSSL-made PKI (certificates and keys), by file name, in memory.
fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let pki = Pki::new("weak");
        pki.rsa_key("root");
        pki.rsa_key("leaf");
        for key in ["weak", "weak-ca"] {
            openssl(
                pki.dir.path(),
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:1024",
                    "-out",
                    &format!("{key}.key"),
                ],
            );
        }
        let lh = leaf_ext("DNS:localhost");
        pki.simple("root", "/CN=Strong Root", "root", None, ROOT_EXT);
        pki.simple("weak-root", "/CN=Weak Root", "weak-ca", None, ROOT_EXT);
        pki.simple(
            "weak-leaf",
            "/CN=localhost",
            "weak",
            Some(("root", "root")),
            &lh,
        );
        pki.simple(
            "leaf-under-weak-root",
            "/CN=localhost",
            "leaf",
            Some(("weak-root", "weak-ca")),
            &lh,
        );
        pki.simple(
            "weak-int",
            "/CN=Weak Intermediate",
            "weak-ca",
            Some(("root", "root")),
            INTERMEDIATE_EXT,
        );
        pki.simple(
            "leaf-under-weak-int",
            "/CN=localhost",
            "leaf",
            Some(("weak-int", "weak-ca")),
            &lh,
        );
        pki.simple(
            "strong-leaf",
            "/CN=localhost",
            "leaf",
            Some(("root", "root")),
            &lh,
        );
        pki.files()
    })
}

fn file(name: &str) -> &'static str {
    files().file(name)
}

fn cert(name: &str) -> Vec<Certificate> {
    files().certs(&[name])
}

/// Our verdict with `policy` on `chain` (leaf first) trusting `anchor`, and OpenSSL's at the
/// matching security level.
fn verdict(chain: &[&str], anchor: &str, policy: &Policy) -> Result<(), CertError> {
    let certs: Vec<Certificate> = chain.iter().flat_map(|n| cert(n)).collect();
    let anchors = cert(anchor);
    let ours = verify_with_policy(&certs, &anchors, "localhost", UnixTime(NOW), policy).map(|_| ());
    if openssl_available() {
        let level = if policy.min_rsa_bits >= 2048 {
            "2"
        } else {
            "1"
        };
        let (accepts, text) =
            files().openssl_verify(chain, &[anchor], NOW, "localhost", &["-auth_level", level]);
        assert_eq!(
            accepts,
            ours.is_ok(),
            "openssl -auth_level {level} disagrees on {chain:?}: we say {ours:?}, it says\n{text}"
        );
    }
    ours
}

#[test]
fn the_client_refuses_small_server_and_ca_keys() {
    assert_eq!(MIN_RSA_BITS, 2048);
    let strict = Policy::default();
    assert_eq!(strict, Policy::DEFAULT);
    verdict(&["strong-leaf"], "root", &strict).unwrap();

    let err = verdict(&["weak-leaf"], "root", &strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 'CN=localhost' has a 1024-bit RSA key; toytls refuses server keys under 2048 \
         bits (whoever factors it can decrypt the pre-master secret)"
    );
    assert_eq!(err.alert(), AlertDescription::BadCertificate);

    let ca_text = |name: &str| {
        format!(
            "CA '{name}' has a 1024-bit RSA key; toytls refuses CA keys under 2048 bits (whoever \
             factors it can sign any certificate)"
        )
    };
    let err = verdict(&["leaf-under-weak-int", "weak-int"], "root", &strict).unwrap_err();
    assert_eq!(err.to_string(), ca_text("CN=Weak Intermediate"));
    assert_eq!(err.alert(), AlertDescription::BadCertificate);
    let err = verdict(&["leaf-under-weak-root"], "weak-root", &strict).unwrap_err();
    assert_eq!(err.to_string(), ca_text("CN=Weak Root"));

    // The library's default entry point is the strict one.
    let err = verify_server_chain(
        &cert("weak-leaf"),
        &cert("root"),
        "localhost",
        UnixTime(NOW),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CertError::WeakKey {
                bits: 1024,
                min: 2048,
                ca: false,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_teaching_policy_accepts_them() {
    let weak = Policy::INSECURE_WEAK_KEYS_FOR_TEACHING;
    assert_eq!(weak.min_rsa_bits, 1024);
    verdict(&["weak-leaf"], "root", &weak).unwrap();
    verdict(&["leaf-under-weak-int", "weak-int"], "root", &weak).unwrap();
    verdict(&["leaf-under-weak-root"], "weak-root", &weak).unwrap();
}

#[test]
fn a_server_config_refuses_a_small_private_key() {
    let key = parse_private_key(file("weak.key")).unwrap();
    let chain = cert("weak-leaf");
    let err = ServerConfig::from_certificates(&chain, key.clone())
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "internal error: the private key is a 1024-bit RSA key; toytls refuses RSA keys under \
         2048 bits (make a new one: `toytls ca init`, `toytls cert issue`)"
    );
    assert!(ServerConfig::new(vec![chain[0].der().to_vec()], key).is_err());
    // A 2048-bit one is fine.
    let key = parse_private_key(file("leaf.key")).unwrap();
    ServerConfig::from_certificates(&cert("strong-leaf"), key).unwrap();
}

/// Writes the named files of the PKI into `dir`.
fn write_files(dir: &stacks::TempDir, names: &[&str]) {
    for n in names {
        std::fs::write(dir.join(n), file(n)).unwrap();
    }
}

#[test]
fn toytls_server_refuses_a_small_key() {
    let dir = stacks::TempDir::new("weak-server");
    write_files(&dir, &["weak-leaf.pem", "weak.key"]);
    let mut cmd = Command::new(stacks::TOYTLS);
    cmd.args(["server", "--listen", "127.0.0.1:0", "--cert"])
        .arg(dir.join("weak-leaf.pem"))
        .arg("--key")
        .arg(dir.join("weak.key"));
    let out = stacks::run(cmd, b"");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "the private key is a 1024-bit RSA key; toytls refuses RSA keys under 2048 bits"
        ),
        "{err}"
    );
    assert!(!err.contains("listening"), "{err}");
}

#[test]
fn toytls_cert_verify_and_issue_refuse_small_keys() {
    let dir = stacks::TempDir::new("weak-cli");
    write_files(
        &dir,
        &["root.pem", "weak-leaf.pem", "weak-root.pem", "weak-ca.key"],
    );
    let toytls = |args: &[&str]| x509_support::toytls_in(&dir, args);
    let out = toytls(&[
        "cert",
        "verify",
        "--ca",
        "root.pem",
        "--name",
        "localhost",
        "--at",
        "2025-06-01T00:00:00Z",
        "weak-leaf.pem",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "REJECTED: certificate 'CN=localhost' has a 1024-bit RSA key; toytls refuses server keys \
         under 2048 bits (whoever factors it can decrypt the pre-master secret) (a TLS client \
         would send the alert bad_certificate)"
    );
    // A CA directory whose key is 1024 bits: nothing is issued with it.
    std::fs::create_dir(dir.join("ca")).unwrap();
    std::fs::rename(dir.join("weak-root.pem"), dir.join("ca/ca.pem")).unwrap();
    std::fs::rename(dir.join("weak-ca.key"), dir.join("ca/ca.key")).unwrap();
    let out = toytls(&[
        "cert",
        "issue",
        "--ca",
        "ca",
        "--name",
        "localhost",
        "--out",
        "srv",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ca.key: the private key is a 1024-bit RSA key"),
        "{err}"
    );
    assert!(!dir.join("srv").exists());
}

/// `toytls client` against `openssl s_server` presenting a 1024-bit key (OpenSSL's own security
/// level lowered to 0 so that it agrees to): the client refuses the certificate and tells the
/// server why with a bad_certificate alert.
#[test]
fn toytls_client_refuses_a_server_with_a_small_key() {
    if !stacks::have("openssl", "version") {
        return;
    }
    let dir = stacks::TempDir::new("weak-client");
    write_files(&dir, &["root.pem", "weak-leaf.pem", "weak.key"]);
    let port = stacks::free_port();
    let mut server = Command::new("openssl");
    server
        .args([
            "s_server",
            "-tls1_2",
            "-cipher",
            "AES128-GCM-SHA256:@SECLEVEL=0",
        ])
        .args(["-accept", &port.to_string()])
        .arg("-cert")
        .arg(dir.join("weak-leaf.pem"))
        .arg("-key")
        .arg(dir.join("weak.key"));
    let server = stacks::Interactive::spawn(server);
    // Not wait_for_port: a probe connection would be a client too.
    server.stdout.wait_for("ACCEPT", || server.outputs());
    let mut client = Command::new(stacks::TOYTLS);
    client
        .args([
            "client",
            &format!("127.0.0.1:{port}"),
            "--server-name",
            "localhost",
            "--ca",
        ])
        .arg(dir.join("root.pem"));
    let out = stacks::run(client, b"");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has a 1024-bit RSA key; toytls refuses server keys under 2048 bits"),
        "{err}"
    );
    // s_server saw the alert.
    server
        .stderr
        .wait_for("alert bad certificate", || server.outputs());
}
