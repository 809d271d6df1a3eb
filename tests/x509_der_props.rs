//! Property tests for the DER codec and the certificate parser: what the writer writes, the reader
//! reads back unchanged; and no input, however damaged, makes a parser panic.

mod x509_support;

use proptest::prelude::*;
use std::sync::OnceLock;
use toytls::clock::UnixTime;
use toytls::x509::Certificate;
use toytls::x509::der::{Reader, Value, tag};
use toytls::x509::der_write::Writer;
use toytls::x509::name::Name;
use toytls::x509::oid;
use toytls::x509::pem::parse_blocks;
use toytls::x509::time::{encode_time, parse_time};

/// Any single-byte tag (low tag number form), primitive or constructed per `constructed`.
fn tag_byte(constructed: bool) -> impl Strategy<Value = u8> {
    (0u8..4, 0u8..31).prop_map(move |(class, number)| {
        (class << 6) | if constructed { tag::CONSTRUCTED } else { 0 } | number
    })
}

fn value_tree() -> impl Strategy<Value = Value> {
    let leaf = (
        tag_byte(false),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(t, bytes)| Value::Primitive(t, bytes));
    leaf.prop_recursive(6, 64, 8, |inner| {
        (tag_byte(true), proptest::collection::vec(inner, 0..8))
            .prop_map(|(t, children)| Value::Constructed(t, children))
    })
}

proptest! {
    #[test]
    fn value_write_then_read_is_identity(v in value_tree()) {
        let der = Writer::build(|w| w.value(&v));
        prop_assert_eq!(Value::from_der(&der).unwrap(), v);
    }

    #[test]
    fn truncated_values_are_errors(v in value_tree(), cut in any::<prop::sample::Index>()) {
        let der = Writer::build(|w| w.value(&v));
        let len = cut.index(der.len());
        prop_assert!(Value::from_der(&der[..len]).is_err());
    }

    #[test]
    fn unsigned_integers_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..70)) {
        let der = Writer::build(|w| w.unsigned_integer(&bytes));
        let mut r = Reader::new(&der);
        let read = r.unsigned_integer().unwrap();
        r.finish().unwrap();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        prop_assert_eq!(read, &bytes[first..]);
    }

    #[test]
    fn small_integers_round_trip(v in any::<u64>()) {
        let der = Writer::build(|w| w.small_integer(v));
        prop_assert_eq!(Reader::new(&der).small_u64().unwrap(), v);
    }

    #[test]
    fn booleans_and_octet_strings_round_trip(b in any::<bool>(), s in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let der = Writer::build(|w| { w.boolean(b); w.octet_string(&s); w.null(); });
        let mut r = Reader::new(&der);
        prop_assert_eq!(r.boolean().unwrap(), b);
        prop_assert_eq!(r.octet_string().unwrap(), &s[..]);
        r.null().unwrap();
        r.finish().unwrap();
    }

    #[test]
    fn times_round_trip(t in -62_167_219_200i64..253_402_300_800) {
        // 0000-01-01 .. 9999-12-31: every instant with an RFC 5280 encoding.
        let (tg, text) = encode_time(UnixTime(t)).unwrap();
        prop_assert_eq!(parse_time(tg, text.as_bytes()).unwrap(), UnixTime(t));
    }

    #[test]
    fn names_round_trip(cn in "\\PC{1,40}", org in "[ -~]{1,40}") {
        let name = Name::from_attributes(&[(oid::ORGANIZATION, &org), (oid::COMMON_NAME, &cn)]);
        let again = Name::read(&mut Reader::new(name.der())).unwrap();
        prop_assert_eq!(again.common_name_value(), Some(cn.as_str()));
        prop_assert_eq!(&again, &name);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Value::from_der(&bytes);
        let _ = Certificate::from_der(&bytes);
        let _ = Name::read(&mut Reader::new(&bytes));
    }

    #[test]
    fn damaged_certificates_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let good = certificate_der();
        let mut bad = good.to_vec();
        for (at, bit) in &flips {
            let i = at.index(bad.len());
            bad[i] ^= 1 << bit;
        }
        let _ = Certificate::from_der(&bad);
        let len = cut.index(good.len());
        prop_assert!(Certificate::from_der(&good[..len]).is_err());
    }
}

/// One real certificate (with extensions) from the openssl command line, made once.
fn certificate_der() -> &'static [u8] {
    static DER: OnceLock<Vec<u8>> = OnceLock::new();
    DER.get_or_init(|| {
        let pki = x509_support::Pki::new("der-props");
        pki.rsa_key("root");
        pki.simple(
            "root",
            "/O=Props/CN=Props Root",
            "root",
            None,
            x509_support::ROOT_EXT,
        );
        pki.simple(
            "leaf",
            "/CN=props.example",
            "root",
            Some(("root", "root")),
            &x509_support::leaf_ext("DNS:props.example, IP:10.0.0.1"),
        );
        let der = parse_blocks(&pki.read("leaf.pem")).unwrap().remove(0).der;
        assert!(Certificate::from_der(&der).is_ok());
        der
    })
}
