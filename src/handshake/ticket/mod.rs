//! Session tickets (RFC 5077): the server's session, sealed, kept by the client.
//!
//! A session cache ([`super::session`]) makes the server remember every session under an ID. With
//! tickets it remembers nothing: after a handshake it seals the session (suite, master secret, how
//! the master secret was made, when) under a key only it holds and gives the result to the client
//! in a NewSessionTicket. A returning client presents the ticket in its ClientHello's
//! session_ticket extension; if the ticket opens under one of the server's keys and is still
//! within its lifetime, the server resumes from what is inside. Resumption is stateless: any
//! server process holding the key can resume any client's session.
//!
//! The format (`spec/tickets.md`; the shape RFC 5077 4 recommends, with AES-128-GCM doing the work
//! of its AES-CBC and HMAC):
//!
//! ```text
//! ticket = key_name[16] || nonce[12] || ciphertext || tag[16]
//!          AES-128-GCM under the ticket key named key_name, additional data = key_name,
//!          over the state:
//! state  = version (1) = 1 || protocol_version (2) = 03 03 || cipher_suite (2)
//!          || master_secret (48) || extended_master_secret (1: 0 or 1)
//!          || created (8: Unix seconds, when the session's full handshake finished)
//!          || server_name<0..2^16-1> (the host name it was made for; empty: none, RFC 6066 3)
//!          || peer_chain<0..2^24-1> of ASN.1Cert<1..2^24-1> (the client's certificates, if any)
//! ```
//!
//! The client learns nothing from a ticket (the state is encrypted) and can change nothing in it
//! (GCM authenticates it): a ticket that does not open is tampered with or sealed under a key we
//! no longer hold, and either way the server runs a full handshake, as RFC 5077 3.1 asks of a
//! ticket it cannot use.
//!
//! Key rotation ([`TicketKeys`]): a new key becomes current every `rotate_every` seconds and seals
//! every ticket issued after that; an older key stops sealing but still opens tickets for
//! `lifetime` seconds more (the longest any ticket it sealed can live), then it is erased. So
//! rotating never refuses a ticket that has not expired, and a stolen key opens tickets for at
//! most `rotate_every + lifetime` seconds of traffic.
//!
//! This file is the format and the keys; `steps.rs` is where the two handshakes use them (the
//! server opens and issues tickets, the client takes them home), and `tests.rs` tests both
//! halves of this file.

mod steps;

use super::keys::MasterSecret;
use super::session::Session;
use crate::clock::UnixTime;
use crate::crypto::gcm::Aes128Gcm;
use crate::error::{Error, Result};
use crate::wire::codec::{Reader, Writer};
use crate::wire::messages::{CipherSuite, NewSessionTicket, ProtocolVersion, SessionId};
use rand::Rng;
use std::fmt;
use std::sync::Mutex;
use zeroize::{Zeroize, Zeroizing};

/// The ticket key's name, the first bytes of every ticket: which key to open it with.
pub const KEY_NAME_LEN: usize = 16;
/// The GCM nonce, random for every ticket.
pub const NONCE_LEN: usize = 12;
/// The GCM tag at the end of every ticket.
pub const TAG_LEN: usize = 16;
/// Bytes of a ticket around its encrypted state.
pub const OVERHEAD: usize = KEY_NAME_LEN + NONCE_LEN + TAG_LEN;
/// The first byte of the state: the format's version.
pub const STATE_VERSION: u8 = 1;
/// The state without its server name and peer chain: version, protocol version, suite, master
/// secret, EMS flag, creation time, the name's 2-byte length and the chain's 3-byte length.
pub const STATE_FIXED_LEN: usize = 1 + 2 + 2 + 48 + 1 + 8 + 2 + 3;
/// The longest ticket toytls issues. The client sends it back in a ClientHello whose extensions
/// all share one 2-byte length, so a longer one (a client with a very long certificate chain)
/// is not issued: the NewSessionTicket is then empty (RFC 5077 3.3 allows it).
pub const MAX_TICKET_LEN: usize = 1 << 15;

