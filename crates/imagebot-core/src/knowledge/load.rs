//! Reading knowledge files and compiling them, collecting every problem.

use super::position::line_column;
use super::punct::fullwidth_in_en_values;
use super::schema::{
    BotFile, ConceptDef, LexiconFile, ProblemKindDef, RoutesFile, RuleDef, SuggestDef, Text,
    TopicFile, TypeDef, TypesFile,
};
use super::*;
use crate::normalize::{fold, normalize};
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// One knowledge file: its path relative to the folder, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path relative to the knowledge folder (`types.toml`, `topics/x.toml`).
    pub path: String,
    /// The file's content.
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

/// The four root files and the topic files, parsed.
struct Parsed<'f> {
    bot: BotFile,
    routes: RoutesFile,
    types: TypesFile,
    lexicon: LexiconFile,
    topics: Vec<(&'f SourceFile, TopicFile)>,
}

/// Parses every file, noting missing, unknown and malformed ones.
fn parse_files<'f>(col: &mut Collector, files: &'f [SourceFile]) -> Option<Parsed<'f>> {
    let root = |name: &str, col: &mut Collector| {
        let f = files.iter().find(|f| f.path == name);
        if f.is_none() {
            col.add(name, None, "missing (every knowledge folder has bot.toml, routes.toml, types.toml, lexicon.toml and topics/)");
        }
        f
    };
    let bot: Option<BotFile> = root("bot.toml", col).and_then(|f| col.parse(f));
    let routes: Option<RoutesFile> = root("routes.toml", col).and_then(|f| col.parse(f));
    let types: Option<TypesFile> = root("types.toml", col).and_then(|f| col.parse(f));
    let lexicon: Option<LexiconFile> = root("lexicon.toml", col).and_then(|f| col.parse(f));
    let is_topic = |f: &&SourceFile| f.path.starts_with("topics/");
    let topics: Vec<(&SourceFile, TopicFile)> = files
        .iter()
        .filter(is_topic)
        .filter_map(|f| col.parse::<TopicFile>(f).map(|t| (f, t)))
        .collect();
    if !files.iter().any(|f| is_topic(&f)) {
        col.add("topics/", None, "no topic files");
    }
    for f in files {
        if !is_topic(&f) && !ROOT_FILES.contains(&f.path.as_str()) {
            col.add(&f.path, None, "unknown file (expected bot.toml, routes.toml, types.toml, lexicon.toml or topics/*.toml)");
        }
    }
    Some(Parsed {
        bot: bot?,
        routes: routes?,
        types: types?,
        lexicon: lexicon?,
        topics,
    })
}

/// Parses and validates a set of knowledge files.
pub fn compile(files: &[SourceFile]) -> Result<Knowledge, KnowledgeError> {
    let mut col = Collector {
        problems: Vec::new(),
    };
    let Some(parsed) = parse_files(&mut col, files) else {
        return Err(KnowledgeError {
            problems: col.problems,
        });
    };
    for (name, t) in message_texts(&parsed.bot.messages) {
        col.text("bot.toml", &format!("messages.{name}"), "message", t);
    }
    for f in files {
        for (place, c) in fullwidth_in_en_values(&f.text) {
            col.add(
                &f.path,
                Some(&place),
                format!("full-width '{c}' in English (en) text; use ASCII punctuation"),
            );
        }
    }
    let routes = compile_routes(&mut col, parsed.routes);
    let types = compile_types(&mut col, &parsed.types);
    let (concepts, gaps) = compile_concepts(&mut col, &parsed.lexicon, &parsed.types, &types);
    let problem_kinds = compile_problem_kinds(&mut col, &parsed.lexicon.problem_kind);
    let mut literals = LiteralIds::default();
    let topics = compile_topics(&mut col, &parsed.topics, &types, &concepts, &mut literals);
    let bot_text = files.iter().find(|f| f.path == "bot.toml");
    let suggested = compile_suggest(&mut col, &parsed.bot.suggest, &topics, bot_text);
    if !col.problems.is_empty() {
        return Err(KnowledgeError {
            problems: col.problems,
        });
    }
    let special = Special::find(&concepts);
    Ok(Knowledge {
        special,
        topics,
        types,
        concepts,
        gaps,
        routes,
        messages: parsed.bot.messages,
        literals: literals.words,
        problem_kinds,
        suggested,
    })
}

