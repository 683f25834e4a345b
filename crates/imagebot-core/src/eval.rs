//! Labelled cases (the format of `shared/eval/dev.jsonl`), run in-process
//! through the engine and judged with the pass rules of `run_eval.py`, so a
//! support team can check the bot against its own questions after any edit.

use crate::{answer, Assistant, Conversation, Reply};
/// A labelled-cases file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a case.
    #[error("{place}line {line}: {message}")]
    Line {
        /// `in FILE: ` or empty.
        place: String,
        /// 1-based.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

type Result<T> = std::result::Result<T, CasesError>;

fn bad_line(line: usize, message: impl Into<String>) -> CasesError {
    CasesError::Line {
        place: String::new(),
        line,
        message: message.into(),
    }
}
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One labelled case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's id (`lineN` when the file gives none).
    pub id: String,
    /// The kind of case (`paraphrase`, `oos`, `multi-turn`, ...), `?` when absent.
    pub kind: String,
    /// The language label of the case (`zh`, `en`, ...), `?` when absent.
    pub lang: String,
    /// The user's messages, in order; the last one's reply is judged.
    pub turns: Vec<String>,
    /// The expectations on the reply to the last turn; absent keys are not checked.
    pub expect: serde_json::Map<String, Value>,
}

/// Reads cases, one JSON object a line; blank lines are skipped.
pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).map_err(|source| CasesError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_cases(&text).map_err(|e| match e {
        CasesError::Line { line, message, .. } => CasesError::Line {
            place: format!("in {}: ", path.display()),
            line,
            message,
        },
        other => other,
    })
}

/// Parses cases from text, one JSON object a line; blank lines are skipped.
pub fn parse_cases(text: &str) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| bad_line(n + 1, format!("not JSON: {e}")))?;
        let Some(turns) = v
            .get("turns")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
        else {
            return Err(bad_line(n + 1, "a case needs a non-empty \"turns\" list"));
        };
        let turns = turns
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>();
        let Some(turns) = turns else {
            return Err(bad_line(n + 1, "every turn must be a string"));
        };
        let s = |k: &str, d: &str| v.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
        out.push(Case {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .map_or(format!("line{}", n + 1), str::to_string),
            kind: s("kind", "?"),
            lang: s("lang", "?"),
            turns,
            expect: v
                .get("expect")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// One check on one case.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked (`answered`, `topic`, `image_type`, `route`, `text_has`).
    pub name: &'static str,
    /// The reply met the expectation.
    pub ok: bool,
    /// What the reply had and what was wanted, for a person.
    pub detail: String,
}

/// A case, the reply to its last turn, and the checks.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case that was run.
    pub case: Case,
    /// The reply to the case's last turn.
    pub reply: Reply,
    /// The checks of the case's expectations.
    pub checks: Vec<Check>,
    /// Every check passed.
    pub passed: bool,
}

impl CaseResult {
    fn check(&self, name: &str) -> Option<bool> {
        self.checks.iter().find(|c| c.name == name).map(|c| c.ok)
    }
}

fn show(v: &Value) -> String {
    v.to_string()
}

/// Judges a reply against a case's expectations (the rules of run_eval.py).
pub fn judge(expect: &serde_json::Map<String, Value>, reply: &Reply) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(want) = expect.get("answered") {
        out.push(Check {
            name: "answered",
            ok: want.as_bool() == Some(reply.answered),
            detail: format!("answered={}, want {}", reply.answered, show(want)),
        });
    }
    if let Some(want) = expect.get("topic") {
        let ok = match want {
            Value::Null => reply.topic.is_none(),
            Value::String(s) => reply.topic.as_deref() == Some(s),
            Value::Array(list) => list
                .iter()
                .any(|w| w.as_str().is_some() && w.as_str() == reply.topic.as_deref()),
            _ => false,
        };
        out.push(Check {
            name: "topic",
            ok,
            detail: format!("topic={:?}, want {}", reply.topic, show(want)),
        });
    }
    if let Some(want) = expect.get("image_type") {
        let ok = match want {
            Value::Null => reply.image_type.is_none(),
            Value::String(s) => reply.image_type.as_deref() == Some(s),
            _ => false,
        };
        out.push(Check {
            name: "image_type",
            ok,
            detail: format!("image_type={:?}, want {}", reply.image_type, show(want)),
        });
    }
    if let Some(want) = expect.get("route") {
        let got = reply.route.as_ref().map(|r| r.kind());
        let ok = match want {
            Value::Null => got.is_none(),
            Value::String(s) => got == Some(s.as_str()),
            _ => false,
        };
        out.push(Check {
            name: "route",
            ok,
            detail: format!("route={got:?}, want {}", show(want)),
        });
    }
    if let Some(Value::Array(items)) = expect.get("text_has") {
        let text = reply.text.to_lowercase();
        let missing: Vec<&Value> = items
            .iter()
            .filter(|item| {
                let alts: Vec<&Value> = match item {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                !alts
                    .iter()
                    .any(|a| a.as_str().is_some_and(|s| text.contains(&s.to_lowercase())))
            })
            .collect();
        out.push(Check {
            name: "text_has",
            ok: missing.is_empty(),
            detail: format!("text lacks {}", json!(missing)),
        });
    }
    out
}

