//! The client's question: "can I believe this server's certificate?" (RFC 5280 6, RFC 6125 6)
//!
//! The server sends its certificate first and then the intermediates that lead to a CA
//! (RFC 5246 7.4.2). The client trusts only the CA certificates it was given (the trust anchors).
//! [`verify_server_chain`] answers the question in four steps, each failing with its own error:
//!
//! 1. **Build the path** from the leaf upwards: for each certificate, find the one whose subject is
//!    its issuer, first among the trust anchors, then among the certificates the server sent, and
//!    check the signature with that issuer's RSA key. The walk ends at a trust anchor, or fails
//!    with "no certificate in the chain is signed by a trusted CA". (A leaf that is itself byte for
//!    byte one of the trust anchors is trusted directly.)
//! 2. **Check every certificate on the path**: the time is within its validity, and it has no
//!    critical extension toytls does not understand (trust anchors are configuration, not checked
//!    for extensions).
//! 3. **Check every issuer is allowed to issue**: basicConstraints CA:TRUE, keyUsage (if present)
//!    includes keyCertSign, and pathLenConstraint (if present) is not exceeded. A v1 self-signed
//!    trust anchor, which cannot carry extensions, counts as a CA, as in OpenSSL.
//! 4. **Check the leaf is fit for a TLS server**: keyUsage (if present) allows digitalSignature or
//!    keyEncipherment, extendedKeyUsage (if present, on the leaf and the intermediates) includes
//!    serverAuth, and it covers the host name ([`super::hostname`]).
//!
//! Not done, and said here so nobody assumes it: revocation (CRL, OCSP), name constraints (a
//! critical one is refused as unknown), policies, and RSA-PSS or ECDSA signatures.

use super::cert::{Certificate, SignatureAlgorithm};
use super::error::CertError;
use super::extensions::KeyUsage;
use super::hostname;
use crate::clock::UnixTime;

/// The most certificates a path may have, trust anchor included. Real chains have 2 to 4.
pub const MAX_PATH_LEN: usize = 8;

/// Verifies a server's chain (leaf first, then the intermediates in any order) for `host` at time
/// `now` against `trust_anchors`. This is what a TLS client calls after the Certificate message.
pub fn verify_server_chain(
    chain: &[Certificate],
    trust_anchors: &[Certificate],
    host: &str,
    now: UnixTime,
) -> Result<(), CertError> {
    verify_server_chain_path(chain, trust_anchors, host, now).map(|_| ())
}

/// Like [`verify_server_chain`], returning the verified path: the leaf, the intermediates used,
/// and last the trust anchor (absent when the leaf itself is trusted).
pub fn verify_server_chain_path<'a>(
    chain: &'a [Certificate],
    trust_anchors: &'a [Certificate],
    host: &str,
    now: UnixTime,
) -> Result<Vec<&'a Certificate>, CertError> {
    let leaf = chain.first().ok_or(CertError::NoCertificate)?;
    let path = build_path(chain, trust_anchors)?;
    check_validity_and_extensions(&path, now)?;
    check_issuers(&path)?;
    check_leaf_usage(&path)?;
    hostname::check_host(leaf, host)?;
    Ok(path)
}

/// Checks that `issuer`'s key signed `cert` (RFC 5280 6.1.3 (a)(1)).
pub fn check_signature(cert: &Certificate, issuer: &Certificate) -> Result<(), CertError> {
    if let SignatureAlgorithm::Unsupported(name) = cert.signature_algorithm() {
        return Err(CertError::UnsupportedSignatureAlgorithm {
            cert: cert.label(),
            algorithm: name.clone(),
        });
    }
    issuer
        .public_key()
        .verify_pkcs1v15_sha256(cert.tbs_der(), cert.signature())
        .map_err(|_| CertError::BadSignature {
            cert: cert.label(),
            issuer: issuer.label(),
        })
}

