//! Renegotiation is refused politely (RFC 5746 4.2 and 4.4, RFC 5246 7.2.2 and 7.4.1.1): after the
//! handshake, a ClientHello sent to our server or a HelloRequest sent to our client is answered
//! with a *warning* `no_renegotiation` alert, and application data keeps flowing. A peer that
//! keeps asking gets a fatal `unexpected_message` after `MAX_REFUSED_RENEGOTIATIONS` refusals;
//! any other handshake message after the handshake is `unexpected_message`, a malformed request
//! `decode_error`.
//!
//! One side is our real `TlsStream`; the other is a `Conn` that ran our real handshake and is then
//! driven record by record, so the test can send a protected handshake record (which no public
//! API sends) and see every record that comes back, decrypted.
//!
//! During the handshake a client ignores a HelloRequest (RFC 5246 7.4.1.1), which the last tests
//! check by slipping plaintext ones into our real server's flights.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use toytls::Side;
use toytls::conn::{Conn, MAX_REFUSED_RENEGOTIATIONS};
use toytls::error::Error;
use toytls::handshake::joiner::MAX_CLIENT_HELLO;
use toytls::handshake::{client, server};
use toytls::record::ContentType;
use toytls::stream::TlsStream;
use toytls::trace::{Dir, Note, TraceEvent, TraceLog};
use toytls::wire::alert::{AlertDescription as A, AlertLevel};
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::extensions::{Extension, RENEGOTIATION_INFO};
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

const WARNING_NO_RENEGOTIATION: [u8; 2] = [1, 100];
const FATAL_UNEXPECTED_MESSAGE: [u8; 2] = [2, 10];
const FATAL_DECODE_ERROR: [u8; 2] = [2, 50];
const CLOSE_NOTIFY: [u8; 2] = [1, 0];

/// Our peer's side of the test: an established connection driven record by record.
struct Peer(Conn<End>);

impl Peer {
    fn app(&mut self, data: &[u8]) {
        self.0.write_app_data(data).unwrap();
    }

    /// Sends `bytes` as one protected handshake record.
    fn handshake_record(&mut self, bytes: &[u8]) {
        let c = &mut self.0;
        c.rec
            .write_records(&mut c.io, ContentType::Handshake, bytes)
            .unwrap();
    }

    /// The next record from our stack, decrypted: its type and plaintext.
    fn next(&mut self) -> (ContentType, Vec<u8>) {
        let c = &mut self.0;
        let (typ, range) = c.rec.read_record(&mut c.io).expect("a record");
        (typ, c.rec.plaintext(range).to_vec())
    }

    fn expect_app(&mut self, want: &[u8]) {
        assert_eq!(self.next(), (ContentType::ApplicationData, want.to_vec()));
    }

    fn expect_alert(&mut self, want: [u8; 2]) {
        assert_eq!(self.next(), (ContentType::Alert, want.to_vec()));
    }
}

/// A renegotiating ClientHello as a real client sends it: a fresh random and renegotiation_info
/// carrying the client's previous verify_data (RFC 5746 3.5).
fn client_hello() -> Vec<u8> {
    let mut ri = vec![12u8];
    ri.extend_from_slice(&[0xab; 12]);
    HandshakeMessage::ClientHello(ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0x42; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: Some(vec![Extension {
            typ: RENEGOTIATION_INFO,
            data: ri,
        }]),
    })
    .to_bytes()
    .unwrap()
}

const HELLO_REQUEST: [u8; 4] = [0, 0, 0, 0];

/// Our real stack's thread: everything it read, or its error.
type OurSide = JoinHandle<Result<Vec<u8>, Error>>;