/// The curated suggestions as topic numbers; an unknown or repeated id is a
/// problem located by line and column.
fn compile_suggest(
    col: &mut Collector,
    def: &SuggestDef,
    topics: &[Topic],
    file: Option<&SourceFile>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for id in &def.topics {
        let at = file.map_or(String::new(), |f| line_column(&f.text, id.span().start));
        match topics.iter().position(|t| t.id == *id.get_ref()) {
            Some(t) if out.contains(&t) => {
                col.add(
                    "bot.toml",
                    Some(&at),
                    format!("suggest.topics: \"{}\" is listed twice", id.get_ref()),
                );
            }
            Some(t) => out.push(t),
            None => col.add(
                "bot.toml",
                Some(&at),
                format!(
                    "suggest.topics: no topic \"{}\" (give a topic id from topics/)",
                    id.get_ref()
                ),
            ),
        }
    }
    out
}

/// Kinds of problem in their order, the fallback (no words) moved last; its
/// words folded as a message is for extraction.
fn compile_problem_kinds(col: &mut Collector, defs: &[ProblemKindDef]) -> Vec<ProblemKind> {
    let mut kinds: Vec<ProblemKind> = Vec::new();
    for d in defs {
        let entry = format!("problem_kind {}", d.id);
        if !valid_id(&d.id) {
            col.add(
                "lexicon.toml",
                Some(&entry),
                "id must be lower-case letters, digits and '-'",
            );
        }
        if kinds.iter().any(|k| k.id == d.id) {
            col.add("lexicon.toml", Some(&entry), "duplicate problem_kind id");
        }
        col.text("lexicon.toml", &entry, "label", &d.label);
        let fold_word = |w: &String| -> String {
            fold(w, usize::MAX)
                .chars
                .iter()
                .map(char::to_ascii_lowercase)
                .collect()
        };
        let words: Vec<String> = d.words.iter().map(fold_word).collect();
        if words.iter().any(|w| w.trim().is_empty()) {
            col.add("lexicon.toml", Some(&entry), "an empty word");
        }
        kinds.push(ProblemKind {
            id: d.id.clone(),
            label: d.label.clone(),
            words,
        });
    }
    let fallbacks = kinds.iter().filter(|k| k.words.is_empty()).count();
    if fallbacks != 1 {
        col.add(
            "lexicon.toml",
            Some("problem_kind"),
            format!("{fallbacks} kinds with no words: exactly one, the fallback for a problem no word names, is needed"),
        );
    }
    kinds.sort_by_key(|k| k.words.is_empty());
    kinds
}

fn compile_routes(col: &mut Collector, routes: RoutesFile) -> Routes {
    if !routes.ticket.url.starts_with("https://") {
        col.add(
            "routes.toml",
            Some("ticket"),
            "url must start with https://",
        );
    }
    col.text("routes.toml", "ticket", "label", &routes.ticket.label);
    col.text("routes.toml", "vendor", "text", &routes.vendor.text);
    Routes {
        ticket_url: routes.ticket.url,
        ticket_label: routes.ticket.label,
        vendor_channels: routes.vendor.channels,
        vendor_where: routes.vendor.where_,
        vendor_fallback: routes.vendor.fallback,
        vendor_text: routes.vendor.text,
    }
}

fn compile_types(col: &mut Collector, file: &TypesFile) -> Vec<ImageType> {
    let mut types: Vec<ImageType> = Vec::new();
    let mut alias_owner: HashMap<String, String> = HashMap::new();
    for t in &file.types {
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
        let (cells, gaps) = type_cells(col, &entry, t);
        types.push(ImageType {
            id: t.id.clone(),
            name: t.name.clone(),
            route: t.route,
            cells,
            gaps,
        });
    }
    types
}

type Cells = [Option<Text>; 5];

/// A type's cells and its notes for empty ones: every attribute has one or the other.
fn type_cells(col: &mut Collector, entry: &str, t: &TypeDef) -> (Cells, Cells) {
    let cells = [
        t.description.clone(),
        t.fee.clone(),
        t.security.clone(),
        t.billing.clone(),
        t.limits.clone(),
    ];
    let mut gaps: Cells = Default::default();
    for (a, text) in &t.gaps {
        let name = a.name();
        if cells[a.index()].is_some() {
            col.add(
                "types.toml",
                Some(entry),
                format!("gap note for {name}, which has a cell"),
            );
        }
        col.text("types.toml", entry, &format!("gaps.{name}"), text);
        gaps[a.index()] = Some(text.clone());
    }
    for a in Attribute::ALL {
        match &cells[a.index()] {
            Some(c) => col.text("types.toml", entry, a.name(), c),
            None if gaps[a.index()].is_none() => col.add(
                "types.toml",
                Some(entry),
                format!("no {} cell and no gap note: say what the document says nearby under [type.gaps]", a.name()),
            ),
            None => {}
        }
    }
    (cells, gaps)
}

