//! An X.509 v3 certificate (RFC 5280 4.1), parsed from DER into plain fields.
//!
//! ```text
//! Certificate ::= SEQUENCE {
//!     tbsCertificate       TBSCertificate,       -- the signed part
//!     signatureAlgorithm   AlgorithmIdentifier,
//!     signatureValue       BIT STRING }
//! TBSCertificate ::= SEQUENCE {
//!     version         [0] EXPLICIT Version DEFAULT v1,
//!     serialNumber         INTEGER,
//!     signature            AlgorithmIdentifier,  -- must equal signatureAlgorithm
//!     issuer               Name,
//!     validity             SEQUENCE { notBefore Time, notAfter Time },
//!     subject              Name,
//!     subjectPublicKeyInfo SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING },
//!     issuerUniqueID  [1] IMPLICIT BIT STRING OPTIONAL,
//!     subjectUniqueID [2] IMPLICIT BIT STRING OPTIONAL,
//!     extensions      [3] EXPLICIT Extensions OPTIONAL }
//! ```
//!
//! The signature covers the exact bytes of `tbsCertificate`, so those bytes are kept
//! ([`Certificate::tbs_der`]) along with the whole encoding ([`Certificate::der`], what a server
//! sends). [`Certificate::from_der`] is a pure `&[u8] -> Result` function, the fuzzing entry point.
//!
//! Parsing accepts what can be shown and refuses only what cannot be represented: an unsupported
//! signature algorithm or an unknown critical extension is recorded and refused later by the
//! verifier (so `toytls cert show` can still print the certificate), but a key that is not RSA has
//! no place in this struct and fails here.

use super::der::{DerError, Oid, Reader, tag};
use super::error::CertError;
use super::extensions::Extensions;
use super::name::Name;
use super::oid;
use super::time;
use crate::clock::UnixTime;
use crate::crypto::rsa::RsaPublicKey;
use sha2::{Digest, Sha256};

/// The signature algorithm of a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 A.2.4, RFC 4055 5): the one toytls checks.
    Sha256WithRsa,
    /// Anything else, by name or dotted OID; refused by the verifier.
    Unsupported(String),
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureAlgorithm::Sha256WithRsa => f.write_str("sha256WithRSAEncryption"),
            SignatureAlgorithm::Unsupported(name) => f.write_str(name),
        }
    }
}

/// A parsed certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    version: u8,
    serial: Vec<u8>,
    signature_algorithm: SignatureAlgorithm,
    issuer: Name,
    subject: Name,
    not_before: UnixTime,
    not_after: UnixTime,
    public_key: RsaPublicKey,
    extensions: Extensions,
    signature: Vec<u8>,
}

/// Reads an AlgorithmIdentifier `SEQUENCE { algorithm OID, parameters ANY OPTIONAL }` and returns
/// the OID and whether the parameters are absent or NULL (the only forms RSA algorithms use).
fn read_algorithm<'a>(r: &mut Reader<'a>) -> Result<(Oid<'a>, bool, &'a [u8]), DerError> {
    let (mut seq, encoded) = r.nested_tlv(tag::SEQUENCE)?;
    let id = seq.oid()?;
    let null_params = if seq.is_empty() {
        true
    } else if seq.peek_tag() == Some(tag::NULL) {
        seq.null()?;
        true
    } else {
        seq.read_any()?;
        false
    };
    seq.finish()?;
    Ok((id, null_params, encoded))
}

/// Reads a Time: `CHOICE { utcTime UTCTime, generalTime GeneralizedTime }`.
fn read_time(r: &mut Reader<'_>) -> Result<UnixTime, DerError> {
    let tlv = r.read_any()?;
    time::parse_time(tlv.tag, tlv.value)
}

impl Certificate {
    /// Parses one DER certificate, which must fill `der` exactly.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let m = CertError::der;
        let mut outer = Reader::new(der);
        let mut cert = outer.sequence().map_err(m("certificate"))?;
        outer.finish().map_err(m("certificate"))?;

