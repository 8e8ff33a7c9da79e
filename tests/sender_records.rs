//! Eligibility statuses and what each decision writes (markers, detail rows, claims), reruns,
//! dry runs, concurrent sweeps, openIMIS-written rows, recipients and templates, and settling
//! unknown outcomes.

mod sender_common;
mod support;

use std::sync::Arc;

use policy_notification::families::Scope;
use policy_notification::notification::events::EventType;
use policy_notification::notification::records::{self, Settlement};
use policy_notification::notification::sender::{Sender, SweepOptions, SweepReport};
use sender_common::*;
use support::TestDb;

async fn run(s: &Sender, as_of: chrono::NaiveDate) -> SweepReport {
    s.sweep(SweepOptions {
        as_of: Some(as_of),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The detail rows of fixture policy `policy` (logical id) and event `ty`.
async fn detail(db: &TestDb, policy: i32, ty: &str) -> Option<String> {
    let policy = id(policy);
    db.scalar(&format!(
        "SELECT string_agg(\"Status\"::text || ':' || COALESCE(details, ''), '|' ORDER BY id) \
         FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"indicationID\" = {policy} \
         AND notification_type = '{ty}'"
    ))
    .await
}

/// A marker of fixture policy `policy` (logical id), as a day.
async fn marker(db: &TestDb, policy: i32, column: &str) -> Option<String> {
    let policy = id(policy);
    db.scalar(&format!(
        "SELECT to_char(\"{column}\" AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM \"tblIndicationOfPolicyNotifications\" WHERE \"PolicyID\" = {policy}"
    ))
    .await
}

#[tokio::test]
async fn each_eligibility_status_is_recorded() {
    let db = sender_db().await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    let today = d(6, 15);
    // 1: approved with phone → sent.
    family(&db, 1, Some("0712 345 678"), Some(true), "en").await;
    // 2: refused; 3: no tblFamilySMS row (= not approved).
    family(&db, 2, Some("0712345678"), Some(false), "en").await;
    family(&db, 3, Some("0712345678"), None, "en").await;
    // 4: no phone anywhere current (a history member had one).
    family(&db, 4, None, Some(true), "en").await;
    member(&db, 4, 41, Some("0713000000"), false).await;
    // 5: unusable phone.
    family(&db, 5, Some("call me"), Some(true), "en").await;
    // 6: head without phone, fallback to the first current member with one.
    family(&db, 6, Some("  "), Some(true), "fr").await;
    member(&db, 6, 62, Some("+255 754 000 062"), true).await;
    member(&db, 6, 61, Some(""), true).await;
    member(&db, 6, 63, Some("0754000063"), true).await;
    // 7: written long ago → obsolete activation.
    family(&db, 7, Some("0712345678"), Some(true), "en").await;
    for f in 1..=6 {
        let mut p = Pol::new(f, f, 1, d(6, 14));
        p.effective = Some(d(6, 14));
        policy(&db, &p).await;
    }
    policy(&db, &Pol::new(7, 7, 1, d(5, 1))).await;
    // 8: activation effective today while the start message is enabled → 5, start message sent.
    family(&db, 8, Some("0712000008"), Some(true), "en").await;
    policy(&db, &Pol::new(8, 8, 1, today)).await;

    let s = sender(&db, settings(&text_toml(&dir.0)));
    let r = run(&s, today).await;
    let act = "activation_of_policy";
    assert!(
        detail(&db, 1, act)
            .await
            .unwrap()
            .starts_with("1:sent through TextNotificationProvider")
    );
    assert_ne!(
        marker(&db, 1, "NotificationOnActivationSent")
            .await
            .as_deref(),
        Some("0001-01-01")
    );
    assert!(detail(&db, 2, act).await.unwrap().starts_with("2:"));
    assert!(detail(&db, 3, act).await.unwrap().starts_with("2:"));
    assert_eq!(
        marker(&db, 2, "NotificationOnActivationSent")
            .await
            .as_deref(),
        Some("0001-01-01")
    );
    assert!(detail(&db, 4, act).await.unwrap().contains("no phone"));
    assert!(detail(&db, 4, act).await.unwrap().starts_with("5:"));
    assert!(detail(&db, 5, act).await.unwrap().starts_with("5:"));
    assert!(detail(&db, 5, act).await.unwrap().contains("normalised"));
    assert!(detail(&db, 6, act).await.unwrap().starts_with("1:"));
    assert!(detail(&db, 7, act).await.unwrap().starts_with("3:"));
    assert!(detail(&db, 8, act).await.unwrap().starts_with("5:"));
    assert!(
        detail(&db, 8, "starting_of_policy")
            .await
            .unwrap()
            .starts_with("1:")
    );
    assert_eq!(
        marker(&db, 8, "NotificationOnEffectiveSent")
            .await
            .as_deref(),
        Some(&*chrono::Utc::now().date_naive().to_string()),
        "the marker holds the time the message went out"
    );
    assert_eq!(r.count(EventType::Activation, "sent"), 2);
    assert_eq!(r.count(EventType::Starting, "sent"), 1);

    let msgs = dir.messages();
    assert_eq!(msgs.len(), 3);
    let all: String = msgs
        .iter()
        .map(|m| m.1.clone())
        .collect::<Vec<_>>()
        .join("\n---\n");
    assert!(all.contains("To: 255712345678"), "{all}");
    // Fallback recipient: the lowest current member id with a phone (62), normalised; French text.
    assert!(all.contains("To: 255754000062"), "{all}");
    assert!(all.contains("votre police P1"), "{all}");
    assert!(
        !all.contains("policy_notification."),
        "never a raw message id"
    );

    // A rerun of a finished sweep sends and writes nothing new.
    let details_before = db
        .count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
        .await;
    let r2 = run(&s, today).await;
    assert_eq!(r2.total("sent"), 0);
    assert!(r2.counts.is_empty(), "{:?}", r2.counts);
    assert_eq!(dir.messages().len(), 3);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
            .await,
        details_before
    );
}

#[tokio::test]
async fn rows_written_by_openimis_keep_their_meaning() {
    let db = sender_db().await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    for f in 1..=4 {
        family(&db, f, Some("0712345678"), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 14))).await;
    }
    // 1: sentinel without a status-4 detail → suppressed (PN migration 0008).
    // 2: sentinel with a status-4 detail → retried.
    // 3: really sent by Python.
    // 4: no row → normal.
    db.exec(&format!(
        "INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\", \"NotificationOnActivationSent\") VALUES \
         ({}, now(), '0001-01-01 00:00:00'), ({}, now(), '0001-01-01 00:00:00'), ({}, now(), '2026-06-14 08:00:00+00'); \
         INSERT INTO \"tblIndicationOfPolicyNotificationsDetails\" (\"ValidityFrom\", notification_type, \"Status\", details, \"indicationID\") \
         VALUES (now(), 'activation_of_policy', 4, NULL, {});",
        id(1),
        id(2),
        id(3),
        id(2)
    ))
    .await;
    let s = sender(&db, settings(&text_toml(&dir.0)));
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.count(EventType::Activation, "sent"), 2);
    let details = |policy: i32, status: &str| {
        format!(
            "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"indicationID\" = {}{status}",
            id(policy)
        )
    };
    let sent: Vec<i64> = vec![
        db.count(&details(1, "")).await,
        db.count(&details(2, " AND \"Status\" = 1")).await,
        db.count(&details(3, "")).await,
        db.count(&details(4, " AND \"Status\" = 1")).await,
    ];
    assert_eq!(sent, vec![0, 1, 0, 1]);
}

