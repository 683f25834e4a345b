//! The handler tree: commands, text messages, button presses and everything
//! else a chat sends. Generic over the bot (`B: Requester`), so production
//! runs `schema::<Throttle<Bot>>()` and the tests `schema::<Bot>()` against
//! teloxide_tests' mock server.

use super::render::{self, Action, Outgoing};
use super::storage::ConvStorage;
use super::texts::{texts, ui_lang};
use crate::ratelimit::{self, Decision, Limiter};
use crate::reload::LiveKnowledge;
use imagebot_core::reply::{Lang, Reply};
use imagebot_core::{Assistant, Conversation};
use imagebot_records::Recorder;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::dialogue::Dialogue;
use teloxide::dispatching::{DefaultKey, HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, CallbackQuery, LinkPreviewOptions, Me, MessageEntityKind, MessageId, ParseMode,
    ReplyParameters,
};
use teloxide::utils::command::BotCommands;
use teloxide::{ApiError, RequestError};

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
pub type HandlerResult = Result<(), HandlerError>;

/// A chat's conversation, in the dialogue storage.
pub type ChatDialogue = Dialogue<Conversation, ConvStorage>;

/// The commands, registered with `set_my_commands` at start-up.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(
    rename_rule = "lowercase",
    description = "imagebot answers questions about cloud server images."
)]
pub enum Command {
    #[command(description = "a greeting and the common questions")]
    Start,
    #[command(description = "what I can do")]
    Help,
    #[command(description = "all common questions")]
    Topics,
    #[command(description = "how to get a person's help")]
    Ticket,
    #[command(description = "pin the reply language: /lang zh or /lang en")]
    Lang(String),
    #[command(description = "forget this chat's context")]
    Reset,
}

fn chinese_description(command: &str) -> Option<&'static str> {
    Some(match command {
        "start" => "问候和常见问题",
        "help" => "我能做什么",
        "topics" => "所有常见问题",
        "ticket" => "如何获得人工帮助",
        "lang" => "固定回答语言：/lang zh 或 /lang en",
        "reset" => "清除这个对话的上下文",
        _ => return None,
    })
}

/// The command menu in a language (Chinese or English), for `set_my_commands`.
pub fn command_menu(lang: Lang) -> Vec<BotCommand> {
    Command::bot_commands()
        .into_iter()
        .map(|c| {
            let name = c.command.trim_start_matches('/').to_string();
            let description = match (lang.is_zh(), chinese_description(&name)) {
                (true, Some(d)) => d.to_string(),
                _ => c.description,
            };
            BotCommand::new(name, description)
        })
        .collect()
}

/// What every handler shares: the knowledge (live: reloads swap it), the
/// triage records and the per-chat rate limit.
pub struct BotContext {
    live: Arc<LiveKnowledge>,
    recorder: Option<Recorder>,
    limiter: Option<Limiter<ChatId>>,
}

impl BotContext {
    /// Answers without recording anything, without a rate limit.
    pub fn new(kb: Assistant) -> Arc<BotContext> {
        BotContext::with_recorder(kb, None)
    }

    /// Answers and records escalations and unanswered questions (channel
    /// "telegram"); `None` as with `--no-record`.
    pub fn with_recorder(kb: Assistant, recorder: Option<Recorder>) -> Arc<BotContext> {
        BotContext::live(LiveKnowledge::fixed(kb), recorder, None)
    }

    /// Answers from live knowledge (see [`crate::reload`]), with
    /// a rate limit per chat when `limiter` is given.
    pub fn live(
        live: Arc<LiveKnowledge>,
        recorder: Option<Recorder>,
        limiter: Option<Limiter<ChatId>>,
    ) -> Arc<BotContext> {
        Arc::new(BotContext {
            live,
            recorder,
            limiter,
        })
    }

    /// The knowledge answering now. An update takes it once and uses it to
    /// the end, so a reload meanwhile never mixes two versions in one answer.
    pub fn knowledge(&self) -> Arc<Assistant> {
        self.live.get()
    }

    pub fn live_knowledge(&self) -> &Arc<LiveKnowledge> {
        &self.live
    }

