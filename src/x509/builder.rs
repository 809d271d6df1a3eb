//! Making certificates, so that a new user can try toytls without OpenSSL: a self-signed CA, and
//! server certificates signed by it.
//!
//! A certificate is the DER of a `TBSCertificate` (see [`super::cert`]) plus the issuer's signature
//! over exactly those bytes. Building one is therefore: write the TBS with the
//! [`Writer`], sign it with the issuer's RSA key (RSASSA-PKCS1-v1_5 with
//! SHA-256), wrap both in the outer SEQUENCE, and parse the result back as a check.
//!
//! What goes in (RFC 5280 4.1 and 4.2, as the CA/Browser Forum baseline profile expects):
//! - version 3, a random positive 16-byte serial number (RFC 5280 4.1.2.2 allows up to 20);
//! - a CA: basicConstraints `CA:TRUE` (with a pathLenConstraint if asked) and keyUsage
//!   `keyCertSign, cRLSign`, both critical, and if asked a critical nameConstraints with
//!   permitted and excluded DNS and IP subtrees ([`CaProfile`]);
//! - a server: basicConstraints `CA:FALSE` and keyUsage `digitalSignature, keyEncipherment`, both
//!   critical, extendedKeyUsage `serverAuth`, and every name in subjectAltName (DNS names as
//!   dNSName, IP literals as iPAddress); the first name is also the subject CN;
//! - a client (RFC 5246 7.4.6): basicConstraints `CA:FALSE` and keyUsage `digitalSignature` (its
//!   key signs the CertificateVerify, and nothing is encrypted to it), both critical,
//!   extendedKeyUsage `clientAuth`, and its name as the subject CN, with no subjectAltName: a
//!   client is not reached by a host name;
//! - subjectKeyIdentifier (and authorityKeyIdentifier pointing at the CA's), computed as the first
//!   160 bits of SHA-256 of the public key (RFC 7093 2, method 1).

use super::cert::Certificate;
use super::der::{Oid, tag};
use super::der_write::Writer;
use super::error::CertError;
use super::extensions::KeyUsage;
use super::name::Name;
use super::oid;
use super::time::encode_time;
use crate::clock::UnixTime;
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// The size of the keys toytls generates.
pub const KEY_BITS: usize = 2048;

/// Everything that goes into one certificate.
struct Template<'a> {
    serial: [u8; 16],
    issuer: &'a Name,
    subject: &'a Name,
    not_before: UnixTime,
    not_after: UnixTime,
    public_key: &'a RsaPublicKey,
    /// The encoded extensions, each a whole `Extension` SEQUENCE.
    extensions: Vec<Vec<u8>>,
}

/// A random positive serial of exactly 16 bytes: the top bit is cleared (so the INTEGER is
/// positive) and the next one set (so it is 16 bytes long, without a leading zero byte).
fn random_serial<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> [u8; 16] {
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial
}

/// `RSAPublicKey` (RFC 8017 A.1.1) inside a `SubjectPublicKeyInfo` (RFC 5280 4.1.2.7).
fn write_spki(w: &mut Writer, key: &RsaPublicKey) {
    w.sequence(|w| {
        w.sequence(|w| {
            w.oid(oid::RSA_ENCRYPTION);
            w.null();
        });
        w.bit_string_with(|w| write_rsa_public_key(w, key));
    })
}

fn write_rsa_public_key(w: &mut Writer, key: &RsaPublicKey) {
    w.sequence(|w| {
        w.unsigned_integer(&key.n_be_bytes());
        w.unsigned_integer(&key.e_be_bytes());
    })
}

/// RFC 7093 2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits.
pub fn key_identifier(key: &RsaPublicKey) -> Vec<u8> {
    let bits = Writer::build(|w| write_rsa_public_key(w, key));
    Sha256::digest(&bits)[..20].to_vec()
}

/// One `Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }`.
fn extension(id: Oid<'static>, critical: bool, value: impl FnOnce(&mut Writer)) -> Vec<u8> {
    Writer::build(|w| {
        w.sequence(|w| {
            w.oid(id);
            if critical {
                w.boolean(true);
            }
            w.octet_string_with(value);
        })
    })
}

fn basic_constraints(ca: bool, path_len: Option<u64>) -> Vec<u8> {
    extension(oid::BASIC_CONSTRAINTS, true, |w| {
        // cA DEFAULT FALSE: a non-CA is the empty SEQUENCE.
        w.sequence(|w| {
            if ca {
                w.boolean(true);
            }
            if let Some(n) = path_len {
                w.small_integer(n);
            }
        })
    })
}

