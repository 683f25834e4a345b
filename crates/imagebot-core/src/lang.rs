//! The reply language: chosen in one place ([`Lang::detect`]) and applied in
//! one place ([`Lang::pick`]), for the engine and every front end.

use crate::hant::{convert, is_hong_kong_style, Standard};
use crate::knowledge::Text;
use crate::normalize::{normalize, Normalized};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The language of a reply. Both Traditional variants are `zh-hant` to the
/// outside ([`Lang::name`]); which standard a reply is written in is the
/// engine's own business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// Chinese, Simplified.
    #[default]
    Zh,
    /// Chinese in Traditional characters, Taiwan standard with Taiwan phrases.
    ZhHant,
    /// Chinese in Traditional characters, Hong Kong standard.
    ZhHk,
    /// English.
    En,
}

impl Lang {
    /// Chinese (either script) or English.
    pub fn is_zh(self) -> bool {
        matches!(self, Lang::Zh | Lang::ZhHant | Lang::ZhHk)
    }

    /// The Traditional standard of this language, if it is Traditional.
    pub fn standard(self) -> Option<Standard> {
        match self {
            Lang::ZhHant => Some(Standard::Taiwan),
            Lang::ZhHk => Some(Standard::HongKong),
            Lang::Zh | Lang::En => None,
        }
    }

    /// A language named by a person or a client: `zh`, `zh-hant`, `zh-tw`, `zh-hk`, `en`...
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Some(Lang::Zh),
            "zh-hant" | "zh-tw" | "tw" => Some(Lang::ZhHant),
            "zh-hk" | "zh-mo" | "hk" => Some(Lang::ZhHk),
            "en" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The name used in records, logs and JSON (`zh`, `zh-hant`, `en`): the
    /// contract's names, so both Traditional standards are `zh-hant`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::ZhHant | Lang::ZhHk => "zh-hant",
            Lang::En => "en",
        }
    }

    /// A code that [`Lang::parse`] reads back to this very language, for a
    /// front end's own round trips (button data): `zh-hk` for Hong Kong.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhHk => "zh-hk",
            other => other.name(),
        }
    }

    /// The language a message is written in, from its normalized form:
    /// Chinese characters make it Chinese (Traditional when any is
    /// Traditional-only, Hong Kong standard when it also reads Hong Kong
    /// style), else Latin letters make it English, else Chinese.
    pub fn detect(norm: &Normalized, message: &str) -> Lang {
        if norm.han {
            // Hong Kong style is looked for only in Traditional messages.
            if !norm.traditional {
                Lang::Zh
            } else if is_hong_kong_style(message) {
                Lang::ZhHk
            } else {
                Lang::ZhHant
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

    /// A knowledge text in this language (Traditional converted from the
    /// Chinese once and kept with the text).
    pub fn pick(self, t: &Text) -> Cow<'_, str> {
        match self.standard() {
            Some(standard) => Cow::Borrowed(t.traditional(standard)),
            None => self.zh_en(&t.zh, &t.en),
        }
    }

    /// One of two texts, Chinese or English; Traditional converted from the
    /// Chinese (each call: for texts used often, keep a [`Text`] and [`Lang::pick`]).
    pub fn zh_en<'a>(self, zh: &'a str, en: &'a str) -> Cow<'a, str> {
        match (self, self.standard()) {
            (_, Some(standard)) => Cow::Owned(convert(zh, standard)),
            (Lang::En, None) => Cow::Borrowed(en),
            _ => Cow::Borrowed(zh),
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
            ("共享鏡像使唔使收費", Lang::ZhHk),
            ("鏡像裏面有乜", Lang::ZhHk),
            // Cantonese in Simplified characters stays Simplified.
            ("共享镜像使唔使收费", Lang::Zh),
            // 着 is Simplified too: no Hong Kong style without Traditional.
            ("镜像启动不着", Lang::Zh),
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
        let t = Text::new("启动镜像里的软件", "image");
        assert_eq!(Lang::Zh.pick(&t), "启动镜像里的软件");
        assert_eq!(Lang::ZhHant.pick(&t), "啟動鏡像裡的軟體");
        assert_eq!(Lang::ZhHk.pick(&t), "啓動鏡像裏的軟件");
        assert_eq!(Lang::En.pick(&t), "image");
        assert_eq!(Lang::ZhHant.zh_en("为", "for"), "為");
        assert_eq!(Lang::En.zh_en("为", "for"), "for");
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(Lang::parse("ZH-TW"), Some(Lang::ZhHant));
        assert_eq!(Lang::parse("zh-HK"), Some(Lang::ZhHk));
        assert_eq!(Lang::ZhHant.name(), "zh-hant");
        assert_eq!(Lang::ZhHk.name(), "zh-hant");
        for l in [Lang::Zh, Lang::ZhHant, Lang::ZhHk, Lang::En] {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
    }
}
