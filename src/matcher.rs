//! Candidate retrieval and scoring: an inverted index over the similarity
//! terms of every phrasing (so a message only touches the phrasings that
//! share a term with it), intent rules, and the combined score per topic.
//! Pure functions over `&Knowledge`.

use crate::analyze::{analyze, Analysis, Key};
use crate::knowledge::{ConceptKind, Knowledge, Rule, Term};
use std::collections::HashMap;

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
                let a = analyze(kb, text);
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

    pub fn len(&self) -> usize {
        self.phrasings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrasings.is_empty()
    }

    /// The best phrasing per topic by weighted Dice similarity:
    /// 2·(weight of shared terms) / (weight of the message + weight of the phrasing).
    pub fn similar(&self, keys: &[Key], topics: usize) -> Vec<(f32, Option<usize>)> {
        let mut best = vec![(0.0f32, None); topics];
        let mut seen: Vec<u32> = Vec::with_capacity(keys.len());
        let mut query_weight = 0.0;
        let mut shared: HashMap<u32, f32> = HashMap::new();
        for k in keys {
            match self.vocab.get(k) {
                Some(&id) => {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    query_weight += self.idf[id as usize];
                    for &(p, w) in &self.postings[id as usize] {
                        *shared.entry(p).or_insert(0.0) += w;
                    }
                }
                None => query_weight += self.unknown_idf,
            }
        }
        for (p, w) in shared {
            let ph = &self.phrasings[p as usize];
            let sim = 2.0 * w / (query_weight + ph.weight);
            if sim > best[ph.topic].0 {
                best[ph.topic] = (sim, Some(p as usize));
            }
        }
        best
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

fn term_present(term: &Term, a: &Analysis) -> bool {
    match term {
        Term::Concept(c) => a.has(*c),
        Term::AnyType => !a.types.is_empty(),
        Term::Type(t) => a.types.contains(t),
        Term::Literal(lit) => a.norm.text.contains(lit.as_str()),
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

/// Every topic scored, best first.
pub fn score(kb: &Knowledge, a: &Analysis) -> Vec<Candidate> {
    let sims = kb.index.similar(&a.keys, kb.topics.len());
    let mut out: Vec<Candidate> = kb
        .topics
        .iter()
        .enumerate()
        .map(|(t, topic)| {
            let mut fired: Vec<(usize, f32)> = topic
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| fires(r, a))
                .map(|(i, r)| (i, r.weight))
                .collect();
            fired.sort_by(|x, y| y.1.total_cmp(&x.1));
            let rule = fired.first().copied();
            let second = fired.get(1).map_or(0.0, |r| {
                if r.1 >= SECOND_RULE_MIN {
                    SECOND_RULE * r.1
                } else {
                    0.0
                }
            });
            let (sim, phrasing) = sims[t];
            let score = rule.map_or(0.0, |r| r.1) + second + SIM_WEIGHT * sim;
            Candidate {
                topic: t,
                score,
                rule,
                sim,
                phrasing,
            }
        })
        .collect();
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
