//! The fake eGA SMS gateway as a program, for bench/run (the sweep benchmark) and bench/chaos:
//! the tests' own fake (`tests/support/fake_ega.rs`) on 127.0.0.1. Listens on 127.0.0.1 only.
//!
//! Usage: `fake_ega [--port 18099] [--mode accept|refuse|500|hang|slow] [--delay-ms N]
//! [--log FILE]` (prints `listening 127.0.0.1:PORT`; `--port 0` takes a free port). It keeps no
//! request in memory; `--log` appends one JSON line `{"recipients", "message"}` per request. On
//! SIGTERM/Ctrl-C it prints `requests N` and exits.

#[path = "../../tests/support/fake_ega.rs"]
mod fake_ega;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use fake_ega::{FakeEga, Keep, Mode};

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = option(&args, "--port")
        .map(|p| p.parse().context("--port: not a port number"))
        .transpose()?
        .unwrap_or(18099);
    let mode = match option(&args, "--mode") {
        None => Mode::Accept,
        Some(m) => Mode::parse(m)
            .with_context(|| format!("--mode {m:?}: not one of accept, refuse, 500, hang, slow"))?,
    };
    let delay = option(&args, "--delay-ms")
        .map(|d| d.parse().context("--delay-ms: not a number"))
        .transpose()?
        .map(Duration::from_millis)
        .unwrap_or_default();
    let keep = Keep {
        requests: false,
        log: option(&args, "--log").map(Into::into),
        delay,
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    let (fake, app) = FakeEga::app(&listener, mode, keep);
    println!("listening {addr}");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("SIGTERM handler")?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    println!("requests {}", fake.count());
    Ok(())
}
