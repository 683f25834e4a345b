//! The web chat page and the widget in a real browser: headless Chromium
//! driven over chromedriver (fantoccini, see support/browser.rs).
//!
//! - The page: ask, press a suggestion, report a problem and press an image
//!   type (route and ticket draft), reload (the conversation is still
//!   there, and goes on), switch to English; `lang` of each bubble and of
//!   the page. Screenshot: tests/artifacts/web-chat.png.
//! - Dark mode (`prefers-color-scheme: dark`), and a Traditional reply
//!   marked `zh-Hant`. Screenshot: web-chat-dark.png.
//! - A failed send (server down; 429) keeps the message and retries it in
//!   place; a server that forgot the session starts a new one cleanly.
//! - The widget on a host page of another origin answers; on an origin not
//!   allowed it says it may not. Screenshot: widget.png.

#[path = "support/browser.rs"]
mod chrome;
#[path = "support/server.rs"]
mod server;

use chrome::{count, free_port, js, save_png, wait_count, wait_js, Browser};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use server::Server;
use std::time::{Duration, Instant};

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

/// The `lang` of the last bot bubble.
async fn bot_lang(c: &Client) -> Value {
    js(
        c,
        "var b = document.querySelectorAll('.row.bot .bubble'); return b[b.length - 1].lang;",
    )
    .await
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
    let Some(browser) = Browser::open("web_chat_in_headless_chromium", &[]).await else {
        return;
    };
    let c = &browser.c;
    let server = Server::start(&[]);

    c.goto(&server.url("/?lang=zh")).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("body[data-ready='1']"))
        .await
        .unwrap();
    assert_eq!(
        js(c, "return document.title;").await,
        "镜像助手 · Image assistant"
    );
    // The welcome bubble offers questions to start with.
    assert!(count(c, ".welcome .suggestion").await >= 3);

    // Ask; see the answer.
    say(c, "共享镜像要付费吗？").await;
    let a = last_answer(c).await;
    assert!(a.contains("共享镜像"), "{a}");
    // The reply says its language; the page follows the conversation.
    assert_eq!(bot_lang(c).await, "zh-Hans");
    assert_eq!(
        js(c, "return document.documentElement.lang;").await,
        "zh-Hans"
    );
    assert_eq!(
        js(c, "var u = document.querySelectorAll('.row.user .bubble'); return u[u.length-1].textContent;").await,
        "共享镜像要付费吗？"
    );
    // A follow-up in the same session.
    say(c, "那公共镜像呢？").await;
    let a = last_answer(c).await;
    assert!(a.contains("公共镜像") && a.contains("免费"), "{a}");

    // Press a suggestion button of the last answer: it is asked and answered.
    let label = click_and_wait(c, ".row.bot:last-child .suggestion").await;
    assert!(!label.is_empty());
    assert_eq!(
        js(c, "var u = document.querySelectorAll('.row.user .bubble'); return u[u.length-1].textContent;").await,
        label.as_str()
    );
    assert!(!last_answer(c).await.is_empty());

    // Report a problem: the clarify options come as buttons.
    say(c, "我的镜像坏了").await;
    assert_eq!(count(c, ".row.bot:last-child .choice.option").await, 4);
    let options = js(
        c,
        "return Array.from(document.querySelectorAll('.row.bot:last-child .choice.option')).map(b => b.textContent);",
    )
    .await;
    assert_eq!(
        options,
        json!(["公共镜像", "服务市场镜像", "自定义镜像", "共享镜像"])
    );
    // The links in the answer are real links, opening elsewhere.
    let link = js(
        c,
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
    let label = click_and_wait(c, ".row.bot:last-child .choice.option[data-value='public']").await;
    assert_eq!(label, "公共镜像");
    let route = js(
        c,
        "var r = document.querySelector('.row.bot:last-child .route.ticket a'); return r && r.href;",
    )
    .await;
    assert_eq!(
        route,
        "https://console.cloud.tencent.com/workorder/category"
    );
    let draft = js(
        c,
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
    assert_eq!(count(c, ".choice.option:not(:disabled)").await, 0);
    assert_eq!(count(c, ".row.error").await, 0);

    // The whole conversation in one phone-wide picture: let the page grow
    // instead of scrolling, and the window with it.
    let height = js(
        c,
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
            c,
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
    save_png("web-chat.png", &c.screenshot().await.unwrap());

    // A reload shows the same conversation, and it goes on in its session.
    let turns = "return Array.from(document.querySelectorAll('.row.user .bubble, .row.bot .answer')).map(e => e.textContent);";
    let before = js(c, turns).await;
    c.refresh().await.unwrap();
    wait_count(c, "body[data-ready='1']", 1).await;
    assert_eq!(js(c, turns).await, before);
    assert_eq!(count(c, ".row.bot:last-child .route.ticket").await, 1);
    assert_eq!(count(c, ".choice.option:not(:disabled)").await, 0);
    assert_eq!(
        js(c, "return document.documentElement.lang;").await,
        "zh-Hans"
    );
    say(c, "那共享镜像呢？").await;
    assert_eq!(
        count(c, ".note").await,
        0,
        "the same session, not a new one"
    );
    assert_eq!(count(c, ".row.error").await, 0);

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
        js(c, "return document.getElementById('send').textContent;").await,
        "Send"
    );
    assert_eq!(count(c, ".row.user").await, 0, "a new conversation");
    say(c, "Are shared images free of charge?").await;
    let a = last_answer(c).await;
    assert!(a.is_ascii() && a.to_lowercase().contains("shared"), "{a}");
    assert_eq!(bot_lang(c).await, "en");
    assert_eq!(js(c, "return document.documentElement.lang;").await, "en");
    say(c, "my image is broken").await;
    let options = js(
        c,
        "return Array.from(document.querySelectorAll('.row.bot:last-child .choice.option')).map(b => b.textContent);",
    )
    .await;
    assert_eq!(options[1], "Marketplace images", "{options}");
    click_and_wait(
        c,
        ".row.bot:last-child .choice.option[data-value='marketplace']",
    )
    .await;
    assert_eq!(count(c, ".row.bot:last-child .route.vendor").await, 1);

    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn dark_mode_and_a_traditional_reply() {
    // Blink's preferredColorScheme 0 is dark: what `prefers-color-scheme` reports.
    let dark = [
        "--force-dark-mode",
        "--blink-settings=preferredColorScheme=0",
    ];
    let Some(browser) = Browser::open("dark_mode_and_a_traditional_reply", &dark).await else {
        return;
    };
    let c = &browser.c;
    let server = Server::start(&[]);
    c.goto(&server.url("/?lang=zh")).await.unwrap();
    wait_count(c, "body[data-ready='1']", 1).await;
    assert_eq!(
        js(
            c,
            "return matchMedia('(prefers-color-scheme: dark)').matches;"
        )
        .await,
        true
    );
    let colours = "var b = getComputedStyle(document.body), h = getComputedStyle(document.querySelector('header')); \
                   return [b.backgroundColor, b.color, h.backgroundColor];";
    assert_eq!(
        js(c, colours).await,
        json!(["rgb(15, 20, 27)", "rgb(228, 232, 239)", "rgb(22, 28, 37)"])
    );

    say(c, "共享镜像要付费吗？").await;
    assert_eq!(bot_lang(c).await, "zh-Hans");
    // Asked in Traditional characters: answered in them, and marked so.
    say(c, "自定義鏡像有什麼限制？").await;
    let a = last_answer(c).await;
    assert!(a.contains("鏡像"), "{a}");
    assert_eq!(bot_lang(c).await, "zh-Hant");
    assert_eq!(
        js(c, "return document.documentElement.lang;").await,
        "zh-Hant"
    );
    // The page's own labels in that reply are Traditional too.
    let labels = js(
        c,
        "var b = Array.from(document.querySelectorAll('.row.bot')).pop(); return b.textContent;",
    )
    .await;
    let labels = labels.as_str().unwrap_or_default();
    assert!(
        labels.contains("您還可以問") && !labels.contains("您还可以问"),
        "{labels}"
    );
    // The user's own bubble is marked like its reply.
    assert_eq!(
        js(
            c,
            "var u = document.querySelectorAll('.row.user .bubble'); return u[u.length - 1].lang;"
        )
        .await,
        "zh-Hant"
    );
    say(c, "我的镜像坏了").await;
    assert_eq!(bot_lang(c).await, "zh-Hans");
    let bubble = js(
        c,
        "return getComputedStyle(document.querySelector('.row.bot:last-child .bubble')).backgroundColor;",
    )
    .await;
    assert_eq!(bubble, "rgb(27, 34, 48)");
    tokio::time::sleep(Duration::from_millis(300)).await;
    save_png("web-chat-dark.png", &c.screenshot().await.unwrap());
    c.clone().close().await.unwrap();
}

/// Types a message and presses Send, for a send that fails: waits for the error row.
async fn say_and_fail(c: &Client, message: &str) {
    let before = count(c, ".row.error").await;
    let input = c.find(Locator::Css("#input")).await.unwrap();
    input.send_keys(message).await.unwrap();
    c.find(Locator::Css("#send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_count(c, ".row.error", before + 1).await;
}

async fn user_texts(c: &Client) -> Value {
    js(
        c,
        "return Array.from(document.querySelectorAll('.row.user .bubble')).map(b => b.textContent);",
    )
    .await
}

#[tokio::test]
async fn a_failed_send_keeps_the_message_and_retries_it() {
    let Some(browser) = Browser::open("a_failed_send_keeps_the_message_and_retries_it", &[]).await
    else {
        return;
    };
    let c = &browser.c;
    let addr = format!("127.0.0.1:{}", free_port());
    let mut first = Server::start_on(&addr, &[]);
    c.goto(&first.url("/?lang=zh")).await.unwrap();
    wait_count(c, "body[data-ready='1']", 1).await;
    say(c, "共享镜像要付费吗？").await;

    // The server is gone: the message stays, marked, with a retry button.
    first.terminate();
    say_and_fail(c, "那公共镜像呢？").await;
    assert_eq!(
        user_texts(c).await,
        json!(["共享镜像要付费吗？", "那公共镜像呢？"])
    );
    assert_eq!(count(c, ".row.user.failed").await, 1);
    let why = js(
        c,
        "return document.querySelector('.row.error .why').textContent;",
    )
    .await;
    assert!(why.as_str().unwrap().contains("无法连接"), "{why}");
    // Back, but without the old session (a restart forgets it); one
    // message per 2 s, to see a 429 next.
    let second = Server::start_on(&addr, &["--rate-limit", "1/2s"]);
    let bots = count(c, ".row.bot:not(.typing)").await;
    c.find(Locator::Css(".row.error .retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_count(c, ".row.bot:not(.typing)", bots + 1).await;
    assert_eq!(
        user_texts(c).await,
        json!(["共享镜像要付费吗？", "那公共镜像呢？"])
    );
    assert_eq!(
        count(c, ".row.user.failed").await + count(c, ".row.error").await,
        0
    );
    assert!(!last_answer(c).await.is_empty());
    // The old turns stay; a note says a new conversation began.
    assert_eq!(count(c, ".note").await, 1);
    let stored = js(c, "return sessionStorage.getItem('imagebot-session');").await;
    assert_eq!(stored.as_str().map(str::len), Some(32), "{stored}");

    // Too many messages (429): the server's wait message, a retry button
    // enabled once the wait is over, and the message sent in place.
    say_and_fail(c, "镜像可以下载吗？").await;
    assert_eq!(count(c, ".row.error .retry:disabled").await, 1);
    let why = js(
        c,
        "return document.querySelector('.row.error .why').textContent;",
    )
    .await;
    assert!(why.as_str().unwrap().contains('秒'), "{why}");
    let start = Instant::now();
    wait_count(c, ".row.error .retry:not(:disabled)", 1).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    let bots = count(c, ".row.bot:not(.typing)").await;
    c.find(Locator::Css(".row.error .retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_count(c, ".row.bot:not(.typing)", bots + 1).await;
    assert_eq!(
        user_texts(c).await,
        json!(["共享镜像要付费吗？", "那公共镜像呢？", "镜像可以下载吗？"])
    );
    assert_eq!(count(c, ".row.error").await, 0);
    assert!(last_answer(c).await.contains("下载"));
    drop(second);
    c.clone().close().await.unwrap();
}

/// A sample host page: a shop with styles of its own that would spoil a
/// widget they reached (and elements named like the widget's, which the
/// widget's styles must not reach), and the embed snippet.
fn host_page(bot: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop</title>
<style>
  * {{ font-family: "DejaVu Serif", serif !important; color: rgb(120, 40, 20) !important; }}
  body {{ margin: 0; padding: 32px 40px; background: #fbf6ec; font-size: 22px; line-height: 2; }}
  button {{ background: rgb(0, 255, 0) !important; border-radius: 0 !important; }}
  h1 {{ font-size: 40px; margin: 0 0 12px; }}
  .card {{ display: inline-block; width: 260px; margin: 12px 16px 0 0; padding: 16px;
          border: 2px solid #e0d2b4; border-radius: 8px; background: #fff; vertical-align: top; }}
</style></head>
<body>
<h1>Example Cloud Shop</h1>
<p class="answer">Servers by the hour, images for every stack.</p>
<div class="card"><b>CVM S5</b><br>2 vCPU · 4 GiB</div>
<div class="card row bot"><span class="bubble">Marketplace: LAMP, Docker</span><br><span class="tool">Details</span></div>
<p><button type="button" id="buy">Buy now</button></p>
<script src="{bot}/widget.js" data-lang="zh" async></script>
</body></html>"#
    )
}

/// Serves `page` to every request on `port`, on 127.0.0.1 and (when it can) ::1,
/// so http://localhost:PORT and http://127.0.0.1:PORT are two origins of one server.
async fn serve_host_page(port: u16, page: String) -> Vec<tokio::task::JoinHandle<()>> {
    let page: std::sync::Arc<str> = page.into();
    let mut tasks = Vec::new();
    for ip in ["127.0.0.1", "[::1]"] {
        let Ok(listener) = tokio::net::TcpListener::bind(format!("{ip}:{port}")).await else {
            continue;
        };
        let page = page.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let page = page.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let res = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    );
                    let _ = sock.write_all(res.as_bytes()).await;
                });
            }
        }));
    }
    tasks
}

/// A script run inside the widget's shadow root (`s`).
async fn in_widget(c: &Client, body: &str) -> Value {
    let script = format!("var s = document.querySelector('imagebot-chat').shadowRoot; {body}");
    js(c, &script).await
}

#[tokio::test]
async fn the_widget_on_another_sites_page() {
    let size = ["--force-device-scale-factor=1", "--window-size=1000,760"];
    let Some(browser) = Browser::open("the_widget_on_another_sites_page", &size).await else {
        return;
    };
    let c = &browser.c;
    let host_port = free_port();
    let allowed = format!("http://localhost:{host_port}");
    let server = Server::start(&["--embed-origin", &allowed]);
    let _host = serve_host_page(host_port, host_page(&server.base)).await;

    c.goto(&format!("{allowed}/")).await.unwrap();
    wait_count(c, "imagebot-chat[data-ready='1']", 1).await;
    let shadow = c
        .find(Locator::Css("imagebot-chat"))
        .await
        .unwrap()
        .shadow_root()
        .await
        .unwrap();
    // Closed: just the button, in the widget's colours whatever the host's rules.
    let closed = "var b = s.querySelector('.launcher'); \
                  return [s.querySelector('.panel').hidden, b.getAttribute('aria-expanded'), getComputedStyle(b).backgroundColor];";
    assert_eq!(
        in_widget(c, closed).await,
        json!([true, "false", "rgb(10, 108, 255)"])
    );
    // Open it with a real click: focus goes to the message box.
    shadow
        .find(Locator::Css(".launcher"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let opened = "return [s.querySelector('.panel').hidden, s.querySelector('.launcher').getAttribute('aria-expanded'), s.activeElement && s.activeElement.id];";
    assert_eq!(in_widget(c, opened).await, json!([false, "true", "input"]));

    // Ask across origins (CORS for this origin): the answer shows.
    let input = shadow.find(Locator::Css("#input")).await.unwrap();
    input.send_keys("共享镜像要付费吗？").await.unwrap();
    shadow
        .find(Locator::Css("#send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_js(
        c,
        "var s = document.querySelector('imagebot-chat').shadowRoot; return s.querySelectorAll('.row.bot:not(.typing):not(:first-child)').length >= 1;",
        "the widget's answer",
    )
    .await;
    let answer = in_widget(
        c,
        "var a = s.querySelectorAll('.row.bot .answer'); var b = a[a.length - 1]; return [b.textContent, b.parentNode.lang, s.querySelector('.panel').lang];",
    )
    .await;
    assert!(answer[0].as_str().unwrap().contains("共享镜像"), "{answer}");
    assert_eq!(answer[1], "zh-Hans");
    assert_eq!(answer[2], "zh-Hans");
    assert_eq!(
        in_widget(c, "return s.querySelectorAll('.row.error').length;").await,
        0
    );

    // No style crosses: the host's rules stop at the widget, the widget's
    // never reach the host (nor its page language).
    let inside = in_widget(
        c,
        "var st = getComputedStyle(s.querySelector('.row.bot:last-child .answer')); \
         var send = getComputedStyle(s.querySelector('#send')); \
         return [st.color, st.fontFamily.indexOf('Serif') < 0, send.backgroundColor, send.borderTopLeftRadius];",
    )
    .await;
    assert_eq!(
        inside,
        json!(["rgb(29, 36, 51)", true, "rgb(10, 108, 255)", "20px"])
    );
    let outside = js(
        c,
        "var b = getComputedStyle(document.querySelector('.card .bubble')), t = getComputedStyle(document.querySelector('.card .tool')), \
         p = getComputedStyle(document.querySelector('p.answer')); \
         return [b.paddingLeft, b.borderTopLeftRadius, t.borderTopLeftRadius, p.whiteSpace, document.documentElement.lang, getComputedStyle(document.querySelector('#buy')).backgroundColor];",
    )
    .await;
    assert_eq!(
        outside,
        json!(["0px", "0px", "0px", "normal", "en", "rgb(0, 255, 0)"])
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    save_png("widget.png", &c.screenshot().await.unwrap());

    // Esc closes it and gives the focus back to the button.
    input.send_keys("\u{E00C}").await.unwrap();
    let closed =
        "return [s.querySelector('.panel').hidden, s.activeElement && s.activeElement.className];";
    assert_eq!(in_widget(c, closed).await, json!([true, "launcher"]));
    // A reload keeps the conversation here too.
    c.refresh().await.unwrap();
    wait_count(c, "imagebot-chat[data-ready='1']", 1).await;
    assert_eq!(
        in_widget(c, "return s.querySelectorAll('.row.user').length;").await,
        1
    );
    // A phone: the open panel takes the whole screen.
    c.set_window_size(412, 800).await.unwrap();
    in_widget(c, "s.querySelector('.launcher').click(); return 0;").await;
    let fit = in_widget(
        c,
        "var r = s.querySelector('.panel').getBoundingClientRect(); return [r.left, r.top, r.width === window.innerWidth, r.height === window.innerHeight];",
    )
    .await;
    assert_eq!(fit, json!([0, 0, true, true]));

    // The same page on an origin not listed: the widget says it may not,
    // and sends nothing.
    c.goto(&format!("http://127.0.0.1:{host_port}/"))
        .await
        .unwrap();
    wait_count(c, "imagebot-chat[data-ready='1']", 1).await;
    in_widget(c, "s.querySelector('.launcher').click(); return 0;").await;
    let refused = in_widget(
        c,
        "var e = s.querySelector('.row.error'); return [e && e.textContent, s.querySelector('#input').disabled, s.querySelectorAll('.row.user').length];",
    )
    .await;
    let text = refused[0].as_str().unwrap_or("");
    assert!(
        text.contains("未获准") && text.contains(&format!("http://127.0.0.1:{host_port}")),
        "{refused}"
    );
    assert_eq!(refused[1], true);
    assert_eq!(refused[2], 0);
    c.clone().close().await.unwrap();
}
