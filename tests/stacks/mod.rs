//! Helpers for tests that run real TLS stacks (OpenSSL's command line) against the built `toytls`
//! binary over loopback TCP: child processes that are always killed, bounded waits, free ports,
//! and certificate files in a temporary directory that is always removed.
//!
//! Every child is killed and reaped when its [`Guard`] drops, and every [`Pki`] directory removed
//! when the `Pki` drops, on every path, panics included (both are locals of the test, so
//! unwinding drops them).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const TOYTLS: &str = env!("CARGO_BIN_EXE_toytls");
/// The longest any child may run, and any wait may last.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed and reaped when dropped, whatever happened to the test.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub mod http;

#[path = "../common/tempdir.rs"]
mod tempdir;
#[allow(unused_imports)]
pub use tempdir::TempDir;

/// True if `tool` runs; otherwise says loudly that the test is skipped. A developer without
/// openssl, curl or python3 can still run the rest of the suite; CI, which installs them, sets
/// `TOYTLS_REQUIRE_STACKS=1` so that a missing tool fails the test instead of skipping it.
pub fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok && std::env::var_os("TOYTLS_REQUIRE_STACKS").is_some_and(|v| v == "1") {
        panic!(
            "`{tool}` is not installed, and TOYTLS_REQUIRE_STACKS=1 says interop tests must run"
        );
    }
    if !ok {
        eprintln!(
            "\n!!!!! SKIPPED: `{tool}` is not installed; this interop test did not run !!!!!\n"
        );
    }
    ok
}

/// Runs `cmd` with `input` on stdin, killing it after [`TIMEOUT`].
pub fn run(mut cmd: Command, input: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = collect(child.stdout.take().unwrap());
    let err = collect(child.stderr.take().unwrap());
    let mut guard = Guard(child);
    let status = wait_exit(&mut guard, &format!("{cmd:?}"));
    let _ = writer.join();
    Output {
        status,
        stdout: out.wait_all(),
        stderr: err.wait_all(),
    }
}

/// Waits for `guard`'s child to exit, at most [`TIMEOUT`].
pub fn wait_exit(guard: &mut Guard, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = guard.0.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "{what} did not finish within {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Everything a child wrote to one of its pipes so far, collected by a thread.
#[derive(Clone)]
pub struct Collected {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: Arc<Mutex<bool>>,
}

/// Starts collecting `pipe` on its own thread (so the child never blocks on a full pipe).
pub fn collect(mut pipe: impl Read + Send + 'static) -> Collected {
    let c = Collected {
        bytes: Arc::new(Mutex::new(Vec::new())),
        done: Arc::new(Mutex::new(false)),
    };
    let c2 = c.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            c2.bytes.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        *c2.done.lock().unwrap() = true;
    });
    c
}

