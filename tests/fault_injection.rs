//! Fault injection (issue 6): a proxy between our client and our server, in memory, that damages
//! one record of a session at a time: for every record position, in both directions, of a full
//! and of a resumed session (handshake, application data and close_notify), under our suite and
//! under TLS_RSA_WITH_AES_128_GCM_SHA256 (each configured as the only suite), it flips a bit,
//! breaks the length, truncates, drops, duplicates or reorders that record. Each time:
//!
//! - the application on either side has read only a prefix of what the other side sent, never a
//!   wrong byte;
//! - the damage is detected: some side fails (only a duplicated final close_notify, which nobody
//!   reads, is harmless);
//! - where the outcome is fixed by the RFC it is asserted exactly: a flipped bit in a protected
//!   record is `bad_record_mac` (RFC 5246 6.2.3.1 via our encrypt-then-MAC, `spec/suite.md`), a
//!   length over the limit is `record_overflow` (6.2.1), a record cut short by the end of the
//!   transport is a truncation (7.2.1);
//! - an alert that a side sends is the one the other side reports (it crossed the wire), unless
//!   that side had already finished everything it had to do.
//!
//! A dropped record often leaves both peers waiting for each other: the pipes time out after
//! `SIDE_TIMEOUT`, as a real socket's timeout would, and the cases run in parallel to stay fast.

mod common;

use common::{client_config, server_config};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toytls::config::{ClientConfig, ServerConfig};
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription;
use toytls::wire::messages::CipherSuite;
use toytls::wire::messages::{
    TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
};

/// How long a side waits for bytes before giving up (a socket timeout).
const SIDE_TIMEOUT: Duration = Duration::from_millis(1500);
/// 20000 bytes each way: one full record and one partial record.
const LEN: usize = 20_000;

fn client_message() -> Vec<u8> {
    (0..LEN).map(|i| (i * 7 + 1) as u8).collect()
}

fn server_message() -> Vec<u8> {
    (0..LEN).map(|i| (i * 13 + 5) as u8).collect()
}

