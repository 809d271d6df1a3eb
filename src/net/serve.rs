//! A TCP server that keeps serving when some of its peers are hostile (`spec/limits.md`).
//!
//! [`serve`] accepts connections on a `TcpListener` and runs each on its own thread: the TLS
//! handshake ([`TlsStream::accept`]) and then the caller's handler. The threads are reused from
//! one connection to the next ([`crate::net::workers`] says why and how). These limits bound
//! what one peer can cost:
//!
//! - **Connection slots**: at most [`ServerLimits::max_connections`] connections are served at
//!   once. What happens to a new client when all slots are taken is [`ServerLimits::when_full`]:
//!   by default ([`WhenFull::Wait`]) the server stops accepting until one frees up, and new clients
//!   wait in the kernel's listen queue (their handshake simply starts later) instead of being
//!   dropped; with [`WhenFull::Refuse`] they are accepted, sent a fatal `internal_error` alert and
//!   closed at once, so they learn that the server is busy instead of waiting.
//! - **Handshake deadline**: the whole handshake must finish within
//!   [`ServerLimits::handshake_timeout`] of the accept. A client that sends nothing, or one byte a
//!   second, holds one slot until then and is dropped at the deadline: every read and write during
//!   the handshake is given only the time left ([`TimedStream`], shared with the client), so
//!   trickling bytes does not buy more time.
//! - **Read and write timeouts**: after the handshake every read and write must make progress
//!   within [`ServerLimits::io_timeout`].
//! - **Idle timeout**: after the handshake a connection on which no application data has moved,
//!   either way, for [`ServerLimits::idle_timeout`] is closed (no alert, like any timeout). The
//!   read and write timeouts alone are renewed by any byte: a client sending an empty
//!   application-data record every 29 s would hold its slot for ever.
//! - **Maximum lifetime**: no connection lasts longer than [`ServerLimits::max_lifetime`] from
//!   its accept, however much it sends: past it every read and write fails at once (no alert,
//!   like any timeout) and the slot is freed. Without it a client that keeps each read and write
//!   within the timeouts would hold its slot for ever.
//!
//! A connection whose end sent the client a last record (the handler's close_notify, or the
//! fatal alert of a failure) ends with [`crate::net::timed::orderly_close`]: our write side is
//! shut down and what the client still sends is read (bounded) before the socket closes, so that
//! a reset does not destroy the answer or the alert in flight.
//!
//! A failed connection never stops the server: its error is passed to the `log` callback (one line
//! per connection) and its slot is freed, also if the handler panics (the panic is caught and
//! logged the same way; the process's panic hook still prints it too).

use crate::config::ServerConfig;
use crate::error::{Error, Result};
pub use crate::net::timed::TimedStream;
use crate::net::workers::Workers;
use crate::record::{ContentType, HEADER_LEN};
use crate::stream::TlsStream;
use crate::wire::alert::AlertDescription;
use crate::wire::messages::ProtocolVersion;
use crate::wire::messages::alert::AlertMessage;
use std::io::{ErrorKind, Read, Write};
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What one connection may cost the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once; what happens to more is `when_full`.
    pub max_connections: usize,
    /// What a new connection gets when `max_connections` are being served.
    pub when_full: WhenFull,
    /// Time from accept to the end of the handshake.
    pub handshake_timeout: Duration,
    /// Longest wait for one read or write after the handshake.
    pub io_timeout: Duration,
    /// Longest time without application data, either way, after the handshake (empty records,
    /// warning alerts and refused renegotiations do not count).
    pub idle_timeout: Duration,
    /// Time from accept to the end of the connection, however busy it is: past it every read
    /// and write fails and the connection is closed.
    pub max_lifetime: Duration,
}

impl Default for ServerLimits {
    /// As many connections as this machine can hold ([`crate::net::capacity`]; more wait), a
    /// 10 s handshake deadline, 30 s read and write timeouts, 2 minutes without application
    /// data, at most an hour per connection.
    fn default() -> Self {
        ServerLimits {
            max_connections: crate::net::capacity::max_connections(),
            when_full: WhenFull::Wait,
            handshake_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            max_lifetime: Duration::from_secs(3600),
        }
    }
}

