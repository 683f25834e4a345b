//! The records: every escalation and every unanswered question, in SQLite.
//!
//! - A versioned schema (`PRAGMA user_version`), upgraded by [`MIGRATIONS`]
//!   in one write transaction, so two processes opening a new file at once
//!   cannot both migrate it.
//! - WAL journal, `synchronous = NORMAL`: a record is in the database file's
//!   log when [`Recorder::record`] returns, so a process killed right after
//!   loses nothing; only a power cut can lose the last few commits. FULL
//!   (an fsync per record) would cap a busy bot at about 2,000 records/s.
//! - A busy timeout: the HTTP server, the Telegram bot and the command line
//!   may write the same file at once; each waits its turn.
//! - `secure_delete`: purged records are overwritten, not left in free pages.
//! - Phone numbers and e-mail addresses are masked before anything is stored.

use crate::{mask, time, TriageError};
use imagebot_core::escalation::{extract, Extracted, MAX_DESCRIPTION};
use imagebot_core::normalize::normalize;
use imagebot_core::reply::{Reply, ReplyKind};
use rusqlite::types::Value;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a writer waits for another process's write to finish.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Stored messages are cut to this many characters.
pub const MAX_MESSAGE: usize = 2000;

/// The schema, one step per version: `MIGRATIONS[i]` takes a database from
/// version `i` to `i + 1`. Append only; never edit a released step.
const MIGRATIONS: &[&str] = &[
    // 1: the records.
    "CREATE TABLE records (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        ts           INTEGER NOT NULL,              -- Unix seconds, UTC
        channel      TEXT    NOT NULL,              -- cli, http, telegram
        kind         TEXT    NOT NULL CHECK (kind IN ('escalation', 'unanswered')),
        route        TEXT,                          -- ticket, vendor, clarify (escalations)
        topic        TEXT,
        image_type   TEXT,
        reply_kind   TEXT    NOT NULL,              -- answer, out_of_scope, unsure, not_in_faq, mirror (from 2)
        lang         TEXT    NOT NULL,
        confidence   REAL    NOT NULL,
        message      TEXT    NOT NULL,              -- masked
        image_ids    TEXT    NOT NULL DEFAULT '',   -- space-separated
        instance_ids TEXT    NOT NULL DEFAULT '',
        region       TEXT,
        os           TEXT,
        error        TEXT,                          -- masked
        category     TEXT,
        description  TEXT                           -- masked
    );
    CREATE INDEX records_ts ON records (ts);
    CREATE INDEX records_kind_route ON records (kind, route, ts);",
    // 2: one name per reply kind, the one `/metrics` documents.
    "UPDATE records SET reply_kind = 'out_of_scope' WHERE reply_kind = 'decline';
    UPDATE records SET reply_kind = 'not_in_faq' WHERE reply_kind = 'gap';",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Escalation or unanswered question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A reply with a route (ticket, vendor, clarify).
    Escalation,
    /// Not answered: declined, unsure, a gap of the FAQ, 镜像 in another sense.
    Unanswered,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Escalation => "escalation",
            RecordKind::Unanswered => "unanswered",
        }
    }

    /// What a reply is worth recording as, if anything: greetings, thanks,
    /// empty messages and plain answers are not recorded.
    pub fn of(message: &str, reply: &Reply) -> Option<RecordKind> {
        if reply.route.is_some() {
            return Some(RecordKind::Escalation);
        }
        let unanswered = matches!(
            reply.kind,
            ReplyKind::Decline | ReplyKind::Unsure | ReplyKind::Gap | ReplyKind::Mirror
        );
        (!reply.answered && unanswered && !message.trim().is_empty())
            .then_some(RecordKind::Unanswered)
    }
}

/// One stored record, as listed and exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: i64,
    /// UTC, RFC 3339.
    pub time: String,
    pub channel: String,
    pub kind: String,
    pub route: Option<String>,
    pub topic: Option<String>,
    pub image_type: Option<String>,
    pub reply_kind: String,
    pub lang: String,
    pub confidence: f64,
    pub message: String,
    pub image_ids: Vec<String>,
    pub instance_ids: Vec<String>,
    pub region: Option<String>,
    pub os: Option<String>,
    pub error: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    /// Unix seconds.
    #[serde(skip)]
    pub ts: i64,
}

/// Which records to list or export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Unix seconds: records at or after.
    pub since: Option<i64>,
    /// `ticket`, `vendor` or `clarify`.
    pub route: Option<String>,
    pub kind: Option<RecordKind>,
    /// At most this many (the newest when `newest_first`).
    pub limit: Option<usize>,
    pub newest_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub escalations: i64,
    pub unanswered: i64,
}

