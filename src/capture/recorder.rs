//! Recording connections: a transport wrapper that writes what crosses it as the pcapng capture
//! a packet sniffer on the loopback interface would have made.
//!
//! [`Capture`] is one pcapng file, shared by every connection recorded into it (a server puts all
//! its connections in one file, each with its own ports, as `tcpdump -i lo` would).
//! [`Capture::record`] wraps any `Read + Write` transport in a [`Recorded`], which passes every
//! byte through unchanged and, on the side, turns the bytes into TCP segments:
//!
//! - when the wrapper is made, the three-way handshake (SYN, SYN-ACK, ACK) from whichever side
//!   opened the connection, with random initial sequence numbers (RFC 9293 3.4.1);
//! - bytes written are segments from us, bytes read are segments from the peer. Consecutive
//!   bytes in one direction are gathered until the direction changes or the data is flushed (so a
//!   TLS flight is one segment, not one per 5-byte record header the record layer asks for), and
//!   cut at 65,495 bytes, what one IPv4 packet holds. Every segment's sequence number counts the
//!   bytes its sender sent before it, its acknowledgment number the bytes it had received; a
//!   receiver that has 32 KiB unacknowledged answers with a bare ACK, as a real one would;
//! - a read that returns end of stream is the peer's FIN, which we ACK; dropping the wrapper (the
//!   socket closes) is our FIN, answered by the peer's ACK and, if it had not sent one yet, its
//!   FIN, which we ACK. (We cannot see the peer's FIN after we stop reading; a capture would show
//!   it, so we write it.)
//!
//! A recording sees what its side read and wrote, so bytes the peer sent that this side never
//! read (a close_notify arriving after the server stopped reading, say) are not in it; a
//! sniffer on the wire would have them.
//!
//! The TCP segments are what a capture would show, not what the kernel did: which bytes travelled
//! in which segment, window updates and delayed ACKs are the kernel's business and invisible from
//! here. What the decryptor and Wireshark need (every byte, in order, in correctly numbered and
//! checksummed segments between the real addresses and ports) is exact.
//!
//! The session keys go in through [`Capture::key_log`], a [`KeyLog`] to set in the client or
//! server configuration: each connection's `CLIENT_RANDOM` line becomes a Decryption Secrets
//! Block, written when the master secret is made, before the first encrypted record.
//!
//! A capture that cannot be written does not break the connection: the first error is kept for
//! [`Capture::error`].

use super::packet::{self, ACK, FIN, MAX_PAYLOAD, PSH, SYN, Segment};
use super::pcapng;
use crate::keylog::{KeyLog, client_random_line, open_secret_file};
use crate::net::timed::TimedStream;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A receiver with this many bytes unacknowledged sends a bare ACK.
const ACK_EVERY: u32 = 32 * 1024;

/// Which side sent the SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opener {
    /// We connected (a client).
    Us,
    /// The peer connected and we accepted (a server).
    Peer,
}

/// One pcapng capture file that connections are recorded into. Cloning gives another handle to
/// the same file.
#[derive(Clone)]
pub struct Capture {
    sink: Arc<Mutex<Sink>>,
}

struct Sink {
    out: Box<dyn Write + Send>,
    /// Microseconds since 1970 of the last packet, so timestamps never go backwards.
    last: u64,
    error: Option<std::io::Error>,
}

impl Sink {
    fn write(&mut self, block: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.write_all(block).and_then(|_| self.out.flush()) {
            self.error = Some(e);
        }
    }

    fn now(&mut self) -> u64 {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        self.last = self.last.max(t);
        self.last
    }
}

