//! The decision: from an analyzed message and the conversation so far to a
//! [`Decision`], which [`super::compose`] renders and [`super::Explanation`]
//! describes. Every threshold is a named constant here.

use super::explain::{describe, Explanation};
use crate::dialogue::Conversation;
use crate::knowledge::{Knowledge, Veto};
use crate::nlu::analyze::Analysis;
use crate::nlu::matcher::{gap, Candidate};
use crate::reply::ReplyKind;
use crate::Assistant;

/// A topic is clearly asked about at this score (one strong rule).
pub const SIGNAL: f32 = 2.5;
/// Below this score nothing is answered.
pub const MIN_SCORE: f32 = 2.4;
/// A message with no image word and no conversation behind it needs this much.
pub const UNANCHORED: f32 = 4.8;
/// Below this confidence the bot asks instead of answering.
pub const MIN_CONFIDENCE: f32 = 0.35;
/// A rule this much above [`SIGNAL`] is a message of its own, not a follow-up,
/// and a problem report that strong is routed even when it names a gap.
pub const STRONG_MARGIN: f32 = 1.0;
/// Confidence of a type-only follow-up ("那公共镜像呢？"), and of one whose type was a typo.
pub const FOLLOW_UP_CONFIDENCE: f32 = 0.8;
/// See [`FOLLOW_UP_CONFIDENCE`].
pub const FUZZY_FOLLOW_UP_CONFIDENCE: f32 = 0.7;
/// A message read together with the previous one keeps this share of its confidence.
pub const JOINED_DISCOUNT: f32 = 0.85;
/// Confidence of a veto (mirror sense, always-declined request).
pub const VETO_CONFIDENCE: f32 = 0.95;
/// Confidence of a gap and of small talk.
pub const SURE: f32 = 0.9;
/// An anchored message this close to [`MIN_SCORE`] gets suggestions, not a decline.
pub const UNSURE_SCORE: f32 = 1.5;
/// Topics scoring above this are worth offering as suggestions.
pub const OFFER_SCORE: f32 = 0.8;
/// The score at which confidence is one half.
const CONFIDENCE_MIDPOINT: f32 = 2.2;
/// How steeply confidence rises with the score.
const CONFIDENCE_SLOPE: f32 = 1.6;

/// What to say, before it is put in words.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing but spaces and punctuation: a prompt.
    Empty,
    /// A concept that declines outright (mirror sense, attacks).
    Veto {
        /// The concept.
        concept: usize,
        /// Mirror or decline.
        veto: Veto,
    },
    /// An image question the FAQ does not answer.
    Gap {
        /// The gap.
        gap: usize,
        /// Topics to offer.
        suggest: Vec<usize>,
    },
    /// A topic matched, but too unsurely: ask which question was meant.
    LowConfidence {
        /// The confidence it would have had.
        confidence: f32,
        /// Topics to offer.
        suggest: Vec<usize>,
    },
    /// A greeting, thanks, or "who are you".
    SmallTalk(ReplyKind),
    /// Nothing scored enough.
    NoMatch {
        /// The best score.
        best: f32,
        /// The score it needed.
        needed: f32,
        /// The message is in the domain.
        anchored: bool,
        /// In the domain and close: suggestions rather than a decline.
        unsure: bool,
        /// Topics to offer.
        suggest: Vec<usize>,
    },
    /// An answer.
    Answer(Plan),
}

/// An answer to give.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The topic.
    pub topic: usize,
    /// The image types it is about (named, from the conversation, or implied).
    pub types: Vec<usize>,
    /// How sure.
    pub confidence: f32,
    /// The message compares types: answer every type, compactly.
    pub compare: bool,
    /// The intent concepts the message holds (for adding a neighbouring cell).
    pub asked: Vec<usize>,
}

