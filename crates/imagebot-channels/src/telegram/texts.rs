//! What the Telegram front end itself says (commands, buttons, non-text
//! messages), in Chinese and English; Traditional is converted from the
//! Chinese like every answer. Answers come from the knowledge; only the
//! chat's furniture is here.

use imagebot_core::reply::Lang;
use std::sync::LazyLock;

/// The front end's own sentences in one language.
pub struct Texts {
    pub help_intro: &'static str,
    pub help_commands: &'static str,
    /// `{bot}` is the bot's @username.
    pub help_groups: &'static str,
    pub topics_intro: &'static str,
    pub ticket_intro: &'static str,
    /// `{types}`, `{link}`.
    pub ticket_line: &'static str,
    /// `{types}`, `{vendor}`.
    pub vendor_line: &'static str,
    pub list_sep: &'static str,
    pub lang_set: &'static str,
    pub lang_usage: &'static str,
    pub reset: &'static str,
    pub non_text: &'static str,
    pub unknown_command: &'static str,
    pub button_expired: &'static str,
    pub ticket_draft: &'static str,
}

pub const ZH: Texts = Texts {
    help_intro: "我是镜像助手，回答腾讯云云服务器（CVM）镜像的常见问题：镜像类型、计费、安全、使用限制、导入、共享等。直接用文字提问即可，例如“共享镜像要收费吗？”；追问时我会记得上一个问题。",
    help_commands: "/start 问候和常见问题\n/topics 所有常见问题\n/ticket 如何获得人工帮助\n/lang zh|en 固定回答语言\n/reset 清除对话上下文\n/help 本说明",
    help_groups: "在群组里，请 @{bot} 提问，或回复我的消息。",
    topics_intro: "常见问题，点一下就能看到答案：",
    ticket_intro: "需要人工帮助？",
    ticket_line: "{types}：请{link}。",
    vendor_line: "{types}：{vendor}",
    list_sep: "、",
    lang_set: "好的，之后都用中文回答。",
    lang_usage: "用法：/lang zh（中文）或 /lang en（English）。",
    reset: "好的，已清除这个对话的上下文。",
    non_text: "我只能读懂文字消息。请用文字描述您的问题，例如“镜像如何计费？”",
    unknown_command: "没有这个命令。可用的命令见 /help。",
    button_expired: "这个按钮已失效，请直接提问。",
    ticket_draft: "工单草稿（可复制后提交）：",
};

pub const EN: Texts = Texts {
    help_intro: "I am the image assistant: I answer common questions about Tencent Cloud server (CVM) images: image types, billing, security, limits, import, sharing and more. Just type a question, for example \"Are shared images free?\"; I remember the previous question for follow-ups.",
    help_commands: "/start a greeting and common questions\n/topics all common questions\n/ticket how to get a person's help\n/lang zh|en pin the reply language\n/reset forget this chat's context\n/help this help",
    help_groups: "In a group, mention @{bot} in your question or reply to one of my messages.",
    topics_intro: "Common questions: tap one to see its answer.",
    ticket_intro: "Need a person's help?",
    ticket_line: "{types}: please {link}.",
    vendor_line: "{types}: {vendor}",
    list_sep: ", ",
    lang_set: "OK, I will answer in English from now on.",
    lang_usage: "Usage: /lang zh (中文) or /lang en (English).",
    reset: "OK, I have forgotten this chat's context.",
    non_text: "I can only read text messages. Please type your question, for example \"How are images billed?\"",
    unknown_command: "I do not know that command. See /help for the ones I know.",
    button_expired: "This button has expired; please type your question.",
    ticket_draft: "Ticket draft (copy it into the ticket):",
};

/// The Chinese table in Taiwan and in Hong Kong standard, converted once.
static ZH_HANT: LazyLock<Texts> = LazyLock::new(|| ZH.converted(Lang::ZhHant));
static ZH_HK: LazyLock<Texts> = LazyLock::new(|| ZH.converted(Lang::ZhHk));

impl Texts {
    /// This (Chinese) table in a Traditional language. The strings live as
    /// long as the process, like the constant tables: made once per
    /// standard by the statics above, so they never pile up.
    fn converted(&self, lang: Lang) -> Texts {
        let c = |s: &'static str| -> &'static str {
            Box::leak(lang.zh_en(s, s).into_owned().into_boxed_str())
        };
        Texts {
            help_intro: c(self.help_intro),
            help_commands: c(self.help_commands),
            help_groups: c(self.help_groups),
            topics_intro: c(self.topics_intro),
            ticket_intro: c(self.ticket_intro),
            ticket_line: c(self.ticket_line),
            vendor_line: c(self.vendor_line),
            list_sep: c(self.list_sep),
            lang_set: c(self.lang_set),
            lang_usage: c(self.lang_usage),
            reset: c(self.reset),
            non_text: c(self.non_text),
            unknown_command: c(self.unknown_command),
            button_expired: c(self.button_expired),
            ticket_draft: c(self.ticket_draft),
        }
    }
}

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::ZhHant => &ZH_HANT,
        Lang::ZhHk => &ZH_HK,
        Lang::En => &EN,
    }
}

/// The language of the front end's own messages: the pinned one, else the
/// user's Telegram language, else Chinese (the FAQ's language).
pub fn ui_lang(pinned: Option<Lang>, language_code: Option<&str>) -> Lang {
    if let Some(l) = pinned {
        return l;
    }
    match language_code.map(str::to_ascii_lowercase) {
        Some(code) if code.starts_with("zh") => {
            if code.ends_with("hk") || code.ends_with("mo") {
                Lang::ZhHk
            } else if code.contains("hant") || code.ends_with("tw") {
                Lang::ZhHant
            } else {
                Lang::Zh
            }
        }
        Some(code) if !code.is_empty() => Lang::En,
        _ => Lang::Zh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_language() {
        assert_eq!(ui_lang(None, None), Lang::Zh);
        assert_eq!(ui_lang(None, Some("en")), Lang::En);
        assert_eq!(ui_lang(None, Some("de")), Lang::En);
        assert_eq!(ui_lang(None, Some("zh-hans")), Lang::Zh);
        assert_eq!(ui_lang(None, Some("zh-TW")), Lang::ZhHant);
        assert_eq!(ui_lang(None, Some("zh-HK")), Lang::ZhHk);
        assert_eq!(ui_lang(Some(Lang::Zh), Some("en")), Lang::Zh);
        for l in [Lang::Zh, Lang::ZhHant, Lang::ZhHk, Lang::En] {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
    }

    #[test]
    fn traditional_tables_are_converted() {
        assert_eq!(texts(Lang::ZhHant).reset, "好的，已清除這個對話的上下文。");
        assert!(texts(Lang::ZhHant).help_intro.contains("雲伺服器"));
        assert!(texts(Lang::ZhHk).help_intro.contains("雲服務器"));
        assert_eq!(texts(Lang::ZhHk).ticket_draft, "工單草稿（可複製後提交）：");
    }
}
