//! Event detection at its date edges (day before, of, after), the relevance windows, and the
//! "not renewed" rule with conversion chains and loops. Dry runs: nothing is written.

mod sender_common;
mod support;

use chrono::{Duration, NaiveDate};
use policy_notification::notification::events::EventType;
use policy_notification::notification::sender::{Sender, SweepOptions};
use sender_common::*;

fn only(event: EventType, folder: &std::path::Path) -> policy_notification::config::Settings {
    let mut s = settings(&text_toml(folder));
    let t = &mut s.module.eligible_notification_types;
    *t = Default::default();
    match event {
        EventType::Activation => t.activation_of_policy = true,
        EventType::Starting => t.starting_of_policy = true,
        EventType::BeforeExpiry => t.need_for_renewal = true,
        EventType::Expiration => t.expiration_of_policy = true,
        EventType::AfterExpiry => t.reminder_after_expiration = true,
        EventType::Renewal => t.renewal_of_policy = true,
    }
    s
}

async fn planned(sender: &Sender, as_of: NaiveDate) -> Vec<(EventType, i32)> {
    let r = sender
        .sweep(SweepOptions {
            as_of: Some(as_of),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap();
    r.planned
        .iter()
        .map(|p| (p.event, logical(p.policy_id)))
        .collect()
}

async fn obsolete(sender: &Sender, as_of: NaiveDate, event: EventType) -> u64 {
    let r = sender
        .sweep(SweepOptions {
            as_of: Some(as_of),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap();
    r.count(event, "obsolete")
}

#[tokio::test]
async fn each_event_at_its_date_edges() {
    let db = sender_db().await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    let start = d(6, 15);
    let mut new = Pol::new(1, 1, 1, start);
    new.expiry = d(9, 30);
    policy(&db, &new).await;
    let mut renewed = Pol::new(2, 1, 1, d(3, 1));
    renewed.stage = "R";
    renewed.effective = Some(d(3, 1));
    renewed.expiry = d(12, 31);
    policy(&db, &renewed).await;

    // Starting: the effective day only.
    let s = sender(&db, only(EventType::Starting, &dir.0));
    assert!(planned(&s, start - Duration::days(1)).await.is_empty());
    assert_eq!(planned(&s, start).await, vec![(EventType::Starting, 1)]);
    assert!(planned(&s, start + Duration::days(1)).await.is_empty());

    // Activation: from the day written until the window (5 days) ends, then obsolete.
    let s = sender(&db, only(EventType::Activation, &dir.0));
    assert_eq!(planned(&s, start).await, vec![(EventType::Activation, 1)]);
    assert_eq!(
        planned(&s, start + Duration::days(5)).await,
        vec![(EventType::Activation, 1)]
    );
    assert!(planned(&s, start + Duration::days(6)).await.is_empty());
    assert_eq!(
        obsolete(&s, start + Duration::days(6), EventType::Activation).await,
        1
    );

    // Renewal: same window on the renewed policy (stage R) only.
    let s = sender(&db, only(EventType::Renewal, &dir.0));
    assert_eq!(planned(&s, d(3, 1)).await, vec![(EventType::Renewal, 2)]);
    assert_eq!(planned(&s, d(3, 6)).await, vec![(EventType::Renewal, 2)]);
    assert!(planned(&s, d(3, 7)).await.is_empty());
    assert_eq!(obsolete(&s, d(3, 7), EventType::Renewal).await, 1);

    // Before expiry: exactly reminder_before_expiry_days (5) before.
    let e = d(9, 30);
    let s = sender(&db, only(EventType::BeforeExpiry, &dir.0));
    assert!(planned(&s, e - Duration::days(6)).await.is_empty());
    assert_eq!(
        planned(&s, e - Duration::days(5)).await,
        vec![(EventType::BeforeExpiry, 1)]
    );
    assert!(planned(&s, e - Duration::days(4)).await.is_empty());

    // On expiration: the expiry day.
    let s = sender(&db, only(EventType::Expiration, &dir.0));
    assert!(planned(&s, e - Duration::days(1)).await.is_empty());
    assert_eq!(planned(&s, e).await, vec![(EventType::Expiration, 1)]);
    assert!(planned(&s, e + Duration::days(1)).await.is_empty());

    // After expiry: reminder_after_expiry_days (5) after.
    let s = sender(&db, only(EventType::AfterExpiry, &dir.0));
    assert!(planned(&s, e + Duration::days(4)).await.is_empty());
    assert_eq!(
        planned(&s, e + Duration::days(5)).await,
        vec![(EventType::AfterExpiry, 1)]
    );
    assert!(planned(&s, e + Duration::days(6)).await.is_empty());

    // Configured reminder days move the edges.
    let mut cfg = only(EventType::BeforeExpiry, &dir.0);
    cfg.module.reminder_before_expiry_days = 14;
    let s = sender(&db, cfg);
    assert_eq!(
        planned(&s, e - Duration::days(14)).await,
        vec![(EventType::BeforeExpiry, 1)]
    );
    assert!(planned(&s, e - Duration::days(5)).await.is_empty());

    // Dry runs wrote nothing.
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\"")
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pn_notification_claim").await,
        0
    );
    assert!(dir.messages().is_empty());
}

#[tokio::test]
async fn not_renewed_follows_the_conversion_chain_with_loop_protection() {
    let db = sender_db().await;
    let dir = TempDir::new();
    // Chain 1 → 3 → 2; loop 4 → 5 → 4; product 6 unrelated.
    product(&db, 2, "P2", None).await;
    product(&db, 3, "P3", Some(2)).await;
    product(&db, 1, "P1", Some(3)).await;
    product(&db, 4, "P4", None).await;
    product(&db, 5, "P5", Some(4)).await;
    db.exec(&format!(
        "UPDATE \"tblProduct\" SET \"ConversionProdID\" = {} WHERE \"ProdID\" = {}",
        id(5),
        id(4)
    ))
    .await;
    product(&db, 6, "P6", None).await;
    let e = d(9, 30);
    for f in 1..=5 {
        family(&db, f, Some("0712345678"), Some(true), "en").await;
    }
    let expiring = |id: i32, family: i32, prod: i32| {
        let mut p = Pol::new(id, family, prod, d(1, 1));
        p.expiry = e;
        p
    };
    // Family 1: renewed on the chain's last product → not notified.
    policy(&db, &expiring(11, 1, 1)).await;
    policy(&db, &Pol::new(12, 1, 2, e + Duration::days(1))).await;
    // Family 2: renewal on its own product, starting later → renewed.
    policy(&db, &expiring(21, 2, 4)).await;
    policy(&db, &Pol::new(22, 2, 4, e + Duration::days(10))).await;
    // Family 3: in the loop, renewed on an unrelated product → not renewed (and no endless loop).
    policy(&db, &expiring(31, 3, 4)).await;
    policy(&db, &Pol::new(32, 3, 6, e + Duration::days(1))).await;
    // Family 4: a renewal that is only a history row does not count.
    policy(&db, &expiring(41, 4, 1)).await;
    let mut gone = Pol::new(42, 4, 1, e + Duration::days(1));
    gone.current = false;
    policy(&db, &gone).await;
    // Family 5: a "renewal" starting before the expiry does not count.
    policy(&db, &expiring(51, 5, 1)).await;
    policy(&db, &Pol::new(52, 5, 1, e)).await;

    let s = sender(&db, only(EventType::Expiration, &dir.0));
    let mut got: Vec<i32> = planned(&s, e).await.into_iter().map(|(_, p)| p).collect();
    got.sort();
    assert_eq!(got, vec![31, 41, 51]);
}

#[tokio::test]
async fn detection_reads_in_chunks_by_key() {
    let db = sender_db().await;
    let dir = TempDir::new();
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    db.exec(&format!(
        "INSERT INTO \"tblPolicy\" (\"PolicyID\", \"PolicyUUID\", \"FamilyID\", \"EnrollDate\", \"StartDate\", \
         \"EffectiveDate\", \"ExpiryDate\", \"PolicyStatus\", \"PolicyValue\", \"ProdID\", \"PolicyStage\", \
         \"ValidityFrom\", \"AuditUserID\") SELECT {BASE} + g, gen_random_uuid()::text, {}, '2026-06-15', '2026-06-15', \
         '2026-06-15', '2027-06-14', 2, 10000, {}, 'N', '2026-06-15 10:00:00+00', 1 FROM generate_series(1, 2500) g",
        id(1),
        id(1)
    ))
    .await;
    let s = sender(&db, only(EventType::Starting, &dir.0));
    let p = planned(&s, d(6, 15)).await;
    assert_eq!(p.len(), 2500);
    let mut ids: Vec<i32> = p.iter().map(|x| x.1).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2500, "each policy once across chunks");
}
