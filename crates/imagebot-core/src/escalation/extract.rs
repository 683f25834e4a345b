//! What a support engineer needs from a message, found without I/O: image
//! and instance ids, the region, the operating system, the error text the
//! user quoted, and the kind of problem (the ticket's category).
//!
//! Every function here is total: any input, however long or odd, gives a
//! (possibly empty) result, never a panic. Long messages are cut to
//! [`MAX_CHARS`] characters first, so the cost is bounded.

use crate::knowledge::ProblemKind;
use crate::normalize::fold;
use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Messages are cut to this many characters before extraction.
pub const MAX_CHARS: usize = 4000;
/// Quoted error texts longer than this are cut.
pub const MAX_ERROR_CHARS: usize = 300;

/// The fields found in one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// `img-` and 8 lowercase letters or digits, in order of appearance, without repeats.
    pub image_ids: Vec<String>,
    /// `ins-` and 8 lowercase letters or digits.
    pub instance_ids: Vec<String>,
    /// The first region named, as its code (`ap-guangzhou`), whether the
    /// message used the code or the name (广州, Guangzhou).
    pub region: Option<String>,
    /// The first operating system named, canonical, with its version when given
    /// (`CentOS 7.9`, `Windows Server 2019`).
    pub os: Option<String>,
    /// The error text the user quoted, as written.
    pub error: Option<String>,
}

impl Extracted {
    /// Nothing was found.
    pub fn is_empty(&self) -> bool {
        self.image_ids.is_empty()
            && self.instance_ids.is_empty()
            && self.region.is_none()
            && self.os.is_none()
            && self.error.is_none()
    }
}

/// A message prepared for matching: `orig` keeps the characters as typed
/// (invisible ones dropped), `fold` the same characters one for one,
/// half-width, Simplified and ASCII lower case.
struct Prepared {
    orig: Vec<char>,
    fold: Vec<char>,
    /// `fold` as a string, for automata and regexes.
    text: String,
    /// The char index of each byte offset of `text` that starts a char.
    char_at: Vec<u32>,
}

fn prepare(message: &str) -> Prepared {
    // The steps every reading shares, with a map back to what was typed,
    // then ASCII lower case (one character to one, so quotes stay exact).
    let folded = fold(message, MAX_CHARS);
    let typed: Vec<char> = message.chars().take(MAX_CHARS).collect();
    let orig: Vec<char> = folded.origin.iter().map(|&i| typed[i]).collect();
    let fold: Vec<char> = folded.chars.iter().map(char::to_ascii_lowercase).collect();
    let text: String = fold.iter().collect();
    let mut char_at = vec![0; text.len() + 1];
    for (n, (b, _)) in text.char_indices().enumerate() {
        char_at[b] = n as u32;
    }
    char_at[text.len()] = fold.len() as u32;
    Prepared {
        orig,
        fold,
        text,
        char_at,
    }
}

/// A fixed list of needles found in one pass (Aho-Corasick), each occurrence
/// reported by char position: the same matches as searching for every
/// needle in turn, without a scan per needle.
struct Needles<T> {
    ac: AhoCorasick,
    tags: Vec<T>,
}

impl<T: Copy> Needles<T> {
    fn new(needles: Vec<(String, T)>) -> Needles<T> {
        let (words, tags): (Vec<String>, Vec<T>) = needles.into_iter().unzip();
        let ac = AhoCorasick::new(&words).expect("fixed needles compile");
        Needles { ac, tags }
    }

