//! Reading knowledge files and compiling them, collecting every problem.

use super::schema::{BotFile, LexiconFile, RoutesFile, RuleDef, Text, TopicFile, TypesFile};
use super::*;
use crate::analyze::{analyze_terms, Fuzz, Lexicon};
use crate::matcher::{Index, Literals, Triggers};
use crate::normalize::normalize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// One knowledge file: its path relative to the folder, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_knowledge.rs"));
}

/// The files of `knowledge/` as they were when the binary was built.
pub fn builtin_files() -> Vec<SourceFile> {
    builtin::FILES
        .iter()
        .map(|(path, text)| SourceFile {
            path: path.to_string(),
            text: text.to_string(),
        })
        .collect()
}

const ROOT_FILES: [&str; 4] = ["bot.toml", "routes.toml", "types.toml", "lexicon.toml"];

/// Reads a knowledge folder: the four root files and `topics/*.toml`.
pub fn read_dir_files(dir: &Path) -> Result<Vec<SourceFile>, KnowledgeError> {
    let fail = |file: String, message: String| KnowledgeError {
        problems: vec![Problem {
            file,
            entry: None,
            message,
        }],
    };
    if !dir.is_dir() {
        return Err(fail(
            dir.display().to_string(),
            "not a folder (give the knowledge folder, the one holding types.toml and topics/)"
                .into(),
        ));
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut read = |rel: String, path: &Path| match std::fs::read_to_string(path) {
        Ok(text) => files.push(SourceFile { path: rel, text }),
        Err(e) => problems.push(Problem {
            file: rel,
            entry: None,
            message: format!("cannot read: {e}"),
        }),
    };
    for name in ROOT_FILES {
        // A missing root file is reported by `compile`, with the other problems.
        let path = dir.join(name);
        if path.exists() {
            read(name.to_string(), &path);
        }
    }
    let topics = dir.join("topics");
    match std::fs::read_dir(&topics) {
        Ok(entries) => {
            let mut paths: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let rel = format!(
                    "topics/{}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                );
                read(rel, &p);
            }
        }
        Err(e) => problems.push(Problem {
            file: "topics/".into(),
            entry: None,
            message: format!("cannot read the topics folder: {e}"),
        }),
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(KnowledgeError { problems })
    }
}

struct Collector {
    problems: Vec<Problem>,
}

impl Collector {
    fn add(&mut self, file: &str, entry: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_string(),
            entry: entry.map(str::to_string),
            message: message.into(),
        });
    }

    fn parse<T: DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match toml::from_str::<T>(&file.text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(
                    &file.path,
                    None,
                    e.to_string().trim_end().replace('\n', "\n    "),
                );
                None
            }
        }
    }

    fn text(&mut self, file: &str, entry: &str, what: &str, t: &Text) {
        if t.zh.trim().is_empty() {
            self.add(
                file,
                Some(entry),
                format!("{what}: the Chinese (zh) text is missing"),
            );
        }
        if t.en.trim().is_empty() {
            self.add(
                file,
                Some(entry),
                format!("{what}: the English (en) text is missing"),
            );
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parses, validates and compiles a set of knowledge files.
pub fn compile(files: &[SourceFile]) -> Result<Knowledge, KnowledgeError> {
    let mut col = Collector {
        problems: Vec::new(),
    };
    let find = |name: &str| files.iter().find(|f| f.path == name);
    let root = |name: &str, col: &mut Collector| {
        let f = find(name);
        if f.is_none() {
            col.add(name, None, "missing (every knowledge folder has bot.toml, routes.toml, types.toml, lexicon.toml and topics/)");
        }
        f
    };
    let bot: Option<BotFile> = root("bot.toml", &mut col).and_then(|f| col.parse(f));
    let routes: Option<RoutesFile> = root("routes.toml", &mut col).and_then(|f| col.parse(f));
    let types_file: Option<TypesFile> = root("types.toml", &mut col).and_then(|f| col.parse(f));
    let lexicon: Option<LexiconFile> = root("lexicon.toml", &mut col).and_then(|f| col.parse(f));
    let topic_files: Vec<(&SourceFile, TopicFile)> = files
        .iter()
        .filter(|f| f.path.starts_with("topics/"))
        .filter_map(|f| col.parse::<TopicFile>(f).map(|t| (f, t)))
        .collect();
    if files
        .iter()
        .filter(|f| f.path.starts_with("topics/"))
        .count()
        == 0
    {
        col.add("topics/", None, "no topic files");
    }
    for f in files {
        if !f.path.starts_with("topics/") && !ROOT_FILES.contains(&f.path.as_str()) {
            col.add(&f.path, None, "unknown file (expected bot.toml, routes.toml, types.toml, lexicon.toml or topics/*.toml)");
        }
    }
    let (Some(bot), Some(routes), Some(types_file), Some(lexicon)) =
        (bot, routes, types_file, lexicon)
    else {
        return Err(KnowledgeError {
            problems: col.problems,
        });
    };

    // Messages and routes.
    for (name, t) in message_texts(&bot.messages) {
        col.text("bot.toml", &format!("messages.{name}"), "message", t);
    }
    if !routes.ticket.url.starts_with("https://") {
        col.add(
            "routes.toml",
            Some("ticket"),
            "url must start with https://",
        );
    }
    col.text("routes.toml", "ticket", "label", &routes.ticket.label);
    col.text("routes.toml", "vendor", "text", &routes.vendor.text);

    // Image types.
    let mut types: Vec<ImageType> = Vec::new();
    let mut alias_owner: HashMap<String, String> = HashMap::new();
    let mut type_aliases: Vec<Vec<String>> = Vec::new();
    for t in &types_file.types {
        let entry = format!("type {}", t.id);
        if !valid_id(&t.id) {
            col.add(
                "types.toml",
                Some(&entry),
                "id must be lower-case letters, digits and '-'",
            );
        }
        if types.iter().any(|x| x.id == t.id) {
            col.add("types.toml", Some(&entry), "duplicate type id");
        }
        col.text("types.toml", &entry, "name", &t.name);
        for a in &t.aliases {
            let key = normalize(a).text;
            match alias_owner.get(&key) {
                Some(owner) if owner != &t.id => col.add(
                    "types.toml",
                    Some(&entry),
                    format!("alias \"{a}\" is also claimed by type {owner}"),
                ),
                _ => {
                    alias_owner.insert(key, t.id.clone());
                }
            }
        }
        let route = match t.route.as_str() {
            "ticket" => RouteKind::Ticket,
            "vendor" => RouteKind::Vendor,
            other => {
                col.add(
                    "types.toml",
                    Some(&entry),
                    format!("unknown route \"{other}\" (ticket or vendor)"),
                );
                RouteKind::Ticket
            }
        };
        let cells = [
            t.description.clone(),
            t.fee.clone(),
            t.security.clone(),
            t.billing.clone(),
            t.limits.clone(),
        ];
        let mut gaps: [Option<Text>; 5] = Default::default();
        for (name, text) in &t.gaps {
            match Attribute::parse(name) {
                Some(a) => {
                    if cells[a.index()].is_some() {
                        col.add(
                            "types.toml",
                            Some(&entry),
                            format!("gap note for {name}, which has a cell"),
                        );
                    }
                    col.text("types.toml", &entry, &format!("gaps.{name}"), text);
                    gaps[a.index()] = Some(text.clone());
                }
                None => col.add(
                    "types.toml",
                    Some(&entry),
                    format!("gap for unknown attribute \"{name}\""),
                ),
            }
        }
        for a in Attribute::ALL {
            match &cells[a.index()] {
                Some(c) => col.text("types.toml", &entry, a.name(), c),
                None if gaps[a.index()].is_none() => col.add(
                    "types.toml",
                    Some(&entry),
                    format!("no {} cell and no gap note: say what the document says nearby under [type.gaps]", a.name()),
                ),
                None => {}
            }
        }
        type_aliases.push(t.aliases.clone());
        types.push(ImageType {
            id: t.id.clone(),
            name: t.name.clone(),
            route,
            cells,
            gaps,
            cell_concepts: Default::default(),
        });
    }
    let type_of = |id: &str| types.iter().position(|t| t.id == id);

    // Concepts: the lexicon's, one per type (its aliases), one per gap.
    let mut concepts: Vec<Concept> = Vec::new();
    let mut forms: Vec<(String, usize)> = Vec::new();
    for c in &lexicon.concept {
        let entry = format!("concept {}", c.id);
        if concepts.iter().any(|x| x.id == c.id) {
            col.add("lexicon.toml", Some(&entry), "duplicate concept id");
        }
        if c.forms.is_empty() {
            col.add("lexicon.toml", Some(&entry), "no forms");
        }
        if let Some(v) = &c.veto {
            if v != "mirror" && v != "decline" {
                col.add(
                    "lexicon.toml",
                    Some(&entry),
                    format!("unknown veto \"{v}\" (mirror or decline)"),
                );
            }
        }
        let implies = c.implies.as_deref().and_then(|t| {
            let found = type_of(t);
            if found.is_none() {
                col.add(
                    "lexicon.toml",
                    Some(&entry),
                    format!("implies unknown type \"{t}\""),
                );
            }
            found
        });
        let refines = c
            .refines
            .iter()
            .filter_map(|t| {
                let found = type_of(t);
                if found.is_none() {
                    col.add(
                        "lexicon.toml",
                        Some(&entry),
                        format!("refines unknown type \"{t}\""),
                    );
                }
                found
            })
            .collect();
        let idx = concepts.len();
        forms.extend(c.forms.iter().map(|f| (f.clone(), idx)));
        concepts.push(Concept {
            id: c.id.clone(),
            kind: ConceptKind::Plain,
            anchor: c.anchor,
            foreign: c.foreign,
            veto: c.veto.clone(),
            implies,
            refines,
            similarity: c.intent,
            fuzzy: c.fuzzy,
        });
    }
    for (t, aliases) in type_aliases.iter().enumerate() {
        let idx = concepts.len();
        forms.extend(aliases.iter().map(|f| (f.clone(), idx)));
        concepts.push(Concept {
            id: format!("@{}", types[t].id),
            kind: ConceptKind::Type(t),
            anchor: true,
            foreign: false,
            veto: None,
            implies: None,
            refines: Vec::new(),
            similarity: true,
            fuzzy: true,
        });
    }
    let mut gaps = Vec::new();
    for g in &lexicon.gap {
        let entry = format!("gap {}", g.id);
        if gaps.iter().any(|x: &Gap| x.id == g.id) {
            col.add("lexicon.toml", Some(&entry), "duplicate gap id");
        }
        col.text("lexicon.toml", &entry, "name", &g.name);
        let idx = concepts.len();
        forms.extend(g.any.iter().map(|f| (f.clone(), idx)));
        concepts.push(Concept {
            id: format!("gap.{}", g.id),
            kind: ConceptKind::Gap(gaps.len()),
            anchor: false,
            foreign: false,
            veto: None,
            implies: None,
            refines: Vec::new(),
            similarity: false,
            fuzzy: true,
        });
        gaps.push(Gap {
            id: g.id.clone(),
            name: g.name.clone(),
        });
    }

    // Topics.
    let mut topic_ids: BTreeSet<&str> = BTreeSet::new();
    for (f, t) in &topic_files {
        if !topic_ids.insert(t.id.as_str()) {
            col.add(
                &f.path,
                Some(&format!("topic {}", t.id)),
                "duplicate topic id (another file has it)",
            );
        }
    }
    let topic_index: HashMap<&str, usize> = topic_files
        .iter()
        .enumerate()
        .map(|(i, (_, t))| (t.id.as_str(), i))
        .collect();
    let concept_ids: HashMap<&str, usize> = concepts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut literals = LiteralIds::default();
    let mut topics = Vec::new();
    for (f, t) in &topic_files {
        let file = f.path.as_str();
        let entry = format!("topic {}", t.id);
        if !valid_id(&t.id) {
            col.add(
                file,
                Some(&entry),
                "id must be lower-case letters, digits and '-'",
            );
        }
        col.text(file, &entry, "question", &t.question);
        col.text(file, &entry, "answer", &t.answer);
        if t.phrasings.is_empty() {
            col.add(file, Some(&entry), "no phrasings");
        }
        let related = t
            .related
            .iter()
            .filter_map(|r| {
                let found = topic_index.get(r.as_str()).copied();
                if found.is_none() {
                    col.add(
                        file,
                        Some(&entry),
                        format!("related topic \"{r}\" does not exist"),
                    );
                }
                found
            })
            .collect();
        let attribute = t.attribute.as_deref().and_then(|a| {
            let found = Attribute::parse(a);
            if found.is_none() {
                col.add(
                    file,
                    Some(&entry),
                    format!(
                        "unknown attribute \"{a}\" (description, fee, security, billing or limits)"
                    ),
                );
            }
            found
        });
        let default_type = t.default_type.as_deref().and_then(|d| {
            let found = type_of(d);
            if found.is_none() {
                col.add(
                    file,
                    Some(&entry),
                    format!("default_type \"{d}\" is not an image type"),
                );
            }
            found
        });
        let topic_types = t
            .types
            .iter()
            .filter_map(|ty| {
                let found = type_of(ty);
                if found.is_none() {
                    col.add(
                        file,
                        Some(&entry),
                        format!("types: \"{ty}\" is not an image type"),
                    );
                }
                found
            })
            .collect();
        let route = match t.route.as_deref() {
            None => TopicRoute::None,
            Some("vendor") => TopicRoute::Vendor,
            Some("by_type") => TopicRoute::ByType,
            Some(other) => {
                col.add(
                    file,
                    Some(&entry),
                    format!("unknown route \"{other}\" (vendor or by_type)"),
                );
                TopicRoute::None
            }
        };
        let mut by_type = vec![None; types.len()];
        for (ty, text) in &t.by_type {
            match type_of(ty) {
                Some(i) => {
                    col.text(file, &entry, &format!("by_type.{ty}"), text);
                    by_type[i] = Some(text.clone());
                }
                None => col.add(
                    file,
                    Some(&entry),
                    format!("by_type \"{ty}\" is not an image type"),
                ),
            }
        }
        let also = t.also.as_ref().and_then(|a| {
            col.text(file, &entry, "also.label", &a.label);
            match Attribute::parse(&a.attribute) {
                Some(attr) => Some((attr, a.label.clone())),
                None => {
                    col.add(
                        file,
                        Some(&entry),
                        format!("also: unknown attribute \"{}\"", a.attribute),
                    );
                    None
                }
            }
        });
        let rules = t
            .rule
            .iter()
            .enumerate()
            .map(|(n, r)| {
                compile_rule(
                    &mut col,
                    &mut literals,
                    file,
                    &entry,
                    n + 1,
                    r,
                    &concept_ids,
                    &types,
                )
            })
            .collect();
        topics.push(Topic {
            id: t.id.clone(),
            file: file.to_string(),
            question: t.question.clone(),
            phrasings: t.phrasings.clone(),
            related,
            attribute,
            default_type,
            types: topic_types,
            route,
            rules,
            answer: t.answer.clone(),
            by_type,
            also,
        });
    }
    if !col.problems.is_empty() {
        return Err(KnowledgeError {
            problems: col.problems,
        });
    }

    // The lexicon learns the English words of every form and phrasing, so a
    // misspelt word can be corrected towards one of them.
    let fuzz = |c: &Concept| match c.kind {
        ConceptKind::Type(_) => Fuzz::Loose,
        ConceptKind::Gap(_) => Fuzz::Exact,
        ConceptKind::Plain if c.veto.is_some() || c.foreign || !c.fuzzy => Fuzz::Exact,
        ConceptKind::Plain if c.anchor => Fuzz::Loose,
        ConceptKind::Plain => Fuzz::Homophone,
    };
    // English words only: a plain ASCII split is enough (and much cheaper
    // than normalizing every phrasing a second time).
    let words_of = |texts: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        texts
            .flat_map(|s| {
                s.split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
                    .filter(|w| !w.is_empty() && w.is_ascii())
                    .map(|w| w.to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // Typos are corrected towards the words of fuzzy forms and phrasings;
    // the words of exact-only forms are known but never a target.
    let mut targets = words_of(
        &mut forms
            .iter()
            .filter(|(_, c)| fuzz(&concepts[*c]) != Fuzz::Exact)
            .map(|(f, _)| f),
    );
    for t in &topics {
        targets.extend(words_of(&mut t.phrasings.iter().chain([&t.question.en])));
    }
    let known = words_of(&mut forms.iter().map(|(f, _)| f));
    let lexicon = Lexicon::build(
        forms
            .iter()
            .map(|(f, c)| (f.as_str(), *c, fuzz(&concepts[*c]))),
        targets,
        known,
        |c| concepts[c].anchor || matches!(concepts[c].kind, ConceptKind::Type(_)),
    );
    let find_concept = |id: &str| concepts.iter().position(|c| c.id == id);
    let special = Special {
        image: find_concept("image"),
        compare: find_concept("compare"),
        greeting: find_concept("greeting"),
        thanks: find_concept("thanks"),
        identity: find_concept("identity"),
    };
    let mut kb = Knowledge {
        special,
        topics,
        types,
        concepts,
        gaps,
        routes: Routes {
            ticket_url: routes.ticket.url,
            ticket_label: routes.ticket.label,
            vendor_channels: routes.vendor.channels,
            vendor_where: routes.vendor.where_,
            vendor_fallback: routes.vendor.fallback,
            vendor_text: routes.vendor.text,
        },
        messages: bot.messages,
        lexicon,
        index: Index::default(),
        literals: Literals::new(literals.words),
        triggers: Triggers::default(),
    };
    for t in 0..kb.types.len() {
        for a in Attribute::ALL {
            let concepts = match &kb.types[t].cells[a.index()] {
                Some(cell) => {
                    let mut cs = concepts_of(&kb, &cell.zh);
                    cs.extend(concepts_of(&kb, &cell.en));
                    cs.sort_unstable();
                    cs.dedup();
                    cs
                }
                None => Vec::new(),
            };
            kb.types[t].cell_concepts[a.index()] = concepts;
        }
    }
    kb.index = Index::build(&kb);
    kb.triggers = Triggers::build(&kb.topics);
    Ok(kb)
}

fn concepts_of(kb: &Knowledge, text: &str) -> Vec<usize> {
    let a = analyze_terms(kb, text);
    (0..kb.concepts.len()).filter(|&c| a.has(c)).collect()
}

fn message_texts(m: &Messages) -> [(&'static str, &Text); 11] {
    [
        ("decline", &m.decline),
        ("unsure", &m.unsure),
        ("mirror", &m.mirror),
        ("gap", &m.gap),
        ("greeting", &m.greeting),
        ("thanks", &m.thanks),
        ("identity", &m.identity),
        ("empty", &m.empty),
        ("clarify", &m.clarify),
        ("compare_intro", &m.compare_intro),
        ("also", &m.also),
    ]
}

/// Literal words of rules, numbered once each for the matcher's automaton.
#[derive(Default)]
struct LiteralIds {
    words: Vec<String>,
    ids: HashMap<String, usize>,
}

impl LiteralIds {
    fn id(&mut self, word: String) -> usize {
        if let Some(&i) = self.ids.get(&word) {
            return i;
        }
        self.words.push(word.clone());
        self.ids.insert(word, self.words.len() - 1);
        self.words.len() - 1
    }
}

#[allow(clippy::too_many_arguments)]
fn compile_rule(
    col: &mut Collector,
    literals: &mut LiteralIds,
    file: &str,
    entry: &str,
    n: usize,
    r: &RuleDef,
    concepts: &HashMap<&str, usize>,
    types: &[ImageType],
) -> Rule {
    let label = format!("{file} rule {n}");
    let rule_entry = format!("{entry} rule {n}");
    let mut term = |s: &String, col: &mut Collector| -> Option<Term> {
        if let Some(id) = s.strip_prefix('#') {
            let found = concepts.get(id).copied();
            if found.is_none() {
                col.add(
                    file,
                    Some(&rule_entry),
                    format!("unknown concept \"#{id}\" (see lexicon.toml)"),
                );
            }
            found.map(Term::Concept)
        } else if let Some(id) = s.strip_prefix('@') {
            if id == "any" {
                return Some(Term::AnyType);
            }
            let found = types.iter().position(|t| t.id == id);
            if found.is_none() {
                col.add(
                    file,
                    Some(&rule_entry),
                    format!("unknown image type \"@{id}\""),
                );
            }
            found.map(Term::Type)
        } else {
            let lit = normalize(s).text;
            if lit.is_empty() {
                col.add(
                    file,
                    Some(&rule_entry),
                    format!("the word \"{s}\" is empty after normalization"),
                );
                return None;
            }
            Some(Term::Literal(literals.id(lit)))
        }
    };
    let all = r
        .all
        .iter()
        .filter_map(|s| term(s, col))
        .collect::<Vec<_>>();
    let any = r
        .any
        .iter()
        .filter_map(|s| term(s, col))
        .collect::<Vec<_>>();
    let none = r.none.iter().filter_map(|s| term(s, col)).collect();
    let regex = r.regex.as_deref().and_then(|re| match Regex::new(re) {
        Ok(re) => Some(re),
        Err(e) => {
            col.add(file, Some(&rule_entry), format!("invalid regex: {e}"));
            None
        }
    });
    if all.is_empty() && any.is_empty() && regex.is_none() {
        col.add(
            file,
            Some(&rule_entry),
            "a rule needs `all`, `any` or `regex`",
        );
    }
    if !(r.weight.is_finite() && r.weight > 0.0 && r.weight <= 10.0) {
        col.add(
            file,
            Some(&rule_entry),
            format!("weight {} must be above 0 and at most 10", r.weight),
        );
    }
    Rule {
        all,
        any,
        none,
        regex,
        weight: r.weight,
        label,
    }
}
