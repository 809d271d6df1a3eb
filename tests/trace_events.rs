//! The trace tells a whole connection well enough for a reader to check it, under both suites and
//! in a full and a resumed handshake: every secret is made again from the ones before it by the
//! derivation its event names (the PRF's secret, label and seed; the key block's ranges; the
//! transcript hash), the seeds are the randoms of the hellos in the order RFC 5246 gives, and
//! every protected record lies where its layout says and opens again, with the keys the trace
//! gave, to the plaintext the trace reports.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::thread;
use toytls::Side;
use toytls::crypto::prf::prf_sha256;
use toytls::record::suite::{DirectionKeys, RecordProtection, lookup};
use toytls::record::{ContentType, RecordHeader};
use toytls::stream::TlsStream;
use toytls::trace::{Derivation, Dir, KeyPart, Secret, TraceEvent, TraceLog};
use toytls::wire::messages::{
    CipherSuite, HandshakeType, TLS_RSA_WITH_AES_128_GCM_SHA256,
    TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
};

/// Two connections under `suite`, a full then a resumed handshake, each with data both ways;
/// the client's trace of each.
fn two_connections(suite: CipherSuite, seed: u64) -> Vec<Vec<TraceEvent>> {
    let log = TraceLog::new();
    let mut cc = client_config(seed);
    cc.suites = vec![suite];
    cc.trace = Some(log.clone());
    let client = Arc::new(cc);
    let server = Arc::new(server_config(seed + 1));
    let mut traces = Vec::new();
    for round in 0..2 {
        let (c_io, s_io) = pipe();
        let srv = server.clone();
        let st = thread::spawn(move || {
            let mut s = TlsStream::accept(s_io, srv).unwrap();
            let mut buf = [0u8; 64];
            let n = s.read_data(&mut buf).unwrap();
            s.write_data(&buf[..n]).unwrap();
            s.close().unwrap();
            assert_eq!(s.read_data(&mut buf).unwrap(), 0);
        });
        let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443).unwrap();
        assert_eq!(c.resumed(), round == 1);
        c.write_data(b"trace me").unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(c.read_data(&mut buf).unwrap(), 8);
        assert_eq!(c.read_data(&mut buf).unwrap(), 0);
        c.close().unwrap();
        st.join().unwrap();
        traces.push(log.take());
    }
    traces
}

/// The 32-byte random of the hello `which` in `events` (bytes 6..38 of the message: the 4-byte
/// header, then the 2-byte version).
fn random_of(events: &[TraceEvent], which: HandshakeType) -> Vec<u8> {
    events
        .iter()
        .find_map(|e| match e {
            TraceEvent::Handshake { message, raw, .. } if *message == which => {
                Some(raw[6..38].to_vec())
            }
            _ => None,
        })
        .expect("both hellos are in the trace")
}

#[test]
fn every_secret_is_made_again_from_its_derivation() {
    for suite in [
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        TLS_RSA_WITH_AES_128_GCM_SHA256,
    ] {
        // Values carry over: the resumed connection's keys come from the first one's master
        // secret, which its own trace does not repeat.
        let mut known: HashMap<Secret, Vec<u8>> = HashMap::new();
        let mut checked = HashMap::new();
        for events in two_connections(suite, 40) {
            let cr = random_of(&events, HandshakeType::ClientHello);
            let sr = random_of(&events, HandshakeType::ServerHello);
            let mut transcript = Sha256::new();
            for e in &events {
                match e {
                    TraceEvent::Handshake { raw, .. } => transcript.update(raw),
                    TraceEvent::Secret {
                        side,
                        secret,
                        value,
                        derivation,
                    } => {
                        assert_eq!(*side, Side::Client);
                        match derivation {
                            Derivation::Chosen => {
                                assert_eq!(*secret, Secret::PreMaster);
                                assert_eq!((value.len(), &value[..2]), (48, &[3u8, 3][..]));
                            }
                            Derivation::TranscriptHash => {
                                let h: [u8; 32] = transcript.clone().finalize().into();
                                assert_eq!(value[..], h, "{secret}");
                            }
                            Derivation::Prf {
                                secret: from,
                                label,
                                seed,
                            } => {
                                let input = known.get(from).unwrap_or_else(|| {
                                    panic!("{secret}: made from {from}, not yet in the trace")
                                });
                                let mut out = vec![0u8; value.len()];
                                prf_sha256(input, label.as_bytes(), seed, &mut out);
                                assert_eq!(&out, value, "{secret} = PRF({from}, {label:?}, ..)");
                                // RFC 5246 8.1 and 6.3: the randoms, in opposite orders.
                                match *label {
                                    "master secret" => assert_eq!(*seed, [&cr[..], &sr].concat()),
                                    "key expansion" => assert_eq!(*seed, [&sr[..], &cr].concat()),
                                    _ => {}
                                }
                            }
                            Derivation::KeyBlockPart(range) => {
                                assert_eq!(&known[&Secret::KeyBlock][range.clone()], &value[..]);
                            }
                            Derivation::Decrypted => panic!("the client decrypts nothing"),
                        }
                        *checked.entry(*secret).or_insert(0) += 1;
                        known.insert(*secret, value.clone());
                    }
                    _ => {}
                }
            }
        }
        // Pre-master, session hash and master once; key block, six keys and both verify_data
        // in each connection (the client's own, and none for the server's: it is checked, not
        // made, on the client).
        assert_eq!(checked[&Secret::Master], 1, "{suite:?}");
        assert_eq!(checked[&Secret::KeyBlock], 2);
        assert_eq!(checked[&Secret::VerifyData(Side::Client)], 2);
        let keys = checked
            .keys()
            .filter(|s| matches!(s, Secret::Key { .. }))
            .count();
        assert_eq!(keys, 6);
    }
}

