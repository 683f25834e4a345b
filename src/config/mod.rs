//! Configuration: `imagebot.toml`, `IMAGEBOT_*` variables and flags, in that
//! rising order of precedence, all over the one clap command definition.
//!
//! The file's values become clap defaults and every flag gets its variable
//! with `Arg::env`, so clap alone decides precedence (command line, then
//! environment, then default) and every value goes through the flag's own
//! parser. Keys are the long flag names: global flags at the top, a command's
//! under its section (`[serve]`, `[triage.list]`).

mod apply;
mod file;
mod show;

pub use apply::env_name;
pub use show::print_effective;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What went wrong with the configuration; every message says where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// A key or value of the file is wrong.
    #[error("{}:{line}:{column}: {message}", path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What is wrong and what would be right.
        message: String,
    },
}

/// The command definition with the configuration applied, and where the
/// file's values came from (for `imagebot config`).
pub struct Loaded {
    /// The clap command to parse the command line with.
    pub command: clap::Command,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// The settings the file gave: (section, long flag name) and line.
    pub from_file: Vec<(Vec<String>, String, usize)>,
}

/// The name of the file looked for in the working folder.
pub const FILE_NAME: &str = "imagebot.toml";

/// Finds the configuration file (`--config`, else `IMAGEBOT_CONFIG`, else
/// `./imagebot.toml` if there is one), reads it and applies it, with the
/// environment, to `command`.
pub fn load(command: clap::Command, argv: &[OsString]) -> Result<Loaded, ConfigError> {
    let path = find(
        argv,
        std::env::var_os(env_name("config")),
        Path::new(FILE_NAME),
    );
    let file = path.as_deref().map(file::File::read).transpose()?;
    apply::apply(command, file)
}

/// Where the file is: `None` when none is named and there is no
/// `imagebot.toml` here; an empty `--config ""` turns the search off.
fn find(argv: &[OsString], env: Option<OsString>, local: &Path) -> Option<PathBuf> {
    let named = flag_value(argv, "--config").or(env);
    match named {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => local.is_file().then(|| local.to_path_buf()),
    }
}

/// The value of `--name VALUE` or `--name=VALUE` before any `--`; clap has
/// not parsed yet, since the file changes what it parses.
fn flag_value(argv: &[OsString], name: &str) -> Option<OsString> {
    let mut it = argv.iter().skip(1);
    let mut found = None;
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        } else if s == name {
            found = it.next().cloned();
        } else if let Some(v) = s.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            found = Some(OsString::from(v));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_flag_beats_the_variable_and_the_local_file() {
        let none = Path::new("/nonexistent/imagebot.toml");
        let argv = os(&["imagebot", "--config", "a.toml", "serve"]);
        assert_eq!(
            find(&argv, Some("b.toml".into()), none),
            Some("a.toml".into())
        );
        let argv = os(&["imagebot", "serve", "--config=c.toml"]);
        assert_eq!(find(&argv, None, none), Some("c.toml".into()));
        let argv = os(&["imagebot", "serve"]);
        assert_eq!(
            find(&argv, Some("b.toml".into()), none),
            Some("b.toml".into())
        );
        assert_eq!(find(&argv, None, none), None);
        let argv = os(&["imagebot", "ask", "--", "--config", "x"]);
        assert_eq!(find(&argv, None, none), None);
    }

    #[test]
    fn an_empty_name_turns_the_search_off() {
        let here = tempfile::tempdir().unwrap();
        let local = here.path().join(FILE_NAME);
        std::fs::write(&local, "").unwrap();
        let argv = os(&["imagebot", "chat"]);
        assert_eq!(find(&argv, None, &local), Some(local.clone()));
        assert_eq!(find(&argv, Some("".into()), &local), None);
        let argv = os(&["imagebot", "--config=", "chat"]);
        assert_eq!(find(&argv, None, &local), None);
    }
}
