//! `imagebot serve` end to end: the real binary on a free loopback port,
//! every endpoint, every error status, sessions (follow-ups, isolation,
//! expiry, the cap), the OpenAPI description checked against what the server
//! really answers, and graceful shutdown.

mod common;
#[path = "support/server.rs"]
mod server;

use serde_json::{json, Value};
use server::Server;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// POSTs a JSON body to /v1/answer; returns status and JSON.
async fn post(s: &Server, body: &Value) -> (u16, Value) {
    let res = client()
        .post(s.url("/v1/answer"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, v)
}

/// Asks in a session (None: a new one); returns the 200 reply.
async fn ask(s: &Server, session: Option<&str>, message: &str) -> Value {
    let mut body = json!({ "message": message });
    if let Some(id) = session {
        body["session_id"] = json!(id);
    }
    let (status, v) = post(s, &body).await;
    assert_eq!(status, 200, "{message}: {v}");
    v
}

/// Sends raw bytes to /v1/answer with a content type (or none).
async fn post_raw(s: &Server, content_type: Option<&str>, body: Vec<u8>) -> (u16, String, Value) {
    let mut req = client().post(s.url("/v1/answer")).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = header(&res, "content-type");
    let text = res.text().await.unwrap();
    (
        status,
        ct,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn get(s: &Server, path: &str) -> (u16, String, String) {
    let res = client().get(s.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = header(&res, "content-type");
    (status, ct, res.text().await.unwrap())
}

async fn metrics(s: &Server) -> String {
    let (status, ct, text) = get(s, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        ct.starts_with("application/openmetrics-text; version=1.0.0"),
        "{ct}"
    );
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    text
}

/// The value of one sample line (`name{labels} value`), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

const CONTRACT_KEYS: [&str; 8] = [
    "answered",
    "topic",
    "image_type",
    "confidence",
    "route",
    "text",
    "suggestions",
    "session_id",
];

#[tokio::test]
async fn answer_has_the_contract_form_plus_a_new_session_id() {
    let s = Server::start(&[]);
    let raw = client()
        .post(s.url("/v1/answer"))
        .header("content-type", "application/json")
        .body(r#"{"message":"共享镜像要付费吗？"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at: Vec<usize> = CONTRACT_KEYS
        .iter()
        .map(|k| {
            raw.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k}: {raw}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "the contract's order: {raw}"
    );
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v.as_object().unwrap().len(), CONTRACT_KEYS.len(), "{raw}");
    assert_eq!(v["answered"], true);
    assert_eq!(v["topic"], "image-billing");
    assert_eq!(v["image_type"], "shared");
    assert!(v["text"].as_str().unwrap().contains("共享镜像"));
    let id = v["session_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    // Each request without an id gets a new one.
    let w = ask(&s, None, "共享镜像要付费吗？").await;
    assert_ne!(w["session_id"], v["session_id"]);
    // The same reply as the command line's JSON form.
    let cli = common::run(&["ask", "--json", "共享镜像要付费吗？"], "");
    let mut cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    cli["session_id"] = v["session_id"].clone();
    assert_eq!(cli, v);
}

#[tokio::test]
async fn follow_ups_keep_the_context_of_their_session() {
    let s = Server::start(&[]);
    let first = ask(&s, None, "共享镜像要付费吗？").await;
    let id = first["session_id"].as_str().unwrap().to_string();
    let v = ask(&s, Some(&id), "那公共镜像呢？").await;
    assert_eq!(v["topic"], "image-billing");
    assert_eq!(v["image_type"], "public");
    assert_eq!(v["session_id"], id.as_str());
    // A problem report, the type picked from the clarify options: a route.
    let v = ask(&s, Some(&id), "我的镜像坏了").await;
    assert_eq!(v["route"]["kind"], "clarify");
    assert_eq!(
        v["route"]["options"],
        json!(["public", "marketplace", "custom", "shared"])
    );
    let v = ask(&s, Some(&id), "服务市场镜像").await;
    assert_eq!(v["topic"], "image-trouble");
    assert_eq!(v["route"]["kind"], "vendor");
    // English in the same session.
    let v = ask(&s, Some(&id), "Are public images free?").await;
    assert_eq!(v["topic"], "image-billing");
    assert!(v["text"].as_str().unwrap().is_ascii());
}

#[tokio::test]
async fn two_sessions_are_kept_apart() {
    let s = Server::start(&[]);
    let a = ask(&s, None, "共享镜像要付费吗？").await;
    let b = ask(&s, None, "镜像有哪些使用限制？").await;
    let (a, b) = (
        a["session_id"].as_str().unwrap().to_string(),
        b["session_id"].as_str().unwrap().to_string(),
    );
    // Interleaved follow-ups: each read with its own session's topic.
    let vb = ask(&s, Some(&b), "那公共镜像呢？").await;
    let va = ask(&s, Some(&a), "那公共镜像呢？").await;
    assert_eq!(
        (va["topic"].as_str(), va["image_type"].as_str()),
        (Some("image-billing"), Some("public"))
    );
    assert_eq!(
        (vb["topic"].as_str(), vb["image_type"].as_str()),
        (Some("image-limits"), Some("public"))
    );
    // A new session has no context at all.
    let v = ask(&s, None, "那公共镜像呢？").await;
    assert_ne!(v["topic"], "image-billing");
    assert_ne!(v["topic"], "image-limits");
    // An id the server did not issue starts a new session with a new id:
    // it never names, let alone joins, a conversation.
    let v = ask(&s, Some("helpdesk:ticket-42"), "共享镜像要付费吗？").await;
    let issued = v["session_id"].as_str().unwrap().to_string();
    assert_ne!(issued, "helpdesk:ticket-42");
    assert_eq!(issued.len(), 32);
    let v = ask(&s, Some("helpdesk:ticket-42"), "那公共镜像呢？").await;
    assert_ne!(v["topic"], "image-billing", "joined by a made-up id: {v}");
    assert_ne!(v["session_id"].as_str().unwrap(), issued);
    // The issued one continues.
    let v = ask(&s, Some(&issued), "那公共镜像呢？").await;
    assert_eq!(v["topic"], "image-billing");
    assert_eq!(v["image_type"], "public");
    assert_eq!(v["session_id"].as_str().unwrap(), issued);
}

#[tokio::test]
async fn a_ticket_draft_is_never_seen_by_a_guessed_session() {
    let s = Server::start(&[]);
    let v = ask(
        &s,
        None,
        "我的公共镜像 img-abcd1234 启动失败，电话 13812345678",
    )
    .await;
    assert_eq!(v["route"]["kind"], "ticket");
    let id = v["session_id"].as_str().unwrap().to_string();
    // Another client guessing ids near it gets fresh sessions, no context.
    let mut guess = id.clone();
    let last = guess.pop().unwrap();
    guess.push(if last == '0' { '1' } else { '0' });
    for other in [
        guess.as_str(),
        "1",
        &id[..31],
        "00000000000000000000000000000000",
    ] {
        let v = ask(&s, Some(other), "服务市场买的").await;
        assert_ne!(v["session_id"].as_str().unwrap(), id);
        assert!(v.get("ticket").is_none(), "{v}");
        assert!(!v.to_string().contains("img-abcd1234"), "{v}");
    }
}

#[tokio::test]
async fn sessions_expire_after_the_idle_time() {
    let s = Server::start(&["--session-idle", "1s"]);
    let id = ask(&s, None, "共享镜像要付费吗？").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Within the idle time: the context is there (and the clock restarts).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v = ask(&s, Some(&id), "那公共镜像呢？").await;
    assert_eq!(v["topic"], "image-billing");
    // Past it: forgotten, and swept from memory without being asked for.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let m = metrics(&s).await;
    assert_eq!(sample(&m, "imagebot_sessions"), 0.0, "{m}");
    assert!(sample(&m, "imagebot_sessions_expired_total") >= 1.0, "{m}");
    let v = ask(&s, Some(&id), "那自定义镜像呢？").await;
    assert_ne!(v["topic"], "image-billing", "expired context was used: {v}");
    assert_ne!(
        v["session_id"],
        id.as_str(),
        "an expired id starts a new session with a new id"
    );
}

#[tokio::test]
async fn the_number_of_sessions_is_capped() {
    let s = Server::start(&["--max-sessions", "3"]);
    let first = ask(&s, None, "共享镜像要付费吗？").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..9 {
        ask(&s, None, "镜像是什么？").await;
    }
    let m = metrics(&s).await;
    assert_eq!(sample(&m, "imagebot_sessions"), 3.0, "{m}");
    assert_eq!(sample(&m, "imagebot_sessions_evicted_total"), 7.0, "{m}");
    // The least recently used one went first.
    let v = ask(&s, Some(&first), "那公共镜像呢？").await;
    assert_ne!(v["topic"], "image-billing");
}

#[tokio::test]
async fn topics_health_and_metrics() {
    let s = Server::start(&[]);
    let (status, ct, body) = get(&s, "/v1/topics").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/json");
    let v: Value = serde_json::from_str(&body).unwrap();
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), common::topic_count());
    let ids: Vec<&str> = topics.iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in [
        "what-is-image",
        "image-billing",
        "image-trouble",
        "image-regions",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    for t in topics {
        assert!(!t["question"]["zh"].as_str().unwrap().is_empty());
        assert!(!t["question"]["en"].as_str().unwrap().is_empty());
    }
    let types: Vec<&str> = v["image_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["public", "marketplace", "custom", "shared"]);

    let (status, ct, body) = get(&s, "/healthz").await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "ok", "topics": common::topic_count()})
    );

    // Answers by topic, declines, routes, requests by path and status, latency.
    ask(&s, None, "共享镜像要付费吗？").await;
    ask(&s, None, "共享镜像要付费吗？").await;
    ask(&s, None, "Docker 镜像仓库怎么搭建").await;
    ask(&s, None, "我的镜像坏了").await;
    get(&s, "/no/such/path").await;
    let m = metrics(&s).await;
    assert_eq!(
        sample(&m, "imagebot_answers_total{topic=\"image-billing\"}"),
        2.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "imagebot_answers_total{topic=\"image-trouble\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "imagebot_declines_total{reason=\"mirror\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "imagebot_routes_total{kind=\"clarify\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"200\"}"
        ),
        4.0
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/topics\",status=\"200\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"unmatched\",status=\"404\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_request_duration_seconds_count{path=\"/v1/answer\"}"
        ),
        4.0
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_request_duration_seconds_bucket{le=\"+Inf\",path=\"/v1/answer\"}"
        ),
        4.0
    );
    // Every sample line is `name{labels} number`, every family typed.
    for line in m.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        let family = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count")
            .trim_end_matches("_total");
        assert!(
            m.contains(&format!("# TYPE {name} ")) || m.contains(&format!("# TYPE {family} ")),
            "{line}"
        );
    }
}

/// Asserts an error: its status, a JSON body `{"error": code, "message"}`.
fn assert_error(status: u16, ct: &str, v: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(ct, "application/json");
    assert_eq!(v["error"], want_code, "{v}");
    assert!(!v["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn every_error_status_is_json() {
    let s = Server::start(&[]);
    let j = Some("application/json");
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (j, b"{\"message\": ".to_vec(), 400, "malformed_json"),
        (j, b"".to_vec(), 400, "malformed_json"),
        (j, b"\xff\xfe\x00".to_vec(), 400, "malformed_json"),
        (j, b"[\"message\"]".to_vec(), 400, "malformed_json"),
        (j, b"\"hello\"".to_vec(), 400, "malformed_json"),
        (j, b"{}".to_vec(), 400, "missing_message"),
        (
            j,
            br#"{"session_id":"abc"}"#.to_vec(),
            400,
            "missing_message",
        ),
        (j, br#"{"message":null}"#.to_vec(), 400, "missing_message"),
        (j, br#"{"message":""}"#.to_vec(), 400, "empty_message"),
        (j, br#"{"message":" \n\t "}"#.to_vec(), 400, "empty_message"),
        (j, br#"{"message":42}"#.to_vec(), 400, "invalid_message"),
        (j, br#"{"message":["a"]}"#.to_vec(), 400, "invalid_message"),
        (
            j,
            br#"{"message":"hi","session_id":""}"#.to_vec(),
            400,
            "invalid_session_id",
        ),
        (
            j,
            br#"{"message":"hi","session_id":"a b"}"#.to_vec(),
            400,
            "invalid_session_id",
        ),
        (
            j,
            br#"{"message":"hi","session_id":5}"#.to_vec(),
            400,
            "invalid_session_id",
        ),
        (
            j,
            br#"{"message":"hi","html":1}"#.to_vec(),
            400,
            "invalid_html",
        ),
        (j, "[".repeat(50_000).into_bytes(), 400, "malformed_json"),
        (
            None,
            br#"{"message":"hi"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Some("text/plain"),
            br#"{"message":"hi"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"message=hi".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            Some("application/jsonx"),
            br#"{"message":"hi"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (ct, body, want, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).to_string();
        let (status, rct, v) = post_raw(&s, ct, body).await;
        assert_eq!(status, want, "{ct:?} {shown}: {v}");
        assert_error(status, &rct, &v, want, code);
    }
    // Content types that are fine.
    for ct in ["application/json; charset=utf-8", "Application/JSON"] {
        let (status, _, v) = post_raw(
            &s,
            Some(ct),
            r#"{"message":"镜像是什么"}"#.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(status, 200, "{ct}: {v}");
    }

    // 64 KiB exactly is accepted; one byte more is 413.
    let limit = 64 * 1024;
    let body = |len: usize| {
        let head = r#"{"message":""#;
        let tail = r#""}"#;
        let mut b = head.as_bytes().to_vec();
        b.extend(std::iter::repeat_n(b'a', len - head.len() - tail.len()));
        b.extend(tail.as_bytes());
        assert_eq!(b.len(), len);
        b
    };
    let (status, _, v) = post_raw(&s, j, body(limit)).await;
    assert_eq!(status, 200, "{v}");
    let (status, ct, v) = post_raw(&s, j, body(limit + 1)).await;
    assert_error(status, &ct, &v, 413, "payload_too_large");
    // Far over the limit: refused from the Content-Length, before reading it.
    let mut req = format!(
        "POST /v1/answer HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.addr,
        5 * 1024 * 1024
    )
    .into_bytes();
    req.extend(vec![b' '; 256 * 1024]);
    let response = raw_http(&s.addr, &req);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    // Without a Content-Length (chunked), the limit holds too.
    let mut req = format!(
        "POST /v1/answer HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.addr
    )
    .into_bytes();
    for _ in 0..10 {
        req.extend(b"2000\r\n");
        req.extend(vec![b' '; 0x2000]);
        req.extend(b"\r\n");
    }
    req.extend(b"0\r\n\r\n");
    let response = raw_http(&s.addr, &req);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("payload_too_large"), "{response}");

    // Unknown paths 404, wrong methods 405 (with Allow).
    for path in [
        "/nope",
        "/v1",
        "/v1/answer/",
        "/v2/answer",
        "/static/other.js",
        "/%ff",
    ] {
        let (status, ct, body) = get(&s, path).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_error(status, &ct, &v, 404, "not_found");
    }
    let wrong = [
        (reqwest::Method::GET, "/v1/answer", "POST"),
        (reqwest::Method::PUT, "/v1/answer", "POST"),
        (reqwest::Method::POST, "/healthz", "GET,HEAD"),
        (reqwest::Method::DELETE, "/v1/topics", "GET,HEAD"),
        (reqwest::Method::POST, "/", "GET,HEAD"),
        (reqwest::Method::PATCH, "/metrics", "GET,HEAD"),
    ];
    for (method, path, allow) in wrong {
        let res = client()
            .request(method.clone(), s.url(path))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let ct = header(&res, "content-type");
        assert_eq!(header(&res, "allow"), allow, "{method} {path}");
        let v: Value = res.json().await.unwrap();
        assert_error(status, &ct, &v, 405, "method_not_allowed");
    }
    // The server is still fine, and counted all of it.
    ask(&s, None, "镜像是什么").await;
    let m = metrics(&s).await;
    assert!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"400\"}"
        ) >= 17.0
    );
    assert!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"413\"}"
        ) >= 3.0
    );
    assert!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"415\"}"
        ) >= 4.0
    );
    assert!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"405\"}"
        ) >= 2.0
    );
}

