//! The Telegram front end (`imagebot telegram`): teloxide on tokio. Every
//! text message goes through the same engine [`answer`](crate::answer) as
//! the command line; this module only renders (HTML, buttons, chunks) and
//! keeps each chat's conversation in teloxide's dialogue storage.
//!
//! - [`handlers::schema`]: the handler tree, generic over the bot;
//! - [`render`]: replies as Telegram HTML messages and keyboards (pure);
//! - [`storage`]: in-memory or SQLite (`--state sqlite:PATH`) chat state;
//! - [`config`]: token, Bot API URL, webhook; the token is never shown;
//! - [`run`]: the bot itself, with `Throttle`, polling or a webhook, and
//!   graceful shutdown on Ctrl-C or SIGTERM; the knowledge reloaded on
//!   SIGHUP or with `--watch` ([`crate::reload`]), and a rate
//!   limit per chat ([`crate::ratelimit`]).

pub mod config;
pub mod handlers;
pub mod render;
pub mod storage;
pub mod texts;

pub use config::{StateSpec, TelegramConfig, Token};
pub use handlers::{dispatcher, schema, BotContext, Command, HandlerError};
pub use storage::ConvStorage;

use crate::ratelimit::{self, Limiter, Rate};
use crate::reload::{self, LiveKnowledge, ReloadOptions};
use anyhow::{anyhow, Context, Result};
use handlers::with_retry;
use imagebot_core::reply::Lang;
use imagebot_core::Assistant;
use imagebot_records::Recorder;
use std::path::PathBuf;
use std::sync::Arc;
use teloxide::adaptors::throttle::{Limits, Throttle};
use teloxide::dispatching::ShutdownToken;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{self, webhooks, UpdateListener};
use teloxide::{ApiError, RequestError};

/// The bot production runs: rate limits respected (Throttle retries
/// flood-control errors by itself).
pub type ProductionBot = Throttle<Bot>;

/// Builds the client for the configured token and Bot API server.
pub fn production_bot(config: &TelegramConfig) -> ProductionBot {
    let mut bot = Bot::new(config.token.expose());
    if let Some(url) = &config.api_url {
        bot = bot.set_api_url(url.clone());
    }
    bot.throttle(Limits::default())
}

/// The command menu's languages: Chinese by default, English for English users.
const MENU_LANGUAGES: [(Option<&str>, Lang); 2] = [(None, Lang::Zh), (Some("en"), Lang::En)];

fn startup_error(e: RequestError, config: &TelegramConfig) -> anyhow::Error {
    let server = config
        .api_url
        .as_ref()
        .map_or("https://api.telegram.org".to_string(), |u| u.to_string());
    match e {
        RequestError::Api(ApiError::InvalidToken) => anyhow!(
            "the Bot API at {server} refused the token (Unauthorized): check TELOXIDE_TOKEN or --token-file"
        ),
        e @ (RequestError::Network(_) | RequestError::Io(_)) => {
            anyhow!("cannot reach the Bot API at {server}: {e}")
        }
        e => anyhow!("the Bot API at {server} failed: {e}"),
    }
}

/// Live knowledge and rate limits of the running bot.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The `--knowledge` folder, reloaded on SIGHUP (`None`: the built-in
    /// knowledge, nothing to reload).
    pub knowledge_dir: Option<PathBuf>,
    /// `--watch`: also reload when the folder's files change.
    pub reload: ReloadOptions,
    /// Messages (and button presses) allowed per chat; `None`: no limit.
    pub rate: Option<Rate>,
    /// The most chats whose rate-limit bucket is kept.
    pub max_buckets: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            knowledge_dir: None,
            reload: ReloadOptions::default(),
            rate: ratelimit::DEFAULT_RATE
                .parse::<ratelimit::RateLimit>()
                .ok()
                .and_then(|r| r.0),
            max_buckets: ratelimit::DEFAULT_MAX_BUCKETS,
        }
    }
}

/// Runs the bot until Ctrl-C or SIGTERM: checks the token (`getMe`),
/// registers the command menu, then long polling or the webhook. With a
/// recorder, escalations and unanswered questions are recorded (channel
/// "telegram"). SIGHUP (and with `--watch`, a change in the folder)
/// reloads the knowledge; each chat is rate-limited as `opts` says.
pub async fn run(
    config: TelegramConfig,
    kb: Assistant,
    recorder: Option<Recorder>,
    opts: RunOptions,
) -> Result<()> {
    let live = LiveKnowledge::new(kb, opts.knowledge_dir.clone());
    // First, so that a SIGHUP from now on reloads rather than kills.
    let reloader = reload::spawn(Arc::clone(&live), opts.reload);
    let limiter = opts.rate.map(|r| Limiter::new(r, opts.max_buckets));
    tracing::info!(
        rate_limit = %opts.rate.map_or_else(|| "off".to_string(), |r| r.to_string()),
        "per-chat rate limit"
    );
    let result = serve(config, live, recorder, limiter).await;
    reloader.abort();
    result
}

