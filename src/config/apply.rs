//! Applying the environment and the file to the clap command: every flag
//! gets its `IMAGEBOT_*` variable, every setting of the file becomes the
//! flag's default after the flag's own parser has accepted it.

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction, Command};

use super::file::{File, Setting, SettingValue};
use super::{ConfigError, Loaded};

/// Variables that hold secrets without being flags: shown by `imagebot
/// config` as set or not, never their values.
pub const SECRET_ENV: &[&str] = &["TELOXIDE_TOKEN", "IMAGEBOT_WEBHOOK_SECRET"];

/// The variable of a flag: `rate-limit` is `IMAGEBOT_RATE_LIMIT`.
pub fn env_name(long: &str) -> String {
    format!("IMAGEBOT_{}", long.to_ascii_uppercase().replace('-', "_"))
}

/// Whether a flag's value is a secret, redacted wherever it is shown.
pub fn is_secret(long: &str) -> bool {
    long == "token" || long.ends_with("-token") || long.ends_with("secret")
}

/// The long name of a flag a user can configure: not `--help`,
/// `--version`, `--config` itself or a positional argument.
pub fn configurable(arg: &Arg) -> Option<&str> {
    let plain = matches!(
        arg.get_action(),
        ArgAction::Set
            | ArgAction::Append
            | ArgAction::SetTrue
            | ArgAction::SetFalse
            | ArgAction::Count
    );
    arg.get_long()
        .filter(|l| plain && *l != "config" && !arg.is_positional())
}

pub fn apply(command: Command, file: Option<File>) -> Result<Loaded, ConfigError> {
    let mut command = every_command(command, &with_env);
    let mut from_file = Vec::new();
    if let Some(file) = &file {
        for s in &file.settings {
            let default = checked(&command, file, s)?;
            command = at_path(command, &s.section, &|c: Command| {
                let id = c
                    .get_arguments()
                    .find(|a| a.get_long() == Some(s.key.as_str()))
                    .map(|a| a.get_id().clone());
                match id {
                    Some(id) => c.mut_arg(id, |a| with_default(a, &default)),
                    None => c,
                }
            });
            from_file.push((s.section.clone(), s.key.clone(), s.at.line));
        }
    }
    warn_unknown_env(&command);
    Ok(Loaded {
        command,
        file: file.map(|f| f.path),
        from_file,
    })
}

/// Every configurable flag of one command, with its variable.
fn with_env(mut cmd: Command) -> Command {
    let ids: Vec<(clap::Id, String, bool)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let long = configurable(a)?;
            Some((
                a.get_id().clone(),
                long.to_string(),
                matches!(a.get_action(), ArgAction::SetTrue),
            ))
        })
        .collect();
    for (id, long, flag) in ids {
        cmd = cmd.mut_arg(id, |a| {
            let a = a.env(env_name(&long)).hide_env_values(is_secret(&long));
            // IMAGEBOT_NO_RECORD=1 or =yes should work as =true does.
            if flag {
                a.value_parser(BoolishValueParser::new())
            } else {
                a
            }
        });
    }
    cmd
}

/// `f` applied to a command and to every subcommand under it.
pub fn every_command(cmd: Command, f: &dyn Fn(Command) -> Command) -> Command {
    let mut cmd = f(cmd);
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| every_command(sub, f));
    }
    cmd
}

/// Applies `f` to the subcommand at `path` (the root for an empty path).
fn at_path(cmd: Command, path: &[String], f: &dyn Fn(Command) -> Command) -> Command {
    match path.split_first() {
        None => f(cmd),
        Some((first, rest)) => cmd.mut_subcommand(first, |sub| at_path(sub, rest, f)),
    }
}

/// The setting's values once the command accepts them, or the error at the
/// setting's line and column.
fn checked(root: &Command, file: &File, s: &Setting) -> Result<Vec<String>, ConfigError> {
    let err = |m: String| file.error(s.at, m);
    let cmd = find_section(root, &s.section).map_err(&err)?;
    let arg = find_key(root, cmd, s).map_err(&err)?;
    let many = matches!(arg.get_action(), ArgAction::Append);
    let flag = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
    let values = match (&s.value, flag, many) {
        (SettingValue::Bool(b), true, _) => return Ok(vec![b.to_string()]),
        (_, true, _) => return Err(err(format!("`{}` is a switch: write true or false", s.key))),
        (SettingValue::Bool(_), false, _) => {
            return Err(err(format!("`{}` takes a value, not true/false", s.key)))
        }
        (SettingValue::Many(_), false, false) => {
            return Err(err(format!("`{}` takes one value, not an array", s.key)))
        }
        (SettingValue::Many(v), false, true) => v.clone(),
        (SettingValue::One(v), false, _) => vec![v.clone()],
    };
    probe(arg, &values).map_err(err)?;
    Ok(values)
}