/// The next record from our side is the fatal `alert`, and our side ends with the error that
/// maps to it.
fn expect_fatal_end(p: &mut Peer, ours: OurSide, alert: [u8; 2], what: &str) {
    let (typ, body) = p.next();
    assert_eq!(
        (typ, body.as_slice()),
        (ContentType::Alert, &alert[..]),
        "{what}"
    );
    let e = ours.join().unwrap().unwrap_err();
    assert_eq!(e.alert(), Some(A::from_u8(alert[1])), "{what}: {e}");
}

// ---- Our server refuses a client's ClientHello ---------------------------------------------

/// Our real server, echoing every read back until the client's close_notify, then closing; it
/// returns everything it read. The peer is a client that ran our real client handshake.
fn against_our_server() -> (Peer, OurSide, Arc<TraceLog>) {
    let (c_io, s_io) = pipe();
    let log = TraceLog::new();
    let mut cfg = server_config(300);
    cfg.trace = Some(log.clone());
    let st = thread::spawn(move || -> Result<Vec<u8>, Error> {
        let mut s = TlsStream::accept(s_io, Arc::new(cfg))?;
        let mut all = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = s.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            s.write_data(&buf[..n])?;
        }
        s.close()?;
        Ok(all)
    });
    let mut c = Conn::new(c_io, Side::Client, None);
    client::handshake(&mut c, &client_config(301), "localhost", 443).unwrap();
    (Peer(c), st, log)
}

/// What a connection that refused one renegotiation and then closed cleanly sent: a warning
/// no_renegotiation, then close_notify, and nothing else.
const REFUSED_THEN_CLOSED: [(AlertLevel, A); 2] = [
    (AlertLevel::Warning, A::NoRenegotiation),
    (AlertLevel::Warning, A::CloseNotify),
];

/// The alerts a side sent, from its trace.
fn alerts_sent(log: &TraceLog) -> Vec<(AlertLevel, A)> {
    log.take()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Alert {
                dir: Dir::Sent,
                level,
                description,
                ..
            } => Some((level, description)),
            _ => None,
        })
        .collect()
}

/// Closes cleanly from the peer's side: close_notify, then the other side's close_notify.
fn close(p: &mut Peer) {
    p.0.close().unwrap();
    p.expect_alert(CLOSE_NOTIFY);
}

#[test]
fn server_answers_a_client_hello_with_a_warning_and_keeps_serving() {
    let (mut p, st, log) = against_our_server();
    p.app(b"before");
    p.expect_app(b"before");
    p.handshake_record(&client_hello());
    p.expect_alert(WARNING_NO_RENEGOTIATION);
    p.app(b"after");
    p.expect_app(b"after");
    close(&mut p);
    assert_eq!(st.join().unwrap().unwrap(), b"beforeafter");
    assert_eq!(alerts_sent(&log), REFUSED_THEN_CLOSED);
}

#[test]
fn a_client_hello_split_over_records_with_data_between_is_refused_once() {
    let (mut p, st, log) = against_our_server();
    let ch = client_hello();
    // The first fragment is shorter than the 4-byte header; application data arrives between
    // fragments (RFC 5246 6.2.1 lets content types interleave) and is delivered at once.
    p.handshake_record(&ch[..2]);
    p.app(b"between");
    p.expect_app(b"between");
    p.handshake_record(&ch[2..40]);
    p.handshake_record(&ch[40..]);
    p.expect_alert(WARNING_NO_RENEGOTIATION);
    p.app(b"after");
    p.expect_app(b"after");
    close(&mut p);
    assert_eq!(st.join().unwrap().unwrap(), b"betweenafter");
    let sent = alerts_sent(&log);
    assert_eq!(sent.len(), 2, "one refusal, one close_notify: {sent:?}");
}

#[test]
fn server_refuses_a_bounded_number_of_client_hellos_then_ends_the_connection() {
    let (mut p, st, _) = against_our_server();
    for i in 0..MAX_REFUSED_RENEGOTIATIONS {
        p.handshake_record(&client_hello());
        p.expect_alert(WARNING_NO_RENEGOTIATION);
        let data = format!("data after refusal {i}");
        p.app(data.as_bytes());
        p.expect_app(data.as_bytes());
    }
    p.handshake_record(&client_hello());
    p.expect_alert(FATAL_UNEXPECTED_MESSAGE);
    let e = st.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert!(e.to_string().contains("refused renegotiations"), "{e}");
}

