//! The family write model, the preference hooks and the families query, against real PostgreSQL
//! (the service layer; the GraphQL tests drive the same code through HTTP).
mod support;

use async_trait::async_trait;
use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use policy_notification::db::connect_pool;
use policy_notification::families::Scope;
use policy_notification::families::mutations::{
    self, Actor, DeleteFamiliesInput, FamilyInput, HeadInsureeInput,
};
use policy_notification::families::query::{self, ArgValue, FamilyFilter, NotificationFilter};
use policy_notification::hooks::{FamilyEvent, FamilyHooks, HookError};
use policy_notification::mutation_log::{self, LogViewer, MutationLogFilter, MutationMeta};
use policy_notification::notification::PreferenceHooks;
use policy_notification::paging::Window;
use serde_json::{Value, json};
use support::TestDb;

const BASE: &str = include_str!("fixtures/families_base.sql");

fn admin() -> Actor {
    Actor {
        authenticated: true,
        audit_user_id: 1,
        core_user_id: None,
        rights: vec![101001, 101002, 101003, 101004],
        scope: Scope::All,
    }
}

fn head(chf: &str) -> HeadInsureeInput {
    HeadInsureeInput {
        chf_id: Some(chf.into()),
        last_name: format!("Last{chf}"),
        other_names: format!("Other{chf}"),
        gender_id: "M".into(),
        dob: NaiveDate::from_ymd_opt(1980, 1, 2),
        phone: Some("0712345678".into()),
        card_issued: Some(false),
        status: Some("AC".into()),
        ..Default::default()
    }
}

fn family(chf: &str, contribution: Option<Value>) -> FamilyInput {
    FamilyInput {
        head_insuree: Some(head(chf)),
        location_id: Some(6),
        poverty: Some(false),
        json_ext: Some(Some(json!({"k": 1}))),
        contribution,
        ..Default::default()
    }
}

fn meta(client: &str) -> MutationMeta {
    MutationMeta {
        json_content: "{}".into(),
        client_mutation_id: Some(client.into()),
        client_mutation_label: Some(format!("label {client}")),
        ..Default::default()
    }
}

fn notif(approval: Value, language: Value) -> Option<Value> {
    Some(
        json!({"PolicyNotification": {"approvalOfNotification": approval, "languageOfNotification": language}}),
    )
}

struct Setup {
    db: TestDb,
    pool: policy_notification::db::Pool,
    catalog: policy_notification::db::catalog::CatalogCell,
    hooks: PreferenceHooks,
}

async fn setup() -> Setup {
    // Exact figures over every family: the demo's families are not part of these tests.
    let db = TestDb::new().await.without_demo_families().await;
    db.exec(BASE).await;
    let pool = connect_pool(&db.url, 4).unwrap();
    Setup {
        db,
        pool,
        catalog: Default::default(),
        hooks: PreferenceHooks::new(false, None),
    }
}

impl Setup {
    async fn create(&self, chf: &str, contribution: Option<Value>) -> mutations::MutationReceipt {
        mutations::create_family(
            &self.pool,
            &self.catalog,
            &self.hooks,
            &admin(),
            &meta(&format!("c-{chf}")),
            &family(chf, contribution),
        )
        .await
        .unwrap()
    }

    async fn family_uuid(&self, chf: &str) -> String {
        self.db
            .scalar(&format!(
                "SELECT f.\"FamilyUUID\" FROM \"tblFamilies\" f JOIN \"tblInsuree\" i ON i.\"InsureeID\" = f.\"InsureeID\" \
                 WHERE i.\"CHFID\" = '{chf}' AND f.\"ValidityTo\" IS NULL AND i.\"ValidityTo\" IS NULL"
            ))
            .await
            .unwrap()
    }

    async fn sms(&self, chf: &str) -> Option<String> {
        self.db
            .scalar(&format!(
                "SELECT s.\"ApprovalOfSMS\"::text || '/' || s.\"LanguageOfSMS\" || '/' || (s.\"ValidityTo\" IS NULL)::text \
                 FROM \"tblFamilySMS\" s JOIN \"tblFamilies\" f ON f.\"FamilyID\" = s.\"FamilyID\" \
                 JOIN \"tblInsuree\" i ON i.\"InsureeID\" = f.\"InsureeID\" WHERE i.\"CHFID\" = '{chf}' AND f.\"LegacyID\" IS NULL"
            ))
            .await
    }

