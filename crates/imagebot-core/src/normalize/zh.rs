//! Traditional -> Simplified Chinese, one character at a time, from a table
//! derived from OpenCC (Apache-2.0; see OPENCC-NOTICE.md), for matching only:
//! both the query and the knowledge go through the same mapping, and one
//! character to one keeps a map back to what was typed. Replies in
//! Traditional are converted at phrase level by [`crate::hant`].

use rustc_hash::FxHashMap as HashMap;
use std::sync::LazyLock;

static T2S: LazyLock<HashMap<char, char>> = LazyLock::new(|| parse(include_str!("t2s.txt")));

fn parse(table: &str) -> HashMap<char, char> {
    table
        .lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            let from = parts.next()?.chars().next()?;
            let to = parts.next()?.chars().next()?;
            Some((from, to))
        })
        .collect()
}

/// The Simplified form of a character, or the character itself.
pub fn to_simplified_char(c: char) -> char {
    if (c as u32) < 0x3400 {
        return c;
    }
    T2S.get(&c).copied().unwrap_or(c)
}

/// True when the text holds at least one Traditional-only character.
pub fn has_traditional(text: &str) -> bool {
    text.chars().any(|c| to_simplified_char(c) != c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_faq_words() {
        for (t, s) in [
            ("鏡像", "镜像"),
            ("計費", "计费"),
            ("自訂", "自订"),
            ("匯入", "汇入"),
            ("幾次", "几次"),
        ] {
            let got: String = t.chars().map(to_simplified_char).collect();
            assert_eq!(got, s);
        }
        assert!(has_traditional("共享鏡像"));
        assert!(!has_traditional("共享镜像"));
    }
}
