//! The lexicon: the knowledge's concept forms, compiled for matching in
//! normalized text, tolerating homophone typos in Chinese and one-letter
//! typos in English.

use crate::normalize::{is_han, normalize};
use pinyin::ToPinyin;
use rust_stemmers::{Algorithm, Stemmer};
// A fast non-cryptographic hash: the keys are our own tokens, not attacker-chosen
// table sizes, and hashing is most of the cost of matching.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// One token: a Chinese character or an English word (stemmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tok {
    /// A Chinese character.
    Han(char),
    /// An English word, stemmed.
    Word(String),
}

/// Common English words that are never "corrected" towards a knowledge word
/// ("will" is not a typo of "bill").
const COMMON_WORDS: &[&str] = &[
    "will", "would", "not", "when", "why", "who", "where", "need", "want", "like", "just", "also",
    "only", "all", "more", "most", "much", "many", "new", "old", "same", "other", "after",
    "before", "then", "than", "too", "very", "still", "yet", "now", "here", "out", "into", "over",
    "does", "done", "make", "made", "help", "work", "works", "know", "tell", "give", "take",
    "look", "said", "says", "good", "well", "best", "better", "been", "were", "was", "had", "his",
    "her", "hers", "him", "she", "one", "two", "each", "every", "both", "such", "these", "those",
    "while", "until", "again", "already", "ever", "never", "always", "sure", "okay", "fine",
    "time", "times", "year", "week", "month", "today", "with", "without", "what", "which", "there",
    "their", "they", "them", "this", "that", "have", "from", "your", "about", "could", "should",
    "please", "thank", "thanks", "hello", "sorry", "right", "left", "true", "false", "next",
    "last", "first", "hour", "file", "files", "data", "mine", "ours", "yours", "want", "wanted",
    "went", "come", "came", "keep",
];

/// How far a form may be from the words that match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fuzz {
    /// Only as written (gaps, vetoes, other products: a false match would decline a good question).
    Exact,
    /// One homophone (收废 -> 收费).
    Homophone,
    /// Homophones for every character of a short form (景象 -> 镜像) or, in
    /// forms of four or more characters, one homophone or any one wrong
    /// character (共亨镜像 -> 共享镜像). For domain words and type names.
    Loose,
}

pub(crate) struct Form {
    /// The form is, or contains, a domain word ("光有镜像" holds 镜像): a
    /// message with it is in the domain even though the form's own concept is not.
    pub(crate) anchoring: bool,
    fuzz: Fuzz,
    toks: Vec<Tok>,
    pub(crate) text: String,
    pub(crate) concepts: Vec<usize>,
    /// Readings of each Han token (empty for words).
    readings: Vec<Reading>,
}

impl Form {
    /// How many homophone substitutions, wrong characters and typos in all
    /// a match of this form may have.
    fn typo_budget(&self) -> (usize, usize, usize) {
        const ANY: usize = usize::MAX;
        match (self.fuzz, self.toks.len()) {
            (Fuzz::Exact, _) | (_, 1) => (0, 0, 0),
            // Whole-word homophones of domain words: 景象 -> 镜像.
            (Fuzz::Loose, 2 | 3) => (ANY, 0, ANY),
            (Fuzz::Loose, _) => (ANY, ANY, 1),
            _ => (1, 0, ANY),
        }
    }
}

/// The compiled lexicon: forms keyed by their first token and, for Chinese
/// forms, by the readings of their first character.
pub struct Lexicon {
    pub(crate) forms: Vec<Form>,
    by_first: HashMap<Tok, Vec<usize>>,
    by_reading: HashMap<&'static str, Vec<usize>>,
    vocab: EnglishVocab,
    stemmer: Stemmer,
    /// The stems of the knowledge's own words, worked out once: most words
    /// of a message are among them, and stemming is costly.
    stems: HashMap<String, String>,
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon")
            .field("forms", &self.forms.len())
            .finish()
    }
}

