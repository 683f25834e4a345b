//! `imagebot serve` against clients that misbehave on the socket, with real
//! TCP connections on loopback: half-sent requests, idle keep-alive
//! connections, bodies that never come, more connections than the cap,
//! oversized heads, and a shutdown with idle connections open. Every loop is
//! bounded in count and time.

#[path = "support/server.rs"]
mod server;

use server::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads until the server closes the connection (or 10 s pass); returns
/// what it sent and how long the close took.
fn read_to_close(c: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("still open after {:?}: {e}", start.elapsed()),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

/// One request's response on an open connection, read by Content-Length.
fn response(c: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
    }
}

fn healthz(s: &Server) -> (String, Duration) {
    let start = Instant::now();
    let mut c = connect(s);
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (text, _) = read_to_close(&mut c);
    (text, start.elapsed())
}

#[test]
fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let s = Server::start(&["--header-timeout", "1s"]);
    let mut c = connect(&s);
    c.write_all(b"POST /v1/answer HTTP/1.1\r\nHost: t\r\nContent-Type: appl")
        .unwrap();
    let (_, took) = read_to_close(&mut c);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let s = Server::start(&["--header-timeout", "1s"]);
    let mut c = connect(&s);
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(response(&mut c).starts_with("HTTP/1.1 200"));
    // Kept alive, then closed once it has waited the timeout for a request.
    let (rest, took) = read_to_close(&mut c);
    assert!(rest.is_empty(), "{rest}");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn a_body_that_never_comes_gets_408_and_a_huge_length_413_at_once() {
    let s = Server::start(&["--body-timeout", "1s"]);
    let mut c = connect(&s);
    let start = Instant::now();
    c.write_all(
        b"POST /v1/answer HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mess",
    )
    .unwrap();
    let text = response(&mut c);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"body_timeout\""), "{text}");
    assert!(start.elapsed() < Duration::from_secs(3));

    // Content-Length: 1000000 and no body: refused from the head alone.
    let mut c = connect(&s);
    let start = Instant::now();
    c.write_all(
        b"POST /v1/answer HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
    )
    .unwrap();
    let text = response(&mut c);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"error\":\"payload_too_large\""), "{text}");
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn at_the_connection_cap_new_clients_are_still_served() {
    let s = Server::start(&["--max-connections", "20", "--header-timeout", "30s"]);
    // Twice the cap of idle connections that never send a byte.
    let idle: Vec<TcpStream> = (0..40).map(|_| connect(&s)).collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let (text, took) = healthz(&s);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    // An answer too.
    let mut c = connect(&s);
    let body = r#"{"message":"镜像是什么"}"#;
    let req = format!(
        "POST /v1/answer HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    let (text, _) = read_to_close(&mut c);
    assert!(text.contains("what-is-image"), "{text}");
    drop(idle);
    let log = s.log();
    assert!(!log.contains("accept error"), "{log}");
}

#[test]
fn shutdown_closes_idle_connections_at_once() {
    let mut s = Server::start(&[]);
    let mut idle: Vec<TcpStream> = Vec::new();
    for _ in 0..10 {
        let mut c = connect(&s);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        assert!(response(&mut c).starts_with("HTTP/1.1 200"));
        idle.push(c);
    }
    // Five more that have sent half a request.
    for _ in 0..5 {
        let mut c = connect(&s);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHo").unwrap();
        idle.push(c);
    }
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "waited {:?} for idle connections",
        start.elapsed()
    );
}

#[test]
fn oversized_heads_get_the_json_error_shape() {
    let s = Server::start(&[]);
    let long = "a".repeat(9 * 1024);
    let mut c = connect(&s);
    c.write_all(format!("GET /{long} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let (text, _) = read_to_close(&mut c);
    assert!(
        text.starts_with("HTTP/1.1 414"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.contains("\"error\":\"uri_too_long\""), "{text}");

    let mut c = connect(&s);
    let big = "b".repeat(40 * 1024);
    c.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let (text, _) = read_to_close(&mut c);
    assert!(
        text.starts_with("HTTP/1.1 431"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.contains("\"error\":\"headers_too_large\""), "{text}");
}

#[test]
fn more_idle_connections_than_open_files_leave_the_server_serving() {
    // 128 files at most (soft and hard): the default cap is 64 connections.
    let s = Server::start_under(&["prlimit", "--nofile=128:128"], &[]);
    let idle: Vec<TcpStream> = (0..150).map(|_| connect(&s)).collect();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        let (text, took) = healthz(&s);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    drop(idle);
    let log = s.log();
    assert!(!log.contains("Too many open files"), "{log}");
}
