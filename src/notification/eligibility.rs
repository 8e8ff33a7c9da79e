//! Whether a detected policy gets its message, in openIMIS's order: family approval, activation
//! on the effective day (the start message covers it), obsolete events, then a usable recipient.
//! Pure decisions; the records are written by `records`.

use chrono::NaiveDate;

use super::events::{Candidate, EventType};
use super::recipient::{RecipientError, recipient};
use super::records::DetailStatus;
use super::templates::{Catalogs, Fields};
use crate::config::Settings;

/// What the sender does with one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send this message.
    Send(Message),
    /// Record that it is not sent, with a status and a reason.
    Reject {
        status: DetailStatus,
        reason: String,
    },
}

/// A message ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub policy_id: i32,
    pub family_id: i32,
    pub event: EventType,
    /// Normalised recipient (never logged unmasked).
    pub phone: String,
    /// Language whose template was used.
    pub language: String,
    pub text: String,
}

/// What a decision depends on besides the candidate.
pub struct Context<'a> {
    pub today: NaiveDate,
    pub settings: &'a Settings,
    pub catalogs: &'a Catalogs,
}

/// Decides the fate of `c` for `event`.
pub fn decide(event: EventType, c: &Candidate, ctx: &Context<'_>) -> Decision {
    let module = &ctx.settings.module;
    let reject = |status, reason: &str| Decision::Reject {
        status,
        reason: reason.to_string(),
    };
    if !c.family_found {
        return reject(
            DetailStatus::Invalid,
            "the policy's family or its head insuree is not current",
        );
    }
    if !c.approved {
        return reject(
            DetailStatus::Refused,
            "the family has not approved notifications",
        );
    }
    match event {
        EventType::Activation => {
            if module.eligible_notification_types.starting_of_policy
                && c.effective_date == Some(ctx.today)
            {
                return reject(
                    DetailStatus::Invalid,
                    "the policy takes effect today: the start message covers it",
                );
            }
            let oldest = ctx.today
                - chrono::Duration::days(module.policy_activation_relevance_maximum_days_timedelta);
            if c.validity_day < oldest {
                return reject(
                    DetailStatus::Obsolete,
                    "the activation is older than the relevance window",
                );
            }
        }
        EventType::Renewal => {
            let oldest = ctx.today
                - chrono::Duration::days(module.policy_renewal_relevance_maximum_days_timedelta);
            if c.validity_day < oldest {
                return reject(
                    DetailStatus::Obsolete,
                    "the renewal is older than the relevance window",
                );
            }
        }
        _ => {}
    }
    let phone = match recipient(
        c.head_phone.as_deref(),
        c.member_phone.as_deref(),
        &ctx.settings.service.country_code,
    ) {
        Ok(p) => p,
        Err(e @ RecipientError::NoPhone) | Err(e @ RecipientError::Unusable) => {
            return reject(DetailStatus::Invalid, &e.to_string());
        }
    };
    let fields = fields(c);
    let language = ctx
        .catalogs
        .resolve_language(c.language.as_deref())
        .to_string();
    let text = ctx.catalogs.render(Some(&language), event, &fields);
    Decision::Send(Message {
        policy_id: c.policy_id,
        family_id: c.family_id,
        event,
        phone,
        language,
        text,
    })
}

/// The template values of a candidate.
pub fn fields(c: &Candidate) -> Fields {
    let date = |d: Option<NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let name = format!(
        "{} {}",
        c.other_names.as_deref().unwrap_or("").trim(),
        c.last_name.as_deref().unwrap_or("").trim()
    )
    .trim()
    .to_string();
    Fields {
        insurance_id: c.chfid.clone().unwrap_or_default().trim().to_string(),
        name,
        effective_date: date(c.effective_date),
        expiry_date: date(c.expiry_date),
        product_code: c.product_code.clone().unwrap_or_default(),
        product_name: c.product_name.clone().unwrap_or_default(),
        amount_to_be_paid: c.amount_to_be_paid.clone(),
    }
}
