//! The families query (openIMIS `families`) and `familyNotification` (docs/compatibility.md,
//! "Families, notification preferences and the mutation log"): every filter
//! argument becomes a predicate of ONE parameterised SQL statement (values are always bound,
//! never spliced), the user's district scope is applied (DECISIONS 10), and the related data of a
//! page is loaded in batches by ids, so a page costs a bounded number of statements.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Nullable, Timestamptz, Varchar};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use serde_json::Value;

use crate::db::schema::{tbl_families, tbl_family_sms, tbl_insuree};
use crate::db::sql::{Fragment, Statement};
use crate::families::Scope;
pub use crate::families::filter::{ArgValue, FamilyFilter, QueryError, notification_mode};
use crate::families::state::{STATE_ORDER, StateShape};
use crate::paging::{Page, Window, order_terms};

fn bad(argument: impl Into<String>, message: impl Into<String>) -> QueryError {
    QueryError::BadArgument {
        argument: argument.into(),
        message: message.into(),
    }
}

/// Right to search and view families (and their notification settings).
pub const RIGHT_QUERY: i32 = 101001;

/// ORDER BY expressions for `orderBy`, and whether the head / location must be joined.
fn order_clause(order_by: &[String]) -> Result<(String, bool, bool), QueryError> {
    let terms = order_terms(order_by, |name| {
        Some(match name {
            "id" => "f.\"FamilyID\"",
            "uuid" => "f.\"FamilyUUID\"",
            "validity_from" => "f.\"ValidityFrom\"",
            "validity_to" => "f.\"ValidityTo\"",
            "confirmation_no" => "f.\"ConfirmationNo\"",
            "poverty" => "f.\"Poverty\"",
            "address" => "f.\"FamilyAddress\"",
            "head_insuree__chf_id" => "h.\"CHFID\"",
            "head_insuree__last_name" => "h.\"LastName\"",
            "head_insuree__other_names" => "h.\"OtherNames\"",
            "head_insuree__email" => "h.\"Email\"",
            "head_insuree__phone" => "h.\"Phone\"",
            "head_insuree__dob" => "h.\"DOB\"",
            "location__code" => "l.\"LocationCode\"",
            "location__name" => "l.\"LocationName\"",
            _ => return None,
        })
    })
    .map_err(|item| bad("orderBy", format!("cannot order families by {item:?}")))?;
    let head = terms.iter().any(|(c, _)| c.starts_with("h."));
    let loc = terms.iter().any(|(c, _)| c.starts_with("l."));
    let mut parts: Vec<String> = terms.into_iter().map(|(_, t)| t).collect();
    parts.push("f.\"FamilyID\" DESC".into());
    Ok((parts.join(", "), head, loc))
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

/// A `tblFamilies` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tbl_families)]
pub struct FamilyRow {
    pub family_id: i32,
    pub family_uuid: String,
    pub insuree_id: i32,
    pub location_id: Option<i32>,
    pub poverty: Option<bool>,
    pub family_type: Option<String>,
    pub family_address: Option<String>,
    pub is_offline: Option<bool>,
    pub ethnicity: Option<String>,
    pub confirmation_no: Option<String>,
    pub confirmation_type: Option<String>,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
    pub legacy_id: Option<i32>,
    pub audit_user_id: i32,
    pub json_ext: Option<Value>,
}

/// The families page the user may see. The common shapes (a mode, the district scope,
/// `parentLocation` at region or district level, nothing else) are answered from the state the
/// database maintains (DECISIONS 38, [`crate::families::state`]): the exact total and the page's
/// ids in one prepared statement. Every other filter: the exact count (when asked), then the
/// page's ids. Then the family rows of the page, in one statement.
pub async fn families(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    filter: &FamilyFilter,
    window: Window,
) -> Result<Page<FamilyRow>, QueryError> {
    let mut preds = filter.predicates()?;
    preds.extend(scope.families("f"));
    let (order, head, loc) = order_clause(&filter.order_by)?;
    let ordered = order == STATE_ORDER;
    // the state answers the total, and the page in its own order; nothing to ask it otherwise
    let shape = match StateShape::of(filter, scope)? {
        Some(shape) if ordered || window.with_total => Some(shape),
        _ => None,
    };
    let (total, ids) = match shape {
        Some(shape) => {
            let (total, ids) = shape.run(conn, window, ordered).await?;
            if ordered {
                (total, ids)
            } else {
                let w = Window {
                    with_total: false,
                    ..window
                };
                (total, page_ids(conn, preds, &order, head, loc, w).await?)
            }
        }
        None => {
            let total = if window.with_total {
                let q = Fragment::sql("SELECT count(*) AS n FROM \"tblFamilies\" f")
                    .with(Fragment::where_clause(preds.clone()));
                Some(count_serially(conn, q.query()).await?)
            } else {
                None
            };
            (
                total,
                page_ids(conn, preds, &order, head, loc, window).await?,
            )
        }
    };
    let rows = families_by_ids(conn, &ids).await?;
    Ok(Page { rows, total })
}

/// The ids of the page (the exact query: every predicate over `tblFamilies`).
async fn page_ids(
    conn: &mut AsyncPgConnection,
    preds: Vec<Fragment>,
    order: &str,
    head: bool,
    loc: bool,
    window: Window,
) -> Result<Vec<i32>, QueryError> {
    if window.limit <= 0 {
        return Ok(Vec::new());
    }
    let mut from = "\"tblFamilies\" f".to_string();
    if head {
        from.push_str(" LEFT JOIN \"tblInsuree\" h ON h.\"InsureeID\" = f.\"InsureeID\"");
    }
    if loc {
        from.push_str(" LEFT JOIN \"tblLocations\" l ON l.\"LocationId\" = f.\"LocationId\"");
    }
    let ids: Vec<IdRow> = Fragment::sql(format!("SELECT f.\"FamilyID\" AS id FROM {from}"))
        .with(Fragment::where_clause(preds))
        .with_sql(format!(" ORDER BY {order}"))
        .limit_offset(window.limit, window.offset)
        .query()
        .load(conn)
        .await?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

/// Runs a `SELECT count(*) AS n` without parallel workers, in a transaction of its own.
///
/// A count visits every matching family. With the rule indexes (`pn_families_current`,
/// `pn_family_sms_approved_current`, `pn_insuree_family_phone_current`) its cheapest plan is a
/// merge of index-only scans, but the planner prefers a parallel hash plan that costs several times
/// the CPU: at 32 concurrent clients on 100,000 families the page's statements ran at ~15 instead
/// of ~45 per second (pgbench, bench/pgbench/families_page.sql). `SET LOCAL` lasts until the end
/// of this transaction only; every other statement keeps the server's settings. `BEGIN` and
/// `SET LOCAL` go in one round trip, so `conn` must not be in a transaction already.
async fn count_serially(
    conn: &mut AsyncPgConnection,
    query: Statement<'_>,
) -> Result<i64, QueryError> {
    AnsiTransactionManager::begin_transaction_sql(
        conn,
        "BEGIN; SET LOCAL max_parallel_workers_per_gather = 0",
    )
    .await?;
    match query.get_result::<CountRow>(conn).await {
        Ok(row) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(row.n)
        }
        Err(e) => {
            // The query's error is the one to report; a failed rollback marks the connection
            // broken, so the pool does not hand it out again.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(e.into())
        }
    }
}

/// Families by ids, in the order of `ids` (missing ones skipped).
pub async fn families_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<FamilyRow>, diesel::result::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<FamilyRow> = tbl_families::table
        .filter(tbl_families::family_id.eq_any(ids))
        .select(FamilyRow::as_select())
        .load(conn)
        .await?;
    let pos = |id: i32| ids.iter().position(|x| *x == id).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| pos(r.family_id));
    Ok(rows)
}

