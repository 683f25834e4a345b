//! `imagebot serve`: the HTTP API of the contract and the web chat page,
//! axum on tokio. Another skin over [`crate::answer`]:
//!
//! | method, path | answer |
//! |---|---|
//! | `POST /v1/answer` | `{"message", "session_id"?}` → the reply's JSON form plus `session_id` |
//! | `GET /v1/topics` | the topics with their questions in both languages |
//! | `GET /healthz` | 200 when the knowledge is loaded |
//! | `GET /metrics` | OpenMetrics text (prometheus-client) |
//! | `GET /openapi.json` | the OpenAPI description of all of this |
//! | `GET /` | the web chat page (and its `/static/` files) |
//! | `GET /widget.js` | the chat as a widget for other sites ([`embed`]) |
//!
//! Errors are JSON, `{"error": CODE, "message": TEXT}`, with the status that
//! fits. Sessions live in memory, expire when idle and are capped
//! ([`sessions`]). Message bodies are logged at debug level only.
//!
//! The knowledge is live ([`crate::reload`]): SIGHUP, or a change
//! in the folder with `--watch`, swaps in a new version that passes
//! `imagebot check`; each request answers with the version it started on.
//! Messages are rate-limited per session and per client IP
//! ([`crate::ratelimit`]): over the limit, 429 with `Retry-After`
//! and a reply that says how long to wait.

pub mod client;
pub mod conn;
pub mod embed;
pub mod metrics;
pub mod sessions;

