//! Session tickets (RFC 5077) between our own client and server, in memory, and against scripted
//! peers. Each rule with its negative test:
//! - a full handshake issues a ticket (empty session ID, nothing cached: the session lives in the
//!   ticket), and a later connection resumes from it, at this server or at another one holding
//!   the same keys (stateless, 3.1);
//! - keys rotate: a ticket sealed under the previous key still resumes and is renewed under the
//!   current one (NewSessionTicket before ChangeCipherSpec, 3.1), until the old key's last ticket
//!   has expired; then, like a ticket past its lifetime, an unknown key's ticket or a tampered
//!   one, it gets a full handshake and a fresh ticket, never an alert;
//! - RFC 7627 5.3 applies to tickets as to session IDs: an EMS ticket without the extension is
//!   `handshake_failure`, a non-EMS ticket with it gets a full handshake;
//! - the client stores the ticket with its lifetime hint and stops presenting it when the hint
//!   has run out; a server without tickets still resumes by session ID; `session_tickets: false`
//!   offers none; a NewSessionTicket the ServerHello did not promise is `unexpected_message`, and
//!   so is a ChangeCipherSpec where a promised one belongs; a promised NewSessionTicket that is
//!   empty ("the server [...] MAY send a zero-length ticket", 3.3) is accepted, and nothing is
//!   stored or presented for it;
//! - RFC 6066 3: a ticket presented under another server name than the one it was issued for
//!   gets a full handshake (the name is sealed in the ticket; `tests/session_rules.rs` has the
//!   same rule for session IDs).

mod common;

use common::*;
use std::sync::Arc;
use std::thread;
use toytls::Side;
use toytls::clock::UnixTime;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::conn::Conn;
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::handshake::keys::MasterSecret;
use toytls::handshake::session::Session;
use toytls::handshake::ticket::TicketKeys;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription as A;
use toytls::wire::messages::extensions::{self, Extension, SESSION_TICKET};
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

/// What one connection agreed on, as each side saw it.
#[derive(Debug)]
struct Seen {
    resumed: bool,
    with_ticket: bool,
    session_id: SessionId,
}

fn seen<T: std::io::Read + std::io::Write>(s: &TlsStream<T>) -> Seen {
    Seen {
        resumed: s.resumed(),
        with_ticket: s.resumed_with_ticket(),
        session_id: s.session_id(),
    }
}

/// One connection between `client` and `server`, one ping echoed; both sides' views.
fn connect(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) -> (Seen, Seen) {
    let (c_io, s_io) = pipe();
    let server = server.clone();
    let st = thread::spawn(move || -> Result<Seen, Error> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 4];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])?;
        Ok(seen(&s))
    });
    let mut c = TlsStream::connect(c_io, client.clone(), "localhost", 443).expect("client");
    c.write_data(b"ping").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(c.read_data(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"ping");
    (seen(&c), st.join().unwrap().expect("server"))
}

fn stored(client: &ClientConfig) -> Option<Session> {
    client.sessions.get("localhost", 443)
}

fn stored_ticket(client: &ClientConfig) -> Vec<u8> {
    stored(client)
        .and_then(|s| s.ticket)
        .expect("a stored ticket")
        .bytes
}

/// A client and a server sharing one clock that the test moves.
fn pair(seed: u64) -> (ClientConfig, ServerConfig, Arc<StepClock>) {
    let clock = StepClock::new(NOW);
    let mut c = client_config(seed);
    c.clock = clock.clone();
    let mut s = server_config(seed + 1);
    s.clock = clock.clone();
    (c, s, clock)
}

