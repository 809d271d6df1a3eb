//! Interop with real TLS 1.2 stacks over loopback TCP, suite TLS_RSA_WITH_AES_128_GCM_SHA256:
//! `openssl s_client`, `openssl s_server`, `curl` and Python's `ssl` against the built `toytls`
//! binary. Each test skips with a loud message if its tool is not installed (`.ci/run` installs
//! them, so in CI they run). Every child process is killed on every path (a guard with Drop),
//! every wait is bounded, and every port is chosen free (port 0 for our server, which prints the
//! address it got; a just-released port for OpenSSL's server).
//!
//! Extended master secret (RFC 7627): each pairing runs with it (every side's default) and
//! without it on either side, and checks from both ends which master secret was used: OpenSSL's
//! `s_client` prints `Extended master secret: yes|no`, our HTTP page and `toytls client
//! --reconnect` say it too, and our library reports it. OpenSSL 3.0 has no command-line switch to
//! turn EMS off; [`no_ems_openssl_conf`] does it with `Options = -ExtendedMasterSecret` in a
//! config file named by `OPENSSL_CONF`.

mod stacks;

use sha2::{Digest, Sha256};
use stacks::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// The body `GET /bytes/N` returns: the alphabet over and over.
fn alphabet(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The HTTP body in `out` (after the first blank line following an HTTP status line).
fn http_body(out: &[u8]) -> &[u8] {
    let at = find(out, b"HTTP/1.1 ").expect("an HTTP response");
    let body = at + find(&out[at..], b"\r\n\r\n").expect("end of headers") + 4;
    &out[body..]
}

/// An OpenSSL config file that turns the extended master secret off for every OpenSSL program
/// that reads it (`OPENSSL_CONF=...`): OpenSSL 3.0's `s_client` / `s_server` have no `-no_ems`,
/// but SSL_CONF's `Options = -ExtendedMasterSecret` sets SSL_OP_NO_EXTENDED_MASTER_SECRET.
fn no_ems_openssl_conf(dir: &Path) -> PathBuf {
    let path = dir.join("no-ems.cnf");
    std::fs::write(
        &path,
        "openssl_conf = openssl_init\n\
         [openssl_init]\nssl_conf = ssl_sect\n\
         [ssl_sect]\nsystem_default = system_default_sect\n\
         [system_default_sect]\nOptions = -ExtendedMasterSecret\n",
    )
    .unwrap();
    path
}

/// `openssl s_client` (with EMS unless `client_ems` is false) against `toytls server` started
/// with `server_args`: a full handshake then a resumed one, each fetching N bytes over HTTP and
/// checking their hash, and the master secret each side logged. `ems`: whether s_client must
/// report the extended master secret, on both connections. Skips if `openssl` is missing.
fn s_client_against_toytls_server(server_args: &[&str], client_ems: bool, ems: bool) {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server_log = p.dir.join("server.keylog");
    let mut args = vec!["--http", "--keylog", server_log.to_str().unwrap()];
    args.extend_from_slice(server_args);
    let server = toytls_server(&p, &args);
    let port = server.port;
    let sess = p.dir.join(format!("s_client-{port}.sess"));
    let client_log = p.dir.join(format!("s_client-{port}.keylog"));
    let conf = no_ems_openssl_conf(&p.dir);
    let n = 100_000;
    let request = format!("GET /bytes/{n} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    for (round, resume) in [(0, false), (1, true)] {
        let mut c = s_client_command(port, &p.ca());
        c.arg("-ign_eof")
            .arg(if resume { "-sess_in" } else { "-sess_out" })
            .arg(&sess)
            .arg("-keylogfile")
            .arg(&client_log);
        if !client_ems {
            c.env("OPENSSL_CONF", &conf);
        }
        let o = run(c, request.as_bytes());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "round {round}: {text}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(text.contains("Cipher is AES128-GCM-SHA256"), "{text}");
        assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        assert!(text.contains("Secure Renegotiation IS supported"), "{text}");
        let expect = if resume {
            "Reused, TLSv1.2"
        } else {
            "New, TLSv1.2"
        };
        assert!(
            text.contains(expect),
            "round {round}: expected {expect}: {text}"
        );
        let expect = format!("Extended master secret: {}", if ems { "yes" } else { "no" });
        assert!(text.contains(&expect), "round {round}: {expect}: {text}");
        let body = http_body(&o.stdout);
        assert!(body.len() >= n, "short body: {}", body.len());
        assert_eq!(sha256(&body[..n]), sha256(&alphabet(n)), "round {round}");
    }
    // Key logging: our server's CLIENT_RANDOM lines are exactly OpenSSL's, for both
    // connections (the resumed one has its own client random, same master secret), with the
    // extended master secret or without.
    let ours = std::fs::read_to_string(&server_log).unwrap();
    let theirs = std::fs::read_to_string(&client_log).unwrap();
    let ours: Vec<&str> = ours.lines().collect();
    let theirs: Vec<&str> = theirs
        .lines()
        .filter(|l| l.starts_with("CLIENT_RANDOM"))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours, theirs);
    assert_eq!(ours[0].len(), "CLIENT_RANDOM ".len() + 64 + 1 + 96);
}

