//! Client certificates (RFC 5246 7.4.4, 7.4.6, 7.4.8) with real TLS 1.2 stacks over loopback
//! TCP, both directions, full and resumed: our server with `--client-ca` against `openssl
//! s_client -cert/-key`, `gnutls-cli --x509certfile`, Python's `ssl` (`load_cert_chain`) and
//! `curl --cert/--key`; our client with `--cert/--key` against `openssl s_server -verify 1` /
//! `-Verify 1` and `gnutls-serv` (which asks every client for a certificate: issue 12's server,
//! which our client once failed against). Refusals are checked with the alert that crossed the
//! wire, as the other stack reports it. Tools are skipped loudly if missing (`.ci/run` installs
//! them and sets `TOYTLS_REQUIRE_STACKS=1`).

mod stacks;

use stacks::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A client CA and `CN=alice`'s certificate (with the CA after it) and key, made once per test
/// binary by `toytls ca init` and `toytls cert issue --client`.
struct ClientFiles {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn client_files() -> &'static ClientFiles {
    static FILES: OnceLock<ClientFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = TempDir::new("toytls-client-pki");
        let tool = |args: &[&str]| toytls_in(&dir, args);
        tool(&["ca", "init", "--out", "cca", "--name", "client CA"]);
        tool(&[
            "cert", "issue", "--client", "--ca", "cca", "--name", "alice", "--out", "alice",
        ]);
        let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
        ClientFiles {
            ca: read("cca/ca.pem"),
            cert: read("alice/cert.pem"),
            key: read("alice/key.pem"),
        }
    })
}

/// The server PKI of the other interop tests, plus the client's files in the same directory.
struct Files {
    p: Pki,
}

impl Files {
    fn new() -> Files {
        let p = Pki::new();
        let f = client_files();
        for (name, bytes) in [
            ("client-ca.pem", &f.ca),
            ("alice.pem", &f.cert),
            ("alice.key", &f.key),
        ] {
            std::fs::write(p.dir.join(name), bytes).unwrap();
        }
        Files { p }
    }
    fn client_ca(&self) -> PathBuf {
        self.p.dir.join("client-ca.pem")
    }
    fn alice(&self) -> PathBuf {
        self.p.dir.join("alice.pem")
    }
    fn alice_key(&self) -> PathBuf {
        self.p.dir.join("alice.key")
    }
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

/// `toytls server --http --client-ca` (and `--require-client-cert` if `required`).
fn our_server(f: &Files, required: bool) -> ToytlsServer {
    let ca = f.client_ca();
    let mut args = vec!["--http", "--client-ca", ca.to_str().unwrap()];
    if required {
        args.push("--require-client-cert");
    }
    toytls_server(&f.p, &args)
}

/// `openssl s_client` to our server, with alice's certificate if `with_cert`, saving the session
/// to (or resuming it from, if `resume`) `sess`.
fn s_client(port: u16, f: &Files, with_cert: bool, sess: &Path, resume: bool) -> Output {
    let mut c = s_client_command(port, &f.p.ca());
    c.arg("-ign_eof")
        .arg(if resume { "-sess_in" } else { "-sess_out" })
        .arg(sess);
    if with_cert {
        c.arg("-cert").arg(f.alice()).arg("-key").arg(f.alice_key());
    }
    run(c, GET)
}

#[test]
fn openssl_s_client_with_a_certificate_against_toytls_server_full_and_resumed() {
    if !have("openssl", "version") {
        return;
    }
    let f = Files::new();
    let server = our_server(&f, true);
    let sess = f.p.dir.join("s_client.sess");
    for resume in [false, true] {
        let o = s_client(server.port, &f, true, &sess, resume);
        let t = output_text(&o);
        assert!(o.status.success(), "{t}");
        // s_client shows what we asked for: the CA names and our signature algorithms.
        if !resume {
            assert!(t.contains("Acceptable client certificate CA names"), "{t}");
            assert!(t.contains("CN = client CA"), "{t}");
            assert!(
                t.contains("Requested Signature Algorithms: RSA+SHA256:RSA+SHA384:RSA+SHA512"),
                "{t}"
            );
        }
        assert!(
            t.contains(if resume {
                "Reused, TLSv1.2"
            } else {
                "New, TLSv1.2"
            }),
            "{t}"
        );
        // Our page: the client's subject, on the resumed connection too.
        assert!(
            t.contains("client certificate: CN=alice"),
            "resume {resume}: {t}"
        );
    }
}

#[test]
fn openssl_s_client_without_a_certificate_optional_and_required() {
    if !have("openssl", "version") {
        return;
    }
    let f = Files::new();
    let sess = f.p.dir.join("none.sess");
    // Optional: served anonymously.
    let server = our_server(&f, false);
    let o = s_client(server.port, &f, false, &sess, false);
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("client certificate: (none)"), "{t}");
    drop(server);
    // Required: handshake_failure crosses the wire, and our server says why.
    let server = our_server(&f, true);
    let o = s_client(server.port, &f, false, &sess, false);
    let t = output_text(&o);
    assert!(t.contains("alert handshake failure"), "{t}");
    assert!(!t.contains("Hello from toytls"), "{t}");
    server
        .stderr
        .wait_for("requires one", || server.stderr.text());
}

