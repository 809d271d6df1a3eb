//! The extended master secret (RFC 7627) between our own client and server, in memory: who sends
//! the extension when, which master secret each combination of settings gets, every resumption
//! rule of section 5.3 with the alert that crossed the wire, malformed extensions, and the master
//! secret itself recomputed here from the bytes on the wire with `sha2` and the PRF.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use toytls::Side;
use toytls::config::{ClientConfig, EmsMode, ServerConfig};
use toytls::conn::Conn;
use toytls::crypto::prf::prf_sha256;
use toytls::error::{Error, Reason};
use toytls::handshake::common::Handshake;
use toytls::handshake::keys::{self, MasterSecret};
use toytls::keylog::KeyLog;
use toytls::record::suite::{self, RecordProtection};
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::extensions::{EXTENDED_MASTER_SECRET, Extension};
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

/// Our server as `common::server_config` makes it, but resuming from its session cache only:
/// these are the RFC 7627 5.3 rules for session IDs (`tests/tickets.rs` has them for tickets).
fn server_config(seed: u64) -> ServerConfig {
    let mut s = common::server_config(seed);
    s.tickets = None;
    s
}

/// What one side saw of a connection that worked.
#[derive(Debug)]
struct Seen {
    resumed: bool,
    ems: bool,
    session_id: SessionId,
}

fn seen<T: Read + Write>(s: &TlsStream<T>) -> Seen {
    Seen {
        resumed: s.resumed(),
        ems: s.extended_master_secret(),
        session_id: s.session_id(),
    }
}

/// One connection to `localhost:443`: the client sends "ping", the server echoes it and closes.
fn run(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
) -> (Result<Seen, Error>, Result<Seen, Error>) {
    // Through a forwarding proxy, which (like a socket buffer) takes a peer's last writes even
    // after the other side has gone: the side that did not fail sees the alert, not a broken pipe.
    let (c_io, s_io) = proxy(|_, _, r| Action::Forward(r));
    let server = server.clone();
    let st = thread::spawn(move || -> Result<Seen, Error> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 16];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        s.close()?;
        assert_eq!(s.read_data(&mut buf)?, 0);
        Ok(seen(&s))
    });
    let ct = (|| -> Result<Seen, Error> {
        let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443)?;
        c.write_data(b"ping")?;
        let mut buf = [0u8; 16];
        let n = c.read_data(&mut buf)?;
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(c.read_data(&mut buf)?, 0);
        c.close()?;
        Ok(seen(&c))
    })();
    (ct, st.join().unwrap())
}

/// A key log kept in memory: (client random, master secret) per connection.
#[derive(Default)]
struct MemoryKeyLog(Mutex<Vec<([u8; 32], [u8; 48])>>);

impl KeyLog for MemoryKeyLog {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]) {
        self.0
            .lock()
            .unwrap()
            .push((*client_random, *master_secret));
    }
}

impl MemoryKeyLog {
    fn entries(&self) -> Vec<([u8; 32], [u8; 48])> {
        self.0.lock().unwrap().clone()
    }
}

fn client_with(seed: u64, mode: EmsMode) -> ClientConfig {
    let mut c = client_config(seed);
    c.extended_master_secret = mode;
    c
}

fn server_with(seed: u64, mode: EmsMode) -> ServerConfig {
    let mut s = server_config(seed);
    s.extended_master_secret = mode;
    s
}

#[test]
fn both_sides_use_it_by_default_and_resumption_keeps_it() {
    let ckl = Arc::new(MemoryKeyLog::default());
    let skl = Arc::new(MemoryKeyLog::default());
    let mut cc = client_config(1);
    cc.keylog = Some(ckl.clone());
    let mut sc = server_config(2);
    sc.keylog = Some(skl.clone());
    assert_eq!(cc.extended_master_secret, EmsMode::Enabled);
    assert_eq!(sc.extended_master_secret, EmsMode::Enabled);
    let (client, server) = (Arc::new(cc), Arc::new(sc));

    let (c, s) = run(&client, &server);
    let (c, s) = (c.unwrap(), s.unwrap());
    assert!(c.ems && s.ems, "client {c:?}, server {s:?}");
    assert!(!c.resumed && !s.resumed);
    assert!(
        client
            .sessions
            .get("localhost", 443)
            .unwrap()
            .extended_master_secret
    );

    let (c2, s2) = run(&client, &server);
    let (c2, s2) = (c2.unwrap(), s2.unwrap());
    assert!(c2.resumed && s2.resumed);
    assert!(c2.ems && s2.ems, "a resumed EMS session stays EMS");
    assert_eq!(c2.session_id, c.session_id);

    // Both sides logged the same master secrets, and resumption reused the first one.
    let (cl, sl) = (ckl.entries(), skl.entries());
    assert_eq!(cl, sl);
    assert_eq!(cl.len(), 2);
    assert_eq!(cl[0].1, cl[1].1);
    assert_ne!(cl[0].0, cl[1].0);
}

