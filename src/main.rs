//! The `imagebot` command: clap commands over the library. Errors are
//! reported here, at the edge, with anyhow.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use imagebot::channels::cli;
use imagebot::Knowledge;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "imagebot",
    version,
    about = "Answers questions about cloud server images (镜像) from an editable FAQ knowledge base."
)]
struct Args {
    /// Use the knowledge in this folder instead of the one built into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    knowledge: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
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
    /// Validate a knowledge folder and report every problem found.
    Check,
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
}

fn load(dir: &Option<PathBuf>) -> Result<Knowledge> {
    match dir {
        Some(d) => Knowledge::from_dir(d).with_context(|| format!("cannot load the knowledge in {}", d.display())),
        None => Knowledge::builtin().context("the built-in knowledge is broken (rebuild after running `imagebot check --knowledge knowledge`)"),
    }
}

fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Check => {
            let dir = args
                .knowledge
                .clone()
                .unwrap_or_else(|| PathBuf::from("knowledge"));
            Ok(cli::check(&dir))
        }
        Command::Ask {
            json,
            explain,
            question,
        } => {
            let kb = load(&args.knowledge)?;
            cli::ask(&kb, &question.join(" "), json, explain)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Chat { json } => {
            let kb = load(&args.knowledge)?;
            if json {
                cli::chat_json(&kb)?;
            } else {
                cli::chat_interactive(&kb)?;
            }
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
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("imagebot: {e:#}");
            ExitCode::from(2)
        }
    }
}
