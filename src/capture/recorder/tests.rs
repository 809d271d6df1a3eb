//! The unit tests of `recorder.rs`, kept apart so that file reads as the code it tests.

use super::*;
use crate::capture::packet::{LinkType, checksums_ok, parse};

/// A `Write` into a shared buffer.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The Enhanced Packet Blocks' frames of a capture we wrote (after the 2 header blocks).
fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let typ = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if typ == 6 {
            let caplen = u32::from_le_bytes(bytes[at + 20..at + 24].try_into().unwrap()) as usize;
            out.push(bytes[at + 28..at + 28 + caplen].to_vec());
        }
        at += len;
    }
    assert_eq!(at, bytes.len(), "the capture ends on a block boundary");
    out
}

/// A transport that answers every read from a script and swallows writes.
struct Scripted(std::collections::VecDeque<Vec<u8>>);

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.pop_front() {
            Some(v) => {
                buf[..v.len()].copy_from_slice(&v);
                Ok(v.len())
            }
            None => Ok(0),
        }
    }
}

impl Write for Scripted {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_connection_becomes_numbered_checksummed_segments() {
    let out = Shared::default();
    let cap = Capture::to_writer(out.clone()).unwrap();
    let server: SocketAddr = "127.0.0.1:8443".parse().unwrap();
    let client: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    {
        let script = Scripted(vec![b"hel".to_vec(), b"lo".to_vec()].into());
        let mut io = cap.record(script, server, client, Opener::Peer);
        let mut buf = [0u8; 16];
        assert_eq!(io.read(&mut buf).unwrap(), 3);
        assert_eq!(io.read(&mut buf).unwrap(), 2);
        io.write_all(b"world!").unwrap();
        io.flush().unwrap();
        assert_eq!(io.read(&mut buf).unwrap(), 0); // the client's FIN
    }
    let f = frames(&out.0.lock().unwrap());
    let segs: Vec<(Segment, Vec<u8>)> = f
        .iter()
        .map(|fr| {
            assert!(checksums_ok(fr));
            let (s, p) = parse(LinkType::Ethernet, fr).unwrap();
            (s, p.to_vec())
        })
        .collect();
    let flags: Vec<u8> = segs.iter().map(|(s, _)| s.flags).collect();
    assert_eq!(
        flags,
        [
            SYN,
            SYN | ACK,
            ACK,
            PSH | ACK,
            PSH | ACK,
            FIN | ACK,
            ACK,
            FIN | ACK,
            ACK
        ]
    );
    // The SYN comes from the client, then the two reads are one segment.
    assert_eq!(segs[0].0.src, client);
    assert_eq!(segs[3].1, b"hello");
    assert_eq!(segs[4].1, b"world!");
    assert_eq!(segs[4].0.src, server);
    let (isn_c, isn_s) = (segs[0].0.seq, segs[1].0.seq);
    assert_eq!(segs[1].0.ack, isn_c.wrapping_add(1));
    assert_eq!(segs[3].0.seq, isn_c.wrapping_add(1));
    assert_eq!(segs[4].0.ack, isn_c.wrapping_add(6));
    assert_eq!(segs[4].0.seq, isn_s.wrapping_add(1));
    // The client's FIN after "hello", ours after "world!", each acknowledged.
    assert_eq!(
        (segs[5].0.src, segs[5].0.seq),
        (client, isn_c.wrapping_add(6))
    );
    assert_eq!(
        (segs[6].0.src, segs[6].0.ack),
        (server, isn_c.wrapping_add(7))
    );
    assert_eq!(segs[7].0.seq, isn_s.wrapping_add(7));
    assert_eq!(
        (segs[8].0.src, segs[8].0.ack),
        (client, isn_s.wrapping_add(8))
    );
}

#[test]
fn large_writes_are_cut_into_ip_sized_segments_and_acknowledged() {
    let out = Shared::default();
    let cap = Capture::to_writer(out.clone()).unwrap();
    let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
    {
        let mut io = cap.record(Scripted(Default::default()), a, b, Opener::Us);
        io.write_all(&vec![7u8; 200_000]).unwrap();
    }
    let f = frames(&out.0.lock().unwrap());
    let data: Vec<usize> = f
        .iter()
        .filter_map(|fr| parse(LinkType::Ethernet, fr))
        .filter(|(s, _)| s.src == a)
        .map(|(_, p)| p.len())
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(
        data,
        [
            MAX_PAYLOAD,
            MAX_PAYLOAD,
            MAX_PAYLOAD,
            200_000 - 3 * MAX_PAYLOAD
        ]
    );
    let bare_acks = f
        .iter()
        .filter_map(|fr| parse(LinkType::Ethernet, fr))
        .filter(|(s, p)| s.src == b && s.flags == ACK && p.is_empty())
        .count();
    // One after each full segment (over 32 KiB unacknowledged), one for our FIN.
    assert_eq!(bare_acks, 4);
}

#[cfg(unix)]
#[test]
fn a_capture_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("toytls-capture-{}", std::process::id()));
    std::fs::write(&path, b"old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cap = Capture::create(&path).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(bytes, pcapng::header(), "truncated, then the header");
    assert!(cap.error().is_none());
}

#[test]
fn secrets_go_in_as_a_decryption_secrets_block() {
    let out = Shared::default();
    let cap = Capture::to_writer(out.clone()).unwrap();
    cap.key_log(None).log(&[1; 32], &[2; 48]);
    let bytes = out.0.lock().unwrap().clone();
    let line = client_random_line(&[1; 32], &[2; 48]);
    let dsb = pcapng::secrets(&format!("{line}\n"));
    assert!(bytes.ends_with(&dsb));
    assert!(cap.error().is_none());
}
