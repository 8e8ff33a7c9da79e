//! Login, tokens and rights through HTTP against PostgreSQL.

mod support;

use policy_notification::auth::{Claims, JwtKeys};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use support::app::{TEST_JWT_SECRET, TestApp};
use support::{TestDb, fixtures};

const LOGIN: &str = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token payload refreshExpiresIn refreshToken } }";

async fn login_raw(
    app: &TestApp,
    u: &str,
    p: &str,
) -> (StatusCode, Vec<String>, serde_json::Value) {
    app.gql_full(LOGIN, Some(json!({"u": u, "p": p})), &[])
        .await
}

fn keys() -> JwtKeys {
    JwtKeys::new(
        SecretString::from(TEST_JWT_SECRET.to_string()),
        86_400,
        30 * 86_400,
    )
}

async fn private_key(db: &TestDb, login: &str) -> String {
    db.scalar(&format!(
        "SELECT \"PrivateKey\" FROM \"tblUsers\" WHERE \"LoginName\" = '{login}' AND \"ValidityTo\" IS NULL"
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn login_issues_a_verifiable_token_and_a_cookie() {
    let db = TestDb::new().await;
    // openIMIS's own databases ship this login (with openIMIS's hashing and private key).
    let uid = if support::Ground::current().is_openimis() {
        db.count("SELECT \"UserID\" FROM \"tblUsers\" WHERE \"LoginName\" = 'Admin' AND \"ValidityTo\" IS NULL")
            .await as i32
    } else {
        fixtures::user(&db, "Admin", "admin123", &[101001], &[], true).await
    };
    let app = TestApp::spawn(&db).await;
    let (status, cookies, body) = login_raw(&app, "Admin", "admin123  ").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"]["tokenAuth"];
    let token = data["token"].as_str().unwrap();
    assert_eq!(data["payload"]["username"], "Admin");
    assert!(data["payload"]["exp"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    assert!(data["payload"]["origIat"].is_i64());
    assert!(
        data["refreshExpiresIn"].as_i64().unwrap() > chrono::Utc::now().timestamp() + 29 * 86_400
    );
    assert!(data["refreshToken"].as_str().is_some_and(|s| !s.is_empty()));
    // signed with the user's private key, not the configured secret
    let key = private_key(&db, "Admin").await;
    let claims: Claims = keys().verify(token, Some(&key), true).unwrap();
    assert_eq!(claims.username, "Admin");
    assert!(keys().verify(token, None, true).is_err());
    // cookie flags
    let jwt = cookies
        .iter()
        .find(|c| c.starts_with("JWT="))
        .expect("JWT cookie");
    assert!(jwt.starts_with(&format!("JWT={token};")));
    assert!(jwt.contains("HttpOnly"));
    assert!(jwt.contains("SameSite=Lax"));
    assert!(jwt.contains("Path=/"));
    assert!(!jwt.contains("Secure"));
    // the core_User row is created
    assert_eq!(
        db.count(&format!("SELECT count(*) FROM \"core_User\" WHERE \"i_user_id\" = {uid} AND \"username\" = 'Admin'")).await,
        1
    );
}

#[tokio::test]
async fn cookie_is_secure_when_served_over_https() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn_with(&db, "[service]\nhttps = true\n").await;
    let (status, cookies, _) = login_raw(&app, "u1", "pw").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("JWT=") && c.contains("; Secure"))
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let (s1, c1, b1) = login_raw(&app, "u1", "wrong").await;
    let (s2, _, b2) = login_raw(&app, "nobody", "pw").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert!(b1.get("data").is_none(), "{b1}");
    assert_eq!(b1["errors"][0]["message"], "Please enter valid credentials");
    assert_eq!(b1["errors"][0]["message"], b2["errors"][0]["message"]);
    assert!(c1.is_empty());
}

/// A login from source address 127.0.0.`last` (every 127.0.0.0/8 address is loopback).
async fn login_from(app: &TestApp, last: u8, u: &str, p: &str) -> (StatusCode, serde_json::Value) {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap();
    let resp = client
        .post(app.url("/api/graphql"))
        .header("content-type", "application/json")
        .body(json!({"query": LOGIN, "variables": {"u": u, "p": p}}).to_string())
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

fn retry_after(b: &serde_json::Value) -> Option<i64> {
    b["errors"][0]["extensions"]["retryAfterSeconds"].as_i64()
}

#[tokio::test]
async fn failures_slow_a_pair_down_without_locking_the_user_out() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    // three failures, then a success: the pair's count is reset
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, 1, "u1", "bad").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login_from(&app, 1, "u1", "pw").await.0, StatusCode::OK);
    assert_eq!(
        db.count("SELECT count(*) FROM pn_login_failure WHERE login_name LIKE 'p:%'")
            .await,
        0
    );
    for i in 0..4 {
        let (s, b) = login_from(&app, 1, "u1", "bad").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(retry_after(&b), None, "failure {i}: {b}");
    }
    // the fifth failure starts the slow-down: 1 s, then 2, 4, … up to 300
    let (_, b) = login_from(&app, 1, "u1", "bad").await;
    assert_eq!(b["errors"][0]["message"], "Please enter valid credentials");
    assert_eq!(retry_after(&b), Some(1), "{b}");
    // from that address even the right password waits, with the same message and a hint
    let (s, b) = login_from(&app, 1, "u1", "pw").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["errors"][0]["message"], "Please enter valid credentials");
    assert!(
        retry_after(&b).is_some_and(|w| (1..=300).contains(&w)),
        "{b}"
    );
    // the user, from another address, is not locked out
    assert_eq!(login_from(&app, 2, "u1", "pw").await.0, StatusCode::OK);
    // when the wait has passed, the right password works from the first address too
    db.exec("UPDATE pn_login_failure SET locked_until = now() - interval '1 second'")
        .await;
    assert_eq!(login_from(&app, 1, "u1", "pw").await.0, StatusCode::OK);
    assert_eq!(
        db.count("SELECT count(*) FROM pn_login_failure WHERE login_name LIKE 'p:%'")
            .await,
        0
    );
}

