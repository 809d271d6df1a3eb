//! The client's handshake, step by step, as RFC 5246 7.3 tells it.
//!
//! ```text
//! full handshake                              abbreviated (resumed) handshake
//! ClientHello          -->                    ClientHello (cached session ID) -->
//!                      <-- ServerHello                         <-- ServerHello (same ID)
//!                      <-- Certificate                         <-- ChangeCipherSpec
//!                      <-- CertificateRequest*                 <-- Finished
//!                      <-- ServerHelloDone                    ChangeCipherSpec -->
//! Certificate*         -->                    Finished         -->
//! ClientKeyExchange    -->
//! CertificateVerify*   -->
//! ChangeCipherSpec     -->
//! Finished             -->
//!                      <-- ChangeCipherSpec
//!                      <-- Finished
//! ```
//!
//! [`handshake`] reads top to bottom in that order, and `Client::abbreviated` tells the resumed
//! flow; each step is a method of `Client` named after the message it sends or reads, whose doc
//! comment names its RFC section. What the server does the same way (the keys, ChangeCipherSpec
//! and Finished) is in [`super::common`]. Any error ends the handshake; the caller
//! ([`crate::stream::TlsStream::connect`]) sends the error's alert once.
//!
//! Extended master secret (RFC 7627): unless [`EmsMode::Off`], every ClientHello offers it, and if
//! the server echoes it the master secret is computed over the session hash instead of the
//! randoms ([`super::keys::extended_master_secret`]). A server that does not echo it gets the
//! RFC 5246 master secret, or `handshake_failure` under [`EmsMode::Required`] (5.2). A session is
//! offered for resumption only if it was made the way this hello is made: with the extended
//! master secret when we offer it (5.3: "SHOULD NOT offer an abbreviated handshake to resume a
//! session that does not use an extended master secret"), without it when EMS is off (5.3: a
//! resumption offer "MUST send" the extension, so an EMS session cannot be offered without it).
//! A server that resumes with a different answer from the original session's is refused with
//! `handshake_failure` (5.3, both cases MUST).
//!
//! Client certificates (the messages marked `*`, RFC 5246 7.4.4, 7.4.6, 7.4.8): a server may ask
//! for one with a CertificateRequest; we answer with our chain if the request can accept it, else
//! with an empty Certificate, and sign the handshake with a CertificateVerify after our key
//! exchange. The three steps, the server's and ours, are in `client_auth.rs`.
//!
//! Session tickets (RFC 5077): unless [`ClientConfig::session_tickets`] is off, every ClientHello
//! carries a session_ticket extension, empty ("I take tickets") or holding the ticket stored for
//! this server, whose lifetime hint has not run out. Offering a ticket, the hello also carries a
//! session ID (the stored one, or 32 random bytes): a server that accepts the ticket echoes it
//! (3.4), which is how we know it resumed. A server that answers session_ticket in its ServerHello
//! sends a NewSessionTicket just before its ChangeCipherSpec, in a full handshake as in a resumed
//! one (3.1: it renews the ticket); we keep the new ticket with the session. A server that does not
//! resume gets a full handshake, and a server without tickets still resumes by session ID.
//! Reading the NewSessionTicket is in [`super::ticket`]'s `steps.rs`, beside the server's half.
//!
//! ```text
//! full handshake, ticket issued               resumed from a ticket, ticket renewed
//! ClientHello (empty session_ticket) -->      ClientHello (ticket, session ID) -->
//!           <-- ServerHello (session_ticket)       <-- ServerHello (same ID, session_ticket)
//!           <-- Certificate, ServerHelloDone       <-- NewSessionTicket
//! ClientKeyExchange, CCS, Finished -->             <-- ChangeCipherSpec, Finished
//!           <-- NewSessionTicket              ChangeCipherSpec, Finished -->
//!           <-- ChangeCipherSpec, Finished
//! ```
//!
//! ALPN (RFC 7301): with [`ClientConfig::alpn_protocols`] set, the hello offers them; the server
//! may answer with exactly one of them (another one, or a list, is refused).

