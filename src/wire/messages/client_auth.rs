//! The two messages of client authentication: the server's CertificateRequest (RFC 5246 7.4.4)
//! and the client's CertificateVerify (RFC 5246 7.4.8). Between them the client sends its chain
//! in an ordinary Certificate message ([`super::certificate`]), empty if it has none (7.4.6).
//!
//! ```text
//! enum { rsa_sign(1), dss_sign(2), rsa_fixed_dh(3), dss_fixed_dh(4), ..., (255) }
//!     ClientCertificateType;
//! opaque DistinguishedName<1..2^16-1>;
//! struct {
//!     ClientCertificateType certificate_types<1..2^8-1>;
//!     SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
//!     DistinguishedName certificate_authorities<0..2^16-1>;
//! } CertificateRequest;
//!
//! struct {                       -- "digitally-signed" (RFC 5246 4.7)
//!     SignatureAndHashAlgorithm algorithm;
//!     opaque signature<0..2^16-1>;
//! } CertificateVerify;
//! ```
//!
//! The messages carry bytes and code points only. Which certificate types, algorithms and CAs
//! the client can satisfy, and whether a signature verifies, is decided by the handshake
//! ([`crate::handshake`]); a distinguished name is given meaning by [`crate::x509::name::Name`].
//! A list that is empty where the RFC says it may not be, a signature algorithm list of odd
//! length, or an empty distinguished name is `decode_error`, like any other malformed message.

use super::hex;
use crate::error::{Error, Result};
use crate::wire::code_space;
use crate::wire::codec::{Reader, Writer};
use crate::x509::name::Name;

/// `SignatureAndHashAlgorithm` (RFC 5246 7.4.1.4.1): `{ HashAlgorithm hash; SignatureAlgorithm
/// signature; }`, one byte each, kept as one u16 as TLS 1.3 does (RFC 8446 4.2.3 names the same
/// code points `rsa_pkcs1_sha256` and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// The name as RFC 8446 4.2.3 spells it, or `{hash, signature}` in hex when toytls does not
    /// know it.
    pub fn name(self) -> String {
        match signature_scheme_name(self) {
            Some(n) => n.to_string(),
            None => format!("0x{:04x}", self.0),
        }
    }
}

code_space! {
    /// The name of a signature scheme code point toytls knows (RFC 5246 7.4.1.4.1 pairs, named as
    /// RFC 8446 4.2.3 names them). toytls signs and verifies the three `rsa_pkcs1_sha2*`; the
    /// others are named when a peer offers or sends them.
    pub const signature_scheme_name: SignatureScheme = SignatureScheme {
        /// {md5, rsa}: deprecated (RFC 9155), never offered or accepted.
        RSA_PKCS1_MD5 = 0x0101, "rsa_pkcs1_md5";
        /// {sha1, rsa}: deprecated (RFC 9155), never offered or accepted.
        RSA_PKCS1_SHA1 = 0x0201, "rsa_pkcs1_sha1";
        /// {sha224, rsa}: not offered.
        RSA_PKCS1_SHA224 = 0x0301, "rsa_pkcs1_sha224";
        /// {sha256, rsa}: the one every TLS 1.2 stack has; toytls's first choice.
        RSA_PKCS1_SHA256 = 0x0401, "rsa_pkcs1_sha256";
        /// {sha384, rsa}.
        RSA_PKCS1_SHA384 = 0x0501, "rsa_pkcs1_sha384";
        /// {sha512, rsa}.
        RSA_PKCS1_SHA512 = 0x0601, "rsa_pkcs1_sha512";
        /// {sha1, ecdsa} (RFC 8422).
        ECDSA_SHA1 = 0x0203, "ecdsa_sha1";
        /// {sha256, ecdsa} (RFC 8422; secp256r1 in RFC 8446).
        ECDSA_SECP256R1_SHA256 = 0x0403, "ecdsa_secp256r1_sha256";
        /// {sha384, ecdsa}.
        ECDSA_SECP384R1_SHA384 = 0x0503, "ecdsa_secp384r1_sha384";
        /// {sha512, ecdsa}.
        ECDSA_SECP521R1_SHA512 = 0x0603, "ecdsa_secp521r1_sha512";
        /// RSASSA-PSS with an rsaEncryption key (RFC 8446 4.2.3), SHA-256.
        RSA_PSS_RSAE_SHA256 = 0x0804, "rsa_pss_rsae_sha256";
        /// RSASSA-PSS, SHA-384.
        RSA_PSS_RSAE_SHA384 = 0x0805, "rsa_pss_rsae_sha384";
        /// RSASSA-PSS, SHA-512.
        RSA_PSS_RSAE_SHA512 = 0x0806, "rsa_pss_rsae_sha512";
        /// Ed25519 (RFC 8422).
        ED25519 = 0x0807, "ed25519";
        /// Ed448 (RFC 8422).
        ED448 = 0x0808, "ed448";
    }
}