/// Unanswered questions that read alike: a candidate for a new phrasing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub count: i64,
    /// The most frequent wording.
    pub question: String,
    /// Other wordings, most frequent first.
    pub variants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: i64,
    pub escalations: i64,
    pub unanswered: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Escalations per route.
    pub by_route: Vec<Count>,
    /// Escalations per topic.
    pub by_topic: Vec<Count>,
    /// Unanswered questions per reply kind (out_of_scope, unsure, not_in_faq, mirror).
    pub unanswered_by_kind: Vec<Count>,
    pub by_channel: Vec<Count>,
    pub by_day: Vec<DayCount>,
    /// The most frequent unanswered questions, grouped by similarity.
    pub unanswered_groups: Vec<Group>,
}

/// The records of one database file; cheap to clone and shared across
/// threads (one connection behind a mutex). Calls block while writing.
#[derive(Clone)]
pub struct Recorder {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .finish()
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `f` again while another connection holds a lock it needs and the
/// busy handler did not wait (switching to WAL, starting a migration).
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = Instant::now();
    loop {
        match f() {
            Err(e) if is_busy(&e) && start.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(15));
            }
            other => return other,
        }
    }
}

/// One record's columns, worked out from a finished reply: what the engine
/// decided (ticket, category) is taken as it is, never decided again.
struct Row<'a> {
    kind: RecordKind,
    message: &'a str,
    reply: &'a Reply,
    fields: Extracted,
    category: Option<String>,
    description: Option<String>,
}

impl<'a> Row<'a> {
    fn of(kind: RecordKind, message: &'a str, reply: &'a Reply) -> Row<'a> {
        let (fields, category, description) = match &reply.ticket {
            Some(t) => (
                Extracted {
                    image_ids: t.image_ids.clone(),
                    instance_ids: t.instance_ids.clone(),
                    region: t.region.clone(),
                    os: t.os.clone(),
                    error: t.error.clone(),
                },
                Some(t.category.clone()),
                Some(t.description.clone()),
            ),
            // The engine put the category on every routed reply; the
            // fields of an unanswered question are read for the team here.
            None => (extract(message), reply.category.clone(), None),
        };
        Row {
            kind,
            message,
            reply,
            fields,
            category,
            description,
        }
    }

    /// Inserts the row (masked, cut) and returns its id.
    fn insert(&self, conn: &Connection, channel: &str, ts: i64) -> rusqlite::Result<i64> {
        let cut = |s: &str, n: usize| -> String { mask(&s.chars().take(n).collect::<String>()) };
        let (reply, fields) = (self.reply, &self.fields);
        let mut stmt = conn.prepare_cached(
            "INSERT INTO records (ts, channel, kind, route, topic, image_type, reply_kind, lang,
                confidence, message, image_ids, instance_ids, region, os, error, category, description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        stmt.execute(params![
            ts,
            channel,
            self.kind.as_str(),
            reply.route.as_ref().map(|r| r.kind()),
            reply.topic,
            reply.image_type,
            reply.kind.name(),
            reply.lang.name(),
            (f64::from(reply.confidence) * 100.0).round() / 100.0,
            cut(self.message, MAX_MESSAGE),
            fields.image_ids.join(" "),
            fields.instance_ids.join(" "),
            fields.region,
            fields.os,
            fields.error.as_deref().map(|e| cut(e, MAX_MESSAGE)),
            self.category,
            self.description.as_deref().map(|d| cut(d, MAX_DESCRIPTION)),
        ])?;
        Ok(conn.last_insert_rowid())
    }
}

