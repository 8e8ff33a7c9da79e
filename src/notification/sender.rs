//! One sweep: detect → decide → record → send → record the outcome, for each enabled event.
//! Every attempt is claimed and committed before its request leaves and settled after, so a crash
//! or a second sweep never sends a message twice (DECISIONS 16–18).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// The database stayed unreachable past the retry bound: the report says what the sweep
    /// did before it gave up.
    #[error("the sweep gave up after database errors: {error}")]
    GaveUp {
        error: String,
        report: Box<SweepReport>,
    },
}

/// How long the sender waits out database errors (connection lost, server restarting): waits
/// start at `first`, double up to `max`, and an operation gives up once waiting longer would
/// pass `give_up_after` since its first failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first: Duration::from_millis(250),
            max: Duration::from_secs(10),
            give_up_after: Duration::from_secs(120),
        }
    }
}

/// The backoff state of one database operation.
struct Backoff {
    policy: RetryPolicy,
    next: Duration,
    started: Option<Instant>,
    attempt: u32,
}

impl Backoff {
    fn new(policy: RetryPolicy) -> Self {
        Backoff {
            policy,
            next: policy.first,
            started: None,
            attempt: 0,
        }
    }

    /// After a failure: waits and returns `true` when the error is worth another try, `false`
    /// when it is not (a fault of the statement) or the bound is reached.
    async fn wait(&mut self, e: &DbError, what: &'static str) -> bool {
        if !transient(e) {
            return false;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        if started.elapsed() + self.next > self.policy.give_up_after {
            tracing::error!(operation = what, attempts = self.attempt + 1, error = %e, "database still failing: giving up");
            return false;
        }
        self.attempt += 1;
        tracing::warn!(operation = what, attempt = self.attempt, wait_ms = self.next.as_millis() as u64, error = %e, "database error: retrying after a pause");
        metrics::counter!("pn_sweep_db_retries_total", "operation" => what).increment(1);
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.policy.max);
        true
    }
}

/// Whether a database error is the connection's or the server's (worth waiting out), not the
/// statement's.
fn transient(e: &DbError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        DbError::Connect(_) | DbError::Pool(_) => true,
        DbError::Query(Error::BrokenTransactionManager) => true,
        DbError::Query(Error::DatabaseError(kind, info)) => match kind {
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure => true,
            _ => {
                let m = info.message().to_ascii_lowercase();
                [
                    "terminating connection",
                    "connection",
                    "shutting down",
                    "starting up",
                    "recovery mode",
                    "deadlock detected",
                    "server closed",
                ]
                .iter()
                .any(|w| m.contains(w))
            }
        },
        _ => false,
    }
}

/// Runs `$body` (an async expression over `$c: &mut AsyncPgConnection`, a connection from the
/// sender's pool) until it succeeds, waiting out transient database errors with `$backoff`.
macro_rules! retrying {
    ($sender:expr, $what:expr, |$c:ident| $body:expr) => {{
        let mut backoff = Backoff::new($sender.retry);
        loop {
            let r: Result<_, DbError> = async {
                let mut conn = $sender.pool.get().await.map_err(DbError::from)?;
                let $c: &mut diesel_async::AsyncPgConnection = &mut conn;
                $body.await
            }
            .await;
            match r {
                Ok(v) => break Ok(v),
                Err(e) => {
                    if !backoff.wait(&e, $what).await {
                        break Err(e);
                    }
                }
            }
        }
    }};
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
    /// Unknown outcomes waiting for an operator after the sweep (interrupted or unanswered,
    /// of every sweep so far), when it could be counted.
    pub unknown_waiting: Option<i64>,
    /// Where detection stopped when the sweep gave up: the event and the last policy done.
    pub stopped_at: Option<(EventType, i32)>,
    /// Earlier days of date events this sweep caught up (not completed by an earlier sweep).
    pub late_days: Vec<(EventType, NaiveDate)>,
    /// The days of each date event that detection went through.
    pub detected_days: Vec<(EventType, Vec<NaiveDate>)>,
    /// Whether detection went through every enabled event (no stop, no giving up).
    pub detected_all: bool,
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
    lease: Duration,
    heartbeat: Duration,
    retry: RetryPolicy,
}

