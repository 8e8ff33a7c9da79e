//! The communication-by-notification report: its data (SQL, read in chunks) and its renderings
//! (PDF, CSV, JSON). Nothing here knows HTTP or GraphQL.

pub mod csv;
pub mod data;
pub mod filter_json;
pub mod pdf;

use futures::{Stream, StreamExt, TryStreamExt};

pub use data::{
    DistrictScope, ModeCounts, PreparedReport, ReportError, ReportHeader, ReportQuery, ReportRow,
    prepare,
};

use crate::db::Pool;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A4 landscape PDF (the default).
    Pdf,
    /// CSV, one line per family.
    Csv,
    /// JSON: header, counts and rows.
    Json,
}

impl Format {
    /// The format for a `format` parameter value.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Some(Format::Pdf),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// Renders the PDF: rows are read in chunks by an async task and drawn on a blocking thread as
/// they arrive, so at most a few chunks of rows are in memory besides the document.
pub async fn render_pdf(pool: Pool, report: PreparedReport) -> Result<Vec<u8>, ReportError> {
    render_pdf_chunked(pool, report, data::CHUNK).await
}

/// [`render_pdf`] with chunks of at most `chunk` rows: at most four chunks are in memory at once
/// (two in the channel, one being drawn, one being read). `tests/report_memory.rs` uses small
/// chunks to check that the memory does not grow with the number of rows.
pub async fn render_pdf_chunked(
    pool: Pool,
    report: PreparedReport,
    chunk: usize,
) -> Result<Vec<u8>, ReportError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<ReportRow>, ReportError>>(2);
    let rows = report.rows_chunked(pool, chunk);
    let producer = tokio::spawn(async move {
        let mut rows = std::pin::pin!(rows);
        while let Some(chunk) = rows.next().await {
            let stop = chunk.is_err();
            if tx.send(chunk).await.is_err() || stop {
                break;
            }
        }
    });
    let header = report.header.clone();
    let counts = report.counts;
    let villages = report.villages.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let iter = std::iter::from_fn(move || rx.blocking_recv()).flat_map(|chunk| {
            let items: Box<dyn Iterator<Item = Result<ReportRow, ReportError>>> = match chunk {
                Ok(rows) => Box::new(rows.into_iter().map(Ok)),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            items
        });
        pdf::render(&header, &counts, &villages, iter)
    })
    .await
    .map_err(|e| ReportError::Render(e.to_string()));
    producer.abort();
    rendered?
}

/// The CSV text, as a stream of pieces (the header line, then a piece per chunk of rows).
pub fn csv_stream(
    pool: Pool,
    report: &PreparedReport,
) -> impl Stream<Item = Result<String, ReportError>> + Send + 'static {
    let head = futures::stream::once(async { Ok(csv::header_line()) });
    let body = report.rows(pool).map_ok(|rows| {
        let mut out = String::with_capacity(rows.len() * 96);
        for r in &rows {
            out.push_str(&csv::row_line(r));
        }
        out
    });
    head.chain(body)
}

/// The JSON document `{"header":…, "counts":…, "rowCount":…, "rows":[…]}`, as a stream of pieces.
pub fn json_stream(
    pool: Pool,
    report: &PreparedReport,
) -> impl Stream<Item = Result<String, ReportError>> + Send + 'static {
    let head = format!(
        "{{\"header\":{},\"counts\":{},\"rowCount\":{},\"rows\":[",
        serde_json::to_string(&report.header).unwrap_or_else(|_| "null".into()),
        serde_json::to_string(&report.counts).unwrap_or_else(|_| "null".into()),
        report.row_count()
    );
    let mut first = true;
    let body = report.rows(pool).map(move |chunk| {
        let rows = chunk?;
        let mut out = String::with_capacity(rows.len() * 300);
        for r in &rows {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(
                &serde_json::to_string(r).map_err(|e| ReportError::Render(e.to_string()))?,
            );
        }
        Ok(out)
    });
    futures::stream::once(async move { Ok(head) })
        .chain(body)
        .chain(futures::stream::once(async { Ok("]}".to_string()) }))
}
