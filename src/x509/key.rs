//! RSA private key files: PKCS #1 and PKCS #8, as `openssl genrsa`, `openssl genpkey` and
//! `openssl req -newkey` write them.
//!
//! ```text
//! -- PKCS #1 (RFC 8017 A.1.2), PEM label "RSA PRIVATE KEY" (openssl genrsa -traditional):
//! RSAPrivateKey ::= SEQUENCE { version INTEGER (0), modulus, publicExponent, privateExponent,
//!                              prime1, prime2, exponent1, exponent2, coefficient  -- all INTEGER }
//! -- PKCS #8 (RFC 5208 5 / RFC 5958 2), PEM label "PRIVATE KEY" (OpenSSL 3's default):
//! PrivateKeyInfo ::= SEQUENCE { version INTEGER (0 or 1), privateKeyAlgorithm AlgorithmIdentifier,
//!                               privateKey OCTET STRING -- holding RSAPrivateKey for RSA,
//!                               attributes [0] IMPLICIT ... OPTIONAL, publicKey [1] ... OPTIONAL }
//! ```
//!
//! Keys are read into [`RsaPrivateComponents`] (big-endian integers, wiped on drop) and handed to
//! [`crate::crypto::rsa`]. Multi-prime keys (version 1 of PKCS #1) and encrypted PKCS #8 files are
//! refused with a message saying so.

use super::der::{DerError, Reader, tag};
use super::der_write::Writer;
use super::error::CertError;
use super::oid;
use crate::crypto::rsa::{RsaPrivateComponents, RsaPrivateKey};
use zeroize::{Zeroize, Zeroizing};

fn malformed(what: &'static str) -> impl Fn(DerError) -> CertError {
    move |e| CertError::Key(format!("malformed {what}: {e}"))
}

/// Parses a PKCS #1 `RSAPrivateKey`.
pub fn parse_pkcs1(der: &[u8]) -> Result<RsaPrivateComponents, CertError> {
    let m = malformed("PKCS #1 RSA private key");
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence().map_err(&m)?;
    outer.finish().map_err(&m)?;
    match seq.small_u64().map_err(&m)? {
        0 => {}
        1 => {
            return Err(CertError::Key(
                "multi-prime RSA keys are not supported".into(),
            ));
        }
        v => return Err(CertError::Key(format!("unknown PKCS #1 key version {v}"))),
    }
    let mut next = || seq.unsigned_integer().map(|v| v.to_vec()).map_err(&m);
    let key = RsaPrivateComponents {
        n: next()?,
        e: next()?,
        d: next()?,
        p: next()?,
        q: next()?,
        dp: next()?,
        dq: next()?,
        qinv: next()?,
    };
    seq.finish().map_err(&m)?;
    Ok(key)
}

/// Parses a PKCS #8 `PrivateKeyInfo` holding an RSA key.
pub fn parse_pkcs8(der: &[u8]) -> Result<RsaPrivateComponents, CertError> {
    let m = malformed("PKCS #8 private key");
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence().map_err(&m)?;
    outer.finish().map_err(&m)?;
    let version = seq.small_u64().map_err(&m)?;
    if version > 1 {
        return Err(CertError::Key(format!("unknown PKCS #8 version {version}")));
    }
    let mut alg = seq.sequence().map_err(&m)?;
    let alg_oid = alg.oid().map_err(&m)?;
    if alg_oid != oid::RSA_ENCRYPTION {
        return Err(CertError::Key(format!(
            "the key is {}, not RSA; toytls supports only RSA keys",
            oid::describe(alg_oid)
        )));
    }
    if !alg.is_empty() {
        alg.null().map_err(&m)?;
    }
    alg.finish().map_err(&m)?;
    let inner = seq.octet_string().map_err(&m)?;
    // attributes [0] and (v2) publicKey [1] are allowed and not needed.
    seq.read_optional(tag::CONTEXT | tag::CONSTRUCTED)
        .map_err(&m)?;
    seq.read_optional(tag::implicit(1)).map_err(&m)?;
    seq.finish().map_err(&m)?;
    parse_pkcs1(inner)
}

