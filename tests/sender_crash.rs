//! The real binary: a dry run lists and records nothing; a sweep killed with SIGKILL while the
//! gateway holds a request leaves exactly one unknown outcome, and the rerun sends every other
//! message once and never repeats the one in doubt. A graceful stop (shutdown) leaves nothing in
//! doubt.

mod sender_common;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sender_common::*;

fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_policy-notification"));
    c.env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_sweep_then_rerun_sends_each_message_at_most_once() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    for f in 1..=5 {
        family(&db, f, Some(&format!("07120000{f:02}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let config = dir.0.join("pn.toml");
    std::fs::write(
        &config,
        format!(
            "[service]\nsend_concurrency = 1\nsweep_batch_size = 1\n\n{ALL_EVENTS}\n{}",
            fake.provider_toml(120)
        ),
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut v = vec![
            "--config".to_string(),
            config.display().to_string(),
            "send-notifications".to_string(),
            "--as-of".to_string(),
            "2026-06-15".to_string(),
            "--database-url".to_string(),
            db.url.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    // Dry run: lists the five start messages (masked phones), records nothing.
    let out = binary().args(args(&["--dry-run"])).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches("would send starting_of_policy").count(),
        5,
        "{stdout}"
    );
    assert!(stdout.contains("*********001"), "{stdout}");
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
            .await,
        0
    );
    assert_eq!(fake.count(), 0);

    // The sweep: killed while the gateway holds the first request.
    let mut child = binary()
        .args(args(&[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fake.count() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no request reached the gateway"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();
    assert_eq!(fake.count(), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6 AND notification_type = 'starting_of_policy'").await,
        1,
        "the request in flight was recorded before it left"
    );

    // The rerun sends the other four, once each, and leaves the unknown one to the operator.
    fake.set(Mode::Accept);
    let out = binary().args(args(&[])).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("starting_of_policy"), "{stdout}");
    assert!(stdout.contains("sent 4"), "{stdout}");
    assert_eq!(fake.count(), 5);
    let recipients = fake.recipients();
    assert_eq!(recipients.len(), 5, "each family's message exactly once");
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 1").await,
        4
    );
    // A third run sends nothing.
    let out = binary().args(args(&[])).output().unwrap();
    assert!(out.status.success());
    assert_eq!(fake.count(), 5);
}

/// The batch boundary: a sweep claiming 3 messages per batch (2 sent at once) is killed while
/// the gateway holds the first two requests. Exactly the claimed batch is in doubt (status 6):
/// the two at the gateway and the one claimed but not sent; no later message was claimed. The
/// rerun sends the other four once each and none of the three; the operator then settles them
/// (the two that arrived marked as sent, the third released) and the next sweep sends the
/// released one, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_claim_and_outcome_leaves_at_most_one_batch_in_doubt() {
    use policy_notification::families::Scope;
    use policy_notification::notification::records::{self, Settlement};
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    for f in 1..=7 {
        family(&db, f, Some(&format!("07170000{f:02}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let config = dir.0.join("pn.toml");
    std::fs::write(
        &config,
        format!(
            "[service]\nsend_concurrency = 2\nsweep_batch_size = 3\n\n{ALL_EVENTS}\n{}",
            fake.provider_toml(120)
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
    let mut child = binary()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fake.count() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the requests did not reach the gateway"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();
    let at_gateway = fake.recipients();
    assert_eq!(fake.count(), 2);
    let unknown = "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" \
                   WHERE \"Status\" = 6 AND notification_type = 'starting_of_policy'";
    assert_eq!(
        db.count(unknown).await,
        3,
        "exactly the claimed batch is in doubt"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pn_notification_claim WHERE notification_type = 'starting_of_policy'")
            .await,
        3,
        "nothing claimed beyond the batch"
    );

    // The rerun: the other four, once each; the three in doubt are not sent again.
    fake.set(Mode::Accept);
    let out = binary().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sent 4"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(fake.count(), 6);
    assert_eq!(fake.recipients().len(), 6);
    assert_eq!(db.count(unknown).await, 3);

    // The killed sweep's lease has run out (60 s; shortened here): the operator settles them.
    db.exec("UPDATE pn_notification_claim SET lease_until = now() - interval '1 second' WHERE state = 6")
        .await;
    let pool = pool(&db);
    let mut conn = pool.get().await.unwrap();
    let doubtful = records::unknown_outcomes(&mut conn, &Scope::All)
        .await
        .unwrap();
    assert_eq!(doubtful.len(), 3);
    assert!(
        doubtful
            .iter()
            .all(|r| r.unknown_kind.as_deref() == Some("interrupted"))
    );
    let phone_of = |policy: i32| format!("2557170000{:02}", policy - id(0));
    for r in &doubtful {
        let how = if at_gateway.contains(&phone_of(r.policy_id)) {
            Settlement::MarkSent
        } else {
            Settlement::Release
        };
        records::settle(&mut conn, r.id, how, "ops", &Scope::All)
            .await
            .unwrap();
    }
    drop(conn);
    let out = binary().args(&args).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sent 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(fake.count(), 7);
    assert_eq!(
        fake.recipients().len(),
        7,
        "each family's message exactly once"
    );
    assert_eq!(db.count(unknown).await, 0);
}

#[tokio::test]
async fn send_test_goes_through_the_chosen_provider() {
    let db = sender_db().await;
    let dir = TempDir::new();
    let out_dir = dir.0.join("out");
    let config = dir.0.join("pn.toml");
    std::fs::write(
        &config,
        format!(
            "[policy_notification.providers.eGASMSGateway]\nGateUrl = \"http://127.0.0.1:1\"\nPrivateKey = \"k\"\nSenderId = \"s\"\nServiceId = \"1\"\nUserId = \"u\"\n\
             [policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n",
            out_dir.display()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut c = binary();
        c.arg("--config")
            .arg(&config)
            .arg("send-test")
            .args(["--database-url", &db.url])
            .args(extra);
        c.output().unwrap()
    };
    let out = run(&[
        "--to",
        "0712345678",
        "--provider",
        "textnotificationprovider",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("delivered through TextNotificationProvider")
    );
    let text = std::fs::read_to_string(out_dir.join("SMSMessage_1.txt")).unwrap();
    assert!(text.starts_with("To: 255712345678"), "{text}");
    // The whole chain: eGA refuses the connection, the text provider takes over.
    let out = run(&["--to", "0712345678"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("SMSMessage_2.txt").exists());
    // An unusable number or an unknown provider is an error; nothing is written.
    assert!(!run(&["--to", "hello"]).status.success());
    assert!(
        !run(&["--to", "0712345678", "--provider", "Nope"])
            .status
            .success()
    );
    assert!(!out_dir.join("SMSMessage_3.txt").exists());
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
            .await,
        0
    );
}

/// A shutdown during a sweep (what `serve` does on SIGTERM): no new message is claimed, the
/// requests in flight finish and are recorded, nothing is left in doubt, and the next sweep
/// sends exactly the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_sweep_records_what_left_and_the_next_sends_the_rest() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Slow).await;
    product(&db, 1, "P1", None).await;
    for f in 1..=20 {
        family(&db, f, Some(&format!("07130000{f:02}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let toml = format!(
        "[service]\nsend_concurrency = 1\n\n{ALL_EVENTS}\n{}",
        fake.provider_toml(30)
    );
    let s = sender(&db, settings(&toml));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweep = {
        let s = s.clone();
        tokio::spawn(async move {
            s.sweep(policy_notification::notification::sender::SweepOptions {
                as_of: Some(d(6, 15)),
                stop: Some(stop_rx),
                ..Default::default()
            })
            .await
        })
    };
    let started = Instant::now();
    while fake.count() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sweep did not start sending"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_tx.send(true).unwrap();
    let report = sweep.await.unwrap().unwrap();
    let sent = report.total("sent") as usize;
    let not_started = report.total("not_started") as usize;
    assert_eq!(
        sent,
        fake.count(),
        "every request that left is recorded as sent"
    );
    assert!(sent < 20, "the stop took effect ({sent} sent)");
    assert_eq!(sent + not_started, 20, "{:?}", report.counts);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 1")
            .await as usize,
        sent
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" <> 1 \
                  AND notification_type = 'starting_of_policy'")
            .await,
        0,
        "nothing in doubt (the activation events are rejected: the start message covers them)"
    );

    // The next sweep sends the rest, once each.
    let report = s
        .sweep(policy_notification::notification::sender::SweepOptions {
            as_of: Some(d(6, 15)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(report.total("sent") as usize, 20 - sent);
    assert_eq!(fake.count(), 20);
    let recipients = fake.recipients();
    assert_eq!(recipients.len(), 20, "each family's message exactly once");
}
