//! The report's data layer against real PostgreSQL: modes, officer, alternative contact, order,
//! chunked reading, and the PDF/CSV renderings parsed back.
mod support;

use futures::TryStreamExt;
use policy_notification::families::rules::NotificationMode;
use policy_notification::report::{self, DistrictScope, ReportQuery, ReportRow};
use uuid::Uuid;

const FIXTURE: &str = include_str!("fixtures/report.sql");
const R1: &str = "a1000000-0000-0000-0000-000000000001";
const D1: &str = "b1000000-0000-0000-0000-000000000011";
const O1: &str = "e1000000-0000-0000-0000-000000000801";

async fn setup() -> (support::TestDb, policy_notification::db::Pool) {
    let db = support::TestDb::new().await;
    db.exec(FIXTURE).await;
    let pool = policy_notification::db::connect_pool(&db.url, 4).unwrap();
    (db, pool)
}

fn query(region: Option<&str>, district: Option<&str>, mode: i64) -> ReportQuery {
    let mut q = ReportQuery::new(
        region.map(|s| Uuid::parse_str(s).unwrap()),
        district.map(|s| Uuid::parse_str(s).unwrap()),
    );
    q.mode = NotificationMode::from_number(mode).unwrap();
    q
}

async fn rows(
    pool: &policy_notification::db::Pool,
    q: &ReportQuery,
    chunk: usize,
) -> Vec<ReportRow> {
    let prepared = report::prepare(pool, q, &DistrictScope::All).await.unwrap();
    let chunks: Vec<Vec<ReportRow>> = prepared
        .rows_chunked(pool.clone(), chunk)
        .try_collect()
        .await
        .unwrap();
    chunks.into_iter().flatten().collect()
}

fn chfids(rows: &[ReportRow]) -> Vec<&str> {
    rows.iter().map(|r| r.insurance_number.as_str()).collect()
}

#[tokio::test]
async fn modes_order_and_chunks() {
    let (_db, pool) = setup().await;
    let expected: [(i64, &[&str]); 5] = [
        (
            0,
            &["100001", "100002", "100003", "100004", "100005", "100009"],
        ),
        (1, &["100001", "100002"]),
        (2, &["100003"]),
        (3, &["100004", "100009"]),
        (4, &["100005"]),
    ];
    for (mode, want) in expected {
        for chunk in [1, 2, 1000] {
            let got = rows(&pool, &query(Some(R1), None, mode), chunk).await;
            assert_eq!(chfids(&got), want, "mode {mode}, chunk {chunk}");
        }
    }
    let prepared = report::prepare(&pool, &query(Some(R1), None, 3), &DistrictScope::All)
        .await
        .unwrap();
    assert_eq!(prepared.counts.all, 6);
    assert_eq!(prepared.counts.approval_and_phone, 2);
    assert_eq!(prepared.counts.approval_only, 1);
    assert_eq!(prepared.counts.phone_only, 2);
    assert_eq!(prepared.counts.neither, 1);
    assert_eq!(prepared.row_count(), 2);
    assert_eq!(prepared.header.region, "TR1 Nord");
    assert_eq!(prepared.header.district, "");
    assert_eq!(prepared.header.mode_label, "Phone number only");
}

#[tokio::test]
async fn district_officer_and_alternative_contact() {
    let (_db, pool) = setup().await;
    let got = rows(&pool, &query(None, Some(D1), 0), 1000).await;
    assert_eq!(chfids(&got), ["100001", "100002", "100003", "100004"]);
    let f2 = &got[1];
    assert_eq!(f2.district.as_ref(), "TD1 Alpha");
    assert_eq!(f2.municipality.as_ref(), "TW1 Kati");
    assert_eq!(f2.village.as_ref(), "TV1 Kijiji Moja");
    assert_eq!(f2.phone, "");
    assert_eq!(
        (
            f2.alternative_given_name.as_str(),
            f2.alternative_last_name.as_str(),
            f2.alternative_phone.as_str()
        ),
        ("Zawadi", "Hassan", "0722000022")
    );
    assert_eq!(f2.language, "fr");
    let f1 = &got[0];
    assert_eq!(f1.phone, "0711000001");
    assert_eq!(f1.alternative_phone, "");
    let f3 = &got[2];
    assert_eq!(
        (
            f3.alternative_given_name.as_str(),
            f3.alternative_phone.as_str()
        ),
        ("-", "-")
    );
    let f4 = &got[3];
    assert!(!f4.approval, "no notification row = not approved");
    assert_eq!(f4.language, "");

    let mut q = query(Some(R1), None, 0);
    q.officer = Some(Uuid::parse_str(O1).unwrap());
    let prepared = report::prepare(&pool, &q, &DistrictScope::All)
        .await
        .unwrap();
    assert_eq!(prepared.header.officer.as_ref().unwrap().code, "EO001");
    assert_eq!(prepared.header.officer.as_ref().unwrap().name, "Anna Mushi");
    let got = rows(&pool, &q, 1000).await;
    assert_eq!(chfids(&got), ["100001", "100005"]);
}

