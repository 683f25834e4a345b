//! An inverted index over the similarity terms of every phrasing, so a
//! message only touches the phrasings that share a term with it.

use super::analyze::{analyze_terms, Key};
use super::lexicon::Lexicon;
use crate::knowledge::{ConceptKind, Knowledge};
use rustc_hash::FxHashMap as HashMap;

/// The share of its weight a type name has as a similarity term.
pub const TYPE_KEY_WEIGHT: f32 = 0.3;

/// The shared weight of each phrasing with one message: a dense array (no
/// hashing in the innermost loop), reused across messages on a thread, and
/// the phrasings touched, to reset only those.
#[derive(Default)]
struct Scratch {
    shared: Vec<f32>,
    touched: Vec<u32>,
}

impl Scratch {
    fn reset(&mut self, phrasings: usize) {
        for &p in &self.touched {
            self.shared[p as usize] = 0.0;
        }
        self.touched.clear();
        if self.shared.len() < phrasings {
            self.shared.resize(phrasings, 0.0);
        }
    }

    fn add(&mut self, p: u32, w: f32) {
        let slot = &mut self.shared[p as usize];
        if *slot == 0.0 {
            self.touched.push(p);
        }
        *slot += w;
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

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
    pub fn build(kb: &Knowledge, lexicon: &Lexicon) -> Index {
        let mut index = Index::default();
        let mut docs: Vec<Vec<u32>> = Vec::new();
        for (t, topic) in kb.topics.iter().enumerate() {
            let texts = [&topic.question.zh, &topic.question.en]
                .into_iter()
                .chain(topic.phrasings.iter());
            for text in texts {
                let a = analyze_terms(kb, lexicon, text);
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
        SCRATCH.with_borrow_mut(|scratch| self.similar_in(keys, walk_limit, scratch))
    }

    fn similar_in(
        &self,
        keys: &[Key],
        walk_limit: usize,
        scratch: &mut Scratch,
    ) -> Vec<(usize, f32, usize)> {
        let mut seen: Vec<u32> = Vec::with_capacity(keys.len());
        let mut query_weight = 0.0;
        scratch.reset(self.phrasings.len());
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
                        scratch.add(p, w);
                    }
                }
                None => query_weight += self.unknown_idf,
            }
        }
        let mut best: HashMap<usize, (f32, usize)> = HashMap::default();
        for &p in &scratch.touched {
            let w = scratch.shared[p as usize];
            let ph = &self.phrasings[p as usize];
            let sim = 2.0 * w / (query_weight + ph.weight);
            let e = best.entry(ph.topic).or_insert((0.0, p as usize));
            if sim > e.0 || (sim == e.0 && (p as usize) < e.1) {
                *e = (sim, p as usize);
            }
        }
        best.into_iter().map(|(t, (sim, p))| (t, sim, p)).collect()
    }

    /// The text of a phrasing (or question), by its number in the index.
    pub fn phrasing_text(&self, p: usize) -> &str {
        &self.phrasings[p].text
    }
}
