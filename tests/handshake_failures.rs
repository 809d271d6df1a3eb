//! Every failure, seen from both sides, with the alert that crossed the wire: a man in the middle
//! that flips bits, replays, reorders and re-fragments records; peers scripted message by message
//! that send the wrong message at each point, a wrong Finished, a bad RSA padding, an oversized
//! record.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::thread;
use toytls::Side;
use toytls::conn::Conn;
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::handshake::keys::{self, PreMasterSecret};
use toytls::record::suite::{self, RecordProtection};
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

const PART1: &[u8] = b"first application record";
const PART2: &[u8] = b"second application record";

/// Client sends two application records, reads the echo until close_notify, then closes. The
/// server reads both, echoes them, closes, and waits for the client's close_notify.
fn session<T: Read + Write + Send + 'static>(
    c_io: T,
    s_io: T,
) -> (Result<Vec<u8>, Error>, Result<(), Error>) {
    let st = thread::spawn(move || -> Result<(), Error> {
        let mut s = TlsStream::accept(s_io, Arc::new(server_config(100)))?;
        let want = PART1.len() + PART2.len();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while got.len() < want {
            let n = s.read_data(&mut buf)?;
            if n == 0 {
                return Err(Error::Internal("client closed early".into()));
            }
            got.extend_from_slice(&buf[..n]);
        }
        s.write_data(&got)?;
        s.close()?;
        match s.read_data(&mut buf)? {
            0 => Ok(()),
            _ => Err(Error::Internal("data after close".into())),
        }
    });
    let client = (|| -> Result<Vec<u8>, Error> {
        let mut c = TlsStream::connect(c_io, Arc::new(client_config(101)), "localhost", 443)?;
        c.write_data(PART1)?;
        c.write_data(PART2)?;
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let n = c.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        c.close()?;
        Ok(got)
    })();
    (client, st.join().unwrap())
}

fn expected_echo() -> Vec<u8> {
    [PART1, PART2].concat()
}

#[test]
fn an_untouched_session_through_the_proxy_works() {
    let (c, s) = proxy(|_, _, r| Action::Forward(r));
    let (cr, sr) = session(c, s);
    assert_eq!(cr.unwrap(), expected_echo());
    sr.unwrap();
}

/// The error of the side that received a tampered record, and the other side's, must agree: the
/// receiver sent an alert, the sender got exactly that alert (or had already finished cleanly,
/// when the tampered record was the very last one).
fn check_both_sides(way: Way, what: &str, cr: Result<Vec<u8>, Error>, sr: Result<(), Error>) {
    let (receiver, sender): (Result<(), Error>, Result<(), Error>) = match way {
        Way::ToServer => (sr, cr.map(|d| assert_eq!(d, expected_echo()))),
        Way::ToClient => (cr.map(|_| ()), sr),
    };
    let e = receiver.expect_err(&format!("{what}: the receiver accepted a tampered record"));
    let alert = e
        .alert()
        .unwrap_or_else(|| panic!("{what}: no alert for {e}"));
    match sender {
        Ok(()) => {}
        Err(Error::PeerAlert(got)) => assert_eq!(got, alert, "{what}: {e}"),
        Err(other) => panic!("{what}: receiver sent {alert}, sender failed with {other}"),
    }
}