/// The common reading of a character in pinyin, without tones. Rare
/// readings are left out on purpose: an input-method typo comes from the
/// syllable the user meant, and rare readings would make unrelated
/// characters look alike (台 can be read "si", like 死).
pub fn reading(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// "doesn't" -> ("does", "not"), "what's" -> ("what", "is"): a contraction
/// reads like its long form, whichever way a form or a message spells it.
fn expand_contraction(w: &str) -> (&str, Option<&'static str>) {
    const IS_BEFORE: [&str; 10] = [
        "what", "that", "it", "there", "where", "who", "how", "here", "he", "she",
    ];
    if let Some(base) = w.strip_suffix("n't") {
        let base = match base {
            "ca" => "can",
            "wo" => "will",
            "sha" => "shall",
            b => b,
        };
        return (base, Some("not"));
    }
    for (suffix, long) in [
        ("'re", "are"),
        ("'ll", "will"),
        ("'ve", "have"),
        ("'m", "am"),
        ("'d", "would"),
    ] {
        if let Some(base) = w.strip_suffix(suffix) {
            return (base, Some(long));
        }
    }
    if let Some(base) = w.strip_suffix("'s") {
        if IS_BEFORE.contains(&base) {
            return (base, Some("is"));
        }
        return (base, None);
    }
    (w, None)
}

/// A token's reading: a Chinese character's common pinyin, none for a word.
pub type Reading = Option<&'static str>;

/// Two readings sound alike (words and unknown characters sound like nothing).
fn homophones(a: Reading, b: Reading) -> bool {
    a.is_some() && a == b
}

/// The reading of each token.
pub fn token_readings(toks: &[Tok]) -> Vec<Reading> {
    toks.iter()
        .map(|t| match t {
            Tok::Han(c) => reading(*c),
            Tok::Word(_) => None,
        })
        .collect()
}

impl Lexicon {
    /// Builds the lexicon from (form, concept) pairs and the English words
    /// the knowledge uses (the vocabulary typos are corrected towards).
    ///
    /// `targets` are the English words a typo may be corrected to; `known`
    /// words are never corrected but are no target either (the words of
    /// vetoes and other products: "ping" must not become "png").
    /// `is_anchor` says which concepts place a message in the domain.
    pub fn build<'a>(
        pairs: impl IntoIterator<Item = (&'a str, usize, Fuzz)>,
        targets: impl IntoIterator<Item = String>,
        known: impl IntoIterator<Item = String>,
        is_anchor: impl Fn(usize) -> bool,
    ) -> Lexicon {
        let stemmer = Stemmer::create(Algorithm::English);
        let vocab = EnglishVocab::build(targets, known, &stemmer);
        let mut lex = Lexicon {
            forms: Vec::new(),
            by_first: HashMap::default(),
            by_reading: HashMap::default(),
            vocab,
            stemmer,
            stems: HashMap::default(),
        };
        let words = lex.vocab.known.iter().map(String::as_str);
        lex.stems = words
            .chain(COMMON_WORDS.iter().copied())
            .map(|w| (w.to_string(), lex.stemmer.stem(w).into_owned()))
            .collect();
        let mut seen: HashMap<Vec<Tok>, usize> = HashMap::default();
        for (form, concept, fuzz) in pairs {
            let toks = lex.tokenize(&normalize(form).text, false);
            if toks.is_empty() {
                continue;
            }
            if let Some(&i) = seen.get(&toks) {
                lex.forms[i].fuzz = lex.forms[i].fuzz.min(fuzz);
                if !lex.forms[i].concepts.contains(&concept) {
                    lex.forms[i].concepts.push(concept);
                }
                continue;
            }
            let readings = token_readings(&toks);
            let i = lex.forms.len();
            seen.insert(toks.clone(), i);
            lex.by_first.entry(toks[0].clone()).or_default().push(i);
            if toks.len() >= 2 && matches!(toks[0], Tok::Han(_)) {
                if let Some(r) = readings[0] {
                    lex.by_reading.entry(r).or_default().push(i);
                }
            }
            lex.forms.push(Form {
                anchoring: false,
                fuzz,
                toks,
                text: form.to_string(),
                concepts: vec![concept],
                readings,
            });
        }
        let anchors: Vec<Vec<Tok>> = lex
            .forms
            .iter()
            .filter(|f| f.concepts.iter().any(|&c| is_anchor(c)))
            .map(|f| f.toks.clone())
            .collect();
        for f in &mut lex.forms {
            f.anchoring = f.concepts.iter().any(|&c| is_anchor(c))
                || anchors.iter().any(|a| {
                    a.len() < f.toks.len() && f.toks.windows(a.len()).any(|w| w == a.as_slice())
                });
        }
        lex
    }

    /// Splits normalized text into tokens; with `correct`, English words
    /// outside the vocabulary are corrected to a known word one edit away.
    pub fn tokenize(&self, text: &str, correct: bool) -> Vec<Tok> {
        let mut out = Vec::new();
        let mut word = String::new();
        for c in text.chars() {
            if is_han(c) {
                self.flush(&mut word, correct, &mut out);
                out.push(Tok::Han(c));
            } else if c.is_alphanumeric() || c == '\'' {
                word.push(c);
            } else {
                self.flush(&mut word, correct, &mut out);
            }
        }
        self.flush(&mut word, correct, &mut out);
        out
    }

    fn flush(&self, word: &mut String, correct: bool, out: &mut Vec<Tok>) {
        let w = word.trim_matches('\'');
        let (w, tail) = expand_contraction(w);
        if !w.is_empty() {
            let fixed = if correct {
                self.vocab.correct(w, &self.stemmer)
            } else {
                None
            };
            let w = fixed.as_deref().unwrap_or(w);
            out.push(Tok::Word(self.stem(w)));
        }
        if let Some(t) = tail {
            out.push(Tok::Word(t.to_string()));
        }
        word.clear();
    }

    fn stem(&self, w: &str) -> String {
        if let Some(s) = self.stems.get(w) {
            return s.clone();
        }
        if w.bytes().all(|b| b.is_ascii_alphabetic() || b == b'\'') {
            self.stemmer.stem(w).into_owned()
        } else {
            w.to_string()
        }
    }

    /// A form as written in the lexicon.
    pub fn form_text(&self, f: usize) -> &str {
        &self.forms[f].text
    }

    /// The concepts a form says.
    pub fn form_concepts(&self, f: usize) -> &[usize] {
        &self.forms[f].concepts
    }

    /// The best form starting at `i` with at most `max_typos` typos: the
    /// longest, then the fewest typos.
    pub(crate) fn best_at(
        &self,
        toks: &[Tok],
        han_readings: &[Reading],
        i: usize,
        max_typos: usize,
    ) -> Option<(usize, usize, bool)> {
        let mut best: Option<(usize, usize, usize)> = None; // (form, len, typos)
        let mut consider = |f: usize| {
            let form = &self.forms[f];
            let len = form.toks.len();
            if i + len > toks.len() {
                return;
            }
            let (max_subst, max_miss, budget) = form.typo_budget();
            let max_typos = budget.min(max_typos);
            let mut subst = 0;
            let mut miss = 0;
            for (k, ft) in form.toks.iter().enumerate() {
                let t = &toks[i + k];
                if t == ft {
                    continue;
                }
                match (t, ft) {
                    (Tok::Han(_), Tok::Han(_))
                        if homophones(han_readings[i + k], form.readings[k]) =>
                    {
                        subst += 1
                    }
                    (Tok::Han(_), Tok::Han(_)) if k > 0 => miss += 1,
                    _ => return,
                }
                // Typos only add up: stop as soon as the form cannot match.
                if subst > max_subst || miss > max_miss || subst + miss > max_typos {
                    return;
                }
            }
            let typos = subst + miss;
            let better = match best {
                None => true,
                Some((_, bl, bt)) => len > bl || (len == bl && typos < bt),
            };
            if better {
                best = Some((f, len, typos));
            }
        };
        if let Some(list) = self.by_first.get(&toks[i]) {
            list.iter().for_each(|&f| consider(f));
        }
        if matches!(toks[i], Tok::Han(_)) {
            if let Some(list) = han_readings[i].and_then(|r| self.by_reading.get(r)) {
                // Forms that start with this very character were considered above.
                list.iter()
                    .filter(|&&f| self.forms[f].toks[0] != toks[i])
                    .for_each(|&f| consider(f));
            }
        }
        best.map(|(f, len, typos)| (f, len, typos > 0))
    }
}

/// The English words of the knowledge, and a deletion index (SymSpell) to find
/// a known word one edit (insertion, deletion, substitution, transposition)
/// away without scanning the vocabulary.
struct EnglishVocab {
    words: Vec<String>,
    known: HashSet<String>,
    stems: HashSet<String>,
    deletes: HashMap<String, Vec<usize>>,
}

fn is_transposition(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2
        && diff[1] == diff[0] + 1
        && a[diff[0]] == b[diff[1]]
        && a[diff[1]] == b[diff[0]]
}

fn deletions(w: &str) -> Vec<String> {
    let chars: Vec<char> = w.chars().collect();
    (0..chars.len())
        .map(|skip| {
            chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| *c)
                .collect()
        })
        .collect()
}

