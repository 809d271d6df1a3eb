//! ALPN (RFC 7301) between our own client and server in memory, and against scripted peers.
//! Each rule with its negative test:
//! - the server picks the first of its own protocols that the client offers (3.2), in a full
//!   and in a resumed handshake alike, and both streams report it;
//! - no protocol in common is fatal `no_application_protocol` (3.2), and the alert crosses the
//!   wire; a malformed ProtocolNameList is `decode_error` (3.1);
//! - a server with no protocols of its own, or a client that offers none, negotiates none;
//! - the client refuses an answer naming a protocol it did not offer (`illegal_parameter`), more
//!   than one protocol (`decode_error`, 3.1: "exactly one"), or ALPN it never offered
//!   (`unsupported_extension`).

mod common;

use common::*;
use std::sync::Arc;
use std::thread;
use toytls::Side;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::conn::Conn;
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::extensions::Extension;
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

fn protocols(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// One connection; each side's negotiated protocol (and whether it resumed), or its error.
type Side_ = Result<(Option<Vec<u8>>, bool), Error>;

fn connect(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) -> (Side_, Side_) {
    let (c_io, s_io) = pipe();
    let server = server.clone();
    let st = thread::spawn(move || -> Side_ {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 4];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        Ok((s.alpn_protocol().map(<[u8]>::to_vec), s.resumed()))
    });
    let c = (|| -> Side_ {
        let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443)?;
        c.write_data(b"ping")?;
        let mut buf = [0u8; 4];
        c.read_data(&mut buf)?;
        Ok((c.alpn_protocol().map(<[u8]>::to_vec), c.resumed()))
    })();
    (c, st.join().unwrap())
}

fn configs(client: &[&str], server: &[&str], seed: u64) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let mut c = client_config(seed);
    c.alpn_protocols = protocols(client);
    let mut s = server_config(seed + 1);
    s.alpn_protocols = protocols(server);
    (Arc::new(c), Arc::new(s))
}

#[test]
fn the_server_picks_http11_from_a_curl_like_offer_in_full_and_resumed_handshakes() {
    // curl offers h2 and http/1.1; a server speaking only HTTP/1.1 must pick it.
    let (client, server) = configs(&["h2", "http/1.1"], &["http/1.1"], 100);
    let (c, s) = connect(&client, &server);
    assert_eq!(c.unwrap(), (Some(b"http/1.1".to_vec()), false));
    assert_eq!(s.unwrap(), (Some(b"http/1.1".to_vec()), false));
    // ALPN is negotiated again in an abbreviated handshake.
    let (c, s) = connect(&client, &server);
    assert_eq!(c.unwrap(), (Some(b"http/1.1".to_vec()), true));
    assert_eq!(s.unwrap(), (Some(b"http/1.1".to_vec()), true));
}

#[test]
fn the_servers_preference_wins() {
    let (client, server) = configs(&["http/1.1", "h2"], &["h2", "http/1.1"], 110);
    let (c, s) = connect(&client, &server);
    assert_eq!(c.unwrap().0.as_deref(), Some(&b"h2"[..]));
    assert_eq!(s.unwrap().0.as_deref(), Some(&b"h2"[..]));
}

#[test]
fn no_protocol_in_common_is_no_application_protocol() {
    let (client, server) = configs(&["h2", "spdy/3"], &["http/1.1"], 120);
    let (c, s) = connect(&client, &server);
    let e = s.unwrap_err();
    assert!(matches!(e, Error::NoApplicationProtocol { .. }), "{e}");
    assert!(e.to_string().contains("h2, spdy/3"), "{e}");
    let e = c.unwrap_err();
    assert!(
        matches!(e, Error::PeerAlert(A::NoApplicationProtocol)),
        "the alert crossed the wire: {e}"
    );
}

#[test]
fn without_protocols_on_one_side_none_is_negotiated() {
    for (client, server) in [(&["h2"][..], &[][..]), (&[][..], &["http/1.1"][..])] {
        let (c, s) = configs(client, server, 130);
        let (c, s) = connect(&c, &s);
        assert_eq!(c.unwrap().0, None, "{client:?} / {server:?}");
        assert_eq!(s.unwrap().0, None, "{client:?} / {server:?}");
    }
}

/// A scripted client sends a ClientHello with `alpn` as its ALPN extension's data to our server
/// (speaking http/1.1); returns the first record the server answers with.
fn server_answer(alpn: &[u8]) -> Vec<u8> {
    let mut s = server_config(140);
    s.alpn_protocols = protocols(&["http/1.1"]);
    let (c, srv) = pipe();
    let st = thread::spawn(move || TlsStream::accept(srv, Arc::new(s)).map(|_| ()));
    let mut conn = Conn::new(c, Side::Client, None);
    let mut hs = Handshake::new(&mut conn);
    hs.send(HandshakeMessage::ClientHello(ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0x11; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: Some(vec![Extension {
            typ: 16,
            data: alpn.to_vec(),
        }]),
    }))
    .unwrap();
    hs.flush().unwrap();
    let r = read_record(&mut hs.conn.io).expect("an answer");
    drop(hs);
    drop(conn);
    let _ = st.join();
    r
}

#[test]
fn a_malformed_protocol_list_is_decode_error() {
    for bad in [
        &[0u8, 0][..],          // empty list
        &[0, 1, 0],             // an empty name
        &[0, 3, 2, b'h'],       // cut short
        &[0, 2, 1, b'h', 0xff], // a byte after the list
    ] {
        assert_eq!(
            server_answer(bad),
            [21, 3, 3, 0, 2, 2, A::DecodeError.to_u8()],
            "{bad:?}"
        );
    }
    // The same list well formed is answered with a ServerHello.
    let ok = Extension::alpn(&protocols(&["h2", "http/1.1"]));
    assert_eq!(server_answer(&ok.data)[0], 22);
}

fn answered(client_offers: &[&str], answer: Extension) -> (Error, Vec<u8>) {
    let mut client = client_config(150);
    client.alpn_protocols = protocols(client_offers);
    scripted_server_against(
        client,
        vec![HandshakeMessage::ServerHello(ServerHello {
            server_version: ProtocolVersion::TLS12,
            random: Random([3; 32]),
            session_id: SessionId::EMPTY,
            cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
            compression_method: COMPRESSION_NULL,
            extensions: Some(vec![answer]),
        })],
    )
}

#[test]
fn the_client_refuses_a_protocol_it_did_not_offer_or_more_than_one() {
    let alert = |a: A| vec![21, 3, 3, 0, 2, 2, a.to_u8()];
    let (e, got) = answered(&["h2"], Extension::alpn(&protocols(&["http/1.1"])));
    assert!(matches!(e, Error::IllegalParameter(_)), "{e}");
    assert_eq!(got, alert(A::IllegalParameter));

    let (e, got) = answered(
        &["h2", "http/1.1"],
        Extension::alpn(&protocols(&["h2", "http/1.1"])),
    );
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert_eq!(got, alert(A::DecodeError));

    let (e, got) = answered(&[], Extension::alpn(&protocols(&["h2"])));
    assert!(matches!(e, Error::UnsupportedExtension(16)), "{e}");
    assert_eq!(got, alert(A::UnsupportedExtension));
}

#[test]
fn a_bad_configured_list_is_refused_before_anything_is_sent() {
    let mut c = client_config(160);
    c.alpn_protocols = vec![Vec::new()];
    let (io, _peer) = pipe();
    let e = TlsStream::connect(io, Arc::new(c), "localhost", 443)
        .err()
        .expect("refused");
    assert!(matches!(e, Error::Internal(_)), "{e}");
}
