//! Conversations kept per session, in memory, bounded.
//!
//! - A session id is a capability: the server issues it ([`Sessions::new_id`],
//!   128 bits from the operating system's random source) and an id it did
//!   not issue, or one that expired, never finds a conversation.
//! - A session expires after an idle time.
//! - Each client address holds at most `per_client` sessions (its least
//!   recently used goes first), so one address cannot push everyone else's
//!   conversations out.
//! - When the whole store is full, expired sessions go first, then the least
//!   recently used; evicting a conversation used within the last
//!   [`ACTIVE_WINDOW`] is logged (at most once every 10 s, with a count).
//!
//! Every operation is O(log n).

use imagebot_core::Conversation;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::warn;

/// The longest session id accepted in a request (longer ones are refused as malformed).
pub const MAX_ID_LEN: usize = 128;

/// A conversation used this recently is "active": evicting it is logged.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Whether a session id in a request is well-formed: 1 to 128 characters
/// of `A-Z a-z 0-9 _ - . :` (ids the server issues are 32 hex digits).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

type Key = (Instant, u64);

struct Entry {
    conv: Conversation,
    /// The entry's key in `Inner::order` (and its owner's order).
    key: Key,
    owner: Option<IpAddr>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Session ids by last use, oldest first.
    order: BTreeMap<Key, String>,
    /// Per client address, its session ids by last use.
    by_owner: HashMap<IpAddr, BTreeMap<Key, String>>,
    seq: u64,
    expired: u64,
    evicted: u64,
    /// Active conversations evicted since the last log line, and when that was.
    unlogged_active: u64,
    last_log: Option<Instant>,
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<Entry> {
        let e = self.map.remove(id)?;
        self.order.remove(&e.key);
        if let Some(owner) = e.owner {
            if let Some(sessions) = self.by_owner.get_mut(&owner) {
                sessions.remove(&e.key);
                if sessions.is_empty() {
                    self.by_owner.remove(&owner);
                }
            }
        }
        Some(e)
    }

    /// Drops every session idle for `idle` or longer; returns how many.
    fn prune(&mut self, now: Instant, idle: Duration) -> usize {
        let mut n = 0;
        while let Some((key, id)) = self.order.first_key_value() {
            if now.saturating_duration_since(key.0) < idle {
                break;
            }
            let id = id.clone();
            self.remove(&id);
            n += 1;
        }
        self.expired += n as u64;
        n
    }

    /// Evicts one session to make room, noting it if it was active.
    fn evict(&mut self, id: &str, now: Instant) {
        if let Some(e) = self.remove(id) {
            self.evicted += 1;
            if now.saturating_duration_since(e.key.0) < ACTIVE_WINDOW && e.conv.turns > 1 {
                self.unlogged_active += 1;
                self.log_active_evictions(now);
            }
        }
    }

    fn log_active_evictions(&mut self, now: Instant) {
        let due = self
            .last_log
            .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(10));
        if due {
            warn!(
                evicted = self.unlogged_active,
                "sessions full: evicted active conversation(s) (raise --max-sessions, or lower --max-sessions-per-client)"
            );
            self.unlogged_active = 0;
            self.last_log = Some(now);
        }
    }
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Sessions held now.
    pub active: usize,
    /// Sessions dropped for being idle too long.
    pub expired: u64,
    /// Sessions dropped to make room.
    pub evicted: u64,
}

/// The session store. Shared between requests (it locks inside).
pub struct Sessions {
    inner: Mutex<Inner>,
    idle: Duration,
    cap: usize,
    per_client: usize,
}

impl Sessions {
    /// A store whose sessions expire after `idle` without use, holding at
    /// most `cap` (at least 1) at once and `per_client` (at least 1) per
    /// client address.
    pub fn new(idle: Duration, cap: usize, per_client: usize) -> Sessions {
        Sessions {
            inner: Mutex::new(Inner::default()),
            idle,
            cap: cap.max(1),
            per_client: per_client.max(1),
        }
    }