    async fn log(&self, client: &str) -> (i64, Option<String>) {
        let status = self
            .db
            .count(&format!(
                "SELECT status FROM \"core_Mutation_Log\" WHERE client_mutation_id = '{client}'"
            ))
            .await;
        let error = self
            .db
            .scalar(&format!(
                "SELECT error FROM \"core_Mutation_Log\" WHERE client_mutation_id = '{client}'"
            ))
            .await;
        (status, error)
    }

    async fn nothing_but_logs(&self) {
        for t in [
            "tblFamilies",
            "tblInsuree",
            "tblFamilySMS",
            "insuree_FamilyMutation",
        ] {
            assert_eq!(
                self.db
                    .count(&format!("SELECT count(*) FROM \"{t}\""))
                    .await,
                0,
                "{t} must be empty"
            );
        }
    }
}

#[tokio::test]
async fn create_writes_family_head_preferences_log_and_link() {
    let s = setup().await;
    let r = s.create("111", notif(json!(true), json!("fr"))).await;
    assert!(r.outcome.is_ok(), "{:?}", r.outcome);
    let db = &s.db;
    assert_eq!(db.count("SELECT count(*) FROM \"tblFamilies\"").await, 1);
    assert_eq!(
        db.scalar(
            "SELECT f.\"LocationId\"::text || ' ' || f.\"JsonExt\"::text FROM \"tblFamilies\" f"
        )
        .await
        .as_deref(),
        Some("6 {\"k\": 1}")
    );
    assert_eq!(
        db.scalar("SELECT i.\"FamilyID\" = f.\"FamilyID\" AND i.\"IsHead\" AND i.status = 'AC' FROM \"tblFamilies\" f JOIN \"tblInsuree\" i ON i.\"InsureeID\" = f.\"InsureeID\"").await.as_deref(),
        Some("true")
    );
    assert_eq!(s.sms("111").await.as_deref(), Some("true/fr/true"));
    assert_eq!(s.log("c-111").await, (2, None));
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"insuree_FamilyMutation\" fm JOIN \"core_Mutation_Log\" m ON m.id = fm.mutation_id \
             WHERE m.id = '{}'",
            r.internal_id
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn create_without_contribution_uses_defaults() {
    let s = setup().await;
    // No contribution, a null language, a partial contribution.
    assert!(s.create("201", None).await.outcome.is_ok());
    assert!(
        s.create("202", notif(json!(true), Value::Null))
            .await
            .outcome
            .is_ok()
    );
    assert!(
        s.create(
            "203",
            Some(json!({"PolicyNotification": {"languageOfNotification": "fr"}}))
        )
        .await
        .outcome
        .is_ok()
    );
    assert!(
        s.create("204", Some(json!({"OtherModule": {"x": 1}})))
            .await
            .outcome
            .is_ok()
    );
    assert_eq!(s.sms("201").await.as_deref(), Some("false/en/true"));
    assert_eq!(s.sms("202").await.as_deref(), Some("true/en/true"));
    assert_eq!(s.sms("203").await.as_deref(), Some("false/fr/true"));
    assert_eq!(s.sms("204").await.as_deref(), Some("false/en/true"));
}

#[tokio::test]
async fn configured_defaults_win() {
    let mut s = setup().await;
    s.hooks = PreferenceHooks::new(true, Some("sw".into()));
    assert!(s.create("301", None).await.outcome.is_ok());
    assert_eq!(s.sms("301").await.as_deref(), Some("true/sw/true"));
}

#[tokio::test]
async fn invalid_notification_data_fails_and_writes_nothing() {
    let s = setup().await;
    let r = s.create("401", notif(json!("yes"), json!("en"))).await;
    assert!(r.outcome.is_err());
    let (status, error) = s.log("c-401").await;
    assert_eq!(status, 1);
    let error: Value = serde_json::from_str(&error.unwrap()).unwrap();
    assert_eq!(error[0]["message"], "Failed to create family");
    assert!(
        error[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("approvalOfNotification"),
        "{error}"
    );
    let r = s.create("402", notif(json!(true), json!("xx"))).await;
    assert!(r.outcome.is_err());
    let (status, error) = s.log("c-402").await;
    assert_eq!(status, 1);
    assert!(error.unwrap().contains("languageOfNotification"));
    s.nothing_but_logs().await;
    assert_eq!(
        s.db.count("SELECT count(*) FROM \"core_Mutation_Log\"")
            .await,
        2
    );
}

struct FailingHooks;

#[async_trait]
impl FamilyHooks for FailingHooks {
    async fn after_create(
        &self,
        _conn: &mut AsyncPgConnection,
        _f: &FamilyEvent,
    ) -> Result<(), HookError> {
        Err(HookError::invalid("somewhere", "the hook refused"))
    }
    async fn after_update(
        &self,
        _conn: &mut AsyncPgConnection,
        _f: &FamilyEvent,
    ) -> Result<(), HookError> {
        Err(HookError::invalid("somewhere", "the hook refused"))
    }
    async fn after_delete(
        &self,
        _conn: &mut AsyncPgConnection,
        _ids: &[i32],
    ) -> Result<(), HookError> {
        Err(HookError::invalid("somewhere", "the hook refused"))
    }
}

#[tokio::test]
async fn a_hook_error_rolls_everything_back() {
    let s = setup().await;
    let r = mutations::create_family(
        &s.pool,
        &s.catalog,
        &FailingHooks,
        &admin(),
        &meta("h1"),
        &family("501", None),
    )
    .await
    .unwrap();
    assert!(r.outcome.is_err());
    s.nothing_but_logs().await;
    let (status, error) = s.log("h1").await;
    assert_eq!(status, 1);
    assert!(error.unwrap().contains("the hook refused"));

    // An update and a delete refused by a hook leave the family as it was.
    assert!(s.create("502", None).await.outcome.is_ok());
    let uuid = s.family_uuid("502").await;
    let mut input = family("502", None);
    input.uuid = Some(uuid.clone());
    input.poverty = Some(true);
    let r = mutations::update_family(
        &s.pool,
        &s.catalog,
        &FailingHooks,
        &admin(),
        &meta("h2"),
        &input,
    )
    .await
    .unwrap();
    assert!(r.outcome.is_err());
    let del = DeleteFamiliesInput {
        uuids: vec![uuid],
        delete_members: true,
    };
    let r = mutations::delete_families(
        &s.pool,
        &s.catalog,
        &FailingHooks,
        &admin(),
        &meta("h3"),
        &del,
    )
    .await
    .unwrap();
    assert!(r.outcome.is_err());
    assert_eq!(s.db.count("SELECT count(*) FROM \"tblFamilies\"").await, 1);
    assert_eq!(s.db.count("SELECT count(*) FROM \"tblInsuree\"").await, 1);
    assert_eq!(
        s.db.scalar("SELECT \"Poverty\" FROM \"tblFamilies\"")
            .await
            .as_deref(),
        Some("false")
    );
}

#[tokio::test]
async fn missing_rights_and_duplicate_numbers_are_logged_errors() {
    let s = setup().await;
    let mut actor = admin();
    actor.rights = vec![101001];
    let r = mutations::create_family(
        &s.pool,
        &s.catalog,
        &s.hooks,
        &actor,
        &meta("p1"),
        &family("601", None),
    )
    .await
    .unwrap();
    assert!(r.outcome.is_err());
    let (status, error) = s.log("p1").await;
    assert_eq!(status, 1);
    assert_eq!(
        error.as_deref(),
        Some(
            r#"[{"message":"Failed to create family","detail":"User not authorized for this operation"}]"#
        )
    );
    s.nothing_but_logs().await;

    assert!(s.create("602", None).await.outcome.is_ok());
    let r = mutations::create_family(
        &s.pool,
        &s.catalog,
        &s.hooks,
        &admin(),
        &meta("p2"),
        &family("602", None),
    )
    .await
    .unwrap();
    assert!(r.outcome.is_err());
    assert_eq!(
        s.log("p2").await.1.as_deref(),
        Some(r#"[{"message":"Insuree number has to be unique, 602 exists in system"}]"#)
    );
    assert_eq!(s.db.count("SELECT count(*) FROM \"tblFamilies\"").await, 1);
}

#[tokio::test]
async fn update_versions_family_and_head_and_patches_preferences() {
    let s = setup().await;
    assert!(
        s.create("701", notif(json!(true), json!("fr")))
            .await
            .outcome
            .is_ok()
    );
    let uuid = s.family_uuid("701").await;
    let head_uuid =
        s.db.scalar("SELECT \"InsureeUUID\" FROM \"tblInsuree\"")
            .await
            .unwrap();
    let mut input = family(
        "701",
        Some(json!({"PolicyNotification": {"approvalOfNotification": false}})),
    );
    input.uuid = Some(uuid.clone());
    input.json_ext = None; // omitted: kept (DECISIONS 6)
    input.address = Some("New address".into());
    input.location_id = Some(7);
    let mut h = head("701");
    h.uuid = Some(head_uuid.clone());
    h.phone = Some("0799".into());
    input.head_insuree = Some(h);
    let r = mutations::update_family(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("u1"), &input)
        .await
        .unwrap();
    assert!(r.outcome.is_ok(), "{:?}", r.outcome);
    let db = &s.db;
    // The current family keeps its id and uuid; a history copy has a new uuid and LegacyID.
    assert_eq!(
        db.scalar(&format!(
            "SELECT \"FamilyAddress\" || '/' || \"LocationId\" || '/' || \"JsonExt\"::text FROM \"tblFamilies\" WHERE \"FamilyUUID\" = '{uuid}' AND \"ValidityTo\" IS NULL"
        ))
        .await
        .as_deref(),
        Some("New address/7/{\"k\": 1}")
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"tblFamilies\" h JOIN \"tblFamilies\" c ON c.\"FamilyID\" = h.\"LegacyID\" \
             WHERE c.\"FamilyUUID\" = '{uuid}' AND h.\"ValidityTo\" IS NOT NULL AND h.\"FamilyUUID\" <> c.\"FamilyUUID\" AND h.\"LocationId\" = 6"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"tblInsuree\" h JOIN \"tblInsuree\" c ON c.\"InsureeID\" = h.\"LegacyID\" \
             WHERE c.\"InsureeUUID\" = '{head_uuid}' AND h.\"Phone\" = '0712345678' AND c.\"Phone\" = '0799' AND h.\"ValidityTo\" IS NOT NULL"
        ))
        .await,
        1
    );
    // Only the approval changed.
    assert_eq!(s.sms("701").await.as_deref(), Some("false/fr/true"));
    assert_eq!(s.log("u1").await.0, 2);

    // A family without a preference row gets the defaults first, then the patch.
    db.exec("DELETE FROM \"tblFamilySMS\"").await;
    let mut input = family(
        "701",
        Some(json!({"PolicyNotification": {"approvalOfNotification": true}})),
    );
    input.uuid = Some(uuid.clone());
    input.head_insuree = None;
    let r = mutations::update_family(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("u2"), &input)
        .await
        .unwrap();
    assert!(r.outcome.is_ok());
    assert_eq!(s.sms("701").await.as_deref(), Some("true/en/true"));

    // An unknown family is an error, logged.
    let mut input = family("701", None);
    input.uuid = Some("9f0e0a4e-0000-0000-0000-000000000000".into());
    let r = mutations::update_family(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("u3"), &input)
        .await
        .unwrap();
    assert!(r.outcome.is_err());
    assert_eq!(s.log("u3").await.0, 1);
}

#[tokio::test]
async fn delete_soft_deletes_and_end_dates_preferences() {
    let s = setup().await;
    for chf in ["801", "802"] {
        assert!(s.create(chf, None).await.outcome.is_ok());
    }
    let u1 = s.family_uuid("801").await;
    let u2 = s.family_uuid("802").await;
    let del = DeleteFamiliesInput {
        uuids: vec![u1.clone()],
        delete_members: true,
    };
    let r = mutations::delete_families(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("d1"), &del)
        .await
        .unwrap();
    assert!(r.outcome.is_ok(), "{:?}", r.outcome);
    let db = &s.db;
    assert_eq!(
        db.scalar(&format!(
            "SELECT \"ValidityFrom\" = \"ValidityTo\" FROM \"tblFamilies\" WHERE \"FamilyUUID\" = '{u1}'"
        ))
        .await
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblFamilies\" WHERE \"LegacyID\" IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM \"tblInsuree\" WHERE \"CHFID\" = '801' AND \"ValidityTo\" IS NULL"
        )
        .await,
        0
    );
    assert_eq!(s.sms("801").await.as_deref(), Some("false/en/false"));

    let del = DeleteFamiliesInput {
        uuids: vec![u2.clone()],
        delete_members: false,
    };
    let r = mutations::delete_families(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("d2"), &del)
        .await
        .unwrap();
    if support::insuree_family_nullable(db).await {
        assert!(r.outcome.is_ok(), "{:?}", r.outcome);
        // Detached: still a current insuree, without a family, with a history row.
        assert_eq!(
            db.count("SELECT count(*) FROM \"tblInsuree\" WHERE \"CHFID\" = '802' AND \"ValidityTo\" IS NULL AND \"FamilyID\" IS NULL").await,
            1
        );
        assert_eq!(
            db.count("SELECT count(*) FROM \"tblInsuree\" WHERE \"CHFID\" = '802' AND \"LegacyID\" IS NOT NULL").await,
            1
        );
    } else {
        // openIMIS's dumps: an insuree cannot be without a family; refused, nothing changed.
        assert_eq!(s.log("d2").await.0, 1);
        assert!(
            s.log("d2")
                .await
                .1
                .unwrap()
                .contains("deleteMembers: false is not possible"),
            "{:?}",
            s.log("d2").await
        );
        assert_eq!(
            db.count(&format!("SELECT count(*) FROM \"tblFamilies\" WHERE \"FamilyUUID\" = '{u2}' AND \"ValidityTo\" IS NULL")).await,
            1
        );
        assert_eq!(
            db.count("SELECT count(*) FROM \"tblInsuree\" WHERE \"CHFID\" = '802' AND \"LegacyID\" IS NOT NULL").await,
            0
        );
    }

    // Unknown uuid: the openIMIS error shape, nothing changed.
    let del = DeleteFamiliesInput {
        uuids: vec!["0b3c5d6e-0000-0000-0000-000000000000".into()],
        delete_members: false,
    };
    let before = db.count("SELECT count(*) FROM \"tblFamilies\"").await;
    mutations::delete_families(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("d3"), &del)
        .await
        .unwrap();
    assert_eq!(
        s.log("d3").await.1.as_deref(),
        Some(r#"[{"message":"Failed to delete family 0b3c5d6e-0000-0000-0000-000000000000"}]"#)
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"tblFamilies\"").await,
        before
    );
}

