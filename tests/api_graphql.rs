//! The GraphQL endpoint: envelope and status codes, limits, GraphiQL, `languages`, the schema file.

mod support;

use async_graphql::{Context, EmptySubscription, Object, Schema};
use policy_notification::auth::Identity;
use policy_notification::graphql::context::{Caller, RequestAuth, require_right};
use policy_notification::graphql::relay::{ExtendedConnection, Pagination, total_count_selected};
use reqwest::StatusCode;
use serde_json::json;
use support::app::TestApp;
use support::{TestDb, fixtures};

#[tokio::test]
async fn languages_are_listed_in_openimis_order() {
    let db = TestDb::new().await;
    fixtures::language(&db, "sw", "Kiswahili", Some(2)).await;
    fixtures::language(&db, "fr", "Français", None).await;
    fixtures::language(&db, "en", "English", Some(1)).await;
    fixtures::language(&db, "de", "Deutsch", None).await;
    let app = TestApp::spawn(&db).await;
    let (s, b) = app.gql("{ languages { code name sortOrder } }").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({"data": {"languages": [
            {"code": "en", "name": "English", "sortOrder": 1},
            {"code": "sw", "name": "Kiswahili", "sortOrder": 2},
            {"code": "de", "name": "Deutsch", "sortOrder": null},
            {"code": "fr", "name": "Français", "sortOrder": null},
        ]}})
    );
}