/// What the server does with a new client while all connection slots are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Stop accepting until a slot frees up: new clients wait in the kernel's listen queue and are
    /// served in turn (the default: a burst above the limit costs latency, not failures).
    #[default]
    Wait,
    /// Accept, send a fatal `internal_error` alert, close, and log one line: the client learns at
    /// once that the server is busy (and may try elsewhere) instead of waiting.
    Refuse,
}

/// Counts the connections being served and makes the acceptor wait when all slots are taken.
struct Slots {
    used: Mutex<SlotCount>,
    freed: Condvar,
    max: usize,
}

#[derive(Default)]
struct SlotCount {
    /// Slots taken.
    used: usize,
    /// Threads waiting for a slot to free up: a freed slot wakes one only if there is one (a
    /// wake-up with nobody waiting is still a system call, paid by every connection's end).
    waiting: usize,
}

/// One taken slot; dropping it (also while unwinding from a panic) frees it.
struct Slot(Arc<Slots>);

impl Slots {
    fn count(&self) -> std::sync::MutexGuard<'_, SlotCount> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(self: &Arc<Self>) -> Slot {
        let mut count = self.count();
        while count.used >= self.max {
            count.waiting += 1;
            count = self.freed.wait(count).unwrap_or_else(|e| e.into_inner());
            count.waiting -= 1;
        }
        count.used += 1;
        Slot(self.clone())
    }

    /// A slot if one is free now.
    fn try_take(self: &Arc<Self>) -> Option<Slot> {
        let mut count = self.count();
        if count.used >= self.max {
            return None;
        }
        count.used += 1;
        Some(Slot(self.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut count = self.0.count();
        count.used -= 1;
        if count.waiting > 0 {
            self.0.freed.notify_one();
        }
    }
}

/// Serves `listener` until accepting fails for good: each connection runs the TLS handshake
/// under `limits` and then `handler`. Every failed connection is reported to `log` as one line
/// naming the peer. Never returns while the listener works.
pub fn serve<H, L>(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    handler: H,
    log: L,
) -> std::io::Result<()>
where
    H: Fn(&mut TlsStream<TimedStream>) -> Result<()> + Send + Sync + 'static,
    L: Fn(String) + Send + Sync + 'static,
{
    serve_with(listener, config, limits, Ok, handler, log)
}

/// [`serve`], with each connection's transport made by `wrap` from its [`TimedStream`] before the
/// handshake: a wrapper that records the connection (`toytls server --pcap`,
/// [`crate::capture::Recorded`]), say.
pub fn serve_with<W, T, H, L>(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    wrap: W,
    handler: H,
    log: L,
) -> std::io::Result<()>
where
    W: Fn(TimedStream) -> std::io::Result<T> + Send + Sync + 'static,
    T: Read + Write + AsMut<TimedStream> + 'static,
    H: Fn(&mut TlsStream<T>) -> Result<()> + Send + Sync + 'static,
    L: Fn(String) + Send + Sync + 'static,
{
    let server = Arc::new(Acceptor {
        listener,
        config,
        limits,
        slots: Arc::new(Slots {
            used: Mutex::new(SlotCount::default()),
            freed: Condvar::new(),
            max: limits.max_connections.max(1),
        }),
        wrap,
        handler,
        log,
        workers: Workers::new(),
        accepting: AtomicUsize::new(0),
        stopped: Mutex::new(None),
        stop: Condvar::new(),
        _transport: PhantomData,
    });
    let first = server.clone();
    server.workers.run(move || first.take_turn())?;
    let mut stopped = server.stopped.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(e) = stopped.take() {
            return Err(e);
        }
        stopped = server.stop.wait(stopped).unwrap_or_else(|e| e.into_inner());
    }
}

