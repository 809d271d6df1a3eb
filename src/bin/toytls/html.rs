//! `--html FILE` for `demo` and `client`: the connections as one annotated web page, drawn by
//! [`toytls::html`] from the client's trace events (the same events the demo narrates).

use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use toytls::html::{Connection, Page};
use toytls::trace::{TraceEvent, TraceLog, TraceSink};

#[derive(Args)]
pub struct HtmlArg {
    /// Write the connection(s) to FILE as one self-contained web page: every record's bytes in
    /// hex with every field named, every secret with the inputs it was made from, and a switch
    /// between what an eavesdropper sees and what the endpoints know. It holds the session keys.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Collects the client's events, one connection at a time, when `--html` was given.
pub struct HtmlRecorder {
    path: PathBuf,
    log: Arc<TraceLog>,
    done: Mutex<Vec<Connection>>,
}

impl HtmlArg {
    pub fn recorder(&self) -> Option<Arc<HtmlRecorder>> {
        self.html.as_ref().map(|p| {
            Arc::new(HtmlRecorder {
                path: p.clone(),
                log: TraceLog::new(),
                done: Mutex::new(Vec::new()),
            })
        })
    }
}

impl HtmlRecorder {
    /// The sink to give the client (together with `other`, if it already has one).
    pub fn sink(&self, other: Option<Arc<dyn TraceSink>>) -> Arc<dyn TraceSink> {
        let mine: Arc<dyn TraceSink> = self.log.clone();
        match other {
            Some(o) => Arc::new(Tee(vec![o, mine])),
            None => mine,
        }
    }

    /// The connection whose events were logged since the last call is over.
    pub fn connection_done(&self, peer: String) {
        let events = self.log.take();
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Connection { peer, events });
    }

    /// The events logged since the last connection, if any, as one more (unfinished) connection.
    pub fn connection_done_if_any(&self, peer: &str) {
        let events = self.log.take();
        if !events.is_empty() {
            self.done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Connection {
                    peer: format!("{peer} (the connection did not complete)"),
                    events,
                });
        }
    }

    /// Writes the page (readable by its owner only: it holds the session keys); returns the path.
    pub fn write(&self, title: &str, about: String) -> Result<String, String> {
        let connections = std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()));
        let page = toytls::html::render(&Page {
            title: title.to_string(),
            about,
            connections,
        });
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create(true).truncate(true);
        toytls::keylog::open_secret_file(&mut open, &self.path)
            .and_then(|mut f| f.write_all(page.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        Ok(self.path.display().to_string())
    }
}

/// Hands every event to each of several sinks.
struct Tee(Vec<Arc<dyn TraceSink>>);

impl TraceSink for Tee {
    fn event(&self, e: &TraceEvent) {
        for s in &self.0 {
            s.event(e);
        }
    }
}