#[tokio::test]
async fn failures_are_retried_unknown_outcomes_are_not() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Refuse).await;
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 14))).await;
    family(&db, 2, Some("0712345679"), Some(true), "en").await;
    let mut p2 = Pol::new(2, 2, 1, d(1, 1));
    p2.expiry = d(6, 15);
    policy(&db, &p2).await;
    let toml = format!("{ALL_EVENTS}\n{}", fake.provider_toml(1));
    let s = sender(&db, settings(&toml));
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.total("failed"), 2);
    assert!(
        detail(&db, 1, "activation_of_policy")
            .await
            .unwrap()
            .starts_with("4:not sent")
    );
    assert_eq!(
        marker(&db, 1, "NotificationOnActivationSent")
            .await
            .as_deref(),
        Some("0001-01-01")
    );
    assert_eq!(
        marker(&db, 2, "NotificationOnExpirationSent")
            .await
            .as_deref(),
        Some("0001-01-01")
    );

    // Same day: activation is retried (status-4 rule); the date-based expiry event is not
    // detected twice on one day (DECISIONS 16).
    fake.set(Mode::Hang);
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.count(EventType::Activation, "unknown"), 1);
    assert_eq!(
        r.count(EventType::Expiration, "unknown") + r.count(EventType::Expiration, "sent"),
        0
    );
    assert!(
        detail(&db, 1, "activation_of_policy")
            .await
            .unwrap()
            .contains("|6:outcome unknown")
    );
    assert_eq!(fake.count(), 3);

    // Unknown outcomes are never retried automatically.
    fake.set(Mode::Accept);
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.total("sent"), 0);
    assert_eq!(fake.count(), 3);

    // The operator releases it; the next sweep sends it once.
    let mut conn = db.conn().await;
    let unknown = records::unknown_outcomes(&mut conn, &Scope::All)
        .await
        .unwrap();
    assert_eq!(unknown.len(), 1);
    let settled = records::settle(
        &mut conn,
        unknown[0].id,
        Settlement::Release,
        "admin",
        &Scope::All,
    )
    .await
    .unwrap();
    assert_eq!(settled.status, 4);
    assert!(
        records::settle(
            &mut conn,
            unknown[0].id,
            Settlement::Release,
            "admin",
            &Scope::All
        )
        .await
        .is_err()
    );
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.count(EventType::Activation, "sent"), 1);
    assert_eq!(fake.count(), 4);
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.total("sent"), 0);
    assert_eq!(fake.count(), 4);
    let history = records::history(&mut conn, records::HistoryOf::PolicyId(id(1)), &Scope::All)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|h| h.status).collect::<Vec<_>>(),
        vec![1, 4, 4]
    );
    assert_eq!(
        records::history(&mut conn, records::HistoryOf::FamilyId(id(2)), &Scope::All)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn marking_an_unknown_outcome_as_sent() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 14))).await;
    let toml = format!("{ALL_EVENTS}\n{}", fake.provider_toml(1));
    let s = sender(&db, settings(&toml));
    run(&s, d(6, 15)).await;
    let mut conn = db.conn().await;
    let unknown = records::unknown_outcomes(&mut conn, &Scope::All)
        .await
        .unwrap();
    assert_eq!(unknown.len(), 1);
    records::settle(
        &mut conn,
        unknown[0].id,
        Settlement::MarkSent,
        "admin",
        &Scope::All,
    )
    .await
    .unwrap();
    assert_ne!(
        marker(&db, 1, "NotificationOnActivationSent")
            .await
            .as_deref(),
        Some("0001-01-01")
    );
    assert!(
        marker(&db, 1, "NotificationOnActivationSent")
            .await
            .is_some()
    );
    fake.set(Mode::Accept);
    let r = run(&s, d(6, 15)).await;
    assert_eq!(r.total("sent"), 0);
    assert!(
        records::unknown_outcomes(&mut conn, &Scope::All)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn dry_run_records_nothing() {
    let db = sender_db().await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    family(&db, 2, Some("0712345678"), Some(false), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 15))).await;
    policy(&db, &Pol::new(2, 2, 1, d(6, 15))).await;
    let markers_before = db
        .count("SELECT count(*) FROM \"tblIndicationOfPolicyNotifications\"")
        .await;
    let s = sender(&db, settings(&text_toml(&dir.0)));
    let r = s
        .sweep(SweepOptions {
            as_of: Some(d(6, 15)),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.planned.len(), 1);
    assert_eq!(r.planned[0].phone, "*********678");
    assert!(r.planned[0].text.contains("CHF1"));
    assert_eq!(r.count(EventType::Starting, "not_approved"), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotifications\"")
            .await,
        markers_before,
        "no marker row written"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
            .await,
        0
    );
    assert!(dir.messages().is_empty());
}

