//! Per-chat conversation state in teloxide's dialogue storage: teloxide's
//! `InMemStorage` by default, or [`SqliteStorage`] (`--state sqlite:PATH`),
//! a teloxide [`Storage`] on rusqlite, so context survives restarts. Both are
//! used erased (`ErasedStorage`), so another backend (Redis) slots in the
//! same way.

use super::config::StateSpec;
use imagebot_core::Conversation;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};
use teloxide::dispatching::dialogue::{ErasedStorage, InMemStorage, Storage};
use teloxide::types::ChatId;

/// What teloxide's `Storage` methods return (its `BoxFuture<'static, _>`).
type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send>>;

/// The storage the handlers use.
pub type ConvStorage = ErasedStorage<Conversation>;

/// Opens the storage `--state` names.
pub fn open(spec: &StateSpec) -> Result<Arc<ConvStorage>, StorageError> {
    Ok(match spec {
        StateSpec::Memory => InMemStorage::<Conversation>::new().erase(),
        StateSpec::Sqlite(path) => SqliteStorage::open(path)?.erase(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("state database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored conversation state cannot be read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no conversation state for this chat")]
    NotFound,
    #[error("state storage task failed: {0}")]
    Task(String),
}

/// Dialogue states as JSON in an SQLite table (`telegram_dialogues`), one
/// row a chat. WAL mode and a busy timeout, so it can share a file with
/// other writers.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<Arc<SqliteStorage>, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing folder is the caller's to create; report it through SQLite's error.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS telegram_dialogues (
                 chat_id INTEGER PRIMARY KEY,
                 state   TEXT NOT NULL,
                 updated INTEGER NOT NULL
             );",
        )?;
        Ok(Arc::new(SqliteStorage {
            conn: Mutex::new(conn),
        }))
    }

    /// Runs `f` on the connection off the async workers.
    async fn with_conn<T, F>(self: Arc<Self>, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    {
        tokio::task::spawn_blocking(move || {
            // A panic elsewhere cannot leave a half-written row: each call is one statement.
            let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl<D> Storage<D> for SqliteStorage
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = StorageError;

    fn remove_dialogue(self: Arc<Self>, ChatId(chat): ChatId) -> BoxFut<()> {
        Box::pin(self.with_conn(move |c| {
            match c.execute("DELETE FROM telegram_dialogues WHERE chat_id = ?1", [chat])? {
                0 => Err(StorageError::NotFound),
                _ => Ok(()),
            }
        }))
    }

    fn update_dialogue(self: Arc<Self>, ChatId(chat): ChatId, dialogue: D) -> BoxFut<()> {
        let json = serde_json::to_string(&dialogue);
        Box::pin(async move {
            let json = json?;
            self.with_conn(move |c| {
                c.execute(
                    "INSERT INTO telegram_dialogues (chat_id, state, updated) VALUES (?1, ?2, ?3)
                     ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                    params![chat, json, now()],
                )?;
                Ok(())
            })
            .await
        })
    }

    fn get_dialogue(self: Arc<Self>, ChatId(chat): ChatId) -> BoxFut<Option<D>> {
        Box::pin(async move {
            let json: Option<String> = self
                .with_conn(move |c| {
                    Ok(c.query_row(
                        "SELECT state FROM telegram_dialogues WHERE chat_id = ?1",
                        [chat],
                        |r| r.get(0),
                    )
                    .optional()?)
                })
                .await?;
            Ok(match json {
                Some(j) => Some(serde_json::from_str(&j)?),
                None => None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagebot_core::reply::Lang;

    #[tokio::test]
    async fn sqlite_state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("state.db");
        let conv = Conversation {
            last_topic: Some("image-billing".into()),
            lang: Some(Lang::En),
            turns: 3,
            ..Conversation::default()
        };
        {
            let s = open(&StateSpec::Sqlite(path.clone())).unwrap();
            assert_eq!(s.clone().get_dialogue(ChatId(7)).await.unwrap(), None);
            s.clone()
                .update_dialogue(ChatId(7), conv.clone())
                .await
                .unwrap();
            s.clone()
                .update_dialogue(ChatId(-100), Conversation::default())
                .await
                .unwrap();
        }
        let s = open(&StateSpec::Sqlite(path.clone())).unwrap();
        assert_eq!(s.clone().get_dialogue(ChatId(7)).await.unwrap(), Some(conv));
        assert_eq!(
            s.clone().get_dialogue(ChatId(-100)).await.unwrap(),
            Some(Conversation::default())
        );
        s.clone().remove_dialogue(ChatId(7)).await.unwrap();
        assert_eq!(s.clone().get_dialogue(ChatId(7)).await.unwrap(), None);
        assert!(s.clone().remove_dialogue(ChatId(7)).await.is_err());

        // A row that no longer reads as a conversation is an error, not a panic.
        let raw = Connection::open(&path).unwrap();
        raw.execute(
            "INSERT INTO telegram_dialogues VALUES (9, 'not json', 0)",
            [],
        )
        .unwrap();
        assert!(matches!(
            s.clone().get_dialogue(ChatId(9)).await,
            Err(e) if e.to_string().contains("cannot be read")
        ));
    }

    #[test]
    fn unopenable_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SqliteStorage::open(dir.path()).is_err());
    }
}
