//! Sessions and their caches: what resumption reuses (RFC 5246 7.3, 7.4.1.2, F.1.4).
//!
//! A session is the master secret and the suite a full handshake agreed on (and whether that
//! master secret is the extended one of RFC 7627), named by the session ID the server chose. A
//! returning client offers that ID; if the server still holds the session it runs the abbreviated
//! handshake, and both sides derive fresh keys from the cached master secret and the new randoms,
//! skipping certificates and RSA altogether. Both sides refuse to resume across a change in the
//! extended master secret (RFC 7627 5.3; the rules are in [`crate::handshake::client`] and
//! [`crate::handshake::server`]).
//!
//! Both caches are bounded. The server's holds at most `capacity` sessions for at most `lifetime`
//! seconds each (oldest evicted first); the client's keeps one session per (server name, port),
//! for at most [`CLIENT_SESSION_LIFETIME`] and never past the end of the validity of the server
//! certificate it verified for it: resuming skips the certificate check, so without that an
//! expired certificate would go on being accepted. A connection that ends with a fatal alert
//! removes its session from both (RFC 5246 7.2.2: "...any session identifier associated with the
//! connection MUST be invalidated"; [`crate::stream`]), on the server also when the failing
//! connection is itself a resumption.
//!
//! A client's session may also hold the ticket the server sealed it into (RFC 5077; see
//! [`crate::handshake::ticket`] for the server's side): the client then offers the ticket rather
//! than the ID.
//!
//! A session belongs to the server name it was made for: the server resumes it only under the
//! same server_name (RFC 6066 3: "the server MUST NOT accept the request to resume the session if
//! the server_name extension contains a different name. Instead, it proceeds with a full
//! handshake to establish a new session").

use crate::clock::UnixTime;
use crate::handshake::keys::MasterSecret;
use crate::wire::messages::{CipherSuite, SessionId};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// What resumption needs from a past full handshake.
#[derive(Clone)]
pub struct Session {
    pub id: SessionId,
    pub suite: CipherSuite,
    pub master_secret: MasterSecret,
    /// The server's certificate chain as it was verified (DER), reported again when resumed.
    pub peer_chain: Vec<Vec<u8>>,
    /// When the full handshake completed.
    pub created: UnixTime,
    /// The server name the full handshake was made for (the client's server_name extension; on
    /// the client, the name it verified the certificate for). The server resumes the session only
    /// for the same name (RFC 6066 3).
    pub server_name: Option<String>,
    /// On the client: the end of the validity (notAfter) of the server certificate verified in
    /// the full handshake; the session is not offered after it. `None` on the server.
    pub valid_until: Option<UnixTime>,
    /// True if the master secret is the extended one (RFC 7627 4). Resumption must agree with the
    /// original handshake on this (RFC 7627 5.3): an abbreviated handshake inherits the master
    /// secret, so it inherits its protection, or its lack of it.
    pub extended_master_secret: bool,
    /// On the client: the ticket the server sealed this session into (RFC 5077), if it gave one.
    /// The server keeps no tickets: it seals and opens them ([`crate::handshake::ticket`]).
    pub ticket: Option<Ticket>,
}

/// A session ticket as the client keeps it (RFC 5077 3.3): opaque bytes, and how long the
/// server suggested keeping them.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket exactly as the NewSessionTicket carried it.
    pub bytes: Vec<u8>,
    /// The server's `ticket_lifetime_hint`: seconds from `received`, 0 for "unspecified".
    pub lifetime_hint: u32,
    /// When it arrived.
    pub received: UnixTime,
}

impl Ticket {
    /// True once the lifetime hint has run out (RFC 5077 3.3: the hint says how long "the
    /// ticket should be stored"; the server would refuse it anyway). A hint of 0 never expires
    /// here: the server decides.
    pub fn expired(&self, now: UnixTime) -> bool {
        self.lifetime_hint != 0
            && now.0.saturating_sub(self.received.0) >= i64::from(self.lifetime_hint)
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("len", &self.bytes.len())
            .field("lifetime_hint", &self.lifetime_hint)
            .field("received", &self.received)
            .finish()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the master secret.
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("suite", &self.suite)
            .field("created", &self.created)
            .field("server_name", &self.server_name)
            .field("valid_until", &self.valid_until)
            .field("extended_master_secret", &self.extended_master_secret)
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}

/// A bounded map that forgets its oldest entry when full.
struct Bounded<K> {
    map: HashMap<K, Session>,
    order: VecDeque<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Bounded<K> {
    fn new() -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, capacity: usize, key: K, s: Session) {
        if capacity == 0 {
            return;
        }
        self.remove(&key);
        while self.map.len() >= capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        self.order.push_back(key.clone());
        self.map.insert(key, s);
    }

    fn remove(&mut self, key: &K) {
        if self.map.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}

/// The server's session cache, keyed by session ID.
pub struct ServerSessionCache {
    inner: Mutex<Bounded<SessionId>>,
    capacity: usize,
    lifetime_secs: i64,
}

impl ServerSessionCache {
    /// Holds at most `capacity` sessions (0 disables resumption), each for `lifetime_secs`.
    pub fn new(capacity: usize, lifetime_secs: i64) -> Self {
        ServerSessionCache {
            inner: Mutex::new(Bounded::new()),
            capacity,
            lifetime_secs,
        }
    }

    /// True if sessions are cached at all (if not, the server sends an empty session ID).
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn insert(&self, s: Session) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.insert(self.capacity, s.id, s);
    }

    /// The session named `id`, unless it is unknown or older than the lifetime (then forgotten).
    pub fn get(&self, id: &SessionId, now: UnixTime) -> Option<Session> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let s = g.map.get(id)?;
        if now.0.saturating_sub(s.created.0) > self.lifetime_secs {
            g.remove(id);
            return None;
        }
        Some(s.clone())
    }

