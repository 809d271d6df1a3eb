//! What a client or a server needs to know before its first connection, shared by `Arc`.
//!
//! All randomness comes from the configured RNG and all time from the configured clock: with a
//! seeded RNG and a [`crate::clock::FixedClock`], a whole connection reproduces byte for byte
//! (the transcript in `spec/` is made that way). Each connection draws a 32-byte seed from the
//! shared RNG when it starts and then uses its own generator, so connections on different threads
//! do not contend for it.

use crate::clock::{Clock, SystemClock, UnixTime};
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::error::{Error, Result};
use crate::handshake::session::{ClientSessionStore, ServerSessionCache};
use crate::handshake::ticket::TicketKeys;
use crate::keylog::KeyLog;
use crate::record::suite;
use crate::trace::TraceSink;
use crate::wire::messages::CipherSuite;
use crate::x509::Certificate;
use crate::x509::error::CertError;
use crate::x509::verify::{verify_client_chain, verify_server_chain};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A random number generator that can be shared between threads.
pub type SharedRng = Mutex<Box<dyn rand::CryptoRng + Send>>;

/// A generator seeded from the operating system.
pub fn system_rng() -> SharedRng {
    Mutex::new(Box::new(StdRng::from_rng(&mut rand::rng())))
}

/// A generator whose output is fixed by `seed` (tests, demos, transcripts).
pub fn seeded_rng(seed: u64) -> SharedRng {
    Mutex::new(Box::new(StdRng::seed_from_u64(seed)))
}

/// A connection's own generator, seeded from the shared one.
pub(crate) fn connection_rng(shared: &SharedRng) -> StdRng {
    let mut seed = [0u8; 32];
    shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .fill_bytes(&mut seed);
    StdRng::from_seed(seed)
}

/// Whether a side uses the extended master secret (RFC 7627), which binds the master secret to
/// the whole handshake (see [`crate::handshake::keys`] for why). Both configs default to [`EmsMode::Enabled`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EmsMode {
    /// Never send the extension; a server ignores it (as a server that predates RFC 7627 would),
    /// a client neither offers it nor accepts it back. Sessions use the RFC 5246 master secret.
    /// For talking to legacy peers and for tests.
    Off,
    /// The client offers it in every ClientHello and the server echoes it when offered (RFC 7627
    /// 5.2). A peer that does not support it still gets a full handshake with the RFC 5246 master
    /// secret (5.2 allows it: "SHOULD abort ... if it does not wish to interoperate with legacy"
    /// peers; we do wish to).
    #[default]
    Enabled,
    /// As `Enabled`, but a peer without it is refused with `handshake_failure` (RFC 7627 5.2).
    Required,
}

/// Decides whether the server's certificate chain is acceptable for `host`, and if so returns the
/// RSA key the pre-master secret is encrypted to (the leaf's).
pub trait ServerCertVerifier: Send + Sync {
    fn verify(&self, chain: &[Vec<u8>], host: &str, now: UnixTime) -> Result<RsaPublicKey>;
}

/// The standard verifier: the chain must lead to one of `trust_anchors`, be valid at the time
/// of the handshake, and cover the host name (RFC 5280 6, RFC 6125 6; [`crate::x509::verify`]).
pub struct X509Verifier {
    pub trust_anchors: Vec<Certificate>,
}

impl ServerCertVerifier for X509Verifier {
    fn verify(&self, chain: &[Vec<u8>], host: &str, now: UnixTime) -> Result<RsaPublicKey> {
        verified_leaf_key(chain, "", |parsed| {
            verify_server_chain(parsed, &self.trust_anchors, host, now)
        })
    }
}

/// What every chain check here does around its own rule: parses `chain` (DER, leaf first), runs
/// `check` on it, and returns the leaf's key. A certificate error keeps its alert, its reason
/// prefixed with `whose` (empty for the server's chain).
pub(crate) fn verified_leaf_key(
    chain: &[Vec<u8>],
    whose: &str,
    check: impl FnOnce(&[Certificate]) -> std::result::Result<(), CertError>,
) -> Result<RsaPublicKey> {
    let cert_error = |e: CertError| Error::Certificate {
        reason: format!("{whose}{e}"),
        alert: e.alert(),
    };
    let parsed = chain
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(cert_error)?;
    check(&parsed).map_err(cert_error)?;
    // Every check refuses an empty chain, so the leaf exists.
    parsed
        .first()
        .map(|leaf| leaf.public_key().clone())
        .ok_or_else(|| Error::Internal("empty chain passed verification".into()))
}

/// A client's own certificate chain and key, sent when a server asks for them (RFC 5246 7.4.6).
pub struct ClientCertificate {
    /// The chain, the client's own certificate first, then intermediates.
    pub chain: Vec<Certificate>,
    /// The private key of the first certificate, which signs the CertificateVerify.
    pub private_key: RsaPrivateKey,
}

