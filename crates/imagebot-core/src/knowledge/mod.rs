//! The knowledge base: loading `knowledge/` (or the copy built into the
//! binary), validating it with located errors, and compiling it into the
//! tables the engine matches against. The only module that reads knowledge
//! files.

mod load;
mod position;
pub mod punct;
pub mod schema;

pub use load::{builtin_files, read_dir_files, SourceFile};
pub use schema::{Attribute, Messages, RouteKind, Text, TopicRoute, Veto};

use regex::Regex;
use std::fmt;

impl Attribute {
    /// Every attribute, in the order of a type's cells.
    pub const ALL: [Attribute; 5] = [
        Attribute::Description,
        Attribute::Fee,
        Attribute::Security,
        Attribute::Billing,
        Attribute::Limits,
    ];

    /// The name used in knowledge files.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Description => "description",
            Attribute::Fee => "fee",
            Attribute::Security => "security",
            Attribute::Billing => "billing",
            Attribute::Limits => "limits",
        }
    }

    /// The position of this attribute's cell.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// An image type, compiled from its `[[type]]` entry in types.toml.
#[derive(Debug)]
pub struct ImageType {
    /// The type's id (`public`, `marketplace`, ...).
    pub id: String,
    /// The type's name in both languages.
    pub name: Text,
    /// Where a problem with this type is sent.
    pub route: RouteKind,
    /// One cell per [`Attribute`], `None` where the document is silent.
    pub cells: [Option<Text>; 5],
    /// What to say for an empty cell.
    pub gaps: [Option<Text>; 5],
}

/// A rule term, resolved.
#[derive(Debug)]
pub enum Term {
    /// `#concept`: a concept, by its number in [`Knowledge::concepts`].
    Concept(usize),
    /// `@any`: any image type named.
    AnyType,
    /// `@type`: one image type, by its number in [`Knowledge::types`].
    Type(usize),
    /// A literal word: its number in [`Knowledge::literals`] (normalized text).
    Literal(usize),
}

/// An intent rule of a topic, compiled.
#[derive(Debug)]
pub struct Rule {
    /// Terms that must all be present.
    pub all: Vec<Term>,
    /// Terms of which at least one must be present (when there are any).
    pub any: Vec<Term>,
    /// Terms none of which may be present.
    pub none: Vec<Term>,
    /// A pattern the normalized message must match, if given.
    pub regex: Option<Regex>,
    /// What the rule adds to its topic's score when it fires.
    pub weight: f32,
    /// "topics/x.toml rule 2", for explanations.
    pub label: String,
}

/// A FAQ topic, compiled from its file in `topics/`.
#[derive(Debug)]
pub struct Topic {
    /// The topic's id.
    pub id: String,
    /// The file it came from (`topics/x.toml`).
    pub file: String,
    /// The canonical question, in both languages.
    pub question: Text,
    /// Other ways people ask it.
    pub phrasings: Vec<String>,
    /// Related topics (by number), offered as suggestions.
    pub related: Vec<usize>,
    /// The type attribute the answer is taken from, if any.
    pub attribute: Option<Attribute>,
    /// The image type the answer is about when the message names none.
    pub default_type: Option<usize>,
    /// Image types a follow-up may carry over into this topic.
    pub types: Vec<usize>,
    /// Where the reply routes to.
    pub route: TopicRoute,
    /// The topic's intent rules.
    pub rules: Vec<Rule>,
    /// The general answer, in both languages.
    pub answer: Text,
    /// Per image type, an answer that replaces the general one.
    pub by_type: Vec<Option<Text>>,
    /// Another attribute answered after the first, with its label.
    pub also: Option<(Attribute, Text)>,
}

impl Topic {
    /// A problem report: the route depends on the image type (the one test
    /// of "is this a problem", for the engine and escalation alike).
    pub fn reports_problem(&self) -> bool {
        self.route == TopicRoute::ByType
    }
}

/// Where a concept comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConceptKind {
    /// A concept of lexicon.toml.
    Plain,
    /// An image type's aliases (the type, by number).
    Type(usize),
    /// A gap's words (the gap, by number).
    Gap(usize),
}

/// A concept: words that mean the same thing for matching.
#[derive(Debug)]
pub struct Concept {
    /// Its id: the lexicon's, `@TYPE` for a type, `gap.ID` for a gap.
    pub id: String,
    /// Where it comes from.
    pub kind: ConceptKind,
    /// Places a message in the domain (cloud server images).
    pub anchor: bool,
    /// Another product or service: with no anchor, the message is declined.
    pub foreign: bool,
    /// Declines a message outright, and why.
    pub veto: Option<Veto>,
    /// Concepts whose presence lifts the veto.
    pub unless: Vec<usize>,
    /// The words and phrases that say this concept, as written.
    pub forms: Vec<String>,
    /// The image type (by number) this concept implies.
    pub implies: Option<usize>,
    /// The image type (by number) this concept suggests when none is named.
    pub suggests: Option<usize>,
    /// Types (by number) that, named with this concept, become the implied one.
    pub refines: Vec<usize>,
    /// Used as a similarity term (types and the bare image word are slots, not intents).
    pub similarity: bool,
    /// Forms may match through a typo.
    pub fuzzy: bool,
}

impl Concept {
    /// A word that says what is asked (not a type name, gap or slot filler).
    pub fn is_intent(&self) -> bool {
        self.similarity && self.kind == ConceptKind::Plain
    }
}

/// An image question the FAQ does not answer.
#[derive(Debug)]
pub struct Gap {
    /// The gap's id.
    pub id: String,
    /// What the FAQ does not cover, in both languages (the gap message's `{what}`).
    pub name: Text,
}

