//! ServerHelloDone (RFC 5246 7.4.5) and the RSA ClientKeyExchange (RFC 5246 7.4.7.1).
//!
//! With RSA key transport the server sends no ServerKeyExchange: its certificate's public key is
//! the key the client encrypts the pre-master secret to. The client's message is that ciphertext,
//! `opaque encrypted_pre_master_secret<0..2^16-1>` (the 2-byte length TLS 1.0 and later use).

use super::hex;
use crate::error::Result;
use crate::wire::codec::{Reader, Writer};

/// "I have sent everything for this part of the handshake" (empty body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHelloDone;

impl ServerHelloDone {
    pub fn encode(&self, _w: &mut Writer) {}

    pub fn decode(r: &mut Reader) -> Result<ServerHelloDone> {
        r.expect_empty()?;
        Ok(ServerHelloDone)
    }
}

/// The RSA-encrypted pre-master secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKeyExchange {
    /// PKCS#1 v1.5 ciphertext of the 48-byte pre-master secret, as long as the RSA modulus.
    pub encrypted_pre_master: Vec<u8>,
}

impl ClientKeyExchange {
    pub fn encode(&self, w: &mut Writer) {
        w.u16_prefixed(|w| w.bytes(&self.encrypted_pre_master));
    }

    pub fn decode(r: &mut Reader) -> Result<ClientKeyExchange> {
        let encrypted_pre_master = r.u16_prefixed()?.rest().to_vec();
        r.expect_empty()?;
        Ok(ClientKeyExchange {
            encrypted_pre_master,
        })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![(
            "encrypted_pre_master_secret",
            hex(&self.encrypted_pre_master),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn length_prefix_must_match() {
        assert!(ClientKeyExchange::decode(&mut Reader::new(&[0, 3, 1, 2])).is_err());
        assert!(ClientKeyExchange::decode(&mut Reader::new(&[0, 1, 1, 2])).is_err());
        assert_eq!(
            ClientKeyExchange::decode(&mut Reader::new(&[0, 2, 1, 2])).unwrap(),
            ClientKeyExchange {
                encrypted_pre_master: vec![1, 2]
            }
        );
    }

    proptest! {
        #[test]
        fn client_key_exchange_round_trips(ct in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = ClientKeyExchange { encrypted_pre_master: ct };
            let mut w = Writer::new();
            m.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(b.len(), m.encrypted_pre_master.len() + 2);
            prop_assert_eq!(ClientKeyExchange::decode(&mut Reader::new(&b)).unwrap(), m);
        }
    }
}