code_space! {
    /// The name of a `ClientCertificateType` toytls knows (RFC 5246 7.4.4, RFC 8422 5.5). A client
    /// with an RSA key answers only a request that lists `rsa_sign`.
    pub const client_certificate_type_name: u8 {
        /// An RSA key that signs (the one toytls has).
        RSA_SIGN = 1, "rsa_sign";
        /// A DSA key that signs.
        DSS_SIGN = 2, "dss_sign";
        /// A certificate with a static Diffie-Hellman key, RSA-signed.
        RSA_FIXED_DH = 3, "rsa_fixed_dh";
        /// The same, DSA-signed.
        DSS_FIXED_DH = 4, "dss_fixed_dh";
        /// An ECDSA key that signs (RFC 8422 5.5).
        ECDSA_SIGN = 64, "ecdsa_sign";
        /// A static ECDH key, RSA-signed (RFC 8422 5.5).
        RSA_FIXED_ECDH = 65, "rsa_fixed_ecdh";
        /// A static ECDH key, ECDSA-signed (RFC 8422 5.5).
        ECDSA_FIXED_ECDH = 66, "ecdsa_fixed_ecdh";
    }
}

/// The server asks the client to prove who it is: which kinds of key it accepts, which
/// signature algorithms it can verify (most preferred first), and which CAs it trusts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    /// `ClientCertificateType` codes, at least one.
    pub certificate_types: Vec<u8>,
    /// At least one; the CertificateVerify signature must use one of them (RFC 5246 7.4.8).
    pub signature_algorithms: Vec<SignatureScheme>,
    /// The DER of each acceptable CA's distinguished name (each at least one byte); empty: any
    /// CA (RFC 5246 7.4.4).
    pub certificate_authorities: Vec<Vec<u8>>,
}

impl CertificateRequest {
    pub fn encode(&self, w: &mut Writer) {
        w.u8_prefixed(|w| w.bytes(&self.certificate_types));
        w.u16_prefixed(|w| {
            for s in &self.signature_algorithms {
                w.u16(s.0);
            }
        });
        w.u16_prefixed(|w| {
            for dn in &self.certificate_authorities {
                w.u16_prefixed(|w| w.bytes(dn));
            }
        });
    }

    pub fn decode(r: &mut Reader) -> Result<CertificateRequest> {
        let bad = |why: &str| Error::decode("CertificateRequest", why);
        let certificate_types = r.u8_prefixed()?.rest().to_vec();
        if certificate_types.is_empty() {
            return Err(bad("no certificate_types (RFC 5246 7.4.4: <1..2^8-1>)"));
        }
        let mut algs = r.u16_prefixed()?;
        if algs.is_empty() || algs.remaining() % 2 != 0 {
            return Err(bad(
                "supported_signature_algorithms is empty or of odd length (RFC 5246 7.4.1.4.1: \
                 <2..2^16-2>)",
            ));
        }
        let mut signature_algorithms = Vec::with_capacity(algs.remaining() / 2);
        while !algs.is_empty() {
            signature_algorithms.push(SignatureScheme(algs.u16()?));
        }
        let mut cas = r.u16_prefixed()?;
        r.expect_empty()?;
        let mut certificate_authorities = Vec::new();
        while !cas.is_empty() {
            let dn = cas.u16_prefixed()?.rest();
            if dn.is_empty() {
                return Err(bad(
                    "an empty DistinguishedName (RFC 5246 7.4.4: <1..2^16-1>)",
                ));
            }
            certificate_authorities.push(dn.to_vec());
        }
        Ok(CertificateRequest {
            certificate_types,
            signature_algorithms,
            certificate_authorities,
        })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let types: Vec<String> = self
            .certificate_types
            .iter()
            .map(|&t| match client_certificate_type_name(t) {
                Some(n) => n.to_string(),
                None => t.to_string(),
            })
            .collect();
        let algs: Vec<String> = self.signature_algorithms.iter().map(|s| s.name()).collect();
        let mut f = vec![
            ("certificate_types", types.join(", ")),
            ("supported_signature_algorithms", algs.join(", ")),
            (
                "certificate_authorities",
                self.certificate_authorities.len().to_string(),
            ),
        ];
        for dn in &self.certificate_authorities {
            let shown = match Name::from_der(dn) {
                Ok(name) => name.to_string(),
                Err(_) => format!("(not a DER name) {}", hex(&dn[..dn.len().min(16)])),
            };
            f.push(("authority", shown));
        }
        f
    }
}

