//! The report's `familyFilterJson` is the families query's own filter: its fragments select the
//! same families as the `families` query, with every value bound — quotes, backslashes and LIKE
//! wildcards mean themselves even when the database runs with `standard_conforming_strings = off`.
mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::TestDb;
use support::app::{TestApp, encode};
use support::fixtures;

const FIXTURE: &str = include_str!("fixtures/report.sql");
const PATH: &str = "/api/policy_notification/communication_by_notification_report/";
const R1: &str = "a1000000-0000-0000-0000-000000000001";
const REPORT_RIGHT: i32 = 131224;
const FAMILIES_RIGHT: i32 = 101001;

fn filter_json(fragments: &[&str]) -> String {
    let map: serde_json::Map<String, Value> = fragments
        .iter()
        .enumerate()
        .map(|(i, f)| (i.to_string(), Value::from(*f)))
        .collect();
    Value::Object(map).to_string()
}

/// The insurance numbers of the report for these fragments (JSON format), sorted.
async fn report_chfids(app: &TestApp, token: &str, fragments: &[&str]) -> Vec<String> {
    let url = format!(
        "{}?format=json&familyFilterJson={}",
        app.url(PATH),
        encode(&filter_json(fragments))
    );
    let resp = app.client.get(url).bearer_auth(token).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{fragments:?}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let mut out: Vec<String> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["insuranceNumber"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// The head insurance numbers of the `families` query for these arguments, sorted.
async fn families_chfids(app: &TestApp, token: &str, arguments: &[&str]) -> Vec<String> {
    let query = format!(
        "{{ families({}) {{ edges {{ node {{ headInsuree {{ chfId }} }} }} }} }}",
        arguments.join(", ")
    );
    let (status, body) = app.gql_as(token, &query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{arguments:?}: {body}");
    let mut out: Vec<String> = body["data"]["families"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["node"]["headInsuree"]["chfId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

async fn setup(standard_conforming_strings: bool) -> (TestDb, TestApp, String) {
    let db = TestDb::new().await;
    db.exec(FIXTURE).await;
    // Heads whose names hold a quote, a backslash, a double quote and LIKE wildcards; near
    // misses beside them.
    db.exec(
        "UPDATE \"tblInsuree\" SET \"LastName\" = CASE \"CHFID\" \
           WHEN '100001' THEN E'O''Brien \\\\ \"x\"' \
           WHEN '100003' THEN 'O''Brien' \
           WHEN '100004' THEN '50%_off' \
           WHEN '100005' THEN '50xyoff' END \
         WHERE \"CHFID\" IN ('100001', '100003', '100004', '100005')",
    )
    .await;
    assert_eq!(
        db.scalar("SELECT \"LastName\" FROM \"tblInsuree\" WHERE \"CHFID\" = '100001'")
            .await
            .as_deref(),
        Some("O'Brien \\ \"x\"")
    );
    if !standard_conforming_strings {
        // Every new session of this database, the service's pooled ones included.
        db.exec(&format!(
            "ALTER DATABASE \"{}\" SET standard_conforming_strings = off",
            db.name
        ))
        .await;
        assert_eq!(
            db.scalar("SELECT current_setting('standard_conforming_strings')")
                .await
                .as_deref(),
            Some("off")
        );
    }
    fixtures::user(
        &db,
        "filteradmin",
        "pw",
        &[REPORT_RIGHT, FAMILIES_RIGHT],
        &[],
        true,
    )
    .await;
    let app = TestApp::spawn(&db).await;
    let token = app.login("filteradmin", "pw").await;
    (db, app, token)
}

#[tokio::test]
async fn quotes_backslashes_and_wildcards_are_values_with_standard_conforming_strings_off() {
    let (_db, app, token) = setup(false).await;
    let region = format!("parentLocation: \"{R1}\", parentLocationLevel: 0");
    // GraphQL string syntax inside the fragment: \\ is a backslash, \" a double quote.
    let cases: [(&str, &[&str]); 7] = [
        (
            r#"headInsuree_LastName_Icontains: "O'Brien \\ \"x\"""#,
            &["100001"],
        ),
        (r#"headInsuree_LastName: "O'Brien \\ \"x\"""#, &["100001"]),
        (r#"headInsuree_LastName_Iexact: "o'brien""#, &["100003"]),
        (
            r#"headInsuree_LastName_Istartswith: "O'Brien""#,
            &["100001", "100003"],
        ),
        (r#"headInsuree_LastName_Icontains: "\\""#, &["100001"]),
        (r#"headInsuree_LastName_Icontains: "0%_o""#, &["100004"]),
        (r#"headInsuree_LastName_Icontains: "_""#, &["100004"]),
    ];
    for (fragment, expected) in cases {
        assert_eq!(
            report_chfids(&app, &token, &[&region, fragment]).await,
            expected,
            "{fragment}"
        );
        assert_eq!(
            families_chfids(&app, &token, &[&region, fragment]).await,
            expected,
            "{fragment}"
        );
    }
}

#[tokio::test]
async fn families_query_fragments_select_the_same_families_in_the_report() {
    let (_db, app, token) = setup(true).await;
    let region = format!("parentLocation: \"{R1}\", parentLocationLevel: 0");
    let fragments = [
        r#"headInsuree_LastName_Icontains: "a""#,
        r#"headInsuree_ChfId_Istartswith: "10000""#,
        r#"headInsuree_Dob_Gte: "1982-01-01""#,
        r#"headInsuree_Phone_Isnull: true"#,
        r#"members_Phone_Istartswith: "0722""#,
        r#"members_OtherNames_Icontains: "o", members_Head: false"#,
        r#"location_Code: "TV1""#,
        r#"location_Parent_Uuid: "c1000000-0000-0000-0000-000000000021""#,
        r#"poverty_Isnull: true"#,
        r#"nullAsFalsePoverty: false"#,
        r#"headInsuree_ValidityFrom_Lte: "2999-01-01T00:00:00""#,
        r#"uuid: "22000000-0000-0000-0000-000000000502""#,
        r#"additionalFilter: "{\"policyNotification\":{\"mode\":{\"id\":\"mode\",\"value\":1}}}""#,
    ];
    let mut non_empty = 0;
    for fragment in fragments {
        let families = families_chfids(&app, &token, &[&region, fragment]).await;
        let report = report_chfids(&app, &token, &[&region, fragment]).await;
        assert_eq!(report, families, "{fragment}");
        non_empty += usize::from(!families.is_empty() && families.len() < 6);
    }
    // The fragments do select: most of them narrow the region's six families.
    assert!(non_empty >= 8, "{non_empty}");
    // An argument the families query does not know is refused, named.
    let url = format!(
        "{}?format=json&familyFilterJson={}",
        app.url(PATH),
        encode(&filter_json(&[&region, "headInsuree_Shoe_Size: 3"]))
    );
    let resp = app
        .client
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("familyFilterJson") && message.contains("headInsuree_Shoe_Size"),
        "{message}"
    );
}
