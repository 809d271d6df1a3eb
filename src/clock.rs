//! Time, injected.
//!
//! Certificates are valid between two instants and cached sessions expire, so the protocol needs
//! "now". toytls never reads the system clock directly below the CLI: it asks a [`Clock`]. Tests and
//! the seeded transcript in `spec/` use a [`FixedClock`], so a whole connection reproduces byte for
//! byte; real peers use [`SystemClock`].

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since 1970-01-01 00:00:00 UTC (negative before it), ignoring leap seconds as X.509 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => UnixTime(d.as_secs() as i64),
            // A clock set before 1970: report it as negative seconds rather than failing.
            Err(e) => UnixTime(-(e.duration().as_secs() as i64)),
        }
    }
}

/// A clock that always reads the same instant (for tests and reproducible transcripts).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_is_fixed() {
        let c = FixedClock(UnixTime(1_700_000_000));
        assert_eq!(c.now(), UnixTime(1_700_000_000));
    }

    #[test]
    fn system_clock_is_after_2024() {
        // 2024-01-01T00:00:00Z; a machine whose clock reads earlier cannot check certificates.
        assert!(SystemClock.now() > UnixTime(1_704_067_200));
    }
}
