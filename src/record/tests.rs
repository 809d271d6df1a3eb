//! The record layer's rules: framing, limits, sequence numbers, the connection states.

use super::*;
use crate::Side;
use crate::record::suite::{DirectionKeys, lookup};
use crate::wire::messages::TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256;

fn layer() -> RecordLayer {
    RecordLayer::new(Tracer::new(Side::Client, None))
}

fn toy() -> RecordProtection {
    let info = lookup(TOY_RSA_WITH_AES_128_CTR_HMAC_SHA256).unwrap();
    let keys = DirectionKeys {
        mac_key: &[9; 32],
        enc_key: &[8; 16],
        iv: &[7; 4],
    };
    RecordProtection::new(info, &keys).unwrap()
}

/// Both directions switched to the toy suite under the same keys.
fn protected() -> RecordLayer {
    let mut l = layer();
    l.prepare(toy(), toy());
    l.change_write_state().unwrap();
    l.change_read_state().unwrap();
    l
}

/// RFC 5246 6.1: sequence numbers "MUST NOT wrap". Both directions use the last value
/// 2^64 - 2 and then refuse to go on (spec/limits.md), rather than reuse 0 with the same keys.
#[test]
fn sequence_numbers_never_wrap_rfc_5246_6_1() {
    let mut w = protected();
    w.write.seq = u64::MAX - 1;
    let mut out = Vec::new();
    w.write_records(&mut out, ContentType::ApplicationData, b"last")
        .unwrap();
    let sent = out.len();
    let err = w
        .write_records(&mut out, ContentType::ApplicationData, b"wrapped")
        .unwrap_err();
    assert!(
        err.to_string().contains("sequence number exhausted"),
        "{err}"
    );
    assert_eq!(
        out.len(),
        sent,
        "nothing more is written once the numbers are used up"
    );

    // The reader at the same point opens the record sealed under 2^64 - 2, then refuses the
    // next record before trying to open it.
    let mut r = protected();
    r.read.seq = u64::MAX - 1;
    let mut again = out.clone();
    again.extend_from_slice(&out);
    let mut input = &again[..];
    let (t, range) = r.read_record(&mut input).unwrap();
    assert_eq!(t, ContentType::ApplicationData);
    assert_eq!(r.plaintext(range), b"last");
    let err = r.read_record(&mut input).unwrap_err();
    assert!(
        err.to_string().contains("sequence number exhausted"),
        "{err}"
    );

    // A fresh ChangeCipherSpec (new keys) starts again at 0.
    w.prepare(toy(), toy());
    w.change_write_state().unwrap();
    assert_eq!(w.write.seq, 0);
}

#[test]
fn plaintext_records_are_framed_as_rfc_5246_6_2_1() {
    let mut l = layer();
    let mut out = Vec::new();
    l.write_records(&mut out, ContentType::Handshake, b"abc")
        .unwrap();
    assert_eq!(out, [22, 3, 3, 0, 3, b'a', b'b', b'c']);
    let mut r = layer();
    let (t, range) = r.read_record(&mut &out[..]).unwrap();
    assert_eq!(t, ContentType::Handshake);
    assert_eq!(r.plaintext(range), b"abc");
}

#[test]
fn large_writes_become_full_records() {
    let mut l = protected();
    let data = vec![0xAB; 2 * MAX_PLAINTEXT + 5];
    let mut out = Vec::new();
    l.write_records(&mut out, ContentType::ApplicationData, &data)
        .unwrap();
    let mut r = protected();
    let mut input = &out[..];
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    while !input.is_empty() || r.has_buffered_record() {
        let (t, range) = r.read_record(&mut input).unwrap();
        assert_eq!(t, ContentType::ApplicationData);
        sizes.push(range.len());
        got.extend_from_slice(r.plaintext(range));
    }
    assert_eq!(sizes, vec![MAX_PLAINTEXT, MAX_PLAINTEXT, 5]);
    assert_eq!(got, data);
}

#[test]
fn plaintext_over_2_14_is_record_overflow() {
    let mut rec = vec![22, 3, 3];
    rec.extend_from_slice(&((MAX_PLAINTEXT + 1) as u16).to_be_bytes());
    rec.resize(HEADER_LEN + MAX_PLAINTEXT + 1, 1);
    assert!(matches!(
        layer().read_record(&mut &rec[..]),
        Err(Error::RecordOverflow { .. })
    ));
    // Exactly 2^14 is fine.
    let mut rec = vec![22, 3, 3];
    rec.extend_from_slice(&(MAX_PLAINTEXT as u16).to_be_bytes());
    rec.resize(HEADER_LEN + MAX_PLAINTEXT, 1);
    assert!(layer().read_record(&mut &rec[..]).is_ok());
}

#[test]
fn ciphertext_over_2_14_plus_2048_is_record_overflow_before_reading_it() {
    let mut r = protected();
    // Only the header is present: the length alone must be refused.
    let hdr = [23, 3, 3, 0x48, 0x01]; // 2^14 + 2048 + 1
    assert!(matches!(
        r.read_record(&mut &hdr[..]),
        Err(Error::RecordOverflow { len: 18433, .. })
    ));
}

