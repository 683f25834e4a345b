//! The `imagebot` command: clap commands over the library. Errors are
//! reported here, at the edge, with anyhow.

mod config;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use imagebot_channels::{cli, http, ratelimit};
use imagebot_core::Assistant;
use mimalloc::MiMalloc;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `imagebot --version`: the release and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("BUILD_GIT_COMMIT"),
    ")"
);

// Answering a message makes many small, short-lived allocations; mimalloc
// serves them in about half the time of the system allocator.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

#[derive(Parser)]
#[command(
    name = "imagebot",
    version = VERSION,
    about = "Answers questions about cloud server images (镜像) from an editable FAQ knowledge base."
)]
struct Args {
    /// Use the knowledge in this folder instead of the one built into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    knowledge: Option<PathBuf>,
    /// The triage records (SQLite). Default: $IMAGEBOT_DB, else
    /// $XDG_DATA_HOME/imagebot/imagebot.db (~/.local/share/imagebot/imagebot.db).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Do not record escalations and unanswered questions.
    #[arg(long, global = true)]
    no_record: bool,
    /// Read settings from this TOML file (also $IMAGEBOT_CONFIG; default:
    /// ./imagebot.toml when there is one; "" for none). Keys are the long
    /// flag names, a command's under its [section]; `imagebot config` shows
    /// the result.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<OsString>,
    /// Logs (serve, telegram) as text lines, or as JSON objects for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How log lines are written.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines (coloured at a terminal unless NO_COLOR is set).
    Text,
    /// One JSON object a line.
    Json,
}

/// The recorder of a front end: none with --no-record, or (said on stderr,
/// and the answers still come) when the database cannot be opened.
fn recorder(db: Option<&std::path::Path>, no_record: bool) -> Option<imagebot_records::Recorder> {
    if no_record {
        return None;
    }
    let path = imagebot_records::db_path(db);
    match imagebot_records::Recorder::open(&path) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("imagebot: not recording ({e})");
            None
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Answer one question and exit.
    Ask {
        /// Print the reply as one JSON object (the contract's form).
        #[arg(long)]
        json: bool,
        /// Also print why the question got its answer (rules, scores, context).
        #[arg(long)]
        explain: bool,
        /// The question (several words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// A conversation: a prompt at a terminal, or JSON lines with --json.
    Chat {
        /// Read one message a line, print one JSON reply a line.
        #[arg(long)]
        json: bool,
    },
    /// Validate a knowledge folder (--knowledge, else ./knowledge, else the
    /// built-in knowledge) and report every problem found.
    Check,
    /// Print the effective configuration (command line, IMAGEBOT_* variables,
    /// configuration file, defaults), secrets redacted.
    Config,
    /// The records of escalations and unanswered questions, for the support team.
    Triage {
        #[command(subcommand)]
        command: imagebot_records::cli::TriageCommand,
    },
    /// Run labelled cases (the format of dev.jsonl) and print the metrics.
    Eval {
        /// The cases, one JSON object a line.
        #[arg(long, value_name = "FILE")]
        cases: PathBuf,
        /// Print the metrics as JSON.
        #[arg(long)]
        json: bool,
        /// Exit non-zero when the overall pass rate is below this (0-1).
        #[arg(long, value_name = "RATE")]
        fail_under: Option<f64>,
    },
    /// The HTTP API and the web chat page.
    Serve {
        /// Where to listen (port 0: any free port; the address is printed).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Forget a session after this long without a message (30m, 90s, 500ms).
        #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = http::parse_duration)]
        session_idle: std::time::Duration,
        /// Keep at most this many sessions (the least recently used go first).
        #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        max_sessions: u64,
        /// Messages allowed per client IP (IPv6: per /64), like --rate-limit;
        /// behind a proxy every client has the proxy's address unless --trust-proxy names it.
        #[arg(long, value_name = "RATE", default_value = ratelimit::DEFAULT_IP_RATE, value_parser = ratelimit::parse_rate_limit)]
        ip_rate_limit: ratelimit::RateLimit,
        /// Keep at most this many sessions per client address (its least recently used go first).
        #[arg(long, value_name = "N", default_value_t = http::DEFAULT_SESSIONS_PER_CLIENT as u64, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        max_sessions_per_client: u64,
        /// A request's headers must arrive within this long; also how long a
        /// keep-alive connection may wait for its next request.
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = http::parse_duration)]
        header_timeout: std::time::Duration,
        /// A request's body must arrive within this long (else 408).
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = http::parse_duration)]
        body_timeout: std::time::Duration,
        /// The most connections open at once (default: the file limit, raised
        /// to its maximum, less 64, at most 10,000). At the cap the connection
        /// idle the longest is closed to make room.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_connections: Option<u64>,
        /// The address of a reverse proxy: requests from it are counted by the
        /// last address of their X-Forwarded-For (off by default).
        #[arg(long, value_name = "ADDR")]
        trust_proxy: Option<std::net::IpAddr>,
        /// Refused requests (429) are logged at debug level; at info, one
        /// line this often says how many there were.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = http::parse_duration)]
        refusal_log_every: std::time::Duration,
        /// A site whose pages may embed the chat widget (`/widget.js`), as
        /// scheme://host[:port], e.g. https://shop.example.com; repeat for
        /// more. Default: none, no site may. `*` is refused on purpose.
        #[arg(long = "embed-origin", value_name = "ORIGIN", value_parser = http::embed::parse_origin)]
        embed_origin: Vec<http::embed::EmbedOrigin>,
        #[command(flatten)]
        live: LiveArgs,
    },
    /// The Telegram bot. The token comes from $TELOXIDE_TOKEN (or --token-file);
    /// $TELOXIDE_API_URL points it at a self-hosted Bot API server.
    Telegram {
        /// Read the bot token from this file instead of $TELOXIDE_TOKEN.
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
        /// Webhook mode: the public URL Telegram posts updates to (with --listen).
        #[arg(long, value_name = "URL", requires = "listen")]
        webhook: Option<String>,
        /// Webhook mode: the local address the URL reaches (with --webhook).
        #[arg(long, value_name = "ADDR", requires = "webhook")]
        listen: Option<std::net::SocketAddr>,
        /// Where each chat's conversation lives: `memory`, or `sqlite:PATH` to survive restarts.
        #[arg(long, value_name = "SPEC", default_value = "memory")]
        state: String,
        #[command(flatten)]
        live: LiveArgs,
    },
}