/// A `tblInsuree` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tbl_insuree)]
pub struct InsureeRow {
    pub insuree_id: i32,
    pub insuree_uuid: String,
    pub family_id: Option<i32>,
    pub chf_id: Option<String>,
    pub last_name: String,
    pub other_names: String,
    pub dob: Option<NaiveDate>,
    pub gender: Option<String>,
    pub marital: Option<String>,
    pub is_head: bool,
    pub passport: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub current_address: Option<String>,
    pub geo_location: Option<String>,
    pub current_village: Option<i32>,
    pub photo_date: Option<NaiveDate>,
    pub card_issued: bool,
    pub relationship: Option<i16>,
    pub profession: Option<i16>,
    pub education: Option<i16>,
    pub type_of_id: Option<String>,
    pub hf_id: Option<i32>,
    pub is_offline: Option<bool>,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
    pub legacy_id: Option<i32>,
    pub audit_user_id: i32,
    pub json_ext: Option<Value>,
    pub status: Option<String>,
    pub status_date: Option<NaiveDate>,
}

/// Insurees by ids, in one statement.
pub async fn insurees_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<InsureeRow>, diesel::result::Error> {
    tbl_insuree::table
        .filter(tbl_insuree::insuree_id.eq_any(ids))
        .select(InsureeRow::as_select())
        .load(conn)
        .await
}

