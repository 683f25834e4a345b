//! Counters for `/metrics`, in the Prometheus text format (version 0.0.4).
//! Label values come from a closed set (route templates, status codes,
//! topic ids, reply kinds), so the number of series stays bounded.

use super::sessions::SessionStats;
use crate::ratelimit::LimiterStats;
use crate::reload::ReloadStats;
use imagebot_core::reply::Reply;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default, Clone)]
struct Histogram {
    /// Per bucket (not cumulative); the last one is +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        let i = BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    answers: BTreeMap<String, u64>,
    declines: BTreeMap<&'static str, u64>,
    routes: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn family(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}");
    let _ = writeln!(s, "# TYPE {name} {kind}");
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One HTTP request: `path` is the route template (or "unmatched").
    pub fn request(&self, path: &str, status: u16, took: Duration) {
        let mut m = self.lock();
        *m.requests.entry((path.to_string(), status)).or_default() += 1;
        match m.latency.get_mut(path) {
            Some(h) => h.observe(took.as_secs_f64()),
            None => {
                let mut h = Histogram::default();
                h.observe(took.as_secs_f64());
                m.latency.insert(path.to_string(), h);
            }
        }
    }

    /// One reply given: its topic, or why it answered nothing, and its route.
    pub fn reply(&self, reply: &Reply) {
        let mut m = self.lock();
        match &reply.topic {
            Some(t) if reply.answered => *m.answers.entry(t.clone()).or_default() += 1,
            _ => *m.declines.entry(reply.kind.name()).or_default() += 1,
        }
        if let Some(r) = &reply.route {
            *m.routes.entry(r.kind()).or_default() += 1;
        }
    }

    /// The text format.
    pub fn render(&self, sessions: SessionStats) -> String {
        let m = self.lock();
        let mut s = String::with_capacity(4096);
        family(
            &mut s,
            "imagebot_http_requests_total",
            "counter",
            "HTTP requests by route and status.",
        );
        for ((path, status), n) in &m.requests {
            let _ = writeln!(
                s,
                "imagebot_http_requests_total{{path=\"{}\",status=\"{status}\"}} {n}",
                escape(path)
            );
        }
        family(
            &mut s,
            "imagebot_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request.",
        );
        for (path, h) in &m.latency {
            let path = escape(path);
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    s,
                    "imagebot_http_request_duration_seconds_bucket{{path=\"{path}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                s,
                "imagebot_http_request_duration_seconds_bucket{{path=\"{path}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                s,
                "imagebot_http_request_duration_seconds_sum{{path=\"{path}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                s,
                "imagebot_http_request_duration_seconds_count{{path=\"{path}\"}} {}",
                h.count
            );
        }
        family(
            &mut s,
            "imagebot_answers_total",
            "counter",
            "Replies that answered an FAQ topic, by topic.",
        );
        for (topic, n) in &m.answers {
            let _ = writeln!(
                s,
                "imagebot_answers_total{{topic=\"{}\"}} {n}",
                escape(topic)
            );
        }
        family(
            &mut s,
            "imagebot_declines_total",
            "counter",
            "Replies that answered no topic, by reason.",
        );
        for (reason, n) in &m.declines {
            let _ = writeln!(s, "imagebot_declines_total{{reason=\"{reason}\"}} {n}");
        }
        family(
            &mut s,
            "imagebot_routes_total",
            "counter",
            "Replies that sent the user somewhere, by route kind.",
        );
        for (kind, n) in &m.routes {
            let _ = writeln!(s, "imagebot_routes_total{{kind=\"{kind}\"}} {n}");
        }
        family(
            &mut s,
            "imagebot_sessions",
            "gauge",
            "Conversations kept in memory.",
        );
        let _ = writeln!(s, "imagebot_sessions {}", sessions.active);
        family(
            &mut s,
            "imagebot_sessions_expired_total",
            "counter",
            "Sessions dropped after their idle time.",
        );
        let _ = writeln!(s, "imagebot_sessions_expired_total {}", sessions.expired);
        family(
            &mut s,
            "imagebot_sessions_evicted_total",
            "counter",
            "Sessions dropped to keep under the cap.",
        );
        let _ = writeln!(s, "imagebot_sessions_evicted_total {}", sessions.evicted);
        s
    }
}

