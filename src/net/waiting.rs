//! Waiting for the peer without letting the CPU go cold: a read that has nothing to read yet
//! waits in short slices and runs a hook between them ([`WhileWaiting`]).
//!
//! # Why a server needs this
//! On a CPU with AVX-512 the RSA private operation runs on the IFMA backend
//! (`crypto::rsa::montgomery_ifma`), all in 512-bit instructions. A core that has run none for
//! about half a millisecond powers its wide vector units down, and the first few hundred
//! microseconds of 512-bit work after that run slowly while they come back up. Measured on the
//! 2-core Xeon this project is benchmarked on (issue 13):
//!
//! | before the private operation                                      | its time (median) |
//! | ----------------------------------------------------------------- | ----------------- |
//! | one right after the other                                         | 240 µs            |
//! | 0.3 ms asleep                                                     | 250 µs            |
//! | 0.7-1.5 ms asleep, or 0.8 ms of ordinary (scalar) work            | 360-550 µs        |
//! | 0.8 ms asleep, woken every 0.2-0.4 ms for one 512-bit instruction | 245 µs            |
//!
//! A full handshake waits for exactly that long at exactly the wrong moment: after our
//! ServerHelloDone the client checks our certificate and encrypts the pre-master secret, which
//! takes `openssl s_time` 0.7-0.8 ms, and only then does the ClientKeyExchange arrive for us to
//! decrypt. Every decryption started cold and took 400-520 µs instead of 240, a third of the
//! server's time per handshake. (A busy server keeps its units awake anyway; this is the cost of
//! serving one client at a time.)
//!
//! # What the hook does, and what it costs
//! The server's hook is `RsaPrivateKey::keep_warm`: one 512-bit multiply-add, a few nanoseconds,
//! no secret involved. A read that has to wait calls it once at once and then after every
//! [`SLICE`] (0.3 ms, about half the time the units stay up) in which nothing arrived, for at most
//! [`KEEP_WARM_FOR`] (2 ms) per read; after that it waits like any other read: a client slower
//! than that is not worth more wake-ups, and on a machine busy enough to make clients that slow
//! the cores rarely sit idle long enough to go cold. The price is one wake-up of the waiting
//! thread per slice, two or three per full handshake, and one `poll` per read that follows a
//! write during the handshake. A read whose data is already there runs no hook. The server sets
//! the hook for the handshake only, and only when its key runs on the IFMA backend
//! (`net::serve`).
//!
//! The slices need a timer finer than a socket timeout, which the kernel counts in scheduler
//! ticks (4 ms here), so the wait is `poll(2)` with a nanosecond timeout, through `rustix` (safe
//! bindings; the standard library has no `poll`). Elsewhere than on Unix the hook is never run
//! and reads simply block.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a read runs while it waits for the peer (see the module doc).
pub type WhileWaiting = Arc<dyn Fn() + Send + Sync>;

/// How long a waiting read sleeps between two calls of its hook.
pub const SLICE: Duration = Duration::from_micros(300);

/// How long one read keeps calling its hook, at most; past that it just waits.
pub const KEEP_WARM_FOR: Duration = Duration::from_millis(2);

/// Returns once `tcp` has something to read (or an error or end of stream for the read to
/// report), or after `within` (at most [`KEEP_WARM_FOR`]), running `hook` at once and then at the
/// end of every empty [`SLICE`]. Returns at once, without running `hook`, if data is already
/// waiting. Errors of the wait itself are left to the read that follows.
#[cfg(unix)]
pub fn wait_readable(tcp: &TcpStream, hook: &(dyn Fn() + Send + Sync), within: Duration) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let until = Instant::now() + within.min(KEEP_WARM_FOR);
    let readable = |timeout: Duration| {
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: timeout.as_nanos() as _,
        };
        let mut fds = [PollFd::new(tcp, PollFlags::IN)];
        loop {
            match poll(&mut fds, Some(&timeout)) {
                Ok(n) => return n > 0,
                Err(rustix::io::Errno::INTR) => continue,
                // Let the read meet the error itself.
                Err(_) => return true,
            }
        }
    };
    if readable(Duration::ZERO) {
        return;
    }
    loop {
        hook();
        let now = Instant::now();
        if now >= until || readable(SLICE.min(until - now)) {
            return;
        }
    }
}