/// Why a presented ticket could not be used. Every reason leads to a full handshake, never to an
/// error: a ticket is only a shortcut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Too short to hold a key name, a nonce and a tag.
    Malformed,
    /// No key of ours has this name: made by another server, or sealed under a key retired
    /// longer than its tickets' lifetime ago (and erased since).
    UnknownKey,
    /// The tag does not match: the ticket was changed, or made up.
    Forged,
    /// It opened, but the session it holds is older than the ticket lifetime.
    Expired { age_secs: i64 },
    /// It opened, but what is inside is not a state toytls writes (a bug, or a format change).
    BadState(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed => f.write_str("too short to be a ticket"),
            Rejection::UnknownKey => {
                f.write_str("sealed under a key we do not hold (another server's, or retired)")
            }
            Rejection::Forged => f.write_str("its tag does not check: changed or made up"),
            Rejection::Expired { age_secs } => {
                write!(
                    f,
                    "its session is {age_secs} s old, past the ticket lifetime"
                )
            }
            Rejection::BadState(why) => write!(f, "its state does not decode: {why}"),
        }
    }
}

/// A ticket that opened.
pub struct Opened {
    /// The session inside, with an empty ID (the caller gives it the ID to echo).
    pub session: Session,
    /// True if it was sealed under the current key: the newest, and not yet due for rotation.
    /// A server renews a ticket for which this is false (RFC 5077 3.1), so that clients move to
    /// the current key before the old one is erased.
    pub current_key: bool,
}

/// One ticket key: its public name and its AES-128-GCM key (wiped on drop by [`Aes128Gcm`]).
struct TicketKey {
    name: [u8; KEY_NAME_LEN],
    aead: Aes128Gcm,
    created: UnixTime,
}

/// The server's ticket keys, newest first, and the rotation policy (see the module doc).
pub struct TicketKeys {
    keys: Mutex<Vec<TicketKey>>,
    rotate_every: i64,
    lifetime: i64,
}

impl fmt::Debug for TicketKeys {
    /// The policy and the number of keys, never a key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketKeys")
            .field("rotate_every", &self.rotate_every)
            .field("lifetime", &self.lifetime)
            .field("keys", &self.key_count())
            .finish()
    }
}

impl TicketKeys {
    /// A new key every hour by default.
    pub const DEFAULT_ROTATE_EVERY: i64 = 3600;
    /// Tickets live an hour by default, as sessions in the server's cache do.
    pub const DEFAULT_LIFETIME: i64 = 3600;

    /// No keys yet (the first ticket sealed makes one); a new key every `rotate_every` seconds,
    /// tickets valid for `lifetime` seconds from their session's full handshake. Both at least 1.
    pub fn new(rotate_every: i64, lifetime: i64) -> Self {
        TicketKeys {
            keys: Mutex::new(Vec::new()),
            rotate_every: rotate_every.max(1),
            lifetime: lifetime.max(1),
        }
    }

    /// Seconds a ticket is valid for, counted from its session's full handshake.
    pub fn lifetime(&self) -> i64 {
        self.lifetime
    }

    /// Seconds between two new keys.
    pub fn rotate_every(&self) -> i64 {
        self.rotate_every
    }

    /// Keys held now (the current one and the retired ones that still open tickets).
    pub fn key_count(&self) -> usize {
        self.lock().len()
    }

