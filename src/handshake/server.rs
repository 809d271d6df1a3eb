//! The server's handshake, step by step, as RFC 5246 7.3 tells it (see [`super::client`] for the
//! picture of both flows).
//!
//! [`handshake`] reads top to bottom: the full handshake, or, when the client offers a session we
//! still hold, `Server::abbreviated`. Each step is a method of `Server`, which carries the state
//! from step to step, as the client's does; what both sides do the same way is in
//! [`super::common`].
//!
//! The server decides: the version (TLS 1.2 or `protocol_version`), the suite (the first of its
//! own list the client also offers, or `handshake_failure`), null compression (or
//! `illegal_parameter`), and whether to resume the session the client offers. Then it proves its
//! identity by decrypting the pre-master secret: only the holder of the certificate's private key
//! can compute the keys that make the client's Finished check out.
//!
//! Extended master secret (RFC 7627): a client that offers it gets it echoed (unless
//! [`EmsMode::Off`]), and the master secret is then computed over the session hash. A client that
//! does not is a legacy client: served with the RFC 5246 master secret, or refused with
//! `handshake_failure` under [`EmsMode::Required`] (5.2). Resumption follows 5.3:
//!
//! ```text
//! original session   new ClientHello   what we do
//! with EMS           with EMS          resume, echoing the extension
//! with EMS           without           abort: handshake_failure (MUST)
//! without EMS        with EMS          full handshake, new EMS session (MUST NOT resume)
//! without EMS        without           resume (legacy; the RFC says SHOULD abort, see below)
//! ```
//!
//! The last row is our choice. Refusing gives no protection here: we already serve that client
//! full handshakes without EMS (it is a legacy client), and the attack resumption would complete
//! needs a renegotiation after it, which toytls never performs. OpenSSL and BoringSSL make the
//! same choice. Under [`EmsMode::Required`] the row never arises (the hello is refused first).
//!
//! Client certificates (RFC 5246 7.4.4, 7.4.6, 7.4.8), under [`ClientAuth::Optional`] or
//! [`ClientAuth::Required`]: our CertificateRequest after our Certificate, then the client's
//! Certificate first in its flight (empty: refused when required, served anonymously when
//! optional) and, after its ClientKeyExchange, its CertificateVerify. The three steps, ours and
//! the client's, are in `client_auth.rs`; the verified chain is the session's peer chain, so
//! a resumed session keeps the client's identity.
//!
//! Session tickets (RFC 5077; the format and the keys are in [`super::ticket`]): with
//! [`ServerConfig::tickets`] on, a client whose hello carries session_ticket gets, after a full
//! handshake, its session sealed into a NewSessionTicket, sent just before our ChangeCipherSpec
//! (and promised by an empty session_ticket in our ServerHello, with an empty session ID: the
//! session is kept by the client, not by us). A ticket presented that opens, has not expired and
//! passes the same checks as a cached session (suite, the RFC 7627 5.3 table above) resumes the
//! session, echoing the client's session ID (3.4); one sealed under a retired key is renewed with
//! a NewSessionTicket before our ChangeCipherSpec (3.1). Any ticket that does not open (unknown or
//! retired key, changed bytes, expired) gets a full handshake and a fresh ticket, never an alert.
//! Opening a ticket and issuing one are in [`super::ticket`]'s `steps.rs`, beside the client's
//! half.
//!
//! ALPN (RFC 7301 3.2): with [`ServerConfig::alpn_protocols`] set, a client that offers ALPN gets
//! the first of our protocols it offers, in full and resumed handshakes alike; one that offers
//! none of ours gets `no_application_protocol`.

use super::Negotiated;
use super::common::{self, Handshake};
use super::keys::{MasterSecret, PreMasterSecret};
use super::session::Session;
use crate::config::{ClientAuth, EmsMode, ServerConfig, connection_rng};
use crate::conn::Conn;
use crate::error::{Error, Reason, Result};
use crate::record::suite::{self, SuiteInfo};
use crate::trace::{Derivation, Note, Secret};
use crate::wire::messages::extensions::{self, Extension};
use crate::wire::messages::hello::COMPRESSION_NULL;
use crate::wire::messages::{
    CertificateMsg, ClientHello, ClientKeyExchange, HandshakeMessage, ProtocolVersion, ServerHello,
    ServerHelloDone, SessionId, TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
};
use rand::Rng;
use rand::rngs::StdRng;
use std::io::{Read, Write};

