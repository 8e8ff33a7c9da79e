//! Gateways over real HTTP against a fake eGA server: the signed request byte for byte, failure
//! answers, timeouts (unknown outcome, no failover), failover on a definite failure; the text-file
//! provider's numbering; provider names from configuration.

mod sender_common;
mod support;

use chrono::TimeZone;
use policy_notification::notification::gateway::ega::{EgaGateway, sign};
use policy_notification::notification::gateway::text_file::TextFileGateway;
use policy_notification::notification::gateway::{Gateway, GatewayChain, SendOutcome};
use sender_common::*;

fn chain(toml: &str) -> GatewayChain {
    GatewayChain::from_settings(&settings(toml)).unwrap()
}

#[tokio::test]
async fn ega_request_matches_openimis_byte_for_byte() {
    let fake = FakeEga::start(Mode::Accept).await;
    let s = settings(&fake.provider_toml(5));
    let g = EgaGateway::from_settings(&s.module.providers[0], &s).unwrap();
    let at = chrono::Utc
        .with_ymd_and_hms(2021, 7, 13, 8, 16, 34)
        .unwrap();
    let req = g.build_request("1", "test", at);
    assert_eq!(
        req.body,
        r#"{"data":"{\"message\":\"test\",\"datetime\":\"2021-07-13 11:16:34\",\"sender_id\":\"sender_id\",\"mobile_service_id\":\"service_id\",\"recipients\":\"1\"}","datetime":"2021-07-13 11:16:34"}"#
    );
    assert_eq!(req.url, format!("{}/api/quick_sms", fake.url));
    assert_eq!(
        req.headers,
        vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                "X-Auth-Request-Hash".to_string(),
                "lI/b3Yz3uIByNpQy+D2xcfBK5I9uoPUAE/sqtw1COxw=".to_string()
            ),
            ("X-Auth-Request-Id".to_string(), "test_user_id".to_string()),
            ("X-Auth-Request-Type".to_string(), "api".to_string()),
        ]
    );
}

