//! `imagebot chat` for a person: a prompt with line editing and history
//! (rustyline) at a terminal, plain lines when the input is piped.
//! Slash commands are the chat's own, never questions for the bot.

use anyhow::{Context, Result};
use imagebot_core::reply::{Lang, Reply};
use imagebot_core::{answer, Assistant, Conversation};
use imagebot_records::Recorder;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};
use std::io::{self, IsTerminal, StdinLock, Write};
use std::path::PathBuf;

use crate::cli::{line_too_long_text, read_line_capped, record, render_plain, Line, MAX_LINE};

const BANNER: &str = "imagebot: 云服务器镜像问答 / questions about cloud server images.\n输入问题 (type a question); 数字选择推荐问题 (a number picks a suggestion); /help 列出命令 (lists the commands).";

const HELP: &str = "命令 / commands:
  /help                 本说明 / this list
  /reset                忘记上下文 / forget the conversation's context
  /lang zh|zh-hant|en   固定回答语言 / pin the reply language (/lang auto: follow the question)
  /quit                 退出 / leave (also Ctrl-D)
  1, 2, 3 …             选择推荐问题 / pick one of the suggested questions
  ↑ ↓                   历史问题 / earlier questions (history is kept between sessions)";

/// Where lines come from: an editor at a terminal, or plain piped lines.
enum Input<'a> {
    Editor(Box<Editor<(), FileHistory>>, Option<PathBuf>),
    Piped(StdinLock<'a>, Vec<u8>),
}

/// One thing typed.
enum Typed {
    Text(String),
    TooLong,
    End,
}

impl Input<'_> {
    fn open(history: Option<PathBuf>) -> Result<Input<'static>> {
        if !io::stdin().is_terminal() {
            return Ok(Input::Piped(io::stdin().lock(), Vec::new()));
        }
        let config = Config::builder()
            .max_history_size(1000)
            .context("history size")?
            .auto_add_history(true)
            .build();
        let mut editor = Editor::with_config(config).context("cannot set up the terminal")?;
        if let Some(path) = &history {
            // No history yet is the usual first run, not an error.
            let _ = editor.load_history(path);
        }
        Ok(Input::Editor(Box::new(editor), history))
    }

    fn next(&mut self) -> Result<Typed> {
        match self {
            Input::Piped(stdin, buf) => Ok(match read_line_capped(stdin, buf, MAX_LINE)? {
                Line::End => Typed::End,
                Line::TooLong => Typed::TooLong,
                Line::Whole => Typed::Text(String::from_utf8_lossy(buf).into_owned()),
            }),
            Input::Editor(editor, _) => match editor.readline("> ") {
                Ok(line) if line.len() > MAX_LINE => Ok(Typed::TooLong),
                Ok(line) => Ok(Typed::Text(line)),
                // Ctrl-C clears the line, as in a shell; Ctrl-D leaves.
                Err(ReadlineError::Interrupted) => Ok(Typed::Text(String::new())),
                Err(ReadlineError::Eof) => Ok(Typed::End),
                Err(e) => Err(e).context("cannot read from the terminal"),
            },
        }
    }

    /// Keeps the history for next time; a failure is said, not fatal.
    fn close(self) {
        if let Input::Editor(mut editor, Some(path)) = self {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = editor.save_history(&path) {
                eprintln!(
                    "imagebot: could not save the chat history to {}: {e}",
                    path.display()
                );
            }
        }
    }

    fn piped(&self) -> bool {
        matches!(self, Input::Piped(..))
    }
}

/// The chat history file: `$XDG_STATE_HOME/imagebot/history`, else
/// `~/.local/state/imagebot/history`; none without a home.
pub fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("imagebot").join("history"))
}

/// What a line asks of the chat itself.
#[derive(Debug, PartialEq)]
enum ChatCommand {
    Help,
    Quit,
    Reset,
    Lang(Option<Lang>),
    BadLang,
    Unknown(String),
}

