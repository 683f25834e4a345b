//! imagebot: a support assistant for questions about cloud server images.
//!
//! One engine, many skins: [`answer`] takes the knowledge, the conversation
//! so far and a message, and returns a [`Reply`]; the command line, HTTP and
//! Telegram front ends only render it.

pub mod analyze;
pub mod channels;
pub mod check;
pub mod dialogue;
pub mod engine;
pub mod eval;
pub mod knowledge;
pub mod markup;
pub mod matcher;
pub mod normalize;
pub mod reply;
pub mod triage;

pub use dialogue::Conversation;
pub use engine::{answer, answer_explained, Explanation};
pub use knowledge::Knowledge;
pub use reply::{Lang, Reply, ReplyKind, Route};
