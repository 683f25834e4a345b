//! Personal data out of stored text: e-mail addresses and phone numbers are
//! masked before a record is written (`z***@example.com`, `138****5678`).

use regex::Regex;
use std::sync::OnceLock;

fn email_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").ok()
    })
    .as_ref()
}

/// Phone numbers: Chinese mobiles (with or without +86, in groups or not),
/// Chinese landlines with an area code, and any number written with a
/// leading "+" country code.
fn phone_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?:\+|00)?(?:86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}",
            r"|\(?0\d{2,3}\)?[ \-]?\d{7,8}",
            r"|\+\d{1,3}[ \-]?\(?\d{1,4}\)?(?:[ \-]?\d{2,4}){2,4}",
        ))
        .ok()
    })
    .as_ref()
}

/// The fewest digits any phone pattern matches (`+1 2 34 56`).
const MIN_PHONE_DIGITS: usize = 6;

/// Masks every e-mail address and phone number in a text.
pub fn mask(text: &str) -> String {
    // Most stored texts hold neither: no '@', and too few digits for a phone.
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if !text.contains('@') && digits < MIN_PHONE_DIGITS {
        return text.to_string();
    }
    let text = match email_re().filter(|_| text.contains('@')) {
        Some(re) => re
            .replace_all(text, |c: &regex::Captures| mask_email(&c[0]))
            .into_owned(),
        None => text.to_string(),
    };
    let Some(re) = phone_re() else { return text };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in re.find_iter(&text) {
        // Not part of a longer number (an order number, a version, a date);
        // letters around it do not make it less of a phone number.
        let mut before = text[..m.start()].chars().rev();
        let mut after = text[m.end()..].chars();
        let in_number = |side: &mut dyn Iterator<Item = char>| match side.next() {
            Some(c) if c.is_ascii_digit() => true,
            Some('.' | '-' | '/' | ':') => side.next().is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        };
        if in_number(&mut before) || in_number(&mut after) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str(&mask_phone(m.as_str()));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

fn mask_email(addr: &str) -> String {
    match addr.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Keeps a leading "+", the first three and the last four digits (two when
/// the number is short).
fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(|c| c.is_ascii_digit()).collect();
    let plus = if number.starts_with('+') { "+" } else { "" };
    let keep_end = if digits.len() >= 11 { 4 } else { 2 };
    let head: String = digits.iter().take(3).collect();
    let tail: String = digits[digits.len().saturating_sub(keep_end)..]
        .iter()
        .collect();
    format!("{plus}{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn emails_and_phones_are_masked() {
        let cases = [
            ("联系我 13812345678 谢谢", "联系我 138****5678 谢谢"),
            ("手机:13812345678。", "手机:138****5678。"),
            ("+86 138 1234 5678", "+861****5678"),
            ("call 138-1234-5678 please", "call 138****5678 please"),
            ("座机 010-12345678", "座机 010****5678"),
            ("座机 0755-1234567", "座机 075****4567"),
            ("ring +44 20 7946 0958", "ring +442****0958"),
            (
                "mail zhang.san@example.com now",
                "mail z***@example.com now",
            ),
            ("邮箱是a_b+c@mail.qq.com。", "邮箱是a***@mail.qq.com。"),
        ];
        for (input, want) in cases {
            assert_eq!(mask(input), want, "{input}");
        }
    }

    #[test]
    fn ids_versions_and_dates_are_not_phones() {
        for s in [
            "img-13812345 ins-13812345",
            "CentOS 7.9.2009",
            "2024-05-01 10:00",
            "ubuntu 22.04",
            "订单号 202405011234567890",
            "错误码 0x0000007b",
            "port 8080",
        ] {
            assert_eq!(mask(s), s);
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "",
            "@",
            "a@b",
            "+",
            "+1",
            "1",
            "😀13812345678😀",
            "@@@.com",
            "-1",
            ".1",
        ] {
            let _ = mask(s);
        }
        assert_eq!(mask("😀13812345678😀"), "😀138****5678😀");
        assert_eq!(mask("tel13812345678abc"), "tel138****5678abc");
    }
}
