//! What a request costs in SQL statements: every statement any connection of this test process
//! runs is counted (diesel's default instrumentation). A page of families costs a bounded number
//! of statements whatever its size (the page for 100 families no more than for 5); a repeated
//! request with the same token runs no user lookup and no connection check (the identity is
//! reused for a short window, src/http/identity_cache.rs; the pool hands out connections without
//! `SELECT 1`, src/db/pool.rs); `createFamily` runs one statement. One test
//! per process, so nothing else runs statements meanwhile.
mod support;

use std::sync::Mutex;

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

/// The SQL of every statement started since the last [`take`].
static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn counting() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            STATEMENTS
                .lock()
                .unwrap()
                .push(sql.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }))
}

fn take() -> Vec<String> {
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
}

const PAGE: &str = r#"{ families(first: 100, orderBy: ["-validityFrom"], additionalFilter: "{\"policyNotification\":{\"mode\":{\"id\":\"mode\",\"value\":0}}}") {
  totalCount edgeCount pageInfo { hasNextPage endCursor }
  edges { node { id uuid poverty confirmationNo validityFrom validityTo clientMutationId
    confirmationType { code } familyType { code } familyNotification { approvalOfNotification languageOfNotification }
    headInsuree { id uuid chfId lastName otherNames email phone dob gender { code } }
    location { id uuid code name type parent { id uuid code name type parent { id uuid code name type parent { id uuid code name type } } } } } } } }"#;

async fn add_families(db: &TestDb, from: i32, to: i32) {
    db.exec(&format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeID\", \"FamilyID\", \"InsureeUUID\", \"CHFID\", \"LastName\", \"OtherNames\", \"Gender\", \"DOB\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT n, n, gen_random_uuid()::text, 'C' || n, 'Last' || n, 'Other', 'M', DATE '1980-01-01', true, '07' || n, false, now(), 1 FROM generate_series({from}, {to}) n;
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"LocationId\", \"Poverty\", \"FamilyType\", \"ConfirmationType\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT n, gen_random_uuid()::text, n, CASE WHEN n % 2 = 0 THEN 6 ELSE 7 END, false, 'H', 'A', now(), 1 FROM generate_series({from}, {to}) n;
         INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") \
         SELECT n, n % 3 = 0, 'en', now() FROM generate_series({from}, {to}) n;"
    ))
    .await;
}

fn show(what: &str, statements: &[String]) {
    println!("{what}: {} statements", statements.len());
    for s in statements {
        println!("  {}", s.chars().take(160).collect::<String>());
    }
}

fn assert_no_overhead(what: &str, statements: &[String]) {
    assert!(
        !statements.iter().any(|s| s == "SELECT $1"
            || s.eq_ignore_ascii_case("select 1")
            || s.contains("\"tblUsers\"")),
        "{what} ran a connection check or a user lookup: {statements:#?}"
    );
}

/// The statements of the page, asked a second time with the same token (the first request warms
/// the pool, the prepared statements and the identity).
async fn page_cost(app: &TestApp, token: &str, expected_edges: usize) -> Vec<String> {
    let (_, body) = app.gql_as(token, PAGE).await;
    assert_eq!(
        body["data"]["families"]["edges"].as_array().map(Vec::len),
        Some(expected_edges),
        "{body}"
    );
    take();
    let (_, body) = app.gql_as(token, PAGE).await;
    let statements = take();
    assert_eq!(
        body["data"]["families"]["edges"][0]["node"]["location"]["parent"]["parent"]["parent"]["code"],
        "R1",
        "{body}"
    );
    statements
}

async fn create_family(app: &TestApp, token: &str, n: u32) {
    let doc = support::frontend_doc(
        "v1_5_create_family",
        &[
            ("CLIENT_ID", &format!("st-{n}")),
            ("CHF", &format!("5550{n}")),
            ("VILLAGE_ID", "6"),
        ],
    );
    let (_, body) = app.gql_as(token, &doc).await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// Whether the mutation `st-<n>` succeeded (status 2 in the mutation log).
async fn created(db: &TestDb, n: u32) -> bool {
    db.count(&format!(
        "SELECT count(*) FROM \"core_Mutation_Log\" WHERE client_mutation_id = 'st-{n}' AND status = 2"
    ))
    .await
        == 1
}

#[tokio::test]
async fn requests_cost_a_small_fixed_number_of_statements() {
    set_default_instrumentation(counting).unwrap();
    let db = TestDb::new().await.without_demo_families().await;
    db.exec(include_str!("fixtures/families_base.sql")).await;
    fixtures::user(&db, "admin", "pw", &[101001, 101002], &[], true).await;
    let app = TestApp::spawn(&db).await;
    // a window longer than the test, so that a slow machine cannot make a request reload the
    // identity (the window itself: tests/identity_cache.rs)
    app.state
        .identities
        .set_ttl(std::time::Duration::from_secs(600));
    let token = app.login("admin", "pw").await;

    add_families(&db, 1, 5).await;
    let small = page_cost(&app, &token, 5).await;
    add_families(&db, 6, 150).await;
    let large = page_cost(&app, &token, 100).await;
    show("a page of 5", &small);
    show("a page of 100", &large);
    assert!(
        large.len() <= small.len(),
        "a page of 100 cost {} statements, of 5 {}",
        large.len(),
        small.len()
    );
    assert_no_overhead("the families page", &large);
    // the exact total and the page's ids in one statement (the maintained family state,
    // DECISIONS 38), then one DataLoader batch per kind the document asks for: families, heads,
    // the location chain, family types, confirmation types, genders, notification preferences,
    // mutation ids
    assert!(large.len() <= 9, "a page costs {} statements", large.len());
    assert!(
        large.iter().any(|s| s.contains("\"pn_family_count\"")),
        "the total comes from the maintained counts: {large:#?}"
    );

    db.exec(
        "SELECT setval(pg_get_serial_sequence('\"tblInsuree\"', 'InsureeID'), 1000); \
         SELECT setval(pg_get_serial_sequence('\"tblFamilies\"', 'FamilyID'), 1000)",
    )
    .await;
    create_family(&app, &token, 1).await;
    take();
    create_family(&app, &token, 2).await;
    let statements = take();
    assert!(created(&db, 1).await && created(&db, 2).await);
    let created = statements;
    show("createFamily", &created);
    // One statement, its own implicit transaction (DECISIONS 50): the checks (references, the
    // uuid, the hooks' language checks, the insurance number under its lock), then the id, the
    // head, the family, the consent row, the log row and its link. No BEGIN, no COMMIT.
    assert_no_overhead("createFamily", &created);
    assert_eq!(
        created.len(),
        1,
        "createFamily costs {} statements: {created:#?}",
        created.len()
    );
    assert!(
        created[0].contains("pn_chfid_free") && created[0].contains("\"tblFamilySMS\""),
        "{created:#?}"
    );
}
