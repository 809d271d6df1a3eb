//! Hello extensions, in memory (RFC 5246 7.4.1.4, RFC 5746, RFC 6066 3): what our server answers
//! to each kind of ClientHello, what it ignores and what it refuses, and what our client accepts
//! in a ServerHello. Each refusal is checked by the alert that crossed the wire and the error on
//! our side; each acceptance by a handshake that completes (or, for the client, goes on).
//!
//! The rules enforced, each with its negative test:
//! - server: a non-empty renegotiation_info in an initial handshake is `handshake_failure` (RFC
//!   5746 3.6); a repeated extension type is `illegal_parameter` (RFC 5246 7.4.1.4); a malformed
//!   server_name is `decode_error`, two host names `illegal_parameter` (RFC 6066 3); a malformed
//!   extensions block is `decode_error`.
//! - client: an extension it did not offer is `unsupported_extension`; a non-empty
//!   renegotiation_info is `handshake_failure` (RFC 5746 3.4); a non-empty server_name is
//!   `decode_error` (RFC 6066 3); a non-empty session_ticket is `decode_error` (RFC 5077 3.2);
//!   a repeated type is `illegal_parameter`.
//!
//! Session tickets and ALPN have their own files (`tickets.rs`, `alpn.rs`); here they appear only
//! as what our peers send and answer by default.

mod common;

use common::*;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use toytls::Side;
use toytls::conn::Conn;
use toytls::error::{Error, Reason};
use toytls::handshake::common::Handshake;
use toytls::handshake::keys::{self, PreMasterSecret};
use toytls::record::suite::{self, RecordProtection};
use toytls::stream::TlsStream;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::extensions::{
    self, Extension, RENEGOTIATION_INFO, SERVER_NAME, SIGNATURE_ALGORITHMS,
};
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

const SESSION_TICKET: u16 = 35;
const STATUS_REQUEST: u16 = 5;
const SUPPORTED_GROUPS: u16 = 10;
const EC_POINT_FORMATS: u16 = 11;
const PADDING: u16 = 21;

fn ext(typ: u16, data: &[u8]) -> Extension {
    Extension {
        typ,
        data: data.to_vec(),
    }
}

fn hello(suites: &[u16], extensions: Option<Vec<Extension>>) -> ClientHello {
    ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0x5a; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: suites.iter().map(|s| CipherSuite(*s)).collect(),
        compression_methods: vec![COMPRESSION_NULL],
        extensions,
    }
}

const TOY: u16 = TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256.0;
const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = TLS_EMPTY_RENEGOTIATION_INFO_SCSV.0;

/// The alert record `[level, description]` a fatal alert arrives as.
fn fatal(description: u8) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, 2, description]
}

// ---- Our server -------------------------------------------------------------------------------

/// Our real server on one end of a pipe: it echoes one read and returns the server name the
/// client asked for.
fn our_server() -> (Conn<End>, JoinHandle<Result<Option<String>, Error>>) {
    let (c, s) = pipe();
    let st = thread::spawn(move || {
        let mut s = TlsStream::accept(s, Arc::new(server_config(400)))?;
        let mut buf = [0u8; 64];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        Ok(s.server_name().map(String::from))
    });
    (Conn::new(c, Side::Client, None), st)
}

