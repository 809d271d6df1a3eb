//! The server against hostile peers over loopback (`spec/limits.md`, issue 6): a client that
//! sends nothing or trickles one byte at a time holds one connection slot and is dropped at the
//! handshake deadline; garbage and half-open clients fail alone, one log line each; and after all
//! of them a good client still gets served, by the library's `serve` and by `toytls server`.

mod common;

use common::{client_config, pki, server_config};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toytls::error::Error;
use toytls::net::serve::{ServerLimits, WhenFull, echo, spawn};
use toytls::stream::TlsStream;
use toytls::wire::alert::AlertDescription;

/// Every socket in these tests gives up after this long, so nothing can hang.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

type Log = Arc<Mutex<Vec<String>>>;

fn start(limits: ServerLimits) -> (SocketAddr, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(7)),
        limits,
        echo,
        move |line| sink.lock().unwrap().push(line),
    )
    .unwrap();
    (addr, log)
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    t.set_write_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    t
}

/// A full handshake and an echoed message; panics on any failure.
fn good_client(addr: SocketAddr, seed: u64) {
    let cfg = Arc::new(client_config(seed));
    let mut tls = TlsStream::connect(tcp(addr), cfg, "localhost", addr.port()).unwrap();
    tls.write_all(b"still serving?").unwrap();
    let mut got = [0u8; 14];
    tls.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"still serving?");
    tls.close().unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

/// Waits until the server closes `t` (EOF or reset); returns how long that took.
fn time_until_closed(t: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match t.read(&mut buf) {
            Ok(0) | Err(_) => return start.elapsed(),
            // An alert may come first; keep reading until the close.
            Ok(_) => continue,
        }
    }
}

