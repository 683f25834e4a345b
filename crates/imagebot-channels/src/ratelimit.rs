//! Rate limits for the long-running front ends: a token bucket per key (a
//! Telegram chat, an HTTP session, a client IP), so one noisy user cannot
//! starve the rest.
//!
//! A bucket holds up to `burst` tokens and refills at `count` per `per`;
//! each message takes one, and a message finding the bucket empty is
//! refused with the time until the next token. Memory is bounded: at most
//! `cap` buckets, a bucket that has refilled completely is dropped (it
//! would behave exactly like a new one), and past the cap the least
//! recently used bucket goes. Every operation is O(log n).

use imagebot_core::labels::LABELS;
use imagebot_core::reply::Lang;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The default limit per chat or session: 20 messages a minute.
pub const DEFAULT_RATE: &str = "20/min";
/// The default limit per client IP (many people may share one address).
pub const DEFAULT_IP_RATE: &str = "300/min";
/// The default cap on the number of buckets kept per limiter.
pub const DEFAULT_MAX_BUCKETS: usize = 100_000;

/// A rate: `count` messages per `per`, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
    pub burst: u32,
}

impl Rate {
    /// `count` a `per`, bursts of `count`.
    pub fn new(count: u32, per: Duration) -> Rate {
        Rate {
            count,
            per,
            burst: count,
        }
    }

    /// Tokens regained a second.
    fn refill(&self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }

    /// How long an untouched bucket takes to fill up from empty.
    fn fill_time(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.burst) / self.refill())
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:?}", self.count, self.per)?;
        if self.burst != self.count {
            write!(f, ",burst={}", self.burst)?;
        }
        Ok(())
    }
}

/// A `--rate-limit` value: a [`Rate`], or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit(pub Option<Rate>);

impl FromStr for RateLimit {
    type Err = String;

    /// `off`, or `COUNT/PERIOD` with an optional `,burst=N`: `20/min`,
    /// `5/s`, `100/h`, `3/10s`, `2/500ms`, `20/min,burst=5`. The burst
    /// (the most messages at once) defaults to COUNT.
    fn from_str(s: &str) -> Result<RateLimit, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
            return Ok(RateLimit(None));
        }
        let usage =
            || format!("`{s}` is not a rate (like 20/min, 5/s, 3/10s, 20/min,burst=5, or off)");
        let (rate, burst) = match s.split_once(',') {
            Some((r, b)) => {
                let n = b
                    .trim()
                    .strip_prefix("burst=")
                    .ok_or_else(usage)?
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| usage())?;
                (r, Some(n))
            }
            None => (s, None),
        };
        let (count, period) = rate.split_once('/').ok_or_else(usage)?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        let period = period.trim();
        let period = match period {
            "s" | "sec" | "second" => "1s",
            "m" | "min" | "minute" => "1m",
            "h" | "hour" => "1h",
            p => p,
        };
        let per = imagebot_records::duration::parse(period)?;
        let burst = burst.unwrap_or(count);
        if count == 0 || burst == 0 {
            return Err(format!(
                "`{s}`: the count and the burst must be at least 1 (turn limits off with `off`)"
            ));
        }
        if per < Duration::from_millis(1) {
            return Err(format!("`{s}`: the period must be at least 1ms"));
        }
        Ok(RateLimit(Some(Rate { count, per, burst })))
    }
}

/// Parses a `--rate-limit` value (for clap).
pub fn parse_rate_limit(s: &str) -> Result<RateLimit, String> {
    s.parse()
}

/// The time limiters read: the system's, or one a test moves by hand.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Instant>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands still at `start` until [`Clock::advance`]d.
    pub fn manual(start: Instant) -> Clock {
        Clock(Some(Arc::new(Mutex::new(start))))
    }

    pub fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock on (the system clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|e| e.into_inner()) += by;
        }
    }
}

/// What a limiter says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refused: the next message is allowed after `retry_after`. `first`:
    /// the first refusal since the last allowed message (a chat is told
    /// once, not at every extra message).
    Limited {
        retry_after: Duration,
        first: bool,
    },
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Whole seconds to wait, at least 1 (for `Retry-After` and the reply).
pub fn retry_secs(retry_after: Duration) -> u64 {
    // Less a hair, so that 3.0000000001 s of float noise is still "3".
    ((retry_after.as_secs_f64() - 1e-6).ceil() as u64).max(1)
}

struct Bucket {
    tokens: f64,
    /// When `tokens` was last brought up to date, and the key in `order`.
    at: (Instant, u64),
    notified: bool,
}