/// Reloads and rate limits, for `serve` and `telegram`.
#[derive(clap::Args)]
struct LiveArgs {
    /// Also reload the --knowledge folder when its files change (SIGHUP
    /// always reloads it). A version `check` rejects is refused.
    #[arg(long)]
    watch: bool,
    /// Messages allowed per chat (telegram) or session (serve): COUNT/PERIOD
    /// with an optional ,burst=N (default: COUNT), e.g. 20/min, 5/10s,
    /// 20/min,burst=5; or `off`.
    #[arg(long, value_name = "RATE", default_value = ratelimit::DEFAULT_RATE, value_parser = ratelimit::parse_rate_limit)]
    rate_limit: ratelimit::RateLimit,
    /// Keep at most this many rate-limit buckets (per limit); past it the
    /// least recently used goes.
    #[arg(long, value_name = "N", default_value_t = ratelimit::DEFAULT_MAX_BUCKETS as u64, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    rate_limit_buckets: u64,
}

impl LiveArgs {
    fn reload(&self) -> imagebot_channels::reload::ReloadOptions {
        imagebot_channels::reload::ReloadOptions {
            watch: self.watch,
            ..Default::default()
        }
    }
}

fn load(dir: &Option<PathBuf>) -> Result<Assistant> {
    match dir {
        Some(d) => Assistant::from_dir(d).with_context(|| format!("cannot load the knowledge in {}", d.display())),
        None => Assistant::builtin().context("the built-in knowledge is broken (rebuild after running `imagebot check --knowledge knowledge`)"),
    }
}

