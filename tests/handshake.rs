//! Handshakes between our own client and server, in memory: full, resumed (hit, miss, expired,
//! evicted), data both ways, close_notify and truncation, and each certificate failure with the
//! alert that crossed the wire, seen from both sides. Resumption here is by session ID, from the
//! server's cache: these servers issue no tickets (`tests/tickets.rs` has those).

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::thread;
use toytls::clock::FixedClock;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::CipherSuite;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;

type Outcome<T> = Result<T, Error>;

/// Runs one connection: the server echoes one message then closes; the client sends `msg`.
/// Returns both sides' results.
fn run(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    name: &str,
) -> (Outcome<(bool, Vec<u8>)>, Outcome<bool>) {
    let (c_io, s_io) = pipe();
    let server = server.clone();
    let st = thread::spawn(move || -> Outcome<bool> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 64];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        s.close()?;
        // The client's close_notify ends our reading cleanly.
        assert_eq!(s.read_data(&mut buf)?, 0);
        Ok(s.resumed())
    });
    let client_result = (|| -> Outcome<(bool, Vec<u8>)> {
        let mut c = TlsStream::connect(c_io, client.clone(), name, 443)?;
        c.write_all(b"hello over toytls").map_err(to_tls)?;
        let mut got = Vec::new();
        c.read_to_end(&mut got).map_err(to_tls)?;
        c.close()?;
        assert_eq!(c.suite(), TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256);
        assert_eq!(c.peer_certificates()[0], pki().server.der());
        Ok((c.resumed(), got))
    })();
    (client_result, st.join().unwrap())
}

/// A server that resumes from its session cache only (no tickets, RFC 5077 is off).
fn cache_server(seed: u64) -> ServerConfig {
    let mut s = server_config(seed);
    s.tickets = None;
    s
}

fn to_tls(e: std::io::Error) -> Error {
    match e.into_inner().map(|b| b.downcast::<Error>()) {
        Some(Ok(tls)) => *tls,
        Some(Err(other)) => Error::Internal(other.to_string()),
        None => Error::Internal("io".into()),
    }
}

#[test]
fn full_handshake_then_resumption_hit() {
    let client = Arc::new(client_config(1));
    let server = Arc::new(cache_server(2));
    let (c, s) = run(&client, &server, "localhost");
    let (resumed, echoed) = c.unwrap();
    assert!(!resumed && !s.unwrap());
    assert_eq!(echoed, b"hello over toytls");
    assert_eq!(server.sessions.len(), 1);

    let (c, s) = run(&client, &server, "localhost");
    let (resumed, echoed) = c.unwrap();
    assert!(resumed, "second connection should resume");
    assert!(s.unwrap());
    assert_eq!(echoed, b"hello over toytls");
}

#[test]
fn resumption_miss_falls_back_to_a_full_handshake() {
    let client = Arc::new(client_config(3));
    let (c, _) = run(&client, &Arc::new(cache_server(4)), "localhost");
    assert!(!c.unwrap().0);
    // A different server (empty cache) does not know the session.
    let (c, s) = run(&client, &Arc::new(cache_server(5)), "localhost");
    assert!(!c.unwrap().0);
    assert!(!s.unwrap());
}

#[test]
fn expired_sessions_are_not_resumed() {
    let client = Arc::new(client_config(6));
    let clock = StepClock::new(NOW);
    let mut sc = cache_server(7);
    sc.sessions = toytls::handshake::session::ServerSessionCache::new(16, 60);
    sc.clock = clock.clone();
    let server = Arc::new(sc);
    assert!(!run(&client, &server, "localhost").0.unwrap().0);
    clock.advance(61);
    assert!(!run(&client, &server, "localhost").0.unwrap().0);
    // The new session resumes within its lifetime.
    clock.advance(30);
    assert!(run(&client, &server, "localhost").0.unwrap().0);
}

#[test]
fn evicted_sessions_are_not_resumed() {
    let mut sc = cache_server(8);
    sc.sessions = toytls::handshake::session::ServerSessionCache::new(1, 3600);
    let server = Arc::new(sc);
    let a = Arc::new(client_config(9));
    let b = Arc::new(client_config(10));
    assert!(!run(&a, &server, "localhost").0.unwrap().0);
    assert!(!run(&b, &server, "localhost").0.unwrap().0); // evicts a's session
    assert!(!run(&a, &server, "localhost").0.unwrap().0);
    assert!(!run(&b, &server, "localhost").0.unwrap().0); // a's evicted b's
    assert!(run(&b, &server, "localhost").0.unwrap().0);
}

/// Both sides of a failed handshake: the client's error and the server's error.
fn expect_failure(client: ClientConfig, server: ServerConfig, name: &str) -> (Error, Error) {
    let (c, s) = run(&Arc::new(client), &Arc::new(server), name);
    (c.unwrap_err(), s.unwrap_err())
}

#[test]
fn wrong_name_is_refused_by_the_client_with_certificate_unknown() {
    let (c, s) = expect_failure(client_config(11), server_config(12), "example.com");
    assert!(
        matches!(
            c,
            Error::Certificate {
                alert: A::CertificateUnknown,
                ..
            }
        ),
        "{c}"
    );
    assert!(c.to_string().contains("example.com"), "{c}");
    assert!(matches!(s, Error::PeerAlert(A::CertificateUnknown)), "{s}");
}

