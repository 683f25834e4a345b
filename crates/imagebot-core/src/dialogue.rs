//! The conversation state a front end keeps per chat or session: small and
//! serializable, so it can live in memory or in a database.

use crate::reply::{Lang, Reply, Route};
use serde::{Deserialize, Serialize};

/// What a front end remembers of one chat between messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The topic of the last answer.
    pub last_topic: Option<String>,
    /// The image type of the last answer.
    pub last_type: Option<String>,
    /// The last reply asked which image type has a problem.
    pub pending_clarify: bool,
    /// A language the user pinned (`/lang`); otherwise each reply follows its question.
    pub lang: Option<Lang>,
    /// Messages seen.
    pub turns: u32,
    /// The last message that got an answer, for follow-ups that only make
    /// sense with it ("是按账号算吗").
    pub last_message: Option<String>,
    /// The problem report a clarify question ("which kind of image?") is
    /// about, for the ticket draft made once the type is known.
    #[serde(default)]
    pub problem_message: Option<String>,
}

/// A follow-up is read with at most this many characters of the message before.
pub const LAST_MESSAGE_CHARS: usize = 200;

impl Conversation {
    /// A new conversation.
    pub fn new() -> Conversation {
        Conversation::default()
    }

    /// Forget the context (topic and type), keeping the pinned language.
    pub fn reset(&mut self) {
        *self = Conversation {
            lang: self.lang,
            ..Conversation::default()
        };
    }

    /// After a reply: the one place the engine writes the conversation.
    /// An answer sets the topic, type and pending clarify question; the
    /// problem report a clarify question is about is kept for its draft.
    pub fn update(
        &mut self,
        answered: bool,
        reply: &Reply,
        message: &str,
        problem: Option<String>,
    ) {
        self.turns = self.turns.saturating_add(1);
        if answered {
            self.last_topic = reply.topic.clone();
            self.last_type = reply.image_type.clone();
            self.pending_clarify = matches!(reply.route, Some(Route::Clarify { .. }));
            self.last_message = Some(message.chars().take(LAST_MESSAGE_CHARS).collect());
        }
        self.problem_message = problem;
    }
}
