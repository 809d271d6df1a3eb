//! Memory and scale (issue 13, goal 6): `toytls server` as a process holds 1,000 idle
//! connections, each after a full handshake and one echoed message, with its default connection
//! limit and a resident size under 64 MiB; the resident size at 10, 100 and 1,000 connections is
//! printed (`cargo test --release --test idle_connections -- --nocapture`), which is where the
//! README's figures come from.
//!
//! 1,000 connections need more than 1,000 file descriptors in this process (the clients) and in
//! the server. Where the soft limit is lower (1024 is a common default), the test runs itself
//! again under `sh -c 'ulimit -n <hard limit>'`, which any process may do; if even the hard limit
//! is too low it fails and says so.

mod common;

use common::{client_config, pki};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use toytls::handshake::session::ClientSessionStore;
use toytls::stream::TlsStream;

/// Connections held at the end, and where the resident size is reported on the way.
const CONNECTIONS: usize = 1000;
const CHECKPOINTS: [usize; 3] = [10, 100, 1000];
/// The goal: the whole server process, with all of them open.
const MAX_RESIDENT: u64 = 64 << 20;
/// File descriptors this process needs: one per client socket and some for the test harness.
const FILES_NEEDED: usize = CONNECTIONS + 64;
/// Set in the environment of the re-run with a raised file limit.
const RERUN: &str = "TOYTLS_IDLE_TEST_RERUN";

const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn soft_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    match line["Max open files".len()..].split_whitespace().next()? {
        "unlimited" => Some(usize::MAX),
        n => n.parse().ok(),
    }
}

/// VmRSS of a process, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn start_server(dir: &common::TempDir) -> (Server, SocketAddr) {
    let p = pki();
    let cert = toytls::x509::pem::encode_certificate;
    std::fs::write(dir.join("cert.pem"), cert(&p.server)).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        toytls::x509::pem::encode_private_key_pkcs8(&p.server_key),
    )
    .unwrap();
    // No --max-connections: the default must fit 1,000. Idle means idle for the whole test, so
    // the read timeout is longer than it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_toytls"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--echo",
            "--io-timeout",
            "3600",
        ])
        .arg("--cert")
        .arg(dir.join("cert.pem"))
        .arg("--key")
        .arg(dir.join("key.pem"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit(' ').next().unwrap().parse().unwrap();
    // Keep draining stderr (one line per failed connection, e.g. for each client dropped
    // without close_notify at the end) so that the server never blocks on it.
    std::thread::spawn(move || lines.map_while(|l| l.ok()).count());
    (server, addr)
}

/// A full handshake and one echoed message: afterwards the server's connection is idle, waiting
/// in its handler's read.
fn idle_connection(
    addr: SocketAddr,
    config: &Arc<toytls::config::ClientConfig>,
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    let mut tls = TlsStream::connect(tcp, config.clone(), "localhost", addr.port()).unwrap();
    tls.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    tls.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    tls
}

#[test]
fn the_server_holds_a_thousand_idle_connections_in_under_64_mib() {
    let limit = soft_file_limit();
    if limit.is_some_and(|l| l < FILES_NEEDED) {
        assert!(
            std::env::var_os(RERUN).is_none(),
            "the open-file limit is {limit:?} even after `ulimit -n` to the hard limit; \
             {FILES_NEEDED} are needed: raise the hard limit (e.g. in /etc/security/limits.conf)"
        );
        let status = Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n "$(ulimit -Hn)" && exec "$0" "$@""#)
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "the_server_holds_a_thousand_idle_connections_in_under_64_mib",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(RERUN, "1")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the re-run with a raised file limit failed"
        );
        return;
    }

    let dir = common::TempDir::new("toytls-idle");
    let (server, addr) = start_server(&dir);
    let pid = server.0.id();
    let mut config = client_config(3);
    // Every connection a full handshake (with an RSA private operation on the server).
    config.sessions = ClientSessionStore::new(0);
    let config = Arc::new(config);

    // The server after one connection has come and gone: its code, its certificate and key, one
    // worker thread.
    drop(idle_connection(addr, &config));
    std::thread::sleep(Duration::from_millis(200));
    let empty = resident(pid);
    eprintln!("idle connections   resident size   per connection over an empty server");
    eprintln!("{:>16}   {:>9.1} MiB", 0, empty as f64 / f64::from(1 << 20));

    let mut held = Vec::with_capacity(CONNECTIONS);
    let mut last = 0;
    for n in CHECKPOINTS {
        while held.len() < n {
            held.push(idle_connection(addr, &config));
        }
        // Let the server's threads settle into their reads.
        std::thread::sleep(Duration::from_millis(200));
        last = resident(pid);
        eprintln!(
            "{n:>16}   {:>9.1} MiB   {:>6.1} KiB",
            last as f64 / f64::from(1 << 20),
            last.saturating_sub(empty) as f64 / 1024.0 / n as f64
        );
    }
    assert!(
        last < MAX_RESIDENT,
        "{CONNECTIONS} idle connections take {last} bytes, over {MAX_RESIDENT}"
    );

    // They are connections still: the first and the last answer.
    for i in [0, CONNECTIONS - 1] {
        let tls = &mut held[i];
        tls.write_all(b"still there?").unwrap();
        let mut back = [0u8; 12];
        tls.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"still there?");
    }
}
