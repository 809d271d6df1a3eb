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
mod tests;
