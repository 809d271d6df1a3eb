//! `toytls server --http`: one HTTP/1.x request per connection, one answer, close_notify.
//!
//! Just enough HTTP for curl, browsers and tlsfuzzer (whose scripts send `GET / HTTP/1.0\n\n` and
//! expect the answer in one application-data record):
//!
//! - The request head ends at the first empty line. Lines may end in CRLF or a bare LF (RFC 9112
//!   2.2: "a recipient MAY recognize a single LF as a line terminator"). [`HeadEnd`] finds it
//!   looking at each byte once, however the head is split into records.
//! - `GET /bytes/N` answers N bytes of the alphabet, repeated; any other path a short page about
//!   the connection. A body of any size is streamed from one fixed [`PATTERN`] block, so a
//!   connection costs the same memory for 10 bytes as for 4 GiB.
//! - The answer, head and body, goes out in as few records as it fits in: every record is full
//!   (2^14 bytes) except the last, and a short page is one record.
//! - A client that sends close_notify before a whole request head gets close_notify and nothing
//!   else: there is no request to answer.

use std::io::{Read, Write};
use toytls::error::Result;
use toytls::record::{MAX_PLAINTEXT, WRITE_BATCH};
use toytls::stream::TlsStream;

/// The largest request head read. Real heads are a few hundred bytes; a longer one gets a 431.
pub const MAX_HEAD: usize = 16 * 1024;

/// Largest `GET /bytes/N` answered (1 TiB). Memory does not grow with N; the server's
/// `--max-lifetime` bounds how long one answer may take.
pub const MAX_BYTES: u64 = 1 << 40;

/// The body of `/bytes/N`: byte i is `b'a' + i % 26`.
const ALPHABET: usize = 26;

/// How much of the answer is handed to the record layer at once: [`WRITE_BATCH`] full records,
/// which it seals and sends in one write system call.
const BLOCK: usize = WRITE_BATCH * MAX_PLAINTEXT;

/// One block's worth of the `/bytes/` body starting at any phase of the alphabet: the body from
/// offset `o` is `PATTERN[o % 26..]`, so every block is a slice of this one.
static PATTERN: [u8; BLOCK + ALPHABET] = {
    let mut p = [0u8; BLOCK + ALPHABET];
    let mut i = 0;
    while i < p.len() {
        p[i] = b'a' + (i % ALPHABET) as u8;
        i += 1;
    }
    p
};

/// Finds the empty line that ends a request head, fed the bytes as they arrive. Each byte is
/// looked at once, so a head sent one byte per record costs no more than one sent whole.
#[derive(Default)]
pub struct HeadEnd {
    /// True right after a line ended: only a CR (of a CRLF) or an LF may follow for the empty
    /// line that ends the head.
    after_line_end: bool,
    /// Bytes seen so far.
    seen: usize,
}

impl HeadEnd {
    /// Feeds the next bytes; returns the length of the whole head (up to and including the
    /// empty line's LF) once it is complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if self.after_line_end => return Some(self.seen + i + 1),
                b'\n' => self.after_line_end = true,
                // A CR keeps us where we are: "\r\n\r\n" and "\n\r\n" end the head like "\n\n".
                b'\r' => {}
                _ => self.after_line_end = false,
            }
        }
        self.seen += bytes.len();
        None
    }
}

/// What the client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// A whole head: its request line's target (`/` if it has none).
    Head { target: String },
    /// More than [`MAX_HEAD`] bytes without an empty line.
    TooLong,
    /// close_notify before the head was complete.
    Closed,
}

/// Reads one request head (bytes after it, a body or a pipelined request, are left unread).
pub fn read_request<T: Read + Write>(tls: &mut TlsStream<T>) -> Result<Request> {
    // Grown as the head arrives, up to MAX_HEAD: most heads are a few dozen bytes, and a
    // zeroed 16 KiB buffer per connection shows in a profile of short connections.
    let mut head = vec![0u8; 1024];
    let mut len = 0;
    let mut end = HeadEnd::default();
    loop {
        if len == head.len() {
            if len >= MAX_HEAD {
                return Ok(Request::TooLong);
            }
            head.resize((2 * len).min(MAX_HEAD), 0);
        }
        let n = tls.read_data(&mut head[len..])?;
        if n == 0 {
            return Ok(Request::Closed);
        }
        if let Some(head_len) = end.feed(&head[len..len + n]) {
            return Ok(Request::Head {
                target: request_target(&head[..head_len]),
            });
        }
        len += n;
    }
}

/// The second word of the request line (RFC 9112 3: `method SP request-target SP version`).
fn request_target(head: &[u8]) -> String {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let target = line.split(|&b| b == b' ').nth(1).unwrap_or(b"/");
    String::from_utf8_lossy(target).into_owned()
}

/// The whole `--http` handler: reads a request, answers it, sends close_notify.
pub fn serve<T: Read + Write>(tls: &mut TlsStream<T>) -> Result<()> {
    match read_request(tls)? {
        Request::Closed => {}
        Request::TooLong => answer(
            tls,
            "431 Request Header Fields Too Large",
            Body::Text(format!(
                "the request head is longer than {MAX_HEAD} bytes\n"
            )),
        )?,
        Request::Head { target } => {
            let (status, body) = match target.strip_prefix("/bytes/").map(str::parse::<u64>) {
                Some(Ok(n)) if n <= MAX_BYTES => ("200 OK", Body::Pattern(n)),
                Some(_) => (
                    "400 Bad Request",
                    Body::Text(format!(
                        "/bytes/N takes a number of bytes up to {MAX_BYTES}\n"
                    )),
                ),
                None => ("200 OK", Body::Text(page(tls))),
            };
            answer(tls, status, body)?
        }
    }
    tls.close()
}

