//! The Telegram bot end to end: the real handler tree (`schema::<Bot>()`)
//! driven through teloxide_tests' local mock Bot API server. No network.
//!
//! Each test prints its conversation as a person would see it (links as
//! "label (url)", buttons in brackets): `cargo test --test telegram -- --nocapture`.

mod common;

use imagebot_channels::ratelimit::{Clock, Limiter, RateLimit};
use imagebot_channels::reload::{LiveKnowledge, ReloadOutcome};
use imagebot_channels::telegram::render::{check_telegram_html, html_to_plain, utf16_len};
use imagebot_channels::telegram::storage::{self, ConvStorage};
use imagebot_channels::telegram::{
    production_dispatcher, schema, BotContext, HandlerError, StateSpec, TelegramConfig,
};
use imagebot_core::knowledge::{builtin_files, SourceFile};
use imagebot_core::{Assistant, Conversation};
use std::sync::Arc;
use teloxide::dptree::deps;
use teloxide::types::{ChatId, InlineKeyboardButtonKind, ParseMode};
use teloxide::Bot;
use teloxide_tests::server::SentMessageText;
use teloxide_tests::{
    mock_bot::DistributionKey, IntoUpdate, MockBot, MockCallbackQuery, MockMessageSticker,
    MockMessageText, MockPrivateChat, MockUser,
};

type Mock = MockBot<HandlerError, DistributionKey>;

/// A mock bot running the real handler tree on `kb`, with in-memory chat state.
fn mock<T: IntoUpdate>(update: T, kb: Assistant) -> (Mock, Arc<ConvStorage>) {
    let mut bot = MockBot::new(update, schema::<Bot>());
    let state = storage::open(&StateSpec::Memory).unwrap();
    bot.dependencies(deps![BotContext::new(kb), state.clone()]);
    (bot, state)
}

/// A mock bot running the real handler tree with a given context.
fn mock_ctx<T: IntoUpdate>(update: T, ctx: Arc<BotContext>) -> Mock {
    let mut bot = MockBot::new(update, schema::<Bot>());
    let state = storage::open(&StateSpec::Memory).unwrap();
    bot.dependencies(deps![ctx, state]);
    bot
}

/// A per-chat limiter on a clock that moves only when told.
fn limiter(rate: &str) -> (Limiter<ChatId>, Clock) {
    let rate = rate.parse::<RateLimit>().unwrap().0.unwrap();
    let clock = Clock::manual(std::time::Instant::now());
    (Limiter::with_clock(rate, 1000, clock.clone()), clock)
}

fn builtin() -> Assistant {
    Assistant::builtin().unwrap()
}

/// A message from a user in their private chat.
fn from_user(id: u64, text: &str) -> MockMessageText {
    MockMessageText::new()
        .text(text)
        .from(MockUser::new().id(id).build())
        .chat(MockPrivateChat::new().id(id as i64).build())
}

/// What the bot sent during the last dispatch, checked the way Telegram
/// would: HTML parse mode, valid HTML, under 4,096 characters.
fn sent(bot: &Mock) -> Vec<SentMessageText> {
    let sent = bot.get_responses().sent_messages_text;
    for m in &sent {
        let text = &m.bot_request.text;
        assert_eq!(m.bot_request.parse_mode, Some(ParseMode::Html), "{text}");
        check_telegram_html(text).unwrap_or_else(|e| panic!("invalid HTML ({e}): {text}"));
        assert!(utf16_len(text) <= 4096, "{} characters", utf16_len(text));
        assert!(!text.trim().is_empty());
    }
    sent
}

fn html(m: &SentMessageText) -> &str {
    &m.bot_request.text
}

