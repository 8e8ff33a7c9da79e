//! The sending dashboard over HTTP (docs/dashboard.md): who may see it, the login and its
//! session cookie, the figures as JSON within the viewer's districts, and settling an unknown
//! outcome with the CSRF token. On every ground (the browser side is tests/browser.rs).

mod sender_common;
mod support;

use policy_notification::notification::sender::SweepOptions;
use reqwest::StatusCode;
use sender_common::*;
use serde_json::Value;
use support::app::{TestApp, encode};
use support::fixtures;

const BASE: &str = "/api/policy_notification/dashboard/";

/// A client that does not follow redirects (to see the 303s and their cookies).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form; the response.
async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> reqwest::Response {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = client()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// Logs in through the dashboard's form; the session cookie (`name=value`).
async fn session(app: &TestApp, user: &str, password: &str) -> String {
    let resp = post_form(
        app,
        &format!("{BASE}login"),
        &[("username", user), ("password", password)],
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login of {user}");
    let set = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    set.split(';').next().unwrap().to_string()
}

/// GETs `path` with a cookie or a Bearer token; status and body.
async fn get(app: &TestApp, path: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = client().get(app.url(path));
    match auth {
        Some(a) if a.contains('=') => req = req.header("cookie", a),
        Some(t) => req = req.header("authorization", format!("Bearer {t}")),
        None => {}
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

async fn figure(app: &TestApp, name: &str, auth: &str) -> Value {
    let (status, body) = get(app, &format!("{BASE}{name}.json"), Some(auth)).await;
    assert_eq!(status, StatusCode::OK, "{name}.json: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["figure"], name);
    v["data"].clone()
}

/// The CSRF token of the page's forms.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {page}"));
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn anonymous_and_unprivileged_callers_are_refused() {
    let db = support::TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    fixtures::user(&db, "clerk", "Secret1!", &[101001], &[], false).await;
    let clerk = app.login("clerk", "Secret1!").await;

    let (status, page) = get(&app, BASE, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"login\""), "{page}");
    assert!(page.contains("name=\"viewport\""), "{page}");
    let (status, body) = get(&app, &format!("{BASE}messages.json"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("UNAUTHENTICATED"), "{body}");

    let (status, page) = get(&app, BASE, Some(&clerk)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("clerk"), "{page}");
    for name in [
        "messages",
        "unknown",
        "sweeps",
        "providers",
        "consent",
        "follower",
    ] {
        let (status, body) = get(&app, &format!("{BASE}{name}.json"), Some(&clerk)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        assert!(body.contains("FORBIDDEN"), "{body}");
    }
    let (status, body) = get(&app, &format!("{BASE}nothing.json"), Some(&clerk)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body.contains("messages.json"),
        "the error lists the figures: {body}"
    );
}

#[tokio::test]
async fn the_login_sets_a_strict_http_only_session_and_is_throttled() {
    let db = support::TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    fixtures::user(&db, "ops", "Secret1!", &[131224], &[], false).await;

    let resp = post_form(
        &app,
        &format!("{BASE}login"),
        &[("username", "ops"), ("password", "Secret1!")],
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], BASE);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "pn_dashboard=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/policy_notification/dashboard",
    ] {
        assert!(set.contains(part), "{part} missing from {set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let (status, page) = get(&app, BASE, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Log out") && page.contains("id=\"messages\""),
        "{page}"
    );

    // Logging out needs the CSRF token too, and ends the session cookie.
    let resp = post_form(
        &app,
        &format!("{BASE}logout"),
        &[("csrf", "x")],
        Some(&cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = post_form(
        &app,
        &format!("{BASE}logout"),
        &[("csrf", &csrf_of(&page))],
        Some(&cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    // Wrong passwords: refused, then slowed down as the API's login is (a wait, Retry-After),
    // and during the wait even the right password is turned away.
    let mut throttled = None;
    for _ in 0..12 {
        let resp = post_form(
            &app,
            &format!("{BASE}login"),
            &[("username", "ops"), ("password", "wrong")],
            None,
        )
        .await;
        match resp.status() {
            StatusCode::UNAUTHORIZED => continue,
            StatusCode::TOO_MANY_REQUESTS => {
                throttled = Some(resp.headers()["retry-after"].to_str().unwrap().to_string());
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let wait: i64 = throttled.expect("never throttled").parse().unwrap();
    assert!(wait >= 1);
    let resp = post_form(
        &app,
        &format!("{BASE}login"),
        &[("username", "ops"), ("password", "Secret1!")],
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = resp.text().await.unwrap();
    assert!(page.contains("try again in"), "{page}");
}

#[tokio::test]
async fn the_figures_as_json_after_a_sweep_within_the_viewers_districts() {
    let db = sender_db().await;
    let texts = TempDir::new();
    let north = fixtures::locations(&db, "DN").await;
    let south = fixtures::locations(&db, "DS").await;
    product(&db, 1, "P1", None).await;
    // North: one family approved with a phone (mode 1), one with neither (mode 4); south: one
    // approved with a phone.
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    family(&db, 2, None, Some(false), "en").await;
    family(&db, 3, Some("0712345679"), Some(true), "en").await;
    for (f, village) in [(1, north.village), (2, north.village), (3, south.village)] {
        db.exec(&format!(
            "UPDATE \"tblFamilies\" SET \"LocationId\" = {village} WHERE \"FamilyID\" = {}",
            id(f)
        ))
        .await;
    }
    let toml = text_toml(&texts.0);
    let s = sender(&db, settings(&toml));
    let today = s.today();
    for f in [1, 3] {
        policy(&db, &Pol::new(f, f, 1, today - chrono::Duration::days(1))).await;
    }
    let report = s.sweep(SweepOptions::default()).await.unwrap();
    assert_eq!(report.total("sent"), 2, "{:?}", report.counts);

    let app = TestApp::spawn_with(&db, &toml).await;
    fixtures::user(&db, "admin", "Secret1!", &[], &[], true).await;
    fixtures::user(
        &db,
        "north",
        "Secret1!",
        &[131224],
        &[north.district],
        false,
    )
    .await;
    let admin = app.login("admin", "Secret1!").await;
    let north_user = session(&app, "north", "Secret1!").await;

    let sent_today = |v: &Value| -> i64 {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["day"] == today.to_string() && r["outcome"] == "sent")
            .map(|r| r["count"].as_i64().unwrap())
            .sum()
    };
    // An administrator sees both sends; the north's operator the north's one.
    let all = figure(&app, "messages", &admin).await;
    assert_eq!(sent_today(&all), 2, "{all}");
    assert_eq!(all["days"], 30);
    assert_eq!(sent_today(&figure(&app, "messages", &north_user).await), 1);

    let sweeps = figure(&app, "sweeps", &north_user).await;
    let last = &sweeps["rows"][0];
    assert_eq!(last["outcome"], "completed", "{sweeps}");
    assert_eq!(last["as_of"], today.to_string());
    assert!(last["seconds"].as_f64().unwrap() >= 0.0);
    assert!(last["finished_at"].is_string());
    let sent: i64 = last["counts"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|o| o["sent"].as_i64())
        .sum();
    assert_eq!(sent, 2, "{last}");

    let providers = figure(&app, "providers", &admin).await;
    assert_eq!(providers["rows"][0]["provider"], "TextNotificationProvider");
    assert_eq!(providers["rows"][0]["status"], "ok", "{providers}");
    assert_eq!(providers["rows"][0]["sent"], 2);

    let consent = figure(&app, "consent", &north_user).await;
    let rows = consent["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the north's district: {consent}");
    assert_eq!(rows[0]["districtId"], north.district);
    let modes: Vec<i64> = rows[0]["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["families"].as_i64().unwrap())
        .collect();
    assert_eq!(modes, vec![2, 1, 0, 0, 1], "{consent}");
    let (_, page) = get(&app, BASE, Some(&north_user)).await;
    assert!(page.contains("id=\"today-sent\">1<"), "{page}");
}

#[tokio::test]
async fn settling_needs_the_csrf_token_and_a_visible_family() {
    let db = sender_db().await;
    let fake = FakeEga::start(Mode::Hang).await;
    let north = fixtures::locations(&db, "SN").await;
    let south = fixtures::locations(&db, "SS").await;
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    db.exec(&format!(
        "UPDATE \"tblFamilies\" SET \"LocationId\" = {} WHERE \"FamilyID\" = {}",
        north.village,
        id(1)
    ))
    .await;
    let toml = format!("{ALL_EVENTS}\n{}", fake.provider_toml(1));
    let s = sender(&db, settings(&toml));
    policy(
        &db,
        &Pol::new(1, 1, 1, s.today() - chrono::Duration::days(1)),
    )
    .await;
    let r = s.sweep(SweepOptions::default()).await.unwrap();
    assert_eq!(r.total("unknown"), 1);
    let attempt = db
        .count("SELECT id FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE \"Status\" = 6")
        .await;

    let app = TestApp::spawn_with(&db, &toml).await;
    fixtures::user(
        &db,
        "north",
        "Secret1!",
        &[131224],
        &[north.district],
        false,
    )
    .await;
    fixtures::user(
        &db,
        "south",
        "Secret1!",
        &[131224],
        &[south.district],
        false,
    )
    .await;
    let north_user = session(&app, "north", "Secret1!").await;
    let south_user = session(&app, "south", "Secret1!").await;
    let status_of = || async {
        db.count(&format!(
            "SELECT \"Status\" FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE id = {attempt}"
        ))
        .await
    };
    let attempt_text = attempt.to_string();
    let settle = |cookie: String, csrf: String| {
        let attempt_text = attempt_text.clone();
        let app = &app;
        async move {
            post_form(
                app,
                &format!("{BASE}settle"),
                &[
                    ("csrf", csrf.as_str()),
                    ("attempt_id", attempt_text.as_str()),
                    ("settlement", "mark_sent"),
                ],
                Some(&cookie),
            )
            .await
        }
    };

    let (_, page) = get(&app, BASE, Some(&north_user)).await;
    assert!(
        page.contains(&format!("id=\"mark-sent-{attempt}\"")),
        "{page}"
    );
    let north_csrf = csrf_of(&page);
    // Without the token, or with another session's: refused, nothing changed.
    let (_, south_page) = get(&app, BASE, Some(&south_user)).await;
    assert!(
        !south_page.contains(&format!("mark-sent-{attempt}")),
        "south sees no north attempt"
    );
    let south_csrf = csrf_of(&south_page);
    for csrf in [String::new(), south_csrf.clone(), "0".repeat(40)] {
        let resp = settle(north_user.clone(), csrf).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(resp.text().await.unwrap().contains("CSRF"));
    }
    assert_eq!(status_of().await, 6);
    // Another district's operator cannot settle it, even with a valid token.
    let resp = settle(south_user.clone(), south_csrf).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of().await, 6);
    // Bad input names the field.
    let resp = post_form(
        &app,
        &format!("{BASE}settle"),
        &[
            ("csrf", north_csrf.as_str()),
            ("attempt_id", "x"),
            ("settlement", "mark_sent"),
        ],
        Some(&north_user),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("attempt_id"));
    // The north's operator with the page's token: settled, and back to the dashboard.
    let resp = settle(north_user.clone(), north_csrf).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        format!("{BASE}?settled={attempt}&how=mark_sent#unknown")
    );
    assert_eq!(status_of().await, 1);
    let unknown = figure(&app, "unknown", &north_user).await;
    assert_eq!(unknown["count"], 0, "{unknown}");
}
