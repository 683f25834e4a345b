//! Reading `imagebot.toml` into flat settings, each with where it was
//! written, so that every later error can point at a line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};
use toml_edit::{ImDocument, Item, Table, Value};

use super::ConfigError;

/// One `key = value` of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The sections it is under: `[]` for the top, `["serve"]`, `["triage", "list"]`.
    pub section: Vec<String>,
    /// The key as written: a long flag name.
    pub key: String,
    /// The value(s), as clap would read them on a command line.
    pub value: SettingValue,
    /// Where the key is, for errors.
    pub at: Position,
}

/// A setting's value, already turned into command-line text.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// `true` or `false`.
    Bool(bool),
    /// A string or a number.
    One(String),
    /// An array of strings or numbers (a repeatable flag).
    Many(Vec<String>),
}

/// A line and column (both from 1) in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl Position {
    fn of(text: &str, span: Option<Range<usize>>) -> Position {
        let start = span.map_or(0, |s| s.start).min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

/// A parsed configuration file.
#[derive(Debug, Default)]
pub struct File {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its settings, in the order written.
    pub settings: Vec<Setting>,
}

impl File {
    /// Reads and parses a file.
    pub fn read(path: &Path) -> Result<File, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        File::parse(path, &text)
    }

    /// Parses the text of a file (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<File, ConfigError> {
        let doc = ImDocument::parse(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut file = File {
            path: path.to_path_buf(),
            settings: Vec::new(),
        };
        walk(&mut file, text, doc.as_table(), &mut Vec::new())?;
        Ok(file)
    }

    /// An error at a position of this file.
    pub fn error(&self, at: Position, message: String) -> ConfigError {
        ConfigError::At {
            path: self.path.clone(),
            line: at.line,
            column: at.column,
            message,
        }
    }
}

fn walk(
    file: &mut File,
    text: &str,
    table: &Table,
    section: &mut Vec<String>,
) -> Result<(), ConfigError> {
    for (key, item) in table.iter() {
        let at = Position::of(text, table.key(key).and_then(|k| k.span()));
        match item {
            Item::Table(sub) => {
                section.push(key.to_string());
                walk(file, text, sub, section)?;
                section.pop();
            }
            Item::Value(v) => {
                let value =
                    setting_value(v).map_err(|m| file.error(at, format!("`{key}`: {m}")))?;
                file.settings.push(Setting {
                    section: section.clone(),
                    key: key.to_string(),
                    value,
                    at,
                });
            }
            Item::ArrayOfTables(_) => {
                return Err(file.error(
                    at,
                    format!("`[[{key}]]`: arrays of tables are not settings"),
                ));
            }
            Item::None => {}
        }
    }
    Ok(())
}

fn setting_value(v: &Value) -> Result<SettingValue, String> {
    match v {
        Value::Boolean(b) => Ok(SettingValue::Bool(*b.value())),
        Value::Array(items) => items
            .iter()
            .map(scalar)
            .collect::<Result<Vec<_>, _>>()
            .map(SettingValue::Many),
        other => scalar(other).map(SettingValue::One),
    }
}

fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.value().clone()),
        Value::Integer(i) => Ok(i.value().to_string()),
        Value::Float(f) => Ok(f.value().to_string()),
        Value::Boolean(_) => Err("a true/false cannot be one of several values".into()),
        Value::Datetime(_) => Err("write the date as a string (\"2026-01-31\")".into()),
        Value::Array(_) => Err("an array cannot hold arrays".into()),
        Value::InlineTable(_) => Err("expected a value, found an inline table".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<File, ConfigError> {
        File::parse(Path::new("imagebot.toml"), text)
    }

    #[test]
    fn settings_keep_their_section_and_position() {
        let f = parse("db = \"x.db\"\n\n[serve]\naddr = \"0.0.0.0:80\"\nmax-sessions = 5\n  watch = true\n[triage.list]\nlimit = 3\n").unwrap();
        let got: Vec<(String, &str, SettingValue, usize, usize)> = f
            .settings
            .iter()
            .map(|s| {
                (
                    s.section.join("."),
                    s.key.as_str(),
                    s.value.clone(),
                    s.at.line,
                    s.at.column,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("".into(), "db", SettingValue::One("x.db".into()), 1, 1),
                (
                    "serve".into(),
                    "addr",
                    SettingValue::One("0.0.0.0:80".into()),
                    4,
                    1
                ),
                (
                    "serve".into(),
                    "max-sessions",
                    SettingValue::One("5".into()),
                    5,
                    1
                ),
                ("serve".into(), "watch", SettingValue::Bool(true), 6, 3),
                (
                    "triage.list".into(),
                    "limit",
                    SettingValue::One("3".into()),
                    8,
                    1
                ),
            ]
        );
    }

    #[test]
    fn arrays_are_many_values() {
        let f = parse("[serve]\nembed-origin = [\"https://a.example\", \"https://b.example\"]\n")
            .unwrap();
        assert_eq!(
            f.settings[0].value,
            SettingValue::Many(vec!["https://a.example".into(), "https://b.example".into()])
        );
    }

    #[test]
    fn bad_files_say_where() {
        let e = parse("[serve]\naddr = \n").unwrap_err().to_string();
        assert!(e.contains("imagebot.toml") && e.contains("line 2"), "{e}");
        let e = parse("[serve]\nwhen = 2026-01-31\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("imagebot.toml:2:1") && e.contains("as a string"),
            "{e}"
        );
        let e = parse("x = { a = 1 }\n").unwrap_err().to_string();
        assert!(
            e.contains("imagebot.toml:1:1") && e.contains("inline table"),
            "{e}"
        );
    }

    #[test]
    fn columns_count_characters() {
        let text = "# 配置\n[serve]\n  addr = 1\n";
        let f = parse(text).unwrap();
        assert_eq!(f.settings[0].at, Position { line: 3, column: 3 });
        assert_eq!(
            Position::of("é = 1", Some(0..1)),
            Position { line: 1, column: 1 }
        );
    }
}
