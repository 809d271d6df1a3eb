//! The unit tests of `cert.rs`, kept apart so that file reads as the code it tests.

//! Parse-level rules, on certificates written by hand with the DER writer. Signatures are not
//! checked when parsing, so they are dummy bytes here; the key is a well-formed 1024-bit odd
//! modulus that is nobody's key.
use super::*;
use crate::x509::der_write::Writer;

struct Spec {
    version: Option<u64>,
    inner_alg: Oid<'static>,
    outer_alg: Oid<'static>,
    key_alg: Oid<'static>,
    modulus_bytes: usize,
    extensions: Option<Vec<Vec<u8>>>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            version: Some(2),
            inner_alg: oid::SHA256_WITH_RSA,
            outer_alg: oid::SHA256_WITH_RSA,
            key_alg: oid::RSA_ENCRYPTION,
            modulus_bytes: 128,
            extensions: Some(vec![]),
        }
    }
}

fn alg(w: &mut Writer, id: Oid<'static>) {
    w.sequence(|w| {
        w.oid(id);
        w.null();
    })
}

fn build(spec: &Spec) -> Vec<u8> {
    let name = Name::common_name("test");
    let mut n = vec![0x01; spec.modulus_bytes];
    n[0] = 0xc0;
    Writer::build(|w| {
        w.sequence(|w| {
            w.sequence(|w| {
                if let Some(v) = spec.version {
                    w.explicit(0, |w| w.small_integer(v));
                }
                w.small_integer(7);
                alg(w, spec.inner_alg);
                w.raw(name.der());
                w.sequence(|w| {
                    w.primitive(tag::UTC_TIME, b"250101000000Z");
                    w.primitive(tag::GENERALIZED_TIME, b"20500101000000Z");
                });
                w.raw(name.der());
                w.sequence(|w| {
                    alg(w, spec.key_alg);
                    w.bit_string_with(|w| {
                        w.sequence(|w| {
                            w.unsigned_integer(&n);
                            w.small_integer(65537);
                        })
                    });
                });
                if let Some(exts) = &spec.extensions
                    && !exts.is_empty()
                {
                    w.explicit(3, |w| {
                        w.sequence(|w| {
                            for e in exts {
                                w.raw(e);
                            }
                        })
                    });
                }
            });
            alg(w, spec.outer_alg);
            w.bit_string_bytes(&[0x55; 128]);
        })
    })
}

fn ext(id: Oid<'static>, critical: Option<bool>, value: &[u8]) -> Vec<u8> {
    Writer::build(|w| {
        w.sequence(|w| {
            w.oid(id);
            if let Some(c) = critical {
                w.boolean(c);
            }
            w.octet_string(value);
        })
    })
}

fn with_exts(exts: Vec<Vec<u8>>) -> Result<Certificate, CertError> {
    Certificate::from_der(&build(&Spec {
        extensions: Some(exts),
        ..Spec::default()
    }))
}

#[test]
fn minimal_certificates_parse() {
    let cert = Certificate::from_der(&build(&Spec::default())).unwrap();
    assert_eq!(cert.version(), 3);
    assert_eq!(cert.serial(), [7]);
    assert_eq!(cert.subject().to_string(), "CN=test");
    assert_eq!(cert.not_after(), UnixTime(2_524_608_000));
    assert_eq!(cert.public_key().bits(), 1024);
    assert_eq!(cert.extensions(), &Extensions::default());
    let v1 = Certificate::from_der(&build(&Spec {
        version: None,
        extensions: None,
        ..Spec::default()
    }))
    .unwrap();
    assert_eq!(v1.version(), 1);
}