#[test]
fn a_full_handshake_issues_a_ticket_and_the_next_connection_resumes_from_it() {
    let (c, s, _) = pair(10);
    let (client, server) = (Arc::new(c), Arc::new(s));
    let (c1, s1) = connect(&client, &server);
    assert!(!c1.resumed && !s1.resumed);
    // RFC 5077 3.4: issuing a ticket, the server sends an empty session ID and keeps nothing.
    assert!(c1.session_id.is_empty(), "{c1:?}");
    assert_eq!(server.sessions.len(), 0);
    let first = stored(&client).expect("the client keeps the session");
    let ticket = first.ticket.clone().expect("with its ticket");
    assert_eq!(ticket.lifetime_hint, TicketKeys::DEFAULT_LIFETIME as u32);
    assert_eq!(ticket.received, UnixTime(NOW));

    let (c2, s2) = connect(&client, &server);
    assert!(c2.resumed && c2.with_ticket, "{c2:?}");
    assert!(s2.resumed && s2.with_ticket, "{s2:?}");
    // RFC 5077 3.4: the server echoes the session ID the client sent with its ticket.
    assert!(!c2.session_id.is_empty());
    assert_eq!(c2.session_id, s2.session_id);
    // Sealed under the current key: not renewed, the client keeps the same ticket.
    assert_eq!(stored_ticket(&client), ticket.bytes);
}

#[test]
fn resumption_is_stateless_any_server_with_the_keys_resumes() {
    let (c, s1, clock) = pair(20);
    let keys = s1.tickets.clone().unwrap();
    let mut s2 = server_config(22);
    s2.clock = clock.clone();
    s2.tickets = Some(keys);
    // A server process that has never seen this client, with a cache of its own.
    let (client, one, two) = (Arc::new(c), Arc::new(s1), Arc::new(s2));
    connect(&client, &one);
    let (c, s) = connect(&client, &two);
    assert!(c.resumed && s.resumed && s.with_ticket);
    assert_eq!(two.sessions.len(), 0);
}

#[test]
fn a_server_without_tickets_resumes_by_session_id() {
    let (c, mut s, _) = pair(30);
    s.tickets = None;
    let (client, server) = (Arc::new(c), Arc::new(s));
    let (c1, _) = connect(&client, &server);
    assert!(!c1.session_id.is_empty());
    assert_eq!(server.sessions.len(), 1);
    assert!(stored(&client).unwrap().ticket.is_none());
    let (c2, s2) = connect(&client, &server);
    assert!(c2.resumed && s2.resumed);
    assert!(!s2.with_ticket && !c2.with_ticket);
    assert_eq!(c2.session_id, c1.session_id);
}

#[test]
fn a_client_without_tickets_offers_none_and_resumes_by_session_id() {
    let (mut c, s, _) = pair(40);
    c.session_tickets = false;
    let (client, server) = (Arc::new(c), Arc::new(s));
    let (c1, _) = connect(&client, &server);
    assert!(
        !c1.session_id.is_empty(),
        "no ticket asked for: a session ID"
    );
    assert!(stored(&client).unwrap().ticket.is_none());
    let (c2, s2) = connect(&client, &server);
    assert!(c2.resumed && !s2.with_ticket);
    // The hello itself: no session_ticket extension.
    let (ch, _) = hello_of(client_config_without_tickets());
    assert!(extensions::find(&ch.extensions, SESSION_TICKET).is_none());
}

fn client_config_without_tickets() -> ClientConfig {
    let mut c = client_config(41);
    c.session_tickets = false;
    c
}

/// The ClientHello `client` sends to a server that never answers (it is read, then the pipe is
/// dropped).
fn hello_of(client: ClientConfig) -> (ClientHello, Result<(), Error>) {
    let (c, s) = pipe();
    let ct = thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client), "localhost", 443).map(|_| ())
    });
    let mut srv = Conn::new(s, Side::Server, None);
    let ch: ClientHello = Handshake::new(&mut srv).read().unwrap();
    drop(srv);
    (ch, ct.join().unwrap())
}