fn find_section<'c>(root: &'c Command, section: &[String]) -> Result<&'c Command, String> {
    let mut cmd = root;
    for (i, name) in section.iter().enumerate() {
        cmd = cmd.find_subcommand(name).ok_or_else(|| {
            let known: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
            let here = section[..=i].join(".");
            format!(
                "unknown section [{here}]; sections are commands: {}",
                known.join(", ")
            )
        })?;
    }
    Ok(cmd)
}

fn find_key<'c>(root: &'c Command, cmd: &'c Command, s: &Setting) -> Result<&'c Arg, String> {
    let own = |c: &'c Command| {
        c.get_arguments()
            .find(|a| a.get_long() == Some(s.key.as_str()) && configurable(a).is_some())
    };
    if s.key == "config" {
        return Err("`config` names this file: it cannot be set inside it".into());
    }
    if let Some(arg) = own(cmd).filter(|a| s.section.is_empty() || !a.is_global_set()) {
        return Ok(arg);
    }
    if !s.section.is_empty() && own(root).is_some_and(|a| a.is_global_set()) {
        return Err(format!(
            "`{}` is a global setting: write it at the top of the file, before any [section]",
            s.key
        ));
    }
    let mut args: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| s.section.is_empty() || !a.is_global_set())
        .collect();
    args.sort_by_key(|a| a.get_display_order());
    let keys: Vec<&str> = args.into_iter().filter_map(configurable).collect();
    let here = if s.section.is_empty() {
        "the top of the file".to_string()
    } else {
        format!("[{}]", s.section.join("."))
    };
    let hint = if keys.is_empty() {
        "none".to_string()
    } else {
        keys.join(", ")
    };
    Err(format!(
        "unknown key `{}` in {here}; the keys there are: {hint}",
        s.key
    ))
}

/// Runs the flag's own parser over the values, so a bad value is caught
/// here, where its line is known, not later by clap.
fn probe(arg: &Arg, values: &[String]) -> Result<(), String> {
    let long = arg.get_long().unwrap_or("value");
    let mut check = Arg::new("probe")
        .long(long.to_string())
        .action(arg.get_action().clone())
        .value_parser(arg.get_value_parser().clone());
    if let Some(n) = arg.get_num_args() {
        check = check.num_args(n);
    }
    if let Some(names) = arg.get_value_names() {
        check = check.value_names(names.iter().cloned());
    }
    let argv = values.iter().flat_map(|v| [format!("--{long}"), v.clone()]);
    Command::new("imagebot")
        .no_binary_name(true)
        .arg(check)
        .try_get_matches_from(argv)
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.trim_start_matches("error: ").to_string()
        })
}

fn with_default(arg: Arg, values: &[String]) -> Arg {
    // A required flag with a default is a contradiction to clap: the
    // file's value is what makes it given.
    arg.required(false).default_values(values.iter().cloned())
}

/// `IMAGEBOT_RATELIMIT=…` set by mistake would otherwise be ignored in silence.
fn warn_unknown_env(cmd: &Command) {
    let mut known = vec![env_name("config")];
    known.extend(SECRET_ENV.iter().map(|s| s.to_string()));
    collect_env(cmd, &mut known);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("IMAGEBOT_") && !known.iter().any(|k| *k == name) {
            let near = known.iter().min_by_key(|k| strsim::levenshtein(k, &name));
            match near {
                Some(n) if strsim::levenshtein(n, &name) <= 3 => {
                    eprintln!("imagebot: warning: {name} is not a setting (did you mean {n}?)")
                }
                _ => eprintln!(
                    "imagebot: warning: {name} is not a setting; `imagebot config` lists them"
                ),
            }
        }
    }
}

