//! `imagebot telegram`'s configuration: the bot token (from `TELOXIDE_TOKEN`
//! or `--token-file`, never printed: `Debug` shows it redacted), the Bot API
//! server (`TELOXIDE_API_URL`), webhook mode and the state storage.

use sha2::{Digest, Sha256};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

pub const TOKEN_ENV: &str = "TELOXIDE_TOKEN";
pub const API_URL_ENV: &str = "TELOXIDE_API_URL";
pub const WEBHOOK_SECRET_ENV: &str = "IMAGEBOT_WEBHOOK_SECRET";

/// What can be wrong with the configuration. No message ever contains the token.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no bot token: set {TOKEN_ENV} or pass --token-file PATH (BotFather gives you the token when you create the bot with /newbot)")]
    MissingToken,
    #[error("the bot token {0} is malformed: expected what BotFather gives, digits, a colon, then at least 30 letters, digits, '-' or '_' (the value is not shown)")]
    MalformedToken(String),
    #[error("cannot read the token file {}: {error}", path.display())]
    TokenFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{API_URL_ENV} is not an http(s) URL ({0})")]
    ApiUrl(String),
    #[error("--state must be `memory` or `sqlite:PATH`, not {0:?}")]
    State(String),
    #[error("--webhook must be an http(s) URL ({0})")]
    Webhook(String),
    #[error("{WEBHOOK_SECRET_ENV} must be 1 to 256 characters of A-Z, a-z, 0-9, '_' and '-'")]
    Secret,
}

/// A bot token. `Debug` never shows it, and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// Checks the form BotFather gives (`123456789:AAH...`); `place` says
    /// where it came from, for the error.
    pub fn parse(raw: &str, place: &str) -> Result<Token, ConfigError> {
        let s = raw.trim();
        let malformed = || ConfigError::MalformedToken(place.to_string());
        let (id, secret) = s.split_once(':').ok_or_else(malformed)?;
        let id_ok = (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
        let secret_ok = (30..=100).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if id_ok && secret_ok {
            Ok(Token(s.to_string()))
        } else {
            Err(malformed())
        }
    }

    /// The token itself, for the Bot API client only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A webhook secret every replica with this token agrees on, from which
    /// the token cannot be recovered (SHA-256, hex).
    pub fn derived_webhook_secret(&self) -> Secret {
        let mut h = Sha256::new();
        h.update(b"imagebot telegram webhook secret\0");
        h.update(self.0.as_bytes());
        Secret(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// The webhook's `X-Telegram-Bot-Api-Secret-Token`, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    pub fn parse(s: &str) -> Result<Secret, ConfigError> {
        let ok = (1..=256).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Secret(s.to_string())).ok_or(ConfigError::Secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Where per-chat conversation state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSpec {
    /// In memory: lost on restart (the default).
    Memory,
    /// An SQLite file: survives restarts.
    Sqlite(PathBuf),
}

impl StateSpec {
    pub fn parse(s: &str) -> Result<StateSpec, ConfigError> {
        match s.split_once(':') {
            _ if s == "memory" => Ok(StateSpec::Memory),
            Some(("sqlite", path)) if !path.trim().is_empty() => {
                Ok(StateSpec::Sqlite(PathBuf::from(path)))
            }
            _ => Err(ConfigError::State(s.to_string())),
        }
    }
}

/// Webhook mode: Telegram posts updates to `url`, which reaches `listen`.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: Url,
    pub listen: SocketAddr,
    pub secret: Secret,
}

/// Everything `imagebot telegram` needs besides the knowledge.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub token: Token,
    /// A self-hosted Bot API server, from `TELOXIDE_API_URL`.
    pub api_url: Option<Url>,
    /// `None`: long polling.
    pub webhook: Option<Webhook>,
    pub state: StateSpec,
}

/// The environment the configuration reads (so tests need not set variables).
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub token: Option<String>,
    pub api_url: Option<String>,
    pub webhook_secret: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
        Env {
            token: var(TOKEN_ENV),
            api_url: var(API_URL_ENV),
            webhook_secret: var(WEBHOOK_SECRET_ENV),
        }
    }
}

fn http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| e.to_string())?;
    if matches!(url.scheme(), "http" | "https") {
        Ok(url)
    } else {
        Err(format!("scheme {}", url.scheme()))
    }
}

/// The webhook URL; its path becomes the local route, so it must be one the
/// HTTP router takes literally (no segment starting with `:` or `*`).
fn webhook_url(s: &str) -> Result<Url, ConfigError> {
    let url = http_url(s).map_err(ConfigError::Webhook)?;
    if url.path().split('/').any(|seg| seg.starts_with([':', '*'])) {
        return Err(ConfigError::Webhook(format!(
            "path {} has a segment starting with ':' or '*'",
            url.path()
        )));
    }
    Ok(url)
}

