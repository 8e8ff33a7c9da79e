//! The families page from the state the database maintains (DECISIONS 38) against the exact
//! query, through GraphQL: for modes 0–4, without a location, per district and per region, for an
//! administrator and a district user, `totalCount` and the pages stay identical to the exact query
//! (the filter's own predicates over tblFamilies) after writes done in plain SQL as openIMIS (or any other writer) does them — a family with its
//! head and consent row inserted, families end-dated, consent rows changed, phones changed, a
//! village and a ward moved, families deleted, many writers at once — and the migration's
//! backfill gives the same state. `pn_family_state_reconcile()` (0: nothing differed) compares the
//! maintained state with the source tables after every round.
mod support;

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use policy_notification::db::sql::Fragment;
use policy_notification::families::Scope;
use policy_notification::families::filter::FamilyFilter;
use serde_json::{Value, json};
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

const D1: &str = "00000000-0000-0000-0000-0000000000d1";
const D2: &str = "00000000-0000-0000-0000-0000000000d2";
const R1: &str = "00000000-0000-0000-0000-0000000000r1";

/// The frontend's page with mode `mode`, an optional `parentLocation` (uuid, level), a window.
fn doc(mode: i64, location: Option<(&str, i32)>, first: i32, offset: i32) -> String {
    let mut args = format!(
        "showHistory: false, additionalFilter: \"{{\\\"policyNotification\\\":{{\\\"mode\\\":{{\\\"id\\\":\\\"mode\\\",\\\"value\\\":{mode}}}}}}}\", \
         first: {first}, offset: {offset}, orderBy: [\"-validityFrom\"]"
    );
    if let Some((uuid, level)) = location {
        args.push_str(&format!(
            ", parentLocation: \"{uuid}\", parentLocationLevel: {level}"
        ));
    }
    format!("{{ families({args}) {{ totalCount edges {{ node {{ id uuid }} }} }} }}")
}

