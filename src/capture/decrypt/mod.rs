//! The offline decryptor: what an eavesdropper who recorded RSA key-transport connections can
//! read once they obtain the server's private key.
//!
//! The story, for one connection of a capture:
//!
//! 1. TCP: each direction's segments are put back in order ([`super::tcp`]), giving the two byte
//!    streams the client and the server wrote.
//! 2. Records (RFC 5246 6.2.1): each stream is cut into records by their 5-byte headers.
//! 3. The hellos travel in the clear: the client random, the server random, the suite, the
//!    session ID and whether both sides agreed on the extended master secret (RFC 7627).
//! 4. ClientKeyExchange carries the pre-master secret encrypted under the server's RSA key
//!    (RFC 5246 7.4.7.1). With that key, it decrypts like the server decrypted it. (The server's
//!    countermeasure of 7.4.7.1, going on with a random secret when the decryption fails, is for
//!    a server that must not reveal why; here a failure just means "wrong key".)
//! 5. The key schedule ([`crate::handshake::keys`]) gives the master secret, from the randoms or from the
//!    session hash over the handshake messages up to ClientKeyExchange, and the key block.
//! 6. After each side's ChangeCipherSpec its records are opened with the record protection the
//!    endpoints use ([`crate::record::suite::RecordProtection`], both suites, the toy suite included).
//!    Both Finished messages are checked against the transcript: if they match, the keys are
//!    certainly the connection's.
//! 7. A resumed connection (RFC 5246 7.3, abbreviated handshake) has no ClientKeyExchange: its
//!    master secret is the one recovered from the full handshake that made the session, earlier
//!    in the same capture, found by session ID.
//!
//! With a key log (`CLIENT_RANDOM` lines) instead of the private key, step 4 is skipped: the
//! master secret is looked up by client random.
//!
//! Whatever is wrong with a connection (not TLS, a suite we do not know, an ephemeral key
//! exchange, a wrong key, missing segments, a resumed session whose full handshake is not in the
//! capture) ends that connection with one [`Event::Problem`] saying so; the others go on. Nothing
//! here panics on any input, and memory stays bounded: per direction one record and at most
//! [`super::tcp::MAX_OUT_OF_ORDER`] bytes of out-of-order data, per handshake message
//! [`MAX_HANDSHAKE_MESSAGE`], the endpoints' own limit.

use super::packet::{self, ACK, FIN, LinkType, RST, SYN};
use super::read::{ReadError, ReadSummary, for_each_frame};
use super::tcp::Stream;
use crate::Side;
use crate::crypto::rsa::RsaPrivateKey;
use crate::handshake::keys::MasterSecret;
use crate::record::suite::{RecordProtection, SuiteInfo};
use crate::wire::alert::{AlertDescription, AlertLevel};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::SocketAddr;

/// The largest handshake message reassembled: the endpoints' limit for every message but a
/// ClientHello (which they allow up to the wire format's largest), so a longer one ends the
/// connection.
pub use crate::handshake::joiner::MAX_HANDSHAKE_MESSAGE;

/// What the decryptor may use to recover the keys.
#[derive(Default)]
pub struct Secrets {
    /// The server's RSA private key: decrypts every pre-master secret sent to it.
    pub server_key: Option<RsaPrivateKey>,
    /// Master secrets by client random, from an NSS key log file.
    pub key_log: HashMap<[u8; 32], [u8; 48]>,
}

impl Secrets {
    /// Adds the `CLIENT_RANDOM <64 hex> <96 hex>` lines of an NSS key log; returns how many were
    /// read. Other lines (comments, other labels) are skipped.
    pub fn add_key_log(&mut self, text: &str) -> usize {
        let mut n = 0;
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("CLIENT_RANDOM") {
                continue;
            }
            let (Some(cr), Some(ms)) = (
                words.next().and_then(unhex::<32>),
                words.next().and_then(unhex::<48>),
            ) else {
                continue;
            };
            self.key_log.insert(cr, ms);
            n += 1;
        }
        n
    }
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Where a connection's master secret came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The pre-master secret, decrypted from the ClientKeyExchange with the server's key.
    ServerKey,
    /// The key log's line for this client random.
    KeyLog,
    /// A resumed session: the master secret recovered from connection `from` of this capture.
    Resumed { from: usize },
}