struct Inner<K> {
    map: HashMap<K, Bucket>,
    /// Keys by last use, oldest first.
    order: BTreeMap<(Instant, u64), K>,
    seq: u64,
    limited: u64,
    evicted: u64,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Buckets in memory.
    pub buckets: usize,
    /// Messages refused.
    pub limited: u64,
    /// Buckets dropped to stay under the cap (not counting full ones).
    pub evicted: u64,
}

/// Token buckets by key, bounded. Shared between tasks (it locks inside).
pub struct Limiter<K> {
    rate: Rate,
    cap: usize,
    clock: Clock,
    inner: Mutex<Inner<K>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter keeping at most `cap` (at least 1) buckets, on the system clock.
    pub fn new(rate: Rate, cap: usize) -> Limiter<K> {
        Limiter::with_clock(rate, cap, Clock::system())
    }

    pub fn with_clock(rate: Rate, cap: usize, clock: Clock) -> Limiter<K> {
        Limiter {
            rate,
            cap: cap.max(1),
            clock,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: BTreeMap::new(),
                seq: 0,
                limited: 0,
                evicted: 0,
            }),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One message from `key`, now.
    pub fn check(&self, key: &K) -> Decision {
        self.check_at(key, self.clock.now())
    }

    /// One message from `key` at `now`: takes a token, or says how long to wait.
    pub fn check_at(&self, key: &K, now: Instant) -> Decision {
        let rate = self.rate;
        let refill = rate.refill();
        let burst = f64::from(rate.burst);
        let mut inner = self.lock();
        let inner = &mut *inner;
        // Buckets that have filled up again are as good as new ones: drop
        // them (oldest first; each goes once, so this is cheap over time).
        let full_after = rate.fill_time();
        while let Some(entry) = inner.order.first_entry() {
            if now.saturating_duration_since(entry.key().0) < full_after {
                break;
            }
            let k = entry.remove();
            inner.map.remove(&k);
        }
        let mut bucket = match inner.map.remove(key) {
            Some(b) => {
                inner.order.remove(&b.at);
                b
            }
            None => {
                while inner.map.len() >= self.cap {
                    let Some((_, oldest)) = inner.order.pop_first() else {
                        break;
                    };
                    inner.map.remove(&oldest);
                    inner.evicted += 1;
                }
                Bucket {
                    tokens: burst,
                    at: (now, 0),
                    notified: false,
                }
            }
        };
        let elapsed = now.saturating_duration_since(bucket.at.0).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * refill).min(burst);
        // (A hair of slack for float noise: 3 × 1/3 of a token is one token.)
        let decision = if bucket.tokens >= 1.0 - 1e-9 {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0);
            bucket.notified = false;
            Decision::Allow
        } else {
            inner.limited += 1;
            let first = !bucket.notified;
            bucket.notified = true;
            Decision::Limited {
                retry_after: Duration::from_secs_f64((1.0 - bucket.tokens) / refill),
                first,
            }
        };
        inner.seq += 1;
        // The clock never goes back, but a caller's `now` might: keep the
        // later time so the order stays by last use.
        let at = (now.max(bucket.at.0), inner.seq);
        bucket.at = at;
        inner.order.insert(at, key.clone());
        inner.map.insert(key.clone(), bucket);
        decision
    }

    /// Returns the token a message took, when another limit refused that
    /// message after all (so it is not charged twice).
    pub fn give_back(&self, key: &K) {
        let burst = f64::from(self.rate.burst);
        if let Some(b) = self.lock().map.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(burst);
        }
    }

    pub fn stats(&self) -> LimiterStats {
        let inner = self.lock();
        LimiterStats {
            buckets: inner.map.len(),
            limited: inner.limited,
            evicted: inner.evicted,
        }
    }
}