#[tokio::test]
async fn ega_over_http_with_non_ascii_text() {
    let fake = FakeEga::start(Mode::Accept).await;
    let c = chain(&fake.provider_toml(5));
    let text = "Assuré \"Zoë\" — police renouvelée 😀";
    let r = c.send("255712345678", text).await;
    assert_eq!(r.outcome, SendOutcome::Delivered);
    assert_eq!(r.provider, "eGASMSGateway");
    let got = fake.received.lock().unwrap()[0].clone();
    assert!(got.body.is_ascii(), "ensure_ascii: {}", got.body);
    let outer: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let data = outer["data"].as_str().unwrap();
    assert!(data.starts_with(r#"{"message":"Assur\u00e9 \"Zo\u00eb\" \u2014 police renouvel\u00e9e \ud83d\ude00","datetime":""#), "{data}");
    assert!(data.ends_with(r#","sender_id":"sender_id","mobile_service_id":"service_id","recipients":"255712345678"}"#), "{data}");
    let inner: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(inner["message"], text);
    assert_eq!(inner["datetime"], outer["datetime"]);
    // East Africa Time.
    let sent = chrono::NaiveDateTime::parse_from_str(
        inner["datetime"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    let eat_now = chrono::Utc::now().naive_utc() + chrono::Duration::hours(3);
    assert!((eat_now - sent).num_seconds().abs() < 60);
    assert_eq!(
        got.headers["x-auth-request-hash"].to_str().unwrap(),
        sign("private_key", data)
    );
    assert_eq!(got.headers["x-auth-request-id"], "test_user_id");
    assert_eq!(got.headers["x-auth-request-type"], "api");
    assert_eq!(got.headers["content-type"], "application/json");
}

#[tokio::test]
async fn ega_failure_answers_are_definite_failures() {
    let fake = FakeEga::start(Mode::Refuse).await;
    let c = chain(&fake.provider_toml(5));
    let r = c.send("255712345678", "x").await;
    assert!(
        matches!(&r.outcome, SendOutcome::Failed(m) if m.contains("refused")),
        "{r:?}"
    );
    fake.set(Mode::ServerError);
    let r = c.send("255712345678", "x").await;
    assert!(
        matches!(&r.outcome, SendOutcome::Failed(m) if m.contains("HTTP 500")),
        "{r:?}"
    );
    // Connection refused: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let toml = fake
        .provider_toml(5)
        .replace(&fake.url, &format!("http://127.0.0.1:{port}"));
    let r = chain(&toml).send("255712345678", "x").await;
    assert!(
        matches!(&r.outcome, SendOutcome::Failed(m) if m.contains("connect")),
        "{r:?}"
    );
}

#[tokio::test]
async fn timeout_is_unknown_and_never_fails_over() {
    let fake = FakeEga::start(Mode::Hang).await;
    let dir = TempDir::new();
    let toml = format!(
        "{}\n[policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n",
        fake.provider_toml(1),
        dir.0.display()
    );
    let c = chain(&toml);
    assert_eq!(c.names(), vec!["eGASMSGateway", "TextNotificationProvider"]);
    let r = c.send("255712345678", "x").await;
    assert!(matches!(r.outcome, SendOutcome::Unknown(_)), "{r:?}");
    assert_eq!(r.provider, "eGASMSGateway");
    assert!(
        dir.messages().is_empty(),
        "no failover after an unknown outcome"
    );
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn definite_failure_fails_over_in_configured_order() {
    let fake = FakeEga::start(Mode::ServerError).await;
    let dir = TempDir::new();
    let toml = format!(
        "{}\n[policy_notification.providers.textnotificationPROVIDER]\nDestinationFolder = \"{}\"\n",
        fake.provider_toml(5),
        dir.0.display()
    );
    let r = chain(&toml).send("255712345678", "hello").await;
    assert_eq!(r.outcome, SendOutcome::Delivered);
    assert_eq!(r.provider, "textnotificationPROVIDER");
    assert_eq!(
        dir.messages(),
        vec![(1, "To: 255712345678\n\nhello".to_string())]
    );
    // Text provider first: eGA never called.
    let toml = format!(
        "[policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n{}",
        dir.0.display(),
        fake.provider_toml(5)
    );
    let r = chain(&toml).send("255712345678", "again").await;
    assert_eq!(r.provider, "TextNotificationProvider");
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn unknown_providers_are_skipped_and_none_usable_is_an_error() {
    let dir = TempDir::new();
    let toml = format!(
        "[policy_notification.providers.SomeOtherGateway]\nUrl = \"x\"\n[policy_notification.providers.TextNotificationProvider]\nDestinationFolder = \"{}\"\n",
        dir.0.display()
    );
    assert_eq!(chain(&toml).names(), vec!["TextNotificationProvider"]);
    let only_unknown = "[policy_notification.providers.SomeOtherGateway]\nUrl = \"x\"\n";
    assert!(GatewayChain::from_settings(&settings(only_unknown)).is_err());
    // An eGA entry without its key is a configuration error that names the parameter.
    let bad = "[policy_notification.providers.eGASMSGateway]\nGateUrl = \"http://127.0.0.1:1\"\nSenderId = \"s\"\nServiceId = \"1\"\n";
    let err = GatewayChain::from_settings(&settings(bad))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("PrivateKey"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_files_are_numbered_without_rescanning() {
    let dir = TempDir::new();
    let folder = dir.0.join("nested/out");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("SMSMessage_7.txt"), "old").unwrap();
    std::fs::write(folder.join("notes.txt"), "other").unwrap();
    let g = TextFileGateway::new("TextNotificationProvider", folder.clone()).unwrap();
    assert_eq!(g.send("255700000001", "a").await, SendOutcome::Delivered);
    assert_eq!(g.send("255700000002", "b").await, SendOutcome::Delivered);
    assert!(folder.join("SMSMessage_8.txt").exists());
    assert!(folder.join("SMSMessage_9.txt").exists());
    // A file appearing behind our back is never overwritten.
    std::fs::write(folder.join("SMSMessage_10.txt"), "foreign").unwrap();
    assert_eq!(g.send("255700000003", "c").await, SendOutcome::Delivered);
    assert_eq!(
        std::fs::read_to_string(folder.join("SMSMessage_10.txt")).unwrap(),
        "foreign"
    );
    assert!(
        std::fs::read_to_string(folder.join("SMSMessage_11.txt"))
            .unwrap()
            .ends_with("c")
    );
    // Concurrent sends get distinct files; no temporary file is left.
    let g = std::sync::Arc::new(g);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            g.send("255700000000", &format!("m{i}")).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), SendOutcome::Delivered);
    }
    let names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("SMSMessage_"))
            .count(),
        25
    );
    assert!(!names.iter().any(|n| n.ends_with(".tmp")));
    // A new instance continues after the highest number; a missing folder is created.
    let g2 = TextFileGateway::new("TextNotificationProvider", folder.clone()).unwrap();
    assert_eq!(g2.send("255700000004", "d").await, SendOutcome::Delivered);
    assert!(folder.join("SMSMessage_32.txt").exists());
    let fresh = dir.0.join("created/on/demand");
    let g3 = TextFileGateway::new("TextNotificationProvider", fresh.clone()).unwrap();
    assert_eq!(g3.send("255700000005", "e").await, SendOutcome::Delivered);
    assert!(fresh.join("SMSMessage_1.txt").exists());
}