/// Writes a raw request and reads the response until the server closes.
fn raw_http(addr: &str, request: &[u8]) -> String {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer (and close) before reading everything.
    let _ = conn.write_all(request);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = conn.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn odd_messages_never_break_the_server() {
    let s = Server::start(&[]);
    let long_zh = "镜像".repeat(10_000);
    let odd = [
        "\u{0}\u{1}\u{7f}",
        "\u{200b}\u{200e}\u{202e}镜像\u{feff}",
        "🙂🙂🙂 镜像 💥",
        "[提交工单](javascript:alert(1)) <script>alert(1)</script>",
        "[[[[(((( ))))]]]]",
        "'; DROP TABLE sessions; --",
        "ｆｕｌｌ　ｗｉｄｔｈ　ＩＭＡＧＥ",
        "\u{10ffff}\u{e000}",
        "a\r\nb\rc\n",
        &long_zh,
        "鏡像要收費嗎？那公眾鏡像呢",
        "?",
        "1",
    ];
    for m in odd {
        let v = ask(&s, None, m).await;
        for k in CONTRACT_KEYS {
            assert!(v.get(k).is_some(), "{k} missing for {m:?}");
        }
    }
    // The page's HTML form escapes everything and links only http(s).
    let (status, v) = post(
        &s,
        &json!({"message": "<img src=x onerror=alert(1)> 我的镜像坏了，公共镜像", "html": true}),
    )
    .await;
    assert_eq!(status, 200);
    let html = v["html"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("<a href=\"https://"), "{html}");
    assert!(["zh", "zh-hant", "en"].contains(&v["lang"].as_str().unwrap()));
    let (status, _, _) = get(&s, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_page_is_self_contained() {
    let s = Server::start(&[]);
    let res = client().get(s.url("/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<script src=\"/static/app.js\"></script>"));
    assert!(html.contains("href=\"/static/app.css\""));
    assert!(html.contains("name=\"viewport\""));
    let (status, ct, js) = get(&s, "/static/app.js").await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "text/javascript; charset=utf-8")
    );
    assert!(js.contains("/v1/answer"));
    let (status, ct, css) = get(&s, "/static/app.css").await;
    assert_eq!((status, ct.as_str()), (200, "text/css; charset=utf-8"));
    // Nothing loaded from elsewhere: no CDN, no web fonts, no remote URLs.
    for (name, text) in [("html", &html), ("js", &js), ("css", &css)] {
        for bad in [
            "http://",
            "https://",
            "//cdn",
            "@import",
            "@font-face",
            "url(",
        ] {
            assert!(!text.contains(bad), "{name} contains {bad}");
        }
    }
    // HEAD works like GET.
    let res = client().head(s.url("/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn info_logs_have_no_message_bodies_and_sigterm_stops_cleanly() {
    let mut s = Server::start(&[]);
    let secret = "我的密码是 hunter2，镜像怎么收费";
    ask(&s, None, secret).await;
    post_raw(&s, Some("application/json"), b"{oops".to_vec()).await;

    // A request in flight when SIGTERM comes is still answered.
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    let body = r#"{"message":"共享镜像要付费吗？"}"#.as_bytes();
    let head = format!(
        "POST /v1/answer HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.addr,
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = s.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(&body[10..]).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("\"topic\":\"image-billing\""),
        "{response}"
    );

    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    // New connections are refused once it stopped.
    assert!(std::net::TcpStream::connect(&s.addr).is_err());
    std::thread::sleep(Duration::from_millis(100));
    let log = s.log();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("status=200") && log.contains("status=400"),
        "{log}"
    );
    assert!(log.contains("malformed_json"), "errors are logged: {log}");
    assert!(
        !log.contains("hunter2"),
        "a message body was logged at info: {log}"
    );
    assert!(
        !log.contains("共享镜像要付费吗"),
        "a message body was logged: {log}"
    );
}

#[test]
fn bad_flags_are_refused() {
    for args in [
        &["serve", "--session-idle", "0"][..],
        &["serve", "--session-idle", "soon"],
        &["serve", "--max-sessions", "0"],
        &["serve", "--addr", "not an address"],
        &["serve", "--addr", "127.0.0.1:99999"],
        &["serve", "--rate-limit", "20"],
        &["serve", "--rate-limit", "0/min"],
        &["serve", "--rate-limit", "20/fortnight"],
        &["serve", "--ip-rate-limit", "20/min,burst=0"],
        &["serve", "--rate-limit-buckets", "0"],
        &["telegram", "--rate-limit", "many"],
    ] {
        // --no-record: never touch the default database.
        let out = common::run(&[args, &["--no-record"]].concat(), "");
        assert!(!out.status.success(), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

// ---- The OpenAPI description, checked against the server ----

/// Resolves `{"$ref": "#/components/..."}`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let path = r.strip_prefix("#/").expect("local ref");
            let target = path.split('/').fold(doc, |v, k| &v[k]);
            assert!(!target.is_null(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => v,
    }
}

/// Checks `v` against the JSON Schema subset the description uses; returns
/// what does not fit.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut errs = Vec::new();
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let fits = options
            .iter()
            .filter(|o| check(doc, o, v, at).is_empty())
            .count();
        if fits != 1 {
            errs.push(format!("{at}: {fits} of oneOf fit {v}"));
        }
        return errs;
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            errs.push(format!("{at}: {actual} is not {types:?}"));
            return errs;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} not in enum"));
        }
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !regex::Regex::new(p).unwrap().is_match(s) {
            errs.push(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let (Some(min), Some(s)) = (schema.get("minLength").and_then(Value::as_u64), v.as_str()) {
        if (s.chars().count() as u64) < min {
            errs.push(format!("{at}: shorter than {min}"));
        }
    }
    if let Some(n) = v.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
            || schema
                .get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| n > m)
        {
            errs.push(format!("{at}: {n} out of range"));
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if a.len() as u64 > max {
                errs.push(format!("{at}: more than {max} items"));
            }
        }
        if let Some(items) = schema.get("items") {
            for (i, x) in a.iter().enumerate() {
                errs.extend(check(doc, items, x, &format!("{at}[{i}]")));
            }
        }
    }
    if let Some(o) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                errs.push(format!("{at}: required {r} missing"));
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => errs.extend(check(doc, ps, x, &format!("{at}.{k}"))),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errs.push(format!("{at}: undocumented field {k}"))
                }
                None => {}
            }
        }
    }
    errs
}