/// Room for a DER SEQUENCE of `parts` INTEGERs of these sizes: each needs at most a tag, a 5-byte
/// length and a leading zero; the SEQUENCE a tag and a 5-byte length.
fn der_room(sizes: impl Iterator<Item = usize>) -> usize {
    sizes.map(|n| n + 7).sum::<usize>() + 6
}

/// Writes a PKCS #1 `RSAPrivateKey`, in one buffer allocated up front (see
/// [`Writer::with_capacity`]).
pub fn encode_pkcs1(key: &RsaPrivateComponents) -> Vec<u8> {
    let parts = [
        &key.n, &key.e, &key.d, &key.p, &key.q, &key.dp, &key.dq, &key.qinv,
    ];
    let mut w = Writer::with_capacity(der_room(parts.iter().map(|v| v.len())) + 3);
    w.sequence(|w| {
        w.small_integer(0);
        for v in parts {
            w.unsigned_integer(v);
        }
    });
    w.into_bytes()
}

/// Writes a PKCS #8 `PrivateKeyInfo` (version 0) holding the PKCS #1 key.
pub fn encode_pkcs8(key: &RsaPrivateComponents) -> Vec<u8> {
    let mut pkcs1 = encode_pkcs1(key);
    // The version, the algorithm (about 15 bytes) and the OCTET STRING header around PKCS #1.
    let mut w = Writer::with_capacity(pkcs1.len() + 64);
    w.sequence(|w| {
        w.small_integer(0);
        w.sequence(|w| {
            w.oid(oid::RSA_ENCRYPTION);
            w.null();
        });
        w.octet_string(&pkcs1);
    });
    pkcs1.zeroize();
    w.into_bytes()
}

/// Turns parsed integers into a usable key; the RSA module re-derives the CRT values and checks
/// that the numbers really form a key.
pub fn private_key_from_components(key: &RsaPrivateComponents) -> Result<RsaPrivateKey, CertError> {
    RsaPrivateKey::from_be_bytes(&key.n, &key.e, &key.d, &key.p, &key.q)
        .map_err(|e| CertError::Key(e.to_string()))
}

/// Refuses a private key whose RSA modulus is under [`super::verify::MIN_RSA_BITS`]: a server
/// with it would be refused by clients (toytls' own, OpenSSL's at its default level), and
/// whoever factors it decrypts every session; a CA with it can be impersonated.
/// `ServerConfig` construction and `toytls cert issue` call this.
pub fn check_key_size(key: &RsaPrivateKey) -> Result<(), CertError> {
    let bits = key.public_key().bits();
    let min = super::verify::MIN_RSA_BITS;
    if bits < min {
        return Err(CertError::WeakPrivateKey { bits, min });
    }
    Ok(())
}

/// A private key as PKCS #8 DER (wiped when dropped).
pub fn pkcs8_der(key: &RsaPrivateKey) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(encode_pkcs8(&key.components()))
}

/// Parses a private key from DER, PKCS #8 or PKCS #1 (tried in that order).
pub fn private_key_from_der(der: &[u8]) -> Result<RsaPrivateKey, CertError> {
    let components = parse_pkcs8(der).or_else(|e8| parse_pkcs1(der).map_err(|_| e8))?;
    private_key_from_components(&components)
}

/// Reads the first private key in a PEM file: `PRIVATE KEY` (PKCS #8) or `RSA PRIVATE KEY`
/// (PKCS #1). Encrypted keys (`ENCRYPTED PRIVATE KEY`) are refused. The decoded DER of every
/// block is wiped before returning.
pub fn parse_pem_components(pem: &str) -> Result<RsaPrivateComponents, CertError> {
    let mut blocks = super::pem::parse_blocks(pem)?;
    key_from_blocks(&mut blocks)
}

