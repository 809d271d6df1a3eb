//! The stage every scenario plays on: a CA, a server certificate for `localhost`, a real toytls
//! server and a real toytls client on loopback, and a man in the middle ([`super::mitm`])
//! between them.
//!
//! Both peers are configured exactly as `toytls server` and `toytls client` would be, with one
//! addition: a trace sink that notes every alert each side sends. The man in the middle cannot
//! read an alert sent after ChangeCipherSpec (it is encrypted); the sender's own trace says which
//! alert it was, and the relay's log proves that an alert record of that side crossed the wire.

use super::mitm::{Attacker, Flow, Mitm, Observed};
use crate::Side;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::rsa::RsaPrivateKey;
use crate::error::{Error, Result};
use crate::stream::TlsStream;
use crate::trace::{Dir, Secret, TraceEvent, TraceSink};
use crate::wire::alert::AlertDescription;
use crate::wire::messages::CipherSuite;
use crate::x509::Certificate;
use crate::x509::builder::{generate_ca, issue_server_cert};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long any lab peer waits for a read before giving up (nothing in the lab should wait).
pub const IO_WAIT: Duration = Duration::from_secs(20);

/// The trusted CA and the genuine server's certificate and key.
pub struct Stage {
    pub ca: Certificate,
    pub ca_key: RsaPrivateKey,
    pub server_cert: Certificate,
    pub server_key: RsaPrivateKey,
    /// When the certificates are valid: an hour ago to a day from now.
    pub validity: (UnixTime, UnixTime),
}

impl Stage {
    /// A new CA `toytls lab CA` and a certificate for `localhost` it signed (2048-bit keys).
    pub fn new() -> Result<Stage> {
        let mut rng = rand::rng();
        let now = SystemClock.now();
        let validity = (UnixTime(now.0 - 3600), UnixTime(now.0 + 86400));
        let cert_err = |e: crate::x509::error::CertError| Error::Internal(e.to_string());
        let (ca, ca_key) =
            generate_ca(&mut rng, "toytls lab CA", validity.0, validity.1).map_err(cert_err)?;
        let (server_cert, server_key) = issue_server_cert(
            &mut rng,
            &ca,
            &ca_key,
            &["localhost"],
            validity.0,
            validity.1,
        )
        .map_err(cert_err)?;
        Ok(Stage {
            ca,
            ca_key,
            server_cert,
            server_key,
            validity,
        })
    }

    /// The genuine server's configuration, its alerts noted in `alerts`.
    pub fn server_config(&self, alerts: &Arc<SentAlerts>) -> Result<ServerConfig> {
        let mut c = ServerConfig::from_certificates(
            std::slice::from_ref(&self.server_cert),
            self.server_key.clone(),
        )?;
        c.trace = Some(alerts.clone());
        Ok(c)
    }

    /// A client that trusts the lab CA and offers `suites`, its alerts noted in `alerts`.
    pub fn client_config(&self, alerts: &Arc<SentAlerts>, suites: &[CipherSuite]) -> ClientConfig {
        let mut c = ClientConfig::new(vec![self.ca.clone()]);
        c.suites = suites.to_vec();
        c.trace = Some(alerts.clone());
        c.handshake_timeout = IO_WAIT;
        c.io_timeout = IO_WAIT;
        c
    }
}

/// A trace sink that keeps the alerts each side sent, in order, and the pre-master secret each
/// side used (nothing else).
#[derive(Default)]
pub struct SentAlerts {
    sent: Mutex<Vec<(Side, AlertDescription)>>,
    pre_master: Mutex<Vec<(Side, Vec<u8>)>>,
}

impl SentAlerts {
    pub fn new() -> Arc<SentAlerts> {
        Arc::new(SentAlerts::default())
    }

    /// The pre-master secrets noted since the last call, emptied.
    pub fn take_pre_master(&self) -> Vec<(Side, Vec<u8>)> {
        std::mem::take(&mut *self.pre_master.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Every alert noted so far, emptied.
    pub fn take(&self) -> Vec<(Side, AlertDescription)> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl TraceSink for SentAlerts {
    fn event(&self, e: &TraceEvent) {
        if let TraceEvent::Secret {
            side,
            secret: Secret::PreMaster,
            value,
            ..
        } = e
        {
            self.pre_master
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((*side, value.clone()));
        }
        if let TraceEvent::Alert {
            side,
            dir: Dir::Sent,
            description,
            ..
        } = e
        {
            self.sent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((*side, *description));
        }
    }
}

/// An alert that crossed the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireAlert {
    pub flow: Flow,
    pub description: AlertDescription,
    /// Encrypted: the man in the middle saw an alert record but could not read it (the
    /// description is the sender's, from its trace).
    pub encrypted: bool,
}

impl std::fmt::Display for WireAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.flow.arrow(), self.description)?;
        if self.encrypted {
            f.write_str(" (encrypted: the man in the middle saw only that an alert went by)")?;
        }
        Ok(())
    }
}

