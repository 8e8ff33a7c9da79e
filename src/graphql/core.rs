//! Core queries: `languages`.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::context;
use crate::languages::{self, Language};

/// A language of `tblLanguages` (openIMIS's `LanguageGQLType`).
#[derive(SimpleObject)]
#[graphql(name = "LanguageGQLType")]
pub struct LanguageGql {
    /// Language code, e.g. `en`.
    code: String,
    /// Language name.
    name: String,
    /// Sort order.
    sort_order: Option<i32>,
}

impl From<Language> for LanguageGql {
    fn from(l: Language) -> Self {
        LanguageGql {
            code: l.code,
            name: l.name,
            sort_order: l.sort_order,
        }
    }
}

/// Core queries.
#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// The languages, ordered by sort order (NULLs last), then code. Open, as in openIMIS 1.5.0.
    async fn languages(&self, ctx: &Context<'_>) -> Result<Option<Vec<Option<LanguageGql>>>> {
        // A bad token is still refused (HTTP 401), as for every other query.
        context::identity(ctx)?;
        let mut conn = context::conn(ctx).await?;
        let rows = languages::list(&mut conn)
            .await
            .map_err(|e| context::user_error(&e))?;
        Ok(Some(rows.into_iter().map(|l| Some(l.into())).collect()))
    }
}
