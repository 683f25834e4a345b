//! `imagebot check`: everything wrong with a knowledge folder, located by file
//! and entry, including phrasings the engine itself would answer with another
//! topic.

use crate::{answer, Assistant, Conversation};
use std::path::Path;

/// What `check` found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Every problem found, each located by file and entry; empty when all is well.
    pub problems: Vec<String>,
    /// A one-line summary when there are no problems.
    pub summary: String,
    /// Things that work but lose a behaviour (a role concept the engine
    /// looks for by id is missing), said on stderr.
    pub warnings: Vec<String>,
}

/// Every phrasing (and question) must be answered with its own topic.
pub fn self_consistency(bot: &Assistant) -> Vec<String> {
    let kb = &bot.kb;
    let mut problems = Vec::new();
    for t in &kb.topics {
        let texts = [&t.question.zh, &t.question.en]
            .into_iter()
            .chain(t.phrasings.iter());
        for text in texts {
            let reply = answer(bot, &mut Conversation::new(), text);
            let got = if reply.answered {
                reply.topic.clone().unwrap_or_default()
            } else {
                "nothing (declined)".to_string()
            };
            if reply.topic.as_deref() != Some(t.id.as_str()) {
                problems.push(format!(
                    "{}: topic {}: the phrasing \"{text}\" is answered with {got}; reword it, or add a rule or lexicon form that tells them apart (see `imagebot ask --explain`)",
                    t.file, t.id
                ));
            }
        }
    }
    problems
}

impl CheckReport {
    /// The report of knowledge that did not load.
    pub fn failed(e: &crate::knowledge::KnowledgeError) -> CheckReport {
        CheckReport {
            problems: e.problems.iter().map(|p| p.to_string()).collect(),
            summary: String::new(),
            warnings: Vec::new(),
        }
    }
}

/// Loads and validates a knowledge folder.
pub fn check_dir(dir: &Path) -> CheckReport {
    match Assistant::from_dir(dir) {
        Err(e) => CheckReport::failed(&e),
        Ok(kb) => check_knowledge(&kb, &dir.display().to_string()),
    }
}

/// Validates loaded knowledge (the semantic checks beyond loading).
pub fn check_knowledge(bot: &Assistant, place: &str) -> CheckReport {
    let kb = &bot.kb;
    let problems = self_consistency(bot);
    let phrasings: usize = kb.topics.iter().map(|t| t.phrasings.len()).sum();
    let fewest = kb
        .topics
        .iter()
        .map(|t| t.phrasings.len())
        .min()
        .unwrap_or(0);
    let summary = format!(
        "ok: {} topics, {} image types, {} concepts, {} phrasings (at least {} a topic), {} intent rules in {place}",
        kb.topics.len(),
        kb.types.len(),
        kb.concepts.len(),
        phrasings,
        fewest,
        kb.topics.iter().map(|t| t.rules.len()).sum::<usize>()
    );
    let warnings = kb
        .special
        .missing()
        .into_iter()
        .map(|id| {
            format!("lexicon.toml: no concept \"{id}\": the engine gives it a role (see the README's knowledge section); without it that behaviour is off")
        })
        .collect();
    CheckReport {
        problems,
        summary,
        warnings,
    }
}
