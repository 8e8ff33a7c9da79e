//! The real HTTP application, in-process on 127.0.0.1:0, against a test database; plus a small
//! GraphQL client.
//!
//! ```ignore
//! let db = support::TestDb::new().await;
//! support::fixtures::user(&db, "clerk", "pw", &[101001], &[], true).await;
//! let app = support::app::TestApp::spawn(&db).await;
//! let token = app.login("clerk", "pw").await;
//! let (status, body) = app.gql_as(&token, "{ languages { code } }").await;
//! ```

use std::net::SocketAddr;

use policy_notification::config::ConfigSources;
use policy_notification::http::{AppState, router};
use policy_notification::runtime;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::TestDb;

/// The JWT fallback secret of test apps (users without a `PrivateKey` are signed with it).
pub const TEST_JWT_SECRET: &str = "test-secret-for-the-test-suite-only";

/// A running application.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state (pool, settings, schema).
    pub state: AppState,
    /// An HTTP client without a cookie store.
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestApp {
    /// Starts the application on `db` with default settings.
    pub async fn spawn(db: &TestDb) -> TestApp {
        Self::spawn_with(db, "").await
    }

    /// Starts the application on `db` with settings from `toml` (`[service]` and
    /// `[policy_notification]` sections); the database URL is the test database's and the JWT
    /// secret [`TEST_JWT_SECRET`] unless the TOML sets one.
    pub async fn spawn_with(db: &TestDb, toml: &str) -> TestApp {
        let sources = ConfigSources::from_toml(toml).expect("test settings");
        let pool = policy_notification::db::connect_pool(&db.url, 4).expect("pool");
        let mut settings = runtime::resolve_settings(&sources, &pool)
            .await
            .expect("resolve settings");
        settings.service.database_url = Some(SecretString::from(db.url.clone()));
        let secret = settings
            .service
            .jwt_secret
            .clone()
            .unwrap_or_else(|| SecretString::from(TEST_JWT_SECRET.to_string()));
        settings.service.jwt_secret = Some(secret.clone());
        let state = runtime::app_state(pool, settings, secret);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestApp {
            addr,
            state,
            client: reqwest::Client::new(),
            task,
        }
    }

    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a raw body to `/api/graphql` with optional extra headers; the raw response.
    pub async fn post_graphql(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/graphql"))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("POST /api/graphql")
    }

    /// Sends `{query, variables}` with optional extra headers; status, `Set-Cookie` values and
    /// the JSON body.
    pub async fn gql_full(
        &self,
        query: &str,
        variables: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Vec<String>, Value) {
        let mut body = json!({ "query": query });
        if let Some(v) = variables {
            body["variables"] = v;
        }
        let resp = self.post_graphql(body.to_string(), headers).await;
        let status = resp.status();
        let cookies = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"));
        (status, cookies, json)
    }

    /// An anonymous query.
    pub async fn gql(&self, query: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.gql_full(query, None, &[]).await;
        (s, v)
    }

    /// An anonymous query with variables.
    pub async fn gql_vars(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let (s, _, v) = self.gql_full(query, Some(variables), &[]).await;
        (s, v)
    }

    /// A query with `Authorization: Bearer <token>`.
    pub async fn gql_as(&self, token: &str, query: &str) -> (StatusCode, Value) {
        let auth = format!("Bearer {token}");
        let (s, _, v) = self
            .gql_full(query, None, &[("authorization", auth.as_str())])
            .await;
        (s, v)
    }

    /// A query with a cookie: a bare token is sent as `JWT=<token>`, anything with `=` as is.
    pub async fn gql_cookie(&self, cookie: &str, query: &str) -> (StatusCode, Value) {
        let cookie = if cookie.contains('=') {
            cookie.to_string()
        } else {
            format!("JWT={cookie}")
        };
        let (s, _, v) = self
            .gql_full(query, None, &[("cookie", cookie.as_str())])
            .await;
        (s, v)
    }

    /// Logs in through `tokenAuth`; the token (panics when login fails).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .gql_vars(
                "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
                json!({"u": username, "p": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {username} failed: {body}");
        body["data"]["tokenAuth"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {body}"))
            .to_string()
    }
}

/// Percent-encoding of a query-string component.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