/// The default lease of a claim and the heartbeat period renewing it.
pub const LEASE: Duration = Duration::from_secs(60);
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// One sweep's shared state: its owner id, and the first database error it gave up on.
struct Run {
    owner: records::Owner,
    gave_up: Mutex<Option<String>>,
}

impl Run {
    fn gave_up(&self) -> bool {
        self.gave_up.lock().map(|g| g.is_some()).unwrap_or(true)
    }

    fn give_up(&self, e: &DbError) {
        if let Ok(mut g) = self.gave_up.lock()
            && g.is_none()
        {
            *g = Some(e.to_string());
        }
    }
}

/// Aborts the heartbeat task when the sweep ends, however it ends (dropped included).
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

impl Sender {
    /// The settings the sender runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

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
        let retry = RetryPolicy {
            give_up_after: Duration::from_secs(settings.service.sweep_db_retry_seconds),
            ..RetryPolicy::default()
        };
        Sender {
            pool,
            settings,
            catalogs: Arc::new(catalogs),
            chain: Arc::new(chain),
            lease: LEASE,
            heartbeat: HEARTBEAT,
            retry,
        }
    }

    /// The same sender with another claim lease and heartbeat period (tests, tools).
    pub fn with_lease(mut self, lease: Duration, heartbeat: Duration) -> Self {
        self.lease = lease;
        self.heartbeat = heartbeat.min(lease);
        self
    }

    /// The same sender with another retry policy for database errors.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Counts the unknown outcomes waiting for an operator, sets the
    /// `pn_unknown_outcomes_waiting` gauge and warns when there are any.
    pub async fn check_unknown_outcomes(&self) -> Result<i64, DbError> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let (waiting, in_flight) = records::unknown_counts(&mut conn).await?;
        metrics::gauge!("pn_unknown_outcomes_waiting").set(waiting as f64);
        if waiting > 0 {
            tracing::warn!(
                waiting,
                in_flight,
                "unknown notification outcomes wait for an operator: check the gateway's records, \
                 then settleNotificationOutcome MARK_SENT or RELEASE (docs/operations.md)"
            );
        }
        Ok(waiting)
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
        let run = Run {
            owner: records::Owner {
                sweep_id: uuid::Uuid::new_v4(),
                lease: self.lease,
            },
            gave_up: Mutex::new(None),
        };
        if !opts.dry_run {
            self.record_start(run.owner.sweep_id, today)
                .instrument(span.clone())
                .await;
        }
        let result = self
            .sweep_inner(today, &opts, &run)
            .instrument(span.clone())
            .await;
        // After giving up on the database, counting would only wait for it again.
        let waiting = if opts.dry_run || run.gave_up() {
            None
        } else {
            self.check_unknown_outcomes()
                .instrument(span.clone())
                .await
                .map_err(|e| tracing::warn!(error = %e, "unknown outcomes not counted"))
                .ok()
        };
        let result = result.map(|mut r| {
            r.unknown_waiting = waiting;
            r
        });
        let result = match (result, run.gave_up.lock().ok().and_then(|g| g.clone())) {
            (Ok(report), Some(error)) => Err(SenderError::GaveUp {
                error,
                report: Box::new(report),
            }),
            (other, _) => other,
        };
        let seconds = started.elapsed().as_secs_f64();
        metrics::histogram!("pn_sweep_duration_seconds", "dry_run" => opts.dry_run.to_string())
            .record(seconds);
        if !opts.dry_run {
            self.record_end(run.owner.sweep_id, &result, seconds)
                .instrument(span.clone())
                .await;
        }
        let _g = span.enter();
        match &result {
            Ok(r) => tracing::info!(
                seconds,
                sent = r.total("sent"),
                failed = r.total("failed"),
                unknown = r.total("unknown"),
                unknown_waiting = r.unknown_waiting.unwrap_or_default(),
                late_days = r.late_days.len(),
                "sweep finished"
            ),
            Err(e) => tracing::error!(seconds, error = %e, "sweep stopped"),
        }
        match result {
            Ok(mut r) => {
                r.seconds = seconds;
                Ok(r)
            }
            Err(SenderError::GaveUp { error, mut report }) => {
                report.seconds = seconds;
                Err(SenderError::GaveUp { error, report })
            }
            Err(e) => Err(e),
        }
    }

    /// Records in `pn_sweep` that the sweep started (a failure is logged: the sweep goes on).
    async fn record_start(&self, id: uuid::Uuid, as_of: NaiveDate) {
        let r = async {
            let mut c = self.pool.get().await.map_err(DbError::from)?;
            super::sweeps::started(&mut c, id, as_of).await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "the sweep's start was not recorded");
        }
    }

    /// Records in `pn_sweep` how the sweep ended, with its counts and duration.
    async fn record_end(
        &self,
        id: uuid::Uuid,
        result: &Result<SweepReport, SenderError>,
        seconds: f64,
    ) {
        use super::sweeps::SweepOutcome;
        let (outcome, report, error) = match result {
            Ok(r) if r.detected_all => (SweepOutcome::Completed, Some(r), None),
            Ok(r) => (SweepOutcome::Stopped, Some(r), None),
            Err(SenderError::GaveUp { error, report }) => (
                SweepOutcome::GaveUp,
                Some(report.as_ref()),
                Some(error.clone()),
            ),
            Err(e) => (SweepOutcome::Failed, None, Some(e.to_string())),
        };
        let mut counts = serde_json::Map::new();
        for ((event, label), n) in report.map(|r| &r.counts).into_iter().flatten() {
            if let serde_json::Value::Object(m) = counts
                .entry(event.name())
                .or_insert_with(|| serde_json::json!({}))
            {
                m.insert((*label).to_string(), serde_json::json!(n));
            }
        }
        let counts = serde_json::Value::Object(counts);
        let r = async {
            let mut c = self.pool.get().await.map_err(DbError::from)?;
            super::sweeps::finished(&mut c, id, outcome, seconds, &counts, error.as_deref()).await
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "the sweep's end was not recorded");
        }
    }

    /// One sweep as a pipeline: a producer detects and decides chunk by chunk (its rejections
    /// written by a recorder on a second connection), handing the messages to send over a
    /// bounded channel; the consumer sends them with bounded concurrency meanwhile. Detection of
    /// the next chunk thus overlaps sending of the current one, and memory stays bounded by the
    /// channels. At most `send_concurrency` + 3 connections are in use (the heartbeat's briefly).
    async fn sweep_inner(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
        run: &Run,
    ) -> Result<SweepReport, SenderError> {
        let _heartbeat = AbortOnDrop((!opts.dry_run).then(|| self.spawn_heartbeat(run.owner)));
        let (tx, rx) = tokio::sync::mpsc::channel::<(Message, NaiveDate)>(CHUNK as usize);
        let (produced, consumed) = tokio::join!(
            self.produce(today, opts, run, tx),
            self.consume(opts, run, rx)
        );
        // A failed producer still lets the consumer send what was already decided; a failed
        // consumer drops the channel, which stops the producer at its next message.
        let mut report = produced?;
        let sent = consumed?;
        for (key, n) in sent.counts {
            *report.counts.entry(key).or_default() += n;
        }
        // A day counts as completed only when everything of it was decided and settled.
        let unfinished = [
            "not_started",
            "not_reached",
            "sent_unrecorded",
            "unrecorded",
        ]
        .iter()
        .map(|o| report.total(o))
        .sum::<u64>();
        if !opts.dry_run && report.detected_all && unfinished == 0 && !run.gave_up() {
            for (event, days) in &report.detected_days {
                if let Err(e) = retrying!(self, "complete_days", |c| records::complete_days(
                    c,
                    *event,
                    days,
                    run.owner.sweep_id
                )) {
                    run.give_up(&e);
                }
            }
        }
        Ok(report)
    }

    /// Renews the lease of this sweep's claims in flight every `heartbeat`, until aborted; a
    /// failed renewal is logged and tried again at the next beat.
    fn spawn_heartbeat(&self, owner: records::Owner) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        let every = self.heartbeat;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let r = async {
                    let mut c = pool.get().await.map_err(DbError::from)?;
                    records::heartbeat(&mut c, owner).await
                }
                .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "claim heartbeat failed; the next beat retries");
                }
            }
        })
    }

    /// Detects and decides every enabled event; passes the messages to send to `tx` (or lists
    /// them in the report on a dry run) and the rejections to a recorder that writes them on a
    /// connection of its own, so that writing one chunk's rejections overlaps detecting the next.
    async fn produce(
        &self,
        today: NaiveDate,
        opts: &SweepOptions,
        run: &Run,
        tx: tokio::sync::mpsc::Sender<(Message, NaiveDate)>,
    ) -> Result<SweepReport, SenderError> {
        let (rtx, rrx) = tokio::sync::mpsc::channel::<Rejections>(2);
        let (detected, recorded) = tokio::join!(
            self.detect(today, opts, run, tx, rtx),
            self.record_rejections(run, rrx)
        );
        let report = detected?;
        recorded?;
        Ok(report)
    }

    /// Writes the rejections from `rx`, a chunk per transaction.
    async fn record_rejections(
        &self,
        run: &Run,
        mut rx: tokio::sync::mpsc::Receiver<Rejections>,
    ) -> Result<(), SenderError> {
        while let Some((event, day, rejects)) = rx.recv().await {
            let r = retrying!(self, "record_rejections", |c| records::record_rejections(
                c, event, day, &rejects
            ));
            if let Err(e) = r {
                run.give_up(&e);
                return Ok(());
            }
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
        run: &Run,
        tx: tokio::sync::mpsc::Sender<(Message, NaiveDate)>,
        rejections: tokio::sync::mpsc::Sender<Rejections>,
    ) -> Result<SweepReport, SenderError> {
        let mut report = SweepReport {
            as_of: Some(today),
            ..Default::default()
        };
        let settings = &self.settings;
        let tz = settings.service.timezone.name().to_string();
        let module = &settings.module;
        let window = module
            .policy_activation_relevance_maximum_days_timedelta
            .max(module.policy_renewal_relevance_maximum_days_timedelta);
        for event in EventType::ALL {
            if !event.enabled(&module.eligible_notification_types) {
                continue;
            }
            // Date events: today and every earlier day not completed yet (no missed day).
            let days = if event.date_based() {
                match retrying!(self, "pending_days", |c| records::pending_days(
                    c,
                    event,
                    today,
                    window,
                    opts.dry_run
                )) {
                    Ok(days) => days,
                    Err(e) => {
                        run.give_up(&e);
                        report.stopped_at = Some((event, 0));
                        return Ok(report);
                    }
                }
            } else {
                vec![today]
            };
            for &day in &days {
                if day < today {
                    tracing::info!(event = event.name(), %day, "catching up a day not completed");
                    report.late_days.push((event, day));
                }
                let ctx = Context {
                    today: day,
                    settings,
                    catalogs: &self.catalogs,
                };
                let mut after = 0;
                loop {
                    if stop_requested(opts) {
                        tracing::info!("stopping: shutdown requested");
                        return Ok(report);
                    }
                    if run.gave_up() {
                        report.stopped_at = Some((event, after));
                        return Ok(report);
                    }
                    // Detection resumes from the last key it finished: a chunk that failed is
                    // read again from the same key, so nothing is decided twice in one sweep.
                    let chunk = match retrying!(self, "detect", |c| detect_chunk(
                        c, event, module, day, &tz, after, CHUNK
                    )) {
                        Ok(chunk) => chunk,
                        Err(e) => {
                            run.give_up(&e);
                            report.stopped_at = Some((event, after));
                            return Ok(report);
                        }
                    };
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
                    if !rejects.is_empty() && rejections.send((event, day, rejects)).await.is_err()
                    {
                        // The recorder stopped (its error is reported by the sweep).
                        return Ok(report);
                    }
                    for m in sends {
                        if tx.send((m, day)).await.is_err() {
                            // The consumer stopped (its error is reported by the sweep).
                            return Ok(report);
                        }
                    }
                }
            }
            if event.date_based() {
                report.detected_days.push((event, days));
            }
        }
        report.detected_all = true;
        Ok(report)
    }

    /// Sends the messages from `rx` batch by batch ([`Self::deliver_batch`]): up to
    /// `sweep_batch_size` messages taken from what detection has ready; counts their outcomes.
    async fn consume(
        &self,
        opts: &SweepOptions,
        run: &Run,
        mut rx: tokio::sync::mpsc::Receiver<(Message, NaiveDate)>,
    ) -> Result<SweepReport, SenderError> {
        let mut report = SweepReport::default();
        let size = self.settings.service.sweep_batch_size.max(1);
        let mut held: Option<(Message, NaiveDate)> = None;
        loop {
            let first = match held.take() {
                Some(m) => m,
                None => match rx.recv().await {
                    Some(m) => m,
                    None => break,
                },
            };
            let mut keys = std::collections::HashSet::new();
            keys.insert((first.0.policy_id, first.0.event));
            let mut batch = vec![first];
            // What detection already has ready, without waiting: a batch is never held back.
            while batch.len() < size {
                match rx.try_recv() {
                    Ok(m) => {
                        // A pair appears once per claim statement: a repeat starts the next batch.
                        if !keys.insert((m.0.policy_id, m.0.event)) {
                            held = Some(m);
                            break;
                        }
                        batch.push(m);
                    }
                    Err(_) => break,
                }
            }
            for (event, label) in self.deliver_batch(batch, opts, run).await {
                report.add(event, label);
                if let Some(pb) = &opts.progress {
                    pb.inc(1);
                }
            }
            if let Some(pb) = &opts.progress {
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

    /// Claims a batch in one committed statement, sends what it claimed (`send_concurrency` at
    /// once) and records the outcomes in one statement; returns each message's outcome label.
    /// At most one batch is claimed and not yet settled at any time, so a crash leaves at most
    /// `sweep_batch_size` attempts in doubt (status 6). Database errors are waited out
    /// ([`RetryPolicy`]); when the sweep gives up, messages not yet claimed are `not_reached`,
    /// and those whose outcome could not be written are `sent_unrecorded` (the gateway took
    /// them) or `unrecorded`: their claims stay in doubt and are listed as interrupted once the
    /// lease expires. On a stop request, claimed messages not yet sent are withdrawn
    /// (`not_started`).
    async fn deliver_batch(
        &self,
        batch: Vec<(Message, NaiveDate)>,
        opts: &SweepOptions,
        run: &Run,
    ) -> Vec<(EventType, &'static str)> {
        let all = |label: &'static str| batch.iter().map(|(m, _)| (m.event, label)).collect();
        if stop_requested(opts) {
            return all("not_started");
        }
        if run.gave_up() {
            return all("not_reached");
        }
        let ids = match retrying!(self, "claim", |c| records::next_detail_ids(c, batch.len())) {
            Ok(ids) if ids.len() == batch.len() => ids,
            Ok(_) => return all("not_reached"),
            Err(e) => {
                run.give_up(&e);
                return all("not_reached");
            }
        };
        let chain = self.chain.names().join(" > ");
        let since = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC");
        let items: Vec<records::ClaimItem> = batch
            .iter()
            .zip(&ids)
            .map(|((m, day), &detail_id)| records::ClaimItem {
                event: m.event,
                policy_id: m.policy_id,
                day: *day,
                note: format!("in flight since {since} ({} chain: {chain})", m.language),
                detail_id,
            })
            .collect();
        // A claim whose answer was lost with the connection may have committed: the batch is
        // ours when claims with our fresh attempt ids exist (no other claim can hold them).
        let mut tried = false;
        let claimed = retrying!(self, "claim", |c| async {
            if tried {
                let found = records::claimed_among(c, &ids).await?;
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            tried = true;
            records::claim_batch(c, &items, run.owner).await
        });
        let claimed: std::collections::HashSet<i32> = match claimed {
            Ok(v) => v.into_iter().collect(),
            Err(e) => {
                run.give_up(&e);
                return all("not_reached");
            }
        };
        let concurrency = self.settings.service.send_concurrency.max(1);
        // Materialised first: a stream holding the filtering closures would not be `Send`.
        let mut sends = Vec::with_capacity(claimed.len());
        for ((m, _), &id) in batch.iter().zip(&ids) {
            if claimed.contains(&id) {
                sends.push(async move { (m, id, self.send_one(m, opts).await) });
            }
        }
        let results: Vec<(&Message, i32, Option<super::gateway::ChainResult>)> =
            futures::stream::iter(sends)
                .buffer_unordered(concurrency)
                .collect()
                .await;
        let mut labels: Vec<(EventType, &'static str)> = batch
            .iter()
            .zip(&ids)
            .filter(|(_, id)| !claimed.contains(id))
            .map(|((m, _), _)| (m.event, "claimed_elsewhere"))
            .collect();
        // Claimed, never sent (a stop request came): withdrawn, for the next sweep.
        let unsent: Vec<i32> = results
            .iter()
            .filter(|r| r.2.is_none())
            .map(|r| r.1)
            .collect();
        if !unsent.is_empty() {
            let withdrawn = match retrying!(self, "withdraw", |c| records::withdraw(
                c, &unsent, run.owner
            )) {
                Ok(_) => "not_started",
                Err(e) => {
                    run.give_up(&e);
                    tracing::error!(
                        count = unsent.len(),
                        "claims of messages never sent not withdrawn: they stay in doubt (status 6)"
                    );
                    "unrecorded"
                }
            };
            labels.extend(
                results
                    .iter()
                    .filter(|r| r.2.is_none())
                    .map(|r| (r.0.event, withdrawn)),
            );
        }
        let notes: Vec<(String, &super::gateway::ChainResult)> = results
            .iter()
            .filter_map(|r| r.2.as_ref().map(|c| (c.failover_note(), c)))
            .collect();
        let outcomes: Vec<records::OutcomeItem<'_>> = results
            .iter()
            .filter(|r| r.2.is_some())
            .zip(&notes)
            .map(|(r, (note, c))| records::OutcomeItem {
                event: r.0.event,
                policy_id: r.0.policy_id,
                detail_id: r.1,
                provider: &c.provider,
                outcome: &c.outcome,
                note,
            })
            .collect();
        if outcomes.is_empty() {
            return labels;
        }
        let recorded = retrying!(self, "record_outcome", |c| records::record_outcomes(
            c, &outcomes
        ));
        match recorded {
            Ok(()) => labels.extend(outcomes.iter().map(|o| (o.event, o.outcome.label()))),
            Err(e) => {
                run.give_up(&e);
                tracing::error!(
                    count = outcomes.len(),
                    "outcomes not recorded: the attempts stay in doubt (status 6)"
                );
                labels.extend(outcomes.iter().map(|o| {
                    (
                        o.event,
                        match o.outcome {
                            SendOutcome::Delivered => "sent_unrecorded",
                            _ => "unrecorded",
                        },
                    )
                }));
            }
        }
        labels
    }

    /// Sends one claimed message through the chain, unless a stop was requested (`None`: not
    /// sent).
    async fn send_one(
        &self,
        m: &Message,
        opts: &SweepOptions,
    ) -> Option<super::gateway::ChainResult> {
        if stop_requested(opts) {
            return None;
        }
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
        Some(result)
    }

    /// Sends one test message through the chain (no records).
    pub async fn send_test(&self, phone: &str, text: &str) -> super::gateway::ChainResult {
        self.chain.send(phone, text).await
    }
}

/// One chunk's rejected candidates of one event: (policy, status, reason).
type Rejections = (EventType, NaiveDate, Vec<(i32, DetailStatus, String)>);

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
        "sent_unrecorded",
        "unrecorded",
        "not_reached",
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
