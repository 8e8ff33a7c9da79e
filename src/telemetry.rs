//! Logging: structured `tracing` output, JSON when asked for.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default level (`info`).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// A phone number for logs: all but the last three digits masked (DECISIONS 33).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let keep = chars.len().min(3);
    let masked = chars.len() - keep;
    let mut out: String = std::iter::repeat_n('*', masked).collect();
    out.extend(&chars[masked..]);
    out
}

/// Most characters of one user-supplied text written to a log field.
pub const MAX_LOGGED_CHARS: usize = 200;

/// User-supplied text for a log field: control characters (newlines, ANSI escapes, …), line
/// separators and bidirectional overrides escaped as `\u{..}`, cut after [`MAX_LOGGED_CHARS`]
/// characters with the number of bytes left out. Every user text reaches the log through this.
pub fn user_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_LOGGED_CHARS + 24));
    let mut end = s.len();
    for (taken, (i, c)) in s.char_indices().enumerate() {
        if taken == MAX_LOGGED_CHARS {
            end = i;
            break;
        }
        let risky = c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
        if risky {
            out.extend(c.escape_unicode());
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    if end < s.len() {
        out.push_str(&format!("…(+{} bytes)", s.len() - end));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_text_is_escaped_and_cut() {
        assert_eq!(super::user_text("Admin"), "Admin");
        assert_eq!(
            super::user_text("a\nINFO forged\u{1b}[31m"),
            "a\\u{a}INFO forged\\u{1b}[31m"
        );
        assert_eq!(super::user_text("a\\b"), "a\\\\b");
        let long = "x".repeat(1_000_000);
        let logged = super::user_text(&long);
        assert!(logged.starts_with(&"x".repeat(200)));
        assert!(logged.ends_with("…(+999800 bytes)"), "{logged}");
        assert!(logged.len() < 230);
    }

    #[test]
    fn masks_all_but_three() {
        assert_eq!(super::mask_phone("255712345678"), "*********678");
        assert_eq!(super::mask_phone("12"), "12");
        assert_eq!(super::mask_phone(""), "");
    }
}