/// What a CA certificate allows below it, beyond being a CA.
#[derive(Clone, Copy, Debug, Default)]
pub struct CaProfile<'a> {
    /// basicConstraints pathLenConstraint: how many intermediate CAs may follow (None: any).
    pub path_len: Option<u64>,
    /// nameConstraints permitted subtrees, each `DNS:name` (`DNS:corp.example`,
    /// `DNS:.corp.example`) or `IP:address/prefix` (`IP:10.0.0.0/8`, `IP:fd00::/8`).
    pub permitted: &'a [&'a str],
    /// nameConstraints excluded subtrees, written the same way.
    pub excluded: &'a [&'a str],
}

/// One GeneralSubtree base from `DNS:name` or `IP:address/prefix`.
fn write_subtree(w: &mut Writer, spec: &str) -> Result<(), CertError> {
    let bad = || {
        CertError::Build(format!(
            "'{spec}' is not a name constraint of the form DNS:name or IP:address/prefix"
        ))
    };
    if let Some(name) = spec.strip_prefix("DNS:") {
        if !name.is_ascii() {
            return Err(bad());
        }
        w.sequence(|w| w.primitive(tag::implicit(2), name.as_bytes()));
        return Ok(());
    }
    let (addr, prefix) = spec
        .strip_prefix("IP:")
        .and_then(|r| r.split_once('/'))
        .ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let bytes = match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let prefix: usize = prefix.parse().map_err(|_| bad())?;
    if prefix > bytes.len() * 8 {
        return Err(bad());
    }
    let mask: Vec<u8> = (0..bytes.len())
        .map(|i| {
            let ones = prefix.saturating_sub(i * 8).min(8);
            (0xff00u16 >> ones) as u8
        })
        .collect();
    let mut value = bytes;
    value.extend_from_slice(&mask);
    w.sequence(|w| w.primitive(tag::implicit(7), &value));
    Ok(())
}

/// A critical nameConstraints extension (RFC 5280 4.2.1.10: CAs MUST mark it critical).
fn name_constraints(permitted: &[&str], excluded: &[&str]) -> Result<Vec<u8>, CertError> {
    let mut result = Ok(());
    let mut subtrees = |w: &mut Writer, n: u8, list: &[&str]| {
        if list.is_empty() {
            return;
        }
        // [n] IMPLICIT GeneralSubtrees: a constructed context tag in place of the SEQUENCE.
        w.constructed(tag::explicit(n), |w| {
            for spec in list {
                if let Err(e) = write_subtree(w, spec) {
                    result = Err(e);
                }
            }
        });
    };
    let ext = extension(oid::NAME_CONSTRAINTS, true, |w| {
        w.sequence(|w| {
            subtrees(w, 0, permitted);
            subtrees(w, 1, excluded);
        })
    });
    result.map(|()| ext)
}

/// The extensions of a CA certificate with this profile and key.
fn ca_extensions(
    profile: &CaProfile<'_>,
    public_key: &RsaPublicKey,
    issuer: Option<&Certificate>,
) -> Result<Vec<Vec<u8>>, CertError> {
    let mut extensions = vec![
        basic_constraints(true, profile.path_len),
        key_usage(&[KeyUsage::KEY_CERT_SIGN, KeyUsage::CRL_SIGN]),
        subject_key_id(public_key),
    ];
    if let Some(id) = issuer.and_then(|i| i.extensions().subject_key_id.as_ref()) {
        extensions.push(authority_key_id(id));
    }
    if !profile.permitted.is_empty() || !profile.excluded.is_empty() {
        extensions.push(name_constraints(profile.permitted, profile.excluded)?);
    }
    Ok(extensions)
}

fn key_usage(bits: &[usize]) -> Vec<u8> {
    let usage = KeyUsage::from_bits(bits);
    extension(oid::KEY_USAGE, true, |w| w.named_bits(&usage.bits()))
}

fn subject_key_id(key: &RsaPublicKey) -> Vec<u8> {
    let id = key_identifier(key);
    extension(oid::SUBJECT_KEY_IDENTIFIER, false, |w| w.octet_string(&id))
}

fn authority_key_id(id: &[u8]) -> Vec<u8> {
    extension(oid::AUTHORITY_KEY_IDENTIFIER, false, |w| {
        w.sequence(|w| w.primitive(tag::implicit(0), id))
    })
}

/// A name given on the command line: an IP literal or a DNS name (a leading `*.` allowed).
enum SanName {
    Dns(String),
    Ip(IpAddr),
}

fn parse_san(name: &str) -> Result<SanName, CertError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanName::Ip(ip));
    }
    let rest = name.strip_prefix("*.").unwrap_or(name);
    let ok = !rest.is_empty()
        && rest.len() <= 253
        && rest.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(SanName::Dns(name.to_ascii_lowercase()))
    } else {
        Err(CertError::Build(format!(
            "'{name}' is neither a DNS name nor an IP address"
        )))
    }
}

