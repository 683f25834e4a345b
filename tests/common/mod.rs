//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imagebot"));
    // Records of test runs go to a scratch file, not the user's own
    // (`--db` on the command line still wins).
    // No imagebot.toml of the machine's or the repository's changes a test;
    // tests of the configuration set their own.
    c.env("IMAGEBOT_CONFIG", "");
    c.env(
        "IMAGEBOT_DB",
        std::env::temp_dir()
            .join("imagebot-tests")
            .join("records.db"),
    );
    c
}

/// Runs the binary with arguments and standard input.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut cmd = bin();
    cmd.args(args);
    feed(cmd, stdin)
}

/// Runs a command with standard input, collecting its output.
pub fn feed(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imagebot");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the real knowledge folder in a temporary directory, to break.
pub fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Replaces the first `from` with `to` in a file of the folder.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// The number of topics in the built-in knowledge: tests read it, so a
/// knowledge editor who adds a topic changes no test.
pub fn topic_count() -> usize {
    imagebot_core::Knowledge::builtin()
        .expect("built-in knowledge")
        .topics
        .len()
}

/// The number of image types in the built-in knowledge.
pub fn type_count() -> usize {
    imagebot_core::Knowledge::builtin()
        .expect("built-in knowledge")
        .types
        .len()
}
