//! Support triage end to end: problem reports told from questions by the
//! real engine, the extracted fields and the ticket draft in replies, the
//! records (masking, a crash, two writers at once) and every triage command.

mod common;

use common::bin;
use imagebot_core::escalation;
use imagebot_core::{answer, Assistant, Conversation, Reply};
use imagebot_records::{self as triage, Recorder};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Output, Stdio};

fn kb() -> Assistant {
    Assistant::builtin().expect("built-in knowledge")
}

fn ask(kb: &Assistant, q: &str) -> Reply {
    answer(kb, &mut Conversation::new(), q)
}

/// Runs the binary on a database, with standard input.
fn run_db(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = bin();
    cmd.arg("--db").arg(db).args(args).env_remove("IMAGEBOT_DB");
    common::feed(cmd, stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Problem reports, with the route their image type calls for (None: clarify).
const PROBLEMS: &[(&str, &str)] = &[
    ("我的镜像启动失败了", "clarify"),
    ("导入镜像一直报错", "ticket"), // whatever is imported is a custom image
    ("镜像出问题了", "clarify"),
    ("镜像导入报错 InvalidImageFormat", "ticket"),
    ("imported image fails to boot with kernel panic", "ticket"),
    ("公共镜像创建的实例启动不了，报错 kernel panic", "ticket"),
    (
        "我在广州用 CentOS 7.9 公共镜像，实例 ins-ab12cd34 开机蓝屏",
        "ticket",
    ),
    ("共享镜像启动后网络不通", "ticket"),
    ("用 Ubuntu 22.04 公共镜像建的机器一直重启", "ticket"),
    ("Windows Server 2019 公共镜像激活失败", "ticket"),
    ("公共鏡像啟動失敗了", "ticket"),
    ("公共镜像有 bug", "ticket"),
    (
        "my public image instance won't boot, error: \"No bootable device\"",
        "ticket",
    ),
    (
        "the custom image img-12345678 fails to start in ap-guangzhou",
        "ticket",
    ),
    ("shared image instance has no network", "ticket"),
    (
        "my instance from a public CentOS image keeps rebooting",
        "ticket",
    ),
    (
        "the Windows Server 2016 public image shows activation error",
        "ticket",
    ),
    (
        "public Debian 11 image: cannot log in with password",
        "ticket",
    ),
    ("my custom image is broken", "ticket"),
    ("marketplace WordPress image won't load", "vendor"),
    ("服务市场买的宝塔镜像打不开面板", "vendor"),
    ("镜像市场的 LAMP 镜像 mysql 起不来", "vendor"),
    (
        "marketplace image crashed after update, who do I contact",
        "vendor",
    ),
];

/// Questions (several naming a region or an OS): answered, never escalated.
const QUESTIONS: &[&str] = &[
    "镜像怎么收费？",
    "共享镜像最多能共享给多少个账号？",
    "什么是镜像？",
    "镜像可以下载到本地吗？",
    "如何创建自定义镜像？",
    "镜像支持哪些操作系统？",
    "镜像和实例是什么关系？",
    "可以导入本地的镜像吗？",
    "镜像在哪些地域可以使用？",
    "自定义镜像有什么限制？",
    "公共镜像安全吗？",
    "用镜像有什么好处？",
    "CentOS 公共镜像收费吗？",
    "广州地域能用共享镜像吗？",
    "云服务器可以安装自定义镜像吗？",
    "What is an image?",
    "How are images billed?",
    "Can I download an image to my computer?",
    "How do I create a custom image?",
    "Which operating systems do images support?",
    "How many accounts can I share an image with?",
    "Is a public image safe?",
    "In which regions can images be used?",
    "How do I import an image?",
    "What is a shared image?",
    "Is the Windows Server public image free?",
];

#[test]
fn problem_reports_are_escalated_with_the_route_of_their_type() {
    let kb = kb();
    let (mut zh, mut en) = (0, 0);
    for (m, route) in PROBLEMS {
        let r = ask(&kb, m);
        assert_eq!(r.topic.as_deref(), Some("image-trouble"), "{m}");
        let kind = r.route.as_ref().map(|r| r.kind());
        assert_eq!(kind, Some(*route), "{m}");
        // A draft exactly when the route is a ticket or a vendor.
        assert_eq!(r.ticket.is_some(), *route != "clarify", "{m}");
        if let Some(t) = &r.ticket {
            assert_eq!(t.send_to, *route, "{m}");
            assert_eq!(t.image_type, r.image_type, "{m}");
            assert_eq!(t.description, m.trim(), "{m}");
        }
        if m.is_ascii() {
            en += 1;
        } else {
            zh += 1;
        }
    }
    assert!(zh >= 10 && en >= 10, "both languages: {zh} zh, {en} en");
    assert!(PROBLEMS.len() >= 20);
}

#[test]
fn questions_are_answered_not_escalated() {
    let kb = kb();
    for q in QUESTIONS {
        let r = ask(&kb, q);
        assert!(r.answered, "{q}");
        assert!(r.route.is_none(), "{q}: {:?}", r.route);
        assert!(r.ticket.is_none(), "{q}");
        assert_ne!(r.topic.as_deref(), Some("image-trouble"), "{q}");
    }
    assert!(QUESTIONS.iter().filter(|q| q.is_ascii()).count() >= 10);
    assert!(QUESTIONS.iter().filter(|q| !q.is_ascii()).count() >= 10);
}

#[test]
fn a_ticket_draft_carries_every_extracted_field() {
    let kb = kb();
    let m = "我在广州的公共镜像 img-abcd1234 (CentOS 7.9) 建的实例 ins-0a1b2c3d 启动失败，报错「Kernel panic - not syncing」";
    let r = ask(&kb, m);
    assert_eq!(r.route.as_ref().map(|r| r.kind()), Some("ticket"));
    let t = r.ticket.expect("a draft");
    assert_eq!(t.send_to, "ticket");
    assert_eq!(t.category, "云服务器 CVM > 镜像 > 实例无法启动");
    assert_eq!(t.image_type.as_deref(), Some("public"));
    assert_eq!(t.image_ids, ["img-abcd1234"]);
    assert_eq!(t.instance_ids, ["ins-0a1b2c3d"]);
    assert_eq!(t.region.as_deref(), Some("ap-guangzhou"));
    assert_eq!(t.os.as_deref(), Some("CentOS 7.9"));
    assert_eq!(t.error.as_deref(), Some("Kernel panic - not syncing"));
    assert_eq!(t.description, m);

    let r = ask(
        &kb,
        "custom image img-9z8y7x6w on ins-11aa22bb in ap-hongkong-2 won't boot on Ubuntu 20.04: 'unable to mount root fs'",
    );
    let t = r.ticket.expect("a draft");
    assert_eq!(t.category, "CVM > Images > Instance does not boot");
    assert_eq!(t.image_ids, ["img-9z8y7x6w"]);
    assert_eq!(t.instance_ids, ["ins-11aa22bb"]);
    assert_eq!(t.region.as_deref(), Some("ap-hongkong"));
    assert_eq!(t.os.as_deref(), Some("Ubuntu 20.04"));
    assert_eq!(t.error.as_deref(), Some("unable to mount root fs"));
}

#[test]
fn extraction_of_ids_regions_and_os() {
    let x = escalation::extract("实例 ins-abc12345 和 INS-def67890 用的镜像 img-00000001，在北京，系统是 Windows Server 2012 R2");
    assert_eq!(x.instance_ids, ["ins-abc12345", "ins-def67890"]);
    assert_eq!(x.image_ids, ["img-00000001"]);
    assert_eq!(x.region.as_deref(), Some("ap-beijing"));
    assert_eq!(x.os.as_deref(), Some("Windows Server 2012 R2"));
    for (m, region) in [
        ("ap-shanghai", "ap-shanghai"),
        ("上海", "ap-shanghai"),
        ("香港", "ap-hongkong"),
        ("Hong Kong", "ap-hongkong"),
        ("ap-singapore-1", "ap-singapore"),
        ("硅谷", "na-siliconvalley"),
        ("eu-frankfurt", "eu-frankfurt"),
        ("法蘭克福", "eu-frankfurt"),
        ("東京", "ap-tokyo"),
    ] {
        assert_eq!(
            escalation::extract(m).region.as_deref(),
            Some(region),
            "{m}"
        );
        let r = escalation::region_by_code(region).unwrap();
        assert_eq!(r.code, region);
    }
    for (m, os) in [
        ("TencentOS Server 3.1", "TencentOS Server 3.1"),
        ("debian 12", "Debian 12"),
        ("CentOS Stream 9", "CentOS Stream 9"),
        ("win2019", "Windows Server 2019"),
    ] {
        assert_eq!(escalation::extract(m).os.as_deref(), Some(os), "{m}");
    }
    assert!(escalation::extract("镜像怎么收费").is_empty());
}

#[test]
fn the_vendor_route_carries_the_fields_for_the_vendor() {
    let kb = kb();
    let r = ask(
        &kb,
        "marketplace WordPress image won't load on ins-ab12cd34 in Singapore, it says \"Error establishing a database connection\"",
    );
    assert_eq!(r.route.as_ref().map(|r| r.kind()), Some("vendor"));
    let t = r.ticket.expect("details for the vendor");
    assert_eq!(t.send_to, "vendor");
    assert_eq!(
        t.category,
        "Marketplace > Image vendor > Software in the image"
    );
    assert_eq!(t.instance_ids, ["ins-ab12cd34"]);
    assert_eq!(t.region.as_deref(), Some("ap-singapore"));
    assert_eq!(
        t.error.as_deref(),
        Some("Error establishing a database connection")
    );
    // A question how to reach a vendor is routed, but drafts nothing...
    let r = ask(&kb, "怎么联系镜像服务商？");
    assert_eq!(r.route.as_ref().map(|r| r.kind()), Some("vendor"));
    assert!(r.ticket.is_none());
}

#[test]
fn after_a_clarify_question_the_draft_describes_the_original_problem() {
    let kb = kb();
    let mut conv = Conversation::new();
    let first = answer(
        &kb,
        &mut conv,
        "我的镜像启动不了了，实例 ins-zz99yy88 在上海，提示找不到引导设备",
    );
    assert_eq!(first.route.as_ref().map(|r| r.kind()), Some("clarify"));
    assert!(first.ticket.is_none());
    let second = answer(&kb, &mut conv, "公共镜像");
    assert_eq!(second.route.as_ref().map(|r| r.kind()), Some("ticket"));
    let t = second.ticket.expect("a draft");
    assert_eq!(
        t.description,
        "我的镜像启动不了了，实例 ins-zz99yy88 在上海，提示找不到引导设备（公共镜像）"
    );
    assert_eq!(t.instance_ids, ["ins-zz99yy88"]);
    assert_eq!(t.region.as_deref(), Some("ap-shanghai"));
    assert_eq!(t.error.as_deref(), Some("找不到引导设备"));
    assert_eq!(t.image_type.as_deref(), Some("public"));
    // The problem is forgotten once drafted.
    assert!(conv.problem_message.is_none());
    let third = answer(&kb, &mut conv, "镜像怎么收费");
    assert!(third.ticket.is_none());

    // In English, and for a marketplace image.
    let mut conv = Conversation::new();
    answer(&kb, &mut conv, "my image does not work");
    let r = answer(&kb, &mut conv, "I bought it on the marketplace");
    assert_eq!(r.route.as_ref().map(|r| r.kind()), Some("vendor"));
    assert_eq!(
        r.ticket.unwrap().description,
        "my image does not work (I bought it on the marketplace)"
    );
}

#[test]
fn json_has_a_ticket_only_for_drafts() {
    let kb = kb();
    let keys = |r: &Reply| -> Vec<String> {
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys(&ask(&kb, "镜像怎么收费？")).len(), 7);
    assert_eq!(keys(&ask(&kb, "我的镜像启动失败了")).len(), 7);
    assert_eq!(keys(&ask(&kb, "今天天气怎么样")).len(), 7);
    let r = ask(&kb, "公共镜像 img-abcd1234 启动失败");
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 8);
    assert_eq!(v["route"]["kind"], "ticket");
    let t = &v["ticket"];
    assert_eq!(t["send_to"], "ticket");
    assert_eq!(t["image_type"], "public");
    assert_eq!(t["image_ids"][0], "img-abcd1234");
    assert!(t["instance_ids"].as_array().unwrap().is_empty());
    assert!(t["region"].is_null());
    assert_eq!(t["description"], "公共镜像 img-abcd1234 启动失败");
}

#[test]
fn the_cli_shows_the_draft_as_a_copyable_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = run_db(
        &db,
        &[
            "ask",
            "公共镜像 img-abcd1234 在广州启动失败，报错「No bootable device」",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let block = s.split("—— 工单草稿（可复制到工单） ——").nth(1).expect(&s);
    for line in [
        "问题类别：云服务器 CVM > 镜像 > 实例无法启动",
        "镜像类型：公共镜像",
        "镜像 ID：img-abcd1234",
        "实例 ID：（未提供，请补充）",
        "地域：ap-guangzhou（广州）",
        "报错信息：No bootable device",
        "问题描述：公共镜像 img-abcd1234 在广州启动失败，报错「No bootable device」",
    ] {
        assert!(block.contains(line), "{line}: {block}");
    }
    // And in a conversation, English.
    let out = run_db(&db, &["chat"], "my public image won't boot\n");
    let s = stdout(&out);
    assert!(
        s.contains("--- Ticket draft (copy and paste into the ticket) ---"),
        "{s}"
    );
    assert!(s.contains("Image type: public image"), "{s}");
    assert!(s.contains("Region: (not given, please add)"), "{s}");
}

#[test]
fn recording_keeps_escalations_and_unanswered_questions_only() {
    let kb = kb();
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::open(&dir.path().join("sub/folder/r.db")).unwrap();
    assert_eq!(rec.schema_version().unwrap(), triage::SCHEMA_VERSION);
    let mut stored = Vec::new();
    for (m, want) in [
        ("公共镜像启动失败", true),        // ticket
        ("市场镜像打不开了", true),        // vendor
        ("我的镜像坏了", true),            // clarify
        ("今天股市怎么样", true),          // decline
        ("Docker 镜像仓库怎么搭建", true), // mirror
        ("镜像怎么收费", false),           // an answer
        ("你好", false),                   // a greeting
        ("谢谢", false),                   // thanks
        ("", false),                       // empty
    ] {
        let r = ask(&kb, m);
        let id = rec.record("test", m, &r).unwrap();
        assert_eq!(id.is_some(), want, "{m}: {:?} {:?}", r.kind, r.route);
        stored.extend(id);
    }
    let all = rec.list(&triage::Filter::default()).unwrap();
    assert_eq!(all.len(), 5);
    let ids: Vec<i64> = all.iter().map(|r| r.id).collect();
    assert_eq!(ids, stored);
    let what: Vec<String> = all
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r.kind,
                r.route.clone().unwrap_or(r.reply_kind.clone())
            )
        })
        .collect();
    assert_eq!(
        what,
        [
            "escalation:ticket",
            "escalation:vendor",
            "escalation:clarify",
            "unanswered:out_of_scope",
            "unanswered:mirror"
        ]
    );
    assert_eq!(all[0].topic.as_deref(), Some("image-trouble"));
    assert_eq!(all[0].image_type.as_deref(), Some("public"));
    assert_eq!(all[0].channel, "test");
    assert_eq!(
        all[0].category.as_deref(),
        Some("云服务器 CVM > 镜像 > 实例无法启动")
    );
    assert!(all[3].category.is_none() && all[3].topic.is_none());
}