async fn serve(
    config: TelegramConfig,
    live: Arc<LiveKnowledge>,
    recorder: Option<Recorder>,
    limiter: Option<Limiter<ChatId>>,
) -> Result<()> {
    let storage = storage::open(&config.state).with_context(|| {
        format!(
            "cannot open the conversation state storage ({:?})",
            config.state
        )
    })?;
    let bot = production_bot(&config);
    let me = with_retry(|| bot.get_me().send())
        .await
        .map_err(|e| startup_error(e, &config))?;
    tracing::info!(
        "running as @{} ({} state, {})",
        me.user.username.as_deref().unwrap_or("?"),
        match &config.state {
            StateSpec::Memory => "in-memory".to_string(),
            StateSpec::Sqlite(p) => format!("SQLite {}", p.display()),
        },
        if config.webhook.is_some() {
            "webhook"
        } else {
            "long polling"
        }
    );
    for (language, lang) in MENU_LANGUAGES {
        let res = with_retry(|| {
            let mut req = bot.set_my_commands(handlers::command_menu(lang));
            if let Some(code) = language {
                req = req.language_code(code);
            }
            req.send()
        })
        .await;
        if let Err(e) = res {
            tracing::warn!("cannot register the command menu: {e}");
        }
    }

    let mut dp = dispatcher(
        bot.clone(),
        BotContext::live(live, recorder, limiter),
        storage,
    );
    let signals = tokio::spawn(shutdown_on_signal(dp.shutdown_token()));
    let result = match &config.webhook {
        None => {
            let listener = update_listeners::polling_default(bot.clone()).await;
            dp.try_dispatch_with_listener(
                listener,
                LoggingErrorHandler::with_custom_text("cannot get updates (retrying)"),
            )
            .await
        }
        Some(wh) => {
            let tcp = tokio::net::TcpListener::bind(wh.listen)
                .await
                .with_context(|| format!("cannot listen on {}", wh.listen))?;
            // Set up here rather than by teloxide, so that a replica stopping
            // does not delete the webhook the others still serve.
            with_retry(|| {
                bot.set_webhook(wh.url.clone())
                    .secret_token(wh.secret.expose().to_string())
                    .allowed_updates(vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
                    .send()
            })
            .await
            .map_err(|e| startup_error(e, &config))?;
            let options = webhooks::Options::new(wh.listen, wh.url.clone())
                .secret_token(wh.secret.expose().to_string());
            let (mut listener, stop_flag, router) = webhooks::axum_no_setup(options);
            let router = if wh.url.path() == "/healthz" {
                router
            } else {
                router.route("/healthz", axum::routing::get(|| async { "ok" }))
            };
            let stop = listener.stop_token();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(tcp, router)
                    .with_graceful_shutdown(stop_flag)
                    .await
                {
                    tracing::error!("the webhook server failed: {e}");
                    stop.stop();
                }
            });
            dp.try_dispatch_with_listener(
                listener,
                LoggingErrorHandler::with_custom_text("webhook"),
            )
            .await
        }
    };
    signals.abort();
    result.map_err(|e| startup_error(e, &config))?;
    tracing::info!("stopped");
    Ok(())
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Ctrl-C or SIGTERM: stop taking updates and finish the ones in hand; a
/// second signal exits at once.
async fn shutdown_on_signal(token: ShutdownToken) {
    signal().await;
    tracing::info!("shutting down: finishing the messages in hand (again to exit now)");
    match token.shutdown() {
        Ok(done) => {
            tokio::select! {
                _ = done => {}
                _ = signal() => {
                    tracing::warn!("exiting without finishing");
                    std::process::exit(130);
                }
            }
        }
        // Not dispatching yet (or any more): nothing is in hand.
        Err(_) => std::process::exit(0),
    }
}

/// The production handler tree and dispatcher, for a test that they wire up
/// (dptree checks the dependencies when the dispatcher is built).
pub fn production_dispatcher(
    config: &TelegramConfig,
    kb: Assistant,
) -> Result<Dispatcher<ProductionBot, HandlerError, teloxide::dispatching::DefaultKey>> {
    let storage = storage::open(&config.state)?;
    Ok(dispatcher(
        production_bot(config),
        BotContext::new(kb),
        Arc::clone(&storage),
    ))
}
