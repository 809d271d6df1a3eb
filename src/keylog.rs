//! Key logging in the NSS key log format, so Wireshark or `tshark -o tls.keylog_file:FILE` can
//! decrypt a capture of a toytls connection (with the standard GCM suite; Wireshark does not know
//! our toy suite).
//!
//! One line per connection: `CLIENT_RANDOM <client random, 64 hex> <master secret, 96 hex>`.
//! With the two randoms on the wire, the master secret gives every key (RFC 5246 6.3), so this
//! file is as secret as the keys themselves: for debugging only. The library only calls the
//! [`KeyLog`] hook set in the configs; the CLI sets a [`FileKeyLog`] for `--keylog FILE` or the
//! `SSLKEYLOGFILE` environment variable, and says so on stderr ([`warning`]) so that a variable
//! left set in a shell does not log secrets unnoticed.
//!
//! The file is readable by its owner only: created with mode 0600, and an existing one that group
//! or others could read is narrowed to 0600 when opened (on Unix).

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
    /// Opens `path` for appending, creating it (mode 0600) if needed; an existing file that
    /// group or others may read is made 0600.
    pub fn open(path: &Path) -> std::io::Result<FileKeyLog> {
        let file = open_secret_file(OpenOptions::new().create(true).append(true), path)?;
        Ok(FileKeyLog {
            file: Mutex::new(file),
        })
    }
}

/// Opens `path` with `options` for a file that will hold secrets (this key log, a capture with
/// its keys): readable by its owner only. On Unix a new file is created with mode 0600, and an
/// existing one that group or others may read is narrowed to its owner before anything is
/// written.
pub fn open_secret_file(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // The mode above applies only to a new file. Narrowing goes through the open file, so
        // it applies to what was opened, whatever the path points to by now.
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// The one line the command line prints on stderr when key logging is on: where the secrets go,
/// why (`--keylog` or the `SSLKEYLOGFILE` variable), and what that means.
pub fn warning(path: &Path, from_environment: bool) -> String {
    let why = if from_environment {
        "SSLKEYLOGFILE is set"
    } else {
        "--keylog"
    };
    format!(
        "warning: key logging is on ({why}): the master secret of every connection is appended to \
         {}; anyone who can read that file can decrypt the traffic",
        path.display()
    )
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

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("toytls-keylog-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A new file: 0600 whatever the umask lets through.
        let new = dir.join("new.keylog");
        FileKeyLog::open(&new).unwrap();
        assert_eq!(mode(&new), 0o600);
        // An existing world-readable one is narrowed, and keeps its lines.
        let old = dir.join("old.keylog");
        std::fs::write(&old, "CLIENT_RANDOM earlier line\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let log = FileKeyLog::open(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        log.log(&[1; 32], &[2; 48]);
        let text = std::fs::read_to_string(&old).unwrap();
        assert!(text.starts_with("CLIENT_RANDOM earlier line\n"), "{text}");
        assert_eq!(text.lines().count(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_warning_says_where_and_why() {
        let w = warning(Path::new("/tmp/k.log"), true);
        assert_eq!(
            w,
            "warning: key logging is on (SSLKEYLOGFILE is set): the master secret of every \
             connection is appended to /tmp/k.log; anyone who can read that file can decrypt the \
             traffic"
        );
        assert!(warning(Path::new("k"), false).contains("(--keylog)"));
        assert_eq!(w.lines().count(), 1);
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
