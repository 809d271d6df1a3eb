//! `toytls server`: serves TLS on a TCP address until stopped.
//!
//! Connections are served by [`toytls::net::serve`]: one thread each, at most
//! `--max-connections` at once (more wait to be accepted, or with `--when-full refuse` get a
//! fatal alert), a handshake deadline, read/write timeouts, an idle timeout and a maximum lifetime, so an idle or
//! trickling peer holds one slot until its deadline and no more. Each failed or refused
//! connection is one line on stderr; the server keeps serving. `--echo` (the default) echoes
//! application data; `--http` answers one HTTP/1.x request with a page describing the
//! connection, or with N bytes for `GET /bytes/N` ([`http`]), and speaks `http/1.1` with ALPN
//! unless `--alpn` says otherwise. Session tickets (RFC 5077) are issued unless `--no-tickets`.

mod http;

use crate::html::Watched;

/// A served connection's transport: recorded for --pcap, watched for --html, when asked.
type Served = Watched<crate::pcap::Transport>;

use crate::render::StderrTrace;
use clap::Args;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use toytls::capture::{Opener, Recorded};
use toytls::config::{ClientAuth, ServerConfig};
use toytls::net::serve::{ServerLimits, WhenFull};
use toytls::net::timed::TimedStream;
use toytls::stream::TlsStream;

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
    /// Ask clients for a certificate issued by one of the CAs in FILE (PEM), and verify the one
    /// they send (RFC 5246 7.4.4); a client that sends none is served anonymously unless
    /// --require-client-cert.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Refuse (handshake_failure) a client that sends no certificate; needs --client-ca.
    #[arg(long, requires = "client_ca")]
    require_client_cert: bool,
    /// Echo application data back (the default).
    #[arg(long, conflicts_with = "http")]
    echo: bool,
    /// Answer HTTP/1.x requests with a page describing the connection.
    #[arg(long)]
    http: bool,
    #[command(flatten)]
    peer: crate::render::PeerArgs,
    /// Do not answer the extended master secret (RFC 7627), as a server older than it would: the
    /// master secret is then derived from the randoms alone and is not bound to the handshake.
    /// For testing legacy peers.
    #[arg(long, conflicts_with = "require_ems")]
    no_ems: bool,
    /// Refuse (handshake_failure) a client that does not offer the extended master secret.
    #[arg(long)]
    require_ems: bool,
    /// Issue no session tickets (RFC 5077) and ignore the ones presented: resume by session ID
    /// only.
    #[arg(long)]
    no_tickets: bool,
    /// Application protocols spoken (ALPN, RFC 7301), in order of preference, comma-separated;
    /// a client offering only others gets no_application_protocol. Default with --http:
    /// `http/1.1`; otherwise none (ALPN offers are ignored).
    #[arg(long, value_name = "LIST", value_parser = crate::client::parse_alpn_list)]
    alpn: Option<crate::client::AlpnList>,
    /// Connections served at once; what happens to more is --when-full. Default: as many as
    /// this machine can hold (the open-file limit less 32, bounded by threads and memory).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// When --max-connections are being served, new clients `wait` to be accepted until one
    /// ends, or are `refuse`d: sent a fatal internal_error alert and closed, one log line each.
    #[arg(long, default_value = "wait", value_parser = ["wait", "refuse"])]
    when_full: String,
    /// Seconds a client has from connecting to the end of its handshake.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    handshake_timeout: f64,
    /// Seconds any read or write may wait after the handshake.
    #[arg(long, default_value_t = 30.0, value_parser = positive_seconds)]
    io_timeout: f64,
    /// Seconds a connection may go without application data, either way, after the handshake
    /// (empty records and alerts do not count): then it is closed.
    #[arg(long, default_value_t = 120.0, value_parser = positive_seconds)]
    idle_timeout: f64,
    /// Seconds a connection may last from its accept, however busy: then it is closed.
    #[arg(long, default_value_t = 3600.0, value_parser = positive_seconds)]
    max_lifetime: f64,
    #[command(flatten)]
    pcap: crate::pcap::PcapArg,
    #[command(flatten)]
    html: crate::html::ServerHtmlArg,
}

pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 86400]")),
    }
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