/// The keys `writer` protects its records with, as the trace gave them.
fn keys_of(known: &HashMap<Secret, Vec<u8>>, writer: Side) -> DirectionKeys<'_> {
    let get = |part| known[&Secret::Key { writer, part }].as_slice();
    DirectionKeys {
        mac_key: get(KeyPart::MacKey),
        enc_key: get(KeyPart::EncKey),
        iv: get(KeyPart::Iv),
    }
}

#[test]
fn every_record_lies_where_its_layout_says_and_opens_again_with_the_traced_keys() {
    for suite in [
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        TLS_RSA_WITH_AES_128_GCM_SHA256,
    ] {
        let row = lookup(suite).unwrap();
        let mut known: HashMap<Secret, Vec<u8>> = HashMap::new();
        for events in two_connections(suite, 42) {
            let mut opened = 0;
            for e in &events {
                match e {
                    TraceEvent::Secret { secret, value, .. } => {
                        known.insert(*secret, value.clone());
                    }
                    TraceEvent::Record {
                        dir,
                        content_type,
                        suite: protected_by,
                        seq,
                        wire,
                        layout,
                        plaintext,
                        ..
                    } => {
                        // The parts tile the record: header, nonce, body, tag.
                        assert_eq!(layout.header, 0..5);
                        assert_eq!(layout.header.end, layout.explicit_nonce.start);
                        assert_eq!(layout.explicit_nonce.end, layout.body.start);
                        assert_eq!(layout.body.end, layout.tag.start);
                        assert_eq!(layout.tag.end, wire.len());
                        assert_eq!(wire[0], content_type.code());
                        assert_eq!(
                            u16::from_be_bytes([wire[3], wire[4]]) as usize,
                            wire.len() - 5
                        );
                        let plaintext = plaintext.as_ref().expect("every record opened");
                        let Some(s) = protected_by else {
                            assert_eq!(&wire[layout.body.clone()], &plaintext[..]);
                            assert!(seq.is_none() && layout.tag.is_empty());
                            continue;
                        };
                        assert_eq!(*s, suite);
                        assert_eq!(layout.explicit_nonce.len(), row.record_iv_len);
                        assert_eq!(layout.tag.len(), row.tag_len);
                        assert_eq!(layout.body.len(), plaintext.len());
                        // What the client sends is under the client's write keys, what it
                        // receives under the server's.
                        let writer = match dir {
                            Dir::Sent => Side::Client,
                            Dir::Received => Side::Server,
                        };
                        let mut p = RecordProtection::new(row, &keys_of(&known, writer)).unwrap();
                        let header = RecordHeader {
                            seq: seq.expect("protected records are numbered"),
                            content_type: wire[0],
                            version: [wire[1], wire[2]],
                        };
                        let mut fragment = wire[5..].to_vec();
                        let inner = p.open(&header, &mut fragment).unwrap();
                        assert_eq!(&fragment[inner], &plaintext[..]);
                        opened += 1;
                        if *content_type == ContentType::ApplicationData && *dir == Dir::Sent {
                            assert_eq!(plaintext, b"trace me");
                        }
                    }
                    _ => {}
                }
            }
            // Finished, application data and close_notify, each way.
            assert_eq!(opened, 6, "{suite:?}");
        }
    }
}
