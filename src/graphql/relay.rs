//! Relay conventions as openIMIS (graphene / graphql-relay) has them: global IDs
//! `base64("Type:pk")`, cursors `base64("arrayconnection:<offset>")`, the `ExtendedConnection`
//! shape (`totalCount`, `edgeCount`, `pageInfo`, `edges`) named `<Node>Connection`, and the
//! pagination arguments `first`/`last`/`after`/`before`/`offset` with the cap of 100.
//!
//! A connection resolver: parse the arguments with [`Pagination::parse`], count the rows when
//! [`Pagination::needs_total`] or [`total_count_selected`], take the SQL window with
//! [`Pagination::window`] (`OFFSET window.offset LIMIT window.fetch`), and build the answer with
//! [`Pagination::connection`].

use std::borrow::Cow;

use async_graphql::{Context, Object, OutputType, SimpleObject, TypeName};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::ErrorCode;

/// The largest page (`RELAY_CONNECTION_MAX_LIMIT`), also the implicit `first`.
pub const MAX_PAGE: i64 = 100;

const CURSOR_PREFIX: &str = "arrayconnection:";
/// Largest row position a cursor may hold (keeps the window arithmetic far from overflow).
const MAX_CURSOR: i64 = 1 << 40;

/// A relay argument that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// `first`/`last` above the cap (openIMIS's text).
    #[error(
        "Requesting {requested} records on the `{field}` connection exceeds the `{arg}` limit of {limit} records."
    )]
    PageTooLarge {
        requested: i64,
        field: String,
        arg: &'static str,
        limit: i64,
    },
    /// A negative `first`, `last` or `offset`.
    #[error("Argument `{0}` must be a non-negative integer.")]
    Negative(&'static str),
    /// `offset` together with `before` (openIMIS's text).
    #[error(
        "You can't provide a `before` value at the same time as an `offset` value to properly paginate the `{0}` connection."
    )]
    OffsetWithBefore(String),
    /// A cursor we did not issue.
    #[error("invalid cursor `{0}`")]
    BadCursor(String),
    /// An ID that is neither a global ID nor digits, or of another type.
    #[error("invalid ID `{0}`")]
    BadId(String),
    /// A global ID of a type the argument does not take.
    #[error("{arg}: `{id}` is an ID of {ty}, not of the expected type")]
    WrongIdType {
        /// The argument.
        arg: String,
        /// The ID as given.
        id: String,
        /// The type it names.
        ty: String,
    },
}

impl RelayError {
    /// The error code: page-size errors are limits, the rest bad input.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::PageTooLarge { .. } => ErrorCode::LimitExceeded,
            _ => ErrorCode::BadUserInput,
        }
    }
}

/// `e.extend()` gives the GraphQL error with `extensions.code`.
impl async_graphql::ErrorExtensions for RelayError {
    fn extend(&self) -> async_graphql::Error {
        super::context::coded_error(self.code(), self.to_string())
    }
}

/// `base64("<type_name>:<pk>")`.
pub fn global_id(type_name: &str, pk: impl std::fmt::Display) -> String {
    STANDARD.encode(format!("{type_name}:{pk}"))
}

/// Splits an ID into (type name, pk). An all-digit value is taken as a plain pk (as the
/// frontend's `decodeId` does), with no type.
pub fn decode_global_id(id: &str) -> Result<(Option<String>, String), RelayError> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok((None, id.to_string()));
    }
    let bad = || RelayError::BadId(id.to_string());
    let bytes = STANDARD
        .decode(id)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(id))
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ty, pk) = text.split_once(':').ok_or_else(bad)?;
    if ty.is_empty() || pk.is_empty() {
        return Err(bad());
    }
    Ok((Some(ty.to_string()), pk.to_string()))
}

/// The pk of an ID that must be of `type_name` (or plain digits).
pub fn decode_id_of(id: &str, type_name: &str) -> Result<String, RelayError> {
    match decode_global_id(id)? {
        (Some(ty), _) if ty != type_name => Err(RelayError::BadId(id.to_string())),
        (_, pk) => Ok(pk),
    }
}

/// The node types this service answers; an ID of one of them passed where another is expected
/// is refused.
const NODE_TYPES: [&str; 5] = [
    "FamilyGQLType",
    "InsureeGQLType",
    "LocationGQLType",
    "MutationLogGQLType",
    "FamilyNotificationGQLType",
];