#[test]
fn a_flipped_bit_in_any_record_fails_closed_on_both_sides() {
    // Records each way in this session: to the server ClientHello, ClientKeyExchange, CCS,
    // Finished, two application records, close_notify; to the client one coalesced flight,
    // CCS, Finished, the echo, close_notify.
    for (way, records) in [(Way::ToServer, 7), (Way::ToClient, 5)] {
        for index in 0..records {
            // Bytes of the header that do not change framing (type, version), then fragment
            // bytes at the start, middle and end. (A changed length only re-frames the stream;
            // it is covered by the length tests of the record layer.)
            for pos in [0usize, 1, 2, 5, 6, usize::MAX / 2, usize::MAX] {
                // The record version of the first ClientHello is not authenticated by anything,
                // and a server MUST accept any {03,XX} there (RFC 5246 E.1).
                if way == Way::ToServer && index == 0 && (pos == 1 || pos == 2) {
                    continue;
                }
                // The last byte of the server's first flight is ServerHelloDone's length: changed,
                // the client waits for a body that never comes while the server waits for the
                // client. Only a handshake deadline ends that (issue 6), not an alert.
                if way == Way::ToClient && index == 0 && pos == usize::MAX {
                    continue;
                }
                let (c, s) = proxy(move |w, i, mut r| {
                    if w == way && i == index {
                        let at = match pos {
                            usize::MAX => r.len() - 1,
                            p if p == usize::MAX / 2 => 5 + (r.len() - 5) / 2,
                            p => p.min(r.len() - 1),
                        };
                        r[at] ^= 0x10;
                    }
                    Action::Forward(r)
                });
                let (cr, sr) = session(c, s);
                check_both_sides(way, &format!("{way:?} record {index} byte {pos}"), cr, sr);
            }
        }
    }
}

#[test]
fn replayed_and_reordered_records_are_bad_record_mac() {
    // Index 4 is the first application record to the server.
    let (c, s) = proxy(|w, i, r| {
        if w == Way::ToServer && i == 4 {
            Action::Many(vec![r.clone(), r])
        } else {
            Action::Forward(r)
        }
    });
    let (cr, sr) = session(c, s);
    assert!(matches!(sr, Err(Error::BadRecordMac)), "{sr:?}");
    assert!(
        matches!(cr, Err(Error::PeerAlert(A::BadRecordMac))),
        "{cr:?}"
    );

    let (c, s) = proxy(|w, i, r| {
        if w == Way::ToServer && i == 4 {
            Action::SwapWithNext(r)
        } else {
            Action::Forward(r)
        }
    });
    let (cr, sr) = session(c, s);
    assert!(matches!(sr, Err(Error::BadRecordMac)), "{sr:?}");
    assert!(
        matches!(cr, Err(Error::PeerAlert(A::BadRecordMac))),
        "{cr:?}"
    );
}

/// Re-frames every plaintext handshake record into fragments of `n` bytes.
fn refragment(r: Vec<u8>, n: usize) -> Action {
    if r[0] != 22 {
        return Action::Forward(r);
    }
    Action::Many(
        r[5..]
            .chunks(n)
            .map(|c| {
                let mut rec = vec![22, r[1], r[2]];
                rec.extend_from_slice(&(c.len() as u16).to_be_bytes());
                rec.extend_from_slice(c);
                rec
            })
            .collect(),
    )
}

#[test]
fn handshake_messages_split_over_many_records_are_reassembled() {
    // Before ChangeCipherSpec, handshake records are plaintext and can be re-cut freely (RFC 5246
    // 6.2.1). The server's coalesced flight (three messages in one record) is split too.
    let (c, s) = proxy(|w, i, r| match (w, i) {
        (Way::ToServer, 0 | 1) => refragment(r, 1),
        (Way::ToClient, 0) => refragment(r, 7),
        _ => Action::Forward(r),
    });
    let (cr, sr) = session(c, s);
    assert_eq!(cr.unwrap(), expected_echo());
    sr.unwrap();
}

