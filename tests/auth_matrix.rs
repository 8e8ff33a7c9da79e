//! The auth matrix: every root Query and Mutation field of `schema.graphql`, and every HTTP
//! endpoint, called with no token, a bad token and a logged-in user without rights, must answer
//! an authentication or authorization error (issue 11). A field is guarded unless it is listed
//! below with the reason it is open, so a new field cannot ship unguarded.
mod support;

use support::frontend_doc;

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use reqwest::StatusCode;
use serde_json::Value;
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

/// Fields open to anonymous callers (a bad token is still refused where the field reads data).
const LOGIN_FIELDS: [&str; 5] = [
    // logging in, and the token helpers that only look at the token they are given
    "tokenAuth",
    "refreshToken",
    "verifyToken",
    "deleteTokenCookie",
    "deleteRefreshTokenCookie",
];
/// Fields any caller may read: an anonymous caller gets the public data (languages) or nothing
/// (its own mutation logs); a bad token is refused (401).
const PUBLIC_READS: [&str; 2] = ["languages", "mutationLogs"];
/// Fields any logged-in user may read, as in openIMIS (scoped to the user's districts,
/// DECISIONS 44): refused without a token, answered without a right.
const LOGGED_IN_READS: [&str; 3] = ["locations", "locationsStr", "userDistricts"];

struct Schema {
    /// Root fields: (operation, name, arguments text, selection text).
    roots: Vec<(&'static str, String, String, String)>,
}

fn parse_schema() -> Schema {
    let path = format!("{}/schema.graphql", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("schema.graphql");
    let doc = async_graphql::parser::parse_schema(&text).expect("schema.graphql parses");
    let mut types = HashMap::new();
    for def in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            types.insert(t.node.name.node.to_string(), t.node.kind.clone());
        }
    }
    let mut roots = Vec::new();
    for (op, type_name) in [("query", "Query"), ("mutation", "Mutation")] {
        let Some(TypeKind::Object(obj)) = types.get(type_name) else {
            panic!("no type {type_name} in schema.graphql");
        };
        for f in &obj.fields {
            let f = &f.node;
            let args: Vec<String> = f
                .arguments
                .iter()
                .filter(|a| !a.node.ty.node.nullable && a.node.default_value.is_none())
                .map(|a| {
                    format!(
                        "{}: {}",
                        a.node.name.node,
                        value(&types, &a.node.ty.node, 0)
                    )
                })
                .collect();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            let has_internal_id = matches!(
                types.get(named(&f.ty.node)),
                Some(TypeKind::Object(o)) if o.fields.iter().any(|x| x.node.name.node == "internalId")
            );
            let selection = if has_internal_id {
                " { __typename internalId }".to_string()
            } else if is_composite(&types, &f.ty.node) {
                " { __typename }".to_string()
            } else {
                String::new()
            };
            roots.push((op, f.name.node.to_string(), args, selection));
        }
    }
    Schema { roots }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

fn is_composite(types: &HashMap<String, TypeKind>, ty: &Type) -> bool {
    matches!(
        types.get(named(ty)),
        Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_))
    )
}