/// A line that is a chat command: `/word …`, a whole word of letters (so
/// a path such as /etc/fstab is still a question).
fn chat_command(line: &str) -> Option<ChatCommand> {
    if matches!(line, "quit" | "exit") {
        return Some(ChatCommand::Quit);
    }
    let rest = line.strip_prefix('/')?;
    let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(match word.to_ascii_lowercase().as_str() {
        "help" | "h" | "commands" => ChatCommand::Help,
        "quit" | "exit" | "q" => ChatCommand::Quit,
        "reset" => ChatCommand::Reset,
        "lang" => match arg.trim() {
            "auto" => ChatCommand::Lang(None),
            a => Lang::parse(a).map_or(ChatCommand::BadLang, |l| ChatCommand::Lang(Some(l))),
        },
        other => ChatCommand::Unknown(other.to_string()),
    })
}

/// `chat` at a terminal (or with piped lines): questions and answers, a
/// number picks a suggestion, slash commands run the chat.
pub fn chat(kb: &Assistant, rec: Option<&Recorder>, history: Option<PathBuf>) -> Result<()> {
    let mut input = Input::open(history)?;
    let mut out = io::stdout().lock();
    let mut conv = Conversation::new();
    let mut last: Option<Reply> = None;
    writeln!(out, "{BANNER}")?;
    loop {
        let line = match input.next()? {
            Typed::End => break,
            Typed::TooLong => {
                writeln!(out, "({})", line_too_long_text())?;
                continue;
            }
            Typed::Text(t) => t,
        };
        let msg = line.trim();
        if let Some(cmd) = chat_command(msg) {
            match cmd {
                ChatCommand::Quit => break,
                ChatCommand::Help => writeln!(out, "{HELP}")?,
                ChatCommand::Reset => {
                    conv.reset();
                    writeln!(out, "(context cleared)")?;
                }
                ChatCommand::Lang(l) => {
                    conv.lang = l;
                    writeln!(out, "(language: {})", l.map_or("auto", Lang::name))?;
                }
                ChatCommand::BadLang => writeln!(out, "usage: /lang zh|zh-hant|en|auto")?,
                ChatCommand::Unknown(w) => writeln!(out, "(no command /{w}; /help lists them)")?,
            }
            continue;
        }
        if msg.is_empty() && !input.piped() {
            continue;
        }
        let picked = msg
            .parse::<usize>()
            .ok()
            .and_then(|n| last.as_ref()?.suggestions.get(n.checked_sub(1)?).cloned());
        let question = picked.as_deref().unwrap_or(msg);
        let reply = answer(kb, &mut conv, question);
        record(rec, question, &reply);
        if input.piped() {
            writeln!(out, "> {question}")?;
        }
        writeln!(out, "{}", render_plain(&reply))?;
        if !input.piped() {
            // Air before the next prompt; piped output stays one block a turn.
            writeln!(out)?;
        }
        out.flush()?;
        last = Some(reply);
    }
    input.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_commands() {
        let table: &[(&str, Option<ChatCommand>)] = &[
            ("/help", Some(ChatCommand::Help)),
            ("/HELP", Some(ChatCommand::Help)),
            ("/quit", Some(ChatCommand::Quit)),
            ("exit", Some(ChatCommand::Quit)),
            ("/reset", Some(ChatCommand::Reset)),
            ("/lang en", Some(ChatCommand::Lang(Some(Lang::En)))),
            ("/lang zh-hant", Some(ChatCommand::Lang(Some(Lang::ZhHant)))),
            ("/lang auto", Some(ChatCommand::Lang(None))),
            ("/lang klingon", Some(ChatCommand::BadLang)),
            (
                "/frobnicate",
                Some(ChatCommand::Unknown("frobnicate".into())),
            ),
            ("/etc/fstab 镜像里怎么改", None),
            ("/ 镜像", None),
            ("镜像如何计费？", None),
            ("1", None),
        ];
        for (line, want) in table {
            assert_eq!(&chat_command(line), want, "{line}");
        }
    }

    #[test]
    fn history_lives_in_the_state_folder() {
        // Read the rule, not the process's variables (tests share them).
        let p = history_path();
        if let Some(p) = p {
            assert!(p.ends_with("imagebot/history"), "{}", p.display());
        }
    }
}