/// A scripted client sends `ch` and runs the whole full handshake by hand, then one echo of
/// application data. Returns the ServerHello and what the server saw as the server name.
fn full_handshake(ch: ClientHello) -> (ServerHello, Option<String>) {
    let (mut c, st) = our_server();
    let mut hs = Handshake::new(&mut c);
    hs.send(HandshakeMessage::ClientHello(ch.clone())).unwrap();
    hs.flush().unwrap();
    let sh: ServerHello = hs.read().unwrap();
    let _: CertificateMsg = hs.read().unwrap();
    let _: ServerHelloDone = hs.read().unwrap();
    let mut pms = [9u8; 48];
    pms[..2].copy_from_slice(&[3, 3]);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(401);
    let encrypted_pre_master = pki()
        .server_key
        .public_key()
        .encrypt_pkcs1v15(&mut rng, &pms)
        .unwrap();
    hs.send(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
        encrypted_pre_master,
    }))
    .unwrap();
    let ms = keys::master_secret(&PreMasterSecret(pms), &ch.random.0, &sh.random.0);
    let info = suite::lookup(sh.cipher_suite).unwrap();
    let kb = keys::key_block(&ms, info, &ch.random.0, &sh.random.0);
    let ours = RecordProtection::new(info, &kb.client_write()).unwrap();
    let theirs = RecordProtection::new(info, &kb.server_write()).unwrap();
    hs.conn.rec.prepare(theirs, ours);
    hs.send_change_cipher_spec().unwrap();
    let verify_data = keys::verify_data(&ms, Side::Client, &hs.transcript_hash());
    hs.send(HandshakeMessage::Finished(Finished { verify_data }))
        .unwrap();
    hs.flush().unwrap();
    if extensions::find(&sh.extensions, SESSION_TICKET).is_some() {
        // RFC 5077 3.3: the promised ticket comes before the server's ChangeCipherSpec.
        let _: NewSessionTicket = hs.read().unwrap();
    }
    hs.read_change_cipher_spec().unwrap();
    let expected = keys::verify_data(&ms, Side::Server, &hs.transcript_hash());
    let f: Finished = hs.read().unwrap();
    assert_eq!(f.verify_data, expected);
    c.write_app_data(b"ping").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(c.read_app_data(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"ping");
    (sh, st.join().unwrap().unwrap())
}

/// A scripted client sends `ch`; our server must refuse it. Returns the server's error and the
/// alert record that crossed the wire.
fn refused_by_server(ch: ClientHello) -> (Error, Vec<u8>) {
    let (mut c, st) = our_server();
    let mut hs = Handshake::new(&mut c);
    hs.send(HandshakeMessage::ClientHello(ch)).unwrap();
    hs.flush().unwrap();
    let e = st.join().unwrap().unwrap_err();
    (e, read_alert_record(&mut c.io))
}

fn only_empty_renegotiation_info(sh: &ServerHello) {
    assert_eq!(
        sh.extensions,
        Some(vec![Extension::empty_renegotiation_info()]),
        "the ServerHello carries exactly one extension, renegotiation_info, empty"
    );
}

#[test]
fn the_scsv_alone_gets_an_empty_renegotiation_info() {
    // RFC 5746 3.6: the SCSV sets secure_renegotiation as the extension would; the server's
    // answer is the same empty extension, although the client sent no extensions at all (the
    // one unsolicited extension RFC 5746 allows).
    let (sh, _) = full_handshake(hello(&[TOY, EMPTY_RENEGOTIATION_INFO_SCSV], None));
    only_empty_renegotiation_info(&sh);
}

#[test]
fn the_empty_extension_gets_an_empty_renegotiation_info() {
    let exts = vec![Extension::empty_renegotiation_info()];
    let (sh, _) = full_handshake(hello(&[TOY], Some(exts)));
    only_empty_renegotiation_info(&sh);
}

#[test]
fn neither_scsv_nor_extension_gets_no_extensions() {
    // RFC 5246 7.4.1.4: no unsolicited extensions; a legacy client gets a hello without any.
    let (sh, _) = full_handshake(hello(&[TOY], None));
    assert_eq!(sh.extensions, None);
    let (sh, _) = full_handshake(hello(&[TOY], Some(vec![])));
    assert_eq!(sh.extensions, None);
}

