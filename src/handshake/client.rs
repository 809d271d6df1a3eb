//! The client's handshake, step by step, as RFC 5246 7.3 tells it.
//!
//! ```text
//! full handshake                              abbreviated (resumed) handshake
//! ClientHello          -->                    ClientHello (cached session ID) -->
//!                      <-- ServerHello                         <-- ServerHello (same ID)
//!                      <-- Certificate                         <-- ChangeCipherSpec
//!                      <-- ServerHelloDone                     <-- Finished
//! ClientKeyExchange    -->                    ChangeCipherSpec -->
//! ChangeCipherSpec     -->                    Finished         -->
//! Finished             -->
//!                      <-- ChangeCipherSpec
//!                      <-- Finished
//! ```
//!
//! [`handshake`] reads top to bottom in that order; each step is a function named after the
//! message it sends or reads, whose doc comment names its RFC section. Any error ends the
//! handshake; the caller ([`crate::stream::TlsStream::connect`]) sends the error's alert once.
//!
//! Extended master secret (RFC 7627): unless [`EmsMode::Off`], every ClientHello offers it, and if
//! the server echoes it the master secret is computed over the session hash instead of the
//! randoms ([`crate::handshake::keys::extended_master_secret`]). A server that does not echo it gets the RFC
//! 5246 master secret, or `handshake_failure` under [`EmsMode::Required`] (5.2). A session is
//! offered for resumption only if it was made the way this hello is made: with the extended
//! master secret when we offer it (5.3: "SHOULD NOT offer an abbreviated handshake to resume a
//! session that does not use an extended master secret"), without it when EMS is off (5.3: a
//! resumption offer "MUST send" the extension, so an EMS session cannot be offered without it).
//! A server that resumes with a different answer from the original session's is refused with
//! `handshake_failure` (5.3, both cases MUST).

use crate::config::{ClientConfig, EmsMode, connection_rng};
use crate::conn::Conn;
use crate::crypto::ct::ct_eq;
use crate::crypto::rsa::RsaPublicKey;
use crate::error::{Error, Result};
use crate::handshake::keys::{self, FinishedLabel, MasterSecret, PreMasterSecret};
use crate::handshake::session::Session;
use crate::record::suite::{self, RecordProtection, SuiteInfo};
use crate::wire::messages::extensions::{self, Extension};
use crate::wire::messages::hello::COMPRESSION_NULL;
use crate::wire::messages::{
    CertificateMsg, CipherSuite, ClientHello, ClientKeyExchange, Finished, HandshakeMessage,
    ProtocolVersion, Random, ServerHello, ServerHelloDone, SessionId,
};
use rand::Rng;
use rand::rngs::StdRng;
use std::io::{Read, Write};

/// What a finished handshake agreed on.
#[derive(Clone, Debug)]
pub struct Negotiated {
    pub suite: CipherSuite,
    pub session_id: SessionId,
    /// True if this was an abbreviated handshake resuming an earlier session.
    pub resumed: bool,
    /// The server's certificate chain (DER, leaf first).
    pub peer_chain: Vec<Vec<u8>>,
    /// The host name the client asked for (and the server received, if sent).
    pub server_name: Option<String>,
    /// True if the session's master secret is the extended one (RFC 7627), bound to the handshake
    /// that made it.
    pub extended_master_secret: bool,
}

/// The state a client handshake carries from step to step.
struct Client<'a> {
    config: &'a ClientConfig,
    rng: StdRng,
    server_name: &'a str,
    port: u16,
    hello: Option<ClientHello>,
    offered_session: Option<Session>,
}

/// Runs a client handshake over `conn` for `server_name` (checked against the certificate and
/// sent as server_name) and `port` (with the name, the key of the session store).
pub fn handshake<T: Read + Write>(
    conn: &mut Conn<T>,
    config: &ClientConfig,
    server_name: &str,
    port: u16,
) -> Result<Negotiated> {
    let mut c = Client {
        config,
        rng: connection_rng(&config.rng),
        server_name,
        port,
        hello: None,
        offered_session: None,
    };
    let client_hello = c.send_client_hello(conn)?;
    let server_hello = c.read_server_hello(conn)?;
    let suite = suite::lookup(server_hello.cipher_suite)
        .ok_or_else(|| Error::Internal("negotiated an unimplemented suite".into()))?;
    // read_server_hello refused the extension if we did not offer it.
    let ems = extensions::has_extended_master_secret(&server_hello.extensions, "ServerHello")?;

    if let Some(session) = c.resumed_session(&server_hello, ems)? {
        conn.tracer.note(|| {
            "the server resumed our session: no certificate, no RSA, keys from the cached master secret".into()
        });
        let mut n = abbreviated(conn, config, &client_hello, &server_hello, suite, session)?;
        n.server_name = Some(server_name.to_string());
        return Ok(n);
    }

    c.check_full_handshake_ems(conn, ems)?;
    let chain = c.read_certificate(conn)?;
    let server_key = c.verify_certificate(conn, &chain)?;
    read_server_hello_done(conn)?;
    let pre_master = c.send_client_key_exchange(conn, &client_hello, &server_key)?;
    // ClientKeyExchange is in the transcript now: its hash is the RFC 7627 session hash.
    let master = derive_master_secret(conn, &pre_master, &client_hello, &server_hello, ems);
    drop(pre_master);
    log_master_secret(&config.keylog, &client_hello, &master);
    derive_keys(conn, &master, suite, &client_hello, &server_hello)?;
    conn.send_change_cipher_spec()?;
    send_finished(conn, &master)?;
    conn.read_change_cipher_spec()?;
    read_finished(conn, &master)?;

    let negotiated = Negotiated {
        suite: server_hello.cipher_suite,
        session_id: server_hello.session_id,
        resumed: false,
        peer_chain: chain,
        server_name: Some(server_name.to_string()),
        extended_master_secret: ems,
    };
    c.remember_session(&negotiated, master);
    Ok(negotiated)
}

