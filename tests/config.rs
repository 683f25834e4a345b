//! Configuration end to end: `imagebot.toml` (found here, by --config or by
//! IMAGEBOT_CONFIG), IMAGEBOT_* variables and flags, their precedence as
//! the bot behaves, errors with line and column, and `imagebot config`.

mod common;

use common::bin;
use std::path::Path;
use std::process::{Command, Output};

fn in_dir(dir: &Path, args: &[&str]) -> Command {
    let mut c = bin();
    c.env_remove("IMAGEBOT_CONFIG").current_dir(dir).args(args);
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run imagebot")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_json(out: &Output) -> bool {
    serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok()
}

#[test]
fn precedence_is_flag_then_environment_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let ask = ["--no-record", "ask", "How are images billed?"];
    // Default: text.
    assert!(!is_json(&run(in_dir(dir.path(), &ask))));
    // The file in the working folder: JSON.
    std::fs::write(dir.path().join("imagebot.toml"), "[ask]\njson = true\n").unwrap();
    let out = run(in_dir(dir.path(), &ask));
    assert!(
        out.status.success() && is_json(&out),
        "{}",
        text(&out.stderr)
    );
    // The environment beats the file.
    let mut c = in_dir(dir.path(), &ask);
    c.env("IMAGEBOT_JSON", "false");
    assert!(!is_json(&run(c)));
    // The flag beats the environment.
    let mut c = in_dir(
        dir.path(),
        &["--no-record", "ask", "--json", "How are images billed?"],
    );
    c.env("IMAGEBOT_JSON", "false");
    assert!(is_json(&run(c)));
}

