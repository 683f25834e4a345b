//! From normalized text to what the engine reasons about: tokens, the
//! lexicon's concepts found in them, the image types named, and the terms
//! used for similarity with the knowledge's phrasings.

use super::lexicon::{token_readings, Lexicon, Reading, Tok};
use super::literals::Literals;
use crate::knowledge::{ConceptKind, Knowledge};
use crate::normalize::{normalize, Normalized};

/// Particles that say nothing about the question.
const STOP_HAN: &str = "的了吗呢吧啊呀嘛哦么我你您它他她们";
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "am", "be", "do", "doe", "did", "i", "my", "me", "to", "of",
    "in", "on", "for", "it", "can", "how", "what", "which", "there", "and", "or", "with", "about",
    "ani", "you", "your", "we", "our", "this", "that", "have", "has", "at", "by", "from", "if",
    "should", "would", "could", "will", "pleas", "so", "as", "get", "some", "their", "they",
    "them",
];

/// A similarity term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A concept that takes part in similarity, by its number.
    Concept(usize),
    /// A Chinese character outside any lexicon form.
    Uni(char),
    /// Two adjacent Chinese characters outside any lexicon form.
    Bi(char, char),
    /// An English word (stemmed) that is not a stop word.
    Word(String),
}

/// A lexicon form found in the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The form, by its number in the lexicon ([`Lexicon::form_text`], [`Lexicon::form_concepts`]).
    pub form: usize,
    /// The tokens of the message that matched: `toks[start..start + len]`.
    pub start: usize,
    /// How many tokens matched.
    pub len: usize,
    /// Matched through a typo (homophone or one wrong character).
    pub fuzzy: bool,
}

/// Everything the engine needs to know about one message.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The message, normalized.
    pub norm: Normalized,
    /// The message's tokens.
    pub toks: Vec<Tok>,
    /// The lexicon forms found, in order.
    pub hits: Vec<Hit>,
    /// The concepts of every hit, in order (a concept may repeat).
    pub found: Vec<usize>,
    present: Vec<bool>,
    /// Image types named, in order of first mention, after refinement.
    pub types: Vec<usize>,
    /// Image types suggested by the words when none is named (`suggests`).
    pub suggested: Vec<usize>,
    /// The similarity terms of the message.
    pub keys: Vec<Key>,
    /// The literal words of rules found in the text (their numbers, sorted).
    pub literals: Vec<usize>,
    /// A word of our domain (an image word or a type) is present.
    pub anchored: bool,
    /// A word of another product is present.
    pub foreign: bool,
    /// 镜像 / image used in another sense: the concept that says so.
    pub veto: Option<usize>,
}

impl Analysis {
    /// Whether a concept (by number) is present in the message.
    pub fn has(&self, concept: usize) -> bool {
        self.present.get(concept).copied().unwrap_or(false)
    }
}

/// Analyzes one message against the knowledge.
pub fn analyze(kb: &Knowledge, lexicon: &Lexicon, literals: &Literals, message: &str) -> Analysis {
    let mut a = analyze_terms(kb, lexicon, message);
    a.literals = literals.find(&a.norm.text);
    a
}

