//! The reply language: chosen in one place ([`Lang::detect`]) and applied in
//! one place ([`Lang::pick`]), for the engine and every front end.

use crate::knowledge::Text;
use crate::normalize::{normalize, to_traditional, Normalized};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The language of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// Chinese, Simplified.
    #[default]
    Zh,
    /// Chinese, written in Traditional characters.
    ZhHant,
    /// English.
    En,
}

impl Lang {
    /// Chinese (either script) or English.
    pub fn is_zh(self) -> bool {
        matches!(self, Lang::Zh | Lang::ZhHant)
    }

    /// A language named by a person or a client: `zh`, `zh-hant`, `zh-tw`, `en`...
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Some(Lang::Zh),
            "zh-hant" | "zh-tw" | "zh-hk" | "tw" => Some(Lang::ZhHant),
            "en" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The name used in records and logs (`zh`, `zh-hant`, `en`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::ZhHant => "zh-hant",
            Lang::En => "en",
        }
    }

    /// The language a message is written in, from its normalized form:
    /// Chinese characters make it Chinese (Traditional when any is
    /// Traditional-only), else Latin letters make it English, else Chinese.
    pub fn detect(norm: &Normalized, message: &str) -> Lang {
        if norm.han {
            if norm.traditional {
                Lang::ZhHant
            } else {
                Lang::Zh
            }
        } else if message.chars().any(|c| c.is_ascii_alphabetic()) {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// [`Lang::detect`] for a message not analyzed yet (a front end's own replies).
    pub fn of_message(message: &str) -> Lang {
        Lang::detect(&normalize(message), message)
    }

    /// A knowledge text in this language (Traditional converted from the Chinese).
    pub fn pick(self, t: &Text) -> Cow<'_, str> {
        self.zh_en(&t.zh, &t.en)
    }

    /// One of two texts, Chinese or English; Traditional converted from the Chinese.
    pub fn zh_en<'a>(self, zh: &'a str, en: &'a str) -> Cow<'a, str> {
        match self {
            Lang::Zh => Cow::Borrowed(zh),
            Lang::ZhHant => Cow::Owned(to_traditional(zh)),
            Lang::En => Cow::Borrowed(en),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_table() {
        for (message, lang) in [
            ("共享镜像收费吗", Lang::Zh),
            ("共享鏡像收費嗎", Lang::ZhHant),
            ("ABC", Lang::En),
            ("is the shared image free", Lang::En),
            ("123 ？", Lang::Zh),
            ("", Lang::Zh),
        ] {
            assert_eq!(Lang::of_message(message), lang, "{message}");
        }
    }

    #[test]
    fn pick_converts_for_traditional() {
        let t = Text {
            zh: "镜像".into(),
            en: "image".into(),
        };
        assert_eq!(Lang::Zh.pick(&t), "镜像");
        assert_eq!(Lang::ZhHant.pick(&t), "鏡像");
        assert_eq!(Lang::En.pick(&t), "image");
        assert_eq!(Lang::parse("ZH-TW"), Some(Lang::ZhHant));
        assert_eq!(Lang::ZhHant.name(), "zh-hant");
    }
}