#[test]
fn openssl_s_client_against_toytls_server_full_and_resumed() {
    // Both sides' default: the extended master secret, kept on resumption.
    s_client_against_toytls_server(&[], true, true);
}

#[test]
fn openssl_s_client_against_toytls_server_no_ems_full_and_resumed() {
    // Our server ignores s_client's offer: RFC 5246 master secret, and OpenSSL resumes it.
    s_client_against_toytls_server(&["--no-ems"], true, false);
}

#[test]
fn openssl_s_client_without_ems_against_toytls_server_full_and_resumed() {
    // A legacy client: served without EMS, and its legacy session resumed (our choice in the
    // RFC 7627 5.3 "neither" case, see src/handshake/server.rs).
    s_client_against_toytls_server(&[], false, false);
}

#[test]
fn openssl_s_client_without_ems_is_refused_by_toytls_server_requiring_it() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http", "--require-ems"]);
    let conf = no_ems_openssl_conf(&p.dir);
    s_client_gets_handshake_failure(server.port, "AES128-GCM-SHA256", Some(&conf));
}

/// `openssl s_client` offering `ciphers` to the server on `port` (with the OpenSSL config file
/// `conf`, if any) must fail with a `handshake_failure` alert.
fn s_client_gets_handshake_failure(port: u16, ciphers: &str, conf: Option<&Path>) {
    let mut c = Command::new("openssl");
    c.args(["s_client", "-tls1_2", "-cipher", ciphers])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"));
    if let Some(conf) = conf {
        c.env("OPENSSL_CONF", conf);
    }
    let o = run(c, b"");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("alert handshake failure"), "{all}");
}

#[test]
fn curl_against_toytls_server_http_full_then_resumed() {
    if !have("curl", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let port = server.port;
    let n = 300_000;
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "--tlsv1.2",
        "--tls-max",
        "1.2",
        "--ciphers",
        "AES128-GCM-SHA256",
    ])
    .arg("--cacert")
    .arg(p.ca())
    .arg(format!("https://localhost:{port}/"))
    .arg(format!("https://localhost:{port}/bytes/{n}"))
    .arg(format!("https://localhost:{port}/"));
    let o = run(c, b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = &o.stdout;
    let first = String::from_utf8_lossy(&out[..out.len().min(400)]).into_owned();
    assert!(first.starts_with("Hello from toytls."), "{first}");
    assert!(
        first.contains("cipher suite: TLS_RSA_WITH_AES_128_GCM_SHA256"),
        "{first}"
    );
    assert!(first.contains("resumed: no"), "{first}");
    assert!(first.contains("extended master secret: yes"), "{first}");
    assert!(first.contains("server name: localhost"), "{first}");
    // The three answers are concatenated: page, N bytes, page.
    let second_page = find(&out[1..], b"Hello from toytls.").unwrap() + 1;
    let bytes_start = find(out, b"\nabcdefghij").unwrap() + 1;
    assert_eq!(
        sha256(&out[bytes_start..bytes_start + n]),
        sha256(&alphabet(n))
    );
    assert_eq!(second_page, bytes_start + n, "exactly N bytes");
    // curl connects again for each URL (we close after each answer) and resumes our session.
    let last = String::from_utf8_lossy(&out[second_page..]);
    assert!(last.contains("resumed: yes"), "{last}");
    assert!(last.contains("extended master secret: yes"), "{last}");
}