    /// Every occurrence: (char position, length in chars, needle number, tag).
    fn find(&self, p: &Prepared) -> Vec<(usize, usize, usize, T)> {
        self.ac
            .find_overlapping_iter(&p.text)
            .map(|m| {
                let at = p.char_at[m.start()] as usize;
                let end = p.char_at[m.end()] as usize;
                let id = m.pattern().as_usize();
                (at, end - at, id, self.tags[id])
            })
            .collect()
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Everything found in a message.
pub fn extract(message: &str) -> Extracted {
    fields(&prepare(message))
}

/// The fields and the kind of problem of a message, folding it once.
pub fn details(message: &str, kinds: &KindWords) -> (Extracted, usize) {
    let p = prepare(message);
    (fields(&p), kinds.of(&p))
}

fn fields(p: &Prepared) -> Extracted {
    Extracted {
        image_ids: ids(&p.fold, "img-"),
        instance_ids: ids(&p.fold, "ins-"),
        region: region(p).map(|r| r.code.to_string()),
        os: os(p),
        error: error_text(p),
    }
}

fn starts_with_at(hay: &[char], at: usize, needle: &str) -> bool {
    (at..)
        .zip(needle.chars())
        .all(|(i, n)| hay.get(i) == Some(&n))
}

/// Ids with a prefix and 8 lowercase letters or digits, standing alone
/// (not inside a longer word). Case is forgiven and the id lowered.
fn ids(fold: &[char], prefix: &str) -> Vec<String> {
    let plen = prefix.chars().count();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i + plen + 8 <= fold.len() {
        if starts_with_at(fold, i, prefix)
            && (i == 0 || !(is_word(fold[i - 1]) || fold[i - 1] == '-'))
        {
            let body = &fold[i + plen..i + plen + 8];
            let after = fold.get(i + plen + 8).copied();
            if body
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !after.is_some_and(is_word)
            {
                let id: String = fold[i..i + plen + 8].iter().collect();
                if !out.contains(&id) {
                    out.push(id);
                }
                i += plen + 8;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// A region: its code, its names, and other ways people write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The region code (`ap-guangzhou`).
    pub code: &'static str,
    /// The Chinese name (Simplified).
    pub zh: &'static str,
    /// The English name.
    pub en: &'static str,
    /// Other Chinese forms (Simplified; Traditional input is folded first).
    zh_aliases: &'static [&'static str],
    /// Other English forms (lower case).
    en_aliases: &'static [&'static str],
}

const fn r(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    zh_aliases: &'static [&'static str],
    en_aliases: &'static [&'static str],
) -> Region {
    Region {
        code,
        zh,
        en,
        zh_aliases,
        en_aliases,
    }
}

/// The regions of Tencent Cloud CVM (codes as in the console and the API).
pub const REGIONS: &[Region] = &[
    r("ap-guangzhou", "广州", "Guangzhou", &[], &[]),
    r("ap-shanghai", "上海", "Shanghai", &[], &[]),
    r("ap-nanjing", "南京", "Nanjing", &[], &[]),
    r("ap-beijing", "北京", "Beijing", &[], &[]),
    r("ap-chengdu", "成都", "Chengdu", &[], &[]),
    r("ap-chongqing", "重庆", "Chongqing", &[], &[]),
    r("ap-qingyuan", "清远", "Qingyuan", &[], &[]),
    r(
        "ap-shanghai-fsi",
        "上海金融",
        "Shanghai Finance",
        &["上海金融区"],
        &["shanghai fsi", "shanghai finance"],
    ),
    r(
        "ap-shenzhen-fsi",
        "深圳金融",
        "Shenzhen Finance",
        &["深圳金融区"],
        &["shenzhen fsi", "shenzhen finance"],
    ),
    r(
        "ap-beijing-fsi",
        "北京金融",
        "Beijing Finance",
        &["北京金融区"],
        &["beijing fsi", "beijing finance"],
    ),
    r(
        "ap-hongkong",
        "香港",
        "Hong Kong",
        &["中国香港"],
        &["hongkong", "hong kong"],
    ),
    r("ap-taipei", "台北", "Taipei", &["中国台北"], &[]),
    r("ap-singapore", "新加坡", "Singapore", &[], &[]),
    r("ap-jakarta", "雅加达", "Jakarta", &[], &[]),
    r("ap-seoul", "首尔", "Seoul", &[], &[]),
    r("ap-tokyo", "东京", "Tokyo", &[], &[]),
    r("ap-mumbai", "孟买", "Mumbai", &[], &[]),
    r("ap-bangkok", "曼谷", "Bangkok", &[], &[]),
    r(
        "na-siliconvalley",
        "硅谷",
        "Silicon Valley",
        &["美国西部", "美西"],
        &["silicon valley", "siliconvalley"],
    ),
    r(
        "na-ashburn",
        "弗吉尼亚",
        "Virginia",
        &["美国东部", "美东", "维吉尼亚"],
        &["ashburn"],
    ),
    r("na-toronto", "多伦多", "Toronto", &[], &[]),
    r(
        "sa-saopaulo",
        "圣保罗",
        "São Paulo",
        &[],
        &["sao paulo", "são paulo", "saopaulo"],
    ),
    r("eu-frankfurt", "法兰克福", "Frankfurt", &[], &[]),
    r("eu-moscow", "莫斯科", "Moscow", &[], &[]),
];

/// The region with this code.
pub fn region_by_code(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

/// Phrases that contain a region's name but do not name a region.
const NOT_REGIONS: &[&str] = &["北京时间"];

/// How a region is written.
#[derive(Debug, Clone, Copy)]
enum RegionForm {
    Code,
    Zh,
    En,
}

/// Every region's code, Chinese and English forms, numbered in the order a
/// tie at one position is settled (region by region).
fn region_needles() -> &'static Needles<(usize, RegionForm)> {
    static NEEDLES: OnceLock<Needles<(usize, RegionForm)>> = OnceLock::new();
    NEEDLES.get_or_init(|| {
        let mut needles = Vec::new();
        for (i, reg) in REGIONS.iter().enumerate() {
            needles.push((reg.code.to_string(), (i, RegionForm::Code)));
            for form in std::iter::once(&reg.zh).chain(reg.zh_aliases) {
                needles.push((form.to_string(), (i, RegionForm::Zh)));
            }
            needles.push((reg.en.to_ascii_lowercase(), (i, RegionForm::En)));
            for form in reg.en_aliases {
                needles.push((form.to_string(), (i, RegionForm::En)));
            }
        }
        Needles::new(needles)
    })
}

/// Is the region form found at `at` a real mention (not inside a word, a
/// zone code names its region, 北京时间 names no region)?
fn region_mention(fold: &[char], at: usize, len: usize, form: RegionForm) -> bool {
    match form {
        RegionForm::Code => {
            let before_ok = at == 0 || !(is_word(fold[at - 1]) || fold[at - 1] == '-');
            let after_ok = match fold.get(at + len) {
                None => true,
                Some(&'-') => fold.get(at + len + 1).is_some_and(|c| c.is_ascii_digit()),
                Some(&c) => !is_word(c),
            };
            before_ok && after_ok
        }
        RegionForm::Zh => !NOT_REGIONS.iter().any(|n| starts_with_at(fold, at, n)),
        RegionForm::En => {
            let before_ok = at == 0 || !is_word(fold[at - 1]);
            let after_ok = fold.get(at + len).is_none_or(|&c| !is_word(c));
            before_ok && after_ok
        }
    }
}

/// The first region named in a folded message; at one position the longest
/// form wins (上海金融 over 上海).
fn region(p: &Prepared) -> Option<&'static Region> {
    let fold = &p.fold;
    region_needles()
        .find(p)
        .into_iter()
        .filter(|&(at, len, _, (_, form))| region_mention(fold, at, len, form))
        // Earliest, then longest, then first in the table.
        .min_by_key(|&(at, len, id, _)| (at, std::cmp::Reverse(len), id))
        .map(|(_, _, _, (i, _))| &REGIONS[i])
}

