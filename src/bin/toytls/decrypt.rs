//! `toytls decrypt CAPTURE --key SERVER_KEY.pem`: reads a recorded capture and prints what every
//! TLS connection in it said, using only the server's private key (or `--keylog FILE`).
//!
//! The decryption is [`toytls::capture::decrypt`]; this file prints its events, and with
//! `--out DIR` writes each connection's application data to `DIR/N-client.bin` and
//! `DIR/N-server.bin`, byte for byte.

use clap::Args;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use toytls::Side;
use toytls::capture::decrypt::{Event, KeySource, Secrets, decrypt_capture};
use toytls::wire::alert::AlertLevel;
use toytls::wire::messages::hex;

#[derive(Args)]
pub struct DecryptArgs {
    /// The capture: pcap or pcapng, as `tcpdump -w`, `tshark -w` or `--pcap` write it.
    capture: PathBuf,
    /// The server's RSA private key (PEM, PKCS#8 or PKCS#1): decrypts every pre-master secret.
    #[arg(long, required_unless_present = "keylog")]
    key: Option<PathBuf>,
    /// An NSS key log (`CLIENT_RANDOM` lines), instead of or besides the key.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Write each connection's application data to DIR/N-client.bin and DIR/N-server.bin.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print at most this many bytes of each side's application data per connection.
    #[arg(long, default_value_t = 2048)]
    show: u64,
}

const LESSON: &str = "\
What this shows: RSA key transport has no forward secrecy. Each connection's pre-master secret
crossed the wire encrypted under the server's long-term RSA key, so whoever records the traffic
today and obtains that key tomorrow (a break-in, a court order, an old disk) reads every past
session, as below. Ephemeral key exchange (ECDHE, and every TLS 1.3 handshake) exists to prevent
this: each connection's secret is thrown away after use, and a stolen server key decrypts nothing
that was recorded.
";