#[tokio::test]
async fn renders_pdf_and_csv() {
    let (_db, pool) = setup().await;
    let q = query(Some(R1), None, 0);
    let prepared = report::prepare(&pool, &q, &DistrictScope::All)
        .await
        .unwrap();
    let pdf = report::render_pdf(pool.clone(), prepared.clone())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(std::env::temp_dir().join("report_data_test.pdf"), &pdf).unwrap();
    let csv: Vec<String> = report::csv_stream(pool.clone(), &prepared)
        .try_collect()
        .await
        .unwrap();
    let csv = csv.concat();
    assert!(csv.starts_with("District,Municipality,Village,Insurance number"));
    assert_eq!(csv.lines().count(), 7);
    let json: Vec<String> = report::json_stream(pool.clone(), &prepared)
        .try_collect()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&json.concat()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    assert_eq!(json["counts"]["all"], 6);
}

#[tokio::test]
async fn multi_page_pdf_page_count_matches_layout() {
    let db = support::TestDb::new().await;
    db.exec(include_str!("../bench/report/seed.sql")).await;
    db.exec("SELECT pn_bench_seed(400)").await;
    let pool = policy_notification::db::connect_pool(&db.url, 4).unwrap();
    let q = query(Some("0be0c000-0000-4000-8000-000000000001"), None, 0);
    let prepared = report::prepare(&pool, &q, &DistrictScope::All)
        .await
        .unwrap();
    assert_eq!(prepared.row_count(), 400);
    let expected_pages =
        report::pdf::page_count(&prepared.header, &prepared.counts, &prepared.villages).unwrap();
    let started = std::time::Instant::now();
    let pdf = report::render_pdf(pool.clone(), prepared.clone())
        .await
        .unwrap();
    eprintln!(
        "400 rows: {} pages, {} bytes, {:?}",
        expected_pages,
        pdf.len(),
        started.elapsed()
    );
    let path = std::env::temp_dir().join("report_data_multi.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let info = std::process::Command::new("pdfinfo").arg(&path).output();
    if let Ok(out) = info {
        let text = String::from_utf8_lossy(&out.stdout);
        let pages = text
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .map(|p| p.trim().parse::<u32>().unwrap());
        assert_eq!(pages, Some(expected_pages));
    }
    // Rows arrive in order across chunk boundaries: insurance numbers ascend within a village.
    let started = std::time::Instant::now();
    let rows: Vec<Vec<ReportRow>> = prepared
        .rows_chunked(pool.clone(), 7)
        .try_collect()
        .await
        .unwrap();
    eprintln!("rows read in {:?}", started.elapsed());
    let started = std::time::Instant::now();
    let _ =
        report::pdf::page_count(&prepared.header, &prepared.counts, &prepared.villages).unwrap();
    eprintln!("page count in {:?}", started.elapsed());
    let rows: Vec<ReportRow> = rows.into_iter().flatten().collect();
    assert_eq!(rows.len(), 400);
    for (offset, limit) in [(0, 10), (5, 100), (395, 100), (399, 1), (400, 5), (37, 63)] {
        let page = prepared.rows_page(&pool, offset, limit).await.unwrap();
        let want: Vec<&str> = rows
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|r| r.family_uuid.as_str())
            .collect();
        let got: Vec<&str> = page.iter().map(|r| r.family_uuid.as_str()).collect();
        assert_eq!(got, want, "page at {offset}+{limit}");
    }
    let mut seen = std::collections::HashSet::new();
    assert!(rows.iter().all(|r| seen.insert(r.family_uuid.clone())));
}

#[tokio::test]
async fn empty_report_and_long_header_render() {
    let (_db, pool) = setup().await;
    let mut q = query(Some("a1000000-0000-0000-0000-000000000002"), None, 4);
    q.officer = Some(Uuid::parse_str(O1).unwrap());
    q.other_filters = (1..=12)
        .map(|i| format!("Head last name contains: value number {i}"))
        .collect();
    let prepared = report::prepare(&pool, &q, &DistrictScope::All)
        .await
        .unwrap();
    assert_eq!(prepared.row_count(), 0);
    let pdf = report::render_pdf(pool.clone(), prepared).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(std::env::temp_dir().join("report_data_empty.pdf"), &pdf).unwrap();
}
