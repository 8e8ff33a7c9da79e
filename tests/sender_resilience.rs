//! Issue 12: the sender survives database blips, keeps the failed provider's reason, tells the
//! operator what waits, and never lets an operator settle an attempt still in flight.

mod sender_common;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use policy_notification::notification::commands;
use policy_notification::notification::events::EventType;
use policy_notification::notification::sender::{RetryPolicy, Sender, SenderError, SweepOptions};
use sender_common::*;
use serde_json::Value;
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

/// Waits until `f` holds, at most `secs` seconds.
async fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn opts(as_of: chrono::NaiveDate) -> SweepOptions {
    SweepOptions {
        as_of: Some(as_of),
        ..Default::default()
    }
}

const UNKNOWN: &str = "{ unknownNotificationOutcomes { id status unknownKind leaseUntil sweepId details settledBy settledAt } }";

fn settle(id: i64, how: &str) -> String {
    format!(
        "mutation {{ settleNotificationOutcome(attemptId: {id}, settlement: {how}) {{ id status details settledBy settledAt unknownKind }} }}"
    )
}

async fn operator(db: &TestDb, app: &TestApp) -> String {
    fixtures::user(db, "ops", "Secret1!", &[131224], &[], true).await;
    app.login("ops", "Secret1!").await
}