/// The server, shared by its threads. Threads wait in `accept` on the one listener (the kernel
/// wakes one of them per client), and the thread that accepts a client serves it itself, from
/// the first read of its ClientHello to the close; then it goes back to accepting, unless
/// [`ACCEPTORS`] threads already are. So nothing stands between a client's connect and the start
/// of its handshake: no hand-off from an accepting thread to a worker (a wake-up of another
/// thread, tens of microseconds on a busy machine, which a client that makes one connection after
/// another would wait for every time). Only when the last accepting thread takes a client does it
/// first give a turn to another thread (one waiting for work, or a new one), so that someone is
/// always accepting while it serves.
struct Acceptor<W, T, H, L> {
    listener: TcpListener,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    slots: Arc<Slots>,
    wrap: W,
    handler: H,
    log: L,
    workers: Workers,
    /// Threads in (or about to enter) `accept` now.
    accepting: AtomicUsize,
    /// Why accepting stopped for good, for [`serve_with`] to return.
    stopped: Mutex<Option<std::io::Error>>,
    stop: Condvar,
    _transport: PhantomData<fn() -> T>,
}

/// Threads that go back to waiting in `accept` after a connection, at most; the others wait for
/// a turn in the pool ([`Workers`]), and end there when none comes. Two, so that while one is
/// taking a client the next client already has a thread waiting for it.
const ACCEPTORS: usize = 2;

impl<W, T, H, L> Acceptor<W, T, H, L>
where
    W: Fn(TimedStream) -> std::io::Result<T> + Send + Sync + 'static,
    T: Read + Write + AsMut<TimedStream> + 'static,
    H: Fn(&mut TlsStream<T>) -> Result<()> + Send + Sync + 'static,
    L: Fn(String) + Send + Sync + 'static,
{
    /// A turn at accepting: accept a client that gets a slot, serve it, and accept again while
    /// fewer than [`ACCEPTORS`] threads do.
    fn take_turn(self: Arc<Self>) {
        // Should this thread unwind outside a connection (a bug), `serve` returns an error
        // instead of waiting for ever on a server that may have nobody accepting.
        let turn = Turn(&self.stopped, &self.stop);
        loop {
            // Waiting: take a free slot before accepting, so while all are taken new clients
            // queue in the kernel and are served in turn. Refusing: accept first, then look.
            let waited = match self.limits.when_full {
                WhenFull::Wait => Some(self.slots.take()),
                WhenFull::Refuse => None,
            };
            self.accepting.fetch_add(1, Ordering::SeqCst);
            let accepted = self.listener.accept();
            let others = self.accepting.fetch_sub(1, Ordering::SeqCst) - 1;
            let (tcp, peer) = match accepted {
                Ok(x) => x,
                Err(e) if is_transient(&e) => {
                    (self.log)(format!("accept failed: {e}"));
                    // Out of file descriptors and the like: give connections time to finish.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(e) => {
                    turn.stop(e);
                    return;
                }
            };
            let Some(slot) = waited.or_else(|| self.slots.try_take()) else {
                refuse(tcp);
                (self.log)(format!(
                    "{peer}: refused: all {} connection slots are taken (sent a fatal internal_error alert)",
                    self.slots.max
                ));
                continue;
            };
            if others == 0 {
                let next = self.clone();
                if let Err(e) = self.workers.run(move || next.take_turn()) {
                    // No thread to accept while this one serves: it goes on accepting, and the
                    // client is let go.
                    (self.log)(format!("{peer}: cannot start a thread: {e}"));
                    continue;
                }
            }
            self.serve_one(tcp, peer, slot);
            if self.accepting.load(Ordering::SeqCst) >= ACCEPTORS {
                std::mem::forget(turn);
                return;
            }
        }
    }

    /// One client, from the handshake to the close, on this thread; its slot is freed at the end.
    fn serve_one(&self, tcp: TcpStream, peer: SocketAddr, slot: Slot) {
        let _slot = slot;
        // A panic (in the handler, or a bug of ours) ends this connection only: it is caught
        // here so that it is logged like any other failure; unwinding has already dropped the
        // connection, and `_slot` is freed when this returns.
        let run = AssertUnwindSafe(|| {
            connection(
                tcp,
                self.config.clone(),
                self.limits,
                &self.wrap,
                &self.handler,
            )
        });
        match std::panic::catch_unwind(run) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => (self.log)(format!("{peer}: {e}")),
            Err(panic) => (self.log)(format!(
                "{peer}: connection panicked: {}",
                panic_message(&*panic)
            )),
        }
    }
}