#[tokio::test]
async fn two_concurrent_sweeps_send_each_message_once() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Slow).await;
    product(&db, 1, "P1", None).await;
    for f in 1..=30 {
        family(&db, f, Some("0712345678"), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    // Some rejections too, written by both sweeps at once.
    for f in 31..=40 {
        family(&db, f, Some("0712345678"), Some(false), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let toml = format!("{ALL_EVENTS}\n{}", fake.provider_toml(5));
    let a = sender(&db, settings(&toml));
    let b = sender(&db, settings(&toml));
    let (ra, rb) = tokio::join!(run(&a, d(6, 15)), run(&b, d(6, 15)));
    // Starting (30) messages; activation is covered by the start message (status 5).
    assert_eq!(ra.total("sent") + rb.total("sent"), 30);
    assert_eq!(fake.count(), 30);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 1").await,
        30
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 2").await,
        20,
        "one refusal per event and policy (activation and start)"
    );
}

/// Two replicas claiming in batches of different sizes at once (batches that overlap in every
/// way): each (policy, event) goes to the gateway exactly once, and every attempt is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_claiming_in_batches_never_send_the_same_message() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Accept).await;
    product(&db, 1, "P1", None).await;
    let n = 40;
    for f in 1..=n {
        family(&db, f, Some(&format!("0715{f:06}")), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    let toml = |batch: usize| {
        format!(
            "[service]\nsend_concurrency = 4\nsweep_batch_size = {batch}\n\n{ALL_EVENTS}\n{}",
            fake.provider_toml(5)
        )
    };
    let a = sender(&db, settings(&toml(7)));
    let b = sender(&db, settings(&toml(3)));
    let (ra, rb) = tokio::join!(run(&a, d(6, 15)), run(&b, d(6, 15)));
    assert_eq!(
        ra.total("sent") + rb.total("sent"),
        n as u64,
        "{:?} {:?}",
        ra.counts,
        rb.counts
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
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6")
            .await,
        0
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"tblIndicationOfPolicyNotifications\" \
             WHERE \"NotificationOnEffectiveSent\" > '2000-01-01' AND \"PolicyID\" > {}",
            id(0)
        ))
        .await,
        n as i64,
        "every marker set"
    );
}

#[tokio::test]
async fn operator_templates_override_and_bad_ones_stop_the_start() {
    let db = sender_db().await;
    let dir = TempDir::new();
    let tpl = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "sw").await;
    family(&db, 2, Some("0712345678"), Some(true), "en").await;
    family(&db, 3, Some("0712345678"), Some(true), "xx").await;
    for f in 1..=3 {
        policy(&db, &Pol::new(f, f, 1, d(6, 15))).await;
    }
    // A Swahili catalog in openIMIS's layout and an English override of one message.
    let ids = [
        "sms_on_activation",
        "sms_on_effective",
        "sms_before_expiry",
        "sms_on_expiration",
        "sms_after_expiry",
        "sms_on_renewal",
    ];
    let mut sw = String::from("msgid \"\"\nmsgstr \"Language: sw\\n\"\n\n");
    for id in ids {
        sw.push_str(&format!(
            "msgid \"policy_notification.{id}\"\nmsgstr \"SW {id} %(Name)s %(AmountToBePaid)s\"\n\n"
        ));
    }
    sw.push_str(
        "msgid \"policy_notification.sms_control_number_assigned\"\nmsgstr \"%(ControlNumber)s\"\n",
    );
    std::fs::create_dir_all(tpl.0.join("sw/LC_MESSAGES")).unwrap();
    std::fs::write(tpl.0.join("sw/LC_MESSAGES/django.po"), &sw).unwrap();
    std::fs::write(
        tpl.0.join("en.po"),
        "msgid \"policy_notification.sms_on_effective\"\nmsgstr \"EN override %(InsuranceID)s\"\n",
    )
    .unwrap();
    let toml = text_toml_with(&dir.0, &format!("templates_dir = \"{}\"", tpl.0.display()));
    let s = sender(&db, settings(&toml));
    run(&s, d(6, 15)).await;
    let all: Vec<String> = dir.messages().into_iter().map(|m| m.1).collect();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .any(|m| m.contains("SW sms_on_effective Amina1 Juma 10000.00")),
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|m| m.contains("EN override")).count(),
        2,
        "en and the fallback"
    );

    // A bad placeholder is a start-up error naming it.
    std::fs::write(
        tpl.0.join("en.po"),
        "msgid \"policy_notification.sms_on_effective\"\nmsgstr \"Hello %(Nom)s\"\n",
    )
    .unwrap();
    let err = Sender::new(pool(&db), Arc::new(settings(&toml)))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("%(Nom)s"), "{err}");
    // A catalog missing an event message is an error too.
    std::fs::remove_file(tpl.0.join("en.po")).unwrap();
    std::fs::write(
        tpl.0.join("de.po"),
        "msgid \"policy_notification.sms_on_effective\"\nmsgstr \"x\"\n",
    )
    .unwrap();
    let err = Sender::new(pool(&db), Arc::new(settings(&toml)))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("`de`") && err.contains("sms_on_activation"),
        "{err}"
    );
}