/// Checks the type of a global ID given to argument `arg`: it must be `expected` when that is
/// known, and never another of our node types (`FamilyGQLType:4` is no location). A plain value
/// (digits, a code) has no type and passes.
pub fn check_id_type(arg: &str, id: &str, expected: Option<&str>) -> Result<(), RelayError> {
    let Ok((Some(ty), _)) = decode_global_id(id) else {
        return Ok(());
    };
    let wrong = match expected {
        Some(e) => ty != e,
        None => NODE_TYPES.contains(&ty.as_str()),
    };
    if wrong {
        return Err(RelayError::WrongIdType {
            arg: arg.to_string(),
            id: id.to_string(),
            ty,
        });
    }
    Ok(())
}

/// The cursor of the row at 0-based `offset`.
pub fn cursor(offset: i64) -> String {
    STANDARD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// The offset of a cursor.
pub fn parse_cursor(c: &str) -> Result<i64, RelayError> {
    let bad = || RelayError::BadCursor(c.to_string());
    let bytes = STANDARD.decode(c.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (0..=MAX_CURSOR).contains(n))
        .ok_or_else(bad)
}

/// Whether the current connection field's selection asks for `totalCount`.
pub fn total_count_selected(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Parsed pagination arguments (absolute 0-based row positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// `first` (implicitly [`MAX_PAGE`] when neither `first` nor `last` is given).
    pub first: Option<i64>,
    /// `last`.
    pub last: Option<i64>,
    /// Position of the `after` cursor.
    pub after: Option<i64>,
    /// Position of the `before` cursor.
    pub before: Option<i64>,
    /// Rows skipped after `after` (or from the start).
    pub offset: i64,
}

/// The rows to read: `OFFSET offset LIMIT fetch` (`fetch` may hold one look-ahead row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First row to read.
    pub offset: i64,
    /// Rows on the page.
    pub limit: i64,
    /// Rows to read (`limit`, plus one when the next page is found by looking ahead).
    pub fetch: i64,
}

impl Pagination {
    /// Applies openIMIS's rules: `first`/`last` at most 100, non-negative; `offset` not with
    /// `before`; neither `first` nor `last` means `first: 100`. `field` names the connection in
    /// errors.
    pub fn parse(
        field: &str,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<&str>,
        before: Option<&str>,
        offset: Option<i32>,
    ) -> Result<Self, RelayError> {
        let check = |v: Option<i32>, arg: &'static str| -> Result<Option<i64>, RelayError> {
            match v {
                None => Ok(None),
                Some(n) if n < 0 => Err(RelayError::Negative(arg)),
                Some(n) if i64::from(n) > MAX_PAGE => Err(RelayError::PageTooLarge {
                    requested: n.into(),
                    field: field.to_string(),
                    arg,
                    limit: MAX_PAGE,
                }),
                Some(n) => Ok(Some(n.into())),
            }
        };
        let mut first = check(first, "first")?;
        let last = check(last, "last")?;
        if offset.is_some() && before.is_some() {
            return Err(RelayError::OffsetWithBefore(field.to_string()));
        }
        let offset = match offset {
            Some(n) if n < 0 => return Err(RelayError::Negative("offset")),
            Some(n) => i64::from(n),
            None => 0,
        };
        if first.is_none() && last.is_none() {
            first = Some(MAX_PAGE);
        }
        Ok(Pagination {
            first,
            last,
            after: after.map(parse_cursor).transpose()?,
            before: before.map(parse_cursor).transpose()?,
            offset,
        })
    }

    /// [`Pagination::parse`] for the current field of `ctx`.
    pub fn from_ctx(
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<&str>,
        before: Option<&str>,
        offset: Option<i32>,
    ) -> Result<Self, RelayError> {
        Self::parse(ctx.field().name(), first, last, after, before, offset)
    }

    /// Whether the window can only be placed knowing the number of rows (`last` without
    /// `before`).
    pub fn needs_total(&self) -> bool {
        self.last.is_some() && self.before.is_none()
    }

    fn lower(&self) -> i64 {
        self.after.map_or(0, |a| a + 1)
    }

    /// The rows to read, given the row count when known (required when
    /// [`Pagination::needs_total`]).
    pub fn window(&self, total: Option<i64>) -> Window {
        let start = self.lower() + self.offset;
        let mut end: Option<i64> = self.before;
        if let Some(t) = total {
            end = Some(end.map_or(t, |e| e.min(t)));
        }
        if let Some(first) = self.first {
            end = Some(end.map_or(start + first, |e| e.min(start + first)));
        }
        let mut start = start;
        if let Some(last) = self.last {
            let e = end.unwrap_or(start + last);
            start = start.max(e - last);
            end = Some(e);
        }
        let end = end.unwrap_or(start + MAX_PAGE).max(start);
        let limit = end - start;
        let look_ahead = total.is_none() && self.first.is_some();
        Window {
            offset: start,
            limit,
            fetch: if look_ahead { limit + 1 } else { limit },
        }
    }

    /// Builds the connection from the rows read for `window` (in order) and the row count when
    /// it was computed (then shown as `totalCount`).
    pub fn connection<N: OutputType>(
        &self,
        window: Window,
        mut rows: Vec<N>,
        total: Option<i64>,
    ) -> ExtendedConnection<N> {
        let more = rows.len() as i64 > window.limit;
        rows.truncate(window.limit.max(0) as usize);
        let start = window.offset;
        let end = start + rows.len() as i64;
        let has_next_page = self.first.is_some()
            && match total {
                Some(t) => end < self.before.unwrap_or(t),
                None => more && self.before.is_none_or(|b| end < b),
            };
        let has_previous_page = self.last.is_some() && start > self.lower();
        let edges: Vec<ExtendedEdge<N>> = rows
            .into_iter()
            .enumerate()
            .map(|(i, node)| ExtendedEdge {
                cursor: cursor(start + i as i64),
                node,
            })
            .collect();
        ExtendedConnection {
            total_count: total,
            page_info: PageInfo {
                has_next_page,
                has_previous_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        }
    }
}

/// Relay page information.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct PageInfo {
    /// More rows follow (only known when `first` was given).
    pub has_next_page: bool,
    /// Rows precede (only known when `last` was given).
    pub has_previous_page: bool,
    /// Cursor of the first edge.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge.
    pub end_cursor: Option<String>,
}

