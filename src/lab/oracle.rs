//! A padding oracle: the lab's vulnerable server, and the client that asks it questions.
//!
//! # The vulnerable server
//! [`InsecurePaddingOracle`] is the mistake RFC 5246 7.4.7.1 forbids, put in front of the real
//! toytls server: it wraps the server's transport, reads the client's records before the
//! server does, and when a ClientKeyExchange goes by it decrypts the pre-master secret itself
//! with the server's key and a plain PKCS#1 v1.5 check
//! ([`RsaPrivateKey::decrypt_pkcs1v15`]). A badly padded one is answered at once with a fatal
//! `decrypt_error` alert, and the server never sees it; a well padded one goes on to the server,
//! which continues the handshake (and, since a prober's Finished is garbage, ends it with
//! `bad_record_mac`). Two different answers: one bit about the plaintext per connection. That is
//! how the servers ROBOT found in 2017 (Böck, Somorovsky, Young: "Return Of Bleichenbacher's
//! Oracle Threat") went wrong, nineteen years after the attack was published: a TLS terminator
//! or hardware accelerator whose RSA step reported what the TLS code carefully hid.
//!
//! The real server has no such branch: it gets the pre-master secret from
//! [`PreMasterSecret::decrypt`], which returns 48 bytes whatever happens (the
//! decrypted ones, or random ones when anything is wrong) and has no error to report, so no code
//! after it can tell a good padding from a bad one.
//!
//! # The client that asks
//! [`OracleClient`] sends, on each connection, a ClientHello, a ClientKeyExchange holding the
//! ciphertext to ask about, a ChangeCipherSpec and a "Finished" record of random bytes (it does
//! not know the keys, and does not need to), all at once, and records the server's [`Answer`]:
//! which handshake messages and which alert came back. [`calibrate`] first asks about blocks
//! the attacker built itself (it can: encryption needs only the public key) whose padding it
//! knows to be good or bad ([`Probe`]); if the answers differ, it has found an oracle.
//!
//! [`PreMasterSecret::decrypt`]: crate::handshake::keys::PreMasterSecret::decrypt

use crate::config::ServerConfig;
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::lab::bleichenbacher::encrypt_raw;
use crate::lab::mitm::WireRecord;
use crate::stream::TlsStream;
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::codec::Reader;
use crate::wire::messages::extensions::Extension;
use crate::wire::messages::hello::COMPRESSION_NULL;
use crate::wire::messages::{
    CipherSuite, ClientHello, ClientKeyExchange, HANDSHAKE_HEADER_LEN, HandshakeMessage,
    HandshakeType, ProtocolVersion, Random, SessionId,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The alert the vulnerable front end answers a badly padded ClientKeyExchange with.
pub const ORACLE_ALERT: AlertDescription = AlertDescription::DecryptError;

/// Where the front end is in the client's byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Watch {
    /// Reading records, looking for the ClientKeyExchange.
    Watching,
    /// Past it (or past the ChangeCipherSpec): bytes go straight through.
    PassThrough,
    /// It refused a ClientKeyExchange: the server is told the client went away.
    Refused,
}

/// The lab's vulnerable server transport: see the module documentation. Wraps one server
/// connection's transport; the server reads and writes through it as usual.
pub struct InsecurePaddingOracle<T> {
    inner: T,
    key: RsaPrivateKey,
    rng: StdRng,
    /// One record read from the client, not yet all handed to the server.
    pending: Vec<u8>,
    pos: usize,
    watch: Watch,
}

impl<T: Read + Write> InsecurePaddingOracle<T> {
    /// Puts the padding oracle in front of the server connection `inner`; `key` is the server's
    /// private key. There is no secure use for this: it exists to be attacked.
    pub fn insecure_new(inner: T, key: RsaPrivateKey) -> Self {
        InsecurePaddingOracle {
            inner,
            key,
            rng: StdRng::from_rng(&mut rand::rng()),
            pending: Vec::new(),
            pos: 0,
            watch: Watch::Watching,
        }
    }

    /// True if it answered a ClientKeyExchange with [`ORACLE_ALERT`].
    pub fn refused(&self) -> bool {
        self.watch == Watch::Refused
    }

