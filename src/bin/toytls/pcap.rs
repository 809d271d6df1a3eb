//! `--pcap FILE` for `demo`, `client` and `server`: the connections as a pcapng capture with the
//! session keys inside (a Decryption Secrets Block), so Wireshark decrypts the GCM suite with no
//! setting. The recording itself is [`toytls::capture`]'s transport wrapper; this file only
//! opens the file and routes the key log through it.
//!
//! A server writes every connection it serves into the one file, each with the client's real
//! port, interleaved in time as a capture of the loopback interface would hold them.

use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use toytls::capture::{Capture, Recorded};
use toytls::keylog::KeyLog;
use toytls::net::timed::TimedStream;

/// The transport of a client or server connection, recorded or not.
pub type Transport = Recorded<TimedStream>;

#[derive(Args)]
pub struct PcapArg {
    /// Write the connection(s) to FILE as a pcapng capture of TCP on the loopback interface,
    /// with the session keys inside so Wireshark decrypts the GCM suite with no setting (anyone
    /// with this file can read the traffic; it is made 0600). A server writes all its
    /// connections into FILE.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

impl PcapArg {
    /// Creates the capture file, if asked for, and makes `keylog` write into it too.
    pub fn open(&self, keylog: &mut Option<Arc<dyn KeyLog>>) -> Result<Option<Capture>, String> {
        let Some(path) = &self.pcap else {
            return Ok(None);
        };
        let capture = Capture::create(path)
            .map_err(|e| format!("cannot create capture {}: {e}", path.display()))?;
        *keylog = Some(capture.key_log(keylog.take()));
        Ok(Some(capture))
    }
}

/// The capture's first write error, if there was one (the connections went on regardless).
pub fn check(capture: Option<&Capture>) -> Result<(), String> {
    match capture.and_then(Capture::error) {
        Some(e) => Err(format!("writing the capture failed: {e}")),
        None => Ok(()),
    }
}

/// For `toytls demo --pcap FILE`: the demo's server key lives only in memory, so it is written
/// beside the capture (`FILE.server-key.pem`) for `toytls decrypt FILE --key ...` to play the
/// eavesdropper who later obtains it. Returns the summary line pointing there.
pub fn demo_key(arg: &PcapArg, key: &toytls::crypto::rsa::RsaPrivateKey) -> Result<String, String> {
    let Some(pcap) = &arg.pcap else {
        return Ok(
            "  to see what a stolen server key reveals of recorded traffic: toytls demo --pcap demo.pcapng, then toytls decrypt (the demo prints the command)"
                .into(),
        );
    };
    let mut path = pcap.clone().into_os_string();
    path.push(".server-key.pem");
    let path = PathBuf::from(path);
    let pem = toytls::x509::pem::encode_private_key_pkcs8(key);
    std::fs::write(&path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "  read both connections with nothing but the server's key, as whoever recorded them and later stole it could:\n    toytls decrypt {} --key {}",
        pcap.display(),
        path.display()
    ))
}
