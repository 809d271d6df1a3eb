//! [`TlsStream`]: a TLS connection over any `Read + Write`, itself `Read + Write`.
//!
//! [`TlsStream::connect`] and [`TlsStream::accept`] run the client or server handshake; if it
//! fails, the error's alert is sent once and the error returned. Afterwards reads and writes carry
//! protected application data. [`TlsStream::close`] sends close_notify; a read returns `Ok(0)`
//! only after the peer's close_notify, and a transport that ends without one is reported as an
//! error of kind `UnexpectedEof` whose source is [`Error::Truncated`](crate::error::Error::Truncated), never as a clean end.
//!
//! Renegotiation is refused: a ClientHello (at a server) or HelloRequest (at a client) after the
//! handshake is answered with a warning `no_renegotiation` inside a read, and the read goes on
//! waiting for application data (see [`crate::conn`] for the limit on repeated requests).
//!
//! A connection ended by a fatal alert (sent or received) removes its session from the cache, so
//! it is never resumed (RFC 5246 7.2.2); one whose transport merely closed early keeps it.

use crate::Side;
use crate::config::{ClientConfig, ServerConfig};
use crate::conn::Conn;
use crate::error::Result;
use crate::handshake::{Negotiated, client, server};
use crate::wire::messages::{CipherSuite, SessionId};
use std::io::{Read, Write};
use std::sync::Arc;

/// Whose session to forget if the connection fails.
enum Owner {
    Client(Arc<ClientConfig>, String, u16),
    Server(Arc<ServerConfig>),
}

/// An established TLS connection.
pub struct TlsStream<T: Read + Write> {
    conn: Conn<T>,
    negotiated: Negotiated,
    owner: Owner,
}

impl<T: Read + Write> TlsStream<T> {
    /// Runs the client handshake over `io` for `server_name` (verified against the certificate)
    /// and `port` (with the name, the key under which the session is kept for resumption).
    pub fn connect(io: T, config: Arc<ClientConfig>, server_name: &str, port: u16) -> Result<Self> {
        let mut conn = Conn::new(io, Side::Client, config.trace.clone());
        match client::handshake(&mut conn, &config, server_name, port) {
            Ok(negotiated) => Ok(TlsStream {
                conn,
                negotiated,
                owner: Owner::Client(config, server_name.to_string(), port),
            }),
            Err(e) => {
                let e = conn.fail(e);
                config.sessions.remove(server_name, port);
                Err(e)
            }
        }
    }

    /// Runs the server handshake over `io`.
    pub fn accept(io: T, config: Arc<ServerConfig>) -> Result<Self> {
        let mut conn = Conn::new(io, Side::Server, config.trace.clone());
        match server::handshake(&mut conn, &config) {
            Ok(negotiated) => Ok(TlsStream {
                conn,
                negotiated,
                owner: Owner::Server(config),
            }),
            Err(e) => {
                let e = conn.fail(e);
                // RFC 5246 7.2.2: a resumption that fails fatally invalidates its session too.
                if conn.fatal_alert && !conn.session_id.is_empty() {
                    config.sessions.remove(&conn.session_id);
                }
                Err(e)
            }
        }
    }

    /// The cipher suite in use.
    pub fn suite(&self) -> CipherSuite {
        self.negotiated.suite
    }

    /// True if this connection resumed an earlier session (abbreviated handshake).
    pub fn resumed(&self) -> bool {
        self.negotiated.resumed
    }

    /// True if the session's master secret is the extended one (RFC 7627): both sides sent the
    /// extension in the handshake that made the session.
    pub fn extended_master_secret(&self) -> bool {
        self.negotiated.extended_master_secret
    }

    /// True if this connection resumed its session from a session ticket (RFC 5077) rather than
    /// from the server's session cache.
    pub fn resumed_with_ticket(&self) -> bool {
        self.negotiated.resumed_with_ticket
    }

    /// The application protocol agreed with ALPN (RFC 7301), e.g. `b"http/1.1"`; `None` if the
    /// client offered none or the server chose none.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.negotiated.alpn_protocol.as_deref()
    }

    /// The server's certificate chain in DER, leaf first (empty on the server side).
    pub fn peer_certificates(&self) -> &[Vec<u8>] {
        &self.negotiated.peer_chain
    }

    /// The session ID (empty if the server does not cache sessions).
    pub fn session_id(&self) -> SessionId {
        self.negotiated.session_id
    }

    /// The server name the client asked for, if any.
    pub fn server_name(&self) -> Option<&str> {
        self.negotiated.server_name.as_deref()
    }

    /// The transport underneath.
    pub fn get_ref(&self) -> &T {
        &self.conn.io
    }

    /// The transport underneath (writing to it directly corrupts the connection).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.conn.io
    }

    /// Calls `f` whenever application data moves on this connection, either way (not for empty
    /// records, alerts or refused renegotiations): what an idle timeout watches
    /// ([`crate::net::serve`] passes it to the [`crate::net::timed::TimedStream`] underneath).
    pub fn on_application_data(&mut self, f: Arc<dyn Fn() + Send + Sync>) {
        self.conn.on_app_data = Some(f);
    }

    /// The record layer underneath, for the attack lab's switch ([`crate::lab`]).
    pub(crate) fn record_layer(&mut self) -> &mut crate::record::RecordLayer {
        &mut self.conn.rec
    }

    /// Sends close_notify: we will write nothing more (reading the peer's remaining data and its
    /// close_notify is still possible).
    pub fn close(&mut self) -> Result<()> {
        self.conn.close()
    }

    /// Reads application data (see the module documentation for end of stream).
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        let r = self.conn.read_app_data(buf);
        self.forget_session_if_failed();
        r
    }

    /// True if data (or a whole record) has already arrived, so that the next read returns
    /// without waiting for the peer: a reader that wants large blocks reads on while this holds.
    pub fn buffered(&self) -> bool {
        self.conn.has_buffered_data()
    }

    /// Sends all of `data` as application data.
    pub fn write_data(&mut self, data: &[u8]) -> Result<()> {
        let r = self.conn.write_app_data(data);
        self.forget_session_if_failed();
        r
    }

    /// RFC 5246 7.2.2: a connection ended by a fatal alert (sent or received) invalidates its
    /// session. A transport that merely closed early (truncation) does not.
    fn forget_session_if_failed(&self) {
        if !self.conn.fatal_alert {
            return;
        }
        match &self.owner {
            Owner::Client(cfg, name, port) => cfg.sessions.remove(name, *port),
            Owner::Server(cfg) => cfg.sessions.remove(&self.negotiated.session_id),
        }
    }
}

impl<T: Read + Write> Read for TlsStream<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(self.read_data(buf)?)
    }
}

impl<T: Read + Write> Write for TlsStream<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_data(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.conn.io.flush()
    }
}
