//! What both handshakes do the same way, written once: the flight and the transcript, reading the
//! next message, the randoms, the master secret and the keys of each side, and ChangeCipherSpec
//! with Finished.
//!
//! [`Handshake`] is one handshake in progress on a [`Conn`]: the messages sent and received so far
//! (the transcript Finished covers, RFC 5246 7.4.9) and the flight being written. Its
//! [`Handshake::read`] is the one place that reads the next handshake message: it checks the
//! message's type against what the handshake expects and answers anything else with
//! `unexpected_message` (RFC 5246 7.3: the order of the flows is fixed).
//!
//! The two sides differ only in which keys they write with and which Finished label is theirs;
//! both follow from the connection's [`Side`].

use crate::Side;
use crate::clock::UnixTime;
use crate::conn::Conn;
use crate::crypto::ct::ct_eq;
use crate::crypto::rsa::SignatureHash;
use crate::error::{Error, Result};
use crate::handshake::keys::{self, MasterSecret, PreMasterSecret};
use crate::keylog::KeyLog;
use crate::record::ContentType;
use crate::record::suite::{RecordProtection, SuiteInfo};
use crate::trace::{Derivation, Dir, Note, Secret, TraceEvent, Tracer};
use crate::wire::codec::Reader;
use crate::wire::messages::{
    CertificateMsg, CertificateRequest, CertificateVerify, ChangeCipherSpec, ClientHello,
    ClientKeyExchange, Finished, HandshakeMessage, HandshakeType, NewSessionTicket, Random,
    ServerHello, ServerHelloDone, SignatureScheme, client_auth,
};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::Arc;

/// A handshake message type [`Handshake::read`] can be asked for.
pub trait Expected: Sized {
    const TYPE: HandshakeType;
    fn from_message(m: HandshakeMessage) -> Option<Self>;
}

