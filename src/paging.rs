//! A window of rows (offset + limit) and the page of rows it selects, shared by the list queries.

/// Which rows of an ordered result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows skipped.
    pub offset: i64,
    /// Rows returned at most.
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

/// The rows of a window, whether more rows follow, and the total when it was asked for.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, in order.
    pub rows: Vec<T>,
    /// Rows exist after this window.
    pub has_more: bool,
    /// Number of rows matching, before windowing (only when asked).
    pub total: Option<i64>,
}
