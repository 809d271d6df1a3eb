//! What the decryptor learns from the handshake messages: the randoms and the suite from the
//! hellos, the master secret from ClientKeyExchange (or the key log, or the session a resumed
//! connection names), and the proof that it is right: both Finished messages.

use super::{CLIENT, Conn, Decryptor, Event, KeySource, SERVER, side};
use crate::crypto::ct::ct_eq;
use crate::handshake::joiner::{Header, MAX_HANDSHAKE_MESSAGE};
use crate::handshake::keys::{self, MasterSecret, PreMasterSecret};
use crate::record::suite::{RecordProtection, lookup};
use crate::wire::messages::extensions::has_extended_master_secret;
use crate::wire::messages::{HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType, hex};
use sha2::Digest;

impl Decryptor<'_> {
    pub(super) fn handshake_messages(&mut self, conn: &mut Conn, from: usize) {
        loop {
            let Some(Header { len, .. }) = Header::parse(&conn.dirs[from].handshake) else {
                return;
            };
            if len > MAX_HANDSHAKE_MESSAGE {
                self.problem(
                    conn,
                    format!(
                        "a handshake message of {len} bytes from the {}",
                        side(from).name()
                    ),
                );
                return;
            }
            let whole = HANDSHAKE_HEADER_LEN + len;
            if conn.dirs[from].handshake.len() < whole {
                return;
            }
            let msg: Vec<u8> = conn.dirs[from].handshake.drain(..whole).collect();
            self.handshake_message(conn, from, &msg);
            if conn.dead {
                return;
            }
        }
    }

    pub(super) fn handshake_message(&mut self, conn: &mut Conn, from: usize, msg: &[u8]) {
        let id = conn.id;
        let typ = msg[0];
        let body = &msg[HANDSHAKE_HEADER_LEN..];
        (self.sink)(Event::Handshake {
            id,
            from: side(from),
            name: HandshakeType::name_of(typ),
        });
        let done = conn.dirs[CLIENT].finished && conn.dirs[SERVER].finished;
        if done || typ == HandshakeType::HelloRequest.code() {
            // After the handshake: a renegotiation attempt (toytls refuses them), not followed.
            // HelloRequest is never part of the transcript (RFC 5246 7.4.1.1).
            return;
        }
        match HandshakeType::from_code(typ) {
            Some(HandshakeType::ClientHello) if from == CLIENT => {
                let Ok(HandshakeMessage::ClientHello(ch)) = HandshakeMessage::decode(typ, body)
                else {
                    self.problem(conn, "the ClientHello does not decode".into());
                    return;
                };
                conn.client_random = Some(ch.random.0);
                conn.client_version = ch.client_version.to_bytes();
                conn.offered_session = ch.session_id.as_slice().to_vec();
                conn.offered_ticket = crate::wire::messages::extensions::find(
                    &ch.extensions,
                    crate::wire::messages::extensions::SESSION_TICKET,
                )
                .map(|e| e.data.clone())
                .unwrap_or_default();
                conn.ems_offered =
                    has_extended_master_secret(&ch.extensions, "ClientHello").unwrap_or(false);
            }
            Some(HandshakeType::ServerHello) if from == SERVER => {
                let Ok(HandshakeMessage::ServerHello(sh)) = HandshakeMessage::decode(typ, body)
                else {
                    self.problem(conn, "the ServerHello does not decode".into());
                    return;
                };
                let Some(info) = lookup(sh.cipher_suite) else {
                    self.problem(
                        conn,
                        format!(
                            "the suite is {}, not one of the RSA key transport suites toytls speaks (if it is an ephemeral ECDHE or DHE suite, no server key could recover its keys: that is forward secrecy)",
                            sh.cipher_suite.name()
                        ),
                    );
                    return;
                };
                conn.server_random = Some(sh.random.0);
                conn.suite = Some(info);
                conn.session_id = sh.session_id.as_slice().to_vec();
                conn.ems = conn.ems_offered
                    && has_extended_master_secret(&sh.extensions, "ServerHello").unwrap_or(false);
                conn.resumed =
                    !conn.session_id.is_empty() && conn.session_id == conn.offered_session;
                (self.sink)(Event::Negotiated {
                    id,
                    suite: info.name().to_string(),
                    resumed: conn.resumed,
                    extended_master_secret: conn.ems,
                });
                conn.transcript.update(msg);
                if conn.resumed {
                    self.resume(conn);
                }
                return;
            }
            Some(HandshakeType::ServerKeyExchange) => {
                self.problem(
                    conn,
                    "the server sent a ServerKeyExchange: an ephemeral (DHE/ECDHE) key exchange. Its secret never crossed the wire, even encrypted, so the server's key cannot recover it: this is forward secrecy".into(),
                );
                return;
            }
            Some(HandshakeType::ClientKeyExchange) if from == CLIENT => {
                conn.transcript.update(msg);
                self.key_exchange(conn, body);
                return;
            }
            Some(HandshakeType::NewSessionTicket) if from == SERVER => {
                // A session ticket: a later connection may resume this session by presenting it.
                if let (Ok(HandshakeMessage::NewSessionTicket(nst)), Some(ms)) =
                    (HandshakeMessage::decode(typ, body), &conn.master)
                    && !nst.ticket.is_empty()
                {
                    self.tickets.insert(nst.ticket, (conn.id, ms.clone()));
                }
            }
            Some(HandshakeType::Finished) => {
                self.finished(conn, from, body);
                conn.transcript.update(msg);
                return;
            }
            Some(
                HandshakeType::ClientHello
                | HandshakeType::ServerHello
                | HandshakeType::ClientKeyExchange,
            ) => {
                self.problem(
                    conn,
                    format!(
                        "a {} from the {}",
                        HandshakeType::name_of(typ),
                        side(from).name()
                    ),
                );
                return;
            }
            _ => {}
        }
        conn.transcript.update(msg);
    }

    /// RFC 5246 7.4.7.1 and 8.1: the pre-master secret from the ClientKeyExchange, then the
    /// master secret and the keys.
    pub(super) fn key_exchange(&mut self, conn: &mut Conn, body: &[u8]) {
        let id = conn.id;
        let (Some(cr), Some(sr)) = (conn.client_random, conn.server_random) else {
            self.problem(
                conn,
                "a ClientKeyExchange, but the ServerHello is not in the capture (a segment lost?)"
                    .into(),
            );
            return;
        };
        // RFC 7627 3: the session hash covers the handshake up to and including this message.
        let session_hash: [u8; 32] = conn.transcript.clone().finalize().into();
        if let Some(ms) = self.secrets.key_log.get(&cr) {
            self.keys(conn, MasterSecret(*ms), KeySource::KeyLog);
            return;
        }
        let Some(key) = &self.secrets.server_key else {
            conn.no_keys = Some(format!(
                "the key log has no line for client random {}",
                hex(&cr)
            ));
            return;
        };
        let Ok(HandshakeMessage::ClientKeyExchange(cke)) = HandshakeMessage::decode(16, body)
        else {
            self.problem(conn, "the ClientKeyExchange does not decode".into());
            return;
        };
        let pms = match key.decrypt_pkcs1v15(&mut rand::rng(), &cke.encrypted_pre_master) {
            Ok(p) if p.len() == 48 && p[..2] == conn.client_version => p,
            Ok(p) if p.len() == 48 => {
                conn.no_keys = Some(format!(
                    "the pre-master secret decrypts, but starts with version {} instead of the ClientHello's {} (a server goes on with a random secret then, RFC 5246 7.4.7.1, and the handshake fails)",
                    hex(&p[..2]),
                    hex(&conn.client_version)
                ));
                return;
            }
            _ => {
                conn.no_keys = Some(
                    "the pre-master secret does not decrypt with this key: wrong key (not the key of the server's certificate)".into(),
                );
                return;
            }
        };
        let mut secret = [0u8; 48];
        secret.copy_from_slice(&pms);
        let pms = PreMasterSecret(secret);
        (self.sink)(Event::PreMaster {
            id,
            secret: pms.0.to_vec(),
        });
        let ms = if conn.ems {
            keys::extended_master_secret(&pms, &session_hash)
        } else {
            keys::master_secret(&pms, &cr, &sr)
        };
        self.keys(conn, ms, KeySource::ServerKey);
    }

    /// An abbreviated handshake: the master secret of the session it resumes.
    pub(super) fn resume(&mut self, conn: &mut Conn) {
        if let Some(ms) = conn
            .client_random
            .and_then(|cr| self.secrets.key_log.get(&cr))
        {
            self.keys(conn, MasterSecret(*ms), KeySource::KeyLog);
            return;
        }
        let by_ticket = self.tickets.get(&conn.offered_ticket);
        match by_ticket.or_else(|| self.sessions.get(&conn.session_id)) {
            Some((from, ms)) => {
                let (from, ms) = (*from, ms.clone());
                self.keys(conn, ms, KeySource::Resumed { from });
            }
            None => {
                conn.no_keys = Some(format!(
                    "the session it resumes ({}) was not recovered from this capture: its full handshake is not in it, or could not be decrypted",
                    hex(&conn.session_id)
                ));
            }
        }
    }

    /// The key block for both directions, switched on at each side's ChangeCipherSpec.
    pub(super) fn keys(&mut self, conn: &mut Conn, ms: MasterSecret, source: KeySource) {
        let (Some(cr), Some(sr), Some(info)) = (conn.client_random, conn.server_random, conn.suite)
        else {
            return;
        };
        (self.sink)(Event::Master {
            id: conn.id,
            source: source.clone(),
            secret: ms.0.to_vec(),
        });
        let kb = keys::key_block(&ms, info, &cr, &sr);
        let client = RecordProtection::new(info, &kb.client_write());
        let server = RecordProtection::new(info, &kb.server_write());
        match (client, server) {
            (Ok(c), Ok(s)) => {
                conn.dirs[CLIENT].pending = Some(c);
                conn.dirs[SERVER].pending = Some(s);
            }
            _ => {
                self.problem(conn, "no record protection for this suite".into());
                return;
            }
        }
        if !conn.resumed && !conn.session_id.is_empty() {
            self.sessions
                .insert(conn.session_id.clone(), (conn.id, ms.clone()));
        }
        conn.master = Some(ms);
    }

    /// RFC 5246 7.4.9: the Finished message proves the keys are the connection's.
    pub(super) fn finished(&mut self, conn: &mut Conn, from: usize, body: &[u8]) {
        let Some(ms) = &conn.master else {
            return;
        };
        let hash: [u8; 32] = conn.transcript.clone().finalize().into();
        let expected = keys::verify_data(ms, side(from), &hash);
        if !ct_eq(&expected, body) {
            self.problem(
                conn,
                format!("the {}'s Finished does not match the transcript: the recovered master secret is wrong", side(from).name()),
            );
            return;
        }
        conn.dirs[from].finished = true;
        conn.verified += 1;
        (self.sink)(Event::FinishedVerified {
            id: conn.id,
            from: side(from),
        });
    }
}
