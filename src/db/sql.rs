//! One typed SQL fragment: SQL text written by us and the values bound to it, composed by the
//! services and run with diesel-async's `sql_query`. Values are always bound parameters, never
//! spliced into the text, so no setting of the session (`standard_conforming_strings`, …) can
//! change what a value means.
//!
//! A fragment is a list of pieces (text or value); the placeholders `$1…$n` are numbered only when
//! the statement is rendered, so fragments compose without renumbering: [`Fragment::push`] appends
//! one to another, [`Fragment::all`] joins predicates with `AND`. A whole statement runs as a
//! [`Statement`] ([`Fragment::query`], [`Fragment::prepared`]); [`Fragment::render`] gives its text
//! (for tests and logs).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Int4, Jsonb, Nullable, SmallInt, Text, Timestamptz, Untyped,
    Uuid as SqlUuid,
};

/// One bound value, with its SQL type.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// `text`.
    Text(String),
    /// `int4`.
    Int(i32),
    /// `int8`.
    BigInt(i64),
    /// `bool`.
    Bool(bool),
    /// `date`.
    Date(NaiveDate),
    /// `timestamptz`.
    Timestamp(DateTime<Utc>),
    /// `uuid`.
    Uuid(uuid::Uuid),
    /// `int4[]`.
    IntArray(Vec<i32>),
    /// `text[]`.
    TextArray(Vec<String>),
    /// `smallint`.
    SmallInt(i16),
    /// `text` or NULL.
    OptText(Option<String>),
    /// `int4` or NULL.
    OptInt(Option<i32>),
    /// `smallint` or NULL.
    OptSmallInt(Option<i16>),
    /// `bool` or NULL.
    OptBool(Option<bool>),
    /// `date` or NULL.
    OptDate(Option<NaiveDate>),
    /// `jsonb` or NULL.
    Jsonb(Option<serde_json::Value>),
    /// `uuid` or NULL.
    OptUuid(Option<uuid::Uuid>),
    /// `uuid[]`.
    UuidArray(Vec<uuid::Uuid>),
}

impl From<String> for Bind {
    fn from(v: String) -> Self {
        Bind::Text(v)
    }
}
impl From<&str> for Bind {
    fn from(v: &str) -> Self {
        Bind::Text(v.to_string())
    }
}
impl From<i32> for Bind {
    fn from(v: i32) -> Self {
        Bind::Int(v)
    }
}
impl From<i64> for Bind {
    fn from(v: i64) -> Self {
        Bind::BigInt(v)
    }
}
impl From<bool> for Bind {
    fn from(v: bool) -> Self {
        Bind::Bool(v)
    }
}
impl From<NaiveDate> for Bind {
    fn from(v: NaiveDate) -> Self {
        Bind::Date(v)
    }
}
impl From<DateTime<Utc>> for Bind {
    fn from(v: DateTime<Utc>) -> Self {
        Bind::Timestamp(v)
    }
}
impl From<uuid::Uuid> for Bind {
    fn from(v: uuid::Uuid) -> Self {
        Bind::Uuid(v)
    }
}
impl From<Vec<i32>> for Bind {
    fn from(v: Vec<i32>) -> Self {
        Bind::IntArray(v)
    }
}
impl From<&[i32]> for Bind {
    fn from(v: &[i32]) -> Self {
        Bind::IntArray(v.to_vec())
    }
}
impl From<i16> for Bind {
    fn from(v: i16) -> Self {
        Bind::SmallInt(v)
    }
}
impl From<Option<String>> for Bind {
    fn from(v: Option<String>) -> Self {
        Bind::OptText(v)
    }
}
impl From<Option<&str>> for Bind {
    fn from(v: Option<&str>) -> Self {
        Bind::OptText(v.map(str::to_string))
    }
}
impl From<Option<i32>> for Bind {
    fn from(v: Option<i32>) -> Self {
        Bind::OptInt(v)
    }
}
impl From<Option<i16>> for Bind {
    fn from(v: Option<i16>) -> Self {
        Bind::OptSmallInt(v)
    }
}
impl From<Option<bool>> for Bind {
    fn from(v: Option<bool>) -> Self {
        Bind::OptBool(v)
    }
}
impl From<Option<NaiveDate>> for Bind {
    fn from(v: Option<NaiveDate>) -> Self {
        Bind::OptDate(v)
    }
}
impl From<Vec<String>> for Bind {
    fn from(v: Vec<String>) -> Self {
        Bind::TextArray(v)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Sql(String),
    Bind(Bind),
}

/// SQL text with bound values (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fragment {
    pieces: Vec<Piece>,
}

