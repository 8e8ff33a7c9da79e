//! What the sender writes: openIMIS's markers (`tblIndicationOfPolicyNotifications`) and attempt
//! log (`tblIndicationOfPolicyNotificationsDetails`), and our claims (`pn_notification_claim`)
//! that let a message go out at most once (DECISIONS 14, 18).

use chrono::NaiveDate;
use diesel::sql_types::{Array, Date, Int2, Int4, Int8, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::events::{EventType, SENTINEL, SENTINEL_BEFORE, not_notified_sql};
use super::gateway::SendOutcome;
use crate::db::DbError;
use crate::db::sql::Fragment;
use crate::families::Scope;

/// The `Status` of a detail row (`tblIndicationOfPolicyNotificationsDetails`): openIMIS's 1–5 and
/// our 6. `Display` writes the stored number, for SQL built with `format!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i16)]
pub enum DetailStatus {
    /// Sent.
    Sent = 1,
    /// The family did not approve notifications.
    Refused = 2,
    /// The event is too old.
    Obsolete = 3,
    /// Sending failed (retried on a later sweep).
    Error = 4,
    /// Failed validation (no usable phone, effective today, …).
    Invalid = 5,
    /// In flight or outcome unknown (ours): never retried automatically.
    Unknown = 6,
}

impl DetailStatus {
    /// The stored number.
    pub const fn code(self) -> i16 {
        self as i16
    }

    /// The status for a stored number (0 and unknown numbers: `None`).
    pub fn from_code(code: i16) -> Option<Self> {
        Some(match code {
            1 => DetailStatus::Sent,
            2 => DetailStatus::Refused,
            3 => DetailStatus::Obsolete,
            4 => DetailStatus::Error,
            5 => DetailStatus::Invalid,
            6 => DetailStatus::Unknown,
            _ => return None,
        })
    }

    /// Short label for summaries and metrics.
    pub fn label(self) -> &'static str {
        match self {
            DetailStatus::Sent => "sent",
            DetailStatus::Refused => "not_approved",
            DetailStatus::Obsolete => "obsolete",
            DetailStatus::Error => "failed",
            DetailStatus::Invalid => "invalid",
            DetailStatus::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for DetailStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// The `state` of a claim (`pn_notification_claim`, see its migration). `Display` writes the
/// stored number, for SQL built with `format!` (where a literal lets PostgreSQL use the partial
/// index on in-flight claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum ClaimState {
    /// The message went out.
    Sent = 1,
    /// Sending failed: may be claimed again (a date-based event on a later day, DECISIONS 16).
    Failed = 4,
    /// In flight, or the outcome is unknown: never claimed again automatically.
    Unknown = 6,
    /// An operator released an unknown outcome for another try.
    Released = 7,
}

impl ClaimState {
    /// The stored number.
    pub const fn code(self) -> i16 {
        self as i16
    }
}

impl std::fmt::Display for ClaimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

fn advisory_key(event: EventType) -> i32 {
    EventType::ALL
        .iter()
        .position(|e| *e == event)
        .map(|i| i as i32)
        .unwrap_or(0)
}

/// Records rejected candidates in one transaction: the marker becomes the sentinel and a detail
/// row carries the status and reason (replacing a status-4 row of the same event, so that the
/// openIMIS retry rule stops). Policies that another sweep settled meanwhile are left alone.
pub async fn record_rejections(
    conn: &mut AsyncPgConnection,
    event: EventType,
    today: NaiveDate,
    rejects: &[(i32, DetailStatus, String)],
) -> Result<(), DbError> {
    if rejects.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = rejects.iter().map(|r| r.0).collect();
    let first = ids.iter().copied().min().unwrap_or(0);
    let last = ids.iter().copied().max().unwrap_or(0);
    let statuses: Vec<i16> = rejects.iter().map(|r| r.1.code()).collect();
    let reasons: Vec<String> = rejects.iter().map(|r| r.2.clone()).collect();
    let marker = event.marker_column();
    let ty = event.name();
    let still = not_notified_sql(event, "r", "$4", "BETWEEN $5 AND $6");
    let sql = format!(
        "WITH r AS (SELECT * FROM unnest($1::int[], $2::int2[], $3::text[]) AS r(\"PolicyID\", status, reason)), \
         todo AS (SELECT * FROM r WHERE {still}), \
         ins AS (INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\", \"{marker}\") \
             SELECT \"PolicyID\", now(), {SENTINEL} FROM todo \
             ON CONFLICT (\"PolicyID\") DO UPDATE SET \"{marker}\" = {SENTINEL} \
             WHERE \"tblIndicationOfPolicyNotifications\".\"{marker}\" IS NULL \
                OR \"tblIndicationOfPolicyNotifications\".\"{marker}\" < {SENTINEL_BEFORE} \
             RETURNING 1), \
         upd AS (UPDATE \"tblIndicationOfPolicyNotificationsDetails\" d \
             SET \"Status\" = todo.status, details = todo.reason, \"ValidityFrom\" = now() \
             FROM todo WHERE d.\"indicationID\" = todo.\"PolicyID\" \
               AND d.\"indicationID\" BETWEEN $5 AND $6 AND d.notification_type = '{ty}' AND d.\"Status\" = {failed} \
             RETURNING d.\"indicationID\") \
         INSERT INTO \"tblIndicationOfPolicyNotificationsDetails\" \
             (\"ValidityFrom\", notification_type, \"Status\", details, \"indicationID\") \
         SELECT now(), '{ty}', todo.status, todo.reason, todo.\"PolicyID\" FROM todo \
         WHERE todo.\"PolicyID\" NOT IN (SELECT \"indicationID\" FROM upd)",
        failed = DetailStatus::Error,
    );
    let key = advisory_key(event);
    conn.transaction::<_, DbError, _>(async move |c| {
        // Two sweeps rejecting the same event take turns, so each sees the other's rows.
        diesel::sql_query("SELECT pg_advisory_xact_lock(727275, $1)")
            .bind::<Int4, _>(key)
            .execute(c)
            .await?;
        diesel::sql_query(sql)
            .bind::<Array<Int4>, _>(&ids)
            .bind::<Array<Int2>, _>(&statuses)
            .bind::<Array<Text>, _>(&reasons)
            .bind::<Date, _>(today)
            .bind::<Int4, _>(first)
            .bind::<Int4, _>(last)
            .execute(c)
            .await?;
        Ok(())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Int4)]
    id: i32,
}

/// `n` fresh ids for attempts' detail rows, taken before the claim so that a claim whose commit
/// was not confirmed (the connection broke) can be recognised as ours: see [`claimed_among`].
pub async fn next_detail_ids(conn: &mut AsyncPgConnection, n: usize) -> Result<Vec<i32>, DbError> {
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    let rows: Vec<IdRow> = crate::db::prepared::cached(diesel::sql_query(
        "SELECT nextval(pg_get_serial_sequence('\"tblIndicationOfPolicyNotificationsDetails\"', 'id'))::int AS id \
         FROM generate_series(1, $1)"
    )    .bind::<Int4, _>(n))
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Which of the attempts `detail_ids` hold a claim in flight (their claim committed): the answer
/// to a claim whose connection broke before its result arrived. The claim of a batch is one
/// statement, so either all its claims committed or none.
pub async fn claimed_among(
    conn: &mut AsyncPgConnection,
    detail_ids: &[i32],
) -> Result<Vec<i32>, DbError> {
    let rows: Vec<IdRow> = crate::db::prepared::cached(diesel::sql_query(
        "SELECT detail_id AS id FROM pn_notification_claim WHERE detail_id = ANY($1) AND state = $2"
    )    .bind::<Array<Int4>, _>(detail_ids)
    .bind::<Int2, _>(ClaimState::Unknown.code()))
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Who claims: the sweep's id and how long its lease lasts without a heartbeat.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub sweep_id: uuid::Uuid,
    pub lease: std::time::Duration,
}

impl Owner {
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

/// One message of a batch to claim: (policy, event) for day `day` as attempt `detail_id` (from
/// [`next_detail_ids`]); `note` is the attempt row's text while it is in flight.
#[derive(Debug, Clone)]
pub struct ClaimItem {
    pub event: EventType,
    pub policy_id: i32,
    pub day: NaiveDate,
    pub note: String,
    pub detail_id: i32,
}

/// Claims a batch of (policy, event) pairs for sending and records each attempt (detail status
/// 6), committed before anything leaves: one statement, so every claim of the batch and its
/// attempt row commit together (or none does). Each claim carries its owner (`sweep_id`) and a
/// lease (`lease_until`) that the owner's heartbeat renews. Returns the attempt ids claimed;
/// a pair missing from it is held or settled by another sweep. A pair must not appear twice in
/// one batch.
pub async fn claim_batch(
    conn: &mut AsyncPgConnection,
    items: &[ClaimItem],
    owner: Owner,
) -> Result<Vec<i32>, DbError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let policies: Vec<i32> = items.iter().map(|i| i.policy_id).collect();
    let types: Vec<&str> = items.iter().map(|i| i.event.name()).collect();
    let days: Vec<NaiveDate> = items.iter().map(|i| i.day).collect();
    let notes: Vec<&str> = items.iter().map(|i| i.note.as_str()).collect();
    let ids: Vec<i32> = items.iter().map(|i| i.detail_id).collect();
    // A failed date event is claimed again only on a later day (DECISIONS 16).
    let not_dated: Vec<&str> = EventType::ALL
        .iter()
        .filter(|e| !e.date_based())
        .map(|e| e.name())
        .collect();
    let rows: Vec<IdRow> = crate::db::prepared::cached(diesel::sql_query(
        "WITH m AS (SELECT * FROM unnest($1::int[], $2::text[], $3::date[], $4::text[], $5::int[]) \
                AS m(policy_id, ty, day, note, detail_id)), \
         c AS (INSERT INTO pn_notification_claim AS c \
                (policy_id, notification_type, state, detail_id, claimed_on, claimed_at, updated_at, \
                 sweep_id, lease_until) \
             SELECT m.policy_id, m.ty, $8, m.detail_id, m.day, now(), now(), $6::uuid, \
                    now() + $7 * interval '1 millisecond' FROM m ORDER BY m.policy_id, m.ty \
             ON CONFLICT (policy_id, notification_type) DO UPDATE \
                SET state = $8, detail_id = EXCLUDED.detail_id, claimed_on = EXCLUDED.claimed_on, \
                    claimed_at = now(), updated_at = now(), provider = NULL, \
                    sweep_id = EXCLUDED.sweep_id, lease_until = EXCLUDED.lease_until \
             WHERE c.state IN ($9, $10) AND NOT (c.notification_type <> ALL ($12::text[]) \
                   AND c.state = $9 AND c.claimed_on >= EXCLUDED.claimed_on) \
             RETURNING c.policy_id, c.detail_id), \
         i AS (INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\") \
             SELECT DISTINCT policy_id, now() FROM c ORDER BY 1 ON CONFLICT (\"PolicyID\") DO NOTHING) \
         INSERT INTO \"tblIndicationOfPolicyNotificationsDetails\" \
             (id, \"ValidityFrom\", notification_type, \"Status\", details, \"indicationID\") \
         SELECT c.detail_id, now(), m.ty, $11, m.note, c.policy_id FROM c JOIN m ON m.detail_id = c.detail_id \
         RETURNING id"
    )    .bind::<Array<Int4>, _>(&policies)
    .bind::<Array<Text>, _>(&types)
    .bind::<Array<Date>, _>(&days)
    .bind::<Array<Text>, _>(&notes)
    .bind::<Array<Int4>, _>(&ids)
    .bind::<Text, _>(owner.sweep_id.to_string())
    .bind::<Int8, _>(owner.lease_ms())
    .bind::<Int2, _>(ClaimState::Unknown.code())
    .bind::<Int2, _>(ClaimState::Failed.code())
    .bind::<Int2, _>(ClaimState::Released.code())
    .bind::<Int2, _>(DetailStatus::Unknown.code())
    .bind::<Array<Text>, _>(&not_dated))
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Withdraws claims of `owner` whose message never left (the sweep was asked to stop before
/// sending them): the claim and its status-6 attempt row are removed, as if never claimed, so
/// that the next sweep takes the message up. Returns how many were withdrawn.
pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    detail_ids: &[i32],
    owner: Owner,
) -> Result<usize, DbError> {
    Ok(crate::db::prepared::cached(
        diesel::sql_query(
            "WITH c AS (DELETE FROM pn_notification_claim WHERE detail_id = ANY($1) \
                AND sweep_id = $2::uuid AND state = $3 RETURNING detail_id) \
         DELETE FROM \"tblIndicationOfPolicyNotificationsDetails\" \
         WHERE id IN (SELECT detail_id FROM c) AND \"Status\" = $4",
        )
        .bind::<Array<Int4>, _>(detail_ids)
        .bind::<Text, _>(owner.sweep_id.to_string())
        .bind::<Int2, _>(ClaimState::Unknown.code())
        .bind::<Int2, _>(DetailStatus::Unknown.code()),
    )
    .execute(conn)
    .await?)
}

/// Renews the lease of every claim of `owner` still in flight; returns how many.
pub async fn heartbeat(conn: &mut AsyncPgConnection, owner: Owner) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE pn_notification_claim SET lease_until = now() + $2 * interval '1 millisecond' \
         WHERE sweep_id = $1::uuid AND lease_until IS NOT NULL AND state = $3",
    )
    .bind::<Text, _>(owner.sweep_id.to_string())
    .bind::<Int8, _>(owner.lease_ms())
    .bind::<Int2, _>(ClaimState::Unknown.code())
    .execute(conn)
    .await?)
}

/// The outcome of one claimed attempt, for [`record_outcomes`].
#[derive(Debug, Clone)]
pub struct OutcomeItem<'a> {
    pub event: EventType,
    pub policy_id: i32,
    pub detail_id: i32,
    pub provider: &'a str,
    pub outcome: &'a SendOutcome,
    /// Added to the provider in the detail text (the providers that failed before, see
    /// [`super::gateway::ChainResult::failover_note`]).
    pub note: &'a str,
}

