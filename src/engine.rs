//! The decision: from a message and the conversation so far to one reply.
//! Pure: no I/O, no clock; every front end calls [`answer`].

use crate::analyze::{analyze, Analysis};
use crate::dialogue::Conversation;
use crate::knowledge::{Attribute, Knowledge, RouteKind, Text, TopicRoute};
use crate::markup::to_plain;
use crate::matcher::{gap, score, Candidate};
use crate::normalize::to_traditional;
use crate::reply::{Lang, Reply, ReplyKind, Route};

/// A topic is clearly asked about at this score (one strong rule).
pub const SIGNAL: f32 = 2.5;
/// Below this score nothing is answered.
pub const MIN_SCORE: f32 = 2.4;
/// A message with no image word and no conversation behind it needs this much.
pub const UNANCHORED: f32 = 4.8;
/// Below this confidence the bot asks instead of answering.
pub const MIN_CONFIDENCE: f32 = 0.35;

/// Why a message got its reply, for people editing the knowledge.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    pub normalized: String,
    pub hits: Vec<String>,
    pub types: Vec<String>,
    pub candidates: Vec<String>,
    pub context: Vec<String>,
    pub decision: String,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "normalized: {}", self.normalized)?;
        writeln!(
            f,
            "concepts:   {}",
            if self.hits.is_empty() {
                "-".into()
            } else {
                self.hits.join(", ")
            }
        )?;
        writeln!(
            f,
            "types:      {}",
            if self.types.is_empty() {
                "-".into()
            } else {
                self.types.join(", ")
            }
        )?;
        writeln!(f, "candidates:")?;
        for c in &self.candidates {
            writeln!(f, "  {c}")?;
        }
        for c in &self.context {
            writeln!(f, "context:    {c}")?;
        }
        write!(f, "decision:   {}", self.decision)
    }
}

/// Answers one message, updating the conversation.
pub fn answer(kb: &Knowledge, conv: &mut Conversation, message: &str) -> Reply {
    let mut reply = decide(kb, conv, message, None);
    crate::triage::attach(kb, conv, message, &mut reply);
    reply
}

/// Like [`answer`], and says why.
pub fn answer_explained(
    kb: &Knowledge,
    conv: &mut Conversation,
    message: &str,
) -> (Reply, Explanation) {
    let mut ex = Explanation::default();
    let mut reply = decide(kb, conv, message, Some(&mut ex));
    crate::triage::attach(kb, conv, message, &mut reply);
    (reply, ex)
}

fn pick(t: &Text, lang: Lang) -> &str {
    if lang.is_zh() {
        &t.zh
    } else {
        &t.en
    }
}

fn detect_lang(a: &Analysis, message: &str) -> Lang {
    if a.norm.han {
        if a.norm.traditional {
            Lang::ZhHant
        } else {
            Lang::Zh
        }
    } else if message.chars().any(|c| c.is_ascii_alphabetic()) {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// Confidence from the score and the lead over the next topic.
fn confidence(score: f32, margin: f32) -> f32 {
    let level = 1.0 / (1.0 + (-(score - 2.2) * 1.6).exp());
    (level * (0.55 + 0.45 * (margin / 1.0).min(1.0))).clamp(0.0, 1.0)
}

fn describe(kb: &Knowledge, c: &Candidate) -> String {
    let t = &kb.topics[c.topic];
    let rule = c.rule.map_or("no rule".to_string(), |(i, w)| {
        format!("{} (+{w:.1})", t.rules[i].label)
    });
    let phr = c.phrasing.map_or(String::new(), |p| {
        format!(" ~ \"{}\"", kb.index.phrasing_text(p))
    });
    format!(
        "{:<22} {:>5.2}  {rule}; similarity {:.2}{phr}",
        t.id, c.score, c.sim
    )
}

struct Ctx<'a> {
    kb: &'a Knowledge,
    lang: Lang,
}

impl Ctx<'_> {
    fn text<'t>(&self, t: &'t Text) -> &'t str {
        pick(t, self.lang)
    }

    fn questions(&self, topics: impl IntoIterator<Item = usize>) -> (Vec<String>, Vec<String>) {
        topics
            .into_iter()
            .take(3)
            .map(|t| {
                (
                    self.text(&self.kb.topics[t].question).to_string(),
                    self.kb.topics[t].id.clone(),
                )
            })
            .unzip()
    }

    fn fill(&self, template: &Text, what: Option<&Text>) -> String {
        let r = &self.kb.routes;
        let mut s = self
            .text(template)
            .replace("{url}", &r.ticket_url)
            .replace("{label}", self.text(&r.ticket_label));
        if let Some(w) = what {
            s = s.replace("{what}", self.text(w));
        }
        s
    }

    fn finish(&self, mut reply: Reply) -> Reply {
        if self.lang == Lang::ZhHant {
            reply.markup = to_traditional(&reply.markup);
            reply.suggestions = reply
                .suggestions
                .iter()
                .map(|s| to_traditional(s))
                .collect();
        }
        reply.text = to_plain(&reply.markup);
        reply.lang = self.lang;
        reply
    }

    /// A reply that answers no FAQ entry.
    fn not_answered(
        &self,
        kind: ReplyKind,
        markup: String,
        suggest: Vec<usize>,
        confidence: f32,
    ) -> Reply {
        let (suggestions, suggestion_topics) = self.questions(suggest);
        self.finish(Reply {
            answered: false,
            topic: None,
            image_type: None,
            confidence,
            route: None,
            text: String::new(),
            suggestions,
            ticket: None,
            markup,
            suggestion_topics,
            kind,
            lang: self.lang,
        })
    }
}