/// RFC 5246 7.3 (abbreviated handshake): the server sends ChangeCipherSpec and Finished first,
/// then we answer with ours.
fn abbreviated<T: Read + Write>(
    conn: &mut Conn<T>,
    config: &ClientConfig,
    client_hello: &ClientHello,
    server_hello: &ServerHello,
    suite: &'static SuiteInfo,
    session: Session,
) -> Result<Negotiated> {
    let master = session.master_secret.clone();
    log_master_secret(&config.keylog, client_hello, &master);
    derive_keys(conn, &master, suite, client_hello, server_hello)?;
    conn.read_change_cipher_spec()?;
    read_finished(conn, &master)?;
    conn.send_change_cipher_spec()?;
    send_finished(conn, &master)?;
    Ok(Negotiated {
        suite: session.suite,
        session_id: session.id,
        resumed: true,
        peer_chain: session.peer_chain.clone(),
        server_name: None,
        extended_master_secret: session.extended_master_secret,
    })
}

impl Client<'_> {
    /// RFC 5246 7.4.1.2: our version, a fresh random, the session we would like to resume (if
    /// we have one for this server, made with the extended master secret exactly when we offer
    /// it now: RFC 7627 5.3), our suites in order of preference, null compression, server_name
    /// (RFC 6066 3; not for IP literals), renegotiation_info, signature_algorithms and, unless
    /// it is off, extended_master_secret (RFC 7627 5.2: "in all handshakes").
    fn send_client_hello<T: Read + Write>(&mut self, conn: &mut Conn<T>) -> Result<ClientHello> {
        let mut random = [0u8; 32];
        // RFC 5246 7.4.1.2: gmt_unix_time then 28 random bytes.
        let now = self.config.clock.now().0 as u32;
        random[..4].copy_from_slice(&now.to_be_bytes());
        self.rng.fill_bytes(&mut random[4..]);
        let offer_ems = self.config.extended_master_secret != EmsMode::Off;
        self.offered_session = self
            .config
            .sessions
            .get(self.server_name, self.port)
            .filter(|s| {
                let usable = s.extended_master_secret == offer_ems;
                if !usable {
                    conn.tracer.note(|| {
                        "not offering the stored session: its master secret was made \
                         differently (extended or not) from what this hello offers (RFC 7627 5.3)"
                            .into()
                    });
                }
                usable
            });
        let session_id = self
            .offered_session
            .as_ref()
            .map(|s| s.id)
            .unwrap_or(SessionId::EMPTY);
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
        let hello = ClientHello {
            client_version: ProtocolVersion::TLS12,
            random: Random(random),
            session_id,
            cipher_suites: self.config.suites.clone(),
            compression_methods: vec![COMPRESSION_NULL],
            extensions: Some(exts),
        };
        conn.send(HandshakeMessage::ClientHello(hello.clone()))?;
        conn.flush()?;
        self.hello = Some(hello.clone());
        Ok(hello)
    }

    /// RFC 5246 7.4.1.3: the server's choices must be among our offers: TLS 1.2, one of our
    /// suites, null compression, and only extensions we sent.
    fn read_server_hello<T: Read + Write>(&mut self, conn: &mut Conn<T>) -> Result<ServerHello> {
        // We offered only TLS 1.2, so every record from the server must say {3, 3}, the one
        // carrying ServerHello included (a server answering another version fails here).
        conn.rec.fix_version();
        let sh: ServerHello = conn.read_message()?;
        if sh.server_version != ProtocolVersion::TLS12 {
            return Err(Error::ProtocolVersion {
                offered: sh.server_version.0,
            });
        }
        if !self.config.suites.contains(&sh.cipher_suite)
            || suite::lookup(sh.cipher_suite).is_none()
        {
            return Err(Error::IllegalParameter(format!(
                "the server chose cipher suite {}, which we did not offer",
                sh.cipher_suite.name()
            )));
        }
        if sh.compression_method != COMPRESSION_NULL {
            return Err(Error::IllegalParameter(format!(
                "the server chose compression method {}, we offered only null",
                sh.compression_method
            )));
        }
        let offered = self.hello.as_ref().and_then(|h| h.extensions.as_ref());
        for e in sh.extensions.iter().flatten() {
            if !offered.is_some_and(|o| o.iter().any(|x| x.typ == e.typ)) {
                return Err(Error::UnsupportedExtension(e.typ));
            }
            // RFC 5746 3.4: the server's renegotiation_info must be empty in an initial
            // handshake, else handshake_failure.
            if e.typ == extensions::RENEGOTIATION_INFO && e.data != [0] {
                return Err(Error::Handshake(
                    "the server's renegotiation_info is not empty (RFC 5746 3.4)".into(),
                ));
            }
            if e.typ == extensions::SERVER_NAME && !e.data.is_empty() {
                return Err(Error::decode(
                    "ServerHello",
                    "server_name extension must be empty (RFC 6066 3)",
                ));
            }
        }
        Ok(sh)
    }

    /// RFC 5246 7.4.1.3: the server resumes by echoing the session ID we offered. It must then
    /// keep the session's suite, and (RFC 7627 5.3) answer extended_master_secret exactly as in
    /// the session's original handshake: `server_ems` says whether it did.
    fn resumed_session(&self, sh: &ServerHello, server_ems: bool) -> Result<Option<Session>> {
        let Some(s) = &self.offered_session else {
            return Ok(None);
        };
        if sh.session_id != s.id {
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
            return Err(Error::Handshake(format!(
                "the server resumed a session made {} the extended master secret, {} the \
                 extension (RFC 7627 5.3)",
                if s.extended_master_secret {
                    "with"
                } else {
                    "without"
                },
                if server_ems {
                    "but echoed"
                } else {
                    "but without"
                },
            )));
        }
        Ok(Some(s.clone()))
    }

    /// RFC 7627 5.2: in a full handshake a server that did not echo extended_master_secret is a
    /// legacy server. We continue with the RFC 5246 master secret unless the config requires the
    /// extension, in which case we abort with `handshake_failure`.
    fn check_full_handshake_ems<T: Read + Write>(
        &self,
        conn: &mut Conn<T>,
        server_ems: bool,
    ) -> Result<()> {
        match (self.config.extended_master_secret, server_ems) {
            (EmsMode::Required, false) => Err(Error::Handshake(
                "the server does not support the extended master secret, which we require \
                 (RFC 7627 5.2)"
                    .into(),
            )),
            (EmsMode::Enabled, false) => {
                conn.tracer.note(|| {
                    "the server did not echo extended_master_secret: using the RFC 5246 master \
                     secret, which is not bound to this handshake (RFC 7627 5.2)"
                        .into()
                });
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// RFC 5246 7.4.2: the server's chain, leaf first.
    fn read_certificate<T: Read + Write>(&self, conn: &mut Conn<T>) -> Result<Vec<Vec<u8>>> {
        let m: CertificateMsg = conn.read_message()?;
        Ok(m.chain)
    }

    /// RFC 5246 7.4.2 and RFC 5280 6: is the chain signed by a CA we trust, valid now, and issued
    /// for the name we asked for? The verifier chooses the alert for each reason.
    fn verify_certificate<T: Read + Write>(
        &self,
        conn: &mut Conn<T>,
        chain: &[Vec<u8>],
    ) -> Result<RsaPublicKey> {
        let now = self.config.clock.now();
        let key = self.config.verifier.verify(chain, self.server_name, now)?;
        conn.tracer.note(|| {
            format!(
                "certificate chain verified for '{}' ({}-bit RSA key)",
                self.server_name,
                key.bits()
            )
        });
        Ok(key)
    }

    /// RFC 5246 7.4.7.1: the pre-master secret is the version we offered plus 46 random bytes,
    /// encrypted with PKCS#1 v1.5 to the server's RSA key. Only the server can decrypt it.
    fn send_client_key_exchange<T: Read + Write>(
        &mut self,
        conn: &mut Conn<T>,
        hello: &ClientHello,
        server_key: &RsaPublicKey,
    ) -> Result<PreMasterSecret> {
        let mut pms = PreMasterSecret([0u8; 48]);
        pms.0[..2].copy_from_slice(&hello.client_version.to_bytes());
        self.rng.fill_bytes(&mut pms.0[2..]);
        conn.tracer.secret("pre-master secret", &pms.0);
        let encrypted_pre_master = server_key
            .encrypt_pkcs1v15(&mut self.rng, &pms.0)
            .map_err(|e| Error::Internal(format!("RSA encryption failed: {e}")))?;
        conn.send(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
            encrypted_pre_master,
        }))?;
        Ok(pms)
    }

    /// Keeps the session for resumption, if the server gave it an ID.
    fn remember_session(&self, n: &Negotiated, master: MasterSecret) {
        if n.session_id.is_empty() {
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
                extended_master_secret: n.extended_master_secret,
            },
        );
    }
}

