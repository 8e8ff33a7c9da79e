//! A fast local fake of the eGA SMS gateway for the sweep benchmark: answers every POST with
//! HTTP 200 `{"error":false,...}` and counts the requests it got. Listens on 127.0.0.1 only.
//!
//! Usage: `fake_ega --port 18099` (prints `listening 127.0.0.1:PORT`); on SIGTERM/Ctrl-C it
//! prints `requests N` and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::any;

async fn answer(
    State(count): State<Arc<AtomicU64>>,
    _body: axum::body::Bytes,
) -> impl IntoResponse {
    count.fetch_add(1, Ordering::Relaxed);
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":false,"message":"Message Submitted Successfully","data":[]}"#,
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(18099);
    let count = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .fallback(any(answer))
        .with_state(count.clone());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening {addr}");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    println!("requests {}", count.load(Ordering::Relaxed));
    Ok(())
}
