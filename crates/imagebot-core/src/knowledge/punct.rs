//! English text without Chinese (full-width) punctuation: "product page:
//! online service", not "product page：online service". A full-width mark
//! is allowed only inside Chinese, next to a Chinese character (a quoted
//! 「镜像类型」 keeps its own marks).

use super::position::line_column;
use crate::normalize::is_han;
use regex::Regex;
use std::sync::LazyLock;

/// CJK symbols and punctuation (U+3000–U+303F: 。、「」…) and the
/// half-width and full-width forms (U+FF00–U+FFEF: ，：；（）…).
pub fn is_fullwidth_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
}

/// The byte offset and character of the first full-width mark in an English
/// text that is not part of Chinese (its nearest neighbour on neither side,
/// spaces skipped, is a Chinese character).
pub fn fullwidth_in_english(text: &str) -> Option<(usize, char)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let neighbour_is_han = |range: &mut dyn Iterator<Item = &(usize, char)>| {
        range
            .map(|&(_, c)| c)
            .find(|c| !c.is_whitespace() && !is_fullwidth_punct(*c))
            .is_some_and(is_han)
    };
    chars.iter().enumerate().find_map(|(i, &(at, c))| {
        let chinese = neighbour_is_han(&mut chars[..i].iter().rev())
            || neighbour_is_han(&mut chars[i + 1..].iter());
        (is_fullwidth_punct(c) && !chinese).then_some((at, c))
    })
}

/// An `en` key's value in a TOML file: where its string starts.
static EN_KEY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?m)(?:^|[{,\s])en\s*=\s*("""|'''|"|')"#).ok());

/// Every full-width mark in an `en` string of a TOML file: its place
/// ("line L, column C") and the mark.
pub fn fullwidth_in_en_values(toml_text: &str) -> Vec<(String, char)> {
    let Some(re) = EN_KEY.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(toml_text) {
        let Some(quote) = caps.get(1) else { continue };
        let start = quote.end();
        let end = string_end(toml_text, start, quote.as_str());
        let value = &toml_text[start..end];
        if let Some((at, c)) = fullwidth_in_english(value) {
            out.push((line_column(toml_text, start + at), c));
        }
    }
    out
}

/// Where a TOML string opened by `quote` at `start` ends (a basic string's
/// escaped quotes skipped); the end of the text when it is not closed.
fn string_end(text: &str, start: usize, quote: &str) -> usize {
    let rest = &text[start..];
    let found = match quote {
        "\"" => {
            let mut escaped = false;
            rest.char_indices().find_map(|(i, c)| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end.then_some(i)
            })
        }
        _ => rest.find(quote),
    };
    start + found.unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_text_table() {
        for (text, bad) in [
            ("product page: online service / phone / email;", None),
            ("product page：online service / phone / email；", Some('：')),
            ("Images (public, custom)", None),
            ("Images （public）", Some('（')),
            ("the FAQ's 「镜像类型」 table", None),
            ("called 镜像。", None),
            ("Hello。", Some('。')),
            ("“curly quotes” are English too", None),
            ("", None),
        ] {
            assert_eq!(fullwidth_in_english(text).map(|(_, c)| c), bad, "{text}");
        }
    }

    #[test]
    fn finds_marks_in_en_values_with_their_place() {
        let toml = "a = { zh = \"镜像：是\", en = \"Image：yes\" }\n\
                    [b]\nzh = \"好。\"\nen = \"\"\"\nOK。\n\"\"\"\n\
                    c = { en = \"say \\\"hi\\\"，\", zh = \"x\" }\n\
                    d = { en = 'fine', zh = '（）' }\n";
        let found = fullwidth_in_en_values(toml);
        assert_eq!(
            found,
            [
                ("line 1, column 31".to_string(), '：'),
                ("line 5, column 3".to_string(), '。'),
                ("line 7, column 23".to_string(), '，'),
            ]
        );
    }
}
