//! The consent follower (issue 16, DECISIONS 45–47): beside an unchanged openIMIS, the family
//! mutations openIMIS itself completed are read back from its mutation log (`core_Mutation_Log`,
//! linked to families through `insuree_FamilyMutation`) and their `contribution.PolicyNotification`
//! is applied to `tblFamilySMS` through the same family hooks as our own mutations.
//!
//! - `createFamily` / `updateFamily` (status 2, linked families): the hooks' update rule (the
//!   patch over the current row, else over the defaults). Invalid data is recorded in
//!   `pn_follow_problem` and counted, never guessed; the family still gets the default row when it
//!   has none.
//! - `deleteFamilies` (status 2 or 1, `uuids` in the input, no link: openIMIS links nothing on
//!   delete): the rows of the listed families that are deleted in `tblFamilies` are end-dated.
//! - Our own mutations mark their log rows (`JsonExt.policy_notification.own`, DECISIONS 46) and
//!   are skipped: their hooks ran in their own transaction.
//!
//! One pass ([`tick`]) is one transaction: it takes the cursor row with `FOR UPDATE SKIP LOCKED`
//! (another replica holding it means that replica is working: this one does nothing), handles the
//! finished log rows requested since the horizon that are not in `pn_follow_seen`, writes each into
//! `pn_follow_seen` (so the same row is never applied twice) and moves the horizon up to the oldest
//! row that may still finish, at most to now minus [`GRACE_SECONDS`] (a row may commit a little
//! after its `request_date_time`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use crate::db::{DbError, Pool};
use crate::hooks::{FamilyEvent, FamilyHooks, HookError};

/// The horizon stays this far behind now, seconds: a log row becomes visible at its COMMIT, a
/// little after its `request_date_time`.
pub const GRACE_SECONDS: i64 = 300;
/// A received (status 0) row older than this, seconds, no longer holds the horizon back (openIMIS
/// left it unfinished).
pub const STUCK_SECONDS: i64 = 86_400;
/// Log rows handled per pass at most.
pub const BATCH: i64 = 500;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another replica held the cursor (nothing was done).
    pub ran: bool,
    /// Log rows handled.
    pub handled: u64,
    /// Families whose preferences were applied.
    pub applied: u64,
    /// Families whose row was end-dated.
    pub deleted: u64,
    /// Log rows that concern no family preference (other mutations, failed ones).
    pub ignored: u64,
    /// Contributions that could not be applied (recorded in `pn_follow_problem`).
    pub problems: u64,
}

/// The follower's state for operators and the dashboard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FollowStatus {
    /// Seconds since the oldest finished openIMIS mutation not yet applied was requested (0 when
    /// none waits).
    pub lag_seconds: f64,
    /// Finished mutations waiting.
    pub waiting: i64,
    /// Families whose preferences were applied, since the migration.
    pub applied: i64,
    /// Families whose row was end-dated.
    pub deleted: i64,
    /// Log rows without a family preference to apply.
    pub ignored: i64,
    /// Contributions that could not be applied.
    pub problems: i64,
    /// The end of the last pass of any replica.
    pub last_run: Option<DateTime<Utc>>,
    /// The horizon: log rows requested before it are done.
    pub horizon: DateTime<Utc>,
    /// The latest problems, newest first (at most 20).
    pub recent_problems: Vec<FollowProblem>,
}

/// A contribution the follower could not apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, QueryableByName)]
pub struct FollowProblem {
    /// The `core_Mutation_Log` row.
    #[diesel(sql_type = SqlUuid)]
    pub mutation_id: Uuid,
    /// The family (`FamilyID`), when the problem concerns one.
    #[diesel(sql_type = Nullable<Int4>)]
    pub family_id: Option<i32>,
    /// The input field at fault.
    #[diesel(sql_type = Text)]
    pub field: String,
    /// What is wrong.
    #[diesel(sql_type = Text)]
    pub message: String,
    /// When it was recorded.
    #[diesel(sql_type = Timestamptz)]
    pub recorded_at: DateTime<Utc>,
}

/// Errors of a pass: only database failures (bad data is a recorded problem).
pub type FollowError = DbError;

fn hook_failure(e: HookError) -> DbError {
    match e {
        HookError::Db(d) => DbError::Query(d),
        HookError::Invalid { field, message } => DbError::Pool(format!("{field}: {message}")),
    }
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = Timestamptz)]
    horizon: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    json_content: String,
    #[diesel(sql_type = Timestamptz)]
    request_date_time: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    status: i32,
}

#[derive(QueryableByName)]
struct Link {
    #[diesel(sql_type = SqlUuid)]
    mutation_id: Uuid,
    #[diesel(sql_type = Int4)]
    family_id: i32,
    #[diesel(sql_type = Text)]
    family_uuid: String,
}

