//! `/metrics`, in the OpenMetrics text format, by prometheus-client. Label
//! values come from a closed set (route templates, status codes, topic ids,
//! reply kinds), so the number of series stays bounded. Counters are
//! registered without `_total`: the encoder adds it to their samples, so the
//! series keep their names (`imagebot_http_requests_total{path,status}`).

use super::conn::ConnStats;
use super::sessions::SessionStats;
use crate::ratelimit::LimiterStats;
use crate::reload::ReloadStats;
use imagebot_core::reply::Reply;
use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// The content type of the text [`render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    path: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabel {
    path: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByLabel {
    by: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The series counted as requests and replies happen.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<PathLabel, Histogram, fn() -> Histogram>,
    answers: Family<TopicLabel, Counter>,
    declines: Family<ReasonLabel, Counter>,
    routes: Family<KindLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            answers: Family::default(),
            declines: Family::default(),
            routes: Family::default(),
        };
        let mut registry = Registry::default();
        registry.register(
            "imagebot_http_requests",
            "HTTP requests by route and status",
            m.requests.clone(),
        );
        registry.register_with_unit(
            "imagebot_http_request_duration",
            "Time to answer an HTTP request",
            Unit::Seconds,
            m.latency.clone(),
        );
        registry.register(
            "imagebot_answers",
            "Replies that answered an FAQ topic, by topic",
            m.answers.clone(),
        );
        registry.register(
            "imagebot_declines",
            "Replies that answered no topic, by reason",
            m.declines.clone(),
        );
        registry.register(
            "imagebot_routes",
            "Replies that sent the user somewhere, by route kind",
            m.routes.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// One HTTP request: `path` is the route template (or "unmatched").
    pub fn request(&self, path: &str, status: u16, took: Duration) {
        let labels = RequestLabels {
            path: path.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&PathLabel { path: labels.path })
            .observe(took.as_secs_f64());
    }

    /// One reply given: its topic, or why it answered nothing, and its route.
    pub fn reply(&self, reply: &Reply) {
        match &reply.topic {
            Some(t) if reply.answered => {
                let labels = TopicLabel { topic: t.clone() };
                self.answers.get_or_create(&labels).inc();
            }
            _ => {
                let labels = ReasonLabel {
                    reason: reply.kind.name(),
                };
                self.declines.get_or_create(&labels).inc();
            }
        }
        if let Some(r) = &reply.route {
            self.routes
                .get_or_create(&KindLabel { kind: r.kind() })
                .inc();
        }
    }
}

/// What the server knows only when asked: sessions, live knowledge, rate
/// limits and connections.
pub struct Snapshot<'a> {
    pub sessions: SessionStats,
    pub reloads: ReloadStats,
    pub topics: usize,
    pub limits: &'a [(&'static str, LimiterStats)],
    pub conns: &'a ConnStats,
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let g: Gauge = Gauge::default();
    g.set(i64::try_from(value).unwrap_or(i64::MAX));
    registry.register(name, help, g);
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