#[test]
fn keys_rotate_old_tickets_resume_and_are_renewed_until_their_key_is_erased() {
    let (rotate, lifetime) = (100, 250);
    let (c, mut s, clock) = pair(50);
    s.tickets = Some(Arc::new(TicketKeys::new(rotate, lifetime)));
    let (client, server) = (Arc::new(c), Arc::new(s));
    connect(&client, &server);
    let old = stored_ticket(&client);
    let keys = server.tickets.as_ref().unwrap();
    assert_eq!(keys.key_count(), 1);

    // Past the rotation: a new key seals from now on; the old ticket still resumes, and the
    // server renews it under the new key (RFC 5077 3.1: NewSessionTicket before its CCS).
    clock.advance(rotate + 10);
    let (c2, s2) = connect(&client, &server);
    assert!(c2.resumed && s2.with_ticket);
    assert_eq!(keys.key_count(), 2);
    let renewed = stored(&client).unwrap().ticket.unwrap();
    assert_ne!(
        renewed.bytes[..16],
        old[..16],
        "sealed under another key name"
    );
    // Renewing does not make the session live longer: the hint is what is left of its lifetime.
    assert_eq!(renewed.lifetime_hint, (lifetime - rotate - 10) as u32);
    // The renewed ticket is under the current key: resuming again renews nothing.
    let (c3, _) = connect(&client, &server);
    assert!(c3.resumed);
    assert_eq!(stored_ticket(&client), renewed.bytes);

    // A client still holding the old ticket at rotate + lifetime + 1: its key has been erased
    // (its last ticket expired): a full handshake and a fresh ticket.
    clock.advance(lifetime - 10 + 1);
    let (c4, _) = connect_presenting(&client, &server, &old);
    assert!(!c4.resumed);
    // The first key is gone; the second (made at rotate + 10) still opens its tickets, and the
    // fresh ticket was sealed under a third, since the second is past its turn too.
    assert_eq!(keys.key_count(), 2);
    let (c5, _) = connect(&client, &server);
    assert!(c5.resumed, "the fresh ticket resumes");
}

/// Stores `ticket` as the client's ticket for the session it holds, then connects.
fn connect_presenting(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    ticket: &[u8],
) -> (Seen, Seen) {
    let mut s = stored(client).expect("a session to hold the ticket");
    let mut t = s.ticket.clone().expect("a ticket");
    t.bytes = ticket.to_vec();
    t.lifetime_hint = 0;
    s.ticket = Some(t);
    client.sessions.insert("localhost", 443, s);
    connect(client, server)
}

#[test]
fn expired_unknown_and_tampered_tickets_get_a_full_handshake_never_an_alert() {
    let (c, s, clock) = pair(60);
    let (client, server) = (Arc::new(c), Arc::new(s));
    connect(&client, &server);
    let good = stored_ticket(&client);

    // Every byte changed in turn (key name, nonce, sealed state, tag), and cut short.
    for (i, what) in [
        (0, "key name"),
        (20, "nonce"),
        (40, "state"),
        (good.len() - 1, "tag"),
    ] {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let (c, s) = connect_presenting(&client, &server, &bad);
        assert!(!c.resumed && !s.resumed, "{what}");
        // The full handshake gave a fresh ticket, which resumes.
        assert!(connect(&client, &server).0.resumed, "{what}: fresh ticket");
    }
    for bad in [&good[..10], &good[..good.len() - 1], &[][..]] {
        let (c, _) = connect_presenting(&client, &server, bad);
        assert!(!c.resumed, "{} bytes", bad.len());
    }

    // Another server's ticket: sealed under a key we never had.
    let (oc, os, _) = pair(61);
    let (oc, os) = (Arc::new(oc), Arc::new(os));
    connect(&oc, &os);
    let theirs = stored_ticket(&oc);
    let (c, _) = connect_presenting(&client, &server, &theirs);
    assert!(!c.resumed);

    // A ticket past its lifetime (presented anyway: its hint is cleared).
    connect(&client, &server);
    let fresh = stored_ticket(&client);
    clock.advance(TicketKeys::DEFAULT_LIFETIME);
    let (c, _) = connect_presenting(&client, &server, &fresh);
    assert!(!c.resumed);
}

