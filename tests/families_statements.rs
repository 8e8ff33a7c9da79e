//! A page of families costs a bounded number of SQL statements, whatever its size: every
//! statement any connection of this test process runs is counted (diesel's default
//! instrumentation), and the search page's document for 100 families must cost no more than
//! for 5. One test per process, so nothing else runs statements meanwhile.
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

fn counting() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }))
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

async fn cost(app: &TestApp, token: &str, expected_edges: usize) -> usize {
    // Warm the pool first, so that opening connections is not counted.
    let (_, body) = app.gql_as(token, PAGE).await;
    assert_eq!(
        body["data"]["families"]["edges"].as_array().map(Vec::len),
        Some(expected_edges),
        "{body}"
    );
    STATEMENTS.store(0, Ordering::SeqCst);
    let (_, body) = app.gql_as(token, PAGE).await;
    let n = STATEMENTS.load(Ordering::SeqCst);
    assert_eq!(
        body["data"]["families"]["edges"][0]["node"]["location"]["parent"]["parent"]["parent"]["code"],
        "R1",
        "{body}"
    );
    n
}

#[tokio::test]
async fn a_page_of_100_costs_as_many_statements_as_a_page_of_5() {
    set_default_instrumentation(counting).unwrap();
    let db = TestDb::new().await.without_demo_families().await;
    db.exec(include_str!("fixtures/families_base.sql")).await;
    fixtures::user(&db, "admin", "pw", &[101001], &[], true).await;
    let app = TestApp::spawn(&db).await;
    let token = app.login("admin", "pw").await;
    add_families(&db, 1, 5).await;
    let small = cost(&app, &token, 5).await;
    add_families(&db, 6, 150).await;
    let large = cost(&app, &token, 100).await;
    println!("statements for a page of 5: {small}, of 100: {large}");
    assert!(
        large <= small,
        "a page of 100 cost {large} statements, of 5 {small}"
    );
    assert!(large <= 20, "a page costs {large} statements");
}
