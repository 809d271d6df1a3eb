//! Certificate extensions (RFC 5280 4.2): the v3 fields that say what a certificate may be used for.
//!
//! ```text
//! Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
//! Extension  ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
//!                           extnValue OCTET STRING -- the DER of the extension's own type }
//! ```
//!
//! toytls understands the six a TLS client needs: basicConstraints (is it a CA, how deep),
//! keyUsage and extendedKeyUsage (what the key may do), subjectAltName (which hosts),
//! nameConstraints (which hosts a CA may vouch for, [`super::name_constraints`]), and the two key
//! identifiers (only shown). Any other extension is ignored unless it is marked critical: RFC
//! 5280 4.2 says a certificate with a critical extension the verifier does not recognise must be
//! rejected, so those are recorded in [`Extensions::unknown_critical`] and refused by the verifier.

use super::der::{DerError, Reader, tag};
use super::error::CertError;
use super::name::Name;
use super::name_constraints::NameConstraints;
use super::oid;
use std::collections::HashSet;
use std::net::IpAddr;

/// RFC 5280 4.2.1.9 `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
/// pathLenConstraint INTEGER (0..MAX) OPTIONAL }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicConstraints {
    /// May this key sign certificates?
    pub ca: bool,
    /// How many intermediate CAs may follow this one in a chain (None: no limit).
    pub path_len: Option<u64>,
}

/// RFC 5280 4.2.1.3 `KeyUsage ::= BIT STRING { digitalSignature (0), ..., decipherOnly (8) }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUsage(pub u16);

impl KeyUsage {
    pub const DIGITAL_SIGNATURE: usize = 0;
    pub const NON_REPUDIATION: usize = 1;
    pub const KEY_ENCIPHERMENT: usize = 2;
    pub const DATA_ENCIPHERMENT: usize = 3;
    pub const KEY_AGREEMENT: usize = 4;
    pub const KEY_CERT_SIGN: usize = 5;
    pub const CRL_SIGN: usize = 6;
    pub const ENCIPHER_ONLY: usize = 7;
    pub const DECIPHER_ONLY: usize = 8;

    /// The bit names, in bit order, as RFC 5280 spells them.
    pub const NAMES: [&'static str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];

    /// Is bit `bit` (one of the constants above) set?
    pub fn has(self, bit: usize) -> bool {
        bit < 16 && self.0 & (1 << bit) != 0
    }

    /// The set bits as a list of bools, bit 0 first (for the DER writer).
    pub fn bits(self) -> Vec<bool> {
        (0..9).map(|b| self.has(b)).collect()
    }

    /// A key usage with the given bits set.
    pub fn from_bits(bits: &[usize]) -> KeyUsage {
        KeyUsage(
            bits.iter()
                .filter(|&&b| b < 16)
                .fold(0, |acc, &b| acc | 1 << b),
        )
    }

    /// The names of the set bits, e.g. `["keyCertSign", "cRLSign"]`.
    pub fn names(self) -> Vec<&'static str> {
        (0..9)
            .filter(|&b| self.has(b))
            .map(|b| Self::NAMES[b])
            .collect()
    }
}

/// One name from subjectAltName (RFC 5280 4.2.1.6). toytls matches host names against dNSName
/// and iPAddress, and name constraints against those and directoryName; the other forms are kept
/// only as their tag so they can be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GeneralName {
    /// `dNSName [2] IA5String`, e.g. `www.example.com` or `*.example.com`.
    Dns(String),
    /// `iPAddress [7] OCTET STRING`: 4 bytes for IPv4, 16 for IPv6.
    Ip(IpAddr),
    /// `directoryName [4] Name` (EXPLICIT, since Name is a CHOICE).
    Directory(Name),
    /// Any other kind (rfc822Name, URI, ...), by its context tag number.
    Other(u8),
}

impl std::fmt::Display for GeneralName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeneralName::Dns(name) => write!(f, "DNS:{name}"),
            GeneralName::Ip(ip) => write!(f, "IP:{ip}"),
            GeneralName::Directory(name) => write!(f, "DirName:{name}"),
            GeneralName::Other(t) => write!(f, "other name type [{t}]"),
        }
    }
}

