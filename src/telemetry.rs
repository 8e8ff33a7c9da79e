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

#[cfg(test)]
mod tests {
    #[test]
    fn masks_all_but_three() {
        assert_eq!(super::mask_phone("255712345678"), "*********678");
        assert_eq!(super::mask_phone("12"), "12");
        assert_eq!(super::mask_phone(""), "");
    }
}