/// Records the outcomes of a batch of claimed attempts in one statement: sent → marker = now,
/// status 1; failed → sentinel, status 4 (retried later); unknown → stays status 6 with the
/// reason, for the operator. The leases end. Repeating it is harmless (the same values again).
pub async fn record_outcomes(
    conn: &mut AsyncPgConnection,
    items: &[OutcomeItem<'_>],
) -> Result<(), DbError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(items.len());
    let mut policies = Vec::with_capacity(items.len());
    let mut types = Vec::with_capacity(items.len());
    let mut statuses = Vec::with_capacity(items.len());
    let mut states = Vec::with_capacity(items.len());
    let mut details = Vec::with_capacity(items.len());
    let mut providers = Vec::with_capacity(items.len());
    // 1: the marker becomes now(); 4: the sentinel; 0: unchanged.
    let mut markers: Vec<i16> = Vec::with_capacity(items.len());
    for it in items {
        let (status, claim_state, text, marker) = match it.outcome {
            SendOutcome::Delivered => (
                DetailStatus::Sent,
                ClaimState::Sent,
                truncate(&format!("sent through {}{}", it.provider, it.note)),
                1,
            ),
            SendOutcome::Failed(r) => (
                DetailStatus::Error,
                ClaimState::Failed,
                truncate(&format!("not sent: {r}")),
                4,
            ),
            SendOutcome::Unknown(r) => (
                DetailStatus::Unknown,
                ClaimState::Unknown,
                truncate(&format!(
                    "outcome unknown ({}{}): {r}",
                    it.provider, it.note
                )),
                0,
            ),
        };
        ids.push(it.detail_id);
        policies.push(it.policy_id);
        types.push(it.event.name());
        statuses.push(status.code());
        states.push(claim_state.code());
        details.push(text);
        providers.push(it.provider);
        markers.push(marker);
    }
    // One policy may have several events in a batch: its markers are set in one row update.
    let columns: Vec<String> = EventType::ALL
        .iter()
        .map(|e| {
            format!(
                "\"{col}\" = COALESCE(m.\"{col}\", i.\"{col}\")",
                col = e.marker_column()
            )
        })
        .collect();
    let per_event: Vec<String> = EventType::ALL
        .iter()
        .map(|e| {
            format!(
                "max(CASE WHEN ty = '{ty}' THEN CASE marker WHEN 1 THEN now() ELSE {SENTINEL} END END) AS \"{col}\"",
                ty = e.name(),
                col = e.marker_column()
            )
        })
        .collect();
    let sql = format!(
        "WITH o AS (SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::int2[], $5::int2[], \
                $6::text[], $7::text[], $8::int2[]) \
                AS o(detail_id, policy_id, ty, status, claim_state, details, provider, marker)), \
         d AS (UPDATE \"tblIndicationOfPolicyNotificationsDetails\" t \
             SET \"Status\" = o.status, details = o.details FROM o WHERE t.id = o.detail_id RETURNING 1), \
         c AS (UPDATE pn_notification_claim c SET state = o.claim_state, provider = o.provider, \
                 updated_at = now(), lease_until = NULL \
             FROM o WHERE c.policy_id = o.policy_id AND c.notification_type = o.ty \
               AND c.detail_id = o.detail_id RETURNING 1), \
         m AS (SELECT policy_id, {per_event} FROM o WHERE marker <> 0 GROUP BY policy_id) \
         UPDATE \"tblIndicationOfPolicyNotifications\" i SET {columns} \
         FROM m WHERE i.\"PolicyID\" = m.policy_id",
        per_event = per_event.join(", "),
        columns = columns.join(", "),
    );
    // One text for the process's life (built from the six events only): cached.
    crate::db::prepared::cached(
        diesel::sql_query(sql)
            .bind::<Array<Int4>, _>(&ids)
            .bind::<Array<Int4>, _>(&policies)
            .bind::<Array<Text>, _>(&types)
            .bind::<Array<Int2>, _>(&statuses)
            .bind::<Array<Int2>, _>(&states)
            .bind::<Array<Text>, _>(&details)
            .bind::<Array<Text>, _>(&providers)
            .bind::<Array<Int2>, _>(&markers),
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(1000).collect()
}

/// One attempt of a policy's notification history.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct HistoryRow {
    /// The detail row's id.
    #[diesel(sql_type = Int4)]
    pub id: i32,
    #[diesel(sql_type = Int4)]
    pub policy_id: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub policy_uuid: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub family_uuid: Option<String>,
    #[diesel(sql_type = Text)]
    pub notification_type: String,
    #[diesel(sql_type = Int2)]
    pub status: i16,
    #[diesel(sql_type = Nullable<Text>)]
    pub details: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub provider: Option<String>,
    /// For status 6: `in_flight` (its sweep's lease is alive), `interrupted` (the sweep died
    /// with the request in flight: lease expired, or a leftover from before leases) or
    /// `no_answer` (the provider did not answer in time, or unreadably); else `None`.
    #[diesel(sql_type = Nullable<Text>)]
    pub unknown_kind: Option<String>,
    /// Until when the sweep vouches for an attempt in flight.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub lease_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The sweep that made the attempt (when it is the claim's current one).
    #[diesel(sql_type = Nullable<Text>)]
    pub sweep_id: Option<String>,
    /// Who settled the attempt, when an operator did.
    #[diesel(sql_type = Nullable<Text>)]
    pub settled_by: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub settled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Whose attempts to list.
#[derive(Debug, Clone, Copy)]
pub enum HistoryOf<'a> {
    /// One policy, by `PolicyID`.
    PolicyId(i32),
    /// One policy, by `PolicyUUID`.
    PolicyUuid(&'a str),
    /// Every policy of one family, by `FamilyID`.
    FamilyId(i32),
    /// Every policy of one family, by `FamilyUUID`.
    FamilyUuid(&'a str),
}

/// The attempt-history query without its `WHERE`.
fn history_select() -> String {
    format!(
        "SELECT d.id, d.\"indicationID\" AS policy_id, \
    p.\"PolicyUUID\"::text AS policy_uuid, f.\"FamilyUUID\"::text AS family_uuid, \
    d.notification_type::text AS notification_type, d.\"Status\" AS status, d.details, \
    d.\"ValidityFrom\" AS at, c.provider::text AS provider, \
    CASE WHEN d.\"Status\" = {unknown} THEN CASE WHEN c.lease_until > now() THEN 'in_flight' \
        WHEN c.lease_until IS NOT NULL OR c.provider IS NULL THEN 'interrupted' \
        ELSE 'no_answer' END END AS unknown_kind, \
    CASE WHEN d.\"Status\" = {unknown} THEN c.lease_until END AS lease_until, \
    c.sweep_id::text AS sweep_id, st.settled_by::text AS settled_by, st.settled_at \
    FROM \"tblIndicationOfPolicyNotificationsDetails\" d \
    LEFT JOIN pn_notification_claim c ON c.detail_id = d.id \
    LEFT JOIN LATERAL (SELECT s.settled_by, s.settled_at FROM pn_notification_settlement s \
        WHERE s.detail_id = d.id ORDER BY s.id DESC LIMIT 1) st ON TRUE \
    LEFT JOIN \"tblPolicy\" p ON p.\"PolicyID\" = d.\"indicationID\" \
    LEFT JOIN \"tblFamilies\" f ON f.\"FamilyID\" = p.\"FamilyID\" AND f.\"ValidityTo\" IS NULL",
        unknown = DetailStatus::Unknown,
    )
}

/// The attempt log of a policy or a family, newest first, among the families `scope` sees.
pub async fn history(
    conn: &mut AsyncPgConnection,
    of: HistoryOf<'_>,
    scope: &Scope,
) -> Result<Vec<HistoryRow>, DbError> {
    let filter = match of {
        HistoryOf::PolicyId(id) => Fragment::sql("d.\"indicationID\" = ").bind(id),
        HistoryOf::PolicyUuid(u) => Fragment::sql("lower(p.\"PolicyUUID\") = lower(")
            .bind(u)
            .with_sql(")"),
        HistoryOf::FamilyId(id) => Fragment::sql("p.\"FamilyID\" = ").bind(id),
        HistoryOf::FamilyUuid(u) => Fragment::sql(
            "p.\"FamilyID\" IN (SELECT \"FamilyID\" FROM \"tblFamilies\" WHERE lower(\"FamilyUUID\") = lower(",
        )
        .bind(u)
        .with_sql("))"),
    };
    Ok(Fragment::sql(format!("{} WHERE ", history_select()))
        .with(filter)
        .with_sql(" AND d.\"ValidityTo\" IS NULL AND (")
        .with(scope.families_or_true("f"))
        .with_sql(") ORDER BY d.id DESC")
        .query()
        .load(conn)
        .await?)
}

/// Attempts whose outcome is unknown (status 6), oldest first, among the families `scope` sees.
pub async fn unknown_outcomes(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
) -> Result<Vec<HistoryRow>, DbError> {
    Ok(Fragment::sql(format!(
        "{} WHERE d.\"Status\" = {} AND d.\"ValidityTo\" IS NULL AND (",
        history_select(),
        DetailStatus::Unknown,
    ))
    .with(scope.families_or_true("f"))
    .with_sql(") ORDER BY d.id")
    .query()
    .load(conn)
    .await?)
}

/// Unknown outcomes waiting for an operator (status-6 claims whose sweep no longer vouches for
/// them: interrupted or unanswered), and those still in flight.
pub async fn unknown_counts(conn: &mut AsyncPgConnection) -> Result<(i64, i64), DbError> {
    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = Int8)]
        waiting: i64,
        #[diesel(sql_type = Int8)]
        in_flight: i64,
    }
    let c: Counts = diesel::sql_query(format!(
        "SELECT count(*) FILTER (WHERE lease_until IS NULL OR lease_until <= now()) AS waiting, \
                count(*) FILTER (WHERE lease_until > now()) AS in_flight \
         FROM pn_notification_claim WHERE state = {}",
        ClaimState::Unknown
    ))
    .get_result(conn)
    .await?;
    Ok((c.waiting, c.in_flight))
}

