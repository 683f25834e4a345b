//! The knowledge's tiny markup: plain text where a line starting with "- " is
//! a list item and `[label](url)` is a link. Each front end renders it here,
//! in one place, with its own escaping.

/// A piece of a line: text or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span<'a> {
    /// Plain text.
    Text(&'a str),
    /// A link, written `[label](url)`.
    Link {
        /// The text shown for the link.
        label: &'a str,
        /// Where the link goes (an `http` or `https` address).
        url: &'a str,
    },
}

/// Splits a line into text and links. A `[` that does not start a complete
/// `[label](http...)` stays text.
pub fn spans(line: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            let label = &after[..close];
            let tail = &after[close + 2..];
            let end = tail.find(')')?;
            let url = &tail[..end];
            (url.starts_with("http://") || url.starts_with("https://")).then_some((
                label,
                url,
                open + 1 + close + 2 + end + 1,
            ))
        });
        match link {
            Some((label, url, consumed)) => {
                if open > 0 {
                    out.push(Span::Text(&rest[..open]));
                }
                out.push(Span::Link { label, url });
                rest = &rest[consumed..];
            }
            None => {
                out.push(Span::Text(&rest[..open + 1]));
                rest = &rest[open + 1..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Span::Text(rest));
    }
    out
}

/// Plain text: links as "label (url)", list items kept as "- item".
pub fn to_plain(markup: &str) -> String {
    markup
        .lines()
        .map(|line| {
            spans(line)
                .into_iter()
                .map(|s| match s {
                    Span::Text(t) => t.to_string(),
                    Span::Link { label, url } => format!("{label} ({url})"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escapes text for HTML (and Telegram's HTML parse mode).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// HTML with clickable links and "• " bullets, lines joined with `\n`
/// (Telegram's HTML mode keeps newlines; the web page uses `white-space: pre-wrap`).
pub fn to_html(markup: &str) -> String {
    markup
        .lines()
        .map(|line| {
            let (bullet, body) = match line.strip_prefix("- ") {
                Some(b) => ("• ", b),
                None => ("", line),
            };
            let mut s = String::from(bullet);
            for span in spans(body) {
                match span {
                    Span::Text(t) => s.push_str(&escape_html(t)),
                    Span::Link { label, url } => s.push_str(&format!(
                        "<a href=\"{}\">{}</a>",
                        escape_html(url),
                        escape_html(label)
                    )),
                }
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_html() {
        let m = "请 [提交工单](https://x.example/a?b=1&c=2) 报备。\n- 一 <b>&\n[not a link] [x](ftp://y)";
        assert_eq!(
            to_plain(m),
            "请 提交工单 (https://x.example/a?b=1&c=2) 报备。\n- 一 <b>&\n[not a link] [x](ftp://y)"
        );
        assert_eq!(
            to_html(m),
            "请 <a href=\"https://x.example/a?b=1&amp;c=2\">提交工单</a> 报备。\n• 一 &lt;b&gt;&amp;\n[not a link] [x](ftp://y)"
        );
    }

    #[test]
    fn unclosed_brackets_are_text() {
        assert_eq!(to_plain("a [b](https://c"), "a [b](https://c");
        assert_eq!(to_plain("[[x](https://y)"), "[x (https://y)");
    }
}
