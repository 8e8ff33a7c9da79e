//! The locations a user may see (openIMIS's `locations` and `locationsStr` lists, which the
//! family form's location pickers and the report's area pickers use) and the user's districts
//! (`userDistricts`). The district scope is [`Scope::locations`]: administrators see every
//! location, anyone else their districts, what lies below them, and a region only when every
//! district of it is theirs (DECISIONS 10, 44); an anonymous caller is refused before this module.

use diesel::QueryableByName;
use diesel::sql_types::{Int4, Nullable, Varchar};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::filter::{QueryError, like_pattern};
use super::scope::Scope;
use crate::db::sql::Fragment;
use crate::paging::{Page, Window, order_terms};

fn bad(argument: impl Into<String>, message: impl Into<String>) -> QueryError {
    QueryError::BadArgument {
        argument: argument.into(),
        message: message.into(),
    }
}

/// How a text argument compares (`code`, `code_Istartswith`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextLookup {
    /// Equal.
    Exact,
    /// Equal, ignoring case.
    Iexact,
    /// Starts with, ignoring case.
    Istartswith,
    /// Contains, ignoring case.
    Icontains,
    /// Not equal.
    Ne,
}

impl TextLookup {
    fn predicate(self, column: &str, value: &str) -> Fragment {
        match self {
            TextLookup::Exact => Fragment::sql(format!("{column} = ")).bind(value),
            TextLookup::Iexact => Fragment::sql(format!("upper({column}) = upper("))
                .bind(value)
                .with_sql(")"),
            TextLookup::Istartswith => {
                Fragment::sql(format!("{column} ILIKE ")).bind(like_pattern(value, true))
            }
            TextLookup::Icontains => {
                Fragment::sql(format!("{column} ILIKE ")).bind(like_pattern(value, false))
            }
            TextLookup::Ne => Fragment::sql(format!("{column} IS DISTINCT FROM ")).bind(value),
        }
    }
}

/// The filter arguments of `locations` / `locationsStr` (openIMIS's `LocationGQLType` filter
/// fields).
#[derive(Debug, Clone, Default)]
pub struct LocationFilter {
    /// `id` (the `LocationId`).
    pub id: Option<i32>,
    /// `uuid`.
    pub uuid: Option<String>,
    /// `code`, `code_Iexact`, … .
    pub code: Vec<(TextLookup, String)>,
    /// `name`, `name_Iexact`, … .
    pub name: Vec<(TextLookup, String)>,
    /// `type`: `R`, `D`, `W` or `V`.
    pub location_type: Option<String>,
    /// `parent_Uuid` (level 1), `parent_Parent_Uuid` (2), `parent_Parent_Parent_Uuid` (3), and
    /// their `_In` forms: the ancestor `levels` up has one of these UUIDs.
    pub ancestor_uuids: Vec<(u8, Vec<String>)>,
    /// `parent_Id` / `parent_Id_In`.
    pub parent_ids: Option<Vec<i32>>,
    /// `str` (`locationsStr`): code or name contains it, ignoring case.
    pub search: Option<String>,
    /// `orderBy` entries (`code`, `-name`, …).
    pub order_by: Vec<String>,
}

impl LocationFilter {
    fn predicates(&self) -> Vec<Fragment> {
        let mut preds = vec![Fragment::sql("l.\"ValidityTo\" IS NULL")];
        if let Some(id) = self.id {
            preds.push(Fragment::sql("l.\"LocationId\" = ").bind(id));
        }
        if let Some(u) = &self.uuid {
            preds.push(
                Fragment::sql("lower(l.\"LocationUUID\") = lower(")
                    .bind(u.as_str())
                    .with_sql(")"),
            );
        }
        for (lookup, v) in &self.code {
            preds.push(lookup.predicate("l.\"LocationCode\"", v));
        }
        for (lookup, v) in &self.name {
            preds.push(lookup.predicate("l.\"LocationName\"", v));
        }
        if let Some(t) = &self.location_type {
            preds.push(Fragment::sql("l.\"LocationType\" = ").bind(t.as_str()));
        }
        for (levels, uuids) in &self.ancestor_uuids {
            let lower: Vec<String> = uuids.iter().map(|u| u.to_lowercase()).collect();
            let mut inner = Fragment::sql(
                "SELECT \"LocationId\" FROM \"tblLocations\" WHERE lower(\"LocationUUID\") = ANY(",
            )
            .bind(lower)
            .with_sql(")");
            for _ in 1..*levels {
                inner = Fragment::sql(
                    "SELECT \"LocationId\" FROM \"tblLocations\" WHERE \"ParentLocationId\" IN (",
                )
                .with(inner)
                .with_sql(")");
            }
            preds.push(
                Fragment::sql("l.\"ParentLocationId\" IN (")
                    .with(inner)
                    .with_sql(")"),
            );
        }
        if let Some(ids) = &self.parent_ids {
            preds.push(
                Fragment::sql("l.\"ParentLocationId\" = ANY(")
                    .bind(ids.as_slice())
                    .with_sql(")"),
            );
        }
        if let Some(s) = &self.search {
            let p = like_pattern(s, false);
            preds.push(
                Fragment::sql("(l.\"LocationCode\" ILIKE ")
                    .bind(p.as_str())
                    .with_sql(" OR l.\"LocationName\" ILIKE ")
                    .bind(p)
                    .with_sql(")"),
            );
        }
        preds
    }
}

