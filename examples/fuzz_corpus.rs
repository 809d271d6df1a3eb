//! Writes the seed corpora of the `record`, `handshake_message`, `server`, `client` and `ticket`
//! fuzz targets
//! from messages and handshakes made by toytls' own code, so the committed corpus is reproducible:
//!
//! ```text
//! fuzz/make_x509_corpus.sh                      # first: certificates made by the openssl CLI
//! cargo run --example fuzz_corpus -- fuzz/corpus
//! ```
//!
//! The Certificate message of the handshake corpus carries the openssl-made chain from
//! `fuzz/corpus/x509/`, so run the x509 script first. Everything else is deterministic: fixed
//! randoms, fixed keys (the record target's, from `fuzz/src/lib.rs`), no RNG.
//!
//! The handshake seeds are real connections between our client and our server, configured
//! exactly as the fuzz targets configure them (`entries::client_config` / `server_config`: fixed
//! keys, seeded RNGs, fixed clock), run over an in-memory pipe that records what each side sent.
//! Replaying the client's bytes into a fresh fuzzed server reproduces the same handshake to the
//! end, Finished included, and the same for the client.
//!
//! `examples/fuzz_corpus_openssl.rs` records the same kind of seeds with OpenSSL as the peer.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod entries;

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use entries::{RECORD_CONN, RECORD_FIX_VERSION, RECORD_GCM, RECORD_TRACE};

use toytls::Side;
use toytls::record::{ContentType, MAX_PLAINTEXT, RecordLayer};
use toytls::stream::TlsStream;
use toytls::trace::Tracer;
use toytls::wire::alert::AlertDescription;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::extensions::{EXTENDED_MASTER_SECRET, RENEGOTIATION_INFO};
use toytls::wire::messages::{
    AlertMessage, CertificateMsg, CertificateRequest, CertificateVerify, ChangeCipherSpec,
    CipherSuite, ClientHello, ClientKeyExchange, Extension, Finished, HandshakeMessage,
    NewSessionTicket, ProtocolVersion, Random, ServerHello, ServerHelloDone, SessionId,
    client_auth,
};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let chain = openssl_chain(&out.join("x509"))?;
    let flights = Flights::new(chain)?;
    handshake_corpus(&out.join("handshake_message"), &flights)?;
    record_corpus(&out.join("record"), &flights)?;
    handshake_flights(&out.join("server"), &out.join("client"))?;
    ticket_corpus(&out.join("ticket"))?;
    Ok(())
}

/// The leaf and CA certificates written by `fuzz/make_x509_corpus.sh`.
fn openssl_chain(dir: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| {
            format!(
                "{}: {e} (run fuzz/make_x509_corpus.sh first)",
                dir.join(name).display()
            )
        })
    };
    Ok(vec![read("leaf.der")?, read("ca.der")?])
}

/// Every message of a full handshake, encoded with their 4-byte headers.
struct Flights {
    client_hello: Vec<u8>,
    client_hello_resume: Vec<u8>,
    server_hello: Vec<u8>,
    certificate: Vec<u8>,
    server_hello_done: Vec<u8>,
    client_key_exchange: Vec<u8>,
    finished: Vec<u8>,
    hello_request: Vec<u8>,
    /// Client certificates (RFC 5246 7.4.4, 7.4.8): the request our server sends (naming one
    /// CA), and a CertificateVerify shaped like ours (rsa_pkcs1_sha256, a 2048-bit signature).
    certificate_request: Vec<u8>,
    certificate_verify: Vec<u8>,
    /// A ClientHello presenting a ticket and offering two protocols (RFC 5077, RFC 7301).
    client_hello_ticket_alpn: Vec<u8>,
    /// A ServerHello promising a ticket and choosing a protocol.
    server_hello_ticket_alpn: Vec<u8>,
    new_session_ticket: Vec<u8>,
}