        let (mut tbs, tbs_bytes) = cert
            .nested_tlv(tag::SEQUENCE)
            .map_err(m("tbsCertificate"))?;
        // The TBS slice lies inside `der`: remember where, so the bytes can be handed out later.
        let tbs_start = tbs_bytes.as_ptr() as usize - der.as_ptr() as usize;
        let tbs_range = tbs_start..tbs_start + tbs_bytes.len();

        let (outer_alg, outer_null, outer_alg_der) =
            read_algorithm(&mut cert).map_err(m("signatureAlgorithm"))?;
        let signature = cert
            .bit_string_bytes()
            .map_err(m("signatureValue"))?
            .to_vec();
        cert.finish().map_err(m("certificate"))?;

        // version [0] EXPLICIT INTEGER DEFAULT v1(0): DER leaves the default out.
        let version = match tbs.nested_optional(tag::explicit(0)) {
            Ok(Some(mut v)) => {
                let n = v.small_u64().map_err(m("version"))?;
                v.finish().map_err(m("version"))?;
                match n {
                    // v1 is the DEFAULT, which DER requires to be left out (X.690 11.5).
                    0 => {
                        return Err(CertError::Malformed {
                            what: "version",
                            reason: "v1 written out although it is the default".into(),
                        });
                    }
                    1 | 2 => n as u8 + 1,
                    _ => {
                        return Err(CertError::UnsupportedVersion {
                            version: n.saturating_add(1),
                        });
                    }
                }
            }
            Ok(None) => 1,
            Err(e) => return Err(m("version")(e)),
        };
        let serial = tbs.integer_bytes().map_err(m("serialNumber"))?.to_vec();
        let (_, _, inner_alg_der) = read_algorithm(&mut tbs).map_err(m("signature"))?;
        // RFC 5280 4.1.1.2: the signed copy of the algorithm must match the unsigned one.
        if inner_alg_der != outer_alg_der {
            return Err(CertError::Malformed {
                what: "certificate",
                reason: "the signature algorithm inside and outside the signed part differ".into(),
            });
        }
        let issuer = Name::read(&mut tbs).map_err(m("issuer"))?;
        let mut validity = tbs.sequence().map_err(m("validity"))?;
        let not_before = read_time(&mut validity).map_err(m("notBefore"))?;
        let not_after = read_time(&mut validity).map_err(m("notAfter"))?;
        validity.finish().map_err(m("validity"))?;
        let subject = Name::read(&mut tbs).map_err(m("subject"))?;

        let label = label_for(&subject, &serial);
        let public_key = read_rsa_spki(&mut tbs, &label)?;

        // Unique IDs (v2, obsolete): skipped.
        let _ = tbs
            .read_optional(tag::implicit(1))
            .map_err(m("issuerUniqueID"))?;
        let _ = tbs
            .read_optional(tag::implicit(2))
            .map_err(m("subjectUniqueID"))?;
        let extensions = match tbs.nested_optional(tag::explicit(3)) {
            Ok(Some(mut wrapper)) => {
                if version != 3 {
                    return Err(CertError::Malformed {
                        what: "extensions",
                        reason: format!("a v{version} certificate cannot have extensions"),
                    });
                }
                let exts = Extensions::read(&mut wrapper, &label)?;
                wrapper.finish().map_err(m("extensions"))?;
                exts
            }
            Ok(None) => Extensions::default(),
            Err(e) => return Err(m("extensions")(e)),
        };
        tbs.finish().map_err(m("tbsCertificate"))?;

        let signature_algorithm = if outer_alg == oid::SHA256_WITH_RSA && outer_null {
            SignatureAlgorithm::Sha256WithRsa
        } else {
            SignatureAlgorithm::Unsupported(oid::describe(outer_alg))
        };