    /// Makes a key of known bytes the current one from `created` on: for the fuzz targets and
    /// tests, whose tickets must be reproducible. Real servers let [`Self::seal`] make keys.
    pub fn add_key(&self, name: [u8; KEY_NAME_LEN], key: [u8; 16], created: UnixTime) {
        let mut key = Zeroizing::new(key);
        let k = TicketKey {
            name,
            aead: Aes128Gcm::new(&key),
            created,
        };
        key.zeroize();
        self.lock().insert(0, k);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TicketKey>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Erases the keys whose last ticket has expired: created more than `rotate_every +
    /// lifetime` seconds ago (a key seals for `rotate_every` seconds, its tickets live
    /// `lifetime` more). The current key is never older than `rotate_every`, so it stays.
    fn retire(&self, keys: &mut Vec<TicketKey>, now: UnixTime) {
        let keep_for = self.rotate_every.saturating_add(self.lifetime);
        keys.retain(|k| now.0.saturating_sub(k.created.0) <= keep_for);
    }

    /// The key to seal with now: the newest, unless it is `rotate_every` old, in which case a
    /// fresh one (random name and key from `rng`) takes its place at the front.
    fn rotate(&self, keys: &mut Vec<TicketKey>, now: UnixTime, rng: &mut impl Rng) {
        self.retire(keys, now);
        let fresh = keys
            .first()
            .is_some_and(|k| now.0.saturating_sub(k.created.0) < self.rotate_every);
        if !fresh {
            let mut name = [0u8; KEY_NAME_LEN];
            rng.fill_bytes(&mut name);
            let mut key = Zeroizing::new([0u8; 16]);
            rng.fill_bytes(&mut key[..]);
            keys.insert(
                0,
                TicketKey {
                    name,
                    aead: Aes128Gcm::new(&key),
                    created: now,
                },
            );
        }
    }

    /// Seals `session` into a NewSessionTicket under the current key (rotating first if it is
    /// due), with a fresh random nonce. The lifetime hint is what remains of the session's
    /// lifetime: a renewed ticket carries its session's original creation time, so renewing
    /// never extends how long a master secret lives. `None` if the session has already expired
    /// or the ticket would be longer than [`MAX_TICKET_LEN`].
    pub fn seal(
        &self,
        session: &Session,
        now: UnixTime,
        rng: &mut impl Rng,
    ) -> Option<NewSessionTicket> {
        let age = now.0.saturating_sub(session.created.0).max(0);
        if age >= self.lifetime {
            return None;
        }
        let state = encode_state(session).ok()?;
        let len = OVERHEAD + state.len();
        if len > MAX_TICKET_LEN {
            return None;
        }
        let mut keys = self.lock();
        self.rotate(&mut keys, now, rng);
        let key = keys.first()?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        // One buffer of the final size: the state is encrypted where it lies, so no copy of the
        // master secret is left behind in a reallocated buffer.
        let mut ticket = Vec::with_capacity(len);
        ticket.extend_from_slice(&key.name);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&state);
        let body = KEY_NAME_LEN + NONCE_LEN;
        let tag = key.aead.seal(&nonce, &key.name, &mut ticket[body..]);
        ticket.extend_from_slice(&tag);
        Some(NewSessionTicket {
            lifetime_hint: u32::try_from(self.lifetime - age).unwrap_or(u32::MAX),
            ticket,
        })
    }

    /// Opens a ticket a client presented. Retired keys past their time are erased first, so
    /// their tickets are unknown. The tag is checked (in constant time) before anything is
    /// decrypted; the state is decoded from a copy that is wiped afterwards.
    pub fn open(&self, ticket: &[u8], now: UnixTime) -> std::result::Result<Opened, Rejection> {
        if ticket.len() < OVERHEAD {
            return Err(Rejection::Malformed);
        }
        let (name, rest) = ticket.split_at(KEY_NAME_LEN);
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Rejection::Malformed)?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Rejection::Malformed)?;
        let mut state = Zeroizing::new(body.to_vec());
        let current_key = {
            let mut keys = self.lock();
            self.retire(&mut keys, now);
            let at = keys
                .iter()
                .position(|k| k.name == name)
                .ok_or(Rejection::UnknownKey)?;
            keys[at]
                .aead
                .open(&nonce, name, &mut state, &tag)
                .map_err(|_| Rejection::Forged)?;
            // The newest key stops being current once it is `rotate_every` old, even before
            // the next seal replaces it.
            at == 0 && now.0.saturating_sub(keys[at].created.0) < self.rotate_every
        };
        let session = decode_state(&state).map_err(|e| Rejection::BadState(e.to_string()))?;
        let age_secs = now.0.saturating_sub(session.created.0);
        if age_secs >= self.lifetime {
            return Err(Rejection::Expired { age_secs });
        }
        Ok(Opened {
            session,
            current_key,
        })
    }
}