/// Held by the thread with the accepting turn; dropped while unwinding, it stops the server.
struct Turn<'a>(&'a Mutex<Option<std::io::Error>>, &'a Condvar);

impl Turn<'_> {
    fn stop(&self, e: std::io::Error) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        self.1.notify_all();
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.stop(std::io::Error::other("the accepting thread panicked"));
        }
    }
}

/// Turns away a client the server has no slot for: one fatal `internal_error` alert, then the
/// close. internal_error because RFC 5246 7.2.2 defines it as a failure "unrelated to the peer or
/// the correctness of the protocol" that "makes it impossible to continue", which is what being
/// out of slots is; handshake_failure would blame the security parameters the client offered.
/// No keys exist yet, so the alert goes out as a plaintext record of version {3, 3}.
///
/// Runs on the acceptor thread, so it never blocks: 7 bytes always fit in a new socket's send
/// buffer. It then reads what the client already sent (its ClientHello, usually), because closing
/// a socket with unread data makes the kernel send a reset instead of an orderly close, and a
/// reset can destroy the alert before the client reads it.
fn refuse(tcp: TcpStream) {
    let alert = AlertMessage::fatal(AlertDescription::InternalError).to_bytes();
    let mut record = [0u8; HEADER_LEN + 2];
    record[0] = ContentType::Alert.code();
    record[1..3].copy_from_slice(&ProtocolVersion::TLS12.to_bytes());
    record[3..5].copy_from_slice(&(alert.len() as u16).to_be_bytes());
    record[HEADER_LEN..].copy_from_slice(&alert);
    let _ = tcp.set_nonblocking(true);
    let _ = (&tcp).write_all(&record);
    crate::net::timed::close_now(&tcp);
}

/// The message a panic was raised with, if it was a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// Errors of `accept` that concern one connection or a passing shortage, not the listener.
fn is_transient(e: &std::io::Error) -> bool {
    !matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported)
}

/// One connection: the handshake under the deadline, then the handler under the I/O timeouts.
fn connection<W, T, H>(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    wrap: &W,
    handler: &H,
) -> std::result::Result<(), ConnectionError>
where
    W: Fn(TimedStream) -> std::io::Result<T>,
    T: Read + Write + AsMut<TimedStream>,
    H: Fn(&mut TlsStream<T>) -> Result<()>,
{
    let _ = tcp.set_nodelay(true);
    // The socket is shared with the TLS stream's transport and outlives it, for the close that
    // fits how the connection ended: our last record (close_notify or a fatal alert) must not be
    // destroyed by a reset. The socket itself closes when this last handle is dropped.
    let tcp = Arc::new(tcp);
    let result = run_connection(tcp.clone(), config, limits, wrap, handler);
    if sent_a_last_record(&result) {
        crate::net::timed::orderly_close(&tcp);
    } else {
        crate::net::timed::close_now(&tcp);
    }
    result
}

/// Whether the connection's end sent the client something it must be able to read: after the
/// handler's end the close_notify (a handler normally sends it), after a failure its fatal
/// alert. After a timeout, a dead transport or the client's own fatal alert nothing of ours is
/// worth waiting for, so the socket is closed at once ([`crate::net::timed::close_now`]: still
/// without a reset for what the client already sent) rather than waiting for a client that may
/// be silent or gone.
fn sent_a_last_record(result: &std::result::Result<(), ConnectionError>) -> bool {
    match result {
        Ok(()) => true,
        Err(ConnectionError::Handshake(e) | ConnectionError::After(e)) => e.alert().is_some(),
    }
}