impl EnglishVocab {
    fn build(
        words: impl IntoIterator<Item = String>,
        known: impl IntoIterator<Item = String>,
        stemmer: &Stemmer,
    ) -> EnglishVocab {
        let mut v = EnglishVocab {
            words: Vec::new(),
            known: HashSet::default(),
            stems: HashSet::default(),
            deletes: HashMap::default(),
        };
        for w in known {
            v.stems.insert(stemmer.stem(&w).into_owned());
            v.known.insert(w);
        }
        for w in words {
            if w.len() < 3
                || !w.bytes().all(|b| b.is_ascii_lowercase())
                || v.deletes.contains_key(&w)
            {
                continue;
            }
            let i = v.words.len();
            v.stems.insert(stemmer.stem(&w).into_owned());
            for d in deletions(&w) {
                v.deletes.entry(d).or_default().push(i);
            }
            v.deletes.entry(w.clone()).or_default().push(i);
            v.known.insert(w.clone());
            v.words.push(w);
        }
        v
    }

    /// A known word one edit from `w`, when `w` itself is unknown.
    fn correct(&self, w: &str, stemmer: &Stemmer) -> Option<String> {
        if w.len() < 4
            || !w.bytes().all(|b| b.is_ascii_lowercase())
            || self.known.contains(w)
            || COMMON_WORDS.contains(&w)
        {
            return None;
        }
        if self.stems.contains(stemmer.stem(w).as_ref()) {
            return None;
        }
        let mut best: Option<(usize, &str)> = None;
        let mut probe = |key: &str| {
            if let Some(list) = self.deletes.get(key) {
                for &i in list {
                    let cand = self.words[i].as_str();
                    let d = strsim::damerau_levenshtein(w, cand);
                    // Four letters leave too little to tell a typo from another
                    // word ("site" is not "size"): only a swap of two letters.
                    if w.len() == 4 && !is_transposition(w, cand) {
                        continue;
                    }
                    if d == 1 && best.is_none_or(|(bd, bw)| d < bd || (d == bd && cand < bw)) {
                        best = Some((d, cand));
                    }
                }
            }
        };
        probe(w);
        for d in deletions(w) {
            probe(&d);
        }
        best.map(|(_, c)| c.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        Lexicon::build(
            [
                ("收费", 0, Fuzz::Homophone),
                ("自定义镜像", 1, Fuzz::Loose),
                ("镜像", 2, Fuzz::Homophone),
                ("共享镜像", 3, Fuzz::Loose),
                ("custom image", 1, Fuzz::Loose),
                ("what is", 4, Fuzz::Homophone),
                ("为什么要用", 5, Fuzz::Homophone),
                ("体积", 6, Fuzz::Exact),
            ],
            ["custom", "image", "what", "sharing", "marketplace", "size"].map(String::from),
            ["png".to_string()],
            |c| c == 2,
        )
    }

    fn first_hit(l: &Lexicon, text: &str) -> Option<(String, bool)> {
        let toks = l.tokenize(&normalize(text).text, true);
        let rd = token_readings(&toks);
        (0..toks.len())
            .find_map(|i| l.best_at(&toks, &rd, i, usize::MAX))
            .map(|(f, _, fz)| (l.forms[f].text.clone(), fz))
    }

    #[test]
    fn typos_table() {
        let l = lex();
        let cases = [
            ("收费", Some(("收费", false))),
            ("收废", Some(("收费", true))),
            ("自定议镜像", Some(("自定义镜像", true))),
            ("共亨镜像", Some(("共享镜像", true))),
            ("镜象", Some(("镜像", true))),
            ("custon imgae", Some(("custom image", false))),
            ("waht is", Some(("what is", false))),
            ("天气", None),
            ("为什么使用", None),
            ("体指", None),
            ("what's", Some(("what is", false))),
        ];
        for (text, want) in cases {
            let got = first_hit(&l, text);
            assert_eq!(got.as_ref().map(|(f, z)| (f.as_str(), *z)), want, "{text}");
        }
    }

    #[test]
    fn english_correction_needs_one_edit() {
        let l = lex();
        let s = Stemmer::create(Algorithm::English);
        assert_eq!(
            l.vocab.correct("marketplce", &s).as_deref(),
            Some("marketplace")
        );
        // Already the stem of a known word: left to the stemmer.
        assert_eq!(l.vocab.correct("shareing", &s), None);
        assert_eq!(
            l.tokenize("shareing", true),
            vec![Tok::Word("share".into())]
        );
        assert_eq!(
            l.vocab.correct("will", &s),
            None,
            "common words are never corrected"
        );
        assert_eq!(l.vocab.correct("zzzz", &s), None);
        assert_eq!(
            l.vocab.correct("site", &s),
            None,
            "four letters: only swaps"
        );
        assert_eq!(l.vocab.correct("waht", &s).as_deref(), Some("what"));
        assert_eq!(
            l.vocab.correct("ping", &s),
            None,
            "never towards a known-only word"
        );
        assert_eq!(l.vocab.correct("images", &s), None);
    }
}