#[test]
fn a_truncated_stream_is_reported_as_truncation() {
    // The proxy swallows the server's close_notify (its sixth record, after its first flight,
    // NewSessionTicket, ChangeCipherSpec, Finished and the echo), then the server closes the
    // transport: an attacker cutting the connection short.
    let (c, s) = proxy(|w, i, r| {
        if w == Way::ToClient && i >= 5 {
            Action::Many(vec![])
        } else {
            Action::Forward(r)
        }
    });
    let st = thread::spawn(move || {
        let mut srv = TlsStream::accept(s, Arc::new(server_config(102))).unwrap();
        let mut buf = [0u8; 256];
        let mut n = 0;
        while n < PART1.len() + PART2.len() {
            n += srv.read_data(&mut buf[n..]).unwrap();
        }
        srv.write_data(&buf[..n]).unwrap();
        srv.close().unwrap();
        // Dropping srv closes the transport; the proxy swallowed the close_notify.
    });
    let mut cl = TlsStream::connect(c, Arc::new(client_config(103)), "localhost", 443).unwrap();
    cl.write_data(PART1).unwrap();
    cl.write_data(PART2).unwrap();
    st.join().unwrap();
    let mut got = Vec::new();
    let e = cl.read_to_end(&mut got).unwrap_err();
    assert_eq!(got, expected_echo());
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
}

// ---- Scripted peers -------------------------------------------------------------------------

fn hello(random: u8) -> ClientHello {
    ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([random; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: None,
    }
}

/// Starts our real server on one end of a pipe; returns the other end as a scripted client's
/// connection, and the server's result.
fn against_server() -> (Conn<End>, thread::JoinHandle<Result<(), Error>>) {
    let (c, s) = pipe();
    let st = thread::spawn(move || TlsStream::accept(s, Arc::new(server_config(104))).map(|_| ()));
    (Conn::new(c, Side::Client, None), st)
}

#[test]
fn server_refuses_each_unexpected_first_message() {
    for (msg, name) in [
        (
            HandshakeMessage::Finished(Finished {
                verify_data: [0; 12],
            }),
            "Finished",
        ),
        (
            HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
                encrypted_pre_master: vec![1; 128],
            }),
            "ClientKeyExchange",
        ),
        (
            HandshakeMessage::ServerHelloDone(ServerHelloDone),
            "ServerHelloDone",
        ),
    ] {
        let (mut c, st) = against_server();
        let mut hs = Handshake::new(&mut c);
        hs.send(msg).unwrap();
        hs.flush().unwrap();
        let e = st.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::UnexpectedMessage { .. }), "{name}: {e}");
        let alert = read_alert_record(&mut c.io);
        assert_eq!(alert, [21, 3, 3, 0, 2, 2, 10], "{name}");
    }
}

#[test]
fn server_refuses_application_data_or_ccs_during_the_handshake() {
    for raw in [vec![23u8, 3, 3, 0, 1, 0x41], vec![20u8, 3, 3, 0, 1, 1]] {
        let (mut c, st) = against_server();
        c.io.write_all(&raw).unwrap();
        let e = st.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
        assert_eq!(read_alert_record(&mut c.io), [21, 3, 3, 0, 2, 2, 10]);
    }
}

#[test]
fn old_versions_oversized_records_and_missing_null_compression_are_refused() {
    // TLS 1.1 client: protocol_version.
    let (mut c, st) = against_server();
    let mut hs = Handshake::new(&mut c);
    let mut h = hello(1);
    h.client_version = ProtocolVersion(0x0302);
    hs.send(HandshakeMessage::ClientHello(h)).unwrap();
    hs.flush().unwrap();
    assert!(matches!(
        st.join().unwrap(),
        Err(Error::ProtocolVersion { offered: 0x0302 })
    ));
    assert_eq!(read_alert_record(&mut c.io), [21, 3, 3, 0, 2, 2, 70]);

    // No null compression: illegal_parameter.
    let (mut c, st) = against_server();
    let mut hs = Handshake::new(&mut c);
    let mut h = hello(1);
    h.compression_methods = vec![1];
    hs.send(HandshakeMessage::ClientHello(h)).unwrap();
    hs.flush().unwrap();
    assert!(matches!(
        st.join().unwrap(),
        Err(Error::IllegalParameter(_))
    ));
    assert_eq!(read_alert_record(&mut c.io), [21, 3, 3, 0, 2, 2, 47]);

    // A plaintext record of 2^14 + 1 bytes: record_overflow, refused from the header alone.
    let (mut c, st) = against_server();
    c.io.write_all(&[22, 3, 3, 0x40, 0x01]).unwrap();
    assert!(matches!(
        st.join().unwrap(),
        Err(Error::RecordOverflow { .. })
    ));
    assert_eq!(read_alert_record(&mut c.io), [21, 3, 3, 0, 2, 2, 22]);
}

