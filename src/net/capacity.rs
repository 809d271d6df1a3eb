//! How many connections this machine can hold at once: the server's default connection limit.
//!
//! Each connection served by [`crate::net::serve`] holds one file descriptor (its socket) and
//! one thread for as long as it lasts, idle or not, and some memory: about 25 KiB while idle (the
//! thread's touched stack and the connection's state; record buffers are released while a
//! connection waits), up to about 150 KiB while it moves data. A limit that the machine cannot
//! hold fails badly (accept errors at the file limit, threads that cannot start, or the
//! out-of-memory killer), and one far below it makes clients queue behind idle connections. So
//! the default is the smallest of:
//!
//! | resource | connections | where it is read |
//! | --- | --- | --- |
//! | open files | the soft `RLIMIT_NOFILE` less [`RESERVED_FILES`] | `/proc/self/limits` |
//! | threads | half of `kernel.threads-max` and of `kernel.pid_max` (the rest of the system needs some) | `/proc/sys/kernel/` |
//! | memory | available memory / [`BUSY_CONNECTION_BYTES`] | `/proc/meminfo` `MemAvailable` |
//!
//! Where `/proc` cannot be read (not Linux), a soft file limit of 1024 is assumed, the usual
//! default. To serve more, raise the file limit (`ulimit -n`) before starting the server, or set
//! [`ServerLimits::max_connections`](crate::net::serve::ServerLimits) yourself.

/// File descriptors kept for everything that is not a connection: standard streams, the
/// listener, a key log file, the allocator's and the runtime's own.
pub const RESERVED_FILES: usize = 32;

/// What one connection may need while it moves data, for the memory bound (generous: its
/// record buffers, its handler's buffers and its thread's stack).
pub const BUSY_CONNECTION_BYTES: usize = 256 * 1024;

/// The soft open-file limit assumed where it cannot be read.
const DEFAULT_FILE_LIMIT: usize = 1024;

/// The default connection limit for this machine and process, at least 1 (see the module
/// documentation).
pub fn max_connections() -> usize {
    let files = soft_file_limit()
        .unwrap_or(DEFAULT_FILE_LIMIT)
        .saturating_sub(RESERVED_FILES);
    let threads = ["threads-max", "pid_max"]
        .iter()
        .filter_map(|f| read_number(&format!("/proc/sys/kernel/{f}")))
        .min()
        .map_or(usize::MAX, |t| t / 2);
    let memory = available_memory().map_or(usize::MAX, |m| m / BUSY_CONNECTION_BYTES);
    files.min(threads).min(memory).max(1)
}

/// The soft `RLIMIT_NOFILE` of this process, from the line
/// `Max open files            1024                 524288               files`.
fn soft_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(usize::MAX);
    }
    soft.parse().ok()
}

/// `MemAvailable` in bytes.
fn available_memory() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

fn read_number(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_stays_within_the_open_file_limit() {
        let n = max_connections();
        assert!(n >= 1);
        if let Some(files) = soft_file_limit() {
            assert!(
                n <= files.saturating_sub(RESERVED_FILES).max(1),
                "{n} vs {files}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_limits_are_read_from_proc() {
        assert!(soft_file_limit().is_some());
        assert!(available_memory().is_some_and(|m| m > 0));
        assert!(read_number("/proc/sys/kernel/pid_max").is_some());
    }
}