fn answer(body: &Value) -> (i64, Vec<String>) {
    assert!(body.get("errors").is_none(), "{body}");
    let families = &body["data"]["families"];
    let ids = families["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["uuid"].as_str().unwrap_or_default().to_string())
        .collect();
    (families["totalCount"].as_i64().unwrap_or(-1), ids)
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct UuidRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    u: String,
}

/// The exact query's answer: the family filter's own predicates (the EXISTS of the rules, the
/// location chain) and the scope's, over tblFamilies, as the service ran them before the state.
async fn exact(
    conn: &mut diesel_async::AsyncPgConnection,
    mode: i64,
    location: Option<(&str, i32)>,
    scope: &Scope,
    first: i32,
    offset: i32,
) -> (i64, Vec<String>) {
    let filter = FamilyFilter {
        additional_filter: Some(
            json!({"policyNotification": {"mode": {"id": "mode", "value": mode}}}),
        ),
        parent_location: location.map(|(u, _)| u.to_string()),
        parent_location_level: location.map(|(_, l)| l),
        ..FamilyFilter::default()
    };
    let mut preds = filter.predicates().expect("a valid filter");
    preds.extend(scope.families("f"));
    let w = Fragment::where_clause(preds);
    let n: CountRow = Fragment::sql("SELECT count(*) AS n FROM \"tblFamilies\" f")
        .with(w.clone())
        .query()
        .get_result(conn)
        .await
        .expect("the exact count");
    let ids: Vec<UuidRow> =
        Fragment::sql("SELECT f.\"FamilyUUID\"::text AS u FROM \"tblFamilies\" f")
            .with(w)
            .with_sql(" ORDER BY f.\"ValidityFrom\" DESC NULLS LAST, f.\"FamilyID\" DESC")
            .limit_offset(i64::from(first), i64::from(offset))
            .query()
            .load(conn)
            .await
            .expect("the exact page");
    (n.n, ids.into_iter().map(|r| r.u).collect())
}

/// Every mode, location and window: the service's answer (from the state) equals the exact
/// query's. Returns the totals seen (so that a caller can check the data is not trivially empty).
async fn same_as_exact(
    db: &TestDb,
    app: &TestApp,
    users: &[(&str, Scope)],
    round: &str,
) -> Vec<i64> {
    let mut totals = Vec::new();
    let mut conn = db.conn().await;
    for (token, scope) in users {
        for mode in 0..=4 {
            for location in [None, Some((D1, 1)), Some((D2, 1)), Some((R1, 0))] {
                // the first page, or a later one, in turn
                let windows: &[(i32, i32)] = if mode % 2 == 0 { &[(5, 0)] } else { &[(4, 3)] };
                for &(first, offset) in windows {
                    let (_, body) = app.gql_as(token, &doc(mode, location, first, offset)).await;
                    let served = answer(&body);
                    let expected = exact(&mut conn, mode, location, scope, first, offset).await;
                    assert_eq!(
                        served, expected,
                        "{round}: mode {mode}, {location:?}, {scope:?}, first {first} offset {offset}: served vs exact"
                    );
                    totals.push(served.0);
                }
            }
        }
    }
    totals
}

async fn reconciled(db: &TestDb, round: &str) {
    assert_eq!(
        db.count("SELECT pn_family_state_reconcile()").await,
        0,
        "{round}: the maintained state differs from the source tables"
    );
}

/// Family `n` with its head (insuree `n`) in village `village` (NULL: none); head phone by
/// `phone`; consent row by `consent` (None: no row).
fn family_sql(n: i32, village: Option<i32>, phone: &str, consent: Option<bool>) -> String {
    let village = village.map_or("NULL".to_string(), |v| v.to_string());
    let mut sql = format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeID\", \"FamilyID\", \"InsureeUUID\", \"CHFID\", \"LastName\", \"OtherNames\", \"Gender\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         VALUES ({n}, {n}, gen_random_uuid()::text, 'S{n}', 'Last{n}', 'Other', 'M', DATE '1980-01-01', true, {phone}, false, now() - interval '{m} minutes', 1);
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"LocationId\", \"Poverty\", \"FamilyType\", \"ConfirmationType\", \"ValidityFrom\", \"AuditUserID\") \
         VALUES ({n}, gen_random_uuid()::text, {n}, {village}, false, 'H', 'A', now() - interval '{m} minutes', 1);",
        m = n % 97
    );
    if let Some(a) = consent {
        sql.push_str(&format!(
            "INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") VALUES ({n}, {a}, 'en', now());"
        ));
    }
    sql
}

fn phone_of(n: i32) -> &'static str {
    match n % 4 {
        0 => "'0712345678'",
        1 => "'   '",
        2 => "NULL",
        _ => "''",
    }
}

async fn setup() -> (TestDb, TestApp, String, String) {
    let db = TestDb::new().await;
    db.exec(include_str!("fixtures/families_base.sql")).await;
    fixtures::user(&db, "admin", "pw", &[101001, 101002], &[], true).await;
    fixtures::user(&db, "clerk", "pw", &[101001], &[2], false).await;
    let mut sql = String::new();
    for n in 900_001..=900_060 {
        let village = match n % 5 {
            0 => None,
            1 | 2 => Some(6),
            _ => Some(7),
        };
        let consent = match n % 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        };
        sql.push_str(&family_sql(n, village, phone_of(n), consent));
    }
    // a second member with a phone in some families whose head has none
    sql.push_str(
        "INSERT INTO \"tblInsuree\" (\"InsureeID\", \"FamilyID\", \"InsureeUUID\", \"CHFID\", \"LastName\", \"OtherNames\", \"Gender\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT n + 100000, n, gen_random_uuid()::text, 'M' || n, 'Member', 'Other', 'F', DATE '1990-01-01', false, ' 0788 ', false, now(), 1 \
         FROM generate_series(900001, 900060) n WHERE n % 8 = 1;",
    );
    db.exec(&sql).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.login("admin", "pw").await;
    let clerk = app.login("clerk", "pw").await;
    (db, app, admin, clerk)
}

