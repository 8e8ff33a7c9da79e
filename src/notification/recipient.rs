//! The recipient of a family's message: the head's phone, else the first current member with one
//! (DECISIONS 1), normalised to international digits with the configured country code
//! (DECISIONS 19).

use crate::families::rules::phone_present;

/// Why a family cannot receive a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    #[error("the family has no phone number (head and current members)")]
    NoPhone,
    #[error("the phone number cannot be normalised to an international number")]
    Unusable,
}

/// The head's phone when present, otherwise the fallback member's.
pub fn pick<'a>(head: Option<&'a str>, member: Option<&'a str>) -> Option<&'a str> {
    if phone_present(head) {
        head
    } else if phone_present(member) {
        member
    } else {
        None
    }
}

/// Picks and normalises the recipient.
pub fn recipient(
    head: Option<&str>,
    member: Option<&str>,
    country_code: &str,
) -> Result<String, RecipientError> {
    let raw = pick(head, member).ok_or(RecipientError::NoPhone)?;
    normalise(raw, country_code)
}

/// Normalises `raw` to digits with the country code: `+255 712-345 678`, `00255712345678`,
/// `0712345678` and `712345678` all give `255712345678` for country code 255.
pub fn normalise(raw: &str, country_code: &str) -> Result<String, RecipientError> {
    let trimmed = raw.trim();
    let international_marker = trimmed.starts_with('+');
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            '+' if i == 0 => {}
            _ => return Err(RecipientError::Unusable),
        }
    }
    let full = if international_marker {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("{country_code}{rest}")
    } else if digits.starts_with(country_code) && digits.len() >= country_code.len() + 8 {
        digits
    } else {
        format!("{country_code}{digits}")
    };
    // E.164: at most 15 digits; anything shorter than 10 cannot be a mobile number with its code.
    if !(10..=15).contains(&full.len()) || full.starts_with('0') {
        return Err(RecipientError::Unusable);
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanzanian_forms() {
        for raw in [
            "+255 712 345 678",
            "00255712345678",
            "0712345678",
            "712345678",
            "255712345678",
            " 0712-345-678 ",
        ] {
            assert_eq!(
                normalise(raw, "255").as_deref(),
                Ok("255712345678"),
                "{raw}"
            );
        }
    }

    #[test]
    fn unusable_numbers() {
        for raw in ["abc", "12", "+1", "07123456789012345", "0712x345678"] {
            assert_eq!(
                normalise(raw, "255"),
                Err(RecipientError::Unusable),
                "{raw}"
            );
        }
    }

    #[test]
    fn fallback_member() {
        assert_eq!(pick(Some(" "), Some("0712")), Some("0712"));
        assert_eq!(pick(Some("0755"), Some("0712")), Some("0755"));
        assert_eq!(pick(None, None), None);
        assert_eq!(
            recipient(None, Some(""), "255"),
            Err(RecipientError::NoPhone)
        );
    }
}