impl Fragment {
    /// An empty fragment.
    pub fn new() -> Self {
        Fragment::default()
    }

    /// A fragment of SQL text. The text is ours (identifiers, keywords, constants), never a
    /// value from outside: those go through [`Fragment::bind`].
    pub fn sql(text: impl AsRef<str>) -> Self {
        Fragment::new().with_sql(text)
    }

    /// A fragment that is one bound value (a placeholder).
    pub fn value(value: impl Into<Bind>) -> Self {
        Fragment::new().bind(value)
    }

    /// This fragment followed by SQL text.
    pub fn with_sql(mut self, text: impl AsRef<str>) -> Self {
        self.push_sql(text);
        self
    }

    /// This fragment followed by a placeholder bound to `value`.
    pub fn bind(mut self, value: impl Into<Bind>) -> Self {
        self.push_bind(value);
        self
    }

    /// This fragment followed by `other`.
    pub fn with(mut self, other: Fragment) -> Self {
        self.push(other);
        self
    }

    /// Appends SQL text (to the text before it, when the last piece is text: one piece per run
    /// of text).
    pub fn push_sql(&mut self, text: impl AsRef<str>) -> &mut Self {
        let text = text.as_ref();
        debug_assert!(!text.contains('\0'), "SQL text holds a NUL");
        if let Some(Piece::Sql(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else if !text.is_empty() {
            self.pieces.push(Piece::Sql(text.to_owned()));
        }
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn push_bind(&mut self, value: impl Into<Bind>) -> &mut Self {
        self.pieces.push(Piece::Bind(value.into()));
        self
    }

    /// Appends another fragment (its values keep their order, after this one's).
    pub fn push(&mut self, other: Fragment) -> &mut Self {
        let mut pieces = other.pieces.into_iter().peekable();
        if let (Some(Piece::Sql(last)), Some(Piece::Sql(first))) =
            (self.pieces.last_mut(), pieces.peek())
        {
            last.push_str(first);
            pieces.next();
        }
        self.pieces.extend(pieces);
        self
    }

    /// The predicates joined with `AND`, each in parentheses; `None` when there are none.
    pub fn all(predicates: impl IntoIterator<Item = Fragment>) -> Option<Fragment> {
        let mut out: Option<Fragment> = None;
        for p in predicates {
            let f = out.get_or_insert_with(Fragment::new);
            if !f.pieces.is_empty() {
                f.push_sql(" AND ");
            }
            f.push_sql("(").push(p).push_sql(")");
        }
        out
    }

    /// `" WHERE …"` for these predicates joined with `AND`, or nothing.
    pub fn where_clause(predicates: impl IntoIterator<Item = Fragment>) -> Fragment {
        match Fragment::all(predicates) {
            Some(p) => Fragment::sql(" WHERE ").with(p),
            None => Fragment::new(),
        }
    }

    /// Whether the fragment holds nothing.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// How many values are bound.
    pub fn bind_count(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Bind(_)))
            .count()
    }

    /// The bound values, in placeholder order.
    pub fn binds(&self) -> impl Iterator<Item = &Bind> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Bind(b) => Some(b),
            Piece::Sql(_) => None,
        })
    }

    /// The SQL text with placeholders numbered from `$first`.
    pub fn render(&self, first: usize) -> String {
        let mut out = String::new();
        let mut n = first;
        for p in &self.pieces {
            match p {
                Piece::Sql(s) => out.push_str(s),
                Piece::Bind(_) => {
                    use std::fmt::Write as _;
                    let _ = write!(out, "${n}");
                    n += 1;
                }
            }
        }
        out
    }

    /// Appends ` LIMIT $n OFFSET $m` with `limit` (negative: 0) and `offset` bound as int4
    /// (values beyond int4 are clamped).
    pub fn limit_offset(self, limit: i64, offset: i64) -> Self {
        self.with_sql(" LIMIT ")
            .bind(i32::try_from(limit.max(0)).unwrap_or(i32::MAX))
            .with_sql(" OFFSET ")
            .bind(i32::try_from(offset).unwrap_or(i32::MAX))
    }

    /// The whole statement, numbered from `$1`, with its values bound, to load or execute
    /// (parsed and planned by PostgreSQL each time).
    pub fn query(&self) -> Statement<'_> {
        Statement {
            fragment: self,
            cache: false,
        }
    }

    /// [`Self::query`], prepared once per connection and reused (`db::prepared`). Only for
    /// statements of a few fixed shapes (the text never depends on how many values a caller
    /// sends): every distinct text stays prepared on each connection.
    pub fn prepared(&self) -> Statement<'_> {
        Statement {
            fragment: self,
            cache: true,
        }
    }
}