impl Decision {
    /// The decision in words, for `--explain` (answers are described with their reply).
    pub fn describe(&self, kb: &Knowledge) -> String {
        match self {
            Decision::Empty => "empty message: a prompt".into(),
            Decision::Veto { concept, veto } => {
                let why = match veto {
                    Veto::Mirror => "镜像/image in another sense (mirror, registry, screen, picture)",
                    Veto::Decline => "a request the bot always declines",
                };
                format!("{why}: declined (concept {})", kb.concepts[*concept].id)
            }
            Decision::Gap { gap, .. } => format!(
                "an image question the FAQ does not answer (gap {})",
                kb.gaps[*gap].id
            ),
            Decision::LowConfidence { confidence, .. } => format!(
                "unsure: confidence {confidence:.2} under {MIN_CONFIDENCE}; asked which question was meant"
            ),
            Decision::SmallTalk(_) => "small talk: a short reply and the topics".into(),
            Decision::NoMatch {
                best,
                needed,
                anchored,
                ..
            } => {
                let why = if *anchored {
                    "in the domain"
                } else {
                    "no image word, no conversation to lean on"
                };
                format!("declined: best score {best:.2} is under {needed:.1} ({why})")
            }
            Decision::Answer(plan) => format!("answered {}", kb.topics[plan.topic].id),
        }
    }
}

/// Confidence from the score and the lead over the next topic.
pub fn confidence(score: f32, margin: f32) -> f32 {
    let level = 1.0 / (1.0 + (-(score - CONFIDENCE_MIDPOINT) * CONFIDENCE_SLOPE).exp());
    (level * (0.55 + 0.45 * margin.min(1.0))).clamp(0.0, 1.0)
}

/// Topics worth offering: the best candidates with any evidence, else the first topics.
fn offer(kb: &Knowledge, cands: &[Candidate]) -> Vec<usize> {
    let mut out: Vec<usize> = cands
        .iter()
        .filter(|c| c.score > OFFER_SCORE)
        .map(|c| c.topic)
        .take(3)
        .collect();
    for t in kb.fallback_topics() {
        if out.len() >= 3 {
            break;
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// One message being decided: what is known about it, and the explanation
/// being written when one was asked for.
pub(super) struct Case<'a> {
    pub bot: &'a Assistant,
    pub conv: &'a Conversation,
    pub message: &'a str,
    pub a: Analysis,
    pub cands: Vec<Candidate>,
}

/// Notes for the explanation, when one is being written.
pub(super) struct Trace<'a>(pub Option<&'a mut Explanation>);

impl Trace<'_> {
    fn note(&mut self, s: impl FnOnce() -> String) {
        if let Some(ex) = self.0.as_deref_mut() {
            ex.context.push(s());
        }
    }
}

impl Case<'_> {
    fn best(&self) -> Candidate {
        self.cands
            .first()
            .cloned()
            .unwrap_or_else(Candidate::nothing)
    }

    /// The strongest intent rule that fired: similarity alone never makes a
    /// message more than a follow-up.
    fn signal(&self) -> f32 {
        self.cands
            .iter()
            .filter_map(|c| c.rule.map(|r| r.1))
            .fold(0.0, f32::max)
    }
}

/// Decides one analyzed message.
pub(super) fn decide(case: &Case, trace: &mut Trace) -> Decision {
    let kb = &case.bot.kb;
    if case.a.norm.text.trim().is_empty() {
        return Decision::Empty;
    }
    if let Some(d) = veto(kb, &case.a) {
        return d;
    }
    if let Some(d) = type_follow_up(case, trace) {
        return d;
    }
    if let Some(d) = narrowing_follow_up(case, trace) {
        return d;
    }
    if let Some(d) = gap_question(case) {
        return d;
    }
    let (needed, anchored) = needed_score(case);
    let best = case.best();
    if best.score >= needed {
        let margin = best.score - case.cands.get(1).map_or(0.0, |c| c.score);
        let c = confidence(best.score, margin);
        if c < MIN_CONFIDENCE {
            return Decision::LowConfidence {
                confidence: c,
                suggest: offer(kb, &case.cands),
            };
        }
        return plan(case, trace, best.topic, c, &case.a);
    }
    if let Some(d) = joined_with_previous(case, trace) {
        return d;
    }
    if let Some(kind) = small_talk(kb, &case.a) {
        return Decision::SmallTalk(kind);
    }
    Decision::NoMatch {
        best: best.score,
        needed,
        anchored,
        unsure: anchored && best.score >= UNSURE_SCORE,
        suggest: offer(kb, &case.cands),
    }
}

/// A veto concept declines unless one of its `unless` concepts is present;
/// a mirror sense also yields to a named image type
/// ("云市场买的 Docker 镜像打不开" is about a marketplace image).
fn veto(kb: &Knowledge, a: &Analysis) -> Option<Decision> {
    let concept = a.veto?;
    let veto = kb.concepts[concept].veto?;
    if kb.concepts[concept].unless.iter().any(|&c| a.has(c)) {
        return None;
    }
    if veto == Veto::Mirror && !a.types.is_empty() {
        return None;
    }
    Some(Decision::Veto { concept, veto })
}

