//! PEM (RFC 7468): DER in base64 between `-----BEGIN LABEL-----` and `-----END LABEL-----` lines.
//!
//! A file may hold several blocks (a chain: leaf first, then the CA) and text between them (OpenSSL
//! writes readable dumps there); text outside blocks is ignored. Inside a block only base64 lines
//! are allowed: RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, an encrypted key) are refused with a
//! message saying so. Labels toytls reads: `CERTIFICATE`, `PRIVATE KEY` (PKCS #8) and
//! `RSA PRIVATE KEY` (PKCS #1).

use super::base64;
use super::cert::Certificate;
use super::error::CertError;
use super::key;
use crate::crypto::rsa::RsaPrivateKey;
use zeroize::{Zeroize, Zeroizing};

/// One `-----BEGIN label-----` ... `-----END label-----` block, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Finds and decodes every PEM block in `text`, in order.
///
/// A block may be a private key, so its base64 is gathered into one buffer of the exact size
/// (no reallocation leaves copies behind) and wiped once decoded. The decoded DER is the caller's
/// to wipe ([`super::key::parse_pem_components`] does).
pub fn parse_blocks(text: &str) -> Result<Vec<PemBlock>, CertError> {
    let mut blocks = Vec::new();
    let result = read_blocks(text, &mut blocks);
    if result.is_err() {
        // A key block before the faulty one must not linger either.
        for block in &mut blocks {
            block.der.as_mut_slice().zeroize();
        }
    }
    result.map(|()| blocks)
}

fn read_blocks(text: &str, blocks: &mut Vec<PemBlock>) -> Result<(), CertError> {
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let line = line.trim_end();
        let Some(label) = line
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(DASHES))
        else {
            continue;
        };
        let mut body_lines = Vec::new();
        let mut ended = false;
        for (number, line) in lines.by_ref() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix(END) {
                if rest.strip_suffix(DASHES) != Some(label) {
                    return Err(CertError::Pem(format!(
                        "line {}: block '{label}' ends with '{line}'",
                        number + 1
                    )));
                }
                ended = true;
                break;
            }
            if line.contains(':') {
                return Err(CertError::Pem(format!(
                    "line {}: PEM headers (an encrypted key?) are not supported",
                    number + 1
                )));
            }
            body_lines.push(line);
        }
        if !ended {
            return Err(CertError::Pem(format!("block '{label}' has no END line")));
        }
        let mut body = Vec::with_capacity(body_lines.iter().map(|l| l.len()).sum());
        for line in body_lines {
            body.extend(line.bytes().filter(|b| !b.is_ascii_whitespace()));
        }
        let der = base64::decode(&body);
        body.zeroize();
        let der = der.map_err(|e| CertError::Pem(format!("block '{label}': {e}")))?;
        blocks.push(PemBlock {
            label: label.to_string(),
            der,
        });
    }
    Ok(())
}

/// Wraps DER in a PEM block with 64-character lines (RFC 7468 2). The output is allocated at
/// its final size and the intermediate base64 wiped, so encoding a private key leaves no copies.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(base64::encode(der));
    let begin = format!("{BEGIN}{label}{DASHES}\n");
    let end = format!("{END}{label}{DASHES}\n");
    let lines = b64.len().div_ceil(64);
    let mut out = String::with_capacity(begin.len() + b64.len() + lines + end.len());
    out.push_str(&begin);
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so any split is on a character boundary.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&end);
    out
}

/// Every `CERTIFICATE` block in `pem`, parsed, in file order (for a chain: the leaf first). Blocks
/// with other labels are skipped; a file without any certificate is an error.
pub fn parse_certificates(pem: &str) -> Result<Vec<Certificate>, CertError> {
    let certs = parse_blocks(pem)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| Certificate::from_der(&b.der))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    Ok(certs)
}

/// A certificate as a PEM `CERTIFICATE` block.
pub fn encode_certificate(cert: &Certificate) -> String {
    encode("CERTIFICATE", cert.der())
}

/// The first private key in `pem` (`PRIVATE KEY`, PKCS #8, or `RSA PRIVATE KEY`, PKCS #1), ready
/// to use. Every copy of the key made on the way (base64, DER, integers) is wiped; `pem` itself
/// is the caller's (read it into a `Zeroizing<String>`).
pub fn parse_private_key(pem: &str) -> Result<RsaPrivateKey, CertError> {
    key::private_key_from_components(&key::parse_pem_components(pem)?)
}

/// A private key as a PKCS #8 `PRIVATE KEY` PEM block (the form `openssl genpkey` writes), wiped
/// when dropped.
pub fn encode_private_key_pkcs8(private_key: &RsaPrivateKey) -> Zeroizing<String> {
    Zeroizing::new(encode("PRIVATE KEY", &key::pkcs8_der(private_key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_with_text_around() {
        let der: Vec<u8> = (0..200u8).collect();
        let text = format!(
            "Subject: something\n{}between\n{}",
            encode("CERTIFICATE", &der),
            encode("PRIVATE KEY", &[1, 2, 3])
        );
        let blocks = parse_blocks(&text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert_eq!(blocks[0].der, der);
        assert_eq!(blocks[1].label, "PRIVATE KEY");
        assert_eq!(blocks[1].der, [1, 2, 3]);
        // Lines are at most 64 characters.
        assert!(
            text.lines()
                .all(|l| l.len() <= 64 || l.starts_with("-----"))
        );
    }

    #[test]
    fn crlf_line_endings() {
        let text = encode("X", b"hello world").replace('\n', "\r\n");
        assert_eq!(parse_blocks(&text).unwrap()[0].der, b"hello world");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_blocks("-----BEGIN X-----\naGk=\n"),
            Err(CertError::Pem(_))
        ));
        assert!(matches!(
            parse_blocks("-----BEGIN X-----\naGk=\n-----END Y-----\n"),
            Err(CertError::Pem(_))
        ));
        assert!(matches!(
            parse_blocks("-----BEGIN X-----\naGk\n-----END X-----\n"),
            Err(CertError::Pem(_))
        ));
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\naGk=\n-----END RSA PRIVATE KEY-----\n";
        let err = parse_blocks(encrypted).unwrap_err();
        assert!(err.to_string().contains("encrypted"), "{err}");
        assert!(matches!(
            parse_certificates("no pem here"),
            Err(CertError::NoCertificate)
        ));
    }
}
