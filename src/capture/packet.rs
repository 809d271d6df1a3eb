//! One TCP segment as a capture holds it: an Ethernet frame carrying an IPv4 or IPv6 packet
//! carrying a TCP segment, built for the recorder and taken apart for the decryptor.
//!
//! ```text
//! Ethernet (14)  dst MAC (6) | src MAC (6) | EtherType (2): 0x0800 IPv4, 0x86DD IPv6
//! IPv4 (20)      RFC 791 3.1: version 4, header length 5 words, total length, identification,
//!                don't-fragment, TTL, protocol 6 (TCP), header checksum, source, destination
//! IPv6 (40)      RFC 8200 3: version 6, payload length, next header 6, hop limit, addresses
//! TCP (20+)      RFC 9293 3.1: ports, sequence number, acknowledgment number, data offset,
//!                flags (FIN, SYN, RST, PSH, ACK), window, checksum, urgent pointer, options
//! ```
//!
//! Loopback traffic on Linux is captured with all-zero MAC addresses, as we write it. Both
//! checksums are the Internet checksum of RFC 1071; TCP's also covers a "pseudo-header" of the
//! IP addresses, the protocol and the segment length (RFC 9293 3.1, RFC 8200 8.1), so a segment
//! cannot be moved to another connection unnoticed.
//!
//! Parsing never panics: every length is checked against the bytes present, and a frame that is
//! not TCP over IPv4 or IPv6 is `None` (the decryptor skips it).

use std::net::{IpAddr, SocketAddr};

/// TCP flags (RFC 9293 3.1).
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const PROTO_TCP: u8 = 6;
const ETHERNET_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const TCP_LEN: usize = 20;

/// The most payload one segment may carry: an IPv4 packet's total length is 16 bits, and the
/// IPv4 and TCP headers take 40 of them.
pub const MAX_PAYLOAD: usize = 65535 - IPV4_LEN - TCP_LEN;

/// A TCP segment's header fields, as far as the recorder and the decryptor care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
}

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of 16-bit
/// big-endian words, an odd last byte padded with zero.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u64::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u64::from(hi) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header TCP's checksum covers (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6).
fn pseudo_header(src: IpAddr, dst: IpAddr, tcp_len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, PROTO_TCP]);
            p.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        }
        (s, d) => {
            p.extend_from_slice(&v6(s).octets());
            p.extend_from_slice(&v6(d).octets());
            p.extend_from_slice(&(tcp_len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, PROTO_TCP]);
        }
    }
    p
}

fn v6(a: IpAddr) -> std::net::Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// Builds the Ethernet frame of one segment. `ip_id` is the IPv4 identification field (each
/// sender counts its packets; unused for IPv6). `payload` must be at most [`MAX_PAYLOAD`] bytes.
/// If the two addresses are of different families both are written as IPv6.
pub fn build(seg: &Segment, ip_id: u16, payload: &[u8]) -> Vec<u8> {
    debug_assert!(payload.len() <= MAX_PAYLOAD);
    let mut tcp = Vec::with_capacity(TCP_LEN + payload.len());
    tcp.extend_from_slice(&seg.src.port().to_be_bytes());
    tcp.extend_from_slice(&seg.dst.port().to_be_bytes());
    tcp.extend_from_slice(&seg.seq.to_be_bytes());
    // RFC 9293 3.1: the acknowledgment number is only meaningful (and, by convention, only
    // non-zero) when ACK is set.
    let ack = if seg.flags & ACK != 0 { seg.ack } else { 0 };
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.push((TCP_LEN as u8 / 4) << 4); // data offset in 32-bit words, no options
    tcp.push(seg.flags);
    tcp.extend_from_slice(&65535u16.to_be_bytes()); // window
    tcp.extend_from_slice(&[0, 0]); // checksum, filled in below
    tcp.extend_from_slice(&[0, 0]); // urgent pointer
    tcp.extend_from_slice(payload);
    let sum = checksum(&[&pseudo_header(seg.src.ip(), seg.dst.ip(), tcp.len()), &tcp]);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());

    let mut frame = Vec::with_capacity(ETHERNET_LEN + IPV6_LEN + tcp.len());
    frame.extend_from_slice(&[0; 12]); // loopback: both MAC addresses are zero
    match (seg.src.ip(), seg.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            let mut ip = [0u8; IPV4_LEN];
            ip[0] = 0x45; // version 4, 5 words of header
            ip[2..4].copy_from_slice(&((IPV4_LEN + tcp.len()) as u16).to_be_bytes());
            ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
            ip[6] = 0x40; // don't fragment
            ip[8] = 64; // TTL
            ip[9] = PROTO_TCP;
            ip[12..16].copy_from_slice(&s.octets());
            ip[16..20].copy_from_slice(&d.octets());
            let sum = checksum(&[&ip]);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            frame.extend_from_slice(&ip);
        }
        (s, d) => {
            frame.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
            let mut ip = [0u8; IPV6_LEN];
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&(tcp.len() as u16).to_be_bytes());
            ip[6] = PROTO_TCP;
            ip[7] = 64; // hop limit
            ip[8..24].copy_from_slice(&v6(s).octets());
            ip[24..40].copy_from_slice(&v6(d).octets());
            frame.extend_from_slice(&ip);
        }
    }
    frame.extend_from_slice(&tcp);
    frame
}

