//! The consent follower (issue 16) against real PostgreSQL on every ground: `core_Mutation_Log`
//! and `insuree_FamilyMutation` rows written the way openIMIS 1.5.0 writes them (the log row at
//! status 0 with `json.dumps` of the snake_case input, the family link by `object_mutated`, then
//! `mark_as_successful`'s `UPDATE … SET status = 2 WHERE status = 0`; `deleteFamilies` links
//! nothing), one follower pass at a time (`follower::tick`), effects read back with SQL.
mod support;

use policy_notification::follower::{self, TickReport};
use policy_notification::mutation_log::{self, MutationMeta};
use policy_notification::notification::PreferenceHooks;
use support::TestDb;
use support::fixtures;
use uuid::Uuid;

struct Env {
    db: TestDb,
    pool: policy_notification::db::Pool,
    hooks: PreferenceHooks,
    family_id: i32,
    family_uuid: String,
}

async fn env() -> Env {
    let db = TestDb::new().await;
    fixtures::language(&db, "en", "English", Some(1)).await;
    fixtures::language(&db, "fr", "Français", Some(2)).await;
    let (family_id, family_uuid) = new_family(&db).await;
    db.exec(&format!(
        "DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" = {family_id}; \
         INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") \
         VALUES ({family_id}, false, 'en', now())"
    ))
    .await;
    let pool = policy_notification::db::connect_pool(&db.url, 4).expect("pool");
    Env {
        db,
        pool,
        hooks: PreferenceHooks::new(false, Some("en".into())),
        family_id,
        family_uuid,
    }
}

/// A family with its head (both ids reserved together: the keys are deferred); its id and uuid.
async fn new_family(db: &TestDb) -> (i32, String) {
    let family_uuid = Uuid::new_v4().to_string();
    let insuree_uuid = Uuid::new_v4().to_string();
    db.exec(&format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeUUID\", \"FamilyID\", \"LastName\", \"OtherNames\", \"DOB\", \"IsHead\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         VALUES ('{insuree_uuid}', nextval(pg_get_serial_sequence('\"tblFamilies\"', 'FamilyID')), 'Head', 'Of', '1980-01-01', true, false, now(), 0); \
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT \"FamilyID\", '{family_uuid}', \"InsureeID\", now(), 0 FROM \"tblInsuree\" WHERE \"InsureeUUID\" = '{insuree_uuid}'"
    ))
    .await;
    let id = db
        .scalar(&format!(
            "SELECT \"FamilyID\"::text FROM \"tblFamilies\" WHERE \"FamilyUUID\" = '{family_uuid}'"
        ))
        .await
        .expect("the new family")
        .parse()
        .expect("id");
    (id, family_uuid)
}

/// A Python `json.dumps` of a dict (", " and ": " separators), as openIMIS stores `json_content`.
fn py_dumps(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", serde_json::Value::from(k.as_str()), py_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Env {
    async fn tick(&self) -> TickReport {
        follower::tick(&self.pool, &self.hooks)
            .await
            .expect("follower pass")
    }

    /// `OpenIMISMutation.mutate_and_get_payload`: the log row, status 0 (RECEIVED).
    async fn received(&self, input: serde_json::Value, label: &str) -> Uuid {
        let id = Uuid::new_v4();
        let client = input["client_mutation_id"].as_str().map(str::to_string);
        self.db
            .exec(&format!(
                "INSERT INTO \"core_Mutation_Log\" (\"id\", \"json_content\", \"request_date_time\", \
                   \"client_mutation_id\", \"status\", \"error\", \"user_id\", \"client_mutation_label\", \
                   \"client_mutation_details\") \
                 VALUES ('{id}', {}, now(), {}, 0, NULL, \
                   (SELECT \"id\" FROM \"core_User\" ORDER BY \"username\" LIMIT 1), {}, NULL)",
                quote(&py_dumps(&input)),
                client.as_deref().map_or("NULL".into(), quote),
                quote(label),
            ))
            .await;
        id
    }

    /// `FamilyMutation.object_mutated` then `mark_as_successful`.
    async fn succeed_linked(&self, id: Uuid, family_id: i32) {
        self.db
            .exec(&format!(
                "INSERT INTO \"insuree_FamilyMutation\" (\"id\", \"family_id\", \"mutation_id\") \
                 VALUES ('{}', {family_id}, '{id}'); \
                 UPDATE \"core_Mutation_Log\" SET \"status\" = 2 WHERE \"id\" = '{id}' AND \"status\" = 0",
                Uuid::new_v4()
            ))
            .await;
    }

    /// An `updateFamily` as the openIMIS frontend sends it, completed by openIMIS.
    async fn openimis_update(&self, contribution: Option<serde_json::Value>) -> Uuid {
        let mut input = serde_json::json!({
            "client_mutation_id": Uuid::new_v4().to_string(),
            "client_mutation_label": "Update family",
            "uuid": self.family_uuid,
            "poverty": false,
            "head_insuree": {"chf_id": "070707070", "last_name": "Head", "other_names": "Of"},
        });
        if let Some(c) = contribution {
            input["contribution"] = c;
        }
        let id = self.received(input, "Update family").await;
        self.succeed_linked(id, self.family_id).await;
        id
    }

    async fn sms(&self) -> Option<String> {
        self.db
            .scalar(&format!(
                "SELECT \"ApprovalOfSMS\"::text || ' ' || \"LanguageOfSMS\" FROM \"tblFamilySMS\" \
                 WHERE \"FamilyID\" = {} AND \"ValidityTo\" IS NULL",
                self.family_id
            ))
            .await
    }
}

