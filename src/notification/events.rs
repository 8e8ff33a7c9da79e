//! The six policy events and their set-based detection over current policies (docs/sender.md,
//! DECISIONS 14–16): one query per event type and chunk, read by key, excluding policies
//! already notified (openIMIS markers, including the `0001-01-01` sentinel and the status-4 retry
//! rule) and those our claims already cover.

use std::fmt;

use chrono::NaiveDate;
use diesel::sql_types::{Bool, Date, Int4, Int8, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::records::{ClaimState, DetailStatus};
use crate::config::{EligibleNotificationTypes, ModuleSettings};
use crate::db::DbError;
use crate::families::rules::phone_present_sql;

/// Markers before this instant are openIMIS's "attempted, not sent" sentinel (`0001-01-01`).
pub const SENTINEL_BEFORE: &str = "'0002-01-01 00:00:00+00'::timestamptz";
/// The sentinel value written for a rejected or failed event.
pub const SENTINEL: &str = "'0001-01-01 00:00:00+00'::timestamptz";

/// One of the six notification events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// The policy was activated.
    Activation,
    /// Coverage starts today (effective date).
    Starting,
    /// The policy expires in `reminder_before_expiry_days` and is not renewed.
    BeforeExpiry,
    /// The policy expires today and is not renewed.
    Expiration,
    /// The policy expired `reminder_after_expiry_days` ago and is not renewed.
    AfterExpiry,
    /// The policy was renewed.
    Renewal,
}

impl EventType {
    /// All six, in openIMIS's order.
    pub const ALL: [EventType; 6] = [
        EventType::Activation,
        EventType::Starting,
        EventType::BeforeExpiry,
        EventType::Expiration,
        EventType::AfterExpiry,
        EventType::Renewal,
    ];