/// The schema of a documented response, by path, method, status, media type.
fn response_schema<'a>(
    doc: &'a Value,
    path: &str,
    method: &str,
    status: u16,
) -> Option<(&'a str, &'a Value)> {
    let r = resolve(
        doc,
        &doc["paths"][path][method]["responses"][status.to_string()],
    );
    let (media, content) = r["content"].as_object()?.iter().next()?;
    Some((media.as_str(), &content["schema"]))
}

#[tokio::test]
async fn openapi_describes_what_the_server_does() {
    let s = Server::start(&[]);
    let (status, ct, text) = get(&s, "/openapi.json").await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let methods = ["get", "post", "put", "delete", "patch"];

    // Every documented operation answers as documented; every other method 405s.
    for (path, ops) in paths {
        for m in methods {
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let mut req = client().request(method, s.url(path));
            if m == "post" {
                req = req
                    .header("content-type", "application/json")
                    .body(r#"{"message":"共享镜像要付费吗？"}"#);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let ct = header(&res, "content-type");
            let body = res.text().await.unwrap();
            if ops.get(m).is_none() {
                assert_eq!(
                    status, 405,
                    "{m} {path} is not documented but answered {status}"
                );
                continue;
            }
            assert_eq!(status, 200, "{m} {path}");
            let (media, schema) = response_schema(&doc, path, m, 200)
                .unwrap_or_else(|| panic!("{m} {path} 200 undocumented"));
            assert!(ct.starts_with(media), "{m} {path}: {ct} vs {media}");
            if media == "application/json" {
                let v: Value = serde_json::from_str(&body).unwrap();
                let errs = check(&doc, schema, &v, &format!("{m} {path}"));
                assert!(errs.is_empty(), "{errs:#?}");
            }
            // Every documented status is one the route can give.
            for st in ops[m]["responses"].as_object().unwrap().keys() {
                assert!(
                    ["200", "400", "405", "408", "413", "414", "415", "429", "431"]
                        .contains(&st.as_str()),
                    "{m} {path}: unexpected documented status {st}"
                );
            }
        }
    }
    // Paths the router serves are all documented.
    for served in [
        "/",
        "/v1/answer",
        "/v1/topics",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/static/app.js",
        "/static/app.css",
        "/widget.js",
    ] {
        assert!(paths.contains_key(served), "{served} undocumented");
    }

    // Replies of every shape fit AnswerResponse, and the request schema's
    // fields are the ones the server reads.
    let answer_schema = response_schema(&doc, "/v1/answer", "post", 200).unwrap().1;
    let req_schema = resolve(
        &doc,
        &doc["paths"]["/v1/answer"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    );
    let req_fields: Vec<&str> = req_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(req_fields, ["html", "message", "session_id"]);
    let session = ask(&s, None, "hello").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut seen_routes = std::collections::BTreeSet::new();
    for (msg, html) in [
        ("共享镜像要付费吗？", false),
        ("那公共镜像呢？", true),
        ("Docker 镜像仓库怎么搭建", false),
        ("今天天气怎么样", false),
        ("谢谢", true),
        ("我的镜像坏了", true),
        ("公共镜像", true),
        ("我的镜像坏了", false),
        ("服务市场镜像", false),
        ("How do I contact the vendor of a marketplace image?", true),
        ("鏡像怎麼收費？", true),
        ("镜像能下载到本地吗", false),
    ] {
        let (status, v) = post(
            &s,
            &json!({"message": msg, "session_id": session, "html": html}),
        )
        .await;
        assert_eq!(status, 200);
        let errs = check(&doc, answer_schema, &v, msg);
        assert!(errs.is_empty(), "{errs:#?}");
        assert_eq!(v.get("html").is_some(), html);
        assert_eq!(v.get("lang").is_some(), html);
        if let Some(k) = v["route"]["kind"].as_str() {
            seen_routes.insert(k.to_string());
        }
    }
    assert_eq!(seen_routes.len(), 3, "{seen_routes:?}");

    // The error responses fit the Error schema, codes included.
    let error_schema = &doc["components"]["schemas"]["Error"];
    for (ct, body) in [
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"{}".to_vec()),
        (Some("application/json"), br#"{"message":""}"#.to_vec()),
        (Some("text/plain"), b"hi".to_vec()),
        (Some("application/json"), vec![b' '; 70_000]),
    ] {
        let (status, _, v) = post_raw(&s, ct, body).await;
        let documented = response_schema(&doc, "/v1/answer", "post", status);
        assert!(documented.is_some(), "status {status} undocumented");
        let errs = check(&doc, documented.unwrap().1, &v, "error");
        assert!(errs.is_empty(), "{errs:#?}");
    }
    let (status, _, body) = get(&s, "/nowhere").await;
    assert_eq!(status, 404);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(check(&doc, error_schema, &v, "404").is_empty());
    let nf = resolve(&doc, &doc["components"]["responses"]["NotFound"]);
    assert!(check(
        &doc,
        &nf["content"]["application/json"]["schema"],
        &v,
        "404"
    )
    .is_empty());

    // The checker itself rejects what it should.
    assert!(!check(&doc, answer_schema, &json!({"answered": true}), "x").is_empty());
    let mut extra = ask(&s, None, "镜像是什么").await;
    extra["surprise"] = json!(1);
    assert!(!check(&doc, answer_schema, &extra, "x").is_empty());
}

fn triage_list(db: &std::path::Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_imagebot"))
        .args(["triage", "list", "--json", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn problem_reports_carry_a_ticket_draft_and_are_recorded() {
    let s = Server::start(&[]);
    let id = ask(&s, None, "我的镜像坏了，实例 ins-abc12345 在广州启动不了").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = post(
        &s,
        &json!({"message": "公共镜像", "session_id": id, "html": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["route"]["kind"], "ticket");
    assert_eq!(v["ticket"]["send_to"], "ticket");
    assert_eq!(v["ticket"]["image_type"], "public");
    let draft = v["ticket_text"].as_str().unwrap();
    assert!(draft.contains("ins-abc12345"), "{draft}");
    ask(&s, None, "今天天气怎么样").await;
    // Recorded before the reply went out, with channel "http".
    let records = triage_list(&s.dir.path().join("triage.db"));
    assert!(records.len() >= 2, "{records:?}");
    assert!(records.iter().all(|r| r["channel"] == "http"));
    assert!(records
        .iter()
        .any(|r| r["route"] == "ticket" && r["image_type"] == "public"));

    // --no-record: nothing written.
    let quiet = Server::start(&["--no-record"]);
    ask(&quiet, None, "我的镜像坏了").await;
    assert!(!quiet.dir.path().join("triage.db").exists());
}

// ---- Live knowledge: SIGHUP and --watch ----

const WHAT_IS: &str = "镜像是什么";
const OLD_END: &str = "镜像即云服务器的“装机盘”。";

/// Sends a signal (by name, e.g. "HUP") to the server.
fn signal(s: &Server, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Asks until the answer's text contains `want` (a reload is asynchronous).
async fn ask_until(s: &Server, message: &str, want: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let v = ask(s, None, message).await;
        if v["text"].as_str().unwrap().contains(want) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never answered with {want:?}; last {v}; log:\n{}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server's log contains `want`.
async fn log_until(s: &Server, want: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let log = s.log();
        if log.contains(want) {
            return log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the log never said {want:?}:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sighup_reloads_the_knowledge_and_refuses_a_broken_version() {
    let kb = common::knowledge_copy();
    let dir = kb.path().to_str().unwrap().to_string();
    let s = Server::start(&["--knowledge", &dir]);
    let v = ask(&s, None, WHAT_IS).await;
    assert!(v["text"].as_str().unwrap().ends_with(OLD_END), "{v}");

    // A good edit: the answer text and a question change; SIGHUP swaps it in.
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        OLD_END,
        "镜像即云服务器的“装机盘”（第二版）。",
    );
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        "en = \"What is an image?\"",
        "en = \"What is an image, exactly?\"",
    );
    signal(&s, "HUP");
    let v = ask_until(&s, WHAT_IS, "（第二版）").await;
    assert_eq!(v["topic"], "what-is-image");
    let (_, _, topics) = get(&s, "/v1/topics").await;
    assert!(topics.contains("What is an image, exactly?"), "{topics}");
    log_until(&s, "SIGHUP: reloaded the knowledge").await;
    let m = metrics(&s).await;
    assert_eq!(
        sample(&m, "imagebot_knowledge_reloads_total{result=\"ok\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(sample(&m, "imagebot_knowledge_generation"), 1.0, "{m}");

    // A broken edit (a misspelt field): refused, with `check`'s message in
    // the log, and the previous version keeps answering.
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasingz = [",
    );
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        "（第二版）",
        "（第三版）",
    );
    signal(&s, "HUP");
    let log = log_until(&s, "refused the new knowledge").await;
    let check = common::run(&["check", "--knowledge", &dir], "");
    assert_eq!(check.status.code(), Some(1));
    let check = String::from_utf8_lossy(&check.stderr);
    assert!(check.contains("unknown field `phrasingz`"), "{check}");
    // Every problem `check` reports is in the log, in the same words (the
    // last line is check's count).
    let lines: Vec<&str> = check.lines().collect();
    for line in &lines[..lines.len() - 1] {
        assert!(log.contains(line), "check says {line:?}; the log:\n{log}");
    }
    assert!(
        log.contains("the previous version keeps answering"),
        "{log}"
    );
    assert!(log.contains(" WARN ") && log.contains(" ERROR "), "{log}");
    for _ in 0..3 {
        let v = ask(&s, None, WHAT_IS).await;
        assert!(v["text"].as_str().unwrap().contains("（第二版）"), "{v}");
    }
    let m = metrics(&s).await;
    assert_eq!(
        sample(&m, "imagebot_knowledge_reloads_total{result=\"refused\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(sample(&m, "imagebot_knowledge_generation"), 1.0, "{m}");

    // A version that loads but fails `check`'s self-consistency (a phrasing
    // another topic answers) is refused too.
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        "phrasingz = [",
        "phrasings = [\n  \"共享镜像要付费吗\",",
    );
    signal(&s, "HUP");
    let log = log_until(
        &s,
        "the phrasing \"共享镜像要付费吗\" is answered with image-billing",
    )
    .await;
    assert_eq!(log.matches("refused the new knowledge").count(), 2, "{log}");
    let v = ask(&s, None, WHAT_IS).await;
    assert!(v["text"].as_str().unwrap().contains("（第二版）"), "{v}");
    let (status, _, _) = get(&s, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn watch_reloads_when_a_file_changes() {
    let kb = common::knowledge_copy();
    let dir = kb.path().to_str().unwrap().to_string();
    let s = Server::start(&["--knowledge", &dir, "--watch"]);
    let v = ask(&s, None, WHAT_IS).await;
    assert!(v["text"].as_str().unwrap().ends_with(OLD_END), "{v}");
    // No signal: the change itself is noticed (within a second or so).
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        OLD_END,
        "镜像即云服务器的“装机盘”（看到了）。",
    );
    ask_until(&s, WHAT_IS, "（看到了）").await;
    log_until(&s, "knowledge files changed: reloaded the knowledge").await;
    // A broken change is refused the same way, without a signal.
    common::edit(
        kb.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasingz = [",
    );
    log_until(&s, "unknown field `phrasingz`").await;
    let v = ask(&s, None, WHAT_IS).await;
    assert!(v["text"].as_str().unwrap().contains("（看到了）"), "{v}");
}

#[tokio::test]
async fn sighup_with_the_built_in_knowledge_only_says_so() {
    let s = Server::start(&[]);
    ask(&s, None, WHAT_IS).await;
    signal(&s, "HUP");
    log_until(
        &s,
        "nothing to reload: the knowledge is the one built into the binary",
    )
    .await;
    // Still serving (SIGHUP did not stop it).
    let v = ask(&s, None, WHAT_IS).await;
    assert!(v["text"].as_str().unwrap().ends_with(OLD_END), "{v}");
}

// ---- Rate limits ----

/// POSTs a message in a session from a client bound to `from` (a loopback
/// address); returns status, Retry-After and the JSON body.
async fn post_from(s: &Server, from: &str, body: &Value) -> (u16, Option<u64>, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let res = client
        .post(s.url("/v1/answer"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let text = res.text().await.unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

#[tokio::test]
async fn too_many_messages_get_429_with_retry_after_per_session_and_ip() {
    // 3 a session and 5 an address a minute: a token back every 20 s and 12 s.
    let s = Server::start(&["--rate-limit", "3/min", "--ip-rate-limit", "5/min"]);
    let (_, _, doc) = get(&s, "/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let limited_schema = response_schema(&doc, "/v1/answer", "post", 429).unwrap().1;
    let msg = |m: &str, session: &str| json!({"message": m, "session_id": session});
    let new = |m: &str| json!({"message": m});
    let a = "127.0.0.1";
    let (status, _, v) = post_from(&s, a, &new("共享镜像要付费吗？")).await;
    assert_eq!(status, 200, "{v}");
    let s1 = v["session_id"].as_str().unwrap().to_string();
    let s1 = s1.as_str();
    for _ in 0..2 {
        let (status, retry, v) = post_from(&s, a, &msg("共享镜像要付费吗？", s1)).await;
        assert_eq!((status, retry), (200, None), "{v}");
    }
    // The 4th in the session: 429, Retry-After, and a reply saying how long.
    let (status, retry, v) = post_from(&s, a, &msg("共享镜像要付费吗？", s1)).await;
    assert_eq!(status, 429, "{v}");
    let secs = retry.expect("Retry-After");
    assert!((1..=20).contains(&secs), "{secs}");
    assert_eq!(v["text"], format!("消息太多了，请 {secs} 秒后再试。"));
    assert_eq!(v["answered"], false);
    assert_eq!(v["session_id"], s1);
    assert_eq!(v["error"], "rate_limited");
    assert_eq!(v["retry_after"], secs);
    for k in CONTRACT_KEYS {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    let errs = check(&doc, limited_schema, &v, "429");
    assert!(errs.is_empty(), "{errs:#?}");
    // In the language of the message, with the page's fields when asked.
    let (status, _, v) = post_from(
        &s,
        a,
        &json!({"message": "Are shared images free?", "session_id": s1, "html": true}),
    )
    .await;
    assert_eq!(status, 429);
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("Too many messages, please wait ") && text.ends_with(" s."),
        "{text}"
    );
    assert_eq!(v["lang"], "en");
    assert_eq!(v["html"], text);
    assert!(check(&doc, limited_schema, &v, "429 html").is_empty());
    let (_, _, v) = post_from(&s, a, &msg("鏡像怎麼收費？", s1)).await;
    assert!(
        v["text"].as_str().unwrap().starts_with("訊息太多了，請 "),
        "{v}"
    );

    // Another session from the same address is unaffected (the refused
    // messages did not use up the address's budget)...
    let (status, _, v) = post_from(&s, a, &new("共享镜像要付费吗？")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["topic"], "image-billing");
    let (status, _, _) = post_from(&s, a, &new("镜像是什么")).await;
    assert_eq!(status, 200);
    // ...until the address's own limit: 5 answered from it.
    let (status, retry, v) = post_from(&s, a, &new("镜像是什么")).await;
    assert_eq!(status, 429, "{v}");
    assert!(retry.is_some());
    assert_eq!(v["session_id"].as_str().unwrap().len(), 32);
    // A new session without an id gets one back, even when refused.
    let (status, _, v) = post_from(&s, a, &json!({"message": "hi"})).await;
    assert_eq!(status, 429);
    assert!(v["session_id"].as_str().unwrap().len() == 32, "{v}");

    // Another address is unaffected by both.
    let (status, _, v) = post_from(&s, "127.0.0.2", &new("共享镜像要付费吗？")).await;
    assert_eq!(status, 200, "{v}");

    let m = metrics(&s).await;
    assert_eq!(
        sample(&m, "imagebot_rate_limited_total{by=\"session\"}"),
        3.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "imagebot_rate_limited_total{by=\"ip\"}"),
        2.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "imagebot_rate_limit_buckets{by=\"ip\"}"),
        2.0,
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "imagebot_http_requests_total{path=\"/v1/answer\",status=\"429\"}"
        ),
        5.0,
        "{m}"
    );
    // Refusals are not logged one by one at info (a client over its limit
    // cannot flood the log); a summary line counts them.
    let log = s.log();
    assert!(!log.contains("status=429"), "{log}");
    assert!(!log.contains("共享镜像要付费吗"), "{log}");
}

#[tokio::test]
async fn a_bucket_refills() {
    // 3 every 6 s: a burst of 3, then a token back every 2 s, slow enough
    // that a busy machine's requests cannot refill it as they go.
    let s = Server::start(&["--rate-limit", "3/6s"]);
    let (_, _, first) = post_from(&s, "127.0.0.1", &json!({"message": "镜像是什么"})).await;
    let body = json!({"message": "镜像是什么", "session_id": first["session_id"]});
    let mut answered = 1;
    let retry = loop {
        let (status, retry, v) = post_from(&s, "127.0.0.1", &body).await;
        if status == 429 {
            break retry.unwrap();
        }
        assert_eq!(status, 200, "{v}");
        answered += 1;
        assert!(answered < 10, "never limited");
    };
    assert!(answered >= 3, "{answered}");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, v) = post_from(&s, "127.0.0.1", &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["topic"], "what-is-image");
}

#[tokio::test]
async fn refusals_are_summed_up_not_logged_one_by_one() {
    let s = Server::start(&["--rate-limit", "1/min", "--refusal-log-every", "1s"]);
    let (_, _, first) = post_from(&s, "127.0.0.1", &json!({"message": "镜像是什么"})).await;
    let body = json!({"message": "镜像是什么", "session_id": first["session_id"]});
    let started = std::time::Instant::now();
    for _ in 0..50 {
        let (status, _, _) = post_from(&s, "127.0.0.1", &body).await;
        assert_eq!(status, 429);
    }
    let took = started.elapsed().as_secs();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let log = s.log();
    assert!(!log.contains("status=429"), "{log}");
    let summed: u64 = log
        .lines()
        .filter(|l| l.contains("rate limits refused"))
        .filter_map(|l| l.rsplit("refused=").next()?.trim().parse::<u64>().ok())
        .sum();
    assert_eq!(summed, 50, "the summaries count every refusal: {log}");
    // At most one summary a second (however slow a busy machine made the
    // 50 requests), and far fewer lines than refusals.
    let summaries = log
        .lines()
        .filter(|l| l.contains("rate limits refused"))
        .count() as u64;
    assert!(
        summaries <= took + 3,
        "{summaries} summaries in {took} s: {log}"
    );
    assert!(
        (log.lines().count() as u64) < summaries + 10 && summaries < 50,
        "{log}"
    );
}

/// Schemathesis (from PyPI; `.ci/run` installs it) generates requests from
/// `/openapi.json`, valid and invalid, and checks every answer against the
/// document: status codes, content types, schemas, and that valid requests
/// are accepted and invalid ones refused. Bounded: 25 examples an
/// operation, 25 s at most.
#[test]
fn schemathesis_finds_no_disagreement_with_the_openapi_document() {
    // `python3 -m schemathesis.cli` works wherever pip put it, shims or not.
    let schemathesis = || {
        let mut c = Command::new("python3");
        c.args(["-m", "schemathesis.cli"]);
        c
    };
    let found = schemathesis().arg("--version").output();
    if found.as_ref().map_or(true, |o| !o.status.success()) {
        let why = "skipped: schemathesis is not installed (`pip install schemathesis`; .ci/run does this)";
        if std::env::var_os("CI").is_some() {
            panic!("schemathesis test {why}, but CI must run it");
        }
        eprintln!("schemathesis_finds_no_disagreement_with_the_openapi_document {why}");
        return;
    }
    let s = Server::start(&[
        "--rate-limit",
        "off",
        "--ip-rate-limit",
        "off",
        "--no-record",
    ]);
    let out = schemathesis()
        .args(["run", &s.url("/openapi.json")])
        .args([
            "--checks",
            "all",
            "-n",
            "25",
            "--max-time",
            "25",
            "--seed",
            "42",
        ])
        .args(["--no-color", "--request-timeout", "10"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("No issues found"), "{report}");
}

#[tokio::test]
async fn one_address_cannot_evict_everyone_elses_sessions() {
    let s = Server::start(&[
        "--max-sessions",
        "50",
        "--max-sessions-per-client",
        "5",
        "--rate-limit",
        "off",
        "--ip-rate-limit",
        "off",
        "--no-record",
    ]);
    let (_, _, v) = post_from(&s, "127.0.0.2", &json!({"message": "共享镜像要付费吗？"})).await;
    let mine = v["session_id"].as_str().unwrap().to_string();
    // Another address opens 100 sessions, twice the whole store.
    for _ in 0..100 {
        let (status, _, _) = post_from(&s, "127.0.0.1", &json!({"message": "镜像是什么"})).await;
        assert_eq!(status, 200);
    }
    let (_, _, v) = post_from(
        &s,
        "127.0.0.2",
        &json!({"message": "那公共镜像呢？", "session_id": mine}),
    )
    .await;
    assert_eq!(v["session_id"].as_str().unwrap(), mine, "{v}");
    assert_eq!(v["topic"], "image-billing");
    let m = metrics(&s).await;
    assert!(sample(&m, "imagebot_sessions") <= 6.0, "{m}");
}

// ---- The embeddable widget: CORS for the --embed-origin sites only ----

/// A request from a page of `origin`; its status and headers.
async fn from_origin(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    origin: &str,
) -> reqwest::Response {
    let mut req = client()
        .request(method.clone(), s.url(path))
        .header("origin", origin);
    if method == reqwest::Method::OPTIONS {
        req = req
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type");
    } else if method == reqwest::Method::POST {
        req = req
            .header("content-type", "application/json")
            .body(json!({"message": "共享镜像要付费吗？"}).to_string());
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn only_the_embed_origins_may_call_the_api_cross_origin() {
    let shop = "https://shop.example.com";
    let s = Server::start(&[
        "--embed-origin",
        "https://Shop.Example.com/",
        "--embed-origin",
        "http://localhost:8000",
    ]);
    // The preflight of the widget's POST, and the POST and GET themselves.
    let res = from_origin(&s, reqwest::Method::OPTIONS, "/v1/answer", shop).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), shop);
    assert!(header(&res, "access-control-allow-methods").contains("POST"));
    assert!(header(&res, "access-control-allow-headers").contains("content-type"));
    assert!(
        header(&res, "vary").contains("origin"),
        "{:?}",
        res.headers()
    );
    assert_eq!(header(&res, "access-control-allow-credentials"), "");
    let res = from_origin(&s, reqwest::Method::POST, "/v1/answer", shop).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(header(&res, "access-control-allow-origin"), shop);
    assert!(header(&res, "vary").contains("origin"));
    let res = from_origin(
        &s,
        reqwest::Method::GET,
        "/v1/topics",
        "http://localhost:8000",
    )
    .await;
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "http://localhost:8000"
    );

    // Any other origin (another host, scheme or port): no CORS header, so
    // the browser keeps the answer from the page.
    for other in [
        "https://evil.example.com",
        "http://shop.example.com",
        "https://shop.example.com:8443",
        "http://localhost:8001",
        "null",
    ] {
        for (method, path) in [
            (reqwest::Method::OPTIONS, "/v1/answer"),
            (reqwest::Method::POST, "/v1/answer"),
            (reqwest::Method::GET, "/v1/topics"),
        ] {
            let res = from_origin(&s, method.clone(), path, other).await;
            assert_eq!(
                header(&res, "access-control-allow-origin"),
                "",
                "{other} {method} {path}"
            );
        }
    }

    // Everything else keeps its headers: the page may not be framed, and
    // nothing but the API speaks CORS.
    let res = from_origin(&s, reqwest::Method::GET, "/", shop).await;
    assert!(header(&res, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&res, "access-control-allow-origin"), "");
    for path in ["/healthz", "/metrics", "/static/app.js"] {
        let res = from_origin(&s, reqwest::Method::GET, path, shop).await;
        assert_eq!(header(&res, "access-control-allow-origin"), "", "{path}");
    }
    // The widget script itself loads from anywhere (it is a <script>).
    let (status, ct, js) = get(&s, "/widget.js").await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "text/javascript; charset=utf-8")
    );
    assert!(js.contains("attachShadow") && js.contains("/v1/answer"));
    assert!(js.contains("prefers-color-scheme: dark"));
}

#[tokio::test]
async fn without_embed_origins_no_site_may() {
    let s = Server::start(&[]);
    let res = from_origin(
        &s,
        reqwest::Method::OPTIONS,
        "/v1/answer",
        "https://shop.example.com",
    )
    .await;
    // No preflight answered: OPTIONS is not a method of the API.
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(header(&res, "access-control-allow-origin"), "");
    let res = from_origin(
        &s,
        reqwest::Method::POST,
        "/v1/answer",
        "https://shop.example.com",
    )
    .await;
    assert_eq!(header(&res, "access-control-allow-origin"), "");
    assert_eq!(header(&res, "vary"), "");
    let (status, _, _) = get(&s, "/widget.js").await;
    assert_eq!(status, 200);
}

#[test]
fn bad_embed_origins_are_refused_with_the_reason() {
    for (origin, why) in [
        ("*", "`*` is not accepted: it would let every web site"),
        ("https://*.example.com", "`*` is not accepted"),
        (
            "shop.example.com",
            "is not an origin: write scheme://host[:port]",
        ),
        ("ftp://shop.example.com", "the scheme must be http or https"),
        ("https://shop.example.com/chat", "without a path"),
        ("https://shop.example.com?x=1", "without a path"),
    ] {
        let out = common::run(&["serve", "--embed-origin", origin, "--no-record"], "");
        assert_eq!(out.status.code(), Some(2), "{origin}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--embed-origin") && err.contains(why),
            "{origin}: {err}"
        );
    }
}
