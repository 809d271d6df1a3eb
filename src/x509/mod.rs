//! X.509 certificates: how a TLS server proves who it is (RFC 5280), parsed, built and verified by
//! toytls' own code.
//!
//! The story, file by file:
//! - [`der`] reads DER, the byte format of certificates and keys; [`der_write`] writes it.
//! - [`pem`] and [`base64`] unwrap and wrap the `-----BEGIN CERTIFICATE-----` text form.
//! - [`cert`] turns DER into a [`Certificate`]: names ([`name`]), validity ([`time`]), the RSA
//!   public key, and [`extensions`].
//! - [`verify`] decides whether a server's chain can be believed, and [`hostname`] whether it is
//!   for the host the client asked for.
//! - [`key`] reads and writes RSA private key files (PKCS #1, PKCS #8).
//! - [`builder`] makes a CA and server certificates signed by it.
//! - [`oid`] lists the object identifiers toytls knows.
//! - [`error`] says what went wrong, and which TLS alert that is.
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
pub mod oid;
pub mod pem;
pub mod time;
pub mod verify;

pub use cert::Certificate;
pub use error::CertError;
