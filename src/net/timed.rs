//! Deadlines and timeouts on a TCP transport, for both sides (`spec/limits.md`).
//!
//! A peer that accepts our connection and then says nothing, or sends one byte now and then,
//! would keep a plain blocking socket waiting forever. [`TimedStream`] gives every read and write
//! a timeout, and during the handshake a deadline: each call may wait only for the time left
//! before it, so trickling bytes does not buy a peer more time. (A socket timeout already set
//! that is at most [`TIMEOUT_SLACK`], 10 ms, longer than the time left is kept, so a call that
//! blocks may end that much after the deadline: a handshake sets each timeout once, not once per
//! read and write.)
//!
//! After the handshake the server also gives a connection an idle timeout
//! ([`TimedStream::set_idle_timeout`]): the time since application data last moved, either way,
//! which only the TLS layer can tell ([`Activity`], touched through
//! [`TlsStream::on_application_data`]). The I/O timeout alone is renewed by any byte, so a
//! peer sending an empty application-data record now and then would hold its connection for
//! ever.
//!
//! [`orderly_close`] ends a TCP connection without destroying our last record in flight.
//!
//! The server uses it through [`crate::net::serve`]; the client through
//! [`TlsStream::connect_tcp`] and [`TlsStream::connect_timed`], which take their limits from
//! [`ClientConfig::handshake_timeout`] and [`ClientConfig::io_timeout`].
//!
//! A timeout sends no alert (RFC 5246 7.2 has none for "you are too slow"): the peer is not
//! breaking the protocol, the transport is not carrying it, and once the deadline has passed
//! every write fails at once, so nothing more is sent. The connection fails with an
//! [`Error::Io`] of kind `TimedOut` whose message says which limit fired, and the socket is
//! closed when the stream is dropped.

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::net::waiting::{self, WhileWaiting};
use crate::stream::TlsStream;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long [`orderly_close`] waits for the peer to end its side.
pub const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// How many bytes [`orderly_close`] reads and discards at most while it waits.
pub const CLOSE_DRAIN: usize = 1 << 20;

/// Ends a TCP connection after our last record (close_notify, or a fatal alert) so that the
/// record reaches the peer: shut down our write side (the peer reads end of stream after our
/// last record), then read and discard whatever the peer still sends until its end of stream,
/// at most [`CLOSE_DRAIN`] bytes for at most [`CLOSE_LINGER`], and only then let the socket go.
///
/// Why not just close: a socket closed with received data unread is reset (RFC 1122 4.2.2.13),
/// and a reset makes the peer's kernel throw away what it had not yet handed to the peer's
/// application, our last records included. A peer that sent its own close_notify (or anything
/// else) just before reading our answer is the common case, not a rare one. The limits keep a
/// peer that never closes from holding us: past them we close anyway.
///
/// The socket closes when its last handle is dropped, so call this with the last one.
pub fn orderly_close(tcp: &TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    let deadline = Instant::now() + CLOSE_LINGER;
    // On the heap, not the stack: a 16 KiB frame is probed page by page, and those stack pages
    // would stay resident in every worker thread that ever closed a connection (issue 13 goal 6).
    let mut sink = vec![0u8; 1 << 14];
    let mut drained = 0;
    let mut reader = tcp;
    while drained < CLOSE_DRAIN {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match reader.read(&mut sink) {
            Ok(n) if n > 0 => drained += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // End of stream, a reset, or the time is up.
            _ => break,
        }
    }
}

/// Ends a TCP connection at once when nothing of ours is left to protect with a wait (a timeout,
/// a dead transport, the peer's own fatal alert, a refused client): shut down our write side, so
/// the peer reads end of stream after whatever we sent, and discard what has already arrived,
/// without waiting (at most [`CLOSE_DRAIN`] bytes), so that the close is not a reset that could
/// destroy data of ours still in flight (RFC 1122 4.2.2.13); then let the socket go. Unlike
/// [`orderly_close`] it never holds the connection for a peer that is silent or gone.
pub fn close_now(tcp: &TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    if tcp.set_nonblocking(true).is_err() {
        return;
    }
    // Small: usually nothing or a few bytes are waiting, and zeroing (and touching) 16 KiB of
    // stack at every close is what a client making one connection after another would pay.
    let mut sink = [0u8; 2048];
    let mut drained = 0;
    let mut reader = tcp;
    while drained < CLOSE_DRAIN {
        match reader.read(&mut sink) {
            Ok(n) if n > 0 => drained += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // End of stream, nothing more yet (would block), or a reset.
            _ => break,
        }
    }
}