    /// How long a session lives without use.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The most sessions held at once.
    pub fn cap(&self) -> usize {
        self.cap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps consistent
        // enough (each operation is a few map updates), so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new unguessable id: 128 bits from the operating system's random
    /// source, as 32 hex digits.
    pub fn new_id(&self) -> String {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No OS randomness is a broken machine; fail closed with a
            // process-random key over the clock rather than a guessable id.
            use std::hash::BuildHasher;
            let state = std::collections::hash_map::RandomState::new();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes[..8].copy_from_slice(&state.hash_one((nanos, 0u8)).to_le_bytes());
            bytes[8..].copy_from_slice(&state.hash_one((nanos, 1u8)).to_le_bytes());
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The conversation of a live session, or `None` when the id is unknown
    /// (never issued, or forgotten) or its session has expired (it is then
    /// dropped).
    pub fn get(&self, id: &str, now: Instant) -> Option<Conversation> {
        let mut inner = self.lock();
        let last = inner.map.get(id)?.key.0;
        if now.saturating_duration_since(last) >= self.idle {
            inner.remove(id);
            inner.expired += 1;
            return None;
        }
        inner.map.get(id).map(|e| e.conv.clone())
    }

    /// Stores a session's conversation, marking it used at `now`. A new
    /// session first makes room: the client's own least recently used
    /// session beyond its share, then expired sessions, then the least
    /// recently used ones.
    pub fn put(&self, id: &str, owner: Option<IpAddr>, conv: Conversation, now: Instant) {
        let mut inner = self.lock();
        let existing = inner.remove(id);
        let owner = existing.as_ref().map_or(owner, |e| e.owner);
        if existing.is_none() {
            self.make_room(&mut inner, owner, now);
        }
        inner.seq += 1;
        let key = (now, inner.seq);
        inner.order.insert(key, id.to_string());
        if let Some(o) = owner {
            inner
                .by_owner
                .entry(o)
                .or_default()
                .insert(key, id.to_string());
        }
        inner.map.insert(id.to_string(), Entry { conv, key, owner });
    }

    fn make_room(&self, inner: &mut Inner, owner: Option<IpAddr>, now: Instant) {
        if let Some(o) = owner {
            while inner.by_owner.get(&o).map_or(0, BTreeMap::len) >= self.per_client {
                let Some(oldest) = inner
                    .by_owner
                    .get(&o)
                    .and_then(|s| s.first_key_value())
                    .map(|(_, id)| id.clone())
                else {
                    break;
                };
                inner.remove(&oldest);
                inner.evicted += 1;
            }
        }
        if inner.map.len() >= self.cap {
            inner.prune(now, self.idle);
        }
        while inner.map.len() >= self.cap {
            let Some(oldest) = inner.order.first_key_value().map(|(_, id)| id.clone()) else {
                break;
            };
            inner.evict(&oldest, now);
        }
    }

    /// Drops expired sessions; returns how many.
    pub fn prune(&self, now: Instant) -> usize {
        self.lock().prune(now, self.idle)
    }

    /// Counts for `/metrics`.
    pub fn stats(&self) -> SessionStats {
        let inner = self.lock();
        SessionStats {
            active: inner.map.len(),
            expired: inner.expired,
            evicted: inner.evicted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(turns: u32) -> Conversation {
        Conversation {
            turns,
            ..Conversation::default()
        }
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn keeps_and_expires() {
        let s = Sessions::new(Duration::from_secs(10), 100, 100);
        let t0 = Instant::now();
        s.put("a", ip(1), conv(1), t0);
        assert_eq!(s.get("a", t0 + Duration::from_secs(9)).unwrap().turns, 1);
        s.put("a", ip(1), conv(2), t0 + Duration::from_secs(9));
        // Used again at 9 s: alive until 19 s.
        assert_eq!(s.get("a", t0 + Duration::from_secs(18)).unwrap().turns, 2);
        assert!(s.get("a", t0 + Duration::from_secs(19)).is_none());
        assert_eq!(s.stats().active, 0);
        assert_eq!(s.stats().expired, 1);
        assert!(s.get("nobody", t0).is_none());
    }

    #[test]
    fn prune_drops_only_idle_sessions() {
        let s = Sessions::new(Duration::from_secs(10), 100, 100);
        let t0 = Instant::now();
        s.put("old", ip(1), conv(1), t0);
        s.put("new", ip(1), conv(1), t0 + Duration::from_secs(5));
        assert_eq!(s.prune(t0 + Duration::from_secs(12)), 1);
        assert!(s.get("old", t0 + Duration::from_secs(12)).is_none());
        assert!(s.get("new", t0 + Duration::from_secs(12)).is_some());
    }

    #[test]
    fn cap_evicts_least_recently_used() {
        let s = Sessions::new(Duration::from_secs(1000), 3, 100);
        let t0 = Instant::now();
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            s.put(
                id,
                ip(i as u8),
                conv(1),
                t0 + Duration::from_millis(i as u64),
            );
        }
        // Touch "a": "b" is now the least recently used.
        s.put("a", ip(0), conv(2), t0 + Duration::from_millis(10));
        s.put("d", ip(3), conv(1), t0 + Duration::from_millis(11));
        assert_eq!(s.stats().active, 3);
        assert_eq!(s.stats().evicted, 1);
        let now = t0 + Duration::from_millis(12);
        assert!(s.get("b", now).is_none());
        for id in ["a", "c", "d"] {
            assert!(s.get(id, now).is_some(), "{id}");
        }
        // Many more: never above the cap.
        for i in 0..1000 {
            s.put(&format!("x{i}"), ip((i % 200) as u8), conv(1), now);
        }
        assert_eq!(s.stats().active, 3);
    }

    #[test]
    fn one_address_cannot_push_out_the_others() {
        let s = Sessions::new(Duration::from_secs(1000), 100, 5);
        let t0 = Instant::now();
        for i in 0..20u8 {
            s.put(&format!("user{i}"), ip(i), conv(3), t0);
        }
        // One address opens a thousand sessions: it only ever holds five.
        for i in 0..1000u64 {
            s.put(
                &format!("flood{i}"),
                ip(250),
                conv(1),
                t0 + Duration::from_millis(i),
            );
        }
        let now = t0 + Duration::from_secs(2);
        for i in 0..20u8 {
            assert!(s.get(&format!("user{i}"), now).is_some(), "user{i}");
        }
        assert_eq!(s.stats().active, 25);
        assert!(s.get("flood999", now).is_some());
        assert!(s.get("flood0", now).is_none());
    }

    #[test]
    fn ids_are_distinct_random_and_valid() {
        let s = Sessions::new(Duration::from_secs(1), 1, 1);
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| s.new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32 && valid_id(id)));
        // Every hex digit appears in every position over many ids: no fixed part.
        for pos in 0..32 {
            let digits: std::collections::HashSet<char> =
                ids.iter().map(|id| id.as_bytes()[pos] as char).collect();
            assert_eq!(digits.len(), 16, "position {pos}");
        }
    }

    #[test]
    fn request_ids() {
        assert!(valid_id("helpdesk:ticket-42.a_b"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("会话"));
        assert!(!valid_id(&"x".repeat(129)));
        assert!(valid_id(&"x".repeat(128)));
    }
}
