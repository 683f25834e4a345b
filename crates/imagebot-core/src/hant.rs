//! Simplified Chinese to Traditional for replies, at phrase level, with
//! OpenCC's dictionaries from the `ferrous-opencc` crate (embedded in the
//! binary: nothing is read from files). Taiwan standard with Taiwan phrases
//! (OpenCC's `s2twp`) by default, Hong Kong standard (`s2hk`) for a question
//! written Hong Kong style ([`is_hong_kong_style`]).

use crate::normalize::is_han;
use ferrous_opencc::{config::BuiltinConfig, OpenCC};
use std::sync::LazyLock;

/// A Traditional Chinese standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standard {
    /// Taiwan characters and Taiwan phrases (软件 → 軟體, 内存 → 記憶體).
    Taiwan,
    /// Hong Kong characters (为 → 為, 启 → 啓, 里 → 裏), mainland vocabulary kept.
    HongKong,
}

/// Product terms written as the product writes them in Traditional
/// (Simplified, Taiwan, Hong Kong): Taiwan phrases would turn 镜像 into 映象,
/// 实例 into 例項 and 类型 into 型別 (a programming word), which is neither the
/// console's word nor the customer's own (the question said 鏡像); and
/// OpenCC reads 有云 as "it is said", leaving 已有云服务器 with 云.
const PRODUCT_TERMS: [(&str, &str, &str); 4] = [
    ("镜像", "鏡像", "鏡像"),
    ("实例", "實例", "實例"),
    ("类型", "類型", "類型"),
    ("云服务器", "雲伺服器", "雲服務器"),
];

/// Built once: building a converter parses its embedded dictionaries.
static TAIWAN: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| OpenCC::from_config(BuiltinConfig::S2twp).ok());
static HONG_KONG: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| OpenCC::from_config(BuiltinConfig::S2hk).ok());

/// Simplified text in a Traditional standard, product terms kept. Should the
/// crate's embedded configuration be missing (a test rules it out), the text
/// is returned unchanged rather than failing the reply.
pub fn convert(text: &str, standard: Standard) -> String {
    let converter = match standard {
        Standard::Taiwan => &*TAIWAN,
        Standard::HongKong => &*HONG_KONG,
    };
    let Some(converter) = converter.as_ref() else {
        return text.to_string();
    };
    if !text.chars().any(is_han) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some((at, (simplified, taiwan, hong_kong))) = next_term(rest) {
        out.push_str(&converter.convert(&rest[..at]));
        out.push_str(match standard {
            Standard::Taiwan => taiwan,
            Standard::HongKong => hong_kong,
        });
        rest = &rest[at + simplified.len()..];
    }
    out.push_str(&converter.convert(rest));
    out
}

/// The first product term in a text: its byte offset and the term.
fn next_term(text: &str) -> Option<(usize, (&'static str, &'static str, &'static str))> {
    PRODUCT_TERMS
        .iter()
        .filter_map(|&term| text.find(term.0).map(|at| (at, term)))
        .min_by_key(|&(at, _)| at)
}

/// Characters of written Cantonese that Taiwan Mandarin does not write:
/// 嘅 of, 咗 done, 喺 at, 冇 have not, 唔 not, 㗎 (a sentence ending), 啲
/// some, 嘢 thing, 哋 (plural), 佢 he/she, 睇 look, 嚟 come. Not 係: it is
/// also everyday Traditional (關係).
const CANTONESE: &str = "嘅咗喺冇唔㗎啲嘢哋佢睇嚟";

/// Hong Kong variant forms where Taiwan writes another character:
/// 裏/裡, 綫/線, 衞/衛, 啓/啟, 着/著 (着 is also Simplified, so these count
/// only in a message already written in Traditional).
const HK_VARIANTS: &str = "裏綫衞啓着";

/// Whether a message written in Traditional reads as Hong Kong style: it has
/// a Cantonese word or a Hong Kong variant form (see [`CANTONESE`] and
/// [`HK_VARIANTS`]).
pub fn is_hong_kong_style(message: &str) -> bool {
    message
        .chars()
        .any(|c| CANTONESE.contains(c) || HK_VARIANTS.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known phrases, as OpenCC gives them, product terms kept.
    #[test]
    fn known_phrases() {
        use Standard::{HongKong as Hk, Taiwan as Tw};
        for (simplified, standard, want) in [
            ("跨地域复制", Tw, "跨地域複製"),
            ("跨地域复制", Hk, "跨地域複製"),
            ("联系服务商", Hk, "聯繫服務商"),
            ("联系服务商", Tw, "聯絡服務商"),
            ("为", Tw, "為"),
            ("为", Hk, "為"),
            ("启动实例", Tw, "啟動實例"),
            ("启动实例", Hk, "啓動實例"),
            ("自定义镜像", Tw, "自定義鏡像"),
            ("复制镜像", Tw, "複製鏡像"),
            ("镜像类型", Tw, "鏡像類型"),
            ("对已有云服务器重装系统", Tw, "對已有雲伺服器重灌系統"),
            ("对已有云服务器重装系统", Hk, "對已有雲服務器重裝系統"),
            ("软件", Tw, "軟體"),
            ("软件", Hk, "軟件"),
            ("服务器", Tw, "伺服器"),
            ("网络", Tw, "網路"),
            ("网络", Hk, "網絡"),
            ("内存", Tw, "記憶體"),
            ("数据盘", Tw, "資料盤"),
            ("里面", Tw, "裡面"),
            ("里面", Hk, "裏面"),
            ("您还可以问：", Tw, "您還可以問："),
            ("提交工单", Tw, "提交工單"),
            ("镜像 ID：img-abcd1234", Tw, "鏡像 ID：img-abcd1234"),
            ("Linux 镜像", Hk, "Linux 鏡像"),
            ("no Chinese at all", Tw, "no Chinese at all"),
            ("", Tw, ""),
        ] {
            assert_eq!(
                convert(simplified, standard),
                want,
                "{simplified} {standard:?}"
            );
        }
    }

    #[test]
    fn converters_are_embedded() {
        assert!(TAIWAN.is_some() && HONG_KONG.is_some());
    }

    #[test]
    fn hong_kong_style_table() {
        for (message, hk) in [
            ("鏡像點樣收費㗎？", true),
            ("自訂鏡像喺邊度匯入", true),
            ("共享鏡像係咪唔收錢", true),
            ("鏡像裏面有咩", true),
            ("鏡像怎麼收費？", false),
            ("鏡像裡面有什麼", false),
            ("關係到實例嗎", false),
        ] {
            assert_eq!(is_hong_kong_style(message), hk, "{message}");
        }
    }
}
