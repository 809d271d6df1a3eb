//! When a session may be resumed, in memory between our own client and server:
//!
//! - RFC 5246 7.2.2: a connection ended by a fatal alert invalidates its session ("any session
//!   identifier associated with the connection MUST be invalidated"), on the server too, and also
//!   when the failing connection is itself a resumption.
//! - RFC 6066 3: "the server MUST NOT accept the request to resume the session if the
//!   server_name extension contains a different name. Instead, it proceeds with a full
//!   handshake to establish a new session."
//! - The client keeps a session for a limited time, and never past the end of the validity of
//!   the certificate it verified for it: resuming skips the certificate check, so an expired
//!   server certificate would otherwise go on being accepted.

mod common;

use common::*;
use std::sync::Arc;
use toytls::clock::UnixTime;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription;

/// Our server as `common::server_config` makes it, but resuming from its session cache only:
/// these are the session-ID rules (`tests/tickets.rs` has the ticket ones).
fn server_config(seed: u64) -> ServerConfig {
    let mut s = common::server_config(seed);
    s.tickets = None;
    s
}

/// One connection between `client` and `server` through `proxy(edit)`: the handshake, "hello"
/// sent and echoed, close_notify both ways. Returns the client's stream or the first error on
/// its side, and the server side's result.
fn connect_through(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    name: &str,
    edit: impl Fn(Way, usize, Vec<u8>) -> Action + Send + Sync + 'static,
) -> (Result<TlsStream<End>, Error>, Result<(), Error>) {
    let (c, s) = proxy(edit);
    let sc = server.clone();
    let st = std::thread::spawn(move || {
        let mut tls = TlsStream::accept(s, sc)?;
        let mut buf = [0u8; 5];
        let n = tls.read_data(&mut buf)?;
        tls.write_data(&buf[..n])?;
        tls.close()
    });
    let tls = TlsStream::connect(c, client.clone(), name, 443).and_then(|mut t| {
        t.write_data(b"hello")?;
        let mut buf = [0u8; 5];
        assert_eq!(t.read_data(&mut buf)?, 5);
        assert_eq!(&buf, b"hello");
        assert_eq!(t.read_data(&mut buf)?, 0, "close_notify");
        t.close()?;
        Ok(t)
    });
    (tls, st.join().unwrap())
}

fn forward(_: Way, _: usize, rec: Vec<u8>) -> Action {
    Action::Forward(rec)
}

fn connect(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>, name: &str) -> TlsStream<End> {
    let (tls, server_result) = connect_through(client, server, name, forward);
    server_result.unwrap();
    tls.unwrap()
}

#[test]
fn a_resumption_ended_by_a_fatal_alert_invalidates_the_session_on_the_server() {
    let client = Arc::new(client_config(31));
    let server = Arc::new(server_config(32));
    let first = connect(&client, &server, "localhost");
    let id = first.session_id();
    assert!(server.sessions.get(&id, UnixTime(NOW)).is_some());
    // The resumption: ClientHello, ChangeCipherSpec, Finished (record 2), whose last byte is
    // flipped: the server answers bad_record_mac.
    let (tls, server_result) = connect_through(&client, &server, "localhost", |w, i, mut rec| {
        if w == Way::ToServer && i == 2 {
            *rec.last_mut().unwrap() ^= 1;
        }
        Action::Forward(rec)
    });
    assert!(
        matches!(server_result, Err(Error::BadRecordMac)),
        "{server_result:?}"
    );
    assert!(matches!(
        tls.err(),
        Some(Error::PeerAlert(AlertDescription::BadRecordMac))
    ));
    assert!(
        server.sessions.get(&id, UnixTime(NOW)).is_none(),
        "the server still holds the session of a connection that ended with a fatal alert"
    );
}

#[test]
fn a_fatal_alert_from_the_client_during_a_resumption_invalidates_the_session_on_the_server() {
    let client = Arc::new(client_config(33));
    let server = Arc::new(server_config(34));
    let id = connect(&client, &server, "localhost").session_id();
    // The client's Finished is replaced by a fatal alert (in the clear: the server then fails
    // to open it, or takes it as an alert; either way the connection ends fatally).
    let (_, server_result) = connect_through(&client, &server, "localhost", |w, i, rec| {
        if w == Way::ToServer && i == 1 {
            Action::Forward(vec![21, 3, 3, 0, 2, 2, 40])
        } else {
            Action::Forward(rec)
        }
    });
    assert!(server_result.is_err());
    assert!(server.sessions.get(&id, UnixTime(NOW)).is_none());
}

/// A server whose certificate names `localhost` and `other.test`, valid until `not_after`, and
/// that resumes by session ID only.
fn server_with_names(seed: u64, not_after: i64) -> Arc<ServerConfig> {
    let mut s = common::server_with_names(seed, &["localhost", "other.test"], not_after);
    s.tickets = None;
    Arc::new(s)
}

#[test]
fn a_session_offered_under_another_server_name_gets_a_full_handshake() {
    let client = Arc::new(client_config(35));
    let server = server_with_names(36, NOW + 365 * 86_400);
    let first = connect(&client, &server, "localhost");
    assert!(!first.resumed());
    // The same session, offered for other.test: the client store is keyed by name, so move it.
    let session = client.sessions.get("localhost", 443).unwrap();
    client.sessions.insert("other.test", 443, session);
    let second = connect(&client, &server, "other.test");
    assert!(
        !second.resumed(),
        "resumed a session made for localhost under the name other.test (RFC 6066 3)"
    );
    assert_ne!(second.session_id(), first.session_id());
    // Under its own name it still resumes.
    assert!(connect(&client, &server, "localhost").resumed());
}

/// A client whose clock the test moves.
fn client_with_clock(seed: u64) -> (Arc<ClientConfig>, Arc<StepClock>) {
    let clock = StepClock::new(NOW);
    let mut c = client_config(seed);
    c.clock = clock.clone();
    (Arc::new(c), clock)
}

#[test]
fn the_client_forgets_a_session_after_its_lifetime() {
    let (client, clock) = client_with_clock(37);
    let server = Arc::new(server_config(38));
    connect(&client, &server, "localhost");
    clock.advance(3600);
    assert!(connect(&client, &server, "localhost").resumed());
    // The server (whose clock stands still) would still resume it; the client no longer offers
    // it a day after the full handshake.
    clock.advance(24 * 3600);
    assert!(!connect(&client, &server, "localhost").resumed());
}

#[test]
fn the_client_does_not_resume_once_the_certificate_it_verified_has_expired() {
    let (client, clock) = client_with_clock(39);
    // The certificate expires 10 minutes from now.
    let server = server_with_names(40, NOW + 600);
    connect(&client, &server, "localhost");
    clock.advance(300);
    assert!(connect(&client, &server, "localhost").resumed());
    clock.advance(600);
    // Resuming would skip the certificate check; the full handshake makes it, and refuses.
    let (tls, _) = connect_through(&client, &server, "localhost", forward);
    let e = tls
        .err()
        .expect("resumed with an expired server certificate");
    assert_eq!(e.alert(), Some(AlertDescription::CertificateExpired), "{e}");
}
