//! The service's pages in headless Chromium with the network off (tests/support/browser.rs):
//! GraphiQL runs a query through its own UI with every asset served by the service, and the
//! sending dashboard is used as an operator would (log in, read today's sends, settle an unknown
//! outcome), with screenshots for a person to look at (docs/dashboard.md).
//!
//! Runs on our own ground only (.config/nextest.toml): what the pages show comes from queries
//! that tests/dashboard_http.rs and tests/api_graphql.rs check on every ground; here only the
//! browser side is tested, which does not depend on the database's era.

#[path = "support/browser.rs"]
mod browser;
mod sender_common;
mod support;

use browser::{Browser, screenshot_dir};
use policy_notification::notification::sender::SweepOptions;
use policy_notification::seed::{self, SeedOptions};
use sender_common::*;
use serde_json::{Value, json};
use support::app::TestApp;
use support::{TestDb, fixtures};

#[tokio::test]
async fn graphiql_runs_a_query_offline() {
    let Some(mut b) = Browser::start("graphiql").await else {
        return;
    };
    let db = TestDb::new().await;
    fixtures::language(&db, "en", "English", Some(1)).await;
    let app = TestApp::spawn(&db).await;
    b.goto(&app.url("/api/graphql")).await;
    // GraphiQL is up when its query editor (CodeMirror) exists.
    b.wait_for(
        "document.querySelector('.graphiql-query-editor .CodeMirror') !== null",
        "GraphiQL's query editor",
    )
    .await;
    b.eval(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror\
         .setValue('{ languages { code name } }')",
    )
    .await;
    b.click(".graphiql-execute-button").await;
    let answer = b
        .wait_for(
            "(() => { const v = document.querySelector('.graphiql-response .CodeMirror')\
             .CodeMirror.getValue(); return v.includes('languages') ? v : null; })()",
            "the query's result in GraphiQL's response pane",
        )
        .await;
    let answer: Value = serde_json::from_str(answer.as_str().unwrap()).unwrap();
    assert_eq!(
        answer,
        json!({"data": {"languages": [{"code": "en", "name": "English"}]}})
    );
    // Everything came from the service: its own scripts, and nothing from anywhere else.
    let outside = b.requests_outside(&app.addr.to_string());
    assert!(outside.is_empty(), "requests left 127.0.0.1: {outside:?}");
    for asset in [
        "react-18.3.1",
        "react-dom-18.3.1",
        "graphiql-4.1.2.min.js",
        "graphiql-4.1.2.min.css",
    ] {
        assert!(
            b.requests.iter().any(|u| u.contains(asset)),
            "the page did not load {asset}: {:?}",
            b.requests
        );
    }
}

#[tokio::test]
async fn an_operator_reads_todays_sends_and_settles_an_unknown_outcome() {
    let Some(mut b) = Browser::start("dashboard").await else {
        return;
    };
    let db = sender_db().await;
    let texts = TempDir::new();
    let fake = FakeEga::start(Mode::Hang).await;
    // One message whose gateway never answers: an unknown outcome waiting for an operator.
    product(&db, 1, "P1", None).await;
    family(&db, 1, Some("0712345678"), Some(true), "en").await;
    let s = sender(
        &db,
        settings(&format!("{ALL_EVENTS}\n{}", fake.provider_toml(1))),
    );
    let today = s.today();
    policy(&db, &Pol::new(1, 1, 1, today - chrono::Duration::days(1))).await;
    let first = s.sweep(SweepOptions::default()).await.unwrap();
    assert_eq!(first.total("unknown"), 1, "{:?}", first.counts);
    // The demo data for today, and the demo's sweep through the text provider.
    let mut opts = SeedOptions::new(today);
    opts.families = 60;
    opts.force = true;
    seed::seed(&db.url, &opts, &indicatif::ProgressBar::hidden())
        .await
        .unwrap();
    let toml = text_toml(&texts.0);
    let demo = sender(&db, settings(&toml))
        .sweep(SweepOptions::default())
        .await
        .unwrap();
    let sent = demo.total("sent");
    assert!(sent > 0, "the demo sweep sent nothing: {:?}", demo.counts);

    let app = TestApp::spawn_with(&db, &format!("{toml}\n{}", fake.provider_toml(1))).await;
    fixtures::user(&db, "operator", "Secret1!", &[131224], &[], true).await;
    let base = app.url("/api/policy_notification/dashboard/");

    // Anonymous: the login form.
    b.goto(&base).await;
    b.wait_for(
        "document.querySelector('#login') !== null",
        "the login form",
    )
    .await;
    b.fill("#username", "operator").await;
    b.fill("#password", "Secret1!").await;
    b.click("#login").await;
    let shown = b
        .wait_for(
            "document.querySelector('#today-sent') && document.querySelector('#today-sent').textContent",
            "today's sends on the dashboard",
        )
        .await;
    assert_eq!(shown, json!(sent.to_string()), "today's sent messages");
    assert_eq!(
        b.eval("document.querySelector('#today-unknown').textContent")
            .await,
        json!("1")
    );
    assert_eq!(
        b.eval("document.querySelector('#unknown-count').textContent")
            .await,
        json!("1")
    );
    // The sweeps: the demo's (newest) first, with its count of sent messages.
    let sweep_row = b
        .eval("Array.from(document.querySelectorAll('#sweeps-table tbody tr')[0].cells).map(c => c.textContent)")
        .await;
    assert_eq!(sweep_row[2], json!("completed"), "{sweep_row}");
    assert_eq!(sweep_row[4], json!(sent.to_string()), "{sweep_row}");
    let dir = screenshot_dir(&b);
    let desktop = dir.join("dashboard-desktop.png");
    b.screenshot(&desktop).await;
    eprintln!("screenshot: {}", desktop.display());

    // Settle the unknown outcome: marked as sent, recorded with who did it.
    let button = b
        .eval("document.querySelector('#unknown-table button[value=mark_sent]').id")
        .await;
    let attempt: i32 = button
        .as_str()
        .and_then(|s| s.strip_prefix("mark-sent-"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no settle button: {button}"));
    b.click(&format!("#mark-sent-{attempt}")).await;
    let notice = b
        .wait_for(
            "document.querySelector('#notice') && document.querySelector('#notice').textContent",
            "the settlement's notice",
        )
        .await;
    assert_eq!(notice, json!(format!("Attempt {attempt} marked as sent.")));
    assert_eq!(
        b.eval("document.querySelector('#unknown-count').textContent")
            .await,
        json!("0")
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"tblIndicationOfPolicyNotificationsDetails\" WHERE id = {attempt} AND \"Status\" = 1"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM pn_notification_settlement WHERE detail_id = {attempt} \
             AND settled_by = 'operator' AND settlement = 'mark_sent'"
        ))
        .await,
        1
    );

    // On a phone: one column, nothing wider than the screen.
    b.viewport(390, 844, true).await;
    b.goto(&base).await;
    b.wait_for(
        "document.querySelector('#today-sent') !== null",
        "the dashboard on a phone",
    )
    .await;
    let overflow = b
        .eval("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert_eq!(
        overflow,
        json!(0),
        "the page is wider than a phone's screen"
    );
    let phone = dir.join("dashboard-phone.png");
    b.screenshot(&phone).await;
    eprintln!("screenshot: {}", phone.display());

    let outside = b.requests_outside(&app.addr.to_string());
    assert!(outside.is_empty(), "requests left 127.0.0.1: {outside:?}");
}