/// Waits (bounded) until `log` holds `n` lines.
fn wait_for_lines(log: &Log, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let lines = log.lock().unwrap().clone();
        if lines.len() >= n || start.elapsed() > SOCKET_TIMEOUT {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_silent_client_holds_its_slot_until_the_deadline_and_the_next_client_waits_for_it() {
    let deadline = Duration::from_millis(400);
    let (addr, log) = start(ServerLimits {
        max_connections: 1,
        handshake_timeout: deadline,
        // Far longer than the bound below: only the deadline can explain the drop.
        io_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    });
    let mut silent = tcp(addr);
    // Give the acceptor time to hand the only slot to the silent client.
    std::thread::sleep(Duration::from_millis(50));
    // The good client queues behind it and is served once the slot frees up.
    let started = Instant::now();
    let good = std::thread::spawn(move || good_client(addr, 1));
    let held = time_until_closed(&mut silent);
    good.join().unwrap();
    let waited = started.elapsed();
    assert!(
        held >= deadline - Duration::from_millis(100),
        "dropped after {held:?}, before the deadline"
    );
    // Generous for a loaded machine, far below the 30 s I/O timeout.
    assert!(
        held < deadline + Duration::from_secs(4),
        "held for {held:?}: not dropped at the deadline"
    );
    assert!(
        waited >= deadline - Duration::from_millis(150),
        "the second client was served after {waited:?}: it did not wait for the only slot"
    );
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("handshake failed"), "{lines:?}");
}

#[test]
fn a_client_trickling_one_byte_at_a_time_is_dropped_at_the_deadline() {
    // The I/O timeout alone would never fire: a byte arrives every 50 ms. The deadline must.
    let deadline = Duration::from_millis(500);
    let (addr, log) = start(ServerLimits {
        max_connections: 4,
        handshake_timeout: deadline,
        io_timeout: Duration::from_secs(5),
        ..ServerLimits::default()
    });
    // A plaintext handshake record announcing a 200-byte ClientHello, sent a byte at a time by a
    // thread while this one waits for the server to hang up.
    let mut hello = vec![22, 3, 3, 0, 204, 1, 0, 0, 200, 3, 3];
    hello.resize(5 + 204, 0);
    let mut t = tcp(addr);
    let mut writer = t.try_clone().unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let trickle = std::thread::spawn(move || {
        let mut sent = 0;
        for b in &hello {
            if stop2.load(std::sync::atomic::Ordering::SeqCst) || writer.write_all(&[*b]).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        sent
    });
    let held = time_until_closed(&mut t);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = trickle.join().unwrap();
    assert!(sent < 209, "the whole trickled hello went through");
    assert!(
        held >= deadline - Duration::from_millis(100),
        "dropped after {held:?}"
    );
    // Generous for a loaded machine, far below the 10 s the whole trickle would take.
    assert!(
        held < deadline + Duration::from_secs(4),
        "held for {held:?}, deadline {deadline:?}"
    );
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("deadline"), "{lines:?}");
}

#[test]
fn a_client_that_keeps_busy_is_closed_at_the_maximum_lifetime_and_frees_its_slot() {
    // Echo, one byte every 50 ms: every read and write makes progress far within the I/O
    // timeout, so only the lifetime can end the connection (before it had one, nothing did).
    let lifetime = Duration::from_millis(800);
    let (addr, log) = start(ServerLimits {
        max_connections: 1,
        io_timeout: Duration::from_secs(5),
        max_lifetime: lifetime,
        ..ServerLimits::default()
    });
    let cfg = Arc::new(client_config(4));
    let started = Instant::now();
    let mut tls = TlsStream::connect(tcp(addr), cfg, "localhost", addr.port()).unwrap();
    let end = loop {
        let mut got = [0u8; 1];
        if let Err(e) = tls.write_all(b"x").and_then(|()| tls.read_exact(&mut got)) {
            break e;
        }
        assert!(
            started.elapsed() < lifetime + Duration::from_secs(5),
            "still served after {:?}: no maximum lifetime",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let held = started.elapsed();
    assert!(
        held >= lifetime - Duration::from_millis(100),
        "closed after {held:?}"
    );
    // The server sends nothing at its deadline (no alert for a timeout): the client sees the
    // transport end without close_notify.
    let tls_error = end.get_ref().and_then(|e| e.downcast_ref::<Error>());
    assert!(matches!(tls_error, Some(Error::Truncated)), "{end:?}");
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("the connection's maximum lifetime passed"),
        "{lines:?}"
    );
    // The only slot is free again.
    good_client(addr, 5);
}

/// Garbage, a half-open client, a client that hangs up mid-record and a silent one, all at once;
/// then a good client.
fn hostile_clients(addr: SocketAddr) -> Vec<TcpStream> {
    let mut garbage = tcp(addr);
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut half_open = tcp(addr);
    half_open.shutdown(std::net::Shutdown::Write).unwrap();
    let mut cut = tcp(addr);
    cut.write_all(&[22, 3, 3, 0x40, 0, 1, 0]).unwrap();
    drop(cut);
    let mut oversized = tcp(addr);
    oversized.write_all(&[22, 3, 3, 0xFF, 0xFF]).unwrap();
    let silent = tcp(addr);
    // Wait for the server's answers to the ones it can answer at once.
    for t in [&mut garbage, &mut half_open, &mut oversized] {
        time_until_closed(t);
    }
    vec![silent]
}

#[test]
fn garbage_half_open_and_silent_clients_fail_alone_and_a_good_client_is_served() {
    let (addr, log) = start(ServerLimits {
        max_connections: 8,
        handshake_timeout: Duration::from_millis(600),
        io_timeout: Duration::from_secs(5),
        ..ServerLimits::default()
    });
    let mut silent = hostile_clients(addr);
    good_client(addr, 2);
    for t in &mut silent {
        time_until_closed(t);
    }
    good_client(addr, 3);
    // One line per failed connection (five), none for the good ones.
    let lines = wait_for_lines(&log, 5);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for l in &lines {
        assert!(l.starts_with("127.0.0.1:"), "{l}");
        assert!(l.contains("handshake failed"), "{l}");
    }
    let all = lines.join("\n");
    assert!(all.contains("record of 65535 bytes"), "{all}");
    assert!(all.contains("closed without close_notify"), "{all}");
    assert!(all.contains("deadline"), "{all}");
}

#[test]
fn garbage_gets_an_alert_not_silence() {
    let (addr, _log) = start(ServerLimits::default());
    let mut t = tcp(addr);
    // Not a TLS record type: unexpected_message, in a plaintext fatal alert record.
    t.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let _ = t.read_to_end(&mut got);
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 10]);
    // A record longer than 2^14 before encryption: record_overflow (RFC 5246 6.2.1).
    let mut t = tcp(addr);
    t.write_all(&[22, 3, 3, 0x40, 0x01]).unwrap();
    let mut got = Vec::new();
    let _ = t.read_to_end(&mut got);
    assert_eq!(got, [21, 3, 3, 0, 2, 2, 22]);
}