#[tokio::test]
async fn the_state_answers_like_the_exact_query_after_plain_sql_writes() {
    let (db, app, admin, clerk) = setup().await;
    let users = [
        (admin.as_str(), Scope::All),
        (clerk.as_str(), Scope::Districts(vec![2])),
    ];
    let totals = same_as_exact(&db, &app, &users, "inserted").await;
    assert!(
        totals.iter().filter(|t| **t > 0).count() > totals.len() / 2,
        "the data selects families in most cases: {totals:?}"
    );
    reconciled(&db, "inserted").await;

    // openIMIS-style changes: a new family with head, member and consent; a family and its
    // members end-dated; a history copy of a family and its new ValidityFrom; consent changed,
    // end-dated, deleted and added; phones blanked and set; a member moved to another family; a
    // family moved to another village
    let mut sql = family_sql(900_100, Some(6), "'0700000000'", Some(true));
    sql.push_str(
        "UPDATE \"tblFamilies\" SET \"ValidityTo\" = now() WHERE \"FamilyID\" = 900003;
         UPDATE \"tblInsuree\" SET \"ValidityTo\" = now() WHERE \"FamilyID\" = 900003;
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"LocationId\", \"Poverty\", \"FamilyType\", \"ConfirmationType\", \"ValidityFrom\", \"ValidityTo\", \"LegacyID\", \"AuditUserID\") \
           SELECT 900200, gen_random_uuid()::text, \"InsureeID\", \"LocationId\", \"Poverty\", \"FamilyType\", \"ConfirmationType\", \"ValidityFrom\", now(), \"FamilyID\", 1 \
           FROM \"tblFamilies\" WHERE \"FamilyID\" = 900004;
         UPDATE \"tblFamilies\" SET \"ValidityFrom\" = now() + interval '1 hour' WHERE \"FamilyID\" = 900004;
         UPDATE \"tblFamilySMS\" SET \"ApprovalOfSMS\" = NOT \"ApprovalOfSMS\" WHERE \"FamilyID\" IN (900001, 900002, 900005);
         UPDATE \"tblFamilySMS\" SET \"ValidityTo\" = now() WHERE \"FamilyID\" = 900007;
         DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" = 900010;
         INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") VALUES (900006, true, 'fr', now());
         UPDATE \"tblInsuree\" SET \"Phone\" = '  ' WHERE \"InsureeID\" IN (900004, 900008);
         UPDATE \"tblInsuree\" SET \"Phone\" = '0799' WHERE \"InsureeID\" IN (900002, 900011);
         UPDATE \"tblInsuree\" SET \"FamilyID\" = 900012 WHERE \"InsureeID\" = 1000009;
         UPDATE \"tblFamilies\" SET \"LocationId\" = 7 WHERE \"FamilyID\" IN (900001, 900011);
         UPDATE \"tblFamilies\" SET \"LocationId\" = NULL WHERE \"FamilyID\" = 900013;",
    );
    db.exec(&sql).await;
    // and one family created through the service itself
    let (_, body) = app
        .gql_as(
            &admin,
            &support::frontend_doc(
                "v1_5_create_family",
                &[
                    ("CLIENT_ID", "state-1"),
                    ("CHF", "77001"),
                    ("VILLAGE_ID", "6"),
                ],
            ),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    same_as_exact(&db, &app, &users, "changed").await;
    reconciled(&db, "changed").await;

    // a village moved to a ward of the other district, then that ward to the first district
    db.exec("UPDATE \"tblLocations\" SET \"ParentLocationId\" = 5 WHERE \"LocationId\" = 6")
        .await;
    same_as_exact(&db, &app, &users, "village moved").await;
    reconciled(&db, "village moved").await;
    db.exec("UPDATE \"tblLocations\" SET \"ParentLocationId\" = 2 WHERE \"LocationId\" = 5")
        .await;
    same_as_exact(&db, &app, &users, "ward moved").await;
    reconciled(&db, "ward moved").await;

    // families deleted outright, members and consent rows first
    db.exec(
        "DELETE FROM \"tblFamilySMS\" WHERE \"FamilyID\" IN (900014, 900015, 900016);
         DELETE FROM \"tblInsuree\" WHERE \"FamilyID\" IN (900014, 900015, 900016);
         DELETE FROM \"tblFamilies\" WHERE \"FamilyID\" IN (900014, 900015, 900016);",
    )
    .await;
    same_as_exact(&db, &app, &users, "deleted").await;
    reconciled(&db, "deleted").await;

    // the counter deltas folded: the same answers
    db.exec("SELECT pn_family_count_compact()").await;
    same_as_exact(&db, &app, &users, "compacted").await;

    // the migration again from scratch (its backfill over everything written so far)
    db.exec(include_str!(
        "../migrations/2026-12-02-100001_family_state/down.sql"
    ))
    .await;
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'pn_family_state'")
            .await,
        0
    );
    db.exec(include_str!(
        "../migrations/2026-12-02-100001_family_state/up.sql"
    ))
    .await;
    same_as_exact(&db, &app, &users, "backfilled").await;
    reconciled(&db, "backfilled").await;
}