    /// Reads the client's next record into `pending` and judges it.
    fn watch_next_record(&mut self) -> io::Result<()> {
        let mut header = [0u8; 5];
        if self.inner.read_exact(&mut header).is_err() {
            // The client went away (or sent a partial header): let the server find out.
            self.watch = Watch::PassThrough;
            return Ok(());
        }
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let mut record = header.to_vec();
        record.resize(5 + len, 0);
        if self.inner.read_exact(&mut record[5..]).is_err() {
            self.watch = Watch::PassThrough;
            record.truncate(5);
        }
        let record = WireRecord(record);
        match record.content_type() {
            20 => self.watch = Watch::PassThrough,
            22 => {
                for (typ, msg) in record.handshake_messages().unwrap_or_default() {
                    if typ != HandshakeType::ClientKeyExchange {
                        continue;
                    }
                    let body = &msg[HANDSHAKE_HEADER_LEN..];
                    let good = ClientKeyExchange::decode(&mut Reader::new(body)).is_ok_and(|cke| {
                        // THE MISTAKE: the padding check's outcome decides what happens next.
                        self.key
                            .decrypt_pkcs1v15(&mut self.rng, &cke.encrypted_pre_master)
                            .is_ok()
                    });
                    if !good {
                        let alert =
                            WireRecord::new(21, &[AlertLevel::Fatal.to_u8(), ORACLE_ALERT.to_u8()]);
                        self.inner.write_all(&alert.0)?;
                        self.inner.flush()?;
                        self.watch = Watch::Refused;
                        return Ok(());
                    }
                    self.watch = Watch::PassThrough;
                }
            }
            _ => {}
        }
        self.pending = record.0;
        self.pos = 0;
        Ok(())
    }
}

impl<T: Read + Write> Read for InsecurePaddingOracle<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.pending.len() {
                let n = buf.len().min(self.pending.len() - self.pos);
                buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match self.watch {
                Watch::Refused => return Ok(0),
                Watch::PassThrough => return self.inner.read(buf),
                Watch::Watching => self.watch_next_record()?,
            }
        }
    }
}

impl<T: Read + Write> Write for InsecurePaddingOracle<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.watch == Watch::Refused {
            // The front end has already answered; nothing of the server's goes out.
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A transport in memory: the client's bytes, all there before the server starts (as they would
/// be in its socket's receive buffer), and what the server wrote back, kept where the caller can
/// read it after the connection is gone.
pub struct MemoryTransport {
    input: Vec<u8>,
    pos: usize,
    output: Arc<Mutex<Vec<u8>>>,
}

impl MemoryTransport {
    /// A transport that reads `input` and appends what is written to `output`.
    pub fn new(input: Vec<u8>, output: Arc<Mutex<Vec<u8>>>) -> Self {
        MemoryTransport {
            input,
            pos: 0,
            output,
        }
    }
}

impl Read for MemoryTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for MemoryTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One server connection to `config`, carried in memory: runs the real server handshake on
/// `client_bytes` (behind the padding oracle if `insecure_oracle`) and returns what it sent back.
/// How the handshake ended does not matter here, only what the server wrote.
pub fn serve_in_memory(
    config: &Arc<ServerConfig>,
    insecure_oracle: bool,
    client_bytes: Vec<u8>,
) -> Vec<u8> {
    let output = Arc::new(Mutex::new(Vec::new()));
    let io = MemoryTransport::new(client_bytes, output.clone());
    let _ = if insecure_oracle {
        let front = InsecurePaddingOracle::insecure_new(io, config.private_key.clone());
        TlsStream::accept(front, config.clone()).map(|_| ())
    } else {
        TlsStream::accept(io, config.clone()).map(|_| ())
    };
    std::mem::take(&mut *output.lock().unwrap_or_else(|e| e.into_inner()))
}

/// How a server's answer to one query ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// It closed the connection.
    Closed,
    /// Nothing more came within the wait (over TCP only).
    Silent,
}

/// Everything a prober can see of a server's answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Answer {
    /// The unprotected handshake messages, in order.
    pub handshake: Vec<u8>,
    /// The alerts that could be read (unprotected), in order.
    pub alerts: Vec<(u8, u8)>,
    /// Records of any other kind, or protected ones.
    pub other_records: usize,
    pub end: End,
}

impl Answer {
    /// Reads an answer from the bytes a server sent.
    pub fn from_reply(mut reply: &[u8], end: End) -> Answer {
        let mut a = Answer {
            handshake: Vec::new(),
            alerts: Vec::new(),
            other_records: 0,
            end,
        };
        while reply.len() >= 5 {
            let len = u16::from_be_bytes([reply[3], reply[4]]) as usize;
            let Some(record) = reply.get(..5 + len) else {
                break;
            };
            let record = WireRecord(record.to_vec());
            reply = &reply[5 + len..];
            if let Some((level, d)) = record.plaintext_alert() {
                a.alerts.push((level.to_u8(), d.to_u8()));
            } else if let Some(msgs) = record.handshake_messages() {
                a.handshake.extend(msgs.iter().map(|(t, _)| t.code()));
            } else {
                a.other_records += 1;
            }
        }
        a
    }

