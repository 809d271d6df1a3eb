//! `toytls demo`: one process, a CA, a server and a client, and the story of their connection.
//!
//! Everything is made in memory (a CA, a server certificate for `localhost`), the server listens on
//! a free port of 127.0.0.1, and the client connects twice: a full handshake, then a resumed one.
//! The server issues a session ticket (RFC 5077) after the full handshake, so the second
//! connection resumes from the ticket the client presents, statelessly; the story says what the
//! ticket holds and under which key, and that servers without tickets resume by session ID.
//! The narration is rendered from the library's trace events; the library itself never prints.
//! With `--client-auth` the server also asks the client for a certificate (RFC 5246 7.4.4), and the
//! story tells the two extra messages and what they prove.

use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use toytls::Side;
use toytls::capture::{Opener, Recorded};
use toytls::clock::{Clock, FixedClock, SystemClock, UnixTime};
use toytls::config::{ClientAuth, ClientCertificate, ClientConfig, ServerConfig, seeded_rng};
use toytls::handshake::{keys, ticket};
use toytls::record::ContentType;
use toytls::record::suite::lookup;
use toytls::stream::TlsStream;
use toytls::trace::{Derivation, Dir, KeyPart, Note, Secret, TraceEvent, TraceSink};
use toytls::wire::messages::hex;
use toytls::wire::messages::{CipherSuite, HandshakeType};
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

/// Turns trace events into the narration.
struct Story {
    quiet: bool,
    state: Mutex<StoryState>,
}

#[derive(Default)]
struct StoryState {
    round: usize,
    /// The client presents a session ticket in this round's ClientHello.
    presenting_ticket: bool,
    /// The server opened the client's ticket: it resumes from it.
    resuming_from_ticket: bool,
    /// The client has a certificate (`--client-auth`), which a ticket carries too.
    client_auth: bool,
    in_app_data: bool,
    /// The key block has no MAC keys: an AEAD suite (GCM).
    aead: bool,
}

impl Story {
    fn new(quiet: bool, client_auth: bool) -> Self {
        Story {
            quiet,
            state: Mutex::new(StoryState {
                client_auth,
                ..StoryState::default()
            }),
        }
    }

    fn set_round(&self, r: usize) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.round = r;
        s.in_app_data = false;
        s.resuming_from_ticket = false;
        s.aead = false;
    }

    fn set_presenting_ticket(&self, yes: bool) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .presenting_ticket = yes;
    }

    fn app_data_heading(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_app_data = true;
        if !self.quiet {
            println!(
                "8. Application data, protected: the client sends {:?}.",
                String::from_utf8_lossy(MESSAGE)
            );
        }
    }
}

fn who(side: Side) -> (&'static str, &'static str) {
    match side {
        Side::Client => ("client", "server"),
        Side::Server => ("server", "client"),
    }
}

fn short(h: &str) -> String {
    if h.len() > 64 {
        format!("{}… ({} bytes)", &h[..64], h.len() / 2)
    } else {
        h.to_string()
    }
}