/// A fragment run as a whole statement ([`Fragment::query`], [`Fragment::prepared`]): diesel
/// reads its text and values from the fragment itself — no copy of a value, no boxed bind, no
/// text rendered first (PostgreSQL's `$n` are numbered by diesel as the values are passed).
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    fragment: &'a Fragment,
    /// Whether the statement may be prepared once per connection and reused (the text is of a
    /// fixed shape; see `db::prepared`).
    cache: bool,
}

impl QueryFragment<Pg> for Statement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.fragment.pieces {
            match piece {
                Piece::Sql(s) => out.push_sql(s),
                Piece::Bind(b) => push_bind(&mut out, b)?,
            }
        }
        Ok(())
    }
}

/// One value as a placeholder of its SQL type.
fn push_bind<'b>(out: &mut AstPass<'_, 'b, Pg>, b: &'b Bind) -> QueryResult<()> {
    match b {
        Bind::Text(v) => out.push_bind_param::<Text, _>(v),
        Bind::Int(v) => out.push_bind_param::<Int4, _>(v),
        Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
        Bind::Bool(v) => out.push_bind_param::<Bool, _>(v),
        Bind::Date(v) => out.push_bind_param::<Date, _>(v),
        Bind::Timestamp(v) => out.push_bind_param::<Timestamptz, _>(v),
        Bind::Uuid(v) => out.push_bind_param::<SqlUuid, _>(v),
        Bind::IntArray(v) => out.push_bind_param::<Array<Int4>, _>(v),
        Bind::TextArray(v) => out.push_bind_param::<Array<Text>, _>(v),
        Bind::SmallInt(v) => out.push_bind_param::<SmallInt, _>(v),
        Bind::OptText(v) => out.push_bind_param::<Nullable<Text>, _>(v),
        Bind::OptInt(v) => out.push_bind_param::<Nullable<Int4>, _>(v),
        Bind::OptSmallInt(v) => out.push_bind_param::<Nullable<SmallInt>, _>(v),
        Bind::OptBool(v) => out.push_bind_param::<Nullable<Bool>, _>(v),
        Bind::OptDate(v) => out.push_bind_param::<Nullable<Date>, _>(v),
        Bind::Jsonb(v) => out.push_bind_param::<Nullable<Jsonb>, _>(v),
        Bind::OptUuid(v) => out.push_bind_param::<Nullable<SqlUuid>, _>(v),
        Bind::UuidArray(v) => out.push_bind_param::<Array<SqlUuid>, _>(v),
    }
}

impl QueryId for Statement<'_> {
    // No static id: a prepared statement is keyed by its text and bind types.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement<'_> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_when_rendered() {
        let a = Fragment::sql("a = ").bind(1);
        let b = Fragment::sql("b = ")
            .bind("x")
            .with_sql(" OR c = ")
            .bind(true);
        let all = Fragment::all([a, b]).unwrap();
        assert_eq!(all.render(1), "(a = $1) AND (b = $2 OR c = $3)");
        assert_eq!(all.render(8), "(a = $8) AND (b = $9 OR c = $10)");
        assert_eq!(
            all.binds().cloned().collect::<Vec<_>>(),
            vec![Bind::Int(1), Bind::Text("x".into()), Bind::Bool(true)]
        );
        assert!(Fragment::all(Vec::new()).is_none());
        assert!(Fragment::where_clause(Vec::new()).is_empty());
    }

    #[test]
    fn values_never_reach_the_text() {
        let f = Fragment::sql("x = ").bind("'; DROP TABLE t; --\\");
        assert_eq!(f.render(1), "x = $1");
        assert_eq!(f.bind_count(), 1);
    }
}
