//! Finished (RFC 5246 7.4.9): proof that both sides hold the same master secret and saw the same
//! handshake.
//!
//! `verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..12]`, 12 bytes
//! for every suite toytls speaks (the computation is in [`crate::handshake::keys`]). It is the first message
//! protected under the new keys, so a man in the middle who altered any earlier message, or does
//! not know the pre-master secret, cannot produce it.

use super::hex;
use crate::error::Result;
use crate::wire::codec::{Reader, Writer};

/// Length of verify_data for all TLS 1.2 suites toytls speaks (RFC 5246 7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

impl Finished {
    pub fn encode(&self, w: &mut Writer) {
        w.bytes(&self.verify_data);
    }

    pub fn decode(r: &mut Reader) -> Result<Finished> {
        let verify_data = r.array()?;
        r.expect_empty()?;
        Ok(Finished { verify_data })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![("verify_data", hex(&self.verify_data))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_data_is_exactly_12_bytes() {
        assert!(Finished::decode(&mut Reader::new(&[0; 11])).is_err());
        assert!(Finished::decode(&mut Reader::new(&[0; 13])).is_err());
        let f = Finished::decode(&mut Reader::new(&[5; 12])).unwrap();
        let mut w = Writer::new();
        f.encode(&mut w);
        assert_eq!(w.finish().unwrap(), vec![5; 12]);
    }
}