/// A `TcpStream` whose reads and writes time out, and that may also stop at a deadline (the
/// handshake's, or the connection's maximum lifetime): each call gets the smaller of the I/O
/// timeout and the time left.
pub struct TimedStream {
    /// Shared so that the server can still close the socket in order after the TLS stream on
    /// top of it is gone, without a second file descriptor (`serve.rs`).
    tcp: Arc<TcpStream>,
    io_timeout: Duration,
    deadline: Option<Deadline>,
    idle: Option<Idle>,
    /// The read and write timeouts last set on the socket (`None`: not set by us yet), so that
    /// a call sets one only when it must change ([`TIMEOUT_SLACK`]).
    read_set: Option<Duration>,
    write_set: Option<Duration>,
    /// Run while a read waits for the peer ([`TimedStream::set_while_waiting`]).
    while_waiting: Option<WhileWaiting>,
    /// We have written since the last read: the next read waits for the peer's answer.
    wrote: bool,
}

/// How much longer than the time left a socket timeout already set may be and still be left as
/// it is: a call that blocks may then end up to this much after a deadline. Without it every read
/// and write of a handshake (all of them under its deadline, each with a few microseconds less
/// left than the one before) would pay a system call to lower the timeout by those
/// microseconds; with it a handshake sets each timeout once.
pub const TIMEOUT_SLACK: Duration = Duration::from_millis(10);

/// When application data last moved on a connection. The TLS stream, which knows what is
/// application data, touches it ([`TlsStream::on_application_data`]); the [`TimedStream`] under
/// it ends the connection when it has not been touched for the idle timeout.
pub struct Activity(Mutex<Instant>);

impl Activity {
    /// Application data moved just now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity(Mutex::new(Instant::now())))
    }

    /// Application data moved just now.
    pub fn touch(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn last(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The idle timeout and the activity it watches.
struct Idle {
    timeout: Duration,
    activity: Arc<Activity>,
}

/// A point in time no read or write may pass, and what it is, for the error message.
#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    /// How long was allowed.
    allowed: Duration,
    /// "the handshake deadline", "the connection's maximum lifetime".
    what: &'static str,
}

impl TimedStream {
    /// Wraps `tcp` with `io_timeout` for every read and write, and, if given, a handshake
    /// `deadline` no call may pass.
    pub fn new(
        tcp: impl Into<Arc<TcpStream>>,
        io_timeout: Duration,
        deadline: Option<Instant>,
    ) -> std::io::Result<Self> {
        let mut t = TimedStream {
            tcp: tcp.into(),
            io_timeout,
            deadline: None,
            idle: None,
            read_set: None,
            write_set: None,
            while_waiting: None,
            wrote: false,
        };
        match deadline {
            Some(at) => {
                let now = Instant::now();
                t.set_deadline(
                    now,
                    at.saturating_duration_since(now),
                    "the handshake deadline",
                )?
            }
            None => t.clear_deadline()?,
        }
        Ok(t)
    }

    /// Lifts the deadline (the handshake is over); the I/O timeout stays. (The socket's
    /// timeouts follow at the next read and write; the `Result` is for callers written when
    /// this set them at once.)
    pub fn clear_deadline(&mut self) -> std::io::Result<()> {
        self.deadline = None;
        Ok(())
    }

    /// From now on a read or write fails once no application data has moved for `timeout`, as
    /// `activity` tells (a `TimedOut` error saying "idle timeout"); see the module doc.
    pub fn set_idle_timeout(&mut self, timeout: Duration, activity: Arc<Activity>) {
        self.idle = Some(Idle { timeout, activity });
    }

    /// From now on no read or write may pass `from + allowed`; a call that would fails with a
    /// `TimedOut` error saying that `what` passed (e.g. "the connection's maximum lifetime").
    pub fn set_deadline(
        &mut self,
        from: Instant,
        allowed: Duration,
        what: &'static str,
    ) -> std::io::Result<()> {
        self.clear_deadline()?;
        self.deadline = Some(Deadline {
            at: from + allowed,
            allowed,
            what,
        });
        Ok(())
    }

    /// From now on (until set to `None`), the first read after a write, when it finds nothing to
    /// read, runs `hook` while it waits for the peer's answer: at once and then every
    /// [`crate::net::waiting::SLICE`], for at most [`crate::net::waiting::KEEP_WARM_FOR`]. The
    /// server's way of keeping the CPU ready for the private-key operation during the handshake
    /// (`net::waiting` says why); its first read, the ClientHello, and the reads that follow one
    /// another within a flight wait as before, and so do timeouts and deadlines.
    pub fn set_while_waiting(&mut self, hook: Option<WhileWaiting>) {
        self.while_waiting = hook;
    }

    /// The socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    fn deadline_passed(&self, d: Deadline) -> std::io::Error {
        std::io::Error::new(
            ErrorKind::TimedOut,
            format!("{} passed ({:?} allowed)", d.what, d.allowed),
        )
    }

    fn idle_passed(&self, i: &Idle) -> std::io::Error {
        std::io::Error::new(
            ErrorKind::TimedOut,
            format!("no application data for {:?} (idle timeout)", i.timeout),
        )
    }

    /// When the idle timeout ends, if there is one.
    fn idle_end(&self) -> Option<Instant> {
        self.idle.as_ref().map(|i| i.activity.last() + i.timeout)
    }

    /// The timeout for the next call: the I/O timeout, or less if the deadline or the end of the
    /// idle timeout is closer; an error if one of them has passed.
    fn timeout_for_call(&self) -> std::io::Result<Duration> {
        let now = Instant::now();
        let mut left = self.io_timeout;
        if let Some(d) = self.deadline {
            let l = d.at.saturating_duration_since(now);
            if l.is_zero() {
                return Err(self.deadline_passed(d));
            }
            left = left.min(l);
        }
        if let Some(end) = self.idle_end() {
            let l = end.saturating_duration_since(now);
            if l.is_zero() {
                return Err(self.idle_passed(self.idle.as_ref().expect("idle_end")));
            }
            left = left.min(l);
        }
        Ok(left)
    }

    /// Names a timeout for what it was: the deadline or the I/O timeout (the socket only says
    /// "would block").
    fn explain(&self, e: std::io::Error) -> std::io::Error {
        if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            return e;
        }
        let now = Instant::now();
        if let Some(i) = &self.idle
            && self.idle_end().is_some_and(|end| now >= end)
        {
            return self.idle_passed(i);
        }
        match self.deadline {
            Some(d) if now >= d.at => self.deadline_passed(d),
            _ => std::io::Error::new(
                ErrorKind::TimedOut,
                format!("no progress for {:?} (I/O timeout)", self.io_timeout),
            ),
        }
    }
}