impl TelegramConfig {
    pub fn new(
        token_file: Option<&Path>,
        webhook: Option<(&str, SocketAddr)>,
        state: &str,
        env: Env,
    ) -> Result<TelegramConfig, ConfigError> {
        let token = match token_file {
            Some(path) => {
                let raw =
                    std::fs::read_to_string(path).map_err(|error| ConfigError::TokenFile {
                        path: path.to_path_buf(),
                        error,
                    })?;
                Token::parse(&raw, &format!("in {}", path.display()))?
            }
            None => match env.token {
                Some(t) if !t.trim().is_empty() => Token::parse(&t, &format!("in {TOKEN_ENV}"))?,
                _ => return Err(ConfigError::MissingToken),
            },
        };
        let api_url = match env.api_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => {
                // As Bot::from_env does: no trailing slash.
                Some(http_url(u.trim_end_matches('/')).map_err(ConfigError::ApiUrl)?)
            }
            _ => None,
        };
        let webhook = match webhook {
            Some((url, listen)) => Some(Webhook {
                url: webhook_url(url)?,
                listen,
                secret: match env.webhook_secret.as_deref() {
                    Some(s) => Secret::parse(s)?,
                    None => token.derived_webhook_secret(),
                },
            }),
            None => None,
        };
        Ok(TelegramConfig {
            token,
            api_url,
            webhook,
            state: StateSpec::parse(state)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "1234567890:QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIO";

    fn env(token: Option<&str>) -> Env {
        Env {
            token: token.map(String::from),
            ..Env::default()
        }
    }

    #[test]
    fn token_is_checked_and_never_shown() {
        let cfg = TelegramConfig::new(None, None, "memory", env(Some(TOKEN))).unwrap();
        assert_eq!(cfg.token.expose(), TOKEN);
        let debug = format!("{cfg:?}");
        assert!(
            !debug.contains(TOKEN) && !debug.contains("QWERTY"),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));

        let e = TelegramConfig::new(None, None, "memory", env(None)).unwrap_err();
        assert!(matches!(e, ConfigError::MissingToken));
        assert!(e.to_string().contains("TELOXIDE_TOKEN"));
        assert!(matches!(
            TelegramConfig::new(None, None, "memory", env(Some("  "))),
            Err(ConfigError::MissingToken)
        ));
        for bad in [
            "QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIO",
            "12345:short",
            "abc:QWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIO",
            "1234567890:QWERTYUIOPASDFGHJKLZX CVBNMQWERTYUIO",
            "1234567890:QWERTYUIOPASDFGHJKLZX/CVBNMQWERTYUIO",
        ] {
            let e = TelegramConfig::new(None, None, "memory", env(Some(bad))).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("malformed") && msg.contains("TELOXIDE_TOKEN"),
                "{msg}"
            );
            assert!(!msg.contains("QWERTY") && !msg.contains("short"), "{msg}");
        }
    }

    #[test]
    fn token_file_wins_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
        let cfg = TelegramConfig::new(Some(&path), None, "memory", env(None)).unwrap();
        assert_eq!(cfg.token.expose(), TOKEN);
        std::fs::write(&path, "not a token").unwrap();
        let msg = TelegramConfig::new(Some(&path), None, "memory", env(Some(TOKEN)))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("malformed") && msg.contains("token"), "{msg}");
        assert!(!msg.contains("not a token"));
        let missing = dir.path().join("nope");
        assert!(matches!(
            TelegramConfig::new(Some(&missing), None, "memory", env(Some(TOKEN))),
            Err(ConfigError::TokenFile { .. })
        ));
    }

    #[test]
    fn api_url_webhook_and_state() {
        let e = Env {
            token: Some(TOKEN.into()),
            api_url: Some("http://127.0.0.1:8081/".into()),
            webhook_secret: None,
        };
        let listen: SocketAddr = "0.0.0.0:8443".parse().unwrap();
        let cfg = TelegramConfig::new(
            None,
            Some(("https://bot.example.com/tg", listen)),
            "sqlite:/tmp/x.db",
            e.clone(),
        )
        .unwrap();
        assert_eq!(cfg.api_url.unwrap().as_str(), "http://127.0.0.1:8081/");
        let wh = cfg.webhook.unwrap();
        assert_eq!(wh.url.path(), "/tg");
        assert_eq!(wh.listen, listen);
        // Every replica derives the same secret from the token; it is a valid secret.
        assert_eq!(
            wh.secret,
            Token::parse(TOKEN, "").unwrap().derived_webhook_secret()
        );
        assert!(Secret::parse(wh.secret.expose()).is_ok());
        assert!(!wh.secret.expose().contains("QWERTY"));
        assert_eq!(cfg.state, StateSpec::Sqlite("/tmp/x.db".into()));

        let bad_url = Env {
            api_url: Some("ftp://x".into()),
            ..e.clone()
        };
        assert!(matches!(
            TelegramConfig::new(None, None, "memory", bad_url),
            Err(ConfigError::ApiUrl(_))
        ));
        for bad in [
            "not a url",
            "ftp://x.example/",
            "https://x.example/:id",
            "https://x.example/a/*",
        ] {
            assert!(
                matches!(
                    TelegramConfig::new(None, Some((bad, listen)), "memory", e.clone()),
                    Err(ConfigError::Webhook(_))
                ),
                "{bad}"
            );
        }
        let bad_secret = Env {
            webhook_secret: Some("has space".into()),
            ..e.clone()
        };
        assert!(matches!(
            TelegramConfig::new(
                None,
                Some(("https://x.example/", listen)),
                "memory",
                bad_secret
            ),
            Err(ConfigError::Secret)
        ));
        for bad in ["", "sqlite:", "redis://x", "disk"] {
            assert!(StateSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(StateSpec::parse("memory").unwrap(), StateSpec::Memory);
    }
}