impl Flights {
    fn new(chain: Vec<Vec<u8>>) -> Result<Flights, Error> {
        let session = SessionId::new(&[0x5e; 32]).ok_or("session id")?;
        let bytes = |m: HandshakeMessage| m.to_bytes();
        Ok(Flights {
            client_hello: bytes(HandshakeMessage::ClientHello(ClientHello {
                client_version: ProtocolVersion::TLS12,
                random: Random([0xc1; 32]),
                session_id: SessionId::EMPTY,
                cipher_suites: vec![
                    TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
                    CipherSuite(0x009C),
                    CipherSuite(0x00FF),
                ],
                compression_methods: vec![0],
                extensions: Some(vec![
                    Extension::server_name("localhost"),
                    Extension {
                        typ: EXTENDED_MASTER_SECRET,
                        data: vec![],
                    },
                    Extension {
                        typ: RENEGOTIATION_INFO,
                        data: vec![0],
                    },
                ]),
            }))?,
            client_hello_resume: bytes(HandshakeMessage::ClientHello(ClientHello {
                client_version: ProtocolVersion::TLS12,
                random: Random([0xc2; 32]),
                session_id: session,
                cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
                compression_methods: vec![0],
                extensions: None,
            }))?,
            server_hello: bytes(HandshakeMessage::ServerHello(ServerHello {
                server_version: ProtocolVersion::TLS12,
                random: Random([0x5a; 32]),
                session_id: session,
                cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
                compression_method: 0,
                extensions: Some(vec![Extension {
                    typ: RENEGOTIATION_INFO,
                    data: vec![0],
                }]),
            }))?,
            certificate: bytes(HandshakeMessage::Certificate(CertificateMsg { chain }))?,
            server_hello_done: bytes(HandshakeMessage::ServerHelloDone(ServerHelloDone))?,
            client_key_exchange: bytes(HandshakeMessage::ClientKeyExchange(ClientKeyExchange {
                encrypted_pre_master: (0..=255u8).collect(),
            }))?,
            finished: bytes(HandshakeMessage::Finished(Finished {
                verify_data: [0xf1; 12],
            }))?,
            hello_request: bytes(HandshakeMessage::HelloRequest)?,
            certificate_request: bytes(HandshakeMessage::CertificateRequest(CertificateRequest {
                certificate_types: vec![client_auth::RSA_SIGN],
                signature_algorithms: vec![
                    client_auth::RSA_PKCS1_SHA256,
                    client_auth::RSA_PKCS1_SHA384,
                    client_auth::RSA_PKCS1_SHA512,
                ],
                certificate_authorities: vec![
                    toytls::x509::name::Name::common_name("toytls fuzz CA")
                        .der()
                        .to_vec(),
                ],
            }))?,
            certificate_verify: bytes(HandshakeMessage::CertificateVerify(CertificateVerify {
                algorithm: client_auth::RSA_PKCS1_SHA256,
                signature: vec![0x5c; 256],
            }))?,
            client_hello_ticket_alpn: bytes(HandshakeMessage::ClientHello(ClientHello {
                client_version: ProtocolVersion::TLS12,
                random: Random([0xc3; 32]),
                session_id: SessionId::new(&[0x51; 32]).ok_or("session id")?,
                cipher_suites: vec![TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256],
                compression_methods: vec![0],
                extensions: Some(vec![
                    Extension::session_ticket(&sealed_ticket()?),
                    Extension::alpn(&[b"h2".to_vec(), b"http/1.1".to_vec()]),
                    Extension::extended_master_secret(),
                ]),
            }))?,
            server_hello_ticket_alpn: bytes(HandshakeMessage::ServerHello(ServerHello {
                server_version: ProtocolVersion::TLS12,
                random: Random([0x5b; 32]),
                session_id: SessionId::EMPTY,
                cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
                compression_method: 0,
                extensions: Some(vec![
                    Extension::session_ticket(&[]),
                    Extension::alpn(&[b"http/1.1".to_vec()]),
                ]),
            }))?,
            new_session_ticket: bytes(HandshakeMessage::NewSessionTicket(NewSessionTicket {
                lifetime_hint: 3600,
                ticket: sealed_ticket()?,
            }))?,
        })
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<(), Error> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), data)?;
    println!("{} ({} bytes)", dir.join(name).display(), data.len());
    Ok(())
}

