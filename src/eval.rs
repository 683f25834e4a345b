//! Labelled cases (the format of `shared/eval/dev.jsonl`), run in-process
//! through the engine and judged with the pass rules of `run_eval.py`, so a
//! support team can check the bot against its own questions after any edit.

use crate::{answer, Conversation, Knowledge, Reply};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One labelled case.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub kind: String,
    pub lang: String,
    pub turns: Vec<String>,
    /// The expectations on the reply to the last turn; absent keys are not checked.
    pub expect: serde_json::Map<String, Value>,
}

/// Reads cases, one JSON object a line; blank lines are skipped.
pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_cases(&text).with_context(|| format!("in {}", path.display()))
}

pub fn parse_cases(text: &str) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let Some(turns) = v
            .get("turns")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
        else {
            bail!("line {}: a case needs a non-empty \"turns\" list", n + 1);
        };
        let turns = turns
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>();
        let Some(turns) = turns else {
            bail!("line {}: every turn must be a string", n + 1)
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
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// A case, the reply to its last turn, and the checks.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: Case,
    pub reply: Reply,
    pub checks: Vec<Check>,
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
pub fn run_cases(kb: &Knowledge, cases: &[Case]) -> Vec<CaseResult> {
    cases
        .iter()
        .map(|case| {
            let mut conv = Conversation::new();
            let mut reply = None;
            for turn in &case.turns {
                reply = Some(answer(kb, &mut conv, &turn.replace(['\r', '\n'], " ")));
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

#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub ok: usize,
    pub n: usize,
}

impl Rate {
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
    pub cases: usize,
    pub passed: usize,
    pub topic_in_scope: Rate,
    pub oos_declined: Rate,
    pub oos_false_answers: Rate,
    pub image_type: Rate,
    pub route: Rate,
    pub text_has: Rate,
    pub per_kind: BTreeMap<String, (usize, usize)>,
    /// Answers by confidence band: (low, high, answers, right ones). An
    /// answer is right when the case wanted one and its topic checks out.
    pub calibration: Vec<(f32, f32, usize, usize)>,
}

/// The confidence bands of the calibration table.
const BANDS: [(f32, f32); 4] = [(0.0, 0.6), (0.6, 0.8), (0.8, 0.9), (0.9, 1.01)];

impl Report {
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