#[test]
fn client_hellos_coalesced_in_one_record_are_each_counted() {
    let (mut p, st, _) = against_our_server();
    let many = client_hello().repeat(MAX_REFUSED_RENEGOTIATIONS as usize + 1);
    p.handshake_record(&many);
    for _ in 0..MAX_REFUSED_RENEGOTIATIONS {
        p.expect_alert(WARNING_NO_RENEGOTIATION);
    }
    p.expect_alert(FATAL_UNEXPECTED_MESSAGE);
    assert!(matches!(
        st.join().unwrap(),
        Err(Error::UnexpectedMessage { .. })
    ));
}

#[test]
fn server_refuses_other_handshake_messages_and_malformed_hellos_after_the_handshake() {
    let finished = HandshakeMessage::Finished(Finished {
        verify_data: [0; 12],
    })
    .to_bytes()
    .unwrap();
    let mut truncated_hello = client_hello();
    truncated_hello.truncate(30);
    truncated_hello[3] = 26; // a consistent header around a body that ends too soon
    let mut oversized = vec![1u8];
    oversized.extend_from_slice(&((MAX_CLIENT_HELLO + 1) as u32).to_be_bytes()[1..]);
    let cases: Vec<(&str, Vec<u8>, [u8; 2])> = vec![
        (
            "HelloRequest",
            HELLO_REQUEST.to_vec(),
            FATAL_UNEXPECTED_MESSAGE,
        ),
        ("Finished", finished, FATAL_UNEXPECTED_MESSAGE),
        (
            "unknown type 99",
            vec![99, 0, 0, 0],
            FATAL_UNEXPECTED_MESSAGE,
        ),
        ("truncated ClientHello", truncated_hello, FATAL_DECODE_ERROR),
        ("ClientHello over the limit", oversized, FATAL_DECODE_ERROR),
    ];
    for (what, bytes, alert) in cases {
        let (mut p, st, _) = against_our_server();
        p.app(b"x");
        p.expect_app(b"x");
        p.handshake_record(&bytes);
        expect_fatal_end(&mut p, st, alert, what);
    }
}

// ---- Our client refuses a server's HelloRequest ---------------------------------------------

/// Our real client, reading until the server's close_notify, then closing; it returns what it
/// read. The peer is a server that ran our real server handshake.
fn against_our_client() -> (Peer, OurSide, Arc<TraceLog>) {
    let (c_io, s_io) = pipe();
    let log = TraceLog::new();
    let mut cfg = client_config(302);
    cfg.trace = Some(log.clone());
    let ct = thread::spawn(move || -> Result<Vec<u8>, Error> {
        let mut c = TlsStream::connect(c_io, Arc::new(cfg), "localhost", 443)?;
        let mut all = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = c.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        c.close()?;
        Ok(all)
    });
    let mut s = Conn::new(s_io, Side::Server, None);
    server::handshake(&mut s, &server_config(303)).unwrap();
    (Peer(s), ct, log)
}

#[test]
fn client_answers_a_hello_request_with_a_warning_and_keeps_reading() {
    let (mut p, ct, log) = against_our_client();
    p.app(b"before ");
    p.handshake_record(&HELLO_REQUEST);
    p.expect_alert(WARNING_NO_RENEGOTIATION);
    p.app(b"after");
    close(&mut p);
    assert_eq!(ct.join().unwrap().unwrap(), b"before after");
    assert_eq!(alerts_sent(&log), REFUSED_THEN_CLOSED);
}