/// A `TimedStream` is the timed stream under itself, so code that lifts the deadline takes it or
/// a wrapper around it alike (a recorder, [`crate::capture::Recorded`]).
impl AsMut<TimedStream> for TimedStream {
    fn as_mut(&mut self) -> &mut TimedStream {
        self
    }
}

/// Whether a socket timeout `set` serves a call that may wait `want`: not shorter, and longer by
/// at most [`TIMEOUT_SLACK`].
fn fits(set: Option<Duration>, want: Duration) -> bool {
    set.is_some_and(|s| s >= want && s - want <= TIMEOUT_SLACK)
}

impl Read for TimedStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut want = self.timeout_for_call()?;
        if let Some(hook) = &self.while_waiting
            && std::mem::take(&mut self.wrote)
        {
            waiting::wait_readable(&self.tcp, &**hook, want);
            want = self.timeout_for_call()?;
        }
        if !fits(self.read_set, want) {
            self.tcp.set_read_timeout(Some(want))?;
            self.read_set = Some(want);
        }
        (&*self.tcp).read(buf).map_err(|e| self.explain(e))
    }
}

impl Write for TimedStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let want = self.timeout_for_call()?;
        if !fits(self.write_set, want) {
            self.tcp.set_write_timeout(Some(want))?;
            self.write_set = Some(want);
        }
        self.wrote = true;
        (&*self.tcp).write(buf).map_err(|e| self.explain(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&*self.tcp).flush()
    }
}

impl TlsStream<TimedStream> {
    /// Runs the client handshake over `tcp`, which must finish within
    /// [`ClientConfig::handshake_timeout`]; afterwards every read and write may wait at most
    /// [`ClientConfig::io_timeout`]. See [`TlsStream::connect`] for `server_name` and `port`.
    pub fn connect_timed(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        server_name: &str,
        port: u16,
    ) -> Result<Self> {
        TlsStream::connect_timed_with(tcp, Ok, config, server_name, port)
    }

