//! GraphQL for operators: notification history, unknown outcomes, settling one; rights and
//! district restrictions; `/metrics` access.

mod sender_common;
mod support;

use policy_notification::notification::sender::SweepOptions;
use sender_common::*;
use serde_json::Value;
use support::app::TestApp;
use support::fixtures;

#[tokio::test]
async fn history_unknown_outcomes_and_settling() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    product(&db, 1, "P1", None).await;
    let loc = fixtures::locations(&db, "N").await;
    for f in 1..=2 {
        family(&db, f, Some("0712345678"), Some(true), "en").await;
        policy(&db, &Pol::new(f, f, 1, d(6, 14))).await;
    }
    db.exec(&format!(
        "UPDATE \"tblFamilies\" SET \"LocationId\" = {} WHERE \"FamilyID\" = {}",
        loc.village,
        id(1)
    ))
    .await;
    let s = sender(
        &db,
        settings(&format!("{ALL_EVENTS}\n{}", fake.provider_toml(1))),
    );
    s.sweep(SweepOptions {
        as_of: Some(d(6, 15)),
        ..Default::default()
    })
    .await
    .unwrap();

    let app = TestApp::spawn(&db).await;
    fixtures::user(&db, "ops", "Secret1!", &[131224], &[], true).await;
    fixtures::user(
        &db,
        "district",
        "Secret1!",
        &[131224],
        &[loc.district],
        false,
    )
    .await;
    fixtures::user(&db, "clerk", "Secret1!", &[101001], &[loc.district], false).await;
    let ops = app.login("ops", "Secret1!").await;
    let district = app.login("district", "Secret1!").await;
    let clerk = app.login("clerk", "Secret1!").await;

    let q = "{ unknownNotificationOutcomes { id policyUuid notificationType status statusLabel details provider } }";
    let (_, body) = app.gql_as(&ops, q).await;
    let list = body["data"]["unknownNotificationOutcomes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 2, "{body}");
    assert_eq!(list[0]["status"], 6);
    assert_eq!(list[0]["statusLabel"], "unknown");
    assert_eq!(list[0]["provider"], "eGASMSGateway");
    // District users see their districts' families only; no right: openIMIS's error.
    let (_, body) = app.gql_as(&district, q).await;
    assert_eq!(
        body["data"]["unknownNotificationOutcomes"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{body}"
    );
    let (_, body) = app.gql_as(&clerk, q).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = app.gql(q).await;
    assert!(body["errors"].is_array(), "{body}");

    // History by policy and by family.
    let policy_uuid = db
        .scalar(&format!(
            "SELECT \"PolicyUUID\" FROM \"tblPolicy\" WHERE \"PolicyID\" = {}",
            id(2)
        ))
        .await
        .unwrap();
    let family_uuid = db
        .scalar(&format!(
            "SELECT \"FamilyUUID\" FROM \"tblFamilies\" WHERE \"FamilyID\" = {}",
            id(2)
        ))
        .await
        .unwrap();
    let h = format!(
        "{{ policyNotificationHistory(policyUuid: \"{policy_uuid}\") {{ notificationType status familyUuid }} }}"
    );
    let (_, body) = app.gql_as(&ops, &h).await;
    let rows = body["data"]["policyNotificationHistory"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["notificationType"], "activation_of_policy");
    assert_eq!(rows[0]["familyUuid"], Value::String(family_uuid.clone()));
    let h = format!(
        "{{ policyNotificationHistory(familyUuid: \"{}\") {{ status }} }}",
        family_uuid.to_uppercase()
    );
    let (_, body) = app.gql_as(&ops, &h).await;
    assert_eq!(
        body["data"]["policyNotificationHistory"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{body}"
    );
    let (_, body) = app.gql_as(&district, &h).await;
    assert_eq!(
        body["data"]["policyNotificationHistory"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "{body}"
    );
    let (_, body) = app
        .gql_as(&ops, "{ policyNotificationHistory { status } }")
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );

    // Settle: release one, mark the other sent; a second settle is NOT_FOUND.
    let id_of = |uuid: &str| {
        list.iter()
            .find(|x| x["policyUuid"] == Value::String(uuid.to_string()))
            .and_then(|x| x["id"].as_i64())
            .unwrap()
    };
    let p1 = db
        .scalar(&format!(
            "SELECT \"PolicyUUID\" FROM \"tblPolicy\" WHERE \"PolicyID\" = {}",
            id(1)
        ))
        .await
        .unwrap();
    let (id0, id1) = (id_of(&p1), id_of(&policy_uuid));
    let m = |id: i64, how: &str| {
        format!(
            "mutation {{ settleNotificationOutcome(attemptId: {id}, settlement: {how}) {{ id status statusLabel details }} }}"
        )
    };
    let (_, body) = app.gql_as(&district, &m(id1, "RELEASE")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "outside the user's districts: {body}"
    );
    let (_, body) = app.gql_as(&ops, &m(id0, "RELEASE")).await;
    assert_eq!(
        body["data"]["settleNotificationOutcome"]["status"], 4,
        "{body}"
    );
    assert!(
        body["data"]["settleNotificationOutcome"]["details"]
            .as_str()
            .unwrap()
            .contains("ops")
    );
    let (_, body) = app.gql_as(&ops, &m(id1, "MARK_SENT")).await;
    assert_eq!(
        body["data"]["settleNotificationOutcome"]["statusLabel"], "sent",
        "{body}"
    );
    let (_, body) = app.gql_as(&ops, &m(id1, "RELEASE")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    let (_, body) = app.gql_as(&clerk, &m(id0, "RELEASE")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );

    // The released one goes out on the next sweep, the one marked sent does not.
    fake.set(Mode::Accept);
    let before = fake.count();
    let r = s
        .sweep(SweepOptions {
            as_of: Some(d(6, 15)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.total("sent"), 1);
    assert_eq!(fake.count(), before + 1);
}

#[tokio::test]
async fn metrics_need_the_token_on_the_main_listener() {
    let db = sender_db().await;
    policy_notification::http::metrics::install();
    metrics::counter!("pn_notifications_total", "event" => "starting_of_policy", "gateway" => "x", "outcome" => "sent").increment(1);
    let closed = TestApp::spawn(&db).await;
    let r = closed
        .client
        .get(closed.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let app = TestApp::spawn_with(&db, "[service]\nmetrics_token = \"m-token\"\n").await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("m-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("pn_notifications_total"), "{text}");
}