/// Priority 1: an attempt whose sweep is alive (the gateway holds the request) is listed as in
/// flight, its lease is renewed past its length by the sweep's heartbeat, and neither
/// settlement is accepted (`ATTEMPT_IN_FLIGHT`); once the sweep dies and the lease expires it is
/// interrupted, and a release is accepted and recorded with who and when. A crash leftover from
/// before leases (no lease, no provider) counts as interrupted too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_in_flight_cannot_be_settled_until_its_sweep_is_gone() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712000001"), Some(true), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 15))).await;
    let toml = format!(
        "[service]\nsend_concurrency = 1\n\n{ALL_EVENTS}\n{}",
        fake.provider_toml(600)
    );
    let lease = Duration::from_secs(2);
    let s = sender(&db, settings(&toml)).with_lease(lease, Duration::from_millis(300));
    let sweep = {
        let s = s.clone();
        tokio::spawn(async move { s.sweep(opts(d(6, 15))).await })
    };
    wait_for(60, "the request at the gateway", || fake.count() == 1).await;

    let app = TestApp::spawn(&db).await;
    let ops = operator(&db, &app).await;
    let (_, body) = app.gql_as(&ops, UNKNOWN).await;
    let list = body["data"]["unknownNotificationOutcomes"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(list[0]["unknownKind"], "IN_FLIGHT", "{body}");
    assert!(list[0]["sweepId"].is_string(), "{body}");
    let attempt = list[0]["id"].as_i64().unwrap();

    // Longer than the lease: the heartbeat keeps it alive.
    tokio::time::sleep(lease + Duration::from_secs(1)).await;
    let (_, body) = app.gql_as(&ops, UNKNOWN).await;
    assert_eq!(
        body["data"]["unknownNotificationOutcomes"][0]["unknownKind"], "IN_FLIGHT",
        "the live sweep renews its lease: {body}"
    );
    for how in ["RELEASE", "MARK_SENT"] {
        let (_, body) = app.gql_as(&ops, &settle(attempt, how)).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "ATTEMPT_IN_FLIGHT",
            "{how}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("still in flight"),
            "{body}"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6")
            .await,
        1,
        "nothing settled"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pn_notification_settlement")
            .await,
        0
    );

    // The sweep dies (its task is dropped, heartbeat with it); the lease runs out.
    sweep.abort();
    let _ = sweep.await;
    tokio::time::sleep(lease + Duration::from_millis(500)).await;
    let (_, body) = app.gql_as(&ops, UNKNOWN).await;
    assert_eq!(
        body["data"]["unknownNotificationOutcomes"][0]["unknownKind"], "INTERRUPTED",
        "{body}"
    );
    let (_, body) = app.gql_as(&ops, &settle(attempt, "RELEASE")).await;
    let settled = &body["data"]["settleNotificationOutcome"];
    assert_eq!(settled["status"], 4, "{body}");
    assert_eq!(settled["settledBy"], "ops", "{body}");
    assert!(settled["settledAt"].is_string(), "{body}");
    assert!(
        settled["details"]
            .as_str()
            .unwrap()
            .contains("released for another try by ops at "),
        "{body}"
    );
    assert_eq!(
        db.scalar(
            "SELECT settlement || ' ' || settled_by || ' ' || kind || ' ' || \
             (previous_details LIKE 'in flight since%')::text FROM pn_notification_settlement"
        )
        .await
        .as_deref(),
        Some("release ops interrupted true")
    );

    // The released message goes out once on the next sweep.
    fake.set(Mode::Accept);
    let r = s.sweep(opts(d(6, 15))).await.unwrap();
    assert_eq!(r.count(EventType::Starting, "sent"), 1);
    assert_eq!(fake.count(), 2);
    assert_eq!(r.unknown_waiting, Some(0));

    // A crash leftover from before leases: status 6, a claim without lease and provider.
    family(&db, 2, Some("0712000002"), Some(true), "en").await;
    policy(&db, &Pol::new(2, 2, 1, d(6, 15))).await;
    db.exec(&format!(
        "INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\") VALUES ({p}, now()) \
         ON CONFLICT (\"PolicyID\") DO NOTHING; \
         INSERT INTO \"tblIndicationOfPolicyNotificationsDetails\" (id, \"ValidityFrom\", notification_type, \"Status\", details, \"indicationID\") \
         VALUES (nextval(pg_get_serial_sequence('\"tblIndicationOfPolicyNotificationsDetails\"', 'id')), now(), 'starting_of_policy', 6, \
                 'in flight since 2026-11-30 08:00:01 UTC (en chain: eGASMSGateway)', {p}); \
         INSERT INTO pn_notification_claim (policy_id, notification_type, state, detail_id, claimed_on, claimed_at, updated_at) \
         SELECT {p}, 'starting_of_policy', 6, max(id), '2026-06-15', now(), now() \
         FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"indicationID\" = {p}",
        p = id(2)
    ))
    .await;
    let (_, body) = app.gql_as(&ops, UNKNOWN).await;
    let list = body["data"]["unknownNotificationOutcomes"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(list[0]["unknownKind"], "INTERRUPTED", "{body}");
    let (_, body) = app
        .gql_as(&ops, &settle(list[0]["id"].as_i64().unwrap(), "MARK_SENT"))
        .await;
    assert_eq!(
        body["data"]["settleNotificationOutcome"]["status"], 1,
        "{body}"
    );
    let r = s.sweep(opts(d(6, 15))).await.unwrap();
    assert_eq!(r.total("sent"), 0, "marked as sent: never sent again");
    assert_eq!(fake.count(), 2);
}

/// Priority 2: eGA answers 500, the text provider takes the message; the detail row says why
/// eGA was passed over (also in the GraphQL history).
#[tokio::test]
async fn a_failed_over_attempt_keeps_the_failed_providers_reason() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::ServerError).await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712000001"), Some(true), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 15))).await;
    let toml = format!(
        "{ALL_EVENTS}\n{}\n[policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n",
        fake.provider_toml(5),
        dir.0.display()
    );
    let s = sender(&db, settings(&toml));
    let r = s.sweep(opts(d(6, 15))).await.unwrap();
    assert_eq!(r.count(EventType::Starting, "sent"), 1);
    assert_eq!(fake.count(), 1);
    assert_eq!(dir.messages().len(), 1);
    let details = db
        .scalar(&format!(
            "SELECT details FROM \"tblIndicationOfPolicyNotificationsDetails\" \
             WHERE \"indicationID\" = {} AND notification_type = 'starting_of_policy'",
            id(1)
        ))
        .await
        .unwrap();
    assert!(
        details.starts_with(
            "sent through TextNotificationProvider after eGASMSGateway failed: HTTP 500"
        ),
        "{details}"
    );

    let app = TestApp::spawn(&db).await;
    let ops = operator(&db, &app).await;
    let uuid = db
        .scalar(&format!(
            "SELECT \"PolicyUUID\" FROM \"tblPolicy\" WHERE \"PolicyID\" = {}",
            id(1)
        ))
        .await
        .unwrap();
    let (_, body) = app
        .gql_as(
            &ops,
            &format!(
                "{{ policyNotificationHistory(policyUuid: \"{uuid}\") {{ notificationType status details provider }} }}"
            ),
        )
        .await;
    let rows = body["data"]["policyNotificationHistory"]
        .as_array()
        .unwrap()
        .clone();
    let start = rows
        .iter()
        .find(|r| r["notificationType"] == "starting_of_policy")
        .unwrap();
    assert_eq!(start["provider"], "TextNotificationProvider", "{body}");
    assert!(
        start["details"]
            .as_str()
            .unwrap()
            .contains("after eGASMSGateway failed: HTTP 500"),
        "{body}"
    );
}