    pub fn limiter(&self) -> Option<&Limiter<ChatId>> {
        self.limiter.as_ref()
    }

    /// One message or press from `chat` against its rate limit.
    fn admit(&self, chat: ChatId) -> Decision {
        self.limiter
            .as_ref()
            .map_or(Decision::Allow, |l| l.check(&chat))
    }

    /// Records a reply before it is sent (off the async workers); a failure
    /// is logged and the answer still goes out.
    async fn record(&self, message: &str, reply: &Reply) {
        let Some(rec) = self.recorder.clone() else {
            return;
        };
        let (message, reply) = (message.to_string(), reply.clone());
        match tokio::task::spawn_blocking(move || rec.record("telegram", &message, &reply)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("could not record a message: {e}"),
            Err(e) => tracing::warn!("could not record a message: {e}"),
        }
    }
}

/// The handler tree.
pub fn schema<B>() -> UpdateHandler<HandlerError>
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let messages = Update::filter_message()
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(on_command::<B>),
        )
        .branch(dptree::endpoint(on_message::<B>));
    let presses = Update::filter_callback_query().endpoint(on_press::<B>);
    dptree::entry().branch(messages).branch(presses)
}

/// The dispatcher production runs: the handler tree with its dependencies,
/// errors logged (never fatal), other updates ignored.
pub fn dispatcher<B>(
    bot: B,
    ctx: Arc<BotContext>,
    storage: Arc<ConvStorage>,
) -> Dispatcher<B, HandlerError, DefaultKey>
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    Dispatcher::builder(bot, schema::<B>())
        .dependencies(dptree::deps![ctx, storage])
        .default_handler(|update| async move {
            tracing::debug!(update = update.id.0, "ignored an update of another kind");
        })
        .error_handler(LoggingErrorHandler::with_custom_text(
            "a Telegram update could not be fully handled",
        ))
        .build()
}

/// How long to wait before trying a failed request again, or `None` to give
/// up: a flood-control `RetryAfter` waits as told, a network error backs
/// off; Telegram's refusals (blocked, bad request) are final.
pub fn retry_delay(error: &RequestError, attempt: u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 4;
    if attempt + 1 >= ATTEMPTS {
        return None;
    }
    match error {
        RequestError::RetryAfter(s) => Some(s.duration().min(Duration::from_secs(300))),
        RequestError::Network(_) | RequestError::Io(_) => {
            Some(Duration::from_millis(500u64 << attempt.min(6)))
        }
        _ => None,
    }
}