/// Something the decryptor found, in capture order. `id` numbers connections from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new TCP connection.
    Connection {
        id: usize,
        client: SocketAddr,
        server: SocketAddr,
    },
    /// A handshake message, in the clear or decrypted.
    Handshake { id: usize, from: Side, name: String },
    /// The hellos are in: what was negotiated.
    Negotiated {
        id: usize,
        suite: String,
        resumed: bool,
        extended_master_secret: bool,
    },
    /// The pre-master secret, decrypted with the server's key.
    PreMaster { id: usize, secret: Vec<u8> },
    /// The master secret and where it came from; the keys follow from it.
    Master {
        id: usize,
        source: KeySource,
        secret: Vec<u8>,
    },
    /// A Finished message matched the transcript under the recovered master secret.
    FinishedVerified { id: usize, from: Side },
    /// Application data, decrypted.
    Data {
        id: usize,
        from: Side,
        bytes: Vec<u8>,
    },
    /// An alert (decrypted if sent after ChangeCipherSpec).
    Alert {
        id: usize,
        from: Side,
        level: AlertLevel,
        description: AlertDescription,
    },
    /// Why nothing more of this connection can be read.
    Problem { id: usize, message: String },
    /// The connection ended (both FINs, a reset, or the end of the capture).
    End {
        id: usize,
        /// False if the capture ended first (no FIN each way, no reset).
        closed: bool,
        /// Application data bytes decrypted from each side: [client, server].
        data_bytes: [u64; 2],
        /// Segments that brought nothing new (retransmissions, duplicates).
        retransmitted: u64,
    },
}

/// What a run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub read: ReadSummary,
    pub connections: usize,
    /// Connections whose keys were recovered and whose Finished messages both matched.
    pub decrypted: usize,
    /// Frames that were not TCP over IPv4/IPv6.
    pub not_tcp: u64,
}

/// Decrypts every TLS connection in the capture `input` with `secrets`, reporting to `sink` as it
/// goes. A capture that cannot be read to the end is reported after everything before the
/// damage has been.
pub fn decrypt_capture(
    input: impl Read + Send,
    secrets: &Secrets,
    sink: &mut dyn FnMut(Event),
) -> (Summary, Result<(), ReadError>) {
    let mut d = Decryptor::new(secrets, sink);
    let (read, result) = for_each_frame(input, |link, frame| d.frame(link, frame));
    let mut summary = d.finish();
    summary.read = read;
    (summary, result)
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

fn side(i: usize) -> Side {
    if i == CLIENT {
        Side::Client
    } else {
        Side::Server
    }
}

/// Feeds frames in capture order; [`finish`](Self::finish) at the end.
pub struct Decryptor<'a> {
    secrets: &'a Secrets,
    sink: &'a mut dyn FnMut(Event),
    /// Connections by their two endpoints, the smaller first.
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    /// The endpoints of connections that have ended (until a new SYN reuses them).
    ended: HashSet<(SocketAddr, SocketAddr)>,
    /// Master secrets of full handshakes seen, by session ID, with the connection that made them.
    sessions: HashMap<Vec<u8>, (usize, MasterSecret)>,
    /// The same, by the session ticket the server issued for them (RFC 5077 3.3: the
    /// NewSessionTicket crosses the wire before the server's ChangeCipherSpec, in plaintext).
    tickets: HashMap<Vec<u8>, (usize, MasterSecret)>,
    next_id: usize,
    decrypted: usize,
    not_tcp: u64,
}