#[test]
fn a_client_with_ems_off_gets_the_rfc_5246_master_secret_and_may_resume_it() {
    let client = Arc::new(client_with(3, EmsMode::Off));
    let server = Arc::new(server_config(4));
    let (c, s) = run(&client, &server);
    let (c, s) = (c.unwrap(), s.unwrap());
    assert!(!c.ems && !s.ems);
    assert!(!c.resumed);
    // Neither the session nor the new hello has EMS: our server resumes (the legacy row of RFC
    // 7627 5.3, documented in server.rs).
    let (c, s) = run(&client, &server);
    let (c, s) = (c.unwrap(), s.unwrap());
    assert!(c.resumed && s.resumed);
    assert!(!c.ems && !s.ems);
}

#[test]
fn a_server_with_ems_off_is_accepted_but_its_session_is_not_offered_again() {
    let client = Arc::new(client_config(5));
    let server = Arc::new(server_with(6, EmsMode::Off));
    let (c, s) = run(&client, &server);
    let (c, s) = (c.unwrap(), s.unwrap());
    assert!(
        !c.ems && !s.ems,
        "the server did not echo: RFC 5246 master secret"
    );
    let stored = client.sessions.get("localhost", 443).unwrap();
    assert!(!stored.extended_master_secret);
    // RFC 7627 5.3: the client SHOULD NOT offer to resume a session without EMS. (The server,
    // with EMS off, would resume it if offered.)
    let (c2, s2) = run(&client, &server);
    let (c2, s2) = (c2.unwrap(), s2.unwrap());
    assert!(!c2.resumed && !s2.resumed);
    assert_ne!(c2.session_id, c.session_id);
}

/// `refuser` failed the handshake with `Error::HandshakeFailure(reason)` (whose message cites
/// `rule`, if given), and its peer got the handshake_failure alert.
fn refused(
    refuser: Result<Seen, Error>,
    peer: Result<Seen, Error>,
    reason: Reason,
    rule: Option<&str>,
) {
    let e = refuser.unwrap_err();
    assert!(
        matches!(e, Error::HandshakeFailure(r) if r == reason),
        "{reason:?}: {e}"
    );
    if let Some(rule) = rule {
        assert!(e.to_string().contains(rule), "{rule}: {e}");
    }
    assert!(
        matches!(peer, Err(Error::PeerAlert(A::HandshakeFailure))),
        "{peer:?}"
    );
}

#[test]
fn required_refuses_a_legacy_peer_with_handshake_failure() {
    // Our client requires it, the server does not do it.
    let (c, s) = run(
        &Arc::new(client_with(7, EmsMode::Required)),
        &Arc::new(server_with(8, EmsMode::Off)),
    );
    refused(
        c,
        s,
        Reason::ServerWithoutExtendedMasterSecret,
        Some("RFC 7627 5.2"),
    );

    // Our server requires it, the client does not offer it.
    let (c, s) = run(
        &Arc::new(client_with(9, EmsMode::Off)),
        &Arc::new(server_with(10, EmsMode::Required)),
    );
    refused(s, c, Reason::ClientWithoutExtendedMasterSecret, None);

    // Required on both sides, or against the default: works, with EMS.
    for (cm, sm) in [
        (EmsMode::Required, EmsMode::Required),
        (EmsMode::Required, EmsMode::Enabled),
        (EmsMode::Enabled, EmsMode::Required),
    ] {
        let (c, s) = run(
            &Arc::new(client_with(11, cm)),
            &Arc::new(server_with(12, sm)),
        );
        assert!(c.unwrap().ems && s.unwrap().ems, "{cm:?} / {sm:?}");
    }
}

#[test]
fn server_aborts_resuming_an_ems_session_offered_without_the_extension() {
    // RFC 7627 5.3: "If the original session used the extension but the new ClientHello does not
    // contain it, the server MUST abort the abbreviated handshake."
    let client = Arc::new(client_config(13));
    let server = Arc::new(server_config(14));
    run(&client, &server).0.unwrap();
    let mut session = client.sessions.get("localhost", 443).unwrap();
    assert!(session.extended_master_secret);
    // A client with EMS off offers that same session ID (it lost track of how the session was
    // made, or it is someone replaying the ID seen on the wire).
    let legacy = client_with(15, EmsMode::Off);
    session.extended_master_secret = false;
    legacy.sessions.insert("localhost", 443, session);
    let (c, s) = run(&Arc::new(legacy), &server);
    refused(
        s,
        c,
        Reason::SessionNeedsExtendedMasterSecret,
        Some("RFC 7627 5.3"),
    );
}