impl Capture {
    /// Creates (or truncates) the pcapng file at `path` and writes its header. The file holds
    /// the session keys, so it is readable by its owner only (0600, as the key log): a new file
    /// is created so, an existing one narrowed through the open file before anything is written.
    /// It is not buffered: every block is written whole as it happens, so a process killed
    /// mid-connection leaves a capture that ends on a block boundary.
    pub fn create(path: &Path) -> std::io::Result<Capture> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        Capture::to_writer(open_secret_file(&mut options, path)?)
    }

    /// A capture written to `out` (a `Vec<u8>` behind a shared handle in tests, say).
    pub fn to_writer(out: impl Write + Send + 'static) -> std::io::Result<Capture> {
        let mut out: Box<dyn Write + Send> = Box::new(out);
        out.write_all(&pcapng::header())?;
        out.flush()?;
        Ok(Capture {
            sink: Arc::new(Mutex::new(Sink {
                out,
                last: 0,
                error: None,
            })),
        })
    }

    /// Wraps `io`, a connection between `local` (us) and `peer` opened by `opener`, so that what
    /// crosses it is recorded. Writes the TCP three-way handshake at once.
    pub fn record<T>(
        &self,
        io: T,
        local: SocketAddr,
        peer: SocketAddr,
        opener: Opener,
    ) -> Recorded<T> {
        let mut tap = Tap {
            capture: self.clone(),
            conv: Conversation::new(local, peer),
            pending: Vec::new(),
            pending_from_us: false,
        };
        tap.open(opener);
        Recorded { io, tap: Some(tap) }
    }

    /// [`record`](Self::record) with the addresses of the socket under `io`.
    pub fn record_socket<T: Endpoints>(
        &self,
        io: T,
        opener: Opener,
    ) -> std::io::Result<Recorded<T>> {
        let (local, peer) = io.endpoints()?;
        Ok(self.record(io, local, peer, opener))
    }

    /// A key log that writes each connection's `CLIENT_RANDOM` line into this capture, and also
    /// to `also` if given (for `--pcap FILE --keylog FILE2`).
    pub fn key_log(&self, also: Option<Arc<dyn KeyLog>>) -> Arc<dyn KeyLog> {
        Arc::new(CaptureKeyLog {
            capture: self.clone(),
            also,
        })
    }

    /// The first error writing the capture, if any (the connections went on regardless).
    pub fn error(&self) -> Option<String> {
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.error.as_ref().map(|e| e.to_string())
    }

    fn write_frames(&self, frames: &[Vec<u8>]) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        for f in frames {
            let t = sink.now();
            sink.write(&pcapng::packet(t, f));
        }
    }

    fn write_secrets(&self, lines: &str) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.write(&pcapng::secrets(lines));
    }
}

struct CaptureKeyLog {
    capture: Capture,
    also: Option<Arc<dyn KeyLog>>,
}

impl KeyLog for CaptureKeyLog {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]) {
        let line = format!("{}\n", client_random_line(client_random, master_secret));
        self.capture.write_secrets(&line);
        if let Some(also) = &self.also {
            also.log(client_random, master_secret);
        }
    }
}

/// The numbers of one TCP connection as seen on the wire: each side's next sequence number and
/// IPv4 identification, and what it has not yet acknowledged.
struct Conversation {
    local: SocketAddr,
    peer: SocketAddr,
    /// Next sequence number of each side: [us, peer].
    next_seq: [u32; 2],
    ip_id: [u16; 2],
    /// Bytes each side has received and not yet acknowledged with a bare ACK.
    unacked: [u32; 2],
    fin_sent: [bool; 2],
}

const US: usize = 0;
const PEER: usize = 1;

impl Conversation {
    fn new(local: SocketAddr, peer: SocketAddr) -> Self {
        Conversation {
            local,
            peer,
            next_seq: [rand::random(), rand::random()],
            ip_id: [rand::random(), rand::random()],
            unacked: [0, 0],
            fin_sent: [false, false],
        }
    }

    /// One segment from `from` with `flags` and `payload`; advances that side's numbers.
    fn segment(&mut self, from: usize, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = if from == US {
            (self.local, self.peer)
        } else {
            (self.peer, self.local)
        };
        let seg = Segment {
            src,
            dst,
            seq: self.next_seq[from],
            ack: self.next_seq[1 - from],
            flags,
        };
        let frame = packet::build(&seg, self.ip_id[from], payload);
        self.ip_id[from] = self.ip_id[from].wrapping_add(1);
        // SYN and FIN each take one sequence number (RFC 9293 3.4).
        let len = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.next_seq[from] = self.next_seq[from].wrapping_add(len);
        // This segment acknowledges everything `from` had received.
        self.unacked[from] = 0;
        frame
    }

    /// RFC 9293 3.5, figure 6: SYN, SYN-ACK, ACK.
    fn open(&mut self, opener: Opener) -> Vec<Vec<u8>> {
        let (a, b) = match opener {
            Opener::Us => (US, PEER),
            Opener::Peer => (PEER, US),
        };
        vec![
            self.segment(a, SYN, &[]),
            self.segment(b, SYN | ACK, &[]),
            self.segment(a, ACK, &[]),
        ]
    }

