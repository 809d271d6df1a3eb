//! The largest ClientHello (`spec/limits.md`): a server takes any ClientHello the wire format
//! allows, up to 131,396 bytes, as OpenSSL does; every other handshake message keeps the 64 KiB
//! limit, and buffering still follows the bytes that arrived, never a declared length.
//!
//! 131,396 is the structural maximum of a ClientHello (RFC 5246 7.4.1.2): version 2, random 32,
//! session_id 1 + 32, cipher_suites 2 + 65,534, compression_methods 1 + 255, extensions
//! 2 + 65,535. Clients do send large ones: tlsfuzzer pads hellos to 64 KiB and fills them with
//! 16,383 extensions, and post-quantum key shares make real hellos grow.

mod common;

use common::*;
use std::io::Write;
use std::sync::Arc;
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::messages::extensions::Extension;
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

/// The largest ClientHello body the wire format allows.
const MAX_CLIENT_HELLO: usize = 131_396;

/// TLS_RSA_WITH_AES_128_GCM_SHA256, which our server offers.
const GCM: u16 = 0x009c;

/// The largest possible ClientHello: a 32-byte session ID nobody knows, 32,767 suites (GCM among
/// them), 255 compression methods (null among them), and one extension of 65,531 bytes filling
/// the 65,535-byte extensions block.
fn largest_hello() -> ClientHello {
    let mut suites: Vec<CipherSuite> = (0x1000..0x1000 + 32_766).map(CipherSuite).collect();
    suites.push(CipherSuite(GCM));
    let mut compression: Vec<u8> = (1..=254).collect();
    compression.push(COMPRESSION_NULL);
    ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0x42; 32]),
        session_id: SessionId::new(&[0x99; 32]).unwrap(),
        cipher_suites: suites,
        compression_methods: compression,
        extensions: Some(vec![Extension {
            typ: 21, // padding (RFC 7685)
            data: vec![0; 65_531],
        }]),
    }
}

/// Sends `bytes` to our server; returns the first record it answers with and its handshake
/// result.
fn server_answers(bytes: Vec<u8>) -> (Vec<u8>, Result<(), Error>) {
    let (mut c, s) = pipe();
    let st =
        std::thread::spawn(move || TlsStream::accept(s, Arc::new(server_config(21))).map(|_| ()));
    c.write_all(&bytes).unwrap();
    let first = read_record(&mut c).expect("the server answered nothing");
    // Let the server's handshake end: it waits for a ClientKeyExchange that never comes.
    drop(c);
    (first, st.join().unwrap())
}

#[test]
fn the_largest_client_hello_is_answered_with_a_server_hello() {
    let msg = HandshakeMessage::ClientHello(largest_hello())
        .to_bytes()
        .unwrap();
    assert_eq!(msg.len(), 4 + MAX_CLIENT_HELLO);
    let (first, _) = server_answers(handshake_records(&msg));
    // A handshake record whose first message is a ServerHello (type 2).
    assert_eq!(first[0], 22, "{:?}", &first[..first.len().min(7)]);
    assert_eq!(first[5], 2, "{:?}", &first[..first.len().min(7)]);
}

#[test]
fn a_client_hello_declaring_more_is_refused_from_its_header() {
    // Only the header arrives, claiming one byte more than any ClientHello can have.
    let len = (MAX_CLIENT_HELLO as u32 + 1).to_be_bytes();
    let (first, result) = server_answers(handshake_records(&[1, len[1], len[2], len[3]]));
    assert_eq!(first, [21, 3, 3, 0, 2, 2, 50], "fatal decode_error");
    assert!(matches!(result, Err(Error::Decode { .. })), "{result:?}");
}

#[test]
fn a_client_hello_just_over_64_kib_is_not_refused_for_its_size() {
    // tlsfuzzer's test-large-hello: one suite and a padding extension making the body 65,578
    // bytes, past the 64 KiB every other message is held to.
    let mut ch = largest_hello();
    ch.cipher_suites = vec![CipherSuite(GCM)];
    ch.compression_methods = vec![COMPRESSION_NULL];
    ch.session_id = SessionId::EMPTY;
    let msg = HandshakeMessage::ClientHello(ch).to_bytes().unwrap();
    assert!(msg.len() - 4 > 1 << 16, "{}", msg.len());
    let (first, _) = server_answers(handshake_records(&msg));
    assert_eq!((first[0], first[5]), (22, 2), "a ServerHello");
}

#[test]
fn other_messages_keep_the_64_kib_limit() {
    // Our client gets a ServerHello, then the header of a Certificate claiming 64 KiB + 1:
    // refused from the header alone.
    let (mut s, c) = pipe();
    let ct = std::thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client_config(22)), "localhost", 443).map(|_| ())
    });
    let _hello = read_record(&mut s).unwrap();
    let mut flight = HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suite: CipherSuite(GCM),
        compression_method: COMPRESSION_NULL,
        extensions: None,
    })
    .to_bytes()
    .unwrap();
    let len = ((1u32 << 16) + 1).to_be_bytes();
    flight.extend_from_slice(&[11, len[1], len[2], len[3]]);
    s.write_all(&handshake_records(&flight)).unwrap();
    let alert = read_alert_record(&mut s);
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 50], "fatal decode_error");
    let result = ct.join().unwrap();
    assert!(matches!(result, Err(Error::Decode { .. })), "{result:?}");
}
