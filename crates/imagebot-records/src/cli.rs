//! `imagebot triage list|stats|export|purge`: the records for the support team.

use crate::store::{Filter, Record, RecordKind, Recorder, Stats};
use crate::{time, TriageError};
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RouteArg {
    Ticket,
    Vendor,
    Clarify,
}

impl RouteArg {
    fn as_str(self) -> &'static str {
        match self {
            RouteArg::Ticket => "ticket",
            RouteArg::Vendor => "vendor",
            RouteArg::Clarify => "clarify",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180: a header row, CRLF line ends, fields quoted when needed.
    Csv,
    /// One JSON object a line.
    Jsonl,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TriageCommand {
    /// The records, newest first: escalations (ticket, vendor, clarify) and unanswered questions.
    List {
        /// Only records at or after this time: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC), or an age such as 7d.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only escalations with this route.
        #[arg(long, value_enum, conflicts_with = "unanswered")]
        route: Option<RouteArg>,
        /// Only unanswered questions.
        #[arg(long)]
        unanswered: bool,
        /// At most this many (0: all).
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
        /// Print a JSON array of records (every field).
        #[arg(long)]
        json: bool,
    },
    /// Counts per route, topic, channel and day; the most frequent unanswered questions, grouped.
    Stats {
        /// Only records at or after this time (as for list).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// How many groups of unanswered questions to show.
        #[arg(long, default_value_t = 10, value_name = "N")]
        top: usize,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every record, oldest first, on standard output.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Only records at or after this time (as for list).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only escalations with this route.
        #[arg(long, value_enum)]
        route: Option<RouteArg>,
    },
    /// Delete the records older than an age, such as 30d (units s, m, h, d, w).
    Purge {
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
}

/// Runs a triage command on the database at `db`, writing to `out`.
pub fn run(db: &Path, cmd: &TriageCommand, out: &mut dyn Write) -> Result<(), TriageError> {
    let now = time::now();
    let since = |s: &Option<String>| s.as_deref().map(|s| time::parse_since(s, now)).transpose();
    match cmd {
        TriageCommand::List {
            since: s,
            route,
            unanswered,
            limit,
            json,
        } => {
            let filter = Filter {
                since: since(s)?,
                route: route.map(|r| r.as_str().to_string()),
                kind: unanswered.then_some(RecordKind::Unanswered),
                limit: (*limit > 0).then_some(*limit),
                newest_first: true,
            };
            let rec = Recorder::open_existing(db)?;
            let records = rec.list(&filter)?;
            if *json {
                serde_json::to_writer_pretty(&mut *out, &records).map_err(std::io::Error::other)?;
                writeln!(out)?;
            } else {
                write_table(out, &records)?;
                if filter.limit == Some(records.len()) {
                    writeln!(out, "(the newest {}; --limit 0 lists all)", records.len())?;
                }
            }
        }
        TriageCommand::Stats {
            since: s,
            top,
            json,
        } => {
            let rec = Recorder::open_existing(db)?;
            let stats = rec.stats(since(s)?, *top)?;
            if *json {
                serde_json::to_writer_pretty(&mut *out, &stats).map_err(std::io::Error::other)?;
                writeln!(out)?;
            } else {
                write_stats(out, &stats)?;
            }
        }
        TriageCommand::Export {
            format,
            since: s,
            route,
        } => {
            let filter = Filter {
                since: since(s)?,
                route: route.map(|r| r.as_str().to_string()),
                ..Filter::default()
            };
            let rec = Recorder::open_existing(db)?;
            let records = rec.list(&filter)?;
            match format {
                ExportFormat::Csv => write_csv(out, &records)?,
                ExportFormat::Jsonl => {
                    for r in &records {
                        serde_json::to_writer(&mut *out, r).map_err(std::io::Error::other)?;
                        out.write_all(b"\n")?;
                    }
                }
            }
        }
        TriageCommand::Purge { older_than } => {
            let age = time::parse_age(older_than)?;
            let rec = Recorder::open_existing(db)?;
            let before = now.saturating_sub(age);
            let n = rec.purge_before(before)?;
            let left = rec.count()?;
            writeln!(
                out,
                "purged {n} record(s) older than {older_than} (before {}); {left} left in {}",
                time::format(before),
                db.display()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// One line a record: aligned ASCII columns, the message last.
fn write_table(out: &mut dyn Write, records: &[Record]) -> std::io::Result<()> {
    if records.is_empty() {
        return writeln!(out, "no records");
    }
    let rows: Vec<[String; 9]> = records
        .iter()
        .map(|r| {
            let ids: Vec<&str> = r
                .image_ids
                .iter()
                .chain(&r.instance_ids)
                .map(String::as_str)
                .collect();
            // After a clarify question the description holds the problem itself.
            let text = r.description.as_deref().unwrap_or(&r.message);
            let mut msg: String = printable(text).chars().take(60).collect();
            if text.chars().count() > 60 {
                msg.push('…');
            }
            [
                r.id.to_string(),
                r.time.clone(),
                r.channel.clone(),
                r.route.clone().unwrap_or_else(|| r.reply_kind.clone()),
                dash(&r.topic).to_string(),
                dash(&r.image_type).to_string(),
                dash(&r.region).to_string(),
                if ids.is_empty() {
                    "-".into()
                } else {
                    ids.join(",")
                },
                msg,
            ]
        })
        .collect();
    let header = [
        "id", "time", "channel", "what", "topic", "type", "region", "ids", "message",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len() - 1;
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == last {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn write_stats(out: &mut dyn Write, s: &Stats) -> std::io::Result<()> {
    if s.total == 0 {
        return writeln!(out, "no records");
    }
    writeln!(
        out,
        "{} record(s) from {} to {}: {} escalation(s), {} unanswered",
        s.total,
        dash(&s.first),
        dash(&s.last),
        s.escalations,
        s.unanswered
    )?;
    let section =
        |out: &mut dyn Write, title: &str, rows: &[crate::Count]| -> std::io::Result<()> {
            if rows.is_empty() {
                return Ok(());
            }
            writeln!(out, "\n{title}")?;
            let w = rows
                .iter()
                .map(|c| c.key.chars().count())
                .max()
                .unwrap_or(0);
            for c in rows {
                writeln!(out, "  {:<w$}  {:>5}", printable(&c.key), c.count)?;
            }
            Ok(())
        };
    section(out, "escalations by route:", &s.by_route)?;
    section(out, "escalations by topic:", &s.by_topic)?;
    section(out, "unanswered by kind:", &s.unanswered_by_kind)?;
    section(out, "by channel:", &s.by_channel)?;
    writeln!(out, "\nby day (UTC)    escalations  unanswered")?;
    for d in &s.by_day {
        writeln!(
            out,
            "  {}  {:>11}  {:>10}",
            d.day, d.escalations, d.unanswered
        )?;
    }
    if !s.unanswered_groups.is_empty() {
        writeln!(
            out,
            "\nmost frequent unanswered questions (candidates for new phrasings):"
        )?;
        for g in &s.unanswered_groups {
            writeln!(out, "  {:>4}  {}", g.count, printable(&g.question))?;
            if !g.variants.is_empty() {
                let variants: Vec<String> = g.variants.iter().map(|v| printable(v)).collect();
                writeln!(out, "        also: {}", variants.join(" | "))?;
            }
        }
    }
    Ok(())
}

/// Text for a terminal: control characters (ESC and the sequences it starts,
/// BEL, backspace...) and bidirectional overrides become spaces, so a
/// customer's message can neither move the cursor, retitle the window, nor
/// reorder what is shown.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A text cell a spreadsheet will not run: one that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (the OWASP rule
/// against formula injection). JSON lines keep the raw text.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The records as RFC 4180 CSV (the csv crate: a header row, CRLF after
/// every row, a field quoted when it holds a comma, a quote, CR or LF, quotes
/// doubled); every cell made [`spreadsheet_safe`] first.
pub fn write_csv(out: &mut dyn Write, records: &[Record]) -> std::io::Result<()> {
    const HEADER: [&str; 18] = [
        "id",
        "time",
        "channel",
        "kind",
        "route",
        "topic",
        "image_type",
        "reply_kind",
        "lang",
        "confidence",
        "message",
        "image_ids",
        "instance_ids",
        "region",
        "os",
        "error",
        "category",
        "description",
    ];
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(HEADER).map_err(io_error)?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    for r in records {
        let fields: [String; 18] = [
            r.id.to_string(),
            r.time.clone(),
            r.channel.clone(),
            r.kind.clone(),
            opt(&r.route),
            opt(&r.topic),
            opt(&r.image_type),
            r.reply_kind.clone(),
            r.lang.clone(),
            format!("{:.2}", r.confidence),
            r.message.clone(),
            r.image_ids.join(" "),
            r.instance_ids.join(" "),
            opt(&r.region),
            opt(&r.os),
            opt(&r.error),
            opt(&r.category),
            opt(&r.description),
        ];
        for f in &fields {
            w.write_field(spreadsheet_safe(f).as_bytes())
                .map_err(io_error)?;
        }
        w.write_record(None::<&[u8]>).map_err(io_error)?;
    }
    w.flush()
}

/// The I/O error inside a csv error, kind kept (a closed pipe stays a
/// closed pipe, a full disk a full disk).
fn io_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        kind => std::io::Error::other(format!("CSV: {kind:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{printable, spreadsheet_safe, write_csv, Record, Write};

    #[test]
    fn formulas_and_escapes_are_neutralized() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("镜像=1", "镜像=1"),
            ("ap-guangzhou", "ap-guangzhou"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), want, "{cell:?}");
        }
        assert_eq!(
            printable("a\u{1b}]0;pwned\u{7}b\u{1b}[2Jc\u{202E}d"),
            "a ]0;pwned b [2Jc d"
        );
    }

    fn record(message: &str, description: Option<&str>) -> Record {
        Record {
            id: 7,
            time: "2025-06-01T10:22:13Z".into(),
            channel: "cli".into(),
            kind: "escalation".into(),
            route: Some("ticket".into()),
            topic: None,
            image_type: Some("custom".into()),
            reply_kind: "problem".into(),
            lang: "en".into(),
            confidence: 0.5,
            message: message.into(),
            image_ids: vec!["img-1".into(), "img-2".into()],
            instance_ids: vec![],
            region: Some("ap-guangzhou".into()),
            os: None,
            error: None,
            category: None,
            description: description.map(str::to_string),
            ts: 0,
        }
    }

    #[test]
    fn csv_follows_rfc_4180_after_the_formula_guard() {
        let mut out = Vec::new();
        let records = [
            record("plain", None),
            record("a,b say \"hi\"", Some("two\nlines\r")),
            record("=HYPERLINK(\"http://x\",\"y\")", Some("-2+3")),
            record("镜像,导入", Some("@SUM(A1)")),
        ];
        write_csv(&mut out, &records).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split_inclusive("\r\n").collect();
        assert!(lines[0].starts_with("id,time,channel,kind,route,topic,"));
        assert!(lines[0].ends_with(",category,description\r\n"));
        let head = "7,2025-06-01T10:22:13Z,cli,escalation,ticket,,custom,problem,en,0.50,";
        assert_eq!(
            lines[1],
            format!("{head}plain,img-1 img-2,,ap-guangzhou,,,,\r\n")
        );
        assert_eq!(
            lines[2],
            format!(
                "{head}\"a,b say \"\"hi\"\"\",img-1 img-2,,ap-guangzhou,,,,\"two\nlines\r\"\r\n"
            )
        );
        assert_eq!(
            lines[3],
            format!("{head}\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",img-1 img-2,,ap-guangzhou,,,,'-2+3\r\n")
        );
        assert_eq!(
            lines[4],
            format!("{head}\"镜像,导入\",img-1 img-2,,ap-guangzhou,,,,'@SUM(A1)\r\n")
        );
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn csv_keeps_the_kind_of_an_io_error() {
        // A full disk stays a full disk (os error 28), not a generic error.
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let err = write_csv(&mut full, &[record("x", None)]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        let _ = full.flush();
    }
}
