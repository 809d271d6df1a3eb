//! TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288) between our own client and server, in memory:
//! chosen only when configured (our peers prefer the toy suite), full and resumed handshakes with
//! data both ways, and a tampered GCM record refused with bad_record_mac on both sides.

mod common;

use common::*;
use std::io::{Read, Write};
use std::sync::Arc;
use std::thread;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::CipherSuite;
use toytls::wire::messages::{
    TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
};

/// A transport that flips one bit in the last byte of the `n`-th application data record it
/// writes (counting from 0), i.e. in the GCM tag.
struct Tamper {
    inner: End,
    app_records: usize,
    flip: Option<usize>,
}

impl Read for Tamper {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(b)
    }
}

impl Write for Tamper {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        // The record layer writes each record with one write_all, so `b` is a whole record.
        if b.first() == Some(&23) {
            let this = self.app_records;
            self.app_records += 1;
            if self.flip == Some(this) {
                let mut copy = b.to_vec();
                *copy.last_mut().unwrap() ^= 0x01;
                return self.inner.write(&copy);
            }
        }
        self.inner.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What the client saw: the echoed data, the suite, whether it resumed.
type ClientOutcome = Result<(Vec<u8>, CipherSuite, bool), Error>;

/// One connection: the client sends `data`, the server echoes it and closes. Returns what the
/// client read back, the suite, and whether each side resumed; or both sides' errors.
fn run(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    data: Vec<u8>,
    flip: Option<usize>,
) -> (ClientOutcome, Result<bool, Error>) {
    let (c_io, s_io) = pipe();
    let server = server.clone();
    let len = data.len();
    let st = thread::spawn(move || -> Result<bool, Error> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut got = vec![0u8; len];
        let mut at = 0;
        while at < len {
            let n = s.read_data(&mut got[at..])?;
            assert!(n > 0, "early close");
            at += n;
        }
        s.write_data(&got)?;
        s.close()?;
        // Wait for the client's close_notify before dropping the transport.
        assert_eq!(s.read_data(&mut got)?, 0);
        Ok(s.resumed())
    });
    let c = (|| -> ClientOutcome {
        let io = Tamper {
            inner: c_io,
            app_records: 0,
            flip,
        };
        let mut c = TlsStream::connect(io, client.clone(), "localhost", 443)?;
        c.write_data(&data)?;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 14];
        loop {
            let n = c.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        c.close()?;
        Ok((got, c.suite(), c.resumed()))
    })();
    (c, st.join().unwrap())
}

