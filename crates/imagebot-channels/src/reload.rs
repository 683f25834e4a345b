//! Live knowledge for the long-running front ends (`serve`, `telegram`):
//! the knowledge as an `Arc<Knowledge>` that each request or update takes
//! once at its start ([`LiveKnowledge::get`]), and a reload that swaps in a
//! new version of the `--knowledge` folder on SIGHUP or, with `--watch`,
//! when its files change ([`spawn`]).
//!
//! A new version must pass everything `imagebot check` checks (it loads,
//! and every phrasing is answered with its own topic); otherwise it is
//! refused, the problems are logged with `check`'s messages, and the
//! previous version keeps answering. Answers in flight finish on the
//! version they started with: they hold their own `Arc`.

use imagebot_core::check::check_knowledge;
use imagebot_core::Assistant;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tracing::{error, info, warn};

/// How often `--watch` looks at the folder's files by default.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new version answers from now on.
    Reloaded { topics: usize, took: Duration },
    /// The new version failed validation (`check`'s messages); the previous
    /// one keeps answering.
    Refused { problems: Vec<String> },
    /// The knowledge is the one built into the binary: nothing to reload.
    Builtin,
}

/// Counts of reloads, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadStats {
    pub ok: u64,
    pub refused: u64,
    /// 0 for the version loaded at start, then +1 at each successful reload.
    pub generation: u64,
}

/// The knowledge currently answering, and where a new version comes from.
pub struct LiveKnowledge {
    current: RwLock<(u64, Arc<Assistant>)>,
    /// The `--knowledge` folder; `None`: the built-in knowledge.
    dir: Option<PathBuf>,
    /// One reload at a time, so an older load never replaces a newer one.
    reloading: Mutex<()>,
    ok: AtomicU64,
    refused: AtomicU64,
}