fn subject_alt_names(names: &[SanName]) -> Vec<u8> {
    extension(oid::SUBJECT_ALT_NAME, false, |w| {
        w.sequence(|w| {
            for name in names {
                match name {
                    SanName::Dns(d) => w.primitive(tag::implicit(2), d.as_bytes()),
                    SanName::Ip(IpAddr::V4(ip)) => w.primitive(tag::implicit(7), &ip.octets()),
                    SanName::Ip(IpAddr::V6(ip)) => w.primitive(tag::implicit(7), &ip.octets()),
                }
            }
        })
    })
}

fn ext_key_usage(purpose: Oid<'static>) -> Vec<u8> {
    extension(oid::EXT_KEY_USAGE, false, |w| {
        w.sequence(|w| w.oid(purpose))
    })
}

/// Writes the TBSCertificate, signs it with `signer` and returns the parsed result.
fn sign<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    t: &Template<'_>,
    signer: &RsaPrivateKey,
) -> Result<Certificate, CertError> {
    if t.not_before > t.not_after {
        return Err(CertError::Build("notBefore is after notAfter".into()));
    }
    let time = |u: UnixTime| {
        encode_time(u).ok_or_else(|| CertError::Build("a date outside the years 0 to 9999".into()))
    };
    let (nb_tag, nb) = time(t.not_before)?;
    let (na_tag, na) = time(t.not_after)?;
    let algorithm = |w: &mut Writer| {
        w.sequence(|w| {
            w.oid(oid::SHA256_WITH_RSA);
            w.null(); // RFC 4055 5: the parameters are NULL
        })
    };
    let tbs = Writer::build(|w| {
        w.sequence(|w| {
            w.explicit(0, |w| w.small_integer(2)); // v3
            w.unsigned_integer(&t.serial);
            algorithm(w);
            w.raw(t.issuer.der());
            w.sequence(|w| {
                w.primitive(nb_tag, nb.as_bytes());
                w.primitive(na_tag, na.as_bytes());
            });
            w.raw(t.subject.der());
            write_spki(w, t.public_key);
            if !t.extensions.is_empty() {
                w.explicit(3, |w| {
                    w.sequence(|w| {
                        for e in &t.extensions {
                            w.raw(e);
                        }
                    })
                });
            }
        })
    });
    let signature = signer
        .sign_pkcs1v15_sha256(rng, &tbs)
        .map_err(|e| CertError::Build(format!("signing failed: {e}")))?;
    let der = Writer::build(|w| {
        w.sequence(|w| {
            w.raw(&tbs);
            algorithm(w);
            w.bit_string_bytes(&signature);
        })
    });
    Certificate::from_der(&der)
}

fn generate_key<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Result<RsaPrivateKey, CertError> {
    RsaPrivateKey::generate(rng, KEY_BITS)
        .map_err(|e| CertError::Build(format!("key generation failed: {e}")))
}

/// A new self-signed CA certificate named `CN=common_name`, with a new 2048-bit key.
pub fn generate_ca<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<(Certificate, RsaPrivateKey), CertError> {
    let key = generate_key(rng)?;
    let cert = ca_with_key(rng, &key, common_name, not_before, not_after)?;
    Ok((cert, key))
}

/// A self-signed CA certificate for an existing key.
pub fn ca_with_key<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    key: &RsaPrivateKey,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<Certificate, CertError> {
    ca_with_profile(
        rng,
        key,
        common_name,
        not_before,
        not_after,
        &CaProfile::default(),
    )
}

/// A self-signed CA certificate for an existing key, limited by `profile` (path length, name
/// constraints).
pub fn ca_with_profile<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    key: &RsaPrivateKey,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
    profile: &CaProfile<'_>,
) -> Result<Certificate, CertError> {
    let name = Name::common_name(common_name);
    let public_key = key.public_key();
    let t = Template {
        serial: random_serial(rng),
        issuer: &name,
        subject: &name,
        not_before,
        not_after,
        public_key: &public_key,
        extensions: ca_extensions(profile, &public_key, None)?,
    };
    sign(rng, &t, key)
}

