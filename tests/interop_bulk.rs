//! Tens of MiB through real stacks, both directions, full and resumed handshakes, every byte
//! hashed: GnuTLS's `gnutls-cli` against `toytls server --http` (8 MiB, see
//! [`GNUTLS_CLI_BULK`]), and our client, the library and the CLI, against `openssl s_server
//! -WWW` (which serves a file) and `gnutls-serv --echo` (32 MiB). `openssl s_client`, curl and
//! our own client against our server are in `http_fetch.rs`. Each test skips
//! loudly if its tool is missing (`.ci/run` installs `gnutls-bin` and `openssl`, and sets
//! `TOYTLS_REQUIRE_STACKS=1` so that a missing one fails instead).

mod stacks;

use sha2::{Digest, Sha256};
use stacks::http::*;
use stacks::*;
use std::io::{Read, Write};
use std::process::Command;

/// 32 MiB: large enough that a close that resets the connection, or a record layer that
/// mishandles a long stream, shows.
const BULK: u64 = 32 << 20;

/// gnutls-cli speaking TLS 1.2 only (toytls speaks nothing else; GnuTLS would offer 1.3 too and
/// settle on 1.2 anyway, this makes the intent plain), trusting `p`'s CA, to `localhost`.
fn gnutls_cli(p: &Pki, port: u16) -> Command {
    let mut c = Command::new("gnutls-cli");
    c.arg("--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2")
        .arg(format!("--x509cafile={}", p.ca().display()))
        .args(["-p", &port.to_string(), "localhost"]);
    c
}

/// What gnutls-cli fetches: less than [`BULK`] because gnutls-cli writes what it receives to
/// its stdout one byte per system call (about 0.8 s per MiB here, whoever the server is).
const GNUTLS_CLI_BULK: u64 = 8 << 20;

#[test]
fn gnutls_cli_fetches_8_mib_from_toytls_server_full_and_resumed() {
    if !have("gnutls-cli", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    // Full handshake; then `-r`: a full handshake, a disconnect, and a resumed connection that
    // carries the request.
    for resume in [false, true] {
        let mut c = gnutls_cli(&p, server.port);
        if resume {
            c.arg("--resume");
        }
        // Its reports go to the log file, so stdout holds only what the server sent.
        let log = p.dir.join(format!("gnutls-cli-{resume}.log"));
        c.arg(format!("--logfile={}", log.display()));
        let (f, _, took) = fetch(c, request(GNUTLS_CLI_BULK).as_bytes());
        let err = std::fs::read_to_string(&log).unwrap();
        check_fetch(&f, GNUTLS_CLI_BULK, b"", &format!("resume {resume}: {err}"));
        assert!(
            err.contains("- Peer has closed the GnuTLS connection"),
            "{err}"
        );
        assert!(err.contains("(TLS1.2-X.509)-(RSA)-(AES-128-GCM)"), "{err}");
        assert!(err.contains("extended master secret"), "{err}");
        assert_eq!(
            err.contains("*** This is a resumed session"),
            resume,
            "resume {resume}: {err}"
        );
        eprintln!("gnutls-cli (resume {resume}): 8 MiB in {took:?}");
    }
}

/// `openssl s_server -WWW` in `p`'s directory, serving `big` (BULK bytes of the pattern), on a
/// free port.
fn openssl_www(p: &Pki) -> (Guard, u16) {
    let mut f = std::fs::File::create(p.dir.join("big")).unwrap();
    let block = pattern(26 * 4096);
    let mut left = BULK as usize;
    while left > 0 {
        let take = left.min(block.len());
        f.write_all(&block[..take]).unwrap();
        left -= take;
    }
    let port = free_port();
    let mut c = s_server_command(p, port);
    c.arg("-WWW").current_dir(&*p.dir);
    (start_server(c, port), port)
}

#[test]
fn toytls_library_client_fetches_32_mib_from_openssl_s_server_full_and_resumed() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let (_server, port) = openssl_www(&p);
    let config = client_config(&p);
    for resumed in [false, true] {
        let mut tls = library_client(&config, port);
        assert_eq!(tls.resumed(), resumed);
        assert!(tls.extended_master_secret());
        tls.write_all(b"GET /big HTTP/1.0\r\n\r\n").unwrap();
        // s_server answers with a head, the file, and close_notify: read_to_end succeeds only
        // after the close_notify.
        let f = read_http(&mut tls);
        assert!(f.head.starts_with("HTTP/1.0 200 ok\r\n"), "{}", f.head);
        check_body(&f, BULK, b"", &format!("resumed {resumed}"));
    }
}

