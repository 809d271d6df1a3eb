//! Records seeds for the `server` and `client` fuzz targets (and a few for `handshake_message` and
//! `record`) from real handshakes with OpenSSL, so the fuzzer starts from what a real stack sends
//! and not only from what our own peers send (`examples/fuzz_corpus.rs`):
//!
//! ```text
//! cargo run --release --example fuzz_corpus_openssl -- fuzz/corpus
//! ```
//!
//! Without an `openssl` binary on the PATH it writes nothing and says so. Rerun it whenever the
//! handshake changes (new extensions, a different key schedule), like `fuzz_corpus`:
//! `tests/fuzz_replay.rs` fails on seeds that no longer complete their handshake.
//!
//! Why a recording replays: the fuzz targets run our side with a fixed key and certificate
//! (`fuzz/keys/`), a seeded RNG and a fixed clock (`fuzz/src/lib.rs`). Here the very same
//! configuration (`entries::server_config_for_flags` / `client_config_for_flags`) runs live on
//! loopback against `openssl s_client` or `openssl s_server`, and everything our side *reads* from
//! the socket is kept. Fed back to the target, those bytes meet a side that draws the same random
//! numbers at the same points, so it sends the same ServerHello (or ClientHello and encrypted
//! pre-master secret), derives the same keys, and OpenSSL's Finished checks out: the seed reaches
//! application data. OpenSSL's own randomness is in the recorded bytes and needs no replaying.
//! Each recording is replayed through the target before it is written, and must get exactly as
//! far as the live connection did.
//!
//! The recordings:
//! - `server/openssl_*`: `s_client -tls1_2` with one suite and server_name (without tickets, and
//!   with them: `openssl_full_ticket`, offering ALPN too, gets a NewSessionTicket and http/1.1,
//!   `openssl_resumed_ticket` resumes from it); with every TLS 1.2
//!   suite OpenSSL has (ECDHE, CBC, ... of which we pick AES128-GCM-SHA256) and its workarounds
//!   (`-bugs`: padding); resuming the targets' fixed session (a session file with its ID and
//!   master secret, see [`fixed_session_file`]) and offering it, without session_ticket, to a
//!   server that lacks it; asking for a renegotiation after the first data; and a TLS 1.3
//!   ClientHello that also offers 1.2.
//! - `client/openssl_*`: `s_server -tls1_2` with the leaf alone and with its CA; offered a session
//!   it does not know; sending a HelloRequest after the first data; and a TLS 1.3 server settling
//!   for 1.2 (the downgrade sentinel in its random). (A resumption by `s_server` cannot be
//!   recorded: it would have to hold the targets' fixed session, and it cannot load one.)
//! - `handshake_message/openssl_*` and `record/openssl_*`: OpenSSL's ClientHello (its full list of
//!   suites and extensions) and its server flight, as messages and as records.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod entries;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use entries::{
    FIXED_MASTER_SECRET, FIXED_SESSION_ID, HANDSHAKE_HOST, HANDSHAKE_PORT, HANDSHAKE_SESSION,
    HANDSHAKE_SESSION_GCM, RECORD_FIX_VERSION,
};
use toytls::stream::TlsStream;
use toytls::x509::der::Value;
use toytls::x509::{der_write, pem};

type Error = Box<dyn std::error::Error>;

/// How long any one step may take before the recording is abandoned as hung.
const STEP: Duration = Duration::from_secs(10);

