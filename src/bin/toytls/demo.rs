//! `toytls demo`: one process, a CA, a server and a client, and the story of their connection.
//!
//! Everything is made in memory (a CA, a server certificate for `localhost`), the server listens on
//! a free port of 127.0.0.1, and the client connects twice: a full handshake, then a resumed one.
//! The server issues a session ticket (RFC 5077) after the full handshake, so the second
//! connection resumes from the ticket the client presents, statelessly; the story says what the
//! ticket holds and under which key, and that servers without tickets resume by session ID.
//! The narration is rendered from the library's trace events (`demo/story.rs`); the library itself
//! never prints.
//! With `--client-auth` the server also asks the client for a certificate (RFC 5246 7.4.4), and the
//! story tells the two extra messages and what they prove.

mod story;

use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::Read;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use story::Story;
use toytls::capture::{Opener, Recorded};
use toytls::clock::{Clock, FixedClock, SystemClock, UnixTime};
use toytls::config::{ClientAuth, ClientCertificate, ClientConfig, ServerConfig, seeded_rng};
use toytls::stream::TlsStream;
use toytls::wire::messages::CipherSuite;
use toytls::wire::messages::hex;
use toytls::x509::builder::{generate_ca, issue_client_cert, issue_server_cert};

#[derive(Args)]
pub struct DemoArgs {
    /// Print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Mutual TLS: the server asks for a client certificate, and the client proves who it is
    /// with its own certificate and a CertificateVerify signature (RFC 5246 7.4.4, 7.4.6, 7.4.8).
    #[arg(long)]
    client_auth: bool,
    #[command(flatten)]
    pcap: crate::pcap::PcapArg,
    #[command(flatten)]
    html: crate::html::HtmlArg,
    /// Make the run reproducible: the RNGs (CA, certificate, both peers) seeded with N and the
    /// clock fixed at 2026-01-01T00:00:00Z, so the same N gives the same bytes on the wire and
    /// the same --html page.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Cipher suites both peers offer, in order of preference: `toy` (our
    /// TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256) and `gcm` (TLS_RSA_WITH_AES_128_GCM_SHA256). `gcm`
    /// alone tells the standard suite's story: its key block and record layout.
    #[arg(long, default_value = "toy,gcm")]
    suites: String,
}

