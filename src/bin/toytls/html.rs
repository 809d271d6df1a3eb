//! `--html FILE` for `demo`, `client` and `server`: the connections as one annotated web page,
//! drawn by [`toytls::html`] from one peer's trace events (the same events the demo narrates).
//!
//! A server may run for ever, so `toytls server --html FILE` draws the first
//! `--html-connections N` connections it accepts (8 unless told) and then stops recording: its
//! memory does not grow with the connections it serves. The page is rewritten each time one of
//! those connections ends, so it is there while the server still runs. Within a connection only
//! the first [`APP_DATA_BUDGET`] bytes of application-data records are kept; the records after
//! them are counted, and the page says how many were left out (the handshake, alerts and
//! close_notify are always drawn).

use clap::Args;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use toytls::html::{Connection, Page};
use toytls::net::timed::TimedStream;
use toytls::record::ContentType;
use toytls::trace::{TraceEvent, TraceLog, TraceSink};

#[derive(Args)]
pub struct HtmlArg {
    /// Write the connection(s) to FILE as one self-contained web page: every record's bytes in
    /// hex with every field named, every secret with the inputs it was made from, and a switch
    /// between what an eavesdropper sees and what the endpoints know. It holds the session keys.
    /// `-` (or /dev/stdout) writes it to standard output.
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
        write_page(&self.path, title, about, connections)
    }
}

/// Renders `connections` and writes them to `path`, made readable by its owner only.
fn write_page(
    path: &Path,
    title: &str,
    about: String,
    connections: Vec<Connection>,
) -> Result<String, String> {
    let page = toytls::html::render(&Page {
        title: title.to_string(),
        about,
        connections,
    });
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    // Our own standard output: the page follows what was printed there, through the same
    // handle, so that nothing printed before or after it lands in the middle of it.
    if ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]
        .iter()
        .any(|name| path == Path::new(name))
    {
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())
            .and_then(|()| out.flush())
            .map_err(failed)?;
        return Ok("standard output".to_string());
    }
    // A path that is not a plain file (a symbolic link, a named pipe, a terminal) gets the page
    // written through it: a file renamed over it would replace the link or the pipe. Only a
    // plain file at the end of it is truncated and narrowed to its owner; a pipe or a terminal
    // keeps its permissions.
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut open = std::fs::OpenOptions::new();
        open.write(true);
        let file = if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            open.truncate(true);
            toytls::keylog::open_secret_file(&mut open, path)
        } else {
            open.open(path)
        };
        file.and_then(|mut f| f.write_all(page.as_bytes()))
            .map_err(failed)?;
        return Ok(path.display().to_string());
    }
    // Written beside it and renamed over it, so that a reader (a browser, while a server
    // rewrites its page) never finds half a page.
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    toytls::keylog::open_secret_file(&mut open, &partial)
        .and_then(|mut f| f.write_all(page.as_bytes()))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(failed)?;
    Ok(path.display().to_string())
}

/// Application-data bytes (on the wire) a server page keeps per connection; records past them
/// are counted, not kept.
pub const APP_DATA_BUDGET: usize = 256 * 1024;

#[derive(Args)]
pub struct ServerHtmlArg {
    /// Write the first --html-connections connections served to FILE as one web page (see
    /// `toytls client --html`), rewritten as each of them ends; later connections are not
    /// recorded. It holds the session keys.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How many connections (in the order accepted) the --html page draws.
    #[arg(long, value_name = "N", default_value_t = 8, requires = "html",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub html_connections: u32,
}

/// The server's recorder: the events of each recorded connection, told apart by the worker
/// thread that serves it (a connection runs on one thread from accept to close).
pub struct ServerPages {
    path: PathBuf,
    about: String,
    max: usize,
    /// False once `max` connections have been taken and all of them ended: nothing is recorded.
    active: AtomicBool,
    state: Mutex<Served>,
    /// Held while the page is written: connections ending at once write in turn, each what
    /// has ended by its turn, so the last page written is the most complete.
    writing: Mutex<()>,
}

#[derive(Default)]
struct Served {
    /// Connections taken for the page so far.
    taken: usize,
    /// Connections ever taken (their numbers, in accept order).
    numbered: usize,
    open: HashMap<ThreadId, Open>,
    /// Finished ones, with their number in accept order.
    done: Vec<(usize, Connection)>,
}

struct Open {
    n: usize,
    peer: String,
    events: Vec<TraceEvent>,
    app_bytes: usize,
    left_out: (usize, usize),
}