/// How to name what an OS pattern matched.
type Namer = fn(&regex::Captures) -> String;

/// Operating systems: a pattern over the folded text and how to name what it matched.
struct OsPattern {
    re: Regex,
    name: Namer,
}

fn version(c: &regex::Captures, i: usize) -> String {
    c.get(i)
        .map(|m| format!(" {}", m.as_str().trim()))
        .unwrap_or_default()
}

fn os_patterns() -> &'static [OsPattern] {
    static PATTERNS: OnceLock<Vec<OsPattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let table: Vec<(&str, Namer)> = vec![
            (
                r"(?:tencent\s*os|tencentos)(?:\s*server)?\s*v?(\d+(?:\.\d+)?)?",
                |c| format!("TencentOS Server{}", version(c, 1)),
            ),
            (r"tlinux\s*(\d+(?:\.\d+)?)?", |c| {
                format!("Tencent Linux{}", version(c, 1))
            }),
            (r"opencloud\s*os\s*(\d+(?:\.\d+)?)?", |c| {
                format!("OpenCloudOS{}", version(c, 1))
            }),
            (r"centos\s*stream\s*(\d+)?", |c| {
                format!("CentOS Stream{}", version(c, 1))
            }),
            (r"centos\s*(\d+(?:\.\d+){0,2})?", |c| {
                format!("CentOS{}", version(c, 1))
            }),
            (
                r"ubuntu(?:\s*server)?\s*(\d{2}\.\d{2}(?:\.\d+)?)?(?:\s*lts)?",
                |c| format!("Ubuntu{}", version(c, 1)),
            ),
            (r"debian\s*(\d+(?:\.\d+)?)?", |c| {
                format!("Debian{}", version(c, 1))
            }),
            (
                r"(?:windows|win)\s*(?:server|srv)?\s*(20(?:03|08|12|16|19|22|25))(\s*r2)?",
                |c| {
                    let r2 = if c.get(2).is_some() { " R2" } else { "" };
                    format!("Windows Server{}{r2}", version(c, 1))
                },
            ),
            (r"windows\s*server", |_| "Windows Server".to_string()),
            (r"windows", |_| "Windows".to_string()),
            (r"rocky(?:\s*linux)?\s*(\d+(?:\.\d+)?)?", |c| {
                format!("Rocky Linux{}", version(c, 1))
            }),
            (r"alma\s*linux\s*(\d+(?:\.\d+)?)?", |c| {
                format!("AlmaLinux{}", version(c, 1))
            }),
            (
                r"(?:rhel|red\s*hat(?:\s*enterprise\s*linux)?|redhat|红帽)\s*(\d+(?:\.\d+)?)?",
                |c| format!("Red Hat Enterprise Linux{}", version(c, 1)),
            ),
            (r"opensuse(?:\s*leap)?\s*(\d+(?:\.\d+)?)?", |c| {
                format!("openSUSE{}", version(c, 1))
            }),
            (
                r"(?:sles|suse(?:\s*linux)?(?:\s*enterprise)?(?:\s*server)?)\s*(\d+(?:\s*sp\d)?)?",
                |c| {
                    format!(
                        "SUSE Linux Enterprise Server{}",
                        version(c, 1).to_uppercase()
                    )
                },
            ),
            (r"anolis(?:\s*os)?\s*(\d+(?:\.\d+)?)?", |c| {
                format!("Anolis OS{}", version(c, 1))
            }),
            (r"oracle\s*linux\s*(\d+(?:\.\d+)?)?", |c| {
                format!("Oracle Linux{}", version(c, 1))
            }),
            (r"fedora(?:\s*coreos)?\s*(\d+)?", |c| {
                format!("Fedora{}", version(c, 1))
            }),
            (r"freebsd\s*(\d+(?:\.\d+)?)?", |c| {
                format!("FreeBSD{}", version(c, 1))
            }),
            (r"(?:kylin|麒麟)(?:\s*v?(\d+))?", |c| {
                format!("Kylin{}", version(c, 1))
            }),
            (r"(?:uos|统信)", |_| "UOS".to_string()),
            (r"arch\s*linux", |_| "Arch Linux".to_string()),
        ];
        table
            .into_iter()
            .filter_map(|(pattern, name)| {
                Some(OsPattern {
                    re: Regex::new(pattern).ok()?,
                    name,
                })
            })
            .collect()
    })
}