#[test]
fn the_client_stops_presenting_a_ticket_whose_lifetime_hint_has_run_out() {
    let (c, mut s, clock) = pair(70);
    s.tickets = Some(Arc::new(TicketKeys::new(3600, 100)));
    let client = Arc::new(c);
    let server = Arc::new(s);
    connect(&client, &server);
    assert_eq!(stored(&client).unwrap().ticket.unwrap().lifetime_hint, 100);
    clock.advance(99);
    let mut probe = client_config(71);
    probe.clock = clock.clone();
    probe
        .sessions
        .insert("localhost", 443, stored(&client).unwrap());
    let (ch, _) = hello_of(probe);
    let t = extensions::find(&ch.extensions, SESSION_TICKET).unwrap();
    assert_eq!(t.data, stored_ticket(&client), "still within its hint");

    clock.advance(1);
    let mut probe = client_config(72);
    probe.clock = clock.clone();
    probe
        .sessions
        .insert("localhost", 443, stored(&client).unwrap());
    let (ch, _) = hello_of(probe);
    let t = extensions::find(&ch.extensions, SESSION_TICKET).unwrap();
    assert!(
        t.data.is_empty(),
        "expired: an empty session_ticket, no ticket"
    );
    // The session had no ID (it lived in the ticket): nothing left to offer.
    assert!(ch.session_id.is_empty());
}

// ---- RFC 7627 5.3 with tickets ----------------------------------------------------------------

fn session(ems: bool) -> Session {
    Session {
        id: SessionId::EMPTY,
        suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        master_secret: MasterSecret([0x33; 48]),
        peer_chain: vec![],
        created: UnixTime(NOW),
        server_name: Some("localhost".into()),
        valid_until: None,
        extended_master_secret: ems,
        ticket: None,
    }
}

/// A scripted client presenting `ticket` (with a session ID of its own) and, if `ems`, the
/// extended master secret. Returns what the server answered: its ServerHello and the next
/// message type, or the alert it sent.
fn present(server: ServerConfig, ticket: &[u8], ems: bool) -> Result<(ServerHello, u8), Vec<u8>> {
    let (c, s) = pipe();
    let st = thread::spawn(move || TlsStream::accept(s, Arc::new(server)).map(|_| ()));
    let mut conn = Conn::new(c, Side::Client, None);
    let mut hs = Handshake::new(&mut conn);
    let mut exts = vec![
        Extension::server_name("localhost"),
        Extension::session_ticket(ticket),
    ];
    if ems {
        exts.push(Extension::extended_master_secret());
    }
    hs.send(HandshakeMessage::ClientHello(ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([0x77; 32]),
        session_id: SessionId::new(&[0x42; 32]).unwrap(),
        cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: Some(exts),
    }))
    .unwrap();
    hs.flush().unwrap();
    let first = read_record(&mut hs.conn.io).expect("an answer");
    if first[0] == 21 {
        drop(hs);
        drop(conn);
        let _ = st.join();
        return Err(first);
    }
    // The ServerHello leads the flight; the type of the message after it says which flow.
    let body = &first[5..];
    let sh_len = 4 + u32::from_be_bytes([0, body[1], body[2], body[3]]) as usize;
    let sh = match HandshakeMessage::decode(body[0], &body[4..sh_len]).unwrap() {
        HandshakeMessage::ServerHello(sh) => sh,
        m => panic!("{}", m.name()),
    };
    let next = if body.len() > sh_len {
        body[sh_len]
    } else {
        // The next record: ChangeCipherSpec (20) is its own content type.
        let r = read_record(&mut hs.conn.io).expect("more");
        if r[0] == 20 { 0xcc } else { r[5] }
    };
    drop(hs);
    drop(conn);
    let _ = st.join();
    Ok((sh, next))
}