    /// openIMIS's name (`eligibleNotificationTypes` key and detail `notification_type`).
    pub fn name(self) -> &'static str {
        match self {
            EventType::Activation => "activation_of_policy",
            EventType::Starting => "starting_of_policy",
            EventType::BeforeExpiry => "need_for_renewal",
            EventType::Expiration => "expiration_of_policy",
            EventType::AfterExpiry => "reminder_after_expiration",
            EventType::Renewal => "renewal_of_policy",
        }
    }

    /// The event for an openIMIS name.
    pub fn from_name(name: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The `tblIndicationOfPolicyNotifications` marker column of this event (DECISIONS 14).
    pub fn marker_column(self) -> &'static str {
        match self {
            EventType::Activation => "NotificationOnActivationSent",
            EventType::Starting => "NotificationOnEffectiveSent",
            EventType::BeforeExpiry => "NotificationBeforeExpirySent",
            EventType::Expiration => "NotificationOnExpirationSent",
            EventType::AfterExpiry => "NotificationAfterExpirationSent",
            EventType::Renewal => "NotificationOnRenewalSent",
        }
    }

    /// The template message id (DECISIONS 23).
    pub fn message_id(self) -> &'static str {
        match self {
            EventType::Activation => "policy_notification.sms_on_activation",
            EventType::Starting => "policy_notification.sms_on_effective",
            EventType::BeforeExpiry => "policy_notification.sms_before_expiry",
            EventType::Expiration => "policy_notification.sms_on_expiration",
            EventType::AfterExpiry => "policy_notification.sms_after_expiry",
            EventType::Renewal => "policy_notification.sms_on_renewal",
        }
    }

    /// Whether the event is tied to a calendar day (detected at most once per day, DECISIONS 16).
    pub fn date_based(self) -> bool {
        !matches!(self, EventType::Activation | EventType::Renewal)
    }

    /// Whether the configuration enables this event.
    pub fn enabled(self, types: &EligibleNotificationTypes) -> bool {
        match self {
            EventType::Activation => types.activation_of_policy,
            EventType::Starting => types.starting_of_policy,
            EventType::BeforeExpiry => types.need_for_renewal,
            EventType::Expiration => types.expiration_of_policy,
            EventType::AfterExpiry => types.reminder_after_expiration,
            EventType::Renewal => types.renewal_of_policy,
        }
    }

    /// The detection predicate over policy alias `p`; `$1` is today.
    fn predicate(self, module: &ModuleSettings) -> String {
        let not_renewed = not_renewed_sql("p");
        match self {
            EventType::Activation => {
                "p.\"PolicyStatus\" = 2 AND p.\"PolicyStage\" IS DISTINCT FROM 'R'".into()
            }
            EventType::Starting => {
                "p.\"PolicyStatus\" = 2 AND p.\"EffectiveDate\" = $1::date".into()
            }
            EventType::BeforeExpiry => format!(
                "p.\"ExpiryDate\" = $1::date + {}::int AND {not_renewed}",
                module.reminder_before_expiry_days
            ),
            EventType::Expiration => format!("p.\"ExpiryDate\" = $1::date AND {not_renewed}"),
            EventType::AfterExpiry => format!(
                "p.\"ExpiryDate\" = $1::date - {}::int AND {not_renewed}",
                module.reminder_after_expiry_days
            ),
            EventType::Renewal => "p.\"PolicyStatus\" = 2 AND p.\"PolicyStage\" = 'R'".into(),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SQL: policy `p` has not been renewed (DECISIONS 15): no current policy of the same family,
/// starting after `p` expires, on `p`'s product or any product down its `ConversionProdID` chain
/// (followed with loop protection).
pub fn not_renewed_sql(p: &str) -> String {
    format!(
        "NOT EXISTS (WITH RECURSIVE chain(prod, seen) AS ( \
            SELECT {p}.\"ProdID\", ARRAY[{p}.\"ProdID\"] \
            UNION ALL \
            SELECT pr.\"ConversionProdID\", chain.seen || pr.\"ConversionProdID\" \
            FROM chain JOIN \"tblProduct\" pr ON pr.\"ProdID\" = chain.prod \
            WHERE pr.\"ConversionProdID\" IS NOT NULL \
              AND NOT (pr.\"ConversionProdID\" = ANY (chain.seen)) \
              AND cardinality(chain.seen) < 64) \
         SELECT 1 FROM \"tblPolicy\" rn \
         WHERE rn.\"FamilyID\" = {p}.\"FamilyID\" AND rn.\"ValidityTo\" IS NULL \
           AND rn.\"PolicyID\" <> {p}.\"PolicyID\" \
           AND rn.\"ProdID\" IN (SELECT prod FROM chain) \
           AND rn.\"StartDate\" >= {p}.\"ExpiryDate\" + 1)"
    )
}

/// A detected policy with everything the decision and the message need.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Candidate {
    #[diesel(sql_type = Int4)]
    pub policy_id: i32,
    #[diesel(sql_type = Int4)]
    pub family_id: i32,
    #[diesel(sql_type = Nullable<Date>)]
    pub effective_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub expiry_date: Option<NaiveDate>,
    /// The day (service time zone) the current policy row was written: the event time of
    /// activation and renewal.
    #[diesel(sql_type = Date)]
    pub validity_day: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    pub product_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub product_name: Option<String>,
    #[diesel(sql_type = Bool)]
    pub family_found: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub chfid: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub other_names: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub head_phone: Option<String>,
    /// The first current member's phone, read only when the head's phone has no digit (the
    /// only case where the recipient rule falls back to it).
    #[diesel(sql_type = Nullable<Text>)]
    pub member_phone: Option<String>,
    /// DECISIONS 2, as `families::rules::approved_sql`, read with the language in one probe
    /// of the family's `tblFamilySMS` row.
    #[diesel(sql_type = Bool)]
    pub approved: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub language: Option<String>,
    #[diesel(sql_type = Text)]
    pub amount_to_be_paid: String,
}

/// SQL: the not-yet-notified rule for `event` over policy alias `p` (openIMIS markers, the
/// status-4 retry rule, and our claims; DECISIONS 16 for failed date-based events). `today` is
/// the SQL parameter holding today's date.
///
/// `keys` bounds the policy ids the caller can hold (e.g. `"> $2"` after a keyset, or
/// `"BETWEEN $5 AND $6"` for a chunk). It repeats the caller's own bound inside each subquery:
/// redundant for the result, but it lets PostgreSQL read only that key range of the marker,
/// detail and claim indexes instead of all of them, so a sweep costs O(policies), not
/// O(chunks × notified policies).
pub fn not_notified_sql(event: EventType, p: &str, today: &str, keys: &str) -> String {
    let marker = event.marker_column();
    let ty = event.name();
    let same_day = if event.date_based() {
        format!(
            "OR (c.state = {} AND c.claimed_on >= {today}::date)",
            ClaimState::Failed
        )
    } else {
        String::new()
    };
    format!(
        "NOT EXISTS (SELECT 1 FROM \"tblIndicationOfPolicyNotifications\" i \
            WHERE i.\"PolicyID\" = {p}.\"PolicyID\" AND i.\"PolicyID\" {keys} \
              AND i.\"{marker}\" IS NOT NULL \
              AND NOT (i.\"{marker}\" < {SENTINEL_BEFORE} AND EXISTS ( \
                SELECT 1 FROM \"tblIndicationOfPolicyNotificationsDetails\" d \
                WHERE d.\"indicationID\" = {p}.\"PolicyID\" AND d.\"indicationID\" {keys} \
                  AND d.notification_type = '{ty}' AND d.\"Status\" = {failed}))) \
         AND NOT EXISTS (SELECT 1 FROM pn_notification_claim c \
            WHERE c.policy_id = {p}.\"PolicyID\" AND c.policy_id {keys} \
              AND c.notification_type = '{ty}' \
              AND (c.state IN ({sent}, {unknown}) {same_day}))",
        failed = DetailStatus::Error,
        sent = ClaimState::Sent,
        unknown = ClaimState::Unknown,
    )
}

/// Reads the next chunk of candidates for `event` after policy `after`, at most `limit`.
pub async fn detect_chunk(
    conn: &mut AsyncPgConnection,
    event: EventType,
    module: &ModuleSettings,
    today: NaiveDate,
    timezone: &str,
    after: i32,
    limit: i64,
) -> Result<Vec<Candidate>, DbError> {
    let sql = detection_sql(event, module);
    let rows = diesel::sql_query(sql)
        .bind::<Date, _>(today)
        .bind::<Int4, _>(after)
        .bind::<Int8, _>(limit)
        .bind::<Text, _>(timezone)
        .load::<Candidate>(conn)
        .await?;
    Ok(rows)
}

/// The detection query of `event` (`$1` today, `$2` last key, `$3` limit, `$4` time zone).
pub fn detection_sql(event: EventType, module: &ModuleSettings) -> String {
    let predicate = event.predicate(module);
    let not_notified = not_notified_sql(event, "p", "$1", "> $2");
    let member_phone = phone_present_sql("m.\"Phone\"");
    format!(
        "SELECT p.\"PolicyID\" AS policy_id, p.\"FamilyID\" AS family_id, \
            p.\"EffectiveDate\" AS effective_date, p.\"ExpiryDate\" AS expiry_date, \
            (p.\"ValidityFrom\" AT TIME ZONE $4)::date AS validity_day, \
            pr.\"ProductCode\"::text AS product_code, pr.\"ProductName\"::text AS product_name, \
            (f.\"FamilyID\" IS NOT NULL AND h.\"InsureeID\" IS NOT NULL) AS family_found, \
            h.\"CHFID\"::text AS chfid, h.\"OtherNames\"::text AS other_names, \
            h.\"LastName\"::text AS last_name, h.\"Phone\"::text AS head_phone, \
            CASE WHEN h.\"Phone\" ~ '[0-9]' THEN NULL ELSE \
            (SELECT m.\"Phone\"::text FROM \"tblInsuree\" m WHERE m.\"FamilyID\" = p.\"FamilyID\" \
                AND m.\"ValidityTo\" IS NULL AND {member_phone} ORDER BY m.\"InsureeID\" LIMIT 1) \
            END AS member_phone, \
            COALESCE(sms.approved, FALSE) AS approved, sms.language AS language, \
            GREATEST(COALESCE(p.\"PolicyValue\", 0) - COALESCE((SELECT sum(pm.\"Amount\") \
                FROM \"tblPremium\" pm WHERE pm.\"PolicyID\" = p.\"PolicyID\" \
                AND pm.\"ValidityTo\" IS NULL AND pm.\"isPhotoFee\" IS NOT TRUE), 0), 0)::numeric(18,2)::text \
                AS amount_to_be_paid \
         FROM \"tblPolicy\" p \
         LEFT JOIN \"tblFamilies\" f ON f.\"FamilyID\" = p.\"FamilyID\" AND f.\"ValidityTo\" IS NULL \
         LEFT JOIN \"tblInsuree\" h ON h.\"InsureeID\" = f.\"InsureeID\" \
         LEFT JOIN \"tblProduct\" pr ON pr.\"ProdID\" = p.\"ProdID\" \
         LEFT JOIN LATERAL (SELECT bool_or(s.\"ApprovalOfSMS\") AS approved, \
                min(s.\"LanguageOfSMS\")::text AS language FROM \"tblFamilySMS\" s \
                WHERE s.\"FamilyID\" = p.\"FamilyID\" AND s.\"ValidityTo\" IS NULL) sms ON TRUE \
         WHERE p.\"ValidityTo\" IS NULL AND p.\"PolicyID\" > $2 \
           AND {predicate} \
           AND {not_notified} \
         ORDER BY p.\"PolicyID\" \
         LIMIT $3"
    )
}
