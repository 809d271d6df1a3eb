//! `toytls client`: sends stdin, prints what comes back, until the server's close_notify.
//!
//! When stdin ends the client sends close_notify and keeps reading until the server's; it then
//! exits 0. A handshake or record failure prints the reason to stderr and exits 1, and so does a
//! server that does not finish the handshake within `--handshake-timeout` seconds or stalls a read
//! or write for `--io-timeout` seconds after it.
//! `--reconnect N` then connects N more times, resuming the session (from the server's session
//! ticket if it gave one, else by session ID; `--no-tickets` offers none), and reports each time.
//! `--alpn h2,http/1.1` offers application protocols (RFC 7301); the one the server chose is
//! reported on stderr after the handshake.

use crate::html::HtmlRecorder;
use crate::pcap::Transport;
use crate::render::StderrTrace;
use clap::Args;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Duration;
use toytls::capture::{Opener, Recorded};
use toytls::config::ClientConfig;
use toytls::stream::TlsStream;

#[derive(Args)]
pub struct ClientArgs {
    /// The server's address, e.g. 127.0.0.1:8443 or localhost:8443.
    addr: String,
    /// The CA certificate(s) to trust (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Our certificate chain (PEM, ours first), sent when the server asks for one (RFC 5246
    /// 7.4.6); needs --key. Without it a request is answered with an empty Certificate.
    #[arg(long, requires = "key", value_name = "FILE")]
    cert: Option<PathBuf>,
    /// The private key of --cert (PEM, PKCS#8 or PKCS#1), which signs the CertificateVerify.
    #[arg(long, requires = "cert", value_name = "FILE")]
    key: Option<PathBuf>,
    /// The name the certificate must carry (default: the host part of ADDR).
    #[arg(long)]
    server_name: Option<String>,
    #[command(flatten)]
    peer: crate::render::PeerArgs,
    /// Do not offer the extended master secret (RFC 7627): the master secret is then derived from
    /// the randoms alone, as in plain RFC 5246, and is not bound to the handshake. For testing
    /// legacy peers.
    #[arg(long, conflicts_with = "require_ems")]
    no_ems: bool,
    /// Refuse (handshake_failure) a server that does not answer the extended master secret.
    #[arg(long)]
    require_ems: bool,
    /// After the first connection, connect N more times resuming the session.
    #[arg(long, default_value_t = 0)]
    reconnect: u32,
    /// Do not offer session tickets (RFC 5077): resume by session ID only.
    #[arg(long)]
    no_tickets: bool,
    /// Application protocols to offer with ALPN (RFC 7301), most preferred first,
    /// comma-separated, e.g. `h2,http/1.1`.
    #[arg(long, value_name = "LIST", value_parser = parse_alpn_list)]
    alpn: Option<AlpnList>,
    /// Seconds the server has to complete the handshake (the TCP connect has as long again);
    /// a server that stays silent or trickles bytes is given up on then.
    #[arg(long, default_value_t = 30.0, value_parser = crate::server::positive_seconds)]
    handshake_timeout: f64,
    /// Seconds any read or write may wait after the handshake.
    #[arg(long, default_value_t = 30.0, value_parser = crate::server::positive_seconds)]
    io_timeout: f64,
    #[command(flatten)]
    pcap: crate::pcap::PcapArg,
    #[command(flatten)]
    html: crate::html::HtmlArg,
}

