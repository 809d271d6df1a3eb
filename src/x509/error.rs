//! Everything that can be wrong with a certificate, a chain or a key file, in words a person can act
//! on, each mapped to the one TLS alert (RFC 5246 7.2.2) a client sends when it happens.
//!
//! Certificates are named by their subject as printed by [`super::name::Name`] (or by serial number
//! when the subject is empty), so a message says which certificate of a chain is at fault.

use super::der::DerError;
use super::time;
use crate::clock::UnixTime;
use crate::wire::alert::AlertDescription;
use std::fmt;

/// A certificate, chain or key problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertError {
    /// The bytes are not a well-formed certificate (or key): `what` says which part.
    Malformed { what: &'static str, reason: String },
    /// A PEM file is not well-formed armour around base64.
    Pem(String),
    /// A file or a chain that should hold at least one certificate holds none.
    NoCertificate,
    /// A certificate version other than v1, v2 or v3.
    UnsupportedVersion { version: u64 },
    /// The subject public key is not RSA; toytls only speaks RSA key transport.
    UnsupportedKeyType { cert: String, algorithm: String },
    /// The RSA public key itself is unusable (even modulus, tiny exponent, ...).
    BadPublicKey { cert: String, reason: String },
    /// An RSA key smaller than the verifier accepts ([`super::verify::Policy`]), in the server's
    /// certificate or (`ca`) in a CA's.
    WeakKey {
        cert: String,
        bits: usize,
        min: usize,
        ca: bool,
    },
    /// A client certificate's RSA key is smaller than the verifier accepts.
    WeakClientKey {
        cert: String,
        bits: usize,
        min: usize,
    },
    /// A private key smaller than toytls uses (a server's own key, or a CA's to issue with).
    WeakPrivateKey { bits: usize, min: usize },
    /// The certificate is signed with an algorithm other than sha256WithRSAEncryption.
    UnsupportedSignatureAlgorithm { cert: String, algorithm: String },
    /// An extension marked critical that toytls does not understand (RFC 5280 4.2: such a
    /// certificate must be rejected).
    UnknownCriticalExtension { cert: String, oid: String },
    /// The same extension appears twice (RFC 5280 4.2 forbids it).
    DuplicateExtension { cert: String, oid: String },
    /// The issuer's key did not verify the certificate's signature: it was altered, or signed by
    /// another key with the same name.
    BadSignature { cert: String, issuer: String },
    /// The current time is after notAfter.
    Expired { cert: String, not_after: UnixTime },
    /// The current time is before notBefore.
    NotYetValid { cert: String, not_before: UnixTime },
    /// The chain does not lead to any trust anchor.
    UntrustedIssuer { top_issuer: String },
    /// A certificate that signed another is not a CA (basicConstraints CA:TRUE missing).
    NotACa { cert: String },
    /// A CA signed a chain longer than its basicConstraints pathLenConstraint allows.
    PathLenExceeded {
        cert: String,
        path_len: u64,
        below: usize,
    },
    /// A CA whose keyUsage does not include keyCertSign signed a certificate.
    IssuerKeyUsage { cert: String },
    /// The server certificate's keyUsage allows neither digitalSignature nor keyEncipherment.
    LeafKeyUsage { cert: String },
    /// A certificate's extendedKeyUsage does not include serverAuth.
    NotForServerAuth { cert: String },
    /// A client certificate's keyUsage does not allow digitalSignature, which signs the
    /// CertificateVerify (RFC 5246 7.4.8).
    ClientKeyUsage { cert: String },
    /// A certificate of a client's chain has an extendedKeyUsage without clientAuth.
    NotForClientAuth { cert: String },
    /// The server certificate is not for the host the client asked for.
    NameMismatch {
        cert: String,
        host: String,
        covers: Vec<String>,
    },
    /// A name of a certificate lies outside every permitted subtree of its form in a CA's
    /// nameConstraints (RFC 5280 4.2.1.10).
    NameNotPermitted {
        ca: String,
        cert: String,
        name: String,
        permitted: Vec<String>,
    },
    /// A name of a certificate lies in an excluded subtree of a CA's nameConstraints.
    NameExcluded {
        ca: String,
        cert: String,
        name: String,
        subtree: String,
    },
    /// A CA's critical nameConstraints constrain a name form toytls does not implement, and a
    /// certificate below it has a name of that form (RFC 5280 4.2.1.10: process it or reject).
    UnsupportedNameConstraint {
        ca: String,
        cert: String,
        form: &'static str,
    },
    /// Checking the names against the nameConstraints would take too many comparisons.
    TooManyNameChecks { max: usize },
    /// The chain is longer than toytls is willing to walk.
    ChainTooLong { max: usize },
    /// The search for a path made as many signature checks as it may without finding one.
    PathSearchLimit { max: usize },
    /// A private key file could not be used.
    Key(String),
    /// Building a certificate or key failed (key generation, signing, a date out of range).
    Build(String),
}