/// All OS patterns at once: which of them match anywhere (most messages name none).
fn os_set() -> &'static Option<RegexSet> {
    static SET: OnceLock<Option<RegexSet>> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(os_patterns().iter().map(|p| p.re.as_str())).ok())
}

/// The first operating system named in a folded message.
fn os(prepared: &Prepared) -> Option<String> {
    let text = &prepared.text;
    let matching = match os_set() {
        Some(set) => set.matches(text),
        None => return None,
    };
    let mut best: Option<(usize, usize, String)> = None;
    for p in matching.iter().map(|i| &os_patterns()[i]) {
        for c in p.re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let before_ok = !text[..m.start()].chars().next_back().is_some_and(is_word);
            let after_ok = !text[m.end()..].chars().next().is_some_and(is_word);
            if !(before_ok && after_ok) {
                continue;
            }
            let better = match &best {
                None => true,
                Some((at, len, _)) => m.start() < *at || (m.start() == *at && m.len() > *len),
            };
            if better {
                best = Some((m.start(), m.len(), (p.name)(&c)));
            }
            break;
        }
    }
    best.map(|b| b.2)
}

/// Opening quotes and the characters that may close them (people mix
/// “ and " or type “ twice).
const QUOTES: &[(char, &[char])] = &[
    ('「', &['」']),
    ('『', &['』']),
    ('“', &['”', '“', '"']),
    ('‘', &['’', '‘', '\'']),
    ('"', &['"', '”']),
    ('\'', &['\'', '’']),
    ('《', &['》']),
];

