//! Reading a capture file: legacy pcap (what `tcpdump -w` writes) or pcapng (what `tshark -w`,
//! Wireshark and our own `--pcap` write), in either byte order, with any number of sections and
//! interfaces, one frame at a time.
//!
//! The container formats are read by the `pcap-parser` crate (Rusticata's, which handles every
//! variant of both formats and is fuzzed upstream); the link layer, IP and TCP inside each frame
//! are ours ([`super::packet`]). The file is streamed through a fixed-size buffer, so memory does
//! not grow with the capture; a block longer than [`MAX_BLOCK`] is refused.

use super::packet::LinkType;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, PcapBlockOwned, PcapError};
use std::io::Read;

/// The largest block we read: a frame of any link type we know is far smaller (an IP packet is at
/// most 64 KiB; tcpdump's default snap length is 256 KiB).
pub const MAX_BLOCK: usize = 1 << 20;

/// Why a capture could not be read (to the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Neither a pcap nor a pcapng file.
    NotACapture,
    /// The file ends inside a block: a capture cut short (tcpdump killed without flushing, a
    /// partial copy). Every frame before the cut was delivered.
    Truncated,
    /// A block that does not parse, or one larger than [`MAX_BLOCK`].
    Malformed(String),
    /// The file could not be read.
    Io(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotACapture => write!(f, "not a pcap or pcapng capture file"),
            ReadError::Truncated => write!(
                f,
                "the capture file ends in the middle of a packet (cut short?); what came before was read"
            ),
            ReadError::Malformed(m) => write!(f, "malformed capture file: {m}"),
            ReadError::Io(m) => write!(f, "cannot read the capture: {m}"),
        }
    }
}

/// What was in the file besides the frames handed to the callback.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadSummary {
    /// Frames delivered.
    pub frames: u64,
    /// Frames on an interface whose link type we do not read (skipped).
    pub unknown_link: u64,
    /// Decryption Secrets Blocks seen (a pcapng file with its keys inside, like ours).
    pub secrets_blocks: u64,
}

