//! The openIMIS mutation log (`core_Mutation_Log`, DECISIONS 8): one row per mutation with its
//! outcome (2 success, 1 error with openIMIS's error JSON), the family links clients poll for, and
//! the `mutationLogs` query.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::db::schema::{core_mutation_log, insuree_family_mutation, tbl_families};
use crate::db::sql::{Bind, Fragment};
use crate::paging::{Page, Window};

/// The `status` of a log row, openIMIS's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum MutationStatus {
    /// Received, not yet finished.
    Received = 0,
    /// Failed (the row's `error` holds openIMIS's error JSON).
    Error = 1,
    /// Succeeded.
    Success = 2,
}

impl MutationStatus {
    /// The stored number.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

/// What the client sent besides the mutation's own input.
#[derive(Debug, Clone, Default)]
pub struct MutationMeta {
    /// The whole input as JSON (snake_case keys, as openIMIS stores it).
    pub json_content: String,
    /// `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// `clientMutationLabel`.
    pub client_mutation_label: Option<String>,
    /// `clientMutationDetails`, stored JSON-encoded.
    pub client_mutation_details: Option<Vec<String>>,
    /// The caller's `core_User` id.
    pub user_id: Option<Uuid>,
}

/// One item of openIMIS's error list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MutationError {
    /// `{"message", "detail"?}`.
    Message {
        /// What failed.
        message: String,
        /// Why.
        detail: Option<String>,
    },
    /// `{"title", "list": [...]}`.
    Group {
        /// What the group is about (e.g. a family uuid).
        title: String,
        /// The messages.
        list: Vec<MutationError>,
    },
}

impl MutationError {
    /// A message with a detail.
    pub fn detailed(message: impl Into<String>, detail: impl Into<String>) -> Self {
        MutationError::Message {
            message: message.into(),
            detail: Some(detail.into()),
        }
    }

    /// A bare message.
    pub fn message(message: impl Into<String>) -> Self {
        MutationError::Message {
            message: message.into(),
            detail: None,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            MutationError::Message { message, detail } => match detail {
                Some(d) => json!({"message": message, "detail": d}),
                None => json!({"message": message}),
            },
            MutationError::Group { title, list } => {
                json!({"title": title, "list": list.iter().map(Self::to_json).collect::<Vec<_>>()})
            }
        }
    }
}

/// The `error` column text for a list of errors: a JSON array, as openIMIS writes it (a single
/// group is stored as its list).
pub fn error_json(errors: &[MutationError]) -> String {
    let items: Vec<serde_json::Value> = match errors {
        [MutationError::Group { list, .. }] => list.iter().map(MutationError::to_json).collect(),
        _ => errors.iter().map(MutationError::to_json).collect(),
    };
    serde_json::Value::Array(items).to_string()
}

fn details_text(meta: &MutationMeta) -> Option<String> {
    meta.client_mutation_details
        .as_ref()
        .map(|d| serde_json::Value::from(d.clone()).to_string())
}

/// The `JsonExt` of every log row this service writes: the follower of openIMIS's mutations
/// (`follower.rs`) skips rows so marked, their hooks ran in their own transaction (DECISIONS 46).
pub fn own_mark() -> serde_json::Value {
    json!({"policy_notification": {"own": true}})
}

/// Widest `clientMutationId` / `clientMutationLabel` (the columns are `varchar(255)`).
pub const MAX_CLIENT_TEXT: usize = 255;

fn cut(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.chars().take(MAX_CLIENT_TEXT).collect())
}

/// When `clientMutationId` or `clientMutationLabel` is wider than its column: the metadata with
/// both cut to [`MAX_CLIENT_TEXT`] characters (so the refusal can be logged) and the detail that
/// names the field.
pub fn over_long(meta: &MutationMeta) -> Option<(MutationMeta, String)> {
    let long = |s: &Option<String>| {
        s.as_ref()
            .is_some_and(|s| s.chars().count() > MAX_CLIENT_TEXT)
    };
    let field = if long(&meta.client_mutation_id) {
        "clientMutationId"
    } else if long(&meta.client_mutation_label) {
        "clientMutationLabel"
    } else {
        return None;
    };
    let cut_meta = MutationMeta {
        client_mutation_id: cut(&meta.client_mutation_id),
        client_mutation_label: cut(&meta.client_mutation_label),
        ..meta.clone()
    };
    Some((
        cut_meta,
        format!("{field}: longer than {MAX_CLIENT_TEXT} characters"),
    ))
}

