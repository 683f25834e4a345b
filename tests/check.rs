//! `imagebot check` on broken knowledge folders: one test per kind of error,
//! each reported with its file, entry and what is wrong.

mod common;

use common::{edit, knowledge_copy, run};

fn check(dir: &std::path::Path) -> (bool, String) {
    let out = run(&["check", "--knowledge", dir.to_str().unwrap()], "");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.success(), err)
}

fn assert_fails_with(dir: &tempfile::TempDir, needles: &[&str]) {
    let (ok, err) = check(dir.path());
    assert!(!ok, "check must fail");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

#[test]
fn syntax_error_has_line_and_column() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "id = \"image-regions\"",
        "id = \"image-regions",
    );
    assert_fails_with(&dir, &["topics/image-regions.toml", "line 1, column"]);
}

#[test]
fn unknown_field_is_an_error() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "types.toml",
        "route = \"ticket\"",
        "rout = \"ticket\"",
    );
    assert_fails_with(&dir, &["types.toml", "unknown field `rout`"]);
}

#[test]
fn duplicate_topic_id() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "id = \"image-regions\"",
        "id = \"image-limits\"",
    );
    assert_fails_with(
        &dir,
        &[
            "topics/image-regions.toml",
            "topic image-limits",
            "duplicate topic id",
        ],
    );
}

#[test]
fn unknown_related_topic_and_concept() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "related = [\"image-limits\"",
        "related = [\"image-limitz\"",
    );
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "any = [\"#region\"]",
        "any = [\"#regoin\"]",
    );
    assert_fails_with(
        &dir,
        &[
            "related topic \"image-limitz\" does not exist",
            "unknown concept \"#regoin\"",
        ],
    );
}

#[test]
fn invalid_regex_names_the_rule() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-download.toml",
        "any = [\"#download\"]",
        "any = [\"#download\"]\nregex = \"(unclosed\"",
    );
    assert_fails_with(
        &dir,
        &[
            "topics/image-download.toml",
            "topic image-download rule 1",
            "invalid regex",
        ],
    );
}

#[test]
fn missing_english_answer() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-download.toml",
        "en = \"Downloading an image to a local machine is not supported at present; an image can be installed onto a cloud server (CVM) instead.\"",
        "en = \"\"",
    );
    assert_fails_with(
        &dir,
        &[
            "topics/image-download.toml",
            "topic image-download",
            "answer: the English (en) text is missing",
        ],
    );
}

#[test]
fn missing_chinese_answer_field() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-download.toml",
        "zh = \"目前不支持镜像下载到本地，支持安装至云服务器。\"\n",
        "",
    );
    assert_fails_with(&dir, &["topics/image-download.toml", "missing field `zh`"]);
}

#[test]
fn alias_claimed_by_two_types() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "types.toml",
        "aliases = [\"共享镜像\",",
        "aliases = [\"公共镜像\", \"共享镜像\",",
    );
    assert_fails_with(
        &dir,
        &[
            "types.toml",
            "type shared",
            "alias \"公共镜像\" is also claimed by type public",
        ],
    );
}

#[test]
fn empty_cell_without_a_gap_note() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "types.toml",
        "[type.gaps]\nsecurity",
        "[type.gaps]\nsecurityx",
    );
    assert_fails_with(
        &dir,
        // The attribute names are an enum of the schema: a misspelt one is
        // a parse error with its line and column.
        &[
            "types.toml: TOML parse error at line",
            "unknown variant `securityx`, expected one of `description`, `fee`, `security`, `billing`, `limits`",
        ],
    );
}

#[test]
fn phrasing_answered_with_another_topic() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "\"镜像在哪些地区能用\",",
        "\"镜像在哪些地区能用\",\n  \"镜像收费吗\",",
    );
    assert_fails_with(
        &dir,
        &[
            "topics/image-regions.toml",
            "topic image-regions",
            "\"镜像收费吗\" is answered with image-billing",
        ],
    );
}

#[test]
fn missing_file_and_every_problem_reported() {
    let dir = knowledge_copy();
    std::fs::remove_file(dir.path().join("routes.toml")).unwrap();
    edit(
        dir.path(),
        "topics/image-regions.toml",
        "id = \"image-regions\"",
        "id = \"image-regions",
    );
    assert_fails_with(&dir, &["routes.toml: missing", "topics/image-regions.toml"]);
}

#[test]
fn a_good_copy_passes() {
    let dir = knowledge_copy();
    let (ok, err) = check(dir.path());
    assert!(ok, "{err}");
}

#[test]
fn a_missing_role_concept_is_a_warning() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "lexicon.toml",
        "id = \"identity\"",
        "id = \"who-are-you\"",
    );
    let (ok, err) = check(dir.path());
    assert!(
        ok,
        "a missing role concept only loses its behaviour:\n{err}"
    );
    assert!(
        err.contains("warning: lexicon.toml: no concept \"identity\""),
        "{err}"
    );
}

#[test]
fn problem_kinds_need_one_fallback() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "lexicon.toml",
        "id = \"other\"\nlabel = { zh = \"其他镜像问题\", en = \"Other image problem\" }\nwords = []",
        "id = \"other\"\nlabel = { zh = \"其他镜像问题\", en = \"Other image problem\" }\nwords = [\"other\"]",
    );
    assert_fails_with(&dir, &["lexicon.toml: problem_kind: 0 kinds with no words"]);
}

#[test]
fn a_veto_unless_names_known_concepts() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "lexicon.toml",
        "unless = [\"import\"]",
        "unless = [\"importt\"]",
    );
    assert_fails_with(
        &dir,
        &["concept other_cloud", "unless: unknown concept \"importt\""],
    );
}

#[test]
fn a_suggested_type_must_exist() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "lexicon.toml",
        "suggests = \"custom\"",
        "suggests = \"customm\"",
    );
    assert_fails_with(
        &dir,
        &["concept import", "suggests unknown type \"customm\""],
    );
}

#[test]
fn a_curated_suggestion_must_be_a_topic() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "bot.toml",
        "    \"image-limits\",",
        "    \"image-limitz\",",
    );
    assert_fails_with(
        &dir,
        &["bot.toml", "line 27, column 5", "no topic \"image-limitz\""],
    );
}

#[test]
fn full_width_punctuation_in_english_is_an_error() {
    let dir = knowledge_copy();
    edit(
        dir.path(),
        "routes.toml",
        "On the image's product page you",
        "On the image's product page：you",
    );
    assert_fails_with(&dir, &["routes.toml", "line 13, column", "full-width '：'"]);
}
