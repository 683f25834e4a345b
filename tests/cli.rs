//! End-to-end tests of the command line: the real binary on the real knowledge.

mod common;

use common::{knowledge_copy, run};
use serde_json::Value;

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn ask_json_answers_a_cell_in_the_contract_form() {
    let out = run(&["ask", "--json", "自定义镜像每个地域最多几个？"], "");
    assert!(out.status.success());
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["answered"], true);
    assert_eq!(v["topic"], "image-limits");
    assert_eq!(v["image_type"], "custom");
    assert!(v["text"].as_str().unwrap().contains("10个自定义镜像"));
    let c = v["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
    assert!(v["route"].is_null());
    assert!(v["suggestions"].is_array());
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys.len(), 7, "exactly the contract's fields: {keys:?}");
}

#[test]
fn ask_plain_prints_text_and_suggestions() {
    let out = run(&["ask", "How", "are", "images", "billed?"], "");
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("Windows"), "{s}");
    assert!(s.contains("You could also ask:"), "{s}");
}

#[test]
fn ask_explain_tells_why_on_stderr() {
    let out = run(&["ask", "--json", "--explain", "镜象怎么收废"], "");
    assert!(out.status.success());
    assert_eq!(
        json_lines(&out.stdout).len(),
        1,
        "stdout stays one JSON object"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("typo of \"收费\""), "{err}");
    assert!(err.contains("image-billing"), "{err}");
    assert!(err.contains("decision:"), "{err}");
}

#[test]
fn chat_json_keeps_one_conversation_and_answers_every_line() {
    let input =
        "共享镜像要付费吗？\n那公共镜像呢？\n\n镜像出问题了\n服务市场买的\n今天股市怎么样\n";
    let out = run(&["chat", "--json"], input);
    assert!(out.status.success());
    let r = json_lines(&out.stdout);
    assert_eq!(r.len(), 6, "one reply a line, the empty line included");
    assert_eq!(r[0]["image_type"], "shared");
    assert_eq!(r[1]["topic"], "image-billing");
    assert_eq!(r[1]["image_type"], "public");
    assert_eq!(r[2]["answered"], false, "an empty line gets a prompt");
    assert_eq!(r[3]["route"]["kind"], "clarify");
    assert_eq!(
        r[3]["route"]["options"],
        serde_json::json!(["public", "marketplace", "custom", "shared"])
    );
    assert_eq!(r[4]["route"]["kind"], "vendor");
    assert_eq!(r[4]["route"]["fallback"], "marketplace customer service");
    assert_eq!(r[5]["answered"], false);
    assert!(r[5]["topic"].is_null());
    assert!(!r[5]["suggestions"].as_array().unwrap().is_empty());
}

#[test]
fn chat_json_survives_invalid_utf8_and_control_characters() {
    let mut input = b"\xff\xfe\x00abc\n".to_vec();
    input.extend_from_slice("什么是镜像\u{200b}？\r\n".as_bytes());
    let mut child = common::bin()
        .args(["chat", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let r = json_lines(&out.stdout);
    assert_eq!(r.len(), 2);
    assert_eq!(r[1]["topic"], "what-is-image");
}

#[test]
fn chat_for_a_person_prompts_and_picks_suggestions_by_number() {
    let out = run(&["chat"], "镜像如何计费？\n1\n/quit\n");
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("您还可以问"), "{s}");
    // Suggestion 1 of the billing answer is the image-types question.
    assert!(s.contains("> 镜像类型有哪些？"), "{s}");
    assert!(s.contains("公共镜像"), "{s}");
}

#[test]
fn traditional_in_traditional_out() {
    let out = run(&["ask", "--json", "鏡像如何計費？"], "");
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["topic"], "image-billing");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("鏡像") && !text.contains("镜像"), "{text}");
}

#[test]
fn check_passes_on_the_real_knowledge() {
    let dir = common::repo().join("knowledge");
    let out = run(&["check", "--knowledge", dir.to_str().unwrap()], "");
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{s}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = format!(
        "ok: {} topics, {} image types",
        common::topic_count(),
        common::type_count()
    );
    assert!(s.starts_with(&head), "{s}");
    assert_eq!(s.lines().count(), 1);
}

