//! `imagebot config`: the effective configuration, as a file that would
//! give it, each value with where it came from and secrets redacted.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::io::{self, Write};

use super::apply::{configurable, env_name, every_command, is_secret, SECRET_ENV};
use super::Loaded;

/// Prints every section's settings. `root` holds what the command line
/// gave the global flags; each command's own flags are read as if that
/// command were run now with no flags.
pub fn print_effective(loaded: &Loaded, root: &ArgMatches, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# imagebot's effective configuration. Precedence: command line, then"
    )?;
    writeln!(
        out,
        "# IMAGEBOT_* variables, then the configuration file, then the defaults."
    )?;
    match &loaded.file {
        Some(p) => writeln!(out, "# configuration file: {}", p.display())?,
        None => writeln!(
            out,
            "# configuration file: none (no --config, IMAGEBOT_CONFIG or ./imagebot.toml)"
        )?,
    }
    section(loaded, &loaded.command, &[], root, out)?;
    for sub in in_order(&loaded.command) {
        walk(loaded, sub, vec![sub.get_name().to_string()], out)?;
    }
    writeln!(out, "\n# secrets read from the environment")?;
    for name in SECRET_ENV {
        let state = if std::env::var_os(name).is_some_and(|v| !v.is_empty()) {
            "set (redacted)"
        } else {
            "not set"
        };
        writeln!(out, "# {name}: {state}")?;
    }
    Ok(())
}

fn walk(loaded: &Loaded, cmd: &Command, path: Vec<String>, out: &mut dyn Write) -> io::Result<()> {
    let own = cmd
        .get_arguments()
        .any(|a| configurable(a).is_some() && !a.is_global_set());
    if own {
        let argv = std::iter::once("imagebot".to_string()).chain(path.iter().cloned());
        // Parsed as if run bare: required arguments and subcommands are
        // relaxed, since only the flags' values are wanted.
        if let Ok(m) = every_command(loaded.command.clone(), &relaxed).try_get_matches_from(argv) {
            let mut m = &m;
            for name in &path {
                m = match m.subcommand_matches(name) {
                    Some(sub) => sub,
                    None => return Ok(()),
                };
            }
            writeln!(out, "\n[{}]", path.join("."))?;
            section(loaded, cmd, &path, m, out)?;
        }
    }
    for sub in in_order(cmd) {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        walk(loaded, sub, p, out)?;
    }
    Ok(())
}

/// Subcommands as `--help` lists them (changing one moves it to the end).
fn in_order(cmd: &Command) -> Vec<&Command> {
    let mut subs: Vec<&Command> = cmd.get_subcommands().collect();
    subs.sort_by_key(|c| c.get_display_order());
    subs
}

fn relaxed(cmd: Command) -> Command {
    let ids: Vec<clap::Id> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
    let mut cmd = cmd.subcommand_required(false).arg_required_else_help(false);
    for id in ids {
        cmd = cmd.mut_arg(id, |a| a.required(false));
    }
    cmd
}

fn section(
    loaded: &Loaded,
    cmd: &Command,
    path: &[String],
    m: &ArgMatches,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().collect();
    args.sort_by_key(|a| a.get_display_order());
    for arg in args {
        let Some(long) = configurable(arg) else {
            continue;
        };
        if !path.is_empty() && arg.is_global_set() {
            continue;
        }
        let id = arg.get_id().as_str();
        let raw: Vec<String> = m
            .get_raw(id)
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let origin = match m.value_source(id) {
            Some(ValueSource::CommandLine) => "command line".to_string(),
            Some(ValueSource::EnvVariable) => env_name(long),
            Some(_) => file_line(loaded, path, long).unwrap_or_else(|| "default".into()),
            None => String::new(),
        };
        if raw.is_empty() {
            writeln!(out, "# {long} = (not set)")?;
            continue;
        }
        let flag = matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse
        );
        let value = render(
            &raw,
            flag,
            is_secret(long),
            matches!(arg.get_action(), clap::ArgAction::Append),
        );
        writeln!(out, "{long} = {value}  # {origin}")?;
    }
    Ok(())
}

fn file_line(loaded: &Loaded, path: &[String], long: &str) -> Option<String> {
    let (_, _, line) = loaded
        .from_file
        .iter()
        .find(|(s, k, _)| s.as_slice() == path && k == long)?;
    let name = loaded
        .file
        .as_ref()?
        .file_name()?
        .to_string_lossy()
        .into_owned();
    Some(format!("{name}:{line}"))
}

/// A TOML value for raw command-line text.
fn render(raw: &[String], flag: bool, secret: bool, many: bool) -> String {
    let one = |s: &String| -> String {
        if secret {
            return quote("<redacted>");
        }
        let s = redact_url(s);
        let plain_number = s.parse::<i64>().is_ok() && (s == "0" || !s.starts_with(['0', '+']));
        if flag || plain_number {
            s
        } else {
            quote(&s)
        }
    };
    if many {
        format!("[{}]", raw.iter().map(one).collect::<Vec<_>>().join(", "))
    } else {
        raw.last().map(one).unwrap_or_default()
    }
}

fn quote(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// `postgres://user:pw@host/db` shows as `postgres://user:<redacted>@host/db`.
fn redact_url(s: &str) -> String {
    let Some(scheme_end) = s.find("://") else {
        return s.to_string();
    };
    let rest = &s[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return s.to_string();
    };
    let Some(colon) = rest[..at].find(':') else {
        return s.to_string();
    };
    format!(
        "{}{}:<redacted>{}",
        &s[..scheme_end + 3],
        &rest[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_as_toml() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(render(&v(&["true"]), true, false, false), "true");
        assert_eq!(render(&v(&["10000"]), false, false, false), "10000");
        assert_eq!(render(&v(&["007"]), false, false, false), "\"007\"");
        assert_eq!(render(&v(&["20/min"]), false, false, false), "\"20/min\"");
        assert_eq!(
            render(&v(&["say \"hi\""]), false, false, false),
            r#"'say "hi"'"#
        );
        assert_eq!(
            render(&v(&["a", "b"]), false, false, true),
            "[\"a\", \"b\"]"
        );
        assert_eq!(
            render(&v(&["s3cret"]), false, true, false),
            "\"<redacted>\""
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://bot:pw@db:5432/x"),
            "postgres://bot:<redacted>@db:5432/x"
        );
        assert_eq!(
            redact_url("redis://:pw@127.0.0.1/0"),
            "redis://:<redacted>@127.0.0.1/0"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(redact_url("https://h/p?u=a:b@c"), "https://h/p?u=a:b@c");
        assert_eq!(redact_url("plain"), "plain");
    }
}