fn pn(approval: serde_json::Value, language: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"PolicyNotification": {"approvalOfNotification": approval, "languageOfNotification": language}})
}

#[tokio::test]
async fn an_openimis_update_is_applied_once() {
    let e = env().await;
    let id = e.openimis_update(Some(pn(true.into(), "fr".into()))).await;
    let r = e.tick().await;
    assert!(r.ran);
    assert_eq!((r.handled, r.applied, r.problems), (1, 1, 0), "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("true fr"));
    // The same log row again changes nothing, even after a manual change of the row.
    e.db.exec(&format!(
        "UPDATE \"tblFamilySMS\" SET \"ApprovalOfSMS\" = false WHERE \"FamilyID\" = {}",
        e.family_id
    ))
    .await;
    let again = e.tick().await;
    assert_eq!((again.handled, again.applied), (0, 0), "{again:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false fr"));
    assert_eq!(
        e.db.scalar(&format!(
            "SELECT \"outcome\" FROM \"pn_follow_seen\" WHERE \"mutation_id\" = '{id}'"
        ))
        .await
        .as_deref(),
        Some("applied")
    );
    let mut c = e.db.conn().await;
    let status = follower::status(&mut c).await.unwrap().unwrap();
    assert_eq!((status.applied, status.problems, status.waiting), (1, 0, 0));
    assert_eq!(status.lag_seconds, 0.0);
    assert!(status.last_run.is_some());
}

#[tokio::test]
async fn partial_null_absent_and_string_contributions() {
    let e = env().await;
    // Only the approval: the language stays.
    e.openimis_update(Some(
        serde_json::json!({"PolicyNotification": {"approvalOfNotification": true}}),
    ))
    .await;
    e.tick().await;
    assert_eq!(e.sms().await.as_deref(), Some("true en"));
    // null is "not given".
    e.openimis_update(Some(pn(serde_json::Value::Null, "fr".into())))
        .await;
    e.tick().await;
    assert_eq!(e.sms().await.as_deref(), Some("true fr"));
    // No contribution, or another module's only: nothing changes.
    e.openimis_update(None).await;
    e.openimis_update(Some(serde_json::json!({"Other": {"x": 1}})))
        .await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.applied, r.problems), (2, 2, 0), "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("true fr"));
    // A JSON string holding the contribution (a client that encoded it twice) is read as JSON.
    e.openimis_update(Some(serde_json::Value::String(
        pn(false.into(), "en".into()).to_string(),
    )))
    .await;
    e.tick().await;
    assert_eq!(e.sms().await.as_deref(), Some("false en"));
}

#[tokio::test]
async fn invalid_data_is_a_recorded_problem_never_a_guess() {
    let e = env().await;
    let bad_language = e.openimis_update(Some(pn(true.into(), "zz".into()))).await;
    let bad_type = e
        .openimis_update(Some(pn("yes".into(), serde_json::Value::Null)))
        .await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.applied, r.problems), (2, 0, 2), "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false en"), "row unchanged");
    let fields = e
        .db
        .scalar(
            "SELECT string_agg(\"field\" || '@' || \"mutation_id\"::text || '#' || \"family_id\"::text, ',' ORDER BY \"id\") \
             FROM \"pn_follow_problem\""
        )
        .await
        .unwrap_or_default();
    assert_eq!(
        fields,
        format!(
            "languageOfNotification@{bad_language}#{f},approvalOfNotification@{bad_type}#{f}",
            f = e.family_id
        )
    );
    let mut c = e.db.conn().await;
    let status = follower::status(&mut c).await.unwrap().unwrap();
    assert_eq!(status.problems, 2);
    assert_eq!(status.recent_problems.len(), 2);
    assert!(
        status.recent_problems[0]
            .message
            .contains("has to be a boolean"),
        "{:?}",
        status.recent_problems
    );
}