#[test]
fn an_ems_ticket_without_the_extension_is_handshake_failure() {
    let s = server_config(80);
    let keys = s.tickets.clone().unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    let t = keys.seal(&session(true), UnixTime(NOW), &mut rng).unwrap();
    let alert = present(s, &t.ticket, false).unwrap_err();
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, A::HandshakeFailure.to_u8()]);
}

#[test]
fn a_non_ems_ticket_with_the_extension_gets_a_full_handshake() {
    let s = server_config(81);
    let keys = s.tickets.clone().unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2);
    let t = keys.seal(&session(false), UnixTime(NOW), &mut rng).unwrap();
    let (sh, next) = present(s, &t.ticket, true).unwrap();
    assert_ne!(sh.session_id, SessionId::new(&[0x42; 32]).unwrap());
    assert_eq!(next, HandshakeType::Certificate.code(), "a full handshake");
    assert!(extensions::find(&sh.extensions, SESSION_TICKET).is_some());
}

#[test]
fn a_good_ticket_resumes_echoing_the_clients_session_id_and_ems() {
    let s = server_config(82);
    let keys = s.tickets.clone().unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let t = keys.seal(&session(true), UnixTime(NOW), &mut rng).unwrap();
    let (sh, next) = present(s, &t.ticket, true).unwrap();
    assert_eq!(sh.session_id, SessionId::new(&[0x42; 32]).unwrap());
    assert_eq!(next, 0xcc, "ChangeCipherSpec right after the ServerHello");
    assert!(extensions::has_extended_master_secret(&sh.extensions, "ServerHello").unwrap());
    // Current key: no renewal, so no session_ticket in the ServerHello.
    assert!(extensions::find(&sh.extensions, SESSION_TICKET).is_none());
}

#[test]
fn a_server_with_tickets_off_ignores_a_ticket() {
    let mut s = server_config(83);
    let keys = s.tickets.take().unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(4);
    let t = keys.seal(&session(true), UnixTime(NOW), &mut rng).unwrap();
    let (sh, next) = present(s, &t.ticket, true).unwrap();
    assert_eq!(next, HandshakeType::Certificate.code());
    assert!(extensions::find(&sh.extensions, SESSION_TICKET).is_none());
    assert!(
        !sh.session_id.is_empty(),
        "a session ID for the cache instead"
    );
}

// ---- The client against scripted servers ------------------------------------------------------

/// A client holding an EMS session with the ID `[id_byte; 32]`, and a ServerHello that resumes
/// it with `exts`.
fn resuming(id_byte: u8, exts: Vec<Extension>) -> (ClientConfig, HandshakeMessage) {
    let client = client_config(u64::from(id_byte));
    let id = SessionId::new(&[id_byte; 32]).unwrap();
    let mut s = session(true);
    s.id = id;
    client.sessions.insert("localhost", 443, s);
    let sh = HandshakeMessage::ServerHello(ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([3; 32]),
        session_id: id,
        cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        compression_method: COMPRESSION_NULL,
        extensions: Some(exts),
    });
    (client, sh)
}

#[test]
fn a_new_session_ticket_that_was_not_promised_is_unexpected_message() {
    // A resumption by session ID with no session_ticket in the ServerHello, then a
    // NewSessionTicket where the ChangeCipherSpec belongs.
    let (client, sh) = resuming(0x51, vec![Extension::extended_master_secret()]);
    let nst = HandshakeMessage::NewSessionTicket(NewSessionTicket {
        lifetime_hint: 1,
        ticket: vec![1, 2, 3],
    });
    let (e, alert) = scripted_server_against(client, vec![sh, nst]);
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, A::UnexpectedMessage.to_u8()]);
}