#[test]
fn untrusted_ca_is_refused_with_unknown_ca() {
    let mut cc = client_config(13);
    cc = ClientConfig {
        verifier: Arc::new(toytls::config::X509Verifier {
            trust_anchors: vec![pki().other_ca.clone()],
        }),
        ..cc
    };
    let (c, s) = expect_failure(cc, server_config(14), "localhost");
    assert!(
        matches!(
            c,
            Error::Certificate {
                alert: A::UnknownCa,
                ..
            }
        ),
        "{c}"
    );
    assert!(matches!(s, Error::PeerAlert(A::UnknownCa)), "{s}");
}

#[test]
fn expired_certificate_is_refused_with_certificate_expired() {
    let mut cc = client_config(15);
    cc.clock = Arc::new(FixedClock(toytls::clock::UnixTime(NOW + 2 * 365 * 86400)));
    let (c, s) = expect_failure(cc, server_config(16), "localhost");
    assert!(
        matches!(
            c,
            Error::Certificate {
                alert: A::CertificateExpired,
                ..
            }
        ),
        "{c}"
    );
    assert!(matches!(s, Error::PeerAlert(A::CertificateExpired)), "{s}");
}

#[test]
fn no_common_suite_is_handshake_failure() {
    let mut cc = client_config(17);
    // TLS_RSA_WITH_AES_128_CBC_SHA: a real suite toytls does not implement.
    cc.suites = vec![CipherSuite(0x002F)];
    let (c, s) = expect_failure(cc, server_config(18), "localhost");
    assert!(matches!(s, Error::NoCommonCipherSuite { .. }), "{s}");
    assert!(matches!(c, Error::PeerAlert(A::HandshakeFailure)), "{c}");
}

#[test]
fn a_failed_connection_is_never_resumed() {
    let client = Arc::new(client_config(19));
    let server = Arc::new(cache_server(20));
    assert!(!run(&client, &server, "localhost").0.unwrap().0);
    // Resume, then end the connection with a fatal alert from the server side.
    let (c_io, s_io) = pipe();
    let sv = server.clone();
    let st = thread::spawn(move || {
        let mut s = TlsStream::accept(s_io, sv).unwrap();
        assert!(s.resumed());
        // The client sends garbage inside a valid-looking record: the MAC fails.
        let mut buf = [0u8; 8];
        s.read_data(&mut buf).unwrap_err()
    });
    let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443).unwrap();
    assert!(c.resumed());
    c.get_mut()
        .write_all(&[
            23, 3, 3, 0, 40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
            21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
        ])
        .unwrap();
    let e = st.join().unwrap();
    assert!(matches!(e, Error::BadRecordMac), "{e}");
    let mut buf = [0u8; 8];
    let ce = c.read_data(&mut buf).unwrap_err();
    assert!(matches!(ce, Error::PeerAlert(A::BadRecordMac)), "{ce}");
    // Both caches forgot the session: the next connection is a full handshake.
    assert!(server.sessions.is_empty());
    assert!(!run(&client, &server, "localhost").0.unwrap().0);
}

#[test]
fn a_truncated_connection_keeps_its_session() {
    // RFC 5246 7.2.1: since TLS 1.1 a connection closed without close_notify may be resumed; only
    // a fatal alert invalidates the session.
    let client = Arc::new(client_config(23));
    let server = Arc::new(cache_server(24));
    let (c_io, s_io) = pipe();
    let sv = server.clone();
    let st = thread::spawn(move || {
        let mut s = TlsStream::accept(s_io, sv).unwrap();
        let mut buf = [0u8; 8];
        matches!(s.read_data(&mut buf), Err(Error::Truncated))
    });
    drop(TlsStream::connect(c_io, client.clone(), "localhost", 443).unwrap());
    assert!(st.join().unwrap(), "the server should see truncation");
    assert_eq!(server.sessions.len(), 1);
    assert!(run(&client, &server, "localhost").0.unwrap().0);
}

#[test]
fn closing_the_transport_without_close_notify_is_truncation() {
    let (c_io, s_io) = pipe();
    let st = thread::spawn(move || {
        let mut s = TlsStream::accept(s_io, Arc::new(server_config(21))).unwrap();
        s.write_data(b"partial").unwrap();
        // Dropped without close(): the TCP-level close an attacker could forge.
    });
    let mut c = TlsStream::connect(c_io, Arc::new(client_config(22)), "localhost", 443).unwrap();
    st.join().unwrap();
    let mut got = Vec::new();
    let e = c.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, b"partial");
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(matches!(to_tls(e), Error::Truncated));
}

#[test]
fn a_full_cache_still_resumes_the_newest_session() {
    let mut sc = cache_server(25);
    sc.sessions = toytls::handshake::session::ServerSessionCache::new(4, 3600);
    let server = Arc::new(sc);
    let mut nc = client_config(26);
    nc.sessions = toytls::handshake::session::ClientSessionStore::new(0);
    let no_resume = Arc::new(nc);
    for _ in 0..10 {
        assert!(!run(&no_resume, &server, "localhost").0.unwrap().0);
    }
    assert_eq!(server.sessions.len(), 4);
    let client = Arc::new(client_config(27));
    assert!(!run(&client, &server, "localhost").0.unwrap().0);
    assert!(run(&client, &server, "localhost").0.unwrap().0);
    assert!(run(&client, &server, "localhost").0.unwrap().0);
}
