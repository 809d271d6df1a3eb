//! The fuzz entry points of toytls, one function per target.
//!
//! Each `fuzz_targets/<target>.rs` is a one-line wrapper around the function of the same name here,
//! and `tests/fuzz_replay.rs` in the main crate includes this very file (`#[path]`) to replay every
//! committed corpus file and every past crash input through the same code on stable Rust. So a
//! target and its regression test cannot drift apart: there is only one copy of what a target does.
//!
//! The functions use only toytls' public API. Each one feeds the bytes to a parser and then checks
//! properties that must hold for *any* input, so that the fuzzer finds wrong answers as well as
//! panics:
//! - [`record`]: records come out at most 2^14 bytes, unprotected records come out exactly as
//!   they went in, and alerts/ChangeCipherSpec bodies re-encode to their bytes;
//! - [`handshake_message`]: whatever decodes encodes back to the same bytes (RFC 5246 7.4 framing
//!   included);
//! - [`x509`]: DER is canonical, so a parsed value tree re-encodes to the input; a certificate
//!   keeps its exact bytes; base64 and PEM round-trip; times re-encode where RFC 5280 fixes the form.
//! - [`ticket`]: the server's session-ticket state decoder re-encodes what it decodes, and a
//!   ticket that opens under the fixed key re-seals and opens to the same session;
//! - [`server`] and [`client`]: a whole handshake (then application data) driven by the peer's
//!   bytes, with a fixed key and certificate, a seeded RNG and a fixed clock, so that a recorded
//!   real flight replays to the end and the fuzzer mutates from there. Any error must be returned
//!   (with its alert sent), never a panic or a hang.
//! - [`decrypt`]: the offline decryptor of `toytls decrypt` on a capture file (or on bare frames),
//!   with the same fixed server key, so recorded connections decrypt and the fuzzer mutates real
//!   TCP and TLS; every connection seen ends exactly once, and none decrypts more than once.
//!
//! This file must compile both as the `toytls_fuzz` library and as a module of an integration test,
//! so it uses nothing but `std` and `toytls`, and has no crate-level attributes.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use toytls::Side;
use toytls::capture::decrypt::{Decryptor, Event as DecryptEvent, Secrets, decrypt_capture};
use toytls::capture::packet::LinkType;
use toytls::clock::{FixedClock, UnixTime};
use toytls::config::{ClientConfig, ServerConfig, seeded_rng};
use toytls::conn::Conn;
use toytls::crypto::rsa::RsaPrivateKey;
use toytls::handshake::common::Handshake;
use toytls::handshake::keys::MasterSecret;
use toytls::handshake::session::Session;
use toytls::handshake::ticket::{self, TicketKeys};
use toytls::record::suite::{DirectionKeys, RecordProtection, lookup};
use toytls::record::{ContentType, MAX_PLAINTEXT, RecordLayer};
use toytls::stream::TlsStream;
use toytls::trace::{TraceLog, Tracer};
use toytls::wire::codec::Reader as TlsReader;
use toytls::wire::messages::SessionId;
use toytls::wire::messages::extensions::{self, Extension};
use toytls::wire::messages::{
    AlertMessage, ChangeCipherSpec, ClientHello, ClientKeyExchange, Finished, HandshakeMessage,
};
use toytls::wire::messages::{
    TLS_RSA_WITH_AES_128_GCM_SHA256, TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
};
use toytls::x509::der::{self, Value};
use toytls::x509::der_write;
use toytls::x509::{Certificate, base64, hostname, key, pem, time, verify};

/// Every target, by the name of its directory under `fuzz/corpus/` and its `fuzz_targets/` file.
pub const TARGETS: &[&str] = &[
    "record",
    "handshake_message",
    "x509",
    "server",
    "client",
    "ticket",
    "decrypt",
];