/// One direction's TLS state.
#[derive(Default)]
struct Direction {
    tcp: Stream,
    /// Bytes of the stream not yet cut into records (less than one record, plus the last segment).
    buf: Vec<u8>,
    /// Handshake bytes not yet cut into messages.
    handshake: Vec<u8>,
    /// The keys this side switches to at its ChangeCipherSpec.
    pending: Option<RecordProtection>,
    /// The keys protecting this side's records, once switched.
    protection: Option<RecordProtection>,
    seq: u64,
    data_bytes: u64,
    finished: bool,
}

struct Conn {
    id: usize,
    client: SocketAddr,
    dirs: [Direction; 2],
    /// Set once nothing more can be read; the connection is then only waited out.
    dead: bool,
    client_random: Option<[u8; 32]>,
    client_version: [u8; 2],
    offered_session: Vec<u8>,
    /// The ticket in the ClientHello's session_ticket extension (RFC 5077 3.2), if any.
    offered_ticket: Vec<u8>,
    ems_offered: bool,
    server_random: Option<[u8; 32]>,
    suite: Option<&'static SuiteInfo>,
    session_id: Vec<u8>,
    ems: bool,
    resumed: bool,
    transcript: Sha256,
    master: Option<MasterSecret>,
    /// Why the keys are not known, if they are not (said at the ChangeCipherSpec that needs them).
    no_keys: Option<String>,
    verified: usize,
}

impl Conn {
    fn new(id: usize, client: SocketAddr) -> Self {
        Conn {
            id,
            client,
            dirs: Default::default(),
            dead: false,
            client_random: None,
            client_version: [0; 2],
            offered_session: Vec::new(),
            offered_ticket: Vec::new(),
            ems_offered: false,
            server_random: None,
            suite: None,
            session_id: Vec::new(),
            ems: false,
            resumed: false,
            transcript: Sha256::new(),
            master: None,
            no_keys: None,
            verified: 0,
        }
    }
}

impl<'a> Decryptor<'a> {
    pub fn new(secrets: &'a Secrets, sink: &'a mut dyn FnMut(Event)) -> Self {
        Decryptor {
            secrets,
            sink,
            conns: HashMap::new(),
            ended: HashSet::new(),
            sessions: HashMap::new(),
            tickets: HashMap::new(),
            next_id: 1,
            decrypted: 0,
            not_tcp: 0,
        }
    }

    /// One captured frame.
    pub fn frame(&mut self, link: LinkType, frame: &[u8]) {
        let Some((seg, payload)) = packet::parse(link, frame) else {
            self.not_tcp += 1;
            return;
        };
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let syn_only = seg.flags & SYN != 0 && seg.flags & ACK == 0;
        if self.ended.contains(&key) {
            if !syn_only {
                // A late retransmission or the last ACK of a connection already reported.
                return;
            }
            // The same ports used again: a new connection.
            self.ended.remove(&key);
        }
        if !self.conns.contains_key(&key) && (syn_only || !payload.is_empty()) {
            let id = self.next_id;
            self.next_id += 1;
            let client = if seg.flags & SYN != 0 {
                // The SYN comes from the client, the SYN-ACK from the server.
                if syn_only { seg.src } else { seg.dst }
            } else if payload.first() == Some(&22) || seg.src.port() > seg.dst.port() {
                // No SYN seen: the side whose first bytes are a handshake record is the client
                // (a server speaks only after the ClientHello); failing that, the higher port.
                seg.src
            } else {
                seg.dst
            };
            let server = if client == seg.src { seg.dst } else { seg.src };
            (self.sink)(Event::Connection { id, client, server });
            let mut conn = Conn::new(id, client);
            if seg.flags & SYN == 0 {
                conn.no_keys = Some(
                    "the capture began after this connection did (no SYN, no ClientHello), so its handshake cannot be followed".into(),
                );
            }
            self.conns.insert(key, conn);
        }
        let Some(mut conn) = self.conns.remove(&key) else {
            return;
        };
        let from = if seg.src == conn.client {
            CLIENT
        } else {
            SERVER
        };
        let mut delivered = Vec::new();
        conn.dirs[from].tcp.segment(
            seg.seq,
            seg.flags & SYN != 0,
            seg.flags & FIN != 0,
            payload,
            &mut delivered,
        );
        if !conn.dead && !delivered.is_empty() {
            self.stream_bytes(&mut conn, from, &delivered);
        }
        if let Some(gap) = conn.dirs[from].tcp.gap.filter(|_| !conn.dead) {
            self.problem(
                &mut conn,
                format!(
                    "bytes of the {}'s stream are missing at offset {} (the capture lost a segment, or holds too much out of order); nothing after them can be read",
                    side(from).name(),
                    gap.at
                ),
            );
        }
        let both_fins = conn.dirs[CLIENT].tcp.saw_fin && conn.dirs[SERVER].tcp.saw_fin;
        if seg.flags & RST != 0 || both_fins {
            // Over: report it now, so that each connection's story ends before the next one's.
            // Its ports are remembered, so that a late segment is not taken for a new connection.
            self.ended.insert(key);
            self.end(conn, true);
            return;
        }
        self.conns.insert(key, conn);
    }

