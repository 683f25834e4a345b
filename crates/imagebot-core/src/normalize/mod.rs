//! Text normalization: an ordered pipeline of small steps, each a pure
//! function over one character or the whole string, so every step can be
//! tested on its own and a query and a knowledge phrasing go through exactly
//! the same path.

mod zh;

pub use zh::{has_traditional, to_simplified_char};

/// Messages are cut to this many characters before matching: a FAQ question
/// is short, and the cap keeps the cost of any input bounded.
pub const MAX_CHARS: usize = 1000;

/// The result of normalizing one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// Lower case, half-width, Simplified, punctuation as single spaces,
    /// no spaces next to Chinese characters.
    pub text: String,
    /// The message contained Traditional characters.
    pub traditional: bool,
    /// The message contained Chinese characters.
    pub han: bool,
    /// The message was longer than [`MAX_CHARS`] and was cut.
    pub truncated: bool,
}

/// One character step: a character to one character, or `None` to drop it.
#[derive(Clone, Copy)]
pub struct CharStep {
    /// The step's name, for tests and explanations.
    pub name: &'static str,
    /// What it does to one character.
    pub apply: fn(char) -> Option<char>,
}

/// The character steps every reading of a message shares, in order:
/// full-width to half-width, invisible characters dropped, Traditional to
/// Simplified. Each maps one character to at most one, so a folded text
/// keeps a map back to the characters the user typed ([`Folded::origin`]).
pub const FOLD_STEPS: [CharStep; 3] = [
    CharStep {
        name: "width",
        apply: |c| Some(fold_width(c)),
    },
    CharStep {
        name: "invisible",
        apply: |c| (!is_invisible(c)).then_some(c),
    },
    CharStep {
        name: "script",
        apply: |c| Some(to_simplified_char(c)),
    },
];

/// Applies [`FOLD_STEPS`] to one character.
pub fn fold_char(c: char) -> Option<char> {
    FOLD_STEPS.iter().try_fold(c, |c, step| (step.apply)(c))
}

/// A text after [`FOLD_STEPS`], with where each character came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The folded characters.
    pub chars: Vec<char>,
    /// For each folded character, its index among the input's characters.
    pub origin: Vec<usize>,
}

/// Folds the first `max_chars` characters of a text.
pub fn fold(input: &str, max_chars: usize) -> Folded {
    let mut out = Folded {
        chars: Vec::new(),
        origin: Vec::new(),
    };
    for (i, c) in input.chars().take(max_chars).enumerate() {
        if let Some(f) = fold_char(c) {
            out.chars.push(f);
            out.origin.push(i);
        }
    }
    out
}

/// Runs the whole pipeline for matching: [`FOLD_STEPS`], then typographic
/// apostrophes to `'`, punctuation, symbols and emoji to single spaces, no
/// space next to a Chinese character, lower case.
pub fn normalize(input: &str) -> Normalized {
    let truncated = input.chars().nth(MAX_CHARS).is_some();
    let mut out = String::with_capacity(input.len().min(MAX_CHARS * 4));
    let mut traditional = false;
    let mut han = false;
    let mut pending_space = false;
    let mut last: Option<char> = None;
    for c in input.chars().take(MAX_CHARS) {
        let Some(folded) = fold_char(c) else {
            continue;
        };
        // The script step changed it: the message has Traditional characters.
        traditional |= folded != fold_width(c);
        let c = fold_apostrophe(folded);
        if is_separator(c) {
            pending_space = last.is_some();
            continue;
        }
        if is_han(c) {
            han = true;
        }
        // Chinese is written without spaces: drop a space that touches a Han
        // character, so "docker 镜像" and "docker镜像" read the same.
        if pending_space && !is_han(c) && !last.is_some_and(is_han) {
            out.push(' ');
        }
        pending_space = false;
        for l in c.to_lowercase() {
            out.push(l);
        }
        last = Some(c);
    }
    Normalized {
        text: out,
        traditional,
        han,
        truncated,
    }
}

/// Full-width ASCII (Ａ, ？, ０) and the ideographic space to their
/// half-width forms.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Typographic apostrophes to the ASCII one, so "what’s" reads as "what's".
pub fn fold_apostrophe(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' => '\'',
        _ => c,
    }
}

/// Characters that carry no meaning for matching: controls, zero-width
/// joiners and marks, direction marks, variation selectors, combining marks.
pub fn is_invisible(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}'
            | '\u{0300}'..='\u{036F}' | '\u{00AD}' | '\u{E0020}'..='\u{E007F}')
}

/// Whitespace, punctuation, symbols and emoji separate words.
pub fn is_separator(c: char) -> bool {
    if c == '\'' {
        return false;
    }
    !(c.is_alphanumeric() || is_han(c))
}

/// CJK ideographs (the unified blocks and their extensions).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}' | '\u{2A700}'..='\u{2EBEF}' | '\u{30000}'..='\u{3134F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_table() {
        let cases = [
            ("什么是镜像？", "什么是镜像"),
            ("  What IS an   Image?? ", "what is an image"),
            ("ｉｍａｇｅ　ＦＡＱ", "image faq"),
            ("什麼是共享鏡像", "什么是共享镜像"),
            ("docker 镜像", "docker镜像"),
            ("镜像\u{200B}收费", "镜像收费"),
            ("自定义镜像😀最多", "自定义镜像最多"),
            ("what’s <b>this</b>", "what's b this b"),
            ("Linux public image 要钱吗", "linux public image要钱吗"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).text, want, "input {input:?}");
        }
    }

    #[test]
    fn flags() {
        let n = normalize("鏡像如何計費");
        assert!(n.traditional && n.han && !n.truncated);
        let n = normalize("how much");
        assert!(!n.traditional && !n.han);
        let long = "镜".repeat(MAX_CHARS + 5);
        let n = normalize(&long);
        assert!(n.truncated);
        assert_eq!(n.text.chars().count(), MAX_CHARS);
    }

    /// Each character step on its own.
    #[test]
    fn fold_steps_table() {
        let step = |name: &str| FOLD_STEPS.iter().find(|s| s.name == name).unwrap().apply;
        for (name, input, want) in [
            ("width", 'Ａ', Some('A')),
            ("width", '\u{3000}', Some(' ')),
            ("width", '镜', Some('镜')),
            ("invisible", '\u{200B}', None),
            ("invisible", '\u{202E}', None),
            ("invisible", '\n', Some('\n')),
            ("invisible", 'a', Some('a')),
            ("script", '鏡', Some('镜')),
            ("script", '像', Some('像')),
            ("script", 'A', Some('A')),
        ] {
            assert_eq!(step(name)(input), want, "{name} {input:?}");
        }
        let names: Vec<&str> = FOLD_STEPS.iter().map(|s| s.name).collect();
        assert_eq!(names, ["width", "invisible", "script"]);
    }

    #[test]
    fn folded_text_maps_back_to_what_was_typed() {
        let f = fold("鏡\u{200B}像ＩＤ", 100);
        assert_eq!(f.chars, ['镜', '像', 'I', 'D']);
        assert_eq!(f.origin, [0, 2, 3, 4]);
        assert_eq!(fold("abc", 2).chars, ['a', 'b']);
    }

    #[test]
    fn width_and_invisible() {
        assert_eq!(fold_width('Ａ'), 'A');
        assert_eq!(fold_width('？'), '?');
        assert!(is_invisible('\u{200D}'));
        assert!(is_invisible('\u{202E}'));
        assert!(!is_invisible('a'));
    }
}