/// Writes the log row of a mutation refused before it ran (status 1); its id.
pub async fn refuse(
    conn: &mut AsyncPgConnection,
    meta: &MutationMeta,
    errors: &[MutationError],
) -> Result<Uuid, diesel::result::Error> {
    let id = Uuid::new_v4();
    record(conn, id, Utc::now(), meta, Err(errors)).await?;
    Ok(id)
}

/// Writes the log row `id` with its final status.
pub async fn record(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    requested: DateTime<Utc>,
    meta: &MutationMeta,
    outcome: Result<(), &[MutationError]>,
) -> Result<(), diesel::result::Error> {
    let (status, error) = match outcome {
        Ok(()) => (MutationStatus::Success, None),
        Err(errors) => (MutationStatus::Error, Some(error_json(errors))),
    };
    diesel::insert_into(core_mutation_log::table)
        .values((
            core_mutation_log::id.eq(id),
            core_mutation_log::json_content.eq(&meta.json_content),
            core_mutation_log::request_date_time.eq(requested),
            core_mutation_log::client_mutation_id.eq(&meta.client_mutation_id),
            core_mutation_log::client_mutation_label.eq(&meta.client_mutation_label),
            core_mutation_log::client_mutation_details.eq(details_text(meta)),
            core_mutation_log::status.eq(status.code()),
            core_mutation_log::error.eq(error),
            core_mutation_log::user_id.eq(meta.user_id),
            core_mutation_log::json_ext.eq(Some(own_mark())),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The success row of a mutation and its links to families (`insuree_FamilyMutation`) as the
/// data-modifying CTEs `pn_families`, `pn_log` and `pn_link` of a larger statement (a list to
/// follow `WITH `). `families`: an SQL source of the families, with the columns `link` (the new
/// link row's uuid) and `family` (`FamilyID`). Nothing is written when it is empty: createFamily's
/// one statement (docs/decisions.md 50) logs its success only when the family was written.
/// The row carries our own mark ([`own_mark`]), so the follower of openIMIS's mutations skips it.
pub fn success_ctes(
    id: Uuid,
    requested: DateTime<Utc>,
    meta: &MutationMeta,
    families: Fragment,
) -> Fragment {
    Fragment::sql("pn_families AS MATERIALIZED (SELECT link, family FROM ")
        .with(families)
        .with_sql(
            "), pn_log AS (INSERT INTO \"core_Mutation_Log\" (id, json_content, request_date_time, \
             client_mutation_id, client_mutation_label, client_mutation_details, status, error, user_id, \"JsonExt\") \
             SELECT ",
        )
        .bind(id)
        .with_sql(", ")
        .bind(meta.json_content.clone())
        .with_sql(", ")
        .bind(requested)
        .with_sql(", ")
        .bind(meta.client_mutation_id.clone())
        .with_sql(", ")
        .bind(meta.client_mutation_label.clone())
        .with_sql(", ")
        .bind(details_text(meta))
        .with_sql(", ")
        .bind(MutationStatus::Success.code())
        .with_sql(", NULL, ")
        .bind(Bind::OptUuid(meta.user_id))
        .with_sql(", ")
        .bind(Bind::Jsonb(Some(own_mark())))
        .with_sql(
            " WHERE EXISTS (SELECT 1 FROM pn_families) RETURNING id), \
             pn_link AS (INSERT INTO \"insuree_FamilyMutation\" (id, family_id, mutation_id) \
             SELECT f.link, f.family, l.id FROM pn_log l, pn_families f)",
        )
}

/// Writes the success row of a mutation and links `family_ids` to it (`insuree_FamilyMutation`)
/// in one statement ([`success_ctes`]): what [`record`] with `Ok(())` and [`link_families`]
/// write, in one round trip.
pub async fn record_success(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    requested: DateTime<Utc>,
    meta: &MutationMeta,
    family_ids: &[i32],
) -> Result<(), diesel::result::Error> {
    let link_ids: Vec<Uuid> = family_ids.iter().map(|_| Uuid::new_v4()).collect();
    let families = Fragment::sql("unnest(")
        .bind(Bind::UuidArray(link_ids))
        .with_sql("::uuid[], ")
        .bind(family_ids)
        .with_sql("::int[]) AS f(link, family)");
    Fragment::sql("WITH ")
        .with(success_ctes(id, requested, meta, families))
        .with_sql(" SELECT 1")
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

/// Links families to the mutation log row (`insuree_FamilyMutation`).
pub async fn link_families(
    conn: &mut AsyncPgConnection,
    mutation_id: Uuid,
    family_ids: &[i32],
) -> Result<(), diesel::result::Error> {
    let rows: Vec<_> = family_ids
        .iter()
        .map(|f| {
            (
                insuree_family_mutation::id.eq(Uuid::new_v4()),
                insuree_family_mutation::family_id.eq(*f),
                insuree_family_mutation::mutation_id.eq(mutation_id),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(insuree_family_mutation::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// A `core_Mutation_Log` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = core_mutation_log)]
pub struct MutationLogRow {
    pub id: Uuid,
    pub json_content: String,
    pub request_date_time: DateTime<Utc>,
    pub client_mutation_id: Option<String>,
    pub client_mutation_label: Option<String>,
    pub client_mutation_details: Option<String>,
    pub status: i32,
    pub error: Option<String>,
    pub user_id: Option<Uuid>,
    pub json_ext: Option<serde_json::Value>,
    pub autogenerated_code: Option<String>,
}

/// Whose rows a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogViewer {
    /// Every row (administrators).
    Everyone,
    /// Only the rows of this `core_User`.
    User(Uuid),
    /// No row (anonymous callers).
    Nobody,
}

/// The `mutationLogs` filters.
#[derive(Debug, Clone, Default)]
pub struct MutationLogFilter {
    /// `id` (the row's uuid).
    pub id: Option<Uuid>,
    /// `clientMutationId`.
    pub client_mutation_id: Option<String>,
    /// `clientMutationLabel`.
    pub client_mutation_label: Option<String>,
    /// `requestDateTime` (exact).
    pub request_date_time: Option<DateTime<Utc>>,
    /// `requestDateTime_Gte`.
    pub request_date_time_gte: Option<DateTime<Utc>>,
    /// `requestDateTime_Lte`.
    pub request_date_time_lte: Option<DateTime<Utc>>,
    /// `status`.
    pub status: Option<i32>,
    /// `status_Gte`.
    pub status_gte: Option<i32>,
    /// `user` (a `core_User` id).
    pub user: Option<Uuid>,
    /// `orderBy`: `requestDateTime` (or `request_date_time`), `status`, `clientMutationLabel`, each
    /// with an optional `-`.
    pub order_by: Vec<String>,
}

/// A `mutationLogs` argument that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("orderBy: cannot order mutation logs by {0:?}")]
pub struct BadLogOrder(pub String);

/// Errors of the mutation log query.
#[derive(Debug, thiserror::Error)]
pub enum LogQueryError {
    /// A bad argument.
    #[error(transparent)]
    BadOrder(#[from] BadLogOrder),
    /// A database failure.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

type LogQuery<'a> = core_mutation_log::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered<'a>(viewer: LogViewer, f: &'a MutationLogFilter) -> LogQuery<'a> {
    use core_mutation_log::dsl as m;
    let mut q = m::core_mutation_log.into_boxed();
    match viewer {
        LogViewer::Everyone => {}
        LogViewer::User(u) => q = q.filter(m::user_id.eq(u)),
        LogViewer::Nobody => q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("false")),
    }
    if let Some(v) = f.id {
        q = q.filter(m::id.eq(v));
    }
    if let Some(v) = &f.client_mutation_id {
        q = q.filter(m::client_mutation_id.eq(v));
    }
    if let Some(v) = &f.client_mutation_label {
        q = q.filter(m::client_mutation_label.eq(v));
    }
    if let Some(v) = f.request_date_time {
        q = q.filter(m::request_date_time.eq(v));
    }
    if let Some(v) = f.request_date_time_gte {
        q = q.filter(m::request_date_time.ge(v));
    }
    if let Some(v) = f.request_date_time_lte {
        q = q.filter(m::request_date_time.le(v));
    }
    if let Some(v) = f.status {
        q = q.filter(m::status.eq(v));
    }
    if let Some(v) = f.status_gte {
        q = q.filter(m::status.ge(v));
    }
    if let Some(v) = f.user {
        q = q.filter(m::user_id.eq(v));
    }
    q
}

/// The `mutationLogs` page the viewer may see.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: LogViewer,
    filter: &MutationLogFilter,
    window: Window,
) -> Result<Page<MutationLogRow>, LogQueryError> {
    use core_mutation_log::dsl as m;
    let mut q = filtered(viewer, filter);
    for entry in &filter.order_by {
        let (desc, name) = match entry.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, entry.trim_start_matches('+')),
        };
        q = match (crate::paging::snake_case(name).as_str(), desc) {
            ("request_date_time", false) => q.then_order_by(m::request_date_time.asc()),
            ("request_date_time", true) => q.then_order_by(m::request_date_time.desc()),
            ("status", false) => q.then_order_by(m::status.asc()),
            ("status", true) => q.then_order_by(m::status.desc()),
            ("client_mutation_label", false) => q.then_order_by(m::client_mutation_label.asc()),
            ("client_mutation_label", true) => q.then_order_by(m::client_mutation_label.desc()),
            _ => return Err(BadLogOrder(entry.clone()).into()),
        };
    }
    let mut rows: Vec<MutationLogRow> = q
        .then_order_by(m::request_date_time.desc())
        .then_order_by(m::id.asc())
        .select(MutationLogRow::as_select())
        .offset(window.offset)
        .limit(window.limit.max(0))
        .load(conn)
        .await?;
    // Our own mark is bookkeeping, not the client's data (DECISIONS 46).
    let mark = own_mark();
    for row in &mut rows {
        if row.json_ext.as_ref() == Some(&mark) {
            row.json_ext = None;
        }
    }
    let total = if window.with_total {
        Some(
            filtered(viewer, filter)
                .count()
                .get_result::<i64>(conn)
                .await?,
        )
    } else {
        None
    };
    Ok(Page { rows, total })
}

/// A family linked to a mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedFamily {
    /// The link's id.
    pub link_id: Uuid,
    /// The mutation log row.
    pub mutation_id: Uuid,
    /// `FamilyID`.
    pub family_id: i32,
    /// `FamilyUUID`.
    pub family_uuid: String,
}

/// The families linked to these mutation log rows, in one statement.
pub async fn linked_families(
    conn: &mut AsyncPgConnection,
    mutation_ids: &[Uuid],
) -> Result<Vec<LinkedFamily>, diesel::result::Error> {
    let rows: Vec<(Uuid, Uuid, i32, String)> = insuree_family_mutation::table
        .inner_join(tbl_families::table)
        .filter(insuree_family_mutation::mutation_id.eq_any(mutation_ids))
        .select((
            insuree_family_mutation::id,
            insuree_family_mutation::mutation_id,
            tbl_families::family_id,
            tbl_families::family_uuid,
        ))
        .order(insuree_family_mutation::family_id.asc())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(link_id, mutation_id, family_id, family_uuid)| LinkedFamily {
                link_id,
                mutation_id,
                family_id,
                family_uuid,
            },
        )
        .collect())
}

/// The `clientMutationId` of a pending (status 0) mutation touching each of these families.
pub async fn pending_client_ids(
    conn: &mut AsyncPgConnection,
    family_ids: &[i32],
) -> Result<Vec<(i32, String)>, diesel::result::Error> {
    let rows: Vec<(i32, Option<String>)> = insuree_family_mutation::table
        .inner_join(core_mutation_log::table)
        .filter(insuree_family_mutation::family_id.eq_any(family_ids))
        .filter(core_mutation_log::status.eq(MutationStatus::Received.code()))
        .select((
            insuree_family_mutation::family_id,
            core_mutation_log::client_mutation_id,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(f, c)| c.map(|c| (f, c)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes() {
        assert_eq!(
            error_json(&[MutationError::detailed("Failed to create family", "x")]),
            r#"[{"message":"Failed to create family","detail":"x"}]"#
        );
        let group = MutationError::Group {
            title: "u".into(),
            list: vec![MutationError::message("Failed to delete family u")],
        };
        assert_eq!(
            error_json(std::slice::from_ref(&group)),
            r#"[{"message":"Failed to delete family u"}]"#
        );
        assert_eq!(
            error_json(&[group.clone(), group]),
            r#"[{"title":"u","list":[{"message":"Failed to delete family u"}]},{"title":"u","list":[{"message":"Failed to delete family u"}]}]"#
        );
    }
}