#[test]
fn versions() {
    let with = |v| {
        Certificate::from_der(&build(&Spec {
            version: Some(v),
            ..Spec::default()
        }))
    };
    assert!(matches!(
        with(0),
        Err(CertError::Malformed {
            what: "version",
            ..
        })
    ));
    assert!(with(1).is_ok());
    assert_eq!(
        with(3).unwrap_err(),
        CertError::UnsupportedVersion { version: 4 }
    );
    assert_eq!(
        with(u64::MAX).unwrap_err(),
        CertError::UnsupportedVersion { version: u64::MAX }
    );
    // A v1 certificate cannot carry extensions.
    let bc = ext(oid::BASIC_CONSTRAINTS, None, &[0x30, 0x00]);
    let err = Certificate::from_der(&build(&Spec {
        version: None,
        extensions: Some(vec![bc]),
        ..Spec::default()
    }))
    .unwrap_err();
    assert!(
        matches!(
            err,
            CertError::Malformed {
                what: "extensions",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn algorithms() {
    // The signed and unsigned algorithm fields must agree.
    let err = Certificate::from_der(&build(&Spec {
        inner_alg: oid::SHA1_WITH_RSA,
        ..Spec::default()
    }))
    .unwrap_err();
    assert!(matches!(err, CertError::Malformed { .. }), "{err}");
    // Another algorithm in both: parsed, reported by name.
    let cert = Certificate::from_der(&build(&Spec {
        inner_alg: oid::SHA1_WITH_RSA,
        outer_alg: oid::SHA1_WITH_RSA,
        ..Spec::default()
    }))
    .unwrap();
    assert_eq!(
        cert.signature_algorithm(),
        &SignatureAlgorithm::Unsupported("sha1WithRSAEncryption".into())
    );
    // Not an RSA key.
    let err = Certificate::from_der(&build(&Spec {
        key_alg: oid::ED25519,
        ..Spec::default()
    }))
    .unwrap_err();
    assert_eq!(
        err.alert(),
        crate::wire::alert::AlertDescription::UnsupportedCertificate
    );
    // An RSA key too small to be safe: refused by crypto::rsa.
    let err = Certificate::from_der(&build(&Spec {
        modulus_bytes: 64,
        ..Spec::default()
    }))
    .unwrap_err();
    assert!(matches!(err, CertError::BadPublicKey { .. }), "{err}");
}

#[test]
fn extension_rules() {
    let ca = ext(
        oid::BASIC_CONSTRAINTS,
        Some(true),
        &[0x30, 0x03, 0x01, 0x01, 0xff],
    );
    let cert = with_exts(vec![ca.clone()]).unwrap();
    assert_eq!(
        cert.extensions().basic_constraints,
        Some(crate::x509::extensions::BasicConstraints {
            ca: true,
            path_len: None
        })
    );
    // Twice the same extension.
    assert!(matches!(
        with_exts(vec![ca.clone(), ca.clone()]),
        Err(CertError::DuplicateExtension { .. })
    ));
    // critical FALSE written out (DER leaves defaults out).
    let explicit_false = ext(oid::BASIC_CONSTRAINTS, Some(false), &[0x30, 0x00]);
    assert!(matches!(
        with_exts(vec![explicit_false]),
        Err(CertError::Malformed { .. })
    ));
    // cA FALSE written out inside basicConstraints.
    let ca_false = ext(
        oid::BASIC_CONSTRAINTS,
        None,
        &[0x30, 0x03, 0x01, 0x01, 0x00],
    );
    assert!(with_exts(vec![ca_false]).is_err());
    // A known extension whose value has trailing bytes.
    let trailing = ext(oid::BASIC_CONSTRAINTS, None, &[0x30, 0x00, 0x00]);
    assert!(with_exts(vec![trailing]).is_err());
    // subjectAltName: empty, and an IP address of 5 bytes.
    let empty_san = ext(oid::SUBJECT_ALT_NAME, None, &[0x30, 0x00]);
    assert!(with_exts(vec![empty_san]).is_err());
    let bad_ip = ext(
        oid::SUBJECT_ALT_NAME,
        None,
        &[0x30, 0x07, 0x87, 0x05, 1, 2, 3, 4, 5],
    );
    assert!(with_exts(vec![bad_ip]).is_err());
    // A dNSName that is not ASCII.
    let bad_dns = ext(oid::SUBJECT_ALT_NAME, None, &[0x30, 0x03, 0x82, 0x01, 0xe9]);
    assert!(with_exts(vec![bad_dns]).is_err());
    // Unknown extensions: critical recorded, non-critical only listed; their values are not
    // parsed.
    let crit = ext(Oid::from_static(&[0x2a, 0x03, 0x04]), Some(true), &[0xff]);
    let non = ext(Oid::from_static(&[0x2a, 0x03, 0x05]), None, &[0xff]);
    let cert = with_exts(vec![crit, non]).unwrap();
    assert_eq!(cert.extensions().unknown_critical, ["1.2.3.4"]);
    assert_eq!(
        cert.extensions().present,
        [
            ("1.2.3.4".to_string(), true),
            ("1.2.3.5".to_string(), false)
        ]
    );
    // An empty Extensions SEQUENCE is not allowed (SIZE (1..MAX)).
    let empty = Extensions::read(&mut Reader::new(&[0x30, 0x00]), "test");
    assert!(matches!(empty, Err(CertError::Malformed { .. })));
}
