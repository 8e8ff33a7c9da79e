//! The dashboard's HTML: the page shell, the login and message pages, escaping, and the
//! server-rendered SVG bar chart. No script: the pages work with JavaScript off, and the
//! Content-Security-Policy allows none.

use std::fmt::Write;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::BASE;
use crate::http::assets::{DASHBOARD_CSS, url};

/// Text made safe for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML answer with the dashboard's security headers (no script, no framing, not cached).
pub fn respond(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// A whole page around `body` (already HTML).
pub fn page(title: &str, header_extra: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n\
         <link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"{css}\">\n</head>\n<body>\n\
         <header class=\"top\"><h1><a href=\"{BASE}\">Policy notification</a> <span>sending dashboard</span></h1>{header_extra}</header>\n\
         <main>\n{body}\n</main>\n</body>\n</html>\n",
        title = esc(title),
        css = url(DASHBOARD_CSS),
    )
}

/// The login form, with an optional message (already plain text).
pub fn login_page(message: Option<&str>, username: &str) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(m)))
        .unwrap_or_default();
    page(
        "Log in — sending dashboard",
        "",
        &format!(
            "<section class=\"card login\"><h2>Log in</h2>\
             <p>With your openIMIS user name and password (right 131224 or an administrator).</p>{message}\
             <form method=\"post\" action=\"{BASE}login\">\
             <label>User name <input name=\"username\" id=\"username\" autocomplete=\"username\" required value=\"{u}\"></label>\
             <label>Password <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\" id=\"login\">Log in</button></form></section>",
            u = esc(username),
        ),
    )
}

/// The logout button (a POST with the CSRF token) and who is logged in.
pub fn user_bar(login: &str, csrf: &str) -> String {
    format!(
        "<form class=\"user\" method=\"post\" action=\"{BASE}logout\">\
         <span>{}</span><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Log out</button></form>",
        esc(login),
        esc(csrf)
    )
}

/// A short page with a message and a link back to the dashboard.
pub fn message_page(title: &str, message: &str, header_extra: &str) -> String {
    page(
        title,
        header_extra,
        &format!(
            "<section class=\"card\"><h2>{}</h2><p id=\"message\">{}</p>\
             <p><a href=\"{BASE}\">Back to the dashboard</a></p></section>",
            esc(title),
            esc(message)
        ),
    )
}

/// One series of a stacked bar chart: its name, CSS class and one value per slot.
pub struct Series<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub values: Vec<i64>,
}

/// A stacked bar chart as inline SVG (scales with the page): one bar per label, the series
/// stacked bottom-up in order, a `<title>` per segment for hover, a legend below.
pub fn bar_chart(labels: &[String], series: &[Series<'_>], caption: &str) -> String {
    const W: f64 = 480.0;
    const H: f64 = 190.0;
    const LEFT: f64 = 34.0;
    const BOTTOM: f64 = 22.0;
    let n = labels.len().max(1);
    let totals: Vec<i64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let slot = (W - LEFT) / n as f64;
    let bar = (slot * 0.75).max(1.0);
    let plot = H - BOTTOM - 6.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        esc(caption)
    );
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{y}\" x2=\"{W}\" y2=\"{y}\"/>\
         <text class=\"tick\" x=\"{x}\" y=\"14\" text-anchor=\"end\">{max}</text>\
         <text class=\"tick\" x=\"{x}\" y=\"{y}\" text-anchor=\"end\">0</text>",
        y = H - BOTTOM,
        x = LEFT - 4.0,
    );
    for i in 0..n {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = H - BOTTOM;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let h = plot * v as f64 / max as f64;
            y -= h;
            let _ = write!(
                svg,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\">\
                 <title>{}: {} {v}</title></rect>",
                esc(s.class),
                esc(labels.get(i).map(String::as_str).unwrap_or("")),
                esc(s.name),
            );
        }
    }
    // First, middle and last labels under the axis, kept inside the drawing.
    for (i, anchor) in [(0, "start"), (n / 2, "middle"), (n - 1, "end")] {
        if let Some(l) = labels.get(i) {
            let x = match anchor {
                "start" => LEFT + slot * i as f64,
                "end" => LEFT + slot * (i + 1) as f64,
                _ => LEFT + slot * i as f64 + slot / 2.0,
            };
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
                H - 4.0,
                esc(l)
            );
        }
    }
    svg.push_str("</svg><ul class=\"legend\">");
    for s in series {
        let _ = write!(
            svg,
            "<li><svg viewBox=\"0 0 10 10\" class=\"swatch\"><rect class=\"{}\" width=\"10\" height=\"10\"/></svg>{}</li>",
            esc(s.class),
            esc(s.name)
        );
    }
    svg.push_str("</ul>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn chart_scales_to_the_largest_bar() {
        let labels = vec!["d1".to_string(), "d2".to_string()];
        let series = [Series {
            name: "sent",
            class: "sent",
            values: vec![2, 4],
        }];
        let svg = bar_chart(&labels, &series, "c");
        assert!(svg.contains(">4</text>"), "{svg}");
        assert!(svg.contains("<title>d2: sent 4</title>"), "{svg}");
        assert_eq!(svg.matches("<rect class=\"sent\" x=").count(), 2);
    }
}