/// An intermediate CA certificate named `CN=common_name` for `public_key`, signed by the CA
/// `issuer` (whose key is `issuer_key`), limited by `profile`.
#[allow(clippy::too_many_arguments)]
pub fn intermediate_with_key<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    issuer: &Certificate,
    issuer_key: &RsaPrivateKey,
    public_key: &RsaPublicKey,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
    profile: &CaProfile<'_>,
) -> Result<Certificate, CertError> {
    if issuer.public_key() != &issuer_key.public_key() {
        return Err(CertError::Build(
            "the issuer's key does not belong to the issuer's certificate".into(),
        ));
    }
    let subject = Name::common_name(common_name);
    let t = Template {
        serial: random_serial(rng),
        issuer: issuer.subject(),
        subject: &subject,
        not_before,
        not_after,
        public_key,
        extensions: ca_extensions(profile, public_key, Some(issuer))?,
    };
    sign(rng, &t, issuer_key)
}

/// A new server certificate for `names` (DNS names or IP literals; the first is also the CN),
/// signed by the CA, with a new 2048-bit key.
pub fn issue_server_cert<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    ca_cert: &Certificate,
    ca_key: &RsaPrivateKey,
    names: &[&str],
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<(Certificate, RsaPrivateKey), CertError> {
    // Check the names before spending time on a key.
    names.iter().try_for_each(|n| parse_san(n).map(|_| ()))?;
    let key = generate_key(rng)?;
    let cert = server_cert_with_key(
        rng,
        ca_cert,
        ca_key,
        &key.public_key(),
        names,
        not_before,
        not_after,
    )?;
    Ok((cert, key))
}

/// A server certificate for an existing public key.
pub fn server_cert_with_key<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    ca_cert: &Certificate,
    ca_key: &RsaPrivateKey,
    public_key: &RsaPublicKey,
    names: &[&str],
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<Certificate, CertError> {
    let first = names
        .first()
        .ok_or_else(|| CertError::Build("a server certificate needs at least one name".into()))?;
    let sans = names
        .iter()
        .map(|n| parse_san(n))
        .collect::<Result<Vec<_>, _>>()?;
    let subject = Name::common_name(first);
    let extensions = vec![
        basic_constraints(false, None),
        key_usage(&[KeyUsage::DIGITAL_SIGNATURE, KeyUsage::KEY_ENCIPHERMENT]),
        ext_key_usage(oid::KP_SERVER_AUTH),
        subject_alt_names(&sans),
        subject_key_id(public_key),
    ];
    end_entity(
        rng, ca_cert, ca_key, public_key, &subject, extensions, not_before, not_after,
    )
}

/// An end-entity certificate (a server's or a client's) for `public_key` named `subject` with
/// `extensions` (an authorityKeyIdentifier is added when the CA has a key identifier), signed
/// by the CA.
#[allow(clippy::too_many_arguments)]
fn end_entity<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    ca_cert: &Certificate,
    ca_key: &RsaPrivateKey,
    public_key: &RsaPublicKey,
    subject: &Name,
    mut extensions: Vec<Vec<u8>>,
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<Certificate, CertError> {
    if ca_cert.public_key() != &ca_key.public_key() {
        return Err(CertError::Build(
            "the CA key does not belong to the CA certificate".into(),
        ));
    }
    if let Some(id) = &ca_cert.extensions().subject_key_id {
        extensions.push(authority_key_id(id));
    }
    let t = Template {
        serial: random_serial(rng),
        issuer: ca_cert.subject(),
        subject,
        not_before,
        not_after,
        public_key,
        extensions,
    };
    sign(rng, &t, ca_key)
}

/// A new client certificate named `CN=common_name` (any text: a user, a device), signed by the
/// CA, with a new 2048-bit key.
pub fn issue_client_cert<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    ca_cert: &Certificate,
    ca_key: &RsaPrivateKey,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<(Certificate, RsaPrivateKey), CertError> {
    if common_name.is_empty() {
        return Err(CertError::Build("a client certificate needs a name".into()));
    }
    let key = generate_key(rng)?;
    let cert = client_cert_with_key(
        rng,
        ca_cert,
        ca_key,
        &key.public_key(),
        common_name,
        not_before,
        not_after,
    )?;
    Ok((cert, key))
}

/// A client certificate for an existing public key (see the module documentation for what is in
/// it).
pub fn client_cert_with_key<R: rand::CryptoRng + ?Sized>(
    rng: &mut R,
    ca_cert: &Certificate,
    ca_key: &RsaPrivateKey,
    public_key: &RsaPublicKey,
    common_name: &str,
    not_before: UnixTime,
    not_after: UnixTime,
) -> Result<Certificate, CertError> {
    let subject = Name::common_name(common_name);
    let extensions = vec![
        basic_constraints(false, None),
        key_usage(&[KeyUsage::DIGITAL_SIGNATURE]),
        ext_key_usage(oid::KP_CLIENT_AUTH),
        subject_key_id(public_key),
    ];
    end_entity(
        rng, ca_cert, ca_key, public_key, &subject, extensions, not_before, not_after,
    )
}
