//! Client certificates (RFC 5246 7.4.4, 7.4.6, 7.4.8): the three messages by which a server asks
//! the client who it is and the client proves it, from both ends, in the order they cross the
//! wire. The two stories ([`super::client`], [`super::server`]) call these steps where the RFC
//! 7.3 picture marks the messages `*`; nothing else in them changes.
//!
//! ```text
//! server                                 client
//! send_certificate_request   -->   read_certificate_request   (after the server's Certificate)
//! read_client_certificate    <--   send_client_certificate    (first of the client's flight)
//! read_certificate_verify    <--   send_certificate_verify    (after ClientKeyExchange)
//! ```
//!
//! The client's end: a server may ask for a certificate with a CertificateRequest. We answer with
//! our chain when we have one the request can accept (an RSA signing key, `rsa_sign`, issued under
//! one of the CAs it names, if it names any), then prove we hold its key with a CertificateVerify:
//! a signature over every handshake message so far, with the first hash of the server's list that
//! we have. Otherwise we send an empty Certificate and no CertificateVerify, and the server decides
//! whether to go on.
//!
//! The server's end, under [`ClientAuth::Optional`] or [`ClientAuth::Required`]: our
//! CertificateRequest, after our Certificate, asks for an RSA signing key (`rsa_sign`) certified
//! by one of the trust anchors it names, signing with one of our hashes. The client's Certificate
//! comes first in its flight: empty is refused with `handshake_failure` when required, served
//! anonymously when optional; a chain is verified as a client's
//! ([`crate::x509::verify::verify_client_chain`]: clientAuth, not a host name), with the
//! verifier's alert. Then, after ClientKeyExchange, its CertificateVerify must be a signature by
//! the certificate's key over every handshake message before it: an algorithm we did not list is
//! `illegal_parameter`, a signature that does not verify `decrypt_error`. The verified chain is
//! the session's peer chain, so a resumed session keeps the client's identity.

use super::client::Client;
use super::common::signature_hash;
use super::server::Server;
use crate::config::{ClientAuth, ClientCertificate};
use crate::crypto::rsa::RsaPublicKey;
use crate::error::{Error, Reason, Result};
use crate::trace::Note;
use crate::wire::messages::client_auth::{
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_SIGN,
};
use crate::wire::messages::{
    CertificateMsg, CertificateRequest, CertificateVerify, HandshakeMessage, SignatureScheme,
};
use crate::x509::name::Name;
use std::io::{Read, Write};
use std::sync::Arc;

/// The server's end: ask, then check what the client sends.
impl<T: Read + Write> Server<'_, T> {
    /// RFC 5246 7.4.4: we ask for a client certificate: an RSA signing key, signatures with one of
    /// our hashes (SHA-256 first), issued by one of the CAs we trust for clients (their subject
    /// names, so a client can choose among its certificates).
    pub(super) fn send_certificate_request(&mut self) -> Result<CertificateRequest> {
        let request = CertificateRequest {
            certificate_types: vec![RSA_SIGN],
            signature_algorithms: vec![RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512],
            certificate_authorities: self
                .config
                .client_auth
                .trust_anchors()
                .iter()
                .map(|ca| ca.subject().der().to_vec())
                .collect(),
        };
        self.hs
            .send(HandshakeMessage::CertificateRequest(request.clone()))?;
        Ok(request)
    }

    /// RFC 5246 7.4.6: the client's chain, the first message of its flight. Empty: the client has
    /// no certificate for us, refused with `handshake_failure` if we require one. Otherwise it
    /// must verify as a client certificate, and its leaf's key is the one the CertificateVerify
    /// must be signed with.
    pub(super) fn read_client_certificate(
        &mut self,
    ) -> Result<(Vec<Vec<u8>>, Option<RsaPublicKey>)> {
        let m: CertificateMsg = self.hs.read()?;
        if m.chain.is_empty() {
            if matches!(self.config.client_auth, ClientAuth::Required { .. }) {
                return Err(Error::HandshakeFailure(Reason::ClientCertificateRequired));
            }
            self.hs.tracer().note(|| Note::ClientAnonymous);
            return Ok((vec![], None));
        }
        let key = self
            .config
            .client_auth
            .verify(&m.chain, self.config.clock.now())?;
        self.hs.tracer().note(|| Note::ClientCertificateVerified {
            key_bits: key.bits(),
        });
        Ok((m.chain, Some(key)))
    }

    /// RFC 5246 7.4.8: the client signed every handshake message before this one with the key
    /// of the certificate it sent, using one of the algorithms we listed. This is what makes the
    /// certificate the client's own: anyone can send a copy of a certificate.
    pub(super) fn read_certificate_verify(
        &mut self,
        request: &CertificateRequest,
        key: &RsaPublicKey,
    ) -> Result<()> {
        let signed = self
            .hs
            .messages()
            .ok_or_else(|| Error::Internal("the handshake messages were not kept".into()))?
            .to_vec();
        let cv: CertificateVerify = self.hs.read()?;
        if !request.signature_algorithms.contains(&cv.algorithm) {
            return Err(Error::IllegalParameter(format!(
                "the client's CertificateVerify is signed with {}, which our CertificateRequest did not offer (RFC 5246 7.4.8)",
                cv.algorithm.name()
            )));
        }
        let hash = signature_hash(cv.algorithm)
            .ok_or_else(|| Error::Internal("a listed algorithm without a hash".into()))?;
        key.verify_pkcs1v15(hash, &signed, &cv.signature)
            .map_err(|_| Error::BadCertificateVerify)?;
        self.hs.tracer().note(|| Note::CertificateVerifyVerified {
            scheme: cv.algorithm,
        });
        Ok(())
    }
}