impl CertError {
    /// The alert a TLS client sends when the server's chain fails this way, and a server when a
    /// client's does (RFC 5246 7.2.2):
    /// corrupt or badly signed certificates, and keys too small, are `bad_certificate` (as
    /// OpenSSL), unsupported algorithms,
    /// critical extensions and name constraint forms `unsupported_certificate`, expiry
    /// `certificate_expired`, an unknown root `unknown_ca`, and a wrong name or usage, or a name
    /// a CA may not vouch for, `certificate_unknown` (what OpenSSL sends for a name constraint
    /// violation too). Local problems (a key file)
    /// are `internal_error`.
    pub fn alert(&self) -> AlertDescription {
        use AlertDescription as A;
        match self {
            CertError::Malformed { .. }
            | CertError::Pem(_)
            | CertError::NoCertificate
            | CertError::UnsupportedVersion { .. }
            | CertError::BadPublicKey { .. }
            | CertError::WeakKey { .. }
            | CertError::WeakClientKey { .. }
            | CertError::DuplicateExtension { .. }
            | CertError::BadSignature { .. }
            | CertError::NotACa { .. }
            | CertError::PathLenExceeded { .. }
            | CertError::IssuerKeyUsage { .. }
            | CertError::ChainTooLong { .. }
            | CertError::PathSearchLimit { .. }
            | CertError::TooManyNameChecks { .. } => A::BadCertificate,
            CertError::UnsupportedKeyType { .. }
            | CertError::UnsupportedNameConstraint { .. }
            | CertError::UnsupportedSignatureAlgorithm { .. }
            | CertError::UnknownCriticalExtension { .. } => A::UnsupportedCertificate,
            CertError::Expired { .. } | CertError::NotYetValid { .. } => A::CertificateExpired,
            CertError::UntrustedIssuer { .. } => A::UnknownCa,
            CertError::LeafKeyUsage { .. }
            | CertError::NotForServerAuth { .. }
            | CertError::ClientKeyUsage { .. }
            | CertError::NotForClientAuth { .. }
            | CertError::NameMismatch { .. }
            | CertError::NameNotPermitted { .. }
            | CertError::NameExcluded { .. } => A::CertificateUnknown,
            CertError::Key(_) | CertError::Build(_) | CertError::WeakPrivateKey { .. } => {
                A::InternalError
            }
        }
    }