#[test]
fn server_runs_a_full_handshake_when_a_non_ems_session_is_offered_with_the_extension() {
    // RFC 7627 5.3: "If the original session did not use the extension but the new ClientHello
    // contains the extension, then the server MUST NOT perform the abbreviated handshake."
    let legacy = Arc::new(client_with(16, EmsMode::Off));
    let server = Arc::new(server_config(17));
    let (c, _) = run(&legacy, &server);
    let old = c.unwrap();
    assert!(!old.ems);
    // A client with EMS on that (wrongly) believes the session is an EMS one offers it with the
    // extension.
    let mut session = legacy.sessions.get("localhost", 443).unwrap();
    session.extended_master_secret = true;
    let modern = client_config(18);
    modern.sessions.insert("localhost", 443, session);
    let (c, s) = run(&Arc::new(modern), &server);
    let (c, s) = (c.unwrap(), s.unwrap());
    assert!(!c.resumed && !s.resumed, "must not resume");
    assert!(c.ems && s.ems, "the full handshake uses EMS");
    assert_ne!(c.session_id, old.session_id);
}

#[test]
fn client_aborts_when_the_server_resumes_an_ems_session_without_the_extension() {
    // RFC 7627 5.3: "If the original session used the extension but the new ServerHello does not
    // contain the extension, the client MUST abort the handshake."
    let client = Arc::new(client_config(19));
    let server = Arc::new(server_config(20));
    run(&client, &server).0.unwrap();
    let id = client.sessions.get("localhost", 443).unwrap().id;
    // A server (say, another machine of a farm sharing the session cache) that does not do EMS
    // and holds the session without knowing how it was made: it resumes without the extension.
    let stale = server_with(21, EmsMode::Off);
    let mut session = server
        .sessions
        .get(&id, toytls::clock::UnixTime(NOW))
        .unwrap();
    session.extended_master_secret = false;
    stale.sessions.insert(session);
    let (c, s) = run(&client, &Arc::new(stale));
    refused(
        c,
        s,
        Reason::ResumedWithOtherMasterSecret { session_ems: true },
        Some("RFC 7627 5.3"),
    );
    // The failed connection invalidates the session on our side (RFC 5246 7.2.2).
    assert!(client.sessions.get("localhost", 443).is_none());
}

// ---- Scripted peers -------------------------------------------------------------------------

fn server_hello(id: SessionId, ems: Option<Vec<u8>>) -> HandshakeMessage {
    HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([1; 32]),
        session_id: id,
        cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        compression_method: COMPRESSION_NULL,
        extensions: ems.map(|data| {
            vec![Extension {
                typ: EXTENDED_MASTER_SECRET,
                data,
            }]
        }),
    })
}

#[test]
fn client_refuses_an_ems_answer_it_did_not_ask_for() {
    // EMS off: the client does not offer it, so an echo is an unsolicited extension (RFC 5246
    // 7.4.1.4), in a full handshake ...
    let (e, alert) = scripted_server_against(
        client_with(22, EmsMode::Off),
        vec![server_hello(SessionId::EMPTY, Some(vec![]))],
    );
    assert!(matches!(e, Error::UnsupportedExtension(23)), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 110]);
    // ... and in a resumption of a session made without it (RFC 7627 5.3: "the original session
    // did not use the extension but the new ServerHello contains the extension": abort; the
    // unsolicited-extension rule comes first and chooses the alert).
    let legacy = client_with(23, EmsMode::Off);
    let id = SessionId::new(&[0x77; 32]).unwrap();
    legacy.sessions.insert(
        "localhost",
        443,
        toytls::handshake::session::Session {
            id,
            suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
            master_secret: MasterSecret([9; 48]),
            peer_chain: vec![],
            created: toytls::clock::UnixTime(NOW),
            server_name: Some("localhost".into()),
            valid_until: None,
            extended_master_secret: false,
            ticket: None,
        },
    );
    let (e, alert) = scripted_server_against(legacy, vec![server_hello(id, Some(vec![]))]);
    assert!(matches!(e, Error::UnsupportedExtension(23)), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 110]);
}

#[test]
fn a_non_empty_ems_extension_is_decode_error_on_both_sides() {
    // From the server, to our client.
    let (e, alert) = scripted_server_against(
        client_config(24),
        vec![server_hello(SessionId::EMPTY, Some(vec![0]))],
    );
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 50]);

    // From the client, to our server (whatever the server's mode).
    for mode in [EmsMode::Enabled, EmsMode::Off, EmsMode::Required] {
        let (c, s) = pipe();
        let sc = server_with(25, mode);
        let st = thread::spawn(move || TlsStream::accept(s, Arc::new(sc)).map(|_| ()));
        let mut cli = Conn::new(c, Side::Client, None);
        let mut hs = Handshake::new(&mut cli);
        let mut ch = hello(true);
        ch.extensions = Some(vec![Extension {
            typ: EXTENDED_MASTER_SECRET,
            data: vec![0, 0],
        }]);
        hs.send(HandshakeMessage::ClientHello(ch)).unwrap();
        hs.flush().unwrap();
        let e = st.join().unwrap().unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{mode:?}: {e}");
        assert_eq!(read_alert_record(&mut cli.io), [21, 3, 3, 0, 2, 2, 50]);
    }
}

