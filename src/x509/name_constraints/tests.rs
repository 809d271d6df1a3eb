//! The unit tests of `name_constraints.rs`, kept apart so that file reads as the code it tests.

use super::*;

fn read(der: &[u8]) -> Result<NameConstraints, DerError> {
    NameConstraints::read(&mut Reader::new(der), true)
}

#[test]
fn dns_subtrees() {
    // Adding labels on the left, at a label boundary only.
    assert!(dns_within("corp.example", "corp.example"));
    assert!(dns_within("www.corp.example", "corp.example"));
    assert!(dns_within("a.b.corp.example", "corp.example"));
    assert!(!dns_within("evilcorp.example", "corp.example"));
    assert!(!dns_within("example", "corp.example"));
    // Case and a trailing dot do not matter.
    assert!(dns_within("WWW.Corp.Example.", "corp.EXAMPLE"));
    assert!(dns_within("www.corp.example", "corp.example."));
    // A leading dot: strictly below.
    assert!(dns_within("www.corp.example", ".corp.example"));
    assert!(!dns_within("corp.example", ".corp.example"));
    assert!(!dns_within("xcorp.example", ".corp.example"));
    // The empty subtree holds everything.
    assert!(dns_within("bank.com", ""));
    // Wildcards: every name they stand for must be within.
    assert!(dns_within("*.corp.example", "corp.example"));
    assert!(dns_within("*.corp.example", ".corp.example"));
    assert!(dns_within("*.www.corp.example", "www.corp.example"));
    assert!(!dns_within("*.corp.example", "www.corp.example"));
    assert!(!dns_within("*.example", "corp.example"));
}

#[test]
fn wildcards_overlap_excluded_subtrees() {
    assert!(dns_overlaps("*.corp.example", "secret.corp.example"));
    assert!(dns_overlaps("*.corp.example", "corp.example"));
    assert!(dns_overlaps("*.corp.example", ".corp.example"));
    assert!(dns_overlaps("*.corp.example", "SECRET.corp.example."));
    assert!(dns_overlaps("*.secret.corp.example", "secret.corp.example"));
    // `*.corp.example` covers one label only: not a.secret.corp.example, and not the names
    // strictly below secret.corp.example.
    assert!(!dns_overlaps("*.corp.example", "a.secret.corp.example"));
    assert!(!dns_overlaps("*.corp.example", ".secret.corp.example"));
    assert!(!dns_overlaps("*.corp.example", "corp.example.org"));
    assert!(!dns_overlaps("*.dev.corp.example", "secret.corp.example"));
    // Plain names: as dns_within.
    assert!(dns_overlaps("a.secret.corp.example", "secret.corp.example"));
    assert!(!dns_overlaps("www.corp.example", "secret.corp.example"));
}

#[test]
fn ip_subtrees() {
    let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(ip_in(&v4("10.1.2.3"), &[10, 0, 0, 0], &[255, 0, 0, 0]));
    assert!(!ip_in(&v4("11.1.2.3"), &[10, 0, 0, 0], &[255, 0, 0, 0]));
    assert!(ip_in(
        &v4("192.168.1.77"),
        &[192, 168, 1, 0],
        &[255, 255, 255, 0]
    ));
    // Another family never matches.
    assert!(!ip_in(&v4("::a01:203"), &[10, 0, 0, 0], &[255, 0, 0, 0]));
    let mut addr = [0u8; 16];
    addr[0] = 0xfd;
    let mut mask = [0u8; 16];
    mask[0] = 0xff;
    assert!(ip_in(&v4("fd00::1"), &addr, &mask));
    assert!(!ip_in(&v4("fe80::1"), &addr, &mask));
}

#[test]
fn masks_must_be_prefixes() {
    assert!(is_prefix_mask(&[255, 255, 0, 0]));
    assert!(is_prefix_mask(&[255, 240, 0, 0]));
    assert!(is_prefix_mask(&[0, 0, 0, 0]));
    assert!(is_prefix_mask(&[255; 4]));
    assert!(!is_prefix_mask(&[255, 0, 255, 0]));
    assert!(!is_prefix_mask(&[0x0f, 0, 0, 0]));
    assert!(!is_prefix_mask(&[0xf0, 0x80, 0, 0]));
}