#[test]
fn client_refuses_a_bounded_number_of_hello_requests() {
    let (mut p, ct, _) = against_our_client();
    for i in 0..MAX_REFUSED_RENEGOTIATIONS {
        p.handshake_record(&HELLO_REQUEST);
        p.expect_alert(WARNING_NO_RENEGOTIATION);
        p.app(format!("{i}").as_bytes());
    }
    // Two more in one record: the first is over the limit and fatal.
    p.handshake_record(&HELLO_REQUEST.repeat(2));
    p.expect_alert(FATAL_UNEXPECTED_MESSAGE);
    let e = ct.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
}

#[test]
fn client_refuses_a_hello_request_with_a_body_and_other_messages() {
    let server_hello_done = HandshakeMessage::ServerHelloDone(ServerHelloDone)
        .to_bytes()
        .unwrap();
    let cases: Vec<(&str, Vec<u8>, [u8; 2])> = vec![
        // RFC 5246 7.4.1.1: `struct { } HelloRequest;`. Refused from the header alone.
        (
            "HelloRequest with a body",
            vec![0, 0, 0, 1],
            FATAL_DECODE_ERROR,
        ),
        ("ClientHello", client_hello(), FATAL_UNEXPECTED_MESSAGE),
        (
            "ServerHelloDone",
            server_hello_done,
            FATAL_UNEXPECTED_MESSAGE,
        ),
    ];
    for (what, bytes, alert) in cases {
        let (mut p, ct, _) = against_our_client();
        p.app(b"x");
        p.handshake_record(&bytes);
        expect_fatal_end(&mut p, ct, alert, what);
    }
}

#[test]
fn after_our_close_notify_a_hello_request_gets_no_answer() {
    // We said we send nothing more (RFC 5246 7.2.1), so not even the refusal; reading goes on.
    let (c_io, s_io) = pipe();
    let ct = thread::spawn(move || -> Result<Vec<u8>, Error> {
        let mut c = TlsStream::connect(c_io, Arc::new(client_config(304)), "localhost", 443)?;
        c.close()?;
        let mut all = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = c.read_data(&mut buf)?;
            if n == 0 {
                return Ok(all);
            }
            all.extend_from_slice(&buf[..n]);
        }
    });
    let mut s = Conn::new(s_io, Side::Server, None);
    server::handshake(&mut s, &server_config(305)).unwrap();
    let mut p = Peer(s);
    p.expect_alert(CLOSE_NOTIFY);
    p.handshake_record(&HELLO_REQUEST);
    p.app(b"late data");
    p.0.close().unwrap();
    assert_eq!(ct.join().unwrap().unwrap(), b"late data");
    // The client is gone without sending anything after its close_notify.
    assert!(read_record(&mut p.0.io).is_none());
}

// ---- A HelloRequest during the handshake is ignored by our client -----------------------------

/// Our server's transport, slipping a plaintext record `inject` in before each of its
/// handshake and ChangeCipherSpec records until (and including) its ChangeCipherSpec; after
/// that its records are encrypted and pass untouched.
struct Injector {
    inner: End,
    inject: Vec<u8>,
    injected: usize,
    encrypted: bool,
}

impl Read for Injector {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(b)
    }
}