/// Link-layer types a capture may use (the pcap LINKTYPE_ registry) that we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family in the capturing host's order.
    Null,
    /// LINKTYPE_ETHERNET (1): what `tcpdump -i lo` writes on Linux, and what we write.
    Ethernet,
    /// LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229): the IP packet alone.
    Raw,
    /// LINKTYPE_LINUX_SLL (113): `tcpdump -i any`, a 16-byte "cooked" header.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): the newer 20-byte cooked header.
    LinuxSll2,
}

impl LinkType {
    pub fn from_code(code: i32) -> Option<LinkType> {
        Some(match code {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            101 | 228 | 229 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }
}

/// Takes one captured frame apart: the TCP segment's header and its payload, or `None` if the
/// frame is not (a whole, unfragmented) TCP over IPv4 or IPv6, or is cut short. Checksums are not
/// checked: captures made on the sending host hold segments whose checksum the network card was
/// to fill in ("checksum offload"), so a wrong checksum is normal there.
pub fn parse(link: LinkType, frame: &[u8]) -> Option<(Segment, &[u8])> {
    let ip = match link {
        LinkType::Ethernet => {
            let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
            // One 802.1Q VLAN tag is skipped; loopback captures have none.
            if ethertype == 0x8100 {
                frame.get(ETHERNET_LEN + 4..)?
            } else {
                frame.get(ETHERNET_LEN..)?
            }
        }
        LinkType::Null => frame.get(4..)?,
        LinkType::Raw => frame,
        LinkType::LinuxSll => frame.get(16..)?,
        LinkType::LinuxSll2 => frame.get(20..)?,
    };
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            // More fragments, or a fragment offset: a piece of a larger packet.
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            if ihl < IPV4_LEN || total < ihl || *ip.get(9)? != PROTO_TCP || frag & 0x3fff != 0 {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            // A frame may be padded past the IP packet (Ethernet's 60-byte minimum).
            (IpAddr::from(src), IpAddr::from(dst), ip.get(ihl..total)?)
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            // Extension headers are not followed: TCP must be the next header.
            if *ip.get(6)? != PROTO_TCP {
                return None;
            }
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::from(src),
                IpAddr::from(dst),
                ip.get(IPV6_LEN..IPV6_LEN + len)?,
            )
        }
        _ => return None,
    };
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(tcp.get(at..at + 4)?.try_into().ok()?))
    };
    let ports = word(0)?;
    let offset = usize::from(*tcp.get(12)? >> 4) * 4;
    if offset < TCP_LEN {
        return None;
    }
    let seg = Segment {
        src: SocketAddr::new(src, (ports >> 16) as u16),
        dst: SocketAddr::new(dst, ports as u16),
        seq: word(4)?,
        ack: word(8)?,
        flags: *tcp.get(13)?,
    };
    Some((seg, tcp.get(offset..)?))
}