/// Like [`analyze`], without looking for the rules' literal words (for
/// indexing phrasings, where no rule is evaluated).
pub fn analyze_terms(kb: &Knowledge, lex: &Lexicon, message: &str) -> Analysis {
    let norm = normalize(message);
    let toks = lex.tokenize(&norm.text, true);
    let han_readings = token_readings(&toks);
    let mut present = vec![false; kb.concepts.len()];
    let mut hits = Vec::new();
    let mut found = Vec::new();
    let mut keys = Vec::new();
    let mut type_order: Vec<usize> = Vec::new();
    let mut prev_free: Option<char> = None;
    let mut anchor_hit = false;
    let mut i = 0;
    while i < toks.len() {
        if let Some((f, len, fuzzy)) = best_match(lex, &toks, &han_readings, i) {
            let form = &lex.forms[f];
            found.extend_from_slice(&form.concepts);
            for &c in &form.concepts {
                present[c] = true;
                if let ConceptKind::Type(t) = kb.concepts[c].kind {
                    if !type_order.contains(&t) {
                        type_order.push(t);
                    }
                }
                if kb.concepts[c].similarity {
                    keys.push(Key::Concept(c));
                }
            }
            anchor_hit |= form.anchoring;
            hits.push(Hit {
                form: f,
                start: i,
                len,
                fuzzy,
            });
            prev_free = None;
            i += len;
            continue;
        }
        match &toks[i] {
            Tok::Han(c) => {
                if STOP_HAN.contains(*c) {
                    prev_free = None;
                } else {
                    keys.push(Key::Uni(*c));
                    if let Some(p) = prev_free {
                        keys.push(Key::Bi(p, *c));
                    }
                    prev_free = Some(*c);
                }
            }
            Tok::Word(w) => {
                prev_free = None;
                if !STOP_WORDS.contains(&w.as_str()) {
                    keys.push(Key::Word(w.clone()));
                }
            }
        }
        i += 1;
    }
    let types = refine_types(kb, &present, type_order);
    let suggested = if types.is_empty() {
        suggested_types(kb, &present)
    } else {
        Vec::new()
    };
    let anchored = anchor_hit
        || !types.is_empty()
        || present
            .iter()
            .enumerate()
            .any(|(c, &p)| p && kb.concepts[c].anchor);
    let foreign = present
        .iter()
        .enumerate()
        .any(|(c, &p)| p && kb.concepts[c].foreign);
    let veto = present
        .iter()
        .enumerate()
        .find(|(c, &p)| p && kb.concepts[*c].veto.is_some())
        .map(|(c, _)| c);
    let literals = Vec::new();
    Analysis {
        norm,
        toks,
        hits,
        found,
        present,
        types,
        suggested,
        keys,
        literals,
        anchored,
        foreign,
        veto,
    }
}

/// The form matched at `i`. A typo correction may not swallow the start of
/// a word written exactly ("服务起不来" is 服务 + 起不来, not a typo of
/// 服务器 followed by 不来): then only an exact form counts at `i`.
fn best_match(
    lex: &Lexicon,
    toks: &[Tok],
    readings: &[Reading],
    i: usize,
) -> Option<(usize, usize, bool)> {
    let found = lex.best_at(toks, readings, i, usize::MAX)?;
    let (_, len, fuzzy) = found;
    if !fuzzy {
        return Some(found);
    }
    let swallows = (i + 1..i + len).any(|j| {
        lex.best_at(toks, readings, j, 0)
            .is_some_and(|(_, l, _)| j + l > i + len)
    });
    if swallows {
        lex.best_at(toks, readings, i, 0)
    } else {
        Some(found)
    }
}

/// Applies `implies`/`refines`: sharing a custom image makes it a shared one.
fn refine_types(kb: &Knowledge, present: &[bool], mut types: Vec<usize>) -> Vec<usize> {
    for (c, concept) in kb.concepts.iter().enumerate() {
        let Some(implied) = concept.implies else {
            continue;
        };
        if !present[c] {
            continue;
        }
        let refined = types.iter().any(|t| concept.refines.contains(t));
        if refined || types.is_empty() {
            types.retain(|t| !concept.refines.contains(t));
            if !types.contains(&implied) {
                types.push(implied);
            }
        }
    }
    types
}

/// The types the present concepts suggest, in the lexicon's order.
fn suggested_types(kb: &Knowledge, present: &[bool]) -> Vec<usize> {
    let mut out = Vec::new();
    for (c, concept) in kb.concepts.iter().enumerate() {
        if let Some(t) = concept.suggests.filter(|_| present[c]) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// The words of the message a hit matched, as a person reads them.
pub fn surface(a: &Analysis, h: &Hit) -> String {
    let toks = &a.toks[h.start..h.start + h.len];
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Han(c) => s.push(*c),
            Tok::Word(w) => {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(w);
            }
        }
    }
    s
}
