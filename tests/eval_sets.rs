//! The labelled cases through `imagebot eval`'s code: the project's own
//! cases in tests/data/, and the shared development set when it is there.

use imagebot_core::eval::{load_cases, run_cases, Report};
use imagebot_core::Assistant;
use std::path::Path;

fn run_set(path: &Path, min: f64) {
    let kb = Assistant::builtin().expect("built-in knowledge loads");
    let cases = load_cases(path).expect("cases load");
    let results = run_cases(&kb, &cases);
    let report = Report::new(&results);
    println!("{}:\n{}", path.display(), report.text(&results));
    assert!(
        report.pass_rate() >= min,
        "{}: pass rate {:.1}% is under {:.0}%",
        path.display(),
        100.0 * report.pass_rate(),
        100.0 * min
    );
}

#[test]
fn own_cases_pass_at_least_95_percent() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases.jsonl");
    let n = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert!(
        n >= 150,
        "tests/data/cases.jsonl has {n} cases, want at least 150"
    );
    run_set(&path, 0.95);
}

/// Written blind (by someone who had not seen the knowledge), then used to
/// find general gaps: a regression guard now, no longer a held-out measure.
#[test]
fn holdout_cases_pass_at_least_95_percent() {
    run_set(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/holdout.jsonl"),
        0.95,
    );
}

/// A second blind set in the dev set's mix, first run after the holdout's
/// fixes (134/150 on first sight), now a regression guard too.
#[test]
fn blind_cases_pass_at_least_95_percent() {
    run_set(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blind.jsonl"),
        0.95,
    );
}

/// A third blind set in the dev set's mix, first run on the finished matcher
/// (112/120 on first sight), now a regression guard too.
#[test]
fn blind3_cases_pass_at_least_95_percent() {
    run_set(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blind3.jsonl"),
        0.95,
    );
}

#[test]
fn shared_dev_set_passes_at_least_95_percent() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/dev.jsonl");
    if !path.exists() {
        println!(
            "skipped: {} is not here (CI always has ../shared beside the checkout)",
            path.display()
        );
        return;
    }
    run_set(&path, 0.95);
}

/// The released set (issue 11): at least 97%.
#[test]
fn released_set_passes_at_least_97_percent() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/released-1.jsonl");
    if !path.exists() {
        println!(
            "skipped: {} is not here (CI always has ../shared beside the checkout)",
            path.display()
        );
        return;
    }
    run_set(&path, 0.97);
}

/// A fourth blind set, from real customers' wording (tests/data/blind4.SOURCES.md):
/// 65.0% on first sight with the matcher before issue 11, 68.3% with its
/// first changes (made before the set existed); a regression guard now.
#[test]
fn blind4_real_wording_passes_at_least_85_percent() {
    run_set(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blind4.jsonl"),
        0.85,
    );
}