    /// Connects over TCP to `addr` and runs the client handshake for `server_name`. The TCP
    /// connect and the handshake together must finish within
    /// [`ClientConfig::handshake_timeout`]; afterwards every read and write may wait at most
    /// [`ClientConfig::io_timeout`].
    pub fn connect_tcp(
        addr: impl ToSocketAddrs,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> Result<Self> {
        let deadline = Instant::now() + config.handshake_timeout;
        let tcp = tcp_connect_until(addr, deadline)?;
        let port = tcp.peer_addr()?.port();
        connect_until(tcp, Ok, config, server_name, port, deadline)
    }
}

impl<T: Read + Write + AsMut<TimedStream>> TlsStream<T> {
    /// [`TlsStream::connect_timed`] over `wrap(timed stream)`: a transport around the timed one,
    /// made before the handshake (a recorder, `toytls client --pcap`).
    pub fn connect_timed_with(
        tcp: TcpStream,
        wrap: impl FnOnce(TimedStream) -> std::io::Result<T>,
        config: Arc<ClientConfig>,
        server_name: &str,
        port: u16,
    ) -> Result<Self> {
        let deadline = Instant::now() + config.handshake_timeout;
        connect_until(tcp, wrap, config, server_name, port, deadline)
    }
}

fn connect_until<T: Read + Write + AsMut<TimedStream>>(
    tcp: TcpStream,
    wrap: impl FnOnce(TimedStream) -> std::io::Result<T>,
    config: Arc<ClientConfig>,
    server_name: &str,
    port: u16,
    deadline: Instant,
) -> Result<TlsStream<T>> {
    let _ = tcp.set_nodelay(true);
    // Shared with the transport, for the orderly close if the handshake fails with an alert of
    // ours (one socket, no second file descriptor).
    let last = Arc::new(tcp);
    let io = wrap(TimedStream::new(
        last.clone(),
        config.io_timeout,
        Some(deadline),
    )?)?;
    match TlsStream::connect(io, config, server_name, port) {
        Ok(mut tls) => {
            tls.get_mut().as_mut().clear_deadline()?;
            Ok(tls)
        }
        Err(e) => {
            if e.alert().is_some() {
                orderly_close(&last);
            }
            Err(e)
        }
    }
}

/// Tries each address of `addr` in turn until one connects, each attempt bounded by the time
/// left before `deadline` (a silently dropped SYN would otherwise wait minutes).
fn tcp_connect_until(addr: impl ToSocketAddrs, deadline: Instant) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    let mut last = None;
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::Io(last.unwrap_or_else(|| {
        std::io::Error::new(
            ErrorKind::TimedOut,
            "no address to connect to before the handshake deadline",
        )
    })))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::net::waiting::test_support::{counting, pair};
    use std::sync::atomic::Ordering;

    /// The peer writes `what` after 5 ms, on its own thread.
    fn answer_later(
        mut peer: TcpStream,
        what: &'static [u8],
    ) -> std::thread::JoinHandle<TcpStream> {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            peer.write_all(what).unwrap();
            peer
        })
    }

    fn read_some(timed: &mut TimedStream) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let n = timed.read(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn the_hook_runs_while_waiting_for_an_answer_only() {
        let (peer, ours) = pair();
        let mut timed = TimedStream::new(ours, Duration::from_secs(5), None).unwrap();
        let (calls, hook) = counting();
        timed.set_while_waiting(Some(hook));

        // Nothing written yet (a server's ClientHello): a plain wait.
        let peer = answer_later(peer, b"hello").join().unwrap();
        assert_eq!(read_some(&mut timed), b"hello");
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        // After our write, waiting for the answer runs the hook.
        timed.write_all(b"?").unwrap();
        let waiter = answer_later(peer, b"answer");
        assert_eq!(read_some(&mut timed), b"answer");
        let peer = waiter.join().unwrap();
        let after_answer = calls.load(Ordering::SeqCst);
        assert!(after_answer >= 2, "{after_answer} calls in a 5 ms wait");

        // A second read with no write in between (the same flight): a plain wait again.
        let peer = answer_later(peer, b"more").join().unwrap();
        assert_eq!(read_some(&mut timed), b"more");
        assert_eq!(calls.load(Ordering::SeqCst), after_answer);

        // Hook removed (the handshake is over): a plain wait after a write too.
        timed.set_while_waiting(None);
        timed.write_all(b"?").unwrap();
        let _peer = answer_later(peer, b"data").join().unwrap();
        assert_eq!(read_some(&mut timed), b"data");
        assert_eq!(calls.load(Ordering::SeqCst), after_answer);
    }

    #[test]
    fn a_read_that_keeps_warm_still_ends_at_the_deadline() {
        let (_peer, ours) = pair();
        let start = Instant::now();
        let mut timed = TimedStream::new(
            ours,
            Duration::from_secs(5),
            Some(start + Duration::from_millis(60)),
        )
        .unwrap();
        let (calls, hook) = counting();
        timed.set_while_waiting(Some(hook));
        timed.write_all(b"?").unwrap();
        let e = timed.read(&mut [0u8; 8]).unwrap_err();
        let waited = start.elapsed();
        assert_eq!(e.kind(), ErrorKind::TimedOut);
        assert!(
            e.to_string().contains("the handshake deadline passed"),
            "{e}"
        );
        assert!(waited >= Duration::from_millis(60), "{waited:?}");
        assert!(waited < Duration::from_millis(60) + TIMEOUT_SLACK + Duration::from_millis(500));
        assert!(calls.load(Ordering::SeqCst) >= 1);
    }
}