#[test]
fn a_non_empty_renegotiation_info_in_an_initial_handshake_is_handshake_failure() {
    // RFC 5746 3.6: renegotiated_connection must be empty in an initial handshake; twelve bytes
    // of verify_data mean the client thinks it renegotiates a connection we never had.
    let mut data = vec![12u8];
    data.extend_from_slice(&[0x77; 12]);
    for (what, exts, suites) in [
        (
            "verify_data",
            vec![ext(RENEGOTIATION_INFO, &data)],
            vec![TOY],
        ),
        (
            "with the SCSV too",
            vec![ext(RENEGOTIATION_INFO, &data)],
            vec![TOY, EMPTY_RENEGOTIATION_INFO_SCSV],
        ),
        // Not even a length byte.
        ("empty data", vec![ext(RENEGOTIATION_INFO, &[])], vec![TOY]),
    ] {
        let (e, alert) = refused_by_server(hello(&suites, Some(exts)));
        assert!(
            matches!(
                e,
                Error::HandshakeFailure(Reason::ClientRenegotiationInfoNotEmpty)
            ),
            "{what}: {e}"
        );
        assert_eq!(alert, fatal(40), "{what}");
    }
}

#[test]
fn the_server_reads_sni_and_shows_it_through_the_stream() {
    let (_, name) = full_handshake(hello(
        &[TOY],
        Some(vec![Extension::server_name("sni.example.test")]),
    ));
    assert_eq!(name.as_deref(), Some("sni.example.test"));
    let (_, name) = full_handshake(hello(&[TOY], None));
    assert_eq!(name, None);
    // A list holding only another name type (RFC 6066 3 defines only host_name) names no host.
    let (_, name) = full_handshake(hello(
        &[TOY],
        Some(vec![ext(SERVER_NAME, &[0, 4, 9, 0, 1, b'x'])]),
    ));
    assert_eq!(name, None);
}

#[test]
fn our_client_sends_sni_for_names_and_not_for_ip_addresses() {
    for (connect_to, want) in [("localhost", Some("localhost")), ("127.0.0.1", None)] {
        let (c_io, s_io) = pipe();
        let st = thread::spawn(move || {
            let s = TlsStream::accept(s_io, Arc::new(server_config(402))).unwrap();
            s.server_name().map(String::from)
        });
        let c = TlsStream::connect(c_io, Arc::new(client_config(403)), connect_to, 443).unwrap();
        drop(c);
        assert_eq!(st.join().unwrap().as_deref(), want, "{connect_to}");
    }
}

#[test]
fn malformed_server_names_are_refused() {
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("empty extension", vec![], 50),
        ("empty list", vec![0, 0], 50),
        ("empty host name", vec![0, 3, 0, 0, 0], 50),
        (
            "host name longer than the list",
            vec![0, 4, 0, 0, 9, b'a'],
            50,
        ),
        ("bytes after the list", vec![0, 4, 0, 0, 1, b'a', 0], 50),
        (
            "a byte that is not printable ASCII",
            vec![0, 4, 0, 0, 1, 0xc3],
            50,
        ),
        (
            "two host names",
            vec![0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b'],
            47,
        ),
    ];
    for (what, data, alert) in cases {
        let (e, got) = refused_by_server(hello(&[TOY], Some(vec![ext(SERVER_NAME, &data)])));
        assert_eq!(got, fatal(alert), "{what}: {e}");
        assert_eq!(e.alert().map(|a| a.to_u8()), Some(alert), "{what}: {e}");
    }
}

#[test]
fn extensions_that_do_not_apply_are_ignored() {
    // What real clients send that RSA key transport has no use for (RFC 5246 7.4.1.4: a server
    // ignores what it does not recognise or need). ALPN with no protocols of our own configured
    // is ignored too (RFC 7301 3.2 leaves it to the server).
    let exts = vec![
        ext(SIGNATURE_ALGORITHMS, &[0, 4, 4, 1, 8, 4]),
        Extension::alpn(&[b"h2".to_vec()]),
        ext(STATUS_REQUEST, &[1, 0, 0, 0, 0]),
        ext(EC_POINT_FORMATS, &[1, 0]),
        ext(SUPPORTED_GROUPS, &[0, 4, 0, 0x1d, 0, 0x17]),
        ext(PADDING, &[0; 16]),
        ext(0x7a7a, &[]),
        ext(0xabcd, &[1, 2, 3]),
        Extension::server_name("localhost"),
        Extension::empty_renegotiation_info(),
    ];
    let (sh, name) = full_handshake(hello(&[TOY], Some(exts)));
    only_empty_renegotiation_info(&sh);
    assert_eq!(name.as_deref(), Some("localhost"));
    // A ticket we never issued gets a full handshake, and the promise of a ticket of ours
    // (RFC 5077 3.1, 3.2): the empty session_ticket answer, then a NewSessionTicket.
    let exts = vec![ext(SESSION_TICKET, &[0xee; 40])];
    let (sh, _) = full_handshake(hello(&[TOY], Some(exts)));
    assert_eq!(sh.extensions, Some(vec![ext(SESSION_TICKET, &[])]));
}