/// The key of a client address: IPv4 as is, IPv6 by its /64 network (one
/// subscriber usually holds a whole /64), IPv4-mapped IPv6 as IPv4.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The polite reply to a message over the limit.
pub fn wait_message(lang: Lang, retry_after: Duration) -> String {
    let n = retry_secs(retry_after);
    lang.pick(&LABELS.wait).replace("{n}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        s.parse::<RateLimit>().unwrap().0.unwrap()
    }

    #[test]
    fn rates_parse() {
        assert_eq!(rate("20/min"), Rate::new(20, Duration::from_secs(60)));
        assert_eq!(rate("5/s"), Rate::new(5, Duration::from_secs(1)));
        assert_eq!(rate("100/h"), Rate::new(100, Duration::from_secs(3600)));
        assert_eq!(rate("3/10s"), Rate::new(3, Duration::from_secs(10)));
        assert_eq!(rate("2/500ms"), Rate::new(2, Duration::from_millis(500)));
        assert_eq!(
            rate("20/min,burst=5"),
            Rate {
                count: 20,
                per: Duration::from_secs(60),
                burst: 5
            }
        );
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit(None)));
        for bad in [
            "",
            "20",
            "/min",
            "0/min",
            "x/min",
            "20/fortnight",
            "20/min,5",
            "20/min,burst=0",
            "-1/s",
            "20/0s",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_allows_the_burst_then_refills() {
        let l = Limiter::new(rate("20/min"), 10);
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(l.check_at(&1, t0), Decision::Allow, "message {}", i + 1);
        }
        // The 21st in the same minute: wait 3 s (60 s / 20), told once.
        let Decision::Limited { retry_after, first } = l.check_at(&1, t0) else {
            panic!("the 21st message is allowed");
        };
        assert!(first);
        assert_eq!(retry_secs(retry_after), 3);
        let Decision::Limited { retry_after, first } = l.check_at(&1, t0 + Duration::from_secs(1))
        else {
            panic!("allowed too early");
        };
        assert!(!first);
        assert_eq!(retry_secs(retry_after), 2);
        // Another key is untouched.
        assert_eq!(l.check_at(&2, t0), Decision::Allow);
        // 3 s later one token is back, and only one.
        let t3 = t0 + Duration::from_secs(3);
        assert_eq!(l.check_at(&1, t3), Decision::Allow);
        assert!(matches!(
            l.check_at(&1, t3),
            Decision::Limited { first: true, .. }
        ));
        assert_eq!(l.stats().limited, 3);
    }

    #[test]
    fn the_number_of_buckets_is_bounded() {
        let l = Limiter::new(rate("2/min"), 100);
        let t0 = Instant::now();
        // Keep one key busy and empty.
        l.check_at(&u64::MAX, t0);
        l.check_at(&u64::MAX, t0);
        for k in 0..10_000u64 {
            l.check_at(&k, t0 + Duration::from_millis(k));
            assert!(l.stats().buckets <= 100);
        }
        let s = l.stats();
        assert_eq!(s.buckets, 100);
        assert_eq!(s.evicted, 10_001 - 100);
        // The most recent ones are kept: key 9999 has used its first token.
        let late = t0 + Duration::from_millis(10_000);
        assert_eq!(l.check_at(&9_999, late), Decision::Allow);
        assert!(!l.check_at(&9_999, late).is_allowed());
    }

    #[test]
    fn full_buckets_are_dropped() {
        let l = Limiter::new(rate("2/min"), 100);
        let t0 = Instant::now();
        for k in 0..50u32 {
            l.check_at(&k, t0);
        }
        assert_eq!(l.stats().buckets, 50);
        // A minute later every bucket is full again: the next message finds
        // only its own.
        l.check_at(&1000, t0 + Duration::from_secs(61));
        assert_eq!(l.stats().buckets, 1);
        assert_eq!(l.stats().evicted, 0);
    }

    #[test]
    fn a_token_given_back_is_there_again() {
        let l = Limiter::new(rate("1/min"), 10);
        let t0 = Instant::now();
        assert!(l.check_at(&1, t0).is_allowed());
        l.give_back(&1);
        assert!(l.check_at(&1, t0).is_allowed());
        assert!(!l.check_at(&1, t0).is_allowed());
        // Never above the burst; unknown keys are left alone.
        l.give_back(&1);
        l.give_back(&1);
        l.give_back(&2);
        assert!(l.check_at(&1, t0).is_allowed());
        assert!(!l.check_at(&1, t0).is_allowed());
        assert_eq!(l.stats().buckets, 1);
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = Clock::manual(Instant::now());
        let l = Limiter::with_clock(rate("1/min"), 10, c.clone());
        assert!(l.check(&"a").is_allowed());
        assert!(!l.check(&"a").is_allowed());
        c.advance(Duration::from_secs(60));
        assert!(l.check(&"a").is_allowed());
    }

    #[test]
    fn ipv6_is_limited_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn wait_messages_speak_the_message_language() {
        let d = Duration::from_millis(2100);
        assert_eq!(
            wait_message(Lang::of_message("共享镜像收费吗"), d),
            "消息太多了，请 3 秒后再试。"
        );
        assert_eq!(
            wait_message(Lang::of_message("鏡像怎麼收費"), d),
            "訊息太多了，請 3 秒後再試。"
        );
        assert_eq!(
            wait_message(Lang::of_message("are images free?"), d),
            "Too many messages, please wait 3 s."
        );
        assert_eq!(Lang::of_message("???"), Lang::Zh);
        assert_eq!(retry_secs(Duration::from_millis(10)), 1);
    }
}