/// Without `poll`, reads just block.
#[cfg(not(unix))]
pub fn wait_readable(_tcp: &TcpStream, _hook: &(dyn Fn() + Send + Sync), _within: Duration) {}

/// What the tests of this module and of `timed` share.
#[cfg(all(test, unix))]
pub(crate) mod test_support {
    use super::WhileWaiting;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Two ends of a loopback connection: (the peer's, ours).
    pub(crate) fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        (peer, ours)
    }

    /// The most calls one wait can make: one at once, then one after each slice until
    /// [`super::KEEP_WARM_FOR`] is used up, the last slice perhaps a short one.
    pub(crate) fn most_calls() -> usize {
        super::KEEP_WARM_FOR
            .as_micros()
            .div_ceil(super::SLICE.as_micros()) as usize
            + 1
    }

    /// A hook that counts its calls.
    pub(crate) fn counting() -> (Arc<AtomicUsize>, WhileWaiting) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let hook: WhileWaiting = Arc::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        (calls, hook)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::test_support::{counting, most_calls, pair};
    use super::*;
    use std::io::Write;
    use std::sync::atomic::Ordering;

    #[test]
    fn data_already_there_runs_no_hook() {
        let (mut client, server) = pair();
        client.write_all(b"x").unwrap();
        // Let loopback deliver it.
        std::thread::sleep(Duration::from_millis(20));
        let (calls, hook) = counting();
        wait_readable(&server, &*hook, Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_wait_runs_the_hook_every_slice_and_ends_when_data_arrives() {
        let (mut client, server) = pair();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            let at = Instant::now();
            client.write_all(b"x").unwrap();
            (client, at)
        });
        let (calls, hook) = counting();
        let start = Instant::now();
        wait_readable(&server, &*hook, Duration::from_secs(1));
        let end = Instant::now();
        let (_client, written) = writer.join().unwrap();
        let n = calls.load(Ordering::SeqCst);
        assert!(n <= most_calls(), "{n} calls");
        if written < start + KEEP_WARM_FOR {
            // The usual case: the data came while the wait was still keeping warm, at least
            // 1 ms (three slices) in, and ended it.
            assert!(end >= written, "returned before the data");
            assert!(
                end - written < Duration::from_millis(100),
                "missed the data"
            );
            assert!(n >= 2, "{n} calls in a wait of {:?}", end - start);
        } else {
            // The writer was held up past KEEP_WARM_FOR: the wait gave up keeping warm.
            assert!(end - start >= KEEP_WARM_FOR);
        }
    }

    #[test]
    fn a_silent_peer_is_kept_warm_for_at_most_keep_warm_for() {
        let (_client, server) = pair();
        let (calls, hook) = counting();
        let start = Instant::now();
        wait_readable(&server, &*hook, Duration::from_secs(5));
        let waited = start.elapsed();
        assert!(waited >= KEEP_WARM_FOR, "{waited:?}");
        assert!(waited < Duration::from_secs(1), "{waited:?}");
        let n = calls.load(Ordering::SeqCst);
        assert!((1..=most_calls()).contains(&n), "{n} calls");
    }

    #[test]
    fn the_wait_ends_within_the_time_given() {
        let (_client, server) = pair();
        let (calls, hook) = counting();
        let start = Instant::now();
        wait_readable(&server, &*hook, Duration::from_millis(1));
        let waited = start.elapsed();
        assert!(waited < Duration::from_millis(100), "{waited:?}");
        assert!(calls.load(Ordering::SeqCst) <= 5);
    }

    #[test]
    fn end_of_stream_ends_the_wait() {
        let (client, server) = pair();
        drop(client);
        std::thread::sleep(Duration::from_millis(20));
        let (calls, hook) = counting();
        let start = Instant::now();
        wait_readable(&server, &*hook, Duration::from_secs(5));
        assert!(start.elapsed() < Duration::from_millis(500));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
