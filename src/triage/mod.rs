//! Support triage: what a support engineer needs from a problem report, a
//! ticket draft the user can paste, and records of every escalation and
//! every unanswered question in SQLite, for the support team.
//!
//! - [`extract`] (pure): image and instance ids, region, operating system,
//!   the quoted error text.
//! - [`attach`] (pure, called by the engine): a reply with a ticket or vendor
//!   route to a problem report gets a [`Ticket`], in the reply's `ticket` field.
//! - [`Recorder`]: the records, shared by every front end
//!   (`recorder.record(channel, message, &reply)`).
//! - [`cli`]: `imagebot triage list|stats|export|purge`.
//!
//! Problem reports are recognised by the engine (the `image-trouble` topic
//! and its route); a reply with a route is an escalation.

pub mod cli;
pub mod extract;
pub mod mask;
mod store;
pub mod time;

pub use extract::{extract, problem_kind, region_by_code, Extracted, ProblemKind, Region, REGIONS};
pub use mask::mask;
pub use store::{
    Count, DayCount, Filter, Group, Record, RecordKind, Recorder, Stats, SCHEMA_VERSION,
};

use crate::dialogue::Conversation;
use crate::knowledge::{Knowledge, TopicRoute};
use crate::normalize::to_traditional;
use crate::reply::{Lang, Reply, Route};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Descriptions are cut to this many characters.
pub const MAX_DESCRIPTION: usize = 1000;

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

/// A ticket draft (ticket routes), or the same details for the vendor
/// (vendor routes): what the user can paste so support does not have to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Where the draft goes: `ticket` (the ticket form) or `vendor` (the
    /// vendor's online service, phone or email).
    pub send_to: String,
    /// The ticket category, in the reply's language ("云服务器 CVM > 镜像 > 实例无法启动").
    pub category: String,
    pub image_type: Option<String>,
    pub image_ids: Vec<String>,
    pub instance_ids: Vec<String>,
    /// A region code (`ap-guangzhou`).
    pub region: Option<String>,
    pub os: Option<String>,
    /// The error text the user quoted.
    pub error: Option<String>,
    /// The user's own words: the problem message (and, after a clarify
    /// question, the answer to it).
    pub description: String,
}

fn type_name(id: &str, zh: bool) -> &str {
    match (id, zh) {
        ("public", true) => "公共镜像",
        ("public", false) => "public image",
        ("marketplace", true) => "服务市场镜像",
        ("marketplace", false) => "marketplace image",
        ("custom", true) => "自定义镜像",
        ("custom", false) => "custom image",
        ("shared", true) => "共享镜像",
        ("shared", false) => "shared image",
        (other, _) => other,
    }
}

impl Ticket {
    /// The draft as a block a person can copy, in a language.
    pub fn render(&self, lang: Lang) -> String {
        let zh = lang.is_zh();
        let t = |zh_text: &str, en_text: &str| -> String {
            match lang {
                Lang::Zh => zh_text.to_string(),
                Lang::ZhHant => to_traditional(zh_text),
                Lang::En => en_text.to_string(),
            }
        };
        let missing = t("（未提供，请补充）", "(not given, please add)");
        let or_missing = |v: Option<String>| v.unwrap_or_else(|| missing.clone());
        let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
        let region = self
            .region
            .as_deref()
            .map(|code| match region_by_code(code) {
                Some(r) if zh => format!("{code}（{}）", t(r.zh, r.en)),
                Some(r) => format!("{code} ({})", r.en),
                None => code.to_string(),
            });
        let (title, end) = if self.send_to == "vendor" {
            (
                t(
                    "—— 给服务商的问题说明（可复制） ——",
                    "--- For the vendor (copy and paste) ---",
                ),
                "—".repeat(12),
            )
        } else {
            (
                t(
                    "—— 工单草稿（可复制到工单） ——",
                    "--- Ticket draft (copy and paste into the ticket) ---",
                ),
                "—".repeat(12),
            )
        };
        let sep = if zh { "：" } else { ": " };
        let rows = [
            (t("问题类别", "Category"), Some(self.category.clone())),
            (
                t("镜像类型", "Image type"),
                self.image_type
                    .as_deref()
                    .map(|ty| t(type_name(ty, true), type_name(ty, false))),
            ),
            (t("镜像 ID", "Image ID"), list(&self.image_ids)),
            (t("实例 ID", "Instance ID"), list(&self.instance_ids)),
            (t("地域", "Region"), region),
            (t("操作系统", "Operating system"), self.os.clone()),
            (t("报错信息", "Error message"), self.error.clone()),
            (t("问题描述", "Description"), Some(self.description.clone())),
        ];
        let mut s = title;
        for (label, value) in rows {
            s.push('\n');
            s.push_str(&label);
            s.push_str(sep);
            s.push_str(&or_missing(value));
        }
        s.push('\n');
        s.push_str(&end);
        s
    }
}