/// The state a ticket seals (layout in the module doc). The session's ID is not part of it: a
/// ticket names its session by being presented.
pub fn encode_state(s: &Session) -> Result<Zeroizing<Vec<u8>>> {
    let mut chain = Writer::new();
    chain.u24_prefixed(|w| {
        for cert in &s.peer_chain {
            w.u24_prefixed(|w| w.bytes(cert));
        }
    });
    let chain = chain
        .finish()
        .map_err(|e| Error::Internal(format!("cannot encode a ticket's peer chain: {e}")))?;
    let name = s.server_name.as_deref().unwrap_or("").as_bytes();
    if name.len() > usize::from(u16::MAX) {
        return Err(Error::Internal(
            "a server name too long for a ticket".into(),
        ));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(
        STATE_FIXED_LEN - 5 + 2 + name.len() + chain.len(),
    ));
    out.push(STATE_VERSION);
    out.extend_from_slice(&ProtocolVersion::TLS12.to_bytes());
    out.extend_from_slice(&s.suite.0.to_be_bytes());
    out.extend_from_slice(&s.master_secret.0);
    out.push(u8::from(s.extended_master_secret));
    out.extend_from_slice(&s.created.0.to_be_bytes());
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&chain);
    Ok(out)
}

/// Reads a state back (the inverse of [`encode_state`], byte for byte). Bounds-checked like
/// every parser in toytls: a field that does not fit, a version or flag toytls does not write,
/// an empty certificate or a byte left over is an error. The session comes back with an empty
/// ID and no ticket.
pub fn decode_state(b: &[u8]) -> Result<Session> {
    let bad = |why: String| Error::decode("ticket state", why);
    let mut r = Reader::new(b);
    let version = r.u8()?;
    if version != STATE_VERSION {
        return Err(bad(format!(
            "format version {version}, not {STATE_VERSION}"
        )));
    }
    let protocol = ProtocolVersion(r.u16()?);
    if protocol != ProtocolVersion::TLS12 {
        return Err(bad(format!("protocol version {protocol}, not TLS 1.2")));
    }
    let suite = CipherSuite(r.u16()?);
    let master_secret = MasterSecret(r.array()?);
    let extended_master_secret = match r.u8()? {
        0 => false,
        1 => true,
        v => return Err(bad(format!("extended_master_secret flag {v}, not 0 or 1"))),
    };
    let created = UnixTime(i64::from_be_bytes(r.array()?));
    let name = r.u16_prefixed()?.rest();
    let server_name = if name.is_empty() {
        None
    } else {
        Some(
            std::str::from_utf8(name)
                .map_err(|_| bad("a server name that is not UTF-8".into()))?
                .to_string(),
        )
    };
    let mut list = r.u24_prefixed()?;
    r.expect_empty()?;
    let mut peer_chain = Vec::new();
    while !list.is_empty() {
        let cert = list.u24_prefixed()?.rest();
        if cert.is_empty() {
            return Err(bad("an empty certificate in the peer chain".into()));
        }
        peer_chain.push(cert.to_vec());
    }
    Ok(Session {
        id: SessionId::EMPTY,
        suite,
        master_secret,
        peer_chain,
        created,
        server_name,
        valid_until: None,
        extended_master_secret,
        ticket: None,
    })
}

#[cfg(test)]
mod tests;