fn main() -> Result<(), Error> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let have_openssl = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_openssl {
        eprintln!("fuzz_corpus_openssl: no `openssl` on the PATH, nothing written");
        return Ok(());
    }
    let tmp = std::env::temp_dir().join(format!("toytls-fuzz-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let result = record_all(&out, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn record_all(out: &Path, tmp: &Path) -> Result<(), Error> {
    let server_dir = out.join("server");
    let client_dir = out.join("client");

    // OpenSSL as the client, our fuzzed server's configuration as the server.
    // One suite, and server_name (s_client sends none for an IP address unless told).
    let gcm = [
        "-tls1_2",
        "-cipher",
        "AES128-GCM-SHA256",
        "-servername",
        "localhost",
    ];
    // Without tickets, so that the saved session is resumed by its ID alone below.
    let full_sess = path_str(&tmp.join("full.sess"))?;
    let full = s_client(
        0,
        &[&gcm[..], &["-no_ticket", "-sess_out", &full_sess]],
        Client::Ping,
    )?;
    save_server(&server_dir, "openssl_full", Some(false), &full)?;

    // With tickets (OpenSSL's default): the server issues one, sealed under the targets' fixed
    // ticket key, and the next connection resumes from it, statelessly (RFC 5077 3.1).
    let ticket_sess = path_str(&tmp.join("ticket.sess"))?;
    let full_ticket = s_client(
        0,
        &[
            &gcm[..],
            &["-alpn", "h2,http/1.1", "-sess_out", &ticket_sess],
        ],
        Client::Ping,
    )?;
    save_server(
        &server_dir,
        "openssl_full_ticket",
        Some(false),
        &full_ticket,
    )?;
    let resumed_ticket = s_client(0, &[&gcm[..], &["-sess_in", &ticket_sess]], Client::Ping)?;
    save_server(
        &server_dir,
        "openssl_resumed_ticket",
        Some(true),
        &resumed_ticket,
    )?;

    let fixed = path_str(&tmp.join("fixed.sess"))?;
    std::fs::write(
        &fixed,
        fixed_session_file(&std::fs::read_to_string(&full_sess)?)?,
    )?;
    let flags = HANDSHAKE_SESSION | HANDSHAKE_SESSION_GCM;
    let resumed = s_client(flags, &[&gcm[..], &["-sess_in", &fixed]], Client::Ping)?;
    save_server(&server_dir, "openssl_resumed", Some(true), &resumed)?;

    let refused = s_client(
        0,
        &[&gcm[..], &["-no_ticket", "-sess_in", &fixed]],
        Client::Ping,
    )?;
    save_server(
        &server_dir,
        "openssl_resumption_refused",
        Some(false),
        &refused,
    )?;

    // Every suite OpenSSL has for TLS 1.2 (ECDHE, DHE, CBC, CCM, ChaCha20, ...), with
    // supported_groups, ec_point_formats, signature_algorithms, session_ticket, encrypt_then_mac and
    // extended_master_secret; `-bugs` adds the padding extension. No server name this time.
    let ca = path_str(&keys_dir().join("ca.pem"))?;
    let many_args = [
        "-tls1_2",
        "-cipher",
        "ALL",
        "-bugs",
        "-noservername",
        "-CAfile",
        &ca,
    ];
    let many = s_client(0, &[&many_args], Client::Ping)?;
    save_server(&server_dir, "openssl_default_suites", Some(false), &many)?;

    let reneg = s_client(0, &[&gcm[..], &["-CAfile", &ca]], Client::Renegotiate)?;
    save_server(&server_dir, "openssl_renegotiate", Some(false), &reneg)?;

    // What real clients send today: a TLS 1.3 ClientHello (record version 1.0, supported_versions,
    // key_share, psk_key_exchange_modes, TLS 1.3 suites) that also offers TLS 1.2, which we pick.
    let tls13 = [
        "-cipher",
        "AES128-GCM-SHA256",
        "-servername",
        "localhost",
        "-CAfile",
        &ca,
    ];
    let modern = s_client(0, &[&tls13], Client::Ping)?;
    save_server(&server_dir, "openssl_tls13_capable", Some(false), &modern)?;

    // Our fuzzed client's configuration as the client, OpenSSL as the server.
    let full_c = s_server(0, &["-tls1_2"], Server::Pong)?;
    save_client(&client_dir, "openssl_full", Some(false), &full_c)?;

    let chain = s_server(
        HANDSHAKE_SESSION,
        &["-tls1_2", "-cert_chain", &ca],
        Server::Pong,
    )?;
    save_client(
        &client_dir,
        "openssl_chain_resumption_refused",
        Some(false),
        &chain,
    )?;

    let hello_request = s_server(0, &["-tls1_2"], Server::HelloRequest)?;
    save_client(
        &client_dir,
        "openssl_hello_request",
        Some(false),
        &hello_request,
    )?;

    // A server that speaks TLS 1.3 too: it settles for our 1.2 and says so in the last 8 bytes
    // of its random (RFC 8446 4.1.3: "DOWNGRD\x01").
    let modern_c = s_server(0, &[], Server::Pong)?;
    save_client(&client_dir, "openssl_tls13_capable", Some(false), &modern_c)?;

    // The same real messages for the message and record targets.
    let hello = first_flight(&many.received)?;
    let messages = out.join("handshake_message");
    write(&messages, "openssl_client_hello", &hello.messages)?;
    let hello13 = first_flight(&modern.received)?;
    write(&messages, "openssl_client_hello_tls13", &hello13.messages)?;
    let server_flight = first_flight(&full_c.received)?;
    write(&messages, "openssl_server_flight", &server_flight.messages)?;
    write(
        &out.join("record"),
        "openssl_client_flight",
        &record_input(0, &full.received),
    )?;
    write(
        &out.join("record"),
        "openssl_server_flight",
        &record_input(RECORD_FIX_VERSION, &server_flight.records),
    )?;
    Ok(())
}

/// What one live connection did, from our side.
struct Recording {
    /// The settings byte the target must be run with.
    flags: u8,
    /// Everything OpenSSL sent us.
    received: Vec<u8>,
    /// `None` if the handshake failed, else whether it resumed a session.
    resumed: Option<bool>,
    /// Application data bytes read after the handshake.
    data: usize,
}

impl Recording {
    /// The recording of a connection that is over: `read` holds what the recorder saw arrive.
    fn finish(
        flags: u8,
        read: &Mutex<Vec<u8>>,
        resumed: Option<bool>,
        data: usize,
    ) -> Result<Recording, String> {
        let received = read.lock().map_err(|e| e.to_string())?.clone();
        Ok(Recording {
            flags,
            received,
            resumed,
            data,
        })
    }
}

fn expect(r: &Recording, resumed: Option<bool>, name: &str) -> Result<(), Error> {
    if r.resumed != resumed || r.data == 0 {
        return Err(format!(
            "{name}: expected a handshake with resumed = {resumed:?} and data, got resumed = {:?} and {} bytes",
            r.resumed, r.data
        )
        .into());
    }
    Ok(())
}

/// The target's input: the settings byte, then the peer's bytes.
fn target_input(r: &Recording) -> Vec<u8> {
    let mut v = vec![r.flags];
    v.extend_from_slice(&r.received);
    v
}

/// Checks the live connection (see [`expect`]), replays the recording through the target and
/// writes it if it gets exactly as far as the live connection: the handshake, then the same
/// number of application data bytes.
fn save(
    target: &str,
    dir: &Path,
    name: &str,
    resumed: Option<bool>,
    r: &Recording,
) -> Result<(), Error> {
    expect(r, resumed, &format!("{target}/{name}"))?;
    let input = target_input(r);
    let got = entries::run(target, &input).ok_or("no such target")?;
    let live = 1 + r.data;
    if got != live {
        return Err(
            format!("{target}/{name}: the replay got {got}, the live connection {live}").into(),
        );
    }
    write(dir, name, &input)
}

fn save_server(dir: &Path, name: &str, resumed: Option<bool>, r: &Recording) -> Result<(), Error> {
    save("server", dir, name, resumed, r)
}

fn save_client(dir: &Path, name: &str, resumed: Option<bool>, r: &Recording) -> Result<(), Error> {
    save("client", dir, name, resumed, r)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<(), Error> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), data)?;
    println!("{} ({} bytes)", dir.join(name).display(), data.len());
    Ok(())
}

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/keys")
}

