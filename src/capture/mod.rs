//! Captures: a connection's bytes as the packet capture Wireshark opens, and the lesson of RSA
//! key transport, told by decrypting such a capture with nothing but the server's key.
//!
//! Recording ([`recorder`]): `toytls demo|client|server --pcap FILE` wrap the connection's
//! transport in a [`Recorded`], which passes every byte through and writes it into a
//! [`Capture`] as TCP/IPv4 segments between the real addresses and ports ([`packet`]: the
//! Ethernet, IP and TCP headers with correct numbers and checksums), in a pcapng file
//! ([`pcapng`]). The session keys go into the same file as a Decryption Secrets Block, so
//! Wireshark decrypts the GCM suite with no setting. The library never prints and never opens
//! a socket for this: the wrapper sees only what the connection reads and writes.
//!
//! Decrypting (`toytls decrypt CAPTURE --key SERVER_KEY.pem`, [`decrypt`]): a capture made by
//! anyone (`tcpdump -i lo -w`, `tshark -w`, our `--pcap`) is read frame by frame ([`read`],
//! pcap and pcapng), each TCP connection's two byte streams are put back together ([`tcp`],
//! out-of-order and retransmitted segments included), and each TLS connection is followed as
//! its server followed it: the pre-master secret decrypted from the ClientKeyExchange with the
//! server's private key, the key schedule, the records opened with the suites' own record
//! protection. Resumed connections reuse the master secret recovered from the full handshake
//! earlier in the capture. What it shows: RSA key transport has no forward secrecy; whoever
//! records the traffic today and obtains the server's key tomorrow reads every past session.

pub mod decrypt;
pub mod packet;
pub mod pcapng;
pub mod read;
pub mod recorder;
pub mod tcp;

pub use recorder::{Capture, Endpoints, Opener, Recorded};