#[test]
fn a_repeated_extension_type_is_illegal_parameter() {
    // RFC 5246 7.4.1.4: "There MUST NOT be more than one extension of the same type."
    for (what, exts) in [
        (
            "server_name twice",
            vec![
                Extension::server_name("localhost"),
                Extension::server_name("localhost"),
            ],
        ),
        (
            "renegotiation_info twice",
            vec![
                Extension::empty_renegotiation_info(),
                Extension::empty_renegotiation_info(),
            ],
        ),
        (
            "an unknown type twice, apart",
            vec![
                ext(0xabcd, &[]),
                ext(SESSION_TICKET, &[]),
                ext(0xabcd, &[1]),
            ],
        ),
    ] {
        let (e, alert) = refused_by_server(hello(&[TOY], Some(exts)));
        assert!(matches!(e, Error::IllegalParameter(_)), "{what}: {e}");
        assert_eq!(alert, fatal(47), "{what}");
    }
}

#[test]
fn a_malformed_extensions_block_is_decode_error() {
    // The hello's bytes end with the extensions block; re-cut its framing by hand.
    let mut base = Vec::new();
    let h = hello(&[TOY], None);
    let bytes = HandshakeMessage::ClientHello(h).to_bytes().unwrap();
    base.extend_from_slice(&bytes[4..]);
    for (what, block) in [
        (
            "block length longer than the bytes",
            vec![0, 9, 0xab, 0xcd, 0, 0],
        ),
        (
            "block length shorter than the bytes",
            vec![0, 2, 0xab, 0xcd, 0, 0],
        ),
        (
            "extension data longer than the block",
            vec![0, 4, 0xab, 0xcd, 0, 1],
        ),
        ("a lone byte", vec![0]),
        ("a type without a length", vec![0, 2, 0xab, 0xcd]),
    ] {
        let body = [&base[..], &block[..]].concat();
        let mut msg = vec![1u8];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        let (mut c, st) = our_server();
        let mut rec = vec![22u8, 3, 3];
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend_from_slice(&msg);
        std::io::Write::write_all(&mut c.io, &rec).unwrap();
        let e = st.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
        assert_eq!(read_record(&mut c.io).unwrap(), fatal(50), "{what}");
    }
}

// ---- Our client -------------------------------------------------------------------------------

/// Our real client against a scripted server that answers its ClientHello with a ServerHello
/// carrying `exts`, our certificate and ServerHelloDone. Returns the ClientHello our client sent,
/// and either `Ok` (it went on with its ClientKeyExchange: it accepted the ServerHello) or its
/// error and the alert record that crossed the wire.
fn client_facing(exts: Option<Vec<Extension>>) -> (ClientHello, Result<(), (Error, Vec<u8>)>) {
    let (c, s) = pipe();
    let ct = thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client_config(404)), "localhost", 443).map(|_| ())
    });
    let mut srv = Conn::new(s, Side::Server, None);
    let mut hs = Handshake::new(&mut srv);
    let ch: ClientHello = hs.read().unwrap();
    for m in [
        HandshakeMessage::ServerHello(ServerHello {
            server_version: ProtocolVersion::TLS12,
            random: Random([3; 32]),
            session_id: SessionId::EMPTY,
            cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
            compression_method: COMPRESSION_NULL,
            extensions: exts,
        }),
        HandshakeMessage::Certificate(CertificateMsg {
            chain: vec![pki().server.der().to_vec()],
        }),
        HandshakeMessage::ServerHelloDone(ServerHelloDone),
    ] {
        hs.send(m).unwrap();
    }
    hs.flush().unwrap();
    // The client's next record: its ClientKeyExchange if it accepted the ServerHello, else its
    // alert.
    let next = read_record(&mut srv.io).expect("a record from the client");
    if next[0] == 22 {
        assert_eq!(next[5], 16, "a ClientKeyExchange");
        drop(srv);
        // We stop here; the client sees the transport end (while reading or still writing).
        let r = ct.join().unwrap();
        assert!(matches!(r, Err(Error::Truncated | Error::Io(_))), "{r:?}");
        (ch, Ok(()))
    } else {
        (ch, Err((ct.join().unwrap().unwrap_err(), next)))
    }
}