/// The extensions of one certificate that toytls understands, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    pub basic_constraints: Option<BasicConstraints>,
    pub key_usage: Option<KeyUsage>,
    /// The extendedKeyUsage purposes, as dotted OIDs (serverAuth is `1.3.6.1.5.5.7.3.1`).
    pub ext_key_usage: Option<Vec<String>>,
    pub subject_alt_names: Option<Vec<GeneralName>>,
    pub name_constraints: Option<NameConstraints>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// Extensions marked critical that toytls does not understand (dotted OIDs).
    pub unknown_critical: Vec<String>,
    /// Every extension present, in order, as `(name or dotted OID, critical)`.
    pub present: Vec<(String, bool)>,
}

impl Extensions {
    /// Does the extendedKeyUsage (if present) allow TLS server authentication?
    pub fn allows_server_auth(&self) -> bool {
        let server = oid::KP_SERVER_AUTH.to_string();
        let any = oid::ANY_EXTENDED_KEY_USAGE.to_string();
        match &self.ext_key_usage {
            None => true,
            Some(purposes) => purposes.iter().any(|p| *p == server || *p == any),
        }
    }

    /// Does the extendedKeyUsage (if present) allow TLS client authentication?
    pub fn allows_client_auth(&self) -> bool {
        let client = oid::KP_CLIENT_AUTH.to_string();
        let any = oid::ANY_EXTENDED_KEY_USAGE.to_string();
        match &self.ext_key_usage {
            None => true,
            Some(purposes) => purposes.iter().any(|p| *p == client || *p == any),
        }
    }

    /// Reads the contents of the `[3] EXPLICIT Extensions` field. `cert` names the certificate in
    /// errors.
    pub fn read(r: &mut Reader<'_>, cert: &str) -> Result<Extensions, CertError> {
        let malformed = CertError::der("extensions");
        let mut exts = Extensions::default();
        let mut list = r.sequence().map_err(&malformed)?;
        if list.is_empty() {
            // SIZE (1..MAX)
            return Err(malformed(DerError::Truncated));
        }
        // A set, so that a hostile certificate with very many extensions costs linear time.
        let mut seen: HashSet<&[u8]> = HashSet::new();
        while !list.is_empty() {
            let mut ext = list.sequence().map_err(&malformed)?;
            let id = ext.oid().map_err(&malformed)?;
            // DEFAULT FALSE: DER requires a false value to be left out (X.690 11.5).
            let critical = match ext.peek_tag() {
                Some(tag::BOOLEAN) => {
                    if !ext.boolean().map_err(&malformed)? {
                        return Err(malformed(DerError::BadBoolean));
                    }
                    true
                }
                _ => false,
            };
            let value = ext.octet_string().map_err(&malformed)?;
            ext.finish().map_err(&malformed)?;

            if !seen.insert(id.as_bytes()) {
                return Err(CertError::DuplicateExtension {
                    cert: cert.to_string(),
                    oid: oid::describe(id),
                });
            }
            exts.present.push((oid::describe(id), critical));

            // Each known extension's value must be exactly one value of its type.
            let what = "extension value";
            let mut inner = Reader::new(value);
            let result = if id == oid::BASIC_CONSTRAINTS {
                read_basic_constraints(&mut inner).map(|v| exts.basic_constraints = Some(v))
            } else if id == oid::KEY_USAGE {
                read_key_usage(&mut inner).map(|v| exts.key_usage = Some(v))
            } else if id == oid::EXT_KEY_USAGE {
                read_ext_key_usage(&mut inner).map(|v| exts.ext_key_usage = Some(v))
            } else if id == oid::SUBJECT_ALT_NAME {
                read_subject_alt_names(&mut inner).map(|v| exts.subject_alt_names = Some(v))
            } else if id == oid::NAME_CONSTRAINTS {
                NameConstraints::read(&mut inner, critical).map(|v| exts.name_constraints = Some(v))
            } else if id == oid::SUBJECT_KEY_IDENTIFIER {
                inner
                    .octet_string()
                    .map(|v| exts.subject_key_id = Some(v.to_vec()))
            } else if id == oid::AUTHORITY_KEY_IDENTIFIER {
                read_authority_key_id(&mut inner).map(|v| exts.authority_key_id = v)
            } else {
                // An unknown extension's value is not ours to judge; only whether it is critical.
                if critical {
                    exts.unknown_critical.push(id.to_string());
                }
                continue;
            };
            result.map_err(CertError::der(what))?;
            inner.finish().map_err(CertError::der(what))?;
        }
        Ok(exts)
    }
}