impl ServerHtmlArg {
    pub fn recorder(&self, about: String) -> Option<Arc<ServerPages>> {
        self.html.as_ref().map(|p| {
            Arc::new(ServerPages {
                path: p.clone(),
                about,
                max: self.html_connections as usize,
                active: AtomicBool::new(true),
                state: Mutex::new(Served::default()),
                writing: Mutex::new(()),
            })
        })
    }
}

impl ServerPages {
    fn state(&self) -> std::sync::MutexGuard<'_, Served> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection from `peer` starts on this thread: records it if the page has room; the
    /// returned transport ends it when dropped.
    pub fn watch<T>(self: &Arc<Self>, io: T, peer: String) -> Watched<T> {
        let mut s = self.state();
        let pages = (s.taken < self.max).then(|| {
            s.taken += 1;
            s.numbered += 1;
            let n = s.numbered;
            s.open.insert(
                std::thread::current().id(),
                Open {
                    n,
                    peer,
                    events: Vec::new(),
                    app_bytes: 0,
                    left_out: (0, 0),
                },
            );
            self.clone()
        });
        Watched { io, pages }
    }

    /// The connection on this thread has ended: it joins the page, which is written again.
    fn end(&self) {
        {
            let mut s = self.state();
            let Some(o) = s.open.remove(&std::thread::current().id()) else {
                return;
            };
            if o.events.is_empty() {
                // Not a TLS connection (a port probe, a client that sent nothing): its place
                // goes to the next one.
                s.taken -= 1;
                return;
            }
            let peer = match o.left_out {
                (0, _) => o.peer,
                (records, bytes) => format!(
                    "{} (after the first {} KiB of application data, {records} more records, \
                     {bytes} bytes, are left out of this page)",
                    o.peer,
                    APP_DATA_BUDGET / 1024
                ),
            };
            s.done.push((
                o.n,
                Connection {
                    peer,
                    events: o.events,
                },
            ));
            s.done.sort_by_key(|(n, _)| *n);
            if s.taken == self.max && s.open.is_empty() {
                self.active.store(false, Ordering::Relaxed);
            }
        }
        let _turn = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let connections = {
            let s = self.state();
            s.done
                .iter()
                .map(|(_, c)| Connection {
                    peer: c.peer.clone(),
                    events: c.events.clone(),
                })
                .collect::<Vec<_>>()
        };
        let title = "TLS 1.2 connections served, byte by byte";
        if let Err(e) = write_page(&self.path, title, self.about.clone(), connections) {
            eprintln!("toytls server: {e}");
        }
    }
}

impl TraceSink for ServerPages {
    fn event(&self, e: &TraceEvent) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let mut s = self.state();
        let Some(o) = s.open.get_mut(&std::thread::current().id()) else {
            return;
        };
        if let TraceEvent::Record {
            content_type: ContentType::ApplicationData,
            wire,
            ..
        } = e
        {
            if o.app_bytes + wire.len() > APP_DATA_BUDGET {
                o.left_out.0 += 1;
                o.left_out.1 += wire.len();
                return;
            }
            o.app_bytes += wire.len();
        }
        o.events.push(e.clone());
    }
}

/// A server connection's transport, which tells the recorder when the connection is over.
pub struct Watched<T> {
    io: T,
    pages: Option<Arc<ServerPages>>,
}

impl<T> Watched<T> {
    /// A transport no page is drawn of.
    pub fn unwatched(io: T) -> Watched<T> {
        Watched { io, pages: None }
    }
}

impl<T> Drop for Watched<T> {
    fn drop(&mut self) {
        if let Some(p) = self.pages.take() {
            p.end();
        }
    }
}

impl<T: Read> Read for Watched<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.io.read(buf)
    }
}

impl<T: Write> Write for Watched<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.io.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.io.flush()
    }
}

impl<T: AsMut<TimedStream>> AsMut<TimedStream> for Watched<T> {
    fn as_mut(&mut self) -> &mut TimedStream {
        self.io.as_mut()
    }
}

/// `sink` and `other` together (`--trace` and `--html`), or whichever there is.
pub fn tee(
    sink: Option<Arc<dyn TraceSink>>,
    other: Option<Arc<dyn TraceSink>>,
) -> Option<Arc<dyn TraceSink>> {
    match (sink, other) {
        (Some(a), Some(b)) => Some(Arc::new(Tee(vec![a, b]))),
        (a, b) => a.or(b),
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