/// Families with known (approval, phone) facts in villages V1 (district D1) and V2 (D2).
async fn mode_fixture(s: &Setup) {
    // chf, village, approval, head phone, member phone
    type Row = (
        &'static str,
        i32,
        Option<bool>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let rows: [Row; 6] = [
        ("A1", 6, Some(true), Some("071"), None),  // approved, phone
        ("A2", 6, Some(true), Some(" "), None),    // approved, no phone
        ("A3", 7, Some(false), None, Some("072")), // phone via member, not approved
        ("A4", 7, None, Some(""), None),           // no row, no phone
        ("A5", 7, Some(true), None, Some("073")),  // approved, phone via member
        ("A6", 6, Some(false), None, None),        // neither
    ];
    for (chf, village, approval, phone, member) in rows {
        let mut input = family(
            chf,
            approval.map(|a| json!({"PolicyNotification": {"approvalOfNotification": a}})),
        );
        input.location_id = Some(village);
        if let Some(h) = input.head_insuree.as_mut() {
            h.phone = phone.map(str::to_string);
        }
        assert!(s.create_with(input).await.outcome.is_ok());
        if approval.is_none() {
            s.db.exec(&format!(
                "DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" = (SELECT \"FamilyID\" FROM \"tblInsuree\" WHERE \"CHFID\" = '{chf}')"
            ))
            .await;
        }
        if let Some(p) = member {
            s.db.exec(&format!(
                "INSERT INTO \"tblInsuree\" (\"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \"OtherNames\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
                 SELECT gen_random_uuid()::text, \"FamilyID\", 'M{chf}', 'Member', 'M', '1990-05-06', false, '{p}', false, now(), 1 FROM \"tblInsuree\" WHERE \"CHFID\" = '{chf}'"
            ))
            .await;
        }
    }
}

impl Setup {
    async fn create_with(&self, input: FamilyInput) -> mutations::MutationReceipt {
        mutations::create_family(
            &self.pool,
            &self.catalog,
            &self.hooks,
            &admin(),
            &meta("fx"),
            &input,
        )
        .await
        .unwrap()
    }

    async fn chfs(&self, scope: &Scope, filter: &FamilyFilter) -> Vec<String> {
        let mut conn = policy_notification::db::pool::establish(&self.db.url)
            .await
            .unwrap();
        let page = query::families(&mut conn, scope, filter, Window::first(100))
            .await
            .unwrap();
        let heads: Vec<i32> = page.rows.iter().map(|f| f.insuree_id).collect();
        let insurees = query::insurees_by_ids(&mut conn, &heads).await.unwrap();
        page.rows
            .iter()
            .map(|f| {
                insurees
                    .iter()
                    .find(|i| i.insuree_id == f.insuree_id)
                    .and_then(|i| i.chf_id.clone())
                    .unwrap_or_default()
            })
            .collect()
    }
}

fn mode_filter(mode: i64) -> FamilyFilter {
    FamilyFilter {
        additional_filter: Some(
            json!({"policyNotification": {"mode": {"id": "mode", "value": mode}}}),
        ),
        order_by: vec!["headInsuree__chfId".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn notification_modes_select_the_expected_families() {
    let s = setup().await;
    mode_fixture(&s).await;
    let all = Scope::All;
    assert_eq!(
        s.chfs(&all, &mode_filter(0)).await,
        ["A1", "A2", "A3", "A4", "A5", "A6"]
    );
    assert_eq!(s.chfs(&all, &mode_filter(1)).await, ["A1", "A5"]);
    assert_eq!(s.chfs(&all, &mode_filter(2)).await, ["A2"]);
    assert_eq!(s.chfs(&all, &mode_filter(3)).await, ["A3"]);
    assert_eq!(s.chfs(&all, &mode_filter(4)).await, ["A4", "A6"]);
    let mut conn = policy_notification::db::pool::establish(&s.db.url)
        .await
        .unwrap();
    let err = query::families(&mut conn, &all, &mode_filter(7), Window::first(10))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("additionalFilter.policyNotification.mode"),
        "{err}"
    );
}

#[tokio::test]
async fn districts_locations_lookups_order_and_pages() {
    let s = setup().await;
    mode_fixture(&s).await;
    let d1 = Scope::Districts(vec![2]);
    let none = Scope::Districts(vec![]);
    let base = FamilyFilter {
        order_by: vec!["headInsuree__chfId".into()],
        ..Default::default()
    };
    assert_eq!(s.chfs(&d1, &base).await, ["A1", "A2", "A6"]);
    assert!(s.chfs(&none, &base).await.is_empty());

    let mut f = base.clone();
    f.parent_location = Some("00000000-0000-0000-0000-0000000000d2".into());
    f.parent_location_level = Some(1);
    assert_eq!(s.chfs(&Scope::All, &f).await, ["A3", "A4", "A5"]);
    f.parent_location = Some("00000000-0000-0000-0000-0000000000R1".into());
    f.parent_location_level = Some(0);
    assert_eq!(s.chfs(&Scope::All, &f).await.len(), 6);
    f.parent_location_level = None;
    let mut conn = policy_notification::db::pool::establish(&s.db.url)
        .await
        .unwrap();
    assert!(
        query::families(&mut conn, &Scope::All, &f, Window::first(10))
            .await
            .is_err()
    );

    let mut f = base.clone();
    f.lookups = vec![("headInsuree_ChfId_Istartswith".into(), ArgValue::from("a1"))];
    assert_eq!(s.chfs(&Scope::All, &f).await, ["A1"]);
    f.lookups = vec![("members_Phone_Icontains".into(), ArgValue::from("07"))];
    assert_eq!(s.chfs(&Scope::All, &f).await, ["A1", "A3", "A5"]);
    f.lookups = vec![(
        "headInsuree_Dob_Gte".into(),
        ArgValue::from(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()),
    )];
    assert!(s.chfs(&Scope::All, &f).await.is_empty());
    f.lookups = vec![("headInsuree_LastName_Icontains".into(), ArgValue::from("%"))];
    assert!(
        s.chfs(&Scope::All, &f).await.is_empty(),
        "LIKE wildcards are escaped"
    );
    f.lookups = vec![("nonsense_Field".into(), ArgValue::from("x"))];
    assert!(
        query::families(&mut conn, &Scope::All, &f, Window::first(10))
            .await
            .is_err()
    );

    let mut f = base.clone();
    f.order_by = vec!["-headInsuree__chfId".into()];
    assert_eq!(s.chfs(&Scope::All, &f).await[0], "A6");
    f.order_by = vec!["sneaky; DROP TABLE x".into()];
    assert!(
        query::families(&mut conn, &Scope::All, &f, Window::first(10))
            .await
            .is_err()
    );

    // Pages: offset + limit, total only when asked.
    let page = query::families(
        &mut conn,
        &Scope::All,
        &base,
        Window {
            offset: 4,
            limit: 2,
            with_total: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(page.rows.len(), 2);
    assert_eq!(page.total, Some(6));
    let page = query::families(&mut conn, &Scope::All, &base, Window::first(5))
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 5);
    assert_eq!(page.total, None);

    // History rows only with showHistory.
    let uuid = s.family_uuid("A1").await;
    let mut input = family("A1", None);
    input.uuid = Some(uuid);
    input.head_insuree = None;
    mutations::update_family(&s.pool, &s.catalog, &s.hooks, &admin(), &meta("x"), &input)
        .await
        .unwrap();
    let mut f = base.clone();
    f.show_history = true;
    assert_eq!(s.chfs(&Scope::All, &f).await.len(), 7);
}

#[tokio::test]
async fn family_notifications_and_mutation_logs() {
    let s = setup().await;
    mode_fixture(&s).await;
    let mut conn = policy_notification::db::pool::establish(&s.db.url)
        .await
        .unwrap();
    let all = query::family_notifications(
        &mut conn,
        &Scope::All,
        &NotificationFilter::default(),
        Window::first(100),
    )
    .await
    .unwrap();
    assert_eq!(all.rows.len(), 5);
    let approved = NotificationFilter {
        approval: Some(true),
        ..Default::default()
    };
    let page = query::family_notifications(
        &mut conn,
        &Scope::Districts(vec![3]),
        &approved,
        Window::first(100),
    )
    .await
    .unwrap();
    assert_eq!(page.rows.len(), 1);
    let uuid = s.family_uuid("A1").await;
    let one = NotificationFilter {
        family_uuid: Some(uuid.to_uppercase()),
        ..Default::default()
    };
    let page = query::family_notifications(&mut conn, &Scope::All, &one, Window::first(100))
        .await
        .unwrap();
    assert!(page.rows[0].approval_of_sms);

    let filter = MutationLogFilter {
        client_mutation_id: Some("c-111".into()),
        ..Default::default()
    };
    let r = s.create("111", None).await;
    let logs = mutation_log::list(&mut conn, LogViewer::Everyone, &filter, Window::first(10))
        .await
        .unwrap();
    assert_eq!(logs.rows.len(), 1);
    assert_eq!(logs.rows[0].id, r.internal_id);
    let links = mutation_log::linked_families(&mut conn, &[r.internal_id])
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    let nobody = mutation_log::list(&mut conn, LogViewer::Nobody, &filter, Window::first(10))
        .await
        .unwrap();
    assert!(nobody.rows.is_empty());
}