/// Kills the server process when the test ends, whatever happens.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The CA, server certificate and key for `toytls server` and `toytls client`, in a temporary
/// directory removed on drop.
struct Pem(common::TempDir);

impl Pem {
    fn new(name: &str) -> Pem {
        let dir = common::TempDir::new(name);
        let p = pki();
        let cert = toytls::x509::pem::encode_certificate;
        std::fs::write(dir.join("ca.pem"), cert(&p.ca)).unwrap();
        std::fs::write(dir.join("cert.pem"), cert(&p.server)).unwrap();
        std::fs::write(
            dir.join("key.pem"),
            toytls::x509::pem::encode_private_key_pkcs8(&p.server_key),
        )
        .unwrap();
        Pem(dir)
    }
}

/// Starts `toytls server --echo` with `args`; returns it, its address, and its stderr after the
/// first line, collected on a thread.
fn cli_server(pem: &Pem, args: &[&str]) -> (Process, SocketAddr, Log) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args(["server", "--listen", "127.0.0.1:0", "--echo"])
        .args(args)
        .arg("--cert")
        .arg(pem.0.join("cert.pem"))
        .arg("--key")
        .arg(pem.0.join("key.pem"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = Process(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    let addr: SocketAddr = first.rsplit(' ').next().unwrap().parse().unwrap();
    let log: Log = Arc::default();
    let sink = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(|l| l.ok()) {
            sink.lock().unwrap().push(l);
        }
    });
    (guard, addr, log)
}

#[test]
fn the_cli_server_logs_each_failed_connection_and_keeps_serving() {
    let pem = Pem::new("toytls-limits");
    let (_server, addr, log) = cli_server(
        &pem,
        &[
            "--max-connections",
            "4",
            "--handshake-timeout",
            "0.6",
            "--io-timeout",
            "5",
        ],
    );
    let mut silent = hostile_clients(addr);
    good_client(addr, 4);
    for t in &mut silent {
        time_until_closed(t);
    }
    good_client(addr, 5);
    let lines = wait_for_lines(&log, 5);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for l in &lines {
        assert!(l.contains("handshake failed"), "{l}");
    }
}

/// A client that completed its handshake and now holds its connection slot.
fn holding_client(addr: SocketAddr, seed: u64) -> TlsStream<TcpStream> {
    let cfg = Arc::new(client_config(seed));
    TlsStream::connect(tcp(addr), cfg, "localhost", addr.port()).unwrap()
}

/// Echoes one message over `tls`, closes it and waits for the server's close_notify.
fn finish(mut tls: TlsStream<TcpStream>) {
    tls.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    tls.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    tls.close().unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
}

/// The record a refused client gets: alert, version {3, 3}, length 2, fatal, internal_error.
const REFUSAL: [u8; 7] = [21, 3, 3, 0, 2, 2, 80];

