//! Certificate (RFC 5246 7.4.2): the server's chain, leaf first, each certificate in DER.
//!
//! `opaque ASN.1Cert<1..2^24-1>; struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;`
//! The message carries bytes only; [`crate::x509`] gives them meaning when the client verifies them.

use super::hex;
use crate::error::{Error, Result};
use crate::wire::codec::{Reader, Writer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateMsg {
    /// DER certificates, the server's own first, each following one certifying the one before.
    pub chain: Vec<Vec<u8>>,
}

impl CertificateMsg {
    pub fn encode(&self, w: &mut Writer) {
        w.u24_prefixed(|w| {
            for c in &self.chain {
                w.u24_prefixed(|w| w.bytes(c));
            }
        });
    }

    pub fn decode(r: &mut Reader) -> Result<CertificateMsg> {
        let mut list = r.u24_prefixed()?;
        r.expect_empty()?;
        let mut chain = Vec::new();
        while !list.is_empty() {
            let cert = list.u24_prefixed()?.rest();
            if cert.is_empty() {
                return Err(Error::decode(
                    "Certificate",
                    "an empty certificate in the chain",
                ));
            }
            chain.push(cert.to_vec());
        }
        Ok(CertificateMsg { chain })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![("certificates", self.chain.len().to_string())];
        for c in &self.chain {
            f.push((
                "der",
                format!("{} bytes, {}...", c.len(), hex(&c[..c.len().min(16)])),
            ));
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_certificate_entries_are_rejected() {
        assert!(CertificateMsg::decode(&mut Reader::new(&[0, 0, 3, 0, 0, 0])).is_err());
        // An empty chain is well-formed (the client then refuses it as "no certificate").
        assert_eq!(
            CertificateMsg::decode(&mut Reader::new(&[0, 0, 0])).unwrap(),
            CertificateMsg { chain: vec![] }
        );
        // An inner length that runs past the outer one.
        assert!(CertificateMsg::decode(&mut Reader::new(&[0, 0, 4, 0, 0, 2, 1])).is_err());
    }

    proptest! {
        #[test]
        fn certificate_round_trips(chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..4)) {
            let m = CertificateMsg { chain };
            let mut w = Writer::new();
            m.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(CertificateMsg::decode(&mut Reader::new(&b)).unwrap(), m);
        }

        #[test]
        fn certificate_decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = CertificateMsg::decode(&mut Reader::new(&b));
        }
    }
}
