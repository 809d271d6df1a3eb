//! Key logging in the NSS key log format, so Wireshark or `tshark -o tls.keylog_file:FILE` can
//! decrypt a capture of a toytls connection (with the standard GCM suite; Wireshark does not know
//! our toy suite).
//!
//! One line per connection: `CLIENT_RANDOM <client random, 64 hex> <master secret, 96 hex>`.
//! With the two randoms on the wire, the master secret gives every key (RFC 5246 6.3), so this
//! file is as secret as the keys themselves: for debugging only. The library only calls the
//! [`KeyLog`] hook set in the configs; the CLI sets a [`FileKeyLog`] for `--keylog FILE` or the
//! `SSLKEYLOGFILE` environment variable.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Receives the master secret of each connection, named by its client random.
pub trait KeyLog: Send + Sync {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]);
}

/// The NSS key log line for one connection (without the newline).
pub fn client_random_line(client_random: &[u8; 32], master_secret: &[u8; 48]) -> String {
    format!(
        "CLIENT_RANDOM {} {}",
        crate::wire::messages::hex(client_random),
        crate::wire::messages::hex(master_secret)
    )
}

/// Appends key log lines to a file, one whole line per write.
pub struct FileKeyLog {
    file: Mutex<File>,
}

impl FileKeyLog {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> std::io::Result<FileKeyLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FileKeyLog {
            file: Mutex::new(file),
        })
    }
}

impl KeyLog for FileKeyLog {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]) {
        let line = format!("{}\n", client_random_line(client_random, master_secret));
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // Best effort: a key log that cannot be written must not break the connection.
        let _ = f.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_is_nss_format() {
        let cr: [u8; 32] = std::array::from_fn(|i| i as u8);
        let ms = [0xabu8; 48];
        let l = client_random_line(&cr, &ms);
        assert_eq!(
            l,
            format!(
                "CLIENT_RANDOM 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f {}",
                "ab".repeat(48)
            )
        );
    }

    #[test]
    fn file_key_log_appends_whole_lines() {
        let path = std::env::temp_dir().join(format!("toytls-keylog-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let k = FileKeyLog::open(&path).unwrap();
        k.log(&[1; 32], &[2; 48]);
        k.log(&[3; 32], &[4; 48]);
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], client_random_line(&[3; 32], &[4; 48]));
    }
}