        Ok(Certificate {
            der: der.to_vec(),
            tbs: tbs_range,
            version,
            serial,
            signature_algorithm,
            issuer,
            subject,
            not_before,
            not_after,
            public_key,
            extensions,
            signature,
        })
    }

    /// The whole certificate, DER encoded (what goes on the wire in a Certificate message).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The signed part, `tbsCertificate`, exactly as encoded.
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// 1, 2 or 3.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The serial number's INTEGER bytes (two's complement, as encoded).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The algorithm the issuer signed this certificate with.
    pub fn signature_algorithm(&self) -> &SignatureAlgorithm {
        &self.signature_algorithm
    }

    /// The signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Who signed this certificate.
    pub fn issuer(&self) -> &Name {
        &self.issuer
    }

    /// Who this certificate is about; displays as `CN=..., O=...`.
    pub fn subject(&self) -> &Name {
        &self.subject
    }

    /// The first instant the certificate is valid.
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// The last instant the certificate is valid (RFC 5280 4.1.2.5: inclusive).
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// The subject's RSA public key: what the client encrypts the pre-master secret to (for a
    /// server certificate) or checks signatures with (for a CA).
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    /// The extensions toytls understands.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Is the certificate self-issued (issuer and subject the same name, RFC 5280 3.2 and 7.1)?
    pub fn is_self_issued(&self) -> bool {
        self.issuer.matches(&self.subject)
    }

    /// SHA-256 of the whole DER: the fingerprint `openssl x509 -fingerprint -sha256` prints.
    pub fn fingerprint_sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// How error messages name this certificate: its subject, or its serial number when the
    /// subject is empty (allowed when the names are all in subjectAltName).
    pub fn label(&self) -> String {
        label_for(&self.subject, &self.serial)
    }
}

fn label_for(subject: &Name, serial: &[u8]) -> String {
    let s = subject.to_string();
    if s.is_empty() {
        format!("serial {}", hex_colons(serial))
    } else {
        s
    }
}

/// Bytes as `ab:cd:ef`, the way OpenSSL prints serials and fingerprints.
pub fn hex_colons(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Reads subjectPublicKeyInfo and requires an RSA key (RFC 3279 2.3.1: rsaEncryption with NULL
/// parameters, the BIT STRING holding `RSAPublicKey`).
fn read_rsa_spki(tbs: &mut Reader<'_>, label: &str) -> Result<RsaPublicKey, CertError> {
    let m = CertError::der("subjectPublicKeyInfo");
    let mut spki = tbs.sequence().map_err(&m)?;
    let mut alg = spki.sequence().map_err(&m)?;
    let alg_oid = alg.oid().map_err(&m)?;
    if alg_oid != oid::RSA_ENCRYPTION {
        let mut name = oid::describe(alg_oid);
        // For EC keys, name the curve too.
        if let Ok(curve) = alg.oid() {
            name = format!("{name} ({})", oid::describe(curve));
        }
        return Err(CertError::UnsupportedKeyType {
            cert: label.to_string(),
            algorithm: name,
        });
    }
    if !alg.is_empty() {
        alg.null().map_err(&m)?;
    }
    alg.finish().map_err(&m)?;
    let key_bytes = spki.bit_string_bytes().map_err(&m)?;
    spki.finish().map_err(&m)?;
    let (n, e) = parse_rsa_public_key(key_bytes).map_err(&m)?;
    RsaPublicKey::from_be_bytes(n, e).map_err(|e| CertError::BadPublicKey {
        cert: label.to_string(),
        reason: e.to_string(),
    })
}

/// Parses PKCS #1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` into
/// the big-endian magnitudes of n and e.
pub fn parse_rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), DerError> {
    let mut r = Reader::new(der);
    let mut seq = r.sequence()?;
    let n = seq.unsigned_integer()?;
    let e = seq.unsigned_integer()?;
    seq.finish()?;
    r.finish()?;
    Ok((n, e))
}

#[cfg(test)]
mod tests {
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
}