/// Runs `data` through the target called `name`; `None` for an unknown name. Each target returns
/// how much of its input it accepted (records read, messages decoded, parsers that succeeded), so
/// the replay test can check that the seed corpora reach past the first error.
pub fn run(name: &str, data: &[u8]) -> Option<usize> {
    match name {
        "record" => Some(record(data)),
        "handshake_message" => Some(handshake_message(data)),
        "x509" => Some(x509(data)),
        "server" => Some(server(data)),
        "client" => Some(client(data)),
        "ticket" => Some(ticket(data)),
        "decrypt" => Some(decrypt(data)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// record

/// The record target's input starts with this many bytes of settings; the rest is the byte stream
/// a peer sent.
pub const RECORD_SETTINGS_LEN: usize = 5;
/// Settings byte 0, bit 0: the record version is fixed from the start (as after ServerHello).
pub const RECORD_FIX_VERSION: u8 = 1;
/// Settings byte 0, bit 1: a trace sink is attached (the trace path copies wire bytes).
pub const RECORD_TRACE: u8 = 2;
/// Settings byte 0, bit 2: read through a connection's handshake reassembler instead (see
/// [`record_conn`]).
pub const RECORD_CONN: u8 = 4;
/// Settings byte 0, bit 3: ChangeCipherSpec switches to TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288)
/// under the same fixed keys, instead of the toy suite.
pub const RECORD_GCM: u8 = 8;

/// The fixed keys the record target switches to when it reads a ChangeCipherSpec, so that the
/// corpus can hold records really protected under them (see `examples/fuzz_corpus.rs`).
pub const RECORD_MAC_KEY: [u8; 32] = [0x4d; 32];
pub const RECORD_ENC_KEY: [u8; 16] = [0x4b; 16];
pub const RECORD_IV: [u8; 4] = [0x49; 4];

/// The toy suite's protection under the fixed fuzzing keys, or GCM's (which has no MAC key).
pub fn record_protection_for(flags: u8) -> RecordProtection {
    let (suite, mac_key) = if flags & RECORD_GCM != 0 {
        (TLS_RSA_WITH_AES_128_GCM_SHA256, &[][..])
    } else {
        (TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256, &RECORD_MAC_KEY[..])
    };
    let info = lookup(suite).expect("both suites are supported");
    let keys = DirectionKeys {
        mac_key,
        enc_key: &RECORD_ENC_KEY,
        iv: &RECORD_IV,
    };
    RecordProtection::new(info, &keys).expect("the fixed keys have the suite's lengths")
}

/// A transport that hands out `data` in chunks whose sizes cycle through `sizes` (0 meaning "all
/// that is left"), so the record layer sees headers and bodies split at every possible place.
struct Chunked<'a> {
    data: &'a [u8],
    pos: usize,
    sizes: [u8; 4],
    turn: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()];
        self.turn += 1;
        let left = self.data.len() - self.pos;
        let n = if size == 0 { left } else { size as usize };
        let n = n.min(left).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What a connection writes (alerts) goes nowhere.
impl Write for Chunked<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The record deframer fed arbitrary bytes in arbitrary chunks.
///
/// Input: `[flags, s0, s1, s2, s3, stream...]`; the chunk sizes cycle through `s0..s3`. Records
/// are read until the first error; a ChangeCipherSpec switches reading to the toy suite under the
/// fixed keys above, as a real connection would. Returns the number of records read.
pub fn record(data: &[u8]) -> usize {
    if data.len() < RECORD_SETTINGS_LEN {
        return 0;
    }
    let flags = data[0];
    if flags & RECORD_CONN != 0 {
        return record_conn(data);
    }
    let stream = &data[RECORD_SETTINGS_LEN..];
    let sink = (flags & RECORD_TRACE != 0).then(TraceLog::new);
    let tracer = Tracer::new(
        Side::Server,
        sink.clone().map(|s| s as Arc<dyn toytls::trace::TraceSink>),
    );
    let mut layer = RecordLayer::new(tracer);
    if flags & RECORD_FIX_VERSION != 0 {
        layer.fix_version();
    }
    let mut io = Chunked {
        data: stream,
        pos: 0,
        sizes: [data[1], data[2], data[3], data[4]],
        turn: 0,
    };
    let mut protected = false;
    let mut records = 0;
    // Where the next record starts in the stream: the layer reads ahead (several records per
    // read), so the transport's position says how much arrived, not where a record ends.
    let mut start = 0;
    while let Ok((typ, range)) = layer.read_record(&mut io) {
        records += 1;
        let len = u16::from_be_bytes([stream[start + 3], stream[start + 4]]) as usize;
        let wire = &stream[start..start + 5 + len];
        start += 5 + len;
        let plaintext = layer.plaintext(range);
        assert!(plaintext.len() <= MAX_PLAINTEXT, "RFC 5246 6.2.1 limit");
        if !protected {
            // Unprotected, the fragment is the plaintext: nothing added, nothing lost.
            assert_eq!(plaintext, &wire[5..], "plaintext record changed in transit");
        }
        match typ {
            ContentType::Alert => {
                if let Ok(alert) = AlertMessage::decode(&mut TlsReader::new(plaintext)) {
                    assert_eq!(alert.to_bytes(), plaintext, "alert does not round-trip");
                }
            }
            ContentType::ChangeCipherSpec => {
                if ChangeCipherSpec::decode(&mut TlsReader::new(plaintext)).is_ok() {
                    assert_eq!(plaintext, ChangeCipherSpec::BYTES);
                    if !protected {
                        layer.prepare(record_protection_for(flags), record_protection_for(flags));
                        layer.change_read_state().expect("prepared just now");
                        protected = true;
                    }
                }
            }
            ContentType::Handshake | ContentType::ApplicationData => {}
        }
    }
    if let Some(sink) = sink {
        drop(sink.take());
    }
    records
}

/// The record layer under a connection's handshake reassembler ([`Handshake::read`]), fed in
/// the same arbitrary chunks: the messages a server reads (ClientHello, ClientKeyExchange,
/// ChangeCipherSpec, Finished under the fixed keys), then application data until the first error.
/// Handshake messages may span records and share them (RFC 5246 6.2.1); the reassembler must
/// never buffer more than arrived. Returns the number of steps that succeeded.
pub fn record_conn(data: &[u8]) -> usize {
    if data.len() < RECORD_SETTINGS_LEN {
        return 0;
    }
    let io = Chunked {
        data: &data[RECORD_SETTINGS_LEN..],
        pos: 0,
        sizes: [data[1], data[2], data[3], data[4]],
        turn: 0,
    };
    let mut conn = Conn::new(io, Side::Server, None);
    if data[0] & RECORD_FIX_VERSION != 0 {
        conn.rec.fix_version();
    }
    let mut steps = 0;
    let handshake = |conn: &mut Conn<Chunked>, steps: &mut usize| -> toytls::error::Result<()> {
        let mut hs = Handshake::new(conn);
        hs.read::<ClientHello>()?;
        *steps += 1;
        hs.read::<ClientKeyExchange>()?;
        *steps += 1;
        let p = || record_protection_for(data[0]);
        hs.conn.rec.prepare(p(), p());
        hs.read_change_cipher_spec()?;
        *steps += 1;
        hs.read::<Finished>()?;
        *steps += 1;
        Ok(())
    };
    if handshake(&mut conn, &mut steps).is_ok() {
        let mut buf = [0u8; 1024];
        while let Ok(n) = conn.read_app_data(&mut buf) {
            if n == 0 {
                break;
            }
            steps += 1;
        }
    }
    steps
}

// ---------------------------------------------------------------------------------------------
// handshake_message

/// Every handshake message decoder, over a stream of `msg_type, uint24 length, body` messages as
/// they follow each other in a flight (RFC 5246 7.4). Whatever decodes must encode back to exactly
/// the bytes it came from, header included. Returns the number of messages decoded.
pub fn handshake_message(data: &[u8]) -> usize {
    let mut rest = data;
    let mut decoded = 0;
    while rest.len() >= 4 {
        let typ = rest[0];
        let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
        let Some(body) = rest.get(4..4 + len) else {
            break;
        };
        let whole = &rest[..4 + len];
        rest = &rest[4 + len..];
        let Ok(msg) = HandshakeMessage::decode(typ, body) else {
            continue;
        };
        decoded += 1;
        assert_eq!(msg.typ() as u8, typ, "decoded as another type");
        let again = msg.to_bytes().expect("a decoded message must encode");
        assert_eq!(again, whole, "{} does not round-trip", msg.name());
        // The readers of a message's meaning must not panic either.
        let _ = msg.fields();
        let exts = match &msg {
            HandshakeMessage::ClientHello(hello) => {
                let _ = hello.server_name();
                &hello.extensions
            }
            HandshakeMessage::ServerHello(hello) => &hello.extensions,
            _ => &None,
        };
        if let Some(alpn) =
            extensions::find(exts, extensions::APPLICATION_LAYER_PROTOCOL_NEGOTIATION)
        {
            // Whatever list decodes, the extension built from it has the same bytes.
            if let Ok(names) = Extension::parse_alpn(&alpn.data) {
                let owned: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
                assert_eq!(
                    Extension::alpn(&owned).data,
                    alpn.data,
                    "ALPN list round trip"
                );
            }
            let _ = Extension::parse_alpn_selection(&alpn.data);
        }
    }
    decoded
}

// ---------------------------------------------------------------------------------------------
// ticket

/// The fixed ticket key of the fuzz targets: the server target holds it (so a recorded client
/// that presents a ticket replays), and the ticket target opens with it.
pub const TICKET_KEY_NAME: [u8; ticket::KEY_NAME_LEN] = [0x7e; ticket::KEY_NAME_LEN];
pub const TICKET_KEY: [u8; 16] = [0x7c; 16];

/// Ticket keys holding only [`TICKET_KEY`], current from [`X509_NOW`], with the default rotation
/// and lifetime.
pub fn ticket_keys() -> TicketKeys {
    let keys = TicketKeys::new(
        TicketKeys::DEFAULT_ROTATE_EVERY,
        TicketKeys::DEFAULT_LIFETIME,
    );
    keys.add_key(TICKET_KEY_NAME, TICKET_KEY, X509_NOW);
    keys
}

/// The server's side of session tickets (RFC 5077), fed a client's bytes: first as a ticket's
/// decrypted state (the decoder that runs on whatever a key opens), whose decoding must encode
/// back to exactly the input; then as a ticket presented to a server holding [`TICKET_KEY`] at
/// [`X509_NOW`]. A ticket that opens must re-seal into one that opens to the same session. Any
/// rejection is an answer, never a panic. Returns how many of the two were accepted.
pub fn ticket(data: &[u8]) -> usize {
    let mut accepted = 0;
    if let Ok(session) = ticket::decode_state(data) {
        accepted += 1;
        let again = ticket::encode_state(&session).expect("a decoded state encodes");
        assert_eq!(&again[..], data, "ticket state does not round-trip");
    }
    let keys = ticket_keys();
    if let Ok(opened) = keys.open(data, X509_NOW) {
        accepted += 1;
        let rng = seeded_rng(SERVER_RNG_SEED);
        let mut rng = rng.lock().unwrap_or_else(|e| e.into_inner());
        let renewed = keys
            .seal(&opened.session, X509_NOW, &mut *rng)
            .expect("a session that opened now is within its lifetime");
        let back = keys
            .open(&renewed.ticket, X509_NOW)
            .expect("our own ticket opens");
        let (a, b) = (&opened.session, &back.session);
        assert_eq!(
            a.master_secret.0, b.master_secret.0,
            "renewed master secret"
        );
        assert_eq!(
            (a.suite, a.created, a.extended_master_secret, &a.peer_chain),
            (b.suite, b.created, b.extended_master_secret, &b.peer_chain),
            "renewed ticket holds another session"
        );
    }
    accepted
}

// ---------------------------------------------------------------------------------------------
// x509

/// The time at which the x509 target verifies chains: 2027-01-15, inside the seeds' validity.
pub const X509_NOW: UnixTime = UnixTime(1_800_000_000);

/// The DER reader, the certificate parser, base64 and the PEM reader on the same bytes. Returns
/// how many of DER tree, certificate, base64, PEM blocks and PEM certificates parsed.
pub fn x509(data: &[u8]) -> usize {
    let mut parsed = 0;
    // DER is canonical: a value tree that parses re-encodes to the very same bytes.
    if let Ok(value) = Value::from_der(data) {
        parsed += 1;
        let mut w = der_write::Writer::new();
        w.value(&value);
        assert_eq!(w.into_bytes(), data, "DER value tree does not re-encode");
        check_times(&value);
    }

    if let Ok(cert) = Certificate::from_der(data) {
        parsed += 1;
        assert_eq!(cert.der(), data, "certificate must keep its exact bytes");
        let tbs = cert.tbs_der();
        assert!(
            data.windows(tbs.len()).any(|w| w == tbs),
            "tbsCertificate is not a part of the certificate"
        );
        // Everything a client prints or checks about a certificate must work on any that parses.
        let _ = (cert.subject().to_string(), cert.issuer().to_string());
        let _ = (
            cert.label(),
            cert.is_self_issued(),
            cert.fingerprint_sha256(),
        );
        let _ = (cert.not_before(), cert.not_after(), cert.version());
        let _ = cert.public_key().bits();
        let _ = cert.extensions().allows_server_auth();
        let _ = pem::encode_certificate(&cert);
        // Name matching and chain verification with the certificate as its own trust anchor
        // (a self-signed certificate passes the signature check and goes on to the later steps).
        for host in ["localhost", "127.0.0.1", "::1", "a.example.com"] {
            let _ = hostname::check_host(&cert, host);
        }
        let anchors = std::slice::from_ref(&cert);
        let _ = verify::verify_server_chain(anchors, anchors, "localhost", X509_NOW);
    }

    // Private keys: PKCS #1 is canonical (version 0, nine minimal INTEGERs), so it re-encodes to
    // the input; PKCS #8 has optional parts, so only its re-encoding must read back the same key.
    if let Ok(k) = key::parse_pkcs1(data) {
        parsed += 1;
        assert_eq!(
            key::encode_pkcs1(&k),
            data,
            "PKCS #1 key does not re-encode"
        );
    }
    if let Ok(k) = key::parse_pkcs8(data) {
        parsed += 1;
        let again = key::parse_pkcs8(&key::encode_pkcs8(&k)).expect("our own PKCS #8 must parse");
        assert!(again == k, "PKCS #8 key does not round-trip");
    }

    // base64 without whitespace is canonical too (padding and trailing bits are checked).
    if let Ok(bytes) = base64::decode(data) {
        parsed += 1;
        assert_eq!(base64::encode(&bytes).as_bytes(), data, "base64 round trip");
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(blocks) = pem::parse_blocks(text) {
            parsed += blocks.len().min(1);
            // PEM is not canonical (line lengths, text around blocks), but what it holds is:
            // writing the blocks out and reading them back gives the same blocks.
            let written: String = blocks
                .iter()
                .map(|b| pem::encode(&b.label, &b.der))
                .collect();
            let reread = pem::parse_blocks(&written).expect("our own PEM must parse");
            assert_eq!(reread, blocks, "PEM blocks do not round-trip");
        }
        if let Ok(certs) = pem::parse_certificates(text) {
            assert!(!certs.is_empty());
            parsed += 1;
            // A chain file: the leaf first, its last certificate taken as the trust anchor.
            let anchor = &certs[certs.len() - 1..];
            let _ = verify::verify_server_chain(&certs, anchor, "localhost", X509_NOW);
        }
        let _ = key::parse_pem_components(text);
    }
    parsed
}

/// Every UTCTime/GeneralizedTime in a value tree: when RFC 5280 4.1.2.5 fixes the form of a time
/// (UTCTime through 2049, GeneralizedTime after), parsing and encoding again gives the same text.
fn check_times(v: &Value) {
    match v {
        Value::Constructed(_, children) => children.iter().for_each(check_times),
        Value::Primitive(t, bytes)
            if *t == der::tag::UTC_TIME || *t == der::tag::GENERALIZED_TIME =>
        {
            if let Ok(when) = time::parse_time(*t, bytes) {
                let (tag, text) = time::encode_time(when).expect("a parsed time has an encoding");
                if tag == *t {
                    assert_eq!(text.as_bytes(), &bytes[..], "time does not round-trip");
                }
                // Whatever form it was in, the encoding we would write means the same instant.
                let again = time::parse_time(tag, text.as_bytes()).expect("our own time parses");
                assert_eq!(again, when, "re-encoded time means another instant");
            }
        }
        Value::Primitive(..) => {}
    }
}

// ---------------------------------------------------------------------------------------------
// server and client

/// Settings byte 0 of the handshake targets, bit 0: the fuzzed side holds [`fixed_session`] (the
/// server in its cache, the client in its store for `localhost:443`), so the abbreviated
/// handshake is reachable too.
pub const HANDSHAKE_SESSION: u8 = 1;
/// Settings byte 0 of the handshake targets, bit 1: a trace sink is attached, as in the demo and
/// `--trace` (every message received is rendered field by field, hostile ones included).
pub const HANDSHAKE_TRACE: u8 = 2;
/// Settings byte 0 of the server target, bit 2: the server prefers the GCM suite (RFC 5288) to
/// the toy suite, so a client offering both gets GCM records.
pub const HANDSHAKE_SERVER_GCM: u8 = 4;
/// Settings byte 0 of the handshake targets, bit 3: with [`HANDSHAKE_SESSION`], the fixed session
/// is under TLS_RSA_WITH_AES_128_GCM_SHA256 instead of the toy suite, so that a peer that has
/// only the standard suites (OpenSSL, see `examples/fuzz_corpus_openssl.rs`) can resume it.
pub const HANDSHAKE_SESSION_GCM: u8 = 8;
/// Settings byte 0 of the handshake targets, bit 4: client certificates (RFC 5246 7.4.4). The
/// server asks for one (optional, trusting the fixed client CA of `fuzz/keys/client_ca.pem`), so
/// the client's Certificate is verified as a client chain and its CertificateVerify against the
/// transcript; the client holds one (`fuzz/keys/client.pem`, clientAuth, issued by that CA, with
/// its key), so a CertificateRequest naming that CA is answered with a chain and a signature
/// instead of an empty Certificate.
pub const HANDSHAKE_CLIENT_AUTH: u8 = 16;
/// Settings byte 0 of the client target, bit 5: with [`HANDSHAKE_SESSION`], the client's stored
/// session also holds [`fixed_ticket`], so its ClientHello presents a ticket (RFC 5077) that the
/// server target (which always holds [`TICKET_KEY`]) opens.
pub const HANDSHAKE_TICKET: u8 = 32;
/// The name the client connects to, and the name on the fixed server certificate.
pub const HANDSHAKE_HOST: &str = "localhost";
pub const HANDSHAKE_PORT: u16 = 443;
/// The seeds of the shared RNGs: the same on every run, so a recorded handshake replays.
pub const SERVER_RNG_SEED: u64 = 0x5e4e;
pub const CLIENT_RNG_SEED: u64 = 0xc11e;

/// The fixed CA, server certificate and server key of `fuzz/keys/` (see its README), and the
/// client side's: the CA the server trusts for client certificates, and a clientAuth
/// certificate it issued with its key.
struct HandshakeKeys {
    ca: Certificate,
    server: Certificate,
    server_key: RsaPrivateKey,
    client_ca: Certificate,
    client: Certificate,
    client_key: RsaPrivateKey,
}

fn handshake_keys() -> &'static HandshakeKeys {
    static KEYS: OnceLock<HandshakeKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let one = |pem: &str| {
            let mut certs = pem::parse_certificates(pem).expect("fuzz/keys certificate");
            certs.remove(0)
        };
        HandshakeKeys {
            ca: one(include_str!("../keys/ca.pem")),
            server: one(include_str!("../keys/server.pem")),
            server_key: pem::parse_private_key(include_str!("../keys/server_key.pem"))
                .expect("fuzz/keys/server_key.pem"),
            client_ca: one(include_str!("../keys/client_ca.pem")),
            client: one(include_str!("../keys/client.pem")),
            client_key: pem::parse_private_key(include_str!("../keys/client_key.pem"))
                .expect("fuzz/keys/client_key.pem"),
        }
    })
}