fn hello(ems: bool) -> ClientHello {
    ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0xc1; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: ems.then(|| vec![Extension::extended_master_secret()]),
    }
}

/// A scripted client runs a whole handshake against our server, computing everything itself:
/// the session hash with `sha2` over the messages' bytes, the master secret with the PRF. Returns
/// the master secret the server logged and the one computed here.
fn scripted_master_secret(ems: bool) -> ([u8; 48], [u8; 48], [u8; 48]) {
    let log = Arc::new(MemoryKeyLog::default());
    let mut sc = server_config(26);
    sc.keylog = Some(log.clone());
    let (c, s) = pipe();
    let st = thread::spawn(move || TlsStream::accept(s, Arc::new(sc)).map(|s| seen(&s)));
    let mut cli = Conn::new(c, Side::Client, None);
    let mut hs = Handshake::new(&mut cli);
    let mut transcript = Sha256::new();

    let ch = hello(ems);
    let msg = HandshakeMessage::ClientHello(ch.clone());
    transcript.update(msg.to_bytes().unwrap());
    hs.send(msg).unwrap();
    hs.flush().unwrap();
    let sh: ServerHello = hs.read().unwrap();
    let echoed = sh
        .extensions
        .iter()
        .flatten()
        .any(|e| e.typ == EXTENDED_MASTER_SECRET && e.data.is_empty());
    assert_eq!(echoed, ems, "the server echoes EMS exactly when offered");
    let cert: CertificateMsg = hs.read().unwrap();
    let done: ServerHelloDone = hs.read().unwrap();
    for m in [
        HandshakeMessage::ServerHello(sh.clone()),
        HandshakeMessage::Certificate(cert),
        HandshakeMessage::ServerHelloDone(done),
    ] {
        transcript.update(m.to_bytes().unwrap());
    }
    let mut pms = [0x42u8; 48];
    pms[..2].copy_from_slice(&[3, 3]);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(27);
    let cke = HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
        encrypted_pre_master: pki()
            .server_key
            .public_key()
            .encrypt_pkcs1v15(&mut rng, &pms)
            .unwrap(),
    });
    transcript.update(cke.to_bytes().unwrap());
    hs.send(cke).unwrap();
    // RFC 7627 4: the session hash ends with ClientKeyExchange.
    let session_hash: [u8; 32] = transcript.finalize().into();
    let mut extended = [0u8; 48];
    prf_sha256(
        &pms,
        b"extended master secret",
        &session_hash,
        &mut extended,
    );
    let mut classic = [0u8; 48];
    let randoms = [ch.random.0, sh.random.0].concat();
    prf_sha256(&pms, b"master secret", &randoms, &mut classic);

    // Finish the handshake with the master secret the extension calls for: the server accepting
    // our Finished, and its Finished checking out, shows it derived the same one.
    let ms = MasterSecret(if ems { extended } else { classic });
    let info = suite::lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
    let kb = keys::key_block(&ms, info, &ch.random.0, &sh.random.0);
    let mine = RecordProtection::new(info, &kb.client_write());
    let theirs = RecordProtection::new(info, &kb.server_write());
    hs.conn.rec.prepare(theirs.unwrap(), mine.unwrap());
    hs.send_change_cipher_spec().unwrap();
    let vd = keys::verify_data(&ms, Side::Client, &hs.transcript_hash());
    hs.send(HandshakeMessage::Finished(Finished { verify_data: vd }))
        .unwrap();
    hs.flush().unwrap();
    hs.read_change_cipher_spec().unwrap();
    let expected = keys::verify_data(&ms, Side::Server, &hs.transcript_hash());
    let f: Finished = hs.read().unwrap();
    assert_eq!(f.verify_data, expected);
    let s = st.join().unwrap().unwrap();
    assert_eq!(s.ems, ems);

    let logged = log.entries();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].0, ch.random.0);
    (logged[0].1, extended, classic)
}

#[test]
fn the_master_secret_is_the_prf_over_the_session_hash() {
    let (logged, extended, classic) = scripted_master_secret(true);
    assert_eq!(logged, extended);
    assert_ne!(logged, classic);
}

#[test]
fn without_the_extension_the_master_secret_is_the_rfc_5246_one() {
    let (logged, extended, classic) = scripted_master_secret(false);
    assert_eq!(logged, classic);
    assert_ne!(logged, extended);
}