/// One edge: a node and its cursor. GraphQL name `<Node>Edge`.
#[derive(Debug, Clone)]
pub struct ExtendedEdge<N> {
    /// The row's cursor.
    pub cursor: String,
    /// The row.
    pub node: N,
}

/// A page of rows in openIMIS's `ExtendedConnection` shape. GraphQL name `<Node>Connection`.
#[derive(Debug, Clone)]
pub struct ExtendedConnection<N> {
    /// Rows after filtering, before pagination; `None` when not computed.
    pub total_count: Option<i64>,
    /// The page's edges.
    pub edges: Vec<ExtendedEdge<N>>,
    /// Page information.
    pub page_info: PageInfo,
}

impl<N> ExtendedConnection<N> {
    /// An empty page (e.g. a user who may see nothing).
    pub fn empty(total_count: Option<i64>) -> Self {
        ExtendedConnection {
            total_count,
            edges: Vec::new(),
            page_info: PageInfo {
                has_next_page: false,
                has_previous_page: false,
                start_cursor: None,
                end_cursor: None,
            },
        }
    }
}

impl<N: OutputType> TypeName for ExtendedEdge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}

/// The edge object.
#[Object(name_type)]
impl<N: OutputType> ExtendedEdge<N> {
    /// A cursor for use in pagination.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The item at the end of the edge.
    async fn node(&self) -> Option<&N> {
        Some(&self.node)
    }
}

impl<N: OutputType> TypeName for ExtendedConnection<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// The connection object.
#[Object(name_type)]
impl<N: OutputType> ExtendedConnection<N> {
    /// Number of rows after filtering, before pagination.
    async fn total_count(&self) -> Option<i64> {
        self.total_count
    }

    /// Number of edges in this page.
    async fn edge_count(&self) -> i32 {
        self.edges.len() as i32
    }