/// The client's proof that it holds the private key of the certificate it sent: a signature,
/// with that key, over every handshake message before this one (RFC 5246 7.4.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateVerify {
    /// The hash and signature algorithm used: one the server's CertificateRequest listed.
    pub algorithm: SignatureScheme,
    /// The signature; for RSA as long as the modulus.
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    pub fn encode(&self, w: &mut Writer) {
        w.u16(self.algorithm.0);
        w.u16_prefixed(|w| w.bytes(&self.signature));
    }

    pub fn decode(r: &mut Reader) -> Result<CertificateVerify> {
        let algorithm = SignatureScheme(r.u16()?);
        let signature = r.u16_prefixed()?.rest().to_vec();
        r.expect_empty()?;
        Ok(CertificateVerify {
            algorithm,
            signature,
        })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("algorithm", self.algorithm.name()),
            ("signature", hex(&self.signature)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_request(b: &[u8]) -> Result<CertificateRequest> {
        CertificateRequest::decode(&mut Reader::new(b))
    }

    #[test]
    fn a_request_as_openssl_sends_it() {
        // rsa_sign; rsa_pkcs1_sha256, rsa_pkcs1_sha384; one CA named CN=A (30 0c 31 0a 30 08 06
        // 03 55 04 03 0c 01 41).
        let dn = [
            0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0x41,
        ];
        let mut b = vec![1, 1, 0, 4, 4, 1, 5, 1, 0, 16, 0, 14];
        b.extend_from_slice(&dn);
        let m = decode_request(&b).unwrap();
        assert_eq!(m.certificate_types, vec![RSA_SIGN]);
        assert_eq!(
            m.signature_algorithms,
            vec![RSA_PKCS1_SHA256, RSA_PKCS1_SHA384]
        );
        assert_eq!(m.certificate_authorities, vec![dn.to_vec()]);
        let f = m.fields();
        assert!(f.contains(&("authority", "CN=A".into())), "{f:?}");
        assert!(f.contains(&(
            "supported_signature_algorithms",
            "rsa_pkcs1_sha256, rsa_pkcs1_sha384".into()
        )));
        let mut w = Writer::new();
        m.encode(&mut w);
        assert_eq!(w.finish().unwrap(), b);
    }

    #[test]
    fn malformed_requests_are_decode_errors() {
        use crate::wire::alert::AlertDescription::DecodeError;
        for (b, why) in [
            (&[0, 0, 2, 4, 1, 0, 0][..], "no certificate types"),
            (&[1, 1, 0, 0, 0, 0][..], "no signature algorithms"),
            (
                &[1, 1, 0, 3, 4, 1, 5, 0, 0][..],
                "odd signature algorithm list",
            ),
            (
                &[1, 1, 0, 2, 4, 1, 0, 2, 0, 0][..],
                "an empty distinguished name",
            ),
            (
                &[1, 1, 0, 2, 4, 1, 0, 3, 0, 1][..],
                "a name running past its list",
            ),
            (&[1, 1, 0, 2, 4, 1, 0, 0, 9][..], "a byte after the message"),
            (&[1, 1, 0, 2, 4, 1][..], "no certificate_authorities at all"),
            (&[2, 1][..], "certificate types running past the end"),
        ] {
            let e = decode_request(b).unwrap_err();
            assert_eq!(e.alert(), Some(DecodeError), "{why}: {e}");
        }
        // The smallest well-formed request: one type, one algorithm, any CA.
        decode_request(&[1, 1, 0, 2, 4, 1, 0, 0]).unwrap();
    }

    #[test]
    fn certificate_verify_layout() {
        let m = CertificateVerify {
            algorithm: RSA_PKCS1_SHA512,
            signature: vec![0xaa, 0xbb],
        };
        let mut w = Writer::new();
        m.encode(&mut w);
        let b = w.finish().unwrap();
        assert_eq!(b, [6, 1, 0, 2, 0xaa, 0xbb]);
        assert_eq!(CertificateVerify::decode(&mut Reader::new(&b)).unwrap(), m);
        // An empty signature is well formed (and never verifies); a short one is not.
        CertificateVerify::decode(&mut Reader::new(&[4, 1, 0, 0])).unwrap();
        for b in [&[4, 1, 0, 3, 1][..], &[4, 1, 0][..], &[4, 1, 0, 0, 7][..]] {
            assert!(CertificateVerify::decode(&mut Reader::new(b)).is_err());
        }
        assert_eq!(m.fields()[0], ("algorithm", "rsa_pkcs1_sha512".into()));
        assert_eq!(SignatureScheme(0x0909).name(), "0x0909");
    }

    proptest! {
        #[test]
        fn certificate_request_round_trips(
            types in proptest::collection::vec(any::<u8>(), 1..5),
            algs in proptest::collection::vec(any::<u16>(), 1..8),
            cas in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..4),
        ) {
            let m = CertificateRequest {
                certificate_types: types,
                signature_algorithms: algs.into_iter().map(SignatureScheme).collect(),
                certificate_authorities: cas,
            };
            let mut w = Writer::new();
            m.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(decode_request(&b).unwrap(), m.clone());
            let _ = m.fields();
        }

        #[test]
        fn certificate_verify_round_trips(alg in any::<u16>(), sig in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = CertificateVerify { algorithm: SignatureScheme(alg), signature: sig };
            let mut w = Writer::new();
            m.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(CertificateVerify::decode(&mut Reader::new(&b)).unwrap(), m);
        }

        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(m) = decode_request(&b) {
                let _ = m.fields();
            }
            let _ = CertificateVerify::decode(&mut Reader::new(&b));
        }
    }
}
