//! Conversations kept per session id, in memory, bounded: a session expires
//! after an idle time, and when the cap is reached the least recently used
//! one is dropped. Every operation is O(log n).

use imagebot_core::Conversation;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest session id a client may choose.
pub const MAX_ID_LEN: usize = 128;

/// Whether a client-chosen session id is acceptable: 1 to 128 characters
/// of `A-Z a-z 0-9 _ - . :`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

struct Entry {
    conv: Conversation,
    /// The entry's key in `Inner::order`.
    key: (Instant, u64),
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    /// Session ids by last use, oldest first.
    order: BTreeMap<(Instant, u64), String>,
    seq: u64,
    expired: u64,
    evicted: u64,
}

impl Inner {
    fn remove(&mut self, id: &str) -> Option<Entry> {
        let e = self.map.remove(id)?;
        self.order.remove(&e.key);
        Some(e)
    }

    /// Drops every session idle for `idle` or longer; returns how many.
    fn prune(&mut self, now: Instant, idle: Duration) -> usize {
        let mut n = 0;
        while let Some(entry) = self.order.first_entry() {
            if now.saturating_duration_since(entry.key().0) < idle {
                break;
            }
            let id = entry.remove();
            self.map.remove(&id);
            n += 1;
        }
        self.expired += n as u64;
        n
    }
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub active: usize,
    pub expired: u64,
    pub evicted: u64,
}

/// The session store. Shared between requests (it locks inside).
pub struct Sessions {
    inner: Mutex<Inner>,
    idle: Duration,
    cap: usize,
    ids: RandomState,
    counter: AtomicU64,
}

impl Sessions {
    /// A store whose sessions expire after `idle` without use, holding at
    /// most `cap` (at least 1) at once.
    pub fn new(idle: Duration, cap: usize) -> Sessions {
        Sessions {
            inner: Mutex::new(Inner::default()),
            idle,
            cap: cap.max(1),
            ids: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps consistent
        // enough (each operation is a few map updates), so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new unguessable id: 128 bits from SipHash keyed with a random key
    /// (std's `RandomState`) over a counter and the clock.
    pub fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let a = self.ids.hash_one((n, nanos, 0u8));
        let b = self.ids.hash_one((n, nanos, 1u8));
        format!("{a:016x}{b:016x}")
    }

    /// The conversation of a live session, or `None` when the id is unknown
    /// or its session has expired (it is then dropped).
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
    /// session first makes room: expired sessions go, then the least
    /// recently used ones.
    pub fn put(&self, id: &str, conv: Conversation, now: Instant) {
        let mut inner = self.lock();
        if inner.remove(id).is_none() && inner.map.len() >= self.cap {
            inner.prune(now, self.idle);
            while inner.map.len() >= self.cap {
                let Some((_, oldest)) = inner.order.pop_first() else {
                    break;
                };
                inner.map.remove(&oldest);
                inner.evicted += 1;
            }
        }
        inner.seq += 1;
        let key = (now, inner.seq);
        inner.order.insert(key, id.to_string());
        inner.map.insert(id.to_string(), Entry { conv, key });
    }

    /// Drops expired sessions; returns how many.
    pub fn prune(&self, now: Instant) -> usize {
        self.lock().prune(now, self.idle)
    }

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

    #[test]
    fn keeps_and_expires() {
        let s = Sessions::new(Duration::from_secs(10), 100);
        let t0 = Instant::now();
        s.put("a", conv(1), t0);
        assert_eq!(s.get("a", t0 + Duration::from_secs(9)).unwrap().turns, 1);
        s.put("a", conv(2), t0 + Duration::from_secs(9));
        // Used again at 9 s: alive until 19 s.
        assert_eq!(s.get("a", t0 + Duration::from_secs(18)).unwrap().turns, 2);
        assert!(s.get("a", t0 + Duration::from_secs(19)).is_none());
        assert_eq!(s.stats().active, 0);
        assert_eq!(s.stats().expired, 1);
        assert!(s.get("nobody", t0).is_none());
    }

    #[test]
    fn prune_drops_only_idle_sessions() {
        let s = Sessions::new(Duration::from_secs(10), 100);
        let t0 = Instant::now();
        s.put("old", conv(1), t0);
        s.put("new", conv(1), t0 + Duration::from_secs(5));
        assert_eq!(s.prune(t0 + Duration::from_secs(12)), 1);
        assert!(s.get("old", t0 + Duration::from_secs(12)).is_none());
        assert!(s.get("new", t0 + Duration::from_secs(12)).is_some());
    }

    #[test]
    fn cap_evicts_least_recently_used() {
        let s = Sessions::new(Duration::from_secs(1000), 3);
        let t0 = Instant::now();
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            s.put(id, conv(1), t0 + Duration::from_millis(i as u64));
        }
        // Touch "a": "b" is now the least recently used.
        s.put("a", conv(2), t0 + Duration::from_millis(10));
        s.put("d", conv(1), t0 + Duration::from_millis(11));
        assert_eq!(s.stats().active, 3);
        assert_eq!(s.stats().evicted, 1);
        let now = t0 + Duration::from_millis(12);
        assert!(s.get("b", now).is_none());
        for id in ["a", "c", "d"] {
            assert!(s.get(id, now).is_some(), "{id}");
        }
        // Many more: never above the cap.
        for i in 0..1000 {
            s.put(&format!("x{i}"), conv(1), now);
        }
        assert_eq!(s.stats().active, 3);
    }

    #[test]
    fn ids_are_distinct_and_valid() {
        let s = Sessions::new(Duration::from_secs(1), 1);
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| s.new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32 && valid_id(id)));
    }

    #[test]
    fn client_ids() {
        assert!(valid_id("helpdesk:ticket-42.a_b"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("会话"));
        assert!(!valid_id(&"x".repeat(129)));
        assert!(valid_id(&"x".repeat(128)));
    }
}
