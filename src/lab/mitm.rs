//! The man in the middle: a TCP relay on loopback that sits between a client and a server and
//! hands every record that passes to an [`Attacker`], which decides what goes on instead.
//!
//! This is the network attacker TLS is designed against (RFC 5246 Appendix F): it sees every
//! byte, and can change, drop, replay, reorder, inject and cut, but holds none of the keys. The
//! relay itself only frames the two byte streams into records by their 5-byte headers (RFC 5246
//! 6.2.1) and notes when each direction becomes protected (after its ChangeCipherSpec); all the
//! malice is in the attacker. The client connects to [`Mitm::addr`] believing it is the server;
//! the relay connects on to the real server.
//!
//! Everything that crossed the wire is kept in a log of [`Observed`] records, in the order it
//! went out, so that a scenario can tell what each side was sent and which alert came back.

use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::messages::{HANDSHAKE_HEADER_LEN, HandshakeMessage, HandshakeType};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Record header length: type (1), version (2), length (2).
const HEADER_LEN: usize = 5;
/// The largest record body the relay reads (RFC 5246 6.2.3: 2^14 + 2048).
const MAX_BODY: usize = (1 << 14) + 2048;

/// Which way a record travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    ClientToServer,
    ServerToClient,
}

impl Flow {
    /// `"client -> server"` or `"server -> client"`.
    pub fn arrow(self) -> &'static str {
        match self {
            Flow::ClientToServer => "client -> server",
            Flow::ServerToClient => "server -> client",
        }
    }

    fn index(self) -> usize {
        match self {
            Flow::ClientToServer => 0,
            Flow::ServerToClient => 1,
        }
    }
}

/// A record exactly as on the wire, header included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireRecord(pub Vec<u8>);

impl WireRecord {
    /// A record of `content_type` with a TLS 1.2 header around `body`.
    pub fn new(content_type: u8, body: &[u8]) -> WireRecord {
        let mut v = Vec::with_capacity(HEADER_LEN + body.len());
        v.push(content_type);
        v.extend_from_slice(&[3, 3]);
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        WireRecord(v)
    }

    /// The content type byte (20 ChangeCipherSpec, 21 alert, 22 handshake, 23 application data).
    pub fn content_type(&self) -> u8 {
        self.0[0]
    }

    /// The RFC's name of the content type.
    pub fn type_name(&self) -> &'static str {
        match self.content_type() {
            20 => "change_cipher_spec",
            21 => "alert",
            22 => "handshake",
            23 => "application_data",
            _ => "unknown",
        }
    }

    /// The fragment after the header.
    pub fn body(&self) -> &[u8] {
        &self.0[HEADER_LEN..]
    }

    /// The fragment, to change in place (its length stays as the header says).
    pub fn body_mut(&mut self) -> &mut [u8] {
        &mut self.0[HEADER_LEN..]
    }

    /// The record's length on the wire.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a record has at least its header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The handshake messages of an unprotected handshake record, each whole (header included),
    /// or `None` if this is not one or a message is cut across records (toytls and most stacks
    /// send each of these messages whole).
    pub fn handshake_messages(&self) -> Option<Vec<(HandshakeType, Vec<u8>)>> {
        if self.content_type() != 22 {
            return None;
        }
        let mut out = Vec::new();
        let mut rest = self.body();
        while !rest.is_empty() {
            if rest.len() < HANDSHAKE_HEADER_LEN {
                return None;
            }
            let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
            let end = HANDSHAKE_HEADER_LEN + len;
            if rest.len() < end {
                return None;
            }
            out.push((HandshakeType::from_code(rest[0])?, rest[..end].to_vec()));
            rest = &rest[end..];
        }
        Some(out)
    }

    /// Decodes the handshake messages of an unprotected handshake record.
    pub fn decode_handshake(&self) -> Option<Vec<HandshakeMessage>> {
        self.handshake_messages()?
            .into_iter()
            .map(|(t, m)| HandshakeMessage::decode(t.code(), &m[HANDSHAKE_HEADER_LEN..]).ok())
            .collect()
    }

    /// A record holding exactly these handshake messages.
    pub fn from_handshake(msgs: &[HandshakeMessage]) -> Option<WireRecord> {
        let mut body = Vec::new();
        for m in msgs {
            body.extend_from_slice(&m.to_bytes().ok()?);
        }
        Some(WireRecord::new(22, &body))
    }

    /// The level and description of an unprotected alert record.
    pub fn plaintext_alert(&self) -> Option<(AlertLevel, AlertDescription)> {
        match (self.content_type(), self.body()) {
            (21, [level, description]) => Some((
                AlertLevel::from_u8(*level)?,
                AlertDescription::from_u8(*description),
            )),
            _ => None,
        }
    }
}