/// The client's end: answer the request, then prove the key.
impl<T: Read + Write> Client<'_, T> {
    /// RFC 5246 7.4.4: a server that wants a client certificate asks for it after its own
    /// Certificate; most servers send ServerHelloDone instead.
    pub(super) fn read_certificate_request(&mut self) -> Result<Option<CertificateRequest>> {
        if !self
            .hs
            .next_is::<CertificateRequest>("CertificateRequest or ServerHelloDone")?
        {
            return Ok(None);
        }
        let request: CertificateRequest = self.hs.read()?;
        Ok(Some(request))
    }

    /// RFC 5246 7.4.6: our answer to a CertificateRequest, sent even when we have nothing to
    /// send ("If no suitable certificate is available, the client MUST send a certificate
    /// message containing no certificates"). Returns our key and the signature scheme for the
    /// CertificateVerify when we sent a chain.
    pub(super) fn send_client_certificate(
        &mut self,
        request: &CertificateRequest,
    ) -> Result<Option<(Arc<ClientCertificate>, SignatureScheme)>> {
        let usable = match &self.config.client_certificate {
            None => {
                self.hs.tracer().note(|| Note::EmptyClientCertificate {
                    why: "we have none".into(),
                });
                None
            }
            Some(identity) => match acceptable(identity, request) {
                Ok(()) => Some(identity.clone()),
                Err(why) => {
                    self.hs
                        .tracer()
                        .note(|| Note::EmptyClientCertificate { why: why.clone() });
                    None
                }
            },
        };
        let Some(identity) = usable else {
            self.hs.send(HandshakeMessage::Certificate(CertificateMsg {
                chain: vec![],
            }))?;
            return Ok(None);
        };
        // RFC 5246 7.4.8: the signature's hash and algorithm must be one the request lists; we
        // take the server's most preferred one that we have. Without one there is no
        // CertificateVerify the server would accept.
        let scheme = request
            .signature_algorithms
            .iter()
            .copied()
            .find(|s| signature_hash(*s).is_some())
            .ok_or(Error::HandshakeFailure(Reason::NoCommonSignatureAlgorithm))?;
        self.hs.send(HandshakeMessage::Certificate(CertificateMsg {
            chain: identity.chain_der(),
        }))?;
        Ok(Some((identity, scheme)))
    }

    /// RFC 5246 7.4.8: proof that we hold the key of the certificate we sent: our signature over
    /// every handshake message so far (ClientHello through ClientKeyExchange). Only the key's
    /// holder can make it, and it covers both randoms, so it cannot be replayed elsewhere.
    pub(super) fn send_certificate_verify(
        &mut self,
        identity: &ClientCertificate,
        scheme: SignatureScheme,
    ) -> Result<()> {
        let hash = signature_hash(scheme)
            .ok_or_else(|| Error::Internal("no hash for the chosen signature scheme".into()))?;
        let messages = self
            .hs
            .messages()
            .ok_or_else(|| Error::Internal("the handshake messages were not kept".into()))?;
        let signature = identity
            .private_key
            .sign_pkcs1v15(&mut self.rng, hash, messages)
            .map_err(|e| Error::Internal(format!("RSA signing failed: {e}")))?;
        self.hs
            .tracer()
            .note(|| Note::CertificateVerifySigned { scheme });
        self.hs
            .send(HandshakeMessage::CertificateVerify(CertificateVerify {
                algorithm: scheme,
                signature,
            }))
    }
}

/// RFC 5246 7.4.4: may our chain answer this request? Its key is RSA, so the request must list
/// `rsa_sign`; and if the request names CAs, one certificate of our chain must be issued by one
/// of them (or be one of them). The reason why not, otherwise.
fn acceptable(
    identity: &ClientCertificate,
    request: &CertificateRequest,
) -> std::result::Result<(), String> {
    if !request.certificate_types.contains(&RSA_SIGN) {
        return Err(
            "the server does not accept RSA signing keys (no rsa_sign in certificate_types)".into(),
        );
    }
    if request.certificate_authorities.is_empty() {
        return Ok(());
    }
    let names: Vec<Name> = request
        .certificate_authorities
        .iter()
        .filter_map(|dn| Name::from_der(dn).ok())
        .collect();
    let known = identity.chain.iter().any(|c| {
        names
            .iter()
            .any(|n| n.matches(c.issuer()) || n.matches(c.subject()))
    });
    if known {
        Ok(())
    } else {
        Err("our certificate is not issued by any CA the server names".into())
    }
}
