//! The file formats of `knowledge/`, exactly as a person writes them. Every
//! struct denies unknown fields, so a misspelt key is an error with its line
//! and column instead of a silently ignored setting.

use crate::hant::{convert, Standard};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The attributes a type's policy has, one per column or table of the FAQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Attribute {
    /// What the type is (the 镜像类型 table's description column).
    Description,
    /// The fee column.
    Fee,
    /// The security section.
    Security,
    /// The billing table.
    Billing,
    /// The limits section.
    Limits,
}

/// Where a problem with an image type is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    /// The ticket link.
    Ticket,
    /// The marketplace vendor's channels.
    Vendor,
}

/// What a topic's reply routes to (`route = ...` in a topic file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicRoute {
    /// No route (the key left out).
    #[default]
    None,
    /// Always the vendor's channels.
    Vendor,
    /// Per the image type: its route, or a clarify question when unknown.
    ByType,
}

/// Why a concept declines a message outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Veto {
    /// 镜像 / image in another sense (mirror site, registry, screen mirroring).
    Mirror,
    /// A request the bot always declines.
    Decline,
}

/// A text in both languages; its Traditional forms are converted from the
/// Chinese on first use and kept, so a Traditional reply costs a conversion
/// once per text, not once per reply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The Chinese (Simplified) text.
    pub zh: String,
    /// The English text.
    pub en: String,
    #[serde(skip)]
    taiwan: OnceLock<String>,
    #[serde(skip)]
    hong_kong: OnceLock<String>,
}

impl Text {
    /// A text from its Chinese and English.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
            ..Text::default()
        }
    }

    /// The Chinese in a Traditional standard (converted once).
    pub fn traditional(&self, standard: Standard) -> &str {
        let cell = match standard {
            Standard::Taiwan => &self.taiwan,
            Standard::HongKong => &self.hong_kong,
        };
        cell.get_or_init(|| convert(&self.zh, standard))
    }
}

/// Two texts are equal when their Chinese and English are (the kept
/// conversions follow from the Chinese).
impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.zh == other.zh && self.en == other.en
    }
}

impl Eq for Text {}

/// `lexicon.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    /// `[[concept]]`: the concepts.
    #[serde(default)]
    pub concept: Vec<ConceptDef>,
    /// `[[gap]]`: image questions the FAQ does not answer.
    #[serde(default)]
    pub gap: Vec<GapDef>,
    /// `[[problem_kind]]`: kinds of problem for ticket categories, most specific first.
    #[serde(default)]
    pub problem_kind: Vec<ProblemKindDef>,
}

/// `[[problem_kind]]` in lexicon.toml: a kind of problem, named in a ticket's category.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemKindDef {
    /// Lower-case letters, digits and '-'.
    pub id: String,
    /// The name in the ticket category ("实例无法启动").
    pub label: Text,
    /// Words that say this kind; the kind with none is the fallback.
    pub words: Vec<String>,
}

/// `[[concept]]` in lexicon.toml: forms that mean the same thing for matching.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptDef {
    /// The concept's id; rules refer to it as `#id`.
    pub id: String,
    /// The words and phrases (Chinese, English or both) that say the concept.
    pub forms: Vec<String>,
    /// true: the concept places a message in our domain (cloud server images).
    #[serde(default)]
    pub anchor: bool,
    /// true: another product or service; a message with it and no anchor is declined.
    #[serde(default)]
    pub foreign: bool,
    /// `"mirror"` or `"decline"`: a message with the concept is declined with that message.
    pub veto: Option<Veto>,
    /// With `veto`: concepts whose presence lifts it ("从阿里云导出的镜像能导入吗"
    /// is an import question, though 阿里云 declines a question about Aliyun).
    #[serde(default)]
    pub unless: Vec<String>,
    /// An image type id the concept implies (sharing a custom image makes it `shared`).
    pub implies: Option<String>,
    /// An image type id the concept suggests when the message names none:
    /// the type of the answer, but no image word (导入 suggests `custom`:
    /// whatever is imported is a custom image, yet "上传文件" is not about images).
    pub suggests: Option<String>,
    /// Type ids that, named with this concept, become the `implies` type.
    #[serde(default)]
    pub refines: Vec<String>,
    /// false for words that fill a slot rather than say what is asked (the
    /// bare image word, follow-up particles): they take no part in similarity.
    #[serde(default = "yes")]
    pub intent: bool,
    /// false: forms match only as written, never through a typo.
    #[serde(default = "yes")]
    pub fuzzy: bool,
}

fn yes() -> bool {
    true
}

/// An image question the FAQ does not answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapDef {
    /// The gap's id.
    pub id: String,
    /// What the FAQ does not cover, filled into the gap message's `{what}`.
    pub name: Text,
    /// Words any of which names the gap.
    pub any: Vec<String>,
}

/// `types.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypesFile {
    /// `[[type]]`: the image types.
    #[serde(rename = "type")]
    pub types: Vec<TypeDef>,
}

