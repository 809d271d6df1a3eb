//! ClientHello and ServerHello (RFC 5246 7.4.1.2 and 7.4.1.3): the negotiation.
//!
//! The client says which version it speaks, sends its random, optionally a session ID to resume,
//! and lists the suites and compression methods it accepts in its order of preference. The server
//! answers with one choice of each, its own random, and the session ID it will use.

use super::extensions::{self, Extension};
use super::{CipherSuite, ProtocolVersion, Random, SessionId, hex};
use crate::error::{Error, Result};
use crate::wire::codec::{Reader, Writer};

/// The null compression method, the only one toytls (and RFC 5246 7.4.1.2) requires.
pub const COMPRESSION_NULL: u8 = 0;

/// RFC 5246 7.4.1.2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    /// The highest version the client speaks; also the first two bytes of the pre-master secret.
    pub client_version: ProtocolVersion,
    pub random: Random,
    /// Empty, or the ID of a session the client wants to resume.
    pub session_id: SessionId,
    /// `CipherSuite cipher_suites<2..2^16-2>`, client's preference first.
    pub cipher_suites: Vec<CipherSuite>,
    /// `CompressionMethod compression_methods<1..2^8-1>`.
    pub compression_methods: Vec<u8>,
    /// `None` when the hello ends after compression_methods.
    pub extensions: Option<Vec<Extension>>,
}

impl ClientHello {
    pub fn encode(&self, w: &mut Writer) {
        w.u16(self.client_version.0);
        w.bytes(&self.random.0);
        self.session_id.encode(w);
        w.u16_prefixed(|w| {
            for s in &self.cipher_suites {
                w.u16(s.0);
            }
        });
        w.u8_prefixed(|w| w.bytes(&self.compression_methods));
        extensions::encode_extensions(w, &self.extensions);
    }