impl TraceSink for Story {
    fn event(&self, e: &TraceEvent) {
        if self.quiet {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = narrate(&mut st, e);
        drop(st);
        if !out.is_empty() {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(out.as_bytes());
        }
    }
}

/// The narration of one event, given where the story is.
fn narrate(st: &mut StoryState, e: &TraceEvent) -> String {
    let mut out = String::new();
    match e {
        TraceEvent::Handshake {
            side,
            dir: Dir::Sent,
            message,
            fields,
            raw,
        } => {
            let (from, to) = who(*side);
            out += match (message, st.round) {
                (HandshakeType::ClientHello, _) => "2. Hello: the client says what it can do.\n",
                (HandshakeType::ServerHello, 0) => "3. The server chooses, and proves who it is.\n",
                (HandshakeType::ServerHello, _) if st.resuming_from_ticket => {
                    "3. The ticket opened under the server's ticket key: the server resumes the session inside it,\n   and echoes the session ID the client sent with it to say so (RFC 5077 3.4).\n"
                }
                (HandshakeType::ServerHello, _) => {
                    "3. The server still has the session: it echoes the session ID.\n"
                }
                (HandshakeType::NewSessionTicket, 0) => {
                    "   Before its ChangeCipherSpec the server hands the client a session ticket (RFC 5077 3.3).\n"
                }
                (HandshakeType::NewSessionTicket, _) => {
                    "   The server renews the ticket (RFC 5077 3.1).\n"
                }
                _ => "",
            };
            out += &format!(
                "   {from} -> {to}: {} ({} bytes)\n",
                message.name(),
                raw.len()
            );
            for (k, v) in fields {
                out += &format!("        {k}: {}\n", short(v));
            }
            if *message == HandshakeType::ClientHello && st.round == 1 {
                out += if st.presenting_ticket {
                    "        (the session_ticket extension carries the ticket back: the client asks to resume from it;\n        the session_id is one the client made up, which the server echoes if it accepts the ticket, RFC 5077 3.4)\n"
                } else {
                    "        (a non-empty session_id: the client asks to resume)\n"
                };
            }
            if *message == HandshakeType::NewSessionTicket {
                // NewSessionTicket (RFC 5077 3.3): the 4-byte header, the lifetime hint (4), the
                // ticket's 2-byte length, then the ticket, whose first 16 bytes name the key.
                let name = raw
                    .get(10..10 + ticket::KEY_NAME_LEN)
                    .map(hex)
                    .unwrap_or_default();
                out += &format!(
                    "        the ticket is this session sealed by the server for itself: key_name (which ticket key) | nonce |\n        AES-128-GCM ciphertext of (suite, master secret, extended master secret or not, when it was made,\n        the server name{}) | tag, under the server's current ticket key, named\n        {name}: random, made by the server, replaced every hour (old keys still open\n        their tickets until those expire), never sent. The client cannot read or change the ticket;\n        it keeps it and brings it back.\n",
                    if st.client_auth {
                        ", the client's certificate"
                    } else {
                        ""
                    }
                );
            }
            if *message == HandshakeType::CertificateRequest {
                out += "        the server asks the client to prove who it is too: a certificate from one of these CAs,\n        and a signature made with one of these hashes (RFC 5246 7.4.4)\n";
            }
            if *message == HandshakeType::Certificate && *side == Side::Client {
                out += "        the client's own chain, in the clear: anyone may copy a certificate, so it proves nothing yet\n";
            }
            if *message == HandshakeType::CertificateVerify {
                out += "        = RSA signature, with the client's private key, over every handshake message so far (RFC 5246 7.4.8)\n        this proves the client holds the certificate's key, and it covers both randoms, so it cannot be\n        replayed into another connection. The pre-master secret is still the only secret the keys come from.\n";
            }
            if *message == HandshakeType::Finished {
                out += &format!(
                    "        = PRF(master secret, \"{from} finished\", SHA-256(all handshake messages so far))[0..12]\n        sent encrypted: a man in the middle who changed any message above cannot forge it.\n"
                );
            }
        }
        // Told in step 6 instead, with the formula.
        TraceEvent::Note {
            note: Note::ExtendedMasterSecret,
            ..
        } => {}
        TraceEvent::Note { side, note } => {
            let (me, _) = who(*side);
            if matches!(note, Note::TicketOpened { .. }) {
                st.resuming_from_ticket = true;
            }
            if matches!(note, Note::CertificateVerified { .. }) {
                out += "4. The client checks the certificate.\n";
            }
            if matches!(note, Note::ClientCertificateVerified { .. }) {
                out += "   The server checks the client's certificate as the client checked the server's (a CA it trusts,\n   valid now, for clientAuth); the CertificateVerify below must then prove the key is the client's.\n";
            }
            out += &format!("   [{me}] {note}\n");
        }
        TraceEvent::Secret {
            side,
            secret,
            value,
            derivation,
        } => narrate_secret(&mut out, st, *side, *secret, value, derivation),
        TraceEvent::ChangeCipherSpec {
            side,
            dir: Dir::Sent,
        } => {
            let (from, to) = who(*side);
            if *side == Side::Client && st.round == 0 {
                out += "7. ChangeCipherSpec and Finished: switch on the keys, then prove both sides have them.\n";
            } else if *side == Side::Server && st.round == 1 {
                out += if st.resuming_from_ticket {
                    "6-7. In the abbreviated handshake the server goes first: it derives new keys from the master\n     secret in the ticket and the new randoms (no RSA), switches them on, and proves it with Finished.\n"
                } else {
                    "6-7. In the abbreviated handshake the server goes first: it derives new keys from the cached\n     master secret and the new randoms (no RSA), switches them on, and proves it with Finished.\n"
                };
            }
            out += &format!(
                "   {from} -> {to}: ChangeCipherSpec (everything the {from} sends from now on is encrypted and authenticated)\n"
            );
        }
        TraceEvent::Record {
            side: Side::Client,
            dir,
            content_type: ContentType::ApplicationData,
            suite,
            seq,
            wire,
            layout,
            plaintext,
        } if st.in_app_data => {
            let what = if *dir == Dir::Sent {
                "sent"
            } else {
                "received"
            };
            let n = plaintext.as_ref().map_or(0, Vec::len);
            out += &format!(
                "   record {what} (seq {}): {n} bytes of plaintext became {} bytes on the wire:\n     {}\n",
                seq.unwrap_or(0),
                wire.len(),
                short(&hex(wire))
            );
            if *dir == Dir::Sent
                && let Some(row) = suite.and_then(lookup)
            {
                out += &format!("     = header {}", hex(&wire[layout.header.clone()]));
                if !layout.explicit_nonce.is_empty() {
                    out += &format!(
                        " | explicit nonce {} (the sequence number)",
                        hex(&wire[layout.explicit_nonce.clone()])
                    );
                }
                out += &format!(
                    " | {} ciphertext ({} bytes) | {}-byte {}\n",
                    row.encryption,
                    layout.body.len(),
                    layout.tag.len(),
                    row.tag
                );
            }
        }
        TraceEvent::Alert {
            side,
            dir: Dir::Sent,
            description,
            ..
        } => {
            let (from, to) = who(*side);
            out += &format!("   {from} -> {to}: alert {description}\n");
        }
        _ => {}
    }
    out
}

/// Steps 5 and 6: the pre-master secret, the master secret and the key block, as the client
/// derives them (the server derives the same; its secrets are told only where they differ).
fn narrate_secret(
    out: &mut String,
    st: &mut StoryState,
    side: Side,
    secret: Secret,
    value: &[u8],
    derivation: &Derivation,
) {
    let v = hex(value);
    match (side, secret) {
        (Side::Client, Secret::PreMaster) => {
            *out += "5. The pre-master secret: the client picks it and sends it under the server's RSA key.\n";
            *out += &format!("   pre-master secret (48 bytes: version 0303 + 46 random): {v}\n");
            *out += "   Only the holder of the server's private key can decrypt the ClientKeyExchange below;\n   an eavesdropper sees the ciphertext, and changing it only makes the Finished check fail.\n";
        }
        (Side::Server, Secret::PreMaster) => {
            *out += &format!("   [server] decrypted ClientKeyExchange with its private key: {v}\n");
        }
        (Side::Client, Secret::Master) => {
            *out += "6. Both sides derive the same keys from it, with the TLS 1.2 PRF (HMAC-SHA256 inside):\n";
            let extended = matches!(
                derivation,
                Derivation::Prf { label, .. } if *label == keys::EXTENDED_MASTER_SECRET_LABEL
            );
            if extended {
                *out += &format!(
                    "   master secret = PRF(pre-master, \"extended master secret\", SHA-256(every handshake message so far))[0..48]\n                 = {v}\n"
                );
                *out += "   (the extended master secret, RFC 7627: hashing the whole handshake, certificate included, into the\n   master secret binds it to this handshake, so a man in the middle cannot give two connections the same one)\n";
            } else {
                *out += &format!(
                    "   master secret = PRF(pre-master, \"master secret\", client_random + server_random)[0..48]\n                 = {v}\n"
                );
            }
        }
        (Side::Client, Secret::KeyBlock) => {
            if st.round == 1 {
                *out += "   [client] no RSA this time: the client takes the cached master secret and the NEW randoms\n   and derives the same new keys the server already uses:\n";
            }
            *out += &format!(
                "   key block = PRF(master secret, \"key expansion\", server_random + client_random), {} bytes, cut into:\n",
                value.len()
            );
        }
        (Side::Client, Secret::Key { part, .. }) => {
            let name = secret.to_string();
            *out += &match (part, value.is_empty()) {
                (KeyPart::MacKey, true) => {
                    format!("     {name:<22} (none: the AEAD tag authenticates each record)\n")
                }
                (KeyPart::Iv, _) if st.aead => {
                    format!("     {name:<22} {v} (the implicit part of every GCM nonce)\n")
                }
                _ => format!("     {name:<22} {v}\n"),
            };
            st.aead |= part == KeyPart::MacKey && value.is_empty();
        }
        _ => {}
    }
}