/// The handshake and the handler; the TLS stream and its transport are dropped on return.
fn run_connection<W, T, H>(
    tcp: Arc<TcpStream>,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    wrap: &W,
    handler: &H,
) -> std::result::Result<(), ConnectionError>
where
    W: Fn(TimedStream) -> std::io::Result<T>,
    T: Read + Write + AsMut<TimedStream>,
    H: Fn(&mut TlsStream<T>) -> Result<()>,
{
    let accepted = Instant::now();
    let deadline = accepted + limits.handshake_timeout.min(limits.max_lifetime);
    let mut timed = TimedStream::new(tcp, limits.io_timeout, Some(deadline))
        .map_err(|e| ConnectionError::Handshake(Error::Io(e)))?;
    if config.private_key.wants_keeping_warm() {
        // While the handshake waits for the client, keep this core ready for the decryption of
        // its ClientKeyExchange (`net::waiting` says why).
        let key = config.clone();
        timed.set_while_waiting(Some(Arc::new(move || key.private_key.keep_warm())));
    }
    let io = wrap(timed).map_err(|e| ConnectionError::Handshake(Error::Io(e)))?;
    let mut tls = TlsStream::accept(io, config).map_err(ConnectionError::Handshake)?;
    tls.get_mut().as_mut().set_while_waiting(None);
    tls.get_mut()
        .as_mut()
        .set_deadline(
            accepted,
            limits.max_lifetime,
            "the connection's maximum lifetime",
        )
        .map_err(|e| ConnectionError::After(Error::Io(e)))?;
    let activity = crate::net::timed::Activity::new();
    tls.get_mut()
        .as_mut()
        .set_idle_timeout(limits.idle_timeout, activity.clone());
    tls.on_application_data(Arc::new(move || activity.touch()));
    handler(&mut tls).map_err(ConnectionError::After)
}

/// Why a connection failed, for the log line.
enum ConnectionError {
    Handshake(Error),
    After(Error),
}

impl std::fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectionError::Handshake(e) => write!(f, "handshake failed: {e}"),
            ConnectionError::After(e) => write!(f, "connection failed: {e}"),
        }
    }
}

/// Binds `addr` and serves it on a background thread; returns the bound address (tests and
/// tools that need a server in-process). Failed connections go to `log`.
pub fn spawn<H, L>(
    addr: &str,
    config: Arc<ServerConfig>,
    limits: ServerLimits,
    handler: H,
    log: L,
) -> std::io::Result<SocketAddr>
where
    H: Fn(&mut TlsStream<TimedStream>) -> Result<()> + Send + Sync + 'static,
    L: Fn(String) + Send + Sync + 'static,
{
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    std::thread::Builder::new()
        .name("toytls acceptor".into())
        .spawn(move || serve(listener, config, limits, handler, log))?;
    Ok(local)
}

/// A handler that echoes application data until the client's close_notify, then answers with
/// ours.
///
/// It waits on a small stack buffer, so an idle connection holds no heap buffer of its own
/// (issue 13 goal 6); when more than that has arrived, it gathers up to one record's worth
/// before echoing it.
pub fn echo<T: Read + Write>(tls: &mut TlsStream<T>) -> Result<()> {
    let mut first = [0u8; 1024];
    loop {
        let n = tls.read_data(&mut first)?;
        if n == 0 {
            return tls.close();
        }
        if !tls.buffered() {
            tls.write_data(&first[..n])?;
            continue;
        }
        let mut more = vec![0u8; crate::record::MAX_PLAINTEXT];
        more[..n].copy_from_slice(&first[..n]);
        let mut len = n;
        while len < more.len() && tls.buffered() {
            match tls.read_data(&mut more[len..])? {
                0 => break,
                got => len += got,
            }
        }
        tls.write_data(&more[..len])?;
    }
}