#[test]
fn a_protected_record_that_opens_to_more_than_2_14_bytes_is_record_overflow() {
    // RFC 5246 6.2.3 / 7.2.2: record_overflow also when a record decrypts to more than the
    // plaintext limit. Only a peer holding the keys can make one (the MAC is checked first), so
    // seal it by hand, bypassing write_records' splitting.
    let mut p = toy();
    let n = MAX_PLAINTEXT + 1;
    let frag_len = n + p.tag_len();
    assert!(frag_len <= MAX_CIPHERTEXT);
    let mut rec = vec![23, 3, 3];
    rec.extend_from_slice(&(frag_len as u16).to_be_bytes());
    rec.resize(HEADER_LEN + frag_len, 0x5A);
    let header = RecordHeader::new(0, 23, [3, 3]);
    p.seal(&header, &mut rec[HEADER_LEN..]);
    let mut r = protected();
    let e = r.read_record(&mut &rec[..]).unwrap_err();
    assert!(
        matches!(e, Error::RecordOverflow { len, max: MAX_PLAINTEXT } if len == n),
        "{e}"
    );
    assert_eq!(
        e.alert(),
        Some(crate::wire::alert::AlertDescription::RecordOverflow)
    );
}

#[test]
fn empty_handshake_alert_and_ccs_records_are_rejected() {
    for t in [20u8, 21, 22] {
        let rec = [t, 3, 3, 0, 0];
        let e = layer().read_record(&mut &rec[..]).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{t}: {e}");
    }
    let rec = [23u8, 3, 3, 0, 0];
    let (t, range) = layer().read_record(&mut &rec[..]).unwrap();
    assert_eq!((t, range.len()), (ContentType::ApplicationData, 0));
}

#[test]
fn unknown_types_versions_and_eof_are_errors() {
    let e = layer()
        .read_record(&mut &[24u8, 3, 3, 0, 1, 0][..])
        .unwrap_err();
    assert!(matches!(e, Error::UnexpectedMessage { .. }));
    let e = layer()
        .read_record(&mut &[22u8, 2, 0, 0, 1, 0][..])
        .unwrap_err();
    assert!(matches!(e, Error::ProtocolVersion { offered: 0x0200 }));
    let mut l = layer();
    l.fix_version();
    let e = l.read_record(&mut &[22u8, 3, 1, 0, 1, 0][..]).unwrap_err();
    assert!(matches!(e, Error::ProtocolVersion { offered: 0x0301 }));
    // Before the version is fixed a {3,1} record (an old ClientHello framing) is accepted.
    assert!(layer().read_record(&mut &[22u8, 3, 1, 0, 1, 0][..]).is_ok());
    for cut in 0..6 {
        let e = layer()
            .read_record(&mut &[22u8, 3, 3, 0, 1, 0][..cut])
            .unwrap_err();
        assert!(matches!(e, Error::Truncated));
    }
}

/// RFC 5246 6.1: keys derived by the handshake wait in the pending state; only a
/// ChangeCipherSpec makes them current, one direction at a time. A ChangeCipherSpec with no
/// pending state (before any keys) is refused.
#[test]
fn change_cipher_spec_switches_to_the_pending_state_and_only_then() {
    let mut l = layer();
    assert!(matches!(
        l.change_read_state(),
        Err(Error::UnexpectedMessage { .. })
    ));
    assert!(matches!(l.change_write_state(), Err(Error::Internal(_))));
    l.prepare(toy(), toy());
    // Prepared but not switched: records still go out as plaintext.
    let mut out = Vec::new();
    l.write_records(&mut out, ContentType::Handshake, b"abc")
        .unwrap();
    assert_eq!(out, [22, 3, 3, 0, 3, b'a', b'b', b'c']);
    l.change_write_state().unwrap();
    out.clear();
    l.write_records(&mut out, ContentType::Handshake, b"abc")
        .unwrap();
    assert_eq!(out.len(), HEADER_LEN + 3 + 32, "sealed under the toy suite");
    // The read side switched on its own, and each pending state is used once.
    let mut r = layer();
    r.prepare(toy(), toy());
    r.change_read_state().unwrap();
    let (_, range) = r.read_record(&mut &out[..]).unwrap();
    assert_eq!(r.plaintext(range), b"abc");
    assert!(r.change_read_state().is_err());
    assert!(l.change_write_state().is_err());
}

#[test]
fn replayed_or_reordered_records_fail_the_mac() {
    let mut w = protected();
    let mut a = Vec::new();
    w.write_records(&mut a, ContentType::ApplicationData, b"one")
        .unwrap();
    let mut b = Vec::new();
    w.write_records(&mut b, ContentType::ApplicationData, b"two")
        .unwrap();
    // Reordered: b first.
    let mut r = protected();
    assert!(matches!(
        r.read_record(&mut &b[..]),
        Err(Error::BadRecordMac)
    ));
    // Replayed: a twice.
    let mut r = protected();
    r.read_record(&mut &a[..]).unwrap();
    assert!(matches!(
        r.read_record(&mut &a[..]),
        Err(Error::BadRecordMac)
    ));
}

#[test]
fn protected_records_of_every_size_near_the_limit_round_trip() {
    for n in [
        0,
        1,
        15,
        16,
        17,
        MAX_PLAINTEXT - 1,
        MAX_PLAINTEXT,
        MAX_PLAINTEXT + 1,
    ] {
        let mut w = protected();
        let mut r = protected();
        let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
        let mut out = Vec::new();
        w.write_records(&mut out, ContentType::ApplicationData, &data)
            .unwrap();
        let mut input = &out[..];
        let mut got = Vec::new();
        while !input.is_empty() || r.has_buffered_record() {
            let (_, range) = r.read_record(&mut input).unwrap();
            got.extend_from_slice(r.plaintext(range));
        }
        assert_eq!(got, data, "size {n}");
    }
}
