//! `toytls demo`, `toytls server` and `toytls client` run as processes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_toytls");

#[path = "common/tempdir.rs"]
mod tempdir;

/// A scratch directory removed when the test ends, also on a panic.
fn temp_dir(name: &str) -> tempdir::TempDir {
    tempdir::TempDir::new(&format!("toytls-cli-{name}"))
}

#[test]
fn demo_runs_both_handshakes_and_narrates_them() {
    let out = Command::new(BIN).arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ClientKeyExchange",
        "pre-master secret",
        "master secret = PRF",
        // Both sides use the extended master secret by default, and the demo says so.
        "PRF(pre-master, \"extended master secret\", SHA-256(",
        "RFC 7627",
        "client write key",
        "verify_data",
        "connection 1: full handshake",
        "connection 2: resumed (abbreviated) handshake",
        // Issue 12: the second connection resumes from a session ticket (RFC 5077), and the
        // story says so: what the ticket holds, under which key, that the server kept nothing,
        // and that servers without tickets still resume by session ID.
        "server -> client: NewSessionTicket",
        "under the server's current ticket key, named",
        "presenting the session ticket it was given",
        "the session_id is one the client made up",
        "3. The ticket opened under the server's ticket key",
        "Resumed from the ticket, statelessly",
        "resume the way\n   RFC 5246 7.3 describes",
        "from a session ticket, suite",
        "no session ID (the session lives in the ticket)",
    ] {
        assert!(
            text.contains(needle),
            "demo output lacks {needle:?}:\n{text}"
        );
    }
    let quiet = Command::new(BIN)
        .args(["demo", "--quiet"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    let q = String::from_utf8_lossy(&quiet.stdout);
    assert!(q.contains("connection 2: resumed"), "{q}");
    assert!(q.contains("from a session ticket"), "{q}");
    // Not the session-ID story, which is for servers without tickets.
    assert!(
        !text.contains("The server still has the session: it echoes the session ID"),
        "{text}"
    );
    assert!(
        !q.contains("ClientHello"),
        "--quiet printed the story:\n{q}"
    );
}

/// The demo tells each suite's own story: the toy suite's 104-byte key block and CTR + HMAC
/// records by default; with `--suites gcm`, a 40-byte key block without MAC keys, and records with
/// an explicit nonce and a GCM tag.
#[test]
fn demo_narrates_each_suite_with_its_key_block_and_record_layout() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("demo").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let toy = run(&[]);
    for needle in [
        "104 bytes, cut into",
        "| AES-128-CTR ciphertext (38 bytes) | 32-byte HMAC-SHA256 tag",
    ] {
        assert!(
            toy.contains(needle),
            "default demo lacks {needle:?}:\n{toy}"
        );
    }
    assert!(
        !toy.contains("GCM tag") && !toy.contains("GCM nonce"),
        "{toy}"
    );
    let gcm = run(&["--suites", "gcm"]);
    for needle in [
        "40 bytes, cut into",
        "client write MAC key   (none: the AEAD tag authenticates each record)",
        "(the implicit part of every GCM nonce)",
        "| explicit nonce 0000000000000001 (the sequence number) | AES-128-GCM ciphertext (38 bytes) | 16-byte GCM tag",
        "suite TLS_RSA_WITH_AES_128_GCM_SHA256",
    ] {
        assert!(gcm.contains(needle), "GCM demo lacks {needle:?}:\n{gcm}");
    }
    assert!(!gcm.contains("HMAC-SHA256 tag"), "{gcm}");
    let bad = Command::new(BIN)
        .args(["demo", "--suites", "rc4"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// Kills the server when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &std::path::Path, mode: &str) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(["server", "--listen", "127.0.0.1:0", mode, "--cert"])
        .arg(dir.join("srv/cert.pem"))
        .arg("--key")
        .arg(dir.join("srv/key.pem"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    (Server(child), addr)
}

fn make_pki(dir: &std::path::Path) {
    let ok = Command::new(BIN)
        .args(["ca", "init", "--out"])
        .arg(dir.join("ca"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ok = Command::new(BIN)
        .args(["cert", "issue", "--name", "localhost", "--ca"])
        .arg(dir.join("ca"))
        .arg("--out")
        .arg(dir.join("srv"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

fn client(addr: &str, dir: &std::path::Path, extra: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["client", addr, "--ca"])
        .arg(dir.join("ca/ca.pem"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written from a thread, and errors ignored: a client that fails its handshake exits without
    // reading stdin.
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn client_and_server_processes_echo_resume_and_refuse_a_wrong_name() {
    let dir = temp_dir("echo");
    make_pki(&dir);
    let (_server, addr) = start_server(&dir, "--echo");
    let port = addr.rsplit(':').next().unwrap();
    let local = format!("localhost:{port}");

    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let out = client(&local, &dir, &["--reconnect", "2"], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, data);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reconnect 1: resumed"), "{err}");
    assert!(err.contains("reconnect 2: resumed"), "{err}");

    let out = client(&addr, &dir, &["--server-name", "example.com"], b"x");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("example.com"), "{err}");
}

#[test]
fn http_mode_serves_a_page_and_n_bytes() {
    let dir = temp_dir("http");
    make_pki(&dir);
    let (_server, addr) = start_server(&dir, "--http");
    let local = format!("localhost:{}", addr.rsplit(':').next().unwrap());
    let out = client(
        &local,
        &dir,
        &[],
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(
        page.contains("TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256"),
        "{page}"
    );
    let out = client(&local, &dir, &[], b"GET /bytes/70000 HTTP/1.1\r\n\r\n");
    assert!(out.status.success());
    let body_at = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_eq!(out.stdout.len() - body_at, 70000);
}
