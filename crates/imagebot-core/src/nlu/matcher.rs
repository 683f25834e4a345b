//! Intent rules and the combined score per topic: rule weights plus
//! similarity. Pure functions over the knowledge and its compiled index.

use super::analyze::Analysis;
use super::index::Index;
use crate::knowledge::{ConceptKind, Knowledge, Rule, Term, Topic};
// A fast non-cryptographic hash: the keys are our own tokens, not attacker-chosen
// table sizes, and hashing is most of the cost of matching.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// How much a perfect similarity (1.0) adds to a rule's weight.
pub const SIM_WEIGHT: f32 = 2.5;
/// A second strong rule of the same topic is more evidence: this share of its weight counts.
pub const SECOND_RULE: f32 = 0.25;
/// Only rules at least this strong count as second evidence (not a bare type mention).
pub const SECOND_RULE_MIN: f32 = 2.0;

/// One topic's score for a message.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The topic, by number.
    pub topic: usize,
    /// The combined score: rule weights plus weighted similarity.
    pub score: f32,
    /// The strongest rule that fired: its index and weight.
    pub rule: Option<(usize, f32)>,
    /// The similarity of the best phrasing (0 to 1).
    pub sim: f32,
    /// The best phrasing's number in the index, if any term was shared.
    pub phrasing: Option<usize>,
}

impl Candidate {
    /// The candidate of a message nothing matched.
    pub fn nothing() -> Candidate {
        Candidate {
            topic: 0,
            score: 0.0,
            rule: None,
            sim: 0.0,
            phrasing: None,
        }
    }
}

/// What makes a rule worth checking: one term it cannot fire without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    /// A concept, by number.
    Concept(usize),
    /// Any image type named (`@any`).
    AnyType,
    /// One image type, by number.
    Type(usize),
    /// A literal word, by its number in the knowledge's literals.
    Literal(usize),
}

/// Rules by trigger, so a message checks only the rules it could fire.
#[derive(Debug, Default)]
pub struct Triggers {
    by: HashMap<Trigger, Vec<(u32, u32)>>,
    /// Rules with only a regex: checked on every message.
    always: Vec<(u32, u32)>,
}

fn trigger_of(term: &Term) -> Trigger {
    match term {
        Term::Concept(c) => Trigger::Concept(*c),
        Term::AnyType => Trigger::AnyType,
        Term::Type(t) => Trigger::Type(*t),
        Term::Literal(l) => Trigger::Literal(*l),
    }
}

impl Triggers {
    /// Indexes every rule of the topics by its trigger.
    pub fn build(topics: &[Topic]) -> Triggers {
        let mut t = Triggers::default();
        for (ti, topic) in topics.iter().enumerate() {
            for (ri, rule) in topic.rules.iter().enumerate() {
                let at = (ti as u32, ri as u32);
                if let Some(first) = rule.all.first() {
                    t.by.entry(trigger_of(first)).or_default().push(at);
                } else if !rule.any.is_empty() {
                    for term in &rule.any {
                        t.by.entry(trigger_of(term)).or_default().push(at);
                    }
                } else {
                    t.always.push(at);
                }
            }
        }
        t
    }
}

fn term_present(term: &Term, a: &Analysis) -> bool {
    match term {
        Term::Concept(c) => a.has(*c),
        Term::AnyType => !a.types.is_empty(),
        Term::Type(t) => a.types.contains(t),
        Term::Literal(l) => a.literals.binary_search(l).is_ok(),
    }
}

/// Does a rule fire on the message?
pub fn fires(rule: &Rule, a: &Analysis) -> bool {
    rule.all.iter().all(|t| term_present(t, a))
        && (rule.any.is_empty() || rule.any.iter().any(|t| term_present(t, a)))
        && !rule.none.iter().any(|t| term_present(t, a))
        && rule
            .regex
            .as_ref()
            .is_none_or(|re| re.is_match(&a.norm.text))
}

/// The topics with any evidence (a rule that fired, a shared term), best
/// first. Only rules the message can trigger are checked.
pub fn score(kb: &Knowledge, index: &Index, triggers: &Triggers, a: &Analysis) -> Vec<Candidate> {
    let mut present: Vec<Trigger> = Vec::new();
    present.extend(a.found.iter().map(|&c| Trigger::Concept(c)));
    if !a.types.is_empty() {
        present.push(Trigger::AnyType);
        present.extend(a.types.iter().map(|&t| Trigger::Type(t)));
    }
    present.extend(a.literals.iter().map(|&l| Trigger::Literal(l)));
    present.sort_unstable();
    present.dedup();
    let mut checked: HashSet<(u32, u32)> = HashSet::default();
    let mut fired: HashMap<usize, Vec<(usize, f32)>> = HashMap::default();
    let lists = present
        .iter()
        .filter_map(|t| triggers.by.get(t))
        .chain([&triggers.always]);
    for list in lists {
        for &(t, r) in list {
            if !checked.insert((t, r)) {
                continue;
            }
            let rule = &kb.topics[t as usize].rules[r as usize];
            if fires(rule, a) {
                fired
                    .entry(t as usize)
                    .or_default()
                    .push((r as usize, rule.weight));
            }
        }
    }
    let sims = index.similar(&a.keys);
    let mut by_topic: HashMap<usize, Candidate> =
        HashMap::with_capacity_and_hasher(sims.len() + fired.len(), Default::default());
    for (t, sim, p) in sims {
        by_topic.insert(
            t,
            Candidate {
                topic: t,
                score: SIM_WEIGHT * sim,
                rule: None,
                sim,
                phrasing: Some(p),
            },
        );
    }
    for (t, mut rules) in fired {
        rules.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let rule = rules[0];
        let second = rules.get(1).map_or(0.0, |r| {
            if r.1 >= SECOND_RULE_MIN {
                SECOND_RULE * r.1
            } else {
                0.0
            }
        });
        let c = by_topic.entry(t).or_insert(Candidate {
            topic: t,
            score: 0.0,
            rule: None,
            sim: 0.0,
            phrasing: None,
        });
        c.rule = Some(rule);
        c.score += rule.1 + second;
    }
    let mut out: Vec<Candidate> = by_topic.into_values().collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.topic.cmp(&y.topic)));
    out
}

/// The first gap (an image question the FAQ does not answer) named in the message.
pub fn gap(kb: &Knowledge, a: &Analysis) -> Option<usize> {
    kb.concepts
        .iter()
        .enumerate()
        .find_map(|(c, concept)| match concept.kind {
            ConceptKind::Gap(g) if a.has(c) => Some(g),
            _ => None,
        })
}
