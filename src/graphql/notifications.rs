//! What the sender did, for operators: a policy's or family's notification history, the attempts
//! whose outcome is unknown (status 6), and settling one (mark as sent, or release for another
//! try). All need one of `service.notification_admin_perms` (default 131224) and honour the
//! caller's district restriction.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::context::{coded_error, conn, require_any_right, settings, user_error};
use crate::error::ErrorCode;
use crate::families::Scope;
use crate::notification::records::{self, HistoryOf, HistoryRow, Settlement};

/// The notification query root fields (merged into the query root).
#[derive(Default)]
pub struct NotificationQuery;

/// The notification mutation root fields (merged into the mutation root).
#[derive(Default)]
pub struct NotificationMutation;

/// One attempt to notify a family about a policy event.
#[derive(SimpleObject)]
pub struct NotificationAttempt {
    /// Attempt id (`tblIndicationOfPolicyNotificationsDetails.id`).
    pub id: i32,
    /// The policy's UUID.
    pub policy_uuid: Option<String>,
    /// The family's UUID.
    pub family_uuid: Option<String>,
    /// openIMIS event name, e.g. `starting_of_policy`.
    pub notification_type: String,
    /// 1 sent, 2 not approved, 3 obsolete, 4 failed, 5 invalid, 6 in flight or unknown.
    pub status: i32,
    /// The status as a word (`sent`, `not_approved`, `obsolete`, `failed`, `invalid`, `unknown`).
    pub status_label: String,
    /// Reason or outcome text.
    pub details: Option<String>,
    /// When the attempt was recorded.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// Provider that answered (for attempts that reached one).
    pub provider: Option<String>,
    /// For an unknown outcome (status 6): still in flight (its sweep is alive: cannot be
    /// settled), interrupted (the sweep died while sending) or no answer (the provider timed
    /// out or answered unreadably).
    pub unknown_kind: Option<UnknownOutcomeKind>,
    /// Until when the sweep sending an attempt in flight vouches for it (renewed while alive).
    pub lease_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The sweep that made the attempt.
    pub sweep_id: Option<String>,
    /// The operator who settled it (`MARK_SENT` / `RELEASE`), if one did.
    pub settled_by: Option<String>,
    /// When it was settled.
    pub settled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What is known about an unknown outcome.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UnknownOutcomeKind {
    /// The sweep sending it is alive and may still get the answer: wait.
    InFlight,
    /// The sweep stopped (crash, kill, lost database) while the request was out.
    Interrupted,
    /// The provider did not answer in time, or answered unreadably.
    NoAnswer,
}

impl From<HistoryRow> for NotificationAttempt {
    fn from(r: HistoryRow) -> Self {
        let label = records::DetailStatus::from_code(r.status)
            .map(|s| s.label())
            .unwrap_or("undefined");
        NotificationAttempt {
            id: r.id,
            policy_uuid: r.policy_uuid,
            family_uuid: r.family_uuid,
            notification_type: r.notification_type,
            status: i32::from(r.status),
            status_label: label.to_string(),
            details: r.details,
            recorded_at: r.at,
            provider: r.provider,
            unknown_kind: match r.unknown_kind.as_deref() {
                Some("in_flight") => Some(UnknownOutcomeKind::InFlight),
                Some("interrupted") => Some(UnknownOutcomeKind::Interrupted),
                Some("no_answer") => Some(UnknownOutcomeKind::NoAnswer),
                _ => None,
            },
            lease_until: r.lease_until,
            sweep_id: r.sweep_id,
            settled_by: r.settled_by,
            settled_at: r.settled_at,
        }
    }
}

/// How to settle an unknown outcome.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum NotificationSettlement {
    /// The message did arrive: record it as sent.
    MarkSent,
    /// It did not: let a later sweep send it again (if still due).
    Release,
}

#[Object]
impl NotificationQuery {
    /// Notification attempts of one policy (`policyUuid`) or of every policy of one family
    /// (`familyUuid`), newest first.
    async fn policy_notification_history(
        &self,
        ctx: &Context<'_>,
        policy_uuid: Option<String>,
        family_uuid: Option<String>,
    ) -> Result<Vec<NotificationAttempt>> {
        let identity = require_any_right(ctx, &settings(ctx)?.service.notification_admin_perms)?;
        let of = match (policy_uuid.as_deref(), family_uuid.as_deref()) {
            (Some(p), None) => HistoryOf::PolicyUuid(p.trim()),
            (None, Some(f)) => HistoryOf::FamilyUuid(f.trim()),
            _ => {
                return Err(coded_error(
                    ErrorCode::BadUserInput,
                    "give exactly one of policyUuid and familyUuid",
                ));
            }
        };
        let scope = Scope::of(identity);
        let mut c = conn(ctx).await?;
        let rows = records::history(&mut c, of, &scope)
            .await
            .map_err(|e| user_error(&e))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Attempts whose outcome is unknown (status 6), oldest first, each with its `unknownKind`:
    /// `IN_FLIGHT` (a live sweep is sending it: leave it), `INTERRUPTED` (its sweep stopped while
    /// sending) or `NO_ANSWER` (a timeout). They are never retried automatically; settle the
    /// others with `settleNotificationOutcome` after checking the gateway's own records
    /// (docs/operations.md).
    async fn unknown_notification_outcomes(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<NotificationAttempt>> {
        let identity = require_any_right(ctx, &settings(ctx)?.service.notification_admin_perms)?;
        let scope = Scope::of(identity);
        let mut c = conn(ctx).await?;
        let rows = records::unknown_outcomes(&mut c, &scope)
            .await
            .map_err(|e| user_error(&e))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[Object]
impl NotificationMutation {
    /// Settles an unknown outcome: `MARK_SENT` records the message as sent; `RELEASE` records it
    /// as failed so that a later sweep sends it again. Refused with `ATTEMPT_IN_FLIGHT` while
    /// the attempt's sweep is alive. The settlement is recorded with who and when. Returns the
    /// settled attempt.
    async fn settle_notification_outcome(
        &self,
        ctx: &Context<'_>,
        attempt_id: i32,
        settlement: NotificationSettlement,
    ) -> Result<NotificationAttempt> {
        let identity = require_any_right(ctx, &settings(ctx)?.service.notification_admin_perms)?;
        let scope = Scope::of(identity);
        let how = match settlement {
            NotificationSettlement::MarkSent => Settlement::MarkSent,
            NotificationSettlement::Release => Settlement::Release,
        };
        let mut c = conn(ctx).await?;
        let row = records::settle(&mut c, attempt_id, how, &identity.login, &scope)
            .await
            .map_err(|e| user_error(&e))?;
        tracing::info!(attempt_id, user = %crate::telemetry::user_text(&identity.login), settlement = ?how, "unknown notification outcome settled");
        Ok(row.into())
    }
}
