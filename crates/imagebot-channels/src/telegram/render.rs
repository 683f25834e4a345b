//! Replies as Telegram messages: HTML parse mode with everything escaped,
//! split under Telegram's 4,096-character limit at line boundaries, and the
//! inline keyboards (suggestions, the image-type choice, the ticket link).
//!
//! Pure functions: no I/O, so escaping and splitting are unit-tested here
//! (the mock Bot API server checks neither).

use super::texts::{texts, Texts};
use imagebot_core::knowledge::RouteKind;
use imagebot_core::labels::LABELS;
use imagebot_core::markup::{escape_html, to_html};
use imagebot_core::reply::{Lang, Reply, ReplyKind, Route};
use imagebot_core::Assistant;
use std::borrow::Cow;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Telegram's limit on a message's text. Counted here in UTF-16 code units
/// of the HTML source, which is never shorter than the text Telegram counts
/// after parsing the entities, so a chunk under it is always accepted.
pub const MAX_MESSAGE_LEN: usize = 4096;

/// Telegram's limit on a button's `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// One message to send: HTML chunks (each under the limit, sent in order)
/// and the keyboard that goes under the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub chunks: Vec<String>,
    pub keyboard: Option<InlineKeyboardMarkup>,
}

impl Outgoing {
    /// HTML lines, split into chunks.
    pub fn new(lines: &[String], keyboard: Option<InlineKeyboardMarkup>) -> Outgoing {
        let mut chunks = split_html(lines, MAX_MESSAGE_LEN);
        if chunks.is_empty() {
            // Telegram refuses empty messages.
            chunks.push("…".to_string());
        }
        Outgoing { chunks, keyboard }
    }
}

/// What a button press asks for. Carried in `callback_data` as short ids,
/// never as text: `a:<lang>:<topic id>` or `t:<lang>:<image type id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ask a topic's question.
    Ask { topic: String, lang: Lang },
    /// Answer "which kind of image?" with an image type.
    Type { id: String, lang: Lang },
}

impl Action {
    /// The `callback_data`, or `None` when it would not fit in 64 bytes.
    pub fn encode(&self) -> Option<String> {
        let s = match self {
            Action::Ask { topic, lang } => format!("a:{}:{topic}", lang.code()),
            Action::Type { id, lang } => format!("t:{}:{id}", lang.code()),
        };
        (s.len() <= MAX_CALLBACK_DATA).then_some(s)
    }

