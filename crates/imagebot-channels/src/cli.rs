//! The command line: `ask`, `chat` (a prompt for a person, or JSON lines),
//! `check` and `eval`.

use anyhow::{Context, Result};
use imagebot_core::check::check_dir;
use imagebot_core::eval::{load_cases, run_cases, Report};
use imagebot_core::reply::{Lang, Reply};
use imagebot_core::{answer, answer_explained, Assistant, Conversation};
use imagebot_records::Recorder;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Renders a reply for a person at a terminal.
pub fn render_plain(reply: &Reply) -> String {
    let mut s = reply.text.clone();
    if !reply.suggestions.is_empty() {
        s.push_str(if reply.lang == Lang::En {
            "\n\nYou could also ask:"
        } else {
            "\n\n您还可以问："
        });
        for (i, q) in reply.suggestions.iter().enumerate() {
            s.push_str(&format!("\n  {}. {q}", i + 1));
        }
    }
    if let Some(t) = &reply.ticket_draft {
        s.push_str("\n\n");
        s.push_str(t);
    }
    s
}

/// Records a reply (channel "cli") before it is shown, so a printed reply
/// means its record is stored. A failure is reported on stderr; the answer
/// is never lost for it.
fn record(rec: Option<&Recorder>, message: &str, reply: &Reply) {
    if let Some(rec) = rec {
        if let Err(e) = rec.record("cli", message, reply) {
            eprintln!("imagebot: could not record this message: {e}");
        }
    }
}

pub fn ask(
    kb: &Assistant,
    question: &str,
    json: bool,
    explain: bool,
    rec: Option<&Recorder>,
) -> Result<()> {
    let mut conv = Conversation::new();
    let (reply, ex) = answer_explained(kb, &mut conv, question);
    record(rec, question, &reply);
    let mut out = io::stdout().lock();
    if json {
        writeln!(out, "{}", reply.to_json())?;
    } else {
        writeln!(out, "{}", render_plain(&reply))?;
    }
    if explain {
        // Explanations go to stderr so --json output stays one object.
        eprintln!("{ex}");
    }
    Ok(())
}

/// Replies are held back for at most this many lines before their records
/// are committed and they are written.
const BATCH_LINES: usize = 256;

/// `chat --json`: one message a line in, one JSON reply a line out. Lines
/// already waiting in the input are answered as a batch: their records are
/// committed in one transaction, then their replies written and flushed. A
/// reply is never written before its record is committed, and a line with
/// nothing after it is answered at once (an interactive client never waits).
/// With recording, a second thread commits and writes one batch while the
/// next is answered.
pub fn chat_json(kb: &Assistant, rec: Option<&Recorder>) -> Result<()> {
    let Some(rec) = rec else {
        let mut out = io::stdout().lock();
        return answer_lines(kb, |batch| batch.finish(None, &mut out));
    };
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        let writer = scope.spawn(move || -> Result<()> {
            let mut out = io::stdout().lock();
            for mut batch in rx {
                batch.finish(Some(rec), &mut out)?;
            }
            Ok(())
        });
        let answered = answer_lines(kb, |batch| {
            // The writer stops only on an error, which its join reports.
            tx.send(std::mem::take(batch))
                .map_err(|_| anyhow::anyhow!("the output stopped"))
        });
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the output thread failed")));
        written.and(answered)
    })
}

/// Reads messages a line at a time, answers them in one conversation, and
/// hands each batch of replies to `ready`.
fn answer_lines(kb: &Assistant, mut ready: impl FnMut(&mut Batch) -> Result<()>) -> Result<()> {
    let mut input = io::BufReader::with_capacity(64 * 1024, io::stdin());
    let mut batch = Batch::default();
    let mut conv = Conversation::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("cannot read standard input")?
            == 0
        {
            break;
        }
        // Invalid UTF-8 is replaced, not fatal: the reply still comes, one per line.
        let text = String::from_utf8_lossy(&line);
        let message = text.trim_end_matches(['\n', '\r']);
        let reply = answer(kb, &mut conv, message);
        batch.push(message, reply)?;
        let more_waiting = input.buffer().contains(&b'\n');
        if !more_waiting || batch.len() >= BATCH_LINES {
            ready(&mut batch)?;
        }
    }
    if batch.len() > 0 {
        ready(&mut batch)?;
    }
    Ok(())
}