fn handshake_corpus(dir: &Path, f: &Flights) -> Result<(), Error> {
    write(dir, "client_hello", &f.client_hello)?;
    write(dir, "client_hello_resume", &f.client_hello_resume)?;
    write(dir, "server_hello", &f.server_hello)?;
    write(dir, "certificate", &f.certificate)?;
    write(dir, "server_hello_done", &f.server_hello_done)?;
    write(dir, "client_key_exchange", &f.client_key_exchange)?;
    write(dir, "finished", &f.finished)?;
    write(dir, "hello_request", &f.hello_request)?;
    let server_flight = [&f.server_hello[..], &f.certificate, &f.server_hello_done].concat();
    write(dir, "server_flight", &server_flight)?;
    write(
        dir,
        "client_flight",
        &[&f.client_key_exchange[..], &f.finished].concat(),
    )?;
    write(dir, "certificate_request", &f.certificate_request)?;
    write(dir, "certificate_verify", &f.certificate_verify)?;
    write(
        dir,
        "server_flight_client_auth",
        &[
            &f.server_hello[..],
            &f.certificate,
            &f.certificate_request,
            &f.server_hello_done,
        ]
        .concat(),
    )?;
    write(
        dir,
        "client_flight_client_auth",
        &[
            &f.certificate[..],
            &f.client_key_exchange,
            &f.certificate_verify,
            &f.finished,
        ]
        .concat(),
    )?;
    write(dir, "client_hello_ticket_alpn", &f.client_hello_ticket_alpn)?;
    write(dir, "new_session_ticket", &f.new_session_ticket)?;
    // An abbreviated handshake's first server flight with a renewed ticket (RFC 5077 3.1).
    write(
        dir,
        "server_resume_flight_ticket",
        &[&f.server_hello_ticket_alpn[..], &f.new_session_ticket].concat(),
    )?;
    Ok(())
}

/// The fixed session sealed under the fuzz targets' fixed ticket key, at their fixed time.
fn sealed_ticket() -> Result<Vec<u8>, Error> {
    Ok(entries::fixed_ticket())
}

/// Seeds of the `ticket` target: a ticket that opens under the fixed key (with the server's
/// certificate in its peer chain), and the bare state such a ticket seals.
fn ticket_corpus(dir: &Path) -> Result<(), Error> {
    write(dir, "sealed", &sealed_ticket()?)?;
    let state = toytls::handshake::ticket::encode_state(&entries::fixed_session())?;
    write(dir, "state", &state)?;
    let mut bare = entries::fixed_session();
    bare.peer_chain.clear();
    bare.extended_master_secret = false;
    write(
        dir,
        "state_without_chain",
        &toytls::handshake::ticket::encode_state(&bare)?,
    )?;
    Ok(())
}

/// A record target input: the settings bytes (see `entries::record`), then the stream.
fn record_input(flags: u8, chunks: [u8; 4], stream: &[u8]) -> Vec<u8> {
    let mut v = vec![flags];
    v.extend_from_slice(&chunks);
    v.extend_from_slice(stream);
    v
}