/// RFC 5246 7.4.5: the server has sent all it will send before our key exchange.
fn read_server_hello_done<T: Read + Write>(conn: &mut Conn<T>) -> Result<()> {
    let _: ServerHelloDone = conn.read_message()?;
    Ok(())
}

/// The master secret of a full handshake. With the extended master secret (`extended`: both
/// hellos carried the extension), RFC 7627 4: from the pre-master secret and the session hash,
/// the transcript hash right after ClientKeyExchange, so call this before anything else enters
/// the transcript. Otherwise RFC 5246 8.1: from the pre-master secret and both randoms.
pub(crate) fn derive_master_secret<T: Read + Write>(
    conn: &Conn<T>,
    pre_master: &PreMasterSecret,
    ch: &ClientHello,
    sh: &ServerHello,
    extended: bool,
) -> MasterSecret {
    let ms = if extended {
        let session_hash = conn.transcript_hash();
        conn.tracer.secret("session hash", &session_hash);
        conn.tracer.note(|| {
            "extended master secret (RFC 7627): the master secret is computed over the hash of \
             every handshake message so far, so it belongs to this handshake alone"
                .into()
        });
        keys::extended_master_secret(pre_master, &session_hash)
    } else {
        keys::master_secret(pre_master, &ch.random.0, &sh.random.0)
    };
    conn.tracer.secret("master secret", &ms.0);
    ms
}

