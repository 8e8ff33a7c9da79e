//! One sweep: detect → decide → record → send → record the outcome, for each enabled event.
//! Every attempt is claimed and committed before its request leaves and settled after, so a crash
//! or a second sweep never sends a message twice (DECISIONS 16–18).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use futures::StreamExt;
use tokio::sync::watch;
use tracing::Instrument;

use super::eligibility::{Context, Decision, Message, decide};
use super::events::{EventType, detect_chunk};
use super::gateway::{GatewayChain, GatewayError, SendOutcome};
use super::records::{self, DetailStatus};
use super::templates::{Catalogs, TemplateError};
use crate::config::Settings;
use crate::db::{DbError, Pool};
use crate::telemetry::mask_phone;

/// Policies read per detection query.
pub const CHUNK: i64 = 1000;

/// Why the sender cannot start or a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("notification templates: {0}")]
    Templates(#[from] TemplateError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// How to run a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// The day to run for (default: today in the configured time zone).
    pub as_of: Option<NaiveDate>,
    /// List what would be sent; write and send nothing.
    pub dry_run: bool,
    /// Progress display (only given on a terminal).
    pub progress: Option<indicatif::ProgressBar>,
    /// Becomes `true` when the service shuts down: no new claims after that.
    pub stop: Option<watch::Receiver<bool>>,
}

/// A message a dry run would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub event: EventType,
    pub policy_id: i32,
    /// Masked recipient.
    pub phone: String,
    pub language: String,
    pub text: String,
}

/// What a sweep did: counts per (event, outcome), and the planned messages of a dry run.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    pub as_of: Option<NaiveDate>,
    pub counts: BTreeMap<(EventType, &'static str), u64>,
    pub planned: Vec<Planned>,
    pub seconds: f64,
}

impl SweepReport {
    fn add(&mut self, event: EventType, outcome: &'static str) {
        *self.counts.entry((event, outcome)).or_default() += 1;
    }

    /// The count for (event, outcome).
    pub fn count(&self, event: EventType, outcome: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((e, o), _)| *e == event && *o == outcome)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The total for an outcome over every event.
    pub fn total(&self, outcome: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((_, o), _)| *o == outcome)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// The sender: settings, checked templates, the provider chain and the pool.
#[derive(Clone)]
pub struct Sender {
    pool: Pool,
    settings: Arc<Settings>,
    catalogs: Arc<Catalogs>,
    chain: Arc<GatewayChain>,
}

impl Sender {
    /// Loads and checks templates and providers (a start-up error when unusable).
    pub fn new(pool: Pool, settings: Arc<Settings>) -> Result<Self, SenderError> {
        let catalogs = Catalogs::load(
            settings.service.templates_dir.as_deref(),
            settings.service.default_language.as_deref(),
        )?;
        let chain = GatewayChain::from_settings(&settings)?;
        Ok(Self::with_parts(pool, settings, catalogs, chain))
    }

    /// A sender from ready parts (tests, tools).
    pub fn with_parts(
        pool: Pool,
        settings: Arc<Settings>,
        catalogs: Catalogs,
        chain: GatewayChain,
    ) -> Self {
        Sender {
            pool,
            settings,
            catalogs: Arc::new(catalogs),
            chain: Arc::new(chain),
        }
    }

    /// The provider chain.
    pub fn chain(&self) -> &GatewayChain {
        &self.chain
    }

    /// Today in the configured time zone.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.settings.service.timezone)
            .date_naive()
    }

    /// Runs one sweep over every enabled event.
    pub async fn sweep(&self, opts: SweepOptions) -> Result<SweepReport, SenderError> {
        let today = opts.as_of.unwrap_or_else(|| self.today());
        let span = tracing::info_span!("sweep", as_of = %today, dry_run = opts.dry_run);
        let started = Instant::now();
        let result = self
            .sweep_inner(today, &opts)
            .instrument(span.clone())
            .await;
        let seconds = started.elapsed().as_secs_f64();
        metrics::histogram!("pn_sweep_duration_seconds", "dry_run" => opts.dry_run.to_string())
            .record(seconds);
        let _g = span.enter();
        match &result {
            Ok(r) => tracing::info!(
                seconds,
                sent = r.total("sent"),
                failed = r.total("failed"),
                unknown = r.total("unknown"),
                "sweep finished"
            ),
            Err(e) => tracing::error!(seconds, error = %e, "sweep stopped"),
        }
        result.map(|mut r| {
            r.seconds = seconds;
            r
        })
    }

