//! Session tickets (RFC 5077) and ALPN (RFC 7301) against independent stacks, every peer a
//! process on loopback: `openssl s_client -sess_out/-sess_in` (tickets are its default), curl,
//! Python's `ssl` and `gnutls-cli --resume` against `toytls server`; `toytls client` against
//! `openssl s_server` and `gnutls-serv`, each resuming by ticket; ALPN with curl (h2 and
//! http/1.1 offered: we pick http/1.1), `openssl s_client -alpn`, Python and gnutls-cli, and the
//! no_application_protocol refusal as each of them reports it.

mod stacks;

use stacks::*;
use std::process::Command;

/// `openssl s_client` to our server for one request, saving or reusing a session file.
fn s_client(port: u16, p: &Pki, args: &[&str]) -> String {
    let mut c = s_client_command(port, &p.ca());
    // -ign_eof: read the answer to the end (our server closes after it), not just until stdin
    // ends.
    c.arg("-ign_eof").args(args);
    let o = run(c, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    output_text(&o)
}

#[test]
fn openssl_s_client_resumes_from_our_ticket_and_by_session_id_without_tickets() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let sess = p.dir.join("s_client.sess");
    let sess = sess.to_str().unwrap();
    let first = s_client(server.port, &p, &["-sess_out", sess]);
    assert!(first.contains("New, TLSv1.2"), "{first}");
    // Our NewSessionTicket, as s_client prints it.
    assert!(
        first.contains("TLS session ticket lifetime hint: 3600"),
        "{first}"
    );
    assert!(first.contains("resumed: no"), "{first}");
    let second = s_client(server.port, &p, &["-sess_in", sess]);
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    assert!(second.contains("resumed from a ticket: yes"), "{second}");

    // --no-tickets on our side: s_client still gets a session ID and resumes by it.
    let server = toytls_server(&p, &["--http", "--no-tickets"]);
    let first = s_client(server.port, &p, &["-sess_out", sess]);
    assert!(!first.contains("TLS session ticket:"), "{first}");
    let second = s_client(server.port, &p, &["-sess_in", sess]);
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    assert!(second.contains("resumed from a ticket: no"), "{second}");
}

#[test]
fn openssl_s_client_alpn_gets_http11_or_no_application_protocol() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let out = s_client(server.port, &p, &["-alpn", "h2,http/1.1"]);
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    assert!(
        out.contains("application protocol (ALPN): http/1.1"),
        "{out}"
    );
    let out = s_client(server.port, &p, &["-alpn", "h2"]);
    assert!(out.contains("no application protocol"), "{out}");
    assert!(out.contains("alert number 120"), "{out}");
    // Our server says why, one line for the connection.
    server
        .stderr
        .wait_for("no application protocol in common", String::new);
}

#[test]
fn curl_gets_http11_over_alpn_and_resumes() {
    if !have("curl", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let url = format!("https://localhost:{}/", server.port);
    let mut c = Command::new("curl");
    c.args(["-sv", "--tlsv1.2", "--tls-max", "1.2", "--resolve"])
        .arg(format!("localhost:{}:127.0.0.1", server.port))
        .arg("--cacert")
        .arg(p.ca())
        .args([&url, &url]);
    let o = run(c, b"");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // curl offers h2 and http/1.1; a server that speaks HTTP/1.1 only must pick it.
    assert!(err.contains("ALPN: server accepted http/1.1"), "{err}");
    // curl (with OpenSSL) turns tickets off for TLS 1.2 (SSL_OP_NO_TICKET): it resumes by
    // session ID, the fallback for clients without tickets.
    assert_eq!(
        lines_with(&out, "application protocol (ALPN): http/1.1").len(),
        2,
        "{out}"
    );
    assert!(out.contains("resumed: no"), "{out}");
    assert!(out.contains("resumed: yes"), "{out}");
}

#[test]
fn python_ssl_resumes_from_our_ticket_and_negotiates_alpn() {
    if !have("python3", "--version") {
        return;
    }
    let script = r#"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("AES128-GCM-SHA256")
ctx.set_alpn_protocols(["h2", "http/1.1"])
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
    print("round", round, "reused", s.session_reused, "ticket", s.session.has_ticket,
          "alpn", s.selected_alpn_protocol())
    session = s.session
    raw.close()
    for line in page.decode().splitlines():
        if line.startswith(("resumed", "application protocol")):
            print("round", round, line)
ctx.set_alpn_protocols(["h2"])
try:
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    ctx.wrap_socket(raw, server_hostname="localhost")
    print("h2 only: connected")
except ssl.SSLError as e:
    print("h2 only:", e)
"#;
    let p = Pki::new();
    let server = toytls_server(&p, &["--http"]);
    let out = python(script, server.port, &p.ca(), &[]);
    for want in [
        "round 0 reused False ticket True alpn http/1.1",
        "round 1 reused True ticket True alpn http/1.1",
        "round 0 resumed: no",
        "round 1 resumed: yes",
        "round 1 resumed from a ticket: yes",
        "round 1 application protocol (ALPN): http/1.1",
        "alert no application protocol",
    ] {
        assert!(out.contains(want), "{want}:\n{out}");
    }
}

#[test]
fn gnutls_cli_resumes_from_our_ticket_with_alpn() {
    if !have("gnutls-cli", "--version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--echo", "--alpn", "http/1.1"]);
    let mut c = Command::new("gnutls-cli");
    c.args(["--resume", "--alpn", "h2", "--alpn", "http/1.1"])
        .arg(format!("--x509cafile={}", p.ca().display()))
        .args(["-p", &server.port.to_string(), "localhost"]);
    let o = run(c, b"");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("This is a resumed session"), "{out}");
    assert!(
        lines_with(&out, "Application protocol: http/1.1").len() >= 2
            || lines_with(&out, "ALPN: http/1.1").len() >= 2,
        "{out}"
    );
}