    pub fn decode(r: &mut Reader) -> Result<ClientHello> {
        let client_version = ProtocolVersion(r.u16()?);
        let random = Random(r.array()?);
        let session_id = SessionId::decode(r)?;
        let mut suites = r.u16_prefixed()?;
        if suites.remaining() < 2 || suites.remaining() % 2 != 0 {
            return Err(Error::decode(
                "ClientHello",
                "cipher_suites must hold at least one 2-byte suite",
            ));
        }
        let mut cipher_suites = Vec::with_capacity(suites.remaining() / 2);
        while !suites.is_empty() {
            cipher_suites.push(CipherSuite(suites.u16()?));
        }
        let compression_methods = r.u8_prefixed()?.rest().to_vec();
        if compression_methods.is_empty() {
            return Err(Error::decode(
                "ClientHello",
                "compression_methods must not be empty",
            ));
        }
        let extensions = extensions::decode_extensions(r)?;
        r.expect_empty()?;
        Ok(ClientHello {
            client_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// The host name from server_name, if the client sent one.
    pub fn server_name(&self) -> Result<Option<String>> {
        match extensions::find(&self.extensions, extensions::SERVER_NAME) {
            Some(e) => Extension::parse_server_name(&e.data),
            None => Ok(None),
        }
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let suites: Vec<String> = self.cipher_suites.iter().map(|s| s.name()).collect();
        let mut f = vec![
            ("client_version", self.client_version.to_string()),
            ("random", hex(&self.random.0)),
            ("session_id", hex(self.session_id.as_slice())),
            ("cipher_suites", suites.join(", ")),
            ("compression_methods", hex(&self.compression_methods)),
        ];
        if let Ok(Some(name)) = self.server_name() {
            f.push(("server_name", name));
        }
        if let Some(exts) = &self.extensions {
            let types: Vec<String> = exts
                .iter()
                .map(|e| extensions::extension_name(e.typ))
                .collect();
            f.push(("extensions", types.join(", ")));
        }
        f
    }
}

/// RFC 5246 7.4.1.3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub server_version: ProtocolVersion,
    pub random: Random,
    /// The ID under which the server caches this session; equal to the client's to resume it.
    pub session_id: SessionId,
    pub cipher_suite: CipherSuite,
    pub compression_method: u8,
    pub extensions: Option<Vec<Extension>>,
}

impl ServerHello {
    pub fn encode(&self, w: &mut Writer) {
        w.u16(self.server_version.0);
        w.bytes(&self.random.0);
        self.session_id.encode(w);
        w.u16(self.cipher_suite.0);
        w.u8(self.compression_method);
        extensions::encode_extensions(w, &self.extensions);
    }

    pub fn decode(r: &mut Reader) -> Result<ServerHello> {
        let server_version = ProtocolVersion(r.u16()?);
        let random = Random(r.array()?);
        let session_id = SessionId::decode(r)?;
        let cipher_suite = CipherSuite(r.u16()?);
        let compression_method = r.u8()?;
        let extensions = extensions::decode_extensions(r)?;
        r.expect_empty()?;
        Ok(ServerHello {
            server_version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("server_version", self.server_version.to_string()),
            ("random", hex(&self.random.0)),
            ("session_id", hex(self.session_id.as_slice())),
            ("cipher_suite", self.cipher_suite.name()),
            ("compression_method", self.compression_method.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies;
    use super::*;
    use proptest::prelude::*;

    fn sample_client_hello() -> ClientHello {
        ClientHello {
            client_version: ProtocolVersion::TLS12,
            random: Random([0x11; 32]),
            session_id: SessionId::EMPTY,
            cipher_suites: vec![CipherSuite(0xff01), CipherSuite(0x009c)],
            compression_methods: vec![0],
            extensions: Some(vec![Extension::server_name("localhost")]),
        }
    }

    #[test]
    fn client_hello_bytes_are_as_rfc_5246_lays_them_out() {
        let mut w = Writer::new();
        sample_client_hello().encode(&mut w);
        let b = w.finish().unwrap();
        assert_eq!(&b[..2], &[3, 3]);
        assert_eq!(&b[2..34], &[0x11; 32]);
        assert_eq!(b[34], 0); // empty session id
        assert_eq!(&b[35..41], &[0, 4, 0xff, 0x01, 0x00, 0x9c]);
        assert_eq!(&b[41..43], &[1, 0]);
        assert_eq!(&b[43..45], &[0, 18]); // extensions block: 4 + 14
        let h = ClientHello::decode(&mut Reader::new(&b)).unwrap();
        assert_eq!(h.server_name().unwrap().as_deref(), Some("localhost"));
    }

    #[test]
    fn client_hello_without_suites_or_compression_is_rejected() {
        let mut h = sample_client_hello();
        h.cipher_suites.clear();
        let mut w = Writer::new();
        h.encode(&mut w);
        assert!(ClientHello::decode(&mut Reader::new(&w.finish().unwrap())).is_err());

        let mut h = sample_client_hello();
        h.compression_methods.clear();
        let mut w = Writer::new();
        h.encode(&mut w);
        assert!(ClientHello::decode(&mut Reader::new(&w.finish().unwrap())).is_err());
    }

    #[test]
    fn odd_cipher_suite_length_is_rejected() {
        let mut w = Writer::new();
        sample_client_hello().encode(&mut w);
        let mut b = w.finish().unwrap();
        b[36] = 3; // cipher_suites length 4 -> 3
        assert!(ClientHello::decode(&mut Reader::new(&b)).is_err());
    }

    #[test]
    fn every_truncation_of_a_hello_is_an_error() {
        let mut w = Writer::new();
        sample_client_hello().encode(&mut w);
        let b = w.finish().unwrap();
        for n in 0..b.len() {
            // Cutting exactly before the extensions block leaves a valid hello without them.
            if n == 43 {
                continue;
            }
            assert!(
                ClientHello::decode(&mut Reader::new(&b[..n])).is_err(),
                "prefix of {n} bytes decoded"
            );
        }
    }

    proptest! {
        #[test]
        fn client_hello_round_trips(
            v in any::<u16>(), random in any::<[u8; 32]>(), sid in strategies::session_id(),
            suites in proptest::collection::vec(any::<u16>(), 1..40),
            comp in proptest::collection::vec(any::<u8>(), 1..4),
            exts in strategies::extensions(),
        ) {
            let h = ClientHello {
                client_version: ProtocolVersion(v), random: Random(random), session_id: sid,
                cipher_suites: suites.into_iter().map(CipherSuite).collect(),
                compression_methods: comp, extensions: exts,
            };
            let mut w = Writer::new();
            h.encode(&mut w);
            let b = w.finish().unwrap();
            let back = ClientHello::decode(&mut Reader::new(&b)).unwrap();
            prop_assert_eq!(&back, &h);
            let mut w2 = Writer::new();
            back.encode(&mut w2);
            prop_assert_eq!(w2.finish().unwrap(), b);
        }

        #[test]
        fn server_hello_round_trips(
            v in any::<u16>(), random in any::<[u8; 32]>(), sid in strategies::session_id(),
            suite in any::<u16>(), comp in any::<u8>(), exts in strategies::extensions(),
        ) {
            let h = ServerHello {
                server_version: ProtocolVersion(v), random: Random(random), session_id: sid,
                cipher_suite: CipherSuite(suite), compression_method: comp, extensions: exts,
            };
            let mut w = Writer::new();
            h.encode(&mut w);
            let b = w.finish().unwrap();
            prop_assert_eq!(ServerHello::decode(&mut Reader::new(&b)).unwrap(), h);
        }

        #[test]
        fn hello_decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = ClientHello::decode(&mut Reader::new(&b));
            let _ = ServerHello::decode(&mut Reader::new(&b));
        }
    }
}