    /// The last alert's description, if one came.
    pub fn alert(&self) -> Option<AlertDescription> {
        self.alerts
            .last()
            .map(|&(_, d)| AlertDescription::from_u8(d))
    }

    /// In words, e.g. `"ServerHello, Certificate, ServerHelloDone, then alert bad_record_mac"`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .handshake
            .iter()
            .map(|&t| HandshakeType::name_of(t))
            .collect();
        let mut s = parts.join(", ");
        parts.clear();
        for &(_, d) in &self.alerts {
            parts.push(format!("alert {}", AlertDescription::from_u8(d)));
        }
        if !parts.is_empty() {
            if !s.is_empty() {
                s += ", then ";
            }
            s += &parts.join(", ");
        }
        if self.end == End::Silent {
            s += ", then silence";
        }
        if s.is_empty() {
            s = "nothing".into();
        }
        s
    }
}

/// The prober: asks a server about ciphertexts of its choice, one connection each.
pub struct OracleClient {
    suites: Vec<CipherSuite>,
    rng: StdRng,
    /// Connections made so far.
    pub queries: u64,
}

impl OracleClient {
    /// A prober offering `suites` (the server must accept one of them).
    pub fn new(suites: Vec<CipherSuite>, seed: u64) -> Self {
        OracleClient {
            suites,
            rng: StdRng::seed_from_u64(seed),
            queries: 0,
        }
    }

    /// Everything the prober sends on one connection: ClientHello, ClientKeyExchange with
    /// `ciphertext`, ChangeCipherSpec and a Finished-sized record of random bytes.
    pub fn flight(&mut self, ciphertext: &[u8]) -> Vec<u8> {
        let mut random = [0u8; 32];
        self.rng.fill_bytes(&mut random);
        let hello = ClientHello {
            client_version: ProtocolVersion::TLS12,
            random: Random(random),
            session_id: SessionId::EMPTY,
            cipher_suites: self.suites.clone(),
            compression_methods: vec![COMPRESSION_NULL],
            extensions: Some(vec![Extension::empty_renegotiation_info()]),
        };
        let cke = ClientKeyExchange {
            encrypted_pre_master: ciphertext.to_vec(),
        };
        let mut out = Vec::new();
        for m in [
            HandshakeMessage::ClientHello(hello),
            HandshakeMessage::ClientKeyExchange(cke),
        ] {
            out.extend_from_slice(
                &WireRecord::from_handshake(&[m])
                    .expect("the prober's messages encode")
                    .0,
            );
        }
        out.extend_from_slice(&WireRecord::new(20, &[1]).0);
        let mut garbage = [0u8; 48];
        self.rng.fill_bytes(&mut garbage);
        out.extend_from_slice(&WireRecord::new(22, &garbage).0);
        out
    }

    /// One query to a server in this process, in memory (see [`serve_in_memory`]).
    pub fn query_in_memory(
        &mut self,
        config: &Arc<ServerConfig>,
        insecure_oracle: bool,
        ciphertext: &[u8],
    ) -> Answer {
        self.queries += 1;
        let flight = self.flight(ciphertext);
        Answer::from_reply(
            &serve_in_memory(config, insecure_oracle, flight),
            End::Closed,
        )
    }

    /// One query to a server over TCP: connect, send the flight, read until the server closes
    /// or stays silent for `wait`.
    pub fn query_tcp(
        &mut self,
        addr: std::net::SocketAddr,
        ciphertext: &[u8],
        wait: Duration,
    ) -> io::Result<Answer> {
        self.queries += 1;
        let mut tcp = std::net::TcpStream::connect_timeout(&addr, wait)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(wait))?;
        tcp.write_all(&self.flight(ciphertext))?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            match tcp.read(&mut buf) {
                Ok(0) => break End::Closed,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break End::Silent;
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break End::Closed,
                Err(e) => return Err(e),
            }
        };
        Ok(Answer::from_reply(&reply, end))
    }
}

