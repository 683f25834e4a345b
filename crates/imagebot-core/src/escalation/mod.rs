//! Escalation, as pure code: what a support engineer needs from a problem
//! report and a ticket draft the user can paste.
//!
//! - [`extract`]: image and instance ids, region, operating system, the
//!   quoted error text, the kind of problem.
//! - [`attach`] (called by the engine): a reply with a ticket or vendor
//!   route to a problem report gets a [`Ticket`], in the reply's `ticket`
//!   field, and every routed reply its category.
//!
//! Problem reports are recognised by the engine (a topic whose route depends
//! on the image type: [`crate::knowledge::Topic::reports_problem`]).

pub mod extract;
pub mod ticket;

pub use extract::{extract, problem_kind, region_by_code, Extracted, KindWords, Region, REGIONS};

use crate::knowledge::Knowledge;
use crate::reply::{Reply, Route};
pub use ticket::{category, Ticket};

/// Descriptions are cut to this many characters.
pub const MAX_DESCRIPTION: usize = 1000;

fn cut(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

/// After the engine decided a reply: a reply with a ticket or vendor route
/// to a problem report gets a [`Ticket`] (a vendor-contact question only
/// when the message names an id, a region, an OS or an error), and every
/// routed reply its ticket category. Returns the problem report a clarify
/// question is about (the conversation keeps it), so the draft made once
/// the type is known describes the problem, not just "服务市场买的".
/// `pending` is the problem report kept from the previous message.
pub fn attach(
    kb: &Knowledge,
    kinds: &KindWords,
    pending: Option<String>,
    message: &str,
    reply: &mut Reply,
) -> Option<String> {
    let send_to = match &reply.route {
        Some(Route::Clarify { .. }) => {
            let kind = &kb.problem_kinds[problem_kind(message, kinds)].label;
            reply.category = Some(category("clarify", kind, reply.lang));
            return Some(cut(message, MAX_DESCRIPTION));
        }
        Some(Route::Ticket { .. }) => "ticket",
        Some(Route::Vendor { .. }) => "vendor",
        None => return None,
    };
    let problem = reply
        .topic
        .as_deref()
        .and_then(|t| kb.topic(t))
        .is_some_and(|t| kb.topics[t].reports_problem());
    let message = message.trim();
    let (description, text) = match pending.filter(|p| problem && p != message) {
        Some(orig) if !message.is_empty() => {
            let joined = if reply.lang.is_zh() {
                format!("{orig}（{message}）")
            } else {
                format!("{orig} ({message})")
            };
            (joined, format!("{orig}\n{message}"))
        }
        Some(orig) => (orig.clone(), orig),
        None => (message.to_string(), message.to_string()),
    };
    let (fields, kind) = extract::details(&text, kinds);
    let category = category(send_to, &kb.problem_kinds[kind].label, reply.lang);
    reply.category = Some(category.clone());
    if !problem && fields.is_empty() {
        return None;
    }
    let ticket = Ticket {
        send_to: send_to.into(),
        category,
        image_type: reply.image_type.clone(),
        image_ids: fields.image_ids,
        instance_ids: fields.instance_ids,
        region: fields.region,
        os: fields.os,
        error: fields.error,
        description: cut(&description, MAX_DESCRIPTION),
    };
    reply.ticket_draft = Some(ticket.render(kb, reply.lang));
    reply.ticket = Some(ticket);
    None
}