impl Collected {
    /// What arrived so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Waits until `needle` has arrived; panics with `context()` after [`TIMEOUT`].
    pub fn wait_for(&self, needle: &str, context: impl Fn() -> String) {
        let start = Instant::now();
        while !self.text().contains(needle) {
            assert!(
                start.elapsed() < TIMEOUT,
                "{needle:?} never came:\n{}\n{}",
                self.text(),
                context()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the end of the pipe (bounded) and returns everything.
    pub fn wait_all(&self) -> Vec<u8> {
        let start = Instant::now();
        while !*self.done.lock().unwrap() && start.elapsed() < TIMEOUT {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.bytes.lock().unwrap().clone()
    }
}

/// A child driven line by line: its stdin kept open, stdout and stderr collected as they come.
pub struct Interactive {
    pub guard: Guard,
    pub stdin: Option<ChildStdin>,
    pub stdout: Collected,
    pub stderr: Collected,
}

impl Interactive {
    pub fn spawn(mut cmd: Command) -> Interactive {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let stdin = child.stdin.take();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Interactive {
            guard: Guard(child),
            stdin,
            stdout,
            stderr,
        }
    }

    /// Types `line` and a newline.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Ends stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Both outputs so far, for failure messages.
    pub fn outputs(&self) -> String {
        format!(
            "--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

/// Runs `toytls ARGS` in `dir` (the `ca` and `cert` tools), which must succeed.
pub fn toytls_in(dir: &Path, args: &[&str]) {
    let mut c = Command::new(TOYTLS);
    c.args(args).current_dir(dir);
    let o = run(c, b"");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A finished child's stdout, then its stderr, for assertions and their messages.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}\n--- stderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The certificate files every interop test uses, generated once per test binary by `toytls ca
/// init` / `toytls cert issue` (2048-bit keys) and kept in memory.
struct PkiFiles {
    ca: Vec<u8>,
    other_ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn pki_files() -> &'static PkiFiles {
    static FILES: OnceLock<PkiFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = TempDir::new("toytls-interop-pki");
        let tool = |args: &[&str]| toytls_in(&dir, args);
        tool(&["ca", "init", "--out", "ca"]);
        tool(&["ca", "init", "--out", "other", "--name", "another CA"]);
        tool(&[
            "cert",
            "issue",
            "--ca",
            "ca",
            "--name",
            "localhost",
            "--name",
            "127.0.0.1",
            "--out",
            "srv",
        ]);
        let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
        PkiFiles {
            ca: read("ca/ca.pem"),
            other_ca: read("other/ca.pem"),
            cert: read("srv/cert.pem"),
            key: read("srv/key.pem"),
        }
        // `dir` is removed here: the files live on in memory.
    })
}

/// A CA and a server certificate for `localhost` and 127.0.0.1, plus another CA, as PEM files in
/// a directory of this test's own, which also holds whatever else the test writes (key logs,
/// sessions). The directory is removed when the `Pki` drops.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let f = pki_files();
        let dir = TempDir::new("toytls-interop");
        for (name, bytes) in [
            ("ca.pem", &f.ca),
            ("other-ca.pem", &f.other_ca),
            ("cert.pem", &f.cert),
            ("key.pem", &f.key),
        ] {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        Pki { dir }
    }
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn other_ca(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }
    pub fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }
    pub fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }
}

/// A running `toytls server`: its port and its stderr (connection failures, `--trace` output).
pub struct ToytlsServer {
    pub guard: Guard,
    pub port: u16,
    pub stderr: Collected,
}

/// `toytls server` on 127.0.0.1 port 0 with `p`'s certificate, once it reports its address.
pub fn toytls_server(p: &Pki, extra: &[&str]) -> ToytlsServer {
    let mut child = Command::new(TOYTLS)
        .args(["server", "--listen", "127.0.0.1:0", "--cert"])
        .arg(p.cert())
        .arg("--key")
        .arg(p.key())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn toytls server");
    let stderr = collect(child.stderr.take().unwrap());
    let guard = Guard(child);
    // The line may arrive in pieces (`eprintln!` is not one write): wait for its end too.
    stderr.wait_for("listening on", String::new);
    stderr.wait_for("\n", String::new);
    let text = stderr.text();
    let line = text
        .lines()
        .find(|l| l.contains("listening on"))
        .unwrap_or_default();
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    ToytlsServer {
        guard,
        port,
        stderr,
    }
}

/// A port free right now (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < TIMEOUT, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `openssl s_client -tls1_2` offering TLS_RSA_WITH_AES_128_GCM_SHA256 to 127.0.0.1:`port` for
/// `localhost`, trusting `ca`; the caller adds its own flags.
pub fn s_client_command(port: u16, ca: &Path) -> Command {
    let mut c = Command::new("openssl");
    c.args(["s_client", "-tls1_2", "-cipher", "AES128-GCM-SHA256"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", "localhost", "-CAfile"])
        .arg(ca);
    c
}

/// [`s_client_command`] trusting `p`'s CA, driven line by line. Neither -quiet nor -ign_eof: both
/// turn off s_client's command letters (R, Q); it sends close_notify and exits when its stdin
/// ends.
pub fn openssl_s_client(port: u16, p: &Pki) -> Interactive {
    Interactive::spawn(s_client_command(port, &p.ca()))
}

/// `openssl s_server -tls1_2` on 127.0.0.1:`port` with `p`'s certificate and key; the caller adds
/// its own flags and starts it with [`start_server`].
pub fn s_server_command(p: &Pki, port: u16) -> Command {
    let mut c = Command::new("openssl");
    c.args(["s_server", "-tls1_2", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(p.cert())
        .arg("-key")
        .arg(p.key());
    c
}

/// `gnutls-serv` on `port` with `p`'s certificate and key; the caller adds its own flags and
/// starts it with [`start_server`].
pub fn gnutls_serv_command(p: &Pki, port: u16) -> Command {
    let mut c = Command::new("gnutls-serv");
    c.args(["-p", &port.to_string()])
        .arg(format!("--x509certfile={}", p.cert().display()))
        .arg(format!("--x509keyfile={}", p.key().display()));
    c
}

/// Starts a real stack's server (`cmd`, silent, no stdin) and waits until it accepts on `port`.
/// It is killed when the guard drops.
pub fn start_server(mut cmd: Command, port: u16) -> Guard {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let guard = Guard(cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}")));
    wait_for_port(port);
    guard
}

/// Runs the Python `script` with the arguments `port`, `ca` and `more`, which must succeed, and
/// returns what it printed.
pub fn python(script: &str, port: u16, ca: &Path, more: &[&Path]) -> String {
    let mut c = Command::new("python3");
    c.arg("-c")
        .arg(script)
        .arg(port.to_string())
        .arg(ca)
        .args(more);
    let o = run(c, b"");
    assert!(o.status.success(), "{}", output_text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `toytls client` to 127.0.0.1:`port` for `server_name`, trusting `ca`; the caller adds its own
/// flags.
pub fn toytls_client_command(port: u16, ca: &Path, server_name: &str) -> Command {
    let mut c = Command::new(TOYTLS);
    c.arg("client")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--ca")
        .arg(ca)
        .args(["--server-name", server_name]);
    c
}

/// Asserts that `needles` all appear in `text`, in this order, after the first `after`.
pub fn assert_in_order_after(text: &str, after: &str, needles: &[&str]) {
    let mut at = text
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} missing:\n{text}"));
    for needle in needles {
        let pos = text[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing after {after:?}:\n{text}"));
        at += pos + needle.len();
    }
}

/// Lines of `text`, for readable assertion failures.
pub fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// A client configuration trusting `p`'s CA, with its own session store.
pub fn client_config(p: &Pki) -> std::sync::Arc<toytls::config::ClientConfig> {
    let pem = std::fs::read_to_string(p.ca()).unwrap();
    let anchors = toytls::x509::pem::parse_certificates(&pem).unwrap();
    Arc::new(toytls::config::ClientConfig::new(anchors))
}

/// Our library's client connected to 127.0.0.1:`port` for `localhost` (resuming if `config`
/// holds a session for it).
pub fn library_client(
    config: &Arc<toytls::config::ClientConfig>,
    port: u16,
) -> toytls::stream::TlsStream<toytls::net::timed::TimedStream> {
    toytls::stream::TlsStream::connect_tcp(("127.0.0.1", port), config.clone(), "localhost")
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"))
}