fn run(args: Args, loaded: &config::Loaded, matches: &clap::ArgMatches) -> Result<ExitCode> {
    match args.command {
        Command::Check => {
            let local = Path::new("knowledge");
            let dir = args
                .knowledge
                .as_deref()
                .or(local.is_dir().then_some(local));
            cli::check(dir)
        }
        Command::Config => {
            config::print_effective(loaded, matches, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask {
            json,
            explain,
            question,
        } => {
            let kb = load(&args.knowledge)?;
            let rec = recorder(args.db.as_deref(), args.no_record);
            cli::ask(&kb, &question.join(" "), json, explain, rec.as_ref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat { json } => {
            let kb = load(&args.knowledge)?;
            let rec = recorder(args.db.as_deref(), args.no_record);
            if json {
                cli::chat_json(&kb, rec.as_ref())?;
            } else {
                let history = imagebot_channels::terminal::history_path();
                imagebot_channels::terminal::chat(&kb, rec.as_ref(), history)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Triage { command } => {
            let db = imagebot_records::db_path(args.db.as_deref());
            imagebot_records::cli::run(&db, &command, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            cases,
            json,
            fail_under,
        } => {
            let kb = load(&args.knowledge)?;
            cli::eval(&kb, &cases, json, fail_under)
        }
        Command::Serve {
            addr,
            session_idle,
            max_sessions,
            ip_rate_limit,
            max_sessions_per_client,
            header_timeout,
            body_timeout,
            max_connections,
            trust_proxy,
            refusal_log_every,
            embed_origin,
            live,
        } => {
            let kb = load(&args.knowledge)?;
            init_logs(args.log_format);
            let opts = http::ServeOptions {
                addr,
                session_idle,
                max_sessions: max_sessions as usize,
                recorder: recorder(args.db.as_deref(), args.no_record),
                knowledge_dir: args.knowledge.clone(),
                reload: live.reload(),
                session_rate: live.rate_limit.0,
                ip_rate: ip_rate_limit.0,
                max_buckets: live.rate_limit_buckets as usize,
                header_timeout,
                body_timeout,
                max_connections: max_connections
                    .map_or_else(http::conn::default_max_connections, |n| n as usize),
                max_sessions_per_client: max_sessions_per_client as usize,
                trust_proxy,
                refusal_summary: refusal_log_every,
                embed_origins: embed_origin,
            };
            http::run(kb, opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Telegram {
            token_file,
            webhook,
            listen,
            state,
            live,
        } => {
            use imagebot_channels::telegram;
            // clap checks `requires` on the command line only; a file or a
            // variable can give one without the other.
            if webhook.is_some() != listen.is_some() {
                bail!("--webhook and --listen go together: give both (webhook mode) or neither (long polling)");
            }
            let config = telegram::TelegramConfig::new(
                token_file.as_deref(),
                webhook.as_deref().zip(listen),
                &state,
                telegram::config::Env::from_process(),
            )?;
            let kb = load(&args.knowledge)?;
            init_logs(args.log_format);
            let rec = recorder(args.db.as_deref(), args.no_record);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let opts = telegram::RunOptions {
                knowledge_dir: args.knowledge.clone(),
                reload: live.reload(),
                rate: live.rate_limit.0,
                max_buckets: live.rate_limit_buckets as usize,
            };
            let result = runtime.block_on(telegram::run(config, kb, rec, opts));
            // The updates in hand are done; idle connections need no waiting for.
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            result?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Logs on standard error; `RUST_LOG` sets the level (default info).
/// Colours only at a terminal, and never with NO_COLOR set (no-color.org).
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.with_ansi(colour).try_init(),
        LogFormat::Json => logs.json().with_ansi(false).try_init(),
    };
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let loaded = match config::load(Args::command(), &argv) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("imagebot: {e}");
            return ExitCode::from(2);
        }
    };
    let matches = loaded.command.clone().get_matches_from(&argv);
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(args, &loaded, &matches) {
        Ok(code) => code,
        // Whoever reads the output stopped (`imagebot eval … | head`): a
        // quiet exit, as ripgrep does.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imagebot: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether an error is, somewhere down its chain, a write to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
