//! HTTP answers read from a child's output as it streams: the head as text, the body hashed
//! and counted but never kept whole, so tests can move tens of MiB (or more) through a real
//! client and check every byte. The bodies are `toytls server --http`'s `/bytes/N` pattern: the
//! alphabet over and over.

use super::*;
use sha2::{Digest, Sha256};
use std::process::{Command, Stdio};

/// SHA-256 of the first `n` bytes of the `/bytes/` pattern, computed one block at a time.
pub fn pattern_sha256(n: u64) -> [u8; 32] {
    let block = pattern(26 * 2048);
    let mut h = Sha256::new();
    let mut left = n;
    while left > 0 {
        let take = left.min(block.len() as u64) as usize;
        h.update(&block[..take]);
        left -= take as u64;
    }
    h.finalize().into()
}

/// The first `n` bytes of the `/bytes/` pattern.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// `GET /bytes/n` as HTTP/1.1.
pub fn request(n: u64) -> String {
    format!("GET /bytes/{n} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What a client printed: the HTTP head, the body's length and hash, and what came before the
/// head and after the body.
pub struct Fetched {
    /// `s_client` prints its session report first.
    pub before: String,
    pub head: String,
    /// Body bytes: up to the head's Content-Length, or to the end without one.
    pub body_len: u64,
    pub body_sha256: [u8; 32],
    /// Whatever followed the Content-Length bytes (the first 4 KiB of it).
    pub after: Vec<u8>,
}

/// Reads `out` to its end: up to and including the empty line of the first `HTTP/1.x ` head is
/// text; then the body (Content-Length bytes, or everything if the head has none) is hashed;
/// the rest is kept as `after`.
pub fn read_http(mut out: impl Read) -> Fetched {
    let mut text = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut h = Sha256::new();
    let mut body_len = 0u64;
    let mut after = Vec::new();
    // Once the head is in: where it starts and ends in `text`, and the body's declared length.
    let mut head: Option<(usize, usize, u64)> = None;
    loop {
        let n = out.read(&mut buf).expect("read the client's output");
        if n == 0 {
            break;
        }
        let mut chunk = &buf[..n];
        let (_, _, content_length) = match head {
            Some(h) => h,
            None => {
                let from = text.len().saturating_sub(3);
                text.extend_from_slice(chunk);
                let Some(start) = find(&text, b"HTTP/1.") else {
                    continue;
                };
                let Some(end) = find(&text[from.max(start)..], b"\r\n\r\n") else {
                    continue;
                };
                let end = from.max(start) + end + 4;
                let head_text = String::from_utf8_lossy(&text[start..end]).into_owned();
                let cl = head_text
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map(|v| v.trim().parse().expect("a Content-Length number"))
                    .unwrap_or(u64::MAX);
                chunk = &chunk[chunk.len() - (text.len() - end)..];
                text.truncate(end);
                head = Some((start, end, cl));
                (start, end, cl)
            }
        };
        let body_part = (content_length - body_len).min(chunk.len() as u64) as usize;
        h.update(&chunk[..body_part]);
        body_len += body_part as u64;
        let rest = &chunk[body_part..];
        after.extend_from_slice(&rest[..rest.len().min(4096 - after.len().min(4096))]);
    }
    let (start, end, _) = head.unwrap_or_else(|| {
        panic!(
            "no HTTP head in the output: {:?}",
            String::from_utf8_lossy(&text[..text.len().min(2000)])
        )
    });
    Fetched {
        before: String::from_utf8_lossy(&text[..start]).into_owned(),
        head: String::from_utf8_lossy(&text[start..end]).into_owned(),
        body_len,
        body_sha256: h.finalize().into(),
        after,
    }
}

/// Runs `cmd` with `input` on stdin (which then ends, as with `printf ... | client`) and its
/// stdout read by [`read_http`] as it streams; returns what it fetched, its stderr, and how long
/// it took. Panics if it fails or runs past 120 s.
pub fn fetch(mut cmd: Command, input: &[u8]) -> (Fetched, String, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    let mut guard = Guard(child);
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let reader = std::thread::spawn(move || read_http(stdout));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = guard.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "{cmd:?} ran past 120 s");
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    let err = String::from_utf8_lossy(&stderr.wait_all()).into_owned();
    assert!(status.success(), "{cmd:?} failed: {status}\n{err}");
    let fetched = reader.join().unwrap_or_else(|_| panic!("{cmd:?}: {err}"));
    (fetched, err, start.elapsed())
}

/// Checks that `f` is toytls's `200 OK` with `n` bytes of the pattern, followed by `after` and
/// nothing else.
pub fn check_fetch(f: &Fetched, n: u64, after: &[u8], what: &str) {
    assert!(
        f.head.starts_with("HTTP/1.1 200 OK\r\n"),
        "{what}: {}",
        f.head
    );
    assert!(
        f.head.contains(&format!("\r\nContent-Length: {n}\r\n")),
        "{what}: {}",
        f.head
    );
    check_body(f, n, after, what);
}

/// Checks that `f`'s body is `n` bytes of the pattern, followed by `after` and nothing else.
pub fn check_body(f: &Fetched, n: u64, after: &[u8], what: &str) {
    assert_eq!(f.body_len, n, "{what}: body length");
    assert_eq!(f.body_sha256, pattern_sha256(n), "{what}: body hash");
    assert_eq!(
        String::from_utf8_lossy(&f.after),
        String::from_utf8_lossy(after),
        "{what}: after the body"
    );
}
