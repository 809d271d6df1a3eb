//! The client's question: "can I believe this server's certificate?" (RFC 5280 6, RFC 6125 6),
//! and the server's when it asks for a client certificate: "can I believe this client's?"
//! (RFC 5246 7.4.6).
//!
//! The server sends its certificate first and then the intermediates that lead to a CA
//! (RFC 5246 7.4.2). The client trusts only the CA certificates it was given (the trust anchors).
//! [`verify_server_chain`] answers the question in five steps, each failing with its own error:
//!
//! 1. **Build the path** from the leaf upwards: for each certificate, the candidate issuers are the
//!    certificates whose subject is its issuer (compared as RFC 5280 7.1 says,
//!    [`super::name::Name::matches`]), first among the trust anchors, then among the
//!    certificates the server sent; a candidate counts only if its RSA key verifies the
//!    signature. The walk ends at a trust anchor, or fails with "no certificate in the chain is
//!    signed by a trusted CA". When a candidate leads nowhere (a wrong key, an untrusted root,
//!    a check below that fails), the next one is tried, so re-keyed and cross-signed CAs work;
//!    the search is bounded ([`MAX_PATH_LEN`], [`MAX_SIGNATURE_CHECKS`]). (A leaf that is itself
//!    byte for byte one of the trust anchors is trusted directly.)
//! 2. **Check every certificate on the path**: the time is within its validity, its RSA key has
//!    at least [`MIN_RSA_BITS`] bits ([`Policy`]), and it has no critical extension toytls does
//!    not understand (trust anchors are configuration: their
//!    extensions are not checked, except the nameConstraints of step 3).
//! 3. **Check every issuer is allowed to issue**: basicConstraints CA:TRUE, keyUsage (if present)
//!    includes keyCertSign, and pathLenConstraint (if present) is not exceeded. A v1 self-signed
//!    trust anchor, which cannot carry extensions, counts as a CA, as in OpenSSL. And every CA's
//!    nameConstraints, the trust anchor's included, allow the names of the certificates below
//!    it ([`super::name_constraints`]).
//! 4. **Check the leaf is fit for a TLS server**: keyUsage (if present) allows digitalSignature or
//!    keyEncipherment, and extendedKeyUsage (if present, on the leaf and the intermediates)
//!    includes serverAuth. Steps 2 to 4 are checked on each complete path the search finds; the
//!    first path that passes them all is the one used.
//! 5. **Check the name**: the leaf covers the host name ([`super::hostname`]).
//!
//! [`verify_client_chain`] asks the same of a client's chain with two differences, both in the
//! leaf's purpose: step 4 wants a key that signs (keyUsage, if present, has digitalSignature: the
//! client signs its CertificateVerify with it) and extendedKeyUsage (if present, on the leaf and
//! the intermediates) with clientAuth; and there is no step 5, since a client is not reached by a
//! name (who it is, is the application's business: [`Certificate::subject`] and its names).
//!
//! Not done, and said here so nobody assumes it: revocation (CRL, OCSP), name constraints on
//! forms other than DNS names, IP addresses and directory names (see [`super::name_constraints`]
//! for what happens to them), policies, and RSA-PSS or ECDSA signatures.

use super::cert::{Certificate, SignatureAlgorithm};
use super::error::CertError;
use super::extensions::KeyUsage;
use super::hostname;
use super::name_constraints::Budget;
use crate::clock::UnixTime;

/// The most certificates a path may have, trust anchor included. Real chains have 2 to 4.
pub const MAX_PATH_LEN: usize = 8;

/// The smallest RSA key toytls accepts by default, in bits, for the server's key (the pre-master
/// secret is encrypted to it: whoever factors the modulus decrypts the session) and for every
/// CA's key (whoever factors it can sign any certificate). NIST SP 800-57 and the CA/Browser
/// Forum stopped accepting 1024-bit RSA in 2013; OpenSSL refuses it from security level 2 on
/// (`openssl verify -auth_level 2`, `-cipher DEFAULT@SECLEVEL=2`).
pub const MIN_RSA_BITS: usize = 2048;

