//! TCP: a transport with deadlines and timeouts, and a serving loop (`spec/limits.md`), whose
//! handshake reads keep the CPU ready for the private-key operation (`waiting`).

pub mod capacity;
pub mod serve;
pub mod timed;
pub mod waiting;
pub mod workers;