#[test]
fn a_bad_knowledge_folder_fails_every_command_with_its_messages() {
    let dir = knowledge_copy();
    common::edit(
        dir.path(),
        "topics/image-billing.toml",
        "weight = 3.3",
        "wieght = 3.3",
    );
    let path = dir.path().to_str().unwrap();
    for args in [
        vec!["ask", "--knowledge", path, "hi"],
        vec!["chat", "--json", "--knowledge", path],
        vec!["check", "--knowledge", path],
    ] {
        let out = run(&args, "hi\n");
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("topics/image-billing.toml"), "{args:?}: {err}");
        assert!(err.contains("wieght"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_missing_knowledge_folder_is_a_clear_error() {
    let out = run(&["ask", "--knowledge", "/nonexistent/knowledge", "hi"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn eval_prints_the_metrics_and_failures() {
    let cases = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        cases.path(),
        r#"{"id":"a","kind":"paraphrase","turns":["镜像如何计费？"],"expect":{"answered":true,"topic":["image-billing"]}}
{"id":"b","kind":"oos","turns":["镜像如何计费？"],"expect":{"answered":false}}
"#,
    )
    .unwrap();
    let out = run(&["eval", "--cases", cases.path().to_str().unwrap()], "");
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("overall pass rate:        50.0% (1/2)"), "{s}");
    assert!(s.contains("OOS false-answer rate:    100.0% (1/1)"), "{s}");
    assert!(s.contains("b [oos]"), "{s}");
    assert!(s.trim_end().ends_with("1 passed, 1 failed"), "{s}");
    let out = run(
        &[
            "eval",
            "--json",
            "--fail-under",
            "0.9",
            "--cases",
            cases.path().to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], 1);
}

#[test]
fn eval_reports_a_malformed_case_file() {
    let cases = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cases.path(), "{\"turns\": []}\n").unwrap();
    let out = run(&["eval", "--cases", cases.path().to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

/// `chat --json` as a program drives it: one line, wait for its reply, the
/// next. Replies of lines that wait in the pipe are batched; a line with
/// nothing after it is answered (and its record committed) at once.
#[test]
fn chat_json_answers_a_waiting_client_at_once() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let mut child = common::bin()
        .arg("--db")
        .arg(&db)
        .args(["chat", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut next = |message: &str| -> Value {
        stdin.write_all(format!("{message}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a reply while the input stays open");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next("共享镜像要付费吗？")["image_type"], "shared");
    let problem = next("我的公共镜像 img-0000abcd 启动失败了");
    assert_eq!(problem["route"]["kind"], "ticket");
    // Its record is committed before the reply is written.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ids: String = conn
        .query_row("SELECT image_ids FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ids, "img-0000abcd");
    assert_eq!(next("那公共镜像呢？")["answered"], true);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A 100 MB line gets an error reply and costs little memory; the lines
/// after it are answered as usual.
#[test]
fn chat_json_caps_a_huge_line() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let mut child = common::bin()
        .args(["chat", "--json", "--no-record"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let chunk = "镜像".repeat(1 << 16); // 384 KiB
    for _ in 0..(100 << 20) / chunk.len() {
        stdin.write_all(chunk.as_bytes()).unwrap();
    }
    stdin.write_all("\n镜像是什么\n".as_bytes()).unwrap();
    stdin.flush().unwrap();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["error"], "line_too_long", "{first}");
    assert_eq!(first["answered"], false);
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["topic"], "what-is-image");
    // Peak memory while it read all of that.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    assert!(peak_kib < 64 * 1024, "peak {peak_kib} KiB");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A reader that goes away (`imagebot eval … | head -1`) is a quiet exit;
/// a full disk is a clear error; neither panics.
#[test]
fn closed_pipes_and_full_disks() {
    use std::process::Stdio;
    let cases = common::repo().join("tests/data/cases.jsonl");
    let commands: [Vec<&str>; 4] = [
        vec!["check"],
        vec!["eval", "--cases", cases.to_str().unwrap()],
        vec!["ask", "镜像是什么"],
        vec!["chat", "--json"],
    ];
    for args in &commands {
        // Closed pipe: the read end is gone before anything is written.
        let mut child = common::bin()
            .args(args)
            .arg("--no-record")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all("镜像是什么\n".repeat(2000).as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(err.is_empty(), "{args:?}: {err}");

        // Full disk.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = common::bin()
            .args(args)
            .arg("--no-record")
            .stdin(Stdio::from(std::fs::File::open("/dev/null").unwrap()))
            .stdout(Stdio::from(full))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if args[0] == "chat" {
            // No input, so nothing to write.
            assert!(out.status.success(), "{args:?}: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Traditional questions get Traditional answers converted by phrase:
/// Taiwan standard by default, Hong Kong standard for a Hong Kong-style
/// question; the product's word 鏡像 kept in both; `zh-hant` is not in the JSON.
#[test]
fn traditional_answers_follow_taiwan_or_hong_kong_standard() {
    let ask = |q: &str| json_lines(&run(&["ask", "--json", q], "").stdout).remove(0);
    let tw = ask("鏡像怎麼收費？");
    assert_eq!(tw["topic"], "image-billing");
    let text = tw["text"].as_str().unwrap();
    assert!(
        text.contains("鏡像") && text.contains("跨地域複製"),
        "{text}"
    );
    assert!(!text.contains("映象") && !text.contains("复"), "{text}");
    let suggestions = tw["suggestions"].to_string();
    assert!(!suggestions.contains("镜像"), "{suggestions}");
    let hk = ask("共享鏡像使唔使收費？");
    assert_eq!(hk["topic"], "image-billing");
    let hk_import = String::from_utf8(run(&["ask", "自訂鏡像喺邊度匯入？"], "").stdout).unwrap();
    assert!(hk_import.contains("您還可以問："), "{hk_import}");
    assert!(
        hk_import.contains("導入") && hk_import.contains("雲服務器"),
        "{hk_import}"
    );
    let tw_import = String::from_utf8(run(&["ask", "自訂鏡像怎麼匯入？"], "").stdout).unwrap();
    assert!(
        tw_import.contains("匯入") && tw_import.contains("雲伺服器"),
        "{tw_import}"
    );
    assert!(!tw_import.contains("有云"), "{tw_import}");
}

/// The greeting offers the curated questions, most asked first.
#[test]
fn greeting_offers_the_curated_questions() {
    let v = json_lines(&run(&["ask", "--json", "你好"], "").stdout).remove(0);
    assert_eq!(
        v["suggestions"],
        serde_json::json!([
            "镜像使用出现问题怎么办？",
            "镜像的使用限制？",
            "镜像如何计费？"
        ])
    );
}
