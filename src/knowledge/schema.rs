//! The file formats of `knowledge/`, exactly as a person writes them. Every
//! struct denies unknown fields, so a misspelt key is an error with its line
//! and column instead of a silently ignored setting.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A text in both languages.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

/// `lexicon.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    #[serde(default)]
    pub concept: Vec<ConceptDef>,
    #[serde(default)]
    pub gap: Vec<GapDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptDef {
    pub id: String,
    pub forms: Vec<String>,
    #[serde(default)]
    pub anchor: bool,
    #[serde(default)]
    pub foreign: bool,
    pub veto: Option<String>,
    pub implies: Option<String>,
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
    pub id: String,
    pub name: Text,
    pub any: Vec<String>,
}

/// `types.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypesFile {
    #[serde(rename = "type")]
    pub types: Vec<TypeDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    pub id: String,
    pub name: Text,
    pub aliases: Vec<String>,
    pub route: String,
    pub description: Option<Text>,
    pub fee: Option<Text>,
    pub security: Option<Text>,
    pub billing: Option<Text>,
    pub limits: Option<Text>,
    #[serde(default)]
    pub gaps: BTreeMap<String, Text>,
}

/// `routes.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesFile {
    pub ticket: TicketDef,
    pub vendor: VendorDef,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketDef {
    pub url: String,
    pub label: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorDef {
    pub channels: Vec<String>,
    #[serde(rename = "where")]
    pub where_: String,
    pub fallback: String,
    pub text: Text,
}

/// `bot.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotFile {
    pub messages: Messages,
}

/// What the bot says outside FAQ answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    pub decline: Text,
    pub unsure: Text,
    pub mirror: Text,
    pub gap: Text,
    pub greeting: Text,
    pub thanks: Text,
    pub identity: Text,
    pub empty: Text,
    pub clarify: Text,
    pub compare_intro: Text,
    pub also: Text,
}

/// `topics/*.toml`: one FAQ section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    pub id: String,
    pub question: Text,
    pub phrasings: Vec<String>,
    #[serde(default)]
    pub related: Vec<String>,
    pub attribute: Option<String>,
    pub default_type: Option<String>,
    /// Image types the topic can be about: a follow-up keeps the
    /// conversation's type when it is one of these.
    #[serde(default)]
    pub types: Vec<String>,
    pub route: Option<String>,
    #[serde(default)]
    pub rule: Vec<RuleDef>,
    pub answer: Text,
    #[serde(default)]
    pub by_type: BTreeMap<String, Text>,
    /// A second column answered with the first, for one type (billing with
    /// the image-types table's fee column).
    pub also: Option<AlsoDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlsoDef {
    pub attribute: String,
    pub label: Text,
}

/// An intent rule: fires when every `all` term, at least one `any` term (if
/// any are given), no `none` term and the `regex` (if given) are present.
/// Terms: `#concept`, `@type` or `@any`, or a literal word.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    #[serde(default)]
    pub all: Vec<String>,
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub none: Vec<String>,
    pub regex: Option<String>,
    pub weight: f32,
}
