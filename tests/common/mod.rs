//! Shared test fixtures: certificates made once per test binary, an in-memory duplex pipe, a
//! clock tests can move, and configs with seeded RNGs.
#![allow(dead_code)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};
use toytls::Side;
use toytls::clock::{Clock, UnixTime};
use toytls::config::{ClientConfig, ServerConfig, seeded_rng};
use toytls::conn::Conn;
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::stream::TlsStream;
use toytls::wire::messages::{ClientHello, HandshakeMessage};
use toytls::x509::Certificate;
use toytls::x509::builder::{ca_with_key, server_cert_with_key};

mod tempdir;
#[allow(unused_imports)]
pub use tempdir::TempDir;

/// 2026-01-01T00:00:00Z: inside every fixture certificate's validity.
pub const NOW: i64 = 1_767_225_600;

pub struct Pki {
    pub ca: Certificate,
    pub ca_key: RsaPrivateKey,
    pub server: Certificate,
    pub server_key: RsaPrivateKey,
    /// Another CA, trusted by nobody here.
    pub other_ca: Certificate,
}

/// One CA and one server certificate for `localhost` and `127.0.0.1`, valid 2025..2027, with
/// 2048-bit keys (the smallest toytls accepts by default, `x509::verify::MIN_RSA_BITS`).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(1);
        let nb = UnixTime(NOW - 365 * 86400);
        let na = UnixTime(NOW + 365 * 86400);
        let ca_key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let ca = ca_with_key(&mut rng, &ca_key, "toytls test CA", nb, na).unwrap();
        let server_key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let server = server_cert_with_key(
            &mut rng,
            &ca,
            &ca_key,
            &server_key.public_key(),
            &["localhost", "127.0.0.1"],
            nb,
            na,
        )
        .unwrap();
        let other_key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let other_ca = ca_with_key(&mut rng, &other_key, "someone else's CA", nb, na).unwrap();
        Pki {
            ca,
            ca_key,
            server,
            server_key,
            other_ca,
        }
    })
}

/// A clock tests can move forward.
pub struct StepClock(pub AtomicI64);