fn path_str(p: &Path) -> Result<String, Error> {
    Ok(p.to_str().ok_or("a path that is not UTF-8")?.to_owned())
}

// ---------------------------------------------------------------------------------------------
// The transport: a TCP stream that keeps a copy of what it reads.

struct Recorder {
    tcp: TcpStream,
    read: Arc<Mutex<Vec<u8>>>,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.tcp.read(buf)?;
        self.read
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

fn recorder(tcp: TcpStream) -> std::io::Result<(Recorder, Arc<Mutex<Vec<u8>>>)> {
    tcp.set_read_timeout(Some(STEP))?;
    tcp.set_write_timeout(Some(STEP))?;
    let read = Arc::new(Mutex::new(Vec::new()));
    Ok((
        Recorder {
            tcp,
            read: read.clone(),
        },
        read,
    ))
}

/// After the handshake our side does what the fuzz targets do (`entries::echo`): send back what
/// it reads until the peer closes or the connection fails, then close. Each read is reported.
fn echo<T: Read + Write>(stream: &mut TlsStream<T>, reads: &mpsc::Sender<usize>) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    while let Ok(n) = stream.read_data(&mut buf) {
        if n == 0 {
            let _ = stream.close();
            break;
        }
        total += n;
        let _ = reads.send(n);
        if stream.write_data(&buf[..n]).is_err() {
            break;
        }
    }
    total
}