/// A scripted client that runs the full handshake by hand, with hooks to break it.
struct Script {
    /// The pre-master secret's plaintext (normally version + 46 bytes).
    pms: [u8; 48],
    /// If set, the bytes sent instead of the RSA encryption of `pms`.
    raw_cke: Option<Vec<u8>>,
    /// Flip a bit of verify_data.
    wrong_finished: bool,
    /// Send Finished without ChangeCipherSpec first.
    skip_ccs: bool,
}

impl Script {
    fn new() -> Self {
        let mut pms = [7u8; 48];
        pms[0] = 3;
        pms[1] = 3;
        Script {
            pms,
            raw_cke: None,
            wrong_finished: false,
            skip_ccs: false,
        }
    }

    /// Runs it against our server; returns the server's error and the raw alert record the
    /// scripted client received.
    fn run(self) -> (Error, Vec<u8>) {
        let (mut c, st) = against_server();
        let mut hs = Handshake::new(&mut c);
        let ch = hello(9);
        hs.send(HandshakeMessage::ClientHello(ch.clone())).unwrap();
        hs.flush().unwrap();
        let sh: ServerHello = hs.read().unwrap();
        let _: CertificateMsg = hs.read().unwrap();
        let _: ServerHelloDone = hs.read().unwrap();
        let key = pki().server_key.public_key();
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5);
        let ct = self
            .raw_cke
            .clone()
            .unwrap_or_else(|| key.encrypt_pkcs1v15(&mut rng, &self.pms).unwrap());
        hs.send(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
            encrypted_pre_master: ct,
        }))
        .unwrap();
        let ms = keys::master_secret(&PreMasterSecret(self.pms), &ch.random.0, &sh.random.0);
        let info = suite::lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
        let kb = keys::key_block(&ms, info, &ch.random.0, &sh.random.0);
        let ours = RecordProtection::new(info, &kb.client_write()).unwrap();
        let theirs = RecordProtection::new(info, &kb.server_write()).unwrap();
        hs.conn.rec.prepare(theirs, ours);
        if self.skip_ccs {
            hs.flush().unwrap();
        } else {
            hs.send_change_cipher_spec().unwrap();
        }
        let mut vd = keys::verify_data(&ms, Side::Client, &hs.transcript_hash());
        if self.wrong_finished {
            vd[0] ^= 1;
        }
        hs.send(HandshakeMessage::Finished(Finished { verify_data: vd }))
            .unwrap();
        hs.flush().unwrap();
        let e = st.join().unwrap().unwrap_err();
        (e, read_alert_record(&mut c.io))
    }
}

#[test]
fn the_scripted_client_succeeds_when_nothing_is_broken() {
    // Sanity check of the script itself: the server accepts it and answers with its Finished.
    let (mut c, st) = against_server();
    let mut hs = Handshake::new(&mut c);
    let ch = hello(9);
    hs.send(HandshakeMessage::ClientHello(ch)).unwrap();
    hs.flush().unwrap();
    let _: ServerHello = hs.read().unwrap();
    drop(c);
    // Closing mid-handshake is a truncation on the server side, with no alert to send.
    assert!(matches!(st.join().unwrap(), Err(Error::Truncated)));
}

#[test]
fn a_wrong_finished_is_decrypt_error() {
    let (e, alert) = Script {
        wrong_finished: true,
        ..Script::new()
    }
    .run();
    assert!(matches!(e, Error::BadFinished), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 51]);
}

#[test]
fn finished_without_change_cipher_spec_is_unexpected() {
    let (e, alert) = Script {
        skip_ccs: true,
        ..Script::new()
    }
    .run();
    // The server waits for ChangeCipherSpec and gets a handshake record.
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 10]);
}

