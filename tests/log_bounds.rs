//! What an error prints of the peer's data is bounded: one ClientHello offering 32,000 suites
//! we do not have made a 260 KB log line (every suite listed), so a few such clients a second
//! could fill a disk through `toytls server`'s log. The error still says what happened and how
//! much was left out.

mod common;
// Both helper modules include tests/common/tempdir.rs; the two copies are separate modules here
// and neither's TempDir is used across them.
#[allow(clippy::duplicate_mod)]
mod stacks;

use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use toytls::error::Error;
use toytls::stream::TlsStream;
use toytls::wire::messages::hello::COMPRESSION_NULL;
use toytls::wire::messages::*;

/// The most an error's text may take, whatever the peer sent.
const MAX_ERROR_TEXT: usize = 1024;

/// A ClientHello offering 32,000 suites, none of which toytls has, as plaintext records.
fn hello_with_32000_unknown_suites() -> Vec<u8> {
    let msg = HandshakeMessage::ClientHello(ClientHello {
        client_version: ProtocolVersion::TLS12,
        random: Random([1; 32]),
        session_id: SessionId::EMPTY,
        cipher_suites: (0x2000..0x2000 + 32_000).map(CipherSuite).collect(),
        compression_methods: vec![COMPRESSION_NULL],
        extensions: None,
    })
    .to_bytes()
    .unwrap();
    handshake_records(&msg)
}

#[test]
fn no_common_suite_among_32000_prints_a_bounded_list() {
    let (mut c, s) = pipe();
    let st = std::thread::spawn(move || TlsStream::accept(s, Arc::new(server_config(41))));
    c.write_all(&hello_with_32000_unknown_suites()).unwrap();
    let e = st.join().unwrap().err().expect("no suite in common");
    assert!(matches!(e, Error::NoCommonCipherSuite { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.len() <= MAX_ERROR_TEXT,
        "{} bytes: {}...",
        text.len(),
        &text[..200]
    );
    // It still shows the first suites and says how many there were.
    assert!(text.contains("0x2000, 0x2001"), "{text}");
    assert!(text.contains("32000"), "{text}");
}

#[test]
fn the_cli_servers_log_line_for_it_is_bounded_too() {
    let p = stacks::Pki::new();
    let server = stacks::toytls_server(&p, &[]);
    let mut t = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    t.write_all(&hello_with_32000_unknown_suites()).unwrap();
    server
        .stderr
        .wait_for("handshake failed", || "no log line".into());
    // The whole line: up to its newline (it may arrive in pieces).
    let start = std::time::Instant::now();
    let line = loop {
        let text = server.stderr.text();
        let at = text.find("handshake failed").unwrap();
        if let Some(end) = text[at..].find('\n') {
            let begin = text[..at].rfind('\n').map_or(0, |b| b + 1);
            break text[begin..at + end].to_string();
        }
        assert!(start.elapsed() < stacks::TIMEOUT, "the line never ended");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        line.len() <= MAX_ERROR_TEXT + 64,
        "a log line of {} bytes",
        line.len()
    );
}