/// The candidate of a message nothing matched.
fn nothing() -> Candidate {
    Candidate {
        topic: 0,
        score: 0.0,
        rule: None,
        sim: 0.0,
        phrasing: None,
    }
}

/// Topics worth offering: the best candidates with any evidence, else the first topics.
fn offer(kb: &Knowledge, cands: &[Candidate]) -> Vec<usize> {
    let mut out: Vec<usize> = cands
        .iter()
        .filter(|c| c.score > 0.8)
        .map(|c| c.topic)
        .take(3)
        .collect();
    for t in 0..kb.topics.len() {
        if out.len() >= 3 {
            break;
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn decide(
    kb: &Knowledge,
    conv: &mut Conversation,
    message: &str,
    mut ex: Option<&mut Explanation>,
) -> Reply {
    let a = analyze(kb, message);
    let lang = conv.lang.unwrap_or_else(|| detect_lang(&a, message));
    let cx = Ctx { kb, lang };
    conv.turns = conv.turns.saturating_add(1);
    let cands = score(kb, &a);
    if let Some(ex) = ex.as_deref_mut() {
        ex.normalized = a.norm.text.clone();
        ex.hits = a
            .hits
            .iter()
            .map(|h| {
                let ids: Vec<&str> = h
                    .concepts
                    .iter()
                    .map(|&c| kb.concepts[c].id.as_str())
                    .collect();
                let typo = if h.fuzzy {
                    format!(" (typo of \"{}\")", h.form)
                } else {
                    String::new()
                };
                format!("{} \"{}\"{typo}", ids.join("+"), h.surface)
            })
            .collect();
        ex.types = a.types.iter().map(|&t| kb.types[t].id.clone()).collect();
        ex.candidates = cands
            .iter()
            .take(5)
            .filter(|c| c.score > 0.0)
            .map(|c| describe(kb, c))
            .collect();
    }
    let note = |ex: &mut Option<&mut Explanation>, s: String| {
        if let Some(ex) = ex.as_deref_mut() {
            ex.context.push(s);
        }
    };
    let decided = |ex: &mut Option<&mut Explanation>, s: &str| {
        if let Some(ex) = ex.as_deref_mut() {
            ex.decision = s.to_string();
        }
    };

    if a.norm.text.trim().is_empty() {
        decided(&mut ex, "empty message: a prompt");
        let m = cx.fill(&kb.messages.empty, None);
        return cx.not_answered(ReplyKind::Empty, m, offer(kb, &[]), 0.0);
    }
    // A mirror sense yields to a named image type ("云市场买的 Docker 镜像打不开"
    // is about a marketplace image); other vetoes never yield.
    let veto = a
        .veto
        .filter(|&v| kb.concepts[v].veto.as_deref() != Some("mirror") || a.types.is_empty());
    if let Some(v) = veto {
        let mirror = kb.concepts[v].veto.as_deref() == Some("mirror");
        let (kind, msg, why) = if mirror {
            (
                ReplyKind::Mirror,
                &kb.messages.mirror,
                "镜像/image in another sense (mirror, registry, screen, picture)",
            )
        } else {
            (
                ReplyKind::Decline,
                &kb.messages.decline,
                "a request the bot always declines",
            )
        };
        decided(
            &mut ex,
            &format!("{why}: declined (concept {})", kb.concepts[v].id),
        );
        return cx.not_answered(kind, cx.fill(msg, None), offer(kb, &[]), 0.95);
    }

    let context = conv.last_topic.as_deref().and_then(|id| kb.topic(id));
    let best = cands.first().cloned().unwrap_or_else(nothing);
    let margin = best.score - cands.get(1).map_or(0.0, |c| c.score);
    let smalltalk = |c: Option<usize>| c.is_some_and(|c| a.has(c));
    // The strongest intent rule that fired: similarity alone never makes a
    // message more than a follow-up.
    let signal = cands
        .iter()
        .filter_map(|c| c.rule.map(|r| r.1))
        .fold(0.0, f32::max);

    // A bare type right after "which image type?", or a type-only follow-up
    // ("那公共镜像呢？"): the previous topic, for the new type.
    let clarified = conv.pending_clarify && signal < SIGNAL + 1.0;
    if let Some(ctx_topic) =
        context.filter(|_| !a.types.is_empty() && (clarified || signal < SIGNAL))
    {
        note(
            &mut ex,
            format!(
                "type-only follow-up: kept topic {} from the conversation",
                kb.topics[ctx_topic].id
            ),
        );
        let conf = if a.hits.iter().any(|h| h.fuzzy) {
            0.7
        } else {
            0.8
        };
        return respond(&cx, conv, ctx_topic, a.types.clone(), &a, conf, message, ex);
    }

    // A strong problem report is routed even when it names something the
    // FAQ does not cover; otherwise an uncovered question is declined honestly.
    let strong_problem = kb.topics[best.topic].route == TopicRoute::ByType
        && best.rule.is_some_and(|r| r.1 >= SIGNAL + 1.0);
    if let Some(g) = gap(kb, &a).filter(|_| (a.anchored || context.is_some()) && !strong_problem) {
        decided(
            &mut ex,
            &format!(
                "an image question the FAQ does not answer (gap {})",
                kb.gaps[g].id
            ),
        );
        let m = cx.fill(&kb.messages.gap, Some(&kb.gaps[g].name));
        return cx.not_answered(ReplyKind::Gap, m, offer(kb, &cands), 0.9);
    }

    let anchored = a.anchored && !(a.foreign && a.types.is_empty());
    // Another product's word with no image word: not ours, however well
    // the rest matches ("云硬盘快照怎么收费").
    let needed = if anchored || (context.is_some() && !a.foreign) {
        MIN_SCORE
    } else if a.foreign {
        f32::INFINITY
    } else {
        UNANCHORED
    };
    if best.score >= needed {
        let c = confidence(best.score, margin);
        if c < MIN_CONFIDENCE {
            decided(&mut ex, &format!("unsure: confidence {c:.2} under {MIN_CONFIDENCE}; asked which question was meant"));
            return cx.not_answered(
                ReplyKind::Unsure,
                cx.fill(&kb.messages.unsure, None),
                offer(kb, &cands),
                c,
            );
        }
        return respond(&cx, conv, best.topic, a.types.clone(), &a, c, message, ex);
    }

    // An elliptical follow-up ("是按账号算吗") read together with the
    // message it follows, when it says something of its own.
    if let (Some(_), Some(prev), true) = (
        context,
        conv.last_message.clone(),
        has_evidence(kb, &a) && !a.foreign,
    ) {
        let joined = analyze(kb, &format!("{prev} {message}"));
        let jc = score(kb, &joined);
        let top = jc.first().cloned().unwrap_or_else(nothing);
        if top.score >= MIN_SCORE && joined.veto.is_none() {
            note(
                &mut ex,
                format!(
                    "read with the previous message \"{prev}\": {}",
                    describe(kb, &top)
                ),
            );
            let margin = top.score - jc.get(1).map_or(0.0, |c| c.score);
            let c = 0.85 * confidence(top.score, margin);
            if c >= MIN_CONFIDENCE {
                return respond(
                    &cx,
                    conv,
                    top.topic,
                    joined.types.clone(),
                    &joined,
                    c,
                    message,
                    ex,
                );
            }
        }
    }

    let small = if smalltalk(kb.special.greeting) {
        Some((ReplyKind::Greeting, &kb.messages.greeting))
    } else if smalltalk(kb.special.thanks) {
        Some((ReplyKind::Thanks, &kb.messages.thanks))
    } else if smalltalk(kb.special.identity) {
        Some((ReplyKind::Identity, &kb.messages.identity))
    } else {
        None
    };
    if let Some((kind, msg)) = small {
        decided(&mut ex, "small talk: a short reply and the topics");
        return cx.not_answered(kind, cx.fill(msg, None), offer(kb, &[]), 0.9);
    }
    let unsure = anchored && best.score >= 1.5;
    let why = if anchored {
        "in the domain"
    } else {
        "no image word, no conversation to lean on"
    };
    decided(
        &mut ex,
        &format!(
            "declined: best score {:.2} is under {needed:.1} ({why})",
            best.score
        ),
    );
    let (kind, msg) = if unsure {
        (ReplyKind::Unsure, &kb.messages.unsure)
    } else {
        (ReplyKind::Decline, &kb.messages.decline)
    };
    cx.not_answered(kind, cx.fill(msg, None), offer(kb, &cands), 0.0)
}

/// Words of intent of the message's own (not small talk, not a bare type).
fn has_evidence(kb: &Knowledge, a: &Analysis) -> bool {
    let s = &kb.special;
    a.hits.iter().flat_map(|h| h.concepts.iter()).any(|&c| {
        let concept = &kb.concepts[c];
        concept.is_intent()
            && !concept.foreign
            && Some(c) != s.greeting
            && Some(c) != s.thanks
            && Some(c) != s.identity
    })
}

/// The image types an answer on `topic` is about: those named, else the
/// conversation's (for a follow-up), else the one type whose cell alone
/// holds what is asked ("每天操作几次" is only in the custom row).
fn answer_types(
    cx: &Ctx,
    conv: &Conversation,
    topic: usize,
    named: Vec<usize>,
    a: &Analysis,
    ex: &mut Option<&mut Explanation>,
) -> Vec<usize> {
    let kb = cx.kb;
    if !named.is_empty() {
        return named;
    }
    let t = &kb.topics[topic];
    let bare_image = kb.special.image.is_some_and(|c| a.has(c));
    let last = conv
        .last_type
        .as_deref()
        .and_then(|id| kb.type_index(id))
        .filter(|_| conv.last_topic.is_some());
    if let Some(last) = last.filter(|l| {
        !bare_image
            && (t.attribute.is_some() || t.route == TopicRoute::ByType || t.types.contains(l))
    }) {
        if let Some(ex) = ex.as_deref_mut() {
            ex.context.push(format!(
                "topic-only follow-up: kept image type {} from the conversation",
                kb.types[last].id
            ));
        }
        return vec![last];
    }
    if let Some(attr) = t.attribute {
        let mut only: Option<usize> = None;
        for (c, concept) in kb.concepts.iter().enumerate() {
            if !a.has(c) || !concept.is_intent() {
                continue;
            }
            // Only words that no other type's cells use at all.
            let in_row = |ty: usize| kb.types[ty].cell_concepts[attr.index()].contains(&c);
            let anywhere = |ty: usize| kb.types[ty].cell_concepts.iter().any(|cs| cs.contains(&c));
            let owners: Vec<usize> = (0..kb.types.len()).filter(|&ty| anywhere(ty)).collect();
            if let [ty] = owners[..] {
                if !in_row(ty) {
                    continue;
                }
                if only.is_some_and(|o| o != ty) {
                    return Vec::new();
                }
                only = Some(ty);
            }
        }
        if let Some(ty) = only {
            if let Some(ex) = ex.as_deref_mut() {
                ex.context.push(format!(
                    "only the {} row of {} holds what is asked",
                    kb.types[ty].id,
                    attr.name()
                ));
            }
            return vec![ty];
        }
    }
    Vec::new()
}

#[allow(clippy::too_many_arguments)]
fn respond(
    cx: &Ctx,
    conv: &mut Conversation,
    topic: usize,
    named: Vec<usize>,
    a: &Analysis,
    conf: f32,
    message: &str,
    mut ex: Option<&mut Explanation>,
) -> Reply {
    let kb = cx.kb;
    let types = answer_types(cx, conv, topic, named, a, &mut ex);
    let reply = compose(cx, topic, &types, a, conf);
    if let Some(ex) = ex {
        ex.decision = format!(
            "answered {} (type {}, route {}), confidence {:.2}",
            kb.topics[topic].id,
            reply.image_type.as_deref().unwrap_or("-"),
            reply.route.as_ref().map_or("-", |r| r.kind()),
            reply.confidence
        );
    }
    conv.last_topic = reply.topic.clone();
    conv.last_type = reply.image_type.clone();
    conv.pending_clarify = matches!(reply.route, Some(Route::Clarify { .. }));
    conv.last_message = Some(message.chars().take(200).collect());
    reply
}

fn compose(cx: &Ctx, topic: usize, types: &[usize], a: &Analysis, confidence: f32) -> Reply {
    let kb = cx.kb;
    let t = &kb.topics[topic];
    let compare = kb.special.compare.is_some_and(|c| a.has(c));
    let single = (types.len() == 1 && !compare).then(|| types[0]);
    let mut image_type = None;
    let mut markup = String::new();
    if let Some(attr) = t.attribute {
        match single {
            Some(ty) => {
                image_type = Some(ty);
                markup = cell_text(cx, ty, attr);
                let also = t.also.as_ref().filter(|(also, _)| {
                    kb.types[ty].cells[attr.index()].is_some() && *also != attr
                });
                if let Some(cell) = also.and_then(|(also, label)| {
                    Some((kb.types[ty].cells[also.index()].as_ref()?, label))
                }) {
                    markup.push('\n');
                    markup.push_str(cx.text(cell.1));
                    markup.push_str(cx.text(cell.0));
                }
                let shown = also.map(|(also, _)| *also);
                if let Some(extra) = neighbour(kb, ty, attr, a).filter(|&n| Some(n) != shown) {
                    markup.push('\n');
                    markup.push_str(cx.text(&kb.messages.also));
                    markup.push_str(&cell_text(cx, ty, extra));
                }
            }
            None if types.len() >= 2 && types.len() < kb.types.len() && !compare => {
                markup.push_str(cx.text(&kb.messages.compare_intro));
                for &ty in types {
                    markup.push_str("\n- ");
                    markup.push_str(&cell_text(cx, ty, attr).replace('\n', " "));
                }
            }
            None => markup.push_str(cx.text(&t.answer)),
        }
    } else {
        match single.and_then(|ty| t.by_type[ty].as_ref().map(|b| (ty, b))) {
            Some((ty, text)) => {
                image_type = Some(ty);
                markup.push_str(cx.text(text));
            }
            None => {
                image_type = single.or(t.default_type);
                markup.push_str(cx.text(&t.answer));
            }
        }
    }
    let route = match t.route {
        TopicRoute::None => None,
        TopicRoute::Vendor => Some(vendor_route(kb)),
        TopicRoute::ByType => Some(match image_type.map(|ty| kb.types[ty].route) {
            Some(RouteKind::Ticket) => Route::Ticket {
                url: kb.routes.ticket_url.clone(),
            },
            Some(RouteKind::Vendor) => vendor_route(kb),
            None => {
                markup.push('\n');
                markup.push_str(cx.text(&kb.messages.clarify));
                Route::Clarify {
                    options: kb.types.iter().map(|t| t.id.clone()).collect(),
                }
            }
        }),
    };
    let (suggestions, suggestion_topics) =
        cx.questions(t.related.iter().copied().filter(|&r| r != topic));
    cx.finish(Reply {
        answered: true,
        topic: Some(t.id.clone()),
        image_type: image_type.map(|ty| kb.types[ty].id.clone()),
        confidence,
        route,
        text: String::new(),
        suggestions,
        ticket: None,
        markup,
        suggestion_topics,
        kind: ReplyKind::Answer,
        lang: cx.lang,
    })
}

fn vendor_route(kb: &Knowledge) -> Route {
    Route::Vendor {
        channels: kb.routes.vendor_channels.clone(),
        where_: kb.routes.vendor_where.clone(),
        fallback: kb.routes.vendor_fallback.clone(),
    }
}

/// One type's cell, named: "共享镜像：…", or the honest note for an empty cell.
fn cell_text(cx: &Ctx, ty: usize, attr: Attribute) -> String {
    let t = &cx.kb.types[ty];
    let name = cx.text(&t.name);
    let sep = if cx.lang.is_zh() { "：" } else { ": " };
    match (&t.cells[attr.index()], &t.gaps[attr.index()]) {
        (Some(cell), _) => {
            let body = cx.text(cell);
            if body.starts_with("- ") {
                format!("{}{}\n{body}", capitalize(name), sep.trim_end())
            } else {
                format!("{}{sep}{body}", capitalize(name))
            }
        }
        (None, Some(gap)) => cx.text(gap).to_string(),
        (None, None) => String::new(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Another attribute of the same type whose cell holds what the message asks
/// about when the answered cell does not ("上架前要审核吗" asked of security:
/// the review is in the description).
fn neighbour(kb: &Knowledge, ty: usize, attr: Attribute, a: &Analysis) -> Option<Attribute> {
    let t = &kb.types[ty];
    t.cells[attr.index()].as_ref()?;
    let primary = &t.cell_concepts[attr.index()];
    let asked: Vec<usize> = (0..kb.concepts.len())
        .filter(|&c| a.has(c) && kb.concepts[c].is_intent() && !primary.contains(&c))
        .collect();
    Attribute::ALL
        .into_iter()
        .filter(|&other| other != attr && t.cells[other.index()].is_some())
        .find(|other| {
            asked
                .iter()
                .any(|c| t.cell_concepts[other.index()].contains(c))
        })
}