#[tokio::test]
async fn amount_to_be_paid_subtracts_premiums() {
    let db = sender_db().await;
    let dir = TempDir::new();
    let tpl = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    policy(&db, &Pol::new(1, 1, 1, d(6, 15))).await;
    db.exec(&format!(
        "INSERT INTO \"tblPremium\" (\"PremiumUUID\", \"PolicyID\", \"Amount\", \"Receipt\", \"PayDate\", \"PayType\", \
         \"isPhotoFee\", \"ValidityFrom\", \"ValidityTo\", \"AuditUserID\") VALUES \
         (gen_random_uuid()::text, {p}, 2500, 'r1', '2026-06-01', 'C', false, now(), NULL, 1), \
         (gen_random_uuid()::text, {p}, 100, 'r2', '2026-06-01', 'C', true, now(), NULL, 1), \
         (gen_random_uuid()::text, {p}, 999, 'r3', '2026-06-01', 'C', false, now(), now(), 1)",
        p = id(1)
    ))
    .await;
    std::fs::write(
        tpl.0.join("en.po"),
        "msgid \"policy_notification.sms_on_effective\"\nmsgstr \"Due %(AmountToBePaid)s\"\n",
    )
    .unwrap();
    let toml = text_toml_with(&dir.0, &format!("templates_dir = \"{}\"", tpl.0.display()));
    let s = sender(&db, settings(&toml));
    run(&s, d(6, 15)).await;
    let all: Vec<String> = dir.messages().into_iter().map(|m| m.1).collect();
    assert!(all.iter().any(|m| m.ends_with("Due 7500.00")), "{all:?}");
}