#[test]
fn toytls_client_fetches_32_mib_from_openssl_s_server() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let (_server, port) = openssl_www(&p);
    let c = toytls_client_command(port, &p.ca(), "localhost");
    let (f, err, took) = fetch(c, b"GET /big HTTP/1.0\r\n\r\n");
    assert!(
        f.head.starts_with("HTTP/1.0 200 ok\r\n"),
        "{}\n{err}",
        f.head
    );
    check_body(&f, BULK, b"", &err);
    eprintln!("toytls client from s_server -WWW: 32 MiB in {took:?}");
}

/// `gnutls-serv --echo` on a free port with `p`'s certificate; `extra` flags.
fn gnutls_serv(p: &Pki, extra: &[&str]) -> (Guard, u16) {
    let port = free_port();
    let mut c = gnutls_serv_command(p, port);
    c.arg("--echo").args(extra);
    (start_server(c, port), port)
}

#[test]
fn toytls_library_client_echoes_32_mib_through_gnutls_serv_full_and_resumed() {
    if !have("gnutls-serv", "--version") {
        return;
    }
    let p = Pki::new();
    // -a: no CertificateRequest. By default gnutls-serv sends one, and our client cannot answer
    // it yet (it fails with unexpected_message): to be fixed in the handshake.
    let (_server, port) = gnutls_serv(&p, &["-a"]);
    let config = client_config(&p);
    for resumed in [false, true] {
        let mut tls = library_client(&config, port);
        assert_eq!(tls.resumed(), resumed);
        assert!(tls.extended_master_secret());
        // In lockstep, one record out and its echo back: an echo server that cannot write does
        // not read, so a client that only wrote would stall both. gnutls-serv echoes whole
        // lines, so each record is one: 16,383 bytes of the pattern and a newline.
        let block = pattern((1 << 14) + 26);
        let (mut sent_hash, mut got_hash) = (Sha256::new(), Sha256::new());
        let mut got = vec![0u8; 1 << 14];
        let mut sent = 0u64;
        let mut chunk = vec![0u8; 1 << 14];
        while sent < BULK {
            let phase = (sent % 26) as usize;
            chunk[..(1 << 14) - 1].copy_from_slice(&block[phase..phase + (1 << 14) - 1]);
            chunk[(1 << 14) - 1] = b'\n';
            let chunk = &chunk[..];
            tls.write_all(chunk).unwrap();
            tls.read_exact(&mut got).unwrap();
            sent_hash.update(chunk);
            got_hash.update(&got);
            sent += chunk.len() as u64;
        }
        assert_eq!(sent_hash.finalize(), got_hash.finalize());
        tls.close().unwrap();
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}

#[test]
fn toytls_client_against_gnutls_serv_full_and_resumed() {
    if !have("gnutls-serv", "--version") {
        return;
    }
    let p = Pki::new();
    let (_server, port) = gnutls_serv(&p, &["-a"]);
    let lines: String = (0..500).map(|i| format!("line {i} to gnutls\n")).collect();
    let mut c = toytls_client_command(port, &p.ca(), "localhost");
    c.args(["--reconnect", "2"]);
    let o = run(c, lines.as_bytes());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), lines);
    assert!(
        err.contains("reconnect 1: resumed, extended master secret: yes"),
        "{err}"
    );
    assert!(
        err.contains("reconnect 2: resumed, extended master secret: yes"),
        "{err}"
    );
}