/// An OpenSSL process, killed if still running when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Waits (at most [`STEP`]) for the process to exit by itself.
    fn wait(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            if self.0.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("openssl did not exit".into())
    }
}

fn send(stdin: &mut Option<ChildStdin>, text: &str) -> Result<(), Error> {
    stdin
        .as_mut()
        .ok_or("stdin already closed")?
        .write_all(text.as_bytes())?;
    Ok(())
}

fn next<T>(rx: &Receiver<T>, what: &str) -> Result<T, Error> {
    rx.recv_timeout(STEP)
        .map_err(|_| format!("timed out waiting for {what}").into())
}

// ---------------------------------------------------------------------------------------------
// OpenSSL as the client.

/// What `s_client` is made to do after the handshake.
enum Client {
    /// Send "ping\n", then (stdin closed) close_notify.
    Ping,
    /// Send "ping\n", then ask for a renegotiation (its ClientHello goes out under the current
    /// keys, with our Finished in renegotiation_info) and send "ping\n" again.
    Renegotiate,
}

/// Runs `openssl s_client` (plus `args`) against a live server configured as the server
/// target is for `flags`.
fn s_client(flags: u8, args: &[&[&str]], what: Client) -> Result<Recording, Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (reads_tx, reads) = mpsc::channel();
    let server: JoinHandle<Result<Recording, String>> = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        let (io, read) = recorder(tcp).map_err(|e| e.to_string())?;
        let config = Arc::new(entries::server_config_for_flags(flags));
        let (resumed, data) = match TlsStream::accept(io, config) {
            Ok(mut s) => (Some(s.resumed()), echo(&mut s, &reads_tx)),
            Err(_) => (None, 0),
        };
        Recording::finish(flags, &read, resumed, data)
    });

    let mut child = Guard(
        Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(args.concat())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let mut stdin = child.0.stdin.take();
    // s_client reads its standard input only once the handshake is done.
    send(&mut stdin, "ping\n")?;
    next(&reads, "the first ping")?;
    if let Client::Renegotiate = what {
        send(&mut stdin, "R\n")?;
        send(&mut stdin, "ping\n")?;
        // The renegotiation fails one way or another (we refuse it); give it the time to.
        let _ = reads.recv_timeout(Duration::from_secs(1));
    }
    drop(stdin);
    child.wait()?;
    server
        .join()
        .map_err(|_| "server thread panicked")?
        .map_err(Into::into)
}

/// A session file for `s_client -sess_in` that holds the fuzz targets' fixed session: the one
/// OpenSSL saved (`-sess_out`) after a full handshake under TLS_RSA_WITH_AES_128_GCM_SHA256, with
/// its session ID and master secret replaced by [`FIXED_SESSION_ID`] and [`FIXED_MASTER_SECRET`].
/// The file is OpenSSL's SSL_SESSION_ASN1 (ssl/ssl_asn1.c): a SEQUENCE of version, ssl_version,
/// cipher, session_id, master_key, ...; both replacements have the same lengths as the originals.
fn fixed_session_file(saved: &str) -> Result<String, Error> {
    let blocks = pem::parse_blocks(saved)?;
    let block = blocks.first().ok_or("empty session file")?;
    let Value::Constructed(tag, mut fields) = Value::from_der(&block.der)? else {
        return Err("session file: not a SEQUENCE".into());
    };
    match fields.get(2) {
        Some(Value::Primitive(_, cipher)) if cipher[..] == [0x00, 0x9c] => {}
        _ => return Err("session file: not an AES128-GCM-SHA256 session".into()),
    }
    for (i, value) in [(3, &FIXED_SESSION_ID[..]), (4, &FIXED_MASTER_SECRET[..])] {
        match fields.get_mut(i) {
            Some(Value::Primitive(_, bytes)) if bytes.len() == value.len() => {
                *bytes = value.to_vec()
            }
            _ => return Err(format!("session file: field {i} is not as expected").into()),
        }
    }
    let mut w = der_write::Writer::new();
    w.value(&Value::Constructed(tag, fields));
    Ok(pem::encode(&block.label, &w.into_bytes()))
}

