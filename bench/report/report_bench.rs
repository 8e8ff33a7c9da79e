//! Report benchmark: seeds a synthetic region (optional), then produces the report as PDF or CSV
//! into a file through the same code the HTTP endpoint runs (prepare → chunked rows → renderer).
//! Run under `/usr/bin/time -v` for the peak memory; see bench/report/README.md.

use std::io::Write;
use std::time::Instant;

use futures::StreamExt;
use policy_notification::report::{self, DistrictScope, ReportQuery};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = arg("--database-url")
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .ok_or_else(|| anyhow::anyhow!("--database-url or DATABASE_URL is required"))?;
    let format = arg("--format").unwrap_or_else(|| "pdf".into());
    let out = arg("--out").unwrap_or_else(|| format!("/tmp/report_bench.{format}"));
    let region = arg("--region").unwrap_or_else(|| "0be0c000-0000-4000-8000-000000000001".into());
    let pool = policy_notification::db::connect_pool(&url, 4)?;
    if let Some(n) = arg("--seed") {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = pool.get().await?;
        conn.batch_execute(include_str!("seed.sql")).await?;
        let started = Instant::now();
        conn.batch_execute(&format!(
            "SELECT pn_bench_seed({}); ANALYZE",
            n.parse::<i32>()?
        ))
        .await?;
        eprintln!("seeded {n} families in {:?}", started.elapsed());
        return Ok(());
    }
    let query = ReportQuery::new(Some(uuid::Uuid::parse_str(&region)?), None);
    let started = Instant::now();
    let prepared = report::prepare(&pool, &query, &DistrictScope::All).await?;
    let prepared_in = started.elapsed();
    let rows = prepared.row_count();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    match format.as_str() {
        "pdf" => {
            let pdf = report::render_pdf(pool.clone(), prepared).await?;
            file.write_all(&pdf)?;
        }
        "csv" | "json" => {
            let mut stream = if format == "csv" {
                report::csv_stream(pool.clone(), &prepared).boxed()
            } else {
                report::json_stream(pool.clone(), &prepared).boxed()
            };
            while let Some(piece) = stream.next().await {
                file.write_all(piece?.as_bytes())?;
            }
        }
        other => anyhow::bail!("unknown format {other}"),
    }
    file.flush()?;
    let size = std::fs::metadata(&out)?.len();
    println!(
        "{format}: {rows} families, prepare {:.2?}, total {:.2?}, {size} bytes -> {out}",
        prepared_in,
        started.elapsed()
    );
    Ok(())
}