/// Runs every case in its own conversation.
pub fn run_cases(bot: &Assistant, cases: &[Case]) -> Vec<CaseResult> {
    cases
        .iter()
        .map(|case| {
            let mut conv = Conversation::new();
            let mut reply = None;
            for turn in &case.turns {
                reply = Some(answer(bot, &mut conv, &turn.replace(['\r', '\n'], " ")));
            }
            let reply = reply.expect("cases have at least one turn");
            let checks = judge(&case.expect, &reply);
            let passed = checks.iter().all(|c| c.ok);
            CaseResult {
                case: case.clone(),
                reply,
                checks,
                passed,
            }
        })
        .collect()
}

/// A count of successes out of a number of checked cases.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    /// Cases that succeeded.
    pub ok: usize,
    /// Cases checked.
    pub n: usize,
}

impl Rate {
    /// `ok / n`, or `None` when no case was checked.
    pub fn rate(self) -> Option<f64> {
        (self.n > 0).then(|| self.ok as f64 / self.n as f64)
    }

    fn show(self) -> String {
        match self.rate() {
            Some(r) => format!("{:.1}% ({}/{})", 100.0 * r, self.ok, self.n),
            None => format!("n/a (0/{})", self.n),
        }
    }
}

/// The metrics of run_eval.py.
#[derive(Debug, Clone)]
pub struct Report {
    /// The number of cases run.
    pub cases: usize,
    /// The number of cases that passed every check.
    pub passed: usize,
    /// In-scope cases answered, with the expected topic where one is given.
    pub topic_in_scope: Rate,
    /// Out-of-scope cases declined.
    pub oos_declined: Rate,
    /// Out-of-scope cases answered anyway.
    pub oos_false_answers: Rate,
    /// Cases whose `image_type` check passed.
    pub image_type: Rate,
    /// Cases whose `route` check passed.
    pub route: Rate,
    /// Cases whose `text_has` check passed.
    pub text_has: Rate,
    /// Per case kind: (passed, cases).
    pub per_kind: BTreeMap<String, (usize, usize)>,
    /// Answers by confidence band: (low, high, answers, right ones). An
    /// answer is right when the case wanted one and its topic checks out.
    pub calibration: Vec<(f32, f32, usize, usize)>,
}

/// The confidence bands of the calibration table.
const BANDS: [(f32, f32); 4] = [(0.0, 0.6), (0.6, 0.8), (0.8, 0.9), (0.9, 1.01)];

