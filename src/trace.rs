//! Structured trace events: what a connection did, for the demo, `--trace` and tests.
//!
//! The library never prints. A peer configured with a [`TraceSink`] receives one [`TraceEvent`]
//! for every handshake message sent or received (its decoded fields and its exact bytes), every
//! ChangeCipherSpec and alert, every secret derived (with the label the PRF used), and every
//! record protected or opened (with its bytes on the wire). The CLI renders them; tests assert
//! on them. Without a sink nothing is built: events are created by closures that only run when
//! someone listens, so the record hot path does not allocate for tracing.

use crate::Side;
use crate::wire::alert::{AlertDescription, AlertLevel};
use std::sync::{Arc, Mutex};

/// Whether the emitting peer sent or received the thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Sent,
    Received,
}

/// One thing that happened on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A handshake message, with its decoded fields and its bytes (4-byte header included).
    Handshake {
        side: Side,
        dir: Dir,
        name: String,
        fields: Vec<(&'static str, String)>,
        raw: Vec<u8>,
    },
    /// A ChangeCipherSpec: from now on this direction is protected.
    ChangeCipherSpec { side: Side, dir: Dir },
    /// An alert.
    Alert {
        side: Side,
        dir: Dir,
        level: AlertLevel,
        description: AlertDescription,
    },
    /// A secret or key was derived (or chosen, for the pre-master secret).
    Secret {
        side: Side,
        /// What it is, e.g. `"master secret"`, `"client write key"`.
        label: &'static str,
        value: Vec<u8>,
    },
    /// A record crossed the wire.
    Record {
        side: Side,
        dir: Dir,
        /// The content type byte (20 CCS, 21 alert, 22 handshake, 23 application data).
        content_type: u8,
        /// The sequence number the record was protected with; `None` before ChangeCipherSpec.
        seq: Option<u64>,
        /// Length of the plaintext inside.
        plaintext_len: usize,
        /// The record exactly as on the wire, header included.
        wire: Vec<u8>,
    },
    /// A step of the handshake worth narrating ("certificate chain verified", "session resumed").
    Note { side: Side, text: String },
}

/// Receives trace events. Must be cheap and must not fail: it runs inside the handshake.
pub trait TraceSink: Send + Sync {
    fn event(&self, e: &TraceEvent);
}

/// A sink that keeps every event in memory (tests, the demo).
#[derive(Default)]
pub struct TraceLog {
    events: Mutex<Vec<TraceEvent>>,
}

impl TraceLog {
    pub fn new() -> Arc<TraceLog> {
        Arc::new(TraceLog::default())
    }

    /// Removes and returns everything logged so far.
    pub fn take(&self) -> Vec<TraceEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl TraceSink for TraceLog {
    fn event(&self, e: &TraceEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e.clone());
    }
}

/// A connection's handle on its optional sink.
#[derive(Clone)]
pub struct Tracer {
    side: Side,
    sink: Option<Arc<dyn TraceSink>>,
}

impl Tracer {
    pub fn new(side: Side, sink: Option<Arc<dyn TraceSink>>) -> Self {
        Tracer { side, sink }
    }

    /// True when someone listens (so callers may skip expensive preparation).
    pub fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// Builds and delivers an event, only if someone listens.
    pub fn emit(&self, build: impl FnOnce(Side) -> TraceEvent) {
        if let Some(sink) = &self.sink {
            sink.event(&build(self.side));
        }
    }

    /// A secret was derived.
    pub fn secret(&self, label: &'static str, value: &[u8]) {
        self.emit(|side| TraceEvent::Secret {
            side,
            label,
            value: value.to_vec(),
        });
    }

    /// A narrated step.
    pub fn note(&self, text: impl FnOnce() -> String) {
        self.emit(|side| TraceEvent::Note { side, text: text() });
    }
}