#[derive(QueryableByName)]
struct FamilyId {
    #[diesel(sql_type = Int4)]
    id: i32,
}

/// A log row that this service did not write (its mark: [`crate::mutation_log::own_mark`]) and that may still need following: finished,
/// requested since the horizon, not seen yet, not ours.
const PENDING: &str = "l.\"request_date_time\" >= $1 AND l.\"status\" IN (1, 2) \
     AND NOT EXISTS (SELECT 1 FROM \"pn_follow_seen\" s WHERE s.\"mutation_id\" = l.\"id\") \
     AND NOT COALESCE(l.\"JsonExt\" @> '{\"policy_notification\": {\"own\": true}}'::jsonb, false)";

fn problem_text(e: &HookError) -> (String, String) {
    match e {
        HookError::Invalid { field, message } => (field.clone(), message.clone()),
        HookError::Db(d) => ("database".into(), d.to_string()),
    }
}

async fn record_problem(
    conn: &mut AsyncPgConnection,
    mutation_id: Uuid,
    family_id: Option<i32>,
    field: &str,
    message: &str,
) -> Result<(), diesel::result::Error> {
    tracing::warn!(%mutation_id, ?family_id, field, message, "openIMIS mutation: contribution not applied");
    sql_query(
        "INSERT INTO \"pn_follow_problem\" (\"mutation_id\", \"family_id\", \"field\", \"message\") \
         VALUES ($1, $2, $3, $4)",
    )
    .bind::<SqlUuid, _>(mutation_id)
    .bind::<Nullable<Int4>, _>(family_id)
    .bind::<Text, _>(field)
    .bind::<Text, _>(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// The `contribution` of a logged input: openIMIS stores the parsed object (graphene's
/// `JSONString`); a string holding JSON is read as that JSON.
fn contribution_of(input: &Value) -> Result<Option<Value>, HookError> {
    match input.get("contribution") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| HookError::invalid("contribution", format!("is not JSON: {e}"))),
        Some(other) => Ok(Some(other.clone())),
    }
}

/// Applies one linked mutation to its families; counts into `report`.
async fn apply_linked(
    conn: &mut AsyncPgConnection,
    hooks: &dyn FamilyHooks,
    row: &Candidate,
    input: Option<&Value>,
    families: &[&Link],
    report: &mut TickReport,
) -> Result<&'static str, FollowError> {
    let contribution = match input.map(contribution_of) {
        None => Err(HookError::invalid("json_content", "is not a JSON object")),
        Some(c) => c,
    };
    let mut outcome = "applied";
    for link in families {
        let event = FamilyEvent {
            family_id: link.family_id,
            family_uuid: link.family_uuid.clone(),
            contribution: contribution.as_ref().ok().cloned().flatten(),
        };
        let first = match &contribution {
            Err(e) => Err(problem_text(e)),
            Ok(_) => {
                let attempt = conn
                    .transaction(async |c| hooks.after_update(c, &event).await)
                    .await;
                match attempt {
                    Ok(()) => Ok(()),
                    Err(e @ HookError::Invalid { .. }) => Err(problem_text(&e)),
                    Err(e) => return Err(hook_failure(e)),
                }
            }
        };
        match first {
            Ok(()) => report.applied += 1,
            Err((field, message)) => {
                record_problem(conn, row.id, Some(link.family_id), &field, &message).await?;
                report.problems += 1;
                outcome = "problem";
                // The family still gets the default row when it has none (nothing is guessed:
                // an existing row is left as it is).
                let bare = FamilyEvent {
                    contribution: None,
                    ..event
                };
                let fallback = conn
                    .transaction(async |c| hooks.after_update(c, &bare).await)
                    .await;
                match fallback {
                    Ok(()) => {}
                    Err(e @ HookError::Invalid { .. }) => {
                        let (field, message) = problem_text(&e);
                        record_problem(conn, row.id, Some(link.family_id), &field, &message)
                            .await?;
                    }
                    Err(e) => return Err(hook_failure(e)),
                }
            }
        }
    }
    Ok(outcome)
}