/// Words that make a quoted text an error rather than a name.
const ERROR_WORDS: &[&str] = &[
    "error",
    "fail",
    "denied",
    "invalid",
    "not ",
    "cannot",
    "can't",
    "unable",
    "refused",
    "timeout",
    "timed out",
    "panic",
    "exception",
    "错误",
    "失败",
    "无法",
    "不能",
    "找不到",
    "异常",
    "超时",
    "拒绝",
    "不存在",
    "不支持",
    "未找到",
    "没有",
    "不足",
    "已满",
];

/// One quoted text: where its opening quote is, and its content.
struct Quote {
    open: usize,
    text: String,
}

fn quotes(p: &Prepared) -> Vec<Quote> {
    let f = &p.fold;
    let mut out = Vec::new();
    let mut i = 0;
    while i < f.len() {
        let Some((open, closers)) = QUOTES.iter().find(|(o, _)| *o == f[i]) else {
            i += 1;
            continue;
        };
        // An ASCII apostrophe inside a word ("won't") opens nothing.
        if *open == '\'' && i > 0 && f[i - 1].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let close = (i + 1..f.len().min(i + 1 + 2 * MAX_ERROR_CHARS)).find(|&j| {
            closers.contains(&f[j])
                && !(f[j] == '\'' && f.get(j + 1).is_some_and(|c| c.is_ascii_alphabetic()))
        });
        match close {
            Some(j) => {
                let text = clean(&p.orig[i + 1..j]);
                if text.chars().count() >= 2 && *open != '《' {
                    out.push(Quote { open: i, text });
                }
                i = j + 1;
            }
            None => i += 1,
        }
    }
    out
}

/// Trims spaces and separating punctuation, cuts to [`MAX_ERROR_CHARS`].
fn clean(chars: &[char]) -> String {
    let s: String = chars.iter().collect();
    let s = s
        .trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '：' | ',' | '，' | '、' | '-' | '—')
        })
        .replace(['\n', '\r', '\t'], " ");
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// Words after which people write the error ("报错：…", "提示找不到引导设备").
/// `free`: the error may follow directly; otherwise only after a colon or a quote.
const MARKERS: &[(&str, bool)] = &[
    ("报错信息", true),
    ("报错内容", true),
    ("报错提示", true),
    ("报错码", true),
    ("报错", true),
    ("错误信息", true),
    ("错误提示", true),
    ("错误代码", true),
    ("错误码", true),
    ("错误", false),
    ("提示信息", true),
    ("提示框", true),
    ("提示", true),
    ("弹出", true),
    ("弹窗", true),
    ("显示", false),
    ("error message", false),
    ("error code", false),
    ("error", false),
    ("message", false),
    ("says", false),
    ("said", false),
    ("shows", false),
    ("failed with", true),
];