use super::Negotiated;
use super::common::{self, Handshake};
use super::keys::{MasterSecret, PreMasterSecret};
use super::session::{Session, Ticket};
use crate::config::{ClientConfig, EmsMode, connection_rng};
use crate::conn::Conn;
use crate::crypto::rsa::RsaPublicKey;
use crate::error::{Error, Reason, Result};
use crate::record::suite::{self, SuiteInfo};
use crate::trace::{Derivation, Note, Secret};
use crate::wire::messages::extensions::{self, Extension};
use crate::wire::messages::hello::COMPRESSION_NULL;
use crate::wire::messages::{
    CertificateMsg, ClientHello, ClientKeyExchange, HandshakeMessage, ProtocolVersion, ServerHello,
    ServerHelloDone, SessionId,
};
use rand::Rng;
use rand::rngs::StdRng;
use std::io::{Read, Write};

/// Runs a client handshake over `conn` for `server_name` (checked against the certificate and
/// sent as server_name) and `port` (with the name, the key of the session store).
pub fn handshake<T: Read + Write>(
    conn: &mut Conn<T>,
    config: &ClientConfig,
    server_name: &str,
    port: u16,
) -> Result<Negotiated> {
    let mut c = Client {
        hs: Handshake::new(conn).with_keylog(config.keylog.clone()),
        config,
        rng: connection_rng(&config.rng),
        server_name,
        port,
        offered_session: None,
        offered_ticket: false,
    };
    if config.client_certificate.is_some() {
        // A CertificateVerify may have to sign every message with SHA-384 or SHA-512.
        c.hs.keep_messages();
    }
    let client_hello = c.send_client_hello()?;
    let (server_hello, suite) = c.read_server_hello(&client_hello)?;
    // read_server_hello refused the extensions we did not offer, and checked these two.
    let ems = extensions::has_extended_master_secret(&server_hello.extensions, "ServerHello")?;
    let alpn = server_alpn(&server_hello)?;
    let ticket_follows =
        extensions::find(&server_hello.extensions, extensions::SESSION_TICKET).is_some();
    if let Some(session) = c.resumed_session(&client_hello, &server_hello, ems)? {
        return c.abbreviated(
            &client_hello,
            &server_hello,
            suite,
            session,
            alpn,
            ticket_follows,
        );
    }

    c.check_full_handshake_ems(ems)?;
    let chain = c.read_certificate()?;
    let server_key = c.verify_certificate(&chain)?;
    let request = c.read_certificate_request()?;
    c.read_server_hello_done()?;
    let signer = match &request {
        Some(request) => c.send_client_certificate(request)?,
        None => None,
    };
    let pre_master = c.send_client_key_exchange(&client_hello, &server_key)?;
    let master =
        c.hs.keys_from_pre_master(pre_master, &client_hello, &server_hello, ems, suite)?;
    if let Some((identity, scheme)) = signer {
        // After ClientKeyExchange, so outside the RFC 7627 session hash the master secret used.
        c.send_certificate_verify(&identity, scheme)?;
    }
    c.hs.send_change_cipher_spec_and_finished(&master)?;
    let ticket = if ticket_follows {
        c.read_new_session_ticket()?
    } else {
        None
    };
    c.hs.read_change_cipher_spec_and_finished(&master)?;

    let negotiated = Negotiated {
        suite: server_hello.cipher_suite,
        session_id: server_hello.session_id,
        resumed: false,
        peer_chain: chain,
        server_name: Some(server_name.to_string()),
        extended_master_secret: ems,
        alpn_protocol: alpn,
        resumed_with_ticket: false,
    };
    c.remember_session(&negotiated, master, ticket);
    Ok(negotiated)
}

/// RFC 7301 3.1: the protocol the server chose, if it answered ALPN: exactly one name
/// (else `decode_error`). [`Client::read_server_hello`] has checked it is one we offered.
fn server_alpn(sh: &ServerHello) -> Result<Option<Vec<u8>>> {
    match extensions::find(
        &sh.extensions,
        extensions::APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
    ) {
        None => Ok(None),
        Some(e) => Ok(Some(Extension::parse_alpn_selection(&e.data)?.to_vec())),
    }
}

/// The state a client handshake carries from step to step.
pub(super) struct Client<'a, T> {
    pub(super) hs: Handshake<'a, T>,
    pub(super) config: &'a ClientConfig,
    pub(super) rng: StdRng,
    pub(super) server_name: &'a str,
    pub(super) port: u16,
    /// The stored session our ClientHello offers to resume, if any.
    pub(super) offered_session: Option<Session>,
    /// True if the ClientHello presents that session's ticket (RFC 5077 3.4).
    pub(super) offered_ticket: bool,
}