/// One side's transport: reads from one channel (timing out), writes to another.
struct Pipe {
    rx: Receiver<Vec<u8>>,
    tx: Sender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            match self.rx.recv_timeout(SIDE_TIMEOUT) {
                Ok(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.tx
            .send(b.to_vec())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Flip the low bit of the fragment's middle byte.
    FlipBody,
    /// Set the top bit of the length (now over 2^15, past every limit).
    FlipLength,
    /// Send the header and half the fragment, then end the transport.
    Truncate,
    Drop,
    Duplicate,
    /// Swap with the next record of the same flight.
    Reorder,
}

const FAULTS: [Fault; 6] = [
    Fault::FlipBody,
    Fault::FlipLength,
    Fault::Truncate,
    Fault::Drop,
    Fault::Duplicate,
    Fault::Reorder,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ClientToServer,
    ServerToClient,
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    dir: Dir,
    index: usize,
    fault: Fault,
}

/// What the proxy saw of one record.
#[derive(Clone, Copy, Debug)]
struct RecInfo {
    typ: u8,
    /// Records the other direction had forwarded when this one arrived: records with the same
    /// value were written together (one flight), since each flight answers the other side's.
    flight: usize,
}

/// Forwards records from `input` to `output`, damaging record `fault.0` with `fault.1`.
fn proxy(
    input: Receiver<Vec<u8>>,
    output: Sender<Vec<u8>>,
    fault: Option<(usize, Fault)>,
    mine: &AtomicUsize,
    other: &AtomicUsize,
) -> Vec<RecInfo> {
    let mut buf: Vec<u8> = Vec::new();
    let mut infos = Vec::new();
    let mut held: Option<Vec<u8>> = None;
    let forward = |rec: Vec<u8>| {
        // Count before sending, so that the peer's answer can never see the old count.
        mine.fetch_add(1, Ordering::SeqCst);
        let _ = output.send(rec);
    };
    while let Ok(chunk) = input.recv() {
        buf.extend_from_slice(&chunk);
        while buf.len() >= 5 {
            let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
            if buf.len() < 5 + len {
                break;
            }
            let mut rec: Vec<u8> = buf.drain(..5 + len).collect();
            let index = infos.len();
            infos.push(RecInfo {
                typ: rec[0],
                flight: other.load(Ordering::SeqCst),
            });
            match fault {
                Some((i, f)) if i == index => match f {
                    Fault::FlipBody => {
                        rec[5 + len / 2] ^= 1;
                        forward(rec);
                    }
                    Fault::FlipLength => {
                        rec[3] ^= 0x80;
                        forward(rec);
                    }
                    Fault::Truncate => {
                        forward(rec[..5 + len / 2].to_vec());
                        // Dropping both channels ends the transport both ways at the proxy.
                        return infos;
                    }
                    Fault::Drop => {}
                    Fault::Duplicate => {
                        forward(rec.clone());
                        forward(rec);
                    }
                    Fault::Reorder => held = Some(rec),
                },
                _ => {
                    forward(rec);
                    if let Some(h) = held.take() {
                        forward(h);
                    }
                }
            }
        }
    }
    if let Some(h) = held.take() {
        forward(h);
    }
    if !buf.is_empty() {
        forward(buf);
    }
    infos
}

/// What happened on both sides of one session.
struct Outcome {
    client: Result<bool, Error>,
    server: Result<bool, Error>,
    client_got: Vec<u8>,
    server_got: Vec<u8>,
    c2s: Vec<RecInfo>,
    s2c: Vec<RecInfo>,
}

/// The client's part: send its message, read the server's, close_notify, read to the end.
fn client_side(io: Pipe, cfg: Arc<ClientConfig>, got: &mut Vec<u8>) -> Result<bool, Error> {
    let mut tls = TlsStream::connect(io, cfg, "localhost", 443)?;
    tls.write_data(&client_message())?;
    let mut buf = [0u8; 4096];
    while got.len() < LEN {
        let n = tls.read_data(&mut buf)?;
        if n == 0 {
            return Err(Error::Closed);
        }
        got.extend_from_slice(&buf[..n]);
    }
    tls.close()?;
    loop {
        let n = tls.read_data(&mut buf)?;
        if n == 0 {
            return Ok(tls.resumed());
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// The server's part: read the client's message, send its own, read to the client's
/// close_notify, answer it.
fn server_side(io: Pipe, cfg: Arc<ServerConfig>, got: &mut Vec<u8>) -> Result<bool, Error> {
    let mut tls = TlsStream::accept(io, cfg)?;
    let mut buf = [0u8; 4096];
    while got.len() < LEN {
        let n = tls.read_data(&mut buf)?;
        if n == 0 {
            return Err(Error::Closed);
        }
        got.extend_from_slice(&buf[..n]);
    }
    tls.write_data(&server_message())?;
    loop {
        let n = tls.read_data(&mut buf)?;
        if n == 0 {
            tls.close()?;
            return Ok(tls.resumed());
        }
        got.extend_from_slice(&buf[..n]);
    }
}

fn session(ccfg: &Arc<ClientConfig>, scfg: &Arc<ServerConfig>, plan: Option<Plan>) -> Outcome {
    let (c_tx, c2s_in) = channel();
    let (c2s_out, s_rx) = channel();
    let (s_tx, s2c_in) = channel();
    let (s2c_out, c_rx) = channel();
    let client_io = Pipe {
        rx: c_rx,
        tx: c_tx,
        buf: vec![],
        pos: 0,
    };
    let server_io = Pipe {
        rx: s_rx,
        tx: s_tx,
        buf: vec![],
        pos: 0,
    };
    let fault_for = |d: Dir| plan.filter(|p| p.dir == d).map(|p| (p.index, p.fault));
    let (n_c2s, n_s2c) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        let c2s = s.spawn(|| {
            proxy(
                c2s_in,
                c2s_out,
                fault_for(Dir::ClientToServer),
                &n_c2s,
                &n_s2c,
            )
        });
        let s2c = s.spawn(|| {
            proxy(
                s2c_in,
                s2c_out,
                fault_for(Dir::ServerToClient),
                &n_s2c,
                &n_c2s,
            )
        });
        let ccfg = ccfg.clone();
        let client = s.spawn(move || {
            let mut got = Vec::new();
            let r = client_side(client_io, ccfg, &mut got);
            (r, got)
        });
        let scfg = scfg.clone();
        let server = s.spawn(move || {
            let mut got = Vec::new();
            let r = server_side(server_io, scfg, &mut got);
            (r, got)
        });
        let (client, client_got) = client.join().unwrap();
        let (server, server_got) = server.join().unwrap();
        Outcome {
            client,
            server,
            client_got,
            server_got,
            c2s: c2s.join().unwrap(),
            s2c: s2c.join().unwrap(),
        }
    })
}

fn configs(seed: u64, suite: CipherSuite) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let mut c = client_config(seed);
    c.suites = vec![suite];
    let mut s = server_config(seed + 1000);
    s.suites = vec![suite];
    (Arc::new(c), Arc::new(s))
}

/// A session under `plan`, resumed or full; for a resumed one a clean full session comes first.
fn run(plan: Option<Plan>, suite: CipherSuite, resumed: bool, seed: u64) -> Outcome {
    let (c, s) = configs(seed, suite);
    if resumed {
        let first = session(&c, &s, None);
        assert!(matches!(first.client, Ok(false)), "{:?}", first.client);
    }
    session(&c, &s, plan)
}

fn alert_of(r: &Result<bool, Error>) -> Option<AlertDescription> {
    r.as_ref().err().and_then(|e| e.alert())
}

/// The checks every damaged session must pass; returns a description of what went wrong.
fn check(plan: Plan, info: &RecInfo, protected: bool, last: bool, o: &Outcome) -> Option<String> {
    let cm = client_message();
    let sm = server_message();
    if !cm.starts_with(&o.server_got) {
        return Some("the server read bytes the client never sent".into());
    }
    if !sm.starts_with(&o.client_got) {
        return Some("the client read bytes the server never sent".into());
    }
    let receiver = match plan.dir {
        Dir::ClientToServer => &o.server,
        Dir::ServerToClient => &o.client,
    };
    let harmless = plan.fault == Fault::Duplicate && last && info.typ == 21;
    if o.client.is_ok() && o.server.is_ok() && !harmless {
        return Some("both sides succeeded: the damage went unnoticed".into());
    }
    let expected = match plan.fault {
        Fault::FlipLength => Some("record_overflow"),
        Fault::FlipBody if protected => Some("bad_record_mac"),
        Fault::Truncate => Some("truncated"),
        _ => None,
    };
    if let Some(want) = expected {
        let ok = matches!(
            (want, receiver),
            ("record_overflow", Err(Error::RecordOverflow { .. }))
                | ("bad_record_mac", Err(Error::BadRecordMac))
                | ("truncated", Err(Error::Truncated))
        );
        if !ok {
            return Some(format!(
                "the receiver should fail with {want}: {receiver:?}"
            ));
        }
    }
    // Every alert sent is the alert the other side reports, unless it had finished.
    for (a, b) in [(&o.client, &o.server), (&o.server, &o.client)] {
        if let Some(sent) = alert_of(a) {
            match b {
                Ok(_) => {}
                Err(Error::PeerAlert(got)) if *got == sent => {}
                other => {
                    return Some(format!(
                        "{sent:?} was sent but the other side reports {other:?}"
                    ));
                }
            }
        }
    }
    None
}

/// All the damaged sessions of one kind (full or resumed), checked; returns the number run.
fn every_position(suite: CipherSuite, resumed: bool) -> usize {
    let reference = run(None, suite, resumed, 1);
    assert_eq!(reference.client.as_ref().ok(), Some(&resumed));
    assert_eq!(reference.server.as_ref().ok(), Some(&resumed));
    assert_eq!(reference.client_got, server_message());
    assert_eq!(reference.server_got, client_message());
    let mut plans = Vec::new();
    for (dir, recs) in [
        (Dir::ClientToServer, &reference.c2s),
        (Dir::ServerToClient, &reference.s2c),
    ] {
        let ccs = recs
            .iter()
            .position(|r| r.typ == 20)
            .expect("a ChangeCipherSpec");
        for (index, info) in recs.iter().enumerate() {
            for fault in FAULTS {
                let next_same_flight = recs.get(index + 1).is_some_and(|n| n.flight == info.flight);
                if fault == Fault::Reorder && !next_same_flight {
                    continue;
                }
                let last = index + 1 == recs.len();
                plans.push((Plan { dir, index, fault }, *info, index > ccs, last));
            }
        }
    }
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((plan, info, protected, last)) = plans.get(i) else {
                        return;
                    };
                    let o = run(Some(*plan), suite, resumed, 10 + i as u64);
                    if let Some(why) = check(*plan, info, *protected, *last, &o) {
                        failures.lock().unwrap().push(format!(
                            "{plan:?} (record type {}, protected {protected}): {why}\n  client: {:?}\n  server: {:?}",
                            info.typ, o.client, o.server
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    plans.len()
}

#[test]
fn every_record_of_a_full_session_damaged_in_every_way_fails_closed() {
    let n = every_position(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, false);
    // 7 records client to server, 6 back; six faults each, reorders only inside a flight.
    assert!(n >= 60, "only {n} cases");
}

#[test]
fn every_record_of_a_resumed_session_damaged_in_every_way_fails_closed() {
    let n = every_position(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, true);
    assert!(n >= 55, "only {n} cases");
}

/// The same with the standard AEAD suite (RFC 5288): a flipped bit anywhere in a GCM record,
/// explicit nonce included, fails its tag, which is bad_record_mac too (RFC 5246 6.2.3.3).
#[test]
fn every_record_of_full_and_resumed_gcm_sessions_damaged_in_every_way_fails_closed() {
    let n = every_position(TLS_RSA_WITH_AES_128_GCM_SHA256, false)
        + every_position(TLS_RSA_WITH_AES_128_GCM_SHA256, true);
    assert!(n >= 115, "only {n} cases");
}
