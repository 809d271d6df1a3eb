//! No allocation is driven by a length field before the bytes it announces have arrived
//! (`spec/limits.md`, issue 6). A peer can claim a 16 MiB handshake message, a 2^14 + 2048-byte
//! record or a huge certificate list in a few bytes; what toytls allocates must follow the bytes
//! it received, not the lengths it was told.
//!
//! This test binary counts every allocation made on each thread (`allocation-counter`'s
//! `#[global_allocator]`, a wrapper around the system allocator) and feeds such headers, with
//! only a few bytes behind them, to the record layer, to the handshake reassembler on both sides
//! ([`Handshake::read`], as the fuzz targets `record` and `record_conn` drive it) and to whole
//! client and server handshakes ([`TlsStream::connect`] and [`TlsStream::accept`], as the fuzz
//! targets `client` and `server` drive them). It asserts that the peak of bytes held allocated
//! stays within a small bound proportional to the input, plus, for a whole handshake, the
//! connection's fixed record buffers (`spec/limits.md`: 2 x (5 + 2^14 + 2048) bytes, allocated
//! once when the connection is made, whatever the peer sends).
//!
//! `src/handshake/joiner.rs` also has a unit test that looks at the reassembly buffer's capacity
//! directly; this one sees every allocation, wherever it happens.

mod common;

use common::{client_config, server_config};
use std::io::{Cursor, Read, Write};
use std::sync::Arc;
use toytls::Side;
use toytls::conn::Conn;
use toytls::error::Error;
use toytls::handshake::common::Handshake;
use toytls::handshake::joiner::MAX_HANDSHAKE_MESSAGE;
use toytls::record::suite::{DirectionKeys, RecordProtection, lookup};
use toytls::record::{HEADER_LEN, MAX_CIPHERTEXT, MAX_PLAINTEXT, RecordLayer};
use toytls::stream::TlsStream;
use toytls::trace::Tracer;
use toytls::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;
use toytls::wire::messages::{
    CertificateMsg, ClientHello, HandshakeMessage, ProtocolVersion, Random, ServerHello, SessionId,
};

// ---------------------------------------------------------------------------------------------
// The counting allocator

/// What a piece of code allocated on this thread.
#[derive(Debug, Clone, Copy)]
struct Usage {
    /// The most bytes it held allocated at once (its own allocations, not what was live before).
    peak: usize,
}

/// Runs `f` and reports what it allocated on this thread. `allocation-counter` installs the
/// counting `#[global_allocator]` in this test binary (a wrapper around the system allocator
/// with per-thread counters), so no `unsafe` is needed here.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Usage) {
    let mut result = None;
    let info = allocation_counter::measure(|| result = Some(f()));
    let usage = Usage {
        peak: usize::try_from(info.bytes_max).unwrap_or(usize::MAX),
    };
    (result.expect("measure ran its closure"), usage)
}

// ---------------------------------------------------------------------------------------------
// Bounds

/// Slack for what any step allocates whatever its input: an error message, a decoded message's
/// small fields.
const SMALL: usize = 1024;

/// A bound proportional to what arrived: a buffer holding `input` may have grown to twice its
/// size (amortized doubling), plus [`SMALL`].
fn proportional(input: &[u8]) -> usize {
    SMALL + 2 * input.len()
}

/// One record buffer of a connection, allocated when the connection is made (`src/record/mod.rs`).
const RECORD_BUFFER: usize = HEADER_LEN + MAX_CIPHERTEXT;

/// What a whole handshake may allocate at its peak before the peer's lengths come into it: the
/// two record buffers, the transcript hash, the connection's RNG, our own first flight and its
/// copies. Far below the 64 KiB a single pre-allocated maximal message would take.
const CONNECTION_FIXED: usize = 2 * RECORD_BUFFER + 16 * 1024;