/// How an operator settles an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The message did arrive: record it as sent.
    MarkSent,
    /// It did not: release it for another try on a later sweep.
    Release,
}

/// Why a settlement was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("attempt {0} does not exist, is not visible to you, or has no unknown outcome")]
    NotUnknown(i32),
    #[error(
        "attempt {0} is still in flight: its sweep is alive and may still get the gateway's \
         answer (lease until {1}); settle it only once it is listed as interrupted"
    )]
    InFlight(i32, chrono::DateTime<chrono::Utc>),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl crate::error::UserFacing for SettleError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            SettleError::NotUnknown(_) => crate::error::ErrorCode::NotFound,
            SettleError::InFlight(..) => crate::error::ErrorCode::InFlight,
            SettleError::Db(e) => e.code(),
        }
    }

    fn user_message(&self) -> String {
        match self {
            SettleError::NotUnknown(_) | SettleError::InFlight(..) => self.to_string(),
            SettleError::Db(e) => e.user_message(),
        }
    }
}

impl From<diesel::result::Error> for SettleError {
    fn from(e: diesel::result::Error) -> Self {
        SettleError::Db(DbError::from(e))
    }
}

#[derive(diesel::QueryableByName)]
struct UnknownRow {
    #[diesel(sql_type = Int4)]
    policy_id: i32,
    #[diesel(sql_type = Text)]
    notification_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    details: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct LeaseRow {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    lease_until: Option<chrono::DateTime<chrono::Utc>>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    alive: bool,
    #[diesel(sql_type = Nullable<Text>)]
    provider: Option<String>,
}

/// Settles the unknown attempt `detail_id` in one transaction; the settled row is returned.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    detail_id: i32,
    how: Settlement,
    by: &str,
    scope: &Scope,
) -> Result<HistoryRow, SettleError> {
    let by = by.to_string();
    let visible = scope.families_or_true("f");
    conn.transaction::<_, SettleError, _>(async move |c| {
        let row: Option<UnknownRow> = Fragment::sql(
            "SELECT d.\"indicationID\" AS policy_id, d.notification_type::text AS notification_type, \
                    d.details \
             FROM \"tblIndicationOfPolicyNotificationsDetails\" d \
             LEFT JOIN \"tblPolicy\" p ON p.\"PolicyID\" = d.\"indicationID\" \
             LEFT JOIN \"tblFamilies\" f ON f.\"FamilyID\" = p.\"FamilyID\" AND f.\"ValidityTo\" IS NULL \
             WHERE d.id = ",
        )
        .bind(detail_id)
        .with_sql(format!(" AND d.\"Status\" = {} AND (", DetailStatus::Unknown))
        .with(visible)
        .with_sql(") FOR UPDATE OF d")
        .query()
        .get_result(c)
        .await
        .map(Some)
        .or_else(|e| match e {
            diesel::result::Error::NotFound => Ok(None),
            e => Err(e),
        })?;
        let row = row.ok_or(SettleError::NotUnknown(detail_id))?;
        let event = EventType::from_name(&row.notification_type)
            .ok_or(SettleError::NotUnknown(detail_id))?;
        // The claim, locked against its sweep's heartbeat and outcome: a live lease means the
        // request may still be answered, so neither settlement is safe.
        let lease: Option<LeaseRow> = diesel::sql_query(
            "SELECT lease_until, COALESCE(lease_until > now(), FALSE) AS alive, provider::text AS provider \
             FROM pn_notification_claim WHERE detail_id = $1 FOR UPDATE",
        )
        .bind::<Int4, _>(detail_id)
        .load::<LeaseRow>(c)
        .await?
        .into_iter()
        .next();
        if let Some(l) = &lease
            && l.alive
            && let Some(until) = l.lease_until
        {
            return Err(SettleError::InFlight(detail_id, until));
        }
        let kind = match &lease {
            Some(l) if l.lease_until.is_none() && l.provider.is_some() => "no_answer",
            _ => "interrupted",
        };
        let (status, claim_state, details, marker_sql) = match how {
            Settlement::MarkSent => (
                DetailStatus::Sent,
                ClaimState::Sent,
                format!("marked as sent by {by} at {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")),
                "now()".to_string(),
            ),
            Settlement::Release => (
                DetailStatus::Error,
                ClaimState::Released,
                format!("released for another try by {by} at {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")),
                SENTINEL.to_string(),
            ),
        };
        diesel::sql_query(
            "UPDATE \"tblIndicationOfPolicyNotificationsDetails\" \
                 SET \"Status\" = $1, details = $2 WHERE id = $3",
        )
        .bind::<Int2, _>(status.code())
        .bind::<Text, _>(&details)
        .bind::<Int4, _>(detail_id)
        .execute(c)
        .await?;
        diesel::sql_query(
            "UPDATE pn_notification_claim SET state = $1, updated_at = now(), lease_until = NULL \
                 WHERE policy_id = $2 AND notification_type = $3",
        )
        .bind::<Int2, _>(claim_state.code())
        .bind::<Int4, _>(row.policy_id)
        .bind::<Text, _>(event.name())
        .execute(c)
        .await?;
        diesel::sql_query(
            "INSERT INTO pn_notification_settlement \
                 (detail_id, policy_id, notification_type, settlement, settled_by, kind, previous_details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind::<Int4, _>(detail_id)
        .bind::<Int4, _>(row.policy_id)
        .bind::<Text, _>(event.name())
        .bind::<Text, _>(match how {
            Settlement::MarkSent => "mark_sent",
            Settlement::Release => "release",
        })
        .bind::<Text, _>(&by)
        .bind::<Text, _>(kind)
        .bind::<Nullable<Text>, _>(&row.details)
        .execute(c)
        .await?;
        diesel::sql_query(format!(
            "UPDATE \"tblIndicationOfPolicyNotifications\" SET \"{}\" = {marker_sql} \
                 WHERE \"PolicyID\" = $1",
            event.marker_column()
        ))
        .bind::<Int4, _>(row.policy_id)
        .execute(c)
        .await?;
        let settled: HistoryRow = diesel::sql_query(format!("{} WHERE d.id = $1", history_select()))
            .bind::<Int4, _>(detail_id)
            .get_result(c)
            .await?;
        Ok(settled)
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
}

/// The days a sweep on `today` handles for the date-based `event`, ascending: `today`, and every
/// earlier day no sweep completed, from the day the event type was first seen enabled (recorded
/// now when it is first seen, unless `read_only`) and at most `window_days` back. The days are
/// marked as not completed until [`complete_days`] says otherwise, so that a sweep that stops
/// half-way leaves them to the next one.
pub async fn pending_days(
    conn: &mut AsyncPgConnection,
    event: EventType,
    today: NaiveDate,
    window_days: i64,
    read_only: bool,
) -> Result<Vec<NaiveDate>, DbError> {
    let window = i32::try_from(window_days.clamp(0, 3660)).unwrap_or(0);
    if !read_only {
        diesel::sql_query(
            "INSERT INTO pn_event_enabled (notification_type, since) VALUES ($1, $2) \
             ON CONFLICT (notification_type) DO NOTHING",
        )
        .bind::<Text, _>(event.name())
        .bind::<Date, _>(today)
        .execute(conn)
        .await?;
    }
    let days: Vec<DayRow> = diesel::sql_query(
        "SELECT day FROM (SELECT $2::date AS day UNION \
             SELECT g::date FROM pn_event_enabled e, \
                 generate_series(GREATEST(e.since, $2::date - $3::int), $2::date - 1, interval '1 day') g \
             WHERE e.notification_type = $1 AND NOT EXISTS (SELECT 1 FROM pn_sender_day s \
                 WHERE s.notification_type = $1 AND s.day = g::date)) x ORDER BY day",
    )
    .bind::<Text, _>(event.name())
    .bind::<Date, _>(today)
    .bind::<Int4, _>(window)
    .load(conn)
    .await?;
    let days: Vec<NaiveDate> = days.into_iter().map(|d| d.day).collect();
    if !read_only {
        diesel::sql_query(
            "DELETE FROM pn_sender_day WHERE notification_type = $1 AND day = ANY($2::date[])",
        )
        .bind::<Text, _>(event.name())
        .bind::<Array<Date>, _>(&days)
        .execute(conn)
        .await?;
    }
    Ok(days)
}

/// Records that the sweep `sweep_id` completed `event` on each of `days`.
pub async fn complete_days(
    conn: &mut AsyncPgConnection,
    event: EventType,
    days: &[NaiveDate],
    sweep_id: uuid::Uuid,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO pn_sender_day (notification_type, day, sweep_id) \
         SELECT $1, d, $3::uuid FROM unnest($2::date[]) d \
         ON CONFLICT (notification_type, day) DO UPDATE SET completed_at = now(), sweep_id = EXCLUDED.sweep_id",
    )
    .bind::<Text, _>(event.name())
    .bind::<Array<Date>, _>(days)
    .bind::<Text, _>(sweep_id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}