/// Where a free error text stops: the question that follows it.
const STOP_PHRASES: &[&str] = &[
    "怎么办",
    "怎么解决",
    "怎么处理",
    "怎么回事",
    "怎么",
    "如何",
    "咋办",
    "咋回事",
    "是什么原因",
    "什么原因",
    "什么意思",
    "请问",
    "求助",
    "帮忙",
    "谢谢",
    "找谁",
    "what should",
    "how do",
    "how can",
    "any idea",
    "please",
];

fn error_text(p: &Prepared) -> Option<String> {
    let f = &p.fold;
    let qs = quotes(p);
    // 1. After a marker: the quote that follows it, or the text up to the end
    //    of the sentence.
    let mut i = 0;
    while i < f.len() {
        let hit = MARKERS.iter().find(|(m, _)| {
            starts_with_at(f, i, m) && (!m.is_ascii() || i == 0 || !is_word(f[i - 1]))
        });
        let Some((marker, free)) = hit else {
            i += 1;
            continue;
        };
        let mut j = i + marker.chars().count();
        if marker.is_ascii() && f.get(j).is_some_and(|&c| is_word(c)) {
            i += 1;
            continue;
        }
        let mut colon = false;
        while let Some(&c) = f.get(j) {
            match c {
                ':' | '：' => colon = true,
                ' ' | '是' | '为' | '说' | '了' | ',' | '，' => {}
                _ => break,
            }
            j += 1;
        }
        if let Some(q) = qs.iter().find(|q| q.open == j) {
            return Some(q.text.clone());
        }
        if *free || colon {
            let text = sentence(p, j);
            if text.chars().count() >= 2 {
                return Some(text);
            }
        }
        i = j.max(i + 1);
    }
    // 2. A quoted text that reads like an error (not a bare name like 「WordPress」).
    if let Some(q) = qs
        .iter()
        .filter(|q| {
            let lower = q.text.to_lowercase();
            let bare_name = q.text.chars().count() <= 20
                && !q
                    .text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_ascii_digit())
                && !q.text.chars().any(|c| c.is_ascii_punctuation());
            !bare_name || ERROR_WORDS.iter().any(|w| lower.contains(w))
        })
        .max_by_key(|q| q.text.chars().count())
    {
        return Some(q.text.clone());
    }
    // 3. An API error code ("InvalidParameterValue.ImageNotFound") or a stop code.
    static CODE: OnceLock<Option<Regex>> = OnceLock::new();
    let code = CODE.get_or_init(|| {
        Regex::new(r"(?:[A-Z][a-z]+){2,}(?:\.[A-Z][A-Za-z0-9]+)+|0x[0-9a-fA-F]{6,8}").ok()
    });
    let orig: String = p.orig.iter().collect();
    code.as_ref()?
        .find_iter(&orig)
        .find(|m| {
            !orig[..m.start()].chars().next_back().is_some_and(is_word)
                && !orig[m.end()..].chars().next().is_some_and(is_word)
        })
        .map(|m| m.as_str().chars().take(MAX_ERROR_CHARS).collect())
}

/// The text from `at` to the end of its sentence, or to the question after it.
fn sentence(p: &Prepared, at: usize) -> String {
    let f = &p.fold;
    let mut end = at;
    while end < f.len() && end - at < MAX_ERROR_CHARS {
        let c = f[end];
        let stop_char = matches!(c, '。' | '！' | '!' | '？' | '?' | '\n' | '；' | ';' | '，')
            || (c == '.' && f.get(end + 1).is_none_or(|n| n.is_whitespace()))
            || (c == ',' && f.get(end + 1).is_some_and(|&n| crate::normalize::is_han(n)));
        if stop_char || STOP_PHRASES.iter().any(|s| starts_with_at(f, end, s)) {
            break;
        }
        end += 1;
    }
    clean(&p.orig[at..end])
}