/// The fixed session's ID and master secret.
pub const FIXED_SESSION_ID: [u8; 32] = [0x5e; 32];
pub const FIXED_MASTER_SECRET: [u8; 48] = [0x33; 48];

/// The session both sides may hold: a fixed ID and master secret for the toy suite.
pub fn fixed_session() -> Session {
    fixed_session_with(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256)
}

/// [`fixed_session`] under another suite (see [`HANDSHAKE_SESSION_GCM`]).
pub fn fixed_session_with(suite: toytls::wire::messages::CipherSuite) -> Session {
    Session {
        id: SessionId::new(&FIXED_SESSION_ID).expect("32 bytes is a valid session ID"),
        suite,
        master_secret: MasterSecret(FIXED_MASTER_SECRET),
        peer_chain: vec![handshake_keys().server.der().to_vec()],
        created: X509_NOW,
        // Made for the name the fuzzed client asks for: the server resumes only under it.
        server_name: Some(HANDSHAKE_HOST.to_string()),
        valid_until: None,
        // Both fuzzed sides use the extended master secret by default (RFC 7627), and resume
        // only sessions made with it (5.3).
        extended_master_secret: true,
        ticket: None,
    }
}

/// [`fixed_session`] sealed under [`TICKET_KEY`] at [`X509_NOW`], with the server's seeded RNG:
/// the same bytes on every run.
pub fn fixed_ticket() -> Vec<u8> {
    let rng = seeded_rng(SERVER_RNG_SEED);
    let mut rng = rng.lock().unwrap_or_else(|e| e.into_inner());
    ticket_keys()
        .seal(&fixed_session(), X509_NOW, &mut *rng)
        .expect("the fixed session fits a ticket")
        .ticket
}