/// Step 1: walks from the leaf to a trust anchor, checking each signature on the way.
fn build_path<'a>(
    chain: &'a [Certificate],
    anchors: &'a [Certificate],
) -> Result<Vec<&'a Certificate>, CertError> {
    let leaf = chain.first().ok_or(CertError::NoCertificate)?;
    if anchors.iter().any(|a| a.der() == leaf.der()) {
        return Ok(vec![leaf]);
    }
    let mut path = vec![leaf];
    let mut used = vec![false; chain.len()];
    used[0] = true;
    loop {
        let current = *path.last().unwrap_or(&leaf);
        let issuer_name = current.issuer().der();

        // A trust anchor with the right name ends the walk, if its key signed `current`.
        let named: Vec<&Certificate> = anchors
            .iter()
            .filter(|a| a.subject().der() == issuer_name)
            .collect();
        if !named.is_empty() {
            let mut last_err = None;
            for anchor in named {
                match check_signature(current, anchor) {
                    Ok(()) => {
                        path.push(anchor);
                        return Ok(path);
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            // Every anchor of that name was tried; report the last failure.
            return Err(last_err.unwrap_or(CertError::NoCertificate));
        }

        if path.len() + 1 >= MAX_PATH_LEN {
            return Err(CertError::ChainTooLong { max: MAX_PATH_LEN });
        }
        // Otherwise one of the certificates the server sent, each used at most once.
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.subject().der() == issuer_name);
        match next {
            Some((i, issuer)) => {
                check_signature(current, issuer)?;
                used[i] = true;
                path.push(issuer);
            }
            None => {
                return Err(CertError::UntrustedIssuer {
                    top_issuer: current.issuer().to_string(),
                });
            }
        }
    }
}

/// Index of the trust anchor in a path built by [`build_path`], if the path has one.
fn anchor_index(path: &[&Certificate]) -> Option<usize> {
    (path.len() > 1).then(|| path.len() - 1)
}

/// Step 2: validity (RFC 5280 6.1.3 (a)(2); both ends inclusive, 4.1.2.5) and unknown critical
/// extensions (RFC 5280 4.2), from the leaf up.
fn check_validity_and_extensions(path: &[&Certificate], now: UnixTime) -> Result<(), CertError> {
    let anchor = anchor_index(path);
    for (i, cert) in path.iter().enumerate() {
        if now < cert.not_before() {
            return Err(CertError::NotYetValid {
                cert: cert.label(),
                not_before: cert.not_before(),
            });
        }
        if now > cert.not_after() {
            return Err(CertError::Expired {
                cert: cert.label(),
                not_after: cert.not_after(),
            });
        }
        if Some(i) != anchor
            && let Some(oid) = cert.extensions().unknown_critical.first()
        {
            return Err(CertError::UnknownCriticalExtension {
                cert: cert.label(),
                oid: oid.clone(),
            });
        }
    }
    Ok(())
}

/// Step 3: every certificate that signed another must be a CA allowed to do so (RFC 5280
/// 6.1.4 (k), (l), (m), (n)).
fn check_issuers(path: &[&Certificate]) -> Result<(), CertError> {
    let anchor = anchor_index(path);
    for (i, issuer) in path.iter().enumerate().skip(1) {
        let ext = issuer.extensions();
        let legacy_root = Some(i) == anchor && issuer.version() == 1 && issuer.is_self_issued();
        let is_ca = ext.basic_constraints.is_some_and(|bc| bc.ca) || legacy_root;
        if !is_ca {
            return Err(CertError::NotACa {
                cert: issuer.label(),
            });
        }
        if let Some(ku) = ext.key_usage
            && !ku.has(KeyUsage::KEY_CERT_SIGN)
        {
            return Err(CertError::IssuerKeyUsage {
                cert: issuer.label(),
            });
        }
        if let Some(path_len) = ext.basic_constraints.and_then(|bc| bc.path_len) {
            // The intermediate CAs between this issuer and the leaf; self-issued ones (a CA
            // re-keying itself) do not count (RFC 5280 4.2.1.9).
            let below = path[1..i].iter().filter(|c| !c.is_self_issued()).count();
            if below as u64 > path_len {
                return Err(CertError::PathLenExceeded {
                    cert: issuer.label(),
                    path_len,
                    below,
                });
            }
        }
    }
    Ok(())
}

/// Step 4 (without the name): the key may be used by a TLS server. RSA key transport needs
/// keyEncipherment; digitalSignature is accepted too, as OpenSSL does.
fn check_leaf_usage(path: &[&Certificate]) -> Result<(), CertError> {
    let leaf = path[0];
    if let Some(ku) = leaf.extensions().key_usage
        && !ku.has(KeyUsage::DIGITAL_SIGNATURE)
        && !ku.has(KeyUsage::KEY_ENCIPHERMENT)
    {
        return Err(CertError::LeafKeyUsage { cert: leaf.label() });
    }
    let end = anchor_index(path).unwrap_or(path.len());
    for cert in &path[..end] {
        if !cert.extensions().allows_server_auth() {
            return Err(CertError::NotForServerAuth { cert: cert.label() });
        }
    }
    Ok(())
}
