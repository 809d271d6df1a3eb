//! Name constraints (RFC 5280 4.2.1.10): a CA certificate that limits the names the certificates
//! below it may carry, so that a CA for `corp.example` cannot vouch for `bank.com`.
//!
//! ```text
//! NameConstraints ::= SEQUENCE {
//!      permittedSubtrees       [0]     GeneralSubtrees OPTIONAL,
//!      excludedSubtrees        [1]     GeneralSubtrees OPTIONAL }
//! GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree
//! GeneralSubtree ::= SEQUENCE {
//!      base                    GeneralName,
//!      minimum         [0]     BaseDistance DEFAULT 0,   -- RFC 5280: MUST be 0
//!      maximum         [1]     BaseDistance OPTIONAL }   -- RFC 5280: MUST be absent
//! ```
//!
//! The rules, for every CA on a verified path (the trust anchor included) that has the
//! extension, applied to each certificate below it on the path (RFC 5280 6.1.3 (b), (c)), except
//! self-issued intermediates, which are a CA talking about itself:
//! - **permitted**: if the CA lists permitted subtrees of a name form, every name of that form in
//!   the certificate must lie in one of them; names of a form it lists nothing for are free;
//! - **excluded**: no name may lie in any excluded subtree (exclusion wins over permission).
//!
//! The names checked: the subjectAltName dNSName, iPAddress and directoryName entries, the
//! subject (a directoryName, unless empty), and, in the server's own certificate when it has no
//! subjectAltName (so that its common name is what the host name is matched against,
//! [`super::hostname`]), the common name if it is a DNS name.
//!
//! A DNS subtree `corp.example` holds `corp.example` and every name made by adding labels on
//! the left (`www.corp.example`, not `evilcorp.example`); `.corp.example`, with a leading dot,
//! holds only the names below it (the reading of OpenSSL, Go and NSS); the empty name holds every
//! name. Case and a trailing dot do not matter. A wildcard `*.corp.example` lies in a subtree if
//! every name it stands for does, and is excluded if any name it stands for is: it stands for
//! `bad.corp.example`, so an excluded `bad.corp.example` refuses it (OpenSSL and Go compare it
//! as a plain string and let it through). An iPAddress subtree is an address and a mask (RFC
//! 5280: 8 bytes for IPv4, 32 for IPv6); an address lies in it if it is of the same family and
//! equal under the mask. A directoryName subtree `O=Corp` holds the names whose first RDNs are
//! its RDNs (`O=Corp, CN=www`), compared as [`super::name::Name::matches`] compares names.
//!
//! The other name forms (rfc822Name, uniformResourceIdentifier, otherName, x400Address,
//! ediPartyName, registeredID) are not implemented. RFC 5280 4.2.1.10: when a critical name
//! constraints extension constrains a name form and a certificate below has a name of that form,
//! the application "MUST either process the constraint or reject the certificate". So toytls
//! rejects exactly then: a critical extension with subtrees of a form it does not implement
//! refuses a chain in which a certificate below has a name of that form (for rfc822Name: an
//! email subjectAltName or an emailAddress in the subject). Go's crypto/x509 is stricter,
//! refusing such a critical extension whatever names follow; OpenSSL implements those forms. In
//! a non-critical extension (which RFC 5280 forbids CAs to issue) such subtrees are ignored, as
//! Go ignores them; the DNS, IP and directory subtrees are enforced whether the extension is
//! critical or not, as OpenSSL does.
//!
//! Work is bounded: one verification compares at most [`MAX_NAME_CHECKS`] (name, subtree) pairs,
//! so a certificate with thousands of names under a CA with thousands of subtrees cannot cost
//! more than a few milliseconds.

use super::cert::Certificate;
use super::der::{DerError, Reader, tag};
use super::error::CertError;
use super::extensions::GeneralName;
use super::name::Name;
use super::oid;
use std::net::IpAddr;

/// The most (name, subtree) comparisons one chain verification makes.
pub const MAX_NAME_CHECKS: usize = 1 << 16;

/// The most characters of a name from a certificate an error message repeats.
const SHOWN_NAME_CHARS: usize = 80;

