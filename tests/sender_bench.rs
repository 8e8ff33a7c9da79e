//! Load scenario (ignored by default): a sweep over many policies with a share of them due,
//! against a fast local fake eGA gateway. Sizes from `PN_BENCH_POLICIES` (default 1,000,000)
//! and `PN_BENCH_DUE` (default 100,000); prints wall time, messages per second and peak memory.
//! Run: `cargo test --release --test sender_bench -- --ignored --nocapture`.

mod sender_common;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::routing::post;
use policy_notification::notification::sender::SweepOptions;
use sender_common::*;
use support::TestDb;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "load scenario; run explicitly"]
async fn sweep_load() {
    let policies = env_usize("PN_BENCH_POLICIES", 1_000_000);
    let due = env_usize("PN_BENCH_DUE", 100_000).min(policies);
    let families = due.max(1);
    let db = TestDb::new().await;
    // A counting fake gateway (keeps nothing per request).
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = count.clone();
    let app = Router::new().route(
        "/api/quick_sms",
        post(move |_body: String| {
            let c = c2.clone();
            async move {
                c.fetch_add(1, Ordering::Relaxed);
                r#"{"error":false}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let t = Instant::now();
    product(&db, 1, "P1", None).await;
    db.exec(&format!(
        "INSERT INTO \"tblInsuree\" (\"InsureeID\", \"InsureeUUID\", \"FamilyID\", \"CHFID\", \"LastName\", \
         \"OtherNames\", \"IsHead\", \"Phone\", \"CardIssued\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT g, gen_random_uuid()::text, g, 'CHF' || g, 'Juma', 'Amina', true, '07' || lpad(g::text, 8, '0'), false, now(), 1 \
         FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblFamilies\" (\"FamilyID\", \"FamilyUUID\", \"InsureeID\", \"ValidityFrom\", \"AuditUserID\") \
         SELECT g, gen_random_uuid()::text, g, now(), 1 FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblFamilySMS\" (\"FamilyID\", \"ApprovalOfSMS\", \"LanguageOfSMS\", \"ValidityFrom\") \
         SELECT g, true, CASE WHEN g % 2 = 0 THEN 'fr' ELSE 'en' END, now() FROM generate_series(1, {families}) g; \
         INSERT INTO \"tblPolicy\" (\"PolicyID\", \"PolicyUUID\", \"FamilyID\", \"EnrollDate\", \"StartDate\", \
         \"EffectiveDate\", \"ExpiryDate\", \"PolicyStatus\", \"PolicyValue\", \"ProdID\", \"PolicyStage\", \
         \"ValidityFrom\", \"AuditUserID\") \
         SELECT g, gen_random_uuid()::text, (g - 1) % {families} + 1, d, d, d, d + 364, 2, 10000, 1, 'N', \
           d + time '10:00', 1 \
         FROM generate_series(1, {policies}) g, \
              LATERAL (SELECT CASE WHEN g <= {due} THEN date '2026-06-15' \
                                   ELSE date '2024-01-01' + (g % 300) END AS d) x; \
         INSERT INTO \"tblIndicationOfPolicyNotifications\" (\"PolicyID\", \"ValidityFrom\", \
           \"NotificationOnActivationSent\", \"NotificationOnRenewalSent\") \
         SELECT g, now(), '0001-01-01', '0001-01-01' FROM generate_series(1, {policies}) g; \
         ANALYZE;"
    ))
    .await;
    let setup = t.elapsed().as_secs_f64();
    let toml = format!(
        "[service]\nsend_concurrency = 16\npool_size = 24\n\n{ALL_EVENTS}\n{}",
        FakeEga {
            url: url.clone(),
            received: Default::default(),
            mode: Arc::new(std::sync::Mutex::new(Mode::Accept)),
            notify: Default::default(),
        }
        .provider_toml(30)
    );
    let s = policy_notification::notification::sender::Sender::new(
        policy_notification::db::connect_pool(&db.url, 24).unwrap(),
        Arc::new(settings(&toml)),
    )
    .unwrap();
    let rss_before = peak_rss_kib();
    let t = Instant::now();
    let r = s
        .sweep(SweepOptions {
            as_of: Some(d(6, 15)),
            ..Default::default()
        })
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let sent = r.total("sent");
    println!(
        "policies {policies}, due {due}: setup {setup:.1} s; sweep {secs:.1} s, sent {sent} ({:.0} msg/s), \
         gateway requests {}, peak RSS {} MiB (before the sweep {} MiB)",
        sent as f64 / secs,
        count.load(Ordering::Relaxed),
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
    assert_eq!(sent as usize, due);
    assert_eq!(count.load(Ordering::Relaxed), due);
}
