//! The sending dashboard's figures that are not lists the sender already has (those are
//! [`super::records::unknown_outcomes`] and [`super::sweeps::recent`]): messages per day, the
//! providers' health, and the families' consent coverage per district. Plain data, no HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Bool, Date, Int4, Int8, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::records::{ClaimState, DetailStatus};
use crate::db::DbError;
use crate::db::sql::Fragment;
use crate::families::Scope;
use crate::families::rules::{NotificationMode, approved_sql, has_phone_sql};

/// Attempts recorded on one day (in the configured time zone) for one event and outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DayCount {
    pub day: NaiveDate,
    /// openIMIS event name.
    pub event: String,
    /// The detail row's status (1 sent … 6 unknown).
    pub status: i16,
    /// The status as a word (`sent`, `failed`, `unknown`, …).
    pub outcome: &'static str,
    pub count: i64,
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    event: String,
    #[diesel(sql_type = diesel::sql_types::Int2)]
    status: i16,
    #[diesel(sql_type = Int8)]
    count: i64,
}

/// The attempts of the `days` days up to `today` (in `tz`), per day, event and outcome, among the
/// families `scope` sees; ordered by day, event, status. An attempt counts on the day its detail
/// row was last written (its outcome).
pub async fn messages_per_day(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    today: NaiveDate,
    days: i32,
    tz: &str,
) -> Result<Vec<DayCount>, DbError> {
    let first = today - chrono::Duration::days(i64::from(days.max(1) - 1));
    let rows: Vec<DayRow> = Fragment::sql(
        "SELECT (d.\"ValidityFrom\" AT TIME ZONE ",
    )
    .bind(tz.to_string())
    .with_sql(
        ")::date AS day, d.notification_type::text AS event, d.\"Status\" AS status, \
         count(*) AS count \
         FROM \"tblIndicationOfPolicyNotificationsDetails\" d \
         LEFT JOIN \"tblPolicy\" p ON p.\"PolicyID\" = d.\"indicationID\" \
         LEFT JOIN \"tblFamilies\" f ON f.\"FamilyID\" = p.\"FamilyID\" AND f.\"ValidityTo\" IS NULL \
         WHERE d.\"ValidityTo\" IS NULL AND d.\"ValidityFrom\" >= (",
    )
    .bind(first)
    .with_sql("::timestamp AT TIME ZONE ")
    .bind(tz.to_string())
    .with_sql(") AND (")
    .with(scope.families_or_true("f"))
    .with_sql(") GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    .query()
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DayCount {
            day: r.day,
            event: r.event,
            status: r.status,
            outcome: DetailStatus::from_code(r.status).map_or("undefined", |s| s.label()),
            count: r.count,
        })
        .collect())
}

/// How one configured provider has been doing.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderHealth {
    /// The configured name.
    pub provider: String,
    /// Its place in the chain, from 1.
    pub position: usize,
    /// `ok`, `degraded` (some failures or unknown outcomes), `failing` (no message delivered,
    /// some failed or unknown) or `idle` (no message in the window).
    pub status: &'static str,
    /// Messages whose final answer came from it within the window, by outcome.
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
    /// When it last delivered a message / last gave a failed or unknown outcome (any time).
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_problem_at: Option<DateTime<Utc>>,
}

#[derive(diesel::QueryableByName)]
struct ProviderRow {
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Int8)]
    sent: i64,
    #[diesel(sql_type = Int8)]
    failed: i64,
    #[diesel(sql_type = Int8)]
    unknown: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_problem_at: Option<DateTime<Utc>>,
}