pub fn load_config(cert: &Path, key: &Path) -> Result<ServerConfig, String> {
    let (chain, mut key) = load_chain_and_key(cert, key)?;
    // Serving one client at a time, the server would leave the other cores idle during the
    // RSA decryption that is most of a full handshake; let it use one (src/crypto/rsa/split.rs).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    key.split_across_cores(cores > 1);
    ServerConfig::from_certificates(&chain, key).map_err(|e| e.to_string())
}

/// A certificate chain and a private key from PEM files (a server's, or a client's).
pub fn load_chain_and_key(
    cert: &Path,
    key: &Path,
) -> Result<
    (
        Vec<toytls::x509::Certificate>,
        toytls::crypto::rsa::RsaPrivateKey,
    ),
    String,
> {
    let chain = load_certificates(cert)?;
    let key = toytls::x509::pem::parse_private_key(&zeroize::Zeroizing::new(read_file(key)?))
        .map_err(|e| format!("{}: {e}", key.display()))?;
    Ok((chain, key))
}

fn read_file(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

fn load_certificates(p: &Path) -> Result<Vec<toytls::x509::Certificate>, String> {
    toytls::x509::pem::parse_certificates(&read_file(p)?)
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn serve(args: ServerArgs) -> Result<(), String> {
    let mut config = load_config(&args.cert, &args.key)?;
    if args.peer.trace {
        config.trace = Some(Arc::new(StderrTrace::new()));
    }
    let pages = args.html.recorder(format!(
        "Made by `toytls server --listen {}{}`: the server's view of the first connections it \
         served (up to {}).",
        args.listen,
        if args.http { " --http" } else { "" },
        args.html.html_connections
    ));
    if let Some(p) = &pages {
        let sink: Arc<dyn toytls::trace::TraceSink> = p.clone();
        config.trace = crate::html::tee(config.trace.take(), Some(sink));
    }
    config.suites = crate::render::parse_suite_list(&args.peer.suites)?;
    config.keylog = crate::render::key_log(args.peer.keylog.as_deref())?;
    config.extended_master_secret = crate::render::ems_mode(args.no_ems, args.require_ems);
    if let Some(ca) = &args.client_ca {
        let trust_anchors = load_certificates(ca)?;
        config.client_auth = if args.require_client_cert {
            ClientAuth::Required { trust_anchors }
        } else {
            ClientAuth::Optional { trust_anchors }
        };
    }
    if args.no_tickets {
        config.tickets = None;
    }
    config.alpn_protocols = match (&args.alpn, args.http) {
        (Some(crate::client::AlpnList(list)), _) => list.clone(),
        (None, true) => vec![b"http/1.1".to_vec()],
        (None, false) => Vec::new(),
    };
    let pcap = args.pcap.open(&mut config.keylog)?;
    let config = Arc::new(config);
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("toytls server listening on {addr}");
    let limits = ServerLimits {
        max_connections: args
            .max_connections
            .map_or_else(toytls::net::capacity::max_connections, |n| n as usize),
        when_full: if args.when_full == "refuse" {
            WhenFull::Refuse
        } else {
            WhenFull::Wait
        },
        handshake_timeout: Duration::from_secs_f64(args.handshake_timeout),
        io_timeout: Duration::from_secs_f64(args.io_timeout),
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        max_lifetime: Duration::from_secs_f64(args.max_lifetime),
    };
    let http = args.http;
    let handler = move |tls: &mut TlsStream<Served>| {
        if http {
            http::serve(tls)
        } else {
            toytls::net::serve::echo(tls)
        }
    };
    // One line per failed connection; the server goes on. The line goes out in one write
    // (`eprintln!` writes the text and the newline in two: stderr is not buffered).
    let record = move |io: TimedStream| {
        // The peer's address only for a page (getpeername is a system call per connection).
        let peer = pages.as_ref().map(|_| {
            io.tcp()
                .peer_addr()
                .map_or("a client".into(), |a| a.to_string())
        });
        let io = Recorded::maybe(pcap.as_ref(), io, Opener::Peer)?;
        Ok(match (&pages, peer) {
            (Some(p), Some(peer)) => p.watch(io, peer),
            _ => Watched::unwatched(io),
        })
    };
    toytls::net::serve::serve_with(listener, config, limits, record, handler, |line| {
        use std::io::Write;
        let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
    })
    .map_err(|e| format!("accepting connections failed: {e}"))
}
