//! The reply: the contract's JSON form, plus what front ends need to render
//! it (the markup, the suggestions' topics, the language).

use serde::{Deserialize, Serialize, Serializer};

/// The language of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    #[default]
    Zh,
    /// Chinese, written in Traditional characters.
    ZhHant,
    En,
}

impl Lang {
    /// Chinese (either script) or English.
    pub fn is_zh(self) -> bool {
        matches!(self, Lang::Zh | Lang::ZhHant)
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Some(Lang::Zh),
            "zh-hant" | "zh-tw" | "zh-hk" | "tw" => Some(Lang::ZhHant),
            "en" | "english" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Where a reply sends the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Route {
    Ticket {
        url: String,
    },
    Vendor {
        channels: Vec<String>,
        #[serde(rename = "where")]
        where_: String,
        fallback: String,
    },
    Clarify {
        options: Vec<String>,
    },
}

impl Route {
    pub fn kind(&self) -> &'static str {
        match self {
            Route::Ticket { .. } => "ticket",
            Route::Vendor { .. } => "vendor",
            Route::Clarify { .. } => "clarify",
        }
    }
}

/// What kind of reply this is, for front ends and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyKind {
    #[default]
    Answer,
    /// Out of scope: not something the FAQ is about.
    Decline,
    /// Probably in scope, but too unsure to answer: suggestions offered.
    Unsure,
    /// An image question the FAQ does not answer.
    Gap,
    /// 镜像 / image in another sense (mirror, registry, screen mirroring).
    Mirror,
    Greeting,
    Thanks,
    Identity,
    Empty,
}

fn two_places<S: Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((*x as f64 * 100.0).round() / 100.0)
}

/// One reply, serialized exactly as the contract's JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub answered: bool,
    pub topic: Option<String>,
    pub image_type: Option<String>,
    #[serde(serialize_with = "two_places")]
    pub confidence: f32,
    pub route: Option<Route>,
    /// Plain text for a person to read (links as "label (url)").
    pub text: String,
    pub suggestions: Vec<String>,
    /// For a problem report with a ticket (or vendor) route: the draft the
    /// user can paste (see `triage::Ticket`). Absent from the JSON otherwise,
    /// so other replies keep exactly the contract's seven fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<crate::triage::Ticket>,
    /// The same text in the knowledge's tiny markup, for rich front ends.
    #[serde(skip)]
    pub markup: String,
    /// Topic ids of `suggestions`, in the same order (for buttons).
    #[serde(skip)]
    pub suggestion_topics: Vec<String>,
    #[serde(skip)]
    pub kind: ReplyKind,
    #[serde(skip)]
    pub lang: Lang,
}

impl Reply {
    /// The reply as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}