    /// `data` from `from`, in segments of at most [`MAX_PAYLOAD`] bytes, each followed by the
    /// receiver's bare ACK once it has [`ACK_EVERY`] bytes unacknowledged.
    fn data(&mut self, from: usize, data: &[u8]) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        for chunk in data.chunks(MAX_PAYLOAD) {
            frames.push(self.segment(from, PSH | ACK, chunk));
            let to = 1 - from;
            self.unacked[to] = self.unacked[to].saturating_add(chunk.len() as u32);
            if self.unacked[to] >= ACK_EVERY {
                frames.push(self.segment(to, ACK, &[]));
            }
        }
        frames
    }

    /// `from` sends its FIN; the other side acknowledges it at once (RFC 9293 3.6).
    fn fin(&mut self, from: usize) -> Vec<Vec<u8>> {
        if self.fin_sent[from] {
            return Vec::new();
        }
        self.fin_sent[from] = true;
        vec![
            self.segment(from, FIN | ACK, &[]),
            self.segment(1 - from, ACK, &[]),
        ]
    }

    /// Our socket closes: our FIN, then the peer's if it has not sent it, each acknowledged.
    fn close(&mut self) -> Vec<Vec<u8>> {
        let mut frames = self.fin(US);
        if !self.fin_sent[PEER] {
            frames.extend(self.fin(PEER));
        }
        frames
    }
}

/// The recording half of a [`Recorded`]: the connection's numbers and the bytes gathered for
/// the next segment.
struct Tap {
    capture: Capture,
    conv: Conversation,
    /// Bytes of one direction not yet written as a segment.
    pending: Vec<u8>,
    pending_from_us: bool,
}

impl Tap {
    fn open(&mut self, opener: Opener) {
        let frames = self.conv.open(opener);
        self.capture.write_frames(&frames);
    }

    /// Gathers `bytes` from one side; whatever the other side had gathered goes out first.
    fn gather(&mut self, from_us: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if from_us != self.pending_from_us {
            self.flush();
            self.pending_from_us = from_us;
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= MAX_PAYLOAD {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let from = if self.pending_from_us { US } else { PEER };
        let frames = self.conv.data(from, &self.pending);
        self.pending.clear();
        self.capture.write_frames(&frames);
    }

    fn fin(&mut self, from: usize) {
        self.flush();
        let frames = self.conv.fin(from);
        self.capture.write_frames(&frames);
    }

    fn close(&mut self) {
        self.flush();
        let frames = self.conv.close();
        self.capture.write_frames(&frames);
    }
}

/// A transport whose traffic is recorded into a [`Capture`]; otherwise exactly `T`. Dereferences
/// to `T`, so code that reaches through to the socket (a timeout, a readiness check) works
/// unchanged.
pub struct Recorded<T> {
    io: T,
    tap: Option<Tap>,
}

impl<T> Recorded<T> {
    /// `io` with no recording (so one type serves with and without `--pcap`).
    pub fn unrecorded(io: T) -> Self {
        Recorded { io, tap: None }
    }
}

impl<T: Endpoints> Recorded<T> {
    /// `io` recorded into `capture` if there is one, else as it is: the one line a command needs
    /// for `--pcap`.
    pub fn maybe(capture: Option<&Capture>, io: T, opener: Opener) -> std::io::Result<Self> {
        match capture {
            Some(c) => c.record_socket(io, opener),
            None => Ok(Recorded::unrecorded(io)),
        }
    }
}

/// A transport that can name the two ends of its socket.
pub trait Endpoints {
    /// (our address, the peer's address).
    fn endpoints(&self) -> std::io::Result<(SocketAddr, SocketAddr)>;
}

impl Endpoints for TcpStream {
    fn endpoints(&self) -> std::io::Result<(SocketAddr, SocketAddr)> {
        Ok((self.local_addr()?, self.peer_addr()?))
    }
}

impl Endpoints for TimedStream {
    fn endpoints(&self) -> std::io::Result<(SocketAddr, SocketAddr)> {
        self.tcp().endpoints()
    }
}

impl<T> std::ops::Deref for Recorded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.io
    }
}

impl<T> std::ops::DerefMut for Recorded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.io
    }
}

impl<T, U> AsMut<U> for Recorded<T>
where
    T: AsMut<U>,
{
    fn as_mut(&mut self) -> &mut U {
        self.io.as_mut()
    }
}

impl<T: Read> Read for Recorded<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(tap) = self.tap.as_mut().filter(|t| t.pending_from_us) {
            // What we wrote went out before we wait for an answer.
            tap.flush();
        }
        let n = self.io.read(buf)?;
        if let Some(tap) = &mut self.tap {
            if n == 0 && !buf.is_empty() {
                tap.fin(PEER);
            } else {
                tap.gather(false, &buf[..n]);
            }
        }
        Ok(n)
    }
}

impl<T: Write> Write for Recorded<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.io.write(buf)?;
        if let Some(tap) = &mut self.tap {
            tap.gather(true, &buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(tap) = &mut self.tap {
            tap.flush();
        }
        self.io.flush()
    }
}

impl<T> Drop for Recorded<T> {
    fn drop(&mut self) {
        if let Some(tap) = &mut self.tap {
            tap.close();
        }
    }
}

#[cfg(test)]
mod tests;
