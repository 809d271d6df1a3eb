//! Renegotiation refused, against OpenSSL 3.0 over loopback TCP, suite
//! TLS_RSA_WITH_AES_128_GCM_SHA256:
//!
//! - `openssl s_client -tls1_2` against `toytls server --echo`: typing `R` makes s_client send a
//!   new (encrypted) ClientHello; our server answers with a warning `no_renegotiation` and would
//!   keep serving the connection.
//! - `toytls client` against `openssl s_server -tls1_2`: typing `r` makes s_server send a
//!   HelloRequest; our client answers with a warning `no_renegotiation` and would keep reading.
//!
//! In both directions OpenSSL 3.0 then gives up itself: when a renegotiation it asked for is
//! refused it reports `no renegotiation` and ends the connection with a fatal `handshake_failure`
//! (its record layer does that for any `no_renegotiation` alert). That is OpenSSL's choice, which
//! RFC 5746 4.2/4.4 leaves to the peer; the tests assert exactly that sequence, and that our
//! server keeps serving other connections. That the refused connection itself stays usable is
//! shown in memory, in tests/renegotiation.rs.
//!
//! The tests skip loudly if `openssl` is not installed (`.ci/run` installs it).

mod stacks;

use stacks::*;
use std::process::Command;

#[test]
fn openssl_s_client_renegotiation_is_refused_with_a_warning_by_toytls_server() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let server = toytls_server(&p, &["--echo", "--suites", "gcm", "--trace"]);
    let mut c = openssl_s_client(server.port, &p);
    let ctx = || format!("\n--- server:\n{}", server.stderr.text());

    c.type_line("hello before renegotiation");
    c.stdout
        .wait_for("hello before renegotiation", || c.outputs() + &ctx());
    assert!(
        c.stdout
            .text()
            .contains("Secure Renegotiation IS supported"),
        "{}",
        c.outputs()
    );
    c.type_line("R");
    let status = wait_exit(&mut c.guard, "s_client");
    // The child has exited: its pipes end; wait for the collectors to have read everything.
    c.stdout.wait_all();
    c.stderr.wait_all();
    let out = c.outputs();
    // Our server logs the failed connection when it has read OpenSSL's alert, which may be a
    // moment after s_client exits.
    server
        .stderr
        .wait_for("the peer sent the alert handshake_failure", || out.clone());
    let srv = server.stderr.text();
    // s_client asked, got the warning, and gave up on its own.
    assert!(out.contains("RENEGOTIATING"), "{out}");
    assert!(out.contains("no renegotiation"), "{out}\n{srv}");
    assert!(!status.success(), "{out}");
    // Our server, after a handshake: the encrypted ClientHello, the warning, then OpenSSL's
    // fatal alert.
    assert_in_order_after(
        &srv,
        "received Finished",
        &[
            "[server] received ClientHello",
            "renegotiation refused with no_renegotiation",
            "[server] sent alert no_renegotiation (Warning)",
            "[server] received alert handshake_failure (Fatal)",
            "connection failed: the peer sent the alert handshake_failure",
        ],
    );
    // Exactly one warning, and we sent no fatal alert of our own (`] sent alert`: the alert
    // itself, not the trace line of the record that carried it).
    assert_eq!(lines_with(&srv, "] sent alert").len(), 1, "{srv}");

    // The server goes on serving: a new connection echoes and closes cleanly.
    let mut again = openssl_s_client(server.port, &p);
    again.type_line("a second connection");
    again
        .stdout
        .wait_for("a second connection", || again.outputs());
    again.close_stdin();
    let status = wait_exit(&mut again.guard, "second s_client");
    assert!(status.success(), "{}", again.outputs());
}

#[test]
fn openssl_s_server_hello_request_is_refused_with_a_warning_by_toytls_client() {
    if !have("openssl", "version") {
        return;
    }
    let p = Pki::new();
    let port = free_port();
    // Not -quiet: it turns off s_server's command letters (r, R).
    let mut server = Command::new("openssl");
    server
        .args(["s_server", "-tls1_2", "-cipher", "AES128-GCM-SHA256"])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(p.cert())
        .arg("-key")
        .arg(p.key());
    let mut server = Interactive::spawn(server);
    wait_for_port(port);

    let mut client = Command::new(TOYTLS);
    client
        .arg("client")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca")
        .arg(p.ca())
        .args(["--server-name", "localhost", "--suites", "gcm", "--trace"]);
    let mut client = Interactive::spawn(client);
    client.type_line("ping from toytls");
    server
        .stdout
        .wait_for("ping from toytls", || server.outputs() + &client.outputs());
    server.type_line("r");
    let status = wait_exit(&mut client.guard, "toytls client");
    client.stdout.wait_all();
    client.stderr.wait_all();
    let out = client.outputs();
    assert!(!status.success(), "{out}");
    assert_in_order_after(
        &out,
        "received Finished",
        &[
            "[client] received HelloRequest",
            "renegotiation refused with no_renegotiation",
            "[client] sent alert no_renegotiation (Warning)",
            "[client] received alert handshake_failure (Fatal)",
            "the peer sent the alert handshake_failure",
        ],
    );
    assert_eq!(lines_with(&out, "] sent alert").len(), 1, "{out}");
    server
        .stderr
        .wait_for("no renegotiation", || server.outputs());
}