/// Runs a request, retrying it as [`retry_delay`] says.
pub async fn with_retry<T, F, Fut>(mut request: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 0;
    loop {
        match request().await {
            Ok(v) => return Ok(v),
            Err(e) => match retry_delay(&e, attempt) {
                Some(wait) => {
                    tracing::warn!("Telegram request failed ({e}); retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return Err(e),
            },
        }
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sends a rendered message: its chunks in order, the keyboard under the
/// last, the first as a reply to `reply_to` (in groups). If Telegram ever
/// refuses the HTML, the chunk goes again as plain text.
async fn send<B>(bot: &B, chat: ChatId, reply_to: Option<MessageId>, out: Outgoing) -> HandlerResult
where
    B: Requester<Err = RequestError>,
{
    let last = out.chunks.len().saturating_sub(1);
    for (i, html) in out.chunks.iter().enumerate() {
        let keyboard = if i == last {
            out.keyboard.clone()
        } else {
            None
        };
        let reply = reply_to
            .filter(|_| i == 0)
            .map(|id| ReplyParameters::new(id).allow_sending_without_reply());
        let build = |text: String, html_mode: bool| {
            let mut req = bot
                .send_message(chat, text)
                .link_preview_options(no_preview());
            if html_mode {
                req = req.parse_mode(ParseMode::Html);
            }
            if let Some(k) = keyboard.clone() {
                req = req.reply_markup(k);
            }
            if let Some(r) = reply.clone() {
                req = req.reply_parameters(r);
            }
            req.send()
        };
        match with_retry(|| build(html.clone(), true)).await {
            Ok(_) => {}
            Err(RequestError::Api(ApiError::CantParseEntities(why))) => {
                tracing::error!("Telegram refused our HTML ({why}); sending plain text");
                let plain = render::html_to_plain(html);
                with_retry(|| build(plain.clone(), false)).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Stops the button's spinner, optionally with a short notice.
async fn answer_press<B>(bot: &B, q: &CallbackQuery, notice: Option<&str>)
where
    B: Requester<Err = RequestError>,
{
    let res = with_retry(|| {
        let mut req = bot.answer_callback_query(q.id.clone());
        if let Some(n) = notice {
            req = req.text(n);
        }
        req.send()
    })
    .await;
    if let Err(e) = res {
        // Too late (queries expire) or refused: the answer itself still goes out.
        tracing::warn!("cannot answer a button press: {e}");
    }
}

async fn load(dialogue: &ChatDialogue) -> Conversation {
    match dialogue.get().await {
        Ok(conv) => conv.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(
                chat = dialogue.chat_id().0,
                "cannot read the chat's state ({e}); starting afresh"
            );
            Conversation::default()
        }
    }
}

async fn save(dialogue: &ChatDialogue, conv: Conversation) {
    if let Err(e) = dialogue.update(conv).await {
        tracing::warn!(
            chat = dialogue.chat_id().0,
            "cannot store the chat's state: {e}"
        );
    }
}

/// A message to answer in a chat.
struct Ask<'a> {
    chat: ChatId,
    /// In groups, the message the answer replies to.
    reply_to: Option<MessageId>,
    message: &'a str,
    /// A line above the answer (the question a button asked).
    header: Option<&'a str>,
    /// Answer in this language unless the chat pinned one (a button keeps
    /// the language of the reply it was under).
    as_lang: Option<Lang>,
}

/// Answers a message in the chat's conversation and sends the reply.
async fn respond<B>(
    bot: &B,
    ctx: &BotContext,
    storage: Arc<ConvStorage>,
    ask: Ask<'_>,
) -> HandlerResult
where
    B: Requester<Err = RequestError>,
{
    let Ask {
        chat,
        reply_to,
        message,
        header,
        as_lang,
    } = ask;
    let dialogue = ChatDialogue::new(storage, chat);
    let mut conv = load(&dialogue).await;
    let pinned = conv.lang;
    if pinned.is_none() {
        conv.lang = as_lang;
    }
    let kb = ctx.knowledge();
    let kb: &Assistant = &kb;
    let answered = catch_unwind(AssertUnwindSafe(|| {
        imagebot_core::answer(kb, &mut conv, message)
    }));
    let reply: Reply = match answered {
        Ok(r) => r,
        Err(_) => {
            // The engine must never panic; if it does, this chat starts afresh.
            tracing::error!(chat = chat.0, "the engine panicked on a message");
            conv = Conversation::default();
            let lang = pinned.or(as_lang).unwrap_or_default();
            imagebot_core::answer(kb, &mut conv, &lang.pick(&kb.kb.messages.empty))
        }
    };
    conv.lang = pinned;
    save(&dialogue, conv).await;
    ctx.record(message, &reply).await;
    tracing::info!(
        chat = chat.0,
        topic = reply.topic.as_deref().unwrap_or("-"),
        route = reply.route.as_ref().map_or("-", |r| r.kind()),
        "answered"
    );
    send(bot, chat, reply_to, render::reply(kb, &reply, header)).await
}

fn is_group(msg: &Message) -> bool {
    !msg.chat.is_private()
}

/// In groups, answers go as replies to the message they answer.
fn reply_target(msg: &Message) -> Option<MessageId> {
    is_group(msg).then_some(msg.id)
}

fn user_lang(msg: &Message) -> Option<&str> {
    msg.from.as_ref()?.language_code.as_deref()
}

/// Byte ranges of `@username` in `text`, matched without case. Usernames
/// are ASCII letters, digits and `_`, so a mention ends at any other
/// character ("@image_bot收费吗").
fn mention_ranges(text: &str, username: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if username.is_empty() {
        return out;
    }
    let needle = format!("@{username}");
    for (i, _) in text.match_indices('@') {
        let end = i + needle.len();
        let Some(candidate) = text.get(i..end) else {
            continue;
        };
        let word_ends = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        if candidate.eq_ignore_ascii_case(&needle) && word_ends {
            out.push((i, end));
        }
    }
    out
}

fn bot_username(me: &Me) -> &str {
    me.user.username.as_deref().unwrap_or("")
}

/// A group message is for the bot when it mentions it or replies to it.
fn addressed_to_bot(msg: &Message, me: &Me) -> bool {
    let replies = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    let text = msg.text().or_else(|| msg.caption()).unwrap_or("");
    let mentioned = !mention_ranges(text, bot_username(me)).is_empty();
    let entities = msg
        .parse_entities()
        .or_else(|| msg.parse_caption_entities())
        .unwrap_or_default();
    let text_mention = entities
        .iter()
        .any(|e| matches!(e.kind(), MessageEntityKind::TextMention { user } if user.id == me.id));
    replies || mentioned || text_mention
}

/// The message without the bot's @username.
fn without_mention(text: &str, me: &Me) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in mention_ranges(text, bot_username(me)) {
        out.push_str(&text[at..start]);
        out.push(' ');
        at = end;
    }
    out.push_str(&text[at..]);
    out.trim().to_string()
}

fn is_media(msg: &Message) -> bool {
    msg.photo().is_some()
        || msg.sticker().is_some()
        || msg.voice().is_some()
        || msg.audio().is_some()
        || msg.video().is_some()
        || msg.video_note().is_some()
        || msg.document().is_some()
        || msg.animation().is_some()
        || msg.location().is_some()
        || msg.contact().is_some()
        || msg.venue().is_some()
        || msg.poll().is_some()
        || msg.dice().is_some()
        || msg.game().is_some()
        || msg.story().is_some()
}

/// Whether a message that would get a reply is within its chat's rate
/// limit. Over it, the chat is told once how long to wait ("消息太多了，请
/// N 秒后再试。", in the pinned language, else the message's, else the
/// user's Telegram language), and further messages get nothing until the
/// limit allows one again.
async fn admitted<B>(
    bot: &B,
    ctx: &BotContext,
    storage: &Arc<ConvStorage>,
    msg: &Message,
    question: Option<&str>,
) -> Result<bool, HandlerError>
where
    B: Requester<Err = RequestError>,
{
    let Decision::Limited { retry_after, first } = ctx.admit(msg.chat.id) else {
        return Ok(true);
    };
    tracing::info!(
        chat = msg.chat.id.0,
        retry_secs = ratelimit::retry_secs(retry_after),
        told = first,
        "rate limited"
    );
    if first {
        let conv = load(&ChatDialogue::new(Arc::clone(storage), msg.chat.id)).await;
        let lang = match (conv.lang, question) {
            (Some(l), _) => l,
            (None, Some(q))
                if q.chars()
                    .any(|c| c.is_ascii_alphabetic() || imagebot_core::normalize::is_han(c)) =>
            {
                Lang::of_message(q)
            }
            (None, _) => ui_lang(None, user_lang(msg)),
        };
        let out = render::plain(&ratelimit::wait_message(lang, retry_after));
        send(bot, msg.chat.id, reply_target(msg), out).await?;
    }
    Ok(false)
}

async fn on_command<B>(
    bot: B,
    msg: Message,
    cmd: Command,
    me: Me,
    ctx: Arc<BotContext>,
    storage: Arc<ConvStorage>,
) -> HandlerResult
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    if !admitted(&bot, &ctx, &storage, &msg, None).await? {
        return Ok(());
    }
    command(bot, msg, cmd, me, ctx, storage).await
}

/// Answers a command (already admitted by the rate limit).
async fn command<B>(
    bot: B,
    msg: Message,
    cmd: Command,
    me: Me,
    ctx: Arc<BotContext>,
    storage: Arc<ConvStorage>,
) -> HandlerResult
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let dialogue = ChatDialogue::new(storage, msg.chat.id);
    let mut conv = load(&dialogue).await;
    let lang = ui_lang(conv.lang, user_lang(&msg));
    let kb = ctx.knowledge();
    let kb: &Assistant = &kb;
    let out = match cmd {
        Command::Start => {
            conv.reset();
            save(&dialogue, conv).await;
            render::start(kb, lang)
        }
        Command::Help => render::help(lang, me.user.username.as_deref()),
        Command::Topics => render::topics(kb, lang),
        Command::Ticket => render::ticket(kb, lang),
        Command::Lang(arg) => match Lang::parse(arg.trim()) {
            Some(l) => {
                conv.lang = Some(l);
                save(&dialogue, conv).await;
                render::plain(texts(l).lang_set)
            }
            None => render::plain(texts(lang).lang_usage),
        },
        Command::Reset => {
            conv.reset();
            save(&dialogue, conv).await;
            render::plain(texts(lang).reset)
        }
    };
    send(&bot, msg.chat.id, reply_target(&msg), out).await
}

async fn on_message<B>(
    bot: B,
    msg: Message,
    me: Me,
    ctx: Arc<BotContext>,
    storage: Arc<ConvStorage>,
) -> HandlerResult
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    if msg.chat.is_channel() || (is_group(&msg) && !addressed_to_bot(&msg, &me)) {
        return Ok(());
    }
    let chat = msg.chat.id;
    let Some(text) = msg.text().or_else(|| msg.caption()) else {
        if is_media(&msg) {
            if !admitted(&bot, &ctx, &storage, &msg, None).await? {
                return Ok(());
            }
            let conv = load(&ChatDialogue::new(storage, chat)).await;
            let lang = ui_lang(conv.lang, user_lang(&msg));
            let out = render::plain(texts(lang).non_text);
            return send(&bot, chat, reply_target(&msg), out).await;
        }
        // Service messages (members joining, pins, ...) need no answer.
        return Ok(());
    };
    let text = without_mention(text, &me);
    if text.starts_with('/') {
        // A known command with arguments it does not take ("/start payload"), or an unknown one.
        let word = text.split_whitespace().next().unwrap_or_default();
        if let Ok(cmd) = Command::parse(word, bot_username(&me)) {
            return on_command(bot, msg, cmd, me, ctx, storage).await;
        }
        let for_another_bot = word
            .split_once('@')
            .is_some_and(|(_, name)| !name.eq_ignore_ascii_case(bot_username(&me)));
        if for_another_bot && is_group(&msg) {
            return Ok(());
        }
        if !admitted(&bot, &ctx, &storage, &msg, None).await? {
            return Ok(());
        }
        let conv = load(&ChatDialogue::new(storage, chat)).await;
        let lang = ui_lang(conv.lang, user_lang(&msg));
        let out = render::plain(texts(lang).unknown_command);
        return send(&bot, chat, reply_target(&msg), out).await;
    }
    if !admitted(&bot, &ctx, &storage, &msg, Some(&text)).await? {
        return Ok(());
    }
    let ask = Ask {
        chat,
        reply_to: reply_target(&msg),
        message: &text,
        header: None,
        as_lang: None,
    };
    respond(&bot, &ctx, storage, ask).await
}

async fn on_press<B>(
    bot: B,
    q: CallbackQuery,
    ctx: Arc<BotContext>,
    storage: Arc<ConvStorage>,
) -> HandlerResult
where
    B: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let kb = ctx.knowledge();
    let kb: &Assistant = &kb;
    // The question the button asks, and the bold header the answer gets.
    let asked = match q.data.as_deref().and_then(Action::decode) {
        Some(Action::Ask { topic, lang }) => kb.kb.topic(&topic).map(|i| {
            let question = lang.pick(&kb.kb.topics[i].question).into_owned();
            (question.clone(), question, lang)
        }),
        Some(Action::Type { id, lang }) => kb.kb.type_index(&id).map(|i| {
            let name = lang.pick(&kb.kb.types[i].name).into_owned();
            (name, render::type_label(kb, &id, lang), lang)
        }),
        None => None,
    };
    let chat = q.message.as_ref().map(|m| m.chat().id);
    // A press that would answer counts against the chat's limit too.
    let limited = match (&asked, chat) {
        (Some(_), Some(chat)) => match ctx.admit(chat) {
            Decision::Limited { retry_after, .. } => Some(retry_after),
            Decision::Allow => None,
        },
        _ => None,
    };
    match (asked, chat) {
        (Some((_, _, lang)), Some(_)) if limited.is_some() => {
            // Over the limit: the wait, as the button's notice (never a chat message).
            let notice = ratelimit::wait_message(lang, limited.unwrap_or_default());
            answer_press(&bot, &q, Some(&notice)).await;
            Ok(())
        }
        (Some((question, header, lang)), Some(chat)) => {
            answer_press(&bot, &q, None).await;
            let ask = Ask {
                chat,
                reply_to: None,
                message: &question,
                header: Some(&header),
                as_lang: Some(lang),
            };
            respond(&bot, &ctx, storage, ask).await
        }
        _ => {
            let lang = ui_lang(None, q.from.language_code.as_deref());
            answer_press(&bot, &q, Some(texts(lang).button_expired)).await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::{Seconds, User, UserId};

    fn me() -> Me {
        Me {
            user: User {
                id: UserId(42),
                is_bot: true,
                first_name: "Image".into(),
                last_name: None,
                username: Some("Image_Bot".into()),
                language_code: None,
                is_premium: false,
                added_to_attachment_menu: false,
            },
            can_join_groups: true,
            can_read_all_group_messages: false,
            supports_inline_queries: false,
            can_connect_to_business: false,
            has_main_web_app: false,
        }
    }

    #[test]
    fn mentions_are_found_and_removed() {
        let me = me();
        assert_eq!(without_mention("@image_bot 镜像收费吗", &me), "镜像收费吗");
        assert_eq!(without_mention("镜像@IMAGE_BOT收费吗", &me), "镜像 收费吗");
        assert_eq!(without_mention("@image_bots hi", &me), "@image_bots hi");
        assert_eq!(without_mention("é@image_bot", &me), "é");
        assert!(mention_ranges("@ima", "image_bot").is_empty());
        assert!(mention_ranges("x@image_bot😀", "image_bot").len() == 1);
    }

    #[test]
    fn retries_flood_control_and_network_but_not_refusals() {
        let flood = RequestError::RetryAfter(Seconds::from_seconds(3));
        assert_eq!(retry_delay(&flood, 0), Some(Duration::from_secs(3)));
        assert_eq!(retry_delay(&flood, 3), None);
        let io = RequestError::Io(Arc::new(std::io::Error::other("reset")));
        assert_eq!(retry_delay(&io, 0), Some(Duration::from_millis(500)));
        assert_eq!(retry_delay(&io, 2), Some(Duration::from_millis(2000)));
        assert_eq!(
            retry_delay(&RequestError::Api(ApiError::BotBlocked), 0),
            None
        );
    }

    #[tokio::test]
    async fn with_retry_retries_then_gives_up() {
        let mut calls = 0;
        let res: Result<(), _> = with_retry(|| {
            calls += 1;
            async { Err(RequestError::RetryAfter(Seconds::from_seconds(0))) }
        })
        .await;
        assert!(res.is_err());
        assert_eq!(calls, 4);
        let mut calls = 0;
        let res = with_retry(|| {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(RequestError::RetryAfter(Seconds::from_seconds(0)))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(res.unwrap(), 3);
    }

    #[test]
    fn command_menus() {
        let en = command_menu(Lang::En);
        let zh = command_menu(Lang::Zh);
        let names: Vec<&str> = en.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(
            names,
            ["start", "help", "topics", "ticket", "lang", "reset"]
        );
        assert!(zh
            .iter()
            .all(|c| c.description.chars().any(|ch| ch > '\u{2e80}')));
        assert_eq!(
            Command::parse("/lang en", "x_bot").unwrap(),
            Command::Lang("en".into())
        );
        assert_eq!(
            Command::parse("/lang", "x_bot").unwrap(),
            Command::Lang(String::new())
        );
    }
}