fn read_basic_constraints(r: &mut Reader<'_>) -> Result<BasicConstraints, DerError> {
    let mut seq = r.sequence()?;
    let ca = match seq.peek_tag() {
        // DEFAULT FALSE must be omitted when false.
        Some(tag::BOOLEAN) => {
            if !seq.boolean()? {
                return Err(DerError::BadBoolean);
            }
            true
        }
        _ => false,
    };
    let path_len = match seq.peek_tag() {
        Some(tag::INTEGER) => Some(seq.small_u64()?),
        _ => None,
    };
    seq.finish()?;
    Ok(BasicConstraints { ca, path_len })
}

fn read_key_usage(r: &mut Reader<'_>) -> Result<KeyUsage, DerError> {
    let (bytes, _unused) = r.bit_string()?;
    // Named bit lists: bit 0 is the top bit of the first byte. Bits past 15 do not exist.
    let mut v = 0u16;
    for (i, &byte) in bytes.iter().enumerate().take(2) {
        for bit in 0..8 {
            if byte & (0x80 >> bit) != 0 {
                v |= 1 << (i * 8 + bit);
            }
        }
    }
    Ok(KeyUsage(v))
}

fn read_ext_key_usage(r: &mut Reader<'_>) -> Result<Vec<String>, DerError> {
    let mut seq = r.sequence()?;
    let mut purposes = Vec::new();
    while !seq.is_empty() {
        purposes.push(seq.oid()?.to_string());
    }
    if purposes.is_empty() {
        return Err(DerError::Truncated);
    }
    Ok(purposes)
}

/// `GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`, the context tags being those of
/// RFC 5280 4.2.1.6 (dNSName `[2]`, iPAddress `[7]`, both IMPLICIT and primitive).
fn read_subject_alt_names(r: &mut Reader<'_>) -> Result<Vec<GeneralName>, DerError> {
    let mut seq = r.sequence()?;
    let mut names = Vec::new();
    while !seq.is_empty() {
        let tlv = seq.read_any()?;
        let name = match tlv.tag {
            t if t == tag::implicit(2) => {
                if !tlv.value.is_ascii() {
                    return Err(DerError::BadString);
                }
                GeneralName::Dns(tlv.value.iter().map(|&b| b as char).collect())
            }
            t if t == tag::implicit(7) => match tlv.value.len() {
                4 => {
                    let b: [u8; 4] = tlv.value.try_into().map_err(|_| DerError::BadString)?;
                    GeneralName::Ip(IpAddr::from(b))
                }
                16 => {
                    let b: [u8; 16] = tlv.value.try_into().map_err(|_| DerError::BadString)?;
                    GeneralName::Ip(IpAddr::from(b))
                }
                _ => return Err(DerError::BadString),
            },
            t if t == tag::explicit(4) => {
                let mut inner = Reader::new(tlv.value);
                let name = Name::read(&mut inner)?;
                inner.finish()?;
                GeneralName::Directory(name)
            }
            t if t & tag::CONTEXT != 0 => GeneralName::Other(t & 0x1f),
            found => {
                return Err(DerError::UnexpectedTag {
                    expected: tag::implicit(2),
                    found,
                });
            }
        };
        names.push(name);
    }
    if names.is_empty() {
        return Err(DerError::Truncated);
    }
    Ok(names)
}

/// RFC 5280 4.2.1.1: only the `keyIdentifier [0]` is kept.
fn read_authority_key_id(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>, DerError> {
    let mut seq = r.sequence()?;
    let id = seq.read_optional(tag::implicit(0))?.map(|v| v.to_vec());
    // authorityCertIssuer [1] and authorityCertSerialNumber [2] are not used by toytls.
    let _ = seq.read_optional(tag::explicit(1))?;
    let _ = seq.read_optional(tag::implicit(2))?;
    seq.finish()?;
    Ok(id)
}