impl<T: Read + Write> Client<'_, T> {
    /// RFC 5246 7.4.1.2: our version, a fresh random, the session we would like to resume (if
    /// we have one for this server, made with the extended master secret exactly when we offer
    /// it now: RFC 7627 5.3), our suites in order of preference, null compression, server_name
    /// (RFC 6066 3; not for IP literals), renegotiation_info, signature_algorithms, unless
    /// it is off, extended_master_secret (RFC 7627 5.2: "in all handshakes"), unless they are
    /// off, session_ticket with the stored ticket or empty (RFC 5077 3.2), and ALPN if we have
    /// protocols to offer (RFC 7301 3.1).
    fn send_client_hello(&mut self) -> Result<ClientHello> {
        let offer_ems = self.config.extended_master_secret != EmsMode::Off;
        let tickets = self.config.session_tickets;
        let now = self.config.clock.now();
        let tracer = self.hs.tracer();
        self.offered_session = self
            .config
            .sessions
            .get_fresh(self.server_name, self.port, self.config.clock.now())
            .filter(|s| {
                let usable = s.extended_master_secret == offer_ems;
                if !usable {
                    tracer.note(|| Note::SessionNotOffered);
                }
                usable
            })
            .map(|mut s| {
                // RFC 5077 3.3: the lifetime hint says how long to keep a ticket.
                if s.ticket
                    .as_ref()
                    .is_some_and(|t| !tickets || t.expired(now))
                {
                    tracer.note(|| Note::TicketNotPresented);
                    s.ticket = None;
                }
                s
            })
            .filter(|s| !s.id.is_empty() || s.ticket.is_some());
        self.offered_ticket = self
            .offered_session
            .as_ref()
            .is_some_and(|s| s.ticket.is_some());
        let session_id = match &self.offered_session {
            None => SessionId::EMPTY,
            Some(s) if !s.id.is_empty() => s.id,
            // RFC 5077 3.4: presenting a ticket, the client may send a session ID of its own;
            // a server that accepts the ticket echoes it, which tells us it resumed.
            Some(_) => {
                let mut id = [0u8; 32];
                self.rng.fill_bytes(&mut id);
                SessionId::new(&id).unwrap_or(SessionId::EMPTY)
            }
        };
        let mut exts = Vec::new();
        if self.server_name.parse::<std::net::IpAddr>().is_err() {
            exts.push(Extension::server_name(self.server_name));
        }
        // RFC 5746 3.4: an initial handshake carries an empty renegotiation_info (or the SCSV).
        exts.push(Extension::empty_renegotiation_info());
        exts.push(Extension::signature_algorithms());
        if offer_ems {
            exts.push(Extension::extended_master_secret());
        }
        if tickets {
            let ticket = self
                .offered_session
                .as_ref()
                .and_then(|s| s.ticket.as_ref());
            exts.push(Extension::session_ticket(
                ticket.map(|t| &t.bytes[..]).unwrap_or(&[]),
            ));
        }
        if !self.config.alpn_protocols.is_empty() {
            extensions::check_alpn_protocols(&self.config.alpn_protocols)
                .map_err(Error::Internal)?;
            exts.push(Extension::alpn(&self.config.alpn_protocols));
        }
        let hello = ClientHello {
            client_version: ProtocolVersion::TLS12,
            random: common::random(self.config.clock.now(), &mut self.rng),
            session_id,
            cipher_suites: self.config.suites.clone(),
            compression_methods: vec![COMPRESSION_NULL],
            extensions: Some(exts),
        };
        self.hs.send(HandshakeMessage::ClientHello(hello.clone()))?;
        self.hs.flush()?;
        Ok(hello)
    }

    /// RFC 5246 7.4.1.3: the server's choices must be among our offers: TLS 1.2, one of our
    /// suites (returned with the ServerHello), null compression, and only extensions we sent.
    fn read_server_hello(
        &mut self,
        hello: &ClientHello,
    ) -> Result<(ServerHello, &'static SuiteInfo)> {
        // We offered only TLS 1.2, so every record from the server must say {3, 3}, the one
        // carrying ServerHello included (a server answering another version fails here).
        self.hs.conn.rec.fix_version();
        let sh: ServerHello = self.hs.read()?;
        if sh.server_version != ProtocolVersion::TLS12 {
            return Err(Error::ProtocolVersion {
                offered: sh.server_version.0,
            });
        }
        let suite = suite::lookup(sh.cipher_suite)
            .filter(|s| self.config.suites.contains(&s.suite))
            .ok_or_else(|| {
                Error::IllegalParameter(format!(
                    "the server chose cipher suite {}, which we did not offer",
                    sh.cipher_suite.name()
                ))
            })?;
        if sh.compression_method != COMPRESSION_NULL {
            return Err(Error::IllegalParameter(format!(
                "the server chose compression method {}, we offered only null",
                sh.compression_method
            )));
        }
        for e in sh.extensions.iter().flatten() {
            if extensions::find(&hello.extensions, e.typ).is_none() {
                return Err(Error::UnsupportedExtension(e.typ));
            }
            // RFC 5746 3.4: the server's renegotiation_info must be empty in an initial
            // handshake, else handshake_failure.
            if e.typ == extensions::RENEGOTIATION_INFO && e.data != [0] {
                return Err(Error::HandshakeFailure(
                    Reason::ServerRenegotiationInfoNotEmpty,
                ));
            }
            if e.typ == extensions::SERVER_NAME && !e.data.is_empty() {
                return Err(Error::decode(
                    "ServerHello",
                    "server_name extension must be empty (RFC 6066 3)",
                ));
            }
            // RFC 5077 3.2: the server's session_ticket is empty; it only promises a
            // NewSessionTicket.
            if e.typ == extensions::SESSION_TICKET && !e.data.is_empty() {
                return Err(Error::decode(
                    "ServerHello",
                    "session_ticket extension must be empty (RFC 5077 3.2)",
                ));
            }
            // RFC 7301 3.1: exactly one name, one we offered.
            if e.typ == extensions::APPLICATION_LAYER_PROTOCOL_NEGOTIATION {
                let chosen = Extension::parse_alpn_selection(&e.data)?;
                if !self.config.alpn_protocols.iter().any(|p| p == chosen) {
                    return Err(Error::IllegalParameter(format!(
                        "the server chose application protocol {:?}, which we did not offer \
                         (RFC 7301 3.2)",
                        String::from_utf8_lossy(chosen)
                    )));
                }
            }
        }
        Ok((sh, suite))
    }

    /// RFC 5246 7.4.1.3: the server resumes by echoing the session ID we offered (RFC 5077 3.4:
    /// the one sent with a ticket, too). It must then keep the session's suite, and (RFC 7627
    /// 5.3) answer extended_master_secret exactly as in the session's original handshake:
    /// `server_ems` says whether it did.
    fn resumed_session(
        &self,
        ch: &ClientHello,
        sh: &ServerHello,
        server_ems: bool,
    ) -> Result<Option<Session>> {
        let Some(s) = &self.offered_session else {
            return Ok(None);
        };
        if ch.session_id.is_empty() || sh.session_id != ch.session_id {
            // A miss: the server starts a new session; forget the old one.
            self.config.sessions.remove(self.server_name, self.port);
            return Ok(None);
        }
        if sh.cipher_suite != s.suite {
            return Err(Error::IllegalParameter(
                "the server resumed our session with a different cipher suite".into(),
            ));
        }
        // RFC 7627 5.3: both mismatches are a MUST abort. A server that resumes an EMS session
        // without the extension may not be the one that made it (or has lost track of how it
        // was made); one that adds the extension to a session made without it claims a
        // protection the session's master secret does not have.
        if server_ems != s.extended_master_secret {
            return Err(Error::HandshakeFailure(
                Reason::ResumedWithOtherMasterSecret {
                    session_ems: s.extended_master_secret,
                },
            ));
        }
        Ok(Some(s.clone()))
    }

    /// RFC 5246 7.3, the abbreviated handshake: the server resumed our session. No certificate
    /// and no RSA: fresh keys from the cached master secret and the new randoms. The server sends
    /// ChangeCipherSpec and Finished first (RFC 5077 3.1: after a NewSessionTicket if
    /// `ticket_follows`, renewing our ticket), then we answer with ours.
    fn abbreviated(
        mut self,
        client_hello: &ClientHello,
        server_hello: &ServerHello,
        suite: &'static SuiteInfo,
        mut session: Session,
        alpn_protocol: Option<Vec<u8>>,
        ticket_follows: bool,
    ) -> Result<Negotiated> {
        self.hs.tracer().note(|| Note::Resumed);
        let master = &session.master_secret;
        self.hs
            .prepare_keys(master, suite, client_hello, server_hello)?;
        let renewed = if ticket_follows {
            Some(self.read_new_session_ticket()?)
        } else {
            None
        };
        self.hs.read_change_cipher_spec_and_finished(master)?;
        self.hs.send_change_cipher_spec_and_finished(master)?;
        if let Some(ticket) = renewed {
            // The renewed ticket replaces the old one (an empty one: the server gives none).
            session.ticket = ticket;
            if session.id.is_empty() && session.ticket.is_none() {
                self.config.sessions.remove(self.server_name, self.port);
            } else {
                self.config
                    .sessions
                    .insert(self.server_name, self.port, session.clone());
            }
        }
        Ok(Negotiated {
            suite: session.suite,
            session_id: server_hello.session_id,
            resumed: true,
            peer_chain: session.peer_chain.clone(),
            server_name: Some(self.server_name.to_string()),
            extended_master_secret: session.extended_master_secret,
            alpn_protocol,
            resumed_with_ticket: self.offered_ticket,
        })
    }

    /// RFC 7627 5.2: in a full handshake a server that did not echo extended_master_secret is a
    /// legacy server. We continue with the RFC 5246 master secret unless the config requires the
    /// extension, in which case we abort with `handshake_failure`.
    fn check_full_handshake_ems(&self, server_ems: bool) -> Result<()> {
        match (self.config.extended_master_secret, server_ems) {
            (EmsMode::Required, false) => Err(Error::HandshakeFailure(
                Reason::ServerWithoutExtendedMasterSecret,
            )),
            (EmsMode::Enabled, false) => {
                self.hs.tracer().note(|| Note::LegacyMasterSecret);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// RFC 5246 7.4.2: the server's chain, leaf first.
    fn read_certificate(&mut self) -> Result<Vec<Vec<u8>>> {
        let m: CertificateMsg = self.hs.read()?;
        Ok(m.chain)
    }

    /// RFC 5246 7.4.2 and RFC 5280 6: is the chain signed by a CA we trust, valid now, and issued
    /// for the name we asked for? The verifier chooses the alert for each reason.
    fn verify_certificate(&self, chain: &[Vec<u8>]) -> Result<RsaPublicKey> {
        let now = self.config.clock.now();
        let key = self.config.verifier.verify(chain, self.server_name, now)?;
        self.hs.tracer().note(|| Note::CertificateVerified {
            host: self.server_name.to_string(),
            key_bits: key.bits(),
        });
        Ok(key)
    }

    /// RFC 5246 7.4.5: the server has sent all it will send before our key exchange.
    fn read_server_hello_done(&mut self) -> Result<()> {
        let _: ServerHelloDone = self.hs.read()?;
        Ok(())
    }

    /// RFC 5246 7.4.7.1: the pre-master secret is the version we offered plus 46 random bytes,
    /// encrypted with PKCS#1 v1.5 to the server's RSA key. Only the server can decrypt it.
    fn send_client_key_exchange(
        &mut self,
        hello: &ClientHello,
        server_key: &RsaPublicKey,
    ) -> Result<PreMasterSecret> {
        let pms = PreMasterSecret::generate(hello.client_version, &mut self.rng);
        self.hs
            .tracer()
            .secret(Secret::PreMaster, &pms.0, || Derivation::Chosen);
        let encrypted_pre_master = server_key
            .encrypt_pkcs1v15(&mut self.rng, &pms.0)
            .map_err(|e| Error::Internal(format!("RSA encryption failed: {e}")))?;
        self.hs
            .send(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
                encrypted_pre_master,
            }))?;
        Ok(pms)
    }

    /// Keeps the session for resumption, if the server gave it an ID or a ticket.
    fn remember_session(&self, n: &Negotiated, master: MasterSecret, ticket: Option<Ticket>) {
        if n.session_id.is_empty() && ticket.is_none() {
            return;
        }
        self.config.sessions.insert(
            self.server_name,
            self.port,
            Session {
                id: n.session_id,
                suite: n.suite,
                master_secret: master,
                peer_chain: n.peer_chain.clone(),
                created: self.config.clock.now(),
                server_name: Some(self.server_name.to_string()),
                // Verified a moment ago, so it parses.
                valid_until: n
                    .peer_chain
                    .first()
                    .and_then(|leaf| crate::x509::cert::Certificate::from_der(leaf).ok())
                    .map(|leaf| leaf.not_after()),
                extended_master_secret: n.extended_master_secret,
                ticket,
            },
        );
    }
}