fn record_corpus(dir: &Path, f: &Flights) -> Result<(), Error> {
    let layer = || RecordLayer::new(Tracer::new(Side::Client, None));

    // A first ClientHello in one record, as every connection starts.
    let mut hello = Vec::new();
    layer().write_records(&mut hello, ContentType::Handshake, &f.client_hello)?;
    write(dir, "client_hello", &record_input(0, [0; 4], &hello))?;
    // The same split into tiny reads, and in a {3,1} record as old clients frame it.
    write(
        dir,
        "client_hello_chunked",
        &record_input(0, [1, 2, 3, 7], &hello),
    )?;
    let mut old = hello.clone();
    old[2] = 1;
    write(
        dir,
        "client_hello_tls10_record",
        &record_input(0, [0; 4], &old),
    )?;

    // The server's flight: messages split across records and sharing records.
    let flight = [&f.server_hello[..], &f.certificate, &f.server_hello_done].concat();
    let mut stream = Vec::new();
    let mut l = layer();
    let (a, b) = flight.split_at(flight.len() / 3);
    l.write_records(&mut stream, ContentType::Handshake, a)?;
    l.write_records(&mut stream, ContentType::Handshake, b)?;
    write(
        dir,
        "server_flight",
        &record_input(RECORD_FIX_VERSION, [0, 5, 200, 17], &stream),
    )?;

    // A whole client flight: ClientKeyExchange, ChangeCipherSpec, then under the fuzzing keys a
    // protected Finished, application data and close_notify. The target switches to the same keys
    // when it reads the ChangeCipherSpec, so it gets to open these records.
    let mut stream = Vec::new();
    let mut l = layer();
    l.write_records(&mut stream, ContentType::Handshake, &f.client_key_exchange)?;
    l.write_records(
        &mut stream,
        ContentType::ChangeCipherSpec,
        &ChangeCipherSpec::BYTES,
    )?;
    l.prepare(
        entries::record_protection_for(0),
        entries::record_protection_for(0),
    );
    l.change_write_state()?;
    l.write_records(&mut stream, ContentType::Handshake, &f.finished)?;
    l.write_records(
        &mut stream,
        ContentType::ApplicationData,
        b"GET / HTTP/1.0\r\n\r\n",
    )?;
    l.write_records(
        &mut stream,
        ContentType::Alert,
        &AlertMessage::close_notify().to_bytes(),
    )?;
    write(
        dir,
        "client_flight_protected",
        &record_input(RECORD_FIX_VERSION | RECORD_TRACE, [0; 4], &stream),
    )?;

    // The same under GCM (RFC 5288) with the same keys: ClientKeyExchange, ChangeCipherSpec, then a
    // protected Finished, application data and close_notify. The target switches to the same keys
    // when it reads the ChangeCipherSpec, so it gets to open these records.
    let mut stream = Vec::new();
    let mut l = layer();
    l.write_records(&mut stream, ContentType::Handshake, &f.client_key_exchange)?;
    l.write_records(
        &mut stream,
        ContentType::ChangeCipherSpec,
        &ChangeCipherSpec::BYTES,
    )?;
    l.prepare(
        entries::record_protection_for(RECORD_GCM),
        entries::record_protection_for(RECORD_GCM),
    );
    l.change_write_state()?;
    l.write_records(&mut stream, ContentType::Handshake, &f.finished)?;
    l.write_records(
        &mut stream,
        ContentType::ApplicationData,
        b"GET / HTTP/1.0\r\n\r\n",
    )?;
    l.write_records(
        &mut stream,
        ContentType::Alert,
        &AlertMessage::close_notify().to_bytes(),
    )?;
    write(
        dir,
        "client_flight_gcm",
        &record_input(RECORD_GCM | RECORD_TRACE, [0; 4], &stream),
    )?;

    // The same flight with a ClientHello in front, read through a connection's handshake
    // reassembler: ClientHello and the start of ClientKeyExchange share a record, the rest of
    // ClientKeyExchange comes in the next one, and the transport hands out a few bytes at a time.
    let mut stream = Vec::new();
    let mut l = layer();
    let hello_and_kx = [&f.client_hello[..], &f.client_key_exchange].concat();
    let (first, second) = hello_and_kx.split_at(f.client_hello.len() + 100);
    l.write_records(&mut stream, ContentType::Handshake, first)?;
    l.write_records(&mut stream, ContentType::Handshake, second)?;
    l.write_records(
        &mut stream,
        ContentType::ChangeCipherSpec,
        &ChangeCipherSpec::BYTES,
    )?;
    l.prepare(
        entries::record_protection_for(0),
        entries::record_protection_for(0),
    );
    l.change_write_state()?;
    l.write_records(&mut stream, ContentType::Handshake, &f.finished)?;
    l.write_records(
        &mut stream,
        ContentType::ApplicationData,
        b"GET / HTTP/1.0\r\n\r\n",
    )?;
    l.write_records(
        &mut stream,
        ContentType::Alert,
        &AlertMessage::close_notify().to_bytes(),
    )?;
    write(
        dir,
        "conn_client_flight",
        &record_input(RECORD_CONN, [0; 4], &stream),
    )?;
    write(
        dir,
        "conn_client_flight_chunked",
        &record_input(RECORD_CONN, [3, 1, 0, 250], &stream),
    )?;

    // The largest record allowed, protected.
    let mut stream = Vec::new();
    let mut l = layer();
    l.write_records(
        &mut stream,
        ContentType::ChangeCipherSpec,
        &ChangeCipherSpec::BYTES,
    )?;
    l.prepare(
        entries::record_protection_for(0),
        entries::record_protection_for(0),
    );
    l.change_write_state()?;
    l.write_records(
        &mut stream,
        ContentType::ApplicationData,
        &vec![0xda; MAX_PLAINTEXT],
    )?;
    write(dir, "largest_record", &record_input(0, [0; 4], &stream))?;

    // A plaintext fatal alert, as a failing handshake ends.
    let mut stream = Vec::new();
    layer().write_records(
        &mut stream,
        ContentType::Alert,
        &AlertMessage::fatal(AlertDescription::HandshakeFailure).to_bytes(),
    )?;
    write(dir, "fatal_alert", &record_input(0, [0; 4], &stream))?;
    Ok(())
}