/// Runs a server handshake over `conn`.
pub fn handshake<T: Read + Write>(conn: &mut Conn<T>, config: &ServerConfig) -> Result<Negotiated> {
    let mut s = Server {
        hs: Handshake::new(conn).with_keylog(config.keylog.clone()),
        config,
        rng: connection_rng(&config.rng),
    };
    let ask_for_certificate = !matches!(config.client_auth, ClientAuth::None);
    if ask_for_certificate {
        // A CertificateVerify may sign every message with SHA-384 or SHA-512.
        s.hs.keep_messages();
    }
    let client_hello = s.read_client_hello()?;
    let suite = s.choose_suite(&client_hello)?;
    let server_name = client_hello.server_name()?;
    let client_ems = s.client_offers_ems(&client_hello)?;
    // RFC 7627 5.2: we echo the extension, and use the extended master secret, when the client
    // offers it and we have not switched it off.
    let ems = client_ems && config.extended_master_secret != EmsMode::Off;
    let alpn = s.choose_alpn(&client_hello)?;
    if let Some(found) = s.find_session(&client_hello, &server_name, client_ems, ems)? {
        return s.abbreviated(&client_hello, found, server_name, alpn);
    }

    // RFC 5077 3.4: a server that will issue a ticket sends an empty session ID: the session
    // is kept by the client alone.
    let issue_ticket = s.client_takes_tickets(&client_hello);
    let session_id = if issue_ticket {
        SessionId::EMPTY
    } else {
        s.new_session_id()
    };
    let ours = OurExtensions {
        ems,
        ticket: issue_ticket,
        alpn: alpn.as_deref(),
    };
    let server_hello = s.send_server_hello(&client_hello, suite, session_id, ours)?;
    s.send_certificate()?;
    let request = if ask_for_certificate {
        Some(s.send_certificate_request()?)
    } else {
        None
    };
    s.send_server_hello_done()?;
    // The client now checks our certificate and encrypts its pre-master secret: time we use to
    // get the decryption ready (a fresh blinding pair, when one is due).
    config.private_key.prepare_blinding(&mut s.rng);
    let (client_chain, client_key) = match &request {
        Some(_) => s.read_client_certificate()?,
        None => (vec![], None),
    };
    let pre_master = s.read_client_key_exchange(&client_hello)?;
    let master =
        s.hs.keys_from_pre_master(pre_master, &client_hello, &server_hello, ems, suite)?;
    if let (Some(request), Some(key)) = (&request, &client_key) {
        // After ClientKeyExchange, so outside the RFC 7627 session hash the master secret used.
        s.read_certificate_verify(request, key)?;
    }
    s.hs.read_change_cipher_spec_and_finished(&master)?;
    // The client has proved it holds the keys: the session is good. Cache it before our Finished
    // goes out, so a client that reconnects the moment it has our Finished finds it.
    let session = s.new_session(
        session_id,
        suite,
        &master,
        ems,
        &client_chain,
        server_name.clone(),
    );
    if issue_ticket {
        s.send_new_session_ticket(&session)?;
    }
    s.remember_session(session);
    s.hs.send_change_cipher_spec_and_finished(&master)?;

    Ok(Negotiated {
        suite: suite.suite,
        session_id,
        resumed: false,
        peer_chain: client_chain,
        server_name,
        extended_master_secret: ems,
        alpn_protocol: alpn,
        resumed_with_ticket: false,
    })
}

/// A session we agreed to resume, and how we found it.
struct Found {
    session: Session,
    suite: &'static SuiteInfo,
    /// The session ID our ServerHello echoes: the cached session's, or the one the client sent
    /// with its ticket (RFC 5077 3.4).
    echo_id: SessionId,
    /// From a ticket, not from the cache.
    from_ticket: bool,
    /// Send a fresh ticket (the presented one was sealed under a retired key: RFC 5077 3.1).
    renew_ticket: bool,
}

/// The extensions our ServerHello answers with, besides renegotiation_info.
#[derive(Clone, Copy)]
struct OurExtensions<'a> {
    /// extended_master_secret (RFC 7627 5.2).
    ems: bool,
    /// An empty session_ticket: a NewSessionTicket follows (RFC 5077 3.2).
    ticket: bool,
    /// The application protocol we chose (RFC 7301 3.1).
    alpn: Option<&'a [u8]>,
}

/// The state a server handshake carries from step to step.
pub(super) struct Server<'a, T> {
    pub(super) hs: Handshake<'a, T>,
    pub(super) config: &'a ServerConfig,
    pub(super) rng: StdRng,
}

