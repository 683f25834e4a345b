//! Why a message got its reply, for people editing the knowledge
//! (`imagebot ask --explain`).

use crate::knowledge::Knowledge;
use crate::nlu::analyze::{surface, Analysis};
use crate::nlu::matcher::Candidate;
use crate::nlu::Model;

/// Why a message got its reply.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    /// The message after normalization.
    pub normalized: String,
    /// Concepts found, with the words that matched.
    pub hits: Vec<String>,
    /// Image types named.
    pub types: Vec<String>,
    /// The best topics and their scores.
    pub candidates: Vec<String>,
    /// What the conversation contributed.
    pub context: Vec<String>,
    /// The decision, in words.
    pub decision: String,
}

impl Explanation {
    /// What the analysis and the scoring found.
    pub(super) fn found(kb: &Knowledge, model: &Model, a: &Analysis, cands: &[Candidate]) -> Self {
        let hits = a
            .hits
            .iter()
            .map(|h| {
                let ids: Vec<&str> = model
                    .lexicon
                    .form_concepts(h.form)
                    .iter()
                    .map(|&c| kb.concepts[c].id.as_str())
                    .collect();
                let typo = if h.fuzzy {
                    format!(" (typo of \"{}\")", model.lexicon.form_text(h.form))
                } else {
                    String::new()
                };
                format!("{} \"{}\"{typo}", ids.join("+"), surface(a, h))
            })
            .collect();
        Explanation {
            normalized: a.norm.text.clone(),
            hits,
            types: a.types.iter().map(|&t| kb.types[t].id.clone()).collect(),
            candidates: cands
                .iter()
                .take(5)
                .filter(|c| c.score > 0.0)
                .map(|c| describe(kb, model, c))
                .collect(),
            context: Vec::new(),
            decision: String::new(),
        }
    }
}

/// One candidate topic, in a line.
pub(super) fn describe(kb: &Knowledge, model: &Model, c: &Candidate) -> String {
    let t = &kb.topics[c.topic];
    let rule = c.rule.map_or("no rule".to_string(), |(i, w)| {
        format!("{} (+{w:.1})", t.rules[i].label)
    });
    let phr = c.phrasing.map_or(String::new(), |p| {
        format!(" ~ \"{}\"", model.index.phrasing_text(p))
    });
    format!(
        "{:<22} {:>5.2}  {rule}; similarity {:.2}{phr}",
        t.id, c.score, c.sim
    )
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join(", ")
            }
        };
        writeln!(f, "normalized: {}", self.normalized)?;
        writeln!(f, "concepts:   {}", list(&self.hits))?;
        writeln!(f, "types:      {}", list(&self.types))?;
        writeln!(f, "candidates:")?;
        for c in &self.candidates {
            writeln!(f, "  {c}")?;
        }
        for c in &self.context {
            writeln!(f, "context:    {c}")?;
        }
        write!(f, "decision:   {}", self.decision)
    }
}