    /// Reads `callback_data`; anything else (old or forged buttons) is `None`.
    pub fn decode(data: &str) -> Option<Action> {
        let mut parts = data.splitn(3, ':');
        let kind = parts.next()?;
        let lang = Lang::parse(parts.next()?)?;
        let id = parts.next()?;
        if id.is_empty() || id.len() > MAX_CALLBACK_DATA {
            return None;
        }
        match kind {
            "a" => Some(Action::Ask {
                topic: id.to_string(),
                lang,
            }),
            "t" => Some(Action::Type {
                id: id.to_string(),
                lang,
            }),
            _ => None,
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The name of an image type on a button ("服务市场镜像", "Marketplace images").
pub fn type_label(kb: &Assistant, id: &str, lang: Lang) -> String {
    match kb.kb.type_index(id) {
        Some(i) => capitalized(&lang.pick(&kb.kb.types[i].name)),
        None => id.to_string(),
    }
}

fn callback_button(label: &str, action: &Action) -> Option<InlineKeyboardButton> {
    Some(InlineKeyboardButton::callback(label, action.encode()?))
}

fn url_button(label: &str, url: &str) -> Option<InlineKeyboardButton> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| InlineKeyboardButton::url(label, url))
}

fn keyboard(rows: Vec<Vec<InlineKeyboardButton>>) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<_> = rows.into_iter().filter(|r| !r.is_empty()).collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// Every topic's question as a button, one a row.
pub fn topic_buttons(kb: &Assistant, lang: Lang) -> Vec<Vec<InlineKeyboardButton>> {
    buttons_for(kb, lang, 0..kb.kb.topics.len())
}

/// `/start`'s buttons: the curated questions of `bot.toml`, most asked
/// first (every topic when the knowledge lists none).
pub fn start_buttons(kb: &Assistant, lang: Lang) -> Vec<Vec<InlineKeyboardButton>> {
    if kb.kb.suggested.is_empty() {
        return topic_buttons(kb, lang);
    }
    buttons_for(kb, lang, kb.kb.suggested.iter().copied())
}

fn buttons_for(
    kb: &Assistant,
    lang: Lang,
    topics: impl Iterator<Item = usize>,
) -> Vec<Vec<InlineKeyboardButton>> {
    topics
        .filter_map(|i| kb.kb.topics.get(i))
        .filter_map(|t| {
            let action = Action::Ask {
                topic: t.id.clone(),
                lang,
            };
            callback_button(&lang.pick(&t.question), &action).map(|b| vec![b])
        })
        .collect()
}

fn ticket_button(kb: &Assistant, lang: Lang) -> Option<InlineKeyboardButton> {
    url_button(
        &capitalized(&lang.pick(&kb.kb.routes.ticket_label)),
        &kb.kb.routes.ticket_url,
    )
}

/// A reply from the engine. `header` (a question picked with a button) is
/// shown in bold first, so the chat reads as question and answer.
pub fn reply(kb: &Assistant, reply: &Reply, header: Option<&str>) -> Outgoing {
    let mut lines = Vec::new();
    if let Some(h) = header {
        lines.push(format!("<b>{}</b>", escape_html(h)));
    }
    if reply.markup.trim().is_empty() {
        lines.extend(reply.text.lines().map(escape_html));
    } else {
        lines.extend(markup_lines(&reply.markup));
    }
    if let Some(ticket) = &reply.ticket_draft {
        // One element over several lines, kept whole when split: a block to copy.
        lines.push(String::new());
        lines.push(format!("<pre>{}</pre>", escape_html(ticket)));
    }
    let mut rows = Vec::new();
    match &reply.route {
        Some(Route::Clarify { options }) => {
            // The choice alone, two a row: the next press continues the problem report.
            let buttons: Vec<_> = options
                .iter()
                .filter_map(|id| {
                    let action = Action::Type {
                        id: id.clone(),
                        lang: reply.lang,
                    };
                    callback_button(&type_label(kb, id, reply.lang), &action)
                })
                .collect();
            rows.extend(buttons.chunks(2).map(<[_]>::to_vec));
        }
        route => {
            for (q, topic) in reply.suggestions.iter().zip(&reply.suggestion_topics) {
                let action = Action::Ask {
                    topic: topic.clone(),
                    lang: reply.lang,
                };
                if let Some(b) = callback_button(q, &action) {
                    rows.push(vec![b]);
                }
            }
            let introduced = matches!(
                reply.kind,
                ReplyKind::Decline | ReplyKind::Unsure | ReplyKind::Greeting
            );
            if !rows.is_empty() && !introduced {
                lines.push(String::new());
                lines.push(format!(
                    "<i>{}</i>",
                    escape_html(&reply.lang.pick(&LABELS.related))
                ));
            }
            if let Some(Route::Ticket { url }) = route {
                let label = capitalized(&reply.lang.pick(&kb.kb.routes.ticket_label));
                if let Some(b) = url_button(&label, url) {
                    rows.insert(0, vec![b]);
                }
            }
        }
    }
    Outgoing::new(&lines, keyboard(rows))
}

/// `/start`: the greeting and every topic as a button.
pub fn start(kb: &Assistant, lang: Lang) -> Outgoing {
    let greeting = lang.pick(&kb.kb.messages.greeting);
    Outgoing::new(&[escape_html(&greeting)], keyboard(start_buttons(kb, lang)))
}

/// `/topics`: every topic as a button.
pub fn topics(kb: &Assistant, lang: Lang) -> Outgoing {
    Outgoing::new(
        &[escape_html(texts(lang).topics_intro)],
        keyboard(topic_buttons(kb, lang)),
    )
}

/// `/help`: what the bot does, its commands, and how to use it in a group.
pub fn help(lang: Lang, bot_username: Option<&str>) -> Outgoing {
    let t = texts(lang);
    let mut lines = vec![escape_html(t.help_intro), String::new()];
    lines.extend(t.help_commands.lines().map(escape_html));
    if let Some(name) = bot_username {
        lines.push(String::new());
        lines.push(escape_html(&t.help_groups.replace("{bot}", name)));
    }
    Outgoing::new(&lines, None)
}

/// `/ticket`: where people with a problem get a person's help, per image type.
pub fn ticket(kb: &Assistant, lang: Lang) -> Outgoing {
    let t: &Texts = texts(lang);
    let names = |kind: RouteKind| {
        let names: Vec<Cow<str>> = kb
            .kb
            .types
            .iter()
            .filter(|ty| ty.route == kind)
            .map(|ty| lang.pick(&ty.name))
            .collect();
        capitalized(&names.join(t.list_sep))
    };
    let link = format!(
        "<a href=\"{}\">{}</a>",
        escape_html(&kb.kb.routes.ticket_url),
        escape_html(&lang.pick(&kb.kb.routes.ticket_label))
    );
    let mut lines = vec![escape_html(t.ticket_intro)];
    let ticket_types = names(RouteKind::Ticket);
    if !ticket_types.is_empty() {
        lines.push(format!(
            "• {}",
            escape_html(t.ticket_line)
                .replace("{types}", &escape_html(&ticket_types))
                .replace("{link}", &link)
        ));
    }
    let vendor_types = names(RouteKind::Vendor);
    if !vendor_types.is_empty() {
        lines.push(format!(
            "• {}",
            escape_html(t.vendor_line)
                .replace("{types}", &escape_html(&vendor_types))
                .replace(
                    "{vendor}",
                    &escape_html(&lang.pick(&kb.kb.routes.vendor_text))
                )
        ));
    }
    Outgoing::new(
        &lines,
        keyboard(vec![ticket_button(kb, lang).into_iter().collect()]),
    )
}

/// Plain sentences (already in the right language), escaped.
pub fn plain(text: &str) -> Outgoing {
    Outgoing::new(&text.lines().map(escape_html).collect::<Vec<_>>(), None)
}

/// The knowledge's markup as Telegram HTML, one string a line.
pub fn markup_lines(markup: &str) -> Vec<String> {
    markup.lines().map(to_html).collect()
}

/// Length as Telegram counts it (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Joins HTML lines into messages of at most `limit` (UTF-16 units), cutting
/// only between lines. A single line longer than the limit is cut between
/// characters, never inside a tag, an element (a link stays whole) or an
/// entity (`&amp;`).
pub fn split_html(lines: &[String], limit: usize) -> Vec<String> {
    let limit = limit.max(16);
    let mut chunks = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    let flush = |cur: &mut String, cur_len: &mut usize, chunks: &mut Vec<String>| {
        let done = std::mem::take(cur);
        *cur_len = 0;
        if !done.trim().is_empty() {
            chunks.push(done.trim_matches('\n').to_string());
        }
    };
    for line in lines {
        let len = utf16_len(line);
        let sep = usize::from(!cur.is_empty() || cur_len > 0);
        if cur_len + sep + len <= limit {
            if sep == 1 {
                cur.push('\n');
            }
            cur.push_str(line);
            cur_len += sep + len;
            continue;
        }
        flush(&mut cur, &mut cur_len, &mut chunks);
        if len <= limit {
            cur.push_str(line);
            cur_len = len;
            continue;
        }
        // One overlong line: pack its atoms.
        for atom in atoms(line, limit) {
            let a = utf16_len(&atom);
            if cur_len + a > limit {
                flush(&mut cur, &mut cur_len, &mut chunks);
            }
            cur.push_str(&atom);
            cur_len += a;
        }
    }
    flush(&mut cur, &mut cur_len, &mut chunks);
    chunks
}

/// The pieces of one HTML line that must not be cut: an element from its
/// opening to its closing tag, an entity, or one character. An element
/// longer than `limit` loses its tags and is cut like text.
fn atoms(line: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let take = match c {
            '<' => element_len(rest).unwrap_or(1),
            '&' => entity_len(rest).unwrap_or(1),
            _ => c.len_utf8(),
        };
        let (atom, tail) = rest.split_at(take);
        if utf16_len(atom) > limit && atom.starts_with('<') {
            out.extend(atoms(&strip_tags(atom), limit));
        } else {
            out.push(atom.to_string());
        }
        rest = tail;
    }
    out
}