/// The kinds of problem of a knowledge base, their words found in one pass.
pub struct KindWords {
    needles: Option<Needles<usize>>,
    /// The kind named when no word is found (the last).
    fallback: usize,
}

impl std::fmt::Debug for KindWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindWords")
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl KindWords {
    /// Compiles the words of the knowledge's kinds of problem.
    pub fn new(kinds: &[ProblemKind]) -> KindWords {
        let needles: Vec<(String, usize)> = kinds
            .iter()
            .enumerate()
            .flat_map(|(k, kind)| kind.words.iter().map(move |w| (w.clone(), k)))
            .collect();
        KindWords {
            needles: (!needles.is_empty()).then(|| Needles::new(needles)),
            fallback: kinds.len().saturating_sub(1),
        }
    }

    /// The kind of problem a prepared message reports: the first kind in the
    /// knowledge's order with a word in it. English words start a word
    /// ("start" in "started", not in "restart"); short ones are whole words
    /// ("ip", not "zip").
    fn of(&self, p: &Prepared) -> usize {
        let Some(needles) = &self.needles else {
            return self.fallback;
        };
        let f = &p.fold;
        needles
            .find(p)
            .into_iter()
            .filter(|&(at, len, _, _)| {
                let ascii = f[at..at + len].iter().all(char::is_ascii);
                !ascii
                    || ((at == 0 || !is_word(f[at - 1]))
                        && (len >= 4 || f.get(at + len).is_none_or(|&c| !is_word(c))))
            })
            .map(|(_, _, _, k)| k)
            .min()
            .unwrap_or(self.fallback)
    }
}