/// Answered lines whose replies wait for their records.
#[derive(Default)]
struct Batch {
    messages: Vec<String>,
    replies: Vec<Reply>,
    json: Vec<u8>,
}

impl Batch {
    fn len(&self) -> usize {
        self.replies.len()
    }

    fn push(&mut self, message: &str, reply: Reply) -> Result<()> {
        serde_json::to_writer(&mut self.json, &reply)?;
        self.json.push(b'\n');
        self.messages.push(message.to_string());
        self.replies.push(reply);
        Ok(())
    }

    /// Commits the records, then writes and flushes the replies.
    fn finish(&mut self, rec: Option<&Recorder>, out: &mut impl Write) -> Result<()> {
        if self.replies.is_empty() {
            return Ok(());
        }
        if let Some(rec) = rec {
            let items: Vec<(&str, &Reply)> = self
                .messages
                .iter()
                .map(String::as_str)
                .zip(&self.replies)
                .collect();
            if let Err(e) = rec.record_batch("cli", &items) {
                eprintln!("imagebot: could not record {} message(s): {e}", items.len());
            }
        }
        out.write_all(&self.json)?;
        out.flush()?;
        self.messages.clear();
        self.replies.clear();
        self.json.clear();
        Ok(())
    }
}

/// `chat`: a friendly prompt. A number picks a suggestion; /reset, /lang zh|en, /quit.
pub fn chat_interactive(kb: &Assistant, rec: Option<&Recorder>) -> Result<()> {
    let stdin = io::stdin();
    let tty = stdin.is_terminal();
    let mut out = io::stdout().lock();
    let mut conv = Conversation::new();
    let mut last: Option<Reply> = None;
    writeln!(
        out,
        "imagebot: 云服务器镜像问答 / questions about cloud server images.\n输入问题 (type a question); 数字选择推荐问题 (a number picks a suggestion); /reset, /lang zh|en, /quit."
    )?;
    let mut lines = stdin.lock().lines();
    loop {
        if tty {
            write!(out, "\n> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line.unwrap_or_default();
        let msg = line.trim();
        match msg {
            "/quit" | "/exit" | "quit" | "exit" => break,
            "/reset" => {
                conv.reset();
                writeln!(out, "(context cleared)")?;
                continue;
            }
            _ if msg.starts_with("/lang") => {
                let arg = msg.trim_start_matches("/lang").trim();
                match Lang::parse(arg) {
                    Some(l) => {
                        conv.lang = Some(l);
                        writeln!(out, "(language: {arg})")?;
                    }
                    None => writeln!(out, "usage: /lang zh|zh-hant|en")?,
                }
                continue;
            }
            _ => {}
        }
        let picked = msg
            .parse::<usize>()
            .ok()
            .and_then(|n| last.as_ref()?.suggestions.get(n.checked_sub(1)?).cloned());
        let question = picked.as_deref().unwrap_or(msg);
        let reply = answer(kb, &mut conv, question);
        record(rec, question, &reply);
        if !tty {
            writeln!(out, "> {question}")?;
        }
        writeln!(out, "{}", render_plain(&reply))?;
        last = Some(reply);
    }
    Ok(())
}

pub fn check(dir: &Path) -> ExitCode {
    let report = check_dir(dir);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if report.problems.is_empty() {
        println!("{}", report.summary);
        ExitCode::SUCCESS
    } else {
        for p in &report.problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s) in {}", report.problems.len(), dir.display());
        ExitCode::from(1)
    }
}

pub fn eval(kb: &Assistant, cases: &Path, json: bool, fail_under: Option<f64>) -> Result<ExitCode> {
    let cases = load_cases(cases)?;
    let results = run_cases(kb, &cases);
    let report = Report::new(&results);
    if json {
        println!("{}", serde_json::to_string_pretty(&report.metrics_json())?);
    } else {
        print!("{}", report.text(&results));
    }
    let failed = fail_under.is_some_and(|rate| report.pass_rate() < rate);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