/// The series of live knowledge and rate limits: reloads by result, the
/// knowledge's generation and topics, and per limiter (`session`, `ip`)
/// the messages refused, the buckets kept and the buckets evicted.
pub fn render_live(
    reloads: ReloadStats,
    topics: usize,
    limits: &[(&'static str, LimiterStats)],
) -> String {
    let mut s = String::with_capacity(1024);
    family(&mut s, "imagebot_knowledge_reloads_total", "counter", "Knowledge reloads (SIGHUP or --watch), by result: ok, or refused (the new version failed `imagebot check`; the previous one kept answering).");
    let _ = writeln!(
        s,
        "imagebot_knowledge_reloads_total{{result=\"ok\"}} {}",
        reloads.ok
    );
    let _ = writeln!(
        s,
        "imagebot_knowledge_reloads_total{{result=\"refused\"}} {}",
        reloads.refused
    );
    family(
        &mut s,
        "imagebot_knowledge_generation",
        "gauge",
        "The knowledge version answering: 0 at start, +1 a successful reload.",
    );
    let _ = writeln!(s, "imagebot_knowledge_generation {}", reloads.generation);
    family(
        &mut s,
        "imagebot_knowledge_topics",
        "gauge",
        "Topics in the knowledge answering.",
    );
    let _ = writeln!(s, "imagebot_knowledge_topics {topics}");
    family(
        &mut s,
        "imagebot_rate_limited_total",
        "counter",
        "Messages refused with 429, by the limit that refused them (session or ip).",
    );
    for (by, st) in limits {
        let _ = writeln!(
            s,
            "imagebot_rate_limited_total{{by=\"{by}\"}} {}",
            st.limited
        );
    }
    family(
        &mut s,
        "imagebot_rate_limit_buckets",
        "gauge",
        "Token buckets kept in memory, by limit.",
    );
    for (by, st) in limits {
        let _ = writeln!(
            s,
            "imagebot_rate_limit_buckets{{by=\"{by}\"}} {}",
            st.buckets
        );
    }
    family(
        &mut s,
        "imagebot_rate_limit_buckets_evicted_total",
        "counter",
        "Buckets dropped to keep under the cap, by limit.",
    );
    for (by, st) in limits {
        let _ = writeln!(
            s,
            "imagebot_rate_limit_buckets_evicted_total{{by=\"{by}\"}} {}",
            st.evicted
        );
    }
    s
}

/// The connection families: open now, evicted to make room, refused.
pub fn render_connections(c: &super::conn::ConnStats) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let mut s = String::with_capacity(512);
    family(
        &mut s,
        "imagebot_http_connections",
        "gauge",
        "Client connections open now.",
    );
    let _ = writeln!(s, "imagebot_http_connections {}", c.open.load(Relaxed));
    family(
        &mut s,
        "imagebot_http_connections_evicted_total",
        "counter",
        "Idle connections closed to make room at --max-connections.",
    );
    let _ = writeln!(
        s,
        "imagebot_http_connections_evicted_total {}",
        c.evicted.load(Relaxed)
    );
    family(
        &mut s,
        "imagebot_http_connections_refused_total",
        "counter",
        "New connections closed unanswered: every open one had a request in flight.",
    );
    let _ = writeln!(
        s,
        "imagebot_http_connections_refused_total {}",
        c.refused.load(Relaxed)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.request("/v1/answer", 200, Duration::from_micros(300));
        m.request("/v1/answer", 200, Duration::from_millis(3));
        m.request("/v1/answer", 400, Duration::from_secs(10));
        let text = m.render(SessionStats::default());
        assert!(text.contains("imagebot_http_requests_total{path=\"/v1/answer\",status=\"200\"} 2"));
        assert!(text.contains("imagebot_http_requests_total{path=\"/v1/answer\",status=\"400\"} 1"));
        assert!(text.contains("_bucket{path=\"/v1/answer\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("_bucket{path=\"/v1/answer\",le=\"0.005\"} 2\n"));
        assert!(text.contains("_bucket{path=\"/v1/answer\",le=\"2.5\"} 2\n"));
        assert!(text.contains("_bucket{path=\"/v1/answer\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("_count{path=\"/v1/answer\"} 3\n"));
    }

    #[test]
    fn live_series() {
        let text = render_live(
            ReloadStats {
                ok: 2,
                refused: 1,
                generation: 2,
            },
            17,
            &[(
                "session",
                LimiterStats {
                    buckets: 3,
                    limited: 4,
                    evicted: 0,
                },
            )],
        );
        assert!(text.contains("imagebot_knowledge_reloads_total{result=\"ok\"} 2\n"));
        assert!(text.contains("imagebot_knowledge_reloads_total{result=\"refused\"} 1\n"));
        assert!(text.contains("imagebot_knowledge_topics 17\n"));
        assert!(text.contains("imagebot_rate_limited_total{by=\"session\"} 4\n"));
        assert!(text.contains("imagebot_rate_limit_buckets{by=\"session\"} 3\n"));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