    /// Ends every connection still open and returns the totals.
    pub fn finish(mut self) -> Summary {
        let mut open: Vec<Conn> = self.conns.drain().map(|(_, c)| c).collect();
        open.sort_by_key(|c| c.id);
        for c in open {
            self.end(c, false);
        }
        Summary {
            read: ReadSummary::default(),
            connections: self.next_id - 1,
            decrypted: self.decrypted,
            not_tcp: self.not_tcp,
        }
    }

    /// Reports the end of `conn`: `closed` if it ended on the wire (FINs or a reset), not with
    /// the capture.
    fn end(&mut self, mut conn: Conn, closed: bool) {
        for d in 0..2 {
            conn.dirs[d].tcp.finish();
            if !conn.dead && conn.dirs[d].tcp.gap.is_some() {
                let at = conn.dirs[d].tcp.gap.map_or(0, |g| g.at);
                self.problem(
                    &mut conn,
                    format!(
                        "the {}'s stream has a hole at offset {at} (a segment the capture lost); nothing after it can be read",
                        side(d).name()
                    ),
                );
            }
        }
        if !conn.dead && conn.master.is_none() && conn.client_random.is_some() {
            let why = conn.no_keys.clone().unwrap_or_else(|| {
                "the handshake did not get as far as the key exchange in this capture".into()
            });
            self.problem(&mut conn, why);
        }
        if !conn.dead && conn.master.is_some() && conn.verified < 2 {
            let msg = format!(
                "the handshake did not finish in this capture ({} of 2 Finished messages seen)",
                conn.verified
            );
            self.problem(&mut conn, msg);
        }
        if !conn.dead
            && conn.client_random.is_none()
            && (conn.dirs[0].tcp.offset() > 0 || conn.dirs[1].tcp.offset() > 0)
        {
            let why = conn
                .no_keys
                .clone()
                .unwrap_or_else(|| "no ClientHello in this connection".into());
            self.problem(&mut conn, why);
        }
        if conn.verified == 2 {
            self.decrypted += 1;
        }
        let retransmitted = conn.dirs[0].tcp.retransmitted + conn.dirs[1].tcp.retransmitted;
        (self.sink)(Event::End {
            id: conn.id,
            closed,
            data_bytes: [conn.dirs[0].data_bytes, conn.dirs[1].data_bytes],
            retransmitted,
        });
    }

    fn problem(&mut self, conn: &mut Conn, message: String) {
        if conn.dead {
            return;
        }
        conn.dead = true;
        // Nothing more is decrypted: free what the connection held.
        for d in &mut conn.dirs {
            d.buf = Vec::new();
            d.handshake = Vec::new();
            d.pending = None;
            d.protection = None;
        }
        (self.sink)(Event::Problem {
            id: conn.id,
            message,
        });
    }
}

mod handshake;
mod records;
#[cfg(test)]
mod tests;
