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
