//! `toytls server`: serves TLS on a TCP address until stopped.
//!
//! One thread per connection, at most `MAX_CONNECTIONS` at once (more are refused by closing
//! them), with read and write timeouts so an idle peer cannot hold a slot forever. `--echo` (the
//! default) echoes application data; `--http` answers HTTP/1.x requests with a page describing the
//! connection, or with N bytes for `GET /bytes/N`.

use crate::render::StderrTrace;
use clap::Args;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use toytls::config::ServerConfig;
use toytls::stream::TlsStream;
use toytls::suites::suite_name;

/// Connections served at once; more are closed right away.
const MAX_CONNECTIONS: usize = 64;
/// Read and write timeout of every connection.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest `GET /bytes/N` answered.
const MAX_BYTES: u64 = 1 << 30;

#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443.
    #[arg(long)]
    listen: String,
    /// The certificate chain (PEM), server certificate first.
    #[arg(long)]
    cert: PathBuf,
    /// The server's private key (PEM, PKCS#8 or PKCS#1).
    #[arg(long)]
    key: PathBuf,
    /// Echo application data back (the default).
    #[arg(long, conflicts_with = "http")]
    echo: bool,
    /// Answer HTTP/1.x requests with a page describing the connection.
    #[arg(long)]
    http: bool,
    /// Print every trace event (messages, secrets, records) to stderr.
    #[arg(long)]
    trace: bool,
    /// Cipher suites in order of preference, comma-separated: `toy` (our
    /// TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256) and `gcm` (TLS_RSA_WITH_AES_128_GCM_SHA256).
    #[arg(long, default_value = "toy,gcm")]
    suites: String,
}

pub fn run(args: ServerArgs) -> ExitCode {
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("toytls server: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn load_config(cert: &PathBuf, key: &PathBuf) -> Result<ServerConfig, String> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let chain = toytls::x509::pem::parse_certificates(&read(cert)?)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = toytls::x509::pem::parse_private_key(&read(key)?)
        .map_err(|e| format!("{}: {e}", key.display()))?;
    ServerConfig::from_certificates(&chain, key).map_err(|e| e.to_string())
}

fn serve(args: ServerArgs) -> Result<(), String> {
    let mut config = load_config(&args.cert, &args.key)?;
    if args.trace {
        config.trace = Some(Arc::new(StderrTrace::new()));
    }
    config.suites = toytls::suites::parse_suite_list(&args.suites)?;
    let config = Arc::new(config);
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("toytls server listening on {addr}");
    let active = Arc::new(AtomicUsize::new(0));
    for tcp in listener.incoming() {
        let Ok(tcp) = tcp else { continue };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            eprintln!("refusing a connection: {MAX_CONNECTIONS} already open");
            continue;
        }
        let config = config.clone();
        let active = active.clone();
        let http = args.http;
        std::thread::spawn(move || {
            let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = handle(tcp, config, http) {
                eprintln!("{peer}: {e}");
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

fn handle(tcp: TcpStream, config: Arc<ServerConfig>, http: bool) -> Result<(), String> {
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let mut tls = TlsStream::accept(tcp, config).map_err(|e| format!("handshake failed: {e}"))?;
    if http {
        serve_http(&mut tls).map_err(|e| e.to_string())
    } else {
        echo(&mut tls).map_err(|e| e.to_string())
    }
}

/// Echo until the client's close_notify, then answer with ours.
fn echo(tls: &mut TlsStream<TcpStream>) -> toytls::error::Result<()> {
    let mut buf = vec![0u8; 1 << 14];
    loop {
        let n = tls.read_data(&mut buf)?;
        if n == 0 {
            return tls.close();
        }
        tls.write_data(&buf[..n])?;
    }
}

/// One HTTP/1.x request, one answer, close_notify.
fn serve_http(tls: &mut TlsStream<TcpStream>) -> std::io::Result<()> {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf)?;
        if n == 0 || req.len() > 64 * 1024 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&req);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, body): (&str, Vec<u8>) = match path.strip_prefix("/bytes/").map(str::parse::<u64>) {
        Some(Ok(n)) if n <= MAX_BYTES => ("200 OK", (0..n).map(|i| b'a' + (i % 26) as u8).collect()),
        Some(_) => ("400 Bad Request", b"bad byte count\n".to_vec()),
        None => (
            "200 OK",
            format!(
                "Hello from toytls.\nprotocol: TLS 1.2\ncipher suite: {}\nresumed: {}\nsession id: {}\nserver name: {}\n",
                suite_name(tls.suite()),
                if tls.resumed() { "yes" } else { "no" },
                toytls::messages::hex(tls.session_id().as_slice()),
                tls.server_name().unwrap_or("(none)"),
            )
            .into_bytes(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes())?;
    tls.write_all(&body)?;
    tls.close()?;
    Ok(())
}