/// The alerts that crossed the wire, from the relay's log, each named by its sender's trace.
/// An alert record the relay saw whose sender noted nothing is left out (it cannot happen with
/// toytls peers), as is an alert the sender noted that the relay never carried (sent after the
/// connection was cut).
pub fn wire_alerts(log: &[Observed], sent: &[(Side, AlertDescription)]) -> Vec<WireAlert> {
    let mut queues = [Vec::new(), Vec::new()];
    for &(side, d) in sent {
        queues[match side {
            Side::Client => 0,
            Side::Server => 1,
        }]
        .push(d);
    }
    let mut next = [0usize; 2];
    let mut out = Vec::new();
    for o in log {
        if o.fate.is_none() || o.record.content_type() != 21 {
            continue;
        }
        let i = match o.flow {
            Flow::ClientToServer => 0,
            Flow::ServerToClient => 1,
        };
        let plain = (!o.protected)
            .then(|| o.record.plaintext_alert().map(|(_, d)| d))
            .flatten();
        let noted = queues[i].get(next[i]).copied();
        next[i] += 1;
        if let Some(description) = plain.or(noted) {
            out.push(WireAlert {
                flow: o.flow,
                description,
                encrypted: o.protected,
            });
        }
    }
    out
}

/// One connection from the client, through the man in the middle, to a server thread.
pub struct Run<S, C> {
    /// What the server side returned.
    pub server: S,
    /// What the client side returned.
    pub client: C,
    /// Every record the relay carried or dropped.
    pub log: Vec<Observed>,
    /// The alerts that crossed the wire.
    pub alerts: Vec<WireAlert>,
}

/// Runs one connection: `server` gets the accepted TCP connection (and runs the server side on
/// it, usually [`TlsStream::accept`]), `client` gets a TCP connection to the man in the middle,
/// which relays to the server through `attacker`.
pub fn run_connection<S: Send + 'static, C>(
    alerts: &Arc<SentAlerts>,
    attacker: impl Attacker + 'static,
    server: impl FnOnce(TcpStream) -> S + Send + 'static,
    client: impl FnOnce(TcpStream) -> C,
) -> Result<Run<S, C>> {
    alerts.take();
    alerts.take_pre_master();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let upstream = listener.local_addr()?;
    let server = std::thread::spawn(move || -> std::io::Result<S> {
        let (tcp, _) = listener.accept()?;
        tcp.set_read_timeout(Some(IO_WAIT))?;
        Ok(server(tcp))
    });
    let mitm = Mitm::start(upstream, attacker)?;
    let tcp = TcpStream::connect(mitm.addr())?;
    tcp.set_read_timeout(Some(IO_WAIT))?;
    let client = client(tcp);
    let server = server
        .join()
        .map_err(|_| Error::Internal("the lab's server thread panicked".into()))??;
    let log = mitm.finish()?;
    let alerts_sent = alerts.take();
    Ok(Run {
        alerts: wire_alerts(&log, &alerts_sent),
        server,
        client,
        log,
    })
}

/// The port the client believes it connects to, under which it keeps sessions for resumption.
/// Each connection goes through a new relay on a new port of its own, so the real port would
/// never find a session again.
pub const SERVER_PORT: u16 = 443;

/// The client side most scenarios use: a toytls client handshake for `localhost`.
pub fn connect(tcp: TcpStream, config: &Arc<ClientConfig>) -> Result<TlsStream<TcpStream>> {
    TlsStream::connect(tcp, config.clone(), "localhost", SERVER_PORT)
}

/// A recording in memory: what a [`crate::capture::Capture`] writes, kept for the decryptor.
#[derive(Clone, Default)]
pub struct Tape(Arc<Mutex<Vec<u8>>>);

impl Tape {
    /// Everything recorded so far, emptied.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl std::io::Write for Tape {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Notes the attacker leaves for the narration (it runs on the relay's threads).
#[derive(Clone, Default)]
pub(super) struct Notes(Arc<Mutex<Vec<String>>>);

impl Notes {
    pub(super) fn add(&self, s: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    }
    pub(super) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
