//! Printing trace events for `--trace` (the library never prints; the CLI does).

use std::io::Write;
use std::sync::Mutex;
use toytls::trace::{Derivation, Dir, TraceEvent, TraceSink};
use toytls::wire::messages::hex;

/// Prints every event to stderr as it happens, with hex dumps of the bytes.
pub struct StderrTrace {
    lock: Mutex<()>,
}

impl StderrTrace {
    pub fn new() -> Self {
        StderrTrace {
            lock: Mutex::new(()),
        }
    }
}

impl TraceSink for StderrTrace {
    fn event(&self, e: &TraceEvent) {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(render(e).as_bytes());
    }
}

fn arrow(d: Dir) -> &'static str {
    match d {
        Dir::Sent => "sent",
        Dir::Received => "received",
    }
}

/// One event as text: a heading line, its fields, and a hex dump of any bytes.
pub fn render(e: &TraceEvent) -> String {
    let mut s = String::new();
    match e {
        TraceEvent::Handshake {
            side,
            dir,
            message,
            fields,
            raw,
        } => {
            s += &format!(
                "[{}] {} {} ({} bytes)\n",
                side.name(),
                arrow(*dir),
                message.name(),
                raw.len()
            );
            for (k, v) in fields {
                s += &format!("      {k}: {v}\n");
            }
            s += &hexdump(raw);
        }
        TraceEvent::ChangeCipherSpec { side, dir } => {
            s += &format!("[{}] {} ChangeCipherSpec\n", side.name(), arrow(*dir));
        }
        TraceEvent::Alert {
            side,
            dir,
            level,
            description,
        } => {
            s += &format!(
                "[{}] {} alert {description} ({level:?})\n",
                side.name(),
                arrow(*dir)
            );
        }
        TraceEvent::Secret {
            side,
            secret,
            value,
            derivation,
        } => {
            s += &format!("[{}] secret {secret}: {}\n", side.name(), hex(value));
            s += &match derivation {
                Derivation::Chosen => "      chosen at random\n".to_string(),
                Derivation::Decrypted => "      decrypted from ClientKeyExchange\n".to_string(),
                Derivation::TranscriptHash => {
                    "      = SHA-256(handshake messages so far)\n".to_string()
                }
                Derivation::Prf {
                    secret,
                    label,
                    seed,
                } => format!("      = PRF({secret}, \"{label}\", {})\n", hex(seed)),
                Derivation::KeyBlockPart(r) => {
                    format!("      = key block[{}..{}]\n", r.start, r.end)
                }
            };
        }
        TraceEvent::Record {
            side,
            dir,
            content_type,
            suite,
            seq,
            wire,
            layout,
            plaintext,
        } => {
            let seq = seq.map(|n| format!(", seq {n}")).unwrap_or_default();
            let suite = suite.map(|c| format!(", {}", c.name())).unwrap_or_default();
            let opened = match plaintext {
                Some(p) => format!("{} of plaintext", p.len()),
                None => "did not open".to_string(),
            };
            s += &format!(
                "[{}] record {} {}{suite}{seq}, {} bytes on the wire, {opened}\n",
                side.name(),
                arrow(*dir),
                content_type.name(),
                wire.len()
            );
            let part = |name: &str, r: &std::ops::Range<usize>| {
                if r.is_empty() {
                    String::new()
                } else {
                    format!(" | {name} {}..{}", r.start, r.end)
                }
            };
            s += &format!(
                "      header 0..{}{}{}{}\n",
                layout.header.end,
                part("explicit nonce", &layout.explicit_nonce),
                part("body", &layout.body),
                part("tag", &layout.tag)
            );
            s += &hexdump(&wire[..wire.len().min(64)]);
            if wire.len() > 64 {
                s += "      ...\n";
            }
        }
        TraceEvent::Note { side, note } => {
            s += &format!("[{}] {note}\n", side.name());
        }
    }
    s
}

/// Classic 16-bytes-a-line hex dump, indented.
pub fn hexdump(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, line) in b.chunks(16).enumerate() {
        s += &format!("      {:04x}  ", i * 16);
        for x in line {
            s += &format!("{x:02x} ");
        }
        s += "\n";
    }
    s
}

/// The options `toytls client` and `toytls server` share: what to print, which suites to offer or
/// accept, where to log the keys. Declared once, flattened into both commands.
#[derive(clap::Args)]
pub struct PeerArgs {
    /// Print every trace event (messages, secrets, records) to stderr.
    #[arg(long)]
    pub trace: bool,
    /// Cipher suites in order of preference, comma-separated: `toy` (our
    /// TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256) and `gcm` (TLS_RSA_WITH_AES_128_GCM_SHA256).
    #[arg(long, default_value = "toy,gcm")]
    pub suites: String,
    /// Append `CLIENT_RANDOM <random> <master secret>` lines to FILE for Wireshark (also taken
    /// from the SSLKEYLOGFILE environment variable). Anyone with this file can decrypt the traffic.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<std::path::PathBuf>,
}

/// The key log the user asked for: `--keylog FILE`, else the `SSLKEYLOGFILE` variable that
/// browsers and curl also read, else none. Client and server share it so both log the same way.
pub fn key_log(
    arg: Option<&std::path::Path>,
) -> Result<Option<std::sync::Arc<dyn toytls::keylog::KeyLog>>, String> {
    let path = match arg {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("SSLKEYLOGFILE") {
            Some(p) => std::path::PathBuf::from(p),
            None => return Ok(None),
        },
    };
    let log = toytls::keylog::FileKeyLog::open(&path)
        .map_err(|e| format!("cannot open key log {}: {e}", path.display()))?;
    eprintln!("{}", toytls::keylog::warning(&path, arg.is_none()));
    Ok(Some(std::sync::Arc::new(log)))
}

/// The extended master secret mode of `--no-ems` / `--require-ems` (clap keeps them exclusive).
pub fn ems_mode(no_ems: bool, require_ems: bool) -> toytls::config::EmsMode {
    use toytls::config::EmsMode;
    match (no_ems, require_ems) {
        (true, _) => EmsMode::Off,
        (false, true) => EmsMode::Required,
        (false, false) => EmsMode::Enabled,
    }
}

/// Parses `--suites`: a comma-separated list of suites by short name (`toy`, `gcm`) or full name,
/// into code points in the order given (duplicates dropped).
pub fn parse_suite_list(list: &str) -> Result<Vec<toytls::wire::messages::CipherSuite>, String> {
    use toytls::record::suite::{SUPPORTED, by_name};
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let info = by_name(item).ok_or_else(|| {
            let known: Vec<&str> = SUPPORTED.iter().map(|s| s.short).collect();
            format!(
                "unknown cipher suite '{item}' (known: {})",
                known.join(", ")
            )
        })?;
        if !out.contains(&info.suite) {
            out.push(info.suite);
        }
    }
    if out.is_empty() {
        return Err("no cipher suite given".into());
    }
    Ok(out)
}

pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toytls::wire::messages::{
        TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
    };

    #[test]
    fn suite_lists_parse_by_short_or_full_name() {
        assert_eq!(
            parse_suite_list("gcm,toy").unwrap(),
            vec![
                TLS_RSA_WITH_AES_128_GCM_SHA256,
                TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256
            ]
        );
        assert_eq!(
            parse_suite_list("TLS_RSA_WITH_AES_128_GCM_SHA256").unwrap(),
            vec![TLS_RSA_WITH_AES_128_GCM_SHA256]
        );
        assert!(parse_suite_list("rc4").is_err());
        assert!(parse_suite_list("").is_err());
    }
}
