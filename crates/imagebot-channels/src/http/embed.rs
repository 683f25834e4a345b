//! The embeddable widget: `<script src="https://BOT/widget.js" async>` on
//! another site mounts a chat button and panel in a shadow root there, and
//! calls the API cross-origin. Only the origins named with `--embed-origin`
//! may: CORS answers them alone (preflight included, `Vary: Origin`), so the
//! browser refuses every other site and the widget says so.

use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

const CHAT_JS: &str = include_str!("page/chat.js");
const WIDGET_JS: &str = include_str!("page/widget.js");
const APP_CSS: &str = include_str!("page/app.css");
const WIDGET_CSS: &str = include_str!("page/widget.css");

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// A site allowed to embed the widget: `scheme://host[:port]`, serialized as
/// browsers send it in `Origin` (lower-case host, no default port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedOrigin(String);

/// Why an `--embed-origin` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedOriginError {
    /// `*`: any site at all.
    #[error(
        "`*` is not accepted: it would let every web site put this chat on its pages and \
         send messages from its visitors' browsers; name each site, e.g. https://shop.example.com"
    )]
    Wildcard,
    /// Not a URL at all (often the scheme is missing).
    #[error("`{0}` is not an origin: write scheme://host[:port], e.g. https://shop.example.com")]
    NotAUrl(String),
    /// A scheme other than http or https.
    #[error("`{0}`: the scheme must be http or https")]
    Scheme(String),
    /// A path, query, fragment or user name after the host.
    #[error("`{0}` has more than an origin: write scheme://host[:port] only, without a path")]
    NotBare(String),
}

impl EmbedOrigin {
    /// The origin as a header value.
    fn header_value(&self) -> HeaderValue {
        // Always valid: an ASCII serialization made by the url crate.
        HeaderValue::from_str(&self.0).unwrap_or(HeaderValue::from_static("null"))
    }

    /// The origin as browsers write it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmbedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EmbedOrigin {
    type Err = EmbedOriginError;

    fn from_str(s: &str) -> Result<EmbedOrigin, EmbedOriginError> {
        parse_origin(s)
    }
}

/// Checks an `--embed-origin` value: http(s), a host, an optional port,
/// nothing after (a lone trailing `/` is forgiven).
pub fn parse_origin(s: &str) -> Result<EmbedOrigin, EmbedOriginError> {
    let s = s.trim();
    if s.contains('*') {
        return Err(EmbedOriginError::Wildcard);
    }
    let url = url::Url::parse(s).map_err(|_| EmbedOriginError::NotAUrl(s.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EmbedOriginError::Scheme(s.to_string()));
    }
    if url.host().is_none() {
        return Err(EmbedOriginError::NotAUrl(s.to_string()));
    }
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !bare {
        return Err(EmbedOriginError::NotBare(s.to_string()));
    }
    Ok(EmbedOrigin(url.origin().ascii_serialization()))
}

/// CORS for the API the widget calls: the listed origins only; `None` when
/// none is listed, so the API answers exactly as without a widget.
pub fn cors(origins: &[EmbedOrigin]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(
                origins.iter().map(EmbedOrigin::header_value),
            ))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// `/widget.js`: the chat (the page's own code) and the widget's mount
/// code in one closure, so nothing leaks into the host page's globals; the
/// styles ride along as a string, for the shadow root.
static WIDGET: LazyLock<String> = LazyLock::new(|| {
    let css = serde_json::to_string(&format!("{APP_CSS}\n{WIDGET_CSS}"))
        .unwrap_or_else(|_| "\"\"".into());
    format!("(function () {{\n\"use strict\";\nvar WIDGET_CSS = {css};\n{CHAT_JS}\n{WIDGET_JS}\n}})();\n")
});

/// The answer to `GET /widget.js`: any site may load it (it refuses to
/// talk for the ones not listed); revalidated, so a new version shows at once.
pub async fn widget_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WIDGET.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        let ok = |s: &str| parse_origin(s).unwrap().to_string();
        assert_eq!(ok("https://shop.example.com"), "https://shop.example.com");
        assert_eq!(ok("https://Shop.Example.COM/"), "https://shop.example.com");
        assert_eq!(
            ok("https://shop.example.com:443"),
            "https://shop.example.com"
        );
        assert_eq!(ok("http://localhost:8000"), "http://localhost:8000");
        assert_eq!(ok("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            ok("https://bücher.example"),
            "https://xn--bcher-kva.example"
        );
    }

    #[test]
    fn anything_but_a_bare_origin_is_refused_with_the_reason() {
        let err = |s: &str| parse_origin(s).unwrap_err();
        assert_eq!(err("*"), EmbedOriginError::Wildcard);
        assert_eq!(err("https://*.example.com"), EmbedOriginError::Wildcard);
        assert!(err("*").to_string().contains("every web site"));
        assert!(matches!(
            err("shop.example.com"),
            EmbedOriginError::NotAUrl(_)
        ));
        assert!(matches!(err(""), EmbedOriginError::NotAUrl(_)));
        assert!(matches!(
            err("ftp://a.example"),
            EmbedOriginError::Scheme(_)
        ));
        assert!(matches!(err("file:///tmp"), EmbedOriginError::Scheme(_)));
        for s in [
            "https://a.example/shop",
            "https://a.example/?x=1",
            "https://a.example#top",
            "https://user@a.example",
            "https://a.example//",
        ] {
            assert!(matches!(err(s), EmbedOriginError::NotBare(_)), "{s}");
        }
        assert!(err("https://a.example/shop")
            .to_string()
            .contains("without a path"));
    }

    #[test]
    fn cors_only_when_origins_are_listed() {
        assert!(cors(&[]).is_none());
        assert!(cors(&[parse_origin("https://a.example").unwrap()]).is_some());
    }

    #[test]
    fn the_widget_script_is_one_closure_with_its_styles() {
        assert!(WIDGET.starts_with("(function () {"));
        assert!(WIDGET.trim_end().ends_with("})();"));
        assert!(WIDGET.contains("prefers-color-scheme: dark"));
        assert!(WIDGET.contains("attachShadow"));
    }
}
