//! The PDF report's memory bound, measured (docs/report.md, "Scale"): the renderer may hold the
//! finished document, but not the rows — memory must not grow with the number of families beyond
//! what the document itself grows.
//!
//! How: this test binary counts every heap allocation (a global allocator wrapping the system
//! one) and records the peak of live heap bytes. One synthetic region (bench/report/seed.sql) of
//! 4N families in 4 equal districts gives two reports of the same shape: a district (N families)
//! and the region (4N). Both are rendered through `render_pdf_chunked`, the path of the HTTP
//! endpoint (rows read in chunks by a task, sent through a bounded channel, drawn on a blocking
//! thread), with small chunks so that the rows legitimately in flight (at most four chunks) are
//! few compared with 3N. The peak heap above the level before each rendering is compared:
//!
//! * growth = peak(4N) − peak(N) must stay below 2.5 times the growth of the finished PDF plus an
//!   eighth of what the 3N extra rows occupy when held (measured in this process by collecting
//!   them). The legitimate part is the document: krilla keeps the finished pages' chunks, then
//!   serialises them into an output buffer of 1.1 × their size while still holding them — about
//!   2.1 × the PDF's size, as measured here. Holding all rows once (collecting them before drawing,
//!   keeping every page's drawing operations) adds the whole of the rows' size and fails; an
//!   unbounded channel, which fills while the slower renderer draws, adds the rows the renderer
//!   has not reached when the reader finishes (about a third of them in a debug build: enough to
//!   fail, as checked when this test was written).
//! * the peak for 4N stays below an absolute bound.
//!
//! The test also checks that the measurement measures something: the rows' size and the peak
//! must both be well above zero, or the allocator is not counting and nothing is proven.
//! Only this test lives in this binary, so no other test's allocations are counted.
// The counting allocator below wraps the system one: the only unsafe code in the package.
#![allow(unsafe_code)]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use policy_notification::db::Pool;
use policy_notification::report::{self, DistrictScope, PreparedReport, ReportQuery, ReportRow};
use uuid::Uuid;

/// Live heap bytes and their peak since the last reset.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through this allocator).
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The region of bench/report/seed.sql.
const BENCH_REGION: &str = "0be0c000-0000-4000-8000-000000000001";
/// Families per district; the region has four districts.
const N: i32 = 400;
/// Rows per chunk: at most four chunks (100 rows) are in flight, against 3N = 1200 extra rows.
const CHUNK: usize = 25;
/// Absolute bound on the heap the rendering of the 4N region may add (debug build).
const ABSOLUTE: usize = 4 << 20;

/// Peak heap above the level before the rendering, and the PDF's size.
async fn render_peak(pool: &Pool, prepared: PreparedReport) -> (usize, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let pdf = report::render_pdf_chunked(pool.clone(), prepared, CHUNK)
        .await
        .expect("render the PDF");
    assert!(pdf.starts_with(b"%PDF-"));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (peak, pdf.len())
}

/// Heap the report's rows occupy when all are held at once.
async fn rows_held(pool: &Pool, prepared: &PreparedReport) -> (usize, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    let chunks: Vec<Vec<ReportRow>> = prepared
        .rows_chunked(pool.clone(), CHUNK)
        .try_collect()
        .await
        .expect("read the rows");
    let rows: Vec<ReportRow> = chunks.into_iter().flatten().collect();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(base);
    (rows.len(), held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_memory_does_not_grow_with_rows() {
    let db = support::TestDb::new().await;
    db.exec(include_str!("../bench/report/seed.sql")).await;
    db.exec(&format!("SELECT pn_bench_seed({}); ANALYZE", 4 * N))
        .await;
    let district = db
        .scalar(&format!(
            "SELECT d.\"LocationUUID\" FROM \"tblLocations\" d \
             JOIN \"tblLocations\" r ON r.\"LocationId\" = d.\"ParentLocationId\" \
             WHERE d.\"LocationCode\" = 'BD1' AND r.\"LocationUUID\" = '{BENCH_REGION}'"
        ))
        .await
        .expect("district BD1");
    let pool = policy_notification::db::connect_pool(&db.url, 4).unwrap();
    let region = Uuid::parse_str(BENCH_REGION).unwrap();
    let small = report::prepare(
        &pool,
        &ReportQuery::new(None, Some(Uuid::parse_str(&district).unwrap())),
        &DistrictScope::All,
    )
    .await
    .unwrap();
    let large = report::prepare(
        &pool,
        &ReportQuery::new(Some(region), None),
        &DistrictScope::All,
    )
    .await
    .unwrap();
    assert_eq!(small.row_count(), i64::from(N));
    assert_eq!(large.row_count(), i64::from(4 * N));

    let (small_rows, small_held) = rows_held(&pool, &small).await;
    let (large_rows, large_held) = rows_held(&pool, &large).await;
    assert_eq!((small_rows, large_rows), (N as usize, 4 * N as usize));
    let rows_growth = large_held.saturating_sub(small_held);
    // A row holds a dozen strings: far more than 100 bytes. Less means nothing is counted.
    assert!(
        rows_growth > 3 * N as usize * 100,
        "the allocator counts nothing: {rows_growth} bytes for {} rows",
        3 * N
    );

    let started = std::time::Instant::now();
    let (small_peak, small_pdf) = render_peak(&pool, small).await;
    let (large_peak, large_pdf) = render_peak(&pool, large).await;
    let growth = large_peak.saturating_sub(small_peak);
    let pdf_growth = large_pdf.saturating_sub(small_pdf);
    let allowed = pdf_growth * 5 / 2 + rows_growth / 8;
    eprintln!(
        "peak heap while rendering: {small_peak} B for {N} families ({small_pdf} B of PDF), \
         {large_peak} B for {} ({large_pdf} B of PDF); growth {growth} B, allowed {allowed} B \
         (PDF growth {pdf_growth} B; the {} extra rows held: {rows_growth} B); {:?}",
        4 * N,
        3 * N,
        started.elapsed()
    );
    assert!(
        small_peak > small_pdf,
        "the peak must at least count the finished PDF: {small_peak} B < {small_pdf} B"
    );
    assert!(
        growth < allowed,
        "the PDF rendering's memory grows with the rows: {growth} B more for {} more rows, \
         allowed {allowed} B (2.5 × PDF growth {pdf_growth} B + an eighth of the rows' \
         {rows_growth} B)",
        3 * N
    );
    assert!(
        large_peak < ABSOLUTE,
        "rendering {} families took {large_peak} B of heap (bound {ABSOLUTE} B)",
        4 * N
    );
}
