//! Putting a [`Decision`] in words: the reply's text (in the knowledge's tiny
//! markup and as plain text), its route, its suggestions, in one language.

use super::decide::{Decision, Plan, SURE, VETO_CONFIDENCE};
use crate::knowledge::{Attribute, Knowledge, RouteKind, Text, TopicRoute, Veto};
use crate::lang::Lang;
use crate::markup::to_plain;
use crate::nlu::cells::CellConcepts;
use crate::reply::{Reply, ReplyKind, Route};

/// The knowledge and the reply's language.
pub(super) struct Writer<'a> {
    pub kb: &'a Knowledge,
    pub cells: &'a CellConcepts,
    pub lang: Lang,
}

impl Writer<'_> {
    fn text(&self, t: &Text) -> String {
        self.lang.pick(t).into_owned()
    }

    fn questions(&self, topics: impl IntoIterator<Item = usize>) -> (Vec<String>, Vec<String>) {
        topics
            .into_iter()
            .take(3)
            .map(|t| {
                let topic = &self.kb.topics[t];
                (self.text(&topic.question), topic.id.clone())
            })
            .unzip()
    }

    fn fill(&self, template: &Text, what: Option<&Text>) -> String {
        let r = &self.kb.routes;
        let mut s = self
            .text(template)
            .replace("{url}", &r.ticket_url)
            .replace("{label}", &self.text(&r.ticket_label));
        if let Some(w) = what {
            s = s.replace("{what}", &self.text(w));
        }
        s
    }

    /// A reply that answers no FAQ entry.
    fn not_answered(
        &self,
        kind: ReplyKind,
        message: &Text,
        suggest: &[usize],
        confidence: f32,
    ) -> Reply {
        self.not_answered_with(kind, self.fill(message, None), suggest, confidence)
    }

    fn not_answered_with(
        &self,
        kind: ReplyKind,
        markup: String,
        suggest: &[usize],
        confidence: f32,
    ) -> Reply {
        let suggestions = self.questions(suggest.iter().copied());
        self.reply(kind, markup, confidence, suggestions)
    }

    /// A reply with no topic, type or route yet.
    fn reply(
        &self,
        kind: ReplyKind,
        markup: String,
        confidence: f32,
        (suggestions, suggestion_topics): (Vec<String>, Vec<String>),
    ) -> Reply {
        Reply {
            answered: kind == ReplyKind::Answer,
            topic: None,
            image_type: None,
            confidence,
            route: None,
            text: to_plain(&markup),
            suggestions,
            ticket: None,
            category: None,
            ticket_draft: None,
            markup,
            suggestion_topics,
            kind,
            lang: self.lang,
        }
    }

    /// The curated topics, most asked first, when nothing better is known.
    fn first_topics(&self) -> Vec<usize> {
        self.kb.fallback_topics().take(3).collect()
    }

    /// Renders a decision.
    pub fn compose(&self, decision: &Decision) -> Reply {
        let m = &self.kb.messages;
        match decision {
            Decision::Empty => {
                self.not_answered(ReplyKind::Empty, &m.empty, &self.first_topics(), 0.0)
            }
            Decision::Veto { veto, .. } => {
                let (kind, msg) = match veto {
                    Veto::Mirror => (ReplyKind::Mirror, &m.mirror),
                    Veto::Decline => (ReplyKind::Decline, &m.decline),
                };
                self.not_answered(kind, msg, &self.first_topics(), VETO_CONFIDENCE)
            }
            Decision::Gap { gap, suggest } => {
                let markup = self.fill(&m.gap, Some(&self.kb.gaps[*gap].name));
                self.not_answered_with(ReplyKind::Gap, markup, suggest, SURE)
            }
            Decision::LowConfidence {
                confidence,
                suggest,
            } => self.not_answered(ReplyKind::Unsure, &m.unsure, suggest, *confidence),
            Decision::SmallTalk(kind) => {
                let msg = match kind {
                    ReplyKind::Greeting => &m.greeting,
                    ReplyKind::Thanks => &m.thanks,
                    _ => &m.identity,
                };
                self.not_answered(*kind, msg, &self.first_topics(), SURE)
            }
            Decision::NoMatch {
                unsure, suggest, ..
            } => {
                let (kind, msg) = if *unsure {
                    (ReplyKind::Unsure, &m.unsure)
                } else {
                    (ReplyKind::Decline, &m.decline)
                };
                self.not_answered(kind, msg, suggest, 0.0)
            }
            Decision::Answer(plan) => self.answer(plan),
        }
    }

    fn answer(&self, plan: &Plan) -> Reply {
        let kb = self.kb;
        let t = &kb.topics[plan.topic];
        let single = (plan.types.len() == 1 && !plan.compare).then(|| plan.types[0]);
        let (mut markup, image_type) = match t.attribute {
            Some(attr) => self.attribute_answer(plan, attr, single),
            None => match single.and_then(|ty| t.by_type[ty].as_ref().map(|b| (ty, b))) {
                Some((ty, text)) => (self.text(text), Some(ty)),
                None => (self.text(&t.answer), single.or(t.default_type)),
            },
        };
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
                    markup.push_str(&self.text(&kb.messages.clarify));
                    Route::Clarify {
                        options: kb.types.iter().map(|t| t.id.clone()).collect(),
                    }
                }
            }),
        };
        let suggestions = self.questions(t.related.iter().copied().filter(|&r| r != plan.topic));
        Reply {
            topic: Some(t.id.clone()),
            image_type: image_type.map(|ty| kb.types[ty].id.clone()),
            route,
            ..self.reply(ReplyKind::Answer, markup, plan.confidence, suggestions)
        }
    }

    /// A topic answered from the types table: one type's cell (with its
    /// `also` cell and a neighbouring one), a few types', or the general answer.
    fn attribute_answer(
        &self,
        plan: &Plan,
        attr: Attribute,
        single: Option<usize>,
    ) -> (String, Option<usize>) {
        let kb = self.kb;
        let t = &kb.topics[plan.topic];
        let Some(ty) = single else {
            let types = &plan.types;
            if types.len() >= 2 && types.len() < kb.types.len() && !plan.compare {
                let mut markup = self.text(&kb.messages.compare_intro);
                for &ty in types {
                    markup.push_str("\n- ");
                    markup.push_str(&self.cell_text(ty, attr).replace('\n', " "));
                }
                return (markup, None);
            }
            return (self.text(&t.answer), None);
        };
        let mut markup = self.cell_text(ty, attr);
        let cells = &kb.types[ty].cells;
        let also = t
            .also
            .as_ref()
            .filter(|(also, _)| cells[attr.index()].is_some() && *also != attr);
        if let Some((cell, label)) =
            also.and_then(|(also, label)| Some((cells[also.index()].as_ref()?, label)))
        {
            markup.push('\n');
            markup.push_str(&self.text(label));
            markup.push_str(&self.text(cell));
        }
        let shown = also.map(|(also, _)| *also);
        if let Some(extra) = self.neighbour(plan, ty, attr).filter(|&n| Some(n) != shown) {
            markup.push('\n');
            markup.push_str(&self.text(&kb.messages.also));
            markup.push_str(&self.cell_text(ty, extra));
        }
        (markup, Some(ty))
    }

    /// One type's cell, named: "共享镜像：…", or the honest note for an empty cell.
    fn cell_text(&self, ty: usize, attr: Attribute) -> String {
        let t = &self.kb.types[ty];
        let name = capitalize(&self.text(&t.name));
        let sep = if self.lang.is_zh() { "：" } else { ": " };
        match (&t.cells[attr.index()], &t.gaps[attr.index()]) {
            (Some(cell), _) => {
                let body = self.text(cell);
                if body.starts_with("- ") {
                    format!("{name}{}\n{body}", sep.trim_end())
                } else {
                    format!("{name}{sep}{body}")
                }
            }
            (None, Some(gap)) => self.text(gap),
            (None, None) => String::new(),
        }
    }

    /// Another attribute of the same type whose cell holds what the message
    /// asks about when the answered cell does not ("上架前要审核吗" asked of
    /// security: the review is in the description).
    fn neighbour(&self, plan: &Plan, ty: usize, attr: Attribute) -> Option<Attribute> {
        let t = &self.kb.types[ty];
        t.cells[attr.index()].as_ref()?;
        let cells = self.cells;
        let primary = cells.of(ty, attr);
        let asked: Vec<usize> = plan
            .asked
            .iter()
            .copied()
            .filter(|c| !primary.contains(c))
            .collect();
        Attribute::ALL
            .into_iter()
            .filter(|&other| other != attr && t.cells[other.index()].is_some())
            .find(|&other| asked.iter().any(|c| cells.of(ty, other).contains(c)))
    }
}

fn vendor_route(kb: &Knowledge) -> Route {
    Route::Vendor {
        channels: kb.routes.vendor_channels.clone(),
        where_: kb.routes.vendor_where.clone(),
        fallback: kb.routes.vendor_fallback.clone(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