/// `[[type]]` in types.toml: one image type, its aliases and its policy cells.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    /// The type's id, used in `@id` rule terms, `by_type` and `default_type`.
    pub id: String,
    /// The type's name in both languages.
    pub name: Text,
    /// Words that name the type in a message.
    pub aliases: Vec<String>,
    /// Where a problem with this type is sent: `ticket` or `vendor`.
    pub route: RouteKind,
    /// The 镜像类型 table's description cell.
    pub description: Option<Text>,
    /// The 镜像类型 table's fee cell.
    pub fee: Option<Text>,
    /// The cell of the 镜像安全如何保障 table.
    pub security: Option<Text>,
    /// The cell of the 镜像如何计费 table.
    pub billing: Option<Text>,
    /// The cell of the 镜像的使用限制 table.
    pub limits: Option<Text>,
    /// `[type.gaps]`: for an attribute with no cell, what the document says nearby.
    #[serde(default)]
    pub gaps: BTreeMap<Attribute, Text>,
}

/// `routes.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesFile {
    /// `[ticket]`: the ticket form.
    pub ticket: TicketDef,
    /// `[vendor]`: the marketplace vendor's channels.
    pub vendor: VendorDef,
}

/// `[ticket]` in routes.toml: the ticket form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketDef {
    /// The ticket form's link (must start with https://).
    pub url: String,
    /// The link's text (提交工单, submit a ticket).
    pub label: Text,
}

/// `[vendor]` in routes.toml: how to reach a marketplace image's vendor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorDef {
    /// The vendor's contact channels (online service, phone, email).
    pub channels: Vec<String>,
    /// `where`: where the channels are found (product page).
    #[serde(rename = "where")]
    pub where_: String,
    /// Who to ask when the vendor cannot help (marketplace customer service).
    pub fallback: String,
    /// How to reach the vendor, in both languages.
    pub text: Text,
}

/// `bot.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotFile {
    /// `[messages]`: what the bot says outside FAQ answers.
    pub messages: Messages,
    /// `[suggest]`: the questions offered when nothing better is known.
    #[serde(default)]
    pub suggest: SuggestDef,
}

/// `[suggest]` in `bot.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestDef {
    /// Topic ids, most asked first: offered with the greeting, Telegram's
    /// `/start`, and after a decline or an unsure reply when no closer topic
    /// fills the three places. With their place in the file, for `check`.
    #[serde(default)]
    pub topics: Vec<toml::Spanned<String>>,
}

/// What the bot says outside FAQ answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// For a message outside the FAQ's scope.
    pub decline: Text,
    /// When too unsure to answer, before the suggested questions.
    pub unsure: Text,
    /// When 镜像 / image means something else (mirror, registry, screen mirroring).
    pub mirror: Text,
    /// For an image question the FAQ does not cover (`{what}`, `{label}`, `{url}`).
    pub gap: Text,
    /// The reply to a greeting, before example questions.
    pub greeting: Text,
    /// The reply to thanks.
    pub thanks: Text,
    /// What the bot is, when asked (`{label}`, `{url}`).
    pub identity: Text,
    /// The reply to an empty message.
    pub empty: Text,
    /// Asks which image type has the problem, when the route depends on it.
    pub clarify: Text,
    /// Introduces a list answering for each of the types named.
    pub compare_intro: Text,
    /// Introduces another attribute the message also asked about.
    pub also: Text,
}

/// `topics/*.toml`: one FAQ section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    /// The topic's id (lower-case letters, digits and '-').
    pub id: String,
    /// The canonical question, in both languages.
    pub question: Text,
    /// Other ways people ask it, for matching and the self-check.
    pub phrasings: Vec<String>,
    /// Ids of topics offered as suggestions after the answer.
    #[serde(default)]
    pub related: Vec<String>,
    /// Answer from this attribute's cells in types.toml, for the types named.
    pub attribute: Option<Attribute>,
    /// The image type the answer is about when the message names none.
    pub default_type: Option<String>,
    /// Image types the topic can be about: a follow-up keeps the
    /// conversation's type when it is one of these.
    #[serde(default)]
    pub types: Vec<String>,
    /// Where the reply routes to: left out, `vendor` or `by_type`.
    #[serde(default)]
    pub route: TopicRoute,
    /// `[[rule]]`: the topic's intent rules.
    #[serde(default)]
    pub rule: Vec<RuleDef>,
    /// The general answer, in both languages.
    pub answer: Text,
    /// `[by_type]`: per type id, an answer that replaces the general one.
    #[serde(default)]
    pub by_type: BTreeMap<String, Text>,
    /// A second column answered with the first, for one type (billing with
    /// the image-types table's fee column).
    pub also: Option<AlsoDef>,
}

/// `[also]` in a topic file: a second attribute answered with the first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlsoDef {
    /// The second attribute.
    pub attribute: Attribute,
    /// The text introducing its cell.
    pub label: Text,
}

/// An intent rule: fires when every `all` term, at least one `any` term (if
/// any are given), no `none` term and the `regex` (if given) are present.
/// Terms: `#concept`, `@type` or `@any`, or a literal word.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Terms that must all be present.
    #[serde(default)]
    pub all: Vec<String>,
    /// Terms of which at least one must be present.
    #[serde(default)]
    pub any: Vec<String>,
    /// Terms none of which may be present.
    #[serde(default)]
    pub none: Vec<String>,
    /// A regular expression the normalized message must match.
    pub regex: Option<String>,
    /// What the rule adds to the topic's score when it fires (above 0, at most 10).
    pub weight: f32,
}