impl<T: Read + Write> Server<'_, T> {
    /// RFC 5246 7.4.1.2 and Appendix E.1: the client's hello. A client whose highest version is
    /// below TLS 1.2 gets `protocol_version`; one that speaks something newer gets TLS 1.2. The
    /// compression methods must include null (RFC 5246 7.4.1.2: "MUST contain").
    fn read_client_hello(&mut self) -> Result<ClientHello> {
        let ch: ClientHello = self.hs.read()?;
        if ch.client_version.0 < ProtocolVersion::TLS12.0 {
            return Err(Error::ProtocolVersion {
                offered: ch.client_version.0,
            });
        }
        self.hs.conn.rec.fix_version();
        if !ch.compression_methods.contains(&COMPRESSION_NULL) {
            return Err(Error::IllegalParameter(
                "the client does not offer null compression".into(),
            ));
        }
        Ok(ch)
    }

    /// RFC 5246 7.4.1.3: the first suite in the server's order of preference that the client offers
    /// (for a new session: a resumed one keeps its own, see [`Self::find_session`]).
    fn choose_suite(&self, ch: &ClientHello) -> Result<&'static SuiteInfo> {
        self.config
            .suites
            .iter()
            .filter(|s| ch.cipher_suites.contains(s))
            .find_map(|s| suite::lookup(*s))
            .ok_or_else(|| Error::NoCommonCipherSuite {
                offered: ch.cipher_suites.iter().map(|s| s.0).collect(),
            })
    }

    /// Whether the client offers the extended master secret (a malformed extension is
    /// `decode_error`, whatever our mode). RFC 7627 5.2: under [`EmsMode::Required`] a client that
    /// does not is refused with `handshake_failure`.
    fn client_offers_ems(&self, ch: &ClientHello) -> Result<bool> {
        let offered = extensions::has_extended_master_secret(&ch.extensions, "ClientHello")?;
        if !offered && self.config.extended_master_secret == EmsMode::Required {
            return Err(Error::HandshakeFailure(
                Reason::ClientWithoutExtendedMasterSecret,
            ));
        }
        Ok(offered)
    }

    /// RFC 5246 7.4.1.2 and RFC 5077 3.1: resume the session in the ticket the client presents,
    /// if it opens ([`Self::open_ticket`]), else the session whose ID it offers, if cached and not
    /// expired; either only if [`Self::may_resume`] allows it. Otherwise run a full handshake.
    /// `client_ems`: the hello carries extended_master_secret; `ems`: a full handshake would use it.
    /// A session made for another `server_name` is not resumed (RFC 6066 3: "MUST NOT accept the
    /// request to resume the session if the server_name extension contains a different name.
    /// Instead, it proceeds with a full handshake").
    fn find_session(
        &self,
        ch: &ClientHello,
        server_name: &Option<String>,
        client_ems: bool,
        ems: bool,
    ) -> Result<Option<Found>> {
        if let Some((session, current_key)) = self.open_ticket(ch) {
            if session.server_name != *server_name {
                self.hs.tracer().note(|| Note::TicketRefused {
                    why: "it was issued for another server_name (RFC 6066 3)".into(),
                });
                return Ok(None);
            }
            if let Some(suite) = self.may_resume(ch, &session, client_ems, ems)? {
                return Ok(Some(Found {
                    session,
                    suite,
                    echo_id: ch.session_id,
                    from_ticket: true,
                    renew_ticket: !current_key,
                }));
            }
            return Ok(None);
        }
        if ch.session_id.is_empty() {
            return Ok(None);
        }
        let config = self.config;
        let Some(s) = config
            .sessions
            .get(&ch.session_id, config.clock.now())
            .filter(|s| s.server_name == *server_name)
        else {
            return Ok(None);
        };
        Ok(self
            .may_resume(ch, &s, client_ems, ems)?
            .map(|suite| Found {
                echo_id: s.id,
                session: s,
                suite,
                from_ticket: false,
                renew_ticket: false,
            }))
    }

    /// Whether a session found by ID or in a ticket may be resumed: its suite is among the
    /// client's offers (RFC 5246 7.4.1.2: "MUST include at least the cipher_suite from that
    /// session") and still one of ours, and RFC 7627 5.3 allows it (the table in the module doc).
    /// The session's suite comes back: RFC 5246 7.4.1.3, a resumed ServerHello carries it,
    /// whatever we would choose for a new one.
    fn may_resume(
        &self,
        ch: &ClientHello,
        s: &Session,
        client_ems: bool,
        ems: bool,
    ) -> Result<Option<&'static SuiteInfo>> {
        let config = self.config;
        let Some(suite) = suite::lookup(s.suite)
            .filter(|_| ch.cipher_suites.contains(&s.suite) && config.suites.contains(&s.suite))
        else {
            return Ok(None);
        };
        if s.extended_master_secret && !client_ems {
            // MUST abort: resuming would drop the protection the session was made with, which is
            // what an attacker replaying the session from another connection would want.
            return Err(Error::HandshakeFailure(
                Reason::SessionNeedsExtendedMasterSecret,
            ));
        }
        if !s.extended_master_secret && ems {
            // MUST NOT resume: the client expects a master secret bound to its handshake, the
            // session has none. A full handshake gives it one.
            self.hs.tracer().note(|| Note::NotResumingWithoutEms);
            return Ok(None);
        }
        Ok(Some(suite))
    }

    /// RFC 7301 3.2: with protocols of our own, the first of ours the client offers; none in
    /// common is fatal (`no_application_protocol`), a malformed list is `decode_error`. Without
    /// protocols of our own, or if the client offers none, no ALPN.
    fn choose_alpn(&self, ch: &ClientHello) -> Result<Option<Vec<u8>>> {
        let ours = &self.config.alpn_protocols;
        let Some(ext) = extensions::find(
            &ch.extensions,
            extensions::APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
        ) else {
            return Ok(None);
        };
        if ours.is_empty() {
            return Ok(None);
        }
        let offered = Extension::parse_alpn(&ext.data)?;
        match ours.iter().find(|p| offered.contains(&&p[..])) {
            Some(p) => {
                self.hs.tracer().note(|| Note::AlpnChosen {
                    offered: names(offered.iter().copied()),
                    chosen: String::from_utf8_lossy(p).into_owned(),
                });
                Ok(Some(p.clone()))
            }
            None => Err(Error::NoApplicationProtocol {
                offered: names(offered.iter().copied()),
                supported: names(ours.iter().map(|p| &p[..])),
            }),
        }
    }

    /// RFC 5246 7.3, the abbreviated handshake: we hold the session the client offers. No
    /// certificate and no RSA: fresh keys from the cached master secret and the new randoms. We
    /// send ChangeCipherSpec and Finished first, then check the client's.
    /// With a ticket (RFC 5077 3.1) the same, with a NewSessionTicket before our
    /// ChangeCipherSpec when we renew it.
    fn abbreviated(
        mut self,
        ch: &ClientHello,
        found: Found,
        server_name: Option<String>,
        alpn: Option<Vec<u8>>,
    ) -> Result<Negotiated> {
        let Found {
            session,
            suite,
            echo_id,
            from_ticket,
            renew_ticket,
        } = found;
        self.hs.tracer().note(|| {
            if from_ticket {
                Note::ResumingFromTicket
            } else {
                Note::Resuming {
                    session_id: session.id,
                }
            }
        });
        // RFC 7627 5.3: a resumed session keeps the master secret it was made with, and the
        // ServerHello says which kind that is.
        let ems = session.extended_master_secret;
        let ours = OurExtensions {
            ems,
            ticket: renew_ticket,
            alpn: alpn.as_deref(),
        };
        let server_hello = self.send_server_hello(ch, suite, echo_id, ours)?;
        let master = &session.master_secret;
        self.hs.prepare_keys(master, suite, ch, &server_hello)?;
        if renew_ticket {
            // The renewed ticket keeps the session's creation time: renewing moves the session
            // to the current key without making it live longer.
            self.send_new_session_ticket(&session)?;
        }
        self.hs.send_change_cipher_spec_and_finished(master)?;
        self.hs.read_change_cipher_spec_and_finished(master)?;
        Ok(Negotiated {
            suite: session.suite,
            session_id: echo_id,
            resumed: true,
            // The client proved this identity in the session's full handshake.
            peer_chain: session.peer_chain.clone(),
            server_name,
            extended_master_secret: ems,
            alpn_protocol: alpn,
            resumed_with_ticket: from_ticket,
        })
    }

    /// A fresh 32-byte session ID, or none if the server caches no sessions.
    fn new_session_id(&mut self) -> SessionId {
        if !self.config.sessions.enabled() {
            return SessionId::EMPTY;
        }
        let mut id = [0u8; 32];
        self.rng.fill_bytes(&mut id);
        SessionId::new(&id).unwrap_or(SessionId::EMPTY)
    }

    /// RFC 5246 7.4.1.3: our choices and our random, and the extensions we answer: an empty
    /// renegotiation_info if the client sent the extension or the SCSV (RFC 5746 3.6), an empty
    /// extended_master_secret if `ours.ems` (RFC 7627 5.2, 5.3), an empty session_ticket if a
    /// NewSessionTicket follows (RFC 5077 3.2), and the protocol we chose with ALPN (RFC 7301
    /// 3.1). The other extensions real clients send (signature_algorithms, supported_groups,
    /// ec_point_formats, ...) do not apply to RSA key transport: ignored (RFC 5246 7.4.1.4). An
    /// empty server_name answer is optional (RFC 6066 3); we send none.
    fn send_server_hello(
        &mut self,
        ch: &ClientHello,
        suite: &SuiteInfo,
        session_id: SessionId,
        ours: OurExtensions,
    ) -> Result<ServerHello> {
        let sh = ServerHello {
            server_version: ProtocolVersion::TLS12,
            random: common::random(self.config.clock.now(), &mut self.rng),
            session_id,
            cipher_suite: suite.suite,
            compression_method: COMPRESSION_NULL,
            extensions: server_extensions(ch, ours)?,
        };
        self.hs.send(HandshakeMessage::ServerHello(sh.clone()))?;
        // From here on the connection is associated with this session: a fatal end invalidates it
        // (RFC 5246 7.2.2), the resumed one included.
        self.hs.conn.session_id = session_id;
        Ok(sh)
    }

    /// RFC 5246 7.4.2: our chain, leaf first.
    fn send_certificate(&mut self) -> Result<()> {
        self.hs.send(HandshakeMessage::Certificate(CertificateMsg {
            chain: self.config.chain.clone(),
        }))
    }

    /// RFC 5246 7.4.5: our flight is complete; it goes out now, in as few records as possible.
    fn send_server_hello_done(&mut self) -> Result<()> {
        self.hs
            .send(HandshakeMessage::ServerHelloDone(ServerHelloDone))?;
        self.hs.flush()
    }

    /// RFC 5246 7.4.7.1: decrypt the pre-master secret. Whatever is wrong with it (RSA padding,
    /// length, version bytes), we continue with the offered version and 46 random bytes and let
    /// the client's Finished fail: telling the client which check failed would hand it a
    /// decryption oracle (Bleichenbacher). See [`PreMasterSecret::decrypt`].
    fn read_client_key_exchange(&mut self, ch: &ClientHello) -> Result<PreMasterSecret> {
        let cke: ClientKeyExchange = self.hs.read()?;
        let pms = PreMasterSecret::decrypt(
            &self.config.private_key,
            &mut self.rng,
            &cke.encrypted_pre_master,
            ch.client_version,
        );
        self.hs
            .tracer()
            .secret(Secret::PreMaster, &pms.0, || Derivation::Decrypted);
        Ok(pms)
    }

    /// The session a full handshake made, as the cache keeps it and a ticket seals it.
    fn new_session(
        &self,
        id: SessionId,
        suite: &SuiteInfo,
        master: &MasterSecret,
        ems: bool,
        client_chain: &[Vec<u8>],
        server_name: Option<String>,
    ) -> Session {
        Session {
            id,
            suite: suite.suite,
            master_secret: master.clone(),
            peer_chain: client_chain.to_vec(),
            created: self.config.clock.now(),
            server_name,
            valid_until: None,
            extended_master_secret: ems,
            ticket: None,
        }
    }

    /// Caches the new session for resumption, if we gave it an ID.
    fn remember_session(&self, session: Session) {
        if !session.id.is_empty() {
            self.config.sessions.insert(session);
        }
    }
}

/// Protocol names for messages: UTF-8 where they are, escaped where not.
fn names<'a>(list: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    list.map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// The extensions of our ServerHello (see [`Server::send_server_hello`]).
fn server_extensions(ch: &ClientHello, ours: OurExtensions) -> Result<Option<Vec<Extension>>> {
    let mut exts = Vec::new();
    let ext = extensions::find(&ch.extensions, extensions::RENEGOTIATION_INFO);
    // RFC 5746 3.6: in an initial handshake the client's renegotiated_connection must be empty;
    // otherwise abort with handshake_failure.
    if let Some(e) = ext
        && e.data != [0]
    {
        return Err(Error::HandshakeFailure(
            Reason::ClientRenegotiationInfoNotEmpty,
        ));
    }
    let scsv = ch
        .cipher_suites
        .contains(&TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    if ext.is_some() || scsv {
        exts.push(Extension::empty_renegotiation_info());
    }
    if ours.ems {
        exts.push(Extension::extended_master_secret());
    }
    if ours.ticket {
        exts.push(Extension::session_ticket(&[]));
    }
    if let Some(p) = ours.alpn {
        exts.push(Extension::alpn(&[p.to_vec()]));
    }
    Ok((!exts.is_empty()).then_some(exts))
}