#[test]
fn openssl_s_client_with_a_certificate_from_another_ca_gets_unknown_ca() {
    if !have("openssl", "version") {
        return;
    }
    // Our server trusts only the server CA for clients: alice's CA is unknown to it. OpenSSL
    // sends its certificate anyway when the names do not match (it has only the one).
    let f = Files::new();
    let ca = f.p.ca();
    let server = toytls_server(&f.p, &["--http", "--client-ca", ca.to_str().unwrap()]);
    let o = s_client(server.port, &f, true, &f.p.dir.join("x.sess"), false);
    let t = output_text(&o);
    assert!(t.contains("alert unknown ca"), "{t}");
    server.stderr.wait_for(
        "no certificate in the chain is signed by a trusted CA",
        || server.stderr.text(),
    );
}

#[test]
fn gnutls_cli_with_a_certificate_against_toytls_server_full_and_resumed() {
    if !have("gnutls-cli", "--version") {
        return;
    }
    let f = Files::new();
    let server = our_server(&f, true);
    let mut c = Command::new("gnutls-cli");
    c.arg("--x509cafile")
        .arg(f.p.ca())
        .arg("--x509certfile")
        .arg(f.alice())
        .arg("--x509keyfile")
        .arg(f.alice_key())
        .args(["--resume", "-p"])
        .arg(server.port.to_string())
        .arg("localhost");
    let o = run(c, GET);
    let t = output_text(&o);
    // gnutls-cli --resume sends its input only on the resumed connection: the page there shows
    // the identity proved in the full handshake, kept by the session.
    assert!(t.contains("This is a resumed session"), "{t}");
    assert!(t.contains("resumed: yes"), "{t}");
    assert!(t.contains("client certificate: CN=alice"), "{t}");
}

#[test]
fn python_ssl_with_load_cert_chain_against_toytls_server_full_and_resumed() {
    if !have("python3", "--version") {
        return;
    }
    let f = Files::new();
    let server = our_server(&f, true);
    let script = r#"
import socket, ssl, sys
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("AES128-GCM-SHA256")
ctx.load_cert_chain(cert, key)
session = None
for _ in range(2):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="localhost", session=session)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    lines = [l for l in data.decode().splitlines() if l.startswith("client certificate")]
    print("reused", s.session_reused, lines)
    session = s.session
    s.close()
"#;
    let t = python(
        script,
        server.port,
        &f.p.ca(),
        &[&f.alice(), &f.alice_key()],
    );
    assert!(
        t.contains("reused False ['client certificate: CN=alice']"),
        "{t}"
    );
    assert!(
        t.contains("reused True ['client certificate: CN=alice']"),
        "{t}"
    );
}

#[test]
fn curl_with_cert_and_key_against_toytls_server() {
    if !have("curl", "--version") {
        return;
    }
    let f = Files::new();
    let server = our_server(&f, true);
    let mut c = Command::new("curl");
    c.args(["-sS", "--tlsv1.2", "--tls-max", "1.2", "--cacert"])
        .arg(f.p.ca())
        .arg("--cert")
        .arg(f.alice())
        .arg("--key")
        .arg(f.alice_key())
        .arg("--resolve")
        .arg(format!("localhost:{}:127.0.0.1", server.port))
        .arg(format!("https://localhost:{}/", server.port));
    let o = run(c, b"");
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("client certificate: CN=alice"), "{t}");
}

/// `openssl s_server -rev` asking for a client certificate: `-verify 1` (optional) or `-Verify 1`
/// (required), trusting the client CA.
fn openssl_server_asking(f: &Files, flag: &str) -> (Guard, u16) {
    let port = free_port();
    let mut c = s_server_command(&f.p, port);
    c.args(["-cipher", "AES128-GCM-SHA256", "-rev", "-quiet", "-CAfile"])
        .arg(f.client_ca())
        .args([flag, "1"]);
    (start_server(c, port), port)
}