#[tokio::test]
async fn concurrent_failures_are_counted_atomically_and_unknown_names_store_nothing() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u2", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    // unknown names: only the address is counted
    for i in 0..10 {
        let (s, _) = login_from(&app, 3, &format!("nobody{i}"), "x").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        db.count("SELECT count(*) FROM pn_login_failure WHERE login_name NOT LIKE 'a:%'")
            .await,
        0
    );
    // 40 wrong passwords at once from one address: at most 5 are checked while the burst lasts
    // less than the first wait (1 s); on a slow machine the burst may outlast waits of 1, 2, 4 s…,
    // and an attempt after a wait is checked, as it should be: one more per elapsed wait.
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let url = app.url("/api/graphql");
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, 4]))
                .build()
                .unwrap();
            client
                .post(url)
                .header("content-type", "application/json")
                .body(json!({"query": LOGIN, "variables": {"u": "u2", "p": "bad"}}).to_string())
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), StatusCode::UNAUTHORIZED);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let checked = db
        .count("SELECT failures FROM pn_login_failure WHERE login_name LIKE 'n:%'")
        .await;
    // waits of 1 + 2 + … + 2^(k-1) = 2^k - 1 seconds fit in the burst: k more may be checked
    let waits_elapsed = (elapsed + 1.0).log2().floor() as i64;
    assert!(
        (1..=5 + waits_elapsed).contains(&checked),
        "{checked} passwords checked in {elapsed:.2} s"
    );
    // the right password from a clean address still works
    assert_eq!(login_from(&app, 5, "u2", "pw").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_name_under_attack_leaves_one_attempt_to_failing_addresses() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u3", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    for last in 10..14 {
        for _ in 0..5 {
            login_from(&app, last, "u3", "bad").await;
        }
    }
    // a new address that fails once must wait before its next attempt
    let (_, b) = login_from(&app, 20, "u3", "bad").await;
    assert_eq!(retry_after(&b), Some(1), "{b}");
    let (s, b) = login_from(&app, 20, "u3", "pw").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(retry_after(&b).is_some(), "{b}");
    // an address that has not failed logs in at once
    assert_eq!(login_from(&app, 21, "u3", "pw").await.0, StatusCode::OK);
}

