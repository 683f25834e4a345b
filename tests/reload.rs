//! The reloader both long-running front ends use (`serve` and `telegram`):
//! `--watch` noticing a change, SIGHUP, a broken version refused, and an
//! answer in flight finishing on the version it started with. (The real
//! `imagebot serve` is reloaded end to end in tests/http.rs.)

mod common;
#[path = "support/server.rs"]
mod server;

use imagebot_channels::reload::{self, LiveKnowledge, ReloadOptions, ReloadOutcome};
use imagebot_core::{answer, Assistant, Conversation};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const OLD_END: &str = "镜像即云服务器的“装机盘”。";

fn what_is(kb: &Assistant) -> String {
    answer(kb, &mut Conversation::new(), "镜像是什么").text
}

fn live_copy() -> (tempfile::TempDir, Arc<LiveKnowledge>) {
    let dir = common::knowledge_copy();
    let kb = Assistant::from_dir(dir.path()).unwrap();
    let live = LiveKnowledge::new(kb, Some(dir.path().to_path_buf()));
    (dir, live)
}

fn rewrite(dir: &Path, to: &str) {
    let p = dir.join("topics/what-is-image.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text.find("镜像即云服务器的“装机盘”").unwrap();
    let end = start + text[start..].find('"').unwrap();
    std::fs::write(&p, format!("{}{to}{}", &text[..start], &text[end..])).unwrap();
}

/// Waits until the live knowledge answers "镜像是什么" ending with `end`.
/// (By content, not by counting reloads: another test in this process may
/// send a SIGHUP at any time.)
async fn answers(live: &LiveKnowledge, end: &str) {
    let start = Instant::now();
    while !what_is(&live.get()).ends_with(end) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reload to {end:?}: {:?}",
            live.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn an_answer_in_flight_keeps_its_version() {
    let (dir, live) = live_copy();
    // A request takes the knowledge at its start...
    let in_flight = live.get();
    rewrite(dir.path(), "镜像即云服务器的“装机盘”（新）。");
    assert!(matches!(live.reload(), ReloadOutcome::Reloaded { .. }));
    // ...and answers from it to the end; new requests get the new one.
    assert!(what_is(&in_flight).ends_with(OLD_END));
    assert!(what_is(&live.get()).ends_with("（新）。"));
    assert!(!Arc::ptr_eq(&in_flight, &live.get()));
    // The old version is freed once its last answer is done.
    let weak = Arc::downgrade(&in_flight);
    drop(in_flight);
    assert!(weak.upgrade().is_none());
}

#[test]
fn a_version_check_rejects_is_refused() {
    let (dir, live) = live_copy();
    let before = live.get();
    // Loads, but a phrasing is answered with another topic.
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasings = [\n  \"共享镜像要付费吗\",",
    );
    let ReloadOutcome::Refused { problems } = live.reload() else {
        panic!("accepted");
    };
    assert_eq!(
        problems,
        imagebot_core::check::check_dir(dir.path()).problems
    );
    assert!(
        problems[0].contains("the phrasing \"共享镜像要付费吗\" is answered with image-billing"),
        "{problems:?}"
    );
    assert!(Arc::ptr_eq(&before, &live.get()));
    // Does not load at all.
    std::fs::write(dir.path().join("types.toml"), "[[type]\n").unwrap();
    assert!(matches!(live.reload(), ReloadOutcome::Refused { .. }));
    assert!(Arc::ptr_eq(&before, &live.get()));
    assert_eq!(live.stats().refused, 2);
    assert_eq!(live.stats().generation, 0);
}

#[tokio::test]
async fn watch_reloads_a_changed_folder_and_skips_a_broken_one() {
    let (dir, live) = live_copy();
    let task = reload::spawn(
        live.clone(),
        ReloadOptions {
            watch: true,
            poll: Duration::from_millis(50),
        },
    );
    rewrite(dir.path(), "镜像即云服务器的“装机盘”（改）。");
    answers(&live, "（改）。").await;
    // A broken edit is refused; the next good one is taken.
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasingz = [",
    );
    let start = Instant::now();
    while live.stats().refused == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "not refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(what_is(&live.get()).ends_with("（改）。"));
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasingz = [",
        "phrasings = [",
    );
    rewrite(dir.path(), "镜像即云服务器的“装机盘”（再改）。");
    answers(&live, "（再改）。").await;
    // A new topic file counts as a change too (this one, a copy of another
    // topic, is refused: its phrasings are answered with the original).
    let seen = |l: &LiveKnowledge| l.stats().ok + l.stats().refused;
    let before = seen(&live);
    let src = dir.path().join("topics/what-is-image.toml");
    let text = std::fs::read_to_string(&src)
        .unwrap()
        .replace("id = \"what-is-image\"", "id = \"what-is-image-2\"");
    std::fs::write(dir.path().join("topics/zz-copy.toml"), text).unwrap();
    let start = Instant::now();
    while seen(&live) == before {
        assert!(start.elapsed() < Duration::from_secs(20), "no reaction");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(live.get().kb.topic("what-is-image-2").is_none());
    task.abort();
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads() {
    let (dir, live) = live_copy();
    // Installs the handler before returning: the signal below is safe.
    let task = reload::spawn(live.clone(), ReloadOptions::default());
    rewrite(dir.path(), "镜像即云服务器的“装机盘”（信号）。");
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    answers(&live, "（信号）。").await;
    assert!(live.stats().generation >= 1);
    task.abort();
}

/// `imagebot telegram` itself: SIGHUP reloads its --knowledge folder. Its
/// Bot API here is a local socket that never answers, so the bot waits in
/// its start-up `getMe` (no network), where the reloader already runs.
#[cfg(unix)]
#[test]
fn imagebot_telegram_reloads_on_sighup() {
    use std::process::{Command, Stdio};
    let dir = common::knowledge_copy();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}/", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().flatten() {
            held.push(c);
        }
    });
    let mut child = common::bin()
        .args(["telegram", "--no-record", "--knowledge"])
        .arg(dir.path())
        .env(
            "TELOXIDE_TOKEN",
            "1234567890:QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIO",
        )
        .env("TELOXIDE_API_URL", &api)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = server::drain(child.stderr.take().unwrap());
    let wait_for = |want: &str| {
        let start = Instant::now();
        loop {
            let text = log.lock().unwrap().clone();
            if text.contains(want) {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never logged {want:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Logged once the reloader (signal handler, watcher) is in place.
    let text = wait_for("per-chat rate limit");
    assert!(text.contains("rate_limit=20/60s"), "{text}");
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasingz = [",
    );
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let text = wait_for("SIGHUP: refused the new knowledge");
    assert!(text.contains("unknown field `phrasingz`"), "{text}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP stopped the bot:\n{text}"
    );
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasingz = [",
        "phrasings = [",
    );
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    wait_for("SIGHUP: reloaded the knowledge");
    let _ = child.kill();
    let _ = child.wait();
}
