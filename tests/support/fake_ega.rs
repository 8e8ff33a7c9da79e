//! The one fake eGA SMS gateway, for the tests (through `tests/sender_common`) and for the
//! benchmarks (the `fake_ega` example, `bench/fake_ega/main.rs`, which bench/run and bench/chaos
//! start). An axum server on 127.0.0.1 that answers every POST, whatever its path, as its
//! [`Mode`] says, counts the requests, and keeps them (in memory, and as JSON lines in a file
//! when asked) unless it only counts.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// How the fake answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// HTTP 200, `error: false`.
    Accept,
    /// HTTP 200, `error: true`.
    Refuse,
    /// HTTP 500.
    ServerError,
    /// Never answers.
    Hang,
    /// Answers `error: false` after 150 ms.
    Slow,
}

impl Mode {
    /// The mode named on the example's command line: `accept`, `refuse`, `500`, `hang`, `slow`.
    pub fn parse(name: &str) -> Option<Mode> {
        Some(match name {
            "accept" => Mode::Accept,
            "refuse" => Mode::Refuse,
            "500" => Mode::ServerError,
            "hang" => Mode::Hang,
            "slow" => Mode::Slow,
            _ => return None,
        })
    }
}

/// A received request.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    /// `(recipients, message)` of an eGA request body (`{"data": "<inner JSON>", …}`), `None`
    /// when the body is not one.
    pub fn recipient_and_text(&self) -> Option<(String, String)> {
        let outer: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        let inner: serde_json::Value = serde_json::from_str(outer["data"].as_str()?).ok()?;
        Some((
            inner["recipients"].as_str()?.to_string(),
            inner["message"].as_str()?.to_string(),
        ))
    }
}

/// What the fake keeps of each request besides counting it.
#[derive(Clone, Debug, Default)]
pub struct Keep {
    /// Every request in memory ([`FakeEga::received`]); off for load runs.
    pub requests: bool,
    /// One JSON line `{"recipients", "message"}` per request appended to this file.
    pub log: Option<std::path::PathBuf>,
    /// Extra delay before every answer.
    pub delay: Duration,
}

/// The fake eGA gateway.
#[derive(Clone)]
pub struct FakeEga {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub mode: Arc<Mutex<Mode>>,
    pub notify: Arc<tokio::sync::Notify>,
    requests: Arc<AtomicUsize>,
    keep: Arc<Keep>,
    log: Arc<Mutex<Option<std::fs::File>>>,
}

async fn handle(
    State(fake): State<FakeEga>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    fake.requests.fetch_add(1, Ordering::Relaxed);
    let request = Received {
        path: uri.path().to_string(),
        headers,
        body,
    };
    if let Some(file) = fake.log.lock().unwrap().as_mut() {
        let (recipients, message) = request
            .recipient_and_text()
            .unwrap_or_else(|| ("?".into(), request.body.clone()));
        let line = serde_json::json!({"recipients": recipients, "message": message});
        // One write per line, so that a reader never sees half of one.
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
    if fake.keep.requests {
        fake.received.lock().unwrap().push(request);
    }
    fake.notify.notify_waiters();
    if !fake.keep.delay.is_zero() {
        tokio::time::sleep(fake.keep.delay).await;
    }
    let mode = *fake.mode.lock().unwrap();
    let (status, body) = match mode {
        Mode::Accept => (
            StatusCode::OK,
            r#"{"error":false,"statusCode":48200,"statusMessage":"Success","data":["Message accepted delivery"]}"#,
        ),
        Mode::Refuse => (
            StatusCode::OK,
            r#"{"error":true,"statusCode":48205,"statusMessage":"Invalid Request","data":null}"#,
        ),
        Mode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "boom"),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (StatusCode::OK, "{}")
        }
        Mode::Slow => {
            tokio::time::sleep(Duration::from_millis(150)).await;
            (StatusCode::OK, r#"{"error":false}"#)
        }
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl FakeEga {
    /// Starts the fake on 127.0.0.1:0, keeping every request in memory.
    pub async fn start(mode: Mode) -> FakeEga {
        let keep = Keep {
            requests: true,
            ..Keep::default()
        };
        FakeEga::start_with(mode, keep).await
    }

    /// Starts the fake on 127.0.0.1:0, keeping what `keep` says.
    pub async fn start_with(mode: Mode, keep: Keep) -> FakeEga {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (fake, app) = FakeEga::app(&listener, mode, keep);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// The fake and its router for `listener` (the caller serves it).
    pub fn app(listener: &tokio::net::TcpListener, mode: Mode, keep: Keep) -> (FakeEga, Router) {
        let addr = listener.local_addr().unwrap();
        let log = keep.log.as_ref().map(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap_or_else(|e| panic!("the request log {}: {e}", p.display()))
        });
        let fake = FakeEga {
            url: format!("http://{addr}"),
            received: Arc::default(),
            mode: Arc::new(Mutex::new(mode)),
            notify: Arc::default(),
            requests: Arc::default(),
            keep: Arc::new(keep),
            log: Arc::new(Mutex::new(log)),
        };
        let app = Router::new()
            .fallback(post(handle))
            .with_state(fake.clone());
        (fake, app)
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The distinct recipients of the requests kept so far.
    pub fn recipients(&self) -> std::collections::BTreeSet<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.recipient_and_text().unwrap().0)
            .collect()
    }

    /// Sets the answer mode.
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Provider TOML for this fake (timeout in seconds).
    pub fn provider_toml(&self, timeout: u64) -> String {
        format!(
            "[policy_notification.providers.eGASMSGateway]\nGateUrl = \"{}\"\nSmsResource = \"/api/quick_sms\"\n\
             PrivateKey = \"private_key\"\nUserId = \"test_user_id\"\nSenderId = \"sender_id\"\nServiceId = \"service_id\"\n\
             RequestType = \"api\"\nHeaderKeys = \"X-Auth-Request-Hash,X-Auth-Request-Id,X-Auth-Request-Type\"\n\
             HeaderValues = \"PrivateKey,UserId,RequestType\"\ntimeout_seconds = {timeout}\n",
            self.url
        )
    }
}
