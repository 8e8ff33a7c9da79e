//! openIMIS's own tokens under the gateway route (issue 16): RS256 tokens signed the way openIMIS
//! signs them when its RSA key files exist (a key pair made with the `openssl` commands openIMIS's
//! README gives; the token signed with `openssl dgst -sha256 -sign`, not with our library), and
//! HS256 with the shared secret; as a Bearer header and as the frontend's `JWT` cookie, on
//! `/api/policy_notification/graphql` and the report.
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestDb;
use support::app::{TEST_JWT_SECRET, TestApp};
use support::fixtures;

const GATEWAY_GRAPHQL: &str = "/api/policy_notification/graphql";
const REPORT: &str = "/api/policy_notification/communication_by_notification_report/";
const QUERY: &str = "{ familyNotification(first: 1) { totalCount } }";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn openssl(args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl command (package openssl)");
    assert!(status.success(), "openssl {args:?}");
}

/// An RSA key pair as openIMIS's README makes it (`genpkey`, then `rsa -pubout`), in a fresh folder.
fn key_pair(tag: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("pn-openimis-tokens-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("jwt_private_key.pem");
    let public = dir.join("jwt_public_key.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        private.to_str().unwrap(),
    ]);
    openssl(&[
        "rsa",
        "-pubout",
        "-in",
        private.to_str().unwrap(),
        "-out",
        public.to_str().unwrap(),
    ]);
    (private, public)
}

/// The claims openIMIS puts in a token (graphql_jwt's payload, then `jti` and `nbf` added by
/// `core.jwt.jwt_encode_user_key`).
fn openimis_claims(username: &str, exp_in: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"username": username, "exp": now + exp_in, "origIat": now,
           "jti": uuid::Uuid::new_v4().to_string(), "nbf": now})
}

/// A token signed RS256 with `private` (PyJWT's header: alg, typ).
fn rs256(private: &Path, claims: &Value) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(br#"{"alg": "RS256", "typ": "JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", private.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    format!("{signing_input}.{}", b64(&out.stdout))
}

async fn gateway(app: &TestApp, header: Option<&str>, cookie: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(GATEWAY_GRAPHQL))
        .header("content-type", "application/json")
        .body(json!({ "query": QUERY }).to_string());
    if let Some(t) = header {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(t) = cookie {
        req = req.header("cookie", format!("JWT={t}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn report_status(app: &TestApp, cookie: &str) -> StatusCode {
    app.client
        .get(format!("{}?format=json", app.url(REPORT)))
        .header("cookie", format!("JWT={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// A user openIMIS signs with its server key (no `PrivateKey` of its own), holding the family
/// and report rights.
async fn setup(toml: &str) -> (TestDb, TestApp) {
    let db = TestDb::new().await;
    fixtures::user(&db, "oimuser", "pw", &[101001, 131224], &[], true).await;
    db.exec("UPDATE \"tblUsers\" SET \"PrivateKey\" = NULL WHERE \"LoginName\" = 'oimuser'")
        .await;
    let app = TestApp::spawn_with(&db, toml).await;
    (db, app)
}

#[tokio::test]
async fn openimis_rs256_tokens_work_as_header_and_cookie() {
    let (private, public) = key_pair("ok");
    let toml = format!(
        "[service]\njwt_public_key_file = {:?}\n",
        public.to_str().unwrap()
    );
    let (_db, app) = setup(&toml).await;
    let token = rs256(&private, &openimis_claims("oimuser", 300));
    let (status, body) = gateway(&app, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["familyNotification"]["totalCount"].is_number(),
        "{body}"
    );
    let (status, body) = gateway(&app, None, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    // The report authenticated by the same cookie (no district given: the right and the caller
    // are checked first; what is answered then is the report's own validation, not 401/403).
    let status = report_status(&app, &token).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(status, StatusCode::FORBIDDEN);

    // Expired, signed by another key, or an unsigned token: refused with openIMIS's messages.
    let expired = rs256(&private, &openimis_claims("oimuser", -10));
    let (status, body) = gateway(&app, Some(&expired), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["errors"][0]["message"], "Signature has expired",
        "{body}"
    );
    let (other_private, _) = key_pair("other");
    let forged = rs256(&other_private, &openimis_claims("oimuser", 300));
    let (status, body) = gateway(&app, None, Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(report_status(&app, &forged).await, StatusCode::UNAUTHORIZED);
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg": "none", "typ": "JWT"}"#),
        b64(openimis_claims("oimuser", 300).to_string().as_bytes())
    );
    let (status, _) = gateway(&app, Some(&unsigned), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // HS256 with the shared secret keeps working beside RS256.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &openimis_claims("oimuser", 300),
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let (status, body) = gateway(&app, None, Some(&hs)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    // HS256 signed with the public key's text as the secret (algorithm confusion): refused.
    let pem = std::fs::read_to_string(&public).unwrap();
    let confused = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &openimis_claims("oimuser", 300),
        &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
    )
    .unwrap();
    let (status, _) = gateway(&app, Some(&confused), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let _ = std::fs::remove_dir_all(private.parent().unwrap());
    let _ = std::fs::remove_dir_all(other_private.parent().unwrap());
}

#[tokio::test]
async fn rs256_is_refused_without_a_configured_key() {
    let (private, _) = key_pair("nokey");
    let (_db, app) = setup("").await;
    let token = rs256(&private, &openimis_claims("oimuser", 300));
    let (status, _) = gateway(&app, Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let _ = std::fs::remove_dir_all(private.parent().unwrap());
}

#[tokio::test]
async fn a_bad_public_key_file_stops_start_up_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("pn-openimis-badkey-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("key.pem");
    std::fs::write(&file, "not a key").unwrap();
    let sources = policy_notification::config::ConfigSources::from_toml(&format!(
        "[service]\njwt_public_key_file = {:?}\n",
        file.to_str().unwrap()
    ))
    .unwrap();
    let err = sources.resolve().unwrap_err().to_string();
    assert!(err.contains("jwt_public_key_file"), "{err}");
    assert!(err.contains("not an RSA public key"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