/// True if the IPv4 header checksum and the TCP checksum of an Ethernet frame we built are right
/// (for tests: a checksum over the whole header, itself included, sums to zero).
pub fn checksums_ok(frame: &[u8]) -> bool {
    let Some((seg, _)) = parse(LinkType::Ethernet, frame) else {
        return false;
    };
    let ip = &frame[ETHERNET_LEN..];
    let (ip_ok, tcp) = match ip[0] >> 4 {
        4 => (checksum(&[&ip[..IPV4_LEN]]) == 0, &ip[IPV4_LEN..]),
        _ => (true, &ip[IPV6_LEN..]),
    };
    let pseudo = pseudo_header(seg.src.ip(), seg.dst.ip(), tcp.len());
    ip_ok && checksum(&[&pseudo, tcp]) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u8) -> Segment {
        Segment {
            src: "127.0.0.1:40000".parse().unwrap(),
            dst: "127.0.0.1:8443".parse().unwrap(),
            seq: 0x01020304,
            ack: 0x0a0b0c0d,
            flags,
        }
    }

    #[test]
    fn checksum_matches_rfc_1071_example() {
        // RFC 1071 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement: 220d).
        assert_eq!(
            checksum(&[&[0x00, 0x01, 0xf2, 0x03], &[0xf4, 0xf5, 0xf6, 0xf7]]),
            !0xddf2
        );
        // An odd byte count pads with a zero byte; a split between parts changes nothing.
        assert_eq!(
            checksum(&[&[0x12, 0x34, 0x56]]),
            checksum(&[&[0x12], &[0x34, 0x56, 0]])
        );
    }

    #[test]
    fn built_frames_parse_back_and_checksums_verify() {
        for s in [seg(SYN), seg(ACK | PSH), seg(FIN | ACK)] {
            let frame = build(&s, 7, b"hello");
            assert!(checksums_ok(&frame));
            let (back, payload) = parse(LinkType::Ethernet, &frame).unwrap();
            assert_eq!(payload, b"hello");
            assert_eq!(back.flags, s.flags);
            assert_eq!(back.seq, s.seq);
            assert_eq!(back.ack, if s.flags & ACK != 0 { s.ack } else { 0 });
            assert_eq!((back.src, back.dst), (s.src, s.dst));
            // Any flipped bit breaks a checksum.
            for i in 14 * 8..frame.len() * 8 {
                let mut f = frame.clone();
                f[i / 8] ^= 1 << (i % 8);
                if parse(LinkType::Ethernet, &f).is_some() {
                    assert!(!checksums_ok(&f), "bit {i}");
                }
            }
        }
    }

    #[test]
    fn ipv6_frames_parse_back() {
        let mut s = seg(ACK);
        s.src = "[::1]:40000".parse().unwrap();
        s.dst = "[::1]:8443".parse().unwrap();
        let frame = build(&s, 0, b"abc");
        assert!(checksums_ok(&frame));
        let (back, payload) = parse(LinkType::Ethernet, &frame).unwrap();
        assert_eq!((back.src, back.dst, payload), (s.src, s.dst, &b"abc"[..]));
    }

    #[test]
    fn ipv4_header_is_the_textbook_one() {
        let frame = build(&seg(ACK), 0x1234, b"");
        let ip = &frame[14..34];
        assert_eq!(&frame[12..14], &[0x08, 0x00]);
        assert_eq!(ip[0], 0x45);
        assert_eq!(u16::from_be_bytes([ip[2], ip[3]]), 40);
        assert_eq!(&ip[4..6], &[0x12, 0x34]);
        assert_eq!((ip[8], ip[9]), (64, 6));
        assert_eq!(&ip[12..16], &[127, 0, 0, 1]);
    }

    #[test]
    fn truncated_or_foreign_frames_are_none() {
        let frame = build(&seg(ACK), 0, b"payload");
        for cut in 0..frame.len() - 7 {
            assert!(
                parse(LinkType::Ethernet, &frame[..cut]).is_none(),
                "cut {cut}"
            );
        }
        let mut udp = frame.clone();
        udp[14 + 9] = 17;
        assert!(parse(LinkType::Ethernet, &udp).is_none());
        let mut frag = frame.clone();
        frag[14 + 6] = 0x20; // more fragments
        assert!(parse(LinkType::Ethernet, &frag).is_none());
        // The same IP packet read as raw IP or behind a cooked header.
        assert!(parse(LinkType::Raw, &frame[14..]).is_some());
        let mut sll = vec![0u8; 16];
        sll.extend_from_slice(&frame[14..]);
        assert!(parse(LinkType::LinuxSll, &sll).is_some());
    }
}
