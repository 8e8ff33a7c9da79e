//! Load scenario (ignored by default): a sweep over many policies with a share of them due,
//! against a fast local fake eGA gateway. Sizes from `PN_BENCH_POLICIES` (default 1,000,000)
//! and `PN_BENCH_DUE` (default 100,000); prints wall time, messages per second and peak memory.
//! Run: `cargo test --release --test sender_bench -- --ignored --nocapture`.

mod sender_common;
mod support;

use std::sync::Arc;
use std::time::Instant;

use policy_notification::notification::sender::SweepOptions;
use sender_common::*;

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
    let db = sender_db().await;
    // The fake gateway only counts (keeps nothing per request).
    let fake = FakeEga::start_with(Mode::Accept, Keep::default()).await;

    let t = Instant::now();
    bulk_policies(&db, families, policies, due, 0).await;
    let setup = t.elapsed().as_secs_f64();
    let toml = format!(
        "[service]\nsend_concurrency = 16\npool_size = 24\n\n{ALL_EVENTS}\n{}",
        fake.provider_toml(30)
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
        fake.count(),
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
    assert_eq!(sent as usize, due);
    assert_eq!(fake.count(), due);
}