/// One end of an in-memory duplex pipe that also keeps a copy of everything it sends.
struct End {
    rx: Receiver<Vec<u8>>,
    tx: Sender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    sent: Arc<Mutex<Vec<u8>>>,
}

fn pipe() -> (End, End) {
    let (a_tx, b_rx) = channel();
    let (b_tx, a_rx) = channel();
    let end = |rx, tx| End {
        rx,
        tx,
        buf: vec![],
        pos: 0,
        sent: Arc::default(),
    };
    (end(a_rx, a_tx), end(b_rx, b_tx))
}

impl Read for End {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(b) => (self.buf, self.pos) = (b, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for End {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.sent
            .lock()
            .map_err(|_| ErrorKind::Other)?
            .extend_from_slice(b);
        self.tx
            .send(b.to_vec())
            .map_err(|_| ErrorKind::BrokenPipe)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs one connection between the fuzz targets' client and server configurations: the client
/// sends "ping", the server answers "pong", both send close_notify. Returns (client bytes, server bytes).
fn record_connection(
    client_session: bool,
    server_session: bool,
    server_prefers_gcm: bool,
    client_ticket: bool,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let client_flags = if client_ticket {
        entries::HANDSHAKE_TICKET
    } else {
        0
    };
    record_connection_with(
        client_session,
        server_session,
        server_prefers_gcm,
        0,
        client_flags,
    )
}

/// [`record_connection`], with `server_flags` (the server target's settings byte) added to the
/// server's configuration: [`entries::HANDSHAKE_CLIENT_AUTH`] makes it ask for a certificate;
/// and `client_flags` to the client's: [`entries::HANDSHAKE_TICKET`] makes its session hold the
/// fixed ticket, [`entries::HANDSHAKE_CLIENT_AUTH`] gives it the fixed client certificate.
fn record_connection_with(
    client_session: bool,
    server_session: bool,
    server_prefers_gcm: bool,
    server_flags: u8,
    client_flags: u8,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let client_ticket = client_flags & entries::HANDSHAKE_TICKET != 0;
    let (c_end, s_end) = pipe();
    let (c_sent, s_sent) = (c_end.sent.clone(), s_end.sent.clone());
    let server = std::thread::spawn(move || -> Result<bool, String> {
        let mut config = entries::server_config(server_session, server_prefers_gcm);
        if server_flags & entries::HANDSHAKE_CLIENT_AUTH != 0 {
            config.client_auth = entries::server_config_for_flags(server_flags).client_auth;
        }
        let config = Arc::new(config);
        let mut s = TlsStream::accept(s_end, config).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            got += s.read_data(&mut buf[got..]).map_err(|e| e.to_string())?;
        }
        s.write_data(b"pong").map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())?;
        // Wait for the client's close_notify before hanging up.
        while s.read_data(&mut buf).map_err(|e| e.to_string())? > 0 {}
        Ok(s.resumed())
    });
    let client = || -> Result<bool, Error> {
        let mut flags = if client_session {
            entries::HANDSHAKE_SESSION
        } else {
            0
        };
        if client_ticket {
            flags |= entries::HANDSHAKE_TICKET;
        }
        flags |= client_flags & entries::HANDSHAKE_CLIENT_AUTH;
        let config = Arc::new(entries::client_config_for_flags(flags));
        let (host, port) = (entries::HANDSHAKE_HOST, entries::HANDSHAKE_PORT);
        let mut c = TlsStream::connect(c_end, config, host, port)?;
        c.write_data(b"ping")?;
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            got += c.read_data(&mut buf[got..])?;
        }
        c.close()?;
        while c.read_data(&mut buf)? > 0 {}
        Ok(c.resumed())
    };
    let client_result = client();
    let server_result = server.join().map_err(|_| "server thread panicked")?;
    let (resumed, server_resumed) = match (client_result, server_result) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => return Err(format!("client: {c:?}, server: {s:?}").into()),
    };
    let should_resume = client_session && (server_session || client_ticket);
    if resumed != should_resume || server_resumed != resumed {
        return Err("the connection did not resume as planned".into());
    }
    let take = |v: Arc<Mutex<Vec<u8>>>| v.lock().map(|v| v.clone()).map_err(|_| "poisoned");
    Ok((take(c_sent)?, take(s_sent)?))
}