#[test]
fn when_full_and_refusing_a_new_client_gets_internal_error_and_a_freed_slot_serves_the_next() {
    let (addr, log) = start(ServerLimits {
        max_connections: 1,
        when_full: WhenFull::Refuse,
        ..ServerLimits::default()
    });
    let held = holding_client(addr, 20);
    // On the wire: one plaintext fatal alert record, then the close; nothing else.
    let mut raw = tcp(addr);
    let mut got = Vec::new();
    raw.read_to_end(&mut got).unwrap();
    assert_eq!(got, REFUSAL);
    // Our client reports it as the server's alert.
    let cfg = Arc::new(client_config(21));
    let e = TlsStream::connect(tcp(addr), cfg, "localhost", addr.port())
        .err()
        .expect("a client beyond the maximum was served");
    assert!(
        matches!(e, Error::PeerAlert(AlertDescription::InternalError)),
        "{e}"
    );
    assert!(e.to_string().contains("internal_error"), "{e}");
    // The client being served is not disturbed; when it ends, its slot serves the next client.
    finish(held);
    // The slot is freed just after the connection closes: retry (bounded) while refused.
    let start = Instant::now();
    let next = loop {
        let cfg = Arc::new(client_config(22));
        match TlsStream::connect(tcp(addr), cfg, "localhost", addr.port()) {
            Ok(tls) => break tls,
            Err(Error::PeerAlert(AlertDescription::InternalError))
                if start.elapsed() < SOCKET_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("the freed slot did not serve the next client: {e}"),
        }
    };
    finish(next);
    // One line per refused connection, and nothing else.
    let lines = log.lock().unwrap().clone();
    assert!(lines.len() >= 2, "{lines:#?}");
    for l in &lines {
        assert!(l.starts_with("127.0.0.1:"), "{l}");
        assert!(
            l.contains("refused: all 1 connection slots are taken"),
            "{l}"
        );
    }
}

#[test]
fn the_cli_server_refuses_with_an_alert_when_full_and_the_cli_client_reports_it() {
    let pem = Pem::new("toytls-refuse");
    let (_server, addr, log) =
        cli_server(&pem, &["--max-connections", "1", "--when-full", "refuse"]);
    let held = holding_client(addr, 23);
    let out = Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args(["client", &addr.to_string(), "--server-name", "localhost"])
        .arg("--ca")
        .arg(pem.0.join("ca.pem"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the peer sent the alert internal_error"),
        "{stderr}"
    );
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("refused"), "{lines:?}");
    finish(held);
}

#[test]
fn an_idle_connection_after_the_handshake_is_dropped_at_the_io_timeout() {
    let io_timeout = Duration::from_millis(300);
    let (addr, log) = start(ServerLimits {
        max_connections: 2,
        handshake_timeout: Duration::from_secs(5),
        io_timeout,
        ..ServerLimits::default()
    });
    let cfg = Arc::new(client_config(6));
    let mut tls = TlsStream::connect(tcp(addr), cfg, "localhost", addr.port()).unwrap();
    // The handshake is done; now say nothing. The server gives up after its I/O timeout and
    // closes without close_notify, which the client must see as truncation, not a clean end.
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let e = tls.read(&mut buf).unwrap_err();
    let held = start.elapsed();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    assert!(
        held >= io_timeout - Duration::from_millis(100)
            && held < io_timeout + Duration::from_secs(4),
        "dropped after {held:?}"
    );
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("connection failed") && lines[0].contains("I/O timeout"),
        "{lines:?}"
    );
}

#[test]
fn a_panicking_handler_is_logged_in_one_line_and_frees_its_slot() {
    let log: Log = Arc::default();
    let sink = log.clone();
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(9)),
        ServerLimits {
            max_connections: 1,
            ..ServerLimits::default()
        },
        |tls| {
            let mut buf = [0u8; 16];
            let n = tls.read_data(&mut buf)?;
            if &buf[..n] == b"boom" {
                panic!("the handler was told to panic");
            }
            tls.write_data(&buf[..n])?;
            echo(tls)
        },
        move |line| sink.lock().unwrap().push(line),
    )
    .unwrap();
    let mut tls = holding_client(addr, 24);
    tls.write_all(b"boom").unwrap();
    // The server's side of the connection is gone without close_notify.
    let e = tls.read(&mut [0u8; 4]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("127.0.0.1:"), "{lines:?}");
    assert!(
        lines[0].contains("connection panicked: the handler was told to panic"),
        "{lines:?}"
    );
    // The only slot was freed: the next client is served.
    good_client(addr, 25);
    assert_eq!(log.lock().unwrap().len(), 1);
}