/// The fuzzed server's configuration: fixed chain and key, seeded RNG, clock fixed at
/// [`X509_NOW`], the fixed ticket key [`TICKET_KEY`], ALPN with http/1.1 and h2, and optionally
/// [`fixed_session`] in its cache.
pub fn server_config(with_session: bool, prefer_gcm: bool) -> ServerConfig {
    let k = handshake_keys();
    let mut config =
        ServerConfig::from_certificates(std::slice::from_ref(&k.server), k.server_key.clone())
            .expect("the fixed key belongs to the fixed certificate");
    config.rng = seeded_rng(SERVER_RNG_SEED);
    config.clock = Arc::new(FixedClock(X509_NOW));
    config.tickets = Some(Arc::new(ticket_keys()));
    // ALPN (RFC 7301): a client's protocol list is parsed and matched (or refused) too.
    config.alpn_protocols = vec![b"http/1.1".to_vec(), b"h2".to_vec()];
    if prefer_gcm {
        config.suites = vec![
            TLS_RSA_WITH_AES_128_GCM_SHA256,
            TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        ];
    }
    if with_session {
        config.sessions.insert(fixed_session());
    }
    config
}

/// The fuzzed client's configuration: trusts the fixed CA, seeded RNG, clock fixed at
/// [`X509_NOW`], offers h2 and http/1.1 with ALPN, and optionally [`fixed_session`] stored for
/// `localhost:443`.
pub fn client_config(with_session: bool) -> ClientConfig {
    let mut config = ClientConfig::new(vec![handshake_keys().ca.clone()]);
    config.rng = seeded_rng(CLIENT_RNG_SEED);
    config.clock = Arc::new(FixedClock(X509_NOW));
    // ALPN (RFC 7301): the server's answer is parsed and checked against the offer.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if with_session {
        config
            .sessions
            .insert(HANDSHAKE_HOST, HANDSHAKE_PORT, fixed_session());
    }
    config
}