impl ClientCertificate {
    /// A chain (the client's own first) and the key of its first certificate.
    pub fn new(chain: Vec<Certificate>, private_key: RsaPrivateKey) -> Result<Self> {
        let leaf = chain.first().ok_or_else(|| {
            Error::Internal("a client certificate chain needs at least one certificate".into())
        })?;
        if leaf.public_key() != &private_key.public_key() {
            return Err(Error::Internal(
                "the private key does not belong to the client certificate".into(),
            ));
        }
        crate::x509::key::check_key_size(&private_key)
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(ClientCertificate { chain, private_key })
    }

    /// The chain in DER, as the Certificate message carries it.
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        self.chain.iter().map(|c| c.der().to_vec()).collect()
    }
}

/// Whether a server asks its clients for a certificate (RFC 5246 7.4.4), and which CAs it trusts
/// to issue them. The CAs' names go into the CertificateRequest, so that a client with several
/// certificates can pick the right one.
#[derive(Clone, Debug, Default)]
pub enum ClientAuth {
    /// No CertificateRequest: clients stay anonymous (the default, and the web's usual way).
    #[default]
    None,
    /// Ask; a client that sends no certificate is served anonymously, one that sends a chain
    /// must have it verify against `trust_anchors` and prove its key.
    Optional { trust_anchors: Vec<Certificate> },
    /// Ask, and refuse a client without a certificate with `handshake_failure` (RFC 5246 7.4.6).
    Required { trust_anchors: Vec<Certificate> },
}

impl ClientAuth {
    /// The CAs trusted for client certificates; none when no certificate is asked for.
    pub fn trust_anchors(&self) -> &[Certificate] {
        match self {
            ClientAuth::None => &[],
            ClientAuth::Optional { trust_anchors } | ClientAuth::Required { trust_anchors } => {
                trust_anchors
            }
        }
    }

    /// Verifies a client's chain (non-empty) as a client certificate at `now`
    /// ([`crate::x509::verify::verify_client_chain`]), and returns the key that must have signed
    /// the CertificateVerify.
    pub fn verify(&self, chain: &[Vec<u8>], now: UnixTime) -> Result<RsaPublicKey> {
        verified_leaf_key(chain, "client certificate: ", |parsed| {
            verify_client_chain(parsed, self.trust_anchors(), now).map(|_| ())
        })
    }
}

/// Client settings.
pub struct ClientConfig {
    /// Checks the server's chain and name.
    pub verifier: Arc<dyn ServerCertVerifier>,
    /// Suites offered, most preferred first.
    pub suites: Vec<CipherSuite>,
    /// Sessions remembered for resumption.
    pub sessions: ClientSessionStore,
    pub rng: SharedRng,
    pub clock: Arc<dyn Clock>,
    /// Where trace events go, if anywhere.
    pub trace: Option<Arc<dyn TraceSink>>,
    /// Where each connection's master secret is logged (`SSLKEYLOGFILE`), if anywhere.
    pub keylog: Option<Arc<dyn KeyLog>>,
    /// Time for the TCP connect and the whole handshake, in [`TlsStream::connect_tcp`] and
    /// [`TlsStream::connect_timed`] (`spec/limits.md`). A server that accepts and then stays
    /// silent or trickles bytes is given up on at this deadline.
    ///
    /// [`TlsStream::connect_tcp`]: crate::stream::TlsStream::connect_tcp
    /// [`TlsStream::connect_timed`]: crate::stream::TlsStream::connect_timed
    pub handshake_timeout: Duration,
    /// Longest wait for one read or write after the handshake, on the same connections.
    pub io_timeout: Duration,
    /// Offer the extended master secret (RFC 7627), and whether to insist on it.
    pub extended_master_secret: EmsMode,
    /// Our certificate and key, for a server that asks (RFC 5246 7.4.6); without one we answer
    /// a CertificateRequest with an empty Certificate.
    pub client_certificate: Option<Arc<ClientCertificate>>,
    /// Offer session tickets (RFC 5077): an empty session_ticket extension in every ClientHello,
    /// or the ticket the server gave us last time. On by default.
    pub session_tickets: bool,
    /// Application protocols to offer with ALPN (RFC 7301), most preferred first, e.g.
    /// `b"http/1.1"`; empty (the default): no ALPN extension. Each name is 1 to 255 bytes
    /// ([`crate::wire::messages::extensions::check_alpn_protocols`]).
    pub alpn_protocols: Vec<Vec<u8>>,
}

impl ClientConfig {
    /// A client that trusts servers whose chains lead to one of `trust_anchors` (see
    /// [`with_verifier`](Self::with_verifier) for the other defaults).
    pub fn new(trust_anchors: Vec<Certificate>) -> Self {
        ClientConfig::with_verifier(Arc::new(X509Verifier { trust_anchors }))
    }