#[tokio::test]
async fn a_family_without_a_row_gets_the_default_row() {
    let e = env().await;
    e.db.exec(&format!(
        "DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" = {}",
        e.family_id
    ))
    .await;
    e.openimis_update(None).await;
    e.tick().await;
    assert_eq!(e.sms().await.as_deref(), Some("false en"));
    // Invalid data on a family without a row: the problem, and still the default row.
    e.db.exec(&format!(
        "DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" = {}",
        e.family_id
    ))
    .await;
    e.openimis_update(Some(pn(1.into(), serde_json::Value::Null)))
        .await;
    let r = e.tick().await;
    assert_eq!(r.problems, 1, "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false en"));
}

#[tokio::test]
async fn unfinished_and_failed_mutations_wait_or_are_ignored() {
    let e = env().await;
    let id = e
        .received(
            serde_json::json!({"client_mutation_id": "c1", "uuid": e.family_uuid,
                               "contribution": pn(true.into(), "fr".into())}),
            "Update family",
        )
        .await;
    let r = e.tick().await;
    assert_eq!(r.handled, 0, "status 0 is not finished: {r:?}");
    let mut c = e.db.conn().await;
    assert_eq!(follower::status(&mut c).await.unwrap().unwrap().waiting, 0);
    // A failure (status 1, no link, as openIMIS's error path leaves it): ignored.
    let failed = e
        .received(
            serde_json::json!({"client_mutation_id": "c2", "uuid": e.family_uuid,
                               "contribution": pn(true.into(), "fr".into())}),
            "Update family",
        )
        .await;
    e.db.exec(&format!(
        "UPDATE \"core_Mutation_Log\" SET \"status\" = 1, \"error\" = '[{{\"message\": \"x\"}}]' WHERE \"id\" = '{failed}'"
    ))
    .await;
    assert_eq!(follower::status(&mut c).await.unwrap().unwrap().waiting, 1);
    let r = e.tick().await;
    assert_eq!((r.handled, r.ignored, r.applied), (1, 1, 0), "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false en"));
    // The first one finishes later: applied then.
    e.succeed_linked(id, e.family_id).await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.applied), (1, 1), "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("true fr"));
}

#[tokio::test]
async fn an_openimis_delete_end_dates_the_row() {
    let e = env().await;
    // FamilyService.set_deleted: the family's current row gets its ValidityTo; no link is written.
    e.db.exec(&format!(
        "UPDATE \"tblFamilies\" SET \"ValidityTo\" = now() WHERE \"FamilyID\" = {}",
        e.family_id
    ))
    .await;
    let id = e
        .received(
            serde_json::json!({"client_mutation_id": "d1", "client_mutation_label": "Delete family",
                               "uuids": [e.family_uuid.to_uppercase()], "delete_members": false}),
            "Delete family",
        )
        .await;
    e.db.exec(&format!(
        "UPDATE \"core_Mutation_Log\" SET \"status\" = 2 WHERE \"id\" = '{id}' AND \"status\" = 0"
    ))
    .await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.deleted), (1, 1), "{r:?}");
    assert_eq!(e.sms().await, None, "no current row");
    assert_eq!(
        e.db.count(&format!(
            "SELECT count(*) FROM \"tblFamilySMS\" WHERE \"FamilyID\" = {} AND \"ValidityTo\" IS NOT NULL",
            e.family_id
        ))
        .await,
        1
    );
    // A delete of a family that is still current (the mutation failed for it) changes nothing.
    let (_, other_uuid) = new_family(&e.db).await;
    let id = e
        .received(
            serde_json::json!({"client_mutation_id": "d2", "uuids": [other_uuid], "delete_members": false}),
            "Delete family",
        )
        .await;
    e.db.exec(&format!(
        "UPDATE \"core_Mutation_Log\" SET \"status\" = 1 WHERE \"id\" = '{id}'"
    ))
    .await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.deleted, r.ignored), (1, 0, 1), "{r:?}");
}

#[tokio::test]
async fn our_own_mutations_are_not_followed() {
    let e = env().await;
    // What our own updateFamily writes (its hooks ran in its transaction).
    let id = Uuid::new_v4();
    let meta = MutationMeta {
        json_content: serde_json::json!({"uuid": e.family_uuid,
            "contribution": pn(true.into(), "fr".into()).to_string()})
        .to_string(),
        client_mutation_id: Some("own-1".into()),
        ..MutationMeta::default()
    };
    let mut c = e.db.conn().await;
    mutation_log::record(&mut c, id, chrono::Utc::now(), &meta, Ok(()))
        .await
        .unwrap();
    mutation_log::link_families(&mut c, id, &[e.family_id])
        .await
        .unwrap();
    assert_eq!(
        e.db.scalar(&format!(
            "SELECT \"JsonExt\"::text FROM \"core_Mutation_Log\" WHERE \"id\" = '{id}'"
        ))
        .await
        .as_deref(),
        Some(r#"{"policy_notification": {"own": true}}"#)
    );
    // And openIMIS's mutation at the same time.
    e.openimis_update(Some(pn(serde_json::Value::Null, "fr".into())))
        .await;
    let r = e.tick().await;
    assert_eq!((r.handled, r.applied), (1, 1), "only openIMIS's: {r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false fr"));
}