/// What the verifier requires beyond RFC 5280.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The smallest RSA modulus accepted, in bits, in every certificate of the path.
    pub min_rsa_bits: usize,
}

impl Policy {
    /// The default: RSA keys of at least [`MIN_RSA_BITS`].
    pub const DEFAULT: Policy = Policy {
        min_rsa_bits: MIN_RSA_BITS,
    };

    /// For teaching and tests only: accepts RSA keys down to 1024 bits, the smallest toytls can
    /// use at all, so a learner can see a weak key refused by default and accepted here. A
    /// 1024-bit key gives about 80 bits of security; do not trust it with anything.
    pub const INSECURE_WEAK_KEYS_FOR_TEACHING: Policy = Policy {
        min_rsa_bits: crate::crypto::rsa::MIN_MODULUS_BITS,
    };
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// The most signature checks one verification makes while looking for a path (see
/// [`find_path`]). A real chain needs one per certificate, a cross-signed one a few more.
pub const MAX_SIGNATURE_CHECKS: usize = 32;

/// What the leaf is verified for: step 4's key usages, and whether step 5 checks a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A TLS server's certificate (serverAuth).
    Server,
    /// A TLS client's certificate (clientAuth), RFC 5246 7.4.6.
    Client,
}

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
    verify_with_policy(chain, trust_anchors, host, now, &Policy::DEFAULT)
}

/// Like [`verify_server_chain_path`], with the requirements of `policy` instead of the default
/// ones.
pub fn verify_with_policy<'a>(
    chain: &'a [Certificate],
    trust_anchors: &'a [Certificate],
    host: &str,
    now: UnixTime,
    policy: &Policy,
) -> Result<Vec<&'a Certificate>, CertError> {
    let leaf = chain.first().ok_or(CertError::NoCertificate)?;
    let path = find_path(chain, trust_anchors, now, policy, Purpose::Server)?;
    hostname::check_host(leaf, host)?;
    Ok(path)
}

/// Verifies a client's chain (leaf first, then intermediates in any order) at time `now` against
/// the CAs the server trusts for its clients, and returns the verified path as
/// [`verify_server_chain_path`] does. This is what a TLS server calls after the client's
/// Certificate message (RFC 5246 7.4.6); an empty chain is [`CertError::NoCertificate`], which
/// the server decides about before calling (a client without a certificate is not a bad one).
pub fn verify_client_chain<'a>(
    chain: &'a [Certificate],
    trust_anchors: &'a [Certificate],
    now: UnixTime,
) -> Result<Vec<&'a Certificate>, CertError> {
    verify_client_chain_with_policy(chain, trust_anchors, now, &Policy::DEFAULT)
}

/// Like [`verify_client_chain`], with the requirements of `policy` instead of the default ones.
pub fn verify_client_chain_with_policy<'a>(
    chain: &'a [Certificate],
    trust_anchors: &'a [Certificate],
    now: UnixTime,
    policy: &Policy,
) -> Result<Vec<&'a Certificate>, CertError> {
    find_path(chain, trust_anchors, now, policy, Purpose::Client)
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

/// Step 1: looks for a path from the leaf to a trust anchor on which every check passes.
///
/// A depth-first search: at each certificate, the candidate issuers are the trust anchors whose
/// subject is its issuer name, then the certificates the server sent with that subject (each at
/// most once per path). A candidate whose key does not verify the signature is skipped; a
/// complete path that fails a check of steps 2 to 4 is dropped; in both cases the search goes
/// back and tries the next candidate. So a CA that was re-keyed (two trust anchors of one name)
/// or cross-signed (two intermediates of one name, signed by different roots) still works: the
/// first path that is good wins (RFC 4158 describes the idea at length).
///
/// The work is bounded: a path has at most [`MAX_PATH_LEN`] certificates, and one search makes at
/// most [`MAX_SIGNATURE_CHECKS`] signature checks, so a chain of many certificates with one
/// name and one key (each a candidate for every other) cannot make the client try all their
/// orders. When no path is good, the error is the one of the path that got furthest: a check that
/// failed on a complete path, else a signature that did not verify, else the path too long, else
/// "no trusted CA".
fn find_path<'a>(
    chain: &'a [Certificate],
    anchors: &'a [Certificate],
    now: UnixTime,
    policy: &Policy,
    purpose: Purpose,
) -> Result<Vec<&'a Certificate>, CertError> {
    let leaf = chain.first().ok_or(CertError::NoCertificate)?;
    if anchors.iter().any(|a| a.der() == leaf.der()) {
        let path = vec![leaf];
        check_path(&path, now, policy, purpose, &mut Budget::new())?;
        return Ok(path);
    }
    let mut search = Search {
        chain,
        anchors,
        now,
        policy: *policy,
        purpose,
        signature_checks: 0,
        name_checks: Budget::new(),
        failure: None,
    };
    let mut path = vec![leaf];
    if search.extend(&mut path)? {
        return Ok(path);
    }
    Err(search
        .failure
        .map(|(_, e)| e)
        .unwrap_or(CertError::NoCertificate))
}