#[test]
fn the_file_can_be_named_by_flag_or_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bot.toml");
    // A global setting: a knowledge folder that does not exist.
    std::fs::write(&cfg, "knowledge = \"/nonexistent/knowledge\"\n").unwrap();
    let out = run(in_dir(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "ask", "hi"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/nonexistent/knowledge"),
        "{}",
        text(&out.stderr)
    );
    let mut c = in_dir(dir.path(), &["ask", "hi"]);
    c.env("IMAGEBOT_CONFIG", &cfg);
    let out = run(c);
    assert!(
        text(&out.stderr).contains("/nonexistent/knowledge"),
        "{}",
        text(&out.stderr)
    );
    // A named file that is missing is an error, not silently nothing.
    let out = run(in_dir(
        dir.path(),
        &["--config", "missing.toml", "ask", "hi"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read the configuration file missing.toml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_keys_and_bad_values_are_errors_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[serve]\naddr = \"127.0.0.1:0\"\n  rate-limt = \"5/min\"\n",
            "imagebot.toml:3:3: unknown key `rate-limt` in [serve]",
        ),
        (
            "[server]\naddr = \"x\"\n",
            "imagebot.toml:2:1: unknown section [server]",
        ),
        (
            "[serve]\nrate-limit = \"lots\"\n",
            "imagebot.toml:2:1: invalid value 'lots' for '--rate-limit",
        ),
        (
            "[serve]\nknowledge = \"k\"\n",
            "imagebot.toml:2:1: `knowledge` is a global setting",
        ),
        (
            "[telegram]\nwatch = \"yes\"\n",
            "imagebot.toml:2:1: `watch` is a switch",
        ),
        ("[serve\n", "imagebot.toml: not valid TOML"),
    ];
    for (file, want) in cases {
        std::fs::write(dir.path().join("imagebot.toml"), file).unwrap();
        let out = run(in_dir(dir.path(), &["config"]));
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{file:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn config_prints_the_effective_settings_and_where_each_came_from() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imagebot.toml"),
        "no-record = true\n\n[serve]\naddr = \"0.0.0.0:9000\"\nrate-limit = \"5/min\"\n",
    )
    .unwrap();
    let mut c = in_dir(dir.path(), &["--log-format", "json", "config"]);
    c.env("IMAGEBOT_RATE_LIMIT", "7/min")
        .env("TELOXIDE_TOKEN", "123:SECRET-TOKEN")
        .env("IMAGEBOT_WEBHOOK_SECRET", "hush-hush");
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    for want in [
        "# configuration file: imagebot.toml",
        "no-record = true  # imagebot.toml:1",
        "log-format = \"json\"  # command line",
        "[serve]\naddr = \"0.0.0.0:9000\"  # imagebot.toml:4",
        "rate-limit = \"7/min\"  # IMAGEBOT_RATE_LIMIT",
        "max-sessions = 10000  # default",
        "[telegram]",
        "# TELOXIDE_TOKEN: set (redacted)",
        "# IMAGEBOT_WEBHOOK_SECRET: set (redacted)",
    ] {
        assert!(printed.contains(want), "missing {want:?} in:\n{printed}");
    }
    assert!(
        !printed.contains("SECRET-TOKEN") && !printed.contains("hush-hush"),
        "{printed}"
    );
    // What it prints is itself a valid configuration file giving the same.
    let copy = tempfile::tempdir().unwrap();
    std::fs::write(copy.path().join("imagebot.toml"), &printed).unwrap();
    let again = run(in_dir(copy.path(), &["config"]));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("addr = \"0.0.0.0:9000\"  # imagebot.toml"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn every_flag_has_its_variable_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    // --session-idle of serve, --state of telegram, --limit of triage list:
    // each named in --help with its variable.
    for (args, var) in [
        (&["serve", "--help"][..], "IMAGEBOT_SESSION_IDLE"),
        (&["telegram", "--help"][..], "IMAGEBOT_STATE"),
        (&["triage", "list", "--help"][..], "IMAGEBOT_LIMIT"),
        (&["chat", "--help"][..], "IMAGEBOT_NO_RECORD"),
    ] {
        let out = run(in_dir(dir.path(), args));
        assert!(
            text(&out.stdout).contains(var),
            "{args:?}: {}",
            text(&out.stdout)
        );
    }
    // A mistyped variable is pointed out.
    let mut c = in_dir(dir.path(), &["config"]);
    c.env("IMAGEBOT_RATELIMIT", "5/min");
    let out = run(c);
    assert!(
        text(&out.stderr)
            .contains("IMAGEBOT_RATELIMIT is not a setting (did you mean IMAGEBOT_RATE_LIMIT?)"),
        "{}",
        text(&out.stderr)
    );
    // A bad value in a variable is refused by the flag's own parser.
    let mut c = in_dir(dir.path(), &["serve"]);
    c.env("IMAGEBOT_RATE_LIMIT", "lots");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'lots'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_server_runs_with_its_settings_from_the_file() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("imagebot.toml"),
        format!("no-record = true\n[serve]\naddr = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut child = in_dir(dir.path(), &["serve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.contains(&format!("http://127.0.0.1:{port}")), "{line}");
}

#[test]
fn webhook_without_listen_from_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imagebot.toml"),
        "[telegram]\nwebhook = \"https://bot.example.com/hook\"\n",
    )
    .unwrap();
    let mut c = in_dir(dir.path(), &["telegram"]);
    c.env("TELOXIDE_TOKEN", "123:abc");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--webhook and --listen go together"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_outside_the_repository_checks_the_built_in_knowledge() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(in_dir(dir.path(), &["check"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("in the built-in knowledge"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn version_names_the_commit() {
    let out = run(in_dir(&common::repo(), &["--version"]));
    let v = text(&out.stdout);
    assert!(
        v.starts_with(&format!("imagebot {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(common::repo())
        .output();
    if let Some(h) = head.ok().filter(|h| h.status.success()) {
        // Built from this checkout: the commit it was built at is HEAD
        // unless HEAD moved since (then cargo rebuilds before tests run).
        assert!(v.contains(text(&h.stdout).trim()), "{v}");
    }
}