#[test]
fn phones_and_emails_are_masked_in_stored_text() {
    let kb = kb();
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::open(&dir.path().join("m.db")).unwrap();
    let m = "公共镜像 img-abcd1234 启动失败，报错「contact admin@corp.example.com」，请打 13812345678 或 +86 139-1234-5678，邮箱 li.lei@example.cn";
    let r = ask(&kb, m);
    assert!(r.ticket.is_some());
    rec.record("cli", m, &r).unwrap().unwrap();
    let q = "镜像能不能转到我另一个账号 zhang@qq.com 下？电话 010-87654321";
    rec.record("cli", q, &ask(&kb, q)).unwrap().unwrap();
    let all = rec.list(&triage::Filter::default()).unwrap();
    let r0 = &all[0];
    for text in [
        &r0.message,
        r0.description.as_ref().unwrap(),
        r0.error.as_ref().unwrap(),
    ] {
        assert!(!text.contains("13812345678"), "{text}");
        assert!(!text.contains("admin@"), "{text}");
    }
    assert!(r0.message.contains("138****5678"), "{}", r0.message);
    assert!(r0.message.contains("+861****5678"), "{}", r0.message);
    assert!(r0.message.contains("l***@example.cn"), "{}", r0.message);
    assert!(
        r0.message.contains("img-abcd1234"),
        "ids stay: {}",
        r0.message
    );
    assert_eq!(r0.error.as_deref(), Some("contact a***@corp.example.com"));
    assert_eq!(r0.image_ids, ["img-abcd1234"]);
    assert_eq!(
        all[1].message,
        "镜像能不能转到我另一个账号 z***@qq.com 下？电话 010****4321"
    );
    // Nothing unmasked anywhere in the file, WAL included.
    drop(rec);
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains("13812345678") && !hay.contains("zhang@qq.com"));
    }
}