/// How far a failed attempt got, for choosing which failure to report: later is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    /// No certificate, trusted or sent, has the issuer's name.
    DeadEnd,
    /// The path would be longer than [`MAX_PATH_LEN`].
    TooLong,
    /// A certificate of the right name did not verify the signature.
    Signature,
    /// A trust anchor was reached, but a check of steps 2 to 4 failed.
    Checks,
}

/// The state of one path search (see [`find_path`]).
struct Search<'a> {
    chain: &'a [Certificate],
    anchors: &'a [Certificate],
    now: UnixTime,
    policy: Policy,
    purpose: Purpose,
    signature_checks: usize,
    /// Comparisons of names with name constraints, over all paths tried.
    name_checks: Budget,
    /// The failure to report if no path is good: the first one that got furthest.
    failure: Option<(Reached, CertError)>,
}

impl<'a> Search<'a> {
    /// Tries to complete `path` (the leaf first, then the issuers found so far) up to a trust
    /// anchor. Returns true with the good path in `path`, or false with `path` as it was.
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) -> Result<bool, CertError> {
        let Some(&current) = path.last() else {
            return Err(CertError::NoCertificate);
        };
        let issuer_name = current.issuer();
        let mut named = false;

        // A trust anchor with the right name ends the path, if its key signed `current`.
        for anchor in self
            .anchors
            .iter()
            .filter(|a| a.subject().matches(issuer_name))
        {
            named = true;
            if !self.signed_by(current, anchor)? {
                continue;
            }
            path.push(anchor);
            match check_path(
                path,
                self.now,
                &self.policy,
                self.purpose,
                &mut self.name_checks,
            ) {
                Ok(()) => return Ok(true),
                // Too much work is not a property of this path: stop.
                Err(e @ CertError::TooManyNameChecks { .. }) => return Err(e),
                Err(e) => self.note(Reached::Checks, e),
            }
            path.pop();
        }

        // Otherwise one of the certificates the server sent, not yet on this path. A copy of a
        // trust anchor adds nothing: the anchor itself was tried above.
        let anchors = self.anchors;
        let candidates: Vec<&'a Certificate> = self
            .chain
            .iter()
            .filter(|c| {
                c.subject().matches(issuer_name)
                    && !path.iter().any(|p| p.der() == c.der())
                    && !anchors.iter().any(|a| a.der() == c.der())
            })
            .collect();
        for candidate in candidates {
            named = true;
            // The candidate and, at least, a trust anchor above it must still fit.
            if path.len() + 2 > MAX_PATH_LEN {
                self.note(
                    Reached::TooLong,
                    CertError::ChainTooLong { max: MAX_PATH_LEN },
                );
                break;
            }
            if !self.signed_by(current, candidate)? {
                continue;
            }
            path.push(candidate);
            if self.extend(path)? {
                return Ok(true);
            }
            path.pop();
        }

        if !named {
            self.note(
                Reached::DeadEnd,
                CertError::UntrustedIssuer {
                    top_issuer: issuer_name.to_string(),
                },
            );
        }
        Ok(false)
    }

    /// Did `issuer`'s key sign `cert`? Counts against [`MAX_SIGNATURE_CHECKS`]; past it the whole
    /// search fails.
    fn signed_by(&mut self, cert: &Certificate, issuer: &Certificate) -> Result<bool, CertError> {
        self.signature_checks += 1;
        if self.signature_checks > MAX_SIGNATURE_CHECKS {
            return Err(CertError::PathSearchLimit {
                max: MAX_SIGNATURE_CHECKS,
            });
        }
        match check_signature(cert, issuer) {
            Ok(()) => Ok(true),
            Err(e) => {
                self.note(Reached::Signature, e);
                Ok(false)
            }
        }
    }

    /// Remembers a failure if it got further than every earlier one.
    fn note(&mut self, reached: Reached, error: CertError) {
        if self.failure.as_ref().is_none_or(|(r, _)| reached > *r) {
            self.failure = Some((reached, error));
        }
    }
}