/// The key of the first key block, leaving every block's DER bytes zeroed.
fn key_from_blocks(blocks: &mut [super::pem::PemBlock]) -> Result<RsaPrivateComponents, CertError> {
    let result = first_key(blocks);
    for block in blocks.iter_mut() {
        // In place, length kept: the bytes themselves are what must not survive.
        block.der.as_mut_slice().zeroize();
    }
    result
}

fn first_key(blocks: &[super::pem::PemBlock]) -> Result<RsaPrivateComponents, CertError> {
    for block in blocks {
        match block.label.as_str() {
            "PRIVATE KEY" => return parse_pkcs8(&block.der),
            "RSA PRIVATE KEY" => return parse_pkcs1(&block.der),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(CertError::Key(
                    "encrypted private keys are not supported; decrypt it with `openssl pkey`"
                        .into(),
                ));
            }
            _ => {}
        }
    }
    Err(CertError::Key(
        "no 'PRIVATE KEY' or 'RSA PRIVATE KEY' block found".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RsaPrivateComponents {
        RsaPrivateComponents {
            n: vec![0xc5, 1, 2, 3],
            e: vec![1, 0, 1],
            d: vec![0x80, 9],
            p: vec![7],
            q: vec![0xff],
            dp: vec![5],
            dq: vec![6],
            qinv: vec![0x42],
        }
    }

    #[test]
    fn pkcs1_and_pkcs8_round_trip() {
        let key = sample();
        assert_eq!(parse_pkcs1(&encode_pkcs1(&key)).unwrap(), key);
        assert_eq!(parse_pkcs8(&encode_pkcs8(&key)).unwrap(), key);
        // A PKCS #1 key is not a PKCS #8 key and vice versa.
        assert!(parse_pkcs8(&encode_pkcs1(&key)).is_err());
        assert!(parse_pkcs1(&encode_pkcs8(&key)).is_err());
    }

    #[test]
    fn refuses_other_algorithms_and_versions() {
        let ec = Writer::build(|w| {
            w.sequence(|w| {
                w.small_integer(0);
                w.sequence(|w| {
                    w.oid(oid::EC_PUBLIC_KEY);
                    w.oid(oid::PRIME256V1);
                });
                w.octet_string(&[0x30, 0x00]);
            })
        });
        let err = parse_pkcs8(&ec).unwrap_err();
        assert!(err.to_string().contains("id-ecPublicKey"), "{err}");
        let multi = Writer::build(|w| {
            w.sequence(|w| {
                w.small_integer(1);
            })
        });
        assert!(
            parse_pkcs1(&multi)
                .unwrap_err()
                .to_string()
                .contains("multi-prime")
        );
    }

    #[test]
    fn key_encodings_are_written_in_one_buffer() {
        // A buffer that never grew was allocated once: no freed copy of the key exists.
        let key = sample();
        let pkcs1 = encode_pkcs1(&key);
        let room = der_room(
            [
                &key.n, &key.e, &key.d, &key.p, &key.q, &key.dp, &key.dq, &key.qinv,
            ]
            .iter()
            .map(|v| v.len()),
        ) + 3;
        assert_eq!(pkcs1.capacity(), room);
        let pkcs8 = encode_pkcs8(&key);
        assert_eq!(pkcs8.capacity(), pkcs1.len() + 64);
        assert_eq!(parse_pkcs8(&pkcs8).unwrap(), key);
    }

    #[test]
    fn parsing_a_pem_key_wipes_the_decoded_der() {
        let pem = super::super::pem::encode("PRIVATE KEY", &encode_pkcs8(&sample()));
        let mut blocks = super::super::pem::parse_blocks(&pem).unwrap();
        assert!(blocks[0].der.iter().any(|&b| b != 0));
        let len = blocks[0].der.len();
        assert_eq!(key_from_blocks(&mut blocks).unwrap(), sample());
        assert_eq!(blocks[0].der.len(), len);
        assert!(blocks[0].der.iter().all(|&b| b == 0));
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!("{:?}", sample());
        assert!(
            !shown.contains("[128, 9]") && shown.contains("hidden"),
            "{shown}"
        );
    }
}
