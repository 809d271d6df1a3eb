//! The server's idle timeout (`spec/limits.md`; issue 11, "slots held forever"): after the
//! handshake a connection on which no application data moves, either way, for
//! `ServerLimits::idle_timeout` (`toytls server --idle-timeout`) is closed and its slot freed.
//!
//! The read and write timeouts alone are renewed by any byte. Before the idle timeout, a client
//! sending one empty application-data record every 29 s (legal, RFC 5246 6.2.1, and carrying
//! nothing) kept each read within the 30 s timeout, so 64 such clients held every slot of a
//! server for as long as they liked.

mod common;
// Both helper modules include tests/common/tempdir.rs; the two copies are separate modules here
// and neither's TempDir is used across them.
#[allow(clippy::duplicate_mod)]
mod stacks;

use common::{client_config, server_config};
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toytls::Side;
use toytls::conn::Conn;
use toytls::handshake::client;
use toytls::net::serve::{ServerLimits, echo, spawn};
use toytls::record::ContentType;

/// The idle timeout of the library server in these tests.
const IDLE: Duration = Duration::from_millis(600);
/// Its read/write timeout: far longer, so only the idle timeout can end a connection early.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the clients send something.
const EVERY: Duration = Duration::from_millis(100);

type Log = Arc<Mutex<Vec<String>>>;

fn start() -> (SocketAddr, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(51)),
        ServerLimits {
            max_connections: 2,
            io_timeout: IO_TIMEOUT,
            idle_timeout: IDLE,
            ..ServerLimits::default()
        },
        echo,
        move |line| sink.lock().unwrap().push(line),
    )
    .unwrap();
    (addr, log)
}

/// A client connection after a full handshake, at the level of records.
fn connected(addr: SocketAddr, seed: u64) -> Conn<TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = Conn::new(tcp, Side::Client, None);
    client::handshake(&mut c, &client_config(seed), "localhost", addr.port()).unwrap();
    c
}

/// True once the server has closed `tcp` (end of stream or reset), without waiting.
fn closed_by_server(tcp: &TcpStream) -> bool {
    tcp.set_nonblocking(true).unwrap();
    let closed = match tcp.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    tcp.set_nonblocking(false).unwrap();
    closed
}

/// Waits (bounded) until `log` holds a line.
fn first_line(log: &Log) -> String {
    let start = Instant::now();
    loop {
        if let Some(l) = log.lock().unwrap().first() {
            return l.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no log line");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn empty_records_do_not_hold_a_connection_past_the_idle_timeout() {
    let (addr, log) = start();
    let mut c = connected(addr, 52);
    let started = Instant::now();
    let held = loop {
        let sent = c
            .rec
            .write_record(&mut c.io, ContentType::ApplicationData, &[]);
        if sent.is_err() || closed_by_server(&c.io) {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < IDLE + IO_TIMEOUT,
            "still served after {:?} of empty records: they hold the connection",
            started.elapsed()
        );
        std::thread::sleep(EVERY);
    };
    assert!(held >= IDLE - EVERY, "closed after {held:?}");
    // No alert for a timeout: the server just closes, and says why in its log.
    let line = first_line(&log);
    assert!(line.contains("idle timeout"), "{line}");
    assert!(line.contains("connection failed"), "{line}");
}

#[test]
fn application_data_keeps_a_connection_open_past_the_idle_timeout() {
    let (addr, log) = start();
    let mut c = connected(addr, 53);
    let started = Instant::now();
    // One byte each way every 100 ms, for three idle timeouts.
    while started.elapsed() < 3 * IDLE {
        c.write_app_data(b"x").unwrap();
        let mut got = [0u8; 1];
        assert_eq!(c.read_app_data(&mut got).unwrap(), 1, "echo");
        assert_eq!(&got, b"x");
        std::thread::sleep(EVERY);
    }
    c.close().unwrap();
    let mut rest = [0u8; 16];
    assert_eq!(c.read_app_data(&mut rest).unwrap(), 0, "close_notify");
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
}

#[test]
fn the_cli_server_closes_an_idle_connection_at_its_idle_timeout() {
    let p = stacks::Pki::new();
    let server = stacks::toytls_server(&p, &["--idle-timeout", "0.5"]);
    let config = stacks::client_config(&p);
    let mut tls = stacks::library_client(&config, server.port);
    // Say nothing after the handshake: the 30 s I/O timeout would take 30 s; the idle timeout
    // takes half a second.
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let end = tls.read(&mut buf);
    let took = started.elapsed();
    assert!(end.is_err(), "{end:?}: the server sent something");
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(10),
        "closed after {took:?}"
    );
    server
        .stderr
        .wait_for("idle timeout", || server.stderr.text());
}