fn assert_within(what: &str, input: &[u8], usage: Usage, bound: usize) {
    assert!(
        usage.peak <= bound,
        "{what}: held {} bytes at once from {} bytes of input (bound {bound})",
        usage.peak,
        input.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// An unprotected record of type `typ` around `body`.
fn record(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![typ, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// `data` as handshake records of one byte each: a header split everywhere it can be.
fn byte_records(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|b| record(22, &[*b])).collect()
}

/// A handshake message header: type and a 24-bit length.
fn hs_header(typ: u8, len: usize) -> Vec<u8> {
    let l = (len as u32).to_be_bytes();
    vec![typ, l[1], l[2], l[3]]
}

/// A handshake message of type `typ` claiming `claim` bytes, of which only `present` follow.
fn claiming(typ: u8, claim: usize, present: usize) -> Vec<u8> {
    let mut m = hs_header(typ, claim);
    m.resize(4 + present, 0x5a);
    m
}

/// The lengths a hostile peer claims in a handshake header: the largest 24-bit value (16 MiB),
/// a megabyte, and, below toytls's limit so that only the reassembler's buffering stands between
/// them and an allocation, the largest message accepted and half of it.
const HANDSHAKE_CLAIMS: [usize; 4] = [
    (1 << 24) - 1,
    1 << 20,
    MAX_HANDSHAKE_MESSAGE,
    MAX_HANDSHAKE_MESSAGE / 2,
];

/// A transport that reads `input` and collects what is written.
struct Peer {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Peer {
    fn new(input: Vec<u8>) -> Peer {
        Peer {
            input: Cursor::new(input),
            output: Vec::with_capacity(4096),
        }
    }
}

impl Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Peer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn conn(side: Side, input: Vec<u8>) -> Conn<Peer> {
    Conn::new(Peer::new(input), side, None)
}

/// A ServerHello the client accepts (TLS 1.2, a suite it offers, null compression), so that its
/// next read is the Certificate.
fn server_hello_record() -> Vec<u8> {
    let sh = ServerHello {
        server_version: ProtocolVersion::TLS12,
        random: Random([7; 32]),
        session_id: SessionId::new(&[9; 32]).unwrap(),
        cipher_suite: TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256,
        compression_method: 0,
        extensions: None,
    };
    record(22, &HandshakeMessage::ServerHello(sh).to_bytes().unwrap())
}

/// Complete Certificate messages whose inner lengths claim far more than the message holds.
fn certificates_with_hostile_inner_lengths() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // certificate_list<0..2^24-1> claiming 16 MiB, 10 bytes present.
    let mut body = vec![0xff, 0xff, 0xff];
    body.extend_from_slice(&[0x30; 10]);
    out.push(body);
    // A consistent list length, but its one certificate claims 16 MiB.
    let mut body = vec![0, 0, 13, 0xff, 0xff, 0xff];
    body.extend_from_slice(&[0x30; 10]);
    out.push(body);
    // A certificate claiming 60000 bytes, below every limit, 10 present.
    let mut body = vec![0, 0, 13, 0, 0xea, 0x60];
    body.extend_from_slice(&[0x30; 10]);
    out.push(body);
    out.into_iter()
        .map(|body| {
            let mut m = hs_header(11, body.len());
            m.extend_from_slice(&body);
            m
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The record layer

#[test]
fn record_headers_claiming_the_largest_lengths_allocate_nothing_for_them() {
    let toy = lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
    for protected in [false, true] {
        for claim in [MAX_PLAINTEXT, MAX_PLAINTEXT + 1, MAX_CIPHERTEXT, 0xffff] {
            let mut input = vec![23, 3, 3];
            input.extend_from_slice(&(claim as u16).to_be_bytes());
            input.extend_from_slice(&[1, 2, 3]);
            let mut rec = RecordLayer::new(Tracer::new(Side::Client, None));
            if protected {
                let keys = DirectionKeys {
                    mac_key: &[1; 32],
                    enc_key: &[2; 16],
                    iv: &[3; 4],
                };
                let p = || RecordProtection::new(toy, &keys).unwrap();
                rec.prepare(p(), p());
                rec.change_read_state().unwrap();
            }
            let mut io = Cursor::new(input.clone());
            let (r, usage) = measure(|| rec.read_record(&mut io).map(|_| ()));
            let what = format!("record claiming {claim} bytes (protected: {protected})");
            assert!(
                matches!(r, Err(Error::Truncated | Error::RecordOverflow { .. })),
                "{what}: {r:?}"
            );
            assert_within(&what, &input, usage, SMALL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The handshake reassembler, server and client side

/// Feeds `input` to a fresh connection's reassembler on `side` (made before measuring) and
/// checks that reading one message allocates in proportion to `input`.
fn reassembler_stays_proportional(side: Side, what: &str, input: Vec<u8>) -> Error {
    let mut c = conn(side, input.clone());
    let mut hs = Handshake::new(&mut c);
    let (r, usage) = measure(|| match side {
        Side::Server => hs.read::<ClientHello>().map(|_| ()),
        Side::Client => hs.read::<CertificateMsg>().map(|_| ()),
    });
    let e = r.err().unwrap_or_else(|| panic!("{what}: accepted"));
    assert_within(what, &input, usage, proportional(&input));
    e
}

#[test]
fn handshake_headers_claiming_huge_lengths_buffer_only_what_arrived() {
    for side in [Side::Server, Side::Client] {
        let typ = if side == Side::Server { 1 } else { 11 };
        for claim in HANDSHAKE_CLAIMS {
            let msg = claiming(typ, claim, 10);
            // In one record, and split into one-byte records.
            for input in [record(22, &msg), byte_records(&msg)] {
                let what = format!("{side:?} reading a message claiming {claim} bytes");
                let e = reassembler_stays_proportional(side, &what, input);
                if claim > MAX_HANDSHAKE_MESSAGE {
                    assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
                } else {
                    assert!(matches!(e, Error::Truncated), "{what}: {e}");
                }
            }
        }
    }
}

#[test]
fn certificate_lists_claiming_huge_lengths_allocate_by_what_arrived() {
    for msg in certificates_with_hostile_inner_lengths() {
        let what = format!("Certificate {:02x?}", &msg[..10]);
        let e = reassembler_stays_proportional(Side::Client, &what, record(22, &msg));
        assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
    }
}

#[test]
fn client_hello_fields_claiming_huge_lengths_allocate_by_what_arrived() {
    // client_version, random, then each variable-length field claiming its maximum in turn.
    let fixed = {
        let mut f = vec![3, 3];
        f.extend_from_slice(&[0x11; 32]);
        f
    };
    let bodies = [
        // session_id<0..32> claiming 255.
        [&fixed[..], &[0xff], &[0; 10]].concat(),
        // cipher_suites<2..2^16-2> claiming 65534.
        [&fixed[..], &[0, 0xff, 0xfe], &[0; 10]].concat(),
        // compression_methods<1..2^8-1> claiming 255.
        [&fixed[..], &[0, 0, 2, 0xff, 0x01, 0xff], &[0; 10]].concat(),
        // extensions<0..2^16-1> claiming 65535.
        [
            &fixed[..],
            &[0, 0, 2, 0xff, 0x01, 1, 0, 0xff, 0xff],
            &[0; 10],
        ]
        .concat(),
        // One extension claiming 65535 inside a consistent extensions block.
        [
            &fixed[..],
            &[0, 0, 2, 0xff, 0x01, 1, 0, 0, 14, 0xff, 0x01, 0xff, 0xff],
            &[0; 10],
        ]
        .concat(),
    ];
    for body in bodies {
        let mut msg = hs_header(1, body.len());
        msg.extend_from_slice(&body);
        let what = format!("ClientHello {:02x?}", &body[34..]);
        let e = reassembler_stays_proportional(Side::Server, &what, record(22, &msg));
        assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Whole handshakes

/// Runs a server handshake over `input` (the configuration made before measuring) and checks
/// its allocations against the connection's fixed cost plus the input.
fn server_handshake_stays_bounded(what: &str, input: Vec<u8>) -> Error {
    let config = Arc::new(server_config(61));
    let (r, usage) = measure(|| {
        TlsStream::accept(Peer::new(input.clone()), config.clone())
            .map(|_| ())
            .err()
    });
    let e = r.unwrap_or_else(|| panic!("{what}: accepted"));
    assert_within(what, &input, usage, CONNECTION_FIXED + proportional(&input));
    e
}

/// The same for a client handshake.
fn client_handshake_stays_bounded(what: &str, input: Vec<u8>) -> Error {
    let config = Arc::new(client_config(62));
    let (r, usage) = measure(|| {
        TlsStream::connect(Peer::new(input.clone()), config.clone(), "localhost", 443)
            .map(|_| ())
            .err()
    });
    let e = r.unwrap_or_else(|| panic!("{what}: accepted"));
    assert_within(what, &input, usage, CONNECTION_FIXED + proportional(&input));
    e
}

#[test]
fn a_server_handshake_allocates_by_what_arrived_not_by_what_was_claimed() {
    for claim in HANDSHAKE_CLAIMS {
        let msg = claiming(1, claim, 10);
        for input in [record(22, &msg), byte_records(&msg)] {
            let what = format!("server reading a ClientHello claiming {claim} bytes");
            server_handshake_stays_bounded(&what, input);
        }
    }
    // A record header claiming the most a header can, then 3 bytes.
    let input = [&[22, 3, 3, 0xff, 0xff][..], &[1, 2, 3]].concat();
    let e = server_handshake_stays_bounded("server reading a 65535-byte record", input);
    assert!(matches!(e, Error::RecordOverflow { .. }), "{e}");
}

#[test]
fn a_client_handshake_allocates_by_what_arrived_not_by_what_was_claimed() {
    let hello = server_hello_record();
    // The ServerHello alone is accepted: the client then waits for the Certificate. So the
    // failures below are the Certificate's.
    let e = client_handshake_stays_bounded("client after the ServerHello", hello.clone());
    assert!(
        matches!(e, Error::Truncated),
        "the ServerHello was refused: {e}"
    );
    for claim in HANDSHAKE_CLAIMS {
        let input = [hello.clone(), record(22, &claiming(11, claim, 10))].concat();
        let what = format!("client reading a Certificate claiming {claim} bytes");
        let e = client_handshake_stays_bounded(&what, input);
        // Refused from its header, or waiting for bytes that never come.
        if claim > MAX_HANDSHAKE_MESSAGE {
            assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
        } else {
            assert!(matches!(e, Error::Truncated), "{what}: {e}");
        }
    }
    for msg in certificates_with_hostile_inner_lengths() {
        let input = [hello.clone(), record(22, &msg)].concat();
        let what = format!("client reading Certificate {:02x?}", &msg[..10]);
        let e = client_handshake_stays_bounded(&what, input);
        assert!(matches!(e, Error::Decode { .. }), "{what}: {e}");
    }
    // A record header claiming the most a header can, then 3 bytes.
    let input = [&[22, 3, 3, 0xff, 0xff][..], &[1, 2, 3]].concat();
    let e = client_handshake_stays_bounded("client reading a 65535-byte record", input);
    assert!(matches!(e, Error::RecordOverflow { .. }), "{e}");
}