/// ORDER BY for `familyMembers`' `orderBy` (the columns of the frontend's member table).
fn member_order(order_by: &[String]) -> Result<String, QueryError> {
    let terms = order_terms(order_by, |name| {
        Some(match name {
            "id" => "i.\"InsureeID\"",
            "uuid" => "i.\"InsureeUUID\"",
            "chf_id" => "i.\"CHFID\"",
            "last_name" => "i.\"LastName\"",
            "other_names" => "i.\"OtherNames\"",
            "gender" | "gender__code" => "i.\"Gender\"",
            "dob" => "i.\"DOB\"",
            "card_issued" => "i.\"CardIssued\"",
            "head" => "i.\"IsHead\"",
            "phone" => "i.\"Phone\"",
            _ => return None,
        })
    })
    .map_err(|item| {
        bad(
            "orderBy",
            format!("cannot order family members by {item:?}"),
        )
    })?;
    let mut parts: Vec<String> = terms.into_iter().map(|(_, t)| t).collect();
    // openIMIS's own order comes after the asked one: the head first, then by date of birth.
    parts.push("i.\"IsHead\" DESC, i.\"DOB\" ASC NULLS LAST, i.\"InsureeID\"".into());
    Ok(parts.join(", "))
}

/// The current members of the current family `family_uuid`, when the user may see that family
/// (else none: a family outside the scope looks like a missing one).
pub async fn family_members(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    family_uuid: &str,
    order_by: &[String],
    window: Window,
) -> Result<Page<InsureeRow>, QueryError> {
    let order = member_order(order_by)?;
    let mut preds = vec![
        Fragment::sql("lower(f.\"FamilyUUID\") = lower(")
            .bind(family_uuid)
            .with_sql(")"),
        Fragment::sql("f.\"ValidityTo\" IS NULL AND i.\"ValidityTo\" IS NULL"),
    ];
    preds.extend(scope.families("f"));
    let from = "\"tblInsuree\" i JOIN \"tblFamilies\" f ON f.\"FamilyID\" = i.\"FamilyID\"";
    let where_clause = Fragment::where_clause(preds);
    let total = if window.with_total {
        let row: CountRow = Fragment::sql(format!("SELECT count(*) AS n FROM {from}"))
            .with(where_clause.clone())
            .query()
            .get_result(conn)
            .await?;
        Some(row.n)
    } else {
        None
    };
    let ids: Vec<IdRow> = Fragment::sql(format!("SELECT i.\"InsureeID\" AS id FROM {from}"))
        .with(where_clause)
        .with_sql(format!(" ORDER BY {order}"))
        .limit_offset(window.limit, window.offset)
        .query()
        .load(conn)
        .await?;
    let ids: Vec<i32> = ids.into_iter().map(|r| r.id).collect();
    let mut rows = insurees_by_ids(conn, &ids).await?;
    let pos = |id: i32| ids.iter().position(|x| *x == id).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| pos(r.insuree_id));
    Ok(Page { rows, total })
}

/// A `tblLocations` row.
#[derive(Debug, Clone, QueryableByName)]
pub struct LocationRow {
    #[diesel(sql_type = Int4)]
    pub location_id: i32,
    #[diesel(sql_type = Varchar)]
    pub location_uuid: String,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub location_code: Option<String>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub location_name: Option<String>,
    #[diesel(sql_type = Varchar)]
    pub location_type: String,
    #[diesel(sql_type = Nullable<Int4>)]
    pub parent_location_id: Option<i32>,
    #[diesel(sql_type = Timestamptz)]
    pub validity_from: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub validity_to: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub legacy_id: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub male_population: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub female_population: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub other_population: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub families: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub audit_user_id: Option<i32>,
}