/// Where people with a problem are sent (routes.toml).
#[derive(Debug)]
pub struct Routes {
    /// The ticket form's link.
    pub ticket_url: String,
    /// The ticket link's label, in both languages.
    pub ticket_label: Text,
    /// The vendor's contact channels (online service, phone, email).
    pub vendor_channels: Vec<String>,
    /// Where the vendor's channels are found (the product page).
    pub vendor_where: String,
    /// Who to ask when the vendor cannot help.
    pub vendor_fallback: String,
    /// How to reach the vendor, in both languages.
    pub vendor_text: Text,
}

/// A kind of problem, for the ticket category of a problem report.
#[derive(Debug)]
pub struct ProblemKind {
    /// The kind's id (`boot`, `login`, `other`).
    pub id: String,
    /// Its name in the ticket category.
    pub label: Text,
    /// Words that say it, folded as messages are (Simplified, lower case);
    /// empty for the fallback kind.
    pub words: Vec<String>,
}

/// Concepts the engine gives a fixed role, found by id (each optional: a
/// knowledge base without one just lacks that behaviour).
#[derive(Debug, Default, Clone)]
pub struct Special {
    /// The bare image word: a message with it stands on its own, not as a follow-up.
    pub image: Option<usize>,
    /// Comparing types: answer every type, compactly.
    pub compare: Option<usize>,
    /// A greeting: answered with the greeting message.
    pub greeting: Option<usize>,
    /// Thanks: answered with the thanks message.
    pub thanks: Option<usize>,
    /// Asking who the bot is: answered with the identity message.
    pub identity: Option<usize>,
    /// Words that lean on the previous message ("那", "呢", "what about").
    pub followup: Option<usize>,
}

impl Special {
    /// The concept ids the engine gives a role, in the order of the fields.
    pub const IDS: [&'static str; 6] = [
        "image", "compare", "greeting", "thanks", "identity", "followup",
    ];

    /// Finds each role's concept by id.
    pub fn find(concepts: &[Concept]) -> Special {
        let find = |id: &str| concepts.iter().position(|c| c.id == id);
        Special {
            image: find("image"),
            compare: find("compare"),
            greeting: find("greeting"),
            thanks: find("thanks"),
            identity: find("identity"),
            followup: find("followup"),
        }
    }

    /// The role concepts this knowledge lacks (each one only loses its behaviour).
    pub fn missing(&self) -> Vec<&'static str> {
        let found = [
            self.image,
            self.compare,
            self.greeting,
            self.thanks,
            self.identity,
            self.followup,
        ];
        Special::IDS
            .into_iter()
            .zip(found)
            .filter(|(_, f)| f.is_none())
            .map(|(id, _)| id)
            .collect()
    }
}

/// The compiled knowledge base.
#[derive(Debug)]
pub struct Knowledge {
    /// Concepts the engine gives a fixed role.
    pub special: Special,
    /// The FAQ topics, in file order.
    pub topics: Vec<Topic>,
    /// The image types, in the order of types.toml.
    pub types: Vec<ImageType>,
    /// Every concept: the lexicon's, then one per type, then one per gap.
    pub concepts: Vec<Concept>,
    /// The image questions the FAQ does not answer.
    pub gaps: Vec<Gap>,
    /// Where people with a problem are sent.
    pub routes: Routes,
    /// What the bot says outside FAQ answers.
    pub messages: Messages,
    /// The literal words of rules, normalized, numbered by [`Term::Literal`].
    pub literals: Vec<String>,
    /// Kinds of problem, most specific first; the last is the fallback.
    pub problem_kinds: Vec<ProblemKind>,
    /// The curated topics (by number) to offer when nothing better is known,
    /// most asked first (`bot.toml` `[suggest]`).
    pub suggested: Vec<usize>,
}

/// One problem found in a knowledge folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the knowledge folder.
    pub file: String,
    /// The entry in the file (`topic x`, `type y`), when the problem has one.
    pub entry: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{}: {}: {}", self.file, e, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Loading failed: every problem found, not just the first.
#[derive(Debug, thiserror::Error)]
pub struct KnowledgeError {
    /// Every problem found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for KnowledgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the knowledge base has {} problem(s):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl Knowledge {
    /// Topics to offer when nothing better is known: the curated ones, most
    /// asked first, then every other topic in file order (so three places
    /// can always be filled).
    pub fn fallback_topics(&self) -> impl Iterator<Item = usize> + '_ {
        let rest = (0..self.topics.len()).filter(|t| !self.suggested.contains(t));
        self.suggested.iter().copied().chain(rest)
    }

    /// The knowledge built into the binary.
    pub fn builtin() -> Result<Knowledge, KnowledgeError> {
        load::compile(&builtin_files())
    }

    /// The knowledge in a folder.
    pub fn from_dir(dir: &std::path::Path) -> Result<Knowledge, KnowledgeError> {
        let files = read_dir_files(dir)?;
        load::compile(&files)
    }

    /// The knowledge in a set of files (path relative to the folder, content).
    pub fn from_files(files: &[SourceFile]) -> Result<Knowledge, KnowledgeError> {
        load::compile(files)
    }

    /// The number of the topic with this id.
    pub fn topic(&self, id: &str) -> Option<usize> {
        self.topics.iter().position(|t| t.id == id)
    }

    /// The number of the image type with this id.
    pub fn type_index(&self, id: &str) -> Option<usize> {
        self.types.iter().position(|t| t.id == id)
    }

    /// The number of the concept with this id.
    pub fn concept(&self, id: &str) -> Option<usize> {
        self.concepts.iter().position(|c| c.id == id)
    }
}
