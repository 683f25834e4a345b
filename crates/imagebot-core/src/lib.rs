//! imagebot-core: the engine of a support assistant for questions about
//! cloud server images. Pure: no I/O runtime, no server stack, no clock.
//!
//! One engine, many skins: [`answer`] takes an [`Assistant`] (the knowledge and the
//! model compiled from it), the conversation so far and a message, and
//! returns a [`Reply`]; the command line, HTTP and Telegram front ends only
//! render it.
//!
//! - [`knowledge`]: the TOML knowledge files, loaded and validated;
//! - [`normalize`]: text folding for matching;
//! - [`hant`]: Traditional Chinese for replies (Taiwan or Hong Kong standard);
//! - [`nlu`]: lexicon, analysis, similarity index, intent rules;
//! - [`engine`]: the [`Decision`] and its reply;
//! - [`escalation`]: problem reports' fields and ticket drafts;
//! - [`check`] and [`eval`]: the knowledge's self-check, labelled cases.
#![deny(missing_docs)]

mod assistant;
pub mod check;
pub mod dialogue;
pub mod engine;
pub mod escalation;
pub mod eval;
pub mod hant;
pub mod knowledge;
pub mod labels;
pub mod lang;
pub mod markup;
pub mod nlu;
pub mod normalize;
pub mod reply;

pub use assistant::Assistant;
pub use dialogue::Conversation;
pub use engine::{answer, answer_explained, Decision, Explanation};
pub use knowledge::Knowledge;
pub use lang::Lang;
pub use reply::{Reply, ReplyKind, Route};