#[test]
fn the_schema_is_versioned_and_a_newer_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let rec = Recorder::open(&path).unwrap();
    assert_eq!(rec.schema_version().unwrap(), 2);
    drop(rec);
    // Reopening migrates nothing and keeps WAL.
    let rec = Recorder::open(&path).unwrap();
    assert_eq!(rec.schema_version().unwrap(), 2);
    drop(rec);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Recorder::open(&path).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    // Not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "this is not sqlite, just text".repeat(100)).unwrap();
    assert!(Recorder::open(&junk).is_err());
}

#[test]
fn a_recorder_is_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Recorder>();
    let kb = std::sync::Arc::new(kb());
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::open(&dir.path().join("th.db")).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (rec, kb) = (rec.clone(), kb.clone());
            std::thread::spawn(move || {
                for i in 0..10 {
                    let m = format!("公共镜像 img-{t:04}{i:04} 启动失败");
                    rec.record("http", &m, &ask(&kb, &m)).unwrap().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(rec.count().unwrap(), 40);
}

/// Problem reports with unique image ids, one a line.
fn problem_lines(tag: u32, n: usize) -> String {
    (0..n)
        .map(|i| format!("我的公共镜像 img-{tag:02}{i:06} 启动失败了\n"))
        .collect()
}

fn stored_ids(db: &Path) -> (Vec<String>, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn.prepare("SELECT image_ids FROM records").unwrap();
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (ids, check)
}

#[test]
fn a_killed_process_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["chat", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Feed problem reports without pause, until the process is gone.
    let feeder = std::thread::spawn(move || {
        for i in 0..1_000_000 {
            let line = format!("我的公共镜像 img-{:08} 启动失败了\n", i);
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    // A printed reply acknowledges its record (it is written first).
    let mut acknowledged = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acknowledged.len() < 150 {
        let line = lines.next().expect("a reply").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        let id = v["ticket"]["image_ids"][0].as_str().unwrap().to_string();
        acknowledged.push(id);
    }
    child.kill().unwrap(); // SIGKILL, in the middle of writing
    child.wait().unwrap();
    // Replies already in the pipe were acknowledged too.
    for line in lines.map_while(Result::ok) {
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if let Some(id) = v["ticket"]["image_ids"][0].as_str() {
                acknowledged.push(id.to_string());
            }
        }
    }
    feeder.join().unwrap();
    let (stored, check) = stored_ids(&db);
    assert_eq!(check, "ok");
    for id in &acknowledged {
        assert!(
            stored.contains(id),
            "{id} was acknowledged but is not stored"
        );
    }
    assert!(stored.len() >= acknowledged.len());
    // And the file still opens and takes records.
    let rec = Recorder::open(&db).unwrap();
    let kb = kb();
    let r = ask(&kb, "公共镜像启动失败");
    assert!(rec.record("cli", "公共镜像启动失败", &r).unwrap().is_some());
}

#[test]
fn two_processes_write_the_same_new_database_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let spawn = |tag: u32| {
        let db = db.clone();
        std::thread::spawn(move || run_db(&db, &["chat", "--json"], &problem_lines(tag, 120)))
    };
    let (a, b) = (spawn(1), spawn(2));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    for out in [&a, &b] {
        assert!(out.status.success());
        assert_eq!(stdout(out).lines().count(), 120);
        assert!(
            stderr(out).is_empty(),
            "no recording error: {}",
            stderr(out)
        );
    }
    let (stored, check) = stored_ids(&db);
    assert_eq!(check, "ok");
    assert_eq!(stored.len(), 240);
    for tag in [1, 2] {
        for i in 0..120 {
            let id = format!("img-{tag:02}{i:06}");
            assert!(stored.contains(&id), "{id}");
        }
    }
}

#[test]
fn no_record_and_the_db_env_var() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = run_db(&db, &["--no-record", "ask", "公共镜像启动失败"], "");
    assert!(out.status.success());
    assert!(!db.exists(), "--no-record writes nothing");
    // IMAGEBOT_DB when there is no --db.
    let env_db = dir.path().join("env.db");
    let out = bin()
        .env("IMAGEBOT_DB", &env_db)
        .args(["ask", "--json", "公共镜像启动失败"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = bin()
        .env("IMAGEBOT_DB", &env_db)
        .args(["triage", "list", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["channel"], "cli");
    assert_eq!(v[0]["route"], "ticket");
}

#[test]
fn a_recording_failure_never_loses_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the database's folder should be.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let db = blocker.join("r.db");
    let out = run_db(&db, &["ask", "--json", "公共镜像启动失败"], "");
    assert!(out.status.success());
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["route"]["kind"], "ticket");
    assert!(stderr(&out).contains("not recording"), "{}", stderr(&out));
    // A database of a newer imagebot: answers still come, one per line.
    let newer = dir.path().join("newer.db");
    Recorder::open(&newer).unwrap();
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);
    let out = run_db(
        &newer,
        &["chat", "--json"],
        "公共镜像启动失败\n今天股市怎么样\n",
    );
    assert!(out.status.success());
    assert_eq!(stdout(&out).lines().count(), 2);
    assert!(
        stderr(&out).contains("schema version 7"),
        "{}",
        stderr(&out)
    );
}

/// A database with records at known times (UTC days 2025-06-01 and 06-02).
fn sample_db(dir: &Path) -> std::path::PathBuf {
    let kb = kb();
    let db = dir.join("sample.db");
    let rec = Recorder::open(&db).unwrap();
    let day1 = 1_748_736_000; // 2025-06-01T00:00:00Z
    let day2 = day1 + 86_400;
    let rows: &[(i64, &str, &str)] = &[
        (day1 + 3600, "cli", "我在广州的公共镜像 img-abcd1234 (CentOS 7.9) 启动失败，报错「Kernel panic, not syncing」"),
        (day1 + 7200, "http", "marketplace WordPress image won't load, it says \"Error establishing a database connection\""),
        (day1 + 7300, "telegram", "我的镜像出问题了"),
        (day1 + 7400, "cli", "镜像能转给别的账号吗"),
        (day2 + 100, "http", "镜像可以转给别的账号吗？"),
        (day2 + 200, "telegram", "镜像能不能转给别的账号"),
        (day2 + 300, "cli", "今天股市怎么样"),
        (day2 + 400, "cli", "共享镜像启动后网络不通，实例 ins-0a1b2c3d"),
    ];
    for (ts, channel, m) in rows {
        let r = ask(&kb, m);
        rec.record_at(channel, m, &r, *ts).unwrap().expect(m);
    }
    db
}

#[test]
fn triage_list_text_json_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let out = run_db(&db, &["triage", "list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 9, "{s}");
    assert!(lines[0].starts_with("id  time                  channel   what          topic          type         region        ids"), "{s}");
    // Newest first.
    assert!(lines[1].starts_with("8   2025-06-02T00:06:40Z  cli       ticket        image-trouble  shared       -             ins-0a1b2c3d  共享镜像启动后网络不通"), "{s}");
    assert!(lines[8].starts_with("1   2025-06-01T01:00:00Z  cli       ticket        image-trouble  public       ap-guangzhou  img-abcd1234  我在广州的公共镜像"), "{s}");
    assert!(
        s.contains("telegram  clarify       image-trouble  -"),
        "{s}"
    );
    assert!(s.contains("cli       out_of_scope  -"), "{s}");

    let out = run_db(&db, &["triage", "list", "--route", "ticket"], "");
    let s = stdout(&out);
    assert_eq!(s.lines().count(), 3, "{s}");
    assert!(s.lines().skip(1).all(|l| l.contains(" ticket ")), "{s}");

    let out = run_db(
        &db,
        &["triage", "list", "--since", "2025-06-02", "--json"],
        "",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a[0]["id"], 8);
    assert_eq!(a[0]["time"], "2025-06-02T00:06:40Z");
    assert_eq!(a[0]["instance_ids"][0], "ins-0a1b2c3d");
    assert_eq!(a[0]["category"], "云服务器 CVM > 镜像 > 网络");

    let out = run_db(&db, &["triage", "list", "--unanswered", "--limit", "2"], "");
    let s = stdout(&out);
    assert_eq!(s.lines().count(), 4, "{s}");
    assert!(s.ends_with("(the newest 2; --limit 0 lists all)\n"), "{s}");

    let out = run_db(&db, &["triage", "list", "--route", "clarify", "--json"], "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["message"], "我的镜像出问题了");
    assert_eq!(v[0]["channel"], "telegram");

    let out = run_db(&db, &["triage", "list", "--since", "yesterday"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad date \"yesterday\""),
        "{}",
        stderr(&out)
    );
    let out = run_db(&db, &["triage", "list", "--route", "email"], "");
    assert!(!out.status.success());
}

#[test]
fn triage_stats_counts_and_groups_unanswered_questions() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let out = run_db(&db, &["triage", "stats"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let want = "\
8 record(s) from 2025-06-01T01:00:00Z to 2025-06-02T00:06:40Z: 4 escalation(s), 4 unanswered

escalations by route:
  ticket       2
  clarify      1
  vendor       1

escalations by topic:
  image-trouble      4

unanswered by kind:
  out_of_scope      4

by channel:
  cli           4
  http          2
  telegram      2

by day (UTC)    escalations  unanswered
  2025-06-01            3           1
  2025-06-02            1           3

most frequent unanswered questions (candidates for new phrasings):
     3  镜像能不能转给别的账号
        also: 镜像可以转给别的账号吗？ | 镜像能转给别的账号吗
     1  今天股市怎么样
";
    assert_eq!(s, want);

    let out = run_db(
        &db,
        &["triage", "stats", "--json", "--since", "2025-06-02"],
        "",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 4);
    assert_eq!(v["escalations"], 1);
    assert_eq!(v["by_day"][0]["day"], "2025-06-02");
    assert_eq!(v["unanswered_groups"][0]["count"], 2);
}

/// A small RFC 4180 reader: rows of fields; CRLF row ends required.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("a bare LF ends a row"),
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

#[test]
fn triage_export_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // A message with every character CSV must quote.
    let kb = kb();
    let m = "公共镜像启动失败, 报错 \"disk full\"\n第二行";
    Recorder::open(&db)
        .unwrap()
        .record_at("cli", m, &ask(&kb, m), 1_748_736_000 + 90_000)
        .unwrap()
        .unwrap();

    let out = run_db(&db, &["triage", "export", "--format", "csv"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = parse_csv(&stdout(&out));
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0].join(","), "id,time,channel,kind,route,topic,image_type,reply_kind,lang,confidence,message,image_ids,instance_ids,region,os,error,category,description");
    assert!(rows.iter().all(|r| r.len() == 18));
    // Oldest first.
    assert_eq!(rows[1][0], "1");
    assert_eq!(rows[1][1], "2025-06-01T01:00:00Z");
    assert_eq!(rows[1][4], "ticket");
    assert_eq!(rows[1][11], "img-abcd1234");
    assert_eq!(rows[1][13], "ap-guangzhou");
    assert_eq!(rows[1][14], "CentOS 7.9");
    assert_eq!(rows[1][15], "Kernel panic, not syncing");
    assert_eq!(rows[9][10], m);
    assert_eq!(rows[9][15], "disk full");

    let out = run_db(
        &db,
        &["triage", "export", "--format", "jsonl", "--route", "vendor"],
        "",
    );
    let s = stdout(&out);
    let objs: Vec<Value> = s
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["route"], "vendor");
    assert_eq!(objs[0]["image_type"], "marketplace");
    assert_eq!(objs[0]["error"], "Error establishing a database connection");
    assert_eq!(objs[0]["channel"], "http");
    let c = objs[0]["confidence"].as_f64().unwrap();
    assert_eq!(c, (c * 100.0).round() / 100.0, "two places: {c}");
    let out = run_db(&db, &["triage", "export", "--format", "jsonl"], "");
    assert_eq!(stdout(&out).lines().count(), 9);
}

#[test]
fn triage_purge_deletes_old_records() {
    let kb = kb();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("purge.db");
    let rec = Recorder::open(&db).unwrap();
    let now = triage::time::now();
    for (age_days, m) in [
        (40, "公共镜像启动失败"),
        (31, "今天股市怎么样"),
        (2, "市场镜像打不开了"),
    ] {
        rec.record_at("cli", m, &ask(&kb, m), now - age_days * 86_400)
            .unwrap()
            .unwrap();
    }
    drop(rec);
    let out = run_db(&db, &["triage", "purge", "--older-than", "30d"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.starts_with("purged 2 record(s) older than 30d (before "),
        "{s}"
    );
    assert!(
        s.trim_end()
            .ends_with(&format!("1 left in {}", db.display())),
        "{s}"
    );
    let out = run_db(&db, &["triage", "list", "--json"], "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["message"], "市场镜像打不开了");

    let out = run_db(&db, &["triage", "purge", "--older-than", "soon"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad age"), "{}", stderr(&out));
}

#[test]
fn triage_commands_on_a_missing_or_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    let out = run_db(&db, &["triage", "list"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no triage database at"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists(), "listing creates nothing");
    Recorder::open(&db).unwrap();
    assert_eq!(
        stdout(&run_db(&db, &["triage", "list"], "")),
        "no records\n"
    );
    assert_eq!(
        stdout(&run_db(&db, &["triage", "stats"], "")),
        "no records\n"
    );
    assert_eq!(
        stdout(&run_db(&db, &["triage", "list", "--json"], "")),
        "[]\n"
    );
    let csv = stdout(&run_db(&db, &["triage", "export", "--format", "csv"], ""));
    assert_eq!(parse_csv(&csv).len(), 1);
}

mod never_panics {
    use imagebot_core::escalation::{self, KindWords};
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static KINDS: LazyLock<KindWords> = LazyLock::new(|| {
        KindWords::new(&imagebot_core::Knowledge::builtin().unwrap().problem_kinds)
    });

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any text, rich in the characters extraction looks at.
        #[test]
        fn extraction_and_masking_take_any_text(
            s in "(\\PC|[「」『』“”‘’\"'：:，。\n]|报错|提示|显示|error: |says |img-|ins-|ap-|广州|centos |1[3-9][0-9]{9}|@a.com){0,40}"
        ) {
            let x = escalation::extract(&s);
            for id in x.image_ids.iter().chain(&x.instance_ids) {
                prop_assert_eq!(id.len(), 12);
                prop_assert!(id[4..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            }
            if let Some(r) = &x.region {
                prop_assert!(escalation::region_by_code(r).is_some());
            }
            prop_assert!(x.error.is_none_or(|e| e.chars().count() <= escalation::extract::MAX_ERROR_CHARS));
            let _ = escalation::extract::details(&s, &KINDS);
            let _ = imagebot_records::mask(&s);
        }

        /// A Chinese mobile number never survives masking.
        #[test]
        fn mobiles_are_always_masked(
            pre in "[a-z一-龥 ，]{0,8}",
            n in "1[3-9][0-9]{9}",
            post in "[a-z一-龥 ，]{0,8}",
        ) {
            let masked = imagebot_records::mask(&format!("{pre}{n}{post}"));
            prop_assert!(!masked.contains(&n), "{}", masked);
        }
    }
}

/// Customers' words reach the support team's spreadsheet and terminal as
/// text: a formula does not run, an escape sequence does not act.
#[test]
fn exports_and_terminals_get_inert_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hostile.db");
    let hostile = [
        "=HYPERLINK(\"http://evil.example/\",\"点我\") 镜像能转给别人吗",
        "+cmd|' /C calc'!A0 镜像能转给别人吗",
        "@SUM(1+1)*cmd 镜像能转给别人吗",
        "-2+3 镜像能转给别人吗",
        "\u{1b}]0;pwned\u{7}\u{1b}[2J镜像能转给别人吗\u{202E}",
    ];
    let out = run_db(&db, &["chat", "--json"], &(hostile.join("\n") + "\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&run_db(&db, &["triage", "export", "--format", "csv"], ""));
    let rows = parse_csv(&csv);
    let messages: Vec<&str> = rows[1..].iter().map(|r| r[10].as_str()).collect();
    assert_eq!(messages.len(), hostile.len(), "{csv}");
    for m in &messages {
        assert!(!m.starts_with(['=', '+', '-', '@', '\t', '\r']), "{m:?}");
    }
    assert!(
        messages.iter().any(|m| m.starts_with("'=HYPERLINK(")),
        "{messages:?}"
    );
    // JSON lines keep the raw text.
    let jsonl = stdout(&run_db(&db, &["triage", "export", "--format", "jsonl"], ""));
    assert!(jsonl.contains("\"message\":\"=HYPERLINK("), "{jsonl}");
    // Human-readable outputs have no control characters at all.
    for args in [&["triage", "stats"][..], &["triage", "list"][..]] {
        let text = stdout(&run_db(&db, args, ""));
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202E}'),
            "{args:?}: {text:?}"
        );
        assert!(text.contains("镜像能转给别人吗"), "{args:?}: {text}");
    }
}