fn collect_env(cmd: &Command, out: &mut Vec<String>) {
    for a in cmd.get_arguments() {
        if let Some(long) = configurable(a) {
            out.push(env_name(long));
        }
    }
    for s in cmd.get_subcommands() {
        collect_env(s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn demo() -> Command {
        Command::new("imagebot")
            .arg(Arg::new("db").long("db").global(true))
            .arg(
                Arg::new("no_record")
                    .long("no-record")
                    .global(true)
                    .action(ArgAction::SetTrue),
            )
            .subcommand(
                Command::new("serve")
                    .arg(
                        Arg::new("addr")
                            .long("addr")
                            .default_value("127.0.0.1:8080"),
                    )
                    .arg(
                        Arg::new("max")
                            .long("max-sessions")
                            .value_parser(clap::value_parser!(u64).range(1..)),
                    )
                    .arg(
                        Arg::new("origin")
                            .long("embed-origin")
                            .action(ArgAction::Append),
                    )
                    .arg(Arg::new("console_token").long("console-token")),
            )
            .subcommand(
                Command::new("triage")
                    .subcommand(Command::new("list").arg(Arg::new("limit").long("limit"))),
            )
    }

    fn applied(text: &str) -> Result<Loaded, ConfigError> {
        apply(demo(), Some(File::parse(Path::new("imagebot.toml"), text)?))
    }

    fn err(text: &str) -> String {
        applied(text).err().expect("an error").to_string()
    }

    #[test]
    fn names_of_variables() {
        assert_eq!(env_name("rate-limit"), "IMAGEBOT_RATE_LIMIT");
        assert_eq!(env_name("db"), "IMAGEBOT_DB");
        assert!(
            is_secret("console-token") && is_secret("notify-secret") && !is_secret("token-file")
        );
    }

    #[test]
    fn the_file_gives_defaults_the_command_line_overrides() {
        let cmd = applied("no-record = true\n[serve]\naddr = \"0.0.0.0:9\"\nembed-origin = [\"https://a.example\", \"https://b.example\"]\n[triage.list]\nlimit = 7\n")
            .unwrap()
            .command;
        let m = cmd
            .clone()
            .try_get_matches_from(["imagebot", "serve"])
            .unwrap();
        assert!(m.get_flag("no_record"));
        let (_, serve) = m.subcommand().unwrap();
        assert_eq!(serve.get_one::<String>("addr").unwrap(), "0.0.0.0:9");
        let origins: Vec<&String> = serve.get_many::<String>("origin").unwrap().collect();
        assert_eq!(origins, ["https://a.example", "https://b.example"]);
        let m = cmd
            .clone()
            .try_get_matches_from(["imagebot", "serve", "--addr", "1.2.3.4:5"])
            .unwrap();
        assert_eq!(
            m.subcommand().unwrap().1.get_one::<String>("addr").unwrap(),
            "1.2.3.4:5"
        );
        let m = cmd
            .try_get_matches_from(["imagebot", "triage", "list"])
            .unwrap();
        let list = m.subcommand().unwrap().1.subcommand().unwrap().1;
        assert_eq!(list.get_one::<String>("limit").unwrap(), "7");
    }

    #[test]
    fn unknown_keys_and_sections_say_where_and_what_is_known() {
        let e = err("[serve]\naddr = \"x:1\"\nadr = \"y\"\n");
        assert!(
            e.starts_with("imagebot.toml:3:1: unknown key `adr` in [serve]"),
            "{e}"
        );
        assert!(e.contains("addr, max-sessions"), "{e}");
        let e = err("\n[serv]\naddr = 1\n");
        assert!(
            e.starts_with("imagebot.toml:3:1: unknown section [serv]")
                && e.contains("serve, triage"),
            "{e}"
        );
        let e = err("[serve]\n  db = \"x\"\n");
        assert!(
            e.starts_with("imagebot.toml:2:3:") && e.contains("global setting"),
            "{e}"
        );
        let e = err("config = \"other.toml\"\n");
        assert!(e.contains("cannot be set"), "{e}");
    }

    #[test]
    fn values_go_through_the_flags_parser() {
        let e = err("[serve]\nmax-sessions = 0\n");
        assert!(
            e.starts_with("imagebot.toml:2:1:")
                && e.contains("invalid value '0'")
                && e.contains("--max-sessions"),
            "{e}"
        );
        let e = err("[serve]\naddr = [\"a\", \"b\"]\n");
        assert!(e.contains("one value"), "{e}");
        let e = err("no-record = \"yes\"\n");
        assert!(e.contains("switch"), "{e}");
        let e = err("[serve]\naddr = true\n");
        assert!(e.contains("not true/false"), "{e}");
    }
}
