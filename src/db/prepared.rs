//! Prepared-and-cached raw SQL.
//!
//! diesel never caches the prepared statement of `diesel::sql_query` text (it cannot know that
//! the text is not built from data), so every such statement costs PostgreSQL a parse and plan
//! and the connection an extra round trip (prepare, then execute). [`cached`] marks a query whose
//! text is fixed — a constant, or built from a small fixed set of shapes, never from values — as
//! safe to cache: each connection prepares it once and then executes it by name, keyed by its text
//! and bind types.
//!
//! Never wrap text that embeds values (ids, names): every distinct text would stay prepared on
//! every connection for the connection's life.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A query whose statement is prepared once per connection and reused (see the module text).
#[derive(Debug, Clone)]
pub struct Cached<Q>(Q);

/// Marks `query` (raw SQL of a fixed text, with its binds) as safe to prepare and cache.
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    // No static id: the cache is keyed by the SQL text and the bind types.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}