impl Recorder {
    /// Opens (creating it, and its folder, if needed) and migrates a database.
    pub fn open(path: &Path) -> Result<Recorder, TriageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| TriageError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        setup(&conn, path)?;
        Ok(Recorder {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_path_buf()),
        })
    }

    /// Opens a database that must exist already (the triage commands).
    pub fn open_existing(path: &Path) -> Result<Recorder, TriageError> {
        if !path.is_file() {
            return Err(TriageError::NoDatabase(path.to_path_buf()));
        }
        Recorder::open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves the connection usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schema version of the file.
    pub fn schema_version(&self) -> Result<i64, TriageError> {
        Ok(self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Records a reply if it is an escalation or an unanswered question;
    /// `Some(row id)` once it is stored (durably), `None` when there was
    /// nothing to record.
    pub fn record(
        &self,
        channel: &str,
        message: &str,
        reply: &Reply,
    ) -> Result<Option<i64>, TriageError> {
        self.record_at(channel, message, reply, time::now())
    }

    /// [`Recorder::record`] at a given time (Unix seconds), for imports and tests.
    pub fn record_at(
        &self,
        channel: &str,
        message: &str,
        reply: &Reply,
        ts: i64,
    ) -> Result<Option<i64>, TriageError> {
        let Some(kind) = RecordKind::of(message, reply) else {
            return Ok(None);
        };
        let row = Row::of(kind, message, reply);
        let conn = self.conn();
        Ok(Some(row.insert(&conn, channel, ts)?))
    }

    /// Records several replies in one transaction (one commit, so one
    /// write to the log for all of them): each reply's row id, or `None`
    /// when it was not worth recording. Either all are stored or none is.
    pub fn record_batch(
        &self,
        channel: &str,
        items: &[(&str, &Reply)],
    ) -> Result<Vec<Option<i64>>, TriageError> {
        let ts = time::now();
        let rows: Vec<Option<Row>> = items
            .iter()
            .map(|(message, reply)| {
                RecordKind::of(message, reply).map(|k| Row::of(k, message, reply))
            })
            .collect();
        if rows.iter().all(Option::is_none) {
            return Ok(vec![None; items.len()]);
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            ids.push(match row {
                Some(row) => Some(row.insert(&tx, channel, ts)?),
                None => None,
            });
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Records matching a filter.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Record>, TriageError> {
        let mut sql = String::from(
            "SELECT id, ts, channel, kind, route, topic, image_type, reply_kind, lang, confidence,
                message, image_ids, instance_ids, region, os, error, category, description
             FROM records WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(since) = filter.since {
            sql.push_str(" AND ts >= ?");
            args.push(Value::Integer(since));
        }
        if let Some(route) = &filter.route {
            sql.push_str(" AND route = ?");
            args.push(Value::Text(route.clone()));
        }
        if let Some(kind) = filter.kind {
            sql.push_str(" AND kind = ?");
            args.push(Value::Text(kind.as_str().into()));
        }
        sql.push_str(if filter.newest_first {
            " ORDER BY ts DESC, id DESC"
        } else {
            " ORDER BY ts, id"
        });
        if let Some(limit) = filter.limit {
            sql.push_str(" LIMIT ?");
            args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let words = |s: String| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            let ts: i64 = r.get(1)?;
            Ok(Record {
                id: r.get(0)?,
                time: time::format(ts),
                ts,
                channel: r.get(2)?,
                kind: r.get(3)?,
                route: r.get(4)?,
                topic: r.get(5)?,
                image_type: r.get(6)?,
                reply_kind: r.get(7)?,
                lang: r.get(8)?,
                confidence: r.get(9)?,
                message: r.get(10)?,
                image_ids: words(r.get(11)?),
                instance_ids: words(r.get(12)?),
                region: r.get(13)?,
                os: r.get(14)?,
                error: r.get(15)?,
                category: r.get(16)?,
                description: r.get(17)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many records there are.
    pub fn count(&self) -> Result<i64, TriageError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?)
    }

    /// Counts per route, topic, kind, channel and day, and the `top` most
    /// frequent unanswered questions grouped by similarity.
    pub fn stats(&self, since: Option<i64>, top: usize) -> Result<Stats, TriageError> {
        let since = since.unwrap_or(i64::MIN);
        let conn = self.conn();
        let counts = |sql: &str| -> Result<Vec<Count>, TriageError> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map([since], |r| {
                Ok(Count {
                    key: r.get(0)?,
                    count: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let (total, escalations, first, last): (i64, i64, Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(kind = 'escalation'), 0), MIN(ts), MAX(ts)
                 FROM records WHERE ts >= ?1",
                [since],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        let by_route = counts(
            "SELECT route, COUNT(*) FROM records WHERE kind = 'escalation' AND ts >= ?1
             GROUP BY route ORDER BY COUNT(*) DESC, route",
        )?;
        let by_topic = counts(
            "SELECT COALESCE(topic, '-'), COUNT(*) FROM records
             WHERE kind = 'escalation' AND ts >= ?1
             GROUP BY topic ORDER BY COUNT(*) DESC, topic",
        )?;
        let unanswered_by_kind = counts(
            "SELECT reply_kind, COUNT(*) FROM records WHERE kind = 'unanswered' AND ts >= ?1
             GROUP BY reply_kind ORDER BY COUNT(*) DESC, reply_kind",
        )?;
        let by_channel = counts(
            "SELECT channel, COUNT(*) FROM records WHERE ts >= ?1
             GROUP BY channel ORDER BY COUNT(*) DESC, channel",
        )?;
        let mut stmt = conn.prepare(
            "SELECT strftime('%Y-%m-%d', ts, 'unixepoch') AS day,
                    SUM(kind = 'escalation'), SUM(kind = 'unanswered')
             FROM records WHERE ts >= ?1 GROUP BY day ORDER BY day",
        )?;
        let by_day = stmt
            .query_map([since], |r| {
                Ok(DayCount {
                    day: r.get(0)?,
                    escalations: r.get(1)?,
                    unanswered: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare(
            "SELECT message, COUNT(*) FROM records WHERE kind = 'unanswered' AND ts >= ?1
             GROUP BY message ORDER BY COUNT(*) DESC, MAX(id) DESC LIMIT 5000",
        )?;
        let questions: Vec<(String, i64)> = stmt
            .query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Stats {
            total,
            escalations,
            unanswered: total - escalations,
            first: first.map(time::format),
            last: last.map(time::format),
            by_route,
            by_topic,
            unanswered_by_kind,
            by_channel,
            by_day,
            unanswered_groups: group_questions(&questions, top),
        })
    }

    /// Deletes the records older than `before` (Unix seconds); how many.
    pub fn purge_before(&self, before: i64) -> Result<usize, TriageError> {
        let conn = self.conn();
        let n = conn.execute("DELETE FROM records WHERE ts < ?1", [before])?;
        // Out of the WAL file too; another process reading may keep it
        // from finishing, which only delays it to the next checkpoint.
        let _ = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .optional();
        Ok(n)
    }
}

fn setup(conn: &Connection, path: &Path) -> Result<(), TriageError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Switching to WAL needs the file alone for a moment; it stays WAL after.
    retry_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    migrate(conn, path)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), TriageError> {
    let version = |c: &Connection| -> rusqlite::Result<i64> {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    let too_new = |found| TriageError::SchemaTooNew {
        path: path.to_path_buf(),
        found,
        supported: SCHEMA_VERSION,
    };
    let v = retry_busy(|| version(conn))?;
    if v == SCHEMA_VERSION {
        return Ok(());
    }
    if !(0..SCHEMA_VERSION).contains(&v) {
        return Err(too_new(v));
    }
    retry_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?;
    let steps = || -> Result<(), TriageError> {
        // Read again under the write lock: another process may have migrated.
        let v = version(conn)?;
        if !(0..=SCHEMA_VERSION).contains(&v) {
            return Err(too_new(v));
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(v as usize) {
            conn.execute_batch(step)?;
            conn.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        Ok(())
    };
    match steps() {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Two questions read alike.
fn similar(a: &str, b: &str) -> bool {
    a == b || strsim::normalized_levenshtein(a, b) >= 0.6 || strsim::sorensen_dice(a, b) >= 0.6
}

/// Groups questions (with their counts, most frequent first) by similarity
/// of their normalized text; the `top` largest groups.
fn group_questions(questions: &[(String, i64)], top: usize) -> Vec<Group> {
    struct Acc {
        norm: String,
        count: i64,
        wordings: Vec<(String, i64)>,
    }
    let mut groups: Vec<Acc> = Vec::new();
    for (q, n) in questions {
        let norm = normalize(q).text;
        if norm.trim().is_empty() {
            continue;
        }
        match groups.iter_mut().find(|g| similar(&g.norm, &norm)) {
            Some(g) => {
                g.count += n;
                g.wordings.push((q.clone(), *n));
            }
            None => groups.push(Acc {
                norm,
                count: *n,
                wordings: vec![(q.clone(), *n)],
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
        .into_iter()
        .take(top)
        .map(|mut g| {
            g.wordings.sort_by_key(|w| std::cmp::Reverse(w.1));
            let mut w = g.wordings.into_iter().map(|(q, _)| q);
            Group {
                count: g.count,
                question: w.next().unwrap_or_default(),
                variants: w.take(5).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_questions_are_grouped() {
        let qs = vec![
            ("镜像可以转给别的账号吗".to_string(), 3),
            ("镜像能转给别的账号吗？".to_string(), 2),
            ("今天天气怎么样".to_string(), 2),
            ("can I move an image to another account".to_string(), 1),
            ("can i move images to another account?".to_string(), 1),
        ];
        let g = group_questions(&qs, 10);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[0].count, 5);
        assert_eq!(g[0].question, "镜像可以转给别的账号吗");
        assert_eq!(g[0].variants, ["镜像能转给别的账号吗？"]);
        assert_eq!(g[1].count, 2);
        assert_eq!(g[2].count, 2);
        assert_eq!(group_questions(&qs, 1).len(), 1);
    }

    #[test]
    fn version_1_reply_kinds_take_the_metrics_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for kind in ["decline", "gap", "mirror"] {
                conn.execute(
                    "INSERT INTO records (ts, channel, kind, reply_kind, lang, confidence, message)
                     VALUES (0, 'cli', 'unanswered', ?1, 'zh', 0, 'x')",
                    [kind],
                )
                .unwrap();
            }
        }
        let rec = Recorder::open(&path).unwrap();
        assert_eq!(rec.schema_version().unwrap(), SCHEMA_VERSION);
        let kinds: Vec<String> = rec
            .list(&Filter::default())
            .unwrap()
            .into_iter()
            .map(|r| r.reply_kind)
            .collect();
        assert_eq!(kinds, ["out_of_scope", "not_in_faq", "mirror"]);
    }
}