/// The session of [`HANDSHAKE_SESSION`] under the suite the flags choose, or none.
fn session_for_flags(flags: u8) -> Option<Session> {
    if flags & HANDSHAKE_SESSION == 0 {
        return None;
    }
    Some(if flags & HANDSHAKE_SESSION_GCM != 0 {
        fixed_session_with(TLS_RSA_WITH_AES_128_GCM_SHA256)
    } else {
        fixed_session()
    })
}

/// The server target's whole configuration for its settings byte: [`server_config`], then the
/// session and the trace sink the flags ask for. The OpenSSL seed recorder runs a live server with
/// exactly this, so that its recordings replay.
pub fn server_config_for_flags(flags: u8) -> ServerConfig {
    let mut config = server_config(false, flags & HANDSHAKE_SERVER_GCM != 0);
    if let Some(session) = session_for_flags(flags) {
        config.sessions.insert(session);
    }
    if flags & HANDSHAKE_TRACE != 0 {
        config.trace = Some(TraceLog::new());
    }
    if flags & HANDSHAKE_CLIENT_AUTH != 0 {
        config.client_auth = toytls::config::ClientAuth::Optional {
            trust_anchors: vec![handshake_keys().client_ca.clone()],
        };
    }
    config
}

/// The client target's whole configuration for its settings byte (see [`server_config_for_flags`]).
pub fn client_config_for_flags(flags: u8) -> ClientConfig {
    let mut config = client_config(false);
    if let Some(mut session) = session_for_flags(flags) {
        if flags & HANDSHAKE_TICKET != 0 {
            session.ticket = Some(toytls::handshake::session::Ticket {
                bytes: fixed_ticket(),
                lifetime_hint: 3600,
                received: X509_NOW,
            });
        }
        config
            .sessions
            .insert(HANDSHAKE_HOST, HANDSHAKE_PORT, session);
    }
    if flags & HANDSHAKE_TRACE != 0 {
        config.trace = Some(TraceLog::new());
    }
    if flags & HANDSHAKE_CLIENT_AUTH != 0 {
        let k = handshake_keys();
        config.client_certificate =
            toytls::config::ClientCertificate::new(vec![k.client.clone()], k.client_key.clone())
                .ok()
                .map(Arc::new);
    }
    config
}

