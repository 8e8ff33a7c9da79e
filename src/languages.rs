//! The languages of `tblLanguages`, in openIMIS's order (DECISIONS 30).

use diesel::sql_types::{Int4, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;

/// One row of `tblLanguages`.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Language {
    /// `LanguageCode`, e.g. `en`.
    #[diesel(sql_type = Text)]
    pub code: String,
    /// `LanguageName`.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `SortOrder`.
    #[diesel(sql_type = Nullable<Int4>)]
    pub sort_order: Option<i32>,
}

/// Every language ordered as openIMIS orders them: by `SortOrder` (PostgreSQL puts NULLs last),
/// then by code so the order is stable.
pub async fn list(conn: &mut AsyncPgConnection) -> Result<Vec<Language>, DbError> {
    Ok(diesel::sql_query(
        r#"SELECT "LanguageCode"::text AS code, "LanguageName"::text AS name, "SortOrder" AS sort_order
           FROM "tblLanguages" ORDER BY "SortOrder" ASC NULLS LAST, "LanguageCode""#,
    )
    .load(conn)
    .await?)
}