/// The kind of problem a message reports, as a number in the knowledge's kinds.
pub fn problem_kind(message: &str, kinds: &KindWords) -> usize {
    kinds.of(&prepare(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_alone_in_any_script_and_case() {
        let x = extract(
            "实例ins-ab12cd34用镜像img-0a1b2c3d启动失败，另一台 INS-ZZ99YY88，镜像 img-0a1b2c3d",
        );
        assert_eq!(x.image_ids, ["img-0a1b2c3d"]);
        assert_eq!(x.instance_ids, ["ins-ab12cd34", "ins-zz99yy88"]);
        // Too short, too long, inside a word, not letters or digits.
        let x = extract("img-abc1234 img-abc123456 ximg-abc12345 img-abc_1234 img-ab-c1234");
        assert!(x.image_ids.is_empty(), "{:?}", x.image_ids);
        // Full-width.
        assert_eq!(
            extract("ｉｍｇ－ａｂｃｄ１２３４").image_ids,
            ["img-abcd1234"]
        );
    }

    #[test]
    fn regions_by_code_name_and_english() {
        let cases = [
            ("广州的实例起不来", Some("ap-guangzhou")),
            ("廣州的實例", Some("ap-guangzhou")),
            ("ap-beijing-3 zone", Some("ap-beijing")),
            ("in ap-shanghai-fsi", Some("ap-shanghai-fsi")),
            ("上海金融区的镜像", Some("ap-shanghai-fsi")),
            ("上海的镜像", Some("ap-shanghai")),
            ("my instance in Hong Kong", Some("ap-hongkong")),
            ("HongKong", Some("ap-hongkong")),
            ("中国香港地域", Some("ap-hongkong")),
            ("na-siliconvalley", Some("na-siliconvalley")),
            ("硅谷", Some("na-siliconvalley")),
            ("Frankfurt region", Some("eu-frankfurt")),
            ("新加坡", Some("ap-singapore")),
            ("北京时间上午十点", None),
            ("ap-guangzhoux", None),
            ("beijingx", None),
            ("从北京复制到广州", Some("ap-beijing")),
        ];
        for (m, want) in cases {
            assert_eq!(extract(m).region.as_deref(), want, "{m}");
        }
    }

    #[test]
    fn operating_systems_with_versions() {
        let cases = [
            ("CentOS 7.9 的镜像", Some("CentOS 7.9")),
            ("centos7.6", Some("CentOS 7.6")),
            ("CentOS Stream 9", Some("CentOS Stream 9")),
            ("ubuntu 22.04 LTS", Some("Ubuntu 22.04")),
            ("Ubuntu Server 20.04", Some("Ubuntu 20.04")),
            ("debian11", Some("Debian 11")),
            (
                "Windows Server 2019 数据中心版",
                Some("Windows Server 2019"),
            ),
            ("win2012 r2", Some("Windows Server 2012 R2")),
            ("windows 镜像", Some("Windows")),
            ("TencentOS Server 3.1", Some("TencentOS Server 3.1")),
            ("tencentos", Some("TencentOS Server")),
            ("Rocky Linux 9", Some("Rocky Linux 9")),
            ("红帽 8", Some("Red Hat Enterprise Linux 8")),
            ("OpenCloudOS 8", Some("OpenCloudOS 8")),
            ("no os here", None),
            ("macentosh", None),
        ];
        for (m, want) in cases {
            assert_eq!(extract(m).os.as_deref(), want, "{m}");
        }
    }

    #[test]
    fn error_text_after_markers_and_in_quotes() {
        let cases = [
            (
                "启动时报错「Kernel panic - not syncing」怎么办",
                Some("Kernel panic - not syncing"),
            ),
            (
                "导入镜像报错：InvalidImageFormat，怎么办",
                Some("InvalidImageFormat"),
            ),
            ("开机提示找不到引导设备，怎么办", Some("找不到引导设备")),
            ("导入镜像一直报错", None),
            ("报错了怎么办", None),
            (
                "it says \"No bootable device\" on boot",
                Some("No bootable device"),
            ),
            (
                "error: permission denied (publickey).",
                Some("permission denied (publickey)"),
            ),
            ("控制台显示“镜像状态异常”", Some("镜像状态异常")),
            ("我买的「WordPress」镜像打不开", None),
            (
                "the image won't boot: 'unable to mount root fs'",
                Some("unable to mount root fs"),
            ),
            (
                "API 返回 InvalidParameterValue.ImageNotFound",
                Some("InvalidParameterValue.ImageNotFound"),
            ),
            ("doesn't work", None),
        ];
        for (m, want) in cases {
            assert_eq!(extract(m).error.as_deref(), want, "{m}");
        }
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        let kinds = KindWords::new(&crate::Knowledge::builtin().unwrap().problem_kinds);
        for m in [
            "",
            "'",
            "\"",
            "「",
            "报错",
            "报错：",
            "img-",
            "ins-1234567",
            "error:",
            "'a'",
            "“",
            "\u{200B}img-abcd1234\u{200B}",
            "报错「",
            "显示：",
            "a'b'c",
            "ap-",
            "ap-guangzhou-",
        ] {
            let _ = extract(m);
            let _ = problem_kind(m, &kinds);
        }
        let long = "报错「".repeat(5000) + &"img-abcd1234 ".repeat(1000);
        let x = extract(&long);
        assert!(x.error.is_none_or(|e| e.chars().count() <= MAX_ERROR_CHARS));
    }

    #[test]
    fn problem_kinds() {
        let kb = crate::Knowledge::builtin().unwrap();
        let kinds = KindWords::new(&kb.problem_kinds);
        let kind = |m: &str| kb.problem_kinds[problem_kind(m, &kinds)].id.as_str();
        assert_eq!(kind("导入镜像一直报错"), "import");
        assert_eq!(kind("我的镜像启动失败了"), "boot");
        assert_eq!(kind("the instance won't boot"), "boot");
        assert_eq!(kind("ssh 登录不上"), "login");
        assert_eq!(kind("marketplace WordPress image won't load"), "software");
        assert_eq!(kind("共享镜像对方看不到"), "copy-share");
        assert_eq!(kind("镜像坏了"), "other");
        assert_eq!(kind("restarting loops"), "other");
        assert_eq!(kind("共享镜像启动后网络不通"), "network");
        assert_eq!(kind("Windows 公共镜像激活失败"), "activation");
        assert_eq!(kind("复制镜像到上海失败"), "copy-share");
    }
}