/// Concepts: the lexicon's, then one per type (its aliases), then one per gap.
fn compile_concepts(
    col: &mut Collector,
    lexicon: &LexiconFile,
    types_file: &TypesFile,
    types: &[ImageType],
) -> (Vec<Concept>, Vec<Gap>) {
    let mut concepts: Vec<Concept> = Vec::new();
    for c in &lexicon.concept {
        let entry = format!("concept {}", c.id);
        if concepts.iter().any(|x| x.id == c.id) {
            col.add("lexicon.toml", Some(&entry), "duplicate concept id");
        }
        if c.forms.is_empty() {
            col.add("lexicon.toml", Some(&entry), "no forms");
        }
        concepts.push(lexicon_concept(col, &entry, c, types));
    }
    for (t, def) in types_file.types.iter().enumerate() {
        concepts.push(Concept {
            id: format!("@{}", def.id),
            kind: ConceptKind::Type(t),
            anchor: true,
            foreign: false,
            veto: None,
            unless: Vec::new(),
            forms: def.aliases.clone(),
            implies: None,
            suggests: None,
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
        concepts.push(Concept {
            id: format!("gap.{}", g.id),
            kind: ConceptKind::Gap(gaps.len()),
            anchor: false,
            foreign: false,
            veto: None,
            unless: Vec::new(),
            forms: g.any.clone(),
            implies: None,
            suggests: None,
            refines: Vec::new(),
            similarity: false,
            fuzzy: true,
        });
        gaps.push(Gap {
            id: g.id.clone(),
            name: g.name.clone(),
        });
    }
    for (c, def) in lexicon.concept.iter().enumerate() {
        let entry = format!("concept {}", def.id);
        for id in &def.unless {
            match concepts.iter().position(|x| &x.id == id) {
                Some(u) => concepts[c].unless.push(u),
                None => col.add(
                    "lexicon.toml",
                    Some(&entry),
                    format!("unless: unknown concept \"{id}\""),
                ),
            }
        }
        if !def.unless.is_empty() && def.veto.is_none() {
            col.add("lexicon.toml", Some(&entry), "unless needs a veto");
        }
    }
    (concepts, gaps)
}

/// The number of each type a concept names, noting unknown ones.
fn type_refs(
    col: &mut Collector,
    file: &str,
    entry: &str,
    ids: &[String],
    types: &[ImageType],
    problem: impl Fn(&str) -> String,
) -> Vec<usize> {
    ids.iter()
        .filter_map(|id| {
            let found = types.iter().position(|t| &t.id == id);
            if found.is_none() {
                col.add(file, Some(entry), problem(id));
            }
            found
        })
        .collect()
}

fn lexicon_concept(
    col: &mut Collector,
    entry: &str,
    c: &ConceptDef,
    types: &[ImageType],
) -> Concept {
    let implies = c.implies.as_slice();
    let implies = type_refs(col, "lexicon.toml", entry, implies, types, |t| {
        format!("implies unknown type \"{t}\"")
    });
    let suggests = c.suggests.as_slice();
    let suggests = type_refs(col, "lexicon.toml", entry, suggests, types, |t| {
        format!("suggests unknown type \"{t}\"")
    });
    let refines = type_refs(col, "lexicon.toml", entry, &c.refines, types, |t| {
        format!("refines unknown type \"{t}\"")
    });
    Concept {
        id: c.id.clone(),
        kind: ConceptKind::Plain,
        anchor: c.anchor,
        foreign: c.foreign,
        veto: c.veto,
        unless: Vec::new(),
        forms: c.forms.clone(),
        implies: implies.first().copied(),
        suggests: suggests.first().copied(),
        refines,
        similarity: c.intent,
        fuzzy: c.fuzzy,
    }
}

fn compile_topics(
    col: &mut Collector,
    files: &[(&SourceFile, TopicFile)],
    types: &[ImageType],
    concepts: &[Concept],
    literals: &mut LiteralIds,
) -> Vec<Topic> {
    let mut topic_ids: BTreeSet<&str> = BTreeSet::new();
    for (f, t) in files {
        if !topic_ids.insert(t.id.as_str()) {
            col.add(
                &f.path,
                Some(&format!("topic {}", t.id)),
                "duplicate topic id (another file has it)",
            );
        }
    }
    let names = Names {
        topics: files
            .iter()
            .enumerate()
            .map(|(i, (_, t))| (t.id.as_str(), i))
            .collect(),
        concepts: concepts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect(),
        types,
    };
    files
        .iter()
        .map(|(f, t)| compile_topic(col, &names, literals, &f.path, t))
        .collect()
}

/// What a topic's references are looked up in.
struct Names<'a> {
    topics: HashMap<&'a str, usize>,
    concepts: HashMap<&'a str, usize>,
    types: &'a [ImageType],
}

impl Names<'_> {
    fn type_of(&self, id: &str) -> Option<usize> {
        self.types.iter().position(|t| t.id == id)
    }
}