#[test]
fn python_ssl_against_toytls_server_echo_full_and_resumed() {
    if !have("python3", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--echo"]);
    let script = r#"
import hashlib, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("AES128-GCM-SHA256")
ctx.load_verify_locations(ca)
data = bytes((i * 7 + i // 251) % 256 for i in range(200000))
session = None
for round in range(2):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    assert s.cipher()[0] == "AES128-GCM-SHA256", s.cipher()
    assert s.session_reused == (round == 1), (round, s.session_reused)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        assert chunk, "early end"
        got += chunk
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    session = s.session
    s.unwrap()  # close_notify both ways
    raw.close()
    print("round", round, "reused" if round else "new", "ok")
"#;
    let out = python(script, server.port, &p.ca(), &[]);
    assert!(
        out.contains("round 0 new ok") && out.contains("round 1 reused ok"),
        "{out}"
    );
}

#[test]
fn python_ssl_negotiates_the_extended_master_secret_with_toytls_server() {
    if !have("python3", "--version") {
        return;
    }
    // Python's ssl module cannot say whether EMS was used; our server's page can. Python (its
    // OpenSSL) offers EMS by default: with our default server both connections use it, with
    // --no-ems neither does, and the session resumes either way.
    let script = r#"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("AES128-GCM-SHA256")
ctx.load_verify_locations(ca)
session = None
for round in range(2):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    page = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        page += chunk
    session = s.session
    raw.close()
    for line in page.decode().splitlines():
        if line.startswith(("resumed:", "extended master secret:")):
            print("round", round, line)
"#;
    for (args, ems) in [(&[][..], "yes"), (&["--no-ems"][..], "no")] {
        let mut server_args = vec!["--http"];
        server_args.extend_from_slice(args);
        let p = Pki::new();
        let server = toytls_server(&p, &server_args);
        let out = python(script, server.port, &p.ca(), &[]);
        for want in [
            "round 0 resumed: no".to_string(),
            "round 1 resumed: yes".to_string(),
            format!("round 0 extended master secret: {ems}"),
            format!("round 1 extended master secret: {ems}"),
        ] {
            assert!(out.contains(&want), "{args:?}: {want}: {out}");
        }
    }
}

/// Runs the Python `script` with arguments `port` and `ca`; it must succeed. Returns its stdout.
/// `openssl s_server -rev` (each line sent back reversed) with `p`'s certificate, with the
/// extended master secret turned off if `ems` is false.
fn openssl_server(p: &Pki, ems: bool) -> (Guard, u16) {
    let port = free_port();
    let mut cmd = s_server_command(p, port);
    if !ems {
        cmd.env("OPENSSL_CONF", no_ems_openssl_conf(&p.dir));
    }
    cmd.args(["-cipher", "AES128-GCM-SHA256", "-rev", "-quiet"]);
    (start_server(cmd, port), port)
}

fn toytls_client(port: u16, ca: &Path, name: &str, input: &[u8], extra: &[&str]) -> Output {
    let mut c = toytls_client_command(port, ca, name);
    c.args(["--suites", "gcm"]).args(extra);
    run(c, input)
}

/// `toytls client --reconnect 1` with `extra` flags against `openssl s_server -rev` (with EMS
/// unless `server_ems` is false): 200 lines must come back reversed, and the client must report
/// the second connection with the line `reconnect`.
fn toytls_client_against_s_server(extra: &[&str], server_ems: bool, reconnect: &str) {
    let p = Pki::new();
    let (_server, port) = openssl_server(&p, server_ems);
    let lines: Vec<String> = (0..200)
        .map(|i| format!("line {i} of toytls to openssl {}", "x".repeat(i % 50)))
        .collect();
    let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut args = vec!["--reconnect", "1"];
    args.extend_from_slice(extra);
    let o = toytls_client(port, &p.ca(), "localhost", input.as_bytes(), &args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    let expect: String = lines
        .iter()
        .map(|l| format!("{}\n", l.chars().rev().collect::<String>()))
        .collect();
    assert_eq!(
        sha256(&o.stdout),
        sha256(expect.as_bytes()),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.contains(reconnect),
        "{extra:?}, server EMS {server_ems}: {reconnect}: {err}"
    );
}

#[test]
fn toytls_client_against_openssl_s_server_full_and_resumed() {
    if !have("openssl", "version") {
        return;
    }
    toytls_client_against_s_server(
        &[],
        true,
        "reconnect 1: resumed, extended master secret: yes",
    );
}

#[test]
fn toytls_client_without_ems_against_openssl_s_server_full_and_resumed() {
    if !have("openssl", "version") {
        return;
    }
    // We do not offer it; OpenSSL resumes the legacy session, against a server with EMS and
    // against one without it.
    for server_ems in [true, false] {
        toytls_client_against_s_server(
            &["--no-ems"],
            server_ems,
            "reconnect 1: resumed, extended master secret: no",
        );
    }
}

#[test]
fn toytls_client_against_openssl_s_server_without_ems() {
    if !have("openssl", "version") {
        return;
    }
    // The server does not echo: we go on without EMS (RFC 7627 5.2), and then do not offer that
    // session again (5.3: SHOULD NOT resume a session without EMS), so the reconnection is a
    // full handshake.
    toytls_client_against_s_server(
        &[],
        false,
        "reconnect 1: full handshake (not resumed), extended master secret: no",
    );
    // --require-ems refuses such a server.
    let p = Pki::new();
    let (_server, port) = openssl_server(&p, false);
    let o = toytls_client(port, &p.ca(), "localhost", b"x\n", &["--require-ems"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("does not support the extended master secret"),
        "{err}"
    );
}

/// Our library client against `openssl s_server -rev`: two connections, each sending lines and
/// checking the reversed answer's hash; returns (resumed, extended master secret) for each.
fn library_client_against_s_server(
    mode: toytls::config::EmsMode,
    server_ems: bool,
) -> Vec<(bool, bool)> {
    use std::sync::Arc;
    use toytls::config::ClientConfig;
    use toytls::stream::TlsStream;
    let p = Pki::new();
    let (_server, port) = openssl_server(&p, server_ems);
    let anchors =
        toytls::x509::pem::parse_certificates(&std::fs::read_to_string(p.ca()).unwrap()).unwrap();
    let mut config = ClientConfig::new(anchors);
    config.suites = vec![toytls::wire::messages::TLS_RSA_WITH_AES_128_GCM_SHA256];
    config.extended_master_secret = mode;
    let config = Arc::new(config);
    let mut seen = Vec::new();
    for round in 0..2 {
        let mut tls = TlsStream::connect_tcp(("127.0.0.1", port), config.clone(), "localhost")
            .unwrap_or_else(|e| panic!("{mode:?}, server EMS {server_ems}, round {round}: {e}"));
        let sent: String = (0..100)
            .map(|i| format!("round {round} line {i} {}\n", "y".repeat(i % 37)))
            .collect();
        tls.write_all(sent.as_bytes()).unwrap();
        let mut got = vec![0u8; sent.len()];
        tls.read_exact(&mut got).unwrap();
        let expect: String = sent
            .lines()
            .map(|l| format!("{}\n", l.chars().rev().collect::<String>()))
            .collect();
        assert_eq!(sha256(&got), sha256(expect.as_bytes()), "round {round}");
        let _ = tls.close();
        seen.push((tls.resumed(), tls.extended_master_secret()));
    }
    seen
}

#[test]
fn toytls_library_client_against_openssl_s_server_ems_on_and_off() {
    if !have("openssl", "version") {
        return;
    }
    use toytls::config::EmsMode;
    // (our mode, s_server with EMS) -> (resumed, EMS) for the full and the second connection.
    for (mode, server_ems, expect) in [
        (EmsMode::Enabled, true, [(false, true), (true, true)]),
        (EmsMode::Required, true, [(false, true), (true, true)]),
        (EmsMode::Off, true, [(false, false), (true, false)]),
        (EmsMode::Off, false, [(false, false), (true, false)]),
        // RFC 7627 5.3: we do not offer a session made without EMS while offering EMS.
        (EmsMode::Enabled, false, [(false, false), (false, false)]),
    ] {
        assert_eq!(
            library_client_against_s_server(mode, server_ems),
            expect,
            "{mode:?}, s_server EMS {server_ems}"
        );
    }
}

#[test]
fn toytls_client_refuses_openssl_server_with_wrong_name_or_other_ca() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let (_server, port) = openssl_server(&p, true);
    let o = toytls_client(port, &p.ca(), "not-this-host.example", b"x\n", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("not-this-host.example"),
        "says which name: {err}"
    );
    let o = toytls_client(port, &p.other_ca(), "localhost", b"x\n", &[]);
    let err2 = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err2.contains("handshake with"), "{err2}");
    assert_ne!(err, err2, "different reasons");
}

#[test]
fn openssl_client_offering_only_suites_we_lack_gets_handshake_failure() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    s_client_gets_handshake_failure(server.port, "AES256-SHA:AES128-SHA", None);
}