fn our_client(port: u16, f: &Files, with_cert: bool, input: &[u8], extra: &[&str]) -> Output {
    let mut c = toytls_client_command(port, &f.p.ca(), "localhost");
    c.args(["--suites", "gcm"]).args(extra);
    if with_cert {
        c.arg("--cert")
            .arg(f.alice())
            .arg("--key")
            .arg(f.alice_key());
    }
    run(c, input)
}

#[test]
fn toytls_client_with_a_certificate_against_openssl_s_server_verify_full_and_resumed() {
    if !have("openssl", "version") {
        return;
    }
    let f = Files::new();
    for flag in ["-verify", "-Verify"] {
        let (_server, port) = openssl_server_asking(&f, flag);
        let o = our_client(port, &f, true, b"hello from alice\n", &["--reconnect", "1"]);
        let t = output_text(&o);
        assert!(o.status.success(), "{flag}: {t}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "ecila morf olleh\n",
            "{t}"
        );
        assert!(t.contains("reconnect 1: resumed"), "{flag}: {t}");
    }
}

#[test]
fn toytls_client_without_a_certificate_against_openssl_s_server_verify_and_require() {
    if !have("openssl", "version") {
        return;
    }
    let f = Files::new();
    // -verify 1: an empty Certificate (RFC 5246 7.4.6) and the connection goes on.
    let (server, port) = openssl_server_asking(&f, "-verify");
    let o = our_client(port, &f, false, b"anonymous\n", &[]);
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "suomynona\n", "{t}");
    drop(server);
    // -Verify 1: OpenSSL refuses with handshake_failure, which we report.
    let (_server, port) = openssl_server_asking(&f, "-Verify");
    let o = our_client(port, &f, false, b"anonymous\n", &[]);
    let t = output_text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("the peer sent the alert handshake_failure"),
        "{t}"
    );
}

/// `gnutls-serv --http` with issue 12's priority string (TLS 1.2, RSA key exchange, AES-128-GCM),
/// which sends a CertificateRequest to every client; `extra` adds its client-certificate flags.
fn gnutls_server(f: &Files, extra: &[&str]) -> (Guard, u16) {
    let port = free_port();
    let mut c = gnutls_serv_command(&f.p, port);
    c.args(["--http", "--priority"])
        .arg("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD")
        .arg("--x509cafile")
        .arg(f.client_ca())
        .args(extra);
    (start_server(c, port), port)
}

#[test]
fn toytls_client_against_gnutls_serv_which_asks_for_a_certificate() {
    if !have("gnutls-serv", "--version") {
        return;
    }
    let f = Files::new();
    let (_server, port) = gnutls_server(&f, &[]);
    // Issue 12: without a certificate we answer with an empty Certificate, full and resumed.
    let o = our_client(port, &f, false, GET, &["--reconnect", "1"]);
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("HTTP/1.0 200 OK"), "{t}");
    assert!(t.contains("reconnect 1: resumed"), "{t}");
    // With one, GnuTLS's page shows it.
    let o = our_client(port, &f, true, GET, &["--reconnect", "1"]);
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Subject: CN=alice"), "{t}");
    assert!(t.contains("reconnect 1: resumed"), "{t}");
}

#[test]
fn toytls_client_against_gnutls_serv_requiring_and_verifying_a_certificate() {
    if !have("gnutls-serv", "--version") {
        return;
    }
    let f = Files::new();
    let (_server, port) = gnutls_server(&f, &["--require-client-cert", "--verify-client-cert"]);
    let o = our_client(port, &f, true, GET, &["--reconnect", "1"]);
    let t = output_text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Subject: CN=alice"), "{t}");
    assert!(t.contains("reconnect 1: resumed"), "{t}");
    // GnuTLS refuses right after our empty Certificate, sends its fatal alert and closes while
    // the rest of our flight is still going out: the write meets a closed socket, and the client
    // reads the alert that is waiting and reports it, not "broken pipe" (issue 12). GnuTLS
    // 3.7 answers an empty Certificate with decode_error (OpenSSL's s_client receives the same
    // "alert number 50" from it).
    for _ in 0..3 {
        let o = our_client(port, &f, false, GET, &[]);
        let t = output_text(&o);
        assert!(!o.status.success(), "{t}");
        assert!(t.contains("handshake with 127.0.0.1"), "{t}");
        assert!(!t.contains("Subject: CN=alice"), "{t}");
        assert!(t.contains("the peer sent the alert decode_error"), "{t}");
        assert!(!t.contains("roken pipe") && !t.contains("reset"), "{t}");
    }
}
