//! Load over loopback (issue 6): 32 clients at once against one [`toytls::net::serve`] server, each
//! doing a full handshake and then resumed ones, every connection carrying data both ways that is
//! checked byte for byte (SHA-256 of what was sent against what came back). Zero failures allowed.
//! Bounded: a few seconds on two cores; every socket has a timeout.

mod common;

use common::{client_config, server_config};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toytls::config::ClientConfig;
use toytls::net::serve::{ServerLimits, echo, spawn};
use toytls::stream::TlsStream;

const CLIENTS: usize = 32;
/// Connections per client: one full handshake, then resumptions.
const CONNECTIONS: usize = 4;
/// Bytes each connection sends (and gets back), in pieces of uneven sizes.
const BYTES: usize = 256 * 1024;
const SOCKET_TIMEOUT: Duration = Duration::from_secs(30);

/// One connection: handshake, `BYTES` echoed in uneven pieces, close_notify both ways. Returns
/// whether it was resumed.
fn one_connection(addr: SocketAddr, cfg: &Arc<ClientConfig>, rng: &mut StdRng) -> bool {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(SOCKET_TIMEOUT)).unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut tls = TlsStream::connect(tcp, cfg.clone(), "localhost", addr.port()).unwrap();
    let (mut sent, mut received) = (Sha256::new(), Sha256::new());
    let mut left = BYTES;
    let mut back = vec![0u8; 40_000];
    while left > 0 {
        // Pieces from 1 byte to a little over two records, so record boundaries fall anywhere.
        let n = 1 + rng.next_u32() as usize % left.min(33_000);
        let mut piece = vec![0u8; n];
        rng.fill_bytes(&mut piece);
        tls.write_all(&piece).unwrap();
        sent.update(&piece);
        tls.read_exact(&mut back[..n]).unwrap();
        received.update(&back[..n]);
        left -= n;
    }
    tls.close().unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{} bytes after the echo", rest.len());
    assert_eq!(sent.finalize(), received.finalize(), "echoed bytes differ");
    tls.resumed()
}

#[test]
fn thirty_two_clients_full_and_resumed_handshakes_with_every_byte_checked() {
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = failures.clone();
    let addr = spawn(
        "127.0.0.1:0",
        Arc::new(server_config(11)),
        ServerLimits {
            max_connections: CLIENTS,
            handshake_timeout: Duration::from_secs(20),
            io_timeout: SOCKET_TIMEOUT,
            ..ServerLimits::default()
        },
        echo,
        move |line| sink.lock().unwrap().push(line),
    )
    .unwrap();
    let start = std::sync::Barrier::new(CLIENTS);
    let resumed: Vec<Vec<bool>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let start = &start;
                s.spawn(move || {
                    let cfg = Arc::new(client_config(100 + i as u64));
                    let mut rng = StdRng::seed_from_u64(i as u64);
                    start.wait();
                    (0..CONNECTIONS)
                        .map(|_| one_connection(addr, &cfg, &mut rng))
                        .collect::<Vec<bool>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, r) in resumed.iter().enumerate() {
        assert_eq!(
            r,
            &[false, true, true, true],
            "client {i}: the first connection is full, the others resume"
        );
    }
    // The server saw no failed connection either (its log lines arrive when a connection ends,
    // and every connection ended before its client returned).
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(*failures.lock().unwrap(), Vec::<String>::new());
}