#[tokio::test]
async fn token_works_as_bearer_and_as_cookie() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[101001], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let token = app.login("u1", "pw").await;
    let q = "mutation { verifyToken { payload } }";
    let (s, b) = app.gql_as(&token, q).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["verifyToken"]["payload"]["username"], "u1");
    let (s, b) = app.gql_cookie(&token, q).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["verifyToken"]["payload"]["username"], "u1");
}

#[tokio::test]
async fn expired_and_bad_tokens_get_401() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[101001], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let key = private_key(&db, "u1").await;
    let now = chrono::Utc::now().timestamp();
    let expired = keys()
        .sign(
            &Claims {
                username: "u1".into(),
                exp: now - 120,
                orig_iat: now - 3600,
                jti: None,
                nbf: None,
                refresh: false,
            },
            Some(&key),
        )
        .unwrap();
    let q = "{ languages { code } }";
    let (s, b) = app.gql_as(&expired, q).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        b,
        json!({"errors": [{"message": "Signature has expired", "locations": [{"line": 1, "column": 3}], "path": ["languages"], "extensions": {"code": "UNAUTHENTICATED"}}]})
    );
    let (s, b) = app.gql_cookie("not.a.token", q).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["errors"][0]["message"], "Error decoding signature");
    // signed with the configured secret although the user has a private key
    let wrong_key = keys()
        .sign(
            &Claims {
                username: "u1".into(),
                exp: now + 120,
                orig_iat: now,
                jti: None,
                nbf: None,
                refresh: false,
            },
            None,
        )
        .unwrap();
    let (s, b) = app.gql_as(&wrong_key, q).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["errors"][0]["message"], "Error decoding signature");
    // a bad cookie does not stop a new login
    let (s, _, _) = app
        .gql_full(
            LOGIN,
            Some(json!({"u": "u1", "p": "pw"})),
            &[("cookie", "JWT=garbage")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn users_without_private_key_use_the_configured_secret() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[101001], &[], false).await;
    db.exec("UPDATE \"tblUsers\" SET \"PrivateKey\" = NULL WHERE \"LoginName\" = 'u1'")
        .await;
    let app = TestApp::spawn(&db).await;
    let now = chrono::Utc::now().timestamp();
    let token = keys()
        .sign(
            &Claims {
                username: "u1".into(),
                exp: now + 120,
                orig_iat: now,
                jti: None,
                nbf: None,
                refresh: false,
            },
            None,
        )
        .unwrap();
    let (s, b) = app
        .gql_as(&token, "mutation { verifyToken { payload } }")
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // without a private key the password cannot be checked: login is refused
    let (s, _, _) = login_raw(&app, "u1", "pw").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_token_renews_and_keeps_orig_iat() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let (_, _, b) = login_raw(&app, "u1", "pw").await;
    let token = b["data"]["tokenAuth"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let orig = b["data"]["tokenAuth"]["payload"]["origIat"]
        .as_i64()
        .unwrap();
    let q = "mutation { refreshToken { token payload refreshExpiresIn } }";
    let (s, cookies, b) = app
        .gql_full(q, None, &[("cookie", &format!("JWT={token}"))])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["refreshToken"]["payload"]["origIat"], orig);
    assert!(cookies.iter().any(|c| c.starts_with("JWT=")));
    // an expired token can still be refreshed within the refresh window
    let key = private_key(&db, "u1").await;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        username: "u1".into(),
        exp: now - 60,
        orig_iat: now - 3600,
        jti: None,
        nbf: None,
        refresh: false,
    };
    let expired = keys().sign(&claims, Some(&key)).unwrap();
    let (s, _, b) = app
        .gql_full(
            "mutation($t: String) { refreshToken(token: $t) { token } }",
            Some(json!({"t": expired})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // but not after origIat + 30 days
    let stale = keys()
        .sign(
            &Claims {
                orig_iat: now - 31 * 86_400,
                ..claims
            },
            Some(&key),
        )
        .unwrap();
    let (s, _, b) = app
        .gql_full(
            "mutation($t: String) { refreshToken(token: $t) { token } }",
            Some(json!({"t": stale})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["errors"][0]["message"], "Refresh has expired");
    // a refresh token is not an access token
    let (_, _, b) = login_raw(&app, "u1", "pw").await;
    let refresh = b["data"]["tokenAuth"]["refreshToken"].as_str().unwrap();
    let (s, _) = app.gql_as(refresh, "{ languages { code } }").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn delete_token_cookie_clears_it() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    let token = app.login("u1", "pw").await;
    let (s, cookies, b) = app
        .gql_full(
            "mutation { deleteTokenCookie { deleted } deleteRefreshTokenCookie { deleted } }",
            None,
            &[("cookie", &format!("JWT={token}"))],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["deleteTokenCookie"]["deleted"], true);
    assert_eq!(b["data"]["deleteRefreshTokenCookie"]["deleted"], false);
    let jwt = cookies
        .iter()
        .find(|c| c.starts_with("JWT=;"))
        .expect("cleared cookie");
    assert!(jwt.contains("Max-Age=0"));
}

#[tokio::test]
async fn identity_holds_rights_admin_flag_and_districts() {
    // The visible set is asserted over every family: the demo's are not part of it.
    let db = TestDb::new().await.without_demo_families().await;
    let loc = fixtures::locations(&db, "A").await;
    fixtures::user(
        &db,
        "clerk",
        "pw",
        &[101001, 101002],
        &[loc.district],
        false,
    )
    .await;
    // an ended role-right and an ended district do not count
    db.exec(&format!(
        "UPDATE \"tblRoleRight\" SET \"ValidityTo\" = now() WHERE \"RightID\" = 101002;
         INSERT INTO \"tblUsersDistricts\" (\"UserID\", \"LocationId\", \"ValidityFrom\", \"ValidityTo\", \"AuditUserID\")
         SELECT \"UserID\", {r}, now(), now(), 0 FROM \"tblUsers\" WHERE \"LoginName\" = 'clerk';",
        r = loc.region
    ))
    .await;
    let mut conn = db.conn().await;
    let id = policy_notification::auth::load_identity(&mut conn, "clerk")
        .await
        .unwrap()
        .unwrap();
    assert!(id.has_right(101001));
    assert!(!id.has_right(101002));
    assert!(!id.is_admin);
    assert_eq!(id.districts, vec![loc.district]);
    assert_eq!(id.language, "en");
    // the district predicate selects families of villages under the user's district only
    db.exec(&format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeUUID\", \"FamilyID\", \"LastName\", \"OtherNames\", \"DOB\", \"IsHead\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\")
         VALUES ('00000000-0000-0000-0000-000000000001', nextval(pg_get_serial_sequence('\"tblFamilies\"', 'FamilyID')), 'H', 'H', '1980-01-01', true, false, now(), 0);
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"LocationId\", \"ValidityFrom\", \"AuditUserID\")
         SELECT \"FamilyID\", 'f-in', \"InsureeID\", {v}, now(), 0 FROM \"tblInsuree\";
         INSERT INTO \"tblFamilies\" (\"FamilyUUID\", \"InsureeID\", \"LocationId\", \"ValidityFrom\", \"AuditUserID\")
         SELECT 'f-none', \"InsureeID\", NULL, now(), 0 FROM \"tblInsuree\";",
        v = loc.village
    ))
    .await;
    let other = fixtures::locations(&db, "B").await;
    db.exec(&format!(
        "INSERT INTO \"tblFamilies\" (\"FamilyUUID\", \"InsureeID\", \"LocationId\", \"ValidityFrom\", \"AuditUserID\")
         SELECT 'f-out', \"InsureeID\", {v}, now(), 0 FROM \"tblInsuree\";",
        v = other.village
    ))
    .await;
    #[derive(diesel::QueryableByName)]
    struct Visible {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        uuids: Option<String>,
    }
    // The scope's predicate, with the districts bound.
    let visible = async |conn: &mut diesel_async::AsyncPgConnection,
                         identity: &policy_notification::auth::Identity| {
        use diesel_async::RunQueryDsl;
        let scope = policy_notification::families::Scope::of(identity);
        policy_notification::db::sql::Fragment::sql(
            "SELECT string_agg(f.\"FamilyUUID\", ',' ORDER BY f.\"FamilyUUID\") AS uuids FROM \"tblFamilies\" f WHERE ",
        )
        .with(scope.families_or_true("f"))
        .query()
        .get_result::<Visible>(conn)
        .await
        .unwrap()
        .uuids
    };
    assert_eq!(visible(&mut conn, &id).await.as_deref(), Some("f-in"));
    let admin = policy_notification::auth::Identity {
        is_admin: true,
        ..id.clone()
    };
    assert_eq!(
        visible(&mut conn, &admin).await.as_deref(),
        Some("f-in,f-none,f-out")
    );
    let nobody = policy_notification::auth::Identity {
        districts: vec![],
        ..id
    };
    assert_eq!(visible(&mut conn, &nobody).await, None);
}

#[tokio::test]
async fn core_user_is_created_on_a_newer_openimis_schema_too() {
    let db = TestDb::new().await;
    // (NOT NULL with a default first: openIMIS's own databases already hold users.)
    db.exec(
        "ALTER TABLE \"core_User\" ADD COLUMN \"ValidityFrom\" timestamptz NOT NULL DEFAULT now(); \
         ALTER TABLE \"core_User\" ALTER COLUMN \"ValidityFrom\" DROP DEFAULT",
    )
    .await;
    fixtures::user(&db, "u1", "pw", &[], &[], false).await;
    let app = TestApp::spawn(&db).await;
    app.login("u1", "pw").await;
    assert_eq!(
        db.count("SELECT count(*) FROM \"core_User\" WHERE \"username\" = 'u1' AND \"ValidityFrom\" IS NOT NULL").await,
        1
    );
    // a second login reuses the row
    app.login("u1", "pw").await;
    assert_eq!(
        db.count("SELECT count(*) FROM \"core_User\" WHERE \"username\" = 'u1'")
            .await,
        1
    );
}

/// A login from 127.0.0.`last` with an `X-Forwarded-For` header.
async fn login_via(
    app: &TestApp,
    last: u8,
    forwarded: &str,
    u: &str,
    p: &str,
) -> (StatusCode, serde_json::Value) {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap();
    let resp = client
        .post(app.url("/api/graphql"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded)
        .body(json!({"query": LOGIN, "variables": {"u": u, "p": p}}).to_string())
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let db = TestDb::new().await;
    fixtures::user(&db, "u4", "pw", &[], &[], false).await;
    let app = TestApp::spawn_with(&db, "[service]\ntrusted_proxies = [\"127.0.0.1\"]\n").await;
    // behind the proxy: each client is counted on its own
    for _ in 0..5 {
        login_via(&app, 1, "10.0.0.1", "u4", "bad").await;
    }
    let (s, b) = login_via(&app, 1, "10.0.0.1", "u4", "pw").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(retry_after(&b).is_some(), "{b}");
    assert_eq!(
        login_via(&app, 1, "198.51.100.7, 10.0.0.2", "u4", "pw")
            .await
            .0,
        StatusCode::OK
    );
    // an untrusted peer cannot choose its address
    for i in 0..5 {
        login_via(&app, 9, &format!("10.0.1.{i}"), "u4", "bad").await;
    }
    let (s, b) = login_via(&app, 9, "10.0.1.200", "u4", "pw").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert!(retry_after(&b).is_some(), "{b}");
}