#[tokio::test]
async fn concurrent_writers_leave_the_state_exact() {
    let (db, app, admin, clerk) = setup().await;
    let mut tasks = Vec::new();
    for w in 0..8i32 {
        let url = db.url.clone();
        tasks.push(tokio::spawn(async move {
            use diesel_async::AsyncConnection;
            let mut conn = diesel_async::AsyncPgConnection::establish(&url)
                .await
                .expect("connect");
            for i in 0..15i32 {
                let n = 910_000 + w * 100 + i;
                let shared = 900_001 + (i % 10);
                let village = if (w + i) % 2 == 0 { 6 } else { 7 };
                // each batch is one transaction (several statements in one simple query)
                let sql = format!(
                    "{}
                     UPDATE \"tblFamilySMS\" SET \"ApprovalOfSMS\" = NOT \"ApprovalOfSMS\" WHERE \"FamilyID\" = {shared};
                     UPDATE \"tblInsuree\" SET \"Phone\" = CASE WHEN btrim(COALESCE(\"Phone\", '')) = '' THEN '07{w}{i}' ELSE NULL END WHERE \"InsureeID\" = {shared};
                     UPDATE \"tblFamilies\" SET \"LocationId\" = {village} WHERE \"FamilyID\" = {shared};",
                    family_sql(n, Some(village), phone_of(n), Some(i % 2 == 0)),
                );
                conn.batch_execute(&sql).await.expect("a writer's batch");
                if i % 5 == 4 {
                    conn.batch_execute(&format!(
                        "UPDATE \"tblFamilies\" SET \"ValidityTo\" = now() WHERE \"FamilyID\" = {}",
                        n - 2
                    ))
                    .await
                    .expect("end-date");
                }
            }
        }));
    }
    // readers meanwhile (their answers are not compared: the data moves under them)
    for _ in 0..10 {
        let (_, body) = app.gql_as(&admin, &doc(1, None, 5, 0)).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    for t in tasks {
        t.await.expect("a writer");
    }
    reconciled(&db, "concurrent").await;
    let users = [
        (admin.as_str(), Scope::All),
        (clerk.as_str(), Scope::Districts(vec![2])),
    ];
    same_as_exact(&db, &app, &users, "concurrent").await;
}

#[tokio::test]
async fn truncated_tables_rebuild_the_state() {
    let (db, app, admin, clerk) = setup().await;
    db.exec("TRUNCATE \"tblFamilySMS\"").await;
    let users = [
        (admin.as_str(), Scope::All),
        (clerk.as_str(), Scope::Districts(vec![2])),
    ];
    same_as_exact(&db, &app, &users, "consent truncated").await;
    reconciled(&db, "consent truncated").await;
}