/// Calls `frame(link type, bytes)` for every captured frame of `input`, in file order. Stops at
/// the first error, having delivered every frame before it.
pub fn for_each_frame(
    input: impl Read + Send,
    mut frame: impl FnMut(LinkType, &[u8]),
) -> (ReadSummary, Result<(), ReadError>) {
    let mut summary = ReadSummary::default();
    let mut reader = match pcap_parser::create_reader(MAX_BLOCK, input) {
        Ok(r) => r,
        Err(PcapError::HeaderNotRecognized | PcapError::Eof) => {
            return (summary, Err(ReadError::NotACapture));
        }
        Err(PcapError::Incomplete(_) | PcapError::UnexpectedEof) => {
            return (summary, Err(ReadError::Truncated));
        }
        Err(PcapError::ReadError) => return (summary, Err(ReadError::Io("read failed".into()))),
        Err(e) => return (summary, Err(ReadError::Malformed(format!("{e:?}")))),
    };
    // The link type of each interface of the current pcapng section, or the pcap file's one.
    let mut links: Vec<Option<LinkType>> = Vec::new();
    let result = loop {
        match reader.next() {
            Ok((used, block)) => {
                let delivered = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        links = vec![LinkType::from_code(h.network.0)];
                        None
                    }
                    PcapBlockOwned::Legacy(b) => Some((0, b.data)),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        // A new section starts over with its own interfaces.
                        links.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        links.push(LinkType::from_code(idb.linktype.0));
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(ref epb)) => {
                        Some((epb.if_id as usize, epb.packet_data()))
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(ref spb)) => {
                        Some((0, spb.packet_data()))
                    }
                    PcapBlockOwned::NG(Block::DecryptionSecrets(_)) => {
                        summary.secrets_blocks += 1;
                        None
                    }
                    _ => None,
                };
                if let Some((interface, data)) = delivered {
                    match links.get(interface).copied().flatten() {
                        Some(link) => {
                            summary.frames += 1;
                            frame(link, data);
                        }
                        None => summary.unknown_link += 1,
                    }
                }
                reader.consume(used);
            }
            Err(PcapError::Eof) => break Ok(()),
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    break Err(ReadError::Truncated);
                }
                if let Err(e) = reader.refill() {
                    break Err(ReadError::Io(format!("{e:?}")));
                }
            }
            Err(PcapError::UnexpectedEof) => break Err(ReadError::Truncated),
            Err(PcapError::BufferTooSmall) => {
                break Err(ReadError::Malformed(format!(
                    "a block larger than {MAX_BLOCK} bytes"
                )));
            }
            Err(e) => break Err(ReadError::Malformed(format!("{e:?}"))),
        }
    };
    (summary, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::packet::{self, ACK, Segment};
    use crate::capture::pcapng;

    fn frame() -> Vec<u8> {
        let seg = Segment {
            src: "127.0.0.1:1000".parse().unwrap(),
            dst: "127.0.0.1:2000".parse().unwrap(),
            seq: 1,
            ack: 2,
            flags: ACK,
        };
        packet::build(&seg, 0, b"data")
    }

    /// The same frame as a legacy pcap file, in the byte order given.
    fn legacy(big_endian: bool, frame: &[u8]) -> Vec<u8> {
        let u32b = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend_from_slice(&u32b(0xa1b2_c3d4));
        f.extend_from_slice(&u16b(2));
        f.extend_from_slice(&u16b(4));
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&u32b(65535));
        f.extend_from_slice(&u32b(1)); // Ethernet
        for v in [1, 2, frame.len() as u32, frame.len() as u32] {
            f.extend_from_slice(&u32b(v));
        }
        f.extend_from_slice(frame);
        f
    }

    fn frames_of(bytes: &[u8]) -> (Vec<Vec<u8>>, ReadSummary, Result<(), ReadError>) {
        let mut got = Vec::new();
        let (s, r) = for_each_frame(bytes, |link, f| {
            assert_eq!(link, LinkType::Ethernet);
            got.push(f.to_vec());
        });
        (got, s, r)
    }

    #[test]
    fn reads_our_pcapng_and_legacy_pcap_in_both_byte_orders() {
        let f = frame();
        let mut ng = pcapng::header();
        ng.extend_from_slice(&pcapng::secrets("CLIENT_RANDOM 00 00\n"));
        ng.extend_from_slice(&pcapng::packet(5, &f));
        ng.extend_from_slice(&pcapng::packet(6, &f));
        let (got, s, r) = frames_of(&ng);
        assert_eq!(
            (got, s.secrets_blocks, r),
            (vec![f.clone(), f.clone()], 1, Ok(()))
        );
        for be in [false, true] {
            let (got, _, r) = frames_of(&legacy(be, &f));
            assert_eq!((got, r), (vec![f.clone()], Ok(())), "big endian {be}");
        }
    }

    #[test]
    fn truncated_garbage_and_empty_files_are_errors_not_panics() {
        let f = frame();
        let mut ng = pcapng::header();
        ng.extend_from_slice(&pcapng::packet(5, &f));
        ng.extend_from_slice(&pcapng::packet(6, &f));
        let one_block = ng.len() - pcapng::packet(6, &f).len();
        for cut in one_block + 1..ng.len() {
            let (got, _, r) = frames_of(&ng[..cut]);
            assert_eq!(got.len(), 1, "cut at {cut}");
            assert_eq!(r, Err(ReadError::Truncated), "cut at {cut}");
        }
        assert_eq!(frames_of(b"").2, Err(ReadError::NotACapture));
        assert_eq!(
            frames_of(b"GET / HTTP/1.1\r\n\r\n").2,
            Err(ReadError::NotACapture)
        );
        let l = legacy(false, &f);
        assert_eq!(frames_of(&l[..l.len() - 1]).2, Err(ReadError::Truncated));
    }
}