/// The health of each provider of `configured` (names in chain order) over the last
/// `window_hours`, from the claims' final answers (service-wide: no family data in it).
pub async fn provider_health(
    conn: &mut AsyncPgConnection,
    configured: &[String],
    window_hours: i32,
) -> Result<Vec<ProviderHealth>, DbError> {
    let rows: Vec<ProviderRow> = diesel::sql_query(format!(
        "SELECT lower(provider)::text AS provider, \
            count(*) FILTER (WHERE state = {sent} AND updated_at > now() - make_interval(hours => $1)) AS sent, \
            count(*) FILTER (WHERE state IN ({failed}, {released}) AND updated_at > now() - make_interval(hours => $1)) AS failed, \
            count(*) FILTER (WHERE state = {unknown} AND updated_at > now() - make_interval(hours => $1)) AS unknown, \
            max(updated_at) FILTER (WHERE state = {sent}) AS last_sent_at, \
            max(updated_at) FILTER (WHERE state <> {sent}) AS last_problem_at \
         FROM pn_notification_claim WHERE provider IS NOT NULL GROUP BY 1",
        sent = ClaimState::Sent,
        failed = ClaimState::Failed,
        released = ClaimState::Released,
        unknown = ClaimState::Unknown,
    ))
    .bind::<Int4, _>(window_hours)
    .load(conn)
    .await?;
    Ok(configured
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let r = rows.iter().find(|r| r.provider == name.to_lowercase());
            let (sent, failed, unknown) = r.map_or((0, 0, 0), |r| (r.sent, r.failed, r.unknown));
            let status = match (sent, failed + unknown) {
                (0, 0) => "idle",
                (0, _) => "failing",
                (_, 0) => "ok",
                _ => "degraded",
            };
            ProviderHealth {
                provider: name.clone(),
                position: i + 1,
                status,
                sent,
                failed,
                unknown,
                last_sent_at: r.and_then(|r| r.last_sent_at),
                last_problem_at: r.and_then(|r| r.last_problem_at),
            }
        })
        .collect())
}

/// Current families of one district per notification mode.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictCoverage {
    pub district_id: i32,
    pub district_code: Option<String>,
    pub district_name: Option<String>,
    /// Families per mode: `modes[0]` every family (mode 0), `modes[1]` approval and phone, …,
    /// `modes[4]` neither.
    pub modes: [i64; 5],
}

#[derive(diesel::QueryableByName)]
struct CoverageRow {
    #[diesel(sql_type = Int4)]
    district_id: i32,
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Bool)]
    approved: bool,
    #[diesel(sql_type = Bool)]
    has_phone: bool,
    #[diesel(sql_type = Int8)]
    families: i64,
}

/// Families per notification mode (the report's modes, `families/rules.rs`) in each district
/// `scope` sees, by district code. Families without a village are not counted.
pub async fn consent_coverage(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
) -> Result<Vec<DistrictCoverage>, DbError> {
    let rows: Vec<CoverageRow> = Fragment::sql(format!(
        "SELECT d.\"LocationId\" AS district_id, d.\"LocationCode\"::text AS code, \
                d.\"LocationName\"::text AS name, x.approved, x.has_phone, count(*) AS families \
         FROM (SELECT f.\"LocationId\", {approved} AS approved, {phone} AS has_phone \
               FROM \"tblFamilies\" f WHERE f.\"ValidityTo\" IS NULL) x \
         JOIN \"tblLocations\" v ON v.\"LocationId\" = x.\"LocationId\" \
         JOIN \"tblLocations\" w ON w.\"LocationId\" = v.\"ParentLocationId\" \
         JOIN \"tblLocations\" d ON d.\"LocationId\" = w.\"ParentLocationId\" \
         WHERE (",
        approved = approved_sql("f"),
        phone = has_phone_sql("f"),
    ))
    .with(
        scope
            .district(Fragment::sql("d.\"LocationId\""))
            .unwrap_or_else(|| Fragment::sql("TRUE")),
    )
    .with_sql(") GROUP BY 1, 2, 3, 4, 5 ORDER BY 2, 1")
    .query()
    .load(conn)
    .await?;
    let mut out: Vec<DistrictCoverage> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|d| d.district_id != r.district_id) {
            out.push(DistrictCoverage {
                district_id: r.district_id,
                district_code: r.code.clone(),
                district_name: r.name.clone(),
                modes: [0; 5],
            });
        }
        if let Some(d) = out.last_mut() {
            for mode in NotificationMode::ALL {
                if mode.matches(r.approved, r.has_phone) {
                    let i = usize::try_from(mode.number()).unwrap_or(0);
                    d.modes[i] += r.families;
                }
            }
        }
    }
    Ok(out)
}
