//! The unit tests of `der.rs`, kept apart so that file reads as the code it tests.

use super::*;

#[test]
fn short_and_long_lengths() {
    let mut r = Reader::new(&[0x04, 0x02, 0xaa, 0xbb]);
    assert_eq!(r.octet_string().unwrap(), &[0xaa, 0xbb]);
    assert!(r.finish().is_ok());

    let mut long = vec![0x04, 0x81, 0x80];
    long.extend(std::iter::repeat_n(7u8, 0x80));
    let mut r = Reader::new(&long);
    assert_eq!(r.octet_string().unwrap().len(), 0x80);
    r.finish().unwrap();
}

#[test]
fn rejects_non_der_lengths() {
    // Indefinite length.
    assert_eq!(
        Reader::new(&[0x30, 0x80, 0, 0]).read_any().unwrap_err(),
        DerError::IndefiniteLength
    );
    // 5 written in long form.
    assert_eq!(
        Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5])
            .read_any()
            .unwrap_err(),
        DerError::NonMinimalLength
    );
    // Leading zero length byte.
    let mut v = vec![0x04, 0x82, 0x00, 0x80];
    v.extend([0u8; 0x80]);
    assert_eq!(
        Reader::new(&v).read_any().unwrap_err(),
        DerError::NonMinimalLength
    );
    // Length longer than the input.
    assert_eq!(
        Reader::new(&[0x04, 0x03, 1, 2]).read_any().unwrap_err(),
        DerError::Truncated
    );
    // A length claiming 4 GiB must not allocate or overflow: it is simply truncated.
    assert_eq!(
        Reader::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff])
            .read_any()
            .unwrap_err(),
        DerError::Truncated
    );
    assert_eq!(
        Reader::new(&[0x04, 0x85, 1, 0, 0, 0, 0])
            .read_any()
            .unwrap_err(),
        DerError::LengthTooLarge
    );
    assert_eq!(
        Reader::new(&[0x1f, 0x01, 0x00]).read_any().unwrap_err(),
        DerError::HighTagNumber
    );
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut r = Reader::new(&[0x05, 0x00, 0x00]);
    r.null().unwrap();
    assert_eq!(r.finish().unwrap_err(), DerError::TrailingData);
}

#[test]
fn wrong_tag_does_not_consume() {
    let mut r = Reader::new(&[0x05, 0x00]);
    assert_eq!(
        r.octet_string().unwrap_err(),
        DerError::UnexpectedTag {
            expected: 0x04,
            found: 0x05
        }
    );
    r.null().unwrap();
}

#[test]
fn integers_must_be_minimal() {
    assert_eq!(Reader::new(&[0x02, 0x01, 0x7f]).small_u64().unwrap(), 0x7f);
    assert_eq!(
        Reader::new(&[0x02, 0x02, 0x00, 0x80]).small_u64().unwrap(),
        0x80
    );
    assert_eq!(
        Reader::new(&[0x02, 0x02, 0x00, 0x7f])
            .small_u64()
            .unwrap_err(),
        DerError::NonMinimalInteger
    );
    assert_eq!(
        Reader::new(&[0x02, 0x02, 0xff, 0x80])
            .integer_bytes()
            .unwrap_err(),
        DerError::NonMinimalInteger
    );
    assert_eq!(
        Reader::new(&[0x02, 0x00]).integer_bytes().unwrap_err(),
        DerError::NonMinimalInteger
    );
    // Negative where a magnitude is wanted.
    assert_eq!(
        Reader::new(&[0x02, 0x01, 0x80])
            .unsigned_integer()
            .unwrap_err(),
        DerError::IntegerOutOfRange
    );
    assert_eq!(
        Reader::new(&[0x02, 0x01, 0x00]).unsigned_integer().unwrap(),
        &[] as &[u8]
    );
}

#[test]
fn booleans_and_bit_strings() {
    assert!(Reader::new(&[0x01, 0x01, 0xff]).boolean().unwrap());
    assert_eq!(
        Reader::new(&[0x01, 0x01, 0x01]).boolean().unwrap_err(),
        DerError::BadBoolean
    );
    assert_eq!(
        Reader::new(&[0x03, 0x02, 0x05, 0xa0]).bit_string().unwrap(),
        (&[0xa0u8][..], 5)
    );
    // Padding bits set.
    assert_eq!(
        Reader::new(&[0x03, 0x02, 0x05, 0xa1])
            .bit_string()
            .unwrap_err(),
        DerError::BadBitString
    );
    assert_eq!(
        Reader::new(&[0x03, 0x01, 0x01]).bit_string().unwrap_err(),
        DerError::BadBitString
    );
    assert_eq!(
        Reader::new(&[0x03, 0x02, 0x01, 0x00])
            .bit_string_bytes()
            .unwrap_err(),
        DerError::BadBitString
    );
}

#[test]
fn oids() {
    let sha256_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    let oid = Oid::from_value(&sha256_rsa).unwrap();
    assert_eq!(oid.to_string(), "1.2.840.113549.1.1.11");
    assert_eq!(
        Oid::from_value(&[0x55, 0x1d, 0x13]).unwrap().to_string(),
        "2.5.29.19"
    );
    assert_eq!(Oid::from_value(&[0x88, 0x37]).unwrap().to_string(), "2.999");
    assert_eq!(Oid::from_value(&[]).unwrap_err(), DerError::BadOid);
    assert_eq!(
        Oid::from_value(&[0x2a, 0x86]).unwrap_err(),
        DerError::BadOid
    );
    assert_eq!(
        Oid::from_value(&[0x2a, 0x80, 0x01]).unwrap_err(),
        DerError::BadOid
    );
}

#[test]
fn nesting_is_bounded() {
    // 40 nested SEQUENCEs around a NULL.
    let mut v = vec![0x05, 0x00];
    for _ in 0..40 {
        let mut outer = vec![0x30, v.len() as u8];
        outer.extend(&v);
        v = outer;
    }
    assert_eq!(Value::from_der(&v).unwrap_err(), DerError::TooDeep);
    // 20 levels are fine.
    let mut v = vec![0x05, 0x00];
    for _ in 0..20 {
        let mut outer = vec![0x30, v.len() as u8];
        outer.extend(&v);
        v = outer;
    }
    assert!(Value::from_der(&v).is_ok());
}