fn compile_topic(
    col: &mut Collector,
    names: &Names,
    literals: &mut LiteralIds,
    file: &str,
    t: &TopicFile,
) -> Topic {
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
            let found = names.topics.get(r.as_str()).copied();
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
    let default_type = t.default_type.as_slice();
    let default_type = type_refs(col, file, &entry, default_type, names.types, |d| {
        format!("default_type \"{d}\" is not an image type")
    });
    let topic_types = type_refs(col, file, &entry, &t.types, names.types, |ty| {
        format!("types: \"{ty}\" is not an image type")
    });
    let mut by_type = vec![None; names.types.len()];
    for (ty, text) in &t.by_type {
        match names.type_of(ty) {
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
    let also = t.also.as_ref().map(|a| {
        col.text(file, &entry, "also.label", &a.label);
        (a.attribute, a.label.clone())
    });
    let mut rules = RuleCompiler {
        col,
        literals,
        names,
        file,
        entry: &entry,
    };
    let rules = t
        .rule
        .iter()
        .enumerate()
        .map(|(n, r)| rules.compile(n + 1, r))
        .collect();
    Topic {
        id: t.id.clone(),
        file: file.to_string(),
        question: t.question.clone(),
        phrasings: t.phrasings.clone(),
        related,
        attribute: t.attribute,
        default_type: default_type.first().copied(),
        types: topic_types,
        route: t.route,
        rules,
        answer: t.answer.clone(),
        by_type,
        also,
    }
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

/// Compiles the rules of one topic.
struct RuleCompiler<'c, 'n> {
    col: &'c mut Collector,
    literals: &'c mut LiteralIds,
    names: &'c Names<'n>,
    file: &'c str,
    entry: &'c str,
}

impl RuleCompiler<'_, '_> {
    fn term(&mut self, rule_entry: &str, s: &str) -> Option<Term> {
        let (file, col) = (self.file, &mut *self.col);
        if let Some(id) = s.strip_prefix('#') {
            let found = self.names.concepts.get(id).copied();
            if found.is_none() {
                col.add(
                    file,
                    Some(rule_entry),
                    format!("unknown concept \"#{id}\" (see lexicon.toml)"),
                );
            }
            found.map(Term::Concept)
        } else if let Some(id) = s.strip_prefix('@') {
            if id == "any" {
                return Some(Term::AnyType);
            }
            let found = self.names.type_of(id);
            if found.is_none() {
                col.add(
                    file,
                    Some(rule_entry),
                    format!("unknown image type \"@{id}\""),
                );
            }
            found.map(Term::Type)
        } else {
            let lit = normalize(s).text;
            if lit.is_empty() {
                col.add(
                    file,
                    Some(rule_entry),
                    format!("the word \"{s}\" is empty after normalization"),
                );
                return None;
            }
            Some(Term::Literal(self.literals.id(lit)))
        }
    }

    fn terms(&mut self, rule_entry: &str, words: &[String]) -> Vec<Term> {
        words
            .iter()
            .filter_map(|s| self.term(rule_entry, s))
            .collect()
    }

    fn compile(&mut self, n: usize, r: &RuleDef) -> Rule {
        let label = format!("{} rule {n}", self.file);
        let rule_entry = format!("{} rule {n}", self.entry);
        let all = self.terms(&rule_entry, &r.all);
        let any = self.terms(&rule_entry, &r.any);
        let none = self.terms(&rule_entry, &r.none);
        let (file, col) = (self.file, &mut *self.col);
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
}
