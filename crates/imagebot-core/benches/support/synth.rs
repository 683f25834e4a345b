//! A synthetic knowledge base in the real format: the real knowledge plus N
//! generated topics with mixed Chinese and English phrasings, signature words
//! of their own, shared filler words, concept and literal rules. Used by the
//! scaling bench and `cargo run --release --example scale`.

use std::fmt::Write as _;
use std::path::Path;

/// A small deterministic generator (no dependency, same base every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() as usize) % xs.len()]
    }
}

const FILLER_ZH: &[&str] = &[
    "镜像", "怎么", "如何", "可以", "是否", "需要", "支持", "哪些", "什么", "请问",
];
const FILLER_EN: &[&str] = &[
    "how", "can", "i", "the", "image", "does", "what", "is", "my", "use",
];
const CONCEPTS: &[&str] = &[
    "#fee",
    "#limit",
    "#security",
    "#region",
    "#import",
    "#download",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tu", "sha", "vo", "qui", "ber", "dan", "ex", "pol", "zi", "mor",
    "tal",
];

/// Writes the real knowledge in `real` plus `n` generated topics to `out`.
pub fn generate(real: &Path, out: &Path, n: usize, seed: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(out.join("topics"))?;
    for name in ["bot.toml", "routes.toml", "types.toml", "lexicon.toml"] {
        std::fs::copy(real.join(name), out.join(name))?;
    }
    let mut han: Vec<char> = Vec::new();
    for e in std::fs::read_dir(real.join("topics"))? {
        let p = e?.path();
        std::fs::copy(&p, out.join("topics").join(p.file_name().unwrap()))?;
        for c in std::fs::read_to_string(&p)?.chars() {
            if ('\u{4e00}'..='\u{9fff}').contains(&c) && !han.contains(&c) {
                han.push(c);
            }
        }
    }
    let mut rng = Lcg(seed);
    let word_zh = |rng: &mut Lcg| format!("{}{}", rng.pick(&han), rng.pick(&han));
    let word_en = |rng: &mut Lcg| {
        let k = 2 + rng.next() as usize % 3;
        (0..k).map(|_| *rng.pick(SYLLABLES)).collect::<String>()
    };
    for i in 0..n {
        let sig_zh = [word_zh(&mut rng), word_zh(&mut rng), word_zh(&mut rng)];
        let sig_en = [word_en(&mut rng), word_en(&mut rng), word_en(&mut rng)];
        let mut t = String::new();
        writeln!(t, "id = \"syn-{i}\"").unwrap();
        writeln!(
            t,
            "question = {{ zh = \"{}{}{}？\", en = \"how do I {} the {}?\" }}",
            sig_zh[0],
            rng.pick(FILLER_ZH),
            sig_zh[1],
            sig_en[0],
            sig_en[1]
        )
        .unwrap();
        t.push_str("phrasings = [\n");
        for k in 0..8 {
            let line = if k % 2 == 0 {
                format!(
                    "{}{}{}{}",
                    rng.pick(FILLER_ZH),
                    sig_zh[k % 3],
                    rng.pick(FILLER_ZH),
                    sig_zh[(k + 1) % 3]
                )
            } else {
                format!(
                    "{} {} {} {}",
                    rng.pick(FILLER_EN),
                    sig_en[k % 3],
                    rng.pick(FILLER_EN),
                    sig_en[(k + 1) % 3]
                )
            };
            writeln!(t, "  \"{line}\",").unwrap();
        }
        t.push_str("]\n");
        writeln!(
            t,
            "related = [\"syn-{}\", \"syn-{}\"]",
            (i + 1) % n,
            (i + 7) % n
        )
        .unwrap();
        writeln!(
            t,
            "\n[[rule]]\nany = [\"{}\", \"{}\"]\nweight = 3.0",
            sig_zh[0], sig_en[0]
        )
        .unwrap();
        writeln!(
            t,
            "\n[[rule]]\nall = [\"{}\", \"{}\"]\nweight = 3.2",
            rng.pick(CONCEPTS),
            sig_zh[2]
        )
        .unwrap();
        writeln!(
            t,
            "\n[answer]\nzh = \"关于{}的回答：{}。\"\nen = \"About {}: answer {i}.\"",
            sig_zh[0],
            sig_zh.join("、"),
            sig_en[0]
        )
        .unwrap();
        std::fs::write(out.join("topics").join(format!("syn-{i}.toml")), t)?;
    }
    Ok(())
}

/// Questions against a synthetic base: each generated topic's signature
/// words in a new order, some with a typo, and the real questions.
#[allow(dead_code)] // used by the scale example and bench, not by gen_kb
pub fn questions(out: &Path, n: usize, count: usize) -> Vec<String> {
    let mut rng = Lcg(7);
    let mut qs = vec![
        "什么是镜像？".to_string(),
        "共享镜像安全吗".to_string(),
        "自定义镜像每个地域最多几个？".to_string(),
        "How much do marketplace images cost?".to_string(),
    ];
    while n > 0 && qs.len() < count {
        let i = rng.next() as usize % n;
        let text = std::fs::read_to_string(out.join("topics").join(format!("syn-{i}.toml")))
            .unwrap_or_default();
        let phr: Vec<&str> = text.lines().filter(|l| l.starts_with("  \"")).collect();
        if let Some(p) = phr.get(rng.next() as usize % phr.len().max(1)) {
            qs.push(format!(
                "{}吗",
                p.trim().trim_matches(|c| c == '"' || c == ',')
            ));
        }
    }
    qs
}