#[test]
fn bad_rsa_padding_wrong_version_and_wrong_length_look_the_same_on_the_wire() {
    // RFC 5246 7.4.7.1: whatever is wrong with the pre-master secret, the server continues with
    // a random one, so the client's Finished record fails to authenticate under the server's
    // keys: bad_record_mac, the same alert, the same bytes, as for any other wrong pre-master.
    let key = pki().server_key.public_key();
    let k = key.modulus_len();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(6);
    let mut wrong_version = Script::new();
    wrong_version.pms[1] = 2; // claims TLS 1.1 inside the encrypted secret
    let cases: Vec<(&str, Script)> = vec![
        (
            "random bytes (bad padding)",
            Script {
                raw_cke: Some(vec![0x42; k - 1].into_iter().chain([1]).collect()),
                ..Script::new()
            },
        ),
        ("wrong version in the secret", wrong_version),
        (
            "47-byte secret",
            Script {
                raw_cke: Some(key.encrypt_pkcs1v15(&mut rng, &[3u8; 47]).unwrap()),
                ..Script::new()
            },
        ),
        (
            "short ciphertext",
            Script {
                raw_cke: Some(vec![1; k - 1]),
                ..Script::new()
            },
        ),
    ];
    for (what, script) in cases {
        let (e, alert) = script.run();
        assert!(matches!(e, Error::BadRecordMac), "{what}: {e}");
        assert_eq!(alert, [21, 3, 3, 0, 2, 2, 20], "{what}");
    }
}

#[test]
fn client_refuses_unexpected_server_messages() {
    // A scripted server that answers the ClientHello with `flight`.
    let against_client = |flight| scripted_server_against(client_config(105), flight);
    let sh = |suite: u16, version: u16, comp: u8| {
        HandshakeMessage::ServerHello(ServerHello {
            server_version: ProtocolVersion(version),
            random: Random([1; 32]),
            session_id: SessionId::EMPTY,
            cipher_suite: CipherSuite(suite),
            compression_method: comp,
            extensions: None,
        })
    };
    let cert = HandshakeMessage::Certificate(CertificateMsg {
        chain: vec![pki().server.der().to_vec()],
    });
    let done = HandshakeMessage::ServerHelloDone(ServerHelloDone);

    // Certificate before ServerHello.
    let (e, a) = against_client(vec![cert.clone()]);
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 10]);
    // ServerHelloDone without Certificate.
    let (e, a) = against_client(vec![sh(0xff01, 0x0303, 0), done.clone()]);
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 10]);
    // Finished where ServerHelloDone belongs.
    let fin = HandshakeMessage::Finished(Finished {
        verify_data: [0; 12],
    });
    let (e, a) = against_client(vec![sh(0xff01, 0x0303, 0), cert.clone(), fin]);
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 10]);
    // A suite we did not offer.
    let (e, a) = against_client(vec![sh(0x002f, 0x0303, 0)]);
    assert!(matches!(e, Error::IllegalParameter(_)), "{e}");
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 47]);
    // TLS 1.1.
    let (e, a) = against_client(vec![sh(0xff01, 0x0302, 0)]);
    assert!(
        matches!(e, Error::ProtocolVersion { offered: 0x0302 }),
        "{e}"
    );
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 70]);
    // Compression.
    let (e, a) = against_client(vec![sh(0xff01, 0x0303, 1)]);
    assert!(matches!(e, Error::IllegalParameter(_)), "{e}");
    assert_eq!(a, [21, 3, 3, 0, 2, 2, 47]);
    // An empty certificate chain.
    let empty = HandshakeMessage::Certificate(CertificateMsg { chain: vec![] });
    let (e, _) = against_client(vec![sh(0xff01, 0x0303, 0), empty, done]);
    assert!(matches!(e, Error::Certificate { .. }), "{e}");
}