pub fn run(args: DemoArgs) -> ExitCode {
    let suites = match crate::render::parse_suite_list(&args.suites) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("toytls demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    match demo(&args, suites) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("toytls demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

const MESSAGE: &[u8] = b"Hello, server! Only you can read this.";

/// The fixed clock of a seeded run: 2026-01-01T00:00:00Z.
const SEEDED_NOW: UnixTime = UnixTime(1_767_225_600);

fn demo(args: &DemoArgs, suites: Vec<CipherSuite>) -> Result<(), String> {
    let (quiet, client_auth, pcap_arg) = (args.quiet, args.client_auth, &args.pcap);
    let started = Instant::now();
    let say = |s: &str| {
        if !quiet {
            println!("{s}");
        }
    };
    say("toytls demo: a TLS 1.2 connection, step by step.\n");
    say("0. Setting the stage: a certificate authority (CA) and a server certificate.");
    let mut rng: Box<dyn rand::CryptoRng> = match args.seed {
        Some(seed) => Box::new(StdRng::seed_from_u64(seed)),
        None => Box::new(rand::rng()),
    };
    let now = match args.seed {
        Some(_) => SEEDED_NOW,
        None => SystemClock.now(),
    };
    let (nb, na) = (UnixTime(now.0 - 3600), UnixTime(now.0 + 86400));
    let (ca, ca_key) =
        generate_ca(&mut *rng, "toytls demo CA", nb, na).map_err(|e| e.to_string())?;
    let (cert, key) = issue_server_cert(&mut *rng, &ca, &ca_key, &["localhost"], nb, na)
        .map_err(|e| e.to_string())?;
    say(&format!(
        "   The CA '{}' signs a certificate for 'localhost' holding the server's 2048-bit RSA public key.\n   The client trusts the CA, not the server: it will believe the certificate because the CA signed it.\n",
        ca.subject()
    ));

    let client_identity = if client_auth {
        let (client_cert, client_key) =
            issue_client_cert(&mut *rng, &ca, &ca_key, "demo client", nb, na)
                .map_err(|e| e.to_string())?;
        say(&format!(
            "   Mutual TLS: the same CA also signs '{}', a client certificate (extendedKeyUsage clientAuth)\n   holding the client's own RSA key. The server trusts the CA for clients too.\n",
            client_cert.subject()
        ));
        Some(
            ClientCertificate::new(vec![client_cert, ca.clone()], client_key)
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };

    let story = Arc::new(Story::new(quiet, client_auth));
    let decrypt_hint = crate::pcap::demo_key(pcap_arg, &key)?;
    let mut server_config = ServerConfig::from_certificates(std::slice::from_ref(&cert), key)
        .map_err(|e| e.to_string())?;
    server_config.trace = Some(story.clone());
    // Tickets on, as by default: the second connection resumes from the ticket (RFC 5077), and
    // the story says so (the session-ID path of RFC 5246 7.3 is told as the fallback).
    let pcap = pcap_arg.open(&mut server_config.keylog)?;
    server_config.suites = suites.clone();
    if client_identity.is_some() {
        server_config.client_auth = ClientAuth::Required {
            trust_anchors: vec![ca.clone()],
        };
    }
    let mut client_config = ClientConfig::new(vec![ca]);
    client_config.trace = Some(story.clone());
    client_config.suites = suites;
    client_config.client_certificate = client_identity.map(Arc::new);
    // The page is drawn from the client's events: the client sees every record and derives
    // every secret the server does.
    let html = args.html.recorder();
    if let Some(h) = &html {
        client_config.trace = Some(h.sink(client_config.trace.take()));
    }
    if let Some(seed) = args.seed {
        client_config.rng = seeded_rng(seed);
        client_config.clock = Arc::new(FixedClock(now));
        server_config.rng = seeded_rng(seed.wrapping_add(1));
        server_config.clock = Arc::new(FixedClock(now));
    }
    let (server_config, client_config) = (Arc::new(server_config), Arc::new(client_config));

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The server tells the client thread when its side of each handshake is over, so that the
    // narration prints every handshake line of both sides before the application data: the two
    // threads run at the same time and would otherwise interleave their lines by chance.
    let (handshake_done, server_finished_handshake) = std::sync::mpsc::channel::<()>();
    let recorder = pcap.clone();
    let server = std::thread::spawn(move || -> Result<(), String> {
        for _ in 0..2 {
            let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
            let tcp =
                Recorded::maybe(recorder.as_ref(), tcp, Opener::Peer).map_err(|e| e.to_string())?;
            let mut tls =
                TlsStream::accept(tcp, server_config.clone()).map_err(|e| e.to_string())?;
            let client_subject = tls
                .peer_certificates()
                .first()
                .and_then(|der| toytls::x509::Certificate::from_der(der).ok())
                .map(|c| format!(" from '{}'", c.subject()))
                .unwrap_or_default();
            let _ = handshake_done.send(());
            let mut buf = [0u8; 1024];
            loop {
                let n = tls.read_data(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                let reply = format!(
                    "The server read {n} bytes{client_subject}: {:?}",
                    String::from_utf8_lossy(&buf[..n])
                );
                tls.write_data(reply.as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            tls.close().map_err(|e| e.to_string())?;
        }
        Ok(())
    });

    let mut summary = Vec::new();
    for round in 0..2 {
        story.set_round(round);
        if round == 0 {
            say(&format!(
                "1. TCP connect: the client opens a TCP connection to the server at {addr}.\n"
            ));
        } else {
            say("\n========================================================================");
            let stored = client_config.sessions.get("localhost", addr.port());
            let ticket = stored.as_ref().and_then(|s| s.ticket.as_ref());
            story.set_presenting_ticket(ticket.is_some());
            say(&match (ticket, &stored) {
                (Some(t), _) => format!(
                    "Second connection: the client returns, presenting the session ticket it was given\n({} bytes, in the session_ticket extension of its ClientHello).\n",
                    t.bytes.len()
                ),
                (None, Some(_)) => {
                    "Second connection: the client returns, offering the session ID it was given.\n"
                        .to_string()
                }
                (None, None) => {
                    "Second connection: the client has no session to offer: a full handshake again.\n"
                        .to_string()
                }
            });
            say(&format!("1. TCP connect again to {addr}.\n"));
        }
        let t = Instant::now();
        let mut tls = TlsStream::connect_tcp(addr, client_config.clone(), "localhost")
            .map_err(|e| format!("handshake failed: {e}"))?;
        let handshake_time = t.elapsed();
        // If the server thread failed, the channel is closed and its error comes from join().
        let _ = server_finished_handshake.recv();
        story.app_data_heading();
        tls.write_data(MESSAGE).map_err(|e| e.to_string())?;
        // Read the reply before closing, so the story shows request, reply, then both
        // close_notify alerts, in the order a learner expects.
        let mut reply = vec![0u8; 1024];
        let n = tls.read_data(&mut reply).map_err(|e| e.to_string())?;
        reply.truncate(n);
        tls.close().map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest).map_err(|e| e.to_string())?;
        reply.extend_from_slice(&rest);
        say(&format!(
            "   The client decrypted the reply: {:?}",
            String::from_utf8_lossy(&reply)
        ));
        say(
            "   Both sides sent close_notify: an orderly end, so neither can be fooled into taking a cut-off stream for a complete one.",
        );
        if tls.resumed() && tls.resumed_with_ticket() {
            say(
                "\n   Resumed from the ticket, statelessly: the server kept nothing after the first connection.\n   The ticket it had sealed came back and opened under its ticket key, and what was inside\n   (suite, master secret, how it was made, when, for which name) was the whole session.\n   Servers without tickets (`toytls server --no-tickets`, many real ones) still resume the way\n   RFC 5246 7.3 describes: they keep the session in a cache under the session ID, the client\n   offers that ID, and the server echoes it.",
            );
        }
        if tls.resumed() {
            say(
                "\n   Resumed with the abbreviated handshake. Skipped: Certificate, the certificate check,\n   ServerHelloDone, ClientKeyExchange and both RSA operations. New randoms gave new keys\n   from the cached master secret, and both Finished messages still prove both sides agree.",
            );
            if client_auth {
                say(
                    "   No CertificateRequest either: the session remembers the client's certificate, proved in the\n   full handshake, and only a client holding that session's master secret can finish this one.",
                );
            }
        }
        if let Some(h) = &html {
            // A seeded page does not depend on the free port the server was given.
            h.connection_done(match args.seed {
                Some(_) => {
                    "the demo's server on 127.0.0.1 (its certificate names localhost)".into()
                }
                None => format!("the demo's server at {addr} (its certificate names localhost)"),
            });
        }
        let id = hex(tls.session_id().as_slice());
        summary.push(format!(
            "connection {}: {} handshake in {:.1} ms{}, suite {}, {}",
            round + 1,
            if tls.resumed() {
                "resumed (abbreviated)"
            } else {
                "full"
            },
            handshake_time.as_secs_f64() * 1000.0,
            match (tls.resumed(), tls.resumed_with_ticket()) {
                (true, true) => " from a session ticket",
                (true, false) => " by session ID",
                (false, _) => "",
            },
            tls.suite().name(),
            match id.get(..16) {
                Some(start) => format!("session ID {start}…"),
                None => "no session ID (the session lives in the ticket)".to_string(),
            },
        ));
    }
    server
        .join()
        .map_err(|_| "server thread panicked".to_string())??;
    println!("\nSummary");
    for s in summary {
        println!("  {s}");
    }
    println!("  total {:.2} s", started.elapsed().as_secs_f64());
    println!(
        "  to decrypt a capture in Wireshark: run `toytls server`/`client` with --suites gcm and --keylog FILE (or SSLKEYLOGFILE=FILE)"
    );
    crate::pcap::check(pcap.as_ref())?;
    if let Some(path) = &pcap_arg.pcap {
        println!("  both connections, keys included: {}", path.display());
    }
    println!("{decrypt_hint}");
    if let Some(h) = &html {
        let about = match args.seed {
            Some(seed) => format!(
                "Made by `toytls demo --seed {seed} --suites {}`: every random number seeded, the clock fixed at 2026-01-01T00:00:00Z, so the same command draws the same page. The client's view of two connections to the demo's server: a full handshake, then a resumed one.",
                args.suites
            ),
            None => format!(
                "Made by `toytls demo --suites {}`: the client's view of two connections to the demo's server, a full handshake, then a resumed one. Fresh keys every run (--seed N makes it reproducible).",
                args.suites
            ),
        };
        let path = h.write("Your TLS 1.2 connection, byte by byte", about)?;
        println!("  both connections as an annotated web page (open it in a browser): {path}");
    }
    println!(
        "  to watch each protection stop an attack: `toytls attack --list` (README, \"See the protections work\")"
    );
    Ok(())
}