    pub fn remove(&self, id: &SessionId) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Number of cached sessions.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How long the client keeps a session by default: 24 hours, the upper limit RFC 5246 F.1.4
/// suggests for session IDs ("Applications that may be run in relatively insecure environments
/// should not write session IDs to stable storage").
pub const CLIENT_SESSION_LIFETIME: i64 = 24 * 3600;

/// The client's sessions, one per (server name, port).
pub struct ClientSessionStore {
    inner: Mutex<Bounded<(String, u16)>>,
    capacity: usize,
    lifetime_secs: i64,
}

impl ClientSessionStore {
    /// Remembers at most `capacity` servers (0 disables resumption), each session for
    /// [`CLIENT_SESSION_LIFETIME`].
    pub fn new(capacity: usize) -> Self {
        Self::with_lifetime(capacity, CLIENT_SESSION_LIFETIME)
    }

    /// Remembers at most `capacity` servers, each session for `lifetime_secs`.
    pub fn with_lifetime(capacity: usize, lifetime_secs: i64) -> Self {
        ClientSessionStore {
            inner: Mutex::new(Bounded::new()),
            capacity,
            lifetime_secs,
        }
    }

    /// The session stored for (`server_name`, `port`) if it may still be offered at `now`: not
    /// older than the lifetime and not past the end of the validity of the certificate verified
    /// for it. One that may not is forgotten.
    pub fn get_fresh(&self, server_name: &str, port: u16, now: UnixTime) -> Option<Session> {
        let key = (server_name.to_string(), port);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let s = g.map.get(&key)?;
        let too_old = now.0.saturating_sub(s.created.0) > self.lifetime_secs;
        let expired = s.valid_until.is_some_and(|end| now.0 > end.0);
        if too_old || expired {
            g.remove(&key);
            return None;
        }
        Some(s.clone())
    }

    pub fn insert(&self, server_name: &str, port: u16, s: Session) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.insert(self.capacity, (server_name.to_string(), port), s);
    }

    pub fn get(&self, server_name: &str, port: u16) -> Option<Session> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.map.get(&(server_name.to_string(), port)).cloned()
    }

    pub fn remove(&self, server_name: &str, port: u16) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(server_name.to_string(), port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u8, created: i64) -> Session {
        Session {
            id: SessionId::new(&[id; 32]).unwrap(),
            suite: CipherSuite(0xff01),
            master_secret: MasterSecret([id; 48]),
            peer_chain: vec![],
            created: UnixTime(created),
            server_name: None,
            valid_until: Some(UnixTime(created + 500)),
            extended_master_secret: true,
            ticket: None,
        }
    }

    #[test]
    fn server_cache_expires_sessions() {
        let c = ServerSessionCache::new(10, 100);
        c.insert(session(1, 1000));
        let id = SessionId::new(&[1; 32]).unwrap();
        assert!(c.get(&id, UnixTime(1100)).is_some());
        assert!(c.get(&id, UnixTime(1101)).is_none());
        // And it is gone for good.
        assert!(c.get(&id, UnixTime(1000)).is_none());
    }

    #[test]
    fn server_cache_evicts_the_oldest_when_full() {
        let c = ServerSessionCache::new(2, 100);
        for i in 1..=3 {
            c.insert(session(i, 0));
        }
        assert_eq!(c.len(), 2);
        assert!(
            c.get(&SessionId::new(&[1; 32]).unwrap(), UnixTime(0))
                .is_none()
        );
        assert!(
            c.get(&SessionId::new(&[3; 32]).unwrap(), UnixTime(0))
                .is_some()
        );
        c.remove(&SessionId::new(&[3; 32]).unwrap());
        assert_eq!(c.len(), 1);
        let off = ServerSessionCache::new(0, 100);
        off.insert(session(1, 0));
        assert!(off.is_empty());
    }

    #[test]
    fn a_ticket_expires_with_its_lifetime_hint_unless_the_hint_is_zero() {
        let t = Ticket {
            bytes: vec![1],
            lifetime_hint: 10,
            received: UnixTime(100),
        };
        assert!(!t.expired(UnixTime(109)));
        assert!(t.expired(UnixTime(110)));
        let forever = Ticket {
            lifetime_hint: 0,
            ..t
        };
        assert!(!forever.expired(UnixTime(i64::MAX)));
    }

    #[test]
    fn client_store_is_per_name_and_port() {
        let s = ClientSessionStore::new(4);
        s.insert("a", 1, session(1, 0));
        assert!(s.get("a", 1).is_some());
        assert!(s.get("a", 2).is_none());
        assert!(s.get("b", 1).is_none());
        s.remove("a", 1);
        assert!(s.get("a", 1).is_none());
    }

    #[test]
    fn client_store_forgets_sessions_after_the_lifetime_or_the_certificate() {
        let s = ClientSessionStore::with_lifetime(4, 100);
        s.insert("a", 1, session(1, 1000));
        assert!(s.get_fresh("a", 1, UnixTime(1100)).is_some());
        assert!(s.get_fresh("a", 1, UnixTime(1101)).is_none());
        assert!(s.get("a", 1).is_none(), "forgotten for good");
        // The certificate's end (created + 500 here) comes before a long lifetime's.
        let s = ClientSessionStore::with_lifetime(4, 10_000);
        s.insert("a", 1, session(1, 1000));
        assert!(s.get_fresh("a", 1, UnixTime(1500)).is_some());
        assert!(s.get_fresh("a", 1, UnixTime(1501)).is_none());
    }
}