/// One subtree of a name form toytls implements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subtree {
    /// A dNSName subtree, as written (`corp.example`, `.corp.example`, or empty).
    Dns(String),
    /// An iPAddress subtree: address and mask, both 4 or both 16 bytes.
    Ip { addr: Vec<u8>, mask: Vec<u8> },
    /// A directoryName subtree: the names whose first RDNs are these.
    Directory(Name),
}

impl std::fmt::Display for Subtree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subtree::Dns(d) => write!(f, "DNS:{}", shorten(d)),
            Subtree::Ip { addr, mask } => {
                let prefix: u32 = mask.iter().map(|b| b.count_ones()).sum();
                write!(
                    f,
                    "IP:{}/{prefix}",
                    ip_from_bytes(addr).map_or(String::new(), |ip| ip.to_string())
                )
            }
            Subtree::Directory(name) => write!(f, "DirName:{}", shorten(&name.to_string())),
        }
    }
}

/// The general name forms by their context tag (RFC 5280 4.2.1.6).
pub fn form_name(tag_number: u8) -> &'static str {
    match tag_number {
        0 => "otherName",
        1 => "rfc822Name",
        2 => "dNSName",
        3 => "x400Address",
        4 => "directoryName",
        5 => "ediPartyName",
        6 => "uniformResourceIdentifier",
        7 => "iPAddress",
        8 => "registeredID",
        _ => "unknown name form",
    }
}

/// A decoded nameConstraints extension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraints {
    /// Was the extension marked critical (as RFC 5280 requires)?
    pub critical: bool,
    pub permitted: Vec<Subtree>,
    pub excluded: Vec<Subtree>,
    /// Name forms toytls does not implement that have subtrees here (permitted or excluded),
    /// by context tag number, each once.
    pub unsupported_forms: Vec<u8>,
}

impl NameConstraints {
    /// Reads the extension's value (the DER inside extnValue).
    pub fn read(r: &mut Reader<'_>, critical: bool) -> Result<NameConstraints, DerError> {
        let mut nc = NameConstraints {
            critical,
            ..NameConstraints::default()
        };
        let mut seq = r.sequence()?;
        // [0] and [1] IMPLICIT over a SEQUENCE OF: context tags, constructed.
        let permitted = seq.nested_optional(tag::explicit(0))?;
        let excluded = seq.nested_optional(tag::explicit(1))?;
        seq.finish()?;
        if permitted.is_none() && excluded.is_none() {
            // "either the permittedSubtrees field or the excludedSubtrees MUST be present"
            return Err(DerError::Truncated);
        }
        if let Some(mut subtrees) = permitted {
            nc.permitted = read_subtrees(&mut subtrees, &mut nc.unsupported_forms)?;
        }
        if let Some(mut subtrees) = excluded {
            nc.excluded = read_subtrees(&mut subtrees, &mut nc.unsupported_forms)?;
        }
        Ok(nc)
    }
}

fn read_subtrees(r: &mut Reader<'_>, unsupported: &mut Vec<u8>) -> Result<Vec<Subtree>, DerError> {
    if r.is_empty() {
        return Err(DerError::Truncated); // SIZE (1..MAX)
    }
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut subtree = r.sequence()?;
        let base = subtree.read_any()?;
        // minimum (DEFAULT 0, so never encoded in DER) and maximum (MUST be absent).
        if !subtree.is_empty() {
            return Err(DerError::TrailingData);
        }
        if base.tag & 0xc0 != tag::CONTEXT {
            return Err(DerError::UnexpectedTag {
                expected: tag::implicit(2),
                found: base.tag,
            });
        }
        match base.tag {
            t if t == tag::implicit(2) => {
                if !base.value.is_ascii() {
                    return Err(DerError::BadString);
                }
                out.push(Subtree::Dns(
                    base.value.iter().map(|&b| b as char).collect(),
                ));
            }
            t if t == tag::implicit(7) => {
                let half = match base.value.len() {
                    8 => 4,
                    32 => 16,
                    _ => return Err(DerError::BadString),
                };
                let (addr, mask) = base.value.split_at(half);
                if !is_prefix_mask(mask) {
                    return Err(DerError::BadString);
                }
                out.push(Subtree::Ip {
                    addr: addr.to_vec(),
                    mask: mask.to_vec(),
                });
            }
            t if t == tag::explicit(4) => {
                // [4] EXPLICIT, since Name is a CHOICE: a whole Name inside.
                let mut inner = Reader::new(base.value);
                let name = Name::read(&mut inner)?;
                inner.finish()?;
                out.push(Subtree::Directory(name));
            }
            t => {
                let form = t & 0x1f;
                if !unsupported.contains(&form) {
                    unsupported.push(form);
                }
            }
        }
    }
    Ok(out)
}