impl StepClock {
    pub fn new(t: i64) -> Arc<StepClock> {
        Arc::new(StepClock(AtomicI64::new(t)))
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for StepClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

pub fn client_config(seed: u64) -> ClientConfig {
    let mut c = ClientConfig::new(vec![pki().ca.clone()]);
    c.rng = seeded_rng(seed);
    c.clock = StepClock::new(NOW);
    c
}

pub fn server_config(seed: u64) -> ServerConfig {
    let p = pki();
    let mut s =
        ServerConfig::from_certificates(std::slice::from_ref(&p.server), p.server_key.clone())
            .unwrap();
    s.rng = seeded_rng(seed);
    s.clock = StepClock::new(NOW);
    s
}

/// [`server_config`], with a certificate of its own for the test server key that names `names`
/// and is valid from a day before [`NOW`] until `not_after`.
#[allow(dead_code)]
pub fn server_with_names(seed: u64, names: &[&str], not_after: i64) -> ServerConfig {
    let p = pki();
    let mut rng = StdRng::seed_from_u64(seed);
    let cert = server_cert_with_key(
        &mut rng,
        &p.ca,
        &p.ca_key,
        &p.server_key.public_key(),
        names,
        UnixTime(NOW - 86_400),
        UnixTime(not_after),
    )
    .unwrap();
    let mut s = ServerConfig::from_certificates(&[cert], p.server_key.clone()).unwrap();
    s.rng = seeded_rng(seed);
    s.clock = StepClock::new(NOW);
    s
}

/// One end of an in-memory duplex byte pipe. Dropping an end is the other end's EOF.
pub struct End {
    reader: EndReader,
    tx: Option<Sender<Vec<u8>>>,
}

pub fn pipe() -> (End, End) {
    let (a_tx, b_rx) = channel();
    let (b_tx, a_rx) = channel();
    (
        End {
            reader: EndReader::new(a_rx),
            tx: Some(a_tx),
        },
        End {
            reader: EndReader::new(b_rx),
            tx: Some(b_tx),
        },
    )
}

impl End {
    /// Stops sending (the peer reads EOF) but keeps receiving.
    pub fn shutdown_write(&mut self) {
        self.tx = None;
    }
}

impl Read for End {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(out)
    }
}

impl Write for End {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match &self.tx {
            Some(tx) if tx.send(b.to_vec()).is_ok() => Ok(b.len()),
            _ => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which way a record travels through [`proxy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    ToServer,
    ToClient,
}

/// What [`proxy`] does with one record.
pub enum Action {
    Forward(Vec<u8>),
    /// Forward these records instead (re-fragmenting, duplicating).
    Many(Vec<Vec<u8>>),
    /// Send the next record first, then this one (reordering).
    SwapWithNext(Vec<u8>),
}

/// Handshake bytes `msg` (messages with their headers) as plaintext handshake records of at most
/// 2^14 bytes each, as a peer sends them before ChangeCipherSpec.
pub fn handshake_records(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in msg.chunks(1 << 14) {
        out.extend_from_slice(&[22, 3, 3]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// Reads one whole record (header and fragment); `None` at EOF.
pub fn read_record(r: &mut impl Read) -> Option<Vec<u8>> {
    let mut rec = vec![0u8; 5];
    r.read_exact(&mut rec).ok()?;
    let len = u16::from_be_bytes([rec[3], rec[4]]) as usize;
    rec.resize(5 + len, 0);
    r.read_exact(&mut rec[5..]).ok()?;
    Some(rec)
}

/// A man in the middle: returns the client's and the server's transport; every record passing
/// between them goes through `edit(way, index_in_that_direction, record)`.
pub fn proxy(edit: impl Fn(Way, usize, Vec<u8>) -> Action + Send + Sync + 'static) -> (End, End) {
    let (client_end, proxy_c) = pipe();
    let (server_end, proxy_s) = pipe();
    let edit = Arc::new(edit);
    let (c_rx, c_tx) = proxy_c.split();
    let (s_rx, s_tx) = proxy_s.split();
    for (way, mut from, mut to) in [(Way::ToServer, c_rx, s_tx), (Way::ToClient, s_rx, c_tx)] {
        let edit = edit.clone();
        std::thread::spawn(move || {
            let mut i = 0;
            while let Some(rec) = read_record(&mut from) {
                let out = match edit(way, i, rec) {
                    Action::Forward(r) => vec![r],
                    Action::Many(rs) => rs,
                    Action::SwapWithNext(r) => {
                        i += 1;
                        match read_record(&mut from) {
                            Some(next) => vec![next, r],
                            None => vec![r],
                        }
                    }
                };
                i += 1;
                // Like a kernel socket buffer, keep accepting what the sender writes even after
                // the receiver has gone, so the sender sees the receiver's alert rather than a
                // broken pipe.
                for r in out {
                    let _ = to.write_all(&r);
                }
            }
        });
    }
    (client_end, server_end)
}

/// The reading half of an [`End`].
pub struct EndReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl EndReader {
    fn new(rx: Receiver<Vec<u8>>) -> EndReader {
        EndReader {
            rx,
            buf: vec![],
            pos: 0,
        }
    }
}

/// The writing half of an [`End`].
pub struct EndWriter {
    tx: Sender<Vec<u8>>,
}

impl End {
    pub fn split(self) -> (EndReader, EndWriter) {
        (
            self.reader,
            EndWriter {
                tx: self.tx.expect("split an open end"),
            },
        )
    }
}

impl Read for EndReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            // A test that waits this long is stuck: fail it instead of hanging.
            match self.rx.recv_timeout(std::time::Duration::from_secs(20)) {
                Ok(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for EndWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.tx
            .send(b.to_vec())
            .map(|_| b.len())
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads records until an alert arrives; returns its raw record.
pub fn read_alert_record(io: &mut impl Read) -> Vec<u8> {
    loop {
        let r = read_record(io).expect("the peer closed without an alert");
        if r[0] == 21 {
            return r;
        }
    }
}

/// A scripted server: reads the ClientHello of our client (configured by `client`), answers with
/// `flight`, and returns the client's error and the alert record it sent.
pub fn scripted_server_against(
    client: ClientConfig,
    flight: Vec<HandshakeMessage>,
) -> (Error, Vec<u8>) {
    let (c, s) = pipe();
    let ct = std::thread::spawn(move || {
        TlsStream::connect(c, Arc::new(client), "localhost", 443).map(|_| ())
    });
    let mut srv = Conn::new(s, Side::Server, None);
    let mut hs = Handshake::new(&mut srv);
    let _: ClientHello = hs.read().unwrap();
    for m in flight {
        hs.send(m).unwrap();
    }
    hs.flush().unwrap();
    let e = ct.join().unwrap().unwrap_err();
    (e, read_alert_record(&mut srv.io))
}

/// A generated file committed under spec/ must be what the code produces now, byte for byte (the
/// wire and the story did not change by accident). `TOYTLS_REGENERATE=1` writes `produced` over
/// `path` instead; `what` names the generator in the failure, which points at the first line
/// that differs.
pub fn assert_matches_committed(path: &str, produced: &str, what: &str) {
    if std::env::var_os("TOYTLS_REGENERATE").is_some() {
        std::fs::write(path, produced).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != produced {
        let line = committed
            .lines()
            .zip(produced.lines())
            .position(|(x, y)| x != y)
            // No line differs: one file is the other plus more lines (or a final newline).
            .unwrap_or_else(|| committed.lines().count().min(produced.lines().count()))
            + 1;
        panic!(
            "{path} differs from what {what} produces (first difference at line {line}); if the \
             change is intended, regenerate with TOYTLS_REGENERATE=1 and review the diff"
        );
    }
}