/// `deleteFamilies`: end-dates the rows of the listed families that are deleted.
async fn apply_delete(
    conn: &mut AsyncPgConnection,
    hooks: &dyn FamilyHooks,
    uuids: &[String],
    report: &mut TickReport,
) -> Result<&'static str, FollowError> {
    let deleted: Vec<FamilyId> = sql_query(
        "SELECT DISTINCT f.\"FamilyID\" AS id FROM \"tblFamilies\" f \
         WHERE lower(f.\"FamilyUUID\"::text) = ANY($1) AND f.\"ValidityTo\" IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM \"tblFamilies\" c \
                           WHERE c.\"FamilyUUID\" = f.\"FamilyUUID\" AND c.\"ValidityTo\" IS NULL) \
           AND EXISTS (SELECT 1 FROM \"tblFamilySMS\" s \
                       WHERE s.\"FamilyID\" = f.\"FamilyID\" AND s.\"ValidityTo\" IS NULL)",
    )
    .bind::<Array<Text>, _>(uuids.iter().map(|u| u.to_lowercase()).collect::<Vec<_>>())
    .load(conn)
    .await?;
    if deleted.is_empty() {
        report.ignored += 1;
        return Ok("ignored");
    }
    let ids: Vec<i32> = deleted.iter().map(|d| d.id).collect();
    hooks.after_delete(conn, &ids).await.map_err(hook_failure)?;
    report.deleted += ids.len() as u64;
    Ok("deleted")
}

/// One pass: handles the finished openIMIS mutations not yet followed (at most [`BATCH`]).
pub async fn tick(pool: &Pool, hooks: &dyn FamilyHooks) -> Result<TickReport, FollowError> {
    let mut conn = pool.get().await?;
    let report = conn
        .transaction(async |conn| {
            let cursor: Option<Horizon> = sql_query(
                "SELECT \"horizon\" FROM \"pn_follow_cursor\" WHERE \"id\" = 1 \
                 FOR UPDATE SKIP LOCKED",
            )
            .get_result(conn)
            .await
            .optional_row()?;
            let Some(Horizon { horizon }) = cursor else {
                return Ok::<_, FollowError>(TickReport::default());
            };
            let mut report = TickReport {
                ran: true,
                ..TickReport::default()
            };
            let rows: Vec<Candidate> = sql_query(format!(
                "SELECT l.\"id\", l.\"json_content\", l.\"request_date_time\", l.\"status\" \
                 FROM \"core_Mutation_Log\" l WHERE {PENDING} \
                 ORDER BY l.\"request_date_time\", l.\"id\" LIMIT {BATCH}"
            ))
            .bind::<Timestamptz, _>(horizon)
            .load(conn)
            .await?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let links: Vec<Link> = if ids.is_empty() {
                Vec::new()
            } else {
                sql_query(
                    "SELECT m.\"mutation_id\", m.\"family_id\", f.\"FamilyUUID\"::text AS family_uuid \
                     FROM \"insuree_FamilyMutation\" m \
                     JOIN \"tblFamilies\" f ON f.\"FamilyID\" = m.\"family_id\" \
                     WHERE m.\"mutation_id\" = ANY($1) ORDER BY m.\"family_id\"",
                )
                .bind::<Array<SqlUuid>, _>(&ids)
                .load(conn)
                .await?
            };
            for row in &rows {
                let input: Option<Value> = serde_json::from_str::<Value>(&row.json_content)
                    .ok()
                    .filter(Value::is_object);
                let linked: Vec<&Link> = links.iter().filter(|l| l.mutation_id == row.id).collect();
                let uuids: Option<Vec<String>> = input
                    .as_ref()
                    .and_then(|i| i.get("uuids"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_string)).collect());
                let outcome = if !linked.is_empty() && row.status == 2 {
                    apply_linked(conn, hooks, row, input.as_ref(), &linked, &mut report).await?
                } else if let (true, Some(uuids)) = (linked.is_empty(), uuids) {
                    apply_delete(conn, hooks, &uuids, &mut report).await?
                } else {
                    report.ignored += 1;
                    "ignored"
                };
                sql_query(
                    "INSERT INTO \"pn_follow_seen\" (\"mutation_id\", \"request_date_time\", \"outcome\") \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind::<SqlUuid, _>(row.id)
                .bind::<Timestamptz, _>(row.request_date_time)
                .bind::<Text, _>(outcome)
                .execute(conn)
                .await?;
                report.handled += 1;
            }
            // The new horizon: never back, at most now - grace, at most the oldest row that is
            // still pending or may still finish.
            sql_query(format!(
                "UPDATE \"pn_follow_cursor\" SET \
                   \"horizon\" = GREATEST(\"horizon\", LEAST(now() - interval '{GRACE_SECONDS} seconds', \
                       (SELECT min(l.\"request_date_time\") FROM \"core_Mutation_Log\" l \
                        WHERE l.\"request_date_time\" >= $1 \
                          AND ((l.\"status\" = 0 AND l.\"request_date_time\" > now() - interval '{STUCK_SECONDS} seconds') \
                               OR ({PENDING}))))), \
                   \"last_run\" = now(), \
                   \"applied\" = \"applied\" + $2, \"deleted\" = \"deleted\" + $3, \
                   \"ignored\" = \"ignored\" + $4, \"problems\" = \"problems\" + $5 \
                 WHERE \"id\" = 1"
            ))
            .bind::<Timestamptz, _>(horizon)
            .bind::<BigInt, _>(report.applied as i64)
            .bind::<BigInt, _>(report.deleted as i64)
            .bind::<BigInt, _>(report.ignored as i64)
            .bind::<BigInt, _>(report.problems as i64)
            .execute(conn)
            .await?;
            // Seen rows far behind the horizon can no longer be candidates.
            sql_query(format!(
                "DELETE FROM \"pn_follow_seen\" WHERE \"request_date_time\" < \
                 (SELECT \"horizon\" FROM \"pn_follow_cursor\" WHERE \"id\" = 1) - interval '{STUCK_SECONDS} seconds'"
            ))
            .execute(conn)
            .await?;
            Ok(report)
        })
        .await?;
    if report.ran {
        metrics::counter!("pn_openimis_follow_families_total", "outcome" => "applied")
            .increment(report.applied);
        metrics::counter!("pn_openimis_follow_families_total", "outcome" => "deleted")
            .increment(report.deleted);
        metrics::counter!("pn_openimis_follow_problems_total").increment(report.problems);
        metrics::counter!("pn_openimis_follow_mutations_total").increment(report.handled);
    }
    Ok(report)
}