#[tokio::test]
async fn replicas_never_do_the_same_work() {
    let e = env().await;
    e.openimis_update(Some(pn(true.into(), "fr".into()))).await;
    // Another replica holds the cursor: this pass does nothing.
    let mut other = e.db.conn().await;
    use diesel_async::SimpleAsyncConnection;
    other
        .batch_execute("BEGIN; SELECT 1 FROM \"pn_follow_cursor\" WHERE \"id\" = 1 FOR UPDATE")
        .await
        .unwrap();
    let r = e.tick().await;
    assert!(!r.ran, "{r:?}");
    assert_eq!(e.sms().await.as_deref(), Some("false en"));
    other.batch_execute("ROLLBACK").await.unwrap();
    // Two passes at once: the mutation is applied by exactly one.
    let hooks2 = e.hooks.clone();
    let (a, b) = tokio::join!(
        follower::tick(&e.pool, &e.hooks),
        follower::tick(&e.pool, &hooks2)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.applied + b.applied, 1, "{a:?} {b:?}");
    assert_eq!(e.sms().await.as_deref(), Some("true fr"));
    let mut c = e.db.conn().await;
    assert_eq!(follower::status(&mut c).await.unwrap().unwrap().applied, 1);
}

#[tokio::test]
async fn the_tables_openimis_writes_have_its_columns() {
    let e = env().await;
    for (table, columns) in [
        (
            "core_Mutation_Log",
            "client_mutation_details,client_mutation_id,client_mutation_label,error,id,json_content,request_date_time,status,user_id",
        ),
        ("insuree_FamilyMutation", "family_id,id,mutation_id"),
    ] {
        let have = e
            .db
            .scalar(&format!(
                "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns \
                 WHERE table_name = '{table}' AND column_name <> 'JsonExt' AND column_name <> 'autogenerated_code'"
            ))
            .await
            .unwrap_or_default();
        assert_eq!(have, columns, "{table}");
    }
}

#[tokio::test]
async fn the_background_follower_applies_within_its_poll() {
    let e = env().await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let hooks: std::sync::Arc<dyn policy_notification::hooks::FamilyHooks> =
        std::sync::Arc::new(e.hooks.clone());
    let task = tokio::spawn(follower::run(
        e.pool.clone(),
        hooks,
        std::time::Duration::from_millis(100),
        stop_rx,
    ));
    e.openimis_update(Some(pn(true.into(), "fr".into()))).await;
    // Wait for the effect (no timing is asserted; the bound only stops a broken run).
    let mut seen = None;
    for _ in 0..300 {
        seen = e.sms().await;
        if seen.as_deref() == Some("true fr") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen.as_deref(), Some("true fr"));
    stop_tx.send(true).unwrap();
    task.await.unwrap();
}

/// The dashboard's follower figure (docs/dashboard.md): the counts for right 131224, the
/// problems (which name families) for administrators only.
#[tokio::test]
async fn the_dashboard_shows_the_followers_counts_and_problems() {
    let e = env().await;
    e.openimis_update(Some(pn(true.into(), "fr".into()))).await;
    e.openimis_update(Some(pn(true.into(), "zz".into()))).await;
    let r = e.tick().await;
    assert_eq!((r.applied, r.problems), (1, 1), "{r:?}");

    let app = support::app::TestApp::spawn(&e.db).await;
    fixtures::user(&e.db, "pn_ops", "Secret1!", &[131224], &[], false).await;
    fixtures::user(&e.db, "pn_root", "Secret1!", &[], &[], true).await;
    let url = app.url("/api/policy_notification/dashboard/follower.json");
    let mut seen = Vec::new();
    for who in ["pn_ops", "pn_root"] {
        let token = app.login(who, "Secret1!").await;
        let resp = app
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::OK, "{who}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["figure"], "follower", "{v}");
        let d = &v["data"];
        assert_eq!(d["enabled"], false, "{d}");
        assert_eq!(
            (d["applied"].as_i64(), d["problems"].as_i64()),
            (Some(1), Some(1)),
            "{d}"
        );
        seen.push(d["recentProblems"].as_array().map(Vec::len));
    }
    assert_eq!(
        seen,
        vec![Some(0), Some(1)],
        "problems listed to administrators only"
    );
}
