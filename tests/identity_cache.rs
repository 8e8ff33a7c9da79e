//! The caller's identity is reused for a short window (src/http/identity_cache.rs, 2 s): a right
//! openIMIS revokes, or a user it deletes, is refused at the latest once the window has passed,
//! and at once when the window is zero. Through GraphQL, against real PostgreSQL.
mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::TestDb;
use support::app::TestApp;
use support::fixtures;

const SEARCH: &str = "{ families(first: 1) { totalCount } }";

fn allowed(body: &Value) -> bool {
    body.get("errors").is_none() && body["data"]["families"]["totalCount"].is_number()
}

async fn revoke_search_right(db: &TestDb, login: &str) {
    db.exec(&format!(
        "UPDATE \"tblRoleRight\" SET \"ValidityTo\" = now() WHERE \"RightID\" = 101001 \
         AND \"RoleID\" IN (SELECT \"RoleID\" FROM \"tblRole\" WHERE \"RoleName\" = 'role-{login}')"
    ))
    .await;
}

#[tokio::test]
async fn a_revoked_right_is_refused_once_the_window_has_passed() {
    let db = TestDb::new().await;
    fixtures::user(&db, "clerk", "pw", &[101001], &[], true).await;
    fixtures::user(&db, "gone", "pw", &[101001], &[], true).await;
    let app = TestApp::spawn(&db).await;
    let window = app.state.identities.ttl();
    assert_eq!(window, Duration::from_secs(2), "the documented window");

    let token = app.login("clerk", "pw").await;
    let (_, body) = app.gql_as(&token, SEARCH).await;
    assert!(allowed(&body), "{body}");
    let gone = app.login("gone", "pw").await;
    let (_, body) = app.gql_as(&gone, SEARCH).await;
    assert!(allowed(&body), "{body}");

    // openIMIS revokes the right and deletes the other user, after both identities were cached
    revoke_search_right(&db, "clerk").await;
    db.exec("UPDATE \"tblUsers\" SET \"ValidityTo\" = now() WHERE \"LoginName\" = 'gone'")
        .await;
    let revoked = Instant::now();
    // every entry cached before the revocation ends by `revoked + window`
    tokio::time::sleep_until((revoked + window).into()).await;
    let (_, body) = app.gql_as(&token, SEARCH).await;
    assert!(!allowed(&body), "the revoked right still works: {body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("authorized")),
        "{body}"
    );
    let (status, body) = app.gql_as(&gone, SEARCH).await;
    assert!(
        !allowed(&body),
        "a deleted user still works: {status} {body}"
    );
}

#[tokio::test]
async fn without_a_window_a_revoked_right_is_refused_at_once() {
    let db = TestDb::new().await;
    fixtures::user(&db, "clerk", "pw", &[101001], &[], true).await;
    let app = TestApp::spawn(&db).await;
    app.state.identities.set_ttl(Duration::ZERO);
    let token = app.login("clerk", "pw").await;
    let (_, body) = app.gql_as(&token, SEARCH).await;
    assert!(allowed(&body), "{body}");
    revoke_search_right(&db, "clerk").await;
    let (_, body) = app.gql_as(&token, SEARCH).await;
    assert!(!allowed(&body), "the revoked right still works: {body}");
    assert!(app.state.identities.is_empty());
}

#[tokio::test]
async fn a_cached_token_past_its_expiry_is_refused() {
    let db = TestDb::new().await;
    fixtures::user(&db, "clerk", "pw", &[101001], &[], true).await;
    // without a private key, tokens are signed with the service's secret: one we sign ourselves
    db.exec("UPDATE \"tblUsers\" SET \"PrivateKey\" = NULL WHERE \"LoginName\" = 'clerk'")
        .await;
    let app = TestApp::spawn(&db).await;
    app.state.identities.set_ttl(Duration::from_secs(60));
    let now = chrono::Utc::now().timestamp();
    let exp = now + 2;
    let token = app
        .state
        .jwt
        .sign(
            &policy_notification::auth::Claims {
                username: "clerk".into(),
                exp,
                orig_iat: now,
                jti: None,
                nbf: None,
                refresh: false,
            },
            None,
        )
        .unwrap();
    let (_, body) = app.gql_as(&token, SEARCH).await;
    assert!(allowed(&body), "{body}");
    assert_eq!(app.state.identities.len(), 1);
    // `exp` is a whole second: the token is refused once that second has passed
    let wait = (exp + 1) * 1000 - chrono::Utc::now().timestamp_millis();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64 + 10)).await;
    }
    let (status, body) = app.gql_as(&token, SEARCH).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["errors"][0]["message"], "Signature has expired",
        "{body}"
    );
}