impl LiveKnowledge {
    /// Live knowledge, first `kb`; reloads read `dir` (`None`: the
    /// built-in knowledge, nothing to reload).
    pub fn new(kb: Assistant, dir: Option<PathBuf>) -> Arc<LiveKnowledge> {
        Arc::new(LiveKnowledge {
            current: RwLock::new((0, Arc::new(kb))),
            dir,
            reloading: Mutex::new(()),
            ok: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// Knowledge that never changes.
    pub fn fixed(kb: Assistant) -> Arc<LiveKnowledge> {
        LiveKnowledge::new(kb, None)
    }

    /// The folder reloads read, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The current version. Take it once at the start of an answer and use
    /// it to the end: a reload meanwhile does not change it.
    pub fn get(&self) -> Arc<Assistant> {
        self.snapshot().1
    }

    /// The current version with its generation (0 at start, +1 a reload).
    pub fn snapshot(&self) -> (u64, Arc<Assistant>) {
        let g = self.current.read().unwrap_or_else(|e| e.into_inner());
        (g.0, Arc::clone(&g.1))
    }

    pub fn stats(&self) -> ReloadStats {
        ReloadStats {
            ok: self.ok.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            generation: self.current.read().unwrap_or_else(|e| e.into_inner()).0,
        }
    }

    /// Loads and validates the folder again and, when it passes, swaps it
    /// in. Blocking (reads files, answers every phrasing): call it off the
    /// async workers (see [`reload_and_log`]).
    pub fn reload(&self) -> ReloadOutcome {
        let Some(dir) = &self.dir else {
            return ReloadOutcome::Builtin;
        };
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let start = Instant::now();
        match validate(dir) {
            Ok(kb) => {
                let topics = kb.kb.topics.len();
                let kb = Arc::new(kb);
                let old = {
                    let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
                    let generation = cur.0 + 1;
                    std::mem::replace(&mut *cur, (generation, kb))
                };
                // The previous version goes when its last answer in flight
                // finishes; dropping it here (outside the lock) is the usual case.
                drop(old);
                self.ok.fetch_add(1, Ordering::Relaxed);
                ReloadOutcome::Reloaded {
                    topics,
                    took: start.elapsed(),
                }
            }
            Err(problems) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                ReloadOutcome::Refused { problems }
            }
        }
    }
}

/// Loads a knowledge folder and runs `imagebot check`'s checks on it: the
/// knowledge, or every problem in `check`'s words.
pub fn validate(dir: &Path) -> Result<Assistant, Vec<String>> {
    match Assistant::from_dir(dir) {
        Err(e) => Err(e.problems.iter().map(|p| p.to_string()).collect()),
        Ok(kb) => {
            let report = check_knowledge(&kb, &dir.display().to_string());
            if report.problems.is_empty() {
                Ok(kb)
            } else {
                Err(report.problems)
            }
        }
    }
}

/// Reloads off the async workers and logs what happened: info for a new
/// version, a warning per problem and an error for a refused one, a warning
/// when there is no folder to reload.
pub async fn reload_and_log(live: &Arc<LiveKnowledge>, why: &str) -> ReloadOutcome {
    let job = Arc::clone(live);
    let outcome = match tokio::task::spawn_blocking(move || job.reload()).await {
        Ok(o) => o,
        Err(e) => {
            error!("the knowledge reload failed: {e}");
            return ReloadOutcome::Refused {
                problems: vec![format!("the reload task failed: {e}")],
            };
        }
    };
    log_outcome(live, why, &outcome);
    outcome
}

fn log_outcome(live: &LiveKnowledge, why: &str, outcome: &ReloadOutcome) {
    let place = live
        .dir()
        .map_or_else(String::new, |d| d.display().to_string());
    match outcome {
        ReloadOutcome::Reloaded { topics, took } => info!(
            dir = %place,
            topics,
            generation = live.stats().generation,
            millis = took.as_millis() as u64,
            "{why}: reloaded the knowledge"
        ),
        ReloadOutcome::Refused { problems } => {
            for p in problems {
                warn!("{p}");
            }
            error!(
                dir = %place,
                problems = problems.len(),
                "{why}: refused the new knowledge ({} problem(s) in {place}, as `imagebot check --knowledge {place}` reports); the previous version keeps answering",
                problems.len()
            );
        }
        ReloadOutcome::Builtin => warn!(
            "{why}: nothing to reload: the knowledge is the one built into the binary (start with --knowledge DIR to reload a folder)"
        ),
    }
}

/// What one file of the folder looked like: path, size, modification time.
type FileStamp = (PathBuf, u64, Option<SystemTime>);

/// The knowledge files of a folder (its `*.toml` and `topics/*.toml`) with
/// their sizes and modification times, sorted: a change in any of them, a
/// file added or removed, changes this.
pub fn fingerprint(dir: &Path) -> Vec<FileStamp> {
    let mut out = Vec::new();
    for folder in [dir.to_path_buf(), dir.join("topics")] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            if let Ok(m) = std::fs::metadata(&path) {
                if m.is_file() {
                    out.push((path, m.len(), m.modified().ok()));
                }
            }
        }
    }
    out.sort();
    out
}

/// How the reloader runs.
#[derive(Debug, Clone, Copy)]
pub struct ReloadOptions {
    /// Also reload when the folder's files change (`--watch`).
    pub watch: bool,
    /// How often to look at the files when watching.
    pub poll: Duration,
}

impl Default for ReloadOptions {
    fn default() -> Self {
        ReloadOptions {
            watch: false,
            poll: DEFAULT_POLL,
        }
    }
}