/// A literal of type `ty` with every required field filled.
fn value(types: &HashMap<String, TypeKind>, ty: &Type, depth: usize) -> String {
    match &ty.base {
        BaseType::List(inner) => format!("[{}]", value(types, inner, depth)),
        BaseType::Named(n) => match (n.as_str(), types.get(n.as_str())) {
            ("Int", _) => "1".into(),
            ("Float", _) => "1.5".into(),
            ("Boolean", _) => "true".into(),
            ("Date", _) => "\"2020-01-01\"".into(),
            ("DateTime", _) => "\"2020-01-01T00:00:00\"".into(),
            ("JSONString", _) => "\"{}\"".into(),
            ("GenericScalar", _) => "1".into(),
            (_, Some(TypeKind::Enum(e))) => e
                .values
                .first()
                .map_or("X".to_string(), |v| v.node.value.node.to_string()),
            (_, Some(TypeKind::InputObject(o))) if depth < 5 => {
                let fields: Vec<String> = o
                    .fields
                    .iter()
                    .filter(|f| !f.node.ty.node.nullable && f.node.default_value.is_none())
                    .map(|f| {
                        format!(
                            "{}: {}",
                            f.node.name.node,
                            value(types, &f.node.ty.node, depth + 1)
                        )
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            _ => "\"00000000-0000-0000-0000-000000000001\"".into(),
        },
    }
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Whether the answer refuses the caller: an auth error code, HTTP 401, or (for openIMIS's
/// mutation protocol) a status-1 log row saying the user is not authorized.
async fn refused(db: &TestDb, field: &str, status: StatusCode, body: &Value) -> bool {
    if status == StatusCode::UNAUTHORIZED {
        return true;
    }
    if matches!(code(body), Some("FORBIDDEN" | "UNAUTHENTICATED")) {
        return true;
    }
    let Some(internal) = body["data"][field]["internalId"].as_str() else {
        return false;
    };
    let error = db
        .scalar(&format!(
            "SELECT error FROM \"core_Mutation_Log\" WHERE id = '{internal}' AND status = 1"
        ))
        .await
        .unwrap_or_default();
    error.contains("not authorized") || error.contains("must be authenticated")
}

#[tokio::test]
async fn every_root_field_refuses_callers_without_a_token_or_a_right() {
    let db = TestDb::new().await;
    fixtures::user(&db, "norights", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let weak = app.login("norights", "pw").await;
    let schema = parse_schema();
    assert!(
        schema.roots.len() >= 16,
        "{} root fields",
        schema.roots.len()
    );
    let mut failures = Vec::new();
    for (op, name, args, selection) in &schema.roots {
        let doc = format!("{op} {{ {name}{args}{selection} }}");
        let open = LOGIN_FIELDS.contains(&name.as_str());
        let public = PUBLIC_READS.contains(&name.as_str());
        let callers: [(&str, Option<&str>); 3] = [
            ("no token", None),
            ("a bad token", Some("Bearer not.a.token")),
            ("no right", Some("")),
        ];
        for (who, header) in callers {
            let auth = match header {
                Some("") => format!("Bearer {weak}"),
                Some(h) => h.to_string(),
                None => String::new(),
            };
            let headers: Vec<(&str, &str)> = if auth.is_empty() {
                vec![]
            } else {
                vec![("authorization", auth.as_str())]
            };
            let (status, _, body) = app.gql_full(&doc, None, &headers).await;
            assert!(
                status.as_u16() < 500,
                "{doc} as {who}: HTTP {status} {body}"
            );
            if status == StatusCode::BAD_REQUEST {
                failures.push(format!("{doc}: the generated document is invalid: {body}"));
                continue;
            }
            let logged_in = LOGGED_IN_READS.contains(&name.as_str());
            let must_refuse = match who {
                "no token" => !open && !public,
                "no right" => !open && !public && !logged_in,
                _ => !open,
            };
            if must_refuse && !refused(&db, name, status, &body).await {
                failures.push(format!("{name} answers {who}: HTTP {status} {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_endpoint_refuses_callers_without_a_token_or_a_right() {
    let db = TestDb::new().await;
    fixtures::user(&db, "norights", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let weak = app.login("norights", "pw").await;
    let report = "/api/policy_notification/communication_by_notification_report/?regionUuid=00000000-0000-0000-0000-000000000001";
    for (who, token) in [
        ("no token", None),
        ("a bad token", Some("not.a.token".to_string())),
        ("no right", Some(weak.clone())),
    ] {
        let mut req = app.client.get(app.url(report));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let status = req.send().await.unwrap().status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "report as {who}: {status}"
        );
        // Who is logged in: any logged-in user, never without a valid token.
        let mut req = app.client.get(app.url("/api/core/users/current_user/"));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let status = req.send().await.unwrap().status();
        let expected = match who {
            "no right" => StatusCode::OK,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "current_user as {who}");
        // The dashboard's figures (its page shows a login form or a refusal, never data).
        for figure in [
            "messages",
            "unknown",
            "sweeps",
            "providers",
            "consent",
            "follower",
        ] {
            let mut req = app
                .client
                .get(app.url(&format!("/api/policy_notification/dashboard/{figure}.json")));
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
            let status = req.send().await.unwrap().status();
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
                "dashboard {figure}.json as {who}: {status}"
            );
        }
        // /metrics is open only on its own listener or with its token.
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = &token {
            req = req.bearer_auth(t);
        }
        let status = req.send().await.unwrap().status();
        assert!(
            status == StatusCode::UNAUTHORIZED
                || status == StatusCode::FORBIDDEN
                || status == StatusCode::NOT_FOUND,
            "/metrics as {who}: {status}"
        );
    }
}

/// The "another district" column: an officer of district D1 asks every field that takes a
/// family, a location or an officer for things of district D2, and gets nothing, a refusal, or
/// the same answer as for something that does not exist.
#[tokio::test]
async fn fields_refuse_things_of_another_district() {
    let db = TestDb::new().await;
    db.exec(include_str!("fixtures/families_base.sql")).await;
    let rights = [101001, 101002, 101003, 101004, 101101, 131224];
    fixtures::user(&db, "admin", "pw", &rights, &[], true).await;
    fixtures::user(&db, "officer1", "pw", &rights, &[2], false).await;
    let app = TestApp::spawn(&db).await;
    let admin = app.login("admin", "pw").await;
    let officer = app.login("officer1", "pw").await;
    // A family of D2 (village 7), made by the administrator.
    let (s, b) = app
        .gql_as(
            &admin,
            &frontend_doc(
                "v1_5_create_family",
                &[
                    ("CLIENT_ID", "d2-1"),
                    ("CHF", "555000111"),
                    ("VILLAGE_ID", "7"),
                ],
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let family = db
        .scalar(
            "SELECT f.\"FamilyUUID\" FROM \"tblFamilies\" f JOIN \"tblInsuree\" i ON i.\"InsureeID\" = f.\"InsureeID\" \
             WHERE f.\"ValidityTo\" IS NULL AND i.\"CHFID\" = '555000111'",
        )
        .await
        .expect("the family");
    let head = db
        .scalar("SELECT \"InsureeUUID\" FROM \"tblInsuree\" WHERE \"CHFID\" = '555000111'")
        .await
        .expect("the head");
    let before = db
        .scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"tblFamilies\" t")
        .await;
    let empty_reads = [
        format!("{{ families(uuid: \"{family}\") {{ totalCount }} }}"),
        "{ families(headInsuree_ChfId: \"555000111\") { totalCount } }".to_string(),
        format!("{{ familyNotification(family_Uuid: \"{family}\") {{ totalCount }} }}"),
        format!("{{ familyMembers(familyUuid: \"{family}\") {{ totalCount }} }}"),
        "{ locations(uuid: \"00000000-0000-0000-0000-0000000000d2\") { totalCount } }".to_string(),
        "{ locationsStr(str: \"D2\", type: \"D\") { totalCount } }".to_string(),
    ];
    for q in &empty_reads {
        let (s, b) = app.gql_as(&officer, q).await;
        assert_eq!(s, StatusCode::OK, "{q}: {b}");
        let total = b["data"]
            .as_object()
            .and_then(|o| o.values().next())
            .map(|v| v["totalCount"].clone());
        assert_eq!(total, Some(serde_json::json!(0)), "{q}: {b}");
    }
    let (_, b) = app
        .gql_as(
            &officer,
            &format!("{{ policyNotificationHistory(familyUuid: \"{family}\") {{ __typename }} }}"),
        )
        .await;
    assert_eq!(
        b["data"]["policyNotificationHistory"],
        serde_json::json!([]),
        "{b}"
    );
    // Writes: refused with a status-1 log row, and the family is unchanged.
    let writes = [
        frontend_doc(
            "v1_5_update_family",
            &[
                ("CLIENT_ID", "x-1"),
                ("CHF", "555000111"),
                ("FAMILY_UUID", &family),
                ("HEAD_UUID", &head),
                ("VILLAGE_ID", "6"),
            ],
        ),
        frontend_doc(
            "v1_5_delete_families",
            &[
                ("CLIENT_ID", "x-2"),
                ("CHF", "555000111"),
                ("FAMILY_UUID", &family),
                ("DELETE_MEMBERS", "true"),
            ],
        ),
        frontend_doc(
            "v1_5_create_family",
            &[
                ("CLIENT_ID", "x-3"),
                ("CHF", "555000222"),
                ("VILLAGE_ID", "7"),
            ],
        ),
    ];
    for (i, q) in writes.iter().enumerate() {
        let (s, b) = app.gql_as(&officer, q).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let status = db
            .count(&format!(
                "SELECT status FROM \"core_Mutation_Log\" WHERE client_mutation_id = 'x-{}'",
                i + 1
            ))
            .await;
        assert_eq!(status, 1, "write {}: {b}", i + 1);
    }
    let after = db
        .scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"tblFamilies\" t")
        .await;
    assert_eq!(before, after);
    // The report: D2 is refused as an unknown district would be.
    let report = |d: &str| {
        app.client
            .get(app.url(&format!(
                "/api/policy_notification/communication_by_notification_report/?format=json&districtUuid={d}"
            )))
            .bearer_auth(&officer)
            .send()
    };
    let foreign = report("00000000-0000-0000-0000-0000000000d2")
        .await
        .unwrap();
    let unknown = report("00000000-0000-0000-0000-0000000000ff")
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(foreign.status(), unknown.status());
}