/// Priority 3: unknown outcomes waiting are in the sweep's report and printed summary, and in
/// `/metrics` as `pn_unknown_outcomes_waiting`.
#[tokio::test]
async fn operators_are_told_how_many_unknown_outcomes_wait() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    product(&db, 1, "P1", None).await;
    for f in 1..=2 {
        family(&db, f, Some(&format!("07120000{f:02}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    policy_notification::http::metrics::install();
    let toml = format!("{ALL_EVENTS}\n{}", fake.provider_toml(1));
    let conf = settings(&toml);
    let s = sender(&db, conf.clone());
    let r = s.sweep(opts(d(6, 15))).await.unwrap();
    assert_eq!(r.total("unknown"), 2);
    assert_eq!(r.unknown_waiting, Some(2));
    let text = commands::summary(&r, &conf, false);
    assert!(
        text.contains("unknown outcomes waiting for an operator: 2"),
        "{text}"
    );

    let app = TestApp::spawn_with(&db, "[service]\nmetrics_token = \"m-token\"\n").await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("m-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.trim() == "pn_unknown_outcomes_waiting 2"),
        "{metrics}"
    );
    // Listed as unanswered (the sweep is over), and settling one lowers the count.
    let ops = operator(&db, &app).await;
    let (_, body) = app.gql_as(&ops, UNKNOWN).await;
    let list = body["data"]["unknownNotificationOutcomes"].clone();
    assert_eq!(list[0]["unknownKind"], "NO_ANSWER", "{body}");
    let (_, body) = app
        .gql_as(&ops, &settle(list[0]["id"].as_i64().unwrap(), "MARK_SENT"))
        .await;
    assert_eq!(
        body["data"]["settleNotificationOutcome"]["settledBy"],
        Value::String("ops".into()),
        "{body}"
    );
    assert_eq!(s.check_unknown_outcomes().await.unwrap(), 1);
}

/// Priority 4: PostgreSQL (a private cluster) restarts in the middle of a sweep. The sweep waits
/// it out with backoff, goes on where it stopped, and every message goes out exactly once, each
/// recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_during_a_sweep_is_waited_out() {
    use policy_notification::db::embedded::EmbeddedPostgres;
    let dir = std::env::temp_dir().join(format!("pn-restart-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = EmbeddedPostgres::locate_binaries(None).unwrap();
    let pg = EmbeddedPostgres::start(&dir, &bin).unwrap();
    struct Stop<'a>(&'a EmbeddedPostgres, std::path::PathBuf);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.stop();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let _stop = Stop(&pg, dir.clone());
    let handle = policy_notification::http::metrics::install();
    policy_notification::db::migrations::run_pending(&pg.url(), None)
        .await
        .unwrap();
    let db = TestDb {
        name: "openimis".into(),
        url: pg.url(),
    };
    let fake = FakeEga::start(Mode::Slow).await;
    let n = 60;
    product(&db, 1, "P1", None).await;
    for f in 1..=n {
        family(&db, f, Some(&format!("0714{f:06}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let toml = format!(
        "[service]\nsend_concurrency = 2\nsweep_batch_size = 2\n\n{ALL_EVENTS}\n{}",
        fake.provider_toml(30)
    );
    let pool = policy_notification::db::connect_pool(&pg.url(), 8).unwrap();
    let s = Sender::new(pool, Arc::new(settings(&toml)))
        .unwrap()
        .with_retry(RetryPolicy {
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
            give_up_after: Duration::from_secs(90),
        });
    let sweep = {
        let s = s.clone();
        tokio::spawn(async move { s.sweep(opts(d(6, 15))).await })
    };
    wait_for(60, "the first sends", || fake.count() >= 5).await;
    let stopped_at = fake.count();
    pg.stop().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg.start_again().unwrap();
    let r = sweep.await.unwrap().unwrap();
    assert!(stopped_at < n as usize, "the restart came mid-sweep");
    assert_eq!(
        r.count(EventType::Starting, "sent"),
        n as u64,
        "{:?}",
        r.counts
    );
    assert_eq!(
        fake.count(),
        n as usize,
        "each message reached the gateway once"
    );
    assert_eq!(fake.recipients().len(), n as usize);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" \
             WHERE notification_type = 'starting_of_policy' AND \"Status\" = 1"
        )
        .await,
        n as i64
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6"
        )
        .await,
        0,
        "nothing in doubt"
    );
    let log = std::fs::read_to_string(pg.log_file()).unwrap_or_default();
    assert!(
        log.contains("shutting down") || log.contains("shut down"),
        "the server really restarted"
    );
    let metrics = handle.map(|h| h.render()).unwrap_or_default();
    assert!(
        metrics.contains("pn_sweep_db_retries_total"),
        "retries are counted: {metrics}"
    );

    // The database goes away for longer than the sweep waits: it gives up, says what it sent,
    // recorded and did not reach; the next sweep sends exactly what was not reached.
    for f in n + 1..=n + 40 {
        family(&db, f, Some(&format!("0714{f:06}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 16))).await;
    }
    let impatient = s
        .clone()
        .with_lease(Duration::from_secs(2), Duration::from_millis(300))
        .with_retry(RetryPolicy {
            first: Duration::from_millis(100),
            max: Duration::from_millis(500),
            give_up_after: Duration::from_secs(2),
        });
    let sweep = tokio::spawn(async move { impatient.sweep(opts(d(6, 16))).await });
    wait_for(60, "the first sends of the second sweep", || {
        fake.count() >= n as usize + 5
    })
    .await;
    pg.stop().unwrap();
    let Err(SenderError::GaveUp { report, error }) = sweep.await.unwrap() else {
        panic!("the sweep should give up");
    };
    let reached = fake.count() - n as usize;
    let sent = report.total("sent") as usize;
    let sent_unrecorded = report.total("sent_unrecorded") as usize;
    let unrecorded = report.total("unrecorded") as usize;
    let not_reached = report.total("not_reached") as usize;
    eprintln!("gave up ({error}): {:?}", report.counts);
    assert_eq!(sent + sent_unrecorded, reached, "{:?}", report.counts);
    assert_eq!(
        sent + sent_unrecorded + unrecorded + not_reached,
        40,
        "{:?}",
        report.counts
    );
    assert!(not_reached > 0, "{:?}", report.counts);
    let text =
        policy_notification::notification::commands::summary(&report, &settings(&toml), false);
    assert!(
        text.contains(&format!(
            "stopped early: sent {reached} (recorded {sent}), sent but not recorded {sent_unrecorded}"
        )),
        "{text}"
    );
    pg.start_again().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = s.sweep(opts(d(6, 16))).await.unwrap();
    // A claim cut by the outage may have committed without its message leaving (the sweep gave
    // up before sending it): it is not sent again, but listed for the operator, at most one
    // batch (`sweep_batch_size` 2) of them.
    let in_doubt = db
        .count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6")
        .await as usize;
    let claimed_unsent = in_doubt - sent_unrecorded - unrecorded;
    assert!(claimed_unsent <= 2, "{in_doubt} in doubt");
    assert_eq!(
        r.count(EventType::Starting, "sent") as usize,
        not_reached - claimed_unsent,
        "{:?}",
        r.counts
    );
    assert_eq!(
        fake.recipients().len(),
        fake.count(),
        "no message reached the gateway twice"
    );
    assert_eq!(
        fake.count(),
        n as usize + 40 - claimed_unsent,
        "every message reached the gateway or waits for the operator"
    );
    assert_eq!(r.unknown_waiting, Some(in_doubt as i64));
}

/// Priority 5: a sweep stopped midway on day D, no sweep at all on D+1 (the service was down),
/// then a sweep on D+2: every start message of D and D+1 goes out exactly once, late; a day
/// before the event type was first seen enabled is never caught up; the next day finds nothing
/// left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_stopped_midway_and_a_day_down_are_caught_up() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Slow).await;
    product(&db, 1, "P1", None).await;
    // 20 start on D = 06-15, 5 on 06-16, 2 on 06-13 (before the event was first seen enabled).
    let starts: Vec<(i32, chrono::NaiveDate)> = (1..=20)
        .map(|f| (f, d(6, 15)))
        .chain((21..=25).map(|f| (f, d(6, 16))))
        .chain((26..=27).map(|f| (f, d(6, 13))))
        .collect();
    for (f, start) in &starts {
        family(&db, *f, Some(&format!("0715{f:06}")), Some(true), "en").await;
        policy(&db, &Pol::new(*f, *f, 1, *start)).await;
    }
    let toml = format!(
        "[service]\nsend_concurrency = 1\n\n[policy_notification.eligibleNotificationTypes]\n\
         activation_of_policy = false\nstarting_of_policy = true\nneed_for_renewal = false\n\
         expiration_of_policy = false\nreminder_after_expiration = false\nrenewal_of_policy = false\n\n{}",
        fake.provider_toml(30)
    );
    let s = sender(&db, settings(&toml));

    // 06-14: the first sweep with the event enabled; nothing due.
    let r = s.sweep(opts(d(6, 14))).await.unwrap();
    assert_eq!(r.total("sent"), 0, "{:?}", r.counts);
    assert!(r.late_days.is_empty());

    // D: stopped after a few messages.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweep = {
        let s = s.clone();
        tokio::spawn(async move {
            s.sweep(SweepOptions {
                as_of: Some(d(6, 15)),
                stop: Some(stop_rx),
                ..Default::default()
            })
            .await
        })
    };
    wait_for(60, "the first sends of D", || fake.count() >= 3).await;
    stop_tx.send(true).unwrap();
    let r = sweep.await.unwrap().unwrap();
    let sent_on_d = r.total("sent") as usize;
    assert!(sent_on_d < 20, "stopped midway ({sent_on_d} sent)");
    assert_eq!(fake.count(), sent_on_d);

    // 06-16: down. 06-17: D and 06-16 are caught up, late.
    let r = s.sweep(opts(d(6, 17))).await.unwrap();
    assert_eq!(
        r.late_days,
        vec![
            (EventType::Starting, d(6, 15)),
            (EventType::Starting, d(6, 16))
        ]
    );
    assert_eq!(
        r.count(EventType::Starting, "sent") as usize,
        20 - sent_on_d + 5,
        "{:?}",
        r.counts
    );
    assert_eq!(fake.count(), 25, "every message of D and D+1, once");
    assert_eq!(fake.recipients().len(), 25);
    for (f, start) in &starts {
        let sent = db
            .count(&format!(
                "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" \
                 WHERE \"indicationID\" = {} AND notification_type = 'starting_of_policy' AND \"Status\" = 1",
                id(*f)
            ))
            .await;
        let expected = if *start == d(6, 13) { 0 } else { 1 };
        assert_eq!(sent, expected, "family {f} starting {start}");
    }
    let text = commands::summary(&r, &settings(&toml), false);
    assert!(
        text.contains("caught up days no sweep had completed: starting_of_policy 2026-06-15, starting_of_policy 2026-06-16"),
        "{text}"
    );

    // Every day is completed now: the next day catches nothing up and sends nothing.
    let r = s.sweep(opts(d(6, 18))).await.unwrap();
    assert!(r.late_days.is_empty(), "{:?}", r.late_days);
    assert_eq!(r.total("sent"), 0);
    assert_eq!(fake.count(), 25);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM pn_sender_day WHERE notification_type = 'starting_of_policy'"
        )
        .await,
        5,
        "06-14 … 06-18"
    );
}

fn binary() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_policy-notification"));
    c.env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null());
    c
}

