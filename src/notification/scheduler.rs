//! The background sender inside `serve`: a sweep at each trigger hour in the configured time zone
//! (DECISIONS 17), stopping cleanly on shutdown.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;

use super::events::EventType;
use super::sender::{Sender, SweepOptions};
use crate::config::TriggerHours;

/// The first trigger instant strictly after `now`.
pub fn next_run(now: DateTime<Utc>, hours: &TriggerHours, tz: Tz) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    for day in 0..3 {
        let date = local.date_naive() + chrono::Duration::days(day);
        for &h in hours.hours() {
            let Some(t) = NaiveTime::from_hms_opt(h, 0, 0) else {
                continue;
            };
            // A trigger hour skipped by a daylight-saving jump does not run that day.
            let Some(at) = tz.from_local_datetime(&date.and_time(t)).earliest() else {
                continue;
            };
            let at = at.with_timezone(&Utc);
            if at > now {
                return Some(at);
            }
        }
    }
    None
}

/// Runs sweeps at the trigger hours until `stop` becomes true; with `sweep_at_start` (the demo)
/// one sweep first, right away, so that its messages can be seen without waiting for a trigger
/// hour.
pub async fn run(
    sender: Sender,
    hours: TriggerHours,
    tz: Tz,
    mut stop: watch::Receiver<bool>,
    sweep_at_start: bool,
) {
    let types = &sender.settings().module.eligible_notification_types;
    let enabled: Vec<&str> = EventType::ALL
        .into_iter()
        .filter(|e| e.enabled(types))
        .map(EventType::name)
        .collect();
    tracing::info!(hours = %hours, timezone = %tz.name(), events = %enabled.join(","), "notification scheduler started");
    if enabled.is_empty() {
        tracing::warn!(
            "no notification event type is enabled (policy_notification.eligible_notification_types): \
             the scheduler will never send a message; enable at least one event type, or start with \
             `serve --demo` for a demonstration"
        );
    }
    // The gauge and the warning from the start, not only after the first sweep.
    if let Err(e) = sender.check_unknown_outcomes().await {
        tracing::warn!(error = %e, "unknown notification outcomes not counted");
    }
    if sweep_at_start {
        sweep(&sender, &stop).await;
    }
    loop {
        if *stop.borrow() {
            break;
        }
        let Some(at) = next_run(Utc::now(), &hours, tz) else {
            tracing::error!("no next trigger hour: scheduler stops");
            break;
        };
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tracing::info!(next = %at, "next notification sweep");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => { continue; }
        }
        sweep(&sender, &stop).await;
    }
    tracing::info!("notification scheduler stopped");
}

async fn sweep(sender: &Sender, stop: &watch::Receiver<bool>) {
    if *stop.borrow() {
        return;
    }
    let opts = SweepOptions {
        stop: Some(stop.clone()),
        ..Default::default()
    };
    match sender.sweep(opts).await {
        Ok(_) => {}
        Err(super::sender::SenderError::GaveUp { error, report }) => tracing::error!(
            %error,
            sent = report.total("sent"),
            sent_unrecorded = report.total("sent_unrecorded"),
            not_reached = report.total("not_reached"),
            "scheduled sweep gave up after database errors; the next trigger hour takes up the rest"
        ),
        Err(e) => {
            tracing::error!(error = %e, "scheduled sweep failed; the next trigger hour retries")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_trigger_in_zone() {
        let hours: TriggerHours = "8,12,16".parse().unwrap();
        let tz: Tz = "Africa/Dar_es_Salaam".parse().unwrap();
        // 09:30 UTC = 12:30 in Dar es Salaam: next is 16:00 local = 13:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 0).unwrap();
        assert_eq!(
            next_run(now, &hours, tz),
            Some(Utc.with_ymd_and_hms(2026, 11, 27, 13, 0, 0).unwrap())
        );
        // After the last hour: 08:00 local next day.
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 14, 0, 0).unwrap();
        assert_eq!(
            next_run(now, &hours, tz),
            Some(Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap())
        );
    }
}