/// Starts reloading `live` on SIGHUP and, with `watch`, when the folder's
/// files change. The signal handler is installed before this returns (so a
/// SIGHUP right after never kills the process); call it inside the tokio
/// runtime. The task runs until aborted.
pub fn spawn(live: Arc<LiveKnowledge>, opts: ReloadOptions) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!("cannot listen for SIGHUP ({e}); reload with --watch instead");
            None
        }
    };
    let watched = match (opts.watch, live.dir()) {
        (true, Some(dir)) => {
            info!(dir = %dir.display(), every_ms = opts.poll.as_millis() as u64, "watching the knowledge folder");
            Some((dir.to_path_buf(), fingerprint(dir)))
        }
        (true, None) => {
            warn!("--watch: nothing to watch: the knowledge is the one built into the binary (start with --knowledge DIR)");
            None
        }
        (false, _) => None,
    };
    tokio::spawn(async move {
        let mut watched = watched;
        let mut tick = tokio::time::interval(opts.poll.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let signalled = async {
                match hangup.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<Option<()>>();
            let changed = async {
                match watched.as_mut() {
                    Some((dir, seen)) => loop {
                        tick.tick().await;
                        if let Some(now) = changed_files(dir, seen, opts.poll).await {
                            *seen = now;
                            break;
                        }
                    },
                    None => std::future::pending().await,
                }
            };
            let hung_up = tokio::select! {
                s = signalled => Some(s.is_some()),
                _ = changed => None,
            };
            match hung_up {
                Some(true) => {
                    reload_and_log(&live, "SIGHUP").await;
                }
                // The signal stream is gone: keep watching only.
                Some(false) => {
                    #[cfg(unix)]
                    {
                        hangup = None;
                    }
                }
                None => {
                    reload_and_log(&live, "knowledge files changed").await;
                }
            }
        }
    })
}

/// The folder's new fingerprint when it differs from `seen`, once it has
/// settled (editors write in several steps): two looks a short while apart
/// agree.
async fn changed_files(dir: &Path, seen: &[FileStamp], poll: Duration) -> Option<Vec<FileStamp>> {
    let mut now = fingerprint_off_workers(dir).await;
    if now == seen {
        return None;
    }
    let settle = (poll / 4).clamp(Duration::from_millis(5), Duration::from_millis(250));
    loop {
        tokio::time::sleep(settle).await;
        let again = fingerprint_off_workers(dir).await;
        if again == now {
            return Some(now);
        }
        now = again;
    }
}

/// [`fingerprint`] on a blocking thread (a large folder is many `stat`s).
async fn fingerprint_off_workers(dir: &Path) -> Vec<FileStamp> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || fingerprint(&dir))
        .await
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_nothing_to_reload() {
        let live = LiveKnowledge::fixed(Assistant::builtin().unwrap());
        let before = live.get();
        assert_eq!(live.reload(), ReloadOutcome::Builtin);
        assert!(Arc::ptr_eq(&before, &live.get()));
        assert_eq!(live.stats(), ReloadStats::default());
    }

    #[test]
    fn a_missing_folder_is_refused_with_checks_message() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("nowhere");
        let live = LiveKnowledge::new(Assistant::builtin().unwrap(), Some(gone.clone()));
        let ReloadOutcome::Refused { problems } = live.reload() else {
            panic!("not refused");
        };
        assert_eq!(
            problems,
            [format!(
                "{}: not a folder (give the knowledge folder, the one holding types.toml and topics/)",
                gone.display()
            )]
        );
        assert_eq!(live.stats().refused, 1);
        assert_eq!(live.stats().generation, 0);
    }

    #[test]
    fn fingerprints_see_toml_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("topics")).unwrap();
        std::fs::write(dir.path().join("bot.toml"), "a").unwrap();
        let a = fingerprint(dir.path());
        assert_eq!(a.len(), 1);
        std::fs::write(dir.path().join(".bot.toml.swp"), "x").unwrap();
        assert_eq!(fingerprint(dir.path()), a);
        std::fs::write(dir.path().join("topics/t.toml"), "b").unwrap();
        assert_eq!(fingerprint(dir.path()).len(), 2);
        std::fs::write(dir.path().join("bot.toml"), "ab").unwrap();
        assert_ne!(fingerprint(dir.path())[0], a[0]);
    }
}