fn gcm_client(seed: u64) -> ClientConfig {
    let mut c = client_config(seed);
    c.suites = vec![TLS_RSA_WITH_AES_128_GCM_SHA256];
    c
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn our_peers_prefer_the_toy_suite_when_both_offer_both() {
    let (c, s) = run(
        &Arc::new(client_config(1)),
        &Arc::new(server_config(2)),
        data(10),
        None,
    );
    assert_eq!(c.unwrap().1, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256);
    assert!(!s.unwrap());
}

#[test]
fn gcm_full_then_resumed_with_data_both_ways() {
    let client = Arc::new(gcm_client(3));
    let server = Arc::new(server_config(4));
    // Over several full records and a remainder: 40000 bytes = 2 full records + 7232.
    let sent = data(40_000);
    let (c, s) = run(&client, &server, sent.clone(), None);
    let (got, suite, resumed) = c.unwrap();
    assert_eq!(suite, TLS_RSA_WITH_AES_128_GCM_SHA256);
    assert!(!resumed && !s.unwrap());
    assert_eq!(got, sent);

    let (c, s) = run(&client, &server, sent.clone(), None);
    let (got, suite, resumed) = c.unwrap();
    assert_eq!(suite, TLS_RSA_WITH_AES_128_GCM_SHA256);
    assert!(resumed && s.unwrap(), "the second connection resumes");
    assert_eq!(got, sent);
}

#[test]
fn a_server_configured_for_gcm_first_picks_it() {
    let mut sc = server_config(5);
    sc.suites = vec![
        TLS_RSA_WITH_AES_128_GCM_SHA256,
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
    ];
    let (c, _) = run(&Arc::new(client_config(6)), &Arc::new(sc), data(5), None);
    assert_eq!(c.unwrap().1, TLS_RSA_WITH_AES_128_GCM_SHA256);
}

#[test]
fn a_tampered_gcm_record_is_bad_record_mac_on_both_sides() {
    let client = Arc::new(gcm_client(7));
    let server = Arc::new(server_config(8));
    // The first application data record the client sends has a flipped tag bit.
    let (c, s) = run(&client, &server, data(100), Some(0));
    let s = s.unwrap_err();
    assert!(matches!(s, Error::BadRecordMac), "{s}");
    let c = c.unwrap_err();
    assert!(matches!(c, Error::PeerAlert(A::BadRecordMac)), "{c}");
    // The failed session is not resumed.
    let (c, _) = run(&client, &server, data(10), None);
    assert!(!c.unwrap().2);
}

/// RFC 5246 7.4.1.3: a resumed ServerHello carries the session's own cipher suite. A session made
/// under one suite, offered again by a client that now also offers the other, resumes under its
/// own suite even when the server prefers the other, in both orders (a master secret is never
/// reused under another suite).
#[test]
fn a_session_resumes_under_its_own_suite_whatever_the_server_prefers() {
    let (toy, gcm) = (
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        TLS_RSA_WITH_AES_128_GCM_SHA256,
    );
    for (seed, made_under, preferred) in [(20, gcm, toy), (22, toy, gcm)] {
        let mut cc = client_config(seed);
        cc.suites = vec![made_under];
        let mut client = Arc::new(cc);
        let mut sc = server_config(seed + 1);
        sc.suites = vec![preferred, made_under];
        let server = Arc::new(sc);
        let (c, s) = run(&client, &server, data(5), None);
        let (_, suite, resumed) = c.unwrap();
        assert_eq!(suite, made_under);
        assert!(!resumed && !s.unwrap());

        Arc::get_mut(&mut client).unwrap().suites = vec![preferred, made_under];
        let (c, s) = run(&client, &server, data(5), None);
        let (got, suite, resumed) = c.unwrap();
        assert!(resumed && s.unwrap(), "{made_under:?}: resumed");
        assert_eq!(suite, made_under, "resumed under the session's suite");
        assert_eq!(got, data(5));
    }
}

/// A session is resumed only under a suite both sides still have: when the client no longer
/// offers it, or the server no longer speaks it, the hello gets a full handshake (and a new
/// session, which then resumes).
#[test]
fn a_session_whose_suite_is_no_longer_on_offer_gets_a_full_handshake() {
    let (toy, gcm) = (
        TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        TLS_RSA_WITH_AES_128_GCM_SHA256,
    );
    // The client drops the session's suite.
    let mut client = Arc::new(gcm_client(24));
    let server = Arc::new(server_config(25));
    assert_eq!(run(&client, &server, data(5), None).0.unwrap().1, gcm);
    Arc::get_mut(&mut client).unwrap().suites = vec![toy];
    let (c, s) = run(&client, &server, data(5), None);
    let (_, suite, resumed) = c.unwrap();
    assert!(!resumed && !s.unwrap());
    assert_eq!(suite, toy);
    assert!(run(&client, &server, data(5), None).0.unwrap().2);

    // The server drops it (its cache still holds the session).
    let mut cc = client_config(26);
    cc.suites = vec![gcm, toy];
    let client = Arc::new(cc);
    let mut server = Arc::new(server_config(27));
    Arc::get_mut(&mut server).unwrap().suites = vec![gcm];
    assert_eq!(run(&client, &server, data(5), None).0.unwrap().1, gcm);
    Arc::get_mut(&mut server).unwrap().suites = vec![toy];
    let (c, s) = run(&client, &server, data(5), None);
    let (_, suite, resumed) = c.unwrap();
    assert!(!resumed && !s.unwrap());
    assert_eq!(suite, toy);
}
