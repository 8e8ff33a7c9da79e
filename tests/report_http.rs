//! The communication-by-notification report through HTTP (and GraphQL) against real PostgreSQL:
//! modes, officer, alternative contact, familyFilterJson, bad input, authentication and the
//! right, district restrictions, the PDF and CSV parsed back.
mod support;

use support::app::encode;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

const FIXTURE: &str = include_str!("fixtures/report.sql");
const PATH: &str = "/api/policy_notification/communication_by_notification_report/";
const R1: &str = "a1000000-0000-0000-0000-000000000001";
const D1: &str = "b1000000-0000-0000-0000-000000000011";
const D2: &str = "b1000000-0000-0000-0000-000000000012";
const V1: &str = "d1000000-0000-0000-0000-000000000031";
const O1: &str = "e1000000-0000-0000-0000-000000000801";
const RIGHT: i32 = 131224;

struct Ctx {
    _db: TestDb,
    app: TestApp,
    admin: String,
}

async fn setup() -> Ctx {
    let db = TestDb::new().await;
    db.exec(FIXTURE).await;
    fixtures::user(&db, "repadmin", "pw", &[RIGHT], &[], true).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.login("repadmin", "pw").await;
    Ctx {
        _db: db,
        app,
        admin,
    }
}

/// The `LocationId` the fixture's location with UUID `uuid` was given by its sequence.
async fn location_id(db: &TestDb, uuid: &str) -> i32 {
    let id = db
        .count(&format!(
            "SELECT \"LocationId\" FROM \"tblLocations\" WHERE \"LocationUUID\" = '{uuid}'"
        ))
        .await;
    assert!(id > 0, "location {uuid} missing");
    i32::try_from(id).unwrap()
}

