//! The command line: `ask`, `chat` (a prompt for a person, or JSON lines),
//! `check` and `eval`.

use anyhow::{Context, Result};
use imagebot_core::check::check_dir;
use imagebot_core::eval::{load_cases, run_cases, Report};
use imagebot_core::labels::LABELS;
use imagebot_core::reply::Reply;
use imagebot_core::{answer, answer_explained, Assistant, Conversation};
use imagebot_records::Recorder;
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

/// Renders a reply for a person at a terminal.
pub fn render_plain(reply: &Reply) -> String {
    let mut s = reply.text.clone();
    if !reply.suggestions.is_empty() {
        s.push_str("\n\n");
        s.push_str(&reply.lang.pick(&LABELS.related));
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
pub(crate) fn record(rec: Option<&Recorder>, message: &str, reply: &Reply) {
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

/// The longest input line read (64 KiB); the rest of a longer line is
/// read past and dropped, and the line gets an error reply instead.
pub const MAX_LINE: usize = 64 * 1024;

/// One line of input, read with memory bounded by [`MAX_LINE`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The input has ended.
    End,
    /// A whole line (without its line break) is in the buffer.
    Whole,
    /// The line was longer than [`MAX_LINE`]: dropped, up to its line break.
    TooLong,
}

/// Reads one line into `buf` (cleared first), never holding more than
/// `max` bytes of it.
pub fn read_line_capped(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    while buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(match (any, too_long) {
        (false, _) => Line::End,
        (true, true) => Line::TooLong,
        (true, false) => Line::Whole,
    })
}

/// What a person is told about a line longer than [`MAX_LINE`], in both languages.
pub(crate) fn line_too_long_text() -> String {
    let kib = MAX_LINE / 1024;
    format!("这一行超过 {kib} KiB，没有读取；请发送更短的问题。This line is longer than {kib} KiB and was not read; please send a shorter question.")
}

/// The reply to a line longer than [`MAX_LINE`]: the contract's fields,
/// nothing answered, and `error` for programs.
pub fn line_too_long_json() -> String {
    #[derive(serde::Serialize)]
    struct TooLong {
        answered: bool,
        topic: Option<String>,
        image_type: Option<String>,
        confidence: f32,
        route: Option<String>,
        text: String,
        suggestions: [String; 0],
        error: &'static str,
    }
    let reply = TooLong {
        answered: false,
        topic: None,
        image_type: None,
        confidence: 0.0,
        route: None,
        text: line_too_long_text(),
        suggestions: [],
        error: "line_too_long",
    };
    serde_json::to_string(&reply).unwrap_or_default()
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
        let read = read_line_capped(&mut input, &mut line, MAX_LINE)
            .context("cannot read standard input")?;
        match read {
            Line::End => break,
            Line::TooLong => batch.push_json(line_too_long_json()),
            Line::Whole => {
                // Invalid UTF-8 is replaced, not fatal: the reply still comes, one per line.
                let text = String::from_utf8_lossy(&line);
                let reply = answer(kb, &mut conv, &text);
                batch.push(&text, reply)?;
            }
        }
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
    /// Lines answered in `json`, replies and error lines alike.
    pending: usize,
}

impl Batch {
    fn len(&self) -> usize {
        self.pending
    }

    /// A line that is not a message (too long): its reply, nothing to record.
    fn push_json(&mut self, json: String) {
        self.json.extend_from_slice(json.as_bytes());
        self.json.push(b'\n');
        self.pending += 1;
    }

    fn push(&mut self, message: &str, reply: Reply) -> Result<()> {
        serde_json::to_writer(&mut self.json, &reply)?;
        self.json.push(b'\n');
        self.messages.push(message.to_string());
        self.replies.push(reply);
        self.pending += 1;
        Ok(())
    }

    /// Commits the records, then writes and flushes the replies.
    fn finish(&mut self, rec: Option<&Recorder>, out: &mut impl Write) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        if let Some(rec) = rec.filter(|_| !self.replies.is_empty()) {
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
        self.pending = 0;
        Ok(())
    }
}

/// `imagebot check`: a folder, or with none the knowledge built into the
/// binary (what every other command uses without `--knowledge`).
pub fn check(dir: Option<&Path>) -> Result<ExitCode> {
    let (report, place) = match dir {
        Some(d) => (check_dir(d), d.display().to_string()),
        None => {
            let place = "the built-in knowledge".to_string();
            match Assistant::builtin() {
                Ok(bot) => (imagebot_core::check::check_knowledge(&bot, &place), place),
                Err(e) => (imagebot_core::check::CheckReport::failed(&e), place),
            }
        }
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if report.problems.is_empty() {
        writeln!(io::stdout().lock(), "{}", report.summary)?;
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &report.problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s) in {place}", report.problems.len());
        Ok(ExitCode::from(1))
    }
}

pub fn eval(kb: &Assistant, cases: &Path, json: bool, fail_under: Option<f64>) -> Result<ExitCode> {
    let cases = load_cases(cases)?;
    let results = run_cases(kb, &cases);
    let report = Report::new(&results);
    let mut out = io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report.metrics_json())?
        )?;
    } else {
        write!(out, "{}", report.text(&results))?;
    }
    out.flush()?;
    let failed = fail_under.is_some_and(|rate| report.pass_rate() < rate);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_with_bounded_memory() {
        let data = format!("short\r\n{}\nafter\n\nlast", "x".repeat(100));
        let mut input = io::BufReader::with_capacity(16, data.as_bytes());
        let mut buf = Vec::new();
        let mut got = Vec::new();
        loop {
            let line = read_line_capped(&mut input, &mut buf, 50).unwrap();
            if line == Line::End {
                break;
            }
            assert!(buf.capacity() <= 64, "{}", buf.capacity());
            got.push((line, String::from_utf8_lossy(&buf).into_owned()));
        }
        let want = [
            (Line::Whole, "short"),
            (Line::TooLong, ""),
            (Line::Whole, "after"),
            (Line::Whole, ""),
            (Line::Whole, "last"),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((line, text), (wl, wt)) in got.iter().zip(want) {
            assert_eq!((line, text.as_str()), (&wl, wt));
        }
    }
}