fn cut(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

/// The ticket category for a problem kind and a destination.
pub fn category(send_to: &str, kind: ProblemKind, lang: Lang) -> String {
    let s = match (send_to, lang.is_zh()) {
        ("vendor", true) => format!("云市场 > 镜像服务商 > {}", kind.label(true)),
        ("vendor", false) => format!("Marketplace > Image vendor > {}", kind.label(false)),
        (_, true) => format!("云服务器 CVM > 镜像 > {}", kind.label(true)),
        (_, false) => format!("CVM > Images > {}", kind.label(false)),
    };
    if lang == Lang::ZhHant {
        to_traditional(&s)
    } else {
        s
    }
}

/// After the engine decided a reply: a reply with a ticket or vendor route
/// to a problem report gets a [`Ticket`] (a vendor-contact question only
/// when the message names an id, a region, an OS or an error). A clarify
/// question keeps the problem message in the conversation, so the draft
/// made once the type is known describes the problem, not just "服务市场买的".
pub fn attach(kb: &Knowledge, conv: &mut Conversation, message: &str, reply: &mut Reply) {
    let pending = conv.problem_message.take();
    let send_to = match &reply.route {
        Some(Route::Clarify { .. }) => {
            conv.problem_message = Some(cut(message, MAX_DESCRIPTION));
            return;
        }
        Some(Route::Ticket { .. }) => "ticket",
        Some(Route::Vendor { .. }) => "vendor",
        None => return,
    };
    let problem = reply
        .topic
        .as_deref()
        .and_then(|t| kb.topic(t))
        .is_some_and(|t| kb.topics[t].route == TopicRoute::ByType);
    let message = message.trim();
    let (description, text) = match pending.filter(|p| problem && p != message) {
        Some(orig) if !message.is_empty() => {
            let joined = if reply.lang.is_zh() {
                format!("{orig}（{message}）")
            } else {
                format!("{orig} ({message})")
            };
            (joined, format!("{orig}\n{message}"))
        }
        Some(orig) => (orig.clone(), orig),
        None => (message.to_string(), message.to_string()),
    };
    let fields = extract(&text);
    if !problem && fields.is_empty() {
        return;
    }
    reply.ticket = Some(Ticket {
        send_to: send_to.into(),
        category: category(send_to, problem_kind(&text), reply.lang),
        image_type: reply.image_type.clone(),
        image_ids: fields.image_ids,
        instance_ids: fields.instance_ids,
        region: fields.region,
        os: fields.os,
        error: fields.error,
        description: cut(&description, MAX_DESCRIPTION),
    });
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

    fn ticket() -> Ticket {
        Ticket {
            send_to: "ticket".into(),
            category: category("ticket", ProblemKind::Boot, Lang::Zh),
            image_type: Some("public".into()),
            image_ids: vec!["img-abcd1234".into()],
            instance_ids: vec![],
            region: Some("ap-guangzhou".into()),
            os: Some("CentOS 7.9".into()),
            error: None,
            description: "我的公共镜像启动失败".into(),
        }
    }

    #[test]
    fn draft_renders_every_field_and_asks_for_the_missing() {
        let s = ticket().render(Lang::Zh);
        assert!(s.starts_with("—— 工单草稿"), "{s}");
        assert!(
            s.contains("问题类别：云服务器 CVM > 镜像 > 实例无法启动"),
            "{s}"
        );
        assert!(s.contains("镜像类型：公共镜像"), "{s}");
        assert!(s.contains("镜像 ID：img-abcd1234"), "{s}");
        assert!(s.contains("实例 ID：（未提供，请补充）"), "{s}");
        assert!(s.contains("地域：ap-guangzhou（广州）"), "{s}");
        assert!(s.contains("操作系统：CentOS 7.9"), "{s}");
        assert!(s.contains("问题描述：我的公共镜像启动失败"), "{s}");
        let en = ticket().render(Lang::En);
        assert!(en.contains("Region: ap-guangzhou (Guangzhou)"), "{en}");
        assert!(en.contains("Instance ID: (not given, please add)"), "{en}");
        let hant = ticket().render(Lang::ZhHant);
        assert!(hant.contains("地域：ap-guangzhou（廣州）"), "{hant}");
        assert!(hant.contains("鏡像類型：公共鏡像"), "{hant}");
    }

    #[test]
    fn db_path_prefers_the_flag() {
        assert_eq!(
            db_path(Some(Path::new("/tmp/x.db"))),
            PathBuf::from("/tmp/x.db")
        );
        assert!(default_db_path().ends_with("imagebot.db"));
    }
}
