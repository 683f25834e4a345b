//! Natural-language understanding: the model compiled *from* the knowledge
//! (lexicon, literal words, similarity index, rule triggers, the concepts of
//! each cell), and what it finds in a message. The knowledge never holds it.
//!
//! - [`lexicon`]: concept forms, typo tolerance;
//! - [`analyze`]: one message to concepts, types and similarity terms;
//! - [`index`]: similarity with the knowledge's phrasings;
//! - [`matcher`]: intent rules and the score per topic.

pub mod analyze;
pub mod cells;
pub mod index;
pub mod lexicon;
pub mod literals;
pub mod matcher;

use crate::escalation::KindWords;
use crate::knowledge::{Concept, ConceptKind, Knowledge};
use analyze::Analysis;
use cells::CellConcepts;
use index::Index;
use lexicon::{Fuzz, Lexicon};
use literals::Literals;
use matcher::{Candidate, Triggers};

/// Everything compiled from one [`Knowledge`] for matching messages against it.
#[derive(Debug)]
pub struct Model {
    /// Concept forms, with typo tolerance.
    pub lexicon: Lexicon,
    /// The literal words of rules, found in one pass over a message.
    pub literals: Literals,
    /// Similarity with the phrasings.
    pub index: Index,
    /// Which rules can fire on which terms, so a message only checks those.
    pub triggers: Triggers,
    /// The concepts each type's cells mention.
    pub cells: CellConcepts,
    /// The words of the kinds of problem, for ticket categories.
    pub kinds: KindWords,
}

impl Model {
    /// Compiles the model of a knowledge base.
    pub fn compile(kb: &Knowledge) -> Model {
        let lexicon = build_lexicon(kb);
        let literals = Literals::new(kb.literals.clone());
        let index = Index::build(kb, &lexicon);
        let triggers = Triggers::build(&kb.topics);
        let cells = CellConcepts::build(kb, &lexicon);
        let kinds = KindWords::new(&kb.problem_kinds);
        Model {
            lexicon,
            literals,
            index,
            triggers,
            cells,
            kinds,
        }
    }

    /// Analyzes one message.
    pub fn analyze(&self, kb: &Knowledge, message: &str) -> Analysis {
        analyze::analyze(kb, &self.lexicon, &self.literals, message)
    }

    /// The topics with any evidence for an analyzed message, best first.
    pub fn score(&self, kb: &Knowledge, a: &Analysis) -> Vec<Candidate> {
        matcher::score(kb, &self.index, &self.triggers, a)
    }
}

/// How far a concept's forms may be from the words that match them.
fn fuzz(c: &Concept) -> Fuzz {
    match c.kind {
        ConceptKind::Type(_) => Fuzz::Loose,
        ConceptKind::Gap(_) => Fuzz::Exact,
        ConceptKind::Plain if c.veto.is_some() || c.foreign || !c.fuzzy => Fuzz::Exact,
        ConceptKind::Plain if c.anchor => Fuzz::Loose,
        ConceptKind::Plain => Fuzz::Homophone,
    }
}

/// The English words of some texts: a plain ASCII split is enough (and much
/// cheaper than normalizing every phrasing a second time).
fn english_words<'a>(texts: impl Iterator<Item = &'a String>) -> Vec<String> {
    texts
        .flat_map(|s| {
            s.split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
                .filter(|w| !w.is_empty() && w.is_ascii())
                .map(|w| w.to_ascii_lowercase())
        })
        .collect()
}

/// The lexicon learns the English words of every form and phrasing, so a
/// misspelt word can be corrected towards one of them. Typos are corrected
/// towards the words of fuzzy forms and phrasings; the words of exact-only
/// forms are known but never a target.
fn build_lexicon(kb: &Knowledge) -> Lexicon {
    let forms: Vec<(&String, usize)> = kb
        .concepts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.forms.iter().map(move |f| (f, i)))
        .collect();
    let mut targets = english_words(
        forms
            .iter()
            .filter(|(_, c)| fuzz(&kb.concepts[*c]) != Fuzz::Exact)
            .map(|(f, _)| *f),
    );
    for t in &kb.topics {
        targets.extend(english_words(t.phrasings.iter().chain([&t.question.en])));
    }
    let known = english_words(forms.iter().map(|(f, _)| *f));
    Lexicon::build(
        forms
            .iter()
            .map(|(f, c)| (f.as_str(), *c, fuzz(&kb.concepts[*c]))),
        targets,
        known,
        |c| kb.concepts[c].anchor || matches!(kb.concepts[c].kind, ConceptKind::Type(_)),
    )
}
