//! The shape of the workspace, checked: the engine crate stays pure, no
//! module imports another that imports it back, and the engine's functions
//! stay short.

mod common;

use std::process::Command;

fn output(cmd: &mut Command) -> String {
    let out = cmd.current_dir(common::repo()).output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn the_core_has_no_server_stack() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = output(Command::new(cargo).args([
        "tree",
        "--offline",
        "-p",
        "imagebot-core",
        "-e",
        "normal,build",
        "--prefix",
        "none",
    ]));
    assert!(tree.starts_with("imagebot-core"), "{tree}");
    for crate_name in [
        "tokio ",
        "axum ",
        "teloxide ",
        "rusqlite ",
        "hyper ",
        "tracing-subscriber ",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(crate_name)),
            "imagebot-core depends on {crate_name}:\n{tree}"
        );
    }
}

#[test]
fn no_import_circles() {
    let out = output(Command::new("python3").arg("scripts/import_cycles.py"));
    assert!(out.starts_with("no import circles"), "{out}");
}

#[test]
fn the_core_functions_are_short() {
    output(Command::new("python3").args([
        "scripts/fn_lengths.py",
        "crates/imagebot-core/src",
        "--max",
        "120",
    ]));
}