#[test]
fn a_promised_ticket_must_come_before_the_change_cipher_spec() {
    // Resumed, session_ticket promised, but a Finished-less ChangeCipherSpec arrives first.
    let (client, sh) = resuming(
        0x52,
        vec![
            Extension::extended_master_secret(),
            Extension::session_ticket(&[]),
        ],
    );
    let (c, srv) = pipe();
    let ct = thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client), "localhost", 443).map(|_| ())
    });
    let mut conn = Conn::new(srv, Side::Server, None);
    let mut hs = Handshake::new(&mut conn);
    let _: ClientHello = hs.read().unwrap();
    hs.send(sh).unwrap();
    hs.flush().unwrap();
    let c = &mut *hs.conn;
    c.rec
        .write_records(
            &mut c.io,
            toytls::record::ContentType::ChangeCipherSpec,
            &[1],
        )
        .unwrap();
    let e = ct.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::UnexpectedMessage { .. }), "{e}");
    assert_eq!(
        read_alert_record(&mut conn.io),
        [21, 3, 3, 0, 2, 2, A::UnexpectedMessage.to_u8()]
    );
}

// ---- RFC 6066 3 with tickets ------------------------------------------------------------------

/// One connection from `client` to `server` for `name`, one ping echoed; the client's view.
fn connect_as(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>, name: &str) -> Seen {
    let (c_io, s_io) = pipe();
    let server = server.clone();
    let st = thread::spawn(move || -> Result<(), Error> {
        let mut s = TlsStream::accept(s_io, server)?;
        let mut buf = [0u8; 4];
        let n = s.read_data(&mut buf)?;
        s.write_data(&buf[..n])
    });
    let mut c = TlsStream::connect(c_io, client.clone(), name, 443).expect("client");
    c.write_data(b"ping").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(c.read_data(&mut buf).unwrap(), 4);
    st.join().unwrap().expect("server");
    seen(&c)
}

#[test]
fn a_ticket_presented_under_another_server_name_gets_a_full_handshake() {
    // RFC 6066 3: "the server MUST NOT accept the request to resume the session if the
    // server_name extension contains a different name. Instead, it proceeds with a full
    // handshake to establish a new session." The name is sealed inside the ticket
    // (spec/tickets.md), so a stateless server can check it. (The session-ID case is
    // tests/session_rules.rs.)
    let server = Arc::new(server_with_names(
        0x6066,
        &["localhost", "other.test"],
        NOW + 365 * 86_400,
    ));
    let client = Arc::new(client_config(0x6068));

    let first = connect_as(&client, &server, "localhost");
    assert!(!first.resumed);
    let session = stored(&client).expect("a session with a ticket");
    assert!(session.ticket.is_some() && session.id.is_empty());
    // The client keys its store by name: present the localhost ticket for other.test.
    client.sessions.insert("other.test", 443, session.clone());
    let second = connect_as(&client, &server, "other.test");
    assert!(
        !second.resumed && !second.with_ticket,
        "resumed a ticket issued for localhost under the name other.test (RFC 6066 3)"
    );
    // The full handshake gave other.test a ticket of its own, which resumes there.
    let renewed = client
        .sessions
        .get("other.test", 443)
        .expect("a new ticket");
    assert_ne!(
        renewed.ticket.map(|t| t.bytes),
        session.ticket.map(|t| t.bytes)
    );
    assert!(connect_as(&client, &server, "other.test").with_ticket);
    // And the first ticket still resumes under its own name.
    let again = connect_as(&client, &server, "localhost");
    assert!(again.resumed && again.with_ticket);
}

// ---- An empty NewSessionTicket (RFC 5077 3.3) -------------------------------------------------