    /// A client that accepts servers whose chains `verifier` accepts; system RNG and clock, the
    /// default suites, a session store for 64 servers, a 30 s handshake deadline and 30 s read
    /// and write timeouts, and the extended master secret offered.
    pub fn with_verifier(verifier: Arc<dyn ServerCertVerifier>) -> Self {
        ClientConfig {
            verifier,
            suites: suite::SUPPORTED.iter().map(|s| s.suite).collect(),
            sessions: ClientSessionStore::new(64),
            rng: system_rng(),
            clock: Arc::new(SystemClock),
            trace: None,
            keylog: None,
            // Longer than toytls's own server deadline (10 s), so that a client queued behind a
            // busy server's slots is not the side that gives up first.
            handshake_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(30),
            extended_master_secret: EmsMode::Enabled,
            client_certificate: None,
            session_tickets: true,
            alpn_protocols: Vec::new(),
        }
    }
}

/// Server settings.
pub struct ServerConfig {
    /// The server's certificate chain in DER, its own first.
    pub chain: Vec<Vec<u8>>,
    /// The private key of the first certificate.
    pub private_key: RsaPrivateKey,
    /// Suites accepted, in the server's order of preference (the server picks the first one the
    /// client also offers).
    pub suites: Vec<CipherSuite>,
    pub sessions: ServerSessionCache,
    pub rng: SharedRng,
    pub clock: Arc<dyn Clock>,
    pub trace: Option<Arc<dyn TraceSink>>,
    /// Where each connection's master secret is logged (`SSLKEYLOGFILE`), if anywhere.
    pub keylog: Option<Arc<dyn KeyLog>>,
    /// Answer a client's extended master secret offer (RFC 7627), and whether to insist on it.
    pub extended_master_secret: EmsMode,
    /// Whether to ask clients for a certificate, and whom to trust for them.
    pub client_auth: ClientAuth,
    /// The keys session tickets are sealed under (RFC 5077; [`TicketKeys`] says how they rotate),
    /// or `None` to issue no tickets and ignore the ones presented. On by default, with a key
    /// made at the first ticket and a new one every hour. Share one `Arc` between servers to let
    /// each resume the others' tickets.
    pub tickets: Option<Arc<TicketKeys>>,
    /// Application protocols we speak (ALPN, RFC 7301), in our order of preference: a client
    /// that offers some of them gets the first of ours it offers, one that offers only others
    /// gets `no_application_protocol`. Empty (the default): ALPN offers are ignored.
    pub alpn_protocols: Vec<Vec<u8>>,
}

impl ServerConfig {
    /// A server presenting `chain` (its own certificate first) with the first one's key.
    pub fn from_certificates(chain: &[Certificate], private_key: RsaPrivateKey) -> Result<Self> {
        if let Some(leaf) = chain.first()
            && leaf.public_key() != &private_key.public_key()
        {
            return Err(Error::Internal(
                "the private key does not belong to the server certificate".into(),
            ));
        }
        ServerConfig::new(
            chain.iter().map(|c| c.der().to_vec()).collect(),
            private_key,
        )
    }

    /// A server with this chain and key; system RNG and clock, the default suites, and a cache of
    /// 1024 sessions kept for at most an hour, session tickets valid for an hour under keys rotated
    /// hourly, and the extended master secret answered.
    pub fn new(chain: Vec<Vec<u8>>, private_key: RsaPrivateKey) -> Result<Self> {
        if chain.is_empty() {
            return Err(Error::Internal(
                "a server needs at least one certificate".into(),
            ));
        }
        crate::x509::key::check_key_size(&private_key)
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(ServerConfig::without_key_size_check(chain, private_key))
    }

    /// [`new`](Self::new) without the 2048-bit minimum, for the attack lab's weak-key server
    /// only ([`crate::lab::weak_key`], which says why it needs one).
    pub(crate) fn without_key_size_check(chain: Vec<Vec<u8>>, private_key: RsaPrivateKey) -> Self {
        ServerConfig {
            chain,
            private_key,
            suites: suite::SUPPORTED.iter().map(|s| s.suite).collect(),
            sessions: ServerSessionCache::new(1024, 3600),
            rng: system_rng(),
            clock: Arc::new(SystemClock),
            trace: None,
            keylog: None,
            extended_master_secret: EmsMode::Enabled,
            client_auth: ClientAuth::None,
            tickets: Some(Arc::new(TicketKeys::new(
                TicketKeys::DEFAULT_ROTATE_EVERY,
                TicketKeys::DEFAULT_LIFETIME,
            ))),
            alpn_protocols: Vec::new(),
        }
    }
}
