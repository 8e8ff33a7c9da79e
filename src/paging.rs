//! A window of rows (offset + limit) and the page of rows it selects, shared by the list queries.

/// Which rows of an ordered result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows skipped.
    pub offset: i64,
    /// Rows read at most (a caller that looks ahead asks for one more than it shows).
    pub limit: i64,
    /// Whether the total number of matching rows is wanted (costs a count).
    pub with_total: bool,
}

impl Window {
    /// The first `limit` rows, without a total.
    pub fn first(limit: i64) -> Self {
        Window {
            offset: 0,
            limit,
            with_total: false,
        }
    }
}

/// The rows of a window and the total when it was asked for.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, in order.
    pub rows: Vec<T>,
    /// Number of rows matching, before windowing (only when asked).
    pub total: Option<i64>,
}

/// camelCase → snake_case, as openIMIS converts `orderBy` entries (`headInsuree__chfId` →
/// `head_insuree__chf_id`); snake_case input is kept.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `orderBy` entries as openIMIS reads them: comma-separated field names (camelCase or
/// snake_case), `-` for descending, `+` or nothing for ascending. Each name is mapped to its SQL
/// column by `column`; the ORDER BY terms (descending with NULLs last, ascending with NULLs first,
/// as Django orders), or the first entry no column answers.
pub fn order_terms(
    order_by: &[String],
    column: impl Fn(&str) -> Option<&'static str>,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut terms = Vec::new();
    for entry in order_by {
        let cleaned: String = entry
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | ','))
            .collect();
        for item in cleaned.split(',').filter(|s| !s.is_empty()) {
            let (desc, name) = match item.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, item.trim_start_matches('+')),
            };
            let Some(col) = column(&snake_case(name)) else {
                return Err(item.to_string());
            };
            let direction = if desc {
                "DESC NULLS LAST"
            } else {
                "ASC NULLS FIRST"
            };
            terms.push((col, format!("{col} {direction}")));
        }
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_terms_read_directions_cases_and_refuse_unknown_names() {
        let col = |n: &str| match n {
            "last_name" => Some("h.\"LastName\""),
            "id" => Some("f.\"FamilyID\""),
            _ => None,
        };
        let t = order_terms(&["-lastName, +id".into(), "id".into()], col).unwrap();
        let sql: Vec<_> = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            sql,
            [
                "h.\"LastName\" DESC NULLS LAST",
                "f.\"FamilyID\" ASC NULLS FIRST",
                "f.\"FamilyID\" ASC NULLS FIRST"
            ]
        );
        assert_eq!(order_terms(&["id,-nope".into()], col).unwrap_err(), "-nope");
    }
}