/// Where a record is in the connection, as the relay knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub flow: Flow,
    /// 0 for the first record of this flow.
    pub index: usize,
    /// True once this flow has carried a ChangeCipherSpec: the record is encrypted under keys
    /// the man in the middle does not have.
    pub protected: bool,
}

/// What the attacker does with a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the record on its way, as it came or changed. A record no action forwards is
    /// dropped.
    Forward(WireRecord),
    /// Send a record of the attacker's own in `flow`: a copy of an earlier one, or a new one.
    Inject(Flow, WireRecord),
    /// Close both TCP connections now, without a word (no alert, no close_notify).
    Cut,
}

/// The attacker's decisions. Each record that arrives is given to [`Attacker::on_record`]; the
/// record goes nowhere unless an action sends it.
pub trait Attacker: Send {
    /// What to do with `record`, which arrived at `at`. The actions are carried out in order.
    fn on_record(&mut self, at: Position, record: WireRecord) -> Vec<Action>;
}

/// Forwards everything unchanged: a passive eavesdropper.
pub struct Passive;

impl Attacker for Passive {
    fn on_record(&mut self, _: Position, record: WireRecord) -> Vec<Action> {
        vec![Action::Forward(record)]
    }
}

/// What happened to a record the relay wrote, as the log tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Sent on as it arrived.
    Forwarded,
    /// Sent on after the attacker changed it.
    Changed,
    /// Sent by the attacker: a copy of an earlier record, or one of its own.
    Injected,
}

/// One record the relay sent on, or one the attacker dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub flow: Flow,
    pub record: WireRecord,
    /// `None` for a record the attacker dropped.
    pub fate: Option<Fate>,
    /// The flow was protected when the record went by.
    pub protected: bool,
    /// For a changed record, the record as it arrived.
    pub original: Option<WireRecord>,
    /// The attacker cut both connections when this record arrived (it went nowhere).
    pub cut: bool,
}

impl Observed {
    /// A record the attacker did not pass on: held back or dropped, or the one it cut at.
    fn dropped(flow: Flow, record: Vec<u8>, protected: bool, cut: bool) -> Observed {
        Observed {
            flow,
            record: WireRecord(record),
            fate: None,
            protected,
            original: None,
            cut,
        }
    }
}

/// What the relay saw, shared between its two directions.
#[derive(Default)]
struct Shared {
    log: Vec<Observed>,
    /// Records seen per flow, and whether each flow is protected yet.
    seen: [usize; 2],
    protected: [bool; 2],
    cut: bool,
}

/// A running man in the middle for one connection.
pub struct Mitm {
    addr: SocketAddr,
    thread: JoinHandle<io::Result<()>>,
    shared: Arc<Mutex<Shared>>,
}

impl Mitm {
    /// Listens on a free port of 127.0.0.1; the first client to connect there is relayed to
    /// `upstream` through `attacker`.
    pub fn start(upstream: SocketAddr, attacker: impl Attacker + 'static) -> io::Result<Mitm> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let s = shared.clone();
        let thread = std::thread::spawn(move || -> io::Result<()> {
            let (client, _) = listener.accept()?;
            let server = TcpStream::connect(upstream)?;
            client.set_nodelay(true)?;
            server.set_nodelay(true)?;
            let ends = Arc::new([client, server]);
            let attacker: Arc<Mutex<Box<dyn Attacker>>> = Arc::new(Mutex::new(Box::new(attacker)));
            let (e, a, sh) = (ends.clone(), attacker.clone(), s.clone());
            let up = std::thread::spawn(move || relay(Flow::ClientToServer, &e, &a, &sh));
            let down = relay(Flow::ServerToClient, &ends, &attacker, &s);
            let up = up
                .join()
                .map_err(|_| io::Error::other("relay thread panicked"))?;
            down.and(up)
        });
        Ok(Mitm {
            addr,
            thread,
            shared,
        })
    }

    /// Where the client should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until both directions have ended and returns everything that crossed the wire.
    pub fn finish(self) -> io::Result<Vec<Observed>> {
        self.thread
            .join()
            .map_err(|_| io::Error::other("man in the middle panicked"))??;
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        Ok(std::mem::take(&mut s.log))
    }
}

