//! From a message and the conversation so far to one reply. Pure: no I/O,
//! no clock; every front end calls [`answer`].
//!
//! The steps, each in its own place: the [`crate::nlu`] model analyzes and
//! scores the message; [`decide`] makes a [`Decision`]; [`compose`] puts it
//! in words; [`crate::escalation`] adds the ticket draft of a problem report;
//! then the conversation is updated, here and nowhere else.

mod compose;
pub mod decide;
mod explain;

pub use decide::{Decision, Plan};
pub use explain::Explanation;

use crate::dialogue::Conversation;
use crate::escalation;
use crate::lang::Lang;
use crate::reply::Reply;
use crate::Assistant;
use compose::Writer;
use decide::{Case, Trace};

/// Answers one message, updating the conversation.
pub fn answer(bot: &Assistant, conv: &mut Conversation, message: &str) -> Reply {
    run(bot, conv, message, Trace(None))
}

/// Like [`answer`], and says why.
pub fn answer_explained(
    bot: &Assistant,
    conv: &mut Conversation,
    message: &str,
) -> (Reply, Explanation) {
    let mut ex = Explanation::default();
    let reply = run(bot, conv, message, Trace(Some(&mut ex)));
    (reply, ex)
}

fn run(bot: &Assistant, conv: &mut Conversation, message: &str, mut trace: Trace) -> Reply {
    let kb = &bot.kb;
    let a = bot.model.analyze(kb, message);
    let cands = bot.model.score(kb, &a);
    if let Some(ex) = trace.0.as_deref_mut() {
        *ex = Explanation::found(kb, &bot.model, &a, &cands);
    }
    let lang = conv.lang.unwrap_or_else(|| Lang::detect(&a.norm, message));
    let case = Case {
        bot,
        conv,
        message,
        a,
        cands,
    };
    let decision = decide::decide(&case, &mut trace);
    let writer = Writer {
        kb,
        cells: &bot.model.cells,
        lang,
    };
    let mut reply = writer.compose(&decision);
    if let Some(ex) = trace.0.as_deref_mut() {
        ex.decision = match &decision {
            Decision::Answer(plan) => format!(
                "answered {} (type {}, route {}), confidence {:.2}",
                kb.topics[plan.topic].id,
                reply.image_type.as_deref().unwrap_or("-"),
                reply.route.as_ref().map_or("-", |r| r.kind()),
                reply.confidence
            ),
            other => other.describe(kb),
        };
    }
    let pending = conv.problem_message.take();
    let problem = escalation::attach(kb, &bot.model.kinds, pending, message, &mut reply);
    conv.update(
        matches!(decision, Decision::Answer(_)),
        &reply,
        message,
        problem,
    );
    reply
}
