//! X.509 certificates: how a TLS server proves who it is (RFC 5280), parsed, built and verified by
//! toytls' own code.
//!
//! In the handshake, the server's Certificate message (RFC 5246 7.4.2) carries its certificate and
//! the intermediate CA certificates above it. A certificate binds a name (`CN=localhost`, and the
//! host names in subjectAltName) to an RSA public key, for a period of time, and is signed by its
//! issuer. The client believes the binding only if it can follow the signatures from the server's
//! certificate up to a CA it already trusts, every certificate on the way is valid now and allowed
//! to do what it does, and the name is the one it asked for. Only then does it encrypt the
//! pre-master secret to that key: someone who cannot produce such a chain for the name gets
//! nothing they can decrypt.
//!
//! The story, file by file:
//! - [`der`] reads DER, the byte format of certificates and keys; [`der_write`] writes it.
//! - [`pem`] and [`base64`] unwrap and wrap the `-----BEGIN CERTIFICATE-----` text form.
//! - [`cert`] turns DER into a [`Certificate`]: names ([`name`]), validity ([`time`]), the RSA
//!   public key, and [`extensions`].
//! - [`verify`] decides whether a server's chain can be believed (and a client's, when a server
//!   asks for one), [`name_constraints`] whether
//!   each CA on it may vouch for the names below it, and [`hostname`] whether it is for the host
//!   the client asked for.
//! - [`key`] reads and writes RSA private key files (PKCS #1, PKCS #8).
//! - [`builder`] makes a CA, and server and client certificates signed by it.
//! - [`oid`] lists the object identifiers toytls knows.
//! - [`error`] says what went wrong, and which TLS alert that is.
//!
//! The entry points: [`Certificate::from_der`] (a pure `&[u8] -> Result`, also the `x509` fuzz
//! target's), [`pem::parse_certificates`], [`pem::parse_private_key`],
//! [`verify::verify_server_chain`] / [`verify::verify_client_chain`], and [`builder::generate_ca`] /
//! [`builder::issue_server_cert`] / [`builder::issue_client_cert`].
//!
//! Every parser here is bounds-checked, returns an error instead of panicking, and allocates no
//! more than its input justifies: they face bytes from the network.

pub mod base64;
pub mod builder;
pub mod cert;
pub mod der;
pub mod der_write;
pub mod error;
pub mod extensions;
pub mod hostname;
pub mod key;
pub mod name;
pub mod name_constraints;
pub mod oid;
pub mod pem;
pub mod time;
pub mod verify;

pub use cert::Certificate;
pub use error::CertError;