/// Reads one record; `None` at the end of the stream (or a stream that is not TLS records, which
/// is passed on raw and ends the relay's framing).
fn read_record(from: &TcpStream) -> io::Result<Option<WireRecord>> {
    let mut from = from;
    let mut header = [0u8; HEADER_LEN];
    match from.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) if is_closed(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u16::from_be_bytes([header[3], header[4]]) as usize;
    if len > MAX_BODY {
        return Ok(None);
    }
    let mut v = vec![0u8; HEADER_LEN + len];
    v[..HEADER_LEN].copy_from_slice(&header);
    match from.read_exact(&mut v[HEADER_LEN..]) {
        Ok(()) => Ok(Some(WireRecord(v))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || is_closed(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A connection the other side (or the attacker) already closed.
fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

/// One direction of the relay: read from the side `flow` comes from, ask the attacker, write.
fn relay(
    flow: Flow,
    ends: &[TcpStream; 2],
    attacker: &Mutex<Box<dyn Attacker>>,
    shared: &Mutex<Shared>,
) -> io::Result<()> {
    let (from, to) = match flow {
        Flow::ClientToServer => (&ends[0], &ends[1]),
        Flow::ServerToClient => (&ends[1], &ends[0]),
    };
    let i = flow.index();
    loop {
        let Some(record) = read_record(from)? else {
            // The sender closed: pass the end on, as a TCP relay does.
            let _ = to.shutdown(Shutdown::Write);
            return Ok(());
        };
        let at = {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            if s.cut {
                return Ok(());
            }
            let at = Position {
                flow,
                index: s.seen[i],
                protected: s.protected[i],
            };
            s.seen[i] += 1;
            if record.content_type() == 20 {
                s.protected[i] = true;
            }
            at
        };
        let original = record.0.clone();
        let actions = attacker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .on_record(at, record);
        let mut forwarded = false;
        for action in actions {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            let (out_flow, rec, fate) = match action {
                Action::Forward(rec) => {
                    forwarded = true;
                    let fate = if rec.0 == original {
                        Fate::Forwarded
                    } else {
                        Fate::Changed
                    };
                    (flow, rec, fate)
                }
                Action::Inject(out_flow, rec) => (out_flow, rec, Fate::Injected),
                Action::Cut => {
                    s.cut = true;
                    s.log
                        .push(Observed::dropped(flow, original, at.protected, true));
                    let _ = ends[0].shutdown(Shutdown::Both);
                    let _ = ends[1].shutdown(Shutdown::Both);
                    return Ok(());
                }
            };
            let protected = if out_flow == flow {
                at.protected
            } else {
                s.protected[out_flow.index()]
            };
            s.log.push(Observed {
                flow: out_flow,
                original: (fate == Fate::Changed).then(|| WireRecord(original.clone())),
                record: rec.clone(),
                fate: Some(fate),
                protected,
                cut: false,
            });
            let mut out = if out_flow == flow { to } else { from };
            // A peer that already gave up may have closed: that is its answer, and the log has
            // what was attempted.
            if let Err(e) = out.write_all(&rec.0)
                && !is_closed(&e)
            {
                return Err(e);
            }
        }
        if !forwarded {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            s.log
                .push(Observed::dropped(flow, original, at.protected, false));
        }
    }
}

/// The alerts in a log, in order: who sent them, and the description when it was readable
/// (`None` for an alert encrypted under keys the man in the middle does not have).
pub fn alerts(log: &[Observed]) -> Vec<(Flow, Option<AlertDescription>)> {
    log.iter()
        .filter(|o| o.fate.is_some() && o.record.content_type() == 21)
        .map(|o| {
            let d = if o.protected {
                None
            } else {
                o.record.plaintext_alert().map(|(_, d)| d)
            };
            (o.flow, d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_framed_and_messages_found() {
        let r = WireRecord::new(22, &[14, 0, 0, 0]);
        assert_eq!(r.content_type(), 22);
        assert_eq!(r.type_name(), "handshake");
        assert_eq!(r.0, vec![22, 3, 3, 0, 4, 14, 0, 0, 0]);
        let msgs = r.handshake_messages().unwrap();
        assert_eq!(
            msgs,
            vec![(HandshakeType::ServerHelloDone, vec![14, 0, 0, 0])]
        );
        assert_eq!(
            r.decode_handshake().unwrap(),
            vec![HandshakeMessage::ServerHelloDone(
                crate::wire::messages::ServerHelloDone
            )]
        );
        // A message cut short, an alert, a non-handshake record.
        assert!(
            WireRecord::new(22, &[14, 0, 0, 5, 1])
                .handshake_messages()
                .is_none()
        );
        let a = WireRecord::new(21, &[2, 20]);
        assert_eq!(
            a.plaintext_alert(),
            Some((AlertLevel::Fatal, AlertDescription::BadRecordMac))
        );
        assert!(a.handshake_messages().is_none());
        assert!(WireRecord::new(21, &[2, 20, 0]).plaintext_alert().is_none());
    }

    /// A relay between two plain TCP ends: the attacker sees every record in order, and what it
    /// sends (changed, duplicated, dropped) is what arrives.
    #[test]
    fn the_relay_carries_out_the_attackers_decisions() {
        struct DupFirstDropSecond;
        impl Attacker for DupFirstDropSecond {
            fn on_record(&mut self, at: Position, mut r: WireRecord) -> Vec<Action> {
                match (at.flow, at.index) {
                    (Flow::ClientToServer, 0) => {
                        vec![Action::Forward(r.clone()), Action::Inject(at.flow, r)]
                    }
                    (Flow::ClientToServer, 1) => vec![],
                    (Flow::ClientToServer, 3) => {
                        r.body_mut()[0] ^= 1;
                        vec![Action::Forward(r)]
                    }
                    _ => vec![Action::Forward(r)],
                }
            }
        }
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let mitm = Mitm::start(server.local_addr().unwrap(), DupFirstDropSecond).unwrap();
        let mut client = TcpStream::connect(mitm.addr()).unwrap();
        let (mut up, _) = server.accept().unwrap();
        client.write_all(&WireRecord::new(23, b"one").0).unwrap();
        client.write_all(&WireRecord::new(23, b"two").0).unwrap();
        client.write_all(&WireRecord::new(20, &[1]).0).unwrap();
        client.write_all(&WireRecord::new(23, b"xyz").0).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        up.read_to_end(&mut got).unwrap();
        let mut expect = WireRecord::new(23, b"one").0;
        expect.extend_from_slice(&WireRecord::new(23, b"one").0);
        expect.extend_from_slice(&WireRecord::new(20, &[1]).0);
        expect.extend_from_slice(&WireRecord::new(23, b"yyz").0);
        assert_eq!(got, expect);
        up.write_all(&WireRecord::new(21, &[1, 0]).0).unwrap();
        drop(up);
        let mut back = Vec::new();
        client.read_to_end(&mut back).unwrap();
        assert_eq!(back, WireRecord::new(21, &[1, 0]).0);
        let log = mitm.finish().unwrap();
        let fates: Vec<_> = log.iter().map(|o| (o.flow, o.fate, o.protected)).collect();
        use Flow::*;
        assert_eq!(
            fates,
            vec![
                (ClientToServer, Some(Fate::Forwarded), false),
                (ClientToServer, Some(Fate::Injected), false),
                (ClientToServer, None, false),
                (ClientToServer, Some(Fate::Forwarded), false),
                (ClientToServer, Some(Fate::Changed), true),
                (ServerToClient, Some(Fate::Forwarded), false),
            ]
        );
        assert_eq!(log[4].original, Some(WireRecord::new(23, b"xyz")));
        assert!(
            log.iter()
                .enumerate()
                .all(|(i, o)| (i == 4) == o.original.is_some())
        );
        assert_eq!(
            alerts(&log),
            vec![(ServerToClient, Some(AlertDescription::CloseNotify))]
        );
    }

    #[test]
    fn cut_closes_both_sides_without_a_word() {
        struct CutAtOnce;
        impl Attacker for CutAtOnce {
            fn on_record(&mut self, _: Position, _: WireRecord) -> Vec<Action> {
                vec![Action::Cut]
            }
        }
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let mitm = Mitm::start(server.local_addr().unwrap(), CutAtOnce).unwrap();
        let mut client = TcpStream::connect(mitm.addr()).unwrap();
        let (mut up, _) = server.accept().unwrap();
        client.write_all(&WireRecord::new(23, b"hello").0).unwrap();
        let mut got = Vec::new();
        assert!(matches!(up.read_to_end(&mut got), Ok(0) | Err(_)));
        assert!(got.is_empty());
        let mut back = Vec::new();
        assert!(matches!(client.read_to_end(&mut back), Ok(0) | Err(_)));
        // The log keeps the record the cut came at: dropped, marked as the cut.
        let log = mitm.finish().unwrap();
        assert_eq!(log.len(), 1);
        assert!(log[0].cut && log[0].fate.is_none());
        assert_eq!(log[0].record, WireRecord::new(23, b"hello"));
    }
}