/// A scripted server's full handshake with our `client`: its ServerHello (with `session_id`)
/// promises a ticket (an empty session_ticket extension), and its NewSessionTicket, before its
/// ChangeCipherSpec, has an empty ticket: "the server [...] MAY send a zero-length ticket"
/// (RFC 5077 3.3) when it decides not to issue one after all. Returns what the client made of it.
fn full_handshake_with_an_empty_ticket(
    client: &Arc<ClientConfig>,
    session_id: SessionId,
) -> Result<Seen, Error> {
    let (c, s) = pipe();
    let cl = client.clone();
    let ct = thread::spawn(move || -> Result<Seen, Error> {
        let mut t = TlsStream::connect(c, cl, "localhost", 443)?;
        t.write_data(b"ping")?;
        Ok(seen(&t))
    });
    let p = pki();
    let mut conn = Conn::new(s, Side::Server, None);
    let mut hs = Handshake::new(&mut conn);
    let ch: ClientHello = hs.read().unwrap();
    // The client takes tickets: it offered the extension, empty.
    let offered = extensions::find(&ch.extensions, SESSION_TICKET).expect("session_ticket");
    assert!(offered.data.is_empty());
    let sh = ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([0x77; 32]),
        session_id,
        cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        compression_method: COMPRESSION_NULL,
        extensions: Some(vec![
            Extension::empty_renegotiation_info(),
            Extension::extended_master_secret(),
            Extension::session_ticket(&[]),
        ]),
    };
    hs.send(HandshakeMessage::ServerHello(sh.clone())).unwrap();
    hs.send(HandshakeMessage::Certificate(CertificateMsg {
        chain: vec![p.server.der().to_vec()],
    }))
    .unwrap();
    hs.send(HandshakeMessage::ServerHelloDone(ServerHelloDone))
        .unwrap();
    hs.flush().unwrap();
    let kx: ClientKeyExchange = hs.read().unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0x5077);
    let pms = toytls::handshake::keys::PreMasterSecret::decrypt(
        &p.server_key,
        &mut rng,
        &kx.encrypted_pre_master,
        ch.client_version,
    );
    let suite = toytls::record::suite::lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
    let ms = hs.keys_from_pre_master(pms, &ch, &sh, true, suite).unwrap();
    hs.read_change_cipher_spec_and_finished(&ms).unwrap();
    hs.send(HandshakeMessage::NewSessionTicket(NewSessionTicket {
        lifetime_hint: 0,
        ticket: vec![],
    }))
    .unwrap();
    hs.send_change_cipher_spec_and_finished(&ms).unwrap();
    let mut buf = [0u8; 4];
    let got = conn.read_app_data(&mut buf);
    let result = ct.join().unwrap();
    if result.is_ok() {
        assert_eq!((got.unwrap(), &buf), (4, b"ping"), "the client's data");
    }
    result
}

#[test]
fn an_empty_new_session_ticket_is_accepted_and_nothing_is_stored_or_offered() {
    // With no session ID either, there is nothing to resume: nothing is stored.
    let client = Arc::new(client_config(0x5a));
    let seen = full_handshake_with_an_empty_ticket(&client, SessionId::EMPTY).expect("accepted");
    assert!(!seen.resumed);
    assert!(stored(&client).is_none(), "{:?}", stored(&client));
    let (ch, _) = hello_of(Arc::try_unwrap(client).ok().expect("one owner"));
    assert!(ch.session_id.is_empty());
    let t = extensions::find(&ch.extensions, SESSION_TICKET).expect("still takes tickets");
    assert!(t.data.is_empty(), "offered an empty ticket as a ticket");

    // With a session ID, the session is kept for the ID, without a ticket: the next hello offers
    // the ID and an empty session_ticket extension, no zero-length "ticket".
    let client = Arc::new(client_config(0x5b));
    let id = SessionId::new(&[0x5b; 32]).unwrap();
    full_handshake_with_an_empty_ticket(&client, id).expect("accepted");
    let session = stored(&client).expect("kept for its ID");
    assert_eq!(session.id, id);
    assert!(session.ticket.is_none(), "{:?}", session.ticket);
    let (ch, _) = hello_of(Arc::try_unwrap(client).ok().expect("one owner"));
    assert_eq!(ch.session_id, id);
    let t = extensions::find(&ch.extensions, SESSION_TICKET).expect("still takes tickets");
    assert!(t.data.is_empty());
}