/// Ones, then zeros: a mask that is a prefix length.
fn is_prefix_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for &b in mask {
        if seen_zero && b != 0 {
            return false;
        }
        if b != 0xff {
            if b.leading_ones() + b.trailing_zeros() != 8 {
                return false;
            }
            seen_zero = true;
        }
    }
    true
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// At most [`SHOWN_NAME_CHARS`] characters of `s`, for error messages.
fn shorten(s: &str) -> String {
    if s.chars().count() <= SHOWN_NAME_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(SHOWN_NAME_CHARS).collect();
        format!("{cut}...")
    }
}

/// A DNS name lower-cased, without a trailing dot.
fn normal(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Is the DNS name `name` (no wildcard; normalised) in the subtree `base` (normalised)?
fn dns_in(name: &str, base: &str) -> bool {
    if base.is_empty() {
        return true;
    }
    if let Some(below) = base.strip_prefix('.') {
        // Only names strictly below.
        return name.len() > below.len() + 1 && name.ends_with(base);
    }
    name == base
        || (name.len() > base.len()
            && name.ends_with(base)
            && name.as_bytes()[name.len() - base.len() - 1] == b'.')
}

/// Does every name `pattern` (a dNSName, maybe `*.rest`) stands for lie in `base`?
fn dns_within(pattern: &str, base: &str) -> bool {
    let (pattern, base) = (normal(pattern), normal(base));
    match pattern.strip_prefix("*.") {
        // `*.rest` stands for `x.rest`: all of them lie in `base` when `rest` itself is in
        // `base` read without its leading dot.
        Some(rest) => dns_in(rest, base.strip_prefix('.').unwrap_or(&base)),
        None => dns_in(&pattern, &base),
    }
}

/// Does some name `pattern` stands for lie in `base`?
fn dns_overlaps(pattern: &str, base: &str) -> bool {
    let (pattern, base) = (normal(pattern), normal(base));
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            dns_in(rest, base.strip_prefix('.').unwrap_or(&base))
                // `base` is itself one of the names `*.rest` stands for: `x.rest`.
                || (!base.starts_with('.')
                    && base.split_once('.').is_some_and(|(first, tail)| !first.is_empty() && first != "*" && tail == rest))
        }
        None => dns_in(&pattern, &base),
    }
}

fn ip_in(ip: &IpAddr, addr: &[u8], mask: &[u8]) -> bool {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    bytes.len() == addr.len()
        && bytes
            .iter()
            .zip(addr)
            .zip(mask)
            .all(|((b, a), m)| b & m == a & m)
}

/// A name a certificate carries, of a form toytls constrains.
enum Named<'a> {
    Dns(&'a str),
    Ip(IpAddr),
    Directory(&'a Name),
}

impl std::fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Named::Dns(d) => write!(f, "DNS:{}", shorten(d)),
            Named::Ip(ip) => write!(f, "IP:{ip}"),
            Named::Directory(name) => write!(f, "DirName:{}", shorten(&name.to_string())),
        }
    }
}

/// Is the legacy common name of a certificate without subjectAltName something the host name
/// would be matched against, i.e. a DNS name (maybe with a `*.` wildcard)?
fn cn_is_dns_name(cn: &str) -> bool {
    let name = cn.strip_suffix('.').unwrap_or(cn);
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.parse::<IpAddr>().is_err()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Does `cert` carry a name of the general name form `form` (a context tag number)?
fn has_name_of_form(cert: &Certificate, form: u8) -> bool {
    let in_san = cert
        .extensions()
        .subject_alt_names
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|n| matches!(n, GeneralName::Other(t) if *t == form));
    let in_subject = match form {
        1 => cert
            .subject()
            .rdns()
            .iter()
            .flatten()
            .any(|a| a.oid == oid::EMAIL_ADDRESS.as_bytes()),
        _ => false,
    };
    in_san || in_subject
}