/// One series per limiter, labelled `by` (`session`, `ip`).
fn per_limiter<M: Default + Clone + std::fmt::Debug + Send + Sync + 'static>(
    limits: &[(&'static str, LimiterStats)],
    set: impl Fn(&M, &LimiterStats),
) -> Family<ByLabel, M>
where
    Family<ByLabel, M>: prometheus_client::registry::Metric,
{
    let family: Family<ByLabel, M> = Family::default();
    for (by, st) in limits {
        set(&family.get_or_create(&ByLabel { by }), st);
    }
    family
}

fn sessions_and_connections(r: &mut Registry, now: &Snapshot<'_>) {
    let s = now.sessions;
    let active = u64::try_from(s.active).unwrap_or(u64::MAX);
    gauge(
        r,
        "imagebot_sessions",
        "Conversations kept in memory",
        active,
    );
    counter(
        r,
        "imagebot_sessions_expired",
        "Sessions dropped after their idle time",
        s.expired,
    );
    counter(
        r,
        "imagebot_sessions_evicted",
        "Sessions dropped to keep under the cap",
        s.evicted,
    );
    let c = now.conns;
    let open = u64::try_from(c.open.load(Relaxed)).unwrap_or(u64::MAX);
    gauge(
        r,
        "imagebot_http_connections",
        "Client connections open now",
        open,
    );
    counter(
        r,
        "imagebot_http_connections_evicted",
        "Idle connections closed to make room at --max-connections",
        c.evicted.load(Relaxed),
    );
    counter(
        r,
        "imagebot_http_connections_refused",
        "New connections closed unanswered: every open one had a request in flight",
        c.refused.load(Relaxed),
    );
}

fn knowledge_and_limits(r: &mut Registry, now: &Snapshot<'_>) {
    let reloads: Family<ResultLabel, Counter> = Family::default();
    for (result, n) in [("ok", now.reloads.ok), ("refused", now.reloads.refused)] {
        reloads.get_or_create(&ResultLabel { result }).inc_by(n);
    }
    r.register("imagebot_knowledge_reloads", "Knowledge reloads (SIGHUP or --watch), by result: ok, or refused (the new version failed `imagebot check`; the previous one kept answering)", reloads);
    gauge(
        r,
        "imagebot_knowledge_generation",
        "The knowledge version answering: 0 at start, +1 a successful reload",
        now.reloads.generation,
    );
    let topics = u64::try_from(now.topics).unwrap_or(u64::MAX);
    gauge(
        r,
        "imagebot_knowledge_topics",
        "Topics in the knowledge answering",
        topics,
    );
    r.register(
        "imagebot_rate_limited",
        "Messages refused with 429, by the limit that refused them (session or ip)",
        per_limiter(now.limits, |c: &Counter, st| {
            c.inc_by(st.limited);
        }),
    );
    r.register(
        "imagebot_rate_limit_buckets",
        "Token buckets kept in memory, by limit",
        per_limiter(now.limits, |g: &Gauge, st| {
            g.set(i64::try_from(st.buckets).unwrap_or(i64::MAX));
        }),
    );
    r.register(
        "imagebot_rate_limit_buckets_evicted",
        "Buckets dropped to keep under the cap, by limit",
        per_limiter(now.limits, |c: &Counter, st| {
            c.inc_by(st.evicted);
        }),
    );
}

/// The whole `/metrics` text: the counted series, then those of `now`,
/// then `# EOF`.
pub fn render(metrics: &Metrics, now: &Snapshot<'_>) -> String {
    let mut asked = Registry::default();
    sessions_and_connections(&mut asked, now);
    knowledge_and_limits(&mut asked, now);
    let mut s = String::with_capacity(8192);
    // Writing into a String cannot fail.
    let _ = text::encode_registry(&mut s, &metrics.registry);
    let _ = text::encode_registry(&mut s, &asked);
    let _ = text::encode_eof(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Metrics, limits: &[(&'static str, LimiterStats)]) -> String {
        let conns = ConnStats::default();
        conns.open.store(3, Relaxed);
        render(
            m,
            &Snapshot {
                sessions: SessionStats {
                    active: 5,
                    expired: 1,
                    evicted: 0,
                },
                reloads: ReloadStats {
                    ok: 2,
                    refused: 1,
                    generation: 2,
                },
                topics: 17,
                limits,
                conns: &conns,
            },
        )
    }

    #[test]
    fn requests_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("/v1/answer", 200, Duration::from_micros(300));
        m.request("/v1/answer", 200, Duration::from_millis(3));
        m.request("/v1/answer", 400, Duration::from_secs(10));
        let t = text(&m, &[]);
        assert!(t.contains("imagebot_http_requests_total{path=\"/v1/answer\",status=\"200\"} 2\n"));
        assert!(t.contains("imagebot_http_requests_total{path=\"/v1/answer\",status=\"400\"} 1\n"));
        assert!(t.contains("# TYPE imagebot_http_requests counter\n"));
        assert!(t.contains("# HELP imagebot_http_requests HTTP requests by route and status.\n"));
        assert!(t.contains("# TYPE imagebot_http_request_duration_seconds histogram\n"));
        assert!(t.contains("# UNIT imagebot_http_request_duration_seconds seconds\n"));
        let h = "imagebot_http_request_duration_seconds";
        assert!(
            t.contains(&format!(
                "{h}_bucket{{le=\"0.0005\",path=\"/v1/answer\"}} 1\n"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "{h}_bucket{{le=\"0.005\",path=\"/v1/answer\"}} 2\n"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!("{h}_bucket{{le=\"2.5\",path=\"/v1/answer\"}} 2\n")),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "{h}_bucket{{le=\"+Inf\",path=\"/v1/answer\"}} 3\n"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!("{h}_count{{path=\"/v1/answer\"}} 3\n")),
            "{t}"
        );
        assert!(t.ends_with("\n# EOF\n"), "{t}");
        assert_eq!(t.matches("# EOF").count(), 1);
    }

    #[test]
    fn asked_series_keep_their_names_and_types() {
        let stats = LimiterStats {
            buckets: 3,
            limited: 4,
            evicted: 0,
        };
        let t = text(&Metrics::default(), &[("session", stats)]);
        for line in [
            "imagebot_sessions 5",
            "# TYPE imagebot_sessions gauge",
            "imagebot_sessions_expired_total 1",
            "# TYPE imagebot_sessions_expired counter",
            "imagebot_sessions_evicted_total 0",
            "imagebot_knowledge_reloads_total{result=\"ok\"} 2",
            "imagebot_knowledge_reloads_total{result=\"refused\"} 1",
            "imagebot_knowledge_generation 2",
            "imagebot_knowledge_topics 17",
            "imagebot_rate_limited_total{by=\"session\"} 4",
            "imagebot_rate_limit_buckets{by=\"session\"} 3",
            "# TYPE imagebot_rate_limit_buckets gauge",
            "imagebot_rate_limit_buckets_evicted_total{by=\"session\"} 0",
            "imagebot_http_connections 3",
            "imagebot_http_connections_evicted_total 0",
            "imagebot_http_connections_refused_total 0",
        ] {
            assert!(t.lines().any(|l| l == line), "{line}:\n{t}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.request("a\"b\\c\nd", 404, Duration::ZERO);
        let t = text(&m, &[]);
        assert!(
            t.contains("imagebot_http_requests_total{path=\"a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"),
            "{t}"
        );
    }
}
