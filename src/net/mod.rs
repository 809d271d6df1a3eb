//! TCP: a transport with deadlines and timeouts, and a serving loop (`spec/limits.md`).

pub mod capacity;
pub mod serve;
pub mod timed;
pub mod workers;