/// Bytes from an opening tag to the end of its closing tag.
fn element_len(s: &str) -> Option<usize> {
    let end = s.find('>')?;
    let tag = &s[1..end];
    if tag.starts_with('/') {
        return Some(end + 1);
    }
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() {
        return None;
    }
    let close = format!("</{name}>");
    let at = s[end..].find(&close)?;
    Some(end + at + close.len())
}

fn entity_len(s: &str) -> Option<usize> {
    let (end, _) = s.char_indices().take(12).find(|&(_, c)| c == ';')?;
    let name = &s[1..end];
    let ok = !name.is_empty()
        && (name.chars().all(|c| c.is_ascii_alphanumeric())
            || (name.starts_with('#') && name[1..].chars().all(|c| c.is_ascii_alphanumeric())));
    ok.then_some(end + 1)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The same message as plain text (for when Telegram refuses the HTML):
/// links as "label (url)", tags dropped, entities decoded.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<a href=\"") {
        out.push_str(&unescape(&strip_tags(&rest[..start])));
        let after = &rest[start + 9..];
        let parsed = after.find("\">").and_then(|q| {
            let url = &after[..q];
            let body = &after[q + 2..];
            let close = body.find("</a>")?;
            Some((url, &body[..close], &body[close + 4..]))
        });
        match parsed {
            Some((url, label, tail)) => {
                out.push_str(&format!(
                    "{} ({})",
                    unescape(&strip_tags(label)),
                    unescape(url)
                ));
                rest = tail;
            }
            None => {
                out.push_str(&unescape(&strip_tags(&rest[start..])));
                rest = "";
            }
        }
    }
    out.push_str(&unescape(&strip_tags(rest)));
    out
}

