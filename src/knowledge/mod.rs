//! The knowledge base: loading `knowledge/` (or the copy built into the
//! binary), validating it with located errors, and compiling it into the
//! tables the engine matches against. The only module that reads knowledge
//! files.

mod load;
pub mod schema;

pub use load::{builtin_files, read_dir_files, SourceFile};
pub use schema::{Messages, Text};

use crate::analyze::Lexicon;
use crate::matcher::{Index, Literals, Triggers};
use regex::Regex;
use std::fmt;

/// The attributes a type's policy has, one per column or table of the FAQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    Description,
    Fee,
    Security,
    Billing,
    Limits,
}

impl Attribute {
    pub const ALL: [Attribute; 5] = [
        Attribute::Description,
        Attribute::Fee,
        Attribute::Security,
        Attribute::Billing,
        Attribute::Limits,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Attribute::Description => "description",
            Attribute::Fee => "fee",
            Attribute::Security => "security",
            Attribute::Billing => "billing",
            Attribute::Limits => "limits",
        }
    }

    pub fn parse(s: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where a problem with an image type is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Ticket,
    Vendor,
}

/// What a topic's reply routes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicRoute {
    None,
    Vendor,
    /// Per the image type: its route, or a clarify question when unknown.
    ByType,
}

#[derive(Debug)]
pub struct ImageType {
    pub id: String,
    pub name: Text,
    pub route: RouteKind,
    /// One cell per [`Attribute`], `None` where the document is silent.
    pub cells: [Option<Text>; 5],
    /// What to say for an empty cell.
    pub gaps: [Option<Text>; 5],
    /// The concepts each cell's text mentions (zh and en), to add a
    /// neighbouring cell when the asked-about fact lives there.
    pub cell_concepts: [Vec<usize>; 5],
}

#[derive(Debug)]
pub enum Term {
    Concept(usize),
    AnyType,
    Type(usize),
    /// A literal word: its number in [`Knowledge::literals`].
    Literal(usize),
}

#[derive(Debug)]
pub struct Rule {
    pub all: Vec<Term>,
    pub any: Vec<Term>,
    pub none: Vec<Term>,
    pub regex: Option<Regex>,
    pub weight: f32,
    /// "topics/x.toml rule 2", for explanations.
    pub label: String,
}

#[derive(Debug)]
pub struct Topic {
    pub id: String,
    pub file: String,
    pub question: Text,
    pub phrasings: Vec<String>,
    pub related: Vec<usize>,
    pub attribute: Option<Attribute>,
    pub default_type: Option<usize>,
    /// Image types a follow-up may carry over into this topic.
    pub types: Vec<usize>,
    pub route: TopicRoute,
    pub rules: Vec<Rule>,
    pub answer: Text,
    /// Per image type, an answer that replaces the general one.
    pub by_type: Vec<Option<Text>>,
    /// Another attribute answered after the first, with its label.
    pub also: Option<(Attribute, Text)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConceptKind {
    Plain,
    Type(usize),
    Gap(usize),
}

#[derive(Debug)]
pub struct Concept {
    pub id: String,
    pub kind: ConceptKind,
    pub anchor: bool,
    pub foreign: bool,
    pub veto: Option<String>,
    pub implies: Option<usize>,
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

#[derive(Debug)]
pub struct Gap {
    pub id: String,
    pub name: Text,
}

#[derive(Debug)]
pub struct Routes {
    pub ticket_url: String,
    pub ticket_label: Text,
    pub vendor_channels: Vec<String>,
    pub vendor_where: String,
    pub vendor_fallback: String,
    pub vendor_text: Text,
}

/// Concepts the engine gives a fixed role, found by id (each optional: a
/// knowledge base without one just lacks that behaviour).
#[derive(Debug, Default, Clone)]
pub struct Special {
    /// The bare image word: a message with it stands on its own, not as a follow-up.
    pub image: Option<usize>,
    /// Comparing types: answer every type, compactly.
    pub compare: Option<usize>,
    pub greeting: Option<usize>,
    pub thanks: Option<usize>,
    pub identity: Option<usize>,
}

/// The compiled knowledge base.
#[derive(Debug)]
pub struct Knowledge {
    pub special: Special,
    pub topics: Vec<Topic>,
    pub types: Vec<ImageType>,
    pub concepts: Vec<Concept>,
    pub gaps: Vec<Gap>,
    pub routes: Routes,
    pub messages: Messages,
    pub lexicon: Lexicon,
    pub index: Index,
    /// The literal words of rules, found in one pass over a message.
    pub literals: Literals,
    /// Which rules can fire on which terms, so a message only checks those.
    pub triggers: Triggers,
}

/// One problem found in a knowledge folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub entry: Option<String>,
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

    pub fn topic(&self, id: &str) -> Option<usize> {
        self.topics.iter().position(|t| t.id == id)
    }

    pub fn type_index(&self, id: &str) -> Option<usize> {
        self.types.iter().position(|t| t.id == id)
    }

    pub fn concept(&self, id: &str) -> Option<usize> {
        self.concepts.iter().position(|c| c.id == id)
    }
}
