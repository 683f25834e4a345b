//! imagebot-records: the records for the support team. Every escalation and
//! every unanswered question, in SQLite, masked, for `imagebot triage`.
//!
//! - [`Recorder`]: the records, shared by every front end
//!   (`recorder.record(channel, message, &reply)`); it stores what the
//!   engine decided (the reply, its ticket and category) and decides nothing.
//! - [`cli`]: `imagebot triage list|stats|export|purge`.
//! - [`mask`]: phone numbers and e-mail addresses, masked before storing.
//! - [`time`]: the records' times; [`duration`]: the one duration parser of
//!   every command and flag (the front ends' too).

pub mod cli;
pub mod duration;
pub mod mask;
mod store;
pub mod time;

pub use mask::mask;
pub use store::{
    Count, DayCount, Filter, Group, Record, RecordKind, Recorder, Stats, SCHEMA_VERSION,
};

use std::path::{Path, PathBuf};

/// Errors of the records and the triage commands.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("triage database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the triage database {path} has schema version {found}; this imagebot knows versions up to {supported} (use a newer imagebot)"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "no triage database at {0} (nothing recorded there yet; set --db PATH or IMAGEBOT_DB)"
    )]
    NoDatabase(PathBuf),
    #[error(
        "bad date {0:?}: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC), or an age such as 7d"
    )]
    BadDate(String),
    #[error(
        "bad age {0:?}: use a number and a unit, such as 30d, 12h or 2w (units s, m, h, d, w)"
    )]
    BadAge(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Where the records are: `--db PATH`, else `IMAGEBOT_DB`, else
/// `$XDG_DATA_HOME/imagebot/imagebot.db` (`~/.local/share/imagebot/imagebot.db`),
/// else `imagebot.db` in the current folder.
pub fn db_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("IMAGEBOT_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    default_db_path()
}

/// The default place of the records (see [`db_path`]).
pub fn default_db_path() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local").join("share"))
        });
    match data {
        Some(d) => d.join("imagebot").join("imagebot.db"),
        None => PathBuf::from("imagebot.db"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_path_prefers_the_flag() {
        assert_eq!(
            db_path(Some(Path::new("/tmp/x.db"))),
            PathBuf::from("/tmp/x.db")
        );
        assert!(default_db_path().ends_with("imagebot.db"));
    }
}