/// Checks text against Telegram's HTML parse mode: only its tags, balanced,
/// `<a>` with an `href`, and no `<`, `>` or `&` outside tags and entities.
pub fn check_telegram_html(html: &str) -> Result<(), String> {
    const TAGS: [&str; 14] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
    ];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest
                    .find('>')
                    .ok_or_else(|| format!("unclosed tag at {rest:.20}"))?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    match open.pop() {
                        Some(o) if o == name => {}
                        o => return Err(format!("</{name}> closes {o:?}")),
                    }
                } else {
                    let name = tag.split(' ').next().unwrap_or_default();
                    if !TAGS.contains(&name) {
                        return Err(format!("tag <{name}> is not allowed"));
                    }
                    if name == "a" && !tag.starts_with("a href=\"") {
                        return Err(format!("<{tag}> without href"));
                    }
                    if tag.contains('<') || tag.matches('"').count() % 2 != 0 {
                        return Err(format!("malformed tag <{tag}>"));
                    }
                    open.push(name.to_string());
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let n = entity_len(rest).ok_or_else(|| format!("bare & at {rest:.20}"))?;
                let name = &rest[1..n - 1];
                if !(matches!(name, "lt" | "gt" | "amp" | "quot") || name.starts_with('#')) {
                    return Err(format!("unknown entity &{name};"));
                }
                rest = &rest[n..];
            }
            '>' => return Err(format!("bare > at {rest:.20}")),
            _ => rest = &rest[c.len_utf8()..],
        }
    }
    match open.pop() {
        Some(o) => Err(format!("<{o}> is never closed")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagebot_core::Conversation;

    fn kb() -> Assistant {
        Assistant::builtin().expect("built-in knowledge")
    }

    #[test]
    fn escapes_user_and_knowledge_text() {
        let lines =
            markup_lines("a <b>& c_d *e* f.\n- item <i>\n[x & y](https://e.example/?a=1&b=<2>)");
        assert_eq!(
            lines,
            vec![
                "a &lt;b&gt;&amp; c_d *e* f.",
                "• item &lt;i&gt;",
                "<a href=\"https://e.example/?a=1&amp;b=&lt;2&gt;\">x &amp; y</a>"
            ]
        );
        for l in &lines {
            check_telegram_html(l).unwrap();
        }
        let out = plain("<script>&amp;\n\"quoted\"");
        assert_eq!(
            out.chunks,
            vec!["&lt;script&gt;&amp;amp;\n&quot;quoted&quot;"]
        );
        check_telegram_html(&out.chunks[0]).unwrap();
    }

    #[test]
    fn checker_rejects_what_telegram_rejects() {
        assert!(check_telegram_html("<b>x</b> &lt; <a href=\"u\">l</a>").is_ok());
        assert!(check_telegram_html("<b>x").is_err());
        assert!(check_telegram_html("a < b").is_err());
        assert!(check_telegram_html("a & b").is_err());
        assert!(check_telegram_html("a > b").is_err());
        assert!(check_telegram_html("<div>x</div>").is_err());
        assert!(check_telegram_html("<b><i>x</b></i>").is_err());
        assert!(check_telegram_html("&nbsp;").is_err());
    }

    #[test]
    fn short_text_is_one_chunk() {
        let lines = vec!["one".to_string(), String::new(), "two".to_string()];
        assert_eq!(split_html(&lines, MAX_MESSAGE_LEN), vec!["one\n\ntwo"]);
        assert!(split_html(&[String::new(), String::new()], 100).is_empty());
    }

    #[test]
    fn splits_at_line_boundaries_under_the_limit() {
        let lines: Vec<String> = (0..500)
            .map(|i| format!("第{i}行：公共镜像 &amp; <b>免费</b>"))
            .collect();
        let chunks = split_html(&lines, MAX_MESSAGE_LEN);
        assert!(chunks.len() > 1, "{} chunks", chunks.len());
        for c in &chunks {
            assert!(utf16_len(c) <= MAX_MESSAGE_LEN);
            check_telegram_html(c).unwrap();
            assert!(!c.starts_with('\n') && !c.ends_with('\n'));
        }
        // Nothing lost, nothing reordered, every line whole.
        assert_eq!(chunks.join("\n"), lines.join("\n"));
    }

    #[test]
    fn an_overlong_line_is_cut_between_atoms() {
        let line = format!(
            "{}<a href=\"https://x.example/\">link</a>{}",
            "&amp;字".repeat(3000),
            "😀".repeat(2000)
        );
        let chunks = split_html(std::slice::from_ref(&line), MAX_MESSAGE_LEN);
        assert!(chunks.len() >= 3);
        for c in &chunks {
            assert!(utf16_len(c) <= MAX_MESSAGE_LEN, "{}", utf16_len(c));
            check_telegram_html(c).unwrap();
        }
        assert_eq!(chunks.concat(), line);
        // An element longer than the limit loses its tags rather than breaking them.
        let long_link = format!("<a href=\"https://x.example/\">{}</a>", "&lt;".repeat(40));
        let chunks = split_html(&[long_link], 50);
        for c in &chunks {
            assert!(utf16_len(c) <= 50);
            check_telegram_html(c).unwrap();
        }
        assert_eq!(chunks.concat(), "&lt;".repeat(40));
    }

    #[test]
    fn plain_fallback_keeps_links() {
        let html = "<b>Q &amp; A</b>\n• see <a href=\"https://x.example/?a=1&amp;b=2\">the &lt;page&gt;</a> now";
        assert_eq!(
            html_to_plain(html),
            "Q & A\n• see the <page> (https://x.example/?a=1&b=2) now"
        );
        assert_eq!(html_to_plain("<a href=\"broken"), "");
        assert_eq!(html_to_plain("&amp;lt;"), "&lt;");
    }

    #[test]
    fn callback_data_round_trips_and_fits() {
        let kb = kb();
        for t in &kb.kb.topics {
            for lang in [Lang::Zh, Lang::ZhHant, Lang::ZhHk, Lang::En] {
                let a = Action::Ask {
                    topic: t.id.clone(),
                    lang,
                };
                let data = a.encode().expect("fits in 64 bytes");
                assert!(data.len() <= MAX_CALLBACK_DATA);
                assert_eq!(Action::decode(&data), Some(a));
            }
        }
        let long = Action::Ask {
            topic: "x".repeat(70),
            lang: Lang::En,
        };
        assert_eq!(long.encode(), None);
        for bad in [
            "",
            "a",
            "a:xx:topic",
            "z:en:topic",
            "a:en:",
            "t:en",
            "\u{0}:::",
        ] {
            assert_eq!(Action::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn replies_get_buttons() {
        let kb = kb();
        let mut conv = Conversation::new();
        let r = imagebot_core::answer(&kb, &mut conv, "我的镜像启动不了了");
        let out = reply(&kb, &r, None);
        let rows = &out.keyboard.as_ref().expect("type buttons").inline_keyboard;
        let labels: Vec<&str> = rows.iter().flatten().map(|b| b.text.as_str()).collect();
        assert_eq!(
            labels,
            ["公共镜像", "服务市场镜像", "自定义镜像", "共享镜像"]
        );
        for c in &out.chunks {
            check_telegram_html(c).unwrap();
        }
        let r = imagebot_core::answer(&kb, &mut Conversation::new(), "How are images billed?");
        let out = reply(&kb, &r, Some("How <are> images billed?"));
        assert!(out.chunks[0].starts_with("<b>How &lt;are&gt; images billed?</b>\n"));
        assert!(out.chunks[0].ends_with("<i>You could also ask:</i>"));
        assert_eq!(out.keyboard.unwrap().inline_keyboard.len(), 3);
        for lang in [Lang::Zh, Lang::ZhHant, Lang::ZhHk, Lang::En] {
            for out in [
                start(&kb, lang),
                topics(&kb, lang),
                ticket(&kb, lang),
                help(lang, Some("x_bot")),
            ] {
                for c in &out.chunks {
                    check_telegram_html(c).unwrap();
                }
            }
        }
    }
}
