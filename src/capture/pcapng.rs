//! A pcapng writer (the format Wireshark saves in; draft-ietf-opsawg-pcapng), just the four
//! blocks a capture of our own connections needs:
//!
//! ```text
//! every block    block type (4) | total length (4) | body, padded to 4 bytes | total length (4)
//! Section Header       0x0A0D0D0A  byte-order magic 0x1A2B3C4D, version 1.0, section length -1
//! Interface Description 0x00000001 link type 1 (Ethernet), snap length, if_name "lo"
//! Decryption Secrets   0x0000000A  secrets type 0x544C534B ("TLSK": NSS key log lines)
//! Enhanced Packet      0x00000006  interface 0, timestamp in microseconds, lengths, the frame
//! ```
//!
//! The Decryption Secrets Block is what lets Wireshark decrypt the file with no setting: it
//! carries `CLIENT_RANDOM <client random> <master secret>` lines, exactly what `--keylog FILE`
//! writes, inside the capture. A reader applies the secrets to the packets that follow them, so
//! the recorder writes each connection's line as soon as the master secret exists, which is before
//! the first encrypted record.
//!
//! Everything is written little-endian (the byte-order magic tells readers so). Why our own
//! writer: the pcap crates we looked at (`pcap-file`, `pcap-parser`) write the other blocks but
//! none writes a Decryption Secrets Block, and the format is four fixed layouts.

const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const ENHANCED_PACKET: u32 = 0x0000_0006;
const DECRYPTION_SECRETS: u32 = 0x0000_000A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// The secrets type of NSS key log lines ("TLSK").
pub const TLS_KEY_LOG: u32 = 0x544C_534B;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u16 = 1;
/// Larger than any frame we write (an IP packet is at most 65,535 bytes).
const SNAP_LEN: u32 = 262_144;

// Option codes (pcapng 3.5, 4.1, 4.2).
const OPT_END: u16 = 0;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;

/// One option: code (2), length (2), value padded to 4.
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    pad(out);
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// A whole block around `body` (which must be a multiple of 4 bytes long).
fn block(typ: u32, body: &[u8]) -> Vec<u8> {
    let total = (12 + body.len()) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&typ.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

/// The Section Header Block and the one Interface Description Block (Ethernet, "lo") every
/// capture we write starts with.
pub fn header() -> Vec<u8> {
    let mut shb = Vec::new();
    shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes()); // major version
    shb.extend_from_slice(&0u16.to_le_bytes()); // minor version
    shb.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
    let app = format!("toytls {}", env!("CARGO_PKG_VERSION"));
    option(&mut shb, SHB_USERAPPL, app.as_bytes());
    option(&mut shb, OPT_END, &[]);

    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes()); // reserved
    idb.extend_from_slice(&SNAP_LEN.to_le_bytes());
    option(&mut idb, IF_NAME, b"lo");
    option(&mut idb, OPT_END, &[]);
    // No if_tsresol option: the default resolution is microseconds, which we use.

    let mut out = block(SECTION_HEADER, &shb);
    out.extend_from_slice(&block(INTERFACE_DESCRIPTION, &idb));
    out
}

/// An Enhanced Packet Block: `frame` captured whole on interface 0 at `micros` since 1970.
pub fn packet(micros: u64, frame: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(20 + frame.len() + 3);
    body.extend_from_slice(&0u32.to_le_bytes()); // interface ID
    body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(micros as u32).to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes()); // captured length
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes()); // original length
    body.extend_from_slice(frame);
    pad(&mut body);
    block(ENHANCED_PACKET, &body)
}

/// A Decryption Secrets Block holding NSS key log `lines` (each ending in a newline).
pub fn secrets(lines: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(8 + lines.len() + 3);
    body.extend_from_slice(&TLS_KEY_LOG.to_le_bytes());
    body.extend_from_slice(&(lines.len() as u32).to_le_bytes());
    body.extend_from_slice(lines.as_bytes());
    pad(&mut body);
    block(DECRYPTION_SECRETS, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_framed_and_padded() {
        let b = packet(0x0000_0001_0000_0002, &[0xaa; 5]);
        // 12 framing + 20 fixed + 5 data padded to 8.
        assert_eq!(b.len(), 40);
        assert_eq!(&b[0..4], &6u32.to_le_bytes());
        assert_eq!(&b[4..8], &40u32.to_le_bytes());
        assert_eq!(&b[36..40], &40u32.to_le_bytes());
        assert_eq!(&b[12..16], &1u32.to_le_bytes()); // timestamp high
        assert_eq!(&b[16..20], &2u32.to_le_bytes()); // timestamp low
        assert_eq!(&b[20..24], &5u32.to_le_bytes());
        assert_eq!(&b[33..36], &[0, 0, 0]);

        let s = secrets("CLIENT_RANDOM ab cd\n");
        assert_eq!(&s[8..12], b"KSLT"); // 0x544C534B little-endian
        assert_eq!(&s[12..16], &20u32.to_le_bytes());
        assert_eq!(s.len() % 4, 0);
        let h = header();
        assert_eq!(&h[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&h[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
    }
}
