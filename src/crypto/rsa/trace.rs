//! A test-only record of what the secret-dependent code does: which arithmetic operation runs
//! and which table entries are read, in order.
//!
//! The constant-time rule for the private key is "no branch and no memory index depends on a
//! secret". The exponentiations call [`record`] for every multiplication and squaring they
//! perform and for every table entry they read, so a test can run the private operation with
//! two different keys (or two different ciphertexts) of the same size and check that the two
//! traces are identical: the same operations in the same order, the same entries read. A
//! square-and-multiply that skipped the multiplication for a zero window, or a lookup that read
//! `table[window]` directly, would produce different traces and fail the test
//! (`private::tests`, `montgomery::tests`, `mont1024::tests`, `montgomery_ifma::tests`).
//!
//! What this does not show: that each primitive is constant time inside (that its instructions
//! do not branch on the values). That is argued function by function in each module's docs:
//! fixed loop bounds, masks instead of branches.
//!
//! Outside `cfg(test)` [`record`] is an empty inline function and the compiler removes the calls.

/// One step of a secret-dependent computation, as recorded by [`record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A Montgomery multiplication of numbers of this many limbs (or digits).
    Mul(usize),
    /// A Montgomery squaring of numbers of this many limbs (or digits).
    Sqr(usize),
    /// Entry `i` of an exponentiation's window table was read.
    TableRead(usize),
}

#[cfg(test)]
pub(crate) use recorder::{capture, record};

/// Outside tests, recording compiles to nothing.
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn record(_event: Event) {}

#[cfg(test)]
mod recorder {
    use super::Event;
    use std::cell::RefCell;

    thread_local! {
        static TRACE: RefCell<Option<Vec<Event>>> = const { RefCell::new(None) };
    }

    pub(crate) fn record(event: Event) {
        TRACE.with(|t| {
            if let Some(events) = t.borrow_mut().as_mut() {
                events.push(event);
            }
        });
    }

    /// Runs `f` and returns what it recorded on this thread.
    pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Event>) {
        TRACE.with(|t| *t.borrow_mut() = Some(Vec::new()));
        let out = f();
        let events = TRACE.with(|t| t.borrow_mut().take()).unwrap_or_default();
        (out, events)
    }
}