    /// One sweep as a pipeline: a producer detects and decides chunk by chunk (its rejections
    /// written by a recorder on a second connection), handing the messages to send over a
    /// bounded channel; the consumer sends them with bounded concurrency meanwhile. Detection of
    /// the next chunk thus overlaps sending of the current one, and memory stays bounded by the
    /// channels. At most `send_concurrency` + 2 connections are in use.
    async fn sweep_inner(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
    ) -> Result<SweepReport, SenderError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Message>(CHUNK as usize);
        let (produced, consumed) =
            tokio::join!(self.produce(today, opts, tx), self.consume(today, opts, rx));
        // A failed producer still lets the consumer send what was already decided; a failed
        // consumer drops the channel, which stops the producer at its next message.
        let mut report = produced?;
        let sent = consumed?;
        for (key, n) in sent.counts {
            *report.counts.entry(key).or_default() += n;
        }
        Ok(report)
    }

    /// Detects and decides every enabled event; passes the messages to send to `tx` (or lists
    /// them in the report on a dry run) and the rejections to a recorder that writes them on a
    /// connection of its own, so that writing one chunk's rejections overlaps detecting the next.
    async fn produce(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
        tx: tokio::sync::mpsc::Sender<Message>,
    ) -> Result<SweepReport, SenderError> {
        let (rtx, rrx) = tokio::sync::mpsc::channel::<Rejections>(2);
        let (detected, recorded) = tokio::join!(
            self.detect(today, opts, tx, rtx),
            self.record_rejections(today, rrx)
        );
        let report = detected?;
        recorded?;
        Ok(report)
    }

    /// Writes the rejections from `rx`, a chunk per transaction.
    async fn record_rejections(
        &self,
        today: NaiveDate,
        mut rx: tokio::sync::mpsc::Receiver<Rejections>,
    ) -> Result<(), SenderError> {
        let mut conn = None;
        while let Some((event, rejects)) = rx.recv().await {
            let c = match &mut conn {
                Some(c) => c,
                None => conn.insert(self.pool.get().await.map_err(DbError::from)?),
            };
            records::record_rejections(c, event, today, &rejects).await?;
            for (_, status, _) in &rejects {
                metrics::counter!("pn_notifications_total", "event" => event.name(), "gateway" => "none", "outcome" => status.label()).increment(1);
            }
        }
        Ok(())
    }

    /// The detection loop of [`Self::produce`].
    async fn detect(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
        tx: tokio::sync::mpsc::Sender<Message>,
        rejections: tokio::sync::mpsc::Sender<Rejections>,
    ) -> Result<SweepReport, SenderError> {
        let mut report = SweepReport {
            as_of: Some(today),
            ..Default::default()
        };
        let settings = &self.settings;
        let tz = settings.service.timezone.name().to_string();
        let ctx = Context {
            today,
            settings,
            catalogs: &self.catalogs,
        };
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        for event in EventType::ALL {
            if !event.enabled(&settings.module.eligible_notification_types) {
                continue;
            }
            let mut after = 0;
            loop {
                if stop_requested(opts) {
                    tracing::info!("stopping: shutdown requested");
                    return Ok(report);
                }
                let chunk =
                    detect_chunk(&mut conn, event, &settings.module, today, &tz, after, CHUNK)
                        .await?;
                let Some(last) = chunk.last() else { break };
                after = last.policy_id;
                let mut rejects = Vec::new();
                let mut sends = Vec::new();
                for c in &chunk {
                    match decide(event, c, &ctx) {
                        Decision::Send(m) => sends.push(m),
                        Decision::Reject { status, reason } => {
                            rejects.push((c.policy_id, status, reason))
                        }
                    }
                }
                for (_, status, _) in &rejects {
                    report.add(event, status.label());
                }
                if opts.dry_run {
                    for m in sends {
                        report.add(event, "would_send");
                        report.planned.push(Planned {
                            event,
                            policy_id: m.policy_id,
                            phone: mask_phone(&m.phone),
                            language: m.language,
                            text: m.text,
                        });
                    }
                    continue;
                }
                if !rejects.is_empty() && rejections.send((event, rejects)).await.is_err() {
                    // The recorder stopped (its error is reported by the sweep).
                    return Ok(report);
                }
                for m in sends {
                    if tx.send(m).await.is_err() {
                        // The consumer stopped (its error is reported by the sweep).
                        return Ok(report);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Sends the messages from `rx` with bounded concurrency; counts their outcomes.
    async fn consume(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
        rx: tokio::sync::mpsc::Receiver<Message>,
    ) -> Result<SweepReport, SenderError> {
        let mut report = SweepReport::default();
        let concurrency = self.settings.service.send_concurrency.max(1);
        let messages =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        let outcomes = messages
            .map(|m| {
                let event = m.event;
                async move { (event, self.deliver(m, today, opts).await) }
            })
            .buffer_unordered(concurrency);
        let mut outcomes = std::pin::pin!(outcomes);
        while let Some((event, r)) = outcomes.next().await {
            let label = r?;
            report.add(event, label);
            if let Some(pb) = &opts.progress {
                pb.inc(1);
                pb.set_message(format!(
                    "{} sent, {} failed, {} unknown",
                    report.total("sent"),
                    report.total("failed"),
                    report.total("unknown")
                ));
            }
        }
        Ok(report)
    }

    /// Claims, sends and settles one message; returns the outcome label.
    async fn deliver(
        &self,
        m: Message,
        today: NaiveDate,
        opts: &SweepOptions,
    ) -> Result<&'static str, SenderError> {
        if stop_requested(opts) {
            return Ok("not_started");
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let note = format!(
            "in flight since {} ({} chain: {})",
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
            m.language,
            self.chain.names().join(" > ")
        );
        let Some(detail_id) = records::claim(&mut conn, m.event, m.policy_id, today, &note).await?
        else {
            return Ok("claimed_elsewhere");
        };
        // Return the connection while waiting for the gateway.
        drop(conn);
        let result = self.chain.send(&m.phone, &m.text).await;
        let label = result.outcome.label();
        tracing::info!(
            event = m.event.name(),
            policy_id = m.policy_id,
            phone = %mask_phone(&m.phone),
            provider = %result.provider,
            outcome = label,
            "notification"
        );
        if let SendOutcome::Unknown(reason) = &result.outcome {
            tracing::warn!(policy_id = m.policy_id, event = m.event.name(), %reason, "outcome unknown: left for the operator (status 6)");
        }
        metrics::counter!("pn_notifications_total", "event" => m.event.name(), "gateway" => result.provider.clone(), "outcome" => label).increment(1);
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        records::record_outcome(
            &mut conn,
            m.event,
            m.policy_id,
            detail_id,
            &result.provider,
            &result.outcome,
        )
        .await?;
        Ok(label)
    }

    /// Sends one test message through the chain (no records).
    pub async fn send_test(&self, phone: &str, text: &str) -> super::gateway::ChainResult {
        self.chain.send(phone, text).await
    }
}

/// One chunk's rejected candidates of one event: (policy, status, reason).
type Rejections = (EventType, Vec<(i32, DetailStatus, String)>);

/// Whether the service asked the sweep to stop.
fn stop_requested(opts: &SweepOptions) -> bool {
    opts.stop.as_ref().is_some_and(|s| *s.borrow())
}

/// The detail statuses a summary may show, in order.
pub fn outcome_labels() -> Vec<&'static str> {
    let mut v = vec![
        "sent",
        "failed",
        "unknown",
        "claimed_elsewhere",
        "not_started",
        "would_send",
    ];
    for s in [
        DetailStatus::Refused,
        DetailStatus::Obsolete,
        DetailStatus::Invalid,
    ] {
        v.push(s.label());
    }
    v
}