/// The buttons under a message: (label, callback data or url).
fn buttons(m: &SentMessageText) -> Vec<(String, String)> {
    m.message
        .reply_markup()
        .map(|k| {
            k.inline_keyboard
                .iter()
                .flatten()
                .map(|b| {
                    let target = match &b.kind {
                        InlineKeyboardButtonKind::CallbackData(d) => {
                            assert!(d.len() <= 64, "callback_data {d:?} is too long");
                            d.clone()
                        }
                        InlineKeyboardButtonKind::Url(u) => u.to_string(),
                        other => format!("{other:?}"),
                    };
                    (b.text.clone(), target)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn callback_of<'a>(m: &'a SentMessageText, label: &str) -> &'a str {
    m.message
        .reply_markup()
        .and_then(|k| k.inline_keyboard.iter().flatten().find(|b| b.text == label))
        .and_then(|b| match &b.kind {
            InlineKeyboardButtonKind::CallbackData(d) => Some(d.as_str()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no button {label:?} in {:?}", buttons(m)))
}

/// Prints one exchange as the person sees it.
fn show(who: &str, said: &str, replies: &[SentMessageText]) {
    println!("{who}: {said}");
    for m in replies {
        for line in html_to_plain(html(m)).lines() {
            println!("    bot | {line}");
        }
        for (label, _) in buttons(m) {
            println!("    bot | [{label}]");
        }
    }
}

/// Sends a text and returns what the bot sent back.
async fn say(bot: &mut Mock, user: u64, text: &str) -> Vec<SentMessageText> {
    bot.update(from_user(user, text));
    bot.dispatch().await;
    let out = sent(bot);
    show(&format!("user {user}"), text, &out);
    out
}

/// Presses a button under a message the bot sent.
async fn press(bot: &mut Mock, under: &SentMessageText, label: &str) -> Vec<SentMessageText> {
    let data = callback_of(under, label).to_string();
    let chat = under.message.chat.id;
    bot.update(
        MockCallbackQuery::new()
            .id(format!("press-{data}").into())
            .from(MockUser::new().id(chat.0 as u64).build())
            .message(under.message.clone())
            .data(data),
    );
    bot.dispatch().await;
    let answered = bot.get_responses().answered_callback_queries;
    assert_eq!(
        answered.len(),
        1,
        "the press is answered (the spinner stops)"
    );
    let out = sent(bot);
    show("user presses", &format!("[{label}]"), &out);
    out
}

fn one(out: &[SentMessageText]) -> &SentMessageText {
    assert_eq!(
        out.len(),
        1,
        "{:?}",
        out.iter().map(html).collect::<Vec<_>>()
    );
    &out[0]
}

#[tokio::test]
async fn start_shows_the_greeting_and_the_curated_questions() {
    let kb = builtin();
    let curated: Vec<String> = kb
        .kb
        .suggested
        .iter()
        .map(|&t| format!("a:zh:{}", kb.kb.topics[t].id))
        .collect();
    let (mut bot, _) = mock(MockMessageText::new().text("/start"), kb);
    bot.dispatch().await;
    let out = sent(&bot);
    show("user", "/start", &out);
    let m = one(&out);
    assert!(html(m).starts_with("您好！我是镜像助手"), "{}", html(m));
    let b = buttons(m);
    let data: Vec<&String> = b.iter().map(|(_, d)| d).collect();
    assert_eq!(
        data,
        curated.iter().collect::<Vec<_>>(),
        "bot.toml's list, in order"
    );
    assert_eq!(data[0], "a:zh:image-trouble", "most asked first");
    assert!(b
        .iter()
        .any(|(l, d)| l == "镜像如何计费？" && d == "a:zh:image-billing"));
}

#[tokio::test]
async fn help_topics_ticket_and_lang_commands() {
    let (mut bot, _) = mock(from_user(1, "/help"), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user", "/help", &out);
    let help = html(one(&out));
    for c in [
        "/start",
        "/topics",
        "/ticket",
        "/lang zh|en",
        "/reset",
        "@test_bot",
    ] {
        assert!(help.contains(c), "{c} in {help}");
    }

    let out = say(&mut bot, 1, "/topics").await;
    assert!(buttons(one(&out)).len() >= 17);

    let out = say(&mut bot, 1, "/ticket").await;
    let t = one(&out);
    assert!(
        html(t).contains(
            "<a href=\"https://console.cloud.tencent.com/workorder/category\">提交工单</a>"
        ),
        "{}",
        html(t)
    );
    assert!(
        html(t).contains("服务市场镜像：在该镜像的商品页面"),
        "the vendor route"
    );
    assert_eq!(
        buttons(t),
        [(
            "提交工单".to_string(),
            "https://console.cloud.tencent.com/workorder/category".to_string()
        )]
    );

    let out = say(&mut bot, 1, "/lang en").await;
    assert_eq!(html(one(&out)), "OK, I will answer in English from now on.");
    // Pinned: a Chinese question now gets an English answer, and commands speak English.
    let out = say(&mut bot, 1, "镜像如何计费？").await;
    assert!(
        html(&out[0]).starts_with("By image type:"),
        "{}",
        html(&out[0])
    );
    let out = say(&mut bot, 1, "/lang").await;
    assert!(html(one(&out)).starts_with("Usage: /lang zh"));
    let out = say(&mut bot, 1, "/lang zh").await;
    assert_eq!(html(one(&out)), "好的，之后都用中文回答。");
}

#[tokio::test]
async fn chinese_and_english_questions_and_a_follow_up() {
    let (mut bot, _) = mock(from_user(7, "共享镜像要收费吗？"), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user 7", "共享镜像要收费吗？", &out);
    let m = one(&out);
    assert!(
        html(m).contains("共享镜像的费用一栏写的是：无"),
        "{}",
        html(m)
    );
    assert!(html(m).ends_with("<i>您还可以问：</i>"));
    assert_eq!(buttons(m).len(), 3, "related questions as buttons");

    // A follow-up with only a type: the chat's context (billing) carries over.
    let out = say(&mut bot, 7, "那公共镜像呢？").await;
    let m = one(&out);
    assert!(
        html(m).starts_with("公共镜像：当前腾讯云提供的所有公共镜像"),
        "{}",
        html(m)
    );
    assert!(html(m).contains("免费"));

    let out = say(&mut bot, 7, "What are the usage limits of shared images?").await;
    let m = one(&out);
    assert!(
        html(m).contains("Each custom image can be shared with at most 50 Tencent Cloud"),
        "{}",
        html(m)
    );
    assert!(html(m).contains("<i>You could also ask:</i>"));

    // A related-question button continues the same conversation.
    let first = buttons(m)[0].0.clone();
    let out = press(&mut bot, m, &first).await;
    assert!(html(&out[0]).starts_with(&format!("<b>{first}</b>\n")));
}

#[tokio::test]
async fn a_problem_report_gets_type_buttons_that_route() {
    let (mut bot, _) = mock(from_user(3, "我的镜像启动不了了"), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user 3", "我的镜像启动不了了", &out);
    let clarify = one(&out).clone();
    assert!(html(&clarify).contains("请问是哪种镜像出了问题？"));
    let labels: Vec<String> = buttons(&clarify).into_iter().map(|b| b.0).collect();
    assert_eq!(
        labels,
        ["公共镜像", "服务市场镜像", "自定义镜像", "共享镜像"]
    );

    let out = press(&mut bot, &clarify, "服务市场镜像").await;
    let vendor = html(&out[0]);
    assert!(vendor.starts_with("<b>服务市场镜像</b>\n"));
    assert!(
        vendor.contains("服务商家进行在线、电话以及邮件"),
        "{vendor}"
    );
    assert!(
        vendor.contains("云市场客服"),
        "the marketplace fallback: {vendor}"
    );
    assert!(
        !vendor.contains("workorder"),
        "no ticket link for marketplace images"
    );

    // The same problem again, and "public" this time: the ticket link.
    let out = say(&mut bot, 3, "我的镜像启动不了了").await;
    let clarify = one(&out).clone();
    let out = press(&mut bot, &clarify, "公共镜像").await;
    let public = one(&out);
    assert!(
        html(public).contains(
            "<a href=\"https://console.cloud.tencent.com/workorder/category\">提交工单</a>"
        ),
        "{}",
        html(public)
    );
    assert!(html(public).contains("<pre>"), "the ticket draft to copy");
    assert_eq!(
        buttons(public)[0].1,
        "https://console.cloud.tencent.com/workorder/category"
    );

    // A button the bot does not know (an old keyboard, a forged press) only stops the spinner.
    bot.update(MockCallbackQuery::new().data("a:zh:no-such-topic"));
    bot.dispatch().await;
    let r = bot.get_responses();
    assert_eq!(r.answered_callback_queries.len(), 1);
    assert_eq!(
        r.answered_callback_queries[0].text.as_deref(),
        Some("这个按钮已失效，请直接提问。")
    );
    assert!(r.sent_messages.is_empty());
}

#[tokio::test]
async fn out_of_scope_gets_a_decline_with_suggestion_buttons() {
    let (mut bot, _) = mock(from_user(4, "今天天气怎么样"), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user 4", "今天天气怎么样", &out);
    let m = one(&out);
    assert!(html(m).starts_with("抱歉，这个问题不在我能回答的镜像 FAQ 范围内"));
    assert!(
        !html(m).contains("您还可以问"),
        "the decline itself introduces the buttons"
    );
    let b = buttons(m);
    assert_eq!(b.len(), 3);
    assert!(b.iter().all(|(_, d)| d.starts_with("a:zh:")));

    let out = press(&mut bot, m, &b[1].0).await;
    assert!(html(&out[0]).starts_with(&format!("<b>{}</b>", b[1].0)));
}

#[tokio::test]
async fn two_chats_interleaved_keep_separate_context() {
    let (mut bot, state) = mock(from_user(100, "共享镜像要收费吗？"), builtin());
    bot.dispatch().await;
    show("user 100", "共享镜像要收费吗？", &sent(&bot));
    say(&mut bot, 200, "共享镜像有什么使用限制？").await;
    let a = say(&mut bot, 100, "那公共镜像呢？").await;
    let b = say(&mut bot, 200, "那公共镜像呢？").await;
    assert!(
        html(one(&a)).contains("免费"),
        "chat 100 follows billing: {}",
        html(&a[0])
    );
    assert!(
        html(one(&b)).starts_with("公共镜像：暂无使用限制。"),
        "chat 200 follows limits: {}",
        html(&b[0])
    );
    let conv = |c: Option<Conversation>| c.and_then(|c| c.last_topic);
    assert_eq!(
        conv(state.clone().get_dialogue(ChatId(100)).await.unwrap()).as_deref(),
        Some("image-billing")
    );
    assert_eq!(
        conv(state.clone().get_dialogue(ChatId(200)).await.unwrap()).as_deref(),
        Some("image-limits")
    );
}

#[tokio::test]
async fn html_in_the_question_is_escaped() {
    let question = "我的公共镜像 img-ab12cd34 启动失败了，报错 <b>& kernel panic";
    let (mut bot, _) = mock(from_user(5, question), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user 5", question, &out);
    let m = html(one(&out));
    // The ticket draft quotes the user's words: escaped, never markup.
    assert!(m.contains("&lt;b&gt;&amp; kernel panic"), "{m}");
    assert!(!m.contains("<b>&"));
    assert!(m.contains("img-ab12cd34"));
    assert!(
        html_to_plain(m).contains("<b>& kernel panic"),
        "a person sees what they typed"
    );
}

/// The built-in knowledge with one answer made long (and full of `<`, `&`).
fn knowledge_with_a_long_answer() -> (Assistant, Vec<String>) {
    let lines: Vec<String> = (1..=400)
        .map(|i| format!("- 第 {i} 条：可用地域 <b>&amp; 说明</b>，a_b *c* d."))
        .collect();
    let files: Vec<SourceFile> = builtin_files()
        .into_iter()
        .map(|mut f| {
            if f.path.ends_with("image-regions.toml") {
                let old = "zh = \"目前可支持国内各地区使用，暂不支持海外区域。\"";
                assert!(f.text.contains(old));
                let long = lines.join("\\n");
                f.text = f.text.replace(old, &format!("zh = \"{long}\""));
            }
            f
        })
        .collect();
    (Assistant::from_files(&files).unwrap(), lines)
}

#[tokio::test]
async fn a_long_reply_is_split_at_line_boundaries() {
    let (kb, lines) = knowledge_with_a_long_answer();
    let (mut bot, _) = mock(from_user(6, "镜像的可用区域？"), kb);
    bot.dispatch().await;
    let out = sent(&bot);
    println!("user 6: 镜像的可用区域？");
    for m in &out {
        println!(
            "    bot | ({} characters) {} … {}",
            utf16_len(html(m)),
            html_to_plain(html(m)).lines().next().unwrap_or(""),
            html_to_plain(html(m)).lines().last().unwrap_or("")
        );
    }
    assert!(out.len() >= 3, "{} messages", out.len());
    // Every line whole, in order, escaped; the buttons only under the last message.
    let received: Vec<&str> = out.iter().flat_map(|m| html(m).lines()).collect();
    let expected: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "• {}",
                l[2..]
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            )
        })
        .collect();
    assert_eq!(&received[..expected.len()], expected.as_slice());
    for m in &out[..out.len() - 1] {
        assert!(buttons(m).is_empty());
    }
    assert_eq!(buttons(out.last().unwrap()).len(), 3);
}

#[tokio::test]
async fn a_sticker_gets_the_text_only_reply() {
    let (mut bot, _) = mock(MockMessageSticker::new(), builtin());
    bot.dispatch().await;
    let out = sent(&bot);
    show("user", "(a sticker)", &out);
    assert_eq!(
        html(one(&out)),
        "我只能读懂文字消息。请用文字描述您的问题，例如“镜像如何计费？”"
    );
}

#[tokio::test]
async fn the_production_dispatcher_builds() {
    // dptree checks every handler's dependencies when the dispatcher is
    // built, and would panic at start-up on a wiring error.
    let dir = tempfile::tempdir().unwrap();
    for state in [
        "memory".to_string(),
        format!("sqlite:{}", dir.path().join("state.db").display()),
    ] {
        let env = imagebot_channels::telegram::config::Env {
            token: Some("1234567890:QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIO".into()),
            ..Default::default()
        };
        let config = TelegramConfig::new(None, None, &state, env).unwrap();
        let dp = production_dispatcher(&config, builtin()).unwrap();
        drop(dp);
    }
}

// ---- Rate limits ----

#[tokio::test]
async fn the_21st_message_in_a_minute_gets_the_wait_message_once() {
    // The default limit, 20 a minute, on a clock that stands still: all 21
    // messages arrive "at once", however long the mock server takes.
    let (limiter, clock) = limiter(imagebot_channels::ratelimit::DEFAULT_RATE);
    let ctx = BotContext::live(LiveKnowledge::fixed(builtin()), None, Some(limiter));
    let mut bot = mock_ctx(from_user(5, "镜像是什么"), ctx);
    for i in 1..=20 {
        let out = say(
            &mut bot,
            5,
            if i % 2 == 0 {
                "共享镜像要收费吗？"
            } else {
                "镜像是什么"
            },
        )
        .await;
        assert!(!out.is_empty(), "message {i} answered");
        assert!(!html(&out[0]).starts_with("消息太多了"), "message {i}");
    }
    let out = say(&mut bot, 5, "镜像是什么").await;
    assert_eq!(html(one(&out)), "消息太多了，请 3 秒后再试。");
    // Told once: further messages in the window get nothing, commands included.
    assert!(say(&mut bot, 5, "镜像是什么").await.is_empty());
    assert!(say(&mut bot, 5, "/help").await.is_empty());
    // Another chat is not affected.
    let out = say(&mut bot, 6, "共享镜像要收费吗？").await;
    assert!(html(&out[0]).contains("共享镜像"), "{}", html(&out[0]));
    // Three seconds later one message gets through again, and the next
    // refusal is told again.
    clock.advance(std::time::Duration::from_secs(3));
    let out = say(&mut bot, 5, "共享镜像要收费吗？").await;
    assert!(
        html(&out[0]).contains("共享镜像的费用一栏写的是：无"),
        "{}",
        html(&out[0])
    );
    let out = say(&mut bot, 5, "镜像是什么").await;
    assert_eq!(html(one(&out)), "消息太多了，请 3 秒后再试。");
}

#[tokio::test]
async fn the_wait_message_speaks_the_chat_language_and_buttons_are_limited_too() {
    let (limiter, _clock) = limiter("2/min");
    let ctx = BotContext::live(LiveKnowledge::fixed(builtin()), None, Some(limiter));
    let mut bot = mock_ctx(from_user(8, "What is an image?"), ctx);
    bot.dispatch().await;
    let answer = one(&sent(&bot)).clone();
    say(&mut bot, 8, "Are shared images free?").await;
    let out = say(&mut bot, 8, "How are images billed?").await;
    assert_eq!(html(one(&out)), "Too many messages, please wait 30 s.");
    // A press over the limit stops the spinner with the wait, and sends nothing.
    let data = buttons(&answer)[0].1.clone();
    bot.update(
        MockCallbackQuery::new()
            .id("press-limited".into())
            .from(MockUser::new().id(8).build())
            .message(answer.message.clone())
            .data(data),
    );
    bot.dispatch().await;
    let r = bot.get_responses();
    assert_eq!(r.answered_callback_queries.len(), 1);
    assert_eq!(
        r.answered_callback_queries[0].text.as_deref(),
        Some("Too many messages, please wait 30 s.")
    );
    assert!(r.sent_messages.is_empty());
    // Traditional Chinese in, Traditional out.
    say(&mut bot, 9, "鏡像是什麼").await;
    say(&mut bot, 9, "鏡像怎麼收費").await;
    let out = say(&mut bot, 9, "共享鏡像要收費嗎").await;
    assert_eq!(html(one(&out)), "訊息太多了，請 30 秒後再試。");
}

// ---- Live knowledge ----

#[tokio::test]
async fn a_reload_changes_the_answers_and_a_broken_version_is_refused() {
    let dir = common::knowledge_copy();
    let live = LiveKnowledge::new(
        Assistant::from_dir(dir.path()).unwrap(),
        Some(dir.path().to_path_buf()),
    );
    let ctx = BotContext::live(live.clone(), None, None);
    let mut bot = mock_ctx(from_user(11, "镜像是什么"), ctx);
    bot.dispatch().await;
    let before = html(one(&sent(&bot))).to_string();
    assert!(before.contains("镜像即云服务器的“装机盘”。"), "{before}");

    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "镜像即云服务器的“装机盘”。",
        "镜像即云服务器的“装机盘”（新版）。",
    );
    let topics = common::topic_count();
    assert!(matches!(
        live.reload(),
        ReloadOutcome::Reloaded { topics: n, .. } if n == topics
    ));
    let out = say(&mut bot, 11, "镜像是什么").await;
    assert!(
        html(&out[0]).contains("“装机盘”（新版）。"),
        "{}",
        html(&out[0])
    );

    // A misspelt field: refused with `check`'s messages; the chat still
    // gets the last good version.
    common::edit(
        dir.path(),
        "topics/what-is-image.toml",
        "phrasings = [",
        "phrasingz = [",
    );
    let ReloadOutcome::Refused { problems } = live.reload() else {
        panic!("a broken version was accepted");
    };
    let check = imagebot_core::check::check_dir(dir.path()).problems;
    assert_eq!(problems, check);
    assert!(
        problems[0].contains("unknown field `phrasingz`"),
        "{problems:?}"
    );
    let out = say(&mut bot, 11, "镜像是什么").await;
    assert!(
        html(&out[0]).contains("“装机盘”（新版）。"),
        "{}",
        html(&out[0])
    );
    let stats = live.stats();
    assert_eq!((stats.ok, stats.refused, stats.generation), (1, 1, 1));
}
