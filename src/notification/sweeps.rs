//! The sweeps the sender ran (`pn_sweep`): a row written when a sweep that writes starts, and
//! completed with its outcome, duration and counts when it ends; read by the dashboard.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Date, Float8, Int8, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::DbError;

/// How a sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepOutcome {
    /// Every enabled event went through.
    Completed,
    /// It stopped early: the service was shutting down.
    Stopped,
    /// It gave up after repeated database errors.
    GaveUp,
    /// It failed before sending (configuration, database).
    Failed,
}

impl SweepOutcome {
    /// The stored word.
    pub fn label(self) -> &'static str {
        match self {
            SweepOutcome::Completed => "completed",
            SweepOutcome::Stopped => "stopped",
            SweepOutcome::GaveUp => "gave_up",
            SweepOutcome::Failed => "failed",
        }
    }
}

/// Records that sweep `id` for `as_of` started now.
pub async fn started(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    as_of: NaiveDate,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO pn_sweep (sweep_id, as_of) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(id.to_string())
    .bind::<Date, _>(as_of)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records how sweep `id` ended: outcome, seconds, counts (`{event: {outcome: n}}`) and the
/// error that ended it, if one did.
pub async fn finished(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    outcome: SweepOutcome,
    seconds: f64,
    counts: &serde_json::Value,
    error: Option<&str>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE pn_sweep SET finished_at = now(), outcome = $2, seconds = $3, counts = $4, error = $5 \
         WHERE sweep_id = $1::uuid",
    )
    .bind::<Text, _>(id.to_string())
    .bind::<Text, _>(outcome.label())
    .bind::<Float8, _>(seconds)
    .bind::<Jsonb, _>(counts)
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// One recorded sweep.
#[derive(Debug, Clone, Serialize, diesel::QueryableByName)]
pub struct SweepRow {
    #[diesel(sql_type = Text)]
    pub sweep_id: String,
    #[diesel(sql_type = Date)]
    pub as_of: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
    /// `completed`, `stopped`, `gave_up`, `failed`; `None` while running (or when the sweep
    /// died without finishing).
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    #[diesel(sql_type = Nullable<Float8>)]
    pub seconds: Option<f64>,
    /// Counts per event and outcome.
    #[diesel(sql_type = Jsonb)]
    pub counts: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
}

impl SweepRow {
    /// The sweep's total for `outcome` over every event.
    pub fn total(&self, outcome: &str) -> u64 {
        self.counts
            .as_object()
            .map(|events| {
                events
                    .values()
                    .filter_map(|o| o.get(outcome).and_then(serde_json::Value::as_u64))
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// The last `limit` sweeps, newest first.
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<SweepRow>, DbError> {
    Ok(diesel::sql_query(
        "SELECT sweep_id::text AS sweep_id, as_of, started_at, finished_at, outcome::text AS outcome, \
                seconds, counts, error \
         FROM pn_sweep ORDER BY started_at DESC LIMIT $1",
    )
    .bind::<Int8, _>(limit)
    .load(conn)
    .await?)
}