#[tokio::test]
async fn parse_and_validation_errors_are_400_without_data() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (s, b) = app.gql("{ languages { code }").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.get("data").is_none(), "{b}");
    assert!(b["errors"][0]["message"].is_string());
    let (s, b) = app.gql("{ languages { nope } }").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.get("data").is_none(), "{b}");
    // a body that is not a GraphQL request
    let resp = app.post_graphql("not json", &[]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let b: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn depth_complexity_and_body_limits() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(
        &db,
        "[service]\ngraphql_max_depth = 4\ngraphql_max_complexity = 10\nmax_body_bytes = 1024\n",
    )
    .await;
    let (s, b) = app.gql("{ languages { code } }").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .gql("{ __schema { types { fields { type { ofType { name } } } } } }")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["errors"][0]["message"], "Query is nested too deep.");
    let wide = (0..6)
        .map(|i| format!("l{i}: languages {{ code name }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (s, b) = app.gql(&format!("{{ {wide} }}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["errors"][0]["message"], "Query is too complex.");
    let big = json!({"query": format!("{{ languages {{ code }} }} # {}", "x".repeat(2000))});
    let resp = app.post_graphql(big.to_string(), &[]).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let b: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        b["errors"][0]["message"],
        "the request body exceeds the limit of 1024 bytes"
    );
    assert_eq!(b["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn graphiql_is_served_openly() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let resp = app
        .client
        .get(app.url("/api/graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.to_lowercase().contains("graphiql"));
    assert!(html.contains("/api/graphql"));
    // Nothing comes from elsewhere: every script and style sheet is the service's own.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//unpkg"));
    for (name, file, kind) in [
        (
            "react-18.3.1.production.min.js",
            "react.production.min.js",
            "text/javascript",
        ),
        (
            "react-dom-18.3.1.production.min.js",
            "react-dom.production.min.js",
            "text/javascript",
        ),
        (
            "graphiql-4.1.2.min.js",
            "graphiql.min.js",
            "text/javascript",
        ),
        ("graphiql-4.1.2.min.css", "graphiql.min.css", "text/css"),
    ] {
        let path = format!("/api/assets/{name}");
        assert!(html.contains(&path), "the page does not load {path}");
        let resp = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let header = |h: &str| {
            resp.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            header("content-type").starts_with(kind),
            "{path}: {}",
            header("content-type")
        );
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let body = resp.bytes().await.unwrap();
        let vendored = std::fs::read(format!(
            "{}/assets/vendor/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert!(
            body[..] == vendored[..],
            "{path} differs from assets/vendor/{file}"
        );
    }
    let resp = app
        .client
        .get(app.url("/api/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

struct Probe;

#[derive(async_graphql::SimpleObject)]
#[graphql(name = "ItemGQLType")]
struct Item {
    n: i32,
}

#[Object]
impl Probe {
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<String>,
        before: Option<String>,
        offset: Option<i32>,
    ) -> async_graphql::Result<Option<ExtendedConnection<Item>>> {
        use async_graphql::ErrorExtensions;
        let page = Pagination::from_ctx(
            ctx,
            first,
            last,
            after.as_deref(),
            before.as_deref(),
            offset,
        )
        .map_err(|e| e.extend())?;
        const ROWS: i64 = 250;
        let total = (page.needs_total() || total_count_selected(ctx)).then_some(ROWS);
        let window = page.window(total);
        let rows = (window.offset..(window.offset + window.fetch).min(ROWS))
            .map(|n| Item { n: n as i32 })
            .collect();
        Ok(Some(page.connection(window, rows, total)))
    }

    async fn guarded(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        require_right(ctx, 101001)?;
        Ok(Some(1))
    }
}

fn identity(rights: &[i32]) -> Identity {
    Identity {
        user_id: 1,
        core_user_id: uuid::Uuid::nil(),
        login: "u".into(),
        language: "en".into(),
        rights: rights.iter().copied().collect(),
        is_admin: false,
        districts: vec![],
    }
}

async fn envelope(
    schema: &Schema<Probe, async_graphql::EmptyMutation, EmptySubscription>,
    query: &str,
    caller: Caller,
) -> (StatusCode, serde_json::Value) {
    let auth = RequestAuth {
        caller,
        ..RequestAuth::default()
    };
    let resp = schema
        .execute(async_graphql::Request::new(query).data(auth))
        .await;
    let http = policy_notification::http::graphql::render(resp);
    let status = http.status();
    let bytes = axum::body::to_bytes(http.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        StatusCode::from_u16(status.as_u16()).unwrap(),
        serde_json::from_slice(&bytes).unwrap(),
    )
}

#[tokio::test]
async fn a_missing_right_is_openimis_unauthorized_with_null_data() {
    let schema = Schema::build(Probe, async_graphql::EmptyMutation, EmptySubscription).finish();
    let (s, denied) = envelope(&schema, "{ guarded }", Caller::User(identity(&[101002]))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(denied["data"], json!({"guarded": null}));
    assert_eq!(
        denied["errors"][0]["message"],
        "User not authorized for this operation"
    );
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(denied["errors"][0]["path"], json!(["guarded"]));
    let (s, anonymous) = envelope(&schema, "{ guarded other: guarded }", Caller::Anonymous).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(anonymous["data"], json!({"guarded": null, "other": null}));
    assert_eq!(
        anonymous["errors"][0]["message"],
        "User not authorized for this operation"
    );
    let (s, allowed) = envelope(&schema, "{ guarded }", Caller::User(identity(&[101001]))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(allowed, json!({"data": {"guarded": 1}}));
    let (s, bad) = envelope(
        &schema,
        "{ guarded }",
        Caller::Rejected(policy_notification::auth::AuthError::Expired),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(bad.get("data").is_none());
    assert_eq!(bad["errors"][0]["message"], "Signature has expired");
}

#[tokio::test]
async fn connections_have_the_openimis_shape_and_limits() {
    let schema = Schema::build(Probe, async_graphql::EmptyMutation, EmptySubscription).finish();
    let sdl = schema.sdl();
    assert!(sdl.contains("type ItemGQLTypeConnection {"), "{sdl}");
    assert!(sdl.contains("edges: [ItemGQLTypeEdge]!"), "{sdl}");
    assert!(sdl.contains("pageInfo: PageInfo!"), "{sdl}");
    assert!(sdl.contains("totalCount: Int"), "{sdl}");
    assert!(sdl.contains("edgeCount: Int!"), "{sdl}");
    let (s, b) = envelope(
        &schema,
        "{ items { totalCount edgeCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        Caller::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b["data"]["items"],
        json!({"totalCount": 250, "edgeCount": 100, "pageInfo": {
            "hasNextPage": true, "hasPreviousPage": false,
            "startCursor": "YXJyYXljb25uZWN0aW9uOjA=", "endCursor": "YXJyYXljb25uZWN0aW9uOjk5"}})
    );
    // totalCount not selected: not computed, the look-ahead row finds the next page
    let (_, b) = envelope(
        &schema,
        "{ items(first: 2, after: \"YXJyYXljb25uZWN0aW9uOjA=\") { pageInfo { hasNextPage } edges { cursor node { n } } } }",
        Caller::Anonymous,
    )
    .await;
    assert_eq!(
        b["data"]["items"],
        json!({"pageInfo": {"hasNextPage": true}, "edges": [
            {"cursor": "YXJyYXljb25uZWN0aW9uOjE=", "node": {"n": 1}},
            {"cursor": "YXJyYXljb25uZWN0aW9uOjI=", "node": {"n": 2}}]})
    );
    let (s, b) = envelope(
        &schema,
        "{ items(first: 101) { totalCount } }",
        Caller::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["data"], json!({"items": null}));
    assert_eq!(
        b["errors"][0]["message"],
        "Requesting 101 records on the `items` connection exceeds the `first` limit of 100 records."
    );
    assert_eq!(b["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
}

#[test]
fn schema_file_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let current = policy_notification::graphql::sdl();
    assert!(
        on_disk == current,
        "schema.graphql differs from the schema in the code; regenerate it with\n  \
         cargo run -q -- export-schema > schema.graphql"
    );
}

/// The introspection query GraphiQL sends (graphql-js 16), which must pass the default limits.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

#[tokio::test]
async fn graphiql_introspection_passes_the_default_limits() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (s, b) = app.gql(INTROSPECTION).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["__schema"]["queryType"]["name"], "Query");
}
