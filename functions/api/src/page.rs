//! `GET /track`: the page a shared link opens (`static/track.html`, docs/live-tracking.md). It is
//! static but for the WebSocket URL, which is filled in once at a cold start. Its inline script
//! and style are allowed by their SHA-256 in the Content-Security-Policy, and nothing else is: no
//! other script, style, frame, image or connection than the live-tracking socket.

use base64::Engine;
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("../static/track.html");
const SOCKET_PLACEHOLDER: &str = "__LIVE_SOCKET_URL__";

pub(crate) struct TrackPage {
    html: String,
    policy: String,
}

impl TrackPage {
    pub(crate) fn new(live_socket_url: &str) -> Self {
        let html = TEMPLATE.replace(SOCKET_PLACEHOLDER, &attribute_text(live_socket_url));
        let script = inline_hash(&html, "script");
        let style = inline_hash(&html, "style");
        let policy = format!(
            "default-src 'none'; script-src '{script}'; style-src '{style}'; connect-src {live_socket_url}; \
             img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        Self { html, policy }
    }

    pub(crate) fn response(&self) -> Response<Body> {
        Response::builder()
            .status(200)
            .header("content-type", "text/html; charset=utf-8")
            .header("content-security-policy", &self.policy)
            .header("referrer-policy", "no-referrer")
            .header("x-content-type-options", "nosniff")
            .header("cache-control", "public, max-age=300")
            .body(Body::Text(self.html.clone()))
            .expect("a response with valid headers")
    }
}

/// `sha256-<base64>` of the text inside the page's first `<tag>` element.
fn inline_hash(html: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = html.find(&open).map(|at| at + open.len());
    let end = start.and_then(|start| html[start..].find(&format!("</{tag}>")).map(|len| start + len));
    let text = match (start, end) {
        (Some(start), Some(end)) => &html[start..end],
        _ => "",
    };
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
}

/// `text` safe inside a double-quoted HTML attribute.
fn attribute_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_socket_and_its_policy_allows_exactly_its_own_script_and_style() {
        let page = TrackPage::new("wss://live.example.com/prod");
        assert!(page.html.contains("wss://live.example.com/prod"));
        assert!(!page.html.contains(SOCKET_PLACEHOLDER));
        assert!(page.policy.contains("connect-src wss://live.example.com/prod;"));
        let script = inline_hash(&page.html, "script");
        assert!(page.policy.contains(&format!("script-src '{script}'")), "{}", page.policy);
        assert_ne!(script, inline_hash("<script></script>", "script"), "the page has a script");
    }
}