/// Priorities 3 and 4 through the command line: `send-notifications` whose database goes away
/// for longer than `sweep_db_retry_seconds` logs its retries, gives up, prints what it sent,
/// recorded and did not reach, and exits 1; once the database is back the next run sends the
/// rest, none twice. A run that leaves an unanswered attempt says so in its summary and at WARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_sweep_says_what_it_did_and_what_waits() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Slow).await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    let n = 30;
    for f in 1..=n {
        family(&db, f, Some(&format!("0716{f:06}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let config = dir.0.join("pn.toml");
    std::fs::write(
        &config,
        format!(
            "[service]\nsend_concurrency = 1\nsweep_batch_size = 1\nsweep_db_retry_seconds = 2\n\n{ALL_EVENTS}\n{}",
            fake.provider_toml(30)
        ),
    )
    .unwrap();
    let args = [
        "--config".to_string(),
        config.display().to_string(),
        "send-notifications".into(),
        "--as-of".into(),
        "2026-06-15".into(),
        "--database-url".into(),
        db.url.clone(),
    ];
    let child = binary()
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(120, "the first sends", || fake.count() >= 3).await;
    db.cut_off().await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("stopped early: sent "),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("decided but not reached"), "{stdout}");
    let first = stdout.to_string();
    assert!(stderr.contains("retrying after a pause"), "{stderr}");
    assert!(stderr.contains("gave up after database errors"), "{stderr}");
    db.restore().await;
    let reached = fake.count();
    let out = binary().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fake.recipients().len(),
        fake.count(),
        "no message twice (first run {reached})"
    );
    let in_doubt = db
        .count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6")
        .await as usize;
    // Sent by the first run but not recorded: in doubt, never sent again.
    let unrecorded: usize = first
        .split("sent but not recorded ")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count of unrecorded sends: {first}"));
    // A claim cut by the outage may have committed without its message leaving: in doubt too.
    let claimed_unsent = in_doubt - unrecorded;
    assert!(
        claimed_unsent <= 1,
        "{in_doubt} in doubt, {unrecorded} unrecorded"
    );
    assert_eq!(
        fake.count(),
        n as usize - claimed_unsent,
        "every message went out once or waits for the operator"
    );

    // An unanswered attempt: the summary and a WARN line say that it waits.
    family(&db, 99, Some("0716000099"), Some(true), "en").await;
    policy(&db, &Pol::new(99, 99, 1, d(6, 15))).await;
    fake.set(Mode::Hang);
    std::fs::write(
        &config,
        format!(
            "[service]\nsend_concurrency = 1\n\n{ALL_EVENTS}\n{}",
            fake.provider_toml(1)
        ),
    )
    .unwrap();
    let out = binary().args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("unknown outcomes waiting for an operator: "),
        "{stdout}"
    );
    assert!(
        stderr.contains("unknown notification outcomes wait for an operator"),
        "{stderr}"
    );
}
