//! The literal words of all rules, found in a message in one pass.

use aho_corasick::AhoCorasick;

/// The literal words of all rules, compiled into one automaton.
#[derive(Debug, Default)]
pub struct Literals {
    automaton: Option<AhoCorasick>,
}

impl Literals {
    /// Compiles the words (numbered by their position).
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