/// Locations by ids together with all their ancestors (up to the region), in one statement.
pub async fn locations_with_ancestors(
    conn: &mut AsyncPgConnection,
    ids: &[i32],
) -> Result<Vec<LocationRow>, diesel::result::Error> {
    // Named columns (not `*`): the statement is prepared once per connection, and a column
    // openIMIS adds later must not change what it returns.
    crate::db::prepared::cached(diesel::sql_query(
        "WITH RECURSIVE chain AS ( \
           SELECT l.\"LocationId\", l.\"LocationUUID\", l.\"LocationCode\", l.\"LocationName\", \
             l.\"LocationType\", l.\"ParentLocationId\", l.\"ValidityFrom\", l.\"ValidityTo\", l.\"LegacyID\", \
             l.\"MalePopulation\", l.\"FemalePopulation\", l.\"OtherPopulation\", l.\"Families\", l.\"AuditUserId\" \
           FROM \"tblLocations\" l WHERE l.\"LocationId\" = ANY($1) \
           UNION \
           SELECT p.\"LocationId\", p.\"LocationUUID\", p.\"LocationCode\", p.\"LocationName\", \
             p.\"LocationType\", p.\"ParentLocationId\", p.\"ValidityFrom\", p.\"ValidityTo\", p.\"LegacyID\", \
             p.\"MalePopulation\", p.\"FemalePopulation\", p.\"OtherPopulation\", p.\"Families\", p.\"AuditUserId\" \
           FROM \"tblLocations\" p JOIN chain c ON p.\"LocationId\" = c.\"ParentLocationId\" \
         ) SELECT \"LocationId\" AS location_id, \"LocationUUID\" AS location_uuid, \
           \"LocationCode\" AS location_code, \"LocationName\" AS location_name, \
           \"LocationType\" AS location_type, \"ParentLocationId\" AS parent_location_id, \
           \"ValidityFrom\" AS validity_from, \"ValidityTo\" AS validity_to, \"LegacyID\" AS legacy_id, \
           \"MalePopulation\" AS male_population, \"FemalePopulation\" AS female_population, \
           \"OtherPopulation\" AS other_population, \"Families\" AS families, \"AuditUserId\" AS audit_user_id \
         FROM chain",
    )
    .bind::<Array<Int4>, _>(ids))
    .load(conn)
    .await
}

/// A `tblFamilySMS` row.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = tbl_family_sms)]
pub struct FamilyNotificationRow {
    pub family_id: i32,
    pub approval_of_sms: bool,
    pub language_of_sms: String,
    pub validity_from: DateTime<Utc>,
    pub validity_to: Option<DateTime<Utc>>,
}

/// Notification rows of these families, in one statement.
pub async fn notifications_by_family(
    conn: &mut AsyncPgConnection,
    family_ids: &[i32],
) -> Result<Vec<FamilyNotificationRow>, diesel::result::Error> {
    tbl_family_sms::table
        .filter(tbl_family_sms::family_id.eq_any(family_ids))
        .select(FamilyNotificationRow::as_select())
        .load(conn)
        .await
}

/// A reference list entry (gender, family type, confirmation type, relation, profession,
/// education, identification type); `code` is the key as text (the numeric id of the id-keyed
/// lists).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CodeRow {
    #[diesel(sql_type = Varchar)]
    pub code: String,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub sort_order: Option<i32>,
    #[diesel(sql_type = Nullable<Varchar>)]
    pub alt_language: Option<String>,
}

/// Which reference list of the family form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeList {
    /// `tblFamilyTypes`.
    FamilyType,
    /// `tblConfirmationTypes`.
    ConfirmationType,
    /// `tblGender`.
    Gender,
    /// `tblRelations` (keyed by id).
    Relation,
    /// `tblProfessions` (keyed by id).
    Profession,
    /// `tblEducations` (keyed by id).
    Education,
    /// `tblIdentificationTypes`.
    IdentificationType,
}

impl CodeList {
    /// Every list.
    pub const ALL: [CodeList; 7] = [
        CodeList::FamilyType,
        CodeList::ConfirmationType,
        CodeList::Gender,
        CodeList::Relation,
        CodeList::Profession,
        CodeList::Education,
        CodeList::IdentificationType,
    ];