async fn get(
    app: &TestApp,
    token: Option<&str>,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let mut req = app
        .client
        .get(format!("{}?{}", app.url(PATH), query.join("&")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn json_report(app: &TestApp, token: &str, params: &[(&str, &str)]) -> Value {
    let mut p = params.to_vec();
    p.push(("format", "json"));
    let resp = get(app, Some(token), &p, &[]).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn chfids(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["insuranceNumber"].as_str().unwrap().to_string())
        .collect()
}

/// RFC 4180 parsing (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                other => field.push(other),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[tokio::test]
async fn each_mode_lists_its_families() {
    let c = setup().await;
    let expected: [(&str, &[&str]); 5] = [
        (
            "0",
            &["100001", "100002", "100003", "100004", "100005", "100009"],
        ),
        ("1", &["100001", "100002"]),
        ("2", &["100003"]),
        ("3", &["100004", "100009"]),
        ("4", &["100005"]),
    ];
    for (mode, want) in expected {
        let r = json_report(&c.app, &c.admin, &[("regionUuid", R1), ("mode", mode)]).await;
        assert_eq!(chfids(&r), want, "mode {mode}");
        assert_eq!(r["rowCount"], want.len());
        assert_eq!(r["header"]["region"], "TR1 Nord");
        assert_eq!(r["counts"]["all"], 6);
        assert_eq!(r["counts"]["approvalAndPhone"], 2);
        assert_eq!(r["counts"]["neither"], 1);
    }
    let r = json_report(&c.app, &c.admin, &[("districtUuid", D1), ("mode", "0")]).await;
    assert_eq!(chfids(&r), ["100001", "100002", "100003", "100004"]);
    assert_eq!(r["header"]["district"], "TD1 Alpha");
    assert_eq!(r["header"]["region"], "TR1 Nord");
    let r = json_report(&c.app, &c.admin, &[("districtUuid", D2)]).await;
    assert_eq!(
        chfids(&r),
        ["100005", "100009"],
        "upper-case stored UUID matches"
    );
}

#[tokio::test]
async fn officer_filter_uses_current_policies() {
    let c = setup().await;
    let r = json_report(&c.app, &c.admin, &[("regionUuid", R1), ("officerUuid", O1)]).await;
    assert_eq!(chfids(&r), ["100001", "100005"]);
    assert_eq!(r["header"]["officer"]["code"], "EO001");
    assert_eq!(r["header"]["officer"]["name"], "Anna Mushi");
}

#[tokio::test]
async fn alternative_contact_rule_in_csv() {
    let c = setup().await;
    let resp = get(
        &c.app,
        Some(&c.admin),
        &[("regionUuid", R1)],
        &[("accept", "text/csv")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = parse_csv(&resp.text().await.unwrap());
    assert_eq!(rows.len(), 7, "header + 6 families");
    assert_eq!(rows[0][3], "Insurance number");
    let by_chf = |chf: &str| rows.iter().find(|r| r[3] == chf).unwrap().clone();
    // Head without phone: first other current member with a phone (lowest InsureeID, not the
    // blank-phone one, not the history row).
    let f2 = by_chf("100002");
    assert_eq!(f2[0..3], ["TD1 Alpha", "TW1 Kati", "TV1 Kijiji Moja"]);
    assert_eq!(f2[8], "");
    assert_eq!(f2[9..12], ["Zawadi", "Hassan", "0722000022"]);
    // Head with a phone: no alternative.
    let f1 = by_chf("100001");
    assert_eq!(f1[6..12], ["true", "en", "0711000001", "", "", ""]);
    // Nobody current with a phone (a history member had one): "-".
    let f5 = by_chf("100005");
    assert_eq!(f5[9..12], ["-", "-", "-"]);
    // Without a notification row: not approved, no language.
    let f4 = by_chf("100004");
    assert_eq!(f4[6..8], ["false", ""]);
    // UTF-8 names and a phone starting with "+" survive.
    let f9 = by_chf("100009");
    assert_eq!(f9[4..6], ["Şükrü Дмитрий", "Ñúñez-Łukasz"]);
    assert_eq!(f9[8], "+255 799 000 009");
}

fn filter_json(fragments: &[&str]) -> String {
    let map: serde_json::Map<String, Value> = fragments
        .iter()
        .enumerate()
        .map(|(i, f)| (i.to_string(), Value::from(*f)))
        .collect();
    Value::Object(map).to_string()
}

#[tokio::test]
async fn family_filter_json_applies_every_fragment() {
    let c = setup().await;
    let mode2 =
        r#"additionalFilter: "{\"policyNotification\":{\"mode\":{\"id\":\"mode\",\"value\":2}}}""#;
    let district = format!("parentLocation: \"{D1}\", parentLocationLevel: 1");
    let j = filter_json(&[&district, mode2]);
    let r = json_report(&c.app, &c.admin, &[("familyFilterJson", &j)]).await;
    assert_eq!(chfids(&r), ["100003"]);
    assert_eq!(r["header"]["mode"], 2);

    let j = filter_json(&[&district, "headInsuree_LastName_Icontains: \"ASS\""]);
    let r = json_report(&c.app, &c.admin, &[("familyFilterJson", &j)]).await;
    assert_eq!(chfids(&r), ["100002"]);
    assert_eq!(
        r["header"]["otherFilters"],
        json!(["Head last name contains: ASS"])
    );

    // A village narrows the rows; region and district come from its parents.
    let village = format!("parentLocation: \"{V1}\", parentLocationLevel: 3");
    let j = filter_json(&[&village]);
    let r = json_report(&c.app, &c.admin, &[("familyFilterJson", &j)]).await;
    assert_eq!(chfids(&r), ["100001", "100002"]);
    assert_eq!(r["header"]["district"], "TD1 Alpha");

    let region = format!("parentLocation: \"{R1}\", parentLocationLevel: 0");
    let officer = format!("officer: \"{O1}\"");
    let j = filter_json(&[&region, &officer, "members_Phone_Icontains: \"0755\""]);
    let r = json_report(&c.app, &c.admin, &[("familyFilterJson", &j)]).await;
    assert_eq!(
        chfids(&r),
        Vec::<String>::new(),
        "history members do not match"
    );
    let j = filter_json(&[&region, &officer]);
    let r = json_report(&c.app, &c.admin, &[("familyFilterJson", &j)]).await;
    assert_eq!(chfids(&r), ["100001", "100005"]);
}

#[tokio::test]
async fn bad_input_is_400_naming_the_parameter() {
    let c = setup().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "regionUuid"),
        (vec![("mode", "1")], "regionUuid"),
        (vec![("regionUuid", "not-a-uuid")], "regionUuid"),
        (
            vec![("regionUuid", "99999999-0000-0000-0000-000000000000")],
            "regionUuid",
        ),
        (vec![("districtUuid", "nope")], "districtUuid"),
        (vec![("districtUuid", R1)], "districtUuid"),
        (vec![("regionUuid", R1), ("mode", "5")], "mode"),
        (vec![("regionUuid", R1), ("mode", "-1")], "mode"),
        (vec![("regionUuid", R1), ("mode", "one")], "mode"),
        (
            vec![("regionUuid", R1), ("officerUuid", "x")],
            "officerUuid",
        ),
        (
            vec![
                ("regionUuid", R1),
                ("officerUuid", "99999999-0000-0000-0000-000000000000"),
            ],
            "officerUuid",
        ),
        (vec![("regionUuid", R1), ("format", "xls")], "format"),
        (vec![("familyFilterJson", "{not json")], "familyFilterJson"),
        (
            vec![("familyFilterJson", r#"{"0":"parentLocation: "#)],
            "familyFilterJson",
        ),
        (
            vec![("familyFilterJson", r#"{"0":"showHistory: false"}"#)],
            "familyFilterJson",
        ),
        (
            vec![(
                "familyFilterJson",
                r#"{"0":"unknownArg: 1, parentLocationLevel: 0"}"#,
            )],
            "familyFilterJson",
        ),
    ];
    for (params, param) in cases {
        let resp = get(&c.app, Some(&c.admin), &params, &[]).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["parameter"], param,
            "{params:?}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(param), "{message}");
    }
    // A district outside the given region.
    let d3 = "b1000000-0000-0000-0000-000000000013";
    let resp = get(
        &c.app,
        Some(&c.admin),
        &[("regionUuid", R1), ("districtUuid", d3)],
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn authentication_and_right() {
    let c = setup().await;
    let db = &c._db;
    fixtures::user(db, "norights", "pw", &[101001], &[], true).await;
    let no_right = c.app.login("norights", "pw").await;
    let params = [("regionUuid", R1), ("format", "json")];

    let resp = get(&c.app, None, &params, &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = get(&c.app, Some("not.a.token"), &params, &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = get(&c.app, Some(&no_right), &params, &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Bad input from an unauthenticated caller is still 401.
    let resp = get(&c.app, None, &[("mode", "9")], &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = get(&c.app, Some(&c.admin), &params, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = format!("JWT={}", c.admin);
    let resp = get(&c.app, None, &params, &[("cookie", &cookie)]).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the JWT cookie authenticates"
    );

    // The right is configurable.
    let app = TestApp::spawn_with(
        db,
        "[policy_notification]\nfamily_policy_notification_report_perms = [\"101001\"]\n",
    )
    .await;
    let resp = get(&app, Some(&no_right), &params, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn district_restrictions() {
    let c = setup().await;
    let db = &c._db;
    let d1 = location_id(db, D1).await;
    fixtures::user(db, "clerk1", "pw", &[RIGHT], &[d1], false).await;
    fixtures::user(db, "clerk0", "pw", &[RIGHT], &[], false).await;
    let clerk1 = c.app.login("clerk1", "pw").await;
    let clerk0 = c.app.login("clerk0", "pw").await;

    let r = json_report(&c.app, &clerk1, &[("regionUuid", R1)]).await;
    assert_eq!(chfids(&r), ["100001", "100002", "100003", "100004"]);
    assert_eq!(r["counts"]["all"], 4);
    // The region report of a restricted user says it covers only their districts.
    assert_eq!(r["header"]["district"], "TD1 Alpha (your districts)");
    assert_eq!(r["header"]["districts"], serde_json::json!(["TD1 Alpha"]));
    let admin = json_report(&c.app, &c.admin, &[("regionUuid", R1)]).await;
    assert_eq!(admin["header"]["district"], "");
    assert_eq!(
        admin["header"]["districts"],
        serde_json::json!(["TD1 Alpha", "TD2 Beta"])
    );
    let (status, body) = c
        .app
        .gql_as(
            &clerk1,
            &format!("{{ communicationByNotificationReport(regionUuid: \"{R1}\") {{ district districts }} }}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["communicationByNotificationReport"]["districts"],
        serde_json::json!(["TD1 Alpha"]),
        "{body}"
    );
    // Every CSV row names its district.
    let resp = get(
        &c.app,
        Some(&clerk1),
        &[("regionUuid", R1), ("format", "csv")],
        &[],
    )
    .await;
    let csv = parse_csv(&resp.text().await.unwrap());
    assert_eq!(csv[0][0], "District");
    assert!(
        csv.len() > 1 && csv[1..].iter().all(|r| r[0] == "TD1 Alpha"),
        "{csv:?}"
    );
    if tool("pdftotext") {
        let resp = get(&c.app, Some(&clerk1), &[("regionUuid", R1)], &[]).await;
        let path = std::env::temp_dir().join(format!("report_http_{}.pdf", uuid::Uuid::new_v4()));
        std::fs::write(&path, resp.bytes().await.unwrap()).unwrap();
        let text = std::process::Command::new("pdftotext")
            .args(["-layout", path.to_str().unwrap(), "-"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        let _ = std::fs::remove_file(&path);
        assert!(
            text.contains("District: TD1 Alpha (your districts)"),
            "{text}"
        );
        assert!(!text.contains("District: -"), "{text}");
    }
    let r = json_report(&c.app, &clerk1, &[("districtUuid", D1)]).await;
    assert_eq!(chfids(&r).len(), 4);
    let resp = get(
        &c.app,
        Some(&clerk1),
        &[("districtUuid", D2), ("format", "json")],
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let r = json_report(&c.app, &clerk0, &[("regionUuid", R1)]).await;
    assert_eq!(
        chfids(&r),
        Vec::<String>::new(),
        "no districts, no families"
    );
    assert_eq!(r["header"]["district"], "none of your districts");
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name).arg("-v").output().is_ok()
}

#[tokio::test]
async fn pdf_parsed_back() {
    let c = setup().await;
    let resp = get(&c.app, Some(&c.admin), &[("regionUuid", R1)], &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(
        resp.headers()["content-disposition"],
        "inline; filename=\"family_policy_notification_report.pdf\""
    );
    let pdf = resp.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if !tool("pdftotext") || !tool("pdfinfo") {
        eprintln!("poppler-utils missing: PDF text not checked");
        return;
    }
    let path = std::env::temp_dir().join(format!("report_http_{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    for needle in [
        "Family Policy Notification Report",
        "Region: TR1 Nord",
        "District: TD1 Alpha",
        "Municipality: TW1 Kati",
        "Village: TV1 Kijiji Moja",
        "Insurance no.",
        "100001",
        "Juma",
        "0722000022",
        "Şükrü Дмитрий",
        "Ñúñez-Łukasz",
        "Page 1 of 1",
        "Printed on",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let info = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("841.89 x 595.28"), "A4 landscape: {info}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn graphql_report_with_rows_connection() {
    let c = setup().await;
    let q = format!(
        "{{ communicationByNotificationReport(regionUuid: \"{R1}\", mode: 0) {{ region district \
           modeLabel counts {{ all approvalAndPhone approvalOnly phoneOnly neither }} \
           rows(first: 4) {{ totalCount edgeCount pageInfo {{ hasNextPage endCursor }} \
           edges {{ node {{ insuranceNumber village approval alternativePhone }} }} }} }} }}"
    );
    let (status, body) = c.app.gql_as(&c.admin, &q).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = &body["data"]["communicationByNotificationReport"];
    assert_eq!(report["region"], "TR1 Nord", "{body}");
    assert_eq!(report["counts"]["all"], 6);
    assert_eq!(report["rows"]["totalCount"], 6);
    assert_eq!(report["rows"]["edgeCount"], 4);
    assert_eq!(report["rows"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        report["rows"]["edges"][1]["node"]["alternativePhone"],
        "0722000022"
    );
    let after = report["rows"]["pageInfo"]["endCursor"].as_str().unwrap();
    let q2 = format!(
        "{{ communicationByNotificationReport(regionUuid: \"{R1}\") {{ rows(first: 4, after: \"{after}\") \
           {{ edges {{ node {{ insuranceNumber }} }} pageInfo {{ hasNextPage }} }} }} }}"
    );
    let (_, body) = c.app.gql_as(&c.admin, &q2).await;
    let rows = &body["data"]["communicationByNotificationReport"]["rows"];
    assert_eq!(
        rows["edges"][0]["node"]["insuranceNumber"], "100005",
        "{body}"
    );
    assert_eq!(rows["pageInfo"]["hasNextPage"], false);

    // Same right as over HTTP.
    fixtures::user(&c._db, "gqlnoright", "pw", &[101001], &[], true).await;
    let token = c.app.login("gqlnoright", "pw").await;
    let (_, body) = c.app.gql_as(&token, &q).await;
    assert!(
        body["data"]["communicationByNotificationReport"].is_null(),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Bad input names the argument.
    let (_, body) = c
        .app
        .gql_as(
            &c.admin,
            "{ communicationByNotificationReport(regionUuid: \"x\") { region } }",
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("regionUuid")
    );
}

/// On every ground, the CSV report of every region in the database — openIMIS's demo regions
/// (current and history rows) on the real grounds, the fixture's two on all — lists exactly the
/// current families whose location lies under the region (DECISIONS 12): as many rows as SQL
/// counts over the location tree, with the same heads' insurance numbers, approvals and languages (a family
/// without a current `tblFamilySMS` row is not approved; 1.5.0-running brings 21 of its own).
#[tokio::test]
async fn the_demo_data_report_matches_sql() {
    let c = setup().await;
    let db = &c._db;
    let districts: Vec<i32> = db
        .scalar(
            "SELECT string_agg(\"LocationId\"::text, ',') FROM \"tblLocations\" \
             WHERE \"LocationType\" = 'D'",
        )
        .await
        .expect("districts")
        .split(',')
        .map(|id| id.parse().unwrap())
        .collect();
    fixtures::user(db, "demoreport", "pw", &[RIGHT], &districts, true).await;
    let token = c.app.login("demoreport", "pw").await;
    let regions = db
        .scalar(
            "SELECT string_agg(\"LocationId\" || ' ' || \"LocationUUID\", ',' ORDER BY \"LocationId\") \
             FROM \"tblLocations\" WHERE \"LocationType\" = 'R'",
        )
        .await
        .expect("regions");
    let mut regions_seen = 0;
    let mut families_seen = 0;
    for region in regions.split(',') {
        let (id, uuid) = region.split_once(' ').unwrap();
        // The families under the region, by the location tree (any depth below it).
        let under = format!(
            "WITH RECURSIVE under (id) AS ( \
               SELECT \"LocationId\" FROM \"tblLocations\" WHERE \"ParentLocationId\" = {id} \
               UNION SELECT l.\"LocationId\" FROM \"tblLocations\" l JOIN under u ON l.\"ParentLocationId\" = u.id) \
             SELECT COALESCE(h.\"CHFID\", '') || ' ' || COALESCE(s.\"ApprovalOfSMS\", false) \
                    || ' ' || COALESCE(s.\"LanguageOfSMS\", '') AS entry \
             FROM \"tblFamilies\" f \
             LEFT JOIN \"tblInsuree\" h ON h.\"InsureeID\" = f.\"InsureeID\" \
             LEFT JOIN \"tblFamilySMS\" s ON s.\"FamilyID\" = f.\"FamilyID\" AND s.\"ValidityTo\" IS NULL \
             WHERE f.\"ValidityTo\" IS NULL AND f.\"LocationId\" IN (SELECT id FROM under)"
        );
        let expected = db.count(&format!("SELECT count(*) FROM ({under}) x")).await;
        let mut expected_entries: Vec<String> = db
            .scalar(&format!(
                "SELECT string_agg(entry, E'\\n') FROM ({under}) x"
            ))
            .await
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        expected_entries.sort();

        let resp = get(
            &c.app,
            Some(&token),
            &[("regionUuid", uuid), ("format", "csv")],
            &[],
        )
        .await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "region {uuid}: {text}");
        let rows = parse_csv(&text);
        assert_eq!(rows[0][3], "Insurance number", "region {uuid}");
        assert_eq!(
            rows.len() as i64 - 1,
            expected,
            "region {id} ({uuid}): CSV rows against SQL's current families under it"
        );
        assert_eq!(rows[0][6..8], ["Approval", "Language"], "region {uuid}");
        let mut got: Vec<String> = rows[1..]
            .iter()
            .map(|r| format!("{} {} {}", r[3], r[6], r[7]))
            .collect();
        got.sort();
        assert_eq!(got, expected_entries, "region {id} ({uuid})");
        let approved = got.iter().filter(|e| e.contains(" true ")).count();
        eprintln!("region {id} ({uuid}): {expected} families, {approved} approved");
        regions_seen += 1;
        families_seen += expected;
    }
    // Every current family with a location lies under one region: the reports together cover
    // them all (the fixture's 7 on every ground, with the demo's on the real grounds).
    let with_location = db
        .count(
            "SELECT count(*) FROM \"tblFamilies\" \
             WHERE \"ValidityTo\" IS NULL AND \"LocationId\" IS NOT NULL",
        )
        .await;
    assert_eq!(families_seen, with_location, "regions {regions}");
    if support::Ground::current().is_openimis() {
        assert!(regions_seen > 2, "the demo's regions: {regions}");
        assert!(families_seen > 7, "the demo's families: {families_seen}");
    } else {
        assert_eq!((regions_seen, families_seen), (2, 7));
    }
}