/// Steps 2 to 4 on one complete path (the leaf first, the trust anchor last unless the leaf is
/// itself trusted).
fn check_path(
    path: &[&Certificate],
    now: UnixTime,
    policy: &Policy,
    purpose: Purpose,
    budget: &mut Budget,
) -> Result<(), CertError> {
    check_validity_and_extensions(path, now)?;
    check_key_sizes(path, policy, purpose)?;
    check_issuers(path)?;
    check_name_constraints(path, budget)?;
    match purpose {
        Purpose::Server => check_leaf_usage(path),
        Purpose::Client => check_client_leaf_usage(path),
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

/// Step 2, continued: every RSA key on the path is at least as large as the policy asks: the
/// server's, because the pre-master secret is encrypted to it (a client's, because it signs as
/// the client), and every CA's, the trust anchor's included, because it signs what is below.
fn check_key_sizes(
    path: &[&Certificate],
    policy: &Policy,
    purpose: Purpose,
) -> Result<(), CertError> {
    for (i, cert) in path.iter().enumerate() {
        let bits = cert.public_key().bits();
        if bits < policy.min_rsa_bits && i == 0 && purpose == Purpose::Client {
            return Err(CertError::WeakClientKey {
                cert: cert.label(),
                bits,
                min: policy.min_rsa_bits,
            });
        }
        if bits < policy.min_rsa_bits {
            return Err(CertError::WeakKey {
                cert: cert.label(),
                bits,
                min: policy.min_rsa_bits,
                ca: i > 0,
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

/// Step 3, continued: each CA's nameConstraints, the trust anchor's included, hold for the
/// certificates below it on the path, except self-issued intermediates (RFC 5280 6.1.3 (b)),
/// with the rules of [`super::name_constraints`].
fn check_name_constraints(path: &[&Certificate], budget: &mut Budget) -> Result<(), CertError> {
    for (i, ca) in path.iter().enumerate().skip(1) {
        let Some(constraints) = &ca.extensions().name_constraints else {
            continue;
        };
        for (j, cert) in path[..i].iter().enumerate() {
            if j > 0 && cert.is_self_issued() {
                continue;
            }
            constraints.check(ca, cert, j == 0, budget)?;
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

/// Step 4 for a client (RFC 5280 4.2.1.3, 4.2.1.12): the key signs (the CertificateVerify), so a
/// keyUsage must allow digitalSignature, and an extendedKeyUsage on the leaf or an intermediate
/// must include clientAuth (or anyExtendedKeyUsage), as OpenSSL's `sslclient` purpose checks.
fn check_client_leaf_usage(path: &[&Certificate]) -> Result<(), CertError> {
    let leaf = path[0];
    if let Some(ku) = leaf.extensions().key_usage
        && !ku.has(KeyUsage::DIGITAL_SIGNATURE)
    {
        return Err(CertError::ClientKeyUsage { cert: leaf.label() });
    }
    let end = anchor_index(path).unwrap_or(path.len());
    for cert in &path[..end] {
        if !cert.extensions().allows_client_auth() {
            return Err(CertError::NotForClientAuth { cert: cert.label() });
        }
    }
    Ok(())
}
