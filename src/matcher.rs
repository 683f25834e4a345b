//! Candidate retrieval and scoring: an inverted index over the similarity
//! terms of every phrasing (so a message only touches the phrasings that
//! share a term with it), intent rules, and the combined score per topic.
//! Pure functions over `&Knowledge`.

use crate::analyze::{analyze_terms, Analysis, Key};
use crate::knowledge::{ConceptKind, Knowledge, Rule, Term};
use aho_corasick::AhoCorasick;
// A fast non-cryptographic hash: the keys are our own tokens, not attacker-chosen
// table sizes, and hashing is most of the cost of matching.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The share of its weight a type name has as a similarity term.
pub const TYPE_KEY_WEIGHT: f32 = 0.3;
/// How much a perfect similarity (1.0) adds to a rule's weight.
pub const SIM_WEIGHT: f32 = 2.5;
/// A second strong rule of the same topic is more evidence: this share of its weight counts.
pub const SECOND_RULE: f32 = 0.25;
/// Only rules at least this strong count as second evidence (not a bare type mention).
pub const SECOND_RULE_MIN: f32 = 2.0;

#[derive(Debug, Clone)]
struct Phrasing {
    topic: usize,
    text: String,
    weight: f32,
}

/// The inverted index over the knowledge's phrasings.
#[derive(Debug, Default)]
pub struct Index {
    vocab: HashMap<Key, u32>,
    idf: Vec<f32>,
    postings: Vec<Vec<(u32, f32)>>,
    phrasings: Vec<Phrasing>,
    unknown_idf: f32,
}

impl Index {
    /// Indexes every topic's questions and phrasings.
    pub fn build(kb: &Knowledge) -> Index {
        let mut index = Index::default();
        let mut docs: Vec<Vec<u32>> = Vec::new();
        for (t, topic) in kb.topics.iter().enumerate() {
            let texts = [&topic.question.zh, &topic.question.en]
                .into_iter()
                .chain(topic.phrasings.iter());
            for text in texts {
                let a = analyze_terms(kb, text);
                let mut ids: Vec<u32> = a
                    .keys
                    .into_iter()
                    .map(|k| {
                        let next = index.vocab.len() as u32;
                        *index.vocab.entry(k).or_insert(next)
                    })
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                docs.push(ids);
                index.phrasings.push(Phrasing {
                    topic: t,
                    text: text.clone(),
                    weight: 0.0,
                });
            }
        }
        let n = docs.len() as f32;
        let mut df = vec![0u32; index.vocab.len()];
        for d in &docs {
            for &k in d {
                df[k as usize] += 1;
            }
        }
        index.idf = df.iter().map(|&f| (1.0 + n / f as f32).ln()).collect();
        // A named image type is a slot more than an intent: it counts, a little.
        for (key, &id) in &index.vocab {
            if let Key::Concept(c) = key {
                if matches!(kb.concepts[*c].kind, ConceptKind::Type(_)) {
                    index.idf[id as usize] *= TYPE_KEY_WEIGHT;
                }
            }
        }
        index.unknown_idf = (1.0 + n).ln();
        index.postings = vec![Vec::new(); index.vocab.len()];
        for (p, d) in docs.iter().enumerate() {
            index.phrasings[p].weight = d.iter().map(|&k| index.idf[k as usize]).sum();
            for &k in d {
                index.postings[k as usize].push((p as u32, index.idf[k as usize]));
            }
        }
        index
    }

    /// The best phrasing of every topic that shares a term with the
    /// message, by weighted Dice similarity: 2·(weight of shared terms) /
    /// (weight of the message + weight of the phrasing). Terms in a large
    /// share of all phrasings are not walked (they say little and would make
    /// a big knowledge base slow); they still count in the message's weight.
    pub fn similar(&self, keys: &[Key]) -> Vec<(usize, f32, usize)> {
        let walk_limit = (self.phrasings.len() / 20).max(1000);
        let mut seen: Vec<u32> = Vec::with_capacity(keys.len());
        let mut query_weight = 0.0;
        let mut shared: HashMap<u32, f32> = HashMap::default();
        for k in keys {
            match self.vocab.get(k) {
                Some(&id) => {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    query_weight += self.idf[id as usize];
                    let postings = &self.postings[id as usize];
                    if postings.len() > walk_limit {
                        continue;
                    }
                    for &(p, w) in postings {
                        *shared.entry(p).or_insert(0.0) += w;
                    }
                }
                None => query_weight += self.unknown_idf,
            }
        }
        let mut best: HashMap<usize, (f32, usize)> = HashMap::default();
        for (p, w) in shared {
            let ph = &self.phrasings[p as usize];
            let sim = 2.0 * w / (query_weight + ph.weight);
            let e = best.entry(ph.topic).or_insert((0.0, p as usize));
            if sim > e.0 || (sim == e.0 && (p as usize) < e.1) {
                *e = (sim, p as usize);
            }
        }
        best.into_iter().map(|(t, (sim, p))| (t, sim, p)).collect()
    }

    pub fn phrasing_text(&self, p: usize) -> &str {
        &self.phrasings[p].text
    }
}

/// One topic's score for a message.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub topic: usize,
    pub score: f32,
    /// The strongest rule that fired: its index and weight.
    pub rule: Option<(usize, f32)>,
    pub sim: f32,
    pub phrasing: Option<usize>,
}

/// The literal words of all rules, found in a message in one pass.
#[derive(Debug, Default)]
pub struct Literals {
    automaton: Option<AhoCorasick>,
}

impl Literals {
    pub fn new(words: Vec<String>) -> Literals {
        let automaton = if words.is_empty() {
            None
        } else {
            AhoCorasick::new(&words).ok()
        };
        Literals { automaton }
    }

    /// The numbers of the literal words in `text`, sorted.
    pub fn find(&self, text: &str) -> Vec<usize> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let mut found: Vec<usize> = ac
            .find_overlapping_iter(text)
            .map(|m| m.pattern().as_usize())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// What makes a rule worth checking: one term it cannot fire without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    Concept(usize),
    AnyType,
    Type(usize),
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
    pub fn build(topics: &[crate::knowledge::Topic]) -> Triggers {
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
pub fn score(kb: &Knowledge, a: &Analysis) -> Vec<Candidate> {
    let mut present: Vec<Trigger> = Vec::new();
    for h in &a.hits {
        present.extend(h.concepts.iter().map(|&c| Trigger::Concept(c)));
    }
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
        .filter_map(|t| kb.triggers.by.get(t))
        .chain([&kb.triggers.always]);
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
    let mut by_topic: HashMap<usize, Candidate> = HashMap::default();
    for (t, sim, p) in kb.index.similar(&a.keys) {
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
