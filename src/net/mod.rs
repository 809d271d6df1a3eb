//! TCP: a transport with deadlines and timeouts, and a serving loop (`spec/limits.md`).

pub mod serve;
pub mod timed;