/// ORDER BY for `orderBy` (openIMIS's field names, camelCase or snake_case, `-` descending).
fn order_clause(order_by: &[String]) -> Result<String, QueryError> {
    let terms = order_terms(order_by, |name| {
        Some(match name {
            "id" => "l.\"LocationId\"",
            "uuid" => "l.\"LocationUUID\"",
            "code" => "l.\"LocationCode\"",
            "name" => "l.\"LocationName\"",
            "type" => "l.\"LocationType\"",
            "validity_from" => "l.\"ValidityFrom\"",
            _ => return None,
        })
    })
    .map_err(|item| bad("orderBy", format!("cannot order locations by {item:?}")))?;
    let mut parts: Vec<String> = terms.into_iter().map(|(_, t)| t).collect();
    parts.push("l.\"LocationId\"".into());
    Ok(parts.join(", "))
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Int4)]
    id: i32,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The ids of the current locations of the page the user may see, in order (their rows, with
/// ancestors, come from `query::locations_with_ancestors`).
pub async fn locations(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    filter: &LocationFilter,
    window: Window,
) -> Result<Page<i32>, QueryError> {
    let order = order_clause(&filter.order_by)?;
    let mut preds = filter.predicates();
    preds.extend(scope.locations("l"));
    let where_clause = Fragment::where_clause(preds);
    let total = if window.with_total {
        let row: CountRow = Fragment::sql("SELECT count(*) AS n FROM \"tblLocations\" l")
            .with(where_clause.clone())
            .query()
            .get_result(conn)
            .await?;
        Some(row.n)
    } else {
        None
    };
    let rows: Vec<IdRow> = Fragment::sql("SELECT l.\"LocationId\" AS id FROM \"tblLocations\" l")
        .with(where_clause)
        .with_sql(format!(" ORDER BY {order}"))
        .limit_offset(window.limit, window.offset)
        .query()
        .load(conn)
        .await?;
    Ok(Page {
        rows: rows.into_iter().map(|r| r.id).collect(),
        total,
    })
}

/// One of the user's districts with its region (`userDistricts`).
#[derive(Debug, Clone, QueryableByName)]
pub struct UserDistrict {
    #[diesel(sql_type = Int4)]
    pub id: i32,
    #[diesel(sql_type = Varchar)]
    pub uuid: String,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub code: Option<String>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub region_id: Option<i32>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub region_uuid: Option<String>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub region_code: Option<String>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub region_name: Option<String>,
}

/// The districts a user works in, ordered by code: every current
/// district for an administrator, else those of the user's current `tblUsersDistricts` rows.
pub async fn user_districts(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
) -> Result<Vec<UserDistrict>, diesel::result::Error> {
    let mut preds = vec![
        Fragment::sql("d.\"ValidityTo\" IS NULL"),
        Fragment::sql("d.\"LocationType\" = 'D'"),
    ];
    preds.extend(scope.district(Fragment::sql("d.\"LocationId\"")));
    Fragment::sql(
        "SELECT d.\"LocationId\" AS id, d.\"LocationUUID\" AS uuid, d.\"LocationCode\" AS code, \
         d.\"LocationName\" AS name, r.\"LocationId\" AS region_id, r.\"LocationUUID\" AS region_uuid, \
         r.\"LocationCode\" AS region_code, r.\"LocationName\" AS region_name \
         FROM \"tblLocations\" d LEFT JOIN \"tblLocations\" r ON r.\"LocationId\" = d.\"ParentLocationId\"",
    )
    .with(Fragment::where_clause(preds))
    .with_sql(" ORDER BY d.\"LocationCode\", d.\"LocationId\"")
    .query()
    .load(conn)
    .await
}
