//! The words every front end shows around a reply, in one table, so the
//! terminal, Telegram and HTTP say the same thing and Traditional comes from
//! the same conversion as the answers ([`Lang::pick`](crate::Lang::pick)).

use crate::knowledge::Text;
use std::sync::LazyLock;

/// The shared labels.
pub struct Labels {
    /// Before the suggested questions.
    pub related: Text,
    /// A message over the rate limit; `{n}` is the seconds to wait.
    pub wait: Text,
}

/// The one table.
pub static LABELS: LazyLock<Labels> = LazyLock::new(|| Labels {
    related: Text::new("您还可以问：", "You could also ask:"),
    wait: Text::new(
        "消息太多了，请 {n} 秒后再试。",
        "Too many messages, please wait {n} s.",
    ),
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn labels_in_every_language() {
        let l = &*LABELS;
        assert_eq!(Lang::Zh.pick(&l.related), "您还可以问：");
        assert_eq!(Lang::ZhHant.pick(&l.related), "您還可以問：");
        assert_eq!(Lang::ZhHk.pick(&l.related), "您還可以問：");
        assert_eq!(Lang::En.pick(&l.related), "You could also ask:");
        assert_eq!(Lang::ZhHant.pick(&l.wait), "訊息太多了，請 {n} 秒後再試。");
    }
}
