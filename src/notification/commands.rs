//! The operator commands' logic (`send-notifications`, `send-test`); `main.rs` only parses
//! arguments and prints.

use std::fmt::Write as _;
use std::io::IsTerminal;

use super::events::EventType;
use super::gateway::{ChainResult, GatewayChain, GatewayError, SendOutcome};
use super::recipient::normalise;
use super::sender::{Sender, SenderError, SweepOptions, SweepReport, outcome_labels};
use crate::config::Settings;

/// A progress spinner on a terminal (stderr), nothing otherwise.
pub fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} messages  {msg}  [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

/// Runs one sweep now (whatever the hour, DECISIONS 17) and returns its report.
pub async fn send_notifications(
    sender: &Sender,
    as_of: Option<chrono::NaiveDate>,
    dry_run: bool,
) -> Result<SweepReport, SenderError> {
    let progress = progress_bar();
    let report = sender
        .sweep(SweepOptions {
            as_of,
            dry_run,
            progress: progress.clone(),
            stop: None,
        })
        .await;
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    report
}

/// The printed summary: one line per event and outcome, then a dry run's messages.
pub fn summary(report: &SweepReport, settings: &Settings, dry_run: bool) -> String {
    let mut out = String::new();
    let as_of = report
        .as_of
        .map(|d| d.to_string())
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(
        out,
        "{} for {as_of} ({:.1} s)",
        if dry_run { "dry run" } else { "sweep" },
        report.seconds
    );
    let mut any = false;
    for event in EventType::ALL {
        if !event.enabled(&settings.module.eligible_notification_types) {
            let _ = writeln!(out, "  {:<27} disabled", event.name());
            continue;
        }
        let parts: Vec<String> = outcome_labels()
            .into_iter()
            .filter_map(|o| {
                let n = report.count(event, o);
                (n > 0).then(|| format!("{o} {n}"))
            })
            .collect();
        any |= !parts.is_empty();
        let _ = writeln!(
            out,
            "  {:<27} {}",
            event.name(),
            if parts.is_empty() {
                "nothing due".to_string()
            } else {
                parts.join(", ")
            }
        );
    }
    if !any {
        let _ = writeln!(out, "nothing to send");
    }
    if !report.late_days.is_empty() {
        let days: Vec<String> = report
            .late_days
            .iter()
            .map(|(e, d)| format!("{e} {d}"))
            .collect();
        let _ = writeln!(
            out,
            "caught up days no sweep had completed: {}",
            days.join(", ")
        );
    }
    let unrecorded = report.total("sent_unrecorded") + report.total("unrecorded");
    let not_reached = report.total("not_reached");
    if unrecorded + not_reached > 0 || report.stopped_at.is_some() {
        let _ = writeln!(
            out,
            "stopped early: sent {} (recorded {}), sent but not recorded {}, attempted and not recorded {}, decided but not reached {}",
            report.total("sent") + report.total("sent_unrecorded"),
            report.total("sent"),
            report.total("sent_unrecorded"),
            report.total("unrecorded"),
            not_reached
        );
        if let Some((event, after)) = report.stopped_at {
            let _ = writeln!(
                out,
                "detection stopped at {event} after policy {after}; later events were not looked at"
            );
        }
    }
    match report.unknown_waiting {
        Some(n) if n > 0 => {
            let _ = writeln!(
                out,
                "unknown outcomes waiting for an operator: {n} (check the gateway's records, then mark sent or release: docs/operations.md)"
            );
        }
        _ => {}
    }
    if dry_run {
        for p in &report.planned {
            let _ = writeln!(
                out,
                "would send {} policy {} to {} [{}]: {}",
                p.event, p.policy_id, p.phone, p.language, p.text
            );
        }
    }
    out
}

/// Why a test message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendTestError {
    #[error("`{0}` is not a usable phone number")]
    BadPhone(String),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

/// Sends one test message to `to` through the chain (or only `provider`), recording nothing.
pub async fn send_test(
    settings: &Settings,
    to: &str,
    provider: Option<&str>,
    text: &str,
) -> Result<ChainResult, SendTestError> {
    let phone = normalise(to, &settings.service.country_code)
        .map_err(|_| SendTestError::BadPhone(crate::telemetry::mask_phone(to)))?;
    let mut chain = GatewayChain::from_settings(settings)?;
    if let Some(name) = provider {
        chain = chain.only(name)?;
    }
    Ok(chain.send(&phone, text).await)
}

/// A one-line description of a test outcome.
pub fn describe(result: &ChainResult) -> String {
    match &result.outcome {
        SendOutcome::Delivered => format!(
            "delivered through {}{}",
            result.provider,
            result.failover_note()
        ),
        SendOutcome::Failed(r) => format!("failed: {r}"),
        SendOutcome::Unknown(r) => format!("outcome unknown ({}): {r}", result.provider),
    }
}
