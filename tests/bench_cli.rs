//! `toytls bench-client` against `toytls server --echo`, both as processes, briefly: it reports
//! handshakes per second, latency percentiles and throughput, shows progress, resumes with
//! `--resume` and not without, and exits 0 with no errors.

mod common;

use common::{TempDir, pki};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_toytls");

/// Kills the process when the test ends, whatever happens.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `toytls bench-client` to completion (killed after 60 s); returns (success, stdout, stderr).
fn bench(addr: SocketAddr, dir: &Path, extra: &[&str]) -> (bool, String, String) {
    let child = Command::new(BIN)
        .arg("bench-client")
        .arg(addr.to_string())
        .arg("--ca")
        .arg(dir.join("ca.pem"))
        .args(["--server-name", "localhost", "--connections", "4"])
        .args(["--duration", "1.5", "--bytes", "5000"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut p = Process(child);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "bench-client did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    p.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    p.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.success(), out, err)
}

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> f64 {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"))
        + prefix.len();
    text[at..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn bench_client_reports_rates_latencies_and_throughput_full_and_resumed() {
    let dir = TempDir::new("toytls-bench");
    let p = pki();
    let pem = toytls::x509::pem::encode_certificate;
    std::fs::write(dir.join("ca.pem"), pem(&p.ca)).unwrap();
    std::fs::write(dir.join("cert.pem"), pem(&p.server)).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        toytls::x509::pem::encode_private_key_pkcs8(&p.server_key),
    )
    .unwrap();
    let mut server = Command::new(BIN)
        .args(["server", "--listen", "127.0.0.1:0", "--echo", "--cert"])
        .arg(dir.join("cert.pem"))
        .arg("--key")
        .arg(dir.join("key.pem"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Process(server);
    let addr: SocketAddr = line.trim().rsplit(' ').next().unwrap().parse().unwrap();

    let (ok, out, err) = bench(addr, &dir, &[]);
    assert!(ok, "{out}\n{err}");
    assert!(
        err.contains("handshakes, ") && err.contains("/s"),
        "no progress line: {err}"
    );
    let handshakes = number_after(&out, "handshakes: ");
    assert!(handshakes >= 1.0, "{out}");
    assert_eq!(
        number_after(&out, " ("),
        0.0,
        "resumed without --resume: {out}"
    );
    assert!(number_after(&out, "), ") > 0.0, "{out}");
    let (p50, p90, p99) = (
        number_after(&out, "p50 "),
        number_after(&out, "p90 "),
        number_after(&out, "p99 "),
    );
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99, "{out}");
    // Every connection echoes 5000 bytes each way.
    let echoed = number_after(&out, "application data (");
    assert_eq!(echoed, handshakes * 10_000.0, "{out}");
    assert!(number_after(&out, "throughput: ") > 0.0, "{out}");
    assert!(out.contains("errors: 0"), "{out}");

    let (ok, out, err) = bench(addr, &dir, &["--resume"]);
    assert!(ok, "{out}\n{err}");
    let handshakes = number_after(&out, "handshakes: ");
    let resumed = number_after(&out, " (");
    // Only each worker's first connection can be a full handshake.
    assert!(resumed >= handshakes - 4.0 && resumed > 0.0, "{out}");
}

#[test]
fn bench_client_gives_up_on_a_silent_server_at_its_handshake_timeout() {
    let dir = TempDir::new("toytls-bench-silent");
    std::fs::write(
        dir.join("ca.pem"),
        toytls::x509::pem::encode_certificate(&pki().ca),
    )
    .unwrap();
    // Accepts every connection and never answers; keeps the sockets open so that only the
    // client's deadline can end them.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for tcp in listener.incoming().map_while(Result::ok) {
            held.push(tcp);
        }
    });
    let start = Instant::now();
    let (ok, out, err) = bench(addr, &dir, &["--handshake-timeout", "0.4"]);
    let took = start.elapsed();
    assert!(!ok, "succeeded against a silent server: {out}\n{err}");
    assert!(out.contains("handshakes: 0"), "{out}");
    assert!(
        out.contains("handshake deadline passed"),
        "the first error is not the deadline: {out}"
    );
    // --duration 1.5 plus one deadline for the connections in flight; generous for a loaded
    // machine, far below the 30 s I/O timeout that used to be the only limit.
    assert!(took < Duration::from_secs(15), "took {took:?}");
}