use super::ratelimit::{self, Limiter, LimiterStats, Rate};
use super::reload::{self, LiveKnowledge, ReloadOptions};
use axum::body::{Body, Bytes};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use imagebot_core::markup::to_html;
use imagebot_core::reply::{Lang, Reply};
use imagebot_core::{answer, Assistant, Conversation};
use imagebot_records::Recorder;
use metrics::Metrics;
use serde::Serialize;
use serde_json::{json, Value};
use sessions::Sessions;
use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// The largest request body accepted (64 KiB); larger ones get 413.
pub const MAX_BODY: usize = 64 * 1024;

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The default `--header-timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default `--body-timeout`.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The default `--max-sessions-per-client`.
pub const DEFAULT_SESSIONS_PER_CLIENT: usize = 100;
/// How often refused requests are summed up in the log.
pub const REFUSAL_SUMMARY: Duration = Duration::from_secs(60);
/// The longest request target (path and query) answered; longer: 414.
pub const MAX_URI: usize = 8 * 1024;
/// The most header bytes answered; more: 431.
pub const MAX_HEADERS: usize = 32 * 1024;

const PAGE_HTML: &str = include_str!("page/index.html");
/// The chat (shared with the widget) and the page's start.
const PAGE_JS: &str = concat!(include_str!("page/chat.js"), include_str!("page/app.js"));
const PAGE_CSS: &str = include_str!("page/app.css");
/// The OpenAPI description, kept true by `tests/http.rs`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The page may load only its own files and talk only to this server.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `HOST:PORT` to listen on (port 0: any free port).
    pub addr: String,
    /// A session is forgotten after this long without a message.
    pub session_idle: Duration,
    /// At most this many sessions are kept; beyond, the least recently used goes.
    pub max_sessions: usize,
    /// Where escalations and unanswered questions are recorded (channel
    /// "http"); `None`: not recorded (`--no-record`).
    pub recorder: Option<Recorder>,
    /// The `--knowledge` folder, reloaded on SIGHUP (`None`: the built-in
    /// knowledge, nothing to reload).
    pub knowledge_dir: Option<PathBuf>,
    /// `--watch`: also reload when the folder's files change.
    pub reload: ReloadOptions,
    /// Messages allowed per session (`None`: no limit).
    pub session_rate: Option<Rate>,
    /// Messages allowed per client IP (IPv6: per /64; `None`: no limit).
    pub ip_rate: Option<Rate>,
    /// The most rate-limit buckets kept per limiter.
    pub max_buckets: usize,
    /// A request's headers must arrive within this long (also how long a
    /// keep-alive connection may wait for its next request).
    pub header_timeout: Duration,
    /// A request's body must arrive within this long of its headers.
    pub body_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
    /// The most sessions one client address may hold.
    pub max_sessions_per_client: usize,
    /// A proxy whose `X-Forwarded-For` names the client (`--trust-proxy`).
    pub trust_proxy: Option<IpAddr>,
    /// How often refused requests are summed up in the info log.
    pub refusal_summary: Duration,
    /// The sites whose pages may embed the chat widget (`--embed-origin`).
    pub embed_origins: Vec<embed::EmbedOrigin>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: "127.0.0.1:8080".into(),
            session_idle: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
            recorder: None,
            knowledge_dir: None,
            reload: ReloadOptions::default(),
            session_rate: ratelimit::DEFAULT_RATE
                .parse::<ratelimit::RateLimit>()
                .ok()
                .and_then(|r| r.0),
            ip_rate: ratelimit::DEFAULT_IP_RATE
                .parse::<ratelimit::RateLimit>()
                .ok()
                .and_then(|r| r.0),
            max_buckets: ratelimit::DEFAULT_MAX_BUCKETS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: 1000,
            max_sessions_per_client: DEFAULT_SESSIONS_PER_CLIENT,
            trust_proxy: None,
            refusal_summary: REFUSAL_SUMMARY,
            embed_origins: Vec::new(),
        }
    }
}

pub use imagebot_records::duration::parse as parse_duration;

/// What every request shares.
pub struct Shared {
    /// The knowledge: take it once per request ([`LiveKnowledge::get`]).
    pub live: Arc<LiveKnowledge>,
    pub sessions: Sessions,
    pub metrics: Metrics,
    pub recorder: Option<Recorder>,
    pub limits: Limits,
    /// `/v1/topics` of a knowledge generation, made once per generation.
    topics_json: RwLock<(u64, Arc<str>)>,
    /// The proxy whose `X-Forwarded-For` names the client.
    pub trust_proxy: Option<IpAddr>,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Open connections and evictions, for `/metrics`.
    pub conns: Arc<conn::ConnStats>,
    /// Requests refused (429) since the last summary line in the log.
    pub refused_since_summary: std::sync::atomic::AtomicU64,
    /// How often that summary is written.
    pub refusal_summary: Duration,
    /// The sites whose pages may embed the widget.
    pub embed_origins: Vec<embed::EmbedOrigin>,
}

/// The rate limits of `POST /v1/answer`: per session (keyed by a keyed hash
/// of the id, so a bucket is small whatever the id) and per client IP.
pub struct Limits {
    pub session: Option<Limiter<u64>>,
    pub ip: Option<Limiter<IpAddr>>,
    ids: RandomState,
}

impl Limits {
    pub fn new(opts: &ServeOptions) -> Limits {
        Limits {
            session: opts.session_rate.map(|r| Limiter::new(r, opts.max_buckets)),
            ip: opts.ip_rate.map(|r| Limiter::new(r, opts.max_buckets)),
            ids: RandomState::new(),
        }
    }

    /// One message from a client in a session: `None` when allowed, else
    /// which limit refused it (`"ip"` or `"session"`) and for how long. A
    /// refused message costs only the limit that refused it: one person
    /// over their session's limit does not use up the budget of everyone
    /// behind the same address.
    pub fn check(&self, ip: Option<IpAddr>, session: &str) -> Option<(&'static str, Duration)> {
        let ip = ip.map(ratelimit::ip_key);
        if let (Some(l), Some(ip)) = (&self.ip, ip) {
            if let ratelimit::Decision::Limited { retry_after, .. } = l.check(&ip) {
                return Some(("ip", retry_after));
            }
        }
        if let Some(l) = &self.session {
            if let ratelimit::Decision::Limited { retry_after, .. } =
                l.check(&self.ids.hash_one(session))
            {
                if let (Some(l), Some(ip)) = (&self.ip, ip) {
                    l.give_back(&ip);
                }
                return Some(("session", retry_after));
            }
        }
        None
    }

    /// Per limiter: its name and counts.
    pub fn stats(&self) -> Vec<(&'static str, LimiterStats)> {
        let mut out = Vec::new();
        if let Some(l) = &self.session {
            out.push(("session", l.stats()));
        }
        if let Some(l) = &self.ip {
            out.push(("ip", l.stats()));
        }
        out
    }
}

/// The server's state, cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl AppState {
    /// A server answering from `kb`, which never changes.
    pub fn new(kb: Assistant, opts: &ServeOptions) -> AppState {
        AppState::with_live(LiveKnowledge::fixed(kb), opts)
    }

    /// A server answering from live knowledge.
    pub fn with_live(live: Arc<LiveKnowledge>, opts: &ServeOptions) -> AppState {
        let (generation, kb) = live.snapshot();
        let topics = topics_json(&kb).into();
        AppState(Arc::new(Shared {
            live,
            sessions: Sessions::new(
                opts.session_idle,
                opts.max_sessions,
                opts.max_sessions_per_client,
            ),
            metrics: Metrics::default(),
            recorder: opts.recorder.clone(),
            limits: Limits::new(opts),
            topics_json: RwLock::new((generation, topics)),
            trust_proxy: opts.trust_proxy,
            body_timeout: opts.body_timeout,
            conns: Arc::default(),
            refused_since_summary: Default::default(),
            refusal_summary: opts.refusal_summary,
            embed_origins: opts.embed_origins.clone(),
        }))
    }
}

impl Shared {
    /// `/v1/topics` of the current knowledge.
    fn topics_body(&self) -> Arc<str> {
        let (generation, kb) = self.live.snapshot();
        {
            let cached = self.topics_json.read().unwrap_or_else(|e| e.into_inner());
            if cached.0 == generation {
                return Arc::clone(&cached.1);
            }
        }
        let body: Arc<str> = topics_json(&kb).into();
        let mut cached = self.topics_json.write().unwrap_or_else(|e| e.into_inner());
        if cached.0 < generation {
            *cached = (generation, Arc::clone(&body));
        }
        body
    }
}

/// `/v1/topics`: the topics (questions in both languages) and the image
/// types (names in Simplified, Traditional and English, for buttons).
fn topics_json(kb: &Assistant) -> String {
    #[derive(Serialize)]
    struct Names<'a> {
        zh: &'a str,
        #[serde(rename = "zh-hant", skip_serializing_if = "Option::is_none")]
        zh_hant: Option<String>,
        en: &'a str,
    }
    #[derive(Serialize)]
    struct Topic<'a> {
        id: &'a str,
        question: Names<'a>,
    }
    #[derive(Serialize)]
    struct ImageType<'a> {
        id: &'a str,
        name: Names<'a>,
    }
    #[derive(Serialize)]
    struct Topics<'a> {
        topics: Vec<Topic<'a>>,
        image_types: Vec<ImageType<'a>>,
    }
    let body = Topics {
        topics: kb
            .kb
            .topics
            .iter()
            .map(|t| Topic {
                id: &t.id,
                question: Names {
                    zh: &t.question.zh,
                    zh_hant: None,
                    en: &t.question.en,
                },
            })
            .collect(),
        image_types: kb
            .kb
            .types
            .iter()
            .map(|t| ImageType {
                id: &t.id,
                name: Names {
                    zh: &t.name.zh,
                    zh_hant: Some(Lang::ZhHant.pick(&t.name).into_owned()),
                    en: &t.name.en,
                },
            })
            .collect(),
    };
    serde_json::to_string(&body).unwrap_or_else(|_| "{}".into())
}

/// The router: every route, the JSON 404 and 405, the body limit, panics
/// turned into 500, and the request log and metrics around all of it.
pub fn router(state: AppState) -> Router {
    // The widget's calls: cross-origin for the listed sites only.
    let (mut answer, mut topics) = (post(answer_route), get(topics));
    if let Some(cors) = embed::cors(&state.0.embed_origins) {
        // The layer answers every OPTIONS (a preflight) itself; the method
        // only has to be routed, or the 405 fallback would take it first.
        answer = answer.options(preflight).layer(cors.clone());
        topics = topics.options(preflight).layer(cors);
    }
    Router::new()
        .route("/", get(page))
        .route("/static/app.js", get(page_js))
        .route("/static/app.css", get(page_css))
        .route("/widget.js", get(embed::widget_js))
        .route("/v1/answer", answer)
        .route("/v1/topics", topics)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_route))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            error!(
                status = self.status.as_u16(),
                code = self.code,
                "{}",
                self.message
            );
        } else {
            warn!(
                status = self.status.as_u16(),
                code = self.code,
                "{}",
                self.message
            );
        }
        let body = json!({"error": self.code, "message": self.message}).to_string();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error while answering",
    )
    .into_response()
}

/// The client's address, from the connection (none when the router is
/// served without connection info).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// Logs every request (method, path, status, time; never a body) and counts
/// it by route template. Refusals (429) are logged at debug level only and
/// summed up at info once a minute, so a client over its limit cannot flood
/// the log. Requests too large to answer are refused here, before a body is
/// read: a target over [`MAX_URI`] (414), headers over [`MAX_HEADERS`] (431),
/// a `Content-Length` over [`MAX_BODY`] (413).
async fn observe(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client::client_addr(peer, req.headers(), app.0.trust_proxy);
    req.extensions_mut().insert(ClientIp(ip));
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let path: String = req.uri().path().chars().take(200).collect();
    let mut res = match too_large(&req) {
        Some(refusal) => refusal.into_response(),
        None => next.run(req).await,
    };
    let took = start.elapsed();
    let status = res.status().as_u16();
    app.0.metrics.request(&route, status, took);
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let micros = took.as_micros() as u64;
    if status == 429 {
        app.0
            .refused_since_summary
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        debug!(%method, %path, status, micros, "request refused");
        return res;
    }
    match res.extensions().get::<ReplyLog>() {
        Some(r) => info!(
            %method,
            %path,
            status,
            micros,
            session = %r.session,
            topic = r.topic.as_deref().unwrap_or("-"),
            image_type = r.image_type.as_deref().unwrap_or("-"),
            route = r.route.unwrap_or("-"),
            kind = r.kind,
            "request"
        ),
        None => info!(%method, %path, status, micros, "request"),
    }
    res
}

/// A request too large to answer, judged from its head alone.
fn too_large(req: &Request) -> Option<ApiError> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is longer than {} KiB", MAX_URI / 1024),
        ));
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers > MAX_HEADERS {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the headers are larger than {} KiB", MAX_HEADERS / 1024),
        ));
    }
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY as u64) {
        return Some(payload_too_large());
    }
    None
}

fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {} KiB", MAX_BODY / 1024),
    )
}

/// What the request log says about a reply (never the message or the text).
#[derive(Clone)]
struct ReplyLog {
    /// The first 8 characters of the session id.
    session: String,
    topic: Option<String>,
    image_type: Option<String>,
    route: Option<&'static str>,
    kind: &'static str,
}

/// Never reached: the CORS layer in front answers preflights.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such path")
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on this path"),
    )
}

fn text(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE_HTML,
    )
        .into_response()
}

async fn page_js() -> Response {
    text("text/javascript; charset=utf-8", PAGE_JS)
}

async fn page_css() -> Response {
    text("text/css; charset=utf-8", PAGE_CSS)
}

async fn openapi() -> Response {
    text("application/json", OPENAPI)
}

async fn topics(State(app): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.0.topics_body().to_string(),
    )
        .into_response()
}

async fn healthz(State(app): State<AppState>) -> Response {
    let body = json!({"status": "ok", "topics": app.0.live.get().kb.topics.len()}).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics_route(State(app): State<AppState>) -> Response {
    let shared = &*app.0;
    let limits = shared.limits.stats();
    let body = metrics::render(
        &shared.metrics,
        &metrics::Snapshot {
            sessions: shared.sessions.stats(),
            reloads: shared.live.stats(),
            topics: shared.live.get().kb.topics.len(),
            limits: &limits,
            conns: &shared.conns,
        },
    );
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

/// A parsed `POST /v1/answer` body.
#[derive(Debug, PartialEq)]
pub struct AnswerRequest {
    pub message: String,
    pub session_id: Option<String>,
    /// Also return the answer as HTML (`html`), the reply's language
    /// (`lang`) and any ticket draft as text (`ticket_text`), for the web page.
    pub html: bool,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Checks a request body: a JSON object with a non-empty string `message`,
/// an optional `session_id` (1-128 of `A-Za-z0-9_-.:`) and an optional `html` flag.
pub fn parse_request(body: &[u8]) -> Result<AnswerRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let Value::Object(obj) = value else {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the body must be a JSON object",
        ));
    };
    let message = match obj.get("message") {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "missing_message",
                "the field `message` is required",
            ))
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(ApiError::bad_request(
                "empty_message",
                "the field `message` is empty",
            ))
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_message",
                "the field `message` must be a string",
            ))
        }
    };
    let session_id =
        match obj.get("session_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if sessions::valid_id(s) => Some(s.clone()),
            Some(_) => return Err(ApiError::bad_request(
                "invalid_session_id",
                "`session_id` must be a string of 1 to 128 letters, digits, `_`, `-`, `.` or `:`",
            )),
        };
    let html = match obj.get("html") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_html",
                "`html` must be true or false",
            ))
        }
    };
    Ok(AnswerRequest {
        message,
        session_id,
        html,
    })
}

/// The body of a `POST /v1/answer` response: the reply's JSON form (in the
/// contract's order, with the optional `ticket` draft) plus `session_id`;
/// and when asked for, `html`, `lang` and the draft as copyable text, `ticket_text`.
#[derive(Serialize)]
struct AnswerResponse<'a> {
    #[serde(flatten)]
    reply: &'a Reply,
    session_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_text: Option<&'a str>,
}

/// The response body for a reply in a session.
pub fn response_json(reply: &Reply, session_id: &str, html: bool) -> Result<String, ApiError> {
    let body = AnswerResponse {
        reply,
        session_id,
        html: html.then(|| to_html(&reply.markup)),
        lang: html.then_some(reply.lang.name()),
        ticket_text: reply.ticket_draft.as_deref().filter(|_| html),
    };
    serde_json::to_string(&body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot write the reply: {e}"),
        )
    })
}

/// The body of a 429: the contract's fields (nothing answered, `text` the
/// polite wait message) plus `session_id`, so a client shows it like any
/// reply, and `error` and `retry_after` (seconds) for programs.
#[derive(Serialize)]
struct LimitedResponse<'a> {
    answered: bool,
    topic: Option<String>,
    image_type: Option<String>,
    confidence: f32,
    route: Option<String>,
    text: &'a str,
    suggestions: [&'a str; 0],
    session_id: &'a str,
    error: &'static str,
    retry_after: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'static str>,
}

/// 429 Too Many Requests, with `Retry-After` and the wait message in the
/// language of the message.
fn rate_limited(
    req: &AnswerRequest,
    id: &str,
    by: &'static str,
    retry_after: Duration,
) -> Response {
    let lang = Lang::of_message(&req.message);
    let secs = ratelimit::retry_secs(retry_after);
    let text = ratelimit::wait_message(lang, retry_after);
    let body = LimitedResponse {
        answered: false,
        topic: None,
        image_type: None,
        confidence: 0.0,
        route: None,
        text: &text,
        suggestions: [],
        session_id: id,
        error: "rate_limited",
        retry_after: secs,
        html: req.html.then(|| to_html(&text)),
        lang: req.html.then_some(lang.name()),
    };
    let body = serde_json::to_string(&body).unwrap_or_else(|_| "{}".into());
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::RETRY_AFTER, secs.to_string()),
        ],
        body,
    )
        .into_response();
    res.extensions_mut().insert(ReplyLog {
        session: id.chars().take(8).collect(),
        topic: None,
        image_type: None,
        route: None,
        kind: if by == "ip" {
            "rate_limited_ip"
        } else {
            "rate_limited_session"
        },
    });
    res
}

async fn answer_route(
    State(app): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        ));
    }
    let shared = &*app.0;
    let body = read_body(body, shared.body_timeout).await?;
    let req = parse_request(&body)?;
    // Only an id this server issued, still alive, continues a conversation;
    // any other starts a new session with a new id.
    let now = Instant::now();
    let resumed = req
        .session_id
        .as_deref()
        .and_then(|id| Some((id.to_string(), shared.sessions.get(id, now)?)));
    let (id, mut conv) = resumed.unwrap_or_else(|| (shared.sessions.new_id(), Conversation::new()));
    if let Some((by, retry_after)) = shared.limits.check(ip, &id) {
        debug!(session = %id, by, "rate limited");
        return Ok(rate_limited(&req, &id, by, retry_after));
    }
    debug!(session = %id, message = %req.message, "message");
    // This request answers with this version to the end, whatever reloads meanwhile.
    let kb = shared.live.get();
    let reply = answer(&kb, &mut conv, &req.message);
    let owner = ip.map(ratelimit::ip_key);
    shared.sessions.put(&id, owner, conv, Instant::now());
    shared.metrics.reply(&reply);
    if let Some(rec) = &shared.recorder {
        record(rec, &req.message, &reply).await;
    }
    let body = response_json(&reply, &id, req.html)?;
    let mut res = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    res.extensions_mut().insert(ReplyLog {
        session: id.chars().take(8).collect(),
        topic: reply.topic.clone(),
        image_type: reply.image_type.clone(),
        route: reply.route.as_ref().map(|r| r.kind()),
        kind: reply.kind.name(),
    });
    Ok(res)
}

/// Reads a request body of at most [`MAX_BODY`] bytes within `timeout`:
/// 413 when larger (chunked bodies are counted as they come), 408 when it
/// does not arrive in time.
async fn read_body(body: Body, timeout: Duration) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body did not arrive within {} s", timeout.as_secs_f64()),
        )),
        Ok(Err(e)) if is_length_limit(&e) => Err(payload_too_large()),
        Ok(Err(e)) => Err(ApiError::bad_request(
            "unreadable_body",
            format!("cannot read the body: {e}"),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Records an escalation or an unanswered question before the reply goes
/// out (SQLite, off the async workers). A failure is logged; the answer is
/// never lost for it.
async fn record(rec: &Recorder, message: &str, reply: &Reply) {
    let (rec, message, reply) = (rec.clone(), message.to_string(), reply.clone());
    match tokio::task::spawn_blocking(move || rec.record("http", &message, &reply)).await {
        Ok(Ok(Some(id))) => debug!(record = id, "recorded"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => warn!("could not record this message: {e}"),
        Err(e) => error!("the recording task failed: {e}"),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("Ctrl-C received"),
        _ = term => info!("SIGTERM received"),
    }
}

/// Serves on a bound listener until `shutdown` resolves, then closes idle
/// connections at once and lets requests in flight finish (for up to
/// [`SHUTDOWN_GRACE`]).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: conn::ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = [
        sweep_sessions(state.clone()),
        summarize_refusals(state.clone()),
    ];
    let stats = Arc::clone(&state.0.conns);
    let app = router(state);
    let result = conn::serve(listener, app, limits, stats, shutdown, SHUTDOWN_GRACE).await;
    for task in background {
        task.abort();
    }
    info!("stopped");
    result
}

/// Expired sessions go even when nobody asks for them again.
fn sweep_sessions(state: AppState) -> tokio::task::JoinHandle<()> {
    let every =
        (state.0.sessions.idle() / 2).clamp(Duration::from_millis(50), Duration::from_secs(60));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let n = state.0.sessions.prune(Instant::now());
            if n > 0 {
                debug!(expired = n, "sessions expired");
            }
        }
    })
}

/// Every `--refusal-log-every` (a minute), one info line with the number of
/// refused requests, if any.
fn summarize_refusals(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.0.refusal_summary;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let n = state
                .0
                .refused_since_summary
                .swap(0, std::sync::atomic::Ordering::Relaxed);
            if n > 0 {
                let secs = every.as_secs_f64();
                info!(
                    refused = n,
                    "rate limits refused {n} request(s) in the last {secs} s"
                );
            }
        }
    })
}

/// `imagebot serve`: binds, says where on standard output, serves until
/// Ctrl-C or SIGTERM.
pub fn run(kb: Assistant, opts: ServeOptions) -> anyhow::Result<()> {
    use anyhow::Context;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&opts.addr)
            .await
            .with_context(|| format!("cannot listen on {}", opts.addr))?;
        let local = listener.local_addr().context("no local address")?;
        let live = LiveKnowledge::new(kb, opts.knowledge_dir.clone());
        let state = AppState::with_live(Arc::clone(&live), &opts);
        // SIGHUP (and --watch) reloads from here on, before anyone is told
        // where to connect.
        let reloader = reload::spawn(live, opts.reload);
        let off = || "off".to_string();
        info!(
            addr = %local,
            topics = state.0.live.get().kb.topics.len(),
            session_idle_secs = opts.session_idle.as_secs_f64(),
            max_sessions = opts.max_sessions,
            session_rate = %opts.session_rate.map_or_else(off, |r| r.to_string()),
            ip_rate = %opts.ip_rate.map_or_else(off, |r| r.to_string()),
            max_connections = opts.max_connections,
            header_timeout_secs = opts.header_timeout.as_secs_f64(),
            body_timeout_secs = opts.body_timeout.as_secs_f64(),
            max_sessions_per_client = opts.max_sessions_per_client,
            trust_proxy = %opts.trust_proxy.map_or_else(off, |a| a.to_string()),
            embed_origins = %opts.embed_origins.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" "),
            "serving"
        );
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "imagebot: listening on http://{local}")?;
            out.flush()?;
        }
        let limits = conn::ConnLimits {
            header_timeout: opts.header_timeout,
            max_connections: opts.max_connections,
        };
        let served = serve_on(listener, state, limits, shutdown_signal()).await;
        reloader.abort();
        served?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies() {
        let ok = parse_request(br#"{"message":"hi","session_id":"a-1","html":true,"x":1}"#);
        assert_eq!(
            ok.unwrap(),
            AnswerRequest {
                message: "hi".into(),
                session_id: Some("a-1".into()),
                html: true
            }
        );
        let code = |b: &[u8]| parse_request(b).unwrap_err().code;
        assert_eq!(code(b""), "malformed_json");
        assert_eq!(code(b"{"), "malformed_json");
        assert_eq!(code(b"[1]"), "malformed_json");
        assert_eq!(code(b"\xff\xfe"), "malformed_json");
        assert_eq!(code(br#"{}"#), "missing_message");
        assert_eq!(code(br#"{"message":null}"#), "missing_message");
        assert_eq!(code(br#"{"message":"  "}"#), "empty_message");
        assert_eq!(code(br#"{"message":3}"#), "invalid_message");
        assert_eq!(
            code(br#"{"message":"a","session_id":""}"#),
            "invalid_session_id"
        );
        assert_eq!(
            code(br#"{"message":"a","session_id":7}"#),
            "invalid_session_id"
        );
        assert_eq!(code(br#"{"message":"a","html":"yes"}"#), "invalid_html");
        let deep = "[".repeat(100_000);
        assert_eq!(code(deep.as_bytes()), "malformed_json");
    }
}
