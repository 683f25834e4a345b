//! Headless Chromium for tests/browser.rs: chromedriver on a free port and
//! a WebDriver session (fantoccini), every wait bounded.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! Without them a test says it is skipped and why, except under CI (`CI`
//! set), where a missing browser is a failure.
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest any one wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// A program on PATH (or at an absolute path).
fn find(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let p = Path::new(name);
        if p.is_absolute() && p.is_file() {
            return Some(p.to_path_buf());
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let c = dir.join(name);
                if c.is_file() {
                    return Some(c);
                }
            }
        }
    }
    None
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver(driver: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < WAIT, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A browser session; the browser and its driver go when it is dropped
/// (after `close`, which ends the session cleanly).
pub struct Browser {
    pub c: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Headless Chromium with the usual flags and `extra` ones (later ones
    /// win); `None`, after saying why, when it is not installed outside CI.
    pub async fn open(test: &str, extra: &[&str]) -> Option<Browser> {
        let browser = find(&["chromium", "chromium-browser", "/usr/lib/chromium/chromium"]);
        let driver = find(&["chromedriver", "/usr/lib/chromium/chromedriver"]);
        let (Some(browser), Some(driver)) = (browser, driver) else {
            let why = "skipped: Debian's `chromium` and `chromium-driver` are not installed \
                       (`apt-get install -y chromium chromium-driver`; .ci/run does this)";
            if std::env::var_os("CI").is_some() {
                panic!("browser test {test} {why}, but CI must run it");
            }
            // Straight to stderr, past the test harness's capture, so it shows.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{test} {why}");
            return None;
        };
        let driver = start_driver(&driver);
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            "--window-size=412,915",
            "--lang=zh-CN",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": browser, "args": args }),
        );
        // chromedriver speaks plain HTTP on loopback: no TLS needed.
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a chromedriver session");
        Some(Browser {
            c,
            _driver: driver,
            _profile: profile,
        })
    }
}

pub async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Waits until `css` matches at least `n` elements.
pub async fn wait_count(c: &Client, css: &str, n: usize) {
    let start = Instant::now();
    loop {
        if count(c, css).await >= n {
            return;
        }
        assert!(start.elapsed() < WAIT, "waited for {n} of {css:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a script; `arguments[0]`, `[1]`... are `args`.
pub async fn js_with(c: &Client, script: &str, args: Vec<Value>) -> Value {
    c.execute(script, args).await.unwrap()
}

pub async fn js(c: &Client, script: &str) -> Value {
    js_with(c, script, vec![]).await
}

/// Waits until a script returns `true`.
pub async fn wait_js(c: &Client, script: &str, what: &str) {
    let start = Instant::now();
    loop {
        if js(c, script).await == Value::Bool(true) {
            return;
        }
        assert!(start.elapsed() < WAIT, "waited for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes a screenshot to tests/artifacts/NAME (copied to docs/ by hand).
pub fn save_png(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join(name);
    std::fs::write(&shot, png).unwrap();
    eprintln!("screenshot: {}", shot.display());
}