    /// Pagination data for this connection.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// Contains the nodes in this connection.
    async fn edges(&self) -> Vec<Option<&ExtendedEdge<N>>> {
        self.edges.iter().map(Some).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(
        first: Option<i32>,
        last: Option<i32>,
        after: Option<i64>,
        before: Option<i64>,
        offset: Option<i32>,
    ) -> Result<Pagination, RelayError> {
        let a = after.map(cursor);
        let b = before.map(cursor);
        Pagination::parse("families", first, last, a.as_deref(), b.as_deref(), offset)
    }

    fn run(p: &Pagination, total: i64, count_known: bool) -> ExtendedConnection<i32> {
        let t = (count_known || p.needs_total()).then_some(total);
        let w = p.window(t);
        let rows: Vec<i32> = (w.offset..(w.offset + w.fetch).min(total))
            .map(|i| i as i32)
            .collect();
        p.connection(w, rows, t)
    }

    fn nodes(c: &ExtendedConnection<i32>) -> Vec<i32> {
        c.edges.iter().map(|e| e.node).collect()
    }

    #[test]
    fn ids_and_cursors_match_openimis() {
        assert_eq!(global_id("FamilyGQLType", 1), "RmFtaWx5R1FMVHlwZTox");
        assert_eq!(global_id("InsureeGQLType", 1), "SW5zdXJlZUdRTFR5cGU6MQ==");
        assert_eq!(cursor(0), "YXJyYXljb25uZWN0aW9uOjA=");
        assert_eq!(parse_cursor("YXJyYXljb25uZWN0aW9uOjA=").unwrap(), 0);
        assert_eq!(
            decode_global_id("TG9jYXRpb25HUUxUeXBlOjM1").unwrap(),
            (Some("LocationGQLType".into()), "35".into())
        );
        assert_eq!(decode_global_id("35").unwrap(), (None, "35".into()));
        assert_eq!(decode_id_of("35", "FamilyGQLType").unwrap(), "35");
        assert!(decode_id_of("TG9jYXRpb25HUUxUeXBlOjM1", "FamilyGQLType").is_err());
        assert!(parse_cursor("nonsense").is_err());
        let huge = STANDARD.encode(format!("arrayconnection:{}", i64::MAX));
        assert!(parse_cursor(&huge).is_err());
    }

    #[test]
    fn limits_and_errors() {
        let e = page(Some(101), None, None, None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Requesting 101 records on the `families` connection exceeds the `first` limit of 100 records."
        );
        assert!(page(None, Some(101), None, None, None).is_err());
        assert!(page(Some(-1), None, None, None, None).is_err());
        assert!(page(None, Some(2), None, Some(3), Some(1)).is_err());
        assert_eq!(page(None, None, None, None, None).unwrap().first, Some(100));
    }

    #[test]
    fn windows() {
        // implicit first 100 over 250 rows
        let p = page(None, None, None, None, None).unwrap();
        let c = run(&p, 250, false);
        assert_eq!(c.edges.len(), 100);
        assert!(c.page_info.has_next_page);
        assert!(!c.page_info.has_previous_page);
        // first/after
        let p = page(Some(10), None, Some(9), None, None).unwrap();
        let c = run(&p, 25, true);
        assert_eq!(nodes(&c), (10..20).collect::<Vec<_>>());
        assert!(c.page_info.has_next_page);
        assert_eq!(c.total_count, Some(25));
        let p = page(Some(10), None, Some(19), None, None).unwrap();
        let c = run(&p, 25, false);
        assert_eq!(nodes(&c), (20..25).collect::<Vec<_>>());
        assert!(!c.page_info.has_next_page);
        // last/before
        let p = page(None, Some(5), None, Some(10), None).unwrap();
        let c = run(&p, 25, false);
        assert_eq!(nodes(&c), (5..10).collect::<Vec<_>>());
        assert!(c.page_info.has_previous_page);
        assert!(!c.page_info.has_next_page);
        // last alone needs the total
        let p = page(None, Some(3), None, None, None).unwrap();
        assert!(p.needs_total());
        let c = run(&p, 25, false);
        assert_eq!(nodes(&c), vec![22, 23, 24]);
        // offset adds to after
        let p = page(Some(2), None, Some(0), None, Some(3)).unwrap();
        let c = run(&p, 25, false);
        assert_eq!(nodes(&c), vec![4, 5]);
        assert_eq!(c.edges[0].cursor, cursor(4));
        // beyond the end
        let p = page(Some(5), None, Some(40), None, None).unwrap();
        let c = run(&p, 25, false);
        assert!(c.edges.is_empty());
        assert!(!c.page_info.has_next_page);
    }
}