/// `toytls client --reconnect 2 --suites gcm` against 127.0.0.1:`port`, sending `input`.
fn our_client(port: u16, p: &Pki, extra: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut c = toytls_client_command(port, &p.ca(), "localhost");
    c.args(["--suites", "gcm", "--reconnect", "2"]).args(extra);
    let o = run(c, input);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `server` (a real stack's server on `port`, speaking http/1.1 over ALPN) and our client
/// with `--reconnect 2` against it; each reconnection must resume, from a ticket exactly when
/// `ticket` is "yes". `echoed` is what the server sends back for "hello\n".
fn our_client_resumes_from(server: Command, port: u16, p: &Pki, ticket: &str, echoed: &str) {
    let what = format!("{server:?}");
    let _server = start_server(server, port);
    let (ok, out, err) = our_client(port, p, &["--alpn", "h2,http/1.1"], b"hello\n");
    assert!(ok, "{what}: {err}");
    assert!(out.contains(echoed), "{out}");
    assert!(err.contains("ALPN: http/1.1"), "{err}");
    for i in [1, 2] {
        let want = format!("reconnect {i}: resumed, extended master secret: yes, ticket: {ticket}");
        assert!(err.contains(&want), "{what}: {want}\n{err}");
    }
}

#[test]
fn our_client_resumes_from_openssl_s_servers_ticket_and_by_id_without_tickets() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    for (server_args, ticket) in [(&[][..], "yes"), (&["-no_ticket"][..], "no")] {
        let port = free_port();
        let mut cmd = s_server_command(&p, port);
        cmd.args(["-rev", "-alpn", "http/1.1"]).args(server_args);
        our_client_resumes_from(cmd, port, &p, ticket, "olleh");
    }
}

#[test]
fn our_client_resumes_from_gnutls_servs_ticket_and_by_id_without_tickets() {
    if !have("gnutls-serv", "--version") {
        return;
    }
    let p = Pki::new();
    for (server_args, ticket) in [(&[][..], "yes"), (&["--noticket"][..], "no")] {
        let port = free_port();
        let mut cmd = gnutls_serv_command(&p, port);
        cmd.args(["--echo", "-a", "--alpn", "http/1.1"])
            .args(server_args);
        our_client_resumes_from(cmd, port, &p, ticket, "hello\n");
    }
}

#[test]
fn our_client_and_server_resume_by_ticket_and_refuse_without_a_common_protocol() {
    let p = Pki::new();
    let server = toytls_server(&p, &["--echo", "--alpn", "http/1.1"]);
    let (ok, out, err) = our_client(server.port, &p, &["--alpn", "h2,http/1.1"], b"ping\n");
    assert!(ok, "{err}");
    assert_eq!(out, "ping\n");
    assert!(err.contains("ALPN: http/1.1"), "{err}");
    assert!(
        err.contains(
            "reconnect 2: resumed, extended master secret: yes, ticket: yes, ALPN: http/1.1"
        ),
        "{err}"
    );
    // --no-tickets on the client: session IDs.
    let (ok, _, err) = our_client(server.port, &p, &["--no-tickets"], b"ping\n");
    assert!(ok, "{err}");
    assert!(
        err.contains("reconnect 1: resumed, extended master secret: yes, ticket: no"),
        "{err}"
    );
    // No common protocol: the alert on both sides.
    let (ok, _, err) = our_client(server.port, &p, &["--alpn", "h2"], b"ping\n");
    assert!(!ok);
    assert!(err.contains("no_application_protocol"), "{err}");
    server
        .stderr
        .wait_for("no application protocol in common", String::new);
}
