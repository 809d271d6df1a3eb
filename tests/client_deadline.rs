//! The client against servers that accept the TCP connection and then do not do their part
//! (`spec/limits.md`, issue 6): a silent server and one that trickles a byte every 50 ms are
//! given up on at the client's handshake deadline, with an error that says so and without an
//! alert; a server that stalls after the handshake is given up on at the I/O timeout; and
//! `toytls client` does the same from the command line.

mod common;

use common::{client_config, pki, server_config};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};
use toytls::config::ClientConfig;
use toytls::error::Error;
use toytls::net::serve::{ServerLimits, spawn};
use toytls::net::timed::TimedStream;
use toytls::stream::TlsStream;

/// A server's sockets give up after this long, so nothing here can hang.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(20);

/// Accepts one connection and hands it to `serve` on a thread; sends back what `serve` returns.
fn fake_server<F, R>(serve: F) -> (SocketAddr, Receiver<R>)
where
    F: FnOnce(TcpStream) -> R + Send + 'static,
    R: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(SOCKET_TIMEOUT)).unwrap();
        let _ = tx.send(serve(tcp));
    });
    (addr, rx)
}

/// Reads everything the client sends until it closes the connection.
fn read_until_closed(mut tcp: TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    got
}

/// The records in `bytes`, as (content type, length); panics on a partial record.
fn records(mut bytes: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "partial record header: {bytes:?}");
        let len = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
        assert!(bytes.len() >= 5 + len, "partial record");
        out.push((bytes[0], len));
        bytes = &bytes[5 + len..];
    }
    out
}

fn config(handshake_timeout: Duration, io_timeout: Duration) -> Arc<ClientConfig> {
    let mut c = client_config(40);
    c.handshake_timeout = handshake_timeout;
    c.io_timeout = io_timeout;
    Arc::new(c)
}

/// Runs `connect_tcp` and returns its error and how long it took.
fn failed_connect(addr: SocketAddr, cfg: Arc<ClientConfig>) -> (Error, Duration) {
    let start = Instant::now();
    let r = TlsStream::connect_tcp(addr, cfg, "localhost");
    let took = start.elapsed();
    match r {
        Ok(_) => panic!("the handshake succeeded"),
        Err(e) => (e, took),
    }
}

fn assert_timed_out(e: &Error, says: &str) {
    match e {
        Error::Io(io) => {
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut, "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert_eq!(e.alert(), None, "a timeout sends no alert");
}

#[test]
fn a_silent_server_is_given_up_on_at_the_handshake_deadline_without_an_alert() {
    let deadline = Duration::from_millis(400);
    let (addr, sent) = fake_server(read_until_closed);
    // The I/O timeout is far longer than the bounds below: only the deadline can explain it.
    let (e, took) = failed_connect(addr, config(deadline, Duration::from_secs(30)));
    assert_timed_out(&e, "handshake deadline passed");
    assert!(
        took >= deadline - Duration::from_millis(50),
        "gave up after {took:?}"
    );
    // Generous for a loaded machine, far below the 30 s I/O timeout.
    assert!(took < deadline + Duration::from_secs(5), "took {took:?}");
    // The server saw the ClientHello record and then the close: no alert record after it.
    let sent = sent.recv_timeout(SOCKET_TIMEOUT).unwrap();
    assert_eq!(records(&sent).iter().map(|r| r.0).collect::<Vec<_>>(), [22]);
}

#[test]
fn a_server_trickling_one_byte_every_50ms_is_given_up_on_at_the_deadline() {
    // Every byte arrives well within the I/O timeout; only the deadline can stop this.
    let deadline = Duration::from_millis(600);
    let (addr, trickled) = fake_server(|mut tcp| {
        // A handshake record announcing a ServerHello of 200 bytes, one byte at a time.
        let mut hello = vec![22, 3, 3, 0, 204, 2, 0, 0, 200, 3, 3];
        hello.resize(5 + 204, 0x42);
        let mut sent = 0;
        for b in &hello {
            if tcp.write_all(&[*b]).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        sent
    });
    let (e, took) = failed_connect(addr, config(deadline, Duration::from_secs(5)));
    assert_timed_out(&e, "handshake deadline passed");
    assert!(
        took >= deadline - Duration::from_millis(50),
        "gave up after {took:?}"
    );
    // Generous for a loaded machine, well below the 10 s the whole trickle takes.
    assert!(took < deadline + Duration::from_secs(5), "took {took:?}");
    let sent = trickled.recv_timeout(SOCKET_TIMEOUT).unwrap();
    assert!(sent < 209, "the whole trickled ServerHello went through");
}

#[test]
fn a_stalled_read_during_the_handshake_is_the_io_timeout_when_that_comes_first() {
    // Deadline 30 s, I/O timeout 300 ms: the error must name the I/O timeout, not the deadline.
    let io_timeout = Duration::from_millis(300);
    let (addr, _sent) = fake_server(read_until_closed);
    let (e, took) = failed_connect(addr, config(Duration::from_secs(30), io_timeout));
    assert_timed_out(&e, "I/O timeout");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn after_the_handshake_a_stalled_server_is_given_up_on_at_the_io_timeout() {
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(41)),
        ServerLimits::default(),
        // Handshakes, then sends nothing for longer than the client waits.
        |_tls| {
            std::thread::sleep(Duration::from_secs(3));
            Ok(())
        },
        |_| {},
    )
    .unwrap();
    let io_timeout = Duration::from_millis(300);
    let mut tls: TlsStream<TimedStream> = TlsStream::connect_tcp(
        addr,
        config(Duration::from_secs(10), io_timeout),
        "localhost",
    )
    .unwrap();
    let start = Instant::now();
    let e = tls.read(&mut [0u8; 16]).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    assert!(e.to_string().contains("I/O timeout"), "{e}");
    assert!(
        took >= io_timeout - Duration::from_millis(50) && took < Duration::from_secs(2),
        "gave up after {took:?}"
    );
}

#[test]
fn a_good_server_is_unaffected_by_the_deadline() {
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(42)),
        ServerLimits::default(),
        toytls::net::serve::echo,
        |_| {},
    )
    .unwrap();
    let mut tls = TlsStream::connect_tcp(
        addr,
        config(Duration::from_secs(20), Duration::from_secs(20)),
        "localhost",
    )
    .unwrap();
    tls.write_all(b"in time").unwrap();
    let mut got = [0u8; 7];
    tls.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"in time");
    tls.close().unwrap();
}

#[test]
fn the_cli_client_gives_up_on_a_silent_server_at_its_handshake_timeout() {
    let dir = common::TempDir::new("toytls-client-deadline");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, toytls::x509::pem::encode_certificate(&pki().ca)).unwrap();
    let (addr, sent) = fake_server(read_until_closed);
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args(["client", &addr.to_string(), "--server-name", "localhost"])
        .args(["--handshake-timeout", "0.5", "--ca"])
        .arg(&ca)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("handshake deadline passed"), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let sent = sent.recv_timeout(SOCKET_TIMEOUT).unwrap();
    assert_eq!(records(&sent).iter().map(|r| r.0).collect::<Vec<_>>(), [22]);
}