/// Hands the connection's master secret to the configured key log (`SSLKEYLOGFILE`, see
/// [`crate::keylog`]), named by the client random; resumed connections are logged too, since each
/// has its own randoms.
pub(crate) fn log_master_secret(
    keylog: &Option<std::sync::Arc<dyn crate::keylog::KeyLog>>,
    ch: &ClientHello,
    ms: &MasterSecret,
) {
    if let Some(k) = keylog {
        k.log(&ch.random.0, &ms.0);
    }
}

/// RFC 5246 6.3: the key block, cut into the keys of both directions, which become the record
/// layer's pending states (RFC 5246 6.1) until each side's ChangeCipherSpec.
pub(crate) fn derive_keys<T>(
    conn: &mut Conn<T>,
    ms: &MasterSecret,
    suite: &'static SuiteInfo,
    ch: &ClientHello,
    sh: &ServerHello,
) -> Result<()> {
    let kb = keys::key_block(ms, suite, &ch.random.0, &sh.random.0);
    let t = &conn.tracer;
    let (c, s) = (kb.client_write(), kb.server_write());
    t.secret("key block", kb.as_bytes());
    t.secret("client write MAC key", c.mac_key);
    t.secret("server write MAC key", s.mac_key);
    t.secret("client write key", c.enc_key);
    t.secret("server write key", s.enc_key);
    t.secret("client write IV", c.iv);
    t.secret("server write IV", s.iv);
    let (read, write) = kb.for_side(conn.tracer.side());
    conn.rec.prepare(
        RecordProtection::new(suite, &read)?,
        RecordProtection::new(suite, &write)?,
    );
    Ok(())
}

/// RFC 5246 7.4.9: our Finished, over every handshake message so far; the first message under
/// the new keys.
fn send_finished<T: Read + Write>(conn: &mut Conn<T>, ms: &MasterSecret) -> Result<()> {
    let verify_data = keys::verify_data(ms, FinishedLabel::Client, &conn.transcript_hash());
    conn.tracer.secret("client verify_data", &verify_data);
    conn.send(HandshakeMessage::Finished(Finished { verify_data }))?;
    conn.flush()
}

/// RFC 5246 7.4.9: the server's Finished must equal what we compute over the same transcript
/// (compared in constant time); otherwise someone changed a message or the server does not have
/// the pre-master secret: `decrypt_error`.
fn read_finished<T: Read + Write>(conn: &mut Conn<T>, ms: &MasterSecret) -> Result<()> {
    let expected = keys::verify_data(ms, FinishedLabel::Server, &conn.transcript_hash());
    let f: Finished = conn.read_message()?;
    if !ct_eq(&f.verify_data, &expected) {
        return Err(Error::BadFinished);
    }
    conn.tracer
        .note(|| "server Finished verified: both sides hold the same keys".into());
    Ok(())
}
