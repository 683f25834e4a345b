//! The reply: the contract's JSON form, plus what front ends need to render
//! it (the markup, the suggestions' topics, the language).

use crate::escalation::ticket::Ticket;
pub use crate::lang::Lang;
use serde::{Deserialize, Serialize, Serializer};

/// Where a reply sends the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Route {
    /// Submit a ticket.
    Ticket {
        /// The ticket form's link.
        url: String,
    },
    /// Contact the marketplace vendor.
    Vendor {
        /// The vendor's contact channels (online service, phone, email).
        channels: Vec<String>,
        /// Where the channels are found (`where` in JSON: the product page).
        #[serde(rename = "where")]
        where_: String,
        /// Who to ask when the vendor cannot help.
        fallback: String,
    },
    /// Ask which image type has the problem.
    Clarify {
        /// The image type ids to choose from.
        options: Vec<String>,
    },
}

impl Route {
    /// The route's name in JSON (`ticket`, `vendor` or `clarify`).
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
    /// An answer from the FAQ.
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
    /// A reply to a greeting.
    Greeting,
    /// A reply to thanks.
    Thanks,
    /// The bot says what it is.
    Identity,
    /// The message was empty.
    Empty,
}

impl ReplyKind {
    /// The name in `/metrics` and in the records (one name for each kind).
    pub fn name(self) -> &'static str {
        match self {
            ReplyKind::Answer => "answer",
            ReplyKind::Decline => "out_of_scope",
            ReplyKind::Unsure => "unsure",
            ReplyKind::Gap => "not_in_faq",
            ReplyKind::Mirror => "mirror",
            ReplyKind::Greeting => "greeting",
            ReplyKind::Thanks => "thanks",
            ReplyKind::Identity => "identity",
            ReplyKind::Empty => "empty",
        }
    }
}

fn two_places<S: Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((*x as f64 * 100.0).round() / 100.0)
}

/// One reply, serialized exactly as the contract's JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// Whether a FAQ topic answered the message.
    pub answered: bool,
    /// The id of the topic answered, if any.
    pub topic: Option<String>,
    /// The image type id the answer is about, if one.
    pub image_type: Option<String>,
    /// How sure the engine is, from 0 to 1 (two decimals in JSON).
    #[serde(serialize_with = "two_places")]
    pub confidence: f32,
    /// Where the user is sent (ticket, vendor or a clarify question), if anywhere.
    pub route: Option<Route>,
    /// Plain text for a person to read (links as "label (url)").
    pub text: String,
    /// Suggested questions, in the reply's language.
    pub suggestions: Vec<String>,
    /// For a problem report with a ticket (or vendor) route: the draft the
    /// user can paste (see `triage::Ticket`). Absent from the JSON otherwise,
    /// so other replies keep exactly the contract's seven fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
    /// For every reply with a route: the ticket category of the problem
    /// ("云服务器 CVM > 镜像 > 实例无法启动"), for the records.
    #[serde(skip)]
    pub category: Option<String>,
    /// The ticket rendered as a block to copy, in the reply's language.
    #[serde(skip)]
    pub ticket_draft: Option<String>,
    /// The same text in the knowledge's tiny markup, for rich front ends.
    #[serde(skip)]
    pub markup: String,
    /// Topic ids of `suggestions`, in the same order (for buttons).
    #[serde(skip)]
    pub suggestion_topics: Vec<String>,
    /// What kind of reply this is.
    #[serde(skip)]
    pub kind: ReplyKind,
    /// The language of the reply.
    #[serde(skip)]
    pub lang: Lang,
}

impl Reply {
    /// The reply as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}