    /// A [`CertError::Malformed`] from a DER error.
    pub(crate) fn der(what: &'static str) -> impl Fn(DerError) -> CertError {
        move |e| CertError::Malformed {
            what,
            reason: e.to_string(),
        }
    }
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Malformed { what, reason } => {
                write!(f, "malformed {what}: {reason}")
            }
            CertError::Pem(reason) => write!(f, "bad PEM: {reason}"),
            CertError::NoCertificate => f.write_str("no certificate found"),
            CertError::UnsupportedVersion { version } => {
                write!(f, "unsupported certificate version {version}")
            }
            CertError::UnsupportedKeyType { cert, algorithm } => write!(
                f,
                "certificate '{cert}' has a key of type {algorithm}; toytls supports only RSA keys"
            ),
            CertError::BadPublicKey { cert, reason } => {
                write!(f, "certificate '{cert}' has an unusable RSA key: {reason}")
            }
            CertError::WeakKey {
                cert,
                bits,
                min,
                ca: false,
            } => write!(
                f,
                "certificate '{cert}' has a {bits}-bit RSA key; toytls refuses server keys under \
                 {min} bits (whoever factors it can decrypt the pre-master secret)"
            ),
            CertError::WeakKey {
                cert,
                bits,
                min,
                ca: true,
            } => write!(
                f,
                "CA '{cert}' has a {bits}-bit RSA key; toytls refuses CA keys under {min} bits \
                 (whoever factors it can sign any certificate)"
            ),
            CertError::WeakClientKey { cert, bits, min } => write!(
                f,
                "client certificate '{cert}' has a {bits}-bit RSA key; toytls refuses client keys \
                 under {min} bits (whoever factors it can sign as this client)"
            ),
            CertError::WeakPrivateKey { bits, min } => write!(
                f,
                "the private key is a {bits}-bit RSA key; toytls refuses RSA keys under {min} \
                 bits (make a new one: `toytls ca init`, `toytls cert issue`)"
            ),
            CertError::UnsupportedSignatureAlgorithm { cert, algorithm } => write!(
                f,
                "certificate '{cert}' is signed with {algorithm}; toytls supports only \
                 sha256WithRSAEncryption"
            ),
            CertError::UnknownCriticalExtension { cert, oid } => write!(
                f,
                "certificate '{cert}' has a critical extension toytls does not understand ({oid})"
            ),
            CertError::DuplicateExtension { cert, oid } => {
                write!(f, "certificate '{cert}' has the extension {oid} twice")
            }
            CertError::BadSignature { cert, issuer } => write!(
                f,
                "the signature on certificate '{cert}' does not verify with the key of '{issuer}'"
            ),
            CertError::Expired { cert, not_after } => write!(
                f,
                "certificate '{cert}' expired on {}",
                time::Display(*not_after)
            ),
            CertError::NotYetValid { cert, not_before } => write!(
                f,
                "certificate '{cert}' is not valid until {}",
                time::Display(*not_before)
            ),
            CertError::UntrustedIssuer { top_issuer } => write!(
                f,
                "no certificate in the chain is signed by a trusted CA; the top one was issued by \
                 '{top_issuer}'"
            ),
            CertError::NotACa { cert } => write!(
                f,
                "certificate '{cert}' signed another certificate but is not a CA \
                 (no basicConstraints CA:TRUE)"
            ),
            CertError::PathLenExceeded {
                cert,
                path_len,
                below,
            } => write!(
                f,
                "CA '{cert}' allows {path_len} intermediate CA(s) below it (pathlen), \
                 but the chain has {below}"
            ),
            CertError::IssuerKeyUsage { cert } => write!(
                f,
                "CA '{cert}' signed a certificate but its keyUsage does not include keyCertSign"
            ),
            CertError::LeafKeyUsage { cert } => write!(
                f,
                "certificate '{cert}' has a keyUsage with neither digitalSignature nor \
                 keyEncipherment, so it cannot be used by a TLS server"
            ),
            CertError::NotForServerAuth { cert } => write!(
                f,
                "certificate '{cert}' has an extendedKeyUsage without serverAuth"
            ),
            CertError::ClientKeyUsage { cert } => write!(
                f,
                "certificate '{cert}' has a keyUsage without digitalSignature, so it cannot sign \
                 a TLS client's CertificateVerify"
            ),
            CertError::NotForClientAuth { cert } => write!(
                f,
                "certificate '{cert}' has an extendedKeyUsage without clientAuth"
            ),
            CertError::NameMismatch { cert, host, covers } => {
                if covers.is_empty() {
                    write!(f, "certificate '{cert}' names no host, so not '{host}'")
                } else {
                    let list: Vec<String> = covers.iter().map(|n| format!("'{n}'")).collect();
                    write!(
                        f,
                        "certificate '{cert}' covers {}, not '{host}'",
                        list.join(", ")
                    )
                }
            }
            CertError::NameNotPermitted {
                ca,
                cert,
                name,
                permitted,
            } => write!(
                f,
                "CA '{ca}' does not permit the name {name} of certificate '{cert}': its \
                 nameConstraints permit only {}",
                permitted.join(", ")
            ),
            CertError::NameExcluded {
                ca,
                cert,
                name,
                subtree,
            } => write!(
                f,
                "CA '{ca}' excludes the name {name} of certificate '{cert}': its nameConstraints \
                 exclude {subtree}"
            ),
            CertError::UnsupportedNameConstraint { ca, cert, form } => write!(
                f,
                "CA '{ca}' has critical nameConstraints on {form} names, which toytls does not \
                 implement, and certificate '{cert}' has such a name"
            ),
            CertError::TooManyNameChecks { max } => write!(
                f,
                "checking the chain's names against its nameConstraints would take more than \
                 {max} comparisons"
            ),
            CertError::ChainTooLong { max } => {
                write!(f, "the chain is longer than {max} certificates")
            }
            CertError::PathSearchLimit { max } => write!(
                f,
                "no path to a trusted CA was found within {max} signature checks; the chain \
                 offers too many candidate issuers of the same name"
            ),
            CertError::Key(reason) => write!(f, "unusable private key: {reason}"),
            CertError::Build(reason) => write!(f, "cannot build certificate: {reason}"),
        }
    }
}

impl std::error::Error for CertError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_certificate_and_reason() {
        let e = CertError::Expired {
            cert: "CN=localhost".into(),
            not_after: UnixTime(1_767_225_600),
        };
        assert_eq!(
            e.to_string(),
            "certificate 'CN=localhost' expired on 2026-01-01 00:00:00 UTC"
        );
        assert_eq!(e.alert(), AlertDescription::CertificateExpired);

        let e = CertError::UntrustedIssuer {
            top_issuer: "CN=Evil CA".into(),
        };
        assert_eq!(
            e.to_string(),
            "no certificate in the chain is signed by a trusted CA; the top one was issued by \
             'CN=Evil CA'"
        );
        assert_eq!(e.alert(), AlertDescription::UnknownCa);

        let e = CertError::NameMismatch {
            cert: "CN=example.com".into(),
            host: "localhost".into(),
            covers: vec!["example.com".into()],
        };
        assert_eq!(
            e.to_string(),
            "certificate 'CN=example.com' covers 'example.com', not 'localhost'"
        );
        assert_eq!(e.alert(), AlertDescription::CertificateUnknown);
    }
}