/// The fuzzed side's transport: reads return the peer's bytes, writes are dropped. The end of
/// the input is the peer closing the connection.
struct Peer<'a> {
    input: &'a [u8],
}

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// After a handshake: echo the peer's application data until it closes or the connection fails.
/// Returns the number of bytes read.
fn echo<'a>(stream: &mut TlsStream<Peer<'a>>) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    while let Ok(n) = stream.read_data(&mut buf) {
        if n == 0 {
            let _ = stream.close();
            break;
        }
        total += n;
        if stream.write_data(&buf[..n]).is_err() {
            break;
        }
    }
    total
}

/// A server handshake driven by arbitrary client bytes. Input: `[flags, client bytes...]`.
/// Returns 0 if the handshake failed, else 1 + the application data bytes read.
pub fn server(data: &[u8]) -> usize {
    let Some((&flags, input)) = data.split_first() else {
        return 0;
    };
    let config = Arc::new(server_config_for_flags(flags));
    let peer = Peer { input };
    match TlsStream::accept(peer, config) {
        Ok(mut stream) => 1 + echo(&mut stream),
        Err(_) => 0,
    }
}

/// A client handshake with `localhost:443` driven by arbitrary server bytes. Input:
/// `[flags, server bytes...]`. Returns 0 if the handshake failed, else 1 + the application data
/// bytes read.
pub fn client(data: &[u8]) -> usize {
    let Some((&flags, input)) = data.split_first() else {
        return 0;
    };
    let config = Arc::new(client_config_for_flags(flags));
    let peer = Peer { input };
    match TlsStream::connect(peer, config, HANDSHAKE_HOST, HANDSHAKE_PORT) {
        Ok(mut stream) => 1 + echo(&mut stream),
        Err(_) => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// decrypt

/// The fixed server key as the decryptor's only secret.
fn decrypt_secrets() -> &'static Secrets {
    static SECRETS: OnceLock<Secrets> = OnceLock::new();
    SECRETS.get_or_init(|| Secrets {
        server_key: Some(handshake_keys().server_key.clone()),
        key_log: Default::default(),
    })
}

/// `decrypt`: the offline decryptor of `toytls decrypt` (src/capture/decrypt.rs) with the fixed
/// server key. Input that starts like a pcap or pcapng file is read as one (the container parser,
/// then TCP reassembly, records, key recovery, decryption); anything else is cut into Ethernet
/// frames by 2-byte big-endian length prefixes and fed straight to the TCP and TLS layers, so the
/// fuzzer need not learn the file format to reach them. Whatever the input: no panic, no hang,
/// never more connections decrypted than seen, and every connection ends exactly once. Returns
/// the number of connections decrypted (both Finished messages verified).
pub fn decrypt(data: &[u8]) -> usize {
    const MAGICS: [[u8; 4]; 5] = [
        [0x0a, 0x0d, 0x0d, 0x0a],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
    ];
    let mut started = Vec::new();
    let mut ended = Vec::new();
    let mut sink = |e: DecryptEvent| match e {
        DecryptEvent::Connection { id, .. } => started.push(id),
        DecryptEvent::End { id, .. } => ended.push(id),
        _ => {}
    };
    let summary = if data.len() >= 4 && MAGICS.iter().any(|m| data[..4] == *m) {
        decrypt_capture(data, decrypt_secrets(), &mut sink).0
    } else {
        let mut d = Decryptor::new(decrypt_secrets(), &mut sink);
        let mut rest = data;
        while rest.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
            d.frame(LinkType::Ethernet, &rest[2..2 + len]);
            rest = &rest[2 + len..];
        }
        d.finish()
    };
    assert!(summary.decrypted <= summary.connections);
    assert_eq!(started.len(), summary.connections);
    ended.sort_unstable();
    started.sort_unstable();
    assert_eq!(ended, started, "every connection ends exactly once");
    summary.decrypted
}
