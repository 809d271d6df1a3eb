//! The decryptor's unit tests; whole captures are decrypted in `tests/capture_decrypt.rs`.

use super::*;

#[test]
fn key_log_lines_are_read_and_others_skipped() {
    let cr = "00".repeat(31) + "01";
    let ms = "ab".repeat(48);
    let text = format!(
        "# a comment\nCLIENT_RANDOM {cr} {ms}\nCLIENT_RANDOM {cr} short\nRSA 0011 2233\nCLIENT_RANDOM zz{} {ms}\n",
        &cr[2..]
    );
    let mut s = Secrets::default();
    assert_eq!(s.add_key_log(&text), 1);
    let mut want = [0u8; 32];
    want[31] = 1;
    assert_eq!(s.key_log.get(&want), Some(&[0xab; 48]));
}

#[test]
fn frames_that_are_not_tls_end_with_one_problem_each() {
    use crate::capture::packet::{ACK, PSH, Segment, build};
    let secrets = Secrets::default();
    let mut events = Vec::new();
    let mut sink = |e: Event| events.push(e);
    let mut d = Decryptor::new(&secrets, &mut sink);
    let c: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let srv: SocketAddr = "127.0.0.1:443".parse().unwrap();
    let seg = |src, dst, seq, flags| Segment {
        src,
        dst,
        seq,
        ack: 0,
        flags,
    };
    d.frame(LinkType::Ethernet, &build(&seg(c, srv, 10, SYN), 0, b""));
    d.frame(
        LinkType::Ethernet,
        &build(&seg(c, srv, 11, PSH | ACK), 0, b"GET / HTTP/1.1\r\n\r\n"),
    );
    d.frame(
        LinkType::Ethernet,
        &build(&seg(c, srv, 29, PSH | ACK), 0, b"more"),
    );
    d.frame(LinkType::Ethernet, b"not even a frame");
    let summary = d.finish();
    assert_eq!(
        (summary.connections, summary.decrypted, summary.not_tcp),
        (1, 0, 1)
    );
    let problems: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Problem { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(problems.len(), 1, "{events:?}");
    assert!(
        problems[0].starts_with("not TLS: the client's first bytes"),
        "{}",
        problems[0]
    );
    assert!(matches!(
        events.last(),
        Some(Event::End {
            id: 1,
            closed: false,
            ..
        })
    ));
}