/// Counts (name, subtree) comparisons against [`MAX_NAME_CHECKS`].
pub struct Budget(usize);

impl Budget {
    pub fn new() -> Budget {
        Budget(0)
    }

    fn spend(&mut self, n: usize) -> Result<(), CertError> {
        self.0 = self.0.saturating_add(n);
        if self.0 > MAX_NAME_CHECKS {
            return Err(CertError::TooManyNameChecks {
                max: MAX_NAME_CHECKS,
            });
        }
        Ok(())
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new()
    }
}

impl NameConstraints {
    /// Checks the names of `cert` (below `ca` on the path; `is_leaf` if it is the server's own)
    /// against these constraints.
    pub fn check(
        &self,
        ca: &Certificate,
        cert: &Certificate,
        is_leaf: bool,
        budget: &mut Budget,
    ) -> Result<(), CertError> {
        if self.critical
            && let Some(&form) = self
                .unsupported_forms
                .iter()
                .find(|&&f| has_name_of_form(cert, f))
        {
            return Err(CertError::UnsupportedNameConstraint {
                ca: ca.label(),
                cert: cert.label(),
                form: form_name(form),
            });
        }
        let sans = cert.extensions().subject_alt_names.as_deref();
        let mut names: Vec<Named<'_>> = Vec::new();
        match sans {
            Some(list) => {
                for n in list {
                    match n {
                        GeneralName::Dns(d) => names.push(Named::Dns(d)),
                        GeneralName::Ip(ip) => names.push(Named::Ip(*ip)),
                        GeneralName::Directory(name) => names.push(Named::Directory(name)),
                        GeneralName::Other(_) => {}
                    }
                }
            }
            None if is_leaf => {
                if let Some(cn) = cert.subject().common_name_value()
                    && cn_is_dns_name(cn)
                {
                    names.push(Named::Dns(cn));
                }
            }
            None => {}
        }
        // The subject is a directoryName too, unless empty (RFC 5280 4.2.1.10).
        if !cert.subject().rdns().is_empty() {
            names.push(Named::Directory(cert.subject()));
        }
        for name in &names {
            budget.spend(self.permitted.len() + self.excluded.len())?;
            if let Some(sub) = self.excluded.iter().find(|s| match (s, name) {
                (Subtree::Dns(base), Named::Dns(d)) => dns_overlaps(d, base),
                (Subtree::Ip { addr, mask }, Named::Ip(ip)) => ip_in(ip, addr, mask),
                (Subtree::Directory(base), Named::Directory(n)) => n.is_within(base),
                _ => false,
            }) {
                return Err(CertError::NameExcluded {
                    ca: ca.label(),
                    cert: cert.label(),
                    name: name.to_string(),
                    subtree: sub.to_string(),
                });
            }
            let same_form: Vec<&Subtree> = self
                .permitted
                .iter()
                .filter(|s| {
                    matches!(
                        (s, name),
                        (Subtree::Dns(_), Named::Dns(_))
                            | (Subtree::Ip { .. }, Named::Ip(_))
                            | (Subtree::Directory(_), Named::Directory(_))
                    )
                })
                .collect();
            if same_form.is_empty() {
                continue;
            }
            let within = same_form.iter().any(|s| match (s, name) {
                (Subtree::Dns(base), Named::Dns(d)) => dns_within(d, base),
                (Subtree::Ip { addr, mask }, Named::Ip(ip)) => ip_in(ip, addr, mask),
                (Subtree::Directory(base), Named::Directory(n)) => n.is_within(base),
                _ => false,
            });
            if !within {
                const SHOWN: usize = 4;
                let mut permitted: Vec<String> = same_form
                    .iter()
                    .take(SHOWN)
                    .map(|s| s.to_string())
                    .collect();
                if same_form.len() > SHOWN {
                    permitted.push(format!("{} more", same_form.len() - SHOWN));
                }
                return Err(CertError::NameNotPermitted {
                    ca: ca.label(),
                    cert: cert.label(),
                    name: name.to_string(),
                    permitted,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