pub fn run(args: ClientArgs) -> ExitCode {
    let html = args.html.recorder();
    let addr = args.addr.clone();
    let about = format!(
        "Made by `toytls client {}`: the client's view of each connection.",
        args.addr
    );
    let result = client(args, html.as_ref());
    // The page is written even when a connection failed: it shows how far it got.
    let page = html.map(|h| {
        h.connection_done_if_any(&addr);
        h.write("A TLS 1.2 connection, byte by byte", about)
    });
    match (result, page) {
        (Ok(()), None | Some(Ok(_))) => ExitCode::SUCCESS,
        (Err(e), _) | (Ok(()), Some(Err(e))) => {
            eprintln!("toytls client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client(args: ClientArgs, html: Option<&Arc<HtmlRecorder>>) -> Result<(), String> {
    let pem = std::fs::read_to_string(&args.ca)
        .map_err(|e| format!("cannot read {}: {e}", args.ca.display()))?;
    let anchors = toytls::x509::pem::parse_certificates(&pem)
        .map_err(|e| format!("{}: {e}", args.ca.display()))?;
    let mut config = ClientConfig::new(anchors);
    if args.peer.trace {
        config.trace = Some(Arc::new(StderrTrace::new()));
    }
    config.suites = crate::render::parse_suite_list(&args.peer.suites)?;
    config.keylog = crate::render::key_log(args.peer.keylog.as_deref())?;
    config.handshake_timeout = Duration::from_secs_f64(args.handshake_timeout);
    config.io_timeout = Duration::from_secs_f64(args.io_timeout);
    config.extended_master_secret = crate::render::ems_mode(args.no_ems, args.require_ems);
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let (chain, key) = crate::server::load_chain_and_key(cert, key)?;
        config.client_certificate = Some(Arc::new(
            toytls::config::ClientCertificate::new(chain, key).map_err(|e| e.to_string())?,
        ));
    }
    config.session_tickets = !args.no_tickets;
    if let Some(AlpnList(list)) = &args.alpn {
        config.alpn_protocols = list.clone();
    }
    let pcap = args.pcap.open(&mut config.keylog)?;
    if let Some(h) = html {
        config.trace = Some(h.sink(config.trace.take()));
    }
    let config = Arc::new(config);
    let host = args
        .addr
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|| args.addr.clone());
    let name = args.server_name.clone().unwrap_or(host);

    let mut tls = connect(&args.addr, &config, &name, pcap.as_ref())?;
    if args.alpn.is_some() {
        eprintln!("ALPN: {}", alpn_report(tls.alpn_protocol()));
    }
    let stdin = spawn_stdin_reader();
    pump(&mut tls, stdin).map_err(|e| e.to_string())?;
    if let Some(h) = html {
        h.connection_done(args.addr.clone());
    }

    for i in 1..=args.reconnect {
        let mut tls = connect(&args.addr, &config, &name, pcap.as_ref())?;
        eprintln!(
            "reconnect {i}: {}, extended master secret: {}, ticket: {}{}",
            if tls.resumed() {
                "resumed"
            } else {
                "full handshake (not resumed)"
            },
            crate::render::yes_no(tls.extended_master_secret()),
            crate::render::yes_no(tls.resumed_with_ticket()),
            match (&args.alpn, tls.alpn_protocol()) {
                (None, _) => String::new(),
                (Some(_), p) => format!(", ALPN: {}", alpn_report(p)),
            }
        );
        tls.close().map_err(|e| e.to_string())?;
        let mut sink = Vec::new();
        tls.read_to_end(&mut sink).map_err(|e| e.to_string())?;
        if let Some(h) = html {
            h.connection_done(args.addr.clone());
        }
    }
    crate::pcap::check(pcap.as_ref())
}

/// A list of ALPN protocol names, checked (RFC 7301 3.1: 1 to 255 bytes each).
#[derive(Clone)]
pub struct AlpnList(pub Vec<Vec<u8>>);

/// Parses `--alpn h2,http/1.1`.
pub fn parse_alpn_list(s: &str) -> Result<AlpnList, String> {
    let list: Vec<Vec<u8>> = s.split(',').map(|p| p.as_bytes().to_vec()).collect();
    toytls::wire::messages::extensions::check_alpn_protocols(&list)?;
    Ok(AlpnList(list))
}

/// The negotiated protocol as the CLI reports it.
pub fn alpn_report(p: Option<&[u8]>) -> String {
    match p {
        Some(p) => String::from_utf8_lossy(p).into_owned(),
        None => "none (the server chose no protocol)".into(),
    }
}

fn connect(
    addr: &str,
    config: &Arc<ClientConfig>,
    name: &str,
    pcap: Option<&toytls::capture::Capture>,
) -> Result<TlsStream<Transport>, String> {
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))?;
    let tcp = TcpStream::connect_timeout(&sock, config.handshake_timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let record = |io| Recorded::maybe(pcap, io, Opener::Us);
    TlsStream::connect_timed_with(tcp, record, config.clone(), name, sock.port())
        .map_err(|e| format!("handshake with {addr} failed: {e}"))
}

/// Reads stdin on its own thread; `None` marks its end.
fn spawn_stdin_reader() -> Receiver<Option<Vec<u8>>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 1 << 14];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// How much the client gathers from the connection before one write to stdout.
const OUTPUT_BLOCK: usize = 1 << 18;

/// Moves stdin to the connection and the connection to stdout until the server's close_notify.
/// std has no `select`, so while stdin is open it polls the socket for readability between
/// stdin chunks; once stdin has ended it simply waits on the connection. What arrives is
/// written to stdout in blocks of up to [`OUTPUT_BLOCK`] bytes: every record already received
/// goes into the block before the one write, so a bulk download costs one write system call per
/// block instead of one (and a flush) per record.
fn pump(tls: &mut TlsStream<Transport>, stdin: Receiver<Option<Vec<u8>>>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let mut stdin_open = true;
    let mut buf = vec![0u8; OUTPUT_BLOCK];
    loop {
        let mut idle = true;
        while stdin_open {
            match stdin.try_recv() {
                Ok(Some(chunk)) => {
                    tls.write_all(&chunk)?;
                    idle = false;
                }
                Ok(None) | Err(TryRecvError::Disconnected) => {
                    tls.close()?;
                    stdin_open = false;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        if !stdin_open || tls.buffered() || readable(tls.get_ref().tcp())? {
            // One read may wait (that is what `readable` said, or stdin has ended); the rest
            // only take what has already arrived.
            let mut len = tls.read(&mut buf)?;
            let mut ended = len == 0;
            while !ended && len < buf.len() && tls.buffered() {
                let n = tls.read(&mut buf[len..])?;
                ended = n == 0;
                len += n;
            }
            stdout.write_all(&buf[..len])?;
            if ended {
                // The server's close_notify: answer it if stdin is still open, then stop.
                if stdin_open {
                    tls.close()?;
                }
                stdout.flush()?;
                return Ok(());
            }
            if !tls.buffered() {
                stdout.flush()?;
            }
            idle = false;
        }
        if idle {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// True if a read would not block (data or EOF waiting).
fn readable(tcp: &TcpStream) -> std::io::Result<bool> {
    tcp.set_nonblocking(true)?;
    let r = tcp.peek(&mut [0u8; 1]);
    tcp.set_nonblocking(false)?;
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}