/// A real sweep over several detection chunks (`CHUNK` = 1000): every policy's decision is
/// recorded once — messages and rejections on both sides of each chunk boundary — and a rerun
/// finds nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_over_several_chunks_records_every_decision_once() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Accept).await;
    let (families, policies) = (900usize, 2500usize);
    bulk_policies(&db, families, policies, policies, 3).await;
    let approved = (1..=policies)
        .filter(|g| ((g - 1) % families + 1) % 3 != 0)
        .count();
    let toml = format!(
        "[service]\nsend_concurrency = 8\n\n{ALL_EVENTS}\n{}",
        fake.provider_toml(30)
    );
    let s = sender(&db, settings(&toml));
    let run = || {
        s.sweep(SweepOptions {
            as_of: Some(d(6, 15)),
            ..Default::default()
        })
    };
    let r = run().await.unwrap();
    assert_eq!(r.count(EventType::Starting, "sent") as usize, approved);
    assert_eq!(
        r.count(EventType::Starting, "not_approved") as usize,
        policies - approved
    );
    assert_eq!(fake.count(), approved);
    let per_policy = "SELECT count(*) FROM (SELECT \"indicationID\" FROM \"tblIndicationOfPolicyNotificationsDetails\" \
                      WHERE notification_type = 'starting_of_policy' GROUP BY 1 HAVING count(*) = 1) x";
    assert_eq!(db.count(per_policy).await as usize, policies);
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 2")
            .await as usize,
        policies - approved
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotifications\" WHERE \"NotificationOnEffectiveSent\" IS NULL")
            .await,
        0,
        "every policy's start marker is set (time sent or the sentinel)"
    );

    let again = run().await.unwrap();
    assert_eq!(again.total("sent") + again.total("not_approved"), 0);
    assert_eq!(fake.count(), approved);
    assert_eq!(db.count(per_policy).await as usize, policies);
}

/// The first sweep over a database as openIMIS left it (on the real grounds: openIMIS's demo
/// families and policies, none of them notified by us yet; on our own schema: nothing), with
/// every event enabled: it completes, records each decision once (one detail row per policy and
/// event), writes a message for each one recorded as sent, and a second sweep the same day
/// sends and records nothing new.
#[tokio::test]
async fn the_first_sweep_on_untouched_data_records_each_decision_once() {
    let db = TestDb::new().await;
    let dir = TempDir::new();
    let today = chrono::Utc::now().date_naive();
    let s = sender(&db, settings(&text_toml(&dir.0)));
    let r = run(&s, today).await;
    eprintln!(
        "first sweep on {}: {:?}",
        support::Ground::current().name(),
        r.counts
    );
    let details = "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"";
    let recorded = db.count(details).await;
    assert_eq!(
        db.count(
            "SELECT count(*) FROM (SELECT \"indicationID\", notification_type \
             FROM \"tblIndicationOfPolicyNotificationsDetails\" GROUP BY 1, 2 HAVING count(*) > 1) x"
        )
        .await,
        0,
        "a (policy, event) recorded twice"
    );
    assert_eq!(
        r.counts.values().sum::<u64>() as i64,
        recorded,
        "every decision of the sweep is one detail row: {:?}",
        r.counts
    );
    let sent = db
        .count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 1")
        .await;
    assert_eq!(r.total("sent") as i64, sent, "{:?}", r.counts);
    assert_eq!(
        dir.messages().len() as i64,
        sent,
        "one message per sent record"
    );
    assert!(
        r.counts
            .keys()
            .all(|(_, o)| *o != "failed" && *o != "unknown"),
        "the text provider settles every message: {:?}",
        r.counts
    );

    let again = run(&s, today).await;
    assert_eq!(again.total("sent"), 0, "{:?}", again.counts);
    assert!(again.counts.is_empty(), "{:?}", again.counts);
    assert_eq!(dir.messages().len() as i64, sent);
    assert_eq!(db.count(details).await, recorded);
}