macro_rules! expected {
    ($t:ty, $variant:ident) => {
        impl Expected for $t {
            const TYPE: HandshakeType = HandshakeType::$variant;
            fn from_message(m: HandshakeMessage) -> Option<Self> {
                match m {
                    HandshakeMessage::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}
expected!(ClientHello, ClientHello);
expected!(ServerHello, ServerHello);
expected!(ServerHelloDone, ServerHelloDone);
expected!(ClientKeyExchange, ClientKeyExchange);
expected!(Finished, Finished);
expected!(CertificateMsg, Certificate);
expected!(CertificateRequest, CertificateRequest);
expected!(CertificateVerify, CertificateVerify);
expected!(NewSessionTicket, NewSessionTicket);

/// One handshake in progress on a connection.
pub struct Handshake<'c, T> {
    /// The connection the handshake runs on.
    pub conn: &'c mut Conn<T>,
    /// SHA-256 over every handshake message sent and received, for Finished (RFC 5246 7.4.9)
    /// and the extended master secret's session hash (RFC 7627 3).
    transcript: Sha256,
    /// Our handshake messages not yet sent: one flight goes out together, coalesced into as few
    /// records as possible.
    flight: Vec<u8>,
    /// Where the master secret goes when the keys are made (`SSLKEYLOGFILE`, [`crate::keylog`]).
    keylog: Option<Arc<dyn KeyLog>>,
    /// Every handshake message so far, kept only when [`Self::keep_messages`] asked for it: a
    /// CertificateVerify signs them with a hash the server chooses (RFC 5246 7.4.8), which need
    /// not be the transcript's SHA-256.
    messages: Option<Vec<u8>>,
}

impl<'c, T: Read + Write> Handshake<'c, T> {
    /// A handshake about to start on `conn`.
    pub fn new(conn: &'c mut Conn<T>) -> Self {
        Handshake {
            conn,
            transcript: Sha256::new(),
            flight: Vec::new(),
            keylog: None,
            messages: None,
        }
    }

    /// Keeps the handshake messages themselves from now on, not only their hash, for a
    /// CertificateVerify (call before the first message).
    pub fn keep_messages(&mut self) {
        self.messages.get_or_insert_with(Vec::new);
    }

    /// The handshake messages so far, if [`Self::keep_messages`] was called.
    pub fn messages(&self) -> Option<&[u8]> {
        self.messages.as_deref()
    }

    fn add_to_transcript(transcript: &mut Sha256, messages: &mut Option<Vec<u8>>, bytes: &[u8]) {
        transcript.update(bytes);
        if let Some(m) = messages {
            m.extend_from_slice(bytes);
        }
    }

    /// The same, handing each master secret to `keylog` when the keys are made from it.
    pub fn with_keylog(mut self, keylog: Option<Arc<dyn KeyLog>>) -> Self {
        self.keylog = keylog;
        self
    }

    /// Our side of the connection.
    pub fn side(&self) -> Side {
        self.conn.side()
    }

    /// Where this connection's trace events go.
    pub fn tracer(&self) -> &Tracer {
        &self.conn.tracer
    }

    /// SHA-256 of the handshake messages so far (the transcript goes on).
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.transcript.clone().finalize().into()
    }

    /// Queues a handshake message of our current flight and adds it to the transcript.
    pub fn send(&mut self, msg: HandshakeMessage) -> Result<()> {
        let bytes = msg.to_bytes()?;
        Self::add_to_transcript(&mut self.transcript, &mut self.messages, &bytes);
        self.conn.tracer.emit(|side| TraceEvent::Handshake {
            side,
            dir: Dir::Sent,
            message: msg.typ(),
            fields: msg.fields(),
            raw: bytes.clone(),
        });
        self.flight.extend_from_slice(&bytes);
        Ok(())
    }

    /// Sends the queued flight (and what [`Self::send_change_cipher_spec`] queued before it), in
    /// one write to the transport.
    pub fn flush(&mut self) -> Result<()> {
        let c = &mut *self.conn;
        if self.flight.is_empty() && !c.rec.has_queued() {
            return Ok(());
        }
        c.rec
            .write_records(&mut c.io, ContentType::Handshake, &self.flight)?;
        self.flight.clear();
        Ok(())
    }

    /// Reads the next handshake message, which must be of type `M` (else `unexpected_message`,
    /// once it is whole and before it is decoded), and adds it to the transcript. A client skips
    /// HelloRequests on the way (RFC 5246 7.4.1.1).
    pub fn read<M: Expected>(&mut self) -> Result<M> {
        let expected = M::TYPE.name();
        let header = self.next_header(expected)?;
        if header.typ != M::TYPE.code() {
            return Err(Error::UnexpectedMessage {
                expected,
                got: HandshakeType::name_of(header.typ),
            });
        }
        let c = &mut *self.conn;
        let (transcript, messages) = (&mut self.transcript, &mut self.messages);
        let msg = c.joiner.take(header, &c.tracer, |b| {
            Self::add_to_transcript(transcript, messages, b)
        })?;
        M::from_message(msg).ok_or_else(|| Error::Internal("message type mismatch".into()))
    }

    /// Is the next handshake message of type `M`? Waits until it is whole, and leaves it to
    /// [`Self::read`]: for the one optional message, CertificateRequest (RFC 5246 7.4.4), whose
    /// absence is the next message's presence. `expected` names what may come, in errors.
    pub fn next_is<M: Expected>(&mut self, expected: &'static str) -> Result<bool> {
        Ok(self.next_header(expected)?.typ == M::TYPE.code())
    }

    /// The header of the next handshake message, once the whole message is buffered.
    fn next_header(&mut self, expected: &'static str) -> Result<super::joiner::Header> {
        let header = loop {
            let c = &mut *self.conn;
            if c.side() == Side::Client {
                c.joiner.skip_hello_requests(&c.tracer)?;
            }
            if let Some(h) = c.joiner.header()
                && c.joiner.holds(h.within_limit()?)
            {
                break h;
            }
            let (typ, range) = c.read_record()?;
            match typ {
                ContentType::Handshake => c.joiner.push(c.rec.plaintext(range))?,
                other => return Err(c.unexpected_record(expected, other, range)),
            }
        };
        Ok(header)
    }

    /// RFC 5246 7.1: sends ChangeCipherSpec (after the flight before it), and our records are
    /// protected from the next one on: the pending write state becomes current. The flight and
    /// the ChangeCipherSpec are sealed now but written with the next [`Self::flush`], so that
    /// they and the Finished that follows leave in one write (the peer reads one segment).
    pub fn send_change_cipher_spec(&mut self) -> Result<()> {
        let c = &mut *self.conn;
        c.rec.queue_records(ContentType::Handshake, &self.flight)?;
        self.flight.clear();
        c.rec
            .queue_records(ContentType::ChangeCipherSpec, &ChangeCipherSpec::BYTES)?;
        c.tracer.emit(|side| TraceEvent::ChangeCipherSpec {
            side,
            dir: Dir::Sent,
        });
        c.rec.change_write_state()
    }

    /// RFC 5246 7.1: waits for the peer's ChangeCipherSpec; its records are protected from the
    /// next one on. A handshake message may not straddle the key change, and a client still
    /// skips HelloRequests (RFC 5246 7.4.1.1); anything else is out of place.
    pub fn read_change_cipher_spec(&mut self) -> Result<()> {
        let c = &mut *self.conn;
        loop {
            if !c.joiner.is_empty() {
                return Err(Error::UnexpectedMessage {
                    expected: "ChangeCipherSpec",
                    got: "a handshake message before it".into(),
                });
            }
            let (typ, range) = c.read_record()?;
            match typ {
                ContentType::ChangeCipherSpec => {
                    let body = c.rec.plaintext(range);
                    // RFC 5246 6.2.1 lets messages of one type share a record: a record of
                    // 01 01 is two ChangeCipherSpec messages, and what follows the first comes
                    // where only Finished, in a handshake record, may.
                    if body.len() > 1 && body[0] == ChangeCipherSpec::BYTES[0] {
                        return Err(Error::UnexpectedMessage {
                            expected: "Finished",
                            got: format!(
                                "{} more bytes after the ChangeCipherSpec in its record",
                                body.len() - 1
                            ),
                        });
                    }
                    ChangeCipherSpec::decode(&mut Reader::new(body))?;
                    c.tracer.emit(|side| TraceEvent::ChangeCipherSpec {
                        side,
                        dir: Dir::Received,
                    });
                    return c.rec.change_read_state();
                }
                // A HelloRequest cut across records, or anything after it, stays in the joiner
                // and is refused above.
                ContentType::Handshake if c.side() == Side::Client => {
                    c.joiner.push(c.rec.plaintext(range))?;
                    c.joiner.skip_hello_requests(&c.tracer)?;
                }
                other => return Err(c.unexpected_record("ChangeCipherSpec", other, range)),
            }
        }
    }

    /// RFC 5246 7.1 and 7.4.9: our ChangeCipherSpec, then our Finished, the first message under
    /// the new keys: `verify_data` over every handshake message so far, with our label.
    pub fn send_change_cipher_spec_and_finished(&mut self, ms: &MasterSecret) -> Result<()> {
        self.send_change_cipher_spec()?;
        let me = self.side();
        let hash = self.transcript_hash();
        let verify_data = keys::verify_data(ms, me, &hash);
        self.tracer()
            .secret(Secret::VerifyData(me), &verify_data, || Derivation::Prf {
                secret: Secret::Master,
                label: keys::finished_label(me),
                seed: hash.to_vec(),
            });
        self.send(HandshakeMessage::Finished(Finished { verify_data }))?;
        self.flush()
    }

    /// RFC 5246 7.1 and 7.4.9: the peer's ChangeCipherSpec, then its Finished, which must equal
    /// what we compute over the same transcript with its label (compared in constant time).
    /// Otherwise someone changed a message, or the peer does not hold the keys: `decrypt_error`.
    /// (A server that could not decrypt the pre-master secret fails earlier, at the Finished
    /// record's MAC: `bad_record_mac`.)
    pub fn read_change_cipher_spec_and_finished(&mut self, ms: &MasterSecret) -> Result<()> {
        self.read_change_cipher_spec()?;
        let peer = self.side().peer();
        let expected = keys::verify_data(ms, peer, &self.transcript_hash());
        let f: Finished = self.read()?;
        if !ct_eq(&f.verify_data, &expected) {
            return Err(Error::BadFinished);
        }
        self.tracer().note(|| Note::FinishedVerified { peer });
        Ok(())
    }

    /// A full handshake's keys, once ClientKeyExchange is in the transcript (its hash is the RFC
    /// 7627 session hash): the master secret from the pre-master secret, which is dropped (and
    /// wiped) here, then each direction's keys prepared. Returns the master secret, for Finished
    /// and the session.
    pub fn keys_from_pre_master(
        &mut self,
        pre_master: PreMasterSecret,
        ch: &ClientHello,
        sh: &ServerHello,
        extended: bool,
        suite: &'static SuiteInfo,
    ) -> Result<MasterSecret> {
        let master = self.master_secret(&pre_master, ch, sh, extended);
        drop(pre_master);
        self.prepare_keys(&master, suite, ch, sh)?;
        Ok(master)
    }

    /// The master secret of a full handshake. With the extended master secret (`extended`: both
    /// hellos carried the extension), RFC 7627 4: from the pre-master secret and the session
    /// hash, the transcript hash right after ClientKeyExchange, so call this before anything else
    /// enters the transcript. Otherwise RFC 5246 8.1: from the pre-master secret and both randoms.
    pub fn master_secret(
        &self,
        pre_master: &PreMasterSecret,
        ch: &ClientHello,
        sh: &ServerHello,
        extended: bool,
    ) -> MasterSecret {
        let t = self.tracer();
        let (ms, label, seed) = if extended {
            let session_hash = self.transcript_hash();
            t.secret(Secret::SessionHash, &session_hash, || {
                Derivation::TranscriptHash
            });
            t.note(|| Note::ExtendedMasterSecret);
            let ms = keys::extended_master_secret(pre_master, &session_hash);
            let seed = session_hash.to_vec();
            (ms, keys::EXTENDED_MASTER_SECRET_LABEL, seed)
        } else {
            let ms = keys::master_secret(pre_master, &ch.random.0, &sh.random.0);
            let seed = keys::master_secret_seed(&ch.random.0, &sh.random.0).to_vec();
            (ms, keys::MASTER_SECRET_LABEL, seed)
        };
        t.secret(Secret::Master, &ms.0, || Derivation::Prf {
            secret: Secret::PreMaster,
            label,
            seed,
        });
        ms
    }

    /// RFC 5246 6.3: the key block for `suite`, cut into each direction's keys, which become the
    /// record layer's pending states (RFC 5246 6.1): we will write with our side's keys and read
    /// with the peer's, each from its ChangeCipherSpec on. Full and abbreviated handshakes both
    /// come here, so this is where the master secret goes to the key log, named by the client
    /// random: a resumed connection has its own randoms and needs its own line.
    pub fn prepare_keys(
        &mut self,
        ms: &MasterSecret,
        suite: &'static SuiteInfo,
        ch: &ClientHello,
        sh: &ServerHello,
    ) -> Result<()> {
        let (cr, sr) = (&ch.random.0, &sh.random.0);
        if let Some(k) = &self.keylog {
            k.log(cr, &ms.0);
        }
        let kb = keys::key_block(ms, suite, cr, sr);
        let t = self.tracer();
        t.secret(Secret::KeyBlock, kb.as_bytes(), || Derivation::Prf {
            secret: Secret::Master,
            label: keys::KEY_EXPANSION_LABEL,
            seed: keys::key_expansion_seed(cr, sr).to_vec(),
        });
        for (writer, part, range) in kb.layout() {
            let secret = Secret::Key { writer, part };
            let value = &kb.as_bytes()[range.clone()];
            t.secret(secret, value, || Derivation::KeyBlockPart(range));
        }
        let (read, write) = kb.for_side(self.side());
        let (read, write) = (
            RecordProtection::new(suite, &read)?,
            RecordProtection::new(suite, &write)?,
        );
        self.conn.rec.prepare(read, write);
        Ok(())
    }
}

/// RFC 5246 7.4.1.2: a hello's `Random`, `gmt_unix_time` (4 bytes) then 28 random bytes.
pub fn random(now: UnixTime, rng: &mut impl Rng) -> Random {
    let mut random = [0u8; 32];
    random[..4].copy_from_slice(&(now.0 as u32).to_be_bytes());
    rng.fill_bytes(&mut random[4..]);
    Random(random)
}

/// The hash of an `rsa_pkcs1_*` scheme toytls signs with, or `None` for any other (SHA-1 and MD5
/// are deprecated for TLS 1.2 signatures, RFC 9155; PSS and ECDSA are not implemented).
pub fn signature_hash(s: SignatureScheme) -> Option<SignatureHash> {
    match s {
        client_auth::RSA_PKCS1_SHA256 => Some(SignatureHash::Sha256),
        client_auth::RSA_PKCS1_SHA384 => Some(SignatureHash::Sha384),
        client_auth::RSA_PKCS1_SHA512 => Some(SignatureHash::Sha512),
        _ => None,
    }
}
