//! The web chat page in a real browser: headless Chromium driven over
//! chromedriver (fantoccini). Ask a question and see the answer; press a
//! suggestion; report a problem, press an image type, see the route and the
//! ticket draft; switch to English. A screenshot of the finished
//! conversation goes to tests/artifacts/web-chat.png.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! Without them the test says it is skipped and why, except under CI
//! (`CI` set), where a missing browser is a failure.

#[path = "support/server.rs"]
mod server;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use server::Server;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
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
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Waits until `css` matches at least `n` elements.
async fn wait_count(c: &Client, css: &str, n: usize) {
    let start = Instant::now();
    loop {
        if count(c, css).await >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "waited for {n} of {css:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// The text of the last bot bubble's answer.
async fn last_answer(c: &Client) -> String {
    js(
        c,
        "var a = document.querySelectorAll('.row.bot .answer'); return a[a.length - 1].textContent;",
    )
    .await
    .as_str()
    .unwrap()
    .to_string()
}

/// Types a message and presses Send; waits for the reply.
async fn say(c: &Client, message: &str) {
    let before = count(c, ".row.bot:not(.typing)").await;
    let input = c.find(Locator::Css("#input")).await.unwrap();
    input.send_keys(message).await.unwrap();
    c.find(Locator::Css("#send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_count(c, ".row.bot:not(.typing)", before + 1).await;
}

async fn click_and_wait(c: &Client, css: &str) -> String {
    let before = count(c, ".row.bot:not(.typing)").await;
    let button = c.find(Locator::Css(css)).await.unwrap();
    let label = button.text().await.unwrap();
    button.click().await.unwrap();
    wait_count(c, ".row.bot:not(.typing)", before + 1).await;
    label
}

#[tokio::test]
async fn web_chat_in_headless_chromium() {
    let browser = find(&["chromium", "chromium-browser", "/usr/lib/chromium/chromium"]);
    let driver = find(&["chromedriver", "/usr/lib/chromium/chromedriver"]);
    let (Some(browser), Some(driver)) = (browser, driver) else {
        let why = "skipped: Debian's `chromium` and `chromium-driver` are not installed \
                   (`apt-get install -y chromium chromium-driver`; .ci/run does this)";
        if std::env::var_os("CI").is_some() {
            panic!("browser test {why}, but CI must run it");
        }
        // Straight to stderr, past the test harness's capture, so it shows.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "web_chat_in_headless_chromium {why}");
        return;
    };

    let server = Server::start(&[]);
    let driver = start_driver(&driver);
    let profile = driver._profile.path().display().to_string();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": browser,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                "--force-device-scale-factor=2",
                "--window-size=412,915", "--lang=zh-CN",
                format!("--user-data-dir={profile}"),
            ]
        }),
    );
    // chromedriver speaks plain HTTP on loopback: no TLS needed.
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a chromedriver session");

    c.goto(&server.url("/?lang=zh")).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("body[data-ready='1']"))
        .await
        .unwrap();
    assert_eq!(
        js(&c, "return document.title;").await,
        "镜像助手 · Image assistant"
    );
    // The welcome bubble offers questions to start with.
    assert!(count(&c, ".welcome .suggestion").await >= 3);

    // Ask; see the answer.
    say(&c, "共享镜像要付费吗？").await;
    let a = last_answer(&c).await;
    assert!(a.contains("共享镜像"), "{a}");
    assert_eq!(
        js(&c, "var u = document.querySelectorAll('.row.user .bubble'); return u[u.length-1].textContent;").await,
        "共享镜像要付费吗？"
    );
    // A follow-up in the same session.
    say(&c, "那公共镜像呢？").await;
    let a = last_answer(&c).await;
    assert!(a.contains("公共镜像") && a.contains("免费"), "{a}");

    // Press a suggestion button of the last answer: it is asked and answered.
    let label = click_and_wait(&c, ".row.bot:last-child .suggestion").await;
    assert!(!label.is_empty());
    assert_eq!(
        js(&c, "var u = document.querySelectorAll('.row.user .bubble'); return u[u.length-1].textContent;").await,
        label.as_str()
    );
    assert!(!last_answer(&c).await.is_empty());

    // Report a problem: the clarify options come as buttons.
    say(&c, "我的镜像坏了").await;
    assert_eq!(count(&c, ".row.bot:last-child .choice.option").await, 4);
    let options = js(
        &c,
        "return Array.from(document.querySelectorAll('.row.bot:last-child .choice.option')).map(b => b.textContent);",
    )
    .await;
    assert_eq!(
        options,
        json!(["公共镜像", "服务市场镜像", "自定义镜像", "共享镜像"])
    );
    // The links in the answer are real links, opening elsewhere.
    let link = js(
        &c,
        "var a = document.querySelector('.row.bot:last-child .answer a'); return [a.href, a.target, a.rel, a.textContent];",
    )
    .await;
    assert_eq!(
        link,
        json!([
            "https://console.cloud.tencent.com/workorder/category",
            "_blank",
            "noopener noreferrer",
            "提交工单"
        ])
    );

    // Press "公共镜像": the ticket route, and the draft to copy.
    let label = click_and_wait(
        &c,
        ".row.bot:last-child .choice.option[data-value='public']",
    )
    .await;
    assert_eq!(label, "公共镜像");
    let route = js(
        &c,
        "var r = document.querySelector('.row.bot:last-child .route.ticket a'); return r && r.href;",
    )
    .await;
    assert_eq!(
        route,
        "https://console.cloud.tencent.com/workorder/category"
    );
    let draft = js(
        &c,
        "var p = document.querySelector('.row.bot:last-child .draft pre'); return p && p.textContent;",
    )
    .await;
    let draft = draft.as_str().expect("a ticket draft block");
    assert!(draft.contains("我的镜像坏了"), "{draft}");
    let copy = c
        .find(Locator::Css(".row.bot:last-child .draft button.copy"))
        .await
        .unwrap();
    assert_eq!(copy.text().await.unwrap(), "复制");
    copy.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(copy.text().await.unwrap(), "已复制");
    // Options of older replies are retired.
    assert_eq!(count(&c, ".choice.option:not(:disabled)").await, 0);
    assert_eq!(count(&c, ".row.error").await, 0);

    // The whole conversation in one phone-wide picture: let the page grow
    // instead of scrolling, and the window with it.
    let height = js(
        &c,
        "var app = document.getElementById('app'), log = document.getElementById('log'); \
         app.style.height = 'auto'; log.style.overflow = 'visible'; \
         return document.documentElement.scrollHeight;",
    )
    .await
    .as_u64()
    .unwrap();
    let mut window = (height as u32).clamp(915, 8000);
    for _ in 0..3 {
        c.set_window_size(412, window).await.unwrap();
        // The window's frame takes some of it: grow by what is still hidden.
        let missing = js(
            &c,
            "return Math.max(0, document.documentElement.scrollHeight - window.innerHeight);",
        )
        .await
        .as_u64()
        .unwrap_or(0) as u32;
        if missing == 0 || window >= 8000 {
            break;
        }
        window = (window + missing).min(8000);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("web-chat.png");
    std::fs::write(&shot, &png).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    eprintln!("screenshot: {}", shot.display());

    // English: the interface switches, answers follow the question's language.
    c.find(Locator::Css("#reset"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        js(&c, "return document.getElementById('send').textContent;").await,
        "Send"
    );
    assert_eq!(count(&c, ".row.user").await, 0, "a new conversation");
    say(&c, "Are shared images free of charge?").await;
    let a = last_answer(&c).await;
    assert!(a.is_ascii() && a.to_lowercase().contains("shared"), "{a}");
    say(&c, "my image is broken").await;
    let options = js(
        &c,
        "return Array.from(document.querySelectorAll('.row.bot:last-child .choice.option')).map(b => b.textContent);",
    )
    .await;
    assert_eq!(options[1], "Marketplace images", "{options}");
    click_and_wait(
        &c,
        ".row.bot:last-child .choice.option[data-value='marketplace']",
    )
    .await;
    assert_eq!(count(&c, ".row.bot:last-child .route.vendor").await, 1);

    c.close().await.unwrap();
}