impl Report {
    /// Computes the metrics of a run's results.
    pub fn new(results: &[CaseResult]) -> Report {
        let rate = |name: &str| {
            let xs: Vec<bool> = results.iter().filter_map(|r| r.check(name)).collect();
            Rate {
                ok: xs.iter().filter(|&&x| x).count(),
                n: xs.len(),
            }
        };
        let ins: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.case.expect.get("answered") == Some(&Value::Bool(true)))
            .collect();
        let oos: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.case.expect.get("answered") == Some(&Value::Bool(false)))
            .collect();
        let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in results {
            let e = per_kind.entry(r.case.kind.clone()).or_default();
            e.1 += 1;
            if r.passed {
                e.0 += 1;
            }
        }
        Report {
            cases: results.len(),
            passed: results.iter().filter(|r| r.passed).count(),
            topic_in_scope: Rate {
                ok: ins
                    .iter()
                    .filter(|r| r.reply.answered && r.check("topic").unwrap_or(true))
                    .count(),
                n: ins.len(),
            },
            oos_declined: Rate {
                ok: oos.iter().filter(|r| !r.reply.answered).count(),
                n: oos.len(),
            },
            oos_false_answers: Rate {
                ok: oos.iter().filter(|r| r.reply.answered).count(),
                n: oos.len(),
            },
            image_type: rate("image_type"),
            route: rate("route"),
            text_has: rate("text_has"),
            per_kind,
            calibration: BANDS
                .iter()
                .map(|&(lo, hi)| {
                    let band: Vec<&CaseResult> = results
                        .iter()
                        .filter(|r| {
                            r.reply.answered && r.reply.confidence >= lo && r.reply.confidence < hi
                        })
                        .collect();
                    let right = band
                        .iter()
                        .filter(|r| {
                            r.case.expect.get("answered") == Some(&Value::Bool(true))
                                && r.check("topic").unwrap_or(true)
                        })
                        .count();
                    (lo, hi.min(1.0), band.len(), right)
                })
                .collect(),
        }
    }

    /// The share of cases that passed (0 when there are none).
    pub fn pass_rate(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.passed as f64 / self.cases as f64
        }
    }

    /// The summary, the per-kind table and the failures, for a person.
    pub fn text(&self, results: &[CaseResult]) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "overall pass rate:        {:.1}% ({}/{})\n",
            100.0 * self.pass_rate(),
            self.passed,
            self.cases
        ));
        s.push_str(&format!(
            "topic accuracy in-scope:  {}\n",
            self.topic_in_scope.show()
        ));
        s.push_str(&format!(
            "OOS rejection rate:       {}\n",
            self.oos_declined.show()
        ));
        s.push_str(&format!(
            "OOS false-answer rate:    {}\n",
            self.oos_false_answers.show()
        ));
        s.push_str(&format!(
            "image_type accuracy:      {}\n",
            self.image_type.show()
        ));
        s.push_str(&format!(
            "route accuracy:           {}\n",
            self.route.show()
        ));
        s.push_str(&format!(
            "text_has accuracy:        {}\n",
            self.text_has.show()
        ));
        s.push_str("\nconfidence of answers (how often an answer in each band was right):\n");
        for (lo, hi, n, right) in &self.calibration {
            let rate = if *n > 0 {
                format!("{:.1}%", 100.0 * *right as f64 / *n as f64)
            } else {
                "-".into()
            };
            s.push_str(&format!(
                "  {lo:.1}-{hi:.1}  {n:>4} answers, {right:>4} right ({rate})\n"
            ));
        }
        s.push_str("\nper kind:\n");
        for (k, (p, n)) in &self.per_kind {
            s.push_str(&format!("  {k:<12} {p:>3}/{n:<3}\n"));
        }
        let fails: Vec<&CaseResult> = results.iter().filter(|r| !r.passed).collect();
        s.push_str(&format!("\nfailures ({}):\n", fails.len()));
        for r in fails {
            let why: Vec<&str> = r
                .checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.detail.as_str())
                .collect();
            s.push_str(&format!(
                "  {} [{}] {} => {}; got {:?}\n",
                r.case.id,
                r.case.kind,
                r.case.turns.join(" ⏎ "),
                why.join("; "),
                r.reply.text.chars().take(60).collect::<String>()
            ));
        }
        s.push_str(&format!(
            "\n{} passed, {} failed\n",
            self.passed,
            self.cases - self.passed
        ));
        s
    }

    /// The metrics as JSON (the keys of run_eval.py's output).
    pub fn metrics_json(&self) -> Value {
        let r = |x: Rate| json!({"ok": x.ok, "n": x.n, "rate": x.rate()});
        json!({
            "cases": self.cases,
            "passed": self.passed,
            "failed": self.cases - self.passed,
            "pass_rate": self.pass_rate(),
            "topic_accuracy_in_scope": r(self.topic_in_scope),
            "oos_rejection_rate": r(self.oos_declined),
            "oos_false_answer_rate": r(self.oos_false_answers),
            "image_type_accuracy": r(self.image_type),
            "route_accuracy": r(self.route),
            "text_has_accuracy": r(self.text_has),
            "calibration": self.calibration.iter().map(|(lo, hi, n, right)| json!({"low": lo, "high": hi, "answers": n, "right": right})).collect::<Vec<_>>(),
            "per_kind": self.per_kind.iter().map(|(k, (p, n))| (k.clone(), json!({"passed": p, "n": n}))).collect::<serde_json::Map<_, _>>(),
        })
    }
}