trait OptionalRow<T> {
    fn optional_row(self) -> Result<Option<T>, diesel::result::Error>;
}

impl<T> OptionalRow<T> for Result<T, diesel::result::Error> {
    fn optional_row(self) -> Result<Option<T>, diesel::result::Error> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[derive(QueryableByName)]
struct CursorRow {
    #[diesel(sql_type = Timestamptz)]
    horizon: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_run: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    applied: i64,
    #[diesel(sql_type = BigInt)]
    deleted: i64,
    #[diesel(sql_type = BigInt)]
    ignored: i64,
    #[diesel(sql_type = BigInt)]
    problems: i64,
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = BigInt)]
    waiting: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    lag_seconds: f64,
}

/// The follower's lag, counts and latest problems (for /metrics and the dashboard); `None` when
/// the database has no cursor row.
pub async fn status(conn: &mut AsyncPgConnection) -> Result<Option<FollowStatus>, FollowError> {
    let cursor: Option<CursorRow> = sql_query(
        "SELECT \"horizon\", \"last_run\", \"applied\", \"deleted\", \"ignored\", \"problems\" \
         FROM \"pn_follow_cursor\" WHERE \"id\" = 1",
    )
    .get_result(conn)
    .await
    .optional_row()?;
    let Some(c) = cursor else {
        return Ok(None);
    };
    let w: Waiting = sql_query(format!(
        "SELECT count(*) AS waiting, \
                COALESCE(EXTRACT(EPOCH FROM now() - min(l.\"request_date_time\")), 0)::float8 AS lag_seconds \
         FROM \"core_Mutation_Log\" l WHERE {PENDING}"
    ))
    .bind::<Timestamptz, _>(c.horizon)
    .get_result(conn)
    .await?;
    let recent_problems: Vec<FollowProblem> = sql_query(
        "SELECT \"mutation_id\", \"family_id\", \"field\"::text AS field, \"message\", \"recorded_at\" \
         FROM \"pn_follow_problem\" ORDER BY \"id\" DESC LIMIT 20",
    )
    .load(conn)
    .await?;
    Ok(Some(FollowStatus {
        lag_seconds: w.lag_seconds.max(0.0),
        waiting: w.waiting,
        applied: c.applied,
        deleted: c.deleted,
        ignored: c.ignored,
        problems: c.problems,
        last_run: c.last_run,
        horizon: c.horizon,
        recent_problems,
    }))
}

/// Follows openIMIS's mutations every `poll` until `stop` turns true.
pub async fn run(
    pool: Pool,
    hooks: Arc<dyn FamilyHooks>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        poll_ms = poll.as_millis() as u64,
        "following openIMIS's family mutations"
    );
    loop {
        if *stop.borrow() {
            break;
        }
        match tick(&pool, hooks.as_ref()).await {
            Ok(r) if r.handled > 0 => tracing::info!(
                handled = r.handled,
                applied = r.applied,
                deleted = r.deleted,
                problems = r.problems,
                "openIMIS mutations followed"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "following openIMIS's mutations failed; retrying"),
        }
        if let Ok(mut c) = pool.get().await {
            match status(&mut c).await {
                Ok(Some(s)) => {
                    metrics::gauge!("pn_openimis_follow_lag_seconds").set(s.lag_seconds);
                    metrics::gauge!("pn_openimis_follow_waiting").set(s.waiting as f64);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "follower status not read"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}