/// A bare type right after "which image type?", or a type-only follow-up
/// ("那公共镜像呢？"): the previous topic, for the new type.
fn type_follow_up(case: &Case, trace: &mut Trace) -> Option<Decision> {
    let kb = &case.bot.kb;
    let signal = case.signal();
    let clarified = case.conv.pending_clarify && signal < SIGNAL + STRONG_MARGIN;
    // After "which type?", a type the words only suggest answers it too
    // ("是我自己用 vmdk 导入的").
    let typed = !case.a.types.is_empty() || (clarified && !case.a.suggested.is_empty());
    let topic = context_topic(case).filter(|_| typed && (clarified || signal < SIGNAL))?;
    trace.note(|| {
        format!(
            "type-only follow-up: kept topic {} from the conversation",
            kb.topics[topic].id
        )
    });
    let conf = if case.a.hits.iter().any(|h| h.fuzzy) {
        FUZZY_FOLLOW_UP_CONFIDENCE
    } else {
        FOLLOW_UP_CONFIDENCE
    };
    Some(plan(case, trace, topic, conf, &case.a))
}

/// An elliptical follow-up that only narrows the previous question ("北美那边
///可以吗？" after "复制到哪些地域？"): it leans on the previous message and
/// every word of intent it has was in that message too, so the previous
/// topic still answers it.
fn narrowing_follow_up(case: &Case, trace: &mut Trace) -> Option<Decision> {
    let (bot, kb) = (case.bot, &case.bot.kb);
    let lean = kb.special.followup?;
    if !case.a.has(lean) || !case.a.types.is_empty() {
        return None;
    }
    let topic = context_topic(case)?;
    let prev = case.conv.last_message.as_deref()?;
    let mine: Vec<usize> = case
        .a
        .found
        .iter()
        .copied()
        .filter(|&c| kb.concepts[c].is_intent())
        .collect();
    if mine.is_empty() {
        return None;
    }
    let before = bot.model.analyze(kb, prev);
    if !mine.iter().all(|&c| before.has(c)) {
        return None;
    }
    trace.note(|| {
        format!(
            "narrowing follow-up: its words of intent were all in \"{prev}\"; kept topic {}",
            kb.topics[topic].id
        )
    });
    Some(plan(case, trace, topic, FOLLOW_UP_CONFIDENCE, &case.a))
}

fn context_topic(case: &Case) -> Option<usize> {
    case.conv
        .last_topic
        .as_deref()
        .and_then(|id| case.bot.kb.topic(id))
}

/// An uncovered question is declined honestly, unless it is a strong problem
/// report (routed even when it names something the FAQ does not cover).
fn gap_question(case: &Case) -> Option<Decision> {
    let kb = &case.bot.kb;
    let best = case.best();
    let strong_problem = kb.topics[best.topic].reports_problem()
        && best.rule.is_some_and(|r| r.1 >= SIGNAL + STRONG_MARGIN);
    let in_domain = case.a.anchored || context_topic(case).is_some();
    let g = gap(kb, &case.a).filter(|_| in_domain && !strong_problem)?;
    Some(Decision::Gap {
        gap: g,
        suggest: offer(kb, &case.cands),
    })
}

/// The score an answer needs, and whether the message is in the domain.
/// Another product's word with no image word: not ours, however well the
/// rest matches ("云硬盘快照怎么收费").
fn needed_score(case: &Case) -> (f32, bool) {
    let a = &case.a;
    let anchored = a.anchored && !(a.foreign && a.types.is_empty());
    let needed = if anchored || (context_topic(case).is_some() && !a.foreign) {
        MIN_SCORE
    } else if a.foreign {
        f32::INFINITY
    } else {
        UNANCHORED
    };
    (needed, anchored)
}