/// The page `GET /` answers: what was negotiated.
fn page<T: Read + Write>(tls: &TlsStream<T>) -> String {
    format!(
        "Hello from toytls.\nprotocol: TLS 1.2\ncipher suite: {}\nresumed: {}\nextended master secret: {}\nsession id: {}\nresumed from a ticket: {}\napplication protocol (ALPN): {}\nclient certificate: {}\nserver name: {}\n",
        tls.suite().name(),
        if tls.resumed() { "yes" } else { "no" },
        crate::render::yes_no(tls.extended_master_secret()),
        toytls::wire::messages::hex(tls.session_id().as_slice()),
        crate::render::yes_no(tls.resumed_with_ticket()),
        tls.alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_else(|| "(none)".into()),
        client_subject(tls.peer_certificates()),
        tls.server_name().unwrap_or("(none)"),
    )
}

/// The subject of the client's certificate (verified by the handshake), or `(none)`.
fn client_subject(chain: &[Vec<u8>]) -> String {
    match chain
        .first()
        .map(|der| toytls::x509::Certificate::from_der(der))
    {
        None => "(none)".into(),
        Some(Ok(leaf)) => leaf.subject().to_string(),
        Some(Err(e)) => format!("(unreadable: {e})"),
    }
}

/// An answer's body.
pub enum Body {
    Text(String),
    /// N bytes of the alphabet pattern.
    Pattern(u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Text(t) => t.len() as u64,
            Body::Pattern(n) => *n,
        }
    }
}

/// Sends head and body in full records: the head shares the first record with the start of the
/// body, and only the last record is short.
pub fn answer<T: Read + Write>(tls: &mut TlsStream<T>, status: &str, body: Body) -> Result<()> {
    let mut record = Vec::with_capacity(BLOCK);
    write!(
        record,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    match body {
        Body::Text(text) => {
            // Our own short texts: head and body fit one record (write_data splits otherwise).
            record.extend_from_slice(text.as_bytes());
            tls.write_data(&record)
        }
        Body::Pattern(n) => {
            // The head and the start of the body in the first block; every later block goes
            // to the record layer straight from the pattern, with no copy of ours.
            let first = ((BLOCK - record.len()) as u64).min(n) as usize;
            record.extend_from_slice(&PATTERN[..first]);
            tls.write_data(&record)?;
            let mut sent = first as u64;
            while sent < n {
                let take = (BLOCK as u64).min(n - sent) as usize;
                let phase = (sent % ALPHABET as u64) as usize;
                tls.write_data(&PATTERN[phase..phase + take])?;
                sent += take as u64;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_len(parts: &[&[u8]]) -> Option<usize> {
        let mut end = HeadEnd::default();
        parts.iter().find_map(|p| end.feed(p))
    }

    #[test]
    fn a_head_ends_at_an_empty_line_with_crlf_or_bare_lf() {
        assert_eq!(head_len(&[b"GET / HTTP/1.0\r\n\r\n"]), Some(18));
        assert_eq!(head_len(&[b"GET / HTTP/1.0\n\n"]), Some(16));
        assert_eq!(head_len(&[b"GET / HTTP/1.0\r\n\n"]), Some(17));
        assert_eq!(head_len(&[b"GET / HTTP/1.0\n\r\nbody"]), Some(17));
        // Not yet: one line end only, or a line that merely contains CRs.
        assert_eq!(head_len(&[b"GET / HTTP/1.0\r\n"]), None);
        assert_eq!(head_len(&[b"GET / HTTP/1.0\r\nHost: a\r\n"]), None);
        assert_eq!(head_len(&[b"GET /\r\r HTTP/1.0\r\n"]), None);
        assert_eq!(head_len(&[b"a\nb\nc\n"]), None);
    }

    #[test]
    fn a_head_split_anywhere_ends_at_the_same_byte() {
        let req = b"GET /bytes/5 HTTP/1.1\r\nHost: localhost\r\n\r\ntrailing";
        let whole = head_len(&[req]).unwrap();
        assert_eq!(&req[whole - 4..whole], b"\r\n\r\n");
        for cut in 0..req.len() {
            assert_eq!(
                head_len(&[&req[..cut], &req[cut..]]),
                Some(whole),
                "cut {cut}"
            );
        }
        let bytes: Vec<&[u8]> = req.chunks(1).collect();
        assert_eq!(head_len(&bytes), Some(whole));
    }

    #[test]
    fn the_target_is_the_second_word_of_the_request_line() {
        assert_eq!(request_target(b"GET /bytes/7 HTTP/1.1\r\n\r\n"), "/bytes/7");
        assert_eq!(request_target(b"GET / HTTP/1.0\n\n"), "/");
        assert_eq!(request_target(b"\n\n"), "/");
    }

    #[test]
    fn the_pattern_block_continues_the_alphabet_from_any_phase() {
        let body = |from: usize, len: usize| -> Vec<u8> {
            (from..from + len).map(|i| b'a' + (i % 26) as u8).collect()
        };
        for from in [0usize, 1, 25, 26, 16_383, 1 << 32] {
            let phase = from % ALPHABET;
            assert_eq!(
                PATTERN[phase..phase + MAX_PLAINTEXT],
                body(from, MAX_PLAINTEXT)
            );
        }
    }
}