// ---------------------------------------------------------------------------------------------
// OpenSSL as the server.

/// What `s_server` is made to do after the handshake.
enum Server {
    /// Send "pong\n", then (stdin closed) close_notify.
    Pong,
    /// Send "pong\n", then a HelloRequest: a renegotiation we refuse.
    HelloRequest,
}

/// Runs `openssl s_server` with the fixed server key and certificate (plus `args`) and a
/// live client configured as the client target is for `flags`.
fn s_server(flags: u8, args: &[&str], what: Server) -> Result<Recording, Error> {
    // A free port: s_server cannot report the one it picked, and a probe connection would use up
    // its single accept.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let keys = keys_dir();
    let mut child = Guard(
        Command::new("openssl")
            .args(["s_server", "-naccept", "1", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(keys.join("server.pem"))
            .arg("-key")
            .arg(keys.join("server_key.pem"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let mut stdin = child.0.stdin.take();
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |want: &str| -> Result<(), Error> {
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            if next(&lines, want)?.contains(want) {
                return Ok(());
            }
        }
        Err(format!("s_server never printed {want}").into())
    };
    wait_for("ACCEPT")?;

    let (reads_tx, reads) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let client: JoinHandle<Result<Recording, String>> = std::thread::spawn(move || {
        let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let (io, read) = recorder(tcp).map_err(|e| e.to_string())?;
        let config = Arc::new(entries::client_config_for_flags(flags));
        let (resumed, data) = match TlsStream::connect(io, config, HANDSHAKE_HOST, HANDSHAKE_PORT) {
            Ok(mut s) => {
                let _ = done_tx.send(());
                (Some(s.resumed()), echo(&mut s, &reads_tx))
            }
            Err(_) => (None, 0),
        };
        Recording::finish(flags, &read, resumed, data)
    });
    next(&done, "the client handshake")?;
    send(&mut stdin, "pong\n")?;
    next(&reads, "pong")?;
    // s_server prints what it reads: our echo.
    wait_for("pong")?;
    if let Server::HelloRequest = what {
        send(&mut stdin, "r\n")?;
        // Our no_renegotiation warning (or our close) ends it; give it the time to.
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(stdin);
    child.wait()?;
    client
        .join()
        .map_err(|_| "client thread panicked")?
        .map_err(Into::into)
}

// ---------------------------------------------------------------------------------------------
// Messages and records for the other targets.

/// A record target input: no flags but `flags`, the whole stream in one read.
fn record_input(flags: u8, stream: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, 0, 0, 0, 0];
    v.extend_from_slice(stream);
    v
}

/// The plaintext handshake records at the start of a stream (up to the first other record) and
/// the handshake messages they carry.
struct Flight {
    records: Vec<u8>,
    messages: Vec<u8>,
}

fn first_flight(stream: &[u8]) -> Result<Flight, Error> {
    let mut flight = Flight {
        records: Vec::new(),
        messages: Vec::new(),
    };
    let mut rest = stream;
    while rest.len() >= 5 && rest[0] == 22 {
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        let record = rest.get(..5 + len).ok_or("truncated record")?;
        flight.records.extend_from_slice(record);
        flight.messages.extend_from_slice(&record[5..]);
        rest = &rest[5 + len..];
    }
    if flight.messages.is_empty() {
        return Err("no handshake records".into());
    }
    Ok(flight)
}
