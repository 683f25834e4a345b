//! The ticket draft: what the user can paste so support does not have to ask.

use super::extract::region_by_code;
use crate::knowledge::{Knowledge, Text};
use crate::lang::Lang;
use serde::{Deserialize, Serialize};

/// A ticket draft (ticket routes), or the same details for the vendor
/// (vendor routes): what the user can paste so support does not have to ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Where the draft goes: `ticket` (the ticket form) or `vendor` (the
    /// vendor's online service, phone or email).
    pub send_to: String,
    /// The ticket category, in the reply's language ("云服务器 CVM > 镜像 > 实例无法启动").
    pub category: String,
    /// The image type id of the reply (`public`, `marketplace`, ...), if known.
    pub image_type: Option<String>,
    /// Image ids the user named (`img-xxxxxxxx`).
    pub image_ids: Vec<String>,
    /// Instance ids the user named (`ins-xxxxxxxx`).
    pub instance_ids: Vec<String>,
    /// A region code (`ap-guangzhou`).
    pub region: Option<String>,
    /// The operating system named, with its version when given (`CentOS 7.9`).
    pub os: Option<String>,
    /// The error text the user quoted.
    pub error: Option<String>,
    /// The user's own words: the problem message (and, after a clarify
    /// question, the answer to it).
    pub description: String,
}

impl Ticket {
    /// The draft as a block a person can copy, in a language (type names
    /// from the knowledge).
    pub fn render(&self, kb: &Knowledge, lang: Lang) -> String {
        let zh = lang.is_zh();
        let t =
            |zh_text: &str, en_text: &str| -> String { lang.zh_en(zh_text, en_text).into_owned() };
        let missing = t("（未提供，请补充）", "(not given, please add)");
        let or_missing = |v: Option<String>| v.unwrap_or_else(|| missing.clone());
        let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
        let region = self
            .region
            .as_deref()
            .map(|code| match region_by_code(code) {
                Some(r) if zh => format!("{code}（{}）", t(r.zh, r.en)),
                Some(r) => format!("{code} ({})", r.en),
                None => code.to_string(),
            });
        let (title, end) = if self.send_to == "vendor" {
            (
                t(
                    "—— 给服务商的问题说明（可复制） ——",
                    "--- For the vendor (copy and paste) ---",
                ),
                "—".repeat(12),
            )
        } else {
            (
                t(
                    "—— 工单草稿（可复制到工单） ——",
                    "--- Ticket draft (copy and paste into the ticket) ---",
                ),
                "—".repeat(12),
            )
        };
        let sep = if zh { "：" } else { ": " };
        let rows = [
            (t("问题类别", "Category"), Some(self.category.clone())),
            (
                t("镜像类型", "Image type"),
                self.image_type
                    .as_deref()
                    .map(|ty| match kb.type_index(ty) {
                        Some(i) => lang.pick(&kb.types[i].name).into_owned(),
                        None => ty.to_string(),
                    }),
            ),
            (t("镜像 ID", "Image ID"), list(&self.image_ids)),
            (t("实例 ID", "Instance ID"), list(&self.instance_ids)),
            (t("地域", "Region"), region),
            (t("操作系统", "Operating system"), self.os.clone()),
            (t("报错信息", "Error message"), self.error.clone()),
            (t("问题描述", "Description"), Some(self.description.clone())),
        ];
        let mut s = title;
        for (label, value) in rows {
            s.push('\n');
            s.push_str(&label);
            s.push_str(sep);
            s.push_str(&or_missing(value));
        }
        s.push('\n');
        s.push_str(&end);
        s
    }
}

/// The ticket category for a kind of problem (its label) and a destination.
pub fn category(send_to: &str, kind: &Text, lang: Lang) -> String {
    let (zh, en) = if send_to == "vendor" {
        ("云市场 > 镜像服务商 > ", "Marketplace > Image vendor > ")
    } else {
        ("云服务器 CVM > 镜像 > ", "CVM > Images > ")
    };
    format!("{}{}", lang.zh_en(zh, en), lang.pick(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            send_to: "ticket".into(),
            category: category(
                "ticket",
                &Text::new("实例无法启动", "Instance does not boot"),
                Lang::Zh,
            ),
            image_type: Some("public".into()),
            image_ids: vec!["img-abcd1234".into()],
            instance_ids: vec![],
            region: Some("ap-guangzhou".into()),
            os: Some("CentOS 7.9".into()),
            error: None,
            description: "我的公共镜像启动失败".into(),
        }
    }

    #[test]
    fn draft_renders_every_field_and_asks_for_the_missing() {
        let kb = Knowledge::builtin().unwrap();
        let s = ticket().render(&kb, Lang::Zh);
        assert!(s.starts_with("—— 工单草稿"), "{s}");
        assert!(
            s.contains("问题类别：云服务器 CVM > 镜像 > 实例无法启动"),
            "{s}"
        );
        assert!(s.contains("镜像类型：公共镜像"), "{s}");
        assert!(s.contains("镜像 ID：img-abcd1234"), "{s}");
        assert!(s.contains("实例 ID：（未提供，请补充）"), "{s}");
        assert!(s.contains("地域：ap-guangzhou（广州）"), "{s}");
        assert!(s.contains("操作系统：CentOS 7.9"), "{s}");
        assert!(s.contains("问题描述：我的公共镜像启动失败"), "{s}");
        let en = ticket().render(&kb, Lang::En);
        assert!(en.contains("Region: ap-guangzhou (Guangzhou)"), "{en}");
        assert!(en.contains("Instance ID: (not given, please add)"), "{en}");
        let hant = ticket().render(&kb, Lang::ZhHant);
        assert!(hant.contains("地域：ap-guangzhou（廣州）"), "{hant}");
        assert!(hant.contains("鏡像類型：公共鏡像"), "{hant}");
    }
}