/// An elliptical follow-up ("是按账号算吗") read together with the message it
/// follows, when it says something of its own.
fn joined_with_previous(case: &Case, trace: &mut Trace) -> Option<Decision> {
    let (bot, kb) = (case.bot, &case.bot.kb);
    context_topic(case)?;
    let prev = case.conv.last_message.clone()?;
    if !has_evidence(kb, &case.a) || case.a.foreign {
        return None;
    }
    let joined = bot.model.analyze(kb, &format!("{prev} {}", case.message));
    let jc = bot.model.score(kb, &joined);
    let top = jc.first().cloned().unwrap_or_else(Candidate::nothing);
    if top.score < MIN_SCORE || joined.veto.is_some() {
        return None;
    }
    trace.note(|| {
        format!(
            "read with the previous message \"{prev}\": {}",
            describe(kb, &bot.model, &top)
        )
    });
    let margin = top.score - jc.get(1).map_or(0.0, |c| c.score);
    let c = JOINED_DISCOUNT * confidence(top.score, margin);
    (c >= MIN_CONFIDENCE).then(|| plan(case, trace, top.topic, c, &joined))
}

fn small_talk(kb: &Knowledge, a: &Analysis) -> Option<ReplyKind> {
    let s = &kb.special;
    let has = |c: Option<usize>| c.is_some_and(|c| a.has(c));
    if has(s.greeting) {
        Some(ReplyKind::Greeting)
    } else if has(s.thanks) {
        Some(ReplyKind::Thanks)
    } else if has(s.identity) {
        Some(ReplyKind::Identity)
    } else {
        None
    }
}

/// Words of intent of the message's own (not small talk, not a bare type).
fn has_evidence(kb: &Knowledge, a: &Analysis) -> bool {
    let s = &kb.special;
    a.found.iter().any(|&c| {
        let concept = &kb.concepts[c];
        concept.is_intent()
            && !concept.foreign
            && Some(c) != s.greeting
            && Some(c) != s.thanks
            && Some(c) != s.identity
    })
}

/// An answer on `topic`, read from the message's analysis (or the joined one).
fn plan(case: &Case, trace: &mut Trace, topic: usize, confidence: f32, a: &Analysis) -> Decision {
    let kb = &case.bot.kb;
    let types = answer_types(case, trace, topic, a);
    let mut asked: Vec<usize> = a
        .found
        .iter()
        .copied()
        .filter(|&c| kb.concepts[c].is_intent())
        .collect();
    asked.sort_unstable();
    asked.dedup();
    Decision::Answer(Plan {
        topic,
        types,
        confidence,
        compare: kb.special.compare.is_some_and(|c| a.has(c)),
        asked,
    })
}

/// The image types an answer on `topic` is about: those named, else the
/// conversation's (for a follow-up), else the one type whose cell alone
/// holds what is asked ("每天操作几次" is only in the custom row).
fn answer_types(case: &Case, trace: &mut Trace, topic: usize, a: &Analysis) -> Vec<usize> {
    let kb = &case.bot.kb;
    if !a.types.is_empty() {
        return a.types.clone();
    }
    let t = &kb.topics[topic];
    let bare_image = kb.special.image.is_some_and(|c| a.has(c));
    let conv = case.conv;
    let last = conv
        .last_type
        .as_deref()
        .and_then(|id| kb.type_index(id))
        .filter(|_| conv.last_topic.is_some());
    if let Some(last) = last.filter(|l| {
        !bare_image && (t.attribute.is_some() || t.reports_problem() || t.types.contains(l))
    }) {
        trace.note(|| {
            format!(
                "topic-only follow-up: kept image type {} from the conversation",
                kb.types[last].id
            )
        });
        return vec![last];
    }
    if !a.suggested.is_empty() {
        trace.note(|| "the image type the words suggest".to_string());
        return a.suggested.clone();
    }
    let Some(attr) = t.attribute else {
        return Vec::new();
    };
    let cells = &case.bot.model.cells;
    let mut only: Option<usize> = None;
    for (c, concept) in kb.concepts.iter().enumerate() {
        if !a.has(c) || !concept.is_intent() {
            continue;
        }
        // Only words that no other type's cells use at all.
        let owners: Vec<usize> = (0..kb.types.len())
            .filter(|&ty| cells.anywhere(ty, c))
            .collect();
        if let [ty] = owners[..] {
            if !cells.of(ty, attr).contains(&c) {
                continue;
            }
            if only.is_some_and(|o| o != ty) {
                return Vec::new();
            }
            only = Some(ty);
        }
    }
    let Some(ty) = only else {
        return Vec::new();
    };
    trace.note(|| {
        format!(
            "only the {} row of {} holds what is asked",
            kb.types[ty].id,
            attr.name()
        )
    });
    vec![ty]
}
