//! Captures: a connection's bytes as the packet capture Wireshark opens, and (later in this
//! module) the lesson of RSA key transport, told by decrypting such a capture.
//!
//! Recording ([`recorder`]): `toytls demo|client|server --pcap FILE` wrap the connection's
//! transport in a [`Recorded`], which passes every byte through and writes it into a
//! [`Capture`] as TCP/IPv4 segments between the real addresses and ports ([`packet`]: the
//! Ethernet, IP and TCP headers with correct numbers and checksums), in a pcapng file
//! ([`pcapng`]). The session keys go into the same file as a Decryption Secrets Block, so
//! Wireshark decrypts the GCM suite with no setting. The library never prints and never opens
//! a socket for this: the wrapper sees only what the connection reads and writes.

pub mod packet;
pub mod pcapng;
pub mod recorder;

pub use recorder::{Capture, Endpoints, Opener, Recorded};