/// A block the attacker builds to learn how a server answers: PKCS#1 v1.5 conforming or not, in
/// the ways a server might check. Encrypted with the public key alone ([`encrypt_raw`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Probe {
    /// `00 02`, nonzero padding, `00`, and 48 bytes starting with the version offered: a real
    /// pre-master secret (the server will still not finish: the prober's Finished is garbage).
    WellFormed,
    /// Conforming padding around 48 bytes whose version bytes are wrong (RFC 5246 7.4.7.1).
    WrongVersion,
    /// Conforming padding around 47 bytes instead of 48.
    WrongLength,
    /// `00 01` (a signature block) instead of `00 02`.
    WrongBlockType,
    /// `00 02` and padding with no zero byte to end it.
    NoSeparator,
    /// `00 02` and only 3 bytes of padding before the zero (PKCS#1 wants at least 8).
    ShortPadding,
}

impl Probe {
    pub const ALL: [Probe; 6] = [
        Probe::WellFormed,
        Probe::WrongVersion,
        Probe::WrongLength,
        Probe::WrongBlockType,
        Probe::NoSeparator,
        Probe::ShortPadding,
    ];

    /// Whether PKCS#1 v1.5 accepts the block (what the lab's oracle reveals).
    pub fn conforming(self) -> bool {
        matches!(
            self,
            Probe::WellFormed | Probe::WrongVersion | Probe::WrongLength
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            Probe::WellFormed => "a well-formed pre-master secret",
            Probe::WrongVersion => "good padding, wrong version bytes",
            Probe::WrongLength => "good padding, 47 bytes instead of 48",
            Probe::WrongBlockType => "block type 01 instead of 02",
            Probe::NoSeparator => "no zero byte after the padding",
            Probe::ShortPadding => "only 3 bytes of padding",
        }
    }

    /// The block for a `k`-byte modulus.
    pub fn block(self, k: usize, rng: &mut impl Rng) -> Vec<u8> {
        let mut b = vec![0u8; k];
        rng.fill_bytes(&mut b);
        for x in b.iter_mut() {
            if *x == 0 {
                *x = 0x5a;
            }
        }
        b[0] = 0;
        b[1] = 2;
        let msg_len = match self {
            Probe::WrongLength => 47,
            _ => 48,
        };
        match self {
            Probe::NoSeparator => {}
            Probe::ShortPadding => b[5] = 0,
            _ => b[k - msg_len - 1] = 0,
        }
        if self == Probe::WrongBlockType {
            b[1] = 1;
        }
        let m = k - msg_len;
        match self {
            Probe::WrongVersion => b[m..m + 2].copy_from_slice(&[0x02, 0x00]),
            Probe::NoSeparator | Probe::ShortPadding => {}
            _ => b[m..m + 2].copy_from_slice(&ProtocolVersion::TLS12.to_bytes()),
        }
        b
    }
}

/// How a server answered each kind of probe, `rounds` times each.
#[derive(Clone, Debug, Default)]
pub struct Calibration {
    pub answers: BTreeMap<Probe, BTreeMap<Answer, u32>>,
}

impl Calibration {
    /// Asks `ask` about each kind of probe `rounds` times, each a fresh block.
    pub fn run<E>(
        key: &RsaPublicKey,
        rounds: u32,
        rng: &mut impl Rng,
        ask: &mut dyn FnMut(&[u8]) -> Result<Answer, E>,
    ) -> Result<Calibration, E> {
        let mut c = Calibration::default();
        for _ in 0..rounds {
            for p in Probe::ALL {
                let ct = encrypt_raw(key, &p.block(key.modulus_len(), rng));
                let a = ask(&ct)?;
                *c.answers.entry(p).or_default().entry(a).or_default() += 1;
            }
        }
        Ok(c)
    }

    /// The answer that means "conforming", if the server has an oracle: every conforming probe
    /// got it and no other probe did. `None` means the answers tell nothing apart.
    pub fn oracle_answer(&self) -> Option<Answer> {
        let conforming: Vec<&BTreeMap<Answer, u32>> = self
            .answers
            .iter()
            .filter(|(p, _)| p.conforming())
            .map(|(_, a)| a)
            .collect();
        let first = conforming.first()?;
        if first.len() != 1 {
            return None;
        }
        let answer = first.keys().next()?.clone();
        let all_conforming_agree = conforming
            .iter()
            .all(|a| a.len() == 1 && a.contains_key(&answer));
        let no_other_gets_it = self
            .answers
            .iter()
            .filter(|(p, _)| !p.conforming())
            .all(|(_, a)| !a.contains_key(&answer));
        (all_conforming_agree && no_other_gets_it).then_some(answer)
    }

    /// True if every probe of every kind got the same answer.
    pub fn all_identical(&self) -> bool {
        let mut all = self.answers.values().flat_map(|a| a.keys());
        let Some(first) = all.next() else {
            return true;
        };
        all.all(|a| a == first)
    }
}