/// A handshake target input: the flags byte, then the peer's bytes.
fn handshake_input(with_session: bool, peer_bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![if with_session {
        entries::HANDSHAKE_SESSION
    } else {
        0
    }];
    v.extend_from_slice(peer_bytes);
    v
}

fn handshake_flights(server_dir: &Path, client_dir: &Path) -> Result<(), Error> {
    // (client holds the session, server holds it, server prefers GCM, the client's session
    // holds a ticket, name). Every full handshake issues a ticket (both sides take them by
    // default); "resumed_ticket" resumes from one, statelessly.
    for (cs, ss, gcm, ticket, name) in [
        (false, false, false, false, "full"),
        (true, true, false, false, "resumed"),
        (true, false, false, false, "resumption_refused"),
        (false, false, true, false, "full_gcm"),
        (true, false, false, true, "resumed_ticket"),
    ] {
        let (client_bytes, server_bytes) = record_connection(cs, ss, gcm, ticket)?;
        // The server target replays what the client sent, against the server's configuration.
        let mut server_input = handshake_input(ss, &client_bytes);
        if gcm {
            server_input[0] |= entries::HANDSHAKE_SERVER_GCM;
        }
        write(server_dir, name, &server_input)?;
        let mut client_input = handshake_input(cs, &server_bytes);
        if ticket {
            client_input[0] |= entries::HANDSHAKE_TICKET;
        }
        write(client_dir, name, &client_input)?;
        if name == "full" {
            // The same with a trace sink attached, as `--trace` runs it.
            let traced = |mut v: Vec<u8>| {
                v[0] |= entries::HANDSHAKE_TRACE;
                v
            };
            let (s, c) = (&client_bytes, &server_bytes);
            write(server_dir, "full_traced", &traced(handshake_input(ss, s)))?;
            write(client_dir, "full_traced", &traced(handshake_input(cs, c)))?;
        }
        if name == "full" {
            // A server that asks for a client certificate (RFC 5246 7.4.4), and our client
            // without one: its empty Certificate for the server target; the CertificateRequest
            // for the client target, answered empty, and (with a certificate) with a chain and
            // a CertificateVerify, after which that client's Finished no longer matches.
            let auth = entries::HANDSHAKE_CLIENT_AUTH;
            let (c, s) = record_connection_with(cs, ss, gcm, auth, 0)?;
            let mut server_input = handshake_input(ss, &c);
            server_input[0] |= auth;
            write(server_dir, "client_auth_anonymous", &server_input)?;
            write(
                client_dir,
                "client_auth_anonymous",
                &handshake_input(cs, &s),
            )?;
            let mut client_input = handshake_input(cs, &s);
            client_input[0] |= auth;
            write(client_dir, "client_auth_with_certificate", &client_input)?;
            // Mutual authentication: the client holds the fixed client certificate and key
            // (issued by the client CA the server trusts), so the server verifies a real chain
            // as a client certificate and its CertificateVerify against the transcript
            // (RFC 5246 7.4.8), and the handshake completes on both targets.
            let (c, s) = record_connection_with(cs, ss, gcm, auth, auth)?;
            let mut server_input = handshake_input(ss, &c);
            server_input[0] |= auth;
            write(server_dir, "client_auth_mutual", &server_input)?;
            let mut client_input = handshake_input(cs, &s);
            client_input[0] |= auth;
            write(client_dir, "client_auth_mutual", &client_input)?;
        }
        if name == "full" {
            // Just the first flight: the ClientHello record alone, and the server's first flight.
            let first = |b: &[u8]| -> Vec<u8> {
                let len = 5 + u16::from_be_bytes([b[3], b[4]]) as usize;
                b[..len].to_vec()
            };
            write(
                server_dir,
                "client_hello",
                &handshake_input(ss, &first(&client_bytes)),
            )?;
            write(
                client_dir,
                "server_hello_flight",
                &handshake_input(cs, &first(&server_bytes)),
            )?;
        }
    }
    Ok(())
}