    /// (table, key column, name column).
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            CodeList::FamilyType => ("tblFamilyTypes", "FamilyTypeCode", "FamilyType"),
            CodeList::ConfirmationType => (
                "tblConfirmationTypes",
                "ConfirmationTypeCode",
                "ConfirmationType",
            ),
            CodeList::Gender => ("tblGender", "Code", "Gender"),
            CodeList::Relation => ("tblRelations", "RelationId", "Relation"),
            CodeList::Profession => ("tblProfessions", "ProfessionId", "Profession"),
            CodeList::Education => ("tblEducations", "EducationId", "Education"),
            CodeList::IdentificationType => (
                "tblIdentificationTypes",
                "IdentificationCode",
                "IdentificationTypes",
            ),
        }
    }

    fn select(self) -> Fragment {
        let (table, key, name) = self.columns();
        Fragment::sql(format!(
            "SELECT \"{key}\"::varchar AS code, \"{name}\"::varchar AS name, \"SortOrder\" AS sort_order, \
             \"AltLanguage\"::varchar AS alt_language FROM \"{table}\""
        ))
    }
}

/// Entries of a reference list by codes (ids as text for the id-keyed lists), in one statement.
pub async fn codes(
    conn: &mut AsyncPgConnection,
    list: CodeList,
    codes: &[String],
) -> Result<Vec<CodeRow>, diesel::result::Error> {
    let (_, key, _) = list.columns();
    list.select()
        .with_sql(format!(" WHERE \"{key}\"::varchar = ANY("))
        .bind(codes.to_vec())
        .with_sql(")")
        .query()
        .load(conn)
        .await
}

/// A whole reference list, in openIMIS's order: by sort order (NULLs last), then key.
pub async fn code_list(
    conn: &mut AsyncPgConnection,
    list: CodeList,
) -> Result<Vec<CodeRow>, diesel::result::Error> {
    let (_, key, _) = list.columns();
    list.select()
        .with_sql(format!(" ORDER BY \"SortOrder\" NULLS LAST, \"{key}\""))
        .query()
        .load(conn)
        .await
}

/// The `familyNotification` filters.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// `family_Uuid`.
    pub family_uuid: Option<String>,
    /// `approvalOfNotification`.
    pub approval: Option<bool>,
    /// `languageOfNotification`.
    pub language: Option<String>,
    /// `showHistory`: also the end-dated rows (history, deleted families); without it only the
    /// current rows of current families.
    pub show_history: bool,
}

/// The `familyNotification` page the user may see (DECISIONS 9), ordered by family.
pub async fn family_notifications(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    filter: &NotificationFilter,
    window: Window,
) -> Result<Page<FamilyNotificationRow>, QueryError> {
    let mut preds: Vec<Fragment> = scope.families("f").into_iter().collect();
    if !filter.show_history {
        preds.push(Fragment::sql(
            "s.\"ValidityTo\" IS NULL AND f.\"ValidityTo\" IS NULL",
        ));
    }
    if let Some(u) = &filter.family_uuid {
        preds.push(
            Fragment::sql("lower(f.\"FamilyUUID\") = lower(")
                .bind(u.as_str())
                .with_sql(")"),
        );
    }
    if let Some(a) = filter.approval {
        preds.push(Fragment::sql("s.\"ApprovalOfSMS\" = ").bind(a));
    }
    if let Some(l) = &filter.language {
        preds.push(Fragment::sql("s.\"LanguageOfSMS\" = ").bind(l.as_str()));
    }
    let from = "\"tblFamilySMS\" s JOIN \"tblFamilies\" f ON f.\"FamilyID\" = s.\"FamilyID\"";
    let where_clause = Fragment::where_clause(preds);
    let total = if window.with_total {
        let row: CountRow = Fragment::sql(format!("SELECT count(*) AS n FROM {from}"))
            .with(where_clause.clone())
            .query()
            .get_result(conn)
            .await?;
        Some(row.n)
    } else {
        None
    };
    let rows: Vec<FamilyNotificationRow> = Fragment::sql(format!(
        "SELECT s.\"FamilyID\" AS family_id, s.\"ApprovalOfSMS\" AS approval_of_sms, \
         s.\"LanguageOfSMS\" AS language_of_sms, s.\"ValidityFrom\" AS validity_from, s.\"ValidityTo\" AS validity_to \
         FROM {from}"
    ))
    .with(where_clause)
    .with_sql(" ORDER BY s.\"FamilyID\", s.\"ValidityFrom\" DESC")
    .limit_offset(window.limit, window.offset)
    .query()
    .load(conn)
    .await?;
    Ok(Page { rows, total })
}