pub fn run(args: DecryptArgs) -> ExitCode {
    match decrypt(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("toytls decrypt: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Per connection: bytes printed so far from each side, and the output files.
#[derive(Default)]
struct Shown {
    printed: [u64; 2],
    files: Option<[File; 2]>,
    problem: bool,
}

fn decrypt(args: DecryptArgs) -> Result<bool, String> {
    let mut secrets = Secrets::default();
    if let Some(path) = &args.key {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let key = toytls::x509::pem::parse_private_key(&pem)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        secrets.server_key = Some(key);
    }
    if let Some(path) = &args.keylog {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let n = secrets.add_key_log(&text);
        println!("key log {}: {n} CLIENT_RANDOM lines", path.display());
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let file = File::open(&args.capture)
        .map_err(|e| format!("cannot open {}: {e}", args.capture.display()))?;
    println!(
        "toytls decrypt: {}, with {}.\n",
        args.capture.display(),
        match (&args.key, &args.keylog) {
            (Some(k), _) => format!("the server's private key {}", k.display()),
            (None, _) => "the key log only".into(),
        }
    );
    if args.key.is_some() {
        println!("{LESSON}");
    }
    let mut shown: HashMap<usize, Shown> = HashMap::new();
    let mut write_error = None;
    let mut sink = |e: Event| {
        if let Err(err) = print_event(&e, &args, &mut shown) {
            write_error.get_or_insert(err);
        }
    };
    let (summary, read) = decrypt_capture(std::io::BufReader::new(file), &secrets, &mut sink);
    if let Some(e) = write_error {
        return Err(e);
    }
    println!(
        "\n{} TCP connection(s), {} decrypted (keys recovered, both Finished messages verified).",
        summary.connections, summary.decrypted
    );
    if summary.read.unknown_link > 0 {
        println!(
            "{} frame(s) of an unknown link type were skipped.",
            summary.read.unknown_link
        );
    }
    let mut ok = summary.connections > 0 && summary.decrypted == summary.connections;
    if summary.connections == 0 {
        println!("No TCP connection in this capture.");
    }
    if let Err(e) = read {
        println!("The capture could not be read to the end: {e}");
        ok = false;
    }
    Ok(ok)
}

fn name(s: Side) -> &'static str {
    s.name()
}

fn index(s: Side) -> usize {
    match s {
        Side::Client => 0,
        Side::Server => 1,
    }
}

fn print_event(
    e: &Event,
    args: &DecryptArgs,
    shown: &mut HashMap<usize, Shown>,
) -> Result<(), String> {
    match e {
        Event::Connection { id, client, server } => {
            println!("connection {id}: client {client} -> server {server}");
            let mut s = Shown::default();
            if let Some(dir) = &args.out {
                let open = |who: &str| {
                    let p = dir.join(format!("{id}-{who}.bin"));
                    File::create(&p).map_err(|e| format!("cannot create {}: {e}", p.display()))
                };
                s.files = Some([open("client")?, open("server")?]);
            }
            shown.insert(*id, s);
        }
        Event::Handshake {
            from, name: msg, ..
        } => println!("  {}: {msg}", name(*from)),
        Event::Negotiated {
            suite,
            resumed,
            extended_master_secret,
            ..
        } => println!(
            "  negotiated {suite}, {}, {}",
            if *resumed {
                "resumed (abbreviated handshake)"
            } else {
                "full handshake"
            },
            if *extended_master_secret {
                "extended master secret (RFC 7627)"
            } else {
                "master secret from the randoms (RFC 5246)"
            }
        ),
        Event::PreMaster { secret, .. } => println!(
            "  pre-master secret, decrypted from the ClientKeyExchange with the server's key:\n    {}",
            hex(secret)
        ),
        Event::Master { source, secret, .. } => {
            let how = match source {
                KeySource::ServerKey => "derived from it".to_string(),
                KeySource::KeyLog => "from the key log".to_string(),
                KeySource::Resumed { from } => format!(
                    "the session's, recovered from connection {from}: resuming needs no ClientKeyExchange, so the key that opened connection {from} opens this one too"
                ),
            };
            println!("  master secret, {how}:\n    {}", hex(secret));
        }
        Event::FinishedVerified { from, .. } => println!(
            "  the {}'s Finished matches the transcript: these are the connection's keys",
            name(*from)
        ),
        Event::Data { id, from, bytes } => {
            let s = shown.entry(*id).or_default();
            let i = index(*from);
            if let Some(files) = &mut s.files {
                files[i]
                    .write_all(bytes)
                    .map_err(|e| format!("writing --out: {e}"))?;
            }
            let room = args.show.saturating_sub(s.printed[i]) as usize;
            let to = if *from == Side::Client {
                "server"
            } else {
                "client"
            };
            if room > 0 {
                let part = &bytes[..bytes.len().min(room)];
                println!("  {} -> {to}, {} bytes:", name(*from), bytes.len());
                print!("{}", quote(part));
                if part.len() < bytes.len() {
                    println!(
                        "    ... (--show {} reached; --out DIR writes everything)",
                        args.show
                    );
                }
            }
            s.printed[i] += bytes.len() as u64;
        }
        Event::Alert {
            from,
            level,
            description,
            ..
        } => {
            let level = if *level == AlertLevel::Fatal {
                "fatal"
            } else {
                "warning"
            };
            println!("  alert from the {}: {level} {description}", name(*from))
        }
        Event::Problem { id, message } => {
            shown.entry(*id).or_default().problem = true;
            println!("  CANNOT DECRYPT: {message}");
        }
        Event::End {
            id,
            closed,
            data_bytes,
            retransmitted,
        } => {
            let s = shown.remove(id).unwrap_or_default();
            println!(
                "  end of connection {id}: {} bytes of application data from the client, {} from the server{}{}",
                data_bytes[0],
                data_bytes[1],
                if *retransmitted > 0 {
                    format!(" ({retransmitted} retransmitted or duplicate segments ignored)")
                } else {
                    String::new()
                },
                if s.problem {
                    "; stopped early, see above"
                } else {
                    ""
                }
            );
            if !closed {
                println!("  (the capture ends before this connection did)");
            }
        }
    }
    Ok(())
}

/// Application data as text lines `    | ...`, with `\r`, tabs and bytes that are not printable
/// ASCII escaped (`\xNN`), so binary data cannot upset the terminal.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("    | ");
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\n    | "),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\n');
    out
}