impl Write for Injector {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        // The record layer writes whole records with one write_all, several at once where a
        // flight ends (NewSessionTicket, ChangeCipherSpec and Finished together): each
        // plaintext record is slipped in front of separately.
        let mut rest = b;
        while !rest.is_empty() {
            let len = match rest {
                [_, _, _, hi, lo, ..] => 5 + u16::from_be_bytes([*hi, *lo]) as usize,
                _ => rest.len(),
            };
            let (record, tail) = rest.split_at(len.min(rest.len()));
            if !self.encrypted && matches!(record.first(), Some(20 | 22)) {
                let _ = self.inner.write_all(&self.inject);
                self.injected += 1;
                self.encrypted = record[0] == 20;
            }
            // Like a kernel socket buffer, accept the write even if the client has already
            // gone (it may refuse the first injected record before our flight is written): the
            // server then reads the client's alert rather than failing on a broken pipe.
            let _ = self.inner.write_all(record);
            rest = tail;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The client's result (the echo of "ping"), its trace notes, the server's result and how many
/// records were slipped in.
type Injected = (Result<Vec<u8>, Error>, Vec<Note>, Result<(), Error>, usize);

/// Our client against our server whose plaintext records are each preceded by `inject`.
fn handshake_with_injected(inject: Vec<u8>) -> Injected {
    let (c_io, s_io) = pipe();
    let st = thread::spawn(move || {
        let io = Injector {
            inner: s_io,
            inject,
            injected: 0,
            encrypted: false,
        };
        let r = (|| {
            let mut s = TlsStream::accept(io, Arc::new(server_config(306)))?;
            let mut buf = [0u8; 4];
            let n = s.read_data(&mut buf)?;
            s.write_data(&buf[..n])?;
            s.close()?;
            Ok(s)
        })();
        match r {
            Ok(s) => (Ok(()), s.get_ref().injected),
            Err(e) => (Err(e), 0),
        }
    });
    let log = TraceLog::new();
    let mut cfg = client_config(307);
    cfg.trace = Some(log.clone());
    let cr = (|| {
        let mut c = TlsStream::connect(c_io, Arc::new(cfg), "localhost", 443)?;
        c.write_data(b"ping")?;
        let mut got = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            let n = c.read_data(&mut buf)?;
            if n == 0 {
                return Ok(got);
            }
            got.extend_from_slice(&buf[..n]);
        }
    })();
    let notes = log
        .take()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::Note { note, .. } => Some(note),
            _ => None,
        })
        .collect();
    let (sr, injected) = st.join().unwrap();
    (cr, notes, sr, injected)
}

#[test]
fn hello_requests_during_the_handshake_are_ignored_by_our_client() {
    // One before the server's flight, one before its NewSessionTicket and one before its
    // ChangeCipherSpec; and then three in one record. The Finished checks pass, so none of them
    // entered the transcript.
    for (what, inject, per_record) in [
        ("one", vec![22, 3, 3, 0, 4, 0, 0, 0, 0], 1),
        (
            "three in one record",
            [&[22, 3, 3, 0, 12][..], &[0; 12]].concat(),
            3,
        ),
    ] {
        let (cr, notes, sr, injected) = handshake_with_injected(inject);
        assert_eq!(cr.unwrap(), b"ping", "{what}");
        sr.unwrap();
        assert_eq!(
            injected, 3,
            "{what}: before the flight, the NewSessionTicket and the ChangeCipherSpec"
        );
        let ignored = notes
            .iter()
            .filter(|n| matches!(n, Note::HelloRequestIgnored))
            .count();
        assert_eq!(ignored, injected * per_record, "{what}: {notes:#?}");
    }
}

#[test]
fn a_hello_request_with_a_body_during_the_handshake_is_decode_error() {
    let (cr, _, sr, _) = handshake_with_injected(vec![22, 3, 3, 0, 5, 0, 0, 0, 1, 0]);
    let e = cr.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert!(
        matches!(sr, Err(Error::PeerAlert(A::DecodeError))),
        "{sr:?}"
    );
}

#[test]
fn our_server_takes_no_hello_request_at_all() {
    // HelloRequest is a server's message: one reaching our server instead of a ClientHello is
    // unexpected_message (and, after the handshake, see above).
    let (c_io, s_io) = pipe();
    let st =
        thread::spawn(move || TlsStream::accept(s_io, Arc::new(server_config(308))).map(|_| ()));
    let mut c = c_io;
    c.write_all(&[22, 3, 3, 0, 4, 0, 0, 0, 0]).unwrap();
    let e = st.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(read_record(&mut c).unwrap(), [21, 3, 3, 0, 2, 2, 10]);
}
