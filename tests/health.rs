//! `GET /health`: 200 while the database answers, 503 when it is gone or unreachable.
mod support;

use std::time::{Duration, Instant};

use policy_notification::config::ConfigSources;
use policy_notification::{db, runtime};
use support::TestDb;

/// Serves the application on a free local port against `database_url`; returns its base URL.
async fn start_app(database_url: &str) -> String {
    let mut settings = ConfigSources::default().resolve().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    settings.service.listen = listener.local_addr().unwrap();
    drop(listener);
    let base = format!("http://{}", settings.service.listen);
    let pool = db::connect_pool(database_url, 2).unwrap();
    let state = runtime::app_state(pool, settings, "health-test-secret".to_string().into());
    tokio::spawn(async move {
        runtime::serve(state, std::future::pending()).await.unwrap();
    });
    // Wait until the listener is up.
    let client = reqwest::Client::new();
    let start = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    base
}

async fn health(base: &str) -> (u16, serde_json::Value) {
    let started = Instant::now();
    let response = reqwest::get(format!("{base}/health")).await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "health answers promptly even when the database is down"
    );
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_200_while_the_database_answers_and_503_once_it_refuses_connections() {
    let db = TestDb::new().await;
    let base = start_app(&db.url).await;
    let (status, body) = health(&base).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");

    db.cut_off().await;

    let (status, body) = health(&base).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    // The body never carries connection details.
    assert!(!body.to_string().contains("postgres://"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_when_nothing_listens_on_the_database_port() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let base = start_app(&format!("postgres://postgres:x@127.0.0.1:{port}/openimis")).await;
    let (status, body) = health(&base).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
}