#[test]
fn our_client_offers_sni_renegotiation_info_signature_algorithms_and_takes_tickets() {
    let (ch, r) = client_facing(Some(vec![Extension::empty_renegotiation_info()]));
    r.unwrap();
    let types: Vec<u16> = ch.extensions.iter().flatten().map(|e| e.typ).collect();
    assert!(types.contains(&SERVER_NAME), "{types:?}");
    assert!(types.contains(&RENEGOTIATION_INFO), "{types:?}");
    assert!(types.contains(&SIGNATURE_ALGORITHMS), "{types:?}");
    // RFC 5077 3.2: an empty session_ticket, "I take tickets and have none for you".
    let ticket = extensions::find(&ch.extensions, SESSION_TICKET).expect("session_ticket");
    assert!(ticket.data.is_empty(), "{ticket:?}");
    // No ALPN unless protocols are configured.
    assert!(!types.contains(&16), "{types:?}");
    assert_eq!(ch.server_name().unwrap().as_deref(), Some("localhost"));
}

#[test]
fn our_client_accepts_the_answers_it_asked_for() {
    // Nothing, an empty renegotiation_info, an empty server_name acknowledgement (RFC 6066 3).
    for exts in [
        None,
        Some(vec![]),
        Some(vec![Extension::empty_renegotiation_info()]),
        Some(vec![
            ext(SERVER_NAME, &[]),
            Extension::empty_renegotiation_info(),
        ]),
    ] {
        let (_, r) = client_facing(exts.clone());
        assert!(r.is_ok(), "{exts:?}: {:?}", r.err());
    }
}

#[test]
fn our_client_refuses_extensions_it_did_not_ask_for_or_cannot_accept() {
    let mut reneg = vec![24u8];
    reneg.extend_from_slice(&[1; 24]);
    let cases: Vec<(&str, Vec<Extension>, u8)> = vec![
        (
            "a non-empty session_ticket",
            vec![ext(SESSION_TICKET, &[1])],
            50,
        ),
        (
            "ALPN, never offered",
            vec![Extension::alpn(&[b"h2".to_vec()])],
            110,
        ),
        ("an unknown type", vec![ext(0xabcd, &[])], 110),
        ("status_request", vec![ext(STATUS_REQUEST, &[])], 110),
        (
            "a non-empty renegotiation_info",
            vec![ext(RENEGOTIATION_INFO, &reneg)],
            40,
        ),
        (
            "a server_name with data",
            vec![ext(SERVER_NAME, &[0, 0])],
            50,
        ),
        (
            "renegotiation_info twice",
            vec![
                Extension::empty_renegotiation_info(),
                Extension::empty_renegotiation_info(),
            ],
            47,
        ),
    ];
    for (what, exts, alert) in cases {
        let (_, r) = client_facing(Some(exts));
        let (e, got) = r.expect_err(what);
        assert_eq!(got, fatal(alert), "{what}: {e}");
        assert_eq!(e.alert().map(|a| a.to_u8()), Some(alert), "{what}: {e}");
    }
}
