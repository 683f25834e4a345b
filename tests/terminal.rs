//! The terminal chat through a real pseudo-terminal: line editing, history
//! (arrow-up recalls the last question), `/help`, and colours in logs.
//! rexpect reads bytes as Latin-1, so the assertions look at English text.

mod common;

use rexpect::session::{spawn_command, PtySession};
use std::process::Command;

const TIMEOUT_MS: u64 = 30_000;

fn chat(state: &std::path::Path) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imagebot"));
    cmd.args(["chat", "--no-record"])
        .env("IMAGEBOT_CONFIG", "")
        .env("XDG_STATE_HOME", state)
        .env("TERM", "xterm");
    spawn_command(cmd, Some(TIMEOUT_MS)).expect("start imagebot chat in a pty")
}

/// Waits for the prompt: keys sent before the editor is listening would be
/// read by the terminal's line discipline instead.
fn prompt(p: &mut PtySession) {
    p.exp_string("> ").unwrap();
}

#[test]
fn arrow_up_recalls_the_last_question_and_history_survives() {
    let state = tempfile::tempdir().unwrap();
    let mut p = chat(state.path());
    p.exp_string("/help").unwrap();
    prompt(&mut p);
    p.send_line("How are images billed?").unwrap();
    p.exp_string("You could also ask").unwrap();
    prompt(&mut p);
    // Up arrow, then Enter: the same question asked again.
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("How are images billed?").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("Windows").unwrap();
    p.exp_string("You could also ask").unwrap();
    prompt(&mut p);
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    let history = std::fs::read_to_string(state.path().join("imagebot/history")).unwrap();
    assert!(history.contains("How are images billed?"), "{history}");

    // A new chat starts with that history.
    let mut p = chat(state.path());
    p.exp_string("/help").unwrap();
    prompt(&mut p);
    // The last line was /quit; the one before it, the question.
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("/quit").unwrap();
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("How are images billed?").unwrap();
    // Ctrl-C drops the line being edited; Ctrl-D on an empty line leaves.
    p.send_control('c').unwrap();
    p.flush().unwrap();
    prompt(&mut p);
    p.send_control('d').unwrap();
    p.flush().unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn slash_help_lists_the_commands_and_is_not_a_question() {
    let state = tempfile::tempdir().unwrap();
    let mut p = chat(state.path());
    p.exp_string("/help").unwrap();
    prompt(&mut p);
    p.send_line("/help").unwrap();
    let text = p.exp_string("pick one of the suggested questions").unwrap();
    assert!(
        text.contains("/reset") && text.contains("/lang") && text.contains("/quit"),
        "{text}"
    );
    assert!(
        !text.contains("outside"),
        "/help was answered as a question: {text}"
    );
    p.send_line("/nonsense").unwrap();
    p.exp_string("/help lists them").unwrap();
    p.send_line("/lang en").unwrap();
    p.exp_string("(language: en)").unwrap();
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
}

/// What the server logs at a terminal from start to a SIGTERM.
fn logs_at_a_terminal(no_color: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imagebot"));
    cmd.args(["serve", "--no-record", "--addr", "127.0.0.1:0"])
        .env("IMAGEBOT_CONFIG", "")
        .env("RUST_LOG", "info")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = spawn_command(cmd, Some(TIMEOUT_MS)).expect("start imagebot serve in a pty");
    p.exp_string("listening on").unwrap();
    p.process_mut()
        .signal(rexpect::process::Signal::SIGTERM)
        .unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("SIGTERM received"), "{rest:?}");
    rest
}

#[test]
fn logs_are_coloured_at_a_terminal_unless_no_color() {
    assert!(
        logs_at_a_terminal(false).contains('\x1b'),
        "no colour at a terminal"
    );
    let plain = logs_at_a_terminal(true);
    assert!(
        !plain.contains('\x1b'),
        "colour despite NO_COLOR: {plain:?}"
    );
}

#[test]
fn log_format_json_writes_one_object_a_line() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = common::bin()
        .args([
            "serve",
            "--no-record",
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .env("IMAGEBOT_CONFIG", "")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let logs: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    child.wait().unwrap();
    assert!(
        logs.iter().any(|l| l.contains("SIGTERM received")),
        "{logs:?}"
    );
    for l in &logs {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
}
