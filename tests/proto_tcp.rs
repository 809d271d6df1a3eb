//! Our client and server over real loopback TCP: 64 MiB each way with a hash check, and 16
//! clients at once doing full and resumed handshakes.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use toytls::stream::TlsStream;

const MIB: usize = 1 << 20;

/// Deterministic filler: a byte stream that differs at every offset mod 251.
fn fill(buf: &mut [u8], offset: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((offset + i) % 251) as u8;
    }
}

#[test]
fn sixty_four_mib_each_way_arrive_intact() {
    const TOTAL: usize = 64 * MIB;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::new(server_config(200));
    let st = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut s = TlsStream::accept(tcp, server).unwrap();
        // Receive everything, hashing it, then send the same amount back.
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0;
        while n < TOTAL {
            let k = s.read_data(&mut buf).unwrap();
            assert!(k > 0, "client closed early");
            h.update(&buf[..k]);
            n += k;
        }
        let mut off = 0;
        while off < TOTAL {
            fill(&mut buf, off);
            s.write_data(&buf).unwrap();
            off += buf.len();
        }
        s.close().unwrap();
        assert_eq!(s.read_data(&mut buf).unwrap(), 0);
        <[u8; 32]>::from(h.finalize())
    });
    let mut c = TlsStream::connect_tcp(addr, Arc::new(client_config(201)), "localhost").unwrap();
    let mut sent = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < TOTAL {
        fill(&mut buf, off);
        sent.update(&buf);
        c.write_data(&buf).unwrap();
        off += buf.len();
    }
    let mut got = Sha256::new();
    let mut n = 0;
    loop {
        let k = c.read_data(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        got.update(&buf[..k]);
        n += k;
    }
    c.close().unwrap();
    assert_eq!(n, TOTAL);
    let sent: [u8; 32] = sent.finalize().into();
    assert_eq!(st.join().unwrap(), sent, "server received different bytes");
    // What came back is the same filler, so the same hash.
    assert_eq!(<[u8; 32]>::from(got.finalize()), sent);
}

#[test]
fn sixteen_concurrent_clients_full_and_resumed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::new(server_config(202));
    const CLIENTS: usize = 16;
    const ROUNDS: usize = 3;
    let st = thread::spawn(move || {
        let mut handles = Vec::new();
        for _ in 0..CLIENTS * ROUNDS {
            let (tcp, _) = listener.accept().unwrap();
            let server = server.clone();
            handles.push(thread::spawn(move || {
                let mut s = TlsStream::accept(tcp, server).unwrap();
                let mut buf = [0u8; 1024];
                loop {
                    let n = s.read_data(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    s.write_data(&buf[..n]).unwrap();
                }
                s.close().unwrap();
                s.resumed()
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|r| *r)
            .count()
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            thread::spawn(move || {
                let config = Arc::new(client_config(300 + i as u64));
                let mut resumed = Vec::new();
                for round in 0..ROUNDS {
                    let mut c = TlsStream::connect_tcp(addr, config.clone(), "localhost").unwrap();
                    let msg = format!("client {i} round {round}");
                    c.write_data(msg.as_bytes()).unwrap();
                    c.close().unwrap();
                    let mut got = Vec::new();
                    std::io::Read::read_to_end(&mut c, &mut got).unwrap();
                    assert_eq!(got, msg.as_bytes());
                    resumed.push(c.resumed());
                }
                resumed
            })
        })
        .collect();
    for c in clients {
        // The first connection of each client is full, the later ones resume.
        assert_eq!(c.join().unwrap(), vec![false, true, true]);
    }
    assert_eq!(st.join().unwrap(), CLIENTS * (ROUNDS - 1));
}