#[test]
fn parsing() {
    // permitted: DNS corp.example, IP 10.0.0.0/8; excluded: varies.
    let permitted = [
        0xa0, 0x1c, 0x30, 0x0e, 0x82, 0x0c, b'c', b'o', b'r', b'p', b'.', b'e', b'x', b'a', b'm',
        b'p', b'l', b'e', 0x30, 0x0a, 0x87, 0x08, 10, 0, 0, 0, 255, 0, 0, 0,
    ];
    let with = |excluded: &[u8]| {
        let mut der = vec![0x30, (permitted.len() + excluded.len()) as u8];
        der.extend_from_slice(&permitted);
        der.extend_from_slice(excluded);
        der
    };
    // An empty excluded list: SIZE (1..MAX).
    assert!(read(&with(&[0xa1, 0x00])).is_err());
    // excluded: one URI subtree, a form toytls does not implement.
    let der = with(&[0xa1, 0x06, 0x30, 0x04, 0x86, 0x02, b'a', b'b']);
    let nc = read(&der).unwrap();
    assert_eq!(
        nc.permitted,
        [
            Subtree::Dns("corp.example".into()),
            Subtree::Ip {
                addr: vec![10, 0, 0, 0],
                mask: vec![255, 0, 0, 0]
            }
        ]
    );
    assert_eq!(nc.permitted[1].to_string(), "IP:10.0.0.0/8");
    assert!(nc.excluded.is_empty());
    assert_eq!(nc.unsupported_forms, [6]);
    assert!(nc.critical);
    // excluded: a directoryName (an empty Name, [4] EXPLICIT around its SEQUENCE).
    let nc = read(&with(&[0xa1, 0x06, 0x30, 0x04, 0xa4, 0x02, 0x30, 0x00])).unwrap();
    assert_eq!(nc.excluded.len(), 1);
    assert!(matches!(&nc.excluded[0], Subtree::Directory(n) if n.rdns().is_empty()));
    assert!(nc.unsupported_forms.is_empty());
    // A directoryName whose Name has trailing bytes.
    assert!(
        read(&with(&[
            0xa1, 0x07, 0x30, 0x05, 0xa4, 0x03, 0x30, 0x00, 0x00
        ]))
        .is_err()
    );
    // Neither field: refused.
    assert_eq!(read(&[0x30, 0x00]), Err(DerError::Truncated));
    // A subtree with a maximum.
    let with_max = [
        0x30, 0x0b, 0xa0, 0x09, 0x30, 0x07, 0x82, 0x02, b'a', b'b', 0x81, 0x01, 0x01,
    ];
    assert_eq!(read(&with_max), Err(DerError::TrailingData));
    // An IP subtree of 5 bytes, and one with a mask that is not a prefix.
    let bad_len = [
        0x30, 0x0b, 0xa0, 0x09, 0x30, 0x07, 0x87, 0x05, 1, 2, 3, 4, 5,
    ];
    assert_eq!(read(&bad_len), Err(DerError::BadString));
    let bad_mask = [
        0x30, 0x0e, 0xa0, 0x0c, 0x30, 0x0a, 0x87, 0x08, 10, 0, 0, 0, 255, 0, 255, 0,
    ];
    assert_eq!(read(&bad_mask), Err(DerError::BadString));
    // A base that is not a context-tagged GeneralName.
    let bad_tag = [0x30, 0x08, 0xa0, 0x06, 0x30, 0x04, 0x04, 0x02, b'a', b'b'];
    assert!(matches!(
        read(&bad_tag),
        Err(DerError::UnexpectedTag { .. })
    ));
}

#[test]
fn common_names_used_as_dns_names() {
    assert!(cn_is_dns_name("localhost"));
    assert!(cn_is_dns_name("www.corp.example"));
    assert!(cn_is_dns_name("*.corp.example"));
    assert!(!cn_is_dns_name("Corp Web Server"));
    assert!(!cn_is_dns_name("127.0.0.1"));
    assert!(!cn_is_dns_name(""));
}

#[test]
fn long_names_are_shortened_in_messages() {
    let long = "a".repeat(500);
    let shown = Named::Dns(&long).to_string();
    assert_eq!(shown.len(), "DNS:".len() + SHOWN_NAME_CHARS + "...".len());
}
