//! Decoding a ClientHello with the most extensions a block holds, next to an ordinary one.
//!
//! A hostile client can send 16,383 empty extensions in one hello (4 bytes each, in a 64 KiB
//! block) before any authentication, so the server's cost for such a hello must stay linear in
//! its size. The baseline, in the same run, is a 10-extension hello like a browser's; compare
//! the two as bytes per second (criterion's throughput), which are equal when the cost per byte
//! is the same. Run with `cargo bench --bench extensions`.
//!
//! One run (2-core VM, load average 10 from other engineers' builds and tests, so noisy),
//! medians: 10 extensions (145 B) 1.22 us (114 MiB/s); 16,383 extensions (65,577 B) 176 us
//! (355 MiB/s). The large hello costs less per byte than the small one, whose time is mostly
//! fixed costs (clearing the 8 KiB set of seen types among them). The check this replaced
//! compared each extension with every earlier one: in the same session it took 187 ms for the
//! 16,383-extension hello (1,060 times as long) and 0.43 us for the 10-extension one.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use toytls::wire::codec::Writer;
use toytls::wire::messages::extensions::Extension;
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::{
    CipherSuite, ClientHello, HandshakeMessage, HandshakeType, ProtocolVersion, Random, SessionId,
};

/// A ClientHello body with `n` extensions of distinct types and `data_len` bytes each.
fn hello_body(n: u16, data_len: usize) -> Vec<u8> {
    let hello = ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([7; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: vec![CipherSuite(0x009c), CipherSuite(0x00ff)],
        compression_methods: vec![COMPRESSION_NULL],
        extensions: Some(
            (0..n)
                .map(|typ| Extension {
                    typ,
                    data: vec![0; data_len],
                })
                .collect(),
        ),
    };
    let mut w = Writer::new();
    hello.encode(&mut w);
    w.as_slice().to_vec()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_hello_decode");
    // An ordinary hello: 10 extensions of a few bytes (server_name, groups, ...).
    let ordinary = hello_body(10, 6);
    // The most extensions 64 KiB holds: 16,383 of 4 bytes, all empty.
    let most = hello_body(16_383, 0);
    for (name, body) in [("10 extensions", &ordinary), ("16383 extensions", &most)] {
        assert!(HandshakeMessage::decode(HandshakeType::ClientHello as u8, body).is_ok());
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| HandshakeMessage::decode(HandshakeType::ClientHello as u8, black_box(body)))
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
