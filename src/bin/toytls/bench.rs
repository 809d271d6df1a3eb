//! `toytls bench-client`: load a TLS echo server (`toytls server --echo`) with N concurrent
//! connections for S seconds and report handshakes per second, handshake latency percentiles
//! and application data throughput.
//!
//! Each worker connects, runs the handshake (full, or with `--resume` abbreviated after the first
//! one, all workers sharing one session), sends `--bytes` bytes, reads them back and checks them,
//! closes with close_notify, and starts over until the time is up. Latency is measured from the
//! TCP connect to the end of the handshake, which must come within `--handshake-timeout` seconds
//! (a connection that misses it is an error, like any other failure). A progress line on stderr
//! shows the running totals.

use clap::Args;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toytls::config::ClientConfig;
use toytls::handshake::session::ClientSessionStore;
use toytls::stream::TlsStream;

#[derive(Args)]
pub struct BenchArgs {
    /// The server's address, e.g. 127.0.0.1:8443 (run `toytls server --echo` there).
    addr: String,
    /// The CA certificate(s) to trust (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// The name the certificate must carry (default: the host part of ADDR).
    #[arg(long)]
    server_name: Option<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,
    /// Seconds to run.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Resume one shared session (abbreviated handshakes) instead of full handshakes.
    #[arg(long)]
    resume: bool,
    /// Application data bytes each connection sends and reads back.
    #[arg(long, default_value_t = 16384)]
    bytes: usize,
    /// Seconds the server has to complete each handshake (the TCP connect has as long again);
    /// a connection that misses it counts as an error.
    #[arg(long, default_value_t = 30.0, value_parser = crate::server::positive_seconds)]
    handshake_timeout: f64,
}

/// Running totals shared by the workers.
#[derive(Default)]
struct Totals {
    handshakes: AtomicU64,
    resumed: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    first_error: Mutex<Option<String>>,
}

pub fn run(args: BenchArgs) -> ExitCode {
    match bench(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("toytls bench-client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: BenchArgs) -> Result<bool, String> {
    if !(args.duration > 0.0 && args.duration <= 86_400.0) {
        return Err(format!("--duration {} is not in (0, 86400]", args.duration));
    }
    let pem = std::fs::read_to_string(&args.ca)
        .map_err(|e| format!("cannot read {}: {e}", args.ca.display()))?;
    let anchors = toytls::x509::pem::parse_certificates(&pem)
        .map_err(|e| format!("{}: {e}", args.ca.display()))?;
    let mut config = ClientConfig::new(anchors);
    if !args.resume {
        // No session store: every connection runs the full handshake.
        config.sessions = ClientSessionStore::new(0);
    }
    config.handshake_timeout = Duration::from_secs_f64(args.handshake_timeout);
    let config = Arc::new(config);
    let addr: SocketAddr = args
        .addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", args.addr))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", args.addr))?;
    let name = args.server_name.clone().unwrap_or_else(|| {
        args.addr
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(['[', ']']).to_string())
            .unwrap_or_else(|| args.addr.clone())
    });
    let payload: Arc<Vec<u8>> = Arc::new((0..args.bytes).map(|i| (i * 31 + 7) as u8).collect());

    let totals = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let duration = Duration::from_secs_f64(args.duration);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (config, totals, stop, payload, name) = (
                config.clone(),
                totals.clone(),
                stop.clone(),
                payload.clone(),
                name.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match one_connection(addr, &config, &name, &payload) {
                        Ok((latency, resumed)) => {
                            totals.handshakes.fetch_add(1, Ordering::Relaxed);
                            totals.resumed.fetch_add(resumed as u64, Ordering::Relaxed);
                            totals
                                .bytes
                                .fetch_add(2 * payload.len() as u64, Ordering::Relaxed);
                            totals
                                .latencies_us
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(latency.as_micros() as u64);
                        }
                        Err(e) => {
                            totals.errors.fetch_add(1, Ordering::Relaxed);
                            let mut first =
                                totals.first_error.lock().unwrap_or_else(|e| e.into_inner());
                            first.get_or_insert(e);
                            drop(first);
                            // Do not spin on a server that refuses us.
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                }
            })
        })
        .collect();

    // Progress once a second until the time is up.
    while start.elapsed() < duration {
        std::thread::sleep(Duration::from_secs(1).min(duration.saturating_sub(start.elapsed())));
        let t = start.elapsed().as_secs_f64();
        let h = totals.handshakes.load(Ordering::Relaxed);
        eprint!(
            "\r[{t:5.1}s] {h} handshakes, {:.0}/s, {} errors   ",
            h as f64 / t,
            totals.errors.load(Ordering::Relaxed)
        );
    }
    eprintln!();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    report(&args, &totals, elapsed);
    Ok(totals.errors.load(Ordering::Relaxed) == 0 && totals.handshakes.load(Ordering::Relaxed) > 0)
}

/// One connection: handshake (timed), echo of `payload` checked, close_notify both ways.
fn one_connection(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &str,
    payload: &[u8],
) -> Result<(Duration, bool), String> {
    let t0 = Instant::now();
    let tcp = TcpStream::connect_timeout(&addr, config.handshake_timeout)
        .map_err(|e| format!("connect: {e}"))?;
    // The handshake within config.handshake_timeout, then reads and writes within io_timeout.
    let mut tls = TlsStream::connect_timed(tcp, config.clone(), name, addr.port())
        .map_err(|e| format!("handshake: {e}"))?;
    let latency = t0.elapsed();
    let resumed = tls.resumed();
    // In pieces of 64 KiB, each read back before the next is sent: writing everything first
    // could fill both socket buffers and leave client and server each waiting for the other.
    let mut back = vec![0u8; payload.len().min(1 << 16)];
    for piece in payload.chunks(1 << 16) {
        tls.write_all(piece).map_err(|e| format!("write: {e}"))?;
        let back = &mut back[..piece.len()];
        tls.read_exact(back).map_err(|e| format!("read: {e}"))?;
        if back != piece {
            return Err("the echo differs from what was sent".into());
        }
    }
    tls.close().map_err(|e| format!("close: {e}"))?;
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest)
        .map_err(|e| format!("waiting for close_notify: {e}"))?;
    Ok((latency, resumed))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn report(args: &BenchArgs, totals: &Totals, elapsed: f64) {
    let h = totals.handshakes.load(Ordering::Relaxed);
    let mut lat = totals
        .latencies_us
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    lat.sort_unstable();
    println!(
        "{} connections for {elapsed:.1} s, {} handshakes",
        args.connections,
        if args.resume { "resumed" } else { "full" }
    );
    println!(
        "handshakes: {h} ({} resumed), {:.1} handshakes per second",
        totals.resumed.load(Ordering::Relaxed),
        h as f64 / elapsed
    );
    println!(
        "handshake latency (connect to Finished): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        lat.last().map_or(0.0, |&m| m as f64 / 1000.0)
    );
    let bytes = totals.bytes.load(Ordering::Relaxed);
    println!(
        "throughput: {:.2} MB/s of application data ({bytes} bytes sent and echoed back)",
        bytes as f64 / elapsed / 1e6
    );
    let errors = totals.errors.load(Ordering::Relaxed);
    match totals
        .first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        Some(e) => println!("errors: {errors} (first: {e})"),
        None => println!("errors: 0"),
    }
}
