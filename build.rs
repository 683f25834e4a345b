//! Puts the git commit the binary is built from into `imagebot --version`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status
        .success()
        .then(|| text.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    // A build from a source archive has no repository: say so, not a guess.
    let described = match commit {
        Some(c) => format!("commit {c}"),
        None => "commit unknown: not built from a git checkout".to_string(),
    };
    println!("cargo:rustc-env=BUILD_GIT_COMMIT={described}");
    // Rebuild when HEAD moves: a new commit or another branch. Only files
    // that exist, since cargo reruns a script whose watched file is missing.
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    let watched = ["HEAD", "packed-refs"]
        .into_iter()
        .map(str::to_string)
        .chain(branch);
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
